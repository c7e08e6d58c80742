"""The compiled (ONNX) path that every surface predicts with agrees with the scikit-learn Pipeline."""

from __future__ import annotations

import numpy as np

from mpg import config
from mpg.compiled import CompiledModel, export_onnx
from mpg.predict import predict_mpg


def test_onnx_agrees_with_pipeline_on_every_row(model, auto_mpg):
    X = auto_mpg[config.FEATURES]  # includes the 6 rows with missing horsepower
    reference = model.pipeline.predict(X)
    compiled = model.compiled.predict(X.to_numpy())
    assert np.isfinite(compiled).all()
    assert np.abs(compiled - reference).max() < 0.01


def test_predict_mpg_uses_the_compiled_path(model, auto_mpg):
    rows = auto_mpg.dropna().head(30)
    np.testing.assert_array_equal(predict_mpg(model, rows), model.compiled.predict(rows[config.FEATURES].to_numpy()))


def test_export_of_another_pipeline(small_model, auto_mpg):
    X = auto_mpg[config.FEATURES]
    compiled = CompiledModel(export_onnx(small_model.pipeline))
    assert np.abs(compiled.predict(X.to_numpy()) - small_model.pipeline.predict(X)).max() < 0.01
