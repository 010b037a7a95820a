"""FluxGitCredentials: the credentials Flux uses for the cluster repository, and the GitRepository that uses them.

Two auth modes, chosen by which config is present (configuring both is an error that says which to drop):

* **GitHub App (recommended)** — ``flux:githubAppId``, ``flux:githubAppInstallationId`` and
  ``flux:githubAppPrivateKey``. The Secret holds the keys source-controller and
  image-automation-controller read (``githubAppID``, ``githubAppInstallationID``,
  ``githubAppPrivateKey``, optionally ``githubAppBaseURL`` for GitHub Enterprise Server), and the
  GitRepository gets ``spec.provider: github``. The controllers mint a one-hour installation token
  from the key whenever they need one, so there is no long-lived personal access token whose expiry
  silently breaks reconciliation and image automation, nothing stored is a usable Git credential on
  its own for more than an hour, and commits and pushes come from the organisation's App identity
  instead of a person's account. The provider is derived from the mode and is never an argument:
  without ``provider: github`` Flux refuses the Secret ("secretRef has github app data but provider
  is not set to github"), and with it a token Secret would not work, so the wrong combination cannot
  be built.
* **Token** — ``flux:githubToken`` (the seed guide's ``<project>:github.token``, i.e.
  ``secret-chain:github.token``, is read when it is absent). The Secret holds HTTPS basic-auth keys
  ``username`` and ``password``. GitHub accepts any non-empty username with a personal access token
  over HTTPS; the component uses ``git``, as ``flux bootstrap`` does. The token must be renewed before
  it expires (quarterly, see the catalog).

Optionally, Flux image automation (``image.toolkit.fluxcd.io/v1``): per image an ``ImageRepository``
(reading private images with the GHCR pull secret in the same namespace) and an ``ImagePolicy`` with
that image's semver range, and one ``ImageUpdateAutomation`` that commits the updated tags (Setters
strategy) to the branch ``flux-image-updates`` for a pull request, with a message listing every change.

Every argument and config value is validated before anything is registered.
"""

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Required, Self, TypedDict
from urllib.parse import urlsplit

import pulumi

from components import catalog, ghcr, kube
from components import validators as v
from components._component import ChainComponent
from components.catalog import Key
from components.config import (
    ConfigReader,
    Known,
    apply_knowing_secrecy,
    fix_command,
    gated,
    problem_line,
    remove_command,
    string,
    validated,
)
from components.errors import SecretChainError
from components.validators import Invalid

TOKEN_KEY = catalog.FLUX_GITHUB_TOKEN
APP_ID_KEY = catalog.FLUX_GITHUB_APP_ID
APP_INSTALLATION_ID_KEY = catalog.FLUX_GITHUB_APP_INSTALLATION_ID
APP_PRIVATE_KEY_KEY = catalog.FLUX_GITHUB_APP_PRIVATE_KEY
APP_KEYS = (APP_ID_KEY, APP_INSTALLATION_ID_KEY, APP_PRIVATE_KEY_KEY)
"""The GitHub App keys, all three needed."""

TOKEN_USERNAME = "git"
"""HTTPS basic-auth username sent with the token (GitHub ignores it for PATs; any non-empty value works)."""

GITHUB_PROVIDER = "github"
"""``spec.provider`` of a GitRepository whose Secret holds GitHub App data."""

DEFAULT_PUSH_BRANCH = "flux-image-updates"

BOOTSTRAP_NAMESPACE = "flux-system"
BOOTSTRAP_NAME = "flux-system"
"""What ``flux bootstrap`` creates and then manages from Git: the GitRepository and the Kustomization
``flux-system/flux-system``, and the Secret ``flux-system/flux-system`` its GitRepository reads (fluxcd/flux2
``pkg/manifestgen/sync/sync.go`` ``Generate``: name and namespace from the options, ``secretRef`` = ``--secret-name``;
``cmd/flux/bootstrap.go``: ``--secret-name`` defaults to ``flux-system``, like the namespace and the sync name).
kustomize-controller keeps re-applying bootstrap's copy, so a second owner of these names fights it, and
``pulumi destroy`` would delete the cluster's own source. The component never emits them unless asked by name."""

DEFAULT_NAME = "secret-chain"
DEFAULT_SECRET_NAME = "github-token"
"""Default name of the credentials Secret in the Flux namespace."""
"""Default name of the GitRepository (and the ImageUpdateAutomation) this component creates: never bootstrap's."""

FluxInstall = Literal["bootstrap", "standalone"]
FLUX_INSTALLS: tuple[FluxInstall, ...] = ("bootstrap", "standalone")

BOT_EMAIL_DOMAIN = "users.noreply.github.com"

MESSAGE_TEMPLATE = """chore(images): automated image updates

{{ range $resource, $changes := .Changed.Objects -}}
- {{ $resource.Kind }} {{ $resource.Namespace }}/{{ $resource.Name }}:
{{- range $_, $change := $changes }}
  - {{ $change.OldValue }} -> {{ $change.NewValue }}
{{- end }}
{{ end -}}
"""
"""Commit message of image updates. ``image.toolkit.fluxcd.io/v1`` offers ``.Changed`` (``.Updated`` was removed)."""

