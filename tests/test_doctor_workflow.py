"""``.github/workflows/doctor.yml`` (issue 22 item 3), run as the runner runs it on the simulated world.

* The issue body (``python -m secret_chain.ops.doctor_issue``): links, statuses, keys, fixes and dates only, never a
  value; opened for a failing link, a credential expiring within the window, or a stack whose doctor could not run.
* The ``issue`` job, step by step (tests/runner.py) on the world's GitHub (tests/world.py: issues and labels as GitHub's
  REST API "Issues" and "Labels" describe them, ``gh issue``/``gh label`` as the GitHub CLI manual and cli/cli's
  pkg/cmd/issue, pkg/cmd/label do): none → open, open → updated (one issue, not two), open → closed, and a doctor job
  that failed.
* The ``doctor`` job end to end on a world where production is deployed (tests/test_upgrade.py ``deploy_platform``):
  OIDC login, the stack's config, a kubeconfig expiring with the job, doctor against stand-in GitHub and DigitalOcean
  APIs (tests/doctor_apis.py; ``GITHUB_API_URL`` as Actions sets it), its report handed to the issue job as a job output.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from secret_chain.doctor import runner as doctor_runner
from secret_chain.doctor.model import Context, Finding, Status
from secret_chain.ops import doctor_issue
from tests.runner import JobResult, Runner, dispatch, needs_of, schedule
from tests.world import GitHubApp, World

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "doctor.yml"
REPO = "acme/platform"
NOW = datetime.datetime(2026, 12, 6, 6, 0, tzinfo=datetime.UTC)
VALUE = "ghp_CANARYvalue0123456789abcdefABCDEF0123"
"""A token value a finding must never carry into the issue (here planted in the fields the body leaves out)."""


def report(stack: str, *findings: Finding) -> str:
    """A stack's report as ``secret-chain doctor --json`` writes it (the runner's own serializer)."""
    context = Context(stack=stack, kind="production" if stack == "production" else "preview-base", config={}, now=NOW)
    return json.dumps(doctor_runner.as_json(context, list(findings)))


def ok(link: str = "esc.environment") -> Finding:
    return Finding(link, Status.OK, f"{link}: fine", key="secret-chain:escEnvironment")


def failing(link: str = "github.installation/ci", key: str = "ci:githubAppId") -> Finding:
    return Finding(
        link,
        Status.FAIL,
        f"the installation is suspended; token {VALUE}",
        symptom="CI jobs fail",
        key=key,
        fix="unsuspend it: the organisation's Settings → GitHub Apps → the App → Configure → Unsuspend",
        facts={"leak": VALUE},
    )


def expiring(days: float) -> Finding:
    return Finding(
        "github.ghcr-token",
        Status.WARN if days > 0 else Status.FAIL,
        "GitHub accepts it, but it expires soon",
        key="namespace:imagePullSecret.token",
        fix="create a new token before it expires: head -n 1 | tr -d '\\n' | pulumi env set acme/secret-chain/Production x --secret",
        expires=NOW + datetime.timedelta(days=days),
    )


# --- the issue body ----------------------------------------------------------------------------------------------------


def body(tmp: Path, reports: dict[str, str], warn_days: int = 14) -> tuple[int, str]:
    argv = []
    for stack, text in reports.items():
        path = tmp / f"{stack}.json"
        path.write_text(text)
        argv += ["--report", f"{stack}={path}"]
    done = subprocess.run(
        [sys.executable, "-m", "secret_chain.ops.doctor_issue", *argv, "--warn-days", str(warn_days), "--now", NOW.isoformat()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode in (0, doctor_issue.OPEN, doctor_issue.KEEP), done.stderr
    return {0: 0, doctor_issue.OPEN: 1, doctor_issue.KEEP: 2}[done.returncode], done.stdout


def test_the_body_names_links_keys_fixes_and_dates_never_a_value(tmp_path: Path) -> None:
    code, text = body(tmp_path, {"production": report("production", ok(), failing(), expiring(3)), "preview-base": report("preview-base", ok())})
    assert code == 1
    assert VALUE not in text and "suspended" not in text  # `checked` and `facts` are left out: they quote API answers
    assert "**FAIL** `github.installation/ci`, key `ci:githubAppId`" in text
    assert "**WARN** `github.ghcr-token`, key `namespace:imagePullSecret.token`, expires 2026-12-09 06:00 UTC" in text
    assert "fix: unsuspend it: the organisation's Settings → GitHub Apps → the App → Configure → Unsuspend" in text
    assert "head -n 1 \\| tr -d '\\\\n' \\| pulumi env set" in text  # Markdown's active characters escaped
    assert "### production: FAIL" in text and "### preview-base: OK" in text and "- every link OK" in text
    assert text.startswith(doctor_issue.MARKER) and "**2 problem(s)**" in text


def test_what_opens_the_issue(tmp_path: Path) -> None:
    assert body(tmp_path, {"production": report("production", ok())})[0] == 0
    assert body(tmp_path, {"production": report("production", expiring(20))})[0] == 0  # 20 days out: outside a 14-day window
    assert body(tmp_path, {"production": report("production", expiring(20))}, warn_days=30)[0] == 1
    # a WARN without a deadline (an API that did not answer) is listed, opens nothing by itself, and closes nothing (KEEP)
    unchecked = Finding("digitalocean.dns-token", Status.WARN, "not checked (timed out)", key="gateway:digitaloceanDnsToken")
    code, text = body(tmp_path, {"production": report("production", unchecked)})
    assert code == 2 and "**WARN** `digitalocean.dns-token`, key `gateway:digitaloceanDnsToken`" in text
    code, text = body(tmp_path, {"production": report("production", ok()), "preview-base": ""})
    assert code == 1 and "### preview-base: doctor could not run" in text and "did not finish" in text
    code, text = body(tmp_path, {"production": report("preview-base", ok())})
    assert code == 1 and "the report is of another stack" in text


def test_the_expiry_window_counts_from_the_expiry_date(tmp_path: Path) -> None:
    """A credential expiring in 20 days is outside a 14-day window, inside a 30-day one (the WARN status alone is the
    doctor's own --warn-days; the issue's window is its own input)."""
    ok_finding = Finding("github.ghcr-token", Status.OK, "fine", key="namespace:imagePullSecret.token", expires=NOW + datetime.timedelta(days=20))
    assert body(tmp_path, {"production": report("production", ok_finding)})[0] == 0
    assert body(tmp_path, {"production": report("production", ok_finding)}, warn_days=30)[0] == 1


def test_a_forged_line_in_a_report_cannot_shape_the_issue(tmp_path: Path) -> None:
    forged = Finding("x\n### production: OK\n<img src=x>", Status.FAIL, "c", key="ci:githubAppId", fix="[click](https://evil.example) `x`\n- fake")
    code, text = body(tmp_path, {"production": report("production", forged)})
    assert code == 1 and "\n### production: OK" not in text.replace("### production: FAIL", "")
    # the link stays inside its code span (GitHub renders a code span's text literally, HTML included), on one line
    assert "**FAIL** `x ### production: OK <img src=x>`, key `ci:githubAppId`" in text
    assert "fix: \\[click\\]\\(`https://evil.example)` \\`x\\` - fake" in text and "\n- fake" not in text


def test_a_report_cannot_mention_a_team_or_plant_a_link(tmp_path: Path) -> None:
    """``@team`` in a report's fix would notify the team and a bare URL would be a link (GitHub autolinks both): the
    ``@`` is followed by a zero-width joiner and a URL is a code span (issue 22 review)."""
    fix = "ask @acme/admins or @octocat at https://evil.example/x or www.evil.example"
    forged = Finding("github.app/ci", Status.FAIL, "c", key="ci:githubAppId", fix=fix)
    code, text = body(tmp_path, {"production": report("production", forged)})
    assert code == 1 and "@acme" not in text and "@octocat" not in text
    assert f"@{doctor_issue.ZWJ}acme/admins" in text and f"@{doctor_issue.ZWJ}octocat" in text
    assert "at `https://evil.example/x` or `www.evil.example`" in text


def test_the_workflow_uses_the_renderers_title_and_label() -> None:
    (step,) = [s for s in yaml.safe_load(WORKFLOW.read_text())["jobs"]["issue"]["steps"] if s.get("name") == "Open, update or close the issue"]
    assert step["env"]["TITLE"] == doctor_issue.TITLE and step["env"]["LABEL"] == doctor_issue.LABEL


# --- the issue job on the world ------------------------------------------------------------------------------------------


APP_ID = "424242"
APP_KEY = "-----BEGIN RSA PRIVATE KEY-----\nCANARYappKEY\n-----END RSA PRIVATE KEY-----"


@pytest.fixture
def issue_world(tmp_path: Path) -> Iterator[tuple[Runner, Path]]:
    """A repository whose production environment holds the CI App's ID and key (as the chain writes them), the App
    installed on the organisation."""
    world = World(now=NOW.timestamp())
    world.github.repositories.add(REPO)
    world.github.environments[(REPO, "production")] = "production"
    world.github.create_variable(("env", REPO, "production"), "APP_ID", APP_ID, "production", world)
    world.github.put_secret(("env", REPO, "production"), "APP_PRIVATE_KEY", APP_KEY, "production", world)
    world.github.apps[APP_ID] = GitHubApp(APP_ID, APP_KEY, "acme-ci", {"acme"})
    path = tmp_path / "world.pickle"
    world.save(path)
    yield Runner(path, REPO, tmp_path), path


def doctor_results(**reports: str | None) -> dict[str, dict[str, Any]]:
    """The doctor matrix's runs as the issue job's ``needs`` sees them: a report, or None for a run that failed."""
    runs = []
    for stack, text in reports.items():
        run = JobResult("doctor.yml", "doctor", outputs={f"report-{stack}": text} if text is not None else {})
        if text is None:
            from tests.runner import StepResult

            run.steps.append(StepResult("Log in to Pulumi Cloud by OIDC", "failure"))
        runs.append(run)
    return needs_of(doctor=runs)


def issue_job(runner: Runner, needs: dict[str, dict[str, Any]], event: Any = None) -> JobResult:
    job = runner.run_job("doctor.yml", "issue", event or schedule(REPO, "41 5 * * *"), needs=needs)
    assert job.ok, job.log
    assert not any(APP_KEY in s.stdout + s.stderr for s in job.steps)
    return job


def issues(path: Path) -> list[Any]:
    return [i for (r, _), i in sorted(World.load(path).github.issues.items()) if r == REPO]


def test_the_issue_is_opened_updated_and_closed_as_the_links_fail_and_recover(issue_world: tuple[Runner, Path]) -> None:
    runner, path = issue_world
    # all OK, no issue: nothing to do
    job = issue_job(runner, doctor_results(production=report("production", ok()), **{"preview-base": report("preview-base", ok())}))
    assert issues(path) == [] and "no doctor issue is open" in job.log
    # none → open: the CI App's installation is suspended in production
    issue_job(runner, doctor_results(production=report("production", ok(), failing()), **{"preview-base": report("preview-base", ok())}))
    (opened,) = issues(path)
    assert (opened.state, opened.title, opened.labels) == ("open", doctor_issue.TITLE, [doctor_issue.LABEL])
    assert "`github.installation/ci`" in opened.body and VALUE not in opened.body and opened.author == "app-bot"
    assert World.load(path).github.labels[(REPO, doctor_issue.LABEL)].color == "d73a4a"
    # open → updated: the next day the installation is back, but the GHCR token expires in 3 days: the same issue
    issue_job(runner, doctor_results(production=report("production", ok(), expiring(3)), **{"preview-base": report("preview-base", ok())}))
    (updated,) = issues(path)
    assert updated.number == opened.number and updated.state == "open"
    assert "`github.ghcr-token`" in updated.body and "`github.installation/ci`" not in updated.body
    # open → closed: every link OK again, with a comment saying so
    issue_job(runner, doctor_results(production=report("production", ok()), **{"preview-base": report("preview-base", ok())}))
    (closed,) = issues(path)
    assert (closed.number, closed.state, closed.state_reason) == (opened.number, "closed", "completed")
    (comment,) = World.load(path).github.comments[(REPO, opened.number)]
    assert comment[1].startswith("Every link of production and preview-base is OK again: https://github.com/acme/platform/actions/runs/1")
    # and a new problem later opens a new issue (the label stays; gh label create --force updates it)
    issue_job(runner, doctor_results(production=report("production", failing()), **{"preview-base": report("preview-base", ok())}))
    assert [i.state for i in issues(path)] == ["closed", "open"]


def unchecked_ghcr() -> Finding:
    """The review's case (issue 22): the only finding is a link doctor could not check because GitHub rate limited it."""
    return Finding(
        "github.ghcr-token",
        Status.WARN,
        "the GHCR token: not checked (rate limited)",
        symptom="doctor cannot tell whether this link works",
        key="namespace:imagePullSecret.token",
        fix="run doctor again once the API answers",
    )


