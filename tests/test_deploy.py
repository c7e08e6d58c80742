"""Deployment as Heroku runs it: the Procfile's web command with PORT set, under load, faults and slow clients."""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import struct
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from mpg import config
from tests.api.test_api import ONE, TUTORIAL_PAYLOAD
from tests.servers import free_port, running, stop

pytestmark = pytest.mark.slow


def web_command() -> str:
    for line in (config.PROJ_ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise AssertionError("Procfile has no web process")


def heroku_env(tmp_path: Path, port: int, **extra: str) -> dict:
    """What Heroku gives the dyno: PORT, a HOME of its own, the app's executables on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    return {"PORT": str(port), "HOME": str(tmp_path), "PATH": f"{bin_dir}:{os.environ['PATH']}", **extra}


def test_web_process_serves_the_ui_by_default(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = heroku_env(tmp_path, port)
    with running(["bash", "-c", web_command()], f"{url}/_stcore/health", tmp_path / "ui.log", env=env):
        page = requests.get(url, timeout=10)
        assert page.status_code == 200 and "<title>" in page.text
        assert (tmp_path / ".streamlit" / "config.toml").read_text().count(f"port = {port}") == 1


@pytest.fixture()
def api_dyno(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = heroku_env(tmp_path, port, APP_ROLE="api", WEB_CONCURRENCY="2",
                     DATABASE_URL=f"sqlite:///{tmp_path / 'predictions.sqlite3'}")  # fmt: skip
    with running(["bash", "-c", web_command()], f"{url}/health", tmp_path / "api.log", env=env) as process:
        yield url, process


def test_web_process_serves_the_api_with_app_role(api_dyno, tmp_path):
    url, _ = api_dyno
    response = requests.post(f"{url}/predict", json=TUTORIAL_PAYLOAD, timeout=10)
    assert response.status_code == 200 and len(response.json()["mpg_prediction"]) == 3
    port = int(url.rsplit(":", 1)[1])
    # Heroku's router reaches the dyno from outside: every interface, one socket per worker (--reuse-port).
    assert listening_sockets(port) == ["0.0.0.0", "0.0.0.0"]
    assert f"Listening at: http://0.0.0.0:{port} " in (tmp_path / "api.log").read_text()


def listening_sockets(port: int) -> list[str]:
    """The local address of each TCP socket listening on `port` (Linux's /proc/net/tcp and tcp6), sorted."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                # The kernel prints each 32-bit word of the address in the host's byte order.
                words = [struct.pack("=I", int(address[i : i + 8], 16)) for i in range(0, len(address), 8)]
                found.append(str(ipaddress.ip_address(b"".join(words))))
    return sorted(found)


def test_the_readme_api_command_listens_on_this_machine_only_and_logs_where(tmp_path):
    """`gunicorn api.wsgi:app` (the README's and `make api`'s command, PORT set as `make api` sets it) binds
    127.0.0.1, as the README says, and gunicorn's "Listening at:" line names that address."""
    port = free_port()
    env = {"PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path / 'predictions.sqlite3'}"}
    command = [sys.executable, "-m", "gunicorn", "api.wsgi:app"]
    with running(command, f"http://127.0.0.1:{port}/health", tmp_path / "api.log", env=env):
        assert listening_sockets(port) == ["127.0.0.1"]
    log = (tmp_path / "api.log").read_text()
    assert f"Listening at: http://127.0.0.1:{port} (" in log, log[-2000:]
    assert "Listening at:  (" not in log


def workers_of(master: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            children.append(int(stat.parent.name))
    return children


def test_load_with_a_worker_killed_then_sigterm(api_dyno, tmp_path):
    url, process = api_dyno
    master = process.pid  # `exec gunicorn` keeps the pid
    outcomes: list[bool] = []
    stop_at = time.monotonic() + 20

    def client():
        session = requests.Session()
        while time.monotonic() < stop_at:
            try:
                ok = session.post(f"{url}/predict", json=ONE, timeout=10).status_code == 200
            except requests.RequestException:
                ok = False
                session = requests.Session()
            outcomes.append(ok)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(10)
    victims = workers_of(master)
    assert len(victims) == 2
    os.kill(victims[0], signal.SIGKILL)
    for thread in threads:
        thread.join()

    failed = outcomes.count(False)
    print(f"load with a worker killed: {failed} of {len(outcomes)} requests failed")
    assert len(outcomes) > 1000
    assert failed / len(outcomes) <= 0.01, f"{failed} of {len(outcomes)} failed"
    time.sleep(1)
    assert all(requests.post(f"{url}/predict", json=ONE, timeout=10).status_code == 200 for _ in range(20))
    assert len(workers_of(master)) == 2  # the killed worker was replaced

    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    stopped_in = time.monotonic() - began
    print(f"SIGTERM: stopped cleanly in {stopped_in:.1f} s")
    assert stopped_in < 10, "idle keep-alive connections held the shutdown to the graceful timeout (20 s)"
    log = (tmp_path / "api.log").read_text()
    # A worker that inherits an ONNX Runtime session across the fork aborts as it exits.
    assert "terminate called" not in log and "SIGABRT" not in log, log[-2000:]


def test_a_slow_client_does_not_delay_others(api_dyno):
    url, _ = api_dyno
    port = int(url.rsplit(":", 1)[1])
    request = b"POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    finished = threading.Event()

    def slow_client():
        with socket.create_connection(("127.0.0.1", port)) as sock:
            for byte in request:  # one byte every 50 ms: about 4 seconds of headers
                sock.send(bytes([byte]))
                time.sleep(0.05)
        finished.set()

    slow = threading.Thread(target=slow_client)
    slow.start()
    time.sleep(0.5)
    durations = []
    while not finished.is_set():
        began = time.monotonic()
        assert requests.post(f"{url}/predict", json=ONE, timeout=10).status_code == 200
        durations.append(time.monotonic() - began)
    slow.join()
    assert len(durations) > 20
    print(f"slow client: {len(durations)} requests served meanwhile, slowest {max(durations) * 1000:.0f} ms")
    # Served while the slow client was still sending: none waited for it.
    assert max(durations) < 1.0, max(durations)


def test_stop_helper_kills_a_process_that_ignores_sigterm(tmp_path):
    import subprocess

    process = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"],
        start_new_session=True,
    )
    time.sleep(0.5)
    assert stop(process, timeout=1) == -signal.SIGKILL


HOOK = """
import runpy, sys
if sys.argv[1] == "gevent":
    from gevent import monkey; monkey.patch_all()  # as gunicorn's gevent worker does
import gevent
hook = runpy.run_path("gunicorn.conf.py")["post_request"]
served = []
waiting = gevent.spawn(served.append, "the other connection")  # ready, not yet run
hook(None, None, {}, None)
print(served)
"""


@pytest.mark.parametrize("worker", ["gevent", "gthread"])
def test_post_request_hook_lets_other_connections_take_their_turn_under_gevent(worker):
    """gunicorn.conf.py's post_request: under gevent, every other ready greenlet runs before the next request."""
    import subprocess

    result = subprocess.run([sys.executable, "-c", HOOK, worker], cwd=config.PROJ_ROOT, capture_output=True,
                            text=True, timeout=60, check=True)  # fmt: skip
    assert result.stdout.strip() == ("['the other connection']" if worker == "gevent" else "[]")


def test_reading_the_config_changes_no_environment():
    """Reading gunicorn.conf.py (a tool, a test) sets nothing up: the master does, in its on_starting hook."""
    import subprocess

    script = "import os, runpy; was = dict(os.environ); runpy.run_path('gunicorn.conf.py'); print(was == os.environ)"
    result = subprocess.run([sys.executable, "-c", script], cwd=config.PROJ_ROOT, capture_output=True,
                            text=True, timeout=60, check=True)  # fmt: skip
    assert result.stdout.strip() == "True"


def test_checking_the_config_leaves_the_metrics_of_a_running_server_alone(tmp_path):
    """`gunicorn --check-config` reads gunicorn.conf.py without starting a master: it must not empty the
    metrics directory that the environment names (a running server's counts)."""
    import subprocess

    named = tmp_path / "metrics"
    named.mkdir()
    (named / "counter_1.db").write_bytes(b"a running server's counts")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(named),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'predictions.sqlite3'}"}  # fmt: skip
    subprocess.run([sys.executable, "-m", "gunicorn", "--check-config", "api.wsgi:app"], cwd=config.PROJ_ROOT,
                   env=env, capture_output=True, timeout=120, check=True)  # fmt: skip
    assert (named / "counter_1.db").read_bytes() == b"a running server's counts"
