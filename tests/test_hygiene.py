"""The guard that keeps tests from writing into the project (tests/conftest.py) sees what it must."""

from __future__ import annotations

from mpg import config
from tests.conftest import project_files, written


def test_the_guard_sees_a_file_written_into_the_project():
    before = project_files()
    path = config.PROJ_ROOT / "mpg" / "written-by-a-test.tmp"
    path.write_text("a test must not do this")
    try:
        assert written(before, project_files()) == ["mpg/written-by-a-test.tmp"]
    finally:
        path.unlink()
    assert written(before, project_files()) == []


def test_the_guard_ignores_caches_and_sees_changes():
    before = project_files()
    cache = config.PROJ_ROOT / "mpg" / "__pycache__" / "written-by-a-test.tmp"
    cache.parent.mkdir(exist_ok=True)
    cache.write_text("caches are allowed")
    try:
        assert written(before, project_files()) == []
        changed = dict(before, **{"README.md": before["README.md"] + 1})
        assert written(before, changed) == ["README.md"]
    finally:
        cache.unlink()


def test_tests_log_predictions_outside_the_project(monkeypatch):
    import os

    assert str(config.PROJ_ROOT) not in os.environ["DATABASE_URL"]
