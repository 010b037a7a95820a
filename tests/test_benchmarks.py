"""``benchmarks/run.py`` runs and reports its three sections, and its replay registers what the chain does: never speed."""

import dataclasses
import subprocess
import sys
from pathlib import Path

from benchmarks import run
from secret_chain.ops.offline import evaluate, load_config_file

ROOT = Path(__file__).resolve().parent.parent


def test_replay_registers_what_the_chain_registers() -> None:
    config, secret_keys = load_config_file(run.PRODUCTION)
    chain = run.record(config, secret_keys)
    replayed = evaluate(run.replay(chain), config=config, secret_keys=secret_keys)
    assert {(r.type, r.name) for r in replayed.registrations} == {(r.type, r.name) for r in chain.registrations}
    assert chain.resources and chain.components
    assert run.differences(chain, replayed) == []  # inputs with secret markers, parents, dependencies, options
    assert replayed.component_outputs == chain.component_outputs
    assert replayed.stack_outputs == chain.stack_outputs


def test_differences_notice_a_changed_registration() -> None:
    config, secret_keys = load_config_file(run.PRODUCTION)
    chain = run.record(config, secret_keys)
    other = dataclasses.replace(chain, registrations=list(chain.registrations))
    target = next(r for r in other.resources if r.additional_secret_outputs)
    other.registrations[other.registrations.index(target)] = dataclasses.replace(target, additional_secret_outputs=())
    other.registrations.remove(other.components[0])
    assert run.differences(chain, other) == sorted([target.urn, chain.components[0].urn])


def test_quick_run_reports_the_three_sections() -> None:
    proc = subprocess.run([sys.executable, "benchmarks/run.py", "--quick"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for line in ("1. Import in a fresh interpreter", "2. Whole production chain", "3. Namespace fan-out", "ratio chain / replay:", "slope"):
        assert line in out
    for module in run.IMPORTS:
        assert f"   {module} " in out
    assert "replay registers the same (type, name): True" in out
    assert "differing registrations (inputs, parent, options): none" in out
