"""The policy pack's own files: where it runs (its virtualenv, from a hash-pinned lock) and what it may import.

The pack is run by the Pulumi CLI with ``<virtualenv>/bin/python -m pulumi.policy`` when PulumiPolicy.yaml names a
virtualenv (pulumi/pulumi ``sdk/python/dist/pulumi-analyzer-policy-python``), else with whatever ``python3`` is on
``PATH``, which in CI is the pull request's own environment. So it names ``venv``, which is also the directory the CLI
installs a published pack into (pulumi/pulumi ``pkg/backend/httpstate/policypack.go``, ``completePythonInstall``),
and CI builds that virtualenv from the base branch's ``policy/requirements.lock`` (policy/README.md).
"""

from __future__ import annotations

import ast
import sys

import yaml
from packaging.requirements import Requirement

from tests import policies

PACK = policies.POLICY_DIR


def test_the_pack_names_its_own_virtualenv() -> None:
    project = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    assert project["runtime"] == {"name": "python", "options": {"virtualenv": "venv"}}
    ignored = (policies.ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "venv/" in ignored, "policy/venv must be git-ignored (a bare venv/ line ignores it at any depth)"


def test_the_lock_is_the_packs_closure_from_the_dev_lock() -> None:
    """Every distribution pulumi-policy needs, with requirements-dev.lock's version and hashes: nothing more, nothing less."""
    assert (PACK / "requirements.lock").read_text(encoding="utf-8") == policies.policy_lock_text()
    locked = {
        name: entry.split("==", 1)[1].split()[0] for name, entry in policies.lock_entries(policies.POLICY_LOCK.read_text(encoding="utf-8")).items()
    }
    assert {"pulumi", "pulumi-policy", "grpcio", "protobuf"} <= set(locked)
    for line in (PACK / "requirements.txt").read_text(encoding="utf-8").splitlines():
        requirement = Requirement(line)
        assert requirement.specifier.contains(locked[requirement.name]), (line, locked[requirement.name])


def test_the_pack_imports_only_the_standard_library_pulumi_policy_and_itself() -> None:
    """The pack runs in its lock's virtualenv, without the project: no module of it may import ``secret_chain`` or a provider SDK."""
    own = {path.stem for path in PACK.glob("*.py")}
    allowed = {*sys.stdlib_module_names, "pulumi_policy", "pulumi", *own}
    for path in sorted(PACK.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name.split(".")[0] in allowed, (path.name, name)
