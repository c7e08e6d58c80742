"""Held-out metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

from mpg import config
from mpg.data import frame_hash, labelled_rows, load_auto_mpg
from mpg.persistence import LoadedModel
from mpg.predict import predict_mpg


class StaleDataError(RuntimeError):
    """The data a model was trained on has changed, so its held-out rows are gone."""


def regression_metrics(y_true, y_pred, prefix: str = "") -> dict[str, float]:
    """RMSE, MAE and R² (keys prefixed, e.g. `test_rmse`)."""
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    return {
        f"{prefix}rmse": float(root_mean_squared_error(y_true, y_pred)),
        f"{prefix}mae": float(mean_absolute_error(y_true, y_pred)),
        f"{prefix}r2": float(r2_score(y_true, y_pred)),
    }


def held_out_rows(model: LoadedModel):
    """The test rows the model was evaluated on, re-read from its data file (whose hash is checked)."""
    info = model.card.data
    path = Path(info.path)
    path = path if path.is_absolute() else config.PROJ_ROOT / path
    labelled, _ = labelled_rows(load_auto_mpg(path))
    if frame_hash(labelled) != info.sha256:
        raise StaleDataError(f"{path}: the data changed since the model was trained; retrain: python -m mpg train")
    return labelled.iloc[info.test_rows]


def held_out_metrics(model: LoadedModel) -> dict[str, float]:
    """test_rmse, test_mae and test_r2 of the saved model on its own held-out rows."""
    test = held_out_rows(model)
    return regression_metrics(test[config.TARGET], predict_mpg(model, test), "test_")
