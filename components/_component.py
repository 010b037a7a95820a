"""The base class of every chain component: its children are parented to it and wait for what it waits for.

Pulumi does not pass a component's ``depends_on`` to its children, so a component keeps it (on the instance,
:meth:`ChainComponent.inherit_depends_on`) and every child it creates with :meth:`ChainComponent.child_opts`
waits for the same resources (e.g. a PR stack's Namespace).
"""

from collections.abc import Sequence

import pulumi


class ChainComponent(pulumi.ComponentResource):
    """A ``ComponentResource`` that hands its ``depends_on`` down to its children."""

    _inherited_depends_on: tuple[pulumi.Resource, ...] = ()
    """The resources the component was told to depend on (private: not an output of the schema)."""

    def inherit_depends_on(self, opts: pulumi.ResourceOptions | None) -> None:
        """Keep the resources the component was told to depend on in ``opts``, for :meth:`child_opts`."""
        depends = opts.depends_on if opts is not None else None
        items: list[object] = [depends] if isinstance(depends, pulumi.Resource) else list(depends) if isinstance(depends, (list, tuple)) else []
        self._inherited_depends_on = tuple(d for d in items if isinstance(d, pulumi.Resource))

    def child_opts(self, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        """Options of a child: parented to the component, waiting for what it waits for and for ``depends_on``."""
        return pulumi.ResourceOptions(parent=self, depends_on=[*self._inherited_depends_on, *depends_on])
