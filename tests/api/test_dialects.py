"""MLflow's /invocations and the Open Inference Protocol's /v2 through Flask's test client; request IDs,
metrics, the access log, CORS, and the prediction log fed from the one prediction path."""

from __future__ import annotations

import json

import numpy as np
import pytest
from prometheus_client import REGISTRY

from api import create_app
from mpg import config, contract
from mpg.monitoring.log import PredictionLog
from tests.api.test_api import ONE, TUTORIAL_PAYLOAD

SNAKE_NAMES = [config.SNAKE[name] for name in config.FEATURES]
ROWS = [dict(zip(config.FEATURES, values, strict=True)) for values in zip(*TUTORIAL_PAYLOAD.values(), strict=True)]
CSV = ",".join(config.FEATURES) + "\n" + "\n".join(",".join(str(row[k]) for k in config.FEATURES) for row in ROWS)


class RecordingLog(PredictionLog):
    """A prediction log that keeps its batches in memory."""

    def __init__(self):
        super().__init__(None)
        self.batches = []

    def record(self, batch) -> None:
        self.batches.append(batch)


@pytest.fixture(scope="module")
def prediction_log():
    return RecordingLog()


@pytest.fixture(scope="module")
def app(model, prediction_log):
    return create_app(model=model, prediction_log=prediction_log)


@pytest.fixture()
def client(app):
    return app.test_client()


def tensors(rows: list[dict], origin_as_names: bool = False) -> list[dict]:
    out = []
    for name, key in zip(config.FEATURES, SNAKE_NAMES, strict=True):
        values = [row[name] for row in rows]
        datatype = "INT32" if name in config.INTEGER_FEATURES else "FP64"
        if name == config.ORIGIN:
            values, datatype = ([config.ORIGINS[v] for v in values], "BYTES") if origin_as_names else (values, "INT64")
        out.append({"name": key, "shape": [len(rows)], "datatype": datatype, "data": values})
    return out


MLFLOW_FORMS = {
    "dataframe_split": {"dataframe_split": {"columns": config.FEATURES, "index": [0, 1, 2],
                                            "data": [[row[k] for k in config.FEATURES] for row in ROWS]}},
    "dataframe_split in another column order": {"dataframe_split": {"columns": SNAKE_NAMES[::-1],
                                                "data": [[row[k] for k in config.FEATURES][::-1] for row in ROWS]}},
    "dataframe_records": {"dataframe_records": ROWS},
    "instances": {"instances": ROWS},
    "inputs as columns": {"inputs": TUTORIAL_PAYLOAD},
    "inputs as records": {"inputs": ROWS},
}  # fmt: skip


@pytest.mark.parametrize("body", MLFLOW_FORMS.values(), ids=MLFLOW_FORMS.keys())
def test_every_mlflow_form_gives_the_predict_numbers(client, body):
    expected = client.post("/predict", json=TUTORIAL_PAYLOAD).json["mpg_prediction"]
    response = client.post("/invocations", json=body)
    assert response.status_code == 200
    assert response.json == {"predictions": expected}


def test_mlflow_csv_with_an_empty_cell_is_unknown(client):
    expected = client.post("/predict", json=TUTORIAL_PAYLOAD).json["mpg_prediction"]
    assert client.post("/invocations", data=CSV, content_type="text/csv").json == {"predictions": expected}
    unknown = CSV.replace(",93.0,", ",,", 1)
    response = client.post("/invocations?details=true", data=unknown, content_type="text/csv; charset=utf-8")
    assert response.status_code == 200
    assert [(w["row"], w["field"], w["kind"]) for w in response.json["warnings"]] == [(0, "Horsepower", "unknown")]
    same = client.post("/predict", json=[{**ROWS[0], "Horsepower": None}]).json
    assert response.json["predictions"][0] == {
        "mpg_prediction": same["mpg_prediction"][0], "mpg_lower": same["mpg_lower"][0],
        "mpg_upper": same["mpg_upper"][0],
    }  # fmt: skip
    assert response.json["model_version"] == same["model_version"]


