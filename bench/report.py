"""Render bench/RESULTS.md from the stored results (bench/results/*.json)."""

from __future__ import annotations

from pathlib import Path

from bench.common import RESULTS_DIR, load
from bench.targets import TARGETS, Check
from mpg import config
from mpg.artifact.store import load_card

REPORT = Path(__file__).resolve().parent / "RESULTS.md"
BENCHMARKS = ("accuracy", "serving", "uncertainty", "api", "memory", "cli", "app", "rerun")
PLOT = "memory.png"  # bench/memory.py draws it beside RESULTS.md

Results = dict[str, dict | None]


def _check(results: Results, key: str) -> Check:
    """A target with one subject (bench/targets.py), checked against the saved results."""
    (check,) = TARGETS[key].checks(results)
    return check


def _bullet(check: Check, measured: str) -> str:
    return f"- {check.label} {check.target.condition}: {measured}, {check.mark}."


def _against(check: Check, spec: str) -> str:
    """A relative target's figure against the one it is compared with, in ms."""
    return f"{check.value:{spec}} ms against {check.reference:{spec}} ms ({check.value / check.reference:.2f}x)"


def _selection(lines: list[str]) -> None:
    card = load_card()
    rows = {row.name: row for row in card.leaderboard}
    chosen = rows[card.model]
    lines += [
        "## Model selection (the committed model)",
        "",
        f"Rule (`mpg/modeling/selection.py`): {card.selection.rule}",
        "",
        f"Lowest CV RMSE: {rows[card.selection.lowest_cv_rmse].label}. Equals: "
        + ", ".join(rows[name].label for name in card.selection.equals)
        + f". Chosen: **{chosen.label}** (`{card.model}`).",
        "",
        "| candidate | CV RMSE ± std | difference from the lowest ± its SE (paired) | equal | ONNX ms, 10,000 cars, "
        "1 thread | numbers in the graph |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in card.leaderboard:
        lines.append(
            f"| {row.label} | {row.cv_rmse_mean:.3f} ± {row.cv_rmse_std:.3f} | {row.diff_from_best:+.3f} ± "
            f"{row.diff_se:.3f} | {'yes' if row.equal else 'no'} | {row.serving_ms_10k:.1f} | {row.graph_size:,} |"
        )
    lines += ["", "Serving times in this table were measured during training, on a machine shared with other work.", ""]


def _accuracy(lines: list[str], results: Results) -> None:
    result = results["accuracy"]
    if not result or not {"nested_cv", "fresh_splits", "tensorflow_split", "train_time"} <= set(result):
        lines.append("_accuracy: not yet measured (`python -m bench accuracy`)_\n")
        return
    card = load_card()
    nested, fresh, tf, train = (
        result["nested_cv"],
        result["fresh_splits"],
        result["tensorflow_split"],
        result["train_time"],
    )
    test_rmse = card.metrics.test_rmse
    nested_cv, fresh_splits, tf_mae, train_time = (
        _check(results, key) for key in ("nested_cv", "fresh_splits", "tensorflow_mae", "train_time")
    )
    lines += [
        "## Accuracy and training time",
        "",
        f"Measured {result['measured_at']}.",
        "",
        "| figure | target | tutorial / TensorFlow | mpg | |",
        "| --- | --- | --- | --- | --- |",
        f"| {nested['outer']} {nested_cv.label} (mean ± std over outer folds) | {nested_cv.target.condition} | "
        f"{nested['tutorial_rmse_mean']:.3f} ± {nested['tutorial_rmse_std']:.3f} (its forest grid, same folds) | "
        f"{nested['ours_rmse_mean']:.3f} ± {nested['ours_rmse_std']:.3f} | {nested_cv.mark} |",
        f"| {len(fresh['splits'])} fresh 80/20 splits ({fresh['method']}): {fresh_splits.label} "
        f"(ours / tutorial's) | {fresh_splits.target.condition} | 1 | {fresh['ratio_mean']:.3f} "
        f"| {fresh_splits.mark} |",
        f"| {tf_mae.label} ({tf['rows'][0]} train / {tf['rows'][1]} test): test MAE | {tf_mae.target.condition} | "
        f"{tf['tf_dnn_mae']} (their DNN) | {tf['mae']:.3f} | {tf_mae.mark} |",
        f"| held-out test RMSE (tutorial's split; a figure, not a target the selection sees) | - | "
        f"{config.TUTORIAL_TEST_RMSE} | {test_rmse:.3f} | |",
        f"| {train_time.label} (median of {len(train['runs_s'])}) | {train_time.target.condition} | - | "
        f"{train['median_s']:.1f} s | {train_time.mark} |",
        "",
        f"Nested CV: the whole selection ({len(card.leaderboard)} candidates, every grid, 10-fold inner CV, serving "
        f"cost) re-run in each of the {sum(nested['chosen'].values())} outer folds; it chose {nested['chosen']}. "
        f"It took {nested['seconds'] / 60:.0f} minutes.",
        "",
        f"Fresh splits: both procedures trained on the same training rows of each split; ours no better than the "
        f"tutorial's on {fresh['not_better']} of {len(fresh['splits'])}.",
        "",
        "| split seed | ours: chosen | ours RMSE | tutorial's forest grid RMSE | ratio |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {s['seed']} | {s['chosen']} | {s['ours_rmse']:.3f} | {s['tutorial_rmse']:.3f} | {s['ratio']:.3f} |"
            for s in fresh["splits"]
        ),
        "",
    ]


