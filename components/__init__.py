"""secret-chain: Pulumi components for the GitHub → Pulumi ESC → Kubernetes secret chain.

The public classes are imported lazily (PEP 562), so ``import components`` costs almost nothing
beyond the Pulumi SDK and no provider SDK is loaded until a component that needs it is built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "GhcrPullSecret": "components.ghcr",
    "GhcrPullSecretArgs": "components.ghcr",
    "PrometheusAuth": "components.prometheus",
    "PrometheusAuthArgs": "components.prometheus",
    "GitHubActionsSecrets": "components.github_actions",
    "GitHubActionsSecretsArgs": "components.github_actions",
    "FluxGitCredentials": "components.flux",
    "FluxGitCredentialsArgs": "components.flux",
    "FluxImageAutomation": "components.flux_images",
    "FluxImageAutomationArgs": "components.flux_images",
    "CertManagerDnsIssuer": "components.certmanager",
    "CertManagerDnsIssuerArgs": "components.certmanager",
    "GrafanaOAuth": "components.grafana",
    "GrafanaOAuthArgs": "components.grafana",
    "SecretChain": "components.chain",
    "SecretChainArgs": "components.chain",
    "ConfigError": "components.errors",
    "SecretChainError": "components.errors",
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
    from components.certmanager import CertManagerDnsIssuer, CertManagerDnsIssuerArgs
    from components.chain import SecretChain, SecretChainArgs
    from components.errors import ConfigError, SecretChainError
    from components.flux import FluxGitCredentials, FluxGitCredentialsArgs
    from components.flux_images import FluxImageAutomation, FluxImageAutomationArgs
    from components.ghcr import GhcrPullSecret, GhcrPullSecretArgs
    from components.github_actions import GitHubActionsSecrets, GitHubActionsSecretsArgs
    from components.grafana import GrafanaOAuth, GrafanaOAuthArgs
    from components.prometheus import PrometheusAuth, PrometheusAuthArgs


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'components' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
