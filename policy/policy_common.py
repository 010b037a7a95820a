"""What every module of the secret-chain policy pack shares.

Reading (proxied) inputs, policy config, and which Kubernetes object a resource is.

Upstream behaviour relied on here:

* pulumi-policy hands ``validate`` the resource's inputs through ``unknown_checking_proxy`` (reading a value
  that is unknown during preview raises :class:`~pulumi_policy.proxy.UnknownValueError`), and the policy's
  configuration through ``args.get_config()`` (``pulumi_policy/policy.py``: ``ResourceValidationArgs``,
  ``StackValidationArgs``, ``_get_policy_config``). The config is whatever the stack's policy config sets
  for the policy (https://www.pulumi.com/docs/iac/using-pulumi/crossguard/configuration/: the schema's
  ``default`` applies when the stack sets nothing); every reader here falls back to the same default its
  ``PolicyConfigSchema`` declares, so the pack behaves the same when it is run without any config.
* ``pulumi_kubernetes.apiextensions.CustomResource(api_version=A, kind=K)`` registers type token
  ``kubernetes:A:K`` (``pulumi_kubernetes/apiextensions/CustomResource.py``), so ``CustomResource("v1",
  "Secret")`` is ``kubernetes:v1:Secret``, not ``kubernetes:core/v1:Secret``; its ``apiVersion``/``kind``
  inputs are what the provider sends to the API server. A resource is therefore identified by
  apiVersion+kind (inputs and type token both), never by the type token alone.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from pulumi_policy import Secret
from pulumi_policy.proxy import UnknownValueError

# --- reading inputs ---------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """Unwrap a :class:`pulumi_policy.Secret` (tests and remediations may pass them)."""
    while isinstance(value, Secret):
        value = value.value
    return value


def get(mapping: Any, *path: str) -> Any:
    """``mapping[path[0]][path[1]]…``, or None when any step is missing or not a mapping.

    A value unknown during preview raises :class:`~pulumi_policy.proxy.UnknownValueError`: pulumi-policy then
    reports that the policy cannot run during preview (an advisory diagnostic), instead of a false verdict.
    """
    value = mapping
    for key in path:
        value = plain(value)
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return plain(value)


def peek(mapping: Any, *path: str) -> Any:
    """Like :func:`get`, but None when the value is unknown during preview (for checks that skip what is not known yet)."""
    try:
        return get(mapping, *path)
    except UnknownValueError:
        return None


def items(value: Any) -> Iterator[tuple[str | int, Any]]:
    """(key, child) of a mapping or (index, child) of a list, skipping children unknown during preview."""
    value = plain(value)
    if isinstance(value, Mapping):
        for key in value:
            try:
                yield key, plain(value[key])
            except UnknownValueError:
                continue
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for index in range(len(value)):
            try:
                yield index, plain(value[index])
            except UnknownValueError:
                continue


def join(path: str, key: str | int) -> str:
    """``path`` extended by a mapping key (``a.b``) or a list index (``a[0]``)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def is_list(value: Any) -> bool:
    """A (proxied) sequence that is not a string."""
    return isinstance(value, Sequence) and not isinstance(value, str)


def where(args: Any) -> str:
    """How messages name a resource: its type and Pulumi name."""
    return f"{args.resource_type} {args.name!r}"


def raw_props(args: Any) -> Mapping[str, Any]:
    """The inputs with secret markers kept (remediations): the proxy's ``__target``, else the props as given."""
    props = args.props
    try:
        target = props["__target"]
    except (KeyError, TypeError):
        return props  # type: ignore[no-any-return]
    return target if isinstance(target, Mapping) else props


def unproxy(value: Any) -> Any:
    """Copy proxied mappings/lists into plain ones (keeping ``Secret`` wrappers)."""
    with contextlib.suppress(KeyError, TypeError, IndexError):
        value = value["__target"]
    if isinstance(value, Mapping):
        return {k: unproxy(value[k]) for k in value}
    if is_list(value):
        return [unproxy(value[i]) for i in range(len(value))]
    return value


# --- policy config ----------------------------------------------------------------------------------


def config_of(args: Any) -> Mapping[str, Any]:
    """The policy's configuration (``args.get_config()``), or an empty mapping when there is none."""
    getter = getattr(args, "get_config", None)
    config = getter() if callable(getter) else None
    return config if isinstance(config, Mapping) else {}


def setting(args: Any, key: str, default: Any) -> Any:
    """Config ``key`` of the policy, else ``default`` (the value its ``PolicyConfigSchema`` declares)."""
    config = config_of(args)
    value = config.get(key)
    return default if value is None else value


