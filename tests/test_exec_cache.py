"""tools/exec_cache.py: page code blocks are stored once and replayed correctly when a later block changes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import exec_cache  # noqa: E402
from markdown_exec._internal.formatters import python as exec_python  # noqa: E402

RUN = exec_python._run_python.run if isinstance(exec_python._run_python, exec_cache.ExecCache) \
    else exec_python._run_python


class CountingRun:
    """markdown-exec's real runner, counting the blocks it executes."""

    def __init__(self) -> None:
        self.executed: list[str] = []

    def __call__(self, code: str, **arguments) -> str:
        self.executed.append(code)
        return RUN(code, **arguments)


@pytest.fixture
def cache(tmp_path):
    counting = CountingRun()
    cache = exec_cache.ExecCache(counting, digest="d1", directory=tmp_path)
    cache.new_page()
    yield cache, counting
    exec_python._sessions_globals.clear()


def run_page(cache: exec_cache.ExecCache, blocks: list[str], session: str | None = "s") -> list[str]:
    cache.new_page()
    return [cache(code, session=session) for code in blocks]


def test_a_twin_page_is_served_from_the_cache(cache):
    cache, counting = cache
    blocks = ["import random\nx = 41", "x += 1\nprint(x)"]
    assert run_page(cache, blocks) == ["", "42\n"]
    assert run_page(cache, blocks) == ["", "42\n"]
    assert counting.executed == blocks and (cache.hits, cache.misses) == (2, 2)


def test_a_changed_block_replays_the_skipped_blocks_of_its_session(cache):
    cache, counting = cache
    run_page(cache, ["x = 41", "x += 1", "print(x)"])
    counting.executed.clear()
    assert run_page(cache, ["x = 41", "x += 1", "print(x * 2)"]) == ["", "", "84\n"]
    assert counting.executed == ["x = 41", "x += 1", "print(x * 2)"]  # state rebuilt once, in order


def test_an_earlier_change_changes_the_key_of_every_later_block(cache):
    cache, counting = cache
    run_page(cache, ["x = 1", "print(x)"])
    assert run_page(cache, ["x = 2", "print(x)"]) == ["", "2\n"]
    assert cache.hits == 0


def test_blocks_without_a_session_are_keyed_alone(cache):
    cache, counting = cache
    run_page(cache, ["print(1)", "print(2)"], session=None)
    assert run_page(cache, ["print(2)"], session=None) == ["2\n"]
    assert cache.hits == 1


def test_a_new_digest_misses(cache, tmp_path):
    cache, counting = cache
    run_page(cache, ["print(3)"])
    other = exec_cache.ExecCache(counting, digest="d2", directory=tmp_path)
    assert run_page(other, ["print(3)"]) == ["3\n"] and other.misses == 1


def test_a_failing_block_raises_and_stores_nothing(cache, tmp_path):
    cache, _ = cache
    with pytest.raises(Exception, match="NameError"):
        run_page(cache, ["print(undefined_name)"])
    assert not any(tmp_path.iterdir())


def test_sessions_do_not_leak_from_one_page_to_the_next(cache):
    cache, _ = cache
    run_page(cache, ["leaked = 1"])
    with pytest.raises(Exception, match="NameError"):
        run_page(cache, ["print(leaked)"])


def test_the_digest_covers_the_package_and_the_lab_results(tmp_path):
    (tmp_path / "src" / "n2t").mkdir(parents=True)
    (tmp_path / "docs" / "labs" / "rnn").mkdir(parents=True)
    module, results = tmp_path / "src" / "n2t" / "a.py", tmp_path / "docs" / "labs" / "rnn" / "lab.json"
    module.write_text("A = 1\n")
    results.write_text("{}")
    before = exec_cache.inputs_digest(tmp_path)
    module.write_text("A = 2\n")
    after_module = exec_cache.inputs_digest(tmp_path)
    results.write_text('{"accuracy": 0.9}')
    assert len({before, after_module, exec_cache.inputs_digest(tmp_path)}) == 3


def test_entries_unused_for_two_weeks_are_evicted_and_a_hit_renews_an_entry(cache, tmp_path):
    import os
    import time

    cache, _ = cache
    run_page(cache, ["print('old')"], session=None)
    run_page(cache, ["print('used')"], session=None)
    month_ago = time.time() - 30 * 86400
    for entry in tmp_path.iterdir():
        os.utime(entry, (month_ago, month_ago))
    run_page(cache, ["print('used')"], session=None)  # a hit
    assert exec_cache.evict_stale(tmp_path) == 1
    assert run_page(cache, ["print('used')"], session=None) == ["used\n"] and cache.misses == 2
