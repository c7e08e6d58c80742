"""Model selection by RULE, declared before any held-out figure is seen: as good as the best, then cheapest to serve."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline

from mpg import config
from mpg.artifact.export import export_onnx
from mpg.artifact.runtime import one_thread_session
from mpg.modeling.candidates import Candidate, default_candidates

SCORING = {"rmse": "neg_root_mean_squared_error", "mae": "neg_mean_absolute_error", "r2": "r2"}
SERVING_ROWS = 10_000
SERVING_RUNS = 5
TIE_RATIO = 1.2
RULE = (
    "Equals: candidates whose mean fold-by-fold CV RMSE difference from the lowest-CV-RMSE candidate is at most one "
    "standard error of those differences (the one-standard-error rule, paired: every candidate sees the same folds). "
    f"Among the equals, the cheapest to serve: ONNX Runtime time for {SERVING_ROWS:,} cars on one thread, median of "
    f"{SERVING_RUNS} runs; times within {TIE_RATIO - 1:.0%} of the fastest count as equal, and then the smallest graph "
    "(fewest stored numbers) wins. The held-out test rows are not used."
)


@dataclass
class Selection:
    """What `select_model` returns: the refitted chosen pipeline and the leaderboard, ranked by the rule."""

    pipeline: Pipeline
    best: str
    leaderboard: list[dict]
    rule: dict
    seconds: float


def graph_size(onnx_bytes: bytes) -> int:
    """How many numbers the ONNX graph stores (weights, support vectors, tree nodes): a deterministic size."""
    import onnx

    graph = onnx.load_from_string(onnx_bytes).graph
    size = sum(int(np.prod(t.dims)) for t in graph.initializer)
    for node in graph.node:
        for a in node.attribute:
            size += len(a.floats) + len(a.ints) + len(a.strings) + (int(np.prod(a.t.dims)) if a.HasField("t") else 0)
    return size


def serving_cost(pipeline: Pipeline, cars: pd.DataFrame) -> tuple[float, int]:
    """Median ONNX Runtime milliseconds for SERVING_ROWS cars (`cars` repeated) on one thread, and the graph size."""
    onnx_bytes = export_onnx(pipeline)
    session = one_thread_session(onnx_bytes)
    X = np.resize(cars[config.FEATURES].to_numpy(dtype=np.float64), (SERVING_ROWS, len(config.FEATURES)))
    session.run(None, {"X": X})  # warm-up
    times = []
    for _ in range(SERVING_RUNS):  # not timeit: it turns the garbage collector off, and serving runs with it on
        began = time.perf_counter()
        session.run(None, {"X": X})
        times.append(1000 * (time.perf_counter() - began))
    return statistics.median(times), graph_size(onnx_bytes)


def _row(candidate: Candidate, search: GridSearchCV) -> dict:
    best, results = search.best_index_, search.cv_results_
    folds = [float(-results[f"split{k}_test_rmse"][best]) for k in range(search.n_splits_)]
    return {
        "name": candidate.name,
        "label": candidate.label,
        "source": candidate.source,
        "cv_rmse_mean": float(np.mean(folds)),
        "cv_rmse_std": float(np.std(folds)),
        "cv_rmse_folds": folds,
        "cv_mae": float(-results["mean_test_mae"][best]),
        "cv_r2": float(results["mean_test_r2"][best]),
        "fit_time_s": float(results["mean_fit_time"][best]),
        "configs": len(results["params"]),
        "best_params": {k.split("__")[-1]: v for k, v in search.best_params_.items()},
        "tutorial_cv_rmse": config.TUTORIAL_CV_RMSE.get(candidate.name),
    }


def apply_rule(rows: list[dict]) -> tuple[list[dict], dict]:
    """Mark the equals of the lowest-CV-RMSE row, rank the rows by the rule (the chosen first) and describe it.
    Each row needs cv_rmse_folds, serving_ms_10k and graph_size; it gains diff_from_best, diff_se and equal."""
    best = min(rows, key=lambda r: (r["cv_rmse_mean"], r["name"]))
    for row in rows:
        diffs = np.subtract(row["cv_rmse_folds"], best["cv_rmse_folds"])
        row["diff_from_best"] = float(diffs.mean())
        row["diff_se"] = float(diffs.std(ddof=1) / np.sqrt(len(diffs)))
        row["equal"] = row["diff_from_best"] <= row["diff_se"]
    equals = [r for r in rows if r["equal"]]
    fastest = min(r["serving_ms_10k"] for r in equals)
    # Not ranked by time inside the tie: time noise could then reorder them. Size and CV RMSE are deterministic.
    tied = [r for r in equals if r["serving_ms_10k"] <= TIE_RATIO * fastest]
    tied.sort(key=lambda r: (r["graph_size"], r["cv_rmse_mean"], r["name"]))
    slower = sorted((r for r in equals if r not in tied), key=lambda r: (r["serving_ms_10k"], r["name"]))
    others = sorted((r for r in rows if not r["equal"]), key=lambda r: (r["cv_rmse_mean"], r["name"]))
    ranked = tied + slower + others
    return ranked, {"rule": RULE, "lowest_cv_rmse": best["name"], "equals": [r["name"] for r in tied + slower],
                    "chosen": ranked[0]["name"], "serving_rows": SERVING_ROWS, "serving_runs": SERVING_RUNS,
                    "tie_ratio": TIE_RATIO}  # fmt: skip


def select_model(train: pd.DataFrame, candidates: Sequence[Candidate] | None = None, *, seed: int = config.SEED,
                 folds: int = config.CV_FOLDS, n_jobs: int = 2, log: Callable[[str], None] = lambda _message: None,
                 measure: Callable[[Pipeline, pd.DataFrame], tuple[float, int]] = serving_cost,
                 ) -> Selection:  # fmt: skip
    """Tune each candidate by CV on `train` only, measure its serving cost (`measure`: tests fix it), choose by RULE."""
    started = time.perf_counter()
    candidates = default_candidates(seed) if candidates is None else list(candidates)
    X, y = train[config.FEATURES], train[config.TARGET]
    cv = KFold(n_splits=folds, shuffle=True, random_state=seed)
    tuned: dict[str, Pipeline] = {}
    rows: list[dict] = []
    for k, candidate in enumerate(candidates, start=1):
        began = time.perf_counter()
        pipeline = candidate.pipeline if isinstance(candidate.pipeline, Pipeline) else candidate.pipeline(tuned)
        search = GridSearchCV(pipeline, candidate.grid or {}, cv=cv, scoring=SCORING, refit="rmse", n_jobs=n_jobs)
        search.fit(X, y)
        tuned[candidate.name] = search.best_estimator_
        row = _row(candidate, search)
        row["serving_ms_10k"], row["graph_size"] = measure(search.best_estimator_, train)
        rows.append(row)
        log(f"[{k}/{len(candidates)}] {candidate.name:<26} {row['configs']:>2} configs x {folds} folds  "
            f"CV RMSE {row['cv_rmse_mean']:.3f} ± {row['cv_rmse_std']:.3f}  10k cars {row['serving_ms_10k']:6.1f} ms  "
            f"({time.perf_counter() - began:.1f} s, elapsed {time.perf_counter() - started:.1f} s)")  # fmt: skip
    leaderboard, rule = apply_rule(rows)
    chosen = rule["chosen"]
    log(f"equals of {rule['lowest_cv_rmse']}: {', '.join(rule['equals'])}; chosen: {chosen}")
    return Selection(tuned[chosen], chosen, leaderboard, rule, time.perf_counter() - started)
