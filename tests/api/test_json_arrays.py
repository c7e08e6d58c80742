"""Big JSON and CSV bodies read straight to arrays by simdjson (api.schemas.read_cars, api.oip._with_arrays,
api.invocations._json_rows): the same cars as the usual reading gives, no Python number per value, and every other
body answered exactly as before."""

from __future__ import annotations

import io
import json
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import api.invocations
import api.oip
import api.schemas
from api import create_app
from api.schemas import check_cars, object_columns, parse_json, read_cars
from mpg import config
from mpg.monitoring.log import PredictionLog
from tests.api.test_api import ONE, TUTORIAL_PAYLOAD
from tests.api.test_dialects import tensors

ROWS = [dict(zip(config.FEATURES, values, strict=True)) for values in zip(*TUTORIAL_PAYLOAD.values(), strict=True)]
SPLIT = {"columns": config.FEATURES, "data": [[row[name] for name in config.FEATURES] for row in ROWS]}


@pytest.fixture(scope="module")
def client(model):
    return create_app(model=model, prediction_log=PredictionLog(None)).test_client()


def _number(name: str) -> st.SearchStrategy[str]:
    """A valid value of the input, as JSON text written in the ways clients write numbers."""
    low, high = (min(config.ORIGINS), max(config.ORIGINS)) if name == config.ORIGIN else config.BOUNDS[name]
    if name in config.INTEGER_FEATURES or name == config.ORIGIN:
        whole = st.integers(int(np.ceil(low)), int(high))
        return whole.map(str) | whole.map(lambda v: f"{v}.0") | whole.map(lambda v: f"{v / 10}e1")
    value = st.floats(low, high, allow_nan=False)
    return value.map(repr) | value.map(lambda v: f"{v:.3f}") | value.map(lambda v: f"{v:.17e}")


CARS = st.fixed_dictionaries({name: _number(name) for name in config.FEATURES})


@settings(max_examples=60, deadline=None)
@given(st.lists(CARS, min_size=1, max_size=30))
def test_columns_read_straight_to_arrays_are_the_cars_the_usual_reading_gives(cars):
    columns = "{" + ", ".join(f'"{name}": [{", ".join(car[name] for car in cars)}]' for name in config.FEATURES) + "}"
    rows = ", ".join("[" + ", ".join(car[name] for name in config.FEATURES) + "]" for car in cars)
    split = f'{{"dataframe_split": {{"columns": {json.dumps(config.FEATURES)}, "data": [{rows}]}}}}'
    for body, find, shape in [(columns, object_columns, lambda v: v),
                              (split, api.invocations.split_arrays, api.invocations.json_records)]:  # fmt: skip
        usual = check_cars(shape(parse_json(body.encode())))
        with mock.patch.object(api.schemas, "ARRAY_BYTES", 0):  # every size read straight to arrays...
            assert find(body.encode()) is not None
            assert read_cars(body.encode(), find, shape).tobytes() == usual.tobytes()  # ...to the same bits


def test_small_bodies_are_read_the_usual_way(client, monkeypatch):
    """Under ARRAY_BYTES simdjson costs more than it saves: one car on each route never reaches it."""
    monkeypatch.setattr(api.schemas.simdjson, "Parser", lambda: pytest.fail("read by simdjson"))
    monkeypatch.setattr(api.schemas, "_PARSER", mock.Mock(parse=lambda body: pytest.fail("read by simdjson")))
    row = dict(zip(config.FEATURES, (4, 97.0, 88.0, 2130.0, 14.5, 70, 3), strict=True))
    answers = [
        client.post("/predict", json={name: [value] for name, value in row.items()}),
        client.post("/invocations", json={"dataframe_split": {"columns": list(row), "data": [list(row.values())]}}),
        client.post("/v2/models/mpg/infer", json={"inputs": tensors([row])}),
    ]
    assert [response.status_code for response in answers] == [200] * 3


