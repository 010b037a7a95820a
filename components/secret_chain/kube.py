"""Kubernetes helpers shared by the components: labels, annotations, Secret creation and rollout triggers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import pulumi
from pulumi.output import UNKNOWN, Unknown

from secret_chain import catalog
from secret_chain._component import ChainComponent, derived
from secret_chain.config import MUTABLE_MARK, problem_line
from secret_chain.errors import ConfigError

if TYPE_CHECKING:
    import pulumi_kubernetes as k8s

PART_OF = "secret-chain"
CONFIG_KEYS_ANNOTATION = "secret-chain/config-keys"
"""Annotation on every chain Secret listing the config keys its data comes from (names, never values)."""

ROLLOUT_KEY = catalog.ROLLOUT_KEY
"""Config key of the HMAC key behind every rollout annotation; when it is absent the key is generated
(:func:`generated_rollout_key`)."""
ROLLOUT_KEY_BYTES = 32
"""Size of a generated rollout key: the 32 random bytes ``openssl rand -hex 32`` gives a configured one."""
ROLLOUT_ANNOTATION_PREFIX = "secret-chain/rollout-hmac-sha256-"
"""Rollout annotation keys are this prefix plus the Secret's name. The key says what the value is, a keyed
SHA-256 digest, which is also what the policy pack's no-secret-looking-metadata rule exempts from its
long-hex check (``HASH_KEYS``): the value is a digest, not a token."""


def labels(component: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Standard labels of a chain object; never derived from secret values."""
    base = {
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/component": component,
    }
    return {**base, **(extra or {})}


def secret(
    resource_name: str,
    *,
    name: pulumi.Input[str],
    namespace: pulumi.Input[str],
    string_data: pulumi.Output[dict[str, str]],
    config_keys: Sequence[catalog.Key],
    component: str,
    parent: ChainComponent[Any],
    type_: str = "Opaque",
    depends_on: Sequence[pulumi.Resource] = (),
    keys_vary: bool = False,
) -> k8s.core.v1.Secret:
    """Create a chain Secret whose whole content (``stringData``, or ``data``) is one secret Output.

    A changed value is an in-place update, never a delete-then-create: fixed name, namespace and ``type``, no
    ``immutable``, no replace option (pulumi-kubernetes diff.go ``forceNewProperties``; docs/design.md#in-place-secret-updates).
    ``keys_vary``: the set of data keys changes with config, so write base64 ``data``, since a key dropped from
    ``stringData`` stays in the live Secret (kubernetes/kubernetes#89938).
    """
    from pulumi_kubernetes.core.v1 import Secret

    data: pulumi.Output[dict[str, str]] | None = pulumi.Output.secret(string_data.apply(base64_values)) if keys_vary else None
    plain: pulumi.Output[dict[str, str]] | None = None if keys_vary else pulumi.Output.secret(string_data)
    return Secret(
        resource_name,
        metadata={
            "name": name,
            "namespace": namespace,
            "labels": labels(component),
            "annotations": {CONFIG_KEYS_ANNOTATION: ",".join(k.key for k in config_keys)},
        },
        type=type_,
        data=data,
        string_data=plain,
        opts=parent.child_opts(depends_on),
    )


def base64_values(data: Mapping[str, str]) -> dict[str, str]:
    """A Secret's ``data`` form of string values: each UTF-8 encoded, then base64."""
    return {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}


