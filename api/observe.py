"""What an operator sees of each request: its ID, Prometheus metrics, an access-log line, and CORS.

`X-Request-ID` is the caller's (Heroku's router sets one) if it looks sane, else a new one. The access log is one
logfmt line per request on stdout, Heroku's convention. Under gunicorn `PROMETHEUS_MULTIPROC_DIR` is set
(gunicorn.conf.py), so a scrape adds up every worker's counts, dead ones included. Probes are not counted or logged."""

from __future__ import annotations

import collections
import os
import re
import sys
import time
import uuid

from flask import Flask, Response, current_app, g, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

SANE_ID = re.compile(r"[A-Za-z0-9+/=._:-]{1,200}")
PROBES = frozenset({
    "/metrics", "/health", "/test", "/ping", "/v2/health/live", "/v2/health/ready",
    "/v2/models/mpg/ready", "/v2/models/mpg/versions/<version>/ready",
})  # fmt: skip
OFF = {"off", "0", "false", "no"}

REQUESTS = Counter("mpg_http_requests", "Requests answered, by route and status", ["method", "route", "status"])
DURATION = Histogram(
    "mpg_http_request_duration_seconds", "Time in the app per request (parse, validate, predict, encode), by route",
    ["route"], buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0))  # fmt: skip
ROWS = Counter("mpg_rows_predicted", "Cars predicted, whichever route answered")
WARNINGS = Counter("mpg_prediction_warnings", "Warnings on predicted cars, by kind", ["kind"])
MODEL_INFO = Gauge("mpg_model_info", "The model served (always 1)", ["version"], multiprocess_mode="max")
for _kind in ("extrapolation", "unknown"):
    WARNINGS.labels(kind=_kind)  # both series exist from the start, at 0


def install(app: Flask) -> None:
    """Request IDs, metrics, the access log and (when origins are listed) CORS, on every route."""
    app.before_request(_begin)
    app.after_request(_end)
    app.add_url_rule("/metrics", "metrics", metrics)
    if origins := app.config["CORS_ORIGINS"]:
        from flask_cors import CORS

        CORS(app, origins=origins, expose_headers=["X-Request-ID", "Server-Timing"])


def settings(environ) -> dict:
    """ACCESS_LOG, METRICS and CORS_ORIGINS from the environment (METRICS=off is for the benchmark of its cost)."""
    switches = {name: environ.get(name, "on").strip().lower() not in OFF for name in ("ACCESS_LOG", "METRICS")}
    return {**switches, "CORS_ORIGINS": [o.strip() for o in environ.get("CORS_ORIGINS", "").split(",") if o.strip()]}


def request_id() -> str:
    return g.get("request_id") or "-"


def predicted(rows: int, warnings) -> None:
    """Count a request's cars and their warnings (called from the one prediction path)."""
    g.rows = rows
    if not current_app.config["METRICS"]:
        return
    ROWS.inc(rows)
    # One write per kind, not one per car.
    for kind, count in collections.Counter(warning.kind for warning in warnings).items():
        WARNINGS.labels(kind=kind).inc(count)


def model_served(version: str) -> None:
    MODEL_INFO.labels(version=version).set(1)


def metrics() -> Response:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()  # a fresh one per scrape, as prometheus_client's multiprocess docs say
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


def _begin() -> None:
    g.started = time.perf_counter()
    sent = request.headers.get("X-Request-ID")
    g.request_id = sent if sent and SANE_ID.fullmatch(sent) else uuid.uuid4().hex


def _end(response: Response) -> Response:
    response.headers["X-Request-ID"] = request_id()
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"  # paths would be unbounded
    if route in PROBES:
        return response
    seconds = time.perf_counter() - g.get("started", time.perf_counter())
    # Time in the app (parse, validate, predict, encode), for callers and benchmarks: the standard header.
    response.headers["Server-Timing"] = f"app;dur={seconds * 1000:.3f}"
    if current_app.config["METRICS"]:
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        DURATION.labels(route).observe(seconds)
    if current_app.config["ACCESS_LOG"]:
        # print-style, not a logging handler: the line goes to whatever stdout is now, in one write.
        sys.stdout.write(
            f"request_id={request_id()} method={request.method} route={route} status={response.status_code} "
            f"rows={g.get('rows', 0)} duration_ms={seconds * 1000:.3f}\n"
        )
        sys.stdout.flush()
    return response
