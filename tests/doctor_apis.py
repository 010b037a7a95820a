"""Stand-in GitHub and DigitalOcean REST APIs on 127.0.0.1 for ``secret-chain doctor`` (issue 22), each answering as the API does.

Each is a threaded ``http.server`` on a free port of 127.0.0.1, holding a small world (tokens, Apps, installations, Actions
secrets and variables; DNS zones) and answering the endpoints the doctor calls:

GitHub (GitHub's OpenAPI description, github/rest-api-description, API version 2022-11-28):

* ``GET /user`` ("Get the authenticated user"): ``PrivateUser``; a classic personal access token's scopes in
  ``X-OAuth-Scopes`` (absent for a fine-grained token: GitHub docs, "Scopes for OAuth apps"), its expiry in
  ``GitHub-Authentication-Token-Expiration`` as ``YYYY-MM-DD HH:MM:SS UTC`` (GitHub changelog 2021-07-26); an expired or
  revoked token is ``401 {"message": "Bad credentials"}`` (``BasicError``).
* ``GET /app`` ("Get the authenticated app"): ``Integration``, for a JWT signed RS256 with one of the App's keys whose
  ``exp`` is at most 10 minutes ahead and ``iat`` not in the future (GitHub docs, "Generating a JSON Web Token (JWT) for a
  GitHub App"); otherwise 401.
* ``GET /app/installations/{installation_id}`` and ``GET /repos/{owner}/{repo}/installation``: ``Installation``
  (``suspended_at``, ``permissions``), 404 ``BasicError`` for an installation that is not the App's.
* ``GET /repos/{owner}/{repo}/environments/{environment_name}/secrets`` and ``…/variables``: the listings
  ``{"total_count", "secrets"|"variables"}``, 404 for an unknown environment.
* On every answer the rate-limit headers ``x-ratelimit-limit``, ``-remaining``, ``-used``, ``-reset``, ``-resource``
  (GitHub docs, "Rate limits for the REST API" → "Checking the status of your rate limit").

Every JSON body is validated, before it is sent, with githubkit's pydantic models, which githubkit generates from that
OpenAPI description (PyPI ``githubkit-schemas-2022-11-28``: ``githubkit_schemas.v2022_11_28.models``; the route → model
pairs are githubkit's own, ``githubkit_schemas/v2022_11_28/rest/apps.py`` ``get_authenticated`` → ``Integration``,
``get_installation``/``get_repo_installation`` → ``Installation``, ``users.py`` ``get_authenticated`` →
``PrivateUser | PublicUser``, ``actions.py`` ``list_environment_secrets``/``list_environment_variables``). A body the
model refuses is recorded in :attr:`StandIn.violations`, which every test asserts empty.

DigitalOcean (DigitalOcean API reference, "Domains" → "Retrieve an Existing Domain"): ``GET /v2/domains/{domain_name}``
→ ``{"domain": {"name", "ttl", "zone_file"}}``; 401 ``{"id": "unauthorized", "message": "Unable to authenticate you."}``;
404 ``{"id": "not_found", "message": "The resource you were accessing could not be found."}``; ``ratelimit-*`` headers.
Every body it sends is validated against :data:`DO_DOMAIN_SCHEMA` (200) or :data:`DO_ERROR_SCHEMA` (any other status),
written from that reference (https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domains); a body they refuse is
recorded in :attr:`StandIn.violations` as GitHub's are.

Failure modes any test can switch on per path: :meth:`StandIn.hang` (no answer until the test ends), :meth:`StandIn.fail`
(N answers of 502 first), :meth:`StandIn.limit` (rate-limit answers first: 429 with ``retry-after``, or 403 with
``x-ratelimit-remaining: 0``).
"""

from __future__ import annotations

import datetime
import http.server
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import jwt
from cryptography.hazmat.primitives import serialization

Answer = tuple[int, dict[str, str], Any]


def _iso(when: datetime.datetime) -> str:
    return when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)