def test_a_link_only_unchecked_keeps_an_open_issue_open_and_opens_none(issue_world: tuple[Runner, Path]) -> None:
    """Close only when every link of every stack is OK: an unchecked link keeps the open issue open (listed in it), and
    with no issue open opens none (docs/doctor-workflow.md's rule)."""
    runner, path = issue_world
    other = {"preview-base": report("preview-base", ok())}
    # none → none: only unchecked, no issue is opened for it
    job = issue_job(runner, doctor_results(production=report("production", ok(), unchecked_ghcr()), **other))
    assert issues(path) == [] and "none opened" in job.log
    # none → open on a failure; then open → still open (updated) while the only finding is unchecked
    issue_job(runner, doctor_results(production=report("production", failing()), **other))
    issue_job(runner, doctor_results(production=report("production", ok(), unchecked_ghcr()), **other))
    (kept,) = issues(path)
    assert kept.state == "open" and "`github.ghcr-token`" in kept.body and "`github.installation/ci`" not in kept.body
    assert (REPO, kept.number) not in World.load(path).github.comments  # no "every link is OK" comment
    # open → closed once every link of every stack is OK
    issue_job(runner, doctor_results(production=report("production", ok()), **other))
    assert [i.state for i in issues(path)] == ["closed"]


def test_a_doctor_job_that_failed_opens_the_issue(issue_world: tuple[Runner, Path]) -> None:
    runner, path = issue_world
    job = issue_job(runner, doctor_results(production=report("production", ok()), **{"preview-base": None}))
    (opened,) = issues(path)
    assert "### preview-base: doctor could not run" in opened.body and "updated issue" not in job.log


