"""Request and response schemas (pydantic): they validate /predict and generate /openapi.json."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    create_model,
)

from mpg import config
from mpg.schema import Problem

MAX_ROWS = 10_000
MAX_EXPLAIN_ROWS = 100  # each explained vehicle costs 128 x 16 model rows
MAX_BYTES = 8 * 1024 * 1024  # well above any 10,000-vehicle body, so row limits are reported as such
SNAKE = {name: config.ALIASES_BY_NAME[name] for name in config.FEATURES}
STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class RequestError(Exception):
    """A request that cannot be answered: HTTP status, message and per-value details."""

    def __init__(self, status: int, message: str, details: list[Problem] | None = None):
        super().__init__(message)
        self.status, self.message, self.details = status, message, details or []


def _no_bool(value: Any) -> Any:
    # JSON true == 1 in Python; a boolean is never a valid origin.
    if isinstance(value, bool):
        raise ValueError("must be 1, 2, 3, 'USA', 'Europe' or 'Japan', not a boolean")
    return value


def _number(name: str):
    low, high = config.BOUNDS[name]
    step = {"multiple_of": 1} if name in config.INTEGER_FEATURES else {}
    doc = f"{config.UNITS[name]}; {low:g} to {high:g}"
    if name == config.MODEL_YEAR:
        two = Annotated[float, Field(ge=low, le=high, **step)]
        four = Annotated[float, Field(ge=1900 + low, le=1900 + high, **step)]
        return Annotated[
            two | four, Field(description=f"model year, 2 or 4 digits ({low:g}-{high:g} or 19{low:g}-19{high:g})")
        ]
    return Annotated[float, Field(ge=low, le=high, description=doc, **step)]


ORIGIN = Annotated[
    Literal[1, 2, 3] | Literal["USA", "Europe", "Japan"],
    BeforeValidator(_no_bool),
    Field(description="1 = USA, 2 = Europe, 3 = Japan"),
]


def _field_types() -> dict[str, Any]:
    return {name: _number(name) for name in config.NUMERIC_FEATURES} | {config.ORIGIN: ORIGIN}


def _models(suffix: str, keys: dict[str, str]) -> tuple[type[BaseModel], type[BaseModel]]:
    types = _field_types()
    vehicle = create_model(f"Vehicle{suffix}", __config__=STRICT, **{keys[n]: (types[n], ...) for n in config.FEATURES})
    columns = create_model(
        f"Columns{suffix}",
        __config__=STRICT,
        **{
            keys[n]: (Annotated[list[types[n]], Field(min_length=1, max_length=MAX_ROWS)], ...) for n in config.FEATURES
        },
    )
    return vehicle, columns


Vehicle, Columns = _models("", {n: n for n in config.FEATURES})
VehicleSnake, ColumnsSnake = _models("Snake", SNAKE)


def _key_style(value: Any) -> str:
    return "snake" if isinstance(value, dict) and not any(k in value for k in config.FEATURES) else "canonical"


def _shape(value: Any) -> str | None:
    if isinstance(value, list):
        return "batch"
    if isinstance(value, dict):
        return "columns" if any(isinstance(v, list) for v in value.values()) else "vehicle"
    return None


AnyVehicle = Annotated[
    Annotated[Vehicle, Tag("canonical")] | Annotated[VehicleSnake, Tag("snake")], Discriminator(_key_style)
]
AnyColumns = Annotated[
    Annotated[Columns, Tag("canonical")] | Annotated[ColumnsSnake, Tag("snake")], Discriminator(_key_style)
]
Batch = Annotated[list[AnyVehicle], Field(min_length=1, max_length=MAX_ROWS)]
PredictRequest = Annotated[
    Annotated[AnyVehicle, Tag("vehicle")] | Annotated[Batch, Tag("batch")] | Annotated[AnyColumns, Tag("columns")],
    Discriminator(
        _shape,
        custom_error_type="invalid_body",
        custom_error_message="the body must be a vehicle object, a list of vehicle objects, or columns of values",
    ),
]
REQUEST = TypeAdapter(PredictRequest)


class Detail(BaseModel):
    row: int | None = Field(description="0-based index of the vehicle, or null for the whole request")
    field: str | None
    problem: str


class ErrorBody(BaseModel):
    message: str
    details: list[Detail]


class ErrorResponse(BaseModel):
    error: ErrorBody


class PredictResponse(BaseModel):
    mpg_prediction: list[float] = Field(description="predicted miles per US gallon, one per vehicle, in order")
    mpg_lower: list[float] = Field(description="lower end of the 90% prediction interval, per vehicle")
    mpg_upper: list[float] = Field(description="upper end of the 90% prediction interval, per vehicle")
    model_version: str = Field(description="first 12 hex digits of the model file's sha256")
    warnings: list[Detail] = Field(description="inputs outside the training range: predicted, but extrapolated")
    contributions: list[dict[str, float]] | None = Field(
        None,
        description="with ?explain=true: per vehicle, each input's Shapley contribution (MPG); "
        "they add up to mpg_prediction - baseline",
    )
    baseline: list[float] | None = Field(
        None, description="with ?explain=true: per vehicle, the reference cars' average prediction"
    )


def parse_explain(value: str | None) -> bool:
    """The `explain` query parameter: absent, true or false."""
    if value is None or value == "false":
        return False
    if value == "true":
        return True
    raise RequestError(
        422, f"explain must be true or false, got {value!r}", [Problem(None, "explain", "not a boolean")]
    )


def _canonical(key: str) -> str:
    return next((name for name, snake in SNAKE.items() if snake == key), key)


def _problem(error: dict) -> Problem:
    loc = [part for part in error["loc"] if part not in {"vehicle", "batch", "columns", "canonical", "snake"}]
    loc = [part for part in loc if not (isinstance(part, str) and part.startswith(("literal[", "constrained-float")))]
    row = next((part for part in loc if isinstance(part, int)), None)
    kind, message = error["type"], error["msg"]
    name = next((part for part in loc if isinstance(part, str)), None)
    field = name if kind == "extra_forbidden" or name is None else _canonical(name)  # unknown keys: as sent
    if kind == "extra_forbidden":
        message = "is not a known field (use either the canonical names or their snake_case forms, not both)"
    elif kind == "literal_error" and field == config.ORIGIN:  # one message for both branches of the union
        message = f"must be 1, 2, 3, 'USA', 'Europe' or 'Japan', got {error['input']!r}"[:200]
    elif kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif kind == "missing":
        message = "is missing"
    elif "input" in error and kind not in {"invalid_body"}:
        message = f"{message}, got {error['input']!r}"[:200]
    return Problem(row, field, message)


def parse_request(body: bytes) -> np.ndarray:
    """Parse and validate a /predict body (JSON bytes) in one pass; the vehicles as a float64 [n, 7] array.

    Origin comes back as its code, years as 2 digits.
    """
    try:
        parsed = REQUEST.validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if errors[0]["type"] == "json_invalid":
            raise RequestError(400, "the body is not valid JSON", [Problem(None, None, errors[0]["msg"])]) from None
        too_long = next((e for e in errors if e["type"] == "too_long" and e["loc"] == ("batch",)), None)
        if too_long is not None:  # one message for the batch, not one per vehicle
            count = too_long["ctx"]["actual_length"]
            raise RequestError(422, f"at most {MAX_ROWS} vehicles per request, got {count}") from None
        problems = [_problem(e) for e in errors]
        unique = list(dict.fromkeys(problems))[:100]
        raise RequestError(422, "invalid input: " + _summary(unique[0]), unique) from None
    if isinstance(parsed, list):
        columns = [
            [getattr(v, SNAKE[n] if isinstance(v, VehicleSnake) else n) for v in parsed] for n in config.FEATURES
        ]
        return _encode(columns)
    if isinstance(parsed, Columns | ColumnsSnake):
        keys = SNAKE if isinstance(parsed, ColumnsSnake) else {n: n for n in config.FEATURES}
        columns = [getattr(parsed, keys[n]) for n in config.FEATURES]
        lengths = {n: len(c) for n, c in zip(config.FEATURES, columns, strict=True)}
        if len(set(lengths.values())) > 1:
            detail = ", ".join(f"{n}: {k}" for n, k in lengths.items())
            raise RequestError(422, f"columns have unequal lengths ({detail})", [Problem(None, None, detail)])
        return _encode(columns)
    keys = SNAKE if isinstance(parsed, VehicleSnake) else {n: n for n in config.FEATURES}
    return _encode([[getattr(parsed, keys[n])] for n in config.FEATURES])


_ORIGIN, _YEAR = config.FEATURES.index(config.ORIGIN), config.FEATURES.index(config.MODEL_YEAR)


def _encode(columns: list[list]) -> np.ndarray:
    """Validated columns (feature order) to a float64 [n, 7] array: Origin as its code, years as 2 digits."""
    X = np.empty((len(columns[0]), len(columns)), dtype=np.float64)
    for i, values in enumerate(columns):
        X[:, i] = [config.ORIGIN_CODES.get(v, v) for v in values] if i == _ORIGIN else values
    X[:, _YEAR] = np.where(X[:, _YEAR] >= 1900, X[:, _YEAR] - 1900, X[:, _YEAR])  # 1976 means 76
    return X


def _summary(problem: Problem) -> str:
    where = ", ".join(p for p in (f"row {problem.row}" if problem.row is not None else "", problem.field or "") if p)
    return f"{where}: {problem.problem}" if where else problem.problem
