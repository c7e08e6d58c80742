"""Training: split, select (mpg/modeling/selection.py), evaluate once on the test rows, calibrate, explain, save."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from mpg import config
from mpg.artifact.card import ModelCard, relative_band
from mpg.artifact.store import save_model
from mpg.data import frame_hash, labelled_rows, load_auto_mpg, split_train_test
from mpg.insight import explain
from mpg.modeling import uncertainty
from mpg.modeling.candidates import Candidate
from mpg.modeling.evaluate import regression_metrics
from mpg.modeling.importance import permutation_importances
from mpg.modeling.pipeline import fill_values
from mpg.modeling.selection import select_model


def input_schema(train: pd.DataFrame, pipeline: Pipeline) -> dict:
    """Each input's unit, plausible bounds, training range and imputed value, as saved in the model card."""
    fills = fill_values(pipeline)
    features = {}
    for name in config.FEATURES:
        low, high = config.BOUNDS.get(name, (None, None))
        features[name] = {"unit": config.UNITS[name], "train_min": float(train[name].min()),
                          "train_max": float(train[name].max()), "min": low, "max": high,
                          "integer": name in config.INTEGER_FEATURES, "fill": fills[name]}  # fmt: skip
    return {
        "features": features,
        "origins": {str(code): label for code, label in config.ORIGINS.items()},
        "fill_rule": {name: "median" for name in config.NUMERIC_FEATURES} | {config.ORIGIN: "most frequent"},
    }


def train_model(data_path: str | Path = config.DATA_PATH, out_dir: str | Path = config.MODELS_DIR, *,
                seed: int = config.SEED, log: Callable[[str], None] = lambda _message: None,
                candidates: Sequence[Candidate] | None = None) -> ModelCard:  # fmt: skip
    """Load, split, select, evaluate once on the test rows, calibrate, explain and save; returns the model card."""
    data = load_auto_mpg(data_path)
    labelled, unlabelled = labelled_rows(data)
    if unlabelled:
        log(f"{unlabelled} rows without MPG left out of training")
    train, test = split_train_test(labelled, seed=seed)
    log(f"{len(labelled)} rows: {len(train)} train, {len(test)} test (stratified on Cylinders, seed {seed})")
    selection = select_model(train, candidates, seed=seed, log=log)
    pipeline = selection.pipeline
    metrics = {
        **regression_metrics(train[config.TARGET], pipeline.predict(train[config.FEATURES]), "train_"),
        **regression_metrics(test[config.TARGET], pipeline.predict(test[config.FEATURES]), "test_"),
        "cv_rmse": selection.leaderboard[0]["cv_rmse_mean"],  # the chosen model: the leaderboard is ranked by the rule
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
        "split": {"method": "StratifiedShuffleSplit on Cylinders", "test_size": config.TEST_SIZE, "seed": seed},
        "inputs": input_schema(train, pipeline),
        "metrics": metrics,
        "interval": band,
        "selection": selection.rule,
        "leaderboard": selection.leaderboard,
        "importances": {"permutation": permutation_importances(pipeline, test, test[config.TARGET], seed=seed)},
        # Shipped with the model, so serving explains without reading the data (nor importing pandas).
        "background": explain.background(data).tolist(),
    }
    return save_model(pipeline, fields, out_dir)


def _band_on_test(band: dict, test: pd.DataFrame, predicted: np.ndarray) -> dict:
    """Final evaluation of the band (and of the naive one) on the held-out rows."""
    lower, upper = relative_band(predicted, band["q"])
    half, actual = band["naive_half_width"], test[config.TARGET]
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
