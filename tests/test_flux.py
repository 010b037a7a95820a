from __future__ import annotations

import json
import re
import secrets
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from secret_chain import FluxGitCredentials
from secret_chain.errors import ConfigError
from secret_chain.flux import FluxGitCredentialsArgs, GitHubAppAuth, TokenAuth
from secret_chain.ops.offline import is_secret, unwrap
from secret_chain.validators import Invalid
from secret_chain.validators import flux_branch as git_branch
from tests.conftest import Run, rsa_pem, secret_data
from tests.leaks import find_leaks
from tests.runtime import evaluate
from tests.schemas import validate

SECRET = "kubernetes:core/v1:Secret"
GIT_REPOSITORY = "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository"
IMAGE_AUTOMATION = "kubernetes:image.toolkit.fluxcd.io/v1:ImageUpdateAutomation"
URL = "https://github.com/acme/cluster"
PEM = rsa_pem()
# GHCR credentials: image automation writes the pull secret into the Flux namespace for its private images.
GHCR = {"namespace:imagePullSecret.username": "octo-bot", "namespace:imagePullSecret.token": "ghp_" + secrets.token_hex(18)}


def token_config(key: str = "flux:githubToken") -> tuple[dict[str, str], list[str]]:
    token = "github_pat_" + secrets.token_hex(20) + "_" + secrets.token_hex(8)
    config = {"secret-chain:escEnvironment": "acme/secret-chain/Production", "kubernetes:enableSecretMutable": "true", key: token, **GHCR}
    return config, [key, "namespace:imagePullSecret.token"]


def app_config(pem: str = PEM) -> tuple[dict[str, str], list[str]]:
    config = {
        "secret-chain:escEnvironment": "acme/secret-chain/Production",
        "kubernetes:enableSecretMutable": "true",
        "flux:githubAppId": "123456",
        "flux:githubAppInstallationId": "87654321",
        "flux:githubAppPrivateKey": pem,
        **GHCR,
    }
    return config, ["flux:githubAppPrivateKey", "namespace:imagePullSecret.token"]


def automation_args() -> FluxGitCredentialsArgs:
    return {
        "repository_url": URL,
        "image_automation": {
            "author_name": "Image Bot",
            "author_email": "images@example.com",
            "images": [
                {"image": "ghcr.io/acme/api", "semver_range": "^1.4.0"},
                {"image": "ghcr.io/acme/web_ui", "semver_range": ">=2.0.0 <3.0.0", "public": True},
            ],
        },
    }


def flux(args: FluxGitCredentialsArgs | None = None) -> None:
    FluxGitCredentials("flux", args if args is not None else {"repository_url": URL})


def outputs(ev: Any) -> dict[str, Any]:
    """The FluxGitCredentials' outputs (with image automation, a FluxImageAutomation is its child)."""
    (component,) = [c for c in ev.components if c.type == "secret-chain:index:FluxGitCredentials"]
    result: dict[str, Any] = ev.component_outputs[component.urn]
    return result


def test_token_mode_secret_and_git_repository(run: Run) -> None:
    config, secret_keys = token_config()
    ev = run(flux, config, secret_keys)
    (secret,) = ev.of_type(SECRET)
    assert secret.inputs["metadata"]["name"] == "github-token"
    assert secret.inputs["metadata"]["namespace"] == "flux-system"
    assert secret.inputs["metadata"]["annotations"] == {"secret-chain/config-keys": "flux:githubToken"}
    assert is_secret(secret.inputs["data"])
    assert secret_data(secret.inputs) == {"username": "git", "password": config["flux:githubToken"]}
    (repo,) = ev.of_type(GIT_REPOSITORY)
    obj = unwrap(repo.inputs)
    assert obj["metadata"]["name"] == "secret-chain"  # never bootstrap's flux-system/flux-system
    assert obj["spec"] == {"interval": "1m", "url": URL, "ref": {"branch": "main"}, "secretRef": {"name": "github-token"}}
    assert "provider" not in obj["spec"]  # generic: plain HTTPS basic auth
    assert secret.urn in repo.dependencies
    for reg in ev.resources:
        validate(unwrap(reg.inputs))
    assert not ev.of_type(IMAGE_AUTOMATION)
    assert outputs(ev) == {
        "secret_name": "github-token",
        "git_repository_name": "secret-chain",
        "namespace": "flux-system",
        "auth_mode": "token",
        "image_policy_names": [],
    }  # push_branch is None without automation, and the engine drops None outputs
    assert find_leaks(ev, [config["flux:githubToken"]]) == []


