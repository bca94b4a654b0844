"""Page weight: every page's transferred bytes (tools/page_weight.py, report in artifacts/page-weight.md),
concept pages within budget, images compressed; and the two build steps that keep pages light — math
rendered at build time (tools/katex_prerender.py) and matplotlib's SVG figures shrunk (tools/svg_minify.py)."""

from __future__ import annotations

import base64
import io
import re
import sys

import pytest

from browser_helpers import browser_fixture  # noqa: F401  (the `browser` fixture)
from site_helpers import CHROMIUM, ROOT, SITE, doc_pages

sys.path.insert(0, str(ROOT / "tools"))
import katex_prerender  # noqa: E402
import page_weight  # noqa: E402
import svg_minify  # noqa: E402

RASTER = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
IMAGE_BUDGET = 100 * 1024  # bytes, any one raster image
DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp);base64,([A-Za-z0-9+/=]+)")


@pytest.fixture(scope="module")
def weights():
    if not (SITE / "index.html").exists():
        pytest.fail("site/ is not built: run `make site` (make test does it first)")
    pages, search = page_weight.measure(SITE, CHROMIUM)
    page_weight.REPORT.parent.mkdir(parents=True, exist_ok=True)
    page_weight.REPORT.write_text(page_weight.report(pages, search), encoding="utf-8")
    return {page.path: page for page in pages}, search


@pytest.mark.site
@pytest.mark.xdist_group("browser")
def test_concept_pages_are_within_budget(weights):
    pages, _ = weights
    over = [f"/{p.path}: {page_weight.kib(p.total)} KiB (HTML {page_weight.kib(p.html)}; largest: "
            + ", ".join(f"{name} {page_weight.kib(size)}" for name, size in
                        sorted(p.assets.items(), key=lambda kv: -kv[1])[:3]) + ")"
            for p in pages.values() if p.kind == "concept" and p.total > page_weight.CONCEPT_BUDGET_KIB * 1024]
    assert not over, f"over {page_weight.CONCEPT_BUDGET_KIB} KiB (see {page_weight.REPORT}):\n" + "\n".join(over)


@pytest.mark.site
@pytest.mark.xdist_group("browser")
def test_every_page_of_both_languages_is_measured_and_reported(weights):
    pages, search = weights
    expected = {lang + path for lang in ("", "en/") for path in doc_pages()}
    assert expected <= set(pages), sorted(expected - set(pages))
    assert {p.kind for p in pages.values()} == {"concept", "lab"}
    report = page_weight.REPORT.read_text(encoding="utf-8")
    assert all(f"| `/{path}` |" in report for path in pages)
    assert "search/search_index.json" in search  # the site-wide row


@pytest.mark.site
@pytest.mark.xdist_group("browser")
def test_fonts_are_counted_only_where_they_are_used(weights):
    pages, _ = weights
    fonts = {path: [n for n in p.assets if n.startswith("assets/katex/fonts/")] for path, p in pages.items()}
    with_math = [path for path in pages if 'class="arithmatex"' in (SITE / path / "index.html").read_text("utf-8")]
    without_math = [path for path in pages if path not in with_math and "$" not in
                    (SITE / path / "index.html").read_text("utf-8")]
    assert with_math and without_math
    assert all(fonts[path] for path in with_math), [p for p in with_math if not fonts[p]]
    assert not any(fonts[path] for path in without_math), [p for p in without_math if fonts[p]]
    assert all(name.endswith(".woff2") for names in fonts.values() for name in names)  # never the fallbacks


def raster_images():
    """(where, format, bytes) of every raster image in site/: files, and data: URIs inside the HTML."""
    for file in sorted(SITE.rglob("*")):
        if file.suffix.lower() in RASTER:
            yield str(file.relative_to(SITE)), file.suffix.lower().lstrip("."), file.read_bytes()
    for html in sorted(SITE.rglob("*.html")):
        for kind, data in DATA_IMAGE.findall(html.read_text(encoding="utf-8")):
            yield f"{html.relative_to(SITE)} (data: URI)", kind, base64.b64decode(data)


