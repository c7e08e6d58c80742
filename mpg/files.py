"""Files of cars (the CLI's --input, the app's upload): every row kept, in order, with its prediction or its problem."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mpg import config
from mpg.artifact.store import LoadedModel
from mpg.contract import MAX_ROWS, canonical_name, records_from_json
from mpg.prediction import predict_table
from mpg.problems import InputError, Problem, ordered
from mpg.text import csv_line_labels, from_text

OUTPUT_COLUMNS = ["mpg_prediction", "mpg_lower", "mpg_upper", "warnings", "problem"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP's list for CSV injection


@dataclass
class FileResult:
    """The input rows plus OUTPUT_COLUMNS, the counts for the summary line, and where each row is in the file."""

    frame: pd.DataFrame
    predicted: int
    refused: int
    labels: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        refused = f"; {self.refused:,} refused (see the problem column)" if self.refused else ""
        return f"predicted {self.predicted:,} of {self.predicted + self.refused:,} rows{refused}"

    def csv_bytes(self) -> bytes:
        return spreadsheet_safe(self.frame).to_csv(index=False).encode("utf-8")


@dataclass
class CarFile:
    """A file as read: `frame` for the output, `records` for the contract, and `labels` ("line 7", "car 3")."""

    frame: pd.DataFrame
    records: list[dict]
    labels: list[str] = field(default_factory=list)


def read_cars(data: bytes, name: str = "file") -> CarFile:
    """Parse a CSV or JSON (the API's three shapes) file; InputError when the file as a whole is unusable.
    JSON values are kept as they are, so a JSON file is checked exactly as the API checks the same body."""
    if not data.strip():
        raise InputError([Problem(None, None, "the file is empty")], source=name)
    if b"\0" in data[:4096]:
        raise InputError([Problem(None, None, "not a CSV or JSON file (it contains binary data)")], source=name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError([Problem(None, None, "not UTF-8 text")], source=name) from None
    if name.lower().endswith(".json") or text.lstrip().startswith(("{", "[")):
        try:
            records = records_from_json(json.loads(text))
        except json.JSONDecodeError as exc:
            raise InputError([Problem(None, None, f"not valid JSON: {exc}")], source=name) from None
        except InputError as exc:
            raise InputError(exc.problems, source=name) from None
        if not all(isinstance(r, dict) for r in records):
            raise InputError([Problem(None, None, "a JSON file must hold objects, one per car")], source=name)
        frame = pd.DataFrame.from_records(records)
        frame = frame.astype(object).where(frame.notna(), None)
        labels = [f"car {i + 1}" for i in range(len(frame))]
    else:
        try:
            # index_col=False: a row ending in a comma must not make its first cell the index (shifting the rest)
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, index_col=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            reason = str(exc).strip().splitlines()[0]
            raise InputError([Problem(None, None, f"not a readable CSV file: {reason}")], source=name) from None
        records = from_text(frame.columns, frame.itertuples(index=False, name=None))
        labels = csv_line_labels(text, len(frame))
    if len(frame) > MAX_ROWS:
        raise InputError([Problem(None, None, f"has {len(frame)} rows; at most {MAX_ROWS} per file")], source=name)
    if frame.empty:
        raise InputError([Problem(None, None, "has no rows")], source=name)
    present = {canonical_name(column) for column in frame.columns}
    missing = [Problem(None, f, "column is missing", missing=True) for f in config.FEATURES if f not in present]
    if missing:
        raise InputError(missing, source=name)
    return CarFile(frame, records, labels)


def predict_file(model: LoadedModel, data: bytes, name: str = "file") -> FileResult:
    """Every row of the file, in order, with its prediction or its problem."""
    return predict_car_file(model, read_cars(data, name))


def predict_car_file(model: LoadedModel, cars: CarFile) -> FileResult:
    """Like predict_file, for a file already read."""
    result = predict_table(model, cars.records, extra="ignore")
    count, predictions = result.checked.count, result.predictions
    notes, problems = [[] for _ in range(count)], [[] for _ in range(count)]
    for warning in result.warnings():
        notes[warning.row].append(str(warning))
    for problem in ordered(result.problems):
        # The row is the file's row already: the problem as "Field: problem", or alone when it is the whole car's
        problems[problem.row].append(Problem(None, problem.field, problem.problem).describe())
    out = cars.frame.reset_index(drop=True).copy()
    for column, values in zip(OUTPUT_COLUMNS, [predictions.mpg, predictions.lower, predictions.upper], strict=False):
        out[column] = np.round(result.column(values), 3)
    out["warnings"], out["problem"] = ["; ".join(row) for row in notes], ["; ".join(row) for row in problems]
    refused = len(result.checked.refused_rows)
    labels = cars.labels or [f"car {i + 1}" for i in range(count)]
    return FileResult(out, count - refused, refused, labels)


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe; numbers are untouched."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(_neutralise)
    out.columns = [_neutralise(str(c)) for c in out.columns]
    return out


def _neutralise(cell: object) -> object:
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) and not _is_number(cell):  # "-5" is no formula
        return "'" + cell
    return cell


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text
