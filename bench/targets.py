"""The benchmark targets, declared once: bench/report.py renders each one's text and verdict from this table.

A target names what is measured, where its figure is in the saved results (bench/results/<results>.json, a dotted
path of keys), how it is compared and the limit. A relative target's limit multiplies another saved figure (its
`reference`): "within 10% of before" is `<=` 1.10 times before's figure, "at most 1/5 of the fastest peer's" `<=`
0.2 times it, "at least 5x the fastest peer's" `>=` 5 times it. A target with `each` is checked once for
every key of that mapping in the results (a route, a worker class, a worker's PID), its `{each}` standing for the
key, but `leave_out`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Limits that several targets share.
NO_SLOWER = 1.10  # "no slower than": within 10% of the figure compared against
P99_UNDER_LOAD_MS = 10
REQUESTS_PER_S = 2000


@dataclass(frozen=True)
class Target:
    measures: str  # what is measured, as RESULTS.md names it; `{each}` stands for each key of `each`
    results: str  # the saved results it is read from: bench/results/<results>.json
    figure: str  # dotted path of the measured figure in those results
    compare: Literal["<=", ">=", "between"]
    limit: float | tuple[float, float]  # a pair for "between"
    unit: str = ""  # as the limit is written: " ms", " s", "x"
    spec: str = "g"  # format of the limit
    reference: str | None = None  # dotted path of the figure the limit multiplies (a relative target); `{each}` too
    against: str = ""  # the reference, as RESULTS.md names it
    each: str | None = None  # dotted path of a mapping: one check per key in it
    leave_out: str = ""  # the key of `each` that is not checked (the one compared against)
    issue: str = ""  # the issue that set it, when there are several targets for one figure

    @property
    def condition(self) -> str:
        """The target as RESULTS.md writes it: `<= 2.55`, `between 0.88 and 0.92`, `within 10% of before`."""
        if self.compare == "between":
            low, high = self.limit
            return f"between {low:{self.spec}}{self.unit} and {high:{self.spec}}{self.unit}"
        if self.reference is None:
            return f"{self.compare} {self.limit:{self.spec}}{self.unit}"
        if self.limit == 1:
            return f"{'no more' if self.compare == '<=' else 'no less'} than {self.against}"
        if self.compare == "<=" and 1 < self.limit < 2:
            return f"within {self.limit - 1:.0%} of {self.against}"
        bound = "at most" if self.compare == "<=" else "at least"
        if self.limit < 1:  # a share of the reference: "at most 1/5 of the fastest peer's"
            return f"{bound} 1/{1 / self.limit:g} of {self.against}"
        return f"{bound} {self.limit:g}x {self.against}"

    def checks(self, results: dict[str, dict | None]) -> list[Check]:
        """This target checked against the saved results (by name: `{"api": {...}, ...}`)."""
        saved = results.get(self.results) or {}
        if self.each is None:
            return [self._check(saved, "")]
        subjects = figure(saved, self.each) or {}
        return [self._check(saved, name) for name in subjects if name != self.leave_out]

    def _check(self, saved: dict, each: str) -> Check:
        value = figure(saved, self.figure.format(each=each))
        reference = figure(saved, self.reference.format(each=each)) if self.reference else None
        return Check(self, each, self.measures.format(each=each), value, reference, self._met(value, reference))

    def _met(self, value: float | None, reference: float | None) -> bool:
        if value is None or (self.reference is not None and reference is None):
            return False  # a target without its figure is not met
        if self.compare == "between":
            low, high = self.limit
            return low <= value <= high
        limit = self.limit * reference if self.reference is not None else self.limit
        return value <= limit if self.compare == "<=" else value >= limit


@dataclass(frozen=True)
class Check:
    """One target checked against one subject's saved figure."""

    target: Target
    subject: str  # the key of `each` it is about ("" for a target without `each`)
    label: str  # what was measured, `{each}` filled in: the line of RESULTS.md that carries the verdict
    value: float | None
    reference: float | None
    met: bool

    @property
    def mark(self) -> str:
        return "met" if self.met else "**not met**"


def figure(saved: dict, path: str):
    """The value at a dotted path of keys in saved results, or None where the path stops."""
    value = saved
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _fastest_peer(measures: str, ours: str, compare: Literal["<=", ">="], limit: float, fastest: str, **each) -> Target:
    """Our figure (bench/results/peers.json, under servers.mpg) against the fastest peer's in the same run."""
    return Target(measures, "peers", f"servers.mpg.{ours}", compare, limit, reference=f"fastest_peer.{fastest}.value",
                  against="the fastest peer's", **each)  # fmt: skip


