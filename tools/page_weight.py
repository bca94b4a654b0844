"""Transferred bytes of every page of the built site, as a visitor with an empty cache receives them.

``python tools/page_weight.py [site_dir]`` writes ``artifacts/page-weight.md``.

What one page counts (each page is loaded on its own in headless Chromium, nothing cached):

* the HTML document;
* every same-origin file the page requested by the time it has loaded and its math is drawn, read
  from the browser's Resource Timing list: stylesheets, images, and the fonts the browser really
  downloaded (KaTeX declares about 20 font faces but the browser fetches only those whose glyphs the
  page shows, so a page without math loads none);
* its scripts (``<script src>``): a page whose math is all rendered at build time is loaded with
  JavaScript off (its styles, images and fonts load the same, twice as fast), so they are read from
  the HTML; a page with ``$…$`` left to KaTeX in the browser is loaded with JavaScript on and its
  fonts counted once KaTeX has drawn it;
* the favicon (``<link rel="icon">``; browsers fetch it outside the Resource Timing list).

Not counted per page but reported once, as the "search" row: the search index
(``search/search_index.json``, one file for the whole site in both languages), the search worker and
the lunr language files the worker imports. Material fetches them after the page has loaded, for the
search box only, and the browser reuses them on every further page of the visit.

Sizes are what goes over the wire: text (HTML, CSS, JS, JSON, SVG, XML) gzipped at level 6, the
default of common servers (GitHub Pages, nginx); already-compressed files (WOFF2, PNG, JPEG, ...) as
stored. Images embedded in the HTML (base64 ``data:`` URIs, e.g. inside build-time SVG figures) are part
of the HTML's bytes.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
import katex_prerender  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
REPORT = ROOT / "artifacts" / "page-weight.md"
CHROMIUM = os.environ.get("N2T_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CONCEPT_BUDGET_KIB = 300
TEXT_SUFFIXES = {".html", ".css", ".js", ".mjs", ".json", ".svg", ".xml", ".txt", ".map", ".py", ".ipynb"}
SEARCH_FILES = re.compile(r"^(search/search_index\.json|assets/javascripts/(workers|lunr)/.*)$")
# With JavaScript: the Resource Timing list once KaTeX has drawn the page's $…$ and its fonts have arrived.
LOADED_RESOURCES = """async () => {
  for (let i = 0; i < 100 && !document.querySelector('.katex'); i++) await new Promise(r => setTimeout(r, 50));
  document.body.getBoundingClientRect();
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  await document.fonts.ready;
  const icons = [...document.querySelectorAll('link[rel~="icon"]')].map(l => l.href);
  return [...performance.getEntriesByType('resource').map(e => e.name), ...icons];
}"""
# Without JavaScript: what the page's HTML and CSS loaded (fonts included: they hold up the load event).
# (Laying the page out first makes sure its fonts have been asked for before waiting on them.)
LOADED_WITHOUT_SCRIPTS = """() => { document.body.getBoundingClientRect(); return document.fonts.ready.then(() => [
  ...performance.getEntriesByType('resource').map(e => e.name),
  ...[...document.querySelectorAll('link[rel~="icon"]')].map(l => l.href)]); }"""
SCRIPT_SRC = re.compile(r'<script\b[^>]*\bsrc="([^"]+)"')


@dataclass
class PageWeight:
    """One page: its URL path below the site root, its kind and the wire bytes of what it loads."""

    path: str
    kind: str  # "concept" or "lab"
    html: int
    assets: dict[str, int] = field(default_factory=dict)  # site-relative file -> wire bytes

    @property
    def total(self) -> int:
        return self.html + sum(self.assets.values())


def wire_bytes(file: Path) -> int:
    """Bytes a server sends for ``file``: gzipped (level 6) if it is text, else as stored."""
    data = file.read_bytes()
    if file.suffix.lower() in TEXT_SUFFIXES:
        return min(len(data), len(gzip.compress(data, compresslevel=6, mtime=0)))
    return len(data)


def site_pages(site: Path) -> list[str]:
    """URL paths (``""``, ``"neuron/"``, ``"en/labs/rnn/sine/"``, ...) of every page in ``site``."""
    paths = []
    for index in sorted(site.rglob("index.html")):
        relative = index.parent.relative_to(site).as_posix()
        if relative.split("/")[0] in ("assets", "search"):
            continue
        paths.append("" if relative == "." else relative + "/")
    return paths


def page_kind(path: str) -> str:
    """``"lab"`` for the executed programs under ``labs/``, ``"concept"`` for every other page."""
    return "lab" if path.removeprefix("en/").startswith("labs/") else "concept"


class _NoStoreHandler(http.server.SimpleHTTPRequestHandler):
    """Static files that the browser may not cache, so every page view requests all it needs."""

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *args):
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    """Drops the traceback of a request the browser abandoned (it navigated on)."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def serve(directory: Path, handler_class: type = _NoStoreHandler) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``directory`` on a free local port from a background thread; returns the server and its URL."""
    handler = functools.partial(handler_class, directory=str(directory))
    server = _QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


