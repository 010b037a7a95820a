"""The policy pack's validate/remediate functions, called directly with fake ResourceValidationArgs.

``policy/`` is not a package: its module is loaded by path. The PolicyPack itself (``policy/__main__.py``)
is never created here, because constructing one starts the analyzer gRPC server.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Secret
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY, deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from components.offline import is_secret, unwrap
from components.program import main
from tests import policies
from tests.conftest import canary_config, rsa_pem
from tests.runtime import evaluate

P = policies.load()
TOKEN = "ghp_" + "a1B2" * 9
HEX = "0123456789abcdef" * 4


@dataclass
class Args:
    """What a ResourceValidationArgs offers the policies: type, props, urn, name, provider."""

    resource_type: str
    props: Any
    name: str = "res"
    urn: str = field(default="")
    provider: Any = None

    def __post_init__(self) -> None:
        self.urn = self.urn or f"urn:pulumi:production::secret-chain::{self.resource_type}::{self.name}"


def violations(validate: Any, resource_type: str, props: Any, name: str = "res") -> list[str]:
    found: list[str] = []
    validate(Args(resource_type, props, name), lambda message, urn=None: found.append(message))
    return found


def test_the_pack_lists_every_policy_once() -> None:
    names = [p.name for p in P.POLICIES]
    assert len(names) == len(set(names)) == 7
    assert all(isinstance(p, ResourceValidationPolicy) for p in P.POLICIES)
    assert P.kubernetes_secret_data_is_secret.enforcement_level is EnforcementLevel.REMEDIATE
    main_py = (Path(P.__file__).parent / "__main__.py").read_text()
    assert 'PolicyPack("secret-chain", policies=list(POLICIES))' in main_py


# --- 1. Kubernetes Secret data -----------------------------------------------------------------------

SECRET = "kubernetes:core/v1:Secret"


def _secret(**extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"}, "type": "Opaque", **extra}


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        (_secret(stringData={"token": TOKEN}), []),
        (_secret(data={"token": base64.b64encode(TOKEN.encode()).decode()}), []),
        (_secret(), []),
        (_secret(data={"token": TOKEN}), ['data["token"] holds a GitHub token (ghp_/gho_/ghu_/ghs_/ghr_) as plain text']),
        (_secret(data={"password": "hunter2!"}), ['data["password"] is not base64']),
        (_secret(data={"n": 5}), ['data["n"] is not a string']),
    ],
    ids=["stringData", "base64-data", "empty", "plain-token-in-data", "plain-text-in-data", "wrong-type"],
)
def test_secret_data_validation(props: dict[str, Any], expected: list[str]) -> None:
    found = violations(P.validate_secret_data, SECRET, props)
    assert len(found) == len(expected)
    for message, fragment in zip(found, expected, strict=True):
        assert fragment in message
        assert TOKEN not in message and "hunter2" not in message


def test_secret_data_remediation_marks_unmarked_values_secret() -> None:
    fixed = P.remediate_secret_data(Args(SECRET, _secret(stringData={"token": TOKEN})))
    assert isinstance(fixed["stringData"], Secret) and fixed["stringData"].value == {"token": TOKEN}
    assert fixed["metadata"] == {"name": "s", "namespace": "default"}
    assert P.unmarked_secret_fields(Args(SECRET, _secret(stringData={"token": TOKEN}))) == ["stringData"]


def test_secret_data_remediation_leaves_marked_and_other_resources_alone() -> None:
    assert P.remediate_secret_data(Args(SECRET, _secret(stringData=Secret({"token": TOKEN})))) is None
    assert P.remediate_secret_data(Args(SECRET, _secret())) is None
    assert P.remediate_secret_data(Args("kubernetes:core/v1:ConfigMap", {"data": {"a": "b"}})) is None


def test_secret_data_remediation_reads_the_engine_proxies() -> None:
    """Through pulumi_policy's own proxies, as Remediate builds them: secret markers are seen."""
    raw = {
        "type": "Opaque",
        "stringData": {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": {"token": TOKEN}},
        "data": {"other": "eQ=="},
    }
    props = unknown_checking_proxy(deserialize_properties(raw, True))
    fixed = P.remediate_secret_data(Args(SECRET, props))
    assert isinstance(fixed["stringData"], Secret) and fixed["stringData"].value == {"token": TOKEN}
    assert isinstance(fixed["data"], Secret) and fixed["data"].value == {"other": "eQ=="}
    marked = {**raw, "data": {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": {"other": "eQ=="}}}
    assert P.remediate_secret_data(Args(SECRET, unknown_checking_proxy(deserialize_properties(marked, True)))) is None


# --- 2. dockerconfigjson -----------------------------------------------------------------------------


def _docker(document: Any, *, key: str = ".dockerconfigjson", extra: dict[str, str] | None = None, as_data: bool = False) -> dict[str, Any]:
    text = document if isinstance(document, str) else json.dumps(document)
    values = {key: text, **(extra or {})}
    if as_data:
        return _secret(type="kubernetes.io/dockerconfigjson", data={k: base64.b64encode(v.encode()).decode() for k, v in values.items()})
    return _secret(type="kubernetes.io/dockerconfigjson", stringData=values)


def _auths(username: str = "octo", password: str = TOKEN, auth: str | None = None) -> dict[str, Any]:
    auth = base64.b64encode(f"{username}:{password}".encode()).decode() if auth is None else auth
    return {"auths": {"ghcr.io": {"username": username, "password": password, "auth": auth}}}


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        (_docker(_auths()), []),
        (_docker(_auths(), as_data=True), []),
        (_secret(stringData={"token": TOKEN}), []),  # not a dockerconfigjson Secret
        (_docker(_auths(), key=".dockercfg"), ["exactly .dockerconfigjson (has: .dockercfg)"]),
        (_docker(_auths(), extra={"extra": "x"}), ["exactly .dockerconfigjson (has: .dockerconfigjson, extra)"]),
        (_docker("{not json"), ["is not valid JSON"]),
        (_docker({"registries": {}}), ['no "auths" object']),
        (_docker({"auths": {}}), ['no "auths" object']),
        (_docker({"auths": {"ghcr.io": {"username": "octo", "password": TOKEN}}}), ['auths["ghcr.io"] lacks auth']),
        (_docker(_auths(auth=base64.b64encode(b"someone:else").decode())), ["auth is not base64 of username:password"]),
        (_secret(type="kubernetes.io/dockerconfigjson", data={".dockerconfigjson": "%%%"}), ["not decodable text"]),
    ],
    ids=["ok", "ok-data", "other-type", "wrong-key", "extra-key", "bad-json", "no-auths", "empty-auths", "no-auth", "auth-mismatch", "undecodable"],
)
def test_dockerconfigjson_shape(props: dict[str, Any], expected: list[str]) -> None:
    found = violations(P.validate_dockerconfigjson, SECRET, props)
    assert len(found) == len(expected), found
    for message, fragment in zip(found, expected, strict=True):
        assert fragment in message
        assert TOKEN not in message


# --- 3. ServiceMonitor credentials -------------------------------------------------------------------

MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"


def _monitor(endpoint: dict[str, Any], namespace: str = "monitoring") -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "api", "namespace": namespace},
        "spec": {"selector": {}, "endpoints": [{"port": "http", **endpoint}]},
    }


