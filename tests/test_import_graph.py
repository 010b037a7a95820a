"""The import graph of the package: the library never imports the operator tools, and has no cycle.

The library is every module of ``secret_chain`` outside ``components/secret_chain/ops/`` and ``components/secret_chain/doctor/``
(and ``components/secret_chain/__main__.py``, the command line's delegate); the tools (``secret_chain.ops``, ``secret_chain.doctor``) may
import the library, never the reverse. Every import statement counts, wherever it is written: at module
level, inside a function, under ``if TYPE_CHECKING:``, absolute or relative (``from . import x``), and
``importlib.import_module("…")`` with a literal name. A function-level import hides a cycle from the
interpreter (until the wrong module is imported first), not from this test.

An import of a submodule (``import secret_chain.kube``, ``from secret_chain import kube``) is an edge to that
submodule only; the package ``secret_chain`` is a node of its own, reached when a name is imported from it
(``from secret_chain import SecretChain``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

# The source folder components/ holds the package secret_chain (components/secret_chain/).
ROOT = Path(__file__).resolve().parent.parent / "components"
PACKAGE = "secret_chain"
TOOLS = f"{PACKAGE}.ops"
DOCTOR = f"{PACKAGE}.doctor"
"""``secret-chain doctor`` (issue 22) is an operator tool too: its checks evaluate the stack program as ``plan`` does."""


def module_name(path: Path, root: Path) -> str:
    """``secret_chain/ops/cli.py`` → ``secret_chain.ops.cli``; ``secret_chain/__init__.py`` → ``secret_chain``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    """Every module of the package under ``root``, by dotted name."""
    return {module_name(path, root): path for path in sorted((root / PACKAGE).rglob("*.py"))}


def _is_package(name: str, known: dict[str, Path]) -> bool:
    return name in known and known[name].name == "__init__.py"


def _imported(node: ast.AST, importer: str, known: dict[str, Path]) -> Iterator[str]:
    """The dotted names an import statement (or ``importlib.import_module("…")`` call) loads."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            # Relative to the importer's package (the importer itself when it is a package's __init__).
            package = importer if _is_package(importer, known) else importer.rpartition(".")[0]
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            source = f"{base}.{node.module}" if node.module else base
        else:
            source = node.module or ""
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            # `from pkg import mod` loads the submodule; `from pkg import Name` loads pkg.
            yield submodule if submodule in known else source
    elif (
        isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            or (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__"))
        )
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        yield node.args[0].value


def imports_of(source: str, importer: str, known: dict[str, Path]) -> set[str]:
    """The modules of the package that ``source`` (the text of module ``importer``) imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        for name in _imported(node, importer, known):
            # `import secret_chain.ops.cli` names secret_chain.ops.cli; a name below a module (a class) maps to the module.
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != importer:
                found.add(name)
    return found


def graph(root: Path) -> dict[str, set[str]]:
    """importer → the package modules it imports."""
    known = modules(root)
    return {name: imports_of(path.read_text(encoding="utf-8"), name, known) for name, path in known.items()}


def is_tool(name: str) -> bool:
    """A module of the tools: ``secret_chain.ops`` and ``secret_chain.doctor`` and below, and ``secret_chain.__main__``
    (``python -m secret_chain``, their delegate)."""
    return name in (TOOLS, DOCTOR, f"{PACKAGE}.__main__") or name.startswith((f"{TOOLS}.", f"{DOCTOR}."))


def library_imports_of_tools(edges: dict[str, set[str]]) -> list[str]:
    """``library → tool`` for every library module that imports ``secret_chain.ops``."""
    return sorted(f"{m} → {t}" for m, targets in edges.items() if not is_tool(m) for t in targets if is_tool(t))


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles among the given modules: each strongly connected component of two or more, sorted (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in edges:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def library(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph restricted to library modules."""
    return {m: {t for t in targets if not is_tool(t)} for m, targets in edges.items() if not is_tool(m)}


# The package as it is.


def test_the_library_never_imports_the_operator_tools() -> None:
    edges = graph(ROOT)
    assert TOOLS in edges, "components/secret_chain/ops/ is missing"
    assert library_imports_of_tools(edges) == []


def test_the_library_has_no_import_cycle() -> None:
    assert cycles(library(graph(ROOT))) == []


def test_the_graph_sees_the_imports_it_checks() -> None:
    # A sanity check that the parser finds real edges: otherwise the two tests above would pass vacuously.
    edges = graph(ROOT)
    assert "secret_chain.kube" in edges["secret_chain.ghcr"]
    assert "secret_chain.config" in edges["secret_chain.chain"]
    assert "secret_chain.ops.offline" in edges["secret_chain.ops.plan"]
    assert any(is_tool(t) for t in edges["secret_chain.ops.cli"])


# The parser itself, on small made-up modules.

KNOWN = {
    name: Path(name.replace(".", "/") + ("/__init__.py" if name in ("secret_chain", "secret_chain.ops") else ".py"))
    for name in ("secret_chain", "secret_chain.a", "secret_chain.b", "secret_chain.ops", "secret_chain.ops.cli", "secret_chain.ops.plan")
}


def test_every_import_form_is_seen() -> None:
    source = """
import secret_chain.ops.cli
from secret_chain.ops import plan
from secret_chain import b as renamed
from secret_chain.a import Thing

def later():
    from .ops import cli
    from . import a
    import importlib
    importlib.import_module("secret_chain.ops.plan")

if TYPE_CHECKING:
    from secret_chain.ops.cli import main
"""
    assert imports_of(source, "secret_chain.b", KNOWN) == {"secret_chain.ops.cli", "secret_chain.ops.plan", "secret_chain.a"}
    relative = "from .. import a\nfrom . import plan\nfrom .cli import x"
    assert imports_of(relative, "secret_chain.ops.plan", KNOWN) == {"secret_chain.a", "secret_chain.ops.cli"}
    assert imports_of("from . import a\nfrom .ops import cli", "secret_chain", KNOWN) == {"secret_chain.a", "secret_chain.ops.cli"}
    assert imports_of("from secret_chain import Name", "secret_chain.a", KNOWN) == {"secret_chain"}


def test_a_function_level_cycle_and_an_import_of_the_tools_are_reported() -> None:
    edges = {
        "secret_chain.a": imports_of("def f():\n    from secret_chain import b\n", "secret_chain.a", KNOWN),
        "secret_chain.b": imports_of("from . import a\n", "secret_chain.b", KNOWN),
        "secret_chain.ops.cli": imports_of("from secret_chain import a\n", "secret_chain.ops.cli", KNOWN),
    }
    assert cycles(library(edges)) == [["secret_chain.a", "secret_chain.b"]]
    assert library_imports_of_tools(edges) == []
    edges["secret_chain.a"] |= imports_of("def g():\n    from .ops.cli import main\n", "secret_chain.a", KNOWN)
    assert library_imports_of_tools(edges) == ["secret_chain.a → secret_chain.ops.cli"]


def test_the_catalog_names_exactly_the_declarable_parts_of_the_table() -> None:
    # The catalog checks secret-chain:parts without importing the table of parts (which imports the catalog).
    from secret_chain import catalog, parts

    assert tuple(p.name for p in parts.PARTS if p.declarable) == catalog.DECLARABLE_PARTS
