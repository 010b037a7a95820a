"""SecretChain: every component whose config is present, for one stack.

Stacks are named ``production``, ``preview-base`` or ``preview-pr-<N>``. The chain reads all of its
config and validates every part before it registers anything, so a bad value anywhere leaves the
stack untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypedDict

import pulumi

from components import ghcr, github_actions, prometheus
from components import validators as v
from components.config import ConfigReader, each, raw, string
from components.validators import Invalid

_PR_STACK = re.compile(r"preview-pr-([1-9][0-9]{0,8})")


@dataclass(frozen=True)
class StackKind:
    """What a stack name says: production, the shared preview base, or one pull request's preview."""

    name: str
    pr_number: int | None

    @property
    def is_pr(self) -> bool:
        """True for ``preview-pr-<N>`` stacks."""
        return self.pr_number is not None

    @property
    def environment(self) -> str:
        """The catalog's environment name for this stack: production or preview."""
        return "production" if self.name == "production" else "preview"


def parse_stack(name: str) -> StackKind:
    """Parse a stack name; anything but production, preview-base or preview-pr-<N> is an error."""
    if name in ("production", "preview-base"):
        return StackKind(name, None)
    match = _PR_STACK.fullmatch(name)
    if match:
        return StackKind(name, int(match.group(1)))
    raise Invalid("is not a secret-chain stack name: use production, preview-base or preview-pr-<N> (N the pull request number)")


class SecretChainArgs(TypedDict, total=False):
    """Arguments of :class:`SecretChain`. Each value left out is read from stack config ``secret-chain:<camelCaseName>``."""

    app_namespace: str
    """The application's namespace. PR stacks always use preview-pr-<N>. Default: config secret-chain:appNamespace, else default."""
    image_pull_namespaces: list[str]
    """Namespaces that get the GHCR pull secret. Default: the app namespace."""
    github_repository: str
    """owner/name of the repository whose Actions secrets the chain writes (not in PR stacks). Default: config secret-chain:githubRepository."""
    monitor_namespace: str
    """Namespace of the ServiceMonitor. PR stacks use their own namespace. Default: monitoring."""
    stack: str
    """Stack name to build for. Default: the running stack."""


@dataclass(frozen=True)
class ChainSpec:
    """Validated inputs of a SecretChain: the stack and the spec of each part to build."""

    stack: StackKind
    app_namespace: str
    ghcr: ghcr.GhcrSpec | None
    prometheus: prometheus.PrometheusSpec | None
    github: github_actions.GitHubSpec | None


def _present(*keys: str) -> bool:
    return any(raw(k) is not None for k in keys)


def resolve(args: SecretChainArgs, reader: ConfigReader) -> ChainSpec | None:
    """Validate every part of the chain into one spec; all problems go to ``reader``."""
    stack = reader.arg("stack", args.get("stack") or pulumi.get_stack(), string(parse_stack))
    if stack is None:
        return None
    if stack.is_pr:
        app_namespace: str | None = stack.name
    else:
        app_namespace = reader.plain("secret-chain:appNamespace", args.get("app_namespace"), required=False, arg_name="app_namespace")
        if app_namespace is None and not reader.problems:
            app_namespace = "default"
    if app_namespace is None:
        return None
    pull_namespaces = reader.arg("image_pull_namespaces", args.get("image_pull_namespaces") or [app_namespace], each(v.dns1123_label))

    ghcr_spec = None
    if _present(ghcr.USERNAME_KEY, ghcr.TOKEN_KEY):
        ghcr_spec = ghcr.resolve({"namespaces": pull_namespaces or [app_namespace]}, reader)

    prom_spec = None
    if _present(prometheus.TOKEN_KEY):
        monitor_ns = app_namespace if stack.is_pr else args.get("monitor_namespace", "monitoring")
        prom_spec = prometheus.resolve({"namespace": app_namespace, "monitor_namespace": monitor_ns}, reader)

    github_spec = None
    repository = reader.plain("secret-chain:githubRepository", args.get("github_repository"), required=False, arg_name="github_repository")
    # PR stacks never write repository secrets: those are shared by every PR and owned by preview-base/production.
    if not stack.is_pr and repository is not None and _present(*(e.config_key for e in github_actions.ENTRIES)):
        github_spec = github_actions.resolve({"repository": repository}, reader)

    if reader.problems:
        return None
    return ChainSpec(stack, app_namespace, ghcr_spec, prom_spec, github_spec)


class SecretChain(pulumi.ComponentResource):
    """The whole secret chain of one stack: every component whose config is present.

    All config is validated first; one :class:`~components.errors.ConfigError` lists every problem
    and nothing is registered. PR stacks (``preview-pr-<N>``) work only inside their own namespace.
    """

    app_namespace: pulumi.Output[str]
    """The namespace the application runs in."""
    parts: pulumi.Output[list[str]]
    """Names of the components built, in order."""

    def __init__(self, name: str, args: SecretChainArgs | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        args = args or {}
        stack_name = args.get("stack") or pulumi.get_stack()
        try:
            environment_stack = parse_stack(stack_name).name if isinstance(stack_name, str) else pulumi.get_stack()
        except Invalid:
            environment_stack = pulumi.get_stack()
        from components.config import esc_environment

        reader = ConfigReader("SecretChain", esc_environment(environment_stack))
        spec = resolve(args, reader)
        reader.done()
        assert spec is not None
        super().__init__("secret-chain:index:SecretChain", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        parts: list[str] = []
        if spec.ghcr is not None:
            ghcr.GhcrPullSecret.from_spec(f"{name}-ghcr", spec.ghcr, child)
            parts.append("GhcrPullSecret")
        if spec.prometheus is not None:
            prometheus.PrometheusAuth.from_spec(f"{name}-prometheus", spec.prometheus, child)
            parts.append("PrometheusAuth")
        if spec.github is not None:
            github_actions.GitHubActionsSecrets.from_spec(f"{name}-github", spec.github, child)
            parts.append("GitHubActionsSecrets")
        self.app_namespace = pulumi.Output.from_input(spec.app_namespace)
        self.parts = pulumi.Output.from_input(parts)
        self.register_outputs({"app_namespace": self.app_namespace, "parts": self.parts})
