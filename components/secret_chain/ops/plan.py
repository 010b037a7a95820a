"""Render an evaluation as what ``pulumi up`` would create, with every secret value redacted."""

from __future__ import annotations

import argparse
import base64
import dataclasses
import functools
import importlib
import json
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secret_chain import catalog, parts
from secret_chain.catalog import Key
from secret_chain.config import lookup
from secret_chain.errors import ConfigError, SecretChainError
from secret_chain.kube import CONFIG_KEYS_ANNOTATION
from secret_chain.ops import _io, runbook
from secret_chain.ops.offline import Evaluation, Registration, evaluate, is_secret, load_config_file, redact, unwrap
from secret_chain.validators import Invalid, printable

if TYPE_CHECKING:
    from secret_chain.github_actions import Entry


SECRET = "kubernetes:core/v1:Secret"


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
    """Each component of the table of parts (:mod:`secret_chain.parts`): built here, or why not."""
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


def _annotated(reg: Registration) -> list[str]:
    """The config keys a Secret's data comes from, as its ``secret-chain/config-keys`` annotation names them."""
    meta = reg.inputs.get("metadata", {})
    return [key for key in str(meta.get("annotations", {}).get(CONFIG_KEYS_ANNOTATION, "")).split(",") if key]


def actions_target(entry: Entry, scope: str) -> str:
    """``GitHub Actions secret NAME (scope)``: what GitHubActionsSecrets writes for ``entry``."""
    return f"GitHub Actions {'secret' if entry.secret else 'variable'} {entry.github_name} ({scope})"


def links(evaluation: Evaluation, reached: Mapping[tuple[str, str], Collection[str]] | None = None) -> list[Link]:
    """The chain of every configured value, derived from what was registered.

    ``reached``: for (Secret URN, config key), the data keys the key's value reaches (:func:`reached`); by default
    every data key of a Secret whose annotation names the key.
    """
    from secret_chain.github_actions import BY_GITHUB_NAME

    out: list[Link] = []
    for reg in evaluation.resources:
        if reg.type == SECRET:
            meta = reg.inputs.get("metadata", {})
            for key in _annotated(reg):
                data_keys = _data_keys(reg) if reached is None or (reg.urn, key) not in reached else sorted(reached[reg.urn, key])
                if data_keys:
                    target = f"Secret {meta.get('namespace')}/{meta.get('name')} [{', '.join(data_keys)}]"
                    out.append(Link(key, target, runbook.of(catalog.get(key)).consumers))
        elif reg.type.startswith("github:index/actions"):
            name = reg.inputs.get("secretName") or reg.inputs.get("variableName")
            if name is None:
                continue  # the repository-access resources of organisation secrets carry no value
            entry = BY_GITHUB_NAME[str(name)]
            where = reg.inputs.get("environment")
            scope = f"environment {where}" if where else ("organisation" if "Organization" in reg.type else "repository")
            out.append(Link(entry.config_key, actions_target(entry, scope), runbook.of(entry.key).consumers))
    return sorted(set(out), key=lambda link: (link.config_key, link.target))


def render_text(evaluation: Evaluation) -> str:
    """Human-readable plan: a resource table and the chain of each value. Never contains a secret."""
    table = [
        # Names and namespaces come from config: each escaped (validators.printable) before it is laid out.
        dataclasses.replace(r, type=printable(r.type), name=printable(r.name), namespace=printable(r.namespace), object_name=printable(r.object_name))
        for r in rows(evaluation)
    ]
    width_type = max([len(r.type) for r in table] + [4])
    width_name = max([len(r.name) for r in table] + [4])
    mode = "preview" if evaluation.preview else "update"
    lines = [f"Stack {evaluation.stack} ({mode}, offline): {len(table)} resources would be created", ""]
    lines.append(f"{'TYPE':<{width_type}}  {'NAME':<{width_name}}  NAMESPACE/OBJECT")
    for r in table:
        where = f"{r.namespace}/{r.object_name}" if r.namespace else r.object_name
        lines.append(f"{r.type:<{width_type}}  {r.name:<{width_name}}  {where}")
    lines += ["", "Parts (components/secret_chain/parts.py):"]
    for part in part_rows(evaluation):
        lines.append(f"  {'✓' if part.built else '·'} {part.part}" + (f" — {printable(part.why)}" if part.why else ""))
    lines += ["", "Secret chain (ESC key → where it lands → who reads it); values are never shown:"]
    for link in links(evaluation):
        lines.append(f"  {link.config_key}\n    → {printable(link.target)}\n    → {printable(link.consumers)}")
    if evaluation.stack_outputs:
        lines += ["", "Outputs:"]
        for key, value in evaluation.stack_outputs.items():
            lines.append(f"  {printable(key)}: {'[secret]' if is_secret(value) else printable(str(value))}")
    return "\n".join(lines) + "\n"