def _serving(lines: list[str], results: Results) -> None:
    result = results["serving"]
    if not result:
        lines.append("_serving cost: not yet measured (`python -m bench serving`)_\n")
        return
    old, new = result["baseline"], result["committed"]
    lines += [
        f"## ONNX Runtime, {result['rows']:,} cars: the committed model against commit {result['baseline_commit']}",
        "",
        f"Measured {result['measured_at']}, median of {result['runs']} alternating runs in the same process.",
        "",
        "| model | model.onnx bytes | one thread (ms) | `CompiledModel.predict`, as the API runs it (ms) |",
        "| --- | --- | --- | --- |",
        f"| {result['baseline_commit']} | {old['onnx_bytes']:,} | {old['one_thread_ms_median']:.1f} "
        f"| {old['predict_ms_median']:.1f} |",
        f"| committed | {new['onnx_bytes']:,} | {new['one_thread_ms_median']:.1f} | {new['predict_ms_median']:.1f} |",
        "",
    ]


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


def _api(lines: list[str], results: Results) -> None:
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
        _check(results, key)
        for key in ("one_car_p50", "one_car_rps", "one_car_p99", "big_server_time", "big_wall_time")
    )
    lines += [
        "",
        _bullet(p50, f"{p50.value:.2f} ms"),
        _bullet(rps, f"{rps.value:.0f}"),
        _bullet(p99, f"{p99.value:.2f} ms"),
        _bullet(server, f"{server.value:.1f} ms" if server.value is not None else "not measured"),
    ]
    if wall.reference is not None:  # the tutorial service answered 10,000 cars
        lines.append(_bullet(wall, f"{wall.value:.1f} ms against {wall.reference:.1f} ms"))
    for key in ("1_before", "100_before", "10000_before"):
        check = _check(results, key)
        if check.reference is not None:  # before answered this size
            lines.append(_bullet(check, _against(check, ".2f")))
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
            _bullet(p50, _against(p50, ".3f")),
            _bullet(p99, f"{p99.value:.2f} ms"),
            _bullet(rps, f"{rps.value:,.0f}"),
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
    lines += ["", *(_bullet(check, _against(check, ".3f")) for check in checks), ""]


