"""The glossary and the book's terminology.

* ``data/glossary.yml`` carries every row of the shared GLOSSARY.md, and its forms pick out the right term.
* First uses are linked to the glossary (unit tests on HTML strings; the built site for the real pages).
* Every Chinese page uses the preferred term wherever it uses an alternative, and every page and its English
  twin have the same code blocks, figures and headings (over every ``docs/**/*.md``, new chapters included).
"""

from __future__ import annotations

import os
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import glossary  # noqa: E402
import terminology  # noqa: E402

DOCS = ROOT / "docs"
SITE = Path(os.environ.get("N2T_SITE", ROOT / "site"))  # a site built elsewhere: N2T_SITE=/tmp/site
SHARED_GLOSSARY = Path(os.environ.get("N2T_SHARED", ROOT.parent / "shared")) / "GLOSSARY.md"
GLOSSARY = glossary.load_glossary()
TERMS = {term.id: term for term in GLOSSARY.terms}

# Real false positives of the terminology check: (page under docs/, alternative, why it is not the term).
ALLOWED = [
    # 步长 is the step size of an update or of a finite difference here, not a convolution's stride (步幅)
    ("attention/training.md", "步长"),
    ("learning/linear.md", "步长"),
    ("learning/ml.md", "步长"),
    ("mlp/gradcheck.md", "步长"),
    ("neuron/activations.md", "步长"),
    ("rnn/bptt.md", "步长"),
    ("rnn/lstm.md", "步长"),
    ("training/deep.md", "步长"),
    ("training/optimizers.md", "步长"),
]


def chinese_pages() -> list[str]:
    return sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md") if not p.name.endswith(".en.md"))


def twin(page: str) -> Path:
    return DOCS / (page[: -len(".md")] + ".en.md")


def link(html: str, lang: str = "zh") -> str:
    matcher = glossary.build_matcher(GLOSSARY.terms, lang)
    return glossary.link_first_uses(html, matcher, lambda term: f"G#{term.id}", lambda term: f"T {term.id}")


def linked_ids(html: str) -> list[str]:
    return re.findall(r'<a class="n2t-glossary" href="G#([^"]+)"', html)


def unlink(html: str) -> str:
    return re.sub(r'<a class="n2t-glossary" href="[^"]*" title="[^"]*">(.*?)</a>', r"\1", html)


# ---- the data file ---------------------------------------------------------------------------

def shared_rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in SHARED_GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 3 and cells[0] != "English" and not set(cells[0]) <= set("-"):
            rows.append(tuple(cells))
    return rows


@pytest.mark.skipif(not SHARED_GLOSSARY.exists(),
                    reason=f"{SHARED_GLOSSARY} is absent (CI checks it out at ../shared; or set N2T_SHARED)")
def test_data_file_carries_every_row_of_the_shared_glossary():
    ours = [(term.en, term.zh, term.also_cell()) for term in GLOSSARY.terms]
    theirs = shared_rows()
    assert len(theirs) > 50
    missing = [row for row in theirs if row not in ours]
    extra = [row for row in ours if row not in theirs]
    assert not missing and not extra, f"only in GLOSSARY.md: {missing}; only in data/glossary.yml: {extra}"
    assert ours == theirs, "same rows, different order"


def test_every_term_has_a_stable_anchor_and_forms():
    for term in GLOSSARY.terms:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", term.id), term.id
        assert term.zh_forms and term.en_forms, term.id
        assert all(note in GLOSSARY.note_texts for note in term.notes.values()), term.id
        assert all(set(GLOSSARY.note_texts[note]) == {"zh", "en"} for note in term.notes.values())


