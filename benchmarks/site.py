"""``make bench-site``: how fast the site is for a reader and for a writer. A report, not a test.

* Lighthouse 12.2.3 (npm devDependency; Debian's Chromium) on three pages of the built site/ — the
  home page, the median concept page with math and the median lab page, chosen from the site itself
  — with its mobile (default) and desktop presets, three runs each (the median kept): performance
  and accessibility scores, the main metrics and every accessibility audit that did not pass. The
  site is served from 127.0.0.1 with gzip, as a static host serves it. Written to
  ``artifacts/lighthouse.md`` (and ``.json``).
* Build times of ``mkdocs build --strict`` (both languages) into a scratch directory: cold (empty lab,
  page-block and notebook caches in a temporary directory and ``docs/labs`` removed, so every lab and
  every page block is executed) and warm (one page's first code block edited, then rebuilt with the caches
  warm). Written to ``artifacts/build-times.md``.

``python benchmarks/site.py [--skip-cold] [--skip-builds] [--skip-lighthouse] [--runs N] [--site-dir D]``.
Environment:
``LIGHTHOUSE`` (default ``node_modules/.bin/lighthouse``), ``CHROME_PATH`` (default ``/usr/bin/chromium``).
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import page_weight  # noqa: E402  (its local server)
SITE = ROOT / "site"
ARTIFACTS = ROOT / "artifacts"
LIGHTHOUSE = Path(os.environ.get("LIGHTHOUSE", ROOT / "node_modules" / ".bin" / "lighthouse"))
CHROME_PATH = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = "--headless=new --no-sandbox"
FORM_FACTORS = {"mobile": [], "desktop": ["--preset=desktop"]}
METRICS = {"first-contentful-paint": "FCP", "largest-contentful-paint": "LCP", "total-blocking-time": "TBT",
           "cumulative-layout-shift": "CLS", "speed-index": "SI"}
COMPRESSIBLE = {".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".py", ".ipynb"}


# ---- the site as a static host serves it -------------------------------------------------------

class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, text gzipped when the client accepts it (as GitHub Pages does), cacheable."""

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not urlsplit(self.path).path.endswith("/"):
                return super().send_head()  # the redirect to ".../"
            path = path / "index.html"
        if (not path.is_file() or path.suffix not in COMPRESSIBLE
                or "gzip" not in self.headers.get("Accept-Encoding", "")):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")
        self.end_headers()
        return _Body(body)

    def log_message(self, *args):
        pass


class _Body:
    def __init__(self, data: bytes):
        self.data = data

    def read(self, *args) -> bytes:
        data, self.data = self.data, b""
        return data

    def close(self) -> None:
        pass


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    return page_weight.serve(directory, GzipHandler)


# ---- Lighthouse ---------------------------------------------------------------------------------