# --- which Kubernetes object ------------------------------------------------------------------------


class ObjectId(NamedTuple):
    """The API identity of a Kubernetes object: group (``core`` for the core group), version, kind; ``patch`` for ``*Patch``."""

    group: str
    version: str
    kind: str
    patch: bool = False


_VERSION = re.compile(r"v\d+(?:(?:alpha|beta)\d+)?")
COMPONENT_GROUPS = frozenset({"yaml", "kustomize"})
"""``kubernetes:<group>[/<version>]:…`` tokens of component resources, whose children are registered (and
validated) one by one; ``helm.sh`` Charts are components too."""


def split_api_version(api_version: str) -> tuple[str, str]:
    """``apps/v1`` → (apps, v1); ``v1`` → (core, v1); ``core/v1`` (the provider's token form) → (core, v1)."""
    group, _, version = api_version.rpartition("/")
    return (group or "core"), version


def api_version_of(resource_type: str) -> tuple[str, str, str] | None:
    """Split ``kubernetes:<group>/<version>:<Kind>`` into (group, version, kind); ``kubernetes:v1:Kind`` is group ``core``."""
    parts = resource_type.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes":
        return None
    middle = parts[1]
    if "/" in middle:
        group, _, version = middle.rpartition("/")
        return group, version, parts[2]
    if _VERSION.fullmatch(middle):
        return "core", middle, parts[2]
    return None


def is_component(resource_type: str) -> bool:
    """A Kubernetes component resource (yaml/kustomize groups, Helm ``Chart``): its children are checked instead."""
    parts = resource_type.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes":
        return False
    group = parts[1].split("/", 1)[0]
    return group in COMPONENT_GROUPS or (group == "helm.sh" and parts[2] == "Chart")


def object_ids(resource_type: str, props: Any) -> list[ObjectId]:
    """Every identity a ``kubernetes:*`` resource may have: from its type token and from its apiVersion+kind inputs.

    Typed SDK classes set both and they agree; ``CustomResource`` tokens carry the same pair; a generic
    ``…:CustomResource`` token carries none, so the inputs decide. Components and non-Kubernetes resources
    have none.
    """
    if not resource_type.startswith("kubernetes:") or is_component(resource_type):
        return []
    found: list[ObjectId] = []
    parsed = api_version_of(resource_type)
    if parsed is not None and parsed[2] != "CustomResource":
        group, version, kind = parsed
        patch = kind.endswith("Patch") and kind != "Patch"
        found.append(ObjectId(group, version, kind.removesuffix("Patch") if patch else kind, patch))
    api_version = peek(props, "apiVersion")
    kind_input = peek(props, "kind")
    if isinstance(api_version, str) and api_version and isinstance(kind_input, str) and kind_input:
        group, version = split_api_version(api_version)
        patch = bool(found and found[0].patch)
        candidate = ObjectId(group, version, kind_input.removesuffix("Patch") if kind_input.endswith("Patch") else kind_input, patch)
        if candidate not in found:
            found.append(candidate)
    return found


def is_kind(resource_type: str, props: Any, group: str, kind: str, *, patches: bool = True) -> bool:
    """Whether the resource is (any identity of it says) a ``group``/``kind`` object; ``patches``: ``*Patch`` counts."""
    return any(i.group == group and i.kind == kind and (patches or not i.patch) for i in object_ids(resource_type, props))


def stack_of(urn: str) -> str | None:
    """The stack name in a URN (``urn:pulumi:<stack>::<project>::<type>::<name>``), or None when it is not one."""
    if not urn.startswith("urn:pulumi:"):
        return None
    return urn[len("urn:pulumi:") :].split("::", 1)[0] or None


def urn_parts(urn: str | None) -> tuple[str, str, str, str] | None:
    """(stack, project, qualified type, name) of ``urn:pulumi:<stack>::<project>::<qualified type>::<name>``, or None.

    The qualified type is the parents' types and the resource's own, joined by ``$`` (pulumi/pulumi
    ``sdk/go/common/resource/urn.go``: ``NewURN``, ``QualifiedType``); the name is everything after the third ``::``.
    """
    if not isinstance(urn, str) or not urn.startswith("urn:pulumi:"):
        return None
    parts = urn[len("urn:pulumi:") :].split("::", 3)
    if len(parts) != 4 or not all(parts[:3]):
        return None
    return parts[0], parts[1], parts[2], parts[3]
