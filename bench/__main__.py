"""`python -m bench [NAME ...]`: run the named benchmarks of ALL (default: all, in its order), write RESULTS.md."""

from __future__ import annotations

import importlib
import sys

from bench.report import write_report

# accuracy last: the longest
ALL = ("app", "rerun", "api", "peers", "tail", "log_write", "memory", "cli", "serving", "uncertainty", "accuracy")

if __name__ == "__main__":
    names = sys.argv[1:] or list(ALL)
    for name in names:
        if name not in ALL:
            sys.exit(f"unknown benchmark {name!r}; choose from {', '.join(ALL)}")
        print(f"== {name}", flush=True)
        importlib.import_module(f"bench.{name}").main()
    print(f"wrote {write_report()}")
