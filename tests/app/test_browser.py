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


# What a visitor must read whole: headers, metric labels and values, static tables (each cell, and the frame around
# the table: a table wider than its frame scrolls or is cut), captions, buttons.
READ_WHOLE = ", ".join([
    '[data-testid="stMain"] h1', '[data-testid="stMain"] h2', '[data-testid="stMain"] h3',
    '[data-testid="stMetricLabel"]', '[data-testid="stMetricValue"]', '[data-testid="stTable"]',
    '[data-testid="stTable"] th', '[data-testid="stTable"] td', '[data-testid="stCaptionContainer"]',
    '[data-testid="stMain"] button p',
])  # fmt: skip
# The element or a box inside it (a metric's value is in an inner div) is wider than what shows of it.
CLIPPED = """(selector) => [...document.querySelectorAll(selector)]
    .filter(e => e.offsetParent !== null
        && [e, ...e.querySelectorAll('*')].some(x => x.scrollWidth > x.clientWidth + 1))
    .map(e => e.innerText.slice(0, 60))"""
# Vega cuts a label or legend entry that does not fit with an ellipsis, and hides (opacity 0) a label that would
# overlap another: dropping a number from a numeric axis is fine, a name is not.
CUT_CHART_TEXT = """() => [...document.querySelectorAll('.vega-embed svg text')]
    .filter(t => t.textContent.endsWith('…') || (t.getAttribute('opacity') === '0' && /[a-z]/i.test(t.textContent)))
    .map(t => t.textContent)"""
# Streamlit (1.67's ArrowVegaLiteChart) draws a chart on canvas above 2,000 point, bar, rule or text marks unless
# the spec names a renderer: its text is then pixels that the checks of chart text cannot read, so a chart on
# canvas fails the test rather than pass unchecked.
CANVAS_CHARTS = """() => [...document.querySelectorAll('.vega-embed canvas')]
    .map(canvas => `a chart on canvas, ${canvas.width}x${canvas.height}`)"""
# Text that runs past the chart's edge is cut there, with no ellipsis. A rotated axis title's box is its font's
# em box, which reaches 2 px past the edge where its ink does not: 3 px are allowed. (A chart on canvas has no svg:
# CANVAS_CHARTS reports it.)
CHART_TEXT_PAST_EDGE = """() => [...document.querySelectorAll('.vega-embed')].filter(e => e.querySelector('svg'))
.flatMap(embed => {
    const boxes = [embed, embed.querySelector('svg'), embed.parentElement].map(e => e.getBoundingClientRect());
    const left = Math.max(...boxes.map(b => b.left)), right = Math.min(...boxes.map(b => b.right));
    return [...embed.querySelectorAll('svg text')].filter(t => {
        const box = t.getBoundingClientRect();
        return box.width > 0 && (box.left < left - 3 || box.right > right + 3);
    }).map(t => t.textContent);
})"""
# st.dataframe draws on a canvas: its columns, widths, rows and cells are read from the grid's React props, and
# each header and every row's cell (all 398 of Explore's) is measured in the grid's font. Its text must fit its
# column, and the grid's width (what lies beyond is never seen at once): on one line, or in as many lines as the
# row's height holds where the grid wraps (rows over 4rem high, as Streamlit does it).
GRIDS = """[...document.querySelectorAll('[data-testid="stDataFrame"]')].map(frame => {
    const canvas = frame.querySelector('canvas[data-testid="data-grid-canvas"]');
    let fiber = canvas[Object.keys(canvas).find(k => k.startsWith('__reactFiber'))];
    while (fiber && !(fiber.memoizedProps?.getCellContent && fiber.memoizedProps.width)) fiber = fiber.return;
    return fiber.memoizedProps;
})"""
CUT_GRID_TEXT = (
    "() => "
    + GRIDS
    + """.flatMap(grid => {
    const theme = grid.theme;
    const context = document.createElement('canvas').getContext('2d');
    context.font = theme.baseFontFull;
    const size = parseFloat(theme.baseFontStyle.match(/([\\d.]+)px/)[1]), padding = 2 * theme.cellHorizontalPadding;
    const lines = (text, width) => {
        let count = 0, line = '';
        for (const part of String(text).split('\\n')) {
            count += 1; line = '';
            for (const word of part.split(' ')) {
                const longer = line ? line + ' ' + word : word;
                if (context.measureText(longer).width <= width || !line) line = longer;
                else { count += 1; line = word; }
                if (context.measureText(line).width > width) return Infinity;  // one word wider than the column
            }
        }
        return count;
    };
    const wraps = grid.rowHeight > 64;
    const fits = Math.floor((grid.rowHeight - theme.cellVerticalPadding - size) / (theme.lineHeight * size)) + 1;
    const cut = [];
    grid.columns.forEach((column, c) => {
        const width = Math.min(column.width, grid.width) - padding;
        if (context.measureText(column.title).width > width) cut.push(`${column.title}: header`);
        for (let r = 0; r < grid.rows; r++) {
            const text = grid.getCellContent([c, r]).displayData ?? '';
            if (text && lines(text, width) > (wraps ? fits : 1)) cut.push(`${column.title}: ${text.slice(0, 60)}`);
        }
    });
    return cut;
})"""
)
# A file like a newcomer's: five good rows (two with an unknown input, so with warnings) and two refused ones.
CARS = """Car Name,Cylinders,Displacement,Horsepower,Weight,Acceleration,Model Year,Origin
chevrolet chevelle malibu,8,307,130,3504,12,70,1
buick skylark 320,99,350,165,heavy,11.5,70,1
plymouth satellite,8,318,150,3436,11,70,1
amc rebel sst,8,304,150,3433,12,2024,Mars
ford galaxie 500,8,,198,4341,10,70,1
chevrolet impala,8,454,220,,9,70,1
plymouth fury iii,8,440,215,4312,8.5,70,1
"""


