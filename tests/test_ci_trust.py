"""Issue 20: the trust boundaries of CI, checked over every workflow file.

2. No job both runs code from an untrusted ref and holds a credential. A ref is untrusted when someone without the
   default branch's review can choose its content: a pull request's head or merge commit, a pushed branch, the branch
   a dispatcher picks. A job runs such a ref when its workflow's definition comes from it (the `pull_request` family
   and `push`: GitHub docs, "Events that trigger workflows", the GITHUB_SHA/GITHUB_REF of each event) or when it checks
   it out or fetches it (an explicit `ref:`/`repository:`, `git fetch`, `gh pr checkout`, another run's artifacts). A
   credential is any `secrets.*`, `id-token: write` (an OIDC token the Pulumi policy exchanges), a write permission of
   GITHUB_TOKEN (or none declared: the repository default may be write) or a GitHub App token step. GitHub Security
   Lab, "Keeping your GitHub Actions and workflows secure Part 1: Preventing pwn requests": never check out, build or
   run the pull request's code where secrets or a write token are; split into an unprivileged `pull_request` job and a
   privileged job that never checks the code out. `pull_request_target`, `schedule` and `workflow_run` runs are the
   default branch's (since 2025-12-08 pull_request_target always is: GitHub changelog 2025-11-07 "Actions
   pull_request_target and environment branch protections changes"). A `workflow_dispatch` run is the dispatcher's
   chosen ref, so a credentialed dispatch job must name an environment whose deployment branches admit the default
   branch only: GitHub then refuses the job on any other ref before it gets a runner (GitHub docs, "Deployments and
   environments" → "Deployment branches and tags": the rule "is matched against the GITHUB_REF of the workflow run";
   docs/ci-trust.md tells the operator to set it on both environments).
3. Every long-lived secret a workflow reads is an environment secret, read only by jobs in an environment that holds
   it (GitHub docs, "Deployments and environments" → "Environment secrets": "only available to workflow jobs that
   reference the environment"), and the chain writes it only there (components/secret_chain/github_actions.py,
   parts.GITHUB_ENVIRONMENTS).
4. zizmor (PyPI, pinned in requirements-dev.lock) reports nothing at `--persona auditor` but what .github/zizmor.yml
   justifies line by line, and every line it ignores still has that finding.
5. Every `pulumi up` in CI runs after `pulumi preview --policy-pack <pack>` on the same stack, with a pack committed in
   this repository, in a job that runs the default branch's checkout only (so a pull request cannot switch the pack
   off or edit it); the world's `pulumi` stand-in runs the pack (tests/policy_analysis.py).

Set SECRET_CHAIN_WORKFLOWS to another directory of workflow files (an older commit's, `git show <commit>:<file>`) to
run the workflow rules against it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from secret_chain.github_actions import BY_GITHUB_NAME
from secret_chain.parts import GITHUB_ENVIRONMENTS
from tests.test_workflows import cluster_operations, commands, job_environment, matrix_entries

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = Path(os.environ.get("SECRET_CHAIN_WORKFLOWS") or ROOT / ".github" / "workflows")
DEFAULT_BRANCH = "main"
ENVIRONMENTS = frozenset(GITHUB_ENVIRONMENTS.values())
"""The GitHub environments the chain writes (production, preview): docs/ci-trust.md has the operator restrict each one's
deployment branches to the default branch, so these are the environments that gate a dispatch from another branch."""

# --- reading workflows ------------------------------------------------------------------------------------------------


def load_dir(directory: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(directory.glob("*.y*ml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if True in document:  # YAML 1.1 reads the key `on` as true
            document["on"] = document.pop(True)
        out[path.name] = document
    return out


def triggers(document: dict[str, Any]) -> dict[str, Any]:
    on = document.get("on")
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on or {})


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


PULL_REQUEST_EVENTS = ("pull_request", "pull_request_review", "pull_request_review_comment")
DEFAULT_BRANCH_EVENTS = ("pull_request_target", "schedule", "workflow_run", "issue_comment", "issues", "merge_group")
"""Events whose run is the default branch's (GitHub docs, "Events that trigger workflows": GITHUB_REF the default
branch; pull_request_target the base branch, since 2025-12-08 always the default one)."""


def untrusted_definition(event: str, config: Any) -> str | None:
    """Why a run of ``event`` takes its workflow definition (and its default checkout) from an untrusted ref, or None."""
    if event in PULL_REQUEST_EVENTS:
        return "its definition and checkout are the pull request's merge commit (GITHUB_REF refs/pull/<N>/merge)"
    if event == "push":
        branches = (config or {}).get("branches")
        if branches and set(branches) <= {DEFAULT_BRANCH} and not (config or {}).get("tags"):
            return None
        return f"its definition and checkout are the pushed commit of {branches or 'any branch'}"
    if event == "workflow_dispatch":
        return "its definition and checkout are whatever branch the dispatcher picks"
    if event in DEFAULT_BRANCH_EVENTS:
        return None
    return f"{event}: not known to run the default branch's code"


# Expressions and script text that name a pull request's code or another run's ref.
UNTRUSTED_REF = re.compile(
    r"github\.event\.pull_request\.(head|merge_commit_sha)|github\.head_ref|GITHUB_HEAD_REF|refs/pull/|\bpull/[^\s/]+/(head|merge)"
    r"|github\.event\.workflow_run\.head|github\.event\.(check_suite|check_run)\.head|github\.event\.issue\.pull_request"
)
# Commands that bring code other than the checked-out commit onto the runner.
FETCHING = re.compile(r"^(git (fetch|pull|clone|worktree|remote add|submodule)|gh (pr checkout|repo clone|run download))\b")
ARTIFACT_DOWNLOADS = ("actions/download-artifact@", "dawidd6/action-download-artifact@")


def _env(*scopes: dict[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for scope in scopes for k, v in ((scope or {}).get("env") or {}).items()}


def untrusted_fetches(document: dict[str, Any], job: dict[str, Any]) -> list[str]:
    """The steps of ``job`` that check out, fetch or download anything but the workflow's own commit."""
    found = []
    for index, step in enumerate(steps(job)):
        uses = str(step.get("uses", ""))
        label = f"step {index} ({step.get('name') or uses or 'run'})"
        env = _env(document, job, step)
        if uses.startswith("actions/checkout@"):
            given = {k: str(v) for k, v in (step.get("with") or {}).items() if k in ("ref", "repository")}
            if given:
                # through env indirection too: ref: ${{ env.HEAD }} with HEAD: ${{ github.head_ref }}
                named = " ".join([*given.values(), *(v for k, v in env.items() if any(f"env.{k}" in g for g in given.values()))])
                what = "the pull request's code" if UNTRUSTED_REF.search(named) else "another ref or repository"
                found.append(f"{label} checks out {what} ({given})")
        elif uses.startswith(ARTIFACT_DOWNLOADS):
            found.append(f"{label} downloads another run's artifacts")
        elif "run" in step:
            script = str(step["run"])
            found += [f"{label} runs `{' '.join(c)[:80]}`" for c in commands(script) if FETCHING.match(" ".join(c))]
            named = [k for k, v in env.items() if UNTRUSTED_REF.search(v) and re.search(rf"\$\{{?{k}\b", script)]
            if UNTRUSTED_REF.search(script) or named:
                found.append(f"{label} names a pull request ref in its script")
    return found


