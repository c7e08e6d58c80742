"""mpg: predict a car's fuel efficiency and see why. Layout only; everything else comes from `mpg`."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import streamlit as st

from mpg import config, eda, explain, plots
from mpg.contract import MAX_ROWS, InputError
from mpg.data import load_auto_mpg
from mpg.evaluate import held_out_rows
from mpg.files import predict_file
from mpg.persistence import LoadedModel, ModelLoadError, load_model
from mpg.predict import input_warnings, predict_mpg, prediction_interval

st.set_page_config(page_title="mpg: fuel efficiency", page_icon="⛽", layout="wide")
VIEWS = ["Predict", "Explore", "Model", "Batch & API"]
CYLINDER_CHOICES = [3, 4, 5, 6, 8]


@st.cache_resource(show_spinner=False)
def get_model() -> LoadedModel:
    return load_model()


@st.cache_data(show_spinner=False)
def get_data() -> pd.DataFrame:
    return load_auto_mpg()


@st.cache_data(show_spinner=False)
def year_averages(data: pd.DataFrame) -> dict[int, float]:
    return eda.mpg_by_year(data)


@st.cache_data(show_spinner=False)
def get_presets(data: pd.DataFrame) -> dict[str, int]:
    return eda.presets(data)


@st.cache_data(show_spinner=False)
def spec(name: str, *args) -> dict:
    """A chart's Vega-Lite spec, built once per arguments (Altair's to_dict is the slow part of a rerun)."""
    return getattr(plots, name)(*args).to_dict()


@st.cache_data(show_spinner=False)
def template(name: str, *args) -> dict:
    """A data-free spec: Altair's placeholder dataset removed, so the rows passed with it are drawn."""
    built = spec(name, *args)
    clean = {k: v for k, v in built.items() if k not in {"data", "datasets"}}
    if "layer" in clean:
        clean["layer"] = [{k: v for k, v in layer.items() if k != "data"} for layer in clean["layer"]]
    return clean


def chart(name: str, *args) -> None:
    st.vega_lite_chart(spec(name, *args), width="stretch")


def key(feature: str) -> str:
    return f"input_{feature}"


STEPS = {config.DISPLACEMENT: 1.0, config.HORSEPOWER: 1.0, config.WEIGHT: 10.0, config.ACCELERATION: 0.1}


def on_grid(value: float, step: float) -> float:
    return round(round(value / step) * step, 1)


def slider_range(model: LoadedModel, feature: str) -> tuple[float, float]:
    """The training range widened by 15% (within plausible bounds), so extrapolation can be explored.

    Ends are rounded outwards to tens of steps, so the slider shows round numbers.
    """
    info = model.card.inputs.features[feature]
    low, high = info.train_min, info.train_max
    pad, unit = 0.15 * (high - low), 10 * STEPS[feature]
    low, high = math.floor((low - pad) / unit) * unit, math.ceil((high + pad) / unit) * unit
    return float(max(info.min, low)), float(min(info.max, high))


def apply_preset(data: pd.DataFrame, labels: dict[str, int]) -> None:
    label = st.session_state.preset
    if label in labels:
        row = data.loc[labels[label]]
        for feature in config.FEATURES:
            value = row[feature]
            if feature == config.ORIGIN:
                value = config.ORIGINS[int(value)]
            elif feature in config.INTEGER_FEATURES:  # the widgets' options are ints; 4.0 would not match
                value = int(value)
            else:
                value = float(value)  # exact, even off the slider's grid: the car is the real car
            st.session_state[key(feature)] = value


def init_inputs(data: pd.DataFrame, model: LoadedModel) -> None:
    for feature, step in STEPS.items():
        st.session_state.setdefault(key(feature), on_grid(float(data[feature].median()), step))
    st.session_state.setdefault(key(config.CYLINDERS), 4)
    st.session_state.setdefault(key(config.MODEL_YEAR), 76)
    st.session_state.setdefault(key(config.ORIGIN), "USA")


