"""API latency and throughput: our gunicorn service against the tutorial-style one, in the same run.

Load comes from wrk (Debian's `wrk`, a C load generator) on the same 2-core
machine: latency with one connection, throughput with 8. Each figure is the
median of several runs. Also, in the same run, for one car:
- every predicting route (MLflow's /invocations as JSON and CSV, the v2 infer routes)
  against `POST /predict` (target: p50 within 10%);
- metrics and the access log on (as shipped) against both off (`METRICS=off ACCESS_LOG=off`),
  and the prediction log on against `PREDICTION_LOG=off` (targets: p50 within 10%);
- gunicorn's stock worker classes (gthread, gevent) against before, 1 and 8 connections
  (`python -m bench.api --workers` re-measures only this part).

`python -m bench.api --quick` runs every part once for a second, and saves nothing.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.baseline import BASELINE_REF, checkout
from bench.common import RESULTS_DIR, load, save
from mpg import config
from mpg.data import load_auto_mpg
from tests.servers import free_port, running

RUNS = 3
SIZES = (1, 3, 100, 10_000)
WORKER_CLASSES = ("gthread", "gevent")  # gunicorn's own classes that keep connections alive (sync does not)


def payload(rows: int) -> dict:
    """`rows` real cars in the tutorial's columnar form (all three origins present from 3 rows up)."""
    cars = load_auto_mpg().dropna()
    cars = cars.groupby(config.ORIGIN).head(100).sort_values(config.ORIGIN, kind="stable")
    order = [i for trio in zip(*[cars.index[cars[config.ORIGIN] == o] for o in (1, 2, 3)], strict=False) for i in trio]
    picked = cars.loc[order].iloc[[i % len(order) for i in range(rows)]]
    columns = picked[config.FEATURES].astype({config.CYLINDERS: int, config.MODEL_YEAR: int, config.ORIGIN: int})
    return {name: columns[name].tolist() for name in config.FEATURES}


def _wrk(url: str, body: Path, connections: int, seconds: int, content_type: str = "application/json") -> dict:
    script = body.with_suffix(".lua")
    script.write_text(
        f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "{content_type}"\n'
        f'local f = io.open("{body}", "rb")\nwrk.body = f:read("*a")\nf:close()\n'
    )
    threads = min(2, connections)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> dict:
    """The figures of a `wrk --latency` report."""
    return {
        "p50_ms": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1)),
        "p99_ms": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+(\S+)", out).group(1)),
        "errors": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0,
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
    }


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _medians(runs: list[dict]) -> dict:
    """Each figure's median over runs of the same measurement (dicts with the same keys)."""
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def _median_runs(url: str, body: Path, connections: int, seconds: int, content_type: str = "application/json") -> dict:
    return _medians([_wrk(url, body, connections, seconds, content_type) for _ in range(RUNS)])


