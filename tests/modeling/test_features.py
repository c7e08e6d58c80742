"""The derived-feature transformer follows scikit-learn's rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from mpg import config
from mpg.modeling.features import RatioFeatures, gallons_per_100_miles
from mpg.modeling.pipeline import build_preprocessor


@parametrize_with_checks([RatioFeatures(ratios=((0, 1),))])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_names_and_values_under_pandas_output():
    frame = pd.DataFrame({"Acceleration": [10.0, 12.0], "Horsepower": [100.0, 60.0], "Cylinders": [4.0, 8.0]})
    original = frame.copy()
    out = RatioFeatures().set_output(transform="pandas").fit_transform(frame)
    assert list(out.columns) == [*frame.columns, "acceleration_per_horsepower", "acceleration_per_cylinders"]
    np.testing.assert_allclose(out["acceleration_per_horsepower"], [0.1, 0.2])
    np.testing.assert_allclose(out["acceleration_per_cylinders"], [2.5, 1.5])
    pd.testing.assert_frame_equal(frame, original)


def test_zero_denominator_gives_nan_not_inf():
    out = RatioFeatures(ratios=((0, 1),)).fit(np.ones((2, 2))).transform(np.array([[1.0, 0.0], [0.0, 0.0]]))
    assert np.isnan(out[:, 2]).all()


def test_unknown_column_is_a_clear_error():
    with pytest.raises(ValueError, match="'Weight' is not among the input columns"):
        RatioFeatures(ratios=(("Weight", "Cylinders"),)).fit(pd.DataFrame({"Cylinders": [4.0]}))


def test_preprocessor_feature_names(split):
    train, _ = split
    names = build_preprocessor().fit(train[config.FEATURES]).get_feature_names_out().tolist()
    assert names == [
        *config.NUMERIC_FEATURES,
        "acceleration_per_horsepower",
        "acceleration_per_cylinders",
        "Origin_1.0",
        "Origin_2.0",
        "Origin_3.0",
    ]


def test_preprocessor_does_not_mutate_and_imputes_with_training_medians(split):
    train, test = split
    before = test.copy()
    pre = build_preprocessor().set_output(transform="pandas").fit(train[config.FEATURES])
    row = test[config.FEATURES].iloc[[0]].copy()
    row[config.HORSEPOWER] = np.nan
    imputed = pre.named_transformers_["num"].named_steps["impute"].statistics_
    assert imputed[2] == train[config.HORSEPOWER].median()
    assert pre.transform(row).notna().all().all()
    pd.testing.assert_frame_equal(test, before)


def test_gallons_per_100_miles_is_its_own_inverse():
    mpg = np.array([9.0, 23.5, 46.6])
    np.testing.assert_allclose(gallons_per_100_miles(gallons_per_100_miles(mpg)), mpg)
    assert gallons_per_100_miles([25.0])[0] == pytest.approx(4.0)


def test_pipeline_reproduces_the_tutorials_linear_regression(split):
    """Same data, split and preprocessing: the tutorial's linear-regression training RMSE, 2.959."""
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import root_mean_squared_error

    from mpg.modeling.pipeline import build_pipeline

    train, _ = split
    model = build_pipeline(LinearRegression()).fit(train[config.FEATURES], train[config.TARGET])
    rmse = root_mean_squared_error(train[config.TARGET], model.predict(train[config.FEATURES]))
    assert rmse == pytest.approx(config.TUTORIAL_TRAIN_RMSE_LINEAR, abs=5e-4)
