"""Rotation: which deployed secrets are due or overdue, from ``pulumi stack export`` state.

Each chain Secret (``kubernetes:core/v1:Secret`` carrying the ``secret-chain/config-keys``
annotation) and each GitHub Actions secret written by the chain is matched to its catalog keys; its
``modified`` timestamp (else ``created``) is compared with the catalog's schedule. A Secret fed by
several keys (the GHCR pull secret: username and token) is modified when any of them changes, so its
time is an upper bound on the age of each value.

A deprecated key (the catalog's ``deprecated``: ``ci:pulumiAccessToken``, ``ci:workflowDispatchToken``) is never due:
nothing reads it, so its report is how to retire it (its remove command and the runbook's retire steps), never how to
renew it. Every step names the environment that holds its key for the stack in the state, the one its fix names.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from secret_chain import catalog
from secret_chain import validators as v
from secret_chain.config import esc_environment, fix_command, remove_command
from secret_chain.errors import SecretChainError
from secret_chain.github_actions import BY_GITHUB_NAME
from secret_chain.kube import CONFIG_KEYS_ANNOTATION
from secret_chain.ops import _io, runbook
from secret_chain.ops.inventory import doc_link, rotation_steps
from secret_chain.stacks import resolve
from secret_chain.validators import Invalid

SECRET_TYPE = "kubernetes:core/v1:Secret"
GITHUB_SECRET_TYPES = (
    "github:index/actionsSecret:ActionsSecret",
    "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
    "github:index/actionsOrganizationSecret:ActionsOrganizationSecret",
    "github:index/actionsVariable:ActionsVariable",
    "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
    "github:index/actionsOrganizationVariable:ActionsOrganizationVariable",
)


@dataclass(frozen=True)
class Item:
    """One deployed copy of one config key and where it stands."""

    config_key: str
    resource: str
    """What holds it: ``Secret ns/name`` or ``GitHub Actions secret NAME``."""
    urn: str
    modified: datetime | None
    days: int | None
    """Catalog schedule in days; None for event-driven rotation."""
    due: datetime | None
    status: str
    """overdue, due, ok, unscheduled, unknown (no timestamp in the state) or deprecated (retire it, never renew it)."""

    def as_json(self, environment: str) -> dict[str, Any]:
        """Machine-readable row: how to renew it (``generate``, ``fix``, ``steps``), or how to retire a deprecated key.

        A deprecated key's ``fix`` removes it and ``retire`` lists the steps; it has no ``steps`` and no ``generate``.
        """
        entry = catalog.get(self.config_key)
        deprecated = self.status == DEPRECATED
        return {
            "configKey": self.config_key,
            "resource": self.resource,
            "urn": self.urn,
            "modified": self.modified.isoformat() if self.modified else None,
            "scheduleDays": self.days,
            "rotation": entry.rotation.value,
            "due": self.due.isoformat() if self.due else None,
            "status": self.status,
            "generate": None if deprecated else runbook.of(entry).generate,
            "fix": remove_command(entry, environment) if deprecated else fix_command(entry, environment),
            "steps": [] if deprecated else rotation_steps(entry, environment),
            "retire": retire_steps(entry, environment) if deprecated else [],
            "guide": doc_link(self.config_key),
        }


DEPRECATED = "deprecated"


def retire_steps(entry: catalog.Key, environment: str) -> list[str]:
    """How to retire a deprecated key for a stack attaching ``environment``: the runbook's steps after the one saying so."""
    return rotation_steps(entry, environment)[1:]


