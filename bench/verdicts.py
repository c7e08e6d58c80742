"""How a target's verdict reads in bench/RESULTS.md: one shape for every section (targets in bench/targets.py)."""

from __future__ import annotations

from bench.targets import TARGETS, Check

Results = dict[str, dict | None]


def one_check(results: Results, key: str) -> Check:
    """A target with one subject (bench/targets.py), checked against the saved results."""
    (check,) = TARGETS[key].checks(results)
    return check


def bullet(check: Check, measured: str) -> str:
    return f"- {check.label} {check.target.condition}: {measured}, {check.mark}."


def against(check: Check, spec: str) -> str:
    """A relative target's figure against the one it is compared with, in ms."""
    return f"{check.value:{spec}} ms against {check.reference:{spec}} ms ({check.value / check.reference:.2f}x)"