def test_the_same_cars_give_the_same_numbers_on_every_route(client, auto_mpg):
    cars = auto_mpg.dropna().sample(30, random_state=5)[config.FEATURES]
    cars = cars.astype({config.CYLINDERS: int, config.MODEL_YEAR: int, config.ORIGIN: int})
    rows = cars.to_dict("records")
    predicted = client.post("/predict", json=rows).json
    mlflow = client.post("/invocations?details=true", json={"dataframe_records": rows}).json["predictions"]
    named = client.post("/v2/models/mpg/infer", json={"inputs": tensors(rows, origin_as_names=True)}).json
    matrix = {"name": "input", "shape": [len(rows), 7], "datatype": "FP64",
              "data": cars.to_numpy(dtype=float).ravel().tolist()}  # fmt: skip
    whole = client.post("/v2/models/mpg/infer", json={"inputs": [matrix]}).json
    for key in ("mpg_prediction", "mpg_lower", "mpg_upper"):
        assert [car[key] for car in mlflow] == predicted[key]
        for answer in (named, whole):
            assert next(o for o in answer["outputs"] if o["name"] == key)["data"] == predicted[key]


def binary_tensors(columns: dict[str, np.ndarray]) -> tuple[bytes, dict[str, str]]:
    """The binary tensor extension, as tritonclient's binary_data=True sends it: a JSON header, then the bytes."""
    inputs = [
        {
            "name": name,
            "shape": [len(values)],
            "datatype": "FP64",
            "parameters": {"binary_data_size": values.astype("<f8").nbytes},
        }
        for name, values in columns.items()
    ]
    header = json.dumps({"inputs": inputs}).encode()
    data = b"".join(values.astype("<f8").tobytes() for values in columns.values())
    return header + data, {"Inference-Header-Content-Length": str(len(header))}


@pytest.mark.parametrize("size", [1, 100, 10_000])
def test_every_route_and_form_gives_identical_numbers_at_every_batch_size(client, auto_mpg, size):
    cars = auto_mpg.dropna()[config.FEATURES].sample(size, replace=True, random_state=size)
    cars = cars.astype({config.CYLINDERS: int, config.MODEL_YEAR: int, config.ORIGIN: int})
    rows = cars.to_dict("records")
    columns = {config.SNAKE[name]: cars[name].tolist() for name in config.FEATURES}
    matrix = cars.to_numpy(dtype=float)
    expected = client.post("/predict", json=columns).json
    keys = ("mpg_prediction", "mpg_lower", "mpg_upper")
    assert len(expected["mpg_prediction"]) == size

    def v2(response) -> dict:
        assert response.status_code == 200, response.json
        return {output["name"]: output["data"] for output in response.json["outputs"]}

    def mlflow(response) -> dict:
        assert response.status_code == 200, response.json
        return {key: [car[key] for car in response.json["predictions"]] for key in keys}

    binary, headers = binary_tensors({name: cars[config.CANONICAL[name]].to_numpy() for name in columns})
    answers = {
        "/predict records": client.post("/predict", json=rows).json,
        "dataframe_split": mlflow(client.post("/invocations?details=true", json={
            "dataframe_split": {"columns": config.FEATURES, "data": matrix.tolist()}})),
        "text/csv": mlflow(client.post("/invocations?details=true", data=cars.to_csv(index=False),
                                       content_type="text/csv")),
        "v2 named tensors": v2(client.post("/v2/models/mpg/infer", json={"inputs": [
            {"name": name, "shape": [size], "datatype": "FP64", "data": values} for name, values in columns.items()]})),
        "v2 [n, 7] as rows": v2(client.post("/v2/models/mpg/infer", json={"inputs": [
            {"name": "input", "shape": [size, 7], "datatype": "FP64", "data": matrix.tolist()}]})),
        "v2 [n, 7] flat": v2(client.post("/v2/models/mpg/infer", json={"inputs": [
            {"name": "input", "shape": [size, 7], "datatype": "FP64", "data": matrix.ravel().tolist()}]})),
        "v2 binary tensors": v2(client.post("/v2/models/mpg/infer", data=binary, headers=headers,
                                            content_type="application/octet-stream")),
    }  # fmt: skip
    for form, answer in answers.items():
        for key in keys:
            assert answer[key] == expected[key], (form, key)


