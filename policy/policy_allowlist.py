"""The pack's allow-list for pull-request stacks: ``pr-stack-allow-list``.

A ``preview-pr-<N>`` stack runs code the pull request controls, so what it may register is listed, not what it may
not: every resource type outside :data:`PR_ALLOWED_TYPES` is refused there, whatever its package (a Pulumi Cloud
token, an ESC environment, an OIDC issuer, a ``command:local:Command``, a GitHub secret, a cloud resource…).

The list is what the chain itself registers on a PR stack (``components/secret_chain/chain.py``: its Namespace, the Secrets and
ServiceMonitor of GhcrPullSecret, PrometheusAuth and GrafanaOAuth, the generated rollout key, the components
around them), and tests/test_policy_allowlist.py holds it to that: it evaluates the stack program on a PR stack in
every configuration a PR stack accepts and compares the types registered with this list, both ways.

Providers are resources too (the engine analyses every registration, providers included:
pulumi/pulumi ``pkg/resource/deploy/step_generator.go``, ``generateSteps``, "Send the resource off to any
Analyzers"), and a PR stack may have only two kinds of them:

* the engine's *default* provider of a package the allow-list uses (:data:`DEFAULT_PROVIDER_PACKAGES`). The engine
  registers it itself, with no parent, under the name ``default`` or ``default_<major>_<minor>_<patch>[_…]``
  (pulumi/pulumi ``pkg/resource/deploy/providers/provider.go``, ``ProviderRequest.Name``; ``source_eval.go``,
  ``newRegisterDefaultProviderEvent``: the goal has no parent), configured from the stack's ``<package>:*`` config;
  an explicit provider made by a program always has a parent (the Python SDK makes the stack its parent:
  ``pulumi/runtime/resource.py``, ``prepare_resource``).
* the chain's own Kubernetes provider for ``secret-chain:digitaloceanCluster`` (``SecretChain._cluster_provider``):
  type ``pulumi:providers:kubernetes``, child of a ``secret-chain:index:SecretChain`` named ``<chain>``, itself named
  ``<chain>-cluster``, with exactly the inputs the chain gives it (:data:`CLUSTER_PROVIDER_INPUTS`, plus the ones
  the engine adds to every provider: :data:`ENGINE_PROVIDER_INPUTS`). No ``namespace``, ``context`` or ``cluster``
  override, no second cluster. Policy config ``clusterIdentifiers`` can pin the clusters it may point at.

Which cluster a kubeconfig reaches is not visible to a policy (the kubeconfig is a secret, and the cluster a name
resolves to is DigitalOcean's answer); ``clusterIdentifiers`` is the pack's handle on it, the DigitalOcean token's
scope the real one (docs/least-privilege.md).
"""

from __future__ import annotations

import re
from typing import Any

from policy_common import api_version_of, get, object_ids, setting, stack_of, urn_parts, where
from policy_namespaces import PR_STACK
from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

PR_ALLOWED_TYPES: tuple[str, ...] = (
    "pulumi:pulumi:Stack",
    "secret-chain:index:SecretChain",
    "secret-chain:index:GhcrPullSecret",
    "secret-chain:index:PrometheusAuth",
    "secret-chain:index:GrafanaOAuth",
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:Secret",
    "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
    "random:index/randomBytes:RandomBytes",
)
"""Every type the chain registers on a ``preview-pr-<N>`` stack (the stack, its components, its Namespace, Secrets and
ServiceMonitor, the generated rollout key). Default of policy config ``allowedTypes``; providers are decided apart."""

DEFAULT_PROVIDER_PACKAGES: tuple[str, ...] = ("kubernetes", "random", "digitalocean")
"""Packages whose engine default provider a PR stack may use: Kubernetes and random for the allowed types above,
DigitalOcean for the chain's ``getKubernetesCluster`` look-up (an invoke: the provider, not a resource). Default of
policy config ``defaultProviders``."""

