"""The GitHub links of a stack's chain, checked live through GitHub's REST API (read-only; never a value in a finding).

* ``github.ghcr-token``: ``namespace:imagePullSecret.token`` is a classic personal access token GitHub accepts, with
  ``read:packages`` in ``X-OAuth-Scopes``, and days left by ``GitHub-Authentication-Token-Expiration``.
* ``github.flux-token``: ``flux:githubToken`` (where Flux uses a token), the same checks with the scope Flux needs.
* ``github.app/<ci|flux>``: each GitHub App key signs a JWT that GitHub accepts (``GET /app``).
* ``github.installation/<ci|flux>``: the App's installation exists, is not suspended and has the permissions the chain
  needs (``GET /app/installations/{id}``, or the repository's: ``GET /repos/{owner}/{repo}/installation``).
* ``github.actions/<environment>/<NAME>``: each Actions secret and variable the stack writes exists in its GitHub
  environment (names and ``updated_at`` only: ``GET /repos/{owner}/{repo}/environments/{environment}/secrets`` and
  ``…/variables``; a variable's value is never read out of the answer).

The API base is ``GITHUB_API_URL`` (``Context.github_api_url``) for GitHub Enterprise Server: GitHub Actions sets it in
every job (GitHub docs, "Variables" → "Default environment variables": ``GITHUB_API_URL`` "Returns the API URL. For example:
``https://api.github.com``"). Each request names the REST API version it was written against (``X-GitHub-Api-Version:
2022-11-28``; GitHub docs, "API Versions").
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping
from dataclasses import dataclass

from secret_chain import catalog, parts
from secret_chain.catalog import Key
from secret_chain.doctor import common, http, links
from secret_chain.doctor.http import MAX_PAGES, Client, HttpProblem, PagesCapped, RateLimited, Response, lifts_at
from secret_chain.doctor.model import Check, Context, Finding, Status
from secret_chain.ops import runbook

API_VERSION = "2022-11-28"
ACCEPT = "application/vnd.github+json"

DOC_RATE_LIMITS = "https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api"
DOC_SCOPES = "https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps"
DOC_USER = links.GITHUB_USER
DOC_JWT = "https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app"
DOC_APP = links.GITHUB_APP
DOC_INSTALLATION = links.GITHUB_INSTALLATION
DOC_REPO_INSTALLATION = "https://docs.github.com/en/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app"
DOC_ENV_SECRETS = links.GITHUB_ENV_SECRETS
DOC_ENV_VARIABLES = "https://docs.github.com/en/rest/actions/variables#list-environment-variables"


def client(context: Context) -> Client:
    """The run's client for the GitHub API at ``context.github_api_url`` (one per base and timeout, shared by the checks)."""
    return http.client(context.github_api_url, context.timeout, {"Accept": ACCEPT, "X-GitHub-Api-Version": API_VERSION})


# --- personal access tokens --------------------------------------------------------------------------------------------


def parse_expiration(text: str | None) -> datetime.datetime | None:
    """``GitHub-Authentication-Token-Expiration`` as an aware UTC datetime (None when absent or unreadable).

    GitHub writes it as ``2021-10-07 19:07:53 UTC`` (GitHub changelog 2021-07-26, "Expiration options for personal access
    tokens"; go-github ``parseTokenExpiration`` reads ``2006-01-02 15:04:05 MST``, then ``2006-01-02 15:04:05 -0700``).
    """
    if not text:
        return None
    text = text.strip()
    for layout in ("%Y-%m-%d %H:%M:%S UTC", "%Y-%m-%d %H:%M:%S %z"):
        try:
            parsed = datetime.datetime.strptime(text, layout)
        except ValueError:
            continue
        return parsed.replace(tzinfo=datetime.UTC) if parsed.tzinfo is None else parsed.astimezone(datetime.UTC)
    return None


@dataclass(frozen=True)
class TokenLink:
    """One token of the chain that GitHub checks: where it is configured, which scopes it needs, and what breaks without it."""

    link: str
    key: Key
    part: str
    scopes: tuple[frozenset[str], ...]
    """Each item: one scope of which any satisfies (``read:packages`` or ``write:packages``)."""
    classic_only: bool
    symptom: str
    create: str
    """Where a person makes a new one."""


