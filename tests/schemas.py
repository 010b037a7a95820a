"""Validate Kubernetes objects against upstream schemas installed from PyPI.

Core objects: kubernetes-validate's strict JSON schemas of the Kubernetes OpenAPI. Custom resources:
pydantic models generated from the upstream CRDs (cloudcoil-models-*), checked strictly: unknown
fields are forbidden at every depth, snake_case spellings are refused, and the object must survive
a round trip unchanged (no silent type coercion).

The CRD model wheels that carry the current APIs (Flux 2.9 with image.toolkit.fluxcd.io/v1,
cert-manager 1.21, Prometheus Operator 0.93) declare Python >= 3.14 and cloudcoil >= 0.7.1, only for
their lookup helper: the generated model modules themselves run on 3.11 with cloudcoil 0.6.0. The
Makefile installs them with --no-deps --ignore-requires-python, and the two lines below stand in
for the helper and the one sentinel 0.6.0 lacks. Nothing else of cloudcoil is used.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

import cloudcoil.pydantic
import kubernetes_validate

cloudcoil.pydantic.UNSET = getattr(cloudcoil.pydantic, "UNSET", object())  # type: ignore[attr-defined]
for _package in ("fluxcd", "cert_manager", "prometheus_operator"):
    sys.modules.setdefault(f"cloudcoil.models.{_package}._lookup", types.SimpleNamespace(get_model=None))  # type: ignore[arg-type]

KUBERNETES_VERSION = "1.33"

# (apiVersion, kind) → "module:Class" of the model generated from that upstream CRD.
CRD_MODELS: dict[tuple[str, str], str] = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "cloudcoil.models.prometheus_operator.v1:ServiceMonitor",
    ("cert-manager.io/v1", "ClusterIssuer"): "cloudcoil.models.cert_manager.v1:ClusterIssuer",
    ("cert-manager.io/v1", "Certificate"): "cloudcoil.models.cert_manager.v1:Certificate",
    ("source.toolkit.fluxcd.io/v1", "GitRepository"): "cloudcoil.models.fluxcd.source.v1:GitRepository",
    ("image.toolkit.fluxcd.io/v1", "ImageRepository"): "cloudcoil.models.fluxcd.image.v1:ImageRepository",
    ("image.toolkit.fluxcd.io/v1", "ImagePolicy"): "cloudcoil.models.fluxcd.image.v1:ImagePolicy",
    ("image.toolkit.fluxcd.io/v1", "ImageUpdateAutomation"): "cloudcoil.models.fluxcd.image.v1:ImageUpdateAutomation",
}

# Patch resources are validated as the object kind they patch.
PATCH_KINDS = {"ServiceAccountPatch": "ServiceAccount"}


class SchemaError(AssertionError):
    """An object does not match its upstream schema."""


def validate(obj: dict[str, Any]) -> None:
    """Raise :class:`SchemaError` unless ``obj`` matches its upstream schema exactly."""
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    kind = PATCH_KINDS.get(str(kind), kind)
    obj = {**obj, "kind": kind}
    target = CRD_MODELS.get((str(api_version), str(kind)))
    if target is None:
        if "." in str(api_version).split("/")[0] and not str(api_version).startswith(("apps/", "batch/", "rbac.authorization.k8s.io/")):
            raise SchemaError(f"no upstream schema registered for {api_version} {kind}")
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as err:
            raise SchemaError(f"{api_version} {kind}: {err.message}") from None
        return
    module_name, _, class_name = target.partition(":")
    model = getattr(importlib.import_module(module_name), class_name)
    try:
        parsed = model.model_validate(obj, extra="forbid", by_name=False)
    except Exception as err:  # pydantic.ValidationError
        raise SchemaError(f"{api_version} {kind}: {err}") from None
    dumped = parsed.model_dump(by_alias=True, exclude_unset=True, mode="json")
    if dumped != obj:
        raise SchemaError(f"{api_version} {kind}: fields not in the upstream schema or of the wrong type: {_diff(obj, dumped)}")


def _diff(given: Any, kept: Any, path: str = "") -> str:
    if isinstance(given, dict) and isinstance(kept, dict):
        for key in given:
            if key not in kept:
                return f"{path}.{key} (unknown field)"
            sub = _diff(given[key], kept[key], f"{path}.{key}")
            if sub:
                return sub
        return ""
    if isinstance(given, list) and isinstance(kept, list) and len(given) == len(kept):
        for i, (a, b) in enumerate(zip(given, kept, strict=True)):
            sub = _diff(a, b, f"{path}[{i}]")
            if sub:
                return sub
        return ""
    return "" if given == kept else f"{path} (value changed by the schema: wrong type?)"
