"""Memory: the API as shipped, idle and under steady load, and the app with five visitors.

- The API as `make api` serves it (`gunicorn api.wsgi:app` with the repository's gunicorn.conf.py: 2 gevent
  workers, the prediction log on, into SQLite in a temporary folder): the resident memory (VmRSS) of the master
  and of each worker once every worker has served a request.
- Then a mixed load (one car, 100 cars, /invocations and /v2 infer, in turn: a wrk Lua script): its capacity
  from a short unthrottled wrk run, then 10 minutes at half that rate. wrk has no rate option: a few connections
  each wait between requests (the script's `delay()`), the wait set from a short calibrating run. Every 30 s the
  RSS of the master and of each worker, followed by PID (gunicorn replaces a worker after `max_requests`); for
  each worker that lived through the run, its RSS after the first minute and at the end.
- The app as `make run` serves it (`streamlit run streamlit_app.py`): its RSS once five visitors in Chromium
  have each seen the whole page, their sessions still open.

`python -m bench memory` runs it all (about 13 minutes) and writes bench/results/memory.json and bench/memory.png;
`python -m bench.memory --seconds 60 --every 10` is a short check that saves nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench.api import api_command, one_car_bodies, parse_wrk, payload, requests_version
from bench.app import ARGS, CHROMIUM, METRIC, SCRIPT_DONE, serve
from bench.common import save
from tests.servers import free_port, running

PLOT = Path(__file__).resolve().parent / "memory.png"
WORKERS = 2
CONNECTIONS = 8  # for capacity and for the throttled load (each of these waits between requests)
CAPACITY_SECONDS = 10
CALIBRATE_SECONDS = 5
VISITORS = 5


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MB (VmRSS, /proc), or None once it has gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return next((int(line.split()[1]) / 1024 for line in lines if line.startswith("VmRSS:")), None)


def workers_of(master: int) -> list[int]:
    """The gunicorn master's worker processes, now."""
    return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def _serving_worker(connection: http.client.HTTPConnection, workers: list[int]) -> int | None:
    """The worker holding the server's end of this open connection: the socket (/proc/net/tcp) whose remote port
    is the connection's own, among the worker's open files."""
    port = connection.sock.getsockname()[1]
    rows = (line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:])
    ends = {f"socket:[{row[9]}]" for row in rows if int(row[2].split(":")[1], 16) == port}
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) in ends:
                    return pid
    return None


