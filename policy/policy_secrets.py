"""The pack's secret guard rails.

Kubernetes Secret data, dockerconfigjson shape, Prometheus Operator monitor credentials, secret-looking
metadata, and GitHub secret arguments.

What policies can see of secret-ness: ``pulumi_policy`` hands ``validate`` functions the resource's inputs with
Pulumi's secret markers already removed (``deserialize_properties(..., proxy_secrets=False)``), so a
validation cannot tell a secret-marked ``stringData`` from a plain one. Only remediations receive the markers
(values wrapped in :class:`pulumi_policy.Secret`, reachable through ``props["__target"]``). Hence
:data:`kubernetes_secret_data_is_secret` is a *remediation*: it wraps any Kubernetes Secret
``data``/``stringData`` that arrives unmarked in ``Secret`` so that the engine encrypts it in state, and its
validation enforces what a validation can: ``data`` values are base64 and none is a bare secret-shaped string.

A resource is a Kubernetes Secret when any of its identities (type token, or apiVersion+kind inputs) is core
``v1`` ``Secret`` (see :mod:`policy_common`): ``CustomResource(api_version="v1", kind="Secret")`` and
``SecretList`` items are Secrets too. Messages name the resource, the field and the kind of problem; they never
repeat a value that looks like a secret.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from policy_common import is_kind, is_list, items, join, object_ids, peek, plain, raw_props, setting, unproxy, where
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    StackValidationPolicy,
)

# --- secret-shaped strings -------------------------------------------------------------------------

SECRET_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # No word boundary before a prefix: "x_ghp_…" has none ("_" is a word character), and real tokens carry
    # no "_" in their body (https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/).
    ("GitHub token (ghp_/gho_/ghu_/ghs_/ghr_)", re.compile(r"gh[pousr]_[A-Za-z0-9]{30,}")),
    ("GitHub fine-grained token (github_pat_)", re.compile(r"github_pat_[A-Za-z0-9_]{20,}")),
    ("DigitalOcean token (dop_v1_/doo_v1_/dor_v1_)", re.compile(r"do[opr]_v1_[0-9a-fA-F]{16,}")),
    ("Pulumi access token (pul-)", re.compile(r"pul-[0-9a-fA-F]{16,}")),
    ("PEM private key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")),
)
"""Kinds of secret by shape (nouns; messages say "a <noun>"). Built in; policy config ``extraSecretShapes`` adds more."""

LONG_HEX = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32,}(?![0-9A-Fa-f])")
"""32+ hex characters: what ``openssl rand -hex`` makes (16+ bytes)."""
HEX_NOUN = "long hex token (32+ hex characters)"

_BASE64_RUNS = (re.compile(r"[A-Za-z0-9+/]{16,}={0,2}"), re.compile(r"[A-Za-z0-9_-]{16,}={0,2}"))
"""Runs that may be base64 (RFC 4648 section 4) or base64url (section 5) of 12+ bytes."""
BASE64_DEPTH = 2
"""How many layers of base64 are peeled (base64 of base64 of a token is still found)."""

EXTRA_SHAPES_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "More kinds of secret by shape, on top of the built-in ones: {description: 'a Slack token', pattern: <Python regex>}.",
    "items": {
        "type": "object",
        "properties": {"description": {"type": "string"}, "pattern": {"type": "string"}},
        "required": ["description", "pattern"],
    },
    "default": [],
}


def extra_shapes(args: Any) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The shapes policy config ``extraSecretShapes`` adds (description without its article, compiled pattern)."""
    shapes = []
    for entry in setting(args, "extraSecretShapes", []):
        noun = re.sub(r"^(an?|the)\s+", "", str(entry["description"]))
        try:
            shapes.append((noun, re.compile(str(entry["pattern"]))))
        except re.error as error:
            raise ValueError(f"policy config extraSecretShapes: pattern for {noun!r} is not a regular expression: {error}") from error
    return tuple(shapes)


def _base64_layers(text: str) -> Iterator[str]:
    """Texts that base64/base64url runs inside ``text`` decode to (at every alignment, as latin-1)."""
    seen: set[str] = set()
    for pattern, altchars in zip(_BASE64_RUNS, (None, b"-_"), strict=True):
        for match in pattern.finditer(text):
            run = match.group().rstrip("=")
            for offset in range(4):
                chunk = run[offset:]
                chunk = chunk[: len(chunk) - len(chunk) % 4]
                if len(chunk) < 16 or chunk in seen:
                    continue
                seen.add(chunk)
                try:
                    decoded = base64.b64decode(chunk, altchars=altchars, validate=True)
                except (binascii.Error, ValueError):
                    continue
                yield decoded.decode("latin-1")


