"""One simulated world: GitHub, Pulumi Cloud (ESC, OIDC, stack state), DigitalOcean and a Kubernetes cluster.

This module is the single place the rules of the outside systems live. The lifecycle tier
(``tests/test_lifecycle.py``), the workflow runner (``tests/runner.py``), the rule tests (``tests/test_world.py``) and
the tests of the upgrade path and the workflows (``tests/test_upgrade.py``, ``tests/test_workflows.py``,
``tests/test_flux_workflow.py``) all act on one :class:`World`; each rule carries a comment citing the upstream file or
page it follows.

What it holds:

* :class:`GitHub`: repositories (their branches and commits, pull requests), their deployment environments, Actions
  secrets and variables at repository, environment and organisation scope (each name with its owning stack), GitHub
  Apps and their installation tokens (repositories and permissions), pull-request comments; the REST calls the
  workflows make (compare two commits, list, create and update pull requests).
* :class:`Esc` (Pulumi ESC): environments ``<org>/<project>/<name>`` as YAML documents with imports and
  interpolations; :meth:`Esc.open` evaluates them, :meth:`Esc.set` is ``pulumi env set``, :meth:`Esc.remove` ``env rm``.
* :class:`PulumiCloud`: access tokens (a person's; short-lived OIDC-exchanged ones), OIDC issuers and their
  policies, and every stack's state (:class:`StackState`).
* :class:`DigitalOcean`: API tokens, Kubernetes clusters by name (kubeconfigs that expire), DNS domains.
* :class:`Cluster`: Kubernetes objects by (group/kind, namespace, name) with the stack that owns each, and the other
  stacks whose state holds it too (an upsert or an imported state put them there).
* :class:`Engine`: a small Pulumi engine. ``up`` runs the REAL stack program (:func:`secret_chain.program.main`, through
  :func:`secret_chain.ops.offline.evaluate`) with the stack's config (its stack file over its ESC environments),
  answers its invokes from the world, diffs the registrations against the stack's state by URN and applies each
  step to the world by resource type (a renamed Kubernetes object replaced create-before-delete, deletes after the
  creates, the old state's ``retainOnDelete`` deciding). ``destroy`` and ``refresh`` configure providers from the state
  unless ``run_program``.
* The command-line stand-ins the workflow runner puts on PATH (``pulumi``, ``gh``, ``curl``, ``kubectl``): small
  entry points (:func:`main`) that load the world from the file named by ``$SECRET_CHAIN_WORLD``, act, and save it
  (``pulumi stack export`` / ``stack import`` with ``VerifyIntegrity`` among them); every call is kept in
  :attr:`World.calls`.

A world is a plain picklable object: :meth:`World.save` / :meth:`World.load`.
"""

from __future__ import annotations

import base64
import copy
import fcntl
import hashlib
import json
import os
import pickle
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from secret_chain.pulumi_rules import (
    EMPTY_NODE,
    RuleError,
    esc_env_set,
    esc_interpolation,
    parse_env_ref,
    parse_key_path,
    parse_property_path,
    property_path_string,
    provider_flag_enabled,
    yaml_set,
)

WORLD_ENV = "SECRET_CHAIN_WORLD"
"""Environment variable naming the pickled world file the command-line stand-ins act on."""

SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SIG_KEY = "4dabf18193072939515e22adb298388d"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
"""Pulumi's property-value signatures (pulumi/pulumi sdk/go/common/resource/sig/sig.go)."""

DAY = 86400.0
KUBECONFIG_DEFAULT_EXPIRY = 7 * DAY
"""DigitalOcean API, "Retrieve the kubeconfig for a Kubernetes cluster" (GET /v2/kubernetes/clusters/{id}/kubeconfig):
"Clusters supporting token-based authentication may define an expiration by passing a duration in seconds as a query
parameter ... expiry_seconds. If not set or 0, then the token will have a 7 day expiry.\""""


class WorldError(Exception):
    """An upstream system refused a request. ``system`` names it; the message is upstream's own wording."""

    def __init__(self, system: str, message: str, *, status: str = "") -> None:
        super().__init__(f"{system}: {message}")
        self.system = system
        self.status = status
        self.message = message


@dataclass
class Call:
    """One command run by a stand-in: the tool, its arguments, its exit code, and the credential it acted with (the
    token ``gh`` read from ``GH_TOKEN``/``GITHUB_TOKEN``, the Pulumi access token, curl's bearer token)."""

    tool: str
    argv: list[str]
    code: int
    credential: str


@dataclass
class Violation:
    """A second owner attempted on one name or object: the world refused it, and keeps the record."""

    system: str
    what: str
    owner: str
    second: str


# --------------------------------------------------------------------------------------------------------------------
# Secrets as the engine marks them
# --------------------------------------------------------------------------------------------------------------------


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def unwrap(value: Any) -> Any:
    """Every secret marker removed and every asset turned into its text (comparison and world writes)."""
    if is_secret(value):
        return unwrap(value["value"])
    if hasattr(value, "text") and type(value).__name__.endswith("Asset"):
        return {"asset": str(value.text)}
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def contains_secret(value: Any) -> bool:
    if is_secret(value) or isinstance(value, EscSecret):
        return True
    if isinstance(value, dict):
        return any(contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secret(v) for v in value)
    return False


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


# --------------------------------------------------------------------------------------------------------------------
# GitHub
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class ActionsEntry:
    """One Actions secret or variable: its value, its owning stack and when it was last written."""

    value: str
    owner: str
    updated_at: float


@dataclass
class GitHubApp:
    app_id: str
    private_key: str
    slug: str
    installations: set[str] = field(default_factory=set)
    """Owners (accounts) the App is installed on."""


@dataclass
class InstallationToken:
    """What an App installation token may reach: its account, its repositories (None: every repository of the
    installation) and its permissions (None: every permission of the installation).

    GitHub REST docs, "Create an installation access token for an app" (``POST /app/installations/{id}/access_tokens``):
    ``repositories`` and ``permissions`` narrow the token; left out, it gets all the installation's repositories and
    permissions. actions/create-github-app-token (action.yml, v3.1.1): ``owner`` defaults to the current repository's
    owner; ``repositories`` defaults to the current repository when ``owner`` is unset, to all the owner's repositories
    when it is set; each ``permission-<name>`` input asks for one permission.
    """

    owner: str
    repositories: frozenset[str] | None
    """Full names ``<owner>/<repo>``."""
    permissions: dict[str, str] | None
    """Permission name with underscores (``pull_requests``) → ``read`` or ``write``."""


@dataclass
class Commit:
    """One commit of a repository: its message, its parent and the whole tree it records (path → text)."""

    sha: str
    message: str
    parent: str | None
    tree: dict[str, str]


@dataclass
class PullRequest:
    number: int
    head: str
    base: str
    title: str
    body: str
    author: str
    state: str = "open"


@dataclass
class Issue:
    """An issue (GitHub REST docs, "Issues": ``number``, ``title``, ``body``, ``labels``, ``state`` open or closed,
    ``state_reason``, ``user`` its author); its comments are in :attr:`GitHub.comments` as a pull request's are."""

    number: int
    title: str
    body: str
    labels: list[str]
    author: str
    state: str = "open"
    state_reason: str | None = None


@dataclass
class Label:
    """A repository's label (GitHub REST docs, "Labels": ``name``, ``color`` six hex digits, ``description``)."""

    name: str
    color: str
    description: str


@dataclass
class GitHub:
    """Repositories, deployment environments, Actions secrets and variables, Apps and PR comments.

    An entry's scope is ``("repo", "<owner>/<repo>")``, ``("env", "<owner>/<repo>", "<environment>")`` or
    ``("org", "<owner>")``. Names are case-insensitive and stored upper-case: GitHub REST docs, "Actions secrets"
    and "Actions variables": "Secret names are not case-sensitive" / names "can only contain alphanumeric characters
    or underscores"; the provider validates the same (terraform-provider-github ``validateSecretNameFunc``).
    """

    repositories: set[str] = field(default_factory=set)
    environments: dict[tuple[str, str], str] = field(default_factory=dict)
    """(repo, environment) → owning stack."""
    secrets: dict[tuple[tuple[str, ...], str], ActionsEntry] = field(default_factory=dict)
    variables: dict[tuple[tuple[str, ...], str], ActionsEntry] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    """A personal or App token → the owner (account) it may write to."""
    apps: dict[str, GitHubApp] = field(default_factory=dict)
    comments: dict[tuple[str, int], list[tuple[str, str]]] = field(default_factory=dict)
    """(repo, PR number) → [(author, body)]."""
    installation_tokens: dict[str, InstallationToken] = field(default_factory=dict)
    """An App installation token (also in :attr:`tokens`) → what it may reach."""
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[tuple[str, str], str] = field(default_factory=dict)
    """(repo, branch) → the sha of its head commit."""
    pulls: dict[tuple[str, int], PullRequest] = field(default_factory=dict)
    issues: dict[tuple[str, int], Issue] = field(default_factory=dict)
    labels: dict[tuple[str, str], Label] = field(default_factory=dict)
    """(repo, the name lower-cased) → label: GitHub matches label names case-insensitively (cli/cli api/queries_repo.go
    ``LabelsToIDs``: ``strings.EqualFold``)."""

    def _repo(self, repo: str) -> None:
        # GitHub REST: an unknown repository is 404 Not Found on every Actions endpoint.
        if repo not in self.repositories:
            raise WorldError("GitHub", f"404 Not Found: repository {repo}", status="404")

    def _scope(self, scope: tuple[str, ...]) -> None:
        if scope[0] in ("repo", "env"):
            self._repo(scope[1])
        if scope[0] == "env" and (scope[1], scope[2]) not in self.environments:
            # GitHub REST docs, "Create or update an environment secret" / "Create an environment variable"
            # (PUT/POST /repos/{owner}/{repo}/environments/{environment_name}/secrets|variables/...): the path names an
            # existing environment; an environment that does not exist answers 404 Not Found.
            raise WorldError("GitHub", f"404 Not Found: environment {scope[2]} of {scope[1]}", status="404")

    def put_environment(self, repo: str, name: str, owner: str, world: World) -> None:
        """``PUT /repos/{owner}/{repo}/environments/{name}``: create or update.

        terraform-provider-github ``github/resource_github_repository_environment.go``: Create and Update both call
        ``Repositories.CreateUpdateEnvironment`` (a PUT), so a second stack declaring the same environment silently
        takes it over. The world records that second owner and refuses.
        """
        self._repo(repo)
        current = self.environments.get((repo, name))
        if current is not None and current != owner:
            raise world.violation("GitHub", f"environment {name} of {repo}", current, owner)
        self.environments[(repo, name)] = owner

    def delete_environment(self, repo: str, name: str, owner: str, world: World) -> None:
        """``DELETE /repos/{owner}/{repo}/environments/{name}``; its secrets and variables go with it.

        GitHub docs, "Managing environments for deployment" → "Deleting an environment": "Deleting an environment will
        delete all secrets and protection rules associated with the environment" (variables are scoped the same way).
        terraform-provider-github's Delete swallows a 404 (``deleteResourceOn404AndSwallow304OtherwiseReturnError``).
        """
        current = self.environments.get((repo, name))
        if current is None:
            return
        world.check_owner("GitHub", f"environment {name} of {repo}", current, owner)
        del self.environments[(repo, name)]
        scope = ("env", repo, name)
        for table in (self.secrets, self.variables):
            for key in [k for k in table if k[0] == scope]:
                del table[key]

    def create_variable(self, scope: tuple[str, ...], name: str, value: str, owner: str, world: World) -> None:
        """``POST .../actions/variables`` (repository, environment or organisation).

        terraform-provider-github ``github/resource_github_actions_variable.go`` (and ``..._environment_variable.go``,
        ``..._organization_variable.go``): Create calls ``Actions.CreateRepoVariable`` / ``CreateEnvVariable`` /
        ``CreateOrgVariable``, a plain POST. GitHub REST docs, "Create a repository variable": a name that exists is
        ``409 Conflict`` ("Already exists").
        """
        self._scope(scope)
        key = (scope, name.upper())
        current = self.variables.get(key)
        if current is not None:
            world.violation("GitHub", f"variable {name} ({'/'.join(scope)})", current.owner, owner, record=current.owner != owner)
            raise WorldError("GitHub", f"409 Conflict: Already exists - Variable {name} already exists", status="409")
        self.variables[key] = ActionsEntry(value, owner, world.now)

    def update_variable(self, scope: tuple[str, ...], name: str, value: str, owner: str, world: World) -> None:
        """``PATCH .../actions/variables/{name}`` (the provider's Update); 404 when it is gone."""
        self._scope(scope)
        current = self.variables.get((scope, name.upper()))
        if current is None:
            raise WorldError("GitHub", f"404 Not Found: variable {name}", status="404")
        world.check_owner("GitHub", f"variable {name} ({'/'.join(scope)})", current.owner, owner)
        current.value, current.updated_at = value, world.now

    def put_secret(self, scope: tuple[str, ...], name: str, value: str, owner: str, world: World) -> None:
        """``PUT .../actions/secrets/{name}``: create or update.

        terraform-provider-github ``github/resource_github_actions_secret.go``: Create is
        ``resourceGithubActionsSecretCreateOrUpdate`` → ``Actions.CreateOrUpdateRepoSecret`` (a PUT; likewise the
        environment and organisation secrets). A second writer silently overwrites the first: the world records the
        second owner and refuses.
        """
        self._scope(scope)
        key = (scope, name.upper())
        current = self.secrets.get(key)
        if current is not None and current.owner != owner:
            raise world.violation("GitHub", f"secret {name} ({'/'.join(scope)})", current.owner, owner)
        self.secrets[key] = ActionsEntry(value, owner, world.now)

    def delete_entry(self, kind: str, scope: tuple[str, ...], name: str, owner: str, world: World) -> None:
        """``DELETE .../actions/{secrets|variables}/{name}``: 404 when it does not exist (the provider returns the error)."""
        table = self.secrets if kind == "secret" else self.variables
        key = (scope, name.upper())
        current = table.get(key)
        if current is None:
            if scope[0] == "env" and (scope[1], scope[2]) not in self.environments:
                return  # deleted with its environment
            raise WorldError("GitHub", f"404 Not Found: {kind} {name}", status="404")
        world.check_owner("GitHub", f"{kind} {name} ({'/'.join(scope)})", current.owner, owner)
        del table[key]

    def visible(self, kind: str, repo: str, environment: str | None) -> dict[str, str]:
        """What a workflow job sees as ``vars`` / ``secrets``.

        GitHub docs, "Store information in variables" → "Configuration variable precedence" (and the same for
        secrets, "Using secrets in GitHub Actions"): "If a variable with the same name exists at multiple levels, the
        variable at the lowest level takes precedence": environment over repository over organisation. Environment
        values reach only a job that declares ``environment:``.
        """
        table = self.secrets if kind == "secret" else self.variables
        owner = repo.split("/", 1)[0]
        scopes: list[tuple[str, ...]] = [("org", owner), ("repo", repo)]
        if environment:
            scopes.append(("env", repo, environment))
        seen: dict[str, str] = {}
        for scope in scopes:
            for (s, name), entry in table.items():
                if s == scope:
                    seen[name] = entry.value
        return seen

    # --- the REST calls the workflows' `gh` makes -----------------------------------------------------------------

    def authorize(self, token: str, repo: str, permissions: tuple[str, ...], level: str) -> str:
        """The account ``token`` acts as on ``repo`` for an endpoint needing one of ``permissions`` at ``level``.

        A missing or unknown token is ``401 Bad credentials``. A repository the token cannot see is ``404 Not Found``
        (GitHub docs, "Troubleshooting the REST API" → "404 Not Found for an existing resource": GitHub answers 404, not
        403, where a token lacks access to a private resource). An App installation token lacking the endpoint's
        permission is ``403 Resource not accessible by integration``; each endpoint's page lists the permission it needs
        ("Fine-grained access tokens for …": e.g. "Compare two commits": "Contents" repository permissions (read);
        "List pull requests": "Pull requests" (read); "Create a pull request" and "Update a pull request": "Pull
        requests" (write); "Create an issue comment": "Issues" or "Pull requests" (write)); ``write`` includes ``read``.
        Every installation token of one App acts as the App's bot (``app-bot``); a personal token as ``user``.
        """
        if not token or token not in self.tokens:
            raise WorldError("GitHub", "401 Bad credentials", status="401")
        self._repo(repo)
        if self.tokens[token] != repo.split("/", 1)[0]:
            raise WorldError("GitHub", f"404 Not Found: repository {repo}", status="404")
        scope = self.installation_tokens.get(token)
        if scope is None:
            return "user"
        if scope.repositories is not None and repo not in scope.repositories:
            raise WorldError("GitHub", f"404 Not Found: repository {repo}", status="404")
        if scope.permissions is not None:
            granted = [scope.permissions.get(p) for p in permissions]
            if not any(g == "write" or (g == "read" and level == "read") for g in granted):
                raise WorldError("GitHub", "403 Resource not accessible by integration", status="403")
        return "app-bot"

    def push(self, repo: str, branch: str, message: str, files: Mapping[str, str | None], *, start: str | None = None) -> str:
        """``git commit && git push``: a new commit on ``branch`` (made from ``start``'s head when the branch is new) whose
        tree is its parent's with ``files`` written (``None`` deletes the path). Returns the commit's sha."""
        self._repo(repo)
        parent = self.branches.get((repo, branch)) or (self.branches[(repo, start)] if start else None)
        tree = dict(self.commits[parent].tree) if parent else {}
        for path, text in files.items():
            if text is None:
                tree.pop(path, None)
            else:
                tree[path] = text
        sha = hashlib.sha1(f"{parent}\n{message}\n{json.dumps(tree, sort_keys=True)}".encode()).hexdigest()
        self.commits[sha] = Commit(sha, message, parent, tree)
        self.branches[(repo, branch)] = sha
        return sha

    def branch(self, repo: str, name: str, start: str) -> None:
        """``git push origin <start>:refs/heads/<name>``: a branch at ``start``'s head commit."""
        self.branches[(repo, name)] = self.branches[(repo, start)]

    def _history(self, sha: str | None) -> list[str]:
        out: list[str] = []
        while sha is not None:
            out.append(sha)
            sha = self.commits[sha].parent
        return out

    def compare(self, repo: str, base: str, head: str) -> dict[str, Any]:
        """``GET /repos/{owner}/{repo}/compare/{base}...{head}`` (GitHub REST docs, "Compare two commits").

        "The response from the API is equivalent to running the ``git log base..head`` command; however, commits are
        returned in chronological order", with ``status`` (``diverged``, ``ahead``, ``behind`` or ``identical``),
        ``ahead_by``, ``behind_by``, ``total_commits``, and ``files``: what changed from the merge base to the head,
        each with its ``status`` (added, removed, modified) and, for a text change, its ``patch`` (the unified diff's
        hunks, three lines of context, as ``git diff`` prints them without the file header). An unknown branch is
        ``404 Not Found``.
        """
        import difflib

        self._repo(repo)
        if (repo, base) not in self.branches or (repo, head) not in self.branches:
            raise WorldError("GitHub", "404 Not Found", status="404")
        base_history = self._history(self.branches[(repo, base)])
        head_history = self._history(self.branches[(repo, head)])
        merge_base = next(sha for sha in head_history if sha in base_history)
        ahead = list(reversed(head_history[: head_history.index(merge_base)]))
        behind = base_history[: base_history.index(merge_base)]
        status = "identical" if not ahead and not behind else "ahead" if not behind else "behind" if not ahead else "diverged"
        old, new = self.commits[merge_base].tree, self.commits[head_history[0]].tree
        files: list[dict[str, Any]] = []
        for path in sorted(set(old) | set(new)):
            if old.get(path) == new.get(path):
                continue
            before, after = old.get(path, "").splitlines(), new.get(path, "").splitlines()
            hunks = list(difflib.unified_diff(before, after, n=3, lineterm=""))[2:]
            additions = sum(1 for line in hunks if line.startswith("+"))
            deletions = sum(1 for line in hunks if line.startswith("-"))
            files.append(
                {
                    "filename": path,
                    "status": "added" if path not in old else "removed" if path not in new else "modified",
                    "additions": additions,
                    "deletions": deletions,
                    "changes": additions + deletions,
                    "patch": "\n".join(hunks),
                }
            )
        return {
            "status": status,
            "ahead_by": len(ahead),
            "behind_by": len(behind),
            "total_commits": len(ahead),
            "base_commit": {"sha": base_history[0]},
            "merge_base_commit": {"sha": merge_base},
            "commits": [{"sha": sha, "commit": {"message": self.commits[sha].message}} for sha in ahead],
            "files": files,
        }

    def list_pulls(self, repo: str, *, head: str | None, base: str | None, state: str) -> list[PullRequest]:
        """``GET /repos/{owner}/{repo}/pulls`` filtered by head branch, base branch and state (``open``, ``closed`` or
        ``all``), newest first (GitHub REST docs, "List pull requests"; ``gh pr list`` asks the same of GraphQL)."""
        self._repo(repo)
        found = [
            pr
            for (r, _), pr in self.pulls.items()
            if r == repo and (head is None or pr.head == head) and (base is None or pr.base == base) and state in ("all", pr.state)
        ]
        return sorted(found, key=lambda pr: -pr.number)

    def create_pull(self, repo: str, head: str, base: str, title: str, body: str, author: str) -> PullRequest:
        """``POST /repos/{owner}/{repo}/pulls`` (GitHub REST docs, "Create a pull request"): both branches must exist, and
        an open pull request for the same head and base already existing is ``422 Validation Failed`` ("A pull request
        already exists for <owner>:<head>."). The number is the repository's next issue number."""
        self._repo(repo)
        for branch in (head, base):
            if (repo, branch) not in self.branches:
                raise WorldError("GitHub", f"422 Validation Failed: {'head' if branch == head else 'base'} invalid", status="422")
        if self.list_pulls(repo, head=head, base=base, state="open"):
            raise WorldError("GitHub", f"422 Validation Failed: A pull request already exists for {repo.split('/')[0]}:{head}.", status="422")
        number = self._next_number(repo)
        pr = PullRequest(number, head, base, title, body, author)
        self.pulls[(repo, number)] = pr
        return pr

    def _next_number(self, repo: str) -> int:
        """Issues and pull requests share one sequence of numbers per repository (GitHub REST docs, "Issues": "GitHub's
        REST API considers every pull request an issue")."""
        return 1 + max([n for (r, n) in [*self.pulls, *self.comments, *self.issues] if r == repo], default=0)

    # --- issues and labels (GitHub REST docs, "Issues" and "Labels") ------------------------------------------------

    def create_label(self, repo: str, name: str, color: str, description: str) -> Label:
        """``POST /repos/{owner}/{repo}/labels`` ("Create a label"): ``422 Validation Failed`` with the error code
        ``already_exists`` for a name the repository has (names compare case-insensitively; cli/cli pkg/cmd/label/create.go
        ``isLabelAlreadyExistsError`` reads that code)."""
        self._repo(repo)
        if (repo, name.lower()) in self.labels:
            raise WorldError("GitHub", "422 Validation Failed: already_exists", status="422")
        if not re.fullmatch(r"[0-9a-fA-F]{6}", color):
            raise WorldError("GitHub", "422 Validation Failed: invalid color", status="422")
        label = self.labels[(repo, name.lower())] = Label(name, color.lower(), description)
        return label

    def update_label(self, repo: str, name: str, fields: Mapping[str, str]) -> Label:
        """``PATCH /repos/{owner}/{repo}/labels/{name}`` ("Update a label": ``color``, ``description``, ``new_name``); 404
        for a label the repository does not have."""
        self._repo(repo)
        label = self.labels.get((repo, name.lower()))
        if label is None:
            raise WorldError("GitHub", "404 Not Found", status="404")
        if "color" in fields:
            label.color = fields["color"].lower()
        if "description" in fields:
            label.description = fields["description"]
        return label

    def create_issue(self, repo: str, title: str, body: str, labels: list[str], author: str) -> Issue:
        """``POST /repos/{owner}/{repo}/issues`` ("Create an issue": ``title`` required, ``body``, ``labels``); the number
        is the repository's next one. Labels are given here by names the repository has (``gh issue create`` resolves
        them first and stops on an unknown one)."""
        self._repo(repo)
        if not title:
            raise WorldError("GitHub", "422 Validation Failed: title is missing", status="422")
        names = [self.labels[(repo, n.lower())].name for n in labels]
        issue = Issue(self._next_number(repo), title, body, names, author)
        self.issues[(repo, issue.number)] = issue
        return issue

    def update_issue(self, repo: str, number: int, fields: Mapping[str, Any]) -> Issue:
        """``PATCH /repos/{owner}/{repo}/issues/{issue_number}`` ("Update an issue": ``title``, ``body``, ``state``
        open or closed, ``state_reason`` completed, not_planned or reopened); an unknown number is ``404 Not Found``."""
        self._repo(repo)
        issue = self.issues.get((repo, number))
        if issue is None:
            raise WorldError("GitHub", "404 Not Found", status="404")
        if fields.get("state") not in (None, "open", "closed"):
            raise WorldError("GitHub", "422 Validation Failed: state", status="422")
        for name in ("title", "body", "state", "state_reason"):
            if name in fields:
                setattr(issue, name, fields[name])
        return issue

    def list_issues(self, repo: str, *, labels: list[str], state: str) -> list[Issue]:
        """The issues (pull requests left out, as ``gh issue list`` lists them) carrying every one of ``labels``, of
        ``state`` (open, closed or all), newest first (GitHub REST docs, "List repository issues": ``labels`` "A list of
        comma separated label names", ``state`` "open", "closed" or "all", ``sort`` created, ``direction`` desc)."""
        self._repo(repo)
        wanted = {n.lower() for n in labels}
        found = [i for (r, _), i in self.issues.items() if r == repo and wanted <= {n.lower() for n in i.labels} and state in ("all", i.state)]
        return sorted(found, key=lambda i: -i.number)

    def update_pull(self, repo: str, number: int, fields: Mapping[str, Any]) -> PullRequest:
        """``PATCH /repos/{owner}/{repo}/pulls/{pull_number}`` (GitHub REST docs, "Update a pull request": ``title``,
        ``body``, ``state``, ``base``); an unknown number is ``404 Not Found``."""
        pr = self.pulls.get((repo, number))
        if pr is None:
            raise WorldError("GitHub", "404 Not Found", status="404")
        for name in ("title", "body", "state", "base"):
            if name in fields:
                setattr(pr, name, str(fields[name]))
        return pr