AuthMode = Literal["token", "github-app"]


class ImageArgs(TypedDict, total=False):
    """One image Flux watches for new tags."""

    image: Required[str]
    """Image repository without tag or digest, e.g. ghcr.io/acme/api (required)."""
    semver_range: Required[str]
    """Tags Flux may move to, as a semver constraint (required), e.g. ^1.4.0 (minor and patch updates of major 1 only).
    Required because only you know the current major version: a fixed default would either allow breaking
    updates or match no tag at all."""
    name: str
    """Name of the ImageRepository and ImagePolicy (what ``{"$imagepolicy": "<namespace>:<name>"}`` markers reference).
    Default: the last path segment of ``image``."""
    public: bool
    """The image is public: scan it without the pull secret. Default: false."""


class ImageAutomationArgs(TypedDict, total=False):
    """Flux image automation for the cluster repository."""

    images: Required[list[ImageArgs]]
    """The images to keep updated (required, at least one)."""
    name: pulumi.Input[str]
    """Name of the ImageUpdateAutomation. Default: secret-chain."""
    push_branch: pulumi.Input[str]
    """Branch the updates are pushed to, for a pull request. Default: flux-image-updates."""
    update_path: str
    """Path in the repository whose manifests carry the image policy markers. Default: ./clusters."""
    interval: str
    """How often the automation runs. Default: 30m."""
    scan_interval: str
    """How often each image repository is scanned for tags. Default: 5m."""
    pull_secret_name: pulumi.Input[str]
    """Docker-config Secret (in the Flux namespace) used to scan private images. Default: ghcr-pull-secret."""
    create_pull_secret: bool
    """Write that Secret in the Flux namespace from the GHCR credentials (config `namespace:imagePullSecret`), because an
    ImageRepository's `secretRef` is local to its own namespace. Default: true when any image is private; false when you
    manage the Secret there yourself."""
    author_name: pulumi.Input[str]
    """Commit author name. Default with a GitHub App and ``github_app_slug``: ``<slug>[bot]``; required otherwise."""
    author_email: pulumi.Input[str]
    """Commit author email. Default with a GitHub App, ``github_app_slug`` and ``github_app_bot_user_id``:
    ``<bot user id>+<slug>[bot]@users.noreply.github.com``; required otherwise. (``fluxcdbot@users.noreply.github.com``,
    the old default, is a real GitHub account's address: commits were attributed to @fluxcdbot.)"""
    github_app_slug: str
    """GitHub App mode: the App's slug (its URL name, github.com/apps/<slug>), for the default author ``<slug>[bot]``."""
    github_app_bot_user_id: str
    """GitHub App mode: the numeric user id of the App's bot account ``<slug>[bot]`` (not the App ID:
    ``gh api '/users/<slug>[bot]' --jq .id``), for the default author email."""


class FluxGitCredentialsArgs(TypedDict, total=False):
    """Arguments of :class:`FluxGitCredentials`. Values left out are read from ESC-injected config.

    The auth mode follows from what is given (here or in config): a token, or all three GitHub App values.
    """

    repository_url: Required[pulumi.Input[str]]
    """HTTPS URL of the cluster repository, e.g. https://github.com/acme/cluster (required)."""
    branch: pulumi.Input[str]
    """Branch Flux reconciles (and image automation checks out). Default: main."""
    interval: str
    """How often Flux fetches the repository. Default: 1m."""
    namespace: pulumi.Input[str]
    """Flux's namespace: holds the Secret, the GitRepository and the image automation objects. Default: flux-system."""
    flux_install: str
    """How Flux was installed: ``standalone`` or ``bootstrap``. ``standalone`` (default: ``flux install``, the Helm chart or the Flux Operator without
    a sync): the component creates its own GitRepository. ``bootstrap`` (``flux bootstrap``): it creates no
    GitRepository, only the credentials Secret (and image automation, whose source is bootstrap's GitRepository
    ``flux-system``); point bootstrap's GitRepository at the Secret in Git (README, "Flux install modes")."""
    name: pulumi.Input[str]
    """Name of the GitRepository the component creates (``standalone``), or the GitRepository image automation uses
    (``bootstrap``). Default: secret-chain (standalone), flux-system, bootstrap's own (bootstrap). ``flux-system`` in
    standalone mode takes bootstrap's name: only on a cluster that was never bootstrapped."""
    secret_name: pulumi.Input[str]
    """Name of the credentials Secret. Default: github-token."""
    token: pulumi.Input[str]
    """Token mode: a fine-grained (github_pat_…) or classic (ghp_…) token. Default: config flux:githubToken."""
    github_app_id: str
    """GitHub App mode: the App ID. Default: config flux:githubAppId."""
    github_app_installation_id: str
    """GitHub App mode: the installation ID. Default: config flux:githubAppInstallationId."""
    github_app_private_key: pulumi.Input[str]
    """GitHub App mode: the App's PEM private key. Default: config flux:githubAppPrivateKey."""
    github_app_base_url: str
    """GitHub App mode on GitHub Enterprise Server: the API base URL (https://ghe.example.com/api/v3). Default: none (github.com)."""
    image_automation: ImageAutomationArgs
    """Flux image automation. Default: none."""


