"""The API's payloads: requests are checked by the input contract (mpg.contract); answers are pydantic models."""

from __future__ import annotations

import codecs
import contextlib
import copy
from collections.abc import Callable

import numpy as np
import orjson
import pydantic_core
import simdjson
from pydantic import BaseModel, Field

from mpg import config
from mpg.contract import MAX_ROWS, Car, check_json
from mpg.problems import InputError, Problem, problem_lines

MAX_EXPLAIN_ROWS = 100  # each explained vehicle costs 128 x 16 model rows
MAX_BYTES = 8 * 1024 * 1024  # well above any 10,000-vehicle body, so row limits are reported as such
# Bodies shorter than this are read the usual way: below some 20 cars simdjson's reading costs more than it saves
# (ad hoc, in process: one car on v2 infer 45 microseconds read by simdjson against 30; at 20 cars they are level).
ARRAY_BYTES = 1024
# Bodies up to this size (10,000 cars: 0.25-0.45 MB) are read by one parser every request reuses (a new one: 1.5 ms
# against 0.5 to read 70,000 numbers, ad hoc); it keeps some 16 times the biggest body it has read, which this bounds.
REUSED_BYTES = 512 * 1024
_PARSER = simdjson.Parser(max_capacity=REUSED_BYTES)


class RequestError(Exception):
    """A request that cannot be answered: HTTP status, message and per-value details."""

    def __init__(self, status: int, message: str, details: list[Problem] | None = None):
        super().__init__(message)
        self.status, self.message, self.details = status, message, details or []


class Detail(BaseModel):
    row: int | None = Field(description="0-based index of the vehicle, or null for the whole request")
    field: str | None = Field(description="the input's canonical name (`Model Year`), or a key as sent")
    problem: str


class WarningDetail(Detail):
    kind: str = Field(description="`extrapolation` (outside the training range) or `unknown` (null, imputed)")


class ErrorBody(BaseModel):
    message: str
    details: list[Detail]
    request_id: str = Field(description="the request's ID (also in the X-Request-ID header), for the logs")


class ErrorResponse(BaseModel):
    error: ErrorBody


class PredictResponse(BaseModel):
    mpg_prediction: list[float] = Field(description="predicted miles per US gallon, one per vehicle, in order")
    mpg_lower: list[float] = Field(description="lower end of the 90% prediction interval, per vehicle")
    mpg_upper: list[float] = Field(description="upper end of the 90% prediction interval, per vehicle")
    model_version: str = Field(description="first 12 hex digits of model.onnx's sha256")
    warnings: list[WarningDetail] = Field(
        description="per vehicle and input: outside the training range (extrapolated) or unknown (imputed)"
    )
    contributions: list[dict[str, float]] | None = Field(
        None,
        description="with ?explain=true: per vehicle, each input's Shapley contribution (MPG); "
        "they add up to mpg_prediction - baseline",
    )
    baseline: list[float] | None = Field(
        None, description="with ?explain=true: per vehicle, the reference cars' average prediction"
    )


def parse_flag(name: str, value: str | None) -> bool:
    """A boolean query parameter (`explain`, `details`): absent, true or false."""
    if value is None or value == "false":
        return False
    if value == "true":
        return True
    raise RequestError(422, f"{name} must be true or false, got {value!r}", [Problem(None, name, "not a boolean")])


def parse_json(body: bytes) -> object:
    """orjson's reading (10,000 cars' columns in 0.7 ms against pydantic_core's 1.2, ad hoc); what it refuses,
    pydantic_core's: it reads NaN and Infinity, which the contract names (422), and says where bad JSON goes wrong."""
    with contextlib.suppress(orjson.JSONDecodeError):
        return orjson.loads(body)
    try:
        return pydantic_core.from_json(body)
    except ValueError as exc:
        raise RequestError(400, "the body is not valid JSON", [Problem(None, None, str(exc))]) from None


def number_array(node: object) -> np.ndarray | None:
    """An array of json_document's of numbers only (at any depth), flat as float64 straight from the text: no Python
    object per number. None for anything else (a null, a bool, text...)."""
    try:
        return np.frombuffer(node.as_buffer(of_type="d"))
    except (AttributeError, TypeError, ValueError, RuntimeError):
        return None


