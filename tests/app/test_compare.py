"""Pinned cars and the difference explained input by input (app_pages.view.compare); readable names
(app_pages.view.labels); the tutorial's stages (app_pages.view.stages)."""

from __future__ import annotations

import pytest

from app_pages.view.car import SliderCar
from app_pages.view.compare import (
    MAX_PINNED,
    contributions_table,
    difference,
    explain_car,
    pin,
    pinned_from_params,
    side_by_side,
    summary,
)
from app_pages.view.labels import LEADERBOARD_MORE, leaderboard_table, readable_data, selected_model
from app_pages.view.plots import leaderboard_chart
from app_pages.view.share import encode_car
from app_pages.view.stages import module_link, stages
from mpg import config
from mpg.insight import explain

COROLLA = SliderCar(4, 108.0, 75.0, 2350.0, 16.8, 81, "Japan")
CHEVELLE = SliderCar(8, 307.0, 130.0, 3504.0, 12.0, 70, "USA")


@pytest.fixture(scope="module")
def reference(auto_mpg):
    return explain.background(auto_mpg)


def test_pin_keeps_at_most_three_distinct_cars():
    cars = [SliderCar(4, 100.0 + i, 75.0, 2350.0, 16.8, 81, "Japan") for i in range(5)]
    pinned = ()
    for car in [cars[0], cars[0], *cars[1:]]:
        pinned = pin(pinned, car)
    assert pinned == tuple(cars[:MAX_PINNED])


def test_pinned_from_params_leaves_out_bad_and_extra_cars(model):
    values = [encode_car(COROLLA), "4,108,75,heavy,16.8,81,Japan", encode_car(CHEVELLE), encode_car(COROLLA)]
    others = [SliderCar(6, 200.0, 100.0, 3000.0, 15.0, 75, "Europe"),
              SliderCar(3, 70.0, 90.0, 2300.0, 13.5, 72, "Japan"),
              SliderCar(5, 131.0, 103.0, 2830.0, 15.9, 78, "Europe")]  # fmt: skip
    values += [encode_car(other) for other in others]
    pinned, notices = pinned_from_params(values, model.card)
    assert pinned[:2] == (COROLLA, CHEVELLE) and len(pinned) == MAX_PINNED
    assert "Pinned car 2" in notices[0] and "weight" in notices[0]
    assert any("at most 3" in notice for notice in notices)


def test_difference_adds_up_and_shared_inputs_count_zero(model, reference):
    start = explain_car(model, "Pinned 1", COROLLA, reference)
    heavier = SliderCar(4, 108.0, 75.0, 3350.0, 16.8, 81, "Japan")
    to = explain_car(model, "This car", heavier, reference)
    diff = difference(model, start, to)
    assert diff.total == pytest.approx(to.mpg - start.mpg)
    assert diff.by_input["MPG change"].sum() == pytest.approx(diff.total, abs=1e-9)
    first = diff.by_input.iloc[0]
    assert first["Input"] == "Weight (lb)" and first["MPG change"] == pytest.approx(diff.total)
    assert (diff.by_input.loc[diff.by_input["same"], "MPG change"] == 0).all()
    assert diff.total < 0 and "Weight (lb) " in summary(diff) and "This car predicts" in summary(diff)


def test_side_by_side_and_one_chart(model, reference):
    cars = [explain_car(model, name, car, reference) for name, car in [("This car", COROLLA), ("Pinned 1", CHEVELLE)]]
    table = side_by_side(cars)
    assert list(table.columns) == ["This car", "Pinned 1"]
    assert table.loc["Weight (lb)", "Pinned 1"] == "3504" and table.loc["Model year", "This car"] == "1981"
    assert table.loc["Predicted MPG", "This car"] == f"{cars[0].mpg:.1f}"
    assert cars[0].lower < cars[0].mpg < cars[0].upper
    long = contributions_table(cars)
    assert len(long) == 2 * len(config.FEATURES) and set(long["car"]) == {"This car", "Pinned 1"}
    for car in cars:
        rows = long[long["car"] == car.name]
        assert rows["contribution"].sum() == pytest.approx(car.mpg - car.baseline, abs=1e-9)