def render_json(evaluation: Evaluation) -> dict[str, Any]:
    """Machine-readable plan (same content as :func:`render_text`).

    Its keys are camelCase, as every command's ``--json`` (and Pulumi's own JSON: ``pulumi stack export``,
    ``pulumi config --json``'s ``objectValue``). ``outputs`` holds the stack's outputs as the program exports them:
    their names are camelCase, and what a value holds (a component's name, an annotation key) is data, copied as it is.
    """
    return {
        "stack": evaluation.stack,
        "preview": evaluation.preview,
        "resources": [{"type": r.type, "name": r.name, "namespace": r.namespace, "objectName": r.object_name} for r in rows(evaluation)],
        "parts": [{"part": p.part, "built": p.built, "why": p.why} for p in part_rows(evaluation)],
        "chain": [{"configKey": link.config_key, "target": link.target, "consumers": link.consumers} for link in links(evaluation)],
        "outputs": {k: ("[secret]" if is_secret(v) else v) for k, v in evaluation.stack_outputs.items()},
    }


def evaluate_stack(config: dict[str, str], secret_keys: list[str], stack: str, *, preview: bool = False) -> Evaluation:
    """The stack program evaluated offline with ``config``; an invalid config is one error that says to run preflight."""
    from secret_chain.program import main as program

    try:
        return evaluate(program, config=config, secret_keys=secret_keys, stack=stack, preview=preview)
    except ConfigError as err:
        raise SecretChainError(f"the config of stack {stack} is not valid (run `secret-chain preflight`):\n{err}") from None


def _api_version_kind(type_: str) -> tuple[str, str]:
    """``kubernetes:core/v1:Secret`` → (v1, Secret); ``kubernetes:monitoring.coreos.com/v1:ServiceMonitor`` → (group/v1, kind)."""
    _, group_version, kind = type_.split(":", 2)
    group, _, version = group_version.rpartition("/")
    return (version if group in ("core", "") else f"{group}/{version}"), kind


JSON_DATA_KEYS = {"kubernetes.io/dockerconfigjson": ".dockerconfigjson", "kubernetes.io/dockercfg": ".dockercfg"}
"""The Secret types whose one data key must hold a JSON object, and that key.

The API server refuses such a Secret otherwise (kubernetes pkg/apis/core/validation/validation.go ``ValidateSecret``:
``json.Unmarshal(dockerConfigJSONBytes, &map[string]interface{}{})``, "Invalid value: \"<secret contents redacted>\"").
"""
REGISTRY_PLACEHOLDER = "<registry>"
"""The registry named in a ``.dockerconfigjson`` skeleton whose value is not known (a preview)."""


def json_skeleton(value: object, placeholder: str) -> str:
    """A redacted JSON document with ``value``'s shape: its keys kept, every scalar replaced by ``placeholder``.

    ``value``: the document's text (a ``.dockerconfigjson``). Keys are names (a registry, ``auths``, ``username``),
    never values; a document that is not a JSON object (an unknown of a preview) becomes the shape the kubelet reads,
    ``{"auths": {"<registry>": {"auth": …}}}`` (kubernetes pkg/credentialprovider/config.go ``DockerConfigJSON``).
    """

    def scrub(node: object) -> object:
        if isinstance(node, dict):
            return {str(k): scrub(v) for k, v in node.items()}
        if isinstance(node, list):
            return [scrub(v) for v in node]
        return placeholder

    try:
        document = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        document = {"auths": {REGISTRY_PLACEHOLDER: {"auth": None}}}
    return json.dumps(scrub(document), sort_keys=True, separators=(",", ":"))