def canonical_json(value: object) -> str:
    """Serialise with sorted keys and no spaces, so the same input always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def rollout_annotation_key(secret_name: str) -> str:
    """The pod-template annotation key that carries the rollout trigger of Secret ``secret_name``.

    The name part of an annotation key is at most 63 characters: a long Secret name is shortened and
    made unique again with a digest of the (public) name.
    """
    name = ROLLOUT_ANNOTATION_PREFIX.split("/", 1)[1] + secret_name
    if len(name) > 63:
        name = f"{name[:54]}-{hashlib.sha256(secret_name.encode()).hexdigest()[:8]}"
    return f"{ROLLOUT_ANNOTATION_PREFIX.split('/', 1)[0]}/{name}"


def rollout_digest(key: str, namespace: str, name: str, data: Mapping[str, str]) -> str:
    """HMAC-SHA256, keyed with the rollout key, of the Secret's namespace, name and data (canonical JSON).

    A plain hash of a low-entropy value (an SMTP password) could be reversed by guessing; without the
    key, this digest cannot be computed from a guess, and it changes whenever the data changes.
    """
    message = canonical_json({"data": dict(data), "name": name, "namespace": namespace})
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def rollout_annotations(
    rollout_key: pulumi.Output[str],
    namespace: pulumi.Input[str],
    name: pulumi.Input[str],
    string_data: pulumi.Output[dict[str, str]],
    secret: pulumi.Resource,
) -> pulumi.Output[dict[str, str]]:
    """``{rollout annotation key: digest}`` for one Secret read at start-up (env vars), as a plain Output.

    The digest is derived from secrets, so Pulumi would mark it secret; it is unsecreted on purpose:
    it must be visible (it goes into a pod template) and reveals nothing without the rollout key.
    ``namespace`` and ``name`` may be other resources' outputs. ``secret``: the Secret whose data it digests, which
    the annotations wait for (:func:`secret_chain._component.derived`), so the pods they roll start after it.

    A generated key is the ``hex`` of a RandomBytes, which the provider always computes (unknown only in preview). A
    mock runtime that echoes the inputs back (the Pulumi docs' unit-testing mock) gives it no ``hex`` at all: then the
    annotations are unknown, as in a preview, rather than a digest made with no key (:mod:`secret_chain.testing`
    gives the key a value).
    """

    def compute(args: list[object]) -> dict[str, str] | Unknown:
        key, data, known_namespace, known_name = args
        if key is None:
            return UNKNOWN
        assert isinstance(key, str) and isinstance(data, dict) and isinstance(known_namespace, str) and isinstance(known_name, str)
        return {rollout_annotation_key(known_name): rollout_digest(key, known_namespace, known_name, data)}

    digests = pulumi.Output.all(rollout_key, string_data, namespace, name).apply(compute)
    return pulumi.Output.unsecret(derived(cast("pulumi.Output[dict[str, str]]", digests), secret))


def generated_rollout_key(resource_name: str, parent: pulumi.Resource) -> pulumi.Output[str]:
    """A rollout key made and kept by a ``pulumi_random.RandomBytes`` child of ``parent``: its ``hex``, as a secret.

    Drawn once and kept in state; only ``length`` replaces it (terraform-provider-random resource_bytes.go), so it
    never changes on its own (docs/design.md#in-place-secret-updates). The name comes from the component's name only.
    """
    from pulumi_random import RandomBytes

    key = RandomBytes(resource_name, length=ROLLOUT_KEY_BYTES, opts=pulumi.ResourceOptions(parent=parent))
    # secret in state already (pulumi-random additional_secret_outputs); wrapped so it stays secret under mocks too
    return pulumi.Output.secret(key.hex)


def rollout_key_of(
    component: pulumi.Resource, name: str, configured: pulumi.Output[str] | None, shared: pulumi.Output[str] | None = None
) -> pulumi.Output[str]:
    """The rollout key a component uses: the configured one, else the one its chain shares, else its own generated one."""
    if configured is not None:
        return configured
    if shared is not None:
        return shared
    return generated_rollout_key(f"{name}-rollout-key", component)


def mutable_secrets_provider(name: str, opts: pulumi.ResourceOptions | None = None, **kwargs: object) -> pulumi.ProviderResource:
    """A ``pulumi_kubernetes.Provider`` with ``enable_secret_mutable=True``, which the components accept in ``opts``.

    A provider object does not expose its inputs when the components are built, so they cannot read an explicit
    provider's flag; they accept one made here, where it is set, or one you made yourself when you state it in their
    args (``provider_enables_mutable_secrets=True``: :func:`secret_chain.config.require_mutable_secrets`). Anything but
    ``True`` is refused here: pulumi-kubernetes turns the flag on only for the string ``true`` (provider.go
    ``Configure``), and the SDK sends ``True`` as exactly that (``pulumi.runtime.to_json``), while ``"true"`` or ``1``
    arrive as other text. ``kwargs`` are the Provider's other arguments (``kubeconfig``, ``namespace``, …).
    """
    from pulumi_kubernetes import Provider

    if kwargs.pop("enable_secret_mutable", True) is not True:
        raise ConfigError([problem_line("mutable_secrets_provider: enable_secret_mutable must be True (or left out)", "drop the argument")])
    provider: pulumi.ProviderResource = Provider(name, opts=opts, enable_secret_mutable=True, **kwargs)  # type: ignore[call-overload]
    setattr(provider, MUTABLE_MARK, True)
    return provider