APP_TOKEN_ACTIONS = ("actions/create-github-app-token@", "tibdex/github-app-token@")


def credentials(document: dict[str, Any], job: dict[str, Any]) -> list[str]:
    """What a run of ``job`` holds that code running in it could use."""
    held = []
    permissions = job.get("permissions", document.get("permissions"))
    if permissions is None:
        held.append("GITHUB_TOKEN with the repository's default permissions (declare them)")
    elif isinstance(permissions, str):
        if permissions != "read-all":
            held.append(f"permissions: {permissions}")
    else:
        held += [f"{scope}: write" for scope, level in permissions.items() if level == "write"]
    text = yaml.safe_dump({"env": document.get("env"), "job": job})
    held += sorted({f"secrets.{m}" for m in re.findall(r"\bsecrets\s*(?:\.\s*|\[\s*['\"])(\w+)", text)})
    if re.search(r"secrets:\s*inherit|toJSON\(secrets\)", text):
        held.append("every secret (inherit / toJSON)")
    held += [f"an App token step ({s.get('id') or s.get('name')})" for s in steps(job) if str(s.get("uses", "")).startswith(APP_TOKEN_ACTIONS)]
    return held


def job_environments(job: dict[str, Any]) -> set[str | None]:
    return {job_environment(job, entry) for entry in matrix_entries(job)}


