"""The built site (``make site`` runs before the tests): both languages, labs executed, assets
vendored; and builds that must fail do fail (missing twin, raising lab)."""

from __future__ import annotations

import functools
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest

from site_helpers import ROOT, SITE, doc_pages, mkdocs_build, scratch_project

sys.path.insert(0, str(ROOT / "tools"))
import labs  # noqa: E402

pytestmark = pytest.mark.site


@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE / "index.html").exists():
        pytest.fail("site/ is not built: run `make site` (make test does it first)")
    return SITE


@pytest.mark.parametrize("path", doc_pages())
def test_every_page_exists_in_both_languages(site, path):
    zh = (site / path / "index.html").read_text(encoding="utf-8")
    en = (site / "en" / path / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh"' in zh and '<html lang="en"' in en
    assert 'hreflang="en"' in zh and 'hreflang="zh"' in en


@pytest.mark.parametrize("path", doc_pages())
def test_no_asset_is_loaded_from_another_host(site, path):
    for language_root in (site, site / "en"):
        html = (language_root / path / "index.html").read_text(encoding="utf-8")
        loaded = re.findall(r'<(?:script|img|iframe|source)[^>]+src="([^"]+)"', html)
        loaded += re.findall(r'<link rel="(?:stylesheet|icon|preload|modulepreload|manifest)"[^>]+href="([^"]+)"', html)
        remote = [url for url in loaded if re.match(r"(?:https?:)?//", url)]
        assert not remote, f"{path}: {remote}"


def test_katex_is_vendored_with_all_fonts(site):
    fonts = {p.name for p in (ROOT / "node_modules/katex/dist/fonts").iterdir()}
    assert fonts and fonts == {p.name for p in (site / "assets/katex/fonts").iterdir()}
    assert (site / "assets/katex/katex.min.js").stat().st_size > 100_000


@pytest.mark.parametrize("lab", [p for p in doc_pages() if p.startswith("labs/")])
def test_labs_are_executed_pages_without_tracebacks(site, lab):
    for language_root in (site, site / "en"):
        html = (language_root / lab / "index.html").read_text(encoding="utf-8")
        assert "jp-OutputArea-output" in html, "no executed output"
        assert "Traceback" not in html


def test_perceptron_lab_shows_measured_results(site):
    html = (site / "labs/neuron/perceptron/index.html").read_text(encoding="utf-8")
    assert re.search(r"AND: epochs=\s*\d+\s+mistakes in last epoch=0", html)
    assert re.search(r"XOR: epochs=\s*100\s+mistakes in last epoch=[1-4]", html)
    assert "<img" in html or "<svg" in html


def test_search_index_covers_both_languages(site):
    docs = json.loads((site / "search/search_index.json").read_text(encoding="utf-8"))["docs"]
    titles = {doc["title"].replace("\u200b", "") for doc in docs}
    assert "激活函数" in titles and "Activation functions" in titles
    assert "\u200b" in docs[0]["text"], "Chinese text is not segmented (is jieba installed?)"


@pytest.mark.parametrize("lang", ["", "en/"])
def test_build_time_numbers_are_on_the_pages(site, lang):
    """The worked exercise's answer is printed by a block run at build time, on both sites."""
    text = re.sub(r"<[^>]+>", "", (site / lang / "neuron/layers/index.html").read_text(encoding="utf-8"))
    assert re.search(r"y1 = 0\.\d{4}, y2 = 0\.\d{4}", text), "the exercise's computed answer is missing"
    assert "Traceback" not in text


def test_chinese_headings_get_readable_ids(site):
    html = (site / "neuron/activations/index.html").read_text(encoding="utf-8")
    ids = re.findall(r'<h2 id="([^"]+)"', html)
    assert ids and not [i for i in ids if re.fullmatch(r"_?\d*", i)], ids
    assert "激活函数应满足的条件" in ids


def test_site_config_keeps_the_traps_closed():
    import yaml

    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    config = yaml.load(text, Loader=yaml.BaseLoader)  # BaseLoader: leave the !!python tags alone
    features = config["theme"]["features"]
    assert "navigation.instant" not in features and "content.code.copy" in features
    assert config["theme"]["font"] == "false"
    jupyter = next(p["mkdocs-jupyter"] for p in config["plugins"] if isinstance(p, dict) and "mkdocs-jupyter" in p)
    assert jupyter["allow_errors"] == "false"
    assert any(p == "slate" for p in re.findall(r"scheme: (\w+)", text)), "no dark mode"


# ---- builds that must fail ----------------------------------------------------------------
def test_build_fails_when_a_page_lacks_its_twin(tmp_path):
    project = scratch_project(tmp_path)
    (project / "docs/neuron/layers.en.md").unlink()
    done = mkdocs_build(project)
    assert done.returncode != 0
    assert "neuron/layers.md has no twin neuron/layers.en.md" in done.stderr + done.stdout


def test_build_fails_when_a_lab_raises(tmp_path):
    project = scratch_project(tmp_path)
    (project / "snippets/neuron/broken.py").write_text(
        "# %% [markdown]\n# # Broken lab\n\n# %%\nraise RuntimeError('this lab is broken')\n", encoding="utf-8"
    )
    done = mkdocs_build(project)
    assert done.returncode != 0
    assert "lab snippets/neuron/broken.py raised" in done.stderr + done.stdout
    assert "this lab is broken" in done.stderr + done.stdout


def test_build_fails_when_a_page_block_raises(tmp_path):
    project = scratch_project(tmp_path)
    page = project / "docs/neuron/index.md"
    page.write_text(page.read_text(encoding="utf-8") + '\n```python exec="on"\nraise ValueError("boom")\n```\n',
                    encoding="utf-8")
    done = mkdocs_build(project)
    assert done.returncode != 0


# ---- the lab cache can never be stale ----------------------------------------------------------
def test_lab_cache_key_changes_with_the_package_source():
    lab = labs.lab_sources()[0]
    digest = labs._tree_digest(ROOT)
    assert labs.cache_key(lab, digest) == labs.cache_key(lab, labs._tree_digest(ROOT))
    assert labs.cache_key(lab, digest) != labs.cache_key(lab, digest + "changed")


def test_tree_digest_covers_every_package_file(tmp_path):
    project = scratch_project(tmp_path)
    before = labs._tree_digest(project)
    target = project / "src/n2t/numpy/activations.py"
    target.write_text(target.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert labs._tree_digest(project) != before


# ---- every internal link and anchor in the built HTML resolves (notebook pages included) -------
class _LinkParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])


