"""Kubernetes helpers shared by the components: labels, annotations and Secret creation."""

from __future__ import annotations

import json
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pulumi

if TYPE_CHECKING:
    import pulumi_kubernetes as k8s

PART_OF = "secret-chain"
CONFIG_KEYS_ANNOTATION = "secret-chain/config-keys"
"""Annotation on every chain Secret listing the config keys its data comes from (names, never values)."""


# Pulumi does not pass a component's depends_on to its children, so a component records it here and
# every child it creates waits for the same resources (e.g. a PR stack's Namespace).
_INHERITED: weakref.WeakKeyDictionary[pulumi.Resource, tuple[pulumi.Resource, ...]] = weakref.WeakKeyDictionary()


def adopt(component: pulumi.Resource, opts: pulumi.ResourceOptions | None) -> None:
    """Record the resources ``component`` was told to depend on, for :func:`child_opts`."""
    depends = opts.depends_on if opts is not None else None
    items: list[object] = [depends] if isinstance(depends, pulumi.Resource) else list(depends) if isinstance(depends, (list, tuple)) else []
    _INHERITED[component] = tuple(d for d in items if isinstance(d, pulumi.Resource))


def child_opts(parent: pulumi.Resource, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
    """Options of a component's child: parented to it, waiting for what the component waits for."""
    return pulumi.ResourceOptions(parent=parent, depends_on=[*_INHERITED.get(parent, ()), *depends_on])


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
    name: str,
    namespace: str,
    string_data: pulumi.Output[dict[str, str]],
    config_keys: Sequence[str],
    component: str,
    parent: pulumi.Resource,
    type_: str = "Opaque",
    depends_on: Sequence[pulumi.Resource] = (),
) -> k8s.core.v1.Secret:
    """Create a chain Secret whose whole ``stringData`` is a secret Output.

    The name is fixed (consumers reference it), so a changed value is an in-place update of the same
    object, never a delete-then-create.
    """
    from pulumi_kubernetes.core.v1 import Secret

    return Secret(
        resource_name,
        metadata={
            "name": name,
            "namespace": namespace,
            "labels": labels(component),
            "annotations": {CONFIG_KEYS_ANNOTATION: ",".join(config_keys)},
        },
        type=type_,
        string_data=pulumi.Output.secret(string_data),  # type: ignore[arg-type]  # the SDK's stub is too narrow
        opts=child_opts(parent, depends_on),
    )


def canonical_json(value: object) -> str:
    """Serialise with sorted keys and no spaces, so the same input always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
