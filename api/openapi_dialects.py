"""OpenAPI paths of the MLflow and Open Inference Protocol dialects and of the operational routes.

Every body schema is built from the contract's `Car` declaration, so what the document
promises is what the routes accept. Two rules JSON Schema cannot state are left to the
text: the columns of a request are all one length, and a v2 tensor's shape matches its data.
"""

from __future__ import annotations

import copy

from pydantic import BaseModel, Field, TypeAdapter

from api import oip
from api.schemas import MAX_BYTES, MAX_ROWS, WarningDetail, request_schema
from mpg import config
from mpg.contract import Car

# The protocol's parameters: names to scalars; binary_data_size (tritonclient's binary tensors) is read.
PARAMETERS = {"anyOf": [{"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
                        {"type": "null"}]}  # fmt: skip


class InvocationsResponse(BaseModel):
    predictions: list[float] = Field(description="predicted MPG, one per car, in order")


class CarPrediction(BaseModel):
    mpg_prediction: float
    mpg_lower: float = Field(description="lower end of the 90% prediction interval")
    mpg_upper: float = Field(description="upper end of the 90% prediction interval")


class InvocationsDetails(BaseModel):
    predictions: list[CarPrediction] = Field(description="per car, in order")
    warnings: list[WarningDetail]
    model_version: str


def _car_fields(nullable: bool) -> dict[str, dict]:
    """Each input's JSON Schema by snake_case name, as the contract declares it (without null if not nullable)."""
    fields = copy.deepcopy(Car.model_json_schema()["properties"])
    if not nullable:
        for spec in fields.values():
            spec["anyOf"] = [branch for branch in spec["anyOf"] if branch.get("type") != "null"]
    return fields


def _text(description: str) -> dict:
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}


def _get(summary: str, operation_id: str, responses: dict, parameters: list | None = None) -> dict:
    operation = {"summary": summary, "operationId": operation_id, "responses": responses}
    return {"get": operation | ({"parameters": parameters} if parameters else {})}


def invocations_body() -> dict:
    """MLflow's four JSON forms, each an object with one key. The schema shows dataframe_split with the canonical
    names in feature order; the route also takes any order and snake_case names (JSON Schema cannot say "any
    order of these")."""
    fields = _car_fields(nullable=True)
    snake = [config.SNAKE[name] for name in config.FEATURES]
    split = {
        "type": "object",
        "required": ["columns", "data"],
        "additionalProperties": False,
        "properties": {
            "columns": {"type": "array", "prefixItems": [{"const": name} for name in config.FEATURES],
                        "minItems": 7, "maxItems": 7, "items": False},
            "data": {"type": "array", "minItems": 1, "maxItems": MAX_ROWS, "items": {
                "type": "array", "prefixItems": [fields[key] for key in snake],
                "minItems": 7, "maxItems": 7, "items": False}},
            "index": {"type": "array"},
        },
    }  # fmt: skip
    cars = request_schema()["anyOf"]
    listing = cars[1]  # a list of snake_case cars
    forms = {"dataframe_split": split, "dataframe_records": listing, "instances": listing,
             "inputs": {"anyOf": cars}}  # fmt: skip
    return {
        "oneOf": [
            {"type": "object", "title": form, "required": [form], "additionalProperties": False,
             "properties": {form: schema}}
            for form, schema in forms.items()
        ]
    }  # fmt: skip


def infer_body() -> dict:
    """The seven named 1-D tensors (the `[n, 7]` tensor `input` is accepted too, and described in words)."""
    fields = _car_fields(nullable=False)
    numbers = sorted(oip.NUMBERS)
    tensors = []
    for name in config.FEATURES:
        key = config.SNAKE[name]
        types = [*numbers, "BYTES"] if name == config.ORIGIN else numbers
        tensors.append({
            "type": "object", "required": ["name", "shape", "datatype", "data"], "additionalProperties": False,
            "properties": {
                "name": {"const": key},
                "shape": {"type": "array", "prefixItems": [{"type": "integer", "minimum": 1, "maximum": MAX_ROWS}],
                          "minItems": 1, "maxItems": 1, "items": False},
                "datatype": {"enum": types},
                "data": {"type": "array", "items": fields[key], "minItems": 1, "maxItems": MAX_ROWS},
                "parameters": PARAMETERS,
            },
        })  # fmt: skip
    output = {"type": "object", "required": ["name"],
              "properties": {"name": {"enum": list(oip.OUTPUTS)}, "parameters": PARAMETERS}}  # fmt: skip
    return {
        "type": "object",
        "required": ["inputs"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": ["string", "null"], "description": "echoed in the answer"},
            "parameters": PARAMETERS,
            "inputs": {"type": "array", "prefixItems": tensors, "minItems": 7, "maxItems": 7, "items": False},
            "outputs": {"anyOf": [{"type": "array", "items": output}, {"type": "null"}],
                        "description": "which outputs to answer (all three when absent)"},
        },
    }  # fmt: skip


