"""The pack's secret guard rails (``policy/policy_secrets.py``), one table per policy.

Each row is a guard rail and either what it lets through (``expected == ()``) or an attack on it and the
violation that stops it. Rows marked ``# attack`` were ways past the pack before issue 13: each failed
against the pack as it was. Messages are checked never to repeat a secret-looking value.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pytest
from pulumi_policy import Secret
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY, deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from tests import policies
from tests.conftest import rsa_pem
from tests.policies import Args, Resource, StackArgs, run

P = policies.load()
TOKEN = "ghp_" + "a1B2" * 9
HEX = "0123456789abcdef" * 4  # 64 hex characters: the shape of a sha256 digest and of `openssl rand -hex 32`
PEM = rsa_pem()
NEVER_SHOWN = (TOKEN, HEX, PEM.splitlines()[1], "hunter2")

SECRET = "kubernetes:core/v1:Secret"
CR_SECRET = "kubernetes:v1:Secret"  # what pulumi_kubernetes.apiextensions.CustomResource(api_version="v1", kind="Secret") registers
GENERIC_CR = "kubernetes:apiextensions.k8s.io:CustomResource"
MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
POD_MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
PROBE = "kubernetes:monitoring.coreos.com/v1:Probe"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@dataclass(frozen=True)
class Case:
    """One row: the guard rail, what is tried, the resource, and the violations expected (message fragments)."""

    rail: str
    tried: str
    resource_type: str
    props: Any
    expected: tuple[str, ...] = ()
    config: Mapping[str, Any] | None = None
    name: str = "res"

    @property
    def id(self) -> str:
        return self.tried


def check(validate: Any, case: Case) -> None:
    found = run(validate, Args(case.resource_type, case.props, case.name, config=case.config))
    assert len(found) == len(case.expected), found
    for message, fragment in zip(found, case.expected, strict=True):
        assert fragment in message, (fragment, message)
        for secret in NEVER_SHOWN:
            assert secret not in message


def _secret(**extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"}, "type": "Opaque", **extra}


# --- 1. kubernetes-secret-data-is-secret --------------------------------------------------------------

R1 = "Secret data is base64, never a plain token"
SECRET_DATA = [
    Case(R1, "stringData", SECRET, _secret(stringData={"token": TOKEN})),
    Case(R1, "base64-data", SECRET, _secret(data={"token": b64(TOKEN)})),
    Case(R1, "empty", SECRET, _secret()),
    Case(
        R1,
        "plain-token-in-data",
        SECRET,
        _secret(data={"token": TOKEN}),
        ('data["token"] holds a GitHub token (ghp_/gho_/ghu_/ghs_/ghr_) as plain text',),
    ),
    Case(R1, "plain-text-in-data", SECRET, _secret(data={"password": "hunter2!"}), ('data["password"] is not base64',)),
    Case(R1, "wrong-type", SECRET, _secret(data={"n": 5}), ('data["n"] is not a string',)),
    Case(
        R1,
        "a CRD of another group named Secret",
        "kubernetes:example.com/v1:Secret",
        {"apiVersion": "example.com/v1", "kind": "Secret", "data": {"a": TOKEN}},
    ),
    # attack: the same Secret registered through CustomResource is decided by apiVersion+kind
    Case(R1, "CustomResource(v1, Secret)", CR_SECRET, _secret(data={"token": TOKEN}), ('data["token"] holds a GitHub token',)),
    Case(
        R1,
        "generic CustomResource token, apiVersion v1 kind Secret",
        GENERIC_CR,
        _secret(data={"token": TOKEN}),
        ('data["token"] holds a GitHub token',),
    ),
    # attack: a SecretList creates every item as a Secret
    Case(
        R1,
        "SecretList items",
        "kubernetes:core/v1:SecretList",
        {"apiVersion": "v1", "kind": "SecretList", "items": [_secret(data={"token": TOKEN})]},
        ('items[0] data["token"] holds a GitHub token',),
    ),
    # item 13: secret shapes are extended by config
    Case(
        R1,
        "config extraSecretShapes: a Slack token in data",
        SECRET,
        _secret(data={"slack": "xoxb-" + "1234567890-abcdefghij"}),
        ('data["slack"] holds a Slack token as plain text',),
        config={"extraSecretShapes": [{"description": "a Slack token", "pattern": "xox[abprs]-[A-Za-z0-9-]{10,}"}]},
    ),
]


@pytest.mark.parametrize("case", SECRET_DATA, ids=lambda c: c.id)
def test_secret_data_validation(case: Case) -> None:
    check(P.validate_secret_data, case)


@pytest.mark.parametrize("resource_type", [SECRET, CR_SECRET, GENERIC_CR, "kubernetes:core/v1:SecretPatch"])
def test_secret_data_remediation_marks_unmarked_values_secret(resource_type: str) -> None:
    """Every resource that is a core/v1 Secret by apiVersion+kind gets its data marked (CustomResource: attack)."""
    fixed = P.remediate_secret_data(Args(resource_type, _secret(stringData={"token": TOKEN})))
    assert isinstance(fixed["stringData"], Secret) and fixed["stringData"].value == {"token": TOKEN}
    assert fixed["metadata"] == {"name": "s", "namespace": "default"}
    assert P.unmarked_secret_fields(Args(resource_type, _secret(stringData={"token": TOKEN}))) == ["stringData"]


def test_secret_list_remediation_marks_its_items() -> None:
    """Attack: a SecretList's items carried unmarked data into state."""
    props = {"apiVersion": "v1", "kind": "SecretList", "items": [_secret(stringData={"token": TOKEN})]}
    fixed = P.remediate_secret_data(Args("kubernetes:core/v1:SecretList", props))
    assert isinstance(fixed["items"], Secret) and fixed["items"].value == props["items"]