def _memory(lines: list[str], results: Results, plot: Path) -> None:
    result = results["memory"]
    if not result:
        lines.append("_memory: not yet measured (`python -m bench memory`, needs Debian's wrk and chromium)_\n")
        return
    idle, load, app = result["idle"], result["load"], result["app"]
    idle_total, app_rss = _check(results, "api_idle_rss"), _check(results, "app_rss")
    growth = TARGETS["worker_growth"]
    settle, end = load["settle_s"], load["seconds"]
    master = dict(load["master_mb"])
    lines += [
        "## Memory",
        "",
        f"Measured {result['measured_at']}. The API as shipped (`gunicorn api.wsgi:app` with gunicorn.conf.py, "
        f"{result['workers']} gevent workers, prediction log on into SQLite): resident memory (VmRSS) of each "
        f"process once every worker has served a prediction ({idle['requests_sent']} requests, each on a new "
        "connection), then under a steady mixed load (one car, 100 cars, `/invocations` and `/v2` infer in turn, "
        f"from wrk): capacity {load['capacity']['rps']:,.0f} requests/s unthrottled with {load['connections']} "
        f"connections, then half of it ({load['target_rps']:,.0f}/s) for {end / 60:g} minutes, each connection "
        f"waiting {load['delay_ms']:.1f} ms "
        f"between requests: {load['achieved']['rps']:,.0f} requests/s achieved ({load['achieved']['requests']:,} "
        f"requests, {load['achieved']['errors']} errors, p50 {load['achieved']['p50_ms']:.2f} ms, p99 "
        f"{load['achieved']['p99_ms']:.2f} ms). RSS sampled every {load['every_s']} s, each worker followed by PID.",
        "",
        f"| process | idle (MB) | after {settle} s of load (MB) | at the end, {end} s (MB) | growth |",
        "| --- | --- | --- | --- | --- |",
        f"| master | {idle['master_mb']:.1f} | {master[settle]:.1f} | {master[end]:.1f} | |",
    ]
    for pid, samples in load["workers_mb"].items():
        at = dict(samples)
        cells = [
            f"{mb:.1f}" if mb is not None else "-" for mb in (idle["workers_mb"].get(pid), at.get(settle), at.get(end))
        ]
        survived = load["survivors"].get(pid)
        change = (
            f"{survived['growth_pct']:+.1f}%" if survived
            else "started during the run" if settle not in at
            else "replaced during the run"
        )  # fmt: skip
        lines.append(f"| worker {pid} | {' | '.join(cells)} | {change} |")
    lines += [
        f"| all, idle | {idle['total_mb']:.1f} | | | |",
        "",
        _bullet(idle_total, f"{idle_total.value:.1f} MB"),
    ]
    survivors = growth.checks(results)
    lines += [_bullet(check, f"{check.value:.1f} MB against {check.reference:.1f} MB "
                             f"({check.value / check.reference - 1:+.1%})") for check in survivors]  # fmt: skip
    if not survivors:  # gunicorn's max_requests replaced every worker during the run: nothing to check
        lines.append(
            f"- {growth.measures.format(each='that lived through the run')} {growth.condition}: none lived through "
            f"it ({load['workers_seen']} workers seen; gunicorn replaces one after `max_requests`), **not met**."
        )
    lines += [
        _bullet(app_rss, f"{app_rss.value:.1f} MB (at start {app['started_mb']:.1f} MB)"),
        "",
    ]
    if plot.exists():
        lines += [f"![Each worker's RSS over the load]({plot.name})", ""]


def _cli(lines: list[str], results: Results) -> None:
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
        _bullet(_check(results, "cli"), f"{ours:.2f} s against {before:.2f} s ({result['ratio']:.2f}x)"),
        "",
    ]