def parse_time(text: str, what: str) -> datetime:
    """An RFC 3339 / ISO 8601 timestamp or date, as an aware UTC datetime."""
    # Pulumi writes RFC 3339 with nanoseconds; datetime takes at most microseconds.
    normalised = re.sub(r"(\.\d{6})\d+", r"\1", text.strip().replace("Z", "+00:00"))
    try:
        value = datetime.fromisoformat(normalised)
    except ValueError:
        try:
            value = datetime.combine(date.fromisoformat(text.strip()), datetime.min.time())
        except ValueError:
            raise SecretChainError(f"{what} is not an ISO 8601 date or timestamp (e.g. 2026-01-31 or 2026-01-31T12:00:00Z)") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _plain(value: Any) -> Any:
    """A state property, or None when it is an encrypted secret (those carry no names we need)."""
    if isinstance(value, dict) and "4dabf18193072939515e22adb298388d" in value:
        return None
    return value


def _prop(resource: dict[str, Any], *path: str) -> Any:
    for source in ("inputs", "outputs"):
        value: Any = resource.get(source)
        for part in path:
            value = _plain(value)
            value = value.get(part) if isinstance(value, dict) else None
        value = _plain(value)
        if value is not None:
            return value
    return None


def stack_of(resources: list[dict[str, Any]]) -> str | None:
    """The stack name from the first URN (``urn:pulumi:<stack>::<project>::…``)."""
    for res in resources:
        urn = str(res.get("urn", ""))
        parts = urn.split(":", 2)
        if len(parts) == 3 and parts[0] == "urn" and "::" in parts[2]:
            return parts[2].split("::", 1)[0]
    return None


def load_resources(data: Any, source: str) -> list[dict[str, Any]]:
    """``deployment.resources`` of a ``pulumi stack export`` document."""
    deployment = data.get("deployment") if isinstance(data, dict) else None
    resources = deployment.get("resources") if isinstance(deployment, dict) else None
    if not isinstance(resources, list):
        raise SecretChainError(f"{source} is not `pulumi stack export` output: no deployment.resources list")
    return [r for r in resources if isinstance(r, dict)]


def holders(res: dict[str, Any]) -> list[tuple[str, str]]:
    """(config key, description) for each catalog key a state resource carries."""
    type_ = res.get("type")
    if type_ == SECRET_TYPE:
        annotations = _prop(res, "metadata", "annotations")
        keys = annotations.get(CONFIG_KEYS_ANNOTATION) if isinstance(annotations, dict) else None
        if not isinstance(keys, str):
            return []
        ns, name = _prop(res, "metadata", "namespace"), _prop(res, "metadata", "name")
        where = f"Secret {ns or 'default'}/{name or '?'}"
        return [(k, where) for k in filter(None, (s.strip() for s in keys.split(","))) if k in catalog.BY_KEY]
    if type_ in GITHUB_SECRET_TYPES:
        name = _prop(res, "secretName") or _prop(res, "variableName")
        entry = BY_GITHUB_NAME.get(str(name)) if name is not None else None
        if entry is None:
            return []
        env = _prop(res, "environment")
        kind = "secret" if entry.secret else "variable"
        return [(entry.config_key, f"GitHub Actions {kind} {name}" + (f" (environment {env})" if env else ""))]
    return []


def scan(resources: list[dict[str, Any]], now: datetime, warn_days: int) -> list[Item]:
    """Every chain-held value in the state with its status at ``now``."""
    items: list[Item] = []
    for res in resources:
        for key, where in holders(res):
            if catalog.get(key).deprecated:
                stamp = res.get("modified") or res.get("created")
                modified = parse_time(str(stamp), f"timestamp of {res.get('urn')}") if stamp else None
                items.append(Item(key, where, str(res.get("urn", "")), modified, None, None, DEPRECATED))
                continue
            days = catalog.get(key).rotation.days
            stamp = res.get("modified") or res.get("created")
            modified = parse_time(str(stamp), f"timestamp of {res.get('urn')}") if stamp else None
            due = modified + timedelta(days=days) if modified and days else None
            if days is None:
                status = "unscheduled"
            elif due is None:
                status = "unknown"
            elif due <= now:
                status = "overdue"
            elif due <= now + timedelta(days=warn_days):
                status = "due"
            else:
                status = "ok"
            items.append(Item(key, where, str(res.get("urn", "")), modified, days, due, status))
    order = {"overdue": 0, "due": 1, DEPRECATED: 2, "unknown": 3, "ok": 4, "unscheduled": 5}
    return sorted(items, key=lambda i: (order[i.status], i.due or now, i.config_key, i.resource))


