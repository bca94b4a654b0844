"""The glossary: ``data/glossary.yml`` → the glossary pages, and links from each page's first use of a term.

MkDocs hook (registered in mkdocs.yml):

* ``on_page_markdown``: on the glossary page (``docs/glossary.md`` and ``docs/glossary.en.md``) the
  marker line ``<!-- glossary-table -->`` becomes the table of terms, one row per term, the row's id
  being the term's ``id`` (its anchor).
* ``on_page_content``: on every other page, the first use of each term (its preferred Chinese forms on
  Chinese pages, its English forms on English pages) becomes a link to its glossary entry, with the
  other language's term as the link's title. Only text is touched: nothing inside code, pre, links,
  headings, math (``.arithmatex``, ``.katex``), SVG, scripts, tab labels or admonition titles. At one
  place in the text the longest form wins (自编码器, not 编码器), and an English form only matches a
  whole word.

``tests/test_terminology.py`` checks the data against ``GLOSSARY.md`` and the pages against the data.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "glossary.yml"
GLOSSARY_PAGE = "glossary.md"  # the Chinese page's src_uri; static-i18n's norm_src_uri for both twins
TABLE_MARKER = "<!-- glossary-table -->"
LINK_CLASS = "n2t-glossary"

# elements whose text is never linked (plus everything inside them)
SKIP_TAGS = frozenset(
    "a abbr button code h1 h2 h3 h4 h5 h6 kbd label option pre samp select summary textarea title var".split()
)
SKIP_CLASSES = frozenset({"arithmatex", "katex", "katex-display", "admonition-title", "headerlink",
                          "highlight", "no-glossary",
                          "clipboard-copy-txt", "jp-InputArea-editor", "jp-OutputArea"})  # notebooks: code, outputs
OPAQUE_TAGS = ("script", "style", "svg", "math", "pre", "code", "textarea")  # skipped with all they hold
VOID_TAGS = frozenset("area base br col embed hr img input link meta param source track wbr".split())
ASCII_WORD = "A-Za-z0-9_"


@dataclass(frozen=True)
class Term:
    """One concept: its anchor, English and preferred Chinese terms, the alternatives, the forms to match."""

    id: str
    en: str
    zh: str
    also: tuple[str, ...] = ()
    notes: dict[str, str] = field(default_factory=dict)
    zh_forms: tuple[str, ...] = ()
    en_forms: tuple[str, ...] = ()
    link: bool = True  # False on a copy made for a language whose pages never link the term
    link_languages: tuple[str, ...] = ("zh", "en")
    zh_not_followed_by: tuple[str, ...] = ()

    def forms(self, lang: str) -> tuple[str, ...]:
        return self.en_forms if lang == "en" else self.zh_forms

    def also_cell(self) -> str:
        """The "also" cell as GLOSSARY.md writes it: ``a, b (note)``."""
        return ", ".join(f"{alt} ({self.notes[alt]})" if alt in self.notes else alt for alt in self.also)


@dataclass(frozen=True)
class Glossary:
    terms: tuple[Term, ...]
    note_texts: dict[str, dict[str, str]]


def default_zh_forms(zh: str) -> list[str]:
    """``A / B（C、D）`` → ``[A, B, C, D]``: the term and each part given in full-width parentheses."""
    match = re.fullmatch(r"(.*?)（(.*)）", zh)
    base, inner = (match.group(1), match.group(2)) if match else (zh, "")
    parts = base.split(" / ") + [p for chunk in inner.split(" / ") for p in chunk.split("、")]
    return [part.strip() for part in parts if part.strip()]


def load_glossary(path: Path = DATA) -> Glossary:
    """Read the data file; raises ValueError on a duplicate id or a note without its alternative."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    terms = []
    for row in data["terms"]:
        also = tuple(row.get("also", ()))
        notes = dict(row.get("notes", {}))
        if set(notes) - set(also):
            raise ValueError(f"{path}: term {row['id']!r}: notes {sorted(set(notes) - set(also))} "
                             "name no alternative of the term")
        terms.append(Term(
            id=row["id"], en=row["en"], zh=row["zh"], also=also, notes=notes,
            zh_forms=tuple(row.get("zh_forms") or default_zh_forms(row["zh"])),
            en_forms=tuple(row.get("en_forms") or [p.strip() for p in row["en"].split(" / ")]),
            link_languages=tuple(("zh", "en") if row.get("link", True) is True else row.get("link") or ()),
            zh_not_followed_by=tuple(row.get("zh_not_followed_by", ())),
        ))
    ids = [term.id for term in terms]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{path}: duplicate ids {duplicates}")
    return Glossary(tuple(terms), data.get("note_texts", {}))


# ---- matching terms in text ------------------------------------------------------------------

