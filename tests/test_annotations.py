"""The annotations rule (docs/contributing.md#annotations): what the provider hosts has evaluated annotations.

The SDK's schema analyser reads annotations as they are, so a string or ``ForwardRef`` would reach the schema.
Both the classes and the modules are derived from ``component_classes()``: a new component is covered as is.
"""

import ast
import dataclasses
import inspect
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ForwardRef, TypedDict

import pulumi
import pytest

from secret_chain.provider import component_classes

# pulumi.Input[T] is Union[T, Awaitable[T], "Output[T]"]: the SDK's own forward reference, not ours.
_SDK_REFS = [a for a in typing.get_args(pulumi.Input[int]) if isinstance(a, ForwardRef)]


def _own(hint: Any) -> bool:
    return inspect.isclass(hint) and (
        typing.is_typeddict(hint) or dataclasses.is_dataclass(hint) or hint.__module__.split(".")[0] == "secret_chain"
    )


def _unevaluated(hint: Any, where: str) -> Iterator[str]:
    """Every string or ForwardRef inside ``hint`` (typing arguments included) except pulumi.Input's own."""
    if isinstance(hint, str) or (isinstance(hint, ForwardRef) and hint not in _SDK_REFS):
        yield f"{where}: {hint!r}"
    for arg in typing.get_args(hint):
        yield from _unevaluated(arg, where)


def _hints(hint: Any) -> Iterator[Any]:
    yield hint
    for arg in typing.get_args(hint):
        yield from _hints(arg)


def hosted_types(component: type) -> dict[Any, dict[str, Any]]:
    """The component, its ``__init__`` and every own type their annotations reach -> its raw annotations."""
    found: dict[Any, dict[str, Any]] = {}
    todo: list[Any] = [component, component.__init__]
    while todo:
        current = todo.pop()
        if current not in found:
            found[current] = inspect.get_annotations(current)
            todo += [h for value in found[current].values() for h in _hints(value) if _own(h)]
    return found


def problems(component: type) -> list[str]:
    return [
        problem
        for owner, annotations in hosted_types(component).items()
        for name, hint in annotations.items()
        for problem in _unevaluated(hint, f"{owner.__qualname__}.{name}")
    ]


CLASSES = component_classes()
MODULES = sorted({owner.__module__ for component in CLASSES for owner in hosted_types(component)})


@pytest.mark.parametrize("component", CLASSES, ids=lambda c: c.__name__)
def test_hosted_annotations_are_evaluated(component: type[pulumi.ComponentResource]) -> None:
    reached = hosted_types(component)
    args = inspect.get_annotations(component.__init__).get("args")
    assert typing.is_typeddict(args) and args in reached  # the Args TypedDict is checked too
    assert problems(component) == []


def test_the_check_notices_a_string_annotation() -> None:
    class Args(TypedDict):
        name: "pulumi.Input[str]"  # a string: what the check must notice

    class Component(pulumi.ComponentResource):
        out: "pulumi.Output[str]"

        def __init__(self, name: str, args: Args) -> None: ...

    found = problems(Component)
    assert any("Args.name" in p and "ForwardRef" in p for p in found), found
    assert any("Component.out" in p for p in found), found


@pytest.mark.parametrize("module", MODULES)
def test_hosted_modules_do_not_import_future_annotations(module: str) -> None:
    tree = ast.parse(Path(sys.modules[module].__file__ or "").read_text())
    future = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "__future__" and any(a.name == "annotations" for a in node.names)
    ]
    assert future == [], f"{module}: from __future__ import annotations (docs/contributing.md#annotations)"


def test_the_hosted_modules_are_the_component_modules() -> None:
    assert {f"secret_chain.{m}" for m in ("chain", "ghcr", "prometheus", "flux", "certmanager", "grafana", "github_actions")} <= set(MODULES)
