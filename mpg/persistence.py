"""Saving and loading the one fitted Pipeline, with its metadata and an integrity check."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.pipeline import Pipeline

from mpg import config
from mpg.compiled import CompiledModel, export_onnx

RETRAIN_HINT = "retrain it with `python -m mpg train`"


class ModelLoadError(RuntimeError):
    """The model files are missing, altered, or were written by another scikit-learn."""


@dataclass
class LoadedModel:
    """The fitted pipeline, its compiled (ONNX) form that every surface predicts with, and its metadata."""

    pipeline: Pipeline
    compiled: CompiledModel
    metadata: dict
    directory: Path

    @property
    def version(self) -> str:
        return self.metadata["model_sha256"][:12]

    @cached_property
    def training_range(self) -> tuple[np.ndarray, np.ndarray]:
        """Per numeric feature, the training minimum and maximum (feature order)."""
        features = self.metadata["schema"]["features"]
        low = np.array([features[name]["train_min"] for name in config.NUMERIC_FEATURES])
        high = np.array([features[name]["train_max"] for name in config.NUMERIC_FEATURES])
        return low, high


def library_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "joblib": joblib.__version__,
    }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def save_model(pipeline: Pipeline, metadata: dict, directory: str | Path = config.MODELS_DIR) -> dict:
    """Write model.joblib, model.onnx and model.json (versions and sha256s added); returns the metadata."""
    directory = Path(directory)
    onnx_bytes = export_onnx(pipeline)  # first: a model that cannot be compiled is not saved at all
    directory.mkdir(parents=True, exist_ok=True)
    model_path, onnx_path = directory / config.MODEL_FILE, directory / config.ONNX_FILE
    _atomic_write(model_path, lambda p: joblib.dump(pipeline, p, compress=3))
    _atomic_write(onnx_path, lambda p: p.write_bytes(onnx_bytes))
    full = {
        **metadata,
        "versions": library_versions(),
        "model_sha256": file_sha256(model_path),
        "onnx_sha256": file_sha256(onnx_path),
    }
    text = json.dumps(full, indent=2, default=_json_default) + "\n"
    _atomic_write(directory / config.METADATA_FILE, lambda p: p.write_text(text, encoding="utf-8"))
    return full


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def load_model(directory: str | Path = config.MODELS_DIR) -> LoadedModel:
    """Load a model we wrote: checks both files' sha256 before using them, and the scikit-learn version."""
    directory = Path(directory)
    model_path, onnx_path = directory / config.MODEL_FILE, directory / config.ONNX_FILE
    meta_path = directory / config.METADATA_FILE
    for path in (model_path, onnx_path, meta_path):
        if not path.is_file():
            raise ModelLoadError(f"{path}: no such file; {RETRAIN_HINT}")
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
        expected = {model_path: str(metadata["model_sha256"]), onnx_path: str(metadata["onnx_sha256"])}
        trained_with = metadata["versions"]["scikit-learn"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"{meta_path}: not valid model metadata ({exc}); {RETRAIN_HINT}") from None
    for path, digest in expected.items():
        actual = file_sha256(path)
        if actual != digest:
            raise ModelLoadError(
                f"{path}: sha256 {actual[:12]}… does not match {meta_path.name} ({digest[:12]}…); "
                f"refusing to load a file we did not write; {RETRAIN_HINT}"
            )
    if trained_with != sklearn.__version__:
        raise ModelLoadError(
            f"{model_path}: trained with scikit-learn {trained_with}, this is {sklearn.__version__}; {RETRAIN_HINT}"
        )
    return LoadedModel(joblib.load(model_path), CompiledModel(onnx_path.read_bytes()), metadata, directory)
