"""The policy pack as a whole: what ``policy/__main__.py`` builds, how pulumi-policy serves it (config schemas,
configuration, analysis), and the chain itself passing every policy.

The guard rails one by one, each beside its attacks: tests/test_policy_secrets.py, tests/test_policy_namespaces.py,
tests/test_policy_api_versions.py. The PolicyPack itself is never constructed (it starts a gRPC server and
blocks); ``__main__.py`` runs with it replaced by a recorder, and the recorded policies are served by the
SDK's own analyzer servicer, the object PolicyPack hands to gRPC.
"""

from __future__ import annotations

import runpy
from typing import Any

import pulumi_policy
import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Secret, StackValidationPolicy
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY
from pulumi_policy.policy import _PolicyAnalyzerServicer

from secret_chain.ops.offline import is_secret, unwrap
from secret_chain.program import main
from tests import policies
from tests.conftest import canary_config
from tests.policies import Args, Resource, StackArgs, run
from tests.runtime import evaluate

P = policies.load()
TOKEN = "ghp_" + "a1B2" * 9
SECRET = "kubernetes:core/v1:Secret"
MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"

NAMES = [
    "kubernetes-secret-data-is-secret",
    "dockerconfigjson-shape",
    "monitor-credentials-same-namespace",
    "monitor-secrets-in-monitor-namespace",
    "no-secret-looking-metadata",
    "no-secret-shaped-plain-values",
    "no-deprecated-api-versions",
    "github-secret-no-deprecated-args",
    "pr-stack-allow-list",
    "pr-stack-confined-to-its-namespace",
]


def test_the_pack_lists_every_policy_once() -> None:
    assert [p.name for p in P.POLICIES] == NAMES
    assert all(isinstance(p, ResourceValidationPolicy) for p in P.POLICIES if p.name != "monitor-secrets-in-monitor-namespace")
    assert isinstance(P.monitor_secrets_in_monitor_namespace, StackValidationPolicy)
    assert P.kubernetes_secret_data_is_secret.enforcement_level is EnforcementLevel.REMEDIATE
    assert {p.enforcement_level for p in P.POLICIES if p is not P.kubernetes_secret_data_is_secret} == {EnforcementLevel.MANDATORY}


# --- the pack in pulumi-policy's own machinery -----------------------------------------------------------


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> _PolicyAnalyzerServicer:
    """``policy/__main__.py`` run as the CLI runs it, its PolicyPack's policies served by the SDK's analyzer servicer."""
    recorded: dict[str, Any] = {}

    class Recorder:
        def __init__(self, name: str, policies: list[Any], **kwargs: Any) -> None:
            recorded.update(name=name, policies=policies, **kwargs)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", Recorder)
    monkeypatch.syspath_prepend(str(policies.POLICY_DIR))
    runpy.run_path(str(policies.POLICY_DIR / "__main__.py"), run_name="__main__")
    assert recorded["name"] == "secret-chain"
    return _PolicyAnalyzerServicer(recorded["name"], "0.0.1", recorded["policies"], EnforcementLevel.ADVISORY)


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(value)
    return message


def _configure(servicer: _PolicyAnalyzerServicer, config: dict[str, dict[str, Any]]) -> None:
    request = proto.ConfigureAnalyzerRequest(
        policyConfig={name: proto.PolicyConfig(enforcementLevel=proto.MANDATORY, properties=_struct(props)) for name, props in config.items()}
    )
    servicer.Configure(request, None)


def _analyze(servicer: _PolicyAnalyzerServicer, resource_type: str, props: dict[str, Any], stack: str = "production") -> list[tuple[str, str]]:
    urn = f"urn:pulumi:{stack}::secret-chain::{resource_type}::res"
    request = proto.AnalyzeRequest(type=resource_type, properties=_struct(props), urn=urn, name="res")
    return [(d.policyName, d.message) for d in servicer.Analyze(request, None).diagnostics]


