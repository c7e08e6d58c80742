"""The models model selection chooses from: the tutorial's, ours, and averages of ours (heavy and light)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sklearn.base import clone
from sklearn.ensemble import ExtraTreesRegressor, GradientBoostingRegressor, RandomForestRegressor, VotingRegressor
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline
from sklearn.svm import SVR
from sklearn.tree import DecisionTreeRegressor

from mpg import config
from mpg.modeling.pipeline import build_pipeline, in_gallons_per_100_miles

REG = "model__regressor__"


@dataclass
class Candidate:
    """A pipeline, or a function of the candidates tuned before it, and its grid (empty: scored as it is)."""

    name: str
    label: str
    pipeline: Pipeline | Callable[[dict[str, Pipeline]], Pipeline]
    grid: dict | list = field(default_factory=dict)
    source: str = "ours"


def tutorial_candidates(seed: int = config.SEED) -> list[Candidate]:
    """The tutorial's four models and its forest grid search, with preprocessing inside each fold."""
    forest_grid = [
        {"model__n_estimators": [3, 10, 30], "model__max_features": [2, 4, 6, 8]},
        {"model__bootstrap": [False], "model__n_estimators": [3, 10], "model__max_features": [2, 3, 4]},
    ]
    tree, forest = DecisionTreeRegressor(random_state=seed), RandomForestRegressor(random_state=seed)
    return [
        Candidate("linear_regression", "Linear regression", build_pipeline(LinearRegression()), source="tutorial"),
        Candidate("decision_tree", "Decision tree", build_pipeline(tree), source="tutorial"),
        Candidate("random_forest", "Random forest (100 trees)", build_pipeline(forest), source="tutorial"),
        Candidate("svr_linear", "SVR (linear kernel)", build_pipeline(SVR(kernel="linear")), source="tutorial"),
        Candidate("tutorial_forest_grid", "Random forest, the tutorial's grid search",
                  build_pipeline(RandomForestRegressor(random_state=seed)), forest_grid, source="tutorial"),
    ]  # fmt: skip


def our_candidates(seed: int = config.SEED) -> list[Candidate]:
    """Stronger models, fitted on fuel consumption (gallons per 100 miles) and tuned in CV."""
    boosting = GradientBoostingRegressor(n_estimators=300, subsample=0.8, random_state=seed)
    return [
        Candidate("svr_rbf_gp100m", "SVR (RBF kernel) on gallons/100 mi",
                  build_pipeline(in_gallons_per_100_miles(SVR(kernel="rbf"))),
                  {f"{REG}C": [3, 10, 30], f"{REG}gamma": [0.03, 0.1], f"{REG}epsilon": [0.05, 0.1]}),
        Candidate("extra_trees_gp100m", "Extra trees (200) on gallons/100 mi",
                  build_pipeline(in_gallons_per_100_miles(ExtraTreesRegressor(n_estimators=200, random_state=seed))),
                  {f"{REG}min_samples_leaf": [1, 2], f"{REG}max_features": [0.5, 1.0]}),
        Candidate("gbr_gp100m", "Gradient boosting (300 trees) on gallons/100 mi",
                  build_pipeline(in_gallons_per_100_miles(boosting)),
                  {f"{REG}max_depth": [2, 3], f"{REG}learning_rate": [0.03, 0.1]}),
    ]  # fmt: skip


def _member(tuned: dict[str, Pipeline], name: str):
    return tuned[name].named_steps["model"]


def _lighter(tuned: dict[str, Pipeline], name: str, trees: int):
    """A tuned tree member with `trees` trees; boosting keeps learning rate x trees, so it learns as far."""
    member = _member(tuned, name)
    params = {"regressor__n_estimators": trees}
    if "learning_rate" in member.regressor.get_params():
        params["regressor__learning_rate"] = member.regressor.learning_rate * member.regressor.n_estimators / trees
    return clone(member).set_params(**params)


def ensemble_candidates() -> list[Candidate]:
    """Averages of the tuned members' predictions (each keeps its own tuned parameters), heavy and light."""

    def average(*members):
        return build_pipeline(VotingRegressor(list(members)))

    svr, trees, boosting = "svr_rbf_gp100m", "extra_trees_gp100m", "gbr_gp100m"  # our_candidates' names
    return [
        Candidate("ensemble_svr_et_gbr", "Average of SVR, 200 extra trees and 300 boosted trees",
                  lambda t: average(*[(n, _member(t, n)) for n in (svr, trees, boosting)])),
        Candidate("ensemble_svr_et_gbr_light", "Average of SVR, 50 extra trees and 100 boosted trees",
                  lambda t: average((svr, _member(t, svr)), (trees, _lighter(t, trees, 50)),
                                    (boosting, _lighter(t, boosting, 100)))),
        Candidate("ensemble_svr_gbr", "Average of SVR and 300 boosted trees",
                  lambda t: average(*[(n, _member(t, n)) for n in (svr, boosting)])),
    ]  # fmt: skip


def default_candidates(seed: int = config.SEED) -> list[Candidate]:
    return tutorial_candidates(seed) + our_candidates(seed) + ensemble_candidates()