def test_v2_infer_honours_outputs_and_echoes_id(client, model):
    body = {"id": "car-42", "inputs": tensors(ROWS), "outputs": [{"name": "mpg_upper"}]}
    answer = client.post(f"/v2/models/mpg/versions/{model.version}/infer", json=body).json
    assert answer["id"] == "car-42" and answer["model_name"] == "mpg" and answer["model_version"] == model.version
    assert [(o["name"], o["datatype"], o["shape"]) for o in answer["outputs"]] == [("mpg_upper", "FP64", [3])]


def test_v2_metadata_health_and_versions(client, model):
    assert client.get("/v2/health/live").json == {"live": True}
    assert client.get("/v2/health/ready").json == {"ready": True}
    assert client.get("/v2").json["name"] == "mpg"
    for base in ("/v2/models/mpg", f"/v2/models/mpg/versions/{model.version}"):
        metadata = client.get(base).json
        assert [t["name"] for t in metadata["inputs"]] == SNAKE_NAMES
        assert [t["name"] for t in metadata["outputs"]] == ["mpg_prediction", "mpg_lower", "mpg_upper"]
        assert metadata["versions"] == [model.version]
        assert client.get(f"{base}/ready").json == {"name": "mpg", "ready": True}
    assert client.get("/v2/models/mpg/versions/0000/ready").status_code == 404
    assert client.get("/v2/models/other").status_code == 404


def test_mlflow_ping_and_version(client, model):
    assert client.get("/ping").status_code == 200
    assert client.get("/version").get_data(as_text=True) == model.version


def _v2(**change):
    return {"inputs": [{**t, **change.get(t["name"], {})} for t in tensors(ROWS[:1])]}


BAD_MLFLOW = [
    # (id, body, content type, status, words)
    ("no form", {"cars": ROWS}, "application/json", 400, "exactly one of"),
    ("two forms", {"instances": ROWS, "inputs": ROWS}, "application/json", 400, "exactly one of"),
    ("split without data", {"dataframe_split": {"columns": config.FEATURES}}, "application/json", 400, "data"),
    ("split row too short", {"dataframe_split": {"columns": config.FEATURES, "data": [[4, 155]]}},
     "application/json", 400, "rows of 7 values"),
    ("records not a list", {"dataframe_records": ROWS[0]}, "application/json", 400, "a list of objects"),
    ("plain arrays", {"inputs": [[4, 155, 93, 2500, 15, 81, 3]]}, "application/json", 400, "no names"),
    ("bad value", {"instances": [{**ROWS[0], "Weight": -1}]}, "application/json", 422, "Weight"),
    ("unknown key", {"instances": [{**ROWS[0], "colour": "red"}]}, "application/json", 422, "colour"),
    ("not JSON", "{", "application/json", 400, "not valid JSON"),
    ("CSV bad cell", CSV.replace("2500.0", "heavy"), "text/csv", 422, "Weight"),
    ("CSV short line", CSV + "\n4,155", "text/csv", 400, "cells"),
    ("CSV missing column", CSV.replace("Weight,", "Mass,"), "text/csv", 422, "Mass"),
    ("CSV header only", ",".join(config.FEATURES), "text/csv", 422, "no cars"),
    ("other type", "cars", "text/plain", 415, "text/csv"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "content_type", "status", "words"), [b[1:] for b in BAD_MLFLOW],
                         ids=[b[0] for b in BAD_MLFLOW])  # fmt: skip
