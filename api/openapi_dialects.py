"""OpenAPI paths of the MLflow and Open Inference Protocol dialects and of the operational routes, and helpers.

Body schemas are built from the contract's `Car`, so the document promises what the routes accept. JSON Schema
cannot say that columns are all one length, or that a v2 tensor's shape matches its data: the text says it."""

from __future__ import annotations

import copy

from pydantic import BaseModel, Field, TypeAdapter

from api import oip
from api.schemas import MAX_BYTES, MAX_ROWS, WarningDetail, request_schema
from mpg import config
from mpg.contract import Car

REF = "#/components/schemas/{model}"
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


def schema_of(model: type, components: dict) -> dict:
    """A pydantic model's JSON Schema, its $defs moved to `components` (the document's shared schemas)."""
    schema = TypeAdapter(model).json_schema(ref_template=REF)
    components.update(schema.pop("$defs", {}))
    return schema


def json_content(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def text_content(description: str, media_type: str = "text/plain") -> dict:
    return {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}


def get(summary: str, operation_id: str, responses: dict, parameters: list | None = None) -> dict:
    operation = {"summary": summary, "operationId": operation_id, "responses": responses}
    return {"get": operation | ({"parameters": parameters} if parameters else {})}


def flag(name: str, description: str) -> dict:
    """A boolean query parameter, as api.schemas.parse_flag reads it."""
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "string", "enum": ["true", "false"]}}  # fmt: skip


def invocations_body() -> dict:
    """MLflow's four JSON forms, each an object with one key. dataframe_split is shown with the canonical names in
    feature order; the route also takes any order and snake_case (JSON Schema cannot say "any order of these")."""
    fields = _car_fields(nullable=True)
    snake = [config.SNAKE[name] for name in config.FEATURES]
    split = {
        "type": "object", "required": ["columns", "data"], "additionalProperties": False,
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
    forms = {"dataframe_split": split, "dataframe_records": listing, "instances": listing, "inputs": {"anyOf": cars}}
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
        "type": "object", "required": ["inputs"], "additionalProperties": False,
        "properties": {
            "id": {"type": ["string", "null"], "description": "echoed in the answer"},
            "parameters": PARAMETERS,
            "inputs": {"type": "array", "prefixItems": tensors, "minItems": 7, "maxItems": 7, "items": False},
            "outputs": {"anyOf": [{"type": "array", "items": output}, {"type": "null"}],
                        "description": "which outputs to answer (all three when absent)"},
        },
    }  # fmt: skip


def paths(components: dict, errors: dict, model_version: str | None = None) -> dict:
    """The paths; `components` collects pydantic's $defs, `errors` the API's error responses by status."""

    def answer(model: type, description: str) -> dict:
        return json_content(schema_of(model, components), description)

    v2 = {"400": answer(oip.V2Error, 'bad request: {"error": "..."}'),
          "404": answer(oip.V2Error, "no such model or version"),
          "503": answer(oip.V2Error, "model not loaded")}  # fmt: skip
    known = {"enum": [model_version]} if model_version else {}
    version = [{"name": "version", "in": "path", "required": True, "schema": {"type": "string", **known},
                "description": "the model version (GET /v2/models/mpg lists it); another is 404"}]  # fmt: skip
    predictions = {"oneOf": [schema_of(InvocationsResponse, components), schema_of(InvocationsDetails, components)]}
    details = flag("details", "true: each prediction with its 90% interval, and the warnings and model version")
    out = {
        "/invocations": {"post": {
            "summary": "MLflow's scoring-server dialect: dataframe_split, dataframe_records, instances, inputs, "
                       "or text/csv with a header row (an empty cell means unknown)",
            "operationId": "invocations",
            "parameters": [details],
            # text/csv is described in words: no schema can state a CSV's grammar, and a string schema would
            # promise that any text is a valid body.
            "description": "Also `Content-Type: text/csv`: a header row of input names, then one car per line, "
                           "e.g. `" + ",".join(config.FEATURES) + "\\n4,155,93,2500,15,81,3`.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": invocations_body()}}},
            "responses": {"200": json_content(predictions, "the predictions"),
                          **{k: errors[k] for k in ("400", "413", "415", "422", "503")}},
        }},
        "/ping": get("MLflow's health check: 200 when the model is loaded", "mlflow_ping",
                     {"200": text_content("ready"), "503": errors["503"]}),
        "/version": get("The model version", "version", {"200": text_content("model version"), "503": errors["503"]}),
        "/metrics": get("Prometheus metrics, summed over every worker", "metrics",
                        {"200": text_content("Prometheus text format")}),
        "/v2": get("v2 server metadata", "v2_server", {"200": answer(oip.ServerMetadata, "metadata")}),
        "/v2/health/live": get("v2 liveness", "v2_live", {"200": answer(oip.ServerLive, "live")}),
        "/v2/health/ready": get("v2 readiness", "v2_ready", {"200": answer(oip.ServerReady, "ready"),
                                                             "503": answer(oip.ServerReady, "not ready")}),
    }  # fmt: skip
    for suffix, parameters in (("", None), ("/versions/{version}", version)):
        base = f"/v2/models/{oip.NAME}{suffix}"
        tag = "_version" if suffix else ""
        out[base] = get("v2 model metadata: inputs and outputs as name, datatype and shape", f"v2_metadata{tag}",
                        {"200": answer(oip.ModelMetadata, "metadata"), **v2}, parameters)  # fmt: skip
        out[f"{base}/ready"] = get("v2 model readiness", f"v2_model_ready{tag}",
                                   {"200": answer(oip.ModelReady, "ready"), **v2}, parameters)  # fmt: skip
        out[f"{base}/infer"] = {"post": {
            "summary": "v2 inference: seven 1-D tensors named by the snake_case fields (any integer or float "
                       "datatype, origin also BYTES), or one [n, 7] FP64 tensor named input; outputs mpg_prediction, "
                       "mpg_lower, mpg_upper (FP64, [n]); binary tensor data accepted",
            "operationId": f"v2_infer{tag}",
            **({"parameters": parameters} if parameters else {}),
            "requestBody": {"required": True, "content": {"application/json": {"schema": infer_body()}}},
            "responses": {"200": answer(oip.InferenceResponse, "the requested outputs"), **v2,
                          "413": answer(oip.V2Error, f"body over {MAX_BYTES // (1024 * 1024)} MiB")},
        }}  # fmt: skip
    return out
