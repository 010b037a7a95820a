"""The table of parts (components/secret_chain/parts.py): declared parts, what the stack program and preflight make of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secret_chain import catalog, parts
from secret_chain.chain import SecretChainArgs
from secret_chain.config import fix_command
from secret_chain.errors import ConfigError
from secret_chain.ops import inventory, preflight
from secret_chain.ops.offline import Evaluation, parse_config
from secret_chain.pulumi_rules import parse_key_path
from tests.test_stacks import PARTS_KEY, STACKS, build, cli_entry, stack_document

ROOT = Path(__file__).resolve().parent.parent


def declaring(stack: str, declared: object) -> tuple[dict[str, str], list[str]]:
    """The committed stack with ``secret-chain:parts`` set to ``declared`` (a list, as a YAML list arrives)."""
    return parse_config({**stack_document(stack), PARTS_KEY: cli_entry(declared)})


def test_every_catalog_key_is_read_by_a_part_and_every_setting_is_an_argument() -> None:
    assert {k.key for p in parts.PARTS for k in p.keys} == {k.key for k in catalog.KEYS}
    fields = SecretChainArgs.__annotations__  # names only (get_type_hints would resolve pulumi.Input's forward reference)
    from secret_chain.chain import SETTINGS

    names = ["app_namespace", "domain", "acme_email", "github_repository", "flux_repository_url", "gateway_namespace", "digitalocean_cluster"]
    assert [parts.arg_name(s) for s in SETTINGS] == names
    assert all(parts.arg_name(s) in fields for s in SETTINGS)
    assert parts.DECLARED_PARTS.key == PARTS_KEY and catalog.get(PARTS_KEY).tier is catalog.Tier.STACK


def test_the_parts_key_is_a_key_the_cli_accepts_and_its_fix_sets_a_list() -> None:
    # pulumi config set --path 'names[0]' a sets a list's first item (pulumi docs, pulumi_config_set).
    command = fix_command(parts.DECLARED_PARTS, "acme/secret-chain/Production")
    assert command == "pulumi config set --path 'secret-chain:parts[0]' GhcrPullSecret"
    key, path = parse_key_path("secret-chain:parts[0]")
    assert (key.namespace, key.name) == ("secret-chain", "parts") and path == ["parts", 0]


NEVER_BUILT = [(s, p.name) for s in sorted(STACKS) for p in parts.PARTS if p.declarable and parts.kind_of(s) not in p.kinds]


def test_every_kind_but_production_has_parts_it_never_builds() -> None:
    assert {s for s, _ in NEVER_BUILT} == {"preview-base", "preview-pr-7"}


@pytest.mark.parametrize(("stack", "part"), NEVER_BUILT)
def test_a_part_the_stack_kind_never_builds_cannot_be_declared(stack: str, part: str) -> None:
    kind = parts.kind_of(stack)
    committed = stack_document(stack)[PARTS_KEY]["objectValue"]
    config, secret_keys = declaring(stack, [*committed, part])
    outcome = build(stack, config, secret_keys)
    assert isinstance(outcome, ConfigError)
    assert f"{PARTS_KEY} declares {part}, which {kind.label} stacks never build" in str(outcome)
    report = preflight.check(config, secret_keys, stack)
    assert [(p.key, p.kind, p.group) for p in report.problems] == [(PARTS_KEY, "declared", part)]


def test_a_sub_group_needs_its_part_declared() -> None:
    config, secret_keys = declaring("production", ["GhcrPullSecret", "GrafanaOAuth.mail"])
    outcome = build("production", config, secret_keys)
    assert isinstance(outcome, ConfigError) and "declares GrafanaOAuth.mail without GrafanaOAuth" in str(outcome)
    assert [p.kind for p in preflight.check(config, secret_keys, "production").problems] == ["declared"]


@pytest.mark.parametrize(
    "declared",
    [["GhcrPullSecret", "NoSuchPart"], ["PrometheusAuth.rotation"], ["GhcrPullSecret", "GhcrPullSecret"], [], {"GhcrPullSecret": True}],
    ids=["unknown", "never-declared", "twice", "empty", "not-a-list"],
)
def test_a_malformed_declaration_stops_the_program_and_preflight(declared: object) -> None:
    document = {**stack_document("production"), PARTS_KEY: cli_entry(declared)}
    if isinstance(declared, dict):
        with pytest.raises(ConfigError, match=f'config "{PARTS_KEY}" is a JSON object; expected array'):
            parse_config(document)  # the CLI loader refuses the JSON type before anything runs
        return
    config, secret_keys = parse_config(document)
    outcome = build("production", config, secret_keys)
    assert isinstance(outcome, ConfigError) and f'config "{PARTS_KEY}"' in str(outcome)
    assert [(p.key, p.kind) for p in preflight.check(config, secret_keys, "production").problems] == [(PARTS_KEY, "malformed")]


def test_a_declared_part_with_no_config_names_every_key_and_its_fix() -> None:
    config, secret_keys = parse_config(
        {k: v for k, v in stack_document("production").items() if not k.startswith(("flux:", "gateway:"))}
    )
    outcome = build("production", config, secret_keys)
    assert isinstance(outcome, ConfigError)
    text = str(outcome)
    for key in ("flux:githubAppId", "flux:githubAppInstallationId", "flux:githubAppPrivateKey", "gateway:digitaloceanDnsToken"):
        assert f'config "{key}" is missing' in text
        assert fix_command(catalog.get(key), "acme/secret-chain/Production") in text  # the operator's (tests/test_stacks.py)
    assert "FluxGitCredentials is declared in secret-chain:parts" in text and "flux:githubToken" in text  # the other alternative
    report = preflight.check(config, secret_keys, "production")
    assert sorted(p.key for p in report.problems) == sorted(
        ["flux:githubAppId", "flux:githubAppInstallationId", "flux:githubAppPrivateKey", "gateway:digitaloceanDnsToken"]
    )


def test_declared_mail_stops_a_deletion_that_the_config_alone_would_allow() -> None:
    # Without the declaration, deleting every mail key only drops that feature.
    for removed in (("grafana:smtp", "grafana:alertEmail"),):
        kept = {k: v for k, v in stack_document("production").items() if not k.startswith(removed)}
        declared_config = parse_config(kept)
        derived_config = parse_config({k: v for k, v in kept.items() if k != PARTS_KEY})
        assert isinstance(build("production", *declared_config), ConfigError), removed
        assert not preflight.check(*declared_config, "production").ok
        derived = build("production", *derived_config)
        assert isinstance(derived, Evaluation) and preflight.check(*derived_config, "production").ok, removed


def test_undeclared_parts_are_ignored_not_built() -> None:
    config, secret_keys = declaring("production", ["GhcrPullSecret"])
    outcome = build("production", config, secret_keys)
    assert isinstance(outcome, Evaluation) and outcome.stack_outputs["parts"] == ["GhcrPullSecret"]
    report = preflight.check(config, secret_keys, "production")
    assert report.ok and report.declared == ["GhcrPullSecret"] and report.enabled == ["GhcrPullSecret"]
    assert "prometheus:authToken" in {w.key for w in report.warnings if w.kind == "ignored"}


def test_a_stack_without_the_setting_builds_what_the_config_enables() -> None:
    config, secret_keys = parse_config({k: v for k, v in stack_document("preview-pr-7").items() if not k.startswith("grafana:")})
    config.pop(PARTS_KEY)
    outcome = build("preview-pr-7", config, secret_keys)
    assert isinstance(outcome, Evaluation) and outcome.stack_outputs["parts"] == ["GhcrPullSecret", "PrometheusAuth"]
    assert preflight.check(config, secret_keys, "preview-pr-7").ok


def test_the_docs_parts_table_is_the_table() -> None:
    text = (ROOT / "docs" / "reference" / "secret-chain.md").read_text()
    assert inventory.current_parts_block(text) == inventory.parts_block()
    for part in parts.PARTS:
        assert f"| `{part.name}` |" in inventory.parts_block()


def test_plan_and_inventory_read_the_table(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from secret_chain.ops.cli import main

    path = tmp_path / "config.json"
    path.write_text(json.dumps(stack_document("preview-base")))
    assert main(["plan", "--stack", "preview-base", "--config", str(path), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert {p["part"]: p["built"] for p in plan["parts"]} == {p.name: p.name in STACKS["preview-base"][3] for p in parts.COMPONENTS}
    assert next(p for p in plan["parts"] if p["part"] == "GrafanaOAuth")["why"] == "preview-base stacks never build it"
    assert main(["inventory", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["parts"] == parts.rows()
