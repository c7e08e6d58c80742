"""The prediction log's writer: `record` only enqueues; a thread writes to the database (mpg.monitoring.table).

`PredictionLog.from_env(os.environ)` reads `PREDICTION_LOG=off`, `DATABASE_URL` and the retention limits
`PREDICTION_LOG_MAX_DAYS` (30) and `PREDICTION_LOG_MAX_ROWS` (1,000,000 cars in all; 0: no limit), which a pass in a
child process applies every 10 minutes (mpg.monitoring.retention), never a request. `record` adds a request's arrays to
a list bounded in memory (16 MB) and returns; a daemon thread, started by the first `record` in each process (gunicorn
forks after building the app), writes them every second or every 100 cars. When the list is full or the database
slow, down or unwritable, cars are dropped, counted in `mpg_prediction_log_dropped_total{reason}` and logged once a
minute at most. The API records once per request, after building its response; gunicorn.conf.py's `worker_exit`
calls `close`, as does `atexit`.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from prometheus_client import Counter
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from mpg.artifact.runtime import gevent_threads
from mpg.monitoring import table
from mpg.monitoring.batch import Batch
from mpg.monitoring.retention import run_pass
from mpg.monitoring.table import connect, create_schema, database_url

log = logging.getLogger(__name__)
DROPPED = Counter("mpg_prediction_log_dropped", "Predictions not logged: queue full or write failed", ["reason"])
WRITTEN = Counter("mpg_prediction_log_written", "Predictions written to the prediction log")
LOG_EVERY = 60.0  # seconds between two log lines about drops
T = TypeVar("T")


def _ready_engine(url: str, timeout: float) -> Engine:
    engine = connect(url, timeout=timeout)
    create_schema(engine)
    return engine


# Cars: a request of up to this many is made `predictions` rows by `record` itself (Batch.small_rows, a few
# microseconds); a bigger one is one `prediction_batches` row, made by the writer (mpg.monitoring.table).
SMALL_BATCH = 10


def _write(engine: Engine, items: Sequence[Batch | list[tuple]], stored_time: Callable) -> int:
    """Write what was recorded, in one transaction: small batches made rows, and big batches; returns the cars."""
    rows = [row for item in items if isinstance(item, list) for row in item]
    requests = [item.batch_row(stored_time) for item in items if isinstance(item, Batch)]
    with engine.begin() as connection:
        for into, values in ((table.predictions, rows), (table.batches, requests)):
            if values:
                table.insert_rows(connection, values, into)
    return sum(map(len, items))  # a list's rows, a batch's cars


def _stored_time(url: str | None) -> Callable | None:
    """How the database at `url` takes a time (table.stored_time), None if its URL or driver is not usable here:
    then the writer meets the same problem, and counts the drops."""
    try:
        return table.stored_time(make_url(url).get_dialect()()) if url else None
    except Exception:
        return None


def off_the_event_loop(function: Callable[..., T], *args, **kwargs) -> T:
    """Call `function` in gevent's pool of real threads when gevent has made threads greenlets, else here.

    Under the gevent worker the writer is a greenlet on the thread that serves every request, and sqlite3 waits in
    C (a locked database, up to its timeout), which would stop them all."""
    pool = gevent_threads()
    if pool is None:
        return function(*args, **kwargs)

    def outcome() -> tuple[Exception | None, T | None]:
        # Returned, not raised: gevent's pool prints the traceback of a task that raises (to stderr, parameters
        # and all) before the caller sees the exception; the writer reports failures itself, once a minute.
        try:
            return None, function(*args, **kwargs)
        except Exception as exc:
            return exc, None

    error, value = pool.apply(outcome)
    if error is not None:
        raise error
    return value


ROW_BYTES, WARNING_BYTES, BATCH_BYTES = 750, 300, 1000  # tracemalloc: a made row 580, a warning 229, a Batch 800


def _nbytes(item: Batch | list[tuple]) -> int:
    """The memory a queued item holds: its arrays and warnings, or its rows and their JSON (checked by tracemalloc)."""
    if isinstance(item, Batch):
        arrays = sum(array.nbytes for array in (item.X, item.predictions, item.lower, item.upper))
        return BATCH_BYTES + arrays + WARNING_BYTES * len(item.warnings)  # BATCH_BYTES: the object, its arrays' headers
    return sum(ROW_BYTES + len(row[-1] or "") for row in item)  # a row ends with its warnings' JSON, or None


class _Pending:
    """The batches waiting for the writer, bounded in memory, not cars: 20,000 cars held two requests of 10,000, and a
    writer held up a moment dropped the third. A list under a lock, which the writer takes whole: a queue's `get` per
    batch cost the serving thread 0.5 ms per 500 (ad hoc)."""

    def __init__(self, limit: int):
        self.limit, self.rows, self.bytes = limit, 0, 0
        self._batches: list[Batch | list[tuple]] = []
        self._lock = threading.Lock()

    def put(self, batch: Batch | list[tuple]) -> bool:
        """Add a batch unless the bound is reached (then at most one request over it); False if not added."""
        with self._lock:
            if self.bytes >= self.limit:
                return False
            self._batches.append(batch)
            self.rows += len(batch)
            self.bytes += _nbytes(batch)
            return True

    def take(self) -> list[Batch | list[tuple]]:
        with self._lock:
            batches, self._batches, self.rows, self.bytes = self._batches, [], 0, 0
        return batches


class PredictionLog:
    """Records served predictions into the database at `url` (None: a log that records nothing)."""

    def __init__(
        self,
        url: str | None,
        *,
        max_days: int = 30,
        max_rows: int = 1_000_000,
        queue_bytes: int = 16_000_000,  # 20,000 cars of small requests or 200,000 of big ones; flushed every second
        batch_rows: int = 100,  # small writes, often, so a request waits less for the GIL (ad hoc; see bench peers)
        flush_seconds: float = 1.0,
        retention_seconds: float = 600.0,
        timeout: float = 5.0,
    ):
        self.url = url
        self.max_days, self.max_rows = max_days, max_rows
        self.queue_bytes, self.batch_rows, self.flush_seconds = queue_bytes, batch_rows, flush_seconds
        self.retention_seconds, self.timeout = retention_seconds, timeout
        self._stored_time = _stored_time(url)
        self._pid: int | None = None  # the process whose writer thread runs
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **options) -> PredictionLog:
        if environ.get("PREDICTION_LOG", "").strip().lower() in {"off", "0", "false", "no"}:
            return cls(None)
        limits = {"max_days": _env_int(environ, "PREDICTION_LOG_MAX_DAYS", 30),
                  "max_rows": _env_int(environ, "PREDICTION_LOG_MAX_ROWS", 1_000_000)}  # fmt: skip
        return cls(database_url(environ), **{**limits, **options})

    @property
    def enabled(self) -> bool:
        return self.url is not None

    def record(self, batch: Batch) -> None:
        """Queue a request's cars for writing; never blocks, never raises."""
        if self.url is None or not len(batch):
            return
        if self._pid != os.getpid() and not self._start():
            DROPPED.labels(reason="no_writer").inc(len(batch))
            return
        item: Batch | list[tuple] = batch
        if len(batch) <= SMALL_BATCH and self._stored_time is not None:
            # Made rows here, a few microseconds: in the writer thread, hundreds of one-car batches a second held the
            # GIL 2 ms at a time, p99 several times p50. (No stored_time: an unusable URL, whose write counts drops.)
            try:
                item = batch.small_rows(self._stored_time)
            except ValueError:  # its arrays disagree: as a write of it would fail
                DROPPED.labels(reason="write_failed").inc(len(batch))
                self._unreported += len(batch)
                return
        if not self._pending.put(item):
            DROPPED.labels(reason="queue_full").inc(len(batch))
            self._unreported += len(batch)  # approximate (no lock on the request path); the counter is exact
        if self._pending.rows >= self.batch_rows:  # a full batch: write now rather than at the next tick
            self._wake.set()

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued and stop the writer; waits at most `timeout` seconds."""
        if self._pid != os.getpid() or self._thread is None:
            return
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout)
        self._thread, self._pid = None, None  # a later record starts a new writer

    def _start(self) -> bool:
        # Anything inherited from a parent process (a queue, a thread that did not survive the fork) is left.
        with self._start_lock:
            if self._pid == os.getpid():
                return True
            self._pending = _Pending(self.queue_bytes)
            self._stopping = threading.Event()
            self._wake = threading.Event()
            self._unreported = 0
            self._retention: threading.Thread | None = None
            self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
            try:
                self._thread.start()
            except RuntimeError as exc:  # no thread to be had: count the drops rather than fail the request
                log.error("prediction log: writer thread not started: %s", exc)
                self._thread = None
                return False
            self._pid = os.getpid()
            atexit.register(self.close)
            return True

    def _run(self) -> None:
        engine: Engine | None = None
        retained_at, last_report = time.monotonic(), -LOG_EVERY
        last_error = ""
        while True:
            batches = self._collect()
            stopping = self._stopping.is_set()
            if stopping:  # close comes after the last record: take what came since, then stop
                batches += self._pending.take()
            if batches:
                try:  # everything: the writer must outlive any error, or the log stops for good
                    if engine is None:
                        engine = off_the_event_loop(_ready_engine, self.url, self.timeout)
                        retained_at = 0.0  # trim once at start
                    WRITTEN.inc(off_the_event_loop(_write, engine, batches, self._stored_time))
                except Exception as exc:
                    lost = sum(len(batch) for batch in batches)
                    DROPPED.labels(reason="write_failed").inc(lost)
                    self._unreported += lost
                    last_error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if stopping:
                self._report(last_error)
                return
            now = time.monotonic()
            due = engine is not None and now - retained_at >= self.retention_seconds
            if due and not (self._retention and self._retention.is_alive()):
                retained_at = now
                self._retention = threading.Thread(target=self._retain, daemon=True)
                try:
                    self._retention.start()
                except RuntimeError as exc:  # no thread to be had: the next pass tries again
                    log.warning("prediction log: retention not started: %s", exc)
            if self._unreported and now - last_report >= LOG_EVERY:
                last_report = now
                self._report(last_error)

    def _retain(self) -> None:
        """A retention pass beside the writer, which would drop cars waiting seconds for it (gunicorn's gevent
        worker patches subprocess: waiting for the child is cooperative)."""
        try:
            deleted = run_pass(self.url, max_days=self.max_days, max_rows=self.max_rows)
            if deleted:
                log.info("prediction log: retention deleted %d rows", deleted)
        except Exception as exc:
            log.warning("prediction log: retention failed: %s", str(exc).strip().splitlines()[0])

    def _collect(self) -> list[Batch | list[tuple]]:
        """Sleep `flush_seconds` (woken early by `batch_rows` cars waiting, or by close), then take them all.

        The writer does not wait on the batches themselves: under a threaded server, a thread woken by every
        request would ask for the GIL every time, and the serving thread would hand it over mid-request (gthread:
        p99 under load 12-19 ms, not 7).
        """
        self._wake.wait(self.flush_seconds)
        self._wake.clear()
        return self._pending.take()

    def _report(self, last_error: str) -> None:
        dropped, self._unreported = self._unreported, 0
        if dropped:
            reason = f"; last error: {last_error}" if last_error else " (queue full)"
            log.warning("prediction log: %d predictions dropped, not logged%s", dropped, reason)


def _env_int(environ: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(environ.get(name, default))
    except ValueError:  # a typo must not stop the API from starting
        log.error("%s=%r is not a whole number; using %d", name, environ[name], default)
        return default