def json_document(body: bytes) -> simdjson.Object | simdjson.Array:
    """simdjson's lazy reading of a JSON body; ValueError for what it cannot read, for a UTF-8 byte order mark, which
    it reads but orjson and pydantic refuse, and for a body under ARRAY_BYTES, which the usual reading does faster.
    While the document lives, the shared parser is not reused: drop it before the request ends."""
    if len(body) < ARRAY_BYTES:
        raise ValueError("a small body: read the usual way")
    if body.startswith(codecs.BOM_UTF8):
        raise ValueError("a UTF-8 byte order mark")
    try:
        return (_PARSER if len(body) <= REUSED_BYTES else simdjson.Parser()).parse(body)
    except RuntimeError as exc:  # a document of it still in use (another thread's request); or the body's own error
        if "re-use" not in str(exc):
            raise
    return simdjson.Parser().parse(body)


Found = tuple[dict[str, np.ndarray], int]  # cars as columns of numbers, and how many arrays their body holds


def read_cars(body: bytes, find: Callable[[bytes], Found | None], shape: Callable = lambda v: v) -> np.ndarray:
    """The cars of a JSON body, as `check_cars(shape(parse_json(body)))` checks them; read straight to arrays when
    `find` reads them as columns of numbers (json_document) and the contract takes every car: 10,000 cars in 0.6 ms
    against 2.7 (ad hoc). `find` says how many arrays the body holds: one nested where a number goes (simdjson
    flattens it) or a "[" in a name, and any refusal, are left to the usual reading, which words it as before."""
    with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError, RuntimeError, InputError):
        found = find(body)
        if found is not None and body.count(b"[") == found[1] and not (checked := check_json(found[0])).problems:
            return checked.X
    return check_cars(shape(parse_json(body)))


def object_columns(body: bytes) -> Found | None:
    """An object of arrays of numbers: the contract's columns (`POST /predict`), and one array each."""
    if not body.lstrip().startswith(b"{"):  # a list of cars: not read twice
        return None
    document = json_document(body)
    keys = list(document.keys())
    columns = {key: number_array(document[key]) for key in keys}
    if len(columns) < len(keys) or any(values is None for values in columns.values()):
        return None  # a key given twice (the usual reading keeps its last value), or a column not of numbers
    return columns, len(columns)


def check_cars(value: object) -> np.ndarray:
    """Cars in any of the contract's three JSON shapes, checked all or nothing: float64 [n, 7], or 422 listing
    every problem of every bad vehicle. Every route's input goes through here."""
    try:
        checked = check_json(value)
    except InputError as exc:
        raise RequestError(422, f"invalid input: {exc}", exc.problems) from None
    if checked.problems:
        bad, listed = len(checked.refused_rows), "; ".join(problem_lines(checked.problems))
        raise RequestError(422, f"invalid input ({bad} of {checked.count} vehicles): {listed}", checked.problems)
    return checked.X


def request_schema() -> dict:
    """JSON Schema of a /predict body, generated from the contract's Car: a car, a list, or columns;
    snake_case or canonical keys (any letter case is accepted, which JSON Schema cannot say)."""
    snake = Car.model_json_schema()
    canonical = copy.deepcopy(snake)
    canonical["title"] = "Car (canonical names)"
    canonical["properties"] = {config.CANONICAL[key]: spec for key, spec in snake["properties"].items()}
    canonical["required"] = [config.CANONICAL[key] for key in snake["required"]]
    shapes = []
    for car in (snake, canonical):
        columns = copy.deepcopy(car)
        columns["title"] = f"Columns of {car['title']}"
        columns["properties"] = {
            key: {"type": "array", "items": spec, "minItems": 1, "maxItems": MAX_ROWS}
            for key, spec in car["properties"].items()
        }
        listing = {"type": "array", "items": car, "minItems": 1, "maxItems": MAX_ROWS}
        listing["title"] = f"List of {car['title']}"
        shapes += [car, listing, columns]
    return {"anyOf": shapes}
