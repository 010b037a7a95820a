"""No extra secret to run one component (issue 14 §4): the rollout key is generated when it is not configured.

Without ``secret-chain:rolloutKey`` (or the ``rollout_key`` argument) PrometheusAuth and GrafanaOAuth each
register one ``pulumi_random`` ``RandomBytes`` of 32 bytes, parented to the component, and key their rollout
annotations with its ``hex`` (a secret); SecretChain registers one for the whole stack, parented to the chain,
and hands it to both parts. A configured key or argument is used as before and no RandomBytes is registered.
Offline, RandomBytes outputs are stand-ins derived from the resource's name (components/secret_chain/offline.py), so the
expected annotations can be recomputed here.
"""

from __future__ import annotations

import base64
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from secret_chain import GrafanaOAuth, PrometheusAuth, SecretChain, catalog, kube, parts
from secret_chain.kube import rollout_digest
from secret_chain.ops import preflight, runbook
from secret_chain.ops.offline import RANDOM_BYTES, Evaluation, is_secret, is_unknown, random_bytes_stand_in, unwrap
from secret_chain.program import main
from tests.conftest import Run, canary_config, config_error, secret_data
from tests.leaks import find_leaks
from tests.runtime import evaluate
from tests.test_chain import full_config

ROOT = Path(__file__).resolve().parent.parent
KEY = kube.ROLLOUT_KEY.key
Config = tuple[dict[str, str], list[str]]
GRAFANA_ARGS = {"namespace": "monitoring", "domain": "example.com"}
BUILDERS: dict[str, Callable[[], object]] = {
    "PrometheusAuth": lambda: PrometheusAuth("metrics", {"namespace": "default"}),
    "GrafanaOAuth": lambda: GrafanaOAuth("grafana", {"namespace": "monitoring", "domain": "example.com"}),
}


def without_key(config: Config) -> Config:
    """``config`` with no rollout key."""
    values, secret_keys = config
    return {k: v for k, v in values.items() if k != KEY}, [k for k in secret_keys if k != KEY]


def stand_in_key(name: str) -> str:
    """The hex the offline runtime gives the RandomBytes named ``name`` (components/secret_chain/offline.py)."""
    value = unwrap(random_bytes_stand_in(RANDOM_BYTES, name, kube.ROLLOUT_KEY_BYTES)["hex"])
    assert isinstance(value, str)
    return value


def component(ev: Evaluation, type_name: str) -> str:
    (reg,) = ev.of_type(f"secret-chain:index:{type_name}")
    return reg.urn


def annotations_of(ev: Evaluation, type_name: str) -> object:
    """The component's registered ``rollout_annotations`` (unknown in a preview whose key is not generated yet)."""
    return ev.component_outputs[component(ev, type_name)]["rollout_annotations"]


def annotation_of(ev: Evaluation, type_name: str) -> tuple[str, object]:
    value = annotations_of(ev, type_name)
    assert isinstance(value, dict)
    (annotation,) = value.items()
    return annotation


def env_secret_data(ev: Evaluation, name: str) -> tuple[str, dict[str, str]]:
    """(namespace, data) of the env-var Secret ``name`` the rollout annotation covers."""
    (reg,) = [r for r in ev.of_type("kubernetes:core/v1:Secret") if unwrap(r.inputs)["metadata"]["name"] == name]
    return unwrap(reg.inputs)["metadata"]["namespace"], secret_data(reg.inputs)


# --- the offline runtime ---------------------------------------------------------------------------


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_offline_random_bytes_have_reproducible_secret_outputs(preview: bool) -> None:
    """plan and the tests run programs with RandomBytes: their bytes are secret, derived from the name, and unknown in preview."""
    import pulumi
    import pulumi_random

    def program() -> None:
        for name, length in (("a", 32), ("b", 32), ("c", 48)):
            made = pulumi_random.RandomBytes(name, length=length)
            pulumi.export(f"{name}-hex", made.hex)
            pulumi.export(f"{name}-base64", made.base64)

    first, second = (evaluate(program, config={}, preview=preview) for _ in range(2))
    assert first.stack_outputs == second.stack_outputs
    assert [r.type for r in first.resources] == [RANDOM_BYTES] * 3
    if preview:
        assert all(is_unknown(v) for v in first.stack_outputs.values())
        return
    assert all(is_secret(v) for v in first.stack_outputs.values())
    outputs = {k: unwrap(v) for k, v in first.stack_outputs.items()}
    assert outputs["a-hex"] != outputs["b-hex"] and len(outputs["a-hex"]) == 64 and len(outputs["c-hex"]) == 96
    assert base64.b64decode(outputs["c-base64"]).hex() == outputs["c-hex"]
    assert outputs["a-hex"] == stand_in_key("a")


