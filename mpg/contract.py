"""The input contract: a car's seven inputs, declared once, checked the same way by every surface.

The API, the CLI, the app and the training loader all go through `check_records` (or `check_json`, `check_columns`).
Names: canonical (`Model Year`) or snake_case, any letter case. Numbers must be JSON numbers (`"93"` is refused; text
cells are read first by mpg/text.py). Unknown (null, an empty cell) is imputed and flagged; a missing key is an error.
Unknown keys are refused in the API (they catch typos); files pass them through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import ConfigDict, Field, Strict, StringConstraints, TypeAdapter, ValidationError, create_model

from mpg import config
from mpg.problems import InputError, Problem, from_pydantic

ORIGIN_NAMES = {name.lower(): code for name, code in config.ORIGIN_CODES.items()}
MAX_ROWS = 10_000


def _number(name: str) -> Any:
    low, high = config.BOUNDS[name]
    whole = {"multiple_of": 1} if name in config.INTEGER_FEATURES else {}
    number = Annotated[float, Strict(), Field(ge=low, le=high, **whole)]
    if name == config.MODEL_YEAR:  # 1976 and 76 are the same year; _encode makes it 76
        doc = f"model year, 2 or 4 digits ({low:g}-{high:g} or 19{low:g}-19{high:g}); null when unknown"
        four = Annotated[float, Strict(), Field(ge=1900 + low, le=1900 + high, **whole)]
        return Annotated[number | four | None, Field(description=doc, union_mode="left_to_right")]
    return Annotated[number | None, Field(description=f"{config.UNITS[name]}, {low:g} to {high:g}; null when unknown")]


_ORIGIN_NAME = r"(?i)^\s*(" + "|".join(ORIGIN_NAMES) + r")\s*$"
ORIGIN = Annotated[
    Annotated[float, Strict(), Field(ge=min(config.ORIGINS), le=max(config.ORIGINS), multiple_of=1)]
    | Annotated[str, StringConstraints(pattern=_ORIGIN_NAME)]
    | None,
    Field(description="1 = USA, 2 = Europe, 3 = Japan, or the name in any letter case; null when unknown",
          union_mode="left_to_right"),
]  # fmt: skip

# The declaration: one pydantic model, from which validation and the OpenAPI schema both come.
Car = create_model(
    "Car",
    __config__=ConfigDict(extra="forbid", allow_inf_nan=False),
    __doc__="One car's seven inputs. Keys: canonical names or snake_case, any letter case.",
    **{config.SNAKE[name]: (_number(name), ...) for name in config.NUMERIC_FEATURES},
    origin=(ORIGIN, ...),
)
LabelledCar = create_model(
    "LabelledCar",
    __base__=Car,
    __doc__="A car of the training data: the seven inputs and its measured MPG (null when not measured).",
    mpg=(Annotated[float, Strict(), Field(ge=config.BOUNDS[config.TARGET][0], le=config.BOUNDS[config.TARGET][1])]
         | None, ...),
)  # fmt: skip
_ROWS = {False: TypeAdapter(list[Car]), True: TypeAdapter(list[LabelledCar])}
# The same fields as lists: the tutorial's columnar form validated column by column (no per-car objects).
_COLUMNS = create_model(
    "CarColumns",
    __config__=ConfigDict(extra="forbid", allow_inf_nan=False),
    # Each field whole (Annotated with its FieldInfo): its bare annotation would lose the union mode.
    **{name: (list[Annotated[field.annotation, field]], ...) for name, field in Car.model_fields.items()},  # type: ignore[name-defined]
)


@lru_cache(maxsize=256)
def field_key(key: object) -> str | None:
    """A key in any accepted form (`Model Year`, `model_year`, `MODEL YEAR`...) to its snake_case name."""
    text = str(key).strip().lower().replace(" ", "_").replace("-", "_")
    return text if text in config.CANONICAL else None


def canonical_name(key: object) -> str | None:
    """A key in any accepted form to its canonical name (`Model Year`), None if it is not one of ours."""
    return config.CANONICAL.get(field_key(key))


def check_field(name: str, value: object) -> float:
    """One input's value checked alone and encoded (Origin as its code, a year as 2 digits); InputError if bad."""
    try:  # pydantic's own check of one field, as when a model's attribute is assigned
        Car.__pydantic_validator__.validate_assignment(Car.model_construct(), config.SNAKE[name], value)
    except ValidationError as exc:
        error = {**exc.errors(include_url=False)[0], "loc": (None, config.SNAKE[name])}
        raise InputError([from_pydantic(error)]) from None
    column = config.FEATURES.index(name)
    return float(_encode([[value] if k == column else [None] for k in range(len(config.FEATURES))])[0, column])


