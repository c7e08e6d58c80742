"""The API as deployed: real gunicorn over HTTP, and a schemathesis fuzz of its OpenAPI document."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests

from mpg import config
from tests.api.test_api import ONE, TUTORIAL_PAYLOAD

pytestmark = pytest.mark.slow


def test_gunicorn_serves_predictions(live_api, model):
    health = requests.get(f"{live_api}/health", timeout=5)
    assert health.json()["model_version"] == model.version
    response = requests.post(f"{live_api}/predict", json=TUTORIAL_PAYLOAD, timeout=5)
    assert response.status_code == 200
    assert len(response.json()["mpg_prediction"]) == 3
    bad = requests.post(f"{live_api}/predict", json={**ONE, "Weight": "heavy"}, timeout=5)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "Weight"
    assert (
        requests.post(f"{live_api}/predict", data="{", headers={"Content-Type": "application/json"}).status_code == 400
    )


def test_one_row_vs_batch_over_http(live_api):
    rows = [{**ONE, "Weight": w} for w in (2000.0, 2500.0, 3000.0, 3500.0)]
    batch = requests.post(f"{live_api}/predict", json=rows, timeout=5).json()["mpg_prediction"]
    alone = [requests.post(f"{live_api}/predict", json=r, timeout=5).json()["mpg_prediction"][0] for r in rows]
    assert batch == alone
    assert batch == sorted(batch, reverse=True)  # heavier, lower


def test_openapi_fuzz_with_schemathesis(live_api, tmp_path):
    """Every default check of schemathesis, positive and negative data, against the real server."""
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file", str(config.PROJ_ROOT / "tests" / "schemathesis.toml"), "run", f"{live_api}/openapi.json",
        "--max-examples", "80", "--seed", "42", "--workers", "1",
        "--report", "junit", "--report-dir", str(tmp_path),
    ]  # fmt: skip
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks", "PYTHONPATH": str(config.PROJ_ROOT)}
    result = subprocess.run(command, cwd=config.PROJ_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    report = ElementTree.parse(next(tmp_path.glob("junit-*.xml")))
    cases = {case.get("name"): case for case in report.iter("testcase")}
    document = requests.get(f"{live_api}/openapi.json", timeout=5).json()
    operations = {f"{method.upper()} {path}" for path, ops in document["paths"].items() for method in ops}
    # Every route, the dialects' included (schemathesis leaves out the document's own URL).
    assert len(operations) >= 20 and operations - {"GET /openapi.json"} <= set(cases)
    assert not [name for name, case in cases.items() if case.find("failure") is not None]
