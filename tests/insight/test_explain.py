"""Contributions add up, what-if curves move the right way, and a data-set car is its own nearest neighbour."""

from __future__ import annotations

import numpy as np
import pytest

from mpg import config
from mpg.insight import explain


@pytest.fixture(scope="module")
def reference(auto_mpg):
    return explain.background(auto_mpg)


@pytest.mark.parametrize("row", [0, 57, 200, 391])
def test_contributions_add_up_to_prediction_minus_baseline(model, auto_mpg, reference, row):
    car = auto_mpg.dropna().iloc[row][config.FEATURES].to_numpy(dtype=float)
    phi, baseline = explain.contributions(model, car, reference)
    assert list(phi) == config.FEATURES
    prediction = model.compiled.predict(car.reshape(1, -1))[0]
    assert sum(phi.values()) == pytest.approx(prediction - baseline, abs=1e-6)
    assert baseline == pytest.approx(model.compiled.predict(reference).mean(), abs=1e-9)


def test_a_heavy_car_owes_mpg_to_weight(model, auto_mpg, reference):
    heavy = auto_mpg.dropna().sort_values(config.WEIGHT).iloc[-1][config.FEATURES].to_numpy(dtype=float)
    phi, _ = explain.contributions(model, heavy, reference)
    assert phi[config.WEIGHT] < 0


def test_an_input_equal_to_every_reference_car_contributes_nothing(model, reference):
    car = reference[0].copy()
    same = np.repeat(car.reshape(1, -1), 4, axis=0)
    phi, baseline = explain.contributions(model, car, same)
    assert all(abs(v) < 1e-9 for v in phi.values())
    assert baseline == pytest.approx(model.compiled.predict(car.reshape(1, -1))[0])


def test_weight_curve_falls_and_passes_through_the_car(model, auto_mpg):
    car = auto_mpg.dropna().iloc[100][config.FEATURES].to_numpy(dtype=float)
    grid = explain.sweep(model, config.WEIGHT)
    curve = explain.individual_curve(model, car, config.WEIGHT, grid)
    assert curve[0] > curve[-1]
    at_car = explain.individual_curve(model, car, config.WEIGHT, np.array([car[config.FEATURES.index(config.WEIGHT)]]))
    assert at_car[0] == pytest.approx(model.compiled.predict(car.reshape(1, -1))[0])
    pd_curve = explain.partial_dependence(model, auto_mpg, config.WEIGHT, grid)
    assert pd_curve.shape == grid.shape and pd_curve[0] > pd_curve[-1]


def test_sweep_of_a_whole_number_input_is_whole(model):
    assert np.all(explain.sweep(model, config.MODEL_YEAR) % 1 == 0)


@pytest.mark.parametrize("row", [0, 123, 300])
def test_a_data_set_car_is_its_own_nearest_neighbour(model, auto_mpg, row):
    index = explain.SimilarCars(model, auto_mpg)
    car = index.cars.iloc[row]
    found = index.nearest(car[config.FEATURES].to_numpy(dtype=float))
    assert len(found) == 5
    assert found["car"].iloc[0] == car[config.NAME] and found["distance"].iloc[0] == 0
    assert found["distance"].is_monotonic_increasing
