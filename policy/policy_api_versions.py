"""The pack's API-version guard rail: no Kubernetes resource uses a deprecated or removed group/version.

The built-in table (default of policy config ``deprecatedApis``) covers the operators the chain uses and every
Kubernetes group: Kubernetes entries follow the deprecation guide
(https://kubernetes.io/docs/reference/using-api/deprecation-guide/) and are tested against every release
kubernetes-validate ships: a version a newer release no longer serves, or an alpha/beta with a more stable
sibling, is refused; the newest version of every kind is not. Operators: Flux (https://fluxcd.io/flux/migration/),
cert-manager (https://cert-manager.io/docs/releases/upgrading/remove-deprecated-apis/), Prometheus Operator
(monitoring.coreos.com/v1; v1alpha1 holds only AlertmanagerConfig, PrometheusAgent and ScrapeConfig).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from policy_common import object_ids, peek, setting, where
from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

_ALPHA_BETA = r"v1alpha\d+|v1beta\d+"

DEPRECATED_APIS: tuple[dict[str, Any], ...] = (
    # operators
    {"group": "image.toolkit.fluxcd.io", "versions": _ALPHA_BETA, "replacement": "image.toolkit.fluxcd.io/v1"},
    {"group": "source.toolkit.fluxcd.io", "versions": _ALPHA_BETA, "replacement": "source.toolkit.fluxcd.io/v1"},
    {"group": "kustomize.toolkit.fluxcd.io", "versions": _ALPHA_BETA, "replacement": "kustomize.toolkit.fluxcd.io/v1"},
    {"group": "helm.toolkit.fluxcd.io", "versions": r"v2alpha\d+|v2beta\d+", "replacement": "helm.toolkit.fluxcd.io/v2"},
    {
        "group": "notification.toolkit.fluxcd.io",
        "versions": r"v1alpha\d+|v1beta[12]",
        "replacement": "notification.toolkit.fluxcd.io/v1 (Receiver) or v1beta3",
    },
    {"group": "cert-manager.io", "versions": _ALPHA_BETA, "replacement": "cert-manager.io/v1"},
    {"group": "acme.cert-manager.io", "versions": _ALPHA_BETA, "replacement": "acme.cert-manager.io/v1"},
    {
        "group": "monitoring.coreos.com",
        "versions": r"v1alpha\d+",
        "kinds": ["ServiceMonitor", "PodMonitor", "PrometheusRule", "Probe", "Prometheus", "Alertmanager", "ThanosRuler"],
        "replacement": "monitoring.coreos.com/v1",
    },
    # Kubernetes
    {"group": "extensions", "versions": r"v1beta\d+", "replacement": "apps/v1 or networking.k8s.io/v1"},
    {"group": "apps", "versions": r"v1beta\d+", "replacement": "apps/v1"},
    {"group": "networking.k8s.io", "versions": _ALPHA_BETA, "replacement": "networking.k8s.io/v1"},
    {"group": "policy", "versions": r"v1beta\d+", "replacement": "policy/v1"},
    {"group": "batch", "versions": r"v1beta\d+|v2alpha\d+", "replacement": "batch/v1"},
    {"group": "autoscaling", "versions": r"v2beta\d+", "replacement": "autoscaling/v2"},
    {"group": "rbac.authorization.k8s.io", "versions": _ALPHA_BETA, "replacement": "rbac.authorization.k8s.io/v1"},
    {"group": "admissionregistration.k8s.io", "versions": _ALPHA_BETA, "replacement": "admissionregistration.k8s.io/v1"},
    {"group": "apiextensions.k8s.io", "versions": r"v1beta\d+", "replacement": "apiextensions.k8s.io/v1"},
    {"group": "apiregistration.k8s.io", "versions": r"v1beta\d+", "replacement": "apiregistration.k8s.io/v1"},
    {"group": "authentication.k8s.io", "versions": _ALPHA_BETA, "replacement": "authentication.k8s.io/v1"},
    {"group": "authorization.k8s.io", "versions": r"v1beta\d+", "replacement": "authorization.k8s.io/v1"},
    {"group": "storage.k8s.io", "versions": _ALPHA_BETA, "replacement": "storage.k8s.io/v1"},
    {"group": "storagemigration.k8s.io", "versions": _ALPHA_BETA, "replacement": "storagemigration.k8s.io/v1"},
    {"group": "scheduling.k8s.io", "versions": _ALPHA_BETA, "kinds": ["PriorityClass"], "replacement": "scheduling.k8s.io/v1"},
    {"group": "scheduling.k8s.io", "versions": r"v1alpha\d+", "kinds": ["PodGroup", "Workload"], "replacement": "scheduling.k8s.io/v1beta1"},
    {"group": "coordination.k8s.io", "versions": _ALPHA_BETA, "kinds": ["Lease"], "replacement": "coordination.k8s.io/v1"},
    {"group": "coordination.k8s.io", "versions": r"v1alpha\d+", "kinds": ["LeaseCandidate"], "replacement": "coordination.k8s.io/v1beta1"},
    {"group": "certificates.k8s.io", "versions": _ALPHA_BETA, "replacement": "certificates.k8s.io/v1"},
    {"group": "discovery.k8s.io", "versions": r"v1beta\d+", "replacement": "discovery.k8s.io/v1"},
    {"group": "events.k8s.io", "versions": r"v1beta\d+", "replacement": "events.k8s.io/v1"},
    {"group": "node.k8s.io", "versions": _ALPHA_BETA, "replacement": "node.k8s.io/v1"},
    {"group": "flowcontrol.apiserver.k8s.io", "versions": _ALPHA_BETA, "replacement": "flowcontrol.apiserver.k8s.io/v1"},
    {
        "group": "resource.k8s.io",
        "versions": _ALPHA_BETA,
        "kinds": ["DeviceClass", "DeviceTaintRule", "ResourceClaim", "ResourceClaimTemplate", "ResourceSlice"],
        "replacement": "resource.k8s.io/v1",
    },
    {
        "group": "resource.k8s.io",
        "versions": r"v1alpha\d+",
        "kinds": ["PodScheduling", "PodSchedulingContext", "ResourceClass", "ResourceClaimParameters", "ResourceClassParameters"],
        "replacement": "nothing: classic DRA was removed (use DeviceClass and ResourceClaim in resource.k8s.io/v1)",
    },
)
"""Deprecated or removed API versions: ``group``, ``versions`` (regex, full match), optional ``kinds``, ``replacement``.
Default of policy config ``deprecatedApis`` (which replaces it)."""


def deprecated_replacement(group: str, version: str, kind: str, table: Iterable[Mapping[str, Any]] = DEPRECATED_APIS) -> str | None:
    """The apiVersion to use instead of ``group/version`` for ``kind``, or None when it is current."""
    kind = kind.removesuffix("Patch") if kind != "Patch" else kind
    for entry in table:
        kinds = entry.get("kinds")
        if group == entry["group"] and re.fullmatch(str(entry["versions"]), version) and (not kinds or kind in kinds):
            return str(entry["replacement"])
    return None


def validate_api_versions(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """No ``kubernetes:*`` resource uses a deprecated group/version (type token or apiVersion+kind inputs)."""
    table = setting(args, "deprecatedApis", DEPRECATED_APIS)
    identities = object_ids(args.resource_type, args.props)
    kind_input = peek(args.props, "kind")
    seen: set[tuple[str, str]] = set()
    for identity in identities:
        if (identity.group, identity.version) in seen:
            continue
        seen.add((identity.group, identity.version))
        kind = kind_input if isinstance(kind_input, str) and kind_input else identity.kind
        replacement = deprecated_replacement(identity.group, identity.version, kind, table)
        if replacement is not None:
            shown = identity.version if identity.group == "core" else f"{identity.group}/{identity.version}"
            report_violation(f"{where(args)}: {shown} {kind} is deprecated or removed; use {replacement}", None)


no_deprecated_api_versions = ResourceValidationPolicy(
    name="no-deprecated-api-versions",
    description="Kubernetes resources use current API versions (no Flux/cert-manager/Prometheus Operator/Kubernetes betas).",
    validate=validate_api_versions,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "deprecatedApis": {
                "type": "array",
                "description": "Deprecated API versions: {group, versions (regex), kinds (optional), replacement}. Replaces the default table.",
                "items": {
                    "type": "object",
                    "properties": {
                        "group": {"type": "string"},
                        "versions": {"type": "string"},
                        "kinds": {"type": "array", "items": {"type": "string"}},
                        "replacement": {"type": "string"},
                    },
                    "required": ["group", "versions", "replacement"],
                },
                "default": [dict(entry) for entry in DEPRECATED_APIS],
            }
        }
    ),
)

__all__ = ["DEPRECATED_APIS", "deprecated_replacement", "no_deprecated_api_versions", "validate_api_versions"]
