"""The model: one Pipeline of imputation, derived features, scaling, one-hot Origin and a regressor."""

from __future__ import annotations

from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mpg import config
from mpg.modeling.features import DEFAULT_RATIOS, RatioFeatures, gallons_per_100_miles

# The imputer hands on a bare array, so the ratios are named by position among the numeric inputs.
_RATIO_POSITIONS = tuple(tuple(map(config.NUMERIC_FEATURES.index, pair)) for pair in DEFAULT_RATIOS)


def build_preprocessor() -> ColumnTransformer:
    """The tutorial's preprocessing, fitted on training rows only (inside each CV fold)."""
    ratios = RatioFeatures(ratios=_RATIO_POSITIONS)
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("ratios", ratios), ("scale", StandardScaler())])
    codes = [sorted(map(float, config.ORIGINS))]
    onehot = OneHotEncoder(categories=codes, handle_unknown="ignore", sparse_output=False)
    origin = Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("onehot", onehot)])
    return ColumnTransformer(
        [("num", numeric, config.NUMERIC_FEATURES), ("origin", origin, [config.ORIGIN])],
        verbose_feature_names_out=False,
    )


def in_gallons_per_100_miles(regressor) -> TransformedTargetRegressor:
    """Fit the regressor on fuel consumption (gallons/100 mi), which is closer to linear in weight."""
    return TransformedTargetRegressor(regressor, func=gallons_per_100_miles, inverse_func=gallons_per_100_miles)


def build_pipeline(regressor) -> Pipeline:
    """Preprocessing plus `regressor`: the one object that is tuned, saved and predicts."""
    return Pipeline([("preprocess", build_preprocessor()), ("model", regressor)])


def fill_values(pipeline: Pipeline) -> dict[str, float]:
    """What the fitted pipeline imputes for each unknown input: the training median, Origin's most frequent code."""
    preprocess = pipeline.named_steps["preprocess"]
    numeric = preprocess.named_transformers_["num"].named_steps["impute"].statistics_
    origin = preprocess.named_transformers_["origin"].named_steps["impute"].statistics_
    return dict(zip(config.FEATURES, map(float, [*numeric, *origin]), strict=True))
