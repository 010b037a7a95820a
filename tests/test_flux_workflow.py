"""flux-image-updates-pr.yml: the pull request for Flux's image updates, opened where Flux pushes them.

image-automation-controller pushes its updates to a branch of the cluster repository (the GitRepository's URL,
``secret-chain:fluxRepositoryUrl``), not of this one, and a push there starts no workflow here. So the workflow
runs on a schedule and by hand, reads each push branch through GitHub's REST API as data ("Compare two commits",
``GET /repos/{owner}/{repo}/compare/{basehead}``), and opens the pull request in the cluster repository with a
one-hour App token for that repository alone. No step checks out or runs anything from the pushed branch, and the
step that runs this repository's body script holds no token. The general workflow rules (pins, permissions, App
token use) are tests/test_workflows.py's; the body script's own rules are here too.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.runner import JobResult, Runner, schedule
from tests.test_workflows import WORKFLOWS, load, steps
from tests.world import Call, GitHubApp, PullRequest, World

FLUX_PR = WORKFLOWS / "flux-image-updates-pr.yml"
ROOT = WORKFLOWS.parent.parent
BODY_SCRIPT = WORKFLOWS.parent / "scripts" / "flux_image_updates_pr_body.py"
# The title of the pull request the Flux guide expects ("Example PR Created by Flux"; /work/shared/seeds).
GUIDE_TITLE = "chore: automated image updates for non-breaking changes"
CLUSTER = "acme/cluster"


def _job() -> dict[str, Any]:
    (job,) = load(FLUX_PR)["jobs"].values()
    return job


def _push_branches() -> set[str]:
    """The branches the chain's image automation pushes, on production and preview-base (the stack program's own)."""
    from tests.test_chain import _program_with_setting

    branches = set()
    for stack in ("production", "preview-base"):
        ev = _program_with_setting(stack)
        (automation,) = [o for o in ev.kubernetes_objects() if o["kind"] == "ImageUpdateAutomation"]
        branches.add(automation["spec"]["git"]["push"]["branch"])
    return branches


def test_the_workflow_reads_the_branches_flux_pushes_without_waiting_for_a_push_here() -> None:
    """A push to the cluster repository starts no workflow of this repository (GitHub docs, "Events that trigger
    workflows" → push: "Runs your workflow when you push a commit or tag" to the workflow's repository), so the
    workflow runs on a schedule and on demand, for every branch the chain's automations push."""
    workflow = load(FLUX_PR)
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    assert workflow["on"]["schedule"][0]["cron"]
    job = _job()
    assert set(job["strategy"]["matrix"]["head"]) == _push_branches() == {"flux-image-updates", "flux-image-updates-preview"}
    assert job["env"]["HEAD_BRANCH"] == "${{ matrix.head }}" and job["env"]["TITLE"] == GUIDE_TITLE
    assert job["env"]["FLUX_REPOSITORY"] == "${{ vars.FLUX_REPOSITORY }}"


def test_no_step_checks_out_or_runs_anything_from_the_pushed_branch() -> None:
    """The only checkout is this repository at the workflow's own commit (actions/checkout with no ``repository`` or
    ``ref``: "the repository and ref that triggered the workflow", the default branch on a schedule); the pushed
    branch is read only through the compare API; the step that runs the body script holds no token and no secret."""
    job_steps = steps(_job())
    for step in job_steps:
        uses = str(step.get("uses", ""))
        if uses.startswith("actions/checkout@"):
            assert not {"repository", "ref"} & set(step.get("with", {})), step
            assert step["with"].get("persist-credentials") is False
        run = str(step.get("run", ""))
        assert not re.search(r"\bgit\s+(clone|fetch|checkout|switch|pull|worktree)\b|\bgh\s+(repo\s+clone|pr\s+checkout)\b", run), run
        if "python3" in run or ".github/scripts/" in run:
            assert "env" not in step and "with" not in step, step  # no token, no secret next to code
            assert "python3 .github/scripts/flux_image_updates_pr_body.py " in run  # this repository's script, on data
    reads = [s for s in job_steps if "compare/" in str(s.get("run", ""))]
    assert len(reads) == 1 and 'gh api "repos/$FLUX_REPOSITORY/compare/$BASE_BRANCH...$HEAD_BRANCH"' in reads[0]["run"]


def test_the_app_token_is_the_production_environments_and_for_the_cluster_repository_only() -> None:
    """Shared decision 1: the App key is an environment secret of ``production``, so the job names that environment.
    The token is minted for the cluster repository alone (create-github-app-token ``owner``/``repositories``) with
    contents read and pull requests write."""
    job = _job()
    assert job["environment"] == "production"
    (mint,) = [s for s in steps(job) if str(s.get("uses", "")).startswith("actions/create-github-app-token@")]
    assert mint["with"]["owner"] == "${{ steps.cluster.outputs.owner }}"
    assert mint["with"]["repositories"] == "${{ steps.cluster.outputs.name }}"
    assert {k: v for k, v in mint["with"].items() if k.startswith("permission-")} == {
        "permission-contents": "read",
        "permission-pull-requests": "write",
    }
    writes = [str(s.get("run", "")) for s in steps(job) if "gh pr" in str(s.get("run", "")) or "--method" in str(s.get("run", ""))]
    assert writes and all("$GITHUB_REPOSITORY" not in w and '"$FLUX_REPOSITORY"' in w for w in writes)


# --- the steps, run as the runner runs them, on the simulated world (tests/world.py: GitHub's compare and pull request
# API, the `gh` stand-in, App installation tokens) ------------------------------------------------------------------

REPO = "acme/platform"
APP_ID = "424242"
MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: apps
spec:
  replicas: 2
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      serviceAccountName: api
      securityContext:
        runAsNonRoot: true
      containers:
        - name: api
          image: ghcr.io/acme/api:{tag} # {{"$imagepolicy": "flux-system:api-preview"}}
          ports:
            - containerPort: 8080
"""


def cluster_world(head: str | None, message: str = "chore(images): automated image updates", *, ahead: bool = True) -> World:
    """This repository (its ``production`` environment holding FLUX_REPOSITORY, APP_ID and the App key), the CI App
    installed on ``acme``, and the cluster repository: ``main`` with one Deployment, and, unless ``head`` is None, the
    push branch ``head``: Flux's commit of a new tag on top of ``main`` (``ahead``), or ``main`` itself."""
    world = World(now=1_800_000_000.0)
    gh = world.github
    gh.repositories.update({REPO, CLUSTER})
    gh.environments[(REPO, "production")] = "acme (set up by hand)"
    scope = ("env", REPO, "production")
    gh.create_variable(scope, "FLUX_REPOSITORY", CLUSTER, "acme (set up by hand)", world)
    gh.create_variable(scope, "APP_ID", APP_ID, "acme (set up by hand)", world)
    key = "-----BEGIN RSA PRIVATE KEY-----\n" + secrets.token_hex(32) + "\n-----END RSA PRIVATE KEY-----"
    gh.put_secret(scope, "APP_PRIVATE_KEY", key, "acme (set up by hand)", world)
    gh.apps[APP_ID] = GitHubApp(APP_ID, key, "acme-ci", {"acme"})
    gh.push(CLUSTER, "main", "clusters: the api", {"clusters/apps/api.yaml": MANIFEST.format(tag="1.4.0")})
    if head is not None:
        if ahead:
            gh.push(CLUSTER, head, message, {"clusters/apps/api.yaml": MANIFEST.format(tag="1.4.1")}, start="main")
        else:
            gh.branch(CLUSTER, head, "main")
    return world


def run_job(tmp_path: Path, world: World, head: str) -> tuple[World, JobResult, list[Call]]:
    """Run the job for one matrix branch as the runner runs it; return the world after it, the job, and the calls made
    to ``gh``."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"world-{head}.pickle"
    world.save(path)
    job = Runner(path, REPO, tmp_path / head).run_job(FLUX_PR.name, "pull-request", schedule(REPO), matrix={"head": head})
    assert job.ok, job.log
    after = World.load(path)
    return after, job, [c for c in after.calls if c.tool == "gh"]


def test_the_steps_open_the_pull_request_in_the_cluster_repository(tmp_path: Path) -> None:
    world, job, calls = run_job(tmp_path, cluster_world("flux-image-updates-preview"), "flux-image-updates-preview")
    assert [c.argv[:2] for c in calls] == [["api", f"repos/{CLUSTER}/compare/main...flux-image-updates-preview"], ["pr", "list"], ["pr", "create"]]
    create = calls[-1].argv
    assert create[create.index("--repo") + 1] == CLUSTER and create[create.index("--head") + 1] == "flux-image-updates-preview"
    assert create[create.index("--base") + 1] == "main" and create[create.index("--title") + 1] == GUIDE_TITLE
    body = Path(create[create.index("--body-file") + 1]).read_text()
    assert "- ghcr.io/acme/api: 1.4.0 → 1.4.1" in body and "`flux-image-updates-preview` (against `main`)" in body
    (token,) = [s.outputs["token"] for s in job.steps if s.outputs.get("token")]
    assert all(c.credential == token for c in calls)
    (pr,) = world.github.pulls.values()
    assert (pr.head, pr.base, pr.title, pr.body, pr.author) == ("flux-image-updates-preview", "main", GUIDE_TITLE, body, "app-bot")


def test_the_steps_update_an_open_pull_request_and_skip_a_branch_with_nothing_to_propose(tmp_path: Path) -> None:
    world = cluster_world("flux-image-updates", "x")
    world.github.pulls[(CLUSTER, 12)] = PullRequest(12, "flux-image-updates", "main", "old title", "old body", "app-bot")
    world, _, calls = run_job(tmp_path / "open", world, "flux-image-updates")
    assert calls[-1].argv[:4] == ["api", "--method", "PATCH", f"repos/{CLUSTER}/pulls/12"]
    assert world.github.pulls[(CLUSTER, 12)].title == GUIDE_TITLE and len(world.github.pulls) == 1
    assert [c.argv[:2] for c in run_job(tmp_path / "even", cluster_world("flux-image-updates", "x", ahead=False), "flux-image-updates")[2]] == [
        ["api", f"repos/{CLUSTER}/compare/main...flux-image-updates"]
    ]
    assert len(run_job(tmp_path / "none", cluster_world(None), "flux-image-updates")[2]) == 1  # no such branch (404): nothing else is called


def compare_of(message: str, *, ahead: bool = True) -> dict[str, Any]:
    """The "Compare two commits" response for Flux's push branch (GitHub.compare of the world above)."""
    return cluster_world("flux-image-updates", message, ahead=ahead).github.compare(CLUSTER, "main", "flux-image-updates")


# --- the body script ------------------------------------------------------------------------------------


def _body_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("flux_image_updates_pr_body", BODY_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while building the class
    spec.loader.exec_module(module)
    return module


FULL_DIFF = """diff --git a/apps/api.yaml b/apps/api.yaml
--- a/apps/api.yaml
+++ b/apps/api.yaml
@@ -18,7 +18,7 @@ spec:
       containers:
         - name: api
-          image: ghcr.io/acme/api:1.4.0 # {"$imagepolicy": "flux-system:api"}
+          image: ghcr.io/acme/api:1.4.1 # {"$imagepolicy": "flux-system:api"}
diff --git a/infra/cert-manager.yaml b/infra/cert-manager.yaml
--- a/infra/cert-manager.yaml
+++ b/infra/cert-manager.yaml
@@ -3,6 +3,6 @@
   image:
     repository: quay.io/jetstack/cert-manager-controller # {"$imagepolicy": "flux-system:cm:name"}
-    tag: "v1.16.2" # {"$imagepolicy": "flux-system:cm:tag"}
+    tag: "v1.18.2" # {"$imagepolicy": "flux-system:cm:tag"}
   webhook:
-    image: quay.io/jetstack/cert-manager-webhook@sha256:aaaa # {"$imagepolicy": "flux-system:wh"}
+    image: quay.io/jetstack/cert-manager-webhook@sha256:bbbb # {"$imagepolicy": "flux-system:wh"}
-  replicas: 1
+  replicas: 2
"""


def test_the_body_lists_each_changed_image_from_the_diff() -> None:
    m = _body_module()
    changes = m.changes_from_diff(FULL_DIFF)
    assert [c.line() for c in changes] == [
        "- ghcr.io/acme/api: 1.4.0 → 1.4.1",
        "- quay.io/jetstack/cert-manager-controller: v1.16.2 → v1.18.2",
        "- quay.io/jetstack/cert-manager-webhook: sha256:aaaa → sha256:bbbb",
    ]
    text = m.body("main", changes, ["chore(images): automated image updates"])
    assert text.startswith(m.HEADER) and "- ghcr.io/acme/api: 1.4.0 → 1.4.1" in text
    assert "replicas" not in text  # only marked values are image changes


def test_the_body_falls_back_to_flux_commit_messages_then_subjects() -> None:
    m = _body_module()
    # What components/secret_chain/flux_images.py MESSAGE_TEMPLATE renders for one changed Deployment.
    message = "chore(images): automated image updates\n\n- Deployment apps/api:\n  - ghcr.io/acme/api:1.4.0 -> ghcr.io/acme/api:1.4.1\n  - v1 -> v2\n"
    assert [c.line() for c in m.changes_from_messages(message)] == ["- ghcr.io/acme/api: 1.4.0 → 1.4.1", "- image: v1 → v2"]
    assert m.changes_from_diff("+++ b/x.yaml\n-  replicas: 1\n+  replicas: 2\n") == []
    text = m.body("main", [], ["chore(images): automated image updates"])
    assert "- chore(images): automated image updates" in text and "No `$imagepolicy` change" in text


def test_the_body_keeps_branch_text_inert() -> None:
    m = _body_module()
    hostile = '+++ b/x.yaml\n-  image: a/b:1 # {"$imagepolicy": "ns:p"}\n+  image: a/b:`x`<script>[l](u) # {"$imagepolicy": "ns:p"}\n'
    (line,) = [c.line() for c in m.changes_from_diff(hostile)]
    assert not set("`<>[]") & set(line.split(": ", 1)[1])
    many = [m.Change(f"img{i}", "1", "2") for i in range(m.MAX_LINES + 5)]
    assert "… and 5 more" in m.body("main", many, [])
    # A response not shaped as the API documents it is nothing, never an error that prints it.
    assert m.from_compare({"ahead_by": "1", "files": "x", "commits": [{"commit": 3}]}) == (0, "", "", [])


def test_the_body_script_reads_a_compare_response(tmp_path: Path) -> None:
    path = tmp_path / "compare.json"
    path.write_text(json.dumps(compare_of("chore(images): automated image updates\n\n- Deployment apps/api:")))
    argv = [sys.executable, str(BODY_SCRIPT), str(path), "main", "flux-image-updates"]
    done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=30, cwd=tmp_path)
    assert "- ghcr.io/acme/api: 1.4.0 → 1.4.1" in done.stdout and "against `main`" in done.stdout
    path.write_text(json.dumps(compare_of("x", ahead=False)))
    assert subprocess.run(argv, capture_output=True, text=True, check=True, timeout=30).stdout == ""
    assert "subprocess" not in BODY_SCRIPT.read_text()  # no git, no network: the branch is only ever data
