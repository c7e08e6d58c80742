"""90% prediction intervals: a cross-validated split-conformal band on relative residuals.

The model is fitted on fuel consumption (gallons per 100 miles), so its errors
grow with MPG: a thrifty car's error in MPG is larger than a thirsty one's. The
band is therefore relative: prediction x (1 ± q), with q the conformal quantile
of |actual - predicted| / predicted over out-of-fold predictions on the training
rows (each row's prediction comes from a model that did not see it, as in split
conformal, with every fold serving as a calibration set). The band is then put
around the model refitted on all training rows; that last step is not covered by
split conformal's guarantee, so bench/uncertainty.py measures the coverage. The
test rows are never used here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import Pipeline

from mpg import config

LEVEL = 0.90
NAIVE_Z = 1.645  # the naive band: prediction ± 1.645 RMSE


def conformal_quantile(scores: np.ndarray, level: float = LEVEL) -> float:
    """The ceil((n + 1) level) / n empirical quantile: the finite-sample conformal correction."""
    n = len(scores)
    rank = min(math.ceil((n + 1) * level), n)
    return float(np.sort(scores)[rank - 1])


def relative_errors(actual, predicted) -> np.ndarray:
    actual, predicted = np.asarray(actual, dtype=float), np.asarray(predicted, dtype=float)
    return np.abs(actual - predicted) / predicted


def calibrate(
    pipeline: Pipeline, train: pd.DataFrame, *, seed: int = config.SEED, folds: int = config.CV_FOLDS, n_jobs: int = 2
) -> dict:
    """Fit clones of `pipeline` in `folds` folds of the training rows and calibrate the band on their errors."""
    X, y = train[config.FEATURES], train[config.TARGET].to_numpy()
    cv = KFold(n_splits=folds, shuffle=True, random_state=seed)
    out_of_fold = cross_val_predict(clone(pipeline), X, y, cv=cv, n_jobs=n_jobs)
    q = conformal_quantile(relative_errors(y, out_of_fold))
    rmse = float(np.sqrt(np.mean((y - out_of_fold) ** 2)))
    return {
        "method": (
            f"cross-validated split conformal on relative residuals: q = conformal {LEVEL:.0%} quantile of "
            f"|actual - predicted| / predicted over {folds}-fold out-of-fold predictions; band = pred x (1 ± q)"
        ),
        "level": LEVEL,
        "q": q,
        "naive_half_width": NAIVE_Z * rmse,
    }


def coverage(actual, lower, upper) -> float:
    actual = np.asarray(actual, dtype=float)
    return float(np.mean((actual >= lower) & (actual <= upper)))
