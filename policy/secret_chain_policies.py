"""The secret-chain policies, as plain module-level objects (the pack itself is built in ``__main__.py``).

Each policy is a :class:`pulumi_policy.ResourceValidationPolicy` whose ``validate`` (and, for one,
``remediate``) function is a module-level function, so tests can call it with a fake
``ResourceValidationArgs``. Messages name the resource, the field and the kind of problem; they
never repeat a value that looks like a secret.

What policies can see of secret-ness: ``pulumi_policy`` hands ``validate`` functions the resource's
inputs with Pulumi's secret markers already removed (``deserialize_properties(..., proxy_secrets=False)``),
so a validation cannot tell a secret-marked ``stringData`` from a plain one. Only remediations receive
the markers (values wrapped in :class:`pulumi_policy.Secret`, reachable through ``props["__target"]``).
Hence :data:`kubernetes_secret_data_is_secret` is a *remediation*: it wraps any Kubernetes Secret
``data``/``stringData`` that arrives unmarked in ``Secret`` so that the engine encrypts it in state,
and its validation enforces what a validation can: ``data`` values are base64 (a raw token pasted into
``data`` is plain text) and none is a bare secret-shaped string.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
)
from pulumi_policy.proxy import UnknownValueError

# --- secret-shaped strings -------------------------------------------------------------------------

SECRET_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a GitHub token (ghp_/gho_/ghu_/ghs_/ghr_)", re.compile(r"\bgh[pousr]_[A-Za-z0-9_]{20,}")),
    ("a GitHub fine-grained token (github_pat_)", re.compile(r"github_pat_[A-Za-z0-9_]{20,}")),
    ("a DigitalOcean token (dop_v1_)", re.compile(r"dop_v1_[0-9a-fA-F]{16,}")),
    ("a Pulumi access token (pul-)", re.compile(r"\bpul-[0-9a-fA-F]{16,}")),
    ("a PEM private key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")),
)
"""Kinds of secret by shape. Extend here; every policy that scans strings uses this table."""

LONG_HEX = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32,}(?![0-9A-Fa-f])")
"""32+ hex characters: what ``openssl rand -hex`` makes (16+ bytes)."""

HASH_KEYS = re.compile(r"(checksum|hash|digest|sha\d*)", re.IGNORECASE)
"""Annotation/label keys whose hex values are content hashes, not tokens (exempt from :data:`LONG_HEX` only)."""


def secret_shape(text: str, *, allow_hex: bool = False) -> str | None:
    """Describe the kind of secret ``text`` contains, or None. The description never contains the text."""
    for kind, pattern in SECRET_SHAPES:
        if pattern.search(text):
            return kind
    if not allow_hex and LONG_HEX.search(text):
        return "a long hex token (32+ hex characters)"
    return None


# --- helpers ---------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Unwrap a :class:`pulumi_policy.Secret` (tests and remediations may pass them)."""
    while isinstance(value, Secret):
        value = value.value
    return value


def _get(mapping: Any, *path: str) -> Any:
    """``mapping[path[0]][path[1]]…``, or None when any step is missing or not a mapping."""
    value = mapping
    for key in path:
        value = _plain(value)
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return _plain(value)


def _where(args: ResourceValidationArgs) -> str:
    return f"{args.resource_type} {args.name!r}"


def _raw_props(args: ResourceValidationArgs) -> Mapping[str, Any]:
    """The inputs with secret markers kept (remediations): the proxy's ``__target``, else the props as given."""
    props = args.props
    try:
        target = props["__target"]
    except (KeyError, TypeError):
        return props
    return target if isinstance(target, Mapping) else props


def _is_kubernetes(args: ResourceValidationArgs) -> bool:
    return args.resource_type.startswith("kubernetes:")


def api_version_of(resource_type: str) -> tuple[str, str, str] | None:
    """Split ``kubernetes:<group>/<version>:<Kind>`` into (group, version, kind); core is group ``core``."""
    parts = resource_type.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes" or "/" not in parts[1]:
        return None
    group, _, version = parts[1].rpartition("/")
    return group, version, parts[2]


def split_api_version(api_version: str) -> tuple[str, str]:
    """``apps/v1`` → (apps, v1); ``v1`` → (core, v1)."""
    group, _, version = api_version.rpartition("/")
    return (group or "core"), version


