"""The pack's namespace guard rail (``policy/policy_namespaces.py``): ``pr-stack-confined-to-its-namespace``.

Each row is a stack, a resource, and either nothing (the rail lets it through) or the violation that stops it.
Rows marked ``# attack`` were ways past the pack before issue 13 (CASES) or issue 20 (GRANTS, REPLICATION, PR_LABELS):
each failed against the pack as it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from tests import policies
from tests.policies import Args, run

P = policies.load()

PR = "preview-pr-7"
SECRET = "kubernetes:core/v1:Secret"
MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
CLUSTER_ISSUER = "kubernetes:cert-manager.io/v1:ClusterIssuer"
CRB = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
GENERIC_CR = "kubernetes:apiextensions.k8s.io:CustomResource"


def _object(kind: str, namespace: str | None = None, name: str = "obj", api_version: str = "v1", **extra: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **extra}


def _cr(api_version: str, kind: str, namespace: str | None = None, **extra: Any) -> tuple[str, dict[str, Any]]:
    """What ``CustomResource(api_version=…, kind=…)`` registers: type ``kubernetes:<apiVersion>:<kind>`` and its props."""
    return f"kubernetes:{api_version}:{kind}", _object(kind, namespace, api_version=api_version, **extra)


@dataclass
class _Provider:
    resource_type: str
    props: Any


@dataclass(frozen=True)
class Case:
    """One row: the guard rail, what is tried, on which stack, the resource and the violations expected."""

    rail: str
    tried: str
    stack: str
    resource_type: str
    props: Any
    expected: tuple[str, ...] = ()
    config: Mapping[str, Any] | None = None


def confinement(stack: str, resource_type: str, props: Any, provider: Any = None, config: Mapping[str, Any] | None = None) -> list[str]:
    return run(P.validate_pr_stack_confinement, Args(resource_type, props, "res", provider=provider, config=config, stack=stack))


OWN = "a PR stack writes only in its own namespace; its Namespace is its only cluster-scoped object"
SCOPE = "a PR stack creates only kinds provably namespaced (built-in list, or configured namespacedKinds)"
INTO = "no other stack writes into, or points anything at, a PR namespace"
OUT = "a PR stack's objects point at no other namespace"

CASES = [
    # a PR stack: its Namespace and objects in it
    Case(OWN, "its Namespace", PR, "kubernetes:core/v1:Namespace", _object("Namespace", name=PR)),
    Case(OWN, "a Secret in it", PR, SECRET, _object("Secret", PR, "ghcr-pull-secret")),
    Case(OWN, "a ServiceMonitor in it", PR, MONITOR, _object("ServiceMonitor", PR, api_version="monitoring.coreos.com/v1")),
    Case(OWN, "a ServiceAccountPatch in it", PR, "kubernetes:core/v1:ServiceAccountPatch", _object("ServiceAccount", PR, "default")),
    Case(OWN, "a Helm release in it", PR, "kubernetes:helm.sh/v3:Release", {"chart": "grafana", "namespace": PR}),
    Case(OWN, "a component (children checked one by one)", PR, "kubernetes:yaml/v2:ConfigGroup", {"objs": []}),
    Case(OWN, "a secret-chain component", PR, "secret-chain:index:GhcrPullSecret", {}),
    Case(OWN, "a Kubernetes provider", PR, "pulumi:providers:kubernetes", {"namespace": "default"}),
    Case(OWN, "a built-in namespaced kind (ConfigMap)", PR, "kubernetes:core/v1:ConfigMap", _object("ConfigMap", PR)),
    Case(
        OWN,
        "a built-in namespaced kind (ResourceClaim)",
        PR,
        "kubernetes:resource.k8s.io/v1:ResourceClaim",
        _object("ResourceClaim", PR, api_version="resource.k8s.io/v1"),
    ),
    Case(
        OUT,
        "a ServiceMonitor selecting its own namespace",
        PR,
        MONITOR,
        _object("ServiceMonitor", PR, api_version="monitoring.coreos.com/v1", spec={"namespaceSelector": {"matchNames": [PR]}}),
    ),
    Case(
        OUT,
        "a RoleBinding of its own ServiceAccount",
        PR,
        ROLE_BINDING,
        _object("RoleBinding", PR, api_version="rbac.authorization.k8s.io/v1", subjects=[{"kind": "ServiceAccount", "name": "a", "namespace": PR}]),
    ),
    # a PR stack escaping its namespace
    Case(
        OWN,
        "another PR's Namespace",
        PR,
        "kubernetes:core/v1:Namespace",
        _object("Namespace", name="preview-pr-8"),
        ("may create only its own Namespace 'preview-pr-7'",),
    ),
    Case(
        OWN,
        "a Secret in default",
        PR,
        SECRET,
        _object("Secret", "default"),
        ("Secret is written to namespace 'default'; stack preview-pr-7 may write only",),
    ),
    Case(OWN, "a Secret in another PR", PR, SECRET, _object("Secret", "preview-pr-8"), ("namespace 'preview-pr-8'",)),
    Case(OWN, "a Secret with no namespace", PR, SECRET, _object("Secret"), ("no namespace (cluster-scoped, or the provider's default namespace)",)),
    Case(
        OWN,
        "a patch in kube-system",
        PR,
        "kubernetes:core/v1:ServiceAccountPatch",
        _object("ServiceAccount", "kube-system", "default"),
        ("ServiceAccount is written to",),
    ),
    Case(
        OWN,
        "a Helm release elsewhere",
        PR,
        "kubernetes:helm.sh/v3:Release",
        {"chart": "grafana", "namespace": "monitoring"},
        ("Release is written to namespace 'monitoring'",),
    ),
    Case(
        OWN, "a ClusterIssuer", PR, CLUSTER_ISSUER, _object("ClusterIssuer", api_version="cert-manager.io/v1"), ("ClusterIssuer is cluster-scoped",)
    ),
    Case(
        OWN,
        "a ClusterIssuer with a namespace",
        PR,
        CLUSTER_ISSUER,
        _object("ClusterIssuer", PR, api_version="cert-manager.io/v1"),
        ("ClusterIssuer is cluster-scoped",),
    ),
    Case(
        OWN,
        "a ClusterRoleBinding",
        PR,
        CRB,
        _object("ClusterRoleBinding", api_version="rbac.authorization.k8s.io/v1"),
        ("ClusterRoleBinding is cluster-scoped",),
    ),
    Case(
        OWN,
        "a Flux GitRepository in flux-system",
        PR,
        GENERIC_CR,
        _object("GitRepository", "flux-system", api_version="source.toolkit.fluxcd.io/v1"),
        ("GitRepository is written to namespace 'flux-system'",),
    ),
    Case(OWN, "a generic ClusterIssuer", PR, GENERIC_CR, _object("ClusterIssuer", api_version="cert-manager.io/v1"), ("is cluster-scoped",)),
    # attack: cluster-scoped kinds missing from the old list, given a metadata.namespace
    Case(
        SCOPE,
        "ResourceSlice with a namespace",
        PR,
        *_cr("resource.k8s.io/v1", "ResourceSlice", PR),
        ("ResourceSlice is cluster-scoped (resource.k8s.io)",),
    ),
    Case(
        SCOPE,
        "GlobalNetworkPolicy with a namespace",
        PR,
        *_cr("crd.projectcalico.org/v1", "GlobalNetworkPolicy", PR),
        ("GlobalNetworkPolicy is cluster-scoped (crd.projectcalico.org)",),
    ),
    Case(
        SCOPE,
        "ClusterCleanupPolicy with a namespace",
        PR,
        *_cr("kyverno.io/v2", "ClusterCleanupPolicy", PR),
        ("ClusterCleanupPolicy is cluster-scoped (kyverno.io)",),
    ),
    Case(
        SCOPE,
        "StorageVersionMigration with a namespace",
        PR,
        *_cr("storagemigration.k8s.io/v1beta1", "StorageVersionMigration", PR),
        ("is cluster-scoped",),
    ),
    Case(SCOPE, "an unknown CRD in its namespace", PR, *_cr("example.com/v1", "Widget", PR), ("Widget (example.com) is not known to be namespaced",)),
    Case(
        SCOPE,
        "a namespaced built-in name in a CRD group",
        PR,
        *_cr("example.com/v1", "Secret", PR),
        ("Secret (example.com) is not known to be namespaced",),
    ),
    Case(
        SCOPE,
        "a List of objects",
        PR,
        "kubernetes:core/v1:SecretList",
        {"apiVersion": "v1", "kind": "SecretList", "items": []},
        ("SecretList (core) is not known to be namespaced",),
    ),
    # item 13: namespacedness of CRDs comes from config
    Case(
        SCOPE,
        "config namespacedKinds: a known-namespaced CRD",
        PR,
        *_cr("example.com/v1", "Widget", PR),
        config={"namespacedKinds": ["example.com/Widget"]},
    ),
    Case(
        SCOPE,
        "config namespacedKinds replaces the defaults",
        PR,
        MONITOR,
        _object("ServiceMonitor", PR, api_version="monitoring.coreos.com/v1"),
        ("ServiceMonitor (monitoring.coreos.com) is not known to be namespaced",),
        config={"namespacedKinds": []},
    ),
    Case(
        OWN,
        "config prStackPattern: another naming scheme",
        "pr-12",
        SECRET,
        _object("Secret", "default"),
        ("stack pr-12 may write only in namespace 'pr-12'",),
        config={"prStackPattern": "pr-[1-9][0-9]*"},
    ),
    # attack: a PR stack's objects pointing outside its namespace
    Case(
        OUT,
        "ServiceMonitor selecting any namespace",
        PR,
        MONITOR,
        _object("ServiceMonitor", PR, api_version="monitoring.coreos.com/v1", spec={"namespaceSelector": {"any": True}}),
        ("spec.namespaceSelector.any selects every namespace",),
    ),
    Case(
        OUT,
        "ServiceMonitor selecting production",
        PR,
        MONITOR,
        _object("ServiceMonitor", PR, api_version="monitoring.coreos.com/v1", spec={"namespaceSelector": {"matchNames": ["default"]}}),
        ("names namespace 'default' (spec.namespaceSelector.matchNames[0]); stack preview-pr-7 may point only at 'preview-pr-7'",),
    ),
    # other stacks: anything but PR namespaces
    Case(INTO, "production Secret", "production", SECRET, _object("Secret", "cert-manager")),
    Case(INTO, "preview-base ClusterIssuer", "preview-base", CLUSTER_ISSUER, _object("ClusterIssuer", api_version="cert-manager.io/v1")),
    Case(INTO, "preview-base GitHub secret", "preview-base", "github:index/actionsSecret:ActionsSecret", {"repository": "r"}),
    Case(INTO, "preview-base Namespace", "preview-base", "kubernetes:core/v1:Namespace", _object("Namespace", name="preview-base")),
    Case(INTO, "preview-pr-0 is not a PR stack", "preview-pr-0", SECRET, _object("Secret", "default")),
    Case(INTO, "production cluster-scoped CRD", "production", *_cr("crd.projectcalico.org/v1", "GlobalNetworkPolicy")),
    Case(
        INTO,
        "production ServiceMonitor selecting its app namespace",
        "production",
        MONITOR,
        _object("ServiceMonitor", "monitoring", api_version="monitoring.coreos.com/v1", spec={"namespaceSelector": {"matchNames": ["default"]}}),
    ),
    Case(
        INTO,
        "production Secret in a PR namespace",
        "production",
        SECRET,
        _object("Secret", PR),
        ("Secret is written to namespace 'preview-pr-7', which belongs to stack preview-pr-7",),
    ),
    Case(
        INTO,
        "preview-base creating a PR Namespace",
        "preview-base",
        "kubernetes:core/v1:Namespace",
        _object("Namespace", name=PR),
        ("Namespace 'preview-pr-7' belongs to stack",),
    ),
    Case(
        INTO,
        "ClusterRoleBinding subject in a PR namespace",
        "preview-base",
        CRB,
        _object(
            "ClusterRoleBinding",
            api_version="rbac.authorization.k8s.io/v1",
            subjects=[{"kind": "ServiceAccount", "name": "default", "namespace": PR}],
            roleRef={"kind": "ClusterRole", "name": "cluster-admin"},
        ),
        ("ClusterRoleBinding names namespace 'preview-pr-7' (subjects[0].namespace)",),
    ),
    Case(
        INTO,
        "webhook service in a PR namespace",
        "production",
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration",
        _object(
            "ValidatingWebhookConfiguration",
            api_version="admissionregistration.k8s.io/v1",
            webhooks=[{"name": "w", "clientConfig": {"service": {"name": "hook", "namespace": PR}}}],
        ),
        ("names namespace 'preview-pr-7' (webhooks[0].clientConfig.service.namespace)",),
    ),
    # attack: namespaced production objects pointing into a PR namespace
    Case(
        INTO,
        "RoleBinding subject in a PR namespace",
        "production",
        ROLE_BINDING,
        _object(
            "RoleBinding",
            "default",
            api_version="rbac.authorization.k8s.io/v1",
            subjects=[{"kind": "ServiceAccount", "name": "default", "namespace": PR}],
        ),
        ("RoleBinding names namespace 'preview-pr-7' (subjects[0].namespace)",),
    ),
    Case(
        INTO,
        "ServiceMonitor namespaceSelector.matchNames",
        "production",
        MONITOR,
        _object("ServiceMonitor", "monitoring", api_version="monitoring.coreos.com/v1", spec={"namespaceSelector": {"matchNames": ["default", PR]}}),
        ("names namespace 'preview-pr-7' (spec.namespaceSelector.matchNames[1])",),
    ),
    Case(
        INTO,
        "NetworkPolicy namespaceSelector matchLabels by name",
        "production",
        NETPOL,
        _object(
            "NetworkPolicy",
            "default",
            api_version="networking.k8s.io/v1",
            spec={"ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": PR}}}]}]},
        ),
        ("names namespace 'preview-pr-7' (spec.ingress[0].from[0].namespaceSelector.matchLabels[\"kubernetes.io/metadata.name\"])",),
    ),
    Case(
        INTO,
        "namespaceSelector matchExpressions by name",
        "production",
        NETPOL,
        _object(
            "NetworkPolicy",
            "default",
            api_version="networking.k8s.io/v1",
            spec={
                "ingress": [
                    {
                        "from": [
                            {"namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": [PR]}]}}
                        ]
                    }
                ]
            },
        ),
        ("names namespace 'preview-pr-7' (spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values[0])",),
    ),
    Case(
        INTO,
        "namespaceSelector on the PR label",
        "production",
        "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration",
        _object(
            "MutatingWebhookConfiguration",
            api_version="admissionregistration.k8s.io/v1",
            webhooks=[{"name": "w", "namespaceSelector": {"matchLabels": {"secret-chain/pr": "7"}}}],
        ),
        ("selects namespaces by label (webhooks[0].namespaceSelector: secret-chain/pr = 7), which a pull request's namespace carries",),
    ),
    Case(
        INTO,
        "namespaceSelector Exists on the PR label",
        "production",
        NETPOL,
        _object(
            "NetworkPolicy",
            "default",
            api_version="networking.k8s.io/v1",
            spec={"egress": [{"to": [{"namespaceSelector": {"matchExpressions": [{"key": "secret-chain/pr", "operator": "Exists"}]}}]}]},
        ),
        ("selects namespaces by label (spec.egress[0].to[0].namespaceSelector: secret-chain/pr exists), which a pull request's",),
    ),
    Case(
        INTO,
        "pod affinity namespaces list",
        "production",
        "kubernetes:apps/v1:Deployment",
        _object(
            "Deployment",
            "default",
            api_version="apps/v1",
            spec={
                "template": {
                    "spec": {
                        "affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "k", "namespaces": [PR]}]}}
                    }
                }
            },
        ),
        ("names namespace 'preview-pr-7' (spec.template.spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].namespaces[0])",),
    ),
    Case(
        INTO,
        "a CustomResource ServiceMonitor selecting a PR namespace",
        "production",
        GENERIC_CR,
        _object("ServiceMonitor", "monitoring", api_version="monitoring.coreos.com/v1", spec={"namespaceSelector": {"matchNames": [PR]}}),
        ("names namespace 'preview-pr-7' (spec.namespaceSelector.matchNames[0])",),
    ),
]


# --- issue 20: grants into a PR namespace, in every spelling ------------------------------------------------------

GRANT = "a grant from another stack reaches no PR namespace: RBAC users and groups, Flux targets"
COPY = "no stack copies a Secret into a PR namespace, or lets one be copied there (replication annotations)"
OWN_LABELS = "a PR namespace carries only the chain's label keys, so no selector of another stack can be made to pick it"
RBAC = "rbac.authorization.k8s.io/v1"
KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization"
HELM_RELEASE = "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"
CERTIFICATE = "kubernetes:cert-manager.io/v1:Certificate"
REFLECTOR = "reflector.v1.k8s.emberstack.com/"
REPLICATOR = "replicator.v1.mittwald.de/"


def _binding(kind: str, subject: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
    return _object(kind, namespace, api_version=RBAC, subjects=[subject], roleRef={"apiGroup": RBAC, "kind": "ClusterRole", "name": "edit"})


def _annotated(kind: str, namespace: str, annotations: dict[str, str], api_version: str = "v1", **extra: Any) -> dict[str, Any]:
    obj = _object(kind, namespace, api_version=api_version, **extra)
    obj["metadata"]["annotations"] = annotations
    return obj


def _flux(kind: str, api_version: str, **spec: Any) -> dict[str, Any]:
    return _object(kind, "flux-system", api_version=api_version, spec={"interval": "10m", **spec})


GRANTS = [
    # attack: RBAC subjects naming a PR namespace's accounts by user or group name
    Case(
        GRANT,
        "ClusterRoleBinding to User system:serviceaccount:<PR>:default",
        "production",
        CRB,
        _binding("ClusterRoleBinding", {"kind": "User", "apiGroup": RBAC, "name": f"system:serviceaccount:{PR}:default"}),
        ("cluster-scoped ClusterRoleBinding names namespace 'preview-pr-7' (subjects[0].name)",),
    ),
    Case(
        GRANT,
        "ClusterRoleBinding to Group system:serviceaccounts:<PR>",
        "preview-base",
        CRB,
        _binding("ClusterRoleBinding", {"kind": "Group", "apiGroup": RBAC, "name": f"system:serviceaccounts:{PR}"}),
        ("names namespace 'preview-pr-7' (subjects[0].name)",),
    ),
    Case(
        GRANT,
        "RoleBinding in production to a PR's service account user",
        "production",
        ROLE_BINDING,
        _binding("RoleBinding", {"kind": "User", "apiGroup": RBAC, "name": f"system:serviceaccount:{PR}:app"}, "default"),
        ("RoleBinding names namespace 'preview-pr-7' (subjects[0].name)",),
    ),
    Case(
        GRANT,
        "ClusterRoleBinding to Group system:serviceaccounts (every namespace's)",
        "production",
        CRB,
        _binding("ClusterRoleBinding", {"kind": "Group", "apiGroup": RBAC, "name": "system:serviceaccounts"}),
        ("subjects[0].name: group system:serviceaccounts holds every ServiceAccount of every namespace, pull requests' namespaces included",),
    ),
    Case(
        GRANT,
        "RoleBinding to Group system:authenticated",
        "production",
        ROLE_BINDING,
        _binding("RoleBinding", {"kind": "Group", "apiGroup": RBAC, "name": "system:authenticated"}, "default"),
        ("subjects[0].name: group system:authenticated holds",),
    ),
    Case(
        GRANT,
        "RoleBinding to a production service account user",
        "production",
        ROLE_BINDING,
        _binding("RoleBinding", {"kind": "User", "name": "system:serviceaccount:default:app"}, "default"),
    ),
    Case(GRANT, "ClusterRoleBinding to a person", "production", CRB, _binding("ClusterRoleBinding", {"kind": "User", "name": "alice@example.com"})),
    Case(
        OUT,
        "a PR's RoleBinding to a production service account user",
        PR,
        ROLE_BINDING,
        _binding("RoleBinding", {"kind": "User", "name": "system:serviceaccount:default:app"}, PR),
        ("RoleBinding names namespace 'default' (subjects[0].name); stack preview-pr-7 may point only at 'preview-pr-7'",),
    ),
    # attack: Flux objects whose target is a PR namespace
    Case(
        GRANT,
        "Flux Kustomization with spec.targetNamespace",
        "production",
        KUSTOMIZATION,
        _flux(
            "Kustomization", "kustomize.toolkit.fluxcd.io/v1", targetNamespace=PR, sourceRef={"kind": "GitRepository", "name": "app"}, path="./app"
        ),
        ("Kustomization names namespace 'preview-pr-7' (spec.targetNamespace)",),
    ),
    Case(
        GRANT,
        "Flux HelmRelease with spec.targetNamespace (generic CustomResource)",
        "preview-base",
        GENERIC_CR,
        _flux(
            "HelmRelease",
            "helm.toolkit.fluxcd.io/v2",
            targetNamespace=PR,
            chart={"spec": {"chart": "app", "sourceRef": {"kind": "HelmRepository", "name": "r"}}},
        ),
        ("HelmRelease names namespace 'preview-pr-7' (spec.targetNamespace)",),
    ),
    Case(
        GRANT,
        "Flux HelmRelease with spec.storageNamespace",
        "production",
        HELM_RELEASE,
        _flux("HelmRelease", "helm.toolkit.fluxcd.io/v2", storageNamespace=PR, chartRef={"kind": "OCIRepository", "name": "app"}),
        ("HelmRelease names namespace 'preview-pr-7' (spec.storageNamespace)",),
    ),
    # refused before issue 20 already (a plain namespace field), kept beside the Flux rows
    Case(
        GRANT,
        "Flux Kustomization reading a source in a PR namespace",
        "production",
        KUSTOMIZATION,
        _flux("Kustomization", "kustomize.toolkit.fluxcd.io/v1", sourceRef={"kind": "GitRepository", "name": "app", "namespace": PR}, path="./"),
        ("names namespace 'preview-pr-7' (spec.sourceRef.namespace)",),
    ),
    Case(
        GRANT,
        "Flux HelmRelease chart from a PR namespace",
        "production",
        HELM_RELEASE,
        _flux(
            "HelmRelease",
            "helm.toolkit.fluxcd.io/v2",
            chart={"spec": {"chart": "a", "sourceRef": {"kind": "HelmRepository", "name": "r", "namespace": PR}}},
        ),
        ("names namespace 'preview-pr-7' (spec.chart.spec.sourceRef.namespace)",),
    ),
    # Flux impersonates serviceAccountName in the object's own namespace ("The name of the Kubernetes service account to
    # impersonate when reconciling this Kustomization": kustomize.toolkit.fluxcd.io/v1 KustomizationSpec), so the name
    # alone crosses nothing
    Case(
        GRANT,
        "Flux Kustomization with spec.serviceAccountName",
        "production",
        KUSTOMIZATION,
        _flux(
            "Kustomization",
            "kustomize.toolkit.fluxcd.io/v1",
            serviceAccountName="deployer",
            sourceRef={"kind": "GitRepository", "name": "app"},
            path="./",
        ),
    ),
    Case(
        OUT,
        "a PR's Kustomization targeting production",
        PR,
        KUSTOMIZATION,
        {**_flux("Kustomization", "kustomize.toolkit.fluxcd.io/v1", targetNamespace="default"), "metadata": {"name": "k", "namespace": PR}},
        ("Kustomization names namespace 'default' (spec.targetNamespace)",),
    ),
    # namespace selectors on the labels a PR namespace carries
    Case(
        GRANT,
        "NetworkPolicy admitting namespaces labelled part-of secret-chain",
        "production",
        NETPOL,
        _object(
            "NetworkPolicy",
            "default",
            api_version="networking.k8s.io/v1",
            spec={"ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"app.kubernetes.io/part-of": "secret-chain"}}}]}]},
        ),
        ("selects namespaces by label (spec.ingress[0].from[0].namespaceSelector: app.kubernetes.io/part-of = secret-chain)",),
    ),
    Case(
        GRANT,
        "NetworkPolicy admitting namespaces labelled team=payments (a label a PR namespace cannot carry)",
        "production",
        NETPOL,
        _object(
            "NetworkPolicy",
            "default",
            api_version="networking.k8s.io/v1",
            spec={"ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "payments"}}}]}]},
        ),
    ),
    Case(
        GRANT,
        "ClusterExternalSecret namespaceSelectors on the PR label",
        "production",
        *_cr("external-secrets.io/v1", "ClusterExternalSecret", spec={"namespaceSelectors": [{"matchLabels": {"secret-chain/pr": "7"}}]}),
        ("selects namespaces by label (spec.namespaceSelectors[0]: secret-chain/pr = 7)",),
    ),
    Case(
        OUT,
        "a PR's ServiceMonitor selecting namespaces by team",
        PR,
        MONITOR,
        _object("ServiceMonitor", PR, api_version="monitoring.coreos.com/v1", spec={"namespaceSelector": {"matchLabels": {"team": "payments"}}}),
        ("selects namespaces by label (spec.namespaceSelector: team = payments); stack preview-pr-7 may point only at 'preview-pr-7'",),
    ),
]

REPLICATION = [
    # attack: emberstack/kubernetes-reflector
    Case(
        COPY,
        "reflector: reflection allowed into a PR namespace",
        "production",
        SECRET,
        _annotated("Secret", "default", {f"{REFLECTOR}reflection-allowed": "true", f"{REFLECTOR}reflection-allowed-namespaces": f"monitoring,{PR}"}),
        (f"Secret names namespace 'preview-pr-7' (metadata.annotations[\"{REFLECTOR}reflection-allowed-namespaces\"])",),
    ),
    Case(
        COPY,
        "reflector: reflection allowed with no namespace list (every namespace)",
        "production",
        SECRET,
        _annotated("Secret", "default", {f"{REFLECTOR}reflection-allowed": "true", f"{REFLECTOR}reflection-auto-enabled": "true"}),
        ("reflection allowed into every namespace (no allowed namespaces, no selector), pull requests' namespaces included",),
    ),
    Case(
        COPY,
        "reflector: reflection allowed into a pattern",
        "preview-base",
        SECRET,
        _annotated("Secret", "gateway", {f"{REFLECTOR}reflection-allowed": "True", f"{REFLECTOR}reflection-allowed-namespaces": "preview-pr-[0-9]+"}),
        ("names namespaces by the pattern 'preview-pr-[0-9]+', which may match a pull request's namespace",),
    ),
    Case(
        COPY,
        "reflector: reflection allowed into namespaces selected by the PR label",
        "production",
        SECRET,
        _annotated(
            "Secret", "default", {f"{REFLECTOR}reflection-allowed": "true", f"{REFLECTOR}reflection-allowed-namespaces-selector": "secret-chain/pr"}
        ),
        ("selects namespaces by label",),
    ),
    Case(
        COPY,
        "reflector: a production mirror of a PR namespace's Secret",
        "production",
        SECRET,
        _annotated("Secret", "default", {f"{REFLECTOR}reflects": f"{PR}/app-config"}),
        ("names namespace 'preview-pr-7'",),
    ),
    Case(
        COPY,
        "reflector via a Certificate's secretTemplate",
        "preview-base",
        CERTIFICATE,
        _object(
            "Certificate",
            "gateway",
            api_version="cert-manager.io/v1",
            spec={
                "secretName": "wildcard",
                "secretTemplate": {"annotations": {f"{REFLECTOR}reflection-allowed": "true", f"{REFLECTOR}reflection-allowed-namespaces": ""}},
            },
        ),
        ("spec.secretTemplate.annotations",),
    ),
    Case(
        COPY,
        "reflector via an Ingress cert-manager.io/secret-template",
        "production",
        "kubernetes:networking.k8s.io/v1:Ingress",
        _annotated(
            "Ingress",
            "default",
            {
                "cert-manager.io/secret-template": json.dumps(
                    {"annotations": {f"{REFLECTOR}reflection-allowed": "true", f"{REFLECTOR}reflection-allowed-namespaces": PR}}
                )
            },
            api_version="networking.k8s.io/v1",
        ),
        ("names namespace 'preview-pr-7' (metadata.annotations[\"cert-manager.io/secret-template\"].annotations",),
    ),
    Case(
        COPY,
        "reflector (older cert-manager extension) on a Certificate",
        "preview-base",
        CERTIFICATE,
        _annotated("Certificate", "gateway", {f"{REFLECTOR}secret-reflection-allowed": "true"}, api_version="cert-manager.io/v1"),
        ('secret-reflection-allowed"]: reflection allowed into every namespace',),
    ),
    Case(
        COPY,
        "reflector: reflection allowed into named production namespaces",
        "production",
        SECRET,
        _annotated("Secret", "default", {f"{REFLECTOR}reflection-allowed": "true", f"{REFLECTOR}reflection-allowed-namespaces": "monitoring, app"}),
    ),
    # attack: mittwald/kubernetes-replicator
    Case(
        COPY,
        "replicator: replicate-to a PR namespace",
        "production",
        SECRET,
        _annotated("Secret", "default", {f"{REPLICATOR}replicate-to": PR}),
        ("names namespace 'preview-pr-7'",),
    ),
    Case(
        COPY,
        "replicator: replicate-to a pattern",
        "production",
        CONFIGMAP,
        _annotated("ConfigMap", "default", {f"{REPLICATOR}replicate-to": "app,preview-.*"}),
        ("names namespaces by the pattern 'preview-.*'",),
    ),
    Case(
        COPY,
        "replicator: replicate-to-matching the chain's labels",
        "production",
        SECRET,
        _annotated("Secret", "default", {f"{REPLICATOR}replicate-to-matching": "app.kubernetes.io/managed-by=pulumi"}),
        ("selects namespaces by label",),
    ),
    Case(
        COPY,
        "replicator: replicate-to-matching a label PR namespaces cannot carry",
        "production",
        SECRET,
        _annotated("Secret", "default", {f"{REPLICATOR}replicate-to-matching": "team in (payments, billing)"}),
    ),
    Case(
        COPY,
        "replicator: replicate-to-matching everything but one label",
        "production",
        SECRET,
        _annotated("Secret", "default", {f"{REPLICATOR}replicate-to-matching": "team!=payments"}),
        ("selects namespaces by label",),
    ),
    Case(
        COPY,
        "replicator: replication allowed into a PR namespace (pull)",
        "production",
        SECRET,
        _annotated("Secret", "default", {f"{REPLICATOR}replication-allowed": "true", f"{REPLICATOR}replication-allowed-namespaces": f"app,{PR}"}),
        ("names namespace 'preview-pr-7'",),
    ),
    Case(
        COPY,
        "replicator: replication allowed with no namespace list (none: generic-replicator.go)",
        "production",
        SECRET,
        _annotated("Secret", "default", {f"{REPLICATOR}replication-allowed": "true"}),
    ),
    Case(
        COPY,
        "replicator: a production replica of a PR namespace's Secret",
        "production",
        SECRET,
        _annotated("Secret", "default", {f"{REPLICATOR}replicate-from": f"{PR}/db"}),
        ("names namespace 'preview-pr-7'",),
    ),
    # attack: config-syncer (kubed), synator
    Case(
        COPY,
        "kubed: sync into every namespace",
        "production",
        SECRET,
        _annotated("Secret", "default", {"kubed.appscode.com/sync": ""}),
        ("config-syncer (kubed) copies into every namespace, pull requests' namespaces included",),
    ),
    Case(
        COPY,
        "kubed: sync into namespaces with the PR label",
        "production",
        SECRET,
        _annotated("Secret", "default", {"kubed.appscode.com/sync": "secret-chain/pr"}),
        ("selects namespaces by label",),
    ),
    Case(
        COPY,
        "synator: sync into every namespace",
        "production",
        SECRET,
        _annotated("Secret", "default", {"synator/sync": "yes", "synator/exclude-namespaces": "kube-system"}),
        ("synator copies into every namespace",),
    ),
    Case(
        COPY,
        "synator: include a PR namespace",
        "production",
        SECRET,
        _annotated("Secret", "default", {"synator/sync": "yes", "synator/include-namespaces": PR}),
        ("names namespace 'preview-pr-7'",),
    ),
    # a PR stack reaching out through them
    Case(
        OUT,
        "a PR's mirror of a production Secret (reflector)",
        PR,
        SECRET,
        _annotated("Secret", PR, {f"{REFLECTOR}reflects": "default/app-credentials"}),
        ("names namespace 'default'",),
    ),
    Case(
        OUT,
        "a PR's replica of a production Secret (replicator)",
        PR,
        SECRET,
        _annotated("Secret", PR, {f"{REPLICATOR}replicate-from": "flux-system/github-token"}),
        ("names namespace 'flux-system'",),
    ),
    Case(
        OUT,
        "a PR pushing a Secret into production",
        PR,
        SECRET,
        _annotated("Secret", PR, {f"{REPLICATOR}replicate-to": "default"}),
        ("names namespace 'default'",),
    ),
]

PR_LABELS = [
    Case(
        OWN_LABELS,
        "its Namespace with the chain's labels",
        PR,
        "kubernetes:core/v1:Namespace",
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": PR,
                "labels": {
                    "app.kubernetes.io/managed-by": "pulumi",
                    "app.kubernetes.io/part-of": "secret-chain",
                    "app.kubernetes.io/component": "preview",
                    "secret-chain/pr": "7",
                },
            },
        },
    ),
    Case(
        OWN_LABELS,
        "its Namespace labelled like production's",
        PR,
        "kubernetes:core/v1:Namespace",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": PR, "labels": {"team": "payments", "secret-chain/pr": "7"}}},
        ("Namespace 'preview-pr-7' carries label team; a pull request's namespace carries only the chain's label keys",),
    ),
]


@pytest.mark.parametrize("case", [*CASES, *GRANTS, *REPLICATION, *PR_LABELS], ids=lambda c: c.tried)
def test_pr_stack_confinement(case: Case) -> None:
    found = confinement(case.stack, case.resource_type, case.props, config=case.config)
    assert len(found) == len(case.expected), found
    for message, fragment in zip(found, case.expected, strict=True):
        assert fragment in message, (fragment, message)


def test_pr_stack_confinement_reads_the_kubernetes_provider_default_namespace() -> None:
    secret = _object("Secret")  # no metadata.namespace: the provider's namespace applies
    assert confinement(PR, SECRET, secret, _Provider("pulumi:providers:kubernetes", {"namespace": PR})) == []
    (message,) = confinement(PR, SECRET, secret, _Provider("pulumi:providers:kubernetes", {"namespace": "default"}))
    assert "namespace 'default'" in message
    assert confinement(PR, SECRET, _object("Secret", PR), _Provider("pulumi:providers:kubernetes", {"namespace": "default"})) == []


def test_pr_stack_confinement_through_the_engine_proxies() -> None:
    """Props as Analyze builds them; a value unknown during preview is skipped, not reported."""
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # pulumi_policy's UNKNOWN_STRING_VALUE
    escaped = unknown_checking_proxy(deserialize_properties(_object("Secret", "default")))
    assert len(confinement(PR, SECRET, escaped)) == 1
    issuer = _object("ClusterIssuer", api_version="cert-manager.io/v1", spec={"acme": {"email": unknown, "solvers": [{"namespace": PR}]}})
    (message,) = confinement("preview-base", CLUSTER_ISSUER, unknown_checking_proxy(deserialize_properties(issuer)))
    assert "solvers[0].namespace" in message
    # a target namespace unknown during preview is not taken for "no namespace": pulumi-policy reports that the
    # policy cannot run during preview (UnknownValueError), and the update checks the real value
    pending = unknown_checking_proxy(deserialize_properties(_object("Secret", unknown)))
    with pytest.raises(UnknownValueError):
        confinement(PR, SECRET, pending)


def test_stack_name_comes_from_the_urn() -> None:
    assert P.stack_of("urn:pulumi:preview-pr-12::secret-chain::kubernetes:core/v1:Secret::s") == "preview-pr-12"
    assert P.stack_of("urn:pulumi:preview-pr-12::p::a:b:C$kubernetes:core/v1:Secret::x::y") == "preview-pr-12"
    assert P.stack_of("not-a-urn") is None
    assert [s for s in ("preview-pr-1", "preview-pr-123456789", "preview-pr-01", "preview-pr-", "preview-base") if P.PR_STACK.fullmatch(s)] == [
        "preview-pr-1",
        "preview-pr-123456789",
    ]


# --- the built-in scope table against upstream discovery data -----------------------------------------


def _upstream_kinds(not_stored: frozenset[tuple[str, str]]) -> set[tuple[str, str]]:
    """(group, kind) of every top-level object in kubernetes-validate's newest strict OpenAPI schemas."""
    import kubernetes_validate

    root = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    newest = max(
        (p for p in root.iterdir() if p.name.endswith("-local-strict")), key=lambda p: tuple(int(x) for x in p.name[1:].split("-")[0].split("."))
    )
    definitions = json.loads((newest / "_definitions.json").read_text())["$defs"]
    kinds: set[tuple[str, str]] = set()
    for schema in definitions.values():
        props = schema.get("properties", {})
        if "metadata" not in props or "kind" not in props:
            continue
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            kind = gvk["kind"]
            if kind.endswith("List") or kind == "Status" or (gvk["group"] or "core", kind) in not_stored:
                continue
            kinds.add((gvk["group"] or "core", kind))
    return kinds


