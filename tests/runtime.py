"""Tests write config by catalog key; the program receives it as the Pulumi CLI hands it over.

A catalog field such as ``namespace:imagePullSecret.token`` is stored by the CLI inside its object key
(``pulumi config set --path``; an ESC mapping under ``pulumiConfig``), and the SDK gives the program the
object's JSON text under ``namespace:imagePullSecret``, listed as secret when any field is secret (the
CLI keeps an object that holds a secure value as one secure object value). :func:`fold` turns the
tests' catalog-keyed dicts into that form; :func:`evaluate` folds, then runs the real offline evaluator.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from secret_chain import catalog
from secret_chain.ops import offline
from secret_chain.testing import secret_config_keys, stack_config


def fold(config: Mapping[str, Any], secret_keys: Sequence[str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """(runtime config, runtime secret keys) of a config keyed by catalog keys (the public helper's folding)."""
    return stack_config(config), secret_config_keys(k for k in secret_keys or () if k in config)


def evaluate(program: Any, config: Mapping[str, Any], secret_keys: Sequence[str] | None = None, **kwargs: Any) -> offline.Evaluation:
    """:func:`secret_chain.ops.offline.evaluate` on the folded config."""
    flat, secrets = fold(config, secret_keys)
    return offline.evaluate(program, config=flat, secret_keys=secrets, **kwargs)


def cli_json(config: Mapping[str, Any], secret_keys: Sequence[str] | None = None) -> dict[str, Any]:
    """The ``pulumi config --show-secrets --json`` document of a catalog-keyed config.

    A string is ``{"value": …, "secret": …}``; an object key also carries ``objectValue`` (pulumi/pulumi
    pkg/cmd/pulumi/config/config.go ``configValueJSON``).
    """
    flat, secrets = fold(config, secret_keys)
    out: dict[str, Any] = {}
    for key, value in flat.items():
        entry: dict[str, Any] = {"value": value, "secret": key in secrets}
        structured = key in catalog.BY_KEY and catalog.get(key).json_types in (("object",), ("array",))
        if structured or any(e.field and e.config_key == key for e in catalog.KEYS):
            entry["objectValue"] = json.loads(value)  # a mapping or list setting: the CLI prints the YAML value so
        out[key] = entry
    return out
