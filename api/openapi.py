"""The OpenAPI 3.1 document, generated from the same pydantic schemas that validate requests, and a docs page."""

from __future__ import annotations

import html
import json
import re

import numpy as np

from api.openapi_dialects import flag, get, json_content, schema_of, text_content
from api.openapi_dialects import paths as dialect_paths
from api.schemas import MAX_BYTES, MAX_EXPLAIN_ROWS, ErrorResponse, PredictResponse, check_cars, request_schema
from mpg import __version__, config
from mpg.contract import MAX_ROWS
from mpg.prediction import predict_array

TUTORIAL_EXAMPLE = {"Cylinders": [4, 6, 8], "Displacement": [155.0, 160.0, 165.5], "Horsepower": [93.0, 130.0, 98.0],
                    "Weight": [2500.0, 3150.0, 2600.0], "Acceleration": [15.0, 14.0, 16.0], "Model Year": [81, 80, 78],
                    "Origin": [3, 2, 1]}  # fmt: skip
ONE_EXAMPLE = {k: v[0] for k, v in TUTORIAL_EXAMPLE.items()}
ERROR = {"error": {"message": "...", "details": [{"row": 0, "field": "Weight", "problem": "..."}]}}
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .6rem;overflow-wrap:anywhere}"
    "pre{background:#f5f5f5;padding:1rem;white-space:pre-wrap;overflow-wrap:anywhere}"  # wrapped, not cut off
)


def openapi_document(model=None) -> dict:
    components: dict = {}
    ok = schema_of(PredictResponse, components)
    error = schema_of(ErrorResponse, components)
    errors = {
        "400": json_content(error, "malformed JSON"),
        "413": json_content(error, f"body over {MAX_BYTES // (1024 * 1024)} MiB"),
        "415": json_content(error, "body is not sent as application/json"),
        "422": json_content(error, f"invalid values, more than {MAX_ROWS} vehicles (or {MAX_EXPLAIN_ROWS} with "
                                   "explain), or a bad explain value; each detail names row, field, problem"),
        "503": json_content(error, "model not loaded"),
    }  # fmt: skip
    description = (
        "Predicts a car's fuel efficiency (miles per US gallon) from seven attributes. "
        "Send one vehicle object, a list of them, or the tutorial's columnar form (every column the same length). "
        "Keys are the canonical names (`Model Year`) or snake_case (`model_year`), in any letter case; "
        "`null` means unknown (predicted with the training value, and a warning). "
        f"Bounds are physically plausible values; inside them but outside the training range a value is predicted "
        f"with a warning. Limits: {MAX_ROWS} vehicles and {MAX_BYTES // (1024 * 1024)} MiB per request."
    )
    predicted = json_content(ok, "one prediction per vehicle, in order")
    if model is not None:  # the loaded model's own figure and example answer
        description += f" Held-out test RMSE {model.card.metrics.test_rmse:.2f} MPG."
        predicted["content"]["application/json"]["example"] = example_answer(model)
    examples = {"tutorial columns": {"value": TUTORIAL_EXAMPLE}, "one vehicle": {"value": ONE_EXAMPLE},
                "list of vehicles": {"value": [ONE_EXAMPLE, {**ONE_EXAMPLE, "Origin": "USA"}]}}  # fmt: skip
    simple = {"type": "object"}
    paths = {
        "/predict": {"post": {
            "summary": "Predict MPG for one or more vehicles",
            "operationId": "predict",
            "parameters": [flag("explain", f"add contributions and baseline per vehicle (at most {MAX_EXPLAIN_ROWS})")],
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": request_schema(), "examples": examples}}},
            "responses": {"200": predicted, **errors},
        }},
        "/health": get("200 when the model is loaded and answers", "health",
                       {"200": json_content(simple, "healthy"), "503": errors["503"]}),
        "/model": get("Model metadata: version, metrics, input schema with ranges and origin codes", "model",
                      {"200": json_content(simple, "metadata"), "503": errors["503"]}),
        "/test": get("The tutorial's ping", "ping", {"200": text_content("ping")}),
        "/": get("Where things are", "index", {"200": json_content(simple, "links")}),
        "/openapi.json": get("This document", "openapi", {"200": json_content(simple, "OpenAPI 3.1")}),
        "/docs": get("This API described for people", "docs", {"200": text_content("HTML", "text/html")}),
        **dialect_paths(components, errors, model.version if model is not None else None),
    }  # fmt: skip
    info = {"title": "mpg prediction API", "version": __version__, "description": description}
    return {"openapi": "3.1.0", "info": info, "paths": paths, "components": {"schemas": components}}


def example_answer(model) -> dict:
    result = predict_array(model, check_cars(TUTORIAL_EXAMPLE))
    mpg, lower, upper = np.round([result.mpg, result.lower, result.upper], 4).tolist()
    return {"mpg_prediction": mpg, "mpg_lower": lower, "mpg_upper": upper,
            "model_version": model.version, "warnings": []}  # fmt: skip


def _prose(text: str) -> str:
    """Text written for the document (Markdown `code` spans) as HTML."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def docs_page(document: dict) -> str:
    """A self-contained HTML page (no external scripts) describing the API."""
    rows = []
    for name in config.FEATURES:
        low_high = config.BOUNDS.get(name)
        bounds = f"{low_high[0]:g} to {low_high[1]:g}" if low_high else "1, 2, 3 or USA, Europe, Japan"
        rows.append(f"<tr><td><code>{html.escape(name)}</code></td><td><code>{config.SNAKE[name]}</code></td>"
                    f"<td>{html.escape(config.UNITS[name])}</td><td>{bounds}</td></tr>")  # fmt: skip
    computed = document["paths"]["/predict"]["post"]["responses"]["200"]["content"]["application/json"].get("example")
    answer = f"<p>Answer: <code>{html.escape(json.dumps(computed))}</code>.</p>" if computed else ""
    paths = "".join(f"<li><code>{method.upper()} {html.escape(path)}</code>: {_prose(op['summary'])}</li>"
                    for path, ops in document["paths"].items() for method, op in ops.items())  # fmt: skip
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(document["info"]["title"])}</title>
<style>{STYLE}</style>
</head><body>
<h1>{html.escape(document["info"]["title"])} <small>{html.escape(document["info"]["version"])}</small></h1>
<p>{_prose(document["info"]["description"])}</p>
<h2>Endpoints</h2><ul>{paths}</ul>
<h2>Inputs</h2>
<table><tr><th>field</th><th>snake_case</th><th>unit</th><th>accepted</th></tr>{"".join(rows)}</table>
<h2>Example</h2>
<pre>curl -s -X POST http://localhost:8000/predict -H 'Content-Type: application/json' \\
  -d '{html.escape(json.dumps(TUTORIAL_EXAMPLE))}'</pre>
{answer}
<p>The same car through MLflow's dialect (add <code>?details=true</code> for the interval and warnings):</p>
<pre>curl -s -X POST http://localhost:8000/invocations -H 'Content-Type: application/json' \\
  -d '{html.escape(json.dumps({"dataframe_records": [ONE_EXAMPLE]}))}'</pre>
<p>And through the Open Inference Protocol (v2): <code>POST /v2/models/mpg/infer</code> with seven 1-D tensors
named by the snake_case fields, or one [n, 7] FP64 tensor named <code>input</code>.</p>
<p>Errors: <code>{html.escape(json.dumps(ERROR))}</code>.</p>
</body></html>"""
