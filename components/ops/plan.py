"""Render an evaluation as what ``pulumi up`` would create, with every secret value redacted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components import catalog, parts
from components.kube import CONFIG_KEYS_ANNOTATION
from components.ops.offline import Evaluation, Registration, is_secret, unwrap


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
                out.append(Link(key, target, catalog.get(key).consumers))
        elif reg.type.startswith("github:index/actions"):
            name = reg.inputs.get("secretName") or reg.inputs.get("variableName")
            if name is None:
                continue  # the repository-access resources of organisation secrets carry no value
            from components.github_actions import BY_GITHUB_NAME

            entry = BY_GITHUB_NAME[str(name)]
            kind = "secret" if entry.secret else "variable"
            where = reg.inputs.get("environment")
            scope = f"environment {where}" if where else ("organisation" if "Organization" in reg.type else "repository")
            out.append(Link(entry.config_key, f"GitHub Actions {kind} {name} ({scope})", catalog.get(entry.config_key).consumers))
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