def test_secret_data_remediation_leaves_marked_and_other_resources_alone() -> None:
    assert P.remediate_secret_data(Args(SECRET, _secret(stringData=Secret({"token": TOKEN})))) is None
    assert P.remediate_secret_data(Args(SECRET, _secret())) is None
    assert P.remediate_secret_data(Args("kubernetes:core/v1:ConfigMap", {"data": {"a": "b"}})) is None
    assert (
        P.remediate_secret_data(Args("kubernetes:example.com/v1:Secret", {"apiVersion": "example.com/v1", "kind": "Secret", "data": {"a": "b"}}))
        is None
    )


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


# --- 2. dockerconfigjson-shape ----------------------------------------------------------------------


def _docker(document: Any, *, key: str = ".dockerconfigjson", extra: dict[str, str] | None = None, as_data: bool = False) -> dict[str, Any]:
    text = document if isinstance(document, str) else json.dumps(document)
    values = {key: text, **(extra or {})}
    if as_data:
        return _secret(type="kubernetes.io/dockerconfigjson", data={k: b64(v) for k, v in values.items()})
    return _secret(type="kubernetes.io/dockerconfigjson", stringData=values)


def _auths(username: str = "octo", password: str = TOKEN, auth: str | None = None) -> dict[str, Any]:
    auth = b64(f"{username}:{password}") if auth is None else auth
    return {"auths": {"ghcr.io": {"username": username, "password": password, "auth": auth}}}


R2 = "dockerconfigjson Secrets carry exactly .dockerconfigjson: auths with username, password, auth"
DOCKER = [
    Case(R2, "ok", SECRET, _docker(_auths())),
    Case(R2, "ok-data", SECRET, _docker(_auths(), as_data=True)),
    Case(R2, "other-type", SECRET, _secret(stringData={"token": TOKEN})),
    Case(R2, "wrong-key", SECRET, _docker(_auths(), key=".dockercfg"), ("exactly .dockerconfigjson (has: .dockercfg)",)),
    Case(R2, "extra-key", SECRET, _docker(_auths(), extra={"extra": "x"}), ("exactly .dockerconfigjson (has: .dockerconfigjson, extra)",)),
    Case(R2, "bad-json", SECRET, _docker("{not json"), ("is not valid JSON",)),
    Case(R2, "no-auths", SECRET, _docker({"registries": {}}), ('no "auths" object',)),
    Case(R2, "empty-auths", SECRET, _docker({"auths": {}}), ('no "auths" object',)),
    Case(R2, "no-auth", SECRET, _docker({"auths": {"ghcr.io": {"username": "octo", "password": TOKEN}}}), ('auths["ghcr.io"] lacks auth',)),
    Case(R2, "auth-mismatch", SECRET, _docker(_auths(auth=b64("someone:else"))), ("auth is not base64 of username:password",)),
    Case(R2, "undecodable", SECRET, _secret(type="kubernetes.io/dockerconfigjson", data={".dockerconfigjson": "%%%"}), ("not decodable text",)),
    # attack: a malformed pull secret registered through CustomResource(api_version="v1", kind="Secret")
    Case(R2, "CustomResource(v1, Secret) bad-json", CR_SECRET, _docker("{not json"), ("is not valid JSON",)),
    Case(R2, "generic CustomResource bad-json", GENERIC_CR, _docker({"auths": {}}), ('no "auths" object',)),
]


@pytest.mark.parametrize("case", DOCKER, ids=lambda c: c.id)
def test_dockerconfigjson_shape(case: Case) -> None:
    check(P.validate_dockerconfigjson, case)


# --- 3. monitor-credentials-same-namespace ------------------------------------------------------------


def _monitor(endpoint: dict[str, Any], namespace: str = "monitoring") -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "api", "namespace": namespace},
        "spec": {"selector": {}, "endpoints": [{"port": "http", **endpoint}]},
    }


def _probe(spec: dict[str, Any], namespace: str = "monitoring") -> dict[str, Any]:
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "Probe", "metadata": {"name": "p", "namespace": namespace}, "spec": spec}


def _pod_monitor(endpoint: dict[str, Any], namespace: str = "monitoring") -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": "pm", "namespace": namespace},
        "spec": {"selector": {}, "podMetricsEndpoints": [endpoint]},
    }


def _ref(name: str = "auth", key: str = "token", **extra: str) -> dict[str, str]:
    return {"name": name, "key": key, **extra}


