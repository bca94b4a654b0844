"""Execute the lab programs in snippets/ into notebooks, with a cache that cannot go stale.

A lab is a jupytext "percent" Python file, ``snippets/<chapter>/<name>.py``. It is executed once per
build (not once per language) into ``docs/labs/<chapter>/<name>.ipynb``, which mkdocs-jupyter then
renders without executing it again. The cache key covers the lab's text, every file of the ``n2t``
package, the lock file and the Python version, so any change to code the lab can run re-executes it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = ROOT / "snippets"
LABS_OUT = ROOT / "docs" / "labs"
CACHE = Path(os.environ.get("N2T_LAB_CACHE", ROOT / ".cache" / "labs"))
KEY_INPUTS = ("src/n2t", "constraints.txt", "tools/labs.py")
RESULTS_VAR = "N2T_LAB_RESULTS"  # a lab that sets it writes the numbers its concept page quotes there


class LabError(RuntimeError):
    """A lab raised while it was executed."""


def lab_sources(snippets: Path = SNIPPETS) -> list[Path]:
    """Every lab program: ``snippets/<chapter>/<name>.py`` (files starting with ``_`` are helpers)."""
    return sorted(p for p in snippets.glob("*/*.py") if not p.name.startswith("_"))


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for relative in KEY_INPUTS:
        path = root / relative
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                digest.update(str(file.relative_to(root)).encode())
                digest.update(file.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def cache_key(lab: Path, tree_digest: str) -> str:
    """Hash of the lab text and of everything it can import from this repository."""
    return hashlib.sha256(lab.read_bytes() + tree_digest.encode()).hexdigest()[:32]


def execute(lab: Path, timeout: int = 300):
    """Run a lab as a notebook (errors are fatal) and return the executed notebook."""
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = jupytext.read(lab)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str(ROOT)}},
    )
    with tempfile.TemporaryDirectory() as scratch:
        results = Path(scratch) / "results.json"
        try:
            client.execute(env={**os.environ, "MPLBACKEND": "Agg", "N2T_SMOKE": "", RESULTS_VAR: str(results)})
        except CellExecutionError as error:
            raise LabError(f"lab {lab.relative_to(ROOT)} raised:\n{error}") from None
        if results.exists():
            notebook.metadata["n2t_results"] = json.loads(results.read_text(encoding="utf-8"))
    return notebook


def _write_results(notebook_path: Path) -> None:
    """Put a lab's recorded numbers next to its notebook as ``<name>.json`` (concept pages read them)."""
    import nbformat

    results = nbformat.read(notebook_path, as_version=4).metadata.get("n2t_results")
    target = notebook_path.with_suffix(".json")
    text = None if results is None else json.dumps(results, indent=1, sort_keys=True)
    if text is None:
        target.unlink(missing_ok=True)
    elif not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")


def _execute_into(lab: Path, cached: Path, log) -> None:
    import nbformat

    log(f"n2t-labs: executing {lab.relative_to(ROOT) if lab.is_relative_to(ROOT) else lab}")
    notebook = execute(lab)
    partial = cached.with_suffix(".partial")
    nbformat.write(notebook, partial)
    partial.replace(cached)


def build_labs(snippets: Path = SNIPPETS, out_dir: Path = LABS_OUT, log=print) -> list[Path]:
    """Make ``docs/labs/<chapter>/<name>.ipynb`` for every lab, executing only what changed.

    Labs run in parallel, one kernel per CPU core. Returns the notebooks written or reused;
    notebooks of labs that no longer exist are removed.
    """
    tree_digest = _tree_digest(ROOT)
    CACHE.mkdir(parents=True, exist_ok=True)
    plan = []
    for lab in lab_sources(snippets):
        target = out_dir / lab.parent.name / (lab.stem + ".ipynb")
        cached = CACHE / f"{lab.parent.name}-{lab.stem}-{cache_key(lab, tree_digest)}.ipynb"
        plan.append((lab, cached, target))
    stale = [(lab, cached) for lab, cached, _ in plan if not cached.exists()]
    with ThreadPoolExecutor(max_workers=max(1, min(len(stale), os.cpu_count() or 1))) as pool:
        for future in [pool.submit(_execute_into, lab, cached, log) for lab, cached in stale]:
            future.result()  # re-raises the first LabError
    for _, cached, target in plan:
        if not target.exists() or target.read_bytes() != cached.read_bytes():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(cached, target)
        _write_results(target)
    produced = [target for _, _, target in plan]
    for orphan in set(out_dir.glob("*/*.ipynb")) - set(produced):
        orphan.unlink()
        orphan.with_suffix(".json").unlink(missing_ok=True)
    current = {cached for _, cached, _ in plan}
    for lab, _, _ in plan:  # older executions of the same lab can never be shown again
        for old in CACHE.glob(f"{lab.parent.name}-{lab.stem}-*.ipynb"):
            if old not in current:
                old.unlink()
    return produced


if __name__ == "__main__":
    for path in build_labs():
        print(path.relative_to(ROOT))