def test_loading_rejects_a_duplicate_id_and_a_note_without_its_alternative(tmp_path):
    data = tmp_path / "glossary.yml"
    data.write_text("terms:\n- {id: a, en: a, zh: 甲}\n- {id: a, en: b, zh: 乙}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate ids"):
        glossary.load_glossary(data)
    data.write_text("terms:\n- {id: a, en: a, zh: 甲, also: [丙], notes: {丁: seeds}}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="name no alternative"):
        glossary.load_glossary(data)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_form_is_found_as_its_own_term(lang):
    """Longest match first: 自编码器 is the autoencoder, not 自 + the encoder; no form hides another."""
    matcher = glossary.build_matcher(GLOSSARY.terms, lang)
    wrong = []
    for term in GLOSSARY.terms:
        for form in term.forms(lang):
            found = glossary.find_terms(f"（{form}）", matcher)
            if [(start, end, hit.id) for start, end, hit in found] != [(1, 1 + len(form), term.id)]:
                wrong.append(f"{form} → {[(hit.id, s, e) for s, e, hit in found]}")
    assert not wrong


def test_default_forms_split_a_compound_entry():
    assert glossary.default_zh_forms("汇聚层（最大汇聚 / 平均汇聚）") == ["汇聚层", "最大汇聚", "平均汇聚"]
    assert glossary.default_zh_forms("参数初始化（Xavier 初始化、He 初始化）") == [
        "参数初始化", "Xavier 初始化", "He 初始化"]
    assert glossary.default_zh_forms("梯度消失 / 梯度爆炸") == ["梯度消失", "梯度爆炸"]


# ---- linking first uses (HTML strings) ----------------------------------------------------------

def test_only_the_first_use_of_a_term_is_linked():
    html = link("<p>激活函数把净输入变成输出。每个激活函数都要可导。</p>")
    assert linked_ids(html) == ["activation-function", "net-input"]
    assert html.count("激活函数") == 2 and 'title="T activation-function"' in html


def test_text_in_code_links_headings_and_math_is_left_alone():
    html = ('<h2 id="x">激活函数</h2><p><code>激活函数</code> <a href="y">激活函数</a>'
            '<span class="arithmatex">\\(激活函数\\)</span></p><pre><code>激活函数</code></pre>'
            '<div class="highlight"><span>激活函数</span></div><p class="admonition-title">激活函数</p>'
            '<svg><text>激活函数</text></svg><script>let a = "激活函数" < 1;</script>'
            '<div class="tabbed-labels"><label>激活函数</label></div><p>激活函数</p>')
    out = link(html)
    assert linked_ids(out) == ["activation-function"]
    assert out.endswith('<p><a class="n2t-glossary" href="G#activation-function" title="T activation-function">'
                        "激活函数</a></p>")


def test_attributes_are_never_touched_and_the_html_is_otherwise_unchanged():
    html = ('<p title="激活函数 and neuron"><img alt="神经元" src="a.png"/>神经元<br>'
            '<span data-x=\'a > b\'>张量</span> &amp; 1 &lt; 2<!-- 梯度下降 --></p>')
    out = link(html)
    assert linked_ids(out) == ["neuron", "tensor"]
    assert unlink(out) == html
    assert out.startswith('<p title="激活函数 and neuron"><img alt="神经元" src="a.png"/><a ')


def test_english_terms_match_whole_words_plurals_and_both_spellings():
    out = link("<p>A neuronal model. The tokenizer. Two autoencoders and an encoder; Batch normalisation, "
               "then ReLU and relu-like units. Neurons.</p>", lang="en")
    assert linked_ids(out) == ["autoencoder", "encoder-decoder", "batch-normalization", "relu", "neuron"]
    assert ">autoencoders</a>" in out and ">Batch normalisation</a>" in out and ">Neurons</a>" in out


def test_a_term_can_be_linked_in_one_language_only():
    assert TERMS["epoch"].link_languages == ("en",)
    assert linked_ids(link("<p>每一轮都打乱数据。</p>")) == []
    assert linked_ids(link("<p>Each epoch shuffles the data.</p>", lang="en")) == ["epoch"]


def test_chinese_longest_match_and_excluded_senses():
    out = link("<p>多层感知机由感知机组成。自编码器里有编码器。训练若干轮。退化成贪心解码；更深的网络出现退化。</p>")
    assert linked_ids(out) == ["multilayer-perceptron", "perceptron", "autoencoder", "encoder-decoder", "degradation"]
    assert "退化成" in unlink(out) and ">退化</a>。" in out


def test_an_alternative_is_not_a_use_of_the_preferred_term_it_contains():
    out = link("<p>零填充的捷径。误差反向传播。四周填充，反向传播。</p>")
    assert linked_ids(out) == ["padding", "backpropagation"]
    assert out.startswith("<p>零填充的捷径。误差反向传播。四周<a ")


def test_notebook_code_copies_and_outputs_are_left_alone():
    html = ('<div class="jp-InputArea"><div class="jp-InputArea-editor"><div>opt = Adam(model)</div></div>'
            '<div class="clipboard-copy-txt">opt = Adam(model)</div></div>'
            '<div class="jp-OutputArea"><div>Adam</div></div>'
            '<div class="jp-InputArea"><div class="jp-RenderedMarkdown"><p>Adam</p></div></div>')
    assert linked_ids(link(html)) == ["adam"] and link(html).count("n2t-glossary") == 1
    assert '<p><a class="n2t-glossary" href="G#adam"' in link(html)


def test_unbalanced_html_does_not_break_linking():
    out = link("<div><p>神经元<p>张量</div></span><pre>梯度下降")
    assert linked_ids(out) == ["neuron", "tensor"]
    assert unlink(out) == "<div><p>神经元<p>张量</div></span><pre>梯度下降"


def test_the_glossary_table_has_one_row_per_term_in_both_languages():
    for lang, header in (("zh", "其他译名"), ("en", "Other Chinese terms")):
        table = glossary.table_html(GLOSSARY, lang)
        assert re.findall(r'<tr id="([^"]+)"', table) == list(TERMS) and header in table
    assert "传输函数（见于本书所据的部分中文文章）" in glossary.table_html(GLOSSARY, "zh")
    with pytest.raises(ValueError, match="lang"):
        glossary.table_html(GLOSSARY, "fr")


def test_the_glossary_page_fails_without_its_marker():
    from mkdocs.exceptions import PluginError

    glossary.on_config(None)
    page = SimpleNamespace(file=SimpleNamespace(src_uri="glossary.md", locale_alternate_of="en"))
    assert '<tr id="neuron">' in glossary.on_page_markdown(f"# Glossary\n\n{glossary.TABLE_MARKER}\n", page, None, None)
    with pytest.raises(PluginError, match="glossary-table"):
        glossary.on_page_markdown("# Glossary\n", page, None, None)


# ---- the terminology check -------------------------------------------------------------------

@pytest.mark.parametrize("page", chinese_pages())
def test_chinese_page_uses_the_preferred_terms(page):
    text = terminology.prose((DOCS / page).read_text(encoding="utf-8"))
    assert not terminology.misused_terms(text, GLOSSARY, page, ALLOWED)


@pytest.mark.parametrize("page", chinese_pages())
def test_twin_pages_have_the_same_code_figures_and_sections(page):
    assert twin(page).exists(), f"{page} has no English twin"
    zh, en = (DOCS / page).read_text(encoding="utf-8"), twin(page).read_text(encoding="utf-8")
    assert not terminology.twin_differences(zh, en, page)


@pytest.mark.parametrize("page, alternative", ALLOWED)
def test_every_allowed_exception_is_still_needed(page, alternative):
    text = terminology.prose((DOCS / page).read_text(encoding="utf-8"))
    assert any(f"「{alternative}」" in problem for problem in terminology.misused_terms(text, GLOSSARY, page)), \
        f"{page} no longer needs its exception for {alternative}: remove it from ALLOWED"


def test_an_alternative_without_its_preferred_term_is_flagged():
    problems = terminology.misused_terms(terminology.prose("# 池化\n\n池化层把特征图缩小。\n"), GLOSSARY, "x/bad.md")
    assert problems == ["x/bad.md: uses 「池化层」 but never the preferred term 「汇聚层（最大汇聚 / 平均汇聚）」 "
                        "(pooling layer (max / average))"]
    allowed = terminology.misused_terms(terminology.prose("池化层。"), GLOSSARY, "x/bad.md", [("x/*", "池化层")])
    assert allowed == []


def test_the_preferred_term_with_its_alternative_in_parentheses_passes():
    ok = "汇聚层（池化层，pooling layer）把特征图缩小；后文的池化层也一样。"
    assert terminology.misused_terms(terminology.prose(ok), GLOSSARY) == []


def test_an_alternative_containing_the_preferred_term_still_needs_it():
    """零填充 contains 填充 and 误差反向传播 contains 反向传播: they do not count as the preferred term."""
    assert terminology.misused_terms("四周零填充。", GLOSSARY, "p.md") == [
        "p.md: uses 「零填充」 but never the preferred term 「填充」 (padding)"]
    assert terminology.misused_terms("四周零填充，也就是用 0 填充。", GLOSSARY) == []
    assert len(terminology.misused_terms("误差反向传播算法", GLOSSARY)) == 1


def test_code_math_links_and_comments_are_not_prose():
    page = ("用 `池化层` 命名；$\\text{池化层}$；\n\n```python\n# 池化层\n```\n\n"
            "    ```text\n    池化层\n    ```\n\n[汇聚](../cnn/池化层.md) <!-- 池化层 -->\n")
    assert terminology.misused_terms(terminology.prose(page), GLOSSARY) == []


def test_twins_that_differ_are_flagged():
    zh = "# 甲\n\n## 乙\n\n![图](a.svg)\n\n```python\nx = 1\n```\n\n```python\ny = 2\n```\n"
    en = "# A\n\n## B\n\n### C\n\n```python\nx = 2\n```\n"
    problems = terminology.twin_differences(zh, en, "p.md")
    assert "p.md: 2 fenced code blocks in Chinese, 1 in English" in problems
    assert "p.md: code block 1 differs at its line 2: 'x = 1' (zh) vs 'x = 2' (en)" in problems
    assert "p.md: 1 images/figures in Chinese, 0 in English" in problems
    assert "p.md: 0 level-3 headings in Chinese, 1 in English" in problems
    assert len(problems) == 4


def test_twins_may_differ_in_prose_and_shell_comments_only():
    zh = ("# 甲\n\n说明。\n\n=== \"NumPy\"\n\n    ```python\n    --8<-- \"src/n2t/numpy/a.py:imports\"\n    ```\n\n"
          "```bash\nmake test   # 运行全部测试\n```\n\n```python\nx = 1  # 一\n```\n")
    en = ("# A\n\nText.\n\n=== \"NumPy\"\n\n    ```python\n    --8<-- \"src/n2t/numpy/a.py:imports\"\n    ```\n\n"
          "```bash\nmake test   # run every test\n```\n\n```python\nx = 1  # one\n```\n")
    assert terminology.twin_differences(zh, en, "p.md") == [
        "p.md: code block 3 differs at its line 2: 'x = 1  # 一' (zh) vs 'x = 1  # one' (en)"]


def test_a_heading_inside_a_code_block_is_not_a_section():
    zh = "# 甲\n\n```python\n# 注释\n```\n"
    en = "# A\n\n```python\n# 注释\n```\n"
    assert terminology.twin_differences(zh, en) == []
    assert terminology.twin_differences(zh + "\n## 乙\n", en, "p.md") == [
        "p.md: 1 level-2 headings in Chinese, 0 in English"]


# ---- the built site ------------------------------------------------------------------------------

SKIP_TAGS = glossary.SKIP_TAGS | set(glossary.OPAQUE_TAGS)
SKIP_CLASSES = glossary.SKIP_CLASSES
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}