@pytest.mark.parametrize(
    ("resource_type", "props", "expected"),
    [
        (MONITOR, _monitor({"authorization": {"credentials": {"name": "auth", "key": "token"}}}), []),
        (MONITOR, _monitor({}), []),
        (
            MONITOR,
            _monitor({"authorization": {"credentials": {"name": "auth", "key": "token", "namespace": "default"}}}),
            ["authorization.credentials names namespace 'default'"],
        ),
        (
            MONITOR,
            _monitor({"authorization": {"credentials": {"name": "auth", "key": "t", "namespace": "monitoring"}}}),
            ["authorization.credentials has a namespace field"],
        ),
        (
            MONITOR,
            _monitor({"basicAuth": {"username": {"name": "a", "key": "u"}, "password": {"name": "a", "key": "p", "namespace": "apps"}}}),
            ["basicAuth.password names namespace 'apps'"],
        ),
        (
            MONITOR,
            _monitor({"bearerTokenSecret": {"name": "auth", "key": "token"}}),
            ["uses deprecated bearerTokenSecret; use authorization.credentials"],
        ),
        (
            MONITOR,
            _monitor({"bearerTokenSecret": {"name": "auth", "key": "token", "namespace": "default"}}),
            ["deprecated bearerTokenSecret", "bearerTokenSecret names namespace 'default'"],
        ),
        (MONITOR, _monitor({"bearerTokenFile": "/var/run/token"}), ["uses deprecated bearerTokenFile"]),
        (
            "kubernetes:monitoring.coreos.com/v1:PodMonitor",
            {
                "kind": "PodMonitor",
                "metadata": {"namespace": "m"},
                "spec": {"podMetricsEndpoints": [{"oauth2": {"clientSecret": {"name": "o", "key": "k", "namespace": "x"}}}]},
            },
            ["oauth2.clientSecret names namespace 'x'"],
        ),
        (
            "kubernetes:apiextensions.k8s.io:CustomResource",
            {**_monitor({"tlsConfig": {"keySecret": {"name": "k", "key": "k", "namespace": "x"}}}), "kind": "ServiceMonitor"},
            [],  # not a <group>/<version> token: only typed CustomResource tokens are inspected
        ),
        ("kubernetes:core/v1:Service", {"metadata": {"namespace": "a"}, "spec": {"endpoints": [{"bearerTokenFile": "x"}]}}, []),
    ],
    ids=[
        "ok",
        "no-auth",
        "other-ns",
        "own-ns-field",
        "basic-auth",
        "bearer-secret",
        "bearer-secret-other-ns",
        "bearer-file",
        "podmonitor",
        "generic-cr",
        "not-a-monitor",
    ],
)
def test_monitor_credentials(resource_type: str, props: dict[str, Any], expected: list[str]) -> None:
    found = violations(P.validate_monitor_credentials, resource_type, props)
    assert len(found) == len(expected), found
    for message, fragment in zip(found, expected, strict=True):
        assert fragment in message


