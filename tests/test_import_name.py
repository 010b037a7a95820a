"""The import name is ``secret_chain``: a program with its own ``components/`` package still imports it (issue 21).

The source folder ``components/`` holds the package (``components/secret_chain/``, pyproject.toml ``package-dir``);
the wheel carries ``secret_chain`` and nothing named ``components``, the distribution and the command stay
``secret-chain``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A user's program: its own `components` package first on sys.path, and the secret-chain components beside it.
PROGRAM = """
import components
import secret_chain
from secret_chain import GhcrPullSecret, SecretChain

assert components.MINE == "the user's own components package", components
assert GhcrPullSecret.__module__ == "secret_chain.ghcr", GhcrPullSecret.__module__
assert SecretChain.__module__ == "secret_chain.chain", SecretChain.__module__
print(secret_chain.__file__)
"""


def user_folder(tmp_path: Path) -> Path:
    """A fresh folder with a ``components/`` package of its own (the common Pulumi project layout)."""
    folder = tmp_path / "my-project"
    (folder / "components").mkdir(parents=True)
    (folder / "components" / "__init__.py").write_text('MINE = "the user\'s own components package"\n')
    return folder


def run_program(folder: Path, *path: Path) -> str:
    """``PROGRAM`` run in ``folder`` with ``path`` first on sys.path; the imported package's file."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in (folder, *path))}
    result = subprocess.run([sys.executable, "-c", PROGRAM], cwd=folder, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def build_wheel(tmp_path: Path) -> Path:
    """The wheel built (offline, with the installed setuptools) from a copy of what the sdist needs."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "components", source / "components", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path / "dist"
    out.mkdir()
    build = f"from setuptools import build_meta; print(build_meta.build_wheel({str(out)!r}))"
    result = subprocess.run([sys.executable, "-c", build], cwd=source, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return out / result.stdout.strip().splitlines()[-1]


def test_a_folder_with_its_own_components_package_imports_secret_chain_from_the_checkout(tmp_path: Path) -> None:
    folder = user_folder(tmp_path)
    loaded = Path(run_program(folder))
    assert loaded == ROOT / "components" / "secret_chain" / "__init__.py"


def test_the_wheel_is_secret_chain_and_nothing_named_components(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    assert wheel.name.startswith("secret_chain-"), wheel.name
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (top_level,) = [n for n in names if n.endswith(".dist-info/top_level.txt")]
        assert archive.read(top_level).decode().split() == ["secret_chain"]
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        assert "secret-chain = secret_chain.ops.cli:main" in archive.read(entry_points).decode()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        assert "\nName: secret-chain\n" in archive.read(metadata).decode()
        package = {n for n in names if ".dist-info/" not in n}
        assert package and all(n.startswith("secret_chain/") for n in package), sorted(package)
        assert {"secret_chain/__init__.py", "secret_chain/py.typed", "secret_chain/ops/cli.py"} <= package
        # Installed (a pure wheel unpacked is its install): the user's folder imports the wheel's copy.
        site = tmp_path / "site"
        archive.extractall(site)
    folder = user_folder(tmp_path)
    loaded = Path(run_program(folder, site))
    assert loaded == site / "secret_chain" / "__init__.py"


def test_pyproject_maps_the_source_folder_to_the_import_name() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = pyproject["tool"]["setuptools"]
    assert setuptools["package-dir"] == {"": "components"}
    assert setuptools["packages"] == ["secret_chain", "secret_chain.doctor", "secret_chain.ops"]
    assert pyproject["project"]["name"] == "secret-chain"
    assert pyproject["project"]["scripts"] == {"secret-chain": "secret_chain.ops.cli:main"}
    assert not (ROOT / "components" / "__init__.py").exists(), "components/ is the source folder, not a package"
    # Every subpackage is listed (an unlisted one would be missing from the wheel).
    found = sorted(
        ".".join(p.parent.relative_to(ROOT / "components").parts) for p in (ROOT / "components").rglob("__init__.py") if "__pycache__" not in p.parts
    )
    assert found == setuptools["packages"]