def vehicle_inputs(model: LoadedModel) -> dict:
    """The seven input widgets; returns the car they describe."""
    left, right = st.columns(2)
    with left:
        cylinders = st.select_slider("Cylinders", options=CYLINDER_CHOICES, key=key(config.CYLINDERS))
        values = {config.CYLINDERS: cylinders}
        for feature in (config.DISPLACEMENT, config.HORSEPOWER, config.WEIGHT):
            low, high = slider_range(model, feature)
            label = f"{feature} ({config.UNITS[feature]})"
            values[feature] = st.slider(label, low, high, step=STEPS[feature], format="%d", key=key(feature))
    with right:
        low, high = slider_range(model, config.ACCELERATION)
        values[config.ACCELERATION] = st.slider(
            "Acceleration (s, 0-60 mph)", low, high, step=0.1, format="%.1f", key=key(config.ACCELERATION)
        )
        values[config.MODEL_YEAR] = st.slider("Model year", 70, 82, format="19%d", key=key(config.MODEL_YEAR))
        values[config.ORIGIN] = st.radio(
            "Origin", list(config.ORIGINS.values()), horizontal=True, key=key(config.ORIGIN)
        )
    return values


def predict_view(model: LoadedModel, data: pd.DataFrame) -> None:
    labels = get_presets(data)
    st.selectbox(
        "Start from a real car",
        ["(your own car)", *labels],
        key="preset",
        on_change=apply_preset,
        args=(data, labels),
        help="Its values fill the inputs; its real MPG is shown beside the prediction.",
    )
    init_inputs(data, model)
    car = vehicle_inputs(model)
    predicted = float(predict_mpg(model, car)[0])  # validates the car, then the compiled model
    values = encode(car)  # the same car as the model's row, for the checks and explanations below
    lower, upper = (float(v[0]) for v in prediction_interval(model, [predicted]))
    year_average = year_averages(data)[int(car[config.MODEL_YEAR])]

    one, two, three = st.columns(3)
    one.metric(
        "Predicted MPG",
        f"{predicted:.1f}",
        delta=f"{predicted - year_average:+.1f} vs 19{car[config.MODEL_YEAR]} average ({year_average:.1f})",
    )
    two.metric("Litres per 100 km", f"{eda.litres_per_100km(predicted):.1f}")
    one.caption(f"90% prediction interval: {lower:.1f} to {upper:.1f} MPG")
    preset = labels.get(st.session_state.get("preset", ""))
    if preset is not None:
        real = data.loc[preset]
        same = all(
            (config.ORIGINS[int(real[f])] if f == config.ORIGIN else float(real[f])) == car[f] for f in config.FEATURES
        )
        if same:
            three.metric(
                "Real MPG of this car",
                f"{real[config.TARGET]:.1f}",
                delta=f"{predicted - real[config.TARGET]:+.1f} error",
                delta_color="off",
            )
        else:
            three.caption("Inputs changed since the preset: its real MPG no longer applies.")
    for problem in input_warnings(model, values.reshape(1, -1)):
        st.warning(f"{problem.field}: {problem.problem}. The prediction extrapolates; trust it less.")
    explain_car(model, data, car, values)
    chart("importance_chart", [row.model_dump() for row in model.card.importances.permutation])
    st.caption(
        "Permutation importance on the 80 held-out cars: how much the error grows when one input is shuffled "
        "(bars: mean of 30 shuffles; lines: ± one standard deviation). Origin counts as one input."
    )


@st.cache_data(show_spinner=False)
def get_background(data: pd.DataFrame) -> np.ndarray:
    return explain.background(data)


@st.cache_resource(show_spinner=False)
def get_similar_cars(_model: LoadedModel, version: str, _data: pd.DataFrame) -> explain.SimilarCars:
    return explain.SimilarCars(_model, _data)


@st.cache_data(show_spinner=False)
def average_curve(_model: LoadedModel, version: str, data: pd.DataFrame, feature: str) -> np.ndarray:
    return explain.partial_dependence(_model, data, feature, explain.sweep(_model, feature))


