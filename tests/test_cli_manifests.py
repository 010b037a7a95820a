"""``plan --manifests`` writes objects an API server accepts under ``kubectl apply --dry-run=server`` (issue 21, item 8).

Each manifest of each stack kind is checked against the Kubernetes OpenAPI schema (tests/schemas.py) and then against
a port of what the API server does with a v1 Secret before it stores one:

* decoding: ``data`` is ``map[string][]byte``, which Go's encoding/json reads as standard base64 ("Array and slice
  values encode as JSON arrays, except that []byte encodes as a base64-encoded string"): anything else is a 400
  ``illegal base64 data at input byte N``;
* conversion: ``stringData`` is merged over ``data`` (kubernetes pkg/apis/core/v1/conversion.go
  ``Convert_v1_Secret_To_core_Secret``: "StringData overwrites Data");
* validation: kubernetes pkg/apis/core/validation/validation.go ``ValidateSecret`` (keys ``IsConfigMapKey``, at most
  ``MaxSecretSize`` bytes, and the rules of each ``type``).

The source read is openshift/kubernetes v1.36.2 as vendored in openshift/microshift
(``deps/github.com/openshift/kubernetes/…``, mirror commit 8e16b12f). A real kube-apiserver built from it refused 8 of
the 22 objects the old manifests of production, preview-base and a PR stack hold (`illegal base64 data at input byte
0` for each Secret whose placeholders were in ``data``, `data[.dockerconfigjson]: Invalid value: "<secret contents
redacted>": invalid character '<' looking for beginning of value` for the pull secrets) and accepts all of them now.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from secret_chain.ops.cli import main
from secret_chain.ops.plan import REGISTRY_PLACEHOLDER, json_skeleton
from tests.conftest import canary_config
from tests.leaks import fragments
from tests.runtime import cli_json
from tests.schemas import validate

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "config"

# --- a port of the API server's handling of a v1 Secret ----------------------------------------------------------

MAX_SECRET_SIZE = 1 * 1024 * 1024
"""pkg/apis/core/types.go: ``const MaxSecretSize = 1 * 1024 * 1024``."""
CONFIG_MAP_KEY = re.compile(r"[-._a-zA-Z0-9]+")
"""staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go: ``configMapKeyFmt = `[-._a-zA-Z0-9]+```."""
DNS1123_SUBDOMAIN_MAX_LENGTH = 253


def is_config_map_key(key: str) -> list[str]:
    """``validation.IsConfigMapKey``: length, the character set, and ``hasChDirPrefix``."""
    errors = []
    if len(key) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errors.append(f"must be no more than {DNS1123_SUBDOMAIN_MAX_LENGTH} characters")
    if not CONFIG_MAP_KEY.fullmatch(key):
        errors.append("a valid config key must consist of alphanumeric characters, '-', '_' or '.'")
    if key == ".":
        errors.append("must not be '.'")
    elif key == "..":
        errors.append("must not be '..'")
    elif key.startswith(".."):
        errors.append("must not start with '..'")
    return errors


def _go_json_object(raw: bytes) -> str | None:
    """``json.Unmarshal(raw, &map[string]interface{}{})``: None when it succeeds (an object, or ``null``), else why not."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        return f"not JSON: {err}"
    return None if value is None or isinstance(value, dict) else f"cannot unmarshal {type(value).__name__} into map"


def secret_errors(obj: dict[str, Any]) -> list[str]:
    """What the API server refuses in a v1 Secret: decoding, then conversion, then ``ValidateSecret``'s data rules."""
    errors: list[str] = []
    data: dict[str, bytes] = {}
    for key, value in (obj.get("data") or {}).items():
        try:
            data[key] = base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError):
            errors.append(f"data[{key}]: illegal base64 data")
    for key, value in (obj.get("stringData") or {}).items():  # Convert_v1_Secret_To_core_Secret
        data[key] = str(value).encode()
    for key in data:
        errors += [f"data[{key}]: {message}" for message in is_config_map_key(key)]
    if sum(len(v) for v in data.values()) > MAX_SECRET_SIZE:
        errors.append("data: Too long")
    secret_type = obj.get("type") or ""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    required = {
        "kubernetes.io/dockercfg": [".dockercfg"],
        "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
        "kubernetes.io/tls": ["tls.crt", "tls.key"],
    }
    if secret_type == "kubernetes.io/service-account-token" and not annotations.get("kubernetes.io/service-account.name"):
        errors.append("metadata.annotations[kubernetes.io/service-account.name]: Required value")
    for key in required.get(secret_type, []):
        if key not in data:
            errors.append(f"data[{key}]: Required value")
        elif secret_type in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson") and (why := _go_json_object(data[key])):
            errors.append(f'data[{key}]: Invalid value: "<secret contents redacted>": {why}')
    if secret_type == "kubernetes.io/basic-auth" and "username" not in data and "password" not in data:
        errors += ["data[username]: Required value", "data[password]: Required value"]
    if secret_type == "kubernetes.io/ssh-auth" and not data.get("ssh-privatekey"):
        errors.append("data[ssh-privatekey]: Required value")
    return errors


