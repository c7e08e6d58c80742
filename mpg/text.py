"""Cars given as text (CSV cells, command-line options, URL values), read as JSON would have them, then checked."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from contextlib import suppress

from mpg.contract import check_field, field_key
from mpg.problems import InputError, Problem


def read_cell(text: object) -> object:
    """A text cell as JSON would have it ('' is None, '93' is 93.0, 'Japan' stays text); other values as given."""
    if not isinstance(text, str):
        return text
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)  # 'nan' and 'inf' parse, and are refused as not finite
    except ValueError:
        return text


def text_columns(names: Sequence[object], rows: Iterable[Sequence]) -> dict[object, list]:
    """Rows of `len(names)` text cells as columns, input cells read (`read_cell`); other columns stay as they are."""
    rows = list(rows)
    cells = [[row[k] for row in rows] for k in range(len(names))]  # zip(*rows) took 6 ms for 10,000 rows; this 0.6
    return {
        name: _read_column(column) if field_key(name) not in (None, "car_name") else list(column)
        for name, column in zip(names, cells, strict=True)
    }


def _read_column(cells: Sequence) -> list:
    """`read_cell` for each cell; a column of number texts (a CSV's usual column) at once."""
    if all(type(cell) is str for cell in cells):
        with suppress(ValueError):  # an empty cell, or a name: cell by cell
            return list(map(float, cells))  # float() strips spaces, as read_cell does
    return [read_cell(cell) for cell in cells]


def from_text(names: Sequence[object], rows: Iterable[Sequence]) -> list[dict]:
    """Rows of text cells as records (a dict per row), cells read as `text_columns` reads them."""
    columns = text_columns(names, rows)
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def check_value(name: str, text: str) -> float:
    """One input given alone as text (a URL value), checked and encoded by the contract. InputError if not."""
    value = read_cell(text)
    if value is None:
        raise InputError([Problem(None, name, "has no value", missing=True)])
    return check_field(name, value)


def csv_line_labels(text: str, rows: int) -> list[str]:
    """Each data row's first line in the file (pandas skips blank lines and a quoted cell may span lines, so it is
    not the row's index + 2); Python's csv reader counts lines, and skips what pandas skips."""
    reader, starts, line = csv.reader(io.StringIO(text, newline="")), [], 0
    try:
        for record in reader:
            if any(cell.strip() for cell in record) or len(record) > 1:  # pandas drops blank lines only
                starts.append(line + 1)
            line = reader.line_num
    except csv.Error:
        starts = []
    if len(starts) != rows + 1:  # the two parsers disagree: number the rows rather than guess a line
        return [f"data row {i + 1}" for i in range(rows)]
    return [f"line {start}" for start in starts[1:]]
