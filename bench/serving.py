"""ONNX Runtime time for 10,000 cars, the committed model against an earlier one, in the same run.

`python -m bench.serving [REV]`: REV is the git revision whose models/model.onnx is the baseline
(default: main). Both graphs run the same 10,000 cars (the data set repeated), one thread
and, as the API runs big batches, CompiledModel.predict (two threads); runs alternate.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import numpy as np

from bench.common import save
from mpg import config
from mpg.artifact.runtime import CompiledModel, one_thread_session
from mpg.data import load_auto_mpg

ROWS, RUNS = 10_000, 15


def _baseline(rev: str) -> tuple[bytes, str]:
    def git(*args: str) -> bytes:
        return subprocess.run(["git", *args], cwd=config.PROJ_ROOT, check=True, capture_output=True).stdout

    return git("show", f"{rev}:models/{config.ONNX_FILE}"), git("rev-parse", "--short", rev).decode().strip()


def main(rev: str = "main") -> dict:
    X = np.resize(load_auto_mpg()[config.FEATURES].to_numpy(dtype=np.float64), (ROWS, len(config.FEATURES)))
    old_bytes, commit = _baseline(rev)
    new_bytes = (config.MODELS_DIR / config.ONNX_FILE).read_bytes()
    graphs = {"baseline": old_bytes, "committed": new_bytes}
    runners = {}
    for name, data in graphs.items():
        session, compiled = one_thread_session(data), CompiledModel(data)
        runners[name] = {
            "one_thread": lambda s=session: s.run(None, {"X": X}),
            "predict": lambda c=compiled: c.predict(X),
        }
    times = {name: {way: [] for way in ways} for name, ways in runners.items()}
    for _ in range(RUNS + 1):  # the first round warms up and is dropped
        for name, ways in runners.items():
            for way, run in ways.items():
                began = time.perf_counter()
                run()
                times[name][way].append(1000 * (time.perf_counter() - began))
    result = {"rows": ROWS, "runs": RUNS, "baseline_commit": commit}
    for name, ways in times.items():
        result[name] = {
            "onnx_bytes": len(graphs[name]),
            **{f"{way}_ms_median": statistics.median(ms[1:]) for way, ms in ways.items()},
        }
    print(result)
    return save("serving", result)


if __name__ == "__main__":
    main(*sys.argv[1:])
