"""Cars side by side, and why two cars differ: the same exact Shapley values as one car's contributions, with the
other car as the only reference, so the parts add up to the difference and an input both cars share counts 0."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from app_pages.view.car import SliderCar
from app_pages.view.labels import INPUTS
from app_pages.view.share import as_text, decode_car
from mpg import config
from mpg.artifact.card import ModelCard
from mpg.artifact.store import LoadedModel
from mpg.insight import explain
from mpg.prediction import InputWarning, predict

MAX_PINNED = 3


def pin(pinned: Sequence[SliderCar], car: SliderCar) -> tuple[SliderCar, ...]:
    """`pinned` with `car` added last, unless it is already there or MAX_PINNED are pinned."""
    if car in pinned or len(pinned) >= MAX_PINNED:
        return tuple(pinned)
    return (*pinned, car)


def pinned_from_params(values: Sequence[str], card: ModelCard) -> tuple[tuple[SliderCar, ...], tuple[str, ...]]:
    """The pinned cars of a link (`pin` values), and a notice for each one left out."""
    pinned: tuple[SliderCar, ...] = ()
    notices = []
    for number, value in enumerate(values, start=1):
        try:
            car = decode_car(value, card)
        except ValueError as reason:
            notices.append(f"Pinned car {number} is left out: {reason}.")
            continue
        if len(pinned) == MAX_PINNED:
            notices.append(f"Pinned car {number} is left out: at most {MAX_PINNED} cars can be pinned.")
            continue
        pinned = pin(pinned, car)
    return pinned, tuple(notices)


@dataclass(frozen=True)
class Explained:
    """One car's encoded row, prediction, 90% interval, warnings and contributions (they add up to mpg - baseline)."""

    name: str
    car: SliderCar
    row: np.ndarray
    mpg: float
    lower: float
    upper: float
    warnings: tuple[InputWarning, ...]
    contributions: dict[str, float]
    baseline: float


def explain_car(model: LoadedModel, name: str, car: SliderCar, reference: np.ndarray) -> Explained:
    """The car checked by the contract and predicted by predict_array, as the API and the CLI do, once."""
    predicted = predict(model, [car.inputs()])
    row, mpg = predicted.X[0], float(predicted.mpg[0])
    phi, baseline = explain.contributions(model, row, reference, prediction=mpg)
    lower, upper = float(predicted.lower[0]), float(predicted.upper[0])
    return Explained(name, car, row, mpg, lower, upper, tuple(predicted.warnings), phi, baseline)


def side_by_side(cars: Sequence[Explained]) -> pd.DataFrame:
    """One column per car: its inputs, predicted MPG and interval, as text people read."""
    rows = {INPUTS[feature]: [as_text(feature, c.car.inputs()[feature]) for c in cars] for feature in config.FEATURES}
    rows["Predicted MPG"] = [f"{c.mpg:.1f}" for c in cars]
    rows["90% interval (MPG)"] = [f"{c.lower:.1f}-{c.upper:.1f}" for c in cars]
    return pd.DataFrame(rows, index=[c.name for c in cars]).T


def contributions_table(cars: Sequence[Explained]) -> pd.DataFrame:
    """Long form for one chart: car, input, contribution (MPG)."""
    rows = [{"car": c.name, "input": f, "contribution": c.contributions[f]} for c in cars for f in config.FEATURES]
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Difference:
    """Why `to` predicts `total` MPG more than `start`: one part per input, largest first (they add up to total)."""

    start: Explained
    to: Explained
    total: float
    by_input: pd.DataFrame


def difference(model: LoadedModel, start: Explained, to: Explained) -> Difference:
    parts, _ = explain.contributions(model, to.row, start.row.reshape(1, -1), prediction=to.mpg)
    changes = []
    column = f"{start.name} → {to.name}"
    for feature in config.FEATURES:
        before, after = start.car.inputs()[feature], to.car.inputs()[feature]
        same, shown = before == after, as_text(feature, after)
        change = f"same: {shown}" if same else f"{as_text(feature, before)} → {shown}"
        # Three columns shown ("same" is dropped): the table fits a phone's width.
        changes.append({"Input": INPUTS[feature], "MPG change": parts[feature], column: change, "same": same})
    table = pd.DataFrame(changes)
    table = table.reindex(table["MPG change"].abs().sort_values(ascending=False, kind="stable").index)
    return Difference(start, to, to.mpg - start.mpg, table.reset_index(drop=True))


def summary(diff: Difference, limit: int = 3) -> str:
    """One sentence a learner can read: the total and the inputs that explain most of it."""
    moved = diff.by_input[~diff.by_input["same"]].head(limit)
    parts = [f"{row['Input']} {row['MPG change']:+.1f}" for _, row in moved.iterrows()]
    explained = f" Mostly: {', '.join(parts)} MPG." if parts else " The two cars have the same inputs."
    return f"{diff.to.name} predicts {diff.total:+.1f} MPG against {diff.start.name}.{explained}"
