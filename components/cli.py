"""Command line: ``secret-chain`` (or ``python -m components``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from components.errors import SecretChainError

EXAMPLES = """examples:
  secret-chain plan --stack production --config examples/config/production.json
  secret-chain plan --stack preview-pr-42 --config examples/config/preview.json --json
  pulumi config --show-secrets --json --stack production | secret-chain plan --stack production --config -
"""


def _read_config(source: str) -> tuple[dict[str, str], list[str]]:
    from components.offline import parse_config

    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text()
    except OSError as err:
        raise SecretChainError(f"cannot read config file {source}: {err.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise SecretChainError(f"config file {source} is not valid JSON (line {err.lineno}, column {err.colno})") from None
    return parse_config(data)


def cmd_plan(args: argparse.Namespace) -> int:
    """Evaluate the stack program offline and print what ``pulumi up`` would create."""
    from components import plan
    from components.offline import evaluate
    from components.program import main

    config, secret_keys = _read_config(args.config)
    evaluation = evaluate(main, config=config, secret_keys=secret_keys, stack=args.stack, preview=args.preview)
    if args.json:
        print(json.dumps(plan.render_json(evaluation), indent=2, sort_keys=True))
    else:
        sys.stdout.write(plan.render_text(evaluation))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="secret-chain",
        description="Provision and check the GitHub → Pulumi ESC → Kubernetes secret chain.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "plan",
        help="show what `pulumi up` would create for a stack, offline (mock runtime), secrets redacted",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--stack", required=True, help="production, preview-base or preview-pr-<N>")
    p.add_argument("--config", required=True, help="JSON as printed by `pulumi config --show-secrets --json` (- for stdin)")
    p.add_argument("--preview", action="store_true", help="evaluate in preview mode instead of update mode")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_plan)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; errors are printed as one message, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SecretChainError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
