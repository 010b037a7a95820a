"""`secret-chain plan`: offline render, --json and --manifests, every secret redacted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from secret_chain.ops.cli import main
from tests.conftest import canary_config
from tests.leaks import fragments
from tests.runtime import cli_json

ROOT = Path(__file__).resolve().parents[1]


def write_config(tmp_path: Path, config: dict[str, str], secret_keys: list[str]) -> str:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cli_json(config, secret_keys)))
    return str(path)


def assert_no_secret(text: str, config: dict[str, str], secret_keys: list[str]) -> None:
    for key in secret_keys:
        for fragment in fragments(config[key]):
            assert fragment not in text, f"{key} leaked"


def test_manifests_are_redacted_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, secret_keys = canary_config()
    out_dir = tmp_path / "manifests"
    code = main(["plan", "--stack", "production", "--config", write_config(tmp_path, config, secret_keys), "--manifests", str(out_dir)])
    out = capsys.readouterr().out
    assert code == 0
    files = sorted(p.name for p in out_dir.iterdir())
    assert files == [
        "secret-default-ghcr-pull-secret.yaml",
        "secret-default-prometheus-auth.yaml",
        "secret-monitoring-default-prometheus-auth.yaml",
        "servicemonitor-monitoring-default-api.yaml",
    ]
    assert f"Wrote 4 manifest(s) to {out_dir}" in out
    docs = {name: yaml.safe_load((out_dir / name).read_text()) for name in files}
    pull = docs["secret-default-ghcr-pull-secret.yaml"]
    assert pull["apiVersion"] == "v1" and pull["kind"] == "Secret" and pull["type"] == "kubernetes.io/dockerconfigjson"
    placeholder = "<secret:namespace:imagePullSecret.username,namespace:imagePullSecret.token>"
    skeleton = {"auths": {"ghcr.io": {"auth": placeholder, "password": placeholder, "username": placeholder}}}
    assert json.loads(pull["stringData"][".dockerconfigjson"]) == skeleton  # JSON, as the API server requires
    # the app's token Secret is written as data (its keys change during a rotation, see kube.secret); its placeholder is
    # in stringData, since data must be base64 (tests/test_cli_manifests.py)
    app = docs["secret-default-prometheus-auth.yaml"]
    assert "data" not in app and app["stringData"] == {"PROMETHEUS_AUTH_TOKEN": "<secret:prometheus:authToken>"}
    monitor = docs["servicemonitor-monitoring-default-api.yaml"]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1" and monitor["kind"] == "ServiceMonitor"
    everything = out + "".join((out_dir / n).read_text() for n in files)
    assert_no_secret(everything, config, secret_keys)


def test_json_and_text_are_redacted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, secret_keys = canary_config()
    path = write_config(tmp_path, config, secret_keys)
    assert main(["plan", "--stack", "production", "--config", path, "--json", "--manifests", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert len(data["manifests"]) == 4
    assert {link["configKey"] for link in data["chain"]} >= {"namespace:imagePullSecret.token", "prometheus:authToken", "ci:githubAppPrivateKey"}
    assert_no_secret(out, config, secret_keys)
    assert main(["plan", "--stack", "production", "--config", path, "--preview"]) == 0
    text = capsys.readouterr().out
    assert "(preview, offline)" in text and "GitHub Actions secret APP_PRIVATE_KEY" in text
    assert_no_secret(text, config, secret_keys)


def test_pr_stack_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, secret_keys = canary_config()
    assert main(["plan", "--stack", "preview-pr-42", "--config", write_config(tmp_path, config, secret_keys), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {r["namespace"] for r in data["resources"] if r["namespace"]} == {"preview-pr-42"}
    assert not [r for r in data["resources"] if r["type"].startswith("github:")]


def test_invalid_config_is_one_error_without_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, secret_keys = canary_config()
    config["namespace:imagePullSecret.token"] = "github_pat_CANARY0123456789abcdef0123456789"
    code = main(["plan", "--stack", "production", "--config", write_config(tmp_path, config, secret_keys)])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("error: the config of stack production is not valid (run `secret-chain preflight`)")
    assert 'config "namespace:imagePullSecret.token"' in err
    assert "CANARY" not in out + err and "Traceback" not in err


def test_manifests_dir_not_writable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, secret_keys = canary_config()
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = main(["plan", "--stack", "production", "--config", write_config(tmp_path, config, secret_keys), "--manifests", str(blocker)])
    assert code == 2 and "cannot create --manifests directory" in capsys.readouterr().err


def test_subprocess_plan(tmp_path: Path) -> None:
    config, secret_keys = canary_config()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "secret_chain",
            "plan",
            "--stack",
            "production",
            "--config",
            write_config(tmp_path, config, secret_keys),
            "--manifests",
            str(tmp_path / "m"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "resources would be created" in result.stdout
    everything = result.stdout + result.stderr + "".join(p.read_text() for p in (tmp_path / "m").iterdir())
    assert_no_secret(everything, config, secret_keys)
