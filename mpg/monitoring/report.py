"""The monitoring report over the prediction log: `mpg monitor [--database URL] [--since TIME]
[--source app|api] [--json]`.

What callers sent, against the rows the model was trained on (its card names the file and the test rows):
predictions and requests per source (API callers, app visitors), traffic over time, the shares of cars
extrapolated (an input outside the training range), with an unknown input or with a warning, predicted MPG
against training MPG, and each input's drift (statistic, threshold and minimum sample in mpg.monitoring.drift)."""

from __future__ import annotations

import argparse
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from mpg import config
from mpg.artifact.card import InputSchema, ModelCard
from mpg.artifact.store import load_card, served_directory
from mpg.data import model_rows
from mpg.monitoring.drift import MIN_PREDICTIONS, P_THRESHOLD, PSI_THRESHOLD, Drift, compare, input_drift
from mpg.monitoring.table import connect, database_url, read_log

QUANTILES = {"p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}
Source = Literal["api", "app"]
Period = Literal["minute", "5 minutes", "hour", "day"]
# The traffic bin for the longest window it serves (pandas' frequency): 12 to 60 bins up to two days, a bar a day
# beyond. The window is from --since (the page's period) to the newest prediction, else the logged span.
TRAFFIC_BINS: list[tuple[timedelta, Period, str]] = [
    (timedelta(hours=1), "minute", "min"),
    (timedelta(hours=2), "5 minutes", "5min"),
    (timedelta(days=2), "hour", "h"),
    (timedelta.max, "day", "D"),
]


class Traffic(BaseModel):
    start: datetime  # of the bin, UTC
    predictions: int
    requests: int
    sources: dict[str, int]  # predictions per source ("api", "app")


class Report(BaseModel):
    since: datetime | None
    source: Source | None  # the only source reported; None: both
    first: datetime | None  # the oldest and newest prediction reported
    last: datetime | None
    predictions: int
    requests: int  # distinct request IDs (rows without one are not counted)
    sources: dict[str, int]  # "api" / "app"
    extrapolated_share: float | None  # None without predictions
    unknown_input_share: float | None
    warning_share: float | None
    predicted_mpg: dict[str, float | None]  # mean and quantiles
    training_mpg: dict[str, float]
    predicted_mpg_drift: Drift  # predicted MPG against training MPG, same rule as the inputs
    traffic_period: Period
    traffic: list[Traffic]
    thresholds: dict[str, float]
    min_predictions: int  # fewer, and no drift is judged (mpg.monitoring.drift says why)
    drift_judged: bool  # False: too few predictions to judge drift, every `drifted` is None
    drift: dict[str, Drift]  # canonical input name -> its drift

    def shares(self) -> dict[str, float | None]:
        """The shares of cars extrapolated, with an unknown input and with a warning, by what people call them."""
        return {"extrapolated": self.extrapolated_share, "unknown input": self.unknown_input_share,
                "with warnings": self.warning_share}  # fmt: skip


def _summary(values: pd.Series) -> dict[str, float | None]:
    values = values.dropna()
    if values.empty:
        return {"mean": None, **dict.fromkeys(QUANTILES)}
    return {"mean": float(values.mean()), **{k: float(values.quantile(q)) for k, q in QUANTILES.items()}}


def _traffic(log: pd.DataFrame, since: datetime | None) -> tuple[Period, list[Traffic]]:
    if log.empty:
        return "hour", []
    window = log["time"].max() - (pd.Timestamp(since) if since else log["time"].min())
    period, frequency = next((p, f) for longest, p, f in TRAFFIC_BINS if window <= longest)
    grouped = log.set_index("time").resample(frequency)
    counts = pd.DataFrame({"predictions": grouped.size(), "requests": grouped["request_id"].nunique()})
    per_source = log.pivot_table(index="time", columns="source", aggfunc="size").resample(frequency).sum()
    return period, [
        Traffic(start=start.to_pydatetime(), predictions=int(row.predictions), requests=int(row.requests),
                sources={str(k): int(v) for k, v in per_source.loc[start].items()})
        for start, row in counts.iterrows()
    ]  # fmt: skip


def build_report(log: pd.DataFrame, training: pd.DataFrame, schema: InputSchema, since: datetime | None,
                 source: Source | None) -> Report:  # fmt: skip
    """The report over logged rows (`mpg.monitoring.table.read_log`'s frame) against the model's training rows;
    `since` and `source` say what the rows were chosen by."""
    n = len(log)
    inputs = log[config.FEATURES].to_numpy(dtype=np.float64)
    extrapolated = schema.outside_training_range(inputs).any(axis=1)
    period, traffic = _traffic(log, since)

    def share(flags) -> float | None:
        return float(np.mean(flags)) if n else None

    return Report(
        since=since,
        source=source,
        first=log["time"].min().to_pydatetime() if n else None,
        last=log["time"].max().to_pydatetime() if n else None,
        predictions=n,
        requests=int(log["request_id"].nunique()),
        sources={str(k): int(v) for k, v in log["source"].value_counts().items()},
        extrapolated_share=share(extrapolated),
        unknown_input_share=share(np.isnan(inputs).any(axis=1)),
        warning_share=share(log["warnings"].notna()),
        predicted_mpg=_summary(log["prediction"]),
        training_mpg=_summary(training[config.TARGET]),
        predicted_mpg_drift=compare(training[config.TARGET], log["prediction"]),
        traffic_period=period,
        traffic=traffic,
        thresholds={"psi": PSI_THRESHOLD, "p_value": P_THRESHOLD},
        min_predictions=MIN_PREDICTIONS,
        drift_judged=n >= MIN_PREDICTIONS,
        drift=input_drift(training, log),
    )


class MonitorError(Exception):
    """The log cannot be read: reported as one line."""


def load_report(url: str, card: ModelCard, since: datetime | None = None, training: pd.DataFrame | None = None,
                source: Source | None = None) -> Report:  # fmt: skip
    """Read the log at `url` (from `since`, of `source` only, when given) and build its report against the model's
    training rows (`training`, when the caller has them already); MonitorError when the database cannot be read."""
    try:
        parsed = make_url(url)
    except SQLAlchemyError:
        raise MonitorError(f"not a database URL: {url!r}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        raise MonitorError(f"no prediction log at {parsed.database} (nothing recorded yet?)")
    try:
        log = read_log(connect(url), since, source)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise MonitorError(f"{parsed.render_as_string(hide_password=True)}: cannot be read: {reason}") from None
    return build_report(log, model_rows(card)[0] if training is None else training, card.inputs, since, source)


def format_p_value(p_value: float | None) -> str:
    """A p-value as people read it: two significant digits, and `< 1e-6` below that (no 1e-300 that says nothing
    more and pushes the verdict off a phone's screen)."""
    if p_value is None:
        return ""
    if p_value < 1e-6:
        return "< 1e-6"
    return f"{p_value:.2g}".replace("e-0", "e-")  # 1.2e-5, not 1.2e-05


def drift_note(report: Report) -> str | None:
    """What stands in for the drift verdicts when there are too few predictions to judge them."""
    if report.drift_judged:
        return None
    return f"too few predictions to judge drift: {report.predictions:,}, at least {report.min_predictions:,} needed"


def format_report(report: Report) -> str:
    """The report as text for a terminal."""
    only = f" from the {report.source}" if report.source else ""
    if not report.predictions:
        return f"no predictions logged{only}" + (f" since {report.since:%Y-%m-%d %H:%M} UTC" if report.since else "")
    sources = f"{report.source} only" if report.source else ", ".join(f"{k} {v:,}" for k, v in report.sources.items())
    mpg, train = report.predicted_mpg, report.training_mpg
    lines = [
        f"{report.predictions:,} predictions in {report.requests:,} requests ({sources}), "
        f"{report.first:%Y-%m-%d %H:%M} to {report.last:%Y-%m-%d %H:%M} UTC",
        ", ".join(f"{label} {share:.1%}" for label, share in report.shares().items()),
        f"predicted MPG: median {mpg['p50']:.1f}, 5-95% {mpg['p05']:.1f}-{mpg['p95']:.1f} "
        f"(training MPG: median {train['p50']:.1f}, 5-95% {train['p05']:.1f}-{train['p95']:.1f})",
        "",
        f"input drift: {drift_note(report)}"
        if not report.drift_judged
        else f"input drift (drifted: PSI > {PSI_THRESHOLD:g} and chi-square p < {P_THRESHOLD:g})",
        f"  {'input':<13} {'PSI':>7} {'p-value':>8} {'unknown':>8}",
    ]
    for name, drift in report.drift.items():
        psi = "" if drift.statistic is None else f"{drift.statistic:.3f}"
        # Too few in all: said once above. Too few known values of one input: said on its line.
        flag = {"DRIFTED": "  DRIFTED", "too few": "  too few known values" if report.drift_judged else ""}
        lines.append(f"  {name:<13} {psi:>7} {format_p_value(drift.p_value):>8} {drift.unknown:>8}"
                     f"{flag.get(drift.verdict, '')}")  # fmt: skip
    lines += ["", f"traffic per {report.traffic_period} (last 24)"]
    fmt = "%Y-%m-%d" if report.traffic_period == "day" else "%Y-%m-%d %H:%M"
    for t in report.traffic[-24:]:
        by_source = "" if report.source else "  " + ", ".join(f"{k} {v:,}" for k, v in t.sources.items())
        lines.append(f"  {t.start:{fmt}}  {t.predictions:>8,} predictions {t.requests:>7,} requests{by_source}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> None:
    """The `monitor` command (its options are declared in mpg.cli)."""
    url = args.database or database_url(os.environ)
    try:
        report = load_report(url, load_card(served_directory(os.environ)), args.since, source=args.source)
    except MonitorError as exc:
        # parser.error is argparse's way to report a user error: one line and exit 2 (mpg.cli's parser too).
        args.monitor_parser.error(str(exc))
    print(report.model_dump_json() if args.json else format_report(report))