def paths(components: dict, errors: dict, json, model_version: str | None = None) -> dict:
    """The paths; `components` collects pydantic's $defs, `errors` the API's error responses by status."""

    def schema(model) -> dict:
        generated = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
        components.update(generated.pop("$defs", {}))
        return generated

    v2_error = json(schema(oip.V2Error), 'bad request: {"error": "..."}')
    v2 = {"400": v2_error, "404": json(schema(oip.V2Error), "no such model or version"),
          "503": json(schema(oip.V2Error), "model not loaded")}  # fmt: skip
    known = {"enum": [model_version]} if model_version else {}
    version = [{"name": "version", "in": "path", "required": True, "schema": {"type": "string", **known},
                "description": "the model version (GET /v2/models/mpg lists it); another is 404"}]  # fmt: skip
    ok = {"description": "the predictions", "content": {"application/json": {"schema": {"oneOf": [
        schema(InvocationsResponse), schema(InvocationsDetails)]}}}}  # fmt: skip
    details = {"name": "details", "in": "query", "required": False, "schema": {"type": "string",
               "enum": ["true", "false"]}, "description": "true: each prediction with its 90% interval, "
               "and the warnings and model version"}  # fmt: skip
    out = {
        "/invocations": {"post": {
            "summary": "MLflow's scoring-server dialect: dataframe_split, dataframe_records, instances, inputs, "
                       "or text/csv with a header row (an empty cell means unknown)",
            "operationId": "invocations",
            "parameters": [details],
            # text/csv is accepted too, and described here in words: no schema can state a CSV's grammar, and a
            # string schema would promise that any text is a valid body.
            "description": "Also `Content-Type: text/csv`: a header row of input names, then one car per line, "
                           "e.g. `" + ",".join(config.FEATURES) + "\\n4,155,93,2500,15,81,3`.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": invocations_body()}}},
            "responses": {"200": ok, **{k: errors[k] for k in ("400", "413", "415", "422", "503")}},
        }},
        "/ping": _get("MLflow's health check: 200 when the model is loaded", "mlflow_ping",
                      {"200": _text("ready"), "503": errors["503"]}),
        "/version": _get("The model version", "version", {"200": _text("model version"), "503": errors["503"]}),
        "/metrics": _get("Prometheus metrics, summed over every worker", "metrics",
                         {"200": _text("Prometheus text format")}),
        "/v2": _get("v2 server metadata", "v2_server", {"200": json(schema(oip.ServerMetadata), "metadata")}),
        "/v2/health/live": _get("v2 liveness", "v2_live", {"200": json(schema(oip.ServerLive), "live")}),
        "/v2/health/ready": _get("v2 readiness", "v2_ready", {"200": json(schema(oip.ServerReady), "ready"),
                                                              "503": json(schema(oip.ServerReady), "not ready")}),
    }  # fmt: skip
    for suffix, parameters in (("", None), ("/versions/{version}", version)):
        base = f"/v2/models/{oip.NAME}{suffix}"
        tag = "_version" if suffix else ""
        out[base] = _get("v2 model metadata: inputs and outputs as name, datatype and shape", f"v2_metadata{tag}",
                         {"200": json(schema(oip.ModelMetadata), "metadata"), **v2}, parameters)  # fmt: skip
        out[f"{base}/ready"] = _get("v2 model readiness", f"v2_model_ready{tag}",
                                    {"200": json(schema(oip.ModelReady), "ready"), **v2}, parameters)  # fmt: skip
        out[f"{base}/infer"] = {"post": {
            "summary": "v2 inference: seven 1-D tensors named by the snake_case fields (any integer or float "
                       "datatype, origin also BYTES), or one [n, 7] FP64 tensor named input; outputs mpg_prediction, "
                       "mpg_lower, mpg_upper (FP64, [n]); binary tensor data accepted",
            "operationId": f"v2_infer{tag}",
            **({"parameters": parameters} if parameters else {}),
            "requestBody": {"required": True, "content": {"application/json": {"schema": infer_body()}}},
            "responses": {"200": json(schema(oip.InferenceResponse), "the requested outputs"), **v2,
                          "413": json(schema(oip.V2Error), f"body over {MAX_BYTES // (1024 * 1024)} MiB")},
        }}  # fmt: skip
    return out
