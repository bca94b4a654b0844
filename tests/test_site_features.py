"""Site features on the built site, both languages: the home page's chapter map (from the nav), install
notes, the 404 page, favicon and logo, link-preview metadata, edit links, last-updated dates, lab
downloads and the package source behind each concept page. Expectations come from mkdocs.yml, the
docs and snippets folders and git, never from the hooks that produce the features."""

from __future__ import annotations

import ast
import calendar
import json
import os
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
import yaml

from browser_helpers import Visit, browser_fixture  # noqa: F401  (the `browser` fixture)
from site_helpers import ROOT, SITE, doc_pages

pytestmark = pytest.mark.site
SITE_DIR = Path(os.environ.get("N2T_SITE_DIR") or SITE)
LANGS = ["", "en/"]
PAGES = [(lang, path) for lang in LANGS for path in doc_pages()]
IDS = [f"{lang or 'zh/'}{path}" for lang, path in PAGES]
LAB = re.compile(r"^labs/([^/]+)/([^/]+)/$")
INCLUDE = re.compile(r'^[ \t]*-+8<-+[ \t]+"(src/n2t/[^":]+)(?::[^"]*)?"', re.M)


# ---- what the pages should show, read from the repository ------------------------------------------
# BaseLoader reads the !ENV / !relative / !!python tags as plain data: `!ENV [VAR, default]` is a list.
CONFIG = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)


def repo_url() -> str:
    value = CONFIG["repo_url"]
    return (os.environ.get(value[0]) or value[-1] if isinstance(value, list) else value).rstrip("/")


def nav_translations() -> dict[str, str]:
    i18n = next(p["i18n"] for p in CONFIG["plugins"] if isinstance(p, dict) and "i18n" in p)
    english = next(lang for lang in i18n["languages"] if lang["locale"] == "en")
    return english.get("nav_translations", {})


def url_of(doc: str) -> str:
    """The site URL (relative to a language root) of a nav entry."""
    stem = re.sub(r"\.(md|ipynb)$", "", doc)
    return "" if stem == "index" else (stem[: -len("index")] if stem.endswith("/index") else stem + "/")


def flatten(entries) -> list[str]:
    docs = []
    for entry in entries:
        value = entry if isinstance(entry, str) else next(iter(entry.values()))
        docs.extend(flatten(value) if isinstance(value, list) else [value])
    return docs


def nav_sections() -> list[tuple[str, list[str]]]:
    """(title, docs) of every top-level section or page of the nav, the home page left out."""
    items = []
    for entry in CONFIG["nav"]:
        title, value = (None, entry) if isinstance(entry, str) else next(iter(entry.items()))
        docs = flatten(value) if isinstance(value, list) else [value]
        if docs != ["index.md"]:
            items.append((title, docs))
    return items


def html_of(lang: str, path: str) -> str:
    return (SITE_DIR / lang / path / "index.html").read_text(encoding="utf-8")


def article(html: str) -> str:
    return html[html.index("<article"): html.index("</article>")]


def hrefs(fragment: str) -> list[str]:
    return re.findall(r'<a[^>]*\shref="([^"]*)"', fragment)


def resolve(lang: str, path: str, href: str) -> Path:
    """The file a link on a page points to (hrefs relative to the page, or absolute from the root)."""
    url = urljoin(f"http://site/{lang}{path}", href)
    target = SITE_DIR / urlparse(url).path.lstrip("/")
    return target / "index.html" if target.is_dir() else target


def meta(html: str, key: str) -> str | None:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', html)
    return match and match.group(1)


