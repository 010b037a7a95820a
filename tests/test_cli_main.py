"""The top-level command line: ``--version``, a bare call, what it says it does, and one JSON key style (issue 21, item 8)."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from secret_chain.ops.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "config"
STATE = ROOT / "tests" / "data" / "stack-export.json"
COMMANDS = ("preflight", "doctor", "inventory", "plan", "rotation", "forget-shared")


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "secret_chain", *argv], capture_output=True, text=True, cwd=ROOT, check=False)


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"secret-chain {metadata.version('secret-chain')}\n"
    result = _run("--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"secret-chain {metadata.version('secret-chain')}\n", "")


def test_a_bare_call_prints_the_usage_and_every_command_and_exits_2() -> None:
    """argparse ends a call that lacks a required argument with the usage on stderr and status 2 (ArgumentParser.error)."""
    result = _run()
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("usage: secret-chain [-h] [--version]")
    listed = [line.split()[0] for line in lines if line.startswith("  ") and not line.startswith("   ")]
    assert listed == list(COMMANDS)
    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    helps = {choice.dest: choice.help for choice in sub._choices_actions}
    for command in COMMANDS:
        assert f"  {command}" in result.stderr and str(helps[command]) in result.stderr
    assert lines[-1] == "error: secret-chain: name a command (see secret-chain --help)"
    assert "Traceback" not in result.stderr


def test_the_description_says_the_command_provisions_nothing() -> None:
    description = str(build_parser().description)
    assert not description.lower().startswith("provision")
    assert "provisions nothing" in description
    for verb in ("Check", "plan", "inventory", "rotate"):
        assert verb in description


# --- one JSON key style -------------------------------------------------------------------------------

CAMEL = re.compile(r"[a-z][a-zA-Z0-9]*")

JSON_RUNS: dict[str, list[tuple[str, ...]]] = {
    "preflight": [
        ("preflight", "--stack", "production", "--config", str(EXAMPLES / "production.json"), "--json"),
        ("preflight", "--stack", "preview-pr-7", "--config", str(EXAMPLES / "preview.json"), "--json"),
        # problems and warnings present: their rows too
        ("preflight", "--stack", "production", "--config", str(ROOT / "tests" / "data" / "empty-config.json"), "--json"),
    ],
    "inventory": [("inventory", "--json"), ("inventory", "--environment", "preview", "--json")],
    "plan": [
        ("plan", "--stack", "production", "--config", str(EXAMPLES / "production.json"), "--json"),
        ("plan", "--stack", "preview-base", "--config", str(EXAMPLES / "preview.json"), "--json"),
        ("plan", "--stack", "preview-pr-7", "--config", str(EXAMPLES / "preview.json"), "--json", "--manifests", "{tmp}"),
    ],
    "rotation": [("rotation", "--state", str(STATE), "--now", "2026-01-01", "--json")],
    # a config that builds nothing and names no ESC environment: one finding, and no request to any API
    "doctor": [("doctor", "--stack", "production", "--config", str(ROOT / "tests" / "data" / "empty-config.json"), "--json")],
}
"""An invocation of every command that has ``--json``, with the inputs that fill every part of its document."""

DATA = {("plan", "outputs")}
"""(command, key) whose value is data rather than a record: a stack output's value as the program exports it (a map of
component name → annotation key → hash: the annotation keys are Kubernetes names, copied verbatim into pod templates).
The output names themselves are keys and are checked."""


def _keys(command: str, document: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(document, dict):
        for key, value in document.items():
            yield path, key
            if path == "" and (command, key) in DATA:
                yield from ((f"/{key}", name) for name in value)  # the output names, not what they hold
                continue
            yield from _keys(command, value, f"{path}/{key}")
    elif isinstance(document, list):
        for item in document:
            yield from _keys(command, item, f"{path}[]")


def test_every_command_with_json_is_run_below() -> None:
    with_json = {
        name
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
        for name, parser in action.choices.items()
        if any("--json" in a.option_strings for a in parser._actions)
    }
    assert with_json == set(JSON_RUNS)


@pytest.mark.parametrize(("command", "argv"), [(c, a) for c, runs in JSON_RUNS.items() for a in runs], ids=lambda v: v if isinstance(v, str) else "")
def test_every_json_key_at_every_depth_is_camel_case(command: str, argv: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.json").write_text("{}")
    argv = tuple(str(tmp_path / "manifests") if a == "{tmp}" else a for a in argv)
    argv = tuple(str(tmp_path / "empty.json") if a.endswith("empty-config.json") else a for a in argv)
    main(list(argv))
    document = json.loads(capsys.readouterr().out)
    keys = list(_keys(command, document))
    assert len(keys) > 5
    wrong = sorted({f"{path}/{key}" for path, key in keys if not CAMEL.fullmatch(key)})
    assert wrong == [], f"{command}: keys not camelCase: {wrong}"
