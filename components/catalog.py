"""The one catalog of every secret and config value in the chain.

Each value is declared here once: its config key, whether it is secret, its format check, where it
flows (ESC key → Kubernetes Secret or GitHub secret → consumer), its rotation schedule, how to make a
new one, and what breaks when it is wrong. Components, error messages and the documented secret
tables all read this module; nothing else restates it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from enum import StrEnum

from components import validators as v
from components.validators import Check


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
    generate: str = ""
    """How to make a new value."""
    flows_to: str = ""
    """Where the value lands: Kubernetes Secret/key or GitHub secret/variable name."""
    consumers: str = ""
    """Who reads it at run time."""
    environments: tuple[str, ...] = BOTH
    """The ESC environments (preview, production) that carry it."""
    symptom: str = ""
    """What breaks when it is wrong or expired."""
    scopes: str = ""
    """The least permissions the credential needs."""
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
    rotate: tuple[str, ...] = field(default=())
    """How to replace the value without downtime, one step per item (rendered numbered into docs/rotation.md).

    ``{set}`` in a step stands for this key's ``pulumi env set`` (or ``pulumi config set``) command."""
    reload: str = ""
    """When the consumers pick up a new value, and so whether they need a restart (a rollout trigger)."""
    temporary: bool = False
    """Set only while a rotation is in progress (absent otherwise, so not in the ESC templates)."""
    field: str = ""
    """For a field of an object-valued config key: the field's name. ``key`` is then the path
    ``<config key>.<field>``, as ``pulumi config set --path`` writes it (the CLI parses a config key as
    ``<namespace>:<name>`` only, so related values share one object key instead of a third colon)."""
    example_file: str = ""
    """For a multi-line value (a PEM key): the file a person keeps it in; fix commands read it from there in a form
    the CLI takes whole (:func:`components.config.set_command`)."""
    json_types: tuple[str, ...] = ("string",)
    """The JSON types ``pulumi config --json`` may show for the value (``value`` is a string; ``objectValue``
    carries the others): anything else is refused, never coerced."""
    per_environment: bool = False
    """Differs between environments (a PR's Grafana OAuth app is not production's): held by Production and by the
    PR-only environment, never by Base (:mod:`components.esc`)."""
    opt_in: bool = False
    """Set only by a deliberate choice (a team token, the stored-token fallback): absent otherwise, so not in the ESC templates."""
    generated_when_absent: str = ""
    """Set on a key the program makes for itself when it is absent: how it makes and keeps the value. Such a key
    is optional (never missing); a value that is set is still checked."""
    deprecated: str = ""
    """Set on a key that is no longer used but stays readable for one release: what replaced it. Reading the
    key then warns (naming the key and this), never fails; the key goes in :data:`REMOVED_IN`."""

    shape: Check = dataclasses.field(default=v.nonempty, init=False, repr=False, compare=False)
    """What a stack program accepts (set from ``check``): the declared format check, refusing first a value that is
    not valid Unicode text (:func:`~components.validators.utf8_text`) and a runbook placeholder
    (:func:`~components.validators.placeholder`). The component layer (:class:`components.config.ConfigReader`)
    validates with it, so ``plan`` renders the example configs."""

    def __post_init__(self) -> None:
        declared = self.check
        shape = v.utf8_text(_then(v.placeholder, declared))
        object.__setattr__(self, "shape", shape)
        # ``check`` becomes the go/no-go (what ``preflight`` runs): the shape, and for a secret no published or
        # made-up value (components.published), so the example configs are NOT READY although they render.
        object.__setattr__(self, "check", v.utf8_text(_then(shape, _published)) if self.secret else shape)

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
    """Refuse a well-formed secret that is published or made up (:mod:`components.published`)."""
    from components import published

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

    The provider turns the flag on only for ``"true"`` (:func:`components.pulumi_rules.provider_flag_enabled`,
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
    "CertManagerDnsIssuer",
    "GrafanaOAuth",
    "GrafanaOAuth.mail",
    "GitHubActionsSecrets",
    "GitHubActionsSecrets.fallback",
)
"""The parts ``secret-chain:parts`` may list: the declarable rows of :data:`components.parts.PARTS`, in its order.

Written here because the table reads the catalog, so the catalog cannot read the table (no import cycle);
tests/test_import_graph.py keeps the two equal."""


def check_declared_parts(text: str) -> str:
    """Check ``secret-chain:parts`` (JSON text of a list of part names); return it normalised.

    Only the shape and the names are checked here; whether the stack kind builds each part is
    :func:`components.parts.select`'s.
    """
    try:
        names = json.loads(text)
    except ValueError:
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


# --- when consumers pick up a new value (checked against the upstream sources named) --------------
_KUBELET = (
    "kubelet reads the pull Secret whenever it pulls an image (kubelet getPullSecretsForPod), Flux image-reflector-controller "
    "at each scan: running pods are untouched, so no restart and no rollout trigger"
)
_ACTIONS = "GitHub Actions hands secrets and variables to each workflow run when it starts: the next run uses the new value; no trigger"
_FLUX = (
    "source-controller and image-automation-controller read the Secret at every reconciliation (GitRepository "
    "getAuthOpts; interval 1m): no restart, no trigger"
)
_CERT_MANAGER = "cert-manager reads the token Secret for each DNS-01 challenge (solverForChallenge): no restart, no trigger"
_PROVIDER = "the Pulumi provider reads it at each pulumi preview/up; nothing in the cluster holds it"
_GRAFANA = (
    "Grafana reads GF_* environment variables only at start-up: its pods must roll, so put GrafanaOAuth's "
    "rollout_annotations into Grafana's pod template (Helm chart: podAnnotations)"
)
_PROMETHEUS_APP = (
    "the app reads PROMETHEUS_AUTH_TOKEN (and PROMETHEUS_AUTH_TOKEN_PREVIOUS) from its environment only at start-up: "
    "its pods must roll, so put PrometheusAuth's rollout_annotations into its pod template; the Prometheus Operator "
    "watches the monitor Secret and reloads Prometheus by itself"
)

