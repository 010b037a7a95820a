"""The base class of every chain component: built from a validated spec, its children parented to it.

Pulumi does not pass a component's ``depends_on`` to its children, so a component keeps it (on the instance,
:meth:`ChainComponent.inherit_depends_on`) and every child it creates with :meth:`ChainComponent.child_opts`
waits for the same resources (e.g. a PR stack's Namespace).

Each component's ``__init__`` stays its own (the provider's schema analyser reads its signature): it validates
its args into a spec (:func:`secret_chain.config.validated`) and calls ``_build``. :meth:`ChainComponent.from_spec`
builds from a spec validated earlier, so that SecretChain can validate every part before it registers any.

``help(GhcrPullSecret)`` shows the component's ``__init__``; Python keeps no docstring of a ``TypedDict`` field at
runtime, so that docstring is written when the class is created (:func:`document_init`) from the args' source, the
same field docstrings the provider's schema analyser reads (pulumi/provider/experimental/analyzer.py, ``get_docstring``).
A module whose component still accepts an argument it no longer uses declares it in ``DEPRECATED_ARGS``
(:func:`deprecated_args`): the help says so, and the provider's schema gives the input a ``deprecationMessage``.
"""

import ast
import inspect
import itertools
import re
import sys
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, Self, TypeVar, cast

import pulumi

from secret_chain import catalog

SpecT = TypeVar("SpecT")


def deprecation(reason: str) -> str:
    """The deprecation message of an argument: since when, until when (the catalog's releases), and ``reason``."""
    return f"Deprecated in {catalog.DEPRECATED_SINCE}, removed in {catalog.REMOVED_IN}: {reason}"


def deprecated_args(component: type) -> Mapping[str, str]:
    """Python name → deprecation message of each argument ``component`` accepts only to warn: its module's ``DEPRECATED_ARGS``."""
    found: Mapping[str, str] = getattr(sys.modules.get(component.__module__), "DEPRECATED_ARGS", {})
    return found


def field_docs(typed_dict: type) -> dict[str, str]:
    """Each field of ``typed_dict`` (an Args ``TypedDict``) → the docstring written under it, read from its module's source.

    Only the class's own lines are parsed (from ``class <Name>`` to the next unindented line), not the whole module:
    this runs when a component module is imported. No source (a frozen module): no docstrings.
    """
    module = sys.modules.get(typed_dict.__module__)
    try:
        source = inspect.getsource(module) if module is not None else ""
    except (OSError, TypeError):
        return {}
    found = re.search(rf"^class {re.escape(typed_dict.__name__)}\b.*?(?=^\S|\Z)", source, re.MULTILINE | re.DOTALL)
    if found is None:
        return {}
    (definition,) = ast.parse(found.group(0)).body
    docs: dict[str, str] = {}
    body = definition.body if isinstance(definition, ast.ClassDef) else []
    for field, after in itertools.pairwise(body):
        annotated = isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name)
        if annotated and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str):
            docs[cast(ast.Name, cast(ast.AnnAssign, field).target).id] = inspect.cleandoc(after.value.value)
    return docs


def _indented(text: str, prefix: str) -> str:
    """``text`` with every line but the first indented by ``prefix`` (blank lines stay empty)."""
    first, *rest = text.splitlines() or [""]
    return "\n".join([first, *(prefix + line if line.strip() else "" for line in rest)])


def document_init(component: type) -> None:
    """Write the docstring of ``component.__init__``: its arguments, each args key with its field docstring.

    Without it ``help(component)`` shows ``ComponentResource.__init__``'s docstring, which documents the base
    class's ``(t, name, props, opts)``, not this component's args.
    """
    init = component.__dict__.get("__init__")
    if init is None:
        return
    args_type: Any = inspect.get_annotations(init).get("args")
    if not typing.is_typeddict(args_type):
        return
    docs = field_docs(args_type)
    deprecated = deprecated_args(component)
    required = args_type.__required_keys__
    intro = inspect.cleandoc(args_type.__doc__ or "").split("\n\n")[0]
    lines = [
        f"Create a {component.__name__} named ``name`` and its child resources, from ``args``.",
        "",
        "Args:",
        "    name: The component's name: unique among the stack's resources of its type, and the prefix of its children's names.",
        f"    args: A ``{args_type.__name__}`` dict. {_indented(intro, ' ' * 8)}",
        "",
    ]
    for key in args_type.__annotations__:
        marks = [m for m in ("required" if key in required else "", "deprecated" if key in deprecated else "") if m]
        head = f"{key} ({', '.join(marks)})" if marks else key
        text = docs.get(key, "")
        if key in deprecated:
            text = f"{deprecated[key]}\n{text}" if text else deprecated[key]
        lines.append(f"        {head}: {_indented(text, ' ' * 12)}")
    lines += [
        "",
        "    opts: Resource options (``pulumi.ResourceOptions``); the children are parented to the component and wait for its ``depends_on``.",
    ]
    init.__doc__ = "\n".join(lines)


class ChainComponent(pulumi.ComponentResource, Generic[SpecT]):
    """A ``ComponentResource`` built from a validated spec that hands its ``depends_on`` down to its children."""

    _inherited_depends_on: tuple[pulumi.Resource, ...] = ()
    """The resources the component was told to depend on (private: not an output of the schema)."""

    _build: Callable[..., None]
    """``_build(name, spec, opts, **extra)``: register the component and its children from a validated spec."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Document the subclass's ``__init__`` with its args (:func:`document_init`)."""
        super().__init_subclass__(**kwargs)
        document_init(cls)

    @classmethod
    def from_spec(cls, name: str, spec: SpecT, opts: pulumi.ResourceOptions | None = None, **extra: Any) -> Self:
        """Build from an already validated spec (SecretChain validates every part first); ``extra`` goes to ``_build``."""
        self = cls.__new__(cls)
        self._build(name, spec, opts, **extra)
        return self

    def inherit_depends_on(self, opts: pulumi.ResourceOptions | None) -> None:
        """Keep the resources the component was told to depend on in ``opts``, for :meth:`child_opts`."""
        depends = opts.depends_on if opts is not None else None
        items: list[object] = [depends] if isinstance(depends, pulumi.Resource) else list(depends) if isinstance(depends, (list, tuple)) else []
        self._inherited_depends_on = tuple(d for d in items if isinstance(d, pulumi.Resource))

    def child_opts(self, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        """Options of a child: parented to the component, waiting for what it waits for and for ``depends_on``."""
        return pulumi.ResourceOptions(parent=self, depends_on=[*self._inherited_depends_on, *depends_on])
