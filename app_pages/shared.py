"""What the pages share, built once per process: the model, the data, chart specs and per-car explanations.

Page scripts rerun as fresh modules and cannot import the entry script, so the caches live here; one model per process.
"""

from __future__ import annotations

import os
import uuid

import numpy as np
import pandas as pd
import streamlit as st

from app_pages.view import plots
from app_pages.view.car import SliderCar, presets
from app_pages.view.compare import Explained, explain_car
from mpg import config
from mpg.artifact.store import LoadedModel, load_model, served_directory
from mpg.data import load_auto_mpg
from mpg.insight import explain
from mpg.insight.eda import mpg_by_year
from mpg.modeling.evaluate import Headline, headline, held_out_rows
from mpg.monitoring.log import Batch, PredictionLog
from mpg.prediction import predict


@st.cache_resource(show_spinner=False)
def get_model() -> LoadedModel:
    """The committed model, or the one in MODEL_DIR (a directory `mpg train --out` wrote)."""
    return load_model(served_directory(os.environ))


@st.cache_data(show_spinner=False)
def get_data() -> pd.DataFrame:
    """The data the model was trained on (its card names the file): `train --data F` makes F the app's data."""
    return load_auto_mpg(get_model().card.data_file)


@st.cache_data(show_spinner=False)
def data_summary() -> tuple[int, int, int]:
    """Cars, first and last model year of the model's data (for captions, without copying the data each run)."""
    data = get_data()
    return len(data), int(data[config.MODEL_YEAR].min()), int(data[config.MODEL_YEAR].max())


@st.cache_data(show_spinner=False)
def accuracy_headline() -> Headline | None:
    """The benchmark's nested-CV headline; None for a model trained on another file, which the benchmark never saw."""
    shipped = get_model().card.data_file.resolve() == config.DATA_PATH.resolve()
    return headline() if shipped else None


@st.cache_data(show_spinner=False)
def year_averages() -> dict[int, float]:
    return mpg_by_year(get_data())


@st.cache_data(show_spinner=False)
def preset_labels() -> dict[str, int]:
    return presets(get_data())


@st.cache_data(show_spinner=False)
def spec(name: str, *args) -> dict:
    """A chart's Vega-Lite spec, built once per arguments (Altair's to_dict is the slow part of a rerun)."""
    return getattr(plots, name)(*args).to_dict()


@st.cache_data(show_spinner=False)
def template(name: str, *args) -> dict:
    """A data-free spec: Altair's placeholder dataset removed, so the rows passed with it are drawn."""
    clean = {k: v for k, v in spec(name, *args).items() if k not in {"data", "datasets"}}
    if "layer" in clean:
        clean["layer"] = [{k: v for k, v in layer.items() if k != "data"} for layer in clean["layer"]]
    return clean


def chart(name: str, *args) -> None:
    st.vega_lite_chart(spec(name, *args), width="stretch")


@st.cache_data(show_spinner=False, max_entries=1000)
def explained(name: str, car: SliderCar) -> Explained:
    """A car's prediction, interval and contributions: a pinned car is computed once, not on every rerun."""
    model = get_model()
    return explain_car(model, name, car, np.asarray(model.card.background))  # the API's reference cars too


@st.cache_resource(show_spinner=False)
def prediction_log() -> PredictionLog:
    """One log per process (DATABASE_URL, else the SQLite file; PREDICTION_LOG=off turns it off)."""
    return PredictionLog.from_env(os.environ)


def unlogged(car: SliderCar) -> None:
    """A session starts with `car` shown but not logged: `record` logs it only once the visitor has changed it.

    The default car is every new visitor's, chosen by no one: logged, it made every input read as drifted. A link
    holding it is not logged either: after the first visit the address holds it, so a reload would log it again."""
    st.session_state.logged_car = car


def record(car: SliderCar, this: Explained) -> None:
    """Log the app's prediction for a car this visitor has not just logged: once per change, not per rerun."""
    if st.session_state.get("logged_car") == car:
        return
    st.session_state.logged_car = car
    batch = Batch(X=this.row.reshape(1, -1), predictions=np.array([this.mpg]), lower=np.array([this.lower]),
                  upper=np.array([this.upper]), model_version=get_model().version, route="app", source="app",
                  request_id=uuid.uuid4().hex, warnings=list(this.warnings))  # fmt: skip
    prediction_log().record(batch)


@st.cache_resource(show_spinner=False)
def similar_cars() -> explain.SimilarCars:
    return explain.SimilarCars(get_model(), get_data())


@st.cache_data(show_spinner=False)
def average_curve(feature: str) -> np.ndarray:
    model = get_model()
    return explain.partial_dependence(model, get_data(), feature, explain.sweep(model, feature))


@st.cache_data(show_spinner=False)
def held_out_predictions() -> pd.DataFrame:
    model = get_model()
    test = held_out_rows(model)
    names, actual = test[config.NAME].to_numpy(), test[config.TARGET].to_numpy()
    return pd.DataFrame({"name": names, "actual": actual, "predicted": predict(model, test).mpg})
