"""The pack's namespace guard rail.

A pull request's stack stays in its namespace, and no other stack writes into, points anything at, or grants
anything to, a pull request's namespace: not by a ``namespace`` field, a ``targetNamespace``/``storageNamespace``,
an RBAC user or group name, a namespace selector, or a replication annotation (:mod:`policy_grants`). What a PR
stack may create at all is :mod:`policy_allowlist`'s business; this rail decides where it writes.

Namespacedness is decided from the object's API group and kind, never from whether ``metadata.namespace`` is
set: the API server ignores ``metadata.namespace`` on a cluster-scoped object, so a ResourceSlice "in" the PR
namespace is still cluster-wide. Built-in kinds come from :data:`BUILTIN_SCOPES` (every kind of the Kubernetes
API, tested against the OpenAPI schemas kubernetes-validate ships); a custom resource is namespaced only when
policy config ``namespacedKinds`` says so (its CRD's ``spec.scope: Namespaced``). Anything else is not provably
namespaced and is refused on a PR stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from policy_common import ObjectId, api_version_of, get, is_list, items, join, object_ids, peek, setting, stack_of, where
from policy_grants import (
    NAME_LABEL,
    PR_NAMESPACE_LABEL_KEYS,
    Model,
    Ref,
    classify,
    replication_refs,
    structured_selector,
    subject_refs,
)
from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

PR_STACK = re.compile(r"preview-pr-[1-9][0-9]{0,8}")
"""Names of pull-request preview stacks (default of config ``prStackPattern``); stack ``preview-pr-<N>`` owns
exactly the namespace of the same name."""

# Scope of every built-in kind of the Kubernetes API (True: namespaced; False: cluster-scoped; None: not
# documented when written, so treated as not provably namespaced). Source: the API reference
# (https://kubernetes.io/docs/reference/kubernetes-api/, each kind's path: /api/v1/namespaces/{namespace}/… or not)
# and `kubectl api-resources --namespaced=false` on Kubernetes 1.34. tests/test_policy_namespaces.py fails when
# a Kubernetes release kubernetes-validate ships adds a kind this table lacks.
BUILTIN_SCOPES: dict[tuple[str, str], bool | None] = {
    ("core", "ConfigMap"): True,
    ("core", "Endpoints"): True,
    ("core", "Event"): True,
    ("core", "LimitRange"): True,
    ("core", "PersistentVolumeClaim"): True,
    ("core", "Pod"): True,
    ("core", "PodTemplate"): True,
    ("core", "ReplicationController"): True,
    ("core", "ResourceQuota"): True,
    ("core", "Secret"): True,
    ("core", "Service"): True,
    ("core", "ServiceAccount"): True,
    ("core", "ComponentStatus"): False,
    ("core", "Namespace"): False,
    ("core", "Node"): False,
    ("core", "PersistentVolume"): False,
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"): False,
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"): False,
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): False,
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"): False,
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"): False,
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): False,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): False,
    ("apiregistration.k8s.io", "APIService"): False,
    ("apps", "ControllerRevision"): True,
    ("apps", "DaemonSet"): True,
    ("apps", "Deployment"): True,
    ("apps", "ReplicaSet"): True,
    ("apps", "StatefulSet"): True,
    ("autoscaling", "HorizontalPodAutoscaler"): True,
    ("batch", "CronJob"): True,
    ("batch", "Job"): True,
    ("certificates.k8s.io", "CertificateSigningRequest"): False,
    ("certificates.k8s.io", "ClusterTrustBundle"): False,
    ("certificates.k8s.io", "PodCertificateRequest"): True,
    ("coordination.k8s.io", "Lease"): True,
    ("coordination.k8s.io", "LeaseCandidate"): True,
    ("discovery.k8s.io", "EndpointSlice"): True,
    ("events.k8s.io", "Event"): True,
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"): False,
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"): False,
    ("internal.apiserver.k8s.io", "StorageVersion"): False,
    ("lifecycle.k8s.io", "Eviction"): None,  # alpha (1.37): scope not documented
    ("lifecycle.k8s.io", "EvictionRequest"): None,  # alpha (1.37): scope not documented
    ("networking.k8s.io", "Ingress"): True,
    ("networking.k8s.io", "NetworkPolicy"): True,
    ("networking.k8s.io", "IngressClass"): False,
    ("networking.k8s.io", "IPAddress"): False,
    ("networking.k8s.io", "ServiceCIDR"): False,
    ("node.k8s.io", "RuntimeClass"): False,
    ("policy", "PodDisruptionBudget"): True,
    ("rbac.authorization.k8s.io", "Role"): True,
    ("rbac.authorization.k8s.io", "RoleBinding"): True,
    ("rbac.authorization.k8s.io", "ClusterRole"): False,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): False,
    ("resource.k8s.io", "ResourceClaim"): True,
    ("resource.k8s.io", "ResourceClaimTemplate"): True,
    ("resource.k8s.io", "DeviceClass"): False,
    ("resource.k8s.io", "DeviceTaintRule"): False,
    ("resource.k8s.io", "ResourceSlice"): False,
    ("resource.k8s.io", "ResourcePoolStatusRequest"): None,  # alpha (1.37): scope not documented
    ("scheduling.k8s.io", "PriorityClass"): False,
    ("scheduling.k8s.io", "CompositePodGroup"): None,  # alpha (1.37): scope not documented
    ("scheduling.k8s.io", "PodGroup"): None,  # beta (1.37): scope not documented
    ("scheduling.k8s.io", "Workload"): None,  # beta (1.37): scope not documented
    ("storage.k8s.io", "CSIStorageCapacity"): True,
    ("storage.k8s.io", "CSIDriver"): False,
    ("storage.k8s.io", "CSINode"): False,
    ("storage.k8s.io", "StorageClass"): False,
    ("storage.k8s.io", "VolumeAttachment"): False,
    ("storage.k8s.io", "VolumeAttributesClass"): False,
    ("storagemigration.k8s.io", "StorageVersionMigration"): False,
}

NOT_STORED_KINDS = frozenset(
    {
        ("core", "Binding"),  # pods/binding subresource
        ("policy", "Eviction"),  # pods/eviction subresource
        ("autoscaling", "Scale"),  # */scale subresource
        ("authentication.k8s.io", "TokenRequest"),  # serviceaccounts/token subresource
        ("authentication.k8s.io", "TokenReview"),
        ("authentication.k8s.io", "SelfSubjectReview"),
        ("authorization.k8s.io", "LocalSubjectAccessReview"),
        ("authorization.k8s.io", "SelfSubjectAccessReview"),
        ("authorization.k8s.io", "SelfSubjectRulesReview"),
        ("authorization.k8s.io", "SubjectAccessReview"),
    }
)
"""Create-only review objects and subresources: never stored, so not in :data:`BUILTIN_SCOPES` (refused on PR stacks)."""

HELM_RELEASE = ("helm.sh", "Release")
"""pulumi-kubernetes' ``helm.sh/v3:Release`` resource: written to its ``namespace`` input (not a Kubernetes object)."""

