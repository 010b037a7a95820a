"""The committed stack files, with their ESC environment's values, make a stack that deploys.

A stack's config is its ``stacks/Pulumi.<stack>.yaml`` plus what its ESC environment injects. Here the
ESC part is the example config's values of the keys the ESC files (``esc/*.yaml``) define; the settings
part comes from the stack file alone, so a setting missing from a stack file (the domain Grafana
needs, say) fails here, not at `pulumi up`. Both are put together in the form ``pulumi config
--show-secrets --json`` prints them (a YAML list or mapping becomes ``objectValue``), and read with the
same loader as the CLI (:func:`secret_chain.ops.offline.parse_config`).
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from secret_chain import catalog
from secret_chain.catalog import Tier
from secret_chain.errors import ConfigError
from secret_chain.ops import preflight
from secret_chain.ops.offline import Evaluation, evaluate, parse_config
from secret_chain.parts import DECLARED_PARTS
from secret_chain.program import main

ROOT = Path(__file__).resolve().parent.parent

# stack name -> (stack file, ESC environment file, example config of that environment, parts it must build)
STACKS: dict[str, tuple[str, str, str, list[str]]] = {
    "production": (
        "Pulumi.production.yaml",
        "production.yaml",
        "production.json",
        ["GhcrPullSecret", "PrometheusAuth", "FluxGitCredentials", "CertManagerDnsIssuer", "GrafanaOAuth", "GitHubActionsSecrets"],
    ),
    "preview-base": (
        "Pulumi.preview-base.yaml",
        "preview.yaml",
        "preview.json",
        # no application runs there: its pull secret, Prometheus token and Grafana are each PR stack's own
        ["FluxGitCredentials", "CertManagerDnsIssuer", "GitHubActionsSecrets"],
    ),
    # As .github/workflows/preview-deploy.yml builds it: the committed template plus the PR-only environment.
    "preview-pr-7": ("Pulumi.preview-pr.yaml", "pull-request.yaml", "preview.json", ["GhcrPullSecret", "PrometheusAuth", "GrafanaOAuth"]),
}

PARTS_KEY = DECLARED_PARTS.key
"""The stack setting ``secret-chain:parts``, as the stack file spells it."""


@cache
def _parsed(path: Path) -> dict[str, Any]:
    """A committed YAML file, parsed once per session (the matrix tests build thousands of documents from these)."""
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


def _yaml(path: Path) -> dict[str, Any]:
    """A committed YAML file's document (a copy: callers may change it)."""
    return copy.deepcopy(_parsed(path))


@cache
def esc_keys(environment_file: str) -> frozenset[str]:
    """The ``pulumiConfig`` keys an ESC environment file defines, with those of the files it imports."""
    document = _parsed(ROOT / "esc" / environment_file)
    keys = set(document["values"]["pulumiConfig"])
    for imported in document.get("imports", []):
        keys |= esc_keys(imported.rsplit("/", 1)[-1].lower() + ".yaml")
    return frozenset(keys)


def cli_entry(value: Any, secret: bool = False) -> dict[str, Any]:
    """One key as ``pulumi config --json`` prints it: ``value`` a string, structured values also as ``objectValue``."""
    if isinstance(value, str):
        return {"value": value, "secret": secret}
    return {"value": json.dumps(value), "objectValue": value, "secret": secret}


@cache
def fresh_secret(key: str) -> str:
    """A generated value of secret catalog key ``key`` (one per test session)."""
    from tests.canaries import canary_for

    return canary_for(catalog.get(key))


def own_secrets(key: str, entry: dict[str, Any]) -> dict[str, Any]:
    """An example config entry with every secret value replaced by a generated one of the same shape.

    The example configs' secrets are published (their PEM key) or patterned fakes: ``preflight`` says NOT READY
    for them by design (tests/test_guard_rails_values.py), while the program renders them. A stack whose
    operator set real values is modelled with generated ones.
    """
    if not entry.get("secret"):
        return entry
    fields = entry.get("objectValue")
    if isinstance(fields, dict):
        replaced = {f: fresh_secret(f"{key}.{f}") if catalog.BY_KEY.get(f"{key}.{f}", None) and catalog.get(f"{key}.{f}").secret else v
                    for f, v in fields.items()}  # fmt: skip
        return {**entry, "value": json.dumps(replaced, sort_keys=True), "objectValue": replaced}
    if key in catalog.BY_KEY and catalog.get(key).secret:
        return {**entry, "value": fresh_secret(key)}
    return entry


