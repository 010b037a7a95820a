"""Command line: ``secret-chain`` (or ``python -m secret_chain``): the top-level parser and the dispatcher.

Commands: ``preflight`` (check a stack's config before ``pulumi up``), ``doctor`` (the running chain checked live),
``inventory`` (the catalog as the runbook's tables), ``plan`` (offline render of what ``pulumi up`` would create), ``rotation``
(what is due or overdue in a ``pulumi stack export``) and ``forget-shared`` (an upgrade step: a state without the
objects another stack holds too). Each command's module (:mod:`secret_chain.ops.preflight`,
…) owns its parser (``register``) and its logic; this module only dispatches, and is the one place that
turns a :class:`~secret_chain.errors.SecretChainError` into one ``error:`` line. No command ever prints a secret value.

How the process ends, as well-behaved command-line tools end:

* an error: one ``error:`` line on stderr, exit status 2; never a traceback.
* standard output closed by its reader (``secret-chain … | head -1``, ``| true``): nothing more, exit status 141, the
  128 + SIGPIPE a shell reports for a tool the signal ended (bash manual, "Exit Status": "When a command terminates on a
  fatal signal N, bash uses the value of 128+N as the exit status"). Python ignores SIGPIPE, so a write to such a pipe
  raises ``BrokenPipeError``; its documentation ("Note on SIGPIPE", https://docs.python.org/3/library/signal.html#note-on-sigpipe)
  says to catch it at the entry point and to point standard output at ``os.devnull``, "to avoid another
  BrokenPipeError at shutdown", and not to reset SIGPIPE to ``SIG_DFL``.
* standard output that cannot be written (closed with ``>&-``, a full disk, ``/dev/full``): one ``error: cannot write to
  standard output: <reason>`` line, exit status 2, as coreutils' ``write error: No space left on device``.
* Ctrl-C (SIGINT), whenever it comes, start-up included: ``error: interrupted``, exit status 130 (128 + SIGINT). This
  module imports only the standard library when loaded, and :func:`main` installs its SIGINT handler
  (:func:`_interrupted`) before the package and the Pulumi SDK load. It ends the process rather than raising
  ``KeyboardInterrupt``: Python raises that wherever the main thread is (Python docs, signal module, "Note on Signal
  Handlers and Exceptions"), and code there may swallow it. Once the command is done, SIGINT is the default again.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any, NoReturn, TextIO

EXIT_ERROR = 2
EXIT_INTERRUPTED = 128 + signal.SIGINT
"""130: the status a shell reports for a command SIGINT ended."""
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE
"""141: the status a shell reports for a command SIGPIPE ended (its reader went away)."""

EXAMPLES = """examples:
  secret-chain preflight --stack production                      # reads `pulumi config` of the stack
  secret-chain preflight --stack preview-pr-42 --config config.json --json
  secret-chain inventory --environment production
  secret-chain inventory --docs docs                             # rewrite the generated blocks of the docs' pages
  secret-chain plan --stack production --config examples/config/production.json --manifests out/
  pulumi config --show-secrets --json --stack production | secret-chain plan --stack production --config -
  pulumi stack export --stack production > state.json && secret-chain rotation --state state.json
  secret-chain doctor --stack production                         # every link of the running chain, live
  secret-chain forget-shared --state preview-base.json --other production.json --out preview-base.forgotten.json
"""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one ``error:`` line (exit 2) that never repeats an argument's value.

    argparse's own messages quote what was typed (``unrecognized arguments: …``, ``invalid choice: '…'``),
    and a mistyped command line can hold a token; so the offending words are counted, not shown.
    """

    def error(self, message: str) -> NoReturn:
        import re

        from secret_chain.errors import SecretChainError

        if message.startswith("unrecognized arguments:"):
            count = len(message.split(":", 1)[1].split())
            message = f"{count} unrecognized argument(s) (not shown); see --help"
        message = re.sub(r"invalid (choice|\w+ value): '.*?'", r"invalid \1", message, flags=re.S)
        raise SecretChainError(f"{self.prog}: {message}")


