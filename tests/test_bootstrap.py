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

from secret_chain import bootstrap, esc, parts
from secret_chain import validators as v
from secret_chain.errors import ConfigError
from secret_chain.ops import preflight
from secret_chain.ops.offline import Evaluation, Registration, evaluate, parse_config
from secret_chain.program import main
from tests.test_esc import composed

ROOT = Path(__file__).resolve().parent.parent
ORG = "acme"
"""The operator's organisation (not an example name: preflight refuses those, issue 19)."""
STACK_FILE = ROOT / "stacks" / "Pulumi.bootstrap.yaml"


def committed_settings() -> dict[str, str]:
    return {k: str(v) for k, v in yaml.safe_load(STACK_FILE.read_text())["config"].items()}


def stack_settings() -> dict[str, str]:
    """The committed bootstrap stack file's settings, the repository its operator sets (the README's real path), and
    the organisation Pulumi Cloud would give the stack."""
    return {**committed_settings(), "secret-chain:githubRepository": f"{ORG}/platform", "ci:pulumiOrganization": ORG}


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
    known = {
        "Base": {"ci:pulumiOrganization": ORG},
        # Each CI environment's token type, which GitHubActionsSecrets writes to the GitHub environment of its jobs.
        "Production": {"ci:pulumiTokenType": "organization"},
        "Preview": {"ci:pulumiTokenType": "organization"},
        "PullRequest": {},
    }
    for env in esc.ENVIRONMENTS:
        document = definition(created[env.name])
        committed = yaml.safe_load((ROOT / "esc" / env.file).read_text())
        assert document.get("imports") == committed.get("imports")
        mine, theirs = document["values"]["pulumiConfig"] or {}, committed["values"]["pulumiConfig"] or {}
        assert list(mine) == list(theirs), env.name
        for key, value in mine.items():
            if key in known[env.name]:
                assert value == known[env.name][key] and theirs[key].startswith("<set me: ")
            else:
                assert value == theirs[key], (env.name, key)
        # The same text esc/ holds, but for the organisation in its comments and the known values.
        assert created[env.name].inputs["yaml"].text == esc.render(env, ORG, known[env.name])


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


def test_oidc_policy_allows_only_this_repositorys_preview_and_production_environments() -> None:
    """Issue 19: each Pulumi job runs in the GitHub environment holding its stack's Actions values, and a job in an
    environment presents sub repo:<owner>/<repo>:environment:<name> (GitHub docs, "OpenID Connect reference",
    "Filtering for a specific environment"; the pull_request and branch subjects only "if the job doesn't reference an
    environment"). The policy's rules are claim matches on aud and sub (Pulumi docs, "Configuring OpenID Connect for
    GitHub"; pulumi-pulumiservice AuthPolicyDefinition rules): exactly the two environments, no pull_request or branch."""
    registration = issuer(run(stack_settings()))
    assert registration.inputs["url"] == "https://token.actions.githubusercontent.com"
    assert registration.inputs["maxExpirationSeconds"] == 3600
    policies = registration.inputs["policies"]
    assert [p["rules"] for p in policies] == [
        {"aud": f"urn:pulumi:org:{ORG}", "sub": f"repo:{ORG}/platform:environment:preview"},
        {"aud": f"urn:pulumi:org:{ORG}", "sub": f"repo:{ORG}/platform:environment:production"},
    ]
    assert all(p["decision"] == "allow" and p["tokenType"] == "organization" and p["authorizedPermissions"] == ["admin"] for p in policies)


def test_every_job_that_logs_in_to_pulumi_runs_on_a_subject_the_policy_allows() -> None:
    """Whatever its trigger, a job in an environment presents that environment's subject: every job that logs in names
    one the policy allows (a matrix job through its include entries); a job without one would be refused."""
    from tests.test_workflows import job_environment, matrix_entries

    found = set()
    for path in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            if "pulumi/auth-actions@" not in yaml.safe_dump(job):
                continue
            for entry in matrix_entries(job):
                environment = job_environment(job, entry)
                assert environment in bootstrap.CI_ENVIRONMENTS, f"{path.name} job {name} logs in from environment {environment}"
                found.add(environment)
    assert found == set(bootstrap.CI_ENVIRONMENTS)


TEAMS = {"ci:pulumiTokenType": "team", "ci:pulumiTeam": "ci-deployers", "ci:pulumiPreviewTeam": "ci-previews"}
"""Enterprise: production's team, and the pull requests' own."""


def policy_of(ev: Evaluation, environment: str) -> dict[str, Any]:
    found = [p for p in issuer(ev).inputs["policies"] if p["rules"]["sub"] == f"repo:{ORG}/platform:environment:{environment}"]
    assert len(found) == 1, found
    return found[0]


def test_a_team_token_names_its_team_in_the_policy_and_in_the_environment_of_its_jobs() -> None:
    """Each subject's rule and the ESC environment whose values GitHubActionsSecrets writes to that subject's GitHub
    environment (PULUMI_TOKEN_TYPE, PULUMI_TEAM: what its jobs request) name the same team."""
    ev = run({**stack_settings(), **TEAMS})
    for environment, esc_name, team in (("production", "Production", "ci-deployers"), ("preview", "Preview", "ci-previews")):
        policy = policy_of(ev, environment)
        assert policy["tokenType"] == "team" and policy["teamName"] == team and "authorizedPermissions" not in policy
        values = definition(environments(ev)[esc_name])["values"]["pulumiConfig"]
        assert values["ci:pulumiTokenType"] == "team" and values["ci:pulumiTeam"] == team, esc_name
    for name in ("Base", "PullRequest"):
        assert not {"ci:pulumiTokenType", "ci:pulumiTeam"} & set(definition(environments(ev)[name])["values"]["pulumiConfig"])


