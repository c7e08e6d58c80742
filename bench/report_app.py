"""RESULTS.md's app and memory sections: a visitor's first prediction, reruns, visitors, and resident memory."""

from __future__ import annotations

from pathlib import Path

from bench.targets import TARGETS
from bench.verdicts import Results, bullet, one_check


def memory_section(lines: list[str], results: Results, plot: Path) -> None:
    result = results["memory"]
    if not result:
        lines.append("memory_section: not yet measured (`python -m bench memory`, needs Debian's wrk and chromium)_\n")
        return
    idle, load, app = result["idle"], result["load"], result["app"]
    idle_total, app_rss = one_check(results, "api_idle_rss"), one_check(results, "app_rss")
    growth = TARGETS["worker_growth"]
    settle, end = load["settle_s"], load["seconds"]
    master = dict(load["master_mb"])
    lines += [
        "## Memory",
        "",
        f"Measured {result['measured_at']}. The API as shipped (`gunicorn api.wsgi:app` with gunicorn.conf.py, "
        f"{result['workers']} gevent workers, prediction log on into SQLite): resident memory (VmRSS) of each "
        f"process once every worker has served a prediction ({idle['requests_sent']} requests, each on a new "
        "connection), then under a steady mixed load (one car, 100 cars, `/invocations` and `/v2` infer in turn, "
        f"from wrk): capacity {load['capacity']['rps']:,.0f} requests/s unthrottled with {load['connections']} "
        f"connections, then half of it ({load['target_rps']:,.0f}/s) for {end / 60:g} minutes, each connection "
        f"waiting {load['delay_ms']:.1f} ms "
        f"between requests: {load['achieved']['rps']:,.0f} requests/s achieved ({load['achieved']['requests']:,} "
        f"requests, {load['achieved']['errors']} errors, p50 {load['achieved']['p50_ms']:.2f} ms, p99 "
        f"{load['achieved']['p99_ms']:.2f} ms). RSS sampled every {load['every_s']} s, each worker followed by PID.",
        "",
        f"| process | idle (MB) | after {settle} s of load (MB) | at the end, {end} s (MB) | growth |",
        "| --- | --- | --- | --- | --- |",
        f"| master | {idle['master_mb']:.1f} | {master[settle]:.1f} | {master[end]:.1f} | |",
    ]
    for pid, samples in load["workers_mb"].items():
        at = dict(samples)
        cells = [
            f"{mb:.1f}" if mb is not None else "-" for mb in (idle["workers_mb"].get(pid), at.get(settle), at.get(end))
        ]
        survived = load["survivors"].get(pid)
        change = (
            f"{survived['growth_pct']:+.1f}%" if survived
            else "started during the run" if settle not in at
            else "replaced during the run"
        )  # fmt: skip
        lines.append(f"| worker {pid} | {' | '.join(cells)} | {change} |")
    lines += [
        f"| all, idle | {idle['total_mb']:.1f} | | | |",
        "",
        bullet(idle_total, f"{idle_total.value:.1f} MB"),
    ]
    survivors = growth.checks(results)
    lines += [bullet(check, f"{check.value:.1f} MB against {check.reference:.1f} MB "
                             f"({check.value / check.reference - 1:+.1%})") for check in survivors]  # fmt: skip
    if not survivors:  # gunicorn's max_requests replaced every worker during the run: nothing to check
        lines.append(
            f"- {growth.measures.format(each='that lived through the run')} {growth.condition}: none lived through "
            f"it ({load['workers_seen']} workers seen; gunicorn replaces one after `max_requests`), **not met**."
        )
    lines += [
        bullet(app_rss, f"{app_rss.value:.1f} MB (at start {app['started_mb']:.1f} MB)"),
        "",
    ]
    if plot.exists():
        lines += [f"![Each worker's RSS over the load]({plot.name})", ""]


def app_section(lines: list[str], results: Results) -> None:
    result = results["app"]
    if not result:
        lines.append("app_section: not yet measured (`python -m bench app`)_\n")
        return
    first, rerun = result["first_run_s"]["median"], result["rerun_ms"]["median"]
    rerun_targets = [one_check(results, key) for key in ("rerun_13", "rerun_14")]
    lines += [
        "## App",
        "",
        f"Measured {result['measured_at']}.",
        "",
        "| figure | target | measured | |",
        "| --- | --- | --- | --- |",
        f"| AppTest: the whole script's first run, fresh process (median of {len(result['first_run_s']['runs'])}) "
        f"| - | {first:.2f} s | |",
        f"| {rerun_targets[0].label} (median of {result['rerun_ms']['runs']}) | "
        + ", ".join(f"{check.target.condition} ({check.target.issue})" for check in rerun_targets)
        + f" | {rerun:.1f} ms (p90 {result['rerun_ms']['p90']:.1f}) | "
        + " / ".join(check.mark for check in rerun_targets)
        + " |",
    ]
    first_prediction = result.get("first_prediction")
    if first_prediction:
        target = one_check(results, "first_prediction")
        ratio = first_prediction["ratio_median"]
        median = first_prediction["median_s"]
        lines.append(
            f"| {target.label} (navigation start to the metric in the page), against "
            f"a one-line `st.metric` app (median of {first_prediction['visits']} alternating visits after each "
            f"server's first) | {target.target.condition} "
            f"| {median['app']:.2f} s against {median['one_metric']:.2f} s: {ratio:.2f}x | {target.mark} |"
        )
        watcher = first_prediction.get("file_watcher")
        if watcher:
            lines.append(
                f"| the same, then the app with Streamlit's default file watcher on (`.streamlit/config.toml` turns "
                f"it off) | - | {watcher['median_s']['app']:.2f} s against {watcher['median_s']['one_metric']:.2f} s: "
                f"{watcher['ratio_median']:.2f}x | |"
            )
    load_run = result.get("load")
    if load_run:
        p95, errors = one_check(results, "load_p95"), one_check(results, "load_errors")
        lines.append(
            f"| {load_run['visitors']} {p95.label}, a slider change every {load_run['every_s']:g} s for "
            f"{load_run['seconds']:g} s: p95 from change to updated prediction ({load_run['changes']} changes, "
            f"{load_run['errors']} errors) | {p95.target.condition}, {errors.target.condition} | "
            f"{p95.value:.2f} s | {p95.mark} / {errors.mark} |"
        )
        rss = load_run["server_rss_mb"]
        lines += [
            "",
            f"Server memory (resident): {rss['after_one_visitor']:.0f} MB after one visitor, {rss['at_end']:.0f} MB "
            f"with {load_run['visitors']}: {load_run['rss_per_extra_session_mb']:.1f} MB per extra session.",
        ]
    rerun_before = results["rerun"]
    if rerun_before:
        check = one_check(results, "rerun_before")
        lines += [
            "",
            f"{check.label} (commit {rerun_before['baseline_ref']}), fresh processes, alternating, "
            f"{rerun_before['reruns_per_round']} reruns a round, median of the rounds' medians: "
            f"{rerun_before['ours_ms']:.1f} ms against {rerun_before['before_ms']:.1f} ms "
            f"({rerun_before['ratio']:.2f}x); {check.target.condition}: {check.mark}.",
        ]
    lines.append("")
