"""The CI workflows: valid against GitHub's workflow schema, and hardened the way the project requires.

The schema is the one check-jsonschema bundles (SchemaStore's github-workflow.json), loaded offline.
On top of it: every action pinned to a full commit SHA with a version comment, least-privilege
``permissions`` at the top level and on every job, the fork guard on the jobs that use secrets, and no
stored Pulumi or GitHub token (issue 14): Pulumi Cloud by GitHub's OIDC token exchanged with
pulumi/auth-actions, every GitHub write (push, pull request, comment, dispatch) with a one-hour GitHub App
installation token from actions/create-github-app-token holding only the permissions it needs.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
import json
import re
import secrets
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.runner import JobResult, StepResult, job_environment, matrix_entries
from tests.world import World

WORKFLOWS = Path(__file__).resolve().parent.parent / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.y*ml"))
NAMES = [p.name for p in FILES]
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
APP_TOKEN_ACTION = "actions/create-github-app-token@"
FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository"
# What counts as a push, a pull request or a workflow trigger made from a run step.
TRIGGERING = re.compile(r"\bgit\s+push\b|\bgh\s+(pr\s+create|workflow\s+run|api\b.*dispatches)|createWorkflowDispatch|repository_dispatch")
# Every GitHub write a run step can make: the above, plus comments and edits of pull requests.
GITHUB_WRITE = re.compile(
    TRIGGERING.pattern
    + r"|\bgh\s+pr\s+(comment|edit|close|merge|review)\b|\bgh\s+api\b.*(-X|--method)\s*(POST|PATCH|PUT|DELETE)"
    + r"|\bgh\s+issue\s+(create|edit|close|reopen|comment|delete)\b|\bgh\s+label\s+(create|edit|delete|clone)\b"
)
WRITE_SCOPES = {"actions", "contents", "pull-requests", "issues", "packages", "deployments", "statuses", "checks", "id-token"}


@functools.cache
def _parsed(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    # YAML 1.1 reads the key `on` as the boolean True; the workflow schema wants the string.
    if True in document:
        document["on"] = document.pop(True)
    return document


def load(path: Path) -> dict[str, Any]:
    """A workflow file's document (parsed once per session; a copy, which the caller may change)."""
    return copy.deepcopy(_parsed(path))


def workflow_schema() -> dict[str, Any]:
    text = importlib.resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("github-workflows.json").read_text("utf-8")
    schema = json.loads(text)
    assert isinstance(schema, dict)
    return schema


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    result = job.get("steps", [])
    assert isinstance(result, list)
    return result


