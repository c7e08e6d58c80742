"""Feature importances with correct names; the one-hot Origin columns reported together as Origin."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline

from mpg import config


def permutation_importances(
    pipeline: Pipeline,
    X: pd.DataFrame,
    y,
    *,
    n_repeats: int = 30,
    seed: int = config.SEED,
) -> list[dict]:
    """Rise in RMSE when each of the seven inputs is shuffled (held-out rows), largest first.

    Permuting the raw inputs scores Origin as one feature and each derived
    ratio together with the inputs it is made from.
    """
    result = permutation_importance(
        pipeline,
        X[config.FEATURES],
        y,
        scoring="neg_root_mean_squared_error",
        n_repeats=n_repeats,
        random_state=seed,
        n_jobs=1,
    )
    rows = [
        {"feature": name, "mean": float(mean), "std": float(std)}
        for name, mean, std in zip(
            config.FEATURES,
            result.importances_mean,
            result.importances_std,
            strict=True,
        )
    ]
    return sorted(rows, key=lambda r: r["mean"], reverse=True)


def _impurity_source(pipeline: Pipeline):
    model = pipeline.named_steps["model"]
    model = getattr(model, "regressor_", model)
    return getattr(model, "feature_importances_", None)


def impurity_importances(pipeline: Pipeline) -> list[dict] | None:
    """Mean decrease in impurity for tree models (None for others), Origin's columns summed."""
    values = _impurity_source(pipeline)
    if values is None:
        return None
    names = pipeline.named_steps["preprocess"].get_feature_names_out()
    series = pd.Series(np.asarray(values, dtype=float), index=names)
    grouped = series.groupby(lambda n: config.ORIGIN if n.startswith(f"{config.ORIGIN}_") else n, sort=False).sum()
    rows = [{"feature": name, "mean": float(value)} for name, value in grouped.items()]
    return sorted(rows, key=lambda r: r["mean"], reverse=True)