# --- 4. secret-looking metadata and names --------------------------------------------------------------

PEM = rsa_pem()


@pytest.mark.parametrize(
    ("name", "metadata", "expected"),
    [
        ("pull-default", {"name": "ghcr-pull-secret", "labels": {"app": "api"}, "annotations": {"secret-chain/config-keys": "a:b"}}, []),
        ("pull", {"annotations": {"checksum/config": HEX}}, []),
        ("pull", {"annotations": {"note": TOKEN}}, ['metadata.annotations["note"] contains a GitHub token']),
        ("pull", {"annotations": {"note": "github_pat_" + "A1" * 20}}, ["contains a GitHub fine-grained token"]),
        ("pull", {"labels": {"token": "ghs_" + "x" * 36}}, ['metadata.labels["token"] contains a GitHub token']),
        ("pull", {"annotations": {"do": "dop_v1_" + "ab" * 32}}, ["contains a DigitalOcean token"]),
        ("pull", {"annotations": {"pulumi": "pul-" + "0a" * 20}}, ["contains a Pulumi access token"]),
        ("pull", {"annotations": {"key": PEM}}, ["contains a PEM private key"]),
        ("pull", {"annotations": {"token": HEX}}, ['metadata.annotations["token"] contains a long hex token']),
        ("pull", {"name": "s-" + HEX}, ["metadata.name contains a long hex token"]),
        ("pull", {"annotations": {TOKEN: "x"}}, ["metadata.annotations key contains a GitHub token"]),
        ("pull-" + TOKEN, {}, ["the resource name contains a GitHub token"]),
        ("gho_" + "Z" * 36, None, ["the resource name contains a GitHub token"]),
    ],
    ids=["clean", "checksum", "ghp", "pat", "ghs-label", "dop", "pul", "pem", "hex", "hex-name", "key", "res-name", "res-name-no-meta"],
)
def test_no_secret_looking_metadata(name: str, metadata: dict[str, Any] | None, expected: list[str]) -> None:
    props = {} if metadata is None else {"metadata": metadata}
    resource_type = "github:index/actionsSecret:ActionsSecret" if metadata is None else SECRET
    found = violations(P.validate_no_secret_metadata, resource_type, props, name)
    assert len(found) == len(expected), found
    for message, fragment in zip(found, expected, strict=True):
        assert fragment in message
        for secret in (TOKEN, HEX, PEM.splitlines()[1]):
            assert secret not in message


