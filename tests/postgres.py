"""A throwaway PostgreSQL cluster for tests: Debian's initdb and pg_ctl on a temporary directory.

The server listens on a Unix socket in that directory only (no TCP). As root, the commands run as
the `postgres` user (PostgreSQL refuses to run as root), which then owns the directory.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

POSTGRES_ROOT = Path("/usr/lib/postgresql")


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin directory, if any."""
    found = sorted(POSTGRES_ROOT.glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    return found[-1].parent if found else None


class Cluster:
    """One data directory and its server; `url()` gives SQLAlchemy URLs for its databases."""

    def __init__(self, directory: Path, bin_dir: Path):
        self.directory, self.bin = directory, bin_dir
        self.data = directory / "data"
        self._names = itertools.count()

    def _run(self, *command: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_postgres, *command], check=True, capture_output=True, text=True, timeout=120)

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--no-sync", "--no-instructions", "--encoding=UTF8", "--locale=C",
        )  # fmt: skip

    def start(self) -> None:
        # -h '': no TCP; -k: the socket's directory; -F: no fsync (a test cluster needs no durability).
        options = f"-h '' -k {self.directory} -F"
        log = self.directory / "server.log"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"
        )

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.directory}"

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = f"test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(host=str(self.directory), user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def throwaway_cluster(bin_dir: Path) -> Iterator[Cluster]:
    """initdb, start, yield, stop, delete."""
    directory = Path(tempfile.mkdtemp(prefix="mpg-pg-"))  # short: a socket path has at most 107 bytes
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    cluster = Cluster(directory, bin_dir)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)