def _app(lines: list[str], results: Results) -> None:
    result = results["app"]
    if not result:
        lines.append("_app: not yet measured (`python -m bench app`)_\n")
        return
    first, rerun = result["first_run_s"]["median"], result["rerun_ms"]["median"]
    rerun_targets = [_check(results, key) for key in ("rerun_13", "rerun_14")]
    lines += [
        "## App",
        "",
        f"Measured {result['measured_at']}.",
        "",
        "| figure | target | measured | |",
        "| --- | --- | --- | --- |",
        f"| AppTest: the whole script's first run, fresh process (median of {len(result['first_run_s']['runs'])}) "
        f"| - | {first:.2f} s | |",
        f"| {rerun_targets[0].label} (median of {result['rerun_ms']['runs']}) | "
        + ", ".join(f"{check.target.condition} ({check.target.issue})" for check in rerun_targets)
        + f" | {rerun:.1f} ms (p90 {result['rerun_ms']['p90']:.1f}) | "
        + " / ".join(check.mark for check in rerun_targets)
        + " |",
    ]
    first_prediction = result.get("first_prediction")
    if first_prediction:
        target = _check(results, "first_prediction")
        ratio = first_prediction["ratio_median"]
        median = first_prediction["median_s"]
        lines.append(
            f"| {target.label} (navigation start to the metric in the page), against "
            f"a one-line `st.metric` app (median of {first_prediction['visits']} alternating visits after each "
            f"server's first) | {target.target.condition} "
            f"| {median['app']:.2f} s against {median['one_metric']:.2f} s: {ratio:.2f}x | {target.mark} |"
        )
        watcher = first_prediction.get("file_watcher")
        if watcher:
            lines.append(
                f"| the same, then the app with Streamlit's default file watcher on (`.streamlit/config.toml` turns "
                f"it off) | - | {watcher['median_s']['app']:.2f} s against {watcher['median_s']['one_metric']:.2f} s: "
                f"{watcher['ratio_median']:.2f}x | |"
            )
    load_run = result.get("load")
    if load_run:
        p95, errors = _check(results, "load_p95"), _check(results, "load_errors")
        lines.append(
            f"| {load_run['visitors']} {p95.label}, a slider change every {load_run['every_s']:g} s for "
            f"{load_run['seconds']:g} s: p95 from change to updated prediction ({load_run['changes']} changes, "
            f"{load_run['errors']} errors) | {p95.target.condition}, {errors.target.condition} | "
            f"{p95.value:.2f} s | {p95.mark} / {errors.mark} |"
        )
        rss = load_run["server_rss_mb"]
        lines += [
            "",
            f"Server memory (resident): {rss['after_one_visitor']:.0f} MB after one visitor, {rss['at_end']:.0f} MB "
            f"with {load_run['visitors']}: {load_run['rss_per_extra_session_mb']:.1f} MB per extra session.",
        ]
    rerun_before = results["rerun"]
    if rerun_before:
        check = _check(results, "rerun_before")
        lines += [
            "",
            f"{check.label} (commit {rerun_before['baseline_ref']}), fresh processes, alternating, "
            f"{rerun_before['reruns_per_round']} reruns a round, median of the rounds' medians: "
            f"{rerun_before['ours_ms']:.1f} ms against {rerun_before['before_ms']:.1f} ms "
            f"({rerun_before['ratio']:.2f}x); {check.target.condition}: {check.mark}.",
        ]
    lines.append("")


def _uncertainty(lines: list[str], results: Results) -> None:
    result = results["uncertainty"]
    if not result:
        lines.append("_intervals: not yet measured (`python -m bench uncertainty`)_\n")
        return
    coverage = _check(results, "coverage")
    lines += [
        "## 90% prediction intervals",
        "",
        f"Measured {result['measured_at']} with {result['outer']}; in each outer fold the band is calibrated and "
        "the model fitted on the outer training rows only.",
        "",
        "| band | coverage | mean width (MPG) |",
        "| --- | --- | --- |",
        f"| mpg: prediction x (1 ± q), cross-validated split conformal on relative residuals "
        f"| {result['coverage']:.3f} (fold std {result['coverage_fold_std']:.3f}) | {result['mean_width']:.2f} |",
        f"| naive: prediction ± 1.645 RMSE | {result['naive_coverage']:.3f} | {result['naive_mean_width']:.2f} |",
        "",
        _bullet(coverage, f"{result['coverage']:.3f}"),
        "",
    ]


def write_report(path: Path = REPORT, results_dir: Path = RESULTS_DIR) -> Path:
    """RESULTS.md at `path`, from the results saved in `results_dir`."""
    results = {name: load(name, results_dir) for name in BENCHMARKS}
    machine = next((r["machine"] for name, r in results.items() if r and name != "rerun"), {})
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m bench`); do not edit by hand.",
        "",
        f"Machine: {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, Python {machine.get('python', '?')}.",
        "",
    ]
    _selection(lines)
    for section in (_accuracy, _serving, _uncertainty, _api):
        section(lines, results)
    _memory(lines, results, path.parent / PLOT)
    for section in (_cli, _app):
        section(lines, results)
    path.write_text("\n".join(lines))
    return path
