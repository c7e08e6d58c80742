"""The model card (models/model.json) as typed objects: what training writes and every surface reads.

It records the sha256 of both model files and its own (`card_sha256`), so an altered card is refused too."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from mpg import config


class _Card(BaseModel):
    # A card written by a newer trainer may carry more; what we read is typed and checked.
    model_config = ConfigDict(extra="allow", frozen=True)


class FeatureSpec(_Card):
    unit: str
    train_min: float
    train_max: float
    min: float | None = None
    max: float | None = None
    integer: bool
    fill: float = Field(description="the value the pipeline imputes when the input is unknown (training rows)")


class InputSchema(_Card):
    features: dict[str, FeatureSpec]
    origins: dict[str, str]
    fill_rule: dict[str, str] = Field(
        default_factory=dict, description="how `fill` was computed, per input (median, most frequent)"
    )

    def training_range(self) -> tuple[np.ndarray, np.ndarray]:
        """Per numeric input (feature order), the training minimum and maximum."""
        specs = [self.features[name] for name in config.NUMERIC_FEATURES]
        return np.array([spec.train_min for spec in specs]), np.array([spec.train_max for spec in specs])

    def outside_training_range(self, X: np.ndarray) -> np.ndarray:
        """Every surface's extrapolation rule: per car and numeric input, True outside the training range.
        Unknown (NaN) is not outside: it is imputed with a training value."""
        low, high = self.training_range()
        numbers = X[:, : len(low)]
        return (numbers < low) | (numbers > high)


class DataInfo(_Card):
    path: str = Field(description="the training data, relative to the project when inside it")
    sha256: str
    rows: int
    rows_without_mpg: int
    test_rows: list[int]


class SplitInfo(_Card):
    method: str
    test_size: float
    seed: int


class Metrics(_Card):
    train_rmse: float
    train_mae: float
    train_r2: float
    test_rmse: float
    test_mae: float
    test_r2: float
    cv_rmse: float
    cv_rmse_std: float


class Interval(_Card):
    method: str
    level: float
    q: float
    naive_half_width: float
    test_coverage: float | None = None
    test_mean_width: float | None = None
    naive_test_coverage: float | None = None
    naive_test_mean_width: float | None = None

    def around(self, predictions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The band around predictions: prediction x (1 ± q) (mpg/modeling/uncertainty.py calibrates q)."""
        return relative_band(predictions, self.q)


class LeaderboardRow(_Card):
    name: str
    label: str = Field(description="the candidate in words, for people")
    source: Literal["tutorial", "ours"]
    cv_rmse_mean: float
    cv_rmse_std: float
    cv_rmse_folds: list[float] = Field(description="RMSE on each CV fold (the same folds for every candidate)")
    cv_mae: float
    cv_r2: float
    fit_time_s: float
    configs: int
    best_params: dict[str, float | int | str | bool | None]
    tutorial_cv_rmse: float | None = None
    serving_ms_10k: float = Field(description="ONNX Runtime ms for 10,000 cars on one thread (median of runs)")
    graph_size: int = Field(description="numbers stored in the ONNX graph (weights, support vectors, tree nodes)")
    diff_from_best: float = Field(description="mean fold-by-fold CV RMSE difference from the lowest-CV-RMSE row")
    diff_se: float = Field(description="standard error of those differences")
    equal: bool = Field(description="diff_from_best <= diff_se: cannot be told from the best (one-SE rule)")


class SelectionRule(_Card):
    rule: str
    lowest_cv_rmse: str = Field(description="the candidate with the lowest mean CV RMSE")
    equals: list[str] = Field(description="its equals under the rule, in the rule's order (the chosen first)")
    chosen: str
    serving_rows: int
    serving_runs: int
    tie_ratio: float = Field(description="serving times within this ratio of the fastest count as equal")


class Importance(_Card):
    feature: str
    mean: float
    std: float


class Importances(_Card):
    permutation: list[Importance]


class ModelCard(_Card):
    model: str
    trained_at: str
    training_seconds: float
    data: DataInfo
    split: SplitInfo
    inputs: InputSchema
    metrics: Metrics
    interval: Interval
    selection: SelectionRule
    leaderboard: list[LeaderboardRow] = Field(description="ranked by the selection rule: the chosen model first")
    importances: Importances
    background: list[list[float]] = Field(
        description="reference cars for explanations: complete cars of the model's data file, feature order"
    )
    versions: dict[str, str]
    model_sha256: str = Field(description="sha256 of model.joblib (the scikit-learn Pipeline)")
    onnx_sha256: str = Field(description="sha256 of model.onnx (what serving runs)")

    @property
    def version(self) -> str:
        """The served model's identity: the first 12 hex digits of model.onnx's sha256."""
        return self.onnx_sha256[:12]

    @property
    def data_file(self) -> Path:
        """The file the model was trained on: the product's data (the app's pages, explanations, monitoring)."""
        path = Path(self.data.path)
        return path if path.is_absolute() else config.PROJ_ROOT / path

    @property
    def test_row_count(self) -> int:
        return len(self.data.test_rows)


def relative_band(predictions: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray]:
    """The one interval formula, for training (before a card exists) and serving: prediction x (1 ± q)."""
    predictions = np.asarray(predictions, dtype=float)
    return predictions * (1 - q), predictions * (1 + q)


def canonical_sha256(fields: dict) -> str:
    """sha256 of a card's fields (without `card_sha256`) as canonical JSON."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def card_json(card: ModelCard) -> str:
    """The card as model.json: indented for reading, with its own sha256 last."""
    fields = card.model_dump(mode="json")
    return json.dumps({**fields, "card_sha256": canonical_sha256(fields)}, indent=2) + "\n"


def read_card(text: str) -> ModelCard:
    """Parse and check model.json (sha256, fields, feature order): a ValueError (ValidationError is one) says why."""
    fields = json.loads(text)
    if not isinstance(fields, dict):
        raise ValueError("not a JSON object")
    recorded = fields.pop("card_sha256", None)
    if recorded is None:
        raise ValueError("no card_sha256")
    if canonical_sha256(fields) != recorded:
        raise ValueError("its content does not match its card_sha256: the file was altered")
    card = ModelCard.model_validate(fields)
    if list(card.inputs.features) != config.FEATURES:
        raise ValueError(f"inputs {list(card.inputs.features)} are not {config.FEATURES}")
    return card
