"""One car as the app holds it: its seven inputs, the sliders' ranges and defaults, and real cars to start from."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from mpg import config
from mpg.artifact.card import ModelCard

STEPS = {config.DISPLACEMENT: 1.0, config.HORSEPOWER: 1.0, config.WEIGHT: 10.0, config.ACCELERATION: 0.1}
CYLINDER_CHOICES = (3, 4, 5, 6, 8)  # the counts the data set's cars have (the slider offers these)


@dataclass(frozen=True)
class SliderCar:
    """One car's seven inputs under their snake_case names. Origin is a name (USA, Europe, Japan)."""

    cylinders: int
    displacement: float
    horsepower: float
    weight: float
    acceleration: float
    model_year: int
    origin: str

    @classmethod
    def from_inputs(cls, inputs: Mapping[str, object]) -> SliderCar:
        """From the canonical input names (`Model Year`), as the widgets and predict use them."""
        return cls(**{config.SNAKE[feature]: inputs[feature] for feature in config.FEATURES})

    def inputs(self) -> dict[str, object]:
        return {feature: getattr(self, config.SNAKE[feature]) for feature in config.FEATURES}


@dataclass(frozen=True)
class InputRange:
    low: float
    high: float
    step: float


def input_ranges(card: ModelCard) -> dict[str, InputRange]:
    """What the sliders span: the training range widened by 15% (within the accepted bounds), so extrapolation
    can be explored, ends rounded outwards to ten steps for round numbers. Model year spans the training years."""
    ranges = {}
    for feature, step in STEPS.items():
        spec = card.inputs.features[feature]
        pad, unit = 0.15 * (spec.train_max - spec.train_min), 10 * step
        low = max(spec.min, math.floor((spec.train_min - pad) / unit) * unit)
        high = min(spec.max, math.ceil((spec.train_max + pad) / unit) * unit)
        ranges[feature] = InputRange(float(low), float(high), step)
    years = card.inputs.features[config.MODEL_YEAR]
    ranges[config.MODEL_YEAR] = InputRange(years.train_min, years.train_max, 1)
    return ranges


def default_car(card: ModelCard) -> SliderCar:
    """The training medians (what the pipeline fills in for an unknown input), on the sliders' grid."""
    fill = {feature: spec.fill for feature, spec in card.inputs.features.items()}
    return car_of(fill | {feature: round(round(fill[feature] / step) * step, 1) for feature, step in STEPS.items()})


def presets(frame: pd.DataFrame) -> dict[str, int]:
    """Label ('ford pinto (1971, USA)') to row index, for the cars with every input known."""
    complete = frame.dropna(subset=config.FEATURES).sort_values([config.NAME, config.MODEL_YEAR])
    labels = {}
    for index, row in complete.iterrows():
        label = f"{row[config.NAME]} (19{int(row[config.MODEL_YEAR])}, {config.ORIGINS[int(row[config.ORIGIN])]})"
        while label in labels:  # a few cars appear twice in the same year
            label += " ·"
        labels[label] = index
    return labels


def car_of(row: pd.Series | Mapping[str, float]) -> SliderCar:
    """A data-set row as a SliderCar, its values exact (even off the sliders' grid: the car is the real car)."""
    inputs: dict[str, object] = {feature: float(row[feature]) for feature in config.FEATURES}
    inputs[config.CYLINDERS] = int(row[config.CYLINDERS])  # the widgets' options are ints; 4.0 would not match
    inputs[config.MODEL_YEAR] = int(row[config.MODEL_YEAR])
    inputs[config.ORIGIN] = config.ORIGINS[int(row[config.ORIGIN])]
    return SliderCar.from_inputs(inputs)


def litres_per_100km(mpg: float) -> float:
    """US miles per gallon to litres per 100 km."""
    return 235.214583 / mpg  # 100 * 3.785411784 l / 1.609344 km
