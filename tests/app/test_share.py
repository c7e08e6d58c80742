"""The car in the URL (app_pages.view.share) and the car itself (app_pages.view.car): round trips, fallbacks."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from app_pages.view.car import CYLINDER_CHOICES, SliderCar, car_of, default_car, input_ranges, presets
from app_pages.view.compare import explain_car
from app_pages.view.share import car_from_params, car_to_params, decode_car, encode_car, share_url, url_params
from mpg import config
from mpg.insight.explain import background
from mpg.prediction import predict

COROLLA = SliderCar(4, 108.0, 75.0, 2350.0, 16.8, 81, "Japan")


def test_params_are_the_snake_case_names():
    assert car_to_params(COROLLA) == {"cylinders": "4", "displacement": "108", "horsepower": "75", "weight": "2350",
                                      "acceleration": "16.8", "model_year": "81", "origin": "Japan"}  # fmt: skip


def test_round_trip(model):
    shared = car_from_params(car_to_params(COROLLA), model.card)
    assert shared.car == COROLLA and shared.notices == ()
    assert decode_car(encode_car(COROLLA), model.card) == COROLLA


def test_no_car_parameter_is_the_default_car_without_notice(model):
    shared = car_from_params({"utm_source": "mail"}, model.card)
    assert shared.car == default_car(model.card) and shared.notices == ()


def test_default_car_is_the_training_medians_on_the_grid(model):
    car, features = default_car(model.card), model.card.inputs.features
    assert car.cylinders == features[config.CYLINDERS].fill and car.model_year == features[config.MODEL_YEAR].fill
    assert abs(car.weight - features[config.WEIGHT].fill) <= 5
    assert car.origin == config.ORIGINS[int(features[config.ORIGIN].fill)]
    assert car.cylinders in CYLINDER_CHOICES


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("weight", "heavy", "must be a number, got 'heavy'"),
    ("weight", "nan", "must be a finite number"),
    ("weight", "inf", "must be a finite number"),
    ("weight", "", "has no value"),
    ("weight", "99999", "must be between 800 and 10000 (lb)"),  # the contract's bounds
    ("weight", "9000", "outside"),  # accepted by the contract, beyond the sliders
    ("weight", "-1", "must be between"),
    ("horsepower", "1e9", "must be between"),
    ("acceleration", "0", "must be between"),
    ("cylinders", "7", "not one of"),
    ("cylinders", "4.5", "must be a whole number"),
    ("model_year", "75.5", "must be a whole number"),
    ("model_year", "1999", "outside"),
    ("model_year", "69", "outside"),
    ("origin", "Mars", "must be 1, 2, 3, USA, Europe or Japan"),
    ("origin", "4", "must be 1, 2, 3, USA, Europe or Japan"),
])  # fmt: skip
def test_a_bad_value_falls_back_to_its_default_with_a_notice(model, name, value, reason):
    params = car_to_params(COROLLA) | {name: value}
    shared = car_from_params(params, model.card)
    default = default_car(model.card)
    assert getattr(shared.car, name) == getattr(default, name)
    others = [other for other in config.INPUT_NAMES if other != name]
    assert all(getattr(shared.car, other) == getattr(COROLLA, other) for other in others)
    assert len(shared.notices) == 1 and f"`{name}`" in shared.notices[0] and reason in shared.notices[0]
    assert "default" in shared.notices[0]


def test_a_missing_value_falls_back_with_a_notice(model):
    params = car_to_params(COROLLA)
    del params["horsepower"]
    shared = car_from_params(params, model.card)
    assert shared.car.horsepower == default_car(model.card).horsepower
    assert shared.notices == (
        f"`horsepower` is missing: the default, {default_car(model.card).horsepower:g} hp, is used.",
    )


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("origin", "japan", "Japan"), ("origin", "3", "Japan"), ("model_year", "1981", 81), ("weight", "2351.5", 2351.5),
])  # fmt: skip
def test_equivalent_spellings_are_accepted(model, name, value, expected):
    shared = car_from_params(car_to_params(COROLLA) | {name: value}, model.card)
    assert getattr(shared.car, name) == expected and shared.notices == ()


def test_values_inside_the_sliders_are_accepted_and_outside_refused(model):
    ranges = input_ranges(model.card)
    for feature, span in ranges.items():
        name = config.SNAKE[feature]
        for edge in (span.low, span.high):
            assert car_from_params({name: f"{edge:g}"}, model.card).car.inputs()[feature] == edge
        assert car_from_params({name: f"{span.high + span.step:g}"}, model.card).notices


def test_decode_names_the_bad_input(model):
    with pytest.raises(ValueError, match="weight"):
        decode_car("4,108,75,heavy,16.8,81,Japan", model.card)
    with pytest.raises(ValueError, match="6 values"):
        decode_car("4,108,75,2350,16.8,81", model.card)


def test_share_url_reopens_the_same_car_and_pins(model):
    other = SliderCar(8, 350.0, 165.0, 4209.0, 12.0, 71, "USA")
    url = share_url("http://host:8501/", COROLLA, [other])
    parts = urlsplit(url)
    assert parts.path == "/" and "pin=8_350_165_4209_12_71_USA" in parts.query  # nothing the address bar escapes
    assert decode_car("8,350,165,4209,12,71,USA", model.card) == other  # a link made with commas still opens
    pairs = parse_qsl(parts.query)
    assert car_from_params(dict(pairs), model.card).car == COROLLA
    assert [decode_car(v, model.card) for k, v in pairs if k == "pin"] == [other]
    assert url_params(COROLLA)["weight"] == ["2350"] and "pin" not in url_params(COROLLA)


def test_the_app_predicts_a_car_as_the_records_path_does(model, auto_mpg):
    labels = presets(auto_mpg)
    car = car_of(auto_mpg.loc[next(iter(labels.values()))])
    explained = explain_car(model, "This car", car, background(auto_mpg))
    assert explained.mpg == predict(model, car.inputs()).mpg[0]
    assert sum(explained.contributions.values()) == pytest.approx(explained.mpg - explained.baseline, abs=1e-9)
    assert SliderCar.from_inputs(car.inputs()) == car
