"""What the commands share: reading a file or stdin, parsing JSON, running ``pulumi config`` (with a spinner) and ``kubectl``.

Every failure is a one-line :class:`~secret_chain.errors.SecretChainError` that never quotes what was read.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from secret_chain.errors import SecretChainError

CONFIG_HELP = (
    "JSON as printed by `pulumi config --show-secrets --json` (- for stdin); default: run that command for --stack when the pulumi CLI is on PATH"
)


def stack(value: str) -> str:
    """Argparse type of --stack: production, preview-base or preview-pr-<N>."""
    from secret_chain.chain import parse_stack
    from secret_chain.validators import Invalid

    try:
        return parse_stack(value, bootstrap=True).name
    except Invalid as err:
        from secret_chain.validators import shown

        # Quoted shortened and escaped (validators.shown): an error is one line, and a control character would split it.
        raise argparse.ArgumentTypeError(f"{shown(value) or 'the value'} {err}") from None


def read_text(source: str, what: str) -> str:
    """The text of file ``source``, or of stdin for ``-``."""
    if source == "-" and sys.stdin is None:  # started with stdin closed (<&-)
        raise SecretChainError(f"cannot read {what} from standard input: it is closed")
    try:
        return sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise SecretChainError(f"cannot read {what} {source}: {reason}") from None


MAX_JSON_DEPTH = 200
"""The deepest nesting of arrays and objects read. ``pulumi config --json`` and ``pulumi stack export`` nest a few dozen
levels at most (a CRD's schema in state); a deeper document is refused as it is read, because the code that walks it
(``json.dumps`` of an object value, the checks) recurses once per level, and Python stops at its recursion limit
(``sys.getrecursionlimit()``, 1000 by default) with a ``RecursionError``."""


def parse_json(text: str, what: str) -> Any:
    """``text`` as JSON; an error gives the position only, never what the document holds.

    Two more documents are refused with one line: one nested deeper than :data:`MAX_JSON_DEPTH` (``json.loads`` itself
    raises ``RecursionError`` past the recursion limit), and one holding an integer of more digits than Python converts
    (``sys.get_int_max_str_digits()``, 4300 by default: ``json.loads`` raises ``ValueError``; Python docs, "Integer string
    conversion length limitation"). Neither is anything Pulumi writes.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        # The position only: the message of a JSON error can quote the document, which may hold secrets.
        raise SecretChainError(f"{what} is not valid JSON (line {err.lineno}, column {err.colno})") from None
    except RecursionError:
        raise SecretChainError(f"{what} is nested too deeply: more than {MAX_JSON_DEPTH} levels of arrays and objects") from None
    except ValueError:  # the only other ValueError of json.loads: an integer past int_max_str_digits
        limit = sys.get_int_max_str_digits()
        raise SecretChainError(f"{what} holds an integer of more than {limit} digits, which Python does not read (int_max_str_digits)") from None
    if _depth(document) > MAX_JSON_DEPTH:
        raise SecretChainError(f"{what} is nested too deeply: more than {MAX_JSON_DEPTH} levels of arrays and objects")
    return document


def _depth(document: Any) -> int:
    """How deep arrays and objects nest in ``document`` (0 for a scalar), found without recursion."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if level > MAX_JSON_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


NOT_FOUND = "Error from server (NotFound): "
"""How kubectl prints the API server's 404 for an object (kubernetes staging/src/k8s.io/kubectl/pkg/cmd/util/helpers.go
``StandardErrorMessage``: ``fmt.Sprintf("Error from server (%s): %s", s.Reason, err.Error())``, reason ``NotFound``).
Only that is a missing CRD: kubectl's own errors say "not found" too (``context was not found for specified context``)."""


def kubectl_crd(name: str, context: str | None) -> dict[str, Any] | None:
    """``kubectl get crd NAME -o json`` (None when the cluster has no such CRD): what the running cluster serves.

    Any other failure (kubectl missing, an unknown context, an unreachable cluster) raises: the cluster was not read.
    """
    exe = shutil.which("kubectl")
    if exe is None:
        raise SecretChainError("--cluster reads the running cluster's CRDs with kubectl, which is not on PATH")
    command = [exe, "get", "crd", name, "-o", "json", *(["--context", context] if context else [])]
    try:
        # stdin closed: kubectl asks for a user name on a terminal when the kubeconfig names none (seen: "Please enter
        # Username:"), which would hang a check that is meant to read only.
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise SecretChainError(f"cannot run kubectl: {getattr(err, 'strerror', None) or 'timed out'}") from None
    if result.returncode != 0:
        if NOT_FOUND in result.stderr:
            return None
        detail = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit status {result.returncode}"
        raise SecretChainError(f"`kubectl get crd {name}` failed: {detail}")
    document = parse_json(result.stdout, f"`kubectl get crd {name}` output")
    return document if isinstance(document, dict) else None


def run_pulumi_config(stack: str) -> str:
    """``pulumi config --show-secrets --json --stack S``, with progress on stderr while it runs."""
    exe = shutil.which("pulumi")
    if exe is None:
        raise SecretChainError("the pulumi CLI is not on PATH: pass the config with --config FILE (or - for stdin)")
    command = [exe, "config", "--show-secrets", "--json", "--stack", stack]
    done = threading.Event()
    tty = sys.stderr.isatty()

    def progress() -> None:
        for frame in itertools.cycle("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"):
            if done.wait(0.1):
                break
            sys.stderr.write(f"\r{frame} reading config of stack {stack} (pulumi config)…")
            sys.stderr.flush()
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()

    if tty:
        spinner = threading.Thread(target=progress, daemon=True)
        spinner.start()
    else:
        print(f"reading config of stack {stack} (pulumi config)…", file=sys.stderr)
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as err:
        raise SecretChainError(f"cannot run the pulumi CLI: {err.strerror}") from None
    finally:
        done.set()
        if tty:
            spinner.join()
    if result.returncode != 0:
        # pulumi's stderr names the stack and the problem; stdout (which may hold values) is never shown.
        detail = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit status {result.returncode}"
        raise SecretChainError(f"`pulumi config --json --stack {stack}` failed: {detail}")
    return result.stdout


def load_config(args: argparse.Namespace) -> tuple[dict[str, str], list[str]]:
    """The stack's config and secret keys, from ``--config`` (a file or stdin) or ``pulumi config`` of ``--stack``."""
    from secret_chain.ops.offline import parse_config

    if args.config is not None:
        what = "config from stdin" if args.config == "-" else f"config file {args.config}"
        text = read_text(args.config, "config file")
    else:
        what = f"`pulumi config` output of stack {args.stack}"
        text = run_pulumi_config(args.stack)
    return parse_config(parse_json(text, what))
