"""The Monitoring page (AppTest): off without MONITOR_TOKEN, refused with a wrong token, shown with the right one."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app_pages.view.monitor_charts import monitoring_enabled, token_matches
from mpg import config
from mpg.monitoring.log import Batch, PredictionLog

PAGE = str(config.PROJ_ROOT / "app_pages" / "monitoring.py")
TOKEN = "s3cret-token"


@pytest.fixture()
def logged(tmp_path, monkeypatch, auto_mpg) -> str:
    """A prediction log holding 120 cars from the data set, 1,200 lb heavier, as DATABASE_URL."""
    url = f"sqlite:///{tmp_path / 'predictions.sqlite3'}"
    cars = auto_mpg.dropna(subset=config.FEATURES).sample(120, random_state=1)
    X = cars[config.FEATURES].to_numpy(dtype=np.float64, copy=True)
    X[:, 3] += 1200
    log = PredictionLog(url)
    for i, row in enumerate(X):
        p = np.array([20.0 + i % 10])
        log.record(Batch(X=row[None, :], predictions=p, lower=p - 3, upper=p + 3, model_version="v",
                         route="/predict", source="api", request_id=f"r{i}"))  # fmt: skip
    log.close()
    monkeypatch.setenv("DATABASE_URL", url)
    return url


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
    assert table.loc[table["drifted"], "input"].tolist() == [config.WEIGHT]
    assert len(at.get("vega_lite_chart")) == 2 + len(config.FEATURES)  # traffic, predicted MPG, one per input
