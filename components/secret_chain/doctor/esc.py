"""The Pulumi ESC link: the stack's environment opens, and every key the stack's parts need is set and no placeholder.

The environment is opened with whichever of two is present, the CLI first:

* the ``pulumi env open <org>/<project>/<env> --format json`` command (pulumi/esc cmd/esc/cli/env_open.go: prints the
  environment's evaluated ``values`` as JSON), which every Pulumi CLI since 3.95 carries and which uses the CLI's own
  login (``PULUMI_ACCESS_TOKEN`` or ``pulumi login``);
* else the ESC SDK from PyPI (``pulumi-esc-sdk``, not a dependency of this package: installed by whoever wants it), with
  ``PULUMI_ACCESS_TOKEN`` and ``PULUMI_BACKEND_URL`` as its ``default_config`` reads them: ``open_environment`` then
  ``read_open_environment`` (``POST …/environments/{org}/{project}/{env}/open``, ``GET …/open/{openSessionID}``) and its
  ``convertEnvPropertiesToValues`` (pulumi/esc-sdk sdk/python/pulumi_esc_sdk/esc_client.py).

Each finding says which way ran (``facts.method``).

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
SDK_METHOD = "ESC SDK (pulumi-esc-sdk)"
UNANSWERED = "the ESC API did not answer"
NO_CLI = "the pulumi CLI is not on PATH, and the ESC SDK (pulumi-esc-sdk) is not installed or PULUMI_ACCESS_TOKEN is not set"


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


def open_environment(context: Context, reference: str) -> tuple[dict[str, object] | None, str, str]:
    """(the environment's values, or None; why not; the method that ran): the CLI if present, else the ESC SDK."""
    path = context.environ.get("PATH") if context.environ else None
    exe = shutil.which("pulumi", path=path)
    if exe is None:
        return _open_with_sdk(context, reference)
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
        return None, f"`pulumi env open` gave no answer within {max(30.0, 3 * context.timeout):g} s", METHOD
    except OSError as err:
        return None, f"cannot run the pulumi CLI: {err.strerror}", METHOD
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        detail = common.redact(lines[-1], context) if lines else f"exit status {done.returncode}"
        return None, f"`pulumi env open` failed: {detail}", METHOD
    try:
        document = json.loads(done.stdout)
    except ValueError:
        return None, "`pulumi env open` printed no JSON", METHOD
    return (document, "", METHOD) if isinstance(document, dict) else (None, "`pulumi env open` printed no JSON object", METHOD)


def _open_with_sdk(context: Context, reference: str) -> tuple[dict[str, object] | None, str, str]:
    """The environment's values through the ESC SDK, when it is installed and ``PULUMI_ACCESS_TOKEN`` is set."""
    import importlib.util

    environ = context.environ or os.environ
    token = environ.get("PULUMI_ACCESS_TOKEN")
    if not token or importlib.util.find_spec("pulumi_esc_sdk") is None:
        return None, NO_CLI, METHOD
    from pulumi_esc_sdk import esc_client

    org, project, env = reference.split("/")
    # The SDK's own defaults (default_config: PULUMI_BACKEND_URL, else its configured host, api.pulumi.com/api/esc).
    client = esc_client.default_client(host=environ.get("PULUMI_BACKEND_URL") or None, access_token=token)
    try:
        session = client.esc_api.open_environment(org, project, env, _request_timeout=context.timeout)
        answer = client.esc_api.read_open_environment_with_http_info(org, project, env, session.id, _request_timeout=context.timeout)
        values = esc_client.convertEnvPropertiesToValues(answer.data.properties)
    except Exception as err:  # the SDK's ApiException carries the status; any other is named by its type only
        status = getattr(err, "status", None)
        if isinstance(status, int) and status > 0:
            return None, f"the ESC API answered {status}", SDK_METHOD
        return None, f"{UNANSWERED} ({type(err).__name__})", SDK_METHOD
    return (values, "", SDK_METHOD) if isinstance(values, dict) else (None, "the ESC API gave no values", SDK_METHOD)


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
    values, why, method = open_environment(context, reference)
    what = f"ESC environment {reference} ({method})"
    if values is None and (why == NO_CLI or why.startswith(UNANSWERED)):
        return [
            common.not_checked(
                link,
                what,
                why,
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
                facts={"method": method},
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
                    facts={"method": method},
                )
            )
    findings.insert(
        0,
        Finding(
            link=link,
            status=Status.OK,
            checked=f"{what}: it opens; {len(needed) - bad} of the {len(needed)} keys the stack's parts need are set",
            source=DOC_ENV_OPEN,
            facts={"method": method, "keys": str(len(needed))},
        ),
    )
    return findings


ESC_CHECKS: tuple[Check, ...] = (check_environment,)
"""The Pulumi ESC checks."""
