"""``rotation`` never says to renew a deprecated key, and each of its steps names one environment (issue 21, item 8).

Before: with the state of tests/data/stack-export.json, ``rotation --warn-days 90`` printed "DUE: ci:workflowDispatchToken
… then: … pulumi env set <org>/secret-chain/Base pulumiConfig.ci:workflowDispatchToken", a key nothing reads any more
(catalog ``deprecated``); and its steps said ``<org>/secret-chain/<Environment>`` beside the fix's
``<org>/secret-chain/Production``. Every state below holds each catalog key's copy, for each stack kind, far past due.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from secret_chain import catalog, environments
from secret_chain.catalog import Tier
from secret_chain.config import DOC_ENVIRONMENT
from secret_chain.environments import home_of
from secret_chain.ops.cli import main
from secret_chain.ops.inventory import rotation_steps
from secret_chain.pulumi_rules import parse_property_path

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / "tests" / "data" / "stack-export.json"
DEPRECATED = [k for k in catalog.KEYS if k.deprecated]
STACKS = {"production": "Production", "preview-base": "Preview", "preview-pr-9": "PullRequest"}
ENVIRONMENT = re.compile(r"(?:<org>|[\w.-]+)/" + environments.ESC_PROJECT + r"/(?:<Environment>|\w+)")
"""An environment named in a step: ``<org>/secret-chain/<name>``."""


def _named(text: str, entry: catalog.Key) -> bool:
    return re.search(rf"(?<![\w:.-]){re.escape(entry.key)}(?![\w])", text) is not None


def report(stack: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, *, as_json: bool) -> tuple[int, str]:
    path = tmp_path / f"{stack}.json"
    path.write_text(STATE.read_text().replace("urn:pulumi:production::", f"urn:pulumi:{stack}::"))
    argv = ["rotation", "--state", str(path), "--now", "2035-01-01", "--warn-days", "3650", *(["--json"] if as_json else [])]
    code = main(argv)
    return code, capsys.readouterr().out


def test_the_state_holds_deprecated_keys() -> None:
    text = STATE.read_text()
    from secret_chain.github_actions import ENTRIES

    assert DEPRECATED and all(e.github_name in text for e in ENTRIES if e.deprecated)


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_no_step_renews_a_deprecated_key(stack: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _, out = report(stack, capsys, tmp_path, as_json=True)
    items: list[dict[str, Any]] = json.loads(out)["items"]
    retired = [i for i in items if catalog.get(i["configKey"]).deprecated]
    assert {i["configKey"] for i in retired} == {k.key for k in DEPRECATED}
    for item in items:
        renew = [*item["steps"], item["generate"] or ""] + ([] if item in retired else [item["fix"]])
        assert not [k.key for k in DEPRECATED for text in renew if _named(text, k)], item["configKey"]
    for item in retired:
        entry = catalog.get(item["configKey"])
        holder = home_of(entry, f"<org>/{environments.ESC_PROJECT}/{STACKS[stack]}")
        assert item["status"] == "deprecated" and item["steps"] == [] and item["generate"] is None and item["due"] is None
        assert item["fix"].startswith(f"pulumi env rm {holder} pulumiConfig.{entry.key}")
        assert item["retire"][0].startswith(f"pulumi env rm {holder} pulumiConfig.{entry.key} ")
        assert any("deletes that Actions secret" in step for step in item["retire"])
    assert json.loads(out)["deprecated"] == len(retired)
    _, text = report(stack, capsys, tmp_path, as_json=False)
    for entry in DEPRECATED:
        assert f"DEPRECATED: {entry.key} in GitHub Actions secret" in text
        assert not re.search(rf"^\s+(OVERDUE|DUE): {re.escape(entry.key)} ", text, re.M)
        assert not [line for line in text.splitlines() if line.lstrip().startswith(("then:", "new value:")) and _named(line, entry)]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_each_step_rotation_prints_names_one_environment_the_one_its_fix_names(
    stack: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, out = report(stack, capsys, tmp_path, as_json=True)
    for item in json.loads(out)["items"]:
        fixed = set(ENVIRONMENT.findall(item["fix"]))
        assert len(fixed) <= 1, item["fix"]
        for step in item["steps"] + item["retire"]:
            named = set(ENVIRONMENT.findall(step))
            assert len(named) <= 1, step
            assert not [e for e in named if "<Environment>" in e], step
            assert not named or named == fixed, (step, item["fix"])


@pytest.mark.parametrize("attached", [env.name for env in environments.ENVIRONMENTS if env is not environments.BASE])
def test_every_keys_steps_name_the_environment_that_holds_each_key(attached: str) -> None:
    """Every key's steps (the rotation guide's, for a stack attaching each environment): each environment a step names is
    the one that holds the key it acts on (environments.home_of), and no key but a deprecated one's own retirement
    names a deprecated key."""
    environment = f"acme/{environments.ESC_PROJECT}/{attached}"
    for entry in (k for k in catalog.KEYS if k.tier is Tier.ESC):
        for step in rotation_steps(entry, environment):
            assert "<Environment>" not in step, (entry.key, step)
            for command in re.findall(rf"pulumi env (?:set|get|rm) ({ENVIRONMENT.pattern}) (\S+)", step):
                env, path = command
                elements = parse_property_path(path.rstrip(",.)").strip("'"))
                key = catalog.get(".".join(str(e) for e in elements[1:]))
                assert env == home_of(key, environment), (entry.key, step)
            if not entry.deprecated:
                assert not [k.key for k in DEPRECATED if _named(step, k)], (entry.key, step)


def test_the_rotation_guide_keeps_the_docs_environment() -> None:
    """For the docs (no stack), a step names the docs' environment (or Base for a key Base holds), never two."""
    for entry in catalog.KEYS:
        for step in rotation_steps(entry, DOC_ENVIRONMENT):
            assert "{env:" not in step and "{rm:" not in step and "{set}" not in step
            assert len(set(ENVIRONMENT.findall(step))) <= 1, step
