"""GhcrPullSecret: an image pull secret for ghcr.io in every namespace that pulls private images."""

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Required, TypedDict

import pulumi

from secret_chain import catalog, kube
from secret_chain import validators as v
from secret_chain._component import ChainComponent, derived
from secret_chain._resolve import arg, resolve_spec
from secret_chain.config import ConfigReader, Known, gated, lift, string, validated

USERNAME_KEY = catalog.GHCR_USERNAME
TOKEN_KEY = catalog.GHCR_TOKEN
"""Fields ``username`` and ``token`` of the object config key ``namespace:imagePullSecret`` (the runbook writes them
as ``namespace:imagePullSecret:username``/``:token``, which the Pulumi CLI cannot parse as keys)."""


class GhcrPullSecretArgs(TypedDict, total=False):
    """Arguments of :class:`GhcrPullSecret`. Values left out are read from ESC-injected config."""

    namespaces: Required[Sequence[pulumi.Input[str]]]
    """Namespaces that get the pull secret (required). Each may be another resource's output, such as a
    Namespace's metadata.name; the list itself is plain, because it says how many Secrets to create. The
    Secret of a namespace given as an output is a resource named by its position (`<name>-namespaces[<i>]`),
    as its value is not known when the resource is registered; a plain namespace names it (`<name>-<namespace>`)."""
    registry: pulumi.Input[str]
    """Registry host the credentials are for. Default: ghcr.io."""
    secret_name: pulumi.Input[str]
    """Name of the Secret in every namespace. Default: ghcr-pull-secret."""
    username: pulumi.Input[str]
    """GitHub username. Default: field `username` of config `namespace:imagePullSecret`."""
    token: pulumi.Input[str]
    """Classic personal access token (ghp_…) with read:packages. Default: field `token` of config `namespace:imagePullSecret`."""
    attach_to_default_service_account: bool
    """Make each namespace's default ServiceAccount reference the secret (a server-side apply patch of its
    ``imagePullSecrets``). Default: false.

    ``ServiceAccount.imagePullSecrets`` is an atomic list (``x-kubernetes-list-type: atomic`` in the Kubernetes
    OpenAPI), so server-side apply cannot merge entries from two field managers: the patch applies the whole list,
    ``[{name: <secret_name>}]``. It is never forced (no ``pulumi.com/patchForce``; pulumi-kubernetes Patch resources
    fail on a conflict unless that annotation is set), so where another manager already set the list (``kubectl
    patch``, a Helm chart, another stack) ``pulumi up`` stops with a field-manager conflict instead of dropping the
    other entries. Then leave this off and list the secret in the pods' own ``imagePullSecrets``, or manage the
    whole list in one place."""
    provider_enables_mutable_secrets: bool
    """Set true to state that the explicit Kubernetes provider in opts was created with enable_secret_mutable=True (a
    provider you or another component made). A provider object does not expose its settings, so an explicit provider is
    refused without this statement, unless secret_chain.kube.mutable_secrets_provider made it; with it, the provider is
    taken at your word. Without an explicit provider it changes nothing: the default provider's
    kubernetes:enableSecretMutable decides. Default: false."""


def dockerconfigjson(registry: str, username: str, token: str) -> str:
    """The ``.dockerconfigjson`` document for one registry, serialised by the JSON library.

    ``auth`` is base64 of ``username:token``, which is what the kubelet and containerd send.
    """
    auth = base64.b64encode(f"{username}:{token}".encode()).decode()
    return kube.canonical_json({"auths": {registry: {"username": username, "password": token, "auth": auth}}})