def test_the_workflows_exist() -> None:
    assert {"test.yml", "preview-deploy.yml", "preview-cleanup.yml", "scheduled-checks.yml", "doctor.yml"} <= set(NAMES)


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_valid_against_the_github_workflow_schema(path: Path) -> None:
    schema = workflow_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(load(path)), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_schema_rejects_a_broken_workflow() -> None:
    schema = workflow_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert list(validator.iter_errors({"on": "push", "jobs": {"x": {"runs-on": "ubuntu-latest", "step": []}}}))


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_every_action_is_pinned_to_a_full_commit_sha_with_a_version_comment(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for name, job in load(path)["jobs"].items():
        if "uses" in job:  # a reusable workflow call
            assert SHA_PIN.match(job["uses"]) or job["uses"].startswith("./"), f"{name}: {job['uses']}"
        for step in steps(job):
            uses = step.get("uses")
            if uses is None or uses.startswith("./"):
                continue
            assert SHA_PIN.match(uses), f"{path.name}/{name}: {uses} is not pinned to a 40-hex commit SHA"
            assert re.search(re.escape(uses) + r" # v\d+(\.\d+)*\s*$", text, re.MULTILINE), f"{uses}: add '# vX.Y.Z'"


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_permissions_are_declared_and_least_privilege(path: Path) -> None:
    """Top level ``{}``; each job names what its GITHUB_TOKEN may do, and that is read-only but for OIDC.

    Every GitHub write goes through an App token (below), so no job's GITHUB_TOKEN needs ``contents: write``
    or ``pull-requests: write``; ``id-token: write`` only lets the job request GitHub's OIDC token and
    grants no write to the repository (GitHub docs, "OpenID Connect" → "Adding permissions settings").
    """
    workflow = load(path)
    assert workflow.get("permissions") == {}, f"{path.name}: top-level permissions must be {{}}; grant per job"
    for name, job in workflow["jobs"].items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{path.name}/{name}: declare job permissions"
        assert set(permissions) <= WRITE_SCOPES | {"metadata"}, permissions
        writes = {scope for scope, level in permissions.items() if level == "write"}
        assert writes <= {"id-token"}, f"{path.name}/{name}: GITHUB_TOKEN writes {writes}; use the App token"
        assert set(permissions.values()) <= {"read", "write", "none"}, permissions


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_jobs_with_secrets_on_pull_requests_have_the_fork_guard(path: Path) -> None:
    workflow = load(path)
    if "pull_request" not in workflow["on"]:
        return
    for name, job in workflow["jobs"].items():
        if "secrets." in yaml.safe_dump(job):
            assert FORK_GUARD in str(job.get("if", "")), f"{path.name}/{name} uses secrets without the fork guard"
    assert "pull_request_target" not in workflow["on"]


def test_preview_deploy_is_guarded_against_forks() -> None:
    deploy = load(WORKFLOWS / "preview-deploy.yml")
    # pull_request_target (issue 20): the default branch's code only; tests/test_ci_trust.py holds it to that.
    assert set(deploy["on"]) == {"pull_request_target"}
    for job in deploy["jobs"].values():
        assert job["if"] == FORK_GUARD


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_pushes_and_dispatches_use_a_github_app_token(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"secrets\.(WORKFLOW_DISPATCH_TOKEN|\w*PAT\w*)\b", text), f"{path.name}: use a GitHub App token, not a PAT"
    for name, job in load(path)["jobs"].items():
        job_steps = steps(job)
        runs = [(i, str(step.get("run", ""))) for i, step in enumerate(job_steps)]
        app_steps = [i for i, step in enumerate(job_steps) if str(step.get("uses", "")).startswith(APP_TOKEN_ACTION)]
        for index, run in runs:
            if not GITHUB_WRITE.search(run):
                continue
            assert app_steps and app_steps[0] < index, f"{path.name}/{name}: mint an App token before step {index}"
            token_env = json.dumps(job_steps[index].get("env", {}))
            assert "steps.app-token.outputs.token" in token_env, f"{path.name}/{name}: step {index} must use the App token"
            # PRs, pushes and comments made with GITHUB_TOKEN trigger no workflow run (GitHub docs, "Triggering a
            # workflow from a workflow"), and the job's GITHUB_TOKEN is read-only anyway.
            assert "github.token" not in token_env and "GITHUB_TOKEN" not in token_env, f"{path.name}/{name}: step {index}"
        for i in app_steps:
            step = job_steps[i]
            assert step["id"] == "app-token"
            assert step["with"]["app-id"] == "${{ vars.APP_ID }}"
            assert step["with"]["private-key"] == "${{ secrets.APP_PRIVATE_KEY }}"


# --- issue 14: no stored Pulumi or GitHub token ------------------------------------------------------

ACTIONS_DATA = Path(__file__).resolve().parent / "data" / "actions"
# Every action the workflows use, each pinned to the commit its tag points at in the upstream repository
# (`git rev-parse <tag>^{commit}` in a clone of github.com/<repository>; tests/data/actions/README.md).
VERIFIED_PINS = {
    "actions/checkout": ("11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2", "actions-checkout@v4.2.2.action.yml"),
    "actions/setup-python": ("a26af69be951a213d495a4c3e4e4022e16d87065", "v5.6.0", "actions-setup-python@v5.6.0.action.yml"),
    "pulumi/actions": ("8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0", "pulumi-actions@v7.0.0.action.yml"),
    "pulumi/auth-actions": ("141415910c3beb54e03b48e9057c204c97b956f2", "v2.1.0", "pulumi-auth-actions@v2.1.0.action.yml"),
    "actions/create-github-app-token": (
        "1b10c78c7865c340bc4f6099eb2f838309f1e8c3",
        "v3.1.1",
        "actions-create-github-app-token@v3.1.1.action.yml",
    ),
}
AUTH_ACTION = "pulumi/auth-actions@"
# A run step that talks to Pulumi Cloud (the state backend or ESC).
PULUMI_CLOUD = re.compile(r"\bpulumi\s+(stack|up|destroy|refresh|preview|env|config|login|whoami|cancel|import)\b")
OIDC_IF = "vars.PULUMI_AUTH != 'stored-token-fallback'"
FALLBACK_IF = "vars.PULUMI_AUTH == 'stored-token-fallback'"
FALLBACK_SECRET = "PULUMI_FALLBACK_ACCESS_TOKEN"
# The only secrets a workflow may read: the CI App's key (it signs a JWT, never leaves the runner), and the
# opt-in fallback for Pulumi Cloud editions or backends without OIDC, read only by the gated fallback step.
ALLOWED_SECRETS = {"APP_PRIVATE_KEY", FALLBACK_SECRET}
# The App token of each job: exactly these permissions (the token gets only what it asks for).
APP_PERMISSIONS = {
    ("preview-deploy.yml", "deploy"): {"permission-pull-requests": "write"},
    ("scheduled-checks.yml", "inventory"): {"permission-contents": "write", "permission-pull-requests": "write"},
    ("flux-image-updates-pr.yml", "pull-request"): {"permission-contents": "read", "permission-pull-requests": "write"},
    ("doctor.yml", "issue"): {"permission-issues": "write"},  # one issue: list, create, edit, close; its label
}


def all_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(path.name, name, job) for path in FILES for name, job in load(path)["jobs"].items()]


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_no_workflow_reads_a_stored_pulumi_or_github_token(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    used = set(re.findall(r"\bsecrets\s*\.\s*(\w+)", text)) | set(re.findall(r"\bsecrets\s*\[\s*['\"](\w+)", text))
    assert not used - ALLOWED_SECRETS, f"{path.name} reads {sorted(used - ALLOWED_SECRETS)}: no stored Pulumi or GitHub token"
    assert "secrets: inherit" not in text and "toJSON(secrets)" not in text
    for name, job in load(path)["jobs"].items():
        outside_steps = {k: v for k, v in job.items() if k != "steps"}
        assert "secrets." not in yaml.safe_dump(outside_steps), f"{path.name}/{name}: no secret in job-level env"
        for step in steps(job):
            if re.search(r"\bsecrets\s*\.\s*" + FALLBACK_SECRET, json.dumps(step)):
                # The fallback is opt-in, gated and named so: only when the variable says so, in a step saying so.
                assert step.get("if") == FALLBACK_IF, f"{path.name}/{name}: the fallback step must be gated by {FALLBACK_IF}"
                assert "fallback" in step["name"].lower() and "uses" not in step
                assert step["env"] == {"FALLBACK_TOKEN": "${{ secrets." + FALLBACK_SECRET + " }}"}


def test_the_no_stored_token_rule_catches_the_old_workflows() -> None:
    old = "env:\n  PULUMI_ACCESS_TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}\n  T: ${{ secrets['WORKFLOW_DISPATCH_TOKEN'] }}\n"
    used = set(re.findall(r"\bsecrets\s*\.\s*(\w+)", old)) | set(re.findall(r"\bsecrets\s*\[\s*['\"](\w+)", old))
    assert used - ALLOWED_SECRETS == {"PULUMI_ACCESS_TOKEN", "WORKFLOW_DISPATCH_TOKEN"}


@pytest.mark.parametrize(("workflow", "name", "job"), all_jobs(), ids=[f"{w}/{n}" for w, n, _ in all_jobs()])
def test_pulumi_cloud_is_reached_with_a_short_lived_oidc_token(workflow: str, name: str, job: dict[str, Any]) -> None:
    """pulumi/auth-actions exchanges GitHub's OIDC token for a Pulumi access token (POST /api/oauth/token,
    Pulumi Cloud REST API "OAuth Token Exchange") and exports it as PULUMI_ACCESS_TOKEN to later steps
    (auth-actions src/main.ts: core.exportVariable). The Pulumi organisation registers the issuer
    https://token.actions.githubusercontent.com (Pulumi docs, "OIDC issuers" → GitHub)."""
    job_steps = steps(job)
    pulumi_at = [i for i, s in enumerate(job_steps) if PULUMI_CLOUD.search(str(s.get("run", "")))]
    auth_at = [i for i, s in enumerate(job_steps) if str(s.get("uses", "")).startswith(AUTH_ACTION)]
    permissions = job["permissions"]
    if not pulumi_at:
        assert not auth_at and "id-token" not in permissions, f"{workflow}/{name}: id-token: write only where OIDC is used"
        return
    assert permissions.get("id-token") == "write", f"{workflow}/{name}: OIDC needs id-token: write"
    assert len(auth_at) == 1 and auth_at[0] < pulumi_at[0], f"{workflow}/{name}: log in by OIDC before the first pulumi command"
    auth = job_steps[auth_at[0]]
    assert auth["if"] == OIDC_IF
    assert auth["with"] == {
        "organization": "${{ vars.PULUMI_ORG }}",
        # organization (Team edition and above) or team (Enterprise, Business Critical): Pulumi docs, token types by edition
        "requested-token-type": "urn:pulumi:token-type:access_token:${{ vars.PULUMI_TOKEN_TYPE || 'organization' }}",
        # token exchange: scope empty for organization tokens, team:TEAM_NAME for team tokens
        "scope": "${{ vars.PULUMI_TOKEN_TYPE == 'team' && format('team:{0}', vars.PULUMI_TEAM) || '' }}",
        # the token lives no longer than the job may run
        "token-expiration": 60 * job["timeout-minutes"],
        "export-environment-variables": True,
    }
    fallback_at = [i for i, s in enumerate(job_steps) if s.get("if") == FALLBACK_IF]
    assert len(fallback_at) == 1 and fallback_at[0] < pulumi_at[0], f"{workflow}/{name}: one gated fallback step before pulumi"
    check_at = [i for i, s in enumerate(job_steps) if s.get("name") == LOGIN_CHECK]
    assert len(check_at) == 1 and check_at[0] < min(auth_at[0], fallback_at[0]), f"{workflow}/{name}: check the variables first"
    assert "PULUMI_ACCESS_TOKEN" not in yaml.safe_dump({k: v for k, v in job.items() if k != "steps"})


def test_every_pulumi_cloud_workflow_uses_oidc() -> None:
    using = {w for w, _, job in all_jobs() for s in steps(job) if str(s.get("uses", "")).startswith(AUTH_ACTION)}
    assert using == {"preview-deploy.yml", "preview-cleanup.yml", "scheduled-checks.yml", "doctor.yml"}


LOGIN_CHECK = "Check the Pulumi Cloud login settings"


def _login_check_script() -> str:
    (script,) = {str(s["run"]) for _, _, job in all_jobs() for s in steps(job) if s.get("name") == LOGIN_CHECK}
    return script


@pytest.mark.parametrize(
    ("env", "ok", "message"),
    [
        ({"ORG": "acme"}, True, "organization token"),
        ({"ORG": "acme", "TOKEN_TYPE": "organization"}, True, "organization token"),
        ({"ORG": "acme", "TOKEN_TYPE": "team", "TEAM": "ci-deployers"}, True, "team token of team ci-deployers"),
        ({"ORG": "acme", "TOKEN_TYPE": "team"}, False, "PULUMI_TEAM"),
        ({"ORG": "acme", "TOKEN_TYPE": "personal"}, False, "organization or team"),
        ({"ORG": "acme", "TOKEN_TYPE": "Organization"}, False, "organization or team"),
        ({}, False, "PULUMI_ORG"),
        ({"ORG": "acme", "AUTH": "stored-token-fallback"}, True, "fallback"),
        ({"ORG": "acme", "AUTH": "token"}, False, "PULUMI_AUTH"),
    ],
)
def test_the_login_check_explains_bad_settings(env: dict[str, str], ok: bool, message: str) -> None:
    """The same step in every Pulumi job runs first and names the variable to fix (run here with bash)."""

    full = {"PATH": "/usr/bin:/bin", **{k: env.get(k, "") for k in ("ORG", "TOKEN_TYPE", "TEAM", "AUTH")}}
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", _login_check_script()], env=full, capture_output=True, text=True, timeout=10)
    assert (done.returncode == 0) is ok, done.stdout + done.stderr
    assert message in done.stdout + done.stderr


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_actions_are_pinned_to_their_verified_tag_commits(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    used = {m.split("@")[0] for m in re.findall(r"uses: (\S+@\S+)", text)}
    assert used <= set(VERIFIED_PINS), f"{path.name}: verify the pin of {sorted(used - set(VERIFIED_PINS))} and add it to VERIFIED_PINS"
    for repository, (sha, tag, _) in VERIFIED_PINS.items():
        for found in re.findall(rf"uses: {re.escape(repository)}@(\S+)(.*)$", text, re.MULTILINE):
            assert found == (sha, f" # {tag}"), f"{path.name}: {repository}@{found[0]} is not the verified {tag} commit {sha}"


@pytest.mark.parametrize(("workflow", "name", "job"), all_jobs(), ids=[f"{w}/{n}" for w, n, _ in all_jobs()])
def test_action_inputs_are_the_ones_the_pinned_action_declares(workflow: str, name: str, job: dict[str, Any]) -> None:
    for step in steps(job):
        repository = str(step.get("uses", "")).split("@")[0]
        if repository not in VERIFIED_PINS:
            continue
        declared = yaml.safe_load((ACTIONS_DATA / VERIFIED_PINS[repository][2]).read_text(encoding="utf-8"))["inputs"]
        given = set(step.get("with", {}))
        assert given <= set(declared), f"{workflow}/{name}: {sorted(given - set(declared))} not inputs of {repository}"
        required = {k for k, v in declared.items() if v.get("required") is True}
        assert required <= given, f"{workflow}/{name}: {repository} requires {sorted(required - given)}"


@pytest.mark.parametrize(("workflow", "name", "job"), all_jobs(), ids=[f"{w}/{n}" for w, n, _ in all_jobs()])
def test_app_tokens_ask_for_the_narrowest_permissions(workflow: str, name: str, job: dict[str, Any]) -> None:
    """Without permission-* inputs the token gets every permission of the installation (create-github-app-token
    README, "permission-<permission name>"); with them, only those."""
    app = [s for s in steps(job) if str(s.get("uses", "")).startswith(APP_TOKEN_ACTION)]
    if (workflow, name) not in APP_PERMISSIONS:
        assert not app, f"{workflow}/{name}: add the job to APP_PERMISSIONS with the permissions it needs"
        return
    (step,) = app
    asked = {k: v for k, v in step["with"].items() if k.startswith("permission-")}
    assert asked == APP_PERMISSIONS[(workflow, name)]
    assert step["with"].get("skip-token-revoke") in (None, False, "false"), "the post step revokes the token"


def test_the_app_token_permissions_table_names_real_jobs() -> None:
    assert set(APP_PERMISSIONS) <= {(w, n) for w, n, _ in all_jobs()}


def test_an_app_token_is_minted_where_a_pull_request_is_opened() -> None:
    inventory = load(WORKFLOWS / "scheduled-checks.yml")["jobs"]["inventory"]
    uses = [str(step.get("uses", "")) for step in steps(inventory)]
    assert any(u.startswith(APP_TOKEN_ACTION) for u in uses)


def test_the_workflows_run_what_the_brief_says() -> None:
    def runs(name: str) -> str:
        return "\n".join(str(step.get("run", "")) for job in load(WORKFLOWS / name)["jobs"].values() for step in steps(job))

    assert "make test" in runs("test.yml")
    deploy = runs("preview-deploy.yml")
    assert "pulumi config env add secret-chain/PullRequest" in deploy and "pulumi up" in deploy and "gh pr comment" in deploy
    # The PR stack's settings (the domain its hostnames derive from) come from the committed template.
    assert deploy.index('cp stacks/Pulumi.preview-pr.yaml "stacks/Pulumi.$STACK.yaml"') < deploy.index("pulumi stack select --create")
    cleanup = runs("preview-cleanup.yml")
    assert cleanup.index("pulumi destroy") < cleanup.index("pulumi stack rm") < cleanup.index("kubectl get namespace")
    # kubectl needs a kubeconfig: fetched for the stack's cluster before the destroy (issue 19), the token masked first.
    assert cleanup.index("::add-mask::$token") < cleanup.index("curl") < cleanup.index('KUBECONFIG=$kubeconfig" >> "$GITHUB_ENV"')
    assert cleanup.index('KUBECONFIG=$kubeconfig" >> "$GITHUB_ENV"') < cleanup.index("pulumi destroy") < cleanup.index("kubectl get namespace")
    checks = runs("scheduled-checks.yml")
    assert "secret-chain rotation --state <(pulumi stack export" in checks
    assert "secret-chain preflight --stack" in checks
    assert "pulumi refresh --run-program --diff --preview-only" in checks
    # the inventory PR regenerates every generated block of docs/, exactly as docs/cli.md says to
    assert "secret-chain inventory --docs docs" in checks and "secret-chain inventory --docs docs" in (ROOT / "docs" / "cli.md").read_text()
    assert "git diff --quiet -- docs" in checks
    assert load(WORKFLOWS / "scheduled-checks.yml")["on"]["schedule"][0]["cron"]


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_no_untrusted_pull_request_text_is_interpolated_into_scripts(path: Path) -> None:
    for job in load(path)["jobs"].values():
        for step in steps(job):
            run = str(step.get("run", ""))
            assert "${{" not in run, f"{path.name}: pass values to run steps through env, not ${{{{ }}}} (script injection)"


# --- Flux image-update pull requests: tests/test_flux_workflow.py ---------------------------------------

# --- the documentation of the workflows --------------------------------------------------------------

ROOT = WORKFLOWS.parent.parent


def _readme_ci_section() -> str:
    """The CI workflows page (docs/workflows.md; it was the README's section)."""
    return (ROOT / "docs" / "workflows.md").read_text(encoding="utf-8")


def test_the_readme_documents_every_workflow_and_what_it_reads() -> None:
    section = _readme_ci_section()
    for name in NAMES:
        assert f"`{name}`" in section, f"README's CI workflows section does not mention {name}"
    settings = section[section.index("Repository settings they read") : section.index("Upgrading from")]
    read: set[str] = set()
    for path in FILES:
        read |= set(re.findall(r"\b(?:secrets|vars)\.(\w+)", path.read_text(encoding="utf-8")))
    for name in read:
        assert f"`{name}`" in settings, f"README's list of repository settings does not name {name}, which a workflow reads"
    # no stored Pulumi or GitHub token is asked for any more (issue 14)
    assert "PULUMI_ACCESS_TOKEN" not in settings and "WORKFLOW_DISPATCH_TOKEN" not in settings
    for fact in ("id-token: write", "https://token.actions.githubusercontent.com", "urn:pulumi:org:", "stored-token-fallback"):
        assert fact in section, fact


def test_least_privilege_doc_covers_ci_without_stored_tokens() -> None:
    text = (ROOT / "docs" / "least-privilege.md").read_text(encoding="utf-8")
    start = text.index("## CI without stored tokens")
    section = text[start : text.index("\n## ", start + 1)]
    for fact in (
        "`id-token: write`",
        "pulumi/auth-actions",
        "repo:<owner>/<repo>:",
        "Team edition",
        "Enterprise",
        "`permission-pull-requests: write`",
        "`permission-contents: write`",
        "flux-image-updates-pr.yml",
        "PULUMI_FALLBACK_ACCESS_TOKEN",
    ):
        assert fact in section, fact
    # every App token's permissions in the workflows are the ones the doc lists
    for (workflow, job), permissions in APP_PERMISSIONS.items():
        row = next(line for line in section.splitlines() if line.startswith(f"| `{workflow}`") and f"`{job}`" in line)
        for name, level in permissions.items():
            assert f"`{name}: {level}`" in row, (workflow, job, name)


# --- issue 19: cluster access is explicit ---------------------------------------------------------------------------
#
# The steps are read as the runner reads them: YAML with `on` fixed, each job's steps in order with their `if:`, a matrix
# job once per matrix entry, and each `run:` as the bash script GitHub runs (`shell: bash` is `bash --noprofile --norc
# -eo pipefail {0}`: GitHub docs, "Workflow syntax", defaults.run.shell), split into commands the way bash does.

CREDENTIALS = "Fetch the cluster's kubeconfig (DigitalOcean; this job only, never printed)"
"""The one step that gives a job the cluster's credentials (the same script in every job that needs it)."""
CLUSTER_OPERATIONS = ("up", "preview", "refresh", "destroy")
"""The pulumi commands that talk to the cluster through pulumi-kubernetes."""
ALWAYS = (None, "${{ !cancelled() }}")
"""`if:` values under which a step runs whenever a later one with the same or any other condition can."""
_KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "!", "time", "{", "}"}


def commands(script: str) -> list[list[str]]:
    """The simple commands of a bash script, each as its words (quotes removed), in order.

    Full-line comments are dropped; lines continued with a backslash are joined; quoted text (a jq program over several
    lines) stays one word. Commands are split where bash splits them: newlines, ``;``, ``&&``, ``||``, ``|``, ``&``, and
    the parentheses of subshells and substitutions such as ``<(…)``; leading keywords (``if !``) and variable
    assignments are dropped. Command substitutions inside double quotes stay inside their word.
    """
    import shlex

    text = "\n".join(line for line in script.replace("\\\n", " ").splitlines() if not line.lstrip().startswith("#"))
    lexer = shlex.shlex(text, posix=True, punctuation_chars="();<>|&\n")
    lexer.whitespace = " \t\r"
    lexer.commenters = ""
    lexer.whitespace_split = True
    out: list[list[str]] = []
    current: list[str] = []
    for token in lexer:
        if token and set(token) <= set("();<>|&\n"):
            if current:
                out.append(current)
            current = []
            continue
        if not current and (token in _KEYWORDS or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", token, re.DOTALL)):
            continue
        current.append(token)
    if current:
        out.append(current)
    return out


def test_commands_are_split_as_bash_splits_them() -> None:
    script = (
        'if ! pulumi stack select "$ORG/$STACK"; then\n  exit 0\nfi\n'
        "# pulumi destroy in a comment is no command\n"
        '(umask 077 && pulumi refresh --run-program \\\n  --preview-only --stack "$S")\n'
        'x="$(jq -r \'select(.a)\n  | .b\' "$f" | sort -u)"\n'
        "secret-chain rotation --state <(pulumi stack export --stack s)\n"
    )
    assert commands(script) == [
        ["pulumi", "stack", "select", "$ORG/$STACK"],
        ["exit", "0"],
        ["umask", "077"],
        ["pulumi", "refresh", "--run-program", "--preview-only", "--stack", "$S"],
        ["secret-chain", "rotation", "--state"],
        ["pulumi", "stack", "export", "--stack", "s"],
    ]


def cluster_operations(step: dict[str, Any]) -> list[list[str]]:
    """The `pulumi up|preview|refresh|destroy` commands a step runs."""
    return [c for c in commands(str(step.get("run", ""))) if c[:1] == ["pulumi"] and c[1:2] and c[1] in CLUSTER_OPERATIONS]


def operation_steps() -> list[tuple[str, str, int]]:
    return [(w, n, i) for w, n, job in all_jobs() for i, step in enumerate(steps(job)) if cluster_operations(step)]


def test_the_workflows_run_pulumi_against_the_cluster() -> None:
    found = {(w, " ".join(c[:2])) for w, n, job in all_jobs() for s in steps(job) for c in cluster_operations(s)}
    assert found == {
        ("preview-deploy.yml", "pulumi preview"),  # with the policy pack, before up (issue 20, tests/test_ci_trust.py)
        ("preview-deploy.yml", "pulumi up"),
        ("preview-cleanup.yml", "pulumi destroy"),
        ("scheduled-checks.yml", "pulumi refresh"),
    }


@pytest.mark.parametrize(("workflow", "name", "index"), operation_steps(), ids=[f"{w}/{n}/{i}" for w, n, i in operation_steps()])
def test_every_pulumi_operation_on_the_cluster_comes_after_the_cluster_credentials(workflow: str, name: str, index: int) -> None:
    """Issue 19, "CI cannot reach the cluster": without a kubeconfig pulumi-kubernetes marks the cluster unreachable and
    fails every create, read and delete (pulumi/pulumi-kubernetes provider/pkg/provider/provider.go: "configured
    Kubernetes cluster is unreachable"). preview-cleanup.yml fetched one only after `pulumi destroy`. Every such step now
    comes after the job's credentials step, which runs whenever the step does."""
    job_steps = steps(load(WORKFLOWS / workflow)["jobs"][name])
    step = job_steps[index]
    earlier = [s for s in job_steps[:index] if s.get("name") == CREDENTIALS]
    assert earlier, f"{workflow}/{name}: step {step.get('name')!r} runs pulumi on the cluster before {CREDENTIALS!r}"
    assert earlier[-1].get("if") in (*ALWAYS, step.get("if")), f"{workflow}/{name}: the credentials may be skipped while {step.get('name')!r} runs"


@pytest.mark.parametrize("stack", ["production", "preview-base", "preview-pr-7"])
def test_every_stack_ci_runs_names_its_cluster_and_its_environment_holds_the_token(stack: str) -> None:
    """The program's own path to the cluster (issue 19, cluster access is explicit): each stack file CI runs names the cluster
    (secret-chain:digitaloceanCluster), its ESC environment holds digitalocean:token, and so the program, from exactly
    those, builds the explicit Kubernetes provider every object uses, with the kubeconfig it fetched (kept secret)."""
    from secret_chain.ops.offline import Evaluation, is_secret
    from tests.test_stacks import STACKS, build, esc_keys, stack_config

    stack_file, environment_file, _, _ = STACKS[stack]
    # The cluster is the operator's (issue 19: no example value is committed): the stack file says how to set it, and the
    # stack CI runs, its file as the operator committed it in the fork (tests/test_stacks.py), names it.
    assert "secret-chain:digitaloceanCluster" in (ROOT / "stacks" / stack_file).read_text(encoding="utf-8"), f"{stack_file} never names the cluster"
    assert stack_config(stack)[0].get("secret-chain:digitaloceanCluster"), f"{stack} names no cluster"
    assert "digitalocean:token" in esc_keys(environment_file), f"esc/{environment_file} has no digitalocean:token"
    ev = build(stack, *stack_config(stack))
    assert isinstance(ev, Evaluation), str(ev)
    (provider,) = ev.of_type("pulumi:providers:kubernetes")
    assert is_secret(provider.inputs["kubeconfig"])
    kube = [r for r in ev.resources if r.type.startswith("kubernetes:")]
    assert kube and all(r.provider.startswith(provider.urn + "::") for r in kube)


def test_destroy_and_refresh_run_the_program() -> None:
    """`pulumi destroy` and `pulumi refresh` configure providers from the inputs stored in state unless `--run-program`
    is given ("Run the program to determine up-to-date state for providers to destroy resources": pulumi/pulumi
    pkg/cmd/pulumi/operations/destroy.go and refresh.go; added by pulumi/pulumi#19044). The chain's provider holds a
    kubeconfig that expires (secret_chain.chain.KUBECONFIG_EXPIRY_SECONDS; DigitalOcean's default is 7 days) and a PR may
    stay open longer: only the program fetches a fresh one."""
    found = [(w, n, c) for w, n, job in all_jobs() for s in steps(job) for c in cluster_operations(s) if c[1] in ("destroy", "refresh")]
    assert {(w, c[1]) for w, _, c in found} == {("preview-cleanup.yml", "destroy"), ("scheduled-checks.yml", "refresh")}
    for workflow, name, command in found:
        assert "--run-program" in command, f"{workflow}/{name}: {' '.join(command)}"


def test_the_cleanup_makes_the_stack_file_the_program_reads_before_it_destroys() -> None:
    """`destroy --run-program` runs the program, which reads the stack's config; the deploy job's stack file is not in the
    cleanup's checkout, so the cleanup makes it again, with the same commands."""
    deploy = [c for s in steps(load(WORKFLOWS / "preview-deploy.yml")["jobs"]["deploy"]) for c in commands(str(s.get("run", "")))]
    cleanup_steps = steps(load(WORKFLOWS / "preview-cleanup.yml")["jobs"]["destroy"])
    cleanup = [c for s in cleanup_steps for c in commands(str(s.get("run", "")))]
    made = [c for c in deploy if c[:1] == ["cp"] or c[:3] in (["pulumi", "config", "env"], ["pulumi", "config", "set"])]
    assert len(made) == 3
    destroy = next(i for i, c in enumerate(cleanup) if c[:2] == ["pulumi", "destroy"])
    for command in made:
        assert command in cleanup[:destroy], f"the cleanup does not run {' '.join(command)} before its destroy"


def _credentials_steps() -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    return [(w, n, job, s) for w, n, job in all_jobs() for s in steps(job) if s.get("name") == CREDENTIALS]


def doctor_steps() -> list[tuple[str, str, int]]:
    """The steps that run `secret-chain doctor`, which reads the cluster too (its Kubernetes links)."""
    return [
        (w, n, i)
        for w, n, job in all_jobs()
        for i, step in enumerate(steps(job))
        if any(c[:2] == ["secret-chain", "doctor"] for c in commands(str(step.get("run", ""))))
    ]


def test_the_credentials_step_is_one_script() -> None:
    found = _credentials_steps()
    assert doctor_steps(), "no workflow runs secret-chain doctor"
    readers = {(w, n) for w, n, _ in operation_steps()} | {(w, n) for w, n, _ in doctor_steps()}
    assert {(w, n) for w, n, _, _ in found} == readers
    assert len({str(s["run"]) for _, _, _, s in found}) == 1
    for workflow, name, job, step in found:
        # The kubeconfig lives no longer than the job may run (DigitalOcean API, kubeconfig: expiry_seconds).
        assert step["env"] == {"KUBECONFIG_EXPIRY_SECONDS": 60 * job["timeout-minutes"]}, f"{workflow}/{name}"


def _credentials_job(tmp_path: Path, *, cluster_named: bool) -> tuple[World, JobResult, StepResult]:
    """Run preview-cleanup.yml's destroy job for PR 7, as the runner runs it, up to its credentials step, on a small world:
    the PR stack exists, its ESC environment holds digitalocean:token, the token sees two clusters (the one the PR stack
    template names, and another). ``cluster_named=False``: the committed template names no cluster. Returns (the world
    after the job, the job, the credentials step's result)."""
    import shutil

    from tests.runner import Runner, copy_repository, pull_request_target
    from tests.world import OidcIssuer, StackState

    assert shutil.which("kubectl") and shutil.which("jq"), "kubectl and jq (as on GitHub's runners) are needed to run the step"
    repo, org = "acme/platform", "acme"
    world = World(now=1_800_000_000.0)
    world.github.repositories.add(repo)
    world.github.environments[(repo, "preview")] = "acme (set up by hand)"
    world.github.create_variable(("repo", repo), "PULUMI_ORG", org, "acme (set up by hand)", world)
    policy = {"decision": "allow", "tokenType": "organization", "rules": {"aud": f"urn:pulumi:org:{org}", "sub": f"repo:{repo}:environment:preview"}}
    world.cloud.issuers[(org, "github-actions")] = OidcIssuer(org, "https://token.actions.githubusercontent.com", [policy], 3600, "bootstrap")
    world.cloud.stacks[f"{org}/secret-chain/preview-pr-7"] = StackState(org, "secret-chain", "preview-pr-7")
    token = "dop_v1_" + secrets.token_hex(32)
    world.digitalocean.tokens.add(token)
    world.esc.create(f"{org}/secret-chain/PullRequest", yaml.safe_dump({"values": {"pulumiConfig": {"digitalocean:token": {"fn::secret": token}}}}))
    template = yaml.safe_load((ROOT / "stacks" / "Pulumi.preview-pr.yaml").read_text(encoding="utf-8"))
    world.add_cluster("other")
    # The committed template names no cluster (no example value survives preflight): a person commits theirs into it
    # (README, "Preview per pull request"), or, with cluster_named=False, has not yet.
    world.add_cluster("acme-preview")
    origin = tmp_path / "origin"
    copy_repository(origin, ROOT)
    assert "secret-chain:digitaloceanCluster" not in template["config"]
    if cluster_named:
        template["config"]["secret-chain:digitaloceanCluster"] = "acme-preview"
        (origin / "stacks" / "Pulumi.preview-pr.yaml").write_text(yaml.safe_dump(template))
    path = tmp_path / "world.pickle"
    world.save(path)
    runner = Runner(path, repo, tmp_path, root=origin)
    job = runner.run_job("preview-cleanup.yml", "destroy", pull_request_target(repo, 7, "closed", merged=True), until=CREDENTIALS)
    (step,) = [s for s in job.steps if s.name == CREDENTIALS]
    return World.load(path), job, step


def test_the_credentials_step_fetches_a_short_lived_kubeconfig_and_prints_no_credential(tmp_path: Path) -> None:
    """Run as the runner runs it (real bash, jq and kubectl; pulumi, curl and the DigitalOcean API from the world). The
    DigitalOcean token and the kubeconfig's own credential reach the log only inside `::add-mask::`, which hides them
    from then on (GitHub docs, "Workflow commands": masking a value); the kubeconfig is a 0600 file in the runner's temp
    directory that later steps find through `$GITHUB_ENV`, valid for the job's length."""
    import stat

    world, job, step = _credentials_job(tmp_path, cluster_named=True)
    assert step.code == 0, step.stdout + step.stderr
    assert job.temp is not None
    kubeconfig = job.temp / "kubeconfig"
    kube_token = str(yaml.safe_load(kubeconfig.read_text())["users"][0]["user"]["token"])
    assert set(world.digitalocean.kube_tokens) == {kube_token}  # the one kubeconfig the job fetched
    output = (step.stdout + step.stderr).splitlines()
    for secret in (*world.digitalocean.tokens, kube_token):
        assert f"::add-mask::{secret}" in output
        assert all(line == f"::add-mask::{secret}" for line in output if secret in line)
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600 and kube_token in kubeconfig.read_text()
    assert step.github_env == f"KUBECONFIG={kubeconfig}\n"
    urls = [a for call in world.calls if call.tool == "curl" for a in call.argv if a.startswith("https://")]
    (credentials,) = [s for s in steps(load(WORKFLOWS / "preview-cleanup.yml")["jobs"]["destroy"]) if s.get("name") == CREDENTIALS]
    cluster_id = world.digitalocean.clusters[next(c.name for c in world.clusters.values() if c.name != "other")]
    expiry = credentials["env"]["KUBECONFIG_EXPIRY_SECONDS"]
    assert urls[-1] == f"https://api.digitalocean.com/v2/kubernetes/clusters/{cluster_id}/kubeconfig?expiry_seconds={expiry}"
    assert world.digitalocean.kube_tokens[kube_token][1] == world.now + expiry


def test_the_credentials_step_stops_when_the_stack_names_no_cluster(tmp_path: Path) -> None:
    world, job, step = _credentials_job(tmp_path, cluster_named=False)
    assert step.code == 1 and "::error::" in step.stdout and "secret-chain:digitaloceanCluster" in step.stdout
    assert job.temp is not None and not (job.temp / "kubeconfig").exists() and step.github_env == ""
    assert not [call for call in world.calls if call.tool == "curl"]


# A run step may not print these: a kubeconfig, a token variable, or the shell's trace of every command.
_PRINTS_CREDENTIAL = re.compile(
    r"\bset\s+-[a-wyz]*x|\bcat\b[^|\n]*(kubeconfig|KUBECONFIG)|\becho\s+\"?\$\{?(token|value|FALLBACK_TOKEN)\b"
    r"|kubectl\s+config\s+view(?![^\n]*-o\s+jsonpath)|\|\s*tee\b"
)


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_no_step_prints_the_kubeconfig_or_keeps_it_as_an_artifact(path: Path) -> None:
    """Issue 19: the kubeconfig never lands in a log or an artifact. No step prints a kubeconfig or a token (masks
    aside), traces its commands (`set -x`), or uploads an artifact; a fetched kubeconfig goes only to a file under
    `$RUNNER_TEMP` created with umask 077, and `--show-secrets` output goes only into `secret-chain preflight`."""
    for name, job in load(path)["jobs"].items():
        for step in steps(job):
            assert not str(step.get("uses", "")).startswith(("actions/upload-artifact@", "actions/cache@")), f"{path.name}/{name}"
            run = str(step.get("run", ""))
            for line in run.splitlines():
                if line.lstrip().startswith("#") or "::add-mask::" in line:
                    continue
                assert not _PRINTS_CREDENTIAL.search(line), f"{path.name}/{name}: {line.strip()}"
                if "/kubeconfig" in line and "curl" in line:
                    written = re.search(r'\(umask 077 && curl [^)]*> "\$(\w+)"\)', line)
                    assert written, f"{path.name}/{name}: write the kubeconfig to a file, created with umask 077: {line.strip()}"
                    target = re.search(rf'\b{written.group(1)}="\$RUNNER_TEMP/[^"$]+"', run)
                    assert target, f"{path.name}/{name}: ${written.group(1)} is not a file in $RUNNER_TEMP"
                if "--show-secrets" in line:
                    # only into a command of this package that prints no value (preflight, doctor)
                    assert re.search(r"--show-secrets[^|]*\|\s*secret-chain (preflight|doctor)\b", line), line
    assert not _PRINTS_CREDENTIAL.search("true") and _PRINTS_CREDENTIAL.search('cat "$KUBECONFIG"')


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Production deployed on the world as a person does it (tests/test_upgrade.py ``deploy_platform``)."""
    from tests.test_upgrade import deploy_platform

    return deploy_platform(tmp_path_factory.mktemp("drift"), ("production",), image_automation=False)


def _someone_edits_a_secret(world: World, stack: Any) -> str:
    """Someone changes a production Secret in the cluster (kubectl edit): its live data differs from the state."""
    res = next(r for r in stack.resources.values() if r.type == "kubernetes:core/v1:Secret")
    obj = world.clusters[world.digitalocean.clusters["acme-prod"]].objects[tuple(res.world_ref[1:])]
    obj.manifest["stringData"] = {k: "edited by hand" for k in obj.manifest.get("stringData") or {"x": ""}}
    return str(res.urn)


def _someone_deletes_a_variable(world: World, stack: Any) -> str:
    """Someone deletes one of production's Actions variables in GitHub's settings (one the stack-checks job itself does
    not read, so the job gets as far as its Drift step)."""
    read = set(re.findall(r"\bvars\.(\w+)", yaml.safe_dump(load(WORKFLOWS / "scheduled-checks.yml")["jobs"]["stack-checks"])))
    res = next(r for r in stack.resources.values() if "Variable" in r.type and str(r.world_ref[2]).upper() not in read)
    _, scope, name = res.world_ref
    del world.github.variables[(scope, str(name).upper())]
    return str(res.urn)


def _an_older_release_stored_component_inputs(world: World, stack: Any) -> str:
    """The state's SecretChain component has inputs the program no longer registers: with --run-program it is updated."""
    res = next(r for r in stack.resources.values() if r.type == "secret-chain:index:SecretChain")
    res.inputs = {"registeredBy": "an older release"}
    return str(res.urn)


@pytest.mark.parametrize(
    ("change", "drift"),
    [(None, False), (_an_older_release_stored_component_inputs, False), (_someone_edits_a_secret, True), (_someone_deletes_a_variable, True)],
    ids=["provider-token-only", "component", "secret-changed", "variable-gone"],
)
def test_drift_is_a_changed_resource_not_the_providers_new_kubeconfig(deployed: Any, tmp_path: Path, change: Any, drift: bool) -> None:
    """With `--run-program`, refresh creates and updates providers as `pulumi up` would (pulumi/pulumi
    docs/architecture/deployment-execution: "Component resources and providers are created and updated as if `up` had
    been run"), and the chain's provider gets a new kubeconfig token every run, which `--expect-no-changes` would count
    every week. The Drift step fails on refreshed resources that changed or are gone, read from the engine's event log
    (resOutputsEvent: the refresh's result op, pkg/engine/update.go). scheduled-checks.yml's stack-checks job runs as the
    runner runs it, on the world where production is deployed, after someone changed the world (or nothing)."""
    from tests.runner import schedule
    from tests.test_lifecycle import ORG, REPO

    p = deployed.fork(tmp_path)
    world = p.world
    stack = world.cloud.stacks[f"{ORG}/secret-chain/production"]
    changed = change(world, stack) if change else None
    world.save(p.path)
    job = p.runner.run_job("scheduled-checks.yml", "stack-checks", schedule(REPO), matrix={"stack": "production"}, until="Drift")
    (step,) = [s for s in job.steps if s.name == "Drift"]
    assert step.outcome in ("success", "failure") and (step.outcome == "failure") is drift, job.log
    assert job.temp is not None, job.log
    assert (job.temp / "refresh-events.jsonl").exists(), job.log
    events = [json.loads(line)["resOutputsEvent"]["metadata"] for line in (job.temp / "refresh-events.jsonl").read_text().splitlines()]
    ops = {(e["type"], e["op"]) for e in events}
    assert ("pulumi:providers:kubernetes", "update") in ops and ("kubernetes:core/v1:Secret", "same") in ops  # a new kubeconfig
    if change is _an_older_release_stored_component_inputs:
        assert ("secret-chain:index:SecretChain", "update") in ops
    if drift:
        assert changed is not None and changed in step.stdout


# The names GitHubActionsSecrets writes: each stack writes them into its own GitHub environment (issue 19, one owner
# per GitHub name: production into `production`, preview-base into `preview`), so a job sees them only if it references that environment
# (GitHub docs, "Deployment environments": a job can access an environment's secrets only once it references it and is
# sent to a runner; environment variables likewise).
ENVIRONMENT_OF_STACK = {"production": "production", "preview-base": "preview", "preview-pr": "preview"}
# A job may run in another environment than its stack's when that environment's values are the same and its token opens
# more: preview-base's scheduled checks run in production (docs/least-privilege.md, "Preview-base's checks").
CHECKS_ENVIRONMENT = {("scheduled-checks.yml", "stack-checks"): "production", ("doctor.yml", "doctor"): "production"}
EXPECTED_ENVIRONMENT = {
    ("preview-deploy.yml", "deploy"): "preview",  # a PR stack uses preview-base's Actions values
    ("preview-cleanup.yml", "destroy"): "preview",
    ("scheduled-checks.yml", "inventory"): "preview",  # the CI App key, preview-base's copy (the same App as production's)
    ("flux-image-updates-pr.yml", "pull-request"): "production",  # production's App key, for production's cluster repository
    ("doctor.yml", "issue"): "production",  # production's App key, in the environment the doctor jobs ran in (no reviewers)
}


def _environment_jobs() -> list[Any]:
    out: list[Any] = []
    for workflow, name, job in all_jobs():
        for entry in matrix_entries(job):
            label = f"{workflow}/{name}" + (f"/{entry.get('stack')}" if entry else "")
            out.append(pytest.param(workflow, name, entry, id=label))
    return out


@pytest.mark.parametrize(("workflow", "name", "entry"), _environment_jobs())
def test_jobs_that_read_environment_values_declare_that_environment(workflow: str, name: str, entry: dict[str, Any]) -> None:
    from secret_chain.github_actions import BY_GITHUB_NAME

    job = load(WORKFLOWS / workflow)["jobs"][name]
    read = set(re.findall(r"\b(?:vars|secrets)\.(\w+)", yaml.safe_dump(job))) & set(BY_GITHUB_NAME)
    environment = job_environment(job, entry)
    if not read:
        assert environment is None, f"{workflow}/{name} reads no environment value: it needs no environment"
        return
    stack = entry.get("stack")
    expected = CHECKS_ENVIRONMENT.get((workflow, name)) or (ENVIRONMENT_OF_STACK[str(stack)] if stack else EXPECTED_ENVIRONMENT[(workflow, name)])
    assert environment == expected, f"{workflow}/{name} reads {sorted(read)}: declare environment {expected}"


def test_the_oidc_policy_trusts_exactly_the_environments_of_the_jobs_that_log_in() -> None:
    """A job that references an environment gets the subject `repo:<owner>/<repo>:environment:<name>`, whatever its
    event (GitHub docs, "OpenID Connect reference", example subject claims: "Filtering for a specific environment"; the
    `pull_request` and branch subjects apply "only if the job doesn't reference an environment"). The bootstrap's
    policy allows exactly the environments the Pulumi jobs run in."""
    from secret_chain.bootstrap import BootstrapSpec

    logging_in = {
        job_environment(job, entry)
        for _, _, job in all_jobs()
        if any(str(s.get("uses", "")).startswith(AUTH_ACTION) for s in steps(job))
        for entry in matrix_entries(job)
    }
    spec = BootstrapSpec(organization="acme", repository="acme/platform", token_type="organization", team=None)
    assert set(spec.subjects()) == {f"repo:acme/platform:environment:{e}" for e in logging_in}


def test_preflight_in_ci_says_when_a_stack_can_reach_no_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Where a stack names no cluster and the CI job has no kubeconfig (client-go's loading rules: KUBECONFIG, then
    ~/.kube/config, then in-cluster), preflight says so before `pulumi up` fails on an unreachable cluster."""
    from secret_chain.ops.cli import main as cli
    from tests.test_stacks import stack_document

    def preflight(document: dict[str, Any], **environ: str) -> tuple[int, str]:
        for variable in ("CI", "KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
            monkeypatch.delenv(variable, raising=False)
        for variable, value in environ.items():
            monkeypatch.setenv(variable, value)
        monkeypatch.setenv("HOME", str(tmp_path))
        path = tmp_path / "config.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        code = cli(["preflight", "--stack", "production", "--config", str(path)])
        return code, capsys.readouterr().out

    named = stack_document("production")
    unnamed = {k: v for k, v in named.items() if k != "secret-chain:digitaloceanCluster"}
    code, out = preflight(unnamed, CI="true")
    assert code == 1 and 'config "secret-chain:digitaloceanCluster" is not set, and this CI job has no kubeconfig' in out
    assert "Fix: pulumi config set secret-chain:digitaloceanCluster" in out
    assert preflight(named, CI="true")[0] == 0
    assert preflight(unnamed)[0] == 0  # a person's own kubeconfig is the ambient one
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n", encoding="utf-8")
    assert preflight(unnamed, CI="true", KUBECONFIG=str(kubeconfig))[0] == 0
    assert preflight(unnamed, CI="true", KUBECONFIG=str(tmp_path / "missing"))[0] == 1


def test_the_docs_say_which_digitalocean_token_each_stack_uses_and_what_a_pr_job_reaches() -> None:
    """Issue 19: the narrowest DigitalOcean token, its scopes with DigitalOcean's page, and what a PR's job reaches."""
    from secret_chain import catalog
    from secret_chain.ops import runbook

    text = (ROOT / "docs" / "least-privilege.md").read_text(encoding="utf-8")
    section = text[text.index("- **DigitalOcean token and kubeconfig") : text.index("- **ESC.**")]
    for fact in (
        "PullRequest's own",  # issue 20: each environment its own token (before: "one token for every stack")
        "https://docs.digitalocean.com/reference/api/scopes/",
        "`kubernetes:read`",
        "`kubernetes:access_cluster`",
        "`regions:read`",
        "`sizes:read`",
        "`actions:read`",
        "`domain:read`",
        "**every** Kubernetes cluster",
        "production's included",
        "token's owner",
        "left for a later issue",
    ):
        assert fact in " ".join(section.split()), fact
    scopes = runbook.of(catalog.DIGITALOCEAN_PROVIDER_TOKEN).scopes
    for scope in ("kubernetes:read", "kubernetes:access_cluster", "domain:read", "regions:read", "sizes:read", "actions:read"):
        assert scope in scopes
    preview = (ROOT / "docs" / "previews.md").read_text(encoding="utf-8")
    assert "`secret-chain:digitaloceanCluster`" in preview and "pulumi destroy --run-program" in preview


@pytest.mark.parametrize(("workflow", "name", "index"), doctor_steps(), ids=[f"{w}/{n}/{i}" for w, n, i in doctor_steps()])
def test_every_doctor_step_comes_after_the_cluster_credentials(workflow: str, name: str, index: int) -> None:
    """`secret-chain doctor` reads the stack's Kubernetes objects with the kubeconfig (KUBECONFIG) the credentials step
    fetched for this job; without it its Kubernetes links would fail as unreachable."""
    job_steps = steps(load(WORKFLOWS / workflow)["jobs"][name])
    earlier = [s for s in job_steps[:index] if s.get("name") == CREDENTIALS]
    assert earlier and earlier[-1].get("if") in (*ALWAYS, job_steps[index].get("if")), f"{workflow}/{name}: doctor before {CREDENTIALS!r}"
