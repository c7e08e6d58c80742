"""RESULTS.md's section on our API against MLflow, MLServer and BentoML serving the same model (bench/peers.py)."""

from __future__ import annotations

from bench.targets import TARGETS
from bench.verdicts import Results, against, bullet, one_check

OURS, LOG_OFF, LOG_ON = "mpg", "mpg, prediction log off", "mpg, prediction log on, beside it"


def _pair(entry: dict, spec: str = ".2f") -> str:
    return f"{entry['p50_ms']:{spec}} / {entry['p99_ms']:{spec}}"


def peers_section(lines: list[str], results: Results) -> None:
    result = results.get("peers")
    if not result:
        lines.append("_Serving against MLflow, MLServer and BentoML: not yet measured (`python -m bench peers`)_\n")
        return
    servers, fastest = result["servers"], result["fastest_peer"]
    peers, libraries = list(result["versions"]), ", ".join(result["model_libraries"])
    agreement = result["agreement"]
    lines += [
        "## Serving against MLflow, MLServer and BentoML",
        "",
        f"Measured {result['measured_at']} (the run took {result['minutes']:.0f} min). Each server serves the "
        "committed Pipeline on this machine: ours as shipped (metrics, access log and prediction log on), each peer "
        "from its own virtual environment (`bench/peer_servers.py`) the way its documentation shows, with the worker "
        f"settings below, and with {libraries} as requirements.txt pins them. Before a server is "
        f"measured, every route of it must give {agreement['cars']} real cars the MPG that ONNX Runtime gives them in "
        f"this process, within {agreement['within_mpg']} MPG. Rounds ({result['rounds']}) take every server in turn, "
        "each a fresh process (ours with an empty prediction log); each figure is the median over the rounds. "
        "Load from `wrk` on the same machine: "
        f"{result['seconds']} s per figure, {result['big_seconds']} s per route for {result['cars']:,} cars (one "
        "request at a time).",
        "",
        "| server | pinned | workers | route for 1 and 100 cars | largest difference from ONNX Runtime (MPG) |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {name} | {', '.join(result['versions'].get(name, ['requirements.txt']))} | {result['workers'][name]} "
            f"| `{result['routes'][name][0]}` | {servers[name]['agreement_mpg']:.2g} |"
            for name in [OURS, *peers]
        ),
        "",
        "| server | 1 car: p50 / p99 (ms) | 1 car, 8 connections: requests/s, p99 (ms) | 100 cars: p50 / p99 (ms) "
        f"| {result['cars']:,} cars, its own route: p50 (ms) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in [OURS, *peers]:
        entry = servers[name]
        eight, big = entry["one_car_8"], next(iter(entry["big"].values()))
        lines.append(
            f"| {name} | {_pair(entry['one_car'], '.3f')} | {eight['rps']:,.0f}, {eight['p99_ms']:.2f} "
            f"| {_pair(entry['cars_100'])} | {big['p50_ms']:.1f} |"
        )
    _big(lines, result)
    _tail(lines, result["per_round"][OURS])
    _log(lines, result)
    _verdicts(lines, results, fastest)


def _big(lines: list[str], result: dict) -> None:
    servers, fastest = result["servers"], result["fastest_peer"]["big_p50_ms"]
    lines += [
        "",
        f"{result['cars']:,} cars in one request, 1 connection, on every route of ours and each peer's own:",
        "",
        "| server | route | p50 / p99 wall time (ms) | server time (ms) | p50 against the fastest peer's |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in servers:
        for route, entry in servers[name]["big"].items():
            server_ms = f"{entry['server_ms']:.1f}" if "server_ms" in entry else ""
            lines.append(f"| {name} | `{route}` | {_pair(entry, '.1f')} | {server_ms} "
                         f"| {entry['p50_ms'] / fastest['value']:.2f}x |")  # fmt: skip
    lines += [
        f"| ONNX Runtime in this process | `CompiledModel.predict` | {result['onnx']['ms']:.1f} | | "
        f"{result['onnx']['ms'] / fastest['value']:.2f}x |",
        "",
        f"Server time is our `Server-Timing` header (parse, validate, predict, encode), the median of "
        f"{result.get('server_times', 5)} requests, each on a new connection, after the wall-time run. The fastest "
        f"peer here: {fastest['server']}.",
    ]


def _tail(lines: list[str], rounds: list[dict]) -> None:
    lines += [
        "",
        "Our tail at 1 connection, round by round (p99 / p50):",
        "",
        "| round | 1 car | 100 cars |",
        "| --- | --- | --- |",
        *(
            f"| {number} | {r['one_car']['p99_over_p50']:.2f} | {r['cars_100']['p99_over_p50']:.2f} |"
            for number, r in enumerate(rounds, start=1)
        ),
        "",
    ]


def _log(lines: list[str], result: dict) -> None:
    on, off = result["per_round"][LOG_ON], result["per_round"][LOG_OFF]
    route = next(iter(on[0]["big"]))
    lines += [
        f"The prediction log's cost, round by round: ours with the log on and with it off, both up at once and fresh, "
        f"take turns at {result['cars']:,} cars on `{route}` ({result.get('turns', 4)} runs each, medians), so "
        "that the machine's drift between the two is seconds. The cars logged are counted after the servers stop, "
        "against the cars the log-on server answered (at least: `wrk` leaves out a request cut off at its end).",
        "",
        "| round | log on: p50 (ms) | log off: p50 (ms) | on / off | cars logged / answered |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {number} | {a['big'][route]['p50_ms']:.2f} | {b['big'][route]['p50_ms']:.2f} "
            f"| {a['big'][route]['p50_ms'] / b['big'][route]['p50_ms']:.3f} "
            f"| {a['cars']['logged']:,} / {a['cars']['answered_at_least']:,} |"
            for number, (a, b) in enumerate(zip(on, off, strict=True), start=1)
        ),
        "",
    ]


