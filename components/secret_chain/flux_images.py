"""FluxImageAutomation: Flux image automation (``image.toolkit.fluxcd.io/v1``) for the cluster repository.

Per image an ``ImageRepository`` (reading private images with the GHCR pull secret in the same namespace) and an
``ImagePolicy`` with that image's semver range, and one ``ImageUpdateAutomation`` that commits the updated tags
(Setters strategy) to the branch ``flux-image-updates`` for a pull request, with a message listing every change.

On its own it automates a GitRepository that exists already (``git_repository_name``). :class:`~secret_chain.flux.FluxGitCredentials`
builds one as its child when given ``image_automation``: then its objects keep the URNs they had when they were the
credentials' own children (``aliases``), so existing stacks see no replacement.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Required, TypedDict

import pulumi

from secret_chain import ghcr
from secret_chain import validators as v
from secret_chain._component import ChainComponent, derived
from secret_chain._resolve import Valid, arg, resolve_spec
from secret_chain.config import ConfigReader, Known, apply_knowing_secrecy, gated, string, validated
from secret_chain.errors import SecretChainError

DEFAULT_NAME = "secret-chain"
"""Default name of the ImageUpdateAutomation, and of the GitRepository FluxGitCredentials creates: never bootstrap's."""
DEFAULT_PUSH_BRANCH = "flux-image-updates"
DEFAULT_PULL_SECRET_NAME = "ghcr-pull-secret"
POLICY_LABEL = "secret-chain/image-automation"
"""Label of each ImagePolicy, naming its ImageUpdateAutomation, which selects its own policies by it
(``spec.policySelector``): without a selector an automation applies every ImagePolicy of its namespace
(fluxcd/image-automation-controller api/v1/imageupdateautomation_types.go ``PolicySelector``: "By default includes all
policies in namespace"; internal/controller/imageupdateautomation_controller.go ``getPolicies``), so production's
automation would also push preview-base's updates, and the reverse."""
FLUX_NAMESPACE = "flux-system"

MESSAGE_TEMPLATE = """chore(images): automated image updates

{{ range $resource, $changes := .Changed.Objects -}}
- {{ $resource.Kind }} {{ $resource.Namespace }}/{{ $resource.Name }}:
{{- range $_, $change := $changes }}
  - {{ $change.OldValue }} -> {{ $change.NewValue }}
{{- end }}
{{ end -}}
"""
"""Commit message of image updates. ``image.toolkit.fluxcd.io/v1`` offers ``.Changed`` (``.Updated`` was removed)."""


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
    """Flux image automation for the cluster repository (FluxGitCredentials' ``image_automation``)."""

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


class FluxImageAutomationArgs(TypedDict, total=False):
    """Arguments of :class:`FluxImageAutomation`: :class:`ImageAutomationArgs` and the GitRepository it automates.

    The fields it shares with ImageAutomationArgs are declared again: the provider's schema reads each field's
    docstring from the class's own source (tests/test_flux_images.py keeps the two alike).
    """

    namespace: pulumi.Input[str]
    """Flux's namespace, where the GitRepository is and the image automation objects go. Default: flux-system."""
    git_repository_name: pulumi.Input[str]
    """Name of the GitRepository the automation checks out and pushes through. Default: secret-chain."""
    branch: pulumi.Input[str]
    """Branch the automation checks out (the one Flux reconciles). Default: main."""
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
    provider_enables_mutable_secrets: bool
    """Set true to state that the explicit Kubernetes provider in opts was created with enable_secret_mutable=True (a
    provider you or another component made). A provider object does not expose its settings, so an explicit provider is
    refused without this statement, unless secret_chain.kube.mutable_secrets_provider made it; with it, the provider is
    taken at your word. Without an explicit provider it changes nothing: the default provider's
    kubernetes:enableSecretMutable decides. Default: false."""


default_object_name = v.image_object_name
"""The last path segment of an image, made a DNS-1123 label (``_`` and ``.`` become ``-``)."""


