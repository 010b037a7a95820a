"""Preflight: check a stack's effective config against the catalog before ``pulumi up``.

Which keys are required depends on which components the config enables. That knowledge is data:
:data:`GROUPS` lists every group of keys that belong together and the rule that binds them, and
:func:`check` applies the rules, then runs each present key's catalog format check. No message
produced here contains a configured value or any part of one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from components import catalog
from components.catalog import Key, Tier
from components.chain import StackKind, parse_stack
from components.config import ESC_ENVIRONMENT_KEY, esc_environment, fix_command
from components.errors import SecretChainError
from components.validators import Invalid


class Rule(StrEnum):
    """How the keys of a group bind each other."""

    ALL_OR_NONE = "all or none"
    """Any key present enables the component, and then every key of the group is required."""
    ONE_OF = "one alternative"
    """The group has alternatives (each a set of keys): at most one may be used, and it must be complete."""
    OPTIONAL = "each optional"
    """Each key is optional and validated when present."""


@dataclass(frozen=True)
class Group:
    """Keys that belong together, with the rule that binds them."""

    name: str
    """Component or area the keys configure."""
    rule: Rule
    alternatives: tuple[tuple[str, ...], ...]
    """One tuple of keys (ALL_OR_NONE, OPTIONAL) or several alternatives (ONE_OF)."""
    requires: tuple[str, ...] = ()
    """Further keys required when the group is enabled (outside PR stacks when ``not_in_pr``)."""
    not_in_pr: bool = False
    """The component is never built in preview-pr-<N> stacks: its keys are then ignored, not required."""

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key of the group, in order."""
        return tuple(k for alt in self.alternatives for k in alt)


ROLLOUT_KEY = "secret-chain:rolloutKey"
MUTABLE_SECRETS = "kubernetes:enableSecretMutable"
"""Every component that writes a Kubernetes Secret needs it: otherwise a rotation deletes and re-creates the Secret."""
PREVIOUS_PROMETHEUS_TOKEN = "prometheus:previousAuthToken"

GROUPS: tuple[Group, ...] = (
    Group(
        "GhcrPullSecret",
        Rule.ALL_OR_NONE,
        (("namespace:imagePullSecret.username", "namespace:imagePullSecret.token"),),
        requires=(MUTABLE_SECRETS,),
    ),
    Group("PrometheusAuth", Rule.ALL_OR_NONE, (("prometheus:authToken",),), requires=(ROLLOUT_KEY, MUTABLE_SECRETS)),
    # Only during phase 1 of a rotation of prometheus:authToken; meaningless without it.
    Group("PrometheusAuth rotation", Rule.OPTIONAL, ((PREVIOUS_PROMETHEUS_TOKEN,),), requires=("prometheus:authToken",)),
    Group(
        "GitHubActionsSecrets",
        Rule.OPTIONAL,
        (
            (
                "ci:pulumiOrganization",
                "ci:pulumiTokenType",
                "ci:pulumiTeam",
                "ci:githubAppId",
                "ci:githubAppPrivateKey",
                "ci:pulumiAuth",
                "ci:pulumiFallbackAccessToken",
                "ci:pulumiAccessToken",  # deprecated (issue 14): GitHubActionsSecrets warns and ignores it
                "ci:workflowDispatchToken",  # deprecated (issue 14)
            ),
        ),
        requires=("secret-chain:githubRepository",),
        not_in_pr=True,
    ),
    Group(
        "FluxGitCredentials",
        Rule.ONE_OF,
        (("flux:githubToken",), ("flux:githubAppId", "flux:githubAppInstallationId", "flux:githubAppPrivateKey")),
        requires=("secret-chain:fluxRepositoryUrl", MUTABLE_SECRETS),
    ),
    Group(
        "CertManagerDnsIssuer",
        Rule.ALL_OR_NONE,
        (("gateway:digitaloceanDnsToken",),),
        requires=("secret-chain:domain", "secret-chain:acmeEmail", MUTABLE_SECRETS),
    ),
    Group("DigitalOcean provider", Rule.OPTIONAL, (("digitalocean:token",),)),
    Group(
        "GrafanaOAuth",
        Rule.ALL_OR_NONE,
        (("grafana:githubClientId", "grafana:githubClientSecret", "grafana:githubOrg", "grafana:adminUser"),),
        requires=("secret-chain:domain", ROLLOUT_KEY, MUTABLE_SECRETS),
    ),
    Group(
        "GrafanaOAuth mail",
        Rule.ALL_OR_NONE,
        (
            (
                "grafana:smtpHost",
                "grafana:smtpPort",
                "grafana:smtpUser",
                "grafana:smtpPassword",
                "grafana:smtpFromAddress",
                "grafana:alertEmail",
            ),
        ),
        # Mail settings are part of GrafanaOAuth: they are useless without its OAuth keys.
        requires=("grafana:githubClientId", "grafana:githubClientSecret", "grafana:githubOrg", "grafana:adminUser"),
    ),
    Group("GitHub provider", Rule.OPTIONAL, (("github:token",),)),
    Group("Rollout triggers", Rule.OPTIONAL, ((ROLLOUT_KEY,),)),
    Group("Kubernetes provider", Rule.OPTIONAL, ((MUTABLE_SECRETS,),)),
    Group(
        "Stack settings",
        Rule.OPTIONAL,
        (tuple(k.key for k in catalog.KEYS if k.namespace == "secret-chain" and k.tier is Tier.STACK),),
    ),
)

