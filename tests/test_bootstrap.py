"""The bootstrap stack (issue 14 §2): the ESC tier as code, equal to esc/ and the catalog, never overwriting people.

The program runs on the mock runtime as ``pulumi up`` and ``pulumi preview`` of the ``bootstrap`` stack would
run it. What the engine and the provider then do with a registration is ported from their source:
``processIgnoreChanges`` (pulumi/pulumi pkg/resource/deploy/step_generator.go) and the Environment resource's
``Diff``/``Update``/``Read`` (pulumi/pulumi-pulumiservice provider/pkg/resources/environment.go).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components import bootstrap, catalog, esc, parts
from components.errors import ConfigError
from components.ops import preflight
from components.ops.offline import Evaluation, Registration, evaluate, parse_config
from components.program import main
from tests.test_esc import composed

ROOT = Path(__file__).resolve().parent.parent
ORG = "example-org"
STACK_FILE = ROOT / "stacks" / "Pulumi.bootstrap.yaml"


def committed_settings() -> dict[str, str]:
    return {k: str(v) for k, v in yaml.safe_load(STACK_FILE.read_text())["config"].items()}


def stack_settings() -> dict[str, str]:
    """The committed bootstrap stack file's settings, the repository its operator sets (the README's real path), and
    the organisation Pulumi Cloud would give the stack."""
    return {**committed_settings(), "secret-chain:githubRepository": "example-org/platform", "ci:pulumiOrganization": ORG}


def run(config: dict[str, str], preview: bool = False) -> Evaluation:
    return evaluate(main, config=config, stack="bootstrap", preview=preview)


def errors(config: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        run(config)
    return str(caught.value)


def environments(ev: Evaluation) -> dict[str, Registration]:
    return {r.inputs["name"]: r for r in ev.registrations if r.type == "pulumiservice:index:Environment"}


def definition(registration: Registration) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(registration.inputs["yaml"].text)
    return document


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_bootstrap_registers_the_four_environments_and_the_issuer_under_its_component(preview: bool) -> None:
    ev = run(stack_settings(), preview)
    component = next(r for r in ev.registrations if r.type == "secret-chain:index:EscBootstrap")
    children = [r for r in ev.registrations if r.parent == component.urn]
    assert sorted(r.type for r in children) == ["pulumiservice:index:Environment"] * 4 + ["pulumiservice:index:OidcIssuer"]
    assert set(environments(ev)) == {e.name for e in esc.ENVIRONMENTS}
    for registration in environments(ev).values():
        assert registration.inputs["organization"] == ORG and registration.inputs["project"] == "secret-chain"
    # No chain part is built by the bootstrap stack.
    assert not [r for r in ev.registrations if r.type.startswith("kubernetes:") or r.type.startswith("github:")]


def test_bootstrap_environments_equal_esc_files_and_the_catalog() -> None:
    """Issue 14 §2: bootstrap stack == esc/ == catalog; only the values the bootstrap knows differ from placeholders."""
    created = environments(run(stack_settings()))
    known = {"ci:pulumiOrganization": ORG, "ci:pulumiTokenType": "organization"}
    for env in esc.ENVIRONMENTS:
        document = definition(created[env.name])
        committed = yaml.safe_load((ROOT / "esc" / env.file).read_text())
        assert document.get("imports") == committed.get("imports")
        mine, theirs = document["values"]["pulumiConfig"] or {}, committed["values"]["pulumiConfig"] or {}
        assert list(mine) == list(theirs), env.name
        for key, value in mine.items():
            if env is esc.BASE and key in known:
                assert value == known[key] and theirs[key].startswith("<set me: ")
            else:
                assert value == theirs[key], (env.name, key)
        # The same text esc/ holds, but for the organisation in its comments and the known values.
        assert created[env.name].inputs["yaml"].text == esc.render(env, ORG, known if env is esc.BASE else None)


def test_every_secret_the_bootstrap_writes_is_a_placeholder() -> None:
    """Secret values stay out of code and state: each fn::secret the bootstrap registers is a <set me: …>."""

    def secrets(node: object) -> list[str]:
        if isinstance(node, dict):
            if set(node) == {"fn::secret"}:
                return [node["fn::secret"]]
            return [s for value in node.values() for s in secrets(value)]
        return []

    found = [s for registration in environments(run(stack_settings())).values() for s in secrets(definition(registration))]
    assert found and all(s.startswith("<set me: ") for s in found)


def test_environments_are_written_once_and_kept_on_destroy() -> None:
    for registration in environments(run(stack_settings())).values():
        assert registration.ignore_changes == ("yaml",)
        assert registration.retain_on_delete


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_environments_that_read_base_are_created_after_it(preview: bool) -> None:
    """The provider's Create checks a definition's imports and implicit imports against the service
    (environment.go Create: CheckYAMLEnvironment), so Preview, Production and PullRequest wait for Base."""
    created = environments(run(stack_settings(), preview))
    base = created["Base"].urn
    assert base not in created["Base"].dependencies
    for name in ("Preview", "Production", "PullRequest"):
        assert base in created[name].dependencies, name


# --- never overwrite a value a person set -------------------------------------------------------------------------


def ignore_changes(inputs: dict[str, Any], old_inputs: dict[str, Any], paths: tuple[str, ...]) -> dict[str, Any]:
    """``processIgnoreChanges`` for top-level paths: each ignored input takes its value from the old inputs."""
    ignored = dict(inputs)
    for path in paths:
        if path in old_inputs:
            ignored[path] = old_inputs[path]
    return ignored


def provider_diff(olds: dict[str, Any], news: dict[str, Any]) -> set[str]:
    """The Environment resource's ``Diff``: the input properties that differ (``olds.Diff(news)``); any → Update,
    which pushes the whole ``yaml`` (``UpdateEnvironmentWithRevision``)."""
    return {k for k in olds.keys() | news.keys() if olds.get(k) != news.get(k)}


def as_inputs(registration: Registration) -> dict[str, Any]:
    return {**registration.inputs, "yaml": registration.inputs["yaml"].text}


@pytest.mark.parametrize("refreshed", [False, True], ids=["up", "refresh-then-up"])
def test_a_later_up_never_pushes_over_values_people_set(refreshed: bool) -> None:
    """A person sets a secret (pulumi env set); the catalog then changes, so the program's definition differs. With
    ``ignore_changes`` the engine keeps the stored definition and the provider sees no change: no Update."""
    first = environments(run(stack_settings()))["Production"]
    stored = as_inputs(first)
    live = stored["yaml"].replace("'<set me: $(openssl rand -hex 32)>'", "{ciphertext: ZXNjeAAAAAE...}", 1)
    assert live != stored["yaml"]
    old_inputs = {**stored, "yaml": live} if refreshed else stored  # a refresh reads the live definition (Read)
    new_program = {**stored, "yaml": stored["yaml"] + "    # a key the catalog gained\n"}
    news = ignore_changes(new_program, old_inputs, first.ignore_changes)
    assert provider_diff(old_inputs, news) == set()
    # Without the option the same run would push the program's placeholders over the person's value.
    assert provider_diff(old_inputs, new_program) == {"yaml"}


# --- the OIDC trust -----------------------------------------------------------------------------------------------


def issuer(ev: Evaluation) -> Registration:
    return next(r for r in ev.registrations if r.type == "pulumiservice:index:OidcIssuer")


def test_oidc_policy_allows_only_this_repositorys_pull_requests_default_branch_and_chain_environments() -> None:
    """Issue 19: CI's settings live in the GitHub environments preview and production (parts.GITHUB_ENVIRONMENTS), so the
    jobs that read them declare ``environment:``, and such a job's subject is ``repo:<repo>:environment:<name>``, not the
    pull_request or branch one (GitHub docs, "OpenID Connect reference": "The subject claim includes the environment name
    when the job references an environment"; the pull_request form applies "only if the job doesn't reference an
    environment"). Without these two rules every such job's token exchange is refused."""
    registration = issuer(run(stack_settings()))
    assert registration.inputs["url"] == "https://token.actions.githubusercontent.com"
    assert registration.inputs["maxExpirationSeconds"] == 3600
    policies = registration.inputs["policies"]
    assert [p["rules"] for p in policies] == [
        {"aud": f"urn:pulumi:org:{ORG}", "sub": "repo:example-org/platform:pull_request"},
        {"aud": f"urn:pulumi:org:{ORG}", "sub": "repo:example-org/platform:ref:refs/heads/main"},
        {"aud": f"urn:pulumi:org:{ORG}", "sub": "repo:example-org/platform:environment:preview"},
        {"aud": f"urn:pulumi:org:{ORG}", "sub": "repo:example-org/platform:environment:production"},
    ]
    assert all(p["decision"] == "allow" and p["tokenType"] == "organization" and p["authorizedPermissions"] == ["admin"] for p in policies)


def test_every_workflow_that_logs_in_to_pulumi_runs_on_a_subject_the_policy_allows() -> None:
    """GitHub's sub claim is repo:<repo>:environment:<name> for a job that references an environment; otherwise
    repo:<repo>:pull_request for pull_request runs and repo:<repo>:ref:refs/heads/<branch> for a schedule (the default
    branch). A job on any other subject would be refused at the exchange: its environment must be one the policy names
    (an expression such as matrix.stack == 'production' && 'production' || 'preview' may name only those)."""
    import re

    allowed = {"pull_request", "schedule", "workflow_dispatch"}
    environments = set(parts.GITHUB_ENVIRONMENTS.values())
    for path in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        text = path.read_text()
        if "pulumi/auth-actions@" not in text:
            continue
        workflow = yaml.safe_load(text)
        for name, job in workflow["jobs"].items():
            if "pulumi/auth-actions@" not in json.dumps(job):
                continue
            environment = job.get("environment")
            named = environment.get("name") if isinstance(environment, dict) else environment
            if named is None:
                triggers = set(workflow[True])
                assert triggers <= allowed, f"{path.name} job {name} logs in on {sorted(triggers - allowed)}"
                continue
            literals = set(re.findall(r"'([^']*)'", named)) if "${{" in named else {named}
            assert literals and literals <= environments, f"{path.name} job {name}: environment {named}"


def test_a_team_token_names_the_team_in_the_policy_and_in_base() -> None:
    ev = run({**stack_settings(), "ci:pulumiTokenType": "team", "ci:pulumiTeam": "ci-deployers"})
    assert all(
        p["tokenType"] == "team" and p["teamName"] == "ci-deployers" and "authorizedPermissions" not in p for p in issuer(ev).inputs["policies"]
    )
    base = definition(environments(ev)["Base"])["values"]["pulumiConfig"]
    assert base["ci:pulumiTokenType"] == "team" and base["ci:pulumiTeam"] == "ci-deployers"


def test_a_default_branch_setting_narrows_the_branch_subject() -> None:
    policies = issuer(run({**stack_settings(), "secret-chain:defaultBranch": "trunk"})).inputs["policies"]
    assert policies[1]["rules"]["sub"] == "repo:example-org/platform:ref:refs/heads/trunk"


@pytest.mark.parametrize(
    "change, key",
    [
        ({"ci:pulumiTokenType": "team"}, "ci:pulumiTeam"),
        ({"ci:pulumiTokenType": "personal"}, "ci:pulumiTokenType"),
        ({"secret-chain:githubRepository": "platform"}, "secret-chain:githubRepository"),
        ({"secret-chain:defaultBranch": "main*"}, "secret-chain:defaultBranch"),
    ],
)
def test_bad_bootstrap_settings_stop_before_anything_is_registered(change: dict[str, str], key: str) -> None:
    message = errors({**stack_settings(), **change})
    assert f'config "{key}"' in message
    # No environment exists yet: every fix is the bootstrap stack's own config.
    assert "pulumi env set" not in message and f"pulumi config set {key}" in message


def test_missing_organisation_outside_pulumi_cloud_names_the_setting() -> None:
    config = stack_settings()
    del config["ci:pulumiOrganization"]
    assert "pulumi config set ci:pulumiOrganization" in errors(config)


def test_bootstrap_is_deterministic() -> None:
    def snapshot() -> list[tuple[str, str]]:
        # Sorted: the order of registrations is the SDK's scheduling, not part of what `pulumi up` compares.
        return sorted(
            (r.name, json.dumps(as_inputs(r) if r.type.endswith("Environment") else r.inputs, sort_keys=True, default=str))
            for r in run(stack_settings()).registrations
        )

    assert snapshot() == snapshot()


def test_bootstrap_stack_file_is_ready_for_preflight_once_the_repository_is_set() -> None:
    config, secret_keys = parse_config({k: {"value": v, "secret": False} for k, v in stack_settings().items()})
    report = preflight.check(config, secret_keys, "bootstrap")
    assert report.ok and report.environment == ""
    assert [p.name for p in parts.select(parts.Kind.BOOTSTRAP, config.get, None).built] == ["EscBootstrap"]


def test_the_committed_bootstrap_file_trusts_no_repository_until_one_is_set() -> None:
    """A committed example repository would let someone else's workflows log in: preflight and the program both
    stop on the missing setting, with the command that sets it."""
    committed = {**committed_settings(), "ci:pulumiOrganization": ORG}
    assert "secret-chain:githubRepository" not in committed
    config, secret_keys = parse_config({k: {"value": v, "secret": False} for k, v in committed.items()})
    report = preflight.check(config, secret_keys, "bootstrap")
    assert not report.ok and [(p.key, p.kind) for p in report.problems] == [("secret-chain:githubRepository", "missing")]
    assert "pulumi config set secret-chain:githubRepository" in errors(committed)


def test_an_organization_token_is_called_out_and_a_team_token_is_not() -> None:
    warned = [line for line in run(stack_settings()).logs if "organization token" in line]
    assert warned
    team = run({**stack_settings(), "ci:pulumiTokenType": "team", "ci:pulumiTeam": "ci-deployers"})
    assert not [line for line in team.logs if "organization token" in line]


def test_branch_names_are_checked_as_git_checks_them() -> None:
    """The branch check against git's own (git check-ref-format --branch) on names either accepts or refuses."""
    names = [
        "main",
        "trunk",
        "release/1.x",
        "a..b",
        "a b",
        "-x",
        "x.lock",
        "@",
        "a*",
        "a/.b",
        "x/",
        "/x",
        "a//b",
        "x.",
        "a@{b",
        "ok_branch",
        "a~1",
        "a^",
        "a:b",
        "a?",
        "a[b",
        "a\\b",
    ]
    for name in names:
        # Outside a repository, so that --branch expands no @{-N} or @ against a checkout.
        git = subprocess.run(["git", "check-ref-format", "--branch", name], capture_output=True, check=False, cwd="/").returncode == 0
        try:
            catalog.get("secret-chain:defaultBranch").check(name)
            ours = True
        except ValueError:
            ours = False
        assert ours == git, name


def test_pr_environment_is_what_the_bootstrap_creates_for_pr_stacks() -> None:
    assert esc.for_stack(parts.Kind.PREVIEW_PR) is esc.PULL_REQUEST
    assert set(composed("PullRequest")) == {k.key for k in esc.PULL_REQUEST.exposed()}
    assert bootstrap.GITHUB_ISSUER.startswith("https://")