def _status(port: int, body: bytes) -> tuple[int, float | None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    timing = response.getheader("Server-Timing")
    connection.close()
    return response.status, float(timing.split("dur=")[1]) if timing else None


def measure(
    name: str,
    command: list[str],
    port: int,
    workdir: Path,
    env: dict | None = None,
    cwd: Path = config.PROJ_ROOT,
    sizes: tuple[int, ...] | None = None,
) -> dict:
    results = {}
    with running(command, f"http://127.0.0.1:{port}/test", workdir / f"{name}.log", env=env, cwd=cwd):
        url = f"http://127.0.0.1:{port}/predict"
        for rows in sizes or SIZES:
            body = workdir / f"{name}-{rows}.json"
            raw = json.dumps(payload(rows)).encode()
            body.write_bytes(raw)
            status, _ = _status(port, raw)
            entry: dict = {"status": status}
            if status == 200:
                seconds = 10 if rows == 10_000 else 4
                entry["latency"] = _median_runs(url, body, 1, seconds)
                entry["throughput"] = _median_runs(url, body, 8, seconds + 4)
                timings = [_status(port, raw)[1] for _ in range(5 if rows == 10_000 else 20)]
                if timings[0] is not None:
                    entry["server_ms_median"] = statistics.median(timings)
            results[str(rows)] = entry
            print(name, rows, entry, flush=True)
    return results


def one_car_bodies(version: str) -> dict[str, tuple[str, str, bytes]]:
    """One car in every dialect: name -> (path, content type, body)."""
    columns = payload(1)
    car = {name: values[0] for name, values in columns.items()}
    split = {"dataframe_split": {"columns": config.FEATURES, "data": [[car[n] for n in config.FEATURES]]}}
    csv = ",".join(config.FEATURES) + "\n" + ",".join(str(car[n]) for n in config.FEATURES) + "\n"
    tensors = {"inputs": [{"name": config.SNAKE[n], "shape": [1], "datatype": "FP64", "data": [car[n]]}
                          for n in config.FEATURES]}  # fmt: skip
    return {
        "POST /predict": ("/predict", "application/json", json.dumps(columns).encode()),
        "POST /invocations (dataframe_split)": ("/invocations", "application/json", json.dumps(split).encode()),
        "POST /invocations (text/csv)": ("/invocations", "text/csv", csv.encode()),
        "POST /v2/models/mpg/infer": ("/v2/models/mpg/infer", "application/json", json.dumps(tensors).encode()),
        "POST /v2/models/mpg/versions/{version}/infer": (
            f"/v2/models/mpg/versions/{version}/infer", "application/json", json.dumps(tensors).encode()),
    }  # fmt: skip


def one_car_latency(name: str, command: list[str], port: int, workdir: Path, env: dict, seconds: int) -> dict:
    """1-connection latency of one car on every predicting route of one server configuration (one wrk run each)."""
    results = {}
    with running(command, f"http://127.0.0.1:{port}/health", workdir / f"{name}.log", env=env):
        version = requests_version(port)
        for route, (path, content_type, raw) in one_car_bodies(version).items():
            body = workdir / f"{name}-{len(results)}.body"
            body.write_bytes(raw)
            results[route] = _wrk(f"http://127.0.0.1:{port}{path}", body, 1, seconds, content_type)
            print(name, route, results[route], flush=True)
    return results


def requests_version(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/version")
    version = connection.getresponse().read().decode()
    connection.close()
    return version


def within(value: float, reference: float, tolerance: float = 0.10) -> bool:
    return value <= reference * (1 + tolerance)


QUIET = {"METRICS": "off", "ACCESS_LOG": "off", "PREDICTION_LOG": "off"}


def api_command(port: int) -> list[str]:
    """`gunicorn api.wsgi:app` on a loopback port, with the gunicorn.conf.py of the directory it runs in, and
    SO_REUSEPORT as the Procfile gives it on Heroku."""
    return [sys.executable, "-m", "gunicorn", "api.wsgi:app", "--bind", f"127.0.0.1:{port}", "--reuse-port"]


def overheads(workdir: Path, seconds: int) -> dict:
    """Routes, metrics + access log, and the prediction log: the same 1-car requests, same run."""
    database = f"sqlite:///{workdir / 'predictions.sqlite3'}"
    configurations = {
        "shipped": {"DATABASE_URL": database},  # metrics, access log and prediction log on
        "metrics_and_access_log_off": {"DATABASE_URL": database, "METRICS": "off", "ACCESS_LOG": "off"},
        "prediction_log_off": {"PREDICTION_LOG": "off"},
    }
    # Rounds that take the configurations in turn, each a fresh server: a slow spell, or a worker that lands
    # on a busy core, hits every configuration alike; each figure is the median over the rounds.
    rounds: dict[str, list[dict]] = {name: [] for name in configurations}
    for _ in range(RUNS):
        for name, env in configurations.items():
            port = free_port()
            rounds[name].append(one_car_latency(name, api_command(port), port, workdir, env, seconds))
    measured = {name: {route: _medians([r[route] for r in runs]) for route in runs[0]} for name, runs in rounds.items()}
    p50 = {name: {route: r["p50_ms"] for route, r in routes.items()} for name, routes in measured.items()}
    predict = p50["shipped"]["POST /predict"]
    checks = {
        **{f"{route} p50 within 10% of POST /predict": within(value, predict)
           for route, value in p50["shipped"].items() if route != "POST /predict"},
        "metrics + access log on: /predict p50 within 10% of off": within(
            predict, p50["metrics_and_access_log_off"]["POST /predict"]),
        "prediction log on: /predict p50 within 10% of off": within(
            predict, p50["prediction_log_off"]["POST /predict"]),
    }  # fmt: skip
    for check, ok in checks.items():
        print(f"{'met' if ok else 'NOT MET'}: {check}", flush=True)
    return {"latency": measured, "p50_ms": p50, "targets": checks}


def worker_classes(workdir: Path, seconds: int) -> dict:
    """One car under each of gunicorn's stock worker classes, gevent with observability off, and before (its own
    worker), in alternating rounds: 1-connection latency and 8-connection latency and throughput, each a median
    over the rounds."""
    database = f"sqlite:///{workdir / 'predictions.sqlite3'}"
    body = workdir / "worker-1.json"
    body.write_text(json.dumps(payload(1)))
    servers = {f"mpg, {name}": ({"DATABASE_URL": database, "GUNICORN_WORKER_CLASS": name}, config.PROJ_ROOT)
               for name in WORKER_CLASSES}  # fmt: skip
    # The request path alone, as before had it: no metrics, access log or prediction log (issues #11 and #12
    # added those, each with its own budget).
    servers["mpg, gevent, observability off"] = ({**QUIET, "GUNICORN_WORKER_CLASS": "gevent"}, config.PROJ_ROOT)
    rounds: dict[str, list[dict]] = {name: [] for name in [*servers, "before"]}
    with checkout() as tree:
        servers["before"] = ({}, tree)
        for _ in range(RUNS):
            for name, (env, cwd) in servers.items():
                port = free_port()
                with running(api_command(port), f"http://127.0.0.1:{port}/test", workdir / "workers.log", env=env,
                             cwd=cwd):  # fmt: skip
                    url = f"http://127.0.0.1:{port}/predict"
                    rounds[name].append({"latency": _wrk(url, body, 1, seconds),
                                         "throughput": _wrk(url, body, 8, seconds)})  # fmt: skip
                print(name, rounds[name][-1], flush=True)
    return {name: {part: _medians([r[part] for r in runs]) for part in runs[0]} for name, runs in rounds.items()}


def main(quick: bool = False) -> dict:
    global RUNS, SIZES
    if not shutil.which("wrk"):
        sys.exit("bench/api.py needs wrk: apt-get install -y wrk")
    from bench.tutorial_service import train_tutorial_model

    if quick:  # does every part work? (figures from this are not worth keeping)
        RUNS, SIZES = 1, (1, 3)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        overhead = overheads(workdir, seconds=1 if quick else 4)
        workers = worker_classes(workdir, seconds=1 if quick else 4)
        model_file = workdir / "model.bin"
        train_tutorial_model(str(model_file))
        ours_port, base_port = free_port(), free_port()
        shipped = {"DATABASE_URL": f"sqlite:///{workdir / 'predictions.sqlite3'}"}
        ours = measure("ours", api_command(ours_port), ours_port, workdir, env=shipped)
        # This code before the round (bench/baseline.py), same sizes as the "no slower than before" target.
        with checkout() as tree:
            before_port = free_port()
            before = measure("before", api_command(before_port), before_port, workdir, cwd=tree,
                             sizes=tuple(s for s in SIZES if s != 3))  # fmt: skip
        baseline = measure(
            "tutorial",
            [sys.executable, "-m", "gunicorn", "bench.tutorial_service:app", "-c", "bench/tutorial_gunicorn.conf.py",
             "--bind", f"127.0.0.1:{base_port}"],
            base_port,
            workdir,
            env={"TUTORIAL_MODEL": str(model_file)},
        )  # fmt: skip
    result = {"ours": ours, "before": before, "before_ref": BASELINE_REF, "tutorial": baseline, "workers": 2,
              "runs": RUNS, "one_car": overhead, "worker_classes": workers}  # fmt: skip
    return result if quick else save("api", result)


def _remeasure(name: str, measure) -> dict:
    """Re-measure one part into the saved results, with its own date (the rest keeps its own)."""
    with tempfile.TemporaryDirectory() as tmp:
        part = measure(Path(tmp), seconds=4)
    result = {**(load("api") or {}), name: part, f"{name}_measured_at": datetime.now(UTC).isoformat()}
    (RESULTS_DIR / "api.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    if "--one-car" in sys.argv[1:]:
        _remeasure("one_car", overheads)
    elif "--workers" in sys.argv[1:]:
        _remeasure("worker_classes", worker_classes)
    else:
        main(quick="--quick" in sys.argv[1:])
