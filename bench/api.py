"""API latency and throughput: our gunicorn service against the tutorial-style one, in the same run.

Load comes from wrk (Debian's `wrk`, a C load generator) on the same 2-core
machine: latency with one connection, throughput with 8. Each figure is the
median of several runs.
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
from pathlib import Path

from bench.common import save
from mpg import config
from mpg.data import load_auto_mpg
from tests.servers import free_port, running

RUNS = 3
SIZES = (1, 3, 100, 10_000)


def payload(rows: int) -> dict:
    """`rows` real cars in the tutorial's columnar form (all three origins present from 3 rows up)."""
    cars = load_auto_mpg().dropna()
    cars = cars.groupby(config.ORIGIN).head(100).sort_values(config.ORIGIN, kind="stable")
    order = [i for trio in zip(*[cars.index[cars[config.ORIGIN] == o] for o in (1, 2, 3)], strict=False) for i in trio]
    picked = cars.loc[order].iloc[[i % len(order) for i in range(rows)]]
    columns = picked[config.FEATURES].astype({config.CYLINDERS: int, config.MODEL_YEAR: int, config.ORIGIN: int})
    return {name: columns[name].tolist() for name in config.FEATURES}


def _wrk(url: str, body: Path, connections: int, seconds: int) -> dict:
    script = body.with_suffix(".lua")
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f'local f = io.open("{body}", "rb")\nwrk.body = f:read("*a")\nf:close()\n'
    )
    threads = min(2, connections)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
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


def _median_runs(url: str, body: Path, connections: int, seconds: int) -> dict:
    runs = [_wrk(url, body, connections, seconds) for _ in range(RUNS)]
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def _status(port: int, body: bytes) -> tuple[int, float | None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    timing = response.getheader("Server-Timing")
    connection.close()
    return response.status, float(timing.split("dur=")[1]) if timing else None


def measure(name: str, command: list[str], port: int, workdir: Path, env: dict | None = None) -> dict:
    results = {}
    with running(command, f"http://127.0.0.1:{port}/test", workdir / f"{name}.log", env=env):
        url = f"http://127.0.0.1:{port}/predict"
        for rows in SIZES:
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


def main() -> dict:
    if not shutil.which("wrk"):
        sys.exit("bench/api.py needs wrk: apt-get install -y wrk")
    from bench.tutorial_service import train_tutorial_model

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        model_file = workdir / "model.bin"
        train_tutorial_model(str(model_file))
        ours_port, base_port = free_port(), free_port()
        gunicorn = [sys.executable, "-m", "gunicorn"]
        ours = measure("ours", [*gunicorn, "api.wsgi:app", "--bind", f"127.0.0.1:{ours_port}"], ours_port, workdir)
        baseline = measure(
            "tutorial",
            [*gunicorn, "bench.tutorial_service:app", "-c", "bench/tutorial_gunicorn.conf.py",
             "--bind", f"127.0.0.1:{base_port}"],
            base_port,
            workdir,
            env={"TUTORIAL_MODEL": str(model_file)},
        )  # fmt: skip
    return save("api", {"ours": ours, "tutorial": baseline, "workers": 2, "runs": RUNS})


if __name__ == "__main__":
    main()