OPERATOR = "acme"
"""The organisation and GitHub owner of the operator modelled here (not an example name: preflight refuses those)."""
OPERATOR_DOMAIN = "acme-platform.dev"
OPERATOR_CLUSTER = "acme-prod"
OPERATOR_SETTINGS: dict[str, dict[str, str]] = {
    "production": {
        "secret-chain:escEnvironment": f"{OPERATOR}/secret-chain/Production",
        "secret-chain:githubRepository": f"{OPERATOR}/platform",
        "github:owner": OPERATOR,
        "secret-chain:domain": OPERATOR_DOMAIN,
        "secret-chain:acmeEmail": f"ops@{OPERATOR_DOMAIN}",
        "secret-chain:fluxRepositoryUrl": f"https://github.com/{OPERATOR}/cluster",
        "secret-chain:digitaloceanCluster": OPERATOR_CLUSTER,
    },
    "preview-base": {
        "secret-chain:escEnvironment": f"{OPERATOR}/secret-chain/Preview",
        "secret-chain:githubRepository": f"{OPERATOR}/platform",
        "github:owner": OPERATOR,
        "secret-chain:domain": OPERATOR_DOMAIN,
        "secret-chain:acmeEmail": f"ops@{OPERATOR_DOMAIN}",
        "secret-chain:fluxRepositoryUrl": f"https://github.com/{OPERATOR}/cluster",
        "secret-chain:digitaloceanCluster": OPERATOR_CLUSTER,
    },
    # The domain and cluster are committed into the template by the operator (CI copies it); CI sets the environment.
    "preview-pr-7": {
        "secret-chain:escEnvironment": f"{OPERATOR}/secret-chain/PullRequest",
        "secret-chain:domain": OPERATOR_DOMAIN,
        "secret-chain:digitaloceanCluster": OPERATOR_CLUSTER,
    },
}
"""What a person sets on each stack besides its committed file (the README's real path): the committed files hold no
example value (issue 19 item 3), so a stack that deploys has these. tests/test_examples.py holds the README to them."""
_EXAMPLE_NAMES = {"example-org": OPERATOR, "example-bot": f"{OPERATOR}-bot", "example.com": OPERATOR_DOMAIN}
"""The example configs' account and domain names, and the operator's own in their place."""
_OWN_IDS = {"ci:githubAppId": "424242", "flux:githubAppId": "515151", "flux:githubAppInstallationId": "61616161", "grafana:adminUser": "id:7654321"}
"""The operator's own App IDs, installation and Grafana admin, in place of the documentation's (validators.real_app_id …)."""


def own_values(key: str, entry: dict[str, Any]) -> dict[str, Any]:
    """An example config entry as an operator's ESC environment holds it: fresh secrets (:func:`own_secrets`), and the
    operator's own accounts and domain where the example names documentation's (``example-org``, ``example.com``)."""


    def own(value: str) -> str:
        for example, name in _EXAMPLE_NAMES.items():
            value = value.replace(example, name)
        return value

    entry = own_secrets(key, entry)
    fields = entry.get("objectValue")
    if isinstance(fields, dict):  # an object key: its plain fields (the GHCR username), whatever the object's secrecy
        plain = {f: own(v) if isinstance(v, str) and not catalog.get(f"{key}.{f}").secret else v for f, v in fields.items()}
        return {**entry, "value": json.dumps(plain, sort_keys=True), "objectValue": plain}
    if entry.get("secret") or not isinstance(entry.get("value"), str):
        return entry
    if key in _OWN_IDS:
        return {**entry, "value": _OWN_IDS[key]}
    return {**entry, "value": own(entry["value"])}


def stack_document(stack: str, *, esc: bool = True, declared: bool = True, operator: bool = True) -> dict[str, dict[str, Any]]:
    """The stack's config in ``pulumi config --show-secrets --json`` form: its ESC values, its stack file, and the
    settings its operator set (:data:`OPERATOR_SETTINGS`).

    ``esc=False``: the ESC environment detached. ``declared=False``: the stack file without ``secret-chain:parts``.
    ``operator=False``: without the operator's settings (the committed stack file as it is).
    """
    stack_file, environment_file, example, _ = STACKS[stack]
    document: dict[str, dict[str, Any]] = {}
    if esc:
        values = json.loads((ROOT / "examples" / "config" / example).read_text())
        document.update({key: own_values(key, entry) for key, entry in values.items() if key in esc_keys(environment_file)})
    for key, value in _yaml(ROOT / "stacks" / stack_file)["config"].items():
        if declared or key != PARTS_KEY:
            document[key] = cli_entry(value)
    if operator:
        document.update({key: cli_entry(value) for key, value in OPERATOR_SETTINGS[stack].items()})
    return document


