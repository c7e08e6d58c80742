"""`python -m bench [accuracy] [api] [app]`: run benchmarks (all by default) and write bench/RESULTS.md."""

from __future__ import annotations

import importlib
import sys

from bench.report import write_report

ALL = ("app", "api", "cli", "uncertainty", "accuracy")  # accuracy last: its nested CV takes about 20 minutes

if __name__ == "__main__":
    names = sys.argv[1:] or list(ALL)
    for name in names:
        if name not in ALL:
            sys.exit(f"unknown benchmark {name!r}; choose from {', '.join(ALL)}")
        print(f"== {name}", flush=True)
        importlib.import_module(f"bench.{name}").main()
    print(f"wrote {write_report()}")
