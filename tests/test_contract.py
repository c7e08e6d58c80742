"""The contract checks each batch once, keeps columns as columns, and names problems the same for every shape."""

from __future__ import annotations

import numpy as np
import pytest

from mpg import config, contract
from mpg.contract import check_json

GOOD = {"cylinders": 4, "displacement": 108, "horsepower": 75, "weight": 2350, "acceleration": 16.8,
        "model_year": 81, "origin": "Japan"}  # fmt: skip
BAD = [GOOD, {**GOOD, "weight": -1}, {**GOOD, "origin": "Mars", "horsepower": "93"}, {**GOOD, "model_year": 1976}]


class Counting:
    """Wraps a validator and counts its calls."""

    def __init__(self, inner, method: str):
        self.inner, self.method, self.calls = inner, method, 0

    def __getattr__(self, name):
        if name != self.method:
            return getattr(self.inner, name)

        def counted(*args, **kwargs):
            self.calls += 1
            return getattr(self.inner, name)(*args, **kwargs)

        return counted


@pytest.fixture()
def counted(monkeypatch):
    records = Counting(contract._ROWS[False], "validate_python")
    columns = Counting(contract._COLUMNS, "model_validate")
    monkeypatch.setitem(contract._ROWS, False, records)
    monkeypatch.setattr(contract, "_COLUMNS", columns)
    return records, columns


def as_columns(cars: list[dict]) -> dict[str, list]:
    return {name: [car[name] for car in cars] for name in config.INPUT_NAMES}


def test_records_that_name_the_same_inputs_are_validated_once_as_columns(counted):
    records, columns = counted
    checked = check_json(BAD)  # no object per car: 10,000 records cost what 10,000-long columns cost
    assert columns.calls == 1 and records.calls == 0
    assert checked.rows.tolist() == [0, 3] and checked.refused_rows == [1, 2]


def test_records_whose_keys_differ_are_validated_once_as_records(counted):
    records, columns = counted
    missing = {key: value for key, value in GOOD.items() if key != "weight"}
    checked = check_json([*BAD, missing, {**GOOD, "Model Year": 80, "model_year": 80}])
    assert records.calls == 1 and columns.calls == 0
    assert checked.rows.tolist() == [0, 3] and checked.refused_rows == [1, 2, 4, 5]
    assert [(p.row, p.field, p.problem) for p in checked.problems if p.row in (4, 5)] == [
        (4, config.WEIGHT, "is missing"), (5, config.MODEL_YEAR, "is given twice")]  # fmt: skip


def test_a_bad_batch_of_columns_stays_columns_and_is_validated_once(counted):
    records, columns = counted
    checked = check_json(as_columns(BAD))
    assert columns.calls == 1 and records.calls == 0
    assert checked.rows.tolist() == [0, 3] and checked.refused_rows == [1, 2]


def test_columns_and_records_give_the_same_numbers_and_problems():
    by_rows, by_columns = check_json(BAD), check_json(as_columns(BAD))
    assert by_rows.problems == by_columns.problems
    assert [(p.row, p.field) for p in by_rows.problems] == [
        (1, config.WEIGHT), (2, config.HORSEPOWER), (2, config.ORIGIN)]  # fmt: skip
    assert by_rows.X.tobytes() == by_columns.X.tobytes()
    assert by_rows.X[1, config.FEATURES.index(config.MODEL_YEAR)] == 76  # 1976, encoded as the other years


def test_a_missing_column_is_named_for_every_car():
    columns = as_columns(BAD[:2])
    del columns["weight"]
    checked = check_json(columns)
    assert [(p.row, p.field, p.problem) for p in checked.problems] == [
        (0, config.WEIGHT, "is missing"), (1, config.WEIGHT, "is missing")]  # fmt: skip


NUMBERS = {**GOOD, "origin": 3}
EDGES = [0, 1, 2, 3, 4, 16, 17, 20, 30, 59, 60, 76, 99, 100, 800, 1000, 1001, 1959, 1960, 1976, 1999, 2000, 10000,
         10001, 2.0, 1.5, 16.8, 4.0000000001, 29.999999, -0.0, -5, 10**400, float("nan"), float("inf"), True, False,
         "93", "Japan", None, [4]]  # fmt: skip


def pydantic_only(columns: dict) -> contract.Checked:
    """The contract's answer with its numpy door shut: pydantic checks every value."""
    door, contract._all_numbers = contract._all_numbers, lambda named: None
    try:
        return contract.check_columns(columns)
    finally:
        contract._all_numbers = door


@pytest.mark.parametrize("name", config.INPUT_NAMES)
def test_the_numpy_door_lets_through_only_what_pydantic_accepts_and_encodes_it_the_same(name):
    taken = 0
    for value in EDGES:
        columns = {key: [NUMBERS[key]] * 3 for key in config.INPUT_NAMES}
        columns[name] = [NUMBERS[name], value, value]
        X = contract._all_numbers(columns)
        checked = pydantic_only(columns)
        if X is None:
            continue
        taken += 1
        assert checked.problems == [], (name, value)
        assert X.tobytes() == checked.X.tobytes(), (name, value)
        assert contract.check_columns(columns).X.tobytes() == X.tobytes()
    assert taken >= 3  # the door is used: some edges of every input are valid


@pytest.mark.parametrize("dtype", ["<f8", "<f4", "<f2", "<i8", "<u2", "?"])
def test_numeric_arrays_are_checked_as_their_values_as_lists_would_be(dtype):
    columns = {key: np.array([NUMBERS[key]] * 3).astype(dtype) for key in config.INPUT_NAMES}
    columns["model_year"] = np.array([70, 82, 81]).astype(dtype)
    checked = contract.check_json(columns)
    as_lists = pydantic_only({key: values.tolist() for key, values in columns.items()})
    assert checked.X.tobytes() == as_lists.X.tobytes()
    assert [p.problem for p in checked.problems] == [p.problem for p in as_lists.problems]
    assert bool(checked.problems) == (dtype == "?")  # a bool is not a number