NAMESPACED_KINDS: tuple[str, ...] = (
    # Prometheus Operator: every monitoring.coreos.com CRD has scope: Namespaced
    # (https://github.com/prometheus-operator/prometheus-operator/tree/main/example/prometheus-operator-crd)
    "monitoring.coreos.com/ServiceMonitor",
    "monitoring.coreos.com/PodMonitor",
    "monitoring.coreos.com/Probe",
    "monitoring.coreos.com/PrometheusRule",
    "monitoring.coreos.com/AlertmanagerConfig",
    "monitoring.coreos.com/ScrapeConfig",
    "monitoring.coreos.com/Prometheus",
    "monitoring.coreos.com/PrometheusAgent",
    "monitoring.coreos.com/Alertmanager",
    "monitoring.coreos.com/ThanosRuler",
    # cert-manager: Issuer, Certificate, CertificateRequest, Order, Challenge are namespaced; ClusterIssuer is not
    # (https://cert-manager.io/docs/concepts/issuer/)
    "cert-manager.io/Certificate",
    "cert-manager.io/CertificateRequest",
    "cert-manager.io/Issuer",
    "acme.cert-manager.io/Order",
    "acme.cert-manager.io/Challenge",
    # Flux: every toolkit CRD is namespaced (https://fluxcd.io/flux/components/)
    "source.toolkit.fluxcd.io/GitRepository",
    "source.toolkit.fluxcd.io/OCIRepository",
    "source.toolkit.fluxcd.io/HelmRepository",
    "source.toolkit.fluxcd.io/HelmChart",
    "source.toolkit.fluxcd.io/Bucket",
    "source.toolkit.fluxcd.io/ExternalArtifact",
    "source.extensions.fluxcd.io/ArtifactGenerator",
    "kustomize.toolkit.fluxcd.io/Kustomization",
    "helm.toolkit.fluxcd.io/HelmRelease",
    "image.toolkit.fluxcd.io/ImageRepository",
    "image.toolkit.fluxcd.io/ImagePolicy",
    "image.toolkit.fluxcd.io/ImageUpdateAutomation",
    "notification.toolkit.fluxcd.io/Alert",
    "notification.toolkit.fluxcd.io/Provider",
    "notification.toolkit.fluxcd.io/Receiver",
)
"""Custom resource kinds (``group/Kind``) known to be namespaced: default of policy config ``namespacedKinds``.
tests/test_policy_namespaces.py holds it (and :data:`CLUSTER_SCOPED_KINDS`) against the ``scope`` of the CRDs
the cloudcoil-models-* packages are generated from (cert-manager 1.21, Flux 2.9, Prometheus Operator 0.93)."""

