"""Compare what two evaluations registered: provider resources by identity, inputs unwrapped."""

from __future__ import annotations

import json
from typing import Any

from components.offline import Evaluation, Registration, is_secret, unwrap


def _secret_paths(value: Any, path: str = "") -> list[str]:
    if is_secret(value):
        return [path or "/"]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _secret_paths(v, f"{path}/{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _secret_paths(v, f"{path}/{i}")]
    return []


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


def differences(package: Evaluation, raw: Evaluation) -> list[str]:
    """Human-readable differences (no secret values: only identities and which side has them)."""
    a, b = signature(package), signature(raw)
    lines = [f"only in the chain: {k}" for k in sorted(a.keys() - b.keys())]
    lines += [f"only in the raw program: {k}" for k in sorted(b.keys() - a.keys())]
    lines += [f"inputs differ: {k}" for k in sorted(a.keys() & b.keys()) if a[k] != b[k]]
    return lines
