"""What the doctor's checks share: reading the stack's config, the parts it builds, fixes, and findings for a system out of reach.

``Context.config`` is the flat ``pulumi config --json`` dict as ``preflight`` reads it
(:func:`secret_chain.ops.offline.parse_config`: key → string, an object value as its JSON text), so a key is read with
the same :func:`secret_chain.reading.lookup` the stack program uses, fields and aliases included.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from secret_chain import parts, stacks
from secret_chain.catalog import Key
from secret_chain.config import ESC_ENVIRONMENT_KEY, esc_environment, fix_command
from secret_chain.doctor.model import Context, Finding, Status
from secret_chain.reading import lookup
from secret_chain.stacks import StackKind
from secret_chain.validators import Invalid


def getter(context: Context) -> Callable[[str], str | None]:
    """``get(key)`` over the context's flat config (non-string values as their JSON text, as preflight reads them)."""

    def get(key: str) -> str | None:
        value = context.config.get(key)
        return None if value is None else value if isinstance(value, str) else str(value)

    return get


def value(context: Context, entry: Key) -> str | None:
    """The raw value of ``entry`` in the stack's config (its aliases and object fields too), or None when unset or unreadable."""
    try:
        found = lookup(entry, getter(context))
    except Invalid:
        return None
    return None if found is None else found[1]


def shaped(context: Context, entry: Key) -> str | None:
    """``entry``'s value as the stack program reads it: its format check's normal form, or None.

    The normal form makes a one-line PEM whole again and trims whitespace; None when the key is unset or the check
    refuses it (``preflight`` reports that).
    """
    raw = value(context, entry)
    if raw is None:
        return None
    try:
        return entry.shape(raw)
    except Invalid:
        return None


def stack_kind(context: Context) -> StackKind:
    """The stack's kind: ``Context.kind``, the kind ``secret-chain doctor`` resolved as ``preflight`` does.

    The command line resolves it once (:func:`secret_chain.ops._io.stack_kind`: the stack's ``secret-chain:stackKind``,
    else its name) and passes its declared form (``production``, ``preview-base``, ``preview-pr-<N>``, ``bootstrap``),
    so a stack of any name (``prod``) is checked as the kind it declares. The stack itself is named as it was given
    (``acme/prod``); its name is the last part (:func:`secret_chain.stacks.parse_ref`). A context whose kind is not a
    kind's declared form (a hand-made one) falls back to what the stack's config and name say.
    """
    name = stack_name(context)
    try:
        found = stacks.resolve(name, context.kind)
    except Invalid:
        found = stacks.of_config(name, getter(context))
    return found


def stack_name(context: Context) -> str:
    """The stack's name: the last part of ``Context.stack`` (``acme/secret-chain/prod`` → ``prod``), as the Pulumi CLI reads it."""
    try:
        return stacks.parse_ref(context.stack).name
    except Invalid:
        return context.stack.rsplit("/", 1)[-1]


def kind(context: Context) -> parts.Kind:
    """The stack's kind, as the table of parts names it (``preview-pr`` for every PR stack): :func:`stack_kind`'s."""
    return stack_kind(context).kind


def selection(context: Context) -> parts.Selection:
    """The table of parts applied to the stack's config: the parts it builds (:func:`secret_chain.parts.select`)."""
    get = getter(context)
    return parts.select(kind(context), get, parts.declared_parts(get))


def built(context: Context) -> set[str]:
    """Names of the parts the stack builds, sub-parts included."""
    return selection(context).names()


def environment(context: Context) -> str:
    """The ESC environment the stack's fixes write to (``secret-chain:escEnvironment``, else the convention for its kind).

    From the kind, never the stack's name: a stack named ``prod`` declaring production writes to Production.
    """
    return esc_environment(kind(context), shaped(context, ESC_ENVIRONMENT_KEY) or "")


def fix_for(context: Context, entry: Key, then: str = "") -> str:
    """The exact command that sets ``entry`` for this stack (``pulumi env set …``), then ``then`` (``pulumi up``)."""
    command = fix_command(entry, environment(context))
    return f"{command}; then {then}" if then else command


def up(context: Context) -> str:
    """The command that writes what the stack owns again."""
    return f"pulumi up --stack {context.stack}"


def secrets_of(context: Context) -> list[str]:
    """Every configured value long enough to be a credential: what no output of a check may contain."""
    return [v for v in (getter(context)(k) for k in context.config) if v is not None and len(v) >= 8]


def redact(text: str, context: Context) -> str:
    """``text`` with any configured value in it replaced by ``<redacted>`` (for a line another program printed)."""
    for secret in sorted(secrets_of(context), key=len, reverse=True):
        text = text.replace(secret, "<redacted>")
    return text


def days_left(context: Context, expires: datetime.datetime) -> float:
    """Days from the run's clock to ``expires`` (negative once it has passed)."""
    return (expires - context.now).total_seconds() / 86400


def expiry_status(context: Context, expires: datetime.datetime | None) -> Status:
    """FAIL once passed, WARN within ``--warn-days``, OK otherwise (and for no expiry)."""
    if expires is None:
        return Status.OK
    left = days_left(context, expires)
    return Status.FAIL if left <= 0 else Status.WARN if left <= context.warn_days else Status.OK


def not_checked(link: str, what: str, reason: str, *, key: Key | str | None = None, source: str = "", fix: str = "") -> Finding:
    """A WARN: ``what`` could not be checked (the system was out of reach, rate-limited, or no credential to ask with)."""
    return Finding(
        link=link,
        status=Status.WARN,
        checked=f"{what}: not checked ({reason})",
        symptom="doctor cannot tell whether this link works",
        key=str(key) if key is not None else None,
        fix=fix or "run doctor again once the API answers",
        source=source,
    )
