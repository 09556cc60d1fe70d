"""The report in a real headless Chromium (Qt WebEngine): it opens with no console errors and no
request beyond the file, draws a non-blank page, the search box filters the list under real
key presses, a click opens a dashboard with highlighted tokens, and hostile corpus text renders
as text — no alert fires and no element is injected."""

import pytest

from benchmarks import (
    headless_browser as driver,  # PySide6-WebEngine is a dev dependency: never skipped
)
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
    own = "script:not([type='application/json'].graph-data)"
    assert page.js(f'document.querySelectorAll("{own}").length') == 4  # the report's own
    graphs = page.js("document.querySelectorAll('.graph-view').length")
    assert page.js("document.querySelectorAll('script.graph-data').length") == graphs


FEATURES = "JSON.parse(document.getElementById('report-data').textContent).features"
SHOWN_IDS = "[...document.querySelectorAll('#feature-table tbody tr')].map(r => r.dataset.latent)"


def test_an_exact_latent_id_comes_first_and_hash_id_shows_only_it(page):
    page.type("#search", "2")
    page.wait_for(f"{SHOWN_IDS}[0] === '2'", "latent 2 first")
    assert len(page.js(SHOWN_IDS)) > 1  # 12, 20, 21, ... still listed after it
    page.type("#search", "#")  # the box now reads "2#": matches nothing
    page.js(
        "(() => { const s = document.getElementById('search'); s.value = '#2';"
        " s.dispatchEvent(new Event('input')); })()"
    )
    page.wait_for(f"{ROWS} === 1", "only latent 2")
    assert page.js(SHOWN_IDS) == ["2"]


def test_dead_latents_can_be_hidden_and_their_dashboard_has_no_empty_histogram(page):
    dead = page.js(f"{FEATURES}.filter(f => f.density === 0).map(f => f.id)")
    total = page.js(ROWS)
    assert dead, "the fixture's dictionary has dead latents"
    page.js(
        "(() => { const s = document.getElementById('search'); s.value = '#" + str(dead[0]) + "';"
        " s.dispatchEvent(new Event('input')); })()"
    )
    page.wait_for(f"{ROWS} === 1", "the dead latent")
    page.click("#feature-table tbody tr")
    page.wait_for("document.querySelector('#dashboard h3') !== null", "its dashboard")
    text = page.js("document.getElementById('dashboard').textContent")
    assert "never fired" in text and "histogram" not in text.lower()
    page.js(
        "(() => { const s = document.getElementById('search'); s.value = '';"
        " s.dispatchEvent(new Event('input')); })()"
    )
    page.click("#hide-dead")
    page.wait_for(f"{ROWS} === {total - len(dead)}", "the list without dead latents")


def test_the_list_stays_in_view_beside_a_long_dashboard(page):
    page.click("th[data-key=max]")
    page.click("#feature-table tbody tr")
    page.wait_for("document.querySelectorAll('#dashboard .context').length > 0", "a dashboard")
    page.js(  # the dashboard's end at the window's bottom: far below the list's own top
        "window.scrollTo(0, document.getElementById('dashboard').getBoundingClientRect().bottom"
        " + window.scrollY - window.innerHeight)"
    )
    page.pump(0.2)
    top = page.js("document.querySelector('.list').getBoundingClientRect().top")
    assert page.js("window.scrollY") > 400 and 0 <= top <= 20


def test_the_policy_blocks_injected_scripts_and_eval(page):
    page.js(
        "(() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = 1';"
        " document.body.append(s); })()"
    )
    page.pump(0.2)
    assert page.js("window.injected === undefined")
    assert (
        page.js("(() => { try { eval('1'); return 'ran'; } catch (e) { return 'blocked'; } })()")
        == "blocked"
    )


def test_the_graph_view_draws_the_pruned_graph_and_a_click_shows_a_feature(page):
    page.wait_for("document.querySelectorAll('.graph-view svg .graph-node').length > 0", "graph")
    counts = page.js(
        "(() => { const d = JSON.parse(document.querySelector('.graph-data').textContent);"
        " return [d.nodes.length, d.links.length,"
        " document.querySelectorAll('.graph-view .graph-node').length,"
        " document.querySelectorAll('.graph-view .graph-link').length]; })()"
    )
    assert counts[0] == counts[2] > 0 and counts[1] == counts[3] > 0
    tokens = page.js("[...document.querySelectorAll('text.graph-token')].map(t => t.textContent)")
    assert SCRIPT in "".join(tokens)  # the prompt's hostile text, shown as text
    page.click(".graph-view circle.graph-feature")
    page.wait_for("document.querySelector('.graph-card h4') !== null", "a feature card")
    card = page.js("document.querySelector('.graph-card').textContent")
    assert "influence" in card and "promotes" in card
    assert page.js("document.querySelectorAll('.graph-card img, .graph-card script').length") == 0
    assert page.page.alerts == []