def _shape_noun(text: str, allow_hex: bool, extra: tuple[tuple[str, re.Pattern[str]], ...], depth: int) -> tuple[str, bool] | None:
    for noun, pattern in (*SECRET_SHAPES, *extra):
        if pattern.search(text):
            return noun, False
    if not allow_hex and LONG_HEX.search(text):
        return HEX_NOUN, False
    if depth > 0:
        for decoded in _base64_layers(text):
            found = _shape_noun(decoded, allow_hex, extra, depth - 1)
            if found is not None:
                return found[0], True
    return None


def secret_shape(text: str, *, allow_hex: bool = False, extra: tuple[tuple[str, re.Pattern[str]], ...] = (), decode: bool = True) -> str | None:
    """Describe the kind of secret ``text`` contains, plainly or base64-encoded, or None; never contains the text.

    ``allow_hex``: long hex is not a finding (digests); ``extra``: shapes from policy config; ``decode``:
    look inside base64 runs too (off for Secret ``data``, whose values are base64 by design).
    """
    found = _shape_noun(text, allow_hex, extra, BASE64_DEPTH if decode else 0)
    if found is None:
        return None
    noun, encoded = found
    return f"a base64-encoded {noun}" if encoded else f"a {noun}"


# --- which objects are Kubernetes Secrets ---------------------------------------------------------------


def secret_objects(args: Any) -> list[tuple[str, Any]]:
    """(message prefix, object) of every core/v1 Secret the resource writes: itself, or each item of a ``SecretList``."""
    if is_kind(args.resource_type, args.props, "core", "Secret"):
        return [("", args.props)]
    if is_kind(args.resource_type, args.props, "core", "SecretList"):
        return [(f"items[{index}] ", item) for index, item in items(peek(args.props, "items")) if isinstance(item, Mapping)]
    return []


# --- 1. Kubernetes Secret data is secret -----------------------------------------------------------