def untrusted_runs(document: dict[str, Any], job: dict[str, Any]) -> dict[str, list[str]]:
    """For each event of the workflow, why a run of ``job`` runs or fetches an untrusted ref (empty: it does not)."""
    fetches = untrusted_fetches(document, job)
    out = {}
    for event, config in triggers(document).items():
        why = untrusted_definition(event, config)
        # A dispatch from another branch: GitHub refuses the job before it starts when its environment's deployment
        # branches admit only the default branch (both of the chain's environments, docs/ci-trust.md).
        gated = event == "workflow_dispatch" and job_environments(job) <= ENVIRONMENTS
        out[event] = ([why] if why and not gated else []) + fetches
    return out


def trust_violations(directory: Path) -> list[str]:
    """Item 2: every (workflow, job, event) that runs or fetches an untrusted ref while it holds a credential."""
    out = []
    for name, document in load_dir(directory).items():
        for job_id, job in (document.get("jobs") or {}).items():
            held = credentials(document, job)
            for event, reasons in untrusted_runs(document, job).items():
                if held and reasons:
                    out.append(f"{name}/{job_id} on {event}: {'; '.join(reasons)}, while it holds {', '.join(held)}")
    return out


def test_no_job_runs_an_untrusted_ref_while_it_holds_a_credential() -> None:
    assert trust_violations(WORKFLOWS) == []


def _write(directory: Path, on: Any, job: dict[str, Any]) -> Path:
    (directory / "w.yml").write_text(yaml.safe_dump({"on": on, "jobs": {"j": job}}, sort_keys=False))
    return directory


APP_KEY = "${{ secrets.APP_PRIVATE_KEY }}"
OIDC = {"id-token": "write"}
READ = {"contents": "read"}


def _job(*run: str | dict[str, Any], environment: str | None = None, permissions: Any = READ, **extra: Any) -> dict[str, Any]:
    job: dict[str, Any] = {"environment": environment} if environment else {}
    if permissions is not None:
        job["permissions"] = permissions
    job["steps"] = [{"run": r} if isinstance(r, str) else r for r in run]
    return {**job, **extra}


PR_HEAD = {"uses": "actions/checkout@x", "with": {"ref": "${{ github.event.pull_request.head.sha }}"}}
APP_TOKEN = {"uses": "actions/create-github-app-token@x", "with": {"private-key": APP_KEY}}


@pytest.mark.parametrize(
    ("on", "job", "caught"),
    [
        # The shapes issue 20 found (preview-deploy.yml and preview-cleanup.yml on pull_request with OIDC and the App
        # key; flux-image-updates-pr.yml on a push of its branch with the App key), and ways around the rule.
        ("pull_request", _job("make setup", environment="preview", permissions=OIDC), "merge commit"),
        ("pull_request", _job(f"echo {APP_KEY}"), "merge commit"),
        ("pull_request", _job("make setup", permissions={"contents": "write"}), "merge commit"),
        ("pull_request", _job("make setup", permissions=None), "merge commit"),  # undeclared: the default may be write
        ({"push": {"branches": ["flux-image-updates"]}}, _job(APP_TOKEN, environment="production"), "pushed commit"),
        ("pull_request_target", _job(PR_HEAD, "make setup", environment="preview", permissions=OIDC), "pull request's code"),
        (
            "pull_request_target",
            _job({"uses": "actions/checkout@x", "with": {"ref": "${{ env.HEAD }}"}}, permissions=OIDC,
                 env={"HEAD": "${{ github.event.pull_request.head.ref }}"}),
            "pull request's code",
        ),
        ("pull_request_target", _job('git fetch origin "pull/$N/head" && git checkout FETCH_HEAD', permissions=OIDC), "git fetch"),
        ("pull_request_target", _job({"run": "gh pr checkout 7", "env": {"KEY": APP_KEY}}), "gh pr checkout"),
        ("pull_request_target", _job({"run": 'git checkout "$HEAD"', "env": {"HEAD": "${{ github.head_ref }}"}}, permissions=OIDC), "in its script"),
        ("workflow_run", _job({"uses": "actions/download-artifact@x"}, permissions=OIDC), "artifacts"),
        ("workflow_dispatch", _job("pulumi up", permissions=OIDC), "dispatcher picks"),
        ("workflow_dispatch", _job("pulumi up", environment="staging", permissions=OIDC), "dispatcher picks"),
    ],
)  # fmt: skip
def test_the_trust_rule_catches_each_way_in(tmp_path: Path, on: Any, job: dict[str, Any], caught: str) -> None:
    (found,) = trust_violations(_write(tmp_path, on, job))
    assert caught in found, found


