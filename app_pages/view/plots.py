"""Altair charts for the app. Each takes plain data and returns a chart; nothing reads globals."""

from __future__ import annotations

import textwrap

import altair as alt
import numpy as np
import pandas as pd

from mpg import config

ORIGIN_COLOURS = alt.Scale(domain=["USA", "Europe", "Japan"], range=["#1f77b4", "#ff7f0e", "#2ca02c"])
BARE = alt.Axis(labels=False, ticks=False, titlePadding=2)  # names only: the shapes are what a matrix shows
MATRIX = [config.TARGET, config.CYLINDERS, config.DISPLACEMENT, config.WEIGHT]  # the tutorial's four; fits a phone


def importance_chart(rows: list[dict]) -> alt.Chart:
    """Permutation importance (rise in RMSE, MPG) with ±1 std, largest first."""
    data = pd.DataFrame(rows).assign(low=lambda d: d["mean"] - d["std"], high=lambda d: d["mean"] + d["std"])
    order = data.sort_values("mean", ascending=False)["feature"].tolist()
    x = alt.X("mean:Q", title="rise in RMSE when shuffled (MPG)", axis=alt.Axis(tickCount=6))
    y = alt.Y("feature:N", sort=order, title=None)
    tooltip = ["feature", alt.Tooltip("mean:Q", format=".3f"), alt.Tooltip("std:Q", format=".3f")]
    bars = alt.Chart(data).mark_bar().encode(x=x, y=y, tooltip=tooltip)
    spread = alt.Chart(data).mark_rule(color="black").encode(x="low:Q", x2="high:Q", y=y)
    return (bars + spread).properties(title="Feature importance (held-out rows)", height=alt.Step(30))


def histogram(frame: pd.DataFrame, column: str) -> alt.Chart:
    x = alt.X(f"{column}:Q", bin=alt.Bin(maxbins=30), title=column)
    bars = alt.Chart(frame[[column]].dropna(), title=f"Distribution of {column}", height=250).mark_bar()
    return bars.encode(x=x, y=alt.Y("count():Q", title="cars"))


def horsepower_boxplot(frame: pd.DataFrame) -> alt.Chart:
    title = "Horsepower: box plot (whiskers 1.5 IQR)"
    box = alt.Chart(frame[[config.HORSEPOWER]].dropna(), title=title, height=120).mark_boxplot(extent=1.5)
    return box.encode(x=alt.X(f"{config.HORSEPOWER}:Q", title="Horsepower (hp)"))


def proportions_chart(table: pd.DataFrame, column: str) -> alt.Chart:
    """Shares of each value in all data, train and test: the stratified split keeps them alike."""
    x = alt.X(f"{column}:N", title=column)
    y = alt.Y("share:Q", axis=alt.Axis(format="%"), title="share")
    tooltip = ["set", column, alt.Tooltip("share:Q", format=".1%")]
    bars = alt.Chart(table, title=f"{column} proportions by set", height=250).mark_bar()
    return bars.encode(x=x, xOffset="set:N", y=y, color=alt.Color("set:N", title="set"), tooltip=tooltip)


def scatter_matrix(frame: pd.DataFrame) -> alt.Chart:
    # A repeat chart cannot stretch: four bare cells of 60 px fit 390 px.
    points = alt.Chart(frame[[*MATRIX, config.ORIGIN]].dropna(), width=60, height=60).mark_circle(size=12, opacity=0.6)
    return points.encode(
        x=alt.X(alt.repeat("column"), type="quantitative", scale=alt.Scale(zero=False), axis=BARE),
        y=alt.Y(alt.repeat("row"), type="quantitative", scale=alt.Scale(zero=False), axis=BARE),
        color=alt.Color(f"{config.ORIGIN}:N", scale=ORIGIN_COLOURS, legend=alt.Legend(orient="bottom")),
    ).repeat(row=MATRIX, column=MATRIX, spacing=6)


def mpg_scatter(frame: pd.DataFrame, x: str) -> alt.Chart:
    """MPG against `x`, coloured by origin, car names in tooltips."""
    points = alt.Chart(frame.dropna(subset=[x]), title=f"MPG against {x}", height=300).mark_circle(size=40, opacity=0.7)
    return points.encode(
        x=alt.X(f"{x}:Q", scale=alt.Scale(zero=False), title=f"{x} ({config.UNITS[x]})"),
        y=alt.Y(f"{config.TARGET}:Q", title="MPG"),
        color=alt.Color(f"{config.ORIGIN}:N", scale=ORIGIN_COLOURS),
        tooltip=[config.NAME, config.TARGET, x, config.MODEL_YEAR, config.ORIGIN],
    ).interactive()