def test_bad_mlflow_payloads(client, body, content_type, status, words):
    data = body if isinstance(body, str) else None
    response = client.post("/invocations", data=data, json=None if data else body, content_type=content_type)
    assert response.status_code == status
    error = response.json["error"]
    assert words in error["message"] + str(error["details"])
    assert error["request_id"] == response.headers["X-Request-ID"]


HEADER = ",".join(config.FEATURES)
ODD_CSV = [  # (a body, whether numpy reads it)
    (CSV, True),  # the usual body: numbers only
    (f'{HEADER}\r\n"4","97.5",88,2130,14.5,71,3\r\n8,350,165,3693,11.5,70,1\r\n', True),  # quotes, Windows ends
    (f"{HEADER}\n 4 , 97 ,88,2130,14.5,71,3\n\n8,350,165,3693,11.5,70,1\n\n", True),  # spaces, blank lines
    (f"{HEADER}\n4,97,88,2130,nan,71,3", True),  # not finite: the contract refuses it
    (f"{HEADER}\n4,1_000,88,2130,14.5,71,3", False),  # float() reads the underscore, numpy does not
    (f"{HEADER}\n4,,88,2130,14.5,71,Japan", False),  # an unknown value and a name
    (f"{HEADER}\n4,97,88,2130,14.5,71,3\n   \n8,350,165,3693,11.5,70,1", False),  # spaces: a row of one cell
    (f"{HEADER}\n4,97,88,2130,14.5,71\n8,350,165,3693,11.5,70,1", False),  # a short row
    (f"{HEADER}\r4,97,88,2130,14.5,71,3\r", False),  # old Mac line ends: not CSV to the csv module (400)
    (HEADER.replace("Origin", '"Ori\ngin"') + "\n4,97,88,2130,14.5,71,3", False),  # a line end in a quoted name
    (HEADER.replace(",Origin", ',"Model Year\n4,97,88,2130,14.5,71,3\n'), False),  # a header only, to the csv module
    (HEADER.replace("Weight", "Wei\rght") + "\n4,97,88,2130,14.5,71,3", False),  # a bare \r in the header (400)
    (HEADER.replace("Weight", "Weight" * 30_000) + "\n4,97,88,2130,14.5,71,3", False),  # over csv's field limit
    (f"{HEADER},Weight\n4,97,88,2130,14.5,71,3,2130", False),  # a name given twice (400)
    (f"{HEADER}\n4,97,88,2130,14.5,71,3\r \n8,350,165,3693,11.5,70,1", False),  # a \r not before \n: a line end (400)
    (f"{HEADER}\n4,97,88,2130,14.5,71\n8,350,165,3693,11.5,70,1,1", False),  # 6 cells, then 8: 14 in all (400)
    (f"{HEADER}\n4,97,88,2130,14.5,71,3\n   ", False),  # a last line of spaces: a row of one cell (400)
]


@pytest.mark.parametrize(("body", "by_numpy"), ODD_CSV, ids=range(len(ODD_CSV)))
def test_a_csv_of_numbers_read_by_numpy_reads_as_the_csv_module_reads_it(body, by_numpy, monkeypatch):
    """numpy (or simdjson, api.invocations._json_rows) reads a body of plain names and numbers at once; every body
    reads to the same columns, or the same error, as the csv module and float() read it."""
    from api import invocations, schemas
    from api.schemas import RequestError

    monkeypatch.setattr(schemas, "ARRAY_BYTES", 0)  # small bodies: simdjson tries them all the same

    def read(function):
        try:
            columns = function(body.encode()) if function is invocations.csv_columns else function(body)
            return json.dumps({name: np.asarray(values).tolist() for name, values in columns.items()})
        except RequestError as exc:  # json.dumps writes NaN as NaN: the same bits or not
            return exc.status, exc.message

    assert (invocations._numbers(body) is not None) == by_numpy
    assert read(invocations.csv_columns) == read(invocations.read_csv)