def form_pattern(form: str, lang: str, not_followed_by: tuple[str, ...] = ()) -> str:
    """Regex source for one form of a term in running text.

    Spaces match any run of white space (none, between Chinese and Latin letters on Chinese pages); a
    form in lower case matches in any case, one with capitals only with its first letter in either case
    (ReLU, not relu); English forms take a plural -s/-es and both -ization/-isation; a form that starts
    or ends with a Latin letter or digit only matches a whole word.
    """
    source = ""
    for position, char in enumerate(form):
        if char == " ":
            source += r"\s*" if lang == "zh" else r"\s+"
        elif position == 0 and char.isascii() and char.isalpha():
            source += f"[{char.upper()}{char.lower()}]"
        else:
            source += re.escape(char)
    if lang == "en":
        source = source.replace("ization", "i[sz]ation")
        if form[-1].isascii() and form[-1].isalpha():
            source += "(?:e?s)?"
    if form[1:] == form[1:].lower():
        source = f"(?i:{source})"
    boundary = ASCII_WORD + ("-" if lang == "en" else "")
    if form[0].isascii() and form[0].isalnum():
        source = f"(?<![{boundary}]){source}"
    if form[-1].isascii() and form[-1].isalnum():
        source += f"(?![{boundary}])"
    if not_followed_by:
        source += "(?!" + "|".join(re.escape(text) for text in not_followed_by) + ")"
    return source


@dataclass(frozen=True)
class Matcher:
    """Every form of every term of one language in one regex, longest forms first."""

    regex: re.Pattern
    term_of_group: tuple[Term, ...]  # group i + 1 matched → term_of_group[i]


