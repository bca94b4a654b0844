"""MkDocs hooks for n2t: labs as pages in both languages, twin pages, vendored KaTeX.

* Labs: ``snippets/`` programs are executed (cached, see ``tools/labs.py``) into
  ``docs/labs/**.ipynb`` before each build; mkdocs-jupyter renders them.
* mkdocs-static-i18n rebuilds every file as a plain ``File`` and drops mkdocs-jupyter's notebook
  wrapper, so a notebook would be copied as a raw file and no page made. Making the lab glob count
  as documentation pages on ``File`` itself survives that rebuild.
* Every Markdown page must have its twin (``page.md`` ↔ ``page.en.md``): the build fails otherwise.
* KaTeX (npm ``katex``, pinned in package-lock.json) is copied into the site with all its fonts.
* Material's JS fetches ``<alternate URL>/sitemap.xml`` for every ``<link rel="alternate">`` in the
  head, expecting language roots; static-i18n puts page URLs there, so every page logged 404s. The
  head links are dropped; the language switcher (plain links to the twin page) is unaffected.
* The language switcher's links are relative, so the site works from any sub-path (``/n2t/``).
* Code blocks and figures stay out of the search index.
* Page code blocks (markdown-exec) are cached across languages and builds (``exec_cache``).
* Math is rendered at build time (``katex_prerender``): pages without math left for the browser do
  not load KaTeX's JavaScript. matplotlib's inline SVG figures are shrunk (``svg_minify``).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import urlsplit

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

sys.path.insert(0, str(Path(__file__).resolve().parent))
import exec_cache  # noqa: E402
import katex_prerender  # noqa: E402
import labs  # noqa: E402
import svg_minify  # noqa: E402

log = logging.getLogger("mkdocs.hooks.n2t")
ROOT = Path(__file__).resolve().parent.parent
LAB_GLOB = "labs/*/*.ipynb"
KATEX_DIST = ROOT / "node_modules" / "katex" / "dist"
KATEX_FILES = ("katex.min.js", "katex.min.css", "contrib/auto-render.min.js")
LANGUAGE_SUFFIX = ".en.md"

os.environ.setdefault("MPLBACKEND", "Agg")

_markdown_is_page = File.is_documentation_page


def _is_documentation_page(self: File) -> bool:
    return _markdown_is_page(self) or fnmatch(self.src_uri, LAB_GLOB)


File.is_documentation_page = _is_documentation_page  # type: ignore[method-assign]


def on_pre_build(config) -> None:
    """Execute changed labs into docs/labs/ (a raising lab stops the build)."""
    try:
        labs.build_labs(log=log.info)
    except labs.LabError as error:
        raise PluginError(str(error)) from None
    global EXEC_CACHE
    EXEC_CACHE = exec_cache.install()


EXEC_CACHE: exec_cache.ExecCache | None = None


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Each page's markdown-exec sessions start empty (and its cached blocks are keyed from there)."""
    if EXEC_CACHE is not None:
        EXEC_CACHE.new_page()
    return markdown


def on_post_build(config) -> None:
    """Report the page-block cache; drop the sitemap of a build without a site_url (its addresses would read
    ``None/…``: a sitemap needs absolute URLs, and the Pages workflow sets N2T_SITE_URL)."""
    if not config.site_url:
        for sitemap in Path(config.site_dir).glob("**/sitemap.xml*"):
            sitemap.unlink()
    if EXEC_CACHE is not None:
        log.info(f"page code blocks: {EXEC_CACHE.hits} from the cache, {EXEC_CACHE.misses} executed")
        EXEC_CACHE.hits = EXEC_CACHE.misses = 0


def missing_twins(docs_dir: Path) -> list[str]:
    """Markdown pages whose other-language twin does not exist."""
    missing = []
    for page in sorted(docs_dir.rglob("*.md")):
        relative = page.relative_to(docs_dir).as_posix()
        if relative.endswith(LANGUAGE_SUFFIX):
            twin = page.with_name(page.name[: -len(LANGUAGE_SUFFIX)] + ".md")
        else:
            twin = page.with_name(page.name[: -len(".md")] + LANGUAGE_SUFFIX)
        if not twin.exists():
            missing.append(f"{relative} has no twin {twin.relative_to(docs_dir).as_posix()}")
    return missing


