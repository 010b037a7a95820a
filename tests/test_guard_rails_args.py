"""Guard rails on component arguments, each beside the accident or attack it stops (issue 13, items 1, 3 and 7).

* **Unknown and mistyped keys** (item 1): every component's args are held against its Args TypedDict
  (:func:`secret_chain.config.check_args`, called by :func:`secret_chain.config.validated`): a typo such as
  ``enviroment`` was ignored and its default used (the CI secrets written repository-wide, production Let's
  Encrypt, alert mail on); now it is a ConfigError naming the key and the closest valid one (difflib). Args
  that are not a mapping (``None``, a list) raised ``AttributeError``; now a ConfigError.
* **A pull request's namespace** (item 3): ``preview-pr-<N>`` belongs to the stack ``preview-pr-<N>``: its code
  comes from the PR, and destroying it (when the PR closes) deletes the namespace. Any other stack writing a
  Secret there hands it to the PR's code, so every namespace argument and ``secret-chain:appNamespace`` refuse it
  (:func:`secret_chain.validators.namespace`), plain or as an Output once known. The policy pack refuses the same
  object however it was written (policy/policy_namespaces.py), shown at the end.
* **Never half a component** (item 7): an argument given as another resource's output is checked once known. The
  component registers only after every such check (:func:`secret_chain.config.gated`), so a bad value leaves
  nothing of the component registered: the SDK awaits ``depends_on`` before RegisterResource and every child
  awaits its parent's URN (pulumi/runtime/resource.py ``prepare_resource``; runtime/_depends_on.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest

from secret_chain import (
    CertManagerDnsIssuer,
    FluxGitCredentials,
    GhcrPullSecret,
    GitHubActionsSecrets,
    GrafanaOAuth,
    PrometheusAuth,
)
from secret_chain import config as config_layer
from secret_chain.chain import SecretChain, SecretChainArgs
from secret_chain.config import ConfigReader
from secret_chain.errors import ConfigError, SecretChainError
from secret_chain.ops import offline
from tests import policies
from tests.conftest import Run, canary_config, config_error, rsa_pem
from tests.runtime import evaluate

PEM = rsa_pem()
FLUX_APP = {"flux:githubAppId": "234567", "flux:githubAppInstallationId": "34567890", "flux:githubAppPrivateKey": PEM}
CERT = {"gateway:digitaloceanDnsToken": "dop_v1_" + "5a1b" * 16}
GRAFANA = {
    "grafana:githubClientId": "Ov23liq8Rk2xT0pLm9Zc",
    "grafana:githubClientSecret": "c0ffee4b1d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a",
    "grafana:githubOrg": "acme",
    "grafana:adminUser": "octo",
}
SETTINGS = {
    "secret-chain:domain": "acme.io",
    "secret-chain:acmeEmail": "ops@acme.io",
    "secret-chain:fluxRepositoryUrl": "https://github.com/acme/cluster",
}
"""Stack settings SecretChain needs for the parts the config above enables."""
EXTRA_SECRETS = ["flux:githubAppPrivateKey", "gateway:digitaloceanDnsToken", "grafana:githubClientId", "grafana:githubClientSecret"]

BUILD: dict[str, tuple[type, dict[str, Any]]] = {
    "GhcrPullSecret": (GhcrPullSecret, {"namespaces": ["default"]}),
    "PrometheusAuth": (PrometheusAuth, {"namespace": "default"}),
    "GitHubActionsSecrets": (GitHubActionsSecrets, {"repository": "acme/platform"}),
    "FluxGitCredentials": (FluxGitCredentials, {"repository_url": "https://github.com/acme/cluster"}),
    "CertManagerDnsIssuer": (CertManagerDnsIssuer, {"email": "ops@acme.io", "domain": "acme.io"}),
    "GrafanaOAuth": (GrafanaOAuth, {"namespace": "monitoring", "domain": "acme.io"}),
}
"""Component → (class, minimal valid args)."""


def _config() -> tuple[dict[str, str], list[str]]:
    config, secret_keys = canary_config()
    return {**config, **FLUX_APP, **CERT, **GRAFANA, **SETTINGS}, [*secret_keys, *EXTRA_SECRETS]


def _refused(run: Run, build: Callable[[], object], stack: str = "production") -> ConfigError:
    """Evaluate ``build``; it raises one ConfigError, and nothing but the root stack is registered."""
    config, secret_keys = _config()
    return config_error(run, build, config, secret_keys, stack)


# --- item 1: unknown keys and wrong containers ---------------------------------------------------------------


@dataclass(frozen=True)
class Typo:
    """A mistyped key, what the typo silently did, and the key the error must suggest."""

    component: str
    key: str
    value: Any
    suggests: str
    did: str


TYPOS: dict[str, Typo] = {
    "enviroment": Typo("GitHubActionsSecrets", "enviroment", "production", "environment", "CI secrets written repository-wide"),
    "stagging": Typo("CertManagerDnsIssuer", "stagging", True, "staging", "production Let's Encrypt while testing"),
    "alertingMail": Typo("GrafanaOAuth", "alertingMail", False, "alerting_mail", "alert mail left on"),
    "namespace-for-namespaces": Typo("GhcrPullSecret", "namespace", ["apps"], "namespaces", "pull secret in the default namespace only"),
    "monitor_namespce": Typo("PrometheusAuth", "monitor_namespce", "observability", "monitor_namespace", "ServiceMonitor in monitoring"),
    "brnach": Typo("FluxGitCredentials", "brnach", "release", "branch", "Flux syncing main"),
    "secretName": Typo("GhcrPullSecret", "secretName", "pull", "secret_name", "Secret named ghcr-pull-secret"),
    "orgRepos": Typo("GitHubActionsSecrets", "organization_repository", ["web"], "organization_repositories", "repository secrets, not org"),
}


@pytest.mark.parametrize("case", list(TYPOS), ids=list(TYPOS))
def test_a_mistyped_argument_is_named_with_the_closest_valid_one(run: Run, case: str) -> None:
    typo = TYPOS[case]
    cls, args = BUILD[typo.component]
    err = _refused(run, lambda: cls("c", {**args, typo.key: typo.value}))
    (line,) = [p for p in err.problems if "is not an argument" in p]
    assert line.startswith(f'{typo.component} argument "{typo.key}" is not an argument of {typo.component}Args')
    assert f'did you mean "{typo.suggests}"? Fix: rename it to "{typo.suggests}"' in line


NOT_A_MAPPING: dict[str, Any] = {"None": None, "list": [("namespaces", ["default"])], "str": "namespaces=default", "int": 7}


@pytest.mark.parametrize("component", list(BUILD))
@pytest.mark.parametrize("kind", list(NOT_A_MAPPING))
def test_args_that_are_not_a_mapping_are_a_config_error_not_an_attribute_error(run: Run, component: str, kind: str) -> None:
    cls, _ = BUILD[component]
    err = _refused(run, lambda: cls("c", NOT_A_MAPPING[kind]))
    (line,) = err.problems
    assert line.startswith(f"{component} args must be a dict of {component}Args (keys: ")
    assert f"got {type(NOT_A_MAPPING[kind]).__name__}" in line


def test_an_unknown_key_that_looks_like_a_credential_is_not_repeated(run: Run) -> None:
    token = "ghp_" + "Zq9" * 12
    err = _refused(run, lambda: GhcrPullSecret("c", {"namespaces": ["default"], token: True, 3: "x"}))  # type: ignore[misc]
    assert token not in str(err)
    assert "an argument key of type str (not shown)" in str(err) and "an argument key of type int (not shown)" in str(err)


def test_every_problem_is_still_reported_at_once(run: Run) -> None:
    err = _refused(run, lambda: PrometheusAuth("c", {"namespace": "Bad_NS", "tokn": "x"}))  # type: ignore[typeddict-unknown-key]
    assert len(err.problems) == 2 and any('"namespace"' in p for p in err.problems) and any('"tokn"' in p for p in err.problems)


@pytest.mark.parametrize("component", list(BUILD))
def test_the_valid_keys_are_the_args_typeddict_and_every_one_is_accepted(component: str) -> None:
    import importlib

    cls, _ = BUILD[component]
    typed = config_layer.args_type(importlib.import_module(cls.__module__).resolve)
    assert typed.__name__ == f"{component}Args"
    names = config_layer.argument_names(typed)
    assert set(names) == set(typed.__annotations__)
    reader = ConfigReader(component)
    assert config_layer.check_args(reader, dict.fromkeys(names), typed) and reader.problems == []


def test_secret_chain_args_get_the_same_check() -> None:
    """SecretChain (components/secret_chain/chain.py, being rewritten) calls check_args itself once merged; the check is ready."""
    reader = ConfigReader("SecretChain")
    assert config_layer.check_args(reader, {"app_namspace": "apps", "domain": "acme.io"}, SecretChainArgs)
    (line,) = reader.problems
    assert line.startswith('SecretChain argument "app_namspace" is not an argument of SecretChainArgs')
    assert 'did you mean "app_namespace"?' in line
    assert not config_layer.check_args(ConfigReader("SecretChain"), None, SecretChainArgs)


# --- item 3: a pull request's namespace ----------------------------------------------------------------------


@dataclass(frozen=True)
class Intrusion:
    """A namespace argument (or config) pointing at a PR's namespace from another stack."""

    build: Callable[[], object]
    names: str
    stack: str = "production"