@pytest.fixture(scope="module")
def monitored(live_app_log, auto_mpg):
    """120 API cars in the live app's log: the Monitoring page draws its tables and charts."""
    import numpy as np

    from mpg import config
    from mpg.monitoring.log import Batch, PredictionLog

    X = auto_mpg.dropna(subset=config.FEATURES).head(120)[config.FEATURES].to_numpy(dtype=np.float64, copy=True)
    mpg = np.full(len(X), 25.0)
    log = PredictionLog(live_app_log)
    log.record(Batch(X=X, predictions=mpg, lower=mpg - 3, upper=mpg + 3, model_version="v", route="/predict",
                     source="api", request_id="browser-test"))  # fmt: skip
    log.close()


def open_view(page, view: str, tmp_path) -> None:
    """Bring the page to the state a visitor reads: the token entered, the file uploaded, every expander open."""
    from tests.conftest import MONITOR_TOKEN

    page.locator('[data-testid="stMain"] h1').first.wait_for(timeout=60_000)
    if view == "monitoring":
        page.get_by_label("Monitoring token").fill(MONITOR_TOKEN)
        page.keyboard.press("Enter")
        page.get_by_text("Drift from the training data").wait_for(timeout=60_000)
    if view == "batch after an upload":
        cars = tmp_path / "cars.csv"
        cars.write_text(CARS)
        page.locator('input[type="file"]').set_input_files(str(cars))
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
    if view in {"", "explore", "model", "monitoring"}:
        page.locator(".vega-embed svg").first.wait_for(timeout=60_000)
    # Only a closed one: a click would close an expander that starts open. The locator is live, so each click
    # opens the first still closed.
    closed = page.locator('[data-testid="stMain"] [data-testid="stExpander"] details:not([open]) > summary')
    for _ in range(closed.count()):
        closed.first.click()
    page.wait_for_timeout(2500)  # charts and tables reach their final width
    assert not closed.count(), "an expander is closed: what it holds is not checked"


