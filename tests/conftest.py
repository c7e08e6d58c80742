"""Shared fixtures: the shipped data, the committed model, and a small model trained in seconds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from mpg import config
from mpg.data import load_auto_mpg, split_train_test
from mpg.persistence import LoadedModel, load_model, save_model
from mpg.pipeline import build_pipeline
from mpg.train import input_schema
from mpg.uncertainty import calibrate

REFERENCE_UCI = config.PROJ_ROOT.parent / "shared" / "data" / "auto-mpg.data"


@pytest.fixture(scope="session")
def auto_mpg() -> pd.DataFrame:
    return load_auto_mpg()


@pytest.fixture(scope="session")
def split(auto_mpg):
    return split_train_test(auto_mpg)


@pytest.fixture(scope="session")
def model() -> LoadedModel:
    """The committed model, as every surface loads it."""
    return load_model()


@pytest.fixture(scope="session")
def small_model_dir(tmp_path_factory, split) -> Path:
    """A LinearRegression pipeline saved like the real one: fast to fit, same files and checks."""
    train, _ = split
    pipeline = build_pipeline(LinearRegression()).fit(train[config.FEATURES], train[config.TARGET])
    directory = tmp_path_factory.mktemp("small_model")
    band = calibrate(pipeline, train, n_jobs=1)
    save_model(pipeline, {"model": "linear_regression", "schema": input_schema(train), "interval": band}, directory)
    return directory


@pytest.fixture()
def small_model(small_model_dir) -> LoadedModel:
    return load_model(small_model_dir)


@pytest.fixture()
def vehicle() -> dict:
    """One real car (a 1982 Toyota Corolla-like compact), canonical keys."""
    return {
        "Cylinders": 4,
        "Displacement": 108.0,
        "Horsepower": 75.0,
        "Weight": 2350.0,
        "Acceleration": 16.8,
        "Model Year": 81,
        "Origin": 3,
    }


@pytest.fixture(scope="session")
def live_api(tmp_path_factory):
    """The API served by real gunicorn (the repository's gunicorn.conf.py) on a free loopback port."""
    from tests.servers import free_port, gunicorn_command, running

    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with running(gunicorn_command(port), f"http://127.0.0.1:{port}/health", log):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """`streamlit run streamlit_app.py` on a free loopback port, as `make run` starts it."""
    import sys

    from tests.servers import free_port, running

    port = free_port()
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    command = [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
    ]  # fmt: skip
    with running(command, f"http://127.0.0.1:{port}/_stcore/health", log):
        yield f"http://127.0.0.1:{port}"