def test_seed_alias_key_is_accepted(run: Run) -> None:
    config, secret_keys = token_config("secret-chain:github.token")
    ev = run(flux, config, secret_keys)
    (secret,) = ev.of_type(SECRET)
    assert secret_data(secret.inputs)["password"] == config["secret-chain:github.token"]
    assert outputs(ev)["auth_mode"] == "token"
    assert find_leaks(ev, [config["secret-chain:github.token"]]) == []


def test_custom_names_branch_and_interval(run: Run) -> None:
    config, secret_keys = token_config()
    args: FluxGitCredentialsArgs = {
        "repository_url": URL,
        "branch": "release/v2",
        "interval": "5m",
        "namespace": "gitops",
        "name": "cluster",
        "secret_name": "cluster-git-auth",
    }
    ev = run(lambda: flux(args), config, secret_keys)
    (secret,) = ev.of_type(SECRET)
    (repo,) = ev.of_type(GIT_REPOSITORY)
    assert secret.inputs["metadata"]["namespace"] == "gitops"
    obj = unwrap(repo.inputs)
    validate(obj)
    assert obj["metadata"] == {"name": "cluster", "namespace": "gitops", "labels": obj["metadata"]["labels"]}
    assert obj["spec"]["ref"] == {"branch": "release/v2"}
    assert obj["spec"]["interval"] == "5m"
    assert obj["spec"]["secretRef"] == {"name": "cluster-git-auth"}
    assert outputs(ev)["git_repository_name"] == "cluster"


@pytest.mark.parametrize("escaped", [False, True], ids=["multiline", "backslash-n"])
def test_github_app_mode(run: Run, escaped: bool) -> None:
    pem = PEM.replace("\n", "\\n") if escaped else PEM.strip()
    config, secret_keys = app_config(pem)
    ev = run(flux, config, secret_keys)
    (secret,) = ev.of_type(SECRET)
    assert is_secret(secret.inputs["data"])
    data = secret_data(secret.inputs)
    assert data == {"githubAppID": "123456", "githubAppInstallationID": "87654321", "githubAppPrivateKey": PEM}
    assert data["githubAppPrivateKey"].endswith("-----\n") and "\\n" not in data["githubAppPrivateKey"]
    assert secret.inputs["metadata"]["annotations"] == {
        "secret-chain/config-keys": "flux:githubAppId,flux:githubAppInstallationId,flux:githubAppPrivateKey"
    }
    (repo,) = ev.of_type(GIT_REPOSITORY)
    obj = unwrap(repo.inputs)
    assert obj["spec"]["provider"] == "github"
    assert obj["spec"]["secretRef"] == {"name": "github-token"}
    for reg in ev.resources:
        validate(unwrap(reg.inputs))
    assert outputs(ev)["auth_mode"] == "github-app"
    assert find_leaks(ev, [PEM]) == []


def test_github_app_from_args_with_enterprise_base_url(run: Run) -> None:
    args: FluxGitCredentialsArgs = {
        "repository_url": "https://ghe.example.com/acme/cluster",
        "github_app_id": "42",
        "github_app_installation_id": "7",
        "github_app_private_key": PEM,
        "github_app_base_url": "https://ghe.example.com/api/v3/",
    }
    ev = run(lambda: flux(args), {"kubernetes:enableSecretMutable": "true"}, [])
    (secret,) = ev.of_type(SECRET)
    assert secret_data(secret.inputs) == {
        "githubAppBaseURL": "https://ghe.example.com/api/v3",
        "githubAppID": "42",
        "githubAppInstallationID": "7",
        "githubAppPrivateKey": PEM,
    }
    assert is_secret(secret.inputs["data"])
    assert unwrap(ev.of_type(GIT_REPOSITORY)[0].inputs)["spec"]["provider"] == "github"
    assert find_leaks(ev, [PEM]) == []


