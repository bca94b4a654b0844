"""The built site in a real headless Chromium (Debian's, driven by Playwright; no browser download),
served from 127.0.0.1 with every other host blocked."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from site_helpers import CHROMIUM, ROOT, SITE, doc_pages, serve

pytestmark = [pytest.mark.site, pytest.mark.xdist_group("browser")]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def base_url():
    if not (SITE / "index.html").exists():
        pytest.fail("site/ is not built: run `make site` (make test does it first)")
    server, url = serve(SITE)
    yield url
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (make test does it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


class Visit:
    """A page load that records console errors, failed requests and requests to other hosts."""

    def __init__(self, browser, base_url, viewport=None):
        self.context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.local = urlparse(base_url).netloc
        self.console_errors, self.failed, self.foreign = [], [], []
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        self.page.on("requestfailed", self._request_failed)
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))
        self.context.route("**/*", self._route)

    def _request_failed(self, request):
        # ERR_ABORTED: cancelled because the page navigated away (e.g. the language switch);
        # a file that is really missing shows up as a 404 response instead.
        if request.failure != "net::ERR_ABORTED":
            self.failed.append(f"{request.failure} {request.url}")

    def _route(self, route):
        parsed = urlparse(route.request.url)
        if parsed.scheme in ("http", "https") and parsed.netloc != self.local:
            self.foreign.append(route.request.url)
            return route.abort()
        return route.continue_()

    def open(self, url, wait_until="networkidle", math=True):
        self.page.goto(url, wait_until=wait_until)
        if not math:
            return self.page
        try:  # KaTeX renders after load; wait for it (a page whose math never renders fails later)
            self.page.wait_for_function(
                "document.querySelectorAll('.arithmatex').length === "
                "document.querySelectorAll('.arithmatex .katex').length", timeout=5000)
        except Exception:
            pass
        return self.page

    def assert_clean(self):
        assert not self.console_errors, self.console_errors
        assert not self.failed, self.failed
        assert not self.foreign, self.foreign

    def close(self):
        self.context.close()


PAGES = [(lang, path) for lang in ("", "en/") for path in doc_pages()]


@pytest.mark.parametrize("lang,path", PAGES, ids=[f"{lang or 'zh/'}{path}" for lang, path in PAGES])
def test_page_loads_clean_with_math_rendered(browser, base_url, lang, path):
    visit = Visit(browser, base_url)
    try:
        page = visit.open(base_url + lang + path)
        page.wait_for_timeout(200)
        visit.assert_clean()
        assert page.locator(".katex-error").count() == 0
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
        if path.count("/") <= 2 and path.endswith("/") and not path.startswith("labs/"):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            name = (lang or "zh/") + (path or "home/")
            page.screenshot(path=str(SCREENSHOTS / (name.strip("/").replace("/", "_") + ".png")), full_page=False)
    finally:
        visit.close()


@pytest.mark.parametrize("path", doc_pages())
def test_language_switcher_links_to_the_twin(browser, base_url, path):
    """Only the switch is checked here (each page's own load is the test above), so no page waits for
    the network to go idle or for its math."""
    visit = Visit(browser, base_url)
    try:
        page = visit.open(base_url + path, wait_until="domcontentloaded", math=False)
        page.locator('a[hreflang="en"]').first.evaluate("a => a.click()")
        page.wait_for_url(base_url + "en/" + path, wait_until="domcontentloaded", timeout=10000)
        assert page.locator("html").get_attribute("lang") == "en"
        page.locator('a[hreflang="zh"]').first.evaluate("a => a.click()")
        page.wait_for_url(base_url + path, wait_until="domcontentloaded", timeout=10000)
        assert page.locator("html").get_attribute("lang") == "zh"
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
        page.locator("label.md-search__icon, .md-search__input").first.click()
        search_box = page.locator("input.md-search__input")
        search_box.fill(query)
        search_box.press("End")  # a key event runs the query (fill alone only sets the value)
        results = page.locator(".md-search-result__item a")
        results.first.wait_for(timeout=15000)
        hrefs = [urlparse(a.get_attribute("href") or "").path for a in results.all()]
        assert any(h.endswith("/" + expected) for h in hrefs), hrefs
        visit.assert_clean()
    finally:
        visit.close()


def test_mobile_viewport_has_no_horizontal_scroll(browser, base_url):
    visit = Visit(browser, base_url, viewport={"width": 390, "height": 844})
    try:
        for lang in ("", "en/"):
            page = visit.open(base_url + lang + "neuron/activations/")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{lang}: {overflow}px of horizontal scroll"
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
