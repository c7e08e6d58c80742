"""The fitted Pipeline as one ONNX graph (training side: skl2onnx, which serving never imports).

Converters are ours where skl2onnx has none (RatioFeatures, the gallons-per-100-miles target) or its own fails a
tested property (README, "One number everywhere"). Precision follows scikit-learn's: float64; trees compare float32."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper
from skl2onnx import convert_sklearn, update_registered_converter
from skl2onnx.algebra.onnx_operator import OnnxSubEstimator
from skl2onnx.algebra.onnx_ops import (
    OnnxAdd,
    OnnxCast,
    OnnxConcat,
    OnnxDiv,
    OnnxExp,
    OnnxGather,
    OnnxIsNaN,
    OnnxMatMul,
    OnnxMul,
    OnnxReduceSum,
    OnnxReduceSumSquare,
    OnnxWhere,
)
from skl2onnx.common._registration import get_converter
from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
from skl2onnx.common.shape_calculator import calculate_linear_regressor_output_shapes
from skl2onnx.operator_converters.common import concatenate_variables
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.svm import SVR
from sklearn.tree import DecisionTreeRegressor

from mpg import config
from mpg.modeling.features import RatioFeatures, gallons_per_100_miles


def _ratios_shape(operator):
    """RatioFeatures: [n, c] in, [n, c + one column per ratio] out, same element type."""
    rows, columns = operator.inputs[0].get_first_dimension(), operator.inputs[0].get_second_dimension()
    width = None if columns is None else columns + len(operator.raw_operator.ratio_indices_)
    operator.outputs[0].type = operator.inputs[0].type.__class__([rows, width])


def _ratios(scope, operator, container):
    """The input columns, then numerator / denominator for each ratio."""
    pairs, opv, X = operator.raw_operator.ratio_indices_, container.target_opset, operator.inputs[0]
    tops, bottoms = (np.array([pair[k] for pair in pairs], dtype=np.int64) for k in (0, 1))
    top, bottom = OnnxGather(X, tops, axis=1, op_version=opv), OnnxGather(X, bottoms, axis=1, op_version=opv)
    derived = OnnxDiv(top, bottom, op_version=opv)
    OnnxConcat(X, derived, axis=1, op_version=opv, output_names=operator.outputs[:1]).add_to(scope, container)


def _gallons_target(scope, operator, container):
    """TransformedTargetRegressor on gallons per 100 miles, its own inverse: MPG = 100 / prediction."""
    model, opv, X = operator.raw_operator, container.target_opset, operator.inputs[0]
    if model.func is not gallons_per_100_miles or model.inverse_func is not gallons_per_100_miles:
        raise NotImplementedError("only the gallons-per-100-miles target has a converter")
    # skl2onnx's extra trees fed float64 answer float32 (test_every_kind_of_candidate_exports_and_agrees, "average").
    prediction = OnnxCast(OnnxSubEstimator(model.regressor_, X, op_version=opv), to=TensorProto.DOUBLE, op_version=opv)
    hundred = np.array([100.0], dtype=np.float64)
    OnnxDiv(hundred, prediction, op_version=opv, output_names=operator.outputs[:1]).add_to(scope, container)


def _imputer(scope, operator, container):
    """NaN -> the fitted statistic, in float64."""
    # ONNX Runtime has no float64 Imputer kernel, and skl2onnx's fed float32 rounds every input: a random forest
    # then strays over 0.01 MPG from scikit-learn (test_skl2onnx_own_converter_fails_where_we_replace_it).
    opv, X = container.target_opset, concatenate_variables(scope, operator.inputs, container)
    fill = operator.raw_operator.statistics_.astype(np.float64)[None, :]
    filled = OnnxWhere(OnnxIsNaN(X, op_version=opv), fill, X, op_version=opv, output_names=operator.outputs[:1])
    filled.add_to(scope, container)


def _in_float32(scope, operator, container):
    """skl2onnx's own converter, fed float32 as scikit-learn feeds its trees."""
    # Fed float64, skl2onnx's trees do not compare as scikit-learn's (float32 input, float64 threshold): a tree, a
    # forest and boosting stray over 0.01 MPG (test_skl2onnx_own_converter_fails_where_we_replace_it).
    model, opv, X = operator.raw_operator, container.target_opset, operator.inputs[0]
    if isinstance(X.type, FloatTensorType):
        return get_converter(operator.type)(scope, operator, container)
    single = OnnxCast(X, to=TensorProto.FLOAT, op_version=opv)
    inner = OnnxSubEstimator(model, single, op_version=opv, input_types=[FloatTensorType(X.type.shape)])
    OnnxCast(inner, to=TensorProto.DOUBLE, op_version=opv, output_names=operator.outputs[:1]).add_to(scope, container)