def _site_file(site: Path, url: str, base: str) -> str | None:
    """The site-relative file behind a same-origin ``url`` (``None`` for other hosts and data URIs)."""
    if not url.startswith(base):
        return None
    relative = unquote(urlparse(url).path)[len(urlparse(base).path):]
    if relative == "" or relative.endswith("/"):
        relative += "index.html"
    return relative if (site / relative).is_file() else None


def _script_sources(html: str, page_url: str) -> list[str]:
    return [urljoin(page_url, src) for src in SCRIPT_SRC.findall(html)]


def measure(site: Path = SITE, chromium: str = CHROMIUM) -> tuple[list[PageWeight], dict[str, int]]:
    """Load every page of ``site`` in Chromium; returns the pages and the site-wide search files.

    A page whose math is all rendered at build time is loaded with JavaScript off (its stylesheets,
    images and fonts load the same; its ``<script src>`` files are read from the HTML): twice as fast.
    A page with math left to KaTeX in the browser is loaded with JavaScript on, so the fonts of that
    math are counted too.
    """
    from playwright.sync_api import sync_playwright

    server, base = serve(site)
    pages, search_requests = [], set()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
            tabs = {}
            for scripts in (False, True):
                context = browser.new_context(java_script_enabled=scripts)
                context.route(re.compile(r"^(?!" + re.escape(base) + ")"), lambda route: route.abort())
                context.on("requestfinished", lambda request: search_requests.add(_site_file(site, request.url, base)))
                tabs[scripts] = context.new_page()
            tabs[True].goto(base, wait_until="networkidle")  # the search files, once
            for path in site_pages(site):
                html = (site / path / "index.html").read_text(encoding="utf-8")
                scripts = katex_prerender.needs_client_math(html)
                tabs[scripts].goto(base + path, wait_until="load")
                urls = tabs[scripts].evaluate(LOADED_RESOURCES if scripts else LOADED_WITHOUT_SCRIPTS)
                urls += [] if scripts else _script_sources(html, base + path)
                weight = PageWeight(path, page_kind(path), wire_bytes(site / path / "index.html"))
                for name in sorted({_site_file(site, url, base) for url in urls} - {None}):
                    if not SEARCH_FILES.match(name):
                        weight.assets[name] = wire_bytes(site / name)
                pages.append(weight)
            browser.close()
    finally:
        server.shutdown()
    search = {name: wire_bytes(site / name) for name in search_requests if name and SEARCH_FILES.match(name)}
    return pages, search


def kib(size: int) -> str:
    return f"{size / 1024:.1f}"


def report(pages: list[PageWeight], search: dict[str, int]) -> str:
    """The Markdown report: one row per page, heaviest first, then what every page shares."""
    lines = [
        "# Page weight",
        "",
        "Transferred bytes of each page for a visitor with an empty cache: the HTML plus every stylesheet,",
        "script, image and font the page loads (fonts: only those the browser downloads for the glyphs",
        "shown), gzipped (level 6) where the file is text. Written by `tools/page_weight.py`; the method",
        f"is in its docstring. Budget: concept pages ≤ {CONCEPT_BUDGET_KIB} KiB (lab pages are listed, not held",
        "to it).",
        "",
        f"Search (site-wide, once per visit, fetched after the page has loaded): **{kib(sum(search.values()))} KiB**",
        "",
        "| file | KiB |",
        "|---|---:|",
        *(f"| `{name}` | {kib(size)} |" for name, size in sorted(search.items(), key=lambda kv: -kv[1])),
        "",
        "| page | kind | HTML KiB | assets KiB | total KiB |",
        "|---|---|---:|---:|---:|",
    ]
    for page in sorted(pages, key=lambda p: (-p.total, p.path)):
        over = " **over budget**" if page.kind == "concept" and page.total > CONCEPT_BUDGET_KIB * 1024 else ""
        lines.append(f"| `/{page.path}` | {page.kind} | {kib(page.html)} | {kib(sum(page.assets.values()))} "
                     f"| {kib(page.total)}{over} |")
    for kind in ("concept", "lab"):
        heaviest = max((p for p in pages if p.kind == kind), key=lambda p: p.total)
        assets = sorted(heaviest.assets.items(), key=lambda kv: -kv[1])
        lines += ["", f"What the heaviest {kind} page, `/{heaviest.path}`, loads besides its HTML:", "",
                  "| file | KiB |", "|---|---:|", *(f"| `{name}` | {kib(size)} |" for name, size in assets)]
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    site = Path(argv[1]) if len(argv) > 1 else SITE
    pages, search = measure(site)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(report(pages, search), encoding="utf-8")
    concept = [p for p in pages if p.kind == "concept"]
    heaviest = max(concept, key=lambda p: p.total)
    print(f"{len(pages)} pages; heaviest concept page /{heaviest.path}: {kib(heaviest.total)} KiB; "
          f"search {kib(sum(search.values()))} KiB; report in {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv)
