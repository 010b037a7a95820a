"""FluxImageAutomation: on its own, and as FluxGitCredentials' ``image_automation`` (its child, with the URNs it had)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from secret_chain.errors import ConfigError
from secret_chain.flux import FluxGitCredentialsArgs
from secret_chain.flux_images import FluxImageAutomation, FluxImageAutomationArgs
from secret_chain.ops.offline import is_secret, unwrap
from secret_chain.validators import Invalid, image_name, semver_range
from tests.conftest import Run, config_error
from tests.leaks import find_leaks
from tests.schemas import validate
from tests.test_flux import GIT_REPOSITORY, IMAGE_AUTOMATION, PEM, SECRET, URL, app_config, automation_args, flux, outputs, token_config

IMAGE_REPOSITORY = "kubernetes:image.toolkit.fluxcd.io/v1:ImageRepository"
IMAGE_POLICY = "kubernetes:image.toolkit.fluxcd.io/v1:ImagePolicy"


def test_image_automation_objects(run: Run) -> None:
    config, secret_keys = app_config()
    ev = run(lambda: flux(automation_args()), config, secret_keys)
    for reg in ev.resources:
        validate(unwrap(reg.inputs))
    repos = {r.inputs["metadata"]["name"]: unwrap(r.inputs) for r in ev.of_type(IMAGE_REPOSITORY)}
    assert set(repos) == {"api", "web-ui"}
    assert repos["api"]["spec"] == {"image": "ghcr.io/acme/api", "interval": "5m", "secretRef": {"name": "ghcr-pull-secret"}}
    assert repos["web-ui"]["spec"] == {"image": "ghcr.io/acme/web_ui", "interval": "5m"}  # public: no secretRef
    policies = {r.inputs["metadata"]["name"]: unwrap(r.inputs) for r in ev.of_type(IMAGE_POLICY)}
    assert policies["api"]["spec"] == {"imageRepositoryRef": {"name": "api"}, "policy": {"semver": {"range": "^1.4.0"}}}
    assert policies["web-ui"]["spec"]["policy"] == {"semver": {"range": ">=2.0.0 <3.0.0"}}
    for obj in [*repos.values(), *policies.values()]:
        assert obj["apiVersion"] == "image.toolkit.fluxcd.io/v1"
        assert obj["metadata"]["namespace"] == "flux-system"
    (automation,) = ev.of_type(IMAGE_AUTOMATION)
    spec = unwrap(automation.inputs)["spec"]
    assert spec["sourceRef"] == {"kind": "GitRepository", "name": "secret-chain"}
    assert unwrap(automation.inputs)["metadata"]["name"] == "secret-chain"
    assert spec["git"]["checkout"] == {"ref": {"branch": "main"}}
    assert spec["git"]["push"] == {"branch": "flux-image-updates"}
    assert spec["git"]["commit"]["author"] == {"name": "Image Bot", "email": "images@example.com"}
    assert spec["update"] == {"path": "./clusters", "strategy": "Setters"}
    template = spec["git"]["commit"]["messageTemplate"]
    assert ".Changed.Objects" in template and ".Updated" not in template
    assert "$change.OldValue }} -> {{ $change.NewValue" in template
    (git_repo,) = ev.of_type(GIT_REPOSITORY)
    assert git_repo.urn in automation.dependencies
    names = sorted(r.name for r in ev.resources)
    assert names == [
        "flux-gitrepository",
        "flux-image-api-policy",
        "flux-image-api-repository",
        "flux-image-update-automation",
        "flux-image-web-ui-policy",
        "flux-image-web-ui-repository",
        "flux-pull-secret",
        "flux-secret",
    ]
    out = outputs(ev)
    assert out["push_branch"] == "flux-image-updates"
    assert out["image_policy_names"] == ["api", "web-ui"]
    assert find_leaks(ev, [PEM]) == []


def test_image_automation_overrides(run: Run) -> None:
    config, secret_keys = token_config()
    args: FluxGitCredentialsArgs = {
        "repository_url": URL,
        "image_automation": {
            "images": [{"image": "registry.example.com:5000/team/api", "semver_range": "~1.2", "name": "team-api"}],
            "name": "apps",
            "push_branch": "bot/images",
            "update_path": "clusters/production",
            "interval": "1h",
            "scan_interval": "10m",
            "pull_secret_name": "regcred",
            "author_name": "Image Bot",
            "author_email": "images@example.com",
        },
    }
    ev = run(lambda: flux(args), config, secret_keys)
    for reg in ev.resources:
        validate(unwrap(reg.inputs))
    (repo,) = ev.of_type(IMAGE_REPOSITORY)
    assert unwrap(repo.inputs)["spec"] == {"image": "registry.example.com:5000/team/api", "interval": "10m", "secretRef": {"name": "regcred"}}
    (automation,) = ev.of_type(IMAGE_AUTOMATION)
    obj = unwrap(automation.inputs)
    assert obj["metadata"]["name"] == "apps"
    assert obj["spec"]["interval"] == "1h"
    assert obj["spec"]["git"]["push"] == {"branch": "bot/images"}
    assert obj["spec"]["git"]["commit"]["author"] == {"name": "Image Bot", "email": "images@example.com"}
    assert obj["spec"]["update"]["path"] == "clusters/production"
    assert outputs(ev)["push_branch"] == "bot/images"


@pytest.mark.parametrize(
    ("automation", "expected"),
    [
        ({}, r'"image_automation.images" must be a non-empty list'),
        ({"images": []}, r'"image_automation.images" must be a non-empty list'),
        ({"images": [{"image": "ghcr.io/acme/api"}]}, r'"image_automation.images\[0\].semver_range" is required'),
        ({"images": [{"image": "ghcr.io/acme/api:1.2.3", "semver_range": "^1"}]}, r"images\[0\].image\" has a tag"),
        ({"images": [{"image": "ghcr.io/Acme/api", "semver_range": "^1"}]}, r"images\[0\].image\" is not a valid image"),
        ({"images": [{"image": "ghcr.io/acme/api", "semver_range": "latest"}]}, r"semver_range\" is not a semver range"),
        (
            {"images": [{"image": "ghcr.io/a/api", "semver_range": "^1"}, {"image": "ghcr.io/b/api", "semver_range": "^1"}]},
            r"share the ImageRepository/ImagePolicy name\(s\) api",
        ),
        ({"images": [{"image": "ghcr.io/acme/api", "semver_range": "^1", "tag": "x"}]}, r"unknown field\(s\) tag"),
        ({"images": [{"image": "ghcr.io/acme/api", "semver_range": "^1"}], "push_branch": "main"}, "would skip review"),
        ({"images": [{"image": "ghcr.io/acme/api", "semver_range": "^1"}], "update_path": "/abs"}, "relative path"),
        ({"images": [{"image": "ghcr.io/acme/api", "semver_range": "^1"}], "author_name": "x", "author_email": "nobody"}, "author_email"),
        ({"images": [{"image": "ghcr.io/acme/api", "semver_range": "^1"}]}, "needs a commit author: give author_name and author_email"),
        ({"images": [{"image": "ghcr.io/acme/api", "semver_range": "^1"}], "author_name": "x"}, "give author_email"),
        (
            {"images": [{"image": "ghcr.io/acme/api", "semver_range": "^1"}], "github_app_slug": "acme-flux"},
            "apply only to GitHub App mode",
        ),
    ],
)
def test_image_automation_is_validated(run: Run, automation: Any, expected: str) -> None:
    config, secret_keys = token_config()
    with pytest.raises(ConfigError, match=expected):
        run(lambda: flux({"repository_url": URL, "image_automation": automation}), config, secret_keys)


@pytest.mark.parametrize("value", ["^1.4.0", "~1.2", ">=1.0.0 <2.0.0", ">=1.0.0, <2.0.0", "1.x", "1.2 - 1.4.5", "^1 || ^2", "v1.2.3-rc.1"])
def test_semver_ranges_accepted(value: str) -> None:
    assert semver_range(value) == value


@pytest.mark.parametrize("value", ["latest", ">=", "1.2.3.4", "^1 ||", "~> x.y"])
def test_semver_ranges_refused(value: str) -> None:
    with pytest.raises(Invalid):
        semver_range(value)


@pytest.mark.parametrize("value", ["ghcr.io/acme/api", "nginx", "library/nginx", "localhost:5000/app", "ghcr.io/acme/team/api-server"])
def test_image_names_accepted(value: str) -> None:
    assert image_name(value) == value


@pytest.mark.parametrize("value", ["ghcr.io/acme/api@sha256:abc", "ghcr.io/acme/API", "ghcr.io/acme/", "ghcr.io/acme/api:v1"])
def test_image_names_refused(value: str) -> None:
    with pytest.raises(Invalid):
        image_name(value)


def test_app_mode_commits_as_the_apps_bot(run: Run) -> None:
    """<slug>[bot] and <bot user id>+<slug>[bot]@users.noreply.github.com (GitHub docs: no-reply address ID+USERNAME)."""
    config, secret_keys = app_config()
    args = automation_args()
    automation = dict(args["image_automation"])
    del automation["author_name"], automation["author_email"]
    automation.update({"github_app_slug": "acme-flux", "github_app_bot_user_id": "198765432"})
    args["image_automation"] = automation  # type: ignore[typeddict-item]
    ev = run(lambda: flux(args), config, secret_keys)
    (obj,) = [unwrap(a.inputs) for a in ev.of_type(IMAGE_AUTOMATION)]
    validate(obj)
    assert obj["spec"]["git"]["commit"]["author"] == {
        "name": "acme-flux[bot]",
        "email": "198765432+acme-flux[bot]@users.noreply.github.com",
    }


def test_no_commit_author_defaults_to_a_real_account(run: Run) -> None:
    config, secret_keys = app_config()
    args: Any = {"repository_url": URL, "image_automation": {"images": [{"image": "ghcr.io/acme/api", "semver_range": "^1"}]}}
    with pytest.raises(ConfigError) as caught:
        run(lambda: flux(args), config, secret_keys)
    text = str(caught.value)
    assert "github_app_slug" in text and "github_app_bot_user_id" in text and "fluxcdbot" in text
    args["image_automation"]["github_app_slug"] = "acme-flux"  # slug alone: the name, but no email
    with pytest.raises(ConfigError, match="give author_email"):
        run(lambda: flux(args), config, secret_keys)


# --- image automation can pull from GHCR (issue: what a real cluster does, item 9) ---------------------------------


def test_image_automation_writes_the_pull_secret_where_its_image_repositories_read_it(run: Run) -> None:
    """An ImageRepository's secretRef is a LocalObjectReference: image-reflector-controller reads the Secret in the
    ImageRepository's own namespace (image.toolkit.fluxcd.io/v1 ImageRepositorySpec.secretRef), so a pull secret in
    the app namespace alone leaves every private image unscanned."""
    config, secret_keys = app_config()
    ev = run(lambda: flux(automation_args()), config, secret_keys)
    (pull,) = [s for s in ev.of_type(SECRET) if s.name == "flux-pull-secret"]
    meta = unwrap(pull.inputs)["metadata"]
    assert (meta["namespace"], meta["name"], pull.inputs["type"]) == ("flux-system", "ghcr-pull-secret", "kubernetes.io/dockerconfigjson")
    assert is_secret(pull.inputs["stringData"])
    document = json.loads(unwrap(pull.inputs["stringData"])[".dockerconfigjson"])
    assert document["auths"]["ghcr.io"]["password"] == config["namespace:imagePullSecret.token"]
    repos = {r.inputs["metadata"]["name"]: r for r in ev.of_type(IMAGE_REPOSITORY)}
    assert unwrap(repos["api"].inputs)["spec"]["secretRef"] == {"name": meta["name"]}
    assert pull.urn in repos["api"].dependencies and pull.urn not in repos["web-ui"].dependencies  # web-ui is public
    validate(unwrap(pull.inputs))


def test_image_automation_needs_the_ghcr_credentials_for_private_images(run: Run) -> None:
    config, secret_keys = app_config()
    del config["namespace:imagePullSecret.token"]
    error = config_error(run, lambda: flux(automation_args()), config, secret_keys)
    assert 'config "namespace:imagePullSecret.token" is missing' in str(error)


def test_a_pull_secret_managed_elsewhere_or_public_images_only_write_none(run: Run) -> None:
    config, secret_keys = app_config()
    for key in ("namespace:imagePullSecret.username", "namespace:imagePullSecret.token"):
        del config[key]
    args = automation_args()
    args["image_automation"]["create_pull_secret"] = False
    ev = run(lambda: flux(args), config, secret_keys)
    assert [s.name for s in ev.of_type(SECRET)] == ["flux-secret"]
    public = automation_args()
    public["image_automation"]["images"] = [{"image": "ghcr.io/acme/web_ui", "semver_range": "^2.0.0", "public": True}]
    ev = run(lambda: flux(public), config, secret_keys)
    assert [s.name for s in ev.of_type(SECRET)] == ["flux-secret"]


# --- FluxImageAutomation on its own ----------------------------------------------------------------------------

COMPONENT = "secret-chain:index:FluxImageAutomation"
STANDALONE: FluxImageAutomationArgs = {
    "namespace": "flux",
    "git_repository_name": "cluster",
    "branch": "release",
    "images": [{"image": "ghcr.io/acme/api", "semver_range": "^1.4.0"}],
    "author_name": "Image Bot",
    "author_email": "images@example.com",
}


def images(args: FluxImageAutomationArgs) -> None:
    FluxImageAutomation("images", args)


def test_standalone_automates_the_named_git_repository(run: Run) -> None:
    config, secret_keys = token_config()
    ev = run(lambda: images(STANDALONE), config, secret_keys)
    (component,) = ev.components
    assert component.type == COMPONENT
    assert all(r.parent == component.urn for r in ev.resources)  # every child parented to it
    (automation,) = ev.of_type(IMAGE_AUTOMATION)
    spec = unwrap(automation.inputs)["spec"]
    assert spec["sourceRef"] == {"kind": "GitRepository", "name": "cluster"}
    assert spec["git"]["checkout"] == {"ref": {"branch": "release"}} and spec["git"]["push"] == {"branch": "flux-image-updates"}
    assert {unwrap(r.inputs)["metadata"]["namespace"] for r in ev.resources} == {"flux"}
    assert sorted(r.name for r in ev.resources) == [
        "images-image-api-policy",
        "images-image-api-repository",
        "images-image-update-automation",
        "images-pull-secret",
    ]
    assert ev.component_outputs[component.urn] == {"push_branch": "flux-image-updates", "image_policy_names": ["api"]}
    for reg in ev.resources:
        validate(unwrap(reg.inputs))
    assert find_leaks(ev, [config[k] for k in secret_keys]) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"push_branch": "release"}, 'push_branch is the reconciled branch "release": updates would skip review'),
        ({"branch": "a..b"}, 'FluxImageAutomation argument "branch" is not a valid Git branch name'),
        ({"images": []}, 'FluxImageAutomation argument "images" must be a non-empty list'),
        ({"images": [{"image": "ghcr.io/acme/api"}]}, r'argument "images\[0\].semver_range" is required'),
        ({"author_name": None, "author_email": None}, 'needs a commit author: give "github_app_slug" and "github_app_bot_user_id"'),
        ({"enviroment": "x"}, 'argument "enviroment" is not an argument of FluxImageAutomationArgs'),
    ],
)
def test_standalone_arguments_are_validated_by_their_own_names(run: Run, change: dict[str, Any], expected: str) -> None:
    config, secret_keys = token_config()
    args: Any = {k: v for k, v in {**STANDALONE, **change}.items() if v is not None}
    with pytest.raises(ConfigError, match=expected):
        run(lambda: images(args), config, secret_keys)


def test_standalone_takes_the_apps_bot_as_author(run: Run) -> None:
    """On its own the auth mode is not known: the App's slug is accepted (FluxGitCredentials refuses it in token mode)."""
    config, secret_keys = token_config()
    args: Any = {k: v for k, v in STANDALONE.items() if k not in ("author_name", "author_email")}
    ev = run(lambda: images({**args, "github_app_slug": "acme-flux", "github_app_bot_user_id": "198765432"}), config, secret_keys)
    (automation,) = ev.of_type(IMAGE_AUTOMATION)
    assert unwrap(automation.inputs)["spec"]["git"]["commit"]["author"]["email"] == "198765432+acme-flux[bot]@users.noreply.github.com"


