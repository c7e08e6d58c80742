"""The prediction log's database: the tables, engines with timeouts, writing and reading (retention: retention.py).

Where: `DATABASE_URL` (Heroku Postgres sets it; its `postgres://` scheme is accepted), else the SQLite file
`var/predictions.sqlite3` under the project root. Any URL SQLAlchemy knows works.

The scheme (version 2), created on first use. Both tables hold the time (UTC), request ID, route ("app" for the app),
source ("api" or "app") and model version. `predictions` has a row per car of a request of up to 10 cars: the seven
inputs after validation (snake_case names, Model Year in two digits, Origin as its code, NULL for an unknown input), the
prediction and its interval, and the car's warnings as a JSON list (NULL when none). `prediction_batches` (version 2)
has a row per request of more than 10 cars, its cars as arrays of float64 (little-endian, row by row, NaN for unknown):
`inputs` [cars, 7], `outputs` [cars, 3] (prediction, lower, upper), and `warnings` a JSON object from a car's index to
its list. A row per car costs the writer a bound value per column, held under the GIL: with it, a 10,000-car request
took 1.64x its time without the log (bench peers at 0476b58). `read_log` gives both tables as one row per car, by time.
Upgrades only add tables and nullable columns, so older rows stay valid (code older than version 2 would neither read
nor trim `prediction_batches`).
"""

from __future__ import annotations

import functools
import itertools
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import SQLAlchemyError

from mpg import config

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_PATH = config.PROJ_ROOT / "var" / "predictions.sqlite3"
INPUT_COLUMNS = {name: config.SNAKE[name] for name in config.FEATURES}  # canonical -> SQL column

metadata = MetaData()


def _request_columns() -> list[Column]:
    """What both tables hold of a request (a function: a Column belongs to one table)."""
    return [
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("time", DateTime(timezone=True), nullable=False),
        Column("request_id", String(200)),
        Column("route", String(100), nullable=False),
        Column("source", String(10), nullable=False),
        Column("model_version", String(100)),
    ]


predictions = Table(
    "predictions",
    metadata,
    *_request_columns(),
    *[Column(column, Float) for column in INPUT_COLUMNS.values()],
    Column("prediction", Float, nullable=False),
    Column("lower", Float),
    Column("upper", Float),
    Column("warnings", Text),
    Index("ix_predictions_time", "time"),
)
batches = Table(
    "prediction_batches",
    metadata,
    *_request_columns(),
    Column("cars", Integer, nullable=False),
    Column("inputs", LargeBinary, nullable=False),
    Column("outputs", LargeBinary, nullable=False),
    Column("warnings", Text),
    Index("ix_prediction_batches_time", "time"),
)
OUTPUTS = ("prediction", "lower", "upper")  # the columns of a batch's `outputs`


# A row's values in this order (every column but the generated id), as the writer hands them to the driver.
ORDER = {table: tuple(c.name for c in table.columns if c.name != "id") for table in (predictions, batches)}
COLUMNS = ORDER[predictions]


def database_url(environ: Mapping[str, str], default: Path = DEFAULT_PATH) -> str:
    """`DATABASE_URL` for SQLAlchemy with psycopg 3 (Heroku gives `postgres://`), else the SQLite file."""
    url = environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{default}"
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


def connect(url: str, *, timeout: float = 5.0) -> Engine:
    """An engine that gives up after `timeout` seconds: a dead database must not hold a thread for ever. Its errors
    never show the rows' values (`hide_parameters`): they go to logs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": timeout}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _wal(connection, _record):  # readers (the report) do not wait for the writers, nor they for them
            # WAL stays with the file; converting takes a lock SQLite does not wait for ("database is locked" when
            # opened as the retention process closed, under load: tests/monitoring), so only a new file converts.
            if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                connection.execute("PRAGMA page_size=65536")  # taken by a new file only: a big batch, fewer pages
                connection.execute("PRAGMA journal_mode=WAL")
            if connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal":  # unsynced commits, as SQLite advises
                connection.execute("PRAGMA synchronous=NORMAL")  # a power cut may lose the last commits, not the file
            # Debian's SQLite zeroes what a DELETE frees: 4.7 s of CPU for a 15.6M-car pass; 2.5 with FAST (ad hoc).
            connection.execute("PRAGMA secure_delete=FAST")

        return engine
    if parsed.get_backend_name() == "postgresql":
        milliseconds = int(timeout * 1000)
        options = f"-c statement_timeout={milliseconds} -c lock_timeout={milliseconds}"
        arguments = {"connect_timeout": max(2, round(timeout)), "options": options}
        return create_engine(parsed, pool_pre_ping=True, connect_args=arguments, hide_parameters=True)
    return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)


def create_schema(engine: Engine) -> None:
    """Create the tables that are missing (two workers may race to it: the loser finds them made)."""
    if engine.url.get_backend_name() == "sqlite" and engine.url.database:
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        metadata.create_all(engine, checkfirst=True)
    except SQLAlchemyError:
        metadata.create_all(engine, checkfirst=True)


def stored_time(dialect: Dialect) -> Callable[[datetime], object]:
    """A `time` as `insert_rows` hands it to the driver: psycopg takes the datetime; elsewhere the column's own
    conversion (SQLite stores SQLAlchemy's text form, which `read_log` parses back). Done once per request."""
    convert = None if _copies(dialect) else predictions.c.time.type.dialect_impl(dialect).bind_processor(dialect)
    return convert or (lambda value: value)


def insert_rows(connection: Connection, rows: Sequence[tuple], into: Table = predictions) -> None:
    """Write rows of `into` (values in `ORDER[into]`; `time` from `stored_time`) in bulk:
    PostgreSQL's COPY (`predictions` only); SQLite's multi-row INSERTs; elsewhere the driver's executemany.

    Straight to the driver: `connection.execute(predictions.insert(), rows)` turns every row into a dict and
    processes it value by value. A multi-row INSERT is one step of SQLite's, which runs without the GIL;
    executemany takes and drops the GIL for every row, and the serving thread waits each time
    (bench/results/log_write.json measures both ways against executemany).
    """
    dialect, columns = connection.dialect, ORDER[into]
    if into is predictions and _copies(dialect):
        with connection.connection.dbapi_connection.cursor() as cursor, cursor.copy(_COPY) as copy:
            for row in rows:
                copy.write_row(row)
    elif dialect.name == "sqlite":
        limit = connection.connection.dbapi_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        start = 0
        for size in _STATEMENT_ROWS:
            # Statements of a few sizes only: sqlite3 keeps the last 128 statements it prepared, and a prepared
            # multi-row INSERT grows with its rows (with one of every length, a worker grew 148 MB in bench memory).
            while size * len(columns) <= limit and len(rows) - start >= size:
                values = tuple(itertools.chain.from_iterable(rows[start : start + size]))
                connection.exec_driver_sql(_statement(dialect, size, into), values)
                start += size
    else:  # bytes, not views: a driver may know no memoryview (pymysql)
        rows = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows]
        params = rows if dialect.positional else [dict(zip(columns, row, strict=True)) for row in rows]
        connection.exec_driver_sql(_statement(dialect, 1, into), list(params))


