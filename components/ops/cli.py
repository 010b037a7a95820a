"""Command line: ``secret-chain`` (or ``python -m components``).

Commands: ``preflight`` (check a stack's config before ``pulumi up``), ``inventory`` (the catalog as
the runbook's tables), ``plan`` (offline render of what ``pulumi up`` would create) and ``rotation``
(what is due or overdue in a ``pulumi stack export``). No command ever prints a secret value.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from components.errors import SecretChainError

EXAMPLES = """examples:
  secret-chain preflight --stack production                      # reads `pulumi config` of the stack
  secret-chain preflight --stack preview-pr-42 --config config.json --json
  secret-chain inventory --environment production
  secret-chain inventory --readme README.md                      # rewrite the README's secrets section
  secret-chain inventory --rotation-doc docs/rotation.md         # rewrite the rotation guide
  secret-chain plan --stack production --config examples/config/production.json --manifests out/
  pulumi config --show-secrets --json --stack production | secret-chain plan --stack production --config -
  pulumi stack export --stack production > state.json && secret-chain rotation --state state.json
"""

PREFLIGHT_EXAMPLES = """examples:
  secret-chain preflight --stack production
  secret-chain preflight --stack preview-base --config preview.json
  pulumi config --show-secrets --json --stack production | secret-chain preflight --stack production --config -

Exit status: 0 when the config is ready, 1 when something is missing or malformed, 2 on bad arguments.
"""

INVENTORY_EXAMPLES = """examples:
  secret-chain inventory
  secret-chain inventory --environment preview --json
  secret-chain inventory --readme README.md --rotation-doc docs/rotation.md
"""

PLAN_EXAMPLES = """examples:
  secret-chain plan --stack production --config examples/config/production.json
  secret-chain plan --stack preview-pr-42 --config examples/config/preview.json --json
  secret-chain plan --stack production --manifests out/   # one YAML file per Kubernetes object, secrets as placeholders
"""

ROTATION_EXAMPLES = """examples:
  pulumi stack export --stack production > state.json
  secret-chain rotation --state state.json
  secret-chain rotation --state state.json --warn-days 30 --json
  secret-chain rotation --state state.json --now 2026-06-01

Exit status: 0 when nothing is overdue, 1 when something is overdue, 2 on bad arguments.
"""

CONFIG_HELP = (
    "JSON as printed by `pulumi config --show-secrets --json` (- for stdin); default: run that command for --stack when the pulumi CLI is on PATH"
)


def _stack(value: str) -> str:
    """Argparse type of --stack: production, preview-base or preview-pr-<N>."""
    from components.chain import parse_stack
    from components.validators import Invalid

    try:
        return parse_stack(value).name
    except Invalid as err:
        from components.validators import shown

        # Quoted shortened and escaped (validators.shown): an error is one line, and a control character would split it.
        raise argparse.ArgumentTypeError(f"{shown(value) or 'the value'} {err}") from None


MAX_WARN_DAYS = 3650
"""--warn-days above ten years says nothing a rotation schedule (at most annual) can use, and a date that far out
overflows Python's datetime."""


def _non_negative(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("is not a whole number of days") from None
    if not 0 <= number <= MAX_WARN_DAYS:
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_WARN_DAYS} days")
    return number


def _esc_environment(value: str) -> str:
    """Argparse type of --esc-environment: pasted into printed commands, so only a valid reference passes."""
    from components.validators import Invalid, esc_environment

    try:
        return esc_environment(value)
    except Invalid as err:
        raise argparse.ArgumentTypeError(str(err)) from None


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


def _read_text(source: str, what: str) -> str:
    try:
        return sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise SecretChainError(f"cannot read {what} {source}: {reason}") from None


def _parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        # The position only: the message of a JSON error can quote the document, which may hold secrets.
        raise SecretChainError(f"{what} is not valid JSON (line {err.lineno}, column {err.colno})") from None


def _kubectl_crd(name: str, context: str | None) -> dict[str, Any] | None:
    """``kubectl get crd NAME -o json`` (None when the cluster has no such CRD): what the running cluster serves."""
    exe = shutil.which("kubectl")
    if exe is None:
        raise SecretChainError("--cluster reads the running cluster's CRDs with kubectl, which is not on PATH")
    command = [exe, "get", "crd", name, "-o", "json", *(["--context", context] if context else [])]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise SecretChainError(f"cannot run kubectl: {getattr(err, 'strerror', None) or 'timed out'}") from None
    if result.returncode != 0:
        if "NotFound" in result.stderr or "not found" in result.stderr:
            return None
        detail = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit status {result.returncode}"
        raise SecretChainError(f"`kubectl get crd {name}` failed: {detail}")
    document = _parse_json(result.stdout, f"`kubectl get crd {name}` output")
    return document if isinstance(document, dict) else None


def _run_pulumi_config(stack: str) -> str:
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


