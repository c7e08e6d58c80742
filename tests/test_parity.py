"""One contract everywhere: a table of good and bad cars through every surface gives the same verdicts.

Surfaces: POST /predict (one request per car), `python -m mpg predict --input` with a CSV and with a
JSON file, the app's upload function (mpg.files.predict_file) and mpg.prediction.predict_table. A verdict is
the number (the same float, rounded to the surface's documented precision: 4 decimals in the API, 3 in
files) or a refusal naming the same fields. JSON numbers written as text ("93") are left out: a CSV cell
is always text, so there they are numbers (mpg/contract.py says so).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pandas as pd
import pytest

from api import create_app
from mpg import config
from mpg.files import predict_file
from mpg.prediction import predict_table

BASE = {
    "Cylinders": 4, "Displacement": 108.0, "Horsepower": 75.0, "Weight": 2350.0,
    "Acceleration": 16.8, "Model Year": 81, "Origin": 3,
}  # fmt: skip
CHANGES = [
    # good: predicted
    {},
    {"Origin": "Japan"},
    {"Origin": "jApAn"},
    {"Origin": "usa"},
    {"Origin": 2},
    {"Model Year": 1981},
    {"Model Year": 70},
    {"Model Year": 1999},  # plausible, outside the training years: extrapolated
    {"Weight": 6000.0},  # extrapolated
    {"Cylinders": 8, "Displacement": 350.0, "Horsepower": 165.0, "Weight": 4209.0, "Model Year": 71, "Origin": 1},
    {"Cylinders": 6, "Displacement": 225.0, "Horsepower": 100.0, "Weight": 3430.0, "Acceleration": 17.2},
    {"Acceleration": 8.0},
    {"Horsepower": 46.0, "Weight": 1755.0},
    {"Displacement": 68},
    {"Cylinders": 3, "Displacement": 70.0, "Horsepower": 90.0, "Weight": 2124.0, "Acceleration": 13.5},
    {"Weight": 2350},  # a whole number for a real field
    {"Cylinders": 5.0},  # a whole float for a whole-number field
    # unknown: predicted with the training value, flagged
    {"Horsepower": None},
    {"Origin": None},
    {"Model Year": None, "Weight": None},
    # bad: refused, naming the field
    {"Weight": -2350.0},
    {"Weight": 20000.0},
    {"Cylinders": 4.5},
    {"Cylinders": 0},
    {"Origin": "Mars"},
    {"Origin": 4},
    {"Origin": 1.5},
    {"Model Year": 2024},
    {"Model Year": 150},
    {"Horsepower": "fast"},
    {"Acceleration": 400.0},
    {"Displacement": 0},
    {"Weight": True},
    {"Acceleration": math.nan},
    {"Horsepower": "fast", "Origin": "Atlantis"},  # two problems, both named
    dict.fromkeys(BASE),  # nothing known: refused as a whole car (no field), not predicted as the median car
]
CARS = [{**BASE, **change} for change in CHANGES]


def _api(model) -> list:
    client = create_app(model).test_client()
    verdicts = []
    for car in CARS:
        response = client.post("/predict", data=json.dumps(car), content_type="application/json")
        if response.status_code == 200:
            verdicts.append(response.json["mpg_prediction"][0])
        else:
            assert response.status_code == 422, response.json
            verdicts.append(frozenset(d["field"] for d in response.json["error"]["details"]))
    return verdicts


def _csv_cell(value):
    """A JSON value as a CSV cell: null is an empty cell; NaN is written out (pandas would leave it empty)."""
    if value is None:
        return ""
    return "nan" if isinstance(value, float) and math.isnan(value) else value


def _file_verdicts(frame: pd.DataFrame) -> list:
    verdicts = []
    for predicted, problem in zip(frame["mpg_prediction"], frame["problem"], strict=True):
        if problem:  # refused rows have no prediction (NaN in a frame, an empty cell in a CSV)
            # "Field: problem", or a problem of the whole car (no field), as the API's details say with field null
            verdicts.append(frozenset(part.split(":")[0] if ":" in part else None for part in problem.split("; ")))
        else:
            verdicts.append(float(predicted))
    return verdicts


def _cli(tmp_path, suffix: str) -> list:
    source, target = tmp_path / f"cars.{suffix}", tmp_path / f"out-{suffix}.csv"
    if suffix == "json":
        source.write_text(json.dumps(CARS))
    else:
        pd.DataFrame([{k: _csv_cell(v) for k, v in car.items()} for car in CARS]).to_csv(source, index=False)
    result = subprocess.run(
        [sys.executable, "-m", "mpg", "predict", "--input", str(source), "--output", str(target)],
        cwd=config.PROJ_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # some rows refused: the output is still written
    return _file_verdicts(pd.read_csv(target, keep_default_na=False))


@pytest.fixture(scope="module")
def core(model) -> list:
    """mpg.prediction, car by car: the reference verdicts, unrounded."""
    verdicts = []
    for car in CARS:
        result = predict_table(model, [car], extra="forbid")
        if result.problems:
            verdicts.append(frozenset(p.field for p in result.problems))
        else:
            verdicts.append(float(result.predictions.mpg[0]))
    return verdicts


def _rounded(verdicts: list, digits: int) -> list:
    return [round(v, digits) if isinstance(v, float) else v for v in verdicts]


def test_the_table_covers_good_unknown_and_bad(core):
    refused = [v for v in core if isinstance(v, frozenset)]
    unknown = [v for car, v in zip(CARS, core, strict=True) if None in car.values() and isinstance(v, float)]
    assert refused and unknown and len(refused) + len(unknown) < len(CARS)  # refused, unknown but predicted, good
    assert frozenset({config.HORSEPOWER, config.ORIGIN}) in refused  # a car with two problems names both


def test_api_agrees(model, core):
    assert _api(model) == _rounded(core, 4)


@pytest.mark.slow  # starts the CLI
def test_cli_csv_agrees(tmp_path, core):
    assert _cli(tmp_path, "csv") == _rounded(core, 3)


@pytest.mark.slow  # starts the CLI
def test_cli_json_agrees(tmp_path, core):
    assert _cli(tmp_path, "json") == _rounded(core, 3)


def test_app_upload_agrees(model, core):
    csv = pd.DataFrame([{k: _csv_cell(v) for k, v in car.items()} for car in CARS]).to_csv(index=False).encode()
    result = predict_file(model, csv, "cars.csv")
    assert _file_verdicts(result.frame) == _rounded(core, 3)
    assert result.refused == sum(isinstance(v, frozenset) for v in core)


def test_a_whole_batch_agrees_with_car_by_car(model, core):
    """Bit for bit: the same path computes a car alone and inside a table of good and bad cars."""
    result = predict_table(model, CARS, extra="forbid")
    together = result.column(result.predictions.mpg)
    for alone, value in zip(core, together, strict=True):
        if isinstance(alone, float):
            assert value == alone
        else:
            assert math.isnan(value)
