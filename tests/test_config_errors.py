"""The error path of every key the foundation components read: missing and malformed."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable

import pulumi
import pytest

from secret_chain import GhcrPullSecret, GitHubActionsSecrets, PrometheusAuth, catalog
from secret_chain.config import typed_value
from secret_chain.errors import ConfigError, SecretChainError
from secret_chain.ops.offline import is_secret, unwrap
from tests.conftest import canary_config
from tests.runtime import evaluate

BUILDERS: dict[str, Callable[[], object]] = {
    "namespace:imagePullSecret.username": lambda: GhcrPullSecret("pull", {"namespaces": ["default"]}),
    "namespace:imagePullSecret.token": lambda: GhcrPullSecret("pull", {"namespaces": ["default"]}),
    "prometheus:authToken": lambda: PrometheusAuth("metrics", {"namespace": "default"}),
    "ci:pulumiOrganization": lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform", "required": ["PULUMI_ORG"]}),
    "ci:pulumiTokenType": lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform", "required": ["PULUMI_TOKEN_TYPE"]}),
    "ci:githubAppId": lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform", "required": ["APP_ID"]}),
    "ci:githubAppPrivateKey": lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform", "required": ["APP_PRIVATE_KEY"]}),
}

MALFORMED: dict[str, str] = {
    "namespace:imagePullSecret.username": "not a login!",
    "namespace:imagePullSecret.token": "github_pat_" + "CANARYcanary" * 7,
    "prometheus:authToken": "CANARY0123456789",
    "ci:pulumiOrganization": "CANARY org!",
    "ci:pulumiTokenType": "CANARYpersonal",
    "ci:githubAppId": "CANARY-12",
    "ci:githubAppPrivateKey": "-----BEGIN RSA PRIVATE KEY-----\nCANARYCANARYCANARY\n-----END RSA PRIVATE KEY-----",
}


def _attempt(build: Callable[[], object], config: dict[str, str], secret_keys: list[str], caught: list[ConfigError]) -> Callable[[], None]:
    def program() -> None:
        try:
            build()
        except ConfigError as err:
            caught.append(err)

    return program


@pytest.mark.parametrize("key", sorted(BUILDERS))
@pytest.mark.parametrize("problem", ["missing", "malformed"])
@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_every_key_fails_clearly_before_any_resource(key: str, problem: str, preview: bool) -> None:
    config, secret_keys = canary_config()
    if problem == "missing":
        del config[key]
    else:
        config[key] = MALFORMED[key]
    caught: list[ConfigError] = []
    ev = evaluate(_attempt(BUILDERS[key], config, secret_keys, caught), config=config, secret_keys=secret_keys, preview=preview)
    (error,) = caught
    (line,) = error.problems
    entry = catalog.get(key)
    assert line.startswith(f'config "{key}" ')
    assert ("is missing" in line) == (problem == "missing")
    # aimed at the environment that holds the key (esc/production.yaml holds the per-environment ones; Base the others)
    holder = "Production" if entry.per_environment or entry.temporary else "Base"
    if entry.secret:  # read from a file or standard input, never an argument (issue 20; tests/test_pulumi_rules.py)
        assert f"pulumi env set acme/secret-chain/{holder} pulumiConfig.{key} --secret --string --file " in line
        assert f"pulumi config set{' --path' if entry.field else ''} --secret {key}" in line
    else:
        assert f"pulumi env set acme/secret-chain/{holder} pulumiConfig.{key} {typed_value(entry)}" in line
        assert f"pulumi config set{' --path' if entry.field else ''} {key} " in line
    assert "CANARY" not in line and "\n" not in line
    for secret_key in secret_keys:
        assert config.get(secret_key, "<absent>").strip() not in line
    # Nothing was registered but the root stack.
    assert [r.type for r in ev.registrations] == ["pulumi:pulumi:Stack"]


def test_every_problem_is_reported_at_once() -> None:
    config, secret_keys = canary_config()
    del config["namespace:imagePullSecret.username"]
    config["namespace:imagePullSecret.token"] = "ghs_" + "x" * 36
    caught: list[ConfigError] = []
    evaluate(
        _attempt(lambda: GhcrPullSecret("pull", {"namespaces": ["Bad_NS"]}), config, secret_keys, caught),
        config=config,
        secret_keys=secret_keys,
    )
    (error,) = caught
    assert len(error.problems) == 3
    assert str(error) == "\n".join(error.problems)


def test_fix_command_names_default_environment_by_stack() -> None:
    config, secret_keys = canary_config()
    del config["secret-chain:escEnvironment"]
    del config["prometheus:authToken"]
    caught: list[ConfigError] = []
    evaluate(
        _attempt(lambda: PrometheusAuth("m", {"namespace": "default"}), config, secret_keys, caught),
        config=config,
        secret_keys=secret_keys,
        stack="preview-pr-3",
    )
    assert 'pulumi env set <org>/secret-chain/PullRequest pulumiConfig.prometheus:authToken' in str(caught[0])


def _pull_secret_from_output(token: str) -> Callable[[], object]:
    """A pull secret whose token is another resource's Output (known only when that resource exists)."""
    return lambda: GhcrPullSecret("pull", {"namespaces": ["default"], "token": pulumi.Output.from_input(token)})


def test_secret_given_as_an_output_is_checked_and_normalised_when_known() -> None:
    config, secret_keys = canary_config()
    token = "ghp_" + secrets.token_hex(18)
    ev = evaluate(_pull_secret_from_output(f"  {token}\n"), config=config, secret_keys=secret_keys)
    (pull,) = ev.of_type("kubernetes:core/v1:Secret")
    assert is_secret(pull.inputs["stringData"])
    dockerconfig = json.loads(unwrap(pull.inputs)["stringData"][".dockerconfigjson"])
    assert dockerconfig["auths"]["ghcr.io"]["password"] == token  # surrounding whitespace removed, as for config


def test_malformed_secret_given_as_an_output_fails_naming_the_argument_without_the_value() -> None:
    config, secret_keys = canary_config()
    canary = "github_pat_" + secrets.token_hex(24)
    with pytest.raises(SecretChainError) as raised:
        evaluate(_pull_secret_from_output(canary), config=config, secret_keys=secret_keys)
    message = str(raised.value)
    assert 'GhcrPullSecret argument "token"' in message and "classic personal access token" in message and "Fix:" in message
    assert canary not in message and canary[11:] not in message
