"""The tutorial, stage by stage: what it did, what was wrong with it, what this project does instead. Every figure
is read from the card or the data as the page is drawn; the tutorial's own come from `mpg.config`, as in the reports."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from app_pages.view.labels import selected_model
from mpg import config
from mpg.artifact.card import LeaderboardRow, ModelCard
from mpg.insight.eda import correlations_with_mpg


@dataclass(frozen=True)
class Figure:
    """A live figure, with the tutorial's published one beside it where there is one."""

    label: str
    value: str
    tutorial: str | None = None


@dataclass(frozen=True)
class Stage:
    title: str
    tutorial: str
    wrong: str | None
    ours: str
    figures: list[Figure] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)


def module_link(path: str, source_url: str | None) -> str:
    """Markdown for a module: a link when the app knows where its source is published, else the path."""
    return f"[`{path}`]({source_url.rstrip('/')}/{path})" if source_url else f"`{path}`"


def _cv(label: str, row: LeaderboardRow) -> Figure:
    return Figure(f"{label}: CV RMSE", f"{row.cv_rmse_mean:.2f} MPG", f"{row.tutorial_cv_rmse:.2f}")


def stages(card: ModelCard, data: pd.DataFrame) -> list[Stage]:
    """The tutorial's stages in order, each with its live figures."""
    m, test_rows = card.metrics, card.test_row_count
    strongest = correlations_with_mpg(data).iloc[0]
    horsepower = card.inputs.features[config.HORSEPOWER]
    years = data[config.MODEL_YEAR]
    sklearn_version = card.versions.get("scikit-learn", "unknown")
    tutorial_models = [row for row in card.leaderboard if row.tutorial_cv_rmse is not None]
    coverage = card.interval.test_coverage
    inside = [] if coverage is None else [Figure("Held-out cars inside their 90% interval", f"{coverage:.0%}")]
    return [
        Stage(
            "1. Data",
            "Read the UCI Auto MPG file with pandas: whitespace-separated, `?` for a missing value.",
            "Nothing checked that the file was the expected one, or what was missing in it.",
            "The data ships with the package, built by a script and compared value for value with the UCI file; "
            "the model card keeps its sha256, so a model always says which data it learnt from.",
            [
                Figure("Cars", f"{card.data.rows:,}"),
                Figure("Model years", f"19{int(years.min())}-{int(years.max())}"),
                Figure("Horsepower unknown", f"{int(data[config.HORSEPOWER].isna().sum())} cars"),
            ],
            ["mpg/data.py", "scripts/build_data.py"],
        ),
        Stage(
            "2. Exploring the data",
            "Summary statistics, counts of cylinders and origins, correlations with MPG, a scatter matrix, and "
            "two derived features: acceleration per horsepower and per cylinder.",
            "Origin codes 1/2/3 were labelled India/USA/Germany. They are USA, Europe and Japan.",
            "The Explore page draws the same views from the shipped data, with origins named correctly.",
            [Figure(f"Strongest correlation with MPG: {strongest['variable']}", f"{strongest['correlation']:+.2f}")],
            ["mpg/insight/eda.py", "app_pages/view/plots.py"],
        ),
        Stage(
            "3. Stratified split",
            f"Held out {card.split.test_size:.0%} of the cars with a split stratified on cylinders "
            f"(random_state {card.split.seed}), so both parts have the same mix of engines.",
            None,
            "Kept exactly, so every figure here can be set beside the tutorial's. The held-out cars are used once, "
            "for the final figures; nothing is chosen by looking at them.",
            [Figure("Training cars", f"{card.data.rows - test_rows}"), Figure("Held-out cars", f"{test_rows}")],
            ["mpg/data.py"],
        ),
        Stage(
            "4. Preprocessing and derived features",
            "Median imputation, the two ratio features, standard scaling and one-hot origin, in a ColumnTransformer.",
            "Its service fitted this preprocessing again on every request's rows: a one-car request failed, and a "
            "car's prediction changed with the other cars in its batch.",
            "Preprocessing, derived features and model are one scikit-learn Pipeline, fitted once on the training "
            "rows. An unknown input gets the training median, the same for every surface.",
            [Figure("Horsepower when unknown (training median)", f"{horsepower.fill:g} hp")],
            ["mpg/modeling/features.py", "mpg/modeling/pipeline.py"],
        ),
        Stage(
            "5. The four models",
            "Linear regression, a decision tree, a random forest and a linear SVR.",
            None,
            "The same four, scored in our folds, plus models of fuel consumption (gallons per 100 miles, which grows "
            "roughly in line with weight and power): SVR (RBF), extra trees, gradient boosting and their average.",
            [_cv(row.label, row) for row in tutorial_models if row.name != "tutorial_forest_grid"],
            ["mpg/modeling/candidates.py", "mpg/modeling/pipeline.py"],
        ),
        Stage(
            "6. Cross-validation",
            f"{config.CV_FOLDS}-fold cross-validation on the training rows.",
            "The preprocessing was fitted on all training rows before the folds were cut, so every fold was scored "
            "on rows its imputer and scaler had already seen.",
            "The whole Pipeline is refitted inside each fold (shuffled, seeded folds), so a fold's scoring rows "
            "are unseen by every step.",
            [Figure("Selected model: CV RMSE", f"{m.cv_rmse:.2f} ± {m.cv_rmse_std:.2f} MPG")],
            ["mpg/modeling/selection.py"],
        ),
        Stage(
            "7. Grid search",
            "Tuned the random forest's number of trees and features per split with GridSearchCV.",
            "Only the forest was tuned, so it was compared with untuned models.",
            f"Every candidate is tuned in the same folds, and {card.selection.rule}.",
            [
                Figure("Candidates", f"{len(card.leaderboard)}"),
                Figure("Configurations scored", f"{sum(row.configs for row in card.leaderboard)}"),
                *(_cv("Forest grid", row) for row in tutorial_models if row.name == "tutorial_forest_grid"),
                Figure("Selected", selected_model(card)),
            ],
            ["mpg/modeling/selection.py", "mpg/modeling/train.py"],
        ),
        Stage(
            "8. Final evaluation",
            f"RMSE of the best forest on the {test_rows} held-out cars.",
            "The held-out cars went through preprocessing fitted on themselves.",
            "The held-out cars pass through the Pipeline fitted on the training rows, once. Each prediction also "
            "gets a 90% interval, calibrated on training rows only.",
            [
                Figure("Held-out RMSE", f"{m.test_rmse:.2f} MPG", f"{config.TUTORIAL_TEST_RMSE:.2f}"),
                Figure("Held-out MAE", f"{m.test_mae:.2f} MPG"),
                Figure("Held-out R²", f"{m.test_r2:.3f}"),
                *inside,
            ],
            ["mpg/modeling/evaluate.py", "mpg/modeling/uncertainty.py"],
        ),
        Stage(
            "9. Persistence",
            "Pickled the fitted model alone to a file.",
            "The preprocessing was not saved with it, nothing recorded library versions, and the pickle no longer "
            "loads with today's scikit-learn.",
            "The whole Pipeline is saved, with its ONNX export and a model card (metrics, inputs, versions, sha256 "
            "of every file). A changed or mismatched file is refused when loading.",
            [Figure("Model version", card.version), Figure("Trained with scikit-learn", sklearn_version)],
            ["mpg/artifact/store.py", "mpg/artifact/card.py", "mpg/artifact/export.py"],
        ),
        Stage(
            "10. Serving",
            "A Flask app on Heroku: POST /predict loaded the pickle on every request.",
            "Besides refitting the preprocessing per request, it mislabelled origins and checked no input.",
            "A gunicorn JSON API and this app predict through the same compiled graph, after the same input checks, "
            "each number with its 90% interval.",
            [Figure("90% interval", f"prediction × (1 ± {card.interval.q:.3f})")],
            ["api/__init__.py", "mpg/prediction.py", "mpg/artifact/runtime.py"],
        ),
    ]
