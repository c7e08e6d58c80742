"""Predictions for an uploaded CSV of vehicles (the app's batch view)."""

from __future__ import annotations

import io

import pandas as pd

from mpg.persistence import LoadedModel
from mpg.predict import predict_mpg
from mpg.schema import InputError, Problem

MAX_ROWS = 10_000


def read_vehicle_csv(data: bytes, max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """Parse uploaded bytes as a CSV of vehicles (cells kept as text). Raises InputError with the reason."""
    if not data.strip():
        raise InputError([Problem(None, None, "the file is empty")])
    if b"\0" in data[:4096]:
        raise InputError([Problem(None, None, "this is not a CSV file (it contains binary data)")])
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = str(exc).splitlines()[0]
        raise InputError([Problem(None, None, f"this is not a readable CSV file: {reason}")]) from None
    if len(frame) > max_rows:
        raise InputError([Problem(None, None, f"too many rows: {len(frame)}; at most {max_rows} per file")])
    return frame


def predict_csv(model: LoadedModel, data: bytes, max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """The uploaded rows, in order, plus `mpg_prediction`; InputError names the row and column of bad values."""
    frame = read_vehicle_csv(data, max_rows)
    try:
        predictions = predict_mpg(model, frame)
    except InputError as exc:
        raise InputError(exc.problems, row_label=lambda r: f"row {r + 1}") from None
    return frame.assign(mpg_prediction=predictions.round(2))