GHCR = TokenLink(
    "github.ghcr-token",
    catalog.GHCR_TOKEN,
    "GhcrPullSecret",
    # GitHub docs, "Scopes for OAuth apps": read:packages "Grants access to download or install packages from GitHub
    # Packages"; write:packages grants uploading, and GitHub's token page selects read:packages with it.
    (frozenset({"read:packages", "write:packages"}),),
    True,
    links.symptom("github.ghcr-token"),
    "https://github.com/settings/tokens/new?scopes=read:packages (a classic token: GHCR refuses fine-grained ones)",
)
FLUX_TOKEN = TokenLink(
    "github.flux-token",
    catalog.FLUX_GITHUB_TOKEN,
    "FluxGitCredentials",
    # Flux reads the cluster repository and pushes image updates over HTTPS: for a classic token that is the repo scope
    # ("Scopes for OAuth apps": repo "Grants full access to public and private repositories").
    (frozenset({"repo"}),),
    False,
    links.symptom("github.flux-token"),
    "https://github.com/settings/personal-access-tokens/new (contents: read and write on the cluster repository)",
)


def _token_users(context: Context, token: str) -> Response:
    return client(context).get("/user", auth=f"Bearer {token}")


def check_token(context: Context, spec: TokenLink) -> list[Finding]:
    """One token: accepted (``GET /user``), of the right kind with the scopes needed, and not about to expire."""
    token = common.shaped(context, spec.key)
    if token is None or spec.part not in common.built(context):
        return []
    fix = f"make one at {spec.create}; set it with: {common.fix_for(context, spec.key, common.up(context))}"
    what = f"{spec.key} against {context.github_api_url} (GET /user)"

    def failed(
        checked: str, fix: str, source: str, expires: datetime.datetime | None = None, facts: Mapping[str, str] | None = None
    ) -> list[Finding]:
        """The one FAIL of this token: what was seen, the fix and the page it rests on."""
        return [
            Finding(
                status=Status.FAIL,
                checked=checked,
                symptom=spec.symptom,
                fix=fix,
                source=source,
                link=spec.link,
                key=spec.key.key,
                expires=expires,
                facts=dict(facts or {}),
            )
        ]

    try:
        answer = _token_users(context, token)
    except HttpProblem as err:
        return [_unreachable(spec.link, what, err, spec.key, DOC_USER)]
    if answer.status == 401:
        refused = f"{what}: GitHub refuses the token (401 Bad credentials): it has expired, was revoked, or was never valid"
        return failed(refused, f"create a new token: {fix}", DOC_USER)
    if answer.status != 200:
        other = f"{what}: GitHub answers HTTP {answer.status} (SSO not authorised for the token, or the account is locked)"
        return failed(other, f"authorise the token for the organisation's SSO, or create a new one: {fix}", DOC_USER)
    scopes_header = answer.header("X-OAuth-Scopes")
    expires = parse_expiration(answer.header("GitHub-Authentication-Token-Expiration"))
    facts = {"login": str((answer.body or {}).get("login", "")) if isinstance(answer.body, dict) else ""}
    if expires is not None:
        facts["expires"] = expires.isoformat()
    if scopes_header is None:
        # GitHub docs, "Scopes for OAuth apps": X-OAuth-Scopes lists a classic token's scopes; a fine-grained token or an
        # App token has no scopes (it has permissions), and the header is absent.
        if spec.classic_only:
            not_classic = f"{what}: GitHub accepts it, but it is not a classic personal access token (no X-OAuth-Scopes)"
            return failed(not_classic, f"create a classic token with read:packages: {fix}", DOC_SCOPES, expires=expires, facts=facts)
        facts["kind"] = "fine-grained (its repository permissions are not visible to the API)"
    else:
        scopes = {s.strip() for s in scopes_header.split(",") if s.strip()}
        facts["scopes"] = ", ".join(sorted(scopes))
        lacking = [" or ".join(sorted(any_of)) for any_of in spec.scopes if not scopes & any_of]
        if lacking:
            without = f"{what}: a classic token without the scope {', '.join(lacking)} (X-OAuth-Scopes: {facts['scopes'] or 'none'})"
            return failed(without, f"create a classic token with {', '.join(lacking)}: {fix}", DOC_SCOPES, expires=expires, facts=facts)
    status = common.expiry_status(context, expires)
    if expires is None:
        checked = f"{what}: GitHub accepts it; it has no expiration date"
    elif status is Status.OK:
        checked = f"{what}: GitHub accepts it; it expires {expires:%Y-%m-%d} ({common.days_left(context, expires):.0f} days left)"
    else:
        checked = (
            f"{what}: GitHub accepts it, but it expires {expires:%Y-%m-%d %H:%M} UTC "
            f"({max(common.days_left(context, expires), 0):.1f} days left, --warn-days {context.warn_days})"
        )
    return [
        Finding(
            status=status,
            checked=checked,
            symptom="" if status is Status.OK else f"once it expires: {spec.symptom}",
            fix="" if status is Status.OK else f"create a new token before it expires: {fix}",
            expires=expires,
            facts=facts,
            link=spec.link,
            key=spec.key.key,
            source=DOC_USER,
        )
    ]


