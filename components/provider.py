"""The component provider: which classes are hosted, under which package name and version.

``provider/__main__.py`` (the plugin ``pulumi package add`` runs) calls :func:`main`; the schema
tests call :func:`component_classes` and analyse exactly the list the plugin hosts.

The SDK's schema analyzer reads annotations with ``inspect.get_annotations`` and does not evaluate
strings, so a module that uses ``from __future__ import annotations`` would present every type as a
string. :func:`component_classes` therefore replaces each hosted class's annotations, and those of the
types they reference, by their evaluated values. (The component modules themselves do without that
import: the SDK also resolves a component's output annotations on every registration, and real objects
resolve faster than strings; see BENCHMARKS.md.)
"""

import dataclasses
import inspect
import sys
import typing
from typing import Any

import pulumi
from pulumi.provider.experimental import component_provider_host

import components

PACKAGE_NAME = "secret-chain"
"""Pulumi package name: type tokens are ``secret-chain:index:<Name>``."""


def component_classes() -> list[type[pulumi.ComponentResource]]:
    """Every ComponentResource the package exports, in ``__all__`` order."""
    found: list[type[pulumi.ComponentResource]] = []
    for name in components.__all__:
        value = getattr(components, name)
        if inspect.isclass(value) and issubclass(value, pulumi.ComponentResource):
            _evaluate_annotations(value)
            found.append(value)
    return found


def _evaluate_annotations(component: type[pulumi.ComponentResource]) -> None:
    """Evaluate string annotations of ``component``, its ``__init__`` and every type its args reference."""
    init_hints = inspect.get_annotations(component.__init__, eval_str=True)
    component.__init__.__annotations__ = init_hints
    component.__annotations__ = inspect.get_annotations(component, eval_str=True)
    seen: set[type] = set()
    for hint in component.__annotations__.values():
        _evaluate_type(hint, seen)
    if "args" in init_hints:
        _evaluate_type(init_hints["args"], seen)


def _evaluate_type(hint: Any, seen: set[type]) -> None:
    """Evaluate the annotations of the user-defined classes (TypedDicts, dataclasses) inside ``hint``."""
    for arg in typing.get_args(hint):
        _evaluate_type(arg, seen)
    if not inspect.isclass(hint) or hint in seen or hint.__module__ in ("builtins", "typing"):
        return
    seen.add(hint)
    if not (typing.is_typeddict(hint) or dataclasses.is_dataclass(hint) or hint.__module__.startswith("components.")):
        return
    # Evaluate one level only, in the defining module: typing.get_type_hints would also try to resolve the
    # forward reference inside pulumi.Input ('Output[T]') in the wrong module.
    namespace = vars(sys.modules[hint.__module__])
    hint.__annotations__ = {name: _evaluate(value, namespace) for name, value in inspect.get_annotations(hint).items()}
    for field_hint in hint.__annotations__.values():
        _evaluate_type(field_hint, seen)


def _evaluate(value: Any, namespace: dict[str, Any]) -> Any:
    """The object a string or ``ForwardRef`` annotation names (TypedDicts hold their fields as ForwardRefs)."""
    if isinstance(value, typing.ForwardRef):
        value = value.__forward_arg__
    return eval(value, namespace) if isinstance(value, str) else value


def main() -> None:
    """Serve the components as the ``secret-chain`` provider (the language host passes the engine address in argv)."""
    component_provider_host(components=component_classes(), name=PACKAGE_NAME, version=components.__version__)


__all__ = ["PACKAGE_NAME", "component_classes", "main"]
