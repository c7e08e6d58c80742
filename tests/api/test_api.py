"""The JSON API through Flask's test client: routes, the three payload shapes, and a table of bad input."""

from __future__ import annotations

import json
import re

import numpy as np
import pydantic_core
import pytest
from hypothesis import given
from hypothesis import strategies as st

from api import PING, create_app
from api.schemas import MAX_BYTES, MAX_ROWS, parse_json
from mpg import config
from mpg.monitoring.log import PredictionLog
from mpg.prediction import predict

TUTORIAL_PAYLOAD = {
    "Cylinders": [4, 6, 8],
    "Displacement": [155.0, 160.0, 165.5],
    "Horsepower": [93.0, 130.0, 98.0],
    "Weight": [2500.0, 3150.0, 2600.0],
    "Acceleration": [15.0, 14.0, 16.0],
    "Model Year": [81, 80, 78],
    "Origin": [3, 2, 1],
}
ONE = {key: values[0] for key, values in TUTORIAL_PAYLOAD.items()}
SNAKE = {config.SNAKE[key]: value for key, value in ONE.items()}


@pytest.fixture(scope="module")
def app(model):
    return create_app(model=model, prediction_log=PredictionLog(None))


@pytest.fixture()
def client(app):
    return app.test_client()


def test_ping_is_the_tutorials(client):
    response = client.get("/test")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == PING


def test_health_and_model(client, model):
    assert client.get("/health").json == {"status": "ok", "model_version": model.version}
    info = client.get("/model").json
    assert info["model_version"] == model.version
    assert info["inputs"]["origins"] == {"1": "USA", "2": "Europe", "3": "Japan"}
    assert info["inputs"]["features"]["Weight"]["min"] == 800
    assert info["metrics"]["test_rmse"] == model.card.metrics.test_rmse


def test_health_is_503_without_a_model(tmp_path):
    client = create_app(config={"MODEL_DIR": str(tmp_path)}, prediction_log=PredictionLog(None)).test_client()
    response = client.get("/health")
    assert response.status_code == 503
    assert "model.json: no such file" in response.json["error"]["message"]
    assert client.post("/predict", json=ONE).status_code == 503


def test_tutorial_payload_as_is(client, model):
    response = client.post("/predict", json=TUTORIAL_PAYLOAD)
    assert response.status_code == 200
    body = response.json
    assert body["model_version"] == model.version
    expected = predict(model, TUTORIAL_PAYLOAD).mpg
    np.testing.assert_allclose(body["mpg_prediction"], expected, atol=1e-4)
    assert body["warnings"] == []
    lower, upper = model.card.interval.around(expected)
    np.testing.assert_allclose(body["mpg_lower"], lower, atol=1e-4)
    np.testing.assert_allclose(body["mpg_upper"], upper, atol=1e-4)
    assert all(
        a <= b <= c for a, b, c in zip(body["mpg_lower"], body["mpg_prediction"], body["mpg_upper"], strict=True)
    )


def test_one_vehicle_snake_case_and_list_agree(client):
    one = client.post("/predict", json=ONE).json["mpg_prediction"]
    snake = client.post("/predict", json=SNAKE).json["mpg_prediction"]
    named = client.post("/predict", json={**ONE, "Origin": "Japan", "Model Year": 1981}).json["mpg_prediction"]
    listed = client.post("/predict", json=[ONE, SNAKE]).json["mpg_prediction"]
    assert len(one) == 1 and one == snake == named == listed[:1] == listed[1:]


def test_each_row_predicts_as_it_would_alone(client, auto_mpg):
    rows = auto_mpg.dropna().sample(40, random_state=3)[config.FEATURES].to_dict("records")
    batch = client.post("/predict", json=rows).json["mpg_prediction"]
    alone = [client.post("/predict", json=row).json["mpg_prediction"][0] for row in rows]
    assert batch == alone


def test_predictions_match_every_other_surface(client, model, auto_mpg):
    rows = auto_mpg.dropna().head(25)
    api = client.post("/predict", json=rows[config.FEATURES].to_dict("list")).json["mpg_prediction"]
    np.testing.assert_allclose(api, predict(model, rows).mpg, atol=1e-4)


def test_extrapolation_is_predicted_with_a_warning(client):
    response = client.post("/predict", json=[ONE, {**ONE, "Weight": 7000.0}])
    assert response.status_code == 200
    assert response.json["warnings"] == [
        {
            "row": 1,
            "field": "Weight",
            "kind": "extrapolation",
            "problem": "7000 is outside the training range 1755-5140",
        }
    ]