def _redacted_secret(inputs: dict[str, Any], placeholder: str) -> dict[str, Any]:
    """A Secret's ``data`` and ``stringData`` as a manifest an API server accepts, every secret value a placeholder.

    A placeholder in ``data`` is refused: ``data`` values are base64 (the API server answers 400 "illegal base64 data").
    So each secret value goes to ``stringData``, which takes any string and which the server merges into ``data``
    (kubernetes pkg/apis/core/v1/conversion.go ``Convert_v1_Secret_To_core_Secret``), under its own key. A key that
    must hold JSON (:data:`JSON_DATA_KEYS`) gets a skeleton of the real document (:func:`json_skeleton`). A value that
    is not secret stays where it was.
    """
    secret_type = unwrap(inputs.get("type"))
    json_key = JSON_DATA_KEYS.get(secret_type) if isinstance(secret_type, str) else None
    data: dict[str, Any] = {}
    string_data: dict[str, Any] = {}
    for prop, kept in (("data", data), ("stringData", string_data)):
        value = inputs.get(prop)
        entries = unwrap(value)
        if not isinstance(entries, dict):
            continue
        whole = is_secret(value)
        items = entries.items() if whole or not isinstance(value, dict) else value.items()
        for key, item in items:
            if not (whole or is_secret(item)):
                kept[str(key)] = redact(item, placeholder)
                continue
            plain = unwrap(item)
            if key == json_key:
                if prop == "data" and isinstance(plain, str):
                    try:
                        plain = base64.b64decode(plain, validate=True).decode()
                    except (ValueError, UnicodeDecodeError):
                        plain = None
                string_data[str(key)] = json_skeleton(plain, placeholder)
            else:
                string_data[str(key)] = placeholder
    out = {k: v for k, v in inputs.items() if k not in ("data", "stringData")}
    out = redact(out, placeholder)
    if data:
        out["data"] = data
    if string_data:
        out["stringData"] = string_data
    return dict(out)


def redacted_manifests(evaluation: Evaluation) -> list[dict[str, Any]]:
    """Each Kubernetes object registered, with every secret value replaced by ``<secret:KEYS>``.

    A Secret's secret values are in ``stringData`` (:func:`_redacted_secret`), so ``kubectl apply --dry-run=server``
    accepts every manifest as written.
    """
    objects = []
    for reg in evaluation.resources:
        if not reg.type.startswith("kubernetes:"):
            continue
        meta = reg.inputs.get("metadata")
        annotations = meta.get("annotations") if isinstance(meta, dict) else None
        keys = annotations.get(CONFIG_KEYS_ANNOTATION) if isinstance(annotations, dict) else None
        placeholder = f"<secret:{keys}>" if isinstance(keys, str) and keys else "[secret]"
        if reg.type == SECRET:
            body = _redacted_secret(dict(reg.inputs), placeholder)
        else:
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
    p.add_argument("--stack", required=True, type=_io.stack, help="production, preview-base, preview-pr-<N> or bootstrap")
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


# --- where each value flows: derived from the example stacks' registrations ---------------------------

EXAMPLE_CONFIGS = Path(__file__).resolve().parents[3] / "examples" / "config"
"""The example configs (``pulumi config --json`` form) the flows are derived from, in a checkout (:func:`derive_flows`)."""
FLOWS_FILE = "flows.json"
"""The flows as package data of ``secret_chain.ops`` (pyproject.toml ``[tool.setuptools.package-data]``): an installed
wheel has no ``examples/`` folder, so :func:`flows` reads what :func:`derive_flows` found in the checkout (``make esc``
writes it; tests/test_cli_installed.py keeps the two equal)."""
EXAMPLE_STACKS = (("production", "production.json"), ("preview-base", "preview.json"), ("preview-pr-1", "preview.json"))
"""Each stack kind, with the example config it is evaluated with."""
PR_STACK = "preview-pr-<N>"


def _data_value(reg: Registration, data_key: str) -> object:
    """The value of one data key of a Secret (decoded when it is in ``data``); compared, never shown."""
    string_data = unwrap(reg.inputs.get("stringData"))
    if isinstance(string_data, dict) and data_key in string_data:
        return unwrap(string_data[data_key])
    data = unwrap(reg.inputs.get("data"))
    value = unwrap(data.get(data_key)) if isinstance(data, dict) else None
    return base64.b64decode(value).decode(errors="replace") if isinstance(value, str) else value


