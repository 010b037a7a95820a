from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from secret_chain import GhcrPullSecret
from secret_chain.errors import ConfigError
from secret_chain.ops.offline import is_secret, unwrap
from tests.conftest import Run
from tests.leaks import find_leaks
from tests.schemas import validate

SECRET = "kubernetes:core/v1:Secret"


def test_one_secret_per_namespace_with_valid_schema(run: Run, chain_config: tuple[dict[str, str], list[str]]) -> None:
    config, secret_keys = chain_config
    ev = run(lambda: GhcrPullSecret("pull", {"namespaces": ["default", "apps"]}), config, secret_keys)
    secrets = ev.of_type(SECRET)
    assert sorted(s.inputs["metadata"]["namespace"] for s in secrets) == ["apps", "default"]
    for reg in secrets:
        assert reg.inputs["metadata"]["name"] == "ghcr-pull-secret"
        assert reg.inputs["type"] == "kubernetes.io/dockerconfigjson"
        assert is_secret(reg.inputs["stringData"])
        validate(unwrap(reg.inputs))
        doc = json.loads(unwrap(reg.inputs["stringData"])[".dockerconfigjson"])
        token = config["namespace:imagePullSecret.token"]
        assert doc == {
            "auths": {
                "ghcr.io": {
                    "username": "octo-bot",
                    "password": token,
                    "auth": base64.b64encode(f"octo-bot:{token}".encode()).decode(),
                }
            }
        }
        assert reg.parent.endswith("secret-chain:index:GhcrPullSecret::pull")
    assert find_leaks(ev, [config[k] for k in secret_keys]) == []
    (component,) = ev.components
    assert component.type == "secret-chain:index:GhcrPullSecret"
    assert ev.component_outputs[component.urn]["secret_names"] == {"default": "ghcr-pull-secret", "apps": "ghcr-pull-secret"}


def test_registry_and_name_overrides_and_service_account(run: Run, chain_config: tuple[dict[str, str], list[str]]) -> None:
    config, secret_keys = chain_config
    ev = run(
        lambda: GhcrPullSecret(
            "pull",
            {
                "namespaces": ["default"],
                "registry": "registry.example.com:5000",
                "secret_name": "regcred",
                "attach_to_default_service_account": True,
            },
        ),
        config,
        secret_keys,
    )
    (secret,) = ev.of_type(SECRET)
    doc = json.loads(unwrap(secret.inputs["stringData"])[".dockerconfigjson"])
    assert list(doc["auths"]) == ["registry.example.com:5000"]
    (patch,) = ev.of_type("kubernetes:core/v1:ServiceAccountPatch")
    assert patch.inputs["metadata"] == {"name": "default", "namespace": "default"}
    assert patch.inputs["imagePullSecrets"] == [{"name": "regcred"}]
    assert secret.urn in patch.dependencies
    validate(unwrap(patch.inputs))


def test_args_win_over_config(run: Run, chain_config: tuple[dict[str, str], list[str]]) -> None:
    config, secret_keys = chain_config
    token = "ghp_" + "Z9" * 18
    ev = run(lambda: GhcrPullSecret("pull", {"namespaces": ["default"], "username": "other-user", "token": token}), config, secret_keys)
    (secret,) = ev.of_type(SECRET)
    doc = json.loads(unwrap(secret.inputs["stringData"])[".dockerconfigjson"])
    assert doc["auths"]["ghcr.io"]["username"] == "other-user"
    assert doc["auths"]["ghcr.io"]["password"] == token
    assert is_secret(secret.inputs["stringData"])
    assert find_leaks(ev, [token]) == []


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("github_pat_" + "11AB" * 20, "fine-grained personal access token"),
        ("ghs_" + "Ab12" * 9, "GitHub App installation token"),
    ],
)
def test_non_classic_tokens_are_refused_with_the_ghcr_rule(
    run: Run, chain_config: tuple[dict[str, str], list[str]], token: str, expected: str
) -> None:
    config, secret_keys = chain_config
    config["namespace:imagePullSecret.token"] = token
    with pytest.raises(ConfigError) as caught:
        run(lambda: GhcrPullSecret("pull", {"namespaces": ["default"]}), config, secret_keys)
    message = str(caught.value)
    assert expected in message
    assert "only with a classic personal access token" in message
    assert token not in message
    assert "pulumi env set acme/secret-chain/Base pulumiConfig.namespace:imagePullSecret.token --secret --string --file -" in message  # Base holds it


def test_namespaces_are_required_and_validated(run: Run, chain_config: tuple[dict[str, str], list[str]]) -> None:
    config, secret_keys = chain_config
    with pytest.raises(ConfigError, match='GhcrPullSecret argument "namespaces" is required'):
        run(lambda: GhcrPullSecret("pull", {}), config, secret_keys)
    with pytest.raises(ConfigError, match='argument "namespaces" item 1 is not a valid Kubernetes name'):
        run(lambda: GhcrPullSecret("pull", {"namespaces": ["ok", "Not_OK"]}), config, secret_keys)


def test_default_service_account_patch_never_takes_others_entries(run: Run, chain_config: tuple[dict[str, str], list[str]]) -> None:
    """imagePullSecrets is an atomic list in the Kubernetes OpenAPI: server-side apply owns it whole. The patch holds only
    our entry and is never forced (pulumi-kubernetes Patch resources: conflicts are errors unless the annotation
    pulumi.com/patchForce is set), so a list another manager set makes `pulumi up` fail rather than lose its entries."""
    import kubernetes_validate

    from tests.schemas import KUBERNETES_VERSION

    schema_dir = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"v{KUBERNETES_VERSION}.0-local-strict"
    schema = json.loads((schema_dir / "serviceaccount-v1.json").read_text())
    assert schema["properties"]["imagePullSecrets"]["x-kubernetes-list-type"] == "atomic"

    config, secret_keys = chain_config
    ev = run(lambda: GhcrPullSecret("pull", {"namespaces": ["a", "b"], "attach_to_default_service_account": True}), config, secret_keys)
    patches = ev.of_type("kubernetes:core/v1:ServiceAccountPatch")
    assert len(patches) == 2
    for patch in patches:
        obj = unwrap(patch.inputs)
        validate(obj)
        assert "pulumi.com/patchForce" not in (obj["metadata"].get("annotations") or {})
        assert obj["imagePullSecrets"] == [{"name": "ghcr-pull-secret"}]
        assert set(obj) <= {"apiVersion", "kind", "metadata", "imagePullSecrets"}  # nothing else of the SA is claimed
