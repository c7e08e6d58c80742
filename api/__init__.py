"""The JSON prediction API: `create_app(model=None, config=None)`; served by `gunicorn api.wsgi:app`.

Three dialects over one prediction path (api.serving): the tutorial's `/predict`, MLflow's `/invocations`
(api.invocations) and the Open Inference Protocol's `/v2` (api.oip); api.observe adds what an operator sees."""

from __future__ import annotations

import logging
import os

import numpy as np
from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from api import invocations, observe, oip
from api.openapi import docs_page, openapi_document
from api.schemas import MAX_BYTES, MAX_EXPLAIN_ROWS, RequestError, object_columns, parse_flag, read_cars
from api.serving import current_model, error_response, json_response, predict_cars
from mpg.artifact.store import LoadedModel, ModelLoadError, load_model, served_directory
from mpg.contract import MAX_ROWS
from mpg.insight import explain as explanations
from mpg.monitoring.log import PredictionLog

PING = "Pinging Model Application!!"
log = logging.getLogger(__name__)


def create_app(
    model: LoadedModel | None = None, config: dict | None = None, prediction_log: PredictionLog | None = None
) -> Flask:
    """The API around a model (the committed one by default), loaded once per process; settings from the environment."""
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BYTES, MODEL_DIR=served_directory(os.environ), **observe.settings(os.environ)
    )
    app.config.update(config or {})
    if model is None:
        try:
            model = load_model(app.config["MODEL_DIR"])
        except ModelLoadError as exc:
            # Serve /health as 503 with the reason rather than crash-looping without one.
            log.error("model not loaded: %s", exc)
            app.extensions["model_error"] = str(exc)
    app.extensions["model"] = model
    # Closed by gunicorn's worker_exit hook (gunicorn.conf.py), and at interpreter exit.
    app.extensions["prediction_log"] = prediction_log or PredictionLog.from_env(os.environ)
    # Reference cars for explanations, shipped in the model card (drawn from the data it was trained on).
    app.extensions["background"] = np.asarray(model.card.background) if model else None
    app.extensions["openapi"] = openapi_document(model)
    if model is not None:
        observe.model_served(model.version)
    observe.install(app)
    _register_routes(app)
    app.register_blueprint(invocations.mlflow)
    app.register_blueprint(oip.v2)
    _register_errors(app)
    return app


def _register_routes(app: Flask) -> None:
    @app.get("/test")
    def ping():
        return Response(PING, mimetype="text/plain")

    @app.get("/health")
    def health():
        model = current_model()
        value = float(model.compiled.predict(np.array([[4, 100, 80, 2500, 15, 76, 1]], dtype=np.float64))[0])
        if not np.isfinite(value):
            raise RequestError(503, "model answered a non-finite value")
        return {"status": "ok", "model_version": model.version}

    @app.get("/model")
    def model_info():
        model = current_model()
        shown = {"model", "model_sha256", "onnx_sha256", "trained_at", "versions", "metrics", "inputs",
                 "leaderboard", "importances"}  # fmt: skip
        card = model.card.model_dump(mode="json", include=shown)
        return {**card, "model_version": model.version, "limits": {"max_rows": MAX_ROWS, "max_bytes": MAX_BYTES}}

    @app.post("/predict")
    def predict():
        current_model()
        if not request.is_json:
            raise RequestError(415, "send the body as JSON with Content-Type: application/json")
        explain = parse_flag("explain", request.args.get("explain"))
        X = read_cars(request.get_data(cache=False), object_columns)
        if explain and len(X) > MAX_EXPLAIN_ROWS:
            raise RequestError(422, f"explain=true takes at most {MAX_EXPLAIN_ROWS} vehicles, got {len(X)}")
        served = predict_cars(X)
        body = {"mpg_prediction": served.mpg, "mpg_lower": served.lower, "mpg_upper": served.upper,
                "model_version": served.model_version, "warnings": [w.to_dict() for w in served.warnings]}  # fmt: skip
        if explain:
            model, background = current_model(), current_app.extensions["background"]
            explained = [explanations.contributions(model, row, background) for row in X]
            body["contributions"] = [{k: round(v, 6) for k, v in phi.items()} for phi, _ in explained]
            body["baseline"] = [round(baseline, 6) for _, baseline in explained]
        return json_response(body)

    @app.get("/openapi.json")
    def openapi():
        return current_app.extensions["openapi"]

    @app.get("/docs")
    def docs():
        return Response(docs_page(current_app.extensions["openapi"]), mimetype="text/html")

    @app.get("/")
    def index():
        return {
            "name": "mpg", "docs": "/docs", "openapi": "/openapi.json", "predict": "POST /predict",
            "mlflow": "POST /invocations", "open_inference_protocol": "/v2", "metrics": "/metrics",
        }  # fmt: skip


def _register_errors(app: Flask) -> None:
    @app.errorhandler(RequestError)
    def request_error(exc: RequestError):
        return error_response(exc.status, exc.message, exc.details)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge):
        # Werkzeug's own text names neither limit; a caller needs both to know how to split the batch.
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return error_response(
            413,
            f"the body is over {limit / 2**20:g} MiB ({limit:,} bytes), the most a request may send; a request "
            f"also takes at most {MAX_ROWS:,} cars: send the cars in smaller requests",
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # JSON instead of Werkzeug's HTML, keeping its headers (Allow on 405).
        response = error_response(exc.code or 500, exc.description or exc.name)
        for key, value in exc.get_response().headers.items():
            if key.lower() not in {"content-type", "content-length"}:
                response.headers[key] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")  # the traceback goes to the log, never to the client
        return error_response(500, "internal error")