# --------------------------------------------------------------------------------------------------------------------
# Pulumi ESC
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EscSecret:
    """A value an environment marks ``fn::secret``, after evaluation."""

    value: Any


class EscError(WorldError):
    def __init__(self, message: str) -> None:
        super().__init__("ESC", message)


def _yaml_get(node: Any, path: list[str | int]) -> tuple[bool, Any]:
    for part in path:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
            continue
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            continue
        return False, None
    return True, node


def _merge(base: Any, over: Any) -> Any:
    """ESC's merge of imports and own values: objects merge key by key, anything else is replaced.

    Pulumi docs, ESC "Importing other environments": "Imported environments are merged in the order they are listed,
    and the values of the importing environment are merged last", objects merged recursively (pulumi/esc eval/eval.go
    ``mergeImports`` / ``merge``).
    """
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(out[k], v) if k in out else v
        return out
    return over


@dataclass
class Esc:
    """Environments by ``<org>/<project>/<name>``: their definitions as YAML data, and what ``env set`` replaced."""

    definitions: dict[str, Any] = field(default_factory=dict)
    replaced_interpolations: list[tuple[str, str, str]] = field(default_factory=list)
    """(environment, path, the interpolation) each time ``env set`` replaced an interpolated node by a value."""

    def create(self, ref: str, text: str) -> None:
        """``CreateEnvironment`` then ``UpdateEnvironment`` with the YAML.

        An environment that exists makes the create fail (pulumi/esc cmd/esc/cli/client ``CreateEnvironmentWithProject``:
        409 Conflict), which pulumi-pulumiservice's ``Create`` returns before pushing any YAML
        (provider/pkg/resources/environment.go).
        """
        if ref in self.definitions:
            raise EscError(f"409 Conflict: environment {ref} already exists")
        document = yaml.safe_load(text) or {}
        if not isinstance(document, dict):
            raise EscError(f"{ref}: the definition must be a YAML mapping")
        self.definitions[ref] = document
        self.open(ref)  # Create checks the definition (imports and references resolve) against the service

    def _ref(self, ref: str) -> str:
        if ref not in self.definitions:
            raise EscError(f'unknown environment "{ref}"')
        return ref

    def set(self, ref: str, path_text: str, value_text: str, *, secret: bool = False) -> None:
        """``pulumi env set <env> <path> <value> [--secret]`` (pulumi/esc cmd/esc/cli/env_set.go).

        The path is a property path (``resource.ParsePropertyPath``) under ``values``; the value is read as YAML (an
        empty one is the empty string) and with ``--secret`` wrapped in ``fn::secret`` (a non-string scalar quoted
        first). The definition is fetched, changed with :func:`secret_chain.pulumi_rules.esc_env_set` (the one port
        of ``yamlNode.set``) and stored back.
        """
        self._ref(ref)
        try:
            path = parse_property_path(path_text)
        except RuleError as err:
            raise EscError(f"invalid path: {err}") from None
        if not path:
            raise EscError("path must contain at least one element")
        value: Any = yaml.safe_load(value_text) if value_text != "" else ""
        if value is None and value_text.strip() in ("", '""'):
            value = ""
        if secret:
            if not isinstance(value, (dict, list)) and not isinstance(value, str):
                value = value_text
            value = {"fn::secret": value}
        found, old = _yaml_get(self.definitions[ref], ["values", *path] if path[0] != "imports" else path)
        if found and isinstance(old, str) and "${" in old:
            self.replaced_interpolations.append((ref, path_text, old))
        try:
            self.definitions[ref] = esc_env_set(self.definitions[ref], path_text, value)
        except RuleError as err:
            raise EscError(str(err)) from None

    def remove(self, ref: str, path_text: str) -> None:
        """``pulumi env rm <env> <path>`` (pulumi/esc cmd/esc/cli/env_rm.go → ``yamlNode.delete`` in env_set.go): removes
        the key the path names under ``values``; a path through a scalar is ``expected an array or an object``."""
        self._ref(ref)
        path = parse_property_path(path_text)
        document = copy.deepcopy(self.definitions[ref])
        node: Any = document.get("values") or {}
        prefix: list[str | int] = []
        for i, part in enumerate(path):
            prefix.append(part)
            last = i == len(path) - 1
            if isinstance(node, dict) and isinstance(part, str):
                if last:
                    node.pop(part, None)
                    break
                if part not in node:
                    raise EscError(f"{property_path_string(prefix)}: expected an array or an object")
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                if last:
                    del node[part]
                    break
                node = node[part]
            else:
                raise EscError(f"{property_path_string(prefix)}: expected an array or an object")
        self.definitions[ref] = document

    def open(self, ref: str, _seen: tuple[str, ...] = ()) -> dict[str, Any]:
        """The environment's evaluated ``values``: imports merged in order, then its own values; interpolations resolved.

        ``imports`` name ``<project>/<env>`` in the environment's own organisation (pulumi/esc cmd/esc/cli/env.go
        ``parseRef``, ported in secret_chain.pulumi_rules.parse_env_ref). A string that is one ``${…}`` is a symbol whose
        value keeps its type; text around interpolations makes a string (pulumi/esc ast/expr.go ``ParseExpr``; the
        accessors parsed by secret_chain.pulumi_rules.esc_interpolation, a port of ast/property.go). ``${environments.
        <project>.<env>.<path>}`` is an implicit import of just that value (Pulumi docs, ESC "Importing other
        environments"). ``fn::secret`` marks a value secret (:class:`EscSecret`).
        """
        self._ref(ref)
        if ref in _seen:
            raise EscError(f"cyclic import of {ref}")
        org = ref.split("/", 1)[0]
        document = self.definitions[ref]
        merged: Any = {}
        for imported in document.get("imports") or []:
            parsed = parse_env_ref(str(imported))
            merged = _merge(merged, self.open(f"{org}/{parsed.project}/{parsed.env}", (*_seen, ref)))
        raw = _merge(merged, copy.deepcopy(document.get("values") or {}))

        def lookup(accessors: list[str | int]) -> Any:
            if accessors and accessors[0] == "environments":
                if len(accessors) < 3:
                    raise EscError("an implicit import names ${environments.<project>.<env>…}")
                root: Any = self.open(f"{org}/{accessors[1]}/{accessors[2]}", (*_seen, ref))
                rest = accessors[3:]
            else:
                root, rest = resolve(raw, 0), accessors
            secret = False
            for part in rest:
                if isinstance(root, EscSecret):
                    root, secret = root.value, True
                found, root = _yaml_get(root, [part])
                if not found:
                    raise EscError(f"unknown property {property_path_string(list(accessors))}")
            return EscSecret(root) if secret and not isinstance(root, EscSecret) else root

        def interpolate(text: str, depth: int) -> Any:
            if depth > 20:
                raise EscError("interpolation too deep (a cycle?)")
            if text.startswith("${") and text.endswith("}") and text.count("${") == 1:
                try:
                    return lookup(esc_interpolation(text))
                except ValueError:
                    pass
            out, secret, rest = "", False, text
            while "${" in rest:
                before, _, after = rest.partition("${")
                end = after.find("}")
                if end < 0:
                    raise EscError("missing closing brace '}' in interpolation")
                value = lookup(esc_interpolation("${" + after[: end + 1]))
                if isinstance(value, EscSecret):
                    value, secret = value.value, True
                out += before + (value if isinstance(value, str) else json.dumps(value))
                rest = after[end + 1 :]
            out += rest
            return EscSecret(out) if secret else out

        def resolve(node: Any, depth: int) -> Any:
            if isinstance(node, dict):
                if set(node) == {"fn::secret"}:
                    inner = resolve(node["fn::secret"], depth)
                    return inner if isinstance(inner, EscSecret) else EscSecret(inner)
                return {k: resolve(v, depth) for k, v in node.items()}
            if isinstance(node, list):
                return [resolve(v, depth) for v in node]
            if isinstance(node, str) and "${" in node:
                return interpolate(node, depth + 1)
            return node

        result = resolve(raw, 0)
        assert isinstance(result, dict)
        return result

    def pulumi_config(self, refs: list[str]) -> dict[str, tuple[Any, bool]]:
        """The ``pulumiConfig`` of the environments a stack attaches, merged in order: key → (plain value, secret).

        Pulumi docs, ESC "Use with Pulumi IaC": the stack file's ``environment:`` list is "merged in order, with later
        values overriding earlier ones", and ``values.pulumiConfig`` becomes the stack's configuration.
        """
        merged: dict[str, Any] = {}
        for ref in refs:
            merged = _merge(merged, self.open(ref).get("pulumiConfig") or {})
        return {key: (esc_plain(value), contains_secret(value)) for key, value in merged.items()}


