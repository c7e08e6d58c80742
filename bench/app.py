"""The app's speed: a new visitor's first predicted MPG against a one-line Streamlit app (Chromium), reruns after
a slider change (AppTest), and five visitors at once moving sliders (Chromium, real `streamlit run`).

`python -m bench app` runs all three; `python -m bench.app --visits 1 --load-seconds 6` is a short check.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench.common import save
from mpg import config

APP = str(config.PROJ_ROOT / "streamlit_app.py")
YARDSTICK = "bench/one_metric_app.py"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
FIRST_RUN = (
    "import time\nfrom streamlit.testing.v1 import AppTest\n"
    f"began = time.perf_counter()\nat = AppTest.from_file({APP!r}, default_timeout=60).run()\n"
    "assert not at.exception\nprint(time.perf_counter() - began)"
)
METRIC = '[data-testid="stMetricValue"]'
SCRIPT_DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# Runs in the page before its own scripts: notes when the first metric value enters the document.
MARK_METRIC = f"""
new MutationObserver((changes, observer) => {{
  if (document.querySelector('{METRIC}')) {{ window.metricShown = performance.now(); observer.disconnect(); }}
}}).observe(document, {{subtree: true, childList: true}});
"""


def serve(stack: ExitStack, script: str, name: str, *options: str) -> tuple[str, subprocess.Popen]:
    """`streamlit run script [options]` on a free port, stopped when `stack` closes."""
    from tests.servers import free_port, running

    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true", *options]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    log = Path(tempfile.gettempdir()) / f"mpg-bench-{name}.log"
    process = stack.enter_context(running(command, f"{url}/_stcore/health", log))
    return url, process


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def first_predictions(visits: int) -> dict:
    """Seconds from navigation start to the first metric in the page, alternating between the two apps.

    The page itself records the moment (a MutationObserver, `performance.now()` from navigation start): Playwright's
    `wait_for` polls at growing intervals, up to 500 ms apart, which would round both apps' times to its polls.
    Each visit is a new browser context (a new visitor: no cache, no cookies), closed once the page has loaded
    everything (charts below the fold too), so one visit's tail does not run into the next. The first visit to each
    server (imports, model load: once per process) is reported apart; the ratio uses the visits after it.
    Then, with those servers stopped, the same against the app with Streamlit's default file watcher (which
    .streamlit/config.toml turns off), to show what that setting is worth: a pass of its own, so that a third
    server's work does not slow the two measured beside it.
    """
    times = _alternate_visits({"app": ("streamlit_app.py",), "one_metric": (YARDSTICK,)}, visits)
    watched = _alternate_visits(
        {"app": ("streamlit_app.py", "--server.fileWatcherType", "auto"), "one_metric": (YARDSTICK,)}, visits, "watcher"
    )
    return {
        "first_visit_s": {name: runs[0] for name, runs in times.items()},
        **_warm(times),
        "visits": visits,
        "runs_s": {name: runs[1:] for name, runs in times.items()},
        "file_watcher": _warm(watched),
    }


def _alternate_visits(apps: dict[str, tuple[str, ...]], visits: int, tag: str = "") -> dict[str, list[float]]:
    """Each app (`streamlit run` with these arguments) visited `visits` + 1 times, in turn: seconds to the metric.

    `tag` names this pass's server logs apart from another pass's."""
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {name: [] for name in apps}
    with ExitStack() as stack, sync_playwright() as playwright:
        urls = {name: serve(stack, script, name + tag, *options)[0] for name, (script, *options) in apps.items()}
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for _ in range(visits + 1):
            for name, url in urls.items():
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                context.add_init_script(MARK_METRIC)
                page = context.new_page()
                page.goto(url, wait_until="commit")
                page.locator(METRIC).first.wait_for(timeout=120_000)
                times[name].append(page.evaluate("window.metricShown") / 1000)
                # The rest of the page: the script done, then its charts' files fetched (networkidle alone may
                # come in a pause before the script's messages, which arrive over the websocket it ignores).
                page.locator(SCRIPT_DONE).wait_for(timeout=120_000)
                page.wait_for_load_state("networkidle")
                context.close()
        browser.close()
    return times


def _warm(times: dict[str, list[float]]) -> dict:
    """Leaving out the first visit to each server: each app's median, and the median of the app's time over the
    one-metric app's, visit by visit."""
    warm = {name: runs[1:] for name, runs in times.items()}
    ratios = [a / b for a, b in zip(warm["app"], warm["one_metric"], strict=True)]
    return {"median_s": {name: statistics.median(runs) for name, runs in warm.items()},
            "ratio_median": statistics.median(ratios)}  # fmt: skip


