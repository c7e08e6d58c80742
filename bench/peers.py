"""Our API against the serving tools people would pick instead (issue #20): MLflow, MLServer and BentoML, each
serving the same committed Pipeline (bench/peer_servers.py), measured in the same run by the same client.

Rounds take every server in turn, each a fresh process (ours with an empty prediction log);
each figure is the median over the rounds, and each round's figures are kept. The log's cost: in each round ours with
the log on and with it off, both fresh and up at once, take turns on 10,000 cars (`log_cost`), so that the
machine's drift between the two is seconds, not the minutes the peers take. Before a server is measured, 20
real cars must get the same MPG from every one of its routes as from ONNX Runtime in this process, within
0.01 MPG (our routes round to 4 decimals), or the run stops. Load comes from wrk on the same 2-core machine:
- one car at 1 connection (p50, p99) and at 8 (requests/s, p99), 100 cars at 1 connection, on each server's
  first route (ours: columnar `POST /predict`);
- 10,000 cars, one request at a time, on every route of ours and each peer's own route, with our server time
  (our `Server-Timing` header); and ONNX Runtime in this process on the same cars, the limit.

`python -m bench.peers --quick` checks that every part works (1 short round): its figures go to bench/out/peers/
quick/ with a report rendered from them there, never to bench/results/.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from bench.api import parse_wrk, payload
from bench.common import RESULTS_DIR, machine, save
from bench.peer_servers import (
    LOG_FILE,
    PEERS_DIR,
    PINS,
    Columns,
    Route,
    Server,
    bentoml,
    mlflow,
    mlserver,
    model_pins,
    ours,
)
from mpg import config
from mpg.artifact.runtime import CompiledModel
from mpg.monitoring.table import batches, connect, predictions
from tests.servers import free_port, running

FULL = {"rounds": 5, "seconds": 4, "big_seconds": 8}
QUICK = {"rounds": 1, "seconds": 1, "big_seconds": 2}
AGREE_MPG, AGREE_CARS = 0.01, 20  # every server must answer these cars as ONNX Runtime does
BIG = 10_000
LOG_OFF, LOG_ON = "mpg, prediction log off", "mpg, prediction log on, beside it"
TURNS = 4  # each of the two takes turns at 10,000 cars, big_seconds / 2 each, in a round


class ServingError(RuntimeError):
    """A server answered with an error, or a car with another MPG than the committed model's."""


def disagreements(reference: list[float], answered: list[float], tolerance: float = AGREE_MPG) -> list[str]:
    """Each car whose answer is more than `tolerance` from the reference, or a count that differs."""
    if len(answered) != len(reference):
        return [f"{len(answered)} answers for {len(reference)} cars"]
    pairs = enumerate(zip(reference, answered, strict=True))
    return [f"car {i}: {got!r} against {want:.4f}" for i, (want, got) in pairs if not abs(got - want) <= tolerance]


SERVER_TIMES = 15  # requests whose Server-Timing gives the server time: the median


def _post(port: int, route: Route, columns: Columns) -> tuple[bytes, float | None]:
    """One request on a new connection: the answer, and the server time its Server-Timing header gives (ms)."""
    body, headers = route.encode(columns)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("POST", route.path, body, headers)
    response = connection.getresponse()
    raw, timing = response.read(), response.getheader("Server-Timing")
    connection.close()
    if response.status != 200:
        raise ServingError(f"{route.path} answered HTTP {response.status}: {raw[:300]!r}")
    return raw, float(timing.split("dur=")[1]) if timing else None


def check_agreement(server: Server, port: int, cars: Columns, reference: list[float]) -> float:
    """Every route's answers for `cars` against the reference (or ServingError): the largest difference, MPG."""
    largest = 0.0
    for name, route in server.routes.items():
        answered = route.decode(_post(port, route, cars)[0])
        wrong = disagreements(reference, answered)
        if wrong:
            raise ServingError(f"{server.name}, {name}: not the committed model's MPG: {'; '.join(wrong[:5])}")
        largest = max(largest, *(abs(a - b) for a, b in zip(answered, reference, strict=True)))
    return largest