CATALOG_NAMESPACES = frozenset(k.namespace for k in catalog.KEYS)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one key. ``message`` never contains the value."""

    key: str
    kind: str
    """missing, malformed, conflict, plaintext, alias, ignored, rotation or unknown."""
    message: str
    fix: str
    group: str

    def line(self) -> str:
        """One line: key, what is wrong, the fix."""
        return f'config "{self.key}" {self.message}. Fix: {self.fix}' if self.fix else f'config "{self.key}" {self.message}'


@dataclass
class Report:
    """The outcome of a preflight check."""

    stack: str
    environment: str
    """The ESC environment fix commands write to."""
    enabled: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong (warnings do not count)."""
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        """Machine-readable report (key names and messages only, never values)."""
        return {
            "stack": self.stack,
            "escEnvironment": self.environment,
            "ok": self.ok,
            "enabled": self.enabled,
            "checked": self.checked,
            "problems": [p.__dict__ for p in self.problems],
            "warnings": [p.__dict__ for p in self.warnings],
        }


def _lookup(entry: Key, config: Mapping[str, str]) -> tuple[str, str] | None:
    """(key actually used, raw value) of ``entry``: the key itself, else its first present alias."""
    for name in (entry.key, *entry.aliases):
        if name in config:
            return name, config[name]
    return None


def group_of(key: str) -> Group:
    """The group a catalog key belongs to."""
    for group in GROUPS:
        if key in group.keys:
            return group
    raise KeyError(key)


