"""The tutorial's derived features as a scikit-learn transformer, and the MPG target transform."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from mpg import config

DEFAULT_RATIOS = ((config.ACCELERATION, config.HORSEPOWER), (config.ACCELERATION, config.CYLINDERS))


class RatioFeatures(TransformerMixin, BaseEstimator):
    """Append numerator/denominator columns to the input columns; a zero denominator gives NaN, never inf.
    `ratios`: pairs of column names (when fitted on a DataFrame) or positions; by default the tutorial's two."""

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
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False, copy=False)
        with np.errstate(divide="ignore", invalid="ignore"):
            derived = [X[:, a] / X[:, b] for a, b in self.ratio_indices_]
        out = np.column_stack([X, *derived]) if derived else X.copy()
        out[~np.isfinite(out) & ~np.isnan(out)] = np.nan
        return out

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "ratio_indices_")
        names = list(input_features) if input_features is not None else self._names_in_
        derived = [f"{names[a]} per {names[b]}".lower().replace(" ", "_") for a, b in self.ratio_indices_]
        return np.asarray([*names, *derived], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def gallons_per_100_miles(y):
    """MPG <-> gallons per 100 miles (100 / y); the transform is its own inverse."""
    return 100.0 / np.asarray(y, dtype=float)
