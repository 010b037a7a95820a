"""Rotation without downtime (issue 5): in-place updates, rollout triggers that reveal nothing, the
Prometheus two-phase rotation, and a documented rotation path for every secret.

The in-place test iterates the catalog: a new secret key fails ``test_every_secret_key_has_a_value_generator``
until it is given a generator here, and is then covered by every test below.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from secret_chain import CertManagerDnsIssuer, FluxGitCredentials, GhcrPullSecret, GrafanaOAuth, PrometheusAuth, SecretChain, catalog
from secret_chain.kube import canonical_json, rollout_annotation_key, rollout_digest
from secret_chain.ops import inventory, plan, runbook
from secret_chain.ops.cli import main as cli
from secret_chain.ops.offline import Evaluation, Registration, is_secret, redact, unwrap
from secret_chain.program import main as program
from tests import policies
from tests.conftest import Run, config_error, rsa_pem, secret_data
from tests.leaks import find_leaks
from tests.runtime import evaluate
from tests.test_chain import full_config

ROOT = Path(__file__).resolve().parent.parent
SECRET = "kubernetes:core/v1:Secret"
MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
PR_STACK = "preview-pr-42"
APP_NAMESPACE = {"production": "default", PR_STACK: PR_STACK}

# --- a second valid value for every secret key ------------------------------------------------------

VALUES: dict[str, Callable[[], str]] = {
    "namespace:imagePullSecret.token": lambda: "ghp_" + secrets.token_hex(18),
    "prometheus:authToken": lambda: secrets.token_hex(32),
    "prometheus:previousAuthToken": lambda: secrets.token_hex(32),
    "ci:pulumiFallbackAccessToken": lambda: "pul-" + secrets.token_hex(20),
    "ci:githubAppPrivateKey": rsa_pem,
    "flux:githubToken": lambda: "github_pat_" + secrets.token_hex(30),
    "flux:githubAppPrivateKey": rsa_pem,
    "gateway:digitaloceanDnsToken": lambda: "dop_v1_" + secrets.token_hex(32),
    "digitalocean:token": lambda: "dop_v1_" + secrets.token_hex(32),
    "grafana:githubClientId": lambda: "Ov23li" + secrets.token_hex(7),
    "grafana:githubClientSecret": lambda: secrets.token_hex(20),
    "grafana:smtpHost": lambda: f"smtp-{secrets.token_hex(4)}.example.net",
    "grafana:smtpUser": lambda: f"alerts-{secrets.token_hex(4)}@example.com",
    "grafana:smtpPassword": lambda: secrets.token_hex(8),
    "github:token": lambda: "github_pat_" + secrets.token_hex(30),
    "secret-chain:rolloutKey": lambda: secrets.token_hex(32),
}
SECRET_KEYS = [k.key for k in catalog.KEYS if k.secret and not k.deprecated]
"""Deprecated keys (issue 14) are read only to warn: nothing holds them, so there is nothing to rotate."""
FLUX_APP_KEYS = ("flux:githubAppId", "flux:githubAppInstallationId", "flux:githubAppPrivateKey")
STARTUP_PARTS = {"PrometheusAuth": "prometheus-auth", "GrafanaOAuth": "grafana-oauth"}
"""Parts whose Secret is read at start-up (env vars) → the Secret their rollout annotation covers."""


def _variant(key: str) -> str:
    """Which base config puts ``key`` to use: Flux by token for its token, a rotation in progress for the previous token."""
    return {
        "flux:githubToken": "flux-token",
        "prometheus:previousAuthToken": "rotating",
        "ci:pulumiFallbackAccessToken": "pulumi-fallback",
    }.get(key, "default")


@cache
def _base(variant: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The full chain config (every secret a fresh canary, provider tokens included) of one variant, frozen."""
    config, secret_keys = full_config()
    for key in ("digitalocean:token", "github:token"):
        config[key] = VALUES[key]()
        secret_keys.append(key)
    if variant == "flux-token":
        for app_key in FLUX_APP_KEYS:
            config.pop(app_key)
        secret_keys = [k for k in secret_keys if k not in FLUX_APP_KEYS]
    if variant == "pulumi-fallback":  # the opt-in stored-token fallback (issue 14)
        config["ci:pulumiAuth"] = "stored-token-fallback"
    if variant in ("flux-token", "rotating", "pulumi-fallback"):
        key = {"flux-token": "flux:githubToken", "rotating": "prometheus:previousAuthToken"}.get(variant, "ci:pulumiFallbackAccessToken")
        config[key] = VALUES[key]()
        secret_keys.append(key)
    return tuple(config.items()), tuple(secret_keys)