def stack_config(stack: str, **kwargs: bool) -> tuple[dict[str, str], list[str]]:
    """(config, secret keys) of :func:`stack_document`, as the CLI loader hands them to the program."""
    return parse_config(stack_document(stack, **kwargs))


def build(stack: str, config: dict[str, str], secret_keys: list[str]) -> Evaluation | ConfigError:
    """The stack program's evaluation, or the ConfigError it stopped with (after asserting nothing was registered)."""
    caught: list[ConfigError] = []

    def program() -> None:
        try:
            main()
        except ConfigError as err:
            caught.append(err)

    ev = evaluate(program, config=config, secret_keys=secret_keys, stack=stack)
    if caught:
        assert [r.type for r in ev.registrations] == ["pulumi:pulumi:Stack"]
        return caught[0]
    return ev


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_stack_file_and_its_esc_environment_build_every_part(stack: str, preview: bool) -> None:
    config, secret_keys = stack_config(stack)
    ev = evaluate(main, config=config, secret_keys=secret_keys, stack=stack, preview=preview)
    assert ev.stack_outputs["parts"] == STACKS[stack][3]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_preflight_passes_the_stack_that_the_program_builds(stack: str) -> None:
    # Issue 11: preview-deploy.yml stopped at its preflight step on every PR (fluxRepositoryUrl, acmeEmail).
    config, secret_keys = stack_config(stack)
    report = preflight.check(config, secret_keys, stack)
    assert report.problems == []
    assert report.ok