# --- rotation steps shared by several keys ----------------------------------------------------------
_UP = "pulumi up on every stack that imports the environment: the value is updated in place (same object, no delete-then-create)"
_UP_ACTIONS = "pulumi up on production and preview-base (the stacks that write the repository's Actions secrets)"


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


_OIDC_WORKFLOWS = "preview-deploy.yml, preview-cleanup.yml, scheduled-checks.yml"


def _retire(key: str, replaced: str, github_name: str) -> tuple[str, ...]:
    """The steps that retire a deprecated credential: remove it from ESC, let pulumi up delete its Actions secret, revoke it."""
    return (
        f"Not rotated any more: deprecated in {DEPRECATED_SINCE}, removed in {REMOVED_IN} ({replaced}). Retire it instead.",
        f"pulumi env rm <org>/secret-chain/<Environment> pulumiConfig.{key} (always with the path: without it, "
        "pulumi env rm deletes the whole environment).",
        _UP_ACTIONS + f": GitHubActionsSecrets no longer writes {github_name}, so pulumi up deletes that Actions secret.",
        "Revoke the token where it was made (it is no longer read anywhere).",
    )


def _overlap(new: str, up: str, verify: str, revoke: str) -> tuple[str, ...]:
    """The steps of a credential that can be valid twice at once: new, set, up, verify, revoke the old one."""
    return (
        f"{new} The old one stays valid until you revoke it, so both work during the switch.",
        "{set}",
        up,
        f"Verify: {verify}.",
        f"Revoke the old one: {revoke}.",
    )


# --- GhcrPullSecret -------------------------------------------------------------------------
GHCR_USERNAME = Key(
    "namespace:imagePullSecret.username",
    field="username",
    secret=False,
    check=v.github_login,
    purpose="GitHub username for GHCR authentication",
    example="your-github-username",
    flows_to="Secret ghcr-pull-secret/.dockerconfigjson (username, auth)",
    consumers="kubelet (imagePullSecrets)",
    symptom="ImagePullBackOff / 401 Unauthorized on pods pulling from ghcr.io",
)

GHCR_TOKEN = Key(
    "namespace:imagePullSecret.token",
    field="token",
    secret=True,
    check=_classic_pat_for_ghcr(),
    purpose="Pull private images from ghcr.io (Kubernetes imagePullSecrets)",
    example="ghp_…",
    rotation=Rotation.ANNUALLY,
    generate=(
        'github.com/settings/tokens → "Generate new token (classic)", scopes read:packages '
        "(write:packages only if this token also pushes), expiry ≤ 1 year"
    ),
    flows_to="Secret ghcr-pull-secret/.dockerconfigjson (password, auth)",
    consumers="kubelet (imagePullSecrets), Flux image-reflector-controller (ImageRepository secretRef)",
    symptom="ImagePullBackOff / 401 Unauthorized on pods pulling from ghcr.io",
    scopes="classic PAT: read:packages only (ghcr.io accepts no fine-grained or App token); its owner needs read access to each package",
    rotate=_overlap(
        'Create a new classic token with read:packages at github.com/settings/tokens ("Generate new token (classic)", expiry ≤ 1 year).',
        _UP + "; the kubelet uses it at the next image pull",
        "start a pod from a private ghcr.io image (or roll a Deployment that uses one): no ImagePullBackOff, "
        "`kubectl get events -A --field-selector reason=Failed` shows no 401",
        "delete it at github.com/settings/tokens",
    ),
    reload=_KUBELET,
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
    generate="openssl rand -hex 32",
    flows_to=(
        "Secret prometheus-auth/PROMETHEUS_AUTH_TOKEN (app namespace) and Secret <app namespace>-prometheus-auth/token "
        "(monitor namespace, read by the ServiceMonitor; holds prometheus:previousAuthToken instead while that is set)"
    ),
    consumers="the app (env PROMETHEUS_AUTH_TOKEN), Prometheus (ServiceMonitor authorization)",
    symptom="Prometheus target down with 401 on /metrics",
    scopes="none (a shared random value)",
    rotate=(
        "Two phases, so that every scrape succeeds while the app's pods roll (the runbook: keep the old token valid during the switch).",
        "Phase 1: copy the current token into prometheus:previousAuthToken, without printing it: pulumi env set "
        '<org>/secret-chain/<Environment> pulumiConfig.prometheus:previousAuthToken "$(pulumi env get <org>/secret-chain/<Environment> '
        'pulumiConfig.prometheus:authToken --value string --show-secrets)" --secret',
        "Then set the new token (the command makes it: 32 random bytes): {set}",
        "pulumi up: the app Secret now holds PROMETHEUS_AUTH_TOKEN (new) and PROMETHEUS_AUTH_TOKEN_PREVIOUS (old), "
        "both of which the app must accept; the ServiceMonitor's Secret keeps the old token, so Prometheus keeps "
        "sending a token every pod accepts; the rollout annotation changes and the app's pods roll.",
        "Wait for the rollout: kubectl rollout status deployment/<app> -n <namespace>.",
        'Phase 2: pulumi env rm <org>/secret-chain/<Environment> pulumiConfig.prometheus:previousAuthToken (always with the path: '
        "without it, pulumi env rm deletes the whole environment).",
        "Switch Prometheus first: pulumi up --target <URN of the Secret ending in prometheus-monitor> (pulumi stack "
        "--show-urns lists it): the Secret Prometheus reads now holds the new token while every pod still accepts both; "
        "give the Prometheus Operator a minute to reload Prometheus (the target stays up throughout).",
        "Then pulumi up: the app Secret drops the old token and the pods roll, accepting only the new one; the "
        "ServiceMonitor itself never changes. (One plain pulumi up does this step and the previous one at once: a scrape "
        "that reaches an already rolled pod before Prometheus has reloaded its config then fails once.)",
        "Verify: the target is up in Prometheus (up == 1 for the app's job) and the app logs no 401 on /metrics.",
    ),
    reload=_PROMETHEUS_APP,
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
    flows_to=(
        "Secret prometheus-auth/PROMETHEUS_AUTH_TOKEN_PREVIOUS (app namespace) and Secret <app namespace>-prometheus-auth/token "
        "(monitor namespace) while it is set"
    ),
    consumers="the app (env PROMETHEUS_AUTH_TOKEN_PREVIOUS, accepted as well), Prometheus (ServiceMonitor authorization)",
    symptom="Left set after the rollout: Prometheus keeps the old token and the app keeps accepting it (remove it: phase 2)",
    scopes="none (the previous shared random value)",
    rotate=(
        "Not rotated itself: it is set in phase 1 of prometheus:authToken's rotation and removed in phase 2 "
        '(pulumi env rm <org>/secret-chain/<Environment> pulumiConfig.prometheus:previousAuthToken, then pulumi up).',
    ),
    reload=_PROMETHEUS_APP,
    temporary=True,
)