BAD_V2 = [
    ("not a request", {"inputs": "cars"}, "not an inference request"),
    ("missing tensor", {"inputs": tensors(ROWS)[:6]}, "Origin: is missing"),
    ("unknown tensor", {"inputs": [*tensors(ROWS), {**tensors(ROWS)[0], "name": "colour"}]}, "colour"),
    ("tensor twice", {"inputs": [*tensors(ROWS), tensors(ROWS)[0]]}, "given twice"),
    ("shapes differ", _v2(weight={"shape": [2], "data": [2500, 2600]}), "one length"),
    ("shape and data disagree", _v2(weight={"shape": [2]}), "1 values for shape [2]"),
    ("bad value", _v2(weight={"data": [-1]}), "Weight: must be between"),
    ("null value", _v2(weight={"data": [None]}), "no null"),
    ("BYTES weight", _v2(weight={"datatype": "BYTES", "data": ["heavy"]}), "not a number"),
    ("BOOL", _v2(cylinders={"datatype": "BOOL", "data": [True]}), "not a number"),
    ("unknown output", {"inputs": tensors(ROWS), "outputs": [{"name": "colour"}]}, "unknown output"),
    ("input of 6 columns", {"inputs": [{"name": "input", "shape": [1, 6], "datatype": "FP64",
                                        "data": [4, 155, 93, 2500, 15, 81]}]}, "[n, 7]"),
    ("no inputs", {"inputs": []}, "no cars"),
]  # fmt: skip


@pytest.mark.parametrize("body", [b[1] for b in BAD_V2], ids=[b[0] for b in BAD_V2])
def test_bad_v2_payloads_are_400_with_a_message(client, body):
    words = next(b[2] for b in BAD_V2 if b[1] is body)
    response = client.post("/v2/models/mpg/infer", json=body)
    assert response.status_code == 400
    assert set(response.json) == {"error", "request_id"} and words in response.json["error"]


def test_a_v2_error_names_each_problem_once_up_to_ten(client):
    body = {"inputs": tensors([{**ROWS[0], "Weight": -row} for row in range(1, 11)])}
    error = client.post("/v2/models/mpg/infer", json=body).json["error"]
    assert all(error.count(f"row {row - 1}, Weight: must be between 800") == 1 for row in range(1, 11)), error
    assert "more" not in error  # ten problems: all shown, none summed up


def test_request_id_taken_when_sane_else_made(client):
    sent = client.post("/predict", json=ONE, headers={"X-Request-ID": "abc-123_heroku.router=="})
    assert sent.headers["X-Request-ID"] == "abc-123_heroku.router=="
    for insane in ("x" * 201, "has space", "new\\nline", ""):
        made = client.post("/predict", json=ONE, headers={"X-Request-ID": insane}).headers["X-Request-ID"]
        assert made != insane and len(made) == 32
    error = client.post("/predict", json={**ONE, "Weight": -1}, headers={"X-Request-ID": "trace-me-1"})
    assert error.headers["X-Request-ID"] == error.json["error"]["request_id"] == "trace-me-1"
    v2 = client.post("/v2/models/mpg/infer", json={"inputs": []}, headers={"X-Request-ID": "trace-me-2"})
    assert v2.json["request_id"] == "trace-me-2"


def test_access_log_line_fields_and_probes_left_out(client, capsys):
    capsys.readouterr()
    client.post("/invocations", json={"instances": ROWS}, headers={"X-Request-ID": "log-me"})
    client.get("/health")
    client.get("/metrics")
    client.get("/v2/health/ready")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    fields = dict(part.split("=", 1) for part in lines[0].split())
    assert fields.keys() == {"request_id", "method", "route", "status", "rows", "duration_ms"}
    assert (fields["request_id"], fields["method"], fields["route"], fields["status"], fields["rows"]) == (
        "log-me", "POST", "/invocations", "200", "3",
    )  # fmt: skip
    assert float(fields["duration_ms"]) > 0


