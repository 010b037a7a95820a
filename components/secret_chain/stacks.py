"""Which kind a stack is, and how a command names a stack.

A stack's kind (production, preview-base, one pull request's preview ``preview-pr-<N>``, or bootstrap) decides
everything the chain does on it: the parts it builds (:mod:`secret_chain.parts`), the namespace a pull request's stack
owns (``preview-pr-<N>``), the GitHub environment the CI values go to, the ESC environment fix commands name, and the
names of preview-base's shared objects. The stack setting ``secret-chain:stackKind`` declares it, so a stack may have
any name (``prod``, ``dev``); without it the stack's name decides, as it always did. A stack named ``production``,
``preview-base``, ``bootstrap`` or ``preview-pr-<N>`` may declare only its own kind: the workflows and the policy pack
know those stacks by name (``policy/policy_namespaces.py`` confines a stack *named* ``preview-pr-<N>``), so a name and
a kind that disagree are refused rather than trusted one way or the other.

The stack is named by its name alone at run time: ``pulumi.get_stack()`` is the engine's ``Target.Name``, the bare
stack name, never ``org/project/stack`` (pulumi/pulumi ``pkg/resource/deploy/program_source.go`` passes
``Stack: src.runinfo.Target.Name.String()`` to the language host, which hands it to the program as ``--stack``:
``sdk/python/cmd/pulumi-language-python/main.go`` ``constructArguments``; ``sdk/python/lib/pulumi/runtime/settings.py``
``get_stack`` returns it; the organisation travels apart, as ``Organization``). A command is given what the Pulumi CLI
takes after ``--stack``: ``<stack>``, ``<org>/<stack>`` or ``<org>/<project>/<stack>`` (:func:`parse_ref`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from secret_chain import catalog, parts
from secret_chain import validators as v
from secret_chain.pulumi_rules import RuleError, parse_stack_reference
from secret_chain.reading import lookup, raw
from secret_chain.validators import Invalid

STACK_KIND = catalog.STACK_KIND
"""The stack setting that declares a stack's kind (its catalog entry checks the value with
:func:`secret_chain.validators.stack_kind`)."""

KINDS = "production, preview-base, preview-pr-<N> (N the pull request number) or bootstrap"
"""The kinds, as a message lists them."""

REF_FORMS = "<stack>, <org>/<stack> or <org>/<project>/<stack>"
"""The forms of a stack reference the Pulumi CLI takes."""


@dataclass(frozen=True)
class StackRef:
    """A stack as a command names it: ``<stack>``, ``<org>/<stack>`` or ``<org>/<project>/<stack>``."""

    text: str
    """As given: what ``pulumi config --stack`` is passed, unchanged."""
    owner: str
    """The organisation (or user), or "" when not given."""
    project: str
    """The project, or "" when not given."""
    name: str
    """The stack's name, the last part: what ``pulumi.get_stack()`` returns in its program."""

    def __str__(self) -> str:
        return self.text


def parse_ref(text: str) -> StackRef:
    """Read a stack reference as the Pulumi CLI does, with no part left empty; :class:`Invalid` otherwise.

    The rule is the Pulumi Cloud backend's (:func:`secret_chain.pulumi_rules.parse_stack_reference`, a port of
    ``ValidateStackName`` in pulumi/pulumi ``pkg/backend/httpstate/backend.go``): at most three parts split on ``/``;
    an owner of 3 to 40 letters, digits, ``-`` and ``_``; a project and a stack name of letters, digits, ``_``, ``.``
    and ``-``. Upstream reads an empty owner or project (``/prod``, ``acme//prod``) as "not given" and fills it in from
    the default organisation or the current project; here it is refused: a command that names an organisation means one.
    """
    try:
        ref = parse_stack_reference(text)
    except RuleError as err:
        raise Invalid(f"is not a stack reference ({v.printable(str(err))}): use {REF_FORMS}") from None
    if any(part == "" for part in text.split("/")):
        raise Invalid(f"is not a stack reference: it has an empty part; use {REF_FORMS}")
    return StackRef(text, ref.owner, ref.project, ref.name)


@dataclass(frozen=True)
class StackKind:
    """A stack and its kind: production, the shared preview base, one pull request's preview, or bootstrap."""

    name: str
    """The stack's name (``prod``, ``preview-pr-7``)."""
    kind: parts.Kind
    pr_number: int | None = None
    """The pull request of a ``preview-pr-<N>`` stack."""
    declared: bool = False
    """Whether ``secret-chain:stackKind`` declares the kind (else the name says it)."""

    @property
    def is_pr(self) -> bool:
        """True for a pull request's stack (kind ``preview-pr-<N>``)."""
        return self.pr_number is not None

    @property
    def kind_name(self) -> str:
        """The kind as it is declared: ``production``, ``preview-base``, ``preview-pr-<N>`` with its number, ``bootstrap``."""
        return f"{parts.Kind.PREVIEW_PR.value}-{self.pr_number}" if self.pr_number is not None else self.kind.value

    @property
    def pr_namespace(self) -> str | None:
        """The namespace a pull request's stack owns and builds everything in, ``preview-pr-<N>``; None on other kinds."""
        return self.kind_name if self.is_pr else None

    @property
    def environment(self) -> str:
        """The catalog's environment name for this stack: production or preview."""
        return "production" if self.kind is parts.Kind.PRODUCTION else "preview"

    @property
    def owner(self) -> str:
        """Who the pull-request namespace rule checks for: the namespace a PR stack owns, else the stack's name.

        (:func:`secret_chain.validators.namespace`.)
        """
        return self.pr_namespace or self.name


