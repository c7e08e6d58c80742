"""The Streamlit app through AppTest: every view runs, inputs drive the prediction, charts carry the right fields."""

from __future__ import annotations

import json
import re

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from mpg import config
from mpg.eda import presets

APP = str(config.PROJ_ROOT / "streamlit_app.py")


@pytest.fixture()
def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    return at


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


def switch(at: AppTest, view: str) -> AppTest:
    at.sidebar.radio(key="view").set_value(view).run()
    assert not at.exception, at.exception
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
    assert set(rows["curve"]) == {"this car", "data-set average (partial dependence)"}
    app.selectbox(key="whatif").set_value(config.HORSEPOWER).run()
    assert not app.exception
    titled(app, "What if Horsepower changed")
    similar = app.dataframe[0].value
    assert list(similar.columns) == ["car", "year", "origin", "real MPG", "predicted MPG", "distance"]
    assert len(similar) == 5 and similar["distance"].is_monotonic_increasing


def test_a_preset_car_is_its_own_most_similar_car(app, auto_mpg):
    labels = presets(auto_mpg)
    label = next(label for label in labels if label.startswith("toyota corolla"))
    app.selectbox(key="preset").set_value(label).run()
    similar = app.dataframe[0].value
    assert similar["car"].iloc[0] == auto_mpg.loc[labels[label], config.NAME]
    assert similar["distance"].iloc[0] == 0


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
    switch(app, "Explore")
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
    assert {"acceleration_per_horsepower", "acceleration_per_cylinders", config.WEIGHT} <= correlations
    app.text_input[0].set_value("pinto").run()
    assert not app.exception
    app.selectbox[0].set_value(config.WEIGHT).run()
    assert config.WEIGHT in fields(specs(app)[0])


def plots_matrix():
    from mpg.plots import MATRIX

    return MATRIX


def test_model_view(app, model):
    switch(app, "Model")
    values = {m.label: m.value for m in app.metric}
    assert values["Held-out RMSE"] == f"{model.card.metrics.test_rmse:.2f} MPG"
    charts = specs(app)
    assert {"cv_rmse_mean", "low", "high", "tutorial_cv_rmse", "name"} <= fields(charts[0])
    assert {"actual", "predicted"} <= fields(charts[1])
    assert {"predicted", "residual"} <= fields(charts[2])


def test_batch_upload_good_and_bad(app, auto_mpg):
    switch(app, "Batch & API")
    good = auto_mpg.dropna().head(5)[[config.NAME, *config.FEATURES]].to_csv(index=False).encode()
    app.file_uploader[0].set_value(("cars.csv", good, "text/csv")).run()
    assert not app.exception and not app.error
    assert app.success[0].value == "predicted 5 of 5 rows"
    mixed = good.replace(b"3504.0", b"heavy", 1)  # one bad cell: that row is refused, the others predicted
    app.file_uploader[0].set_value(("mixed.csv", mixed, "text/csv")).run()
    assert not app.exception and not app.error
    assert app.warning[0].value == "predicted 4 of 5 rows; 1 refused (see the problem column)"
    refused = app.dataframe[0].value  # shown above the full table and the download
    assert refused["problem"].tolist() == ["Weight: must be a number, got 'heavy'"]
    assert len(app.dataframe[1].value) == 5
    unknown = good.replace(b",130.0,", b",,", 1)  # an empty cell: unknown, predicted with the training median
    app.file_uploader[0].set_value(("unknown.csv", unknown, "text/csv")).run()
    assert app.success[0].value == "predicted 5 of 5 rows"
    notes = app.dataframe[0].value["warnings"].tolist()
    assert notes[0].startswith("Horsepower unknown: training median") and notes[1:] == [""] * 4
    unusable = b"Cylinders,Weight\n4,2000\n"
    app.file_uploader[0].set_value(("cols.csv", unusable, "text/csv")).run()
    assert "cols.csv" in app.error[0].value and "Displacement: column is missing" in app.error[0].value
    app.file_uploader[0].set_value(("x.csv", b"\x89PNG\r\n\x1a\n\x00\x00", "text/csv")).run()
    assert "not a CSV or JSON file" in app.error[0].value
    app.file_uploader[0].set_value(("cars.csv", good, "text/csv")).run()
    assert not app.error  # the app goes on working after a bad file
    assert any("curl" in code.value for code in app.code)


def test_streamlit_config_is_safe_for_visitors():
    import tomllib

    settings = tomllib.loads((config.PROJ_ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["server"]["enableXsrfProtection"] is True
    assert settings["browser"]["gatherUsageStats"] is False
    assert settings["client"]["showErrorDetails"] == "none"
    assert "primaryColor" in settings["theme"]