def suffixed(args: Mapping[str, Any], suffix: str) -> dict[str, Any]:
    """``args`` (ImageAutomationArgs) with ``suffix`` after every object name and the push branch, given or default.

    preview-base builds its automation so (``suffix`` ``-preview``) next to production's on one cluster: the
    ImageRepositories, ImagePolicies, the ImageUpdateAutomation and the pull secret in the Flux namespace are
    distinct objects, and the two automations push distinct branches. Both matter: the API server refuses a second
    create of one kind/namespace/name (pulumi-kubernetes creates with a plain POST unless ``upsertExistingObjects``:
    pulumi/pulumi-kubernetes provider/pkg/await/await.go ``Creation``), and image-automation-controller force-pushes
    its push branch whenever it differs from the checkout branch (fluxcd/image-automation-controller
    internal/features/features.go ``GitForcePushBranch``, on by default; internal/controller/
    imageupdateautomation_controller.go), so two automations on one branch would overwrite each other's commits.
    A value that is not a string is left as it is, for its own check to refuse.
    """
    if not suffix:
        return dict(args)

    def add(value: object) -> object:
        if isinstance(value, str):
            return value + suffix
        if isinstance(value, pulumi.Output):
            return pulumi.Output.concat(value, suffix)
        return value

    out = dict(args)
    for key, default in (("name", DEFAULT_NAME), ("push_branch", DEFAULT_PUSH_BRANCH), ("pull_secret_name", DEFAULT_PULL_SECRET_NAME)):
        given = out.get(key)
        out[key] = add(default if given is None else given)
    images = out.get("images")
    if isinstance(images, (list, tuple)):
        out["images"] = [_suffixed_image(image, add, 63 - len(suffix)) for image in images]
    return out


@dataclass(frozen=True)
class ImageSpec:
    """One validated image of the automation."""

    image: str = field(metadata=arg(string(v.image_name), required=True, plain=True))
    semver_range: str = field(metadata=arg(string(v.semver_range), required=True, plain=True))
    name: str = field(metadata=arg(string(v.dns1123_label), plain=True, default=lambda got: got["image"] and default_object_name(got["image"])))
    public: bool = field(metadata=arg(v.boolean, default=False, plain=True))


@dataclass(frozen=True)
class AutomationSpec:
    """Validated image automation."""

    namespace: Known[str] = field(metadata=arg(string(v.namespace), default=FLUX_NAMESPACE))
    git_repository_name: Known[str] = field(metadata=arg(string(v.dns1123_subdomain), default=DEFAULT_NAME))
    branch: Known[str] = field(metadata=arg(string(v.flux_branch), default="main"))
    name: Known[str] = field(metadata=arg(string(v.label_value_name), default=DEFAULT_NAME))
    push_branch: Known[str] = field(metadata=arg(string(v.flux_branch), default=DEFAULT_PUSH_BRANCH))
    update_path: str = field(metadata=arg(string(v.repository_path), default="./clusters", plain=True))
    interval: str = field(metadata=arg(string(v.flux_duration), default="30m", plain=True))
    scan_interval: str = field(metadata=arg(string(v.flux_duration), default="5m", plain=True))
    pull_secret_name: Known[str] = field(metadata=arg(string(v.dns1123_subdomain), default=DEFAULT_PULL_SECRET_NAME))
    github_app_slug: str | None = field(metadata=arg(string(v.github_app_slug), plain=True))
    github_app_bot_user_id: str | None = field(metadata=arg(string(v.numeric_id), plain=True))
    create_pull_secret: bool = field(metadata=arg(v.boolean, default=True, plain=True))
    provider_enables_mutable_secrets: bool = field(metadata=arg(v.boolean, default=False, plain=True))
    """The caller states that the explicit Kubernetes provider updates Secrets in place (config.require_mutable_secrets)."""
    images: tuple[ImageSpec, ...]
    author_name: Known[str]
    author_email: Known[str]
    pull_secret: ghcr.GhcrSpec | None
    """The GHCR pull secret written into the Flux namespace for the private images (None: public images only, or the user's own)."""


