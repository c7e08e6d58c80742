"""ONNX Runtime over the graph export.py made at training time: what every surface predicts with. It never fits."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnxruntime

from mpg import config

CHUNK_ROWS = 4096  # bounds the SVR kernel's [rows, support vectors] matrix
PARALLEL_ROWS = 2048
THREADS = 2


def one_thread_session(onnx_bytes: bytes):
    """An ONNX Runtime session on one thread (what each chunk of a prediction runs on)."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])


def gevent_threads():
    """Where gevent made threads greenlets, its pool of real threads (for ONNX Runtime's kernels, sqlite), else None."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("threading"):
        return None
    import gevent

    return gevent.get_hub().threadpool


class CompileError(RuntimeError):
    """The ONNX graph cannot be run here."""


class CompiledModel:
    """ONNX Runtime over the exported Pipeline; `predict` takes a float64 [n, 7] array.

    One thread per session: servers scale by processes, and threads only add latency to small requests. A batch of
    PARALLEL_ROWS or more runs in chunks side by side on THREADS threads (ONNX Runtime releases the GIL; under gevent,
    `gevent_threads`), each by the same kernels, so a row gets the same bits alone as in any batch. Session and
    threads are made in the process that predicts: neither survives a fork (inherited, a session aborted at exit)."""

    def __init__(self, onnx_bytes: bytes):
        self._bytes = onnx_bytes
        self._process: tuple[int, object, ThreadPoolExecutor] | None = None

    def _own(self) -> tuple[object, ThreadPoolExecutor]:
        if self._process is None or self._process[0] != os.getpid():
            threads = ThreadPoolExecutor(THREADS, thread_name_prefix="mpg-onnx")
            self._process = (os.getpid(), one_thread_session(self._bytes), threads)
        return self._process[1], self._process[2]

    def warm_up(self) -> None:
        """Make this process's session and run one car: a graph that cannot run here fails at start (CompileError)."""
        try:
            value = self._own()[0].run(None, {"X": np.full((1, len(config.FEATURES)), np.nan)})[0]
        except Exception as exc:  # onnxruntime raises its own exception types for every kind of failure
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
        # Equal chunks, a multiple of THREADS of them, none over CHUNK_ROWS: every thread gets the same work.
        count = THREADS * -(-len(X) // (THREADS * CHUNK_ROWS))
        size = -(-len(X) // count)
        chunks = [X[i : i + size] for i in range(0, len(X), size)]
        executor, threads = self._own()[1], gevent_threads()  # the session made here, before a chunk's thread asks
        if threads is None:
            return np.concatenate(list(executor.map(self._run, chunks)))
        # THREADS shares of the chunks: the event loop's thread runs the first share while gevent's real threads run
        # the others (running a chunk there, rather than handing all over, was 1.5 ms less for 10,000 cars; ad hoc).
        per = -(-len(chunks) // THREADS)
        later = [threads.spawn(self._run_each, chunks[k : k + per]) for k in range(per, len(chunks), per)]
        return np.concatenate(self._run_each(chunks[:per]) + [part for result in later for part in result.get()])

    def _run_each(self, chunks: list[np.ndarray]) -> list[np.ndarray]:
        return [self._run(chunk) for chunk in chunks]