def check_ghcr_token(context: Context) -> list[Finding]:
    """The GHCR pull token: a classic PAT GitHub accepts, with ``read:packages``, not about to expire."""
    return check_token(context, GHCR)


def check_flux_token(context: Context) -> list[Finding]:
    """``flux:githubToken``, where Flux uses a token instead of a GitHub App: the same checks, with ``repo`` for a classic token."""
    return check_token(context, FLUX_TOKEN)


# --- GitHub Apps ---------------------------------------------------------------------------------------------------------

PERMISSION_LEVELS = {"read": 1, "write": 2, "admin": 3}

CI_APP_PERMISSIONS: Mapping[str, str] = {"contents": "write", "pull_requests": "write", "issues": "write"}
"""What the CI App's tokens ask for in the workflows (actions/create-github-app-token ``permission-*`` inputs in
.github/workflows: scheduled-checks.yml contents and pull-requests write, preview-deploy.yml pull-requests write,
flux-image-updates-pr.yml contents read and pull-requests write, doctor.yml issues write); tests/test_doctor_github.py
keeps the two equal. An
installation token cannot get a permission its installation lacks (GitHub docs, "Create an installation access token for
an app": "permissions … the installation must have")."""

FLUX_APP_PERMISSIONS: Mapping[str, str] = {"contents": "read", "metadata": "read"}
"""Flux docs, "GitRepository" → "GitHub App": "the GitHub App must have read access to the repository's contents" (and
metadata, which every App has); image automation pushes, so it needs contents write (:func:`flux_app_permissions`)."""


def flux_app_permissions(context: Context) -> dict[str, str]:
    """The Flux App's needed permissions: contents write when the stack runs Flux image automation (it pushes commits)."""
    needed = dict(FLUX_APP_PERMISSIONS)
    if "FluxImageAutomation" in common.built(context):
        needed["contents"] = "write"
    return needed


@dataclass(frozen=True)
class AppLink:
    """One GitHub App of the chain."""

    name: str
    part: str
    app_id: Key
    private_key: Key
    installation_id: Key | None
    """Configured installation (Flux); None: the repository's installation (CI)."""


CI_APP = AppLink(
    "ci",
    "GitHubActionsSecrets",
    catalog.CI_GITHUB_APP_ID,
    catalog.CI_GITHUB_APP_PRIVATE_KEY,
    None,
)
"""A finding about it gives the runbook's symptom of the key at fault (:mod:`secret_chain.ops.runbook`), as the table does."""
FLUX_APP = AppLink(
    "flux",
    "FluxGitCredentials",
    catalog.FLUX_GITHUB_APP_ID,
    catalog.FLUX_GITHUB_APP_PRIVATE_KEY,
    catalog.FLUX_GITHUB_APP_INSTALLATION_ID,
)


def app_jwt(app_id: str, private_key: str, now: float | None = None) -> str:
    """The RS256 JWT a GitHub App authenticates as itself with (PyJWT).

    GitHub docs, "Generating a JSON Web Token (JWT) for a GitHub App": signed with RS256; ``iat`` "60 seconds in the past"
    against clock drift; ``exp`` "no more than 10 minutes into the future" (here 9 minutes, a minute of margin);
    ``iss`` the App's ID. The real clock: GitHub compares with its own.
    """
    import jwt

    issued = int(time.time() if now is None else now)
    return jwt.encode({"iat": issued - 60, "exp": issued + 9 * 60, "iss": app_id}, private_key, algorithm="RS256")


def _app_keys(context: Context, app: AppLink) -> tuple[str, str] | None:
    if app.part not in common.built(context):
        return None
    app_id, key = common.value(context, app.app_id), common.value(context, app.private_key)
    if app_id is None or key is None:
        return None
    # The key as the program reads it (a one-line PEM's \n made newlines); a refused one stays as it is and fails to sign.
    return app_id.strip(), common.shaped(context, app.private_key) or key


