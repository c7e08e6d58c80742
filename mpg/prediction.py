"""Prediction: check the cars against the contract, then run the compiled pipeline. Nothing here fits anything."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel

from mpg import config
from mpg.artifact.store import LoadedModel
from mpg.contract import Checked, check_records, records_from_json
from mpg.problems import InputError, Problem


@dataclass(frozen=True)
class InputWarning:
    """A car that was predicted, but with care: an input outside the training range, or an unknown one."""

    row: int
    field: str
    kind: str  # "extrapolation" or "unknown"
    problem: str

    def to_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "kind": self.kind, "problem": self.problem}

    def __str__(self) -> str:
        return f"{self.field} {self.problem}"


@dataclass
class Predictions:
    """Predictions for a validated float64 [n, 7] array, in order, with the 90% band and warnings."""

    X: np.ndarray
    mpg: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    warnings: list[InputWarning] = field(default_factory=list)


def predict_array(model: LoadedModel, X: np.ndarray) -> Predictions:
    """The one prediction path, for every surface: X as `check_records` makes it (NaN = unknown, the graph imputes)."""
    mpg = model.compiled.predict(X)
    lower, upper = model.card.interval.around(mpg)
    return Predictions(X, mpg, lower, upper, input_warnings(model, X))


def input_warnings(model: LoadedModel, X: np.ndarray) -> list[InputWarning]:
    """Unknown inputs (filled as the pipeline does) and values outside the training range, row by row."""
    unknown = np.isnan(X)
    outside = model.card.inputs.outside_training_range(X)
    if not (unknown.any() or outside.any()):  # the common case costs two vectorised checks
        return []
    found, (low, high) = [], model.card.inputs.training_range()
    for row, column in zip(*np.nonzero(unknown | np.pad(outside, ((0, 0), (0, 1)))), strict=True):
        name = config.FEATURES[column]
        if unknown[row, column]:
            found.append(InputWarning(int(row), name, "unknown", unknown_note(model, name)))
        else:
            text = f"{X[row, column]:g} is outside the training range {low[column]:g}-{high[column]:g}"
            found.append(InputWarning(int(row), name, "extrapolation", text))
    return found


def unknown_note(model: LoadedModel, name: str) -> str:
    """E.g. 'unknown: training median 93.5 hp used'."""
    spec = model.card.inputs.features[name]
    rule = model.card.inputs.fill_rule.get(name, "training value")
    if name == config.ORIGIN:
        return f"unknown: most frequent in training, {config.ORIGINS[int(spec.fill)]}, used"
    unit = "" if name in (config.CYLINDERS, config.MODEL_YEAR) else f" {spec.unit}"
    return f"unknown: training {rule} {spec.fill:g}{unit} used"


@dataclass
class TableResult:
    """Every input row's verdict, in order: predicted (numbers, warnings) or refused (problems)."""

    checked: Checked
    predictions: Predictions

    @property
    def problems(self) -> list[Problem]:
        return self.checked.problems

    def column(self, values: np.ndarray) -> np.ndarray:
        """Per input row: the value for predicted rows, NaN for refused ones."""
        out = np.full(self.checked.count, np.nan)
        out[self.checked.rows] = values
        return out

    def warnings(self) -> list[InputWarning]:
        """Warnings with rows numbered as in the input."""
        rows = self.checked.rows
        return [InputWarning(int(rows[w.row]), w.field, w.kind, w.problem) for w in self.predictions.warnings]


def predict_table(model: LoadedModel, records: list, *, extra: str = "ignore") -> TableResult:
    """Check every record and predict the valid ones; a bad row is refused alone, with its problems."""
    checked = check_records(records, extra=extra)
    return TableResult(checked, predict_array(model, checked.X))


def predict(model: LoadedModel, cars) -> Predictions:
    """Predictions for cars (any form `records_from` takes), all valid, else InputError naming every field at fault."""
    checked = check_records(records_from(cars), extra="ignore")
    if checked.problems:
        raise InputError(checked.problems)
    return predict_array(model, checked.X)


def records_from(cars) -> list:
    """Records from a `Car`, a list of them, a DataFrame (NaN is unknown) or any of the JSON shapes."""
    pandas = sys.modules.get("pandas")  # a DataFrame exists only where pandas is loaded; serving never loads it
    if pandas is not None and isinstance(cars, pandas.DataFrame):
        rows = cars.to_dict("records")
        return [{k: None if isinstance(v, float) and np.isnan(v) else v for k, v in row.items()} for row in rows]
    if isinstance(cars, BaseModel):
        cars = [cars]
    if isinstance(cars, list):
        cars = [car.model_dump() if isinstance(car, BaseModel) else car for car in cars]
    return records_from_json(cars)