def _wrk(port: int, route: Route, columns: Columns, workdir: Path, connections: int, seconds: float) -> dict:
    """bench.api's wrk run, with the route's own headers (the binary tensors need one more)."""
    body, headers = route.encode(columns)
    path = workdir / "body.bin"
    path.write_bytes(body)
    lines = [f'wrk.headers["{key}"] = "{value}"' for key, value in headers.items()]
    script = workdir / "request.lua"
    script.write_text("\n".join(['wrk.method = "POST"', *lines, f'local f = io.open("{path}", "rb")',
                                 "wrk.body = f:read(\"*a\")", "f:close()"]) + "\n")  # fmt: skip
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
               f"http://127.0.0.1:{port}{route.path}"]  # fmt: skip
    result = parse_wrk(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    if result["errors"]:
        raise ServingError(f"{route.path}: {result['errors']} non-2xx answers under load")
    return result


def _latency(result: dict) -> dict:
    return {"p50_ms": result["p50_ms"], "p99_ms": result["p99_ms"], "p99_over_p50": result["p99_ms"] / result["p50_ms"],
            "requests": result["requests"]}  # fmt: skip


def measure(server: Server, workdir: Path, cars: dict[int, Columns], reference: list[float], plan: dict) -> dict:
    """One round of one server: a fresh process, checked, warmed, measured, stopped."""
    port = free_port()
    command, env = server.launch(port)
    with running(command, f"http://127.0.0.1:{port}{server.ready}", workdir / f"{server.name}.log", env=env,
                 cwd=server.cwd):  # fmt: skip
        result = {"agreement_mpg": check_agreement(server, port, cars[AGREE_CARS], reference)}
        first = next(iter(server.routes.values()))
        _wrk(port, first, cars[1], workdir, 2, 1)  # both workers warm
        for route in server.routes.values():
            _post(port, route, cars[BIG])
        seconds = plan["seconds"]
        result["one_car"] = _latency(_wrk(port, first, cars[1], workdir, 1, seconds))
        eight = _wrk(port, first, cars[1], workdir, 8, seconds)
        result["one_car_8"] = {"rps": eight["rps"], "p50_ms": eight["p50_ms"], "p99_ms": eight["p99_ms"]}
        result["cars_100"] = _latency(_wrk(port, first, cars[100], workdir, 1, seconds))
        result["big"] = {}
        for name, route in server.routes.items():
            entry = _latency(_wrk(port, route, cars[BIG], workdir, 1, plan["big_seconds"]))
            if name in server.server_timing:
                # On new connections, so both workers likely answer some; 15: a worker's first big batches are slower
                entry["server_ms"] = statistics.median(_post(port, route, cars[BIG])[1] for _ in range(SERVER_TIMES))
            result["big"][name] = entry
    # Each round's server starts with an empty prediction log, as every peer starts with nothing. A log carried
    # over held the earlier rounds' 10,000-car requests (2.6 GB a round), and the retention pass a new server runs
    # at start, deleting all but its newest million cars, ran through the one-car figures: p99/p50 7.5x against
    # 2.4-3.1x with an empty log (ad hoc, 3 alternating rounds).
    for path in workdir.glob(f"{LOG_FILE}*"):
        path.unlink()
    print(server.name, json.dumps(result), flush=True)
    return result


def log_cost(servers: list[Server], workdir: Path, cars: dict[int, Columns], reference: list[float],
             plan: dict) -> dict[str, dict]:  # fmt: skip
    """Ours with the prediction log on and off, both up at once, fresh, on columnar `/predict`: the same checks and
    warm-up as `measure`, then TURNS runs each at 10,000 cars, in turn (ABBA...). Each figure is the median of its
    runs; the log's cars are counted after, against the cars its server answered."""
    routes = servers[0].routes
    route_name = next(iter(routes))
    route, seconds = routes[route_name], max(1, plan["big_seconds"] // 2)
    with contextlib.ExitStack() as stack:
        ports, result, warm = {}, {}, {}
        for server in servers:
            ports[server.name] = port = free_port()
            command, env = server.launch(port)
            stack.enter_context(running(command, f"http://127.0.0.1:{port}{server.ready}",
                                        workdir / f"{server.name}.log", env=env, cwd=server.cwd))  # fmt: skip
            result[server.name] = {"agreement_mpg": check_agreement(server, port, cars[AGREE_CARS], reference)}
            # Both workers, one car each: each worker trims its log at its first write.
            warm[server.name] = _wrk(port, route, cars[1], workdir, 2, 1)["requests"]
            _post(port, route, cars[BIG])
        runs: dict[str, list[dict]] = {name: [] for name in ports}
        for turn in range(TURNS):
            for name in list(ports)[:: 1 if turn % 2 == 0 else -1]:
                runs[name].append(_wrk(ports[name], route, cars[BIG], workdir, 1, seconds))
        for name, port in ports.items():
            entry = {key: statistics.median(run[key] for run in runs[name]) for key in ("p50_ms", "p99_ms")}
            entry["p99_over_p50"] = entry["p99_ms"] / entry["p50_ms"]
            entry["requests"] = sum(run["requests"] for run in runs[name])
            entry["server_ms"] = statistics.median(_post(port, route, cars[BIG])[1] for _ in range(SERVER_TIMES))
            result[name]["big"] = {route_name: entry}
    # Stopped, so every queued car is written (worker_exit). wrk leaves out a request cut off at its end.
    on = result[LOG_ON]
    answered = BIG * (on["big"][route_name]["requests"] + 1 + SERVER_TIMES) + AGREE_CARS * len(routes)
    answered += warm[LOG_ON]
    on["cars"] = {"answered_at_least": answered, "logged": _logged(servers[0].launch(0)[1]["DATABASE_URL"])}
    return result


def _logged(url: str) -> int:
    """The cars in our prediction log at `url`, counted by the database (read_log would load millions of them)."""
    engine = connect(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(func.count()).select_from(predictions)).scalar_one()
            return rows + (connection.execute(select(func.sum(batches.c.cars))).scalar_one() or 0)
    finally:
        engine.dispose()


def onnx_ms(X: np.ndarray, runs: int = 20) -> float:
    """ONNX Runtime in this process on the same cars, as the API predicts (CompiledModel.predict): median ms."""
    model = CompiledModel((config.MODELS_DIR / config.ONNX_FILE).read_bytes())
    model.predict(X)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        model.predict(X)
        times.append(1000 * (time.perf_counter() - began))
    return statistics.median(times)


def medians(rounds: list[dict]) -> dict:
    """Each figure's median over the rounds (nested dicts of the same keys); `worst_p99_over_p50` beside each
    `p99_over_p50`: the highest round's; `agreement_mpg` is the largest of the rounds'."""
    first = rounds[0]
    if not isinstance(first, dict):
        return statistics.median(rounds)
    out = {key: medians([r[key] for r in rounds]) for key in first}
    if "agreement_mpg" in first:
        out["agreement_mpg"] = max(r["agreement_mpg"] for r in rounds)
    if "p99_over_p50" in first:
        out["worst_p99_over_p50"] = max(r["p99_over_p50"] for r in rounds)
    return out


def fastest(servers: dict[str, dict], peers: list[str]) -> dict:
    """The fastest peer on each figure the targets compare against, and its name."""

    def best(figure, higher: bool = False) -> dict:
        name = (max if higher else min)(peers, key=lambda peer: figure(servers[peer]))
        return {"server": name, "value": figure(servers[name])}

    return {
        "one_car_p50_ms": best(lambda s: s["one_car"]["p50_ms"]),
        "one_car_8_rps": best(lambda s: s["one_car_8"]["rps"], higher=True),
        "cars_100_p50_ms": best(lambda s: s["cars_100"]["p50_ms"]),
        "big_p50_ms": best(lambda s: next(iter(s["big"].values()))["p50_ms"]),
    }


def main(quick: bool = False) -> dict:
    if not shutil.which("wrk"):
        sys.exit("bench/peers.py needs wrk: apt-get install -y wrk")
    plan = QUICK if quick else FULL
    cars = {rows: payload(rows) for rows in (1, AGREE_CARS, 100, BIG)}
    X = {rows: np.column_stack([cars[rows][name] for name in config.FEATURES]).astype(np.float64) for rows in cars}
    reference = CompiledModel((config.MODELS_DIR / config.ONNX_FILE).read_bytes()).predict(X[AGREE_CARS]).tolist()
    with tempfile.TemporaryDirectory(prefix="mpg-peers-") as tmp:
        workdir = Path(tmp)
        started = time.monotonic()
        servers = [ours("mpg", workdir), mlflow(workdir, cars[AGREE_CARS]), mlserver(workdir), bentoml(workdir)]
        (workdir / "log").mkdir()
        pair = [ours(LOG_ON, workdir / "log"), ours(LOG_OFF, workdir, {"PREDICTION_LOG": "off"})]
        rounds: dict[str, list[dict]] = {server.name: [] for server in [*servers, *pair]}
        rounds["onnx"] = []
        for number in range(plan["rounds"]):
            print(f"-- round {number + 1} of {plan['rounds']}", flush=True)
            for server in servers:
                rounds[server.name].append(measure(server, workdir, cars, reference, plan))
            for name, figures in log_cost(pair, workdir, cars, reference, plan).items():
                rounds[name].append(figures)
            for path in (workdir / "log").glob(f"{LOG_FILE}*"):  # the next round's starts empty too
                path.unlink()
            rounds["onnx"].append({"ms": onnx_ms(X[BIG])})
    summary = {name: medians(per_round) for name, per_round in rounds.items()}
    peers = [server.name for server in servers[1:]]
    result = {
        "rounds": plan["rounds"], "seconds": plan["seconds"], "big_seconds": plan["big_seconds"], "cars": BIG,
        "server_times": SERVER_TIMES, "turns": TURNS,
        "minutes": (time.monotonic() - started) / 60, "agreement": {"cars": AGREE_CARS, "within_mpg": AGREE_MPG},
        "versions": {server.name: list(PINS[server.name]) for server in servers[1:]},
        "model_libraries": model_pins(),
        "workers": {server.name: server.workers for server in servers},
        "routes": {server.name: list(server.routes) for server in servers},
        "servers": {name: figures for name, figures in summary.items() if name != "onnx"},
        "onnx": summary["onnx"], "fastest_peer": fastest(summary, peers), "per_round": rounds,
    }  # fmt: skip
    if quick:
        return _quick_report(result)
    return save("peers", result)


def _quick_report(result: dict) -> dict:
    """The smoke run's figures and a report rendered from them, in bench/out/peers/quick/ only."""
    from bench.report import write_report

    directory = PEERS_DIR / "quick"
    results = directory / "results"
    shutil.rmtree(directory, ignore_errors=True)
    shutil.copytree(RESULTS_DIR, results)
    result = {
        **result,
        "quick": True,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
    }
    (results / "peers.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"quick run (figures not representative): {write_report(directory / 'RESULTS.md', results)}")
    return result


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
