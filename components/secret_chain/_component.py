"""The base class of every chain component: built from a validated spec, its children parented to it.

Pulumi does not pass a component's ``depends_on`` to its children, so a component keeps it (on the instance,
:meth:`ChainComponent.inherit_depends_on`) and every child it creates with :meth:`ChainComponent.child_opts`
waits for the same resources (e.g. a PR stack's Namespace).

Each component's ``__init__`` stays its own (the provider's schema analyser reads its signature): it validates
its args into a spec (:func:`secret_chain.config.validated`) and calls ``_build``. :meth:`ChainComponent.from_spec`
builds from a spec validated earlier, so that SecretChain can validate every part before it registers any.
"""

from collections.abc import Callable, Sequence
from typing import Any, Generic, Self, TypeVar

import pulumi

SpecT = TypeVar("SpecT")


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
