"""Probe for issue 15 item 4: could pydantic v2 validate component args? Kept as evidence; nothing imports it.

(a) Import cost in a fresh interpreter (bytecode cached): CPU and wall time and RSS growth of ``import pydantic``
    and ``from pydantic import TypeAdapter`` (pydantic v2 loads lazily: the adapter is what validation needs),
    against ``import secret_chain`` and ``import secret_chain.prometheus``, and pydantic on top of the latter.
(b) A ``TypeAdapter`` over ``secret_chain.prometheus.PrometheusAuthArgs`` (fields ``pulumi.Input[str]`` =
    ``Union[str, Awaitable[str], "Output[T]"]``): which attempts build at all, what the one that builds does with
    ``pulumi.Output`` values and with values only the resolver refuses, whether the SDK's schema analyser still
    accepts the Args in the form pydantic needs, and build and validation time against the current resolver
    (``secret_chain.config.validated`` → ``secret_chain.prometheus.resolve``; ``check_args`` alone is the part that,
    like pydantic, only looks at the mapping's keys).

Usage: python benchmarks/pydantic_probe.py [--quick]. Prints figures; changes nothing in ``secret_chain``.
"""

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import typing
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import typing_extensions

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pulumi  # noqa: E402
from pydantic import ConfigDict, TypeAdapter, ValidationError  # noqa: E402

from secret_chain import config, prometheus  # noqa: E402
from secret_chain.ops.offline import evaluate, load_config_file  # noqa: E402

# What ForwardRef("Output[T]") inside pulumi.Input resolves against when a TypeAdapter is built in this module.
Output = pulumi.Output
T = typing.TypeVar("T")

# ------------------------------------------------------------------------------------------------ (a) imports

_PROBE = """
import json, sys, time
def status():
    return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in open("/proc/self/status")) if k in ("VmRSS", "VmHWM")}
exec(sys.argv[1])
before = status()
wall, cpu = time.perf_counter(), time.process_time()
exec(sys.argv[2])
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
after = status()
print(json.dumps({"cpu": cpu, "wall": wall, "rss_kib": after["VmRSS"] - before["VmRSS"], "peak_kib": after["VmHWM"] - before["VmRSS"],
                  "modules": len(sys.modules)}))
"""
IMPORTS = {
    "import secret_chain": ("", "import secret_chain"),
    "import secret_chain.prometheus": ("", "import secret_chain.prometheus"),
    "import pydantic": ("", "import pydantic"),
    "from pydantic import TypeAdapter": ("", "from pydantic import TypeAdapter"),
    "TypeAdapter after secret_chain.prometheus": ("import secret_chain.prometheus", "from pydantic import TypeAdapter"),
}


def bench_imports(runs: int) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="secret-chain-pyc-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPYCACHEPREFIX": cache}

        def probe(setup: str, timed: str) -> dict[str, float]:
            out = subprocess.run([sys.executable, "-c", _PROBE, setup, timed], check=True, capture_output=True, text=True, cwd=ROOT, env=env)
            return dict(json.loads(out.stdout.splitlines()[-1]))

        for setup, timed in IMPORTS.values():
            probe(setup, timed)  # fills the bytecode cache
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in IMPORTS}
        for i in range(runs):
            for name in list(IMPORTS) if i % 2 == 0 else reversed(IMPORTS):
                samples[name].append(probe(*IMPORTS[name]))
    return {name: {key: statistics.median(r[key] for r in rows) for key in rows[0]} for name, rows in samples.items()}


# ------------------------------------------------------------------------------------------------ (b) adapters


def copy_of_args(module: str, **pydantic_config: Any) -> type:
    """PrometheusAuthArgs as a ``typing_extensions.TypedDict`` (pydantic refuses ``typing.TypedDict`` before 3.12)."""
    fields = dict(prometheus.PrometheusAuthArgs.__annotations__)
    copy = typing_extensions.TypedDict("PrometheusAuthArgs", fields, total=False)  # type: ignore[misc]
    copy.__module__ = module
    if pydantic_config:
        copy.__pydantic_config__ = ConfigDict(**pydantic_config)  # type: ignore[attr-defined, typeddict-item]
    return typing.cast(type, copy)


ATTEMPTS: dict[str, Callable[[], type]] = {
    "PrometheusAuthArgs as it is (typing.TypedDict)": lambda: prometheus.PrometheusAuthArgs,
    "typing_extensions copy, default config": lambda: copy_of_args(__name__),
    "copy + arbitrary_types_allowed, names resolved in secret_chain.prometheus": lambda: copy_of_args(
        "secret_chain.prometheus", arbitrary_types_allowed=True
    ),
    "copy + arbitrary_types_allowed + extra=forbid, Output and T in scope": lambda: copy_of_args(
        __name__, arbitrary_types_allowed=True, extra="forbid"
    ),
}
TYPICAL = {"namespace": "api", "app": "api", "interval": "30s", "monitor_labels": {"release": "kube-prometheus-stack"}}


def _outcome(call: Callable[[], Any]) -> str:
    try:
        call()
    except ValidationError as error:
        return "refused: " + "; ".join(f"{'.'.join(map(str, e['loc']))} {e['msg']}" for e in error.errors())
    except Exception as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"
    return "accepted"


def attempts() -> dict[str, str]:
    """Each attempt: does the adapter build, and does it validate the typical args?"""
    found = {}
    for label, make in ATTEMPTS.items():
        try:
            adapter: TypeAdapter[Any] = TypeAdapter(make())
        except Exception as error:
            found[label] = f"build {type(error).__name__}: {str(error).splitlines()[0]}"
            continue
        found[label] = f"built; typical args {_outcome(functools.partial(adapter.validate_python, TYPICAL))}"
    return found


