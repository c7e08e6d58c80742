"""The Streamlit app through AppTest: every page runs, the car travels in the URL, cars compare, charts carry the
right fields, and the figures shown come from the model card."""

from __future__ import annotations

import json
import os
import re

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from app_pages.view.car import SliderCar, default_car, presets
from app_pages.view.share import car_to_params, encode_car
from mpg import config
from mpg.prediction import predict

APP = str(config.PROJ_ROOT / "streamlit_app.py")
PAGES = {
    "explore": ("app_pages/explore.py", "Explore the data"),
    "model": ("app_pages/model.py", "The model"),
    "batch": ("app_pages/batch.py", "Predict a file of cars"),
    "tutorial": ("app_pages/tutorial.py", "The tutorial, step by step"),
    "predict": ("app_pages/predict.py", "How far does a car go on a gallon?"),
}
COROLLA = SliderCar(4, 108.0, 75.0, 2350.0, 16.8, 81, "Japan")


def opened(params: dict | None = None) -> AppTest:
    """A new visitor opening the app's root address, with these query parameters."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(params or {})
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture()
def app() -> AppTest:
    return opened()


def predicted(at: AppTest) -> float:
    return float(next(m for m in at.metric if m.label == "Predicted MPG").value)


def specs(at: AppTest) -> list[dict]:
    return [json.loads(element.proto.spec) for element in at.get("vega_lite_chart")]


def chart_rows(at: AppTest, index: int) -> pd.DataFrame:
    """The data Streamlit sent with chart `index` (it moves datasets out of the spec, as Arrow)."""
    proto = at.get("vega_lite_chart")[index].proto
    data = proto.data if proto.data.data else proto.datasets[0].data  # passed with the spec, or inside it
    return pa.ipc.open_stream(data.data).read_pandas()


def test_charts_drawn_from_passed_rows_have_no_placeholder_data(app):
    for index in (titled(app, "Why this number"), titled(app, "What if")):
        spec = specs(app)[index]
        assert "data" not in spec and all("data" not in layer for layer in spec.get("layer", []))
        assert len(chart_rows(app, index)) > 0


def titled(at: AppTest, prefix: str) -> int:
    """Index of the chart whose title starts with `prefix`."""
    titles = [spec.get("title", "") for spec in specs(at)]
    return next(i for i, title in enumerate(titles) if str(title).startswith(prefix))


def fields(spec: dict) -> set[str]:
    """Every field named in a spec's encodings (layers, repeats and concatenations included)."""
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("field"), str):
                found.add(node["field"])
            if isinstance(node.get("field"), dict):
                found.update(v for v in node["field"].values() if isinstance(v, str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in spec.items() if k not in {"datasets", "data"}})
    return found


def switch(at: AppTest, page: str) -> AppTest:
    at.switch_page(PAGES[page][0]).run()
    assert not at.exception, at.exception
    assert at.title[0].value == PAGES[page][1]
    return at


def test_first_run_shows_a_prediction_and_the_importance_chart(app):
    assert 5 < predicted(app) < 50
    assert len(app.slider) + len(app.select_slider) == 6
    index = titled(app, "Feature importance")
    assert {"feature", "mean", "low", "high"} <= fields(specs(app)[index])
    assert set(chart_rows(app, index)["feature"]) == set(config.FEATURES)


def test_contributions_add_up_in_the_app(app):
    index = titled(app, "Why this number")
    assert {"contribution", "input", "direction", "size"} <= fields(specs(app)[index])
    rows = chart_rows(app, index)
    assert set(rows["input"]) == set(config.FEATURES)
    caption = next(c.value for c in app.caption if c.value.startswith("Exact Shapley"))
    baseline = float(re.search(r"baseline ([\d.]+) MPG", caption).group(1))
    assert rows["contribution"].sum() == pytest.approx(predicted(app) - baseline, abs=0.06)  # display rounding