class _ContentText(HTMLParser):
    """Text of the article, each piece with whether the linker may touch it, and the glossary links in order."""

    def __init__(self):
        super().__init__()
        self.stack, self.in_article, self.pieces, self.links, self.nested = [], 0, [], [], []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "article":
            self.in_article += 1
        if tag == "a" and "n2t-glossary" in (attributes.get("class") or ""):
            if any(skip for _, skip in self.stack):
                self.nested.append([name for name, _ in self.stack])
            self.links.append((len(self.pieces), attributes["href"]))
        if tag not in VOID:
            skip = tag in SKIP_TAGS or bool(SKIP_CLASSES & set((attributes.get("class") or "").split()))
            self.stack.append((tag, skip))

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag == "article":
            self.in_article -= 1
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                break

    def handle_data(self, data):
        if self.in_article:
            self.pieces.append((data, any(skip for _, skip in self.stack)))


def built_pages() -> list[tuple[Path, str]]:
    site = SITE
    if not (site / "index.html").exists():
        pytest.fail("site/ is not built: run `make site` (make test does it first)")
    pages = sorted(site.rglob("index.html"))
    return [(page, "en" if page.relative_to(site).parts[0] == "en" else "zh") for page in pages
            if page.relative_to(site).parts[:1] not in (("assets",), ("search",))]