class StandIn:
    """A threaded HTTP server on 127.0.0.1 that answers with :meth:`route` (override it)."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self.requests: list[tuple[str, str]] = []
        """(path, the Authorization scheme only) of every request, in order."""
        self._hangs: set[str] = set()
        self._fails: dict[str, int] = {}
        self._limits: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self._released = threading.Event()
        self._lock = threading.Lock()
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                stand_in._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """The base URL (``http://127.0.0.1:<port>``)."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        """Stop serving; release hanging requests."""
        self._released.set()
        self.server.shutdown()
        self.server.server_close()

    # --- failure modes ------------------------------------------------------------------------------------------------

    def hang(self, path: str) -> None:
        """Requests to ``path`` get no answer until the stand-in closes."""
        self._hangs.add(path)

    def fail(self, path: str, times: int, status: int = 502) -> None:
        """The next ``times`` requests to ``path`` get ``status`` (a 5xx) before the normal answer."""
        self._fails[path] = times
        self._fail_status = status

    def limit(self, path: str, status: int, headers: Mapping[str, str], times: int = 1) -> None:
        """The next ``times`` requests to ``path`` are refused as rate-limited with ``status`` and ``headers``."""
        self._limits[path] = [(status, dict(headers))] * times

    # --- serving --------------------------------------------------------------------------------------------------------

    def _serve(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(handler.path)
        path = parsed.path
        auth = handler.headers.get("Authorization") or ""
        with self._lock:
            self.requests.append((path, auth.split(" ", 1)[0]))
            hanging = path in self._hangs
            failing = self._fails.get(path, 0)
            if failing:
                self._fails[path] = failing - 1
            limits = self._limits.get(path) or []
            limited = limits.pop(0) if limits else None
        if hanging:
            self._released.wait(60)
            return
        if failing:
            status = getattr(self, "_fail_status", 502)
            self._send(handler, status, {}, self.failed_body(status))
            return
        if limited is not None:
            status, headers = limited
            self._send(handler, status, headers, self.limited_body(status))
            return
        query = dict(urllib.parse.parse_qsl(parsed.query))
        status, headers, body = self.route(path, query, auth)
        self._send(handler, status, headers, body)

    def limited_body(self, status: int) -> Any:
        """The body of a rate-limited answer."""
        return {"message": "API rate limit exceeded"}

    def failed_body(self, status: int) -> Any:
        """The body of a server error (:meth:`fail`)."""
        return {"message": "Server Error"}

    def route(self, path: str, query: Mapping[str, str], auth: str) -> Answer:
        """(status, headers, JSON body) for one GET."""
        raise NotImplementedError

    def _send(self, handler: http.server.BaseHTTPRequestHandler, status: int, headers: Mapping[str, str], body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Length", str(len(data)))
            for name, value in {**self.common_headers(), **headers}.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def common_headers(self) -> dict[str, str]:
        """Headers on every answer."""
        return {}


# --- GitHub -------------------------------------------------------------------------------------------------------------


@dataclass
class Pat:
    """A personal access token: its account, its scopes (None: a fine-grained token) and expiry, whether revoked."""

    login: str
    scopes: tuple[str, ...] | None
    expires: datetime.datetime | None
    revoked: bool = False


@dataclass
class App:
    """A GitHub App and the public key of its (one) private key."""

    app_id: int
    slug: str
    owner: str
    public_key: Any


@dataclass
class Installation:
    """An installation of an App on an account."""

    installation_id: int
    app_id: int
    account: str
    permissions: dict[str, str]
    suspended_at: datetime.datetime | None = None
    repositories: tuple[str, ...] = ()


@dataclass
class Environment:
    """One deployment environment's Actions secrets (name → updated_at) and variables (name → (value, updated_at))."""

    secrets: dict[str, datetime.datetime] = field(default_factory=dict)
    variables: dict[str, tuple[str, datetime.datetime]] = field(default_factory=dict)


def _models() -> Any:
    import githubkit_schemas.v2022_11_28.models as models

    return models


def _user(login: str, user_id: int = 583231) -> dict[str, Any]:
    """A ``simple-user`` of the description (every required field)."""
    api = "https://api.github.com/users/" + login
    return {
        "login": login,
        "id": user_id,
        "node_id": "MDQ6VXNlcjE=",
        "avatar_url": f"https://github.com/images/error/{login}_happy.gif",
        "gravatar_id": "",
        "url": api,
        "html_url": f"https://github.com/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": "User",
        "site_admin": False,
    }


class GitHubApi(StandIn):
    """GitHub's REST API, as much of it as the doctor reads (module docstring)."""

    def __init__(self) -> None:
        self.pats: dict[str, Pat] = {}
        self.apps: dict[int, App] = {}
        self.installations: dict[int, Installation] = {}
        self.environments: dict[tuple[str, str], Environment] = {}
        self.rate_remaining = 4999
        super().__init__()

    # --- the world --------------------------------------------------------------------------------------------------------

    def add_pat(self, token: str, login: str = "octocat", *, scopes: tuple[str, ...] | None = ("read:packages",), days: float | None = 90) -> Pat:
        """A token expiring in ``days`` (None: never)."""
        expires = None if days is None else (NOW + datetime.timedelta(days=days)).replace(microsecond=0)
        pat = self.pats[token] = Pat(login, scopes, expires)
        return pat

    def add_app(self, app_id: str | int, private_key_pem: str, slug: str = "secret-chain") -> App:
        """An App whose key is ``private_key_pem`` (its public half is what GitHub keeps)."""
        pem = private_key_pem.strip().replace("\\n", "\n")  # the one-line form ESC may hold
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        app = self.apps[int(app_id)] = App(int(app_id), slug, "acme", key.public_key())
        return app

    def add_installation(
        self, installation_id: str | int, app_id: str | int, account: str, permissions: dict[str, str], *, repositories: tuple[str, ...] = ()
    ) -> Installation:
        """An installation of App ``app_id`` on ``account``."""
        inst = Installation(int(installation_id), int(app_id), account, permissions, repositories=repositories)
        self.installations[int(installation_id)] = inst
        return inst

    # --- answers ---------------------------------------------------------------------------------------------------------

    def common_headers(self) -> dict[str, str]:
        """The rate-limit headers GitHub sends on every answer."""
        reset = int(time.time()) + 3600
        return {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": str(self.rate_remaining),
            "x-ratelimit-used": str(5000 - self.rate_remaining),
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-resource": "core",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
        }

    def limited_body(self, status: int) -> Any:
        """GitHub's rate-limit error body (``BasicError``)."""
        return self._error(403, "API rate limit exceeded for user ID 1.")[2]

    def _validate(self, model: str, body: Any) -> None:
        try:
            getattr(_models(), model).model_validate(body)
        except Exception as err:  # pydantic.ValidationError: the stand-in answered what the description does not allow
            self.violations.append(f"{model}: {err}")

    def _error(self, status: int, message: str) -> Answer:
        body = {"message": message, "documentation_url": "https://docs.github.com/rest", "status": str(status)}
        self._validate("BasicError", body)
        return status, {}, body

    def _ok(self, model: str, body: Any, headers: dict[str, str] | None = None) -> Answer:
        self._validate(model, body)
        return 200, headers or {}, body

    def route(self, path: str, query: Mapping[str, str], auth: str) -> Answer:
        """Dispatch one GET."""
        scheme, _, credential = auth.partition(" ")
        if scheme.lower() not in ("bearer", "token") or not credential:
            return self._error(401, "Requires authentication")
        parts = path.strip("/").split("/")
        if path == "/user":
            return self._user(credential)
        if path == "/app":
            app = self._app(credential)
            return self._error(401, "A JSON web token could not be decoded") if app is None else self._ok("Integration", self._integration(app))
        if parts[:2] == ["app", "installations"] and len(parts) == 3:
            app = self._app(credential)
            if app is None:
                return self._error(401, "A JSON web token could not be decoded")
            inst = self.installations.get(int(parts[2])) if parts[2].isdigit() else None
            if inst is None or inst.app_id != app.app_id:
                return self._error(404, "Not Found")
            return self._ok("Installation", self._installation(inst, app))
        if parts[0] == "repos" and len(parts) == 4 and parts[3] == "installation":
            app = self._app(credential)
            if app is None:
                return self._error(401, "A JSON web token could not be decoded")
            repo = f"{parts[1]}/{parts[2]}"
            inst = next((i for i in self.installations.values() if i.app_id == app.app_id and repo in i.repositories), None)
            return self._error(404, "Not Found") if inst is None else self._ok("Installation", self._installation(inst, app))
        if parts[0] == "repos" and len(parts) == 6 and parts[3] == "environments" and parts[5] in ("secrets", "variables"):
            if self._pat(credential) is None:
                return self._error(401, "Bad credentials")
            env = self.environments.get((f"{parts[1]}/{parts[2]}", urllib.parse.unquote(parts[4])))
            if env is None:
                return self._error(404, "Not Found")
            return self._listing(env, parts[5], query)
        return self._error(404, "Not Found")

    def _pat(self, token: str) -> Pat | None:
        pat = self.pats.get(token)
        if pat is None or pat.revoked or (pat.expires is not None and pat.expires <= datetime.datetime.now(datetime.UTC)):
            return None
        return pat

    def _user(self, token: str) -> Answer:
        pat = self._pat(token)
        if pat is None:
            return self._error(401, "Bad credentials")
        body = {
            **_user(pat.login),
            "name": "monalisa octocat",
            "company": "GitHub",
            "blog": "https://github.com/blog",
            "location": "San Francisco",
            "email": None,
            "hireable": False,
            "bio": "There once was...",
            "public_repos": 2,
            "public_gists": 1,
            "followers": 20,
            "following": 0,
            "created_at": "2008-01-14T04:33:35Z",
            "updated_at": "2008-01-14T04:33:35Z",
            "private_gists": 81,
            "total_private_repos": 100,
            "owned_private_repos": 100,
            "disk_usage": 10000,
            "collaborators": 8,
            "two_factor_authentication": True,
        }
        headers = {}
        if pat.scopes is not None:
            headers["X-OAuth-Scopes"] = ", ".join(pat.scopes)
            headers["X-Accepted-OAuth-Scopes"] = ""
        if pat.expires is not None:
            headers["GitHub-Authentication-Token-Expiration"] = pat.expires.strftime("%Y-%m-%d %H:%M:%S UTC")
        return self._ok("PrivateUser", body, headers)

    def _app(self, token: str) -> App | None:
        """The App a JWT authenticates, checked as GitHub does (module docstring), or None."""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
            app = self.apps.get(int(claims["iss"]))
            if app is None:
                return None
            checked = jwt.decode(token, app.public_key, algorithms=["RS256"], options={"require": ["iat", "exp", "iss"]})
        except (jwt.PyJWTError, KeyError, ValueError, TypeError):
            return None
        now = time.time()
        if checked["exp"] - now > 600 or checked["iat"] > now + 1:
            return None
        return app

    def _integration(self, app: App) -> dict[str, Any]:
        return {
            "id": app.app_id,
            "slug": app.slug,
            "client_id": "Iv1.8a61f9b3a7aba766",
            "node_id": "MDExOkludGVncmF0aW9uMQ==",
            "owner": _user(app.owner),
            "name": app.slug,
            "description": "The secret chain's App",
            "external_url": "https://example.com",
            "html_url": f"https://github.com/apps/{app.slug}",
            "created_at": "2017-07-08T16:18:44-04:00",
            "updated_at": "2017-07-08T16:18:44-04:00",
            "permissions": {"metadata": "read", "contents": "read"},
            "events": ["push", "pull_request"],
        }

    def _installation(self, inst: Installation, app: App) -> dict[str, Any]:
        base = "https://api.github.com"
        return {
            "id": inst.installation_id,
            "account": _user(inst.account),
            "repository_selection": "selected" if inst.repositories else "all",
            "access_tokens_url": f"{base}/app/installations/{inst.installation_id}/access_tokens",
            "repositories_url": f"{base}/installation/repositories",
            "html_url": f"https://github.com/organizations/{inst.account}/settings/installations/{inst.installation_id}",
            "app_id": app.app_id,
            "target_id": 1,
            "target_type": "Organization",
            "permissions": dict(inst.permissions),
            "events": ["push", "pull_request"],
            "created_at": "2018-02-09T20:51:14Z",
            "updated_at": "2018-02-09T20:51:14Z",
            "single_file_name": None,
            "app_slug": app.slug,
            "suspended_by": _user("admin") if inst.suspended_at else None,
            "suspended_at": _iso(inst.suspended_at) if inst.suspended_at else None,
        }

    def _listing(self, env: Environment, kind: str, query: Mapping[str, str]) -> Answer:
        per_page = int(query.get("per_page", "30"))
        page = int(query.get("page", "1"))
        if kind == "secrets":
            items = [{"name": n, "created_at": _iso(u), "updated_at": _iso(u)} for n, u in sorted(env.secrets.items())]
        else:
            items = [{"name": n, "value": v, "created_at": _iso(u), "updated_at": _iso(u)} for n, (v, u) in sorted(env.variables.items())]
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            headers["Link"] = f'<{self.url}?per_page={per_page}&page={page + 1}>; rel="next"'
        model = f"ReposOwnerRepoEnvironmentsEnvironmentName{kind.capitalize()}GetResponse200"
        return self._ok(model, {"total_count": len(items), kind: chunk}, headers)


# --- DigitalOcean ---------------------------------------------------------------------------------------------------------


DO_DOMAIN_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$comment": (
        "GET /v2/domains/{domain_name} → 200: DigitalOcean API reference, Domains → Retrieve an Existing Domain "
        "(https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domains): an object with `domain`, whose `name` is "
        "the domain itself, `ttl` the records' time to live in seconds, `zone_file` the complete zone file (both read-only, "
        "null for a domain without records yet)"
    ),
    "type": "object",
    "required": ["domain"],
    "additionalProperties": False,
    "properties": {
        "domain": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "ttl": {"type": ["integer", "null"], "minimum": 0},
                "zone_file": {"type": ["string", "null"]},
            },
        }
    },
}
"""The body of ``GET /v2/domains/{domain_name}``'s 200, as DigitalOcean's reference describes it."""

