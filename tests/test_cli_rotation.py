"""`secret-chain rotation`: due and overdue secrets from a `pulumi stack export` sample."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from secret_chain import catalog
from secret_chain.ops import runbook
from secret_chain.ops.cli import main
from secret_chain.ops.rotation import parse_time

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / "tests" / "data" / "stack-export.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_statuses_at_fixed_date(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rotation", "--state", str(STATE), "--now", "2026-01-01", "--json")
    assert code == 1
    data = json.loads(out)
    assert data["escEnvironment"] == "<org>/secret-chain/Production"  # from the stack in the URNs
    assert (data["overdue"], data["due"]) == (3, 1)
    got = sorted((i["configKey"], i["resource"], i["status"]) for i in data["items"])
    assert got == sorted(
        [
            ("prometheus:authToken", "Secret default/prometheus-auth", "overdue"),
            ("prometheus:authToken", "Secret monitoring/default-prometheus-auth", "overdue"),
            ("flux:githubToken", "Secret flux-system/github-token", "overdue"),
            ("namespace:imagePullSecret.token", "Secret default/ghcr-pull-secret", "due"),
            ("namespace:imagePullSecret.username", "Secret default/ghcr-pull-secret", "unscheduled"),
            ("ci:pulumiAccessToken", "GitHub Actions secret PULUMI_ACCESS_TOKEN", "deprecated"),
            ("ci:workflowDispatchToken", "GitHub Actions secret WORKFLOW_DISPATCH_TOKEN", "deprecated"),
            ("ci:githubAppId", "GitHub Actions variable APP_ID", "unscheduled"),
            ("ci:githubAppPrivateKey", "GitHub Actions secret APP_PRIVATE_KEY (environment production)", "unknown"),
        ]
    )
    items = {(i["configKey"], i["resource"]): i for i in data["items"]}
    flux = items[("flux:githubToken", "Secret flux-system/github-token")]
    assert flux["scheduleDays"] == 90 and flux["due"].startswith("2025-11-30")
    assert flux["generate"] == runbook.of(catalog.get("flux:githubToken")).generate
    # flux:githubToken is each environment's own (issue 20): production's fix sets it in Production, read from stdin
    assert flux["fix"].startswith("head -n 1 | tr -d '\\n' | pulumi env set <org>/secret-chain/Production pulumiConfig.flux:githubToken --secret")
    assert "github_pat_" not in flux["fix"].split("; ")[0]  # a placeholder in an argument would tell a person to type it there
    ghcr = items[("namespace:imagePullSecret.token", "Secret default/ghcr-pull-secret")]
    assert ghcr["modified"].startswith("2025-01-10T08:00:00.123456")  # nanosecond RFC 3339 from the state
    dispatch = items[("ci:workflowDispatchToken", "GitHub Actions secret WORKFLOW_DISPATCH_TOKEN")]
    assert dispatch["modified"].startswith("2025-03-01")  # falls back to "created"
    assert "CANARY" not in out and "CIPHERTEXT" not in out


def test_text_report_lists_actions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rotation", "--state", str(STATE), "--now", "2026-01-01", "--esc-environment", "acme/secret-chain/Production")
    assert code == 1
    lines = out.splitlines()
    overdue = [line for line in lines if line.strip().startswith("OVERDUE:")]
    due = [line for line in lines if line.strip().startswith("DUE:")]
    assert len(overdue) == 3 and len(due) == 1
    assert "flux:githubToken in Secret flux-system/github-token (last changed 2025-09-01; quarterly, due 2025-11-30)" in out
    assert (
        "then: openssl rand -hex 32 | tr -d '\\n' | pulumi env set acme/secret-chain/Production pulumiConfig.prometheus:authToken "
        "--secret --string --file -"
    ) in out
    assert "new value: openssl rand -hex 32" in out
    assert "DEPRECATED: ci:pulumiAccessToken" in out  # retired, never renewed (tests/test_cli_rotation_steps.py)
    assert "3 overdue, 1 due soon, 0 ok, 2 rotated on events only, 1 unknown, 2 deprecated to retire" in out
    assert "CANARY" not in out


def test_warn_days_and_clean_exit(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rotation", "--state", str(STATE), "--now", "2026-01-01", "--warn-days", "90", "--json")
    due = {i["configKey"] for i in json.loads(out)["items"] if i["status"] == "due"}
    assert code == 1 and due == {"namespace:imagePullSecret.token"}  # not the deprecated ci:workflowDispatchToken
    # Before anything was overdue: exit 0 even with a value due soon.
    code, out, _ = run(capsys, "rotation", "--state", str(STATE), "--now", "2025-05-25")
    assert code == 0
    assert "0 overdue, 2 due soon" in out and out.count("DUE: prometheus:authToken") == 2  # both copies


def test_fresh_state_is_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(STATE.read_text())
    fresh = copy.deepcopy(data)
    for res in fresh["deployment"]["resources"]:
        res["created"] = res["modified"] = "2025-12-20T00:00:00Z"
    path = tmp_path / "state.json"
    path.write_text(json.dumps(fresh))
    code, out, _ = run(capsys, "rotation", "--state", str(path), "--now", "2026-01-01")
    assert code == 0 and "0 overdue, 0 due soon, 5 ok, 2 rotated on events only, 0 unknown, 2 deprecated to retire" in out


def test_pr_stack_names_the_pr_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = STATE.read_text().replace("urn:pulumi:production::", "urn:pulumi:preview-pr-9::")
    path = tmp_path / "state.json"
    path.write_text(text)
    code, out, _ = run(capsys, "rotation", "--state", str(path), "--now", "2026-01-01", "--json")
    assert code == 1 and json.loads(out)["escEnvironment"] == "<org>/secret-chain/PullRequest"


def test_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "rotation", "--state", str(tmp_path / "missing.json"))
    assert code == 2 and err.startswith("error: cannot read state file")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = run(capsys, "rotation", "--state", str(bad))
    assert code == 2 and "is not valid JSON" in err
    bad.write_text('{"version": 3}')
    code, _, err = run(capsys, "rotation", "--state", str(bad))
    assert code == 2 and "no deployment.resources" in err
    code, _, err = run(capsys, "rotation", "--state", str(STATE), "--now", "next tuesday")
    assert code == 2 and "--now is not an ISO 8601 date" in err
    assert main(["rotation", "--state", str(STATE), "--warn-days", "-3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "from 0 to 3650 days" in err


def test_parse_time_forms() -> None:
    assert parse_time("2026-01-31", "x").isoformat() == "2026-01-31T00:00:00+00:00"
    assert parse_time("2026-01-31T12:00:00.123456789Z", "x").isoformat() == "2026-01-31T12:00:00.123456+00:00"
    assert parse_time("2026-01-31T12:00:00+02:00", "x").utcoffset() is not None


def test_subprocess_rotation() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "secret_chain", "rotation", "--state", str(STATE), "--now", "2026-01-01T00:00:00Z"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 1
    assert "OVERDUE: flux:githubToken" in result.stdout and "Traceback" not in result.stderr
