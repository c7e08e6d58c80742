"""What makes one car's p99 several times its p50 here (issue #20): short bursts of work beside the server.

Our API as bench/peers.py runs it, with the prediction log off, answers one car at 1 connection from wrk while a
neighbour process at nice 19 works beside it: none; 5% of a core in bursts of 2 ms (about what the log's writer
spends on one write of 100 cars) or of 0.2 ms; a whole core. The same server with the log on, and no neighbour, is
measured in the same rounds. Both servers run through the whole benchmark: the one not measured idles beside the
other. Rounds take the settings in turn; each figure is the median over rounds. The machine's
vCPU packing setting (`kernel.sched_vcpu_pack`, where the kernel has one) is recorded beside them.

`python -m bench.tail burst BUSY PERIOD` is the neighbour: busy BUSY seconds, then asleep, every PERIOD seconds.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.api import payload
from bench.common import save
from bench.peer_servers import ours
from bench.peers import _latency, _wrk
from tests.servers import free_port, running

ROUNDS, SECONDS = 5, 4
LOG_ON = "prediction log on, no neighbour"
NEIGHBOURS = {  # name: (busy seconds, period seconds), beside the server with the prediction log off
    "no neighbour": None,
    "2 ms busy every 40 ms": (0.002, 0.04),
    "0.2 ms busy every 4 ms": (0.0002, 0.004),
    "always busy": (1.0, 1.0),
}
PACKING = Path("/proc/sys/kernel/sched_vcpu_pack")


def burst(busy: float, period: float) -> None:
    """The neighbour's work (at nice 19 from its start: `_measured`), until its parent is gone."""
    parent = os.getppid()
    print("ready", flush=True)
    while os.getppid() == parent:
        end = time.perf_counter() + busy
        while time.perf_counter() < end:
            pass
        if period > busy:
            time.sleep(period - busy)


def main(rounds: int = ROUNDS, seconds: int = SECONDS) -> dict:
    if not shutil.which("wrk"):
        sys.exit("bench/tail.py needs wrk: apt-get install -y wrk")
    car = payload(1)
    per_round: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="mpg-tail-") as tmp:
        workdir = Path(tmp)
        servers = {"off": ours("log off", workdir, {"PREDICTION_LOG": "off"}), "on": ours("log on", workdir)}
        ports = {key: free_port() for key in servers}
        route = next(iter(servers["off"].routes.values()))
        with contextlib.ExitStack() as stack:
            for key, server in servers.items():
                command, env = server.launch(ports[key])
                ready = f"http://127.0.0.1:{ports[key]}{server.ready}"
                stack.enter_context(running(command, ready, workdir / f"{key}.log", env=env, cwd=server.cwd))
            for port in ports.values():
                _wrk(port, route, car, workdir, 2, 1)  # both workers warm
            for number in range(rounds):
                figures = {}
                for name, neighbour in NEIGHBOURS.items():
                    figures[name] = _measured(ports["off"], route, car, workdir, seconds, neighbour)
                figures[LOG_ON] = _measured(ports["on"], route, car, workdir, seconds, None)
                print(f"round {number + 1}:", {k: round(v["p99_over_p50"], 2) for k, v in figures.items()}, flush=True)
                per_round.append(figures)
    settings = {
        name: {key: statistics.median(r[name][key] for r in per_round) for key in ("p50_ms", "p99_ms", "p99_over_p50")}
        for name in per_round[0]
    }
    packing = PACKING.read_text().strip() if PACKING.exists() else None
    return save("tail", {"rounds": rounds, "seconds": seconds, "settings": settings, "sched_vcpu_pack": packing,
                         "per_round": per_round})  # fmt: skip


def _measured(port: int, route, car: dict, workdir: Path, seconds: int, neighbour: tuple[float, float] | None) -> dict:
    process = None
    try:
        if neighbour is not None:
            command = [sys.executable, "-m", "bench.tail", "burst", *map(str, neighbour)]
            process = subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.PIPE,
                                       text=True, preexec_fn=lambda: os.nice(19))  # fmt: skip
            process.stdout.readline()  # imports done, working
        return _latency(_wrk(port, route, car, workdir, 1, seconds))
    finally:
        if process is not None:
            process.kill()
            process.wait()


if __name__ == "__main__":
    if sys.argv[1:2] == ["burst"]:
        burst(float(sys.argv[2]), float(sys.argv[3]))
    else:
        main()
