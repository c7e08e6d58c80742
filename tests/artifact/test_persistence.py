"""Saving and loading: serving reads only model.onnx and model.json, both checked; the Pipeline only when asked."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from mpg import config
from mpg.artifact.store import ModelLoadError, load_model, load_pipeline


@pytest.fixture()
def model_copy(small_model_dir, tmp_path):
    target = tmp_path / "model"
    shutil.copytree(small_model_dir, target)
    return target


def test_round_trip_predicts_identically(small_model, split, model_copy):
    _, test = split
    reloaded = load_model(model_copy)
    X = test[config.FEATURES].to_numpy()
    np.testing.assert_array_equal(reloaded.compiled.predict(X), small_model.compiled.predict(X))
    np.testing.assert_array_equal(
        load_pipeline(model_copy).predict(test[config.FEATURES]),
        load_pipeline(small_model.directory).predict(test[config.FEATURES]),
    )
    assert reloaded.card == small_model.card


def test_serving_starts_and_predicts_without_the_pipeline(model_copy, vehicle):
    (model_copy / config.MODEL_FILE).unlink()
    model = load_model(model_copy)
    assert model.compiled.predict(np.array([list(vehicle.values())], dtype=np.float64)).shape == (1,)
    with pytest.raises(ModelLoadError, match=r"model.joblib: no such file; retrain"):
        load_pipeline(model_copy)


def test_the_api_serves_without_the_pipeline_file(model_copy, vehicle):
    from api import create_app

    (model_copy / config.MODEL_FILE).unlink()
    client = create_app(config={"MODEL_DIR": model_copy}).test_client()
    assert client.get("/health").status_code == 200
    response = client.post("/predict", json=vehicle)
    assert response.status_code == 200 and len(response.json["mpg_prediction"]) == 1


@pytest.mark.slow  # a fresh interpreter
def test_serving_never_imports_scikit_learn(small_model_dir):
    code = (
        "import sys; from mpg.artifact.store import load_model; from mpg.prediction import predict_table;"
        f"m = load_model({str(small_model_dir)!r});"
        "predict_table(m, [{'cylinders': 4, 'displacement': 100, 'horsepower': 80, 'weight': 2300,"
        " 'acceleration': 15, 'model_year': 80, 'origin': 'Japan'}]);"
        "print('sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=config.PROJ_ROOT)
    assert out.stdout.strip() == "False"


def test_tampered_pipeline_is_refused(model_copy):
    path = model_copy / config.MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    load_model(model_copy)  # serving does not read it
    with pytest.raises(ModelLoadError, match=r"does not match.*mpg train"):
        load_pipeline(model_copy)


def test_tampered_onnx_is_refused(model_copy):
    path = model_copy / config.ONNX_FILE
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ModelLoadError, match=r"model\.onnx: sha256 .* does not match"):
        load_model(model_copy)


@pytest.mark.parametrize(
    "change",
    [
        lambda card: card["metrics"].update(test_rmse=1.0),  # a flattering figure
        lambda card: card["interval"].update(q=0.01),  # a narrower band
        lambda card: card.update(onnx_sha256="0" * 64),
    ],
    ids=["metrics", "interval", "hash"],
)
def test_tampered_card_is_refused(model_copy, change):
    path = model_copy / config.METADATA_FILE
    card = json.loads(path.read_text())
    change(card)
    path.write_text(json.dumps(card))
    with pytest.raises(ModelLoadError, match=r"model\.json: not a valid model card \(.*altered\)"):
        load_model(model_copy)


def resign(directory, change) -> None:
    """Change model.json and sign it again, as a trainer would: the card's own hash then matches."""
    from mpg.artifact.card import canonical_sha256

    path = directory / config.METADATA_FILE
    card = json.loads(path.read_text())
    del card["card_sha256"]
    change(card)
    path.write_text(json.dumps({**card, "card_sha256": canonical_sha256(card)}))


def test_card_with_a_wrong_type_is_refused_with_its_field(model_copy):
    resign(model_copy, lambda card: card["interval"].update(q="wide"))
    with pytest.raises(ModelLoadError, match=r"not a valid model card .*interval"):
        load_model(model_copy)


def test_other_scikit_learn_version_stops_only_the_pipeline(model_copy):
    resign(model_copy, lambda card: card["versions"].update({"scikit-learn": "0.23.2"}))
    assert load_model(model_copy).version  # serving does not care
    with pytest.raises(ModelLoadError, match=r"scikit-learn 0\.23\.2.*mpg train"):
        load_pipeline(model_copy)


def test_a_graph_onnx_runtime_cannot_run_stops_at_start(model_copy):
    import onnx

    from mpg.artifact.store import file_sha256

    path = model_copy / config.ONNX_FILE
    graph = onnx.load(path)
    graph.opset_import[0].version = 99  # an opset from the future
    onnx.save(graph, path)
    resign(model_copy, lambda card: card.update(onnx_sha256=file_sha256(path)))
    with pytest.raises(ModelLoadError, match=r"model\.onnx: ONNX Runtime [\d.]+ cannot run this graph: ") as info:
        load_model(model_copy)
    assert "\n" not in str(info.value)


def test_missing_files_are_reported(tmp_path):
    with pytest.raises(ModelLoadError, match=r"model.json: no such file; retrain"):
        load_model(tmp_path)


def test_corrupt_card_is_reported(model_copy):
    (model_copy / config.METADATA_FILE).write_text("{not json")
    with pytest.raises(ModelLoadError, match="not a valid model card"):
        load_model(model_copy)


def test_committed_files_are_world_readable(model):
    for name in (config.MODEL_FILE, config.ONNX_FILE, config.METADATA_FILE):
        assert (model.directory / name).stat().st_mode & 0o444 == 0o444
