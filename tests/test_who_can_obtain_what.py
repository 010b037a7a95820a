"""docs/least-privilege.md, "Who can obtain what": the table of credentials is held to the code (issue 20 §3).

Each row names a credential, who can obtain it (workflow jobs as ``<workflow>:<job>[<stack>]``, with their events,
branch, GitHub environment and approval) and what it reaches. Here every row is checked against what decides it:

* the Pulumi token rows against the bootstrap's OIDC rules (components/secret_chain/bootstrap.py, run on the mock runtime) and the
  jobs that log in from each GitHub environment (``pulumi/auth-actions`` with ``environment:``; GitHub docs, "OpenID
  Connect reference": a job that references an environment presents ``repo:<owner>/<repo>:environment:<name>``);
* the ESC rows against the secrets each environment exposes (components/secret_chain/environments.py) and the preview team's grants;
* the GitHub environment rows against the secrets the jobs of that environment read (``secrets.<NAME>``: environment
  secrets reach only jobs that name the environment, GitHub docs, "Using environments for deployment");
* and the claim of the issue: no job a pull request starts holds a secret or an OIDC token outside the approval-gated
  GitHub environment ``preview``, so no row lets an unapproved pull request reach production.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from secret_chain import bootstrap, catalog, esc, parts
from secret_chain.ops.offline import evaluate
from secret_chain.program import main

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "least-privilege.md"
WORKFLOWS = ROOT / ".github" / "workflows"
HEADING = "## Who can obtain what"
AUTH_ACTION = "pulumi/auth-actions@"
PR_EVENTS = {"pull_request", "pull_request_target"}
JOB_REF = re.compile(r"`([\w.-]+\.yml):([\w-]+)(?:\[([\w-]+)\])?`")
SUBJECT = re.compile(r"`repo:<owner>/<repo>:environment:([\w-]+)`")
CODE = re.compile(r"`([^`]+)`")
APPROVAL = "**after approval**"


# --- the table ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    credential: str
    who: str
    reaches: str

    @property
    def text(self) -> str:
        return " ".join((self.credential, self.who, self.reaches))

    def codes(self, cell: str) -> set[str]:
        return set(CODE.findall(getattr(self, cell)))

    def jobs(self) -> set[str]:
        return {f"{w}:{j}" + (f"[{s}]" if s else "") for w, j, s in JOB_REF.findall(self.who)}


def table() -> list[Row]:
    text = DOC.read_text(encoding="utf-8")
    assert HEADING in text, f"docs/least-privilege.md has no section {HEADING!r}"
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == ["credential", "who can obtain it (event; branch; GitHub environment; approval)", "what it reaches"]
    rows = []
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 3, line
        rows.append(Row(*cells))
    return rows


def pulumi_rows() -> dict[str, Row]:
    out = {}
    for row in table():
        found = SUBJECT.findall(row.credential)
        if row.credential.startswith("Pulumi token"):
            assert len(found) == 1, row.credential
            out[found[0]] = row
    return out


def esc_rows() -> dict[str, Row]:
    return {m.group(1): row for row in table() if (m := re.match(r"ESC `(\w+)`:", row.credential))}


def github_environment_rows() -> dict[str, Row]:
    return {m.group(1): row for row in table() if (m := re.match(r"GitHub environment `([\w-]+)`:", row.credential))}


# --- the workflows --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    ref: str
    """``<workflow>:<job>``, with ``[<stack>]`` for a matrix entry that names its stack."""
    workflow: str
    events: frozenset[str]
    environment: str | None
    stack: str | None
    """The stack kind it runs (``preview-pr`` for ``preview-pr-<N>``), from its ``STACK``."""
    logs_in: bool
    secrets: frozenset[str]
    id_token: bool
    permissions: dict[str, str]
    same_repository_only: bool
    """Its ``if:`` skips a pull request whose head is another repository (a fork)."""


def _events(document: dict[Any, Any]) -> frozenset[str]:
    on = document.get("on", document.get(True))  # YAML 1.1 reads the bare key `on` as true
    if isinstance(on, str):
        return frozenset({on})
    return frozenset(on)


def _resolve(value: Any, entry: dict[str, Any]) -> Any:
    if isinstance(value, str):
        match = re.fullmatch(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", value)
        if match:
            return entry.get(match.group(1))
    return value


def workflow_jobs() -> Iterator[Job]:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        events = _events(document)
        for job_id, job in document["jobs"].items():
            matrix = (job.get("strategy") or {}).get("matrix") or {}
            entries = list(matrix.get("include") or []) or [{}]
            for entry in entries:
                environment = _resolve(job.get("environment"), entry)
                if isinstance(environment, dict):
                    environment = _resolve(environment.get("name"), entry)
                stack = _resolve((job.get("env") or {}).get("STACK"), entry)
                if isinstance(stack, str) and stack.startswith("preview-pr-"):
                    stack = "preview-pr"
                dumped = yaml.safe_dump(job)
                permissions = job.get("permissions") or {}
                yield Job(
                    ref=f"{path.name}:{job_id}" + (f"[{entry['stack']}]" if "stack" in entry else ""),
                    workflow=path.name,
                    events=events,
                    environment=environment,
                    stack=stack,
                    logs_in=any(str(step.get("uses", "")).startswith(AUTH_ACTION) for step in job.get("steps") or []),
                    secrets=frozenset(set(re.findall(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)", dumped)) - {"GITHUB_TOKEN"}),
                    id_token=permissions.get("id-token") == "write",
                    permissions=dict(permissions),
                    same_repository_only="github.event.pull_request.head.repo.full_name == github.repository" in str(job.get("if", "")),
                )


def jobs_by_ref() -> dict[str, Job]:
    return {job.ref: job for job in workflow_jobs()}


def check_who(row: Row, expected: set[str], *, exactly: bool = True) -> None:
    """The row's job refs (exactly, or at least ``expected``), each with its events, environment, branch and approval."""
    listed = row.jobs()
    if exactly:
        assert listed == expected, f"{row.credential}: lists {sorted(listed)}, the workflows say {sorted(expected)}"
    else:
        assert expected <= listed, f"{row.credential}: misses {sorted(expected - listed)}"
    jobs = jobs_by_ref()
    for ref in listed:
        assert ref in jobs, f"{row.credential}: {ref} is no job of .github/workflows"
        job = jobs[ref]
        missing = {e for e in job.events if e not in row.codes("who")}
        assert not missing, f"{row.credential}: {ref} also runs on {sorted(missing)}"
        if job.environment is not None:
            assert f"`{job.environment}`" in row.text, f"{row.credential}: {ref} runs in environment {job.environment}"
        else:
            assert "no environment" in row.who
        if job.events & PR_EVENTS:
            if job.environment is not None:
                assert APPROVAL in row.who, f"{row.credential}: {ref} runs a pull request's code; say it waits for approval"
            assert ("same-repository" in row.who) if job.same_repository_only else ("fork" in row.who), ref
        if "schedule" in job.events:
            assert "default branch" in row.who, ref


