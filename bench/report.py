"""Render bench/RESULTS.md from the stored results (bench/results/*.json)."""

from __future__ import annotations

from pathlib import Path

from bench.common import load
from mpg import config
from mpg.persistence import load_card

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
        f"Rule (`mpg/selection.py`): {card.selection.rule}",
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
    ours, base = result["ours"], result["tutorial"]
    one = ours["1"]
    lines += [
        "## API latency and throughput",
        "",
        f"Measured {result['measured_at']}. Both services under gunicorn with {result['workers']} workers on this "
        "machine, load from `wrk` on the same machine: latency with 1 connection, throughput with 8; each "
        f"figure the median of {result['runs']} runs. Server time is our `Server-Timing` header (parse, validate, "
        "predict, encode). The baseline is `bench/tutorial_service.py`, a faithful rebuild of the tutorial's "
        "service (pickle loaded per request, preprocessing refitted on the request rows).",
        "",
        "| request | p50 / p99 latency (ms) | requests/s (8 connections) | cars/s | server ms (median) "
        "| vs tutorial (same run) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for rows in ("1", "3", "100", "10000"):
        lines.append(_api_row(f"mpg, {rows} rows", ours[rows], base.get(rows)))
        lines.append(_api_row(f"tutorial, {rows} rows", base[rows], None))
    big = ours["10000"].get("server_ms_median", float("inf"))
    lines += [
        "",
        f"- One row, p50 <= 1 ms: {one['latency']['p50_ms']:.2f} ms, {_mark(one['latency']['p50_ms'] <= 1.0)}.",
        f"- One row, >= 2,000 requests/s with 2 workers: {one['throughput']['rps']:.0f}, "
        f"{_mark(one['throughput']['rps'] >= 2000)}.",
        f"- 10,000 rows, <= 100 ms server time: {big:.1f} ms, {_mark(big <= 100)}.",
        "",
        f"The model behind these figures: {load_card().model} (see Model selection above); bench/results/api.json "
        "was measured with the model committed at the time it was run.",
        "",
        f"Tail latency under load (8 connections, 1 row): p99 {one['throughput']['p99_ms']:.2f} ms. Each "
        "gunicorn worker (`api.worker.Worker`) lets every keep-alive connection take its turn.",
        "",
    ]


def _app(lines: list[str]) -> None:
    result = load("app")
    if not result:
        lines.append("_app: not yet measured (`python -m bench app`)_\n")
        return
    first, rerun = result["first_run_s"]["median"], result["rerun_ms"]["median"]
    lines += [
        "## App (Streamlit AppTest, whole script)",
        "",
        f"Measured {result['measured_at']}.",
        "",
        "| figure | target | measured | |",
        "| --- | --- | --- | --- |",
        f"| first run (median of {len(result['first_run_s']['runs'])}) | <= 3 s | {first:.2f} s "
        f"| {_mark(first <= 3)} |",
        f"| rerun after a slider change (median of {result['rerun_ms']['runs']}) | <= 100 ms | {rerun:.1f} ms "
        f"(p90 {result['rerun_ms']['p90']:.1f}) | {_mark(rerun <= 100)} |",
        "",
    ]


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
    machine = next((r["machine"] for r in map(load, ("accuracy", "serving", "uncertainty", "api", "app")) if r), {})
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
    _app(lines)
    path.write_text("\n".join(lines))
    return path