class StackKindError(Invalid):
    """A stack whose kind cannot be known, or whose name and declared kind disagree.

    ``declare``: the fix declares the kind (``pulumi config set``); otherwise it removes the declaration (``pulumi
    config rm``). The config layer writes the fix command (:func:`secret_chain.config.stack_kind_problem`).
    """

    def __init__(self, message: str, *, declare: bool) -> None:
        super().__init__(message)
        self.declare = declare


def _kind_of(text: str) -> tuple[parts.Kind, int | None]:
    """(kind, PR number) of a valid kind or stack name of a kind (``preview-pr-7``)."""
    match = v.PR_KIND.fullmatch(text)
    if match:
        return parts.Kind.PREVIEW_PR, int(match.group(1))
    return parts.Kind(text), None


def by_name(name: str) -> StackKind | None:
    """The kind a stack's name says (``production``, ``preview-base``, ``bootstrap``, ``preview-pr-<N>``), or None."""
    try:
        kind, number = _kind_of(v.stack_kind(name))
    except Invalid:
        return None
    return StackKind(name, kind, number)


def reserved(name: str) -> bool:
    """Whether the name is one the workflows and the policy pack read a kind from (any ``preview-pr-<digits>`` included)."""
    return name in v.STACK_KINDS or bool(v.PR_NAMESPACE.fullmatch(name))


def resolve(name: str, declared: str | None, *, bootstrap: bool = True) -> StackKind:
    """The kind of stack ``name``, from ``declared`` (the value of ``secret-chain:stackKind``, or None) or else its name.

    :class:`Invalid` for a declared value that is not a kind (the catalog check's message); :class:`StackKindError` for a
    stack whose name says no kind and that declares none, and for a reserved name (:func:`reserved`) declaring another
    kind. ``bootstrap=False``: the bootstrap kind is refused too (it builds the ESC tier, not a chain).
    """
    named = by_name(name)
    if declared is None:
        if named is None:
            raise StackKindError(
                f'stack {v.printable(name)} declares no kind (config "{STACK_KIND.key}") and its name is none of {KINDS}: '
                "declare which kind of stack it is",
                declare=True,
            )
        found = named
    else:
        kind, number = _kind_of(STACK_KIND.shape(declared))
        found = StackKind(name, kind, number, declared=True)
        if reserved(name) and (named is None or (named.kind, named.pr_number) != (kind, number)):
            said = named.kind_name if named is not None else "a pull request's stack"
            raise StackKindError(
                f'stack {v.printable(name)} declares kind {found.kind_name} (config "{STACK_KIND.key}") but its name says '
                f"{said}: a stack named production, preview-base, bootstrap or preview-pr-<N> is of that kind, as the "
                "workflows and the policy pack read it",
                declare=False,
            )
    if not bootstrap and found.kind is parts.Kind.BOOTSTRAP:
        raise StackKindError(
            f"stack {v.printable(name)} is the bootstrap stack, which builds the ESC tier (EscBootstrap), not a SecretChain",
            declare=True,
        )
    return found


def declared_in(get: Callable[[str], str | None]) -> str | None:
    """The raw value of ``secret-chain:stackKind`` in a flat config (``get``), or None when it is not set."""
    found = lookup(STACK_KIND, get)
    return None if found is None else found[1]


def of_config(name: str, get: Callable[[str], str | None], *, bootstrap: bool = True) -> StackKind:
    """The kind of stack ``name`` whose flat config ``get`` reads (:func:`resolve`)."""
    return resolve(name, declared_in(get), bootstrap=bootstrap)


def running(*, bootstrap: bool = True) -> StackKind:
    """The kind of the running program's stack: ``pulumi.get_stack()`` and its config (:func:`of_config`)."""
    import pulumi

    return of_config(pulumi.get_stack(), raw, bootstrap=bootstrap)


def _running_owner() -> str | None:
    """:data:`secret_chain.validators.running_owner` once this module is imported: the running stack's kind decides."""
    from pulumi.runtime.settings import SETTINGS

    name = SETTINGS.stack
    if not isinstance(name, str) or not name:
        return None
    try:
        return running().owner
    except Invalid:
        return name  # the chain reports the kind's problem itself; the rule then checks for the name, as it did


v.running_owner = _running_owner
