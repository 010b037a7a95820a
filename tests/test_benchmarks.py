"""The benchmark's baseline is fair, and ``benchmarks/run.py --quick`` runs: structure only, never speed."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks import compare, raw_program
from components.ops.offline import Evaluation, load_config_file, unwrap
from components.program import main
from tests.conftest import canary_config
from tests.runtime import evaluate

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = ROOT / "examples" / "config" / "production.json"


def _production() -> tuple[dict[str, str], list[str]]:
    return load_config_file(PRODUCTION)


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
@pytest.mark.parametrize("source", ["production.json", "canary"])
def test_raw_program_registers_what_the_chain_registers(source: str, preview: bool) -> None:
    config, secret_keys = _production() if source == "production.json" else canary_config()
    package = evaluate(main, config=config, secret_keys=secret_keys, preview=preview)
    raw = evaluate(raw_program.main, config=config, secret_keys=secret_keys, preview=preview)
    flat = evaluate(raw_program.main_without_components, config=config, secret_keys=secret_keys, preview=preview)
    # every registration, components and the stack included
    assert compare.registration_differences(package, raw) == []
    assert len(package.registrations) == len(raw.registrations) > len(package.resources) > 0
    # without components: the same provider resources, nothing else
    assert compare.resource_differences(package, flat) == []
    assert len(flat.registrations) == len(flat.resources) + 1 == len(package.resources) + 1
    assert package.stack_outputs == raw.stack_outputs == flat.stack_outputs


def test_scaling_programs_register_the_same() -> None:
    from components.ghcr import GhcrPullSecret

    config, secret_keys = _production()
    namespaces = ["ns-0", "ns-1", "ns-2"]

    def program() -> None:
        GhcrPullSecret("pull", {"namespaces": namespaces})

    package = evaluate(program, config=config, secret_keys=secret_keys)
    raw = evaluate(lambda: raw_program.pull_secret_component("pull", namespaces), config=config, secret_keys=secret_keys)
    assert compare.registration_differences(package, raw) == []
    assert len(raw.resources) == 3


def test_comparison_notices_a_different_input() -> None:
    config, secret_keys = _production()
    package = evaluate(main, config=config, secret_keys=secret_keys)
    changed = dict(config, **{"ci:githubAppId": "654321"})
    raw = evaluate(raw_program.main, config=changed, secret_keys=secret_keys)
    flat = evaluate(raw_program.main_without_components, config=changed, secret_keys=secret_keys)
    variable = "github:index/actionsVariable:ActionsVariable"
    assert compare.registration_differences(package, raw) == [f"inputs differ: {variable} secret-chain-github-app-id"]
    assert compare.resource_differences(package, flat) == [f"inputs differ: {variable} platform/APP_ID"]


def test_comparison_notices_secretness() -> None:
    config, secret_keys = _production()
    package = evaluate(main, config=config, secret_keys=secret_keys)
    raw = evaluate(raw_program.main, config=config, secret_keys=secret_keys)
    # the same values, but one resource's secret markers dropped
    index = next(i for i, reg in enumerate(raw.registrations) if reg.type == "github:index/actionsSecret:ActionsSecret")
    target = raw.registrations[index]
    raw.registrations[index] = dataclasses.replace(target, inputs=unwrap(target.inputs))
    assert compare.registration_differences(package, raw) == [f"inputs differ: {target.type} {target.name}"]
    assert compare.resource_differences(package, raw) == [f"inputs differ: {compare.identity(target)}"]


def _edit(evaluation: Evaluation, name: str, **changes: object) -> None:
    index = next(i for i, reg in enumerate(evaluation.registrations) if reg.name == name)
    evaluation.registrations[index] = dataclasses.replace(evaluation.registrations[index], **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda ev: _edit(ev, "secret-chain-ghcr-default", parent="urn:elsewhere"),
            "parent differ: kubernetes:core/v1:Secret secret-chain-ghcr-default",
        ),
        (
            lambda ev: _edit(ev, "secret-chain-flux-gitrepository", dependencies=()),
            "dependencies differ: kubernetes:source.toolkit.fluxcd.io/v1:GitRepository secret-chain-flux-gitrepository",
        ),
        (
            lambda ev: ev.component_outputs.update({next(k for k in ev.component_outputs if k.endswith("::secret-chain-grafana")): {}}),
            "outputs differ: secret-chain:index:GrafanaOAuth secret-chain-grafana",
        ),
        (
            lambda ev: ev.registrations.remove(next(r for r in ev.registrations if r.name == "secret-chain-prometheus")),
            "only in the chain: secret-chain:index:PrometheusAuth secret-chain-prometheus",
        ),
    ],
    ids=["parent", "dependency", "component-outputs", "missing-component"],
)
def test_comparison_notices_structure(mutate: Callable[[Evaluation], None], expected: str) -> None:
    config, secret_keys = _production()
    package = evaluate(main, config=config, secret_keys=secret_keys)
    raw = evaluate(raw_program.main, config=config, secret_keys=secret_keys)
    mutate(raw)
    assert compare.registration_differences(package, raw) == [expected]


def test_quick_run_reports_every_section(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for heading in (
        "1. Import",
        "Lazy provider imports",
        "2. Full production chain",
        "Where the package's extra",
        "3. Scaling",
        "Preview-PR stacks",
        "4. The production",
    ):
        assert heading in proc.stdout
    r = json.loads(out.read_text())
    assert r["quick"] is True
    assert {"machine", "imports", "lazy", "full_chain", "scaling", "resources", "summary", "targets"} <= r.keys()
    assert {"nproc", "cpu", "memory_gib", "python", "versions", "date", "command"} <= r["machine"].keys()

    imports = r["imports"]
    for module in ("pulumi", "components", "components.chain"):
        assert {"seconds_median", "peak_bytes_median", "maxrss_kib_median"} <= imports[module].keys()
        assert imports[module]["providers_loaded"] == []
    assert {"ratio_time", "ratio_peak_memory"} <= imports["components"].keys()
    assert isinstance(imports["met"], bool)

    lazy = r["lazy"]
    assert lazy["ok"] is True
    built = {s["stage"]: s["steps"][-1]["providers"] for s in lazy["stages"]}
    assert built["imports"] == []
    assert built["GhcrPullSecret"] == ["pulumi_kubernetes"]
    assert built["GitHubActionsSecrets"] == ["pulumi_github"]

    chain = r["full_chain"]
    assert chain["equivalent"] is True
    assert chain["registrations"]["package"] == chain["registrations"]["raw"] == r["resources"]["registrations"]
    assert chain["resources"]["package"] == chain["resources"]["raw"] == chain["resources"]["raw_flat"] == r["resources"]["resources"] > 0
    for program in ("package", "raw", "raw_flat", "empty"):
        assert {"cpu_median", "wall_median", "cpu_min", "cpu_q1", "cpu_q3"} <= chain[program].keys()
        assert chain[program]["cpu_median"] > 0
    assert chain["ratio"] > 0 and chain["ratio_vs_flat"] > 0 and chain["components_cost"] > 0
    assert isinstance(chain["met"], bool)

    attribution = r["attribution"]
    parts = {"cpu", "sdk stack capture", "sdk type hints", "gc", "validation", "rest"}
    assert set(attribution["parts"]["package"]) == set(attribution["parts"]["raw"]) == set(attribution["gap"]) == parts
    assert attribution["parts"]["package"]["sdk stack capture"] > 0 and attribution["parts"]["package"]["validation"] > 0
    assert attribution["parts"]["raw"]["validation"] == 0  # the raw program validates nothing
    assert attribution["ratio"] > 0 and attribution["ratio_without_sdk"] > 0

    namespaces = r["scaling"]["namespaces"]
    assert [p["namespaces"] for p in namespaces["points"]] == [1, 10, 100]
    for point in namespaces["points"]:
        assert point["package_per_namespace"] > 0 and point["raw_per_namespace"] > 0
        assert {"package_net_per_namespace", "raw_net_per_namespace", "ratio"} <= point.keys()
    assert len(namespaces["marginal"]) == 2
    assert set(namespaces["slopes"]) == set(namespaces["met"]) == {"total", "net", "marginal", "marginal_without_gc"}
    assert namespaces["target_applies_to"] in namespaces["slopes"]
    assert namespaces["fixed"]["cpu_median"] > 0
    stacks = r["scaling"]["pr_stacks"]
    assert [p["stacks"] for p in stacks["points"]] == [1, 5]
    assert stacks["slope"] >= 1 and stacks["fixed"]["cpu_median"] > 0

    resources = r["resources"]
    assert len(resources["items"]) == resources["registrations"] == resources["resources"] + resources["components"] + 1
    assert {"full_chain_ratio", "full_chain_ratio_vs_flat", "namespace_slopes", "namespace_met"} <= r["summary"].keys()
