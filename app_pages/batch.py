"""Batch & API: predictions for an uploaded file, and how to call the JSON API. Layout only."""

from __future__ import annotations

import json

import streamlit as st

from app_pages.shared import get_model
from mpg import config
from mpg.batch import MAX_ROWS, predict_csv
from mpg.schema import InputError

model = get_model()
st.title("Predict a file of cars")
st.write(
    f"Upload a CSV with the columns {', '.join(config.FEATURES)} (snake_case works too; Origin 1/2/3 or "
    f"USA/Europe/Japan), at most {MAX_ROWS:,} rows. Other columns are kept."
)
upload = st.file_uploader("CSV file", type=["csv"])
if upload is not None:
    try:
        result = predict_csv(model, upload.getvalue())
    except InputError as exc:
        st.error(f"{upload.name}: {exc}")
    else:
        st.success(f"{len(result)} predictions")
        st.download_button("Download predictions (CSV)", result.to_csv(index=False), "predictions.csv", "text/csv")
        st.dataframe(result, width="stretch")

st.subheader("Call the JSON API")
example = {"Cylinders": [4], "Displacement": [155.0], "Horsepower": [93.0], "Weight": [2500.0],
           "Acceleration": [15.0], "Model Year": [81], "Origin": [3]}  # fmt: skip
st.code(
    "curl -s -X POST http://localhost:8000/predict -H 'Content-Type: application/json' \\\n"
    f"  -d '{json.dumps(example)}'",
    language="bash",
    wrap_lines=True,
)
st.code(
    f"import requests\n\nvehicle_config = {json.dumps(example)}\n"
    "r = requests.post('http://localhost:8000/predict', json=vehicle_config)\n"
    "print(r.json()['mpg_prediction'])",
    language="python",
    wrap_lines=True,
)
st.caption("Start the API with `make api`; its documentation is at /docs and /openapi.json.")
