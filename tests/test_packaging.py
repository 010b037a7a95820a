"""Packaging: the lock files agree with pyproject.toml, and the built package carries its type marker.

Set-up (issue 21, item 9): ``make demo`` installs the runtime lock only (``requirements.lock``: the ``[project]``
dependencies and what they need), ``make test`` adds the dev lock; both locks are written by ``make lock``, which also
refreshes the record of each requirement's floor on PyPI (``tests/data/pypi-floors.json``): no floor is a yanked release.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

import secret_chain
from tests import pypi_floors

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
    for lock in ("requirements.lock", "requirements-dev.lock", "requirements-crd.lock"):
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


# --- issue 21 item 9: the runtime lock, the dev lock, and what each make target installs ----------------------------

_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)(?: ; ([^\\]+?))? \\\n((?:    --hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", re.MULTILINE)


def entries(lock: str) -> dict[str, tuple[str, str | None, frozenset[str]]]:
    """name -> (version, environment marker or None, hashes) of every requirement in a lock file."""
    text = (ROOT / lock).read_text(encoding="utf-8")
    return {
        canonicalize_name(name): (version, marker or None, frozenset(re.findall(r"sha256:[0-9a-f]{64}", hashes)))
        for name, version, marker, hashes in _ENTRY.findall(text)
    }


def runtime_closure() -> set[str]:
    """The [project] dependencies and, transitively, what each installed one requires here (markers evaluated).

    A requirement's extras count (lightkube needs ``httpx2[http2,ws]``, so h2 and wsproto): a dependency of the package
    marked ``extra == "<e>"`` is required when some requirement asked for ``<e>`` (PEP 508 "Extras").
    """
    seen: set[str] = set()
    expanded: set[tuple[str, str]] = set()
    todo = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        seen.add(name)
        for extra in ("", *sorted(requirement.extras)):
            if (name, extra) in expanded:
                continue
            expanded.add((name, extra))
            for line in importlib.metadata.requires(name) or []:
                needed = Requirement(line)
                if needed.marker is None or needed.marker.evaluate({"extra": extra}):
                    todo.append(needed)
    return seen


def test_runtime_lock_holds_the_runtime_closure_and_nothing_else() -> None:
    locked = entries("requirements.lock")
    assert locked, "requirements.lock is missing or empty: run `make lock`"
    here = {name for name, (_, marker, _) in locked.items() if marker is None or Marker(marker).evaluate()}
    assert here == runtime_closure(), "requirements.lock is not the runtime closure: run `make lock`"
    # So none of the dev tools: the linters, the type checker, the test runner and the tests' schema libraries.
    dev_only = {canonicalize_name(Requirement(r).name) for r in PYPROJECT["project"]["optional-dependencies"]["dev"]} - runtime_closure()
    assert {"ruff", "mypy", "pytest", "hypothesis", "zizmor", "cloudcoil"} <= dev_only
    assert dev_only.isdisjoint(locked)


def test_runtime_lock_pins_every_dependency_within_its_range_as_the_dev_lock_does() -> None:
    runtime, dev = entries("requirements.lock"), entries("requirements-dev.lock")
    for line in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in runtime and requirement.specifier.contains(runtime[name][0], prereleases=True), f"{line}: run `make lock`"
    # One version of each package: `make test` installs the dev lock over the runtime lock and changes nothing of it.
    # Versions and hashes; the markers may differ, as each lock's resolution says which platforms need a package.
    assert {name: (runtime[name][0], runtime[name][2]) for name in runtime} == {name: (dev[name][0], dev[name][2]) for name in runtime if name in dev}


def _recipe(target: str) -> list[str]:
    """The commands ``make`` would run for ``target`` from nothing (``-n -B``: print, run nothing, consider all out of date)."""
    make = shutil.which("make")
    if make is None:
        pytest.fail("make is not installed: the README's two commands need it")
    # Not as a sub-make of `make test` (which would pass its MAKEFLAGS and print "make[1]: Entering directory").
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    result = subprocess.run([make, "--no-print-directory", "-n", "-B", target], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return [line for line in result.stdout.splitlines() if line and not line.startswith("#")]


def _installed_locks(commands: list[str]) -> list[str]:
    return [lock for command in commands if " pip install " in command for lock in re.findall(r"-r (\S+)", command)]


def test_make_demo_installs_the_runtime_lock_only() -> None:
    demo = _recipe("demo")
    assert _installed_locks(demo) == ["requirements-pip.lock", "requirements.lock"]
    assert all("--require-hashes" in c for c in demo if " -r " in c)
    assert demo[-1].endswith("-m secret_chain plan --stack production --config examples/config/production.json")


def test_make_test_adds_the_dev_lock() -> None:
    test = _recipe("test")
    assert _installed_locks(test) == ["requirements-pip.lock", "requirements.lock", "requirements-dev.lock", "requirements-crd.lock"]
    assert all("--require-hashes" in c for c in test if " -r " in c)
    assert any(c.startswith(".venv/bin/python -m pytest") for c in test)


def test_make_lock_writes_every_lock() -> None:
    """Each lock's header (uv writes the command that made it) is a command of ``make lock``'s recipe: re-locking is one ``make lock``."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile[makefile.index("\nlock: ") : makefile.index("\n\n", makefile.index("\nlock: "))]
    # A command fed on stdin (`echo pip | uv pip compile - …`) is written by uv as the part after the pipe.
    lines = [line.strip() for line in recipe.splitlines() if "uv pip compile" in line]
    commands = [line.replace("$(VENV)/bin/", "").replace(" --quiet", "").split(" | ")[-1] for line in lines]
    for lock in ("requirements-pip.lock", "requirements.lock", "requirements-dev.lock"):
        header = (ROOT / lock).read_text(encoding="utf-8").splitlines()[1].removeprefix("#").strip()
        assert header in commands, (lock, header, commands)
        assert header.endswith(f"-o {lock}")
    assert "-m tests.pypi_floors" in recipe