def test_provider_is_fixed_by_the_mode() -> None:
    # The provider is a class constant of each mode, not a field: the wrong pairing cannot be constructed.
    assert TokenAuth.provider is None
    assert GitHubAppAuth.provider == "github"
    with pytest.raises(TypeError):
        TokenAuth(None, provider="github")  # type: ignore[arg-type, call-arg]
    assert "provider" not in FluxGitCredentialsArgs.__annotations__


def test_both_modes_present_is_an_error_naming_what_to_drop(run: Run) -> None:
    config, secret_keys = app_config()
    token_cfg, token_secret = token_config()
    config.update(token_cfg)
    with pytest.raises(ConfigError) as caught:
        run(flux, config, secret_keys + token_secret)
    message = str(caught.value)
    assert "both a token and a GitHub App are configured" in message
    assert 'To keep the GitHub App (recommended: 1-hour tokens, no PAT expiry), remove config "flux:githubToken"' in message
    assert 'pulumi env rm acme/secret-chain/Production pulumiConfig.flux:githubToken' in message  # its own (issue 20)
    assert 'To keep the token, remove config "flux:githubAppId"' in message
    assert "flux:githubAppPrivateKey" in message
    assert config["flux:githubToken"] not in message
    assert "BEGIN RSA PRIVATE KEY" not in message


def test_both_modes_names_the_alias_and_args(run: Run) -> None:
    config, secret_keys = token_config("secret-chain:github.token")
    args: FluxGitCredentialsArgs = {"repository_url": URL, "github_app_id": "1"}
    with pytest.raises(ConfigError) as caught:
        run(lambda: flux(args), config, secret_keys)
    message = str(caught.value)
    assert 'remove config "secret-chain:github.token"' in message
    assert 'To keep the token, remove argument "github_app_id"' in message


def test_partial_app_config_names_the_missing_keys(run: Run) -> None:
    config = {"secret-chain:escEnvironment": "acme/secret-chain/Production", "flux:githubAppId": "123456"}
    with pytest.raises(ConfigError) as caught:
        run(flux, config, [])
    message = str(caught.value)
    assert "the GitHub App config is incomplete: flux:githubAppId set but flux:githubAppInstallationId, flux:githubAppPrivateKey missing" in message
    assert 'config "flux:githubAppPrivateKey" is missing' in message
    assert 'pulumi env set acme/secret-chain/Production pulumiConfig.flux:githubAppInstallationId <installation-id>' in message  # a placeholder
    assert "to use a token (flux:githubToken) instead" in message


def test_no_credentials_lists_both_options(run: Run) -> None:
    with pytest.raises(ConfigError) as caught:
        run(flux, {"secret-chain:escEnvironment": "acme/secret-chain/Production"}, [])
    message = str(caught.value)
    assert "no Git credentials for Flux" in message
    assert "GitHub App (recommended)" in message
    for key in ("flux:githubAppId", "flux:githubAppInstallationId", "flux:githubAppPrivateKey", "flux:githubToken"):
        assert f"pulumiConfig.{key}" in message


def test_bad_app_id_and_bad_pem(run: Run) -> None:
    config, secret_keys = app_config("-----BEGIN RSA PRIVATE KEY-----\nnot-base64-at-all-but-long-enough\n-----END RSA PRIVATE KEY-----\n")
    config["flux:githubAppId"] = "my-app"
    with pytest.raises(ConfigError) as caught:
        run(flux, config, secret_keys)
    message = str(caught.value)
    assert 'config "flux:githubAppId" is not numeric' in message
    assert 'config "flux:githubAppPrivateKey" has PEM armour but does not parse' in message
    assert "not-base64-at-all-but-long-enough" not in message
    assert len(caught.value.problems) == 2