def esc_plain(value: Any) -> Any:
    if isinstance(value, EscSecret):
        return esc_plain(value.value)
    if isinstance(value, dict):
        return {k: esc_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [esc_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------------------------------
# Pulumi Cloud: tokens, OIDC, stack state
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class StateResource:
    """One resource in a stack's state, as the engine keeps it (inputs with their secret markers)."""

    urn: str
    type: str
    custom: bool
    inputs: dict[str, Any]
    parent: str
    dependencies: tuple[str, ...]
    provider: str
    """The provider resource's URN (explicit or the stack's default provider of the package); empty for components."""
    retain_on_delete: bool
    created: str
    modified: str
    world_ref: tuple[Any, ...] = ()
    """Where the resource lives in the world (cluster object key, GitHub name, ESC environment…)."""
    observed: Any = None
    """What the world held right after the engine wrote it (refresh compares against it)."""
    id: str = ""
    """The ID its provider gave it (custom resources only; see :func:`resource_id`)."""


@dataclass
class StackState:
    org: str
    project: str
    name: str
    resources: dict[str, StateResource] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def fqn(self) -> str:
        return f"{self.org}/{self.project}/{self.name}"


@dataclass
class OidcIssuer:
    org: str
    url: str
    policies: list[dict[str, Any]]
    max_expiration: int
    owner: str


@dataclass
class PulumiCloud:
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    """Access token → (organisation, expiry)."""
    issuers: dict[tuple[str, str], OidcIssuer] = field(default_factory=dict)
    """(org, issuer name) → issuer."""
    stacks: dict[str, StackState] = field(default_factory=dict)
    """``<org>/<project>/<stack>`` → state."""

    def check_token(self, token: str | None, org: str, now: float) -> None:
        """Every Pulumi Cloud call needs a valid access token of the organisation (Pulumi Cloud REST API: 401 otherwise)."""
        entry = self.tokens.get(token or "")
        if entry is None:
            raise WorldError("Pulumi Cloud", "401 Unauthorized: no valid access token (PULUMI_ACCESS_TOKEN); run `pulumi login`")
        if entry[1] <= now:
            raise WorldError("Pulumi Cloud", "401 Unauthorized: the access token expired")
        if entry[0] != org:
            raise WorldError("Pulumi Cloud", f"403 Forbidden: the access token is not a member of organization {org}")

    def exchange(self, org: str, subject: str, token_type: str, scope: str, expiration: int, now: float) -> str:
        """The OAuth token exchange (Pulumi Cloud REST API, ``POST /api/oauth/token``; pulumi/auth-actions).

        The GitHub ID token's claims (``aud`` ``urn:pulumi:org:<org>``, ``sub``) must match an ``allow`` policy of a
        registered issuer for the requested token type (Pulumi docs, "OIDC issuers" → authorization policies; a rule's
        claim values may use ``*`` wildcards). The token lives at most the issuer's ``maxExpiration``.
        """
        aud = f"urn:pulumi:org:{org}"
        for (issuer_org, _), issuer in self.issuers.items():
            if issuer_org != org or issuer.url != "https://token.actions.githubusercontent.com":
                continue
            for policy in issuer.policies:
                rules = policy.get("rules") or {}
                if policy.get("decision") != "allow" or policy.get("tokenType") != token_type:
                    continue
                if token_type == "team" and scope != f"team:{policy.get('teamName')}":
                    continue
                if _claim(rules.get("aud"), aud) and _claim(rules.get("sub"), subject):
                    token = "pul-oidc-" + secrets.token_hex(16)
                    self.tokens[token] = (org, now + min(expiration or 7200, issuer.max_expiration or 7200))
                    return token
        raise WorldError("Pulumi Cloud", f"400 Bad Request: no authorization policy of organization {org} allows subject {subject}")


def _claim(pattern: Any, value: str) -> bool:
    if not isinstance(pattern, str):
        return False
    return re.fullmatch(".*".join(re.escape(p) for p in pattern.split("*")), value) is not None


# --------------------------------------------------------------------------------------------------------------------
# DigitalOcean
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class DigitalOcean:
    tokens: set[str] = field(default_factory=set)
    clusters: dict[str, str] = field(default_factory=dict)
    """Cluster name → cluster ID (the cluster's objects are in :attr:`World.clusters`)."""
    domains: set[str] = field(default_factory=set)
    kube_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    """A kubeconfig's bearer token → (cluster ID, expiry)."""

    def check_token(self, token: str | None) -> None:
        # DigitalOcean API, "Authentication": a missing or unknown token is 401 {"id": "Unauthorized", "message": "Unable
        # to authenticate you"}.
        if not token or token not in self.tokens:
            raise WorldError("DigitalOcean", "401 Unable to authenticate you", status="401")

    def cluster_id(self, name: str) -> str:
        if name not in self.clusters:
            raise WorldError("DigitalOcean", f"404 Unable to find cluster with name {name}", status="404")
        return self.clusters[name]

    def kubeconfig(self, token: str | None, cluster_id: str, now: float, expiry_seconds: float = 0) -> str:
        """``GET /v2/kubernetes/clusters/{id}/kubeconfig[?expiry_seconds=N]``: a kubeconfig whose token expires.

        DigitalOcean API, "Retrieve the kubeconfig for a Kubernetes cluster": token-based; "If not set or 0, then the
        token will have a 7 day expiry". The same kubeconfig is what the provider's ``getKubernetesCluster`` returns in
        ``kube_configs[0].raw_config`` (pulumi-digitalocean, data source ``digitalocean_kubernetes_cluster``).
        """
        self.check_token(token)
        if cluster_id not in self.clusters.values():
            raise WorldError("DigitalOcean", f"404 cluster {cluster_id} not found", status="404")
        name = next(n for n, i in self.clusters.items() if i == cluster_id)
        bearer = "doks-" + secrets.token_hex(16)
        expires = now + (expiry_seconds or KUBECONFIG_DEFAULT_EXPIRY)
        self.kube_tokens[bearer] = (cluster_id, expires)
        context = f"do-fra1-{name}"
        document = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": {"server": f"https://{cluster_id}.k8s.ondigitalocean.com"}}],
            "users": [{"name": f"{context}-admin", "user": {"token": bearer}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": f"{context}-admin"}}],
            "current-context": context,
        }
        return yaml.safe_dump(document, sort_keys=False)

    def get_kubernetes_cluster(self, token: str | None, name: str, now: float) -> dict[str, Any]:
        """The ``digitalocean:index/getKubernetesCluster:getKubernetesCluster`` invoke (its outputs as the SDK names them)."""
        self.check_token(token)
        cluster_id = self.cluster_id(name)
        raw = self.kubeconfig(token, cluster_id, now)
        bearer = yaml.safe_load(raw)["users"][0]["user"]["token"]
        return {
            "id": cluster_id,
            "name": name,
            "endpoint": f"https://{cluster_id}.k8s.ondigitalocean.com",
            "kubeConfigs": [{"rawConfig": raw, "token": bearer, "expiresAt": iso(self.kube_tokens[bearer][1])}],
        }


# --------------------------------------------------------------------------------------------------------------------
# Kubernetes
# --------------------------------------------------------------------------------------------------------------------

CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "StorageClass",
        "PriorityClass",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "APIService",
        "ClusterIssuer",
        "IngressClass",
        "GatewayClass",
    }
)
"""Kinds whose objects have no namespace (kubectl api-resources --namespaced=false; cert-manager's ClusterIssuer is
``scope: Cluster`` in its CRD, Gateway API's GatewayClass likewise): their key ignores ``metadata.namespace``."""

ObjectKey = tuple[str, str, str]
"""(``<group>/<Kind>``, namespace or "", name)."""


def object_key(manifest: Mapping[str, Any]) -> ObjectKey:
    api_version = str(manifest.get("apiVersion", ""))
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else "core"
    kind = str(manifest.get("kind", ""))
    metadata = manifest.get("metadata") or {}
    namespace = "" if kind in CLUSTER_SCOPED else str(metadata.get("namespace") or "default")
    return (f"{group}/{kind}", namespace, str(metadata.get("name", "")))


def resource_name(kind: str) -> str:
    """How the API server names a kind in its messages: the plural resource, ``.<group>`` for a non-core group
    (``secrets``, ``certificates.cert-manager.io``, ``gitrepositories.source.toolkit.fluxcd.io``): the CRDs' and the
    core types' ``names.plural``, lower case, ``-y`` → ``-ies`` for the kinds the chain creates."""
    group, name = kind.split("/", 1)
    lower = name.lower()
    plural = lower[:-1] + "ies" if lower.endswith("y") else lower + "s"
    return plural if group == "core" else f"{plural}.{group}"


@dataclass
class KubeObject:
    manifest: dict[str, Any]
    owner: str
    terminating: bool = False
    holders: set[str] = field(default_factory=set)
    """Other stacks whose state holds this object too (an upsert, or an imported state, made them hold it): the API
    server acts on kind/namespace/name alone, so each of them updates and deletes the one live object."""


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """The fields of a manifest as ``.a.b`` paths (the notation of server-side apply's conflict messages)."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_leaves(item, f"{prefix}.{key}"))
        return out
    return {prefix: value}


def _apply_merge(live: Any, applied: Any) -> Any:
    """The object after an apply: the applied configuration's fields set over the live object's (maps merge by key)."""
    if isinstance(live, dict) and isinstance(applied, dict):
        out = dict(live)
        for key, value in applied.items():
            out[key] = _apply_merge(live.get(key), value)
        return out
    return copy.deepcopy(applied)


@dataclass
class Cluster:
    """One Kubernetes cluster's objects by (group/kind, namespace, name), each with the stack that owns it."""

    name: str
    objects: dict[ObjectKey, KubeObject] = field(default_factory=dict)

    def namespaces(self) -> set[str]:
        return {name for (kind, _, name), obj in self.objects.items() if kind == "core/Namespace" and not obj.terminating}

    def create(self, manifest: dict[str, Any], owner: str, world: World, *, upsert: bool = False, force: bool = False) -> ObjectKey:
        """A plain create (POST), or with ``upsert`` a server-side apply that takes over an existing object.

        pulumi-kubernetes provider/pkg/await/await.go ``Creation``: the object is created with the client's Create (a
        POST), so an existing object answers 409 AlreadyExists, unless the provider's ``upsertExistingObjects`` is set
        (provider/pkg/provider/provider.go). The namespace must exist and not be terminating: the NamespaceLifecycle
        admission plugin (kubernetes plugin/pkg/admission/namespace/lifecycle/admission.go) answers NotFound
        (``namespaces "x" not found``) for a missing namespace and Forbidden (``unable to create new content in
        namespace x because it is being terminated``) for a terminating one. The messages are the ones a real
        kube-apiserver v1.36.2 returned for these requests (POST of a Secret, ConfigMap and cert-manager Certificate).
        """
        key = object_key(manifest)
        kind, namespace, name = key
        resource = resource_name(kind)
        if namespace:
            ns = self.objects.get(("core/Namespace", "", namespace))
            if ns is None:
                raise WorldError("Kubernetes", f'namespaces "{namespace}" not found', status="NotFound")
            if ns.terminating:
                raise WorldError(
                    "Kubernetes",
                    f'{resource} "{name}" is forbidden: unable to create new content in namespace {namespace} because it is being terminated',
                    status="Forbidden",
                )
        current = self.objects.get(key)
        if current is not None and upsert:
            self._upsert(key, current, manifest, owner, world, force=force)
            return key
        if current is not None:
            world.violation("Kubernetes", "/".join(filter(None, key)), current.owner, owner, record=current.owner != owner)
            raise WorldError("Kubernetes", f'{resource} "{name}" already exists', status="AlreadyExists")
        self.objects[key] = KubeObject(copy.deepcopy(manifest), owner)
        return key

    def _upsert(self, key: ObjectKey, current: KubeObject, manifest: dict[str, Any], owner: str, world: World, *, force: bool) -> None:
        """Server-side apply of ``manifest`` onto an existing object (pulumi-kubernetes ``upsertExistingObjects``).

        pulumi-kubernetes provider/pkg/await/await.go ``Creation``: with server-side apply on (the default,
        ``enableServerSideApply``) and ``upsertExistingObjects``, a create is an apply PATCH ("we currently always upsert
        the object"), with ``force`` from the ``pulumi.com/patchForce`` annotation or ``enablePatchForce``
        (``patchForce``). Kubernetes docs, "Server-Side Apply" → "Conflicts": an apply that sets a field another field
        manager owns to a different value fails with a conflict unless forced; forced, the applier takes the field
        over. Each stack's provider applies as its own field manager, so fields the owning stack set and this stack
        sets differently conflict (the message is the world's, shaped as the API server's "Apply failed with N
        conflicts"; not compared with a real kube-apiserver). The world then records this stack as a second holder of the object (a
        :class:`Violation`), and does not refuse: the operator asked for the takeover, and a state where two stacks hold
        one object (the release before the ``-preview`` names, tests/test_upgrade.py) must be one the world can hold.
        """
        if owner != current.owner and owner not in current.holders:
            live, applied = _leaves(current.manifest), _leaves(manifest)
            conflicts = sorted(path for path, value in applied.items() if path in live and live[path] != value)
            if conflicts and not force:
                raise WorldError(
                    "Kubernetes",
                    f"Apply failed with {len(conflicts)} conflict(s): conflict with the field manager of {current.owner}: " + ", ".join(conflicts),
                    status="Conflict",
                )
            world.violation("Kubernetes", "/".join(filter(None, key)), current.owner, owner)
            current.holders.add(owner)
        current.manifest = _apply_merge(current.manifest, manifest)

    def _may_act(self, key: ObjectKey, current: KubeObject, actor: str, world: World) -> None:
        """An update or delete by ``actor``: its owner's, or a holder's (the API server does it; a holder acting on an
        object another stack owns is recorded); anyone else's is recorded and refused."""
        if actor != current.owner and actor in current.holders:
            world.violation("Kubernetes", "/".join(filter(None, key)), current.owner, actor)
            return
        world.check_owner("Kubernetes", "/".join(filter(None, key)), current.owner, actor)

    def update(self, key: ObjectKey, manifest: dict[str, Any], owner: str, world: World) -> None:
        current = self.objects.get(key)
        if current is None:
            raise WorldError("Kubernetes", f'{key[0]} "{key[2]}" not found', status="NotFound")
        self._may_act(key, current, owner, world)
        current.manifest = copy.deepcopy(manifest)

    def delete(self, key: ObjectKey, owner: str, world: World) -> None:
        """Delete one object; deleting a Namespace deletes every object in it.

        Kubernetes docs, "Namespaces": "Deleting a namespace deletes everything in it" (the namespace controller,
        pkg/controller/namespace/deletion/namespaced_resources_deleter.go, removes its content before the namespace).
        pulumi-kubernetes awaits the deletion (provider/pkg/await/await.go ``Deletion``), so here it is complete at once.
        """
        current = self.objects.get(key)
        if current is None:
            return  # pulumi-kubernetes treats a 404 on delete as already deleted (await.go Deletion)
        self._may_act(key, current, owner, world)
        if key[0] == "core/Namespace":
            for other in [k for k in self.objects if k[1] == key[2]]:
                del self.objects[other]
        del self.objects[key]


# --------------------------------------------------------------------------------------------------------------------
# The world
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class World:
    now: float = field(default_factory=lambda: float(int(time.time())))
    github: GitHub = field(default_factory=GitHub)
    esc: Esc = field(default_factory=Esc)
    cloud: PulumiCloud = field(default_factory=PulumiCloud)
    digitalocean: DigitalOcean = field(default_factory=DigitalOcean)
    clusters: dict[str, Cluster] = field(default_factory=dict)
    """Cluster ID → cluster."""
    violations: list[Violation] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    """Every command a stand-in ran, in order (tests assert which calls a workflow step made)."""

    # --- bookkeeping -------------------------------------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def violation(self, system: str, what: str, owner: str, second: str, *, record: bool = True) -> WorldError:
        """Record a second owner of ``what`` (unless ``record`` is false); return the refusal for the caller to raise
        where upstream itself would not refuse."""
        if record:
            self.violations.append(Violation(system, what, owner, second))
        return WorldError(system, f"{what} is owned by {owner}; {second} would be a second owner", status="SecondOwner")

    def check_owner(self, system: str, what: str, owner: str, actor: str) -> None:
        """An update or delete by a stack that does not own the object: recorded and refused."""
        if owner != actor:
            raise self.violation(system, what, owner, actor)

    def owners(self) -> dict[str, str]:
        """Every owned thing in the world → its owner (for before/after comparisons)."""
        out: dict[str, str] = {}
        for cluster in self.clusters.values():
            for key, obj in cluster.objects.items():
                out["k8s:" + "/".join(filter(None, key))] = obj.owner
        for (repo, env), owner in self.github.environments.items():
            out[f"github:environment:{repo}:{env}"] = owner
        for kind, table in (("secret", self.github.secrets), ("variable", self.github.variables)):
            for (scope, name), entry in table.items():
                out[f"github:{kind}:{'/'.join(scope)}:{name}"] = entry.owner
        return out

    # --- persistence -------------------------------------------------------------------------------------------------

    def save(self, path: Path | str) -> None:
        tmp = Path(f"{path}.tmp")
        tmp.write_bytes(pickle.dumps(self))
        tmp.replace(path)

    @staticmethod
    def load(path: Path | str) -> World:
        world = pickle.loads(Path(path).read_bytes())
        assert isinstance(world, World)
        return world

    # --- set-up helpers (what exists before the platform: accounts, a cluster, a repository) -------------------------

    def add_cluster(self, name: str, *, namespaces: tuple[str, ...] = ("default", "kube-system"), owner: str = "cluster-admin") -> str:
        cluster_id = hashlib.sha256(name.encode()).hexdigest()[:8] + "-" + secrets.token_hex(4)
        self.digitalocean.clusters[name] = cluster_id
        cluster = Cluster(name)
        for ns in namespaces:
            cluster.objects[("core/Namespace", "", ns)] = KubeObject({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}, owner)
        self.clusters[cluster_id] = cluster
        return cluster_id

    def cluster(self, name: str) -> Cluster:
        return self.clusters[self.digitalocean.cluster_id(name)]

    def kube_access(self, kubeconfig_text: str | None) -> Cluster:
        """The cluster a kubeconfig reaches, or the error pulumi-kubernetes reports.

        pulumi-kubernetes provider/pkg/provider/provider.go ``Configure``: when no kubeconfig can be loaded, or the API
        server cannot be reached with it (discovery fails: an expired token is 401 Unauthorized), the provider sets
        ``clusterUnreachable`` and every Create, Read, Update and Delete fails with ``configured Kubernetes cluster is
        unreachable: <reason>``.
        """
        if not kubeconfig_text:
            raise WorldError(
                "Kubernetes",
                "configured Kubernetes cluster is unreachable: unable to load Kubernetes client configuration from kubeconfig file: "
                "invalid configuration: no configuration has been provided",
            )
        try:
            document = yaml.safe_load(kubeconfig_text)
            bearer = str(document["users"][0]["user"]["token"])
        except Exception:
            raise WorldError("Kubernetes", "configured Kubernetes cluster is unreachable: invalid kubeconfig") from None
        entry = self.digitalocean.kube_tokens.get(bearer)
        if entry is None or entry[1] <= self.now:
            raise WorldError(
                "Kubernetes",
                "configured Kubernetes cluster is unreachable: unable to load schema information from the API server: "
                "the server has asked for the client to provide credentials",
            )
        return self.clusters[entry[0]]

    # --- invokes the program makes -----------------------------------------------------------------------------------

    def invokes(self, config: Mapping[str, str], env: Mapping[str, str]) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        """Provider functions answered from the world, with the provider credentials of the running stack.

        pulumi-digitalocean reads ``digitalocean:token`` (else ``DIGITALOCEAN_TOKEN`` / ``DIGITALOCEAN_ACCESS_TOKEN``);
        pulumi-github ``github:token`` (else ``GITHUB_TOKEN``) and ``github:owner`` (else ``GITHUB_OWNER``).
        """
        do_token = config.get("digitalocean:token") or env.get("DIGITALOCEAN_TOKEN") or env.get("DIGITALOCEAN_ACCESS_TOKEN")

        def cluster(args: dict[str, Any]) -> dict[str, Any]:
            return self.digitalocean.get_kubernetes_cluster(do_token, str(args["name"]), self.now)

        def domain(args: dict[str, Any]) -> dict[str, Any]:
            self.digitalocean.check_token(do_token)
            name = str(args["name"])
            if name not in self.digitalocean.domains:
                raise WorldError("DigitalOcean", f"404 domain {name} not found", status="404")
            return {"id": name, "name": name, "domainUrn": f"do:domain:{name}", "ttl": 1800, "zoneFile": ""}

        def repository(args: dict[str, Any]) -> dict[str, Any]:
            full = str(args.get("fullName") or f"{config.get('github:owner')}/{args.get('name')}")
            self.github._repo(full)
            repo_id = int(hashlib.sha256(full.encode()).hexdigest()[:8], 16)
            return {"fullName": full, "name": full.split("/")[-1], "repoId": repo_id, "nodeId": f"R_{repo_id}"}

        return {
            "digitalocean:index/getKubernetesCluster:getKubernetesCluster": cluster,
            "digitalocean:index/getDomain:getDomain": domain,
            "github:index/getRepository:getRepository": repository,
        }


# --------------------------------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------------------------------

PROVIDER_PACKAGES = ("kubernetes", "github", "digitalocean", "pulumiservice", "random")


def default_provider_urn(stack: str, project: str, package: str) -> str:
    """The default provider the engine makes for a package (pulumi/pulumi pkg/resource/deploy/providers/registry.go:
    ``default`` named ``default_<version>``); its inputs are the stack config of the package's namespace."""
    return f"urn:pulumi:{stack}::{project}::pulumi:providers:{package}::default"


def resource_id(type_: str, inputs: Mapping[str, Any]) -> str:
    """The ID a provider gives a custom resource it creates.

    pulumi-kubernetes: ``namespace/name``, or ``name`` for a cluster-scoped object (provider/pkg/provider/util.go
    ``fqObjName``; the provider fills in namespace ``default`` for a namespaced object without one).
    terraform-provider-github ``buildID`` (github/util.go, parts joined by ``:``): ``<repo>:<name>`` for a repository
    Actions secret or variable, ``<repo>:<environment>:<name>`` for an environment's, ``<repo>:<environment>`` for a
    RepositoryEnvironment (resource_github_actions_*.go, resource_github_repository_environment.go). Provider resources
    get a random UUID from the engine (pulumi/pulumi pkg/resource/deploy/providers/registry.go ``Create``). Other types
    get an opaque ID here.
    """
    values = unwrap(dict(inputs))
    if type_.startswith("kubernetes:"):
        _, namespace, name = object_key(values)
        return f"{namespace}/{name}" if namespace else name
    if type_.startswith("github:"):
        kind = type_.rsplit(":", 1)[1]
        name = str(values.get("secretName") or values.get("variableName") or "")
        if kind == "RepositoryEnvironment":
            return f"{values['repository']}:{values['environment']}"
        if kind.startswith("ActionsEnvironment"):
            return f"{values['repository']}:{values['environment']}:{name}"
        if kind.startswith("ActionsOrganization"):
            return name
        return f"{values.get('repository')}:{name}"
    if type_.startswith("pulumi:providers:"):
        import uuid

        return str(uuid.uuid4())
    return secrets.token_hex(8)


@dataclass
class StepResult:
    ok: bool
    changes: dict[str, list[str]] = field(default_factory=dict)
    """create / update / replace / delete / same → URNs."""
    error: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)