def git_date(path: Path) -> datetime | None:
    """Last commit touching ``path`` (None if untracked), the way the date plugin asks git."""
    done = subprocess.run(
        ["git", "log", "--date=unix", "--format=%H %at", "--diff-filter=r", "-n", "1", "--no-show-signature",
         "--follow", "--ignore-all-space", "--ignore-blank-lines", "--", str(path)],
        cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0 or not done.stdout.strip():
        return None
    return datetime.fromtimestamp(int(done.stdout.split()[1]), tz=timezone.utc)


def spelled(date: datetime, lang: str) -> str:
    if lang == "":
        return f"{date.year}年{date.month}月{date.day}日"
    return f"{calendar.month_name[date.month]} {date.day}, {date.year}"


def sources_of(path: str) -> list[str]:
    """Repository files a page is built from, its own language first."""
    lab = LAB.match(path)
    if lab:
        return [f"snippets/{lab[1]}/{lab[2]}.py"]
    stem = path.rstrip("/") or "index"
    if not (ROOT / "docs" / f"{stem}.md").exists():
        stem += "/index"
    return [f"docs/{stem}.md", f"docs/{stem}.en.md"]


@pytest.fixture(autouse=True)
def built(request):
    if not request.node.name.startswith("test_hook_") and not (SITE_DIR / "index.html").exists():
        pytest.fail(f"{SITE_DIR} is not built: run `make site` (make test does it first)")


# ---- the hooks' parsing, without a build ------------------------------------------------------------
def hooks():
    sys.path.insert(0, str(ROOT / "tools"))
    import downloads
    import site_features

    return site_features, downloads


def test_hook_chapter_map_follows_any_nav(tmp_path):
    from types import SimpleNamespace

    site_features, _ = hooks()

    def page(uri, text):
        (tmp_path / uri).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / uri).write_text(text, encoding="utf-8")
        file = SimpleNamespace(src_uri=uri, abs_src_path=str(tmp_path / uri))
        return SimpleNamespace(file=file, is_page=True, is_section=False, title=None)

    def section(title, children):
        return SimpleNamespace(title=title, children=children, is_page=False, is_section=True)

    notebook = json.dumps({"cells": [{"cell_type": "markdown", "source": ["# 新实验 / Lab: a new lab\n"]}]})
    home = page("index.md", "# 首页\n")
    chapter = section("新的一章", [
        page("new/index.md", "# 新的一章\n"), page("new/first.md", "---\ntitle: 第一页\n---\n# 别的标题\n"),
        section("实验", [page("labs/new/lab.ipynb", notebook)])])
    nav = SimpleNamespace(items=[home, chapter, page("glossary.md", "```\n# 不是标题\n```\n# 术语表\n")])
    assert site_features.chapter_map(nav, home, "zh") == (
        "- **[新的一章](new/index.md)**：[第一页](new/first.md)\n"
        "    <br>实验：[新实验](labs/new/lab.ipynb)\n- **[术语表](glossary.md)**\n")
    assert "[A new lab](labs/new/lab.ipynb)" in site_features.chapter_map(nav, home, "en")


def test_hook_finds_the_package_files_a_page_includes():
    _, downloads = hooks()
    markdown = ('--8<-- "src/n2t/numpy/rnn.py:imports"\n;--8<-- "src/n2t/numpy/gru.py"\n'
                '    --8<-- "src/n2t/torch/rnn.py:rnn-forward"\n--8<-- "src/n2t/numpy/rnn.py:rnn-step"\n'
                '--8<-- "snippets/neuron/xor.py"\n')
    assert downloads.included_sources(markdown) == ["src/n2t/numpy/rnn.py", "src/n2t/torch/rnn.py"]


def test_hook_a_lab_without_its_program_fails_the_build():
    from mkdocs.exceptions import PluginError

    site_features, downloads = hooks()
    with pytest.raises(PluginError, match="has no program snippets/neuron/nothing.py"):
        downloads.lab_program("labs/neuron/nothing.ipynb")
    with pytest.raises(PluginError, match="has no program"):
        site_features.page_sources("labs/neuron/nothing.ipynb")
    assert site_features.page_sources("neuron/layers.en.md") == [
        ("zh", "docs/neuron/layers.md"), ("en", "docs/neuron/layers.en.md")]


def test_hook_description_skips_math_and_short_paragraphs():
    site_features, _ = hooks()
    content = ('<p>Short.</p><p>Math <span class="arithmatex">\\(x\\)</span> here, long enough to count.</p>'
               "<p>The first paragraph of prose &amp; <em>no</em> math in it.</p>")
    assert site_features.first_paragraph(content) == "The first paragraph of prose & no math in it."


