"""`python -m mpg` as a user runs it: real subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from mpg import config
from mpg.artifact.store import load_model
from mpg.contract import MAX_ROWS
from mpg.files import OUTPUT_COLUMNS
from mpg.prediction import predict


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "mpg", *args], cwd=config.PROJ_ROOT, capture_output=True, text=True, timeout=300
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def assert_user_error(result: subprocess.CompletedProcess, *needles: str, lines: int = 1) -> None:
    """Exit 2, nothing on stdout, `lines` lines on stderr (one per problem), the first naming every needle."""
    assert result.returncode == 2
    assert result.stdout == ""
    shown = result.stderr.strip().splitlines()
    assert len(shown) == lines, result.stderr
    assert all(line.startswith("error: ") for line in shown), result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in shown[0]


def test_evaluate_json(model):
    out = json.loads(run("evaluate", "--json").stdout)
    assert out["test_rmse"] == pytest.approx(model.card.metrics.test_rmse)
    assert {"test_mae", "test_r2", "leaderboard"} <= set(out)
    assert out["leaderboard"][0]["name"] == model.card.model


def test_evaluate_text_shows_tutorial_figure():
    out = run("evaluate").stdout
    assert "test_rmse" in out and "tutorial test RMSE 3.018" in out


def test_predict_csv_keeps_rows_and_columns_in_order(model, auto_mpg, tmp_path):
    cars = auto_mpg.dropna().iloc[[5, 0, 200]][[config.NAME, *config.FEATURES]].copy()
    cars[config.ORIGIN] = cars[config.ORIGIN].map(config.ORIGINS)
    source, target = tmp_path / "cars.csv", tmp_path / "out.csv"
    cars.to_csv(source, index=False)
    run("predict", "--input", str(source), "--output", str(target))
    out = pd.read_csv(target)
    assert list(out.columns) == [config.NAME, *config.FEATURES, *OUTPUT_COLUMNS]
    assert (out["mpg_lower"] <= out["mpg_prediction"]).all() and (out["mpg_prediction"] <= out["mpg_upper"]).all()
    assert out[config.NAME].tolist() == cars[config.NAME].tolist()
    np.testing.assert_allclose(out["mpg_prediction"], predict(model, cars).mpg, atol=1e-3)


def test_predict_json_records_to_stdout(model, vehicle, tmp_path):
    source = tmp_path / "cars.json"
    source.write_text(json.dumps([vehicle, {**vehicle, "Weight": 3500}]))
    out = pd.read_csv(io.StringIO(run("predict", "--input", str(source)).stdout))
    assert len(out) == 2 and out["mpg_prediction"][1] < out["mpg_prediction"][0]


def test_predict_one_car_from_options(model, vehicle):
    result = run(
        "predict", "--cylinders", "4", "--displacement", "108", "--horsepower", "75", "--weight", "2350",
        "--acceleration", "16.8", "--model-year", "81", "--origin", "Japan",
    )  # fmt: skip
    value = pd.read_csv(io.StringIO(result.stdout))["mpg_prediction"][0]
    assert value == pytest.approx(predict(model, vehicle).mpg[0], abs=1e-3)


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["predict"], ["--input FILE"]),
        (["predict", "--input", "nowhere.csv"], ["nowhere.csv", "cannot be read"]),
        (["predict", "--weight", "-5", "--cylinders", "4", "--displacement", "100", "--horsepower", "80",
          "--acceleration", "15", "--model-year", "80", "--origin", "1"], ["options, Weight", "must be between 800"]),
        (["predict", "--weight", "2000", "--cylinders", "4", "--displacement", "100", "--horsepower", "80",
          "--acceleration", "15", "--model-year", "80"], ["options, Origin: is missing"]),
        (["evaluate", "--model", "no/such/dir"], ["model.json", "mpg train"]),
        (["train", "--data", "no/such.csv"], ["no/such.csv", "cannot be read"]),
        (["frobnicate"], ["invalid choice"]),
        (["predict", "--input", "x.csv", "--weight", "3"], ["not both"]),
    ],
    ids=["no-input", "missing-file", "negative", "missing-field", "no-model", "no-data", "bad-command", "both"],
)  # fmt: skip
def test_user_errors_are_one_line_exit_2(args, needles):
    assert_user_error(run(*args, check=False), *needles)


def test_every_problem_of_the_options_is_a_line_the_wrong_value_first():
    result = run("predict", "--weight", "heavy", "--cylinders", "99", check=False)
    missing = [config.DISPLACEMENT, config.HORSEPOWER, config.ACCELERATION, config.MODEL_YEAR, config.ORIGIN]
    assert_user_error(result, "options, Cylinders: must be between 1 and 16 (count), got 99", lines=7)
    assert result.stderr.splitlines()[1:] == [
        "error: options, Weight: must be a number, got 'heavy'",
        *(f"error: options, {name}: is missing" for name in missing),
    ]


def test_a_file_missing_columns_names_each_on_its_line(tmp_path):
    source = tmp_path / "cars.csv"
    source.write_text("Cylinders,Weight\n4,2000\n")
    result = run("predict", "--input", str(source), check=False)
    names = [config.DISPLACEMENT, config.HORSEPOWER, config.ACCELERATION, config.MODEL_YEAR, config.ORIGIN]
    assert_user_error(result, lines=5)
    assert result.stderr.splitlines() == [f"error: {source}, {name}: column is missing" for name in names]


def test_a_file_with_bad_rows_keeps_every_row_and_exits_1(tmp_path, vehicle, model):
    source, target = tmp_path / "cars.csv", tmp_path / "out.csv"
    rows = [vehicle, {**vehicle, "Origin": "Atlantis"}, {**vehicle, "Horsepower": None}, {**vehicle, "Weight": "x"}]
    pd.DataFrame(rows).to_csv(source, index=False)  # None becomes an empty cell: unknown
    result = run("predict", "--input", str(source), "--output", str(target), check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"predicted 2 of 4 rows; 2 refused (see the problem column) to {target}"
    ]
    out = pd.read_csv(target, keep_default_na=False)
    assert out["problem"].tolist() == [
        "",
        "Origin: must be 1, 2, 3, USA, Europe or Japan, got 'Atlantis'",
        "",
        "Weight: must be a number, got 'x'",
    ]
    assert out["mpg_prediction"].tolist()[1::2] == ["", ""]
    fill = model.card.inputs.features[config.HORSEPOWER].fill
    assert out["warnings"][2] == f"Horsepower unknown: training median {fill:g} hp used"
    assert float(out["mpg_prediction"][2]) == pytest.approx(
        predict(model, {**vehicle, "Horsepower": fill}).mpg[0], abs=1e-3
    )


@pytest.mark.parametrize(
    ("text", "name", "needles"),
    [
        ("", "cars.csv", ["cars.csv", "the file is empty"]),
        ("Cylinders,Weight\n4,2000\n", "cars.csv", ["cars.csv", "Displacement: column is missing"]),
        ("{not json", "cars.json", ["cars.json", "not valid JSON"]),
        ("\x00\x01binary", "cars.csv", ["not a CSV or JSON file"]),
        ('{"Cylinders": [4, 4], "Weight": [1]}', "cars.json", ["same length"]),
    ],
    ids=["empty", "column-missing", "bad-json", "binary", "unequal-columns"],
)
def test_an_unusable_file_exits_2(tmp_path, text, name, needles):
    source = tmp_path / name
    source.write_text(text)
    lines = 5 if "column is missing" in needles[-1] else 1  # every missing column on its line
    assert_user_error(run("predict", "--input", str(source), check=False), *needles, lines=lines)


def test_too_many_rows_exits_2(tmp_path, vehicle):
    source = tmp_path / "cars.csv"
    pd.DataFrame([vehicle] * (MAX_ROWS + 1)).to_csv(source, index=False)
    assert_user_error(run("predict", "--input", str(source), check=False), "at most 10000")


def test_a_single_json_object_and_any_name_style(tmp_path, vehicle, model):
    source = tmp_path / "car.json"
    source.write_text(json.dumps({"CYLINDERS": 4, "displacement": 108, "Horsepower": 75, "weight": 2350,
                                  "acceleration": 16.8, "model year": 1981, "origin": "japan"}))  # fmt: skip
    result = run("predict", "--input", str(source))
    assert pd.read_csv(io.StringIO(result.stdout))["mpg_prediction"][0] == pytest.approx(
        predict(model, vehicle).mpg[0], abs=1e-3
    )
    assert result.stderr.strip() == "predicted 1 of 1 rows"


def test_formulas_in_user_text_are_neutralised_numbers_untouched(tmp_path, vehicle):
    source, target = tmp_path / "cars.csv", tmp_path / "out.csv"
    names = ['=HYPERLINK("http://x","y")', "+cmd", "-2+3", "@SUM(A1)", "\tTab", "ford pinto"]
    frame = pd.DataFrame([{**vehicle, "Car Name": name, "note": -5} for name in names])
    frame.to_csv(source, index=False)
    run("predict", "--input", str(source), "--output", str(target))
    out = pd.read_csv(target, keep_default_na=False, dtype=str)
    assert out["Car Name"].tolist() == ["'" + n for n in names[:-1]] + ["ford pinto"]
    assert set(out["note"]) == {"-5"}
    assert not out["mpg_prediction"].str.startswith("'").any()


def test_train_rejects_bad_data_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("MPG,Cylinders\n1,2\n")
    result = run("train", "--data", str(bad), "--out", str(tmp_path / "m"), check=False)
    assert_user_error(result, "bad.csv, Displacement: is missing", lines=6)  # each missing column on its line
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_train_gives_the_committed_model(tmp_path, model, auto_mpg):
    # One training run, compared with the committed model: the same commit gives the same model, byte for byte.
    result = run("train", "--out", str(tmp_path))
    assert "chosen:" in result.stderr and "CV RMSE" in result.stdout
    card = load_model(tmp_path).card
    assert card.model == card.selection.chosen == model.card.model
    assert card.model_sha256 == model.card.model_sha256  # the pickled Pipeline is byte-identical
    # The figures agree to rounding: numpy's SIMD sums differ by CPU in the last bit (seen: 2.3531654552071997 on
    # the machine that trained the committed model, 2.3531654552072006 here, from the same pipeline and rows).
    assert card.metrics.model_dump() == pytest.approx(model.card.metrics.model_dump(), rel=1e-12)
    assert card.selection.equals == model.card.selection.equals
    for new, committed in zip(card.leaderboard, model.card.leaderboard, strict=True):
        assert new.name == committed.name and new.cv_rmse_folds == pytest.approx(committed.cv_rmse_folds, rel=1e-12)
    # skl2onnx names graph nodes differently per process, so compare what the two graphs compute
    X = auto_mpg[config.FEATURES].to_numpy()
    np.testing.assert_array_equal(load_model(tmp_path).compiled.predict(X), model.compiled.predict(X))