R3 = "a monitor's SecretKeySelectors have no namespace (the operator reads the monitor's own); no deprecated bearer token fields"
MONITOR_CREDENTIALS = [
    Case(R3, "ok", MONITOR, _monitor({"authorization": {"credentials": _ref()}})),
    Case(R3, "no-auth", MONITOR, _monitor({})),
    Case(
        R3,
        "other-ns",
        MONITOR,
        _monitor({"authorization": {"credentials": _ref(namespace="default")}}),
        ("authorization.credentials names namespace 'default'",),
    ),
    Case(
        R3,
        "own-ns-field",
        MONITOR,
        _monitor({"authorization": {"credentials": _ref(namespace="monitoring")}}),
        ("authorization.credentials has a namespace field",),
    ),
    Case(
        R3,
        "basic-auth",
        MONITOR,
        _monitor({"basicAuth": {"username": _ref("a", "u"), "password": _ref("a", "p", namespace="apps")}}),
        ("basicAuth.password names namespace 'apps'",),
    ),
    Case(
        R3, "bearer-secret", MONITOR, _monitor({"bearerTokenSecret": _ref()}), ("uses deprecated bearerTokenSecret; use authorization.credentials",)
    ),
    Case(
        R3,
        "bearer-secret-other-ns",
        MONITOR,
        _monitor({"bearerTokenSecret": _ref(namespace="default")}),
        ("deprecated bearerTokenSecret", "bearerTokenSecret names namespace 'default'"),
    ),
    Case(R3, "bearer-file", MONITOR, _monitor({"bearerTokenFile": "/var/run/token"}), ("uses deprecated bearerTokenFile",)),
    Case(
        R3,
        "podmonitor",
        POD_MONITOR,
        _pod_monitor({"oauth2": {"clientSecret": _ref("o", "k", namespace="x")}}),
        ("oauth2.clientSecret names namespace 'x'",),
    ),
    Case(R3, "not-a-monitor", "kubernetes:core/v1:Service", {"metadata": {"namespace": "a"}, "spec": {"endpoints": [{"bearerTokenFile": "x"}]}}),
    # attack: a ServiceMonitor registered through the generic CustomResource token was not inspected
    Case(
        R3,
        "generic CustomResource ServiceMonitor",
        GENERIC_CR,
        _monitor({"tlsConfig": {"keySecret": _ref("k", "k", namespace="x")}}),
        ("tlsConfig.keySecret names namespace 'x'",),
    ),
    # attack: Probe was not checked at all (its selectors sit directly in spec)
    Case(
        R3,
        "Probe credentials in another namespace",
        PROBE,
        _probe({"authorization": {"credentials": _ref(namespace="app")}}),
        ("authorization.credentials names namespace 'app'",),
    ),
    Case(R3, "Probe deprecated bearerTokenSecret", PROBE, _probe({"bearerTokenSecret": _ref()}), ("uses deprecated bearerTokenSecret",)),
    Case(
        R3,
        "Probe tlsConfig.ca.secret",
        PROBE,
        _probe({"tlsConfig": {"ca": {"secret": _ref("ca", "ca.crt", namespace="app")}}}),
        ("tlsConfig.ca.secret names namespace 'app'",),
    ),
    # attack: selectors the table did not list (proxyConnectHeader, oauth2.tlsConfig, ConfigMaps)
    Case(
        R3,
        "proxyConnectHeader selector in another namespace",
        MONITOR,
        _monitor({"proxyConnectHeader": {"X-Token": [_ref("p", "k", namespace="app")]}}),
        ("proxyConnectHeader[\"X-Token\"][0] names namespace 'app'",),
    ),
    Case(
        R3,
        "oauth2.tlsConfig.keySecret in another namespace",
        POD_MONITOR,
        _pod_monitor({"oauth2": {"tlsConfig": {"keySecret": _ref("k", "tls.key", namespace="app")}}}),
        ("oauth2.tlsConfig.keySecret names namespace 'app'",),
    ),
    Case(
        R3,
        "tlsConfig.ca.configMap in another namespace",
        MONITOR,
        _monitor({"tlsConfig": {"ca": {"configMap": _ref("ca", "ca.crt", namespace="app")}}}),
        ("tlsConfig.ca.configMap names namespace 'app'",),
    ),
]


@pytest.mark.parametrize("case", MONITOR_CREDENTIALS, ids=lambda c: c.id)
def test_monitor_credentials(case: Case) -> None:
    check(P.validate_monitor_credentials, case)


# --- 3b. monitor-secrets-in-monitor-namespace (a stack policy: which Secrets the stack registers where) ----


def _obj(kind: str, name: str, namespace: str, api_version: str = "v1") -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace}}


@dataclass(frozen=True)
class StackCase:
    """One row of the stack policy: the guard rail, what is tried, the stack's resources, the violations expected."""

    tried: str
    resources: tuple[Resource, ...]
    expected: tuple[str, ...] = ()
    config: Mapping[str, Any] | None = field(default=None)