# --- a component on its own -----------------------------------------------------------------------


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_a_component_alone_generates_its_key_parented_to_it(run: Run, preview: bool, builder: str) -> None:
    config, secret_keys = without_key(full_config())
    ev = run(BUILDERS[builder], config, secret_keys)
    (key,) = ev.of_type(RANDOM_BYTES)
    owner = component(ev, builder)
    assert key.parent == owner and key.custom
    name = "metrics-rollout-key" if builder == "PrometheusAuth" else "grafana-rollout-key"
    assert key.name == name and key.inputs == {"length": kube.ROLLOUT_KEY_BYTES}
    if preview:
        # A fresh stack's RandomBytes has no bytes yet: the annotations are unknown (the Secrets are not), and the
        # evaluation goes through, as `pulumi preview` of a new stack must.
        assert is_unknown(annotations_of(ev, builder))
        return
    annotation_key, digest = annotation_of(ev, builder)
    secret_name = "prometheus-auth" if builder == "PrometheusAuth" else "grafana-oauth"
    assert annotation_key == kube.rollout_annotation_key(secret_name)
    namespace, data = env_secret_data(ev, secret_name)
    assert digest == rollout_digest(stand_in_key(name), namespace, secret_name, data)
    assert not is_secret(digest)  # an HMAC: plain, as with a configured key


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_a_configured_key_registers_no_random_bytes(run: Run, preview: bool, builder: str) -> None:
    config, secret_keys = full_config()
    ev = run(BUILDERS[builder], config, secret_keys)
    assert ev.of_type(RANDOM_BYTES) == []
    annotation_key, digest = annotation_of(ev, builder)
    secret_name = annotation_key.rsplit("-sha256-", 1)[1]
    namespace, data = env_secret_data(ev, secret_name)
    assert digest == rollout_digest(config[KEY], namespace, secret_name, data)


def test_a_key_given_as_argument_registers_no_random_bytes(run: Run) -> None:
    config, secret_keys = without_key(canary_config())
    key = secrets.token_hex(32)
    ev = run(lambda: PrometheusAuth("metrics", {"namespace": "default", "rollout_key": key}), config, secret_keys)
    assert ev.of_type(RANDOM_BYTES) == []
    namespace, data = env_secret_data(ev, "prometheus-auth")
    assert annotation_of(ev, "PrometheusAuth")[1] == rollout_digest(key, namespace, "prometheus-auth", data)


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_the_generated_key_never_leaves_a_secret(builder: str) -> None:
    config, secret_keys = without_key(full_config())
    ev = evaluate(BUILDERS[builder], config=config, secret_keys=secret_keys)
    name = "metrics-rollout-key" if builder == "PrometheusAuth" else "grafana-rollout-key"
    # Names, URNs, labels, annotations, plain inputs, outputs and logs: the key (and its halves) appears nowhere.
    assert find_leaks(ev, [stand_in_key(name), *(config[k] for k in secret_keys)]) == []


def test_a_bad_configured_key_is_still_refused(run: Run) -> None:
    config, secret_keys = canary_config()
    config[KEY] = "0123abcd" * 4  # 16 bytes: too short
    # One ConfigError and nothing registered: no key is generated in place of the bad one.
    err = config_error(run, lambda: PrometheusAuth("metrics", {"namespace": "default"}), config, secret_keys)
    (line,) = err.problems
    assert line.startswith(f'config "{KEY}" ') and config[KEY] not in line


# --- the chain: one key per stack ------------------------------------------------------------------


def test_the_chain_generates_one_key_for_both_parts(run: Run, preview: bool) -> None:
    config, secret_keys = without_key(full_config())
    ev = run(lambda: SecretChain("chain"), config, secret_keys)
    (key,) = ev.of_type(RANDOM_BYTES)
    assert key.parent == component(ev, "SecretChain") and key.name == "chain-rollout-key"
    assert key.inputs == {"length": kube.ROLLOUT_KEY_BYTES}
    for type_name, secret_name in (("PrometheusAuth", "prometheus-auth"), ("GrafanaOAuth", "grafana-oauth")):
        assert not [r for r in ev.of_type(RANDOM_BYTES) if r.parent == component(ev, type_name)]
        if preview:
            assert is_unknown(annotations_of(ev, type_name))
            continue
        _, digest = annotation_of(ev, type_name)
        namespace, data = env_secret_data(ev, secret_name)
        assert digest == rollout_digest(stand_in_key("chain-rollout-key"), namespace, secret_name, data)


def test_the_chain_key_stays_when_a_part_is_added() -> None:
    """The key belongs to the chain, so building Grafana later neither replaces the key nor rolls the app's pods."""
    config, secret_keys = without_key(full_config())
    alone = {k: v for k, v in config.items() if not k.startswith("grafana:")}
    first = evaluate(lambda: SecretChain("chain"), config=alone, secret_keys=[k for k in secret_keys if k in alone])
    second = evaluate(lambda: SecretChain("chain"), config=config, secret_keys=secret_keys)
    assert "GrafanaOAuth" not in first.stack_outputs.get("parts", []) and not first.of_type("secret-chain:index:GrafanaOAuth")
    assert [r.urn for r in first.of_type(RANDOM_BYTES)] == [r.urn for r in second.of_type(RANDOM_BYTES)]
    assert annotation_of(first, "PrometheusAuth") == annotation_of(second, "PrometheusAuth")


