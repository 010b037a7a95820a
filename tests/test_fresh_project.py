"""Done when (issue 21): a program in a fresh folder with its own ``components/`` package uses the installed wheel.

The wheel is built once per session (tests/test_import_name.py ``build_wheel``) and installed with pip, ``--no-deps
--no-index``, into a new virtual environment (``python -m venv --without-pip``; the suite's pip installs into it with
``--python``). Its dependencies are not downloaded again: a ``.pth`` file puts the suite's own site-packages after the
new environment's, as a plain path, so that directory's ``.pth`` files (among them the checkout's editable install of
``secret_chain``) are not run (``site.addpackage`` adds a line's directory and nothing more) and ``secret_chain`` can
only come from the wheel. The test checks that every dependency the wheel declares is met there.

The project (tests/user_project.py) imports ``secret_chain`` beside its own ``components`` package, wires a
component's namespace from a ``kubernetes.core.v1.Namespace``'s ``metadata.name``, and passes its unit tests written
as Pulumi's docs teach, run with pytest inside the new environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_import_name import build_wheel
from tests.test_testing import CHECKS, assert_passed, run_pytest
from tests.user_project import write_project


@dataclass(frozen=True)
class Installed:
    """A virtual environment with the wheel installed."""

    python: Path
    site: Path
    wheel: Path
    seconds: float


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel, built and installed into a new virtual environment once per session."""
    started = time.monotonic()
    wheel = build_wheel(tmp_path_factory.mktemp("wheel"))
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index", str(wheel)]
    subprocess.run(pip, check=True, timeout=300, capture_output=True)
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    # The dependencies: the suite's installed ones, after the environment's own (see the module docstring).
    (site / "zz_secret_chain_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return Installed(python, site, wheel, time.monotonic() - started)


WHERE = """
import importlib.metadata, json, sys
from packaging.requirements import Requirement

import components, secret_chain
unmet = []
for text in importlib.metadata.requires("secret-chain") or []:
    requirement = Requirement(text)
    if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
        continue  # an extra's (dev) dependency
    try:
        found = importlib.metadata.version(requirement.name)
    except importlib.metadata.PackageNotFoundError:
        found = None
    if found is None or not requirement.specifier.contains(found, prereleases=True):
        unmet.append(f"{text} (found {found})")
print(json.dumps({"components": components.__file__, "secret_chain": secret_chain.__file__, "unmet": unmet,
                  "dist": str(importlib.metadata.distribution("secret-chain")._path)}))
"""


def test_a_fresh_project_with_its_own_components_package_passes_its_docs_style_tests(installed: Installed, tmp_path: Path) -> None:
    started = time.monotonic()
    folder = tmp_path / "my-project"
    values = write_project(folder)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}, "PYTHONPATH": str(folder)}
    where = subprocess.run([str(installed.python), "-c", WHERE], cwd=folder, env=env, capture_output=True, text=True, check=False, timeout=120)
    assert where.returncode == 0, where.stderr[-3000:]
    found = json.loads(where.stdout)
    assert Path(found["components"]) == folder / "components" / "__init__.py"
    assert Path(found["secret_chain"]) == installed.site / "secret_chain" / "__init__.py"  # the wheel's, not the checkout's
    assert Path(found["dist"]).parent == installed.site and found["unmet"] == []
    # The docs' example, literally (echo mock), and the same tests on secret_chain.testing.Mocks, each run by pytest.
    assert_passed(run_pytest(installed.python, folder, "test_docs_mock.py"), CHECKS, values)
    assert_passed(run_pytest(installed.python, folder, "test_helper_mock.py"), [*CHECKS, "the rollout annotations"], values)
    print(f"\nfresh project: wheel built and installed in {installed.seconds:.1f} s, project tested in {time.monotonic() - started:.1f} s")