@dataclass(frozen=True)
class GhcrSpec:
    """Validated inputs of a GhcrPullSecret."""

    namespaces: tuple[Known[str], ...] = field(metadata=arg(v.namespace, required=True, each=True))
    registry: Known[str] = field(metadata=arg(string(v.registry_host), default="ghcr.io"))
    secret_name: Known[str] = field(metadata=arg(string(v.dns1123_subdomain), default="ghcr-pull-secret"))
    attach: bool = field(metadata=arg(v.boolean, name="attach_to_default_service_account", default=False, plain=True))
    username: Known[str] = field(metadata=arg(key=USERNAME_KEY))
    token: pulumi.Output[str] = field(metadata=arg(key=TOKEN_KEY))
    provider_enables_mutable_secrets: bool = field(metadata=arg(v.boolean, default=False, plain=True))
    """The caller states that the explicit Kubernetes provider updates Secrets in place (config.require_mutable_secrets)."""


def resolve(args: GhcrPullSecretArgs, reader: ConfigReader) -> GhcrSpec | None:
    """Validate ``args`` and config into a spec; problems go to ``reader`` (None if any)."""
    return resolve_spec(GhcrSpec, args, reader)


class GhcrPullSecret(ChainComponent[GhcrSpec]):
    """A ``kubernetes.io/dockerconfigjson`` Secret for ghcr.io in each listed namespace.

    Reads the fields ``username`` and ``token`` of the object key ``namespace:imagePullSecret`` from the
    ESC-injected config unless given in args. GitHub Packages accepts only classic personal access
    tokens, so a fine-grained or App token is rejected before anything is created.
    """

    secret_names: pulumi.Output[dict[str, str]]
    """Name of the pull secret, per namespace."""

    def __init__(self, name: str, args: GhcrPullSecretArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        self._build(name, validated("GhcrPullSecret", resolve, args, opts), opts)

    def _build(self, name: str, spec: GhcrSpec, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__("secret-chain:index:GhcrPullSecret", name, None, gated(spec, opts))
        self.inherit_depends_on(opts)
        document = pulumi.Output.all(spec.token, spec.registry, spec.username).apply(
            lambda known: {".dockerconfigjson": dockerconfigjson(known[1], known[2], known[0])}
        )
        written: list[pulumi.Resource] = []
        for index, namespace in enumerate(spec.namespaces):
            # A child's logical name (its URN) must be known when it is registered, in preview too, and
            # must not change once deployed. A plain namespace keeps the name it always had, so existing
            # stacks see no URN change; a namespace that is another resource's output is not known yet
            # (and may never be, in preview), so its children are named by position instead. Brackets
            # cannot occur in a namespace (a DNS-1123 label), so the two forms never collide. Moving such an
            # item, or switching it between plain and output, renames its children: give them aliases then.
            child = f"{name}-{namespace}" if isinstance(namespace, str) else f"{name}-namespaces[{index}]"
            secret = kube.secret(
                child,
                name=spec.secret_name,
                namespace=namespace,
                string_data=document,
                config_keys=(USERNAME_KEY, TOKEN_KEY),
                component="image-pull-secret",
                parent=self,
                type_="kubernetes.io/dockerconfigjson",
            )
            written.append(secret)
            if spec.attach:
                from pulumi_kubernetes.core.v1 import ServiceAccountPatch

                # A patch (server-side apply), because the default ServiceAccount belongs to the
                # namespace controller: we own only the imagePullSecrets field, and give it back on destroy.
                # The list is atomic (one field for SSA), so it cannot be merged with other managers' entries;
                # the patch is never forced, so a list someone else set is a conflict, not silently replaced.
                written.append(
                    ServiceAccountPatch(
                        f"{child}-default-sa",
                        metadata={"name": "default", "namespace": namespace},
                        image_pull_secrets=[{"name": spec.secret_name}],
                        opts=self.child_opts([secret]),
                    )
                )
        # Known once every Secret (and ServiceAccount patch) is: a pod that names the secret waits for it.
        self.secret_names = derived(
            lift(lambda secret_name, *namespaces: dict.fromkeys(namespaces, secret_name), spec.secret_name, *spec.namespaces), *written
        )
        self.register_outputs({"secret_names": self.secret_names})
