"""The GitHub Pages workflow builds and tests with CI's own commands, then publishes site/."""

from __future__ import annotations

import re
import shlex

import pytest
import yaml

from site_helpers import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"
CI_RUN = ROOT / ".ci" / "run"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def make_targets(script: str) -> list[str]:
    """Every ``make`` target a shell script runs (``.ci/run`` in it counts as CI's targets)."""
    targets = []
    for line in script.splitlines():
        words = shlex.split(line, comments=True)
        for i, word in enumerate(words):
            if word == "make":
                targets += [w for w in words[i + 1:] if not w.startswith("-") and "=" not in w]
            elif word in (".ci/run", "./.ci/run"):
                targets += make_targets(CI_RUN.read_text(encoding="utf-8"))
    return targets


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def used(job: dict, action: str) -> list[dict]:
    return [s for s in steps(job) if s.get("uses", "").split("@")[0] == action]


def test_ci_run_is_what_the_readme_runs():
    assert CI_RUN.stat().st_mode & 0o111, ".ci/run is not executable"
    assert make_targets(CI_RUN.read_text(encoding="utf-8")) == ["test"]


def test_the_build_runs_the_same_make_targets_as_ci(workflow):
    build = workflow["jobs"]["build"]
    runs = "\n".join(s["run"] for s in steps(build) if "run" in s)
    assert make_targets(runs) == make_targets(CI_RUN.read_text(encoding="utf-8"))


def test_the_build_checks_out_the_whole_history_on_the_tested_stack(workflow):
    build = workflow["jobs"]["build"]
    [checkout] = used(build, "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0  # last-updated dates come from git
    assert steps(build).index(checkout) == 0
    image = build["container"] if isinstance(build["container"], str) else build["container"]["image"]
    assert re.fullmatch(r"python:3\.11(\.\d+)?-bookworm", image), image  # Debian 12, Python 3.11
    assert used(build, "actions/setup-node")


def test_the_site_is_built_for_its_pages_address(workflow):
    build = workflow["jobs"]["build"]
    [configure] = used(build, "actions/configure-pages")
    [ci] = [s for s in steps(build) if "run" in s and make_targets(s["run"])]
    assert steps(build).index(configure) < steps(build).index(ci)
    assert ci["env"]["N2T_SITE_URL"] == "${{ steps.%s.outputs.base_url }}/" % configure["id"]
    assert "N2T_SITE_URL" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


def test_site_is_uploaded_after_the_tests_and_deployed(workflow):
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    [upload] = used(build, "actions/upload-pages-artifact")
    assert upload["with"]["path"].rstrip("/") == "site"
    assert steps(build).index(upload) == len(steps(build)) - 1
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    [deployment] = used(deploy, "actions/deploy-pages")
    assert deploy["environment"]["url"] == "${{ steps.%s.outputs.page_url }}" % deployment["id"]


def test_triggers_permissions_and_concurrency(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["push"]["branches"] == ["main"] and "workflow_dispatch" in triggers
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert workflow["concurrency"]["group"] and workflow["concurrency"]["cancel-in-progress"] is False


def test_every_action_is_pinned_to_a_release(workflow):
    for name, job in workflow["jobs"].items():
        for step in steps(job):
            if "uses" in step:
                assert re.fullmatch(r"actions/[-a-z]+@v\d+", step["uses"]), f"{name}: {step['uses']}"


def test_make_targets_reads_commands_and_ci_run():
    assert make_targets("rm -rf site\nmake -j2 site test  # comment make bench") == ["site", "test"]
    assert make_targets("echo hi\nPYTHON=python3 make install") == ["install"]
    assert make_targets(".ci/run") == ["test"]