R3B = "a monitor reads Secrets (and ConfigMaps) the stack registers in the monitor's own namespace"
SM_AUTH = Resource(MONITOR, _monitor({"authorization": {"credentials": _ref()}}), "sm")
MONITOR_SECRETS = [
    StackCase("secret in the monitor's namespace", (SM_AUTH, Resource(SECRET, _obj("Secret", "auth", "monitoring"), "s"))),
    StackCase("secret through CustomResource in the monitor's namespace", (SM_AUTH, Resource(CR_SECRET, _obj("Secret", "auth", "monitoring"), "s"))),
    StackCase(
        "secret registered elsewhere, declared unmanaged in config",
        (SM_AUTH,),
        config={"unmanagedSecrets": ["monitoring/auth"]},
    ),
    # attack: the credentials Secret lives only in the app namespace; the operator looks in 'monitoring'
    StackCase(
        "ServiceMonitor, Secret only in the app namespace",
        (SM_AUTH, Resource(SECRET, _obj("Secret", "auth", "app"), "s")),
        (
            "ServiceMonitor monitoring/api endpoints[0].authorization.credentials reads Secret 'auth' from namespace 'monitoring'; "
            "the stack registers it only in 'app'",
        ),
    ),
    StackCase(
        "ServiceMonitor, Secret nowhere in the stack",
        (SM_AUTH,),
        ("reads Secret 'auth' from namespace 'monitoring'; the stack does not register it",),
    ),
    StackCase(
        "PodMonitor, Secret only in the app namespace",
        (
            Resource(POD_MONITOR, _pod_monitor({"basicAuth": {"username": _ref("b", "u"), "password": _ref("b", "p")}}), "pm"),
            Resource(SECRET, _obj("Secret", "b", "app")),
        ),
        ("podMetricsEndpoints[0].basicAuth.username reads Secret 'b'", "podMetricsEndpoints[0].basicAuth.password reads Secret 'b'"),
    ),
    StackCase(
        "Probe, Secret only in the app namespace",
        (Resource(PROBE, _probe({"authorization": {"credentials": _ref()}}), "p"), Resource(SECRET, _obj("Secret", "auth", "app"))),
        ("Probe monitoring/p spec.authorization.credentials reads Secret 'auth' from namespace 'monitoring'; the stack registers it only in 'app'",),
    ),
    StackCase(
        "ConfigMap CA only in the app namespace",
        (
            Resource(MONITOR, _monitor({"tlsConfig": {"ca": {"configMap": _ref("ca", "ca.crt")}}}), "sm"),
            Resource("kubernetes:core/v1:ConfigMap", _obj("ConfigMap", "ca", "app")),
        ),
        ("tlsConfig.ca.configMap reads ConfigMap 'ca' from namespace 'monitoring'; the stack registers it only in 'app'",),
    ),
]


@pytest.mark.parametrize("case", MONITOR_SECRETS, ids=lambda c: c.tried)
def test_monitor_secrets_in_monitor_namespace(case: StackCase) -> None:
    found = run(P.validate_monitor_secret_namespaces, StackArgs(case.resources, case.config))
    assert len(found) == len(case.expected), found
    for message, fragment in zip(sorted(found), sorted(case.expected), strict=True):
        assert fragment in message, (fragment, message)


# --- 4. no-secret-looking-metadata --------------------------------------------------------------------

R4 = "no token, private key or long hex in names, labels, annotations (pod templates included)"
R4D = "digest annotations are exempt from the hex check only under a digest key and with the digest's exact shape"
ROLLOUT = "secret-chain/rollout-hmac-sha256-api"


def _meta(metadata: dict[str, Any] | None, resource_type: str = SECRET, name: str = "pull", **more: Any) -> dict[str, Any]:
    return {"rt": resource_type, "props": {} if metadata is None else {"metadata": metadata, **more}, "name": name}


def _template(kind: str, api_version: str, template_path: tuple[str, ...], metadata: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "api"}}
    node = props
    for key in template_path:
        node = node.setdefault(key, {})
    node["metadata"] = metadata
    return props


def _m(rail: str, tried: str, metadata: dict[str, Any] | None, expected: tuple[str, ...] = (), **kw: Any) -> Case:
    spec = _meta(metadata, **{k: v for k, v in kw.items() if k in ("resource_type", "name")})
    return Case(rail, tried, spec["rt"], spec["props"], expected, kw.get("config"), spec["name"])


def _tpl(tried: str, kind: str, api_version: str, path: tuple[str, ...], where: str) -> Case:
    props = _template(kind, api_version, path, {"annotations": {"note": TOKEN}})
    return Case(R4, tried, f"kubernetes:{api_version}:{kind}", props, (f'{where}.annotations["note"] contains a GitHub token',))


