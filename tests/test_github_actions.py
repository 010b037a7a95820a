from __future__ import annotations

import pytest

from secret_chain import GitHubActionsSecrets, catalog
from secret_chain.errors import ConfigError
from secret_chain.ops.offline import is_secret, unwrap
from tests.conftest import Run, config_error
from tests.leaks import find_leaks

ChainConfig = tuple[dict[str, str], list[str]]


def _by_type(ev, suffix: str) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    out = {}
    for reg in ev.resources:
        if reg.type.endswith(suffix):
            out[reg.inputs.get("secretName") or reg.inputs.get("variableName")] = reg.inputs
    return out


def test_repository_secrets_and_variable(run: Run, chain_config: ChainConfig) -> None:
    config, secret_keys = chain_config
    assert OIDC.items() <= config.items()
    ev = run(lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform"}), config, secret_keys)
    secrets = _by_type(ev, ":ActionsSecret")
    variables = _by_type(ev, ":ActionsVariable")
    # issue 14: no stored Pulumi or GitHub token; the App key is the one secret CI needs
    assert set(secrets) == {"APP_PRIVATE_KEY"}
    assert variables == {
        name: {"repository": "platform", "variableName": name, "value": value}
        for name, value in {"PULUMI_ORG": "acme", "PULUMI_TOKEN_TYPE": "organization", "APP_ID": "424242"}.items()
    }
    for name, inputs in secrets.items():
        assert inputs["repository"] == "platform"
        assert is_secret(inputs["value"]), name
        # the provider's current argument, not the deprecated plaintext_value / encrypted_value
        assert "plaintextValue" not in inputs and "encryptedValue" not in inputs
    assert unwrap(secrets["APP_PRIVATE_KEY"]["value"]) == config["ci:githubAppPrivateKey"]
    assert find_leaks(ev, [config[k] for k in secret_keys]) == []
    (component,) = ev.components
    assert ev.component_outputs[component.urn] == {
        "secret_names": ["APP_PRIVATE_KEY"],
        "variable_names": ["PULUMI_ORG", "PULUMI_TOKEN_TYPE", "APP_ID"],
    }


def test_only_configured_entries_are_created(run: Run, chain_config: ChainConfig) -> None:
    config, secret_keys = chain_config
    for key in ("ci:githubAppPrivateKey", "ci:githubAppId", "ci:pulumiTokenType"):
        del config[key]
    ev = run(lambda: GitHubActionsSecrets("ci", {"repository": "platform"}), config, secret_keys)
    assert [r.inputs.get("secretName") or r.inputs.get("variableName") for r in ev.resources] == ["PULUMI_ORG"]


def test_required_entry_missing_is_an_error(run: Run, chain_config: ChainConfig) -> None:
    config, secret_keys = chain_config
    del config["ci:githubAppPrivateKey"]
    with pytest.raises(ConfigError) as caught:
        run(lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform", "required": ["APP_PRIVATE_KEY"]}), config, secret_keys)
    assert 'config "ci:githubAppPrivateKey" is missing' in str(caught.value)
    assert "pulumi env set acme/secret-chain/Production pulumiConfig.ci:githubAppPrivateKey" in str(caught.value)  # its own (issue 20)



# --- issue 19: on its own with nothing to write ----------------------------------------------------------------------

CORE_KEYS = ("ci:pulumiOrganization", "ci:githubAppId", "ci:githubAppPrivateKey")


@pytest.mark.parametrize("args", [{}, {"environment": "production"}, {"required": []}], ids=["repository", "environment", "required-empty"])
def test_on_its_own_with_none_of_its_config_is_a_missing_config_error(run: Run, chain_config: ChainConfig, args: dict[str, object]) -> None:
    """With no ci:* key and no value passed, it registered nothing and raised nothing: a detached ESC environment would then
    make the next pulumi up delete every Actions secret it wrote (the engine deletes a resource the program no longer
    registers: pulumi/pulumi pkg/resource/deploy/step_generator.go, GenerateDeletes). Like every other component it now
    stops with one missing-config error naming each key CI needs and the pulumi env set that sets it."""
    config, secret_keys = chain_config
    for key in [k for k in config if k.startswith("ci:")]:
        del config[key]
    build = lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform", **args})  # type: ignore[typeddict-item]  # noqa: E731
    error = config_error(run, build, config, [k for k in secret_keys if k in config])
    for key in CORE_KEYS:
        (line,) = [line for line in error.problems if f'config "{key}" is missing' in line]
        holder = "Production" if catalog.get(key).per_environment else "Base"  # the App is each environment's own (issue 20)
        assert "nothing to write" in line and f"pulumi env set acme/secret-chain/{holder} pulumiConfig.{key} " in line, line
    assert len(error.problems) == len(CORE_KEYS)


def test_one_configured_entry_is_enough_to_build(run: Run, chain_config: ChainConfig) -> None:
    """Only nothing at all is refused: a component given one entry writes that one (the others stay optional)."""
    config, secret_keys = chain_config
    for key in [k for k in config if k.startswith("ci:")]:
        del config[key]
    ev = run(lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform", "app_id": "123456"}), config, secret_keys)
    assert _names(ev) == ["APP_ID"]

# --- issue 14: CI without stored Pulumi or GitHub tokens ---------------------------------------------

OIDC = {"ci:pulumiOrganization": "acme", "ci:pulumiTokenType": "organization"}
DEPRECATED = {
    "ci:pulumiAccessToken": ("PULUMI_ACCESS_TOKEN", "ci:pulumiOrganization"),
    "ci:workflowDispatchToken": ("WORKFLOW_DISPATCH_TOKEN", "ci:githubAppId"),
}
# What a config made for the previous release held: both tokens, which it now no longer needs.
OLD_TOKENS = {"ci:pulumiAccessToken": "pul-" + "e1" * 20, "ci:workflowDispatchToken": "github_pat_" + "f2" * 30}


def _names(ev) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(r.inputs.get("secretName") or r.inputs.get("variableName")) for r in ev.resources]


def test_deprecated_token_keys_warn_and_are_no_longer_written(run: Run, chain_config: ChainConfig) -> None:
    """Kept readable for one release: a warning naming the key and its replacement, never an error, nothing written."""
    config, secret_keys = chain_config
    config.update(OLD_TOKENS)
    secret_keys = [*secret_keys, *OLD_TOKENS]
    ev = run(lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform"}), config, secret_keys)
    assert not {"PULUMI_ACCESS_TOKEN", "WORKFLOW_DISPATCH_TOKEN"} & set(_names(ev))
    for key, (github_name, replacement) in DEPRECATED.items():
        (warning,) = [line for line in ev.logs if f'"{key}"' in line]
        assert "deprecated" in warning and replacement in warning and github_name in warning, warning
        assert f"removed in {catalog.REMOVED_IN}" in warning
    assert find_leaks(ev, [config[k] for k in secret_keys]) == []


def test_no_warning_without_deprecated_keys(run: Run, chain_config: ChainConfig) -> None:
    config, secret_keys = chain_config
    assert not set(DEPRECATED) & set(config)
    ev = run(lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform"}), config, secret_keys)
    assert not [line for line in ev.logs if "deprecated" in line]


def test_deprecated_names_in_required_and_args_warn_too(run: Run, chain_config: ChainConfig) -> None:
    config, secret_keys = chain_config
    ev = run(
        lambda: GitHubActionsSecrets(
            "ci", {"repository": "acme/platform", "required": ["PULUMI_ACCESS_TOKEN"], "workflow_dispatch_token": "github_pat_x"}  # type: ignore[typeddict-unknown-key]
        ),
        config,
        secret_keys,
    )
    assert not {"PULUMI_ACCESS_TOKEN", "WORKFLOW_DISPATCH_TOKEN"} & set(_names(ev))
    assert any('"PULUMI_ACCESS_TOKEN"' in line and "deprecated" in line for line in ev.logs)
    assert any('"workflow_dispatch_token"' in line and "deprecated" in line for line in ev.logs)


def test_team_tokens_name_their_team(run: Run, chain_config: ChainConfig) -> None:
    config, secret_keys = chain_config
    config.update({"ci:pulumiOrganization": "acme", "ci:pulumiTokenType": "team", "ci:pulumiTeam": "ci-deployers"})
    ev = run(lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform"}), config, secret_keys)
    variables = {k: v["value"] for k, v in _by_type(ev, ":ActionsVariable").items()}
    assert variables["PULUMI_TOKEN_TYPE"] == "team" and variables["PULUMI_TEAM"] == "ci-deployers"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"ci:pulumiTokenType": "team"}, '"ci:pulumiTeam" is missing'),
        ({"ci:pulumiTokenType": "organization", "ci:pulumiTeam": "ci-deployers"}, 'is only for ci:pulumiTokenType team'),
        ({"ci:pulumiTokenType": "personal"}, "organization or team"),
        ({"ci:pulumiOrganization": "acme org"}, '"ci:pulumiOrganization"'),
        ({"ci:pulumiAuth": "stored-token-fallback"}, '"ci:pulumiFallbackAccessToken" is missing'),
        ({"ci:pulumiFallbackAccessToken": "pul-" + "ab" * 20}, '"ci:pulumiAuth" is missing'),
        ({"ci:pulumiAuth": "token", "ci:pulumiFallbackAccessToken": "pul-" + "ab" * 20}, "stored-token-fallback"),
    ],
)
def test_bad_pulumi_login_settings_are_refused(run: Run, chain_config: ChainConfig, extra: dict[str, str], message: str) -> None:
    config, secret_keys = chain_config
    config.update({**OIDC, **extra})
    with pytest.raises(ConfigError) as caught:
        run(lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform"}), config, [*secret_keys, "ci:pulumiFallbackAccessToken"])
    assert message in str(caught.value)
    assert "ab" * 20 not in str(caught.value)


def test_the_stored_token_fallback_is_opt_in_and_named_so(run: Run, chain_config: ChainConfig) -> None:
    config, secret_keys = chain_config
    config.update(OIDC)
    default = run(lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform"}), config, secret_keys)
    assert not {"PULUMI_FALLBACK_ACCESS_TOKEN", "PULUMI_AUTH"} & set(_names(default))
    token = "pul-" + "cd" * 20
    config.update({"ci:pulumiAuth": "stored-token-fallback", "ci:pulumiFallbackAccessToken": token})
    ev = run(lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform"}), config, [*secret_keys, "ci:pulumiFallbackAccessToken"])
    secrets = _by_type(ev, ":ActionsSecret")
    variables = _by_type(ev, ":ActionsVariable")
    assert is_secret(secrets["PULUMI_FALLBACK_ACCESS_TOKEN"]["value"]) and unwrap(secrets["PULUMI_FALLBACK_ACCESS_TOKEN"]["value"]) == token
    assert variables["PULUMI_AUTH"]["value"] == "stored-token-fallback"
    assert find_leaks(ev, [token]) == []


def test_every_actions_value_the_workflows_read_is_written_by_the_chain() -> None:
    """The workflows read exactly what GitHubActionsSecrets writes (plus the few values set by hand), nothing deprecated."""
    import re
    from pathlib import Path

    from secret_chain.github_actions import BY_GITHUB_NAME, ENTRIES, HAND_SET_VARIABLES

    text = "".join(p.read_text(encoding="utf-8") for p in sorted((Path(__file__).parent.parent / ".github" / "workflows").glob("*.yml")))
    read = {("secret" if kind == "secrets" else "variable", name) for kind, name in re.findall(r"\b(secrets|vars)\.(\w+)", text)}
    written = {("secret" if e.secret else "variable", e.github_name) for e in ENTRIES if not e.deprecated}
    assert read - written == {("variable", name) for name in HAND_SET_VARIABLES}
    assert written <= read, f"written but read by no workflow: {written - read}"
    assert all(BY_GITHUB_NAME[name].deprecated for name in ("PULUMI_ACCESS_TOKEN", "WORKFLOW_DISPATCH_TOKEN"))


def test_environment_secrets(run: Run, chain_config: ChainConfig) -> None:
    config, secret_keys = chain_config
    ev = run(lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform", "environment": "preview"}), config, secret_keys)
    assert {r.type for r in ev.resources} == {
        "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
        "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
    }
    for reg in ev.resources:
        assert reg.inputs["environment"] == "preview"
        if reg.type.endswith("Secret"):
            assert is_secret(reg.inputs["value"])


def test_organisation_secrets_for_selected_repositories(run: Run, chain_config: ChainConfig) -> None:
    config, secret_keys = chain_config
    ev = run(
        lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform", "organization_repositories": ["platform", "cluster"]}),
        config,
        secret_keys,
    )
    org_secrets = ev.of_type("github:index/actionsOrganizationSecret:ActionsOrganizationSecret")
    assert len(org_secrets) == 1  # APP_PRIVATE_KEY: no stored Pulumi or GitHub token
    for reg in org_secrets:
        assert reg.inputs["visibility"] == "selected"
        assert is_secret(reg.inputs["value"])
        assert "selectedRepositoryIds" not in reg.inputs  # deprecated on the secret itself
    access = ev.of_type("github:index/actionsOrganizationSecretRepositories:ActionsOrganizationSecretRepositories")
    assert len(access) == 1
    ids = access[0].inputs["selectedRepositoryIds"]
    assert len(ids) == 2 and ids == sorted(ids) and all(i == int(i) for i in ids)  # protobuf carries numbers as doubles
    # PULUMI_ORG, PULUMI_TOKEN_TYPE, APP_ID
    assert len(ev.of_type("github:index/actionsOrganizationVariableRepositories:ActionsOrganizationVariableRepositories")) == 3


def test_conflicting_options_and_wrong_owner(run: Run, chain_config: ChainConfig) -> None:
    config, secret_keys = chain_config
    with pytest.raises(ConfigError, match='"environment" and "organization_repositories" exclude each other'):
        run(
            lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform", "environment": "preview", "organization_repositories": ["platform"]}),
            config,
            secret_keys,
        )
    config["github:owner"] = "other-org"
    with pytest.raises(ConfigError, match='names owner acme but config "github:owner" is other-org'):
        run(lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform"}), config, secret_keys)


def test_bad_app_key_is_refused_without_echo(run: Run, chain_config: ChainConfig) -> None:
    config, secret_keys = chain_config
    config["ci:githubAppPrivateKey"] = "-----BEGIN RSA PRIVATE KEY-----\nnotbase64notbase64\n-----END RSA PRIVATE KEY-----"
    with pytest.raises(ConfigError) as caught:
        run(lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform"}), config, secret_keys)
    assert 'config "ci:githubAppPrivateKey" has PEM armour but does not parse' in str(caught.value)
    assert "notbase64" not in str(caught.value)


# --- issue 19: environment names, and the environment a stack owns ---------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "reason"),
    [
        ("x" * 256, "at most 255 characters"),
        ("prod\nuction", "control character"),
        ("pre\tview", "control character"),
        ("   ", "empty"),
        ("prod\u2028uction", "line-breaking character"),  # issue 20: a line separator splits the name where it is shown
        ("prod\u202euction", "invisible"),  # a bidi override shows "production" reversed from there on
    ],
    ids=["256-chars", "newline", "tab", "blank", "line-separator", "bidi-override"],
)
def test_an_environment_name_github_refuses_is_refused_before_anything(
    run: Run, chain_config: ChainConfig, environment: str, reason: str
) -> None:
    """GitHub docs, "Managing environments for deployment" (Creating an environment): "Environment names are not case
    sensitive. An environment name may not exceed 255 characters and must be unique within the repository." A control
    character could never be typed into a job's ``environment:`` nor match its OIDC subject
    ``repo:<owner>/<repo>:environment:<name>`` (GitHub docs, "OpenID Connect reference")."""
    config, secret_keys = chain_config
    error = config_error(run, lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform", "environment": environment}), config, secret_keys)
    assert 'argument "environment" is not a GitHub environment name' in str(error) and reason in str(error)


def test_environment_names_of_255_characters_and_any_case_are_taken(run: Run, chain_config: ChainConfig) -> None:
    config, secret_keys = chain_config
    for environment in ("P" * 255, "Production", "preview/pr deploys"):
        ev = run(lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform", "environment": environment}), config, secret_keys)  # noqa: B023
        assert {r.inputs["environment"] for r in ev.resources} == {environment}  # kept as given: GitHub keeps its case


def test_create_environment_creates_it_first_and_direct_users_keep_theirs(run: Run, chain_config: ChainConfig) -> None:
    """Direct users of ``environment`` write into an environment they manage (nothing else is created); with
    ``create_environment`` the component owns it: a RepositoryEnvironment that every secret and variable waits for (an
    environment secret is encrypted with the environment's public key: terraform-provider-github
    github/resource_github_actions_environment_secret.go, getEnvironmentPublicKeyDetails)."""
    config, secret_keys = chain_config
    theirs = run(lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform", "environment": "preview"}), config, secret_keys)
    assert not theirs.of_type("github:index/repositoryEnvironment:RepositoryEnvironment")
    ours = run(
        lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform", "environment": "preview", "create_environment": True}),
        config,
        secret_keys,
    )
    (created,) = ours.of_type("github:index/repositoryEnvironment:RepositoryEnvironment")
    # Fail-closed from its creation: only protected branches (the default branch) may run a job in it (GitHub REST
    # "Create or update an environment", deployment_branch_policy); a pushed branch's workflow never gets its secrets.
    assert created.inputs == {
        "repository": "platform",
        "environment": "preview",
        "deploymentBranchPolicy": {"protectedBranches": True, "customBranchPolicies": False},
    }
    assert "deploymentBranchPolicy" in created.ignore_changes  # later changes are the repository admins'
    written = [r for r in ours.resources if r is not created]
    assert {r.type.rsplit(":", 1)[-1] for r in written} == {"ActionsEnvironmentSecret", "ActionsEnvironmentVariable"}
    assert all(created.urn in r.dependencies and r.inputs["environment"] == "preview" for r in written)


def test_create_environment_needs_an_environment(run: Run, chain_config: ChainConfig) -> None:
    config, secret_keys = chain_config
    error = config_error(run, lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform", "create_environment": True}), config, secret_keys)
    assert 'argument "create_environment" needs "environment"' in str(error)


def test_an_environment_name_from_another_resource_with_a_newline_is_refused_once_known(chain_config: ChainConfig) -> None:
    """Issue 20: ``environment: "prod\\nuction"`` given as another resource's output is checked when it is known."""
    from pulumi import Output

    from secret_chain.errors import SecretChainError
    from tests.runtime import evaluate

    config, secret_keys = chain_config

    def program() -> None:
        GitHubActionsSecrets("ci", {"repository": "acme/platform", "environment": Output.from_input("x").apply(lambda _: "prod\nuction")})

    with pytest.raises(SecretChainError, match=r'argument "environment" is not a GitHub environment name: it holds a control character'):
        evaluate(program, config=config, secret_keys=secret_keys, stack="production")
