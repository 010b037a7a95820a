"""The CI workflows: valid against GitHub's workflow schema, and hardened the way the project requires.

The schema is the one check-jsonschema bundles (SchemaStore's github-workflow.json), loaded offline.
On top of it: every action pinned to a full commit SHA with a version comment, least-privilege
``permissions`` at the top level and on every job, the fork guard on the jobs that use secrets, and a
short-lived GitHub App installation token (never a PAT) in every job that pushes, opens pull requests
or dispatches other workflows.
"""

from __future__ import annotations

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
WRITE_SCOPES = {"actions", "contents", "pull-requests", "issues", "packages", "deployments", "statuses", "checks", "id-token"}


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    # YAML 1.1 reads the key `on` as the boolean True; the workflow schema wants the string.
    if True in document:
        document["on"] = document.pop(True)
    return document


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
    workflow = load(path)
    top = workflow.get("permissions")
    assert top is not None, f"{path.name}: declare top-level permissions"
    assert top == {} or set(top.values()) <= {"read", "none"}, f"{path.name}: top-level permissions must not grant write"
    for name, job in workflow["jobs"].items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{path.name}/{name}: declare job permissions"
        assert "write-all" not in str(permissions) and "read-all" not in str(permissions)
        assert set(permissions) <= WRITE_SCOPES | {"metadata"}, permissions
        run = "\n".join(str(step.get("run", "")) for step in steps(job))
        if permissions.get("pull-requests") == "write":
            assert "gh pr comment" in run, f"{path.name}/{name}: pull-requests: write is only for commenting"
        # Pushes use the App token, so GITHUB_TOKEN never needs contents: write.
        assert permissions.get("contents") != "write", f"{path.name}/{name}: push with the App token instead"


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
            if not TRIGGERING.search(run):
                continue
            assert app_steps and app_steps[0] < index, f"{path.name}/{name}: mint an App token before step {index}"
            token_env = json.dumps(job_steps[index].get("env", {}))
            assert "steps.app-token.outputs.token" in token_env, f"{path.name}/{name}: step {index} must use the App token"
        for i in app_steps:
            step = job_steps[i]
            assert step["with"]["app-id"] == "${{ vars.APP_ID }}"
            assert step["with"]["private-key"] == "${{ secrets.APP_PRIVATE_KEY }}"


def test_an_app_token_is_minted_where_a_pull_request_is_opened() -> None:
    inventory = load(WORKFLOWS / "scheduled-checks.yml")["jobs"]["inventory"]
    uses = [str(step.get("uses", "")) for step in steps(inventory)]
    assert any(u.startswith(APP_TOKEN_ACTION) for u in uses)


def test_the_workflows_run_what_the_brief_says() -> None:
    def runs(name: str) -> str:
        return "\n".join(str(step.get("run", "")) for job in load(WORKFLOWS / name)["jobs"].values() for step in steps(job))

    assert "make test" in runs("test.yml")
    deploy = runs("preview-deploy.yml")
    assert 'pulumi config env add secret-chain/Preview' in deploy and "pulumi up" in deploy and "gh pr comment" in deploy
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
    assert load(WORKFLOWS / "scheduled-checks.yml")["on"]["schedule"][0]["cron"]


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_no_untrusted_pull_request_text_is_interpolated_into_scripts(path: Path) -> None:
    for job in load(path)["jobs"].values():
        for step in steps(job):
            run = str(step.get("run", ""))
            assert "${{" not in run, f"{path.name}: pass values to run steps through env, not ${{{{ }}}} (script injection)"