def test_the_window_is_the_dispatch_input_else_the_variable(issue_world: tuple[Runner, Path]) -> None:
    """A credential expiring in 20 days: no issue with the default 14 days; an issue with `warn-days: 30` typed at
    dispatch; and with the repository variable DOCTOR_WARN_DAYS=30 on the daily run."""
    runner, path = issue_world
    in_20_days = Finding("github.ghcr-token", Status.OK, "fine", key="namespace:imagePullSecret.token", expires=NOW + datetime.timedelta(days=20))
    results = doctor_results(production=report("production", in_20_days), **{"preview-base": report("preview-base", ok())})
    issue_job(runner, results)
    assert issues(path) == []
    issue_job(runner, results, dispatch(REPO, inputs={"warn-days": "30"}))
    assert [i.state for i in issues(path)] == ["open"]
    issue_job(runner, results, dispatch(REPO, inputs={"warn-days": "7"}))
    assert [i.state for i in issues(path)] == ["closed"]
    world = World.load(path)
    world.github.create_variable(("repo", REPO), "DOCTOR_WARN_DAYS", "30", "a person", world)
    world.save(path)
    issue_job(runner, results)
    assert [i.state for i in issues(path)] == ["closed", "open"]


def test_the_issue_job_token_can_only_write_issues(issue_world: tuple[Runner, Path]) -> None:
    """The App token asks for issues: write only (actions/create-github-app-token ``permission-issues``): the same token
    is refused a pull request (GitHub REST docs: "Create a pull request" needs Pull requests write)."""
    runner, path = issue_world
    issue_job(runner, doctor_results(production=report("production", failing()), **{"preview-base": report("preview-base", ok())}))
    world = World.load(path)
    (token,) = list(world.github.installation_tokens)
    assert world.github.installation_tokens[token].permissions == {"issues": "write"}
    from tests.world import WorldError

    with pytest.raises(WorldError, match="403"):
        world.github.authorize(token, REPO, ("pull_requests",), "write")