@dataclass(frozen=True)
class TokenAuth:
    """Token mode: HTTPS basic auth with a personal access token."""

    token: pulumi.Output[str]

    mode: ClassVar[AuthMode] = "token"
    provider: ClassVar[str | None] = None
    """No provider: plain HTTPS basic auth."""
    config_keys: ClassVar[tuple[Key, ...]] = (TOKEN_KEY,)

    def string_data(self) -> pulumi.Output[dict[str, str]]:
        """The Secret's data (a secret Output)."""
        return self.token.apply(lambda token: {"password": token, "username": TOKEN_USERNAME})


@dataclass(frozen=True)
class GitHubAppAuth:
    """GitHub App mode: the controllers mint one-hour installation tokens with the App's key."""

    app_id: str
    installation_id: str
    private_key: pulumi.Output[str]
    base_url: str | None = None

    mode: ClassVar[AuthMode] = "github-app"
    provider: ClassVar[str | None] = GITHUB_PROVIDER
    """Fixed by the mode, so the Secret's App data and ``provider: github`` always come together."""
    config_keys: ClassVar[tuple[Key, ...]] = APP_KEYS

    def string_data(self) -> pulumi.Output[dict[str, str]]:
        """The Secret's data (a secret Output), keys sorted."""

        def data(key: str) -> dict[str, str]:
            values = {"githubAppID": self.app_id, "githubAppInstallationID": self.installation_id, "githubAppPrivateKey": key}
            if self.base_url is not None:
                values["githubAppBaseURL"] = self.base_url
            return dict(sorted(values.items()))

        return self.private_key.apply(data)


@dataclass(frozen=True)
class ImageSpec:
    """One validated image of the automation."""

    name: str
    image: str
    semver_range: str
    public: bool


@dataclass(frozen=True)
class AutomationSpec:
    """Validated image automation."""

    images: tuple[ImageSpec, ...]
    name: Known[str]
    push_branch: Known[str]
    update_path: str
    interval: str
    scan_interval: str
    pull_secret_name: Known[str]
    author_name: Known[str]
    author_email: Known[str]
    pull_secret: ghcr.GhcrSpec | None = None
    """The GHCR pull secret written into the Flux namespace for the private images (None: public images only, or the user's own)."""


@dataclass(frozen=True)
class FluxSpec:
    """Validated inputs of a FluxGitCredentials."""

    repository_url: Known[str]
    branch: Known[str]
    interval: str
    namespace: Known[str]
    name: Known[str]
    secret_name: Known[str]
    auth: TokenAuth | GitHubAppAuth
    automation: AutomationSpec | None
    flux_install: FluxInstall = "standalone"

    @property
    def creates_git_repository(self) -> bool:
        """A GitRepository of our own (standalone), or none (bootstrap's is used)."""
        return self.flux_install == "standalone"


# --- checks ---------------------------------------------------------------------------------------

_FLUX_DURATION = re.compile(r"([0-9]+(\.[0-9]+)?(ms|s|m|h))+")
_IMAGE_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_SEMVER_VERSION = r"v?(?:0|[1-9][0-9]*|[xX*])(?:\.(?:0|[1-9][0-9]*|[xX*])){0,2}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?"
_SEMVER_COMPARATOR = re.compile(rf"(?:=|!=|>=|<=|>|<|~>|~|\^)?\s*{_SEMVER_VERSION}")
_SEMVER_HYPHEN = re.compile(rf"{_SEMVER_VERSION}\s+-\s+{_SEMVER_VERSION}")


def flux_duration(value: str) -> str:
    """Check a Flux interval such as 1m, 30s or 1h30m (the CRDs' duration pattern)."""
    text = value.strip()
    if not _FLUX_DURATION.fullmatch(text):
        raise Invalid("is not a duration such as 30s, 1m, 5m or 1h30m")
    return text


def git_branch(value: str) -> str:
    """Check a Git branch name (the rules of ``git check-ref-format --branch`` that matter here)."""
    text = v.nonempty(value)
    bad = (
        any(c.isspace() or c in "~^:?*[\\" or ord(c) < 32 for c in text)
        or ".." in text
        or "@{" in text
        or "//" in text
        or text.startswith(("-", "/", "."))
        or text.endswith(("/", ".", ".lock"))
        or text == "@"
    )
    if bad:
        raise Invalid("is not a valid Git branch name (e.g. main or flux-image-updates)")
    return text


def repository_path(value: str) -> str:
    """Check a relative path inside the repository, such as ./clusters."""
    text = v.nonempty(value)
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if text.startswith("/") or ".." in parts or any(c.isspace() for c in text):
        raise Invalid("must be a relative path inside the repository, such as ./clusters")
    return text


