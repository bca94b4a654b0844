"""Helpers for the site tests: the built site, a local server, a scratch copy of the project."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
CHROMIUM = os.environ.get("N2T_CHROMIUM", "/usr/bin/chromium")


def doc_pages() -> list[str]:
    """URL paths (relative to a language root) of every Markdown page and lab."""
    docs = ROOT / "docs"
    paths = []
    for page in sorted(docs.rglob("*.md")):
        relative = page.relative_to(docs).as_posix()
        if relative.endswith(".en.md"):
            continue
        stem = relative[: -len(".md")]
        paths.append("" if stem == "index" else (stem[: -len("/index")] if stem.endswith("/index") else stem) + "/")
    for lab in sorted((ROOT / "snippets").glob("*/*.py")):
        if not lab.name.startswith("_"):
            paths.append(f"labs/{lab.parent.name}/{lab.stem}/")
    return paths


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``directory`` on 127.0.0.1 (a free port) in a daemon thread; returns (server, base URL)."""
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


def scratch_project(tmp_path: Path) -> Path:
    """A copy of what the site build reads, with node_modules linked, for builds that must fail."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("mkdocs.yml", "constraints.txt"):
        shutil.copy(ROOT / name, project / name)
    for name in ("docs", "src", "snippets", "tools", "data", "overrides"):
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    return project


def mkdocs_build(project: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "MPLBACKEND": "Agg",
           "N2T_LAB_CACHE": str(ROOT / ".cache" / "labs")}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(project / "site")],
        cwd=project, env=env, capture_output=True, text=True, timeout=600,
    )
