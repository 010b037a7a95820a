"""Compare what two evaluations registered, so the benchmark only ever times equivalent programs.

Two levels:

* :func:`registration_differences` — every registration, components and the stack included, by URN
  (type, name and the parent chain): parent, custom or component, unwrapped inputs, secret-marked paths,
  dependencies, provider, delete-before-replace and, for components, the registered outputs. This is
  the check for ``raw_program.main``, the baseline of the full-chain target.
* :func:`resource_differences` — provider resources only, by what they are (Kubernetes namespace/name,
  GitHub repository + secret name), ignoring logical names, parents and components: the check for
  ``raw_program.main_without_components``.

Differences name registrations and fields, never values (they may be secrets).
"""

from __future__ import annotations

import json
from typing import Any

from components.ops.offline import Evaluation, Registration, is_secret, unwrap


def _secret_paths(value: Any, path: str = "") -> list[str]:
    if is_secret(value):
        return [path or "/"]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _secret_paths(v, f"{path}/{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _secret_paths(v, f"{path}/{i}")]
    return []


def _canonical(value: Any) -> str:
    return json.dumps({"value": unwrap(value), "secret": sorted(_secret_paths(value))}, sort_keys=True, default=str)


def identity(reg: Registration) -> str:
    """What a resource is, independent of its Pulumi logical name and parent.

    Kubernetes objects: type + namespace/name from metadata. GitHub Actions secrets/variables:
    type + repository/environment + secret/variable name. Anything else: type + logical name.
    """
    inputs = unwrap(reg.inputs)
    if reg.type.startswith("kubernetes:"):
        meta = inputs.get("metadata") or {}
        return f"{reg.type} {meta.get('namespace', '')}/{meta.get('name', '')}"
    if reg.type.startswith("github:"):
        scope = "/".join(str(inputs[k]) for k in ("repository", "environment") if k in inputs) or "org"
        name = inputs.get("secretName") or inputs.get("variableName") or reg.name
        return f"{reg.type} {scope}/{name}"
    return f"{reg.type} {reg.name}"


def signature(evaluation: Evaluation) -> dict[str, str]:
    """identity → canonical JSON of (unwrapped inputs, paths that are secret-marked), provider resources only."""
    out: dict[str, str] = {}
    for reg in evaluation.resources:
        key = identity(reg)
        if key in out:
            raise AssertionError(f"two registrations of {key}")
        out[key] = json.dumps({"inputs": unwrap(reg.inputs), "secret": sorted(_secret_paths(reg.inputs))}, sort_keys=True)
    return out


def resource_differences(package: Evaluation, raw: Evaluation) -> list[str]:
    """Provider resources only, by identity: which side has which, and whose inputs differ."""
    a, b = signature(package), signature(raw)
    lines = [f"only in the chain: {k}" for k in sorted(a.keys() - b.keys())]
    lines += [f"only in the raw program: {k}" for k in sorted(b.keys() - a.keys())]
    lines += [f"inputs differ: {k}" for k in sorted(a.keys() & b.keys()) if a[k] != b[k]]
    return lines


FIELDS = ("custom", "parent", "inputs", "dependencies", "provider", "delete_before_replace", "outputs")
"""What :func:`registration_differences` compares for each registration (the URN covers type, name and parent types)."""


def registrations(evaluation: Evaluation) -> dict[str, dict[str, str]]:
    """URN → each of :data:`FIELDS` in canonical form, for every registration (the stack included)."""
    out: dict[str, dict[str, str]] = {}
    for reg in evaluation.registrations:
        if reg.urn in out:
            raise AssertionError(f"two registrations of {reg.urn}")
        out[reg.urn] = {
            "custom": str(reg.custom),
            "parent": reg.parent,
            "inputs": _canonical(reg.inputs),
            "dependencies": json.dumps(sorted(reg.dependencies)),
            "provider": reg.provider,
            "delete_before_replace": str(reg.delete_before_replace),
            "outputs": _canonical(evaluation.component_outputs.get(reg.urn)),
        }
    return out


def _short(urn: str) -> str:
    """``type name`` of a URN (``urn:pulumi:stack::project::parent$type::name``)."""
    _, _, qualified, name = urn.split("::", 3)
    return f"{qualified.rsplit('$', 1)[-1]} {name}"


def registration_differences(package: Evaluation, raw: Evaluation) -> list[str]:
    """Every registration compared by URN: which side has which, and which fields differ."""
    a, b = registrations(package), registrations(raw)
    lines = [f"only in the chain: {_short(k)}" for k in sorted(a.keys() - b.keys())]
    lines += [f"only in the raw program: {_short(k)}" for k in sorted(b.keys() - a.keys())]
    for key in sorted(a.keys() & b.keys()):
        fields = [f for f in FIELDS if a[key][f] != b[key][f]]
        if fields:
            lines.append(f"{', '.join(fields)} differ: {_short(key)}")
    return lines
