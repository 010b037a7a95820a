"""Validate Kubernetes objects against upstream schemas installed from PyPI.

Core objects: kubernetes-validate's strict JSON schemas of the Kubernetes OpenAPI. Custom resources:
pydantic models generated from the upstream CRDs (cloudcoil-models-*), checked strictly: unknown
fields are forbidden at every depth, snake_case spellings are refused, and the object must survive
a round trip unchanged (no silent type coercion).

The CRD model wheels that carry the current APIs (Flux 2.9 with image.toolkit.fluxcd.io/v1,
cert-manager 1.21, Prometheus Operator 0.93) declare Python >= 3.14 and cloudcoil >= 0.7.1, only for
their lookup helper: the generated model modules themselves run on 3.11 with cloudcoil 0.6.0. The
Makefile installs them with --no-deps --ignore-requires-python, and the line below stands in for the
one sentinel 0.6.0 lacks. Nothing else of cloudcoil is used.

Each package's ``__init__`` imports every API version it carries (the Prometheus Operator's two modules
alone are 300,000 generated lines, 15,000 pydantic classes, about 6 s of CPU per process), while the
tests use seven kinds. :func:`crd_models` therefore runs, from the upstream file, only the class
definitions a kind needs (it and every class it names, transitively), verbatim and in file order: the
same pydantic models, built in well under a second (once in each pytest-xdist worker).
"""

from __future__ import annotations

import functools
import re
import sys
import types
from pathlib import Path
from typing import Any

import cloudcoil
import cloudcoil.pydantic
import kubernetes_validate

cloudcoil.pydantic.UNSET = getattr(cloudcoil.pydantic, "UNSET", object())  # type: ignore[attr-defined]

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
    model = getattr(crd_models(module_name), class_name)
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


_CLASS = re.compile(r"^class (\w+)\b", re.M)
_OTHER_TOP_LEVEL = re.compile(r"^(?!class |\)|#|\s|$)", re.M)
"""A top-level line that neither starts a class nor closes a multi-line class header."""
_STRING = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'')
_FORWARD_REFERENCE = re.compile(r"""^["']([A-Za-z_]\w*)(?:\.\w+)*["']$""")
_NAME = re.compile(r"\b[A-Za-z_]\w*\b")


def _names(block: str) -> set[str]:
    """The names a class definition uses: identifiers in its code and forward references (``"Kind.Builder"``), not words of its docstrings."""
    found: set[str] = set()

    def drop(match: re.Match[str]) -> str:
        reference = _FORWARD_REFERENCE.match(match.group(0))
        if reference:
            found.add(reference.group(1))
        return " "

    return found | set(_NAME.findall(_STRING.sub(drop, block)))


@functools.cache
def crd_models(module_name: str) -> types.ModuleType:
    """The CRD_MODELS classes of ``module_name`` (and what they use), defined from the upstream file without importing its package."""
    relative = Path(*module_name.split(".")[1:]).with_suffix(".py")
    (path,) = [Path(d) / relative for d in cloudcoil.__path__ if (Path(d) / relative).is_file()]
    source = path.read_text(encoding="utf-8")
    classes = list(_CLASS.finditer(source))
    header = source[: classes[0].start()]
    stray = [m.start() for m in _OTHER_TOP_LEVEL.finditer(source, classes[0].start())]
    if stray:  # the split below assumes imports, then class definitions only
        raise AssertionError(f"{path}: a top-level statement that is not a class at offset {stray[0]}")
    ends = [m.start() for m in classes[1:]] + [len(source)]
    blocks = {m.group(1): source[m.start() : end] for m, end in zip(classes, ends, strict=True)}
    order = {name: i for i, name in enumerate(blocks)}
    wanted = [t.partition(":")[2] for t in CRD_MODELS.values() if t.partition(":")[0] == module_name]
    needed: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name not in needed:
            needed.add(name)
            wanted += [n for n in _names(blocks[name]) if n in blocks and n not in needed]
    module = types.ModuleType(f"tests.schemas.crd.{module_name}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module  # pydantic resolves the forward references in the class's module
    code = header + "".join(blocks[name] for name in sorted(needed, key=order.__getitem__))
    exec(compile(code, f"{path} (selected classes)", "exec"), module.__dict__)
    return module
