"""`train --data F` makes F the product's data: the app's pages, the API's explanations and the monitoring
reference all follow the file the model card names, not the shipped CSV."""

from __future__ import annotations

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from api import create_app
from mpg import config
from mpg.artifact.store import load_model
from mpg.data import model_rows
from mpg.modeling.candidates import tutorial_candidates
from mpg.modeling.train import train_model
from mpg.monitoring.log import Batch, PredictionLog
from mpg.monitoring.report import load_report

APP = str(config.PROJ_ROOT / "streamlit_app.py")


@pytest.fixture(scope="module")
def small(tmp_path_factory, auto_mpg):
    """The four-cylinder cars only (204 of 398), renamed so they can be told apart, trained on in seconds."""
    directory = tmp_path_factory.mktemp("small")
    four = auto_mpg[auto_mpg[config.CYLINDERS] == 4].copy()
    four[config.NAME] = "small " + four[config.NAME]
    four.to_csv(directory / "four.csv", index=False)
    train_model(directory / "four.csv", directory / "model", candidates=tutorial_candidates()[:1])
    return directory / "four.csv", load_model(directory / "model"), four


def test_the_card_names_the_file(small):
    path, model, four = small
    assert model.card.data_file == path and model.card.data.rows == len(four)
    train, test = model_rows(model.card)
    assert len(train) + len(test) == len(four) and set(train[config.NAME]) <= set(four[config.NAME])


def test_the_api_explains_against_the_files_cars(small):
    _, model, four = small
    background = create_app(model).extensions["background"]
    cars = {tuple(row) for row in four[config.FEATURES].to_numpy()}
    assert len(background) > 0 and all(tuple(row) in cars for row in background)
    assert set(background[:, config.FEATURES.index(config.CYLINDERS)]) == {4.0}


def test_monitoring_measures_against_the_files_training_rows(small, tmp_path):
    _, model, _ = small
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    log = PredictionLog(url)
    heavy = np.array([[8, 350, 165, 4200, 12, 72, 1]], dtype=np.float64)  # inside the shipped range, not this one
    log.record(
        Batch(
            X=heavy,
            predictions=np.array([15.0]),
            lower=np.array([13.0]),
            upper=np.array([17.0]),
            model_version=model.version,
            route="/predict",
            source="api",
            request_id="r",
            warnings=[],
        )
    )
    log.close()
    report = load_report(url, model.card)
    train, _ = model_rows(model.card)
    assert report.training_mpg["p50"] == pytest.approx(float(train[config.TARGET].median()))
    assert report.extrapolated_share == 1.0


def test_the_monitor_command_follows_model_dir(small, tmp_path, monkeypatch, capsys):
    import json

    from mpg.cli import main

    _, model, _ = small
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    log = PredictionLog(url)
    log.record(Batch(X=np.array([[4, 108, 75, 2350, 16.8, 81, 3]], dtype=np.float64), predictions=np.array([32.0]),
                     lower=np.array([27.0]), upper=np.array([38.0]), model_version=model.version, route="/predict",
                     source="api", request_id="r", warnings=[]))  # fmt: skip
    log.close()
    monkeypatch.setenv("MODEL_DIR", str(model.directory))
    main(["monitor", "--database", url, "--json"])
    shown = json.loads(capsys.readouterr().out)
    train, _ = model_rows(model.card)
    assert shown["training_mpg"]["p50"] == pytest.approx(float(train[config.TARGET].median()))


@pytest.fixture()
def app_on(small, monkeypatch):
    monkeypatch.setenv("MODEL_DIR", str(small[1].directory))
    st.cache_data.clear()
    st.cache_resource.clear()  # the app keeps one model and its data per process
    yield small
    st.cache_data.clear()
    st.cache_resource.clear()


def test_the_apps_explore_and_model_pages_show_the_files_cars(app_on):
    _, model, four = app_on
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/explore.py").run()
    assert not at.exception, at.exception
    assert any(f"of {len(four)} cars" in caption.value for caption in at.caption)
    at.switch_page("app_pages/model.py").run()
    assert not at.exception, at.exception
    assert any(f"The {model.card.test_row_count} held-out cars" in h.value for h in at.subheader)
    assert model.card.test_row_count == len(model_rows(model.card)[1]) < len(four)