INTRUSIONS: dict[str, Intrusion] = {
    "ghcr-namespaces": Intrusion(lambda: GhcrPullSecret("c", {"namespaces": ["default", "preview-pr-7"]}), 'argument "namespaces" item 1'),
    "prometheus-namespace": Intrusion(lambda: PrometheusAuth("c", {"namespace": "preview-pr-7"}), 'argument "namespace"'),
    "prometheus-monitor": Intrusion(
        lambda: PrometheusAuth("c", {"namespace": "default", "monitor_namespace": "preview-pr-7"}), 'argument "monitor_namespace"'
    ),
    "flux-namespace": Intrusion(
        lambda: FluxGitCredentials("c", {"repository_url": "https://github.com/acme/cluster", "namespace": "preview-pr-7"}),
        'argument "namespace"',
    ),
    "cert-manager-resource-namespace": Intrusion(
        lambda: CertManagerDnsIssuer("c", {"email": "ops@acme.io", "domain": "acme.io", "cluster_resource_namespace": "preview-pr-7"}),
        'argument "cluster_resource_namespace"',
    ),
    "cert-manager-certificate-namespace": Intrusion(
        lambda: CertManagerDnsIssuer(
            "c", {"email": "ops@acme.io", "domain": "acme.io", "wildcard_hosts": ["*.acme.io"], "certificate_namespace": "preview-pr-7"}
        ),
        'argument "certificate_namespace"',
    ),
    "grafana-namespace": Intrusion(lambda: GrafanaOAuth("c", {"namespace": "preview-pr-7", "domain": "acme.io"}), 'argument "namespace"'),
    "chain-app-namespace-arg": Intrusion(lambda: SecretChain("c", {"app_namespace": "preview-pr-7"}), 'argument "app_namespace"'),
    "chain-image-pull-namespaces": Intrusion(
        lambda: SecretChain("c", {"image_pull_namespaces": ["preview-pr-7"]}), 'argument "image_pull_namespaces" item 0'
    ),
    "chain-monitor-namespace": Intrusion(lambda: SecretChain("c", {"monitor_namespace": "preview-pr-7"}), 'argument "monitor_namespace"'),
    "chain-grafana-namespace": Intrusion(
        lambda: SecretChain("c", {"grafana_namespace": "preview-pr-7", "domain": "acme.io", "acme_email": "ops@acme.io"}),
        'argument "grafana_namespace"',  # the argument the caller passed (issue 20), not the Grafana part's "namespace"
    ),
    "preview-base-into-a-pr": Intrusion(lambda: PrometheusAuth("c", {"namespace": "preview-pr-7"}), 'argument "namespace"', "preview-base"),
    "one-pr-into-another": Intrusion(lambda: PrometheusAuth("c", {"namespace": "preview-pr-8"}), 'argument "namespace"', "preview-pr-7"),
    "leading-zero-alias": Intrusion(lambda: PrometheusAuth("c", {"namespace": "preview-pr-07"}), 'argument "namespace"', "preview-pr-7"),
}


