"""The runbook's prose for every catalog key: who reads it, what breaks, the least scopes, how to make and rotate it.

The schema of a key (its name, secrecy, check, tier, purpose and example, which error messages use) is
:mod:`secret_chain.catalog`; this module holds what people read about it, rendered by the operator tools
(``secret-chain inventory``: the tables of docs/secrets.md and docs/rotation.md; ``secret-chain rotation``; the
troubleshooting page, :mod:`secret_chain.ops.site`). No component reads it. :data:`RUNBOOK` has one entry per
catalog key, keyed by the catalog's own objects (tests/test_runbook.py keeps the two equal); its sentences may name
keys, never as a bare string constant (tests/test_key_literals.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from secret_chain import catalog
from secret_chain.catalog import DEPRECATED_SINCE, REMOVED_IN, STORED_TOKEN_FALLBACK, Key


@dataclass(frozen=True)
class Runbook:
    """What the runbook says about one key."""

    flows_to: str = ""
    """Only for a key whose value lands in no object the chain registers (provider config, the rollout key): where it goes.

    Where every other value lands is derived from the registrations (:func:`secret_chain.ops.plan.flows_to`)."""
    consumers: str = ""
    """Who reads it at run time."""
    generate: str = ""
    """How to make a new value."""
    symptom: str = ""
    """What breaks when it is wrong or expired."""
    scopes: str = ""
    """The least permissions the credential needs."""
    rotate: tuple[str, ...] = ()
    """How to replace the value without downtime, one step per item (rendered numbered into docs/rotation.md).

    ``{set}`` in a step stands for this key's ``pulumi env set`` (or ``pulumi config set``) command, :func:`env_of` for
    the environment that holds a key and :func:`remove` for the command that removes one: each is filled in for the
    stack at hand (:func:`secret_chain.ops.inventory.rotation_steps`), so a step names one environment, the right one."""
    reload: str = ""
    """When the consumers pick up a new value, and so whether they need a restart (a rollout trigger)."""
    stays: str = ""
    """For a secret: why it is a long-lived value someone must hold, rather than a short-lived token (or why it is no credential)."""


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
_UP_ACTIONS = "pulumi up on production and preview-base (the stacks that write the Actions secrets of the GitHub environments production and preview)"


_OIDC_WORKFLOWS = "preview-deploy.yml, preview-cleanup.yml, scheduled-checks.yml"


def env_of(entry: Key) -> str:
    """In a step: the ESC environment that holds ``entry`` for the stack at hand (:func:`secret_chain.environments.home_of`)."""
    return "{env:" + entry.key + "}"


def remove(entry: Key) -> str:
    """In a step: the command that removes ``entry`` from the environment that holds it (:func:`secret_chain.config.remove_command`)."""
    return "{rm:" + entry.key + "}"


def _retire(entry: Key, replaced: str, github_name: str) -> tuple[str, ...]:
    """The steps that retire a deprecated credential: remove it from ESC, let pulumi up delete its Actions secret, revoke it."""
    return (
        f"Not rotated any more: deprecated in {DEPRECATED_SINCE}, removed in {REMOVED_IN} ({replaced}). Retire it instead.",
        f"{remove(entry)} (always with the path: without it, pulumi env rm deletes the whole environment).",
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


RUNBOOK: dict[Key, Runbook] = {
    catalog.GHCR_USERNAME: Runbook(
        consumers="kubelet (imagePullSecrets)",
        symptom="ImagePullBackOff / 401 Unauthorized on pods pulling from ghcr.io",
    ),
    catalog.GHCR_TOKEN: Runbook(
        stays=(
            'ghcr.io takes only a classic personal access token for pulls from outside GitHub Actions (no fine-grained, App or OIDC token): '
            'the kubelet needs a stored one'
        ),
        consumers="kubelet (imagePullSecrets), Flux image-reflector-controller (ImageRepository secretRef)",
        generate=(
            'github.com/settings/tokens → "Generate new token (classic)", scopes read:packages '
            "(write:packages only if this token also pushes), expiry ≤ 1 year"
        ),
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
    ),
    catalog.PROMETHEUS_TOKEN: Runbook(
        stays="a bearer secret shared by Prometheus and the app, with no identity provider between them in the cluster",
        consumers="the app (env PROMETHEUS_AUTH_TOKEN), Prometheus (ServiceMonitor authorization)",
        generate="openssl rand -hex 32",
        symptom="Prometheus target down with 401 on /metrics",
        scopes="none (a shared random value)",
        rotate=(
            "Two phases, so that every scrape succeeds while the app's pods roll (the runbook: keep the old token valid during the switch).",
            # A pipe, not "$(pulumi env get …)" as an argument: the token would be on pulumi env set's command line,
            # which ps shows every user. env get --value string ends the value with a newline (pulumi/esc
            # cmd/esc/cli/env_open.go, case "string"), which --string would keep: tr drops it.
            "Phase 1: copy the current token into prometheus:previousAuthToken, without printing it or putting it on a command "
            f"line: pulumi env get {env_of(catalog.PROMETHEUS_TOKEN)} pulumiConfig.prometheus:authToken --value string --show-secrets "
            f"| tr -d '\\n' | pulumi env set {env_of(catalog.PROMETHEUS_PREVIOUS_TOKEN)} pulumiConfig.prometheus:previousAuthToken "
            "--secret --string --file -",
            "Then set the new token (the command makes it: 32 random bytes): {set}",
            "pulumi up: the app Secret now holds PROMETHEUS_AUTH_TOKEN (new) and PROMETHEUS_AUTH_TOKEN_PREVIOUS (old), "
            "both of which the app must accept; the ServiceMonitor's Secret keeps the old token, so Prometheus keeps "
            "sending a token every pod accepts; the rollout annotation changes and the app's pods roll.",
            "Wait for the rollout: kubectl rollout status deployment/<app> -n <namespace>.",
            f"Phase 2: {remove(catalog.PROMETHEUS_PREVIOUS_TOKEN)} (always with the path: without it, pulumi env rm deletes the "
            "whole environment).",
            "Switch Prometheus first: pulumi up --target <URN of the Secret ending in prometheus-monitor> (pulumi stack "
            "--show-urns lists it): the Secret Prometheus reads now holds the new token while every pod still accepts both; "
            "give the Prometheus Operator a minute to reload Prometheus (the target stays up throughout).",
            "Then pulumi up: the app Secret drops the old token and the pods roll, accepting only the new one; the "
            "ServiceMonitor itself never changes. (One plain pulumi up does this step and the previous one at once: a scrape "
            "that reaches an already rolled pod before Prometheus has reloaded its config then fails once.)",
            "Verify: the target is up in Prometheus (up == 1 for the app's job) and the app logs no 401 on /metrics.",
        ),
        reload=_PROMETHEUS_APP,
    ),
    catalog.PROMETHEUS_PREVIOUS_TOKEN: Runbook(
        stays="not held: set only during a rotation, removed in its phase 2",
        consumers="the app (env PROMETHEUS_AUTH_TOKEN_PREVIOUS, accepted as well), Prometheus (ServiceMonitor authorization)",
        symptom="Left set after the rollout: Prometheus keeps the old token and the app keeps accepting it (remove it: phase 2)",
        scopes="none (the previous shared random value)",
        rotate=(
            "Not rotated itself: it is set in phase 1 of prometheus:authToken's rotation and removed in phase 2 "
            f"({remove(catalog.PROMETHEUS_PREVIOUS_TOKEN)}, then pulumi up).",
        ),
        reload=_PROMETHEUS_APP,
    ),
    catalog.CI_PULUMI_ORGANIZATION: Runbook(
        consumers=f"pulumi/auth-actions (organization) and the stack names <org>/<stack> in {_OIDC_WORKFLOWS}",
        symptom=(
            "'Check the Pulumi Cloud login settings' fails (PULUMI_ORG unset), or the token exchange is refused: the "
            "organisation has no OIDC issuer https://token.actions.githubusercontent.com with a policy for this repository"
        ),
        scopes=(
            "none itself; the organisation registers the OIDC issuer https://token.actions.githubusercontent.com with a policy "
            "for aud urn:pulumi:org:<org> and this repository's environment subjects, environment:preview and "
            "environment:production (the bootstrap stack)"
        ),
    ),
    catalog.CI_PULUMI_TOKEN_TYPE: Runbook(
        consumers=f"pulumi/auth-actions (requested-token-type urn:pulumi:token-type:access_token:<type>) in {_OIDC_WORKFLOWS}",
        symptom="the token exchange is refused: the issuer's policy allows another token type, or the edition lacks it",
        scopes=(
            "team: only the team's stack and environment permissions (admin on preview-pr-*, which stack rm needs; open on the "
            "ESC environments CI uses); organization: the whole organisation"
        ),
    ),
    catalog.CI_PULUMI_TEAM: Runbook(
        consumers=f"pulumi/auth-actions (scope team:<team>) in {_OIDC_WORKFLOWS}",
        symptom="'Check the Pulumi Cloud login settings' fails (unset with team), or the exchange is refused (no policy for the team)",
    ),
    catalog.CI_PULUMI_PREVIEW_TEAM: Runbook(
        consumers=(
            "the bootstrap stack: the OIDC policy rule of the preview subject (team token of this team), the team itself and its "
            "open on PullRequest and Base; Preview's ci:pulumiTokenType and ci:pulumiTeam, which preview-base writes to preview"
        ),
        symptom="a pull request's deploy is refused at the token exchange (no rule for the team), or cannot open PullRequest",
        scopes="open on PullRequest and Base; owner of the preview-pr-<N> stacks its token creates; nothing else",
    ),
    catalog.CI_PULUMI_AUTH: Runbook(
        consumers=f"the step conditions of the Pulumi login in {_OIDC_WORKFLOWS}",
        symptom="CI logs in with the stored token although OIDC would work (remove it), or 'the secret PULUMI_FALLBACK_ACCESS_TOKEN is empty'",
    ),
    catalog.CI_PULUMI_FALLBACK_ACCESS_TOKEN: Runbook(
        stays="opt-in only, for a Pulumi Cloud without OIDC issuers; absent, CI logs in by OIDC with nothing stored",
        consumers=f"the gated fallback login step of {_OIDC_WORKFLOWS} (only while PULUMI_AUTH is {STORED_TOKEN_FALLBACK})",
        generate=(
            "Pulumi Cloud → the team's or organisation's Access tokens → Create token (a team token on Enterprise, else an "
            "organisation token), expiry ≤ 1 year"
        ),
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
    ),
    catalog.CI_PULUMI_ACCESS_TOKEN: Runbook(
        stays="not needed: deprecated (CI logs in by OIDC); remove it",
        consumers="none (the workflows log in by OIDC)",
        symptom="a deprecation warning at pulumi preview/up; remove the key",
        rotate=_retire(catalog.CI_PULUMI_ACCESS_TOKEN, "replaced by OIDC", "PULUMI_ACCESS_TOKEN"),
        reload=_ACTIONS,
    ),
    catalog.CI_WORKFLOW_DISPATCH_TOKEN: Runbook(
        stays="not needed: deprecated (the CI App's one-hour tokens); remove it",
        consumers="none (dispatches use a one-hour GitHub App token)",
        symptom="a deprecation warning at pulumi preview/up; remove the key",
        rotate=_retire(catalog.CI_WORKFLOW_DISPATCH_TOKEN, "replaced by the CI GitHub App's tokens", "WORKFLOW_DISPATCH_TOKEN"),
        reload=_ACTIONS,
    ),
    catalog.CI_GITHUB_APP_ID: Runbook(
        consumers=(
            "actions/create-github-app-token in every workflow that writes to GitHub "
            "(preview-deploy.yml, scheduled-checks.yml, flux-image-updates-pr.yml)"
        ),
        symptom="create-github-app-token fails: 'Not Found' or 'A JSON web token could not be decoded'",
    ),
    catalog.CI_GITHUB_APP_PRIVATE_KEY: Runbook(
        stays=(
            'signs the JWT that mints the one-hour installation tokens: GitHub has no token exchange for App installation tokens, so this '
            'one key is stored (it never leaves the runner)'
        ),
        consumers="actions/create-github-app-token",
        generate="GitHub App settings → Private keys → Generate a private key (delete the old key after the switch)",
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
    ),
    catalog.FLUX_GITHUB_TOKEN: Runbook(
        stays="the alternative to the Flux App, expiring every 90 days: use the App key instead and drop it",
        consumers="Flux source-controller (GitRepository), image-automation-controller (push)",
        generate=(
            "github.com/settings/tokens → fine-grained token for the cluster repository only: Contents read (sync) or write "
            "(image automation), Metadata read; 90-day expiry. Keep the old token valid for 24h during the switch"
        ),
        symptom="GitRepository not ready: 'authentication required' / image automation 'cannot push to branch'",
        scopes=(
            "fine-grained, cluster repository only: Contents read (sync) or write (image automation), Metadata read; "
            "no Pull requests (Flux pushes a branch); classic: repo"
        ),
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
    ),
    catalog.FLUX_GITHUB_APP_ID: Runbook(
        consumers="Flux source-controller, image-automation-controller (provider: github)",
        symptom="GitRepository not ready: 'failed to get GitHub App token'",
    ),
    catalog.FLUX_GITHUB_APP_INSTALLATION_ID: Runbook(
        consumers="Flux source-controller, image-automation-controller (provider: github)",
        symptom="GitRepository not ready: 'failed to get GitHub App token' (404 on installation)",
    ),
    catalog.FLUX_GITHUB_APP_PRIVATE_KEY: Runbook(
        stays="Flux mints one-hour installation tokens from it in the cluster: a GitHub App token needs the App's key",
        consumers="Flux source-controller, image-automation-controller (provider: github)",
        generate="GitHub App settings → Private keys → Generate a private key; delete the old key after the switch",
        symptom="GitRepository not ready: 'could not parse private key' or 401 from GitHub",
        scopes="GitHub App installed on the cluster repository only: Contents read (sync) or read/write (image automation), Metadata read",
        rotate=_overlap(
            "Flux's GitHub App settings → Private keys → Generate a private key (an App can hold several keys at once).",
            _UP + "; Flux mints its next installation token with it",
            "flux reconcile source git secret-chain (flux-system on a bootstrapped cluster) succeeds and `flux get sources git` shows Ready",
            "delete the old key under the App's Private keys (installation tokens already minted expire within an hour)",
        ),
        reload=_FLUX,
    ),
    catalog.DIGITALOCEAN_DNS_TOKEN: Runbook(
        stays="cert-manager's DigitalOcean DNS-01 solver reads an API token from a Secret; DigitalOcean documents no token exchange for workloads",
        consumers="cert-manager (ClusterIssuer DNS-01 solver)",
        generate=('cloud.digitalocean.com/account/api/tokens → "Generate New Token", Custom Scopes: domain:read, domain:create, domain:delete'),
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
    ),
    catalog.DIGITALOCEAN_PROVIDER_TOKEN: Runbook(
        stays="pulumi-digitalocean and the CI jobs authenticate with an API token; DigitalOcean documents no OIDC exchange for it",
        flows_to=(
            "pulumi-digitalocean provider config (each stack its own environment's: Production, Preview, PullRequest; a token "
            "reaches every cluster of its DigitalOcean team, so PullRequest's and Preview's belong to a team without "
            "production's cluster), and the CI jobs' kubeconfig fetch (pulumi config get)"
        ),
        consumers=(
            "pulumi-digitalocean (getKubernetesCluster: the kubeconfig of secret-chain:digitaloceanCluster on every run; "
            "CertManagerDnsIssuer's getDomain), the cluster-credentials step of preview-deploy.yml, preview-cleanup.yml, "
            "scheduled-checks.yml"
        ),
        generate=(
            'cloud.digitalocean.com/account/api/tokens → "Generate New Token", Custom Scopes: kubernetes:read, '
            "kubernetes:access_cluster, domain:read (DigitalOcean adds the scopes they require: regions:read, sizes:read, "
            "actions:read)"
        ),
        symptom=(
            "pulumi up fails in getKubernetesCluster (401, or 403 without kubernetes:access_cluster), or the CI step "
            "'Fetch the cluster's kubeconfig' finds no cluster; CertManagerDnsIssuer's domain look-up fails"
        ),
        scopes=(
            "DigitalOcean custom scopes: kubernetes:read (list clusters), kubernetes:access_cluster (download a kubeconfig), "
            "domain:read (CertManagerDnsIssuer's zone look-up), with regions:read, sizes:read, actions:read, which "
            "kubernetes:access_cluster requires. Scopes are team-wide: it downloads a kubeconfig of every cluster of the "
            "team, acting as the token's owner (docs/least-privilege.md: what a PR's job reaches)"
        ),
        rotate=_overlap(
            "Create a new token at cloud.digitalocean.com/account/api/tokens with the same custom scopes (kubernetes:read, "
            "kubernetes:access_cluster, domain:read).",
            "pulumi preview on every stack that imports the environment: the provider's look-ups and the kubeconfig fetch run "
            "with the new token",
            "the preview shows no 401 from the DigitalOcean API",
            "delete it at cloud.digitalocean.com/account/api/tokens (kubeconfigs already fetched stay valid until they expire: "
            "an hour for the program's, the job's length for CI's)",
        ),
        reload=_PROVIDER,
    ),
    catalog.GRAFANA_CLIENT_ID: Runbook(
        stays="no credential: the OAuth client ID is public (it is in every login redirect); kept secret only as the runbook does",
        consumers="Grafana",
        generate="github.com/organizations/<org>/settings/applications → New OAuth App (callback https://<host>/login/github)",
        symptom="Grafana login: 'redirect_uri is not associated with this application' or 404 at GitHub",
        scopes=(
            "an OAuth App owned by the organisation, one per host (callback URL); users grant user:email and read:org. "
            "Approve it if the organisation restricts OAuth App access"
        ),
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
    ),
    catalog.GRAFANA_CLIENT_SECRET: Runbook(
        stays="a GitHub OAuth App authenticates Grafana's token request with its client secret; Grafana's GitHub login has no other way",
        consumers="Grafana",
        generate="OAuth App settings → Generate a new client secret (keep the old one until Grafana restarted)",
        symptom="Grafana login fails: 'incorrect_client_credentials'",
        scopes=(
            "an OAuth App owned by the organisation, one per host (callback URL); users grant user:email and read:org. "
            "Approve it if the organisation restricts OAuth App access"
        ),
        rotate=_overlap(
            'OAuth App settings → "Generate a new client secret" (an OAuth App can hold two client secrets at once).',
            "pulumi up: the Secret is updated in place and the rollout annotation changes, so Grafana's pods roll "
            "(wait: kubectl rollout status deployment/grafana -n <namespace>)",
            "sign in to Grafana with GitHub",
            "delete the old client secret in the OAuth App settings",
        ),
        reload=_GRAFANA,
    ),
    catalog.GRAFANA_GITHUB_ORG: Runbook(
        consumers="Grafana",
        symptom="Grafana login: 'User not a member of one of the required organizations'",
    ),
    catalog.GRAFANA_ADMIN_USER: Runbook(
        consumers="Grafana",
        symptom="Nobody can manage dashboards, users or data sources",
    ),
    catalog.GRAFANA_SMTP_HOST: Runbook(
        stays="no credential: secret only to keep the mail setup private",
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
    ),
    catalog.GRAFANA_SMTP_PORT: Runbook(
        consumers="Grafana alerting",
        symptom="Alert emails not delivered: connection refused or timed out",
    ),
    catalog.GRAFANA_SMTP_USER: Runbook(
        stays="no credential: secret only to keep the address private",
        consumers="Grafana alerting",
        symptom="Alert emails not delivered: '535 Username and Password not accepted'",
        rotate=(
            "Changes only with the mail account: set the new user together with its password (grafana:smtpPassword).",
            "{set}",
            "pulumi up: the Secret is updated in place and the rollout annotation changes, so Grafana's pods roll.",
            "Verify: Alerting → Contact points → Test sends a mail.",
        ),
        reload=_GRAFANA,
    ),
    catalog.GRAFANA_SMTP_PASSWORD: Runbook(
        stays="the mail server authenticates Grafana's SMTP client with a password (a Google app password): Grafana's SMTP has no OAuth",
        consumers="Grafana alerting",
        generate="myaccount.google.com/apppasswords → Create (copy the 16 characters; spaces are stripped)",
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
    ),
    catalog.GRAFANA_SMTP_FROM_ADDRESS: Runbook(
        consumers="Grafana alerting",
        symptom="Alert emails rejected by the SMTP server (sender not allowed)",
    ),
    catalog.GRAFANA_ALERT_EMAIL: Runbook(
        consumers=(
            "Grafana alerting, through the contact point alert-email of ConfigMap grafana-alert-email (its alerting "
            "provisioning file interpolates ${GF_SECRET_CHAIN_ALERT_EMAIL}; the Helm chart's alerts sidecar loads it)"
        ),
        symptom="Alerts fire but nobody is mailed: is sidecar.alerts.enabled on in the Grafana chart?",
    ),
    catalog.GITHUB_PROVIDER_TOKEN: Runbook(
        stays=(
            'pulumi-github writes the Actions secrets with a token (its App authentication needs a stored App key too); stacks also run '
            'outside Actions'
        ),
        flows_to="pulumi-github provider config",
        consumers="pulumi-github (GitHubActionsSecrets)",
        generate=(
            "fine-grained token on the repository with Environments: write and Administration: write (the chain writes to, and "
            "creates, the GitHub environments production and preview); repository-wide use: Secrets: write, Variables: write "
            "(org secrets: Organization secrets write)"
        ),
        symptom="pulumi up fails on github:ActionsSecret with 403 Resource not accessible",
        scopes=(
            "fine-grained: Environments write (environment secrets and variables) and Administration write (PUT "
            "/repos/{owner}/{repo}/environments/{name}: the chain creates its environments), Metadata read; repository-wide "
            "secrets/variables (GitHubActionsSecrets used on its own): Secrets write, Variables write; organisation "
            "secrets/variables: organisation Secrets and Variables write; classic: repo (+ admin:org for organisation secrets)"
        ),
        rotate=_overlap(
            "Create a new fine-grained token on the repository (Environments write, Administration write) at github.com/settings/tokens.",
            "pulumi up on production and preview-base: pulumi-github writes the Actions secrets with the new token",
            "the update shows no 403 Resource not accessible",
            "delete it at github.com/settings/tokens",
        ),
        reload=_PROVIDER,
    ),
    catalog.ROLLOUT_KEY: Runbook(
        stays="not held by a person: generated when absent (RandomBytes) and kept secret in Pulumi state",
        flows_to=(
            "nowhere: only HMACs made with it leave the program (PrometheusAuth and GrafanaOAuth rollout_annotations); "
            "a generated key lives only in the stack's state, as a secret"
        ),
        consumers="the stack program (rollout annotations of the app and Grafana pod templates)",
        generate=(
            "nothing to do: when absent, each stack generates its own and keeps it as a secret in its state. Set it "
            "(openssl rand -hex 32) only to share one key across stacks or to rotate it by hand"
        ),
        symptom="Short or a placeholder: pulumi up stops with a ConfigError before anything changes (absent is fine: a key is generated)",
        scopes="none (a random value that never leaves Pulumi)",
        rotate=(
            "Only on compromise: rotating it changes every rollout annotation, so every env-var consumer (the app, Grafana) restarts once.",
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
    ),
    catalog.ESC_ENVIRONMENT: Runbook(),
    catalog.APP_NAMESPACE: Runbook(),
    catalog.GATEWAY_NAMESPACE: Runbook(),
    catalog.DOMAIN: Runbook(),
    catalog.ACME_EMAIL: Runbook(),
    catalog.GITHUB_REPOSITORY: Runbook(),
    catalog.FLUX_REPOSITORY_URL: Runbook(),
    catalog.IMAGE_AUTOMATION: Runbook(),
    catalog.DIGITALOCEAN_CLUSTER: Runbook(),
    catalog.DECLARED_PARTS: Runbook(),
    catalog.MUTABLE_SECRETS: Runbook(
        flows_to="pulumi-kubernetes provider config (the default provider; an explicit one: secret_chain.kube.mutable_secrets_provider)",
        consumers="pulumi-kubernetes",
        symptom="pulumi up shows Secrets as replaced (+-) on a rotation, and pods starting meanwhile miss them",
    ),
}
"""The prose of every catalog key."""


_BY_KEY = {entry.key: prose for entry, prose in RUNBOOK.items()}
_NONE = Runbook()


def of(entry: Key) -> Runbook:
    """The runbook's prose about ``entry`` (found by its key, so an entry changed with ``dataclasses.replace`` still has it).

    A key the catalog does not hold (one a test makes up) has none; every catalog key has an entry (tests/test_runbook.py).
    """
    return _BY_KEY.get(entry.key, _NONE)