def check_app(context: Context, app: AppLink) -> list[Finding]:
    """The App's key signs a JWT that GitHub accepts (``GET /app``); then its installation (:func:`check_installation`)."""
    keys = _app_keys(context, app)
    if keys is None:
        return []
    app_id, private_key = keys
    link = f"github.app/{app.name}"
    what = f"{app.private_key} signs a JWT for App {app_id} (GET /app)"
    try:
        token = app_jwt(app_id, private_key)
    except Exception:  # a key PyJWT/cryptography cannot load: its message could quote the key, so only the fact
        return [
            Finding(
                link=link,
                status=Status.FAIL,
                checked=f"{what}: the key cannot sign (not an RSA private key in PEM form)",
                symptom=runbook.of(app.private_key).symptom,
                key=app.private_key.key,
                fix=f"set the App's private key (PEM) again: {common.fix_for(context, app.private_key, common.up(context))}",
                source=DOC_JWT,
            )
        ]
    try:
        answer = client(context).get("/app", auth=f"Bearer {token}")
    except HttpProblem as err:
        return [_unreachable(link, what, err, app.private_key, DOC_APP)]
    if answer.status != 200:
        return [
            Finding(
                link=link,
                status=Status.FAIL,
                checked=(
                    f"{what}: GitHub refuses the JWT (HTTP {answer.status}): the key is not one of App {app_id}'s keys "
                    "(deleted or replaced on the App's settings page), or the App ID is wrong"
                ),
                symptom=runbook.of(app.private_key).symptom,
                key=app.private_key.key,
                fix=(
                    "generate a private key on the App's settings page (Private keys → Generate); set it with: "
                    f"{common.fix_for(context, app.private_key, common.up(context))}"
                ),
                source=DOC_JWT,
            )
        ]
    # GET /app answers the App the JWT authenticates as: an "integration" object whose `id` is the App's ID
    # (https://docs.github.com/en/rest/apps/apps#get-the-authenticated-app). Any other 200 (no JSON, no id, another
    # App's id: a proxy, a wrong base URL, or the wrong App ID configured beside this key) is no proof the key works.
    body = answer.body if isinstance(answer.body, dict) else None
    got = body.get("id") if body is not None else None
    if body is None or isinstance(got, bool) or str(got) != app_id.strip():
        answered = "no JSON object" if body is None else "no App id" if got is None else f"App id {str(got)[:40]}"
        return [
            Finding(
                link=link,
                status=Status.FAIL,
                checked=(
                    f"{what}: GET /app answered HTTP 200 with {answered}, not App {app_id}: the App ID {app.app_id.key} "
                    "does not match this private key's App (or the API URL is not GitHub's)"
                ),
                symptom=runbook.of(app.private_key).symptom,
                key=app.app_id.key,
                fix=(
                    "set the App ID shown on the App's settings page (General → App ID) for the App this key belongs to: "
                    f"{common.fix_for(context, app.app_id, common.up(context))}"
                ),
                source=DOC_APP,
            )
        ]
    slug = str(body.get("slug") or "")
    findings = [
        Finding(
            link=link,
            status=Status.OK,
            checked=f"{what}: GitHub accepts it (App {slug or app_id})",
            key=app.private_key.key,
            source=DOC_APP,
            facts={"appId": app_id, "slug": slug},
        )
    ]
    findings.extend(check_installation(context, app, token))
    return findings


def _permission_gaps(have: Mapping[str, object], need: Mapping[str, str]) -> list[str]:
    gaps = []
    for name, level in sorted(need.items()):
        got = have.get(name)
        if not isinstance(got, str) or PERMISSION_LEVELS.get(got, 0) < PERMISSION_LEVELS[level]:
            gaps.append(f"{name}: {level} (has {got if isinstance(got, str) else 'none'})")
    return gaps