@cache
def _evaluation(variant: str, stack: str, preview: bool) -> Evaluation:
    config, secret_keys = _base(variant)
    return evaluate(program, config=dict(config), secret_keys=list(secret_keys), stack=stack, preview=preview)


@dataclass
class Pair:
    """The same stack evaluated with one secret at value A, then at value B."""

    a: Evaluation
    b: Evaluation
    values: tuple[str, str]
    config: dict[str, str]


def _pair(key: str, stack: str, preview: bool) -> Pair:
    frozen, secret_keys = _base(_variant(key))
    config = dict(frozen)
    new = VALUES[key]()
    assert new != config[key] and catalog.get(key).check(new)
    b = evaluate(program, config={**config, key: new}, secret_keys=list(secret_keys), stack=stack, preview=preview)
    return Pair(_evaluation(_variant(key), stack, preview), b, (config[key], new), config)


def _identity(reg: Registration) -> tuple[str, str, str, str, str]:
    return (reg.type, reg.name, reg.urn, reg.parent, reg.provider)


def _content(reg: Registration) -> Any:
    """What a Secret or GitHub secret holds (unwrapped), or None for other resources."""
    if reg.type == SECRET:
        return secret_data(reg.inputs)
    if reg.type.startswith("github:"):
        return unwrap(reg.inputs.get("value"))
    return None


def _object_name(reg: Registration) -> str:
    """How the derived flows (secret_chain.ops.plan.flows_to) name the object: a PR stack's name as preview-pr-<N>."""
    if reg.type == SECRET:
        return f"/{reg.inputs['metadata']['name'].replace(PR_STACK, 'preview-pr-<N>')} ["
    return f"GitHub Actions secret {reg.inputs.get('secretName')}"


def _holds(reg: Registration, key: str) -> bool:
    """Whether the chain's own record says ``reg`` carries ``key`` (config-keys annotation, GitHub secret name)."""
    if reg.type == SECRET:
        return key in str(reg.inputs["metadata"].get("annotations", {}).get("secret-chain/config-keys", "")).split(",")
    from secret_chain.github_actions import BY_GITHUB_NAME

    entry = BY_GITHUB_NAME.get(str(reg.inputs.get("secretName")))
    return reg.type.startswith("github:") and entry is not None and entry.config_key == key


CASES = [(key, stack, preview) for key in SECRET_KEYS for stack, preview in (("production", False), ("production", True), (PR_STACK, False))]


def test_every_secret_key_has_a_value_generator() -> None:
    assert sorted(VALUES) == sorted(SECRET_KEYS), "give each new secret key of the catalog a generator of valid values"


@pytest.mark.parametrize(("key", "stack", "preview"), CASES, ids=[f"{k}-{s}-{'preview' if p else 'update'}" for k, s, p in CASES])
def test_a_new_value_is_an_in_place_update_of_exactly_the_objects_that_hold_it(key: str, stack: str, preview: bool) -> None:
    pair = _pair(key, stack, preview)
    a, b = pair.a, pair.b
    # 1. The same registrations: nothing is created, deleted, renamed, re-parented or moved to another provider.
    #    (The engine matches resources by URN; the order of the RPCs follows asyncio scheduling, so compare by URN.)
    by_urn_a, by_urn_b = sorted(a.registrations, key=lambda r: r.urn), sorted(b.registrations, key=lambda r: r.urn)
    assert [_identity(r) for r in by_urn_a] == [_identity(r) for r in by_urn_b]
    # 2. Only secret-marked values differ: names, types, labels, annotations, specs are identical, and nothing
    #    asks for a replacement (no immutable, no delete-before-replace).
    for ra, rb in zip(by_urn_a, by_urn_b, strict=True):
        assert redact(ra.inputs) == redact(rb.inputs), ra.urn
        assert ra.dependencies == rb.dependencies and not ra.delete_before_replace and not rb.delete_before_replace
        assert "immutable" not in ra.inputs
    # 3. The objects whose content changed are exactly those that hold the key, and the catalog names each.
    changed = [ra for ra, rb in zip(by_urn_a, by_urn_b, strict=True) if ra.custom and _content(ra) != _content(rb)]
    holders = [r for r in by_urn_a if r.custom and _holds(r, key)]
    assert [r.urn for r in changed] == [r.urn for r in holders]
    flows_to = plan.flows_to(catalog.get(key))
    for reg in changed:
        assert _object_name(reg) in flows_to, f"{key}: the derived flows do not name {reg.urn}"
    if stack == "production" and "provider config" not in flows_to and key != "secret-chain:rolloutKey":
        assert changed, f"{key}: the production chain consumes it, yet nothing changed"
    # 4. Rollout triggers: a start-up consumer's annotation changes exactly when its Secret's data (or the key) does.
    rollout_a, rollout_b = a.stack_outputs["rolloutAnnotations"], b.stack_outputs["rolloutAnnotations"]
    assert not is_secret(rollout_a) and not is_secret(rollout_b)
    assert set(rollout_a) == set(rollout_b) <= set(STARTUP_PARTS)
    changed_names = {r.inputs["metadata"]["name"] for r in changed if r.type == SECRET}
    for part, secret_name in STARTUP_PARTS.items():
        if part not in rollout_a:
            continue
        expected = secret_name in changed_names or key == "secret-chain:rolloutKey"
        assert (rollout_a[part] != rollout_b[part]) == expected, (part, key)
    # Everything else the stack exports, and every component output but the triggers, stays the same.
    assert {k: v for k, v in a.stack_outputs.items() if k != "rolloutAnnotations"} == {
        k: v for k, v in b.stack_outputs.items() if k != "rolloutAnnotations"
    }
    for urn, outputs in a.component_outputs.items():
        strip = {k: v for k, v in outputs.items() if k != "rollout_annotations"}
        assert strip == {k: v for k, v in b.component_outputs[urn].items() if k != "rollout_annotations"}, urn
    # 5. Neither value shows up anywhere outside a secret.
    assert find_leaks(b, [*pair.values, pair.config["secret-chain:rolloutKey"]]) == []