def representative_pages(site: Path) -> dict[str, str]:
    """Home; the median Chinese concept page by number of formulas (among those with math); the median
    Chinese lab page by size."""
    concept, lab = {}, {}
    for index in site.rglob("index.html"):
        path = index.parent.relative_to(site).as_posix() + "/"
        if path.split("/")[0] in ("en", "assets", "search", "api") or path == "./":
            continue
        text = index.read_text(encoding="utf-8")
        if path.startswith("labs/"):
            lab[path] = len(text)
        elif text.count('class="arithmatex"'):
            concept[path] = text.count('class="arithmatex"')
    median = lambda sizes: sorted(sizes, key=lambda p: (sizes[p], p))[len(sizes) // 2]  # noqa: E731
    return {"home": "", "concept page with math": median(concept), "lab page": median(lab)}


def lighthouse(url: str, flags: list[str], output: Path) -> dict:
    command = [str(LIGHTHOUSE), url, "--output=json", f"--output-path={output}", "--quiet",
               "--only-categories=performance,accessibility", f"--chrome-flags={CHROME_FLAGS}", *flags]
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": CHROME_PATH}, timeout=300)
    result = json.loads(output.read_text(encoding="utf-8"))
    audits = result["audits"]
    failing = sorted(
        f"{ref['id']}: {audits[ref['id']]['title']}"
        for ref in result["categories"]["accessibility"]["auditRefs"]
        if ref["weight"] > 0 and audits[ref["id"]]["score"] is not None and audits[ref["id"]]["score"] < 1)
    return {
        "performance": round(100 * result["categories"]["performance"]["score"]),
        "accessibility": round(100 * result["categories"]["accessibility"]["score"]),
        "metrics": {short: audits[name]["displayValue"] for name, short in METRICS.items()},
        "failing_accessibility": failing,
        "warnings": result.get("runWarnings", []),
    }


def run_lighthouse(site: Path, runs: int) -> list[dict]:
    """Each page and form factor ``runs`` times; the run with the median performance score is kept."""
    if not LIGHTHOUSE.exists():
        sys.exit(f"{LIGHTHOUSE} not found: run `npm ci` (package.json pins lighthouse as a devDependency)")
    server, base = serve(site)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for kind, path in representative_pages(site).items():
                for form_factor, flags in FORM_FACTORS.items():
                    print(f"lighthouse: /{path} ({form_factor}, {runs} runs)", flush=True)
                    results = sorted((lighthouse(base + path, flags, Path(scratch) / "report.json")
                                      for _ in range(runs)), key=lambda r: r["performance"])
                    rows.append({"page": "/" + path, "kind": kind, "form_factor": form_factor,
                                 "performance_runs": [r["performance"] for r in results], **results[len(results) // 2]})
    finally:
        server.shutdown()
    return rows


def lighthouse_report(rows: list[dict]) -> str:
    version = subprocess.run([str(LIGHTHOUSE), "--version"], capture_output=True, text=True).stdout.strip()
    chrome = subprocess.run([CHROME_PATH, "--version"], capture_output=True, text=True).stdout.strip()
    lines = ["# Lighthouse", "",
             f"Lighthouse {version}, {chrome}, flags `{CHROME_FLAGS}`; site/ served from 127.0.0.1 with gzip. "
             "Mobile: Lighthouse's default (Moto G Power, simulated slow 4G and 4x CPU slowdown); "
             "desktop: `--preset=desktop`. Performance is the median of the runs (in brackets; the metrics are "
             "that run's); it swings with the machine's load. Written by `make bench-site` (benchmarks/site.py).", "",
             "| page | kind | form factor | performance (runs) | accessibility | "
             + " | ".join(METRICS.values()) + " |",
             "|---|---|---|---:|---:|" + "---:|" * len(METRICS)]
    for row in rows:
        runs = ", ".join(map(str, row["performance_runs"]))
        lines.append(f"| `{row['page']}` | {row['kind']} | {row['form_factor']} | **{row['performance']}** ({runs}) "
                     f"| {row['accessibility']} | " + " | ".join(row["metrics"].values()) + " |")
    failing = sorted({f"`{row['page']}`: {audit}" for row in rows for audit in row["failing_accessibility"]})
    lines += ["", "Accessibility audits that did not pass:", ""]
    lines += [f"- {item}" for item in failing] or ["- none"]
    warnings = sorted({w for row in rows for w in row["warnings"]})
    if warnings:
        lines += ["", "Lighthouse warnings:", "", *[f"- {w}" for w in warnings]]
    return "\n".join(lines) + "\n"


# ---- build times --------------------------------------------------------------------------------

def timed_build(site_dir: Path, caches: Path) -> float:
    """``mkdocs build`` with the lab, page-block and notebook caches in ``caches``."""
    env = {**os.environ, "N2T_LAB_CACHE": str(caches / "labs"), "N2T_EXEC_CACHE_DIR": str(caches / "exec"),
           "N2T_JUPYTER_CACHE": str(caches / "mkdocs-jupyter"), "NO_MKDOCS_2_WARNING": "1", "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site_dir)],
                   cwd=ROOT, env=env, check=True)
    return time.perf_counter() - start


EXEC_BLOCK = re.compile(r'^```python exec="on"[^\n]*\n', re.M)


def edited_page() -> Path:
    """The Chinese page with the most executed code blocks: the warm build edits its first block."""
    pages = [p for p in (ROOT / "docs").rglob("*.md") if not p.name.endswith(".en.md")]
    return max(pages, key=lambda p: (len(EXEC_BLOCK.findall(p.read_text(encoding="utf-8"))), str(p)))


def run_builds(cold: bool, site_dir: Path | None) -> list[tuple[str, float, str]]:
    """Cold: every cache empty and docs/labs removed. Warm: the caches the cold build (or the last
    ``make site``) left, after adding a line to the first code block of one page (restored afterwards)."""
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        site_dir = site_dir or Path(scratch) / "site"
        caches = Path(scratch) if cold else ROOT / ".cache"
        if cold:
            shutil.rmtree(ROOT / "docs" / "labs", ignore_errors=True)
            seconds = timed_build(site_dir, caches)
            rows.append(("cold", seconds, "every cache empty, docs/labs removed: every lab and page block executed"))
        page = edited_page()
        original = page.read_text(encoding="utf-8")
        block = EXEC_BLOCK.search(original)
        try:
            page.write_text(original[:block.end()] + "_edited = True\n" + original[block.end():], encoding="utf-8")
            seconds = timed_build(site_dir, caches)
        finally:
            page.write_text(original, encoding="utf-8")
        rows.append(("warm", seconds, f"a line added to the first code block of `{page.relative_to(ROOT)}` "
                                      f"({len(EXEC_BLOCK.findall(original))} blocks), other caches warm"))
    return rows


def builds_report(rows: list[tuple[str, float, str]]) -> str:
    labs = len([p for p in (ROOT / "snippets").glob("*/*.py") if not p.name.startswith("_")])
    pages = len(list((ROOT / "docs").rglob("*.md")))
    lines = ["# Build times", "",
             f"`mkdocs build --strict`, both languages ({pages} Markdown files, {labs} labs), on "
             f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), "
             f"`OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}`. "
             "Aims: ≤ 10 min cold, ≤ 60 s warm. Written by `make bench-site` (benchmarks/site.py).", "",
             "| build | seconds | what |", "|---|---:|---|"]
    lines += [f"| {name} | {seconds:.0f} | {what} |" for name, seconds, what in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-cold", action="store_true", help="time only the warm build")
    parser.add_argument("--skip-builds", action="store_true", help="no build timing")
    parser.add_argument("--skip-lighthouse", action="store_true", help="no Lighthouse")
    parser.add_argument("--site-dir", type=Path, help="build there (default: a scratch directory)")
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page and form factor (median kept)")
    args = parser.parse_args()
    ARTIFACTS.mkdir(exist_ok=True)
    if not args.skip_lighthouse:
        if not (SITE / "index.html").exists():
            sys.exit("site/ is not built: run `make site`")
        rows = run_lighthouse(SITE, args.runs)
        (ARTIFACTS / "lighthouse.json").write_text(json.dumps(rows, indent=2, ensure_ascii=False), encoding="utf-8")
        (ARTIFACTS / "lighthouse.md").write_text(lighthouse_report(rows), encoding="utf-8")
        print((ARTIFACTS / "lighthouse.md").read_text(encoding="utf-8"))
    if not args.skip_builds:
        text = builds_report(run_builds(not args.skip_cold, args.site_dir and args.site_dir.resolve()))
        (ARTIFACTS / "build-times.md").write_text(text, encoding="utf-8")
        print(text)


if __name__ == "__main__":
    main()