# ---- home page ------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_home_page_maps_every_chapter_of_the_nav(lang):
    html = article(html_of(lang, ""))
    heading = "章节图" if lang == "" else "Chapter map"
    start = html.index(f">{heading}<")
    chapter_map = html[start: html.index("</ul>", start)]
    expected = [url_of(doc) for _, docs in nav_sections() for doc in docs]
    assert [h for h in hrefs(chapter_map) if not h.startswith("#")] == expected, "the map does not follow the nav"
    translations = nav_translations()
    for title, docs in nav_sections():
        if title and len(docs) > 1:
            name = title if lang == "" else translations.get(title, title)
            assert f'<a href="{url_of(docs[0])}">{name}</a>' in chapter_map, name


@pytest.mark.parametrize("lang", LANGS)
def test_home_page_says_how_to_install_and_run_a_lab(lang):
    html = article(html_of(lang, ""))
    text = re.sub(r"<[^>]+>", "", html)
    assert 'id="install"' in html
    assert f"git clone {repo_url()}.git" in text and "{{ repo_url }}" not in text
    assert 'pip install -e ".[labs]"' in text.replace("&quot;", '"')
    program = re.search(r"python (snippets/\w+/\w+\.py)", text)
    assert program and (ROOT / program.group(1)).is_file(), "the lab the home page runs does not exist"