def test_null_means_unknown_predicted_with_the_training_value_and_flagged(client, model):
    fill = model.card.inputs.features["Horsepower"].fill
    response = client.post("/predict", json=[{**ONE, "Horsepower": None}, {**ONE, "Horsepower": fill}])
    assert response.status_code == 200
    first, second = response.json["mpg_prediction"]
    assert first == second
    assert response.json["warnings"] == [
        {"row": 0, "field": "Horsepower", "kind": "unknown", "problem": f"unknown: training median {fill:g} hp used"}
    ]


@pytest.mark.parametrize(
    "body",
    [
        {
            "origin": "japan",
            "MODEL YEAR": 1981,
            **{k.lower(): v for k, v in ONE.items() if k not in ("Origin", "Model Year")},
        },
        {**ONE, "Origin": "JAPAN", "Model Year": 1981},
    ],
    ids=["any letter case", "four-digit year"],
)
def test_names_in_any_case_and_four_digit_years(client, body):
    response = client.post("/predict", json=body)
    assert response.status_code == 200
    reference = client.post("/predict", json={**ONE, "Origin": 3, "Model Year": 81}).json
    assert response.json["mpg_prediction"] == reference["mpg_prediction"]


def _columns(**change):
    return {**TUTORIAL_PAYLOAD, **change}


BAD = [
    # (id, body, status, row, field, words in the problem)
    ("missing field", {k: v for k, v in ONE.items() if k != "Weight"}, 422, 0, "Weight", "is missing"),
    ("unknown field", {**ONE, "Colour": "red"}, 422, 0, "Colour", "not a known field"),
    ("a field twice", {**ONE, "weight": 2500}, 422, 0, "Weight", "given twice"),
    ("text", {**ONE, "Horsepower": "fast"}, 422, 0, "Horsepower", "must be a number, got 'fast'"),
    ("number as text", {**ONE, "Horsepower": "93"}, 422, 0, "Horsepower", "must be a number, got '93'"),
    ("boolean", {**ONE, "Weight": True}, 422, 0, "Weight", "must be a number, got True"),
    ("boolean origin", {**ONE, "Origin": True}, 422, 0, "Origin", "must be 1, 2, 3, USA, Europe or Japan"),
    ("object", {**ONE, "Weight": {"lb": 2500}}, 422, 0, "Weight", "must be a number"),
    ("negative", {**ONE, "Weight": -2500}, 422, 0, "Weight", "must be between 800 and 10000 (lb), got -2500"),
    ("zero", {**ONE, "Horsepower": 0}, 422, 0, "Horsepower", "must be between 20 and 1000 (hp)"),
    ("implausible", {**ONE, "Acceleration": 400}, 422, 0, "Acceleration", "must be between 2 and 40"),
    ("fractional cylinders", {**ONE, "Cylinders": 4.5}, 422, 0, "Cylinders", "must be a whole number, got 4.5"),
    ("unknown origin", {**ONE, "Origin": "Mars"}, 422, 0, "Origin", "got 'Mars'"),
    ("origin code 4", {**ONE, "Origin": 4}, 422, 0, "Origin", "must be 1, 2, 3"),
    ("year 2024", {**ONE, "Model Year": 2024}, 422, 0, "Model Year", "must be a year of 1960-1999"),
    ("bad row in list", [ONE, {**ONE, "Weight": -1}], 422, 1, "Weight", "must be between"),
    ("bad cell in columns", _columns(Weight=[2500.0, "x", 2600.0]), 422, 1, "Weight", "must be a number"),
    ("unequal columns", _columns(Weight=[2500.0, 3150.0]), 422, None, None, "Weight: 2"),
    ("empty list", [], 422, None, None, "has no cars"),
    ("empty columns", _columns(Weight=[]), 422, None, None, "same length"),
    ("not an object", 42, 422, None, None, "a car (an object), a list of cars, or columns"),
    ("string body", "cars", 422, None, None, "a car (an object)"),
    ("nested list", [[4, 155, 93, 2500, 15, 81, 3]], 422, 0, None, "must be an object"),
    ("lists in columns", {key: [[1, 2]] for key in ONE}, 422, 0, "Cylinders", "must be a number"),
    ("nothing known", dict.fromkeys(ONE), 422, 0, None, "knows none of the seven inputs"),
    ("nothing known in columns", {key: [None] for key in ONE}, 422, 0, None, "knows none of the seven inputs"),
]


