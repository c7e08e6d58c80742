"""The monitoring report: drift against the training rows, and `python -m mpg monitor` on real databases."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from mpg import config
from mpg.cli import main
from mpg.data import model_rows
from mpg.monitoring.drift import input_drift
from mpg.monitoring.log import Batch, PredictionLog
from mpg.monitoring.report import load_report
from mpg.prediction import input_warnings
from mpg.problems import Problem


@pytest.fixture(scope="module")
def training(model) -> pd.DataFrame:
    return model_rows(model.card)[0]


@pytest.fixture(scope="module")
def cars(auto_mpg) -> pd.DataFrame:
    """300 cars drawn from the data set (those with every input known), as callers might send them."""
    complete = auto_mpg.dropna(subset=config.FEATURES)
    return complete.sample(300, replace=True, random_state=7).reset_index(drop=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'predictions.sqlite3'}"
    return request.getfixturevalue("postgres").create_database()


def record(url: str, cars: pd.DataFrame, per_request: int = 3, warn_every: int = 0) -> None:
    """Log the cars as the API would: requests of `per_request` cars, one made-up MPG each."""
    log = PredictionLog(url)
    X = cars[config.FEATURES].to_numpy(dtype=np.float64)
    for n, start in enumerate(range(0, len(X), per_request)):
        rows = X[start : start + per_request]
        predicted = 60.0 - rows[:, 3] / 100  # lighter cars, more MPG: 20-45 for these cars
        warnings = [Problem(0, config.WEIGHT, "warned")] if warn_every and n % warn_every == 0 else []
        log.record(
            Batch(X=rows, predictions=predicted, lower=predicted - 3, upper=predicted + 3, model_version="v",
                  route="/predict", source="api", request_id=f"req-{n}", warnings=warnings)
        )  # fmt: skip
    log.close()


def test_cars_from_the_data_set_do_not_drift(training, cars):
    drift = input_drift(training, cars)
    assert list(drift) == config.FEATURES
    assert not [name for name, d in drift.items() if d.drifted], {n: d.statistic for n, d in drift.items()}


def test_heavier_cars_drift_in_weight_only(training, cars):
    drift = input_drift(training, cars.assign(Weight=cars[config.WEIGHT] + 1200))
    assert [name for name, d in drift.items() if d.drifted] == [config.WEIGHT]
    assert drift[config.WEIGHT].statistic > 0.2 and drift[config.WEIGHT].p_value < 0.01


def test_unknown_inputs_are_left_out(training, cars):
    half_unknown = cars.assign(Horsepower=cars[config.HORSEPOWER].where(cars.index % 2 == 0))
    drift = input_drift(training, half_unknown)[config.HORSEPOWER]
    assert (drift.known, drift.unknown) == (150, 150)
    assert not drift.drifted
    nothing_known = input_drift(training, cars.assign(Horsepower=np.nan))[config.HORSEPOWER]
    assert (nothing_known.statistic, nothing_known.drifted, nothing_known.known) == (None, None, 0)


def test_report_over_a_logged_day(database, training, cars, model):
    sent = cars.copy()
    sent.loc[:9, config.WEIGHT] = 6000.0  # 10 cars heavier than any training car: extrapolated
    sent.loc[10:14, config.ORIGIN] = np.nan  # 5 cars of unknown origin
    record(database, sent, per_request=3, warn_every=10)
    # Extrapolated as the API warns: a value outside the committed model's training range.
    warned = input_warnings(model, sent[config.FEATURES].to_numpy(dtype=np.float64))
    problems = [w for w in warned if w.kind == "extrapolation"]
    extrapolated = len({p.row for p in problems})
    assert extrapolated >= 10

    report = load_report(database, model.card, training=training)
    assert report.predictions == 300
    assert report.requests == 100
    assert report.sources == {"api": 300}
    assert report.extrapolated_share == pytest.approx(extrapolated / 300)
    assert report.unknown_input_share == pytest.approx(5 / 300)
    assert report.warning_share == pytest.approx(10 / 300)
    assert report.drift[config.ORIGIN].unknown == 5
    assert not [name for name, d in report.drift.items() if d.drifted]
    assert report.traffic_period == "minute"  # logged within seconds
    assert sum(t.predictions for t in report.traffic) == 300
    assert sum(t.requests for t in report.traffic) == 100
    assert 20 <= report.predicted_mpg["p50"] <= 45


def test_monitor_json(database, cars, capsys):
    record(database, cars.assign(Weight=cars[config.WEIGHT] + 1200))
    assert main(["monitor", "--database", database, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["predictions"] == 300 and isinstance(report["predictions"], int)
    assert list(report["drift"]) == config.FEATURES
    assert all(isinstance(d["statistic"], float) and isinstance(d["drifted"], bool) for d in report["drift"].values())
    assert [name for name, d in report["drift"].items() if d["drifted"]] == [config.WEIGHT]

    assert main(["monitor", "--database", database, "--since", "2999-01-01", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["predictions"] == 0


def test_monitor_text(tmp_path, cars, capsys):
    url = f"sqlite:///{tmp_path / 'predictions.sqlite3'}"
    record(url, cars.assign(Weight=cars[config.WEIGHT] + 1200))
    assert main(["monitor", "--database", url]) == 0
    out = capsys.readouterr().out
    assert "300 predictions in 100 requests" in out
    assert [line.split()[0] for line in out.splitlines() if line.endswith("DRIFTED")] == [config.WEIGHT]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--since", "last tuesday"], "not an ISO time"),
        (["--since", "2025-13-01"], "not an ISO time"),
        (["--database", "not a url"], "not a database URL"),
        (["--database", "sqlite:////nonexistent/predictions.sqlite3"], "no prediction log at"),
        (["--database", "postgresql+psycopg://mpg:secret@/mpg?host=/nonexistent"], "cannot be read"),
        (["--database", "nosuchdb://x"], "cannot be read"),
    ],
)
def test_monitor_bad_input(arguments, message, capsys):
    assert main(["monitor", *arguments]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert "secret" not in err


@pytest.mark.slow
def test_monitor_command_line(tmp_path, postgres, cars):
    """The real command: JSON on stdout; a bad time or a dead database, one line on stderr and exit 2."""
    url = postgres.create_database()
    record(url, cars)
    done = subprocess.run(
        [sys.executable, "-m", "mpg", "monitor", "--database", url, "--json"],
        capture_output=True, text=True, cwd=config.PROJ_ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["predictions"] == 300
    for bad in (["--since", "soon"], ["--database", f"postgresql+psycopg://postgres@/x?host={tmp_path}"]):
        done = subprocess.run(
            [sys.executable, "-m", "mpg", "monitor", *bad], capture_output=True, text=True, cwd=config.PROJ_ROOT
        )
        assert done.returncode == 2
        assert done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1
        assert "Traceback" not in done.stderr