# --- the rows -------------------------------------------------------------------------------------------------------


def run_bootstrap(**settings: str) -> Any:
    config = {"secret-chain:githubRepository": "acme/platform", "ci:pulumiOrganization": "acme", **settings}
    return evaluate(main, config=config, stack="bootstrap")


def policy(ev: Any, environment: str) -> dict[str, Any]:
    issuer = next(r for r in ev.registrations if r.type == "pulumiservice:index:OidcIssuer")
    (found,) = [p for p in issuer.inputs["policies"] if p["rules"]["sub"] == f"repo:acme/platform:environment:{environment}"]
    return dict(found)


def test_the_table_has_a_row_for_every_credential_ci_can_come_by() -> None:
    assert set(pulumi_rows()) == set(bootstrap.CI_ENVIRONMENTS)
    assert set(esc_rows()) == {env.name for env in esc.ENVIRONMENTS}
    with_secrets = {job.environment for job in workflow_jobs() if job.secrets and job.environment}
    assert set(github_environment_rows()) == with_secrets
    assert [row for row in table() if row.credential.startswith("`GITHUB_TOKEN`")]


def test_the_pulumi_token_rows_are_the_bootstraps_rules_and_the_jobs_that_log_in() -> None:
    """Issue 20 §1, §3: the preview subject's token is the preview team's (open on exactly PullRequest and Base) or,
    without one, the organization token with admin; production's is ci:pulumiTokenType's. The jobs listed are exactly
    those that log in from each GitHub environment."""
    rows = pulumi_rows()
    for environment, row in rows.items():
        check_who(row, {j.ref for j in workflow_jobs() if j.logs_in and j.environment == environment})
    preview_env, production_env = bootstrap.PULL_REQUEST_ENVIRONMENT, bootstrap.PRODUCTION_ENVIRONMENT
    preview, production = rows[preview_env], rows[production_env]

    team = run_bootstrap(**{catalog.CI_PULUMI_PREVIEW_TEAM.key: "ci-previews"})
    assert policy(team, preview_env)["tokenType"] == "team" and policy(team, preview_env)["teamName"] == "ci-previews"
    grants = [r for r in team.registrations if r.type == "pulumiservice:index:TeamEnvironmentPermission"]
    opens = {r.inputs["environment"] for r in grants if r.inputs["team"] == "ci-previews"}
    assert opens == {e.name for e in bootstrap.PREVIEW_TEAM_OPENS}
    assert f"`{catalog.CI_PULUMI_PREVIEW_TEAM.key}`" in preview.reaches
    assert all(f"`{name}`" in preview.reaches for name in opens)
    assert "nothing of production" in preview.reaches

    default = run_bootstrap()
    assert policy(default, preview_env)["tokenType"] == "organization" and policy(default, preview_env)["authorizedPermissions"] == ["admin"]
    assert "`authorizedPermissions: [admin]`" in preview.reaches and "**An approved pull request then reaches production**" in preview.reaches
    assert {"`pulumi env open <org>/secret-chain/Production`", "`production`"} <= {f"`{c}`" for c in preview.codes("reaches")}

    assert f"`{catalog.CI_PULUMI_TOKEN_TYPE.key}`" in production.reaches and f"`{catalog.CI_PULUMI_TEAM.key}`" in production.reaches
    assert "default branch only" in production.who


