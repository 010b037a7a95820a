"""The one catalog of every secret and config value in the chain: the only place a config key is named.

Each value is declared here once, as a module constant (``PROMETHEUS_TOKEN = Key("prometheus:authToken", …)``):
its config key, whether it is secret, its format check, its tier and environments, its rotation schedule, and
the purpose and example that error messages and fix commands use. Components pass these objects to
:class:`secret_chain.config.ConfigReader`; no other module spells a key (tests/test_key_literals.py). What the
runbook says to people about each key (consumers, symptom, scopes, how to make and rotate it) is
:mod:`secret_chain.ops.runbook`; where each value lands is derived from what the components register
(:func:`secret_chain.ops.plan.flows`).
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from enum import StrEnum

from secret_chain import validators as v
from secret_chain.validators import Check


class Rotation(StrEnum):
    """How often a value must be replaced (the runbook's schedules)."""

    QUARTERLY = "quarterly"
    ANNUALLY = "annually"
    ON_OAUTH_APP_ROTATION = "when the OAuth app is rotated"
    ON_PROVIDER_CHANGE = "when the provider changes"
    ON_COMPROMISE = "on compromise only"
    NEVER = "n/a"

    @property
    def days(self) -> int | None:
        """The schedule in days, or None for values that are rotated on an event rather than a clock."""
        return {Rotation.QUARTERLY: 90, Rotation.ANNUALLY: 365}.get(self)


class Tier(StrEnum):
    """Where a value is set by a person."""

    ESC = "esc"
    """An ESC environment's ``values.pulumiConfig`` (``pulumi env set``)."""
    STACK = "stack"
    """The stack's own config file (``pulumi config set``): non-secret settings."""


BOTH = ("preview", "production")


@dataclass(frozen=True)
class Key:
    """One config value of the chain."""

    key: str
    """Full config key, ``namespace:name`` as ESC's ``pulumiConfig`` and ``pulumi config`` write it."""
    secret: bool
    """Whether the value is a secret (held only as a secret Output)."""
    check: Check
    """Format check; returns the normalised value."""
    purpose: str
    """What the value is for, in one line."""
    example: str
    """What to type in a fix command in place of the value (a shape, never a real value)."""
    rotation: Rotation = Rotation.NEVER
    """Rotation schedule."""
    environments: tuple[str, ...] = BOTH
    """The ESC environments (preview, production) that carry it."""
    tier: Tier = Tier.ESC
    """Where a person sets it."""
    aliases: tuple[str, ...] = field(default=())
    """Older keys accepted in its place (read only when the key itself is absent)."""
    project_aliases: tuple[str, ...] = field(default=())
    """Older names accepted in the importing program's own namespace, ``<project>:<name>`` with ``<project>`` the
    Pulumi project that runs (``pulumi.get_project()``), after :attr:`aliases`. Setting the bare name ``github.token``
    writes ``<project>:github.token``: the CLI's ``parseConfigKey`` (pulumi/pulumi ``config`` command) treats a key
    without a namespace as the project's. Only a running program knows the project, so ``secret-chain preflight``
    cannot see these."""
    temporary: bool = False
    """Set only while a rotation is in progress (absent otherwise, so not in the ESC templates)."""
    field: str = ""
    """For a field of an object-valued config key: the field's name. ``key`` is then the path
    ``<config key>.<field>``, as ``pulumi config set --path`` writes it (the CLI parses a config key as
    ``<namespace>:<name>`` only, so related values share one object key instead of a third colon)."""
    example_file: str = ""
    """For a multi-line value (a PEM key): the file a person keeps it in; fix commands read it from there in a form
    the CLI takes whole (:func:`secret_chain.config.set_command`)."""
    json_types: tuple[str, ...] = ("string",)
    """The JSON types ``pulumi config --json`` may show for the value (``value`` is a string; ``objectValue``
    carries the others): anything else is refused, never coerced."""
    per_environment: bool = False
    """Held by each environment whose stacks read it, never by Base (:mod:`secret_chain.environments`): a value that
    differs between environments (a PR's Grafana OAuth app is not production's), or a credential that reaches beyond
    the stack that reads it (a GitHub App key, a DigitalOcean token: each environment holds its own, so opening what a
    pull request may open never yields production's; docs/least-privilege.md, "Who can obtain what")."""
    opt_in: bool = False
    """Set only by a deliberate choice (a team token, the stored-token fallback): absent otherwise, so not in the ESC templates."""
    generated_when_absent: str = ""
    """Set on a key the program makes for itself when it is absent: how it makes and keeps the value. Such a key
    is optional (never missing); a value that is set is still checked."""
    deprecated: str = ""
    """Set on a key that is no longer used but stays readable for one release: what replaced it. Reading the
    key then warns (naming the key and this), never fails; the key goes in :data:`REMOVED_IN`."""
    not_example: Check | None = None
    """For a value that names a domain, a mailbox or an account: refuses the documentation's reserved examples
    (``example.com``, ``ops@example.com``, ``example-org``: :func:`~secret_chain.validators.real_domain` and its kin) in
    the go/no-go ``check`` only, like a published secret: a stack deployed with them aims CI at someone else's account
    and ACME at a domain nobody serves, while ``plan`` still renders the example configs (``shape``)."""

    shape: Check = dataclasses.field(default=v.nonempty, init=False, repr=False, compare=False)
    """What a stack program accepts (set from ``check``): the declared format check, refusing first a value that is
    not valid Unicode text (:func:`~secret_chain.validators.utf8_text`) and a runbook placeholder
    (:func:`~secret_chain.validators.placeholder`). The component layer (:class:`secret_chain.config.ConfigReader`)
    validates with it, so ``plan`` renders the example configs."""

    def __post_init__(self) -> None:
        declared = self.check
        shape = v.utf8_text(_then(v.placeholder, declared))
        object.__setattr__(self, "shape", shape)
        # ``check`` becomes the go/no-go (what ``preflight`` runs): the shape, no value reserved for documentation
        # (not_example), and for a secret no published or made-up value (secret_chain.published), so the example
        # configs are NOT READY although they render.
        guarded = _then(shape, self.not_example) if self.not_example is not None else shape
        object.__setattr__(self, "check", v.utf8_text(_then(guarded, _published)) if self.secret else guarded)

    def __str__(self) -> str:
        """The key as people and the CLI write it (``namespace:name``), so a message can say ``f"{entry}"``."""
        return self.key

    @property
    def config_key(self) -> str:
        """The config key that holds the value: ``key`` itself, or for a field the object key before ``.<field>``."""
        return self.key[: -len(self.field) - 1] if self.field else self.key

    @property
    def namespace(self) -> str:
        """Config namespace: the part before the first colon."""
        return self.key.split(":", 1)[0]

    @property
    def name(self) -> str:
        """Config name within the namespace: everything after the first colon."""
        return self.key.split(":", 1)[1]


def _then(first: Check, second: Check) -> Check:
    """``second(first(value))``: two checks in a row, the second on the first's normalised value."""

    def both(value: str) -> str:
        return second(first(value))

    both.__doc__ = second.__doc__
    return both


def _published(value: str) -> str:
    """Refuse a well-formed secret that is published or made up (:mod:`secret_chain.published`)."""
    from secret_chain import published

    return published.refuse(value)


def _classic_pat_for_ghcr() -> Check:
    return v.github_token(
        "ghp_",
        why=(
            "GitHub Packages (ghcr.io) authenticates image pulls only with a classic personal access token; "
            "fine-grained and GitHub App tokens are refused with 401/403. Create a classic token with read:packages"
        ),
    )


def _must_be_true(value: str) -> str:
    """Check a pulumi-kubernetes flag that must be on: exactly the string ``true``.

    The provider turns the flag on only for ``"true"`` (:func:`secret_chain.pulumi_rules.provider_flag_enabled`,
    a port of provider.go ``Configure``): ``True``, ``1`` or ``" true"`` leave it off, so they are refused here.
    """
    if value != "true":
        raise v.Invalid(
            f"is {v.shown(value) or 'a value'}, not exactly true: pulumi-kubernetes turns enableSecretMutable on only for the string true "
            "(provider.go Configure) and otherwise replaces a Secret (deletes it, then creates it again) whenever its "
            "data changes, so every rotation would leave consumers without the Secret for a moment"
        )
    return value


DECLARABLE_PARTS: tuple[str, ...] = (
    "GhcrPullSecret",
    "PrometheusAuth",
    "FluxGitCredentials",
    "FluxImageAutomation",
    "CertManagerDnsIssuer",
    "GrafanaOAuth",
    "GrafanaOAuth.mail",
    "GitHubActionsSecrets",
    "GitHubActionsSecrets.fallback",
)
"""The parts ``secret-chain:parts`` may list: the declarable rows of :data:`secret_chain.parts.PARTS`, in its order.

Written here because the table reads the catalog, so the catalog cannot read the table (no import cycle);
tests/test_import_graph.py keeps the two equal."""


def check_declared_parts(text: str) -> str:
    """Check ``secret-chain:parts`` (JSON text of a list of part names); return it normalised.

    Only the shape and the names are checked here; whether the stack kind builds each part is
    :func:`secret_chain.parts.select`'s.
    """
    try:
        names = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, an integer past int_max_str_digits, or nested past the recursion limit
        names = None
    declarable = ", ".join(DECLARABLE_PARTS)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise v.Invalid(f"must be a list of part names (in the stack file, a YAML list) of: {declarable}")
    unknown = [str(i) for i, n in enumerate(names) if n not in DECLARABLE_PARTS]
    if unknown:
        raise v.Invalid(f"item(s) {', '.join(unknown)} name no part that can be declared; the parts are: {declarable}")
    if not names:
        raise v.Invalid(f"is an empty list: a stack that declares no part would delete everything it built; list its parts, of: {declarable}")
    if len(set(names)) != len(names):
        raise v.Invalid("lists the same part twice")
    return json.dumps(names)




DEPRECATED_SINCE = "0.2.0"
"""The release in which the deprecated keys stopped being used (CHANGELOG)."""
REMOVED_IN = "0.3.0"
"""The release that drops the keys deprecated in :data:`DEPRECATED_SINCE` (CHANGELOG)."""

PULUMI_TOKEN_TYPES = ("organization", "team")
"""The Pulumi access tokens CI asks for by OIDC (requested-token-type ``urn:pulumi:token-type:access_token:<type>``).
Pulumi docs, OIDC issuers, "Token types by edition": Individual personal only; Team personal and organization;
Enterprise and Business Critical also team. Personal tokens carry one user's rights and are not offered."""
STORED_TOKEN_FALLBACK = "stored-token-fallback"
"""The one value of ``ci:pulumiAuth`` (variable PULUMI_AUTH) that switches CI from OIDC to the stored fallback token."""

_PULUMI_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def _pulumi_name(value: str) -> str:
    """Check a Pulumi Cloud organisation or team name as the workflows pass it (one word: letters, digits, ``.``, ``_``, ``-``)."""
    text = value.strip()
    if not _PULUMI_NAME.fullmatch(text):
        raise v.Invalid("is not a Pulumi Cloud organisation or team name (letters, digits, '.', '_' and '-', at most 100)")
    return text


_POLICY_TEAM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")


def _policy_team_name(value: str) -> str:
    """Check a Pulumi team name an OIDC policy rule names: no '.', which a policy's team scope matches as any one character."""
    text = value.strip()
    if not _POLICY_TEAM.fullmatch(text):
        raise v.Invalid(
            "is not a Pulumi team name an OIDC policy can name exactly (letters, digits, '-' and '_', at most 100): a policy's "
            "team scope treats '.' as any one character (Pulumi docs, OIDC Issuers: wildcards), so a pull request could "
            "request the token of a team whose name differs there"
        )
    return text


def _pulumi_token_type(value: str) -> str:
    if value not in PULUMI_TOKEN_TYPES:
        raise v.Invalid(
            "must be organization or team: organization tokens need the Team edition or above, team tokens Enterprise or "
            "Business Critical (Pulumi docs, OIDC token types by edition)"
        )
    return value


def _stored_token_fallback(value: str) -> str:
    if value != STORED_TOKEN_FALLBACK:
        raise v.Invalid(f"must be {STORED_TOKEN_FALLBACK} (or absent: CI then logs in by OIDC)")
    return value


# --- GhcrPullSecret -------------------------------------------------------------------------
GHCR_USERNAME = Key(
    "namespace:imagePullSecret.username",
    field="username",
    secret=False,
    check=v.github_login,
    not_example=v.real_owner,
    purpose="GitHub username for GHCR authentication",
    example="your-github-username",
)

GHCR_TOKEN = Key(
    "namespace:imagePullSecret.token",
    field="token",
    secret=True,
    check=_classic_pat_for_ghcr(),
    purpose="Pull private images from ghcr.io (Kubernetes imagePullSecrets)",
    example="ghp_…",
    rotation=Rotation.ANNUALLY,
)

# --- PrometheusAuth ---------------------------------------------------------------------------
PROMETHEUS_TOKEN = Key(
    "prometheus:authToken",
    per_environment=True,
    secret=True,
    check=v.random_token,
    purpose="Bearer token Prometheus presents to scrape the app's /metrics endpoint",
    example="$(openssl rand -hex 32)",
    rotation=Rotation.ANNUALLY,
)

PROMETHEUS_PREVIOUS_TOKEN = Key(
    "prometheus:previousAuthToken",
    secret=True,
    check=v.random_token,
    purpose=(
        "The token being replaced, only during a two-phase rotation of prometheus:authToken: "
        "the app accepts it too and Prometheus keeps sending it"
    ),
    example="<the current prometheus:authToken>",
    temporary=True,
)

# --- GitHubActionsSecrets ---------------------------------------------------------------------
CI_PULUMI_ORGANIZATION = Key(
    "ci:pulumiOrganization",
    secret=False,
    check=_pulumi_name,
    not_example=v.real_org,
    purpose="Pulumi Cloud organisation CI logs in to by OIDC (audience urn:pulumi:org:<org>) and whose stacks it runs",
    example="acme",
)

CI_PULUMI_TOKEN_TYPE = Key(
    "ci:pulumiTokenType",
    per_environment=True,
    secret=False,
    check=_pulumi_token_type,
    purpose=(
        "Pulumi access token CI requests by OIDC: organization (Team edition and above) or team (Enterprise, Business "
        "Critical; least privilege)"
    ),
    example="organization",
)

CI_PULUMI_TEAM = Key(
    "ci:pulumiTeam",
    per_environment=True,
    secret=False,
    check=_pulumi_name,
    purpose="Pulumi team whose team token CI requests when ci:pulumiTokenType is team (scope team:<team>)",
    opt_in=True,
    example="ci-deployers",
)

CI_PULUMI_PREVIEW_TEAM = Key(
    "ci:pulumiPreviewTeam",
    secret=False,
    check=_policy_team_name,
    tier=Tier.STACK,
    purpose=(
        "The bootstrap stack's Pulumi team for the jobs that run a pull request's code (GitHub environment preview): "
        "their OIDC token is this team's, which the bootstrap creates with open on PullRequest and Base only (Enterprise, "
        "Business Critical); unset, they get the organization token of ci:pulumiTokenType"
    ),
    example="ci-previews",
)

CI_PULUMI_AUTH = Key(
    "ci:pulumiAuth",
    per_environment=True,
    secret=False,
    check=_stored_token_fallback,
    opt_in=True,
    purpose=(
        f"Opt-in only: {STORED_TOKEN_FALLBACK} makes CI log in with ci:pulumiFallbackAccessToken instead of OIDC "
        "(a Pulumi Cloud without OIDC issuers); absent, CI uses OIDC"
    ),
    example=STORED_TOKEN_FALLBACK,
)

CI_PULUMI_FALLBACK_ACCESS_TOKEN = Key(
    "ci:pulumiFallbackAccessToken",
    per_environment=True,
    secret=True,
    opt_in=True,
    check=v.pulumi_access_token,
    purpose=(
        "Opt-in fallback for a Pulumi Cloud without OIDC issuers, with ci:pulumiAuth: a stored Pulumi access token "
        "(every edition of Pulumi Cloud offers OIDC: prefer it)"
    ),
    example="pul-…",
    rotation=Rotation.ANNUALLY,
)

CI_PULUMI_ACCESS_TOKEN = Key(
    "ci:pulumiAccessToken",
    secret=True,
    check=v.pulumi_access_token,
    purpose=f"Deprecated in {DEPRECATED_SINCE}, removed in {REMOVED_IN}: no longer written (CI logs in to Pulumi Cloud by OIDC)",
    example="pul-…",
    rotation=Rotation.ANNUALLY,
    deprecated=(
        "CI logs in to Pulumi Cloud by OIDC: set ci:pulumiOrganization, ci:pulumiTokenType (and ci:pulumiTeam for team "
        "tokens); only for a Pulumi Cloud without OIDC, the opt-in ci:pulumiAuth with ci:pulumiFallbackAccessToken"
    ),
)

CI_WORKFLOW_DISPATCH_TOKEN = Key(
    "ci:workflowDispatchToken",
    secret=True,
    check=v.github_token("ghp_", "github_pat_"),
    purpose=f"Deprecated in {DEPRECATED_SINCE}, removed in {REMOVED_IN}: no longer written (GitHub writes use the CI App's token)",
    example="github_pat_…",
    rotation=Rotation.ANNUALLY,
    deprecated=(
        "every GitHub write in CI, workflow dispatch included, uses a one-hour token of the CI GitHub App "
        "(ci:githubAppId, ci:githubAppPrivateKey; actions/create-github-app-token with permission-actions: write to dispatch)"
    ),
)

CI_GITHUB_APP_ID = Key(
    "ci:githubAppId",
    per_environment=True,
    secret=False,
    # `pulumi env set … 123456` stores a YAML integer (esc env_set.go reads the value as YAML)
    json_types=("string", "integer"),
    check=v.numeric_id,
    not_example=v.real_app_id,
    purpose="ID of the GitHub App CI mints short-lived installation tokens from",
    example="123456",
    rotation=Rotation.NEVER,
)

CI_GITHUB_APP_PRIVATE_KEY = Key(
    "ci:githubAppPrivateKey",
    per_environment=True,
    secret=True,
    check=v.pem_private_key,
    purpose="Private key of the CI GitHub App (signs the JWT that mints installation tokens)",
    example='"$(cat app.private-key.pem)"',
    example_file="app.private-key.pem",
    rotation=Rotation.ANNUALLY,
)

# --- FluxGitCredentials -----------------------------------------------------------------------
FLUX_GITHUB_TOKEN = Key(
    "flux:githubToken",
    per_environment=True,
    secret=True,
    check=v.github_token("ghp_", "github_pat_"),
    purpose="HTTPS token Flux uses to read the cluster repo and push image updates",
    example="github_pat_…",
    rotation=Rotation.QUARTERLY,
    aliases=("secret-chain:github.token",),
    project_aliases=("github.token",),
)

FLUX_GITHUB_APP_ID = Key(
    "flux:githubAppId",
    per_environment=True,
    secret=False,
    # `pulumi env set … 123456` stores a YAML integer (esc env_set.go reads the value as YAML)
    json_types=("string", "integer"),
    check=v.numeric_id,
    not_example=v.real_app_id,
    purpose="ID of the GitHub App Flux authenticates as (recommended over a token)",
    example="123456",
)

FLUX_GITHUB_APP_INSTALLATION_ID = Key(
    "flux:githubAppInstallationId",
    per_environment=True,
    secret=False,
    # `pulumi env set … 123456` stores a YAML integer (esc env_set.go reads the value as YAML)
    json_types=("string", "integer"),
    check=v.numeric_id,
    not_example=v.real_installation_id,
    purpose="Installation ID of Flux's GitHub App on the organisation that owns the cluster repo",
    example="12345678",
)

FLUX_GITHUB_APP_PRIVATE_KEY = Key(
    "flux:githubAppPrivateKey",
    per_environment=True,
    secret=True,
    check=v.pem_private_key,
    purpose="Private key of Flux's GitHub App (mints 1-hour installation tokens in-cluster)",
    example='"$(cat flux-app.private-key.pem)"',
    example_file="flux-app.private-key.pem",
    rotation=Rotation.ANNUALLY,
)

# --- CertManagerDnsIssuer ---------------------------------------------------------------------
DIGITALOCEAN_DNS_TOKEN = Key(
    "gateway:digitaloceanDnsToken",
    per_environment=True,
    secret=True,
    check=v.digitalocean_token,
    purpose="DNS API access for cert-manager wildcard TLS (DNS-01 challenges)",
    example="dop_v1_…",
    rotation=Rotation.ANNUALLY,
)

DIGITALOCEAN_PROVIDER_TOKEN = Key(
    "digitalocean:token",
    per_environment=True,
    secret=True,
    check=v.digitalocean_token,
    purpose=(
        "DigitalOcean API token the pulumi-digitalocean provider reads: the kubeconfig of secret-chain:digitaloceanCluster "
        "(fetched on every run) and CertManagerDnsIssuer's domain look-up"
    ),
    example="dop_v1_…",
    rotation=Rotation.ANNUALLY,
)

# --- GrafanaOAuth -----------------------------------------------------------------------------
GRAFANA_CLIENT_ID = Key(
    "grafana:githubClientId",
    per_environment=True,
    secret=True,
    check=v.grafana_setting(v.oauth_client_id),
    purpose="GitHub OAuth App Client ID for Grafana authentication",
    example="YOUR_CLIENT_ID",
    rotation=Rotation.ON_OAUTH_APP_ROTATION,
)

GRAFANA_CLIENT_SECRET = Key(
    "grafana:githubClientSecret",
    per_environment=True,
    secret=True,
    check=v.grafana_setting(v.nonempty),
    purpose="GitHub OAuth App Client Secret for Grafana authentication",
    example="YOUR_CLIENT_SECRET",
    rotation=Rotation.ANNUALLY,
)

GRAFANA_GITHUB_ORG = Key(
    "grafana:githubOrg",
    secret=False,
    check=v.github_login,
    not_example=v.real_owner,
    purpose="GitHub organization whose members may sign in to Grafana (compared case-insensitively)",
    example="your-org",
)

GRAFANA_ADMIN_USER = Key(
    "grafana:adminUser",
    secret=False,
    check=v.github_user_or_id,
    not_example=v.real_admin_user,
    purpose=(
        "Who gets Grafana server admin (everyone else is Viewer): id:<numeric GitHub user id> (preferred: survives "
        "renames; gh api users/<login> --jq .id), or a login, compared case-sensitively"
    ),
    example="id:583231",
)

GRAFANA_SMTP_HOST = Key(
    "grafana:smtpHost",
    per_environment=True,
    secret=True,
    check=v.hostname,
    purpose="SMTP server hostname for alert emails",
    example="smtp.gmail.com",
    rotation=Rotation.ON_PROVIDER_CHANGE,
)

GRAFANA_SMTP_PORT = Key(
    "grafana:smtpPort",
    per_environment=True,
    secret=False,
    check=v.port,
    json_types=("string", "integer"),
    purpose="SMTP server port (587 for STARTTLS)",
    example="587",
)

GRAFANA_SMTP_USER = Key(
    "grafana:smtpUser",
    per_environment=True,
    secret=True,
    check=v.grafana_setting(v.nonempty),
    purpose="SMTP authentication username",
    example="alerts@example.com",
    rotation=Rotation.ON_PROVIDER_CHANGE,
)

GRAFANA_SMTP_PASSWORD = Key(
    "grafana:smtpPassword",
    per_environment=True,
    secret=True,
    check=v.grafana_setting(v.no_spaces(v.app_password)),
    purpose="SMTP authentication password (a Google app password; spaces are removed)",
    example="YOUR_APP_PASSWORD",
    rotation=Rotation.QUARTERLY,
)

GRAFANA_SMTP_FROM_ADDRESS = Key(
    "grafana:smtpFromAddress",
    per_environment=True,
    secret=False,
    check=v.grafana_setting(v.email),
    not_example=v.real_email,
    purpose='Email "From" address for alerts',
    example="alerts@example.com",
)

GRAFANA_ALERT_EMAIL = Key(
    "grafana:alertEmail",
    per_environment=True,
    secret=False,
    check=v.provisioned_email,  # read by Grafana through provisioning interpolation (components/secret_chain/grafana.py)
    not_example=v.real_email,
    purpose="Email address that receives Grafana alerts",
    example="oncall@example.com",
)

# --- providers and stack settings (read by providers or the stack program) -------------------
GITHUB_PROVIDER_TOKEN = Key(
    "github:token",
    per_environment=True,
    secret=True,
    check=v.github_token("ghp_", "github_pat_", "ghs_"),
    purpose="Token pulumi-github uses to write Actions secrets and variables",
    example="github_pat_…",
    rotation=Rotation.ANNUALLY,
)

ROLLOUT_KEY = Key(
    "secret-chain:rolloutKey",
    per_environment=True,
    secret=True,
    check=v.random_token,
    purpose=(
        "Key of the HMAC-SHA256 that turns each env-var Secret's content into its rollout annotation, so pods restart "
        "on a rotation while the annotation reveals nothing about the value"
    ),
    example="$(openssl rand -hex 32)",
    rotation=Rotation.ON_COMPROMISE,
    generated_when_absent=(
        "a pulumi_random RandomBytes of 32 bytes named <SecretChain name>-rollout-key, or <component name>-rollout-key for a "
        "PrometheusAuth or GrafanaOAuth on its own, drawn once and kept as a secret in the stack's state"
    ),
)

STACK_KIND = Key(
    "secret-chain:stackKind",
    secret=False,
    check=v.stack_kind,
    purpose=(
        "The kind of this stack: production, preview-base, preview-pr-<N> (N the pull request number) or bootstrap. It "
        "decides the parts, namespaces, GitHub and ESC environments and object names, so a stack may have any name "
        "(prod, dev); without it the stack's name must be one of these. A stack named production, preview-base, bootstrap "
        "or preview-pr-<N> may declare only its own kind"
    ),
    example="production",
    tier=Tier.STACK,
)

ESC_ENVIRONMENT = Key(
    "secret-chain:escEnvironment",
    secret=False,
    check=v.esc_environment,
    not_example=v.real_esc_environment,
    purpose="The ESC environment this stack imports, as <org>/<project>/<env> (named in fix commands)",
    example="acme/secret-chain/Production",
    tier=Tier.STACK,
)

APP_NAMESPACE = Key(
    "secret-chain:appNamespace",
    secret=False,
    check=v.namespace,
    purpose="Namespace of the application (pull secret, Prometheus token)",
    example="default",
    tier=Tier.STACK,
)

GATEWAY_NAMESPACE = Key(
    "secret-chain:gatewayNamespace",
    secret=False,
    check=v.namespace,
    purpose=(
        "Namespace of the shared Gateway whose listeners serve the preview wildcard certificates: a listener's "
        "certificateRefs name a Secret in the Gateway's own namespace unless a ReferenceGrant allows another"
    ),
    example="gateway",
    tier=Tier.STACK,
)

DOMAIN = Key(
    "secret-chain:domain",
    secret=False,
    check=v.hostname,
    not_example=v.real_domain,
    purpose="The platform's DNS domain (hostnames, certificates, Grafana callback URL)",
    example="example.com",
    tier=Tier.STACK,
)

ACME_EMAIL = Key(
    "secret-chain:acmeEmail",
    secret=False,
    check=v.acme_email,
    not_example=v.real_email,
    purpose="ACME account contact for Let's Encrypt (no expiry emails: Let's Encrypt ended them on 2025-06-04)",
    example="ops@example.com",
    tier=Tier.STACK,
)

GITHUB_REPOSITORY = Key(
    "secret-chain:githubRepository",
    secret=False,
    check=v.github_repository,
    not_example=v.real_repository,
    purpose="Repository (owner/name) whose Actions secrets and variables the chain writes",
    example="acme/platform",
    tier=Tier.STACK,
)

FLUX_REPOSITORY_URL = Key(
    "secret-chain:fluxRepositoryUrl",
    secret=False,
    check=v.https_git_url,
    not_example=v.real_git_url,
    purpose="HTTPS URL of the cluster repository Flux syncs",
    example="https://github.com/acme/cluster",
    tier=Tier.STACK,
)

IMAGE_AUTOMATION = Key(
    "secret-chain:imageAutomation",
    secret=False,
    check=v.image_automation_setting,
    json_types=("object",),
    purpose=(
        "Flux image automation of the cluster repository (a YAML mapping in the stack file: images, each with image and "
        "semver_range, and the commit author): production and preview-base build a FluxImageAutomation on their own "
        "GitRepository, each with its own names and push branch"
    ),
    example=json.dumps(
        {
            "images": [{"image": "ghcr.io/acme/api", "semver_range": "^1.4.0"}],
            "author_name": "acme-images",
            "author_email": "images@example.com",
        }
    ),
    tier=Tier.STACK,
)

DIGITALOCEAN_CLUSTER = Key(
    "secret-chain:digitaloceanCluster",
    secret=False,
    check=v.dns1123_label,
    not_example=v.real_cluster,
    purpose=(
        "Name of the DigitalOcean Kubernetes cluster the stack deploys to: its kubeconfig is fetched on every run with "
        "digitalocean:token (getKubernetesCluster) for an explicit Kubernetes provider, and kept secret; without it, "
        "pulumi-kubernetes uses the ambient kubeconfig"
    ),
    example="my-cluster",
    tier=Tier.STACK,
)

DECLARED_PARTS = Key(
    "secret-chain:parts",
    secret=False,
    check=check_declared_parts,
    json_types=("array",),
    purpose=(
        "The parts this stack builds (a YAML list in the stack file, e.g. [GhcrPullSecret, PrometheusAuth]): a declared part "
        "whose config is missing stops pulumi up instead of being removed; without it, the config enables the parts"
    ),
    example="GhcrPullSecret",
    tier=Tier.STACK,
)

MUTABLE_SECRETS = Key(
    "kubernetes:enableSecretMutable",
    secret=False,
    check=_must_be_true,
    json_types=("string", "boolean"),
    purpose=(
        "Lets pulumi-kubernetes update a Secret's data in place; without it every value change replaces the Secret "
        "(delete, then create: a window without it)"
    ),
    example="true",
    tier=Tier.STACK,
)

CI_CORE_KEYS: tuple[Key, ...] = (CI_PULUMI_ORGANIZATION, CI_GITHUB_APP_ID, CI_GITHUB_APP_PRIVATE_KEY)
"""What every CI workflow reads (the Pulumi login's organisation, the CI App's ID and key): GitHubActionsSecrets' CORE
entries and what the table of parts requires once it is built (both read this one tuple)."""
FLUX_APP_KEYS: tuple[Key, ...] = (FLUX_GITHUB_APP_ID, FLUX_GITHUB_APP_INSTALLATION_ID, FLUX_GITHUB_APP_PRIVATE_KEY)
"""Flux's GitHub App: all three or none (FluxGitCredentials and the table of parts read this one tuple)."""
GRAFANA_OAUTH_KEYS: tuple[Key, ...] = (GRAFANA_CLIENT_ID, GRAFANA_CLIENT_SECRET, GRAFANA_GITHUB_ORG, GRAFANA_ADMIN_USER)
"""Grafana's GitHub OAuth sign-in (GrafanaOAuth and the table of parts read this one tuple)."""
GRAFANA_MAIL_KEYS: tuple[Key, ...] = (
    GRAFANA_SMTP_HOST,
    GRAFANA_SMTP_PORT,
    GRAFANA_SMTP_USER,
    GRAFANA_SMTP_PASSWORD,
    GRAFANA_SMTP_FROM_ADDRESS,
    GRAFANA_ALERT_EMAIL,
)
"""Grafana's mail settings: all of them or none (GrafanaOAuth and the table of parts read this one tuple)."""

KEYS: tuple[Key, ...] = (
    GHCR_USERNAME,
    GHCR_TOKEN,
    PROMETHEUS_TOKEN,
    PROMETHEUS_PREVIOUS_TOKEN,
    CI_PULUMI_ORGANIZATION,
    CI_PULUMI_TOKEN_TYPE,
    CI_PULUMI_TEAM,
    CI_PULUMI_PREVIEW_TEAM,
    CI_PULUMI_AUTH,
    CI_PULUMI_FALLBACK_ACCESS_TOKEN,
    CI_PULUMI_ACCESS_TOKEN,
    CI_WORKFLOW_DISPATCH_TOKEN,
    CI_GITHUB_APP_ID,
    CI_GITHUB_APP_PRIVATE_KEY,
    FLUX_GITHUB_TOKEN,
    FLUX_GITHUB_APP_ID,
    FLUX_GITHUB_APP_INSTALLATION_ID,
    FLUX_GITHUB_APP_PRIVATE_KEY,
    DIGITALOCEAN_DNS_TOKEN,
    DIGITALOCEAN_PROVIDER_TOKEN,
    GRAFANA_CLIENT_ID,
    GRAFANA_CLIENT_SECRET,
    GRAFANA_GITHUB_ORG,
    GRAFANA_ADMIN_USER,
    GRAFANA_SMTP_HOST,
    GRAFANA_SMTP_PORT,
    GRAFANA_SMTP_USER,
    GRAFANA_SMTP_PASSWORD,
    GRAFANA_SMTP_FROM_ADDRESS,
    GRAFANA_ALERT_EMAIL,
    GITHUB_PROVIDER_TOKEN,
    ROLLOUT_KEY,
    STACK_KIND,
    ESC_ENVIRONMENT,
    APP_NAMESPACE,
    GATEWAY_NAMESPACE,
    DOMAIN,
    ACME_EMAIL,
    GITHUB_REPOSITORY,
    FLUX_REPOSITORY_URL,
    IMAGE_AUTOMATION,
    DIGITALOCEAN_CLUSTER,
    DECLARED_PARTS,
    MUTABLE_SECRETS,
)
"""Every key, in the catalog's order (the order of the docs' tables and the ESC templates)."""

BY_KEY: dict[str, Key] = {k.key: k for k in KEYS}


def held_in(config_key: str) -> tuple[Key, ...]:
    """The entries whose value the config key ``config_key`` holds: the key itself, or every field of an object key."""
    return tuple(k for k in KEYS if k.config_key == config_key)


def get(key: str) -> Key:
    """Return the catalog entry of ``key`` (a full ``namespace:name`` key)."""
    return BY_KEY[key]