CHAIN_TYPE = "secret-chain:index:SecretChain"
CLUSTER_PROVIDER_TYPE = "pulumi:providers:kubernetes"
CLUSTER_PROVIDER_SUFFIX = "-cluster"
"""The chain's Kubernetes provider is named ``f"{name}-cluster"`` after its SecretChain (components/secret_chain/chain.py)."""
CLUSTER_PROVIDER_INPUTS = frozenset({"kubeconfig", "clusterIdentifier", "enableSecretMutable"})
"""What ``SecretChain._cluster_provider`` gives ``pulumi_kubernetes.Provider`` (via ``kube.mutable_secrets_provider``)."""
ENGINE_PROVIDER_INPUTS = frozenset({"version", "pluginDownloadURL", "pluginChecksums", "__internal"})
"""Inputs the engine adds to a provider resource (pulumi/pulumi ``pkg/resource/deploy/providers/registry.go``:
``SetProviderVersion``, ``SetProviderURL``, ``SetProviderChecksums``, and ``__internal`` where newer engines keep them)."""

_DEFAULT_NAME = re.compile(r"default(?:_[A-Za-z0-9_.\-]+)?")
"""``ProviderRequest.Name``: ``default``, then ``_<major>_<minor>_<patch>``, pre-release and build parts, download URL."""


def _parent(args: Any) -> str | None:
    opts = getattr(args, "opts", None)
    parent = getattr(opts, "parent", None)
    return parent if isinstance(parent, str) and parent else None


def _default_provider(args: ResourceValidationArgs, packages: frozenset[str]) -> str | None:
    """The package of an engine default provider the PR stack may use, else None."""
    if not args.resource_type.startswith("pulumi:providers:"):
        return None
    package = args.resource_type[len("pulumi:providers:") :]
    parts = urn_parts(args.urn)
    if package not in packages or parts is None or _parent(args) is not None:
        return None
    _, _, qualified, name = parts
    return package if qualified == args.resource_type and _DEFAULT_NAME.fullmatch(name) else None


def _cluster_provider_problems(args: ResourceValidationArgs) -> list[str] | None:
    """None when the resource is not shaped as the chain's cluster provider; else what is wrong with it ([] = nothing)."""
    if args.resource_type != CLUSTER_PROVIDER_TYPE:
        return None
    parts = urn_parts(args.urn)
    parent = _parent(args)
    parent_parts = urn_parts(parent) if parent else None
    if parts is None or parent_parts is None or not parts[2].endswith(f"{CHAIN_TYPE}${CLUSTER_PROVIDER_TYPE}"):
        return None
    if parent_parts[2].rsplit("$", 1)[-1] != CHAIN_TYPE or parts[3] != parent_parts[3] + CLUSTER_PROVIDER_SUFFIX:
        return None
    problems = []
    extra = sorted(set(args.props) - CLUSTER_PROVIDER_INPUTS - ENGINE_PROVIDER_INPUTS)
    if extra:
        takes = ", ".join(sorted(CLUSTER_PROVIDER_INPUTS))
        problems.append(f"sets {', '.join(extra)}, which the chain's cluster provider never sets (it takes only {takes})")
    missing = sorted({"kubeconfig", "clusterIdentifier"} - set(args.props))
    if missing:
        problems.append(f"lacks {', '.join(missing)}")
    allowed = [str(v) for v in setting(args, "clusterIdentifiers", [])]
    if allowed and "clusterIdentifier" in args.props:
        identifier = get(args.props, "clusterIdentifier")
        if identifier not in allowed:
            problems.append(f"points at cluster {identifier!r}, not one of policy config clusterIdentifiers")
    return problems


