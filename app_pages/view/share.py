"""The car on the Predict page as URL query parameters (the inputs' snake_case names), and back. A link never
breaks the page: a bad, missing or out-of-range value gives that input its default, and a notice names it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from urllib.parse import urlencode

from app_pages.view.car import CYLINDER_CHOICES, InputRange, SliderCar, default_car, input_ranges
from mpg import config
from mpg.artifact.card import ModelCard
from mpg.problems import InputError
from mpg.text import check_value

SEPARATOR = "_"  # the browser's address bar keeps it as it is (URLSearchParams writes a comma as %2C)
PIN_PARAM = "pin"  # one per pinned car, repeated: ?pin=4_108_75_2350_16.8_81_Japan&pin=...


def read_value(feature: str, text: str, ranges: Mapping[str, InputRange]) -> int | float | str:
    """One URL value, read by the contract, then held to the sliders' range. Raises ValueError with a short reason."""
    try:
        value = check_value(feature, text)
    except InputError as error:
        raise ValueError(error.problems[0].problem) from None
    if feature == config.ORIGIN:
        return config.ORIGINS[int(value)]
    if feature == config.CYLINDERS:
        if value not in CYLINDER_CHOICES:
            raise ValueError(f"{text} is not one of {', '.join(map(str, CYLINDER_CHOICES))}")
        return int(value)
    span = ranges[feature]
    if not span.low <= value <= span.high:
        raise ValueError(f"{text} is outside {span.low:g}-{span.high:g}")
    return int(value) if feature == config.MODEL_YEAR else value


def as_text(feature: str, value: object, with_unit: bool = False) -> str:
    """An input's value as people read it (81 is 1981, 2350.0 is 2350), with its unit if asked."""
    if feature == config.MODEL_YEAR:
        return f"19{value}"
    unit = {config.CYLINDERS: "", config.ORIGIN: ""}.get(feature, f" {config.UNITS[feature].split(',')[0]}")
    return _text(value) + (unit if with_unit else "")


@dataclass(frozen=True)
class SharedCar:
    """The car a link describes, and one notice per input that fell back to its default."""

    car: SliderCar
    notices: tuple[str, ...]


def car_from_params(params: Mapping[str, str], card: ModelCard) -> SharedCar:
    """The car in `params` (st.query_params). A link without any car parameter is the default car, no notice."""
    default, ranges = default_car(card), input_ranges(card)
    given = any(name in params for name in config.INPUT_NAMES)
    values, notices = default.inputs(), []
    for feature in config.FEATURES:
        name = config.SNAKE[feature]
        fallback = f"the default, {as_text(feature, values[feature], with_unit=True)}, is used"
        if name not in params:
            if given:
                notices.append(f"`{name}` is missing: {fallback}.")
            continue
        try:
            values[feature] = read_value(feature, str(params[name]), ranges)
        except ValueError as reason:
            notices.append(f"`{name}`: {reason}; {fallback}.")
    return SharedCar(SliderCar.from_inputs(values), tuple(notices))


def _text(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def car_to_params(car: SliderCar) -> dict[str, str]:
    """The URL parameters for a car, every input spelled out (a link keeps its meaning if defaults change)."""
    return {field.name: _text(getattr(car, field.name)) for field in fields(car)}


def encode_car(car: SliderCar) -> str:
    """A car in one parameter value, its inputs in the URL order: `4_108_75_2350_16.8_81_Japan`."""
    return SEPARATOR.join(_text(value) for value in astuple(car))


def decode_car(text: str, card: ModelCard) -> SliderCar:
    """The inverse of encode_car. Raises ValueError naming the first bad input."""
    parts = re.split(r"[,_]", text)  # links made before the separator was _ used commas
    if len(parts) != len(config.FEATURES):
        raise ValueError(f"{len(parts)} values instead of {len(config.FEATURES)}")
    ranges, values = input_ranges(card), {}
    for feature, part in zip(config.FEATURES, parts, strict=True):
        try:
            values[feature] = read_value(feature, part.strip(), ranges)
        except ValueError as reason:
            raise ValueError(f"{config.SNAKE[feature]} {reason}") from None
    return SliderCar.from_inputs(values)


def url_params(car: SliderCar, pinned: Sequence[SliderCar] = ()) -> dict[str, list[str]]:
    """The Predict page's query parameters, as st.query_params.from_dict takes them (a list repeats the key)."""
    params = {name: [value] for name, value in car_to_params(car).items()}
    if pinned:
        params[PIN_PARAM] = [encode_car(other) for other in pinned]
    return params


def share_url(base: str, car: SliderCar, pinned: Sequence[SliderCar] = ()) -> str:
    """The address that reopens this car (and the pinned ones) on the Predict page."""
    return f"{base.rstrip('/')}/?{urlencode(url_params(car, pinned), doseq=True)}"
