"""Names people read: models, inputs and table columns with their units. The raw identifiers stay in the card."""

from __future__ import annotations

import pandas as pd

from mpg import config
from mpg.artifact.card import ModelCard

INPUTS = {
    config.CYLINDERS: "Cylinders",
    config.DISPLACEMENT: "Displacement (cu in)",
    config.HORSEPOWER: "Horsepower (hp)",
    config.WEIGHT: "Weight (lb)",
    config.ACCELERATION: "Acceleration (s, 0-60 mph)",
    config.MODEL_YEAR: "Model year",
    config.ORIGIN: "Origin",
}

# The leaderboard in two tables of four columns, so that each fits a phone's width: the figures that rank the
# candidates, then (behind an expander) the others.
LEADERBOARD = {"label": "Model", "source": "From", "cv_rmse": "CV RMSE ± std (MPG)",
               "tutorial_cv_rmse": "Tutorial's CV RMSE (MPG)"}  # fmt: skip
LEADERBOARD_MORE = {"label": "Model", "cv_mae": "CV MAE (MPG)", "cv_r2": "CV R²", "fit_time_s": "Fit time (s)"}
# The selection: each candidate against the lowest-CV-RMSE one, and its serving cost. Without the CV RMSE (the
# leaderboard just above has it, the note beside it quotes it) the table fits a phone.
EQUALS = {"chosen": "Model", "diff": "Worse than the lowest, per fold (MPG, mean ± SE)", "equal": "An equal?",
          "serving_ms_10k": "Serving 10,000 cars (ms)", "graph_size": "Graph size (numbers)"}  # fmt: skip
SOURCES = {"tutorial": "the tutorial", "ours": "this project"}
NOT_PUBLISHED = "–"  # a blank that reads as "no figure", where pandas would show None


def selected_model(card: ModelCard) -> str:
    """The selected model's readable name: its label on the leaderboard (mpg/modeling/candidates.py names it)."""
    return next(row.label for row in card.leaderboard if row.name == card.model)


def leaderboard_table(card: ModelCard, columns: dict[str, str] = LEADERBOARD) -> pd.DataFrame:
    """The leaderboard as people read it (LEADERBOARD's, LEADERBOARD_MORE's or EQUALS's columns): no None cells."""
    rows = [
        {
            "label": row.label,
            "chosen": row.label + (" (chosen)" if row.name == card.selection.chosen else ""),
            "source": SOURCES.get(row.source, row.source),
            "cv_rmse": f"{row.cv_rmse_mean:.3f} ± {row.cv_rmse_std:.3f}",
            "cv_mae": f"{row.cv_mae:.3f}",
            "cv_r2": f"{row.cv_r2:.3f}",
            "fit_time_s": f"{row.fit_time_s:.1f}",
            "tutorial_cv_rmse": NOT_PUBLISHED if row.tutorial_cv_rmse is None else f"{row.tutorial_cv_rmse:.3f}",
            "diff": f"{row.diff_from_best:+.3f} ± {row.diff_se:.3f}",
            "equal": "yes" if row.equal else "no",
            "serving_ms_10k": f"{row.serving_ms_10k:.1f}",
            "graph_size": f"{row.graph_size:,}",
        }
        for row in card.leaderboard
    ]
    return pd.DataFrame(rows, columns=list(columns)).rename(columns=columns)


def equals_note(card: ModelCard) -> str:
    """Why the equals column reads as it does, with this card's own example when one exists."""
    note = (
        "An equal is a model the folds cannot tell apart from the lowest: worse, fold by fold, by at most one "
        "standard error of those differences. Among the equals the cheapest to serve is chosen."
    )
    chosen = next(row for row in card.leaderboard if row.name == card.model)
    row = next((r for r in card.leaderboard if not r.equal and r.cv_rmse_mean < chosen.cv_rmse_mean), None)
    if row is not None:
        note += (
            f" {row.label} has a lower mean ({row.cv_rmse_mean:.3f}) than the chosen {chosen.label} "
            f"({chosen.cv_rmse_mean:.3f}) but is no equal: it is worse than the lowest in fold after fold "
            f"({row.diff_from_best:+.3f} ± {row.diff_se:.3f}), where the chosen one's gap is within its noise "
            f"({chosen.diff_from_best:+.3f} ± {chosen.diff_se:.3f})."
        )
    return note


def similar_table(nearest: pd.DataFrame) -> pd.DataFrame:
    """mpg.insight.explain's nearest cars in four columns (name, year and origin together), so it fits a phone."""
    return pd.DataFrame({
        "Car": nearest["car"] + " (" + nearest["year"].astype(str) + ", " + nearest["origin"] + ")",
        "Real MPG": nearest["real MPG"].map("{:.1f}".format),
        "Predicted MPG": nearest["predicted MPG"].map("{:.1f}".format),
        "Distance": nearest["distance"].map("{:.2f}".format),
    })  # fmt: skip


def readable_variable(name: str) -> str:
    """A data column or a derived feature (a ratio of two inputs) as people read it: "Acceleration ÷ Cylinders"."""
    if "_per_" in name:
        return " ÷ ".join(config.CANONICAL.get(part, part) for part in name.split("_per_"))
    return {config.TARGET: "MPG", **INPUTS}.get(name, name)


def readable_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The data set's columns with units, Origin as a name, an unknown value shown blank rather than None."""
    out = frame.copy()
    out[config.ORIGIN] = out[config.ORIGIN].map(config.ORIGINS)
    out[config.MODEL_YEAR] = 1900 + out[config.MODEL_YEAR]
    out[config.HORSEPOWER] = out[config.HORSEPOWER].map(lambda hp: "unknown" if pd.isna(hp) else f"{hp:g}")
    return out.rename(columns={config.TARGET: "MPG (miles per US gallon)", config.NAME: "Car", **INPUTS})