@pytest.mark.site
def test_images_are_small_and_pngs_are_optimised():
    from PIL import Image

    problems, seen = [], 0
    for where, kind, data in raster_images():
        seen += 1
        if len(data) > IMAGE_BUDGET:
            problems.append(f"{where}: {len(data) // 1024} KiB > {IMAGE_BUDGET // 1024} KiB")
        if kind == "png":
            image = Image.open(io.BytesIO(data))
            best = io.BytesIO()
            image.save(best, format="PNG", optimize=True)
            if len(data) > 1.1 * len(best.getvalue()) + 256:
                problems.append(f"{where}: PNG of {len(data)} bytes, {len(best.getvalue())} when optimised")
    assert seen, "no raster image found: has the site changed how it ships images?"
    assert not problems, "\n".join(problems)


# ---- build-time math ---------------------------------------------------------------------------

def test_math_is_rendered_at_build_time_as_katex_would_in_the_browser():
    html = ('<p><span class="arithmatex">\\(a &lt; b\\)</span></p>'
            '<div class="arithmatex">\\[\n\\sum_i x_i^2\n\\]</div>')
    rendered = katex_prerender.prerender(html)
    assert rendered.count('<span class="katex">') == 2 and rendered.count('class="katex-display"') == 1
    assert "<annotation encoding=\"application/x-tex\">a &lt; b</annotation>" in rendered  # MathML for readers
    assert "\\(" not in rendered and "\\[" not in rendered


def test_a_formula_katex_cannot_parse_fails_the_build():
    with pytest.raises(katex_prerender.KatexError, match=r"\\frac\{1\}"):
        katex_prerender.prerender('<span class="arithmatex">\\(\\frac{1}\\)</span>')


@pytest.mark.parametrize("html,needed", [
    ('<body><p>cost <span class="arithmatex">\\(x\\)</span></p><pre><code>a = "$x$"</code></pre></body>', False),
    ("<body><p>the notebook says $\\sqrt{d}$ here</p></body>", True),
    ("<body><p>display \\[x\\] math</p></body>", True),
    ('<body><script>var price = "$5 and $6";</script><p>no math</p></body>', False),
])
def test_pages_keep_katex_scripts_only_for_math_left_to_the_browser(html, needed):
    assert katex_prerender.needs_client_math(html) is needed


# ---- SVG figures ---------------------------------------------------------------------------------

def test_svg_minify_rounds_drops_metadata_and_straight_runs():
    svg = ('<svg width="10.123456pt" viewBox="0 0 10.123456 5"><metadata>2026-01-01</metadata>\n <g id="figure_1">'
           '<path d="M 0 0 \nL 1.000001 0 \nL 2 0 \nL 3 0 \nL 3 1 \nL 3 0.5 \nL 3 2 \nz"/>'
           '<use x="1.234567" y="2.5"/></g></svg>')
    small = svg_minify.minify_svgs(svg)
    assert "<metadata>" not in small and "><" in small and "\n" not in small
    assert 'width="10.12pt"' in small and 'x="1.23"' in small and 'y="2.5"' in small
    # M 0 0 → L 3 0 (the inner points of the horizontal run go); the run back down past 1 stays
    assert 'd="M 0 0 L 3 0 L 3 1 L 3 0.5 L 3 2 z"' in small, small
    other = '<svg viewBox="0 0 24 24"><path d="M 1.23456 0 L 2 0 L 3 0"/></svg>'
    assert svg_minify.minify_svgs(other) == other  # not matplotlib's: untouched


@pytest.mark.site
@pytest.mark.xdist_group("browser")
def test_a_minified_figure_draws_the_same(browser):
    import matplotlib.pyplot as plt
    import numpy as np
    from PIL import Image, ImageChops

    from n2t.plot import to_svg

    grid = np.linspace(-1, 1, 80)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.contourf(grid, grid, np.add.outer(grid ** 2, grid) > 0.2, levels=[-0.5, 0.5, 1.5])
    ax.scatter(*np.random.default_rng(0).normal(size=(2, 50)), marker="^", edgecolors="k")
    ax.set_title("spirals")
    original = to_svg(fig)
    small = svg_minify.minify_svgs(original)
    assert len(small) < 0.8 * len(original)
    page = browser.new_page(device_scale_factor=2)
    shots = []
    for svg in (original, small):
        page.set_content(f"<body style='margin:0'>{svg}</body>")
        shots.append(Image.open(io.BytesIO(page.locator("svg").screenshot())).convert("L"))
    page.close()
    assert shots[0].size == shots[1].size
    differing = sum(ImageChops.difference(*shots).point(lambda v: 255 if v > 64 else 0).histogram()[255:])
    assert differing <= 1e-4 * shots[0].size[0] * shots[0].size[1], f"{differing} pixels differ"
