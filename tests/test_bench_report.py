"""bench/RESULTS.md rendered from the saved results (no benchmark runs): every declared target once, its verdict
computed from the saved figure."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from bench.common import RESULTS_DIR
from bench.report import BENCHMARKS, write_report
from bench.targets import TARGETS, Check, all_checks

MARK = re.compile(r"\*\*not met\*\*|\bmet\b")


def saved(directory) -> dict[str, dict | None]:
    return {
        name: json.loads(path.read_text()) if (path := directory / f"{name}.json").exists() else None
        for name in BENCHMARKS
    }


def render(tmp_path, results_dir) -> list[str]:
    return write_report(tmp_path / "RESULTS.md", results_dir).read_text().splitlines()


def assert_verdicts(lines: list[str], checks: list[Check]) -> None:
    """Each check on exactly one line, with its target; the line's marks are its checks' marks, in order."""
    for check in checks:
        found = [line for line in lines if check.label in line]
        assert len(found) == 1, f"{check.label!r} on {len(found)} lines"
        line = found[0]
        assert check.target.condition in line
        on_line = [other.mark for other in checks if other.label in line]
        assert MARK.findall(line) == on_line, line


@pytest.fixture()
def results_copy(tmp_path):
    directory = tmp_path / "results"
    shutil.copytree(RESULTS_DIR, directory)
    return directory


def test_every_target_once_with_its_verdict(tmp_path, results_copy):
    checks = all_checks(saved(results_copy))
    assert {check.target for check in checks} == set(TARGETS.values())  # every target has its figure saved
    assert_verdicts(render(tmp_path, results_copy), checks)


def test_rendering_the_saved_results_changes_nothing_but_the_report(tmp_path, results_copy):
    before = {path.name: path.read_bytes() for path in results_copy.iterdir()}
    render(tmp_path, results_copy)
    assert {path.name: path.read_bytes() for path in results_copy.iterdir()} == before


def flipped(check: Check) -> float:
    """A figure that turns the check's verdict the other way."""
    target = check.target
    if target.compare == "between":
        low, high = target.limit
        return high + 1 if check.met else (low + high) / 2
    limit = target.limit * (check.reference if target.reference is not None else 1)
    fails = limit * 2 + 1 if target.compare == "<=" else limit / 2
    passes = limit / 2 if target.compare == "<=" else limit * 2 + 1
    return fails if check.met else passes


def set_figure(results: dict, path: str, value: float) -> None:
    *parents, last = path.split(".")
    for key in parents:
        results = results[key]
    results[last] = value


@pytest.mark.parametrize("key", TARGETS)
def test_a_verdict_follows_its_saved_figure(tmp_path, results_copy, key):
    target = TARGETS[key]
    check = target.checks(saved(results_copy))[0]
    results = saved(results_copy)[target.results]
    set_figure(results, target.figure.format(each=check.subject), flipped(check))
    (results_copy / f"{target.results}.json").write_text(json.dumps(results))

    checks = all_checks(saved(results_copy))
    now = next(other for other in checks if other.target is target and other.subject == check.subject)
    assert now.met is not check.met
    assert_verdicts(render(tmp_path, results_copy), checks)
