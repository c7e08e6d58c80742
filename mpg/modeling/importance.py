"""Global feature importances: permutation importance over the seven raw inputs (Origin as one)."""

from __future__ import annotations

import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline

from mpg import config


def permutation_importances(pipeline: Pipeline, X: pd.DataFrame, y, *, seed: int = config.SEED) -> list[dict]:
    """Rise in RMSE when each raw input is shuffled (Origin as one, a ratio with its inputs), largest first."""
    result = permutation_importance(pipeline, X[config.FEATURES], y, scoring="neg_root_mean_squared_error",
                                    n_repeats=30, random_state=seed, n_jobs=1)  # fmt: skip
    rows = [
        {"feature": name, "mean": float(mean), "std": float(std)}
        for name, mean, std in zip(config.FEATURES, result.importances_mean, result.importances_std, strict=True)
    ]
    return sorted(rows, key=lambda r: r["mean"], reverse=True)
