"""The shipped data against the original UCI file, the loader's formats and errors, the split."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from mpg import config
from mpg.data import DataError, labelled_rows, load_auto_mpg, split_train_test
from tests.conftest import REFERENCE_UCI  # shipped in tests/data

UCI_SHA256 = "48b830e11feee5572525f8f1691ddb9d38d3d7b7063edcd8fca672c2a5e17d8d"


def _parse_uci_independently() -> pd.DataFrame:
    """Read the reference file line by line, without our loader, so the comparison is not circular."""
    rows = []
    for line in REFERENCE_UCI.read_text().splitlines():
        numbers, name = line.split("\t")
        values = [np.nan if v == "?" else float(v) for v in numbers.split()]
        rows.append([*values, name.strip('"')])
    return pd.DataFrame(rows, columns=config.COLUMNS)


def test_reference_file_is_the_uci_original():
    assert hashlib.sha256(REFERENCE_UCI.read_bytes()).hexdigest() == UCI_SHA256


def test_shipped_copy_equals_uci_file_value_for_value(auto_mpg):
    reference = _parse_uci_independently()
    assert auto_mpg.shape == (398, 9)
    for column in config.COLUMNS:
        if column == config.NAME:
            assert auto_mpg[column].tolist() == reference[column].tolist()
        else:
            np.testing.assert_array_equal(auto_mpg[column].to_numpy(), reference[column].to_numpy(), err_msg=column)


def test_loader_reads_uci_format_identically(auto_mpg):
    pd.testing.assert_frame_equal(load_auto_mpg(REFERENCE_UCI), auto_mpg)


def test_shipped_facts(auto_mpg):
    assert np.flatnonzero(auto_mpg[config.HORSEPOWER].isna()).tolist() == [32, 126, 330, 336, 354, 374]
    assert auto_mpg.drop(columns=config.HORSEPOWER).notna().all().all()
    assert auto_mpg[config.ORIGIN].value_counts().to_dict() == {1.0: 249, 3.0: 79, 2.0: 70}
    assert auto_mpg[config.CYLINDERS].value_counts().to_dict() == {4.0: 204, 8.0: 103, 6.0: 84, 3.0: 4, 5.0: 3}
    years = auto_mpg[config.MODEL_YEAR].value_counts().sort_index()
    assert years.to_dict() == dict(
        zip(range(70, 83), [29, 28, 28, 40, 27, 30, 34, 28, 36, 29, 29, 29, 31], strict=True)
    )
    assert auto_mpg[config.TARGET].mean() == pytest.approx(23.5146, abs=1e-4)
    assert auto_mpg[config.TARGET].std() == pytest.approx(7.8160, abs=1e-4)


def _write(tmp_path, text: str, name: str = "cars.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD_HEADER = "MPG,Cylinders,Displacement,Horsepower,Weight,Acceleration,Model Year,Origin,Car Name\n"


def test_csv_with_origin_names_snake_case_and_missing_values(tmp_path):
    text = (
        "mpg,cylinders,displacement,horsepower,weight,acceleration,model_year,origin\n"
        "18,8,307,130,3504,12,70,usa\n"
        ",4,97,,2130,14.5,1970,Japan\n"
        "26,4,97,46,1835,20.5,70,Europe\n"
    )
    frame = load_auto_mpg(_write(tmp_path, text))
    assert frame[config.ORIGIN].tolist() == [1.0, 3.0, 2.0]
    assert frame[config.MODEL_YEAR].tolist() == [70.0, 70.0, 70.0]
    assert np.isnan(frame.loc[1, config.HORSEPOWER])
    labelled, dropped = labelled_rows(frame)
    assert (len(labelled), dropped) == (2, 1)


def test_loader_does_not_require_car_name(tmp_path):
    frame = load_auto_mpg(_write(tmp_path, GOOD_HEADER.replace(",Car Name", "") + "18,8,307,130,3504,12,70,1\n"))
    assert config.NAME not in frame
    assert frame.shape == (1, 8)


BAD_FILES = [
    ("missing column", GOOD_HEADER.replace("Weight,", "") + "18,8,307,130,12,70,1,x\n", "Weight", "is missing"),
    (
        "text in number",
        GOOD_HEADER + "18,8,307,130,3504,12,70,1,a\n18,8,307,fast,3504,12,70,1,b\n",
        "line 3, Horsepower",
        "must be a number",
    ),
    (
        "negative weight",
        GOOD_HEADER + "18,8,307,130,-3504,12,70,1,a\n",
        "line 2, Weight",
        "must be between 800 and 10000 (lb), got -3504",
    ),
    (
        "unknown origin",
        GOOD_HEADER + "18,8,307,130,3504,12,70,Mars,a\n",
        "line 2, Origin",
        "must be 1, 2, 3, USA, Europe or Japan, got 'Mars'",
    ),
    ("fractional cylinders", GOOD_HEADER + "18,4.5,307,130,3504,12,70,1,a\n", "line 2, Cylinders", "whole number"),
    ("empty file", "", "", "is empty"),
    ("header only", GOOD_HEADER, "", "has no rows"),
    ("uci text in number", '18.0 8 307.0 130.0 heavy 12.0 70 1\t"x"\n', "line 1, Weight", "must be a number"),
]


@pytest.mark.parametrize(("kind", "text", "where", "problem"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_file_gives_one_clear_error(tmp_path, kind, text, where, problem):
    path = _write(tmp_path, text, "cars.data" if kind.startswith("uci") else "cars.csv")
    with pytest.raises(DataError) as caught:
        load_auto_mpg(path)
    message = str(caught.value)
    assert str(path) in message
    assert where in message
    assert problem in message
    assert "\n" not in message


def test_missing_file_names_it(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: cannot be read"):
        load_auto_mpg(tmp_path / "nope.csv")


def test_split_is_the_tutorials(auto_mpg):
    train, test = split_train_test(auto_mpg)
    assert (len(train), len(test)) == (318, 80)
    assert not set(train.index) & set(test.index)
    whole = auto_mpg[config.CYLINDERS].value_counts(normalize=True)
    in_test = test[config.CYLINDERS].value_counts(normalize=True)
    assert (in_test.reindex(whole.index, fill_value=0) - whole).abs().max() < 0.02
    again, _ = split_train_test(auto_mpg)
    assert again.index.tolist() == train.index.tolist()


HEADER = "MPG,Cylinders,Displacement,Horsepower,Weight,Acceleration,Model Year,Origin,Car Name\n"
ROW = "18,8,307,130,3504,12,70,1,chevrolet chevelle malibu\n"


def test_a_bad_value_is_named_by_its_line_in_the_file_blank_lines_counted(tmp_path):
    path = _write(tmp_path, HEADER + ROW + "\n\n" + ROW.replace("3504", "heavy"))
    with pytest.raises(DataError, match=r"line 5, Weight: must be a number, got 'heavy'"):
        load_auto_mpg(path)


def test_rows_ending_in_a_comma_keep_their_columns(tmp_path):
    """A spreadsheet export's trailing commas must not shift every value one column left."""
    path = _write(tmp_path, HEADER.replace("\n", ",\n") + ROW.replace("\n", ",\n") * 2)
    frame = load_auto_mpg(path)
    assert frame[config.WEIGHT].tolist() == [3504.0, 3504.0] and frame[config.TARGET].tolist() == [18.0, 18.0]


def test_a_file_of_cars_with_trailing_commas_predicts_every_row(model):
    from mpg.files import predict_file

    text = "cylinders,displacement,horsepower,weight,acceleration,model_year,origin,\n4,108,75,2350,16.8,81,3,\n"
    result = predict_file(model, text.encode(), "cars.csv")
    assert result.refused == 0 and len(result.frame) == 1
