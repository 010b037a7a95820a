"""FluxGitCredentials: the credentials Flux uses for the cluster repository, and the GitRepository that uses them.

Two auth modes, chosen by which config is present (configuring both is an error that says which to drop):

* **GitHub App (recommended)**: ``flux:githubAppId``, ``flux:githubAppInstallationId``, ``flux:githubAppPrivateKey``.
  The Secret holds ``githubAppID``, ``githubAppInstallationID``, ``githubAppPrivateKey`` (and ``githubAppBaseURL`` on
  GitHub Enterprise Server) and the GitRepository gets ``spec.provider: github``: the controllers mint one-hour
  installation tokens, so no long-lived PAT can expire and commits come from the App. The provider follows from the
  mode and is never an argument (Flux refuses App data without ``provider: github``, and a token with it).
* **Token**: ``flux:githubToken`` (or the seed guide's ``<project>:github.token``). The Secret holds HTTPS basic auth,
  ``username`` ``git`` (as ``flux bootstrap`` writes; GitHub ignores it for a PAT) and ``password``.

Given ``image_automation``, it also builds a :class:`~secret_chain.flux_images.FluxImageAutomation` as its child.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Required, TypedDict
from urllib.parse import urlsplit

import pulumi

from secret_chain import catalog, flux_images, kube
from secret_chain import validators as v
from secret_chain._component import ChainComponent, deprecation
from secret_chain._resolve import arg, resolve_spec
from secret_chain.catalog import Key
from secret_chain.config import (
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
from secret_chain.errors import SecretChainError
from secret_chain.flux_images import DEFAULT_NAME, AutomationSpec, FluxImageAutomation, ImageAutomationArgs
from secret_chain.parts import rules_of
from secret_chain.rules import Facts
from secret_chain.validators import Invalid

TOKEN_KEY = catalog.FLUX_GITHUB_TOKEN
APP_ID_KEY = catalog.FLUX_GITHUB_APP_ID
APP_INSTALLATION_ID_KEY = catalog.FLUX_GITHUB_APP_INSTALLATION_ID
APP_PRIVATE_KEY_KEY = catalog.FLUX_GITHUB_APP_PRIVATE_KEY
APP_KEYS = catalog.FLUX_APP_KEYS
URL_KEY = catalog.FLUX_REPOSITORY_URL
"""The chain's setting for the repository URL (the component takes it as argument ``repository_url``)."""
"""The GitHub App keys, all three needed."""

TOKEN_USERNAME = "git"
"""HTTPS basic-auth username sent with the token (GitHub ignores it for PATs; any non-empty value works)."""

GITHUB_PROVIDER = "github"
"""``spec.provider`` of a GitRepository whose Secret holds GitHub App data."""

BOOTSTRAP_NAMESPACE = "flux-system"
BOOTSTRAP_NAME = "flux-system"
"""What ``flux bootstrap`` creates and then manages from Git: the GitRepository and the Kustomization
``flux-system/flux-system``, and the Secret ``flux-system/flux-system`` its GitRepository reads (fluxcd/flux2
``pkg/manifestgen/sync/sync.go`` ``Generate``: name and namespace from the options, ``secretRef`` = ``--secret-name``;
``cmd/flux/bootstrap.go``: ``--secret-name`` defaults to ``flux-system``, like the namespace and the sync name).
kustomize-controller keeps re-applying bootstrap's copy, so a second owner of these names fights it, and
``pulumi destroy`` would delete the cluster's own source. The component never emits them unless asked by name."""

DEFAULT_SECRET_NAME = "github-token"
"""Default name of the credentials Secret in the Flux namespace."""

FluxInstall = Literal["bootstrap", "standalone"]
FLUX_INSTALLS: tuple[FluxInstall, ...] = ("bootstrap", "standalone")

AuthMode = Literal["token", "github-app"]