_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def validate_secret_data(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """``data`` values must be base64 and none may be a bare secret-shaped string (any core/v1 Secret, by apiVersion+kind)."""
    extra = extra_shapes(args)
    for prefix, obj in secret_objects(args):
        data = peek(obj, "data")
        if not isinstance(data, Mapping):
            continue
        for key in sorted(data):
            value = plain(data[key])
            field = f'{prefix}data["{key}"]'
            if not isinstance(value, str):
                report_violation(f"{where(args)}: {field} is not a string (Secret data values are base64 strings)", None)
                continue
            kind = secret_shape(value, extra=extra, decode=False)
            if kind is not None and not _BASE64.fullmatch(value):
                report_violation(
                    f"{where(args)}: {field} holds {kind} as plain text; data values must be base64 (use stringData, and mark it secret)", None
                )
                continue
            if not _BASE64.fullmatch(value) or len(value) % 4:
                report_violation(f"{where(args)}: {field} is not base64; use stringData for plain values", None)
                continue
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                report_violation(f"{where(args)}: {field} is not base64; use stringData for plain values", None)


def _secret_fields(args: ResourceValidationArgs) -> tuple[str, ...]:
    if is_kind(args.resource_type, args.props, "core", "Secret"):
        return ("data", "stringData")
    if is_kind(args.resource_type, args.props, "core", "SecretList"):
        return ("items",)
    return ()


def remediate_secret_data(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    """Mark a Kubernetes Secret's non-empty ``data``/``stringData`` (a SecretList's ``items``) secret when unmarked.

    Returns the new inputs (the engine then stores the values encrypted), or None when nothing changes.
    """
    fields = _secret_fields(args)
    if not fields:
        return None
    props = raw_props(args)
    changed = False
    new: dict[str, Any] = {}
    for key in props:
        value = props[key]
        if key in fields and not isinstance(value, Secret) and plain(value):
            value = Secret(unproxy(value))
            changed = True
        new[key] = value
    return new if changed else None


def unmarked_secret_fields(args: ResourceValidationArgs) -> list[str]:
    """Fields of a Kubernetes Secret whose values are present but not secret-marked (for reports and tests)."""
    props = raw_props(args)
    return [k for k in _secret_fields(args) if k in props and not isinstance(props[k], Secret) and plain(props[k])]


kubernetes_secret_data_is_secret = ResourceValidationPolicy(
    name="kubernetes-secret-data-is-secret",
    description=(
        "Kubernetes Secret data/stringData must be Pulumi secrets (remediated: unmarked values are marked secret); "
        "data values must be base64, never a plain token."
    ),
    validate=validate_secret_data,
    remediate=remediate_secret_data,  # type: ignore[arg-type]  # the SDK also accepts a plain (non-awaitable) result
    enforcement_level=EnforcementLevel.REMEDIATE,
    config_schema=PolicyConfigSchema(properties={"extraSecretShapes": EXTRA_SHAPES_SCHEMA}),
)


# --- 2. dockerconfigjson shape ---------------------------------------------------------------------

DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"


def _secret_values(props: Any) -> dict[str, str | None]:
    """Data keys → decoded text (None when undecodable), from ``stringData`` and base64 ``data``."""
    out: dict[str, str | None] = {}
    data = peek(props, "data")
    if isinstance(data, Mapping):
        for key in data:
            try:
                out[key] = base64.b64decode(str(plain(data[key])), validate=True).decode()
            except (binascii.Error, ValueError):
                out[key] = None
    string_data = peek(props, "stringData")
    if isinstance(string_data, Mapping):
        for key in string_data:
            value = plain(string_data[key])
            out[key] = value if isinstance(value, str) else None
    return out


def validate_dockerconfigjson(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """A dockerconfigjson Secret carries exactly ``.dockerconfigjson``: JSON ``auths`` with username, password, auth."""
    for prefix, obj in secret_objects(args):
        if peek(obj, "type") == DOCKERCONFIGJSON:
            _check_dockerconfigjson(args, prefix, obj, report_violation)


def _check_dockerconfigjson(args: ResourceValidationArgs, prefix: str, obj: Any, report_violation: ReportViolation) -> None:
    here = f"{where(args)}: {prefix}"
    values = _secret_values(obj)
    if set(values) != {".dockerconfigjson"}:
        keys = ", ".join(sorted(values)) or "none"
        report_violation(f"{here}a {DOCKERCONFIGJSON} Secret must carry exactly .dockerconfigjson (has: {keys})", None)
    text = values.get(".dockerconfigjson")
    if text is None:
        if ".dockerconfigjson" in values:
            report_violation(f"{here}.dockerconfigjson is not decodable text (data must be base64 of JSON)", None)
        return
    try:
        document = json.loads(text)
    except ValueError:
        report_violation(f"{here}.dockerconfigjson is not valid JSON", None)
        return
    auths = document.get("auths") if isinstance(document, dict) else None
    if not isinstance(auths, dict) or not auths:
        report_violation(f'{here}.dockerconfigjson has no "auths" object with at least one registry', None)
        return
    for registry in sorted(auths):
        entry = auths[registry]
        missing = [f for f in ("username", "password", "auth") if not isinstance(entry, dict) or not entry.get(f)]
        if missing:
            report_violation(f'{here}.dockerconfigjson auths["{registry}"] lacks {", ".join(missing)}', None)
            continue
        try:
            decoded = base64.b64decode(entry["auth"], validate=True).decode()
        except (binascii.Error, ValueError):
            decoded = None
        if decoded != f"{entry['username']}:{entry['password']}":
            report_violation(f'{here}.dockerconfigjson auths["{registry}"].auth is not base64 of username:password', None)


dockerconfigjson_shape = ResourceValidationPolicy(
    name="dockerconfigjson-shape",
    description="kubernetes.io/dockerconfigjson Secrets carry exactly .dockerconfigjson with auths: username, password, auth.",
    validate=validate_dockerconfigjson,
    enforcement_level=EnforcementLevel.MANDATORY,
)


# --- 3. Prometheus Operator monitors: credentials in the monitor's namespace ----------------------------
#
# Upstream: every SecretKeySelector / ConfigMapKeySelector of a ServiceMonitor, PodMonitor or Probe is a
# core/v1 selector without a namespace field, resolved in the monitor's own namespace ("credentials defines a
# key of a Secret in the namespace that contains the credentials", monitoring.coreos.com_servicemonitors.yaml;
# API reference https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.SafeAuthorization
# and .../v1.SafeTLSConfig). The paths below are every selector of the v1 CRD schemas (prometheus-operator
# v0.93: ServiceMonitor spec.endpoints[], PodMonitor spec.podMetricsEndpoints[], Probe spec itself).

MONITOR_GROUP = "monitoring.coreos.com"
MONITOR_KINDS = {"ServiceMonitor": "endpoints", "PodMonitor": "podMetricsEndpoints"}
"""Prometheus Operator kinds whose endpoints carry credentials, and the spec field listing them."""
SPEC_MONITOR_KINDS = frozenset({"Probe"})
"""Prometheus Operator kinds whose ``spec`` itself is the one endpoint (Probe: authorization, basicAuth, oauth2, tlsConfig…)."""

SECRET_REFS: tuple[tuple[str, ...], ...] = (
    ("authorization", "credentials"),
    ("bearerTokenSecret",),
    ("basicAuth", "username"),
    ("basicAuth", "password"),
    ("oauth2", "clientId", "secret"),
    ("oauth2", "clientSecret"),
    ("oauth2", "tlsConfig", "ca", "secret"),
    ("oauth2", "tlsConfig", "cert", "secret"),
    ("oauth2", "tlsConfig", "keySecret"),
    ("tlsConfig", "ca", "secret"),
    ("tlsConfig", "cert", "secret"),
    ("tlsConfig", "keySecret"),
)
"""Paths, within one endpoint, of the SecretKeySelectors the operator resolves (in the monitor's namespace only)."""

CONFIGMAP_REFS: tuple[tuple[str, ...], ...] = (
    ("oauth2", "clientId", "configMap"),
    ("oauth2", "tlsConfig", "ca", "configMap"),
    ("oauth2", "tlsConfig", "cert", "configMap"),
    ("tlsConfig", "ca", "configMap"),
    ("tlsConfig", "cert", "configMap"),
)
"""Paths, within one endpoint, of the ConfigMapKeySelectors the operator resolves (in the monitor's namespace only)."""

HEADER_REFS: tuple[tuple[str, ...], ...] = (("proxyConnectHeader",), ("oauth2", "proxyConnectHeader"), ("prober", "proxyConnectHeader"))
"""Paths of header-name → [SecretKeySelector] maps (``prober`` only in a Probe's spec)."""

DEPRECATED_ENDPOINT_FIELDS = {"bearerTokenSecret": "authorization.credentials", "bearerTokenFile": "authorization.credentials"}


def monitor_kind(resource_type: str, props: Any) -> str | None:
    """``ServiceMonitor``/``PodMonitor``/``Probe`` when the resource is one (typed, CustomResource or generic token)."""
    for identity in object_ids(resource_type, props):
        if identity.group == MONITOR_GROUP and (identity.kind in MONITOR_KINDS or identity.kind in SPEC_MONITOR_KINDS):
            return identity.kind
    return None


def monitor_endpoints(kind: str, props: Any) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(message label, stack-policy label, endpoint) of a monitor: each listed endpoint, or a Probe's spec."""
    if kind in SPEC_MONITOR_KINDS:
        spec = peek(props, "spec")
        if isinstance(spec, Mapping):
            yield "spec", "spec", spec
        return
    field = MONITOR_KINDS[kind]
    for index, endpoint in items(peek(props, "spec", field)):
        if isinstance(endpoint, Mapping):
            yield f"endpoint {index}", f"{field}[{index}]", endpoint


def selector_refs(endpoint: Any) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(path, ``Secret``/``ConfigMap``, selector) of every key selector in one endpoint."""
    for paths, kind in ((SECRET_REFS, "Secret"), (CONFIGMAP_REFS, "ConfigMap")):
        for path in paths:
            ref = peek(endpoint, *path)
            if isinstance(ref, Mapping):
                yield ".".join(path), kind, ref
    for path in HEADER_REFS:
        for header, selectors in items(peek(endpoint, *path)):
            for index, ref in items(selectors):
                if isinstance(ref, Mapping):
                    yield f'{".".join(path)}["{header}"][{index}]', "Secret", ref


def validate_monitor_credentials(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """ServiceMonitor/PodMonitor/Probe key selectors name no namespace; deprecated bearer token fields are flagged."""
    kind = monitor_kind(args.resource_type, args.props)
    if kind is None:
        return
    namespace = peek(args.props, "metadata", "namespace")
    for label, _, endpoint in monitor_endpoints(kind, args.props):
        for field, replacement in DEPRECATED_ENDPOINT_FIELDS.items():
            if field in endpoint:
                report_violation(f"{where(args)}: {label} uses deprecated {field}; use {replacement}", None)
        for path, _, ref in selector_refs(endpoint):
            if "namespace" not in ref:
                continue
            ref_ns = peek(ref, "namespace")
            if namespace is None or ref_ns != namespace:
                report_violation(
                    f"{where(args)}: {label} {path} names namespace {ref_ns!r}; the Prometheus Operator "
                    f"reads credentials only from the monitor's own namespace ({namespace!r}). Copy the Secret there",
                    None,
                )
            else:
                report_violation(
                    f"{where(args)}: {label} {path} has a namespace field; key selectors have none (the monitor's own namespace is used). Remove it",
                    None,
                )


monitor_credentials_same_namespace = ResourceValidationPolicy(
    name="monitor-credentials-same-namespace",
    description=(
        "ServiceMonitor/PodMonitor/Probe credentials reference Secrets in the monitor's own namespace only; "
        "deprecated bearerTokenSecret/bearerTokenFile are not used."
    ),
    validate=validate_monitor_credentials,
    enforcement_level=EnforcementLevel.MANDATORY,
)


def _object_namespace(resource: Any) -> str | None:
    """metadata.namespace, else the Kubernetes provider's default namespace, else None (unknown or unset)."""
    namespace = peek(resource.props, "metadata", "namespace")
    if isinstance(namespace, str) and namespace:
        return namespace
    provider = getattr(resource, "provider", None)
    if provider is not None and str(getattr(provider, "resource_type", "")).startswith("pulumi:providers:kubernetes"):
        default = peek(provider.props, "namespace")
        if isinstance(default, str) and default:
            return default
    return None


def validate_monitor_secret_namespaces(args: Any, report_violation: ReportViolation) -> None:
    """Every Secret/ConfigMap a monitor reads is registered by the stack in the monitor's namespace (stack policy).

    The operator looks only in the monitor's namespace, so a Secret the stack writes in the app's namespace
    alone leaves the monitor without credentials. Objects another stack or tool creates are declared in
    policy config ``unmanagedSecrets`` (``namespace/name``). When a registered object's name or namespace is
    unknown (preview), a missing object is not reported.
    """
    registered: dict[tuple[str, str], set[str]] = {}
    uncertain = False
    monitors = []
    for resource in args.resources:
        for kind in ("Secret", "ConfigMap"):
            if is_kind(resource.resource_type, resource.props, "core", kind):
                name = peek(resource.props, "metadata", "name")
                namespace = _object_namespace(resource)
                if isinstance(name, str) and namespace is not None:
                    registered.setdefault((kind, name), set()).add(namespace)
                else:
                    uncertain = True
        kind_of_monitor = monitor_kind(resource.resource_type, resource.props)
        if kind_of_monitor is not None:
            monitors.append((kind_of_monitor, resource))
    unmanaged = {str(v) for v in setting(args, "unmanagedSecrets", [])}
    for kind, resource in monitors:
        namespace = _object_namespace(resource)
        if namespace is None:
            continue
        name = peek(resource.props, "metadata", "name")
        for _, label, endpoint in monitor_endpoints(kind, resource.props):
            for path, ref_kind, ref in selector_refs(endpoint):
                ref_name = peek(ref, "name")
                if not isinstance(ref_name, str) or f"{namespace}/{ref_name}" in unmanaged:
                    continue
                namespaces = registered.get((ref_kind, ref_name), set())
                if namespace in namespaces:
                    continue
                head = f"{kind} {namespace}/{name} {label}.{path} reads {ref_kind} {ref_name!r} from namespace {namespace!r}"
                if namespaces:
                    shown = ", ".join(repr(n) for n in sorted(namespaces))
                    report_violation(f"{head}; the stack registers it only in {shown}. Register it in {namespace!r} too", resource.urn)
                elif not uncertain:
                    report_violation(
                        f"{head}; the stack does not register it there (declare it in policy config unmanagedSecrets "
                        f"as {namespace}/{ref_name} if another stack or tool creates it)",
                        resource.urn,
                    )


monitor_secrets_in_monitor_namespace = StackValidationPolicy(
    name="monitor-secrets-in-monitor-namespace",
    description=(
        "Every Secret/ConfigMap a ServiceMonitor, PodMonitor or Probe reads is registered by the stack in the monitor's own "
        "namespace (or declared in config unmanagedSecrets)."
    ),
    validate=validate_monitor_secret_namespaces,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "unmanagedSecrets": {
                "type": "array",
                "items": {"type": "string", "pattern": "^[a-z0-9.-]+/[a-z0-9.-]+$"},
                "description": "Secrets/ConfigMaps (namespace/name) monitors may read that this stack does not register.",
                "default": [],
            }
        }
    ),
)


# --- 4. No secret-shaped strings in names, labels, annotations -------------------------------------

DIGEST_LENGTHS = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}
"""Hex length of each digest algorithm's output (what ``hexdigest()`` and ``sha256sum`` print)."""