def image_name(value: str) -> str:
    """Check an image repository reference without tag or digest, e.g. ghcr.io/acme/api."""
    text = v.nonempty(value)
    if "@" in text:
        raise Invalid("has a digest; give the image repository only (e.g. ghcr.io/acme/api)")
    head, _, rest = text.partition("/")
    if rest and ("." in head or ":" in head or head == "localhost"):
        host, _, port = head.partition(":")
        try:
            if host != "localhost":
                v.hostname(host)
            if port:
                v.port(port)
        except Invalid:
            raise Invalid("has an invalid registry host (e.g. ghcr.io/acme/api)") from None
        path = rest
    else:
        path = text
    components = path.split("/")
    if ":" in components[-1]:
        raise Invalid("has a tag; give the image repository only (e.g. ghcr.io/acme/api), the policy picks the tag")
    if not all(_IMAGE_PATH_COMPONENT.fullmatch(c) for c in components) or len(text) > 255:
        raise Invalid("is not a valid image repository: lower-case path segments such as ghcr.io/acme/api")
    return text


def semver_range(value: str) -> str:
    """Check a semver constraint as Flux's ImagePolicy reads it (Masterminds), e.g. ^1.4.0 or >=1.0.0 <2.0.0."""
    text = v.nonempty(value)
    for alternative in text.split("||"):
        alternative = alternative.strip()
        if not alternative:
            raise Invalid("has an empty alternative around ||")
        if _SEMVER_HYPHEN.fullmatch(alternative):
            continue
        comparators = [c for c in re.split(r"\s*,\s*|\s+(?=[=!<>~^v0-9xX*])", alternative) if c]
        if not comparators or not all(_SEMVER_COMPARATOR.fullmatch(c) for c in comparators):
            raise Invalid("is not a semver range such as ^1.4.0, ~1.4.0 or >=1.0.0 <2.0.0")
    return text


def author_name(value: str) -> str:
    """Check a commit author name: one non-empty line."""
    text = v.nonempty(value)
    if "\n" in text or "\r" in text or "<" in text or ">" in text:
        raise Invalid("must be one line without < or >")
    return text


def api_base_url(value: str) -> str:
    """Check a GitHub Enterprise Server API base URL (https, no credentials)."""
    text = v.nonempty(value).rstrip("/")
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password or parts.query or parts.fragment:
        raise Invalid("is not an https:// API base URL without credentials (e.g. https://ghe.example.com/api/v3)")
    v.hostname(parts.hostname)
    return text


def _bool(value: bool) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false, got {type(value).__name__}")
    return value


def _default_object_name(image: str) -> str:
    """The last path segment of an image, made a DNS-1123 label (``_`` and ``.`` become ``-``)."""
    last = image.rsplit("/", 1)[-1]
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", last)).strip("-")[:63] or "image"


# --- resolve ----------------------------------------------------------------------------------------


def _source(reader: ConfigReader, entry: Key, override: object, arg_name: str) -> str | None:
    """Where a value is set: ``argument "…"``, ``config "…"`` (the key or alias found, with its removal), or None."""
    if override is not None:
        return f'argument "{arg_name}"'
    used = reader.found(entry)
    return None if used is None else f'config "{used}" ({remove_command(used, reader.environment)})'


def _string_or_none(reader: ConfigReader, name: str, value: object) -> bool:
    """Record a problem unless ``value`` is None or a string (IDs given as numbers would be skipped silently)."""
    if value is None or isinstance(value, str):
        return True
    reader.invalid(name, f"must be a string, got {type(value).__name__}", fix="pass it in quotes")
    return False


def _not_on_github_com(repository_url: str, secret: bool = False) -> str | None:
    """The problem of a GitHub App without a base URL for a repository that is not on github.com, if it is one.

    ``secret``: the URL came as a secret output, so the problem does not quote its host.
    """
    host = (urlsplit(repository_url).hostname or "").lower()
    if host == "github.com":
        return None
    return (
        f"the repository is not on github.com{'' if secret else f' ({host})'}; for a GitHub App on GitHub Enterprise Server pass "
        'argument "github_app_base_url" (e.g. https://ghe.example.com/api/v3)'
    )


def _enterprise_api_for_github_com(repository_url: str, base_url: str) -> str | None:
    """The problem of a github.com repository with a GitHub Enterprise Server API base URL, if it is one.

    ``githubAppBaseURL`` is "required only for GitHub Enterprise Server users" (Flux docs, source-controller
    GitRepository: GitHub App secret): the controllers mint the installation token at that API, and a token of
    another server never reads a github.com repository. github.com's own API (https://api.github.com) is accepted.
    """
    host = (urlsplit(repository_url).hostname or "").lower()
    api = (urlsplit(base_url).hostname or "").lower()
    if host != "github.com" or api in ("api.github.com", "github.com"):
        return None
    return problem_line(
        f'argument "github_app_base_url" names GitHub Enterprise Server ({api}) but the repository is on github.com: '
        "Flux would mint the App's token there, and it never reads a github.com repository",
        "drop github_app_base_url",
    )


def _push_branch_problem(branch: str, secret: bool = False) -> str:
    """The problem of image updates pushed to the reconciled branch (quoted unless it came as a secret output)."""
    return (
        f"image_automation.push_branch is the reconciled branch{'' if secret else f' {chr(34)}{branch}{chr(34)}'}: updates would skip review. "
        f"Use a separate branch such as {DEFAULT_PUSH_BRANCH} and merge its pull requests"
    )


