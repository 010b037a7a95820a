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
import contextlib
import datetime
import functools
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
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from components.ops.offline import Evaluation

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


def _probe(mode: str, module: str, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, mode, module, *PROVIDERS],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _bytecode_env(cache: str) -> dict[str, str]:
    """The environment of the import probes: bytecode cached, in a private directory.

    An installed package has its ``.pyc`` files (pip compiles them), and so does pulumi in site-packages.
    With ``PYTHONDONTWRITEBYTECODE`` set (as on the machine of the recorded run) the package's modules
    would be compiled from source in every fresh interpreter while pulumi's are not, so the probes
    write and read every module's bytecode under ``PYTHONPYCACHEPREFIX`` instead — nothing in the tree.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    return env


def bench_imports(runs: int) -> dict[str, Any]:
    import tempfile

    modules = ("pulumi", "components", "components.chain")
    with tempfile.TemporaryDirectory(prefix="secret-chain-bytecode-") as cache:
        env = _bytecode_env(cache)
        for module in modules:  # compile into the bytecode cache, warm the page cache
            _probe("time", module, env)
        samples = _import_samples(modules, runs, env)
    return _import_result(samples, runs)


def _import_samples(modules: tuple[str, ...], runs: int, env: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    samples: dict[str, list[dict[str, Any]]] = {m: [] for m in modules}
    for i in range(runs):
        order = modules if i % 2 == 0 else tuple(reversed(modules))
        for module in order:
            sample = _probe("time", module, env)
            sample.update(_probe("memory", module, env))
            samples[module].append(sample)
    return samples


def _import_result(samples: dict[str, list[dict[str, Any]]], runs: int) -> dict[str, Any]:
    result: dict[str, Any] = {"runs": runs, "bytecode": "cached (private PYTHONPYCACHEPREFIX, filled by one warm-up import each)"}
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
        from components.ops.offline import evaluate, load_config_file

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
    from components.ops.offline import load_config_file

    return load_config_file(path)


def _settle() -> None:
    """Collect, then freeze what survived (modules, SDK caches) so later collections only scan new objects.

    Without this a full collection walks every object of the provider SDKs (~0.2 s each here).
    """
    gc.collect()
    gc.freeze()


class Sample(NamedTuple):
    """One timed evaluation."""

    wall: float
    """Wall-clock seconds."""
    cpu: float
    """CPU seconds of this process, all threads."""
    gc: float
    """CPU seconds the cyclic garbage collector ran during the evaluation."""
    parts: dict[str, float]
    """CPU seconds inside each instrumented function (see :func:`_instrumented`); empty when not instrumented."""


_CLOCKS: dict[str, float] = {}
"""Running CPU-time totals: ``gc`` (collections) and one per instrumented function."""
_GC_START: list[float] = []


def _gc_clock(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _GC_START[:] = [time.thread_time()]
    elif _GC_START:
        _CLOCKS["gc"] = _CLOCKS.get("gc", 0.0) + time.thread_time() - _GC_START.pop()


def _timed(program: Callable[[], None], config: dict[str, str], secret_keys: list[str], stack: str = "production") -> Sample:
    """Evaluate ``program`` once, after a full collection (outside the timed region)."""
    from components.ops.offline import evaluate

    if _gc_clock not in gc.callbacks:
        gc.callbacks.append(_gc_clock)
    gc.collect()
    _CLOCKS.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    evaluate(program, config=config, secret_keys=secret_keys, stack=stack)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    clocks = dict(_CLOCKS)
    return Sample(wall, cpu, clocks.pop("gc", 0.0), clocks)


@contextlib.contextmanager
def _instrumented() -> Iterator[None]:
    """Time (CPU of the calling thread) three functions on every call, in this process only.

    * ``sdk stack capture``: ``pulumi.runtime.resource._get_stack_trace``, which the SDK calls on every
      registration to walk the whole Python stack and turn each frame into a source position;
    * ``sdk type hints``: ``pulumi._types.resource_types``, which the SDK calls on every registration to
      resolve the resource class's annotations (``typing.get_type_hints``), never cached;
    * ``validation``: ``components.chain.resolve``, the chain reading and checking all of its config.
    """
    import pulumi._types
    import pulumi.runtime.resource

    from components import chain

    targets = [
        (pulumi.runtime.resource, "_get_stack_trace", "sdk stack capture"),
        (pulumi._types, "resource_types", "sdk type hints"),
        (chain, "resolve", "validation"),
    ]
    originals = [getattr(module, attr) for module, attr, _ in targets]

    def clocked(function: Callable[..., Any], label: str) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                _CLOCKS[label] = _CLOCKS.get(label, 0.0) + time.thread_time() - start

        return wrapper

    for (module, attr, label), original in zip(targets, originals, strict=True):
        setattr(module, attr, clocked(original, label))
    try:
        yield
    finally:
        for (module, attr, _), original in zip(targets, originals, strict=True):
            setattr(module, attr, original)


def _stats(samples: list[Sample]) -> dict[str, float]:
    """Median, quartiles and minimum of the wall and CPU times of ``samples``; medians of GC and instrumented times."""
    out: dict[str, float] = {}
    for clock in ("wall", "cpu"):
        values = sorted(getattr(s, clock) for s in samples)
        quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
        out[f"{clock}_median"] = statistics.median(values)
        out[f"{clock}_q1"], out[f"{clock}_q3"] = quartiles[0], quartiles[2]
        out[f"{clock}_min"] = values[0]
    out["gc_median"] = statistics.median(s.gc for s in samples)
    for label in sorted({label for s in samples for label in s.parts}):
        out[f"{label}_median"] = statistics.median(s.parts.get(label, 0.0) for s in samples)
    return out


def _interleaved(programs: Mapping[str, Callable[[], Sample]], runs: int) -> dict[str, list[Sample]]:
    """Run each program ``runs`` times, rotating the order every round so that each sees the same load."""
    names = list(programs)
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for i in range(runs):
        shift = i % len(names)
        order = names[shift:] + names[:shift]
        for name in order if i % 2 == 0 else reversed(order):
            samples[name].append(programs[name]())
    return samples


def _slope(values: list[float]) -> float:
    """Largest / smallest: 1.0 is perfectly flat."""
    return max(values) / min(values) if values and min(values) > 0 else float("inf")


def _empty_program() -> None:
    """The fixed cost of one evaluation: runtime set-up, the root stack registration, the event loop."""


# --------------------------------------------------------------------------------------------- 2. full chain


def _check_equivalent(package: Evaluation, raw: Evaluation, flat: Evaluation | None = None) -> None:
    from benchmarks import compare

    problems = [f"raw_program.main: {d}" for d in compare.registration_differences(package, raw)]
    if flat is not None:
        problems += [f"raw_program.main_without_components: {d}" for d in compare.resource_differences(package, flat)]
    for name, other in (("main", raw), ("main_without_components", flat)):
        if other is not None and other.stack_outputs != package.stack_outputs:
            problems.append(f"raw_program.{name}: stack outputs differ")
    if problems:
        raise SystemExit(
            "benchmarks/raw_program.py no longer registers what the chain registers, so the comparison would be unfair:\n  "
            + "\n  ".join(problems)
            + "\nUpdate benchmarks/raw_program.py to match the chain."
        )


def bench_full_chain(runs: int) -> dict[str, Any]:
    from benchmarks import raw_program
    from components.ops.offline import evaluate
    from components.program import main

    config, secret_keys = _config(PRODUCTION_CONFIG)
    package = evaluate(main, config=config, secret_keys=secret_keys)
    raw = evaluate(raw_program.main, config=config, secret_keys=secret_keys)
    flat = evaluate(raw_program.main_without_components, config=config, secret_keys=secret_keys)
    _check_equivalent(package, raw, flat)
    programs = {"package": main, "raw": raw_program.main, "raw_flat": raw_program.main_without_components, "empty": _empty_program}
    for _ in range(2):  # warm-up: first evaluations fill the SDK's caches
        for program in programs.values():
            _timed(program, config, secret_keys)
    _settle()
    samples = _interleaved({name: functools.partial(_timed, program, config, secret_keys) for name, program in programs.items()}, runs)
    stats = {name: _stats(rows) for name, rows in samples.items()}
    p, r, f = stats["package"], stats["raw"], stats["raw_flat"]
    paired = statistics.median(a.cpu / b.cpu for a, b in zip(samples["package"], samples["raw"], strict=True))
    ratio = p["cpu_median"] / r["cpu_median"]
    return {
        "runs": runs,
        "equivalent": True,
        "registrations": {"package": len(package.registrations), "raw": len(raw.registrations), "raw_flat": len(flat.registrations)},
        "resources": {"package": len(package.resources), "raw": len(raw.resources), "raw_flat": len(flat.resources)},
        **stats,
        "ratio": ratio,
        "ratio_wall": p["wall_median"] / r["wall_median"],
        "ratio_min": p["cpu_min"] / r["cpu_min"],
        "ratio_paired": paired,
        "ratio_vs_flat": p["cpu_median"] / f["cpu_median"],
        "ratio_vs_flat_wall": p["wall_median"] / f["wall_median"],
        "components_cost": r["cpu_median"] / f["cpu_median"],
        "target": TARGETS["full_chain_ratio"],
        "met": ratio <= TARGETS["full_chain_ratio"],
        "wall_met": p["wall_median"] / r["wall_median"] <= TARGETS["full_chain_ratio"],
    }


def attribute_gap(runs: int) -> dict[str, Any]:
    """Where the package's extra time goes, measured on every call (see :func:`_instrumented`) and per collection.

    For each interleaved round the package and the raw program are evaluated back to back; the ratios
    are medians over rounds of the per-round ratio, as is and without the SDK's two per-registration costs.
    """
    from benchmarks import raw_program
    from components.program import main

    config, secret_keys = _config(PRODUCTION_CONFIG)
    programs = {
        "package": functools.partial(_timed, main, config, secret_keys),
        "raw": functools.partial(_timed, raw_program.main, config, secret_keys),
    }
    with _instrumented():
        for program in programs.values():
            program()
        _settle()
        samples = _interleaved(programs, runs)
    sdk = ("sdk stack capture", "sdk type hints")

    def without(sample: Sample, labels: tuple[str, ...]) -> float:
        return sample.cpu - sum(sample.parts.get(label, 0.0) for label in labels) - (sample.gc if "gc" in labels else 0.0)

    def paired(labels: tuple[str, ...]) -> float:
        return statistics.median(without(p, labels) / without(r, labels) for p, r in zip(samples["package"], samples["raw"], strict=True))

    parts: dict[str, dict[str, float]] = {}
    for side, rows in samples.items():
        cpu = statistics.median(s.cpu for s in rows)
        medians = {label: statistics.median(s.parts.get(label, 0.0) for s in rows) for label in (*sdk, "validation")}
        medians["gc"] = statistics.median(s.gc for s in rows)
        medians["rest"] = statistics.median(without(s, (*sdk, "validation", "gc")) for s in rows)
        parts[side] = {"cpu": cpu, **medians}
    return {
        "runs": runs,
        "parts": parts,
        "ratio": paired(()),
        "ratio_without_sdk": paired(sdk),
        "ratio_without_sdk_and_gc": paired((*sdk, "gc")),
        "gap": {label: parts["package"][label] - parts["raw"][label] for label in parts["package"]},
    }


# --------------------------------------------------------------------------------------------- 3. scaling


def bench_namespaces(sizes: list[int], runs: int) -> dict[str, Any]:
    from benchmarks import raw_program
    from components.ghcr import GhcrPullSecret
    from components.ops.offline import evaluate

    config, secret_keys = _config(PRODUCTION_CONFIG)

    def package_program(namespaces: list[str]) -> Callable[[], None]:
        def program() -> None:
            GhcrPullSecret("pull", {"namespaces": namespaces})

        return program

    def raw_fanout(namespaces: list[str]) -> Callable[[], None]:
        return lambda: raw_program.pull_secret_component("pull", namespaces)

    probe = ["ns-a", "ns-b"]
    _check_equivalent(
        evaluate(package_program(probe), config=config, secret_keys=secret_keys), evaluate(raw_fanout(probe), config=config, secret_keys=secret_keys)
    )
    _timed(package_program(["warm-up"]), config, secret_keys)
    _timed(raw_fanout(["warm-up"]), config, secret_keys)
    _timed(_empty_program, config, secret_keys)
    _settle()
    sides = ("package", "raw")
    points: list[dict[str, Any]] = []
    empty: list[Sample] = []
    for n in sizes:
        namespaces = [f"ns-{i}" for i in range(n)]
        repeats = runs if n < 1000 else max(1, runs // 2)
        programs = {
            "package": functools.partial(_timed, package_program(namespaces), config, secret_keys),
            "raw": functools.partial(_timed, raw_fanout(namespaces), config, secret_keys),
            "empty": functools.partial(_timed, _empty_program, config, secret_keys),
        }
        samples = _interleaved(programs, repeats)
        empty += samples["empty"]
        points.append({"namespaces": n, "runs": repeats, "package": _stats(samples["package"]), "raw": _stats(samples["raw"])})
    fixed = _stats(empty)
    for point in points:
        n = point["namespaces"]
        for side in sides:
            cpu, collection = point[side]["cpu_median"], point[side]["gc_median"]
            point[f"{side}_per_namespace"] = cpu / n
            point[f"{side}_net_per_namespace"] = (cpu - fixed["cpu_median"]) / n
            point[f"{side}_gc_per_namespace"] = collection / n
        point["ratio"] = point["package"]["cpu_median"] / point["raw"]["cpu_median"]
    marginal: list[dict[str, Any]] = []
    for a, b in itertools.pairwise(points):
        step = b["namespaces"] - a["namespaces"]
        row: dict[str, Any] = {"from": a["namespaces"], "to": b["namespaces"]}
        for side in sides:
            row[f"{side}_per_namespace"] = (b[side]["cpu_median"] - a[side]["cpu_median"]) / step
            row[f"{side}_gc_per_namespace"] = (b[side]["gc_median"] - a[side]["gc_median"]) / step
            row[f"{side}_without_gc_per_namespace"] = row[f"{side}_per_namespace"] - row[f"{side}_gc_per_namespace"]
        marginal.append(row)
    slopes = {
        "total": {side: _slope([p[f"{side}_per_namespace"] for p in points]) for side in sides},
        "net": {side: _slope([p[f"{side}_net_per_namespace"] for p in points]) for side in sides},
        "marginal": {side: _slope([m[f"{side}_per_namespace"] for m in marginal]) for side in sides},
        "marginal_without_gc": {side: _slope([m[f"{side}_without_gc_per_namespace"] for m in marginal]) for side in sides},
    }
    result: dict[str, Any] = {
        "fixed": fixed,
        "points": points,
        "marginal": marginal,
        "slopes": slopes,
        "ratio_at_largest": points[-1]["ratio"],
        "target": TARGETS["namespace_slope"],
        "target_applies_to": "marginal",
    }
    result["met"] = {kind: slopes[kind]["package"] <= TARGETS["namespace_slope"] for kind in slopes}
    return result


def bench_pr_stacks(sizes: list[int]) -> dict[str, Any]:
    from components.program import main

    config, secret_keys = _config(PREVIEW_CONFIG)
    _timed(main, config, secret_keys, stack="preview-pr-999")
    _timed(_empty_program, config, secret_keys, stack="preview-pr-999")
    _settle()
    points: list[dict[str, Any]] = []
    empty: list[Sample] = []
    for n in sizes:
        repeats = max(1, 10 // n)
        sweeps: list[list[Sample]] = []
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for _ in range(repeats):
            sweep = []
            for pr in range(1, n + 1):
                sweep.append(_timed(main, config, secret_keys, stack=f"preview-pr-{pr}"))
                if pr % 10 == 1:  # the fixed per-evaluation cost, sampled along the sweep
                    empty.append(_timed(_empty_program, config, secret_keys, stack=f"preview-pr-{pr}"))
            sweeps.append(sweep)
        rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
        point: dict[str, Any] = {
            "stacks": n,
            "runs": repeats,
            "wall": statistics.median(sum(s.wall for s in sweep) for sweep in sweeps),
            "cpu": statistics.median(sum(s.cpu for s in sweep) for sweep in sweeps),
            "gc": statistics.median(sum(s.gc for s in sweep) for sweep in sweeps),
            "maxrss_growth_kib": rss_growth,
        }
        point["per_stack"], point["per_stack_wall"], point["per_stack_gc"] = point["cpu"] / n, point["wall"] / n, point["gc"] / n
        if n >= 20:  # does a stack get dearer the more stacks the process has evaluated?
            point["first_10_cpu_median"] = statistics.median(s.cpu for s in sweeps[0][:10])
            point["last_10_cpu_median"] = statistics.median(s.cpu for s in sweeps[0][-10:])
        points.append(point)
    fixed = _stats(empty)
    for point in points:
        point["net_per_stack"] = point["per_stack"] - fixed["cpu_median"]
    drift = [p["last_10_cpu_median"] / p["first_10_cpu_median"] for p in points if "first_10_cpu_median" in p]
    return {
        "fixed": fixed,
        "points": points,
        "slope": _slope([p["per_stack"] for p in points]),
        "net_slope": _slope([p["net_per_stack"] for p in points]),
        "drift": drift[0] if drift else None,
    }


# --------------------------------------------------------------------------------------------- 4. resources


def resource_economy() -> dict[str, Any]:
    from components.ops.offline import evaluate, unwrap
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
    """cProfile of ``runs`` evaluations of the chain and of the raw program, the SDK's hot spots side by side."""
    import cProfile
    import pstats

    from benchmarks import raw_program
    from components.program import main

    config, secret_keys = _config(PRODUCTION_CONFIG)
    for label, program in (("package (components.program.main)", main), ("raw SDK program (benchmarks/raw_program.main)", raw_program.main)):
        _timed(program, config, secret_keys)
        _settle()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(runs):
            _timed(program, config, secret_keys)
        profiler.disable()
        stats = pstats.Stats(profiler)
        total = stats.total_tt  # type: ignore[attr-defined]
        print(f"\n=== {label}: {runs} evaluations, {total:.2f} s under the profiler")
        raw_stats: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
        for needle in (
            "runtime/resource.py:_get_stack_trace",
            "pulumi/_types.py:resource_types",
            "runtime/rpc.py:serialize_properties",
            "runtime/rpc.py:resolve_outputs",
            "components/chain.py:resolve",
            "components/validators.py:pem_private_key",
        ):
            cum = sum(v[3] for k, v in raw_stats.items() if f"{k[0]}:{k[2]}".endswith(needle))
            print(f"   {needle:<45} {cum / runs * 1000:8.2f} ms per evaluation ({cum / total:6.1%} of the profiled time)")
        stats.sort_stats("cumulative").print_stats(25)


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
        " inflates wall times; ratios are of CPU-time medians of interleaved runs (wall-time ratios alongside)"
    )
    imp = r["imports"]
    print(f"\n1. Import in a fresh interpreter (median of {imp['runs']}; bytecode cached, as for an installed package)")
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
    print(f"\n2. Full production chain, end to end ({fc['runs']} interleaved runs; CPU and wall time: median [quartiles] fastest)")
    labels = {
        "package": "components.program.main",
        "raw": "raw_program.main (same components)",
        "raw_flat": "raw_program.main_without_components",
        "empty": "empty program (fixed cost)",
    }
    for name, label in labels.items():
        s = fc[name]
        regs = fc["registrations"].get(name)
        print(
            f"   {label:<38} cpu {_ms(s['cpu_median'])} [{s['cpu_q1'] * 1000:6.1f}–{s['cpu_q3'] * 1000:6.1f}] {_ms(s['cpu_min'])}"
            f"   wall {_ms(s['wall_median'])} [{s['wall_q1'] * 1000:6.1f}–{s['wall_q3'] * 1000:6.1f}]"
            f"{f'   {regs} registrations' if regs else ''}"
        )
    print(
        f"   every registration identical (type, name, parent, inputs, secret paths, dependencies, outputs): {fc['equivalent']}; "
        f"{fc['resources']['package']} provider resources"
    )
    print(
        f"   package / raw with the same components: {fc['ratio']:.2f} CPU, {fc['ratio_wall']:.2f} wall, {fc['ratio_min']:.2f} fastest, "
        f"{fc['ratio_paired']:.2f} median of per-round ratios "
        f"(target ≤ {fc['target']}: {_mark(fc['met'])})"
    )
    print(
        f"   package / raw without components: {fc['ratio_vs_flat']:.2f} CPU, {fc['ratio_vs_flat_wall']:.2f} wall; "
        f"the component resources alone (raw with / raw without): {fc['components_cost']:.2f}"
    )
    at = r.get("attribution")
    if at:
        print(f"\n   Where the package's extra time goes (CPU medians of {at['runs']} interleaved runs, each function timed on every call)")
        print(f"     {'':<10}{'total':>12}{'SDK stack capture':>20}{'SDK type hints':>17}{'GC':>12}{'validation':>13}{'the rest':>12}")
        for side in ("package", "raw"):
            row = at["parts"][side]
            cells = "".join(
                f"{_ms(row[label]):>{width}}"
                for label, width in (("cpu", 12), ("sdk stack capture", 20), ("sdk type hints", 17), ("gc", 12), ("validation", 13), ("rest", 12))
            )
            print(f"     {side:<10}{cells}")
        gap = at["gap"]
        cells = "".join(
            f"{_ms(gap[label]):>{width}}"
            for label, width in (("cpu", 12), ("sdk stack capture", 20), ("sdk type hints", 17), ("gc", 12), ("validation", 13), ("rest", 12))
        )
        print(f"     {'difference':<10}{cells}")
        print(
            f"     package/raw per round: {at['ratio']:.2f} as is; {at['ratio_without_sdk']:.2f} without the SDK's per-registration "
            f"stack capture and type hints; {at['ratio_without_sdk_and_gc']:.2f} without those and GC"
        )
    ns = r["scaling"]["namespaces"]
    print(
        "\n3. Scaling: GhcrPullSecret fanned out to N namespaces vs the raw SDK (same component), CPU medians; "
        f"empty program T0 {_ms(ns['fixed']['cpu_median']).strip()}"
    )
    header = f"{'package':>13}{'total/N':>12}{'(T−T0)/N':>12}{'GC/N':>10}{'raw':>13}{'total/N':>12}{'(T−T0)/N':>12}{'GC/N':>10}"
    print(f"   {'N':>6}{header}{'ratio':>7}")
    for p in ns["points"]:
        cells = "".join(
            f"{_ms(p[side]['cpu_median']):>13}{_ms(p[f'{side}_per_namespace']):>12}{_ms(p[f'{side}_net_per_namespace']):>12}"
            f"{_ms(p[f'{side}_gc_per_namespace']):>10}"
            for side in ("package", "raw")
        )
        print(f"   {p['namespaces']:>6}{cells}{p['ratio']:7.2f}")
    for mg in ns["marginal"]:
        package, raw = _ms(mg["package_per_namespace"]), _ms(mg["raw_per_namespace"])
        package_gc, raw_gc = _ms(mg["package_gc_per_namespace"]).strip(), _ms(mg["raw_gc_per_namespace"]).strip()
        print(f"   marginal {mg['from']:>4}→{mg['to']:<5}  package {package} (GC {package_gc})  raw {raw} (GC {raw_gc}) per namespace")
    for kind, label in (("total", "total/N"), ("net", "(T−T0)/N"), ("marginal", "marginal"), ("marginal_without_gc", "marginal without GC")):
        applies = " ← the target" if kind == ns["target_applies_to"] else ""
        print(
            f"   slope {label:<20} package {ns['slopes'][kind]['package']:.2f}, raw {ns['slopes'][kind]['raw']:.2f}"
            f"  (≤ {ns['target']}: {_mark(ns['met'][kind])}){applies}"
        )
    pr = r["scaling"]["pr_stacks"]
    print(f"\n   Preview-PR stacks (preview-pr-<N>) evaluated one after another in one process (CPU; empty program {_ms(pr['fixed']['cpu_median'])})")
    print(f"   {'stacks':>6}{'total':>14}{'per stack':>14}{'net of T0':>14}{'GC/stack':>12}{'wall/stack':>14}{'maxrss growth':>16}")
    for p in pr["points"]:
        print(
            f"   {p['stacks']:>6}{_ms(p['cpu']):>14}{_ms(p['per_stack']):>14}{_ms(p['net_per_stack']):>14}{_ms(p['per_stack_gc']):>12}"
            f"{_ms(p['per_stack_wall']):>14}{p['maxrss_growth_kib'] / 1024:12.1f} MiB"
        )
    drift = f"; last 10 / first 10 stacks of the longest sweep: {pr['drift']:.2f}" if pr["drift"] is not None else ""
    print(f"   slope (largest/smallest per-stack cost): {pr['slope']:.2f}, net of T0 {pr['net_slope']:.2f}{drift}")
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
    parser.add_argument("--profile", action="store_true", help="cProfile the full-chain evaluation (package and raw) and exit")
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
    results["full_chain"] = bench_full_chain(5 if quick else 61)
    results["attribution"] = attribute_gap(3 if quick else 31)
    results["scaling"] = {
        "namespaces": bench_namespaces([1, 10, 100] if quick else [1, 10, 100, 1000], 3 if quick else 9),
        "pr_stacks": bench_pr_stacks([1, 5] if quick else [1, 10, 100]),
    }
    results["resources"] = resource_economy()
    ns = results["scaling"]["namespaces"]
    results["summary"] = {
        "import_ratio": results["imports"]["components"]["ratio_time"],
        "import_met": results["imports"]["met"],
        "lazy_ok": results["lazy"]["ok"],
        "full_chain_ratio": results["full_chain"]["ratio"],
        "full_chain_ratio_wall": results["full_chain"]["ratio_wall"],
        "full_chain_ratio_vs_flat": results["full_chain"]["ratio_vs_flat"],
        "full_chain_met": results["full_chain"]["met"],
        "namespace_slopes": {kind: ns["slopes"][kind]["package"] for kind in ns["slopes"]},
        "namespace_met": ns["met"][ns["target_applies_to"]],
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
