"""The compiled inference path: the fitted Pipeline exported to ONNX and run by ONNX Runtime.

scikit-learn spends 3-20 ms of overhead per call on this Pipeline; ONNX Runtime
answers one row in well under 0.1 ms. Precision follows scikit-learn's own:
preprocessing in float64, every regressor fed a float32 cast (scikit-learn trees
compare float32 inputs too), so both paths agree within 0.001 MPG on every row
of the data set (tests/test_compiled.py).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from mpg import config

CHUNK_ROWS = 4096
PARALLEL_ROWS = 2048
THREADS = 2
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
MIN_OPSET = 13  # Slice, Gather and Where as _preprocess uses them


def _register_converters() -> None:
    """Teach skl2onnx our transformer, the gallons-per-100-miles target and a float64 imputer."""
    from onnx import TensorProto
    from skl2onnx import update_registered_converter
    from skl2onnx.algebra.onnx_operator import OnnxSubEstimator
    from skl2onnx.algebra.onnx_ops import (
        OnnxAdd,
        OnnxCast,
        OnnxConcat,
        OnnxDiv,
        OnnxExp,
        OnnxGather,
        OnnxIdentity,
        OnnxIsNaN,
        OnnxMatMul,
        OnnxMul,
        OnnxReduceSum,
        OnnxReduceSumSquare,
        OnnxSum,
        OnnxWhere,
    )
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.ensemble import VotingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.svm import SVR

    from mpg.features import RatioFeatures

    def dtype_of(variable):
        return np.float64 if isinstance(variable.type, DoubleTensorType) else np.float32

    def same_type(operator, width):
        source = operator.inputs[0].type
        operator.outputs[0].type = source.__class__([operator.inputs[0].get_first_dimension(), width])

    def convert_ratios(scope, operator, container):
        model, opv, X = operator.raw_operator, container.target_opset, operator.inputs[0]
        parts = [X]
        for numerator, denominator in model.ratio_indices_:
            top = OnnxGather(X, np.array([numerator], dtype=np.int64), axis=1, op_version=opv)
            bottom = OnnxGather(X, np.array([denominator], dtype=np.int64), axis=1, op_version=opv)
            parts.append(OnnxDiv(top, bottom, op_version=opv))
        OnnxConcat(*parts, axis=1, op_version=opv, output_names=operator.outputs[:1]).add_to(scope, container)

    def convert_imputer(scope, operator, container):
        # onnxruntime's Imputer has no float64 kernel; IsNaN + Where does the same in any precision.
        model, opv, X = operator.raw_operator, container.target_opset, operator.inputs[0]
        fill = np.asarray(model.statistics_, dtype=dtype_of(X)).reshape(1, -1)
        out = OnnxWhere(OnnxIsNaN(X, op_version=opv), fill, X, op_version=opv, output_names=operator.outputs[:1])
        out.add_to(scope, container)

    def convert_target(scope, operator, container):
        model, opv, X = operator.raw_operator, container.target_opset, operator.inputs[0]
        dtype = dtype_of(X)
        source, types = X, None
        if dtype == np.float64 and not isinstance(model.regressor_, SVR):  # as scikit-learn: trees see float32
            source, types = OnnxCast(X, to=TensorProto.FLOAT, op_version=opv), [FloatTensorType()]
        inner = OnnxSubEstimator(model.regressor_, source, op_version=opv, input_types=types)
        if types is not None:  # back to the input's precision
            inner = OnnxCast(inner, to=TensorProto.DOUBLE, op_version=opv)
        # gallons_per_100_miles is its own inverse: MPG = 100 / prediction
        out = OnnxDiv(np.array([100.0], dtype=dtype), inner, op_version=opv, output_names=operator.outputs[:1])
        out.add_to(scope, container)

    def convert_svr(scope, operator, container):
        # onnxruntime's SVMRegressor is float32 and its batched kernel shifts a row's value with its batch.
        # This float64 kernel matches libsvm to 1e-9 and gives a row the same bits alone or in any batch
        # (tests/test_model.py checks both).
        model, opv, X = operator.raw_operator, container.target_opset, operator.inputs[0]
        source = X if dtype_of(X) == np.float64 else OnnxCast(X, to=TensorProto.DOUBLE, op_version=opv)
        one = np.array([1], dtype=np.int64)
        if model.kernel == "rbf":
            # exp(-g |x - s|^2) = exp(2g x.s - g |s|^2 - g |x|^2): one float64 MatMul, no [n, n_sv, d] tensor.
            support, gamma = model.support_vectors_.astype(np.float64), float(model._gamma)
            cross = OnnxMatMul(source, 2 * gamma * support.T, op_version=opv)
            rows = OnnxMul(
                OnnxReduceSumSquare(source, axes=[1], keepdims=1, op_version=opv), np.array([-gamma]), op_version=opv
            )
            exponent = OnnxAdd(OnnxAdd(cross, -gamma * (support**2).sum(axis=1)[None, :], op_version=opv), rows,
                               op_version=opv)  # fmt: skip
            kernel = OnnxExp(exponent, op_version=opv)
            weights = model.dual_coef_.astype(np.float64)  # [1, n_sv]
        elif model.kernel == "linear":
            kernel, weights = source, model.coef_.astype(np.float64)
        else:
            raise NotImplementedError(f"SVR kernel {model.kernel!r} has no converter")
        total = OnnxReduceSum(OnnxMul(kernel, weights, op_version=opv), one, keepdims=1, op_version=opv)
        total = OnnxAdd(total, model.intercept_.astype(np.float64), op_version=opv)
        if dtype_of(X) == np.float32:
            total = OnnxCast(total, to=TensorProto.FLOAT, op_version=opv)
        OnnxIdentity(total, op_version=opv, output_names=operator.outputs[:1]).add_to(scope, container)

    def convert_voting(scope, operator, container):
        # Sum, then divide: elementwise, so a row's bits do not depend on its batch (ReduceMean's do, by 1e-14).
        model, opv, X = operator.raw_operator, container.target_opset, operator.inputs[0]
        members = [OnnxSubEstimator(member, X, op_version=opv) for member in model.estimators_]
        weights = np.ones(len(members)) if model.weights is None else np.asarray(model.weights, dtype=np.float64)
        if model.weights is not None:
            members = [
                OnnxMul(m, np.array([w], dtype=dtype_of(X)), op_version=opv)
                for m, w in zip(members, weights, strict=True)
            ]
        total = OnnxSum(*members, op_version=opv)
        out = OnnxDiv(
            total, np.array([weights.sum()], dtype=dtype_of(X)), op_version=opv, output_names=operator.outputs[:1]
        )
        out.add_to(scope, container)

    update_registered_converter(
        VotingRegressor, "MpgVotingRegressor", lambda op: same_type(op, 1), convert_voting, overwrite=True
    )
    update_registered_converter(SVR, "MpgSVR", lambda op: same_type(op, 1), convert_svr, overwrite=True)
    update_registered_converter(
        RatioFeatures,
        "MpgRatioFeatures",
        lambda op: same_type(op, op.inputs[0].type.shape[1] + len(op.raw_operator.ratio_indices_)),
        convert_ratios,
    )
    update_registered_converter(
        SimpleImputer,
        "SklearnImputer",
        lambda op: same_type(op, op.inputs[0].type.shape[1]),
        convert_imputer,
        overwrite=True,
    )
    update_registered_converter(
        TransformedTargetRegressor, "MpgGallonsPer100Miles", lambda op: same_type(op, 1), convert_target
    )


def _preprocess(preprocessor, X, opv: int):
    """The fitted ColumnTransformer as ~15 ONNX nodes over the [n, 7] input (skl2onnx's generic one takes ~30).

    Fewer nodes is less per-call overhead: what one-row latency is made of.
    """
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
    """Convert the fitted Pipeline to an ONNX graph: input `X`, float64 [n, 7] in config.FEATURES order.

    The preprocessing is our compact graph, the regressor skl2onnx's (with the
    converters above); the two are joined on the [n, 11] feature matrix.
    """
    from onnx.compose import add_prefix, merge_models
    from onnx.version_converter import convert_version
    from skl2onnx import convert_sklearn
    from skl2onnx.algebra.onnx_ops import OnnxIdentity
    from skl2onnx.common.data_types import DoubleTensorType

    _register_converters()
    preprocessor, regressor = pipeline.named_steps["preprocess"], pipeline.named_steps["model"]
    width = len(preprocessor.get_feature_names_out())
    back = convert_sklearn(
        regressor, initial_types=[("features", DoubleTensorType([None, width]))], target_opset=TARGET_OPSET
    )
    # skl2onnx picks the lowest opset the regressor needs; the preprocessing is built for that same one.
    opset = next(o.version for o in back.opset_import if o.domain in ("", "ai.onnx"))
    if opset < MIN_OPSET:
        back, opset = convert_version(back, MIN_OPSET), MIN_OPSET
    features = OnnxIdentity(_preprocess(preprocessor, "X", opset), op_version=opset, output_names=["features"])
    front = features.to_onnx(
        inputs=[("X", DoubleTensorType([None, len(config.FEATURES)]))],
        outputs=[("features", DoubleTensorType([None, width]))],
        target_opset=opset,
    )
    back.ir_version = front.ir_version = min(front.ir_version, back.ir_version)
    front = add_prefix(front, "preprocess/", rename_inputs=False, rename_outputs=False)
    merged = merge_models(front, back, io_map=[("features", "features")])
    unique = {(o.domain or "", o.version): o for o in merged.opset_import}  # merge_models repeats the default domain
    del merged.opset_import[:]
    merged.opset_import.extend(unique.values())
    return merged.SerializeToString()


class CompileError(RuntimeError):
    """The ONNX graph cannot be run here."""


class CompiledModel:
    """ONNX Runtime over the exported Pipeline; `predict` takes a float64 [n, 7] array.

    The session runs on one thread: servers scale by processes, and threads only
    add latency to small requests. A batch of PARALLEL_ROWS or more is split in
    chunks run side by side on THREADS Python threads (ONNX Runtime releases the
    GIL), each chunk by the same one-thread kernels, so a row gets the same bits
    alone as in any batch.

    The session and the threads are made in the process that predicts, on first
    use: gunicorn loads the model and then forks, and neither threads nor ONNX
    Runtime's state survive a fork (a worker that inherits a session aborts when
    it exits). The graph itself is checked here, at load time.
    """

    def __init__(self, onnx_bytes: bytes):
        self._bytes = onnx_bytes
        self._process: tuple[int, object, ThreadPoolExecutor] | None = None

    def _session(self):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(self._bytes, options, providers=["CPUExecutionProvider"])

    def _own(self) -> tuple[object, ThreadPoolExecutor]:
        if self._process is None or self._process[0] != os.getpid():
            self._process = (os.getpid(), self._session(), ThreadPoolExecutor(THREADS, thread_name_prefix="mpg-onnx"))
        return self._process[1], self._process[2]

    def warm_up(self) -> None:
        """Make this process's session now, and run one car: a graph this ONNX Runtime cannot run fails
        here, at start, with one line (CompileError), not at the first request.

        Not in a process that will fork (gunicorn's master): ONNX Runtime's state does not survive a fork.
        """
        try:
            value = self._own()[0].run(None, {"X": np.full((1, len(config.FEATURES)), np.nan)})[0]
        except Exception as exc:  # onnxruntime raises its own exception types for every kind of failure
            import onnxruntime

            self._process = None
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CompileError(f"ONNX Runtime {onnxruntime.__version__} cannot run this graph: {reason}") from None
        if value.shape != (1, 1) or not np.isfinite(value).all():
            raise CompileError(f"the graph answers {value.ravel()[:3]} of shape {value.shape} for one car")

    def _run(self, X: np.ndarray) -> np.ndarray:
        return self._own()[0].run(None, {"X": X})[0].ravel()

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64)
        if len(X) < PARALLEL_ROWS:
            return self._run(X)
        # Equal chunks, a multiple of THREADS of them, none over CHUNK_ROWS (which bounds the SVR kernel's
        # [rows, support vectors] matrix): every thread gets the same work.
        count = THREADS * -(-len(X) // (THREADS * CHUNK_ROWS))
        size = -(-len(X) // count)
        chunks = [X[i : i + size] for i in range(0, len(X), size)]
        return np.concatenate(list(self._own()[1].map(self._run, chunks)))