def _svr(scope, operator, container):
    """An RBF SVR as our float64 kernel; any other kernel by skl2onnx's converter fed float32."""
    # skl2onnx's SVMRegressor has no float64 kernel, and in float32 shifts a row's value with its batch
    # (test_skl2onnx_own_converter_fails_where_we_replace_it); this float64 kernel matches libsvm and gives a row
    # the same bits alone or in any batch (test_every_kind_of_candidate_exports_and_agrees).
    model, opv, X = operator.raw_operator, container.target_opset, operator.inputs[0]
    if model.kernel != "rbf":
        return _in_float32(scope, operator, container)
    # sum_i a_i exp(-g |x - s_i|^2) + b, as exp(2g x.s - g |s|^2 - g |x|^2): one MatMul, no [n, n_sv, d] array.
    support, gamma = model.support_vectors_.astype(np.float64), float(model._gamma)
    cross = OnnxMatMul(X, 2 * gamma * support.T, op_version=opv)
    rows = OnnxMul(OnnxReduceSumSquare(X, axes=[1], keepdims=1, op_version=opv), np.array([-gamma]), op_version=opv)
    exponent = OnnxAdd(OnnxAdd(cross, -gamma * (support**2).sum(axis=1)[None, :], op_version=opv), rows, op_version=opv)
    weighted = OnnxMul(OnnxExp(exponent, op_version=opv), model.dual_coef_.astype(np.float64), op_version=opv)
    total = OnnxReduceSum(weighted, np.array([1], dtype=np.int64), keepdims=1, op_version=opv)
    bias = model.intercept_.astype(np.float64)
    OnnxAdd(total, bias, op_version=opv, output_names=operator.outputs[:1]).add_to(scope, container)


def _replaced() -> dict:
    """The stock converters replaced for this conversion only (skl2onnx's own stay as they are elsewhere)."""
    trees = (DecisionTreeRegressor, RandomForestRegressor, GradientBoostingRegressor)
    return {SimpleImputer: _imputer, SVR: _svr, **dict.fromkeys(trees, _in_float32)}


def export_onnx(pipeline) -> bytes:
    """The fitted Pipeline as one ONNX graph: input `X`, float64 [n, 7] in FEATURES order; output `mpg`, [n, 1]."""
    # skl2onnx learns our transformer and our target (VotingRegressor's converter finds members by type).
    update_registered_converter(RatioFeatures, "MpgRatioFeatures", _ratios_shape, _ratios)
    update_registered_converter(TransformedTargetRegressor, "MpgGallonsPer100Miles",
                                calculate_linear_regressor_output_shapes, _gallons_target)  # fmt: skip
    # The ColumnTransformer picks columns by name, so skl2onnx makes one graph input per column (" " written "_");
    # serving passes one [n, 7] array `X`, which the graph opens by splitting: in order, or it would mislabel them.
    graph = convert_sklearn(
        pipeline,
        initial_types=[(name, DoubleTensorType([None, 1])) for name in config.FEATURES],
        final_types=[("mpg", DoubleTensorType([None, 1]))],
        target_opset={"": 17, "ai.onnx.ml": 3},
        custom_conversion_functions=_replaced(),
    )
    columns = [variable.name for variable in graph.graph.input]
    if columns != [name.replace(" ", "_") for name in config.FEATURES]:
        raise ValueError(f"skl2onnx's graph inputs {columns} are not in feature order {config.FEATURES}")
    del graph.graph.input[:]
    graph.graph.input.append(helper.make_tensor_value_info("X", TensorProto.DOUBLE, [None, len(columns)]))
    graph.graph.node.insert(0, helper.make_node("Split", ["X"], columns, axis=1, name="columns"))
    return graph.SerializeToString()