@pytest.mark.parametrize(
    ("on", "job"),
    [
        ("pull_request_target", _job({"uses": "actions/checkout@x", "with": {"persist-credentials": False}}, "make setup",
                                     environment="preview", permissions=OIDC)),
        ("schedule", _job({"uses": "actions/checkout@x"}, "make setup", environment="production", permissions=OIDC)),
        ("workflow_dispatch", _job(f"echo {APP_KEY}", environment="preview")),
        ("pull_request", _job({"uses": "actions/checkout@x"}, "make test")),
        ({"push": {"branches": ["main"]}}, _job("make setup", permissions=OIDC)),
    ],
)  # fmt: skip
def test_the_trust_rule_passes_privileged_jobs_on_the_default_branchs_code(tmp_path: Path, on: Any, job: dict[str, Any]) -> None:
    assert trust_violations(_write(tmp_path, on, job)) == []


def test_pull_request_code_runs_only_unprivileged() -> None:
    """The split the Security Lab post recommends: the pull request's own code runs in `pull_request` jobs (test.yml, and
    preview-plan.yml's offline plan of its preview stack) that hold nothing; the preview itself is deployed and destroyed
    by `pull_request_target` jobs that check out the default branch's commit."""
    workflows = load_dir(WORKFLOWS)
    for name in ("preview-deploy.yml", "preview-cleanup.yml"):
        assert set(triggers(workflows[name])) == {"pull_request_target"}, name
        for job in workflows[name]["jobs"].values():
            # pull_request_target offers a fork's pull request the job's credentials too: forks get no preview.
            assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository", name
            checkouts = [s for s in steps(job) if str(s.get("uses", "")).startswith("actions/checkout@")]
            assert checkouts and all(set(s.get("with") or {}) == {"persist-credentials"} for s in checkouts), name
    plan = workflows["preview-plan.yml"]
    assert set(triggers(plan)) == {"pull_request"}
    (job,) = plan["jobs"].values()
    assert credentials(plan, job) == [] and "environment" not in job
    assert any("secret-chain plan --stack" in str(s.get("run", "")) for s in steps(job))


# --- item 3: long-lived secrets are environment secrets -----------------------------------------------------------------

SECRETS_THE_CHAIN_WRITES = {name for name, entry in BY_GITHUB_NAME.items() if entry.secret and not entry.deprecated}


def _secret_reads() -> Iterator[tuple[str, str, dict[str, Any], set[str]]]:
    for name, document in load_dir(WORKFLOWS).items():
        for job_id, job in (document.get("jobs") or {}).items():
            read = set(re.findall(r"\bsecrets\s*(?:\.\s*|\[\s*['\"])(\w+)", yaml.safe_dump(job))) - {"GITHUB_TOKEN"}
            if read:
                yield name, job_id, job, read


def test_every_secret_a_job_reads_is_an_environment_secret_of_its_environment() -> None:
    """A job reads a long-lived secret only as an environment secret of the environment it names, one the chain writes
    that secret into; a repository or organisation secret would reach a workflow on any branch (zizmor:
    secrets-outside-env)."""
    readers = list(_secret_reads())
    assert readers, "no workflow reads a secret: the rule checks nothing"
    for name, job_id, job, read in readers:
        assert read <= SECRETS_THE_CHAIN_WRITES, f"{name}/{job_id} reads {sorted(read - SECRETS_THE_CHAIN_WRITES)}, which the chain does not write"
        for environment in job_environments(job):
            assert environment in ENVIRONMENTS, f"{name}/{job_id} reads {sorted(read)} outside the environments that hold them ({environment})"


