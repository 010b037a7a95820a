"""The ESC tier's layout: which environment holds each key, and which only imports or interpolates it.

Four environments in the project ``secret-chain`` of the Pulumi organisation (:mod:`secret_chain.esc` renders them):

* ``Base``: the values the stacks share that reach nothing in production on their own: the GHCR pull credentials
  (``read:packages``), the Pulumi organisation, Grafana's GitHub organisation and admin. Every secret it holds is one a
  pull request's stack reads anyway, so a job that may open PullRequest may open Base too (the preview team does).
* ``Production``: imports Base; the production stack's own values and every credential that reaches production (the
  Flux and CI GitHub App keys, ``github:token``, the DigitalOcean tokens, the mail account, its Grafana OAuth app…).
* ``Preview``: imports Base; preview-base's own values and credentials (catalog ``per_environment``: set them to
  preview-only credentials, docs/least-privilege.md).
* ``PullRequest``: what a ``preview-pr-<N>`` stack reads and nothing else: its own values (a DigitalOcean token of
  its own among them) and Base's shared ones as *implicit imports*,
  ``${environments.secret-chain.Base.pulumiConfig["<key>"]}``, which expose only the referenced value (Pulumi docs,
  ESC "Importing other environments": implicit imports, "Only referenced values visible"). It imports no environment.

A key marked ``per_environment`` in the catalog is held by each environment whose stacks read it, never by Base: what
a pull request may open (PullRequest, and Base for its implicit imports) then holds nothing that reaches production.

The layout is data computed from the catalog and the table of parts, below the config layer: the fix commands
(:func:`secret_chain.config.set_command` and its kin) name :meth:`Environment.home`, the environment whose own
definition holds a key's node. ``pulumi env set`` edits one environment's definition (pulumi/pulumi
``pkg/cmd/esc/cli/env_set.go``: ``GetEnvironment`` of the named environment, ``yamlNode.set`` on its document,
``UpdateEnvironment``): aimed at an environment that only imports a key it writes a shadowing copy there, and aimed
through an interpolation (``PullRequest``'s ``namespace:imagePullSecret``, a string node) it fails with
``expected an array or an object``, or replaces the reference with a copy (a leaf such as ``grafana:githubOrg``).
"""

from __future__ import annotations

from dataclasses import dataclass

from secret_chain import catalog, parts
from secret_chain.catalog import Key, Tier

ESC_PROJECT = "secret-chain"
"""The ESC project that holds the chain's environments: ``<org>/secret-chain/{Base,Preview,Production,PullRequest}``."""


def environment_name(kind: parts.Kind | str) -> str:
    """The name of the environment a stack of ``kind`` attaches (the one place it is decided; :func:`for_stack`).

    Production reads Production, preview-base Preview, a pull request's stack (``preview-pr-<N>``) the PR-only
    PullRequest, and the bootstrap stack none (it creates the environments): an empty name. ``kind`` is a
    :class:`~secret_chain.parts.Kind`, or a stack name that says one (``production``, ``preview-pr-7``,
    :func:`secret_chain.parts.kind_of`); the kind of a stack of any other name is its declared one
    (:mod:`secret_chain.stacks`).
    """
    kind = kind if isinstance(kind, parts.Kind) else parts.kind_of(kind)
    return {parts.Kind.BOOTSTRAP: "", parts.Kind.PRODUCTION: "Production", parts.Kind.PREVIEW_PR: "PullRequest"}.get(kind, "Preview")


@dataclass(frozen=True)
class Environment:
    """One ESC environment of the chain."""

    name: str
    """``<org>/secret-chain/<name>``."""
    file: str
    """Its definition in ``esc/``."""
    purpose: str
    imports: tuple[str, ...]
    """Explicit imports (``<project>/<env>``), merged under the environment's own values."""
    own: tuple[Key, ...]
    """Keys whose values it holds (placeholders until a person sets them)."""
    references: tuple[tuple[Key, str], ...] = ()
    """Keys it reads from another environment of the project by implicit import: (key, environment name)."""

    @property
    def ref(self) -> str:
        """The name an import or a stack file uses: ``secret-chain/<name>``."""
        return f"{ESC_PROJECT}/{self.name}"

    def exposed(self) -> tuple[Key, ...]:
        """Every key a stack importing it reads from it (own, imported, referenced)."""
        keys: dict[str, Key] = {}
        for imported in self.imports:
            keys.update({k.key: k for k in BY_REF[imported].exposed()})
        keys.update({k.key: k for k in self.own})
        keys.update({k.key: k for k, _ in self.references})
        return tuple(e for e in catalog.KEYS if e.key in keys)

    def holder(self, entry: Key) -> Environment | None:
        """The environment whose own definition holds the node of ``entry``'s config key, as seen from this one; None if none.

        ESC evaluates the imports first, in order (a later one wins), then the environment's own values over them
        (ESC docs, "Importing other environments"); an implicit import is the referenced environment's value. The
        node is the config key's (an object key's fields live in one mapping), so a field is held where its object is.
        """
        if any(k.config_key == entry.config_key for k in self.own):
            return self
        source = next((name for k, name in self.references if k.config_key == entry.config_key), None)
        if source is not None:
            return BY_NAME[source].holder(entry)
        for imported in reversed(self.imports):
            found = BY_REF[imported].holder(entry)
            if found is not None:
                return found
        return None

    def home(self, entry: Key) -> Environment:
        """Where a person sets ``entry`` for a stack that attaches this environment: the one ``pulumi env set`` must name.

        The environment that holds its node (:meth:`holder`); for a key held nowhere the stack looks (set only by
        choice, during a rotation, or generated when absent), where the layout puts a key of its kind: a shared one in
        Base when this environment imports it, anything else here (a per-environment one: the bootstrap writes
        ``ci:pulumiTeam`` into Production and Preview), which a stack attaching it then reads directly.
        """
        found = self.holder(entry)
        if found is not None:
            return found
        shared = not (entry.per_environment or entry.temporary)
        if shared and BASE.ref in self.imports:
            return BASE
        return self