IMAGE_AUTOMATION_REPLACED_BY = "FluxGitCredentials is credentials and source only. Use FluxImageAutomation, or SecretChain's image_automation"
"""What replaces FluxGitCredentials' ``image_automation``, said in its warning and its deprecation message."""
DEPRECATED_ARGS: dict[str, str] = {"image_automation": deprecation(f"accepted with a warning. {IMAGE_AUTOMATION_REPLACED_BY}")}
"""Arguments accepted for one more release, with a warning: their ``deprecationMessage`` in the provider's schema."""


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
    """How Flux was installed: ``standalone`` or ``bootstrap``. Default: standalone. ``standalone`` (``flux install``, the Helm chart or the Flux
    Operator without a sync): the component creates its own GitRepository. ``bootstrap`` (``flux bootstrap``): it creates no
    GitRepository, only the credentials Secret (and image automation, whose source is bootstrap's GitRepository
    ``flux-system``); point bootstrap's GitRepository at the Secret in Git (docs/reference/flux-git-credentials.md, "Flux install modes")."""
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
    """Deprecated: Flux image automation on this GitRepository (use FluxImageAutomation). Default: none."""


@dataclass(frozen=True)
class TokenAuth:
    """Token mode: HTTPS basic auth with a personal access token."""

    token: pulumi.Output[str] = field(metadata=arg(key=TOKEN_KEY))

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

    app_id: str = field(metadata=arg(key=APP_ID_KEY, name="github_app_id", plain=True))
    installation_id: str = field(metadata=arg(key=APP_INSTALLATION_ID_KEY, name="github_app_installation_id", plain=True))
    private_key: pulumi.Output[str] = field(metadata=arg(key=APP_PRIVATE_KEY_KEY, name="github_app_private_key"))
    base_url: str | None = field(metadata=arg(string(v.api_base_url), name="github_app_base_url", plain=True))

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


def _flux_install(value: object) -> FluxInstall:
    for install in FLUX_INSTALLS:
        if value == install:
            return install
    raise Invalid(f"must be one of {', '.join(FLUX_INSTALLS)}")


@dataclass(frozen=True)
class FluxSpec:
    """Validated inputs of a FluxGitCredentials."""

    repository_url: Known[str] = field(metadata=arg(string(v.https_git_url), required=True))
    branch: Known[str] = field(metadata=arg(string(v.flux_branch), default="main"))
    interval: str = field(metadata=arg(string(v.flux_duration), default="1m", plain=True))
    namespace: Known[str] = field(metadata=arg(string(v.namespace), default=BOOTSTRAP_NAMESPACE))
    flux_install: FluxInstall = field(metadata=arg(_flux_install, default="standalone", plain=True))
    name: Known[str] = field(
        metadata=arg(string(v.dns1123_subdomain), default=lambda got: BOOTSTRAP_NAME if got["flux_install"] == "bootstrap" else DEFAULT_NAME)
    )
    secret_name: Known[str] = field(metadata=arg(string(v.dns1123_subdomain), default=DEFAULT_SECRET_NAME))
    auth: TokenAuth | GitHubAppAuth
    automation: AutomationSpec | None

    @property
    def creates_git_repository(self) -> bool:
        """A GitRepository of our own (standalone), or none (bootstrap's is used)."""
        return self.flux_install == "standalone"


def _source(reader: ConfigReader, entry: Key, override: object, arg_name: str) -> str | None:
    """Where a value is set: ``argument "…"``, ``config "…"`` (the key or alias found, with its removal), or None."""
    if override is not None:
        return reader.label(arg_name)
    used = reader.found(entry)
    return None if used is None else f'config "{used}" ({remove_command(used, reader.environment)})'