def check_installation(context: Context, app: AppLink, token: str) -> list[Finding]:
    """The App's installation exists, is not suspended, and has the permissions the chain needs."""
    link = f"github.installation/{app.name}"
    if app.installation_id is not None:
        installation = common.value(context, app.installation_id) or ""
        path, source, key = f"/app/installations/{installation.strip()}", DOC_INSTALLATION, app.installation_id.key
        needed = flux_app_permissions(context)
        where = f"installation {installation.strip()}"
        missing_fix = (
            "install the App on the organisation that owns the cluster repository; set its installation ID with: "
            f"{common.fix_for(context, app.installation_id, common.up(context))}"
        )
    else:
        repository = common.value(context, catalog.GITHUB_REPOSITORY) or ""
        path, source, key = f"/repos/{repository}/installation", DOC_REPO_INSTALLATION, app.app_id.key
        needed = dict(CI_APP_PERMISSIONS)
        where = f"the installation on {repository}"
        missing_fix = f"install the App on {repository} (the App's page → Install App), with access to that repository"
    what = f"{where} of App {common.value(context, app.app_id)} (GET {path})"
    try:
        answer = client(context).get(path, auth=f"Bearer {token}")
    except HttpProblem as err:
        return [_unreachable(link, what, err, key, source)]
    if answer.status == 404:
        return [
            Finding(
                link=link,
                status=Status.FAIL,
                checked=f"{what}: no such installation (404): the App was uninstalled, or never installed there",
                symptom=runbook.of(catalog.BY_KEY[key]).symptom,
                key=key,
                fix=missing_fix,
                source=source,
            )
        ]
    if answer.status != 200 or not isinstance(answer.body, dict):
        return [
            Finding(
                link=link,
                status=Status.FAIL,
                checked=f"{what}: GitHub answers HTTP {answer.status}",
                symptom=runbook.of(catalog.BY_KEY[key]).symptom,
                key=key,
                fix=missing_fix,
                source=source,
            )
        ]
    body = answer.body
    account = body.get("account") if isinstance(body.get("account"), dict) else {}
    facts = {
        "installationId": str(body.get("id", "")),
        "account": str((account or {}).get("login") or (account or {}).get("slug") or ""),
        "repositorySelection": str(body.get("repository_selection", "")),
    }
    if body.get("suspended_at"):
        facts["suspendedAt"] = str(body["suspended_at"])
        return [
            Finding(
                link=link,
                status=Status.FAIL,
                checked=f"{what}: the installation is suspended (since {body['suspended_at']})",
                symptom=runbook.of(catalog.BY_KEY[key]).symptom,
                key=key,
                fix="unsuspend it: the organisation's Settings → GitHub Apps → the App → Configure → Unsuspend",
                source=source,
                facts=facts,
            )
        ]
    permissions = body.get("permissions") if isinstance(body.get("permissions"), dict) else {}
    gaps = _permission_gaps(permissions or {}, needed)
    if gaps:
        return [
            Finding(
                link=link,
                status=Status.FAIL,
                checked=f"{what}: the installation lacks permissions the chain needs: {'; '.join(gaps)}",
                symptom=runbook.of(catalog.BY_KEY[key]).symptom,
                key=key,
                fix="grant them: the App's settings → Permissions, then accept the new permissions on the installation",
                source=source,
                facts=facts,
            )
        ]
    return [
        Finding(
            link=link,
            status=Status.OK,
            checked=f"{what}: installed, not suspended, with {', '.join(f'{k}: {v}' for k, v in sorted(needed.items()))}",
            key=key,
            source=source,
            facts=facts,
        )
    ]


def check_ci_app(context: Context) -> list[Finding]:
    """The CI App (``ci:githubAppId``, ``ci:githubAppPrivateKey``): its key and its installation on the repository."""
    return check_app(context, CI_APP)


def check_flux_app(context: Context) -> list[Finding]:
    """Flux's GitHub App (``flux:githubApp*``): its key and its configured installation."""
    return check_app(context, FLUX_APP)


# --- Actions secrets and variables ----------------------------------------------------------------------------------------


def _reader_token(context: Context) -> tuple[str, str] | None:
    """(token, where it came from) to list the environment's secrets with: ``github:token``, else ``GH_TOKEN``/``GITHUB_TOKEN``."""
    configured = common.value(context, catalog.GITHUB_PROVIDER_TOKEN)
    if configured:
        return configured, catalog.GITHUB_PROVIDER_TOKEN.key
    for name in ("GH_TOKEN", "GITHUB_TOKEN"):
        if context.environ.get(name):
            return context.environ[name], name
    return None


def _list_names(context: Context, path: str, field: str, token: str) -> tuple[int, dict[str, str]]:
    """(status, NAME → updated_at) of one listing, following ``Link: rel="next"`` pages; values are never kept."""
    names: dict[str, str] = {}
    page = 1
    while True:
        if page > MAX_PAGES:
            raise PagesCapped(f"the listing still said there was a next page after {MAX_PAGES} pages; stopped there")
        answer = client(context).get(path, auth=f"Bearer {token}", params={"per_page": "100", "page": str(page)})
        if answer.status != 200 or not isinstance(answer.body, dict):
            return answer.status, names
        for item in answer.body.get(field) or []:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                names[item["name"].upper()] = str(item.get("updated_at") or "")
        if 'rel="next"' not in (answer.header("Link") or ""):
            return 200, names
        page += 1