def build_matcher(terms: tuple[Term, ...], lang: str) -> Matcher:
    """All forms of ``terms`` for ``lang`` ("zh" or "en"), longest first, each its own group.

    On Chinese pages the alternatives are matched as well, as a copy of their term with ``link=False``.
    Forms are grouped by their first character behind a lookahead on it, so that at a position of the
    text only the forms starting with that character are tried (30x faster than one flat alternation).
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang: expected 'zh' or 'en', got {lang!r}")
    by_first: dict[str, list[tuple[str, Term]]] = {}
    for term in terms:
        linked = term if lang in term.link_languages else replace(term, link=False)
        for form in term.forms(lang):
            by_first.setdefault(form[0].lower(), []).append((form, linked))
        if lang == "zh":  # an alternative is matched too, never linked: 零填充 is not a use of 填充
            for alt in term.also:
                by_first.setdefault(alt[0].lower(), []).append((alt, replace(term, link=False)))
    groups, order = [], []
    for first, forms in by_first.items():
        forms.sort(key=lambda pair: -len(pair[0]))
        order.extend(term for _, term in forms)
        branches = "|".join(
            f"({form_pattern(form, lang, term.zh_not_followed_by if lang == 'zh' else ())})" for form, term in forms
        )
        guard = re.escape(first) + (re.escape(first.upper()) if first.upper() != first else "")
        groups.append(f"(?=[{guard}])(?:{branches})")
    starts = "".join(re.escape(first) + re.escape(first.upper()) for first in by_first)
    word_start = f"(?<![{ASCII_WORD}-])" if lang == "en" else ""  # every English form starts a word
    regex = re.compile(f"{word_start}(?=[{starts}])(?:" + "|".join(groups) + ")")
    return Matcher(regex, tuple(order))


def find_terms(text: str, matcher: Matcher) -> list[tuple[int, int, Term]]:
    """(start, end, term) of every non-overlapping use of a term in plain ``text``."""
    return [(m.start(), m.end(), matcher.term_of_group[m.lastindex - 1]) for m in matcher.regex.finditer(text)]


# ---- linking first uses in rendered HTML -----------------------------------------------------

_ATTRIBUTES = r"""(?:\s+[^\s=/>"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*\s*/?"""
_TOKEN = re.compile(
    r"<!--.*?-->"
    r"|<!\[CDATA\[.*?\]\]>"
    r"|<![A-Za-z][^>]*>"  # <!DOCTYPE ...>
    rf"|<(?P<opaque>{'|'.join(OPAQUE_TAGS)})\b{_ATTRIBUTES}>.*?</(?P=opaque)\s*>"
    rf"|<(?P<close>/)?(?P<name>[A-Za-z][A-Za-z0-9:-]*){_ATTRIBUTES}>",
    re.S | re.I,
)
_CLASS = re.compile(r"""\sclass\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


def _skips(tag: str, name: str) -> bool:
    if name in SKIP_TAGS:
        return True
    match = _CLASS.search(tag)
    classes = (match.group(1) or match.group(2) or match.group(3) or "").split() if match else []
    return not SKIP_CLASSES.isdisjoint(classes)


def link_first_uses(page_html: str, matcher: Matcher, href, title) -> str:
    """Link the first use of each term in ``page_html``'s text.

    Args:
        page_html: rendered HTML of a page's content.
        matcher: from ``build_matcher`` for the page's language.
        href: ``href(term)`` → the link target of a term's glossary entry.
        title: ``title(term)`` → the link's title (plain text; escaped here).

    Returns:
        The HTML with ``<a class="n2t-glossary" href=... title=...>`` around each first use; the rest
        unchanged byte for byte.
    """
    linked: set[str] = set()

    def link_text(text: str) -> str:
        out, position = [], 0
        for start, end, term in find_terms(text, matcher):
            if not term.link or term.id in linked:
                continue
            linked.add(term.id)
            out.append(text[position:start])
            out.append(f'<a class="{LINK_CLASS}" href="{html.escape(href(term))}" '
                       f'title="{html.escape(title(term))}">{text[start:end]}</a>')
            position = end
        out.append(text[position:])
        return "".join(out)

    out, stack, skipping, position = [], [], 0, 0
    for token in _TOKEN.finditer(page_html):
        text = page_html[position:token.start()]
        out.append(link_text(text) if not skipping and text and not text.isspace() else text)
        out.append(token.group(0))
        position = token.end()
        name = (token.group("name") or "").lower()
        if not name or name in VOID_TAGS or token.group(0).endswith("/>"):
            continue
        if token.group("close"):
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth][0] == name:
                    skipping -= sum(skip for _, skip in stack[depth:])
                    del stack[depth:]
                    break
        else:
            skip = _skips(token.group(0), name)
            stack.append((name, skip))
            skipping += skip
    text = page_html[position:]
    out.append(link_text(text) if not skipping and text and not text.isspace() else text)
    return "".join(out)


# ---- the glossary page -----------------------------------------------------------------------

_HEADERS = {
    "zh": ("首选译名", "英文", "其他译名"),
    "en": ("English", "Chinese (preferred)", "Other Chinese terms"),
}


def _alternatives(term: Term, glossary: Glossary, lang: str) -> str:
    parts = []
    for alt in term.also:
        note = term.notes.get(alt)
        text = html.escape(alt)
        if note:
            wording = html.escape(glossary.note_texts.get(note, {}).get(lang, note))
            text += f"（{wording}）" if lang == "zh" else f' <span lang="en">({wording})</span>'
        parts.append(text)
    return ("、" if lang == "zh" else ", ").join(parts) or "—"


def table_html(glossary: Glossary, lang: str) -> str:
    """The glossary as one HTML table; each row's id is the term's anchor."""
    if lang not in _HEADERS:
        raise ValueError(f"lang: expected 'zh' or 'en', got {lang!r}")
    head = "".join(f"<th>{header}</th>" for header in _HEADERS[lang])
    rows = []
    for term in glossary.terms:
        zh, en = html.escape(term.zh), html.escape(term.en)
        cells = (f'<td><strong>{zh}</strong></td><td lang="en">{en}</td>' if lang == "zh"
                 else f'<td><strong>{en}</strong></td><td lang="zh">{zh}</td>')
        rows.append(f'<tr id="{term.id}">{cells}<td lang="zh">{_alternatives(term, glossary, lang)}</td></tr>')
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"


def link_title(term: Term, lang: str) -> str:
    """Title of a first-use link: the term in the other language (and the alternatives on Chinese pages)."""
    if lang == "en":
        return term.zh
    return term.en + (f"；又称{'、'.join(term.also)}" if term.also else "")


# ---- MkDocs hooks ----------------------------------------------------------------------------

_state: dict = {}


def _language(page, config) -> str:
    lang = getattr(page.file, "locale_alternate_of", None) or config.theme.get("language") or "zh"
    return "en" if lang == "en" else "zh"


def _is_glossary(page) -> bool:
    return getattr(page.file, "norm_src_uri", page.file.src_uri) == GLOSSARY_PAGE


def on_config(config):
    _state.clear()
    _state["glossary"] = load_glossary()
    return config


def on_page_markdown(markdown: str, page, config, files) -> str:
    if not _is_glossary(page):
        return markdown
    if TABLE_MARKER not in markdown:
        from mkdocs.exceptions import PluginError
        raise PluginError(f"{page.file.src_uri}: the glossary page needs the line {TABLE_MARKER}")
    return markdown.replace(TABLE_MARKER, table_html(_state["glossary"], _language(page, config)))


def on_page_content(page_html: str, page, config, files) -> str:
    if _is_glossary(page):
        return page_html
    from mkdocs.utils import get_relative_url
    glossary_page = next((f for f in files.documentation_pages()
                          if getattr(f, "norm_src_uri", f.src_uri) == GLOSSARY_PAGE), None)
    if glossary_page is None:
        return page_html
    lang = _language(page, config)
    matcher = _state.get(lang) or _state.setdefault(lang, build_matcher(_state["glossary"].terms, lang))
    base = get_relative_url(glossary_page.url, page.url)
    return link_first_uses(page_html, matcher, lambda term: f"{base}#{term.id}",
                           lambda term: link_title(term, lang))
