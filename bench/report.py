"""Render bench/RESULTS.md from the stored results (bench/results/*.json)."""

from __future__ import annotations

from pathlib import Path

from bench.common import RESULTS_DIR, load
from bench.report_api import api_section, cli_section
from bench.report_app import app_section, memory_section
from bench.report_peers import log_write_section, peers_section, tail_section
from bench.verdicts import Results, bullet, one_check
from mpg import config
from mpg.artifact.store import load_card

REPORT = Path(__file__).resolve().parent / "RESULTS.md"
BENCHMARKS = (
    "accuracy",
    "serving",
    "uncertainty",
    "api",
    "peers",
    "tail",
    "log_write",
    "memory",
    "cli",
    "app",
    "rerun",
)
PLOT = "memory.png"  # bench/memory.py draws it beside RESULTS.md


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
        one_check(results, key) for key in ("nested_cv", "fresh_splits", "tensorflow_mae", "train_time")
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


def _uncertainty(lines: list[str], results: Results) -> None:
    result = results["uncertainty"]
    if not result:
        lines.append("_intervals: not yet measured (`python -m bench uncertainty`)_\n")
        return
    coverage = one_check(results, "coverage")
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
        bullet(coverage, f"{result['coverage']:.3f}"),
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
    for section in (_accuracy, _serving, _uncertainty, api_section, peers_section, tail_section, log_write_section):
        section(lines, results)
    memory_section(lines, results, path.parent / PLOT)
    for section in (cli_section, app_section):
        section(lines, results)
    path.write_text("\n".join(lines))
    return path