def test_stack_files_turn_on_in_place_secret_updates() -> None:
    """The default provider of every stack updates Secrets in place (without the flag it deletes and re-creates them)."""
    for stack in ("production", "preview-base", "preview-pr"):
        document = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
        assert document["config"]["kubernetes:enableSecretMutable"] == "true", stack


# --- rollout triggers reveal nothing -----------------------------------------------------------------

LOW_ENTROPY = "password1"


def _plain_hashes(text: str) -> set[str]:
    out = set()
    for algorithm in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512", "blake2b", "sha3_256"):
        digest = hashlib.new(algorithm, text.encode()).digest()
        out |= {
            digest.hex(),
            digest.hex().upper(),
            base64.b64encode(digest).decode(),
            base64.urlsafe_b64encode(digest).decode().rstrip("="),
        }
    return out


GRAFANA_CONFIG = full_config()


def _grafana_with(password: str, rollout_key: str, namespace: str = "monitoring") -> tuple[Evaluation, dict[str, str], str]:
    """GrafanaOAuth on one fixed config, but for its SMTP password, rollout key and namespace."""
    config, secret_keys = dict(GRAFANA_CONFIG[0]), GRAFANA_CONFIG[1]
    config["grafana:smtpPassword"] = password
    config["secret-chain:rolloutKey"] = rollout_key
    ev = evaluate(lambda: GrafanaOAuth("grafana", {"namespace": namespace, "domain": "example.com"}), config=config, secret_keys=secret_keys)
    (component,) = ev.components
    (secret,) = ev.of_type(SECRET)
    ((annotation, digest),) = ev.component_outputs[component.urn]["rollout_annotations"].items()
    assert annotation == "secret-chain/rollout-hmac-sha256-grafana-oauth"
    return ev, secret_data(secret.inputs), digest


def test_the_trigger_of_a_low_entropy_secret_is_no_plain_hash() -> None:
    key = secrets.token_hex(32)
    ev, data, digest = _grafana_with(LOW_ENTROPY, key)
    assert data["GF_SMTP_PASSWORD"] == LOW_ENTROPY
    candidates = [
        LOW_ENTROPY,
        json.dumps(data),
        json.dumps(data, sort_keys=True),
        canonical_json(data),
        canonical_json({"data": data, "name": "grafana-oauth", "namespace": "monitoring"}),
        "".join(f"{k}={v}\n" for k, v in sorted(data.items())),
    ]
    plain = set().union(*(_plain_hashes(c) for c in candidates))
    assert digest not in plain
    # Nor an HMAC with a guessable key.
    message = canonical_json({"data": data, "name": "grafana-oauth", "namespace": "monitoring"}).encode()
    assert digest not in {hmac.new(k, message, hashlib.sha256).hexdigest() for k in (b"", LOW_ENTROPY.encode(), b"grafana-oauth")}
    # It is the keyed HMAC of the Secret's namespace, name and data (so the test above can fail).
    assert digest == rollout_digest(key, "monitoring", "grafana-oauth", data)
    assert digest == hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
    assert find_leaks(ev, [LOW_ENTROPY, key]) == []


