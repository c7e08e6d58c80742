"""How bad input is reported on every surface: each bad value as a Problem, and the InputError that carries them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One bad value: `row` is the 0-based record index (None: the whole input), `field` a canonical name."""

    row: int | None
    field: str | None
    problem: str

    def to_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "problem": self.problem}

    def __str__(self) -> str:
        where = ", ".join(part for part in (_row_label(self.row), self.field) if part)
        return f"{where}: {self.problem}" if where else self.problem


def _row_label(row: int | None) -> str:
    return "" if row is None else f"row {row}"


class InputError(ValueError):
    """Input that cannot be used at all; `problems` lists every bad value found (first first).

    `row_label` says how a row is named to the user (default "row 0"; a data file says "line 7").
    """

    def __init__(self, problems: list[Problem], source: str | None = None, row_label=None):
        self.problems, self.source = problems, source
        first = problems[0]
        label = row_label if first.row is not None and row_label else _row_label
        where = ", ".join(part for part in (source, label(first.row), first.field) if part)
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(f"{where}: {first.problem}{more}" if where else f"{first.problem}{more}")