@pytest.mark.parametrize("case", list(INTRUSIONS), ids=list(INTRUSIONS))
def test_no_other_stack_writes_into_a_pull_requests_namespace(run: Run, case: str) -> None:
    intrusion = INTRUSIONS[case]
    err = _refused(run, intrusion.build, intrusion.stack)
    (line,) = [p for p in err.problems if "pull request's namespace" in p]
    assert intrusion.names in line
    assert "only the stack of that kind may write into" in line


def test_the_app_namespace_setting_cannot_name_a_pr_namespace_on_production(run: Run) -> None:
    config, secret_keys = _config()
    config["secret-chain:appNamespace"] = "preview-pr-7"
    err = config_error(run, lambda: SecretChain("chain"), config, secret_keys, "production")
    (line,) = [p for p in err.problems if "pull request's namespace" in p]
    assert line.startswith('config "secret-chain:appNamespace" is a pull request\'s namespace')


def test_the_gateway_namespace_setting_cannot_name_a_pr_namespace_on_preview_base(run: Run) -> None:
    config, secret_keys = _config()
    config["secret-chain:gatewayNamespace"] = "preview-pr-7"
    err = config_error(run, lambda: SecretChain("chain"), config, secret_keys, "preview-base")
    assert any(p.startswith('config "secret-chain:gatewayNamespace" is a pull request') for p in err.problems), err.problems


