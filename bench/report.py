"""Render bench/RESULTS.md from the stored results (bench/results/*.json)."""

from __future__ import annotations

from pathlib import Path

from bench.common import load
from mpg import config
from mpg.artifact.store import load_card

REPORT = Path(__file__).resolve().parent / "RESULTS.md"


def _mark(ok: bool) -> str:
    return "met" if ok else "**not met**"


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


def _accuracy(lines: list[str]) -> None:
    result = load("accuracy")
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
    ratio = fresh["ratio_mean"]
    lines += [
        "## Accuracy and training time",
        "",
        f"Measured {result['measured_at']}.",
        "",
        "| figure | target | tutorial / TensorFlow | mpg | |",
        "| --- | --- | --- | --- | --- |",
        f"| {nested['outer']} nested CV RMSE of the whole procedure (mean ± std over outer folds) | <= 2.55 | "
        f"{nested['tutorial_rmse_mean']:.3f} ± {nested['tutorial_rmse_std']:.3f} (its forest grid, same folds) | "
        f"{nested['ours_rmse_mean']:.3f} ± {nested['ours_rmse_std']:.3f} | {_mark(nested['ours_rmse_mean'] <= 2.55)} |",
        f"| {len(fresh['splits'])} fresh 80/20 splits ({fresh['method']}): mean of per-split RMSE ratios "
        f"(ours / tutorial's) | <= 0.95 | 1 | {ratio:.3f} | {_mark(ratio <= 0.95)} |",
        f"| TensorFlow basic-regression split ({tf['rows'][0]} train / {tf['rows'][1]} test): test MAE | <= 1.70 | "
        f"{tf['tf_dnn_mae']} (their DNN) | {tf['mae']:.3f} | {_mark(tf['mae'] <= 1.70)} |",
        f"| held-out test RMSE (tutorial's split; a figure, not a target the selection sees) | - | "
        f"{config.TUTORIAL_TEST_RMSE} | {test_rmse:.3f} | |",
        f"| `python -m mpg train` wall time (median of {len(train['runs_s'])}) | <= 30 s | - | "
        f"{train['median_s']:.1f} s | {_mark(train['median_s'] <= 30)} |",
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


def _serving(lines: list[str]) -> None:
    result = load("serving")
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


def _api(lines: list[str]) -> None:
    result = load("api")
    if not result:
        lines.append("_API: not yet measured (`python -m bench api`, needs Debian's wrk)_\n")
        return
    ours, base, before = result["ours"], result["tutorial"], result.get("before", {})
    one = ours["1"]
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
    big = ours["10000"]
    lines += [
        "",
        f"- One car, p50 <= 1.2 ms: {one['latency']['p50_ms']:.2f} ms, {_mark(one['latency']['p50_ms'] <= 1.2)}.",
        f"- One car, >= 2,000 requests/s with 2 workers: {one['throughput']['rps']:.0f}, "
        f"{_mark(one['throughput']['rps'] >= 2000)}.",
        f"- One car, p99 under that load <= 10 ms: {one['throughput']['p99_ms']:.2f} ms, "
        f"{_mark(one['throughput']['p99_ms'] <= 10)}.",
        f"- 10,000 cars, <= 100 ms server time: {big.get('server_ms_median', float('nan')):.1f} ms, "
        f"{_mark(big.get('server_ms_median', float('inf')) <= 100)}.",
    ]
    if base["10000"].get("status") == 200:
        ours_wall, theirs = big["latency"]["p50_ms"], base["10000"]["latency"]["p50_ms"]
        lines.append(
            f"- 10,000 cars, wall time no more than the tutorial service's: {ours_wall:.1f} ms against "
            f"{theirs:.1f} ms, {_mark(ours_wall <= theirs)}."
        )
    for rows in ("1", "100", "10000"):
        if before.get(rows, {}).get("status") == 200:
            now, then = ours[rows]["latency"]["p50_ms"], before[rows]["latency"]["p50_ms"]
            lines.append(
                f"- {'1 car' if rows == '1' else rows + ' cars'} no slower than before (p50 within 10%): {now:.2f} ms "
                f"against {then:.2f} ms "
                f"({now / then:.2f}x), {_mark(now <= then * 1.10)}."
            )
    lines += [
        "",
        f"The model behind these figures: {load_card().model}. Worker: the one gunicorn.conf.py sets; gunicorn's "
        "worker classes are compared below.",
        "",
    ]
    one_car = result.get("one_car")
    if one_car:
        _one_car(lines, {**one_car, "measured_at": result.get("one_car_measured_at", result["measured_at"])})
    workers = result.get("worker_classes")
    if workers:
        _workers(lines, workers, result.get("worker_classes_measured_at", result["measured_at"]))


def _workers(lines: list[str], result: dict, measured_at: str) -> None:
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
    for name, entry in result.items():
        if name == "before":
            continue
        one, eight = entry["latency"], entry["throughput"]
        lines.append(
            f"- {name}: p50 within 10% of before {_mark(one['p50_ms'] <= before * 1.10)}; p99 under 8 connections "
            f"<= 10 ms {_mark(eight['p99_ms'] <= 10)}; >= 2,000 requests/s {_mark(eight['rps'] >= 2000)}."
        )
    lines.append("")


def _one_car(lines: list[str], result: dict | None) -> None:
    if not result:
        return
    p50 = result["p50_ms"]
    shipped = p50["shipped"]
    lines += [
        "### One car on every route, and what observability costs",
        "",
        f"Measured {result.get('measured_at', '')}. 1-connection p50 (ms); each round starts a fresh gunicorn "
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
    lines += ["", *(f"- {check}: {_mark(ok)}." for check, ok in result["targets"].items()), ""]


def _cli(lines: list[str]) -> None:
    result = load("cli")
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
        f"- No slower than before by more than 10%: {result['ratio']:.2f}x, {_mark(result['ratio'] <= 1.10)}.",
        "",
    ]


def _app(lines: list[str]) -> None:
    result = load("app")
    if not result:
        lines.append("_app: not yet measured (`python -m bench app`)_\n")
        return
    first, rerun = result["first_run_s"]["median"], result["rerun_ms"]["median"]
    lines += [
        "## App",
        "",
        f"Measured {result['measured_at']}.",
        "",
        "| figure | target | measured | |",
        "| --- | --- | --- | --- |",
        f"| AppTest: the whole script's first run, fresh process (median of {len(result['first_run_s']['runs'])}) "
        f"| - | {first:.2f} s | |",
        f"| AppTest: rerun after a slider change (median of {result['rerun_ms']['runs']}) | <= 60 ms (#13), "
        f"<= 40 ms (#14) | {rerun:.1f} ms (p90 {result['rerun_ms']['p90']:.1f}) | "
        f"{_mark(rerun <= 60)} / {_mark(rerun <= 40)} |",
    ]
    first_prediction = result.get("first_prediction")
    if first_prediction:
        ratio = first_prediction["ratio_median"]
        median = first_prediction["median_s"]
        lines.append(
            f"| Chromium: a new visitor's first predicted MPG (navigation start to the metric in the page), against "
            f"a one-line `st.metric` app (median of {first_prediction['visits']} alternating visits after each "
            f"server's first) | <= 1.3x "
            f"| {median['app']:.2f} s against {median['one_metric']:.2f} s: {ratio:.2f}x | {_mark(ratio <= 1.3)} |"
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
        p95 = load_run["p95_s"]
        lines.append(
            f"| {load_run['visitors']} visitors in Chromium, a slider change every {load_run['every_s']:g} s for "
            f"{load_run['seconds']:g} s: p95 from change to updated prediction ({load_run['changes']} changes, "
            f"{load_run['errors']} errors) | <= 1.5 s, no error | {p95:.2f} s | "
            f"{_mark(p95 is not None and p95 <= 1.5 and load_run['errors'] == 0)} |"
        )
        rss = load_run["server_rss_mb"]
        lines += [
            "",
            f"Server memory (resident): {rss['after_one_visitor']:.0f} MB after one visitor, {rss['at_end']:.0f} MB "
            f"with {load_run['visitors']}: {load_run['rss_per_extra_session_mb']:.1f} MB per extra session.",
        ]
    rerun_before = load("rerun")
    if rerun_before:
        lines += [
            "",
            f"Rerun against the code before this round (commit {rerun_before['baseline_ref']}), fresh processes, "
            f"alternating, {rerun_before['reruns_per_round']} reruns a round, median of the rounds' medians: "
            f"{rerun_before['ours_ms']:.1f} ms against {rerun_before['before_ms']:.1f} ms "
            f"({rerun_before['ratio']:.2f}x); no slower by more than 10%: {_mark(rerun_before['ratio'] <= 1.10)}.",
        ]
    lines.append("")


def _uncertainty(lines: list[str]) -> None:
    result = load("uncertainty")
    if not result:
        lines.append("_intervals: not yet measured (`python -m bench uncertainty`)_\n")
        return
    ok = 0.88 <= result["coverage"] <= 0.92
    lines += [
        "## 90% prediction intervals",
        "",
        f"Measured {result['measured_at']} with {result['outer']}; in each outer fold the band is calibrated and "
        "the model fitted on the outer training rows only.",
        "",
        "| band | coverage (target 0.88-0.92) | mean width (MPG) |",
        "| --- | --- | --- |",
        f"| mpg: prediction x (1 ± q), cross-validated split conformal on relative residuals "
        f"| {result['coverage']:.3f} "
        f"(fold std {result['coverage_fold_std']:.3f}), {_mark(ok)} | {result['mean_width']:.2f} |",
        f"| naive: prediction ± 1.645 RMSE | {result['naive_coverage']:.3f} | {result['naive_mean_width']:.2f} |",
        "",
    ]


def write_report(path: Path = REPORT) -> Path:
    machine = next(
        (r["machine"] for r in map(load, ("accuracy", "serving", "uncertainty", "api", "app", "cli")) if r), {}
    )
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m bench`); do not edit by hand.",
        "",
        f"Machine: {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, Python {machine.get('python', '?')}.",
        "",
    ]
    _selection(lines)
    _accuracy(lines)
    _serving(lines)
    _uncertainty(lines)
    _api(lines)
    _cli(lines)
    _app(lines)
    path.write_text("\n".join(lines))
    return path
