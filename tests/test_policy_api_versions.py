"""The pack's API-version guard rail (``policy/policy_api_versions.py``): ``no-deprecated-api-versions``.

Each row is a resource and either nothing (a current API) or the replacement the violation names. Rows marked
``# attack`` passed the pack before issue 13 (each failed against the pack as it was); the last two tests hold
the built-in table against the Kubernetes schemas kubernetes-validate ships (every release it has).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import policies
from tests.policies import Args, run

P = policies.load()
GENERIC_CR = "kubernetes:apiextensions.k8s.io:CustomResource"


@dataclass(frozen=True)
class Case:
    """One row: the guard rail, the resource (type token, apiVersion, kind) and the replacement expected, if any."""

    tried: str
    resource_type: str
    api_version: str | None
    kind: str | None
    expected: str | None = None
    config: Mapping[str, Any] | None = None


RAIL = "no deprecated or removed API version (type token or apiVersion+kind)"
CASES = [
    Case("core Secret", "kubernetes:core/v1:Secret", "v1", "Secret"),
    Case("apps Deployment", "kubernetes:apps/v1:Deployment", "apps/v1", "Deployment"),
    Case("ServiceMonitor v1", "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "monitoring.coreos.com/v1", "ServiceMonitor"),
    Case(
        "AlertmanagerConfig v1alpha1 (current)",
        "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig",
        "monitoring.coreos.com/v1alpha1",
        "AlertmanagerConfig",
    ),
    Case("Flux ImagePolicy v1", "kubernetes:image.toolkit.fluxcd.io/v1:ImagePolicy", "image.toolkit.fluxcd.io/v1", "ImagePolicy"),
    Case("Helm release", "kubernetes:helm.sh/v3:Release", None, None),
    Case(
        "HPA autoscaling/v1 (stable, not deprecated)",
        "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
        "autoscaling/v1",
        "HorizontalPodAutoscaler",
    ),
    Case(
        "Flux ImageRepository v1beta1",
        "kubernetes:image.toolkit.fluxcd.io/v1beta1:ImageRepository",
        None,
        "ImageRepository",
        "image.toolkit.fluxcd.io/v1",
    ),
    Case(
        "Flux ImagePolicy v1beta2",
        "kubernetes:image.toolkit.fluxcd.io/v1beta2:ImagePolicy",
        "image.toolkit.fluxcd.io/v1beta2",
        "ImagePolicy",
        "image.toolkit.fluxcd.io/v1",
    ),
    Case(
        "Flux GitRepository v1beta2",
        "kubernetes:source.toolkit.fluxcd.io/v1beta2:GitRepository",
        "source.toolkit.fluxcd.io/v1beta2",
        "GitRepository",
        "source.toolkit.fluxcd.io/v1",
    ),
    Case("HelmRelease v2beta1", "kubernetes:helm.toolkit.fluxcd.io/v2beta1:HelmRelease", None, "HelmRelease", "helm.toolkit.fluxcd.io/v2"),
    Case("Certificate v1alpha2", "kubernetes:cert-manager.io/v1alpha2:Certificate", None, "Certificate", "cert-manager.io/v1"),
    Case("ClusterIssuer v1alpha3", "kubernetes:cert-manager.io/v1alpha3:ClusterIssuer", None, "ClusterIssuer", "cert-manager.io/v1"),
    Case("ServiceMonitor v1alpha1", "kubernetes:monitoring.coreos.com/v1alpha1:ServiceMonitor", None, "ServiceMonitor", "monitoring.coreos.com/v1"),
    Case("Ingress extensions/v1beta1", "kubernetes:extensions/v1beta1:Ingress", "extensions/v1beta1", "Ingress", "apps/v1 or networking.k8s.io/v1"),
    Case("Ingress networking v1beta1", "kubernetes:networking.k8s.io/v1beta1:Ingress", None, "Ingress", "networking.k8s.io/v1"),
    Case("PDB policy/v1beta1", "kubernetes:policy/v1beta1:PodDisruptionBudget", None, "PodDisruptionBudget", "policy/v1"),
    Case("CronJobPatch batch/v1beta1", "kubernetes:batch/v1beta1:CronJobPatch", None, "CronJobPatch", "batch/v1"),
    Case("generic CustomResource Issuer v1alpha2", GENERIC_CR, "cert-manager.io/v1alpha2", "Issuer", "cert-manager.io/v1"),
    Case("generic CustomResource Issuer v1", GENERIC_CR, "cert-manager.io/v1", "Issuer"),
    Case("CustomResource(api_version=apps/v1beta2)", "kubernetes:apps/v1beta2:Deployment", "apps/v1beta2", "Deployment", "apps/v1"),
    Case("github resource", "github:index/actionsSecret:ActionsSecret", "extensions/v1beta1", None),
    # attack: alpha versions of groups whose table entry listed only betas, and newer betas
    Case(
        "ValidatingAdmissionPolicy v1alpha1 (removed)",
        "kubernetes:admissionregistration.k8s.io/v1alpha1:ValidatingAdmissionPolicy",
        None,
        None,
        "admissionregistration.k8s.io/v1",
    ),
    Case("ServiceCIDR v1alpha1 (removed)", "kubernetes:networking.k8s.io/v1alpha1:ServiceCIDR", None, None, "networking.k8s.io/v1"),
    Case("ResourceSlice v1beta2 (superseded by v1)", "kubernetes:resource.k8s.io/v1beta2:ResourceSlice", None, None, "resource.k8s.io/v1"),
    Case("VolumeAttributesClass v1alpha1", "kubernetes:storage.k8s.io/v1alpha1:VolumeAttributesClass", None, None, "storage.k8s.io/v1"),
    Case("ClusterTrustBundle v1alpha1", "kubernetes:certificates.k8s.io/v1alpha1:ClusterTrustBundle", None, None, "certificates.k8s.io/v1"),
    # the old table also refused current APIs: scheduling.k8s.io PodGroup has no v1; LeaseCandidate's newest is v1beta1
    Case("PodGroup v1beta1 (current)", "kubernetes:scheduling.k8s.io/v1beta1:PodGroup", None, None),
    Case("LeaseCandidate v1beta1 (current)", "kubernetes:coordination.k8s.io/v1beta1:LeaseCandidate", None, None),
    Case("PodGroup v1alpha3 (superseded by v1beta1)", "kubernetes:scheduling.k8s.io/v1alpha3:PodGroup", None, None, "scheduling.k8s.io/v1beta1"),
    # item 13: the table is policy config (deprecatedApis replaces the default table)
    Case(
        "config deprecatedApis: a platform CRD's alpha",
        "kubernetes:example.com/v1alpha1:Widget",
        "example.com/v1alpha1",
        "Widget",
        "example.com/v1",
        config={"deprecatedApis": [{"group": "example.com", "versions": "v1alpha\\d+", "replacement": "example.com/v1"}]},
    ),
    Case(
        "config deprecatedApis: kinds narrow an entry",
        "kubernetes:example.com/v1alpha1:Gadget",
        "example.com/v1alpha1",
        "Gadget",
        None,
        config={"deprecatedApis": [{"group": "example.com", "versions": "v1alpha\\d+", "kinds": ["Widget"], "replacement": "example.com/v1"}]},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.tried)
def test_deprecated_api_versions(case: Case) -> None:
    props: dict[str, Any] = {}
    if case.api_version is not None:
        props["apiVersion"] = case.api_version
    if case.kind is not None:
        props["kind"] = case.kind
    found = run(P.validate_api_versions, Args(case.resource_type, props, config=case.config))
    if case.expected is None:
        assert found == []
    else:
        (message,) = found  # the type token and apiVersion name the same version: reported once
        assert "is deprecated or removed" in message and f"use {case.expected}" in message


# --- the built-in table against upstream ---------------------------------------------------------------


def _rank(version: str) -> tuple[int, int, int]:
    """Kubernetes version priority (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definition-versioning/#version-priority)."""
    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    assert match is not None, version
    return int(match[1]), {"alpha": 0, "beta": 1, None: 2}[match[2]], int(match[3] or 0)


def _releases() -> list[dict[tuple[str, str], set[str]]]:
    """For each Kubernetes release kubernetes-validate ships, oldest first: (group, kind) -> served versions."""
    import kubernetes_validate

    root = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    dirs = sorted(
        (p for p in root.iterdir() if p.name.endswith("-local-strict")), key=lambda p: tuple(int(x) for x in p.name[1:].split("-")[0].split("."))
    )
    releases = []
    for directory in dirs:
        document = json.loads((directory / "_definitions.json").read_text())
        definitions = document.get("$defs") or document["definitions"]
        kinds: dict[tuple[str, str], set[str]] = {}
        for schema in definitions.values():
            if not {"metadata", "kind"} <= set(schema.get("properties", {})):
                continue
            for gvk in schema.get("x-kubernetes-group-version-kind", []):
                if not gvk["kind"].endswith("List") and gvk["kind"] != "Status":
                    kinds.setdefault((gvk["group"] or "core", gvk["kind"]), set()).add(gvk["version"])
        releases.append(kinds)
    return releases


RELEASES = _releases()


def test_every_removed_or_superseded_upstream_version_is_refused() -> None:
    """An apiVersion served by an older release but not by the newest, or an alpha/beta with a more stable sibling in the
    newest, is refused (attack: before issue 13, 42 such group/version/kind triples passed)."""
    newest = RELEASES[-1]
    missed = []
    for release in RELEASES:
        for (group, kind), versions in release.items():
            for version in versions:
                served = newest.get((group, kind), set())
                superseded = _rank(version)[1] < 2 and any(_rank(v) > _rank(version) for v in served)
                if (version not in served or superseded) and P.deprecated_replacement(group, version, kind) is None:
                    missed.append(f"{group}/{version} {kind}")
    assert sorted(set(missed)) == []


def test_the_newest_upstream_version_of_every_kind_is_allowed() -> None:
    """The best version the newest release serves for each kind is never refused (the old table refused three)."""
    refused = []
    for (group, kind), versions in RELEASES[-1].items():
        best = max(versions, key=_rank)
        if P.deprecated_replacement(group, best, kind) is not None:
            refused.append(f"{group}/{best} {kind}")
    assert refused == []