METADATA = [
    _m(R4, "clean", {"name": "ghcr-pull-secret", "labels": {"app": "api"}, "annotations": {"secret-chain/config-keys": "a:b"}}),
    _m(R4, "ghp", {"annotations": {"note": TOKEN}}, ('metadata.annotations["note"] contains a GitHub token',)),
    _m(R4, "pat", {"annotations": {"note": "github_pat_" + "A1" * 20}}, ("contains a GitHub fine-grained token",)),
    _m(R4, "ghs-label", {"labels": {"token": "ghs_" + "x" * 36}}, ('metadata.labels["token"] contains a GitHub token',)),
    _m(R4, "dop", {"annotations": {"do": "dop_v1_" + "ab" * 32}}, ("contains a DigitalOcean token",)),
    _m(R4, "pul", {"annotations": {"pulumi": "pul-" + "0a" * 20}}, ("contains a Pulumi access token",)),
    _m(R4, "pem", {"annotations": {"key": PEM}}, ("contains a PEM private key",)),
    _m(R4, "hex", {"annotations": {"token": HEX}}, ('metadata.annotations["token"] contains a long hex token',)),
    _m(R4, "hex-name", {"name": "s-" + HEX}, ("metadata.name contains a long hex token",)),
    _m(R4, "key", {"annotations": {TOKEN: "x"}}, ("metadata.annotations key contains a GitHub token",)),
    _m(R4, "res-name", {}, ("the resource name contains a GitHub token",), name="pull-" + TOKEN),
    _m(
        R4,
        "res-name-no-meta",
        None,
        ("the resource name contains a GitHub token",),
        name="gho_" + "Z" * 36,
        resource_type="github:index/actionsSecret:ActionsSecret",
    ),
    # digests: what is exempt
    _m(R4D, "checksum/config sha256", {"annotations": {"checksum/config": HEX}}),
    _m(R4D, "the rollout key, sha256", {"annotations": {ROLLOUT: HEX}}),
    _m(R4D, "last segment names the digest (config-sha1)", {"annotations": {"example.com/config-sha1": HEX[:40]}}),
    _m(
        R4D,
        "config digestAnnotations: an md5 etag",
        {"annotations": {"example.com/etag": HEX[:32]}},
        config={"digestAnnotations": {"example.com/etag": "md5"}},
    ),
    # attack: keys that merely contain sha/hash were exempt, whatever their value
    _m(
        R4D,
        "key merely containing sha (shared-token)",
        {"annotations": {"shared-token": HEX}},
        ('metadata.annotations["shared-token"] contains a long hex token',),
    ),
    _m(
        R4D,
        "key merely containing hash (example.com/hash)",
        {"labels": {"example.com/hash": HEX}},
        ('metadata.labels["example.com/hash"] contains a long hex token',),
    ),
    _m(
        R4D,
        "the rollout key with a longer token",
        {"annotations": {ROLLOUT: HEX + HEX}},
        (f'metadata.annotations["{ROLLOUT}"] is not exactly a sha256 digest',),
    ),
    _m(R4D, "the rollout key with a token and text", {"annotations": {ROLLOUT: "token=" + HEX}}, ("is not exactly a sha256 digest",)),
    _m(R4D, "checksum/ key with a 40-hex token", {"annotations": {"checksum/config": HEX[:40]}}, ("is not exactly a sha256 digest",)),
    _m(R4D, "config-sha1 key with a 64-hex token", {"annotations": {"example.com/config-sha1": HEX}}, ("is not exactly a sha1 digest",)),
    _m(
        R4D,
        "config digestAnnotations {} removes the checksum exemption",
        {"annotations": {"checksum/config": HEX}},
        ("contains a long hex token",),
        config={"digestAnnotations": {}},
    ),
    # attack: a token after "_" (no word boundary) and base64-encoded tokens
    _m(R4, "x_ghp_", {"annotations": {"note": "x_" + TOKEN}}, ('metadata.annotations["note"] contains a GitHub token',)),
    _m(R4, "x_pul-", {"annotations": {"note": "x_pul-" + "0a" * 20}}, ("contains a Pulumi access token",)),
    _m(R4, "base64 token", {"annotations": {"note": b64(TOKEN)}}, ('metadata.annotations["note"] contains a base64-encoded GitHub token',)),
    _m(R4, "base64 user:token", {"annotations": {"auth": b64("octo:" + TOKEN)}}, ("contains a base64-encoded GitHub token",)),
    _m(R4, "base64 inside text", {"annotations": {"note": "auth=" + b64("octo:" + TOKEN) + ";"}}, ("contains a base64-encoded GitHub token",)),
    _m(
        R4,
        "base64url token",
        {"annotations": {"note": base64.urlsafe_b64encode(("\xff" + TOKEN).encode()).decode()}},
        ("contains a base64-encoded GitHub token",),
    ),
    _m(R4, "base64 PEM", {"annotations": {"key": b64(PEM)}}, ("contains a base64-encoded PEM private key",)),
    _m(R4, "base64 of base64", {"annotations": {"note": b64(b64(TOKEN))}}, ("contains a base64-encoded GitHub token",)),
    _m(R4, "base64 hex token", {"annotations": {"note": b64(HEX)}}, ("contains a base64-encoded long hex token",)),
    # attack: pod-template metadata was never scanned
    _tpl("Deployment template", "Deployment", "apps/v1", ("spec", "template"), "spec.template.metadata"),
    _tpl("StatefulSet template", "StatefulSet", "apps/v1", ("spec", "template"), "spec.template.metadata"),
    _tpl("DaemonSet template", "DaemonSet", "apps/v1", ("spec", "template"), "spec.template.metadata"),
    _tpl("ReplicaSet template", "ReplicaSet", "apps/v1", ("spec", "template"), "spec.template.metadata"),
    _tpl("ReplicationController template", "ReplicationController", "v1", ("spec", "template"), "spec.template.metadata"),
    _tpl("Job template", "Job", "batch/v1", ("spec", "template"), "spec.template.metadata"),
    _tpl("CronJob job template", "CronJob", "batch/v1", ("spec", "jobTemplate"), "spec.jobTemplate.metadata"),
    _tpl("CronJob pod template", "CronJob", "batch/v1", ("spec", "jobTemplate", "spec", "template"), "spec.jobTemplate.spec.template.metadata"),
    _tpl("PodTemplate", "PodTemplate", "v1", ("template",), "template.metadata"),
    Case(
        R4,
        "pod-template label and name",
        "kubernetes:apps/v1:Deployment",
        _template("Deployment", "apps/v1", ("spec", "template"), {"name": "p-" + HEX, "labels": {"t": "ghs_" + "x" * 36}}),
        ("spec.template.metadata.name contains a long hex token", 'spec.template.metadata.labels["t"] contains a GitHub token'),
    ),
    Case(
        R4,
        "pod template: the rollout key passes",
        "kubernetes:apps/v1:Deployment",
        _template("Deployment", "apps/v1", ("spec", "template"), {"annotations": {ROLLOUT: HEX}}),
    ),
    Case(
        R4,
        "StatefulSet volumeClaimTemplates metadata",
        "kubernetes:apps/v1:StatefulSet",
        {"metadata": {"name": "db"}, "spec": {"volumeClaimTemplates": [{"metadata": {"name": "data", "annotations": {"n": TOKEN}}}]}},
        ('spec.volumeClaimTemplates[0].metadata.annotations["n"] contains a GitHub token',),
    ),
    Case(
        R4,
        "Helm values podAnnotations",
        "kubernetes:helm.sh/v3:Release",
        {"chart": "grafana", "values": {"podAnnotations": {"note": TOKEN}}},
        ('values.podAnnotations["note"] contains a GitHub token',),
    ),
    # item 13: shapes extended by config
    _m(
        R4,
        "config extraSecretShapes: a Slack token",
        {"annotations": {"note": "xoxb-" + "1234567890-abcdefghij"}},
        ('metadata.annotations["note"] contains a Slack token',),
        config={"extraSecretShapes": [{"description": "a Slack token", "pattern": "xox[abprs]-[A-Za-z0-9-]{10,}"}]},
    ),
]