def test_the_pack_loads_in_pulumi_policy_with_every_config_schema(served: _PolicyAnalyzerServicer) -> None:
    """GetAnalyzerInfo (what ``pulumi policy publish`` and the engine read): every policy, and each tunable with its default."""
    info = served.GetAnalyzerInfo(None, None)
    assert info.supportsConfig
    assert [p.name for p in info.policies] == NAMES
    schemas = {p.name: json_format.MessageToDict(p.configSchema).get("properties", {}) for p in info.policies}
    assert sorted(schemas["no-secret-looking-metadata"]) == ["digestAnnotations", "extraSecretShapes"]
    assert schemas["no-secret-looking-metadata"]["digestAnnotations"]["default"] == P.DIGEST_ANNOTATIONS
    assert sorted(schemas["pr-stack-confined-to-its-namespace"]) == [
        "clusterScopedKinds",
        "namespacedKinds",
        "prNamespaceLabelKeys",
        "prStackPattern",
    ]
    assert schemas["pr-stack-confined-to-its-namespace"]["prNamespaceLabelKeys"]["default"] == list(P.PR_NAMESPACE_LABEL_KEYS)
    assert sorted(schemas["pr-stack-allow-list"]) == ["allowedTypes", "clusterIdentifiers", "defaultProviders", "prStackPattern"]
    assert schemas["pr-stack-allow-list"]["allowedTypes"]["default"] == list(P.PR_ALLOWED_TYPES)
    assert sorted(schemas["no-secret-shaped-plain-values"]) == ["extraSecretShapes", "secretInputs"]
    assert schemas["pr-stack-confined-to-its-namespace"]["namespacedKinds"]["default"] == list(P.NAMESPACED_KINDS)
    assert schemas["pr-stack-confined-to-its-namespace"]["prStackPattern"]["default"] == P.PR_STACK.pattern
    assert len(schemas["no-deprecated-api-versions"]["deprecatedApis"]["default"]) == len(P.DEPRECATED_APIS)
    assert schemas["monitor-secrets-in-monitor-namespace"]["unmanagedSecrets"]["default"] == []
    assert schemas["kubernetes-secret-data-is-secret"]["extraSecretShapes"]["default"] == []
    types = {p.name: p.policy_type for p in info.policies}
    assert types["monitor-secrets-in-monitor-namespace"] == proto.PolicyType.POLICY_TYPE_STACK
    assert types["pr-stack-confined-to-its-namespace"] == proto.PolicyType.POLICY_TYPE_RESOURCE


def test_the_served_pack_reads_its_config(served: _PolicyAnalyzerServicer) -> None:
    """Configure → Analyze as the engine calls them: the defaults apply unconfigured, a stack's config changes them."""
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "preview-pr-3"}}
    found = _analyze(served, "kubernetes:example.com/v1:Widget", widget, stack="preview-pr-3")
    assert [name for name, _ in found] == ["pr-stack-allow-list", "pr-stack-confined-to-its-namespace"]
    assert "not known to be namespaced" in found[1][1]
    annotated = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": {"example.com/etag": "ab" * 16}}}
    assert [name for name, _ in _analyze(served, "kubernetes:core/v1:ConfigMap", annotated)] == ["no-secret-looking-metadata"]
    _configure(
        served,
        {
            "pr-stack-confined-to-its-namespace": {"namespacedKinds": ["example.com/Widget"]},
            "pr-stack-allow-list": {"allowedTypes": [*P.PR_ALLOWED_TYPES, "kubernetes:example.com/v1:Widget"]},
            "no-secret-looking-metadata": {"digestAnnotations": {"example.com/etag": "md5"}},
        },
    )
    assert _analyze(served, "kubernetes:example.com/v1:Widget", widget, stack="preview-pr-3") == []
    assert _analyze(served, "kubernetes:core/v1:ConfigMap", annotated) == []


def test_the_served_pack_analyzes_the_stack_and_remediates(served: _PolicyAnalyzerServicer) -> None:
    """AnalyzeStack runs the stack policy; Remediate marks a CustomResource Secret's data secret."""
    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "api", "namespace": "monitoring"},
        "spec": {"endpoints": [{"authorization": {"credentials": {"name": "auth", "key": "token"}}}]},
    }
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "auth", "namespace": "app"}, "stringData": {"token": TOKEN}}
    resources = [
        proto.AnalyzerResource(type=MONITOR, properties=_struct(monitor), urn="urn:pulumi:production::p::x::sm", name="sm"),
        proto.AnalyzerResource(type="kubernetes:v1:Secret", properties=_struct(secret), urn="urn:pulumi:production::p::x::s", name="s"),
    ]
    response = served.AnalyzeStack(proto.AnalyzeStackRequest(resources=resources), None)
    assert [(d.policyName, d.urn) for d in response.diagnostics] == [("monitor-secrets-in-monitor-namespace", "urn:pulumi:production::p::x::sm")]
    request = proto.AnalyzeRequest(type="kubernetes:v1:Secret", properties=_struct(secret), urn="urn:pulumi:production::p::x::s", name="s")
    remediations = served.Remediate(request, None).remediations
    assert [r.policyName for r in remediations] == ["kubernetes-secret-data-is-secret"]
    marked = json_format.MessageToDict(remediations[0].properties)["stringData"]
    assert marked[SPECIAL_SIG_KEY] == SPECIAL_SECRET_SIG and marked["value"] == {"token": TOKEN}