# --- 5. deprecated API versions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource_type", "api_version", "kind", "expected"),
    [
        ("kubernetes:core/v1:Secret", "v1", "Secret", None),
        ("kubernetes:apps/v1:Deployment", "apps/v1", "Deployment", None),
        ("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "monitoring.coreos.com/v1", "ServiceMonitor", None),
        ("kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig", "monitoring.coreos.com/v1alpha1", "AlertmanagerConfig", None),
        ("kubernetes:image.toolkit.fluxcd.io/v1:ImagePolicy", "image.toolkit.fluxcd.io/v1", "ImagePolicy", None),
        ("kubernetes:helm.sh/v3:Release", None, None, None),
        ("kubernetes:image.toolkit.fluxcd.io/v1beta1:ImageRepository", None, "ImageRepository", "use image.toolkit.fluxcd.io/v1"),
        (
            "kubernetes:image.toolkit.fluxcd.io/v1beta2:ImagePolicy",
            "image.toolkit.fluxcd.io/v1beta2",
            "ImagePolicy",
            "use image.toolkit.fluxcd.io/v1",
        ),
        (
            "kubernetes:source.toolkit.fluxcd.io/v1beta2:GitRepository",
            "source.toolkit.fluxcd.io/v1beta2",
            "GitRepository",
            "source.toolkit.fluxcd.io/v1",
        ),
        ("kubernetes:helm.toolkit.fluxcd.io/v2beta1:HelmRelease", None, "HelmRelease", "helm.toolkit.fluxcd.io/v2"),
        ("kubernetes:cert-manager.io/v1alpha2:Certificate", None, "Certificate", "cert-manager.io/v1"),
        ("kubernetes:cert-manager.io/v1alpha3:ClusterIssuer", None, "ClusterIssuer", "cert-manager.io/v1"),
        ("kubernetes:monitoring.coreos.com/v1alpha1:ServiceMonitor", None, "ServiceMonitor", "monitoring.coreos.com/v1"),
        ("kubernetes:extensions/v1beta1:Ingress", "extensions/v1beta1", "Ingress", "networking.k8s.io/v1"),
        ("kubernetes:networking.k8s.io/v1beta1:Ingress", None, "Ingress", "networking.k8s.io/v1"),
        ("kubernetes:policy/v1beta1:PodDisruptionBudget", None, "PodDisruptionBudget", "policy/v1"),
        ("kubernetes:batch/v1beta1:CronJobPatch", None, "CronJobPatch", "batch/v1"),
        ("kubernetes:apiextensions.k8s.io:CustomResource", "cert-manager.io/v1alpha2", "Issuer", "cert-manager.io/v1"),
        ("kubernetes:apiextensions.k8s.io:CustomResource", "cert-manager.io/v1", "Issuer", None),
    ],
)
def test_deprecated_api_versions(resource_type: str, api_version: str | None, kind: str | None, expected: str | None) -> None:
    props: dict[str, Any] = {}
    if api_version is not None:
        props["apiVersion"] = api_version
    if kind is not None:
        props["kind"] = kind
    found = violations(P.validate_api_versions, resource_type, props)
    if expected is None:
        assert found == []
    else:
        (message,) = found  # the type token and apiVersion name the same version: reported once
        assert "is deprecated or removed" in message and expected in message


def test_deprecated_api_versions_ignore_other_providers() -> None:
    assert violations(P.validate_api_versions, "github:index/actionsSecret:ActionsSecret", {"apiVersion": "extensions/v1beta1"}) == []


# --- 6. GitHub secret arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource_type", "props", "expected"),
    [
        ("github:index/actionsSecret:ActionsSecret", {"repository": "r", "secretName": "S", "value": TOKEN}, []),
        (
            "github:index/actionsSecret:ActionsSecret",
            {"repository": "r", "secretName": "S", "plaintextValue": TOKEN},
            ["plaintextValue is deprecated; use value"],
        ),
        ("github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret", {"encryptedValue": "abc"}, ["encryptedValue is deprecated"]),
        (
            "github:index/actionsOrganizationSecret:ActionsOrganizationSecret",
            {"plaintextValue": "a", "encryptedValue": "b"},
            ["plaintextValue", "encryptedValue"],
        ),
        ("kubernetes:core/v1:Secret", {"plaintextValue": "a"}, []),
    ],
    ids=["value", "plaintext", "encrypted", "both", "not-github"],
)
def test_github_secret_args(resource_type: str, props: dict[str, Any], expected: list[str]) -> None:
    found = violations(P.validate_github_secret_args, resource_type, props)
    assert len(found) == len(expected)
    for message, fragment in zip(found, expected, strict=True):
        assert fragment in message
        assert TOKEN not in message


# --- 7. PR stacks stay in their namespace ---------------------------------------------------------------


def _urn(stack: str, resource_type: str, name: str = "res") -> str:
    return f"urn:pulumi:{stack}::secret-chain::secret-chain:index:SecretChain${resource_type}::{name}"


def _object(kind: str, namespace: str | None = None, name: str = "obj", api_version: str = "v1", **extra: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **extra}


@dataclass
class _Provider:
    resource_type: str
    props: Any


