"""Predict: a car's MPG from seven inputs, a link that reopens it, pinned cars beside it, and why. Layout only."""

from __future__ import annotations

import streamlit as st

from app_pages import shared
from app_pages.view import compare, plots
from app_pages.view.car import CYLINDER_CHOICES, SliderCar, car_of, default_car, input_ranges, litres_per_100km
from app_pages.view.labels import INPUTS, similar_table
from app_pages.view.share import PIN_PARAM, car_from_params, share_url, url_params
from mpg import config
from mpg.insight import explain

model = shared.get_model()
ranges = input_ranges(model.card)
# Sticky on the container's wrapper: it is the child of the page's block, the box it can stick within.
STICKY_CSS = """<style>
div[data-testid="stLayoutWrapper"]:has(> .st-key-sticky_prediction) { display: none; }
@media (max-width: 640px) {
  div[data-testid="stLayoutWrapper"]:has(> .st-key-sticky_prediction) { display: block; position: sticky;
    top: 3.75rem; z-index: 99; background: #fff; border-bottom: 1px solid rgba(49, 51, 63, 0.2); }
}
</style>"""


def key(feature: str) -> str:
    return f"input_{feature}"


def slider(feature: str, low: float, high: float, **options) -> None:
    st.slider(INPUTS[feature], low, high, key=key(feature), persist_state="session", **options)


def set_car(car: SliderCar) -> None:
    for feature, value in car.inputs().items():
        st.session_state[key(feature)] = value


def apply_preset(labels: dict[str, int]) -> None:
    if st.session_state.preset in labels:
        set_car(car_of(shared.get_data().loc[labels[st.session_state.preset]]))


def pin(car: SliderCar) -> None:
    st.session_state.pinned = compare.pin(st.session_state.pinned, car)


# A new session starts from its link: the car and pinned cars in the URL, or the defaults.
if "pinned" not in st.session_state:
    link = car_from_params(st.query_params.to_dict(), model.card)
    st.session_state.pinned, pin_notices = compare.pinned_from_params(st.query_params.get_all(PIN_PARAM), model.card)
    set_car(link.car)
    st.session_state.link_notices = link.notices + pin_notices
    shared.unlogged(default_car(model.card))

st.title("How far does a car go on a gallon?")
if notices := st.session_state.pop("link_notices", ()):
    st.warning("This link had values the app cannot show:\n\n" + "\n".join(f"- {n}" for n in notices))
result = st.container()  # drawn above the inputs, filled once they are read
# On a phone the inputs push the result off the screen: a one-line summary stays at the top while they move.
sticky = st.container(key="sticky_prediction")
st.html(STICKY_CSS)

labels = shared.preset_labels()
choices = ["(your own car)", *labels]
preset_help = "Its values fill the inputs; its real MPG is shown beside the prediction."
st.selectbox("Start from a real car", choices, key="preset", on_change=apply_preset, args=(labels,), help=preset_help)
left, right = st.columns(2)
with left:
    st.select_slider("Cylinders", options=CYLINDER_CHOICES, key=key(config.CYLINDERS), persist_state="session")
    for feature in (config.DISPLACEMENT, config.HORSEPOWER, config.WEIGHT):
        span = ranges[feature]
        slider(feature, span.low, span.high, step=span.step, format="%d")
with right:
    span = ranges[config.ACCELERATION]
    slider(config.ACCELERATION, span.low, span.high, step=span.step, format="%.1f")
    span = ranges[config.MODEL_YEAR]
    slider(config.MODEL_YEAR, int(span.low), int(span.high), format="19%d")
    origins = list(config.ORIGINS.values())
    st.radio(INPUTS[config.ORIGIN], origins, horizontal=True, key=key(config.ORIGIN), persist_state="session")