def test_big_bodies_are_read_without_a_python_number_per_value(client, monkeypatch):
    """Neither orjson's reading nor pydantic's of the 70,000 values: 10,000 cars on every JSON route of that shape,
    nor numpy's of them as CSV."""
    monkeypatch.setattr(api.schemas, "parse_json", lambda body: pytest.fail("read as Python objects"))
    validated, validate = [], api.oip.InferenceRequest.model_validate_json
    monkeypatch.setattr(
        api.oip.InferenceRequest, "model_validate_json", lambda text: validated.append(text) or validate(text)
    )
    cars = {name: values * 3333 for name, values in TUTORIAL_PAYLOAD.items()}  # 9,999 cars
    rows = [dict(zip(cars, values, strict=True)) for values in zip(*cars.values(), strict=True)]
    split = {"columns": list(cars), "data": [list(row.values()) for row in rows]}
    monkeypatch.setattr(np, "loadtxt", lambda *args, **kwargs: pytest.fail("CSV read by numpy"))
    text = ",".join(cars) + "\r\n" + "\r\n".join(",".join(map(str, row.values())) for row in rows) + "\r\n"
    answers = [client.post("/predict", json=cars), client.post("/invocations", json={"dataframe_split": split}),
               client.post("/v2/models/mpg/infer", json={"inputs": tensors(rows)}),
               client.post("/invocations", data=text, content_type="text/csv")]  # fmt: skip
    assert [response.status_code for response in answers] == [200] * 4
    assert len(validated) == 1 and len(validated[0]) < 1000  # the v2 request's header without its tensors' data
    first = answers[0].json["mpg_prediction"]
    assert answers[1].json["predictions"] == first == answers[2].json["outputs"][0]["data"]
    assert answers[3].json["predictions"] == first


HEADER = ",".join(config.FEATURES)
NOT_JSON_NUMBERS = ["+4", "-4", ".5", "4.", "", " ", "nan", "1_0", "0x10", "1e999", "4 5", '"4"', "4\r5", "\u0664",
                    "-", "1e", "00", "4;5"]  # fmt: skip


def _columns(read, body: str) -> object:
    """The columns `read` (csv_columns or read_csv) reads from a CSV body as exact text, or its error."""
    try:
        columns = read(body.encode()) if read is api.invocations.csv_columns else read(body)
        return json.dumps({name: np.asarray(values).tolist() for name, values in columns.items()})
    except api.schemas.RequestError as exc:  # json.dumps writes NaN as NaN: the same bits or not
        return exc.status, exc.message


@settings(max_examples=80, deadline=None)
@given(
    st.lists(CARS, min_size=1, max_size=30),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from(["", "\n", "\r\n\r\n"]),
    st.sampled_from([",", ", ", " ,"]),
    st.lists(st.tuples(st.integers(0, 29), st.integers(0, 6), st.sampled_from(NOT_JSON_NUMBERS)), max_size=2),
)
def test_csv_cells_read_by_simdjson_are_the_bits_numpy_reads(cars, end, last, comma, odd):
    """Lines of JSON numbers are read by simdjson to the bits np.loadtxt reads; any other cell leaves the body to
    numpy and the csv module; either way the columns are those the csv module and float() read."""
    rows = [[car[name] for name in config.FEATURES] for car in cars]
    changed = False
    for row, column, cell in odd:
        if row < len(rows):
            rows[row][column], changed = cell, True
    body = HEADER + end + end.join(comma.join(row) for row in rows) + last
    cells = body.partition("\n")[2]
    with mock.patch.object(api.schemas, "ARRAY_BYTES", 0):  # every size tried by simdjson
        read = api.invocations._json_rows(cells, len(config.FEATURES))
        assert (read is None) == changed
        if read is not None:
            numpy = np.loadtxt(io.StringIO(cells), delimiter=",", quotechar='"', comments=None, ndmin=2)
            assert read.tobytes() == numpy.tobytes()
        assert _columns(api.invocations.csv_columns, body) == _columns(api.invocations.read_csv, body)


EDGES = [
    "123456789012345678901234567890",
    "1e-400",
    "0.1e1",
    "-0",
    "4.0000000000000000000001",
    "2.2250738585072011e-308",
    "9007199254740993",
    "1E+2",
    "18446744073709551616",
]


