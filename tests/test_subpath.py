"""The built site served from a sub-path, as GitHub Pages serves a project (``https://<owner>.github.io/n2t/``):
every asset, the language switcher and the search stay under ``/n2t/``."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from browser_helpers import Visit, browser_fixture, search, switch_language_and_back  # noqa: F401  (the `browser` fixture)
from site_helpers import ROOT, SITE, doc_pages, serve

pytestmark = [pytest.mark.site, pytest.mark.xdist_group("browser")]
SUBPATH = "/n2t/"
# the first concept page with math (e.g. learning/linear/) and the first lab, whatever the chapters are
CONCEPT = next(p for p in doc_pages() if p.count("/") == 2 and not p.startswith("labs/")
               and "$" in (ROOT / "docs" / (p.rstrip("/") + ".md")).read_text(encoding="utf-8"))
LAB = next(p for p in doc_pages() if p.startswith("labs/"))
PAGES = [("", ""), ("en/", ""), ("", CONCEPT), ("en/", CONCEPT), ("", LAB), ("en/", LAB)]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    """The site at http://127.0.0.1:<port>/n2t/ (a link to site/ inside an otherwise empty root)."""
    if not (SITE / "index.html").exists():
        pytest.fail("site/ is not built: run `make site` (make test does it first)")
    root = tmp_path_factory.mktemp("pages")
    (root / SUBPATH.strip("/")).symlink_to(SITE, target_is_directory=True)
    server, url = serve(root)
    yield url.rstrip("/") + SUBPATH
    server.shutdown()


def outside_subpath(visit: Visit) -> list[str]:
    return [url for url in visit.requested if not urlparse(url).path.startswith(SUBPATH)]


@pytest.mark.parametrize("lang,path", PAGES, ids=[f"{lang or 'zh/'}{path or 'home'}" for lang, path in PAGES])
def test_page_and_its_assets_load_from_the_subpath(browser, base_url, lang, path):
    visit = Visit(browser, base_url)
    try:
        page = visit.open(base_url + lang + path)
        visit.assert_clean()
        assert not outside_subpath(visit), outside_subpath(visit)
        assert page.locator("link[rel=stylesheet]").count() >= 2
        assert page.evaluate("[...document.styleSheets].filter(s => s.href).every(s => s.cssRules.length > 0)"), \
            "a stylesheet did not load"
        assert page.locator(".katex-error").count() == 0
        assert page.locator(".arithmatex").count() == page.locator(".arithmatex .katex").count()
        for image in page.locator("img").all():
            assert image.evaluate("i => i.complete && i.naturalWidth > 0"), image.get_attribute("src")
        logo = page.locator(".md-header__button.md-logo").first
        assert urlparse(logo.evaluate("a => a.href")).path == SUBPATH + lang
    finally:
        visit.close()


@pytest.mark.parametrize("path", ["", CONCEPT, LAB], ids=["home", "concept", "lab"])
def test_language_switcher_stays_under_the_subpath(browser, base_url, path):
    visit = Visit(browser, base_url)
    try:
        switch_language_and_back(visit, base_url, path)
        visit.assert_clean()
        assert not outside_subpath(visit), outside_subpath(visit)
    finally:
        visit.close()


@pytest.mark.parametrize("lang,query", [("", "激活函数"), ("en/", "activation")])
def test_search_finds_pages_under_the_subpath(browser, base_url, lang, query):
    visit = Visit(browser, base_url)
    try:
        page = visit.open(base_url + lang + CONCEPT)
        results = search(page, query)
        hrefs = [urlparse(a.evaluate("a => a.href")).path for a in results.all()]
        assert all(h.startswith(SUBPATH) for h in hrefs), hrefs
        own = [h for h in hrefs if h.startswith(SUBPATH + "en/") == (lang == "en/")]  # this language's pages
        assert own, hrefs
        results.nth(hrefs.index(own[0])).click()
        page.wait_for_url(lambda url: urlparse(url).path == own[0], wait_until="domcontentloaded")
        assert page.locator("article").count() == 1
        visit.assert_clean()
        assert not outside_subpath(visit), outside_subpath(visit)
    finally:
        visit.close()
