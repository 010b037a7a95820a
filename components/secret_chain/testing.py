"""Unit-test a program that uses the components on Pulumi's mock runtime (docs/testing.md).

Pulumi's unit-testing guide (pulumi.com/docs/iac/guides/testing/unit, Python) replaces the engine with a
``pulumi.runtime.Mocks`` whose ``new_resource`` echoes the inputs back as outputs (``[args.name + '_id',
args.inputs]``) and whose ``call`` answers ``{}``. The components work under that mock as they are: every value
they compute from their inputs is known. What such a mock cannot give is a value a provider generates: the rollout
key a PrometheusAuth or GrafanaOAuth makes when ``secret-chain:rolloutKey`` is not configured is the ``hex`` of a
``random.RandomBytes``, which the echo leaves out, so ``rollout_annotations`` stays unknown, as in a preview
(:func:`secret_chain.kube.rollout_annotations`). :class:`Mocks` is that echo mock plus the generated values and
the look-ups the components make, so every output has a value:

    import pulumi
    from secret_chain.testing import Mocks, set_config

    pulumi.runtime.set_mocks(Mocks(), preview=False)
    set_config({"kubernetes:enableSecretMutable": "true", "prometheus:authToken": "a" * 64}, secret=["prometheus:authToken"])

    import infra  # the program under test, imported after the mocks

The values it makes are stand-ins derived from the resource's (public) type and name, the same on every run, never
keys: anyone can recompute them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pulumi
from pulumi.runtime import rpc

from secret_chain import catalog

RANDOM_BYTES = "random:index/randomBytes:RandomBytes"
"""The type token pulumi_random registers a RandomBytes with (pulumi/pulumi-random
``sdk/python/pulumi_random/random_bytes.py``: ``@pulumi.type_token("random:index/randomBytes:RandomBytes")``)."""

Invoke = Callable[[dict[str, Any]], dict[str, Any]]
"""A provider function's stand-in: its arguments (the engine's camelCase names) to its result."""


def random_bytes_stand_in(typ: str, name: str, length: object) -> dict[str, Any]:
    """The outputs a mock run gives a ``RandomBytes``: ``hex`` and ``base64`` of ``length`` bytes, secret-marked.

    The provider makes them with ``crypto/rand`` when it creates the resource (hashicorp/terraform-provider-random
    ``internal/provider/resource_bytes.go``, ``Create``). Here they are derived from the type and the resource's
    name instead, so two evaluations of one program register the same values. A fake that never exists outside
    this process, not a key: anyone can recompute it from the (public) name. Both are returned secret, as the
    engine returns them: the schema marks them ``secret`` and the SDK asks for it (``additional_secret_outputs=
    ["base64", "hex"]`` in pulumi/pulumi-random ``sdk/python/pulumi_random/random_bytes.py``), which the mock
    monitor does not honour by itself.
    """
    # Numbers cross the RPC as protobuf doubles (google.protobuf.Value has no integer).
    size = int(length) if isinstance(length, (int, float)) and not isinstance(length, bool) and length >= 1 else 32
    seed = f"secret-chain offline stand-in, not a key: {typ}::{name}".encode()
    stream = b"".join(hashlib.sha256(seed + counter.to_bytes(4, "big")).digest() for counter in range(size // 32 + 1))[:size]
    return {"hex": rpc.wrap_rpc_secret(stream.hex()), "base64": rpc.wrap_rpc_secret(base64.b64encode(stream).decode())}


def github_repository(args: dict[str, Any]) -> dict[str, Any]:
    """``github.get_repository`` (GitHubActionsSecrets with ``organization_repositories``): a stable ID from the name."""
    full_name = str(args.get("fullName") or args.get("name"))
    # A stable stand-in ID derived from the (public) repository name keeps runs deterministic.
    repo_id = int.from_bytes(full_name.encode()[:6].ljust(6, b"\0"), "big") % 10**9 + 1
    return {"fullName": full_name, "name": full_name.split("/")[-1], "repoId": repo_id, "nodeId": f"R_{repo_id}"}


def digitalocean_domain(args: dict[str, Any]) -> dict[str, Any]:
    """``digitalocean.get_domain`` (CertManagerDnsIssuer's DNS-01 solver): the domain exists."""
    name = str(args["name"])
    return {"id": name, "name": name, "domainUrn": f"do:domain:{name}", "ttl": 1800, "zoneFile": ""}


def digitalocean_cluster(args: dict[str, Any]) -> dict[str, Any]:
    """``digitalocean.get_kubernetes_cluster`` (SecretChain's ``cluster``): an empty kubeconfig, nothing reachable."""
    name = str(args["name"])
    kubeconfig = {"apiVersion": "v1", "kind": "Config", "clusters": [], "contexts": [], "users": []}
    return {
        "id": f"{name}-id",
        "name": name,
        "endpoint": "https://offline.invalid",
        "kubeConfigs": [{"rawConfig": json.dumps(kubeconfig), "expiresAt": "offline"}],
    }


DEFAULT_INVOKES: dict[str, Invoke] = {
    "github:index/getRepository:getRepository": github_repository,
    "digitalocean:index/getDomain:getDomain": digitalocean_domain,
    "digitalocean:index/getKubernetesCluster:getKubernetesCluster": digitalocean_cluster,
}
"""The provider functions the components call, by token, with their stand-ins."""


class Mocks(pulumi.runtime.Mocks):
    """Pulumi's "echo the inputs" mock, plus the values the components need a provider to generate.

    ``new_resource`` returns ``<name>_id`` and the inputs as outputs, as the Pulumi docs' mock does, and adds a
    ``RandomBytes``' ``hex`` and ``base64`` (:func:`random_bytes_stand_in`), so the generated rollout key, and with it
    ``rollout_annotations``, has a value. ``call`` answers the look-ups the components make (:data:`DEFAULT_INVOKES`,
    updated with ``invokes``); any other function gets ``{}``, as in the docs' mock. Subclass it, or pass ``invokes``,
    to answer your program's own resources and functions.
    """

    def __init__(self, invokes: Mapping[str, Invoke] | None = None) -> None:
        self.invokes: dict[str, Invoke] = {**DEFAULT_INVOKES, **(invokes or {})}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        """The resource's ID (``<name>_id``) and outputs: its inputs, and a RandomBytes' generated values."""
        state = dict(args.inputs)
        if args.typ == RANDOM_BYTES:
            state.update(random_bytes_stand_in(args.typ, args.name, state.get("length")))
        return f"{args.name}_id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """A provider function's result (its stand-in's, or ``{}``) and no check failures.

        The failures are an empty list, not ``None``: the mock monitor iterates them when the answer is a tuple
        (pulumi/pulumi sdk/python/lib/pulumi/runtime/mocks.py ``MockMonitor.Invoke``); only a bare dict may omit them.
        """
        handler = self.invokes.get(args.token)
        return (handler(dict(args.args)) if handler is not None else {}), []


def stack_config(values: Mapping[str, str]) -> dict[str, str]:
    """Config keyed as the catalog writes it, in the form the Pulumi CLI hands a program.

    A field of an object key (``namespace:imagePullSecret.token``) is stored inside that key (``pulumi config set
    --path``), and the program reads the object's JSON text under ``namespace:imagePullSecret``; every other key
    is passed as it is.
    """
    out: dict[str, str] = {}
    objects: dict[str, dict[str, str]] = {}
    for key, value in values.items():
        entry = catalog.BY_KEY.get(key)
        if entry is not None and entry.field:
            objects.setdefault(entry.config_key, {})[entry.field] = value
        else:
            out[key] = value
    out.update({key: json.dumps(fields, sort_keys=True) for key, fields in objects.items()})
    return out


def set_config(values: Mapping[str, str], secret: Iterable[str] = ()) -> None:
    """Give the program under test its stack config (what ``Pulumi.<stack>.yaml`` and ESC give it in a real run).

    ``values`` are keyed as the catalog writes them (:func:`stack_config`); ``secret`` lists the keys to mark secret
    (an object key is secret when any of its fields is, as the CLI keeps it). Call it before the program is imported.
    """
    pulumi.runtime.set_all_config(stack_config(values), secret_config_keys(secret))


def secret_config_keys(secret: Iterable[str]) -> list[str]:
    """The config keys to mark secret for the catalog keys ``secret``: a field's object key, once (:func:`stack_config`)."""
    keys: list[str] = []
    for key in secret:
        entry = catalog.BY_KEY.get(key)
        target = entry.config_key if entry is not None and entry.field else key
        if target not in keys:
            keys.append(target)
    return keys


__all__ = [
    "DEFAULT_INVOKES",
    "RANDOM_BYTES",
    "Invoke",
    "Mocks",
    "digitalocean_cluster",
    "digitalocean_domain",
    "github_repository",
    "random_bytes_stand_in",
    "secret_config_keys",
    "set_config",
    "stack_config",
]