def test_the_pr_stack_as_ci_builds_it_plans_its_namespace_and_passes_preflight(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from secret_chain.ops.cli import main as cli

    path = tmp_path / "config.json"
    path.write_text(json.dumps(stack_document("preview-pr-7")))
    assert cli(["preflight", "--stack", "preview-pr-7", "--config", str(path)]) == 0, capsys.readouterr().out
    capsys.readouterr()
    assert cli(["plan", "--stack", "preview-pr-7", "--config", str(path), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    kinds = sorted(r["type"].rsplit(":", 1)[-1] for r in plan["resources"])
    # PullRequest carries no rollout key (generated when absent: issue 14 §4), so the stack makes its own; and it deploys
    # through the Kubernetes provider of its cluster (secret-chain:digitaloceanCluster, issue 19).
    assert kinds == ["Namespace", "RandomBytes", "Secret", "Secret", "Secret", "Secret", "ServiceMonitor", "kubernetes"]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_stack_files_declare_the_parts_they_build(stack: str) -> None:
    document = _yaml(ROOT / "stacks" / STACKS[stack][0])
    declared = document["config"][PARTS_KEY]
    assert isinstance(declared, list)  # a YAML list: the program receives it as JSON text
    assert [p for p in declared if p in STACKS[stack][3]] == STACKS[stack][3]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_detaching_the_esc_environment_stops_the_stack_instead_of_deleting_its_parts(stack: str) -> None:
    # Issue 11 item 3: without the environment the program built nothing, so `pulumi up` would delete every Secret.
    config, secret_keys = stack_config(stack, esc=False)
    outcome = build(stack, config, secret_keys)
    assert isinstance(outcome, ConfigError), f"built {outcome.stack_outputs.get('parts') if isinstance(outcome, Evaluation) else ''}"
    report = preflight.check(config, secret_keys, stack)
    assert not report.ok
    missing = {p.key for p in report.problems if p.kind == "missing"}
    expected = {"gateway:digitaloceanDnsToken"} if stack == "preview-base" else {"prometheus:authToken", "namespace:imagePullSecret.token"}
    assert expected <= missing
    for key in missing:
        assert f'config "{key}"' in str(outcome)
    assert f"Fix: pulumi env set {OPERATOR}/secret-chain/" in str(outcome)


def _esc_entries(stack: str) -> list[catalog.Key]:
    """Catalog keys whose value the stack's ESC environment carries."""
    document = stack_document(stack)
    return [
        e
        for e in catalog.KEYS
        if e.tier is Tier.ESC and e.config_key in document and (not e.field or e.field in document[e.config_key]["objectValue"])
    ]


def _without(document: dict[str, dict[str, Any]], entry: catalog.Key) -> dict[str, dict[str, Any]]:
    out = dict(document)
    if entry.field:
        fields = {k: v for k, v in out[entry.config_key]["objectValue"].items() if k != entry.field}
        out[entry.config_key] = cli_entry(fields, out[entry.config_key]["secret"])
    else:
        del out[entry.key]
    return out


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_a_key_deleted_from_esc_never_removes_a_declared_part(stack: str) -> None:
    """Delete any one ESC value: the stack builds every declared part, or stops naming the key (program and preflight alike)."""
    for entry in _esc_entries(stack):
        config, secret_keys = parse_config(_without(stack_document(stack), entry))
        outcome = build(stack, config, secret_keys)
        report = preflight.check(config, secret_keys, stack)
        if isinstance(outcome, Evaluation):
            assert outcome.stack_outputs["parts"] == STACKS[stack][3], entry.key
            assert report.ok, (entry.key, report.problems)
        else:
            assert [(p.key, p.kind) for p in report.problems] == [(entry.key, "missing")], entry.key
            assert f'config "{entry.key}" is missing' in str(outcome), entry.key


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_stack_files_hold_settings_only(stack: str) -> None:
    document = _yaml(ROOT / "stacks" / STACKS[stack][0])
    for key in document["config"]:
        entry = catalog.BY_KEY.get(key)
        assert entry is None or entry.tier is Tier.STACK, f"{key} belongs in the ESC environment, not in a stack file"
        assert entry is None or not entry.secret, key


def test_the_pr_template_names_no_environment() -> None:
    # CI attaches <org>/secret-chain/Preview with `pulumi config env add`; an import in the template would be a second one.
    document = _yaml(ROOT / "stacks" / "Pulumi.preview-pr.yaml")
    assert "environment" not in document


def readme_prerequisite_namespaces() -> set[str]:
    """The namespaces the prerequisites page (docs/prerequisites.md) says must exist before `pulumi up`."""
    text = (ROOT / "docs" / "prerequisites.md").read_text(encoding="utf-8")
    section = text.split("## Namespaces that must exist", 1)[1].split("\n#", 1)[0]
    return set(re.findall(r"^- `([a-z0-9-]+)`", section, flags=re.M))


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_every_namespace_a_stack_writes_into_exists(stack: str) -> None:
    """A namespace is one the stack creates, one the README lists as a prerequisite, or production's own app namespace.

    The API server refuses an object in a namespace that does not exist (``namespaces "x" not found``), so a stack
    that wrote into one nobody creates would fail at `pulumi up`.
    """
    config, secret_keys = stack_config(stack)
    ev = build(stack, config, secret_keys)
    assert isinstance(ev, Evaluation)
    created = {r.inputs["metadata"]["name"] for r in ev.of_type("kubernetes:core/v1:Namespace")}
    written = {str(obj["metadata"]["namespace"]) for obj in ev.kubernetes_objects() if obj.get("metadata", {}).get("namespace")}
    allowed = created | readme_prerequisite_namespaces()
    if stack == "production":
        allowed.add(config.get("secret-chain:appNamespace", "default"))  # the user's own application namespace
    if stack == "preview-base":
        allowed.add(config["secret-chain:gatewayNamespace"])  # the shared Gateway's, listed as a prerequisite
    assert written <= allowed, f"{stack} writes into {sorted(written - allowed)}, which nothing creates"


def test_production_and_preview_base_can_share_one_cluster() -> None:
    """The supported model: one small cluster may host both environments (README, Prerequisites). Then no
    Kubernetes object may be emitted by both stacks: the second `pulumi up` would take it from the first, and
    destroying one stack would delete the other's. Cluster-scoped objects have no namespace."""

    def identities(stack: str) -> set[tuple[str, str, str]]:
        config, secret_keys = stack_config(stack)
        ev = build(stack, config, secret_keys)
        assert isinstance(ev, Evaluation)
        return {
            (str(obj["kind"]), str(obj["metadata"].get("namespace", "")), str(obj["metadata"]["name"]))
            for obj in ev.kubernetes_objects()
        }

    production, preview_base = identities("production"), identities("preview-base")
    assert production and preview_base
    assert production & preview_base == set()


def test_the_pr_stack_needs_every_key_its_environment_holds_and_no_other() -> None:
    """Issue 14 §3, on the program itself: with the template and exactly PullRequest's values the PR stack builds;
    without any one of them it stops, naming that key."""
    document = stack_document("preview-pr-7")
    held = sorted(esc_keys("pull-request.yaml"))
    assert held and set(held) <= set(document)
    assert not isinstance(build("preview-pr-7", *parse_config(document)), ConfigError)
    for key in held:
        result = build("preview-pr-7", *parse_config({k: v for k, v in document.items() if k != key}))
        assert isinstance(result, ConfigError), f"the PR stack built without {key}"
        assert f'"{key}' in str(result), key
