"""secret_chain.provider.input_properties_error: the engine-facing form of a component's ConfigError."""

from __future__ import annotations

from secret_chain.errors import ConfigError, SecretChainError
from secret_chain.provider import input_properties_error

NAMES = {"secret_name": "secretName", "image_pull_namespaces": "imagePullNamespaces", "app_namespace": "appNamespace"}


def test_a_problem_naming_an_input_the_component_lacks_goes_into_the_message() -> None:
    """SecretChain reports its parts' problems: a part's argument is no SecretChain input, so it has no path there."""
    error = ConfigError(
        [
            'GrafanaOAuth argument "secret_name" is not a valid Kubernetes object name. Fix: pass a valid value',
            'SecretChain argument "image_pull_namespaces" lists namespaces other than preview-pr-1. Fix: drop it',
        ]
    )
    result = input_properties_error("SecretChain", error, NAMES, frozenset({"imagePullNamespaces", "appNamespace"}))
    assert result.errors == [{"property_path": "imagePullNamespaces", "reason": "lists namespaces other than preview-pr-1. Fix: drop it"}]
    assert result.message == 'GrafanaOAuth input "secretName" is not a valid Kubernetes object name. Fix: pass a valid value'


def test_secret_inputs_and_config_keys_go_into_the_message() -> None:
    error = ConfigError(
        [
            'GhcrPullSecret argument "token" is a fine-grained personal access token (github_pat_…). Fix: pass a valid value',
            'config "namespace:imagePullSecret:username" is missing (GitHub username). Fix: pulumi env set …',
            'GhcrPullSecret argument "secret_name" must be a string, got int. Fix: pass it in the args',
        ]
    )
    result = input_properties_error("GhcrPullSecret", error, NAMES, frozenset({"token", "secretName", "namespaces"}))
    assert result.errors == [{"property_path": "secretName", "reason": "must be a string, got integer. Fix: pass it as an input"}]
    assert result.message.splitlines() == [
        'GhcrPullSecret input "token" is a fine-grained personal access token (github_pat_…). Fix: pass a valid value',
        'config "namespace:imagePullSecret:username" is missing (GitHub username). Fix: pulumi env set …',
    ]


def test_an_error_raised_when_an_output_resolves_is_mapped_too() -> None:
    error = SecretChainError('PrometheusAuth argument "app_namespace" resolved to NoneType, not a string. Fix: pass an Output of a string')
    result = input_properties_error("PrometheusAuth", error, NAMES, frozenset({"appNamespace"}))
    assert result.errors == [{"property_path": "appNamespace", "reason": "resolved to null, not a string. Fix: pass an Output of a string"}]
    assert result.message == ""