CLUSTER_SCOPED_KINDS: tuple[str, ...] = (
    "cert-manager.io/ClusterIssuer",
    "gateway.networking.k8s.io/GatewayClass",
    "external-secrets.io/ClusterSecretStore",
    "external-secrets.io/ClusterExternalSecret",
    "kyverno.io/ClusterPolicy",
    "kyverno.io/ClusterCleanupPolicy",
    "crd.projectcalico.org/GlobalNetworkPolicy",
    "crd.projectcalico.org/GlobalNetworkSet",
    "projectcalico.org/GlobalNetworkPolicy",
)
"""Custom resource kinds known to be cluster-scoped (default of config ``clusterScopedKinds``): only the wording
of messages depends on it, since anything not provably namespaced is refused on PR stacks anyway."""

_SKIPPED = frozenset({"metadata", "data", "stringData", "binaryData"})
_NAMESPACE_KEY = re.compile(r"[a-z][A-Za-z0-9]*Namespace")
"""``targetNamespace`` (Flux Kustomization and HelmRelease: where every object is written), ``storageNamespace``
(HelmRelease: where Helm's release Secret is written) and their like: a namespace by name, whatever the prefix
(Flux API: kustomize.toolkit.fluxcd.io/v1 ``KustomizationSpec.targetNamespace``, helm.toolkit.fluxcd.io/v2
``HelmReleaseSpec.targetNamespace``/``storageNamespace``, as in the CRDs the cloudcoil-models-fluxcd package is
generated from)."""
_NAMESPACES_KEY = re.compile(r"(?:[a-z][A-Za-z0-9]*Namespaces|namespaces|matchNames)")


