"""The base class of every chain component: built from a validated spec, its children parented to it.

Pulumi does not pass a component's ``depends_on`` to its children, so a component keeps it (on the instance,
:meth:`ChainComponent.inherit_depends_on`) and every child it creates with :meth:`ChainComponent.child_opts`
waits for the same resources (e.g. a PR stack's Namespace).

Each component's ``__init__`` stays its own (the provider's schema analyser reads its signature): it validates
its args into a spec (:func:`secret_chain.config.validated`) and calls ``_build``. :meth:`ChainComponent.from_spec`
builds from a spec validated earlier, so that SecretChain can validate every part before it registers any.

Every output is :func:`derived` from the children it describes, so that a consumer waits for them (issue 21 item 3).
"""

from collections.abc import Callable, Sequence
from typing import Any, Generic, Self, TypeVar, cast

import pulumi

SpecT = TypeVar("SpecT")
T = TypeVar("T")


def _awaited(resource: pulumi.Resource) -> list[pulumi.Output[Any]]:
    """What a consumer must wait for to wait for ``resource``: the URN of each custom resource it stands for.

    A custom resource's ``urn`` Output carries the resource itself (pulumi/pulumi sdk/python/lib/pulumi/runtime/resource.py
    ``resource_output``: ``resources={res}``) and resolves once the engine answered its RegisterResource, which it does
    only after the resource's step has run (pkg/resource/deploy/source_eval.go ``RegisterResource``: "Now block waiting
    for the operation to finish"). A URN is known in preview too. A local component stands for its descendants, as the
    SDK expands a ``depends_on`` on one (sdk/python/lib/pulumi/runtime/rpc.py ``_add_dependency``: "Local component
    resources act as aggregations of their descendents", through ``_childResources``); its own URN resolves as soon as
    it is registered, before its children. Its outputs are no substitute: one unknown in preview (a generated key's
    digest) would make everything derived from it unknown.
    """
    found: list[pulumi.Output[Any]] = []
    pending: list[pulumi.Resource] = [resource]
    while pending:
        current = pending.pop(0)
        if isinstance(current, pulumi.ComponentResource) and not current._remote:
            pending.extend(sorted(current._childResources, key=lambda child: child._name))
        else:
            found.append(current.urn)
    return found


def derived(value: pulumi.Input[T], *described: pulumi.Resource) -> pulumi.Output[T]:
    """``value`` as an output of the resources it describes: known once they are, and depending on them.

    ``Output.all`` joins its inputs' resources and ``apply`` keeps them (pulumi/pulumi sdk/python/lib/pulumi/output.py
    ``Output.all``, ``Output.apply``: ``resources=resources | t_data.resources``), so ``Output.resources()`` of the
    result holds each described resource, and a resource given the result as an input lists them as its
    dependencies and is registered only after them. The value itself and its secret-ness are ``value``'s (``apply``
    keeps ``is_secret``; a URN is not secret), unknown exactly when ``value`` is (in preview a URN is known).
    """
    waits = [output for resource in described for output in _awaited(resource)]
    if not waits:
        raise ValueError("an output must describe at least one resource")
    return cast("pulumi.Output[T]", pulumi.Output.all(value, *waits).apply(lambda known: known[0]))


class ChainComponent(pulumi.ComponentResource, Generic[SpecT]):
    """A ``ComponentResource`` built from a validated spec that hands its ``depends_on`` down to its children."""

    _inherited_depends_on: tuple[pulumi.Resource, ...] = ()
    """The resources the component was told to depend on (private: not an output of the schema)."""

    _build: Callable[..., None]
    """``_build(name, spec, opts, **extra)``: register the component and its children from a validated spec."""

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
