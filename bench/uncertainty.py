"""Coverage and width of the 90% band under 5x10 repeated CV, beside the naive ±1.645 RMSE band.

In each outer fold the selected configuration is calibrated (its own inner 10-fold
out-of-fold errors) and fitted on the outer training rows only, then judged on the
outer test rows.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import RepeatedKFold

from bench.common import save
from mpg import config
from mpg.artifact.card import relative_band
from mpg.artifact.store import load_pipeline
from mpg.data import labelled_rows, load_auto_mpg
from mpg.modeling import uncertainty


def main(repeats: int = 5, folds: int = 10) -> dict:
    data, _ = labelled_rows(load_auto_mpg())
    pipeline = load_pipeline()
    covered, naive_covered, widths, naive_widths, per_fold = [], [], [], [], []
    started = time.perf_counter()
    outer = RepeatedKFold(n_splits=folds, n_repeats=repeats, random_state=config.SEED)
    for k, (train_index, test_index) in enumerate(outer.split(data), start=1):
        train, test = data.iloc[train_index], data.iloc[test_index]
        band = uncertainty.calibrate(pipeline, train)
        fitted = clone(pipeline).fit(train[config.FEATURES], train[config.TARGET])
        predicted = fitted.predict(test[config.FEATURES])
        lower, upper = relative_band(predicted, band["q"])
        actual = test[config.TARGET].to_numpy()
        half = band["naive_half_width"]
        covered += list((actual >= lower) & (actual <= upper))
        naive_covered += list(np.abs(actual - predicted) <= half)
        widths += list(upper - lower)
        naive_widths += [2 * half] * len(actual)
        per_fold.append(uncertainty.coverage(actual, lower, upper))
        print(f"fold {k}/{repeats * folds}: coverage {per_fold[-1]:.3f}  [{time.perf_counter() - started:.0f} s]")
    result = {
        "outer": f"{repeats}x{folds}-fold RepeatedKFold(random_state={config.SEED})",
        "level": uncertainty.LEVEL,
        "coverage": float(np.mean(covered)),
        "coverage_fold_std": statistics.pstdev(per_fold),
        "mean_width": float(np.mean(widths)),
        "naive_coverage": float(np.mean(naive_covered)),
        "naive_mean_width": float(np.mean(naive_widths)),
        "seconds": time.perf_counter() - started,
    }
    print(result)
    return save("uncertainty", result)


if __name__ == "__main__":
    main()