# --- GitHubActionsSecrets ---------------------------------------------------------------------
CI_PULUMI_ORGANIZATION = Key(
    "ci:pulumiOrganization",
    secret=False,
    check=_pulumi_name,
    purpose="Pulumi Cloud organisation CI logs in to by OIDC (audience urn:pulumi:org:<org>) and whose stacks it runs",
    example="acme",
    flows_to="GitHub Actions variable PULUMI_ORG",
    consumers=f"pulumi/auth-actions (organization) and the stack names <org>/<stack> in {_OIDC_WORKFLOWS}",
    symptom=(
        "'Check the Pulumi Cloud login settings' fails (PULUMI_ORG unset), or the token exchange is refused: the "
        "organisation has no OIDC issuer https://token.actions.githubusercontent.com with a policy for this repository"
    ),
    scopes=(
        "none itself; the organisation registers the OIDC issuer https://token.actions.githubusercontent.com with a policy "
        "for aud urn:pulumi:org:<org> and sub repo:<owner>/<repo>:* (docs/least-privilege.md)"
    ),
)

CI_PULUMI_TOKEN_TYPE = Key(
    "ci:pulumiTokenType",
    secret=False,
    check=_pulumi_token_type,
    purpose=(
        "Pulumi access token CI requests by OIDC: organization (Team edition and above) or team (Enterprise, Business "
        "Critical; least privilege)"
    ),
    example="organization",
    flows_to="GitHub Actions variable PULUMI_TOKEN_TYPE",
    consumers=f"pulumi/auth-actions (requested-token-type urn:pulumi:token-type:access_token:<type>) in {_OIDC_WORKFLOWS}",
    symptom="the token exchange is refused: the issuer's policy allows another token type, or the edition lacks it",
    scopes=(
        "team: only the team's stack and environment permissions (admin on preview-pr-*, which stack rm needs; open on the "
        "ESC environments CI uses); organization: the whole organisation"
    ),
)

CI_PULUMI_TEAM = Key(
    "ci:pulumiTeam",
    secret=False,
    check=_pulumi_name,
    purpose="Pulumi team whose team token CI requests when ci:pulumiTokenType is team (scope team:<team>)",
    opt_in=True,
    example="ci-deployers",
    flows_to="GitHub Actions variable PULUMI_TEAM",
    consumers=f"pulumi/auth-actions (scope team:<team>) in {_OIDC_WORKFLOWS}",
    symptom="'Check the Pulumi Cloud login settings' fails (unset with team), or the exchange is refused (no policy for the team)",
)

CI_PULUMI_AUTH = Key(
    "ci:pulumiAuth",
    secret=False,
    check=_stored_token_fallback,
    opt_in=True,
    purpose=(
        f"Opt-in only: {STORED_TOKEN_FALLBACK} makes CI log in with ci:pulumiFallbackAccessToken instead of OIDC "
        "(a Pulumi Cloud without OIDC issuers); absent, CI uses OIDC"
    ),
    example=STORED_TOKEN_FALLBACK,
    flows_to="GitHub Actions variable PULUMI_AUTH",
    consumers=f"the step conditions of the Pulumi login in {_OIDC_WORKFLOWS}",
    symptom="CI logs in with the stored token although OIDC would work (remove it), or 'the secret PULUMI_FALLBACK_ACCESS_TOKEN is empty'",
)

