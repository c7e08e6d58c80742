"""The prediction log's writes, each way, in the same run.

`python -m bench log_write`: 10,000 real cars made `predictions` rows (`Batch.small_rows`) and written in one
transaction, `insert_rows` (SQLite: multi-row INSERTs; PostgreSQL: COPY) against `executemany` of the same rows
with SQLAlchemy's one-row INSERT; and the same cars as one request, the one `prediction_batches` row the log
writes for it (`Batch.batch_row`). On a temporary SQLite file and a throwaway PostgreSQL cluster
(tests/postgres.py; left out when PostgreSQL is not installed). And what `record` adds to a one-car request
(`Batch.small_rows`). Alternating runs, medians.
"""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from bench.common import save
from mpg import config
from mpg.data import load_auto_mpg
from mpg.monitoring.batch import Batch
from mpg.monitoring.table import COLUMNS, batches, connect, create_schema, insert_rows, predictions, stored_time

ROWS, RUNS, ONE_CAR_CALLS = 10_000, 9, 2_000


def _batch(rows: int) -> Batch:
    X = np.resize(load_auto_mpg()[config.FEATURES].to_numpy(dtype=np.float64), (rows, len(config.FEATURES)))
    mpg = np.full(rows, 25.0)  # any numbers: the writes do not care
    return Batch(X=X, predictions=mpg, lower=mpg - 3, upper=mpg + 3, model_version="bench", route="/predict",
                 source="api", request_id="bench")  # fmt: skip


def _executemany(engine: Engine, rows: list[tuple], _batch: Batch) -> None:
    """The driver's executemany of SQLAlchemy's one-row INSERT: the baseline."""
    statement = predictions.insert().compile(dialect=engine.dialect, column_keys=list(COLUMNS))
    params = rows if engine.dialect.positional else [dict(zip(COLUMNS, row, strict=True)) for row in rows]
    with engine.begin() as connection:
        connection.exec_driver_sql(str(statement), params)


def _ours(engine: Engine, rows: list[tuple], _batch: Batch) -> None:
    with engine.begin() as connection:
        insert_rows(connection, rows)


def _one_row(engine: Engine, _rows: list[tuple], batch: Batch) -> None:
    with engine.begin() as connection:
        insert_rows(connection, [batch.batch_row(stored_time(engine.dialect))], batches)


def _writes(url: str, batch: Batch) -> dict:
    engine = connect(url)
    create_schema(engine)
    rows = batch.small_rows(stored_time(engine.dialect))
    ways: dict[str, Callable] = {"insert_rows": _ours, "executemany": _executemany, "one_row": _one_row}
    times: dict[str, list[float]] = {name: [] for name in ways}
    for run in range(RUNS + 1):  # the first round warms up and is dropped
        for name, write in ways.items():
            began = time.perf_counter()
            write(engine, rows, batch)
            if run:
                times[name].append(1000 * (time.perf_counter() - began))
    made = []
    for _ in range(RUNS):
        began = time.perf_counter()
        batch.small_rows(stored_time(engine.dialect))
        made.append(1000 * (time.perf_counter() - began))
    engine.dispose()
    result = {f"{name}_ms": statistics.median(ms) for name, ms in times.items()}
    return result | {"ratio": result["executemany_ms"] / result["insert_rows_ms"], "rows_ms": statistics.median(made)}


def _one_car(batch: Batch) -> dict:
    convert = stored_time(connect("sqlite://").dialect)
    ways = {"small_rows": lambda: batch.small_rows(convert)}
    micro: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(RUNS):
        for name, make in ways.items():
            began = time.perf_counter()
            for _ in range(ONE_CAR_CALLS):
                make()
            micro[name].append(1e6 * (time.perf_counter() - began) / ONE_CAR_CALLS)
    return {f"{name}_us": statistics.median(us) for name, us in micro.items()}


def main() -> dict:
    batch = _batch(ROWS)
    result = {"rows": ROWS, "runs": RUNS, "one_car": _one_car(_batch(1))}
    with tempfile.TemporaryDirectory() as directory:
        result["sqlite"] = _writes(f"sqlite:///{Path(directory) / 'log.sqlite3'}", batch)
    from tests.postgres import postgres_bin, throwaway_cluster

    if (bin_dir := postgres_bin()) is not None:
        with contextlib.ExitStack() as stack:
            cluster = stack.enter_context(throwaway_cluster(bin_dir))
            result["postgresql"] = _writes(cluster.create_database(), batch)
    print(result, flush=True)
    return save("log_write", result)


if __name__ == "__main__":
    main()