@dataclass
class Checked:
    """The valid records encoded as a float64 [n, 7] array (NaN = unknown), their input rows, the others' problems."""

    X: np.ndarray
    rows: np.ndarray
    problems: list[Problem]
    count: int

    @property
    def refused_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems if p.row is not None})


def check_records(
    records: list[dict], *, labelled: bool = False, extra: Literal["forbid", "ignore"] = "forbid"
) -> Checked:
    """Validate records (dicts keyed by any accepted name) and encode the valid ones; never raises for bad values."""
    problems: list[Problem] = []
    renamed = [_rename(record, i, extra, labelled, problems) for i, record in enumerate(records)]
    try:
        _ROWS[labelled].validate_python(renamed)
    except ValidationError as exc:
        not_objects = {p.row for p in problems if p.field is None}  # already reported as a whole
        problems += [p for p in map(from_pydantic, exc.errors(include_url=False)) if p.row not in not_objects]
    names = [*config.INPUT_NAMES, *(["mpg"] if labelled else [])]
    rows = _good_rows(len(records), problems)
    return _checked([[renamed[i][name] for i in rows] for name in names], rows, problems, len(records))


def check_columns(columns: dict[str, list]) -> Checked:
    """Cars as columns (name -> list of values) validated column by column; bad columns are named car by car."""
    renames, twice = _key_plan(tuple(columns), "forbid", False)
    named = columns if renames is None else {new: columns[old] for old, new in renames}
    if twice or set(named) != set(config.INPUT_NAMES):
        columns = _lists(columns)
        return check_records([dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)])
    count, problems = len(named[config.INPUT_NAMES[0]]), []
    X = _all_numbers(named)
    if X is not None:  # the usual big request: no per-value work in Python or pydantic
        return Checked(X, np.arange(count), [], count)
    named = _lists(named)
    try:
        _COLUMNS.model_validate(named)
    except ValidationError as exc:  # each error at (column, index): as a record's, at (index, column)
        problems = [from_pydantic({**e, "loc": (e["loc"][1], e["loc"][0])}) for e in exc.errors(include_url=False)]
    rows = _good_rows(count, problems)
    if problems:  # the good rows only: a refused cell may be anything (a list, say)
        return _checked([[named[name][i] for i in rows] for name in config.INPUT_NAMES], rows, problems, count)
    return _checked([named[name] for name in config.INPUT_NAMES], rows, problems, count)  # the columns as they came


# What `_number` and ORIGIN let through as numbers, per input once encoded: lowest, highest, whether whole (from
# the same config as they are).
_LOW, _HIGH, _WHOLE = np.array([
    (*config.BOUNDS[name], name in config.INTEGER_FEATURES) if name != config.ORIGIN
    else (min(config.ORIGINS), max(config.ORIGINS), True)
    for name in config.FEATURES
]).T  # fmt: skip


def _all_numbers(named: dict[str, Sequence]) -> np.ndarray | None:
    """The columns encoded, when every value is a number (an int or a float, or a numeric array) within the bounds,
    checked by numpy all at once; None when any is not (a null, a name, a bool, a value out of bounds...): pydantic
    then checks them and names each problem. A stricter door to the same rules, and faster (tests/test_contract.py
    checks it lets nothing through that pydantic refuses)."""
    columns = [named[name] for name in config.INPUT_NAMES]
    if not all(map(_numeric, columns)):
        return None
    try:
        out = _encode(columns)  # a year of 4 digits made 2: then within the bounds
    except (OverflowError, ValueError):  # an int too big for a float
        return None
    whole = (out == np.floor(out)) | (_WHOLE == 0)
    return out if ((out >= _LOW) & (out <= _HIGH) & whole).all() else None  # NaN is never within


def _numeric(values: Sequence) -> bool:
    if isinstance(values, np.ndarray):
        return values.dtype.kind in "fiu"
    return set(map(type, values)) <= {int, float}  # no bool, text or null; in C, a few microseconds per 1,000


def _lists(columns: dict) -> dict:
    """Arrays (binary tensors, a CSV's numbers) as the lists of values JSON gives."""
    return {key: v.tolist() if isinstance(v, np.ndarray) else v for key, v in columns.items()}


def _checked(columns: list[Sequence], rows: np.ndarray, problems: list[Problem], count: int) -> Checked:
    """The valid rows encoded; a car with no known input (a spreadsheet's empty last row) is refused, not imputed."""
    encoded = _encode(columns)
    empty = np.isnan(encoded[:, : len(config.FEATURES)]).all(axis=1)
    if empty.any():
        problems = problems + [Problem(int(i), None, "knows none of the seven inputs") for i in rows[empty]]
        encoded, rows = encoded[~empty], rows[~empty]
    return Checked(encoded, rows, sorted(dict.fromkeys(problems), key=_order), count)