def check_actions(context: Context) -> list[Finding]:
    """Each Actions secret and variable the stack writes exists in its GitHub environment (names and ``updated_at`` only)."""
    from secret_chain.github_actions import ENTRIES

    kind = common.kind(context)
    if "GitHubActionsSecrets" not in common.built(context) or kind not in parts.GITHUB_ENVIRONMENTS:
        return []
    repository = common.value(context, catalog.GITHUB_REPOSITORY)
    if repository is None or "/" not in repository:
        return []
    environment = parts.GITHUB_ENVIRONMENTS[kind]
    expected = [e for e in ENTRIES if not e.deprecated and common.value(context, e.key) is not None]
    link_base = f"github.actions/{environment}"
    reader = _reader_token(context)
    if reader is None:
        return [
            common.not_checked(
                link_base,
                f"Actions secrets and variables of {repository} environment {environment}",
                f"no token to list them with: set {catalog.GITHUB_PROVIDER_TOKEN} in the stack's config, or GH_TOKEN",
                source=DOC_ENV_SECRETS,
                fix="export GH_TOKEN=$(gh auth token) and run doctor again",
            )
        ]
    token, source_of_token = reader
    listings: dict[bool, dict[str, str]] = {}
    for secret, suffix, field, doc in ((True, "secrets", "secrets", DOC_ENV_SECRETS), (False, "variables", "variables", DOC_ENV_VARIABLES)):
        path = f"/repos/{repository}/environments/{environment}/{suffix}"
        what = f"Actions {suffix} of {repository} environment {environment} (GET {path}, with {source_of_token})"
        try:
            status, names = _list_names(context, path, field, token)
        except HttpProblem as err:
            return [_unreachable(link_base, what, err, None, doc)]
        if status != 200:
            key = source_of_token if source_of_token == catalog.GITHUB_PROVIDER_TOKEN.key else None
            why = (
                "the environment does not exist, or the token cannot see it"
                if status == 404
                else "the token is refused or lacks the Environments/Secrets read permission"
            )
            return [
                Finding(
                    link=link_base,
                    status=Status.FAIL if key else Status.WARN,
                    checked=f"{what}: HTTP {status}: {why}",
                    symptom=links.symptom("github.actions/<environment>"),
                    key=key,
                    fix=f"{common.up(context)} (it creates the environment and writes them); or give {source_of_token} repository admin read access",
                    source=doc,
                )
            ]
        listings[secret] = names
    findings = []
    for entry in expected:
        kind_word = "secret" if entry.secret else "variable"
        updated = listings[entry.secret].get(entry.github_name)
        what = f"Actions {kind_word} {entry.github_name} of {repository} environment {environment} (from {entry.key})"
        doc = DOC_ENV_SECRETS if entry.secret else DOC_ENV_VARIABLES
        if updated is None:
            findings.append(
                Finding(
                    link=f"{link_base}/{entry.github_name}",
                    status=Status.FAIL,
                    checked=f"{what}: missing",
                    symptom=f"{entry.github_name}: {links.symptom('github.actions/<environment>/<NAME>')}",
                    key=entry.key.key,
                    fix=f"{common.up(context)} (the stack writes it from {entry.key})",
                    source=doc,
                )
            )
        else:
            findings.append(
                Finding(
                    link=f"{link_base}/{entry.github_name}",
                    status=Status.OK,
                    checked=f"{what}: present, updated {updated or 'at an unknown time'}",
                    key=entry.key.key,
                    source=doc,
                    facts={"updatedAt": updated},
                )
            )
    return findings


# --- shared ----------------------------------------------------------------------------------------------------------------


def _unreachable(link: str, what: str, err: HttpProblem, key: Key | str | None, source: str) -> Finding:
    """A WARN for a GitHub API that did not answer usefully (timeout, 5xx after retries, rate limit beyond the wait)."""
    if isinstance(err, RateLimited):
        at = lifts_at(err.until)
        reason = f"{err.reason}; the limit lifts at {at}"
        return common.not_checked(link, what, reason, key=key, source=DOC_RATE_LIMITS, fix=f"run doctor again after {at}")
    return common.not_checked(link, what, f"GitHub's API did not answer: {err.reason}", key=key, source=source)


GITHUB_CHECKS: tuple[Check, ...] = (check_ghcr_token, check_flux_token, check_ci_app, check_flux_app, check_actions)
"""The GitHub checks, in the order the report lists them."""