def environment_for(resources: list[dict[str, Any]], override: str | None) -> str:
    """The ESC environment fix commands name: ``--esc-environment``, else the stack's convention."""
    if override:
        return override
    stack = stack_of(resources)
    try:
        kind = resolve(stack, declared_kind(resources), bootstrap=False) if stack else None
    except Invalid:
        kind = None
    return esc_environment(kind.kind, "") if kind else "<org>/secret-chain/<Environment>"


STACK_TYPE = "pulumi:pulumi:Stack"


def declared_kind(resources: list[dict[str, Any]]) -> str | None:
    """The stack's kind as its program exported it (``stackKind``, :func:`secret_chain.program.main`), or None.

    ``pulumi stack export`` keeps the root ``pulumi:pulumi:Stack`` resource with its ``outputs`` (the stack outputs),
    but not the stack's config: so a stack of any name says its kind here (a state written before the output existed
    says nothing, and the stack's name decides).
    """
    for res in resources:
        outputs = res.get("outputs") if res.get("type") == STACK_TYPE else None
        value = outputs.get("stackKind") if isinstance(outputs, dict) else None
        if isinstance(value, str):
            return value
    return None


def render_text(items: list[Item], environment: str, now: datetime, warn_days: int) -> str:
    """Human report: what is overdue or due, with how to make a new value and where to set it."""
    lines = [f"Rotation status at {now.date().isoformat()} (due = within {warn_days} days):"]
    actionable = [i for i in items if i.status in ("overdue", "due")]
    for item in actionable:
        entry = catalog.get(item.config_key)
        age = f"last changed {item.modified.date().isoformat()}" if item.modified else "never changed"
        when = item.due.date().isoformat() if item.due else "?"
        lines += [
            "",
            f"  {item.status.upper()}: {item.config_key} in {item.resource} ({age}; {entry.rotation.value}, due {when})",
            f"    new value: {runbook.of(entry).generate or 'see the runbook'}",
            f"    then: {fix_command(entry, environment)}",
            "    and: pulumi up",
        ]
        if runbook.of(entry).rotate:
            lines.append(f"    without downtime: {len(runbook.of(entry).rotate)} steps in {doc_link(item.config_key)}")
    for item in (i for i in items if i.status == DEPRECATED):
        entry = catalog.get(item.config_key)
        lines += ["", f"  DEPRECATED: {item.config_key} in {item.resource}: not rotated any more, nothing reads it ({entry.deprecated}); retire it:"]
        lines += [f"    {n}. {step}" for n, step in enumerate(retire_steps(entry, environment), start=1)]
    unknown = [i for i in items if i.status == "unknown"]
    for item in unknown:
        lines.append(f"  UNKNOWN: {item.config_key} in {item.resource}: the state has no created/modified time")
    ok = sum(1 for i in items if i.status == "ok")
    unscheduled = sum(1 for i in items if i.status == "unscheduled")
    overdue = sum(1 for i in items if i.status == "overdue")
    due = sum(1 for i in items if i.status == "due")
    if not items:
        lines.append("  no chain secrets found in the state")
    retired = sum(1 for i in items if i.status == DEPRECATED)
    summary = f"{overdue} overdue, {due} due soon, {ok} ok, {unscheduled} rotated on events only, {len(unknown)} unknown"
    lines += ["", summary + (f", {retired} deprecated to retire" if retired else "")]
    # Each line escaped whole (validators.printable): the object names and environments come from the state file, and a
    # newline or an escape sequence in one would forge a line (an "ok") or rewrite the screen.
    return "".join(f"{v.printable(line)}\n" for line in lines)