def mpg_by_year_chart(frame: pd.DataFrame) -> alt.Chart:
    lines = alt.Chart(frame, title="MPG by model year and origin", height=300).mark_line(point=True)
    return lines.encode(
        x=alt.X(f"{config.MODEL_YEAR}:O", title="model year (19xx)"),
        y=alt.Y(f"mean({config.TARGET}):Q", title="mean MPG"),
        color=alt.Color(f"{config.ORIGIN}:N", scale=ORIGIN_COLOURS),
        tooltip=[config.MODEL_YEAR, config.ORIGIN, alt.Tooltip(f"mean({config.TARGET}):Q", format=".1f")],
    )


def correlation_chart(table: pd.DataFrame) -> alt.Chart:
    title = alt.Title("Correlation with MPG", subtitle="derived features included")
    bars = alt.Chart(table, title=title, height=alt.Step(26)).mark_bar()
    return bars.encode(
        x=alt.X("correlation:Q", scale=alt.Scale(domain=[-1, 1])),
        y=alt.Y("variable:N", sort=table["variable"].tolist(), title=None, axis=alt.Axis(labelLimit=0)),
        color=alt.condition("datum.correlation > 0", alt.value("#2ca02c"), alt.value("#d62728")),
        tooltip=["variable", alt.Tooltip("correlation:Q", format=".3f")],
    )


def leaderboard_chart(rows: list[dict]) -> alt.Chart:
    """CV RMSE ± std per candidate, with the tutorial's published figure where it has one."""
    data = pd.DataFrame(rows)[["name", "cv_rmse_mean", "cv_rmse_std", "tutorial_cv_rmse"]]
    data = data.assign(low=data.cv_rmse_mean - data.cv_rmse_std, high=data.cv_rmse_mean + data.cv_rmse_std)
    # Each name whole (labelLimit 0: no ellipsis), in lines: on one the longest pushed the x axis's title off a phone.
    data["lines"] = [two_lines(name) for name in data["name"]]
    lines = alt.Axis(labelLimit=0, labelExpr="split(datum.label, '\\n')")
    y = alt.Y("lines:N", sort=data["lines"].tolist(), title=None, axis=lines)
    x = alt.X("cv_rmse_mean:Q", title="10-fold CV RMSE (MPG)", scale=alt.Scale(zero=False))
    tooltip = ["name", alt.Tooltip("cv_rmse_mean:Q", format=".3f"), alt.Tooltip("cv_rmse_std:Q", format=".3f")]
    points = alt.Chart(data).mark_point(filled=True, size=80).encode(x=x, y=y, tooltip=tooltip)
    spread = alt.Chart(data).mark_rule().encode(x="low:Q", x2="high:Q", y=y)
    diamonds = alt.Chart(data.dropna(subset=["tutorial_cv_rmse"])).mark_point(shape="diamond", color="#d62728", size=90)
    tutorial = diamonds.encode(x="tutorial_cv_rmse:Q", y=y, tooltip=["name", "tutorial_cv_rmse:Q"])
    title = "Leaderboard (red diamonds: tutorial's figures)"
    return (spread + points + tutorial).properties(title=title, height=alt.Step(36))


def two_lines(name: str, width: int = 30) -> str:
    """`name` whole in at most two lines: two fit a leaderboard row of 36 px, three overlapped and Vega hid every
    other name. Lines of `width` characters where the words allow; a longer name gets longer lines, never a third."""
    while len(lines := textwrap.wrap(name, width)) > 2:
        width += 1
    return "\n".join(lines)