CI_PULUMI_FALLBACK_ACCESS_TOKEN = Key(
    "ci:pulumiFallbackAccessToken",
    secret=True,
    opt_in=True,
    check=v.pulumi_access_token,
    purpose=(
        "Opt-in fallback for a Pulumi Cloud without OIDC issuers, with ci:pulumiAuth: a stored Pulumi access token "
        "(every edition of Pulumi Cloud offers OIDC: prefer it)"
    ),
    example="pul-…",
    rotation=Rotation.ANNUALLY,
    generate=(
        "Pulumi Cloud → the team's or organisation's Access tokens → Create token (a team token on Enterprise, else an "
        "organisation token), expiry ≤ 1 year"
    ),
    flows_to="GitHub Actions secret PULUMI_FALLBACK_ACCESS_TOKEN",
    consumers=f"the gated fallback login step of {_OIDC_WORKFLOWS} (only while PULUMI_AUTH is {STORED_TOKEN_FALLBACK})",
    symptom="Pulumi login failed in CI (expired or revoked token)",
    scopes=(
        "a team token (Enterprise) limited to the project's stacks (admin on preview-pr-*, which stack rm needs) and open on "
        "the ESC environments CI uses; an organisation token is organisation-wide. Better: OIDC, no stored token"
    ),
    rotate=_overlap(
        "Create a new team or organisation token in Pulumi Cloud (Access tokens → Create token).",
        _UP_ACTIONS + ": the Actions secret PULUMI_FALLBACK_ACCESS_TOKEN is updated",
        "re-run the latest preview-deploy workflow run; its fallback login and pulumi commands succeed",
        "delete it in Pulumi Cloud under Access tokens",
    ),
    reload=_ACTIONS,
)

CI_PULUMI_ACCESS_TOKEN = Key(
    "ci:pulumiAccessToken",
    secret=True,
    check=v.pulumi_access_token,
    purpose=f"Deprecated in {DEPRECATED_SINCE}, removed in {REMOVED_IN}: no longer written (CI logs in to Pulumi Cloud by OIDC)",
    example="pul-…",
    rotation=Rotation.ANNUALLY,
    flows_to=f"nothing since {DEPRECATED_SINCE} (was GitHub Actions secret PULUMI_ACCESS_TOKEN, which pulumi up now deletes)",
    consumers="none (the workflows log in by OIDC)",
    symptom="a deprecation warning at pulumi preview/up; remove the key",
    deprecated=(
        "CI logs in to Pulumi Cloud by OIDC: set ci:pulumiOrganization, ci:pulumiTokenType (and ci:pulumiTeam for team "
        "tokens); only for a Pulumi Cloud without OIDC, the opt-in ci:pulumiAuth with ci:pulumiFallbackAccessToken"
    ),
    rotate=_retire("ci:pulumiAccessToken", "replaced by OIDC", "PULUMI_ACCESS_TOKEN"),
    reload=_ACTIONS,
)

CI_WORKFLOW_DISPATCH_TOKEN = Key(
    "ci:workflowDispatchToken",
    secret=True,
    check=v.github_token("ghp_", "github_pat_"),
    purpose=f"Deprecated in {DEPRECATED_SINCE}, removed in {REMOVED_IN}: no longer written (GitHub writes use the CI App's token)",
    example="github_pat_…",
    rotation=Rotation.ANNUALLY,
    flows_to=f"nothing since {DEPRECATED_SINCE} (was GitHub Actions secret WORKFLOW_DISPATCH_TOKEN, which pulumi up now deletes)",
    consumers="none (dispatches use a one-hour GitHub App token)",
    symptom="a deprecation warning at pulumi preview/up; remove the key",
    deprecated=(
        "every GitHub write in CI, workflow dispatch included, uses a one-hour token of the CI GitHub App "
        "(ci:githubAppId, ci:githubAppPrivateKey; actions/create-github-app-token with permission-actions: write to dispatch)"
    ),
    rotate=_retire("ci:workflowDispatchToken", "replaced by the CI GitHub App's tokens", "WORKFLOW_DISPATCH_TOKEN"),
    reload=_ACTIONS,
)

CI_GITHUB_APP_ID = Key(
    "ci:githubAppId",
    secret=False,
    # `pulumi env set … 123456` stores a YAML integer (esc env_set.go reads the value as YAML)
    json_types=("string", "integer"),
    check=v.numeric_id,
    purpose="ID of the GitHub App CI mints short-lived installation tokens from",
    example="123456",
    rotation=Rotation.NEVER,
    flows_to="GitHub Actions variable APP_ID",
    consumers=(
        "actions/create-github-app-token in every workflow that writes to GitHub "
        "(preview-deploy.yml, scheduled-checks.yml, flux-image-updates-pr.yml)"
    ),
    symptom="create-github-app-token fails: 'Not Found' or 'A JSON web token could not be decoded'",
)