@event_priority(100)
def on_files(files: Files, config) -> Files:
    """Fail on a page without its twin; add the KaTeX files to the site."""
    problems = missing_twins(Path(config.docs_dir))
    if problems:
        raise PluginError("every page needs a Chinese and an English version:\n  " + "\n  ".join(problems))
    if not KATEX_DIST.is_dir():
        raise PluginError(f"KaTeX not found at {KATEX_DIST}: run `npm ci` first")
    names = [*KATEX_FILES, *(f"fonts/{p.name}" for p in sorted((KATEX_DIST / "fonts").iterdir()))]
    for name in names:
        files.append(
            File(name, str(KATEX_DIST), config.site_dir, config.use_directory_urls,
                 dest_uri=f"assets/katex/{name}")
        )
    return files


# code blocks, figures, and the hidden copy of each notebook cell that mkdocs-jupyter keeps for its copy button
SEARCH_SKIPPED = re.compile(r'<(pre|svg|div class="clipboard-copy-txt")(?=[\s>])(?![^>]*data-search-exclude)')


# Pygments wraps every name and every run of spaces in its own span; Material draws names in the code's own
# colour (--md-code-hl-name-color is --md-code-fg-color in both schemes) and gives spaces no style at all
PLAIN_TOKENS = re.compile(r'<span class="[nw]">([^<]*)</span>')


def on_page_content(html: str, page, config, files) -> str:
    """Leave code blocks and figures out of the search index (Material's ``data-search-exclude``): they were
    about half of the index, which every page downloads; the prose around each block names the functions it
    shows (in inline code, which stays searchable), and a figure's SVG has no words. Unwrap the code tokens
    that look the same without a span (a tenth of a math-heavy page's elements; notebooks keep theirs, which
    JupyterLab's theme colours)."""
    if not page.file.src_uri.endswith(".ipynb"):
        html = PLAIN_TOKENS.sub(r"\1", html)
    return SEARCH_SKIPPED.sub(r"<\1 data-search-exclude", html)


@event_priority(-100)
def on_page_context(context, page, config, nav):
    """Make the language switcher's absolute links site-relative (the theme then makes them page-relative).

    static-i18n gives the home pages (and any page without a twin) absolute links, ``/`` and ``/en/``
    (``site_url``'s path in front when it is set), which point outside the site when it is served
    from a sub-path other than ``site_url``'s, e.g. a preview or a fork's GitHub Pages.
    """
    prefix = urlsplit(config.site_url or "").path.rstrip("/") + "/"
    # static-i18n sets the page's links as an *attribute* of config.extra, which Jinja reads before the key
    for alternate in vars(config.extra).get("alternate", config.extra.get("alternate")) or []:
        link = alternate.get("link", "")
        if link.startswith(prefix):
            alternate["link"] = link[len(prefix):]
    return context


HEAD_ALTERNATE = re.compile(r'<link rel="alternate" href="[^"]*" hreflang="[^"]*">\n?')
KATEX_SCRIPTS = re.compile(
    r'<script src="[^"]*(?:assets/katex/katex\.min\.js|assets/katex/contrib/auto-render\.min\.js'
    r'|javascripts/katex\.js)"></script>\n?')


SEARCH_DIALOG = '<div class="md-search" data-md-component="search" role="dialog">'
SEARCH_LABEL = re.compile(r'<input type="text" class="md-search__input"[^>]*\baria-label="([^"]*)"')


def name_search_dialog(output: str) -> str:
    """Give Material's search dialog the accessible name of its input ("搜索" / "Search")."""
    label = SEARCH_LABEL.search(output)
    if label is None:
        return output
    return output.replace(SEARCH_DIALOG, SEARCH_DIALOG[:-1] + f' aria-label="{label.group(1)}">', 1)


@event_priority(-200)
def on_post_page(output: str, page, config) -> str:
    """Remove the head's hreflang links (see the module docstring); name the search dialog; render the
    math at build time and drop KaTeX's scripts where no math is left for the browser
    (``katex_prerender``); shrink matplotlib's inline SVG figures (``svg_minify``)."""
    output = HEAD_ALTERNATE.sub("", output)
    output = name_search_dialog(output)
    if not katex_prerender.needs_client_math(output):
        output = KATEX_SCRIPTS.sub("", output)
    try:
        output = katex_prerender.prerender(output)
    except katex_prerender.KatexError as error:
        raise PluginError(f"{page.file.src_uri}: {error}") from None
    return svg_minify.minify_svgs(output)


def on_post_template(output_content: str, template_name: str, config) -> str:
    """The 404 page is a static template, not a page: name its search dialog too."""
    return name_search_dialog(output_content) if template_name == "404.html" else output_content
