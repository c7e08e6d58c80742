"""bench/RESULTS.md rendered from the saved results (no benchmark runs): every declared target once, its verdict
computed from the saved figure."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from bench.common import RESULTS_DIR
from bench.peer_servers import OURS
from bench.peers import LOG_OFF, LOG_ON, fastest, medians
from bench.report import BENCHMARKS, write_report
from bench.targets import TARGETS, Check, all_checks

MARK = re.compile(r"\*\*not met\*\*|\bmet\b")


def saved(directory) -> dict[str, dict | None]:
    return {
        name: json.loads(path.read_text()) if (path := directory / f"{name}.json").exists() else None
        for name in BENCHMARKS
    }


def render(tmp_path, results_dir) -> list[str]:
    return write_report(tmp_path / "RESULTS.md", results_dir).read_text().splitlines()


def assert_verdicts(lines: list[str], checks: list[Check]) -> None:
    """Each check on exactly one line, with its target; the line's marks are its checks' marks, in order."""
    for check in checks:
        found = [line for line in lines if check.label in line]
        assert len(found) == 1, f"{check.label!r} on {len(found)} lines"
        line = found[0]
        assert check.target.condition in line
        on_line = [other.mark for other in checks if other.label in line]
        assert MARK.findall(line) == on_line, line


def fake_memory(survivors: dict[str, tuple[float, float]], total: float = 260.0, app: float = 350.0) -> dict:
    """bench/memory.py's results, made up: survivors maps a worker's PID to its RSS after the first minute and at
    the end; one more worker started during the run."""
    workers = {pid: [[0, first - 1], [60, first], [600, end]] for pid, (first, end) in survivors.items()}
    workers["300"] = [[570, 110.0], [600, 111.0]]
    return {
        "workers": 2,
        "idle": {"master_mb": 30.0, "workers_mb": {pid: total / 2 - 15 for pid in survivors}, "total_mb": total,
                 "requests_sent": 3},
        "load": {
            "seconds": 600, "every_s": 30, "settle_s": 60, "connections": 8, "delay_ms": 9.4, "target_rps": 500.0,
            "capacity": {"rps": 1000.0}, "achieved": {"rps": 510.0, "requests": 306_000, "errors": 0, "p50_ms": 2.0,
                                                      "p99_ms": 40.0},
            "master_mb": [[0, 30.0], [60, 30.0], [600, 30.5]],
            "workers_mb": workers,
            "workers_seen": len(workers),
            "survivors": {pid: {"after_first_minute_mb": first, "end_mb": end, "growth_pct": (end / first - 1) * 100}
                          for pid, (first, end) in survivors.items()},
        },
        "app": {"visitors": 5, "started_mb": 200.0, "rss_mb": app},
        "measured_at": "2026-01-01T00:00:00+00:00",
        "machine": {"cpu": "test", "cores": 2, "python": "3.11", "system": "Linux"},
    }  # fmt: skip


def fake_peers(rounds: int = 2) -> dict:
    """bench/peers.py's results, made up, summed up by its own helpers: peers `scale` times slower than ours."""

    def latency(p50: float, p99: float) -> dict:
        return {"p50_ms": p50, "p99_ms": p99, "p99_over_p50": p99 / p50, "requests": 100}

    def one_round(scale: float, routes: list[str], timed: tuple[str, ...] = ()) -> dict:
        big = {route: latency(25 * scale, 30 * scale) | ({"server_ms": 20.0} if route in timed else {})
               for route in routes}  # fmt: skip
        return {"agreement_mpg": 1e-5, "one_car": latency(0.4 * scale, 1.0 * scale), "big": big,
                "one_car_8": {"rps": 4000 / scale, "p50_ms": 2 * scale, "p99_ms": 9 * scale},
                "cars_100": latency(scale, 2 * scale)}  # fmt: skip

    timed = tuple(OURS)  # every route of ours sends Server-Timing
    servers = {"mpg": one_round(1, list(OURS), timed), "MLflow": one_round(10, ["POST /invocations"]),
               "MLServer": one_round(12, ["POST /v2/models/mpg/infer"]),
               "BentoML": one_round(8, ["POST /predict"])}  # fmt: skip
    per_round = {name: [entry] * rounds for name, entry in servers.items()}
    log_off = {"POST /predict (columns)": latency(24.0, 29.0) | {"server_ms": 19.0}}
    per_round[LOG_OFF] = [{"agreement_mpg": 1e-5, "big": log_off}] * rounds
    log_on = {"POST /predict (columns)": latency(25.0, 31.0) | {"server_ms": 20.0}}
    cars = {"answered_at_least": 1_000_000, "logged": 1_010_000}
    per_round[LOG_ON] = [{"agreement_mpg": 1e-5, "big": log_on, "cars": cars}] * rounds
    per_round["onnx"] = [{"ms": 12.0}] * rounds
    summary = {name: medians(entries) for name, entries in per_round.items()}
    peers = ["MLflow", "MLServer", "BentoML"]
    return {
        "rounds": rounds, "seconds": 4, "big_seconds": 8, "cars": 10_000, "minutes": 15.0,
        "agreement": {"cars": 20, "within_mpg": 0.01},
        "versions": {peer: [f"{peer.lower()}==1.0"] for peer in peers}, "model_libraries": ["scikit-learn==1.9.1"],
        "workers": {name: "2" for name in servers}, "routes": {name: list(e["big"]) for name, e in servers.items()},
        "servers": {name: figures for name, figures in summary.items() if name != "onnx"},
        "onnx": summary["onnx"], "fastest_peer": fastest(summary, peers), "per_round": per_round,
        "measured_at": "2026-01-01T00:00:00+00:00",
        "machine": {"cpu": "test", "cores": 2, "python": "3.11", "system": "Linux"},
    }  # fmt: skip