def bot_author(slug: str, bot_user_id: str | None) -> tuple[str, str | None]:
    """(name, email) of a GitHub App's bot account: ``<slug>[bot]`` and ``<id>+<slug>[bot]@users.noreply.github.com``.

    GitHub attributes a commit to the account whose no-reply address ``<ID>+<USERNAME>@users.noreply.github.com`` it
    carries (GitHub docs, "Setting your commit email address" → no-reply email address); an App's account is
    ``<slug>[bot]``, with its own user id (``GET /users/<slug>[bot]``), which is not the App ID.
    """
    login = f"{slug}[bot]"
    return login, None if bot_user_id is None else f"{bot_user_id}+{login}@{v.BOT_EMAIL_DOMAIN}"


def _suffixed_image(image: object, add: Any, room: int) -> object:
    """One image of :func:`suffixed`: its object name (given, or derived from the image and cut to ``room``) with the suffix."""
    if not isinstance(image, Mapping):
        return image
    if "name" in image:
        return {**image, "name": add(image["name"])}
    reference = image.get("image")
    return {**image, "name": add(default_object_name(reference)[:room].rstrip("-"))} if isinstance(reference, str) else dict(image)


def push_branch_problem(prefix: str, branch: str, secret: bool = False) -> str:
    """The problem of image updates pushed to the reconciled branch (quoted unless it came as a secret output)."""
    return (
        f"{prefix}push_branch is the reconciled branch{'' if secret else f' {chr(34)}{branch}{chr(34)}'}: updates would skip review. "
        f"Use a separate branch such as {DEFAULT_PUSH_BRANCH} and merge its pull requests"
    )


def _images(reader: ConfigReader, images: object, prefix: str) -> tuple[ImageSpec, ...] | None:
    if isinstance(images, (str, dict)) or not isinstance(images, (list, tuple)) or not images:
        reader.invalid(f"{prefix}images", 'must be a non-empty list of {"image": ..., "semver_range": ...}')
        return None
    start, specs = len(reader.problems), []
    for index, item in enumerate(images):
        where = f"{prefix}images[{index}]"
        if not isinstance(item, Mapping):
            reader.invalid(where, 'must be a map with "image" and "semver_range"')
            continue
        _unknown_fields(reader, where, item, ImageArgs)
        specs.append(resolve_spec(ImageSpec, item, reader, prefix=f"{where}."))
    names = [s.name for s in specs if s is not None]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        reader.fail(
            f"two images would share the ImageRepository/ImagePolicy name(s) {', '.join(duplicates)}; give each a distinct \"name\" in {prefix}images"
        )
    return None if len(reader.problems) > start else tuple(s for s in specs if s is not None)


def _unknown_fields(reader: ConfigReader, where: str, value: Mapping[str, Any], typed_dict: type) -> None:
    unknown = sorted(set(value) - typed_dict.__required_keys__ - typed_dict.__optional_keys__)  # type: ignore[attr-defined]
    if unknown:
        reader.invalid(where, f"has unknown field(s) {', '.join(map(str, unknown))}", fix="remove them")


def _author(reader: ConfigReader, args: Mapping[str, Any], got: Mapping[str, Any], app_mode: bool | None, prefix: str) -> dict[str, Any]:
    """The commit author: given, or the App's bot identity, never a default account (``app_mode`` None: not known)."""
    slug, bot_id = got["github_app_slug"], got["github_app_bot_user_id"]
    if (slug is not None or bot_id is not None) and app_mode is False:
        reader.fail(f"{prefix}github_app_slug/github_app_bot_user_id apply only to GitHub App mode; give author_name and author_email")
        return {"author_name": None, "author_email": None}
    default_name, default_email = bot_author(slug, bot_id) if slug is not None else (None, None)
    given_name, given_email = args.get("author_name"), args.get("author_email")
    name = given_name if given_name is not None else default_name
    email = given_email if given_email is not None else default_email
    if name is None or email is None:
        missing = [f for f, given in (("author_name", name), ("author_email", email)) if given is None]
        where = f"{prefix.rstrip('.')} " if prefix else ""
        how = (
            f'give {where}"github_app_slug" and "github_app_bot_user_id" (gh api \'/users/<slug>[bot]\' --jq .id) '
            "so that commits come from the App's bot account, or "
            if app_mode is not False
            else ""
        )
        reader.fail(
            f"{prefix.rstrip('.') or 'image automation'} needs a commit author: {how}give {' and '.join(missing)}. There is no default: the old "
            "fluxcdbot@users.noreply.github.com belongs to a real account, which GitHub credited with the commits"
        )
        return {"author_name": None, "author_email": None}
    return {
        "author_name": reader.input(f"{prefix}author_name", name, string(v.author_name)),
        "author_email": reader.input(f"{prefix}author_email", email, string(v.author_email)),
    }