def test_a_pr_stack_still_writes_into_its_own_namespace(run: Run) -> None:
    config, secret_keys = _config()
    build = lambda: PrometheusAuth("c", {"namespace": "preview-pr-7", "monitor_namespace": "preview-pr-7"})  # noqa: E731
    ev = run(build, config, secret_keys, stack="preview-pr-7")
    assert {r.inputs["metadata"]["namespace"] for r in ev.of_type("kubernetes:core/v1:Secret")} == {"preview-pr-7"}


def test_a_pr_namespace_from_another_resource_is_refused_once_known() -> None:
    config, secret_keys = _config()

    def program() -> None:
        source = Value("src", "x").value.apply(lambda _: "preview-pr-7")
        PrometheusAuth("c", {"namespace": source})

    with pytest.raises(SecretChainError, match="pull request's namespace"):
        evaluate(program, config=config, secret_keys=secret_keys, stack="production")


def test_the_policy_pack_refuses_a_production_object_in_a_pr_namespace() -> None:
    """However the object was written (no component, a raw Secret), policy/policy_namespaces.py refuses it."""
    pack = policies.load()
    for stack in ("production", "preview-base", "preview-pr-8"):
        args = policies.Args(
            "kubernetes:core/v1:Secret",
            {"metadata": {"name": "db", "namespace": "preview-pr-9"}, "stringData": {"password": "x"}},
            stack=stack,
        )
        (message,) = policies.run(pack.validate_pr_stack_confinement, args)
        assert "preview-pr-9" in message


# --- item 7: never half a component ----------------------------------------------------------------------------


