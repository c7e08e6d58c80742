"""Model selection: the tutorial's candidates and stronger ones, each tuned by 10-fold CV on the training rows."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingRegressor,
    RandomForestRegressor,
    VotingRegressor,
)
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.svm import SVR
from sklearn.tree import DecisionTreeRegressor

from mpg import config, uncertainty
from mpg.card import ModelCard
from mpg.data import frame_hash, labelled_rows, load_auto_mpg, split_train_test
from mpg.evaluate import regression_metrics
from mpg.importance import impurity_importances, permutation_importances
from mpg.persistence import save_model
from mpg.pipeline import build_pipeline, fill_values, in_gallons_per_100_miles

SCORING = {
    "rmse": "neg_root_mean_squared_error",
    "mae": "neg_mean_absolute_error",
    "r2": "r2",
}
ENSEMBLE_MEMBERS = ("svr_rbf_gp100m", "extra_trees_gp100m", "gbr_gp100m")


@dataclass
class Candidate:
    """A pipeline and the grid it is tuned over (an empty grid: scored as it is)."""

    name: str
    pipeline: Pipeline
    grid: dict = field(default_factory=dict)
    source: str = "ours"


def tutorial_candidates(seed: int = config.SEED) -> list[Candidate]:
    """The tutorial's four models and its forest grid search, with preprocessing inside each fold."""
    forest_grid = [
        {"model__n_estimators": [3, 10, 30], "model__max_features": [2, 4, 6, 8]},
        {
            "model__bootstrap": [False],
            "model__n_estimators": [3, 10],
            "model__max_features": [2, 3, 4],
        },
    ]
    return [
        Candidate("linear_regression", build_pipeline(LinearRegression()), source="tutorial"),
        Candidate(
            "decision_tree",
            build_pipeline(DecisionTreeRegressor(random_state=seed)),
            source="tutorial",
        ),
        Candidate(
            "random_forest",
            build_pipeline(RandomForestRegressor(random_state=seed)),
            source="tutorial",
        ),
        Candidate("svr_linear", build_pipeline(SVR(kernel="linear")), source="tutorial"),
        Candidate(
            "tutorial_forest_grid",
            build_pipeline(RandomForestRegressor(random_state=seed)),
            forest_grid,
            source="tutorial",
        ),
    ]


def our_candidates(seed: int = config.SEED) -> list[Candidate]:
    """Stronger models, fitted on fuel consumption (gallons per 100 miles) and tuned in CV."""
    reg = "model__regressor__"
    return [
        Candidate(
            "svr_rbf_gp100m",
            build_pipeline(in_gallons_per_100_miles(SVR(kernel="rbf"))),
            {
                f"{reg}C": [3, 10, 30],
                f"{reg}gamma": [0.03, 0.1],
                f"{reg}epsilon": [0.05, 0.1],
            },
        ),
        Candidate(
            "extra_trees_gp100m",
            build_pipeline(in_gallons_per_100_miles(ExtraTreesRegressor(n_estimators=200, random_state=seed))),
            {f"{reg}min_samples_leaf": [1, 2], f"{reg}max_features": [0.5, 1.0]},
        ),
        Candidate(
            "gbr_gp100m",
            build_pipeline(
                in_gallons_per_100_miles(GradientBoostingRegressor(n_estimators=300, subsample=0.8, random_state=seed))
            ),
            {f"{reg}max_depth": [2, 3], f"{reg}learning_rate": [0.03, 0.1]},
        ),
    ]


def ensemble_candidate(tuned: dict[str, GridSearchCV]) -> Candidate:
    """The average of the tuned members' predictions (each keeps its own tuned parameters)."""
    members = [(name, tuned[name].best_estimator_.named_steps["model"]) for name in ENSEMBLE_MEMBERS]
    return Candidate("ensemble_svr_et_gbr", build_pipeline(VotingRegressor(members)))


def _row(candidate: Candidate, search: GridSearchCV) -> dict:
    best = search.best_index_
    results = search.cv_results_
    folds = [-results[f"split{k}_test_rmse"][best] for k in range(search.n_splits_)]
    return {
        "name": candidate.name,
        "source": candidate.source,
        "cv_rmse_mean": float(np.mean(folds)),
        "cv_rmse_std": float(np.std(folds)),
        "cv_mae": float(-results["mean_test_mae"][best]),
        "cv_r2": float(results["mean_test_r2"][best]),
        "fit_time_s": float(results["mean_fit_time"][best]),
        "configs": len(results["params"]),
        "best_params": {k.split("__")[-1]: v for k, v in search.best_params_.items()},
        "tutorial_cv_rmse": config.TUTORIAL_CV_RMSE.get(candidate.name),
    }


@dataclass
class Selection:
    """What `select_model` returns: the refitted best pipeline and the leaderboard (best first)."""

    pipeline: Pipeline
    best: str
    leaderboard: list[dict]
    seconds: float


