"""The report in a real headless Chromium (Qt WebEngine): it opens with no console errors and no
request beyond the file, draws a non-blank page, the search box filters the list under real
key presses, a click opens a dashboard with highlighted tokens, and hostile corpus text renders
as text — no alert fires and no element is injected."""

import pytest

from tests.browser import driver  # PySide6-WebEngine is a dev dependency: never skipped
from tests.unit.reports.conftest import IMAGE, SCRIPT, UNICODE

ROWS = "document.querySelectorAll('#feature-table tbody tr').length"


@pytest.fixture(scope="module")
def browser():
    browser = driver.Browser()
    yield browser
    browser.close()


@pytest.fixture
def page(browser, full_report):
    browser.page.console.clear()
    browser.page.alerts.clear()
    browser.requests.urls.clear()
    browser.open(full_report.path)
    browser.wait_for(f"{ROWS} > 0", "the feature list")
    return browser


def test_opens_without_console_errors_or_network_requests(page, full_report):
    assert page.js(ROWS) == full_report.latents
    errors = [m for level, m in page.page.console if level != "InfoMessageLevel"]
    assert errors == [], errors
    assert all(url.startswith(("file:", "data:")) for url in page.requests.urls), page.requests.urls


def test_screenshot_is_not_blank(page):
    image = page.screenshot()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, 600, 7)}
    assert image.width() > 800 and len(colours) > 20


def test_typing_in_the_search_box_filters_the_list(page):
    explained = page.js(
        "JSON.parse(document.getElementById('report-data').textContent)"
        ".features.filter(f => (f.explanation || '').includes('rivers')).length"
    )
    page.type("#search", "rivers")
    page.wait_for(f"{ROWS} === {explained}", "the filtered list")
    assert page.js(
        "document.querySelector('#feature-table tbody tr td:nth-child(5)').textContent"
    ).startswith("rivers")
    assert "of" in page.js("document.getElementById('count').textContent")


def test_sorting_by_max_activation_then_clicking_opens_a_dashboard_with_highlights(page):
    page.click("th[data-key=max]")
    maxima = page.js(
        "[...document.querySelectorAll('#feature-table tbody tr td:nth-child(3)')]"
        ".map(td => Number(td.textContent))"
    )
    assert maxima == sorted(maxima, reverse=True) and maxima[0] > 0
    page.click("#feature-table tbody tr")
    page.wait_for("document.querySelectorAll('#dashboard .context').length > 0", "a dashboard")
    highlighted = page.js(
        "[...document.querySelectorAll('#dashboard .tok')]"
        ".filter(t => t.style.backgroundColor).length"
    )
    assert highlighted > 0
    title = page.js("document.querySelector('#dashboard .tok[style]').title")
    assert title.startswith("activation ")
    page.wait_for("document.querySelector('#dashboard .histogram .main-svg') !== null", "plot")


def test_hostile_text_renders_as_text(page):
    page.type("#search", "rivers")
    page.click("#feature-table tbody tr")
    page.wait_for("document.querySelectorAll('#dashboard .context').length > 0", "a dashboard")
    assert f"{SCRIPT} {UNICODE}" in page.js("document.getElementById('dashboard').textContent")
    page.js(
        "(() => { const s = document.getElementById('search'); s.value = '';"
        " s.dispatchEvent(new Event('input')); })()"
    )
    page.click("th[data-key=max]")
    shown = []
    for row in range(1, 6):  # the corpus's hostile strings, in the strongest latents' contexts
        page.click(f"#feature-table tbody tr:nth-child({row})")
        page.wait_for("document.querySelectorAll('#dashboard .context').length > 0", "contexts")
        shown.append(
            page.js(
                "[...document.querySelectorAll('#dashboard .context')]"
                ".map(c => c.textContent).join('\\n')"
            )
        )
    contexts = "\n".join(shown)
    assert "<script>alert(1)" in contexts and IMAGE[:20] in contexts
    page.pump(0.5)
    assert page.page.alerts == []
    assert page.js("document.querySelectorAll('img[src=x], #dashboard script').length") == 0
    assert page.js("document.querySelectorAll('script').length") == 4  # the report's own