DIGEST_ANNOTATIONS: dict[str, str] = {
    "checksum/*": "sha256",  # Helm's convention: checksum/config: {{ … | sha256sum }} (helm.sh/docs/howto/charts_tips_and_tricks)
    "secret-chain/rollout-hmac-sha256-*": "sha256",  # components/secret_chain/kube.py: rollout_annotation_key / rollout_digest
}
"""Label/annotation keys (exact, or a prefix ending in ``*``) whose value is a hex digest, and its algorithm.
Default of policy config ``digestAnnotations``. A key whose last ``/ . _ -`` segment is an algorithm name
(``example.com/config-sha256``) is a digest key too. Under a digest key, long hex is allowed only when the
value is exactly the digest (lowercase hex of its length): a token there is still found."""

LABEL_MAPS = frozenset({"labels", "annotations", "podLabels", "podAnnotations", "commonLabels", "commonAnnotations"})
"""Keys of label/annotation maps, wherever they sit: object and pod-template metadata, Helm chart values."""
_OBJECT_DATA = frozenset({"data", "stringData", "binaryData"})


def digest_algorithm(key: str, table: Mapping[str, str]) -> str | None:
    """The digest algorithm a label/annotation key announces (config table, else its last segment), or None."""
    for pattern in sorted(table, key=len, reverse=True):
        if (pattern.endswith("*") and key.startswith(pattern[:-1])) or key == pattern:
            algorithm = str(table[pattern]).lower()
            return algorithm if algorithm in DIGEST_LENGTHS else None
    last = re.split(r"[/._-]", key)[-1].lower()
    return last if last in DIGEST_LENGTHS else None