def test_numeric_app_id_argument_is_refused_not_skipped(run: Run) -> None:
    args: Any = {"repository_url": URL, "github_app_id": 123456, "github_app_installation_id": "7", "github_app_private_key": PEM}
    with pytest.raises(ConfigError, match='argument "github_app_id" must be a string, got int'):
        run(lambda: flux(args), {}, [])


def test_app_on_other_host_needs_base_url(run: Run) -> None:
    config, secret_keys = app_config()
    with pytest.raises(ConfigError, match=r"not on github\.com \(ghe\.example\.com\).*github_app_base_url"):
        run(lambda: flux({"repository_url": "https://ghe.example.com/acme/cluster"}), config, secret_keys)


def test_base_url_in_token_mode_is_an_error(run: Run) -> None:
    config, secret_keys = token_config()
    args: FluxGitCredentialsArgs = {"repository_url": URL, "github_app_base_url": "https://ghe.example.com/api/v3"}
    with pytest.raises(ConfigError, match="applies only to GitHub App mode"):
        run(lambda: flux(args), config, secret_keys)


def test_wrong_token_kind_is_refused_without_echoing_it(run: Run) -> None:
    token = "ghs_" + "Ab12" * 9
    config = {"secret-chain:escEnvironment": "acme/secret-chain/Production", "flux:githubToken": token}
    with pytest.raises(ConfigError) as caught:
        run(flux, config, ["flux:githubToken"])
    message = str(caught.value)
    assert "GitHub App installation token" in message
    assert token not in message


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, 'argument "repository_url" is required'),
        ({"repository_url": "git@github.com:acme/cluster.git"}, 'argument "repository_url" is not an https:// Git URL'),
        ({"repository_url": "https://user:pw@github.com/acme/cluster"}, 'argument "repository_url" is not an https:// Git URL'),
        ({"repository_url": URL, "namespace": "Flux_System"}, 'argument "namespace" is not a valid Kubernetes name'),
        ({"repository_url": URL, "name": "-bad"}, 'argument "name" is not a valid Kubernetes object name'),
        ({"repository_url": URL, "secret_name": "GitHub Token"}, 'argument "secret_name" is not a valid Kubernetes object name'),
        ({"repository_url": URL, "branch": "feature..x"}, 'argument "branch" is not a valid Git branch name'),
        ({"repository_url": URL, "interval": "1 minute"}, 'argument "interval" is not a duration'),
    ],
)
def test_arguments_are_validated(run: Run, args: FluxGitCredentialsArgs, expected: str) -> None:
    config, secret_keys = token_config()
    with pytest.raises(ConfigError, match=expected):
        run(lambda: flux(args), config, secret_keys)


def test_every_problem_is_reported_together(run: Run) -> None:
    args: Any = {
        "repository_url": "http://github.com/acme/cluster",
        "namespace": "BAD",
        "image_automation": {"images": [{"image": "ghcr.io/acme/api", "semver_range": "nope"}], "author_name": "a", "author_email": "a@example.com"},
    }
    with pytest.raises(ConfigError) as caught:
        run(lambda: flux(args), {"secret-chain:escEnvironment": "acme/secret-chain/Production", "kubernetes:enableSecretMutable": "true"}, [])
    problems = caught.value.problems
    assert len(problems) == 4
    assert any("repository_url" in p for p in problems)
    assert any("namespace" in p for p in problems)
    assert any("no Git credentials" in p for p in problems)
    assert any("semver_range" in p for p in problems)


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_nothing_is_registered_on_error(preview: bool) -> None:
    config, secret_keys = app_config()
    config["flux:githubToken"] = "ghp_" + secrets.token_hex(18)
    caught: list[ConfigError] = []

    def program() -> None:
        try:
            flux(automation_args())
        except ConfigError as err:
            caught.append(err)

    ev = evaluate(program, config=config, secret_keys=[*secret_keys, "flux:githubToken"], preview=preview)
    assert len(caught) == 1
    assert [r.type for r in ev.registrations] == ["pulumi:pulumi:Stack"]