def _templated(entry: Key) -> bool:
    """A key the environments carry: set in ESC by a person, always.

    Not one set only during a rotation, by choice, or in place of a value the stack generates when it is absent.
    """
    return entry.tier is Tier.ESC and not (entry.temporary or entry.opt_in or entry.deprecated or entry.generated_when_absent)


def _required(kind: parts.Kind) -> tuple[Key, ...]:
    """The templated keys a stack of ``kind`` reads.

    Those its parts need and those they read when present (the token type CI logs in with), of every part it can
    declare or a setting enables.
    """
    optional = {
        k.key
        for p in parts.PARTS
        if kind in p.kinds and p.enable in (parts.Enable.DECLARED, parts.Enable.WITH_PARENT, parts.Enable.SETTING)
        for k in p.optional + p.uses
    }
    wanted = {k.key for k in parts.esc_keys_required(kind)} | optional
    return tuple(k for k in catalog.KEYS if k.key in wanted and _templated(k))


_SHARED = tuple(k for k in catalog.KEYS if _templated(k) and not k.per_environment)
_PR = _required(parts.Kind.PREVIEW_PR)

BASE = Environment(
    "Base",
    "base.yaml",
    "the values every stack shares, none of which reaches production on its own (imported by Preview and Production, "
    "referenced by PullRequest)",
    (),
    _SHARED,
)
PRODUCTION = Environment(
    "Production",
    "production.yaml",
    "Base plus the production stack's own values and credentials",
    (BASE.ref,),
    tuple(k for k in catalog.KEYS if _templated(k) and k.per_environment),
)
PREVIEW = Environment(
    "Preview",
    "preview.yaml",
    "Base plus preview-base's own values and credentials (never production's)",
    (BASE.ref,),
    tuple(k for k in _required(parts.Kind.PREVIEW_BASE) if k.per_environment),
)
PULL_REQUEST = Environment(
    "PullRequest",
    "pull-request.yaml",
    "exactly what a preview-pr-<N> stack reads: its own values, and Base's by implicit import (no explicit import)",
    (),
    tuple(k for k in _PR if k.per_environment),
    tuple((k, BASE.name) for k in _PR if not k.per_environment),
)
ENVIRONMENTS: tuple[Environment, ...] = (BASE, PREVIEW, PRODUCTION, PULL_REQUEST)
BY_REF: dict[str, Environment] = {e.ref: e for e in ENVIRONMENTS}
BY_NAME: dict[str, Environment] = {e.name: e for e in ENVIRONMENTS}


def for_stack(kind: parts.Kind) -> Environment:
    """The environment a stack of this kind attaches (``environment:`` in its stack file; the bootstrap stack none)."""
    return BY_NAME[environment_name(kind)]


UNNAMED = "<Environment>"
"""The environment's name in docs and messages that do not know the stack (``<org>/secret-chain/<Environment>``)."""


def home_of(entry: Key, environment: str) -> str:
    """The full name of the environment ``pulumi env set``/``rm`` must name for ``entry``, for a stack attaching ``environment``.

    ``environment`` is ``<org>/<project>/<env>`` as the fix commands print it (an org may be the placeholder ``<org>``).
    One of the chain's environments becomes :meth:`Environment.home` in the same org; the unnamed one of the docs
    becomes Base for a key Base holds; anything else (a configured environment of another layout, none) is kept.
    """
    pieces = environment.split("/")
    if len(pieces) != 3 or pieces[1] != ESC_PROJECT:
        return environment
    org, _, name = pieces
    attached = BY_NAME.get(name)
    if attached is not None:
        return f"{org}/{ESC_PROJECT}/{attached.home(entry).name}"
    if name == UNNAMED and BASE.holder(entry) is BASE:
        return f"{org}/{ESC_PROJECT}/{BASE.name}"
    return environment