@pytest.fixture()
def results_copy(tmp_path):
    directory = tmp_path / "results"
    shutil.copytree(RESULTS_DIR, directory)
    if not (directory / "memory.json").exists():  # until a full `python -m bench memory` is committed
        (directory / "memory.json").write_text(json.dumps(fake_memory({"101": (120.0, 121.0)})))
    if not (directory / "peers.json").exists():  # until a full `python -m bench peers` is committed
        (directory / "peers.json").write_text(json.dumps(fake_peers()))
    return directory


def test_every_target_once_with_its_verdict(tmp_path, results_copy):
    checks = all_checks(saved(results_copy))
    assert {check.target for check in checks} == set(TARGETS.values())  # every target has its figure saved
    assert_verdicts(render(tmp_path, results_copy), checks)


def test_rendering_the_saved_results_changes_nothing_but_the_report(tmp_path, results_copy):
    before = {path.name: path.read_bytes() for path in results_copy.iterdir()}
    render(tmp_path, results_copy)
    assert {path.name: path.read_bytes() for path in results_copy.iterdir()} == before


def flipped(check: Check) -> float:
    """A figure that turns the check's verdict the other way."""
    target = check.target
    if target.compare == "between":
        low, high = target.limit
        return high + 1 if check.met else (low + high) / 2
    limit = target.limit * (check.reference if target.reference is not None else 1)
    fails = limit * 2 + 1 if target.compare == "<=" else limit / 2
    passes = limit / 2 if target.compare == "<=" else limit * 2 + 1
    return fails if check.met else passes


def set_figure(results: dict, path: str, value: float) -> None:
    *parents, last = path.split(".")
    for key in parents:
        results = results[key]
    results[last] = value


@pytest.mark.parametrize("key", TARGETS)
def test_a_verdict_follows_its_saved_figure(tmp_path, results_copy, key):
    target = TARGETS[key]
    check = target.checks(saved(results_copy))[0]
    results = saved(results_copy)[target.results]
    set_figure(results, target.figure.format(each=check.subject), flipped(check))
    (results_copy / f"{target.results}.json").write_text(json.dumps(results))

    checks = all_checks(saved(results_copy))
    now = next(other for other in checks if other.target is target and other.subject == check.subject)
    assert now.met is not check.met
    assert_verdicts(render(tmp_path, results_copy), checks)


def test_memory_section_renders_the_saved_figures_and_their_verdicts(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    saved_memory = fake_memory({"101": (120.0, 125.0), "102": (121.0, 128.0)}, total=310.0, app=380.0)
    (results / "memory.json").write_text(json.dumps(saved_memory))
    lines = render(tmp_path, results)

    section = lines[lines.index("## Memory") :]
    checks = [check for check in all_checks(saved(results)) if check.target.results == "memory"]
    assert [(check.label, check.met) for check in checks] == [
        ("API idle, master plus 2 workers: RSS in all", False),  # 310 MB > 300
        ("worker 101: RSS at the end of the steady load", True),  # +4.2%
        ("worker 102: RSS at the end of the steady load", False),  # +5.8%
        ("the app with 5 visitors: RSS", True),
    ]
    assert_verdicts(lines, checks)
    assert any(line.startswith("| worker 101 | 140.0 | 120.0 | 125.0 | +4.2% |") for line in section)
    assert any(line.startswith("| worker 300 | - | - | 111.0 | started during the run |") for line in section)
    assert any("| all, idle | 310.0 |" in line for line in section)
    assert not any("memory.png" in line for line in section)  # no plot beside this report

    (tmp_path / "memory.png").write_bytes(b"")
    assert "![Each worker's RSS over the load](memory.png)" in render(tmp_path, results)


def test_memory_without_a_worker_that_lived_through_the_run_is_not_met(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "memory.json").write_text(json.dumps(fake_memory({})))
    (line,) = [line for line in render(tmp_path, results) if "worker that lived through the run" in line]
    assert "none lived through it" in line
    assert line.endswith("**not met**.")


def test_tail_section_renders_each_setting_and_the_packing_setting(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    figure = {"p50_ms": 0.4, "p99_ms": 1.8, "p99_over_p50": 4.5}
    saved_tail = {"rounds": 5, "seconds": 4, "sched_vcpu_pack": "15", "measured_at": "2026-12-07T16:00:00+00:00",
                  "machine": {}, "settings": {"no neighbour": {**figure, "p99_ms": 0.8, "p99_over_p50": 2.0},
                                              "2 ms busy every 40 ms": figure}}  # fmt: skip
    (results / "tail.json").write_text(json.dumps(saved_tail))
    section = render(tmp_path, results)
    section = section[section.index("## What makes one car's tail") :]
    assert "| no neighbour | 0.400 | 0.800 | 2.00 |" in section
    assert "| 2 ms busy every 40 ms | 0.400 | 1.800 | 4.50 |" in section
    assert any("`kernel.sched_vcpu_pack` is 15." in line for line in section)
