"""The prediction log's retention: which rows go (`apply_retention`), and the pass the writer runs every 10 minutes
in a process of its own (`run_pass`: `python -m mpg.monitoring.retention`, settings as JSON on stdin). A process: on
a thread, a pass over 2-10 million cars grew each worker 4-9 MB, half of it kept after malloc_trim (ad hoc, smaps);
a process gives it all back when it exits, for a Python start (0.4 s of CPU) every 10 minutes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, func, literal, select, union_all

from mpg.monitoring.table import batches, connect, predictions

# Rows per DELETE, each its own transaction: SQLite gathers a DELETE's rowids in memory (one over 10 minutes of bench
# memory's log took 126 MB: memory.json at d7caa70), and the writers wait one chunk at most.
RETENTION_CHUNK = 5_000
# Seconds between two of a pass's DELETEs: SQLite's writer waiting for the lock retries after at most 100 ms, and
# chunks back to back kept it waiting (ad hoc: with none, 107,392 cars dropped in 2 minutes).
RETENTION_PAUSE = 0.1
RETENTION_TIMEOUT = 600.0  # seconds: a pass stuck longer (a lock held) is stopped; the next tries again


def apply_retention(engine: Engine, *, max_days: int, max_rows: int, now: datetime | None = None,
                    chunk: int = RETENTION_CHUNK, pause: float = 0.0) -> int:  # fmt: skip
    """Delete rows older than `max_days` and those beyond the newest `max_rows` cars of both tables (0: no limit; a
    batch's row goes whole), `pause` seconds after each chunk; returns how many rows."""
    tables = {table.name: table for table in (predictions, batches)}
    doomed: dict[str, list] = {name: [] for name in tables}
    if max_days:
        for name, table in tables.items():
            doomed[name].append(table.c.time < (now or datetime.now(UTC)) - timedelta(days=max_days))
    if max_rows:
        cars = {predictions.name: literal(1), batches.name: batches.c.cars}
        each = [select(literal(name).label("kind"), t.c.id, t.c.time, cars[name].label("cars"))
                for name, t in tables.items()]  # fmt: skip
        both = union_all(*each).subquery()
        newest_first = (both.c.time.desc(), both.c.kind, both.c.id.desc())
        newer = func.sum(both.c.cars).over(order_by=newest_first, rows=(None, 0)).label("newer")  # this row's included
        ranked = select(both.c.kind, both.c.id, newer).subquery()
        beyond = select(ranked.c.kind, func.max(ranked.c.id)).where(ranked.c.newer > max_rows).group_by(ranked.c.kind)
        with engine.connect() as connection:
            for name, newest_dropped in connection.execute(beyond).all():
                doomed[name].append(tables[name].c.id <= newest_dropped)
    deleted = 0
    for table, condition in ((tables[name], c) for name, conditions in doomed.items() for c in conditions):
        while True:
            oldest = select(table.c.id).where(condition).order_by(table.c.id).limit(chunk)
            with engine.begin() as connection:
                count = connection.execute(delete(table).where(table.c.id.in_(oldest))).rowcount
            deleted += count
            if count < chunk:
                break
            time.sleep(pause)
    return deleted


def run_pass(url: str, *, pause: float = RETENTION_PAUSE, timeout: float = RETENTION_TIMEOUT, **limits) -> int:
    """`apply_retention` in a child process; returns the rows deleted. The URL goes on stdin: others can read argv."""
    done = subprocess.run([sys.executable, "-m", __name__], input=json.dumps({"url": url, "pause": pause, **limits}),
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip
    if done.returncode:
        raise RuntimeError((done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1])
    return int(done.stdout)


if __name__ == "__main__":
    settings = json.load(sys.stdin)
    try:
        print(apply_retention(connect(settings.pop("url")), **settings))
    except Exception as exc:  # one line, its first, for the worker's log (a traceback's last is SQLAlchemy's link)
        sys.exit(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