def _object_metadata(metadata: Any, path: str) -> Iterator[tuple[str, str, str | None]]:
    for field in ("name", "generateName"):
        value = peek(metadata, field)
        if isinstance(value, str):
            yield f"{path}.{field}", value, None
    for section in ("labels", "annotations"):
        yield from _label_map(peek(metadata, section), f"{path}.{section}")


def _label_map(mapping: Any, path: str) -> Iterator[tuple[str, str, str | None]]:
    if not isinstance(mapping, Mapping):
        return
    for key, value in sorted(items(mapping), key=lambda kv: str(kv[0])):
        yield f"{path} key", str(key), None
        if isinstance(value, str):
            yield f'{path}["{key}"]', value, str(key)


def metadata_strings(props: Any) -> Iterator[tuple[str, str, str | None]]:
    """(where, text, label/annotation key or None) of every name, label and annotation key and value.

    Object metadata, every nested ``metadata`` (pod templates of Deployments, StatefulSets, DaemonSets,
    ReplicaSets, ReplicationControllers, Jobs, CronJobs' ``jobTemplate``, PodTemplates, volumeClaimTemplates,
    custom resources), and label/annotation maps anywhere (Helm values ``podAnnotations``…).
    """
    metadata = peek(props, "metadata")
    if isinstance(metadata, Mapping):
        yield from _object_metadata(metadata, "metadata")
    for key, child in items(props):
        if key not in ("metadata", *_OBJECT_DATA):
            yield from _nested_metadata(child, str(key))