@pytest.mark.site
def test_built_site_links_first_uses_to_existing_entries():
    site = SITE
    matchers = {lang: glossary.build_matcher(GLOSSARY.terms, lang) for lang in ("zh", "en")}
    problems, linked_pages = [], []
    for page, lang in built_pages():
        name = page.relative_to(site).as_posix()
        parser = _ContentText()
        parser.feed(page.read_text(encoding="utf-8"))
        problems += [f"{name}: glossary link inside {stack}" for stack in parser.nested]
        ids = [href.split("#", 1)[1] for _, href in parser.links]
        glossary_page = site / ("en/" if lang == "en" else "") / "glossary/index.html"
        targets = {(page.parent / href.split("#", 1)[0]).resolve() / "index.html" for _, href in parser.links}
        problems += [f"{name}: glossary link to {target}" for target in targets if target != glossary_page.resolve()]
        problems += [f"{name}: link to unknown entry {i}" for i in ids if i not in TERMS]
        problems += [f"{name}: {i} linked twice" for i in set(ids) if ids.count(i) > 1]
        if "/glossary/" in f"/{name}":
            problems += [f"{name}: the glossary links to itself"] * bool(ids)
            continue
        linked_pages += [name] * bool(ids)
        for piece, href in parser.links:  # nothing linkable before the link uses the same term
            term_id = href.split("#", 1)[1]
            earlier = [text for text, skipped in parser.pieces[:piece] if not skipped]
            if any(hit.id == term_id and hit.link for text in earlier for _, _, hit in
                   glossary.find_terms(text, matchers[lang])):
                problems.append(f"{name}: {term_id} is linked after an earlier use")
    assert not problems, problems[:20]
    assert len(linked_pages) > 60 and len([name for name in linked_pages if "labs/" in name]) > 10


@pytest.mark.site
@pytest.mark.parametrize("lang, title, first",
                         [("", "术语表", "多层感知机"), ("en/", "Glossary", "multilayer perceptron")])
def test_built_glossary_pages_list_every_term(lang, title, first):
    html = (SITE / lang / "glossary/index.html").read_text(encoding="utf-8")
    assert "<h1" in html and title in html
    assert set(re.findall(r'<tr id="([^"]+)"', html)) == set(TERMS)
    assert first in html
    activations = (SITE / lang / "neuron/activations/index.html").read_text(encoding="utf-8")
    first_use = r'<a class="n2t-glossary" href="\.\./\.\./glossary/#activation-function" title="[^"]+">'
    assert re.search(first_use, activations)