@pytest.mark.parametrize("width", [1400, 390])
@pytest.mark.parametrize("view", ["", "explore", "model", "batch", "batch after an upload", "tutorial", "monitoring"])
def test_nothing_a_visitor_reads_is_clipped(browser, live_app, monitored, tmp_path, view, width):
    with visit(browser, f"{live_app}/{view.split(' ')[0]}", width=width, height=900) as page:
        open_view(page, view, tmp_path)
        shoot(page, f"read-{view.replace(' ', '-') or 'predict'}-{width}")
        found = {
            "cut or scrolled": page.evaluate(CLIPPED, READ_WHOLE),
            "chart on canvas, its text unchecked": page.evaluate(CANVAS_CHARTS),
            "chart text cut or hidden": page.evaluate(CUT_CHART_TEXT),
            "chart text past the chart's edge": page.evaluate(CHART_TEXT_PAST_EDGE),
            "grid text cut": page.evaluate(CUT_GRID_TEXT),
        }
        assert not any(found.values()), found


def test_after_an_upload_the_problems_and_predictions_come_first(browser, live_app, tmp_path):
    """The grid shows, without scrolling sideways, why a row was refused and what the others get."""
    with visit(browser, f"{live_app}/batch", width=1400, height=900) as page:
        open_view(page, "batch after an upload", tmp_path)
        grid = page.evaluate("() => " + GRIDS + ".map(g => [g.width, g.columns.map(c => [c.title, c.width])])[0]")
        width, columns = grid
        first = ["Problem", "Car Name", "Predicted MPG", "90% interval (MPG)", "Warnings"]
        assert [title for title, _ in columns[:5]] == first, columns
        assert sum(column_width for _, column_width in columns[:5]) <= width, grid


def test_on_a_phone_the_prediction_stays_in_view_while_each_input_moves(browser, live_app, model):
    from app_pages.view.share import car_from_params
    from mpg.prediction import predict

    with visit(browser, live_app, width=390, height=844) as page:
        page.get_by_text("Predicted MPG", exact=True).first.wait_for(timeout=60_000)
        page.wait_for_url(re.compile(r"weight="), timeout=30_000)  # the first run has drawn its prediction
        summary = page.locator(".st-key-sticky_prediction")
        sliders = page.get_by_role("slider")
        sliders.nth(5).wait_for(timeout=30_000)
        origin = page.locator('[data-testid="stRadio"]').filter(has_text="Europe")

        def step(index: int):
            sliders.nth(index).focus()
            page.keyboard.press("ArrowRight" if index != 5 else "ArrowLeft")  # the year starts at its median

        def other_origin():
            now = parse_qs(urlsplit(page.url).query)["origin"][0]
            origin.get_by_text("Japan" if now != "Japan" else "Europe", exact=True).click()

        moves = [
            (f"slider {index}", sliders.nth(index), lambda index=index: step(index)) for index in range(sliders.count())
        ]
        for name, control, move in [*moves, ("origin", origin, other_origin)]:
            control.scroll_into_view_if_needed()
            address = page.url
            move()
            # The address follows the inputs once the new prediction is drawn (a step can leave the shown
            # MPG as it was: 4 to 8 cylinders both give 23.0 for the default car), so wait on the address.
            page.wait_for_function("([before]) => location.href !== before", arg=[address], timeout=30_000)
            box = summary.bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844, (name, box)
            params = {name: values[0] for name, values in parse_qs(urlsplit(page.url).query).items()}
            expected = predict(model, car_from_params(params, model.card).car.inputs())
            assert summary.inner_text().startswith(f"{expected.mpg[0]:.1f} MPG"), (name, summary.inner_text())
            assert metric_value(page, "Predicted MPG") == round(float(expected.mpg[0]), 1), name


@pytest.mark.parametrize("width", [1400, 390])
def test_the_api_docs_page_shows_its_examples_whole(browser, live_api, width):
    with visit(browser, f"{live_api}/docs", width=width, height=900) as page:
        page.locator("pre").first.wait_for(timeout=30_000)
        assert page.evaluate(CLIPPED, "pre, p, li, td") == []
        wide = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert wide[0] <= wide[1], wide