def test_the_trigger_changes_with_the_key_the_value_and_the_secrets_place() -> None:
    key = secrets.token_hex(32)
    _, _, digest = _grafana_with(LOW_ENTROPY, key)
    assert _grafana_with(LOW_ENTROPY, key)[2] == digest  # deterministic
    assert _grafana_with(LOW_ENTROPY, secrets.token_hex(32))[2] != digest
    assert _grafana_with("password2", key)[2] != digest
    assert _grafana_with(LOW_ENTROPY, key, namespace="grafana")[2] != digest


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_the_rollout_key_stays_secret_and_the_triggers_stay_plain(preview: bool) -> None:
    config, secret_keys = full_config()
    ev = evaluate(program, config=config, secret_keys=secret_keys, stack="production", preview=preview)
    rollouts = ev.stack_outputs["rolloutAnnotations"]
    assert not is_secret(rollouts) and set(rollouts) == set(STARTUP_PARTS)
    for part, triggers in rollouts.items():
        assert list(triggers) == [rollout_annotation_key(STARTUP_PARTS[part])]
        assert all(len(v) == 64 and int(v, 16) >= 0 for v in triggers.values())
    assert find_leaks(ev, [config[k] for k in secret_keys]) == []


def test_long_secret_names_give_valid_distinct_annotation_keys() -> None:
    a, b = rollout_annotation_key("x" * 60 + "-a"), rollout_annotation_key("x" * 60 + "-b")
    for key in (a, b, rollout_annotation_key("grafana-oauth")):
        prefix, name = key.split("/")
        assert prefix == "secret-chain" and len(name) <= 63 and name[0].isalnum() and name[-1].isalnum()
    assert a != b


@dataclass
class _Args:
    resource_type: str
    props: Any
    name: str = "api"
    urn: str = "urn:pulumi:production::secret-chain::kubernetes:apps/v1:Deployment::api"
    provider: Any = None


def test_the_triggers_pass_the_no_secret_looking_metadata_policy() -> None:
    """Put where users put them (and on the Deployment itself), the triggers are not taken for tokens."""
    pack = policies.load()
    config, secret_keys = full_config()
    rollouts = evaluate(program, config=config, secret_keys=secret_keys).stack_outputs["rolloutAnnotations"]
    annotations = {k: v for part in rollouts.values() for k, v in part.items()}
    deployment = {
        "metadata": {"name": "api", "namespace": "default", "annotations": annotations},
        "spec": {"template": {"metadata": {"annotations": annotations}}},
    }
    found: list[str] = []
    pack.validate_no_secret_metadata(_Args("kubernetes:apps/v1:Deployment", deployment), lambda message, urn=None: found.append(message))
    assert found == []
    # The key is what earns the exemption: the same digest under a key that does not say "digest" is flagged.
    digest = next(iter(annotations.values()))
    renamed = {"metadata": {"name": "api", "annotations": {"secret-chain/rollout": digest}}}
    pack.validate_no_secret_metadata(_Args("kubernetes:apps/v1:Deployment", renamed), lambda message, urn=None: found.append(message))
    assert len(found) == 1 and "long hex" in found[0]


# --- Prometheus: keep the old token valid during the switch -----------------------------------------


@dataclass(frozen=True)
class PromState:
    """What one `pulumi up` of a PrometheusAuth leaves: the app's env, the token Prometheus sends, the monitor object."""

    app_env: dict[str, str]
    monitor_token: str
    monitor: dict[str, Any]
    urns: tuple[str, ...]
    rollout: dict[str, str]
    app_config_keys: str