def explain_car(model: LoadedModel, data: pd.DataFrame, car: dict, values: np.ndarray) -> None:
    """Contributions, a what-if curve and the nearest real cars, for the car on the sliders."""
    phi, baseline = explain.contributions(model, values, get_background(data))
    left, right = st.columns(2)
    with left:
        st.vega_lite_chart(plots.contributions_frame(phi), template("contributions_chart"), width="stretch")
        st.caption(
            f"Exact Shapley values over the seven inputs against {explain.BACKGROUND_SIZE} reference cars "
            f"(baseline {baseline:.1f} MPG: their average prediction). The bars add up to the prediction."
        )
    with right:
        feature = st.selectbox("What if this input changed?", config.NUMERIC_FEATURES, index=3, key="whatif")
        grid = explain.sweep(model, feature)
        curve = explain.individual_curve(model, values, feature, grid)
        average = average_curve(model, model.version, data, feature)
        rows = plots.whatif_frame(grid, curve, average, float(car[feature]))
        st.vega_lite_chart(rows, template("whatif_chart", feature), width="stretch")
    st.write("Most similar real cars (distance on standardised inputs: z-scores, origin one-hot)")
    st.dataframe(get_similar_cars(model, model.version, data).nearest(values), hide_index=True, width="stretch")


def encode(car: dict) -> np.ndarray:
    """The sliders' car as the model's float row (Origin as its code)."""
    return np.array(
        [config.ORIGIN_CODES.get(car[f], car[f]) if f == config.ORIGIN else car[f] for f in config.FEATURES],
        dtype=float,
    )


def explore_view(data: pd.DataFrame) -> None:
    readable = eda.with_origin_names(data)
    st.subheader("The data")
    search = st.text_input("Search car names", placeholder="e.g. toyota")
    shown = readable[readable[config.NAME].str.contains(search, case=False, regex=False)] if search else readable
    st.dataframe(shown, width="stretch", height=260)
    st.caption(f"{len(shown)} of {len(readable)} cars. Source: UCI Auto MPG (CC BY 4.0).")
    left, right = st.columns(2)
    left.write("Missing values per column")
    left.dataframe(eda.missing_values(data))
    right.write("Summary statistics")
    right.dataframe(data.drop(columns=config.ORIGIN).describe().T.round(2))  # Origin is a category

    st.subheader("Distributions")
    column = st.selectbox("Variable", [config.TARGET, *config.NUMERIC_FEATURES])
    chart("histogram", data, column)
    chart("horsepower_boxplot", data)
    left, right = st.columns(2)
    with left:
        chart("proportions_chart", eda.split_proportions(data, config.CYLINDERS), config.CYLINDERS)
    with right:
        chart("proportions_chart", eda.split_proportions(data, config.ORIGIN), config.ORIGIN)

    st.subheader("Relationships")
    chart("scatter_matrix", readable)
    left, right = st.columns(2)
    with left:
        chart("mpg_scatter", readable, config.WEIGHT)
    with right:
        chart("mpg_scatter", readable, config.HORSEPOWER)
    chart("mpg_by_year_chart", readable)
    chart("correlation_chart", eda.correlations_with_mpg(data))


@st.cache_data(show_spinner=False)
def held_out_predictions(_model: LoadedModel, version: str) -> pd.DataFrame:
    test = held_out_rows(_model)
    return pd.DataFrame(
        {
            "name": test[config.NAME].to_numpy(),
            "actual": test[config.TARGET].to_numpy(),
            "predicted": predict_mpg(_model, test),
        }
    )


