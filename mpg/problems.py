"""How bad input is reported on every surface: each bad value a Problem, and the InputError that carries them."""

from __future__ import annotations

import reprlib
from collections.abc import Callable
from dataclasses import dataclass

from mpg import config

LIMIT = 10  # a person reads ten lines; the API's `details` and a file's problem column keep them all


@dataclass(frozen=True)
class Problem:
    """One bad value: `row` the 0-based record index (None: the whole input), `field` a canonical name; `missing`
    marks a value or column that is absent rather than wrong, so wrong values can be listed first."""

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
        label = row_label or (lambda row: f"row {row}")
        row = None if self.row is None else label(self.row)
        where = ", ".join(part for part in (source, row, self.field) if part)
        return f"{where}: {self.problem}" if where else self.problem


def ordered(problems: list[Problem]) -> list[Problem]:
    """Wrong values first, then missing ones, each group in its given order: "is missing" lines would bury the news."""
    return sorted(problems, key=lambda problem: problem.missing)


def problem_lines(problems: list[Problem], source: str | None = None, row_label=None) -> list[str]:
    """Each problem as one line, `ordered`, at most LIMIT of them, then one line saying how many are left."""
    shown = ordered(problems)
    lines = [problem.describe(source, row_label) for problem in shown[:LIMIT]]
    if len(shown) > LIMIT:
        left = len(shown) - LIMIT
        lines.append(f"and {left} more problem{'s' if left > 1 else ''}")
    return lines


def shown_value(value: object) -> str:
    """A value as a message quotes it: text in quotes, a whole float without '.0' (text cells are read as floats,
    so a Cylinders of 99 would otherwise come back as 'got 99.0')."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:  # beyond, floats skip integers
        return str(int(value))
    return _SHOWN.repr(value)


# repr's text, but nesting beyond 20 levels shown as "[...]": orjson reads JSON 1,024 deep, past repr's recursion.
_SHOWN = reprlib.Repr()
vars(_SHOWN).update(dict.fromkeys([name for name in vars(_SHOWN) if name.startswith("max")], 10**9), maxlevel=20)


class InputError(ValueError):
    """Input that cannot be used at all, with every bad value found; the message is `lines()` joined by "; "."""

    def __init__(self, problems: list[Problem], source: str | None = None, row_label=None):
        self.problems, self.source, self.row_label = problems, source, row_label
        super().__init__("; ".join(self.lines()))

    def lines(self, *, with_source: bool = True) -> list[str]:
        """The problems as `problem_lines` gives them, each naming the source unless `with_source` is False."""
        return problem_lines(self.problems, self.source if with_source else None, self.row_label)


_HINTS = {"float_type": "must be a number", "finite_number": "must be a finite number",
          "multiple_of": "must be a whole number"}  # fmt: skip


def from_pydantic(error: dict) -> Problem:
    """A pydantic error of the contract (mpg.contract) as the Problem every surface shows."""
    loc = error["loc"]
    row = loc[0] if loc and isinstance(loc[0], int) else None  # check_value passes None
    key = next((part for part in loc[1:] if isinstance(part, str)), None)
    field = config.CANONICAL.get(key, key)
    kind, given = error["type"], error.get("input")
    if kind == "missing":
        return Problem(row, field, "is missing", missing=True)
    shown = f", got {shown_value(given)}"[:80]
    if field == config.ORIGIN:
        return Problem(row, field, f"must be 1, 2, 3, USA, Europe or Japan{shown}")
    if kind in ("greater_than_equal", "less_than_equal"):
        low, high = config.BOUNDS[field]
        if field == config.MODEL_YEAR:
            return Problem(row, field, f"must be a year of 19{low:g}-19{high:g}, as 2 or 4 digits{shown}")
        return Problem(row, field, f"must be between {low:g} and {high:g} ({config.UNITS[field]}){shown}")
    if kind == "value_error":
        return Problem(row, field, error["msg"].removeprefix("Value error, "))
    if kind == "extra_forbidden":
        names = ", ".join(config.INPUT_NAMES)
        return Problem(row, key, f"is not a known field (the inputs are {names}, or their canonical names)")
    return Problem(row, field, _HINTS.get(kind, error["msg"]) + shown)