@pytest.mark.parametrize("stack", ["production", "preview-base"])
def test_the_chain_writes_the_long_lived_secrets_only_into_its_environment(stack: str) -> None:
    """The writing side: every Actions secret the stack program registers (the App key, and the opt-in fallback token)
    is an environment secret of the stack's own environment, none repository- or organisation-wide."""
    from secret_chain import catalog
    from secret_chain.parts import Kind
    from tests.test_stacks import build, stack_config

    config, secret_keys = stack_config(stack)
    config[catalog.CI_PULUMI_AUTH.key] = catalog.STORED_TOKEN_FALLBACK  # the opt-in fallback: its token is written too
    config[catalog.CI_PULUMI_FALLBACK_ACCESS_TOKEN.key] = "pul-" + "0a" * 20
    ev = build(stack, config, [*secret_keys, catalog.CI_PULUMI_FALLBACK_ACCESS_TOKEN.key])
    assert not isinstance(ev, Exception), ev
    written = [r for r in ev.registrations if r.type.startswith("github:") and "secret" in r.type.lower()]
    kind = Kind.PRODUCTION if stack == "production" else Kind.PREVIEW_BASE
    assert {r.type for r in written} == {"github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"}
    assert {r.inputs["secretName"] for r in written} == SECRETS_THE_CHAIN_WRITES
    assert {r.inputs["environment"] for r in written} == {GITHUB_ENVIRONMENTS[kind]}


# --- item 4: zizmor ---------------------------------------------------------------------------------------------------

ZIZMOR = ROOT / ".venv" / "bin" / "zizmor"
ZIZMOR_CONFIG = ROOT / ".github" / "zizmor.yml"


def zizmor(directory: Path, *extra: str) -> list[dict[str, Any]]:
    """zizmor's findings (JSON) for a directory of workflows, as `make test` runs it (offline, auditor persona)."""
    binary = shutil.which("zizmor", path=str(ZIZMOR.parent)) or shutil.which("zizmor")
    if binary is None:
        pytest.fail("zizmor is not installed: `make setup` installs it from requirements-dev.lock")
    done = subprocess.run(
        [binary, "--offline", "--persona", "auditor", "--format", "json", "--config", str(ZIZMOR_CONFIG), *extra, str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 10, 11, 12, 13, 14), done.stderr  # 1x: findings of severity x (zizmor docs, "Usage" → exit codes)
    findings = json.loads(done.stdout or "[]")
    assert isinstance(findings, list)
    return findings


def _where(finding: dict[str, Any]) -> tuple[str, str, int]:
    (primary,) = [loc for loc in finding["locations"] if loc["symbolic"]["kind"] == "Primary"]
    path = Path(primary["symbolic"]["key"]["Local"]["verbatim_path"]).name
    return finding["ident"], path, primary["concrete"]["location"]["start_point"]["row"] + 1


def test_zizmor_reports_nothing_unjustified() -> None:
    findings = zizmor(WORKFLOWS)
    assert [_where(f) for f in findings] == [], "fix these, or justify each in .github/zizmor.yml"


def test_every_zizmor_ignore_is_justified_and_still_needed() -> None:
    """Each ignore names one line (`file:line`) and sits under a comment saying why, and zizmor without the ignores finds
    exactly the ignored lines: no ignore is stale, so a line that moved cannot silently cover a new finding."""
    text = ZIZMOR_CONFIG.read_text(encoding="utf-8")
    rules = yaml.safe_load(text)["rules"]
    ignored = {(rule, entry.split(":")[0], int(entry.split(":")[1])) for rule, body in rules.items() for entry in body.get("ignore", [])}
    assert all(re.fullmatch(r"[\w.-]+\.ya?ml:\d+", e) for body in rules.values() for e in body.get("ignore", [])), "ignore single lines"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if re.fullmatch(r"- [\w.-]+\.ya?ml:\d+", line):
            # the nearest line above that is not an ignore entry is the comment saying why
            reason = next(x for x in reversed(lines[:index]) if not re.fullmatch(r"- [\w.-]+\.ya?ml:\d+", x))
            assert reason.startswith("#"), f"{line}: say why in a comment above it"
    assert {_where(f) for f in zizmor(WORKFLOWS, "--no-ignores")} == ignored


def test_make_test_runs_zizmor_from_the_lock_file() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile[makefile.index("\ntest: setup") : makefile.index("\n\n", makefile.index("\ntest: setup"))]
    assert "$(VENV)/bin/zizmor --offline --persona auditor" in recipe and recipe.rstrip().endswith("--dist worksteal")
    lock = (ROOT / "requirements-dev.lock").read_text(encoding="utf-8")
    pinned = re.search(r"^zizmor==([\d.]+) \\\n((?:    --hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", lock, re.MULTILINE)
    assert pinned, "zizmor is pinned with its hashes in requirements-dev.lock (make lock)"
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]["dev"]
    assert any(d.startswith("zizmor") for d in dev)