def _prom_state(run: Run, config: dict[str, str], secret_keys: list[str], namespace: str, monitor_namespace: str) -> PromState:
    ev = run(lambda: PrometheusAuth("metrics", {"namespace": namespace, "monitor_namespace": monitor_namespace}), config, secret_keys)
    secrets_ = {(s.inputs["metadata"]["namespace"], s.inputs["metadata"]["name"]): s for s in ev.of_type(SECRET)}
    app = secrets_[namespace, "prometheus-auth"]
    (monitor,) = ev.of_type(MONITOR)
    credentials = unwrap(monitor.inputs)["spec"]["endpoints"][0]["authorization"]["credentials"]
    monitor_secret = secrets_[monitor_namespace, credentials["name"]]
    assert "data" in app.inputs and "stringData" not in app.inputs, "keys that come and go must be written as data"
    (component,) = ev.components
    assert find_leaks(ev, [config[k] for k in secret_keys]) == []
    return PromState(
        app_env=secret_data(app.inputs),
        monitor_token=secret_data(monitor_secret.inputs)[credentials["key"]],
        monitor=unwrap(monitor.inputs),
        urns=tuple(sorted(r.urn for r in ev.registrations)),
        rollout=ev.component_outputs[component.urn]["rollout_annotations"],
        app_config_keys=app.inputs["metadata"]["annotations"]["secret-chain/config-keys"],
    )


def accepts(app_env: dict[str, str], token: str) -> bool:
    """The app's check: the bearer token matches PROMETHEUS_AUTH_TOKEN or, during a rotation, PROMETHEUS_AUTH_TOKEN_PREVIOUS."""
    return token in {app_env.get("PROMETHEUS_AUTH_TOKEN"), app_env.get("PROMETHEUS_AUTH_TOKEN_PREVIOUS")} - {None}


@pytest.mark.parametrize("monitor_namespace", ["monitoring", "default"], ids=["own-monitor-namespace", "same-namespace"])
def test_two_phase_rotation_keeps_every_scrape_working(run: Run, chain_config: tuple[dict[str, str], list[str]], monitor_namespace: str) -> None:
    config, secret_keys = chain_config
    old, new = config["prometheus:authToken"], secrets.token_hex(32)
    before = _prom_state(run, config, secret_keys, "default", monitor_namespace)
    phase1_config = {**config, "prometheus:authToken": new, "prometheus:previousAuthToken": old}
    phase1 = _prom_state(run, phase1_config, [*secret_keys, "prometheus:previousAuthToken"], "default", monitor_namespace)
    phase2 = _prom_state(run, {**config, "prometheus:authToken": new}, secret_keys, "default", monitor_namespace)

    assert before.app_env == {"PROMETHEUS_AUTH_TOKEN": old} and before.monitor_token == old
    # Phase 1: the app accepts both, Prometheus keeps sending the old token; the app's pods roll.
    assert phase1.app_env == {"PROMETHEUS_AUTH_TOKEN": new, "PROMETHEUS_AUTH_TOKEN_PREVIOUS": old}
    assert phase1.monitor_token == old
    assert phase1.app_config_keys == "prometheus:authToken,prometheus:previousAuthToken"
    # Phase 2: Prometheus sends the new token, the app accepts only the new one; the pods roll again.
    assert phase2.app_env == {"PROMETHEUS_AUTH_TOKEN": new} and phase2.monitor_token == new
    assert phase2.app_config_keys == before.app_config_keys == "prometheus:authToken"
    # Every phase is an in-place update of the same objects, and the ServiceMonitor never changes.
    assert before.urns == phase1.urns == phase2.urns
    assert before.monitor == phase1.monitor == phase2.monitor
    assert len({json.dumps(s.rollout, sort_keys=True) for s in (before, phase1, phase2)}) == 3

    # Before → phase 1: while pods roll, old and new pods each accept whatever Prometheus sends.
    for pod in (before.app_env, phase1.app_env):
        for sent in {before.monitor_token, phase1.monitor_token}:
            assert accepts(pod, sent)
    # Phase 1 → phase 2 as documented: first `pulumi up --target` of the monitor Secret (the step between:
    # Prometheus switches while every pod still accepts both) ...
    for sent in {phase1.monitor_token, phase2.monitor_token}:
        assert accepts(phase1.app_env, sent)
    # ... then `pulumi up`: pods roll to the new token only, which is all Prometheus sends by now.
    for pod in (phase1.app_env, phase2.app_env):
        assert accepts(pod, phase2.monitor_token)
    # Why the step between exists: a plain `pulumi up` rolls pods while Prometheus may still send the old token.
    assert not accepts(phase2.app_env, phase1.monitor_token)
    # After phase 2 the old token is refused everywhere.
    assert not accepts(phase2.app_env, old)