def reruns(count: int, first_runs: int) -> dict:
    """AppTest: the whole script's first run in a fresh process, then reruns after a slider change."""
    from streamlit.testing.v1 import AppTest

    # Each first run in a fresh process (caches empty, the app's imports not yet done); streamlit itself
    # is imported beforehand, as it is in a running server.
    first = [float(subprocess.run([sys.executable, "-c", FIRST_RUN], check=True, capture_output=True, text=True,
                                  cwd=config.PROJ_ROOT).stdout.split()[-1]) for _ in range(first_runs)]  # fmt: skip
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    times = []
    for i in range(count):
        began = time.perf_counter()
        at.slider(key="input_Weight").set_value(2000.0 + 50 * i).run()
        times.append(time.perf_counter() - began)
    assert not at.exception
    return {
        "first_run_s": {"median": statistics.median(first), "runs": first},
        "rerun_ms": {
            "median": statistics.median(times) * 1000,
            "p90": sorted(times)[int(0.9 * len(times))] * 1000,
            "runs": len(times),
        },
    }


async def _visitor(browser, url: str, seconds: float, every: float, delays: list[float], errors: list[str]) -> None:
    """One visitor: open the app, then move the weight slider one step every `every` seconds.

    A delay is from the key press to the address bar showing the new weight: the page sets the address after
    drawing the metric in the same rerun, so at that moment the new prediction is on screen.
    """
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(url)
    await page.locator(METRIC).first.wait_for(timeout=120_000)
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text="Weight").locator('input[type="range"]')
    stop, step = time.monotonic() + seconds, 0
    while time.monotonic() < stop:
        started = time.monotonic()
        key = "ArrowRight" if (step // 10) % 2 == 0 else "ArrowLeft"  # back and forth, inside the range
        weight = float(await thumb.get_attribute("aria-valuetext")) + (10 if key == "ArrowRight" else -10)
        await thumb.focus()
        began = time.perf_counter()
        await page.keyboard.press(key)
        try:
            await page.wait_for_function(
                "w => new URL(location.href).searchParams.get('weight') === w", arg=f"{weight:g}", timeout=30_000
            )
            delays.append(time.perf_counter() - began)
        except Exception as exc:  # a timeout is an error of the run, not of the benchmark
            errors.append(f"no update within 30 s: {exc}")
        if await page.locator('[data-testid="stException"]').count():
            errors.append("the app showed an exception")
        step += 1
        await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))
    await context.close()


async def _load(url: str, visitors: int, seconds: float, every: float, process) -> dict:
    from playwright.async_api import async_playwright

    delays: list[float] = []
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        one = await browser.new_context()
        page = await one.new_page()
        await page.goto(url)
        await page.locator(METRIC).first.wait_for(timeout=120_000)
        await one.close()
        one_session = rss_mb(process.pid)  # after one visitor: caches built, modules imported
        await asyncio.gather(*(_visitor(browser, url, seconds, every, delays, errors) for _ in range(visitors)))
        end = rss_mb(process.pid)
        await browser.close()
    ordered = sorted(delays)
    return {
        "visitors": visitors,
        "seconds": seconds,
        "every_s": every,
        "changes": len(delays),
        "errors": len(errors),
        "error_samples": errors[:5],
        "p50_s": statistics.median(ordered) if ordered else None,
        "p95_s": ordered[int(0.95 * (len(ordered) - 1))] if ordered else None,
        "server_rss_mb": {"after_one_visitor": one_session, "at_end": end},
        "rss_per_extra_session_mb": (end - one_session) / max(1, visitors - 1),
    }


def load(visitors: int, seconds: float, every: float) -> dict:
    """Five visitors at once (five pages in one Chromium) against one `streamlit run`."""
    with ExitStack() as stack:
        url, process = serve(stack, "streamlit_app.py", "app-load")
        return asyncio.run(_load(url, visitors, seconds, every, process))


def main(visits: int = 11, count: int = 40, first_runs: int = 3, load_seconds: float = 60.0) -> dict:
    result = reruns(count, first_runs)
    result["first_prediction"] = first_predictions(visits)
    result["load"] = load(5, load_seconds, 2.0)
    print(result)
    return save("app", result)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=11, help="visits to each app after the first (default 11)")
    parser.add_argument("--reruns", type=int, default=40)
    parser.add_argument("--first-runs", type=int, default=3)
    parser.add_argument("--load-seconds", type=float, default=60.0)
    parser.add_argument("--save", action="store_true", help="write bench/results/app.json (short checks do not)")
    options = parser.parse_args()
    if options.save:
        main(options.visits, options.reruns, options.first_runs, options.load_seconds)
    else:
        print(reruns(options.reruns, options.first_runs))
        print(first_predictions(options.visits))
        print(load(5, options.load_seconds, 2.0))
