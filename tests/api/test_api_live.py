"""The dialects, metrics, logs and the prediction log against real gunicorn with 2 workers (gunicorn.conf.py).

Clients no one here wrote (tritonclient), metrics summed over workers that come and go, and the
prediction log under load, with its database killed or locked, and flushed at SIGTERM.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import requests

from mpg import config
from mpg.monitoring.table import connect, read_log
from tests.api.test_dialects import ROWS, SNAKE_NAMES, tensors
from tests.servers import free_port, gunicorn_command, running
from tests.test_deploy import workers_of

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def api(tmp_path: Path, database_url: str, **env: str):
    """gunicorn with 2 workers on a free port; yields (url, process, log file)."""
    port = free_port()
    log = tmp_path / f"gunicorn-{port}.log"
    env = {"DATABASE_URL": database_url, **env}
    with running(gunicorn_command(port, workers=2), f"http://127.0.0.1:{port}/health", log, env=env) as process:
        yield f"http://127.0.0.1:{port}", process, log


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("live")
    with api(directory, f"sqlite:///{directory / 'predictions.sqlite3'}") as served:
        yield served


def metric(url: str, name: str) -> float:
    """A metric's value, summed over its label sets, as a scrape shows it."""
    text = requests.get(f"{url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith((f"{name} ", f"{name}{{"))
    )


def test_tritonclient_speaks_to_the_v2_routes(server, model):
    import tritonclient.http as triton
    from tritonclient.utils import InferenceServerException

    url, _, _ = server
    client = triton.InferenceServerClient(url=url.removeprefix("http://"))
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("mpg") and client.is_model_ready("mpg", model.version)
    assert not client.is_model_ready("mpg", "0000")
    metadata = client.get_model_metadata("mpg")
    assert [t["name"] for t in metadata["inputs"]] == SNAKE_NAMES and metadata["versions"] == [model.version]

    expected = requests.post(f"{url}/predict", json=ROWS, timeout=10).json()
    for binary in (True, False):  # tritonclient's default (binary tensor data) and plain JSON
        inputs = []
        for tensor in tensors(ROWS, origin_as_names=True):
            dtype = np.object_ if tensor["datatype"] == "BYTES" else np.float64
            values = np.array([v.encode() for v in tensor["data"]] if dtype is np.object_ else tensor["data"], dtype)
            entry = triton.InferInput(tensor["name"], list(values.shape), "BYTES" if dtype is np.object_ else "FP64")
            entry.set_data_from_numpy(values, binary_data=binary)
            inputs.append(entry)
        result = client.infer("mpg", inputs, request_id=f"triton-{binary}")
        assert result.get_response()["id"] == f"triton-{binary}"
        for name in ("mpg_prediction", "mpg_lower", "mpg_upper"):
            assert result.as_numpy(name).tolist() == expected[name]
        only = client.infer("mpg", inputs, model_version=model.version,
                            outputs=[triton.InferRequestedOutput("mpg_lower", binary_data=binary)])  # fmt: skip
        assert [o["name"] for o in only.get_response()["outputs"]] == ["mpg_lower"]

    matrix = triton.InferInput("input", [1, 7], "FP64")
    matrix.set_data_from_numpy(np.array([[ROWS[0][name] for name in config.FEATURES]], dtype=np.float64))
    assert client.infer("mpg", [matrix]).as_numpy("mpg_prediction").tolist() == expected["mpg_prediction"][:1]
    matrix.set_data_from_numpy(np.array([[4, 155, 93, -2500, 15, 81, 3]], dtype=np.float64))
    with pytest.raises(InferenceServerException) as refused:
        client.infer("mpg", [matrix])
    assert refused.value.status() == "400" and "Weight" in refused.value.message()


def metrics_directory(worker: int) -> Path:
    """Where a worker writes its metrics: prometheus_client keeps its files there open."""
    for fd in Path(f"/proc/{worker}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = Path(os.readlink(fd))
            if target.suffix == ".db":
                return target.parent
    raise AssertionError(f"worker {worker} has no metrics file open")


def counted_by(worker: int) -> float:
    """The rows one worker counted, read from its own metrics file (prometheus_client's merge of one file)."""
    from prometheus_client.multiprocess import MultiProcessCollector

    files = [str(f) for f in metrics_directory(worker).glob(f"counter_{worker}.db")]
    merged = MultiProcessCollector.merge(files, accumulate=True)
    return sum(
        s.value for m in merged if m.name == "mpg_rows_predicted" for s in m.samples if s.name.endswith("_total")
    )


def predict_on_new_connections(url: str, times: int) -> int:
    """POST /invocations `times` times, a new connection each time (either worker may accept it); the rows sent."""
    sent = 0
    for i in range(times):
        rows = ROWS[: 1 + i % 3]
        assert requests.post(f"{url}/invocations", json={"instances": rows}, timeout=10).status_code == 200
        sent += len(rows)
    return sent


def test_metrics_add_up_over_workers_and_keep_a_killed_workers_counts(server):
    url, process, _ = server
    before = metric(url, "mpg_rows_predicted_total")
    sent = predict_on_new_connections(url, 40)
    requests.get(f"{url}/health", timeout=10)
    assert metric(url, "mpg_rows_predicted_total") - before == sent
    assert 'route="/health"' not in requests.get(f"{url}/metrics", timeout=10).text  # probes are not counted

    victims = [worker for worker in workers_of(process.pid) if counted_by(worker) > 0]
    assert victims, "no worker counted a row: killing one would show nothing"
    os.kill(victims[0], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while (len(workers_of(process.pid)) < 2 or victims[0] in workers_of(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # the new worker loads the model before it answers
    assert metric(url, "mpg_rows_predicted_total") - before == sent  # nothing lost with the worker


def test_a_reload_keeps_the_counts_and_the_run_removes_its_metrics_directory(tmp_path):
    with api(tmp_path, f"sqlite:///{tmp_path / 'predictions.sqlite3'}") as (url, process, _):
        sent = predict_on_new_connections(url, 20)
        assert metric(url, "mpg_rows_predicted_total") == sent
        before = workers_of(process.pid)
        directory = metrics_directory(before[0])
        assert directory.name.startswith("mpg-metrics-") and metrics_directory(before[1]) == directory

        process.send_signal(signal.SIGHUP)  # reload: new workers, the old ones stopped gracefully
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = workers_of(process.pid)
            if len(now) == 2 and not set(now) & set(before):
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"workers {before} not replaced after SIGHUP: {workers_of(process.pid)}")
        sent += predict_on_new_connections(url, 20)
        assert metric(url, "mpg_rows_predicted_total") == sent  # the old workers' counts are still in the sum
        assert {metrics_directory(worker) for worker in workers_of(process.pid)} == {directory}

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert not directory.exists()


def test_a_named_metrics_directory_starts_empty_and_is_left(tmp_path):
    named = tmp_path / "metrics"
    for run in range(2):
        with api(tmp_path, f"sqlite:///{tmp_path / 'predictions.sqlite3'}",
                 PROMETHEUS_MULTIPROC_DIR=str(named)) as (url, process, _):  # fmt: skip
            assert metric(url, "mpg_rows_predicted_total") == 0  # nothing of the run before
            assert predict_on_new_connections(url, 5) > 0
            assert metrics_directory(workers_of(process.pid)[0]) == named
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        assert any(named.glob("counter_*.db")), f"run {run}: the named directory was removed"


def test_access_log_lines_in_gunicorn_stdout(server):
    url, _, log = server
    requests.post(f"{url}/predict", json=ROWS, headers={"X-Request-ID": "live-log-1"}, timeout=10)
    requests.get(f"{url}/v2/health/live", headers={"X-Request-ID": "live-probe-1"}, timeout=10)
    time.sleep(0.5)
    text = log.read_text()
    line = next(line for line in text.splitlines() if "request_id=live-log-1" in line)
    assert "method=POST route=/predict status=200 rows=3 duration_ms=" in line
    assert "live-probe-1" not in text


def _load(url: str, seconds: float, threads: int = 8) -> tuple[dict[str, int], list[int]]:
    """Requests on every predicting route from `threads` clients; returns {request ID: cars} and failed statuses."""
    sent: dict[str, int] = {}
    failed: list[int] = []
    counter = itertools.count()
    stop_at = time.monotonic() + seconds

    def client(worker: int):
        session = requests.Session()
        while time.monotonic() < stop_at:
            n = next(counter)
            rows, rid = ROWS[: 1 + n % 3], f"load-{worker}-{n}"
            route, body = [("/predict", {"json": rows}), ("/invocations", {"json": {"dataframe_records": rows}}),
                           ("/v2/models/mpg/infer", {"json": {"inputs": tensors(rows)}})][n % 3]  # fmt: skip
            caller = requests if n % 5 == 0 else session  # now and then a fresh connection
            try:
                status = caller.post(f"{url}{route}", headers={"X-Request-ID": rid}, timeout=15, **body).status_code
            except requests.RequestException:
                status = -1
            if status == 200:
                sent[rid] = len(rows)
            else:
                failed.append(status)

    pool = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sent, failed


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'predictions.sqlite3'}"
    return request.getfixturevalue("postgres").create_database()


def test_under_load_every_row_sent_is_logged_exactly_once(tmp_path, database):
    with api(tmp_path, database) as (url, _, _):
        sent, failed = _load(url, seconds=8)
    # The server has stopped (SIGTERM): each worker wrote its queue before going.
    assert not failed and len(sent) > 200
    logged = read_log(connect(database))
    assert logged["request_id"].value_counts().sort_index().to_dict() == dict(sorted(sent.items()))
    assert set(logged["route"]) == {"/predict", "/invocations", "/v2/models/mpg/infer"}


def test_sigterm_flushes_the_queue(tmp_path):
    database = f"sqlite:///{tmp_path / 'predictions.sqlite3'}"
    with api(tmp_path, database) as (url, process, _):
        session = requests.Session()
        for i in range(30):  # well inside the writer's 1 s batch window
            assert session.post(f"{url}/predict", json=ROWS[0], headers={"X-Request-ID": f"t{i}"}).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert len(read_log(connect(database))) == 30


def test_database_killed_mid_load_costs_no_prediction_and_drops_are_counted(tmp_path):
    from tests.postgres import postgres_bin, throwaway_cluster

    if postgres_bin() is None:
        pytest.skip("PostgreSQL not found under /usr/lib/postgresql")
    with throwaway_cluster(postgres_bin()) as cluster, api(tmp_path, cluster.create_database()) as (url, _, _):
        killer = threading.Timer(2.0, cluster.stop)
        killer.start()
        sent, failed = _load(url, seconds=6)
        killer.join()
        assert not failed and len(sent) > 100
        deadline = time.monotonic() + 30
        while metric(url, "mpg_prediction_log_dropped_total") == 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        dropped, written = (
            metric(url, "mpg_prediction_log_dropped_total"),
            metric(url, "mpg_prediction_log_written_total"),
        )
        assert dropped > 0
        assert written + dropped <= sum(sent.values())
        assert requests.post(f"{url}/predict", json=ROWS, timeout=10).status_code == 200


def test_database_locked_mid_load_costs_no_prediction_and_drops_are_counted(tmp_path):
    path = tmp_path / "predictions.sqlite3"
    with api(tmp_path, f"sqlite:///{path}") as (url, _, _):
        assert requests.post(f"{url}/predict", json=ROWS, timeout=10).status_code == 200
        time.sleep(2)  # the table exists
        holder = sqlite3.connect(path, timeout=0)
        holder.execute("BEGIN EXCLUSIVE")  # no one else writes (the log's timeout is 5 s)
        try:
            sent, failed = _load(url, seconds=8)
            assert not failed and len(sent) > 100
            deadline = time.monotonic() + 20
            while metric(url, "mpg_prediction_log_dropped_total") == 0 and time.monotonic() < deadline:
                time.sleep(0.5)
            assert metric(url, "mpg_prediction_log_dropped_total") > 0
        finally:
            holder.rollback()
            holder.close()


def test_a_big_batch_predicted_on_threads_matches_the_in_process_numbers(server, model, auto_mpg):
    """4,096 cars: the runtime splits them into chunks (under the gevent worker, on its thread and a real one)."""
    cars = auto_mpg.dropna()[config.FEATURES].sample(4096, replace=True, random_state=1)
    cars = cars.astype({config.CYLINDERS: int, config.MODEL_YEAR: int, config.ORIGIN: int})
    url, _, _ = server
    answer = requests.post(f"{url}/predict", json=cars.to_dict("list"), timeout=60).json()["mpg_prediction"]
    expected = np.round(model.compiled.predict(cars.to_numpy(dtype=np.float64)), 4).tolist()
    assert answer == expected