def test_whatif_curve_and_similar_cars(app):
    index = titled(app, "What if Weight changed")
    assert {"value", "MPG", "curve", "current"} <= fields(specs(app)[index])
    rows = chart_rows(app, index)
    assert set(rows["curve"]) == {"this car", "average of the data set's cars"}
    app.selectbox(key="whatif").set_value(config.HORSEPOWER).run()
    assert not app.exception
    titled(app, "What if Horsepower changed")
    similar = app.table[0].value
    assert list(similar.columns) == ["Car", "Real MPG", "Predicted MPG", "Distance"]
    assert len(similar) == 5 and similar["Distance"].is_monotonic_increasing


def test_a_preset_car_is_its_own_most_similar_car(app, auto_mpg):
    labels = presets(auto_mpg)
    label = next(label for label in labels if label.startswith("toyota corolla"))
    app.selectbox(key="preset").set_value(label).run()
    similar = app.table[0].value
    assert similar["Car"].iloc[0] == label.rstrip(" ·")  # the same name, year and origin
    assert similar["Distance"].iloc[0] == "0.00"


def test_interval_is_shown_with_the_prediction(app):
    caption = next(c.value for c in app.caption if c.value.startswith("90% prediction interval"))
    low, high = (float(v) for v in re.findall(r"([\d.]+) to ([\d.]+)", caption)[0])
    assert low < predicted(app) < high


def test_heavier_car_lowers_the_prediction(app):
    app.slider(key="input_Weight").set_value(2200.0).run()
    light = predicted(app)
    app.slider(key="input_Weight").set_value(4200.0).run()
    assert predicted(app) < light


def test_preset_sets_the_inputs_and_shows_real_mpg(app, auto_mpg):
    labels = presets(auto_mpg)
    label = next(label for label in labels if label.startswith("ford pinto (1973"))
    car = auto_mpg.loc[labels[label]]
    app.selectbox(key="preset").set_value(label).run()
    assert not app.exception
    assert app.slider(key="input_Weight").value == car[config.WEIGHT]
    assert app.slider(key="input_Horsepower").value == car[config.HORSEPOWER]
    assert app.select_slider(key="input_Cylinders").value == car[config.CYLINDERS]
    assert app.radio(key="input_Origin").value == "USA"
    real = next(m for m in app.metric if m.label == "Real MPG of this car")
    assert float(real.value) == car[config.TARGET]
    app.slider(key="input_Weight").set_value(car[config.WEIGHT] + 500).run()
    assert not [m for m in app.metric if m.label == "Real MPG of this car"]


def test_extrapolation_warning(app):
    assert not app.warning
    app.slider(key="input_Weight").set_value(5600.0).run()
    assert any("Weight" in w.value and "training range" in w.value for w in app.warning)


def test_every_interaction_on_predict_raises_nothing(app):
    app.select_slider(key="input_Cylinders").set_value(8).run()
    app.slider(key="input_Model Year").set_value(70).run()
    app.radio(key="input_Origin").set_value("Japan").run()
    app.slider(key="input_Acceleration").set_value(20.0).run()
    assert not app.exception
    assert 5 < predicted(app) < 60


def test_explore_view_charts(app):
    switch(app, "explore")
    charts = specs(app)
    assert len(charts) == 9
    found = [fields(spec) for spec in charts]
    assert {config.TARGET} <= found[0]  # the histogram of the chosen variable
    assert {config.HORSEPOWER} <= found[1]
    assert {"set", "share", config.CYLINDERS} <= found[2]
    assert {"set", "share", config.ORIGIN} <= found[3]
    assert {config.ORIGIN} <= found[4] and charts[4]["repeat"]["row"] == plots_matrix()
    assert {config.TARGET, config.WEIGHT, config.NAME, config.ORIGIN} <= found[5]
    assert {config.TARGET, config.HORSEPOWER, config.NAME, config.ORIGIN} <= found[6]
    assert {config.MODEL_YEAR, config.ORIGIN} <= found[7]
    correlations = set(chart_rows(app, 8)["variable"])
    assert {"Acceleration ÷ Cylinders", "Acceleration ÷ Horsepower", "Weight (lb)"} <= correlations  # readable
    app.text_input[0].set_value("pinto").run()
    assert not app.exception
    app.selectbox[0].set_value(config.WEIGHT).run()
    assert config.WEIGHT in fields(specs(app)[0])