DESCRIPTION = """\
Check, plan, inventory and rotate the GitHub → Pulumi ESC → Kubernetes secret chain that the secret-chain Pulumi
components build. This command provisions nothing (`pulumi up` does, with the stack program): it checks a stack's
config before a run, checks the running chain's credentials live (doctor, read-only), shows offline what a run would
create, lists every secret with where it flows and how it rotates, says what is due for rotation from a stack's state,
and edits an exported state for an upgrade."""
DISTRIBUTION = "secret-chain"
"""The distribution whose version ``--version`` prints (pyproject.toml ``[project] name``)."""


def version() -> str:
    """The installed distribution's version (``importlib.metadata``), or why there is none (a source tree not installed)."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown (the secret-chain distribution is not installed: pip install it, or `make setup` in a checkout)"


class _Version(argparse.Action):
    """``--version``: print ``secret-chain <version>`` and exit 0; the metadata is read only when asked (start-up stays lazy)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print the installed version and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object, option: str | None = None) -> None:
        sys.stdout.write(f"{parser.prog} {version()}\n")
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    from secret_chain.ops import doctor, inventory, plan, preflight, rotation, upgrade

    parser = _Parser(
        prog="secret-chain",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version)
    # Not required=True: a bare call prints the usage and the commands (_no_command), where argparse would print one line.
    sub = parser.add_subparsers(dest="command", title="commands", parser_class=_Parser)
    for command in (preflight, doctor, inventory, plan, rotation, upgrade):
        command.register(sub)
    return parser


def _no_command(parser: argparse.ArgumentParser) -> int:
    """A bare ``secret-chain``: the usage line and the commands on stderr, then one ``error:`` line; exit 2.

    Exit status 2 and the usage first, as argparse ends a call that lacks a required argument (``ArgumentParser.error``:
    ``print_usage`` to stderr, then ``exit(2, …)``; Python docs, argparse, "exit_on_error"); the command list too, so the
    next call can be typed without ``--help``.
    """
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    width = max(len(choice.dest) for choice in sub._choices_actions)
    lines = [parser.format_usage().rstrip("\n"), "", "commands:"]
    lines += [f"  {choice.dest:<{width}}  {choice.help}" for choice in sub._choices_actions]
    lines += ["", f"error: {parser.prog}: name a command (see {parser.prog} --help)"]
    for line in lines:
        _say(line)
    return EXIT_ERROR


def _one_line(message: str) -> str:
    """A message as one line: several problems joined with `` | ``, any other control character escaped.

    An error is one ``error:`` line (a CI log or a script reads it so), and a path or key read from a file can
    hold a newline or an escape sequence that would otherwise forge lines of its own.
    """
    from secret_chain.validators import printable

    return printable(" | ".join(line.strip() for line in message.splitlines() if line.strip()))


