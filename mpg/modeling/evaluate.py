"""Held-out metrics."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

from mpg import config
from mpg.artifact.store import LoadedModel
from mpg.data import model_rows
from mpg.prediction import predict


def regression_metrics(y_true, y_pred, prefix: str = "") -> dict[str, float]:
    """RMSE, MAE and R² (keys prefixed, e.g. `test_rmse`)."""
    return {
        f"{prefix}rmse": float(root_mean_squared_error(y_true, y_pred)),
        f"{prefix}mae": float(mean_absolute_error(y_true, y_pred)),
        f"{prefix}r2": float(r2_score(y_true, y_pred)),
    }


def held_out_rows(model: LoadedModel):
    """The test rows the model was evaluated on, re-read from its data file (whose hash is checked)."""
    return model_rows(model.card)[1]


def held_out_metrics(model: LoadedModel) -> dict[str, float]:
    """test_rmse, test_mae and test_r2 of the saved model on its own held-out rows."""
    test = held_out_rows(model)
    return regression_metrics(test[config.TARGET], predict(model, test).mpg, "test_")


@dataclass(frozen=True)
class Headline:
    """The accuracy headline: 5x10 nested CV RMSE of the whole procedure against the tutorial's, same folds."""

    outer: str
    ours_mean: float
    ours_std: float
    tutorial_mean: float
    tutorial_std: float
    measured_at: str


def headline(path: Path = config.PROJ_ROOT / "bench" / "results" / "accuracy.json") -> Headline | None:
    """Read from the accuracy benchmark's results (`python -m bench accuracy`); None before it has run."""
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
        nested = result["nested_cv"]
        return Headline(nested["outer"], nested["ours_rmse_mean"], nested["ours_rmse_std"],
                        nested["tutorial_rmse_mean"], nested["tutorial_rmse_std"], result["measured_at"])  # fmt: skip
    except (OSError, ValueError, KeyError):
        return None