@pytest.mark.parametrize("case", METADATA, ids=lambda c: c.id)
def test_no_secret_looking_metadata(case: Case) -> None:
    check(P.validate_no_secret_metadata, case)


# --- 6. github-secret-no-deprecated-args ---------------------------------------------------------------

R6 = "GitHub secrets are written with value, not deprecated plaintextValue/encryptedValue"
GITHUB = [
    Case(R6, "value", "github:index/actionsSecret:ActionsSecret", {"repository": "r", "secretName": "S", "value": TOKEN}),
    Case(
        R6,
        "plaintext",
        "github:index/actionsSecret:ActionsSecret",
        {"repository": "r", "plaintextValue": TOKEN},
        ("plaintextValue is deprecated; use value",),
    ),
    Case(
        R6,
        "encrypted",
        "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
        {"encryptedValue": "abc"},
        ("encryptedValue is deprecated",),
    ),
    Case(
        R6,
        "both",
        "github:index/actionsOrganizationSecret:ActionsOrganizationSecret",
        {"plaintextValue": "a", "encryptedValue": "b"},
        ("plaintextValue", "encryptedValue"),
    ),
    Case(R6, "not-github", SECRET, {"plaintextValue": "a"}),
]


@pytest.mark.parametrize("case", GITHUB, ids=lambda c: c.id)
def test_github_secret_args(case: Case) -> None:
    check(P.validate_github_secret_args, case)


def test_metadata_values_unknown_during_preview_are_skipped_not_fatal() -> None:
    """Through the engine's proxies: an annotation unknown during preview is skipped; the known ones are still scanned."""
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # pulumi_policy's UNKNOWN_STRING_VALUE
    props = {"metadata": {"name": unknown, "annotations": {"pending": unknown, "note": TOKEN}}, "spec": {"template": {"metadata": unknown}}}
    (message,) = run(P.validate_no_secret_metadata, Args(SECRET, unknown_checking_proxy(deserialize_properties(props))))
    assert 'metadata.annotations["note"] contains a GitHub token' in message


def test_secret_shapes_find_what_they_describe() -> None:
    """The shape table itself: each kind is found inside text, after '_' and base64-encoded, and named without the value."""
    for sample, kind in ((TOKEN, "GitHub token"), ("pul-" + "0a" * 20, "Pulumi access token"), (PEM, "PEM private key")):
        for text in (sample, f"x_{sample}", b64(sample)):
            found = P.secret_shape(text)
            assert found is not None and kind in found and sample not in found
    assert P.secret_shape("ghcr-pull-secret") is None
    assert P.secret_shape(HEX, allow_hex=True) is None and P.secret_shape(b64(HEX), allow_hex=True) is None


# --- 5. no-secret-shaped-plain-values (issue 20) ----------------------------------------------------------------

R5 = "no plain input holds a secret-shaped value, in any field"
PAT = "github_pat_" + "11ABCDEFG0" * 4
GHS = "ghs_" + "Zx9" * 12
DO = "dop_v1_" + "ab" * 32
PLAIN_NEVER_SHOWN = (PAT, GHS, DO, b64(PEM))


def _pod_spec(value: str, where: str = "containers") -> dict[str, Any]:
    return {
        where: [{"name": "app", "image": "ghcr.io/acme/app@sha256:" + HEX, "env": [{"name": "A", "value": "1"}, {"name": "TOKEN", "value": value}]}]
    }


def _workload(kind: str, api_version: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "app", "namespace": "default"}, "spec": spec}


def _configmap(**extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}, **extra}


