"""The app in a real browser: Debian's Chromium driven by Playwright against `streamlit run`.

Locally these skip with a message when Chromium is missing; CI sets MPG_REQUIRE_BROWSER=1,
which turns that skip into a failure. Screenshots land in a temporary folder, or in $MPG_SCREENSHOTS.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
# Screenshots go to a temporary folder (a test writes nothing into the project); MPG_SCREENSHOTS keeps them.
ARTIFACTS = Path(os.environ.get("MPG_SCREENSHOTS") or tempfile.mkdtemp(prefix="mpg-screenshots-"))


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


@contextlib.contextmanager
def visit(browser, url: str, width: int = 1400, height: int = 1000):
    """A fresh browser context (no cookies, no state) opening `url`; page errors fail the test."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url, wait_until="domcontentloaded")
    yield page
    context.close()
    assert not errors, errors


@pytest.fixture()
def page(browser, live_app):
    with visit(browser, live_app) as page:
        page.get_by_text("Predicted MPG", exact=True).first.wait_for(timeout=60_000)
        yield page


def metric_value(page, label: str) -> float:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label)
    return float(metric.locator('[data-testid="stMetricValue"]').inner_text())


def shoot(page, name: str) -> Path:
    """A picture of the whole view: Streamlit scrolls inside its own container, so grow the viewport first."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
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


def weight_thumb(page):
    return page.locator('[data-testid="stSlider"]').filter(has_text="Weight").locator('input[type="range"]')


def test_keyboard_on_weight_slider_changes_the_prediction_and_the_url(page):
    before = metric_value(page, "Predicted MPG")
    shoot(page, "predict")
    thumb = weight_thumb(page)
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
    page.wait_for_function("([w]) => new URL(location.href).searchParams.get('weight') == w", arg=[f"{start + 400:g}"],
                           timeout=30_000)  # fmt: skip
    assert metric_value(page, "Predicted MPG") < before  # heavier, fewer miles per gallon
    assert parse_qs(urlsplit(page.url).query)["weight"] == [f"{start + 400:g}"]
    shoot(page, "predict-heavier")


def test_a_shared_url_reproduces_the_prediction_in_a_fresh_browser(browser, live_app, model):
    from app_pages.view.share import car_to_params
    from mpg.prediction import predict

    car = {"cylinders": "6", "displacement": "225", "horsepower": "100", "weight": "3430", "acceleration": "17.2",
           "model_year": "78", "origin": "USA"}  # fmt: skip
    url = f"{live_app}/?" + "&".join(f"{k}={v}" for k, v in car.items())
    shown = []
    for _ in range(2):  # two visitors who share nothing but the link
        with visit(browser, url) as page:
            page.get_by_text("Predicted MPG", exact=True).first.wait_for(timeout=60_000)
            shown.append(metric_value(page, "Predicted MPG"))
            assert parse_qs(urlsplit(page.url).query) == {k: [v] for k, v in car.items()}
            assert not page.locator('[data-testid="stAlert"]').filter(has_text="link").count()
    from app_pages.view.share import car_from_params

    expected = predict(model, car_from_params(car, model.card).car.inputs()).mpg[0]
    assert shown[0] == shown[1] == round(float(expected), 1)
    assert car_to_params(car_from_params(car, model.card).car) == car


@pytest.mark.parametrize(("path", "marker"), [
    ("explore", "Correlation with MPG"), ("model", "Leaderboard"), ("batch", "Call the JSON API"),
    ("tutorial", "10. Serving"), ("predict", "How far does a car go on a gallon?"),
])  # fmt: skip
def test_each_page_has_its_own_address(browser, live_app, path, marker):
    with visit(browser, f"{live_app}/{path}") as page:
        page.get_by_text(re.compile(marker)).first.wait_for(timeout=60_000)
        if path in {"explore", "model"}:
            page.locator('[data-testid="stVegaLiteChart"], .vega-embed').first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)  # let the charts finish drawing before the picture
        assert urlsplit(page.url).path == f"/{path}"
        shoot(page, path)
        assert not page.locator('[data-testid="stException"]').count()
        assert not page.get_by_text("ensemble_svr_et_gbr", exact=False).count() or path == "model"


@pytest.mark.parametrize("path", ["", "explore", "model", "batch", "tutorial"])
def test_a_phone_sees_no_sideways_scroll(browser, live_app, path):
    pinned = "?pin=8,307,130,3504,12,70,USA" if path == "" else ""
    with visit(browser, f"{live_app}/{path}{pinned}", width=390, height=844) as page:
        page.locator('[data-testid="stMain"] h1').first.wait_for(timeout=60_000)
        page.wait_for_timeout(2500)  # charts and tables reach their final width
        shoot(page, f"phone-{path or 'predict'}")
        wide = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert wide[0] <= wide[1], wide
        if pinned:  # the app rewrites the address: the pinned car reads as typed, not as %2C-escaped commas
            assert "pin=8_307_130_3504_12_70_USA" in page.url and "%2C" not in page.url, page.url


def test_upload_in_the_browser(browser, live_app, tmp_path, auto_mpg):
    from mpg import config

    with visit(browser, f"{live_app}/batch") as page:
        good = tmp_path / "cars.csv"
        auto_mpg.dropna().head(3)[[config.NAME, *config.FEATURES]].to_csv(good, index=False)
        page.locator('input[type="file"]').set_input_files(str(good))
        page.get_by_text("predicted 3 of 3 rows").wait_for(timeout=60_000)
        bad = tmp_path / "bad.csv"
        bad.write_text("Cylinders,Weight\n4,heavy\n")
        page.locator('input[type="file"]').set_input_files(str(bad))
        page.get_by_text("bad.csv cannot be used:").wait_for(timeout=60_000)
        page.get_by_text(re.compile(r"Displacement: column is missing")).first.wait_for(timeout=10_000)
        shoot(page, "batch-error")


# What a visitor must read whole: headers, metric labels and values, static tables' cells, captions, buttons.
READ_WHOLE = ", ".join([
    '[data-testid="stMain"] h1', '[data-testid="stMain"] h2', '[data-testid="stMain"] h3',
    '[data-testid="stMetricLabel"]', '[data-testid="stMetricValue"]', '[data-testid="stTable"] th',
    '[data-testid="stTable"] td', '[data-testid="stCaptionContainer"]', '[data-testid="stMain"] button p',
])  # fmt: skip
# The element or a box inside it (a metric's value is in an inner div) is wider than what shows of it.
CLIPPED = """(selector) => [...document.querySelectorAll(selector)]
    .filter(e => e.offsetParent !== null
        && [e, ...e.querySelectorAll('*')].some(x => x.scrollWidth > x.clientWidth + 1))
    .map(e => e.innerText.slice(0, 60))"""
# Vega cuts a label or legend entry that does not fit with an ellipsis.
CUT_CHART_TEXT = """() => [...document.querySelectorAll('.vega-embed svg text')]
    .map(t => t.textContent).filter(text => text.endsWith('…'))"""


@pytest.mark.parametrize("width", [1400, 390])
@pytest.mark.parametrize("path", ["", "explore", "model", "batch", "tutorial"])
def test_nothing_a_visitor_reads_is_clipped(browser, live_app, path, width):
    with visit(browser, f"{live_app}/{path}", width=width, height=900) as page:
        page.locator('[data-testid="stMain"] h1').first.wait_for(timeout=60_000)
        if path in {"", "explore", "model"}:
            page.locator(".vega-embed svg").first.wait_for(timeout=60_000)
        page.wait_for_timeout(2500)  # charts and tables reach their final width
        assert page.evaluate(CLIPPED, READ_WHOLE) == []
        assert page.evaluate(CUT_CHART_TEXT) == []


def test_on_a_phone_the_prediction_stays_in_view_while_each_slider_moves(browser, live_app, model):
    from app_pages.view.share import car_from_params
    from mpg.prediction import predict

    with visit(browser, live_app, width=390, height=844) as page:
        page.get_by_text("Predicted MPG", exact=True).first.wait_for(timeout=60_000)
        page.wait_for_url(re.compile(r"weight="), timeout=30_000)  # the first run has drawn its prediction
        summary = page.locator(".st-key-sticky_prediction")
        sliders = page.get_by_role("slider")
        sliders.nth(5).wait_for(timeout=30_000)
        for index in range(sliders.count()):
            slider = sliders.nth(index)
            slider.scroll_into_view_if_needed()
            address = page.url
            slider.focus()
            page.keyboard.press("ArrowRight" if index != 5 else "ArrowLeft")  # the year starts at its median
            # The address follows the sliders once the new prediction is drawn (a step can leave the shown
            # MPG as it was: 4 to 8 cylinders both give 23.0 for the default car), so wait on the address.
            page.wait_for_function("([before]) => location.href !== before", arg=[address], timeout=30_000)
            box = summary.bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844, (index, box)
            params = {name: values[0] for name, values in parse_qs(urlsplit(page.url).query).items()}
            expected = predict(model, car_from_params(params, model.card).car.inputs())
            assert summary.inner_text().startswith(f"{expected.mpg[0]:.1f} MPG"), (index, summary.inner_text())
            assert metric_value(page, "Predicted MPG") == round(float(expected.mpg[0]), 1), index


@pytest.mark.parametrize("width", [1400, 390])
def test_the_api_docs_page_shows_its_examples_whole(browser, live_api, width):
    with visit(browser, f"{live_api}/docs", width=width, height=900) as page:
        page.locator("pre").first.wait_for(timeout=30_000)
        assert page.evaluate(CLIPPED, "pre, p, li, td") == []
        wide = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert wide[0] <= wide[1], wide
