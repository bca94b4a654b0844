"""A cache for the Python blocks that markdown-exec runs on the pages (``exec="on"``).

Without it every block runs twice per build (static-i18n builds each language separately, and twin pages
carry identical code) and again on every build. With it a block's printed output is stored under a key that
covers everything the output can depend on:

* the code of the block and of every block before it in the same session on the same page (a session's
  state is built by those blocks, in that order);
* every file of the ``n2t`` package, the lock file, the lab programs and their JSON results
  (``docs/labs/**/*.json``, which pages read), this module and the Python version.

A hit returns the stored output without running the block. A miss first replays, in order, the earlier
blocks of its session that were skipped, so the session's state is exactly what running every block would
have built. Each page starts its sessions afresh: no session may carry state from one page to another
(none does; a block that relied on it would fail with a NameError, not print stale output).

Entries unused for 14 days are deleted when a build starts. ``N2T_EXEC_CACHE=0`` turns the cache off;
``N2T_EXEC_CACHE_DIR`` moves it (default ``.cache/exec``).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

from markdown_exec._internal.formatters import pycon as exec_pycon
from markdown_exec._internal.formatters import python as exec_python

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = Path(os.environ.get("N2T_EXEC_CACHE_DIR", ROOT / ".cache" / "exec"))
KEY_GLOBS = (("src/n2t", "**/*"), ("snippets", "**/*.py"), ("docs/labs", "**/*.json"), ("tools", "exec_cache.py"),
             (".", "constraints.txt"))


def inputs_digest(root: Path = ROOT) -> str:
    """Hash of every file a page block's output may depend on, besides the blocks themselves."""
    digest = hashlib.sha256(sys.version.encode())
    for folder, pattern in KEY_GLOBS:
        for path in sorted((root / folder).glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class ExecCache:
    """Wraps markdown-exec's ``_run_python``; see the module docstring."""

    def __init__(self, run: Callable[..., str], digest: str, directory: Path = CACHE_DIR) -> None:
        self.run, self.digest, self.directory = run, digest, directory
        self.history: dict[str | None, list[str]] = defaultdict(list)
        self.skipped: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        self.hits = self.misses = 0

    def new_page(self) -> None:
        """Forget all session state: blocks on the next page start from empty sessions."""
        self.history.clear()
        self.skipped.clear()
        exec_python._sessions_globals.clear()

    def key(self, code: str, session: str | None) -> str:
        chain = self.history[session] if session else [code]
        text = "\0".join([self.digest, session or "", *chain])
        return hashlib.sha256(text.encode()).hexdigest()

    def __call__(self, code: str, returncode: int | None = None, session: str | None = None,
                 id: str | None = None, **extra: Any) -> str:  # noqa: A002 (markdown-exec's signature)
        if session:
            self.history[session].append(code)
        path = self.directory / self.key(code, session)
        arguments = {"returncode": returncode, "session": session, "id": id, **extra}
        if path.is_file():
            self.hits += 1
            os.utime(path)  # a hit keeps the entry alive (see evict_stale)
            if session:
                self.skipped[session].append((code, arguments))
            return path.read_text(encoding="utf-8")
        self.misses += 1
        for earlier, earlier_arguments in self.skipped.pop(session, []) if session else []:
            self.run(earlier, **earlier_arguments)
        output = self.run(code, **arguments)  # raises on a failing block: nothing is stored
        self._store(path, output)
        return output

    def _store(self, path: Path, output: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False) as handle:
            handle.write(output)
        os.replace(handle.name, path)  # atomic: a concurrent build never reads half an entry


def evict_stale(directory: Path = CACHE_DIR, max_age_days: float = 14) -> int:
    """Delete entries no build has used for ``max_age_days`` (every hit refreshes an entry's time)."""
    cutoff = time.time() - max_age_days * 86400
    stale = [path for path in directory.glob("*") if path.is_file() and path.stat().st_mtime < cutoff]
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def install() -> ExecCache | None:
    """Put the cache in front of markdown-exec's Python runner (once per process); None when turned off."""
    if os.environ.get("N2T_EXEC_CACHE", "1") == "0":
        return None
    run = exec_python._run_python
    if hasattr(run, "new_page"):  # already installed (also by an earlier import of this module)
        run.digest = inputs_digest()
        return run
    if CACHE_DIR.is_dir():
        evict_stale()
    cache = ExecCache(run, inputs_digest())
    exec_python._run_python = exec_pycon._run_python = cache
    return cache
