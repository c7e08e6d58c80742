"""Explore: the data set, its gaps, distributions and relationships. Layout only."""

import streamlit as st

from app_pages.shared import chart, get_data
from app_pages.view.labels import INPUTS, readable_data, readable_variable
from mpg import config
from mpg.insight import eda

data = get_data()
readable = eda.with_origin_names(data)
st.title("Explore the data")
search = st.text_input("Search car names", placeholder="e.g. toyota")
shown = data[data[config.NAME].str.contains(search, case=False, regex=False)] if search else data
st.dataframe(
    readable_data(shown), width="stretch", height=260, hide_index=True,
    column_order=["Car", *(column for column in readable_data(data.head(1)).columns if column != "Car")],
    # the name first, whole: what people search; Origin wide enough for "Europe" (the grid sizes it from "USA")
    column_config={"Car": st.column_config.TextColumn(width="large"), "Origin": st.column_config.TextColumn(width=70)},
)  # fmt: skip
st.caption(f"{len(shown)} of {len(data)} cars. Source: UCI Auto MPG (CC BY 4.0).")
left, right = st.columns(2)
left.write("Missing values per column")
missing = eda.missing_values(data).rename(index=INPUTS).rename(columns={"missing": "Cars", "share": "Share"})
left.dataframe(missing.style.format({"Share": "{:.1%}"}))
right.write("Summary statistics")
# Five figures, not describe()'s eight: they fit half the page. Origin is a category, not a number.
summary = data.drop(columns=[config.ORIGIN, config.NAME]).agg(["min", "median", "mean", "max", "std"]).T.round(1)
right.dataframe(summary.rename(index={**INPUTS, config.TARGET: "MPG"}))

st.subheader("Distributions")
column = st.selectbox("Variable", [config.TARGET, *config.NUMERIC_FEATURES], format_func=lambda c: INPUTS.get(c, c))
chart("histogram", data, column)
chart("horsepower_boxplot", data)
for half, name in zip(st.columns(2), [config.CYLINDERS, config.ORIGIN], strict=True):
    with half:
        chart("proportions_chart", eda.split_proportions(data, name), name)

st.subheader("Relationships")
chart("scatter_matrix", readable)
for half, x in zip(st.columns(2), [config.WEIGHT, config.HORSEPOWER], strict=True):
    with half:
        chart("mpg_scatter", readable, x)
chart("mpg_by_year_chart", readable)
correlations = eda.correlations_with_mpg(data)
chart("correlation_chart", correlations.assign(variable=correlations["variable"].map(readable_variable)))