def test_the_esc_rows_are_the_secrets_each_environment_exposes_and_who_may_open_it() -> None:
    """Issue 20 §2, §3: each ESC row lists exactly the secrets a job that opens that environment sees (own, imported,
    referenced), says whether the preview team may open it, and lists the jobs whose stacks attach it."""
    opens = {e.name for e in bootstrap.PREVIEW_TEAM_OPENS}
    for name, row in esc_rows().items():
        env = esc.BY_NAME[name]
        listed = {c for c in row.codes("credential") if c in catalog.BY_KEY}
        assert listed == {k.key for k in env.exposed() if k.secret}, name
        assert ("not the preview team" in row.who) is (name not in opens), name
        attaching = {j.ref for j in workflow_jobs() if j.logs_in and j.stack and esc.for_stack(parts.Kind(j.stack)) is env}
        check_who(row, attaching, exactly=False)


def test_the_github_environment_rows_are_the_secrets_their_jobs_read() -> None:
    for environment, row in github_environment_rows().items():
        jobs = [j for j in workflow_jobs() if j.environment == environment and j.secrets]
        listed = {c for c in row.codes("credential") if re.fullmatch(r"[A-Z][A-Z0-9_]*", c)}
        assert listed == set().union(*(j.secrets for j in jobs)), environment
        check_who(row, {j.ref for j in jobs})


def test_no_row_lets_an_unapproved_pull_request_reach_production() -> None:
    """Issue 20, "Done when": a job a pull request starts holds a secret, an OIDC token or a write permission only in
    the GitHub environment whose required reviewers approve each run (``preview``), never in ``production``; the jobs
    outside any environment are the GITHUB_TOKEN row, which reaches nothing of production. Every row that lists a
    pull request's job in an environment says it waits for approval (check_who)."""
    pr_jobs = [j for j in workflow_jobs() if j.events & PR_EVENTS]
    assert pr_jobs
    # A pull_request_target job runs the default branch's code beside the base's secrets (GitHub docs, "Events that
    # trigger workflows" → pull_request_target): tests/test_ci_trust.py holds each to checking out nothing of the pull
    # request's; here it must also wait for approval in `preview`, for a same-repository pull request only.
    for job in pr_jobs:
        if "pull_request_target" in job.events:
            assert job.environment == bootstrap.PULL_REQUEST_ENVIRONMENT and job.same_repository_only, job.ref
    for job in pr_jobs:
        if job.environment is None:
            assert not job.secrets and not job.id_token, job.ref
            assert set(job.permissions.values()) <= {"read", "none"}, job.ref
        else:
            assert job.environment == bootstrap.PULL_REQUEST_ENVIRONMENT, job.ref
            assert job.same_repository_only, f"{job.ref} would offer its credentials to a fork's code"
    (token_row,) = [row for row in table() if row.credential.startswith("`GITHUB_TOKEN`")]
    check_who(token_row, {j.ref for j in pr_jobs if j.environment is None})
    assert "nothing of production" in token_row.reaches
    for row in table():
        unapproved = [ref for ref in row.jobs() if jobs_by_ref()[ref].events & PR_EVENTS and jobs_by_ref()[ref].environment is None]
        assert not unapproved or "nothing of production" in row.reaches, row.credential


KNOWN_PREVIEW_JOBS_BEYOND_PULL_REQUESTS: set[str] = set()
"""Jobs that log in from ``preview`` for a stack other than a PR's: none. Preview-base's checks, which with the preview
team could not open Preview, run in ``production`` (docs/least-privilege.md, "Preview-base's checks")."""


@pytest.mark.parametrize("environment", [bootstrap.PULL_REQUEST_ENVIRONMENT])
def test_the_preview_subject_serves_the_pull_request_stacks(environment: str) -> None:
    beyond = {j.ref for j in workflow_jobs() if j.logs_in and j.environment == environment and j.stack != parts.Kind.PREVIEW_PR.value}
    assert beyond <= KNOWN_PREVIEW_JOBS_BEYOND_PULL_REQUESTS, f"jobs in {environment} need more than the preview team's grants: {sorted(beyond)}"
    if beyond:
        assert "**Preview-base's checks.**" in DOC.read_text(encoding="utf-8")