def test_the_documented_steps_are_the_simulated_ones() -> None:
    """docs/rotation.md's Prometheus steps: phase 1, the monitor switched on its own, then the rest (as simulated above)."""
    steps = inventory.rotation_steps(catalog.get("prometheus:authToken"))
    text = " ".join(steps)
    order = [
        'pulumiConfig.prometheus:previousAuthToken',
        "openssl rand -hex 32 | tr -d '\\n' | pulumi env set <org>/secret-chain/<Environment> pulumiConfig.prometheus:authToken",
        "Phase 2",
        "--target",
        "Then pulumi up",
    ]
    assert [text.index(marker) for marker in order] == sorted(text.index(marker) for marker in order)
    assert "prometheus-monitor" in text and "PROMETHEUS_AUTH_TOKEN_PREVIOUS" in text


def test_previous_token_equal_to_the_new_one_is_refused(run: Run, chain_config: tuple[dict[str, str], list[str]]) -> None:
    config, secret_keys = chain_config
    config["prometheus:previousAuthToken"] = config["prometheus:authToken"] + "\n"  # the same once normalised
    err = config_error(run, lambda: PrometheusAuth("metrics", {"namespace": "default"}), config, [*secret_keys, "prometheus:previousAuthToken"])
    (line,) = err.problems
    assert line.startswith('config "prometheus:authToken" is the same as "prometheus:previousAuthToken"')
    assert (
        "Fix: openssl rand -hex 32 | tr -d '\\n' | pulumi env set acme/secret-chain/Production pulumiConfig.prometheus:authToken "
        "--secret --string --file -"
    ) in line
    assert config["prometheus:authToken"] not in line


def test_previous_token_from_args_and_its_checks(run: Run, chain_config: tuple[dict[str, str], list[str]]) -> None:
    config, secret_keys = chain_config
    token = config["prometheus:authToken"]
    err = config_error(run, lambda: PrometheusAuth("m", {"namespace": "default", "previous_token": token}), config, secret_keys)
    assert 'config "prometheus:authToken" is the same as "prometheus:previousAuthToken"' in str(err) and token not in str(err)
    err = config_error(run, lambda: PrometheusAuth("m", {"namespace": "default", "previous_token": "0123abcd" * 2}), config, secret_keys)
    assert 'argument "previous_token" is too short' in str(err)
    config["prometheus:previousAuthToken"] = "CANARY"
    err = config_error(run, lambda: PrometheusAuth("m", {"namespace": "default"}), config, [*secret_keys, "prometheus:previousAuthToken"])
    assert str(err).startswith('config "prometheus:previousAuthToken" ') and "CANARY" not in str(err)


# --- config errors: the rollout key and the provider flag --------------------------------------------

BUILDERS: dict[str, Callable[[], object]] = {
    "PrometheusAuth": lambda: PrometheusAuth("metrics", {"namespace": "default"}),
    "GrafanaOAuth": lambda: GrafanaOAuth("grafana", {"namespace": "monitoring", "domain": "example.com"}),
    "SecretChain": lambda: SecretChain("chain"),
}


@pytest.mark.parametrize("builder", sorted(BUILDERS))
@pytest.mark.parametrize("problem", ["short", "placeholder"])
def test_rollout_key_problems_stop_everything_with_the_fix(run: Run, builder: str, problem: str) -> None:
    # A missing key is no problem any more: it is generated (tests/test_rollout_key.py).
    config, secret_keys = full_config()
    config["secret-chain:rolloutKey"] = "0123abcd" * 4 if problem == "short" else "<set me: $(openssl rand -hex 32)>"
    err = config_error(run, BUILDERS[builder], config, secret_keys)
    (line,) = err.problems
    assert line.startswith('config "secret-chain:rolloutKey" ')
    assert line.endswith(
        "Fix: openssl rand -hex 32 | tr -d '\\n' | pulumi env set acme/secret-chain/Production pulumiConfig.secret-chain:rolloutKey "
        "--secret --string --file - (or, for this stack only: openssl rand -hex 32 | pulumi config set --secret secret-chain:rolloutKey)"
    )
    assert config["secret-chain:rolloutKey"] not in line


COMPONENTS: dict[str, Callable[[pulumi.ResourceOptions | None], object]] = {
    "GhcrPullSecret": lambda o: GhcrPullSecret("pull", {"namespaces": ["default"]}, o),
    "PrometheusAuth": lambda o: PrometheusAuth("metrics", {"namespace": "default"}, o),
    "GrafanaOAuth": lambda o: GrafanaOAuth("grafana", {"namespace": "monitoring", "domain": "example.com"}, o),
    "FluxGitCredentials": lambda o: FluxGitCredentials("flux", {"repository_url": "https://github.com/acme/cluster"}, o),
    "CertManagerDnsIssuer": lambda o: CertManagerDnsIssuer("dns", {"email": "ops@example.com", "domain": "example.com"}, o),
    "SecretChain": lambda o: SecretChain("chain", opts=o),
}