def test_outputs_and_inputs_are_deterministic() -> None:
    config, secret_keys = app_config()
    runs = [evaluate(lambda: flux(automation_args()), config=config, secret_keys=secret_keys) for _ in range(2)]
    first, second = ({r.name: unwrap(r.inputs) for r in ev.resources} for ev in runs)
    assert first == second
    assert sorted(reg.name for reg in runs[0].resources if reg.type == SECRET) == ["flux-pull-secret", "flux-secret"]
    assert runs[0].component_outputs == runs[1].component_outputs


def test_leaks_across_everything_observable(run: Run) -> None:
    config, secret_keys = token_config()
    ev = run(lambda: flux(automation_args()), config, secret_keys)
    assert find_leaks(ev, [config[k] for k in secret_keys]) == []
    # And the secret really is there, as a secret, so the scan above had something to miss.
    (secret,) = [s for s in ev.of_type(SECRET) if s.name == "flux-secret"]
    assert is_secret(secret.inputs["data"])
    assert config["flux:githubToken"] in secret_data(secret.inputs).values()


@pytest.mark.parametrize("value", ["main", "flux-image-updates", "release/v2"])
def test_branches_accepted(value: str) -> None:
    assert git_branch(value) == value


@pytest.mark.parametrize("value", ["-x", "a b", "a..b", "a.lock", "a/", "a:b", "@"])
def test_branches_refused(value: str) -> None:
    with pytest.raises(Invalid):
        git_branch(value)


# --- issue 12: Flux install modes, commit author, the seed guide's key ------------------------------------------

BOOTSTRAP_OBJECTS = {
    ("GitRepository", "flux-system", "flux-system"),
    ("Kustomization", "flux-system", "flux-system"),
    ("Secret", "flux-system", "flux-system"),
}
"""What flux bootstrap creates and manages from Git (fluxcd/flux2 pkg/manifestgen/sync/sync.go; cmd/flux/bootstrap.go
--secret-name default flux-system)."""


def _emitted(ev: Any) -> set[tuple[str, str, str]]:
    out = set()
    for reg in ev.resources:
        obj = unwrap(reg.inputs)
        meta = obj.get("metadata") or {}
        if "kind" in obj or reg.type == SECRET:
            out.add((obj.get("kind", "Secret"), meta.get("namespace", ""), meta.get("name", "")))
    return out


@pytest.mark.parametrize("install", [None, "standalone", "bootstrap"])
@pytest.mark.parametrize("mode", ["token", "app"])
def test_no_object_takes_bootstraps_name_unless_asked(run: Run, install: str | None, mode: str) -> None:
    config, secret_keys = token_config() if mode == "token" else app_config()
    args = automation_args()
    if install is not None:
        args["flux_install"] = install  # type: ignore[typeddict-item]
    ev = run(lambda: flux(args), config, secret_keys)
    emitted = _emitted(ev)
    assert not {(ns, name) for _, ns, name in emitted} & {(ns, name) for _, ns, name in BOOTSTRAP_OBJECTS}
    for reg in ev.resources:
        validate(unwrap(reg.inputs))


