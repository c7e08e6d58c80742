"""The code as it was before a change, checked out beside this one, so a benchmark measures both in one run.

This machine's speed varies by about 10% between runs; a "no slower than before" target is only
meaningful when before and after are measured side by side. `checkout()` makes a detached git
worktree of BASELINE_REF (code and its committed model) in a temporary directory.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mpg import config

# The last commit before the "one contract" round: the figures it reached are the ones not to lose.
BASELINE_REF = "d528d63"


@contextlib.contextmanager
def checkout(ref: str = BASELINE_REF) -> Iterator[Path]:
    """A worktree of `ref`, removed afterwards. Its processes use this interpreter (same libraries)."""
    with tempfile.TemporaryDirectory(prefix="mpg-baseline-") as tmp:
        tree = Path(tmp) / "tree"
        git = ["git", "-C", str(config.PROJ_ROOT)]
        subprocess.run([*git, "worktree", "add", "--detach", "--quiet", str(tree), ref], check=True)
        try:
            yield tree
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=False)