def _resolve_auth(args: FluxGitCredentialsArgs, reader: ConfigReader, repository_url: Known[str] | None) -> TokenAuth | GitHubAppAuth | None:
    token_arg = args.get("token")
    app_args = {
        APP_ID_KEY: ("github_app_id", args.get("github_app_id")),
        APP_INSTALLATION_ID_KEY: ("github_app_installation_id", args.get("github_app_installation_id")),
        APP_PRIVATE_KEY_KEY: ("github_app_private_key", args.get("github_app_private_key")),
    }
    token_source = _source(reader, TOKEN_KEY, token_arg, "token")
    app_sources = {key: _source(reader, key, value, arg) for key, (arg, value) in app_args.items()}
    app_set = [s for s in app_sources.values() if s is not None]
    base_url_arg = args.get("github_app_base_url")

    if token_source is not None and app_set:
        reader.fail(
            "both a token and a GitHub App are configured for Flux's Git credentials; drop one. "
            f"To keep the GitHub App (recommended: 1-hour tokens, no PAT expiry), remove {token_source}. "
            f"To keep the token, remove {'; '.join(app_set)}"
        )
        return None
    if token_source is None and not app_set:
        env = reader.environment
        app_fixes = "; ".join(fix_command(k, env) for k in APP_KEYS)
        reader.fail(
            "no Git credentials for Flux: configure either a GitHub App (recommended) — "
            f"{', '.join(map(str, APP_KEYS))} — or a token — {TOKEN_KEY}",
            f"(GitHub App) {app_fixes}; or (token) {fix_command(TOKEN_KEY, env)}",
        )
        return None
    if token_source is not None:
        if base_url_arg is not None:
            reader.fail('argument "github_app_base_url" applies only to GitHub App mode; remove it or configure the GitHub App')
        token = reader.secret(TOKEN_KEY, token_arg, arg_name="token")
        return None if token is None else TokenAuth(token)

    missing = [key for key, source in app_sources.items() if source is None]
    if missing:
        present = [key for key, source in app_sources.items() if source is not None]
        reader.fail(
            f"the GitHub App config is incomplete: {', '.join(map(str, present))} set but {', '.join(map(str, missing))} missing. "
            f"Set the missing key(s), or remove {', '.join(map(str, present))} to use a token ({TOKEN_KEY}) instead"
        )
    id_arg = app_args[APP_ID_KEY][1]
    installation_arg = app_args[APP_INSTALLATION_ID_KEY][1]
    ok_types = _string_or_none(reader, "github_app_id", id_arg)
    ok_types = _string_or_none(reader, "github_app_installation_id", installation_arg) and ok_types
    app_id = reader.plain(APP_ID_KEY, id_arg if isinstance(id_arg, str) else None, arg_name="github_app_id")
    installation_id = reader.plain(
        APP_INSTALLATION_ID_KEY,
        installation_arg if isinstance(installation_arg, str) else None,
        arg_name="github_app_installation_id",
    )
    private_key = reader.secret(APP_PRIVATE_KEY_KEY, app_args[APP_PRIVATE_KEY_KEY][1], arg_name="github_app_private_key")
    base_url = reader.arg("github_app_base_url", base_url_arg, string(api_base_url))
    if base_url is None and base_url_arg is None and isinstance(repository_url, str):
        problem = _not_on_github_com(repository_url)
        if problem is not None:
            reader.fail(problem)
    if base_url is not None and isinstance(repository_url, str):
        problem = _enterprise_api_for_github_com(repository_url, base_url)
        if problem is not None:
            reader.fail(problem)
    if not ok_types or app_id is None or installation_id is None or private_key is None:
        return None
    return GitHubAppAuth(app_id, installation_id, private_key, base_url)


def _resolve_images(reader: ConfigReader, images: object) -> list[ImageSpec] | None:
    if isinstance(images, (str, dict)) or not isinstance(images, (list, tuple)) or not images:
        reader.invalid("image_automation.images", 'must be a non-empty list of {"image": ..., "semver_range": ...}')
        return None
    specs: list[ImageSpec] = []
    ok = True
    for index, item in enumerate(images):
        where = f"image_automation.images[{index}]"
        if not isinstance(item, Mapping):
            reader.invalid(where, 'must be a map with "image" and "semver_range"')
            ok = False
            continue
        unknown = sorted(set(item) - ImageArgs.__required_keys__ - ImageArgs.__optional_keys__)
        if unknown:
            reader.invalid(where, f"has unknown field(s) {', '.join(map(str, unknown))}", fix="remove them")
            ok = False
        image = reader.arg(f"{where}.image", item.get("image"), string(image_name), required=True)
        constraint = reader.arg(f"{where}.semver_range", item.get("semver_range"), string(semver_range), required=True)
        default_name = _default_object_name(image) if image else None
        name = reader.arg(f"{where}.name", item.get("name", default_name), string(v.dns1123_label))
        public = reader.arg(f"{where}.public", item.get("public", False), _bool)
        if image is None or constraint is None or name is None or public is None:
            ok = False
            continue
        specs.append(ImageSpec(name, image, constraint, public))
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        reader.fail(
            f"two images would share the ImageRepository/ImagePolicy name(s) {', '.join(duplicates)}; "
            'give each a distinct "name" in image_automation.images'
        )
        ok = False
    return specs if ok else None