# --- item 5: the policy pack, from the default branch, before every pulumi up --------------------------------------------


def _stack_of(command: list[str]) -> str:
    return command[command.index("--stack") + 1] if "--stack" in command else ""


def _pack_of(command: list[str]) -> str | None:
    return command[command.index("--policy-pack") + 1] if "--policy-pack" in command else None


def policy_violations(directory: Path) -> list[str]:
    out = []
    for name, document in load_dir(directory).items():
        for job_id, job in (document.get("jobs") or {}).items():
            previews: list[list[str]] = []
            for index, step in enumerate(steps(job)):
                for command in cluster_operations(step):
                    if command[1] == "preview" and step.get("if") is None and not step.get("continue-on-error"):
                        previews.append(command)
                    if command[1] != "up":
                        continue
                    where = f"{name}/{job_id} step {index}"
                    checked = [p for p in previews if _stack_of(p) == _stack_of(command) and _pack_of(p)]
                    if not checked:
                        out.append(f"{where}: `pulumi up` without an earlier `pulumi preview --policy-pack <pack>` on {_stack_of(command)}")
                        continue
                    pack = _pack_of(checked[-1])
                    if _pack_of(command) != pack:
                        out.append(f"{where}: `pulumi up` does not run the pack {pack} too")
                    if pack is None or "$" in pack or not (ROOT / pack / "PulumiPolicy.yaml").is_file():
                        out.append(f"{where}: {pack} is not a policy pack committed in this repository")
                    if any(untrusted_runs(document, job).values()):
                        out.append(f"{where}: the job runs an untrusted ref, so the pack is not the default branch's")
    return out


def test_every_pulumi_up_runs_after_the_default_branchs_policy_pack() -> None:
    ups = [c for d in load_dir(WORKFLOWS).values() for job in d["jobs"].values() for s in steps(job) for c in cluster_operations(s) if c[1] == "up"]
    assert ups, "no workflow runs pulumi up: the rule checks nothing"
    assert policy_violations(WORKFLOWS) == []


def test_the_policy_rule_catches_a_deploy_without_the_pack(tmp_path: Path) -> None:
    up = 'pulumi up --yes --policy-pack policy --stack "$S"'
    found = policy_violations(_write(tmp_path, "pull_request_target", _job(up, environment="preview", permissions=OIDC)))
    assert "without an earlier `pulumi preview --policy-pack" in found[0]
    found = policy_violations(_write(tmp_path, "pull_request", _job('pulumi preview --policy-pack policy --stack "$S"', up)))
    assert "untrusted ref" in found[0]
    found = policy_violations(_write(tmp_path, "pull_request_target", _job('pulumi preview --policy-pack "$PACK" --stack "$S"', up)))
    assert len(found) == 2 and "does not run the pack $PACK too" in found[0] and "$PACK is not a policy pack committed" in found[1]


# --- the world runs the pack: the pulumi stand-in's --policy-pack ---------------------------------------------------------


def _cli_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registrations: list[Any]) -> tuple[Any, Any, list[str]]:
    from secret_chain.ops.offline import Evaluation
    from tests.world import PulumiCli, StackState, World

    world = World(now=1_800_000_000.0)
    (tmp_path / "Pulumi.yaml").write_text("name: secret-chain\nruntime: python\n")
    from tests.policy_analysis import installed_copy

    installed_copy(ROOT / "policy", tmp_path / "policy")
    world.cloud.tokens["pul-x"] = ("acme", world.now + 100)
    stack = StackState("acme", "secret-chain", "preview-pr-7")
    world.cloud.stacks[stack.fqn] = stack
    out: list[str] = []
    cli = PulumiCli(world, tmp_path, {"PULUMI_ACCESS_TOKEN": "pul-x"}, out.append, out.append)
    evaluation = Evaluation(stack="preview-pr-7", preview=False, registrations=registrations)
    monkeypatch.setattr(cli, "evaluate", lambda *a, **k: (evaluation, {}))
    return cli, world, out


