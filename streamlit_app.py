"""mpg: predict a car's fuel efficiency and see why. The entry point: load the model, then route to a page
(st.navigation: each view at its own address; the pages, in app_pages/, are layout only)."""

import os

import streamlit as st

from app_pages.shared import data_summary, get_model
from app_pages.view.labels import selected_model
from app_pages.view.monitor_charts import monitoring_enabled
from mpg import config
from mpg.artifact.store import ModelLoadError

st.set_page_config(page_title="mpg: fuel efficiency", page_icon="⛽", layout="wide")

try:
    model = get_model()
except ModelLoadError as exc:
    st.error(f"The model could not be loaded: {exc}")
    st.stop()

PREDICT = "app_pages/predict.py"
pages = [
    st.Page(PREDICT, title="Predict", icon=":material/local_gas_station:", url_path="home", default=True),
    st.Page("app_pages/explore.py", title="Explore the data", icon=":material/bar_chart:", url_path="explore"),
    st.Page("app_pages/model.py", title="The model", icon=":material/leaderboard:", url_path="model"),
    st.Page("app_pages/batch.py", title="Batch & API", icon=":material/upload_file:", url_path="batch"),
    st.Page("app_pages/tutorial.py", title="The tutorial, step by step", icon=":material/school:", url_path="tutorial"),
    # /predict, the address a visitor guesses from the others, shows the same page as / (the default page is
    # served at / and reserves its own url_path, so that one is not "predict")
    st.Page(PREDICT, title="Predict", url_path="predict", visibility="hidden"),
]
if monitoring_enabled(os.environ):  # operators only: the page exists when MONITOR_TOKEN is set
    pages.append(
        st.Page("app_pages/monitoring.py", title="Monitoring", icon=":material/monitoring:", url_path="monitoring")
    )
page = st.navigation(pages)

cars, first_year, last_year = data_summary()
source = "UCI Auto MPG" if model.card.data_file.resolve() == config.DATA_PATH.resolve() else model.card.data_file.name
st.sidebar.caption(
    f"Typical error on {model.card.test_row_count} cars the model never saw: {model.card.metrics.test_rmse:.2f} MPG "
    f"(held-out RMSE). Data: {source}, {cars} cars of 19{first_year}-{last_year}."
)
with st.sidebar.expander("Details"):
    st.caption(f"Model: {selected_model(model.card)}, version {model.version} (models/model.json).")
page.run()
