"""The cars of one request, as the API hands them to the prediction log, and the table rows they become."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from mpg import config
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

    def notes(self) -> dict[int, list[dict]]:
        """Each car's warnings (by its index; a car with none is left out), as the tables store them."""
        notes: dict[int | None, list[dict]] = {}
        for problem in self.warnings:
            note = {"field": problem.field, "problem": problem.problem}
            kind = getattr(problem, "kind", None)  # mpg.prediction.InputWarning: extrapolation or unknown
            notes.setdefault(problem.row, []).append(note | {"kind": kind} if kind else note)
        whole = notes.pop(None, [])  # a problem of the whole request concerns every car
        if not whole:  # the cars with warnings only: a loop over 10,000 cars held the GIL for 0.3 ms (ad hoc)
            return dict(sorted(notes.items()))
        return {i: notes.get(i, []) + whole for i in range(len(self))}

    def check(self) -> None:
        """Raises ValueError if the arrays' lengths disagree: a car must not be written with another's prediction."""
        lengths = {len(self.X), len(self.predictions), len(self.lower), len(self.upper)}
        if len(lengths) > 1 or np.shape(self.X)[1:] != (len(config.FEATURES),):
            raise ValueError(f"a batch's arrays disagree: lengths {sorted(lengths)}, inputs {np.shape(self.X)}")

    def small_rows(self, stored_time: Callable[[datetime], object]) -> list[tuple]:
        """The batch as rows of the `predictions` table, values in `table.COLUMNS` order, for `table.insert_rows`:
        3 microseconds for one car in plain Python, which `PredictionLog.record` can afford on the request's path."""
        self.check()
        request = (stored_time(datetime.fromtimestamp(self.time, UTC)), self.request_id, self.route, self.source,
                   self.model_version)  # fmt: skip
        outputs, notes, rows = (self.predictions.tolist(), self.lower.tolist(), self.upper.tolist()), self.notes(), []
        for i, (car, *predicted) in enumerate(zip(np.asarray(self.X).tolist(), *outputs, strict=True)):
            inputs = [None if value != value else value for value in car]  # NaN, an unknown input, is NULL
            rows.append((*request, *inputs, *predicted, json.dumps(notes[i]) if i in notes else None))
        return rows

    def batch_row(self, stored_time: Callable[[datetime], object]) -> tuple:
        """The batch as a `prediction_batches` row in `table.ORDER`: its arrays as float64 bytes, in views."""
        self.check()
        outputs = np.column_stack([self.predictions, self.lower, self.upper])
        inputs, outputs = (memoryview(np.ascontiguousarray(a, "<f8")).cast("B") for a in (self.X, outputs))
        warnings = json.dumps({str(i): notes for i, notes in self.notes().items()}) if self.warnings else None
        return (stored_time(datetime.fromtimestamp(self.time, UTC)), self.request_id, self.route, self.source,
                self.model_version, len(self), inputs, outputs, warnings)  # fmt: skip
