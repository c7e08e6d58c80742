"""Why this number: per-input contributions (exact Shapley values), what-if curves, and similar real cars."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

import numpy as np

from mpg import config
from mpg.artifact.store import LoadedModel

if TYPE_CHECKING:  # the API explains with arrays; only the app's tables and the training data are frames
    import pandas as pd

BACKGROUND_SIZE = 16


def background(data: pd.DataFrame, size: int = BACKGROUND_SIZE, seed: int = config.SEED) -> np.ndarray:
    """A fixed sample of complete data-set cars, the reference that contributions are measured against."""
    complete = data.dropna(subset=config.FEATURES)
    return complete.sample(size, random_state=seed)[config.FEATURES].to_numpy(dtype=np.float64)


_N = len(config.FEATURES)
_COALITIONS = np.array(list(itertools.product([False, True], repeat=_N)))  # 128 x 7, row k: which inputs are the car's
_SIZE = _COALITIONS.sum(axis=1)
_WEIGHT = np.array([math.factorial(s) * math.factorial(_N - s - 1) / math.factorial(_N) for s in range(_N)])


def contributions(model: LoadedModel, car: np.ndarray, reference: np.ndarray,
                  prediction: float | None = None) -> tuple[dict[str, float], float]:  # fmt: skip
    """Exact Shapley values of the seven inputs (Origin as one) for one car, and the baseline.
    A set S of inputs is worth the mean prediction over the reference cars given this car's values for S, so the
    contributions add up to prediction - baseline (the reference cars' mean prediction) exactly."""
    car = np.asarray(car, dtype=np.float64).reshape(1, _N)
    coalitions = _COALITIONS if prediction is None else _COALITIONS[:-1]  # product() puts all-True (the car) last
    rows = np.where(coalitions[:, None, :], car[None, :, :], reference[None, :, :]).reshape(-1, _N)
    value = model.compiled.predict(rows).reshape(len(coalitions), len(reference)).mean(axis=1)
    if prediction is not None:
        value = np.append(value, prediction)
    phi = np.zeros(_N)
    for k, coalition in enumerate(_COALITIONS):
        for i in np.flatnonzero(~coalition):
            with_i = k + 2 ** (_N - 1 - i)  # product() counts in binary: input i is bit _N - 1 - i
            phi[i] += _WEIGHT[_SIZE[k]] * (value[with_i] - value[k])
    baseline = float(value[0])  # the empty coalition: the reference cars' mean prediction
    return dict(zip(config.FEATURES, phi.tolist(), strict=True)), baseline


def sweep(model: LoadedModel, feature: str, points: int = 40) -> np.ndarray:
    """Grid of values for a what-if curve: the feature's training range."""
    spec = model.card.inputs.features[feature]
    grid = np.linspace(spec.train_min, spec.train_max, points)
    return np.round(grid) if spec.integer else grid


def individual_curve(model: LoadedModel, car: np.ndarray, feature: str, grid: np.ndarray) -> np.ndarray:
    """Predicted MPG for this car as `feature` sweeps `grid`, the other inputs fixed (ICE)."""
    rows = np.repeat(np.asarray(car, dtype=np.float64).reshape(1, _N), len(grid), axis=0)
    rows[:, config.FEATURES.index(feature)] = grid
    return model.compiled.predict(rows)


def partial_dependence(model: LoadedModel, data: pd.DataFrame, feature: str, grid: np.ndarray) -> np.ndarray:
    """The data set's average prediction as `feature` sweeps `grid` (PD): every car, one input changed."""
    cars = data.dropna(subset=config.FEATURES)[config.FEATURES].to_numpy(dtype=np.float64)
    rows = np.repeat(cars[None, :, :], len(grid), axis=0)
    rows[:, :, config.FEATURES.index(feature)] = grid[:, None]
    return model.compiled.predict(rows.reshape(-1, _N)).reshape(len(grid), len(cars)).mean(axis=1)


class SimilarCars:
    """Nearest data-set cars on standardised inputs (the six numbers as z-scores, Origin one-hot), standardised once."""

    def __init__(self, model: LoadedModel, data: pd.DataFrame):
        self.cars = data.dropna(subset=config.FEATURES).reset_index(drop=True)
        values = self.cars[config.FEATURES].to_numpy(dtype=np.float64)
        self.mean, self.std = values[:, :-1].mean(axis=0), values[:, :-1].std(axis=0)
        self.space = self._standardise(values)
        self.predicted = model.compiled.predict(values)

    def _standardise(self, values: np.ndarray) -> np.ndarray:
        origin = values[:, -1:] == np.array(sorted(config.ORIGINS), dtype=np.float64)
        return np.hstack([(values[:, :-1] - self.mean) / self.std, origin])

    def nearest(self, car: np.ndarray, k: int = 5) -> pd.DataFrame:
        """The k nearest cars: name, year, origin, real MPG, our prediction, distance. A data-set car comes first."""
        point = self._standardise(np.reshape(np.asarray(car, dtype=np.float64), (1, _N)))
        distance = np.sqrt(((self.space - point) ** 2).sum(axis=1))
        nearest = np.argsort(distance, kind="stable")[:k]
        rows = self.cars.iloc[nearest]
        import pandas as pd

        return pd.DataFrame({
            "car": rows[config.NAME].to_numpy(),
            "year": (1900 + rows[config.MODEL_YEAR]).astype(int).to_numpy(),
            "origin": rows[config.ORIGIN].map(config.ORIGINS).to_numpy(),
            "real MPG": rows[config.TARGET].to_numpy(),
            "predicted MPG": self.predicted[nearest].round(1),
            "distance": distance[nearest].round(3),
        })  # fmt: skip