def plots_matrix():
    from app_pages.view.plots import MATRIX

    return MATRIX


def test_model_view(app, model):
    switch(app, "model")
    values = {m.label: m.value for m in app.metric}
    assert values["Held-out RMSE"] == f"{model.card.metrics.test_rmse:.2f} MPG"
    charts = specs(app)
    assert {"cv_rmse_mean", "low", "high", "tutorial_cv_rmse", "name"} <= fields(charts[0])
    assert {"actual", "predicted"} <= fields(charts[1])
    assert {"predicted", "residual"} <= fields(charts[2])


def test_batch_upload_good_and_bad(app, auto_mpg):
    switch(app, "batch")
    good = auto_mpg.dropna().head(5)[[config.NAME, *config.FEATURES]].to_csv(index=False).encode()
    app.file_uploader[0].set_value(("cars.csv", good, "text/csv")).run()
    assert not app.exception and not app.error
    assert app.success[0].value == "predicted 5 of 5 rows"
    # bad cells in the file's lines 2 and 5: those rows refused, the others predicted
    mixed = (
        good.replace(b"3504.0", b"heavy", 1).replace(b"malibu,8.0,", b"malibu,99.0,").replace(b"sst,8.0,", b"sst,99,")
    )
    app.file_uploader[0].set_value(("mixed.csv", mixed, "text/csv")).run()
    assert not app.exception and not app.error
    assert app.warning[0].value == "predicted 3 of 5 rows; 2 refused (see the problem column)"
    table = app.dataframe[0].value  # one table, refused rows first, each with its line in the file
    assert table["Problem"].tolist()[:2] == [
        "line 2, Cylinders: must be between 1 and 16 (count), got 99; Weight: must be a number, got 'heavy'",
        "line 5, Cylinders: must be between 1 and 16 (count), got 99",
    ]
    assert table.columns[0] == "Problem" and len(table) == 5
    assert {"Predicted MPG", "90% interval (MPG)", "Weight (lb)"} <= set(table)
    assert table["Predicted MPG"].tolist()[:2] == ["", ""] and "None" not in table.to_string()
    assert app.get("download_button")  # the download: the machine columns, tested in tests/app/test_batch.py
    unknown = good.replace(b",130.0,", b",,", 1)  # an empty cell: unknown, predicted with the training median
    app.file_uploader[0].set_value(("unknown.csv", unknown, "text/csv")).run()
    assert app.success[0].value == "predicted 5 of 5 rows"
    table = app.dataframe[0].value
    notes = table["Warnings"].tolist()
    assert notes[0].startswith("Horsepower unknown: training median") and notes[1:] == [""] * 4
    assert table["Horsepower (hp)"][0] == ""
    unusable = b"Cylinders,Weight\n4,2000\n"
    app.file_uploader[0].set_value(("cols.csv", unusable, "text/csv")).run()
    shown = app.error[0].value  # every missing column, each on its line
    assert shown.startswith("cols.csv cannot be used:")
    missing = [config.DISPLACEMENT, config.HORSEPOWER, config.ACCELERATION, config.MODEL_YEAR, config.ORIGIN]
    assert shown.splitlines()[1:] == [f"- {name}: column is missing" for name in missing]
    app.file_uploader[0].set_value(("x.csv", b"\x89PNG\r\n\x1a\n\x00\x00", "text/csv")).run()
    assert "not a CSV or JSON file" in app.error[0].value
    app.file_uploader[0].set_value(("cars.csv", good, "text/csv")).run()
    assert not app.error  # the app goes on working after a bad file
    assert any("curl" in code.value for code in app.code)


