"""The prediction log against real databases: SQLite files and a throwaway PostgreSQL server."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sqlite3
import threading
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.engine import make_url

from mpg import config
from mpg.monitoring.log import ROW_BYTES, Batch, PredictionLog, _nbytes
from mpg.monitoring.retention import apply_retention, run_pass
from mpg.monitoring.table import connect, database_url, predictions, read_log, stored_time
from mpg.prediction import InputWarning, input_warnings
from mpg.problems import Problem

CAR = [4.0, 108.0, 75.0, 2350.0, 16.8, 81.0, 3.0]


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'predictions.sqlite3'}"
    return request.getfixturevalue("postgres").create_database()


def batch(n: int = 1, *, request_id: str = "req-1", when: float | None = None, **fields) -> Batch:
    X = np.tile(np.array(CAR), (n, 1))
    X[:, 3] += np.arange(n)  # each car its own weight, to tell rows apart
    predictions = 30.0 - np.arange(n) / 100
    extra = {"time": when} if when is not None else {}
    return Batch(
        X=X, predictions=predictions, lower=predictions - 3, upper=predictions + 3, model_version="abc123",
        route="/predict", source="api", request_id=request_id, **extra, **fields,
    )  # fmt: skip


def dropped(reason: str) -> float:
    return REGISTRY.get_sample_value("mpg_prediction_log_dropped_total", {"reason": reason}) or 0.0


def written() -> float:
    return REGISTRY.get_sample_value("mpg_prediction_log_written_total") or 0.0


def logged_ids(url: str) -> set[str]:
    if url.startswith("sqlite") and not Path(make_url(url).database).exists():
        return set()  # not made yet: the writer creates it on its first write
    return set(read_log(connect(url))["request_id"])


def count(url: str) -> int:
    if url.startswith("sqlite") and not Path(make_url(url).database).exists():
        return 0
    return len(read_log(connect(url)))


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("environ", "url"),
    [
        ({}, f"sqlite:///{config.PROJ_ROOT / 'var' / 'predictions.sqlite3'}"),
        ({"DATABASE_URL": "postgres://u:p@db.example:5432/d"}, "postgresql+psycopg://u:p@db.example:5432/d"),
        ({"DATABASE_URL": "postgresql://u@h/d"}, "postgresql+psycopg://u@h/d"),
        ({"DATABASE_URL": "sqlite:////tmp/x.db"}, "sqlite:////tmp/x.db"),
    ],
)
def test_database_url(environ, url):
    assert database_url(environ) == url


def test_off_records_nothing(tmp_path):
    path = tmp_path / "log.sqlite3"
    log = PredictionLog.from_env({"PREDICTION_LOG": "off", "DATABASE_URL": f"sqlite:///{path}"})
    assert not log.enabled
    log.record(batch())
    log.close()
    assert not path.exists()


def test_limits_from_env_and_typos_fall_back(caplog):
    log = PredictionLog.from_env({"PREDICTION_LOG_MAX_DAYS": "7", "PREDICTION_LOG_MAX_ROWS": "lots"})
    assert (log.max_days, log.max_rows) == (7, 1_000_000)
    assert "PREDICTION_LOG_MAX_ROWS" in caplog.text


def test_rows_written_and_read_back(database):
    log = PredictionLog(database)
    sent_at = time.time()
    first = batch(3)  # the log reads oldest first: the batches are made (timed) in the order they are recorded
    unknown = batch(2, request_id="req-2", warnings=[Problem(1, "Weight", "outside the training range")])
    unknown.X[0, 2] = np.nan  # horsepower unknown
    served = batch(1, request_id=None, warnings=[InputWarning(0, config.HORSEPOWER, "unknown", "not given")])
    served = dataclasses.replace(served, predictions=served.predictions.astype(np.float32))  # as ONNX gives them
    log.record(first)
    log.record(unknown)
    log.record(served)
    log.close()

    rows = read_log(connect(database))
    assert len(rows) == 6
    assert rows["request_id"].fillna("(none)").tolist() == ["req-1"] * 3 + ["req-2"] * 2 + ["(none)"]
    assert set(rows["route"]) == {"/predict"} and set(rows["source"]) == {"api"}
    assert set(rows["model_version"]) == {"abc123"}
    np.testing.assert_array_equal(rows[config.FEATURES].to_numpy()[:3], batch(3).X)
    assert np.isnan(rows[config.HORSEPOWER].iloc[3]) and rows[config.HORSEPOWER].iloc[4] == 75.0
    np.testing.assert_allclose(rows["prediction"], [30.0, 29.99, 29.98, 30.0, 29.99, 30.0])
    np.testing.assert_allclose(rows["upper"] - rows["lower"], 6.0)
    assert rows["warnings"].isna().tolist() == [True, True, True, True, False, False]
    assert json.loads(rows["warnings"].iloc[4]) == [{"field": "Weight", "problem": "outside the training range"}]
    assert json.loads(rows["warnings"].iloc[5]) == [
        {"field": config.HORSEPOWER, "problem": "not given", "kind": "unknown"}
    ]
    assert all(abs(t.timestamp() - sent_at) < 60 for t in rows["time"])
    assert str(rows["time"].dt.tz) == "UTC"


def test_the_log_stores_time_as_sqlalchemy_does(database):
    # The writer hands rows to the driver itself: the stored time must be what SQLAlchemy's insert() stores
    # (on SQLite its own text form, not sqlite3's default adapter's), or readers parse two formats.
    when = 1_765_000_000.25
    log = PredictionLog(database)
    log.record(batch(1, when=when))
    log.close()
    engine = connect(database)
    with engine.begin() as connection:
        connection.execute(
            predictions.insert(),
            [{"time": datetime.fromtimestamp(when, UTC), "route": "/predict", "source": "api", "prediction": 1.0}],
        )
        stored = [row[0] for row in connection.exec_driver_sql("SELECT time FROM predictions ORDER BY id")]
    assert stored[0] == stored[1], stored


def test_close_writes_what_is_queued(database):
    log = PredictionLog(database, flush_seconds=30, batch_rows=1_000_000)  # nothing written before close
    for i in range(50):
        log.record(batch(2, request_id=f"r{i}"))
    time.sleep(0.3)
    assert count(database) == 0
    started = time.monotonic()
    log.close()
    assert time.monotonic() - started < 10
    assert count(database) == 100


def test_written_every_second_without_close(database):
    log = PredictionLog(database)
    log.record(batch(3))
    wait_for(lambda: count(database) == 3, timeout=10)
    log.close()


def test_only_the_recording_process_writes_its_rows(database):
    """gunicorn forks after the app is built: each worker writes its own rows, a parent's queue is not copied."""
    log = PredictionLog(database, flush_seconds=30, batch_rows=1_000_000)
    log.record(batch(3, request_id="parent"))  # still queued when the child is forked
    pid = os.fork()
    if pid == 0:  # the child: record, flush, leave without running the parent's test machinery
        code = 1
        try:
            log.record(batch(2, request_id="child"))
            log.close()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    log.close()
    assert sorted(read_log(connect(database))["request_id"]) == ["child"] * 2 + ["parent"] * 3