def bot_author(slug: str, bot_user_id: str | None) -> tuple[str, str | None]:
    """(name, email) of a GitHub App's bot account: ``<slug>[bot]`` and ``<id>+<slug>[bot]@users.noreply.github.com``.

    GitHub attributes a commit to the account whose no-reply address ``<ID>+<USERNAME>@users.noreply.github.com`` it
    carries (GitHub docs, "Setting your commit email address" → no-reply email address); an App's account is
    ``<slug>[bot]``, with its own user id (``GET /users/<slug>[bot]``), which is not the App ID.
    """
    login = f"{slug}[bot]"
    return login, None if bot_user_id is None else f"{bot_user_id}+{login}@{BOT_EMAIL_DOMAIN}"


def _app_slug(value: str) -> str:
    """Check a GitHub App slug (lower-case letters, digits and hyphens)."""
    text = v.nonempty(value)
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?", text):
        raise Invalid("is not a GitHub App slug (the lower-case name in github.com/apps/<slug>)")
    return text


def _resolve_author(
    reader: ConfigReader, value: Mapping[str, Any], app_mode: bool
) -> tuple[Known[str] | None, Known[str] | None]:
    """(author name, author email) of image-update commits: given, or the App's bot identity, never a default account."""
    slug = reader.arg("image_automation.github_app_slug", value.get("github_app_slug"), string(_app_slug))
    bot_id = reader.arg("image_automation.github_app_bot_user_id", value.get("github_app_bot_user_id"), string(v.numeric_id))
    given_name, given_email = value.get("author_name"), value.get("author_email")
    if (slug is not None or bot_id is not None) and not app_mode:
        reader.fail("image_automation.github_app_slug/github_app_bot_user_id apply only to GitHub App mode; give author_name and author_email")
        return None, None
    default_name, default_email = bot_author(slug, bot_id) if slug is not None else (None, None)
    name_arg, email_arg = given_name if given_name is not None else default_name, given_email if given_email is not None else default_email
    if name_arg is None or email_arg is None:
        missing = [f for f, v_ in (("author_name", name_arg), ("author_email", email_arg)) if v_ is None]
        how = (
            'give image_automation "github_app_slug" and "github_app_bot_user_id" (gh api \'/users/<slug>[bot]\' --jq .id) '
            "so that commits come from the App's bot account, or "
            if app_mode
            else ""
        )
        reader.fail(
            f"image_automation needs a commit author: {how}give {' and '.join(missing)}. There is no default: the old "
            "fluxcdbot@users.noreply.github.com belongs to a real account, which GitHub credited with the commits"
        )
        return None, None
    author = reader.input("image_automation.author_name", name_arg, string(author_name))
    email = reader.input("image_automation.author_email", email_arg, string(_author_email))
    return author, email


def _author_email(value: str) -> str:
    """Check a commit author email; a GitHub App bot's no-reply address (``…[bot]@…``) is kept as it is."""
    text = v.nonempty(value)
    local, at, domain = text.rpartition("@")
    if at and domain == BOT_EMAIL_DOMAIN and re.fullmatch(r"[0-9]+\+[a-z0-9-]+\[bot\]", local):
        return text
    return v.email(text)


def _resolve_automation(
    reader: ConfigReader, value: object, branch: Known[str] | None, app_mode: bool = False, namespace: Known[str] | None = None
) -> AutomationSpec | None:
    if not isinstance(value, Mapping):
        reader.invalid("image_automation", 'must be a map with "images"')
        return None
    unknown = sorted(set(value) - ImageAutomationArgs.__required_keys__ - ImageAutomationArgs.__optional_keys__)
    if unknown:
        reader.invalid("image_automation", f"has unknown field(s) {', '.join(map(str, unknown))}", fix="remove them")
    images = _resolve_images(reader, value.get("images"))
    name = reader.input("image_automation.name", value.get("name", DEFAULT_NAME), string(v.dns1123_subdomain))
    push_branch = reader.input("image_automation.push_branch", value.get("push_branch", DEFAULT_PUSH_BRANCH), string(git_branch))
    update_path = reader.arg("image_automation.update_path", value.get("update_path", "./clusters"), string(repository_path))
    interval = reader.arg("image_automation.interval", value.get("interval", "30m"), string(flux_duration))
    scan_interval = reader.arg("image_automation.scan_interval", value.get("scan_interval", "5m"), string(flux_duration))
    pull_secret = reader.input(
        "image_automation.pull_secret_name", value.get("pull_secret_name", "ghcr-pull-secret"), string(v.dns1123_subdomain)
    )
    author, email = _resolve_author(reader, value, app_mode)
    create = reader.arg("image_automation.create_pull_secret", value.get("create_pull_secret", True), _bool)
    pull_spec = None
    if create and images and any(not image.public for image in images) and pull_secret is not None and namespace is not None:
        # An ImageRepository's secretRef names a Secret in its own namespace (image-reflector-controller reads it
        # there: fluxcd/image-reflector-controller internal/registry auth, ImageRepository spec.secretRef is a
        # LocalObjectReference), so the pull secret must live in the Flux namespace, not only in the app's.
        pull_spec = ghcr.resolve({"namespaces": [namespace], "secret_name": pull_secret}, reader)
    if isinstance(push_branch, str) and isinstance(branch, str) and push_branch == branch:
        reader.fail(_push_branch_problem(branch))
        return None
    if (
        images is None
        or name is None
        or push_branch is None
        or update_path is None
        or interval is None
        or scan_interval is None
        or pull_secret is None
        or author is None
        or email is None
        or unknown
    ):
        return None
    return AutomationSpec(tuple(images), name, push_branch, update_path, interval, scan_interval, pull_secret, author, email, pull_spec)