car = SliderCar.from_inputs({feature: st.session_state[key(feature)] for feature in config.FEATURES})
pinned = st.session_state.pinned
this = shared.explained("This car", car)
shared.record(car, this)
sticky.markdown(f"**{this.mpg:.1f} MPG** predicted (90%: {this.lower:.1f} to {this.upper:.1f})")
with result:
    one, two, three = st.columns(3)
    average = shared.year_averages()[car.model_year]
    one.metric("Predicted MPG", f"{this.mpg:.1f}", delta=f"{this.mpg - average:+.1f} vs 19{car.model_year} average")
    one.caption(f"90% prediction interval: {this.lower:.1f} to {this.upper:.1f} MPG")
    two.metric("Litres per 100 km", f"{litres_per_100km(this.mpg):.1f}")
    preset = labels.get(st.session_state.get("preset", ""))
    if preset is not None:
        real = shared.get_data().loc[preset]
        if car_of(real) == car:
            error = f"{this.mpg - real[config.TARGET]:+.1f} error"
            three.metric("Real MPG of this car", f"{real[config.TARGET]:.1f}", delta=error, delta_color="off")
        else:
            three.caption("Inputs changed since the preset: its real MPG no longer applies.")
    for warning in this.warnings:
        st.warning(f"{warning.field}: {warning.problem}. The prediction extrapolates; trust it less.")
    share, pin_button, clear = st.columns(3)
    # st.code brings a large syntax-highlighter script: in a popover it loads when opened, not before the prediction.
    with share.popover("Share this car", icon=":material/link:", width="stretch"):
        st.code(share_url(st.context.url or "", car, pinned), language=None, wrap_lines=True)
        st.caption("This link opens this car (and the pinned ones) for anyone: copy it with the button at its right.")
    full = len(pinned) >= compare.MAX_PINNED or car in pinned
    pin_help = f"Keep this car beside the sliders (up to {compare.MAX_PINNED})."
    pin_button.button("Pin this car", on_click=pin, args=(car,), width="stretch", disabled=full, help=pin_help)
    clear.button("Clear pinned", on_click=lambda: st.session_state.update(pinned=()), width="stretch",
                 disabled=not pinned)  # fmt: skip

# The address bar follows the sliders, without reloading the page; set after the prediction is drawn, so a
# changed address means the new prediction is on screen (bench/app.py waits for it).
params = url_params(car, pinned)
if {name: st.query_params.get_all(name) for name in st.query_params} != params:
    st.query_params.from_dict(params)

if pinned:
    st.subheader("Side by side")
    cars = [this, *(shared.explained(f"Pinned {number}", other) for number, other in enumerate(pinned, start=1))]
    st.table(compare.side_by_side(cars))  # a static table wraps its labels: four cars fit a phone
    st.vega_lite_chart(compare.contributions_table(cars), shared.template("compare_chart"), width="stretch")
    for other in cars[1:]:
        diff = compare.difference(model, other, this)
        st.markdown(compare.summary(diff))
        st.table(diff.by_input.drop(columns="same").style.format({"MPG change": "{:+.2f}"}), hide_index=True)


@st.fragment
def why(this: compare.Explained) -> None:
    """Contributions, a what-if curve and similar cars: changing the what-if input reruns only this part."""
    left, right = st.columns(2)
    with left:
        bars = plots.contributions_frame(this.contributions)
        st.vega_lite_chart(bars, shared.template("contributions_chart"), width="stretch")
        st.caption(
            f"Exact Shapley values over the seven inputs against {explain.BACKGROUND_SIZE} reference cars "
            f"(baseline {this.baseline:.1f} MPG: their average prediction). The bars add up to the prediction."
        )
    with right:
        feature = st.selectbox("What if this input changed?", config.NUMERIC_FEATURES, index=3, key="whatif",
                               format_func=INPUTS.get)  # fmt: skip
        grid = explain.sweep(model, feature)
        curve = explain.individual_curve(model, this.row, feature, grid)
        rows = plots.whatif_frame(grid, curve, shared.average_curve(feature), float(this.car.inputs()[feature]))
        st.vega_lite_chart(rows, shared.template("whatif_chart", feature), width="stretch")
    st.write("Most similar real cars: the closest in all seven inputs")
    with st.expander("How closeness is measured"):
        st.caption("Each number is standardised (minus its mean, over its standard deviation in the data set) and "
                   "origin counts as one of three; the distance is the straight-line one over those.")  # fmt: skip
    st.table(similar_table(shared.similar_cars().nearest(this.row)), hide_index=True)


why(this)
shared.chart("importance_chart", [row.model_dump() for row in model.card.importances.permutation])
st.caption(
    f"Permutation importance on the {model.card.test_row_count} held-out cars: how much the error grows when one "
    "input is shuffled (bars: mean of the shuffles; lines: ± one standard deviation). Origin counts as one input."
)
