"""The Monitoring page's logic and charts (from a `mpg.monitoring.report.Report`). The page shows what callers
sent, so it exists only when `MONITOR_TOKEN` is set, and only to whoever enters it."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import altair as alt
import pandas as pd

from mpg.monitoring.drift import Drift
from mpg.monitoring.report import Report, format_p_value

PERIODS = {"last hour": timedelta(hours=1), "last day": timedelta(days=1), "last 7 days": timedelta(days=7),
           "last 30 days": timedelta(days=30), "everything kept": None}  # fmt: skip
SOURCES = {"API and app": None, "API callers": "api", "app visitors": "app"}  # the page's choice -> --source
SETS = alt.Scale(domain=["training", "served"], range=["#9e9e9e", "#1f77b4"])


def monitoring_enabled(environ: Mapping[str, str]) -> bool:
    """Whether the page exists: only when a token is set."""
    return bool(environ.get("MONITOR_TOKEN", "").strip())


def token_matches(given: str, environ: Mapping[str, str]) -> bool:
    """The entered token against `MONITOR_TOKEN`, in constant time; never true when none is set."""
    expected = environ.get("MONITOR_TOKEN", "").strip()
    return bool(expected) and hmac.compare_digest(given.strip().encode(), expected.encode())


def since(period: str, now: datetime | None = None) -> datetime | None:
    """The start of one of `PERIODS`, None for everything."""
    length = PERIODS[period]
    return None if length is None else (now or datetime.now(UTC)) - length


def drift_table(report: Report) -> pd.DataFrame:
    """One row per input: its verdict first, so a phone's narrow screen shows it; then PSI, p-value, unknown values."""
    return pd.DataFrame([
        {"input": name, "verdict": d.verdict, "PSI": None if d.statistic is None else round(d.statistic, 2),
         "p-value": format_p_value(d.p_value), "unknown": d.unknown}
        for name, d in report.drift.items()
    ])  # fmt: skip


def source_counts(report: Report) -> str:
    """Predictions per source, named as the page's control names them."""
    names = {source: label for label, source in SOURCES.items() if source}
    return ", ".join(f"{names.get(source, source)} {count:,}" for source, count in report.sources.items())


def distribution_chart(name: str, drift: Drift) -> alt.Chart:
    """The served shares per bin beside the training shares; the title says whether it drifted."""
    rows = [{"bin": b.label, "set": s, "share": getattr(b, s)} for b in drift.bins for s in ("training", "served")]
    psi = "no value known" if drift.statistic is None else f"PSI {drift.statistic:.2f}"
    title = f"{name}: {psi}{' - DRIFTED' if drift.drifted else ''}"
    bars = alt.Chart(pd.DataFrame(rows), title=title, height=220).mark_bar()
    return bars.encode(
        x=alt.X("bin:N", sort=[b.label for b in drift.bins], title=None),
        xOffset=alt.XOffset("set:N", sort=["training", "served"]),
        y=alt.Y("share:Q", axis=alt.Axis(format="%"), title="share"),
        color=alt.Color("set:N", scale=SETS, title=None),
        tooltip=["bin", "set", alt.Tooltip("share:Q", format=".1%")],
    )


def traffic_chart(report: Report) -> alt.Chart:
    """Predictions per source and requests per bin (minutes to days, as the report chose for its window)."""
    label = {"api": "API predictions", "app": "app predictions"}
    rows = [
        {"start": t.start, "what": label.get(s, s), "count": n} for t in report.traffic for s, n in t.sources.items()
    ]
    rows += [{"start": t.start, "what": "requests", "count": t.requests} for t in report.traffic]
    data = pd.DataFrame(rows, columns=["start", "what", "count"])
    lines = alt.Chart(data, title="Traffic", height=220).mark_line(point=True)
    return lines.encode(
        x=alt.X("start:T", title=f"per {report.traffic_period} (UTC)"),
        y=alt.Y("count:Q", title=None),
        color=alt.Color("what:N", title=None),
        tooltip=[alt.Tooltip("start:T", format="%Y-%m-%d %H:%M"), "what", "count"],
    )
