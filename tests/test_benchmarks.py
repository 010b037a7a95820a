"""The benchmark's baseline is fair, and ``benchmarks/run.py --quick`` runs: structure only, never speed."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import compare, raw_program
from components.offline import evaluate, load_config_file, unwrap
from components.program import main
from tests.conftest import canary_config

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = ROOT / "examples" / "config" / "production.json"


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
@pytest.mark.parametrize("source", ["production.json", "canary"])
def test_raw_program_registers_what_the_chain_registers(source: str, preview: bool) -> None:
    config, secret_keys = load_config_file(PRODUCTION) if source == "production.json" else canary_config()
    package = evaluate(main, config=config, secret_keys=secret_keys, preview=preview)
    raw = evaluate(raw_program.main, config=config, secret_keys=secret_keys, preview=preview)
    assert compare.differences(package, raw) == []
    assert len(package.resources) == len(raw.resources) > 0
    assert package.stack_outputs == raw.stack_outputs


def test_comparison_notices_a_different_input() -> None:
    config, secret_keys = load_config_file(PRODUCTION)
    package = evaluate(main, config=config, secret_keys=secret_keys)
    changed = dict(config, **{"ci:githubAppId": "654321"})
    raw = evaluate(raw_program.main, config=changed, secret_keys=secret_keys)
    assert compare.differences(package, raw) == ["inputs differ: github:index/actionsVariable:ActionsVariable platform/APP_ID"]


def test_comparison_notices_secretness() -> None:
    config, secret_keys = load_config_file(PRODUCTION)
    package = evaluate(main, config=config, secret_keys=secret_keys)
    raw = evaluate(raw_program.main, config=config, secret_keys=secret_keys)
    # the same values, but one resource's secret markers dropped
    index = next(i for i, reg in enumerate(raw.registrations) if reg.type == "github:index/actionsSecret:ActionsSecret")
    target = raw.registrations[index]
    raw.registrations[index] = dataclasses.replace(target, inputs=unwrap(target.inputs))
    assert compare.differences(package, raw) == [f"inputs differ: {compare.identity(target)}"]


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
    for heading in ("1. Import", "Lazy provider imports", "2. Full production chain", "3. Scaling", "Preview-PR stacks", "4. The production"):
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
    assert chain["equivalent"] is True and chain["differences"] == []
    assert chain["package_resources"] == chain["raw_resources"] == r["resources"]["resources"] > 0
    assert chain["package_seconds_median"] > 0 and chain["raw_seconds_median"] > 0
    assert isinstance(chain["met"], bool)

    namespaces = r["scaling"]["namespaces"]
    assert [p["namespaces"] for p in namespaces["points"]] == [1, 10, 100]
    assert all(p["per_namespace"] > 0 and p["raw_per_namespace"] > 0 for p in namespaces["points"])
    assert len(namespaces["marginal"]) == 2
    assert {"slope", "marginal_slope", "raw_slope", "met"} <= namespaces.keys()
    stacks = r["scaling"]["pr_stacks"]
    assert [p["stacks"] for p in stacks["points"]] == [1, 5]
    assert stacks["slope"] >= 1

    resources = r["resources"]
    assert len(resources["items"]) == resources["registrations"] == resources["resources"] + resources["components"] + 1
    assert resources["registrations"] == chain["package_registrations"]
