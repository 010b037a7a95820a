"""``secret-chain rotation --live``: the state's rotation schedule merged with what the running systems say (issue 22).

``rotation`` alone reads when each chain-held value last changed from ``pulumi stack export`` and adds the catalog's
schedule. The credentials themselves know better: a personal access token carries its own expiry
(``GitHub-Authentication-Token-Expiration``), a Certificate its ``notAfter``, and an App installation can be suspended
whatever the state says. ``secret-chain doctor`` learns those (:class:`secret_chain.doctor.model.Finding`: ``key``,
``status``, ``expires``); this module joins them to the state's items by config key (``Finding.key``), and per key:

* the **earliest real deadline**: the schedule's due date (state) or the credential's own expiry (live), whichever
  comes first, and where it comes from;
* where the **state and the real credential disagree**: the credential expires before the schedule says it is due (the
  state says rotated 10 days ago on a 90-day schedule, the token expires in 3 days), or a live check fails (revoked,
  suspended, missing) while the state shows nothing due;
* a key the state holds but no live check looked at is reported as **state only**.

The live findings come from a doctor run in this process (``--live``: :func:`secret_chain.doctor.runner.run` with the
:class:`~secret_chain.doctor.model.Context` ``secret-chain doctor`` builds, :func:`secret_chain.ops.doctor.context_of`),
or from a saved ``secret-chain doctor --json`` report (``--doctor-report FILE``), so CI runs doctor once. Nothing here
reads a secret value: a finding holds names, statuses and dates only.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from secret_chain import catalog
from secret_chain import validators as v
from secret_chain.config import fix_command
from secret_chain.errors import SecretChainError
from secret_chain.ops import _io, runbook
from secret_chain.ops.inventory import doc_link
from secret_chain.ops.rotation import Item, parse_time

STATUSES = ("OK", "WARN", "FAIL")

FAILING = "failing"
"""A live check of the key fails now (revoked or expired token, suspended installation, missing secret)."""

ORDER = {FAILING: 0, "overdue": 1, "due": 2, "deprecated": 3, "unknown": 4, "ok": 5, "unscheduled": 6}
"""Report order, worst first (``deprecated`` is ``rotation``'s status for a key to retire)."""


@dataclass(frozen=True)
class Observed:
    """One doctor finding about a config key, as the report gives it (never a value)."""

    link: str
    status: str
    """OK, WARN or FAIL."""
    key: str
    checked: str
    fix: str
    expires: datetime | None
    facts: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """Machine-readable row."""
        return {
            "link": self.link,
            "status": self.status,
            "expires": self.expires.isoformat() if self.expires else None,
            "checked": self.checked,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Live:
    """What the doctor said about a stack: where it came from, and its findings that name a config key."""

    source: str
    """``doctor run`` or ``doctor report FILE``."""
    stack: str
    status: str
    observed: list[Observed]


@dataclass(frozen=True)
class KeyStatus:
    """One config key: its state items, its live findings, its earliest deadline and the disagreements between them."""

    config_key: str
    items: list[Item]
    observed: list[Observed]
    status: str
    deadline: datetime | None
    deadline_source: str | None
    disagreements: list[str]

    @property
    def schedule_due(self) -> datetime | None:
        """The earliest due date the state's timestamps and the catalog's schedule give."""
        return min((i.due for i in self.items if i.due), default=None)

    @property
    def live_expires(self) -> Observed | None:
        """The live finding with the earliest expiry of the credential itself."""
        dated = [o for o in self.observed if o.expires is not None]
        return min(dated, key=lambda o: o.expires or datetime.max) if dated else None

    def as_json(self, environment: str) -> dict[str, Any]:
        """Machine-readable row (camelCase keys)."""
        entry = catalog.get(self.config_key)
        expiring = self.live_expires
        modified = max((i.modified for i in self.items if i.modified), default=None)
        return {
            "configKey": self.config_key,
            "status": self.status,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "deadlineSource": self.deadline_source,
            "scheduleDue": self.schedule_due.isoformat() if self.schedule_due else None,
            "scheduleDays": entry.rotation.days,
            "rotation": entry.rotation.value,
            "lastChanged": modified.isoformat() if modified else None,
            "liveExpires": expiring.expires.isoformat() if expiring and expiring.expires else None,
            "liveChecked": bool(self.observed),
            "stateOnly": not self.observed,
            "disagreements": list(self.disagreements),
            "links": [o.as_json() for o in self.observed],
            "holders": [
                {
                    "resource": i.resource,
                    "urn": i.urn,
                    "modified": i.modified.isoformat() if i.modified else None,
                    "due": i.due.isoformat() if i.due else None,
                    "status": i.status,
                }
                for i in self.items
            ],
            "generate": runbook.of(entry).generate,
            "fix": fix_command(entry, environment),
            "guide": doc_link(self.config_key),
        }


# --- the live side: a doctor run or a saved report ------------------------------------------------------------------------


def from_findings(findings: Iterable[Any], stack: str, status: str) -> Live:
    """:class:`Live` from the findings of a doctor run in this process (:class:`secret_chain.doctor.model.Finding`)."""
    observed = [Observed(f.link, f.status.value, f.key, f.checked, f.fix, f.expires, dict(f.facts)) for f in findings if f.key in catalog.BY_KEY]
    return Live("doctor run", stack, status, observed)


def load_report(document: Any, source: str) -> Live:
    """:class:`Live` from a ``secret-chain doctor --json`` document; a document of another shape is one clear error."""
    what = f"doctor report {source}"
    if not isinstance(document, dict) or not isinstance(document.get("findings"), list) or not isinstance(document.get("stack"), str):
        raise SecretChainError(f"{what} is not `secret-chain doctor --json` output: no stack and findings list")
    observed = []
    for index, raw in enumerate(document["findings"]):
        if not isinstance(raw, dict) or not isinstance(raw.get("link"), str) or raw.get("status") not in STATUSES:
            raise SecretChainError(f"{what}: finding {index} has no link or no status OK, WARN or FAIL")
        key = raw.get("key")
        if not isinstance(key, str) or key not in catalog.BY_KEY:
            continue  # a link with no config key at fault (or one this release does not know) has no rotation
        expires = raw.get("expires")
        if expires is not None and not isinstance(expires, str):
            raise SecretChainError(f"{what}: finding {index} ({v.printable(raw['link'])}) has an expires that is not a date")
        facts = raw.get("facts") if isinstance(raw.get("facts"), dict) else {}
        observed.append(
            Observed(
                link=raw["link"],
                status=raw["status"],
                key=key,
                checked=str(raw.get("checked") or ""),
                fix=str(raw.get("fix") or ""),
                expires=parse_time(expires, f"{what}: finding {index} expires") if expires else None,
                facts={str(k): str(x) for k, x in (facts or {}).items()},
            )
        )
    status = str(document.get("status") or "")
    return Live(what, document["stack"], status if status in STATUSES else "unknown", observed)


MAX_REPORT_BYTES = 8 * 1024 * 1024
"""The largest ``--doctor-report`` read (8 MiB). A report holds a finding per link of one stack: a few dozen, each under
a kilobyte (the longest field, ``checked``, is one sentence), so a real report is tens of kilobytes; a longer file is
not a doctor report, and is refused before it is read into memory (a 224 MB one was read whole)."""


def _report_text(path: str) -> str:
    """The report's text, read no further than :data:`MAX_REPORT_BYTES` (characters, each at least a byte)."""
    if path == "-" and sys.stdin is None:
        return _io.read_text(path, "doctor report")  # its message: standard input is closed
    try:
        if path == "-":
            text = sys.stdin.read(MAX_REPORT_BYTES + 1)
        else:
            with open(path, encoding="utf-8") as stream:
                text = stream.read(MAX_REPORT_BYTES + 1)
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise SecretChainError(f"cannot read doctor report {path}: {reason}") from None
    if len(text) > MAX_REPORT_BYTES:
        source = "stdin" if path == "-" else path
        raise SecretChainError(
            f"doctor report {source} is larger than {MAX_REPORT_BYTES // (1024 * 1024)} MiB: it is not a `secret-chain doctor --json` report"
        )
    return text


def read_report(path: str) -> Live:
    """``--doctor-report FILE`` (``-``: standard input), at most :data:`MAX_REPORT_BYTES`."""
    source = "stdin" if path == "-" else path
    return load_report(_io.parse_json(_report_text(path), f"doctor report {source}"), source)


# --- the merge -------------------------------------------------------------------------------------------------------------


def _days(delta: timedelta) -> str:
    days = delta.total_seconds() / 86400
    return f"{days:.0f} days" if abs(days) >= 1.5 else f"{days * 24:.0f} hours"


def _from(deadline: datetime, now: datetime, warn_days: int) -> str:
    return "overdue" if deadline <= now else "due" if deadline <= now + timedelta(days=warn_days) else "ok"


def merge(items: Sequence[Item], live: Live | None, now: datetime, warn_days: int) -> list[KeyStatus]:
    """Per config key: the state's items and the live findings joined, the earliest deadline and the disagreements.

    Keys come from the state, plus the keys only the live side knows when a finding there has a deadline or is not OK.
    """
    by_key: dict[str, list[Item]] = {}
    for item in items:
        by_key.setdefault(item.config_key, []).append(item)
    observed: dict[str, list[Observed]] = {}
    for o in live.observed if live else []:
        observed.setdefault(o.key, []).append(o)
    keys = list(by_key) + [k for k, found in observed.items() if k not in by_key and any(o.expires or o.status != "OK" for o in found)]
    out = [_key_status(key, by_key.get(key, []), observed.get(key, []), now, warn_days) for key in keys]
    return sorted(out, key=lambda k: (ORDER.get(k.status, 4), k.deadline or now + timedelta(days=36500), k.config_key))


def _key_status(key: str, items: list[Item], observed: list[Observed], now: datetime, warn_days: int) -> KeyStatus:
    entry = catalog.get(key)
    state_status = min((i.status for i in items), key=lambda s: ORDER.get(s, 4), default=None)
    schedule = min((i for i in items if i.due), key=lambda i: i.due or now, default=None)
    dated = [o for o in observed if o.expires is not None]
    expiring = min(dated, key=lambda o: o.expires or now) if dated else None
    candidates: list[tuple[datetime, str]] = []
    if schedule is not None and schedule.due is not None:
        candidates.append((schedule.due, f"schedule ({entry.rotation.value}) of {schedule.resource} in the state"))
    if expiring is not None and expiring.expires is not None:
        candidates.append((expiring.expires, f"the credential's own expiry ({expiring.link})"))
    deadline, deadline_source = min(candidates, key=lambda c: c[0]) if candidates else (None, None)
    failing = [o for o in observed if o.status == "FAIL"]
    if failing:
        status = FAILING
    elif state_status == "deprecated":
        status = state_status
    elif deadline is not None:
        status = _from(deadline, now, warn_days)
    else:
        status = state_status or "ok"
    disagreements: list[str] = []
    last = max((i.modified for i in items if i.modified), default=None)
    said = f"last changed {last:%Y-%m-%d}" if last else "no time in the state"
    if schedule is not None and schedule.due is not None and expiring is not None and expiring.expires is not None:
        if expiring.expires < schedule.due:
            disagreements.append(
                f"the state says {key} was {said} and is due {schedule.due:%Y-%m-%d} ({entry.rotation.value}), but the "
                f"credential itself expires {expiring.expires:%Y-%m-%d %H:%M} UTC ({expiring.link}), "
                f"{_days(schedule.due - expiring.expires)} earlier"
            )
    elif items and expiring is not None and expiring.expires is not None and schedule is None:
        disagreements.append(
            f"the state schedules no rotation of {key} ({entry.rotation.value}; {said}), but the credential itself "
            f"expires {expiring.expires:%Y-%m-%d %H:%M} UTC ({expiring.link})"
        )
    if items and state_status in ("ok", "due", "unscheduled", "unknown"):
        for o in failing:
            disagreements.append(f"the state shows {key} as {state_status} ({said}), but the live check fails: {o.link}: {o.checked}")
    return KeyStatus(key, list(items), list(observed), status, deadline, deadline_source, disagreements)


# --- rendering ---------------------------------------------------------------------------------------------------------------


def render_text(keys: Sequence[KeyStatus], live: Live, environment: str, now: datetime, warn_days: int) -> str:
    """Report for a person: per key that needs action its earliest deadline, what the state and the live check say."""
    lines = [
        f"Rotation status at {now.date().isoformat()} from the state and the running systems (due = within {warn_days} days)",
        f"live: {live.source} of stack {live.stack} ({live.status})",
    ]
    for k in keys:
        if k.status not in (FAILING, "overdue", "due") and not k.disagreements:
            continue
        entry = catalog.get(k.config_key)
        source = k.deadline_source or ""
        when = f", deadline {k.deadline:%Y-%m-%d} from {source if source.startswith('the ') else 'the ' + source}" if k.deadline else ""
        lines += ["", f"  {k.status.upper()}: {k.config_key}{when}"]
        for item in k.items:
            age = f"last changed {item.modified:%Y-%m-%d}" if item.modified else "no time in the state"
            due = f", due {item.due:%Y-%m-%d}" if item.due else ""
            lines.append(f"    state: {item.resource} ({age}; {entry.rotation.value}{due})")
        for o in k.observed:
            expires = f"; expires {o.expires:%Y-%m-%d %H:%M} UTC" if o.expires else ""
            lines.append(f"    live: {o.status} {o.link}: {o.checked}{expires}")
        for text in k.disagreements:
            lines.append(f"    disagree: {text}")
        fixes = [o.fix for o in k.observed if o.status != "OK" and o.fix]
        if fixes and live.source == "doctor run":
            lines.append(f"    fix: {fixes[0]}")
        elif fixes:
            # A saved report is a file anyone may have written: its fix is shown as data, marked, on one line, never as
            # this command's own advice (doctor's own fixes are those of a doctor run, above).
            quoted = v.printable(" ".join(fixes[0].split()))[:600]
            lines.append(f"    fix (as the report gives it, not doctor's own; check it before running it): {quoted}")
        else:
            lines.append(f"    new value: {runbook.of(entry).generate or 'see the runbook'}")
            lines.append(f"    then: {fix_command(entry, environment)}")
            lines.append("    and: pulumi up")
    state_only = [k.config_key for k in keys if not k.observed]
    if state_only:
        lines += ["", f"  STATE ONLY (no live check of these keys): {', '.join(sorted(set(state_only)))}"]
    if not keys:
        lines.append("  no chain secrets found in the state, and no live finding names a key")
    counts = {s: sum(1 for k in keys if k.status == s) for s in ORDER}
    disagreeing = sum(1 for k in keys if k.disagreements)
    lines += [
        "",
        f"{counts[FAILING]} failing, {counts['overdue']} overdue, {counts['due']} due soon, {counts['ok']} ok, "
        f"{counts['unscheduled']} rotated on events only, {counts['unknown']} unknown; "
        f"{disagreeing} where the state and the live credential disagree; {len(state_only)} state only",
    ]
    # Each line escaped whole (validators.printable): names come from the state file and from the systems' answers.
    return "".join(f"{v.printable(line)}\n" for line in lines)


def render_json(keys: Sequence[KeyStatus], live: Live, environment: str, now: datetime, warn_days: int) -> dict[str, Any]:
    """Machine report (camelCase keys): the counts, and every key with its deadline, disagreements and fix."""
    return {
        "now": now.isoformat(),
        "warnDays": warn_days,
        "escEnvironment": environment,
        "live": {"source": live.source, "stack": live.stack, "status": live.status},
        "failing": sum(1 for k in keys if k.status == FAILING),
        "overdue": sum(1 for k in keys if k.status == "overdue"),
        "due": sum(1 for k in keys if k.status == "due"),
        "disagreements": sum(len(k.disagreements) for k in keys),
        "stateOnly": sorted({k.config_key for k in keys if not k.observed}),
        "keys": [k.as_json(environment) for k in keys],
    }


def exit_code(keys: Sequence[KeyStatus]) -> int:
    """1 when a key is failing or overdue, else 0."""
    return 1 if any(k.status in (FAILING, "overdue") for k in keys) else 0


# --- the command's live half ---------------------------------------------------------------------------------------------------


def add_options(p: argparse.ArgumentParser) -> None:
    """``rotation``'s options for the live side: ``--live`` (and the doctor's options) or ``--doctor-report FILE``."""
    from secret_chain.ops import doctor

    live = p.add_argument_group("live expiry (issue 22)")
    source = live.add_mutually_exclusive_group()
    source.add_argument(
        "--live", action="store_true", help="run doctor on the stack and merge what it learns (token expiry, certificates, installations)"
    )
    source.add_argument("--doctor-report", metavar="FILE", help="merge a saved `secret-chain doctor --json` report instead of running doctor")
    live.add_argument("--stack", type=_io.stack, help="the stack doctor checks with --live (default: the stack in the state)")
    live.add_argument("--config", help=f"with --live: {_io.CONFIG_HELP}")
    doctor.add_live_options(live)


def live_of(args: argparse.Namespace, state_stack: str | None) -> Live:
    """The live side: a doctor run of ``--stack`` (default: the state's) or the ``--doctor-report``; checked to be the same stack."""
    if args.doctor_report is not None:
        live = read_report(args.doctor_report)
    else:
        from secret_chain.doctor import runner
        from secret_chain.ops import doctor

        if args.stack is None:
            if state_stack is None:
                raise SecretChainError("--live needs --stack: the state names no stack")
            args.stack = _io.stack(state_stack)
        config, _secret_keys = _io.load_config(args)
        context = doctor.context_of(args, config, args.warn_days)
        findings, _took = doctor.run_checks(args, context)
        live = from_findings(findings, context.stack, runner.overall(findings).value)
    if state_stack is not None and live.stack.rsplit("/", 1)[-1] != state_stack.rsplit("/", 1)[-1]:
        raise SecretChainError(
            f"the {live.source} is of stack {v.printable(live.stack)}, the state of stack {v.printable(state_stack)}: give both of one stack"
        )
    return live


def main(args: argparse.Namespace, resources: list[dict[str, Any]], items: list[Item], environment: str, now: datetime) -> int:
    """``rotation --live`` / ``--doctor-report``: print the merged report; exit 1 when a key is failing or overdue."""
    import json
    import sys

    from secret_chain.ops.rotation import stack_of

    live = live_of(args, stack_of(resources))
    keys = merge(items, live, now, args.warn_days)
    if args.json:
        print(json.dumps(render_json(keys, live, environment, now, args.warn_days), indent=2, sort_keys=True))
    else:
        sys.stdout.write(render_text(keys, live, environment, now, args.warn_days))
    return exit_code(keys)
