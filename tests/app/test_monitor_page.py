"""The Monitoring page (AppTest): off without MONITOR_TOKEN, refused with a wrong token, shown with the right one."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app_pages.view.monitor_charts import monitoring_enabled, token_matches, traffic_chart
from mpg import config
from mpg.monitoring.log import Batch, PredictionLog
from mpg.monitoring.report import load_report

PAGE = str(config.PROJ_ROOT / "app_pages" / "monitoring.py")
TOKEN = "s3cret-token"


def log_cars(url: str, auto_mpg, n: int, source: str = "api", heavier: float = 1200) -> None:
    """Log n cars from the data set, `heavier` lb heavier, one per request."""
    cars = auto_mpg.dropna(subset=config.FEATURES).sample(n, random_state=1)
    X = cars[config.FEATURES].to_numpy(dtype=np.float64, copy=True)
    X[:, 3] += heavier
    log = PredictionLog(url)
    for i, row in enumerate(X):
        p = np.array([20.0 + i % 10])
        log.record(Batch(X=row[None, :], predictions=p, lower=p - 3, upper=p + 3, model_version="v",
                         route="/predict" if source == "api" else "app", source=source,
                         request_id=f"{source}{i}"))  # fmt: skip
    log.close()


@pytest.fixture()
def log_url(tmp_path, monkeypatch) -> str:
    """DATABASE_URL, on a database of this test's (the page's report is cached by URL)."""
    url = f"sqlite:///{tmp_path / 'predictions.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture()
def logged(log_url, auto_mpg) -> str:
    """A prediction log holding 120 cars from the data set, 1,200 lb heavier, as DATABASE_URL."""
    log_cars(log_url, auto_mpg, 120)
    return log_url


def run(token: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    if token is not None:
        at.text_input[0].input(token).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(
    ("environ", "enabled"), [({}, False), ({"MONITOR_TOKEN": ""}, False), ({"MONITOR_TOKEN": "t"}, True)]
)
def test_enabled_only_with_a_token(environ, enabled):
    assert monitoring_enabled(environ) is enabled


@pytest.mark.parametrize(
    ("given", "environ", "ok"),
    [(TOKEN, {"MONITOR_TOKEN": TOKEN}, True), ("wrong", {"MONITOR_TOKEN": TOKEN}, False), ("", {}, False),
     (TOKEN[:-1], {"MONITOR_TOKEN": TOKEN}, False), ("", {"MONITOR_TOKEN": ""}, False)],
)  # fmt: skip
def test_token_matches(given, environ, ok):
    assert token_matches(given, environ) is ok


def test_page_hidden_without_a_token(monkeypatch, logged):
    monkeypatch.delenv("MONITOR_TOKEN", raising=False)
    at = run()
    assert "MONITOR_TOKEN" in at.error[0].value
    assert not at.text_input and not at.metric


def test_page_refuses_a_wrong_token(monkeypatch, logged):
    monkeypatch.setenv("MONITOR_TOKEN", TOKEN)
    assert not run().metric  # nothing before a token is entered
    at = run("not-the-token")
    assert at.error[0].value == "Wrong token."
    assert not at.metric and not at.get("vega_lite_chart")


def test_page_shows_the_report_with_the_right_token(monkeypatch, logged):
    monkeypatch.setenv("MONITOR_TOKEN", TOKEN)
    at = run(TOKEN)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Predictions"] == "120" and metrics["Requests"] == "120"
    table = at.dataframe[0].value
    assert table.loc[table["verdict"] == "DRIFTED", "input"].tolist() == [config.WEIGHT]
    assert len(at.get("vega_lite_chart")) == 2 + len(config.FEATURES)  # traffic, predicted MPG, one per input


def test_the_verdict_comes_before_short_p_values(monkeypatch, logged):
    # On a phone the table scrolls sideways: the verdict beside the input's name stays in view, and no p-value
    # like 1.2345e-250 widens its column.
    monkeypatch.setenv("MONITOR_TOKEN", TOKEN)
    table = run(TOKEN).dataframe[0].value
    assert table.columns.tolist() == ["input", "verdict", "PSI", "p-value", "unknown"]
    assert table.set_index("input").loc[config.WEIGHT, "p-value"] == "< 1e-6"
    assert max(len(p) for p in table["p-value"]) <= len("< 1e-6")


def test_too_few_predictions_to_judge_drift(monkeypatch, log_url, auto_mpg):
    monkeypatch.setenv("MONITOR_TOKEN", TOKEN)
    log_cars(log_url, auto_mpg, 60)
    at = run(TOKEN)
    assert [w.value for w in at.warning] == ["Too few predictions to judge drift: 60, at least 100 needed."]
    assert set(at.dataframe[0].value["verdict"]) == {"too few"}
    assert not [spec for spec in at.get("vega_lite_chart") if "DRIFTED" in spec.proto.spec]


def test_app_and_api_traffic_apart(monkeypatch, log_url, auto_mpg):
    monkeypatch.setenv("MONITOR_TOKEN", TOKEN)
    log_cars(log_url, auto_mpg, 120, source="api", heavier=0)  # callers send cars like the training ones
    log_cars(log_url, auto_mpg, 110, source="app")  # visitors try heavy cars
    at = run(TOKEN)
    assert {m.label: m.value for m in at.metric}["Predictions"] == "230"
    assert "API callers 120, app visitors 110" in at.caption[0].value
    at.radio(key="source").set_value("app visitors").run()
    assert {m.label: m.value for m in at.metric}["Predictions"] == "110"
    table = at.dataframe[0].value
    assert table.loc[table["verdict"] == "DRIFTED", "input"].tolist() == [config.WEIGHT]
    at.radio(key="source").set_value("API callers").run()
    assert {m.label: m.value for m in at.metric}["Predictions"] == "120"
    assert "DRIFTED" not in set(at.dataframe[0].value["verdict"])


def test_traffic_chart_draws_each_source(log_url, auto_mpg, model):
    log_cars(log_url, auto_mpg, 12, source="api")
    log_cars(log_url, auto_mpg, 5, source="app")
    chart = traffic_chart(load_report(log_url, model.card))
    assert set(chart.data["what"]) == {"API predictions", "app predictions", "requests"}
    assert chart.data.loc[chart.data["what"] == "app predictions", "count"].sum() == 5
    assert chart.to_dict()["encoding"]["x"]["title"] == "per minute (UTC)"