def test_labs_extra_installs_what_the_labs_import():
    import tomllib
    from importlib.metadata import packages_distributions

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    wanted, pending = set(), [*project["dependencies"], *extras["labs"]]
    while pending:
        requirement = Requirement(pending.pop())
        if requirement.name == "n2t":
            pending.extend(r for extra in requirement.extras for r in extras[extra])
        else:
            wanted.add(requirement.name.lower().replace("_", "-"))
    distributions = packages_distributions()
    missing = set()
    for program in sorted((ROOT / "snippets").glob("*/*.py")):
        for node in ast.walk(ast.parse(program.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for name in (n.split(".")[0] for n in names):
                if name in sys.stdlib_module_names or name == "n2t":
                    continue
                dists = {d.lower().replace("_", "-") for d in distributions.get(name, [name])}
                if not dists & wanted:
                    missing.add(f"{program.relative_to(ROOT)}: {name}")
    assert not missing, f"the labs extra lacks: {sorted(missing)}"


# ---- 404, favicon, logo ---------------------------------------------------------------------------
def test_404_page_speaks_both_languages_and_links_both_homes():
    html = (SITE_DIR / "404.html").read_text(encoding="utf-8")
    assert '<html lang="zh"' in html, "the Chinese build's 404 page must be the one kept"
    body = article(html)
    assert 'lang="zh"' in body and 'lang="en"' in body and "页面不存在" in body and "Page not found" in body
    base = urlparse(os.environ.get("N2T_SITE_URL") or "/").path.rstrip("/") + "/"
    assert {base, base + "en/"} <= set(hrefs(body))
    switcher = re.findall(r'<a href="([^"]*)" hreflang="(\w+)" class="md-select__link"', html)
    assert sorted(switcher) == [(base, "zh"), (base + "en/", "en")], switcher
    assert '<meta name="robots" content="noindex">' in html
    assert re.search(r'<div class="md-search"[^>]*role="dialog" aria-label="搜索"', html), "unnamed search dialog"
    for asset in re.findall(r'(?:src|href)="(/[^"#]*\.(?:css|js|svg|png))"', html):
        assert (SITE_DIR / asset[len(base):]).is_file(), f"404 page loads a missing {asset}"


@pytest.mark.parametrize("lang,path", PAGES, ids=IDS)
def test_favicon_and_logo_are_served_svgs(lang, path):
    html = html_of(lang, path)
    icon = re.search(r'<link rel="icon" href="([^"]+)"', html).group(1)
    logo = re.search(r'<a href="[^"]*" title="[^"]*" class="md-header__button md-logo"[^>]*>\s*<img src="([^"]+)"',
                     html).group(1)
    for href in (icon, logo):
        target = resolve(lang, path, href)
        assert target.suffix == ".svg" and target.is_file(), href
        root = ET.fromstring(target.read_text(encoding="utf-8"))
        assert root.tag.endswith("svg") and root.get("viewBox")


# ---- link previews ----------------------------------------------------------------------------------
def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("lang,path", PAGES, ids=IDS)
def test_pages_carry_open_graph_and_twitter_metadata(lang, path):
    html = html_of(lang, path)
    h1 = unescape(re.sub(r"<[^>]+>", "", re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1))).strip(" ¶\n")
    title, description = meta(html, "og:title"), meta(html, "og:description")
    assert title and description and meta(html, "twitter:title") == title
    assert path == "" or unescape(title).startswith(h1), (title, h1)
    assert meta(html, "og:locale") == ("zh_CN" if lang == "" else "en_US")
    assert meta(html, "twitter:card") == "summary_large_image"
    image = meta(html, "og:image")
    assert meta(html, "twitter:image") == image
    site_url = os.environ.get("N2T_SITE_URL")
    if site_url:
        assert image.startswith(site_url.rstrip("/") + "/"), image
        image = "/" + image[len(site_url.rstrip("/") + "/"):]
    assert png_size(resolve(lang, path, image)) == (1200, 630)
    assert "$" not in description and "\\(" not in description


def test_social_card_stays_small():
    assert (ROOT / "docs/assets/social-card.png").stat().st_size < 60_000


# ---- edit links and dates -----------------------------------------------------------------------------
@pytest.mark.parametrize("lang,path", PAGES, ids=IDS)
def test_edit_links_point_at_the_files_the_page_is_built_from(lang, path):
    html = html_of(lang, path)
    sources = sources_of(path)
    own = sources[0] if len(sources) == 1 or lang == "" else sources[1]
    assert re.search(rf'<a href="{re.escape(repo_url())}/edit/main/{re.escape(own)}"[^>]*rel="edit"', html), own
    aside = re.search(r'<aside class="n2t-sources">(.*?)</aside>', html, re.S).group(1)
    assert hrefs(aside) == [f"{repo_url()}/edit/main/{s}" for s in sources]
    assert all((ROOT / s).is_file() for s in sources)
    assert 'data-md-component="source"' not in html, "Material would ask api.github.com for repository facts"


@pytest.mark.parametrize("lang,path", PAGES, ids=IDS)
def test_last_updated_date_is_the_last_commit_in_the_page_language(lang, path):
    date = git_date(ROOT / sources_of(path)[0 if lang == "" or LAB.match(path) else 1])
    if date is None:
        pytest.skip("not committed yet (the page shows the build date)")
    shown = re.search(r'git-revision-date-localized-plugin-date"[^>]*>([^<]+)<', html_of(lang, path))
    assert shown and shown.group(1).strip() == spelled(date, lang)


# ---- downloads ---------------------------------------------------------------------------------------
LABS = [(lang, path) for lang, path in PAGES if LAB.match(path)]


@pytest.mark.parametrize("lang,path", LABS, ids=[f"{lang or 'zh/'}{p}" for lang, p in LABS])
def test_lab_pages_offer_the_program_and_the_executed_notebook(lang, path):
    import jupytext

    chapter, name = LAB.match(path).groups()
    html = html_of(lang, path)
    box = re.search(r'</h1>\s*<div class="admonition info n2t-downloads">(.*?)</div>', html, re.S)
    assert box, "no download box under the title"
    assert box.start() < html.index('<div class="jp-Cell jp-CodeCell'), "the download box is not above the code"
    assert {f"{name}.py", f"{name}.ipynb"} <= set(hrefs(box.group(1)))
    assert ("执行过的笔记本" if lang == "" else "the notebook executed") in box.group(1)
    program = ROOT / "snippets" / chapter / f"{name}.py"
    assert resolve(lang, path, f"{name}.py").read_bytes() == program.read_bytes()
    notebook = json.loads(resolve(lang, path, f"{name}.ipynb").read_text(encoding="utf-8"))
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert any(c["outputs"] for c in code), "the notebook offered is not the executed one"
    expected = [c.source for c in jupytext.read(program).cells if c.cell_type == "code"]
    assert ["".join(c["source"]) for c in code] == expected, "the notebook is not this program"


MARKDOWN_PAGES = [(lang, path) for lang, path in PAGES if not LAB.match(path)]


@pytest.mark.parametrize("lang,path", MARKDOWN_PAGES, ids=[f"{lang or 'zh/'}{p}" for lang, p in MARKDOWN_PAGES])
def test_concept_pages_link_the_package_source_of_their_code(lang, path):
    markdown = (ROOT / sources_of(path)[0 if lang == "" else 1]).read_text(encoding="utf-8")
    included = list(dict.fromkeys(INCLUDE.findall(markdown)))
    html = html_of(lang, path)
    box = re.search(r'<div class="admonition info n2t-source">(.*?)</div>', html, re.S)
    if not included:
        assert box is None, "a source box on a page that shows no package code"
        return
    assert box, f"no source box for {included}"
    links = hrefs(box.group(1))
    local = [href for href in links if not href.startswith("http")]
    assert [f"{repo_url()}/blob/main/{f}" for f in included] == [h for h in links if h.startswith("http")]
    assert len(local) == len(included)
    for href, source in zip(local, included):
        assert resolve(lang, path, href).read_bytes() == (ROOT / source).read_bytes(), href


# ---- the 404 page in a browser ------------------------------------------------------------------------
def not_found_handler(directory: Path):
    """A static host's behaviour: a missing path answers 404 with the site's 404.html."""
    import functools
    import http.server

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send_error(self, code, message=None, explain=None):
            if code != 404:
                return super().send_error(code, message, explain)
            body = (directory / "404.html").read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return functools.partial(Handler, directory=str(directory))


@pytest.fixture(scope="module")
def not_found_server():
    import http.server
    import threading

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), not_found_handler(SITE_DIR))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


