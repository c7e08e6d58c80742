"""The report as people read it: app and API traffic apart, short p-values, traffic bins that suit the window, and
no drift verdict from too few predictions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from mpg import config
from mpg.cli import main
from mpg.data import model_rows
from mpg.monitoring.drift import CATEGORICAL, MIN_PREDICTIONS, PSI_THRESHOLD, compare
from mpg.monitoring.log import Batch, PredictionLog
from mpg.monitoring.report import format_p_value, load_report

END = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def training(model) -> pd.DataFrame:
    return model_rows(model.card)[0]


@pytest.fixture(scope="module")
def cars(auto_mpg) -> pd.DataFrame:
    """Cars drawn from the data set (those with every input known), as callers might send them."""
    return auto_mpg.dropna(subset=config.FEATURES).sample(300, replace=True, random_state=7).reset_index(drop=True)


@pytest.fixture()
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'predictions.sqlite3'}"


def record(url: str, cars: pd.DataFrame, source: str = "api", over: timedelta = timedelta(minutes=30)) -> None:
    """Log the cars one per request, spread evenly over the `over` before END."""
    log = PredictionLog(url)
    X = cars[config.FEATURES].to_numpy(dtype=np.float64)
    times = np.linspace((END - over).timestamp(), END.timestamp() - 1, len(X))  # the last in the bin before END
    for i, (row, moment) in enumerate(zip(X, times, strict=True)):
        p = np.array([60.0 - row[3] / 100])
        log.record(Batch(X=row[None, :], predictions=p, lower=p - 3, upper=p + 3, model_version="v",
                         route="app" if source == "app" else "/predict", source=source,
                         request_id=f"{source}-{i}", time=float(moment)))  # fmt: skip
    log.close()


def heavier(cars: pd.DataFrame) -> pd.DataFrame:
    return cars.assign(Weight=cars[config.WEIGHT] + 1200)


def monitor_json(*arguments: str, capsys) -> dict:
    assert main(["monitor", *arguments, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


# App and API traffic apart.


def test_source_filter_keeps_one_source(url, cars, capsys):
    # The app's visitors try heavy cars; the API's callers send cars like the training ones.
    record(url, cars.iloc[:150], source="api")
    record(url, heavier(cars.iloc[150:270]), source="app")
    both = monitor_json("--database", url, capsys=capsys)
    assert (both["predictions"], both["sources"], both["source"]) == (270, {"api": 150, "app": 120}, None)
    assert sum(t["sources"]["app"] for t in both["traffic"]) == 120

    app = monitor_json("--database", url, "--source", "app", capsys=capsys)
    assert (app["predictions"], app["sources"], app["source"]) == (120, {"app": 120}, "app")
    assert [name for name, d in app["drift"].items() if d["drifted"]] == [config.WEIGHT]
    api = monitor_json("--database", url, "--source", "api", capsys=capsys)
    assert (api["predictions"], api["sources"]) == (150, {"api": 150})
    assert not [name for name, d in api["drift"].items() if d["drifted"]]

    assert main(["monitor", "--database", url, "--source", "app"]) == 0
    assert capsys.readouterr().out.startswith("120 predictions in 120 requests (app only)")


def test_an_unknown_source_is_refused(url, cars, capsys):
    record(url, cars.iloc[:5])
    assert main(["monitor", "--database", url, "--source", "web"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'web'" in err and len(err.strip().splitlines()) == 1


# p-values as people read them.


@pytest.mark.parametrize(
    ("p_value", "shown"),
    [(0.0, "< 1e-6"), (1e-300, "< 1e-6"), (9.9e-7, "< 1e-6"), (1e-6, "1e-6"), (1.234e-5, "1.2e-5"),
     (0.00123, "0.0012"), (0.01234, "0.012"), (0.5, "0.5"), (1.0, "1"), (None, "")],
)  # fmt: skip
def test_p_values_read_as_people_read_them(p_value, shown):
    assert format_p_value(p_value) == shown


def test_cli_prints_a_tiny_p_value_short(url, cars, capsys):
    record(url, heavier(cars))
    assert main(["monitor", "--database", url]) == 0
    weight = next(line for line in capsys.readouterr().out.splitlines() if line.strip().startswith(config.WEIGHT))
    assert "< 1e-6" in weight and weight.endswith("DRIFTED") and "e-" not in weight.replace("1e-6", "")


# Traffic binned to suit the window.


@pytest.mark.parametrize(
    ("over", "since", "period", "bins"),
    [
        (timedelta(minutes=50), None, "minute", 50),
        (timedelta(minutes=90), None, "5 minutes", 18),
        (timedelta(minutes=10), timedelta(hours=1), "minute", 10),  # the window, not the data, sets the bin
        (timedelta(hours=30), None, "hour", 30),
        (timedelta(minutes=10), timedelta(days=1), "hour", 1),
        (timedelta(days=5), None, "day", 6),
        (timedelta(minutes=10), timedelta(days=7), "day", 1),
    ],
)
def test_traffic_bins_suit_the_window(url, cars, model, training, over, since, period, bins):
    record(url, cars.iloc[:120], over=over)
    report = load_report(url, model.card, END - since if since else None, training=training)
    assert report.traffic_period == period
    assert len(report.traffic) == bins
    assert sum(t.predictions for t in report.traffic) == 120


# No drift verdict from too few predictions.


def test_the_minimum_sample_is_where_psi_stops_being_noise(training, cars):
    # Cars drawn from the training data itself: below the minimum their PSI alone passes the threshold.
    def mean_psi(n: int) -> list[float]:
        """Each continuous input's PSI, averaged over 40 samples of n cars."""
        samples = [cars.sample(n, random_state=seed) for seed in range(40)]
        continuous = [name for name in config.FEATURES if name not in CATEGORICAL]
        return [np.mean([compare(training[f], s[f]).statistic for s in samples]) for f in continuous]

    assert min(mean_psi(MIN_PREDICTIONS // 2)) > PSI_THRESHOLD
    assert max(mean_psi(MIN_PREDICTIONS)) < 0.75 * PSI_THRESHOLD


def test_too_few_predictions_give_no_verdict(url, cars, capsys):
    record(url, heavier(cars.iloc[: MIN_PREDICTIONS - 1]))
    report = monitor_json("--database", url, capsys=capsys)
    assert (report["predictions"], report["drift_judged"], report["min_predictions"]) == (99, False, 100)
    assert all(d["drifted"] is None for d in report["drift"].values())
    assert report["predicted_mpg_drift"]["drifted"] is None

    assert main(["monitor", "--database", url]) == 0
    out = capsys.readouterr().out
    assert "too few predictions to judge drift: 99, at least 100 needed" in out
    assert "DRIFTED" not in out


def test_enough_predictions_are_judged(url, cars, capsys):
    record(url, heavier(cars.iloc[:MIN_PREDICTIONS]))
    report = monitor_json("--database", url, capsys=capsys)
    assert report["drift_judged"] is True
    assert [name for name, d in report["drift"].items() if d["drifted"]] == [config.WEIGHT]
    assert all(d["drifted"] is False for name, d in report["drift"].items() if name != config.WEIGHT)


def test_an_input_with_too_few_known_values_is_not_judged(training, cars):
    few_known = heavier(cars).assign(Weight=lambda c: c[config.WEIGHT].where(c.index < MIN_PREDICTIONS - 1))
    drift = compare(training[config.WEIGHT], few_known[config.WEIGHT])
    assert (drift.known, drift.drifted, drift.verdict) == (99, None, "too few")
    assert drift.statistic > PSI_THRESHOLD  # measured all the same, only not judged
