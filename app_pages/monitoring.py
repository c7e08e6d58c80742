"""The Monitoring page (layout only): the prediction log's report as charts, listed only when MONITOR_TOKEN is set."""

from __future__ import annotations

import os

import streamlit as st

from app_pages.shared import get_model
from app_pages.view import monitor_charts
from mpg.data import model_rows
from mpg.monitoring.report import MonitorError, Report, drift_note, load_report
from mpg.monitoring.table import database_url


@st.cache_data(show_spinner=False)
def training():
    return model_rows(get_model().card)[0]


@st.cache_data(ttl=60, show_spinner="Reading the prediction log...")
def report(url: str, period: str, source: str | None) -> Report:
    return load_report(url, get_model().card, monitor_charts.since(period), training=training(), source=source)


st.title("Monitoring")
if not monitor_charts.monitoring_enabled(os.environ):
    st.error("Monitoring is off: set MONITOR_TOKEN to turn this page on.")
    st.stop()
token = st.text_input("Monitoring token", type="password")
if not token:
    st.info("This page shows what callers sent: enter the monitoring token.")
    st.stop()
if not monitor_charts.token_matches(token, os.environ):
    st.error("Wrong token.")
    st.stop()

period = st.selectbox("Predictions from", list(monitor_charts.PERIODS), index=1)
# The app's visitors try cars for fun; the API's callers send real ones: their drift is read apart.
sent_by = st.radio("Sent by", list(monitor_charts.SOURCES), horizontal=True, key="source")
try:
    shown = report(database_url(os.environ), period, monitor_charts.SOURCES[sent_by])
except MonitorError as exc:
    st.error(str(exc))
    st.stop()
if not shown.predictions:
    st.info("No predictions logged in this period.")
    st.stop()

columns = st.columns(5)
columns[0].metric("Predictions", f"{shown.predictions:,}")
columns[1].metric("Requests", f"{shown.requests:,}")
for column, (label, share) in zip(columns[2:], shown.shares().items(), strict=True):
    column.metric(label.capitalize(), f"{share:.1%}")
st.caption(f"Predictions by source: {monitor_charts.source_counts(shown)}.")

st.subheader("Drift from the training data")
st.caption(
    f"Drifted: PSI > {shown.thresholds['psi']:g} and chi-square p < {shown.thresholds['p_value']:g} "
    "(bins: training deciles, Cylinders and Origin by value). Unknown values are left out; "
    f"drift is judged from {shown.min_predictions} known values on."
)
if note := drift_note(shown):
    st.warning(f"{note[0].upper()}{note[1:]}.")
st.dataframe(monitor_charts.drift_table(shown), hide_index=True, width="stretch")
st.altair_chart(monitor_charts.traffic_chart(shown), width="stretch")
st.altair_chart(monitor_charts.distribution_chart("Predicted MPG", shown.predicted_mpg_drift), width="stretch")
left, right = st.columns(2)
for i, (name, drift) in enumerate(shown.drift.items()):
    (left if i % 2 == 0 else right).altair_chart(monitor_charts.distribution_chart(name, drift), width="stretch")