CI_GITHUB_APP_PRIVATE_KEY = Key(
    "ci:githubAppPrivateKey",
    secret=True,
    check=v.pem_private_key,
    purpose="Private key of the CI GitHub App (signs the JWT that mints installation tokens)",
    example='"$(cat app.private-key.pem)"',
    example_file="app.private-key.pem",
    rotation=Rotation.ANNUALLY,
    generate="GitHub App settings → Private keys → Generate a private key (delete the old key after the switch)",
    flows_to="GitHub Actions secret APP_PRIVATE_KEY",
    consumers="actions/create-github-app-token",
    symptom="create-github-app-token fails: 'A JSON web token could not be decoded'",
    scopes=(
        "GitHub App installed on this repository only: Contents read/write, Pull requests read/write, Metadata read "
        "(each workflow's token asks for less: permission-* inputs); Workflows write only if it edits .github/workflows"
    ),
    rotate=_overlap(
        "GitHub App settings → Private keys → Generate a private key (an App can hold several keys at once).",
        _UP_ACTIONS + ": the Actions secret APP_PRIVATE_KEY is updated",
        "re-run a workflow that uses actions/create-github-app-token; it mints a token",
        "delete the old key under the App's Private keys (tokens it already minted expire within an hour)",
    ),
    reload=_ACTIONS,
)

# --- FluxGitCredentials -----------------------------------------------------------------------
FLUX_GITHUB_TOKEN = Key(
    "flux:githubToken",
    secret=True,
    check=v.github_token("ghp_", "github_pat_"),
    purpose="HTTPS token Flux uses to read the cluster repo and push image updates",
    example="github_pat_…",
    rotation=Rotation.QUARTERLY,
    generate=(
        "github.com/settings/tokens → fine-grained token for the cluster repository only: Contents read (sync) or write "
        "(image automation), Metadata read; 90-day expiry. Keep the old token valid for 24h during the switch"
    ),
    flows_to="Secret github-token/username, password (flux-system)",
    consumers="Flux source-controller (GitRepository), image-automation-controller (push)",
    symptom="GitRepository not ready: 'authentication required' / image automation 'cannot push to branch'",
    scopes=(
        "fine-grained, cluster repository only: Contents read (sync) or write (image automation), Metadata read; "
        "no Pull requests (Flux pushes a branch); classic: repo"
    ),
    aliases=("secret-chain:github.token",),
    project_aliases=("github.token",),
    rotate=(
        "Create a new fine-grained token for the cluster repository (Contents write, Pull requests write, Metadata read; "
        "90-day expiry) at github.com/settings/tokens. Keep the old token active for 24 hours during the rotation "
        "(the Flux token guide).",
        "{set}",
        _UP + "; Flux reads it at its next reconciliation",
        "Verify: flux reconcile source git secret-chain (flux-system on a bootstrapped cluster) succeeds and "
        "`flux get sources git` shows Ready; image automation pushes to flux-image-updates without 'authentication required'.",
        "After 24 hours, delete the old token at github.com/settings/tokens.",
    ),
    reload=_FLUX,
)

FLUX_GITHUB_APP_ID = Key(
    "flux:githubAppId",
    secret=False,
    # `pulumi env set … 123456` stores a YAML integer (esc env_set.go reads the value as YAML)
    json_types=("string", "integer"),
    check=v.numeric_id,
    purpose="ID of the GitHub App Flux authenticates as (recommended over a token)",
    example="123456",
    flows_to="Secret github-token/githubAppID (flux-system)",
    consumers="Flux source-controller, image-automation-controller (provider: github)",
    symptom="GitRepository not ready: 'failed to get GitHub App token'",
)

FLUX_GITHUB_APP_INSTALLATION_ID = Key(
    "flux:githubAppInstallationId",
    secret=False,
    # `pulumi env set … 123456` stores a YAML integer (esc env_set.go reads the value as YAML)
    json_types=("string", "integer"),
    check=v.numeric_id,
    purpose="Installation ID of Flux's GitHub App on the organisation that owns the cluster repo",
    example="12345678",
    flows_to="Secret github-token/githubAppInstallationID (flux-system)",
    consumers="Flux source-controller, image-automation-controller (provider: github)",
    symptom="GitRepository not ready: 'failed to get GitHub App token' (404 on installation)",
)

FLUX_GITHUB_APP_PRIVATE_KEY = Key(
    "flux:githubAppPrivateKey",
    secret=True,
    check=v.pem_private_key,
    purpose="Private key of Flux's GitHub App (mints 1-hour installation tokens in-cluster)",
    example='"$(cat flux-app.private-key.pem)"',
    example_file="flux-app.private-key.pem",
    rotation=Rotation.ANNUALLY,
    generate="GitHub App settings → Private keys → Generate a private key; delete the old key after the switch",
    flows_to="Secret github-token/githubAppPrivateKey (flux-system)",
    consumers="Flux source-controller, image-automation-controller (provider: github)",
    symptom="GitRepository not ready: 'could not parse private key' or 401 from GitHub",
    scopes="GitHub App installed on the cluster repository only: Contents read (sync) or read/write (image automation), Metadata read",
    rotate=_overlap(
        "Flux's GitHub App settings → Private keys → Generate a private key (an App can hold several keys at once).",
        _UP + "; Flux mints its next installation token with it",
        "flux reconcile source git secret-chain (flux-system on a bootstrapped cluster) succeeds and `flux get sources git` shows Ready",
        "delete the old key under the App's Private keys (installation tokens already minted expire within an hour)",
    ),
    reload=_FLUX,
)

