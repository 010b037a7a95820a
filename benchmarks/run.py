"""Benchmark the secret-chain package against Pulumi and the provider SDKs, on the in-process mock runtime.

Measures, in one run:

1. import cost of ``components`` (and ``components.chain``) vs ``pulumi`` in fresh interpreters, and
   that no provider SDK is imported before a component that needs it is built;
2. evaluation of the whole production stack through ``components.program.main`` vs the same
   resources registered directly with the SDKs (benchmarks/raw_program.py), after asserting both
   register the same resources with the same inputs;
3. scaling: a pull secret fanned out to 1…1,000 namespaces, and 1…100 preview-PR stacks in a row;
4. the resources the production chain registers.

Usage: python benchmarks/run.py [--quick] [--out benchmarks/results/latest.json] [--profile]
Nothing here asserts on speed: targets are reported as met or missed.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PRODUCTION_CONFIG = ROOT / "examples" / "config" / "production.json"
PREVIEW_CONFIG = ROOT / "examples" / "config" / "preview.json"
PROVIDERS = ("pulumi_kubernetes", "pulumi_github", "pulumi_digitalocean")
# Which provider SDK each component may load when built on its own (new components: add a line).
NEEDS = {
    "GhcrPullSecret": {"pulumi_kubernetes"},
    "PrometheusAuth": {"pulumi_kubernetes"},
    "GitHubActionsSecrets": {"pulumi_github"},
}
TARGETS = {"import_ratio": 1.15, "full_chain_ratio": 1.10, "namespace_slope": 1.5}


# --------------------------------------------------------------------------------------------- 1. imports


_IMPORT_PROBE = """
import importlib, json, resource, sys, time
mode, name = sys.argv[1], sys.argv[2]
if mode == "memory":
    import tracemalloc
    tracemalloc.start()
    importlib.import_module(name)
    peak = tracemalloc.get_traced_memory()[1]
    print(json.dumps({"peak_bytes": peak}))
else:
    start = time.perf_counter()
    importlib.import_module(name)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "modules": len(sys.modules), "providers": sorted(p for p in sys.argv[3:] if p in sys.modules)}))
