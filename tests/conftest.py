"""Shared fixtures: the shipped data, the committed model, and a small model trained in seconds."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from mpg import config
from mpg.artifact.store import LoadedModel, load_model, save_model
from mpg.data import frame_hash, load_auto_mpg, split_train_test
from mpg.insight import explain
from mpg.modeling.candidates import tutorial_candidates
from mpg.modeling.evaluate import regression_metrics
from mpg.modeling.selection import Selection, select_model
from mpg.modeling.train import input_schema
from mpg.modeling.uncertainty import calibrate

# The original UCI file, shipped with the tests (30 KB, public): a clone with nothing beside it passes.
REFERENCE_UCI = Path(__file__).resolve().parent / "data" / "auto-mpg.data"
# What a test may leave inside the project: the environment and caches (the guard below ignores them).
MAY_WRITE = {".venv", ".git", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", ".schemathesis"}


def project_files(root: Path = config.PROJ_ROOT) -> dict[str, int]:
    """Every file of the project but the environment and caches, with its modification time in ns."""
    found = {}
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in MAY_WRITE]
        for name in files:
            path = os.path.join(folder, name)
            found[os.path.relpath(path, root)] = os.stat(path).st_mtime_ns
    return found


def written(before: dict[str, int], after: dict[str, int]) -> list[str]:
    """Files created or modified between two `project_files` snapshots."""
    return sorted(name for name, mtime in after.items() if before.get(name) != mtime)


@pytest.fixture(scope="session", autouse=True)
def nothing_written_by_the_session():
    """Servers started by session fixtures write between tests: the whole run is checked too."""
    before = project_files()
    yield
    if changed := written(before, project_files()):
        pytest.fail(f"the test session wrote into the project: {', '.join(changed)}")


@pytest.fixture(autouse=True)
def nothing_written_into_the_project(tmp_path_factory, monkeypatch):
    """Every test logs predictions into a temporary database, and fails if it wrote a file into the project."""
    database = tmp_path_factory.mktemp("log") / "predictions.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    before = project_files()
    yield
    if changed := written(before, project_files()):
        pytest.fail(f"the test wrote into the project: {', '.join(changed)}")


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
    """A LinearRegression saved like the real one, chosen by the real selection among one candidate: seconds."""
    train, test = split
    selection = select_model(train, tutorial_candidates()[:1], n_jobs=1)
    directory = tmp_path_factory.mktemp("small_model")
    save_model(selection.pipeline, small_card_fields(selection, train, test), directory)
    return directory


def small_card_fields(selection: Selection, train, test) -> dict:
    """A real card for a selection (of one candidate, say)."""
    pipeline, row = selection.pipeline, selection.leaderboard[0]
    scores = regression_metrics(train[config.TARGET], pipeline.predict(train[config.FEATURES]), "train_")
    scores |= regression_metrics(test[config.TARGET], pipeline.predict(test[config.FEATURES]), "test_")
    return {
        "model": selection.best,
        "trained_at": "2026-01-01T00:00:00+00:00",
        "training_seconds": 0.0,
        "data": {"path": "mpg/data/auto-mpg.csv", "sha256": frame_hash(pd.concat([train, test]).sort_index()),
                 "rows": len(train) + len(test), "rows_without_mpg": 0, "test_rows": sorted(map(int, test.index))},
        "split": {"method": "StratifiedShuffleSplit on Cylinders", "test_size": config.TEST_SIZE, "seed": config.SEED},
        "inputs": input_schema(train, pipeline),
        "metrics": scores | {"cv_rmse": row["cv_rmse_mean"], "cv_rmse_std": row["cv_rmse_std"]},
        "interval": calibrate(pipeline, train, n_jobs=1),
        "selection": selection.rule,
        "leaderboard": selection.leaderboard,
        "importances": {"permutation": [{"feature": name, "mean": 0.0, "std": 0.0} for name in config.FEATURES]},
        "background": explain.background(pd.concat([train, test])).tolist(),
    }  # fmt: skip


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
    directory = tmp_path_factory.mktemp("gunicorn")
    env = {"DATABASE_URL": f"sqlite:///{directory / 'predictions.sqlite3'}"}  # never the project's var/
    with running(gunicorn_command(port), f"http://127.0.0.1:{port}/health", directory / "gunicorn.log", env=env):
        yield f"http://127.0.0.1:{port}"


# The live app's Monitoring page opens with this token.
MONITOR_TOKEN = "browser-test-token"


@pytest.fixture(scope="session")
def live_app_log(tmp_path_factory) -> str:
    """The live app's prediction log (DATABASE_URL): a test may log traffic into it for the Monitoring page."""
    return f"sqlite:///{tmp_path_factory.mktemp('streamlit_log') / 'predictions.sqlite3'}"  # never the project's var/


@pytest.fixture(scope="session")
def live_app(tmp_path_factory, live_app_log):
    """`streamlit run streamlit_app.py` on a free loopback port, as `make run` starts it, with its Monitoring page."""
    import sys

    from tests.servers import free_port, running

    port = free_port()
    directory = tmp_path_factory.mktemp("streamlit")
    env = {"DATABASE_URL": live_app_log, "MONITOR_TOKEN": MONITOR_TOKEN}
    command = [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
    ]  # fmt: skip
    with running(command, f"http://127.0.0.1:{port}/_stcore/health", directory / "streamlit.log", env=env):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server (tests/postgres.py). Skips without PostgreSQL; CI sets MPG_REQUIRE_POSTGRES=1."""
    import os

    from tests.postgres import postgres_bin, throwaway_cluster

    bin_dir = postgres_bin()
    if bin_dir is None:
        message = "PostgreSQL not found under /usr/lib/postgresql: apt-get install -y postgresql"
        if os.environ.get("MPG_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with throwaway_cluster(bin_dir) as cluster:
        yield cluster
