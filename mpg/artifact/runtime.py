"""ONNX Runtime over the graph export.py made at training time: what every surface predicts with. It never fits."""

from __future__ import annotations

import itertools
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnxruntime

from mpg import config

CHUNK_ROWS = 1024  # rows a call: 10,000 cars took 13.9 ms so, 15.8 in four chunks (ad hoc); bounds the SVR's matrix
PARALLEL_ROWS = 2048


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
    PARALLEL_ROWS or more runs in chunks on two threads side by side (ONNX Runtime releases the GIL; under gevent,
    `gevent_threads`), each taking the next chunk as it finishes one, so a thread slowed by other work (the log's
    writer) runs fewer; each by the same kernels, so a row gets the same bits alone as in any batch. Session and
    threads are made in the process that predicts: neither survives a fork (inherited, a session aborted at exit)."""

    def __init__(self, onnx_bytes: bytes):
        self._bytes = onnx_bytes
        self._process: tuple[int, object, ThreadPoolExecutor] | None = None

    def _own(self) -> tuple[object, ThreadPoolExecutor]:
        if self._process is None or self._process[0] != os.getpid():
            threads = ThreadPoolExecutor(1, thread_name_prefix="mpg-onnx")  # and the calling thread: two
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
        chunks = np.array_split(X, -(-len(X) // CHUNK_ROWS))  # equal, none over CHUNK_ROWS
        answers, taken = [None] * len(chunks), itertools.count()  # next(taken) is atomic under the GIL: chunks go once

        def take_chunks() -> None:
            while (i := next(taken)) < len(chunks):
                answers[i] = self._run(chunks[i])

        executor, threads = self._own()[1], gevent_threads()  # the session made here, before a chunk's thread asks
        # Under gevent, its real threads: the executor's are greenlets (`is None`: a ThreadPool's len is its tasks).
        other = executor.submit(take_chunks) if threads is None else threads.spawn(take_chunks)
        try:
            take_chunks()
        finally:  # a chunk failed here: the other thread still finishes before the next batch shares it
            other.result() if threads is None else other.get()
        return np.concatenate(answers)