ENV = "holds a GitHub token (ghp_/gho_/ghu_/ghs_/ghr_) in a plain input"
TEMPLATE = {"metadata": {"labels": {"app": "a"}}, "spec": _pod_spec(TOKEN)}
PLAIN_VALUES = [
    # attack: the issue's four fields, each of which passed every policy before issue 20
    Case(
        R5,
        "ConfigMap data",
        "kubernetes:core/v1:ConfigMap",
        _configmap(data={"config.yaml": f"github:\n  token: {TOKEN}\n"}),
        ("data.config.yaml " + ENV,),
    ),
    Case(
        R5,
        "ConfigMap binaryData (base64 of a PEM key)",
        "kubernetes:core/v1:ConfigMap",
        _configmap(binaryData={"key.pem": b64(PEM)}),
        ("binaryData.key.pem holds a base64-encoded PEM private key in a plain input, which state, previews and the API show unencrypted",),
    ),
    Case(
        R5,
        "Pod env value",
        "kubernetes:core/v1:Pod",
        _workload("Pod", "v1", _pod_spec(TOKEN)),
        ("spec.containers[0].env[1].value " + ENV + ", which state, previews and the API show unencrypted; use env[].valueFrom.secretKeyRef",),
    ),
    Case(
        R5,
        "Pod initContainers env",
        "kubernetes:core/v1:Pod",
        _workload("Pod", "v1", _pod_spec(GHS, "initContainers")),
        ("spec.initContainers[0].env[1].value holds a GitHub token",),
    ),
    Case(
        R5,
        "Pod ephemeralContainers env",
        "kubernetes:core/v1:Pod",
        _workload("Pod", "v1", _pod_spec(PAT, "ephemeralContainers")),
        ("spec.ephemeralContainers[0].env[1].value holds a GitHub fine-grained token",),
    ),
    Case(
        R5,
        "Deployment env value",
        "kubernetes:apps/v1:Deployment",
        _workload("Deployment", "apps/v1", {"template": TEMPLATE}),
        ("spec.template.spec.containers[0].env[1].value " + ENV,),
    ),
    Case(
        R5,
        "StatefulSet env value",
        "kubernetes:apps/v1:StatefulSet",
        _workload("StatefulSet", "apps/v1", {"template": TEMPLATE}),
        ("spec.template.spec.containers[0].env[1].value",),
    ),
    Case(
        R5,
        "DaemonSet env value",
        "kubernetes:apps/v1:DaemonSet",
        _workload("DaemonSet", "apps/v1", {"template": TEMPLATE}),
        ("spec.template.spec.containers[0].env[1].value",),
    ),
    Case(
        R5,
        "ReplicaSet env value",
        "kubernetes:apps/v1:ReplicaSet",
        _workload("ReplicaSet", "apps/v1", {"template": TEMPLATE}),
        ("spec.template.spec.containers[0].env[1].value",),
    ),
    Case(
        R5,
        "Job env value",
        "kubernetes:batch/v1:Job",
        _workload("Job", "batch/v1", {"template": TEMPLATE}),
        ("spec.template.spec.containers[0].env[1].value",),
    ),
    Case(
        R5,
        "CronJob env value",
        "kubernetes:batch/v1:CronJob",
        _workload("CronJob", "batch/v1", {"schedule": "@daily", "jobTemplate": {"spec": {"template": TEMPLATE}}}),
        ("spec.jobTemplate.spec.template.spec.containers[0].env[1].value " + ENV,),
    ),
    Case(
        R5,
        "PodTemplate env value",
        "kubernetes:core/v1:PodTemplate",
        {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "t"}, "template": TEMPLATE},
        ("template.spec.containers[0].env[1].value",),
    ),
    Case(
        R5,
        "ReplicationController env value",
        "kubernetes:core/v1:ReplicationController",
        _workload("ReplicationController", "v1", {"template": TEMPLATE}),
        ("spec.template.spec.containers[0].env[1].value",),
    ),
    Case(
        R5,
        "a container argument",
        "kubernetes:core/v1:Pod",
        _workload("Pod", "v1", {"containers": [{"name": "a", "args": ["--token", DO]}]}),
        ("spec.containers[0].args[1] holds a DigitalOcean token",),
    ),
    Case(
        R5,
        "Helm release values (helm.sh/v3 Release)",
        "kubernetes:helm.sh/v3:Release",
        {"chart": "grafana", "namespace": "monitoring", "values": {"grafana.ini": {"auth.github": {"client_secret": TOKEN}}, "replicas": 1}},
        ("values.grafana.ini.auth.github.client_secret " + ENV + ", which state, previews and the API show unencrypted; read it from a Secret",),
    ),
    Case(
        R5,
        "Helm chart values (helm.sh/v4 Chart)",
        "kubernetes:helm.sh/v4:Chart",
        {"chart": "app", "values": {"env": {"TOKEN": GHS}}},
        ("values.env.TOKEN holds a GitHub token",),
    ),
    Case(
        R5,
        "Flux HelmRelease spec.values",
        "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease",
        _workload("HelmRelease", "helm.toolkit.fluxcd.io/v2", {"chart": {"spec": {"chart": "app"}}, "values": {"github": {"token": PAT}}}),
        ("spec.values.github.token holds a GitHub fine-grained token",),
    ),
    Case(
        R5,
        "GitHub Actions variable",
        "github:index/actionsVariable:ActionsVariable",
        {"repository": "platform", "variableName": "DEPLOY_TOKEN", "value": TOKEN},
        ("value " + ENV + ", which state, previews and the API show unencrypted; use an Actions secret, not a variable",),
    ),
    Case(
        R5,
        "GitHub environment variable",
        "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
        {"environment": "production", "variableName": "K", "value": PEM},
        ("value holds a PEM private key",),
    ),
    Case(
        R5,
        "GitHub organisation variable",
        "github:index/actionsOrganizationVariable:ActionsOrganizationVariable",
        {"variableName": "K", "value": DO},
        ("value holds a DigitalOcean token",),
    ),
    Case(
        R5,
        "a token in a Flux GitRepository URL",
        "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository",
        _workload("GitRepository", "source.toolkit.fluxcd.io/v1", {"url": f"https://x:{TOKEN}@github.com/o/r"}),
        ("spec.url holds a GitHub token",),
    ),
    Case(
        R5,
        "a token in an ESC environment's definition (a plain text asset)",
        "pulumiservice:index:Environment",
        {"organization": "acme", "project": "secret-chain", "name": "Base", "yaml": pulumi.StringAsset(f"values:\n  github:\n    token: {TOKEN}\n")},
        ("yaml holds a GitHub token",),
    ),
    # secret inputs by their schema, and plain inputs with nothing secret in them
    Case(
        R5,
        "an ESC environment's definition with its secret encrypted",
        "pulumiservice:index:Environment",
        {
            "organization": "acme",
            "name": "Base",
            "yaml": pulumi.StringAsset("values:\n  token:\n    fn::secret:\n      ciphertext: ZXNjeAAAAAEAAAEAhKJ2bJ8vXKfKw8p1lcbMaFQ3xkYe\n"),
        },
    ),
    Case(R5, "Secret stringData", SECRET, _secret(stringData={"token": TOKEN})),
    Case(R5, "a CustomResource Secret's data", CR_SECRET, _secret(data={"key": b64(PEM)})),
    Case(
        R5,
        "a SecretList's items",
        "kubernetes:core/v1:SecretList",
        {"apiVersion": "v1", "kind": "SecretList", "items": [_secret(stringData={"t": TOKEN})]},
    ),
    Case(
        R5,
        "a GitHub Actions secret",
        "github:index/actionsSecret:ActionsSecret",
        {"repository": "r", "secretName": "S", "plaintextValue": PEM, "value": TOKEN},
    ),
    Case(
        R5,
        "a GitHub environment secret",
        "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
        {"environment": "e", "secretName": "S", "value": PEM},
    ),
    Case(
        R5, "an ESC environment's definition", "pulumiservice:api/esc:Environment", {"organization": "acme", "yaml": f"values:\n  token: {TOKEN}\n"}
    ),
    Case(R5, "a provider's configuration", "pulumi:providers:kubernetes", {"kubeconfig": f"users:\n- user:\n    client-key-data: {b64(PEM)}\n"}),
    Case(R5, "the chain's component args", "secret-chain:index:GhcrPullSecret", {"token": TOKEN}),
    Case(
        R5,
        "env from a Secret, a digest and a commit",
        "kubernetes:apps/v1:Deployment",
        _workload(
            "Deployment",
            "apps/v1",
            {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "a",
                                "image": "ghcr.io/acme/app@sha256:" + HEX,
                                "env": [
                                    {"name": "T", "valueFrom": {"secretKeyRef": {"name": "s", "key": "t"}}},
                                    {"name": "GIT_SHA", "value": "0123abcd" * 5},
                                ],
                            }
                        ]
                    }
                }
            },
        ),
    ),
    Case(
        R5,
        "ConfigMap with plain configuration",
        "kubernetes:core/v1:ConfigMap",
        _configmap(data={"log-level": "info", "url": "https://ghcr.io/acme"}),
    ),
    Case(
        R5,
        "an annotation is the metadata policy's, not reported twice",
        "kubernetes:core/v1:ConfigMap",
        {
            **_configmap(),
            "metadata": {"name": "c", "annotations": {"note": TOKEN}},
            "spec": {"template": {"metadata": {"annotations": {"t": TOKEN}}}},
        },
    ),
    Case(
        R5,
        "a token under a values key named metadata",
        "kubernetes:helm.sh/v3:Release",
        {"chart": "app", "values": {"metadata": {"name": "app", "token": TOKEN}}},
        ("values.metadata.token holds a GitHub token",),
    ),
    # config
    Case(R5, "config secretInputs", "example:index:Thing", {"password": TOKEN}, config={"secretInputs": ["example:index:Thing.password"]}),
    Case(
        R5,
        "config extraSecretShapes",
        "kubernetes:core/v1:ConfigMap",
        _configmap(data={"slack": "xoxb-" + "1" * 24}),
        ("data.slack holds a Slack bot token",),
        config={"extraSecretShapes": [{"description": "a Slack bot token", "pattern": "xoxb-[0-9]{10,}"}]},
    ),
]