def predicted_vs_actual(frame: pd.DataFrame) -> alt.Chart:
    """`frame` has actual, predicted and name columns (held-out rows)."""
    low, high = float(frame[["actual", "predicted"]].min().min()), float(frame[["actual", "predicted"]].max().max())
    ends = pd.DataFrame({"actual": [low, high], "predicted": [low, high]})
    diagonal = alt.Chart(ends).mark_line(color="grey", strokeDash=[4, 4]).encode(x="actual:Q", y="predicted:Q")
    x = alt.X("actual:Q", title="actual MPG", scale=alt.Scale(zero=False))
    y = alt.Y("predicted:Q", title="predicted MPG", scale=alt.Scale(zero=False))
    tooltip = ["name", alt.Tooltip("actual:Q"), alt.Tooltip("predicted:Q", format=".1f")]
    points = alt.Chart(frame).mark_circle(size=50).encode(x=x, y=y, tooltip=tooltip)
    return (diagonal + points).properties(title="Held-out rows: predicted against actual", height=300)


def residuals_chart(frame: pd.DataFrame) -> alt.Chart:
    data = frame.assign(residual=frame["actual"] - frame["predicted"])
    points = alt.Chart(data, title="Residuals", height=300).mark_circle(size=50)
    return points.encode(
        x=alt.X("predicted:Q", title="predicted MPG", scale=alt.Scale(zero=False)),
        y=alt.Y("residual:Q", title="actual − predicted (MPG)"),
        tooltip=["name", alt.Tooltip("residual:Q", format=".2f")],
    )


def contributions_frame(contributions: dict[str, float]) -> pd.DataFrame:
    data = pd.DataFrame({"input": list(contributions), "contribution": list(contributions.values())})
    direction = np.where(data["contribution"] >= 0, "raises MPG", "lowers MPG")
    return data.assign(size=data["contribution"].abs(), direction=direction)


# The three charts below are templates, without data: the app passes each car's rows beside the spec, built once.
def contributions_chart() -> alt.Chart:
    """How each input moved this car's prediction from the baseline (bars add up to the difference)."""
    directions = alt.Scale(domain=["raises MPG", "lowers MPG"], range=["#2ca02c", "#d62728"])
    bars = alt.Chart(title="Why this number: each input's contribution", height=alt.Step(26)).mark_bar()
    return bars.encode(
        x=alt.X("contribution:Q", title="contribution to predicted MPG"),
        y=alt.Y("input:N", sort=alt.EncodingSortField("size", order="descending"), title=None),
        color=alt.Color("direction:N", scale=directions),
        tooltip=["input:N", alt.Tooltip("contribution:Q", format="+.2f")],
    )


def whatif_frame(grid, individual, average, current: float) -> pd.DataFrame:
    this_car = pd.DataFrame({"value": grid, "MPG": individual, "curve": "this car"})
    everyone = pd.DataFrame({"value": grid, "MPG": average, "curve": "average of the data set's cars"})
    return pd.concat([this_car, everyone]).assign(current=current)


def whatif_chart(feature: str) -> alt.Chart:
    """This car's predicted MPG as `feature` sweeps its range (ICE), beside the data set's average (PD)."""
    base = alt.Chart()
    axis_title = f"{feature} ({config.UNITS[feature]})"
    lines = base.mark_line().encode(
        x=alt.X("value:Q", title=axis_title, scale=alt.Scale(zero=False), axis=alt.Axis(tickCount=5)),
        y=alt.Y("MPG:Q", title="predicted MPG", scale=alt.Scale(zero=False)),
        color=alt.Color("curve:N", title=None, legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=0)),
        tooltip=[alt.Tooltip("value:Q", format=".1f", title=feature), alt.Tooltip("MPG:Q", format=".1f"), "curve:N"],
    )
    now = base.mark_rule(strokeDash=[4, 4]).encode(x="min(current):Q")
    return alt.layer(lines, now).properties(title=f"What if {feature} changed? (dashed: this car)", height=280)


def compare_chart() -> alt.Chart:
    """Each car's contributions on one chart, input by input (rows from app_pages.view.compare.contributions_table)."""
    # Blues, not red: the chart beside it uses red for "lowers MPG"
    cars = alt.Scale(scheme="blues", reverse=True)
    bars = alt.Chart(title="Each car's contributions", height=alt.Step(14)).mark_bar()
    return bars.encode(
        x=alt.X("contribution:Q", title="contribution to predicted MPG"),
        y=alt.Y("input:N", title=None, sort=config.FEATURES),
        yOffset=alt.YOffset("car:N"),
        color=alt.Color("car:N", title=None, scale=cars, legend=alt.Legend(orient="bottom", direction="vertical")),
        tooltip=["car:N", "input:N", alt.Tooltip("contribution:Q", format="+.2f")],
    )
