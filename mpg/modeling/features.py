"""The tutorial's derived features as a scikit-learn transformer, and the MPG target transform."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from mpg import config

DEFAULT_RATIOS = ((config.ACCELERATION, config.HORSEPOWER), (config.ACCELERATION, config.CYLINDERS))


class RatioFeatures(TransformerMixin, BaseEstimator):
    """Append numerator/denominator columns to the input columns.

    Parameters
    ----------
    ratios : tuple of (numerator, denominator)
        Column names (when fitted on a DataFrame) or integer positions.
        The default gives the tutorial's acceleration/horsepower and
        acceleration/cylinders. A zero denominator gives NaN, never inf.
    """

    def __init__(self, ratios=DEFAULT_RATIOS):
        self.ratios = ratios

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype="numeric", ensure_all_finite="allow-nan")
        names = list(getattr(self, "feature_names_in_", [f"x{i}" for i in range(self.n_features_in_)]))
        self.ratio_indices_ = [(self._position(a, names), self._position(b, names)) for a, b in self.ratios]
        self._names_in_ = names
        return self

    def _position(self, column, names: list[str]) -> int:
        if isinstance(column, (int, np.integer)) and 0 <= column < len(names):
            return int(column)
        if column in names:
            return names.index(column)
        raise ValueError(
            f"RatioFeatures: column {column!r} is not among the input columns {names} (n_features = {len(names)})"
        )

    def transform(self, X):
        check_is_fitted(self, "ratio_indices_")
        X = validate_data(self, X, dtype="numeric", ensure_all_finite="allow-nan", reset=False, copy=False)
        X = np.asarray(X, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            derived = [X[:, a] / X[:, b] for a, b in self.ratio_indices_]
        out = np.column_stack([X, *derived]) if derived else X.copy()
        out[~np.isfinite(out) & ~np.isnan(out)] = np.nan
        return out

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "ratio_indices_")
        names = list(input_features) if input_features is not None else self._names_in_
        derived = [_ratio_name(names[a], names[b]) for a, b in self.ratio_indices_]
        return np.asarray([*names, *derived], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def _ratio_name(numerator: str, denominator: str) -> str:
    return f"{numerator} per {denominator}".lower().replace(" ", "_")


def gallons_per_100_miles(y):
    """MPG <-> gallons per 100 miles (100 / y); the transform is its own inverse."""
    return 100.0 / np.asarray(y, dtype=float)
