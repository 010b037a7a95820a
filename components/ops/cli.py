"""Command line: ``secret-chain`` (or ``python -m components``): the top-level parser and the dispatcher.

Commands: ``preflight`` (check a stack's config before ``pulumi up``), ``inventory`` (the catalog as
the runbook's tables), ``plan`` (offline render of what ``pulumi up`` would create), ``rotation``
(what is due or overdue in a ``pulumi stack export``) and ``forget-shared`` (an upgrade step: a state without the
objects another stack holds too). Each command's module (:mod:`components.ops.preflight`,
…) owns its parser (``register``) and its logic; this module only dispatches, and is the one place that
turns a :class:`~components.errors.SecretChainError` into one ``error:`` line. No command ever prints a secret value.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from components.errors import SecretChainError
from components.ops import inventory, offline, plan, preflight, rotation, upgrade

EXAMPLES = """examples:
  secret-chain preflight --stack production                      # reads `pulumi config` of the stack
  secret-chain preflight --stack preview-pr-42 --config config.json --json
  secret-chain inventory --environment production
  secret-chain inventory --readme README.md                      # rewrite the README's secrets section
  secret-chain inventory --rotation-doc docs/rotation.md         # rewrite the rotation guide
  secret-chain plan --stack production --config examples/config/production.json --manifests out/
  pulumi config --show-secrets --json --stack production | secret-chain plan --stack production --config -
  pulumi stack export --stack production > state.json && secret-chain rotation --state state.json
  secret-chain forget-shared --state preview-base.json --other production.json --out preview-base.forgotten.json
"""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one ``error:`` line (exit 2) that never repeats an argument's value.

    argparse's own messages quote what was typed (``unrecognized arguments: …``, ``invalid choice: '…'``),
    and a mistyped command line can hold a token; so the offending words are counted, not shown.
    """

    def error(self, message: str) -> NoReturn:
        import re

        if message.startswith("unrecognized arguments:"):
            count = len(message.split(":", 1)[1].split())
            message = f"{count} unrecognized argument(s) (not shown); see --help"
        message = re.sub(r"invalid (choice|\w+ value): '.*?'", r"invalid \1", message, flags=re.S)
        raise SecretChainError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = _Parser(
        prog="secret-chain",
        description="Provision and check the GitHub → Pulumi ESC → Kubernetes secret chain.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in (preflight, inventory, plan, rotation, upgrade):
        command.register(sub)
    return parser


def _one_line(message: str) -> str:
    """A message as one line: several problems joined with `` | ``, any other control character escaped.

    An error is one ``error:`` line (a CI log or a script reads it so), and a path or key read from a file can
    hold a newline or an escape sequence that would otherwise forge lines of its own.
    """
    text = " | ".join(line.strip() for line in message.splitlines() if line.strip())
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; every error is printed as one ``error:`` message (exit 2), never a traceback.

    An exception no command anticipated is reported by its type only: its message or repr could quote a
    value (``UnicodeEncodeError`` repeats the whole string it failed on).
    """
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args))
    except SecretChainError as err:
        print(f"error: {_one_line(str(err))}", file=sys.stderr)
        return 2
    except Exception as err:  # the last line of defence against a traceback
        print(f"error: unexpected {type(err).__name__} (not shown: it may quote a value); please report it", file=sys.stderr)
        return 2
    finally:
        if argv is None:
            # Run as the program (arguments from sys.argv): close the SDK's event loop now, not at interpreter exit
            # (see offline.close_event_loop). Called in-process with arguments, the caller's loop is left alone.
            offline.close_event_loop()