def _facts(reader: ConfigReader, url: object, token: str | None, app: Mapping[Key, str | None], secret: bool = False) -> Facts:
    """What the table's rules read of Flux's auth: the repository URL, and which of the token and App keys are set.

    ``secret``: the URL came as a secret output, so a message does not quote its host.
    """
    sources = {TOKEN_KEY: token, **app}
    facts = reader.facts({URL_KEY.key: url}, shown=lambda _: not secret)
    return Facts(facts.value, lambda entry: sources.get(entry) is not None if entry in sources else facts.present(entry), facts.same, facts.shown)


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
        return resolve_spec(TokenAuth, args, reader)

    missing = [key for key, source in app_sources.items() if source is None]
    if missing:
        present = [key for key, source in app_sources.items() if source is not None]
        reader.fail(
            f"the GitHub App config is incomplete: {', '.join(map(str, present))} set but {', '.join(map(str, missing))} missing. "
            f"Set the missing key(s), or remove {', '.join(map(str, present))} to use a token ({TOKEN_KEY}) instead"
        )

    def hosts(got: dict[str, Any]) -> dict[str, Any]:
        base_url = got["base_url"]
        if base_url is None and base_url_arg is None:
            # The table's cross-key rule (secret_chain.rules, evaluated by preflight too): the App reads github.com only.
            for rule in rules_of("FluxGitCredentials"):
                reader.rule(rule, _facts(reader, repository_url, token_source, app_sources), {URL_KEY: "repository_url"})
        elif isinstance(repository_url, str) and base_url is not None:
            problem = _enterprise_api_for_github_com(repository_url, base_url)
            if problem is not None:
                reader.fail(problem)
        return {}

    return resolve_spec(GitHubAppAuth, args, reader, then=hosts)


def resolve(args: FluxGitCredentialsArgs, reader: ConfigReader) -> FluxSpec | None:
    """Validate ``args`` and config into a spec; problems go to ``reader`` (None if any)."""

    def derived(got: dict[str, Any]) -> dict[str, Any]:
        repository_url = got["repository_url"]
        auth = _resolve_auth(args, reader, repository_url)
        automation_args: object = args.get("image_automation")
        automation = None
        if automation_args is not None:
            pulumi.log.warn(
                f"{reader.owner}: image_automation is deprecated in {catalog.DEPRECATED_SINCE} and goes in {catalog.REMOVED_IN}: "
                f"{IMAGE_AUTOMATION_REPLACED_BY}"
            )
            app_mode = isinstance(auth, GitHubAppAuth)
            automation = flux_images.resolve_nested(
                reader, automation_args, namespace=got["namespace"], branch=got["branch"], source=got["name"], app_mode=app_mode
            )
        if isinstance(repository_url, pulumi.Output) and isinstance(auth, GitHubAppAuth) and auth.base_url is None:
            # Known only later: the same rules then, raising the line the ConfigError would have held.
            repository_url = apply_knowing_secrecy(repository_url, lambda url, secret: _raise_if_broken(reader, url, secret))
        return {"repository_url": repository_url, "auth": auth, "automation": automation}

    return resolve_spec(FluxSpec, args, reader, then=derived)


def _raise_if_broken(reader: ConfigReader, url: str, secret: bool) -> str:
    """``url``, or a SecretChainError with the line the ConfigError would have held (App mode: every App key is set)."""
    probe = ConfigReader(reader.owner, reader.environment)
    for rule in rules_of("FluxGitCredentials"):
        probe.rule(rule, _facts(probe, url, None, dict.fromkeys(APP_KEYS, "set"), secret), {URL_KEY: "repository_url"})
    if probe.problems:
        raise SecretChainError(probe.problems[0])
    return url


# --- component --------------------------------------------------------------------------------------


class FluxGitCredentials(ChainComponent[FluxSpec]):
    """Flux's credentials for the cluster repository (a token or, recommended, a GitHub App) and its GitRepository.

    Reads ``flux:githubToken`` or ``flux:githubAppId``/``flux:githubAppInstallationId``/
    ``flux:githubAppPrivateKey`` from the ESC-injected config unless given in args; exactly one mode
    must be configured. Given ``image_automation``, it also builds a FluxImageAutomation (its child) for its GitRepository.
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
        images = None
        if spec.automation is not None:
            images = FluxImageAutomation.from_spec(name, spec.automation, self.child_opts(), source=source, moved_from=self)
        self.secret_name = pulumi.Output.from_input(spec.secret_name)
        self.git_repository_name = pulumi.Output.from_input(spec.name)
        self.namespace = pulumi.Output.from_input(spec.namespace)
        self.auth_mode = pulumi.Output.from_input(spec.auth.mode)
        self.push_branch = images.push_branch if images is not None else pulumi.Output.from_input(None)
        self.image_policy_names = images.image_policy_names if images is not None else pulumi.Output.from_input([])
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