def other_value(entry: Key, config: Mapping[str, str]) -> dict[str, str] | None:
    """``config`` with ``entry``'s value replaced by another of the same shape (one letter or digit changed), or None.

    The stand-in is checked with the key's own format check; a value no single change keeps valid (a PEM key) has none.
    """
    try:
        found = lookup(entry, config.get)
    except Invalid:
        return None
    if found is None:
        return None
    used, value = found
    tries = 0
    for index in reversed(range(len(value))):
        char = value[index]
        if not char.isascii() or not char.isalnum():
            continue
        tries += 1
        if tries > 24:
            break
        swap = str((int(char) + 1) % 10) if char.isdigit() else chr(ord(char) + 1) if char not in "zZ" else chr(ord(char) - 1)
        candidate = value[:index] + swap + value[index + 1 :]
        try:
            if entry.shape(candidate) == entry.shape(value):
                continue
        except Invalid:
            continue
        out = dict(config)
        if entry.field:
            document = json.loads(config[entry.config_key])
            document[entry.field] = candidate
            out[entry.config_key] = json.dumps(document)
        else:
            out[used] = candidate
        return out
    return None


def _evaluated(config: Mapping[str, str], secret_keys: list[str], stack: str) -> Evaluation | None:
    from secret_chain.program import main as program

    try:
        return evaluate(program, config=config, secret_keys=secret_keys, stack=stack)
    except SecretChainError:
        return None


def reached(
    evaluation: Evaluation, config: Mapping[str, str], secret_keys: list[str], keys: Collection[str] | None = None
) -> dict[tuple[str, str], set[str]]:
    """For each (Secret URN, config key) of a Secret with several data keys: the data keys the key's value reaches.

    Found by evaluating again with the key's value changed (:func:`other_value`) and comparing each data key's value
    (values are compared here and never leave this function). A key with no stand-in value (a PEM key) reaches the
    data keys that hold exactly its normalised value. ``keys``: trace only these.
    """
    secrets = [r for r in evaluation.resources if r.type == SECRET and len(_data_keys(r)) > 1]
    out: dict[tuple[str, str], set[str]] = {}
    for key in sorted({k for r in secrets for k in _annotated(r)}):
        if keys is not None and key not in keys:
            continue
        entry = catalog.get(key)
        changed = other_value(entry, config)
        other = _evaluated(changed, secret_keys, evaluation.stack) if changed is not None else None
        by_urn = {r.urn: r for r in other.resources} if other is not None else {}
        for reg in (r for r in secrets if key in _annotated(r)):
            if reg.urn in by_urn:
                out[reg.urn, key] = {d for d in _data_keys(reg) if _data_value(reg, d) != _data_value(by_urn[reg.urn], d)}
                continue
            found = lookup(entry, config.get)
            normalised = entry.shape(found[1]) if found is not None else None
            out[reg.urn, key] = {d for d in _data_keys(reg) if _data_value(reg, d) == normalised}
    return out


def _variants(config: dict[str, str], secret_keys: list[str]) -> list[tuple[dict[str, str], list[str], set[str]]]:
    """Configs that set what an example leaves unset: (config, secret keys, the keys they add)."""
    out = []
    with_previous = other_value(catalog.PROMETHEUS_TOKEN, config)
    if with_previous is not None:
        previous = catalog.PROMETHEUS_PREVIOUS_TOKEN.key
        added = {**config, previous: with_previous[catalog.PROMETHEUS_TOKEN.key]}
        out.append((added, [*secret_keys, previous], {previous}))
    token = lookup(catalog.GHCR_TOKEN, config.get)  # a classic PAT: also a valid Flux token
    if token is not None:
        app = {k.key for k in (catalog.FLUX_GITHUB_APP_ID, catalog.FLUX_GITHUB_APP_INSTALLATION_ID, catalog.FLUX_GITHUB_APP_PRIVATE_KEY)}
        flux_token = catalog.FLUX_GITHUB_TOKEN.key
        token_mode = {**{k: v for k, v in config.items() if k not in app}, flux_token: token[1]}
        out.append((token_mode, [*(k for k in secret_keys if k not in app), flux_token], {flux_token}))
    return out


Flows = dict[str, tuple[tuple[str, tuple[str, ...]], ...]]
"""config key → ((target, stack kinds), …)."""


@functools.cache
def flows() -> Flows:
    """Where each config key's value lands: key → ((target, stack kinds), …), as :func:`derive_flows` found it.

    Read from the package's own data (:data:`FLOWS_FILE`), so an installed package says what a checkout says; a
    package without it is broken, and is told as an error rather than as empty cells.
    """
    from importlib import resources

    try:
        text = resources.files("secret_chain.ops").joinpath(FLOWS_FILE).read_text(encoding="utf-8")
    except OSError as err:
        raise SecretChainError(f"the package data secret_chain/ops/{FLOWS_FILE} cannot be read ({err.strerror}): reinstall secret-chain") from None
    document = json.loads(text)
    return {key: tuple((target, tuple(stacks)) for target, stacks in targets) for key, targets in document["flows"].items()}


