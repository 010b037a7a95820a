"""Packaging: the lock files agree with pyproject.toml, and the built package carries its type marker."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import secret_chain

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def pins(lock: str) -> dict[str, str]:
    """name -> version of every pinned requirement in a lock file."""
    text = (ROOT / lock).read_text()
    return {canonicalize_name(name): version for name, version in _PIN.findall(text)}


def blocks(lock: str) -> list[str]:
    """Each requirement of a lock file with its continuation lines."""
    text = (ROOT / lock).read_text()
    return [b for b in re.split(r"\n(?=[A-Za-z0-9])", text) if b and not b.startswith("#")]


def test_dev_lock_pins_every_dependency_within_its_range() -> None:
    locked = pins("requirements-dev.lock")
    declared = [*PYPROJECT["project"]["dependencies"], *PYPROJECT["project"]["optional-dependencies"]["dev"]]
    for line in declared:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is not in requirements-dev.lock: run `make lock`"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"requirements-dev.lock pins {requirement.name}=={locked[name]}, outside {requirement.specifier}: run `make lock`"
        )


def test_lock_files_are_hash_checked() -> None:
    for lock in ("requirements-dev.lock", "requirements-crd.lock"):
        entries = blocks(lock)
        assert entries, lock
        for entry in entries:
            assert "--hash=sha256:" in entry, f"{lock}: {entry.splitlines()[0]} has no hash"


def test_crd_lock_matches_the_schema_models_the_tests_use() -> None:
    locked = pins("requirements-crd.lock")
    assert set(locked) == {"cloudcoil-models-cert-manager", "cloudcoil-models-fluxcd", "cloudcoil-models-prometheus-operator"}
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements-dev.lock" in makefile
    assert "--require-hashes -r requirements-crd.lock" in makefile


def test_version_and_type_marker() -> None:
    assert secret_chain.__version__ == PYPROJECT["project"]["version"]
    assert (ROOT / "components" / "secret_chain" / "py.typed").exists()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["secret_chain"]
    assert "Typing :: Typed" in PYPROJECT["project"]["classifiers"]
