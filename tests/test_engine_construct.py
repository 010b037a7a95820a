"""Construct every component through the running plugin, as the engine does for a YAML or TypeScript program.

One plugin process for the module (tests/engine.py starts it as the Python language host does, plays the
engine and its resource monitor). Inputs arrive as the engine marshals them: secrets as secret values, and a
value wired from another resource's output as an output value with its dependencies (known in an update,
unknown in a preview). Each case checks what the monitor received: the children, that every secret stays
secret (no configured or passed secret in clear anywhere), and that a wired input's dependency reaches the
children built from it. Invalid inputs must reach the engine as input-property errors with the schema's
camelCase paths, and what the engine prints (errorToMessage) must hold no traceback, no Python class name and
no secret value.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
import yaml

from tests.engine import (
    ROOT,
    UNKNOWN,
    ConstructOutcome,
    Plugin,
    contains_unknown,
    engine_message,
    is_secret_value,
    output,
    plain_strings,
    resource_urn,
    secret,
    started_plugin,
)
from tests.test_chain import full_config

SOURCE = resource_urn("dev", "random:index/randomPassword:RandomPassword", "source")
"""The consumer-program resource whose output feeds a wired input."""
NAMESPACE_SOURCE = resource_urn("dev", "kubernetes:core/v1:Namespace", "apps")


@pytest.fixture(scope="module")
def plugin() -> Iterator[Plugin]:
    with started_plugin() as started:
        yield started


@pytest.fixture(scope="module")
def config() -> tuple[dict[str, str], list[str]]:
    return full_config()


def secret_values(config: dict[str, str], secret_keys: list[str]) -> list[str]:
    """Every configured secret, as configured and stripped (spaces removed for the SMTP password)."""
    values = {config[k].strip() for k in secret_keys}
    values |= {v.replace(" ", "") for v in values}
    return sorted(v for v in values if len(v) >= 8)


def assert_no_secret_in_clear(outcome: ConstructOutcome, canaries: list[str]) -> None:
    """No canary in any registration's inputs, the component's outputs or the logs, outside secret values."""
    seen: list[tuple[str, str]] = []
    for registration in outcome.registrations:
        seen += [(registration.urn, s) for s in plain_strings(registration.object)]
        seen += [(registration.urn + " outputs", s) for s in plain_strings(registration.outputs or {})]
    if outcome.response is not None:
        seen += [("state", s) for s in plain_strings(outcome.state)]
    seen += [("log", entry.message) for entry in outcome.logs]
    leaks = [(where, canary[:6]) for where, text in seen for canary in canaries if canary in text]
    assert leaks == []


SECRET_FIELDS = {"kubernetes:core/v1:Secret": ("data", "stringData")}
"""Where a child type holds its secret content; anything else: ``value`` (pulumi-github's Actions secrets)."""


def assert_secret_content(outcome: ConstructOutcome, type_: str) -> None:
    """Every ``type_`` child sends its content as a secret (or lists it in additionalSecretOutputs)."""
    found = outcome.children(type_)
    assert found, (type_, [(r.type, r.name) for r in outcome.registrations])
    for registration in found:
        fields = [f for f in SECRET_FIELDS.get(type_, ("value",)) if f in registration.object]
        assert fields, (registration.name, sorted(registration.object))
        for name in fields:
            value = registration.object[name]
            assert is_secret_value(value) or name in registration.additional_secret_outputs, (registration.name, name)


@dataclass
class Case:
    """One component built through Construct."""

    component: str
    inputs: dict[str, Any]
    children: dict[str, int]
    """Type -> how many registrations of it."""
    secret_types: list[str] = field(default_factory=list)
    """Child types whose content must be secret."""
    wired: tuple[str, str, int] | None = None
    """(input, child type, count): the input is wired from SOURCE; that many such children carry it in their secret content."""
    stack: str = "dev"
    outputs: dict[str, Any] = field(default_factory=dict)


SECRET_TYPE = "kubernetes:core/v1:Secret"
ACTIONS_SECRET = "github:index/actionsSecret:ActionsSecret"
ENVIRONMENT_SECRET = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"

CASES = [
    # examples/yaml/Pulumi.yaml's three resources, with exactly its properties.
    Case(
        "GhcrPullSecret",
        {"namespaces": ["default", "apps"], "attachToDefaultServiceAccount": True},
        {SECRET_TYPE: 2, "kubernetes:core/v1:ServiceAccountPatch": 2},
        [SECRET_TYPE],
        outputs={"secretNames": {"default": "ghcr-pull-secret", "apps": "ghcr-pull-secret"}},
    ),
    Case(
        "PrometheusAuth",
        {"namespace": "default", "monitorNamespace": "monitoring", "monitorLabels": {"release": "kube-prometheus-stack"}},
        {SECRET_TYPE: 2, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor": 1},
        [SECRET_TYPE],
        outputs={"secretName": "prometheus-auth", "monitorSecretName": "default-prometheus-auth"},
    ),
    Case(
        "GitHubActionsSecrets",
        {"repository": "acme/platform", "required": ["APP_PRIVATE_KEY"]},
        # APP_PRIVATE_KEY; variables PULUMI_ORG, PULUMI_TOKEN_TYPE, APP_ID (CI logs in to Pulumi by OIDC)
        {ACTIONS_SECRET: 1, "github:index/actionsVariable:ActionsVariable": 3},
        [ACTIONS_SECRET],
    ),
    # The same components with a secret input wired from another resource's output.
    Case(
        "GhcrPullSecret",
        {"namespaces": ["apps"]},
        {SECRET_TYPE: 1},
        [SECRET_TYPE],
        wired=("token", SECRET_TYPE, 1),
    ),
    Case(
        "PrometheusAuth",
        {"namespace": "default"},
        {SECRET_TYPE: 2, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor": 1},
        [SECRET_TYPE],
        wired=("token", SECRET_TYPE, 2),
    ),
    Case(
        "GitHubActionsSecrets",
        {"repository": "acme/platform", "environment": "production"},
        {"github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret": 1},
        ["github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"],
        wired=("appPrivateKey", "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret", 1),
    ),
    Case(
        "FluxGitCredentials",
        {"repositoryUrl": "https://github.com/acme/cluster"},
        {SECRET_TYPE: 1, "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository": 1},
        [SECRET_TYPE],
        wired=("githubAppPrivateKey", SECRET_TYPE, 1),
    ),
    Case(
        "FluxImageAutomation",
        {"images": [{"image": "ghcr.io/acme/api", "semverRange": "^1.4.0"}], "authorName": "Image Bot", "authorEmail": "images@example.org"},
        {
            SECRET_TYPE: 1,
            "kubernetes:image.toolkit.fluxcd.io/v1:ImageRepository": 1,
            "kubernetes:image.toolkit.fluxcd.io/v1:ImagePolicy": 1,
            "kubernetes:image.toolkit.fluxcd.io/v1:ImageUpdateAutomation": 1,
        },
        [SECRET_TYPE],
        outputs={"pushBranch": "flux-image-updates", "imagePolicyNames": ["api"]},
    ),
    Case(
        "CertManagerDnsIssuer",
        {"email": "ops@example.com", "domain": "example.com", "wildcardHosts": ["*.pr.example.com"]},
        {SECRET_TYPE: 1, "kubernetes:cert-manager.io/v1:ClusterIssuer": 1, "kubernetes:cert-manager.io/v1:Certificate": 1},
        [SECRET_TYPE],
        wired=("token", SECRET_TYPE, 1),
    ),
    Case(
        "GrafanaOAuth",
        {"namespace": "monitoring", "domain": "example.com"},
        {SECRET_TYPE: 1},
        [SECRET_TYPE],
        wired=("clientSecret", SECRET_TYPE, 1),
        outputs={"callbackUrl": "https://grafana.example.com/login/github"},
    ),
    Case(
        "SecretChain",
        {},
        # issue 19: production writes CI's settings to its GitHub environment, which it creates
        {
            SECRET_TYPE: 6,
            ENVIRONMENT_SECRET: 1,
            "github:index/repositoryEnvironment:RepositoryEnvironment": 1,
            "kubernetes:cert-manager.io/v1:ClusterIssuer": 1,
        },
        [SECRET_TYPE, ENVIRONMENT_SECRET],
        stack="production",
    ),
]

WIRED_VALUES = {
    "token": {
        "GhcrPullSecret": "ghp_" + secrets.token_hex(18),
        "PrometheusAuth": secrets.token_hex(32),
        "CertManagerDnsIssuer": "dop_v1_" + secrets.token_hex(32),
    },
    "clientSecret": {"GrafanaOAuth": secrets.token_hex(20)},
}


def _wired_value(case: Case, config: dict[str, str]) -> str:
    assert case.wired is not None
    if case.wired[0] == "githubAppPrivateKey":
        return config["flux:githubAppPrivateKey"]
    if case.wired[0] == "appPrivateKey":
        return config["ci:githubAppPrivateKey"]
    return WIRED_VALUES[case.wired[0]][case.component]


def _ids(case: Case) -> str:
    return case.component + ("-wired-" + case.wired[0] if case.wired else "")


@pytest.mark.parametrize("dry_run", [False, True], ids=["update", "preview"])
@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_construct(plugin: Plugin, config: tuple[dict[str, str], list[str]], case: Case, dry_run: bool) -> None:
    values, secret_keys = config
    inputs = dict(case.inputs)
    input_dependencies: dict[str, list[str]] = {}
    canaries = secret_values(values, secret_keys)
    if case.wired:
        name = case.wired[0]
        wired = _wired_value(case, values)
        canaries.append(wired)
        # Update: the source exists, its output is known. Preview: it is being created, its output unknown.
        inputs[name] = output(is_secret=True, dependencies=[SOURCE]) if dry_run else output(wired, is_secret=True, dependencies=[SOURCE])
        input_dependencies[name] = [SOURCE]
    outcome = plugin.construct(
        case.component,
        "it",
        inputs,
        config=values,
        secret_keys=secret_keys,
        dry_run=dry_run,
        stack=case.stack,
        input_dependencies=input_dependencies,
    )
    assert outcome.failure is None, outcome.failure
    component = outcome.component
    assert component.type == f"secret-chain:index:{case.component}" and not component.custom
    counts: dict[str, int] = {}
    for child in outcome.children():
        counts[child.type] = counts.get(child.type, 0) + 1
        assert child.parent, child.urn
    for type_, count in case.children.items():
        assert counts.get(type_) == count, (type_, counts)
    for type_ in case.secret_types:
        assert_secret_content(outcome, type_)
    assert_no_secret_in_clear(outcome, canaries)
    for key, expected in case.outputs.items():
        assert outcome.state[key] == expected, (key, outcome.state.get(key))
    if case.wired:
        _, child_type, carrying = case.wired
        fields = SECRET_FIELDS.get(child_type, ("value",))
        carriers = [c for c in outcome.children(child_type) if any(SOURCE in c.property_dependencies.get(f, []) for f in fields)]
        assert len(carriers) == carrying, [(c.name, c.property_dependencies) for c in outcome.children(child_type)]
        for child in carriers:
            assert SOURCE in child.dependencies
            assert any(contains_unknown(child.object.get(f)) for f in fields) is dry_run, child.name


EXAMPLE = ROOT / "examples" / "yaml" / "Pulumi.yaml"


OWN_CONFIG = {"githubRepository": "acme/platform"}
"""The YAML example's own config values (examples/yaml/Pulumi.yaml ``config:``), as its operator sets them."""


@pytest.mark.parametrize("dry_run", [False, True], ids=["update", "preview"])
def test_yaml_example_constructs_as_written(plugin: Plugin, config: tuple[dict[str, str], list[str]], dry_run: bool) -> None:
    """Every resource of examples/yaml/Pulumi.yaml, with exactly its properties; its outputs exist."""
    values, secret_keys = config
    program = yaml.safe_load(EXAMPLE.read_text())
    states: dict[str, dict[str, Any]] = {}
    for name, spec in program["resources"].items():
        component = spec["type"].removeprefix("secret-chain:index:")
        # The example's own config values (`config:`, e.g. ${githubRepository}) as its operator sets them.
        properties = json.loads(re.sub(r"\$\{(\w+)\}", lambda m: OWN_CONFIG[m.group(1)], json.dumps(spec.get("properties", {}))))
        outcome = plugin.construct(component, name, properties, config=values, secret_keys=secret_keys, dry_run=dry_run)
        assert outcome.failure is None, (name, outcome.failure)
        assert outcome.children(), name
        assert_no_secret_in_clear(outcome, secret_values(values, secret_keys))
        states[name] = outcome.state
    for output_name, reference in program["outputs"].items():
        resource_name, _, prop = reference.removeprefix("${").removesuffix("}").partition(".")
        assert prop in states[resource_name], (output_name, reference, sorted(states[resource_name]))


@pytest.mark.parametrize("dry_run", [False, True], ids=["update", "preview"])
@pytest.mark.parametrize(
    ("component", "inputs", "secret_name"),
    [
        ("PrometheusAuth", {"namespace": "default"}, "prometheus-auth"),
        ("GrafanaOAuth", {"namespace": "monitoring", "domain": "example.com"}, "grafana-oauth"),
    ],
    ids=["PrometheusAuth", "GrafanaOAuth"],
)
def test_construct_without_a_rollout_key_generates_one(
    plugin: Plugin, config: tuple[dict[str, str], list[str]], component: str, inputs: dict[str, Any], secret_name: str, dry_run: bool
) -> None:
    """Issue 14 §4 through the plugin: no secret-chain:rolloutKey, so the component registers a RandomBytes child whose
    bytes the engine keeps secret (additionalSecretOutputs, as pulumi/pulumi-random sdk/python/pulumi_random/random_bytes.py
    asks), and its rollout annotations come from it."""
    from secret_chain.ops.offline import RANDOM_BYTES, random_bytes_stand_in

    values, secret_keys = config
    values = {k: v for k, v in values.items() if k != "secret-chain:rolloutKey"}
    secret_keys = [k for k in secret_keys if k in values]
    outcome = plugin.construct(component, "it", inputs, config=values, secret_keys=secret_keys, dry_run=dry_run)
    assert outcome.failure is None, outcome.failure
    (key,) = outcome.children(RANDOM_BYTES)
    assert key.parent == outcome.component.urn and key.name == "it-rollout-key"
    assert key.object == {"length": 32} and {"base64", "hex"} <= set(key.additional_secret_outputs)
    generated = random_bytes_stand_in(RANDOM_BYTES, "it-rollout-key", 32)["hex"]["value"]
    assert_no_secret_in_clear(outcome, [*secret_values(values, secret_keys), generated])
    annotations = outcome.state["rolloutAnnotations"]
    if dry_run:
        assert contains_unknown(annotations)
    else:
        assert list(annotations) == [f"secret-chain/rollout-hmac-sha256-{secret_name}"]


def test_component_parents_its_children(plugin: Plugin, config: tuple[dict[str, str], list[str]]) -> None:
    values, secret_keys = config
    outcome = plugin.construct("GhcrPullSecret", "pull", {"namespaces": ["a", "b"]}, config=values, secret_keys=secret_keys)
    component = outcome.component
    assert component.parent.endswith("::pulumi:pulumi:Stack::consumer-dev")
    assert {child.parent for child in outcome.children()} == {component.urn}
    assert outcome.response is not None and outcome.response.urn == component.urn


def test_secret_input_given_in_clear_is_kept_secret(plugin: Plugin, config: tuple[dict[str, str], list[str]]) -> None:
    """A program may pass a secret input as a plain string: the children still hold it only as a secret."""
    values, secret_keys = config
    token = "ghp_" + secrets.token_hex(18)
    outcome = plugin.construct("GhcrPullSecret", "pull", {"namespaces": ["a"], "token": token}, config=values, secret_keys=secret_keys)
    assert outcome.failure is None, outcome.failure
    assert_secret_content(outcome, SECRET_TYPE)
    assert_no_secret_in_clear(outcome, [token])


# Inputs other than secrets wired from another resource's output (a namespace created by the program): these
# need the components to accept pulumi.Input for such fields (issue 11 item 6, branch `inputs`).
WIRED_PLAIN = [
    ("GhcrPullSecret", {"namespaces": [output("apps", dependencies=[NAMESPACE_SOURCE])]}, "namespaces", SECRET_TYPE),
    ("PrometheusAuth", {"namespace": output("apps", dependencies=[NAMESPACE_SOURCE])}, "namespace", SECRET_TYPE),
    ("GrafanaOAuth", {"namespace": output("apps", dependencies=[NAMESPACE_SOURCE]), "domain": "example.com"}, "namespace", SECRET_TYPE),
]


@pytest.mark.parametrize("dry_run", [False, True], ids=["update", "preview"])
@pytest.mark.parametrize(("component", "inputs", "wired", "child_type"), WIRED_PLAIN, ids=[c[0] for c in WIRED_PLAIN])
def test_construct_with_wired_namespace(
    plugin: Plugin, config: tuple[dict[str, str], list[str]], component: str, inputs: dict[str, Any], wired: str, child_type: str, dry_run: bool
) -> None:
    values, secret_keys = config
    if dry_run:
        unknown = output(dependencies=[NAMESPACE_SOURCE])
        inputs = {**inputs, wired: [unknown] if wired == "namespaces" else unknown}
    outcome = plugin.construct(
        component, "wired", inputs, config=values, secret_keys=secret_keys, dry_run=dry_run, input_dependencies={wired: [NAMESPACE_SOURCE]}
    )
    assert outcome.failure is None, outcome.failure and engine_message(outcome.failure, inputs)
    children = outcome.children(child_type)
    assert children
    for child in children:
        assert NAMESPACE_SOURCE in child.dependencies, (child.name, child.dependencies)
        assert NAMESPACE_SOURCE in child.property_dependencies.get("metadata", []), child.property_dependencies
    assert_no_secret_in_clear(outcome, secret_values(values, secret_keys))


# ---- invalid inputs -------------------------------------------------------------------------------------------

PYTHON_TRACES = re.compile(r"Traceback|File \"|<class |Exception|ConfigError|SecretChainError|NoneType|\bstr\b|\bdict\b|\.py\b")


def assert_engine_sees_input_errors(outcome: ConstructOutcome, canaries: list[str]) -> str:
    """The failure is an input-properties error; what the engine prints holds no Python and no secret."""
    assert outcome.failure is not None, "Construct succeeded"
    assert outcome.failure.code is grpc.StatusCode.INVALID_ARGUMENT, outcome.failure
    printed = engine_message(outcome.failure, outcome.inputs)
    assert not PYTHON_TRACES.search(printed), printed
    assert [c[:6] for c in canaries if c in printed] == []
    assert outcome.children() == [], "nothing may be registered below a component with invalid inputs"
    return printed


def _python_name(text: str) -> list[str]:
    return re.findall(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", text)


def test_missing_required_input_is_an_input_error(plugin: Plugin, config: tuple[dict[str, str], list[str]]) -> None:
    values, secret_keys = config
    outcome = plugin.construct("GhcrPullSecret", "bad", {"attachToDefaultServiceAccount": True}, config=values, secret_keys=secret_keys)
    assert_engine_sees_input_errors(outcome, [])
    assert outcome.failure is not None
    assert [path for path, _ in outcome.failure.errors] == ["namespaces"]


def test_invalid_inputs_have_camel_case_paths(plugin: Plugin, config: tuple[dict[str, str], list[str]]) -> None:
    values, secret_keys = config
    inputs = {"namespaces": ["Not_A_Label"], "secretName": "Bad Name", "attachToDefaultServiceAccount": "yes"}
    outcome = plugin.construct("GhcrPullSecret", "bad", inputs, config=values, secret_keys=secret_keys)
    printed = assert_engine_sees_input_errors(outcome, [])
    assert outcome.failure is not None
    paths = sorted(path for path, _ in outcome.failure.errors)
    assert paths == ["attachToDefaultServiceAccount", "namespaces", "secretName"], printed
    reasons = " ".join(reason for _, reason in outcome.failure.errors)
    assert "DNS-1123" in reasons and "got string" in reasons, reasons
    assert [n for n in _python_name(printed) if n != "not_a_label"] == [], printed


def test_nested_input_error_path(plugin: Plugin, config: tuple[dict[str, str], list[str]]) -> None:
    values, secret_keys = config
    inputs = {
        "repositoryUrl": "https://github.com/acme/cluster",
        "imageAutomation": {"images": [{"image": "ghcr.io/acme/api", "semverRange": "not a range"}]},
    }
    outcome = plugin.construct("FluxGitCredentials", "bad", inputs, config=values, secret_keys=secret_keys)
    printed = assert_engine_sees_input_errors(outcome, [])
    assert outcome.failure is not None
    assert [path for path, _ in outcome.failure.errors] == ["imageAutomation.images[0].semverRange"], printed
    assert _python_name(printed) == [], printed


def test_invalid_secret_input_never_shows_its_value(plugin: Plugin, config: tuple[dict[str, str], list[str]]) -> None:
    """The engine prints the value at an error's path, secrets in clear: a secret input's problem is the message."""
    values, secret_keys = config
    fine_grained = "github_pat_" + secrets.token_hex(30)
    for token in (secret(fine_grained), fine_grained):
        outcome = plugin.construct("GhcrPullSecret", "bad", {"namespaces": ["a"], "token": token}, config=values, secret_keys=secret_keys)
        printed = assert_engine_sees_input_errors(outcome, [fine_grained, *secret_values(values, secret_keys)])
        assert "token" in printed and "classic personal access token" in printed, printed


def test_invalid_wired_secret_reaches_the_engine_without_its_value(plugin: Plugin, config: tuple[dict[str, str], list[str]]) -> None:
    """A wired secret is checked once known (update); its problem still reaches the engine as an input error."""
    values, secret_keys = config
    fine_grained = "github_pat_" + secrets.token_hex(30)
    inputs = {"namespaces": ["a"], "token": output(fine_grained, is_secret=True, dependencies=[SOURCE])}
    outcome = plugin.construct("GhcrPullSecret", "bad", inputs, config=values, secret_keys=secret_keys, input_dependencies={"token": [SOURCE]})
    assert outcome.failure is not None, "Construct succeeded"
    assert outcome.failure.code is grpc.StatusCode.INVALID_ARGUMENT, outcome.failure
    printed = engine_message(outcome.failure, outcome.inputs)
    assert not PYTHON_TRACES.search(printed), printed
    assert fine_grained not in printed and "token" in printed
    assert fine_grained not in plugin.stderr
    assert all(fine_grained not in entry.message for entry in outcome.logs)


def test_invalid_wired_input_has_its_path(plugin: Plugin, config: tuple[dict[str, str], list[str]]) -> None:
    """A wired namespace is checked once known (update): the engine gets an input error under its camelCase path."""
    values, secret_keys = config
    inputs = {"namespace": "default", "monitorNamespace": output("Not_A_Namespace", dependencies=[NAMESPACE_SOURCE])}
    dependencies = {"monitorNamespace": [NAMESPACE_SOURCE]}
    outcome = plugin.construct("PrometheusAuth", "bad", inputs, config=values, secret_keys=secret_keys, input_dependencies=dependencies)
    assert outcome.failure is not None, "Construct succeeded"
    assert outcome.failure.code is grpc.StatusCode.INVALID_ARGUMENT, outcome.failure
    printed = engine_message(outcome.failure, outcome.inputs)
    assert not PYTHON_TRACES.search(printed), printed
    assert [path for path, _ in outcome.failure.errors] == ["monitorNamespace"], printed
    assert "DNS-1123" in printed and _python_name(printed) == [], printed


def test_missing_config_is_reported_with_its_key_and_fix(plugin: Plugin, config: tuple[dict[str, str], list[str]]) -> None:
    values, secret_keys = config
    without = {k: v for k, v in values.items() if k != "namespace:imagePullSecret.token"}
    outcome = plugin.construct("GhcrPullSecret", "bad", {"namespaces": ["a"]}, config=without, secret_keys=secret_keys)
    printed = assert_engine_sees_input_errors(outcome, secret_values(values, secret_keys))
    assert 'config "namespace:imagePullSecret.token" is missing' in printed
    assert "pulumi env set" in printed


def test_several_problems_arrive_together(plugin: Plugin, config: tuple[dict[str, str], list[str]]) -> None:
    values, secret_keys = config
    short = secrets.token_hex(4)
    inputs = {"namespace": "Bad_NS", "app": "Bad App", "token": short}
    outcome = plugin.construct("PrometheusAuth", "bad", inputs, config=values, secret_keys=secret_keys)
    printed = assert_engine_sees_input_errors(outcome, [short, *secret_values(values, secret_keys)])
    assert outcome.failure is not None
    assert sorted(path for path, _ in outcome.failure.errors) == ["app", "namespace"], printed
    assert 'input "token"' in outcome.failure.message, printed


def test_unknown_input_in_preview_is_not_an_error(plugin: Plugin, config: tuple[dict[str, str], list[str]]) -> None:
    values, secret_keys = config
    inputs = {"namespaces": ["a"], "token": UNKNOWN}
    outcome = plugin.construct("GhcrPullSecret", "p", inputs, config=values, secret_keys=secret_keys, dry_run=True)
    assert outcome.failure is None, outcome.failure
    assert_secret_content(outcome, SECRET_TYPE)


def test_plugin_wrote_no_traceback(plugin: Plugin) -> None:
    """Last in the module: after every case above, valid and invalid, the plugin's stderr (shown to the user) holds no traceback."""
    assert "Traceback" not in plugin.stderr and "Error" not in plugin.stderr, plugin.stderr[-2000:]
    assert plugin.process.poll() is None, "the plugin exited"
