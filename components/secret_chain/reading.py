"""How a catalog key is read from flat stack config: the one answer to "is it set?".

Below the table of parts (:mod:`secret_chain.parts`) and the ESC layout (:mod:`secret_chain.environments`), so that
the config layer (:mod:`secret_chain.config`, which names the environment that holds each key in its fix commands)
can read both without an import cycle. :mod:`secret_chain.config` re-exports every name here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi

from secret_chain import catalog
from secret_chain.catalog import Key
from secret_chain.validators import Invalid


def raw(key: str) -> str | None:
    """Return the raw string of a full config key, or None when it is not set.

    ``get_config`` is the SDK's own look-up (explicit config, then ``PULUMI_CONFIG_*``); a raw string
    read here never leaves the config layer unwrapped when the key is secret.
    """
    from pulumi.runtime.config import get_config

    value = get_config(key)
    return None if value is None else str(value)


def object_fields(config_key: str) -> tuple[str, ...]:
    """The fields the catalog declares for an object-valued config key (empty for a plain key)."""
    return tuple(e.field for e in catalog.KEYS if e.field and e.config_key == config_key)


def current_project() -> str | None:
    """The Pulumi project of the running program, or None outside one (the CLI commands)."""
    try:
        project = pulumi.get_project()
    except Exception:  # no program is running
        return None
    return project or None


def alias_keys(entry: Key, project: str | None = None) -> tuple[str, ...]:
    """The older keys read for ``entry`` when it is absent: its aliases, then ``<project>:<name>`` of its project aliases."""
    extra = tuple(f"{project}:{name}" for name in entry.project_aliases) if project else ()
    return tuple(dict.fromkeys(k for k in (*entry.aliases, *extra) if k != entry.key))


def lookup(entry: Key, get: Callable[[str], str | None], project: str | None = None) -> tuple[str, str] | None:
    """(key actually used, raw string) of ``entry``, or None when it is not set; the one answer to "is it set?".

    ``get`` reads a flat config key: the SDK's config at run time (:func:`raw`), a ``pulumi config --json``
    dict in ``preflight``. A plain key is read as it is, then its aliases in order (with ``get`` = :func:`raw`, also
    the project aliases in the running program's namespace; otherwise those of ``project``). A field is read from its
    object key's JSON text (how the SDK hands an object value to the program); a value that is not a JSON
    object, a field that is not a string, or a field the catalog does not know raises :class:`Invalid`, whose
    message names fields and JSON types but never a value.
    """
    if entry.field:
        text = get(entry.config_key)
        if text is None:
            return None
        document = _json_object(entry.config_key, text)
        value = document.get(entry.field)
        if value is None:
            return None
        if not isinstance(value, str):
            raise Invalid(f"is a JSON {json_type(value)} in object {entry.config_key}; expected a string")
        return entry.key, value
    if project is None and get is raw:
        project = current_project()
    for name in (entry.key, *alias_keys(entry, project)):
        value = get(name)
        if value is not None:
            return name, value
    return None


def _json_object(config_key: str, text: str) -> dict[str, Any]:
    """The JSON object an object-valued key holds, with only the fields the catalog knows."""
    fields = object_fields(config_key)
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, an integer past int_max_str_digits, or nested past the recursion limit
        document = None
    if not isinstance(document, dict):
        raise Invalid(
            f"is read from {config_key}, which must be an object with fields {', '.join(fields)} "
            f"(set each field {config_key}.<field> with the --path flag of pulumi config set, or in ESC as a YAML mapping)"
        )
    unknown = sorted(str(k) for k in document if k not in fields)
    if unknown:
        raise Invalid(f"is read from {config_key}, whose fields are {', '.join(fields)}; it also has {len(unknown)} unknown field(s)")
    return document


def json_type(value: object) -> str:
    """The JSON type name of a decoded value (``pulumi config --json`` ``objectValue``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
