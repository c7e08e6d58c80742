"""The Batch page's table as a person reads it; the downloaded CSV keeps mpg.files' machine columns."""

from __future__ import annotations

import pandas as pd

from app_pages.view.labels import INPUTS
from mpg import config
from mpg.contract import canonical_name
from mpg.files import OUTPUT_COLUMNS, FileResult
from mpg.problems import InputError, shown_value
from mpg.text import read_cell

PROBLEM = "Problem"
PREDICTED, INTERVAL, WARNINGS = "Predicted MPG", "90% interval (MPG)", "Warnings"
OURS = {PROBLEM, PREDICTED, INTERVAL, WARNINGS}  # headers a file's own column must not take
HEADERS = {**INPUTS, config.NAME: config.NAME}  # `car_name` and `car name` are the car's name too: one header


def batch_table(result: FileResult) -> pd.DataFrame:
    """Every row as text: refused rows first, with their line and problem; then the name and the predictions, seen
    before the inputs a phone shows only by scrolling. A Problem or Warnings column with nothing to say is left out."""
    frame = result.frame
    table = pd.DataFrame(index=frame.index)
    table[PROBLEM] = [
        f"{label}, {problem}" if problem else "" for label, problem in zip(result.labels, frame["problem"], strict=True)
    ]
    inputs = {}
    for position, column in enumerate(c for c in frame.columns if c not in OUTPUT_COLUMNS):
        name = canonical_name(column)
        read = read_cell if name in INPUTS else (lambda value: value)  # an input as the contract reads it: '99.0' is 99
        header = HEADERS.get(name, str(column))
        if header in inputs or header in OURS:  # `Weight` and `weight` both given (that row's problem says so)
            header = f"{column} (column {position + 1})"
        inputs[header] = [_cell(read(value)) for value in frame[column]]  # not Series.map: it makes None NaN
    if config.NAME in inputs:
        table[config.NAME] = inputs.pop(config.NAME)
    known = frame["mpg_prediction"].notna()
    table[PREDICTED] = frame["mpg_prediction"].map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
    table[INTERVAL] = [f"{low:.1f}-{high:.1f}" if ok else "" for low, high, ok in
                       zip(frame["mpg_lower"], frame["mpg_upper"], known, strict=True)]  # fmt: skip
    table[WARNINGS] = frame["warnings"]
    table = table.assign(**inputs)
    refused_first = table[PROBLEM].eq("").argsort(kind="stable")
    table = table.iloc[refused_first].reset_index(drop=True)
    return table.drop(columns=[name for name in (PROBLEM, WARNINGS) if table[name].eq("").all()])


def _cell(value: object) -> str:
    """A value as the table shows it: nothing for unknown, a whole number whole, text as written."""
    if value is None:
        return ""
    return value if isinstance(value, str) else shown_value(value)


def file_error(error: InputError) -> str:
    """A file that cannot be used at all, as Markdown: the file, then each problem on its own line."""
    lines = "\n".join(f"- {line}" for line in error.lines(with_source=False))
    return f"{error.source or 'The file'} cannot be used:\n{lines}"
