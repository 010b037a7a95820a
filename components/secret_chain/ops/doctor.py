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
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from secret_chain.ops import _io

if TYPE_CHECKING:
    from secret_chain.doctor.model import Context, Finding

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
    add_live_options(p)
    p.set_defaults(func=main)


def add_live_options(p: argparse._ActionsContainer) -> None:
    """The options saying where the running systems are: ``doctor``'s, and ``rotation --live``'s (which runs the doctor)."""
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


def context_of(args: argparse.Namespace, config: Mapping[str, object], warn_days: int) -> Context:
    """The doctor's :class:`~secret_chain.doctor.model.Context` from the parsed options (:func:`add_live_options`, ``--stack``)."""
    import datetime

    from secret_chain.doctor.model import Context

    # The kind exactly as preflight resolves it (its secret-chain:stackKind, else its name); the stack is kept as typed
    # (acme/prod), so every fix names it as the person does: pulumi up --stack acme/prod.
    kind = _io.stack_kind(args.stack, {k: v for k, v in config.items() if isinstance(v, str)})
    return Context(
        stack=args.stack,
        kind=kind.kind_name,
        config=config,
        now=datetime.datetime.now(datetime.UTC),
        warn_days=warn_days,
        github_api_url=(os.environ.get("GITHUB_API_URL") or DEFAULT_GITHUB_API).rstrip("/"),
        kubeconfig=args.kubeconfig,
        kube_context=args.context,
        prometheus_url=args.prometheus_url,
        timeout=args.timeout,
        environ=dict(os.environ),
    )


def run_checks(args: argparse.Namespace, context: Context) -> tuple[list[Finding], float]:
    """Run the checks of ``--only`` (default: all) on ``context``, with a progress line on a terminal; (findings, seconds)."""
    from secret_chain.doctor import runner

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
    return findings, took


def main(args: argparse.Namespace) -> int:
    """Run the doctor on the stack; exit 0 (all OK) or 1 (any WARN or FAIL)."""
    from secret_chain.doctor import runner

    config, _secret_keys = _io.load_config(args)
    context = context_of(args, config, args.warn_days)
    findings, took = run_checks(args, context)
    if args.json:
        print(json.dumps(runner.as_json(context, findings), indent=2))
    else:
        sys.stdout.write(runner.render_text(context, findings, took))
    return runner.exit_code(findings)
