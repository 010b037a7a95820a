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
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

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
    TRIGGERING.pattern + r"|\bgh\s+pr\s+(comment|edit|close|merge|review)\b|\bgh\s+api\b.*(-X|--method)\s*(POST|PATCH|PUT|DELETE)"
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
    assert {"test.yml", "preview-deploy.yml", "preview-cleanup.yml", "scheduled-checks.yml"} <= set(NAMES)


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
    assert set(deploy["on"]) == {"pull_request"}
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
    assert using == {"preview-deploy.yml", "preview-cleanup.yml", "scheduled-checks.yml"}


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
    import subprocess

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
    assert 'pulumi config env add secret-chain/PullRequest' in deploy and "pulumi up" in deploy and "gh pr comment" in deploy
    # The PR stack's settings (the domain its hostnames derive from) come from the committed template.
    assert deploy.index('cp stacks/Pulumi.preview-pr.yaml "stacks/Pulumi.$STACK.yaml"') < deploy.index("pulumi stack select --create")
    cleanup = runs("preview-cleanup.yml")
    assert cleanup.index("pulumi destroy") < cleanup.index("pulumi stack rm") < cleanup.index("kubectl get namespace")
    # kubectl needs a kubeconfig: fetched for the named cluster, the token masked before any use.
    assert cleanup.index("::add-mask::$token") < cleanup.index("curl") < cleanup.index('export KUBECONFIG="$RUNNER_TEMP/kubeconfig"')
    assert cleanup.index("export KUBECONFIG") < cleanup.index("kubectl get namespace")
    checks = runs("scheduled-checks.yml")
    assert "secret-chain rotation --state <(pulumi stack export" in checks
    assert "secret-chain preflight --stack" in checks
    assert "pulumi refresh --diff --preview-only" in checks
    # the inventory PR regenerates both generated documents, exactly as the README says to
    assert "secret-chain inventory --readme README.md --rotation-doc docs/rotation.md" in checks
    assert "git diff --quiet -- README.md docs/rotation.md" in checks
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
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## CI workflows")
    return text[start : text.index("\n## ", start + 1)]


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
