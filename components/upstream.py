"""The minimum upstream versions the objects the components create need, each with its source.

README "Prerequisites" lists every row (tests/test_upstream_versions.py holds them together), and says how a
running cluster can tell: the CRD versions it serves.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Requirement:
    """One upstream minimum."""

    project: str
    minimum: str
    needed_for: str
    source: str
    check: str = ""
    """A kubectl command that shows what a running cluster serves ("" when nothing the cluster serves tells)."""


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "Flux",
        "2.5",
        "GitRepository `provider: github` (GitHub App auth)",
        "fluxcd/flux2 v2.5.0 release notes: support for GitHub App authentication (GitRepository and ImageUpdateAutomation API)",
        "kubectl get crd gitrepositories.source.toolkit.fluxcd.io "
        "-o jsonpath='{.spec.versions[?(@.name==\"v1\")].schema.openAPIV3Schema.properties.spec.properties.provider.enum}'",
    ),
    Requirement(
        "image-automation-controller",
        "0.40",
        "pushing image updates with GitHub App credentials (Flux 2.5.0 ships v0.40.0)",
        "fluxcd/flux2 v2.5.0 components changelog",
        "kubectl -n flux-system get deploy image-automation-controller -o jsonpath='{.spec.template.spec.containers[0].image}'",
    ),
    Requirement(
        "Flux",
        "2.7",
        "`image.toolkit.fluxcd.io/v1` ImageRepository, ImagePolicy, ImageUpdateAutomation",
        "fluxcd/flux2 v2.7.0 release notes: general availability of the Image Automation APIs",
        "kubectl get crd imageupdateautomations.image.toolkit.fluxcd.io -o jsonpath='{.spec.versions[?(@.served==true)].name}'",
    ),
    Requirement(
        "Flux source-controller",
        "1.0",
        "`source.toolkit.fluxcd.io/v1` GitRepository",
        "fluxcd/source-controller CHANGELOG 1.0.0-rc.1: GitRepository promoted to v1",
        "kubectl get crd gitrepositories.source.toolkit.fluxcd.io -o jsonpath='{.spec.versions[?(@.served==true)].name}'",
    ),
    Requirement(
        "cert-manager",
        "1.0",
        "`cert-manager.io/v1` ClusterIssuer and Certificate (tested against the 1.21 CRDs; 1.7 removed the older APIs)",
        "cert-manager release notes 1.0 (v1 API); upgrading 1.6 → 1.7 (v1alpha2, v1alpha3, v1beta1 removed)",
        "kubectl get crd clusterissuers.cert-manager.io -o jsonpath='{.spec.versions[?(@.served==true)].name}'",
    ),
    Requirement(
        "Prometheus Operator",
        "0.50",
        "ServiceMonitor `endpoints[].authorization` (tested against the 0.93 CRDs)",
        "prometheus-operator CHANGELOG 0.50.0: support for the Authorization section (#4180)",
        "kubectl get crd servicemonitors.monitoring.coreos.com -o jsonpath='{.spec.versions[?(@.served==true)].name}'",
    ),
)