@pytest.mark.parametrize("case", PLAIN_VALUES, ids=lambda c: c.id)
def test_no_secret_shaped_plain_values(case: Case) -> None:
    check(P.validate_no_plain_secret_values, case)
    for message in run(P.validate_no_plain_secret_values, Args(case.resource_type, case.props, case.name, config=case.config)):
        assert not any(secret in message for secret in PLAIN_NEVER_SHOWN)


def test_plain_values_unknown_during_preview_are_skipped() -> None:
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # pulumi_policy's UNKNOWN_STRING_VALUE
    props = _configmap(data={"pending": unknown, "token": TOKEN})
    (message,) = run(P.validate_no_plain_secret_values, Args("kubernetes:core/v1:ConfigMap", unknown_checking_proxy(deserialize_properties(props))))
    assert message.startswith("kubernetes:core/v1:ConfigMap 'res': data.token holds a GitHub token")


def test_the_secret_inputs_are_those_the_provider_schemas_mark_secret() -> None:
    """SECRET_INPUTS is what the installed provider SDKs wrap in ``pulumi.Output.secret`` (their schemas' ``secret: true``
    inputs), resource by resource: a new secret input upstream fails here until the pack knows it."""
    import importlib.util
    import re
    from pathlib import Path

    found: dict[str, tuple[str, ...]] = {}
    for package in ("pulumi_github", "pulumi_kubernetes", "pulumi_digitalocean", "pulumi_pulumiservice", "pulumi_random"):
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.submodule_search_locations, package
        for path in sorted(Path(next(iter(spec.submodule_search_locations))).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            names = re.findall(r'__props__\.__dict__\["(\w+)"\] = None if \w+ is None else pulumi\.Output\.secret', text)
            tokens = re.findall(r"super\(\w+, __self__\)\.__init__\(\s*['\"]([^'\"]+)['\"]", text)
            for token in (t for t in tokens if names and ":" in t):  # resources only: providers are not scanned
                found[token] = tuple(sorted({re.sub(r"_(\w)", lambda m: m.group(1).upper(), n) for n in names}))
    assert found == P.SECRET_INPUTS