def _nested_metadata(value: Any, path: str) -> Iterator[tuple[str, str, str | None]]:
    for key, child in items(value):
        here = join(path, key)
        if key == "metadata" and isinstance(child, Mapping):
            yield from _object_metadata(child, here)
        elif key in LABEL_MAPS and isinstance(child, Mapping):
            yield from _label_map(child, here)
        elif isinstance(child, Mapping) or is_list(child):
            yield from _nested_metadata(child, here)


def validate_no_secret_metadata(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """No resource name, Kubernetes object name, label or annotation (pod templates included) looks like a secret."""
    extra = extra_shapes(args)
    digests: Mapping[str, str] = setting(args, "digestAnnotations", DIGEST_ANNOTATIONS)
    kind = secret_shape(args.name, extra=extra)
    if kind is not None:
        report_violation(f"{args.resource_type}: the resource name contains {kind}; names and URNs are never secret", None)
    for field, text, key in metadata_strings(args.props):
        algorithm = digest_algorithm(key, digests) if key is not None else None
        digest = algorithm is not None and re.fullmatch(f"[0-9a-f]{{{DIGEST_LENGTHS[algorithm]}}}", text) is not None
        kind = secret_shape(text, allow_hex=digest, extra=extra)
        if kind is None:
            continue
        if algorithm is not None and not digest and kind == f"a {HEX_NOUN}":
            report_violation(
                f"{where(args)}: {field} is not exactly a {algorithm} digest ({DIGEST_LENGTHS[algorithm]} lowercase hex characters) "
                f"and contains {kind}; metadata is stored and shown in plain text",
                None,
            )
        else:
            report_violation(f"{where(args)}: {field} contains {kind}; metadata is stored and shown in plain text", None)


no_secret_looking_metadata = ResourceValidationPolicy(
    name="no-secret-looking-metadata",
    description="No resource name, object name, label or annotation contains a token, private key or long hex string.",
    validate=validate_no_secret_metadata,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "extraSecretShapes": EXTRA_SHAPES_SCHEMA,
            "digestAnnotations": {
                "type": "object",
                "description": "Label/annotation keys (exact, or prefix*) whose values are hex digests, and the algorithm "
                "(md5, sha1, sha224, sha256, sha384, sha512). Replaces the default table.",
                "additionalProperties": {"type": "string", "enum": sorted(DIGEST_LENGTHS)},
                "default": DIGEST_ANNOTATIONS,
            },
        }
    ),
)