# --- CertManagerDnsIssuer ---------------------------------------------------------------------
DIGITALOCEAN_DNS_TOKEN = Key(
    "gateway:digitaloceanDnsToken",
    secret=True,
    check=v.digitalocean_token,
    purpose="DNS API access for cert-manager wildcard TLS (DNS-01 challenges)",
    example="dop_v1_…",
    rotation=Rotation.ANNUALLY,
    generate=('cloud.digitalocean.com/account/api/tokens → "Generate New Token", Custom Scopes: domain:read, domain:create, domain:delete'),
    flows_to="Secret digitalocean-dns/access-token (cert-manager)",
    consumers="cert-manager (ClusterIssuer DNS-01 solver)",
    symptom="cert-manager DNS-01 challenge fails; Certificate stays not ready",
    scopes="DigitalOcean custom scopes: domain:read, domain:create, domain:delete (they cover every domain of the team)",
    rotate=_overlap(
        "Create a new token at cloud.digitalocean.com/account/api/tokens with the same custom scopes "
        "(domain:read, domain:create, domain:delete).",
        _UP + "; cert-manager uses it at the next DNS-01 challenge",
        "`kubectl get clusterissuer` shows Ready, and forcing a renewal (cmctl renew <certificate> -n <namespace>) "
        "completes its DNS-01 challenge",
        "delete it at cloud.digitalocean.com/account/api/tokens",
    ),
    reload=_CERT_MANAGER,
)

DIGITALOCEAN_PROVIDER_TOKEN = Key(
    "digitalocean:token",
    secret=True,
    check=v.digitalocean_token,
    purpose="DigitalOcean API access for cluster management (pulumi-digitalocean provider)",
    example="dop_v1_…",
    rotation=Rotation.ANNUALLY,
    generate=(
        'cloud.digitalocean.com/account/api/tokens → "Generate New Token", Custom Scopes: domain:read; '
        "with digitalocean_cluster also kubernetes:access_cluster (and the read scopes it requires)"
    ),
    flows_to="pulumi-digitalocean provider config",
    consumers="pulumi-digitalocean (cluster and domain look-ups)",
    symptom="DNS records not created / cluster look-up fails with 401",
    scopes=(
        "DigitalOcean custom scopes: domain:read; with digitalocean_cluster also kubernetes:access_cluster "
        "(the fetched kubeconfig acts as the token's owner: never give it to PR stacks)"
    ),
    rotate=_overlap(
        "Create a new token at cloud.digitalocean.com/account/api/tokens (kubernetes:read, domain:read).",
        "pulumi preview on every stack that imports the environment: the provider's look-ups run with the new token",
        "the preview shows no 401 from the DigitalOcean API",
        "delete it at cloud.digitalocean.com/account/api/tokens",
    ),
    reload=_PROVIDER,
)

# --- GrafanaOAuth -----------------------------------------------------------------------------
GRAFANA_CLIENT_ID = Key(
    "grafana:githubClientId",
    per_environment=True,
    secret=True,
    check=v.nonempty,
    purpose="GitHub OAuth App Client ID for Grafana authentication",
    example="YOUR_CLIENT_ID",
    rotation=Rotation.ON_OAUTH_APP_ROTATION,
    generate="github.com/organizations/<org>/settings/applications → New OAuth App (callback https://<host>/login/github)",
    flows_to="Secret grafana-oauth/GF_AUTH_GITHUB_CLIENT_ID",
    consumers="Grafana",
    scopes=(
        "an OAuth App owned by the organisation, one per host (callback URL); users grant user:email and read:org. "
        "Approve it if the organisation restricts OAuth App access"
    ),
    symptom="Grafana login: 'redirect_uri is not associated with this application' or 404 at GitHub",
    rotate=(
        "The client ID changes only with a new OAuth App: create one with the same callback URL "
        "(the stack's callback_url output: https://grafana.<domain>/login/github, or for the Preview environment's one app "
        "https://pr-grafana.<domain>/login/github, which every PR's sub-domain redirects under) while the old app keeps working.",
        "{set}, and set its client secret (grafana:githubClientSecret) in the same change.",
        "pulumi up: the Secret is updated in place and the rollout annotation changes, so Grafana's pods roll onto the new app.",
        "Verify: sign in to Grafana with GitHub.",
        "Delete the old OAuth App under the organisation's Settings → Developer settings → OAuth Apps.",
    ),
    reload=_GRAFANA,
)

GRAFANA_CLIENT_SECRET = Key(
    "grafana:githubClientSecret",
    per_environment=True,
    secret=True,
    check=v.nonempty,
    purpose="GitHub OAuth App Client Secret for Grafana authentication",
    example="YOUR_CLIENT_SECRET",
    rotation=Rotation.ANNUALLY,
    generate="OAuth App settings → Generate a new client secret (keep the old one until Grafana restarted)",
    flows_to="Secret grafana-oauth/GF_AUTH_GITHUB_CLIENT_SECRET",
    consumers="Grafana",
    scopes=(
        "an OAuth App owned by the organisation, one per host (callback URL); users grant user:email and read:org. "
        "Approve it if the organisation restricts OAuth App access"
    ),
    symptom="Grafana login fails: 'incorrect_client_credentials'",
    rotate=_overlap(
        'OAuth App settings → "Generate a new client secret" (an OAuth App can hold two client secrets at once).',
        "pulumi up: the Secret is updated in place and the rollout annotation changes, so Grafana's pods roll "
        "(wait: kubectl rollout status deployment/grafana -n <namespace>)",
        "sign in to Grafana with GitHub",
        "delete the old client secret in the OAuth App settings",
    ),
    reload=_GRAFANA,
)

