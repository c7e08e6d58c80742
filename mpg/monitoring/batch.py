"""The cars of one request, as the API hands them to the prediction log, and the table rows they become."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from mpg import config
from mpg.monitoring.table import COLUMNS, INPUT_COLUMNS
from mpg.prediction import InputWarning
from mpg.problems import Problem


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    """The cars of one request, as the API holds them; rows are made from it in the writer thread.

    `X` is the validated float [n, 7] array in `config.FEATURES` order (NaN = unknown input), the
    other arrays have n values; `warnings` are the request's problems, `row` naming the car.
    The arrays are kept, not copied: do not change them after recording.
    """

    X: np.ndarray
    predictions: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    model_version: str
    route: str  # "/predict", ..., or "app"
    source: str  # "api" or "app"
    request_id: str | None = None
    warnings: Sequence[Problem | InputWarning] = ()
    time: float = field(default_factory=time.time)

    def __len__(self) -> int:
        return len(self.predictions)

    def notes(self) -> list[str | None]:
        """Per car, its warnings as the table's JSON list (None when it has none)."""
        notes: dict[int | None, list[dict]] = {}
        for problem in self.warnings:
            note = {"field": problem.field, "problem": problem.problem}
            kind = getattr(problem, "kind", None)  # mpg.prediction.InputWarning: extrapolation or unknown
            notes.setdefault(problem.row, []).append(note | {"kind": kind} if kind else note)
        whole = notes.pop(None, [])  # a problem of the whole request concerns every car
        return [json.dumps(notes.get(i, []) + whole) if i in notes or whole else None for i in range(len(self))]

    def check(self) -> None:
        """Raises ValueError if the arrays' lengths disagree: a car must not be written with another's prediction."""
        lengths = {len(self.X), len(self.predictions), len(self.lower), len(self.upper)}
        if len(lengths) > 1 or np.shape(self.X)[1:] != (len(config.FEATURES),):
            raise ValueError(f"a batch's arrays disagree: lengths {sorted(lengths)}, inputs {np.shape(self.X)}")

    def small_rows(self, stored_time: Callable[[datetime], object]) -> list[tuple]:
        """The rows `table_rows` makes, for a batch of a few cars, in plain Python: 3 microseconds for one car
        against 20 in numpy, which `PredictionLog.record` can afford on the request's path."""
        self.check()
        request = (stored_time(datetime.fromtimestamp(self.time, UTC)), self.request_id, self.route, self.source,
                   self.model_version)  # fmt: skip
        outputs = self.predictions.tolist(), self.lower.tolist(), self.upper.tolist()
        return [
            (*request, *[None if value != value else value for value in car], prediction, lower, upper, note)
            for car, prediction, lower, upper, note in zip(
                np.asarray(self.X).tolist(), *outputs, self.notes(), strict=True
            )
        ]  # value != value: NaN, an unknown input, is NULL


def table_rows(batches: Sequence[Batch], stored_time: Callable[[datetime], object]) -> np.ndarray:
    """Every car of these batches as a row of the `predictions` table: an object array [cars, columns], values in
    `table.COLUMNS` order, for `table.insert_rows`; `stored_time` converts each request's time for the driver
    (`table.stored_time`). Raises ValueError if a batch's arrays disagree.

    Column by column over all the batches at once, in numpy: a second of one-car requests is hundreds of
    batches, and while the writer works in Python it holds the GIL that a request is waiting for.
    """
    for batch in batches:
        batch.check()
    inputs = np.concatenate([np.asarray(batch.X, dtype=np.float64) for batch in batches])
    requests = [(stored_time(datetime.fromtimestamp(b.time, UTC)), b.request_id, b.route, b.source, b.model_version)
                for b in batches]  # fmt: skip
    per_car = np.repeat(np.array(requests, dtype=object).reshape(len(batches), 5), [len(b) for b in batches], axis=0)
    values = {
        **dict(zip(("time", "request_id", "route", "source", "model_version"), per_car.T, strict=True)),
        **{column: inputs[:, k] for k, column in enumerate(INPUT_COLUMNS.values())},
        **{name: np.concatenate([getattr(b, key) for b in batches])
           for name, key in (("prediction", "predictions"), ("lower", "lower"), ("upper", "upper"))},
        "warnings": list(itertools.chain.from_iterable(b.notes() for b in batches)),
    }  # fmt: skip
    rows = np.empty((len(inputs), len(COLUMNS)), dtype=object)
    for k, column in enumerate(COLUMNS):
        rows[:, k] = values[column]
    inputs_at = [COLUMNS.index(column) for column in INPUT_COLUMNS.values()]
    block = rows[:, inputs_at]
    block[np.isnan(inputs)] = None  # an unknown input is NULL, not NaN
    rows[:, inputs_at] = block
    return rows