@pytest.mark.parametrize("component", sorted(COMPONENTS))
@pytest.mark.parametrize("value", [None, "false"], ids=["missing", "false"])
def test_secrets_that_would_be_replaced_stop_everything(run: Run, component: str, value: str | None) -> None:
    config, secret_keys = full_config()
    if value is None:
        del config["kubernetes:enableSecretMutable"]
    else:
        config["kubernetes:enableSecretMutable"] = value
    err = config_error(run, lambda: COMPONENTS[component](None), config, secret_keys)
    (line,) = err.problems
    assert line.startswith('config "kubernetes:enableSecretMutable" ')
    assert line.endswith("Fix: pulumi config set kubernetes:enableSecretMutable true")


@pytest.mark.parametrize("component", sorted(COMPONENTS))
def test_an_explicit_provider_or_the_environment_variable_is_accepted(run: Run, component: str, monkeypatch: pytest.MonkeyPatch) -> None:
    config, secret_keys = full_config()
    del config["kubernetes:enableSecretMutable"]

    def with_provider() -> None:
        from secret_chain.kube import mutable_secrets_provider

        provider = mutable_secrets_provider("cluster")
        COMPONENTS[component](pulumi.ResourceOptions(providers=[provider]))

    ev = run(with_provider, config, secret_keys)
    (provider,) = ev.of_type("pulumi:providers:kubernetes")
    secrets_ = [r for r in ev.resources if r.type == SECRET]
    assert secrets_ and all(r.provider.startswith(provider.urn + "::") for r in secrets_)
    monkeypatch.setenv("PULUMI_K8S_ENABLE_SECRET_MUTABLE", "true")
    ev = run(lambda: COMPONENTS[component](None), config, secret_keys)
    assert any(r.type == SECRET for r in ev.resources)


def test_the_digitalocean_cluster_provider_updates_secrets_in_place() -> None:
    config, secret_keys = full_config()
    del config["kubernetes:enableSecretMutable"]  # not needed: the chain's own provider sets it
    config["digitalocean:token"] = VALUES["digitalocean:token"]()  # the cluster's kubeconfig is fetched with it
    secret_keys = [*secret_keys, "digitalocean:token"]
    ev = evaluate(lambda: SecretChain("chain", {"digitalocean_cluster": "prod"}), config=config, secret_keys=secret_keys)
    (provider,) = ev.of_type("pulumi:providers:kubernetes")
    assert unwrap(provider.inputs)["enableSecretMutable"] in (True, "true")


# --- every secret has a documented rotation path -----------------------------------------------------


def test_every_secret_key_has_a_rotation_path_and_says_when_it_is_picked_up() -> None:
    for entry in catalog.KEYS:
        if not entry.secret:
            continue
        assert runbook.of(entry).rotate and all(step.strip() for step in runbook.of(entry).rotate), f"{entry.key} has no rotation steps"
        assert runbook.of(entry).reload, f"{entry.key} does not say when its consumers pick up a new value"
        steps = inventory.rotation_steps(entry)
        assert not any("{set}" in step for step in steps)
        if not entry.temporary:
            assert any(f'pulumiConfig.{entry.key}' in step for step in steps), f"{entry.key}: no step sets it"


def test_no_trigger_consumers_are_documented_from_upstream() -> None:
    """The parts without a rollout trigger say which upstream code reads their Secret at use time."""
    reload = {k.key: runbook.of(k).reload for k in catalog.KEYS}
    assert "getPullSecretsForPod" in reload["namespace:imagePullSecret.token"]
    assert "getAuthOpts" in reload["flux:githubToken"] and "getAuthOpts" in reload["flux:githubAppPrivateKey"]
    assert "solverForChallenge" in reload["gateway:digitaloceanDnsToken"]
    assert all("each workflow run" in reload[k] for k in ("ci:pulumiFallbackAccessToken", "ci:githubAppPrivateKey"))
    for key in ("prometheus:authToken", "grafana:githubClientSecret", "grafana:smtpPassword"):
        assert "rollout_annotations" in reload[key]


def test_flux_token_keeps_the_old_token_for_24_hours_as_the_seed_guide_says() -> None:
    steps = " ".join(runbook.of(catalog.get("flux:githubToken")).rotate)
    assert "24 hours" in steps and steps.index("{set}") < steps.index("After 24 hours")