def test_every_model_of_the_card_has_a_readable_name(model):
    for row in model.card.leaderboard:
        assert "_" not in row.label and row.label != row.name
    chosen = next(row for row in model.card.leaderboard if row.name == model.card.model)
    assert selected_model(model.card) == chosen.label  # the card's own label, written at training


LONG_LABELS = [
    "Average of SVR, 200 extra trees, 300 boosted trees and a ridge on gallons/100 mi",  # 80 characters
    "Average of SVR, ExtraTreesRegressor, HistGradientBoosting",  # 57 characters, but 3 lines of at most 30
    "x" * 100,  # one word: broken, not cut
]


def test_each_leaderboard_chart_name_is_whole_in_at_most_two_lines(model):
    rows = [row.model_dump(mode="json") | {"name": row.label} for row in model.card.leaderboard]  # as the page does
    rows += [rows[0] | {"name": label} for label in LONG_LABELS]
    shown = leaderboard_chart(rows).data.set_index("name")["lines"]  # the rows the y axis names
    for name, lines in shown.items():
        assert len(lines.split("\n")) <= 2, lines  # a third line overlapped the next row's name
        assert "".join(lines.split()) == "".join(name.split())  # whole: no word dropped or cut with an ellipsis
    assert shown.is_unique  # one row per candidate on the axis
    for row in model.card.leaderboard:  # the card's own labels keep lines that fit a phone
        assert max(map(len, shown[row.label].split("\n"))) <= 30, row.label


def test_leaderboard_table_has_units_and_no_none(model):
    for table in leaderboard_table(model.card), leaderboard_table(model.card, LEADERBOARD_MORE):
        assert not table.isna().any().any() and not table.eq("None").any().any()
        assert not set(table["Model"]) & {row.name for row in model.card.leaderboard}
    assert "CV RMSE ± std (MPG)" in leaderboard_table(model.card).columns
    assert list(leaderboard_table(model.card, LEADERBOARD_MORE).columns) == [
        "Model", "CV MAE (MPG)", "CV R²", "Fit time (s)"]  # fmt: skip


def test_readable_data_has_no_missing_cells(auto_mpg):
    table = readable_data(auto_mpg)
    assert not table.isna().any().any()
    assert (table["Horsepower (hp)"] == "unknown").sum() == auto_mpg[config.HORSEPOWER].isna().sum()
    assert set(table["Origin"]) == {"USA", "Europe", "Japan"}


def test_tutorial_stages_in_order_with_live_figures(model, auto_mpg):
    found = stages(model.card, auto_mpg)
    titles = [stage.title.split(". ", 1)[1] for stage in found]
    assert titles == ["Data", "Exploring the data", "Stratified split", "Preprocessing and derived features",
                      "The four models", "Cross-validation", "Grid search", "Final evaluation", "Persistence",
                      "Serving"]  # fmt: skip
    figures = {figure.label: figure for stage in found for figure in stage.figures}
    assert figures["Held-out RMSE"].value == f"{model.card.metrics.test_rmse:.2f} MPG"
    assert figures["Held-out RMSE"].tutorial == f"{config.TUTORIAL_TEST_RMSE:.2f}"
    assert figures["Held-out cars"].value == str(model.card.test_row_count)
    assert figures["Cars"].value == f"{len(auto_mpg):,}"
    assert all(stage.modules and stage.tutorial and stage.ours for stage in found)
    for stage in found:
        for path in stage.modules:
            assert (config.PROJ_ROOT / path).exists(), path
    assert (
        module_link("app_pages/view/share.py", "https://example.org/src/")
        == "[`app_pages/view/share.py`](https://example.org/src/app_pages/view/share.py)"
    )
