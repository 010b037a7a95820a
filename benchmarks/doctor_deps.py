"""What ``secret-chain doctor``'s GitHub client costs: httpx + PyJWT (what it uses) against githubkit (typed from GitHub's
OpenAPI description), and what the doctor adds to ``secret-chain --help`` (nothing may load: it stays lazy).

1. Import in a fresh interpreter (bytecode cached in a private ``PYTHONPYCACHEPREFIX``, as benchmarks/run.py does),
   modules interleaved, CPU and wall medians, modules loaded:
   * ``httpx`` + ``jwt`` with the RSA backend (what the doctor imports when it runs);
   * ``githubkit`` with the one model module the doctor's calls would need (``githubkit.versions.v2022_11_28.models``,
     which githubkit imports lazily on a typed call; the four models the doctor's calls return are touched) and its
     App auth (``githubkit.auth.app``, which imports PyJWT);
   * ``secret_chain.ops.cli`` building the parser, i.e. ``secret-chain --help`` (does it load httpx, jwt or the doctor?).
2. Install size: the bytes of every file each distribution installed (``importlib.metadata``), over each stack's
   dependency closure in this environment.

Usage: python benchmarks/doctor_deps.py [--quick]. Prints figures; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

STACKS: dict[str, str] = {
    "httpx + PyJWT (the doctor)": "import httpx, jwt; from jwt.algorithms import RSAAlgorithm",
    "githubkit (models of 2022-11-28, App auth)": (
        "import githubkit, githubkit.auth.app; import githubkit.versions.v2022_11_28.models as m; "
        "m.Integration, m.Installation, m.PrivateUser, m.ReposOwnerRepoEnvironmentsEnvironmentNameSecretsGetResponse200"
    ),
    "secret-chain --help": "from secret_chain.ops import cli; cli.build_parser().format_help()",
}

_PROBE = """
import json, sys, time
wall, cpu = time.perf_counter(), time.process_time()
exec(sys.argv[1])
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
names = sorted(sys.modules)
doctor = [m for m in names if m.split(".")[0] in ("httpx", "jwt", "githubkit") or m.startswith("secret_chain.doctor")]
print(json.dumps({"cpu": cpu, "wall": wall, "modules": len(names), "doctor": doctor}))
"""

CLOSURES: dict[str, tuple[str, ...]] = {
    "httpx + PyJWT (the doctor)": ("httpx", "httpcore", "h11", "anyio", "certifi", "idna", "PyJWT"),
    "githubkit (models of 2022-11-28, App auth)": (
        "githubkit",
        "githubkit-schemas",
        "githubkit-schemas-2022-11-28",
        "githubkit-schemas-2026-03-10",  # githubkit-schemas requires the newest API version's models too
        "hishel",
        "pydantic",
        "pydantic-core",
        "annotated-types",
        "typing-inspection",
        "typing-extensions",
        "httpx",
        "httpcore",
        "h11",
        "anyio",
        "certifi",
        "idna",
        "PyJWT",
    ),
}
"""Each stack's dependency closure (``pip show`` Requires, followed), shared packages counted in both; cryptography,
which PyJWT's RS256 needs, is a dependency of secret-chain already and counted in neither."""


def _probe(code: str, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", _PROBE, code], check=True, capture_output=True, text=True, cwd=ROOT, env=env)
    return dict(json.loads(out.stdout.splitlines()[-1]))


def bench_imports(runs: int) -> dict[str, dict[str, Any]]:
    """Median CPU and wall time per stack, fresh interpreters, interleaved."""
    with tempfile.TemporaryDirectory(prefix="secret-chain-pyc-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPYCACHEPREFIX": cache}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "components"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        for code in STACKS.values():
            _probe(code, env)
        samples: dict[str, list[dict[str, Any]]] = {name: [] for name in STACKS}
        names = list(STACKS)
        for i in range(runs):
            for name in names if i % 2 == 0 else reversed(names):
                samples[name].append(_probe(STACKS[name], env))
    return {
        name: {
            "cpu": statistics.median(r["cpu"] for r in rows),
            "wall": statistics.median(r["wall"] for r in rows),
            "modules": rows[0]["modules"],
            "doctor": rows[0]["doctor"],
        }
        for name, rows in samples.items()
    }


def installed_bytes(distribution: str) -> int | None:
    """Bytes of the files ``distribution`` installed (None: not installed here)."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    total = 0
    for file in dist.files or ():
        path = Path(str(dist.locate_file(file)))
        if path.is_file():
            total += path.stat().st_size
    return total


def install_sizes() -> dict[str, dict[str, Any]]:
    """Per stack: total bytes and the biggest distributions."""
    out: dict[str, dict[str, Any]] = {}
    for name, closure in CLOSURES.items():
        sizes = {d: installed_bytes(d) for d in closure}
        out[name] = {"bytes": sum(s or 0 for s in sizes.values()), "missing": [d for d, s in sizes.items() if s is None], "by": sizes}
    return out


def _mib(n: float) -> str:
    return f"{n / 1048576:.1f} MiB"


def report(imports: dict[str, dict[str, Any]], sizes: dict[str, dict[str, Any]], runs: int) -> None:
    print(f"1. Import in a fresh interpreter (median of {runs}, bytecode cached)")
    print(f"{'':48} {'CPU':>9} {'wall':>9} {'modules':>8}  doctor modules loaded")
    for name, row in imports.items():
        loaded = ", ".join(sorted({m.split(".")[0] if not m.startswith("secret_chain") else m for m in row["doctor"]})) or "none"
        print(f"{name:48} {row['cpu'] * 1000:7.1f}ms {row['wall'] * 1000:7.1f}ms {row['modules']:8d}  {loaded}")
    print()
    print("2. Install size (files each distribution installed, over the dependency closure)")
    for name, row in sizes.items():
        biggest = sorted(((s or 0, d) for d, s in row["by"].items()), reverse=True)[:4]
        missing = f"; not installed here: {', '.join(row['missing'])}" if row["missing"] else ""
        print(f"{name:48} {_mib(row['bytes']):>10}  (largest: {', '.join(f'{d} {_mib(s)}' for s, d in biggest)}){missing}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="one run per stack: a smoke test")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else 11
    imports = bench_imports(runs)
    report(imports, install_sizes(), runs)
    loaded = imports["secret-chain --help"]["doctor"]
    if loaded:
        print(f"secret-chain --help loaded {loaded}: the doctor is not lazy", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
