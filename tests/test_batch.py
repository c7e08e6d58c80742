"""The app's CSV upload logic: good rows in order, and a clear reason for every bad file."""

from __future__ import annotations

import numpy as np
import pytest

from mpg import config
from mpg.batch import predict_csv
from mpg.predict import predict_mpg
from mpg.schema import InputError


def test_good_file_keeps_rows_and_extra_columns(model, auto_mpg):
    cars = auto_mpg.dropna().head(4)[[config.NAME, *config.FEATURES]]
    out = predict_csv(model, cars.to_csv(index=False).encode())
    assert list(out.columns) == [config.NAME, *config.FEATURES, "mpg_prediction"]
    assert out[config.NAME].tolist() == cars[config.NAME].tolist()
    np.testing.assert_allclose(out["mpg_prediction"], predict_mpg(model, cars), atol=0.01)


HEADER = ",".join(config.FEATURES) + "\n"
ROW = "4,97,88,2130,14.5,70,3\n"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a CSV"),
        ("\ufeff".encode("utf-16"), "not a readable CSV"),
        (HEADER.replace("Weight", "Mass").encode() + ROW.encode(), "column 'Weight': is missing"),
        (HEADER.encode() + ROW.replace("2130", "heavy").encode(), "row 1"),
        ((HEADER + ROW * 11).encode(), "too many rows: 11; at most 10"),
    ],
    ids=["empty", "binary", "not utf-8", "wrong columns", "text in a number", "too many rows"],
)
def test_bad_files(model, data, words):
    with pytest.raises(InputError, match=words):
        predict_csv(model, data, max_rows=10)
