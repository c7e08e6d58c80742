"""Accuracy of the whole training procedure: nested repeated CV, the TensorFlow split, train time."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import numpy as np
from sklearn.model_selection import GridSearchCV, RepeatedKFold

from bench.common import save
from mpg import config
from mpg.data import labelled_rows, load_auto_mpg
from mpg.evaluate import regression_metrics
from mpg.train import select_model, tutorial_candidates


def _tutorial_procedure(train):
    """The tutorial's final procedure: its forest grid search, refit on the training rows."""
    grid = tutorial_candidates()[-1]
    search = GridSearchCV(grid.pipeline, grid.grid, cv=10, scoring="neg_root_mean_squared_error", n_jobs=2)
    return search.fit(train[config.FEATURES], train[config.TARGET]).best_estimator_


def nested_cv(repeats: int = 5, folds: int = 10) -> dict:
    """Outer repeated K-fold around the whole selection (so the selection's optimism is measured too)."""
    data, _ = labelled_rows(load_auto_mpg())
    ours, tutorial, chosen = [], [], []
    outer = RepeatedKFold(n_splits=folds, n_repeats=repeats, random_state=config.SEED)
    started = time.perf_counter()
    for k, (train_index, test_index) in enumerate(outer.split(data), start=1):
        train, test = data.iloc[train_index], data.iloc[test_index]
        selection = select_model(train)
        y = test[config.TARGET]
        ours.append(regression_metrics(y, selection.pipeline.predict(test[config.FEATURES]))["rmse"])
        tutorial.append(regression_metrics(y, _tutorial_procedure(train).predict(test[config.FEATURES]))["rmse"])
        chosen.append(selection.best)
        print(f"outer fold {k}/{repeats * folds}: ours {ours[-1]:.3f} ({selection.best}), tutorial {tutorial[-1]:.3f}"
              f"  [{time.perf_counter() - started:.0f} s]", flush=True)  # fmt: skip
    return {
        "outer": f"{repeats}x{folds}-fold RepeatedKFold(random_state={config.SEED})",
        "ours_rmse_mean": statistics.fmean(ours),
        "ours_rmse_std": statistics.pstdev(ours),
        "tutorial_rmse_mean": statistics.fmean(tutorial),
        "tutorial_rmse_std": statistics.pstdev(tutorial),
        "chosen": {name: chosen.count(name) for name in sorted(set(chosen))},
        "seconds": time.perf_counter() - started,
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


def main() -> None:
    result = {"tensorflow_split": tensorflow_split(), "train_time": train_time()}
    print(result, flush=True)
    result["nested_cv"] = nested_cv()
    save("accuracy", result)
    print(result["nested_cv"])


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