# --- 5. No secret-shaped plain values ----------------------------------------------------------------
#
# A validation cannot see Pulumi's secret markers (module docstring), so "plain" is decided by the schema: an input
# is secret when its provider's schema says so. The SDKs generated from those schemas wrap exactly those inputs in
# ``pulumi.Output.secret`` (e.g. ``pulumi_github/actions_secret.py``: ``plaintext_value``, ``encrypted_value``,
# ``value``, ``value_encrypted``; ``pulumi_kubernetes/core/v1/Secret.py``: ``data``, ``string_data``);
# tests/test_policy_secrets.py reads the installed SDKs and holds :data:`SECRET_INPUTS` to them. Every other string
# input of every resource is plain: ConfigMap ``data``/``binaryData``, a container's ``env[].value`` in every pod
# template spelling, Helm ``values`` (``helm.sh/v3:Release``, ``helm.sh/v4:Chart``, Flux HelmRelease
# ``spec.values``), a GitHub Actions variable's ``value``, a URL, a command line…

SECRET_INPUTS: dict[str, tuple[str, ...]] = {
    "digitalocean:index/certificate:Certificate": ("privateKey",),
    "digitalocean:index/databaseLogsinkOpensearch:DatabaseLogsinkOpensearch": ("caCert",),
    "digitalocean:index/databaseLogsinkRsyslog:DatabaseLogsinkRsyslog": ("caCert", "clientKey"),
    "digitalocean:index/dedicatedInference:DedicatedInference": ("huggingFaceToken",),
    "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret": ("encryptedValue", "plaintextValue", "value", "valueEncrypted"),
    "github:index/actionsOrganizationSecret:ActionsOrganizationSecret": ("encryptedValue", "plaintextValue", "value", "valueEncrypted"),
    "github:index/actionsSecret:ActionsSecret": ("encryptedValue", "plaintextValue", "value", "valueEncrypted"),
    "github:index/codespacesOrganizationSecret:CodespacesOrganizationSecret": ("encryptedValue", "plaintextValue"),
    "github:index/codespacesSecret:CodespacesSecret": ("encryptedValue", "plaintextValue"),
    "github:index/codespacesUserSecret:CodespacesUserSecret": ("encryptedValue", "plaintextValue"),
    "github:index/dependabotOrganizationSecret:DependabotOrganizationSecret": ("encryptedValue", "plaintextValue", "value", "valueEncrypted"),
    "github:index/dependabotSecret:DependabotSecret": ("encryptedValue", "plaintextValue", "value", "valueEncrypted"),
    "kubernetes:core/v1:Secret": ("data", "stringData"),
    "kubernetes:core/v1:SecretPatch": ("data", "stringData"),
    "pulumiservice:api/esc:Environment": ("yaml",),
    "pulumiservice:api/esc:EnvironmentSchedule": ("secretRotationRequest",),
    "pulumiservice:api/esc:Webhook": ("secret",),
    "pulumiservice:api/stacks:Config": ("secretsProvider",),
    "pulumiservice:api/stacks:Webhook": ("secret",),
    "pulumiservice:api:OrganizationWebhook": ("secret",),
    "pulumiservice:index:Webhook": ("secret",),
}
"""Resource type → its top-level inputs that are secret by the provider's schema (the installed pulumi-github,
pulumi-kubernetes, pulumi-digitalocean, pulumi-pulumiservice SDKs). Policy config ``secretInputs`` adds more."""

UNSCANNED_PREFIXES: tuple[str, ...] = ("pulumi:providers:", "secret-chain:")
"""Providers (their configuration is credentials by design: each provider's schema marks its tokens secret) and the
chain's own components (their args carry secrets, which the components wrap as secrets before use)."""

_PLAIN_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(^|\.)env\[\d+\]\.value$"), "use env[].valueFrom.secretKeyRef"),
    (re.compile(r"^(data|binaryData)\b"), "put it in a Secret"),
    (re.compile(r"(^|\.)values\b"), "read it from a Secret (Flux valuesFrom, the chart's existingSecret)"),
)


def _plain_hint(resource_type: str, path: str) -> str:
    if resource_type.startswith("github:") and "Variable" in resource_type:
        return "use an Actions secret, not a variable"
    for pattern, hint in _PLAIN_HINTS:
        if pattern.search(path):
            return hint
    return "pass it through a secret (a Kubernetes Secret, a secret input)"


def _secret_inputs(args: Any) -> frozenset[str]:
    table: dict[str, list[str]] = {k: list(v) for k, v in SECRET_INPUTS.items()}
    for entry in setting(args, "secretInputs", []):
        token, _, field = str(entry).rpartition(".")
        table.setdefault(token, []).append(field)
    fields = set(table.get(args.resource_type, ()))
    if is_kind(args.resource_type, args.props, "core", "Secret"):
        fields |= {"data", "stringData"}
    if is_kind(args.resource_type, args.props, "core", "SecretList"):
        fields.add("items")
    return frozenset(fields)