def resolve_automation(reader: ConfigReader, args: Mapping[str, Any], *, prefix: str = "", app_mode: bool | None = None) -> AutomationSpec | None:
    """The automation from its args (``prefix``: how they are named, ``image_automation.`` inside FluxGitCredentials)."""

    def derived(got: dict[str, Any]) -> dict[str, Any]:
        images = _images(reader, args.get("images"), prefix)
        values = {"images": images, **_author(reader, args, got, app_mode, prefix), "pull_secret": None}
        namespace, pull_secret, push, branch = got["namespace"], got["pull_secret_name"], got["push_branch"], got["branch"]
        if got["create_pull_secret"] and images and any(not i.public for i in images) and pull_secret is not None and namespace is not None:
            # An ImageRepository's secretRef names a Secret in its own namespace (image-reflector-controller reads it
            # there: ImageRepository spec.secretRef is a LocalObjectReference), so the pull secret must live in the
            # Flux namespace, not only in the app's.
            values["pull_secret"] = ghcr.resolve({"namespaces": [namespace], "secret_name": pull_secret}, reader)
        if isinstance(push, str) and isinstance(branch, str) and push == branch:
            reader.fail(push_branch_problem(prefix, branch))
        elif push is not None and branch is not None and (isinstance(push, pulumi.Output) or isinstance(branch, pulumi.Output)):
            # Known only later: checked then, raising the line the ConfigError would have held.
            owner = reader.owner

            def check(known: list[str], secret: bool) -> str:
                if known[0] == known[1]:
                    raise SecretChainError(f"{owner}: {push_branch_problem(prefix, known[1], secret)}")
                return known[0]

            values["push_branch"] = apply_knowing_secrecy(pulumi.Output.all(push, branch), check)
        return values

    return resolve_spec(AutomationSpec, args, reader, prefix=prefix, then=derived)


def resolve_nested(
    reader: ConfigReader,
    value: object,
    *,
    namespace: Known[str] | None,
    branch: Known[str] | None,
    source: Known[str] | None,
    app_mode: bool,
    suffix: str = "",
) -> AutomationSpec | None:
    """FluxGitCredentials' ``image_automation``: its GitRepository, branch and namespace are the credentials' own.

    ``suffix``: appended to every object name and the push branch (:func:`suffixed`; the chain's preview-base).
    """
    if not isinstance(value, Mapping):
        reader.invalid("image_automation", 'must be a map with "images"')
        return None
    start = len(reader.problems)
    _unknown_fields(reader, "image_automation", value, ImageAutomationArgs)
    context = {"namespace": Valid(namespace), "branch": Valid(branch), "git_repository_name": Valid(source)}
    spec = resolve_automation(reader, {**suffixed(value, suffix), **context}, prefix="image_automation.", app_mode=app_mode)
    return None if len(reader.problems) > start else spec


def resolve(args: FluxImageAutomationArgs, reader: ConfigReader) -> AutomationSpec | None:
    """Validate ``args`` and config into a spec; problems go to ``reader`` (None if any)."""
    return resolve_automation(reader, args)