def select_model(
    train: pd.DataFrame,
    *,
    seed: int = config.SEED,
    folds: int = config.CV_FOLDS,
    n_jobs: int = 2,
    log: Callable[[str], None] = lambda _message: None,
) -> Selection:
    """Tune every candidate by `folds`-fold CV on `train` only and refit the lowest-RMSE one on it.

    Deterministic for a given seed. The test rows are never seen here.
    """
    started = time.perf_counter()
    X, y = train[config.FEATURES], train[config.TARGET]
    cv = KFold(n_splits=folds, shuffle=True, random_state=seed)
    tuned: dict[str, GridSearchCV] = {}
    rows: list[dict] = []
    candidates = tutorial_candidates(seed) + our_candidates(seed)
    total = len(candidates) + 1

    def run(candidate: Candidate) -> None:
        began = time.perf_counter()
        search = GridSearchCV(
            candidate.pipeline,
            candidate.grid or {},
            cv=cv,
            scoring=SCORING,
            refit="rmse",
            n_jobs=n_jobs,
        )
        search.fit(X, y)
        tuned[candidate.name] = search
        rows.append(_row(candidate, search))
        row = rows[-1]
        log(
            f"[{len(rows)}/{total}] {candidate.name:<22} {row['configs']:>2} configs x {folds} folds  "
            f"CV RMSE {row['cv_rmse_mean']:.3f} ± {row['cv_rmse_std']:.3f}  "
            f"({time.perf_counter() - began:.1f} s, elapsed {time.perf_counter() - started:.1f} s)"
        )

    for candidate in candidates:
        run(candidate)
    run(ensemble_candidate(tuned))
    leaderboard = sorted(rows, key=lambda r: r["cv_rmse_mean"])
    best = leaderboard[0]["name"]
    return Selection(tuned[best].best_estimator_, best, leaderboard, time.perf_counter() - started)


def input_schema(train: pd.DataFrame, pipeline: Pipeline) -> dict:
    """Each input's unit, plausible bounds, training range and imputed value, as saved in the model card."""
    fills = fill_values(pipeline)
    features = {}
    for name in config.FEATURES:
        low, high = config.BOUNDS.get(name, (None, None))
        features[name] = {
            "unit": config.UNITS[name],
            "train_min": float(train[name].min()),
            "train_max": float(train[name].max()),
            "min": low,
            "max": high,
            "integer": name in config.INTEGER_FEATURES,
            "fill": fills[name],
        }
    return {
        "features": features,
        "origins": {str(code): label for code, label in config.ORIGINS.items()},
        "fill_rule": {name: "median" for name in config.NUMERIC_FEATURES} | {config.ORIGIN: "most frequent"},
    }


def train_model(
    data_path: str | Path = config.DATA_PATH,
    out_dir: str | Path = config.MODELS_DIR,
    *,
    seed: int = config.SEED,
    log: Callable[[str], None] = lambda _message: None,
) -> ModelCard:
    """Load, split, select, evaluate once on the test rows, explain, and save. Returns the model card."""
    data = load_auto_mpg(data_path)
    labelled, unlabelled = labelled_rows(data)
    if unlabelled:
        log(f"{unlabelled} rows without MPG left out of training")
    train, test = split_train_test(labelled, seed=seed)
    log(f"{len(labelled)} rows: {len(train)} train, {len(test)} test (stratified on Cylinders, seed {seed})")
    selection = select_model(train, seed=seed, log=log)
    pipeline = selection.pipeline
    metrics = {
        **regression_metrics(train[config.TARGET], pipeline.predict(train[config.FEATURES]), "train_"),
        **regression_metrics(test[config.TARGET], pipeline.predict(test[config.FEATURES]), "test_"),
        "cv_rmse": selection.leaderboard[0]["cv_rmse_mean"],
        "cv_rmse_std": selection.leaderboard[0]["cv_rmse_std"],
    }
    log(f"selected {selection.best}: test RMSE {metrics['test_rmse']:.3f}, MAE {metrics['test_mae']:.3f}")
    band = uncertainty.calibrate(pipeline, train, seed=seed)
    band.update(_band_on_test(band, test, pipeline.predict(test[config.FEATURES])))
    log(f"90% interval: q = {band['q']:.3f}, held-out coverage {band['test_coverage']:.3f}")
    fields = {
        "model": selection.best,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "training_seconds": round(selection.seconds, 1),
        "data": {
            "path": _portable(Path(data_path)),
            "sha256": frame_hash(labelled),
            "rows": len(data),
            "rows_without_mpg": unlabelled,
            "test_rows": sorted(int(i) for i in test.index),
        },
        "split": {
            "method": "StratifiedShuffleSplit on Cylinders",
            "test_size": config.TEST_SIZE,
            "seed": seed,
        },
        "inputs": input_schema(train, pipeline),
        "metrics": metrics,
        "interval": band,
        "leaderboard": selection.leaderboard,
        "importances": {
            "permutation": permutation_importances(pipeline, test, test[config.TARGET], seed=seed),
            "impurity": impurity_importances(pipeline),
        },
    }
    return save_model(pipeline, fields, out_dir)


def _band_on_test(band: dict, test: pd.DataFrame, predicted: np.ndarray) -> dict:
    """Final evaluation of the band (and of the naive one) on the held-out rows."""
    lower, upper = uncertainty.interval(predicted, band["q"])
    half = band["naive_half_width"]
    actual = test[config.TARGET]
    return {
        "test_coverage": uncertainty.coverage(actual, lower, upper),
        "test_mean_width": float(np.mean(upper - lower)),
        "naive_test_coverage": uncertainty.coverage(actual, predicted - half, predicted + half),
        "naive_test_mean_width": 2 * half,
    }


def _portable(path: Path) -> str:
    # Relative to the project when inside it, so a committed model's metadata works on any clone.
    resolved = path.resolve()
    return str(resolved.relative_to(config.PROJ_ROOT)) if resolved.is_relative_to(config.PROJ_ROOT) else str(resolved)
