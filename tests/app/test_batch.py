"""The Batch page's table (app_pages/view/batch.py): refused rows first with their place in the file, readable
headers, one decimal, empty cells, whole numbers whole; the download keeps the machine columns."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from app_pages.view.batch import batch_table, file_error
from mpg.files import OUTPUT_COLUMNS, predict_file, read_cars
from mpg.problems import InputError

HEADER = "Car Name,Cylinders,Displacement,Horsepower,Weight,Acceleration,Model Year,Origin\n"
CAR = {"cylinders": 4, "displacement": 108, "horsepower": 75, "weight": 2350.0, "acceleration": 16.8,
       "model_year": 81, "origin": "Japan"}  # fmt: skip


def test_refused_rows_come_first_with_their_file_line(model):
    # line 3 is blank and line 5's quoted name spans two lines: pandas skips the one and joins the other
    text = (HEADER + "good,4,108,75,2350.0,16.8,81,Japan\n\n"
            'bad,99,108,75,heavy,16.8,81,Japan\n"two\nlines",4,108,75,2350,16.8,81,Japan\n'
            "worse,4,108,75,2350,16.8,2024,Mars\n")  # fmt: skip
    table = batch_table(predict_file(model, text.encode(), "cars.csv"))
    assert table.columns[0] == "Problem"
    assert table["Problem"].tolist() == [
        "line 4, Cylinders: must be between 1 and 16 (count), got 99; Weight: must be a number, got 'heavy'",
        "line 7, Model Year: must be a year of 1960-1999, as 2 or 4 digits, got 2024; "
        "Origin: must be 1, 2, 3, USA, Europe or Japan, got 'Mars'",
        "",
        "",
    ]
    assert table["Car Name"].tolist() == ["bad", "worse", "good", "two\nlines"]  # then the rest, in file order


@pytest.mark.parametrize("spelling", ["car_name", "car name", "CAR-NAME"])
def test_the_car_name_comes_before_the_predictions_however_the_file_spells_it(model, spelling):
    text = HEADER.replace("Car Name", spelling) + "a,4,108,,2350,16.8,81,Japan\nb,4,108,75,2350,16.8,81,Atlantis\n"
    table = batch_table(predict_file(model, text.encode(), "cars.csv"))
    assert list(table.columns[:5]) == ["Problem", "Car Name", "Predicted MPG", "90% interval (MPG)", "Warnings"]
    assert table["Car Name"].tolist() == ["b", "a"] and spelling not in table


def test_json_rows_are_cars_numbered_from_one_wrong_values_before_missing(model):
    cars = [CAR, {"weight": "heavy", "cylinders": 4}, {**CAR, "horsepower": None}]
    table = batch_table(predict_file(model, json.dumps(cars).encode(), "cars.json"))
    missing = ["Displacement", "Horsepower", "Acceleration", "Model Year", "Origin"]
    assert table["Problem"][0] == "car 2, Weight: must be a number, got 'heavy'; " + "; ".join(
        f"{name}: is missing" for name in missing
    )
    assert table["Displacement (cu in)"][0] == ""  # missing: an empty cell, not None


def test_readable_headers_one_decimal_empty_cells_whole_numbers_whole(model):
    text = HEADER + "a,4.0,108.0,,2350.0,16.8,81.0,3\nb,4,108,75,2350,16.8,81,Atlantis\n"
    result = predict_file(model, text.encode(), "cars.csv")
    table = batch_table(result)
    # what a visitor reads first, then the inputs (on a phone, by scrolling sideways)
    assert list(table.columns) == [
        "Problem", "Car Name", "Predicted MPG", "90% interval (MPG)", "Warnings", "Cylinders", "Displacement (cu in)",
        "Horsepower (hp)", "Weight (lb)", "Acceleration (s, 0-60 mph)", "Model year", "Origin",
    ]  # fmt: skip
    refused, predicted = table.iloc[0], table.iloc[1]
    assert refused[["Predicted MPG", "90% interval (MPG)", "Warnings"]].tolist() == ["", "", ""]
    assert predicted[["Cylinders", "Weight (lb)", "Acceleration (s, 0-60 mph)", "Model year"]].tolist() == [
        "4", "2350", "16.8", "81"]  # fmt: skip
    assert predicted["Horsepower (hp)"] == ""  # unknown: empty, and the warning says so
    row = result.frame.iloc[0]
    assert predicted["Predicted MPG"] == f"{row['mpg_prediction']:.1f}"
    assert predicted["90% interval (MPG)"] == f"{row['mpg_lower']:.1f}-{row['mpg_upper']:.1f}"
    assert predicted["Warnings"].startswith("Horsepower unknown")
    assert not table.isna().any().any() and "None" not in table.to_string() and "nan" not in table.to_string()


def test_a_problem_or_warnings_column_with_nothing_to_say_is_left_out(model):
    good = HEADER + "a,4,108,75,2350,16.8,81,Japan\n"
    assert list(batch_table(predict_file(model, good.encode(), "cars.csv")).columns[:3]) == [
        "Car Name", "Predicted MPG", "90% interval (MPG)"]  # fmt: skip
    warned = batch_table(predict_file(model, good.replace(",75,", ",,").encode(), "cars.csv"))
    assert "Problem" not in warned and warned["Warnings"][0].startswith("Horsepower unknown")
    refused = batch_table(predict_file(model, good.replace(",75,", ",7500,").encode(), "cars.csv"))
    assert "Warnings" not in refused and refused["Problem"][0].startswith("line 2, Horsepower")


def test_a_field_given_twice_keeps_both_columns(model):
    table = batch_table(predict_file(model, json.dumps([{**CAR, "Weight": 3000}]).encode(), "cars.json"))
    assert table["Problem"][0] == "car 1, Weight: is given twice"
    assert table["Weight (lb)"][0] == "2350" and table["Weight (column 8)"][0] == "3000"


def test_a_column_named_like_ours_keeps_its_own_cells(model):
    cars = [{**CAR, "Problem": "my note", "Predicted MPG": "30"}]
    table = batch_table(predict_file(model, json.dumps(cars).encode(), "cars.json"))
    assert "Problem" not in table and table["Problem (column 8)"][0] == "my note"  # ours, empty, is left out
    assert table["Predicted MPG (column 9)"][0] == "30" and table["Predicted MPG"][0] != "30"


def test_the_download_keeps_the_machine_columns(model):
    text = HEADER + "a,4,108,75,2350,16.8,81,Japan\nb,99,108,75,2350,16.8,81,Japan\n"
    result = predict_file(model, text.encode(), "cars.csv")
    download = pd.read_csv(io.BytesIO(result.csv_bytes()), keep_default_na=False)
    assert list(download.columns)[-len(OUTPUT_COLUMNS) :] == OUTPUT_COLUMNS
    assert download["problem"].tolist() == ["", "Cylinders: must be between 1 and 16 (count), got 99"]
    assert float(download["mpg_prediction"][0]) == result.frame["mpg_prediction"][0]  # 3 decimals, not 1


def test_an_unusable_file_lists_each_problem():
    with pytest.raises(InputError) as caught:
        read_cars(b"Cylinders,Horsepower,Weight,Acceleration,Model Year\n4,75,2000,15,81\n", "cols.csv")
    assert file_error(caught.value).splitlines() == [
        "cols.csv cannot be used:", "- Displacement: column is missing", "- Origin: column is missing"]  # fmt: skip