def confinement(stack: str, resource_type: str, props: Any, provider: Any = None) -> list[str]:
    found: list[str] = []
    args = Args(resource_type, props, "res", _urn(stack, resource_type), provider)
    P.validate_pr_stack_confinement(args, lambda message, urn=None: found.append(message))
    return found


PR = "preview-pr-7"
CLUSTER_ISSUER = "kubernetes:cert-manager.io/v1:ClusterIssuer"
CRB = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"


@pytest.mark.parametrize(
    ("stack", "resource_type", "props", "expected"),
    [
        # a PR stack: its Namespace and objects in it
        (PR, "kubernetes:core/v1:Namespace", _object("Namespace", name=PR), []),
        (PR, SECRET, _object("Secret", PR, "ghcr-pull-secret"), []),
        (PR, MONITOR, _object("ServiceMonitor", PR, api_version="monitoring.coreos.com/v1"), []),
        (PR, "kubernetes:core/v1:ServiceAccountPatch", _object("ServiceAccount", PR, "default"), []),
        (PR, "kubernetes:helm.sh/v3:Release", {"chart": "grafana", "namespace": PR}, []),
        (PR, "kubernetes:yaml/v2:ConfigGroup", {"objs": []}, []),  # a component: its children are checked one by one
        (PR, "secret-chain:index:GhcrPullSecret", {}, []),
        (PR, "pulumi:providers:kubernetes", {"namespace": "default"}, []),
        # a PR stack escaping its namespace
        (PR, "kubernetes:core/v1:Namespace", _object("Namespace", name="preview-pr-8"), ["may create only its own Namespace 'preview-pr-7'"]),
        (PR, SECRET, _object("Secret", "default"), ["Secret is written to namespace 'default'; stack preview-pr-7 may write only"]),
        (PR, SECRET, _object("Secret", "preview-pr-8"), ["namespace 'preview-pr-8'"]),
        (PR, SECRET, _object("Secret"), ["no namespace (cluster-scoped, or the provider's default namespace)"]),
        (PR, "kubernetes:core/v1:ServiceAccountPatch", _object("ServiceAccount", "kube-system", "default"), ["ServiceAccount is written to"]),
        (PR, "kubernetes:helm.sh/v3:Release", {"chart": "grafana", "namespace": "monitoring"}, ["Release is written to namespace 'monitoring'"]),
        (PR, CLUSTER_ISSUER, _object("ClusterIssuer", api_version="cert-manager.io/v1"), ["ClusterIssuer is cluster-scoped"]),
        (PR, CLUSTER_ISSUER, _object("ClusterIssuer", PR, api_version="cert-manager.io/v1"), ["ClusterIssuer is cluster-scoped"]),
        (PR, CRB, _object("ClusterRoleBinding", api_version="rbac.authorization.k8s.io/v1"), ["ClusterRoleBinding is cluster-scoped"]),
        (
            PR,
            "kubernetes:apiextensions.k8s.io:CustomResource",
            _object("GitRepository", "flux-system", api_version="source.toolkit.fluxcd.io/v1"),
            ["GitRepository is written to namespace 'flux-system'"],
        ),
        (PR, "kubernetes:apiextensions.k8s.io:CustomResource", _object("ClusterIssuer", api_version="cert-manager.io/v1"), ["is cluster-scoped"]),
        (PR, "github:index/actionsSecret:ActionsSecret", {"repository": "r", "secretName": "S"}, ["lives outside Kubernetes"]),
        (PR, "digitalocean:index/dnsRecord:DnsRecord", {"domain": "example.com"}, ["lives outside Kubernetes"]),
        # other stacks: anything but PR namespaces
        ("production", SECRET, _object("Secret", "cert-manager"), []),
        ("preview-base", CLUSTER_ISSUER, _object("ClusterIssuer", api_version="cert-manager.io/v1"), []),
        ("preview-base", "github:index/actionsSecret:ActionsSecret", {"repository": "r"}, []),
        ("preview-base", "kubernetes:core/v1:Namespace", _object("Namespace", name="preview-base"), []),
        ("preview-pr-0", SECRET, _object("Secret", "default"), []),  # not a PR stack name (N starts at 1)
        ("production", SECRET, _object("Secret", PR), ["Secret is written to namespace 'preview-pr-7', which belongs to stack preview-pr-7"]),
        ("preview-base", "kubernetes:core/v1:Namespace", _object("Namespace", name=PR), ["Namespace 'preview-pr-7' belongs to stack"]),
        (
            "preview-base",
            CRB,
            _object(
                "ClusterRoleBinding",
                api_version="rbac.authorization.k8s.io/v1",
                subjects=[{"kind": "ServiceAccount", "name": "default", "namespace": PR}],
                roleRef={"kind": "ClusterRole", "name": "cluster-admin"},
            ),
            ["cluster-scoped ClusterRoleBinding names namespace 'preview-pr-7' (subjects[0].namespace)"],
        ),
        (
            "production",
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration",
            _object(
                "ValidatingWebhookConfiguration",
                api_version="admissionregistration.k8s.io/v1",
                webhooks=[{"name": "w", "clientConfig": {"service": {"name": "hook", "namespace": PR}}}],
            ),
            ["names namespace 'preview-pr-7' (webhooks[0].clientConfig.service.namespace)"],
        ),
    ],
)
def test_pr_stack_confinement(stack: str, resource_type: str, props: dict[str, Any], expected: list[str]) -> None:
    found = confinement(stack, resource_type, props)
    assert len(found) == len(expected), found
    for message, fragment in zip(found, expected, strict=True):
        assert fragment in message