# --- the chain itself passes every policy -------------------------------------------------------------


@pytest.mark.parametrize("rollout_key", ["configured", "generated"])
@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
@pytest.mark.parametrize("stack", ["production", "preview-base", "preview-pr-42", "preview-pr-42+cluster"])
def test_the_chain_passes_every_policy(preview: bool, stack: str, rollout_key: str) -> None:
    config, secret_keys = canary_config()
    stack, cluster = stack.removesuffix("+cluster"), stack.endswith("+cluster")
    if cluster:  # the chain's own Kubernetes provider, from secret-chain:digitaloceanCluster (issue 19)
        config.update({"secret-chain:digitaloceanCluster": "preview", "digitalocean:token": "dop_v1_" + "cd" * 32})
        secret_keys = [*secret_keys, "digitalocean:token"]
    if rollout_key == "generated":  # the chain registers a RandomBytes for it (issue 14 §4)
        del config["secret-chain:rolloutKey"]
        secret_keys.remove("secret-chain:rolloutKey")
    if stack != "production":
        config["secret-chain:escEnvironment"] = "acme/secret-chain/Preview"
    if stack == "preview-base":  # it runs no application: give it the shared objects it does build (issuer, wildcard certificates)
        config.update(
            {
                "gateway:digitaloceanDnsToken": "dop_v1_" + "ab" * 32,
                "secret-chain:domain": "example.com",
                "secret-chain:acmeEmail": "ops@example.com",
                "secret-chain:gatewayNamespace": "gateway",
            }
        )
        secret_keys = [*secret_keys, "gateway:digitaloceanDnsToken"]
    ev = evaluate(main, config=config, secret_keys=secret_keys, preview=preview, stack=stack)
    found: list[str] = []
    for reg in ev.registrations:  # the engine analyses every registration: the stack, components, providers
        for policy in P.POLICIES:
            if isinstance(policy, ResourceValidationPolicy):
                found += run(policy.validate, Args(reg.type, unwrap(reg.inputs), reg.name, reg.urn, parent=reg.parent or None))
    for reg in ev.resources:
        # the remediation sees the markers the engine would send: the chain's Secret data is already secret
        marked = {k: Secret(unwrap(v)) if is_secret(v) else unwrap(v) for k, v in reg.inputs.items()}
        assert P.remediate_secret_data(Args(reg.type, marked, reg.name, reg.urn)) is None
    stack_resources = [Resource(reg.type, unwrap(reg.inputs), reg.name, reg.urn) for reg in ev.resources]
    found += run(P.monitor_secrets_in_monitor_namespace.validate, StackArgs(stack_resources))
    assert found == []
    # preview-base runs no application, so no ServiceMonitor
    assert any(r.type == SECRET for r in ev.resources) and any(r.type == MONITOR for r in ev.resources) == (stack != "preview-base")
    assert any(r.type == "kubernetes:core/v1:Namespace" for r in ev.resources) == stack.startswith("preview-pr-")
    assert any(r.type == "pulumi:providers:kubernetes" for r in ev.resources) == cluster


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_the_bootstrap_stack_passes_every_policy(preview: bool) -> None:
    """Its Pulumi Cloud resources (ESC environments, the OIDC issuer and policies) are secret where their schema says."""
    from tests.test_bootstrap import stack_settings

    ev = evaluate(main, config=stack_settings(), stack="bootstrap", preview=preview)
    assert any(r.type.startswith("pulumiservice:") for r in ev.resources)
    found: list[str] = []
    for reg in ev.registrations:
        for policy in P.POLICIES:
            if isinstance(policy, ResourceValidationPolicy):
                found += run(policy.validate, Args(reg.type, unwrap(reg.inputs), reg.name, reg.urn, parent=reg.parent or None))
    assert found == []


def test_the_chain_monitor_fails_the_stack_policy_when_its_secret_moves() -> None:
    """The stack policy is not vacuous on the chain: the monitor's Secret written to the app namespace instead is caught."""
    config, secret_keys = canary_config()
    ev = evaluate(main, config=config, secret_keys=secret_keys, stack="production")
    resources = []
    for reg in ev.resources:
        props = unwrap(reg.inputs)
        if reg.type == SECRET and props["metadata"]["namespace"] == "monitoring":
            props = {**props, "metadata": {**props["metadata"], "namespace": "default"}}
        resources.append(Resource(reg.type, props, reg.name, reg.urn))
    (message,) = run(P.validate_monitor_secret_namespaces, StackArgs(resources))
    assert "reads Secret 'default-prometheus-auth' from namespace 'monitoring'; the stack registers it only in 'default'" in message