_STATEMENT_ROWS = (1024, 256, 64, 16, 4, 1)  # rows per multi-row INSERT, largest first
_COPY = f"COPY {predictions.name} ({', '.join(COLUMNS)}) FROM STDIN"


def _copies(dialect: Dialect) -> bool:
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


@functools.cache
def _statement(dialect: Dialect, rows: int, into: Table = predictions) -> str:
    """SQLAlchemy's one-row INSERT into `into` for this dialect, its VALUES group repeated for `rows` rows."""
    compiled = into.insert().compile(dialect=dialect, column_keys=list(ORDER[into]))
    if dialect.positional and tuple(compiled.positiontup) != ORDER[into]:
        raise RuntimeError(f"the INSERT's parameters come in another order: {compiled.positiontup}")
    head, values = str(compiled).split(" VALUES ")
    return f"{head} VALUES {', '.join([values] * rows)}"


def read_log(engine: Engine, since: datetime | None = None, source: str | None = None) -> pd.DataFrame:
    """The logged cars of both tables, a row each (by time, oldest first; from `since`, of `source` only, when
    given), inputs under their canonical names, `time` in UTC; empty if no table. All of them, in memory: fine for
    the retention limits' million rows; a bigger log would want SQL aggregates."""
    import pandas as pd  # here: the report reads the log as a frame; the API only writes it

    def query(table: Table) -> list:
        chosen = select(table).order_by(table.c.id)
        if since is not None:
            chosen = chosen.where(table.c.time >= since.astimezone(UTC))
        if source is not None:
            chosen = chosen.where(table.c.source == source)
        exists = engine.dialect.has_table(connection, table.name)
        return connection.execute(chosen).all() if exists else []

    with engine.connect() as connection:
        cars, requests = query(predictions), query(batches)
    frame = pd.DataFrame(cars, columns=[c.name for c in predictions.columns]).drop(columns="id")
    if requests:  # a row per car, all requests at once: one frame per request took 2 ms each
        counts = [request.cars for request in requests]
        batched = pd.DataFrame(
            np.frombuffer(b"".join(r.inputs for r in requests), "<f8").reshape(-1, len(INPUT_COLUMNS)),
            columns=list(INPUT_COLUMNS.values()),
        )
        batched[list(OUTPUTS)] = np.frombuffer(b"".join(r.outputs for r in requests), "<f8").reshape(-1, len(OUTPUTS))
        for name in ("time", "request_id", "route", "source", "model_version"):
            batched[name] = np.repeat(np.array([getattr(r, name) for r in requests], dtype=object), counts)
        warnings, first = [None] * len(batched), 0
        for request, count in zip(requests, counts, strict=True):
            for i, notes in json.loads(request.warnings or "{}").items():
                warnings[first + int(i)] = json.dumps(notes)
            first += count
        batched["warnings"] = warnings
        frame = pd.concat([part for part in (frame, batched[list(COLUMNS)]) if len(part)], ignore_index=True)
    frame = frame.rename(columns={column: name for name, column in INPUT_COLUMNS.items()})
    for name in [*config.FEATURES, *OUTPUTS]:
        frame[name] = frame[name].astype("float64")  # NULL -> NaN, as everywhere else
    # SQLite keeps no time zone: the values are UTC, as written.
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame.sort_values("time", kind="stable", ignore_index=True)
