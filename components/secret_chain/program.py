"""The stack program's body, importable so that it can also run offline on the mock runtime."""

from __future__ import annotations

import pulumi

BOOTSTRAP_STACK = "bootstrap"
"""The stack that provisions the ESC tier (:mod:`secret_chain.bootstrap`) instead of a chain."""


def bootstrap() -> None:
    """Create the ESC environments and CI's OIDC trust, and export where they are."""
    from secret_chain.bootstrap import EscBootstrap

    tier = EscBootstrap("secret-chain", {})
    pulumi.export("environments", tier.environments)
    pulumi.export("oidcIssuer", tier.issuer)


def main() -> None:
    """Build the SecretChain for the running stack and export its non-secret outputs.

    ``rolloutAnnotations`` maps each part whose Secret is read at start-up to the annotations to put
    into its consumer's pod template, so that a rotated value rolls the pods.
    """
    if pulumi.get_stack() == BOOTSTRAP_STACK:
        bootstrap()
        return
    from secret_chain.chain import SecretChain

    chain = SecretChain("secret-chain")
    if chain.app_namespace is not None:  # preview-base runs no application
        pulumi.export("appNamespace", chain.app_namespace)
    pulumi.export("parts", chain.parts)
    pulumi.export("rolloutAnnotations", chain.rollout_annotations)
    if chain.grafana_callback_url is not None:
        pulumi.export("grafanaCallbackUrl", chain.grafana_callback_url)
