"""`python -m mpg predict --input` on 10,000 cars: this code against the baseline (bench/baseline.py), same run.

Whole-process wall time (start, imports, model load, read, check, predict, write), the median of
several alternating runs, as a user at a terminal meets it.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.baseline import BASELINE_REF, checkout
from bench.common import save
from mpg import config
from mpg.data import load_auto_mpg

ROWS = 10_000
RUNS = 5


def cars_csv(path: Path, rows: int = ROWS) -> Path:
    """`rows` complete cars of the data set (the baseline refuses unknown inputs), names included."""
    cars = load_auto_mpg().dropna()[[config.NAME, *config.FEATURES]]
    cars.iloc[[i % len(cars) for i in range(rows)]].to_csv(path, index=False)
    return path


def _seconds(tree: Path, source: Path, target: Path) -> float:
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mpg", "predict", "--input", str(source), "--output", str(target)],
        cwd=tree, check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - began


def main(runs: int = RUNS) -> dict:
    with tempfile.TemporaryDirectory() as tmp, checkout() as baseline:
        source = cars_csv(Path(tmp) / "cars.csv")
        ours, before = [], []
        for _ in range(runs):  # alternating, so a slow spell of the machine hits both
            ours.append(_seconds(config.PROJ_ROOT, source, Path(tmp) / "ours.csv"))
            before.append(_seconds(baseline, source, Path(tmp) / "before.csv"))
    result = {
        "rows": ROWS,
        "runs": runs,
        "baseline_ref": BASELINE_REF,
        "ours_s": {"median": statistics.median(ours), "runs": ours},
        "baseline_s": {"median": statistics.median(before), "runs": before},
        "ratio": statistics.median(ours) / statistics.median(before),
    }
    print(result)
    return save("cli", result)


if __name__ == "__main__":
    main()
