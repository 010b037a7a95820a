"""Benchmark secret-chain on Pulumi's in-process mock runtime (secret_chain.ops.offline): no CLI, engine or cluster.

1. Import: each module imported in a fresh interpreter (bytecode cached), against ``import pulumi``, and
   which provider SDKs (``pulumi_*``) that import loads.
2. Whole chain: ``secret_chain.program.main`` on examples/config/production.json, against the same
   registrations replayed through the bare SDK. The chain's evaluation is recorded (type, name, inputs with
   secret markers, parent, dependencies, options, component and stack outputs) and registered again as plain
   ``pulumi.CustomResource``/``ComponentResource`` calls: no validation, no provider SDK classes, no twin to keep.
3. Namespace fan-out: ``GhcrPullSecret`` over N namespaces; the cost per namespace and how flat it stays.

Usage: python benchmarks/run.py [--quick]. Prints figures and ratios (CPU-time medians of interleaved runs,
wall time alongside); nothing here asserts on speed.
"""

import argparse
import gc
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pulumi  # noqa: E402
from pulumi.runtime import rpc  # noqa: E402

from secret_chain.ops.offline import Evaluation, Registration, evaluate, is_secret, load_config_file  # noqa: E402

PRODUCTION = ROOT / "examples" / "config" / "production.json"
IMPORTS = ("pulumi", "secret_chain", "secret_chain.chain", "secret_chain.provider")
STACK_TYPE = "pulumi:pulumi:Stack"

# ------------------------------------------------------------------------------------------------ 1. imports

# Peak RSS from /proc (VmHWM, this image only): ru_maxrss survives exec, so a child would report its parent's peak.
_PROBE = """
import importlib, json, sys, time
wall, cpu = time.perf_counter(), time.process_time()
importlib.import_module(sys.argv[1])
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
providers = sorted({m.split(".")[0] for m in sys.modules if m.startswith("pulumi_")})
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
rss = int(status["VmHWM"].split()[0])
print(json.dumps({"cpu": cpu, "wall": wall, "maxrss_kib": rss, "modules": len(sys.modules), "providers": providers}))
"""


