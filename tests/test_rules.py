"""The cross-key rules are written once (components/secret_chain/rules.py), held by the table of parts and evaluated by both sides.

Issue 19, item 4: ``preflight`` said READY where the program refused on rules that read several keys — a team token
without its team, an organization token with a team, Flux's GitHub App with a repository that is not on github.com —
because each rule was written twice (in the component, and not at all in ``preflight``). Now a rule is one object
(:mod:`secret_chain.rules`), held by the rows of the table of parts that build it (``Part.rules``); each component
evaluates ``parts.rules_of(<its row>)`` and ``preflight`` the rules of every part the stack builds.

``tests/test_parts_matrix.py`` enumerates every rule (every single-key check, every cross-key rule's ``breaking``
changes) on every stack kind and runs both sides. Here: the issue's own cases, spelled without the rule objects (so
this test also ran, and failed, on the code before the rules were shared), and the wiring that makes the agreement
hold by construction.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
import yaml

from secret_chain import catalog, parts, rules
from secret_chain.errors import ConfigError
from secret_chain.ops import preflight
from secret_chain.ops.offline import Evaluation, parse_config
from tests.test_stacks import build, cli_entry, stack_document

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP_OPERATOR = {"secret-chain:githubRepository": "acme/platform", "ci:pulumiOrganization": "acme"}
"""What the bootstrap stack's operator sets (the README's real path) and the organisation Pulumi Cloud gives it."""

Document = dict[str, dict[str, Any]]


def bootstrap_document() -> Document:
    """The bootstrap stack's config: its committed stack file and what its operator sets (no ESC environment)."""
    settings = yaml.safe_load((ROOT / "stacks" / "Pulumi.bootstrap.yaml").read_text(encoding="utf-8"))["config"]
    return {key: cli_entry(str(value)) for key, value in {**settings, **BOOTSTRAP_OPERATOR}.items()}


def document_of(stack: str) -> Document:
    return bootstrap_document() if stack == "bootstrap" else stack_document(stack)


# (case, changes by flat config key: a value, or None to remove; the stacks that build the part holding the rule)
ISSUE_CASES: list[tuple[str, dict[str, str | None], set[str]]] = [
    ("team token without its team", {"ci:pulumiTokenType": "team", "ci:pulumiTeam": None}, {"production", "preview-base", "bootstrap"}),
    (
        "organization token with a team",
        {"ci:pulumiTokenType": "organization", "ci:pulumiTeam": "ci-deployers"},
        {"production", "preview-base", "bootstrap"},
    ),
    (
        "Flux's GitHub App on a repository outside github.com",
        {"secret-chain:fluxRepositoryUrl": "https://git.acme-corp.dev/acme/cluster"},
        {"production", "preview-base"},
    ),
]
STACKS = ["production", "preview-base", "preview-pr-7", "bootstrap"]


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize(("case", "changes", "refusing"), ISSUE_CASES, ids=[c for c, *_ in ISSUE_CASES])
def test_the_issue_cases_get_the_same_verdict_from_preflight_and_the_program(
    case: str, changes: dict[str, str | None], refusing: set[str], stack: str
) -> None:
    document = {k: v for k, v in document_of(stack).items() if k not in changes or changes[k] is not None}
    document.update({k: cli_entry(v) for k, v in changes.items() if v is not None})
    config, secret_keys = parse_config(document)
    outcome = build(stack, config, secret_keys)
    report = preflight.check(config, secret_keys, stack)
    builds = isinstance(outcome, Evaluation)
    said = [p.line() for p in report.problems] or "READY"
    assert report.ok == builds, f"{case} on {stack}: program {'builds' if builds else 'refuses'}, preflight {said}"
    assert builds == (stack not in refusing), f"{case} on {stack}: {outcome}"
    if not builds:
        assert isinstance(outcome, ConfigError)
        for problem in report.problems:
            assert f'"{problem.key}"' in str(outcome), (problem.line(), str(outcome))


def test_the_committed_stacks_break_no_rule() -> None:
    for stack in STACKS:
        config, secret_keys = parse_config(document_of(stack))
        assert preflight.check(config, secret_keys, stack).ok, stack
        assert isinstance(build(stack, config, secret_keys), Evaluation), stack


def test_every_rule_is_held_by_the_table_and_cites_its_source() -> None:
    held = [rule for part in parts.PARTS for rule in part.rules]
    assert set(held) == set(rules.RULES)
    for rule in rules.RULES:
        assert rule.source and rule.breaking, rule
        for change in rule.breaking:
            assert set(change) <= set(rule.keys), rule
        assert all(isinstance(k, catalog.Key) for k in rule.keys)


def test_each_component_evaluates_the_rules_of_its_own_row() -> None:
    """By construction: the class a row names evaluates ``parts.rules_of(<that row>)`` (no list of its own)."""
    import secret_chain
    from secret_chain import bootstrap

    classes: dict[str, object] = {"EscBootstrap": bootstrap.EscBootstrap}
    for part in parts.PARTS:
        if not part.rules:
            continue
        owner = part.parent or part.name
        cls = classes.get(owner) or getattr(secret_chain, owner)
        source = Path(inspect.getfile(cls)).read_text(encoding="utf-8")  # type: ignore[arg-type]
        assert f'rules_of("{owner}")' in source, f"{owner} does not evaluate its row's rules"