def _kubernetes_identity_problem(args: ResourceValidationArgs, allowed: frozenset[str]) -> str | None:
    """Whether a ``kubernetes:`` resource's apiVersion+kind inputs say what its (allowed) type token says."""
    tokens = {api_version_of(t) for t in allowed if t.startswith("kubernetes:")}
    for identity in object_ids(args.resource_type, args.props):
        if (identity.group, identity.version, identity.kind) not in tokens or identity.patch:
            shown = f"{identity.group}/{identity.version} {identity.kind}{'Patch' if identity.patch else ''}"
            return f"its apiVersion and kind say {shown}, which is not on the list"
    return None


def validate_pr_stack_allow_list(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """On a ``preview-pr-<N>`` stack, only the allowed types, the engine's default providers and the chain's own cluster provider."""
    stack = stack_of(args.urn)
    pattern = re.compile(str(setting(args, "prStackPattern", PR_STACK.pattern)))
    if stack is None or not pattern.fullmatch(stack):
        return
    allowed = frozenset(str(t) for t in setting(args, "allowedTypes", list(PR_ALLOWED_TYPES)))
    packages = frozenset(str(p) for p in setting(args, "defaultProviders", list(DEFAULT_PROVIDER_PACKAGES)))
    if args.resource_type.startswith("pulumi:providers:"):
        if _default_provider(args, packages) is not None:
            return
        problems = _cluster_provider_problems(args)
        if problems is None:
            report_violation(
                f"{where(args)}: a pull request's stack ({stack}) may use no provider but the engine's default ones "
                f"({', '.join(sorted(packages))}) and the chain's own Kubernetes provider (<chain>-cluster, child of its "
                "SecretChain, for the cluster its stack settings name); an explicit provider can reach another cluster or account",
                None,
            )
        for problem in problems or ():
            report_violation(f"{where(args)}: the chain's cluster provider on {stack} {problem}", None)
        return
    if args.resource_type not in allowed:
        report_violation(
            f"{where(args)}: a pull request's stack ({stack}) may create only the types the chain creates there "
            f"({', '.join(sorted(allowed))}); {args.resource_type} is not one of them. Create it from preview-base or "
            "production, or add it to policy config allowedTypes",
            None,
        )
        return
    mismatch = _kubernetes_identity_problem(args, allowed) if args.resource_type.startswith("kubernetes:") else None
    if mismatch is not None:
        report_violation(f"{where(args)}: {mismatch} (a pull request's stack may create only the allowed types)", None)


def _list_schema(description: str, default: tuple[str, ...] | list[str]) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "description": description, "default": list(default)}


pr_stack_allow_list = ResourceValidationPolicy(
    name="pr-stack-allow-list",
    description=(
        "A preview-pr-<N> stack creates only the types the chain creates there (its Namespace, Secrets, ServiceMonitor, the "
        "rollout key, the components), uses only the engine's default providers and the chain's own cluster provider; "
        "everything else (Pulumi Cloud tokens, ESC environments, OIDC issuers, commands, GitHub or cloud resources, "
        "other providers) is refused."
    ),
    validate=validate_pr_stack_allow_list,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "prStackPattern": {
                "type": "string",
                "description": "Regular expression (full match) of pull-request stack names.",
                "default": PR_STACK.pattern,
            },
            "allowedTypes": _list_schema("Exact type tokens a pull-request stack may register (replaces the default list).", PR_ALLOWED_TYPES),
            "defaultProviders": _list_schema(
                "Packages whose engine default provider (no parent, named default[_<version>]) a pull-request stack may use.",
                DEFAULT_PROVIDER_PACKAGES,
            ),
            "clusterIdentifiers": _list_schema(
                "DigitalOcean cluster IDs the chain's cluster provider may name as clusterIdentifier on a pull-request stack (empty: not checked).",
                [],
            ),
        }
    ),
)

__all__ = [
    "CLUSTER_PROVIDER_INPUTS",
    "DEFAULT_PROVIDER_PACKAGES",
    "ENGINE_PROVIDER_INPUTS",
    "PR_ALLOWED_TYPES",
    "pr_stack_allow_list",
    "validate_pr_stack_allow_list",
]