def check(config: Mapping[str, str], secret_keys: Sequence[str], stack: str) -> Report:
    """Check ``config`` (flat ``pulumi config`` keys) for stack ``stack`` against the catalog."""
    try:
        kind: StackKind = parse_stack(stack)
    except Invalid as err:
        raise SecretChainError(f'--stack "{stack}" {err}') from None
    configured_env = config.get(ESC_ENVIRONMENT_KEY, "")
    try:
        environment = esc_environment(kind.name, catalog.get(ESC_ENVIRONMENT_KEY).check(configured_env) if configured_env else "")
    except Invalid:
        environment = esc_environment(kind.name, "")
    report = Report(stack=kind.name, environment=environment)
    present = {e.key for e in catalog.KEYS if _lookup(e, config) is not None}
    secret_set = set(secret_keys)

    def problem(key: str, what: str, message: str, group: Group, *, warn: bool = False, fix: bool = True) -> None:
        entry = catalog.get(key)
        item = Problem(key, what, message, fix_command(entry, environment) if fix else "", group.name)
        (report.warnings if warn else report.problems).append(item)

    for group in GROUPS:
        used = [k for k in group.keys if k in present]
        if group.not_in_pr and kind.is_pr:
            for key in used:
                problem(
                    key,
                    "ignored",
                    f"is ignored in PR stacks ({group.name} is built only by preview-base and production)",
                    group,
                    warn=True,
                    fix=False,
                )
            continue
        if not used:
            continue
        report.enabled.append(group.name)
        if group.rule is Rule.ALL_OR_NONE:
            for key in group.keys:
                if key not in present:
                    others = ", ".join(k for k in used)
                    problem(key, "missing", f"is missing: {group.name} is enabled by {others} and needs all of its keys", group)
        elif group.rule is Rule.ONE_OF:
            chosen = [alt for alt in group.alternatives if any(k in present for k in alt)]
            if len(chosen) > 1:
                for alt in chosen[1:]:
                    for key in alt:
                        if key in present:
                            problem(
                                key,
                                "conflict",
                                f"conflicts with {', '.join(k for k in chosen[0] if k in present)}: {group.name} takes "
                                f"{' or '.join(' + '.join(a) for a in group.alternatives)}, not both; remove one",
                                group,
                                fix=False,
                            )
            for alt in chosen:
                for key in alt:
                    if key not in present:
                        problem(key, "missing", f"is missing: {group.name} uses {' + '.join(alt)} together", group)
        for key in group.requires:
            if key not in present and not any(p.key == key and p.kind == "missing" for p in report.problems):
                problem(key, "missing", f"is missing: {group.name} is enabled by {', '.join(used)} and needs it", group)

    for entry in catalog.KEYS:
        found = _lookup(entry, config)
        if found is None:
            continue
        name, value = found
        group = group_of(entry.key)
        if group.not_in_pr and kind.is_pr:
            continue
        report.checked.append(entry.key)
        try:
            entry.check(value)
        except Invalid as err:
            problem(entry.key, "malformed", f"{err}" if str(err).startswith("is ") else f"is invalid: {err}", group)
        if entry.secret and name not in secret_set:
            problem(entry.key, "plaintext", "is a secret but is stored in plain text; set it again with --secret", group)
        if name != entry.key:
            problem(entry.key, "alias", f'is read from the older key "{name}"; move it to "{entry.key}"', group, warn=True)
        if entry.temporary:
            from components.inventory import doc_link

            problem(
                entry.key,
                "rotation",
                f"is set: a rotation is in progress; remove it once the consumers have rolled ({doc_link(entry.key)})",
                group,
                warn=True,
                fix=False,
            )

    _check_previous_token(config, problem)
    for key in sorted(config):
        namespace = key.split(":", 1)[0]
        if namespace in CATALOG_NAMESPACES and key not in catalog.BY_KEY and not any(key in e.aliases for e in catalog.KEYS):
            if namespace in ("github", "digitalocean", "kubernetes"):
                continue  # providers' own settings (github:owner, …) are not in the catalog
            report.warnings.append(Problem(key, "unknown", "is not a key secret-chain knows (a typo?); it is ignored", "", ""))
    return report


def _check_previous_token(config: Mapping[str, str], problem: Callable[..., None]) -> None:
    """During a rotation the previous Prometheus token must differ from the new one (compared, never shown)."""
    new, old = config.get("prometheus:authToken"), config.get(PREVIOUS_PROMETHEUS_TOKEN)
    if new is None or old is None or new.strip() != old.strip():
        return
    problem(
        "prometheus:authToken",
        "conflict",
        f'is the same as "{PREVIOUS_PROMETHEUS_TOKEN}": phase 1 of a rotation needs the new token in prometheus:authToken '
        f"and the old one in {PREVIOUS_PROMETHEUS_TOKEN}",
        group_of("prometheus:authToken"),
    )


def render_text(report: Report) -> str:
    """Human-readable report; names keys, never values."""
    lines = [f"Preflight of stack {report.stack} (fixes write to ESC environment {report.environment})"]
    lines.append(f"  components enabled by the config: {', '.join(report.enabled) or 'none'}")
    lines.append(f"  keys checked: {len(report.checked)}")
    if report.problems:
        lines += ["", f"{len(report.problems)} problem(s):"]
        lines += [f"  ✗ {p.line()}" for p in report.problems]
    if report.warnings:
        lines += ["", f"{len(report.warnings)} warning(s):"]
        lines += [f"  ! {p.line()}" for p in report.warnings]
    lines += ["", "OK: the config is ready for `pulumi up`." if report.ok else "NOT READY: fix the problems above, then run preflight again."]
    return "\n".join(lines) + "\n"