def _probe(module: str, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", _PROBE, module], check=True, capture_output=True, text=True, cwd=ROOT, env=env)
    return dict(json.loads(out.stdout.splitlines()[-1]))


def bench_imports(runs: int) -> dict[str, dict[str, Any]]:
    """Median import CPU and wall time and peak RSS per module, in fresh interpreters, modules interleaved.

    Bytecode is written to and read from a private ``PYTHONPYCACHEPREFIX`` (one warm-up import fills it), as an
    installed package has its ``.pyc`` files even where ``PYTHONDONTWRITEBYTECODE`` is set.
    """
    with tempfile.TemporaryDirectory(prefix="secret-chain-pyc-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPYCACHEPREFIX": cache}
        for module in IMPORTS:
            _probe(module, env)
        samples: dict[str, list[dict[str, Any]]] = {m: [] for m in IMPORTS}
        for i in range(runs):
            for module in IMPORTS if i % 2 == 0 else reversed(IMPORTS):
                samples[module].append(_probe(module, env))
    return {
        m: {
            "cpu": statistics.median(r["cpu"] for r in rows),
            "wall": statistics.median(r["wall"] for r in rows),
            "maxrss_kib": statistics.median(r["maxrss_kib"] for r in rows),
            "modules": rows[0]["modules"],
            "providers": rows[0]["providers"],
        }
        for m, rows in samples.items()
    }


# ------------------------------------------------------------------------------------------------ 2. whole chain


def record(config: dict[str, str], secret_keys: list[str]) -> Evaluation:
    """One evaluation of the stack program: what the replay registers again."""
    from secret_chain.program import main

    return evaluate(main, config=config, secret_keys=secret_keys)


def _sdk_value(value: Any) -> Any:
    """A recorded value as a program would pass it: secret markers become secret Outputs."""
    if is_secret(value):
        return pulumi.Output.secret(_sdk_value(rpc.unwrap_rpc_secret(value)))
    if isinstance(value, dict):
        return {k: _sdk_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sdk_value(v) for v in value]
    return value


def replay(recorded: Evaluation) -> Callable[[], None]:
    """A program that registers what ``recorded`` registered, through the bare SDK."""

    def program() -> None:
        made: dict[str, Any] = {}
        for reg in recorded.registrations:
            if reg.type == STACK_TYPE:
                continue
            opts = pulumi.ResourceOptions(
                parent=made.get(reg.parent),
                depends_on=[made[urn] for urn in reg.dependencies if urn in made],
                provider=made.get(reg.provider.rsplit("::", 1)[0]) if reg.provider else None,
                delete_before_replace=reg.delete_before_replace or None,
                additional_secret_outputs=list(reg.additional_secret_outputs) or None,
                version=reg.version or None,
            )
            inputs = _sdk_value(reg.inputs)
            if reg.type.startswith("pulumi:providers:"):
                made[reg.urn] = pulumi.ProviderResource(reg.type.removeprefix("pulumi:providers:"), reg.name, inputs, opts)
            elif reg.custom:
                made[reg.urn] = pulumi.CustomResource(reg.type, reg.name, inputs, opts)
            else:
                made[reg.urn] = pulumi.ComponentResource(reg.type, reg.name, inputs or None, opts)
        for urn, outputs in recorded.component_outputs.items():
            if urn in made:
                made[urn].register_outputs(_sdk_value(outputs))
        for key, value in recorded.stack_outputs.items():
            pulumi.export(key, _sdk_value(value))

    return program


def _fields(reg: Registration) -> str:
    options = (reg.parent, reg.custom, reg.dependencies, reg.provider, reg.delete_before_replace, reg.additional_secret_outputs, reg.version)
    return json.dumps([reg.inputs, *options], sort_keys=True, default=str)


def differences(chain: Evaluation, replayed: Evaluation) -> list[str]:
    """URNs registered by one side only, or with different inputs (secret markers included), parent or options."""
    a, b = ({r.urn: _fields(r) for r in e.registrations} for e in (chain, replayed))
    return sorted({*(a.keys() ^ b.keys()), *(urn for urn in a.keys() & b.keys() if a[urn] != b[urn])})


def _timed(program: Callable[[], None], config: dict[str, str], secret_keys: list[str]) -> tuple[float, float]:
    """(CPU, wall) seconds of one evaluation; a full collection first, outside the timed region."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    evaluate(program, config=config, secret_keys=secret_keys)
    return time.process_time() - cpu, time.perf_counter() - wall


def _interleaved(programs: dict[str, Callable[[], None]], runs: int, config: dict[str, str], secret_keys: list[str]) -> dict[str, Any]:
    """CPU and wall medians per program over ``runs`` rounds, the order alternating; two warm-up rounds first."""
    names = list(programs)
    for name in names * 2:
        _timed(programs[name], config, secret_keys)
    gc.collect()
    gc.freeze()  # SDK modules and caches: later collections scan only new objects
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for i in range(runs):
        for name in names if i % 2 == 0 else reversed(names):
            samples[name].append(_timed(programs[name], config, secret_keys))
    return {name: {"cpu": statistics.median(s[0] for s in rows), "wall": statistics.median(s[1] for s in rows)} for name, rows in samples.items()}


def bench_chain(runs: int) -> dict[str, Any]:
    from secret_chain.program import main

    config, secret_keys = load_config_file(PRODUCTION)
    chain = record(config, secret_keys)
    replayed = evaluate(replay(chain), config=config, secret_keys=secret_keys)
    pairs = [{(r.type, r.name) for r in e.registrations} for e in (chain, replayed)]
    providers = sorted({m.split(".")[0] for m in sys.modules if m.startswith("pulumi_")})
    times = _interleaved({"chain": main, "replay": replay(chain)}, runs, config, secret_keys)
    return {
        "runs": runs,
        "registrations": len(chain.registrations),
        "resources": len(chain.resources),
        "providers": providers,
        "same_type_name": pairs[0] == pairs[1],
        "differences": differences(chain, replayed),
        **times,
        "ratio": times["chain"]["cpu"] / times["replay"]["cpu"],
        "ratio_wall": times["chain"]["wall"] / times["replay"]["wall"],
    }


# ------------------------------------------------------------------------------------------------ 3. fan-out


def bench_fanout(sizes: list[int], runs: int) -> dict[str, Any]:
    from secret_chain.ghcr import GhcrPullSecret

    config, secret_keys = load_config_file(PRODUCTION)

    def fanout(n: int) -> Callable[[], None]:
        namespaces = [f"ns-{i}" for i in range(n)]

        def program() -> None:
            GhcrPullSecret("pull", {"namespaces": namespaces})

        return program

    times = _interleaved({str(n): fanout(n) for n in sizes}, runs, config, secret_keys)
    cpu = [times[str(n)]["cpu"] for n in sizes]
    fit = statistics.linear_regression(sizes, cpu)
    marginal = [(b - a) / (m - n) for (n, a), (m, b) in itertools.pairwise(zip(sizes, cpu, strict=True))]
    return {
        "runs": runs,
        "points": [{"namespaces": n, **times[str(n)]} for n in sizes],
        "marginal": marginal,
        "slope": fit.slope,
        "intercept": fit.intercept,
        "flatness": max(marginal) / min(marginal),
    }


# ------------------------------------------------------------------------------------------------ report


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:9.2f} ms"


def report(imports: dict[str, dict[str, Any]], chain: dict[str, Any], fanout: dict[str, Any], runs: int) -> None:
    import importlib.metadata

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"secret-chain benchmark: Python {platform.python_version()}, pulumi {importlib.metadata.version('pulumi')}, "
        f"{os.cpu_count()} CPUs, load average {load}"
    )
    floor = imports["pulumi"]["cpu"]
    print(f"\n1. Import in a fresh interpreter (median of {runs}, bytecode cached)")
    print(f"   {'module':<22}{'cpu':>12}{'× pulumi':>10}{'wall':>13}{'peak RSS':>13}{'modules':>9}   provider SDKs loaded")
    for module, row in imports.items():
        print(
            f"   {module:<22}{_ms(row['cpu'])}{row['cpu'] / floor:10.2f} {_ms(row['wall'])}{row['maxrss_kib'] / 1024:9.1f} MiB{row['modules']:>9}"
            f"   {', '.join(row['providers']) or '(none)'}"
        )
    print(f"\n2. Whole production chain vs the same registrations replayed through the bare SDK ({chain['runs']} interleaved runs)")
    for name, label in (("chain", "secret_chain.program.main"), ("replay", "replay (pulumi.CustomResource/ComponentResource)")):
        print(f"   {label:<52} cpu {_ms(chain[name]['cpu'])}   wall {_ms(chain[name]['wall'])}")
    print(
        f"   {chain['registrations']} registrations ({chain['resources']} resources); replay registers the same (type, name): "
        f"{chain['same_type_name']}; differing registrations (inputs, parent, options): {chain['differences'] or 'none'}"
    )
    print(f"   provider SDKs loaded by the evaluation: {', '.join(chain['providers']) or '(none)'}")
    print(f"   ratio chain / replay: {chain['ratio']:.2f} CPU, {chain['ratio_wall']:.2f} wall")
    print(f"\n3. Namespace fan-out: GhcrPullSecret over N namespaces ({fanout['runs']} interleaved runs)")
    print(f"   {'N':>6}{'cpu':>14}{'wall':>14}{'cpu / N':>14}")
    for point in fanout["points"]:
        print(f"   {point['namespaces']:>6}{_ms(point['cpu'])}{_ms(point['wall'])}{_ms(point['cpu'] / point['namespaces'])}")
    marginal = ", ".join(f"{m * 1000:.2f}" for m in fanout["marginal"])
    print(f"   slope (least squares): {fanout['slope'] * 1000:.2f} ms per namespace, intercept {fanout['intercept'] * 1000:.2f} ms")
    print(f"   marginal cost per namespace between points: {marginal} ms; largest / smallest {fanout['flatness']:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few runs, small N: a smoke test")
    quick = parser.parse_args(argv).quick
    runs = 2 if quick else 11
    imports = bench_imports(runs)
    chain = bench_chain(3 if quick else 31)
    fanout = bench_fanout([1, 10, 30] if quick else [1, 10, 100, 1000], 2 if quick else 5)
    report(imports, chain, fanout, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
