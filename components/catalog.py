"""The one catalog of every secret and config value in the chain.

Each value is declared here once: its config key, whether it is secret, its format check, where it
flows (ESC key → Kubernetes Secret or GitHub secret → consumer), its rotation schedule, how to make a
new one, and what breaks when it is wrong. Components, error messages and the documented secret
tables all read this module; nothing else restates it.
"""

from __future__ import annotations

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

    @property
    def namespace(self) -> str:
        """Config namespace: the part before the first colon."""
        return self.key.split(":", 1)[0]

    @property
    def name(self) -> str:
        """Config name within the namespace: everything after the first colon."""
        return self.key.split(":", 1)[1]


def _classic_pat_for_ghcr() -> Check:
    return v.github_token(
        "ghp_",
        why=(
            "GitHub Packages (ghcr.io) authenticates image pulls only with a classic personal access token; "
            "fine-grained and GitHub App tokens are refused with 401/403. Create a classic token with read:packages"
        ),
    )


KEYS: tuple[Key, ...] = (
    # --- GhcrPullSecret -------------------------------------------------------------------------
    Key(
        "namespace:imagePullSecret:username",
        secret=False,
        check=v.github_login,
        purpose="GitHub username for GHCR authentication",
        example="your-github-username",
        flows_to="Secret ghcr-pull-secret/.dockerconfigjson (username, auth)",
        consumers="kubelet (imagePullSecrets)",
        symptom="ImagePullBackOff / 401 Unauthorized on pods pulling from ghcr.io",
    ),
    Key(
        "namespace:imagePullSecret:token",
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
        scopes="classic PAT: read:packages",
    ),
    # --- PrometheusAuth ---------------------------------------------------------------------------
    Key(
        "prometheus:authToken",
        secret=True,
        check=v.random_token,
        purpose="Bearer token Prometheus presents to scrape the app's /metrics endpoint",
        example="$(openssl rand -hex 32)",
        rotation=Rotation.ANNUALLY,
        generate="openssl rand -hex 32",
        flows_to="Secret prometheus-auth/PROMETHEUS_AUTH_TOKEN (app) and prometheus-scrape-auth/token (monitoring)",
        consumers="the app (env PROMETHEUS_AUTH_TOKEN), Prometheus (ServiceMonitor authorization)",
        symptom="Prometheus target down with 401 on /metrics",
        scopes="none (a shared random value)",
    ),
    # --- GitHubActionsSecrets ---------------------------------------------------------------------
    Key(
        "ci:pulumiAccessToken",
        secret=True,
        check=v.pulumi_access_token,
        purpose="Manage infrastructure state in Pulumi Cloud from CI",
        example="pul-…",
        rotation=Rotation.ANNUALLY,
        generate='app.pulumi.com/settings/tokens → "Create token" (name: GitHub Actions - <repo>)',
        flows_to="GitHub Actions secret PULUMI_ACCESS_TOKEN",
        consumers="preview-deploy.yml, preview-cleanup.yml",
        symptom="Pulumi login failed in CI",
        scopes="Pulumi organization or team token limited to the project's stacks",
    ),
    Key(
        "ci:workflowDispatchToken",
        secret=True,
        check=v.github_token("ghp_", "github_pat_"),
        purpose="Trigger the preview deployment workflow from the build workflow",
        example="github_pat_…",
        rotation=Rotation.ANNUALLY,
        generate=("github.com/settings/tokens → fine-grained token for this repository with Actions: write (or classic with the workflow scope)"),
        flows_to="GitHub Actions secret WORKFLOW_DISPATCH_TOKEN",
        consumers="build-preview-images.yml",
        symptom="workflow_dispatch trigger fails with 403",
        scopes="fine-grained: Actions write on the repository; classic: workflow",
    ),
    Key(
        "ci:githubAppId",
        secret=False,
        check=v.numeric_id,
        purpose="ID of the GitHub App CI mints short-lived installation tokens from",
        example="123456",
        rotation=Rotation.NEVER,
        flows_to="GitHub Actions variable APP_ID",
        consumers="actions/create-github-app-token in workflows that push or open PRs",
        symptom="create-github-app-token fails: 'Not Found' or 'A JSON web token could not be decoded'",
    ),
    Key(
        "ci:githubAppPrivateKey",
        secret=True,
        check=v.pem_private_key,
        purpose="Private key of the CI GitHub App (signs the JWT that mints installation tokens)",
        example='"$(cat app.private-key.pem)"',
        rotation=Rotation.ANNUALLY,
        generate="GitHub App settings → Private keys → Generate a private key (delete the old key after the switch)",
        flows_to="GitHub Actions secret APP_PRIVATE_KEY",
        consumers="actions/create-github-app-token",
        symptom="create-github-app-token fails: 'A JSON web token could not be decoded'",
        scopes="GitHub App permissions: Contents read/write, Pull requests read/write",
    ),
    # --- FluxGitCredentials -----------------------------------------------------------------------
    Key(
        "flux:githubToken",
        secret=True,
        check=v.github_token("ghp_", "github_pat_"),
        purpose="HTTPS token Flux uses to read the cluster repo and push image updates",
        example="github_pat_…",
        rotation=Rotation.QUARTERLY,
        generate=(
            "github.com/settings/tokens → fine-grained token for the cluster repository: Contents write, "
            "Pull requests write, Metadata read; 90-day expiry. Keep the old token valid for 24h during the switch"
        ),
        flows_to="Secret flux-system/github-token (username, password)",
        consumers="Flux source-controller (GitRepository), image-automation-controller (push)",
        symptom="GitRepository not ready: 'authentication required' / image automation 'cannot push to branch'",
        scopes="fine-grained: Contents write, Pull requests write, Metadata read; classic: repo",
        aliases=("secret-chain:github.token",),
    ),
    Key(
        "flux:githubAppId",
        secret=False,
        check=v.numeric_id,
        purpose="ID of the GitHub App Flux authenticates as (recommended over a token)",
        example="123456",
        flows_to="Secret flux-system/github-token (githubAppID)",
        consumers="Flux source-controller, image-automation-controller (provider: github)",
        symptom="GitRepository not ready: 'failed to get GitHub App token'",
    ),
    Key(
        "flux:githubAppInstallationId",
        secret=False,
        check=v.numeric_id,
        purpose="Installation ID of Flux's GitHub App on the organisation that owns the cluster repo",
        example="12345678",
        flows_to="Secret flux-system/github-token (githubAppInstallationID)",
        consumers="Flux source-controller, image-automation-controller (provider: github)",
        symptom="GitRepository not ready: 'failed to get GitHub App token' (404 on installation)",
    ),
    Key(
        "flux:githubAppPrivateKey",
        secret=True,
        check=v.pem_private_key,
        purpose="Private key of Flux's GitHub App (mints 1-hour installation tokens in-cluster)",
        example='"$(cat flux-app.private-key.pem)"',
        rotation=Rotation.ANNUALLY,
        generate="GitHub App settings → Private keys → Generate a private key; delete the old key after the switch",
        flows_to="Secret flux-system/github-token (githubAppPrivateKey)",
        consumers="Flux source-controller, image-automation-controller (provider: github)",
        symptom="GitRepository not ready: 'could not parse private key' or 401 from GitHub",
        scopes="GitHub App permissions: Contents read/write, Pull requests read/write, Metadata read",
    ),
    # --- CertManagerDnsIssuer ---------------------------------------------------------------------
    Key(
        "gateway:digitaloceanDnsToken",
        secret=True,
        check=v.digitalocean_token,
        purpose="DNS API access for cert-manager wildcard TLS (DNS-01 challenges)",
        example="dop_v1_…",
        rotation=Rotation.ANNUALLY,
        generate=('cloud.digitalocean.com/account/api/tokens → "Generate New Token", Custom Scopes: domain:read, domain:create, domain:delete'),
        flows_to="Secret cert-manager/digitalocean-dns/access-token",
        consumers="cert-manager (ClusterIssuer DNS-01 solver)",
        symptom="cert-manager DNS-01 challenge fails; Certificate stays not ready",
        scopes="DigitalOcean custom scopes: domain:read, domain:create, domain:delete",
    ),
    Key(
        "digitalocean:token",
        secret=True,
        check=v.digitalocean_token,
        purpose="DigitalOcean API access for cluster management (pulumi-digitalocean provider)",
        example="dop_v1_…",
        rotation=Rotation.ANNUALLY,
        generate='cloud.digitalocean.com/account/api/tokens → "Generate New Token" (kubernetes:read, domain:read)',
        flows_to="pulumi-digitalocean provider config",
        consumers="pulumi-digitalocean (cluster and domain look-ups)",
        symptom="DNS records not created / cluster look-up fails with 401",
        scopes="DigitalOcean custom scopes: kubernetes:read, domain:read",
    ),
    # --- GrafanaOAuth -----------------------------------------------------------------------------
    Key(
        "grafana:githubClientId",
        secret=True,
        check=v.nonempty,
        purpose="GitHub OAuth App Client ID for Grafana authentication",
        example="YOUR_CLIENT_ID",
        rotation=Rotation.ON_OAUTH_APP_ROTATION,
        generate="github.com/organizations/<org>/settings/applications → New OAuth App (callback https://<host>/login/github)",
        flows_to="Secret grafana-oauth/GF_AUTH_GITHUB_CLIENT_ID",
        consumers="Grafana",
        symptom="Grafana login: 'redirect_uri is not associated with this application' or 404 at GitHub",
    ),
    Key(
        "grafana:githubClientSecret",
        secret=True,
        check=v.nonempty,
        purpose="GitHub OAuth App Client Secret for Grafana authentication",
        example="YOUR_CLIENT_SECRET",
        rotation=Rotation.ANNUALLY,
        generate="OAuth App settings → Generate a new client secret (keep the old one until Grafana restarted)",
        flows_to="Secret grafana-oauth/GF_AUTH_GITHUB_CLIENT_SECRET",
        consumers="Grafana",
        symptom="Grafana login fails: 'incorrect_client_credentials'",
    ),
    Key(
        "grafana:githubOrg",
        secret=False,
        check=v.github_login,
        purpose="GitHub organization whose members may sign in to Grafana (case-sensitive)",
        example="your-org",
        flows_to="Secret grafana-oauth/GF_AUTH_GITHUB_ALLOWED_ORGANIZATIONS",
        consumers="Grafana",
        symptom="Grafana login: 'User not a member of one of the required organizations'",
    ),
    Key(
        "grafana:adminUser",
        secret=False,
        check=v.github_login,
        purpose="GitHub login that gets Grafana server admin (everyone else is Viewer)",
        example="your-github-username",
        flows_to="Secret grafana-oauth/GF_AUTH_GITHUB_ROLE_ATTRIBUTE_PATH",
        consumers="Grafana",
        symptom="Nobody can manage dashboards, users or data sources",
    ),
    Key(
        "grafana:smtpHost",
        secret=True,
        check=v.hostname,
        purpose="SMTP server hostname for alert emails",
        example="smtp.gmail.com",
        rotation=Rotation.ON_PROVIDER_CHANGE,
        flows_to="Secret grafana-oauth/GF_SMTP_HOST",
        consumers="Grafana alerting",
        symptom="Alert emails not delivered: 'dial tcp: lookup … no such host'",
    ),
    Key(
        "grafana:smtpPort",
        secret=False,
        check=v.port,
        purpose="SMTP server port (587 for STARTTLS)",
        example="587",
        flows_to="Secret grafana-oauth/GF_SMTP_HOST (host:port)",
        consumers="Grafana alerting",
        symptom="Alert emails not delivered: connection refused or timed out",
    ),
    Key(
        "grafana:smtpUser",
        secret=True,
        check=v.nonempty,
        purpose="SMTP authentication username",
        example="alerts@example.com",
        rotation=Rotation.ON_PROVIDER_CHANGE,
        flows_to="Secret grafana-oauth/GF_SMTP_USER",
        consumers="Grafana alerting",
        symptom="Alert emails not delivered: '535 Username and Password not accepted'",
    ),
    Key(
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
    ),
    Key(
        "grafana:smtpFromAddress",
        secret=False,
        check=v.email,
        purpose='Email "From" address for alerts',
        example="alerts@example.com",
        flows_to="Secret grafana-oauth/GF_SMTP_FROM_ADDRESS",
        consumers="Grafana alerting",
        symptom="Alert emails rejected by the SMTP server (sender not allowed)",
    ),
    Key(
        "grafana:alertEmail",
        secret=False,
        check=v.email,
        purpose="Email address that receives Grafana alerts",
        example="oncall@example.com",
        flows_to="Grafana contact point (GF_SECRET_CHAIN_ALERT_EMAIL)",
        consumers="Grafana alerting",
        symptom="Alerts fire but nobody is mailed",
    ),
    # --- providers and stack settings (read by providers or the stack program) -------------------
    Key(
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
        scopes="fine-grained: Secrets write, Variables write, Environments write (environment secrets)",
    ),
    Key(
        "secret-chain:escEnvironment",
        secret=False,
        check=v.esc_environment,
        purpose="The ESC environment this stack imports (named in fix commands)",
        example="acme/Production",
        tier=Tier.STACK,
    ),
    Key(
        "secret-chain:appNamespace",
        secret=False,
        check=v.dns1123_label,
        purpose="Namespace of the application (pull secret, Prometheus token)",
        example="default",
        tier=Tier.STACK,
    ),
    Key(
        "secret-chain:domain",
        secret=False,
        check=v.hostname,
        purpose="The platform's DNS domain (hostnames, certificates, Grafana callback URL)",
        example="example.com",
        tier=Tier.STACK,
    ),
    Key(
        "secret-chain:acmeEmail",
        secret=False,
        check=v.email,
        purpose="ACME account email for Let's Encrypt",
        example="ops@example.com",
        tier=Tier.STACK,
    ),
    Key(
        "secret-chain:githubRepository",
        secret=False,
        check=v.github_repository,
        purpose="Repository (owner/name) whose Actions secrets and variables the chain writes",
        example="acme/platform",
        tier=Tier.STACK,
    ),
    Key(
        "secret-chain:fluxRepositoryUrl",
        secret=False,
        check=v.https_git_url,
        purpose="HTTPS URL of the cluster repository Flux syncs",
        example="https://github.com/acme/cluster",
        tier=Tier.STACK,
    ),
)

BY_KEY: dict[str, Key] = {k.key: k for k in KEYS}


def get(key: str) -> Key:
    """Return the catalog entry of ``key`` (a full ``namespace:name`` key)."""
    return BY_KEY[key]