def test_bootstrap_mode_writes_only_the_credentials_and_uses_bootstraps_source(run: Run) -> None:
    config, secret_keys = app_config()
    args = automation_args()
    args["flux_install"] = "bootstrap"
    ev = run(lambda: flux(args), config, secret_keys)
    assert not ev.of_type(GIT_REPOSITORY)  # bootstrap's own GitRepository stays kustomize-controller's
    (secret,) = [s for s in ev.of_type(SECRET) if s.name == "flux-secret"]
    assert secret.inputs["metadata"]["name"] == "github-token"
    (automation,) = ev.of_type(IMAGE_AUTOMATION)
    assert unwrap(automation.inputs)["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "flux-system"}
    assert outputs(ev)["git_repository_name"] == "flux-system"


def test_bootstraps_name_only_when_asked_explicitly(run: Run) -> None:
    """A cluster Flux was installed on without bootstrap may keep the old flux-system name: by asking for it."""
    config, secret_keys = token_config()
    ev = run(lambda: flux({"repository_url": URL, "name": "flux-system"}), config, secret_keys)
    (repo,) = ev.of_type(GIT_REPOSITORY)
    assert repo.inputs["metadata"]["name"] == "flux-system"


def test_flux_install_is_validated(run: Run) -> None:
    config, secret_keys = token_config()
    with pytest.raises(ConfigError, match='"flux_install" must be one of bootstrap, standalone'):
        run(lambda: flux({"repository_url": URL, "flux_install": "helm"}), config, secret_keys)  # type: ignore[typeddict-item]


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
@pytest.mark.parametrize("project", ["oceanid-cluster", "secret-chain"])
def test_seed_guides_project_key_is_accepted_with_a_deprecation_note(preview: bool, project: str) -> None:
    """The guide sets the bare name github.token, stored as <project>:github.token (pulumi/pulumi's config command,
    parseConfigKey: a key without a namespace is the project's)."""
    config, secret_keys = token_config(f"{project}:github.token")
    ev = evaluate(flux, config=config, secret_keys=secret_keys, preview=preview, project=project)
    (secret,) = ev.of_type(SECRET)
    assert secret_data(secret.inputs)["password"] == config[f"{project}:github.token"]
    assert [line for line in ev.logs if f'"{project}:github.token" is deprecated' in line and "flux:githubToken" in line]
    assert find_leaks(ev, [config[f"{project}:github.token"]]) == []


def test_another_projects_github_token_is_not_read(run: Run) -> None:
    config, secret_keys = token_config("other-project:github.token")
    with pytest.raises(ConfigError, match="no Git credentials"):
        evaluate(flux, config=config, secret_keys=secret_keys, project="oceanid-cluster")


# --- issue 19 item 3: the README's `flux bootstrap` step keeps the cluster's own source syncing ------------------

FLUX_PAGE = Path(__file__).resolve().parent.parent / "docs" / "reference" / "flux-git-credentials.md"


def bootstrap_sync_url(command: str, owner: str, repository: str) -> str:
    """The URL ``flux bootstrap github`` writes into GitRepository ``flux-system``: HTTPS with ``--token-auth``, else SSH.

    fluxcd/flux2 cmd/flux/bootstrap_github.go: ``if bootstrapArgs.tokenAuth { … WithSyncTransportType("https") }``;
    pkg/bootstrap/bootstrap_provider.go: ``syncTransportType: "ssh"`` by default, and ``ReconcileSyncConfig`` sets
    ``options.URL`` from ``getCloneURL(repository, syncTransportType)`` (go-git-providers: ``ssh://git@github.com/…``).
    """
    words = command.split()
    if "--token-auth" in words or "--token-auth=true" in words:
        return f"https://github.com/{owner}/{repository}.git"
    return f"ssh://git@github.com/{owner}/{repository}"


def source_controller_auth(url: str, data: dict[str, str], provider: str | None) -> str | None:
    """The error source-controller's GitRepository reconciler stops with while building its auth, or None.

    A port of ``getAuthOpts`` (fluxcd/source-controller internal/controller/gitrepository_controller.go): first
    ``git.NewAuthOptions(url, secret.Data)`` (fluxcd/pkg git/options.go), whose ``Validate`` for the ``ssh`` transport
    requires ``host``, ``identity`` and ``known_hosts``, and for http(s) a ``password`` only with a ``username``; only
    then the ``provider`` switch, where ``github`` needs GitHub App data in the Secret ("secretRef with github app data
    must be specified when provider is set to github"; fluxcd/pkg auth/githubapp: ``githubAppID``, and
    ``githubAppInstallationID`` or ``githubAppInstallationOwner``, and ``githubAppPrivateKey``).
    """
    from urllib.parse import urlsplit

    transport = urlsplit(url).scheme
    if transport == "ssh":
        for needed in ("identity", "known_hosts"):
            if not data.get(needed):
                return f"failed to configure authentication options: invalid 'ssh' auth option: '{needed}' is required"
    elif transport in ("https", "http"):
        if data.get("password") and not data.get("username"):
            return f"invalid '{transport}' auth option: 'password' requires 'username' to be set"
    else:
        return f"unknown transport '{transport}'"
    if provider == "github":
        app = data.get("githubAppID") and (data.get("githubAppInstallationID") or data.get("githubAppInstallationOwner"))
        if not (app and data.get("githubAppPrivateKey")):
            return "secretRef with github app data must be specified when provider is set to github"
    elif not (data.get("password") or data.get("identity") or data.get("bearerToken")):
        return "no credentials: a private repository answers 'authentication required'"
    return None


def _readme_bootstrap_step() -> tuple[str, str]:
    """(the `flux bootstrap github` command, the kustomization patch) the FluxGitCredentials page's bootstrap install mode documents."""
    text = FLUX_PAGE.read_text(encoding="utf-8")
    start = text.index('- `flux_install: "bootstrap"`')
    section = text[start : text.index("\n**", start)]
    (shell,) = re.findall(r"```sh\n(.*?)```", section, re.S)
    command = " ".join(line.strip().rstrip("\\").strip() for line in shell.splitlines() if line.strip())
    (patch_yaml,) = re.findall(r"```yaml\n(.*?)```", section, re.S)
    return command, textwrap.dedent(patch_yaml)


def _apply(document: dict[str, Any], operations: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 6902 ``add``/``replace`` on an object path (what kustomize's JSON6902 patches do with these ops)."""
    out = json.loads(json.dumps(document))
    for op in operations:
        *parents, last = op["path"].strip("/").split("/")
        target = out
        for name in parents:
            target = target[name]
        assert op["op"] in ("add", "replace") and (op["op"] == "add" or last in target), op
        target[last] = op["value"]
    return out


@pytest.mark.parametrize("mode", ["github-app", "token"])
def test_the_readme_bootstrap_step_keeps_flux_system_syncing(run: Run, mode: str) -> None:
    """Issue 19: bootstrap as the README says, patch GitRepository ``flux-system`` as it says, and source-controller
    still builds its auth from the Secret FluxGitCredentials writes (the App's, or the token's)."""
    command, patch_yaml = _readme_bootstrap_step()
    assert command.startswith("flux bootstrap github ")
    (entry,) = yaml.safe_load(patch_yaml)["patches"]
    assert entry["target"] == {"kind": "GitRepository", "name": "flux-system"}
    chunks = re.split(r"(?m)^(?=- op:)", entry["patch"])  # each operation with its own comment
    operations = [(yaml.safe_load(chunk)[0], "GitHub App keys only" in chunk) for chunk in chunks if chunk.strip()]
    # What bootstrap generates (fluxcd/flux2 pkg/manifestgen/sync/sync.go Generate; --secret-name defaults to flux-system).
    generated = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "flux-system", "namespace": "flux-system"},
        "spec": {
            "interval": "1m0s",
            "ref": {"branch": "main"},
            "secretRef": {"name": "flux-system"},
            "url": bootstrap_sync_url(command, "acme", "cluster"),
        },
    }
    config, secret_keys = app_config() if mode == "github-app" else token_config()
    ev = run(lambda: flux({"repository_url": URL, "flux_install": "bootstrap"}), config, secret_keys)
    (secret,) = ev.of_type(SECRET)
    patched = _apply(generated, [op for op, app_only in operations if mode == "github-app" or not app_only])
    assert patched["spec"]["secretRef"]["name"] == secret.inputs["metadata"]["name"]
    data = secret_data(secret.inputs)
    assert source_controller_auth(patched["spec"]["url"], data, patched["spec"].get("provider")) is None
    # The rule the step rests on: the same patch on bootstrap's default (SSH) URL stops the sync.
    ssh = {**patched, "spec": {**patched["spec"], "url": bootstrap_sync_url("flux bootstrap github", "acme", "cluster")}}
    assert "'identity' is required" in str(source_controller_auth(ssh["spec"]["url"], data, ssh["spec"].get("provider")))