def resolve(args: FluxGitCredentialsArgs, reader: ConfigReader) -> FluxSpec | None:
    """Validate ``args`` and config into a spec; problems go to ``reader`` (None if any)."""
    repository_url = reader.input("repository_url", args.get("repository_url"), string(v.https_git_url), required=True)
    branch = reader.input("branch", args.get("branch", "main"), string(git_branch))
    interval = reader.arg("interval", args.get("interval", "1m"), string(flux_duration))
    namespace = reader.input("namespace", args.get("namespace", BOOTSTRAP_NAMESPACE), string(v.namespace))
    flux_install = reader.arg("flux_install", args.get("flux_install", "standalone"), _flux_install)
    default_name = BOOTSTRAP_NAME if flux_install == "bootstrap" else DEFAULT_NAME
    name = reader.input("name", args.get("name", default_name), string(v.dns1123_subdomain))
    secret_name = reader.input("secret_name", args.get("secret_name", DEFAULT_SECRET_NAME), string(v.dns1123_subdomain))
    auth = _resolve_auth(args, reader, repository_url)
    automation_args: Any = args.get("image_automation")
    app_mode = isinstance(auth, GitHubAppAuth)
    automation = None if automation_args is None else _resolve_automation(reader, automation_args, branch, app_mode, namespace)
    # The checks that compare a value given as another resource's output run once it is known, and
    # raise the line the ConfigError would have held (the checked Output goes into the children's inputs).
    owner = reader.owner
    if isinstance(repository_url, pulumi.Output) and isinstance(auth, GitHubAppAuth) and auth.base_url is None:
        repository_url = apply_knowing_secrecy(repository_url, lambda url, secret: _raise_if(owner, _not_on_github_com(url, secret), url))
    if automation is not None and branch is not None and (isinstance(automation.push_branch, pulumi.Output) or isinstance(branch, pulumi.Output)):
        checked = apply_knowing_secrecy(
            pulumi.Output.all(automation.push_branch, branch),
            lambda known, secret: _raise_if(owner, _push_branch_problem(known[1], secret) if known[0] == known[1] else None, known[0]),
        )
        automation = dataclasses.replace(automation, push_branch=checked)
    if (
        repository_url is None
        or branch is None
        or interval is None
        or namespace is None
        or name is None
        or secret_name is None
        or auth is None
        or flux_install is None
        or (automation_args is not None and automation is None)
        or reader.problems
    ):
        return None
    return FluxSpec(repository_url, branch, interval, namespace, name, secret_name, auth, automation, flux_install)


def _flux_install(value: object) -> FluxInstall:
    for install in FLUX_INSTALLS:
        if value == install:
            return install
    raise Invalid(f"must be one of {', '.join(FLUX_INSTALLS)}")


def _raise_if(owner: str, problem: str | None, value: str) -> str:
    """``value``, or a SecretChainError with the line ``problem`` would have been in the ConfigError."""
    if problem is not None:
        raise SecretChainError(f"{owner}: {problem}")
    return value


# --- component --------------------------------------------------------------------------------------


