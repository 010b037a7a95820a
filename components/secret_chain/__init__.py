"""secret-chain: Pulumi components for the GitHub → Pulumi ESC → Kubernetes secret chain.

The public classes are imported lazily (PEP 562), so ``import secret_chain`` costs almost nothing
beyond the Pulumi SDK and no provider SDK is loaded until a component that needs it is built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "GhcrPullSecret": "secret_chain.ghcr",
    "GhcrPullSecretArgs": "secret_chain.ghcr",
    "PrometheusAuth": "secret_chain.prometheus",
    "PrometheusAuthArgs": "secret_chain.prometheus",
    "GitHubActionsSecrets": "secret_chain.github_actions",
    "GitHubActionsSecretsArgs": "secret_chain.github_actions",
    "FluxGitCredentials": "secret_chain.flux",
    "FluxGitCredentialsArgs": "secret_chain.flux",
    "FluxImageAutomation": "secret_chain.flux_images",
    "FluxImageAutomationArgs": "secret_chain.flux_images",
    "CertManagerDnsIssuer": "secret_chain.certmanager",
    "CertManagerDnsIssuerArgs": "secret_chain.certmanager",
    "GrafanaOAuth": "secret_chain.grafana",
    "GrafanaOAuthArgs": "secret_chain.grafana",
    "SecretChain": "secret_chain.chain",
    "SecretChainArgs": "secret_chain.chain",
    "ConfigError": "secret_chain.errors",
    "SecretChainError": "secret_chain.errors",
}

__all__ = [
    "CertManagerDnsIssuer",
    "CertManagerDnsIssuerArgs",
    "ConfigError",
    "FluxGitCredentials",
    "FluxGitCredentialsArgs",
    "FluxImageAutomation",
    "FluxImageAutomationArgs",
    "GhcrPullSecret",
    "GhcrPullSecretArgs",
    "GitHubActionsSecrets",
    "GitHubActionsSecretsArgs",
    "GrafanaOAuth",
    "GrafanaOAuthArgs",
    "PrometheusAuth",
    "PrometheusAuthArgs",
    "SecretChain",
    "SecretChainArgs",
    "SecretChainError",
]

if TYPE_CHECKING:
    from secret_chain.certmanager import CertManagerDnsIssuer, CertManagerDnsIssuerArgs
    from secret_chain.chain import SecretChain, SecretChainArgs
    from secret_chain.errors import ConfigError, SecretChainError
    from secret_chain.flux import FluxGitCredentials, FluxGitCredentialsArgs
    from secret_chain.flux_images import FluxImageAutomation, FluxImageAutomationArgs
    from secret_chain.ghcr import GhcrPullSecret, GhcrPullSecretArgs
    from secret_chain.github_actions import GitHubActionsSecrets, GitHubActionsSecretsArgs
    from secret_chain.grafana import GrafanaOAuth, GrafanaOAuthArgs
    from secret_chain.prometheus import PrometheusAuth, PrometheusAuthArgs


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'secret_chain' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