# --- 1. Kubernetes Secret data is secret -----------------------------------------------------------

SECRET_TYPE = "kubernetes:core/v1:Secret"
_SECRET_TYPES = (SECRET_TYPE, "kubernetes:core/v1:SecretPatch")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def validate_secret_data(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """``data`` values must be base64 and no ``data``/``stringData`` value may be a bare secret-shaped string in ``data``."""
    if args.resource_type not in _SECRET_TYPES:
        return
    data = _get(args.props, "data")
    if not isinstance(data, Mapping):
        return
    for key in sorted(data):
        value = _plain(data[key])
        if not isinstance(value, str):
            report_violation(f'{_where(args)}: data["{key}"] is not a string (Secret data values are base64 strings)', None)
            continue
        kind = secret_shape(value)
        if kind is not None and not _BASE64.fullmatch(value):
            report_violation(
                f'{_where(args)}: data["{key}"] holds {kind} as plain text; data values must be base64 (use stringData, and mark it secret)',
                None,
            )
            continue
        if not _BASE64.fullmatch(value) or len(value) % 4:
            report_violation(f'{_where(args)}: data["{key}"] is not base64; use stringData for plain values', None)
            continue
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            report_violation(f'{_where(args)}: data["{key}"] is not base64; use stringData for plain values', None)


def remediate_secret_data(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    """Mark a Kubernetes Secret's non-empty ``data``/``stringData`` secret when it arrives unmarked.

    Returns the new inputs (the engine then stores the values encrypted), or None when nothing changes.
    """
    if args.resource_type not in _SECRET_TYPES:
        return None
    props = _raw_props(args)
    changed = False
    new: dict[str, Any] = {}
    for key in props:
        value = props[key]
        if key in ("data", "stringData") and not isinstance(value, Secret) and _plain(value):
            value = Secret(_unproxy(value))
            changed = True
        new[key] = value
    return new if changed else None


def unmarked_secret_fields(args: ResourceValidationArgs) -> list[str]:
    """Fields of a Kubernetes Secret whose values are present but not secret-marked (for reports and tests)."""
    if args.resource_type not in _SECRET_TYPES:
        return []
    props = _raw_props(args)
    return [k for k in ("data", "stringData") if k in props and not isinstance(props[k], Secret) and _plain(props[k])]


def _unproxy(value: Any) -> Any:
    """Copy proxied mappings/lists into plain ones (keeping ``Secret`` wrappers)."""
    with contextlib.suppress(KeyError, TypeError, IndexError):
        value = value["__target"]
    if isinstance(value, Mapping):
        return {k: _unproxy(value[k]) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_unproxy(value[i]) for i in range(len(value))]
    return value


kubernetes_secret_data_is_secret = ResourceValidationPolicy(
    name="kubernetes-secret-data-is-secret",
    description=(
        "Kubernetes Secret data/stringData must be Pulumi secrets (remediated: unmarked values are marked secret); "
        "data values must be base64, never a plain token."
    ),
    validate=validate_secret_data,
    remediate=remediate_secret_data,  # type: ignore[arg-type]  # the SDK also accepts a plain (non-awaitable) result
    enforcement_level=EnforcementLevel.REMEDIATE,
)


# --- 2. dockerconfigjson shape ---------------------------------------------------------------------

DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"


def _secret_values(props: Any) -> dict[str, str | None]:
    """Data keys → decoded text (None when undecodable), from ``stringData`` and base64 ``data``."""
    out: dict[str, str | None] = {}
    data = _get(props, "data")
    if isinstance(data, Mapping):
        for key in data:
            try:
                out[key] = base64.b64decode(str(_plain(data[key])), validate=True).decode()
            except (binascii.Error, ValueError):
                out[key] = None
    string_data = _get(props, "stringData")
    if isinstance(string_data, Mapping):
        for key in string_data:
            value = _plain(string_data[key])
            out[key] = value if isinstance(value, str) else None
    return out


def validate_dockerconfigjson(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """A dockerconfigjson Secret carries exactly ``.dockerconfigjson``: JSON ``auths`` with username, password, auth."""
    if args.resource_type not in _SECRET_TYPES or _get(args.props, "type") != DOCKERCONFIGJSON:
        return
    values = _secret_values(args.props)
    if set(values) != {".dockerconfigjson"}:
        keys = ", ".join(sorted(values)) or "none"
        report_violation(f"{_where(args)}: a {DOCKERCONFIGJSON} Secret must carry exactly .dockerconfigjson (has: {keys})", None)
    text = values.get(".dockerconfigjson")
    if text is None:
        if ".dockerconfigjson" in values:
            report_violation(f"{_where(args)}: .dockerconfigjson is not decodable text (data must be base64 of JSON)", None)
        return
    try:
        document = json.loads(text)
    except ValueError:
        report_violation(f"{_where(args)}: .dockerconfigjson is not valid JSON", None)
        return
    auths = document.get("auths") if isinstance(document, dict) else None
    if not isinstance(auths, dict) or not auths:
        report_violation(f'{_where(args)}: .dockerconfigjson has no "auths" object with at least one registry', None)
        return
    for registry in sorted(auths):
        entry = auths[registry]
        missing = [f for f in ("username", "password", "auth") if not isinstance(entry, dict) or not entry.get(f)]
        if missing:
            report_violation(f'{_where(args)}: .dockerconfigjson auths["{registry}"] lacks {", ".join(missing)}', None)
            continue
        try:
            decoded = base64.b64decode(entry["auth"], validate=True).decode()
        except (binascii.Error, ValueError):
            decoded = None
        if decoded != f"{entry['username']}:{entry['password']}":
            report_violation(f'{_where(args)}: .dockerconfigjson auths["{registry}"].auth is not base64 of username:password', None)


dockerconfigjson_shape = ResourceValidationPolicy(
    name="dockerconfigjson-shape",
    description="kubernetes.io/dockerconfigjson Secrets carry exactly .dockerconfigjson with auths: username, password, auth.",
    validate=validate_dockerconfigjson,
    enforcement_level=EnforcementLevel.MANDATORY,
)


# --- 3. ServiceMonitor credentials stay in the monitor's namespace ----------------------------------

MONITOR_KINDS = {"ServiceMonitor": "endpoints", "PodMonitor": "podMetricsEndpoints"}
"""Prometheus Operator kinds whose endpoints carry credentials, and the spec field listing them."""

SECRET_REFS: tuple[tuple[str, ...], ...] = (
    ("authorization", "credentials"),
    ("bearerTokenSecret",),
    ("basicAuth", "username"),
    ("basicAuth", "password"),
    ("oauth2", "clientId", "secret"),
    ("oauth2", "clientSecret"),
    ("tlsConfig", "ca", "secret"),
    ("tlsConfig", "cert", "secret"),
    ("tlsConfig", "keySecret"),
)
"""Paths, within one endpoint, of the SecretKeySelectors the operator resolves (in the monitor's namespace only)."""

DEPRECATED_ENDPOINT_FIELDS = {"bearerTokenSecret": "authorization.credentials", "bearerTokenFile": "authorization.credentials"}


def _monitor_kind(args: ResourceValidationArgs) -> str | None:
    parsed = api_version_of(args.resource_type)
    kind = parsed[2] if parsed else None
    if parsed and parsed[0] == "apiextensions.k8s.io" and kind == "CustomResource":
        kind = _get(args.props, "kind")
    if kind in MONITOR_KINDS and (parsed is None or parsed[0] in ("monitoring.coreos.com", "apiextensions.k8s.io")):
        return str(kind)
    return None


def validate_monitor_credentials(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """ServiceMonitor/PodMonitor secret references name no other namespace; deprecated bearer token fields are flagged."""
    if not _is_kubernetes(args):
        return
    kind = _monitor_kind(args)
    if kind is None:
        return
    namespace = _get(args.props, "metadata", "namespace")
    endpoints = _get(args.props, "spec", MONITOR_KINDS[kind])
    if not isinstance(endpoints, Sequence) or isinstance(endpoints, str):
        return
    for index in range(len(endpoints)):
        endpoint = endpoints[index]
        endpoint = _plain(endpoint)
        if not isinstance(endpoint, Mapping):
            continue
        for field, replacement in DEPRECATED_ENDPOINT_FIELDS.items():
            if field in endpoint:
                report_violation(f"{_where(args)}: endpoint {index} uses deprecated {field}; use {replacement}", None)
        for path in SECRET_REFS:
            ref = _get(endpoint, *path)
            if not isinstance(ref, Mapping) or "namespace" not in ref:
                continue
            ref_ns = _plain(ref["namespace"])
            if namespace is None or ref_ns != namespace:
                report_violation(
                    f"{_where(args)}: endpoint {index} {'.'.join(path)} names namespace {ref_ns!r}; the Prometheus Operator "
                    f"reads credentials only from the monitor's own namespace ({namespace!r}). Copy the Secret there",
                    None,
                )
            else:
                report_violation(
                    f"{_where(args)}: endpoint {index} {'.'.join(path)} has a namespace field; SecretKeySelectors have none "
                    "(the monitor's own namespace is used). Remove it",
                    None,
                )


monitor_credentials_same_namespace = ResourceValidationPolicy(
    name="monitor-credentials-same-namespace",
    description=(
        "ServiceMonitor/PodMonitor credentials reference Secrets in the monitor's own namespace only; "
        "deprecated bearerTokenSecret/bearerTokenFile are not used."
    ),
    validate=validate_monitor_credentials,
    enforcement_level=EnforcementLevel.MANDATORY,
)


# --- 4. No secret-shaped strings in names, labels, annotations -------------------------------------


def _metadata_strings(props: Any) -> Iterator[tuple[str, str, bool]]:
    """(where, text, hex allowed) for every name, label and annotation key and value."""
    metadata = _get(props, "metadata")
    if not isinstance(metadata, Mapping):
        return
    for field in ("name", "generateName"):
        value = _plain(metadata[field]) if field in metadata else None
        if isinstance(value, str):
            yield f"metadata.{field}", value, False
    for section in ("labels", "annotations"):
        mapping = _plain(metadata[section]) if section in metadata else None
        if not isinstance(mapping, Mapping):
            continue
        for key in sorted(mapping):
            hashed = bool(HASH_KEYS.search(str(key)))
            yield f"metadata.{section} key", str(key), False
            value = _plain(mapping[key])
            if isinstance(value, str):
                yield f'metadata.{section}["{key}"]', value, hashed


def validate_no_secret_metadata(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """No resource name, Kubernetes object name, label or annotation looks like a secret."""
    kind = secret_shape(args.name)
    if kind is not None:
        report_violation(f"{args.resource_type}: the resource name contains {kind}; names and URNs are never secret", None)
    for where, text, hex_allowed in _metadata_strings(args.props):
        kind = secret_shape(text, allow_hex=hex_allowed)
        if kind is not None:
            report_violation(f"{_where(args)}: {where} contains {kind}; metadata is stored and shown in plain text", None)


no_secret_looking_metadata = ResourceValidationPolicy(
    name="no-secret-looking-metadata",
    description="No resource name, object name, label or annotation contains a token, private key or long hex string.",
    validate=validate_no_secret_metadata,
    enforcement_level=EnforcementLevel.MANDATORY,
)


# --- 5. No deprecated API versions ------------------------------------------------------------------

DEPRECATED_APIS: tuple[tuple[str, str, frozenset[str] | None, str], ...] = (
    # (group, version regex, kinds (None = every kind), replacement)
    ("image.toolkit.fluxcd.io", r"v1alpha\d+|v1beta\d+", None, "image.toolkit.fluxcd.io/v1"),
    ("source.toolkit.fluxcd.io", r"v1alpha\d+|v1beta\d+", None, "source.toolkit.fluxcd.io/v1"),
    ("kustomize.toolkit.fluxcd.io", r"v1alpha\d+|v1beta\d+", None, "kustomize.toolkit.fluxcd.io/v1"),
    ("helm.toolkit.fluxcd.io", r"v2alpha\d+|v2beta\d+", None, "helm.toolkit.fluxcd.io/v2"),
    ("notification.toolkit.fluxcd.io", r"v1alpha\d+|v1beta[12]", None, "notification.toolkit.fluxcd.io/v1 (Receiver) or v1beta3"),
    ("cert-manager.io", r"v1alpha\d+|v1beta\d+", None, "cert-manager.io/v1"),
    ("acme.cert-manager.io", r"v1alpha\d+|v1beta\d+", None, "acme.cert-manager.io/v1"),
    (
        "monitoring.coreos.com",
        r"v1alpha\d+",
        frozenset({"ServiceMonitor", "PodMonitor", "PrometheusRule", "Probe", "Prometheus", "Alertmanager", "ThanosRuler"}),
        "monitoring.coreos.com/v1",
    ),
    ("extensions", r"v1beta\d+", None, "apps/v1 or networking.k8s.io/v1"),
    ("apps", r"v1beta\d+", None, "apps/v1"),
    ("networking.k8s.io", r"v1beta\d+", None, "networking.k8s.io/v1"),
    ("policy", r"v1beta\d+", None, "policy/v1"),
    ("batch", r"v1beta\d+|v2alpha\d+", None, "batch/v1"),
    ("autoscaling", r"v2beta\d+", None, "autoscaling/v2"),
    ("rbac.authorization.k8s.io", r"v1alpha\d+|v1beta\d+", None, "rbac.authorization.k8s.io/v1"),
    ("admissionregistration.k8s.io", r"v1beta\d+", None, "admissionregistration.k8s.io/v1"),
    ("apiextensions.k8s.io", r"v1beta\d+", None, "apiextensions.k8s.io/v1"),
    ("apiregistration.k8s.io", r"v1beta\d+", None, "apiregistration.k8s.io/v1"),
    ("storage.k8s.io", r"v1beta\d+", None, "storage.k8s.io/v1"),
    ("scheduling.k8s.io", r"v1alpha\d+|v1beta\d+", None, "scheduling.k8s.io/v1"),
    ("coordination.k8s.io", r"v1beta\d+", None, "coordination.k8s.io/v1"),
    ("certificates.k8s.io", r"v1beta\d+", None, "certificates.k8s.io/v1"),
    ("discovery.k8s.io", r"v1beta\d+", None, "discovery.k8s.io/v1"),
    ("events.k8s.io", r"v1beta\d+", None, "events.k8s.io/v1"),
    ("node.k8s.io", r"v1alpha\d+|v1beta\d+", None, "node.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io", r"v1alpha\d+|v1beta\d+", None, "flowcontrol.apiserver.k8s.io/v1"),
)
"""Deprecated or removed API versions. Extend here."""


def deprecated_replacement(group: str, version: str, kind: str) -> str | None:
    """The apiVersion to use instead of ``group/version`` for ``kind``, or None when it is current."""
    for dep_group, versions, kinds, replacement in DEPRECATED_APIS:
        if group == dep_group and re.fullmatch(versions, version) and (kinds is None or kind.removesuffix("Patch") in kinds):
            return replacement
    return None


def validate_api_versions(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """No ``kubernetes:*`` resource uses a deprecated group/version (type token or apiVersion input)."""
    if not _is_kubernetes(args):
        return
    seen: set[tuple[str, str]] = set()
    parsed = api_version_of(args.resource_type)
    kind = parsed[2] if parsed else ""
    candidates: list[tuple[str, str]] = []
    if parsed and not (parsed[0] == "apiextensions.k8s.io" and kind == "CustomResource"):
        candidates.append((parsed[0], parsed[1]))
    api_version = _get(args.props, "apiVersion")
    prop_kind = _get(args.props, "kind")
    if isinstance(prop_kind, str):
        kind = prop_kind
    if isinstance(api_version, str) and api_version:
        candidates.append(split_api_version(api_version))
    for group, version in candidates:
        if (group, version) in seen:
            continue
        seen.add((group, version))
        replacement = deprecated_replacement(group, version, kind)
        if replacement is not None:
            shown = version if group == "core" else f"{group}/{version}"
            report_violation(f"{_where(args)}: {shown} {kind} is deprecated or removed; use {replacement}", None)


no_deprecated_api_versions = ResourceValidationPolicy(
    name="no-deprecated-api-versions",
    description="Kubernetes resources use current API versions (no Flux/cert-manager/Prometheus Operator/Kubernetes betas).",
    validate=validate_api_versions,
    enforcement_level=EnforcementLevel.MANDATORY,
)


# --- 6. GitHub secrets: no deprecated value arguments ------------------------------------------------

DEPRECATED_GITHUB_ARGS = {
    "plaintextValue": "value",
    "encryptedValue": "valueEncrypted with keyId",
}
"""Deprecated inputs of pulumi-github's *Secret resources and what replaces them."""


def validate_github_secret_args(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """GitHub Actions/Dependabot/Codespaces secrets use ``value``, not deprecated ``plaintextValue``/``encryptedValue``."""
    if not args.resource_type.startswith("github:"):
        return
    for field, replacement in DEPRECATED_GITHUB_ARGS.items():
        if field in args.props and _plain(args.props[field]) is not None:
            report_violation(f"{_where(args)}: argument {field} is deprecated; use {replacement}", None)


github_secret_no_deprecated_args = ResourceValidationPolicy(
    name="github-secret-no-deprecated-args",
    description="GitHub secrets are written with value (or valueEncrypted), not deprecated plaintextValue/encryptedValue.",
    validate=validate_github_secret_args,
    enforcement_level=EnforcementLevel.MANDATORY,
)


# --- 7. A pull request's stack stays in its namespace --------------------------------------------------

PR_STACK = re.compile(r"preview-pr-[1-9][0-9]{0,8}")
"""Names of pull-request preview stacks; stack ``preview-pr-<N>`` owns exactly the namespace of the same name."""

CLUSTER_SCOPED_KINDS = frozenset(
    {
        # Kubernetes
        "Namespace",
        "Node",
        "PersistentVolume",
        "ComponentStatus",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "APIService",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "StorageClass",
        "CSIDriver",
        "CSINode",
        "VolumeAttachment",
        "VolumeAttributesClass",
        "PriorityClass",
        "RuntimeClass",
        "IngressClass",
        "IPAddress",
        "ServiceCIDR",
        "CertificateSigningRequest",
        "ClusterTrustBundle",
        "FlowSchema",
        "PriorityLevelConfiguration",
        "DeviceClass",
        # CRDs of the platform's operators
        "ClusterIssuer",  # cert-manager
        "GatewayClass",  # Gateway API
        "ClusterSecretStore",  # external-secrets
        "ClusterExternalSecret",
        "ClusterPolicy",  # Kyverno
    }
)
"""Kinds that have no namespace. Extend here. A kind missing from this list is still caught on PR stacks,
because every object other than the stack's Namespace must name the stack's namespace."""

OUTSIDE_KUBERNETES = ("github:", "digitalocean:")
"""Type-token prefixes of resources outside any namespace (repository/organisation secrets, cloud DNS and
clusters): shared by every pull request, so a PR stack must not write them. Extend here."""

_COMPONENT_GROUPS = frozenset({"yaml", "kustomize"})
"""``kubernetes:<group>[/<version>]:…`` tokens of component resources (and ``helm.sh`` Charts), whose children are
validated one by one."""


def stack_of(urn: str) -> str | None:
    """The stack name in a URN (``urn:pulumi:<stack>::<project>::<type>::<name>``), or None when it is not one."""
    if not urn.startswith("urn:pulumi:"):
        return None
    return urn[len("urn:pulumi:") :].split("::", 1)[0] or None


def kubernetes_kind(args: ResourceValidationArgs) -> str | None:
    """The Kubernetes kind of a ``kubernetes:*`` resource (``*Patch`` types give their kind), or None for components."""
    parts = args.resource_type.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes":
        return None
    group = parts[1].rpartition("/")[0] if "/" in parts[1] else parts[1]
    if group in _COMPONENT_GROUPS or (group == "helm.sh" and parts[2] == "Chart"):
        return None
    kind = parts[2]
    if kind == "CustomResource" or "/" not in parts[1]:
        # a generic token (kubernetes:apiextensions.k8s.io:CustomResource): the kind is an input
        prop_kind = _get(args.props, "kind")
        if not isinstance(prop_kind, str):
            return None
        kind = prop_kind
    return kind.removesuffix("Patch") or kind


def _target_namespace(args: ResourceValidationArgs, kind: str) -> str | None:
    """Where a namespaced object is written: metadata.namespace, else the Kubernetes provider's default namespace."""
    if kind == "Release" and api_version_of(args.resource_type) == ("helm.sh", "v3", "Release"):
        namespace = _get(args.props, "namespace")
    else:
        namespace = _get(args.props, "metadata", "namespace")
    if isinstance(namespace, str) and namespace:
        return namespace
    provider = getattr(args, "provider", None)
    if provider is not None and str(getattr(provider, "resource_type", "")).startswith("pulumi:providers:kubernetes"):
        default = _get(provider.props, "namespace")
        if isinstance(default, str) and default:
            return default
    return None


def _namespace_fields(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, value) of every string under a key named ``namespace``; values unknown during preview are skipped."""
    value = _plain(value)
    if isinstance(value, Mapping):
        for key in value:
            try:
                item = _plain(value[key])
            except UnknownValueError:
                continue
            where = f"{path}.{key}" if path else str(key)
            if key == "namespace" and isinstance(item, str):
                yield where, item
            else:
                yield from _namespace_fields(item, where)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for index in range(len(value)):
            try:
                item = value[index]
            except UnknownValueError:
                continue
            yield from _namespace_fields(item, f"{path}[{index}]")


def validate_pr_stack_confinement(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """A ``preview-pr-<N>`` stack writes only in namespace ``preview-pr-<N>``; other stacks leave PR namespaces alone.

    The stack comes from the resource's URN (``urn:pulumi:<stack>::…``), which the engine sends with every
    resource, so no configuration is needed. On a PR stack: the only cluster-scoped object allowed is the
    Namespace ``preview-pr-<N>``; every other Kubernetes object must be written to that namespace (its
    ``metadata.namespace``, or the Kubernetes provider's default namespace); GitHub and DigitalOcean
    resources are refused. On every other stack: nothing is written into a ``preview-pr-*`` namespace, and
    no cluster-scoped object names one (a ClusterRoleBinding subject, a webhook service, …).
    """
    stack = stack_of(args.urn)
    if stack is None:
        return
    own = stack if PR_STACK.fullmatch(stack) else None
    if own is not None and args.resource_type.startswith(OUTSIDE_KUBERNETES):
        report_violation(
            f"{_where(args)}: a pull request's stack ({own}) writes only in its namespace; this resource lives outside "
            "Kubernetes and is shared by every pull request. Create it from preview-base or production",
            None,
        )
        return
    if not _is_kubernetes(args):
        return
    kind = kubernetes_kind(args)
    if kind is None:
        return
    if kind == "Namespace":
        name = _get(args.props, "metadata", "name")
        if own is not None and name != own:
            report_violation(f"{_where(args)}: stack {own} may create only its own Namespace {own!r}, not {name!r}", None)
        elif own is None and isinstance(name, str) and PR_STACK.fullmatch(name):
            report_violation(f"{_where(args)}: Namespace {name!r} belongs to stack {name}; stack {stack} must not create it", None)
        return
    if kind in CLUSTER_SCOPED_KINDS:
        if own is not None:
            report_violation(
                f"{_where(args)}: {kind} is cluster-scoped; a pull request's stack ({own}) may create no cluster-scoped "
                f"object but its Namespace. Shared objects belong to preview-base",
                None,
            )
            return
        for where, value in _namespace_fields(args.props):
            if PR_STACK.fullmatch(value):
                report_violation(
                    f"{_where(args)}: cluster-scoped {kind} names namespace {value!r} ({where}); nothing cluster-wide may "
                    "depend on a pull request's namespace",
                    None,
                )
        return
    namespace = _target_namespace(args, kind)
    if own is not None and namespace != own:
        where = f"namespace {namespace!r}" if namespace else "no namespace (cluster-scoped, or the provider's default namespace)"
        report_violation(
            f"{_where(args)}: {kind} is written to {where}; stack {own} may write only in namespace {own!r}. "
            "Set metadata.namespace to the stack's namespace",
            None,
        )
    elif own is None and namespace is not None and PR_STACK.fullmatch(namespace):
        report_violation(f"{_where(args)}: {kind} is written to namespace {namespace!r}, which belongs to stack {namespace}", None)


pr_stack_confined_to_its_namespace = ResourceValidationPolicy(
    name="pr-stack-confined-to-its-namespace",
    description=(
        "A preview-pr-<N> stack writes only in namespace preview-pr-<N> (its Namespace is its only cluster-scoped object; "
        "no GitHub or DigitalOcean resources); other stacks write nothing in, and point no cluster-scoped object at, a PR namespace."
    ),
    validate=validate_pr_stack_confinement,
    enforcement_level=EnforcementLevel.MANDATORY,
)


POLICIES: tuple[ResourceValidationPolicy, ...] = (
    kubernetes_secret_data_is_secret,
    dockerconfigjson_shape,
    monitor_credentials_same_namespace,
    no_secret_looking_metadata,
    no_deprecated_api_versions,
    github_secret_no_deprecated_args,
    pr_stack_confined_to_its_namespace,
)
"""Every policy of the pack, in report order."""