def _good_rows(count: int, problems: list[Problem]) -> np.ndarray:
    good = np.ones(count, dtype=bool)
    good[[p.row for p in problems if p.row is not None]] = False
    return np.flatnonzero(good)


def _order(problem: Problem) -> tuple[int, int]:
    column = config.COLUMNS.index(problem.field) if problem.field in config.COLUMNS else len(config.COLUMNS)
    return (-1 if problem.row is None else problem.row, column)


def _rename(record: object, row: int, extra: str, labelled: bool, problems: list[Problem]) -> dict:
    if not isinstance(record, dict):
        problems.append(Problem(row, None, f"must be an object of named values, got {type(record).__name__}"))
        return {}
    renames, twice = _key_plan(tuple(record), extra, labelled)
    problems += [Problem(row, name, "is given twice") for name in twice]
    if renames is None:  # the usual case: keys already as the model names them
        return record
    return {new: record[old] for old, new in renames}


# Ours, not pydantic's aliases: AliasChoices takes exact spellings only and, given `Weight` and `weight`
# together, silently keeps one; we accept any letter case and refuse a field given twice (tests/api/test_api.py).
@lru_cache(maxsize=256)
def _key_plan(keys: tuple, extra: str, labelled: bool) -> tuple[tuple | None, tuple]:
    """How to rename a record with these keys (None: as it is) and the fields given twice; cached: cars share keys."""
    renames, seen, twice = [], set(), []
    for key in keys:
        name = field_key(key)
        if name is None or name == "car_name" or (name == "mpg" and not labelled):
            if extra == "forbid":
                renames.append((key, str(key)))  # pydantic reports it as not a known field
            continue
        if name in seen:
            twice.append(config.CANONICAL[name])
        seen.add(name)
        renames.append((key, name))
    identity = len(renames) == len(keys) and all(old == new for old, new in renames)
    return (None if identity else tuple(renames)), tuple(twice)


def _encode(columns: list[Sequence]) -> np.ndarray:
    """Checked columns as float64 [n, k], a column at a time: None is NaN, an origin its code, a year two digits."""
    out = np.empty((len(columns[0]), len(columns)), dtype=np.float64)
    for k, values in enumerate(columns):
        try:
            out[:, k] = np.array(values, dtype=np.float64)
        except ValueError:  # a name: the contract lets text through for Origin only
            out[:, k] = [ORIGIN_NAMES[v.strip().lower()] if isinstance(v, str) else v for v in values]
    year = config.FEATURES.index(config.MODEL_YEAR)
    out[:, year] = np.where(out[:, year] >= 1900, out[:, year] - 1900, out[:, year])
    return out


def check_json(value: object) -> Checked:
    """Cars in any of the three JSON shapes, checked as `check_records` checks them, as columns where they can be."""
    lists = isinstance(value, dict) and value and all(isinstance(v, list | np.ndarray) for v in value.values())
    if lists and len({len(v) for v in value.values()}) == 1 and 0 < len(next(iter(value.values()))) <= MAX_ROWS:
        return check_columns(value)
    value = _lists(value) if isinstance(value, dict) else value
    records = records_from_json(value)
    keys = records[0].keys() if isinstance(records[0], dict) else None
    if keys and all(type(record) is dict and record.keys() == keys for record in records):
        # Cars that all name the same inputs are columns too: pydantic builds no object per car.
        return check_columns({key: [record[key] for record in records] for key in keys})
    return check_records(records, extra="forbid")


def records_from_json(value: object) -> list:
    """The three JSON shapes as records: one car (an object), a list of cars, or columns (an object of lists)."""
    if isinstance(value, dict) and any(isinstance(v, list) for v in value.values()):
        lengths = {key: len(v) if isinstance(v, list) else None for key, v in value.items()}
        if len(set(lengths.values())) > 1:
            detail = ", ".join(f"{key}: {n if n is not None else 'not a list'}" for key, n in lengths.items())
            raise InputError([Problem(None, None, f"columns must be lists of the same length ({detail})")])
        value = [dict(zip(value, row, strict=True)) for row in zip(*value.values(), strict=True)]
    elif isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise InputError([Problem(None, None, "must be a car (an object), a list of cars, or columns of values")])
    if not value:
        raise InputError([Problem(None, None, "has no cars")])
    if len(value) > MAX_ROWS:
        raise InputError([Problem(None, None, f"has {len(value)} cars; at most {MAX_ROWS} at once")])
    return value