def test_the_chain_with_a_configured_key_registers_no_random_bytes() -> None:
    config, secret_keys = full_config()
    ev = evaluate(lambda: SecretChain("chain"), config=config, secret_keys=secret_keys)
    assert ev.of_type(RANDOM_BYTES) == []


def test_the_documented_urn_is_the_one_the_stack_program_registers() -> None:
    """docs/rotation.md names the URN to replace; it must be the stack program's, or the command replaces nothing."""
    config, secret_keys = without_key(canary_config())
    ev = evaluate(main, config=config, secret_keys=secret_keys, stack="production")
    (key,) = ev.of_type(RANDOM_BYTES)
    documented = key.urn.replace("urn:pulumi:production::", "urn:pulumi:<stack>::")
    assert any(documented in step for step in runbook.of(catalog.get(KEY)).rotate)
    assert "pulumi up --replace" in " ".join(runbook.of(catalog.get(KEY)).rotate)


@pytest.mark.parametrize("stack", ["production", "preview-pr-7"])
def test_generated_keys_are_deterministic(stack: str) -> None:
    """Two evaluations register the same inputs and give the same annotations (a constant RandomBytes: no replacement)."""
    from tests.test_determinism import fingerprints

    config, secret_keys = without_key(canary_config())
    first = evaluate(main, config=config, secret_keys=secret_keys, stack=stack)
    second = evaluate(main, config=config, secret_keys=secret_keys, stack=stack)
    assert len(first.of_type(RANDOM_BYTES)) == 1
    assert fingerprints(first) == fingerprints(second)
    assert first.stack_outputs["rolloutAnnotations"] == second.stack_outputs["rolloutAnnotations"]
    assert first.stack_outputs["rolloutAnnotations"]["PrometheusAuth"]


def test_preview_leaves_only_the_annotations_unknown() -> None:
    config, secret_keys = without_key(full_config())
    ev = evaluate(main, config=config, secret_keys=secret_keys, stack="production", preview=True)
    (key,) = ev.of_type(RANDOM_BYTES)
    assert key.unknown_inputs == []
    for reg in ev.of_type("kubernetes:core/v1:Secret"):
        assert [p for p in reg.unknown_inputs if not p.startswith("metadata.") and p != "status"] == [], reg.name
    annotations = ev.stack_outputs["rolloutAnnotations"]
    assert is_unknown(annotations) or all(is_unknown(v) for v in annotations.values())


# --- the table, preflight and the catalog -------------------------------------------------------------


def test_no_part_requires_the_rollout_key() -> None:
    entry = catalog.get(KEY)
    assert all(entry not in p.required for p in parts.PARTS)
    assert {p.name for p in parts.PARTS if entry in p.uses} == {"PrometheusAuth", "GrafanaOAuth"}


@pytest.mark.parametrize("stack", ["production", "preview-pr-7"])
def test_preflight_is_ready_without_the_key(stack: str) -> None:
    from tests.test_stacks import stack_config

    config, secret_keys = stack_config(stack)
    # The environments no longer carry one (esc/ holds no key the stack generates); drop it if one ever is.
    config, secret_keys = without_key((config, secret_keys))
    report = preflight.check(config, secret_keys, stack)
    assert report.ok, [p.line() for p in report.problems]
    assert {"PrometheusAuth", "GrafanaOAuth"} <= set(report.enabled) and KEY not in report.checked


def test_the_catalog_says_the_key_is_optional_and_how_it_is_made() -> None:
    entry = catalog.get(KEY)
    assert entry.secret and entry.generated_when_absent
    assert f"RandomBytes of {kube.ROLLOUT_KEY_BYTES} bytes" in entry.generated_when_absent
    assert "share one key across stacks" in runbook.of(entry).generate and "rotate it by hand" in runbook.of(entry).generate


def test_the_random_provider_is_imported_only_to_generate_a_key() -> None:
    """pulumi_random is loaded lazily: not by importing the package, nor by a component whose key is configured."""
    probe = """
import secrets, sys
from secret_chain import PrometheusAuth
from secret_chain.ops.offline import evaluate
assert "pulumi_random" not in sys.modules, "imported by the package"
config = {"prometheus:authToken": secrets.token_hex(32), "kubernetes:enableSecretMutable": "true"}
key = secrets.token_hex(32)
evaluate(lambda: PrometheusAuth("m", {"namespace": "default", "rollout_key": key}), config=config, secret_keys=["prometheus:authToken"])
assert "pulumi_random" not in sys.modules, "imported with a configured key"
evaluate(lambda: PrometheusAuth("m", {"namespace": "default"}), config=config, secret_keys=["prometheus:authToken"])
assert "pulumi_random" in sys.modules
"""
    proc = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