@functools.lru_cache(maxsize=None)
def _parse(path: Path) -> _LinkParser:
    parser = _LinkParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _target_file(site: Path, page: Path, href: str) -> Path:
    url = urljoin("http://site/" + page.relative_to(site).as_posix(), href)
    path = site / unquote(urlparse(url).path).lstrip("/")
    return path / "index.html" if url.split("#")[0].endswith("/") or path.is_dir() else path


@pytest.mark.parametrize("lang", ["", "en/"])
def test_internal_links_and_anchors_resolve(site, lang):
    broken = []
    for path in doc_pages():
        page = site / lang / path / "index.html"
        for href in _parse(page).links:
            if re.match(r"[a-z]+:", href) and not href.startswith("http://site"):
                continue  # mailto:, https:, …: not ours to check offline
            target = _target_file(site, page, href)
            if not target.exists():
                broken.append(f"{lang}{path}: {href}")
                continue
            fragment = urlparse(href).fragment
            if fragment and target.suffix == ".html" and unquote(fragment) not in _parse(target).ids:
                broken.append(f"{lang}{path}: {href} (no anchor)")
    assert not broken, broken


def test_a_lab_records_the_numbers_its_page_quotes(tmp_path):
    import nbformat

    lab = tmp_path / "demo.py"
    lab.write_text("# %%\nimport json, os\nfrom pathlib import Path\n"
                   "Path(os.environ['N2T_LAB_RESULTS']).write_text(json.dumps({'answer': 6 * 7}))\n", encoding="utf-8")
    notebook_path = tmp_path / "demo.ipynb"
    nbformat.write(labs.execute(lab), notebook_path)
    labs._write_results(notebook_path)
    assert json.loads(notebook_path.with_suffix(".json").read_text(encoding="utf-8")) == {"answer": 42}


def test_lenet_page_quotes_the_lab_accuracy(site):
    recorded = json.loads((ROOT / "docs/labs/cnn/lenet.json").read_text(encoding="utf-8"))
    assert recorded["numpy_accuracy"] >= 0.985 and recorded["torch_accuracy"] >= 0.985
    for page in ("cnn/lenet/index.html", "en/cnn/lenet/index.html"):
        html = (site / page).read_text(encoding="utf-8")
        assert f"{recorded['numpy_accuracy']:.2%}".replace("%", "") in html, page
