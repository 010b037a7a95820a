"""Kubernetes helpers shared by the components: labels, annotations and Secret creation."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pulumi

if TYPE_CHECKING:
    import pulumi_kubernetes as k8s

PART_OF = "secret-chain"
CONFIG_KEYS_ANNOTATION = "secret-chain/config-keys"
"""Annotation on every chain Secret listing the config keys its data comes from (names, never values)."""


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
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )


def canonical_json(value: object) -> str:
    """Serialise with sorted keys and no spaces, so the same input always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
