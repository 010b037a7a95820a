"""The catalog is the only place a config key is named, and config.py the only place a fix command is written.

Every module of ``components/`` (``components/secret_chain/ops/`` included) and ``policy/*.py`` is parsed with ``ast``; each
string constant that is not a docstring is checked.

How strings are treated:

* **Docstrings** (a string that is a whole statement: module, class and function docstrings, and the
  attribute docstrings under an assignment) are documentation and are not checked.
* **Exact**: a constant equal to a catalog key, an alias, or an object config key (``namespace:imagePullSecret``)
  fails everywhere outside ``components/secret_chain/catalog.py``.
* **Inside a longer string**: a key found in a longer constant (a message, a prose step) with word boundaries on
  both sides fails too, because a renamed key would leave the message stale. Messages name keys through the
  catalog objects: ``f'config "{entry.key}" …'``. Only the runbook prose (``components/secret_chain/ops/runbook.py``: what the
  rotation guide and the README say to people, rendered by the ops tools and read by no component) may name keys
  in its sentences; its entries are keyed by catalog objects, so an exact key constant fails there as well.
* **f-strings** are checked whole, each interpolated value read as ``{}``: ``f"set {entry} and ci:pulumiAuth"``
  fails (a key inside), ``f'config "{entry.key}" …'`` passes; a command split by a value
  (``f"pulumi env rm {env} …"``) is still one command. A key assembled from pieces (``"prometheus:" + name``)
  is not detected: no module does that, and review should keep it so.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from secret_chain import catalog

ROOT = Path(__file__).resolve().parent.parent
CATALOG = Path("components/secret_chain/catalog.py")
PROSE = Path("components/secret_chain/ops/runbook.py")
"""The runbook prose: may name keys inside its sentences (never as a whole constant) and show commands to people."""
DOOR = Path("components/secret_chain/config.py")
"""The one module that writes fix commands and the ``Fix:`` of a problem line."""


def sources() -> list[Path]:
    """Every module checked, relative to the repository root."""
    files = sorted((ROOT / "components" / "secret_chain").rglob("*.py")) + sorted((ROOT / "policy").glob("*.py"))
    return [path.relative_to(ROOT) for path in files]


def names() -> dict[str, str]:
    """Every spelling of a config key the catalog owns, with what it is."""
    out: dict[str, str] = {}
    for entry in catalog.KEYS:
        out[entry.key] = "key"
        if entry.field:
            out.setdefault(entry.config_key, "object config key")
        for alias in entry.aliases:
            out.setdefault(alias, "alias")
    return out


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the constants that are a whole statement (docstrings and attribute docstrings)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        for statement in getattr(node, "body", []) if isinstance(getattr(node, "body", None), list) else []:
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str):
                found.add(id(statement.value))
    return found


def _texts(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, text) of every string constant that is not a docstring; an f-string as one text, ``{}`` for each value."""
    skip = _docstrings(tree)
    pieces: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            pieces.update(id(value) for value in node.values)
            text = "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}" for v in node.values)
            yield node.lineno, text
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip and id(node) not in pieces:
            yield node.lineno, node.value


def literals(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of every string constant of a module that is not a docstring (f-strings whole)."""
    yield from _texts(ast.parse((ROOT / path).read_text(), filename=str(path)))


def _inside(key: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9_-]){re.escape(key)}(?![A-Za-z0-9_])")


def key_literals() -> list[str]:
    """One line per key spelled outside the catalog."""
    spelled = names()
    patterns = {key: _inside(key) for key in spelled}
    found: list[str] = []
    for path in sources():
        if path == CATALOG:
            continue
        for line, text in literals(path):
            if text in spelled:
                found.append(f"{path}:{line}: {spelled[text]} {text!r}")
            elif path != PROSE:
                inside = [key for key, pattern in patterns.items() if pattern.search(text)]
                found += [f"{path}:{line}: {spelled[key]} {key!r} inside a string" for key in inside]
    return sorted(set(found))


FIX_COMMAND = re.compile(r"pulumi (env (set|rm|init)|config (set|rm))\s+\S|\bFix( \(|:)")
"""A hand-written fix: a command that writes config or ESC, with its arguments, or the ``Fix:`` that introduces one.

The name of a command alone (``fixes are pulumi config set``, a heading ``(`pulumi config set`, not secret)``) is prose."""


def fix_literals() -> list[str]:
    """One line per hand-written fix command outside config.py (and the runbook prose)."""
    found: list[str] = []
    for path in sources():
        if path in (DOOR, PROSE):
            continue
        for line, text in literals(path):
            if FIX_COMMAND.search(text):
                found.append(f"{path}:{line}: {' '.join(text.split())[:100]!r}")
    return sorted(set(found))


def test_no_module_outside_the_catalog_spells_a_config_key() -> None:
    found = key_literals()
    assert not found, "name keys through catalog.<KEY> objects, not string literals:\n" + "\n".join(found)


def test_no_module_outside_config_writes_a_fix_command() -> None:
    found = fix_literals()
    assert not found, "give the fix to ConfigReader.missing/invalid/conflict/fail or a config.py command helper:\n" + "\n".join(found)


def test_the_checks_see_what_they_are_meant_to() -> None:
    """The scanner itself: exact keys, keys inside strings and f-strings, and commands are found; docstrings are not."""
    sample = (
        '"""prometheus:authToken in a docstring."""\n'
        'A = "prometheus:authToken"\n'
        'B = f"set {x} and ci:pulumiAuth"\n'
        'C = f"pulumi env rm {env} pulumiConfig.x"\n'
        'D = "fixes are pulumi config set"\n'
        "def f():\n"
        '    """namespace:imagePullSecret"""\n'
        '    return "Fix: y"\n'
    )
    texts = [text for _, text in _texts(ast.parse(sample))]
    assert texts.count("prometheus:authToken") == 1 and not any("docstring" in t for t in texts)
    assert "set {} and ci:pulumiAuth" in texts and _inside("ci:pulumiAuth").search("set {} and ci:pulumiAuth")
    assert "namespace:imagePullSecret" not in texts
    assert [t for t in texts if FIX_COMMAND.search(t)] == ["pulumi env rm {} pulumiConfig.x", "Fix: y"]
    assert not _inside("ci:pulumiTeam").search("ci:pulumiTeams")


def test_problems_are_recorded_only_through_the_reader_methods() -> None:
    """Outside config.py nothing appends to a ConfigReader's problems: missing, invalid, conflict and fail do."""
    found: list[str] = []
    for path in sources():
        if path == DOOR:
            continue
        for node in ast.walk(ast.parse((ROOT / path).read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "append"
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "problems"
                and isinstance(node.value.value, ast.Name)
                and node.value.value.id in ("reader", "self")
            ):
                found.append(f"{path}:{node.lineno}")
    assert not found, "record problems with reader.missing/invalid/conflict/fail:\n" + "\n".join(found)
