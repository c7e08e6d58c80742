"""The fitted Pipeline as one ONNX graph (training side: skl2onnx, which serving never imports).

The graph is ours where we own the piece (the preprocessing, the gallons-per-100-miles target,
the average, the RBF SVR) and skl2onnx's converters elsewhere. Precision follows scikit-learn's
own: preprocessing and the SVR in float64, trees and linear models fed a float32 cast
(scikit-learn's trees compare float32 inputs too). tests/artifact/test_compiled.py checks that
both paths agree within 0.01 MPG on every row of the data set.
"""

from __future__ import annotations

import numpy as np

from mpg import config

TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}


def _regressor(model, X, opv: int):
    """The regressor step over the float64 feature matrix `X`, as an ONNX expression with a float64 [n, 1] output.

    skl2onnx converts every estimator it has a converter for (OnnxSubEstimator); three pieces are ours.
    """
    from onnx import TensorProto
    from skl2onnx.algebra.onnx_operator import OnnxSubEstimator
    from skl2onnx.algebra.onnx_ops import OnnxCast, OnnxDiv, OnnxSum
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.ensemble import VotingRegressor
    from sklearn.svm import SVR

    from mpg.modeling.features import gallons_per_100_miles

    if isinstance(model, TransformedTargetRegressor):
        # skl2onnx has no converter for it; gallons_per_100_miles is its own inverse: MPG = 100 / prediction.
        if model.func is not gallons_per_100_miles or model.inverse_func is not gallons_per_100_miles:
            raise NotImplementedError("only the gallons-per-100-miles target has a converter")
        return OnnxDiv(np.array([100.0]), _regressor(model.regressor_, X, opv), op_version=opv)
    if isinstance(model, VotingRegressor):
        # skl2onnx's converter looks members up by type and knows no TransformedTargetRegressor. Sum, then
        # divide: elementwise, so a row's bits do not depend on its batch (ReduceMean's do, by 1e-14).
        if model.weights is not None:
            raise NotImplementedError("a weighted VotingRegressor has no converter here")
        members = [_regressor(member, X, opv) for member in model.estimators_]
        return OnnxDiv(OnnxSum(*members, op_version=opv), np.array([float(len(members))]), op_version=opv)
    if isinstance(model, SVR) and model.kernel == "rbf":
        # skl2onnx's SVMRegressor runs in float32 and its batched kernel shifts a row's value with its batch;
        # this float64 kernel matches libsvm and gives a row the same bits alone or in any batch (tested).
        return _rbf_svr(model, X, opv)
    # skl2onnx's own converter, fed float32 as scikit-learn feeds its trees.
    inner = OnnxSubEstimator(
        model, OnnxCast(X, to=TensorProto.FLOAT, op_version=opv), op_version=opv, input_types=[FloatTensorType()]
    )
    return OnnxCast(inner, to=TensorProto.DOUBLE, op_version=opv)


def _rbf_svr(model, X, opv: int):
    """sum_i a_i exp(-g |x - s_i|^2) + b in float64, as exp(2g x.s - g |s|^2 - g |x|^2): one MatMul, no [n, n_sv, d]."""
    from skl2onnx.algebra.onnx_ops import OnnxAdd, OnnxExp, OnnxMatMul, OnnxMul, OnnxReduceSum, OnnxReduceSumSquare

    support, gamma = model.support_vectors_.astype(np.float64), float(model._gamma)
    cross = OnnxMatMul(X, 2 * gamma * support.T, op_version=opv)
    rows = OnnxMul(OnnxReduceSumSquare(X, axes=[1], keepdims=1, op_version=opv), np.array([-gamma]), op_version=opv)
    exponent = OnnxAdd(OnnxAdd(cross, -gamma * (support**2).sum(axis=1)[None, :], op_version=opv), rows, op_version=opv)
    weighted = OnnxMul(OnnxExp(exponent, op_version=opv), model.dual_coef_.astype(np.float64), op_version=opv)
    total = OnnxReduceSum(weighted, np.array([1], dtype=np.int64), keepdims=1, op_version=opv)
    return OnnxAdd(total, model.intercept_.astype(np.float64), op_version=opv)


def _preprocess(preprocessor, X, opv: int):
    """The fitted ColumnTransformer as ONNX nodes over the [n, 7] float64 input, imputed, derived, scaled, one-hot."""
    from skl2onnx.algebra.onnx_ops import (
        OnnxCast,
        OnnxConcat,
        OnnxDiv,
        OnnxEqual,
        OnnxGather,
        OnnxIsNaN,
        OnnxSlice,
        OnnxSub,
        OnnxWhere,
    )

    (_, numeric, numeric_columns), (_, origin, origin_columns) = [
        t for t in preprocessor.transformers_ if t[0] != "remainder"
    ]
    if list(numeric_columns) != config.NUMERIC_FEATURES or list(origin_columns) != [config.ORIGIN]:
        raise NotImplementedError("the preprocessor's columns are not the ones build_preprocessor makes")
    impute, ratios, scale = (numeric.named_steps[s] for s in ("impute", "ratios", "scale"))
    origin_impute, onehot = origin.named_steps["impute"], origin.named_steps["onehot"]
    fill = np.concatenate([impute.statistics_, origin_impute.statistics_]).astype(np.float64)[None, :]
    X = OnnxWhere(OnnxIsNaN(X, op_version=opv), fill, X, op_version=opv)
    width = len(config.NUMERIC_FEATURES)

    def columns(first, last):
        bounds = [np.array([v], dtype=np.int64) for v in (first, last, 1)]
        return OnnxSlice(X, bounds[0], bounds[1], bounds[2], op_version=opv)

    numbers, codes = columns(0, width), columns(width, width + 1)
    tops, bottoms = (np.array([pair[k] for pair in ratios.ratio_indices_], dtype=np.int64) for k in (0, 1))
    derived = OnnxDiv(
        OnnxGather(numbers, tops, axis=1, op_version=opv),
        OnnxGather(numbers, bottoms, axis=1, op_version=opv),
        op_version=opv,
    )
    numbers = OnnxConcat(numbers, derived, axis=1, op_version=opv)
    scaled = OnnxDiv(
        OnnxSub(numbers, scale.mean_[None, :].astype(np.float64), op_version=opv),
        scale.scale_[None, :].astype(np.float64),
        op_version=opv,
    )
    # One-hot by equality with the categories: an unknown code matches none and gives zeros (handle_unknown="ignore").
    categories = np.asarray(onehot.categories_[0], dtype=np.float64)[None, :]
    encoded = OnnxCast(OnnxEqual(codes, categories, op_version=opv), to=11, op_version=opv)  # 11: DOUBLE
    return OnnxConcat(scaled, encoded, axis=1, op_version=opv)


def export_onnx(pipeline) -> bytes:
    """Convert the fitted Pipeline to one ONNX graph: input `X`, float64 [n, 7] in config.FEATURES order; output
    `mpg`, float64 [n, 1]."""
    from skl2onnx.algebra.onnx_ops import OnnxIdentity
    from skl2onnx.common.data_types import DoubleTensorType

    opv = TARGET_OPSET[""]
    features = _preprocess(pipeline.named_steps["preprocess"], "X", opv)
    mpg = OnnxIdentity(_regressor(pipeline.named_steps["model"], features, opv), op_version=opv, output_names=["mpg"])
    graph = mpg.to_onnx(
        inputs=[("X", DoubleTensorType([None, len(config.FEATURES)]))],
        outputs=[("mpg", DoubleTensorType([None, 1]))],
        target_opset=TARGET_OPSET,
    )
    return graph.SerializeToString()
