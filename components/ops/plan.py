"""Render an evaluation as what ``pulumi up`` would create, with every secret value redacted."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components import catalog, parts
from components.errors import ConfigError, SecretChainError
from components.kube import CONFIG_KEYS_ANNOTATION
from components.ops import _io, runbook
from components.ops.offline import Evaluation, Registration, evaluate, is_secret, redact, unwrap


@dataclass(frozen=True)
class Row:
    """One resource: its Pulumi type, logical name and (for Kubernetes objects) namespace/name."""

    type: str
    name: str
    namespace: str
    object_name: str


@dataclass(frozen=True)
class Link:
    """One link of the chain: config key → where it lands → who reads it."""

    config_key: str
    target: str
    consumers: str


@dataclass(frozen=True)
class PartRow:
    """One component of the table of parts: built by this evaluation or not, and why not."""

    part: str
    built: bool
    why: str


def part_rows(evaluation: Evaluation) -> list[PartRow]:
    """Each component of the table of parts (:mod:`components.parts`): built here, or why not."""
    built = evaluation.stack_outputs.get("parts")
    built = built if isinstance(built, list) else []
    kind = parts.kind_of(evaluation.stack)
    out = []
    for part in parts.COMPONENTS:
        if part.name in built:
            out.append(PartRow(part.name, True, ""))
        elif kind not in part.kinds:
            out.append(PartRow(part.name, False, f"{kind.label} stacks never build it"))
        else:
            out.append(PartRow(part.name, False, f"not declared in {parts.PARTS_KEY} (or, where nothing is declared, not configured)"))
    return out


def rows(evaluation: Evaluation) -> list[Row]:
    """The resources an evaluation registered, sorted by type and name."""
    out = []
    for reg in evaluation.resources:
        meta = reg.inputs.get("metadata") if reg.type.startswith("kubernetes:") else None
        meta = meta if isinstance(meta, dict) else {}
        out.append(Row(reg.type, reg.name, str(meta.get("namespace", "")), str(meta.get("name", ""))))
    return sorted(out, key=lambda r: (r.type, r.name))


def _data_keys(reg: Registration) -> list[str]:
    keys: list[str] = []
    for prop in ("stringData", "data"):
        value = reg.inputs.get(prop)
        value = unwrap(value)
        if isinstance(value, dict):
            keys.extend(str(k) for k in value)
    return sorted(keys)


def links(evaluation: Evaluation) -> list[Link]:
    """The chain of every configured value, derived from what was registered."""
    out: list[Link] = []
    for reg in evaluation.resources:
        if reg.type == "kubernetes:core/v1:Secret":
            meta = reg.inputs.get("metadata", {})
            keys = str(meta.get("annotations", {}).get(CONFIG_KEYS_ANNOTATION, ""))
            target = f"Secret {meta.get('namespace')}/{meta.get('name')} [{', '.join(_data_keys(reg))}]"
            for key in filter(None, keys.split(",")):
                out.append(Link(key, target, runbook.of(catalog.get(key)).consumers))
        elif reg.type.startswith("github:index/actions"):
            name = reg.inputs.get("secretName") or reg.inputs.get("variableName")
            if name is None:
                continue  # the repository-access resources of organisation secrets carry no value
            from components.github_actions import BY_GITHUB_NAME

            entry = BY_GITHUB_NAME[str(name)]
            kind = "secret" if entry.secret else "variable"
            where = reg.inputs.get("environment")
            scope = f"environment {where}" if where else ("organisation" if "Organization" in reg.type else "repository")
            out.append(Link(entry.config_key, f"GitHub Actions {kind} {name} ({scope})", runbook.of(catalog.get(entry.config_key)).consumers))
    return sorted(set(out), key=lambda link: (link.config_key, link.target))


def render_text(evaluation: Evaluation) -> str:
    """Human-readable plan: a resource table and the chain of each value. Never contains a secret."""
    table = rows(evaluation)
    width_type = max([len(r.type) for r in table] + [4])
    width_name = max([len(r.name) for r in table] + [4])
    mode = "preview" if evaluation.preview else "update"
    lines = [f"Stack {evaluation.stack} ({mode}, offline): {len(table)} resources would be created", ""]
    lines.append(f"{'TYPE':<{width_type}}  {'NAME':<{width_name}}  NAMESPACE/OBJECT")
    for r in table:
        where = f"{r.namespace}/{r.object_name}" if r.namespace else r.object_name
        lines.append(f"{r.type:<{width_type}}  {r.name:<{width_name}}  {where}")
    lines += ["", "Parts (components/parts.py):"]
    for part in part_rows(evaluation):
        lines.append(f"  {'✓' if part.built else '·'} {part.part}" + (f" — {part.why}" if part.why else ""))
    lines += ["", "Secret chain (ESC key → where it lands → who reads it); values are never shown:"]
    for link in links(evaluation):
        lines.append(f"  {link.config_key}\n    → {link.target}\n    → {link.consumers}")
    if evaluation.stack_outputs:
        lines += ["", "Outputs:"]
        for key, value in evaluation.stack_outputs.items():
            lines.append(f"  {key}: {'[secret]' if is_secret(value) else value}")
    return "\n".join(lines) + "\n"


def render_json(evaluation: Evaluation) -> dict[str, Any]:
    """Machine-readable plan (same content as :func:`render_text`)."""
    return {
        "stack": evaluation.stack,
        "preview": evaluation.preview,
        "resources": [r.__dict__ for r in rows(evaluation)],
        "parts": [p.__dict__ for p in part_rows(evaluation)],
        "chain": [link.__dict__ for link in links(evaluation)],
        "outputs": {k: ("[secret]" if is_secret(v) else v) for k, v in evaluation.stack_outputs.items()},
    }


def evaluate_stack(config: dict[str, str], secret_keys: list[str], stack: str, *, preview: bool = False) -> Evaluation:
    """The stack program evaluated offline with ``config``; an invalid config is one error that says to run preflight."""
    from components.program import main as program

    try:
        return evaluate(program, config=config, secret_keys=secret_keys, stack=stack, preview=preview)
    except ConfigError as err:
        raise SecretChainError(f"the config of stack {stack} is not valid (run `secret-chain preflight`):\n{err}") from None


def _api_version_kind(type_: str) -> tuple[str, str]:
    """``kubernetes:core/v1:Secret`` → (v1, Secret); ``kubernetes:monitoring.coreos.com/v1:ServiceMonitor`` → (group/v1, kind)."""
    _, group_version, kind = type_.split(":", 2)
    group, _, version = group_version.rpartition("/")
    return (version if group in ("core", "") else f"{group}/{version}"), kind


def redacted_manifests(evaluation: Evaluation) -> list[dict[str, Any]]:
    """Each Kubernetes object registered, with every secret value replaced by ``<secret:KEYS>``."""
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


def write_manifests(evaluation: Evaluation, directory: str) -> list[Path]:
    """Write each redacted Kubernetes object as YAML to ``directory`` (one file per object); the paths written."""
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
        parts_ = [obj["kind"].lower(), str(meta.get("namespace", "")), str(meta.get("name", ""))]
        path = out / ("-".join(p for p in parts_ if p) + ".yaml")
        try:
            path.write_text(yaml.safe_dump(obj, sort_keys=True, default_flow_style=False), encoding="utf-8")
        except OSError as err:
            raise SecretChainError(f"cannot write {path}: {err.strerror}") from None
        written.append(path)
    return written


# --- the command: secret-chain plan ----------------------------------------------------------------

EXAMPLES = """examples:
  secret-chain plan --stack production --config examples/config/production.json
  secret-chain plan --stack preview-pr-42 --config examples/config/preview.json --json
  secret-chain plan --stack production --manifests out/   # one YAML file per Kubernetes object, secrets as placeholders
"""


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``plan`` to the command line."""
    p = subparsers.add_parser(
        "plan",
        help="show what `pulumi up` would create for a stack, offline (mock runtime), secrets redacted",
        description="Evaluate the stack program offline with the stack's config; no cloud, cluster or credentials.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--stack", required=True, type=_io.stack, help="production, preview-base or preview-pr-<N>")
    p.add_argument("--config", help=_io.CONFIG_HELP)
    p.add_argument("--preview", action="store_true", help="evaluate in preview mode instead of update mode")
    p.add_argument("--manifests", metavar="DIR", help="also write each Kubernetes object as YAML to DIR, secrets as placeholders")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Evaluate the stack program offline and print what ``pulumi up`` would create."""
    config, secret_keys = _io.load_config(args)
    evaluation = evaluate_stack(config, secret_keys, args.stack, preview=args.preview)
    written = write_manifests(evaluation, args.manifests) if args.manifests else []
    if args.json:
        data = render_json(evaluation)
        if args.manifests:
            data["manifests"] = [str(p) for p in written]
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        sys.stdout.write(render_text(evaluation))
        if args.manifests:
            print(f"\nWrote {len(written)} manifest(s) to {args.manifests} (secret values replaced by <secret:…> placeholders)")
    return 0