def _verdicts(lines: list[str], results: Results, fastest: dict) -> None:
    def peer(check, figure: str, spec: str = ".2f", unit: str = " ms") -> str:
        value, reference = check.value, check.reference
        return (f"{value:{spec}}{unit} against {reference:{spec}}{unit} ({fastest[figure]['server']}; "
                f"{value / reference:.2f}x)")  # fmt: skip

    one, rps, hundred = (one_check(results, key) for key in ("peers_one_car_p50", "peers_one_car_rps", "peers_100_p50"))
    lines += [
        bullet(one, peer(one, "one_car_p50_ms", ".3f")),
        bullet(rps, peer(rps, "one_car_8_rps", ",.0f", "")),
        bullet(hundred, peer(hundred, "cars_100_p50_ms")),
        *(bullet(check, peer(check, "big_p50_ms", ".1f")) for check in TARGETS["peers_big_wall"].checks(results)),
    ]
    records, log = (one_check(results, key) for key in ("peers_records_wall", "peers_log_cost"))
    tails = ("peers_tail_1", "peers_worst_tail_1", "peers_tail_100", "peers_worst_tail_100")
    lines += [
        bullet(records, peer(records, "big_p50_ms", ".1f")),
        *(bullet(check, against(check, ".1f")) for check in TARGETS["peers_server_time"].checks(results)),
        *(bullet(check, f"{check.value:.2f}x") for key in tails for check in TARGETS[key].checks(results)),
        bullet(log, against(log, ".1f")),
        "",
    ]


def log_write_section(lines: list[str], results: Results) -> None:
    result = results.get("log_write")
    if not result:
        lines.append("_The prediction log's writes: not yet measured (`python -m bench log_write`)_\n")
        return
    one = result["one_car"]
    lines += [
        "## The prediction log's writes",
        "",
        f"Measured {result['measured_at']} (`bench/log_write.py`): {result['rows']:,} cars made `predictions` rows and "
        "written in one transaction by `insert_rows` (SQLite: multi-row INSERTs; PostgreSQL: COPY) and by the "
        "driver's `executemany` of SQLAlchemy's one-row INSERT (making the rows timed apart); and the same cars as one "
        "request, which the log writes as one `prediction_batches` row (making its bytes included). Alternating, "
        f"median of {result['runs']} runs.",
        "",
        "| database | making the rows (ms) | insert_rows (ms) | executemany (ms) | executemany / insert_rows "
        "| one request's row (ms) |",
        "| --- | --- | --- | --- | --- | --- |",
        *(
            f"| {name} | {entry['rows_ms']:.1f} | {entry['insert_rows_ms']:.1f} | {entry['executemany_ms']:.1f} "
            f"| {entry['ratio']:.2f}x | {entry['one_row_ms']:.2f} |"
            for name, entry in ((name, result[name]) for name in ("sqlite", "postgresql") if name in result)
        ),
        "",
        f"One car made a row by `record` on the request's path (`Batch.small_rows`): {one['small_rows_us']:.1f} µs.",
        "",
    ]


def tail_section(lines: list[str], results: Results) -> None:
    result = results.get("tail")
    if not result:
        lines.append("_What makes the tail: not yet measured (`python -m bench tail`)_\n")
        return
    packing = result["sched_vcpu_pack"]
    lines += [
        "## What makes one car's tail",
        "",
        f"Measured {result['measured_at']} (`bench/tail.py`): our API with the prediction log off answers one car at 1 "
        f"connection (wrk, {result['seconds']} s per figure) while a process at nice 19 works beside it, and the same "
        "API with the log on and nothing beside it (each server idles while the other is measured); median of "
        f"{result['rounds']} rounds that take the settings in "
        "turn. The kernel's vCPU packing setting `kernel.sched_vcpu_pack` is "
        f"{packing if packing is not None else 'absent'}.",
        "",
        "| beside the server | p50 (ms) | p99 (ms) | p99 / p50 (median of the rounds' ratios) |",
        "| --- | --- | --- | --- |",
        *(
            f"| {name} | {entry['p50_ms']:.3f} | {entry['p99_ms']:.3f} | {entry['p99_over_p50']:.2f} |"
            for name, entry in result["settings"].items()
        ),
        "",
    ]