def plain_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) of every string in a value, but metadata and label/annotation maps (the metadata policy's).

    A ``pulumi.StringAsset`` (what pulumi-policy's ``deserialize`` makes of a text asset, e.g. a
    ``pulumiservice:index:Environment``'s ``yaml``) is plain text too: its ``text`` is read.
    """
    if isinstance(value, str):
        yield path, value
        return
    text = getattr(value, "text", None)
    if isinstance(text, str) and not isinstance(value, Mapping):
        yield path, text
        return
    for key, child in items(value):
        if key in LABEL_MAPS:
            continue
        if key == "metadata" and isinstance(child, Mapping):
            for field, grandchild in items(child):
                if field not in _METADATA_POLICY_FIELDS:
                    yield from plain_strings(grandchild, join(join(path, key), field))
            continue
        yield from plain_strings(child, join(path, key))


_METADATA_POLICY_FIELDS = frozenset({"name", "generateName", "labels", "annotations"})
"""What ``no-secret-looking-metadata`` reads in every ``metadata`` (reported there, not twice)."""


def validate_no_plain_secret_values(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """No plain (not secret by schema) input of any resource holds a secret-shaped value, plainly or base64-encoded."""
    if args.resource_type.startswith(UNSCANNED_PREFIXES):
        return
    extra = extra_shapes(args)
    secret_fields = _secret_inputs(args)
    for key, child in items(args.props):
        if key in secret_fields:
            continue
        for path, text in plain_strings({key: child}):
            kind = secret_shape(text, allow_hex=True, extra=extra)
            if kind is not None:
                report_violation(
                    f"{where(args)}: {path} holds {kind} in a plain input, which state, previews and the API show unencrypted; "
                    f"{_plain_hint(args.resource_type, path)}",
                    None,
                )


no_secret_shaped_plain_values = ResourceValidationPolicy(
    name="no-secret-shaped-plain-values",
    description=(
        "No plain input holds a token or private key (ConfigMap data/binaryData, container env values, Helm values, GitHub "
        "Actions variables, any input its provider's schema does not mark secret); Kubernetes Secret data and GitHub "
        "secrets' values are secret inputs."
    ),
    validate=validate_no_plain_secret_values,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "extraSecretShapes": EXTRA_SHAPES_SCHEMA,
            "secretInputs": {
                "type": "array",
                "items": {"type": "string", "pattern": "^.+\\.[A-Za-z0-9_]+$"},
                "description": "More inputs that are secret by their provider's schema: '<type token>.<input name>'.",
                "default": [],
            },
        }
    ),
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
        if field in args.props and peek(args.props, field) is not None:
            report_violation(f"{where(args)}: argument {field} is deprecated; use {replacement}", None)


github_secret_no_deprecated_args = ResourceValidationPolicy(
    name="github-secret-no-deprecated-args",
    description="GitHub secrets are written with value (or valueEncrypted), not deprecated plaintextValue/encryptedValue.",
    validate=validate_github_secret_args,
    enforcement_level=EnforcementLevel.MANDATORY,
)

__all__ = [
    "BASE64_DEPTH",
    "CONFIGMAP_REFS",
    "DEPRECATED_ENDPOINT_FIELDS",
    "DEPRECATED_GITHUB_ARGS",
    "DIGEST_ANNOTATIONS",
    "DIGEST_LENGTHS",
    "DOCKERCONFIGJSON",
    "HEADER_REFS",
    "LONG_HEX",
    "MONITOR_KINDS",
    "SECRET_INPUTS",
    "SECRET_REFS",
    "SECRET_SHAPES",
    "SPEC_MONITOR_KINDS",
    "UNSCANNED_PREFIXES",
    "digest_algorithm",
    "dockerconfigjson_shape",
    "github_secret_no_deprecated_args",
    "kubernetes_secret_data_is_secret",
    "metadata_strings",
    "monitor_credentials_same_namespace",
    "monitor_endpoints",
    "monitor_kind",
    "monitor_secrets_in_monitor_namespace",
    "no_secret_looking_metadata",
    "no_secret_shaped_plain_values",
    "plain_strings",
    "remediate_secret_data",
    "secret_objects",
    "secret_shape",
    "selector_refs",
    "unmarked_secret_fields",
    "validate_dockerconfigjson",
    "validate_github_secret_args",
    "validate_monitor_credentials",
    "validate_monitor_secret_namespaces",
    "validate_no_plain_secret_values",
    "validate_no_secret_metadata",
    "validate_secret_data",
]
