"""The built site in a real headless Chromium (Debian's, driven by Playwright; no browser download),
served from 127.0.0.1 with every other host blocked."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from browser_helpers import MOBILE, Visit, browser_fixture, search, switch_language_and_back  # noqa: F401  (the `browser` fixture)
from site_helpers import ROOT, SITE, doc_pages, serve

pytestmark = [pytest.mark.site, pytest.mark.xdist_group("browser")]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
# How far the page is wider than the window, and the outermost elements that stick out of it
# (an element inside a box that scrolls or clips on its own does not widen the page).
HORIZONTAL_OVERFLOW = """() => {
  const width = window.innerWidth;
  const overflow = document.documentElement.scrollWidth - width;
  if (overflow <= 1) return [overflow, []];
  const contained = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
      if (getComputedStyle(p).overflowX !== "visible") return true;
    return false;
  };
  const name = (el) => el.tagName.toLowerCase() + (typeof el.className === "string" && el.className.trim()
    ? "." + el.className.trim().split(/\\s+/).join(".") : "");
  const wide = [...document.body.querySelectorAll("*")]
    .filter((el) => el.getBoundingClientRect().right > width + 1 && !contained(el));
  return [overflow, wide.filter((el) => !wide.includes(el.parentElement)).slice(0, 5).map(name)];
}"""


@pytest.fixture(scope="module")
def base_url():
    if not (SITE / "index.html").exists():
        pytest.fail("site/ is not built: run `make site` (make test does it first)")
    server, url = serve(SITE)
    yield url
    server.shutdown()


PAGES = [(lang, path) for lang in ("", "en/") for path in doc_pages()]


def chapter_first_page(path: str) -> bool:
    """The home page and each chapter's index page (screenshots are kept of these)."""
    return path.count("/") <= 1 and not path.startswith(("labs/", "api/"))


@pytest.mark.parametrize("lang,path", PAGES, ids=[f"{lang or 'zh/'}{path}" for lang, path in PAGES])
def test_page_loads_clean_renders_and_fits_a_phone(browser, base_url, lang, path):
    """Each page: no console error or failed request, math rendered, images loaded, copy buttons; then
    the same page at 390×844 must not scroll sideways (wide tables, code and display math scroll
    inside their own box, never the page)."""
    visit = Visit(browser, base_url)
    name = ((lang or "zh/") + (path or "home/")).strip("/").replace("/", "_")
    try:
        page = visit.open(base_url + lang + path)
        page.wait_for_timeout(200)
        visit.assert_clean()
        assert page.locator(".katex-error").count() == 0
        assert page.locator("[role=dialog]:not([aria-label]):not([aria-labelledby])").count() == 0, "unnamed dialog"
        article = page.locator("article").inner_text()
        math_nodes = page.locator(".arithmatex").count()
        if math_nodes:
            assert page.locator(".arithmatex .katex").count() == math_nodes, "unrendered math"
        prose = page.locator("article").evaluate(
            "a => { const c = a.cloneNode(true);"
            " c.querySelectorAll('pre, code, .katex, script').forEach(n => n.remove()); return c.innerText; }")
        assert not re.search(r"\$[^$\s][^$]*\$", prose), "raw $…$ left in the text"
        if page.locator("pre code").count():
            assert page.locator("button.md-code__button").count() > 0, "no copy button"
        for image in page.locator("article img").all():
            assert image.evaluate("i => i.complete && i.naturalWidth > 0"), "broken image"
        assert article.strip()
        if chapter_first_page(path):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
        page.set_viewport_size(MOBILE)
        page.evaluate("document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(r)))")
        overflow, culprits = page.evaluate(HORIZONTAL_OVERFLOW)
        assert overflow <= 1, f"on a 390px-wide phone the page is {overflow}px too wide, because of {culprits}"
        if chapter_first_page(path):
            page.screenshot(path=str(SCREENSHOTS / f"{name}_mobile.png"), full_page=False)
        visit.assert_clean()
    finally:
        visit.close()


def test_the_phone_check_sees_what_sticks_out(browser, base_url):
    """The overflow measure can fail: a too-wide block widens the page and is named; the same block in a
    box that scrolls (as Material wraps tables) does not."""
    visit = Visit(browser, base_url, viewport=MOBILE)
    try:
        page = visit.open(base_url + doc_pages()[0], wait_until="domcontentloaded", math=False)
        assert page.evaluate(HORIZONTAL_OVERFLOW)[0] <= 1
        page.evaluate("""() => { const box = document.createElement('div'); box.className = 'md-typeset__scrollwrap';
            box.innerHTML = '<div style="width: 900px">wide</div>'; document.querySelector('article').append(box); }""")
        assert page.evaluate(HORIZONTAL_OVERFLOW)[0] <= 1
        page.evaluate("""() => { const wide = document.createElement('p'); wide.className = 'too-wide';
            wide.style.width = '900px'; wide.textContent = 'wide';
            document.querySelector('article').append(wide); }""")
        overflow, culprits = page.evaluate(HORIZONTAL_OVERFLOW)
        assert overflow > 400 and any("too-wide" in c for c in culprits), (overflow, culprits)
    finally:
        visit.close()


@pytest.mark.parametrize("path", doc_pages())
def test_language_switcher_links_to_the_twin(browser, base_url, path):
    """Only the switch is checked here (each page's own load is the test above), so no page waits for
    the network to go idle or for its math."""
    visit = Visit(browser, base_url)
    try:
        switch_language_and_back(visit, base_url, path)
        visit.assert_clean()
    finally:
        visit.close()


@pytest.mark.parametrize("lang,query,expected", [
    ("", "激活函数", "neuron/activations/"),
    ("en/", "activation", "en/neuron/activations/"),
])
def test_search_finds_the_activation_page(browser, base_url, lang, query, expected):
    visit = Visit(browser, base_url)
    try:
        page = visit.open(base_url + lang)
        results = search(page, query)
        hrefs = [urlparse(a.get_attribute("href") or "").path for a in results.all()]
        assert any(h.endswith("/" + expected) for h in hrefs), hrefs
        visit.assert_clean()
    finally:
        visit.close()


def test_dark_mode_toggle_switches_the_palette(browser, base_url):
    visit = Visit(browser, base_url)
    try:
        page = visit.open(base_url + "neuron/")
        before = page.locator("body").get_attribute("data-md-color-scheme")
        page.locator("form[data-md-component=palette] label:visible").first.click()
        after = page.locator("body").get_attribute("data-md-color-scheme")
        assert {before, after} == {"default", "slate"}
        visit.assert_clean()
    finally:
        visit.close()