@pytest.mark.slow  # starts Streamlit's CLI
def test_streamlit_reads_the_safe_settings_from_the_project():
    """Streamlit itself, started where `make run` starts it, takes the settings (a misspelt key would be ignored)."""
    import subprocess
    import sys

    shown = subprocess.run(
        [sys.executable, "-m", "streamlit", "config", "show"], cwd=config.PROJ_ROOT, capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    for setting in ('fileWatcherType = "none"', "enableXsrfProtection = true", "gatherUsageStats = false",
                    'showErrorDetails = "none"'):  # fmt: skip
        assert re.search(rf"^{setting}$", shown, re.MULTILINE), setting


# Pages: each renders at its own address.


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders(app, page):
    switch(app, page)
    assert not app.error


# The car in the URL.


def test_first_visit_puts_the_default_car_in_the_url(app, model):
    assert app.query_params == car_to_params(default_car(model.card))
    assert not app.warning
    assert predicted(app) == pytest.approx(predict(model, default_car(model.card).inputs()).mpg[0], abs=0.05)


def test_query_params_in_show_that_car_and_its_prediction(model):
    at = opened(car_to_params(COROLLA))
    assert at.slider(key="input_Weight").value == 2350.0
    assert at.slider(key="input_Acceleration").value == 16.8
    assert at.slider(key="input_Model Year").value == 81
    assert at.select_slider(key="input_Cylinders").value == 4
    assert at.radio(key="input_Origin").value == "Japan"
    assert predicted(at) == pytest.approx(predict(model, COROLLA.inputs()).mpg[0], abs=0.05)
    assert at.query_params == car_to_params(COROLLA)
    assert not at.warning


def test_a_slider_change_updates_the_url(model):
    at = opened(car_to_params(COROLLA))
    at.slider(key="input_Weight").set_value(3000.0).run()
    assert at.query_params["weight"] == "3000"
    at.radio(key="input_Origin").set_value("Europe").run()
    assert at.query_params == car_to_params(COROLLA) | {"weight": "3000", "origin": "Europe"}
    link = next(code.value for code in at.code if "weight=3000" in code.value)
    assert "origin=Europe" in link and "cylinders=4" in link


@pytest.mark.parametrize(("name", "value"), [
    ("weight", "heavy"), ("weight", "99999"), ("cylinders", "7"), ("model_year", "1999"), ("origin", "Mars"),
    ("horsepower", ""), ("acceleration", "nan"),
])  # fmt: skip
def test_a_bad_param_falls_back_with_a_notice_naming_it(model, name, value):
    at = opened(car_to_params(COROLLA) | {name: value})
    default = default_car(model.card)
    expected = COROLLA.inputs() | {feature: default.inputs()[feature] for feature in [config.CANONICAL[name]]}
    assert predicted(at) == pytest.approx(predict(model, expected).mpg[0], abs=0.05)
    notice = at.warning[0].value
    assert f"`{name}`" in notice and "default" in notice
    assert at.query_params[name] == car_to_params(default)[name]  # the URL now says what is shown


def test_a_missing_param_falls_back_with_a_notice(model):
    params = car_to_params(COROLLA)
    del params["horsepower"]
    at = opened(params)
    assert at.slider(key="input_Horsepower").value == default_car(model.card).horsepower
    assert "`horsepower` is missing" in at.warning[0].value


def test_garbage_params_never_raise():
    at = opened({"weight": "1e309", "model_year": "-0", "origin": "", "pin": "x,y", "cylinders": "四"})
    assert not at.exception and predicted(at) > 0


# Compare.


def test_pin_compare_and_clear(model):
    at = opened(car_to_params(COROLLA))
    assert not [s for s in at.subheader if s.value == "Side by side"]
    next(b for b in at.button if b.label == "Pin this car").click().run()
    assert at.query_params["pin"] == encode_car(COROLLA)
    at.slider(key="input_Weight").set_value(3500.0).run()
    assert [s.value for s in at.subheader if s.value == "Side by side"]
    table = at.table[0].value
    assert list(table.columns) == ["This car", "Pinned 1"]
    assert table.loc["Weight (lb)", "Pinned 1"] == "2350" and table.loc["Weight (lb)", "This car"] == "3500"
    heavier = COROLLA.inputs() | {config.WEIGHT: 3500.0}
    now, before = (float(predict(model, car).mpg[0]) for car in (heavier, COROLLA.inputs()))
    assert (
        table.loc["Predicted MPG", "This car"] == f"{now:.1f}"
        and table.loc["Predicted MPG", "Pinned 1"] == f"{before:.1f}"
    )
    index = titled(at, "Each car's contributions")
    assert set(chart_rows(at, index)["car"]) == {"This car", "Pinned 1"}
    sentence = next(m.value for m in at.markdown if m.value.startswith("This car predicts"))
    assert f"{now - before:+.1f} MPG against Pinned 1" in sentence and "Weight (lb)" in sentence
    diff = at.table[1].value
    assert diff["MPG change"].sum() == pytest.approx(now - before, abs=1e-6)
    next(b for b in at.button if b.label == "Clear pinned").click().run()
    assert "pin" not in at.query_params
    assert not [s for s in at.subheader if s.value == "Side by side"]


def test_pinned_cars_travel_in_the_url_and_stop_at_three():
    others = [SliderCar(8, 307.0, 130.0, 3504.0, 12.0, 70, "USA"), SliderCar(6, 200.0, 95.0, 3155.0, 18.2, 78, "USA")]
    at = opened(car_to_params(COROLLA) | {"pin": [encode_car(car) for car in others]})
    assert list(at.table[0].value.columns) == ["This car", "Pinned 1", "Pinned 2"]
    assert at.query_params["pin"] == [encode_car(car) for car in others]
    pin_button = next(b for b in at.button if b.label == "Pin this car")
    pin_button.click().run()
    assert list(at.table[0].value.columns) == ["This car", "Pinned 1", "Pinned 2", "Pinned 3"]
    assert next(b for b in at.button if b.label == "Pin this car").disabled  # three pinned, and this car is one


def test_a_bad_pinned_car_is_left_out_with_a_notice():
    at = opened(car_to_params(COROLLA) | {"pin": ["4,108,75,heavy,16.8,81,Japan"]})
    assert "Pinned car 1 is left out" in at.warning[0].value and "weight" in at.warning[0].value
    assert "pin" not in at.query_params


# Labels and figures.


def test_model_page_shows_readable_names_and_no_none(app, model):
    switch(app, "model")
    raw = {row.name for row in model.card.leaderboard}
    board = app.table[0].value  # a static table: every row and column shows
    assert not set(board["Model"]) & raw and "CV RMSE ± std (MPG)" in board.columns
    assert not board.isna().any().any()
    assert not any(name in app.subheader[0].value for name in raw)
    assert set(chart_rows(app, 0)["name"]) == set(board["Model"])
    assert f"{model.card.test_row_count} held-out cars" in " ".join(s.value for s in app.subheader)


def test_model_page_headline_is_the_nested_cv_of_the_benchmark(app):
    from mpg.modeling.evaluate import headline

    switch(app, "model")
    best = headline()
    shown = {m.label: m.value for m in app.metric}
    assert shown["Nested CV RMSE of the whole procedure"] == f"{best.ours_mean:.3f} ± {best.ours_std:.3f} MPG"
    assert shown["The tutorial's procedure, same folds"].startswith(f"{best.tutorial_mean:.3f}")


def test_model_page_states_the_rule_and_shows_the_equals_band(app, model):
    switch(app, "model")
    assert any(model.card.selection.rule in m.value for m in app.markdown)
    band = next(t.value for t in app.table if "An equal?" in t.value.columns)
    equals = [row for row in model.card.leaderboard if row.equal]
    note = next(c.value for c in app.caption if c.value.startswith("An equal is"))
    lower = next(
        r for r in model.card.leaderboard if not r.equal and r.cv_rmse_mean < model.card.leaderboard[0].cv_rmse_mean
    )
    assert f"{lower.label} has a lower mean ({lower.cv_rmse_mean:.3f})" in note  # why it is no equal, on the spot
    assert (band["An equal?"] == "yes").sum() == len(equals) >= 1
    assert band["Model"].iloc[0].endswith("(chosen)") and "_" not in " ".join(band["Model"])
    assert band["Serving 10,000 cars (ms)"].tolist() == [f"{r.serving_ms_10k:.1f}" for r in model.card.leaderboard]


def test_sidebar_figures_come_from_the_card_and_data(app, model, auto_mpg):
    caption = app.sidebar.caption[0].value
    assert f"{len(auto_mpg)} cars" in caption and f"{model.card.metrics.test_rmse:.2f} MPG" in caption
    assert "ensemble_svr_et_gbr" not in caption and model.card.model not in caption


def test_tutorial_figures_match_the_model_card(app, model, auto_mpg):
    switch(app, "tutorial")
    shown = {m.label: m for m in app.metric}
    card = model.card
    assert shown["Held-out RMSE"].value == f"{card.metrics.test_rmse:.2f} MPG"
    assert shown["Held-out RMSE"].proto.delta == f"tutorial: {config.TUTORIAL_TEST_RMSE:.2f}"
    assert shown["Held-out MAE"].value == f"{card.metrics.test_mae:.2f} MPG"
    assert shown["Held-out cars"].value == str(card.test_row_count)
    assert shown["Training cars"].value == str(card.data.rows - card.test_row_count)
    assert shown["Cars"].value == f"{len(auto_mpg):,}"
    assert shown["Candidates"].value == str(len(card.leaderboard))
    assert shown["Model version"].value == model.version
    headers = [s.value for s in app.subheader]
    assert headers[0].startswith("1. Data") and headers[-1].startswith("10. Serving") and len(headers) == 10


def test_monitoring_page_is_registered_only_with_a_token(monkeypatch):
    monkeypatch.delenv("MONITOR_TOKEN", raising=False)
    at = opened()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/monitoring.py")
    monkeypatch.setenv("MONITOR_TOKEN", "a-secret")
    at = opened()
    at.switch_page("app_pages/monitoring.py").run()
    assert not at.exception and at.title[0].value == "Monitoring"


@pytest.fixture()
def app_log():
    """The app's prediction log on this test's DATABASE_URL; the function it yields closes it and reads its rows."""
    from app_pages.shared import prediction_log
    from mpg.monitoring.table import connect, database_url, read_log

    prediction_log.clear()  # one log per process: a fresh one for this test's database

    def rows() -> pd.DataFrame:
        prediction_log().close()  # writes what is queued
        return read_log(connect(database_url(os.environ)))

    yield rows
    prediction_log().close()
    prediction_log.clear()


def test_visits_that_touch_nothing_log_nothing(app_log, model):
    # A new visitor's untouched default car is no caller's choice: logged, 24 of 65 rows were that car and every
    # input read as drifted. A reload opens the address the first visit left, the default car in its parameters.
    reload = car_to_params(default_car(model.card))
    for visit in range(20):
        at = opened(reload if visit % 2 else None)
        at.run()  # a rerun, as a click elsewhere on the page makes
    assert app_log().empty


def test_the_app_logs_a_car_when_it_changes_not_at_every_rerun(app_log):
    at = opened()
    at.slider(key="input_Weight").set_value(3000.0).run()
    at.run()  # a rerun with the same car: not logged again
    rows = app_log()
    assert len(rows) == 1 and rows["source"].tolist() == ["app"] and rows["route"].tolist() == ["app"]
    assert rows["Weight"].tolist() == [3000.0]
    assert round(rows["prediction"].iloc[-1], 1) == predicted(at)


def test_a_shared_link_logs_its_car_once(app_log):
    at = opened(car_to_params(COROLLA))
    at.run()
    rows = app_log()
    assert len(rows) == 1
    assert rows[config.FEATURES].iloc[0].tolist() == [4, 108.0, 75.0, 2350.0, 16.8, 81, 3]
