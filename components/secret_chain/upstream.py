"""The minimum upstream versions the objects the components create need, each with its source.

The prerequisites page (docs/prerequisites.md) lists every row (tests/test_upstream_versions.py holds them together), and says how a
running cluster can tell: the CRD versions it serves.
"""

from collections.abc import Callable
from dataclasses import dataclass

from secret_chain.config import problem_line


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


@dataclass(frozen=True)
class ServedApi:
    """An API version a part writes, as a running cluster's CRD must serve it, and the upgrade that brings it."""

    crd: str
    """The CustomResourceDefinition's name (``<plural>.<group>``)."""
    version: str
    parts: tuple[str, ...]
    """The parts (components/secret_chain/parts.py) that write objects of it."""
    upgrade: str
    field_path: tuple[str, ...] = ()
    """A property the objects set, as a path into the version's openAPIV3Schema ``properties`` (empty: none)."""
    enum_value: str = ""
    """A value that property's ``enum`` must allow (empty: the property only has to exist)."""
    app_mode_only: bool = False
    """Checked only when Flux authenticates as a GitHub App."""


SERVED_APIS: tuple[ServedApi, ...] = (
    ServedApi("gitrepositories.source.toolkit.fluxcd.io", "v1", ("FluxGitCredentials",), "Flux source-controller ≥ 1.0"),
    ServedApi(
        "gitrepositories.source.toolkit.fluxcd.io",
        "v1",
        ("FluxGitCredentials",),
        "Flux ≥ 2.5 (GitRepository provider: github)",
        ("spec", "provider"),
        "github",
        app_mode_only=True,
    ),
    ServedApi("clusterissuers.cert-manager.io", "v1", ("CertManagerDnsIssuer",), "cert-manager ≥ 1.0 (1.7 removed the older APIs)"),
    ServedApi("certificates.cert-manager.io", "v1", ("CertManagerDnsIssuer.wildcards",), "cert-manager ≥ 1.0"),
    ServedApi("servicemonitors.monitoring.coreos.com", "v1", ("PrometheusAuth",), "Prometheus Operator ≥ 0.50"),
    ServedApi(
        "servicemonitors.monitoring.coreos.com",
        "v1",
        ("PrometheusAuth",),
        "Prometheus Operator ≥ 0.50 (ServiceMonitor endpoints[].authorization)",
        ("spec", "endpoints", "authorization"),
    ),
)
"""What a running cluster must serve for each part, read from its CRDs (``kubectl get crd <name> -o json``)."""


def _schema_at(schema: dict[str, object], path: tuple[str, ...]) -> dict[str, object] | None:
    """The openAPIV3Schema node at ``path``, stepping through ``properties`` (and ``items`` of arrays)."""
    node: object = schema
    for name in path:
        if not isinstance(node, dict):
            return None
        if node.get("type") == "array":
            node = node.get("items")
            if not isinstance(node, dict):
                return None
        properties = node.get("properties")
        if not isinstance(properties, dict) or name not in properties:
            return None
        node = properties[name]
    return node if isinstance(node, dict) else None


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def served_api_problems(
    parts: set[str], app_mode: bool, get_crd: Callable[[str], dict[str, object] | None], checked: list[str] | None = None
) -> list[str]:
    """One line per API a built part writes that the cluster does not serve, naming the upgrade.

    ``get_crd`` returns a CRD as the API server does (``kubectl get crd <name> -o json``), or None when it is not
    installed. A version counts when the CRD lists it with ``served: true`` (apiextensions.k8s.io/v1
    CustomResourceDefinitionVersion.served); a property counts when that version's ``schema.openAPIV3Schema`` has it,
    and an enum value when the property's ``enum`` lists it (a structural schema prunes what it does not declare).
    ``checked``: gets one line per check that passed (what was found, and for which parts).
    """
    problems: list[str] = []
    cache: dict[str, dict[str, object] | None] = {}
    failed: set[str] = set()  # a CRD already reported missing or without the version: one line for it
    for api in SERVED_APIS:
        if not set(api.parts) & parts or (api.app_mode_only and not app_mode) or api.crd in failed:
            continue
        if api.crd not in cache:
            cache[api.crd] = get_crd(api.crd)
        crd = cache[api.crd]
        who = ", ".join(p for p in api.parts if p in parts)
        if crd is None:
            failed.add(api.crd)
            problems.append(problem_line(f"cluster: CRD {api.crd} is not installed, but {who} writes its objects", f"install {api.upgrade}"))
            continue
        spec = crd.get("spec")
        versions = spec.get("versions", []) if isinstance(spec, dict) else []
        version = next((v for v in versions if isinstance(v, dict) and v.get("name") == api.version and v.get("served")), None)
        if version is None:
            failed.add(api.crd)
            served = sorted(str(v.get("name")) for v in versions if isinstance(v, dict) and v.get("served"))
            problems.append(
                problem_line(
                    f"cluster: CRD {api.crd} serves {', '.join(served) or 'no version'}, not {api.version}, which {who} writes",
                    f"upgrade to {api.upgrade}",
                )
            )
            continue
        if not api.field_path:
            if checked is not None:
                checked.append(f"CRD {api.crd} serves {api.version} ({who})")
            continue
        schema = version.get("schema")
        root = schema.get("openAPIV3Schema") if isinstance(schema, dict) else None
        node = _schema_at(root, api.field_path) if isinstance(root, dict) else None
        dotted = ".".join(api.field_path)
        if node is None:
            problems.append(problem_line(f"cluster: CRD {api.crd} {api.version} has no {dotted}, which {who} sets", f"upgrade to {api.upgrade}"))
        elif api.enum_value and api.enum_value not in _as_list(node.get("enum")):
            problems.append(
                problem_line(
                    f"cluster: CRD {api.crd} {api.version} does not allow {dotted}: {api.enum_value}, which {who} sets",
                    f"upgrade to {api.upgrade}",
                )
            )
        elif checked is not None:
            allows = f" allowing {api.enum_value}" if api.enum_value else ""
            checked.append(f"CRD {api.crd} {api.version} has {dotted}{allows} ({who})")
    return problems