def behaviour(adapter: TypeAdapter[Any]) -> dict[str, str]:
    """What the adapter that builds does with Outputs, and with values only the resolver checks."""
    output = pulumi.Output.from_input("api")
    kept = adapter.validate_python({"namespace": output})["namespace"] is output
    cases = {
        "namespace = Output[str]": {"namespace": output},
        "namespace = Output[int] (wrong inside)": {"namespace": pulumi.Output.from_input(3)},
        "namespace = 'Not A Namespace!'": {"namespace": "Not A Namespace!"},
        "interval = '30s1m' (the CRD refuses it)": {"namespace": "api", "interval": "30s1m"},
        "namespace = 3": {"namespace": 3},
        "unknown key 'enviroment'": {"namespace": "api", "enviroment": "x"},
    }
    result = {label: _outcome(functools.partial(adapter.validate_python, args)) for label, args in cases.items()}
    result["an Output comes back unchanged (same object)"] = str(kept)
    return result


def analyser_view(args_type: type) -> list[str]:
    """Required inputs the SDK's schema analyser sees for a component whose Args are ``args_type``."""
    from pulumi.provider.experimental.analyzer import Analyzer

    class Probe(pulumi.ComponentResource):
        def __init__(self, name: str, args: Any, opts: pulumi.ResourceOptions | None = None) -> None: ...

    Probe.__init__.__annotations__["args"] = args_type
    Probe.__doc__ = "probe"
    definition = Analyzer("probe").analyze_component(Probe)
    return sorted(name for name, prop in definition.inputs.items() if not prop.optional)


def _per_call(call: Callable[[], Any], number: int, repeat: int = 5) -> float:
    """Median over ``repeat`` batches of the mean seconds per call."""
    batches = []
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(number):
            call()
        batches.append((time.process_time() - start) / number)
    return statistics.median(batches)


def timings(quick: bool) -> dict[str, float]:
    make = ATTEMPTS["copy + arbitrary_types_allowed + extra=forbid, Output and T in scope"]
    start = time.process_time()
    adapter: TypeAdapter[Any] = TypeAdapter(make())
    first_build = time.process_time() - start
    n = 20 if quick else 200
    out = {
        "TypeAdapter build, first in the process": first_build,
        "TypeAdapter build, again (fresh copy each time)": _per_call(lambda: TypeAdapter(make()), n // 4 or 1),
        "pydantic validate_python, typical args": _per_call(lambda: adapter.validate_python(TYPICAL), n * 10),
    }
    config_values, secret_keys = load_config_file(ROOT / "examples" / "config" / "production.json")

    def program() -> None:  # the resolver reads config and makes secret Outputs: it runs on the mock runtime
        reader = config.ConfigReader("PrometheusAuth")
        keys_only = lambda: config.check_args(reader, TYPICAL, prometheus.PrometheusAuthArgs)  # noqa: E731
        out["check_args alone (keys only, as pydantic)"] = _per_call(keys_only, n * 10)
        out["current resolver: config.validated(PrometheusAuth, resolve)"] = _per_call(
            lambda: config.validated("PrometheusAuth", prometheus.resolve, TYPICAL, None),  # type: ignore[arg-type]
            n,
        )

    evaluate(program, config=config_values, secret_keys=secret_keys)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args(argv).quick
    runs = 2 if quick else 11
    import pydantic

    print(f"pydantic {pydantic.VERSION}, Python {sys.version.split()[0]}, pulumi {version('pulumi')}")
    print(f"\n(a) Import in a fresh interpreter (median of {runs}, bytecode cached)")
    print(f"   {'':<42}{'cpu':>11}{'wall':>11}{'RSS growth':>13}{'peak growth':>14}{'modules':>9}")
    for name, row in bench_imports(runs).items():
        print(
            f"   {name:<42}{row['cpu'] * 1000:8.1f} ms{row['wall'] * 1000:8.1f} ms{row['rss_kib'] / 1024:9.1f} MiB"
            f"{row['peak_kib'] / 1024:10.1f} MiB{row['modules']:>9.0f}"
        )
    times = timings(quick)  # first: its first TypeAdapter build is the process's first
    print("\n(b) TypeAdapter over secret_chain.prometheus.PrometheusAuthArgs")
    for label, outcome in attempts().items():
        print(f"   {label}:\n      {outcome}")
    adapter: TypeAdapter[Any] = TypeAdapter(ATTEMPTS["copy + arbitrary_types_allowed + extra=forbid, Output and T in scope"]())
    fields = adapter.core_schema["fields"] if "fields" in adapter.core_schema else adapter.core_schema["schema"]["fields"]
    union = fields["namespace"]["schema"]["choices"]
    choices = " | ".join(c["type"] + (f"[{c['cls'].__name__}]" if "cls" in c else "") for c in union)
    print(f"   pulumi.Input[str] became: {choices}")
    print("   the adapter that builds, on values:")
    for label, outcome in behaviour(adapter).items():
        print(f"      {label}: {outcome}")
    required = analyser_view(prometheus.PrometheusAuthArgs)
    copied = analyser_view(ATTEMPTS["copy + arbitrary_types_allowed + extra=forbid, Output and T in scope"]())
    print(f"   schema analyser, required inputs: typing.TypedDict (today) {required}; typing_extensions copy {copied}")
    print(f"   typing.is_typeddict(typing_extensions copy) = {typing.is_typeddict(copy_of_args(__name__))} (the analyser's test)")
    print("\n   CPU time per call")
    for label, seconds in times.items():
        print(f"      {label:<62}{seconds * 1e6:10.1f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