def _registration(name: str, type_: str, inputs: dict[str, Any]) -> Any:
    from secret_chain.ops.offline import Registration

    urn = f"urn:pulumi:preview-pr-7::secret-chain::{type_}::{name}"
    return Registration(type_, name, urn, "", True, inputs, (), False, "")


def test_the_pulumi_stand_in_runs_the_policy_pack_on_preview_and_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pulumi preview --policy-pack policy` fails on a mandatory violation and changes nothing; `pulumi up --policy-pack`
    applies nothing then either; a compliant program passes (pulumi/pulumi step_generator.go: a mandatory diagnostic
    makes the resource invalid in an update and the deployment fail)."""
    # A kind the PR stack's allow-list admits (policy/policy_allowlist.py), in another PR's namespace.
    monitor_type = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
    config_map = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "c", "namespace": "preview-pr-8"},
        "spec": {"selector": {"matchLabels": {"app": "c"}}, "endpoints": [{"port": "http"}]},
    }
    cli, world, out = _cli_with(tmp_path, monkeypatch, [_registration("c", monitor_type, config_map)])
    assert cli.run(["preview", "--policy-pack", "policy", "--stack", "acme/preview-pr-7"]) == 255
    assert any("[mandatory]  pr-stack-confined-to-its-namespace" in line for line in out)
    assert "error: preview failed" in out[-1]
    assert cli.run(["up", "--yes", "--skip-preview", "--policy-pack", "policy", "--stack", "acme/preview-pr-7"]) == 255
    assert world.cloud.stacks["acme/secret-chain/preview-pr-7"].resources == {}
    fine = {**config_map, "metadata": {"name": "c", "namespace": "preview-pr-7"}}
    (tmp_path / "ok").mkdir()
    cli, _, out = _cli_with(tmp_path / "ok", monkeypatch, [_registration("c", monitor_type, fine)])
    assert cli.run(["preview", "--policy-pack", "policy", "--stack", "acme/preview-pr-7"]) == 0
    assert any("no violations" in line for line in out)


def test_the_pulumi_stand_in_refuses_to_pretend_a_remediation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine would apply a remediation and go on with the changed inputs (step_generator.go: "Use the transformed
    inputs rather than the old ones from this point onwards"); the world does not model that, so it stops instead of
    deploying inputs the real engine would not."""
    plain = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "preview-pr-7"}, "stringData": {"k": "v"}}
    cli, _, out = _cli_with(tmp_path, monkeypatch, [_registration("s", "kubernetes:core/v1:Secret", plain)])
    assert cli.run(["preview", "--policy-pack", "policy", "--stack", "acme/preview-pr-7"]) != 0
    assert "the world does not apply remediations (kubernetes-secret-data-is-secret)" in out[-1]


def test_the_policy_pack_passes_the_chains_pr_stack_as_the_engine_sends_it(tmp_path: Path) -> None:
    """The real pack over the chain's preview-pr registrations, in update and preview mode (unknowns as the engine's
    sentinel): the deploy job's `pulumi preview --policy-pack` does not refuse what the chain builds."""
    from secret_chain.program import main
    from tests.conftest import canary_config
    from tests.policy_analysis import analyze, installed_copy
    from tests.runtime import evaluate

    pack = installed_copy(ROOT / "policy", tmp_path / "policy")
    config, secret_keys = canary_config()
    config["secret-chain:escEnvironment"] = "acme/secret-chain/Preview"
    for preview in (False, True):
        ev = evaluate(main, config=config, secret_keys=secret_keys, preview=preview, stack="preview-pr-42")
        run = analyze(pack, ev.registrations)
        assert run.pack == "secret-chain" and run.mandatory == [], run.report()


# --- the runner knows pull_request_target -----------------------------------------------------------------------------------


@pytest.fixture
def runner(tmp_path: Path) -> Any:
    from tests.runner import Runner
    from tests.world import World

    world_path = tmp_path / "world.pickle"
    World(now=1_800_000_000.0).save(world_path)
    return Runner(world_path, "acme/platform", tmp_path)


def test_the_runner_runs_a_workflow_only_on_its_own_events(runner: Any) -> None:
    """GitHub docs, "Events that trigger workflows": a workflow runs on the events its `on` names (pull_request_target
    by default for opened, synchronize and reopened), and a pull_request_target run is the default branch's: GITHUB_REF
    the default branch, GITHUB_SHA its last commit, the pull request only in the payload."""
    from tests.runner import pull_request, pull_request_target

    with pytest.raises(AssertionError, match="does not run on pull_request"):
        runner.run_job("preview-deploy.yml", "deploy", pull_request("acme/platform", 7, "opened"))
    with pytest.raises(AssertionError, match="does not run on pull_request_target closed"):
        runner.run_job("preview-deploy.yml", "deploy", pull_request_target("acme/platform", 7, "closed"))
    event = pull_request_target("acme/platform", 7, "opened")
    assert (event.ref, event.payload["pull_request"]["head"]["sha"] != event.sha) == ("refs/heads/main", True)


def test_the_unprivileged_plan_runs_the_pull_requests_code_with_nothing_to_take(runner: Any) -> None:
    """preview-plan.yml as the runner runs it on a pull_request event: it succeeds with no environment, no secret, no
    OIDC token and no App token, and prints the plan of preview-pr-<N>."""
    from tests.runner import pull_request

    result = runner.run_job("preview-plan.yml", "plan", pull_request("acme/platform", 7, "opened"))
    assert result.ok, result.log
    assert result.masks == [] and "appNamespace: preview-pr-7" in result.log


# --- the documented gate ------------------------------------------------------------------------------------------------------


def test_the_docs_make_the_preview_environments_reviewers_the_gate() -> None:
    """docs/ci-trust.md says what the operator sets in each environment (GitHub docs, "Deployments and environments"),
    how zizmor runs, and how to publish the pack as an organisation policy group (Pulumi docs, "Policy groups",
    `pulumi policy publish`, `pulumi policy enable --policy-group`)."""
    text = " ".join((ROOT / "docs" / "ci-trust.md").read_text(encoding="utf-8").split())
    for fact in (
        "Required reviewers",
        "Deployment branches and tags",
        "Selected branches and tags",
        "pull_request_target",
        "refs/pull/<N>/merge",
        "zizmor --offline --persona auditor .github/workflows",
        "pulumi preview --policy-pack policy",
        "pulumi policy publish <org>",
        "pulumi policy enable <org>/secret-chain latest --policy-group",
        "Prevent self-review",
    ):
        assert fact in text, fact
    workflows = (ROOT / "docs" / "workflows.md").read_text(encoding="utf-8")
    assert "(ci-trust.md)" in workflows and "`preview-plan.yml`" in workflows


def test_the_pack_runs_only_in_its_virtualenv_and_the_deploy_builds_it_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """policy/PulumiPolicy.yaml names `virtualenv: venv`, and the CLI will not start a pack whose virtualenv has no
    bin/python (pulumi/pulumi sdk/python/toolchain/pip.go: IsVirtualEnv, NewVirtualEnvError): the stand-in refuses it
    the same way, and every job that runs `--policy-pack policy` builds policy/venv (`make policy-venv`) before."""
    cli, _, out = _cli_with(tmp_path, monkeypatch, [])
    shutil.rmtree(tmp_path / "policy" / "venv")
    assert cli.run(["preview", "--policy-pack", "policy", "--stack", "acme/preview-pr-7"]) != 0
    assert "The 'virtualenv' option in PulumiPolicy.yaml is set to 'venv'" in out[-1] and "doesn't exist" in out[-1]
    found = 0
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            runs = [str(s.get("run", "")) for s in job.get("steps", [])]
            packs = [i for i, r in enumerate(runs) if "--policy-pack policy" in r]
            for index in packs:
                found += 1
                assert any("policy-venv" in r for r in runs[:index]), f"{path.name}/{name}: --policy-pack before make policy-venv"
    assert found
