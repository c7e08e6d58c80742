"""90% prediction intervals: a cross-validated split-conformal band on relative residuals.

The model is fitted on gallons per 100 miles, so its errors in MPG grow with MPG: the band is relative,
prediction x (1 ± q), q calibrated on out-of-fold predictions of the training rows. Around the model refitted on
all of them the band has no split-conformal guarantee, so bench/uncertainty.py measures its coverage."""

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


def calibrate(pipeline: Pipeline, train: pd.DataFrame, *, seed: int = config.SEED, n_jobs: int = 2) -> dict:
    """Fit clones of `pipeline` in the CV folds of the training rows and calibrate the band on their errors."""
    X, y = train[config.FEATURES], train[config.TARGET].to_numpy()
    cv = KFold(n_splits=config.CV_FOLDS, shuffle=True, random_state=seed)
    out_of_fold = cross_val_predict(clone(pipeline), X, y, cv=cv, n_jobs=n_jobs)
    q = conformal_quantile(np.abs(y - out_of_fold) / out_of_fold)
    rmse = float(np.sqrt(np.mean((y - out_of_fold) ** 2)))
    method = (
        f"cross-validated split conformal on relative residuals: q = conformal {LEVEL:.0%} quantile of "
        f"|actual - predicted| / predicted over {config.CV_FOLDS}-fold out-of-fold predictions; band = pred x (1 ± q)"
    )
    return {"method": method, "level": LEVEL, "q": q, "naive_half_width": NAIVE_Z * rmse}


def coverage(actual, lower, upper) -> float:
    return float(np.mean((actual >= lower) & (actual <= upper)))