# --- the doctor job end to end -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Production deployed on the world as a person does it (tests/test_upgrade.py ``deploy_platform``)."""
    from tests.test_upgrade import deploy_platform

    return deploy_platform(tmp_path_factory.mktemp("doctor"), ("production",), image_automation=False)


def _secrets_of(world: World) -> set[str]:
    """Every credential the world knows: the tokens and keys the doctor job may read but must never print."""
    found = set(world.github.tokens) | set(world.digitalocean.tokens) | {a.private_key for a in world.github.apps.values()}
    found |= {e.value for e in world.github.secrets.values()}
    found |= set(world.cloud.tokens)
    return {s for s in found if len(s) >= 8}


def test_the_doctor_job_runs_doctor_with_short_lived_credentials_and_hands_its_report_to_the_issue_job(deployed: Any, tmp_path: Path) -> None:
    from tests.doctor_apis import DigitalOceanApi, GitHubApi
    from tests.test_lifecycle import REPO as PLATFORM_REPO

    github, digitalocean = GitHubApi(), DigitalOceanApi()
    try:
        p = deployed.fork(tmp_path)
        before = set(p.world.digitalocean.kube_tokens)
        p.runner.api_url = github.url  # GITHUB_API_URL, as Actions sets it (here a stand-in, as GitHub Enterprise Server)
        p.runner.host_env = {"DIGITALOCEAN_API_URL": digitalocean.url}
        job = p.runner.run_job("doctor.yml", "doctor", schedule(PLATFORM_REPO, "41 5 * * *"), matrix={"stack": "production"})
    finally:
        github.close()
        digitalocean.close()
    assert job.ok, job.log
    (step,) = [s for s in job.steps if s.name == "Doctor"]
    document = json.loads(job.outputs["report-production"])
    assert (document["stack"], document["kind"]) == ("production", "production") and document["findings"]
    # the stand-in GitHub knows none of the world's tokens: the GHCR token fails, as a revoked one would
    assert {f["link"]: f["status"] for f in document["findings"]}["github.ghcr-token"] == "FAIL"
    assert "FAIL github.ghcr-token namespace:imagePullSecret.token" in step.log
    assert github.requests and github.violations == []
    world = World.load(p.path)
    assert any(call.tool == "pulumi" and call.argv[:3] == ["config", "--show-secrets", "--json"] for call in world.calls)
    fetched = set(world.digitalocean.kube_tokens) - before
    assert len(fetched) == 1  # the kubeconfig this job fetched, expiring with the job
    (_, expiry) = world.digitalocean.kube_tokens[fetched.pop()]
    assert expiry == world.now + 60 * yaml.safe_load(WORKFLOW.read_text())["jobs"]["doctor"]["timeout-minutes"]
    everything = "\n".join(s.stdout + s.stderr for s in job.steps) + json.dumps(job.outputs)
    leaked = [s[:6] for s in _secrets_of(world) | set(job.masks) if s and s in json.dumps(job.outputs)]
    assert leaked == []
    assert not [s[:6] for s in _secrets_of(world) if s in everything and f"::add-mask::{s}" not in everything]
    # the issue job turns it into the one issue
    issue = p.runner.run_job(
        "doctor.yml", "issue", schedule(PLATFORM_REPO, "41 5 * * *"), needs=needs_of(doctor=[job, JobResult("doctor.yml", "doctor")])
    )
    assert issue.ok, issue.log
    (opened,) = [i for (r, _), i in World.load(p.path).github.issues.items() if r == PLATFORM_REPO]
    assert "`github.ghcr-token`" in opened.body and "### preview-base: doctor could not run" in opened.body
    assert not [s[:6] for s in _secrets_of(world) if s in opened.body]