def _predict(port: int, path: str, content_type: str, body: bytes, workers: list[int]) -> int | None:
    """One request on a new connection (with --reuse-port, the kernel picks the worker): the worker that served it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", path, body, {"Content-Type": content_type})
    response = connection.getresponse()
    response.read()
    assert response.status == 200, response.status
    worker = _serving_worker(connection, workers)  # before closing: the worker keeps the connection alive
    connection.close()
    return worker


def idle(port: int, master: int, workdir: Path) -> dict:
    """RSS of the master and each worker once all have started and each has served one prediction."""
    deadline = time.monotonic() + 120
    while len(workers := workers_of(master)) < WORKERS:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(workers)} of {WORKERS} workers after 120 s")
        time.sleep(0.2)
    path, content_type, body = one_car_bodies(requests_version(port))["POST /predict"]
    served: set[int] = set()
    sent = 0
    while served != set(workers):
        if sent == 100:
            raise RuntimeError(f"workers {set(workers) - served} served none of 100 requests")
        served.add(_predict(port, path, content_type, body, workers))
        sent += 1
    time.sleep(1)  # the prediction log's writer thread has written its row
    master_mb, workers_mb = rss_mb(master), {str(pid): rss_mb(pid) for pid in workers}
    return {"master_mb": master_mb, "workers_mb": workers_mb, "total_mb": master_mb + sum(workers_mb.values()),
            "requests_sent": sent}  # fmt: skip


def mixed_script(workdir: Path, version: str, delay_ms: float | None) -> Path:
    """A wrk script that sends the four bodies in turn; with `delay_ms`, each connection waits that long on average
    before each request (wrk waits whole milliseconds: the script draws floor(delay + U[0, 1)))."""
    bodies = one_car_bodies(version)
    mixed = [bodies["POST /predict"], ("/predict", "application/json", json.dumps(payload(100)).encode()),
             bodies["POST /invocations (dataframe_split)"], bodies["POST /v2/models/mpg/infer"]]  # fmt: skip
    lines = ["local requests = {}", "function init(args)"]
    for number, (path, content_type, raw) in enumerate(mixed, 1):
        body = workdir / f"mixed-{number}.body"
        body.write_bytes(raw)
        lines += [
            f'  local f = io.open("{body}", "rb")',
            f'  requests[{number}] = wrk.format("POST", "{path}", {{["Content-Type"] = "{content_type}"}}, '
            'f:read("*a"))',
            "  f:close()",
        ]
    lines += ["end", "local i = 0", "function request()", "  i = i % #requests + 1", "  return requests[i]", "end"]
    if delay_ms is not None:
        lines += ["function delay()", f"  return math.floor({delay_ms:.3f} + math.random())", "end"]
    script = workdir / ("mixed.lua" if delay_ms is None else "mixed-throttled.lua")
    script.write_text("\n".join(lines) + "\n")
    return script


def wrk(port: int, script: Path, seconds: float) -> subprocess.Popen:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency", "-s", str(script),
               f"http://127.0.0.1:{port}"]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def finished(process: subprocess.Popen) -> dict:
    out, _ = process.communicate()
    if process.returncode:
        raise RuntimeError(f"wrk exited with {process.returncode}:\n{out}")
    return parse_wrk(out)


def steady_load(port: int, master: int, workdir: Path, seconds: int, every: int, settle: int) -> dict:
    """Half the measured capacity for `seconds`: every `every` s, the RSS of the master and each worker by PID."""
    version = requests_version(port)
    capacity = finished(wrk(port, mixed_script(workdir, version, None), CAPACITY_SECONDS))
    rate = capacity["rps"] / 2
    # Each connection sends, waits for the answer, waits `delay`: rate = connections / (service + delay).
    first = CONNECTIONS * 1000 / rate
    calibration = finished(wrk(port, mixed_script(workdir, version, first), CALIBRATE_SECONDS))
    service_ms = max(0.0, CONNECTIONS * 1000 / calibration["rps"] - first)
    delay_ms = max(0.0, CONNECTIONS * 1000 / rate - service_ms)
    print(f"capacity {capacity['rps']:.0f}/s: aiming at {rate:.0f}/s, {delay_ms:.2f} ms between requests", flush=True)

    master_series = [[0, rss_mb(master)]]
    series = {str(pid): [[0, rss_mb(pid)]] for pid in workers_of(master)}
    load = wrk(port, mixed_script(workdir, version, delay_ms), seconds + 2)  # still running at the last sample
    began = time.monotonic()
    for tick in range(every, seconds + 1, every):
        time.sleep(max(0.0, began + tick - time.monotonic()))
        master_series.append([tick, rss_mb(master)])
        for pid in workers_of(master):
            if (mb := rss_mb(pid)) is not None:
                series.setdefault(str(pid), []).append([tick, mb])
    achieved = finished(load)
    at = {pid: dict(samples) for pid, samples in series.items()}
    survivors = {
        pid: {"after_first_minute_mb": rss[settle], "end_mb": rss[seconds],
              "growth_pct": (rss[seconds] / rss[settle] - 1) * 100}
        for pid, rss in at.items() if settle in rss and seconds in rss
    }  # fmt: skip
    return {
        "seconds": seconds,
        "every_s": every,
        "settle_s": settle,
        "capacity": capacity,
        "target_rps": rate,
        "connections": CONNECTIONS,
        "delay_ms": delay_ms,
        "achieved": achieved,  # rps is the rate achieved
        "master_mb": master_series,
        "workers_mb": series,
        "workers_seen": len(series),
        "survivors": survivors,
    }


def api(seconds: int, every: int, settle: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        port = free_port()
        env = {"DATABASE_URL": f"sqlite:///{workdir / 'predictions.sqlite3'}", "WEB_CONCURRENCY": str(WORKERS)}
        # Recycling off (--max-requests 0): at this rate gunicorn would replace both workers within the 10 minutes,
        # and a replaced worker hides any growth; the shipped setting stays the safety net in production.
        command = [*api_command(port), "--max-requests", "0"]
        with running(command, f"http://127.0.0.1:{port}/health", workdir / "api.log", env=env) as server:
            at_idle = idle(port, server.pid, workdir)
            print("idle", at_idle, flush=True)
            return {"workers": WORKERS, "idle": at_idle, "load": steady_load(port, server.pid, workdir, seconds,
                                                                              every, settle)}  # fmt: skip


async def _visits(url: str, process: subprocess.Popen) -> dict:
    from playwright.async_api import async_playwright

    async def visit(browser) -> None:
        context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        page = await context.new_page()
        await page.goto(url)
        await page.locator(METRIC).first.wait_for(timeout=120_000)
        await page.locator(SCRIPT_DONE).wait_for(timeout=120_000)
        await page.wait_for_load_state("networkidle")

    started = rss_mb(process.pid)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        await asyncio.gather(*(visit(browser) for _ in range(VISITORS)))
        await asyncio.sleep(1)
        visited = rss_mb(process.pid)
        await browser.close()
    return {"visitors": VISITORS, "started_mb": started, "rss_mb": visited}


def app() -> dict:
    """`streamlit run streamlit_app.py` (as `make run`), five visitors at once."""
    with ExitStack() as stack:
        url, process = serve(stack, "streamlit_app.py", "memory")
        return asyncio.run(_visits(url, process))


def plot(load: dict, path: Path = PLOT) -> Path | None:
    """Each worker's RSS over the load, a line per PID (Altair, written as PNG by vl-convert-python)."""
    import altair as alt

    rows = [{"minute": t / 60, "MB": mb, "process": f"worker {pid}"}
            for pid, samples in load["workers_mb"].items() for t, mb in samples]  # fmt: skip
    chart = (
        alt.Chart(alt.Data(values=rows), title="API workers' resident memory under steady mixed load")
        .mark_line(point=True)
        .encode(x=alt.X("minute:Q", title="minutes of load"), y=alt.Y("MB:Q", title="RSS (MB)"), color="process:N")
        .properties(width=640, height=320)
    )
    try:
        chart.save(str(path), ppi=100)
    except (ImportError, ValueError) as exc:  # Altair needs vl-convert-python to write a PNG
        print(f"{path.name} not written: {exc}", flush=True)
        return None
    return path


def main(seconds: int = 600, every: int = 30, keep: bool = True) -> dict:
    # "After the first minute"; a short check takes a sixth of its run (a whole number of samples).
    settle = max(every, min(60, seconds // 6) // every * every)
    result = {**api(seconds, every, settle), "app": app()}
    print(json.dumps({k: v for k, v in result.items() if k != "load"}), flush=True)
    print("survivors", result["load"]["survivors"], "achieved", result["load"]["achieved"], flush=True)
    if keep:
        result = save("memory", result)
        plot(result["load"])
    else:
        plot(result["load"], Path(tempfile.gettempdir()) / "mpg-memory-check.png")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600, help="length of the steady load (default 600)")
    parser.add_argument("--every", type=int, default=30, help="seconds between RSS samples (default 30)")
    parser.add_argument("--save", action="store_true", help="write bench/results/memory.json (short checks do not)")
    options = parser.parse_args()
    if options.seconds % options.every:
        sys.exit("--seconds must be a multiple of --every")
    main(options.seconds, options.every, keep=options.save)
