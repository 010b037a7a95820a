"""The stack program's body, importable so that it can also run offline on the mock runtime."""

from __future__ import annotations

import pulumi

BOOTSTRAP_STACK = "bootstrap"
"""The name of the stack that provisions the ESC tier (:mod:`secret_chain.bootstrap`) instead of a chain; a stack of
another name does so when it declares ``secret-chain:stackKind: bootstrap``."""


def bootstrap() -> None:
    """Create the ESC environments and CI's OIDC trust, and export where they are."""
    from secret_chain.bootstrap import EscBootstrap

    tier = EscBootstrap("secret-chain", {})
    pulumi.export("environments", tier.environments)
    pulumi.export("oidcIssuer", tier.issuer)


def main() -> None:
    """Build the SecretChain for the running stack and export its non-secret outputs.

    ``rolloutAnnotations`` maps each part whose Secret is read at start-up to the annotations to put
    into its consumer's pod template, so that a rotated value rolls the pods. ``stackKind`` is the stack's kind
    (:mod:`secret_chain.stacks`): ``pulumi stack export`` keeps it with the state, so ``secret-chain rotation`` names the
    stack's ESC environment whatever the stack is called. The bootstrap stack (of kind bootstrap, whatever its name)
    builds the ESC tier instead.
    """
    from secret_chain.config import running_stack_kind
    from secret_chain.parts import Kind

    # The stack's kind (secret-chain:stackKind, else its name), before anything is registered: a stack of an unknown
    # kind stops here with one line naming the setting and its fix.
    kind = running_stack_kind()
    if kind.kind is Kind.BOOTSTRAP:
        bootstrap()
        return
    from secret_chain.chain import SecretChain

    chain = SecretChain("secret-chain")
    pulumi.export("stackKind", kind.kind_name)
    if chain.app_namespace is not None:  # preview-base runs no application
        pulumi.export("appNamespace", chain.app_namespace)
    pulumi.export("parts", chain.parts)
    pulumi.export("rolloutAnnotations", chain.rollout_annotations)
    if chain.grafana_callback_url is not None:
        pulumi.export("grafanaCallbackUrl", chain.grafana_callback_url)
