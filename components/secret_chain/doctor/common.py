"""What the doctor's checks share: reading the stack's config, the parts it builds, fixes, and findings for a system out of reach.

``Context.config`` is the flat ``pulumi config --json`` dict as ``preflight`` reads it
(:func:`secret_chain.ops.offline.parse_config`: key → string, an object value as its JSON text), so a key is read with
the same :func:`secret_chain.reading.lookup` the stack program uses, fields and aliases included.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

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
    """``text`` with any secret (:func:`secret_values`) in it replaced by ``<redacted>`` (for a line another program printed)."""
    return clean(text, secret_values(context), CHECKED_CAP)


CAP = 400
"""At most this many characters of any one string a finding's ``facts`` quote (as Kubernetes messages are cut)."""
CHECKED_CAP = 800
"""At most this many characters of a finding's ``checked`` sentence (the doctor's words around a quote of at most :data:`CAP`)."""
PREFIX = 12
"""A run of at least this many characters of a secret (its start, or any part of its base64 form) is redacted too."""
REDACTED = "<redacted>"
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]*@")


def kubeconfig_secrets(context: Context) -> list[str]:
    """Credentials in the cluster's kubeconfig (``--kubeconfig``, ``kubernetes:kubeconfig``, ``KUBECONFIG``).

    Users' ``token``, ``password``, ``client-key-data`` and the parts of a server URL's userinfo.

    The kubeconfig fields as https://kubernetes.io/docs/reference/config-api/kubeconfig.v1/ names them (``AuthInfo``).
    An unreadable file gives none (the Kubernetes check reports it).
    """
    import yaml

    from secret_chain.doctor import kubernetes

    try:
        kind, where = kubernetes.kubeconfig_source(context)
        if where is None:
            return []
        text = where if kind == "text" else Path(where).read_text(encoding="utf-8")
        document = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError, TypeError, AttributeError):
        return []
    found: list[str] = []
    if not isinstance(document, dict):
        return found
    for user in document.get("users") or []:
        auth = user.get("user") if isinstance(user, dict) else None
        if isinstance(auth, dict):
            found += [str(auth[k]) for k in ("token", "password", "client-key-data") if auth.get(k)]
    for cluster in document.get("clusters") or []:
        server = (cluster.get("cluster") or {}).get("server") if isinstance(cluster, dict) else None
        userinfo = re.match(r"[a-z][a-z0-9+.-]*://([^/@]*)@", str(server or ""), re.I)
        if userinfo:
            found += [part for part in userinfo.group(1).split(":") if part]
    return found


def _base64_forms(secret: str) -> Iterable[str]:
    """The parts of ``secret``'s base64 (standard and URL-safe) that any base64 text holding it contains.

    At each of the three alignments it can have there (RFC 4648 section 4: 3 bytes → 4 characters).
    """
    raw = secret.encode()
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * shift + raw).decode().rstrip("=")
            start = 4 if shift else 0
            end = len(encoded) - (len(encoded) % 4 or 4) if (shift + len(raw)) % 3 else len(encoded)
            middle = encoded[start:end]
            if len(middle) >= PREFIX:
                yield middle


def secret_values(context: Context) -> list[str]:
    """Every value no output may hold, longest first.

    Configured values of 8 characters or more of a secret catalog key or a key outside the catalog (pulumi-github's
    owner and base URL, pulumi-kubernetes' context and namespace excepted, as for Kubernetes messages), an object
    value's string fields and a multi-line value's lines too, the kubeconfig's credentials, and their base64 forms.
    """
    from secret_chain import catalog

    plain = frozenset({"github:owner", "github:baseUrl", "kubernetes:context", "kubernetes:namespace"})
    configured = [
        v
        for k, v in ((k, getter(context)(k)) for k in context.config)
        if v is not None and k not in plain and (k not in catalog.BY_KEY or catalog.BY_KEY[k].secret)
    ]
    found: set[str] = set()
    for raw in [*configured, *kubeconfig_secrets(context)]:
        candidates = [raw, *raw.replace("\\n", "\n").splitlines()]
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            candidates += [v for v in parsed.values() if isinstance(v, str)]
        for candidate in (c.strip() for c in candidates):
            if len(candidate) >= 8:
                found.add(candidate)
                found.update(_base64_forms(candidate))
    return sorted(found, key=len, reverse=True)


def _cut(text: str, secret: str) -> str:
    """``text`` with ``secret`` and every run of :data:`PREFIX` or more of its first characters replaced."""
    text = text.replace(secret, REDACTED)
    if len(secret) <= PREFIX:
        return text
    head = secret[:PREFIX]
    start = text.find(head)
    while start >= 0:
        end = start + PREFIX
        while end < len(text) and end - start < len(secret) and text[end] == secret[end - start]:
            end += 1
        text = text[:start] + REDACTED + text[end:]
        start = text.find(head, start + len(REDACTED))
    return text


def clean(text: str, secrets: Iterable[str], limit: int = CAP) -> str:
    """``text`` fit for output: secrets (and long prefixes) redacted, a URL's userinfo dropped, at most ``limit`` characters."""
    text = _USERINFO.sub(r"\1", " ".join(text[: limit * 4 + 4096].split()))
    for secret in secrets:
        text = _cut(text, secret)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def scrub(finding: Finding, context: Context, secrets: Iterable[str] | None = None) -> Finding:
    """``finding`` as it may be printed: every secret redacted and every API-quoted string capped, in all its text.

    The one place between the checks and the output (the runner applies it to every finding): ``checked`` at most
    :data:`CHECKED_CAP` characters, each of ``facts`` (keys and values) at most :data:`CAP`; ``symptom``, ``fix`` and
    ``key`` are redacted too.
    """
    chosen = list(secret_values(context) if secrets is None else secrets)
    return dataclasses.replace(
        finding,
        checked=clean(finding.checked, chosen, CHECKED_CAP),
        symptom=clean(finding.symptom, chosen, CHECKED_CAP),
        fix=clean(finding.fix, chosen, CHECKED_CAP * 2),
        key=None if finding.key is None else clean(finding.key, chosen, CAP),
        facts={clean(str(k), chosen, CAP): clean(str(v), chosen, CAP) for k, v in finding.facts.items()},
    )


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
