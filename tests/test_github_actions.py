from __future__ import annotations

import pytest

from components import GitHubActionsSecrets
from components.errors import ConfigError
from components.offline import is_secret, unwrap
from tests.conftest import Run
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
    ev = run(lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform"}), config, secret_keys)
    secrets = _by_type(ev, ":ActionsSecret")
    variables = _by_type(ev, ":ActionsVariable")
    assert set(secrets) == {"PULUMI_ACCESS_TOKEN", "WORKFLOW_DISPATCH_TOKEN", "APP_PRIVATE_KEY"}
    assert variables == {"APP_ID": {"repository": "platform", "variableName": "APP_ID", "value": "123456"}}
    for name, inputs in secrets.items():
        assert inputs["repository"] == "platform"
        assert is_secret(inputs["value"]), name
        # the provider's current argument, not the deprecated plaintext_value / encrypted_value
        assert "plaintextValue" not in inputs and "encryptedValue" not in inputs
    assert unwrap(secrets["PULUMI_ACCESS_TOKEN"]["value"]) == config["ci:pulumiAccessToken"]
    assert find_leaks(ev, [config[k] for k in secret_keys]) == []
    (component,) = ev.components
    assert ev.component_outputs[component.urn] == {
        "secret_names": ["PULUMI_ACCESS_TOKEN", "WORKFLOW_DISPATCH_TOKEN", "APP_PRIVATE_KEY"],
        "variable_names": ["APP_ID"],
    }


def test_only_configured_entries_are_created(run: Run, chain_config: ChainConfig) -> None:
    config, secret_keys = chain_config
    for key in ("ci:workflowDispatchToken", "ci:githubAppPrivateKey", "ci:githubAppId"):
        del config[key]
    ev = run(lambda: GitHubActionsSecrets("ci", {"repository": "platform"}), config, secret_keys)
    assert [r.inputs.get("secretName") or r.inputs.get("variableName") for r in ev.resources] == ["PULUMI_ACCESS_TOKEN"]


def test_required_entry_missing_is_an_error(run: Run, chain_config: ChainConfig) -> None:
    config, secret_keys = chain_config
    del config["ci:workflowDispatchToken"]
    with pytest.raises(ConfigError) as caught:
        run(lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform", "required": ["WORKFLOW_DISPATCH_TOKEN"]}), config, secret_keys)
    assert 'config "ci:workflowDispatchToken" is missing' in str(caught.value)
    assert 'pulumi env set acme/secret-chain/Production pulumiConfig.ci:workflowDispatchToken github_pat_… --secret' in str(caught.value)


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
    assert len(org_secrets) == 3
    for reg in org_secrets:
        assert reg.inputs["visibility"] == "selected"
        assert is_secret(reg.inputs["value"])
        assert "selectedRepositoryIds" not in reg.inputs  # deprecated on the secret itself
    access = ev.of_type("github:index/actionsOrganizationSecretRepositories:ActionsOrganizationSecretRepositories")
    assert len(access) == 3
    ids = access[0].inputs["selectedRepositoryIds"]
    assert len(ids) == 2 and ids == sorted(ids) and all(i == int(i) for i in ids)  # protobuf carries numbers as doubles
    assert len(ev.of_type("github:index/actionsOrganizationVariableRepositories:ActionsOrganizationVariableRepositories")) == 1


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
