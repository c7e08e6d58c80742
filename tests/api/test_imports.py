"""Serving loads what it runs: a worker validates, predicts, explains, logs and counts with no data-science stack."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mpg import config

HEAVY = ("pandas", "pyarrow", "scipy", "sklearn", "skl2onnx", "streamlit", "altair")


@pytest.mark.slow  # a fresh interpreter, as a gunicorn worker starts
def test_a_worker_imports_none_of_the_data_science_stack(tmp_path):
    code = (
        "import sys, json; import api.wsgi; client = api.wsgi.app.test_client();"
        "car = {'cylinders': 4, 'displacement': 108, 'horsepower': 75, 'weight': 2350, 'acceleration': 16.8,"
        " 'model_year': 81, 'origin': 'Japan'};"
        "answers = [client.post('/predict?explain=true', json=car).status_code,"
        " client.post('/invocations', data='cylinders,displacement,horsepower,weight,acceleration,model_year,origin\\n"
        "4,108,75,2350,16.8,81,3\\n', content_type='text/csv').status_code, client.get('/metrics').status_code];"
        "api.wsgi.app.extensions['prediction_log'].close();"  # the rows written, by the log's own thread
        f"print(json.dumps([answers, [m for m in {HEAVY!r} if m in sys.modules]]))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=config.PROJ_ROOT, capture_output=True, text=True, check=True,
        env={"DATABASE_URL": f"sqlite:///{tmp_path / 'log.sqlite3'}", "PATH": "/usr/bin:/bin"},
    ).stdout  # fmt: skip
    assert shown.strip().splitlines()[-1] == "[[200, 200, 200], []]"
    import sqlite3

    with sqlite3.connect(tmp_path / "log.sqlite3") as logged:
        assert logged.execute("select count(*) from predictions").fetchone() == (2,)  # both cars were logged
