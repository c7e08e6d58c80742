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
from mpg.persistence import load_model
from mpg.predict import predict_mpg


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "mpg", *args], cwd=config.PROJ_ROOT, capture_output=True, text=True, timeout=300
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def assert_user_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


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
    assert list(out.columns) == [config.NAME, *config.FEATURES, "mpg_prediction", "mpg_lower", "mpg_upper"]
    assert (out["mpg_lower"] <= out["mpg_prediction"]).all() and (out["mpg_prediction"] <= out["mpg_upper"]).all()
    assert out[config.NAME].tolist() == cars[config.NAME].tolist()
    np.testing.assert_allclose(out["mpg_prediction"], predict_mpg(model, cars), atol=1e-3)


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
    assert value == pytest.approx(predict_mpg(model, vehicle)[0], abs=1e-3)


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["predict"], ["--input FILE"]),
        (["predict", "--input", "nowhere.csv"], ["nowhere.csv", "cannot be read"]),
        (["predict", "--weight", "-5", "--cylinders", "4", "--displacement", "100", "--horsepower", "80",
          "--acceleration", "15", "--model-year", "80", "--origin", "1"], ["Weight", "negative"]),
        (["predict", "--weight", "2000"], ["Cylinders", "missing"]),
        (["evaluate", "--model", "no/such/dir"], ["model.json", "python -m mpg train"]),
        (["train", "--data", "no/such.csv"], ["no/such.csv", "cannot be read"]),
        (["frobnicate"], ["invalid choice"]),
        (["predict", "--input", "x.csv", "--weight", "3"], ["not both"]),
    ],
    ids=["no-input", "missing-file", "negative", "missing-field", "no-model", "no-data", "bad-command", "both"],
)  # fmt: skip
def test_user_errors_are_one_line_exit_2(args, needles):
    assert_user_error(run(*args, check=False), *needles)


def test_bad_rows_in_input_file_name_row_and_column(tmp_path, vehicle):
    source = tmp_path / "cars.csv"
    pd.DataFrame([vehicle, {**vehicle, "Origin": "Atlantis"}]).to_csv(source, index=False)
    assert_user_error(run("predict", "--input", str(source), check=False), "cars.csv", "row 2", "Origin")


def test_train_rejects_bad_data_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("MPG,Cylinders\n1,2\n")
    assert_user_error(run("train", "--data", str(bad), "--out", str(tmp_path / "m"), check=False), "bad.csv")
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_train_gives_the_committed_model(tmp_path, model, auto_mpg):
    # One training run, compared with the committed model: the same commit gives the same model, byte for byte.
    result = run("train", "--out", str(tmp_path))
    assert "chosen:" in result.stderr and "CV RMSE" in result.stdout
    card = load_model(tmp_path).card
    assert card.model == card.selection.chosen == model.card.model
    assert card.model_sha256 == model.card.model_sha256  # the pickled Pipeline is byte-identical
    assert card.metrics == model.card.metrics
    assert card.selection.equals == model.card.selection.equals
    assert [r.cv_rmse_folds for r in card.leaderboard] == [r.cv_rmse_folds for r in model.card.leaderboard]
    # skl2onnx names graph nodes differently per process, so compare what the two graphs compute
    X = auto_mpg[config.FEATURES].to_numpy()
    np.testing.assert_array_equal(load_model(tmp_path).compiled.predict(X), model.compiled.predict(X))