def test_access_log_off(model, capsys):
    client = create_app(model=model, config={"ACCESS_LOG": False}, prediction_log=PredictionLog(None)).test_client()
    capsys.readouterr()
    assert client.post("/predict", json=ONE).status_code == 200
    assert capsys.readouterr().out == ""


def test_cors_off_by_default_and_on_for_listed_origins(client, model):
    assert (
        "Access-Control-Allow-Origin"
        not in client.post("/predict", json=ONE, headers={"Origin": "https://x.io"}).headers
    )
    allowed = create_app(model=model, config={"CORS_ORIGINS": ["https://app.example"]},
                         prediction_log=PredictionLog(None)).test_client()  # fmt: skip
    ok = allowed.post("/predict", json=ONE, headers={"Origin": "https://app.example"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "X-Request-ID" in ok.headers["Access-Control-Expose-Headers"]
    preflight = allowed.options("/invocations", headers={"Origin": "https://app.example",
                                                        "Access-Control-Request-Method": "POST"})  # fmt: skip
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    other = allowed.post("/predict", json=ONE, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def _sample(name: str, labels: dict | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def test_metrics_count_rows_warnings_and_requests_but_not_probes(client, model):
    before = {
        "rows": _sample("mpg_rows_predicted_total"),
        "unknown": _sample("mpg_prediction_warnings_total", {"kind": "unknown"}),
        "extrapolation": _sample("mpg_prediction_warnings_total", {"kind": "extrapolation"}),
        "ok": _sample("mpg_http_requests_total", {"method": "POST", "route": "/invocations", "status": "200"}),
        "health": _sample("mpg_http_requests_total", {"method": "GET", "route": "/health", "status": "200"}),
    }
    client.post("/invocations", json={"instances": [*ROWS, {**ROWS[0], "Weight": 7000.0, "Horsepower": None}]})
    client.post("/v2/models/mpg/infer", json={"inputs": tensors(ROWS[:2])})
    client.get("/health")
    text = client.get("/metrics").get_data(as_text=True)
    assert f'mpg_model_info{{version="{model.version}"}} 1.0' in text
    assert _sample("mpg_rows_predicted_total") - before["rows"] == 6
    assert _sample("mpg_prediction_warnings_total", {"kind": "unknown"}) - before["unknown"] == 1
    assert _sample("mpg_prediction_warnings_total", {"kind": "extrapolation"}) - before["extrapolation"] == 1
    labels = {"method": "POST", "route": "/invocations", "status": "200"}
    assert _sample("mpg_http_requests_total", labels) - before["ok"] == 1
    assert (
        _sample("mpg_http_requests_total", {"method": "GET", "route": "/health", "status": "200"}) == before["health"]
    )
    assert _sample("mpg_http_request_duration_seconds_count", {"route": "/invocations"}) >= 1


def test_every_route_records_its_cars_in_the_prediction_log_once(client, prediction_log, model):
    prediction_log.batches.clear()
    client.post("/predict", json=ROWS, headers={"X-Request-ID": "r1"})
    client.post("/invocations", data=CSV, content_type="text/csv", headers={"X-Request-ID": "r2"})
    client.post("/v2/models/mpg/infer", json={"inputs": tensors(ROWS)}, headers={"X-Request-ID": "r3"})
    client.post("/predict", json={**ONE, "Weight": -1}, headers={"X-Request-ID": "refused"})
    logged = [(b.route, b.request_id, len(b), b.model_version, b.source) for b in prediction_log.batches]
    assert logged == [
        ("/predict", "r1", 3, model.version, "api"),
        ("/invocations", "r2", 3, model.version, "api"),
        ("/v2/models/mpg/infer", "r3", 3, model.version, "api"),
    ]
    first, *others = prediction_log.batches
    for batch in others:
        np.testing.assert_array_equal(batch.X, first.X)
        np.testing.assert_array_equal(batch.predictions, first.predictions)


def test_metrics_off_counts_nothing(model):
    client = create_app(model=model, config={"METRICS": False}, prediction_log=PredictionLog(None)).test_client()
    before = _sample("mpg_rows_predicted_total")
    assert client.post("/predict", json=ROWS).status_code == 200
    assert _sample("mpg_rows_predicted_total") == before
    assert client.get("/metrics").status_code == 200


def test_openapi_and_docs_list_every_route(client, app):
    documented = set(client.get("/openapi.json").json["paths"])
    served = {rule.rule.replace("<version>", "{version}") for rule in app.url_map.iter_rules()} - {
        "/static/<path:filename>"
    }
    assert served == documented
    page = client.get("/docs").get_data(as_text=True)
    for path in ("/invocations", "/v2/models/mpg/infer", "/v2/models/mpg/versions/{version}/infer", "/metrics"):
        assert f" {path}</code>" in page


COLUMNAR = {
    "dataframe_split": ("/invocations", "application/json", lambda: json.dumps({"dataframe_split": {
        "columns": config.FEATURES, "data": [[row[k] for k in config.FEATURES] for row in ROWS]}})),
    "csv": ("/invocations", "text/csv", lambda: CSV),
    "v2 input tensor": ("/v2/models/mpg/infer", "application/json", lambda: json.dumps({"inputs": [{
        "name": "input", "shape": [len(ROWS), 7], "datatype": "FP64",
        "data": [row[k] for row in ROWS for k in config.FEATURES]}]})),
    "v2 named tensors": ("/v2/models/mpg/infer", "application/json", lambda: json.dumps({"inputs": tensors(ROWS)})),
    "columnar /predict": ("/predict", "application/json", lambda: json.dumps(TUTORIAL_PAYLOAD)),
}  # fmt: skip


@pytest.mark.parametrize("form", list(COLUMNAR))
def test_columnar_forms_reach_the_contract_as_columns_checked_once(client, monkeypatch, form):
    from tests.test_contract import Counting

    records = Counting(contract._ROWS[False], "validate_python")
    columns = Counting(contract._COLUMNS, "model_validate")
    monkeypatch.setitem(contract._ROWS, False, records)
    monkeypatch.setattr(contract, "_COLUMNS", columns)
    taken, door = [], contract._all_numbers
    monkeypatch.setattr(contract, "_all_numbers", lambda named: taken.append(door(named)) or taken[-1])
    route, mimetype, body = COLUMNAR[form]
    response = client.post(route, data=body(), content_type=mimetype)
    assert response.status_code == 200, response.get_data(as_text=True)
    # All numbers in bounds: numpy checks the columns whole; pydantic, which names problems, is not needed.
    assert (len(taken), taken[0] is not None, columns.calls, records.calls) == (1, True, 0, 0)


def test_json_tensors_of_numbers_reach_the_contract_as_arrays(client, monkeypatch):
    """Their values' types are checked once, as a tensor is read, and the contract checks arrays whole (bodies from
    api.schemas.ARRAY_BYTES on: a smaller one is read the usual way, to Python numbers)."""
    seen, door = [], contract._all_numbers
    monkeypatch.setattr(contract, "_all_numbers", lambda named: seen.append(named) or door(named))
    response = client.post("/v2/models/mpg/infer", json={"inputs": tensors(ROWS * 20)})  # 60 cars, over 1 kB
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [type(values) for values in seen[0].values()] == [np.ndarray] * len(config.FEATURES)


def test_every_answer_but_the_probes_says_its_time_in_the_app(client):
    answers = [
        client.post("/predict", json=TUTORIAL_PAYLOAD),
        client.post("/invocations", data=CSV, content_type="text/csv"),
        client.post("/v2/models/mpg/infer", json={"inputs": tensors(ROWS)}),
        client.post("/predict", json={"weight": "heavy"}),  # an error too
    ]
    for response in answers:
        timing = response.headers.get("Server-Timing", "")
        assert timing.startswith("app;dur=") and float(timing.removeprefix("app;dur=")) > 0, timing
    assert "Server-Timing" not in client.get("/health").headers
