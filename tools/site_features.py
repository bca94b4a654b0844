"""MkDocs hook: the home page's chapter map, edit links, dates of labs, page descriptions, the 404 page.

* ``<!-- n2t:chapter-map -->`` on a page becomes a list of every section of the nav (chapters, then
  reference) with its pages and labs, in the language being built: a new chapter appears on the home
  page without an edit. ``{{ repo_url }}`` becomes ``repo_url`` from mkdocs.yml.
* Edit links: every page lists the files it is built from, each with its "edit on GitHub" link: a
  Markdown page's Chinese and English files, a lab's program in ``snippets/`` (its notebook in
  ``docs/labs/`` is generated, so Material's own edit button is pointed at the program too).
* Last-updated dates (mkdocs-git-revision-date-localized): a lab's date is its program's last commit.
* ``page.meta.description`` (Material's ``<meta name="description">`` and the Open Graph card) is the
  page's first paragraph when the page sets none.
* 404: static-i18n builds ``404.html`` once per language into the same file, the last (English) build
  winning with the language switcher of whatever page was built last. The Chinese build's copy is
  kept (overrides/404.html speaks both languages) and its switcher points at the two home pages.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
from copy import deepcopy
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

ROOT = Path(__file__).resolve().parent.parent
CHAPTER_MAP = "<!-- n2t:chapter-map -->"
REPO_URL_TOKEN = "{{ repo_url }}"
LAB_PAGE = re.compile(r"^labs/(?P<chapter>[^/]+)/(?P<lab>[^/]+)\.ipynb$")
LANGUAGE_SUFFIX = re.compile(r"\.en\.md$")
DATE_PLUGIN = "git-revision-date-localized"
HEAD_ALTERNATE = re.compile(r'<link rel="alternate" href="[^"]*" hreflang="[^"]*">\n?')
DESCRIPTION_LENGTH = 160
LABELS = {
    "zh": {"labs": "实验"},
    "en": {"labs": "Labs"},
}

_state: dict = {"nav": None, "404": None, "commit_times": {}}


def language(config) -> str:
    """The language being built (static-i18n sets ``theme.language`` for each build)."""
    return config.theme["language"]


def default_language(config) -> str:
    i18n = config.plugins.get("i18n")
    return i18n.default_language if i18n else language(config)


# ---- the chapter map --------------------------------------------------------------------------
@event_priority(-150)  # after static-i18n (-100) has translated the section titles
def on_nav(nav, config, files):
    _state["nav"] = nav
    return nav


def source_uri(file) -> str:
    """The page's name as pages link to it: ``neuron/layers.md`` for both language files."""
    return LANGUAGE_SUFFIX.sub(".md", file.src_uri)


def markdown_title(path: Path) -> str:
    """A Markdown page's ``title:`` front matter or its first ``# `` heading outside code fences."""
    text = path.read_text(encoding="utf-8")
    front = re.match(r"---\n(.*?)\n---\n", text, re.S)
    if front:
        title = re.search(r"^title:\s*(.+)$", front.group(1), re.M)
        if title:
            return title.group(1).strip().strip("\"'")
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and line.startswith("# "):
            return line[2:].strip()
    raise PluginError(f"{path.relative_to(ROOT)} has no '# ' title")


def lab_title(path: Path, lang: str) -> str:
    """A lab's title in one language: its notebook heading is ``中文标题 / Lab: English title``."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        source = "".join(cell["source"]) if cell["cell_type"] == "markdown" else ""
        heading = re.search(r"^# (.+)$", source, re.M)
        if heading:
            zh, _, en = heading.group(1).partition(" / ")
            if lang == "zh" or not en:
                return zh.strip()
            en = re.sub(r"^Lab:\s*", "", en.strip())
            return en[:1].upper() + en[1:]
    raise PluginError(f"{path.relative_to(ROOT)} has no '# ' title")


def page_title(page, lang: str) -> str:
    path = Path(page.file.abs_src_path)
    return lab_title(path, lang) if path.suffix == ".ipynb" else markdown_title(path)


def is_home(page) -> bool:
    return source_uri(page.file) == "index.md"


def section_pages(section) -> list:
    pages = []
    for child in section.children:
        pages.extend(section_pages(child) if child.is_section else [child] if child.is_page else [])
    return pages


def labs_title(section) -> str | None:
    """The (translated) title of a section's sub-section of labs, e.g. 实验 / Labs."""
    for child in section.children:
        if child.is_section and all(LAB_PAGE.match(p.file.src_uri) for p in section_pages(child)):
            return child.title
    return None


def chapter_map(nav, page, lang: str) -> str:
    """Markdown list of the nav's sections (and single pages), linked relative to ``page``."""
    here = posixpath.dirname(source_uri(page.file))

    def link(target) -> str:
        text = page_title(target, lang).replace("[", "\\[").replace("]", "\\]")
        return f"[{text}]({posixpath.relpath(source_uri(target.file), here or '.')})"

    colon = "：" if lang == "zh" else ": "
    lines = []
    for item in nav.items:
        if item.is_page and not is_home(item):
            lines.append(f"- **{link(item)}**")
        elif item.is_section:
            pages = section_pages(item)
            concepts = [p for p in pages if not LAB_PAGE.match(p.file.src_uri)]
            labs = [p for p in pages if LAB_PAGE.match(p.file.src_uri)]
            head, rest = (concepts[0], concepts[1:]) if concepts else (None, [])
            title = f"[{item.title}]({posixpath.relpath(source_uri(head.file), here or '.')})" if head else item.title
            lines.append(f"- **{title}**" + (colon + " · ".join(link(p) for p in rest) if rest else ""))
            if labs:
                label = labs_title(item) or LABELS.get(lang, LABELS["en"])["labs"]
                lines.append(f"    <br>{label}{colon}" + " · ".join(link(p) for p in labs))
    return "\n".join(lines) + "\n"