@pytest.mark.xdist_group("browser")
@pytest.mark.parametrize("missing,first", [("no/such/page/", "页面不存在"), ("en/no/such/page/", "Page not found")])
def test_404_page_loads_clean_at_any_depth(browser, not_found_server, missing, first):
    if os.environ.get("N2T_SITE_URL"):
        pytest.skip("built for a sub-path: the 404 page's links start with that path")
    visit = Visit(browser, not_found_server)
    try:
        page = visit.open(not_found_server + missing, math=False)
        # the page itself answers 404, as it should (the console reports that too)
        visit.failed.remove(f"404 {not_found_server}{missing}")
        visit.console_errors.remove("Failed to load resource: the server responded with a status of 404 (Not Found)")
        visit.assert_clean()
        assert page.locator("article h1").first.inner_text() == first
        assert page.locator("img[alt=logo]").first.evaluate("i => i.complete && i.naturalWidth > 0")
    finally:
        visit.close()


# ---- the search index -------------------------------------------------------------------------------
def test_search_index_leaves_out_code_blocks_and_figures_but_keeps_the_prose():
    """Code blocks, notebook cells (and their hidden copies) and SVG figures are not indexed; prose and inline
    code are, in both languages."""
    index = json.loads((SITE_DIR / "search" / "search_index.json").read_text(encoding="utf-8"))
    text = "\n".join(entry["title"] + entry["text"] for entry in index["docs"]).replace("\u200b", "")  # jieba's cuts
    lstm_page = unescape(re.sub(r"<[^>]+>", "", (SITE_DIR / "rnn" / "lstm" / "index.html").read_text(encoding="utf-8")))
    assert "import numpy as np" in lstm_page and "import numpy as np" not in text
    assert "<svg" not in text and "<path" not in text
    lab_cells = [entry["text"] for entry in index["docs"] if entry["location"].startswith("labs/rnn/charlm/")]
    assert lab_cells and not any("import torch" in cell for cell in lab_cells)
    assert "遗忘门" in text and "forget gate" in text and "<code>lstm_step_forward</code>" in text
