"""The policy pack's modules, loaded once for every test that calls its policies directly, and fakes of the
arguments pulumi-policy hands a policy.

``policy/`` is not a package (the Pulumi CLI runs ``policy/__main__.py`` with ``policy/`` first on ``sys.path``),
so it is put on ``sys.path`` the same way here; the ``PolicyPack`` object itself is created only in
``policy/__main__.py``. :func:`load` returns ``secret_chain_policies``, which re-exports every module of the
pack (secrets, namespaces, API versions), so ``load().validate_…`` reaches any policy function.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

NAME = "secret_chain_policies"
POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"


def load(name: str = NAME) -> ModuleType:
    """The module ``policy/<name>.py`` (default: the pack's ``secret_chain_policies``), imported once per session."""
    if str(POLICY_DIR) not in sys.path:
        sys.path.insert(0, str(POLICY_DIR))
    return importlib.import_module(name)


@dataclass
class Options:
    """What ``PolicyResourceOptions`` offers: the parent's URN (``None`` for the engine's default providers)."""

    parent: str | None = None


@dataclass
class Args:
    """What ``ResourceValidationArgs`` offers the policies: type, props, urn, name, opts (the parent), provider and
    ``get_config()``. The URN defaults to a child of the stack's SecretChain, as the chain's own resources are."""

    resource_type: str
    props: Any
    name: str = "res"
    urn: str = field(default="")
    provider: Any = None
    config: Mapping[str, Any] | None = None
    stack: str = "production"
    parent: str | None = None

    def __post_init__(self) -> None:
        self.urn = self.urn or f"urn:pulumi:{self.stack}::secret-chain::secret-chain:index:SecretChain${self.resource_type}::{self.name}"

    @property
    def opts(self) -> Options:
        """The resource options pulumi-policy builds from the request (``_get_resource_options``): here, the parent."""
        return Options(self.parent)

    def get_config(self) -> Mapping[str, Any]:
        """The policy's configuration, as the engine sends it (empty when the stack configures nothing)."""
        return dict(self.config or {})


@dataclass
class Resource:
    """What a ``PolicyResource`` offers a stack policy: type, props, urn, name."""

    resource_type: str
    props: Any
    name: str = "res"
    urn: str = ""

    def __post_init__(self) -> None:
        self.urn = self.urn or f"urn:pulumi:production::secret-chain::{self.resource_type}::{self.name}"


@dataclass
class StackArgs:
    """What ``StackValidationArgs`` offers a stack policy: the resources and ``get_config()``."""

    resources: Sequence[Resource]
    config: Mapping[str, Any] | None = None

    def get_config(self) -> Mapping[str, Any]:
        """The policy's configuration (empty when the stack configures nothing)."""
        return dict(self.config or {})


def run(validate: Callable[..., Any], args: Any) -> list[str]:
    """The messages ``validate`` reports for ``args`` (a resource or a stack validation)."""
    found: list[str] = []
    validate(args, lambda message, urn=None: found.append(message))
    return found


# --- the pack's own environment ----------------------------------------------------------------------------------

ROOT = POLICY_DIR.parent
POLICY_LOCK = POLICY_DIR / "requirements.lock"
LOCK_HEADER = """\
# The policy pack's own environment, hash-pinned: pulumi-policy and everything it needs, with the versions and hashes
# of requirements-dev.lock (what the tests run the pack with). CI installs it into policy/venv, the virtualenv
# PulumiPolicy.yaml names, from the base branch (policy/README.md):
#   python3 -m venv policy/venv && policy/venv/bin/pip install --require-hashes --no-deps -r policy/requirements.lock
# Derived, not edited: tests/test_policy_pack.py fails until it is rewritten after requirements-dev.lock changes:
#   .venv/bin/python -c 'from tests.policies import policy_lock_text; print(policy_lock_text(), end="")' > policy/requirements.lock
"""


def _normal(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def policy_closure(root: str = "pulumi-policy") -> set[str]:
    """Normalised names of ``root`` and every distribution it requires (installed metadata, this platform's markers)."""
    import importlib.metadata

    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop()
        if _normal(name) in seen:
            continue
        seen.add(_normal(name))
        for text in importlib.metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


def lock_entries(text: str) -> dict[str, str]:
    """Normalised name → its entry (the ``name==version`` line and its hashes, no comments) in a uv/pip-compile lock."""
    entries: dict[str, str] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line and not line.startswith((" ", "#")):
            current = [line]
            entries[_normal(line.split("==", 1)[0])] = ""
        elif line.strip().startswith("--hash=") and current:
            current.append(line)
        else:
            continue
        entries[_normal(current[0].split("==", 1)[0])] = "\n".join(current)
    return entries


def policy_lock_text() -> str:
    """What ``policy/requirements.lock`` holds: the pack's closure, entry by entry from ``requirements-dev.lock``."""
    dev = lock_entries((ROOT / "requirements-dev.lock").read_text(encoding="utf-8"))
    return LOCK_HEADER + "".join(f"{dev[name]}\n" for name in sorted(policy_closure()))