class FluxImageAutomation(ChainComponent[AutomationSpec]):
    """Flux image automation: an ImageRepository and ImagePolicy per image, one ImageUpdateAutomation pushing to a branch.

    Private images are scanned with the GHCR pull secret, written into the Flux namespace from config
    ``namespace:imagePullSecret`` unless ``create_pull_secret`` is false.
    """

    push_branch: pulumi.Output[str]
    """Branch image updates are pushed to."""
    image_policy_names: pulumi.Output[list[str]]
    """Names of the ImagePolicies, for ``{"$imagepolicy": "<namespace>:<name>"}`` markers."""

    _moved_from: pulumi.Resource | None = None
    """The FluxGitCredentials whose children these objects were: their old URNs are aliases (private: not an output)."""

    def __init__(self, name: str, args: FluxImageAutomationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        self._build(name, validated("FluxImageAutomation", resolve, args, opts), opts)

    def child_opts(self, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        """Options of a child; built for FluxGitCredentials, also its URN as that component's child (an alias)."""
        opts = super().child_opts(depends_on)
        if self._moved_from is not None:
            opts.aliases = [pulumi.Alias(parent=self._moved_from)]
        return opts

    def _build(
        self,
        name: str,
        spec: AutomationSpec,
        opts: pulumi.ResourceOptions | None,
        source: Sequence[pulumi.Resource] = (),
        moved_from: pulumi.Resource | None = None,
    ) -> None:
        """``source``: what the ImageUpdateAutomation waits for (the GitRepository); ``moved_from``: see :attr:`_moved_from`."""
        super().__init__("secret-chain:index:FluxImageAutomation", name, None, gated(spec, opts))
        self.inherit_depends_on(opts)
        self._moved_from = moved_from
        from pulumi_kubernetes.apiextensions import CustomResource

        from secret_chain import kube

        labels = kube.labels("flux-git-credentials")
        selector: dict[str, Any] = {POLICY_LABEL: spec.name}
        pull: list[pulumi.Resource] = []
        if spec.pull_secret is not None:
            creds = spec.pull_secret
            document = creds.token.apply(
                lambda token: {".dockerconfigjson": ghcr.dockerconfigjson(creds.registry, creds.username, token)}  # type: ignore[arg-type]
            )
            pull = [
                kube.secret(
                    f"{name}-pull-secret",  # one fixed name: the Flux namespace may be another resource's output
                    name=spec.pull_secret_name,
                    namespace=spec.namespace,
                    string_data=document,
                    config_keys=(ghcr.USERNAME_KEY, ghcr.TOKEN_KEY),
                    component="image-pull-secret",
                    parent=self,
                    type_="kubernetes.io/dockerconfigjson",
                )
            ]
        policies: list[pulumi.Resource] = []
        for image in spec.images:
            repository_spec: dict[str, Any] = {"image": image.image, "interval": spec.scan_interval}
            if not image.public:
                repository_spec["secretRef"] = {"name": spec.pull_secret_name}
            repository = CustomResource(
                f"{name}-image-{image.name}-repository",
                api_version="image.toolkit.fluxcd.io/v1",
                kind="ImageRepository",
                metadata={"name": image.name, "namespace": spec.namespace, "labels": labels},
                spec=repository_spec,
                opts=self.child_opts([] if image.public else pull),
            )
            policies.append(
                CustomResource(
                    f"{name}-image-{image.name}-policy",
                    api_version="image.toolkit.fluxcd.io/v1",
                    kind="ImagePolicy",
                    metadata={"name": image.name, "namespace": spec.namespace, "labels": {**labels, **selector}},
                    spec={"imageRepositoryRef": {"name": image.name}, "policy": {"semver": {"range": image.semver_range}}},
                    opts=self.child_opts([repository]),
                )
            )
        automation = CustomResource(
            f"{name}-image-update-automation",
            api_version="image.toolkit.fluxcd.io/v1",
            kind="ImageUpdateAutomation",
            metadata={"name": spec.name, "namespace": spec.namespace, "labels": labels},
            spec={
                "interval": spec.interval,
                "policySelector": {"matchLabels": selector},
                "sourceRef": {"kind": "GitRepository", "name": spec.git_repository_name},
                "git": {
                    "checkout": {"ref": {"branch": spec.branch}},
                    "commit": {"author": {"name": spec.author_name, "email": spec.author_email}, "messageTemplate": MESSAGE_TEMPLATE},
                    "push": {"branch": spec.push_branch},
                },
                "update": {"path": spec.update_path, "strategy": "Setters"},
            },
            opts=self.child_opts(source),
        )
        # Each output waits for what it names (secret_chain._component.derived).
        self.push_branch = derived(spec.push_branch, automation)
        self.image_policy_names = derived([image.name for image in spec.images], *(policies or [automation]))
        self.register_outputs({"push_branch": self.push_branch, "image_policy_names": self.image_policy_names})
