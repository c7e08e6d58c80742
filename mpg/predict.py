"""Prediction: validate, then call the fitted pipeline. Nothing here fits anything."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mpg import config
from mpg.persistence import LoadedModel
from mpg.schema import Problem, validate_vehicles
from mpg.uncertainty import interval


def to_frame(vehicles) -> pd.DataFrame:
    """A DataFrame from one vehicle (dict of scalars), a list of dicts, or columns (dict of lists)."""
    if isinstance(vehicles, pd.DataFrame):
        return vehicles
    if isinstance(vehicles, dict) and not any(isinstance(v, (list, tuple)) for v in vehicles.values()):
        vehicles = [vehicles]
    return pd.DataFrame(vehicles)


def predict_mpg(model: LoadedModel, vehicles, *, allow_missing: bool = False) -> np.ndarray:
    """Predicted MPG, one per vehicle in order. Raises InputError naming the row and field of bad input.

    Each row's prediction depends on that row alone: the preprocessing was
    fitted once on the training rows. Missing values are refused unless
    `allow_missing` (data-set rows, whose gaps the pipeline imputes with
    training medians).
    """
    frame = validate_vehicles(to_frame(vehicles), allow_missing=allow_missing)
    return model.compiled.predict(frame[config.FEATURES].to_numpy(dtype=np.float64))


def prediction_interval(model: LoadedModel, predictions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 90% band around predictions (mpg_lower, mpg_upper); see mpg.uncertainty."""
    return interval(predictions, model.card.interval.q)


def training_range_problems(model: LoadedModel, X: np.ndarray) -> list[Problem]:
    """Values of a validated float [n, 7] array (feature order) outside the training range: extrapolation."""
    low, high = model.training_range
    outside = (X[:, : len(low)] < low) | (X[:, : len(low)] > high)
    if not outside.any():  # the common case costs one vectorised comparison
        return []
    return [
        Problem(int(row), name, f"{X[row, column]:g} is outside the training range {low[column]:g}-{high[column]:g}")
        for row, column in zip(*np.nonzero(outside), strict=True)
        for name in [config.NUMERIC_FEATURES[column]]
    ]