class Value(pulumi.CustomResource):
    """A resource with one output, ``value``: its input echoed back (known in preview too)."""

    value: pulumi.Output[str]

    def __init__(self, name: str, value: str) -> None:
        super().__init__("test:index:Value", name, {"value": value})


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[offline.Evaluation]]:
    """Every Evaluation made, so that the registrations of a program that failed can be read."""
    made: list[offline.Evaluation] = []
    original = offline.Evaluation.__init__

    def init(self: offline.Evaluation, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(offline.Evaluation, "__init__", init)
    yield made


BAD_OUTPUT: dict[str, tuple[str, str, Any]] = {
    # component → (args field given as another resource's output, the bad value it turns out to hold, unused)
    "GhcrPullSecret": ("namespaces", "Bad_NS", None),
    "PrometheusAuth": ("monitor_namespace", "Bad_NS", None),
    "GitHubActionsSecrets": ("repository", "acme/..", None),
    "FluxGitCredentials": ("branch", "a..b", None),
    "CertManagerDnsIssuer": ("certificate_namespace", "Bad_NS", None),
    "GrafanaOAuth": ("admin_user", "-octo", None),
}


def _with_output(component: str, bad: bool) -> Callable[[], None]:
    cls, args = BUILD[component]
    field, value, _ = BAD_OUTPUT[component]

    def program() -> None:
        # The id: known in an update, unknown in preview (a fresh stack), like most provider outputs.
        good = {"namespaces": "apps", "repository": "acme/web", "branch": "release", "admin_user": "octo"}.get(field, "certs")
        source = Value("src", "x").id.apply(lambda _: value if bad else good)
        given: Any = [args["namespaces"][0], source] if field == "namespaces" else source
        extra = {"wildcard_hosts": ["*.acme.io"]} if component == "CertManagerDnsIssuer" else {}
        cls("c", {**args, **extra, field: given})

    return program


@pytest.mark.parametrize("component", list(BAD_OUTPUT))
def test_a_bad_value_from_another_resource_registers_nothing_of_the_component(component: str, recorded: list[offline.Evaluation]) -> None:
    config, secret_keys = _config()
    with pytest.raises(SecretChainError):
        evaluate(_with_output(component, bad=True), config=config, secret_keys=secret_keys, stack="production")
    (ev,) = recorded
    # Registered: the root stack and the resource the value came from. Nothing of the component: not the
    # component itself, and none of its children, although most of them never read the bad value.
    assert sorted(r.type for r in ev.registrations) == ["pulumi:pulumi:Stack", "test:index:Value"]


@pytest.mark.parametrize("component", list(BAD_OUTPUT))
def test_a_good_value_from_another_resource_registers_the_whole_component(component: str, recorded: list[offline.Evaluation]) -> None:
    config, secret_keys = _config()
    evaluate(_with_output(component, bad=False), config=config, secret_keys=secret_keys, stack="production")
    (ev,) = recorded
    (comp,) = [r for r in ev.registrations if r.type == f"secret-chain:index:{component}"]
    assert ev.resources and len(ev.registrations) > 3
    src = next(r for r in ev.registrations if r.type == "test:index:Value")
    assert src.urn in comp.dependencies  # the component waited for the value (and its check)


@pytest.mark.parametrize("component", list(BAD_OUTPUT))
def test_preview_with_the_value_unknown_plans_the_whole_component(component: str, recorded: list[offline.Evaluation]) -> None:
    """The limit: a value unknown in preview cannot be checked, so preview plans everything; the update then fails
    before the component registers (previous test). Only preview's plan has the component; no state ever does."""
    config, secret_keys = _config()
    evaluate(_with_output(component, bad=True), config=config, secret_keys=secret_keys, stack="production", preview=True)
    (ev,) = recorded
    assert any(r.type == f"secret-chain:index:{component}" for r in ev.registrations)


# --- SecretChain: the same checks, and never half a chain ------------------------------------------------------

def test_secret_chain_refuses_a_mistyped_argument(run: Run) -> None:
    err = _refused(run, lambda: SecretChain("c", {"monitor_namspace": "observability"}))  # type: ignore[typeddict-unknown-key]
    assert any('did you mean "monitor_namespace"' in line for line in err.problems)


def test_a_bad_value_from_another_resource_registers_no_part_of_the_chain(recorded: list[offline.Evaluation]) -> None:
    """Today each part is atomic (gated on its own spec) but the chain is not: with monitor_namespace bad, every
    other part (GHCR, Actions secrets, Flux, cert-manager, Grafana) is registered and PrometheusAuth is not."""
    config, secret_keys = _config()

    def program() -> None:
        SecretChain("c", {"monitor_namespace": Value("src", "x").id.apply(lambda _: "Bad_NS")})

    with pytest.raises(SecretChainError):
        evaluate(program, config=config, secret_keys=secret_keys, stack="production")
    (ev,) = recorded
    assert sorted(r.type for r in ev.registrations) == ["pulumi:pulumi:Stack", "test:index:Value"]


# --- issue 20, item 6: every error names what the caller passed; a PR stack refuses what it would ignore ---------------
# SecretChain hands each value to a part, which checked it under its own argument's name: a bad grafana_namespace was
# reported as `argument "namespace"`, a PR namespace in image_pull_namespaces as `"namespaces" item 0`, a
# flux_repository_url as `"repository_url"`, a github_repository (or the secret-chain:githubRepository setting) as
# `argument "repository"`. Now the chain tells the reader how the caller passed each (ConfigReader.naming).

NAMED: dict[str, tuple[dict[str, Any], dict[str, str], str, str]] = {
    "grafana_namespace": ({"grafana_namespace": "Bad_NS"}, {}, 'SecretChain argument "grafana_namespace" is not a valid', "namespace"),
    "image_pull_namespaces": (
        {"image_pull_namespaces": ["default", "Bad_NS"]},
        {},
        'SecretChain argument "image_pull_namespaces" item 1',
        "namespaces",
    ),
    "flux_repository_url": (
        {"flux_repository_url": "https://ghe.acme.io/acme/cluster"},
        {},
        'SecretChain argument "flux_repository_url" names a repository that is not on github.com',
        "repository_url",
    ),
    "github_repository": ({"github_repository": "other/platform"}, {}, 'SecretChain: argument "github_repository" names owner other', "repository"),
    "github_repository_setting": (
        {},
        {"secret-chain:githubRepository": "other/platform"},
        'SecretChain: config "secret-chain:githubRepository" names owner other',
        "repository",
    ),
}


@pytest.mark.parametrize("case", list(NAMED), ids=list(NAMED))
def test_a_chain_error_names_the_argument_or_setting_the_caller_gave(run: Run, case: str) -> None:
    args, config, says, part_name = NAMED[case]
    build = lambda: SecretChain("c", args)  # noqa: E731
    err = _refused(run, build) if not config else config_error(run, build, {**_config()[0], **config})
    assert any(p.startswith(says) for p in err.problems), err.problems
    assert not any(f'argument "{part_name}"' in p for p in err.problems), err.problems


def test_a_chain_argument_from_another_resource_is_named_as_passed_once_known() -> None:
    config, secret_keys = _config()

    def program() -> None:
        SecretChain("c", {"image_pull_namespaces": ["default", Value("src", "x").id.apply(lambda _: "Bad_NS")]})

    with pytest.raises(SecretChainError, match=r'SecretChain argument "image_pull_namespaces" item 1 is not a valid Kubernetes name'):
        evaluate(program, config=config, secret_keys=secret_keys, stack="production")


IGNORED_ON: dict[str, tuple[str, dict[str, Any], str]] = {
    "pr-app_namespace": ("preview-pr-7", {"app_namespace": "web"}, "a PR stack builds every part in its own namespace, preview-pr-7"),
    "pr-monitor_namespace": ("preview-pr-7", {"monitor_namespace": "monitoring"}, "its own namespace"),
    "pr-grafana_namespace": ("preview-pr-7", {"grafana_namespace": "monitoring"}, "its own namespace"),
    "pr-flux_repository_url": ("preview-pr-7", {"flux_repository_url": "https://github.com/acme/cluster"}, "never build FluxGitCredentials"),
    "pr-github_repository": ("preview-pr-7", {"github_repository": "acme/platform"}, "never build GitHubActionsSecrets, which"),
    "pr-acme_email": ("preview-pr-7", {"acme_email": "ops@acme.io"}, "never build CertManagerDnsIssuer"),
    "pr-gateway_namespace": ("preview-pr-7", {"gateway_namespace": "gateway"}, "never build CertManagerDnsIssuer.wildcards"),
    "base-monitor_namespace": ("preview-base", {"monitor_namespace": "monitoring"}, "never build PrometheusAuth"),
    "base-app_namespace": ("preview-base", {"app_namespace": "web"}, "never build Application namespace"),
    "production-gateway_namespace": ("production", {"gateway_namespace": "gateway"}, "never build CertManagerDnsIssuer.wildcards"),
}


@pytest.mark.parametrize("case", list(IGNORED_ON), ids=list(IGNORED_ON))
def test_an_argument_the_stack_would_ignore_is_refused(run: Run, case: str) -> None:
    """It used to be dropped without a word: the app deployed to web would find its Secrets in preview-pr-7."""
    stack, args, why = IGNORED_ON[case]
    (name,) = args
    err = config_error(run, lambda: SecretChain("c", args), *_config(), stack=stack)
    label = "preview-pr-<N>" if stack.startswith("preview-pr-") else stack
    (line,) = [p for p in err.problems if f'argument "{name}"' in p]
    assert line.startswith(f'SecretChain argument "{name}" is ignored on {label} stacks: ') and why in line
    assert line.endswith(f"Fix: leave it out on {label} stacks")


def test_a_pr_stack_takes_its_own_namespace_and_a_cluster_by_argument(run: Run) -> None:
    """What a PR stack does read stays accepted: its own namespace named explicitly, and the cluster (Cluster access is
    built on every stack kind, PR stacks included: components/secret_chain/parts.py), which needs digitalocean:token."""
    config, secret_keys = _config()
    own = {"app_namespace": "preview-pr-7", "monitor_namespace": "preview-pr-7", "grafana_namespace": "preview-pr-7"}
    ev = run(lambda: SecretChain("c", own), config, secret_keys, stack="preview-pr-7")
    assert {r.inputs["metadata"]["namespace"] for r in ev.of_type("kubernetes:core/v1:Secret")} == {"preview-pr-7"}
    token = {**config, "digitalocean:token": "dop_v1_" + "0a1b2c3d" * 8}
    ev = run(lambda: SecretChain("c", {"digitalocean_cluster": "pr-cluster"}), token, [*secret_keys, "digitalocean:token"], stack="preview-pr-7")
    assert ev.of_type("pulumi:providers:kubernetes")
