"""The ESC tier as files: the environments the chain reads, rendered from their layout (:mod:`secret_chain.environments`).

Four environments in the project ``secret-chain`` of the Pulumi organisation:

* ``Base``: the shared values that reach nothing in production on their own (GHCR pull credentials, the Pulumi
  organisation, Grafana's GitHub organisation and admin).
* ``Production``: imports Base; the production stack's own values and every credential that reaches production.
* ``Preview``: imports Base; preview-base's own values and credentials.
* ``PullRequest``: what a ``preview-pr-<N>`` stack reads and nothing else: its own values (its own DigitalOcean
  token among them) and Base's by *implicit import*, ``${environments.secret-chain.Base.pulumiConfig["<key>"]}``,
  which exposes only the referenced value (Pulumi docs, ESC "Importing other environments": implicit imports, "Only
  referenced values visible"). So a PR job never opens the Flux or CI App key, ``github:token`` or the DNS token, and
  Base, which it may open for those implicit imports, holds none of them either (:mod:`secret_chain.environments`).

The files in ``esc/`` are :func:`render`'s output (``tests/test_esc.py`` keeps them equal) and the bootstrap stack
(:mod:`secret_chain.bootstrap`) creates the environments from the same function.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping

import yaml

from secret_chain import catalog, parts
from secret_chain.catalog import Key
from secret_chain.config import SECRET_INPUT_NOTE, init_command, set_command, set_command_shape
from secret_chain.environments import (
    BASE,
    BY_NAME,
    BY_REF,
    ENVIRONMENTS,
    ESC_PROJECT,
    PREVIEW,
    PRODUCTION,
    PULL_REQUEST,
    Environment,
    for_stack,
)

__all__ = [
    "BASE",
    "BY_NAME",
    "BY_REF",
    "ENVIRONMENTS",
    "ESC_PROJECT",
    "PREVIEW",
    "PRODUCTION",
    "PULL_REQUEST",
    "Environment",
    "definition",
    "for_stack",
    "placeholder",
    "reference",
    "render",
    "write_files",
]

SECRET = "fn::secret"


def reference(entry: Key, environment: str) -> str:
    """An implicit import of ``entry``'s config key from ``environment`` (ESC ``${environments.<project>.<env>.<path>}``).

    The key is a quoted subscript (pulumi/esc ast/property.go ``parsePropertyAccess``: a bare name ends at ``.``, ``[``
    or ``}``, and ``:`` is no terminator, but a key may hold a ``.``); a string that is one interpolation and nothing
    else is a symbol, so the value keeps its type, an object stays an object (pulumi/esc ast/expr.go ``ParseExpr``).
    """
    return f"${{environments.{ESC_PROJECT}.{environment}.pulumiConfig[{json.dumps(entry.config_key)}]}}"


def placeholder(entry: Key) -> str:
    """What a template holds until a person sets the value: a ``<set me: …>`` that every key's check refuses."""
    example = f'"$(cat {entry.example_file})"' if entry.example_file else entry.example
    return f"<set me: {example}>"


def definition(env: Environment, known: Mapping[str, str] | None = None) -> dict[str, object]:
    """The environment's YAML document as data. ``known``: non-secret values already known (by catalog key), in place of placeholders."""
    known = known or {}
    config: dict[str, object] = {}
    for entry in env.own:
        value: object = known.get(entry.key, placeholder(entry))
        if entry.secret:
            value = {SECRET: value}
        if entry.field:
            fields = config.setdefault(entry.config_key, {})
            assert isinstance(fields, dict)
            fields[entry.field] = value
        else:
            config[entry.config_key] = value
    for key, value in known.items():
        entry = catalog.get(key)
        if entry not in env.own and env.home(entry) is env and not entry.secret and entry.field == "":
            config[entry.config_key] = value  # a value set only by choice (ci:pulumiTeam), known to the bootstrap
    for entry, source in env.references:
        config[entry.config_key] = reference(entry, source)
    document: dict[str, object] = {}
    if env.imports:
        document["imports"] = list(env.imports)
    document["values"] = {"pulumiConfig": config}
    return document


def _comment(entry: Key) -> str:
    return f"    # {' '.join(entry.purpose.split())}\n"


def render(env: Environment, org: str = "example-org", known: Mapping[str, str] | None = None) -> str:
    """The environment as a commented YAML file: ``esc/<file>``, and what the bootstrap stack creates."""
    full = f"{org}/{ESC_PROJECT}/{env.name}"
    head = [
        f"# {env.name}: {env.purpose}.",
        "# Generated from catalog.py and parts.py (components/secret_chain/esc.py); the bootstrap stack creates it.",
        f"# By hand (Pulumi Cloud): {init_command(full, f'esc/{env.file}')}",
        "# Every <set me: …> is a placeholder that `secret-chain preflight` rejects; set the real value with",
        f"#   {set_command_shape(full)}",
        f"# and a secret with {set_command_shape(full, secret=True)},",
        *(f"# {line}" for line in textwrap.wrap(f"{SECRET_INPUT_NOTE};", 116, break_on_hyphens=False)),
        "# never by committing it here.",
    ]
    document = definition(env, known)
    body = ""
    if env.imports:
        body += yaml.safe_dump({"imports": document["imports"]}, sort_keys=False)
    body += "values:\n  pulumiConfig:"
    values = document["values"]
    assert isinstance(values, dict)
    config = values["pulumiConfig"]
    if not config:
        body += " {}\n"
    else:
        body += "\n"
        by_config_key = {e.config_key: e for e in (*env.exposed(), *map(catalog.get, known or {}))}
        for key, value in config.items():
            entry = by_config_key[key]
            if entry.field:
                body += "".join(f"    # {e.field}: {' '.join(e.purpose.split())}\n" for e in catalog.held_in(key))
            else:
                body += _comment(entry)
            dumped = yaml.safe_dump({key: value}, sort_keys=False, width=1000, allow_unicode=True)
            body += "".join(f"    {line}\n" for line in dumped.splitlines())
    temporary = [k for k in catalog.KEYS if k.temporary and any(k in p.keys for p in parts.PARTS if _reads(env, p))]
    for entry in temporary:
        body += (
            f"    # {entry.key} is absent here on purpose: it is set only during phase 1 of a rotation\n"
            f"    # (docs/rotation.md), with: {set_command(entry, full, '<value>')}\n"
        )
    return "\n".join(head) + "\n" + body


def _reads(env: Environment, part: parts.Part) -> bool:
    """Whether a stack attaching ``env`` builds ``part`` (for the rotation-only keys' notes)."""
    return env is not BASE and any(for_stack(kind) is env for kind in part.kinds if kind in parts.CHAIN_KINDS)


def write_files(directory: str = "esc") -> list[str]:
    """Write every environment's definition into ``directory`` (``make esc``); return the files written."""
    from pathlib import Path

    written = []
    for env in ENVIRONMENTS:
        path = Path(directory) / env.file
        path.write_text(render(env), encoding="utf-8")
        written.append(str(path))
    return written
