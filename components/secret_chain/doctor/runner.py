"""Run the doctor's checks on one stack: concurrently, bounded, each failure contained; then the report, text or JSON.

Every check is a plain function (:data:`secret_chain.doctor.model.Check`) run in a thread pool of at most
:data:`MAX_WORKERS` threads (``concurrent.futures.ThreadPoolExecutor``): the checks wait on the network, not the CPU, so
threads overlap their waits, and the bound keeps a run from opening more connections than an API's secondary rate limit
tolerates (GitHub docs, "Rate limits for the REST API": "No more than 100 concurrent requests are allowed"). A check that
raises anyway becomes one FAIL finding that names the check and the exception's type, never its message (which could quote
a value); the other checks run on.

The HTTP clients of a run (:func:`secret_chain.doctor.http.client`: one per API base, shared by the checks, so a rate
limit one check meets pauses the others) are closed at the end of :func:`run`.
"""

from __future__ import annotations

import concurrent.futures
import datetime
from collections.abc import Callable, Sequence
from typing import Any

from secret_chain.doctor import common, links
from secret_chain.doctor.http import close_clients
from secret_chain.doctor.model import Check, Context, Finding, Status
from secret_chain.validators import printable

MAX_WORKERS = 8
"""At most this many checks run at once."""

SYSTEMS = ("github", "esc", "kubernetes", "digitalocean")
"""The running systems whose links the doctor checks (``--only``), each a module of this package."""


def system_of(check: Check) -> str:
    """The system a check looks at: the name of its module (``secret_chain.doctor.github`` → ``github``)."""
    return str(getattr(check, "__module__", "")).rpartition(".")[2]


def default_checks(systems: Sequence[str] | None = None) -> tuple[Check, ...]:
    """Every check the doctor knows, in the report's order: GitHub, Pulumi ESC, Kubernetes, DigitalOcean (or of ``systems``).

    The Kubernetes checks (:data:`secret_chain.doctor.kubernetes.KUBERNETES_CHECKS`) are imported here, when a run starts,
    not when the command line loads.
    """
    from secret_chain.doctor import digitalocean, esc, github

    checks: list[Check] = [*github.GITHUB_CHECKS, *esc.ESC_CHECKS]
    import importlib.util

    # doctor/kubernetes.py (KUBERNETES_CHECKS) is built beside this module; a tree without it runs the other links.
    if importlib.util.find_spec("secret_chain.doctor.kubernetes") is not None:
        kubernetes = importlib.import_module("secret_chain.doctor.kubernetes")
        checks.extend(kubernetes.KUBERNETES_CHECKS)
    checks.extend(digitalocean.DIGITALOCEAN_CHECKS)
    return tuple(c for c in checks if systems is None or system_of(c) in systems)


def check_name(check: Check) -> str:
    """A check's name as a finding's link shows it (``check_ghcr_token`` → ``ghcr-token``)."""
    name = getattr(check, "__name__", type(check).__name__)
    return name.removeprefix("check_").replace("_", "-")


def _guarded(check: Check, context: Context) -> list[Finding]:
    try:
        found = check(context)
    except Exception as err:  # a check that raised: contained, reported by type only
        return [
            Finding(
                link=f"doctor.{check_name(check)}",
                status=Status.FAIL,
                checked=(
                    f"the check {check_name(check)} stopped unexpectedly ({type(err).__name__}; its message is not shown: "
                    "it may quote a value); the other checks ran"
                ),
                symptom=links.symptom("doctor.<check>"),
                fix=links.BY_ID["doctor.<check>"].fix,
            )
        ]
    if not isinstance(found, list) or not all(isinstance(f, Finding) for f in found):
        return [
            Finding(
                link=f"doctor.{check_name(check)}",
                status=Status.FAIL,
                checked=f"the check {check_name(check)} returned something other than a list of findings",
                fix="report it with this line",
            )
        ]
    return found


def run(
    context: Context,
    checks: Sequence[Check] | None = None,
    *,
    workers: int = MAX_WORKERS,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[Finding]:
    """Run ``checks`` (default: :func:`default_checks`) on ``context``; the findings in the checks' order.

    ``progress(done, total, name)`` is called from the main thread as each check ends.
    """
    chosen = tuple(default_checks() if checks is None else checks)
    results: dict[int, list[Finding]] = {}
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(workers, len(chosen) or 1)), thread_name_prefix="doctor") as pool:
            futures = {pool.submit(_guarded, check, context): index for index, check in enumerate(chosen)}
            for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
                index = futures[future]
                results[index] = future.result()
                if progress is not None:
                    progress(done, len(chosen), check_name(chosen[index]))
    finally:
        close_clients()
    # The one place every finding passes on its way out: secrets redacted, API-quoted text capped (common.scrub).
    secrets = common.secret_values(context)
    return [common.scrub(finding, context, secrets) for index in range(len(chosen)) for finding in results.get(index, [])]


def overall(findings: Sequence[Finding]) -> Status:
    """FAIL if any finding fails, else WARN if any warns, else OK."""
    statuses = {f.status for f in findings}
    return Status.FAIL if Status.FAIL in statuses else Status.WARN if Status.WARN in statuses else Status.OK


def exit_code(findings: Sequence[Finding]) -> int:
    """0 when every link is OK, 1 when any is WARN or FAIL (2, could not run, is the command line's)."""
    return 0 if overall(findings) is Status.OK else 1


def _iso(when: datetime.datetime | None) -> str | None:
    if when is None:
        return None
    aware = when if when.tzinfo is not None else when.replace(tzinfo=datetime.UTC)
    return aware.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_json(context: Context, findings: Sequence[Finding]) -> dict[str, Any]:
    """The ``--json`` document (shared decision 3 of the doctor contract): camelCase keys, ``expires`` ISO 8601 UTC or null."""
    return {
        "stack": context.stack,
        "kind": context.kind,
        "status": overall(findings).value,
        "findings": [
            {
                "link": f.link,
                "status": f.status.value,
                "checked": f.checked,
                "symptom": f.symptom,
                "key": f.key,
                "fix": f.fix,
                "source": f.source,
                "expires": _iso(f.expires),
                "facts": dict(f.facts),
            }
            for f in findings
        ],
    }


def render_text(context: Context, findings: Sequence[Finding], seconds: float | None = None) -> str:
    """The report for a person: per link OK/WARN/FAIL and what was checked; for the others the symptom, the key and the fix."""
    status = overall(findings)
    lines = [f"Doctor of stack {context.stack} (kind {context.kind}): {status.value}"]
    for f in findings:
        lines.append(f"  {f.status.value:<4} {f.link}: {f.checked}")
        if f.status is not Status.OK:
            if f.symptom:
                lines.append(f"       symptom: {f.symptom}")
            if f.key:
                lines.append(f"       key: {f.key}")
            if f.fix:
                lines.append(f"       fix: {f.fix}")
            if f.source:
                lines.append(f"       see: {f.source}")
    counts = {s: sum(1 for f in findings if f.status is s) for s in Status}
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    lines.append(f"{counts[Status.OK]} OK, {counts[Status.WARN]} WARN, {counts[Status.FAIL]} FAIL{took}")
    if not findings:
        lines.append("no link of this stack has a check (its parts write nothing doctor can look at)")
    # Each line escaped whole (validators.printable): a name from an API answer may hold a control character.
    return "".join(f"{printable(line)}\n" for line in lines)
