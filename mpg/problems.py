"""How bad input is reported on every surface: each bad value as a Problem, and the InputError that carries them.

One rule for how a list of problems reads, wherever it is shown (the CLI's stderr, the API's message, the app):
every problem, wrong values before missing ones, up to LIMIT, then "and N more problems".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

LIMIT = 10  # a person reads ten lines; the API's `details` and a file's problem column keep them all


@dataclass(frozen=True)
class Problem:
    """One bad value: `row` is the 0-based record index (None: the whole input), `field` a canonical name.

    `missing` marks a value or column that is absent rather than wrong, so wrong values can be listed first.
    """

    row: int | None
    field: str | None
    problem: str
    missing: bool = False

    def to_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "problem": self.problem}

    def __str__(self) -> str:
        return self.describe()

    def describe(self, source: str | None = None, row_label: Callable[[int], str] | None = None) -> str:
        """E.g. 'cars.csv, line 7, Weight: must be a number, got 'heavy''; rows are 'row 0' unless labelled."""
        row = None if self.row is None else (row_label or _row_label)(self.row)
        where = ", ".join(part for part in (source, row, self.field) if part)
        return f"{where}: {self.problem}" if where else self.problem


def _row_label(row: int) -> str:
    return f"row {row}"


def ordered(problems: list[Problem]) -> list[Problem]:
    """Wrong values first, then missing ones, each group in its given order: a value that is wrong is the news,
    a string of "is missing" lines before it would bury it."""
    return sorted(problems, key=lambda problem: problem.missing)


def problem_lines(problems: list[Problem], source: str | None = None, row_label=None, limit: int = LIMIT) -> list[str]:
    """Each problem as one line, `ordered`, at most `limit` of them, then one line saying how many are left."""
    shown = ordered(problems)
    lines = [problem.describe(source, row_label) for problem in shown[:limit]]
    if len(shown) > limit:
        left = len(shown) - limit
        lines.append(f"and {left} more problem{'s' if left > 1 else ''}")
    return lines


def shown_value(value: object) -> str:
    """A value as a message quotes it: text in quotes, a whole float without '.0'. CSV cells and options are read
    as floats (mpg/text.py), so a Cylinders of 99 would otherwise come back as 'got 99.0'."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:  # beyond, floats skip integers
        return str(int(value))
    return repr(value)


class InputError(ValueError):
    """Input that cannot be used at all; `problems` lists every bad value found.

    `row_label` says how a row is named to the user (default "row 0"; a data file says "line 7"). The message
    is `lines()` joined by "; ", so it stays one line in logs and in the API's JSON.
    """

    def __init__(self, problems: list[Problem], source: str | None = None, row_label=None):
        self.problems, self.source, self.row_label = problems, source, row_label
        super().__init__("; ".join(self.lines()))

    def lines(self, *, with_source: bool = True) -> list[str]:
        """The problems as `problem_lines` gives them, each naming the source unless `with_source` is False."""
        return problem_lines(self.problems, self.source if with_source else None, self.row_label)