def render_json(items: list[Item], environment: str, now: datetime, warn_days: int) -> dict[str, Any]:
    """Machine report: the counts, and every item with its fix."""
    return {
        "now": now.isoformat(),
        "warnDays": warn_days,
        "escEnvironment": environment,
        "overdue": sum(1 for i in items if i.status == "overdue"),
        "due": sum(1 for i in items if i.status == "due"),
        "deprecated": sum(1 for i in items if i.status == DEPRECATED),
        "items": [i.as_json(environment) for i in items],
    }


# --- the command: secret-chain rotation ------------------------------------------------------------

EXAMPLES = """examples:
  pulumi stack export --stack production > state.json
  secret-chain rotation --state state.json
  secret-chain rotation --state state.json --warn-days 30 --json
  secret-chain rotation --state state.json --now 2026-06-01
  secret-chain rotation --state state.json --live --stack production     # merged with what doctor finds live
  secret-chain doctor --stack production --json > doctor.json && secret-chain rotation --state state.json --doctor-report doctor.json

Exit status: 0 when nothing is overdue (with --live: nor failing), 1 when something is, 2 on bad arguments.
"""

MAX_WARN_DAYS = 3650
"""--warn-days above ten years says nothing a rotation schedule (at most annual) can use, and a date that far out
overflows Python's datetime."""


def _warn_days(value: str) -> int:
    """Argparse type of --warn-days: a whole number of days from 0 to :data:`MAX_WARN_DAYS`."""
    text = value.strip()
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise argparse.ArgumentTypeError("is not a whole number of days")
    # Compared as text first: int() of more than 4300 digits raises ValueError (Python's int_max_str_digits).
    if len(text.lstrip("+-").lstrip("0")) > len(str(MAX_WARN_DAYS)) or not 0 <= int(text) <= MAX_WARN_DAYS:
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_WARN_DAYS} days")
    return int(text)


def _esc_environment(value: str) -> str:
    """Argparse type of --esc-environment: pasted into printed commands, so only a valid reference passes."""
    try:
        return v.esc_environment(value)
    except Invalid as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``rotation`` to the command line."""
    p = subparsers.add_parser(
        "rotation",
        help="list secrets due or overdue for rotation, from `pulumi stack export` state",
        description="Compare each chain secret's last modification in the state with the catalog's rotation schedule.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--state", required=True, metavar="FILE", help="`pulumi stack export` JSON (- for stdin)")
    p.add_argument("--warn-days", type=_warn_days, default=14, help="report as due this many days ahead (default 14)")
    p.add_argument("--now", help="evaluate at this ISO date/time instead of now (e.g. 2026-06-01)")
    p.add_argument("--esc-environment", type=_esc_environment, help="ESC environment named in fix commands (default: from the stack in the state)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    from secret_chain.ops import rotation_live  # --live, --doctor-report: the state merged with the running systems

    rotation_live.add_options(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Report due and overdue secrets from ``pulumi stack export``; exit 1 when something is overdue."""
    now = parse_time(args.now, "--now") if args.now else datetime.now(UTC)
    source = "stdin" if args.state == "-" else args.state
    resources = load_resources(_io.parse_json(_io.read_text(args.state, "state file"), f"state file {source}"), source)
    items = scan(resources, now, args.warn_days)
    environment = environment_for(resources, args.esc_environment)
    if args.live or args.doctor_report is not None:
        from secret_chain.ops import rotation_live

        return rotation_live.main(args, resources, items, environment, now)
    if args.json:
        # ASCII only: json escapes C0 controls but would pass DEL, the 8-bit CSI (U+009B) and bidi overrides through.
        print(json.dumps(render_json(items, environment, now, args.warn_days), indent=2, sort_keys=True))
    else:
        sys.stdout.write(render_text(items, environment, now, args.warn_days))
    return 1 if any(i.status == "overdue" for i in items) else 0
