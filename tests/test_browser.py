"""The app in a real browser: Debian's Chromium driven by Playwright against `streamlit run`.

Locally these skip with a message when Chromium is missing; CI sets MPG_REQUIRE_BROWSER=1,
which turns that skip into a failure. Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: apt-get install -y chromium"
        if os.environ.get("MPG_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, live_app):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_app, wait_until="domcontentloaded")
    page.get_by_text("Predicted MPG", exact=True).first.wait_for(timeout=60_000)
    yield page
    context.close()
    assert not errors, errors


def metric_value(page, label: str) -> float:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label)
    return float(metric.locator('[data-testid="stMetricValue"]').inner_text())


def shoot(page, name: str) -> Path:
    """A picture of the whole view: Streamlit scrolls inside its own container, so grow the viewport first."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], section, div')]"
        ".slice(0, 400).map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 7000)})
    page.wait_for_timeout(1000)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    assert path.stat().st_size > 10_000
    return path


def test_keyboard_on_weight_slider_changes_the_prediction(page):
    before = metric_value(page, "Predicted MPG")
    shoot(page, "predict")
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text="Weight").locator('input[type="range"]')
    start = float(thumb.get_attribute("aria-valuetext"))
    thumb.focus()
    for _ in range(40):
        page.keyboard.press("ArrowRight")  # 40 steps of 10 lb
    page.wait_for_function(
        "([before]) => { const v = document.querySelector('[data-testid=\"stMetricValue\"]'); "
        "return v && parseFloat(v.innerText) !== before; }",
        arg=[before],
        timeout=30_000,
    )
    page.wait_for_function(
        '([start]) => parseFloat(document.querySelector(\'[aria-label="Weight (lb)"] input, '
        "input[aria-label=\"Weight (lb)\"]').getAttribute('aria-valuetext')) >= start + 400",
        arg=[start],
        timeout=30_000,
    )
    assert metric_value(page, "Predicted MPG") < before  # heavier, fewer miles per gallon
    shoot(page, "predict-heavier")


@pytest.mark.parametrize(("view", "marker"), [
    ("Explore", "Correlation with MPG"), ("Model", "Leaderboard"), ("Batch & API", "Call the JSON API"),
])  # fmt: skip
def test_each_view_renders(page, view, marker):
    page.locator('[data-testid="stSidebar"]').get_by_text(view, exact=True).click()
    page.get_by_text(re.compile(marker)).first.wait_for(timeout=60_000)
    if view != "Batch & API":
        page.locator('[data-testid="stVegaLiteChart"], .vega-embed').first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # let the charts finish drawing before the picture
    shoot(page, view.split()[0].lower())
    assert not page.locator('[data-testid="stException"]').count()


def test_upload_in_the_browser(page, tmp_path, auto_mpg):
    from mpg import config

    page.locator('[data-testid="stSidebar"]').get_by_text("Batch & API", exact=True).click()
    good = tmp_path / "cars.csv"
    auto_mpg.dropna().head(3)[[config.NAME, *config.FEATURES]].to_csv(good, index=False)
    page.locator('input[type="file"]').set_input_files(str(good))
    page.get_by_text("3 predictions").wait_for(timeout=60_000)
    bad = tmp_path / "bad.csv"
    bad.write_text("Cylinders,Weight\n4,heavy\n")
    page.locator('input[type="file"]').set_input_files(str(bad))
    page.get_by_text(re.compile(r"bad\.csv: .*missing")).wait_for(timeout=60_000)
    shoot(page, "batch-error")