@pytest.mark.parametrize("number", EDGES)
def test_json_numbers_at_the_edges_of_a_double_read_to_numpy_s_bits_or_are_left_to_it(number, monkeypatch):
    cells = "\n".join(",".join([number] * 7) for _ in range(3))
    monkeypatch.setattr(api.schemas, "ARRAY_BYTES", 0)
    read = api.invocations._json_rows(cells, 7)
    numpy = np.loadtxt(io.StringIO(cells), delimiter=",", ndmin=2)
    assert read is None or read.tobytes() == numpy.tobytes()


def test_the_shared_parser_is_not_reused_while_a_document_of_it_lives(monkeypatch):
    """One parser serves every request (api.schemas.REUSED_BYTES); a request reading while another's document is
    alive (a thread of a threaded worker), or a body over its capacity, gets a parser of its own, never the other's
    numbers."""
    first = api.schemas.json_document(json.dumps(WELL).encode() + b" " * 1024)
    second = api.schemas.json_document(json.dumps({**WELL, "Cylinders": [3, 5, 6]}).encode() + b" " * 1024)
    monkeypatch.setattr(api.schemas, "REUSED_BYTES", 1500)
    third = api.schemas.json_document(json.dumps({**WELL, "Cylinders": [8, 8, 8]}).encode() + b" " * 2048)
    assert [doc["Cylinders"].as_list() for doc in (first, second, third)] == [[4, 6, 8], [3, 5, 6], [8, 8, 8]]
    del first, second, third
    fourth = api.schemas.json_document(json.dumps(WELL).encode() + b" " * 1024)
    assert fourth["Cylinders"].as_list() == [4, 6, 8]


def test_a_body_simdjson_refuses_is_not_read_again_by_a_new_parser(monkeypatch):
    """pysimdjson raises RuntimeError both for a parser whose document is alive and for some bodies (an integer over
    64 bits): only the first is worth a new parser."""
    monkeypatch.setattr(api.schemas.simdjson, "Parser", lambda: pytest.fail("read again"))
    with pytest.raises(RuntimeError, match="BIGINT"):
        api.schemas.json_document(json.dumps({**WELL, "Weight": [2**70, 3150, 2600]}).encode() + b" " * 1024)


def _usual(monkeypatch) -> None:
    """Every body read the usual way, as before simdjson."""

    def refuse(body: bytes):
        raise ValueError("not read by simdjson here")

    for module in (api.schemas, api.invocations, api.oip):
        monkeypatch.setattr(module, "json_document", refuse)