GRAFANA_GITHUB_ORG = Key(
    "grafana:githubOrg",
    secret=False,
    check=v.github_login,
    purpose="GitHub organization whose members may sign in to Grafana (compared case-insensitively)",
    example="your-org",
    flows_to="Secret grafana-oauth/GF_AUTH_GITHUB_ALLOWED_ORGANIZATIONS",
    consumers="Grafana",
    symptom="Grafana login: 'User not a member of one of the required organizations'",
)

GRAFANA_ADMIN_USER = Key(
    "grafana:adminUser",
    secret=False,
    check=v.github_user_or_id,
    purpose=(
        "Who gets Grafana server admin (everyone else is Viewer): id:<numeric GitHub user id> (preferred: survives "
        "renames; gh api users/<login> --jq .id), or a login, compared case-sensitively"
    ),
    example="id:583231",
    flows_to="Secret grafana-oauth/GF_AUTH_GITHUB_ROLE_ATTRIBUTE_PATH",
    consumers="Grafana",
    symptom="Nobody can manage dashboards, users or data sources",
)

GRAFANA_SMTP_HOST = Key(
    "grafana:smtpHost",
    secret=True,
    check=v.hostname,
    purpose="SMTP server hostname for alert emails",
    example="smtp.gmail.com",
    rotation=Rotation.ON_PROVIDER_CHANGE,
    flows_to="Secret grafana-oauth/GF_SMTP_HOST",
    consumers="Grafana alerting",
    symptom="Alert emails not delivered: 'dial tcp: lookup … no such host'",
    rotate=(
        "Changes only with the mail provider: set the new host together with its user and password "
        "(grafana:smtpUser, grafana:smtpPassword) in one change.",
        "{set}",
        "pulumi up: the Secret is updated in place and the rollout annotation changes, so Grafana's pods roll.",
        "Verify: Alerting → Contact points → Test sends a mail.",
    ),
    reload=_GRAFANA,
)

GRAFANA_SMTP_PORT = Key(
    "grafana:smtpPort",
    secret=False,
    check=v.port,
    json_types=("string", "integer"),
    purpose="SMTP server port (587 for STARTTLS)",
    example="587",
    flows_to="Secret grafana-oauth/GF_SMTP_HOST (host:port)",
    consumers="Grafana alerting",
    symptom="Alert emails not delivered: connection refused or timed out",
)

GRAFANA_SMTP_USER = Key(
    "grafana:smtpUser",
    secret=True,
    check=v.nonempty,
    purpose="SMTP authentication username",
    example="alerts@example.com",
    rotation=Rotation.ON_PROVIDER_CHANGE,
    flows_to="Secret grafana-oauth/GF_SMTP_USER",
    consumers="Grafana alerting",
    symptom="Alert emails not delivered: '535 Username and Password not accepted'",
    rotate=(
        "Changes only with the mail account: set the new user together with its password (grafana:smtpPassword).",
        "{set}",
        "pulumi up: the Secret is updated in place and the rollout annotation changes, so Grafana's pods roll.",
        "Verify: Alerting → Contact points → Test sends a mail.",
    ),
    reload=_GRAFANA,
)

GRAFANA_SMTP_PASSWORD = Key(
    "grafana:smtpPassword",
    secret=True,
    check=v.no_spaces(v.app_password),
    purpose="SMTP authentication password (a Google app password; spaces are removed)",
    example="YOUR_APP_PASSWORD",
    rotation=Rotation.QUARTERLY,
    generate="myaccount.google.com/apppasswords → Create (copy the 16 characters; spaces are stripped)",
    flows_to="Secret grafana-oauth/GF_SMTP_PASSWORD",
    consumers="Grafana alerting",
    symptom="Alert emails not delivered: '535 Username and Password not accepted'",
    scopes="a Google Workspace app password (bypasses 2FA: revoke at once if leaked)",
    rotate=_overlap(
        "Create a new app password at myaccount.google.com/apppasswords (an account can hold several).",
        "pulumi up: the Secret is updated in place and the rollout annotation changes, so Grafana's pods roll "
        "(wait: kubectl rollout status deployment/grafana -n <namespace>)",
        "Alerting → Contact points → Test sends a mail",
        "revoke it at myaccount.google.com/apppasswords",
    ),
    reload=_GRAFANA,
)

GRAFANA_SMTP_FROM_ADDRESS = Key(
    "grafana:smtpFromAddress",
    secret=False,
    check=v.email,
    purpose='Email "From" address for alerts',
    example="alerts@example.com",
    flows_to="Secret grafana-oauth/GF_SMTP_FROM_ADDRESS",
    consumers="Grafana alerting",
    symptom="Alert emails rejected by the SMTP server (sender not allowed)",
)

GRAFANA_ALERT_EMAIL = Key(
    "grafana:alertEmail",
    per_environment=True,
    secret=False,
    check=v.email,
    purpose="Email address that receives Grafana alerts",
    example="oncall@example.com",
    flows_to="Secret grafana-oauth/GF_SECRET_CHAIN_ALERT_EMAIL (read only by a provisioned contact point: ${GF_SECRET_CHAIN_ALERT_EMAIL})",
    consumers="Grafana alerting",
    symptom="Alerts fire but nobody is mailed",
)