class FluxGitCredentials(ChainComponent):
    """Flux's credentials for the cluster repository (a token or, recommended, a GitHub App) and its GitRepository.

    Reads ``flux:githubToken`` or ``flux:githubAppId``/``flux:githubAppInstallationId``/
    ``flux:githubAppPrivateKey`` from the ESC-injected config unless given in args; exactly one mode
    must be configured. Optionally adds Flux image automation pushing to ``flux-image-updates``.
    """

    secret_name: pulumi.Output[str]
    """Name of the credentials Secret in the Flux namespace."""
    git_repository_name: pulumi.Output[str]
    """Name of the GitRepository (the sourceRef of Kustomizations)."""
    namespace: pulumi.Output[str]
    """The Flux namespace all objects are in."""
    auth_mode: pulumi.Output[str]
    """token or github-app."""
    push_branch: pulumi.Output[str | None]
    """Branch image updates are pushed to; None without image automation."""
    image_policy_names: pulumi.Output[list[str]]
    """Names of the ImagePolicies, for ``{"$imagepolicy": "<namespace>:<name>"}`` markers; empty without image automation."""

    def __init__(self, name: str, args: FluxGitCredentialsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        self._build(name, validated("FluxGitCredentials", resolve, args, opts), opts)

    @classmethod
    def from_spec(cls, name: str, spec: FluxSpec, opts: pulumi.ResourceOptions | None = None) -> Self:
        """Build from an already validated spec (used by SecretChain, which validates everything first)."""
        self = cls.__new__(cls)
        self._build(name, spec, opts)
        return self

    def _build(self, name: str, spec: FluxSpec, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__("secret-chain:index:FluxGitCredentials", name, None, gated(spec, opts))
        self.inherit_depends_on(opts)
        from pulumi_kubernetes.apiextensions import CustomResource

        labels = kube.labels("flux-git-credentials")
        secret = kube.secret(
            f"{name}-secret",
            name=spec.secret_name,
            namespace=spec.namespace,
            string_data=spec.auth.string_data(),
            config_keys=spec.auth.config_keys,
            component="flux-git-credentials",
            parent=self,
            keys_vary=True,  # token mode (username/password) and App mode (githubApp*) have different keys
        )
        git_spec: dict[str, Any] = {
            "interval": spec.interval,
            "url": spec.repository_url,
            "ref": {"branch": spec.branch},
            "secretRef": {"name": spec.secret_name},
        }
        if spec.auth.provider is not None:
            git_spec["provider"] = spec.auth.provider
        source: list[pulumi.Resource] = [secret]
        if spec.creates_git_repository:
            source = [
                CustomResource(
                    f"{name}-gitrepository",
                    api_version="source.toolkit.fluxcd.io/v1",
                    kind="GitRepository",
                    metadata={"name": spec.name, "namespace": spec.namespace, "labels": labels},
                    spec=git_spec,
                    opts=self.child_opts([secret]),
                )
            ]
        policy_names: list[str] = []
        automation = spec.automation
        if automation is not None:
            pull: list[pulumi.Resource] = []
            if automation.pull_secret is not None:
                creds = automation.pull_secret
                document = creds.token.apply(
                    lambda token: {".dockerconfigjson": ghcr.dockerconfigjson(creds.registry, creds.username, token)}  # type: ignore[arg-type]
                )
                pull = [
                    kube.secret(
                        f"{name}-pull-secret",  # one fixed name: the Flux namespace may be another resource's output
                        name=automation.pull_secret_name,
                        namespace=spec.namespace,
                        string_data=document,
                        config_keys=(ghcr.USERNAME_KEY, ghcr.TOKEN_KEY),
                        component="image-pull-secret",
                        parent=self,
                        type_="kubernetes.io/dockerconfigjson",
                    )
                ]
            for image in automation.images:
                repository_spec: dict[str, Any] = {"image": image.image, "interval": automation.scan_interval}
                if not image.public:
                    repository_spec["secretRef"] = {"name": automation.pull_secret_name}
                repository = CustomResource(
                    f"{name}-image-{image.name}-repository",
                    api_version="image.toolkit.fluxcd.io/v1",
                    kind="ImageRepository",
                    metadata={"name": image.name, "namespace": spec.namespace, "labels": labels},
                    spec=repository_spec,
                    opts=self.child_opts([] if image.public else pull),
                )
                CustomResource(
                    f"{name}-image-{image.name}-policy",
                    api_version="image.toolkit.fluxcd.io/v1",
                    kind="ImagePolicy",
                    metadata={"name": image.name, "namespace": spec.namespace, "labels": labels},
                    spec={"imageRepositoryRef": {"name": image.name}, "policy": {"semver": {"range": image.semver_range}}},
                    opts=self.child_opts([repository]),
                )
                policy_names.append(image.name)
            CustomResource(
                f"{name}-image-update-automation",
                api_version="image.toolkit.fluxcd.io/v1",
                kind="ImageUpdateAutomation",
                metadata={"name": automation.name, "namespace": spec.namespace, "labels": labels},
                spec={
                    "interval": automation.interval,
                    "sourceRef": {"kind": "GitRepository", "name": spec.name},
                    "git": {
                        "checkout": {"ref": {"branch": spec.branch}},
                        "commit": {
                            "author": {"name": automation.author_name, "email": automation.author_email},
                            "messageTemplate": MESSAGE_TEMPLATE,
                        },
                        "push": {"branch": automation.push_branch},
                    },
                    "update": {"path": automation.update_path, "strategy": "Setters"},
                },
                opts=self.child_opts(source),
            )
        self.secret_name = pulumi.Output.from_input(spec.secret_name)
        self.git_repository_name = pulumi.Output.from_input(spec.name)
        self.namespace = pulumi.Output.from_input(spec.namespace)
        self.auth_mode = pulumi.Output.from_input(spec.auth.mode)
        self.push_branch = pulumi.Output.from_input(automation.push_branch if automation is not None else None)
        self.image_policy_names = pulumi.Output.from_input(policy_names)
        self.register_outputs(
            {
                "secret_name": self.secret_name,
                "git_repository_name": self.git_repository_name,
                "namespace": self.namespace,
                "auth_mode": self.auth_mode,
                "push_branch": self.push_branch,
                "image_policy_names": self.image_policy_names,
            }
        )