def test_pr_stack_confinement_reads_the_kubernetes_provider_default_namespace() -> None:
    secret = _object("Secret")  # no metadata.namespace: the provider's namespace applies
    assert confinement(PR, SECRET, secret, _Provider("pulumi:providers:kubernetes", {"namespace": PR})) == []
    (message,) = confinement(PR, SECRET, secret, _Provider("pulumi:providers:kubernetes", {"namespace": "default"}))
    assert "namespace 'default'" in message
    assert confinement(PR, SECRET, _object("Secret", PR), _Provider("pulumi:providers:kubernetes", {"namespace": "default"})) == []


def test_pr_stack_confinement_through_the_engine_proxies() -> None:
    """Props as Analyze builds them; a value unknown during preview is skipped, not reported."""
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # pulumi_policy's UNKNOWN_STRING_VALUE
    escaped = unknown_checking_proxy(deserialize_properties(_object("Secret", "default"), True))
    assert len(confinement(PR, SECRET, escaped)) == 1
    issuer = _object("ClusterIssuer", api_version="cert-manager.io/v1", spec={"acme": {"email": unknown, "solvers": [{"namespace": PR}]}})
    (message,) = confinement("preview-base", CLUSTER_ISSUER, unknown_checking_proxy(deserialize_properties(issuer, True)))
    assert "solvers[0].namespace" in message


def test_stack_name_comes_from_the_urn() -> None:
    assert P.stack_of("urn:pulumi:preview-pr-12::secret-chain::kubernetes:core/v1:Secret::s") == "preview-pr-12"
    assert P.stack_of("urn:pulumi:preview-pr-12::p::a:b:C$kubernetes:core/v1:Secret::x::y") == "preview-pr-12"
    assert P.stack_of("not-a-urn") is None
    assert [s for s in ("preview-pr-1", "preview-pr-123456789", "preview-pr-01", "preview-pr-", "preview-base") if P.PR_STACK.fullmatch(s)] == [
        "preview-pr-1",
        "preview-pr-123456789",
    ]


# --- the chain itself passes every policy -------------------------------------------------------------


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
@pytest.mark.parametrize("stack", ["production", "preview-base", "preview-pr-42"])
def test_the_chain_passes_every_policy(preview: bool, stack: str) -> None:
    config, secret_keys = canary_config()
    if stack != "production":
        config["secret-chain:escEnvironment"] = "acme/secret-chain/Preview"
    ev = evaluate(main, config=config, secret_keys=secret_keys, preview=preview, stack=stack)
    found: list[str] = []
    for reg in ev.resources:
        for policy in P.POLICIES:
            policy.validate(Args(reg.type, unwrap(reg.inputs), reg.name, reg.urn), lambda m, urn=None: found.append(m))
        # the remediation sees the markers the engine would send: the chain's Secret data is already secret
        marked = {k: Secret(unwrap(v)) if is_secret(v) else unwrap(v) for k, v in reg.inputs.items()}
        assert P.remediate_secret_data(Args(reg.type, marked, reg.name, reg.urn)) is None
    assert found == []
    assert any(r.type == SECRET for r in ev.resources) and any(r.type == MONITOR for r in ev.resources)
    assert any(r.type == "kubernetes:core/v1:Namespace" for r in ev.resources) == stack.startswith("preview-pr-")