def test_the_subject_of_pull_request_code_gets_its_own_team_never_productions_token() -> None:
    """Issue 20 §1: the rule for repo:<repo>:environment:preview (the jobs that run a pull request's code) issues the
    team token of ci:pulumiPreviewTeam, while production keeps its own token; before, both subjects got the same
    token, with an organization token authorizedPermissions [admin] (Pulumi docs, "OIDC Issuers": each policy states
    the token type and the team it is scoped to)."""
    for settings in ({"ci:pulumiPreviewTeam": "ci-previews"}, TEAMS):
        ev = run({**stack_settings(), **settings})
        preview, production = policy_of(ev, "preview"), policy_of(ev, "production")
        assert preview["tokenType"] == "team" and preview["teamName"] == "ci-previews" and "authorizedPermissions" not in preview
        assert production != {**preview, "rules": production["rules"]}
    production = policy_of(run({**stack_settings(), "ci:pulumiPreviewTeam": "ci-previews"}), "production")
    assert production["tokenType"] == "organization" and production["authorizedPermissions"] == ["admin"]


def test_the_preview_team_is_created_with_open_on_pull_request_and_base_and_nothing_else() -> None:
    """The team of the preview subject exists before the policy names it, has no members (the provider removes any
    added by hand) and may open exactly PullRequest and Base (ESC docs, "Access control": Environment opener)."""
    ev = run({**stack_settings(), **TEAMS})
    teams = [r for r in ev.registrations if r.type == "pulumiservice:index:Team"]
    assert [(t.inputs["name"], t.inputs["teamType"], t.inputs["organizationName"]) for t in teams] == [("ci-previews", "pulumi", ORG)]
    assert "members" not in teams[0].inputs
    grants = [r for r in ev.registrations if r.type == "pulumiservice:index:TeamEnvironmentPermission"]
    assert sorted((g.inputs["team"], g.inputs["project"], g.inputs["environment"], g.inputs["permission"]) for g in grants) == [
        ("ci-previews", "secret-chain", "Base", "open"),
        ("ci-previews", "secret-chain", "PullRequest", "open"),
    ]
    created = environments(ev)
    for grant in grants:
        assert teams[0].urn in grant.dependencies and created[grant.inputs["environment"]].urn in grant.dependencies
    assert {teams[0].urn, *(g.urn for g in grants)} <= set(issuer(ev).dependencies)
    # Without a preview team (the Team edition) the bootstrap creates no team.
    assert not [r for r in run(stack_settings()).registrations if r.type.startswith("pulumiservice:index:Team")]


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"ci:pulumiTokenType": "team", "ci:pulumiTeam": "ci-deployers"}, '"ci:pulumiPreviewTeam" is missing'),
        ({**TEAMS, "ci:pulumiPreviewTeam": "ci-deployers"}, "production's team token"),
        ({"ci:pulumiPreviewTeam": "ci.previews"}, "any one character"),
    ],
    ids=["team token without a preview team", "the preview team is production's", "a wildcard in the team name"],
)
def test_a_pull_request_never_gets_productions_team(settings: dict[str, str], message: str) -> None:
    """Where the edition has teams (a team token for production), a pull request's jobs must get a team of their own,
    not production's, named exactly (a policy's team scope matches '.' as any one character)."""
    text = errors({**stack_settings(), **settings})
    assert message in text and "pulumi config set ci:pulumiPreviewTeam" in text


@pytest.mark.parametrize(
    "change, key",
    [
        ({"ci:pulumiTokenType": "team"}, "ci:pulumiTeam"),
        ({"ci:pulumiTokenType": "personal"}, "ci:pulumiTokenType"),
        ({"secret-chain:githubRepository": "platform"}, "secret-chain:githubRepository"),
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


def test_an_organization_token_for_pull_request_code_is_called_out_and_a_preview_team_is_not() -> None:
    warned = [line for line in run(stack_settings()).logs if "organization token" in line]
    assert warned and "open Production" in warned[0] and "ci:pulumiPreviewTeam" in warned[0]
    for settings in ({"ci:pulumiPreviewTeam": "ci-previews"}, TEAMS):
        assert not [line for line in run({**stack_settings(), **settings}).logs if "organization token" in line]


def test_a_repository_name_a_policy_matches_as_a_pattern_is_called_out() -> None:
    """A policy's claim values are patterns: '.' matches any one character (Pulumi docs, OIDC Issuers)."""
    assert not [line for line in run(stack_settings()).logs if "any one character" in line]
    dotted = run({**stack_settings(), "secret-chain:githubRepository": f"{ORG}/platform.io"})
    assert [line for line in dotted.logs if "any one character" in line]


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
            v.git_branch(name)  # the check behind flux_branch (and once the bootstrap's default-branch setting)
            ours = True
        except ValueError:
            ours = False
        assert ours == git, name


def test_pr_environment_is_what_the_bootstrap_creates_for_pr_stacks() -> None:
    assert esc.for_stack(parts.Kind.PREVIEW_PR) is esc.PULL_REQUEST
    assert set(composed("PullRequest")) == {k.key for k in esc.PULL_REQUEST.exposed()}
    assert bootstrap.GITHUB_ISSUER.startswith("https://")