# --- as FluxGitCredentials' image_automation: its child, with the URNs it had ------------------------------------


def _aliases(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Resource name → the alias specs its RegisterResource request carried (the offline monitor does not keep them)."""
    from secret_chain.ops import offline

    seen: dict[str, list[Any]] = {}
    register = offline._Monitor.RegisterResource

    def recording(self: Any, request: Any) -> Any:
        seen[request.name] = [alias.spec for alias in request.aliases] + [f"urn {u}" for u in request.aliasURNs]
        return register(self, request)

    monkeypatch.setattr(offline._Monitor, "RegisterResource", recording)
    return seen


def _as_child_of(sibling_urn: str, reg: Any) -> str:
    """The URN ``reg`` would have as a direct child of the component whose direct child ``sibling_urn`` is."""
    prefix, parent_types, _ = sibling_urn.rsplit("::", 2)
    return f"{prefix}::{parent_types.rsplit('$', 1)[0]}${reg.type}::{reg.name}"


def test_nested_automation_keeps_its_urns_through_aliases(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """The image objects were FluxGitCredentials' own children; now they are its FluxImageAutomation's. Each carries an
    alias to its old parent, under its unchanged name and type, so the engine finds the old state: no replacement."""
    aliases = _aliases(monkeypatch)
    config, secret_keys = app_config()
    ev = run(lambda: flux(automation_args()), config, secret_keys)
    by_type = {c.type: c for c in ev.components}
    credentials, automation = by_type["secret-chain:index:FluxGitCredentials"], by_type[COMPONENT]
    assert automation.parent == credentials.urn and automation.name == credentials.name == "flux"
    (own_secret,) = [r for r in ev.resources if r.name == "flux-secret"]
    moved = [r for r in ev.resources if r.parent == automation.urn]
    assert sorted(r.name for r in moved) == [
        "flux-image-api-policy",
        "flux-image-api-repository",
        "flux-image-update-automation",
        "flux-image-web-ui-policy",
        "flux-image-web-ui-repository",
        "flux-pull-secret",
    ]
    for reg in moved:
        (spec,) = aliases[reg.name]
        assert spec.parentUrn == credentials.urn and not spec.name and not spec.type and not spec.noParent, (reg.name, spec)
        # The URN that alias resolves to is the one it had as the credentials' child, next to the credentials' own Secret.
        old = _as_child_of(own_secret.urn, reg)
        assert old != reg.urn and old.endswith(f"secret-chain:index:FluxGitCredentials${reg.type}::{reg.name}")
    assert not aliases["flux-secret"] and not aliases["flux-gitrepository"]  # the credentials' own children did not move
    assert outputs(ev)["image_policy_names"] == ["api", "web-ui"]


def test_standalone_children_carry_no_alias(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    aliases = _aliases(monkeypatch)
    config, secret_keys = token_config()
    ev = run(lambda: images(STANDALONE), config, secret_keys)
    assert ev.resources and all(aliases[r.name] == [] for r in ev.resources)


def test_image_automation_inside_flux_git_credentials_is_deprecated(run: Run) -> None:
    """FluxGitCredentials is credentials and source only: its image_automation still builds (one release), with a warning."""
    config, secret_keys = token_config()
    ev = run(lambda: flux(automation_args()), config, secret_keys)
    assert [line for line in ev.logs if "image_automation is deprecated" in line and "FluxImageAutomation" in line]
    plain = run(lambda: flux(), config, secret_keys)
    assert not [line for line in plain.logs if "deprecated" in line]


# --- issue 19: secret-chain:imageAutomation, and each automation selecting its own ImagePolicies -----------------


def test_the_setting_takes_the_args_fields_but_the_per_stack_names() -> None:
    """The setting's fields are ImageAutomationArgs' own, less the names, push branch and pull secret the chain sets."""
    from secret_chain.flux_images import ImageArgs, ImageAutomationArgs
    from secret_chain.validators import IMAGE_AUTOMATION_FIELDS, IMAGE_FIELDS

    chains_own = {"name", "push_branch", "pull_secret_name", "create_pull_secret"}
    assert set(IMAGE_AUTOMATION_FIELDS) == set(ImageAutomationArgs.__annotations__) - chains_own
    assert set(IMAGE_FIELDS) == set(ImageArgs.__annotations__)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('["ghcr.io/acme/api"]', "must be an object"),
        ('{"images": [{"image": "ghcr.io/acme/api", "semver_range": "^1"}], "push_branch": "main"}', "unknown field"),
        ('{"images": [{"image": "ghcr.io/acme/api", "semver_range": "^1"}]}', "needs a commit author"),
        ('{"images": [{"image": "ghcr.io/acme/api", "semver_range": "^1", "name": "' + "a" * 56 + '"}], "github_app_slug": "x"}', "at most 55"),
        ('{"images": [{"image": "ghcr.io/a/api", "semver_range": "^1"}, {"image": "ghcr.io/b/api", "semver_range": "^2"}]}', "share"),
        ('{"images": [{"image": "ghcr.io/acme/api", "semver_range": "^1", "public": "yes"}]}', "true or false"),
    ],
)
def test_the_setting_is_refused_by_its_catalog_check(value: str, expected: str) -> None:
    from secret_chain import catalog

    with pytest.raises(Invalid, match=expected):
        catalog.IMAGE_AUTOMATION.check(value)


def test_the_setting_takes_a_numeric_bot_user_id() -> None:
    """``pulumi config set --path …github_app_bot_user_id 41898282`` stores a number ("integers are treated as numbers")."""
    from secret_chain import catalog

    text = '{"images": [{"image": "ghcr.io/acme/api", "semver_range": "^1"}], "github_app_slug": "acme-flux", "github_app_bot_user_id": 41898282}'
    assert json.loads(catalog.IMAGE_AUTOMATION.check(text))["github_app_bot_user_id"] == "41898282"


def test_each_automation_selects_only_its_own_image_policies(run: Run) -> None:
    """Without ``policySelector`` an ImageUpdateAutomation applies every ImagePolicy of its namespace
    (fluxcd/image-automation-controller api/v1/imageupdateautomation_types.go ``PolicySelector``: "By default includes
    all policies in namespace"; internal/controller/imageupdateautomation_controller.go ``getPolicies``)."""
    from secret_chain.flux_images import POLICY_LABEL

    config, secret_keys = token_config()
    ev = run(lambda: images(STANDALONE), config, secret_keys)
    (automation,) = [unwrap(a.inputs) for a in ev.of_type(IMAGE_AUTOMATION)]
    assert automation["spec"]["policySelector"] == {"matchLabels": {POLICY_LABEL: automation["metadata"]["name"]}}
    for policy in ev.of_type(IMAGE_POLICY):
        assert unwrap(policy.inputs)["metadata"]["labels"][POLICY_LABEL] == automation["metadata"]["name"]
    with pytest.raises(ConfigError, match="at most 63"):
        run(lambda: images({**STANDALONE, "name": "a" * 64}), config, secret_keys)