TARGETS = {
    # Accuracy and training time (bench/accuracy.py)
    "nested_cv": Target("nested CV RMSE of the whole procedure", "accuracy", "nested_cv.ours_rmse_mean", "<=", 2.55),
    "fresh_splits": Target("mean of per-split RMSE ratios", "accuracy", "fresh_splits.ratio_mean", "<=", 0.95),
    "tensorflow_mae": Target(
        "TensorFlow basic-regression split", "accuracy", "tensorflow_split.mae", "<=", 1.70, spec=".2f"
    ),
    "train_time": Target("`python -m mpg train` wall time", "accuracy", "train_time.median_s", "<=", 30, " s"),
    # 90% prediction intervals (bench/uncertainty.py)
    "coverage": Target("mpg band coverage", "uncertainty", "coverage", "between", (0.88, 0.92)),
    # API (bench/api.py): ours, shipped, 2 workers; 1 connection unless said
    "one_car_p50": Target("One car, p50", "api", "ours.1.latency.p50_ms", "<=", 1.2, " ms"),
    "one_car_rps": Target(
        "One car, requests/s with 8 connections", "api", "ours.1.throughput.rps", ">=", REQUESTS_PER_S, spec=",g"
    ),
    "one_car_p99": Target(
        "One car, p99 with 8 connections", "api", "ours.1.throughput.p99_ms", "<=", P99_UNDER_LOAD_MS, " ms"
    ),
    "big_server_time": Target("10,000 cars, server time", "api", "ours.10000.server_ms_median", "<=", 100, " ms"),
    "big_wall_time": Target(
        "10,000 cars, wall time",
        "api",
        "ours.10000.latency.p50_ms",
        "<=",
        1,
        reference="tutorial.10000.latency.p50_ms",
        against="the tutorial service's",
    ),
    **{
        f"{rows}_before": Target(
            f"{cars}, p50",
            "api",
            f"ours.{rows}.latency.p50_ms",
            "<=",
            NO_SLOWER,
            reference=f"before.{rows}.latency.p50_ms",
            against="before",
        )
        for rows, cars in (("1", "1 car"), ("100", "100 cars"), ("10000", "10,000 cars"))
    },
    "route_p50": Target(
        "{each} p50",
        "api",
        "one_car.p50_ms.shipped.{each}",
        "<=",
        NO_SLOWER,
        reference="one_car.p50_ms.shipped.POST /predict",
        against="POST /predict",
        each="one_car.p50_ms.shipped",
        leave_out="POST /predict",
    ),
    "metrics_cost": Target(
        "metrics + access log on: /predict p50",
        "api",
        "one_car.p50_ms.shipped.POST /predict",
        "<=",
        NO_SLOWER,
        reference="one_car.p50_ms.metrics_and_access_log_off.POST /predict",
        against="off",
    ),
    "prediction_log_cost": Target(
        "prediction log on: /predict p50",
        "api",
        "one_car.p50_ms.shipped.POST /predict",
        "<=",
        NO_SLOWER,
        reference="one_car.p50_ms.prediction_log_off.POST /predict",
        against="off",
    ),
    "worker_p50": Target(
        "{each}, p50",
        "api",
        "worker_classes.{each}.latency.p50_ms",
        "<=",
        NO_SLOWER,
        reference="worker_classes.before.latency.p50_ms",
        against="before",
        each="worker_classes",
        leave_out="before",
    ),
    "worker_p99": Target(
        "{each}, p99 with 8 connections",
        "api",
        "worker_classes.{each}.throughput.p99_ms",
        "<=",
        P99_UNDER_LOAD_MS,
        " ms",
        each="worker_classes",
        leave_out="before",
    ),
    "worker_rps": Target(
        "{each}, requests/s with 8 connections",
        "api",
        "worker_classes.{each}.throughput.rps",
        ">=",
        REQUESTS_PER_S,
        spec=",g",
        each="worker_classes",
        leave_out="before",
    ),
    # Against MLflow, MLServer and BentoML serving the same model (bench/peers.py, issue #20): ours shipped, 1
    # connection unless said; "the fastest peer's" is the best of the three on that figure, in the same run
    "peers_one_car_p50": _fastest_peer("One car: our p50", "one_car.p50_ms", "<=", 1 / 5, "one_car_p50_ms"),
    "peers_one_car_rps": _fastest_peer(
        "One car, 8 connections: our requests/s", "one_car_8.rps", ">=", 5, "one_car_8_rps"
    ),
    "peers_100_p50": _fastest_peer("100 cars: our p50", "cars_100.p50_ms", "<=", 1 / 3, "cars_100_p50_ms"),
    "peers_big_wall": _fastest_peer(
        "10,000 cars, {each}: our wall time",
        "big.{each}.p50_ms",
        "<=",
        1 / 2,
        "big_p50_ms",
        each="servers.mpg.big",
        leave_out="POST /predict (records)",  # a list of car objects: its own target, next
    ),
    "peers_records_wall": _fastest_peer(
        "10,000 cars, POST /predict (records): our wall time",
        "big.POST /predict (records).p50_ms",
        "<=",
        1,
        "big_p50_ms",
    ),
    "peers_server_time": Target(
        "10,000 cars, {each}: our server time",
        "peers",
        "servers.mpg.big.{each}.server_ms",
        "<=",
        2,
        reference="onnx.ms",
        against="ONNX Runtime in process",
        each="servers.mpg.big",
        leave_out="POST /predict (records)",
    ),
    **{
        f"peers_{worst}tail_{rows}": Target(
            f"{cars}: our p99 / p50 {when}", "peers", f"servers.mpg.{key}.{worst}p99_over_p50", "<=", limit, "x"
        )
        for rows, cars, key in (("1", "One car", "one_car"), ("100", "100 cars", "cars_100"))
        for worst, when, limit in (("", "(median over rounds)", 3), ("worst_", "in the worst round", 5))
    },
    "peers_log_cost": Target(
        "10,000 cars, POST /predict (columns), prediction log on, beside it off (taking turns): our wall time",
        "peers",
        "servers.mpg, prediction log on, beside it.big.POST /predict (columns).p50_ms",
        "<=",
        NO_SLOWER,
        reference="servers.mpg, prediction log off.big.POST /predict (columns).p50_ms",
        against="off",
    ),
    # Memory (bench/memory.py): the API as shipped (2 workers) fits a 512 MB Heroku dyno with room to spare, a
    # worker's memory stays flat under steady traffic, and so does the app's with a few visitors
    "api_idle_rss": Target("API idle, master plus 2 workers: RSS in all", "memory", "idle.total_mb", "<=", 300, " MB"),
    "worker_growth": Target(
        "worker {each}: RSS at the end of the steady load",
        "memory",
        "load.survivors.{each}.end_mb",
        "<=",
        1.05,
        reference="load.survivors.{each}.after_first_minute_mb",
        against="its RSS after the first minute",
        each="load.survivors",
    ),
    "app_rss": Target("the app with 5 visitors: RSS", "memory", "app.rss_mb", "<=", 400, " MB"),
    # Command line (bench/cli.py)
    "cli": Target(
        "Wall time, start to finish,",
        "cli",
        "ours_s.median",
        "<=",
        NO_SLOWER,
        reference="baseline_s.median",
        against="before",
    ),
    # App (bench/app.py, bench/rerun.py)
    "rerun_13": Target("AppTest: rerun after a slider change", "app", "rerun_ms.median", "<=", 60, " ms", issue="#13"),
    "rerun_14": Target("AppTest: rerun after a slider change", "app", "rerun_ms.median", "<=", 40, " ms", issue="#14"),
    "first_prediction": Target(
        "Chromium: a new visitor's first predicted MPG", "app", "first_prediction.ratio_median", "<=", 1.3, "x"
    ),
    "load_p95": Target("visitors in Chromium", "app", "load.p95_s", "<=", 1.5, " s"),
    "load_errors": Target("visitors in Chromium", "app", "load.errors", "<=", 0, " errors"),
    "rerun_before": Target(
        "Rerun against the code before this round",
        "rerun",
        "ours_ms",
        "<=",
        NO_SLOWER,
        reference="before_ms",
        against="before",
    ),
}


def all_checks(results: dict[str, dict | None]) -> list[Check]:
    """Every target checked against the saved results, in the table's order."""
    return [check for target in TARGETS.values() for check in target.checks(results)]
