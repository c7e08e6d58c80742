"""Saving and loading: round trip, tampering and version mismatch are refused with a retrain hint."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from mpg import config
from mpg.persistence import ModelLoadError, load_model


@pytest.fixture()
def model_copy(small_model_dir, tmp_path):
    target = tmp_path / "model"
    shutil.copytree(small_model_dir, target)
    return target


def test_round_trip_predicts_identically(small_model, split, model_copy):
    _, test = split
    reloaded = load_model(model_copy)
    np.testing.assert_array_equal(
        reloaded.pipeline.predict(test[config.FEATURES]), small_model.pipeline.predict(test[config.FEATURES])
    )
    assert reloaded.metadata["model_sha256"] == small_model.metadata["model_sha256"]


def test_tampered_model_is_refused(model_copy):
    path = model_copy / config.MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match=r"does not match.*python -m mpg train"):
        load_model(model_copy)


def test_tampered_onnx_is_refused(model_copy):
    path = model_copy / config.ONNX_FILE
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ModelLoadError, match=r"model\.onnx: sha256 .* does not match"):
        load_model(model_copy)


def test_other_scikit_learn_version_is_refused(model_copy):
    meta_path = model_copy / config.METADATA_FILE
    meta = json.loads(meta_path.read_text())
    meta["versions"]["scikit-learn"] = "0.23.2"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match=r"scikit-learn 0\.23\.2.*python -m mpg train"):
        load_model(model_copy)


def test_missing_files_are_reported(tmp_path):
    with pytest.raises(ModelLoadError, match=r"model.joblib: no such file; retrain"):
        load_model(tmp_path)


def test_corrupt_metadata_is_reported(model_copy):
    (model_copy / config.METADATA_FILE).write_text("{not json")
    with pytest.raises(ModelLoadError, match="not valid model metadata"):
        load_model(model_copy)


def test_committed_files_are_world_readable(model):
    for name in (config.MODEL_FILE, config.ONNX_FILE, config.METADATA_FILE):
        assert (model.directory / name).stat().st_mode & 0o444 == 0o444
