"""The one path every route predicts through (`predict_cars`), and the one error shape every route answers with.

Every dialect's cars are checked by the contract (`api.schemas.check_cars`) and predicted here, so a car gets
the same number from `/predict`, `/invocations` and `/v2/models/mpg/infer`, and is counted and logged once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import orjson
from flask import Response, current_app, make_response, request

from api import observe
from api.schemas import RequestError
from mpg.artifact.store import LoadedModel
from mpg.monitoring.log import Batch
from mpg.prediction import InputWarning, predict_array

V2_PREFIX = "/v2"  # the Open Inference Protocol's errors are {"error": "..."}, with 400 for bad input


@dataclass(frozen=True)
class Served:
    """One request's answers, rounded to 4 decimals (per car, in order) as every route returns them."""

    mpg: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    warnings: list[InputWarning]
    model_version: str


def json_response(body: dict) -> Response:
    """An answer as JSON, its arrays encoded straight from numpy by orjson (10,000 cars' three columns in half
    the time of pydantic_core.to_json on lists, to the same bytes; ad hoc)."""
    return Response(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), mimetype="application/json")


def current_model() -> LoadedModel:
    model = current_app.extensions["model"]
    if model is None:
        raise RequestError(503, f"model not loaded: {current_app.extensions.get('model_error')}")
    return model


def predict_cars(X: np.ndarray) -> Served:
    """Predict validated cars (float64 [n, 7] from the contract), count them and log them."""
    model = current_model()
    result = predict_array(model, X)
    # One rounding for the three columns: per-call overhead is what a one-row request costs.
    mpg, lower, upper = np.round(np.stack([result.mpg, result.lower, result.upper]), 4)
    observe.predicted(len(X), result.warnings)
    current_app.extensions["prediction_log"].record(Batch(
        X=X, predictions=result.mpg, lower=result.lower, upper=result.upper, model_version=model.version,
        route=request.path, source="api", request_id=observe.request_id(), warnings=result.warnings))  # fmt: skip
    return Served(mpg, lower, upper, result.warnings, model.version)


def error_response(status: int, message: str, details: list | None = None) -> Response:
    """`{"error": {"message", "details", "request_id"}}`; under /v2 the protocol's `{"error": "..."}`."""
    if request.path == V2_PREFIX or request.path.startswith(V2_PREFIX + "/"):
        # The message already lists the problems (mpg.problems.problem_lines), as the protocol's one string needs.
        body = {"error": message, "request_id": observe.request_id()}
        status = 400 if status in (415, 422) else status
    else:
        details = [d.to_dict() for d in details or []]
        body = {"error": {"message": message, "details": details, "request_id": observe.request_id()}}
    return make_response(body, status)
