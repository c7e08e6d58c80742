"""Saving the fitted Pipeline with its compiled form and model card; loading what each user needs, checked."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from mpg import config
from mpg.artifact.card import ModelCard, card_json, read_card
from mpg.artifact.runtime import CompiledModel, CompileError

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

# scikit-learn, skl2onnx and joblib are imported where the Pipeline is used: serving never loads them.
RETRAIN_HINT = "retrain it with `mpg train` (.venv/bin/mpg after make)"


class ModelLoadError(RuntimeError):
    """The model files are missing, altered, or were written by another scikit-learn."""


@dataclass
class LoadedModel:
    """What serving runs: the compiled (ONNX) pipeline and its model card. No scikit-learn object."""

    compiled: CompiledModel
    card: ModelCard
    directory: Path

    @property
    def version(self) -> str:
        return self.card.version


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _atomic_write(path: Path, write) -> None:
    # Write beside the target then rename, so a crash never leaves half a model.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; the model is meant to be read by servers
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def save_model(pipeline: Pipeline, fields: dict, directory: str | Path = config.MODELS_DIR) -> ModelCard:
    """Write model.joblib, model.onnx and model.json (versions, sha256s added), or none if export or the card fails."""
    import joblib

    from mpg.artifact.export import export_onnx

    directory = Path(directory)
    onnx_bytes = export_onnx(pipeline)
    libraries = ("scikit-learn", "numpy", "pandas", "joblib")
    versions = {"python": platform.python_version()} | {name: importlib.metadata.version(name) for name in libraries}
    card = ModelCard.model_validate({**fields, "versions": versions, "model_sha256": "", "onnx_sha256": ""})
    directory.mkdir(parents=True, exist_ok=True)
    model_path, onnx_path = directory / config.MODEL_FILE, directory / config.ONNX_FILE
    _atomic_write(model_path, lambda p: joblib.dump(pipeline, p, compress=3))
    _atomic_write(onnx_path, lambda p: p.write_bytes(onnx_bytes))
    card = card.model_copy(update={"model_sha256": file_sha256(model_path), "onnx_sha256": file_sha256(onnx_path)})
    _atomic_write(directory / config.METADATA_FILE, lambda p: p.write_text(card_json(card), encoding="utf-8"))
    return card


def _checked(path: Path, digest: str) -> bytes:
    if not path.is_file():
        raise ModelLoadError(f"{path}: no such file; {RETRAIN_HINT}")
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != digest:
        raise ModelLoadError(f"{path}: sha256 {actual[:12]}… does not match {config.METADATA_FILE} ({digest[:12]}…); "
                             f"refusing to load a file we did not write; {RETRAIN_HINT}")  # fmt: skip
    return data


def served_directory(environ: Mapping[str, str]) -> Path:
    """Where the API, the app and the monitor find the model: MODEL_DIR (`mpg train --out`), else models/."""
    return Path(environ.get("MODEL_DIR") or config.MODELS_DIR)


def load_card(directory: str | Path = config.MODELS_DIR) -> ModelCard:
    """Read and check models/model.json (its own sha256 included)."""
    path = Path(directory) / config.METADATA_FILE
    if not path.is_file():
        raise ModelLoadError(f"{path}: no such file; {RETRAIN_HINT}")
    try:
        return read_card(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        if isinstance(exc, ValidationError):  # name the first bad field, not pydantic's whole report
            first = exc.errors()[0]
            reason = f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
        else:
            reason = str(exc).splitlines()[0]
        raise ModelLoadError(f"{path}: not a valid model card ({reason}); {RETRAIN_HINT}") from None


def load_model(directory: str | Path = config.MODELS_DIR) -> LoadedModel:
    """What serving loads (not model.joblib: no scikit-learn): model.json and model.onnx, checked by sha256, and
    the graph run once, so one this ONNX Runtime cannot run fails here. Call it in the process that predicts."""
    directory = Path(directory)
    card = load_card(directory)
    onnx_path = directory / config.ONNX_FILE
    compiled = CompiledModel(_checked(onnx_path, card.onnx_sha256))
    try:
        compiled.warm_up()
    except CompileError as exc:
        raise ModelLoadError(f"{onnx_path}: {exc}") from None
    return LoadedModel(compiled, card, directory)


def load_pipeline(directory: str | Path = config.MODELS_DIR) -> Pipeline:
    """The fitted Pipeline (training, evaluation, tests), checked by sha256 and refused under another scikit-learn."""
    import joblib
    import sklearn

    directory = Path(directory)
    card = load_card(directory)
    path = directory / config.MODEL_FILE
    _checked(path, card.model_sha256)
    trained_with = card.versions.get("scikit-learn")
    if trained_with != sklearn.__version__:
        raise ModelLoadError(
            f"{path}: trained with scikit-learn {trained_with}, this is {sklearn.__version__}; {RETRAIN_HINT}"
        )
    return joblib.load(path)
