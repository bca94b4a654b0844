"""Render the pages' math with KaTeX at build time, so a page ships HTML instead of KaTeX's JavaScript.

``pymdownx.arithmatex`` (generic mode) leaves ``<span class="arithmatex">\\(…\\)</span>`` and
``<div class="arithmatex">\\[…\\]</div>`` in the HTML. :func:`prerender` replaces each one's TeX with
the HTML and MathML that ``katex.renderToString`` gives (the same markup KaTeX's auto-render makes in
the browser), using the vendored ``node_modules/katex`` in one long-lived Node process. A formula
KaTeX cannot parse fails the build instead of showing a red error on the page.

A page whose text has no other math afterwards no longer needs KaTeX's scripts
(:func:`needs_client_math` tells); the lab notebooks keep them for the ``$…$`` that nbconvert leaves.
The stylesheet and the fonts stay: they draw the pre-rendered math.
"""

from __future__ import annotations

import atexit
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KATEX = ROOT / "node_modules" / "katex"
ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.S)
INLINE = re.compile(r"^\\\((.*)\\\)$", re.S)
DISPLAY = re.compile(r"^\\\[(.*)\\\]$", re.S)
NOT_PROSE = re.compile(r"<(pre|code|script|style|svg|textarea)\b.*?</\1>", re.S)
# the delimiters docs/javascripts/katex.js hands to auto-render
CLIENT_MATH = re.compile(r"\$[^$\s][^$]*\$|\\\(|\\\[")
NODE_RENDERER = r"""
const katex = require(process.argv[1]);
const lines = require("readline").createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const { tex, display } = JSON.parse(line);
  let reply;
  try {
    reply = { html: katex.renderToString(tex, { displayMode: display, throwOnError: true, strict: "ignore" }) };
  } catch (error) {
    reply = { error: String(error.message || error) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
"""


class KatexError(ValueError):
    """A formula KaTeX cannot render."""


class _Renderer:
    """One Node process rendering formulas line by line; results are memoised."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.rendered: dict[tuple[str, bool], str] = {}

    def _start(self) -> subprocess.Popen:
        node = shutil.which("node")
        if node is None:
            raise KatexError("node is not installed: the build renders math with KaTeX under Node")
        if not (KATEX / "package.json").is_file():
            raise KatexError(f"KaTeX not found at {KATEX}: run `npm ci` first")
        process = subprocess.Popen([node, "-e", NODE_RENDERER, str(KATEX)], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True, encoding="utf-8")
        atexit.register(process.kill)
        return process

    def render(self, tex: str, display: bool) -> str:
        key = (tex, display)
        if key not in self.rendered:
            if self.process is None or self.process.poll() is not None:
                self.process = self._start()
            self.process.stdin.write(json.dumps({"tex": tex, "display": display}) + "\n")
            self.process.stdin.flush()
            reply = json.loads(self.process.stdout.readline())
            if "error" in reply:
                raise KatexError(f"{reply['error']} in {'$$' if display else '$'}{tex}{'$$' if display else '$'}")
            self.rendered[key] = reply["html"]
        return self.rendered[key]


_renderer = _Renderer()


def _render_match(match: re.Match) -> str:
    tag, body = match.groups()
    source = html.unescape(body).strip()
    delimited = (DISPLAY if tag == "div" else INLINE).match(source)
    if delimited is None:  # not arithmatex's own markup: leave it to the browser
        return match.group()
    rendered = _renderer.render(delimited.group(1), display=tag == "div")
    return f'<{tag} class="arithmatex">{rendered}</{tag}>'


def prerender(page_html: str) -> str:
    """``page_html`` with every arithmatex formula rendered; raises :class:`KatexError` on bad TeX."""
    return ARITHMATEX.sub(_render_match, page_html)


def needs_client_math(page_html: str) -> bool:
    """Whether text outside arithmatex, code and scripts still holds math for KaTeX's auto-render."""
    prose = NOT_PROSE.sub("", ARITHMATEX.sub("", page_html))
    body = prose[prose.find("<body"):]
    return bool(CLIENT_MATH.search(re.sub(r"<[^>]*>", "", body)))