# --- providers and stack settings (read by providers or the stack program) -------------------
GITHUB_PROVIDER_TOKEN = Key(
    "github:token",
    secret=True,
    check=v.github_token("ghp_", "github_pat_", "ghs_"),
    purpose="Token pulumi-github uses to write Actions secrets and variables",
    example="github_pat_…",
    rotation=Rotation.ANNUALLY,
    generate="fine-grained token on the repository with Secrets: write, Variables: write (org secrets: Organization secrets write)",
    flows_to="pulumi-github provider config",
    consumers="pulumi-github (GitHubActionsSecrets)",
    symptom="pulumi up fails on github:ActionsSecret with 403 Resource not accessible",
    scopes=(
        "fine-grained: Secrets write, Variables write, Environments write (environment secrets), Metadata read; organisation "
        "secrets/variables: organisation Secrets and Variables write; classic: repo (+ admin:org for organisation secrets)"
    ),
    rotate=_overlap(
        "Create a new fine-grained token on the repository (Secrets write, Variables write) at github.com/settings/tokens.",
        "pulumi up on production and preview-base: pulumi-github writes the Actions secrets with the new token",
        "the update shows no 403 Resource not accessible",
        "delete it at github.com/settings/tokens",
    ),
    reload=_PROVIDER,
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
    generate=(
        "nothing to do: when absent, each stack generates its own and keeps it as a secret in its state. Set it "
        "(openssl rand -hex 32) only to share one key across stacks or to rotate it by hand"
    ),
    generated_when_absent=(
        "a pulumi_random RandomBytes of 32 bytes named <SecretChain name>-rollout-key, or <component name>-rollout-key for a "
        "PrometheusAuth or GrafanaOAuth on its own, drawn once and kept as a secret in the stack's state"
    ),
    flows_to=(
        "nowhere: only HMACs made with it leave the program (PrometheusAuth and GrafanaOAuth rollout_annotations); "
        "a generated key lives only in the stack's state, as a secret"
    ),
    consumers="the stack program (rollout annotations of the app and Grafana pod templates)",
    symptom="Short or a placeholder: pulumi up stops with a ConfigError before anything changes (absent is fine: a key is generated)",
    scopes="none (a random value that never leaves Pulumi)",
    rotate=(
        "Only on compromise: rotating it changes every rollout annotation, so every env-var consumer (the app, Grafana) "
        "restarts once.",
        "If secret-chain:rolloutKey is not set (the key is generated): on each stack, find the URN of the RandomBytes that holds "
        "it with pulumi stack --show-urns | grep rollout-key (the stack program's is "
        "urn:pulumi:<stack>::secret-chain::secret-chain:index:SecretChain$random:index/randomBytes:RandomBytes::secret-chain-rollout-key), "
        "then pulumi up --replace '<URN>': the resource is replaced and a new key drawn; no Secret changes, the rollout annotations "
        "change and the consumers roll. Skip the next two steps.",
        "If it is set: {set}",
        "pulumi up on every stack that imports the environment: no Secret changes; the rollout annotations change and the consumers roll.",
        "If the old key leaked together with the annotations, also rotate the low-entropy values those annotations cover "
        "(the Grafana SMTP password, client secret): with the key an attacker could test guesses against them offline.",
    ),
    reload="read only by the stack program at pulumi up",
)

ESC_ENVIRONMENT = Key(
    "secret-chain:escEnvironment",
    secret=False,
    check=v.esc_environment,
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
    purpose="The platform's DNS domain (hostnames, certificates, Grafana callback URL)",
    example="example.com",
    tier=Tier.STACK,
)

ACME_EMAIL = Key(
    "secret-chain:acmeEmail",
    secret=False,
    check=v.acme_email,
    purpose="ACME account contact for Let's Encrypt (no expiry emails: Let's Encrypt ended them on 2025-06-04)",
    example="ops@example.com",
    tier=Tier.STACK,
)

GITHUB_REPOSITORY = Key(
    "secret-chain:githubRepository",
    secret=False,
    check=v.github_repository,
    purpose="Repository (owner/name) whose Actions secrets and variables the chain writes",
    example="acme/platform",
    tier=Tier.STACK,
)

DEFAULT_BRANCH = Key(
    "secret-chain:defaultBranch",
    secret=False,
    check=v.git_branch,
    purpose=(
        "The repository's default branch (bootstrap stack): the OIDC policy lets CI log in to Pulumi Cloud from pull "
        "requests and from this branch only (GitHub's sub claim repo:<owner>/<repo>:ref:refs/heads/<branch>); default main"
    ),
    example="main",
    tier=Tier.STACK,
)

FLUX_REPOSITORY_URL = Key(
    "secret-chain:fluxRepositoryUrl",
    secret=False,
    check=v.https_git_url,
    purpose="HTTPS URL of the cluster repository Flux syncs",
    example="https://github.com/acme/cluster",
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
    flows_to="pulumi-kubernetes provider config (the default provider; an explicit one: components.kube.mutable_secrets_provider)",
    consumers="pulumi-kubernetes",
    symptom="pulumi up shows Secrets as replaced (+-) on a rotation, and pods starting meanwhile miss them",
    tier=Tier.STACK,
)

KEYS: tuple[Key, ...] = (
    GHCR_USERNAME,
    GHCR_TOKEN,
    PROMETHEUS_TOKEN,
    PROMETHEUS_PREVIOUS_TOKEN,
    CI_PULUMI_ORGANIZATION,
    CI_PULUMI_TOKEN_TYPE,
    CI_PULUMI_TEAM,
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
    ESC_ENVIRONMENT,
    APP_NAMESPACE,
    GATEWAY_NAMESPACE,
    DOMAIN,
    ACME_EMAIL,
    GITHUB_REPOSITORY,
    DEFAULT_BRANCH,
    FLUX_REPOSITORY_URL,
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
