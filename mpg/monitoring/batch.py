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


def table_rows(batches: Sequence[Batch], stored_time: Callable[[datetime], object]) -> list[tuple]:
    """Every car of these batches as a row of the `predictions` table, its values in `table.COLUMNS` order, for
    `table.insert_rows`; `stored_time` converts each request's time for the driver (`table.stored_time`).

    The arrays of all the batches are converted at once: a second of one-car requests is hundreds of batches, and
    while the writer converts them it holds the GIL that a request is waiting for (one conversion per batch made a
    one-car request's p99 several times its p50). Raises ValueError if a batch's arrays disagree in length.
    """
    for batch in batches:
        batch.check()
    inputs = np.concatenate([np.asarray(batch.X, dtype=np.float64) for batch in batches])
    inputs = np.where(np.isnan(inputs), None, inputs.astype(object)).tolist()  # unknown: NULL, not NaN
    outputs = [
        np.concatenate([getattr(b, name) for b in batches]).tolist() for name in ("predictions", "lower", "upper")
    ]
    requests = itertools.chain.from_iterable(
        itertools.repeat(
            (stored_time(datetime.fromtimestamp(b.time, UTC)), b.request_id, b.route, b.source, b.model_version), len(b)
        )
        for b in batches
    )
    notes = itertools.chain.from_iterable(b.notes() for b in batches)
    return [
        (*request, *car, prediction, lower, upper, note)
        for request, car, prediction, lower, upper, note in zip(requests, inputs, *outputs, notes, strict=True)
    ]