def on_page_markdown(markdown, page, config, files):
    if CHAPTER_MAP in markdown:
        if _state["nav"] is None:
            raise PluginError("chapter map: the navigation is not known yet")
        markdown = markdown.replace(CHAPTER_MAP, chapter_map(_state["nav"], page, language(config)))
    return markdown.replace(REPO_URL_TOKEN, config.repo_url.rstrip("/"))


# ---- lab dates ----------------------------------------------------------------------------------
def lab_programs(src_uri: str) -> list[Path]:
    """``snippets/<chapter>/<lab>.py`` (and its ``.en.py`` twin, if there is one) of a lab page."""
    match = LAB_PAGE.match(src_uri)
    if not match:
        return []
    program = ROOT / "snippets" / match["chapter"] / f"{match['lab']}.py"
    if not program.exists():
        raise PluginError(f"lab page {src_uri} has no program {program.relative_to(ROOT)}")
    twin = program.with_name(f"{match['lab']}.en.py")
    return [program, twin] if twin.exists() else [program]


def commit_time(plugin, path: Path) -> int:
    """Last commit of ``path`` (asked once per build, not once per language)."""
    if path not in _state["commit_times"]:
        _state["commit_times"][path] = plugin.util.get_git_commit_timestamp(str(path))[1]
    return _state["commit_times"][path]


def date_lab(page, config) -> None:
    """Replace a lab's date (its generated notebook has no history) with its program's last commit."""
    plugin = config.plugins.get(DATE_PLUGIN)
    programs = lab_programs(page.file.src_uri)
    if plugin is None or not programs or not plugin.config.get("enabled"):
        return
    stamps = [commit_time(plugin, p) for p in programs]
    formats = plugin.util.get_date_formats_for_timestamp(max(stamps), locale=language(config), add_spans=True)
    page.meta["git_revision_date_localized"] = formats[plugin.config["type"]]


# ---- edit links -----------------------------------------------------------------------------------
def page_sources(src_uri: str, docs_prefix: str = "docs/") -> list[tuple[str, str]]:
    """(language, repository path) of every file a page is built from."""
    programs = lab_programs(src_uri)
    if len(programs) == 1:  # one language-neutral program
        return [("", programs[0].relative_to(ROOT).as_posix())]
    if programs:
        return [(lang, p.relative_to(ROOT).as_posix()) for lang, p in zip(("zh", "en"), programs)]
    zh = LANGUAGE_SUFFIX.sub(".md", src_uri)
    if not zh.endswith(".md"):
        return []
    en = zh[: -len(".md")] + ".en.md"
    return [(lang, docs_prefix + uri) for lang, uri in (("zh", zh), ("en", en)) if (ROOT / docs_prefix / uri).exists()]


def branch(config) -> str:
    """The branch named in ``edit_uri`` (``edit/<branch>/docs/``), so mkdocs.yml names it once."""
    parts = (config.edit_uri or "").strip("/").split("/")
    if len(parts) < 2 or parts[0] != "edit":
        raise PluginError(f"edit_uri should read edit/<branch>/docs/, not {config.edit_uri!r}")
    return parts[1]


def edit_url(config, path: str) -> str:
    return f"{config.repo_url.rstrip('/')}/edit/{branch(config)}/{path}"


def on_page_context(context, page, config, nav):
    sources = page_sources(page.file.src_uri)
    context["n2t_home"] = is_home(page)
    context["n2t_sources"] = [
        {"lang": lang, "path": path, "edit_url": edit_url(config, path)} for lang, path in sources
    ]
    own = [path for lang, path in sources if lang in ("", language(config))] or [path for _, path in sources]
    if own and config.repo_url:
        page.edit_url = edit_url(config, own[0])
    return context


# ---- descriptions ---------------------------------------------------------------------------------
PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)


def first_paragraph(content: str) -> str:
    """Text of the first paragraph of prose without math (TeX reads badly in a link preview)."""
    for match in PARAGRAPH.finditer(content):
        if "arithmatex" in match.group(1):
            continue
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).split())
        if len(text) >= 20:
            return text if len(text) <= DESCRIPTION_LENGTH else text[: DESCRIPTION_LENGTH - 1].rstrip() + "…"
    return ""


def on_page_content(content, page, config, files):
    date_lab(page, config)
    if not page.meta.get("description") and not LAB_PAGE.match(page.file.src_uri) and not is_home(page):
        description = first_paragraph(content)
        if description:
            page.meta["description"] = description
    return content


# ---- the 404 page ---------------------------------------------------------------------------------
def on_pre_build(config):
    if language(config) == default_language(config):  # the first of the per-language builds
        _state["404"] = None
        _state["commit_times"] = {}


def on_template_context(context, template_name, config):
    """Point the 404 page's language switcher at the home pages, not at the page built last."""
    i18n = config.plugins.get("i18n")
    if template_name == "404.html" and i18n is not None and i18n.extra_alternate:
        config.extra["alternate"] = deepcopy(i18n.extra_alternate)
    return context


def on_post_template(output, template_name, config):
    if template_name != "404.html":
        return output
    output = HEAD_ALTERNATE.sub("", output)
    if language(config) == default_language(config):
        _state["404"] = output
        return output
    return _state["404"] or output
