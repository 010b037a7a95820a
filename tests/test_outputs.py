"""Every output of every component depends on the child resources it describes (issue 21 item 3).

A Pulumi output carries the set of resources it came from: ``Output.resources()`` (pulumi/pulumi
sdk/python/lib/pulumi/output.py), joined by ``Output.all`` and kept by ``apply``; a resource's ``urn`` Output holds the
resource itself (sdk/python/lib/pulumi/runtime/resource.py ``resource_output``: ``resources={res}``). A consumer given
an output sends those resources as its dependencies and waits for their values; the engine answers a registration only
once its step has run (pkg/resource/deploy/source_eval.go ``RegisterResource``: "Now block waiting for the operation to
finish"). So an output built from plain values (``Output.from_input("prometheus-auth")``) lets a Deployment that reads
it be created before the Secret it names; one derived from the Secret waits for it.

The outputs are enumerated generically: whatever each component passes to ``register_outputs`` (recorded by wrapping
``pulumi.ComponentResource.register_outputs``), cross-checked with the outputs the provider schema lists, so a new
output (or a new component) is covered without a change here. Every component class of the package must appear in the
scenarios below.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.util import camel_case
from pulumi.runtime.sync_await import _sync_await

import secret_chain
from secret_chain.ops.offline import Evaluation, unwrap
from secret_chain.provider import PACKAGE_NAME, component_classes
from tests.conftest import canary_config
from tests.runtime import evaluate
from tests.test_bootstrap import stack_settings
from tests.test_chain import IMAGES, full_config
from tests.test_flux import URL, app_config, automation_args, token_config


@dataclass
class Registered:
    """A component and the outputs it registered."""

    component: pulumi.ComponentResource
    outputs: dict[str, Any]


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> list[Registered]:
    """Every ``register_outputs`` call of the evaluations in the test, with the component that made it."""
    calls: list[Registered] = []
    original = pulumi.ComponentResource.register_outputs

    def recording(self: pulumi.ComponentResource, outputs: Any) -> None:
        if type(self).__module__.startswith("secret_chain."):  # not the Stack's own
            calls.append(Registered(self, dict(outputs)))
        original(self, outputs)

    monkeypatch.setattr(pulumi.ComponentResource, "register_outputs", recording)
    return calls


def package_components() -> set[type[pulumi.ComponentResource]]:
    """Every ComponentResource class defined in the package (hosted by the provider or not, e.g. EscBootstrap)."""
    found: set[type[pulumi.ComponentResource]] = set()
    for module in pkgutil.walk_packages(secret_chain.__path__, "secret_chain."):
        if module.name.startswith(("secret_chain.ops", "secret_chain.doctor")) or module.name in ("secret_chain.__main__", "secret_chain.provider"):
            continue
        loaded = importlib.import_module(module.name)
        for _, value in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(value, pulumi.ComponentResource) and value.__module__ == module.name and value.__name__ != "ChainComponent":
                found.add(value)
    return found


def descendants(resource: pulumi.Resource) -> Iterator[pulumi.Resource]:
    """The resources parented (at any depth) to ``resource`` (the SDK's ``Resource._childResources``)."""
    for child in resource._childResources:
        yield child
        yield from descendants(child)


def _namespace_output() -> pulumi.Output[str]:
    from pulumi_kubernetes.core.v1 import Namespace

    return Namespace("ns-apps", metadata={"name": "apps"}).metadata.name


def _generated_key_config() -> tuple[dict[str, str], list[str]]:
    config, secret_keys = full_config()
    del config["secret-chain:rolloutKey"]
    secret_keys.remove("secret-chain:rolloutKey")
    return config, secret_keys


def _components(build: Callable[[], object]) -> Callable[[], None]:
    def program() -> None:
        build()

    return program


# name -> (program, config, stack). Together they build every component class, and each branch that makes an
# output differently (an image automation or none, dns01 or http01, a generated or configured rollout key, …).
SCENARIOS: dict[str, tuple[Callable[[], None], Callable[[], tuple[dict[str, str], list[str]]], str]] = {
    "chain-production-images": (
        _components(lambda: secret_chain.SecretChain("chain", {"image_automation": IMAGES})),
        full_config,
        "production",
    ),
    "chain-preview-base": (_components(lambda: secret_chain.SecretChain("chain")), full_config, "preview-base"),
    "chain-pr-generated-key": (_components(lambda: secret_chain.SecretChain("chain")), _generated_key_config, "preview-pr-7"),
    "ghcr-namespace-output-attach": (
        _components(
            lambda: secret_chain.GhcrPullSecret("pull", {"namespaces": ["default", _namespace_output()], "attach_to_default_service_account": True})
        ),
        canary_config,
        "production",
    ),
    "prometheus-own-key": (
        _components(lambda: secret_chain.PrometheusAuth("metrics", {"namespace": _namespace_output(), "app": "api"})),
        _generated_key_config,
        "production",
    ),
    "grafana-own-key": (
        _components(lambda: secret_chain.GrafanaOAuth("grafana", {"namespace": "grafana", "domain": "example.com"})),
        _generated_key_config,
        "production",
    ),
    "flux-token-with-image-automation": (_components(lambda: secret_chain.FluxGitCredentials("flux", automation_args())), token_config, "production"),
    "flux-app-no-images": (_components(lambda: secret_chain.FluxGitCredentials("flux", {"repository_url": URL})), app_config, "production"),
    "flux-image-automation-alone": (
        _components(
            lambda: secret_chain.FluxImageAutomation(
                "images",
                {
                    "git_repository_name": "flux-system",
                    "author_name": "Image Bot",
                    "author_email": "images@example.com",
                    "images": [{"image": "ghcr.io/acme/api", "semver_range": "^1.0.0"}],
                },
            )
        ),
        token_config,
        "production",
    ),
    "certmanager-http01": (
        _components(lambda: secret_chain.CertManagerDnsIssuer("acme", {"email": "ops@example.com", "domain": "example.com", "solver": "http01"})),
        canary_config,
        "production",
    ),
    "certmanager-dns01-wildcards": (
        _components(
            lambda: secret_chain.CertManagerDnsIssuer(
                "acme", {"email": "ops@example.com", "domain": "example.com", "wildcard_hosts": ["*.example.com", "*.apps.example.com"]}
            )
        ),
        full_config,
        "production",
    ),
    "github-repository": (_components(lambda: secret_chain.GitHubActionsSecrets("ci", {"repository": "acme/platform"})), canary_config, "production"),
    "github-environment": (
        _components(
            lambda: secret_chain.GitHubActionsSecrets("ci", {"repository": "acme/platform", "environment": "Production", "create_environment": True})
        ),
        canary_config,
        "production",
    ),
    "github-organization": (
        _components(
            lambda: secret_chain.GitHubActionsSecrets("ci", {"repository": "acme/platform", "organization_repositories": ["platform", "cluster"]})
        ),
        canary_config,
        "production",
    ),
    "bootstrap": (_components(lambda: _bootstrap()), lambda: (stack_settings(), []), "bootstrap"),
}


def _bootstrap() -> None:
    from secret_chain.bootstrap import EscBootstrap

    EscBootstrap("secret-chain", {})


def _evaluate(scenario: str, preview: bool, registered: list[Registered]) -> Evaluation:
    program, config_of, stack = SCENARIOS[scenario]
    config, secret_keys = config_of()
    registered.clear()
    ev = evaluate(program, config, secret_keys, stack=stack, preview=preview)
    assert registered, scenario
    return ev


def _resources(output: pulumi.Output[Any]) -> set[pulumi.Resource]:
    return _sync_await(output.resources())


def _is_secret(output: pulumi.Output[Any]) -> bool:
    return bool(_sync_await(output.is_secret()))


PREVIEW_UNKNOWN = {("EscBootstrap", "issuer")}
"""Outputs a provider computes, unknown in a preview that creates them: the OIDC issuer's ID. (Every
``rollout_annotations`` too, when its key is generated: a RandomBytes' ``hex``.)"""

SECRET_OUTPUTS: set[tuple[str, str]] = set()
"""(component, output) pairs whose value is secret. None: every output names objects or holds HMACs."""


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_output_depends_on_the_children_it_describes(scenario: str, preview: bool, registered: list[Registered]) -> None:
    _evaluate(scenario, preview, registered)
    for entry in registered:
        component = entry.component
        kind = type(component).__name__
        children = {r for r in descendants(component) if isinstance(r, pulumi.CustomResource)}
        assert children, f"{kind} has no child resource"
        for key, value in entry.outputs.items():
            if value is None:
                continue  # an output the component does not have in this configuration (SecretChain.app_namespace on preview-base)
            assert isinstance(value, pulumi.Output), f"{kind}.{key} is {type(value).__name__}, not an Output"
            found = _resources(value)
            assert found & children, f"{kind}.{key} depends on none of its children (resources: {sorted(type(r).__name__ for r in found)})"
            assert _is_secret(value) == ((kind, key) in SECRET_OUTPUTS), f"{kind}.{key} secret-ness changed"
            assert getattr(component, key) is value, f"{kind}.{key}: the attribute is not the registered output"
            # Waiting for the children never hides a value: the outputs are made of args, config and look-ups, known in
            # preview, and the children's URNs are known too; only what a provider computes is not (PREVIEW_UNKNOWN).
            if (kind, key) not in PREVIEW_UNKNOWN and key != "rollout_annotations":
                assert _sync_await(value.is_known()), f"{kind}.{key} is unknown in {'preview' if preview else 'update'}"


def test_the_scenarios_build_every_component_class(registered: list[Registered]) -> None:
    built: set[type[pulumi.ComponentResource]] = set()
    for scenario in SCENARIOS:
        _evaluate(scenario, False, registered)
        built |= {type(entry.component) for entry in registered}
    assert package_components() == built, "a component class no scenario builds: add one to SCENARIOS"


def test_every_schema_output_is_registered(registered: list[Registered]) -> None:
    """What the provider schema promises other languages is what ``register_outputs`` carries (so all of it is checked above)."""
    definitions = Analyzer(PACKAGE_NAME).analyze(component_classes())["component_definitions"]
    keys: dict[str, set[str]] = {}
    for scenario in SCENARIOS:
        _evaluate(scenario, False, registered)
        for entry in registered:
            keys.setdefault(type(entry.component).__name__, set()).update(camel_case(k) for k in entry.outputs)
    for name, definition in definitions.items():
        assert set(definition.outputs) == keys[name], name


# --- what the issue saw, by name ------------------------------------------------------------------------------------


def _by_type(ev: Evaluation, suffix: str) -> list[str]:
    return [r.urn for r in ev.resources if r.type.endswith(suffix)]


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_a_deployment_built_from_the_outputs_waits_for_the_secrets(preview: bool) -> None:
    """The issue's case: a Deployment reading ``secret_names``, ``secret_name``, ``monitor_name`` and
    ``rollout_annotations`` depends on the Secrets and the ServiceMonitor they describe."""

    def program() -> None:
        from pulumi_kubernetes.apps.v1 import Deployment

        pull = secret_chain.GhcrPullSecret("pull", {"namespaces": ["apps"]})
        metrics = secret_chain.PrometheusAuth("metrics", {"namespace": "apps"})
        Deployment(
            "api",
            metadata={"namespace": "apps", "annotations": {"monitor": metrics.monitor_name}},
            spec={
                "selector": {"matchLabels": {"app": "api"}},
                "template": {
                    "metadata": {"labels": {"app": "api"}, "annotations": metrics.rollout_annotations},
                    "spec": {
                        "imagePullSecrets": [{"name": pull.secret_names.apply(lambda names: names["apps"])}],
                        "containers": [{"name": "api", "image": "ghcr.io/acme/api:1.0.0", "envFrom": [{"secretRef": {"name": metrics.secret_name}}]}],
                    },
                },
            },
        )

    config, secret_keys = canary_config()
    ev = evaluate(program, config, secret_keys, preview=preview)
    (deployment,) = [r for r in ev.resources if r.type == "kubernetes:apps/v1:Deployment"]
    secrets = {unwrap(r.inputs)["metadata"]["name"]: r.urn for r in ev.resources if r.type == "kubernetes:core/v1:Secret"}
    (monitor,) = _by_type(ev, ":ServiceMonitor")
    assert {secrets["ghcr-pull-secret"], secrets["prometheus-auth"], monitor} <= set(deployment.dependencies)
    # registered after them: the SDK awaited their URNs before it sent the Deployment
    order = [r.urn for r in ev.registrations]
    assert order.index(deployment.urn) > max(order.index(u) for u in (secrets["ghcr-pull-secret"], secrets["prometheus-auth"], monitor))


def test_output_values_are_unchanged(registered: list[Registered]) -> None:
    """Deriving from the children changes what an output waits for, not its value (the component tests check more)."""
    ev = _evaluate("chain-production-images", False, registered)
    outputs = {c.type.rsplit(":", 1)[-1]: ev.component_outputs[c.urn] for c in ev.components}
    rollouts = {kind: outputs[kind].pop("rollout_annotations") for kind in ("SecretChain", "PrometheusAuth", "GrafanaOAuth")}
    assert rollouts["SecretChain"] == {"PrometheusAuth": rollouts["PrometheusAuth"], "GrafanaOAuth": rollouts["GrafanaOAuth"]}
    assert list(rollouts["PrometheusAuth"]) == ["secret-chain/rollout-hmac-sha256-prometheus-auth"]
    assert list(rollouts["GrafanaOAuth"]) == ["secret-chain/rollout-hmac-sha256-grafana-oauth"]
    assert outputs == {
        "SecretChain": {
            "app_namespace": "default",
            "parts": [
                "GhcrPullSecret",
                "PrometheusAuth",
                "FluxGitCredentials",
                "FluxImageAutomation",
                "CertManagerDnsIssuer",
                "GrafanaOAuth",
                "GitHubActionsSecrets",
            ],
            "grafana_callback_url": "https://grafana.example.com/login/github",
        },
        "PrometheusAuth": {
            "env_var_name": "PROMETHEUS_AUTH_TOKEN",
            "monitor_secret_name": "default-prometheus-auth",
            "secret_name": "prometheus-auth",
            "monitor_name": "default-api",
        },
        # push_branch is null without image automation: a null output is not sent (the SDK drops None properties)
        "FluxGitCredentials": {
            "namespace": "flux-system",
            "git_repository_name": "secret-chain",
            "image_policy_names": [],
            "secret_name": "github-token",
            "auth_mode": "github-app",
        },
        "GhcrPullSecret": {"secret_names": {"default": "ghcr-pull-secret"}},
        "CertManagerDnsIssuer": {
            "issuer_name": "letsencrypt-production",
            "secret_name": "digitalocean-dns",
            "domain_urn": "do:domain:example.com",
            "certificate_secret_names": [],
        },
        "GrafanaOAuth": {
            "callback_url": "https://grafana.example.com/login/github",
            "secret_name": "grafana-oauth",
            "root_url": "https://grafana.example.com",
        },
        "GitHubActionsSecrets": {"secret_names": ["APP_PRIVATE_KEY"], "variable_names": ["PULUMI_ORG", "PULUMI_TOKEN_TYPE", "APP_ID"]},
        "FluxImageAutomation": {"image_policy_names": ["api"], "push_branch": "flux-image-updates"},
    }


# --- other languages: the dependencies reach the engine --------------------------------------------------------------


@pytest.fixture(scope="module")
def plugin() -> Iterator[Any]:
    """The provider plugin, started once for this module (tests/engine.py plays the engine)."""
    from tests.engine import started_plugin

    with started_plugin() as started:
        yield started


@pytest.mark.parametrize("dry_run", [False, True], ids=["update", "preview"])
@pytest.mark.parametrize(("component", "inputs"), [("GhcrPullSecret", {"namespaces": ["apps"]}), ("PrometheusAuth", {"namespace": "apps"})])
def test_through_the_provider_each_output_carries_its_childrens_urns(plugin: Any, component: str, inputs: dict[str, Any], dry_run: bool) -> None:
    """A program in another language gets the outputs from ``Construct`` with their dependencies (the SDK's
    ``ConstructResponse.stateDependencies``, from each output's ``resources()``: pulumi/provider/server.py), and waits
    for exactly those resources before using an output."""
    config, secret_keys = full_config()
    outcome = plugin.construct(component, "it", inputs, config=config, secret_keys=secret_keys, dry_run=dry_run)
    assert outcome.failure is None, outcome.failure
    children = {c.urn for c in outcome.children() if c.custom}
    secrets = {c.urn for c in outcome.children("kubernetes:core/v1:Secret")}
    dependencies = {key: set(value.urns) for key, value in outcome.response.stateDependencies.items()}
    assert set(outcome.state) <= set(dependencies), (set(outcome.state), set(dependencies))
    for key in outcome.state:
        assert dependencies[key] & children, (key, dependencies[key])
    assert secrets & dependencies["secretNames" if component == "GhcrPullSecret" else "secretName"]
