"""Headless Chromium for the site tests: Debian's browser driven by Playwright (no browser download),
a module-scoped ``browser`` fixture (import ``browser_fixture`` into a test module) and :class:`Visit`, a page load that
records console errors, failed requests and requests to other hosts."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from site_helpers import CHROMIUM

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MOBILE = {"width": 390, "height": 844}
MATH_RENDERED = ("document.querySelectorAll('.arithmatex').length === "
                 "document.querySelectorAll('.arithmatex .katex').length")


@pytest.fixture(scope="module", name="browser")
def browser_fixture():
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
        self.console_errors, self.failed, self.foreign, self.requested = [], [], [], []
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
        self.requested.append(route.request.url)
        return route.continue_()

    def open(self, url, wait_until="networkidle", math=True):
        self.page.goto(url, wait_until=wait_until)
        if not math:
            return self.page
        try:  # math is rendered at build time; a lab's $…$ is rendered by KaTeX after load
            self.page.wait_for_function(MATH_RENDERED, timeout=5000)
        except Exception:
            pass
        return self.page

    def assert_clean(self):
        assert not self.console_errors, self.console_errors
        assert not self.failed, self.failed
        assert not self.foreign, self.foreign

    def close(self):
        self.context.close()


def switch_language_and_back(visit: Visit, base_url: str, path: str):
    """Open ``path`` (Chinese), follow the switcher to the English twin and back; return the page."""
    page = visit.open(base_url + path, wait_until="domcontentloaded", math=False)
    for lang, url in (("en", base_url + "en/" + path), ("zh", base_url + path)):
        page.locator(f'a[hreflang="{lang}"]').first.evaluate("a => a.click()")
        page.wait_for_url(url, wait_until="domcontentloaded", timeout=10000)
        assert page.locator("html").get_attribute("lang") == lang
    return page


def search(page, query: str):
    """Type ``query`` into Material's search box and return the result links once the first has appeared."""
    page.locator("label.md-search__icon, .md-search__input").first.click()
    search_box = page.locator("input.md-search__input")
    search_box.fill(query)
    search_box.press("End")  # a key event runs the query (fill alone only sets the value)
    results = page.locator(".md-search-result__item a")
    results.first.wait_for(timeout=15000)
    return results
