"""Batch & API: predictions for an uploaded file, and how to call the JSON API. Layout only."""

import json

import streamlit as st

from app_pages.shared import get_model
from app_pages.view.batch import PROBLEM, WARNINGS, batch_table, file_error
from mpg import config
from mpg.contract import MAX_ROWS
from mpg.files import predict_file
from mpg.problems import InputError

model = get_model()
st.title("Predict a file of cars")
st.write(
    f"Upload a CSV or JSON file with the columns {', '.join(config.FEATURES)} (snake_case works too; Origin "
    f"1/2/3 or USA/Europe/Japan; an empty cell means unknown), at most {MAX_ROWS:,} rows. Other columns are kept; "
    "a row with a bad value keeps its place, with the problem named."
)
upload = st.file_uploader("CSV or JSON file", type=["csv", "json"])
if upload is not None:
    try:
        result = predict_file(model, upload.getvalue(), upload.name)
    except InputError as exc:
        st.error(file_error(exc))
    else:
        (st.warning if result.refused else st.success)(result.summary)
        table = batch_table(result)
        # Problems and warnings in up to three lines (the grid wraps text only in rows over 4rem high), in columns
        # that fit a phone and leave the predictions in view on a laptop; a click shows longer text whole.
        widths = {name: width for name, width in {PROBLEM: 300, WARNINGS: 220}.items() if name in table}
        columns = {name: st.column_config.TextColumn(width=width) for name, width in widths.items()}
        st.dataframe(table, width="stretch", hide_index=True, row_height=70 if widths else None, column_config=columns)
        st.download_button("Download predictions (CSV)", result.csv_bytes(), "predictions.csv", "text/csv")
        st.caption("The download keeps the columns programs read: mpg_prediction, mpg_lower, mpg_upper, warnings, "
                   "problem.")  # fmt: skip

st.subheader("Call the JSON API")
example = {"cylinders": 4, "displacement": 155.0, "horsepower": 93.0, "weight": 2500.0, "acceleration": 15.0,
           "model_year": 81, "origin": "Japan"}  # fmt: skip
curl = (
    "curl -s -X POST http://localhost:8000/predict -H 'Content-Type: application/json' \\\n"
    f"  -d '{json.dumps(example)}'"
)
st.code(curl, language="bash", wrap_lines=True)
client = (
    f"import requests\n\ncar = {json.dumps(example)}\n"
    "r = requests.post('http://localhost:8000/predict', json=car)\n"
    "print(r.json()['mpg_prediction'])"
)
st.code(client, language="python", wrap_lines=True)
st.caption("Start the API with `make api`; its documentation is at /docs and /openapi.json.")
