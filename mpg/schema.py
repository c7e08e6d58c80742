"""Validation of vehicle tables: one set of rules for data files, the CLI, the API and the app."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from mpg import config

_ORIGIN_NAMES = {name.lower(): code for name, code in config.ORIGIN_CODES.items()}


@dataclass(frozen=True)
class Problem:
    """One bad value: `row` is the 0-based record index, None for the whole table."""

    row: int | None
    field: str | None
    problem: str

    def to_dict(self) -> dict:
        return asdict(self)


class InputError(ValueError):
    """Input that cannot be used; `problems` lists every bad value found (first first)."""

    def __init__(self, problems: list[Problem], source: str | None = None, row_label=None):
        self.problems = problems
        self.source = source
        first = problems[0]
        where = []
        if source:
            where.append(str(source))
        if first.field:
            where.append(f"column '{first.field}'")
        if first.row is not None:
            where.append(row_label(first.row) if row_label else f"row {first.row + 1}")
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(f"{': '.join([', '.join(where), first.problem]) if where else first.problem}{more}")


def canonical_name(name: object) -> str | None:
    """Map a column name (canonical or snake_case, any case) to its canonical name."""
    text = str(name).strip()
    for canonical in config.COLUMNS:
        if text == canonical or text.lower() == canonical.lower():
            return canonical
    return config.ALIASES.get(text.lower().replace(" ", "_"))


def origin_code(value: object) -> float:
    """1/2/3 or USA/Europe/Japan (any case) to the UCI code; NaN when unknown or missing."""
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in _ORIGIN_NAMES:
            return float(_ORIGIN_NAMES[text.lower()])
        try:
            value = float(text)
        except ValueError:
            return math.nan
    if isinstance(value, bool) or value is None:
        return math.nan
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if number in config.ORIGINS else math.nan


def _is_blank(series: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series):
        return series.isna()
    text = series.map(lambda v: v.strip() if isinstance(v, str) else v)
    return series.isna() | text.eq("")


def _to_float(value: object) -> float:
    """A number from a JSON value or CSV text; NaN for booleans and anything else."""
    if isinstance(value, bool) or value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan


def _check_number(column: str, raw: pd.Series, allow_missing: bool) -> tuple[pd.Series, list[Problem]]:
    blank = _is_blank(raw).to_numpy()
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.astype("float64").to_numpy(copy=True)
    else:
        values = np.array([math.nan if b else _to_float(v) for b, v in zip(blank, raw, strict=True)])
    low, high = config.BOUNDS[column]
    if column == config.MODEL_YEAR:  # 1976 and 76 mean the same year
        four_digit = (values >= 1900 + low) & (values <= 1900 + high)
        values[four_digit] -= 1900
    with np.errstate(invalid="ignore"):
        bad = ~blank & ~((values >= low) & (values <= high))
        if column in config.INTEGER_FEATURES:
            bad |= ~blank & np.isfinite(values) & (values != np.round(values))
    if not allow_missing:
        bad |= blank
    problems = [
        Problem(int(i), column, _number_problem(column, raw.iloc[i], values[i], blank[i])) for i in np.flatnonzero(bad)
    ]
    return pd.Series(values, index=raw.index), problems


def _number_problem(column: str, original: object, value: float, blank: bool) -> str:
    low, high = config.BOUNDS[column]
    if blank:
        return "is missing"
    if math.isnan(value):
        return f"must be a number, got {original!r}"
    if math.isinf(value):
        return f"must be a finite number, got {original!r}"
    if column in config.INTEGER_FEATURES and not value.is_integer():
        return f"must be a whole number, got {original!r}"
    kind = "negative" if value < 0 else "zero" if value == 0 else "out of range"
    return f"is {kind}: {original!r}; must be between {low:g} and {high:g} ({config.UNITS[column]})"


def _check_origin(raw: pd.Series, allow_missing: bool) -> tuple[pd.Series, list[Problem]]:
    problems: list[Problem] = []
    blank = _is_blank(raw)
    codes = raw.map(origin_code).astype("float64")
    for i, (is_blank, code, original) in enumerate(zip(blank, codes, raw, strict=True)):
        if is_blank:
            if not allow_missing:
                problems.append(Problem(i, config.ORIGIN, "is missing"))
        elif math.isnan(code):
            problems.append(
                Problem(
                    i,
                    config.ORIGIN,
                    f"unknown origin {original!r}; use 1/2/3 or USA/Europe/Japan",
                )
            )
    return codes, problems


def validate_vehicles(
    frame: pd.DataFrame,
    *,
    target: bool = False,
    allow_missing: bool = False,
    unknown: str = "ignore",
) -> pd.DataFrame:
    """Check and convert a table of vehicles to the canonical float columns.

    Returns a new frame with the canonical feature columns (and MPG when
    `target`; Car Name when present), Origin as its UCI code. Raises
    InputError listing every problem. The input frame is not modified.
    """
    if frame.shape[0] == 0:
        raise InputError([Problem(None, None, "has no rows")])
    renamed: dict[object, str] = {}
    problems: list[Problem] = []
    for column in frame.columns:
        name = canonical_name(column)
        if name is None or (name == config.TARGET and not target):
            if unknown == "error" and name is None:
                problems.append(Problem(None, str(column), "is not a known field"))
            continue
        if name in renamed.values():
            problems.append(Problem(None, name, "is given twice"))
            continue
        renamed[column] = name
    required = [*config.FEATURES, config.TARGET] if target else config.FEATURES
    problems += [Problem(None, c, "is missing") for c in required if c not in renamed.values()]
    if problems:
        raise InputError(problems)

    source = frame[list(renamed)].rename(columns=renamed).reset_index(drop=True)
    out = pd.DataFrame(index=source.index)
    numeric = [*config.NUMERIC_FEATURES, *([config.TARGET] if target else [])]
    for column in numeric:
        # Missing MPG is allowed in data files: such rows are left out of training.
        out[column], found = _check_number(column, source[column], allow_missing or column == config.TARGET)
        problems += found
    out[config.ORIGIN], found = _check_origin(source[config.ORIGIN], allow_missing)
    problems += found
    if config.NAME in source:
        out[config.NAME] = source[config.NAME].astype("string").str.strip()
    if problems:
        problems.sort(key=lambda p: p.row if p.row is not None else -1)
        raise InputError(problems)
    ordered = [c for c in config.COLUMNS if c in out]
    return out[ordered]
