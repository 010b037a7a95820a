"""The command line from the built wheel, installed in a clean virtual environment, prints what the checkout prints.

``inventory`` and ``plan`` once read ``examples/config`` from the source tree to derive where each value flows: from an
installed wheel every "Flows to" cell was ``—`` (exit 0), and ``inventory --readme`` would have written those dashes.
The flows are now package data (``secret_chain/ops/flows.json``, pyproject.toml ``[tool.setuptools.package-data]``),
written from the examples by ``make esc``; :func:`test_the_packaged_flows_are_what_the_examples_give` keeps it current.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from secret_chain.ops import inventory, plan
from tests.test_import_name import build_wheel

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "config"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean virtual environment holding the wheel; its dependencies are the test environment's, put after it on sys.path.

    ``venv --without-pip`` and pip's ``--python`` (no index: nothing is downloaded). The dependencies' folder is added
    by a ``.pth`` line, which appends the folder without processing the ``.pth`` files in it, so the checkout's
    editable install (a ``.pth`` line naming ``components/``) is not seen: ``secret_chain`` is the wheel's.
    """
    tmp = tmp_path_factory.mktemp("installed")
    wheel = build_wheel(tmp)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True,
                               capture_output=True, text=True).stdout.strip())  # fmt: skip
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def _elsewhere(tmp_path: Path) -> Path:
    """A working directory outside the checkout, with nothing in it."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def test_the_wheel_carries_the_flows(installed: Path) -> None:
    wheel = next((installed.parent / "dist").glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("secret_chain/ops/flows.json").decode() == (ROOT / "components/secret_chain/ops/flows.json").read_text()
    loaded = _run([str(installed / "bin" / "python"), "-c", "import secret_chain; print(secret_chain.__file__)"], installed)
    assert Path(loaded.stdout.strip()).is_relative_to(installed), loaded  # the wheel's copy, not the checkout's


COMMANDS = [
    ("inventory",),
    ("inventory", "--json"),
    ("inventory", "--environment", "preview"),
    ("plan", "--stack", "production", "--config", "{examples}/production.json"),
    ("plan", "--stack", "preview-pr-7", "--config", "{examples}/preview.json", "--json"),
    ("--version",),
]


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_the_installed_command_prints_what_the_checkout_prints(argv: tuple[str, ...], installed: Path, tmp_path: Path) -> None:
    cwd = _elsewhere(tmp_path)
    shutil.copytree(EXAMPLES, cwd / "examples")
    args = [a.replace("{examples}", str(cwd / "examples")) for a in argv]
    there = _run([str(installed / "bin" / "secret-chain"), *args], cwd)
    here = _run([sys.executable, "-m", "secret_chain", *args], ROOT)
    assert (there.returncode, there.stderr) == (0, ""), there.stderr
    assert here.returncode == 0, here.stderr
    assert there.stdout == here.stdout
    if argv == ("inventory", "--json"):
        rows = json.loads(there.stdout)["esc"]
        derived = [r for r in rows if r["key"] in plan.flows()]
        assert derived and all(r["flowsTo"] != "—" and r["flowsTo"] for r in derived)


def test_inventory_readme_from_the_wheel_writes_what_the_checkout_writes(installed: Path, tmp_path: Path) -> None:
    cwd = _elsewhere(tmp_path)
    empty = f"# Secrets\n\n{inventory.BEGIN_MARKER}\n{inventory.END_MARKER}\n"
    (cwd / "README.md").write_text(empty)
    (tmp_path / "README.md").write_text(empty)
    there = _run([str(installed / "bin" / "secret-chain"), "inventory", "--readme", "README.md"], cwd)
    here = _run([sys.executable, "-m", "secret_chain", "inventory", "--readme", str(tmp_path / "README.md")], ROOT)
    assert there.returncode == 0 and here.returncode == 0, there.stderr + here.stderr
    written = (cwd / "README.md").read_text()
    assert written == (tmp_path / "README.md").read_text()
    table = written.split("Where each value flows")[1].split("\n\n")[1].splitlines()[2:]
    flows_to = [row.split(" | ")[1] for row in table]
    assert sum(cell != "—" for cell in flows_to) >= len(plan.flows())


def test_the_packaged_flows_are_what_the_examples_give() -> None:
    """``secret_chain/ops/flows.json`` as ``make esc`` writes it from examples/config (run it after a change)."""
    packaged = (ROOT / "components" / "secret_chain" / "ops" / plan.FLOWS_FILE).read_text(encoding="utf-8")
    assert packaged == plan.flows_document(plan.derive_flows()), "secret_chain/ops/flows.json is stale: run `make esc`"
    assert plan.flows() == plan.derive_flows()


def test_a_package_without_its_flows_is_an_error_not_empty_cells(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from secret_chain.errors import SecretChainError

    monkeypatch.setattr(plan, "FLOWS_FILE", "no-such-file.json")
    plan.flows.cache_clear()
    try:
        with pytest.raises(SecretChainError, match=r"cannot be read .*reinstall secret-chain"):
            plan.flows()
    finally:
        monkeypatch.undo()
        plan.flows.cache_clear()
    with pytest.raises(SecretChainError, match="is missing: the flows are derived from the example configs of a checkout"):
        plan.derive_flows(tmp_path)
