"""RESULTS.md's serving sections: the API (routes, worker classes, one car) and the command line."""

from __future__ import annotations

from bench.targets import TARGETS
from bench.verdicts import Results, against, bullet, one_check
from mpg.artifact.store import load_card


def _api_row(label: str, entry: dict, other: dict | None) -> str:
    if entry.get("status") != 200:
        return f"| {label} | fails: HTTP {entry.get('status')} | | | | |"
    latency = entry["latency"]
    ratio = ""
    if other and other.get("status") == 200:
        speedup = other["latency"]["p50_ms"] / latency["p50_ms"]
        ratio = f"{speedup:.1f}x faster" if speedup >= 1 else f"{1 / speedup:.1f}x slower"
        if "throughput" in entry and "throughput" in other:
            ratio += f", {entry['throughput']['rps'] / other['throughput']['rps']:.1f}x the requests/s"
    throughput = f"{entry['throughput']['rps']:.0f}" if "throughput" in entry else ""
    server = f"{entry['server_ms_median']:.2f}" if "server_ms_median" in entry else ""
    rows_per_s = f"{entry['throughput']['rps'] * int(label.split(', ')[1].split()[0]):,.0f}" if throughput else ""
    return (
        f"| {label} | {latency['p50_ms']:.2f} / {latency['p99_ms']:.2f} | {throughput} | {rows_per_s} | {server} "
        f"| {ratio} |"
    )