def _kind_set(args: Any, key: str, default: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    found = set()
    for entry in setting(args, key, list(default)):
        group, _, kind = str(entry).rpartition("/")
        found.add((group or "core", kind))
    return frozenset(found)


def scope_of(identity: ObjectId, args: Any) -> bool | None:
    """True (namespaced), False (cluster-scoped) or None (not known) for one identity of a resource."""
    key = (identity.group, identity.kind)
    if key == HELM_RELEASE:
        return True
    if key in BUILTIN_SCOPES:
        return BUILTIN_SCOPES[key]
    if key in _kind_set(args, "namespacedKinds", NAMESPACED_KINDS):
        return True
    if key in _kind_set(args, "clusterScopedKinds", CLUSTER_SCOPED_KINDS):
        return False
    return None


def _identities(args: ResourceValidationArgs) -> list[ObjectId]:
    parsed = api_version_of(args.resource_type)
    if parsed is not None and (parsed[0], parsed[2]) == HELM_RELEASE:
        return [ObjectId(*parsed)]
    return object_ids(args.resource_type, args.props)


def _target_namespace(args: ResourceValidationArgs, identity: ObjectId) -> str | None:
    """Where a namespaced object is written: metadata.namespace, else the Kubernetes provider's default namespace."""
    release = (identity.group, identity.kind) == HELM_RELEASE
    namespace = get(args.props, "namespace") if release else get(args.props, "metadata", "namespace")
    if isinstance(namespace, str) and namespace:
        return namespace
    provider = getattr(args, "provider", None)
    if provider is not None and str(getattr(provider, "resource_type", "")).startswith("pulumi:providers:kubernetes"):
        default = get(provider.props, "namespace")
        if isinstance(default, str) and default:
            return default
    return None


def model_of(args: Any, pattern: re.Pattern[str]) -> Model:
    """What a pull request's namespace can look like under the policy's config."""
    return Model(pattern, frozenset(str(k) for k in setting(args, "prNamespaceLabelKeys", list(PR_NAMESPACE_LABEL_KEYS))))


def namespace_refs(props: Any, model: Model, *, skip: frozenset[str] = _SKIPPED) -> Iterator[Ref]:
    """Every reference to namespaces in an object, outside its own metadata and data (:class:`policy_grants.Ref`).

    ``name``: a ``namespace`` string, a ``…Namespace`` string (``targetNamespace``, ``storageNamespace``), a
    ``namespaces``/``matchNames``/``…Namespaces`` list entry, a namespaceSelector on :data:`NAME_LABEL`, the namespace
    in an RBAC ``User``/``Group`` name; ``all``: a group holding every namespace's accounts; ``any``: Prometheus
    Operator ``namespaceSelector.any: true``; ``label``/``selector``: a namespaceSelector on other labels. Values
    unknown during preview are skipped.
    """
    for key, child in items(props):
        if key not in skip:
            yield from _refs(child, str(key), key, model)


def _refs(value: Any, path: str, key: str | int, model: Model) -> Iterator[Ref]:
    if isinstance(key, str) and isinstance(value, str) and (key == "namespace" or _NAMESPACE_KEY.fullmatch(key)):
        yield Ref("name", path, value)
        return
    if isinstance(key, str) and _NAMESPACES_KEY.fullmatch(key) and is_list(value):
        for index, item in items(value):
            if isinstance(item, str):
                yield Ref("name", join(path, index), item)
        return
    if key == "namespaceSelector" and isinstance(value, Mapping):
        yield from _selector(value, path, model)
    if key == "namespaceSelectors" and is_list(value):  # e.g. external-secrets ClusterExternalSecret
        for index, selector in items(value):
            if isinstance(selector, Mapping):
                yield from _selector(selector, join(path, index), model)
    if isinstance(value, Mapping):
        yield from subject_refs(value, path)
    for child_key, child in items(value):
        if isinstance(child, Mapping) or is_list(child) or (isinstance(child_key, str) and isinstance(child, str) and child_key.endswith("amespace")):
            yield from _refs(child, join(path, child_key), child_key, model)


def _selector(selector: Mapping[str, Any], path: str, model: Model) -> Iterator[Ref]:
    # Prometheus Operator NamespaceSelector: any: true selects every namespace; matchNames lists them; empty selects
    # the monitor's own (https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.NamespaceSelector).
    if peek(selector, "any") is True:
        yield Ref("any", f"{path}.any", "")
    pinned = False
    for label, value in items(peek(selector, "matchLabels")):
        if label == NAME_LABEL and isinstance(value, str):
            pinned = True
            yield Ref("name", f'{path}.matchLabels["{label}"]', value)
    for index, expression in items(peek(selector, "matchExpressions")):
        label, operator = peek(expression, "key"), peek(expression, "operator")
        if label == NAME_LABEL and operator == "In":
            pinned = True
            for value_index, value in items(peek(expression, "values")):
                if isinstance(value, str):
                    yield Ref("name", f"{path}.matchExpressions[{index}].values[{value_index}]", value)
    requirements = structured_selector(selector)
    how = None if pinned or not requirements else classify(requirements, model, copies=False)
    if how is not None:
        shown = ", ".join(f"{r.key} {r.operator} {'|'.join(r.values)}".strip() for r in requirements if r.key != NAME_LABEL)
        yield Ref(how, path, shown)


def _own_namespace_labels(args: ResourceValidationArgs, own: str, model: Model) -> list[str]:
    """Label keys of a PR stack's own Namespace that are not the chain's: another could make a selector pick it."""
    labels = peek(args.props, "metadata", "labels")
    found = []
    for key, value in items(labels):
        if key == NAME_LABEL and value == own:
            continue
        if key not in model.keys:
            found.append(str(key))
    return sorted(found)


def validate_pr_stack_confinement(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """A ``preview-pr-<N>`` stack writes only in namespace ``preview-pr-<N>``; other stacks leave PR namespaces alone.

    The stack comes from the resource's URN (``urn:pulumi:<stack>::…``), which the engine sends with every
    resource. On a PR stack: the only cluster-scoped object allowed is the Namespace ``preview-pr-<N>``, carrying
    only the chain's label keys; every other Kubernetes object must be of a kind provably namespaced and written to
    that namespace (its ``metadata.namespace``, or the Kubernetes provider's default namespace), and name, select or
    copy into no other namespace. Resources outside Kubernetes are not this rail's: ``pr-stack-allow-list`` admits
    only the few the chain needs. On every other stack: nothing is written into a PR namespace, and no object names
    one, selects PR namespaces, grants to their accounts, or copies anything into them.
    """
    stack = stack_of(args.urn)
    if stack is None:
        return
    pattern = re.compile(str(setting(args, "prStackPattern", PR_STACK.pattern)))
    own = stack if pattern.fullmatch(stack) else None
    model = model_of(args, pattern)
    identities = _identities(args)
    if not identities:
        return
    identity = identities[-1]  # the apiVersion+kind inputs when present: what the provider sends
    kind = identity.kind
    if (identity.group, kind) == ("core", "Namespace"):
        name = get(args.props, "metadata", "name")
        if own is not None and name != own:
            report_violation(f"{where(args)}: stack {own} may create only its own Namespace {own!r}, not {name!r}", None)
        elif own is None and isinstance(name, str) and pattern.fullmatch(name):
            report_violation(f"{where(args)}: Namespace {name!r} belongs to stack {name}; stack {stack} must not create it", None)
        elif own is not None:
            extra = _own_namespace_labels(args, own, model)
            if extra:
                report_violation(
                    f"{where(args)}: Namespace {own!r} carries label {', '.join(extra)}; a pull request's namespace carries only "
                    f"the chain's label keys ({', '.join(sorted(model.keys))}: policy config prNamespaceLabelKeys), or another "
                    "stack's namespace selector or replication rule could pick it",
                    None,
                )
        return
    scopes = [scope_of(i, args) for i in identities]
    namespaced = all(s is True for s in scopes)
    cluster_scoped = any(s is False for s in scopes)
    if own is not None and not namespaced:
        if cluster_scoped:
            report_violation(
                f"{where(args)}: {kind} is cluster-scoped ({identity.group}); a pull request's stack ({own}) may create no "
                "cluster-scoped object but its Namespace. Shared objects belong to preview-base",
                None,
            )
        else:
            report_violation(
                f"{where(args)}: {kind} ({identity.group}) is not known to be namespaced, so it may be cluster-wide; a pull "
                f"request's stack ({own}) creates only namespaced kinds. If its CRD says scope: Namespaced, add "
                f"{identity.group}/{kind} to policy config namespacedKinds",
                None,
            )
        return
    namespace = _target_namespace(args, identity) if not cluster_scoped else None
    if own is not None and namespace != own:
        shown = f"namespace {namespace!r}" if namespace else "no namespace (cluster-scoped, or the provider's default namespace)"
        report_violation(
            f"{where(args)}: {kind} is written to {shown}; stack {own} may write only in namespace {own!r}. "
            "Set metadata.namespace to the stack's namespace",
            None,
        )
        return
    if own is None and namespace is not None and pattern.fullmatch(namespace):
        report_violation(f"{where(args)}: {kind} is written to namespace {namespace!r}, which belongs to stack {namespace}", None)
        return
    skip = _SKIPPED | ({"namespace"} if (identity.group, kind) == HELM_RELEASE else set())
    shown_kind = f"cluster-scoped {kind}" if cluster_scoped else kind
    refs = [*namespace_refs(args.props, model, skip=frozenset(skip)), *replication_refs(args.props, model)]
    for message in _ref_violations(refs, own, shown_kind, pattern):
        report_violation(f"{where(args)}: {message}", None)


def _ref_violations(refs: list[Ref], own: str | None, kind: str, pattern: re.Pattern[str]) -> Iterator[str]:
    """What each reference breaks: on a PR stack, anything beyond its own namespace; elsewhere, anything reaching a PR's."""
    stay = f"stack {own} may point only at {own!r}"
    keep_out = "nothing outside a pull request's stack may reach into its namespace"
    for how, path, value in refs:
        if how == "name" and own is not None and value != own:
            yield f"{kind} names namespace {value!r} ({path}); {stay}"
        elif how == "name" and own is None and pattern.fullmatch(value):
            yield f"{kind} names namespace {value!r} ({path}); nothing outside stack {value} may depend on a pull request's namespace"
        elif how == "all":
            yield f"{kind} {path}: {value}, pull requests' namespaces included; " + (stay if own else keep_out)
        elif how == "pattern":
            yield (
                f"{kind} {path} names namespaces by the pattern {value!r}, which may match a pull request's namespace (list "
                "the namespaces by name); " + (stay if own else keep_out)
            )
        elif how == "label":
            yield (
                f"{kind} selects namespaces by label ({path}: {value}), which a pull request's namespace carries or may be "
                "given; " + (stay if own else keep_out)
            )
        elif own is not None and how == "selector":
            yield f"{kind} selects namespaces by label ({path}: {value}); {stay}"
        elif own is not None and how == "any":
            yield f"{kind} {path} selects every namespace; {stay}"


def _kinds_schema(description: str, default: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string", "pattern": "^[^/]+/[A-Za-z0-9]+$"}, "description": description, "default": list(default)}


pr_stack_confined_to_its_namespace = ResourceValidationPolicy(
    name="pr-stack-confined-to-its-namespace",
    description=(
        "A preview-pr-<N> stack writes only in namespace preview-pr-<N> (its Namespace, with the chain's labels only, is its "
        "only cluster-scoped object; only provably namespaced kinds; no references to other namespaces); other stacks write "
        "nothing in, point nothing at, grant nothing to (RBAC users and groups, namespace selectors) and copy nothing into "
        "(replication annotations) a PR namespace."
    ),
    validate=validate_pr_stack_confinement,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "prStackPattern": {
                "type": "string",
                "description": "Regular expression (full match) of pull-request stack names; each owns the namespace of its name.",
                "default": PR_STACK.pattern,
            },
            "namespacedKinds": _kinds_schema(
                "Custom resource kinds (group/Kind) whose CRD has scope: Namespaced. Replaces the default list.", NAMESPACED_KINDS
            ),
            "clusterScopedKinds": _kinds_schema(
                "Custom resource kinds (group/Kind) known to be cluster-scoped (message wording).", CLUSTER_SCOPED_KINDS
            ),
            "prNamespaceLabelKeys": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Label keys a PR namespace may carry (the chain's own); a selector requiring one may pick a PR namespace.",
                "default": list(PR_NAMESPACE_LABEL_KEYS),
            },
        }
    ),
)

__all__ = [
    "BUILTIN_SCOPES",
    "CLUSTER_SCOPED_KINDS",
    "NAMESPACED_KINDS",
    "NAME_LABEL",
    "NOT_STORED_KINDS",
    "PR_NAMESPACE_LABEL_KEYS",
    "PR_STACK",
    "model_of",
    "namespace_refs",
    "pr_stack_confined_to_its_namespace",
    "scope_of",
    "validate_pr_stack_confinement",
]