def _crd_scopes() -> dict[tuple[str, str], str]:
    """(group, kind) -> ``Namespaced``/``Cluster`` of every CRD the installed cloudcoil-models-* packages were generated from.

    Read from the generated source (each model's ``__cloudcoil_api__["scope"]`` and its apiVersion literal): importing
    the models takes ~20 s.
    """
    import cloudcoil.models

    scopes: dict[tuple[str, str], str] = {}
    for path in Path(cloudcoil.models.__path__[0]).rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"^class (\w+)\(Resource\):\n    __cloudcoil_api__: ClassVar\[dict\] = \{(.*?)\n    \}", text, re.M | re.S):
            scope = re.search(r'"scope": "(\w+)"', match.group(2))
            api_version = re.search(r'def api_version\(self, value: Literal\["([^"]+)"\]', text[match.end() :])
            assert scope is not None and api_version is not None, (path, match.group(1))
            scopes[(api_version.group(1).rpartition("/")[0], match.group(1))] = scope.group(1)
    return scopes


def test_the_crd_kind_defaults_agree_with_the_upstream_crds() -> None:
    """Every cert-manager, Flux and Prometheus Operator CRD is in the default namespacedKinds or clusterScopedKinds, as its
    CRD's scope says (a wrong entry would let a PR stack create a cluster-wide object)."""
    ns = policies.load("policy_namespaces")
    scopes = _crd_scopes()
    assert len(scopes) >= 30
    namespaced = {tuple(entry.split("/")) for entry in ns.NAMESPACED_KINDS}
    cluster = {tuple(entry.split("/")) for entry in ns.CLUSTER_SCOPED_KINDS}
    assert {key for key, scope in scopes.items() if scope == "Namespaced"} == {key for key in namespaced if key[0] in {g for g, _ in scopes}}
    assert {key for key, scope in scopes.items() if scope == "Cluster"} <= cluster


def test_every_upstream_kind_has_a_known_scope() -> None:
    """Every kind of the newest Kubernetes schemas kubernetes-validate ships is in the built-in scope table, and
    the table names no kind upstream lacks: a new Kubernetes release with a new kind fails here until it is classified."""
    ns = policies.load("policy_namespaces")
    upstream = _upstream_kinds(ns.NOT_STORED_KINDS)
    table = set(ns.BUILTIN_SCOPES)
    assert upstream - table == set()
    assert table - upstream == set()
    assert ns.BUILTIN_SCOPES[("core", "Secret")] and not ns.BUILTIN_SCOPES[("resource.k8s.io", "ResourceSlice")]
