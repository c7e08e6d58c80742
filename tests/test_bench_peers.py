"""bench/peers.py's own pieces, without the peers (no venv is built, no server started): the requests it sends to
our routes are the ones our API answers, and the agreement check catches a server that answers other numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from api import create_app
from bench.api import payload
from bench.peer_servers import OURS, binary_tensors, pins
from bench.peers import disagreements
from mpg import config
from mpg.monitoring.log import PredictionLog


@pytest.fixture(scope="module")
def cars():
    return payload(20)


@pytest.fixture(scope="module")
def reference(model, cars) -> list[float]:
    X = np.column_stack([cars[name] for name in config.FEATURES]).astype(np.float64)
    return model.compiled.predict(X).tolist()


@pytest.mark.parametrize("route", OURS)
def test_every_body_the_benchmark_sends_gets_the_models_mpg(model, cars, reference, route):
    client = create_app(model=model, prediction_log=PredictionLog(None)).test_client()
    body, headers = OURS[route].encode(cars)
    response = client.post(OURS[route].path, data=body, headers=headers)
    assert response.status_code == 200, response.data
    assert disagreements(reference, OURS[route].decode(response.data)) == []


def test_the_binary_body_holds_a_json_header_then_each_input_in_float64(cars):
    body, headers = binary_tensors(cars)
    length = int(headers["Inference-Header-Content-Length"])
    inputs = json.loads(body[:length])["inputs"]
    assert [tensor["name"] for tensor in inputs] == config.INPUT_NAMES
    assert {tensor["parameters"]["binary_data_size"] for tensor in inputs} == {8 * 20}
    weights = np.frombuffer(body[length + 3 * 160 : length + 4 * 160], dtype="<f8")
    assert weights.tolist() == cars[config.WEIGHT]


def test_agreement_is_within_a_hundredth_of_an_mpg():
    assert disagreements([30.0, 20.0], [30.0049, 19.995]) == []
    assert disagreements([30.0, 20.0], [30.02, 20.0]) == ["car 0: 30.02 against 30.0000"]
    assert disagreements([30.0, 20.0], [30.0, float("nan")]) == ["car 1: nan against 20.0000"]
    assert disagreements([30.0, 20.0], [30.0]) == ["1 answers for 2 cars"]


def test_every_peer_pins_its_tool_and_the_models_libraries_exactly():
    for peer in ("MLflow", "MLServer", "BentoML"):
        wanted = pins(peer)
        assert all("==" in pin for pin in wanted)
        assert "scikit-learn==1.9.1" in wanted  # the version the committed model was saved with