def test_rotation_doc_matches_the_catalog() -> None:
    """Fails when docs/rotation.md's generated block and the catalog disagree: run `secret-chain inventory --rotation-doc docs/rotation.md`."""
    text = (ROOT / inventory.ROTATION_DOC).read_text(encoding="utf-8")
    block = inventory.current_rotation_block(text)
    assert block == inventory.rotation_block(), "docs/rotation.md is stale: run `secret-chain inventory --rotation-doc docs/rotation.md`"
    for entry in catalog.KEYS:
        if entry.secret:
            assert f'<a id="{inventory.anchor(entry.key)}"></a>' in block and f"### `{entry.key}`" in block
    # The hand-written intro stays out of Python: no prose of it is generated.
    intro = text[: text.index(inventory.ROTATION_BEGIN)]
    assert intro.startswith("# Rotating secrets\n") and intro.strip() not in inventory.rotation_block()


def test_rotation_doc_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "docs" / "rotation.md"
    target.parent.mkdir()
    target.write_text(f"# Hand-written\n\nintro\n\n{inventory.ROTATION_BEGIN}\nstale steps\n{inventory.ROTATION_END}\n\nafter\n")
    assert cli(["inventory", "--rotation-doc", str(target)]) == 0
    assert "rotation guide updated" in capsys.readouterr().out
    text = target.read_text()
    assert text.startswith("# Hand-written\n\nintro\n\n") and text.endswith("\n\nafter\n") and "stale steps" not in text
    assert inventory.current_rotation_block(text) == inventory.rotation_block()
    assert cli(["inventory", "--rotation-doc", str(target)]) == 0
    assert "already up to date" in capsys.readouterr().out
    assert cli(["inventory", "--rotation-doc", str(target), "--json"]) == 2


def test_rotation_doc_sync_keeps_the_hand_written_text_and_a_stale_block_is_caught(tmp_path: Path) -> None:
    """A sync of the real guide with a stale block restores the block and keeps every hand-written line."""
    real = (ROOT / inventory.ROTATION_DOC).read_text(encoding="utf-8")
    block = inventory.current_rotation_block(real)
    stale = real.replace(block, block.replace("## Per value", "## Per value (edited by hand)"), 1)
    edited = stale.replace("# Rotating secrets\n", "# Rotating secrets\n\nA local note kept across syncs.\n", 1)
    assert inventory.current_rotation_block(edited) != inventory.rotation_block()  # what the staleness check sees
    path = tmp_path / "rotation.md"
    path.write_text(edited, encoding="utf-8")
    assert inventory.sync_rotation_doc(path) is True
    synced = path.read_text(encoding="utf-8")
    assert synced == real.replace("# Rotating secrets\n", "# Rotating secrets\n\nA local note kept across syncs.\n", 1)
    assert inventory.sync_rotation_doc(path) is False


def test_rotation_doc_without_markers_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rotation.md"
    path.write_text("# Rotating secrets\n\nno markers\n")
    assert cli(["inventory", "--rotation-doc", str(path)]) == 2
    assert "markers" in capsys.readouterr().err
    assert path.read_text() == "# Rotating secrets\n\nno markers\n"
    assert cli(["inventory", "--rotation-doc", str(tmp_path / "missing.md")]) == 2
    assert capsys.readouterr().err.startswith("error: cannot read")


def test_rotation_report_links_each_due_key_to_its_steps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = {
        "deployment": {
            "resources": [
                {
                    "urn": "urn:pulumi:production::secret-chain::kubernetes:core/v1:Secret::secret-chain-prometheus-app",
                    "type": SECRET,
                    "created": "2020-01-01T00:00:00Z",
                    "inputs": {
                        "metadata": {
                            "name": "prometheus-auth",
                            "namespace": "default",
                            "annotations": {"secret-chain/config-keys": "prometheus:authToken"},
                        }
                    },
                }
            ]
        }
    }
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    assert cli(["rotation", "--state", str(path), "--now", "2026-01-01"]) == 1
    out = capsys.readouterr().out
    assert f"without downtime: {len(runbook.of(catalog.get('prometheus:authToken')).rotate)} steps in docs/rotation.md#prometheus-authtoken" in out
    assert cli(["rotation", "--state", str(path), "--now", "2026-01-01", "--json"]) == 1
    (item,) = json.loads(capsys.readouterr().out)["items"]
    assert item["guide"] == "docs/rotation.md#prometheus-authtoken"
    assert item["steps"] == inventory.rotation_steps(catalog.get("prometheus:authToken"), "<org>/secret-chain/Production")
