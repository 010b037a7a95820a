"""``preflight --cluster`` says what it read of the running cluster, and keeps the config's results when it cannot read it.

Before issue 21 (item 8) an unreachable cluster printed only kubectl's error, with exit 2 and none of the config's
results; and kubectl's own "context was not found" was read as "the CRD is not installed". The cluster is played by a
stub ``kubectl`` on PATH (as in tests/test_cluster_versions.py) that answers as kubectl does: the CRD as JSON, the API
server's 404 as ``Error from server (NotFound): …`` (kubectl pkg/cmd/util/helpers.go ``StandardErrorMessage``), or
kubectl's own failures, whose words are copied from kubectl 1.32 run here against a closed port and an unknown context.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from secret_chain.ops.cli import main
from secret_chain.ops.preflight import CLUSTER_PERMISSION
from tests.conftest import canary_config
from tests.runtime import cli_json
from tests.test_cluster_versions import current_cluster

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "config" / "production.json"

REFUSED = "The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?"
NO_CONTEXT = "error: context was not found for specified context: nowhere"
"""kubectl's own errors (the API server was never asked): neither says that a CRD is missing, though the second says
"not found"."""


def stub_kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, fails_with: str = "") -> Path:
    """A kubectl on PATH: answers ``get crd NAME -o json`` from :func:`current_cluster`, or fails with ``fails_with``."""
    store = tmp_path / "crds.json"
    store.write_text(json.dumps(current_cluster()))
    calls = tmp_path / "calls.txt"
    stub = tmp_path / "bin" / "kubectl"
    stub.parent.mkdir()
    stub.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"open({str(calls)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        f"failure = {fails_with!r}\n"
        "if failure:\n"
        "    sys.stderr.write(failure + '\\n')\n"
        "    sys.exit(1)\n"
        f"crds = json.load(open({str(store)!r}))\n"
        "name = sys.argv[3]\n"
        "if name not in crds:\n"
        "    sys.stderr.write(f'Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io \"{name}\" not found\\n')\n"
        "    sys.exit(1)\n"
        "print(json.dumps(crds[name]))\n"
    )
    stub.chmod(0o755)
    monkeypatch.setenv("PATH", f"{stub.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return calls


def ready_config(tmp_path: Path) -> str:
    config, secret_keys = canary_config()
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cli_json(config, secret_keys)))
    return str(path)


def preflight(capsys: pytest.CaptureFixture[str], config: str, *extra: str) -> tuple[int, str, str]:
    code = main(["preflight", "--stack", "production", "--config", config, *extra])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("failure", [REFUSED, NO_CONTEXT, "kubectl missing"])
def test_a_cluster_that_cannot_be_read_keeps_the_config_results(
    failure: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The example config (not ready: its documentation values) prints every config problem as without --cluster,
    then says that the cluster could not be checked and why; exit 1 for the config's problems."""
    if failure == "kubectl missing":
        monkeypatch.setenv("PATH", str(tmp_path))
        why = "kubectl, which is not on PATH"
    else:
        stub_kubectl(tmp_path, monkeypatch, fails_with=failure)
        why = failure.removeprefix("error: ")
    config_only = preflight(capsys, str(EXAMPLE))
    code, out, err = preflight(capsys, str(EXAMPLE), "--cluster")
    assert (code, err) == (1, "")
    assert config_only[0] == 1
    problems = [line for line in config_only[1].splitlines() if line.startswith("  ✗ ")]
    assert problems and problems == [line for line in out.splitlines() if line.startswith("  ✗ ")]  # none added: no "CRD not installed"
    (said,) = [line for line in out.splitlines() if line.startswith("Cluster (")]
    assert "NOT CHECKED: the cluster check could not run" in said and why in said
    assert out.splitlines()[-1] == "NOT READY: fix the problems above, then run preflight again."
    code, out, _ = preflight(capsys, str(EXAMPLE), "--cluster", "--json")
    data = json.loads(out)
    assert code == 1 and data["cluster"]["ran"] is False and why in data["cluster"]["error"] and data["cluster"]["passed"] == []
    assert data["problems"] == json.loads(preflight(capsys, str(EXAMPLE), "--json")[1])["problems"]


def test_a_ready_config_on_an_unreachable_cluster_exits_2_and_says_the_config_is_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stub_kubectl(tmp_path, monkeypatch, fails_with=REFUSED)
    code, out, err = preflight(capsys, ready_config(tmp_path), "--cluster")
    assert (code, err) == (2, "")
    assert "keys checked: " in out and "✗" not in out
    assert f"NOT CHECKED: the cluster check could not run: `kubectl get crd servicemonitors.monitoring.coreos.com` failed: {REFUSED}" in out
    assert out.splitlines()[-1].startswith("CLUSTER NOT CHECKED: the config is ready for `pulumi up`")


def test_when_all_is_well_it_says_what_it_read_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = stub_kubectl(tmp_path, monkeypatch)
    code, out, err = preflight(capsys, ready_config(tmp_path), "--cluster", "--context", "staging")
    assert (code, err) == (0, "")
    assert calls.read_text().splitlines() == ["get crd servicemonitors.monitoring.coreos.com -o json --context staging"]
    lines = out.splitlines()
    start = lines.index(f"Cluster (context staging), read with kubectl get crd <name> -o json (permission: {CLUSTER_PERMISSION}):")
    assert lines[start + 1 : start + 4] == [
        "  CRDs read: servicemonitors.monitoring.coreos.com",
        "  ✓ CRD servicemonitors.monitoring.coreos.com serves v1 (PrometheusAuth)",
        "  ✓ CRD servicemonitors.monitoring.coreos.com v1 has spec.endpoints.authorization (PrometheusAuth)",
    ]
    assert lines[-1] == "OK: the config is ready for `pulumi up`, and the running cluster serves what the built parts write."
    code, out, _ = preflight(capsys, ready_config(tmp_path), "--cluster", "--json")
    cluster: dict[str, Any] = json.loads(out)["cluster"]
    assert code == 0 and cluster == {
        "context": None,
        "ran": True,
        "permission": CLUSTER_PERMISSION,
        "reads": ["kubectl get crd servicemonitors.monitoring.coreos.com -o json"],
        "passed": [
            "CRD servicemonitors.monitoring.coreos.com serves v1 (PrometheusAuth)",
            "CRD servicemonitors.monitoring.coreos.com v1 has spec.endpoints.authorization (PrometheusAuth)",
        ],
        "error": None,
    }


def test_every_crd_the_example_stack_needs_is_read_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stub_kubectl(tmp_path, monkeypatch)
    _, out, _ = preflight(capsys, str(EXAMPLE), "--cluster", "--json")
    cluster = json.loads(out)["cluster"]
    assert [r.split()[3] for r in cluster["reads"]] == [
        "gitrepositories.source.toolkit.fluxcd.io",
        "clusterissuers.cert-manager.io",
        "servicemonitors.monitoring.coreos.com",
    ]
    assert "CRD gitrepositories.source.toolkit.fluxcd.io v1 has spec.provider allowing github (FluxGitCredentials)" in cluster["passed"]
    assert len(cluster["passed"]) == 5


def test_without_cluster_nothing_is_said_of_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = preflight(capsys, ready_config(tmp_path))
    assert code == 0 and "Cluster" not in out and out.splitlines()[-1] == "OK: the config is ready for `pulumi up`."
    assert json.loads(preflight(capsys, ready_config(tmp_path), "--json")[1])["cluster"] is None