@pytest.mark.parametrize(("body", "status", "row", "field", "words"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_table(client, body, status, row, field, words):
    response = client.post("/predict", json=body)
    assert response.status_code == status
    assert response.is_json
    error = response.json["error"]
    assert error["message"]
    detail = error["details"][0]
    assert (detail["row"], detail["field"]) == (row, field)
    assert words in detail["problem"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_every_bad_row_is_listed(client):
    body = [ONE, {**ONE, "Weight": -1}, ONE, {**ONE, "Origin": "Mars", "Cylinders": 2.5}]
    details = client.post("/predict", json=body).json["error"]["details"]
    assert [(d["row"], d["field"]) for d in details] == [(1, "Weight"), (3, "Cylinders"), (3, "Origin")]


@pytest.mark.parametrize(
    ("raw", "words"),
    [("NaN", "a car (an object)"), ("Infinity", "a car (an object)")],
)
def test_bare_non_finite_json(client, raw, words):
    response = client.post("/predict", data=raw, content_type="application/json")
    assert response.status_code == 422 and words in response.json["error"]["details"][0]["problem"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1" + "0" * 400])
def test_non_finite_and_overflowing_numbers_are_refused(client, literal):
    raw = json.dumps(ONE).replace('"Weight": 2500.0', f'"Weight": {literal}')
    response = client.post("/predict", data=raw, content_type="application/json")
    assert response.status_code == 422
    assert response.json["error"]["details"][0]["field"] == "Weight"


# JSON values as bodies hold them: numbers within 64 bits (beyond, orjson reads a float where pydantic_core reads
# an int; every input's bounds refuse both), any text, nesting.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
)


@given(JSON_VALUES)
def test_the_body_is_read_as_pydantic_core_reads_it(value):
    body = json.dumps(value).encode()  # 1e999 and -1e999 too: json.dumps writes Infinity, which orjson refuses
    assert repr(parse_json(body)) == repr(pydantic_core.from_json(body))  # the same types and values


def test_a_value_nested_as_deep_as_json_goes_is_named_not_a_crash(client):
    # orjson reads JSON up to 1,024 levels deep; repr of such a value passed Python's recursion limit
    deep = "[" * 1000 + "2500.0" + "]" * 1000
    body = json.dumps([{**ONE, "Weight": "deep"}]).replace('"deep"', deep)  # a list of one car
    response = client.post("/predict", data=body, content_type="application/json")
    assert response.status_code == 422
    assert [d["field"] for d in response.json["error"]["details"]] == ["Weight"]


def test_malformed_json_is_400(client):
    response = client.post("/predict", data='{"Weight": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]["message"] == "the body is not valid JSON"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_body_that_is_not_json_is_415(client, content_type):
    response = client.post("/predict", data=json.dumps(ONE), content_type=content_type)
    assert response.status_code == 415
    assert "application/json" in response.json["error"]["message"]


def test_too_many_rows_is_422(client):
    assert client.post("/predict", json=[ONE] * MAX_ROWS).status_code == 200
    response = client.post("/predict", json=[ONE] * (MAX_ROWS + 1))
    assert response.status_code == 422
    assert str(MAX_ROWS) in response.json["error"]["message"]


@pytest.mark.parametrize("route", ["/predict", "/invocations"])
def test_too_many_bytes_is_413_naming_both_limits(client, route):
    response = client.post(route, data=b"[" + b" " * (MAX_BYTES + 1) + b"]", content_type="application/json")
    assert response.status_code == 413
    error = response.json["error"]
    assert "8 MiB (8,388,608 bytes)" in error["message"] and f"{MAX_ROWS:,} cars" in error["message"]
    assert error["details"] == [] and error["request_id"] == response.headers["X-Request-ID"]


def test_the_422_message_lists_every_problem_up_to_ten_wrong_values_first(client):
    body = [{k: v for k, v in ONE.items() if k != "Origin"}] + [{**ONE, "Weight": -row} for row in range(1, 12)]
    error = client.post("/predict", json=body).json["error"]
    assert len(error["details"]) == 12  # every problem, for programs
    listed = error["message"].removeprefix("invalid input (12 of 12 vehicles): ").split("; ")
    wrong = [f"row {row}, Weight: must be between 800 and 10000 (lb), got -{row}" for row in range(1, 11)]
    assert listed == [*wrong, "and 2 more problems"]  # row 0's missing Origin comes after the wrong values


def test_wrong_method_is_405_with_allow(client):
    response = client.get("/predict")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert response.is_json


def test_unknown_route_is_json_404(client):
    response = client.get("/nope")
    assert response.status_code == 404 and response.is_json


def test_openapi_and_docs_describe_the_schema(client):
    document = client.get("/openapi.json").json
    assert document["openapi"].startswith("3.1")
    operation = document["paths"]["/predict"]["post"]
    assert {"200", "400", "413", "415", "422"} <= set(operation["responses"])
    shapes = operation["requestBody"]["content"]["application/json"]["schema"]["anyOf"]
    snake, canonical = shapes[0], shapes[3]
    for car, key in ((snake, "weight"), (canonical, "Weight")):  # both key styles, from the one declaration
        number, unknown = car["properties"][key]["anyOf"]
        assert (number["minimum"], number["maximum"]) == config.BOUNDS["Weight"]
        assert unknown == {"type": "null"}
        assert car["additionalProperties"] is False
    page = client.get("/docs")
    assert page.status_code == 200 and "model_year" in page.get_data(as_text=True)


def test_docs_example_answer_is_the_loaded_models(client):
    document = client.get("/openapi.json").json
    example = document["paths"]["/predict"]["post"]["responses"]["200"]["content"]["application/json"]["example"]
    assert example["mpg_prediction"] == client.post("/predict", json=TUTORIAL_PAYLOAD).json["mpg_prediction"]
    assert json.dumps(example["mpg_prediction"]) in client.get("/docs").get_data(as_text=True)
    answer = client.post("/predict", json=TUTORIAL_PAYLOAD).json
    assert example["mpg_lower"] == pytest.approx(answer["mpg_lower"], abs=1e-4)
    assert example["mpg_upper"] == pytest.approx(answer["mpg_upper"], abs=1e-4)


def test_docs_page_reads_as_html_not_markdown(client):
    page = client.get("/docs").get_data(as_text=True)
    prose = re.sub(r"<pre>.*?</pre>", "", page, flags=re.S)  # the curl examples may quote anything
    assert "`" not in prose and "<code>" in prose


@pytest.mark.slow  # real gunicorn
def test_tutorial_client_code_works_as_is(live_api):
    """The tutorial's client, verbatim apart from the URL."""
    import requests

    url = f"{live_api}/predict"
    vehicle_config = TUTORIAL_PAYLOAD
    r = requests.post(url, json=vehicle_config)
    r.text.strip()
    assert r.status_code == 200
    assert len(r.json()["mpg_prediction"]) == 3


def _response_validator(client):
    from jsonschema import Draft202012Validator

    document = client.get("/openapi.json").json
    schema = document["paths"]["/predict"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": document["components"]})


def test_explain_adds_contributions_that_add_up(client):
    rows = [ONE, {**ONE, "Weight": 3500.0}, {**ONE, "Origin": "USA", "Cylinders": 8}]
    body = client.post("/predict?explain=true", json=rows).json
    _response_validator(client).validate(body)
    assert len(body["contributions"]) == len(body["baseline"]) == 3
    for contributions, baseline, prediction in zip(
        body["contributions"], body["baseline"], body["mpg_prediction"], strict=True
    ):
        assert list(contributions) == config.FEATURES
        assert sum(contributions.values()) == pytest.approx(prediction - baseline, abs=1e-3)
    assert body["contributions"][1]["Weight"] < body["contributions"][0]["Weight"]  # heavier: Weight costs more


def test_without_explain_there_are_no_contributions(client):
    body = client.post("/predict?explain=false", json=ONE).json
    _response_validator(client).validate(body)
    assert "contributions" not in body and "baseline" not in body


@pytest.mark.parametrize(("query", "body", "words"), [
    ("explain=maybe", ONE, "explain must be true or false"),
    ("explain=1", ONE, "explain must be true or false"),
    ("explain=true", [ONE] * 101, "at most 100 vehicles"),
])  # fmt: skip
def test_bad_explain_requests(client, query, body, words):
    response = client.post(f"/predict?{query}", json=body)
    assert response.status_code == 422 and words in response.json["error"]["message"]