WELL = {name: values for name, values in TUTORIAL_PAYLOAD.items()}
SPLIT_TEXT = json.dumps({"dataframe_split": SPLIT})
V2 = {"inputs": tensors(ROWS)}
ODD = {
    # what simdjson reads but the usual reading refuses or reads otherwise
    "an array nested where a number goes": ("/predict", json.dumps(WELL).replace("[4, 6, 8]", "[4, [6], 8]")),
    "a key given twice": ("/predict", json.dumps(WELL)[:-1] + ', "Cylinders": [3, 3, 3]}'),
    "a byte order mark": ("/predict", "\ufeff" + json.dumps(WELL)),
    "a bool": ("/predict", json.dumps({**WELL, "Origin": [True, 2, 3]})),
    "a null": ("/predict", json.dumps({**WELL, "Horsepower": [None, 130.0, 98.0]})),
    "text": ("/predict", json.dumps({**WELL, "Origin": ["Japan", 2, 3]})),
    "an integer beyond 64 bits": ("/predict", json.dumps({**WELL, "Weight": [2**70, 3150, 2600]})),
    "a number beyond a float": ("/predict", json.dumps(WELL).replace("2500.0", "1e400")),
    "out of bounds": ("/predict", json.dumps({**WELL, "Cylinders": [4, 6, 12]})),
    "not whole": ("/predict", json.dumps({**WELL, "Cylinders": [4, 6, 7.5]})),
    "an unknown column": ("/predict", json.dumps({**WELL, "Colour": [1, 2, 3]})),
    "columns of two lengths": ("/predict", json.dumps({**WELL, "Weight": [2500.0, 3150.0]})),
    "a [ in a key": ("/predict", json.dumps({**WELL, "Colour[0]": [1, 2, 3]})),
    "a list of cars": ("/predict", json.dumps([ONE, ONE])),
    "split: ragged rows": ("/invocations", SPLIT_TEXT.replace("81]", "81, 2]").replace(", 3]]", "]]")),
    "split: a row nested": ("/invocations", SPLIT_TEXT.replace("[4, ", "[[4], ", 1)),
    "split: a name twice": ("/invocations", SPLIT_TEXT.replace('"Horsepower"', '"Displacement"')),
    "split: an index not a list": ("/invocations", json.dumps({"dataframe_split": {**SPLIT, "index": {"a": [1]}}})),
    "split: an index of arrays": ("/invocations", json.dumps({"dataframe_split": {**SPLIT, "index": [[0], [1], [2]]}})),
    "split: a key twice": ("/invocations", SPLIT_TEXT[:-2] + ', "data": [[1, 2, 3, 4, 5, 6, 7]]}}'),
    "split: another key": ("/invocations", json.dumps({"dataframe_split": {**SPLIT, "dtypes": {}}})),
    "split: and another form": ("/invocations", SPLIT_TEXT[:-1] + ', "inputs": {}}'),
    "v2: a key twice": ("/v2/models/mpg/infer", json.dumps(V2)[:-1] + ', "inputs": []}'),
    "v2: a tensor's key twice": ("/v2/models/mpg/infer", json.dumps(V2).replace('"cylinders"', '"x", "name": "a"')),
    "v2: a null": ("/v2/models/mpg/infer", json.dumps(V2).replace("[4, 6, 8]", "[4, null, 8]")),
    "v2: a bool": ("/v2/models/mpg/infer", json.dumps(V2).replace("[4, 6, 8]", "[4, true, 8]")),
    "v2: nested": ("/v2/models/mpg/infer", json.dumps(V2).replace("[4, 6, 8]", "[[4], [6, 8]]")),
    "v2: names for origin": ("/v2/models/mpg/infer", json.dumps({"inputs": tensors(ROWS, origin_as_names=True)})),
    "v2: a number as id": ("/v2/models/mpg/infer", json.dumps({**V2, "id": 7})),
    "v2: an unknown key": ("/v2/models/mpg/infer", json.dumps({**V2, "model": "mpg"})),
    "v2: a byte order mark": ("/v2/models/mpg/infer", "\ufeff" + json.dumps(V2)),
    "v2: a shape that does not fit": ("/v2/models/mpg/infer", json.dumps(V2).replace("[3]", "[4]", 1)),
}  # fmt: skip


@pytest.mark.parametrize("case", list(ODD))
def test_every_other_body_is_answered_as_the_usual_reading_answers_it(client, monkeypatch, case):
    route, body = ODD[case]

    def answer() -> tuple[int, object]:
        response = client.post(route, data=body.encode(), content_type="application/json")
        payload = response.get_json()
        if isinstance(payload, dict) and "error" in payload:  # every answer has its own request ID
            payload = (
                {**payload, "error": {**payload["error"], "request_id": None}}
                if isinstance(payload["error"], dict)
                else {**payload, "request_id": None}
            )
        return response.status_code, payload

    monkeypatch.setattr(api.schemas, "ARRAY_BYTES", 0)  # these bodies are small: simdjson tries them all the same
    now = answer()
    _usual(monkeypatch)
    assert now == answer()
    assert now[0] < 500, now  # irregularly nested v2 data was a 500: a list += an array is numpy's addition


def test_simdjson_reads_a_body_from_array_bytes_on():
    body = json.dumps(WELL).encode()
    short = body + b" " * (api.schemas.ARRAY_BYTES - 1 - len(body))  # valid JSON, one byte under
    with pytest.raises(ValueError, match="small"):
        api.schemas.json_document(short)
    assert api.schemas.json_document(short + b" ")["Cylinders"].as_list() == WELL["Cylinders"]
