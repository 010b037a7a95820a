"""No committed example value passes preflight on a real stack; the README's real path names every value to set.

Issue 19, item 3: ``stacks/Pulumi.production.yaml`` and the others committed ``example-org``, ``example.com`` and
``ops@example.com``, and preflight said READY for them: a first real run aimed CI's secrets at
``example-org/platform`` and ACME at a domain nobody serves. The names are the documentation's:

* RFC 2606 section 2 and RFC 6761 sections 6.2–6.5 reserve the top-level names ``.test``, ``.example``,
  ``.invalid`` and ``.localhost``; section 3 reserves ``example.com``, ``example.net`` and ``example.org``;
* Let's Encrypt refuses an ACME account contact at those (letsencrypt/boulder ``policy/pa.go`` ``ValidEmail``:
  ``forbiddenMailDomains``, "frequently used when copy-pasting example configurations", and a domain must end in a
  public suffix), so the ClusterIssuer never registers;
* an account named ``example-org`` is not reserved by anyone: it is someone else's, or nobody's.

``preflight`` refuses them (the catalog's go/no-go ``check``, ``Key.not_example``) with the exact ``pulumi config
set`` fix; the program's ``shape`` still accepts them, as it accepts the example configs' published secrets, so
``plan`` renders ``examples/config`` offline (``make demo``) and every program test keeps its ``example.com``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from secret_chain import catalog, esc
from secret_chain.github_actions import GITHUB_OWNER
from secret_chain.ops import preflight
from secret_chain.ops.inventory import REAL_PATH_BEGIN, current_real_path_block, operator_settings, real_path_block
from secret_chain.ops.offline import Evaluation, parse_config
from secret_chain.parts import Kind, kind_of
from tests.test_esc import composed
from tests.test_rules import bootstrap_document
from tests.test_stacks import OPERATOR_SETTINGS, STACKS, build, cli_entry, esc_keys, stack_document

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
"""The real path, from an empty organisation to the first preview (it was the README's section "The real path")."""

# What the committed files held before (git show 2cbc92c:stacks/Pulumi.production.yaml), and more of the reserved names:
# (key, value, the keys set with it, as the committed files set them together).
EXAMPLES: list[tuple[str, str, dict[str, str]]] = [
    ("secret-chain:githubRepository", "example-org/platform", {"github:owner": "example-org"}),
    ("github:owner", "example-org", {"secret-chain:githubRepository": "example-org/platform"}),
    ("secret-chain:domain", "example.com", {}),
    ("secret-chain:acmeEmail", "ops@example.com", {}),
    ("secret-chain:fluxRepositoryUrl", "https://github.com/example-org/cluster", {}),
    ("secret-chain:escEnvironment", "example-org/secret-chain/Production", {}),
    ("secret-chain:domain", "platform.example.net", {}),
    ("secret-chain:domain", "example.org", {}),
    ("secret-chain:domain", "platform.test", {}),
    ("secret-chain:domain", "preview.example", {}),
    ("secret-chain:domain", "cluster.invalid", {}),
    ("secret-chain:domain", "app.localhost", {}),
    ("secret-chain:acmeEmail", "ops@example.net", {}),
    ("secret-chain:fluxRepositoryUrl", "https://github.com/example/cluster", {}),
    ("grafana:githubOrg", "example-org", {}),
    ("ci:pulumiOrganization", "example-org", {}),
    ("grafana:alertEmail", "oncall@example.com", {}),
    ("grafana:smtpFromAddress", "alerts@example.org", {}),
    ("namespace:imagePullSecret.username", "example-bot", {}),
    # The catalog's example IDs, which the README's real path once told people to type (issue 19 review).
    ("ci:githubAppId", "123456", {}),
    ("grafana:adminUser", "id:583231", {}),
    ("grafana:adminUser", "octocat", {}),
]


def _with(document: dict[str, dict[str, Any]], key: str, value: str) -> dict[str, dict[str, Any]]:
    entry = catalog.BY_KEY.get(key)
    if entry is not None and entry.field:
        current = document[entry.config_key]
        fields = {**current["objectValue"], entry.field: value}
        return {**document, entry.config_key: cli_entry(fields, current["secret"])}
    return {**document, key: cli_entry(value)}


@pytest.mark.parametrize(("key", "value", "along"), EXAMPLES, ids=[f"{k}={v}" for k, v, _ in EXAMPLES])
def test_preflight_refuses_a_reserved_example_value_with_the_exact_fix(key: str, value: str, along: dict[str, str]) -> None:
    """On a stack that is otherwise ready, the value makes it NOT READY, with a fix naming a value to type (``<…>``)."""
    document = _with(stack_document("production"), key, value)
    for other, other_value in along.items():
        document = _with(document, other, other_value)
    config, secret_keys = parse_config(document)
    report = preflight.check(config, secret_keys, "production")
    assert {(p.key, p.kind) for p in report.problems} == {(k, "example") for k in (key, *along)}, [p.line() for p in report.problems]
    problem = next(p for p in report.problems if p.key == key)
    assert re.match(rf"pulumi (config set|env set \S+) (pulumiConfig\.)?{re.escape(key)} \S*<", problem.fix), problem.fix
    # The program still renders it (plan, make demo): the refusal is preflight's go/no-go, like a published secret.
    assert isinstance(build("production", config, secret_keys), Evaluation)


def committed_document(stack: str) -> dict[str, dict[str, Any]]:
    """The committed stack file with its operator's ESC values (the example configs' with fresh secrets and own names),
    but none of the settings the operator sets: what a person has before following the README's real path."""
    if stack == "bootstrap":
        return {k: v for k, v in bootstrap_document().items() if k != catalog.GITHUB_REPOSITORY.key}
    return stack_document(stack, operator=False)


ALL_STACKS = [*sorted(STACKS), "bootstrap"]


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_no_committed_stack_file_survives_preflight_with_its_example_values(stack: str) -> None:
    """Committed + ESC is NOT READY until the person's own settings are set; none of what is committed is refused."""
    config, secret_keys = parse_config(committed_document(stack))
    report = preflight.check(config, secret_keys, stack)
    assert not report.ok, f"{stack}: the committed stack file passes preflight without the operator's settings"
    stack_file = STACKS[stack][0] if stack in STACKS else "Pulumi.bootstrap.yaml"
    committed = set(yaml.safe_load((ROOT / "stacks" / stack_file).read_text(encoding="utf-8"))["config"])
    for problem in report.problems:
        assert problem.kind in ("missing", "example"), problem.line()
        assert problem.key not in committed, f"{stack}: the committed {problem.key} is refused: {problem.line()}"
    # What preflight asks for is exactly what the README's real path has a person set on that stack.
    asked = {p.key for p in report.problems}
    expected = {key for key, _ in operator_settings(kind_of(stack) if stack != "bootstrap" else Kind.BOOTSTRAP)}
    asked_settings = {k for k in asked if k in expected}
    assert asked == asked_settings, f"{stack}: preflight asks for {sorted(asked - expected)} too"
    # escEnvironment is optional (fixes then name <org>); github:owner is asked for once the repository names its owner;
    # the cluster is optional for the program (the ambient kubeconfig), and CI's preflight asks for it (CI=true).
    later = {catalog.ESC_ENVIRONMENT.key, GITHUB_OWNER, catalog.DIGITALOCEAN_CLUSTER.key}
    assert expected - asked <= later, f"{stack}: preflight does not ask for {sorted(expected - asked)}"
    if GITHUB_OWNER in expected:
        repository = catalog.GITHUB_REPOSITORY.key
        with_repository = {**committed_document(stack), repository: cli_entry(OPERATOR_SETTINGS[stack][repository])}
        config, secret_keys = parse_config(with_repository)
        assert any(f"config set {GITHUB_OWNER} " in p.fix for p in preflight.check(config, secret_keys, stack).problems)


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_with_the_operators_settings_the_stack_is_ready(stack: str) -> None:
    document = bootstrap_document() if stack == "bootstrap" else stack_document(stack)
    config, secret_keys = parse_config(document)
    assert preflight.check(config, secret_keys, stack).ok
    assert isinstance(build(stack, config, secret_keys), Evaluation)


def _real_path() -> str:
    return TUTORIAL.read_text(encoding="utf-8")


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_the_tutorial_names_each_value_preflight_asks_for(stack: str) -> None:
    """From the committed stack file and the environments the bootstrap creates (every value a placeholder), every key
    preflight asks for is named in the tutorial (docs/tutorial.md), with a command that sets it."""
    config, secret_keys = parse_config(committed_document(stack))
    if stack != "bootstrap":
        environment = esc.for_stack(kind_of(stack)).name
        config = {k: v for k, v in config.items() if k not in esc_keys(STACKS[stack][1])}
        secret_keys = [k for k in secret_keys if k in config]
        objects: dict[str, dict[str, str]] = {}
        for key, value in composed(environment).items():  # every value a <set me: …> placeholder
            text, secret = (value["fn::secret"], True) if isinstance(value, dict) else (value, False)
            entry = catalog.get(key)
            if entry.field:
                objects.setdefault(entry.config_key, {})[entry.field] = text
            else:
                config[key] = text
            if secret:
                secret_keys.append(entry.config_key)
        config.update({key: json.dumps(fields) for key, fields in objects.items()})
    report = preflight.check(config, secret_keys, stack)
    section = _real_path()
    unnamed = []
    for problem in report.problems:
        entry = catalog.BY_KEY.get(problem.key)
        path = f"pulumiConfig.{problem.key}"
        named = (
            f"pulumi config set {problem.key} " in section
            or path in section
            or (stack.startswith("preview-pr-") and f"{problem.key}: " in section)
            or (entry is not None and entry.field and f"pulumiConfig.{entry.key}" in section)
        )
        if not named:
            unnamed.append(problem.line())
    assert report.problems and unnamed == [], "\n".join(unnamed)


def test_the_tutorial_real_path_block_is_generated() -> None:
    text = TUTORIAL.read_text(encoding="utf-8")
    assert REAL_PATH_BEGIN in text and current_real_path_block(text) == real_path_block(), "run secret-chain inventory --docs docs"


def test_no_committed_file_names_an_example_account_or_domain_as_a_value() -> None:
    """Stack files may explain in comments; no value they set is one preflight refuses as an example."""
    for path in sorted((ROOT / "stacks").glob("Pulumi.*.yaml")):
        settings = yaml.safe_load(path.read_text(encoding="utf-8"))["config"]
        for key, value in settings.items():
            entry = catalog.BY_KEY.get(key)
            if entry is not None and entry.not_example is not None:
                entry.check(str(value))
            assert not re.search(r"example(-org|\.com|\.net|\.org)", json.dumps(value)), (path.name, key)