def api_section(lines: list[str], results: Results) -> None:
    result = results["api"]
    if not result:
        lines.append("_API: not yet measured (`python -m bench api`, needs Debian's wrk)_\n")
        return
    ours, base, before = result["ours"], result["tutorial"], result.get("before", {})
    lines += [
        "## API latency and throughput",
        "",
        f"Measured {result['measured_at']}. Every service under gunicorn with {result['workers']} workers on this "
        "machine, load from `wrk` on the same machine: latency with 1 connection, throughput with 8; each "
        f"figure the median of {result['runs']} runs. Server time is our `Server-Timing` header (parse, validate, "
        "predict, encode). The tutorial is `bench/tutorial_service.py`, a faithful rebuild of the tutorial's "
        "service (pickle loaded per request, preprocessing refitted on the request rows). Before is this project "
        f"at commit {result.get('before_ref', '?')} (the start of this round: its own code, model and worker), "
        "checked out beside this one and measured in the same run (`bench/baseline.py`). Ours is shipped as is: "
        "metrics, access log and prediction log on.",
        "",
        "| request | p50 / p99 latency (ms) | requests/s (8 connections) | cars/s | server ms (median) "
        "| vs tutorial (same run) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for rows in ("1", "3", "100", "10000"):
        cars = "1 car" if rows == "1" else f"{rows} cars"
        lines.append(_api_row(f"mpg, {cars}", ours[rows], base.get(rows)))
        if rows in before:
            lines.append(_api_row(f"before, {cars}", before[rows], None))
        lines.append(_api_row(f"tutorial, {cars}", base[rows], None))
    p50, rps, p99, server, wall = (
        one_check(results, key)
        for key in ("one_car_p50", "one_car_rps", "one_car_p99", "big_server_time", "big_wall_time")
    )
    lines += [
        "",
        bullet(p50, f"{p50.value:.2f} ms"),
        bullet(rps, f"{rps.value:.0f}"),
        bullet(p99, f"{p99.value:.2f} ms"),
        bullet(server, f"{server.value:.1f} ms" if server.value is not None else "not measured"),
    ]
    if wall.reference is not None:  # the tutorial service answered 10,000 cars
        lines.append(bullet(wall, f"{wall.value:.1f} ms against {wall.reference:.1f} ms"))
    for key in ("1_before", "100_before", "10000_before"):
        check = one_check(results, key)
        if check.reference is not None:  # before answered this size
            lines.append(bullet(check, against(check, ".2f")))
    lines += [
        "",
        f"The model behind these figures: {load_card().model}. Worker: the one gunicorn.conf.py sets; gunicorn's "
        "worker classes are compared below.",
        "",
    ]
    one_car = result.get("one_car")
    if one_car:
        _one_car(lines, one_car, result.get("one_car_measured_at", result["measured_at"]), results)
    workers = result.get("worker_classes")
    if workers:
        _workers(lines, workers, result.get("worker_classes_measured_at", result["measured_at"]), results)


def _workers(lines: list[str], result: dict, measured_at: str, results: Results) -> None:
    before = result["before"]["latency"]["p50_ms"]
    lines += [
        "### gunicorn's stock worker classes",
        "",
        f"Measured {measured_at}. One car, shipped (metrics, access log and prediction log on), 2 workers, under "
        "each of gunicorn's worker classes that keep connections alive; gevent with all three off (the request "
        "path alone, as before had it); and before (its own gevent-based worker, no observability). Each round "
        "starts every server in turn, each figure is the median over the rounds.",
        "",
        "| server | 1 connection p50 / p99 (ms) | vs before (p50) | 8 connections p50 / p99 (ms) | requests/s |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, entry in result.items():
        one, eight = entry["latency"], entry["throughput"]
        lines.append(
            f"| {name} | {one['p50_ms']:.3f} / {one['p99_ms']:.2f} | {one['p50_ms'] / before:.2f}x "
            f"| {eight['p50_ms']:.2f} / {eight['p99_ms']:.2f} | {eight['rps']:,.0f} |"
        )
    lines.append("")
    by_class = zip(*(TARGETS[key].checks(results) for key in ("worker_p50", "worker_p99", "worker_rps")), strict=True)
    for p50, p99, rps in by_class:
        lines += [
            bullet(p50, against(p50, ".3f")),
            bullet(p99, f"{p99.value:.2f} ms"),
            bullet(rps, f"{rps.value:,.0f}"),
        ]
    lines.append("")


def _one_car(lines: list[str], result: dict, measured_at: str, results: Results) -> None:
    p50 = result["p50_ms"]
    shipped = p50["shipped"]
    lines += [
        "### One car on every route, and what observability costs",
        "",
        f"Measured {measured_at}. 1-connection p50 (ms); each round starts a fresh gunicorn "
        "(2 workers) for each configuration in turn, and each figure is the median over the rounds. Shipped: "
        "metrics, access log and prediction log on.",
        "",
        "| route | shipped | metrics and access log off | prediction log off |",
        "| --- | --- | --- | --- |",
    ]
    for route, value in shipped.items():
        others = [p50[name].get(route) for name in ("metrics_and_access_log_off", "prediction_log_off")]
        cells = " | ".join(f"{v:.3f}" if v is not None else "" for v in others)
        lines.append(f"| {route} | {value:.3f} | {cells} |")
    checks = [
        check for key in ("route_p50", "metrics_cost", "prediction_log_cost") for check in TARGETS[key].checks(results)
    ]
    lines += ["", *(bullet(check, against(check, ".3f")) for check in checks), ""]


def cli_section(lines: list[str], results: Results) -> None:
    result = results["cli"]
    if not result:
        lines.append("_CLI: not yet measured (`python -m bench cli`)_\n")
        return
    ours, before = result["ours_s"]["median"], result["baseline_s"]["median"]
    lines += [
        "## Command line: `python -m mpg predict --input` on 10,000 cars",
        "",
        f"Measured {result['measured_at']}: whole-process wall time (start, imports, load, read, check, predict, "
        f"write), median of {result['runs']} alternating runs, against commit {result['baseline_ref']} in the "
        "same run.",
        "",
        "| | seconds |",
        "| --- | --- |",
        f"| mpg | {ours:.2f} |",
        f"| before | {before:.2f} |",
        "",
        bullet(one_check(results, "cli"), f"{ours:.2f} s against {before:.2f} s ({result['ratio']:.2f}x)"),
        "",
    ]