class Engine:
    """``pulumi up`` / ``destroy`` / ``refresh`` of one stack against the world.

    Pulumi's model (pulumi/pulumi pkg/resource/deploy/step_generator.go): each registration is matched to the state by
    URN; a new URN is a create, a changed input an update (or a replace where the provider says so), an unchanged one a
    same; a URN in the state that the program no longer registers is a delete, and deletes run in reverse dependency
    order (``GenerateDeletes`` / ``ScheduleDeletes``). A resource with ``retainOnDelete`` is dropped from the state
    without deleting the real object. Inputs under ``ignoreChanges`` keep their old value (``processIgnoreChanges``).
    Each resource's provider is configured from its provider resource's inputs: an explicit provider's, or the
    default provider's, which are the stack's config of that package's namespace.
    """

    def __init__(self, world: World, env: Mapping[str, str]) -> None:
        self.world = world
        self.env = dict(env)

    # --- provider configuration --------------------------------------------------------------------------------------

    def _provider_inputs(self, ref: str, providers: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
        return unwrap(providers.get(ref, {}))  # type: ignore[no-any-return]

    def _kube(self, provider: Mapping[str, Any]) -> Cluster:
        kubeconfig = provider.get("kubeconfig")
        text: str | None = None
        if isinstance(kubeconfig, str) and kubeconfig:
            # pulumi-kubernetes accepts the kubeconfig's contents or a path to it (provider.go ``Configure``).
            text = kubeconfig if "\n" in kubeconfig or kubeconfig.lstrip().startswith("{") else _read(kubeconfig)
        else:
            # No kubeconfig input: the ambient configuration, $KUBECONFIG or ~/.kube/config (client-go clientcmd rules).
            path = self.env.get("KUBECONFIG") or (str(Path(self.env.get("HOME", "/nonexistent")) / ".kube" / "config"))
            text = _read(path)
        return self.world.kube_access(text)

    def _k8s_flag(self, provider: Mapping[str, Any], key: str, variable: str, *, default: bool = False) -> bool:
        """A pulumi-kubernetes boolean flag as ``Configure`` reads it (secret_chain.pulumi_rules.provider_flag_enabled),
        with its default when neither the config nor the variable exists."""
        value = provider.get(key)
        config = None if value is None else str(value).lower()
        if config is None and self.env.get(variable) is None:
            return default
        return provider_flag_enabled(config, self.env.get(variable))

    def _github(self, provider: Mapping[str, Any]) -> tuple[str, str]:
        """(owner, token): terraform-provider-github ``github/provider.go``: ``token`` defaults to ``GITHUB_TOKEN``,
        ``owner`` to ``GITHUB_OWNER``; a write with no or an unknown token is 401 Bad credentials."""
        token = str(provider.get("token") or self.env.get("GITHUB_TOKEN") or "")
        owner = str(provider.get("owner") or self.env.get("GITHUB_OWNER") or "")
        if token not in self.world.github.tokens:
            raise WorldError("GitHub", "401 Bad credentials (github:token)", status="401")
        allowed = self.world.github.tokens[token]
        if not owner:
            owner = allowed  # no owner: the token's own account
        if owner != allowed:
            raise WorldError("GitHub", f"403 Resource not accessible: the token cannot write to {owner}", status="403")
        return owner, token

    def _cloud(self, provider: Mapping[str, Any], org: str) -> None:
        token = provider.get("accessToken") or self.env.get("PULUMI_ACCESS_TOKEN")
        self.world.cloud.check_token(str(token or ""), org, self.world.now)

    # --- applying one step -------------------------------------------------------------------------------------------

    def _apply(self, op: str, res: StateResource, provider: Mapping[str, Any], stack: StackState, old: StateResource | None = None) -> None:
        """Create, update or delete ``res`` in the world (``op``); sets ``res.world_ref`` / ``res.observed``."""
        owner = stack.fqn
        package = res.type.split(":", 1)[0]
        inputs = unwrap(res.inputs)
        if op == "create" and res.custom:
            res.id = resource_id(res.type, inputs)
        if package == "pulumi" or package == "random" or not res.custom:
            return  # providers, components and random values live in the state only
        if package == "kubernetes":
            cluster = self._kube(provider)
            if op == "create":
                annotations = (inputs.get("metadata") or {}).get("annotations") or {}
                # provider.go ``Configure``: enableServerSideApply (default on), upsertExistingObjects and
                # enablePatchForce, each from the provider's config, else its PULUMI_K8S_* variable; await.go
                # ``patchForce``: the pulumi.com/patchForce annotation forces too.
                ssa = self._k8s_flag(provider, "enableServerSideApply", "PULUMI_K8S_ENABLE_SERVER_SIDE_APPLY", default=True)
                upsert = ssa and self._k8s_flag(provider, "upsertExistingObjects", "PULUMI_K8S_UPSERT_EXISTING_OBJECTS")
                force = annotations.get("pulumi.com/patchForce") == "true" or self._k8s_flag(
                    provider, "enablePatchForce", "PULUMI_K8S_ENABLE_PATCH_FORCE"
                )
                res.world_ref = (cluster.name, *cluster.create(inputs, owner, self.world, upsert=upsert, force=force))
            elif op == "update":
                assert old is not None
                cluster.update(tuple(old.world_ref[1:]), inputs, owner, self.world)
                res.world_ref = old.world_ref
            else:
                cluster.delete(tuple(res.world_ref[1:]), owner, self.world)
            if op != "delete":
                res.observed = copy.deepcopy(cluster.objects[tuple(res.world_ref[1:])].manifest)
            return
        if package == "github":
            self._apply_github(op, res, inputs, provider, owner)
            return
        if package == "pulumiservice":
            self._apply_service(op, res, inputs, provider, owner)
            return
        raise WorldError("world", f"no world rule for resource type {res.type}")

    def _apply_github(self, op: str, res: StateResource, inputs: dict[str, Any], provider: Mapping[str, Any], owner: str) -> None:
        account, _ = self._github(provider)
        gh = self.world.github
        kind_name = res.type.rsplit(":", 1)[1]
        if kind_name == "RepositoryEnvironment":
            repo = f"{account}/{inputs['repository']}"
            res.world_ref = ("environment", repo, str(inputs["environment"]))
            if op == "delete":
                gh.delete_environment(repo, res.world_ref[2], owner, self.world)
            else:
                gh.put_environment(repo, res.world_ref[2], owner, self.world)
                res.observed = owner
            return
        match = re.fullmatch(r"Actions(Environment|Organization)?(Secret|Variable)", kind_name)
        if match is None:
            raise WorldError("world", f"no world rule for resource type {res.type}")
        level, kind = match.group(1) or "", match.group(2).lower()
        name = str(inputs.get(f"{kind}Name"))
        scope: tuple[str, ...]
        if level == "Environment":
            scope = ("env", f"{account}/{inputs['repository']}", str(inputs["environment"]))
        elif level == "Organization":
            scope = ("org", account)
        else:
            scope = ("repo", f"{account}/{inputs['repository']}")
        value = str(inputs.get("value") if inputs.get("plaintextValue") is None else inputs.get("plaintextValue"))
        res.world_ref = (kind, scope, name)
        if op == "delete":
            gh.delete_entry(kind, scope, name, owner, self.world)
            return
        if kind == "secret":
            gh.put_secret(scope, name, value, owner, self.world)
            res.observed = gh.secrets[(scope, name.upper())].updated_at
        elif op == "create":
            gh.create_variable(scope, name, value, owner, self.world)
            res.observed = value
        else:
            gh.update_variable(scope, name, value, owner, self.world)
            res.observed = value

    def _apply_service(self, op: str, res: StateResource, inputs: dict[str, Any], provider: Mapping[str, Any], owner: str) -> None:
        org = str(inputs.get("organization"))
        self._cloud(provider, org)
        kind_name = res.type.rsplit(":", 1)[1]
        if kind_name == "Environment":
            ref = f"{org}/{inputs['project']}/{inputs['name']}"
            res.world_ref = ("esc", ref)
            if op == "create":
                self.world.esc.create(ref, str(inputs["yaml"]["asset"]))
            elif op == "delete":
                self.world.esc.definitions.pop(ref, None)
            # update: the yaml input is ignore_changes (components/secret_chain/bootstrap.py); nothing else changes in place
            return
        if kind_name == "OidcIssuer":
            key = (org, str(inputs["name"]))
            res.world_ref = ("oidc", *key)
            if op == "delete":
                self.world.cloud.issuers.pop(key, None)
                return
            current = self.world.cloud.issuers.get(key)
            if op == "create" and current is not None:
                raise WorldError("Pulumi Cloud", f"409 Conflict: OIDC issuer {key[1]} already exists")
            self.world.cloud.issuers[key] = OidcIssuer(
                org, str(inputs["url"]), list(inputs.get("policies") or []), int(inputs.get("maxExpirationSeconds") or 7200), owner
            )
            return
        raise WorldError("world", f"no world rule for resource type {res.type}")

    # --- diff --------------------------------------------------------------------------------------------------------

    @staticmethod
    def _replaces(old: StateResource, new: StateResource, provider: Mapping[str, Any], env: Mapping[str, str]) -> bool:
        """Whether a change replaces the resource instead of updating it in place (the provider's Diff).

        pulumi-kubernetes provider/pkg/provider/diff.go ``forceNewProperties``: a changed ``metadata.name`` /
        ``namespace``, ``kind``/group, and for a Secret its ``type`` and ``immutable``, and its ``data``/``stringData``
        unless ``enableSecretMutable`` (provider.go; secret_chain.pulumi_rules.provider_flag_enabled).
        terraform-provider-github: ``variable_name``/``secret_name``, ``environment`` (and a secret's ``repository``) are
        ``ForceNew`` (resource_github_actions_*.go).
        """
        a, b = unwrap(old.inputs), unwrap(new.inputs)
        if old.type != new.type:
            return True
        if new.type.startswith("kubernetes:"):
            if object_key(a) != object_key(b):
                return True
            if new.type.endswith(":Secret"):
                if a.get("type") != b.get("type") or a.get("immutable") != b.get("immutable"):
                    return True
                mutable = provider_flag_enabled(
                    None if provider.get("enableSecretMutable") is None else str(provider.get("enableSecretMutable")).lower(),
                    env.get("PULUMI_K8S_ENABLE_SECRET_MUTABLE"),
                )
                if not mutable and (a.get("data") != b.get("data") or a.get("stringData") != b.get("stringData")):
                    return True
            return False
        if new.type.startswith("github:"):
            return any(a.get(k) != b.get(k) for k in ("variableName", "secretName", "environment") if k in a or k in b)
        if new.type.startswith("pulumiservice:"):
            return any(a.get(k) != b.get(k) for k in ("organization", "project", "name"))
        return False

    @staticmethod
    def _delete_before_replace(old: StateResource, new: StateResource) -> bool:
        """Whether the provider asks for delete-before-replace (its Diff's ``DeleteBeforeReplace``).

        pulumi-kubernetes provider/pkg/provider/provider.go ``Diff``: only when the object keeps its name and namespace
        ("the new version of that object MUST have the same name"); an object whose name or namespace changes is
        replaced create-before-delete. Other providers' replacements keep the world's earlier rule, delete-first (not
        checked against their Diff).
        """
        if not new.type.startswith("kubernetes:"):
            return True
        a, b = unwrap(old.inputs), unwrap(new.inputs)
        return object_key(a)[1:] == object_key(b)[1:]

    # --- operations --------------------------------------------------------------------------------------------------

    def up(
        self,
        stack: StackState,
        evaluation: Any,
        *,
        config: Mapping[str, str],
    ) -> StepResult:
        """Apply one evaluation (:class:`secret_chain.ops.offline.Evaluation`) of the program to the world and the state."""
        result = StepResult(ok=True, changes={k: [] for k in ("create", "update", "replace", "delete", "same")})
        now = iso(self.world.now)
        project, name = stack.project, stack.name
        regs = [r for r in evaluation.registrations]
        new_urns = {r.urn for r in regs}
        providers: dict[str, dict[str, Any]] = {}
        for package in PROVIDER_PACKAGES:
            providers[default_provider_urn(name, project, package)] = {
                k.split(":", 1)[1]: v for k, v in config.items() if k.split(":", 1)[0] == package
            }
        for reg in regs:
            if reg.type.startswith("pulumi:providers:"):
                providers[reg.urn] = reg.inputs
        order: list[str] = []
        # Default providers first: they are resources of the state too (without a world effect).
        for package in PROVIDER_PACKAGES:
            urn = default_provider_urn(name, project, package)
            if any(r.custom and not r.provider and r.type.startswith(package + ":") for r in regs):
                before = stack.resources.get(urn)
                stack.resources[urn] = StateResource(
                    urn, f"pulumi:providers:{package}", True, providers[urn], "", (), "", False, now, now,
                    id=before.id if before else resource_id(f"pulumi:providers:{package}", {}),
                )  # fmt: skip
                order.append(urn)
        previous = dict(stack.resources)
        replaced: list[str] = []
        try:
            for reg in regs:
                package = reg.type.split(":", 1)[0]
                provider_ref = reg.provider.rsplit("::", 1)[0] if reg.provider else ""
                if reg.custom and not provider_ref and package != "pulumi":
                    provider_ref = default_provider_urn(name, project, package)
                inputs = dict(reg.inputs)
                old = stack.resources.get(reg.urn)
                if old is not None:
                    for path in reg.ignore_changes:
                        if path in old.inputs:
                            inputs[path] = old.inputs[path]
                new = StateResource(
                    reg.urn,
                    reg.type,
                    reg.custom,
                    inputs,
                    reg.parent,
                    tuple(reg.dependencies),
                    provider_ref,
                    reg.retain_on_delete,
                    old.created if old else now,
                    old.modified if old else now,
                    old.world_ref if old else (),
                    old.observed if old else None,
                    old.id if old else "",
                )
                provider = self._provider_inputs(provider_ref, providers)
                if old is None:
                    self._apply("create", new, provider, stack)
                    result.changes["create"].append(reg.urn)
                elif unwrap(old.inputs) == unwrap(new.inputs) and old.type == new.type:
                    result.changes["same"].append(reg.urn)
                elif self._replaces(old, new, provider, self.env):
                    new.world_ref, new.observed = (), None
                    if reg.delete_before_replace or self._delete_before_replace(old, new):
                        # The old object goes first, then the new one is created (a DeleteStep then a create; the
                        # delete does nothing where the OLD state retains it: step.go ``DeleteStep.Apply``).
                        if not old.retain_on_delete:
                            self._apply("delete", old, self._provider_inputs(old.provider, providers), stack)
                        self._apply("create", new, provider, stack)
                    else:
                        # Create-before-delete, the engine's default (pulumi/pulumi pkg/resource/deploy/
                        # step_generator.go: CreateReplacementStep and ReplaceStep now; "the delete step is generated
                        # 'later' on, after all creates/updates finish", in ``GenerateDeletes``).
                        self._apply("create", new, provider, stack)
                        replaced.append(reg.urn)
                    new.modified = now
                    result.changes["replace"].append(reg.urn)
                else:
                    self._apply("update", new, provider, stack, old)
                    new.modified = now
                    result.changes["update"].append(reg.urn)
                stack.resources[reg.urn] = new
                order.append(reg.urn)
            # Deletes (step_generator.go ``GenerateDeletes``, scheduled by ``ScheduleDeletes``): the old resources that
            # were replaced create-before-delete, and what the program no longer registers, in reverse order of the
            # previous state (dependents first). A delete calls the provider unless the OLD state's resource has
            # retainOnDelete (pkg/resource/deploy/step.go ``DeleteStep.Apply``: ``s.old.RetainOnDelete``).
            gone = [urn for urn in stack.resources if urn not in new_urns and urn not in order]
            configs = {**{u: r.inputs for u, r in previous.items()}, **{u: r.inputs for u, r in stack.resources.items()}, **providers}
            for urn in delete_order(previous, [*replaced, *gone]):
                res = previous[urn]
                if not res.retain_on_delete:
                    self._apply("delete", res, self._provider_inputs(res.provider, configs), stack)
                if urn in gone:
                    del stack.resources[urn]
                    result.changes["delete"].append(urn)
        except WorldError as err:
            result.ok, result.error = False, str(err)
            # What was applied stays in the state (Pulumi checkpoints every step); the rest is as before.
            return result
        stack.resources = {urn: stack.resources[urn] for urn in order if urn in stack.resources}
        stack.outputs = dict(evaluation.stack_outputs)
        result.outputs = stack.outputs
        return result

    def destroy(self, stack: StackState, providers_from_program: Mapping[str, dict[str, Any]] | None = None) -> StepResult:
        """Delete every resource of the state, dependents first.

        Providers are configured from the inputs stored in the state (pulumi/pulumi pkg/cmd/pulumi/operations/
        destroy.go: ``pulumi destroy`` does not run the program unless ``--run-program``; pulumi/pulumi#19044), so a
        kubeconfig stored when the stack was last updated is what reaches the cluster. With ``--run-program`` the
        program's providers (``providers_from_program``) are used instead.
        """
        result = StepResult(ok=True, changes={"delete": []})
        providers = {urn: r.inputs for urn, r in stack.resources.items() if r.type.startswith("pulumi:providers:")}
        providers.update(providers_from_program or {})
        try:
            for urn in delete_order(stack.resources, list(stack.resources)):
                res = stack.resources[urn]
                if not res.retain_on_delete:
                    self._apply("delete", res, self._provider_inputs(res.provider, providers), stack)
                del stack.resources[urn]
                result.changes["delete"].append(urn)
        except WorldError as err:
            result.ok, result.error = False, str(err)
            return result
        stack.outputs = {}
        return result

    def refresh(self, stack: StackState, providers_from_program: Mapping[str, dict[str, Any]] | None = None) -> StepResult:
        """Read every resource back from the world (providers configured as in :meth:`destroy`); report what differs.

        A Kubernetes object is read live (provider.go ``Read``; an unreachable cluster fails). A GitHub variable's value
        is read; a secret's value cannot be, so drift is its ``updated_at`` changing (terraform-provider-github
        resource_github_actions_secret.go ``Read``: "This is a drift detection mechanism based on timestamps").
        """
        result = StepResult(ok=True, changes={"update": [], "delete": [], "same": []})
        providers = {urn: r.inputs for urn, r in stack.resources.items() if r.type.startswith("pulumi:providers:")}
        providers.update(providers_from_program or {})
        try:
            for urn, res in stack.resources.items():
                if not res.custom or res.type.startswith(("pulumi:", "random:")):
                    continue
                provider = self._provider_inputs(res.provider, providers)
                live: Any
                if res.type.startswith("kubernetes:"):
                    cluster = self._kube(provider)
                    obj = cluster.objects.get(tuple(res.world_ref[1:]))
                    live = None if obj is None else obj.manifest
                elif res.type.startswith("github:"):
                    self._github(provider)
                    if res.world_ref[0] == "environment":
                        live = self.world.github.environments.get((res.world_ref[1], res.world_ref[2]))
                    else:
                        table = self.world.github.secrets if res.world_ref[0] == "secret" else self.world.github.variables
                        entry = table.get((res.world_ref[1], str(res.world_ref[2]).upper()))
                        live = None if entry is None else (entry.updated_at if res.world_ref[0] == "secret" else entry.value)
                elif res.type.startswith("pulumiservice:"):
                    self._cloud(provider, str(unwrap(res.inputs).get("organization")))
                    live = res.observed
                else:
                    raise WorldError("world", f"no world rule for refreshing {res.type}")
                if live is None:
                    result.changes["delete"].append(urn)
                elif live != res.observed:
                    result.changes["update"].append(urn)
                else:
                    result.changes["same"].append(urn)
        except WorldError as err:
            result.ok, result.error = False, str(err)
        return result


def delete_order(resources: Mapping[str, StateResource], urns: list[str]) -> list[str]:
    """``urns`` ordered so that every resource is deleted before what it depends on (its dependencies, its parent and its
    provider): the reverse of a topological order of the state (pulumi/pulumi pkg/resource/deploy/step_generator.go
    ``ScheduleDeletes``: "deletes must be done in reverse dependency order")."""
    wanted = set(urns)
    ordered: list[str] = []
    seen: set[str] = set()

    def visit(urn: str) -> None:
        if urn in seen or urn not in resources:
            return
        seen.add(urn)
        res = resources[urn]
        for dep in (*res.dependencies, res.parent, res.provider):
            visit(dep)
        ordered.append(urn)

    for urn in resources:
        visit(urn)
    return [urn for urn in reversed(ordered) if urn in wanted]


@dataclass(frozen=True)
class StateAsset:
    """A text asset read back from an exported state (``unwrap`` gives ``{"asset": text}`` as for the SDK's assets)."""

    text: str


def verify_integrity(resources: list[dict[str, Any]]) -> None:
    """A port of the reference checks of pulumi/pulumi pkg/resource/deploy/snapshot.go ``Snapshot.VerifyIntegrity``
    (the magic cookie and snippets aside): every resource has a URN and a type; a component has no ID; a resource's
    provider reference names a provider earlier in the snapshot; its parent, dependencies, property dependencies,
    ``deletedWith`` and ``replaceWith`` name resources earlier in it; a URN appears twice only where all, or all but one,
    of its entries are marked ``delete``. Raises ``ValueError`` with the function's own message."""
    urns: dict[str, list[dict[str, Any]]] = {}
    providers: set[str] = set()
    for i, res in enumerate(resources):
        urn = str(res.get("urn") or "")
        if not urn:
            raise ValueError(f"resource at index {i} missing required 'urn' field")
        if not res.get("type"):
            raise ValueError(f"resource '{urn}' missing required 'type' field")
        if not res.get("custom") and res.get("id"):
            raise ValueError(f"resource '{urn}' has 'custom false but non-empty ID")
        if str(res["type"]).startswith("pulumi:providers:"):
            providers.add(f"{urn}::{res.get('id', '')}")
        provider = str(res.get("provider") or "")
        if provider and provider not in providers and not res.get("pendingReplacement"):
            raise ValueError(f"resource {urn} refers to unknown provider {provider}")
        later = {str(other.get("urn")) for other in resources[i + 1 :]}
        references: list[tuple[str, str, str]] = []
        if res.get("parent"):
            references.append(("parent", str(res["parent"]), ""))
        references += [("dependency", str(d), "") for d in res.get("dependencies") or []]
        references += [("property", str(d), key) for key, deps in (res.get("propertyDependencies") or {}).items() for d in deps]
        if res.get("deletedWith"):
            references.append(("deletedWith", str(res["deletedWith"]), ""))
        references += [("replaceWith", str(d), "") for d in res.get("replaceWith") or []]
        for kind, ref, key in references:
            if ref in urns:
                continue
            after = ref in later
            where = "comes after it" if after else "refers to missing resource"
            if kind == "parent":
                missing = f"child resource {urn} refers to missing parent {ref}"
                raise ValueError(f"child resource {urn}'s parent {ref} comes after it" if after else missing)
            if kind == "dependency":
                raise ValueError(f"resource {urn}'s dependency {ref} {where}")
            if kind == "property":
                raise ValueError(f"resource {urn}'s property dependency {ref} (from property {key}) {where}")
            verb = "deleted" if kind == "deletedWith" else "replaced"
            raise ValueError(f"resource {urn} is specified as being {verb} with {ref}, " + ("which comes after it" if after else "which is missing"))
        urns.setdefault(urn, []).append(res)
    for urn, states in urns.items():
        deletes = sum(1 for state in states if state.get("delete"))
        if len(states) > 1 and deletes not in (len(states) - 1, len(states)):
            raise ValueError(f"duplicate resource {urn} (not marked for deletion)")


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


# --------------------------------------------------------------------------------------------------------------------
# The `pulumi` stand-in: stack files, config, ESC, and the engine
# --------------------------------------------------------------------------------------------------------------------


class CliError(Exception):
    def __init__(self, message: str, code: int = 255) -> None:
        super().__init__(message)
        self.code = code


def _project_dir(cwd: Path) -> Path:
    for directory in (cwd, *cwd.parents):
        if (directory / "Pulumi.yaml").exists():
            return directory
    raise CliError("no Pulumi.yaml project file found (searching upwards from " + str(cwd) + ")")


@dataclass
class Workspace:
    """The project directory the CLI runs in: Pulumi.yaml, the stack files, the selected stack."""

    root: Path

    @property
    def project(self) -> dict[str, Any]:
        document = yaml.safe_load((self.root / "Pulumi.yaml").read_text())
        assert isinstance(document, dict)
        return document

    @property
    def name(self) -> str:
        return str(self.project["name"])

    def stack_file(self, stack: str) -> Path:
        """``Pulumi.<stack>.yaml`` in ``stackConfigDir`` (pulumi/pulumi sdk/go/common/workspace/project.go)."""
        return self.root / str(self.project.get("stackConfigDir") or ".") / f"Pulumi.{stack}.yaml"

    def read_stack(self, stack: str) -> dict[str, Any]:
        path = self.stack_file(stack)
        if not path.exists():
            return {}
        document = yaml.safe_load(path.read_text()) or {}
        assert isinstance(document, dict)
        return document

    def write_stack(self, stack: str, document: dict[str, Any]) -> None:
        self.stack_file(stack).write_text(yaml.safe_dump(document, sort_keys=False))

    def selected(self) -> str | None:
        path = self.root / ".pulumi" / "selected-stack"
        return path.read_text().strip() if path.exists() else None

    def select(self, fqn: str) -> None:
        (self.root / ".pulumi").mkdir(exist_ok=True)
        (self.root / ".pulumi" / "selected-stack").write_text(fqn)


def _fqn(text: str, workspace: Workspace, default_org: str | None) -> str:
    """``<org>/<project>/<stack>`` of a stack reference (``stack``, ``org/stack`` or ``org/project/stack``)."""
    parts = text.split("/")
    if len(parts) == 3:
        return text
    if len(parts) == 2:
        return f"{parts[0]}/{workspace.name}/{parts[1]}"
    if default_org is None:
        raise CliError(f"stack {text}: name the organisation (<org>/{text})")
    return f"{default_org}/{workspace.name}/{text}"


def _token_org(world: World, env: Mapping[str, str]) -> str | None:
    entry = world.cloud.tokens.get(env.get("PULUMI_ACCESS_TOKEN", ""))
    return entry[0] if entry else None


def _encrypt(value: str) -> str:
    return "v1:" + base64.b64encode(value.encode()).decode()


def _decrypt(value: str) -> str:
    return base64.b64decode(value.removeprefix("v1:")).decode()


class PulumiCli:
    """The subcommands of the Pulumi CLI the workflows and the README use, against the world."""

    def __init__(self, world: World, cwd: Path, env: Mapping[str, str], out: Callable[[str], None], err: Callable[[str], None]) -> None:
        self.world = world
        self.cwd = cwd
        self.env = dict(env)
        self.out = out
        self.err = err

    # --- helpers -----------------------------------------------------------------------------------------------------

    def _workspace(self) -> Workspace:
        return Workspace(_project_dir(self.cwd))

    def _stack(self, opts: dict[str, Any], ws: Workspace, *, must_exist: bool = True) -> StackState:
        ref = opts.get("stack") or ws.selected()
        if not ref:
            raise CliError("no stack selected; use `pulumi stack select` or pass --stack")
        fqn = _fqn(str(ref), ws, _token_org(self.world, self.env))
        org = fqn.split("/", 1)[0]
        self.world.cloud.check_token(self.env.get("PULUMI_ACCESS_TOKEN"), org, self.world.now)
        stack = self.world.cloud.stacks.get(fqn)
        if stack is None:
            raise CliError(f"no stack named '{fqn}' found")
        return stack

    def config_of(self, stack: StackState, ws: Workspace) -> dict[str, tuple[Any, bool]]:
        """The stack's configuration: its ESC environments' ``pulumiConfig``, then its stack file's ``config`` over them.

        Pulumi docs, ESC "Use with Pulumi IaC": "If a value is set in both the environment and the stack's
        configuration file, the stack configuration takes precedence." A stack file's ``secure:`` value is decrypted.
        """
        document = ws.read_stack(stack.name)
        refs = []
        for item in document.get("environment") or []:
            parsed = parse_env_ref(str(item))
            refs.append(f"{parsed.org or stack.org}/{parsed.project}/{parsed.env}")
        config = self.world.esc.pulumi_config(refs)
        for key, value in (document.get("config") or {}).items():
            if isinstance(value, dict) and set(value) == {"secure"}:
                config[key] = (_decrypt(str(value["secure"])), True)
            else:
                config[key] = (value, False)
        return config

    @staticmethod
    def flat(config: Mapping[str, tuple[Any, bool]]) -> tuple[dict[str, str], list[str]]:
        """What the language host hands the program: strings, structured values as JSON text (pulumi/pulumi
        sdk/go/common/resource/config: ``Value.ToObject`` / the engine's ``PULUMI_CONFIG``), and the secret keys."""
        flat: dict[str, str] = {}
        secret: list[str] = []
        for key, (value, is_secret_) in config.items():
            if isinstance(value, str):
                flat[key] = value
            elif isinstance(value, bool):
                flat[key] = "true" if value else "false"
            elif isinstance(value, (int, float)):
                flat[key] = str(value)
            else:
                flat[key] = json.dumps(value)
            if is_secret_:
                secret.append(key)
        return flat, secret

    def evaluate(self, stack: StackState, ws: Workspace, *, preview: bool = False) -> tuple[Any, dict[str, str]]:
        """Run the workspace's stack program on the mock runtime with the stack's config; invokes answered by the world."""
        from secret_chain.ops import offline

        config, secret_keys = self.flat(self.config_of(stack, ws))
        program = _load_program(ws.root)
        org = stack.org

        def with_organization() -> None:
            # The engine tells the program its organisation (pulumi.get_organization); the mock runtime does not.
            from pulumi.runtime.settings import SETTINGS

            SETTINGS.organization = org
            program()

        evaluation = offline.evaluate(
            with_organization,
            config=config,
            secret_keys=secret_keys,
            stack=stack.name,
            project=stack.project,
            preview=preview,
            preview_unknowns=False,
            invokes=self.world.invokes(config, self.env),
        )
        return evaluation, config

    # --- commands ----------------------------------------------------------------------------------------------------

    def run(self, argv: list[str]) -> int:
        try:
            return self._dispatch(argv)
        except (CliError, WorldError) as err:
            self.err(f"error: {err}")
            return err.code if isinstance(err, CliError) else 255

    def _dispatch(self, argv: list[str]) -> int:
        words, opts = _parse_args(argv)
        if words[:2] == ["stack", "select"]:
            return self.stack_select(words[2:], opts)
        if words[:2] == ["stack", "rm"]:
            return self.stack_rm(words[2:], opts)
        if words[:2] == ["stack", "output"]:
            return self.stack_output(words[2:], opts)
        if words[:2] == ["stack", "export"]:
            return self.stack_export(opts)
        if words[:2] == ["stack", "import"]:
            return self.stack_import(opts)
        if words[:3] == ["config", "env", "add"]:
            return self.config_env_add(words[3:], opts)
        if words[:2] == ["config", "set"]:
            return self.config_set(words[2:], opts)
        if words == ["config"]:
            return self.config_show(opts)
        if words[:2] == ["config", "get"] and len(words) == 3:
            return self.config_get(words[2], opts)
        if words[:1] in (["up"], ["update"]):
            return self.up(opts)
        if words[:1] == ["preview"]:
            return self.preview(opts)
        if words[:1] == ["destroy"]:
            return self.destroy(opts)
        if words[:1] == ["refresh"]:
            return self.refresh(opts)
        if words[:2] == ["env", "open"]:
            return self.env_open(words[2:], opts)
        if words[:2] == ["env", "set"]:
            return self.env_set(words[2:], opts)
        if words[:2] == ["env", "rm"] and len(words) == 4:
            self.world.esc.remove(self._env_ref(words[2]), words[3])
            return 0
        raise CliError(f"the pulumi stand-in does not simulate `pulumi {' '.join(argv)}`")

    def stack_select(self, words: list[str], opts: dict[str, Any]) -> int:
        ws = self._workspace()
        ref = words[0] if words else opts.get("stack")
        if not ref:
            raise CliError("pulumi stack select needs a stack name here")
        fqn = _fqn(str(ref), ws, _token_org(self.world, self.env))
        org, project, name = fqn.split("/")
        self.world.cloud.check_token(self.env.get("PULUMI_ACCESS_TOKEN"), org, self.world.now)
        if fqn not in self.world.cloud.stacks:
            if not opts.get("create"):
                raise CliError(f"no stack named '{fqn}' found")
            self.world.cloud.stacks[fqn] = StackState(org, project, name)
            self.out(f"Created stack '{name}'")
        ws.select(fqn)
        return 0

    def stack_rm(self, words: list[str], opts: dict[str, Any]) -> int:
        """``pulumi stack rm``: refused while the stack has resources unless --force (pulumi/pulumi
        pkg/cmd/pulumi/stack/stack_rm.go: "'<stack>' still has resources; removal rejected"); the stack file goes too."""
        ws = self._workspace()
        if words:
            opts = {**opts, "stack": words[0]}
        stack = self._stack(opts, ws)
        if any(r.custom for r in stack.resources.values()) and not opts.get("force"):
            raise CliError(
                f"'{stack.name}' still has resources; removal rejected. Possible actions:\n"
                f"- Make sure that '{stack.name}' is the stack that you want to destroy\n"
                "- Run `pulumi destroy` to delete the resources, then run `pulumi stack rm`"
            )
        del self.world.cloud.stacks[stack.fqn]
        if not opts.get("preserve-config"):
            ws.stack_file(stack.name).unlink(missing_ok=True)
        self.out(f"Stack '{stack.name}' has been removed!")
        return 0

    def config_env_add(self, words: list[str], opts: dict[str, Any]) -> int:
        """Append environments to the stack file's ``environment:`` list; each must exist (pulumi/pulumi
        pkg/cmd/pulumi/config/config_env_add.go checks the environment, then writes the stack file)."""
        ws = self._workspace()
        stack = self._stack(opts, ws)
        document = ws.read_stack(stack.name)
        listed = list(document.get("environment") or [])
        for ref in words:
            parsed = parse_env_ref(ref)
            self.world.esc._ref(f"{parsed.org or stack.org}/{parsed.project}/{parsed.env}")
            if ref not in listed:
                listed.append(ref)
        document = {"environment": listed, **{k: v for k, v in document.items() if k != "environment"}}
        ws.write_stack(stack.name, document)
        return 0

    def config_set(self, words: list[str], opts: dict[str, Any]) -> int:
        """``pulumi config set <key> <value> [--secret] [--path]`` into the stack file (Pulumi docs, "Configuration")."""
        ws = self._workspace()
        stack = self._stack(opts, ws)
        if len(words) != 2:
            raise CliError("pulumi config set takes a key and a value here")
        key_text, value = words
        document = ws.read_stack(stack.name)
        config = dict(document.get("config") or {})
        stored: Any = {"secure": _encrypt(value)} if opts.get("secret") else value
        try:
            if opts.get("path"):
                key, path = parse_key_path(key_text)
                name = f"{key.namespace}:{key.name}"
                config[name] = yaml_set(copy.deepcopy(config.get(name, EMPTY_NODE)), [], path[1:], stored)
            else:
                from secret_chain.pulumi_rules import parse_key

                parse_key(key_text)
                config[key_text] = stored
        except RuleError as err:
            raise CliError(str(err)) from None
        document["config"] = config
        ws.write_stack(stack.name, document)
        return 0

    def config_show(self, opts: dict[str, Any]) -> int:
        """``pulumi config --json [--show-secrets]`` (pulumi/pulumi pkg/cmd/pulumi/config/config.go ``configValueJSON``):
        each key → ``{"value": <string>, "objectValue": <JSON of a structured value>, "secret": <bool>}``."""
        ws = self._workspace()
        stack = self._stack(opts, ws)
        config = self.config_of(stack, ws)
        flat, secret_keys = self.flat(config)
        if not opts.get("json"):
            raise CliError("the stand-in prints config only with --json")
        document: dict[str, Any] = {}
        for key in sorted(flat):
            shown = opts.get("show-secrets") or key not in secret_keys
            entry: dict[str, Any] = {"value": flat[key] if shown else "[secret]", "secret": key in secret_keys}
            if not isinstance(config[key][0], str) and shown:
                entry["objectValue"] = config[key][0]
            document[key] = entry
        self.out(json.dumps(document, indent=4))
        return 0

    def config_get(self, key: str, opts: dict[str, Any]) -> int:
        """``pulumi config get <key>``: one value of the stack file over its opened environments (``--open`` is on by
        default), printed decrypted; an absent key is an error (pulumi/pulumi pkg/cmd/pulumi/config/config.go
        ``getConfig``: "configuration key '<key>' not found for stack '<stack>'")."""
        ws = self._workspace()
        stack = self._stack(opts, ws)
        flat, _ = self.flat(self.config_of(stack, ws))
        if key not in flat:
            raise CliError(f"configuration key '{key}' not found for stack '{stack.fqn}'")
        self.out(flat[key])
        return 0

    def _ensure_login(self, stack: StackState) -> None:
        self.world.cloud.check_token(self.env.get("PULUMI_ACCESS_TOKEN"), stack.org, self.world.now)

    def _policies(self, opts: dict[str, Any], evaluation: Any, operation: str) -> bool:
        """``--policy-pack <dir>`` (relative to the working directory): the local pack's policies over the program's
        registrations (tests/policy_analysis.py); False when a mandatory policy is violated ("error: <operation>
        failed", as the CLI ends then)."""
        if not opts.get("policy-pack"):
            return True
        from tests.policy_analysis import PolicyPackError, analyze

        try:
            run = analyze((self.cwd / str(opts["policy-pack"])).resolve(), evaluation.registrations)
        except PolicyPackError as err:
            raise CliError(str(err)) from None
        self.out(run.report())
        if run.mandatory:
            self.err(f"error: {operation} failed: {len(run.mandatory)} mandatory policy violation(s) of {run.pack}")
            return False
        return True

    def up(self, opts: dict[str, Any]) -> int:
        ws = self._workspace()
        stack = self._stack(opts, ws)
        try:
            evaluation, config = self.evaluate(stack, ws)
        except WorldError:
            raise
        except Exception as exc:  # the program failed: nothing is applied
            self.err(f"error: Program failed: {exc}")
            return 255
        if not self._policies(opts, evaluation, "update"):  # the world applies nothing then (tests/policy_analysis.py)
            return 255
        result = Engine(self.world, self.env).up(stack, evaluation, config=config)
        self._report("update", result)
        return 0 if result.ok else 255

    def preview(self, opts: dict[str, Any]) -> int:
        ws = self._workspace()
        stack = self._stack(opts, ws)
        try:
            evaluation, _ = self.evaluate(stack, ws, preview=True)
        except WorldError:
            raise
        except Exception as exc:
            self.err(f"error: Program failed: {exc}")
            return 255
        self.out("Previewing update")
        return 0 if self._policies(opts, evaluation, "preview") else 255

    def _run_program(self, stack: StackState, ws: Workspace) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """``--run-program``: (the providers as the program configures them now: its explicit providers, and the
        default ones from the current config; the inputs of the component resources it registers)."""
        evaluation, config = self.evaluate(stack, ws)
        providers: dict[str, dict[str, Any]] = {}
        for package in PROVIDER_PACKAGES:
            providers[default_provider_urn(stack.name, stack.project, package)] = {
                k.split(":", 1)[1]: v for k, v in config.items() if k.split(":", 1)[0] == package
            }
        components: dict[str, dict[str, Any]] = {}
        for reg in evaluation.registrations:
            if reg.type.startswith("pulumi:providers:"):
                providers[reg.urn] = reg.inputs
            elif not reg.custom:
                components[reg.urn] = reg.inputs
        return providers, components

    def destroy(self, opts: dict[str, Any]) -> int:
        ws = self._workspace()
        stack = self._stack(opts, ws)
        providers = self._run_program(stack, ws)[0] if opts.get("run-program") else None
        result = Engine(self.world, self.env).destroy(stack, providers)
        self._report("destroy", result)
        return 0 if result.ok else 255

    def refresh(self, opts: dict[str, Any]) -> int:
        """``pulumi refresh [--preview-only] [--expect-no-changes] [--run-program]``: with --expect-no-changes a refresh
        that finds changes fails (pulumi/pulumi pkg/cmd/pulumi/operations/refresh.go: "no changes were expected but
        changes were proposed")."""
        ws = self._workspace()
        stack = self._stack(opts, ws)
        providers, components = self._run_program(stack, ws) if opts.get("run-program") else (None, None)
        result = Engine(self.world, self.env).refresh(stack, providers)
        self._report("refresh", result)
        if opts.get("event-log"):
            self._write_event_log(Path(str(opts["event-log"])), stack, result, providers, components)
        if not result.ok:
            return 255
        changed = result.changes["update"] + result.changes["delete"]
        if changed and opts.get("expect-no-changes"):
            self.err("error: no changes were expected but changes were proposed")
            return 255
        if not opts.get("preview-only"):
            for urn in result.changes["delete"]:
                stack.resources.pop(urn, None)
        return 0

    def _write_event_log(
        self,
        path: Path,
        stack: StackState,
        result: StepResult,
        providers: Mapping[str, dict[str, Any]] | None,
        components: Mapping[str, dict[str, Any]] | None = None,
    ) -> None:
        """``--event-log``: one engine event per line (pulumi/pulumi sdk/go/common/apitype/events.go ``EngineEvent``).
        A refresh preview reports each refreshed resource in a ``resOutputsEvent`` whose ``metadata.op`` is the
        refresh's result (pkg/engine/update.go ``previewActions.OnResourceStepPost``: ``RefreshStep.ResultOp``);
        with --run-program the providers and component resources the program registers are stepped as in an update
        (pulumi/pulumi docs/architecture/deployment-execution: "Component resources and providers are created and
        updated as if ``up`` had been run"): one whose inputs differ from the state's (a provider's new kubeconfig every
        run) is an ``update``."""
        events: list[dict[str, Any]] = []

        def metadata(op: str, urn: str, *, gone: bool = False) -> dict[str, Any]:
            res = stack.resources[urn]
            state = {"type": res.type, "urn": urn, "custom": res.custom}
            return {"op": op, "urn": urn, "type": res.type, "old": state, "new": None if gone else state}

        for op in ("same", "update", "delete"):
            for urn in result.changes.get(op, []):
                events.append({"resOutputsEvent": {"metadata": metadata(op, urn, gone=op == "delete"), "planning": True}})
        for urn, inputs in {**(providers or {}), **(components or {})}.items():
            if urn in stack.resources:
                op = "same" if unwrap(inputs) == unwrap(stack.resources[urn].inputs) else "update"
                events.append({"resOutputsEvent": {"metadata": metadata(op, urn), "planning": True}})
        with path.open("w") as log:
            for sequence, event in enumerate(events, start=1):
                log.write(json.dumps({"sequence": sequence, "timestamp": int(self.world.now), **event}) + "\n")

    def _report(self, what: str, result: StepResult) -> None:
        for kind, urns in result.changes.items():
            for urn in urns:
                if kind != "same":
                    self.out(f"  {kind} {urn}")
        counts = ", ".join(f"{len(v)} {k}" for k, v in result.changes.items() if v)
        self.out(f"Resources: {counts or 'no changes'}")
        if not result.ok:
            self.err(f"error: {what} failed: {result.error}")

    def stack_output(self, words: list[str], opts: dict[str, Any]) -> int:
        """``pulumi stack output [name] --json [--show-secrets]``: secret outputs print as ``[secret]`` without it."""
        ws = self._workspace()
        stack = self._stack(opts, ws)

        def show(value: Any) -> Any:
            if is_secret(value):
                return show(value["value"]) if opts.get("show-secrets") else "[secret]"
            if isinstance(value, dict):
                return {k: show(v) for k, v in value.items()}
            if isinstance(value, list):
                return [show(v) for v in value]
            return value

        outputs = show(stack.outputs)
        if words:
            if words[0] not in outputs:
                raise CliError(f"current stack does not have output property '{words[0]}'")
            outputs = outputs[words[0]]
        self.out(json.dumps(outputs, indent=2) if opts.get("json") or not isinstance(outputs, str) else outputs)
        return 0

    def stack_export(self, opts: dict[str, Any]) -> int:
        """``pulumi stack export [--show-secrets]``: the deployment, version 3 (pulumi/pulumi sdk/go/common/apitype/
        core.go ``DeploymentV3``, ``ResourceV3``: empty fields left out, ``omitempty``; ``provider`` a reference
        ``<urn>::<id>``). A secret is ``{"4dabf…": "1b47…", "ciphertext": …}``, with --show-secrets ``"plaintext"``: its
        JSON instead (pkg/resource/stack/deployment.go ``SerializePropertyValue``); an asset carries its signature and
        text. The state keeps inputs; they are exported as the outputs too."""
        ws = self._workspace()
        stack = self._stack(opts, ws)
        print_secrets = bool(opts.get("show-secrets"))

        def encode(value: Any) -> Any:
            if is_secret(value):
                text = json.dumps(unwrap(value))
                return {SIG_KEY: SECRET_SIG, **({"plaintext": text} if print_secrets else {"ciphertext": _encrypt(text)})}
            if hasattr(value, "text") and type(value).__name__.endswith("Asset"):
                return {SIG_KEY: ASSET_SIG, "text": str(value.text)}
            if isinstance(value, dict):
                return {k: encode(v) for k, v in value.items()}
            if isinstance(value, list):
                return [encode(v) for v in value]
            return value

        resources = []
        for r in stack.resources.values():
            provider = stack.resources.get(r.provider)
            entry: dict[str, Any] = {
                "urn": r.urn,
                "custom": r.custom,
                "id": r.id if r.custom else "",
                "type": r.type,
                "inputs": encode(r.inputs),
                "outputs": encode(r.inputs),
                "parent": r.parent,
                "dependencies": list(r.dependencies),
                "provider": f"{r.provider}::{provider.id}" if provider is not None else "",
                "retainOnDelete": r.retain_on_delete,
                "created": r.created,
                "modified": r.modified,
            }
            resources.append({k: v for k, v in entry.items() if v not in ("", [], {}, False, None) or k == "custom"})
        deployment = {"manifest": {"time": iso(self.world.now), "version": "v3 (the world's pulumi stand-in)"}, "resources": resources}
        self.out(json.dumps({"version": 3, "deployment": deployment}, indent=4))
        return 0

    def stack_import(self, opts: dict[str, Any]) -> int:
        """``pulumi stack import --file <f> [--force] [--stack <s>]``: replace the stack's state with an exported one.

        pulumi/pulumi pkg/cmd/pulumi/stack/stack_import.go, then pkg/cmd/pulumi/stack/io.go ``SaveSnapshot``: every
        resource's URN must name this stack ("resource '<urn>' is from a different stack (<a> != <b>)") and the snapshot
        must pass ``VerifyIntegrity`` (:func:`verify_integrity`, "state file contains errors: …"); any such error stops the
        import ("importing this file could be dangerous; rerun with --force to proceed anyway") unless ``--force``
        makes them warnings. Nothing in the cloud or the cluster changes: the stack just holds what the file names
        (a Kubernetes object another stack owns is then held by both: :attr:`KubeObject.holders`).
        """
        ws = self._workspace()
        stack = self._stack(opts, ws)
        if "file" not in opts:
            raise CliError("the pulumi stand-in imports only from --file")
        try:
            document = json.loads(Path(str(opts["file"])).read_text())
        except (OSError, ValueError) as err:
            raise CliError(f"could not read {opts['file']}: {err}") from None
        if not isinstance(document, dict) or document.get("version") != 3:
            raise CliError("the stand-in imports deployments of version 3 (pulumi stack export)")
        entries = list((document.get("deployment") or {}).get("resources") or [])
        problems = []
        for e in entries:
            of = str(e.get("urn", "")).removeprefix("urn:pulumi:").split("::", 1)[0]  # resource.URN.Stack()
            if of != stack.name:
                problems.append(f"resource '{e.get('urn')}' is from a different stack ({of} != {stack.name})")
        try:
            verify_integrity(entries)
        except ValueError as err:
            problems.append(f"state file contains errors: {err}")
        if problems:
            if not opts.get("force"):
                raise CliError("\n".join([*problems, "importing this file could be dangerous; rerun with --force to proceed anyway"]))
            for problem in problems:
                self.err(f"warning: {problem}")

        def decode(value: Any) -> Any:
            if isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG:
                text = value["plaintext"] if "plaintext" in value else _decrypt(str(value["ciphertext"]))
                return {SIG_KEY: SECRET_SIG, "value": json.loads(text)}
            if isinstance(value, dict) and value.get(SIG_KEY) == ASSET_SIG:
                return StateAsset(str(value.get("text", "")))
            if isinstance(value, dict):
                return {k: decode(v) for k, v in value.items()}
            if isinstance(value, list):
                return [decode(v) for v in value]
            return value

        resources: dict[str, StateResource] = {}
        for e in entries:
            urn, type_ = str(e["urn"]), str(e["type"])
            before = stack.resources.get(urn)
            inputs = decode(e.get("inputs") or {})
            res = StateResource(
                urn,
                type_,
                bool(e.get("custom")),
                inputs,
                str(e.get("parent") or ""),
                tuple(e.get("dependencies") or ()),
                str(e.get("provider") or "").rsplit("::", 1)[0],
                bool(e.get("retainOnDelete")),
                str(e.get("created") or ""),
                str(e.get("modified") or ""),
                id=str(e.get("id") or ""),
            )
            if before is not None and before.id == res.id and before.type == type_:
                res.world_ref, res.observed = before.world_ref, before.observed
            elif res.custom and type_.startswith("kubernetes:"):
                res.world_ref, res.observed = ("", *object_key(unwrap(inputs))), unwrap(inputs)
            elif res.custom and not type_.startswith(("pulumi:", "random:")):
                raise CliError(f"the stand-in cannot place {urn} in the world: it imports only what the stack held, or Kubernetes objects")
            resources[urn] = res
        stack.resources = resources
        self._hold(stack)
        self.out("Import complete.")
        return 0

    def _hold(self, stack: StackState) -> None:
        """After an import: the Kubernetes objects the stack's state names and another stack owns are held by it too
        (recorded as a :class:`Violation`); those it no longer names are not."""
        named: set[ObjectKey] = {
            tuple(r.world_ref[1:])  # type: ignore[misc]
            for r in stack.resources.values()
            if r.custom and r.type.startswith("kubernetes:") and r.world_ref
        }
        for cluster in self.world.clusters.values():
            for key, obj in cluster.objects.items():
                if key not in named:
                    obj.holders.discard(stack.fqn)
                elif obj.owner != stack.fqn and stack.fqn not in obj.holders:
                    self.world.violation("Kubernetes", "/".join(filter(None, key)), obj.owner, stack.fqn)
                    obj.holders.add(stack.fqn)

    def _env_ref(self, text: str) -> str:
        parsed = parse_env_ref(text)
        org = parsed.org or _token_org(self.world, self.env)
        if org is None:
            raise CliError("no organisation: log in first")
        self.world.cloud.check_token(self.env.get("PULUMI_ACCESS_TOKEN"), org, self.world.now)
        return f"{org}/{parsed.project}/{parsed.env}"

    def env_open(self, words: list[str], opts: dict[str, Any]) -> int:
        """``pulumi env open <env> [<path>] [--format string|json]`` (pulumi/esc cmd/esc/cli/env_open.go
        ``renderValue``): ``string`` prints a string value as it is, anything else as JSON."""
        ref = self._env_ref(words[0])
        values: Any = esc_plain(self.world.esc.open(ref))
        if len(words) > 1:
            found, values = _yaml_get(values, parse_property_path(words[1]))
            if not found:
                raise CliError(f"unknown property path {words[1]}")
        fmt = opts.get("format", "json")
        self.out(values if fmt == "string" and isinstance(values, str) else json.dumps(values, indent=2))
        return 0

    def env_set(self, words: list[str], opts: dict[str, Any]) -> int:
        if len(words) != 3:
            raise CliError("expected a path and a value")
        ref = self._env_ref(words[0])
        self.world.esc.set(ref, words[1], words[2], secret=bool(opts.get("secret")))
        return 0


_FLAGS_WITH_VALUE = {"stack", "s", "format", "cwd", "C", "config-file", "target", "parallel", "message", "m", "event-log", "file"}
_FLAGS_WITH_VALUE |= {"policy-pack", "policy-pack-config"}  # pulumi preview/up: a local policy pack (tests/policy_analysis.py)


def _parse_args(argv: list[str]) -> tuple[list[str], dict[str, Any]]:
    words: list[str] = []
    opts: dict[str, Any] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            words.extend(argv[i + 1 :])
            break
        if arg.startswith("-") and arg != "-":
            # spf13/pflag flag.go ``parseLongArg``: "--" then a name starting with "-" or "=" is an error, so a value
            # that starts with dashes (a PEM key's "-----BEGIN") must come after the "--" terminator.
            if arg.startswith("--") and arg[2:3] in ("-", "="):
                raise CliError(f"bad flag syntax: {arg}")
            name, eq, value = arg.lstrip("-").partition("=")
            if name in _FLAGS_WITH_VALUE and not eq:
                i += 1
                value = argv[i]
            name = {"s": "stack", "y": "yes", "f": "skip-preview", "m": "message"}.get(name, name)
            opts[name] = value if (eq or name in _FLAGS_WITH_VALUE) else True
        else:
            words.append(arg)
        i += 1
    return words, opts


def _load_program(root: Path) -> Callable[[], None]:
    """The stack program of the project at ``root``: its ``secret_chain.program.main`` (``__main__.py`` calls it).

    The stand-in runs with the project directory and its source folder ``components/`` first on ``sys.path`` (the
    runner's PYTHONPATH), so the program is the workspace's own copy.
    """
    from secret_chain import program

    main: Callable[[], None] = program.main
    return main


# --------------------------------------------------------------------------------------------------------------------
# The other stand-ins: gh, curl (DigitalOcean API), kubectl
# --------------------------------------------------------------------------------------------------------------------


_GH_FLAGS: dict[str, tuple[dict[str, str], set[str], set[str]]] = {
    # subcommand → (short → long flag names, flags that take a value, of those the repeatable ones); cli/cli
    # pkg/cmd/api/api.go, pkg/cmd/pr/{list,create,comment}/*.go ``cmd.Flags()``.
    "api": (
        {"X": "method", "f": "raw-field", "F": "field", "H": "header", "q": "jq"},
        {"method", "raw-field", "field", "header", "jq"},
        {"raw-field", "field", "header"},
    ),
    "pr list": (
        {"R": "repo", "H": "head", "B": "base", "s": "state", "q": "jq", "L": "limit"},
        {"repo", "head", "base", "state", "json", "jq", "limit"},
        set(),
    ),
    "pr create": (
        {"R": "repo", "H": "head", "B": "base", "t": "title", "b": "body", "F": "body-file"},
        {"repo", "head", "base", "title", "body", "body-file"},
        set(),
    ),
    "pr comment": ({"R": "repo", "b": "body", "F": "body-file"}, {"repo", "body", "body-file"}, set()),
    # pkg/cmd/issue/{list,create,edit,close}/*.go and pkg/cmd/label/create.go ``cmd.Flags()``.
    "issue list": (
        {"R": "repo", "l": "label", "s": "state", "q": "jq", "L": "limit", "S": "search"},
        {"repo", "label", "state", "json", "jq", "limit", "search"},
        {"label"},
    ),
    "issue create": (
        {"R": "repo", "t": "title", "b": "body", "F": "body-file", "l": "label", "a": "assignee"},
        {"repo", "title", "body", "body-file", "label", "assignee"},
        {"label", "assignee"},
    ),
    "issue edit": (
        {"R": "repo", "t": "title", "b": "body", "F": "body-file"},
        {"repo", "title", "body", "body-file", "add-label", "remove-label"},
        {"add-label", "remove-label"},
    ),
    "issue close": ({"R": "repo", "c": "comment", "r": "reason"}, {"repo", "comment", "reason"}, set()),
    "label create": ({"R": "repo", "c": "color", "d": "description", "f": "force"}, {"repo", "color", "description"}, set()),
}


def _gh_args(command: str, argv: list[str]) -> tuple[list[str], dict[str, Any]]:
    """A gh subcommand's arguments as pflag parses them: ``--name value``, ``--name=value``, ``-x value``; a repeatable
    flag collects a list."""
    short, with_value, repeatable = _GH_FLAGS[command]
    words: list[str] = []
    opts: dict[str, Any] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("-") and len(arg) > 1:
            name, eq, value = arg.lstrip("-").partition("=")
            name = short.get(name, name) if not arg.startswith("--") else name
            if name in with_value and not eq:
                i += 1
                value = argv[i]
            stored: Any = value if name in with_value else True
            if name in repeatable:
                opts.setdefault(name, []).append(stored)
            else:
                opts[name] = stored
        else:
            words.append(arg)
        i += 1
    return words, opts


def _gh_error(err: Callable[[str], None], exc: WorldError) -> int:
    """How gh reports an HTTP error (cli/cli pkg/cmd/api/api.go ``processResponse``: "gh: <message> (HTTP <code>)" on
    stderr; exit 1)."""
    code, _, text = exc.message.partition(" ")
    err(f"gh: {text.split(':', 1)[0]} (HTTP {code})")
    return 1


def _gh_jq(expression: str, document: Any, env: Mapping[str, str]) -> str:
    """``--jq``: gh evaluates the expression with gojq and prints a string result raw, anything else as JSON (cli/cli
    pkg/jq); the world runs the machine's jq, whose language gojq implements."""
    jq = _real_tool("jq", env)
    if jq is None:
        raise WorldError("gh", "jq is needed for --jq (the machine has none)")
    done = subprocess.run([jq, "-r", "-c", expression], input=json.dumps(document), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise WorldError("gh", done.stderr.strip())
    return done.stdout.rstrip("\n")


def gh_main(world: World, argv: list[str], env: Mapping[str, str], out: Callable[[str], None], err: Callable[[str], None]) -> int:
    """The GitHub CLI calls the workflows make, with ``GH_TOKEN`` (else ``GITHUB_TOKEN``), against :class:`GitHub`.

    * ``gh pr comment <n> --repo <r> [--edit-last] --body-file <f>``: GitHub CLI ``gh pr comment --edit-last`` edits the
      current user's last comment, and fails when there is none.
    * ``gh pr list --repo <r> --head <h> --base <b> --state <s> --json number [--jq <q>]``: the open pull requests of
      that head and base, newest first, as JSON objects of the fields asked for.
    * ``gh pr create --repo <r> --head <h> --base <b> --title <t> --body-file <f>``: prints the new pull request's URL;
      an open one for the same branches already existing is an error (cli/cli pkg/cmd/pr/create/create.go ``createRun``:
      "a pull request for branch %q into branch %q already exists:\n<url>"); without a title and body when not
      interactive, "must provide `--title` and `--body` … when not running interactively".
    * ``gh api [--method M] <path> [-f k=v] [-F k=v|@file] [--silent] [--jq q]``: REST ``repos/{o}/{r}/compare/{base}...
      {head}`` (GET) and ``repos/{o}/{r}/pulls/{n}`` (GET, PATCH). cli/cli pkg/cmd/api/api.go: the method is GET, or POST
      once a field is given, unless --method; ``-f`` is a string, ``-F`` a typed value (``@file`` the file's text, an
      integer, true/false/null: fields.go ``magicFieldValue``); an HTTP error prints the error body on stdout and "gh:
      <message> (HTTP <code>)" on stderr, exit 1.
    """
    token = env.get("GH_TOKEN") or env.get("GITHUB_TOKEN") or ""
    command = " ".join(argv[:2]) if argv[:1] in (["pr"], ["issue"], ["label"]) else " ".join(argv[:1])
    if command not in _GH_FLAGS:
        err(f"the gh stand-in does not simulate `gh {' '.join(argv)}`")
        return 1
    words, opts = _gh_args(command, argv[len(command.split()) :])
    gh = world.github
    if command == "api":
        return _gh_api(world, words, opts, token, env, out, err)
    repo = str(opts.get("repo") or env.get("GH_REPO") or env.get("GITHUB_REPOSITORY"))
    if token not in gh.tokens:
        err("HTTP 401: Bad credentials (https://api.github.com/graphql)")
        return 1
    if command.startswith(("issue ", "label ")):
        return _gh_issue(world, command, words, opts, token, repo, env, out, err)
    try:
        if command == "pr list":
            author = gh.authorize(token, repo, ("pull_requests",), "read")
            pulls = gh.list_pulls(repo, head=opts.get("head"), base=opts.get("base"), state=str(opts.get("state") or "open"))
            fields = str(opts.get("json") or "number").split(",")
            document = [{f: getattr(pr, f) for f in fields} for pr in pulls]
            text = _gh_jq(str(opts["jq"]), document, env) if "jq" in opts else json.dumps(document)
            if text:
                out(text)
            return 0
        body = Path(str(opts["body-file"])).read_text() if "body-file" in opts else opts.get("body")
        if command == "pr create":
            author = gh.authorize(token, repo, ("pull_requests",), "write")
            if not opts.get("title") or body is None:
                err("must provide `--title` and `--body` (or `--fill` or `fill-first` or `--fillverbose`) when not running interactively")
                return 1
            head, base = str(opts.get("head")), str(opts.get("base") or "main")
            existing = gh.list_pulls(repo, head=head, base=base, state="open")
            if existing:
                err(f'a pull request for branch "{head}" into branch "{base}" already exists:\nhttps://github.com/{repo}/pull/{existing[0].number}')
                return 1
            pr = gh.create_pull(repo, head, base, str(opts["title"]), str(body), author)
            out(f"https://github.com/{repo}/pull/{pr.number}")
            return 0
        author = gh.authorize(token, repo, ("issues", "pull_requests"), "write")
    except WorldError as exc:
        return _gh_error(err, exc)
    number = int(words[0])
    comments = gh.comments.setdefault((repo, number), [])
    if opts.get("edit-last"):
        mine = [i for i, (who, _) in enumerate(comments) if who == author]
        if not mine:
            err("no comments found for current user")
            return 1
        comments[mine[-1]] = (author, str(body))
    else:
        comments.append((author, str(body or "")))
    out(f"https://github.com/{repo}/pull/{number}#issuecomment-{len(comments)}")
    return 0


def _gh_issue(
    world: World,
    command: str,
    words: list[str],
    opts: dict[str, Any],
    token: str,
    repo: str,
    env: Mapping[str, str],
    out: Callable[[str], None],
    err: Callable[[str], None],
) -> int:
    """``gh issue list|create|edit|close`` and ``gh label create``, as the GitHub CLI manual describes them (cli/cli
    pkg/cmd/issue/*, pkg/cmd/label/create.go), on :class:`GitHub`'s issues:

    * ``gh issue list [--label L]… [--state open|closed|all] [--json f,…] [--jq q]``: the issues carrying every label
      (repeatable, or comma-separated: a pflag string slice), newest first; ``--json`` fields ``number``, ``title``,
      ``body``, ``url``, ``labels`` (objects with ``name``) and ``state`` as GraphQL gives it (``OPEN``, ``CLOSED``).
    * ``gh issue create --title T --body-file F [--label L]…``: prints the new issue's URL; without a title and a body
      when not interactive, "must provide `--title` and `--body` when not running interactively"; an unknown label stops
      it ("could not add label: 'L' not found": pkg/cmd/pr/shared/params.go, api/queries_repo.go ``LabelsToIDs``).
    * ``gh issue edit <n> [--title T] [--body-file F]``: prints the issue's URL.
    * ``gh issue close <n> [--comment C] [--reason completed|"not planned"]``: the comment first, then closed
      ("✓ Closed issue <repo>#<n> (<title>)" on stderr); an issue already closed is "! Issue <repo>#<n> (<title>) is
      already closed", exit 0 (pkg/cmd/issue/close/close.go).
    * ``gh label create <name> [--color C] [--description D] [--force]``: POST, and with ``--force`` a PATCH of the
      existing label ("Update the label color and description if label already exists").

    Each needs the token's ``issues`` permission: read to list, write to change (GitHub REST docs, "Issues" and "Labels",
    fine-grained permissions: "Issues" repository permissions (read / write); a label also with "Pull requests" (write)).
    """
    gh = world.github
    if token not in gh.tokens:
        err("HTTP 401: Bad credentials (https://api.github.com/graphql)")
        return 1
    body = Path(str(opts["body-file"])).read_text() if "body-file" in opts else opts.get("body")
    url = f"https://github.com/{repo}/issues/"
    try:
        if command == "issue list":
            gh.authorize(token, repo, ("issues",), "read")
            labels = [n.strip() for value in opts.get("label", []) for n in str(value).split(",") if n.strip()]
            found = gh.list_issues(repo, labels=labels, state=str(opts.get("state") or "open"))[: int(opts.get("limit") or 30)]
            fields = str(opts.get("json") or "number").split(",")

            def field_of(issue: Issue, name: str) -> Any:
                if name == "labels":
                    return [{"name": n} for n in issue.labels]
                if name == "state":
                    return issue.state.upper()
                if name == "url":
                    return f"{url}{issue.number}"
                return getattr(issue, name)

            document = [{f: field_of(i, f) for f in fields} for i in found]
            text = _gh_jq(str(opts["jq"]), document, env) if "jq" in opts else json.dumps(document)
            if text:
                out(text)
            return 0
        if command == "label create":
            gh.authorize(token, repo, ("issues", "pull_requests"), "write")
            name, color, description = words[0], str(opts.get("color") or "ededed").lstrip("#"), str(opts.get("description") or "")
            try:
                gh.create_label(repo, name, color, description)
            except WorldError as exc:
                if "already_exists" not in exc.message:
                    raise
                if not opts.get("force"):
                    err(f'label with name "{name}" already exists; use `--force` to update its color and description')
                    return 1
                gh.update_label(repo, name, {"color": color, **({"description": description} if description else {})})
            return 0
        author = gh.authorize(token, repo, ("issues",), "write")
        if command == "issue create":
            if not opts.get("title") or body is None:
                err("must provide `--title` and `--body` when not running interactively")
                return 1
            labels = [n.strip() for value in opts.get("label", []) for n in str(value).split(",") if n.strip()]
            unknown = [n for n in labels if (repo, n.lower()) not in gh.labels]
            if unknown:
                err(f"could not add label: '{unknown[0]}' not found")
                return 1
            issue = gh.create_issue(repo, str(opts["title"]), str(body), labels, author)
            out(f"{url}{issue.number}")
            return 0
        number = int(words[0].rsplit("/", 1)[-1])
        current = gh.issues.get((repo, number))
        if current is None:
            err(f"GraphQL: Could not resolve to an issue or pull request with the number of {number}. (repository.issue)")
            return 1
        if command == "issue edit":
            gh.update_issue(repo, number, {**({"title": opts["title"]} if opts.get("title") else {}), **({"body": body} if body is not None else {})})
            out(f"{url}{number}")
            return 0
        # issue close
        if current.state == "closed":
            err(f"! Issue {repo}#{number} ({current.title}) is already closed")
            return 0
        if opts.get("comment"):
            gh.comments.setdefault((repo, number), []).append((author, str(opts["comment"])))
        reason = "not_planned" if opts.get("reason") == "not planned" else "completed"
        gh.update_issue(repo, number, {"state": "closed", "state_reason": reason})
        err(f"✓ Closed issue {repo}#{number} ({current.title})")
        return 0
    except WorldError as exc:
        return _gh_error(err, exc)


def _gh_api(
    world: World, words: list[str], opts: dict[str, Any], token: str, env: Mapping[str, str], out: Callable[[str], None], err: Callable[[str], None]
) -> int:
    fields: dict[str, Any] = {}
    for raw in opts.get("raw-field", []):
        key, _, value = str(raw).partition("=")
        fields[key] = value
    for typed in opts.get("field", []):
        key, _, value = str(typed).partition("=")
        if value.startswith("@"):
            fields[key] = Path(value[1:]).read_text()
        elif re.fullmatch(r"-?\d+", value):
            fields[key] = int(value)
        else:
            fields[key] = {"true": True, "false": False, "null": None}.get(value, value)
    method = str(opts.get("method") or ("POST" if fields else "GET")).upper()
    path = words[0].lstrip("/") if words else ""
    gh = world.github
    try:
        compare = re.fullmatch(r"repos/([^/]+/[^/]+)/compare/(.+?)\.\.\.(.+)", path)
        pull = re.fullmatch(r"repos/([^/]+/[^/]+)/pulls/(\d+)", path)
        if compare and method == "GET":
            gh.authorize(token, compare.group(1), ("contents",), "read")
            document: Any = gh.compare(compare.group(1), compare.group(2), compare.group(3))
        elif pull and method in ("GET", "PATCH"):
            repo, number = pull.group(1), int(pull.group(2))
            gh.authorize(token, repo, ("pull_requests",), "write" if method == "PATCH" else "read")
            pr = gh.update_pull(repo, number, fields if method == "PATCH" else {})
            document = {
                "number": pr.number,
                "title": pr.title,
                "body": pr.body,
                "state": pr.state,
                "head": {"ref": pr.head},
                "base": {"ref": pr.base},
            }
        else:
            err(f"the gh stand-in does not simulate `gh api --method {method} {path}`")
            return 1
    except WorldError as exc:
        code, _, text = exc.message.partition(" ")
        out(json.dumps({"message": text.split(":", 1)[0], "status": code}))
        return _gh_error(err, exc)
    if opts.get("silent"):
        return 0
    out(_gh_jq(str(opts["jq"]), document, env) if "jq" in opts else json.dumps(document))
    return 0


def curl_main(world: World, argv: list[str], env: Mapping[str, str], out: Callable[[str], None], err: Callable[[str], None]) -> int:
    """``curl -fsS -H "Authorization: Bearer <t>" https://api.digitalocean.com/v2/kubernetes/clusters…`` (the DigitalOcean
    API: "List all Kubernetes clusters", "Retrieve the kubeconfig for a Kubernetes cluster"). ``-f``: an HTTP error is
    exit 22 (curl docs, ``--fail``). Any other host cannot be reached from the world (exit 6)."""
    url, token = "", None
    i = 0
    while i < len(argv):
        if argv[i] in ("-H", "--header"):
            name, _, value = argv[i + 1].partition(":")
            if name.strip().lower() == "authorization":
                token = value.strip().removeprefix("Bearer ").strip()
            i += 2
            continue
        if not argv[i].startswith("-"):
            url = argv[i]
        i += 1
    base = "https://api.digitalocean.com/v2/kubernetes/clusters"
    if not url.startswith(base):
        err(f"curl: (6) Could not resolve host: {url.split('/')[2] if '//' in url else url}")
        return 6
    try:
        world.digitalocean.check_token(token)
        rest = url[len(base) :]
        path, _, query = rest.partition("?")
        if path in ("", "/"):
            clusters = [{"id": cid, "name": name} for name, cid in world.digitalocean.clusters.items()]
            out(json.dumps({"kubernetes_clusters": clusters}))
            return 0
        match = re.fullmatch(r"/([^/]+)/kubeconfig", path)
        if match:
            expiry = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("expiry_seconds", "0")
            out(world.digitalocean.kubeconfig(token, match.group(1), world.now, float(expiry)))
            return 0
        raise WorldError("DigitalOcean", "404 not found", status="404")
    except WorldError as exc:
        err(f"curl: (22) The requested URL returned error: {exc.status or 400}")
        return 22


def _real_tool(name: str, env: Mapping[str, str]) -> str | None:
    """The first ``name`` on the job's PATH that is not one of the world's stand-ins (tests/runner.py ``_STANDIN``)."""
    for directory in env.get("PATH", "").split(os.pathsep):
        found = shutil.which(name, path=directory) if directory else None
        if found is not None and "tests/world.py" not in Path(found).read_text(errors="replace")[:400]:
            return found
    return None


def kubectl_main(world: World, argv: list[str], env: Mapping[str, str], out: Callable[[str], None], err: Callable[[str], None]) -> int:
    """``kubectl get namespace <name> [--ignore-not-found] [-o name|yaml]`` with ``$KUBECONFIG``; ``kubectl config …``.

    kubectl (k8s.io/kubectl pkg/cmd/get/get.go): ``--ignore-not-found`` prints nothing for an absent object; a cluster
    it cannot authenticate to is an error (exit 1).
    """
    if argv[:1] == ["config"]:
        # `kubectl config …` reads and writes kubeconfig files only and never reaches a cluster: the real kubectl
        # (installed on the machine) answers it.
        real = _real_tool("kubectl", env)
        if real is None:
            err("kubectl: command not found (the machine has no kubectl besides this stand-in)")
            return 127
        done = subprocess.run([real, *argv], capture_output=True, text=True, env=dict(env), check=False)
        if done.stdout:
            out(done.stdout.rstrip("\n"))
        if done.stderr:
            err(done.stderr.rstrip("\n"))
        return done.returncode
    words, opts = _parse_args([a for a in argv])
    output = opts.get("o") or opts.get("output")
    if len(words) < 3 or words[0] != "get" or words[1] not in ("namespace", "namespaces", "ns"):
        err(f"the kubectl stand-in does not simulate `kubectl {' '.join(argv)}`")
        return 1
    path = env.get("KUBECONFIG") or str(Path(env.get("HOME", "/nonexistent")) / ".kube" / "config")
    try:
        cluster = world.kube_access(_read(path))
    except WorldError:
        err("error: You must be logged in to the server (the server has asked for the client to provide credentials)")
        return 1
    name = words[2]
    obj = cluster.objects.get(("core/Namespace", "", name))
    if obj is None:
        if opts.get("ignore-not-found"):
            return 0
        err(f'Error from server (NotFound): namespaces "{name}" not found')
        return 1
    out(f"namespace/{name}" if output == "name" else yaml.safe_dump(obj.manifest))
    return 0


# kubectl's -o takes a value
_FLAGS_WITH_VALUE.update({"o", "output"})


# --------------------------------------------------------------------------------------------------------------------
# Entry point of the stand-ins
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class Locked:
    """The world file, locked for one command (steps of parallel jobs would otherwise lose each other's writes)."""

    path: Path

    def __enter__(self) -> World:
        self._lock = open(f"{self.path}.lock", "w")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        self.world = World.load(self.path)
        return self.world

    def __exit__(self, *exc: object) -> None:
        try:
            self.world.save(self.path)
        finally:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()


def _credential(tool: str, argv: list[str], env: Mapping[str, str]) -> str:
    if tool == "gh":
        return env.get("GH_TOKEN") or env.get("GITHUB_TOKEN") or ""
    if tool == "pulumi":
        return env.get("PULUMI_ACCESS_TOKEN", "")
    if tool == "curl":
        headers = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("-H", "--header")]
        return next((h.split(":", 1)[1].strip().removeprefix("Bearer ").strip() for h in headers if h.lower().startswith("authorization:")), "")
    return ""


def main(tool: str, argv: list[str] | None = None) -> int:
    """``python -c 'from tests.world import main; main("pulumi")' …``: run one stand-in command on the world file."""
    argv = list(sys.argv[1:] if argv is None else argv)
    path = os.environ.get(WORLD_ENV)
    if not path:
        print(f"{tool} stand-in: ${WORLD_ENV} names no world file", file=sys.stderr)
        return 2

    def out(text: str) -> None:
        print(text)

    def err(text: str) -> None:
        print(text, file=sys.stderr)

    with Locked(Path(path)) as world:
        if tool == "pulumi":
            code = PulumiCli(world, Path.cwd(), os.environ, out, err).run(argv)
        elif tool == "gh":
            code = gh_main(world, argv, os.environ, out, err)
        elif tool == "curl":
            code = curl_main(world, argv, os.environ, out, err)
        elif tool == "kubectl":
            code = kubectl_main(world, argv, os.environ, out, err)
        else:
            err(f"no stand-in named {tool}")
            code = 2
        world.log.append(f"{tool} {' '.join(argv)} -> {code}")
        world.calls.append(Call(tool, argv, code, _credential(tool, argv, os.environ)))
    sys.stdout.flush()
    return code


def iter_objects(world: World) -> Iterator[tuple[str, ObjectKey, KubeObject]]:
    for cluster in world.clusters.values():
        for key, obj in cluster.objects.items():
            yield cluster.name, key, obj
