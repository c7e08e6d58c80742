"""Accuracy of the whole training procedure (selection included) beside the tutorial's, on the same rows.

- nested 5x10 CV: the whole selection re-run inside each outer fold;
- fresh 80/20 splits stratified on Cylinders (seeds 1-10, not the tutorial's 42): per-split RMSE ratios;
- TensorFlow's basic-regression split: test MAE;
- `python -m mpg train` wall time.
Each stage is saved as it finishes (bench/results/accuracy.json).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import numpy as np
from sklearn.model_selection import GridSearchCV, RepeatedKFold

from bench.common import load, save
from mpg import config
from mpg.data import labelled_rows, load_auto_mpg, split_train_test
from mpg.modeling.candidates import tutorial_candidates
from mpg.modeling.evaluate import regression_metrics
from mpg.modeling.selection import select_model

FRESH_SEEDS = tuple(range(1, 11))


def _tutorial_procedure(train):
    """The tutorial's final procedure done right: its forest grid search (preprocessing inside), refit on train."""
    grid = tutorial_candidates()[-1]
    search = GridSearchCV(grid.pipeline, grid.grid, cv=10, scoring="neg_root_mean_squared_error", n_jobs=2)
    return search.fit(train[config.FEATURES], train[config.TARGET]).best_estimator_


def _both(train, test) -> tuple[float, float, str]:
    """Test RMSE of our whole procedure and of the tutorial's, both trained on `train` only."""
    selection = select_model(train)
    y, X = test[config.TARGET], test[config.FEATURES]
    ours = regression_metrics(y, selection.pipeline.predict(X))["rmse"]
    tutorial = regression_metrics(y, _tutorial_procedure(train).predict(X))["rmse"]
    return ours, tutorial, selection.best


def nested_cv(repeats: int = 5, folds: int = 10) -> dict:
    """Outer repeated K-fold around the whole selection (so the selection's optimism is measured too)."""
    data, _ = labelled_rows(load_auto_mpg())
    ours, tutorial, chosen = [], [], []
    outer = RepeatedKFold(n_splits=folds, n_repeats=repeats, random_state=config.SEED)
    started = time.perf_counter()
    for k, (train_index, test_index) in enumerate(outer.split(data), start=1):
        a, b, name = _both(data.iloc[train_index], data.iloc[test_index])
        ours.append(a), tutorial.append(b), chosen.append(name)
        print(f"outer fold {k}/{repeats * folds}: ours {a:.3f} ({name}), tutorial {b:.3f}"
              f"  [{time.perf_counter() - started:.0f} s]", flush=True)  # fmt: skip
    return {
        "outer": f"{repeats}x{folds}-fold RepeatedKFold(random_state={config.SEED})",
        "ours_rmse_mean": statistics.fmean(ours),
        "ours_rmse_std": statistics.pstdev(ours),
        "tutorial_rmse_mean": statistics.fmean(tutorial),
        "tutorial_rmse_std": statistics.pstdev(tutorial),
        "ours_rmse": ours,
        "tutorial_rmse": tutorial,
        "chosen": {name: chosen.count(name) for name in sorted(set(chosen))},
        "seconds": time.perf_counter() - started,
    }


def fresh_splits(seeds=FRESH_SEEDS) -> dict:
    """New 80/20 splits stratified on Cylinders: our procedure vs the tutorial's forest grid on the same rows."""
    data, _ = labelled_rows(load_auto_mpg())
    splits = []
    for seed in seeds:
        ours, tutorial, name = _both(*split_train_test(data, seed=seed))
        splits.append({"seed": seed, "ours_rmse": ours, "tutorial_rmse": tutorial, "ratio": ours / tutorial,
                       "chosen": name})  # fmt: skip
        print(f"split seed {seed}: ours {ours:.3f} ({name}), tutorial {tutorial:.3f}, ratio {ours / tutorial:.3f}")
    ratios = [s["ratio"] for s in splits]
    return {
        "method": "StratifiedShuffleSplit on Cylinders, test_size 0.2",
        "splits": splits,
        "ratio_mean": statistics.fmean(ratios),
        "not_better": sum(r >= 1 for r in ratios),
    }


def tensorflow_split() -> dict:
    """TensorFlow's basic-regression tutorial split: drop incomplete rows, sample(frac=0.8, random_state=0)."""
    data = load_auto_mpg().dropna()
    train = data.sample(frac=0.8, random_state=0)
    test = data.drop(train.index)
    selection = select_model(train)
    metrics = regression_metrics(test[config.TARGET], selection.pipeline.predict(test[config.FEATURES]))
    return {"rows": [len(train), len(test)], "model": selection.best, **metrics, "tf_dnn_mae": config.TF_DNN_TEST_MAE}


def train_time(runs: int = 3, out_dir: str = "/tmp/mpg-bench-model") -> dict:
    """Wall time of `python -m mpg train`, as a user runs it (median of `runs`)."""
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mpg", "train", "--out", out_dir], check=True, capture_output=True)
        seconds.append(time.perf_counter() - began)
    return {"median_s": statistics.median(seconds), "runs_s": seconds}


STAGES = {"tensorflow_split": tensorflow_split, "fresh_splits": fresh_splits, "train_time": train_time,
          "nested_cv": nested_cv}  # fmt: skip


def main(stages=tuple(STAGES)) -> None:
    """Run `stages` (all by default), keeping the other stages' stored results."""
    result = {k: v for k, v in (load("accuracy") or {}).items() if k in STAGES}
    for name in stages:
        print(f"-- {name}", flush=True)
        result[name] = STAGES[name]()
        save("accuracy", result)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main(tuple(sys.argv[1:]) or tuple(STAGES))