def _load_config(args: argparse.Namespace) -> tuple[dict[str, str], list[str]]:
    from components.ops.offline import parse_config

    if args.config is not None:
        what = "config from stdin" if args.config == "-" else f"config file {args.config}"
        text = _read_text(args.config, "config file")
    else:
        what = f"`pulumi config` output of stack {args.stack}"
        text = _run_pulumi_config(args.stack)
    return parse_config(_parse_json(text, what))


def cmd_preflight(args: argparse.Namespace) -> int:
    """Check the stack's config against the catalog; exit 1 when anything is wrong."""
    from components import preflight

    config, secret_keys = _load_config(args)
    report = preflight.check(config, secret_keys, args.stack)
    if args.cluster:
        from components.upstream import served_api_problems

        app_mode = "flux:githubAppId" in report.checked
        for line in served_api_problems(set(report.built), app_mode, lambda name: _kubectl_crd(name, args.context)):
            report.problems.append(preflight.Problem("cluster", "cluster", line, "", ""))
    if args.json:
        print(json.dumps(report.as_json(), indent=2, sort_keys=True))
    else:
        sys.stdout.write(preflight.render_text(report))
    return 0 if report.ok else 1


def cmd_inventory(args: argparse.Namespace) -> int:
    """Print the catalog as the runbook's tables, or rewrite the README block and/or the rotation guide."""
    from components import inventory

    if args.readme is not None or args.rotation_doc is not None:
        if args.environment or args.json:
            raise SecretChainError("--readme and --rotation-doc write whole documents: do not combine them with --environment or --json")
        if args.readme is not None:
            changed = inventory.sync_readme(Path(args.readme))
            print(f"{args.readme}: secret inventory {'updated' if changed else 'already up to date'}")
        if args.rotation_doc is not None:
            changed = inventory.sync_rotation_doc(Path(args.rotation_doc))
            print(f"{args.rotation_doc}: rotation guide {'updated' if changed else 'already up to date'}")
        return 0
    if args.json:
        print(json.dumps(inventory.as_json(args.environment), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        sys.stdout.write(inventory.render_markdown(args.environment))
    return 0


def _api_version_kind(type_: str) -> tuple[str, str]:
    """``kubernetes:core/v1:Secret`` → (v1, Secret); ``kubernetes:monitoring.coreos.com/v1:ServiceMonitor`` → (group/v1, kind)."""
    _, group_version, kind = type_.split(":", 2)
    group, _, version = group_version.rpartition("/")
    return (version if group in ("core", "") else f"{group}/{version}"), kind


def redacted_manifests(evaluation: Any) -> list[dict[str, Any]]:
    """Each Kubernetes object registered, with every secret value replaced by ``<secret:KEYS>``."""
    from components.kube import CONFIG_KEYS_ANNOTATION
    from components.ops.offline import is_secret, redact, unwrap

    objects = []
    for reg in evaluation.resources:
        if not reg.type.startswith("kubernetes:"):
            continue
        meta = reg.inputs.get("metadata")
        annotations = meta.get("annotations") if isinstance(meta, dict) else None
        keys = annotations.get(CONFIG_KEYS_ANNOTATION) if isinstance(annotations, dict) else None
        placeholder = f"<secret:{keys}>" if isinstance(keys, str) and keys else "[secret]"
        inputs = dict(reg.inputs)
        for prop in ("stringData", "data"):
            value = inputs.get(prop)
            if is_secret(value) and isinstance(unwrap(value), dict):
                # Data keys are names, not values: keep them so the manifest still shows its shape.
                inputs[prop] = {str(k): placeholder for k in unwrap(value)}
        body = redact(inputs, placeholder)
        api_version, kind = _api_version_kind(reg.type)
        objects.append({"apiVersion": api_version, "kind": kind, **{k: v for k, v in body.items() if k not in ("apiVersion", "kind")}})
    return objects


def _write_manifests(evaluation: Any, directory: str) -> list[Path]:
    # PyYAML comes with pulumi; imported by name so that type checking does not need its stubs.
    yaml: Any = importlib.import_module("yaml")

    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SecretChainError(f"cannot create --manifests directory {directory}: {err.strerror}") from None
    written = []
    for obj in redacted_manifests(evaluation):
        meta = obj.get("metadata") or {}
        parts = [obj["kind"].lower(), str(meta.get("namespace", "")), str(meta.get("name", ""))]
        path = out / ("-".join(p for p in parts if p) + ".yaml")
        try:
            path.write_text(yaml.safe_dump(obj, sort_keys=True, default_flow_style=False), encoding="utf-8")
        except OSError as err:
            raise SecretChainError(f"cannot write {path}: {err.strerror}") from None
        written.append(path)
    return written


def cmd_plan(args: argparse.Namespace) -> int:
    """Evaluate the stack program offline and print what ``pulumi up`` would create."""
    from components import plan
    from components.errors import ConfigError
    from components.ops.offline import evaluate
    from components.program import main

    config, secret_keys = _load_config(args)
    try:
        evaluation = evaluate(main, config=config, secret_keys=secret_keys, stack=args.stack, preview=args.preview)
    except ConfigError as err:
        raise SecretChainError(f"the config of stack {args.stack} is not valid (run `secret-chain preflight`):\n{err}") from None
    written = _write_manifests(evaluation, args.manifests) if args.manifests else []
    if args.json:
        data = plan.render_json(evaluation)
        if args.manifests:
            data["manifests"] = [str(p) for p in written]
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        sys.stdout.write(plan.render_text(evaluation))
        if args.manifests:
            print(f"\nWrote {len(written)} manifest(s) to {args.manifests} (secret values replaced by <secret:…> placeholders)")
    return 0


def cmd_rotation(args: argparse.Namespace) -> int:
    """Report due and overdue secrets from ``pulumi stack export``; exit 1 when something is overdue."""
    from components import rotation

    now = rotation.parse_time(args.now, "--now") if args.now else datetime.now(UTC)
    source = "stdin" if args.state == "-" else args.state
    resources = rotation.load_resources(_parse_json(_read_text(args.state, "state file"), f"state file {source}"), source)
    items = rotation.scan(resources, now, args.warn_days)
    environment = rotation.environment_for(resources, args.esc_environment)
    if args.json:
        report = {
            "now": now.isoformat(),
            "warnDays": args.warn_days,
            "escEnvironment": environment,
            "overdue": sum(1 for i in items if i.status == "overdue"),
            "due": sum(1 for i in items if i.status == "due"),
            "items": [i.as_json(environment) for i in items],
        }
        print(json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        sys.stdout.write(rotation.render_text(items, environment, now, args.warn_days))
    return 1 if any(i.status == "overdue" for i in items) else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="secret-chain",
        description="Provision and check the GitHub → Pulumi ESC → Kubernetes secret chain.",
        epilog=EXAMPLES,
        formatter_class=raw,
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser(
        "preflight",
        help="check a stack's config against the catalog before `pulumi up` (missing, malformed, wrong kind)",
        description="Check every key the config enables: missing, malformed or of the wrong kind, each with the exact fix.",
        epilog=PREFLIGHT_EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument("--stack", required=True, type=_stack, help="production, preview-base or preview-pr-<N>")
    p.add_argument("--config", help=CONFIG_HELP)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument(
        "--cluster",
        action="store_true",
        help="also check, with kubectl, that the running cluster serves the CRD versions the built parts write (components/upstream.py)",
    )
    p.add_argument("--context", help="kubeconfig context for --cluster (default: kubectl's current context)")
    p.set_defaults(func=cmd_preflight)

    p = sub.add_parser(
        "inventory",
        help="print the secret catalog as the runbook's tables (Markdown or JSON)",
        description="The catalog as tables: GitHub secrets, ESC values, stack settings, flows and rotation.",
        epilog=INVENTORY_EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument("--environment", choices=("preview", "production"), help="only the values this ESC environment carries")
    p.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    p.add_argument("--readme", metavar="FILE", help="rewrite the block between the secret-inventory markers of FILE")
    p.add_argument("--rotation-doc", metavar="FILE", help="write the rotation guide (every secret's rotation steps) to FILE")
    p.set_defaults(func=cmd_inventory)

    p = sub.add_parser(
        "plan",
        help="show what `pulumi up` would create for a stack, offline (mock runtime), secrets redacted",
        description="Evaluate the stack program offline with the stack's config; no cloud, cluster or credentials.",
        epilog=PLAN_EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument("--stack", required=True, type=_stack, help="production, preview-base or preview-pr-<N>")
    p.add_argument("--config", help=CONFIG_HELP)
    p.add_argument("--preview", action="store_true", help="evaluate in preview mode instead of update mode")
    p.add_argument("--manifests", metavar="DIR", help="also write each Kubernetes object as YAML to DIR, secrets as placeholders")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser(
        "rotation",
        help="list secrets due or overdue for rotation, from `pulumi stack export` state",
        description="Compare each chain secret's last modification in the state with the catalog's rotation schedule.",
        epilog=ROTATION_EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument("--state", required=True, metavar="FILE", help="`pulumi stack export` JSON (- for stdin)")
    p.add_argument("--warn-days", type=_non_negative, default=14, help="report as due this many days ahead (default 14)")
    p.add_argument("--now", help="evaluate at this ISO date/time instead of now (e.g. 2026-06-01)")
    p.add_argument("--esc-environment", type=_esc_environment, help="ESC environment named in fix commands (default: from the stack in the state)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_rotation)
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
        if argv is None and "components.ops.offline" in sys.modules:
            # Run as the program (arguments from sys.argv): close the SDK's event loop now, not at interpreter exit
            # (see offline.close_event_loop). Called in-process with arguments, the caller's loop is left alone.
            sys.modules["components.ops.offline"].close_event_loop()