"""


def _probe(mode: str, module: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, mode, module, *PROVIDERS],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def bench_imports(runs: int) -> dict[str, Any]:
    modules = ("pulumi", "components", "components.chain")
    for module in modules:  # warm the bytecode caches and the page cache
        _probe("time", module)
    samples: dict[str, list[dict[str, Any]]] = {m: [] for m in modules}
    for i in range(runs):
        order = modules if i % 2 == 0 else tuple(reversed(modules))
        for module in order:
            sample = _probe("time", module)
            sample.update(_probe("memory", module))
            samples[module].append(sample)
    result: dict[str, Any] = {"runs": runs}
    for module, rows in samples.items():
        result[module] = {
            "seconds_median": statistics.median(r["seconds"] for r in rows),
            "peak_bytes_median": statistics.median(r["peak_bytes"] for r in rows),
            "maxrss_kib_median": statistics.median(r["maxrss_kib"] for r in rows),
            "modules_loaded": rows[0]["modules"],
            "providers_loaded": rows[0]["providers"],
        }
    floor = result["pulumi"]
    for module in ("components", "components.chain"):
        result[module]["ratio_time"] = result[module]["seconds_median"] / floor["seconds_median"]
        result[module]["ratio_peak_memory"] = result[module]["peak_bytes_median"] / floor["peak_bytes_median"]
        result[module]["ratio_maxrss"] = result[module]["maxrss_kib_median"] / floor["maxrss_kib_median"]
    ratio = result["components"]["ratio_time"]
    result["target"] = TARGETS["import_ratio"]
    result["met"] = ratio <= TARGETS["import_ratio"]
    result["chain_met"] = result["components.chain"]["ratio_time"] <= TARGETS["import_ratio"]
    return result


def _loaded() -> list[str]:
    return sorted(p for p in PROVIDERS if p in sys.modules)


def lazy_probe(stage: str) -> dict[str, Any]:
    """Run in a fresh interpreter (``run.py --lazy-probe STAGE``): which provider SDKs each step loads."""
    import importlib
    import pkgutil

    steps: list[dict[str, Any]] = []
    import components

    steps.append({"step": "import components", "providers": _loaded(), "expected": []})
    names = sorted(m.name for m in pkgutil.iter_modules(components.__path__) if not m.name.startswith("_"))
    for name in names:
        importlib.import_module(f"components.{name}")
    steps.append({"step": f"import components.{{{','.join(names)}}}", "providers": _loaded(), "expected": []})
    for name in components.__all__:
        try:
            getattr(components, name)
        except (ImportError, AttributeError):  # exported ahead of its module (being added by others)
            continue
    steps.append({"step": "resolve every export of components", "providers": _loaded(), "expected": []})
    if stage != "imports":
        from components.offline import evaluate, load_config_file

        config, secret_keys = load_config_file(PRODUCTION_CONFIG)
        program = _component_programs()[stage]
        evaluate(program, config=config, secret_keys=secret_keys)
        expected = sorted(NEEDS.get(stage, set(PROVIDERS)))
        steps.append({"step": f"build {stage}", "providers": _loaded(), "expected": expected})
    for step in steps:
        loaded, allowed = set(step["providers"]), set(step["expected"])
        # the whole chain may load any provider; a component on its own only those it needs
        step["ok"] = loaded <= allowed if stage != "SecretChain" or not step["step"].startswith("build") else True
    return {"stage": stage, "steps": steps, "ok": all(s["ok"] for s in steps)}


def _component_programs() -> dict[str, Callable[[], None]]:
    from components.program import main

    def ghcr() -> None:
        from components.ghcr import GhcrPullSecret

        GhcrPullSecret("pull", {"namespaces": ["default"]})

    def prometheus() -> None:
        from components.prometheus import PrometheusAuth

        PrometheusAuth("prometheus", {"namespace": "default"})

    def github() -> None:
        from components.github_actions import GitHubActionsSecrets

        GitHubActionsSecrets("github", {"repository": "example-org/platform"})

    return {"GhcrPullSecret": ghcr, "PrometheusAuth": prometheus, "GitHubActionsSecrets": github, "SecretChain": main}


def bench_lazy() -> dict[str, Any]:
    stages = ["imports", *NEEDS, "SecretChain"]
    results = []
    for stage in stages:
        out = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--lazy-probe", stage], check=True, capture_output=True, text=True, cwd=ROOT
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {"ok": all(r["ok"] for r in results), "stages": results}


# --------------------------------------------------------------------------------------------- evaluation helpers


def _config(path: Path) -> tuple[dict[str, str], list[str]]:
    from components.offline import load_config_file

    return load_config_file(path)


def _settle() -> None:
    """Collect, then freeze what survived (modules, SDK caches) so later collections only scan new objects.

    Without this a full collection walks every object of the provider SDKs (~0.2 s each here).
    """
    gc.collect()
    gc.freeze()


def _timed(program: Callable[[], None], config: dict[str, str], secret_keys: list[str], stack: str = "production") -> float:
    from components.offline import evaluate

    gc.collect()
    start = time.perf_counter()
    evaluate(program, config=config, secret_keys=secret_keys, stack=stack)
    return time.perf_counter() - start


# --------------------------------------------------------------------------------------------- 2. full chain


def bench_full_chain(runs: int) -> dict[str, Any]:
    from benchmarks import compare, raw_program
    from components.offline import evaluate
    from components.program import main

    config, secret_keys = _config(PRODUCTION_CONFIG)
    package = evaluate(main, config=config, secret_keys=secret_keys)
    raw = evaluate(raw_program.main, config=config, secret_keys=secret_keys)
    diff = compare.differences(package, raw)
    if diff:
        raise SystemExit(
            "benchmarks/raw_program.py no longer registers what the chain registers, so the comparison would be unfair:\n  "
            + "\n  ".join(diff)
            + "\nUpdate benchmarks/raw_program.py to match the chain."
        )
    for _ in range(2):  # warm-up: first evaluations fill the SDK's caches
        _timed(main, config, secret_keys)
        _timed(raw_program.main, config, secret_keys)
    _settle()
    package_times: list[float] = []
    raw_times: list[float] = []
    for i in range(runs):
        pairs = [(package_times, main), (raw_times, raw_program.main)]
        for times, program in pairs if i % 2 == 0 else reversed(pairs):
            times.append(_timed(program, config, secret_keys))
    p, r = statistics.median(package_times), statistics.median(raw_times)
    return {
        "runs": runs,
        "equivalent": True,
        "differences": diff,
        "package_seconds_median": p,
        "raw_seconds_median": r,
        "package_seconds_min": min(package_times),
        "raw_seconds_min": min(raw_times),
        "ratio": p / r,
        "target": TARGETS["full_chain_ratio"],
        "met": p / r <= TARGETS["full_chain_ratio"],
        "package_resources": len(package.resources),
        "raw_resources": len(raw.resources),
        "package_registrations": len(package.registrations),
        "raw_registrations": len(raw.registrations),
    }


# --------------------------------------------------------------------------------------------- 3. scaling


def bench_namespaces(sizes: list[int], runs: int) -> dict[str, Any]:
    from benchmarks import raw_program
    from components.ghcr import GhcrPullSecret

    config, secret_keys = _config(PRODUCTION_CONFIG)

    def package_program(namespaces: list[str]) -> Callable[[], None]:
        def program() -> None:
            GhcrPullSecret("pull", {"namespaces": namespaces})

        return program

    def raw_fanout(namespaces: list[str]) -> Callable[[], None]:
        return lambda: raw_program.pull_secrets("pull", namespaces)

    _timed(package_program(["warm-up"]), config, secret_keys)
    _timed(raw_fanout(["warm-up"]), config, secret_keys)
    _settle()
    points = []
    for n in sizes:
        namespaces = [f"ns-{i}" for i in range(n)]
        repeats = runs if n < 1000 else max(1, runs // 2)
        package_times: list[float] = []
        raw_times: list[float] = []
        for i in range(repeats):
            pairs = [(package_times, package_program(namespaces)), (raw_times, raw_fanout(namespaces))]
            for times, program in pairs if i % 2 == 0 else reversed(pairs):
                times.append(_timed(program, config, secret_keys))
        p, r = statistics.median(package_times), statistics.median(raw_times)
        points.append({"namespaces": n, "runs": repeats, "seconds": p, "per_namespace": p / n, "raw_seconds": r, "raw_per_namespace": r / n})
    marginal: list[dict[str, Any]] = []
    for a, b in itertools.pairwise(points):
        step = b["namespaces"] - a["namespaces"]
        marginal.append(
            {
                "from": a["namespaces"],
                "to": b["namespaces"],
                "per_namespace": (b["seconds"] - a["seconds"]) / step,
                "raw_per_namespace": (b["raw_seconds"] - a["raw_seconds"]) / step,
            }
        )

    def slope(values: list[float]) -> float:
        return max(values) / min(values) if values and min(values) > 0 else float("inf")

    result: dict[str, Any] = {
        "points": points,
        "marginal": marginal,
        "slope": slope([p["per_namespace"] for p in points]),
        "raw_slope": slope([p["raw_per_namespace"] for p in points]),
        "marginal_slope": slope([m["per_namespace"] for m in marginal]),
        "raw_marginal_slope": slope([m["raw_per_namespace"] for m in marginal]),
        "ratio_at_largest": points[-1]["seconds"] / points[-1]["raw_seconds"],
        "target": TARGETS["namespace_slope"],
    }
    result["met"] = result["slope"] <= TARGETS["namespace_slope"]
    result["marginal_met"] = result["marginal_slope"] <= TARGETS["namespace_slope"]
    return result


def bench_pr_stacks(sizes: list[int]) -> dict[str, Any]:
    from components.program import main

    config, secret_keys = _config(PREVIEW_CONFIG)
    _timed(main, config, secret_keys, stack="preview-pr-999")
    _settle()
    points = []
    for n in sizes:
        repeats = max(1, 10 // n)
        sweeps = []
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for _ in range(repeats):
            sweeps.append(sum(_timed(main, config, secret_keys, stack=f"preview-pr-{pr}") for pr in range(1, n + 1)))
        total = statistics.median(sweeps)
        rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
        points.append({"stacks": n, "runs": repeats, "seconds": total, "per_stack": total / n, "maxrss_growth_kib": rss_growth})
    per = [p["per_stack"] for p in points]
    return {"points": points, "slope": max(per) / min(per)}


# --------------------------------------------------------------------------------------------- 4. resources


def resource_economy() -> dict[str, Any]:
    from components.offline import evaluate, unwrap
    from components.program import main

    config, secret_keys = _config(PRODUCTION_CONFIG)
    evaluation = evaluate(main, config=config, secret_keys=secret_keys)
    items = []
    for reg in evaluation.registrations:
        inputs = unwrap(reg.inputs) if reg.custom else {}
        meta = inputs.get("metadata") if isinstance(inputs.get("metadata"), dict) else None
        if meta is not None:
            what = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
        elif "secretName" in inputs or "variableName" in inputs:
            what = f"{inputs.get('repository', '')}/{inputs.get('secretName') or inputs.get('variableName')}"
        else:
            what = ""
        items.append({"type": reg.type, "name": reg.name, "custom": reg.custom, "object": what})
    return {
        "resources": len(evaluation.resources),
        "components": len(evaluation.components),
        "registrations": len(evaluation.registrations),
        "items": items,
    }


def profile_full_chain(runs: int = 50) -> None:
    import cProfile
    import pstats

    from components.program import main

    config, secret_keys = _config(PRODUCTION_CONFIG)
    _timed(main, config, secret_keys)
    _settle()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        _timed(main, config, secret_keys)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


# --------------------------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    import importlib.metadata as md

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for dist in ("pulumi", "pulumi-kubernetes", "pulumi-github", "pulumi-digitalocean", "secret-chain"):
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            versions[dist] = None
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def _mark(met: bool) -> str:
    return "met" if met else "MISSED"


def print_report(r: dict[str, Any]) -> None:
    m = r["machine"]
    print(
        f"secret-chain benchmarks — {m['date']} — {m['nproc']} × {m['cpu']}, {m['memory_gib']} GiB, Python {m['python']}, "
        f"pulumi {m['versions']['pulumi']}{'  [quick]' if r['quick'] else ''}"
    )
    print(
        f"load average (1/5/15 min) at start {m['loadavg_at_start']}, at end {m['loadavg_at_end']}: other work on the machine"
        " inflates the times; the ratios come from interleaved runs"
    )
    imp = r["imports"]
    print(f"\n1. Import in a fresh interpreter (median of {imp['runs']})")
    print(f"   {'module':<18}{'time':>12}{'ratio':>8}{'tracemalloc peak':>19}{'ratio':>8}{'maxrss':>12}{'modules':>9}")
    for module in ("pulumi", "components", "components.chain"):
        row = imp[module]
        ratio_t = f"{row.get('ratio_time', 1.0):8.2f}"
        ratio_m = f"{row.get('ratio_peak_memory', 1.0):8.2f}"
        print(
            f"   {module:<18}{_ms(row['seconds_median']):>12}{ratio_t}{row['peak_bytes_median'] / 2**20:16.1f} MiB{ratio_m}"
            f"{row['maxrss_kib_median'] / 1024:8.1f} MiB{row['modules_loaded']:>9}"
        )
    print(
        f"   target components/pulumi ≤ {imp['target']}: {_mark(imp['met'])} ({imp['components']['ratio_time']:.2f}); "
        f"components.chain/pulumi: {imp['components.chain']['ratio_time']:.2f} ({_mark(imp['chain_met'])})"
    )
    lazy = r["lazy"]
    print(f"\n   Lazy provider imports: {'OK' if lazy['ok'] else 'FAILED'}")
    for stage in lazy["stages"]:
        for step in stage["steps"]:
            if stage["stage"] == "imports" or step["step"].startswith("build"):
                print(
                    f"     {step['step'][:60]:<62} loads {', '.join(step['providers']) or '(no provider SDK)'}"
                    f"{'' if step['ok'] else '   <-- unexpected'}"
                )
    fc = r["full_chain"]
    print(f"\n2. Full production chain, end to end (median of {fc['runs']} interleaved runs)")
    print(f"   components.program.main   {_ms(fc['package_seconds_median'])}   ({fc['package_registrations']} registrations)")
    print(f"   raw SDK program           {_ms(fc['raw_seconds_median'])}   ({fc['raw_registrations']} registrations)")
    print(
        f"   fastest run: package {_ms(fc['package_seconds_min']).strip()}, raw {_ms(fc['raw_seconds_min']).strip()} "
        f"(ratio {fc['package_seconds_min'] / fc['raw_seconds_min']:.2f})"
    )
    print(
        f"   same {fc['package_resources']} resources with the same inputs: {fc['equivalent']}; ratio {fc['ratio']:.2f} "
        f"(target ≤ {fc['target']}: {_mark(fc['met'])})"
    )
    ns = r["scaling"]["namespaces"]
    print("\n3. Scaling: GhcrPullSecret fanned out to N namespaces (median per N)")
    print(f"   {'N':>6}{'package':>14}{'per namespace':>16}{'raw SDK':>14}{'per namespace':>16}{'ratio':>8}")
    for p in ns["points"]:
        print(
            f"   {p['namespaces']:>6}{_ms(p['seconds']):>14}{_ms(p['per_namespace']):>16}{_ms(p['raw_seconds']):>14}"
            f"{_ms(p['raw_per_namespace']):>16}{p['seconds'] / p['raw_seconds']:8.2f}"
        )
    for mg in ns["marginal"]:
        print(f"   marginal {mg['from']:>4}→{mg['to']:<5}            {_ms(mg['per_namespace']):>16}{'':>14}{_ms(mg['raw_per_namespace']):>16}")
    print(
        f"   slope (largest/smallest per-namespace cost): package {ns['slope']:.2f}, raw {ns['raw_slope']:.2f} "
        f"(target ≤ {ns['target']}: {_mark(ns['met'])}); marginal: package {ns['marginal_slope']:.2f}, "
        f"raw {ns['raw_marginal_slope']:.2f} ({_mark(ns['marginal_met'])})"
    )
    pr = r["scaling"]["pr_stacks"]
    print("\n   Preview-PR stacks (preview-pr-<N>) evaluated one after another in one process")
    print(f"   {'stacks':>6}{'total':>14}{'per stack':>14}{'maxrss growth':>16}")
    for p in pr["points"]:
        print(f"   {p['stacks']:>6}{_ms(p['seconds']):>14}{_ms(p['per_stack']):>14}{p['maxrss_growth_kib'] / 1024:12.1f} MiB")
    print(f"   slope (largest/smallest per-stack cost): {pr['slope']:.2f}")
    res = r["resources"]
    print(
        f"\n4. The production chain registers {res['resources']} resources and {res['components']} components "
        f"({res['registrations']} registrations with the stack)"
    )
    for item in res["items"]:
        kind = "resource " if item["custom"] else "component"
        print(f"   {kind} {item['type']:<52} {item['name']:<44} {item['object']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small N, no 1,000-namespace point: a smoke test")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "latest.json", help="JSON results file")
    parser.add_argument("--profile", action="store_true", help="cProfile the full-chain evaluation and exit")
    parser.add_argument("--lazy-probe", metavar="STAGE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.lazy_probe:
        print(json.dumps(lazy_probe(args.lazy_probe)))
        return 0
    if args.profile:
        profile_full_chain()
        return 0
    quick = args.quick
    results: dict[str, Any] = {"quick": quick, "machine": machine(), "targets": TARGETS}
    results["imports"] = bench_imports(3 if quick else 11)
    results["lazy"] = bench_lazy()
    results["full_chain"] = bench_full_chain(5 if quick else 31)
    results["scaling"] = {
        "namespaces": bench_namespaces([1, 10, 100] if quick else [1, 10, 100, 1000], 3 if quick else 7),
        "pr_stacks": bench_pr_stacks([1, 5] if quick else [1, 10, 100]),
    }
    results["resources"] = resource_economy()
    results["summary"] = {
        "import_ratio": results["imports"]["components"]["ratio_time"],
        "import_met": results["imports"]["met"],
        "lazy_ok": results["lazy"]["ok"],
        "full_chain_ratio": results["full_chain"]["ratio"],
        "full_chain_met": results["full_chain"]["met"],
        "namespace_slope": results["scaling"]["namespaces"]["slope"],
        "namespace_marginal_slope": results["scaling"]["namespaces"]["marginal_slope"],
        "namespace_met": results["scaling"]["namespaces"]["met"],
        "pr_stack_slope": results["scaling"]["pr_stacks"]["slope"],
        "resources": results["resources"]["resources"],
    }
    results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print_report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
