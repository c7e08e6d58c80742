"""The Batch page's table as a person reads it: refused rows first, where they are in the file and why, then the
inputs and the predictions under headers with units. The downloaded CSV stays mpg.files' machine columns."""

from __future__ import annotations

import pandas as pd

from app_pages.view.labels import INPUTS
from mpg.contract import canonical_name
from mpg.files import OUTPUT_COLUMNS, FileResult
from mpg.problems import InputError, shown_value
from mpg.text import read_cell

PROBLEM = "Problem"
PREDICTIONS = {
    "mpg_prediction": "Predicted MPG",
    "mpg_lower": "90% interval low (MPG)",
    "mpg_upper": "90% interval high (MPG)",
    "warnings": "Warnings",
}


def batch_table(result: FileResult) -> pd.DataFrame:
    """Every row of the file as text cells: refused rows first (in file order), each with its line and problem in
    the first column; inputs under readable names; predictions to one decimal; an empty cell where there is
    nothing (never None or NaN)."""
    frame = result.frame
    inputs = [column for column in frame.columns if column not in OUTPUT_COLUMNS]
    table = pd.DataFrame(index=frame.index)
    table[PROBLEM] = [
        f"{label}, {problem}" if problem else "" for label, problem in zip(result.labels, frame["problem"], strict=True)
    ]
    for position, column in enumerate(inputs):
        name = canonical_name(column)
        read = read_cell if name in INPUTS else (lambda value: value)  # an input as the contract reads it: '99.0' is 99
        header = INPUTS.get(name, str(column))
        if header in table.columns:  # `Weight` and `weight` both given (that row's problem says so): keep both
            header = f"{column} (column {position + 1})"
        table[header] = [_cell(read(value)) for value in frame[column]]  # not Series.map: it makes None NaN
    for column in ("mpg_prediction", "mpg_lower", "mpg_upper"):
        table[PREDICTIONS[column]] = frame[column].map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
    table[PREDICTIONS["warnings"]] = frame["warnings"]
    refused_first = table[PROBLEM].eq("").argsort(kind="stable")
    return table.iloc[refused_first].reset_index(drop=True)


def _cell(value: object) -> str:
    """A value as the table shows it: nothing for unknown, a whole number whole, text as written."""
    if value is None:
        return ""
    return value if isinstance(value, str) else shown_value(value)


def file_error(error: InputError) -> str:
    """A file that cannot be used at all, as Markdown: the file, then each problem on its own line."""
    lines = "\n".join(f"- {line}" for line in error.lines(with_source=False))
    return f"{error.source or 'The file'} cannot be used:\n{lines}"