def test_threads_recording_at_once_lose_nothing(database):
    log = PredictionLog(database, flush_seconds=0.1)
    threads = [
        threading.Thread(target=lambda t=t: [log.record(batch(1, request_id=f"{t}-{i}")) for i in range(200)])
        for t in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()
    assert read_log(connect(database))["request_id"].nunique() == 800


def weights(url: str) -> list[float]:
    """The logged cars, told apart by their weights (`batch` gives each car its own), oldest first."""
    return read_log(connect(url))[config.WEIGHT].tolist()


def test_retention_by_age_and_rows(database):
    old = time.time() - 40 * 86400
    log = PredictionLog(database, max_days=30, max_rows=0, flush_seconds=0.1, retention_seconds=0)
    log.record(batch(4, request_id="old", when=old))
    log.record(batch(2, request_id="new"))
    wait_for(lambda: logged_ids(database) == {"new"})
    log.close()

    cars = weights(database)
    assert apply_retention(connect(database), max_days=0, max_rows=1) == 1
    assert weights(database) == cars[-1:]  # the newest is kept


def test_retention_keeps_the_newest_cars_of_both_tables(database):
    # Requests of more than 10 cars are a row each in prediction_batches: max_rows counts their cars with the others.
    log = PredictionLog(database, max_days=30, max_rows=0)
    now = time.time()
    log.record(batch(25, request_id="old many", when=now - 40 * 86400))
    log.record(batch(30, request_id="many", when=now - 3))
    log.record(batch(12, request_id="newer many", when=now - 2))
    log.record(batch(3, request_id="few", when=now - 1))
    log.close()
    engine = connect(database)
    assert apply_retention(engine, max_days=30, max_rows=0) == 1  # the old request's one row
    assert logged_ids(database) == {"many", "newer many", "few"}
    assert apply_retention(engine, max_days=0, max_rows=14) == 2  # 3 + 12 cars > 14: a batch goes whole
    assert logged_ids(database) == {"few"} and count(database) == 3
    assert apply_retention(engine, max_days=0, max_rows=2) == 1 and count(database) == 2


def test_the_writer_keeps_writing_while_a_retention_pass_runs(database, monkeypatch):
    """A pass over a big log takes seconds: a writer that waited for it let its queue fill and dropped cars."""
    running, release = threading.Event(), threading.Event()

    def slow_retention(url, **settings):
        running.set()
        release.wait(30)
        return 0

    monkeypatch.setattr("mpg.monitoring.log.run_pass", slow_retention)
    log = PredictionLog(database, flush_seconds=0.05, retention_seconds=0)
    try:
        log.record(batch(1, request_id="first"))
        assert running.wait(20)
        log.record(batch(12, request_id="during"))
        wait_for(lambda: logged_ids(database) == {"first", "during"})
    finally:
        release.set()
        log.close()


def test_a_retention_pass_runs_in_a_process_of_its_own(database, monkeypatch):
    """The memory a pass over a big log needs goes back to the system when its process exits; a worker's allocator
    kept it (mpg/monitoring/retention.py). Here, retention in this process would fail."""

    def not_here(*args, **kwargs):
        raise AssertionError("retention ran in the writer's process")

    for module in ("mpg.monitoring.retention", "mpg.monitoring.log"):
        monkeypatch.setattr(f"{module}.apply_retention", not_here, raising=False)
    log = PredictionLog(database, max_days=0, max_rows=2, flush_seconds=0.05, retention_seconds=0)
    try:
        for i in range(5):
            log.record(batch(1, request_id=f"r{i}"))
        log.record(batch(1, request_id="last"))
        wait_for(lambda: count(database) == 2 and "last" in logged_ids(database))
    finally:
        log.close()


def test_a_failed_retention_pass_says_why_in_one_line(tmp_path):
    with pytest.raises(RuntimeError, match=r"^\(sqlite3.OperationalError\) no such table"):
        run_pass(f"sqlite:///{tmp_path / 'no-tables.sqlite3'}", timeout=60, max_days=1, max_rows=1)


def test_retention_deletes_in_chunks_of_bounded_size(database):
    """A big trim runs as DELETEs of at most `chunk` rows, each committed: memory and lock time stay bounded."""
    from sqlalchemy import event

    log = PredictionLog(database, max_rows=0, max_days=0, flush_seconds=60)
    for i in range(25):
        log.record(batch(1, request_id=f"r{i}"))
    log.close()
    engine = connect(database)
    counts: list[int] = []

    def count_deletes(conn, cursor, statement, *rest):
        if statement.startswith("DELETE"):
            counts.append(cursor.rowcount)

    event.listen(engine, "after_cursor_execute", count_deletes)
    assert apply_retention(engine, max_days=0, max_rows=3, chunk=4) == 22
    assert counts == [4, 4, 4, 4, 4, 2] and logged_ids(database) == {"r22", "r23", "r24"}


def test_report_since_filters(database):
    log = PredictionLog(database)
    log.record(batch(2, request_id="before", when=time.time() - 7200))
    log.record(batch(1, request_id="after"))
    log.close()
    since = datetime.now(UTC) - timedelta(hours=1)
    assert read_log(connect(database), since)["request_id"].tolist() == ["after"]


@pytest.mark.slow
def test_postgres_down_drops_are_counted_and_recovered(postgres):
    url = postgres.create_database()
    log = PredictionLog(url, flush_seconds=0.1, timeout=2)
    log.record(batch(2, request_id="up"))
    wait_for(lambda: count(url) == 2)
    before = dropped("write_failed")
    postgres.stop()
    try:
        slowest = 0.0
        for i in range(100):
            started = time.perf_counter()
            log.record(batch(1, request_id=f"down-{i}"))  # never raises, never waits for the database
            slowest = max(slowest, time.perf_counter() - started)
            time.sleep(0.01)
        assert slowest < 0.05
        wait_for(lambda: dropped("write_failed") - before >= 100, timeout=30)
    finally:
        postgres.start()
    log.record(batch(1, request_id="back"))
    log.close()
    assert sorted(set(read_log(connect(url))["request_id"])) == ["back", "up"]
    assert dropped("write_failed") - before == 100


def test_locked_sqlite_queue_stays_bounded_and_every_row_is_accounted(tmp_path, caplog):
    """A writer stuck on a locked database: records still return at once, the queue holds at most its bound."""
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    log = PredictionLog(url, queue_bytes=500 * ROW_BYTES, timeout=1.0, flush_seconds=0.05)
    log.record(batch(1, request_id="first"))
    wait_for(lambda: count(url) == 1)
    counts = {r: dropped(r) for r in ("queue_full", "write_failed")}
    rows_before = written()
    lock = sqlite3.connect(tmp_path / "log.sqlite3")
    lock.execute("BEGIN EXCLUSIVE")
    sent = 0
    started = time.monotonic()
    while time.monotonic() - started < 3:
        log.record(batch(5))
        sent += 5
        assert log._pending.bytes <= (500 + 5) * ROW_BYTES  # at most one request over the bound
    lock.rollback()
    lock.close()
    log.close()
    lost = {r: dropped(r) - counts[r] for r in counts}
    assert lost["queue_full"] > 0 and lost["write_failed"] > 0
    assert written() - rows_before + lost["queue_full"] + lost["write_failed"] == sent
    assert count(url) == 1 + written() - rows_before
    lines = [r for r in caplog.records if r.name == "mpg.monitoring.log" and "dropped" in r.getMessage()]
    assert 1 <= len(lines) <= 2  # one when it began, one at close: not a line per row or per flush
    # errors hide the rows' values (a weight of 2350, not the 2350 that ends a count like 312,350)
    assert "req-1" not in caplog.text and not re.search(r"\b2350\b", caplog.text)


def test_big_requests_wait_while_the_writer_is_held_up_for_a_moment(tmp_path):
    """Ten requests of 10,000 cars come while the database is locked for a moment (as a checkpoint's fsync holds the
    writer up): all wait in memory, 8 MB, and are written; a bound of 20,000 cars dropped all but two."""
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    log = PredictionLog(url, timeout=5.0, flush_seconds=0.05)
    log.record(batch(1, request_id="first"))
    wait_for(lambda: count(url) == 1)
    before = {r: dropped(r) for r in ("queue_full", "write_failed")}
    lock = sqlite3.connect(tmp_path / "log.sqlite3")
    lock.execute("BEGIN EXCLUSIVE")
    for i in range(10):
        log.record(batch(10_000, request_id=f"big-{i}"))
    time.sleep(0.5)
    lock.rollback()
    lock.close()
    log.close()
    assert {r: dropped(r) - before[r] for r in before} == {"queue_full": 0, "write_failed": 0}
    assert read_log(connect(url))["request_id"].value_counts().to_dict() == {
        "first": 1, **{f"big-{i}": 10_000 for i in range(10)}}  # fmt: skip


def _held(make) -> tuple[object, int]:
    """What `make()` returns, and the bytes tracemalloc sees it hold."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        made = make()
        return made, tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_the_queue_counts_no_less_memory_than_its_items_hold(model):
    """The queue's bound in bytes against what tracemalloc sees: made rows with no warning and with seven, and a big
    batch whose every car has seven (each input unknown), and no more than twice it (the README's car counts)."""
    unknown = np.full((2_000, len(config.FEATURES)), np.nan)
    warnings, warnings_bytes = _held(lambda: input_warnings(model, unknown))
    assert len(warnings) == 7 * 2_000
    big = batch(2_000, warnings=warnings)
    arrays = sum(array.nbytes for array in (big.X, big.predictions, big.lower, big.upper))
    assert arrays + warnings_bytes <= _nbytes(big) <= 2 * (arrays + warnings_bytes)
    small, held = _held(lambda: batch(11))  # the smallest big batch: the object and headers weigh
    assert held <= _nbytes(small) <= 2 * held
    convert = stored_time(connect("sqlite://").dialect)
    for car_warnings in ([], [w for w in warnings if w.row == 0]):
        one = batch(1, warnings=car_warnings)
        rows, held = _held(lambda one=one: [one.small_rows(convert) for _ in range(1_000)])
        accounted = sum(_nbytes(made) for made in rows)
        assert held <= accounted <= 2 * held, (len(car_warnings), held / 1_000, accounted / 1_000)


def test_unwritable_location_never_raises(caplog):
    url = "sqlite:////proc/mpg-cannot-exist/predictions.sqlite3"  # no one, not even root, can create it
    before = dropped("write_failed")
    log = PredictionLog(url, flush_seconds=0.05)
    for i in range(3):
        log.record(batch(2, request_id=f"r{i}"))
        time.sleep(0.2)
    log.close()
    assert dropped("write_failed") - before == 6
    assert "prediction log: " in caplog.text and "dropped" in caplog.text


def test_a_bad_batch_is_dropped_and_the_writer_goes_on(tmp_path):
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    before = dropped("write_failed")
    log = PredictionLog(url, flush_seconds=0.05)
    good = batch(2, request_id="good")
    log.record(Batch(X=good.X, predictions=np.ones(3), lower=np.ones(3), upper=np.ones(3), model_version="v",
                     route="/predict", source="api", request_id="bad"))  # fmt: skip
    wait_for(lambda: dropped("write_failed") - before == 3)
    log.record(good)
    log.close()
    assert logged_ids(url) == {"good"}


def test_batches_whose_lengths_disagree_are_refused_not_shifted_onto_other_cars(tmp_path):
    # Three cars and two predictions, then two cars and three predictions: five of each in all, and without
    # a check per batch the second request's car would be written under the first request's ID.
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    before = dropped("write_failed")
    log = PredictionLog(url, flush_seconds=60)  # both batches in one write
    short = batch(3, request_id="a")
    log.record(Batch(X=short.X, predictions=np.ones(2), lower=np.ones(2), upper=np.ones(2), model_version="v",
                     route="/predict", source="api", request_id="a"))  # fmt: skip
    log.record(Batch(X=short.X[:2], predictions=np.ones(3), lower=np.ones(3), upper=np.ones(3), model_version="v",
                     route="/predict", source="api", request_id="b"))  # fmt: skip
    log.close()
    assert dropped("write_failed") - before == 5
    assert logged_ids(url) == set()


GEVENT_WRITER = """
from gevent import monkey; monkey.patch_all()
import sqlite3, sys, time, gevent, numpy as np
from mpg.monitoring.log import Batch, PredictionLog
url, path = sys.argv[1], sys.argv[2]
log = PredictionLog(url, flush_seconds=0.05, timeout=2.0)
log.record(Batch(X=np.ones((1, 7)), predictions=np.ones(1), lower=np.ones(1), upper=np.ones(1), model_version="v",
                 route="/predict", source="api", request_id="first"))
time.sleep(0.5)  # written: the table exists
holder = sqlite3.connect(path, isolation_level=None)
holder.execute("BEGIN EXCLUSIVE")
log.record(Batch(X=np.ones((1, 7)), predictions=np.ones(1), lower=np.ones(1), upper=np.ones(1), model_version="v",
                 route="/predict", source="api", request_id="locked out"))
ticks, start = 0, time.monotonic()
while time.monotonic() - start < 3.0:  # the locked write waits 2 s; the event loop must keep running meanwhile
    gevent.sleep(0.01)
    ticks += 1
holder.execute("ROLLBACK")
log.close()
print("ticks", ticks)
"""


def test_under_gevent_a_locked_database_stops_no_greenlet_and_prints_no_traceback(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "log.sqlite3"
    result = subprocess.run([sys.executable, "-c", GEVENT_WRITER, f"sqlite:///{path}", str(path)],
                            cwd=config.PROJ_ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    # About 300 ticks of 10 ms in 3 s; a write waiting on the event loop's thread would have stopped them for 2 s.
    assert int(result.stdout.split()[-1]) > 150, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert "locked out" not in result.stderr  # the rows' values never reach the logs
    assert logged_ids(f"sqlite:///{path}") == {"first"}


def test_a_problem_of_the_whole_request_is_noted_on_every_car(tmp_path):
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    log = PredictionLog(url)
    log.record(batch(2, warnings=[Problem(None, None, "served by a fallback"), Problem(1, "Weight", "heavy")]))
    log.close()
    notes = [json.loads(text) for text in read_log(connect(url))["warnings"]]
    assert notes == [
        [{"field": None, "problem": "served by a fallback"}],
        [{"field": "Weight", "problem": "heavy"}, {"field": None, "problem": "served by a fallback"}],
    ]


def test_a_request_of_more_than_ten_cars_is_one_row_and_reads_back_as_its_cars(database):
    # The same cars written both ways (a row per car; one row of arrays) read back the same.
    from mpg.monitoring.table import batches, create_schema, insert_rows, stored_time

    engine = connect(database)
    create_schema(engine)
    cars = batch(12, warnings=[Problem(1, "Weight", "outside the training range"), Problem(None, None, "all")])
    cars.X[2, 4] = np.nan
    with engine.begin() as connection:
        insert_rows(connection, cars.small_rows(stored_time(engine.dialect)))
    log = PredictionLog(database)
    log.record(dataclasses.replace(cars, request_id="one row"))
    log.close()
    with engine.connect() as connection:
        assert connection.execute(batches.select()).all()[0].cars == 12
        assert connection.exec_driver_sql("SELECT count(*) FROM predictions").scalar() == 12
    rows = read_log(engine)
    assert rows["request_id"].tolist() == ["req-1"] * 12 + ["one row"] * 12
    each_way = rows.drop(columns="request_id")[:12], rows.drop(columns="request_id")[12:].reset_index(drop=True)
    pd.testing.assert_frame_equal(*each_way)
    assert np.isnan(rows[config.ACCELERATION].iloc[2]) and rows["warnings"].notna().all()


def test_sqlite_writes_prepare_statements_of_a_few_sizes_only(tmp_path):
    # sqlite3 keeps its last 128 prepared statements, and a multi-row INSERT grows with its rows: one statement
    # per batch length grew a worker by 148 MB in the memory benchmark.
    from sqlalchemy import event

    from mpg.monitoring.table import create_schema, insert_rows, stored_time

    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    engine = connect(url)
    create_schema(engine)
    prepared: set[str] = set()
    event.listen(engine, "before_cursor_execute", lambda _c, _cursor, statement, *_: prepared.add(statement))
    sizes = (1, 2, 3, 5, 7, 300, 999, 1500, 2100)
    for n in sizes:
        with engine.begin() as connection:
            insert_rows(connection, batch(n).small_rows(stored_time(engine.dialect)))
    assert count(url) == sum(sizes)
    assert len(prepared) <= 6, len(prepared)


def test_sqlite_frees_deleted_rows_without_zeroing_them(tmp_path):
    """FAST (2): retention's DELETEs zero only pages they write anyway; Debian's default (1) halved a pass's speed."""
    with connect(f"sqlite:///{tmp_path / 'log.sqlite3'}").connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 2


def test_a_new_sqlite_log_has_64_kb_pages_and_syncs_at_checkpoints_only(tmp_path):
    """A 10,000-car request is one 800 kB row: 200 pages of 4 kB and a sync per commit made the writer's work cost it
    more (bench peers). An older file keeps its pages, is made WAL as before, and is still written."""
    old = tmp_path / "old.sqlite3"
    with sqlite3.connect(old) as made:
        made.execute("CREATE TABLE kept (a)")
    for path, page_size in ((tmp_path / "new.sqlite3", 65536), (old, 4096)):
        url = f"sqlite:///{path}"
        log = PredictionLog(url)
        log.record(batch(12))
        log.record(batch(1, request_id="one car"))
        log.close()
        assert count(url) == 13
        with connect(url).connect() as connection:
            pragma = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in
                      ("page_size", "journal_mode", "synchronous")}  # fmt: skip
        assert pragma == {"page_size": page_size, "journal_mode": "wal", "synchronous": 1}  # 1: NORMAL
    # Without WAL (here: in memory), unsynced commits could corrupt the file at a power cut: SQLite's default stays.
    with connect("sqlite://").connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "memory"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
