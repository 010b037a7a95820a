"""``secret-chain doctor --stack S``: every link of a stack's running chain checked live (issue 22).

Reads the stack's config as ``preflight`` does (``--config FILE``, ``--config -`` for standard input, or ``pulumi config
--show-secrets --json --stack S``), then runs the checks (:mod:`secret_chain.doctor.runner`) and prints the report, text or
``--json``. Read-only; no secret value is ever printed. Exit status: 0 when every link is OK, 1 when any is WARN or FAIL,
2 when doctor could not run (bad arguments, config unreadable: one ``error:`` line, as every command).

Nothing of the doctor (httpx2, lightkube, PyJWT, the checks) is imported until the command runs: ``secret-chain --help`` and the
other commands do not pay for it (tests/test_doctor_cli.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from secret_chain.ops import _io

EXAMPLES = """examples:
  secret-chain doctor --stack production
  secret-chain doctor --stack production --config examples/config/production.json --json
  pulumi config --show-secrets --json --stack preview-base | secret-chain doctor --stack preview-base --config -

The GitHub API is $GITHUB_API_URL when set (GitHub Enterprise Server: https://HOST/api/v3), DigitalOcean's
$DIGITALOCEAN_API_URL. Exit status: 0 every link OK, 1 any WARN or FAIL, 2 doctor could not run.
"""

DEFAULT_GITHUB_API = "https://api.github.com"


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number of days") from None
    if days < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return days


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number of seconds") from None
    if not 0 < seconds <= 300:
        raise argparse.ArgumentTypeError("must be more than 0 and at most 300")
    return seconds


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``doctor`` to the command line."""
    p = subparsers.add_parser(
        "doctor",
        help="check every link of a stack's running chain live (GitHub, Pulumi ESC, Kubernetes, DigitalOcean): OK, WARN or FAIL",
        description=(
            "Follow the stack's chain link by link in the running systems: tokens valid and not about to expire, GitHub Apps "
            "and installations, Actions secrets, the ESC environment, the DNS token. Read-only; never prints a secret."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--stack", required=True, type=_io.stack, help=_io.stack_help())
    p.add_argument("--config", help=_io.CONFIG_HELP)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--warn-days", type=_days, default=14, help="WARN when a credential expires within this many days (default 14)")
    p.add_argument("--kubeconfig", help="kubeconfig for the Kubernetes links (default: KUBECONFIG, then ~/.kube/config)")
    p.add_argument("--context", help="kubeconfig context for the Kubernetes links (default: the current one)")
    p.add_argument("--prometheus-url", help="Prometheus base URL: check that the ServiceMonitor's target is up")
    p.add_argument(
        "--only",
        action="append",
        choices=("github", "esc", "kubernetes", "digitalocean"),  # secret_chain.doctor.runner.SYSTEMS (not imported here: lazy)
        help="check only this system's links (repeatable; default: all)",
    )
    p.add_argument("--timeout", type=_seconds, default=10.0, help="seconds each API request may take (default 10)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run the doctor on the stack; exit 0 (all OK) or 1 (any WARN or FAIL)."""
    import datetime

    from secret_chain.doctor import runner
    from secret_chain.doctor.model import Context

    config, _secret_keys = _io.load_config(args)
    # The kind exactly as preflight resolves it (its secret-chain:stackKind, else its name); the stack is kept as typed
    # (acme/prod), so every fix names it as the person does: pulumi up --stack acme/prod.
    kind = _io.stack_kind(args.stack, config)
    context = Context(
        stack=args.stack,
        kind=kind.kind_name,
        config=config,
        now=datetime.datetime.now(datetime.UTC),
        warn_days=args.warn_days,
        github_api_url=(os.environ.get("GITHUB_API_URL") or DEFAULT_GITHUB_API).rstrip("/"),
        kubeconfig=args.kubeconfig,
        kube_context=args.context,
        prometheus_url=args.prometheus_url,
        timeout=args.timeout,
        environ=dict(os.environ),
    )
    tty = sys.stderr is not None and sys.stderr.isatty()

    def progress(done: int, total: int, name: str) -> None:
        sys.stderr.write(f"\r\033[Kdoctor: {done}/{total} checks done ({name})")
        sys.stderr.flush()

    started = time.monotonic()
    findings = runner.run(context, runner.default_checks(args.only), progress=progress if tty else None)
    took = time.monotonic() - started
    if tty:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
    if args.json:
        print(json.dumps(runner.as_json(context, findings), indent=2))
    else:
        sys.stdout.write(runner.render_text(context, findings, took))
    return runner.exit_code(findings)