class _OutputFailed(Exception):
    """Standard output could not be written: ``errno`` says why (EPIPE: its reader went away)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.errno = code


class _Stdout:
    """``sys.stdout`` while a command runs: a write or flush that fails raises :class:`_OutputFailed`.

    So a failure of standard output is told from every other ``OSError`` (a file a command reads or writes), whatever
    printed it (``print``, ``sys.stdout.write``, argparse's ``--help``). ``stream`` None: Python started with file
    descriptor 1 closed (``>&-``), where ``print`` would drop the text silently and a command would still exit 0.
    """

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if self._stream is None:
            raise _OutputFailed(errno.EBADF)
        try:
            return self._stream.write(text)
        except OSError as err:
            raise _OutputFailed(err.errno or errno.EIO) from None

    def flush(self) -> None:
        if self._stream is None:
            return
        try:
            self._stream.flush()
        except OSError as err:
            raise _OutputFailed(err.errno or errno.EIO) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _say(line: str) -> None:
    """Write one line to stderr; if stderr itself is closed or broken, there is nowhere to say it."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


def _hold_closed_descriptors() -> None:
    """Open ``os.devnull`` on each of file descriptors 0, 1 and 2 that the process started without (``>&-``).

    Python then sets ``sys.stdin``/``stdout``/``stderr`` to None, and the next file the process opens takes the lowest
    free descriptor: the event loop's epoll instance would become descriptor 1, which a later cleanup of standard output
    then closes from under it. Held by ``/dev/null``, the numbers stay what every program expects; writing to a closed
    standard output is still an error (:class:`_Stdout`).
    """
    for fd, stream in ((0, sys.stdin), (1, sys.stdout), (2, sys.stderr)):
        if stream is not None:
            continue
        try:
            os.fstat(fd)
        except OSError:
            try:
                devnull = os.open(os.devnull, os.O_RDWR)
                if devnull != fd:
                    os.dup2(devnull, fd)
                    os.close(devnull)
            except OSError:
                pass


def _silence_stdout() -> None:
    """Point file descriptor 1 at ``os.devnull``: what is still buffered cannot fail again when Python exits.

    The remedy of Python's "Note on SIGPIPE"; for a full disk too, whose buffered rest would otherwise print
    ``Exception ignored … OSError`` at exit.
    """
    if sys.__stdout__ is None:
        return  # started without it: descriptor 1 is /dev/null already (_hold_closed_descriptors)
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _interrupted(signum: int, frame: object) -> None:
    """SIGINT while the command runs (as the program): one line, then exit 130 at once.

    Python's own handler raises ``KeyboardInterrupt`` wherever the main thread happens to be, and in this program that
    is often inside the SDK's asyncio machinery or a finaliser, which swallow it: a weakref callback printed
    ``Exception ignored … KeyboardInterrupt`` and the command went on to exit 0, and a task left waiting on a thread hung
    the process for good. Nothing an interrupted command was doing is worth finishing, so it ends here, without the
    interpreter's shutdown (``os._exit``), whose half-run tasks would print after the line.
    """
    with contextlib.suppress(OSError):
        os.write(2, b"error: interrupted\n")
    os._exit(EXIT_INTERRUPTED)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; every error is printed as one ``error:`` message (exit 2), never a traceback.

    An exception no command anticipated is reported by its type only: its message or repr could quote a
    value (``UnicodeEncodeError`` repeats the whole string it failed on). See the module's docstring for
    a closed or full standard output (141 or 2) and Ctrl-C (130).
    """
    as_program = argv is None
    try:
        if as_program:
            signal.signal(signal.SIGINT, _interrupted)
            _hold_closed_descriptors()
        code = _main(argv, as_program)
    except KeyboardInterrupt:  # called in-process (a test, another program): the caller's SIGINT handling stands
        _say("error: interrupted")
        return EXIT_INTERRUPTED
    if as_program:
        # The command is done; a Ctrl-C during the interpreter's shutdown now ends it as SIGINT ends any tool (the shell
        # reports 130), instead of a KeyboardInterrupt in a finaliser ("Exception ignored in …") and exit status 0.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    return code


def _main(argv: Sequence[str] | None, as_program: bool) -> int:
    real_stdout = sys.stdout
    sys.stdout = _Stdout(real_stdout)
    interrupted = False
    try:
        from secret_chain.errors import SecretChainError

        try:
            parser = build_parser()
            args = parser.parse_args(argv)
            if args.command is None:
                return _no_command(parser)
            code = int(args.func(args))
            sys.stdout.flush()  # a full disk or a closed pipe is told here, not at interpreter exit
            return code
        except _OutputFailed as err:
            if as_program:
                _silence_stdout()
            if err.errno == errno.EPIPE:
                return EXIT_BROKEN_PIPE
            reason = "it is closed" if err.errno == errno.EBADF else os.strerror(err.errno)
            _say(f"error: cannot write to standard output: {reason}")
            return EXIT_ERROR
        except SecretChainError as err:
            _say(f"error: {_one_line(str(err))}")
            return EXIT_ERROR
        except RecursionError:
            _say("error: an input is nested too deeply to read (Python's recursion limit); please report which one")
            return EXIT_ERROR
        except Exception as err:  # the last line of defence against a traceback
            _say(f"error: unexpected {type(err).__name__} (not shown: it may quote a value); please report it")
            return EXIT_ERROR
        except KeyboardInterrupt:
            interrupted = True
            raise
    finally:
        sys.stdout = real_stdout
        # Not after Ctrl-C: the evaluation it cut short can leave a task waiting on a thread that will never answer, and
        # closing the loop waits for every pending task (offline.close_event_loop): the command would hang.
        if as_program and not interrupted and "secret_chain.ops.offline" in sys.modules:
            # Run as the program (arguments from sys.argv): close the SDK's event loop now, not at interpreter exit
            # (see offline.close_event_loop). Called in-process with arguments, the caller's loop is left alone.
            sys.modules["secret_chain.ops.offline"].close_event_loop()
