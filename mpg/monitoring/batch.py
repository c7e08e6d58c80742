"""The cars of one request, as the API hands them to the prediction log, and the table rows they become."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

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

    def values(self, stored_time: Callable[[datetime], object]) -> list[tuple]:
        """One row of the `predictions` table per car, its values in `table.COLUMNS` order, for `insert_rows`;
        `stored_time` converts the request's time for the driver (`table.stored_time`).

        Raises ValueError if the arrays' lengths disagree: a car must not be written with another's prediction.
        """
        request = (
            stored_time(datetime.fromtimestamp(self.time, UTC)), self.request_id, self.route, self.source,
            self.model_version,
        )  # fmt: skip
        inputs = np.asarray(self.X, dtype=np.float64)
        inputs = np.where(np.isnan(inputs), None, inputs.astype(object)).tolist()  # unknown: NULL, not NaN
        outputs = self.predictions.tolist(), self.lower.tolist(), self.upper.tolist()
        return [
            (*request, *car, prediction, lower, upper, note)
            for car, prediction, lower, upper, note in zip(inputs, *outputs, self.notes(), strict=True)
        ]