def model_view(model: LoadedModel) -> None:
    card = model.card
    metrics = card.model_dump(mode="json")["metrics"]
    st.subheader(f"Selected model: {card.model}")
    one, two, three, four = st.columns(4)
    one.metric("Held-out RMSE", f"{metrics['test_rmse']:.2f} MPG")
    two.metric("Held-out MAE", f"{metrics['test_mae']:.2f} MPG")
    three.metric("Held-out R²", f"{metrics['test_r2']:.3f}")
    four.metric("CV RMSE", f"{metrics['cv_rmse']:.2f} ± {metrics['cv_rmse_std']:.2f}")
    st.caption(
        f"The tutorial's held-out RMSE on the same split: {config.TUTORIAL_TEST_RMSE:.2f} MPG. "
        "Held-out rows were used once, for these figures; selection used CV on the training rows only."
    )
    st.subheader("Leaderboard (10-fold CV on the training rows)")
    leaderboard = [row.model_dump(mode="json") for row in card.leaderboard]
    chart("leaderboard_chart", leaderboard)
    board = pd.DataFrame(leaderboard)[
        ["name", "source", "cv_rmse_mean", "cv_rmse_std", "cv_mae", "cv_r2", "fit_time_s", "tutorial_cv_rmse"]
    ]
    st.dataframe(board.round(3), width="stretch", hide_index=True)
    st.subheader("Held-out rows")
    frame = held_out_predictions(model, model.version)
    left, right = st.columns(2)
    with left:
        chart("predicted_vs_actual", frame)
    with right:
        chart("residuals_chart", frame)
    st.subheader("Model card")
    st.json(
        {
            "onnx_sha256": card.onnx_sha256,
            "model_sha256": card.model_sha256,
            "training data sha256": card.data.sha256,
            "trained_at": card.trained_at,
            "versions": card.versions,
            "split": card.split.model_dump(),
        }
    )


def batch_view(model: LoadedModel) -> None:
    st.subheader("Predict a file of cars")
    st.write(
        f"Upload a CSV with the columns {', '.join(config.FEATURES)} (snake_case works too; Origin 1/2/3 or "
        f"USA/Europe/Japan), at most {MAX_ROWS:,} rows. Other columns are kept."
    )
    upload = st.file_uploader("CSV or JSON file", type=["csv", "json"])
    if upload is not None:
        try:
            result = predict_file(model, upload.getvalue(), upload.name)
        except InputError as exc:
            st.error(str(exc))
        else:
            (st.warning if result.refused else st.success)(result.summary)
            if result.refused:
                st.dataframe(result.refused_rows(), width="stretch")
            st.dataframe(result.frame, width="stretch")
            st.download_button("Download predictions (CSV)", result.csv_bytes(), "predictions.csv", "text/csv")
    st.subheader("Call the JSON API")
    example = json.dumps({k: [v] for k, v in {"Cylinders": 4, "Displacement": 155.0, "Horsepower": 93.0,
                                             "Weight": 2500.0, "Acceleration": 15.0, "Model Year": 81,
                                             "Origin": 3}.items()})  # fmt: skip
    st.code(
        f"curl -s -X POST http://localhost:8000/predict -H 'Content-Type: application/json' \\\n  -d '{example}'",
        language="bash",
    )
    st.code(
        "import requests\n\n"
        "vehicle_config = " + example + "\n"
        "r = requests.post('http://localhost:8000/predict', json=vehicle_config)\n"
        "print(r.json()['mpg_prediction'])",
        language="python",
    )
    st.caption("Start the API with `make api`; its documentation is at /docs and /openapi.json.")


def main() -> None:
    st.title("mpg: how far does a car go on a gallon?")
    try:
        model = get_model()
    except ModelLoadError as exc:
        st.error(f"The model could not be loaded: {exc}")
        st.stop()
    data = get_data()
    with st.sidebar:
        view = st.radio("View", VIEWS, key="view")
        st.caption(
            f"Model {model.card.model} ({model.version}), held-out RMSE "
            f"{model.card.metrics.test_rmse:.2f} MPG. Data: UCI Auto MPG, 398 cars of 1970-82."
        )
    if view == "Predict":
        predict_view(model, data)
    elif view == "Explore":
        explore_view(data)
    elif view == "Model":
        model_view(model)
    else:
        batch_view(model)


main()