DO_ERROR_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$comment": (
        "every error answer (401, 403, 404, 429, 5xx) of the DigitalOcean API reference "
        "(https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domains, the `error` response): `id`, a short "
        "name of the error (unauthorized, forbidden, not_found, too_many_requests, server_error), `message`, and an "
        "optional `request_id`"
    ),
    "type": "object",
    "required": ["id", "message"],
    "additionalProperties": False,
    "properties": {"id": {"type": "string", "minLength": 1}, "message": {"type": "string"}, "request_id": {"type": "string"}},
}
"""The body of every DigitalOcean error answer, as its reference describes it."""


def do_violations(status: int, body: Any) -> list[str]:
    """What is wrong with a DigitalOcean answer's body for ``status`` (empty: the reference allows it)."""
    schema, name = (DO_DOMAIN_SCHEMA, "domain") if status == 200 else (DO_ERROR_SCHEMA, "error")
    return [f"{name} ({status}): {e.message} at {list(e.absolute_path)}" for e in jsonschema.Draft202012Validator(schema).iter_errors(body)]


class DigitalOceanApi(StandIn):
    """DigitalOcean's ``GET /v2/domains/{name}`` (module docstring); every body validated (:func:`do_violations`)."""

    def __init__(self) -> None:
        self.tokens: dict[str, set[str]] = {}
        """Token → the zones its account holds."""
        self.scoped: set[str] = set()
        """Tokens without the domain scopes (403)."""
        super().__init__()

    def common_headers(self) -> dict[str, str]:
        """DigitalOcean API reference, "Rate Limit": every answer carries the limit's state."""
        return {"ratelimit-limit": "5000", "ratelimit-remaining": "4999", "ratelimit-reset": str(int(time.time()) + 60)}

    def limited_body(self, status: int) -> Any:
        """DigitalOcean's 429 body."""
        return {"id": "too_many_requests", "message": "API Rate limit exceeded."}

    def failed_body(self, status: int) -> Any:
        """DigitalOcean's 5xx body."""
        return {"id": "server_error", "message": "Unexpected server-side error"}

    def _send(self, handler: http.server.BaseHTTPRequestHandler, status: int, headers: Mapping[str, str], body: Any) -> None:
        self.violations.extend(do_violations(status, body))
        super()._send(handler, status, headers, body)

    def route(self, path: str, query: Mapping[str, str], auth: str) -> Answer:
        """Dispatch one GET."""
        token = auth.removeprefix("Bearer ")
        if token not in self.tokens:
            return 401, {}, {"id": "unauthorized", "message": "Unable to authenticate you."}
        if token in self.scoped:
            return 403, {}, {"id": "forbidden", "message": "You are not authorized to perform this operation"}
        parts = path.strip("/").split("/")
        if parts[:2] == ["v2", "domains"] and len(parts) == 3 and parts[2] in self.tokens[token]:
            return 200, {}, {"domain": {"name": parts[2], "ttl": 1800, "zone_file": f"$ORIGIN {parts[2]}.\n$TTL 1800\n"}}
        return 404, {}, {"id": "not_found", "message": "The resource you were accessing could not be found."}


def closing(*servers: StandIn) -> Callable[[], None]:
    """A finaliser that closes every server."""

    def close() -> None:
        for server in servers:
            server.close()

    return close
