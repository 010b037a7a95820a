"""The stack program and the offline main job (`make demo`) on the bundled example configuration."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from secret_chain.ops.offline import load_config_file, unwrap
from tests.leaks import find_leaks
from tests.runtime import evaluate
from tests.schemas import validate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "config" / "production.json"


def _secrets(path: Path) -> list[str]:
    config, secret_keys = load_config_file(path)
    return [config[k] for k in secret_keys]


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_stack_program_file_runs_on_the_example_config(preview: bool) -> None:
    config, secret_keys = load_config_file(EXAMPLE)
    ev = evaluate(lambda: runpy.run_path(str(ROOT / "__main__.py")), config=config, secret_keys=secret_keys, preview=preview)
    types = {r.type for r in ev.resources}
    assert "kubernetes:core/v1:Secret" in types
    assert "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret" in types  # issue 19: production writes to its GitHub environment
    assert "kubernetes:monitoring.coreos.com/v1:ServiceMonitor" in types
    for obj in ev.kubernetes_objects():
        validate(obj)
    assert ev.stack_outputs["appNamespace"] == "default"
    assert find_leaks(ev, [config[k] for k in secret_keys]) == []
    # every custom resource sits under a secret-chain component
    by_urn = {r.urn: r for r in ev.registrations}
    for reg in ev.resources:
        assert by_urn[reg.parent].type.startswith("secret-chain:index:"), reg.urn


def test_demo_command_prints_resources_and_chains_but_no_secret() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "secret_chain", "plan", "--stack", "production", "--config", str(EXAMPLE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    out = result.stdout
    assert "kubernetes:core/v1:Secret" in out and "default/ghcr-pull-secret" in out
    assert "namespace:imagePullSecret.token" in out and "Secret default/ghcr-pull-secret [.dockerconfigjson]" in out
    assert "GitHub Actions secret APP_PRIVATE_KEY" in out and "PULUMI_ACCESS_TOKEN" not in out  # issue 14
    for secret in _secrets(EXAMPLE):
        for fragment in [secret, *[line for line in secret.splitlines() if len(line) > 16]]:
            assert fragment not in out and fragment not in result.stderr


def test_plan_json_and_preview_pr_stack() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "secret_chain", "plan", "--stack", "preview-pr-42", "--config", str(ROOT / "examples/config/preview.json"), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    data = json.loads(result.stdout)
    assert data["stack"] == "preview-pr-42"
    kube = [r for r in data["resources"] if r["type"].startswith("kubernetes:")]
    # a PR stack owns its namespace and writes only inside it: no ClusterIssuer, no Flux, no GitHub secrets
    assert [r["objectName"] for r in kube if r["type"] == "kubernetes:core/v1:Namespace"] == ["preview-pr-42"]
    assert {r["namespace"] for r in kube if r["type"] != "kubernetes:core/v1:Namespace"} == {"preview-pr-42"}
    assert data["outputs"]["grafanaCallbackUrl"] == "https://pr-grafana.example.com/login/github"  # the preview App's one callback
    assert not any(r["type"].startswith("github:") for r in data["resources"])  # and never repository secrets


def test_bad_config_is_one_clear_error_not_a_traceback(tmp_path: Path) -> None:
    config = json.loads(EXAMPLE.read_text())
    pull = config["namespace:imagePullSecret"]  # an object key: the CLI prints its JSON text and the object
    pull["objectValue"]["token"] = "github_pat_" + "CANARY" * 14
    pull["value"] = json.dumps(pull["objectValue"])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config))
    result = subprocess.run(
        [sys.executable, "-m", "secret_chain", "plan", "--stack", "production", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert 'config "namespace:imagePullSecret.token" is a fine-grained personal access token' in result.stderr
    assert "CANARY" not in result.stderr + result.stdout


def test_unwrap_removes_markers() -> None:
    from pulumi.runtime import rpc

    assert unwrap({"a": rpc.wrap_rpc_secret({"b": "c"})}) == {"a": {"b": "c"}}