def flows_document(found: Flows) -> str:
    """The text of :data:`FLOWS_FILE` for ``found``: sorted, one target per line, ending in a newline."""
    def dumped(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    keys = [
        f"  {dumped(key)}: [\n" + ",\n".join(f"   {dumped([target, list(stacks)])}" for target, stacks in targets) + "\n  ]"
        for key, targets in sorted(found.items())
    ]
    head = dumped("make esc (secret_chain.ops.plan.write_flows), from examples/config; do not edit by hand")
    return f'{{\n "generatedBy": {head},\n "flows": {{\n' + ",\n".join(keys) + "\n }\n}\n"


def write_flows() -> Path:
    """Write :data:`FLOWS_FILE` next to this module from the checkout's examples (:func:`derive_flows`); its path."""
    path = Path(__file__).with_name(FLOWS_FILE)
    path.write_text(flows_document(derive_flows()), encoding="utf-8")
    return path


def derive_flows(configs: Path = EXAMPLE_CONFIGS) -> Flows:
    """Where each config key's value lands, derived from the example stacks: key → ((target, stack kinds), …).

    Each stack kind is evaluated offline with its example config (:data:`EXAMPLE_STACKS`, from ``configs``), and again
    with the keys the example leaves unset (the previous Prometheus token, a Flux token instead of the App). A target is
    :func:`links`' ``Secret <namespace>/<name> [<data keys>]``, with only the data keys the value reaches
    (:func:`reached`), or a GitHub Actions secret or variable. Needs the checkout's ``examples/config``.
    """
    found: dict[str, dict[str, list[str]]] = {}

    def collect(evaluation: Evaluation, traced: Mapping[tuple[str, str], Collection[str]], only: Collection[str] | None = None) -> None:
        label = PR_STACK if evaluation.stack.startswith("preview-pr-") else evaluation.stack
        for link in links(evaluation, traced):
            if only is None or link.config_key in only:
                target = link.target.replace(evaluation.stack, PR_STACK) if label == PR_STACK else link.target
                stacks = found.setdefault(link.config_key, {}).setdefault(target, [])
                if label not in stacks:
                    stacks.append(label)

    for stack, example in EXAMPLE_STACKS:
        path = configs / example
        if not path.is_file():
            raise SecretChainError(f"{path} is missing: the flows are derived from the example configs of a checkout")
        config, secret_keys = load_config_file(path)
        evaluation = _evaluated(config, secret_keys, stack)
        if evaluation is None:
            continue
        collect(evaluation, reached(evaluation, config, secret_keys))
        for variant, variant_secrets, added in _variants(config, secret_keys):
            other = _evaluated(variant, variant_secrets, stack)
            if other is not None:
                collect(other, reached(other, variant, variant_secrets, added), added)
    return {key: tuple((target, tuple(stacks)) for target, stacks in targets.items()) for key, targets in sorted(found.items())}


def flows_to(entry: Key) -> str:
    """One line: where ``entry``'s value lands in each stack kind (:func:`flows`), or what the runbook says when it lands in no object.

    A GitHub Actions value the examples do not set is named from GitHubActionsSecrets' own table; a deprecated one
    says that nothing is written any more.
    """
    from secret_chain.github_actions import ENTRIES

    derived = flows().get(entry.key)
    if derived:
        return "; ".join(f"{target} in {', '.join(stacks)}" for target, stacks in derived)
    actions = next((e for e in ENTRIES if e.key.key == entry.key), None)
    if actions is not None and entry.deprecated:
        return f"nothing since {catalog.DEPRECATED_SINCE} (was {actions_target(actions, 'repository')}, which pulumi up now deletes)"
    if actions is not None:
        # Each stack that writes GitHub names writes them to its own environment (parts.GITHUB_ENVIRONMENTS).
        owners = parts.GITHUB_ENVIRONMENTS.items()
        return "; ".join(f"{actions_target(actions, f'environment {env}')} in {kind.label}" for kind, env in owners) + ", when set"
    return runbook.of(entry).flows_to
