"""The Pulumi ESC link: the stack's environment opens, and every key the stack's parts need is set and no placeholder.

The environment is opened with the ``pulumi env open <org>/<project>/<env> --format json`` command (pulumi/esc
cmd/esc/cli/env_open.go: prints the environment's evaluated ``values`` as JSON), which every Pulumi CLI since 3.95
carries and which uses the CLI's own login (``PULUMI_ACCESS_TOKEN`` or ``pulumi login``): no second credential. The ESC
SDK from PyPI (``pulumi-esc-sdk``) is not used: it needs its own access token and API URL, and brings urllib3, pydantic
and python-dateutil for one call the CLI makes already; each finding says which way ran (``facts.method``).

Opening is read-only, but it is an audited ``open`` event in Pulumi Cloud (Pulumi docs, ESC "Audit logs"), as any
``pulumi up`` of the stack is. Values are compared with the catalog's checks and never leave this module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping

from secret_chain import catalog, parts
from secret_chain.catalog import Key, Tier
from secret_chain.doctor import common, links
from secret_chain.doctor.model import Check, Context, Finding, Status
from secret_chain.reading import lookup
from secret_chain.validators import Invalid, placeholder

DOC_ENV_OPEN = links.ESC_OPEN
METHOD = "pulumi env open"
NO_CLI = "the pulumi CLI is not on PATH"


def needed_keys(context: Context) -> list[Key]:
    """The ESC-tier keys the stack's built parts need: each required key, and the chosen (else recommended) alternative."""
    selection = common.selection(context)
    get = common.getter(context)
    wanted: list[Key] = []
    for part in selection.built:
        keys = list(part.required)
        if part.one_of:
            chosen = [alt for alt in part.one_of if any(_set(k, get) for k in alt)]
            keys.extend(chosen[0] if chosen else part.one_of[0])
        wanted.extend(k for k in keys if k.tier is Tier.ESC)
    return list(dict.fromkeys(wanted))


def _set(entry: Key, get: object) -> bool:
    try:
        return lookup(entry, get) is not None  # type: ignore[arg-type]
    except Invalid:
        return True


def _flat(config: Mapping[str, object]) -> dict[str, str]:
    """``pulumiConfig`` as flat config: a string as it is, anything else as its JSON text (as ``pulumi config --json`` gives it)."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def open_environment(context: Context, reference: str) -> tuple[dict[str, object] | None, str]:
    """(the environment's values, or None; why not) through ``pulumi env open``."""
    path = context.environ.get("PATH") if context.environ else None
    exe = shutil.which("pulumi", path=path)
    if exe is None:
        return None, NO_CLI
    environ = dict(context.environ) if context.environ else dict(os.environ)
    try:
        done = subprocess.run(
            [exe, "env", "open", reference, "--format", "json"],
            capture_output=True,
            text=True,
            check=False,
            timeout=max(30.0, 3 * context.timeout),
            env=environ,
        )
    except subprocess.TimeoutExpired:
        return None, f"`pulumi env open` gave no answer within {max(30.0, 3 * context.timeout):g} s"
    except OSError as err:
        return None, f"cannot run the pulumi CLI: {err.strerror}"
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        detail = common.redact(lines[-1], context) if lines else f"exit status {done.returncode}"
        return None, f"`pulumi env open` failed: {detail}"
    try:
        document = json.loads(done.stdout)
    except ValueError:
        return None, "`pulumi env open` printed no JSON"
    return (document, "") if isinstance(document, dict) else (None, "`pulumi env open` printed no JSON object")


def check_environment(context: Context) -> list[Finding]:
    """The stack's ESC environment opens, and no key its parts need is missing or still a placeholder there."""
    if common.kind(context) not in parts.CHAIN_KINDS:
        return []
    reference = common.value(context, catalog.ESC_ENVIRONMENT)
    link = "esc.environment"
    if reference is None:
        return [
            Finding(
                link=link,
                status=Status.WARN,
                checked=f"the stack's ESC environment: not checked (the stack names none in {catalog.ESC_ENVIRONMENT})",
                symptom="doctor cannot tell which environment the stack imports",
                key=catalog.ESC_ENVIRONMENT.key,
                fix=common.fix_for(context, catalog.ESC_ENVIRONMENT),
                source=DOC_ENV_OPEN,
            )
        ]
    try:
        reference = catalog.ESC_ENVIRONMENT.shape(reference)
    except Invalid:
        return []  # preflight reports a malformed setting; nothing to open
    what = f"ESC environment {reference} ({METHOD})"
    values, why = open_environment(context, reference)
    if values is None and why == NO_CLI:
        return [
            common.not_checked(
                link,
                what,
                f"{why}; the ESC SDK is not used (module docstring)",
                key=catalog.ESC_ENVIRONMENT,
                source=DOC_ENV_OPEN,
                fix="install the Pulumi CLI (https://www.pulumi.com/docs/install/), pulumi login, and run doctor again",
            )
        ]
    if values is None:
        return [
            Finding(
                link=link,
                status=Status.FAIL,
                checked=f"{what}: it does not open: {why}",
                symptom=links.symptom("esc.environment"),
                key=catalog.ESC_ENVIRONMENT.key,
                fix=f"pulumi login; pulumi env open {reference} (check the name, your access and the environment's imports)",
                source=DOC_ENV_OPEN,
                facts={"method": METHOD},
            )
        ]
    config = values.get("pulumiConfig")
    flat = _flat(config) if isinstance(config, dict) else {}
    needed = needed_keys(context)
    findings = []
    bad = 0
    for entry in needed:
        try:
            found = lookup(entry, flat.get)
        except Invalid as err:
            found, problem = None, f"is unreadable: {err}"
        else:
            problem = "is missing" if found is None else ""
        raw = None if found is None else found[1]
        if raw is not None:
            try:
                placeholder(raw)
            except Invalid:
                problem = "still holds the bootstrap's placeholder (<set me: …>)"
            else:
                try:
                    entry.shape(raw)
                except Invalid as err:
                    problem = f"is malformed: {err}"
        stack_value = common.value(context, entry)
        if problem and stack_value is not None and stack_value != raw:
            continue  # the stack's own config sets it (pulumi config set) over the environment: that is what the program reads
        if problem:
            bad += 1
            findings.append(
                Finding(
                    link=f"esc.key/{entry.key}",
                    status=Status.FAIL,
                    checked=f"{entry.key} in ESC environment {reference} {problem}",
                    symptom=links.symptom("esc.key/<key>"),
                    key=entry.key,
                    fix=f"set it with: {common.fix_for(context, entry, common.up(context))}",
                    source=DOC_ENV_OPEN,
                    facts={"method": METHOD},
                )
            )
    findings.insert(
        0,
        Finding(
            link=link,
            status=Status.OK,
            checked=f"{what}: it opens; {len(needed) - bad} of the {len(needed)} keys the stack's parts need are set",
            source=DOC_ENV_OPEN,
            facts={"method": METHOD, "keys": str(len(needed))},
        ),
    )
    return findings


ESC_CHECKS: tuple[Check, ...] = (check_environment,)
"""The Pulumi ESC checks."""