def test_pip_comes_from_its_lock_first_and_is_one_that_reads_extras_in_hash_mode() -> None:
    """The venv's own pip may be older than 23.3, which refuses requirements-dev.lock (githubkit asks for
    hishel[async,httpx]: pypa/pip#9644, #12345; Python 3.11.7's pip 23.2.1 does). So the first install, for demo and test
    alike, is pip itself from a hash-pinned lock, and that pin is 23.3 or later."""
    for target in ("demo", "test"):
        installs = [c for c in _recipe(target) if " pip install " in c]
        assert installs and installs[0].endswith("--require-hashes -r requirements-pip.lock"), (target, installs[:1])
    pins = entries("requirements-pip.lock")
    assert set(pins) == {"pip"}
    assert Version(pins["pip"][0]) >= Version("23.3")


def test_the_readme_commands_are_the_make_targets_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^```bash\n(make demo .*?)```", readme, re.MULTILINE | re.DOTALL)
    assert block, "the README shows the two commands in a bash block"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    assert ci[-1] == commands[1], "CI runs exactly the README's test command"


def test_no_floor_is_a_yanked_release() -> None:
    """Every requirement's floor, as PyPI lists it (tests/data/pypi-floors.json, refreshed by `make lock`), is not yanked (PEP 592)."""
    record = json.loads(pypi_floors.RECORD.read_text(encoding="utf-8"))
    requirements = pypi_floors.requirements()
    missing = sorted(set(requirements) - set(record["requirements"]))
    assert missing == [], f"{missing} are not in tests/data/pypi-floors.json: run `make lock`"
    yanked = [
        f"{r}: {e['lowest']} is yanked ({e['yanked']}); raise the floor to {e['lowestNotYanked']}"
        for r, e in record["requirements"].items()
        if r in requirements and e["yanked"]
    ]
    assert yanked == []
    for requirement in requirements:
        entry = record["requirements"][requirement]
        assert entry["lowest"] is not None and Requirement(requirement).specifier.contains(entry["lowest"], prereleases=True), requirement


def test_the_floor_record_reads_yanked_releases() -> None:
    """The record's rule on a PEP 691 page: a release is yanked when each of its files is, and the floor moves past it."""
    page = {
        "files": [
            {"filename": "email_validator-2.1.0-py3-none-any.whl", "yanked": "Forgot to drop Python 3.7 from python_requires"},
            {"filename": "email_validator-2.1.0.tar.gz", "yanked": True},
            {"filename": "email_validator-2.1.0.post1-py3-none-any.whl", "yanked": False},
            {"filename": "email_validator-2.1.1.tar.gz", "yanked": False},
            {"filename": "email_validator-2.1.1-py3-none-any.whl", "yanked": "partly yanked: still installable"},
        ]
    }
    available = pypi_floors.releases(page)
    assert pypi_floors.floor_entry("email-validator>=2.1,<3", available) == {
        "lowest": "2.1.0",
        "yanked": "Forgot to drop Python 3.7 from python_requires",
        "lowestNotYanked": "2.1.0.post1",
    }
    assert pypi_floors.floor_entry("email-validator>=2.1.0.post1,<3", available)["yanked"] is None
    assert pypi_floors.floor_entry("email-validator>=2.1.1", available) == {"lowest": "2.1.1", "yanked": None, "lowestNotYanked": "2.1.1"}