def test_the_port_refuses_what_the_api_server_refused() -> None:
    """The two refusals the real server gave the old manifests, and the rules around them (so the check can fail)."""
    old_pull = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "ghcr-pull-secret"},
        "type": "kubernetes.io/dockerconfigjson",
        "stringData": {".dockerconfigjson": "<secret:namespace:imagePullSecret.username,namespace:imagePullSecret.token>"},
    }
    assert [e.split(":")[0] for e in secret_errors(old_pull)] == ["data[.dockerconfigjson]"]
    old_token = {"kind": "Secret", "metadata": {"name": "prometheus-auth"}, "data": {"PROMETHEUS_AUTH_TOKEN": "<secret:prometheus:authToken>"}}
    assert secret_errors(old_token) == ["data[PROMETHEUS_AUTH_TOKEN]: illegal base64 data"]
    assert secret_errors({"type": "kubernetes.io/dockerconfigjson", "stringData": {".dockerconfigjson": "[]"}})
    assert secret_errors({"type": "kubernetes.io/dockerconfigjson", "stringData": {"other": "{}"}}) == ["data[.dockerconfigjson]: Required value"]
    assert secret_errors({"type": "kubernetes.io/dockerconfigjson", "stringData": {".dockerconfigjson": "null"}}) == []  # Go accepts null
    assert secret_errors({"stringData": {"..x": "v", "a b": "v"}}) == [
        "data[..x]: must not start with '..'",
        "data[a b]: a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
    ]
    assert secret_errors({"type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}}) == ["data[tls.key]: Required value"]
    assert secret_errors({"data": {"k": base64.b64encode(b"v").decode()}, "stringData": {"j": "w"}}) == []


# --- the manifests of every stack kind ------------------------------------------------------------------------------

RUNS = [
    ("production", EXAMPLES / "production.json", False),
    ("preview-base", EXAMPLES / "preview.json", False),
    ("preview-pr-7", EXAMPLES / "preview.json", False),
    ("production", EXAMPLES / "production.json", True),
    ("preview-pr-7", EXAMPLES / "preview.json", True),
]


def manifests(stack: str, config: Path, preview: bool, out: Path) -> dict[str, dict[str, Any]]:
    argv = ["plan", "--stack", stack, "--config", str(config), "--manifests", str(out), *(["--preview"] if preview else [])]
    assert main(argv) == 0
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted(out.iterdir())}


@pytest.mark.parametrize(("stack", "config", "preview"), RUNS, ids=[f"{s}{'-preview' if p else ''}" for s, _, p in RUNS])
def test_every_manifest_is_valid_for_the_api_server(
    stack: str, config: Path, preview: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    objects = manifests(stack, config, preview, tmp_path / "m")
    capsys.readouterr()
    secrets = {name: obj for name, obj in objects.items() if obj["kind"] == "Secret"}
    assert secrets, "each stack writes Secrets"
    for name, obj in objects.items():
        validate(obj)  # the Kubernetes OpenAPI schema, or the CRD's
        if obj["kind"] == "Secret":
            assert secret_errors(obj) == [], name
            assert "data" not in obj or all(not str(v).startswith("<secret:") for v in obj["data"].values()), name
            keys = obj["metadata"]["annotations"]["secret-chain/config-keys"]
            assert obj["stringData"] and all(f"<secret:{keys}>" in v for v in obj["stringData"].values()), name


@pytest.mark.parametrize("preview", [False, True])
def test_the_pull_secret_is_a_docker_config_skeleton_with_its_auths(preview: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The kubelet reads ``{"auths": {registry: {username, password, auth}}}`` (kubernetes pkg/credentialprovider/config.go
    ``DockerConfigJSON``); the skeleton keeps that shape, the registry and the field names, and holds no value."""
    objects = manifests("production", EXAMPLES / "production.json", preview, tmp_path / "m")
    capsys.readouterr()
    pull = objects["secret-default-ghcr-pull-secret.yaml"]
    assert pull["type"] == "kubernetes.io/dockerconfigjson" and "data" not in pull
    document = json.loads(pull["stringData"][".dockerconfigjson"])
    placeholder = "<secret:namespace:imagePullSecret.username,namespace:imagePullSecret.token>"
    assert isinstance(document["auths"], dict)
    (registry,) = document["auths"]
    assert registry == "ghcr.io" or (preview and registry == REGISTRY_PLACEHOLDER)
    fields = document["auths"][registry]
    assert fields and set(fields.values()) == {placeholder}
    if not preview:
        assert set(fields) == {"username", "password", "auth"}


def test_a_canary_config_leaks_nothing_into_the_manifests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, secret_keys = canary_config()
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cli_json(config, secret_keys)))
    objects = manifests("production", path, False, tmp_path / "m")
    capsys.readouterr()
    text = "".join((tmp_path / "m" / name).read_text() for name in objects)
    for key in secret_keys:
        for fragment in fragments(config[key]):
            assert fragment not in text, f"{key} leaked"
    for obj in objects.values():
        validate(obj)
        if obj["kind"] == "Secret":
            assert secret_errors(obj) == []


def test_json_skeleton_keeps_keys_and_hides_every_scalar() -> None:
    real = json.dumps({"auths": {"ghcr.io": {"username": "CANARY-user", "password": "CANARY-pass", "auth": "Q0FOQVJZ", "n": 3, "l": ["CANARY"]}}})
    skeleton = json_skeleton(real, "<p>")
    assert "CANARY" not in skeleton and "Q0FOQVJZ" not in skeleton
    assert json.loads(skeleton) == {"auths": {"ghcr.io": {"username": "<p>", "password": "<p>", "auth": "<p>", "n": "<p>", "l": ["<p>"]}}}
    assert json.loads(json_skeleton("[unknown]", "<p>")) == {"auths": {REGISTRY_PLACEHOLDER: {"auth": "<p>"}}}
