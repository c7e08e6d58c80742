"""How a list of problems reads everywhere: every one named, wrong values before missing ones, ten at most."""

from __future__ import annotations

import pytest

from mpg import config
from mpg.contract import check_records
from mpg.problems import LIMIT, InputError, Problem, problem_lines, shown_value
from mpg.text import from_text

MISSING = [Problem(0, name, "is missing", missing=True) for name in (config.CYLINDERS, config.DISPLACEMENT)]
WRONG = Problem(0, config.WEIGHT, "must be a number, got 'heavy'")


def test_the_message_names_every_problem_wrong_values_first():
    error = InputError([*MISSING, WRONG], source="options")
    assert error.lines() == [
        "options, row 0, Weight: must be a number, got 'heavy'",
        "options, row 0, Cylinders: is missing",
        "options, row 0, Displacement: is missing",
    ]
    assert str(error) == "; ".join(error.lines())  # one line, for logs and the API's JSON


@pytest.mark.parametrize(("count", "last"), [(LIMIT, "row 9, Weight: bad"), (LIMIT + 1, "and 1 more problem"),
                                             (LIMIT + 5, "and 5 more problems")])  # fmt: skip
def test_at_most_ten_problems_then_how_many_more(count, last):
    lines = problem_lines([Problem(row, config.WEIGHT, "bad") for row in range(count)])
    assert len(lines) == min(count, LIMIT + 1) and lines[-1] == last
    assert lines[:LIMIT] == [f"row {row}, Weight: bad" for row in range(min(count, LIMIT))]


def test_a_row_label_names_rows_as_the_file_does():
    error = InputError([WRONG], source="cars.csv", row_label=lambda row: f"line {row + 2}")
    assert str(error) == "cars.csv, line 2, Weight: must be a number, got 'heavy'"


@pytest.mark.parametrize(
    ("value", "text"), [(99.0, "99"), (-2500.0, "-2500"), (4.5, "4.5"), (99, "99"), ("heavy", "'heavy'"),
                        (True, "True"), (float("inf"), "inf"), (1e300, "1e+300")],
)  # fmt: skip
def test_values_are_shown_as_written(value, text):
    assert shown_value(value) == text


def test_a_whole_number_read_from_text_is_shown_whole():
    """CSV cells and options are read as floats: a Cylinders of 99 must not come back as 'got 99.0'."""
    records = from_text(config.FEATURES, [["99", "108", "75", "2350", "16.8", "2024", "Japan"]])
    problems = [str(p) for p in check_records(records).problems]
    assert problems == ["row 0, Cylinders: must be between 1 and 16 (count), got 99",
                        "row 0, Model Year: must be a year of 1960-1999, as 2 or 4 digits, got 2024"]  # fmt: skip
