"""Arguments that come from other resources (issue 11, item 6).

``PrometheusAuth("m", {"namespace": ns.metadata.name})`` is the most common line of a Pulumi program:
every name, namespace, domain, repository, URL, email, branch, org and admin user may be another
resource's ``Output``. These tests feed each component's fields from other resources and check that

* the component registers exactly what it registers for the same plain values (same URNs, same inputs,
  same secret markers), except GhcrPullSecret's per-namespace children, whose logical names cannot come
  from a value that is not known yet (they are positional for Output items);
* every child whose inputs carry such a value depends on the resource it came from;
* a bad value fails with the very message the same plain value gets (a ``SecretChainError`` once the
  Output is known, instead of the ``ConfigError`` raised before anything is registered), never echoing it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from secret_chain.certmanager import CertManagerDnsIssuer
from secret_chain.errors import ConfigError, SecretChainError
from secret_chain.flux import FluxGitCredentials
from secret_chain.ghcr import GhcrPullSecret
from secret_chain.github_actions import GitHubActionsSecrets
from secret_chain.grafana import GrafanaOAuth
from secret_chain.ops.offline import Evaluation, Registration, is_secret, unwrap
from secret_chain.prometheus import PrometheusAuth
from tests.conftest import canary_config, rsa_pem, secret_data
from tests.runtime import evaluate

Config = tuple[dict[str, str], list[str]]
VALUE_TYPE = "test:index:Value"
PEM = rsa_pem()


class Value(pulumi.CustomResource):
    """A resource with one output, ``value``: its input echoed back (known in preview too, like ``metadata.name``)."""

    value: pulumi.Output[str]

    def __init__(self, name: str, value: str) -> None:
        super().__init__(VALUE_TYPE, name, {"value": value})


def from_resource(name: str, value: str) -> pulumi.Output[str]:
    """``value``, as another resource's output."""
    return Value(name, value).value


def _namespace_name(name: str) -> pulumi.Output[str]:
    """The name of a ``kubernetes.core.v1.Namespace`` the program creates."""
    from pulumi_kubernetes.core.v1 import Namespace

    return Namespace(f"ns-{name}", metadata={"name": name}).metadata.name


def _config(**extra: str) -> Config:
    config, secret_keys = canary_config()
    return {**config, **extra}, secret_keys


def _pat() -> str:
    return "github_pat_" + secrets.token_hex(20) + "_" + secrets.token_hex(8)


# A component, its plain args (distinctive values), and the fields fed from other resources.
# "field[i]" feeds one item of a list field.
CASES: dict[str, tuple[Callable[[str, Any], object], dict[str, Any], list[str]]] = {
    "GhcrPullSecret": (
        GhcrPullSecret,
        {"namespaces": ["apps-ns", "web-ns"], "registry": "registry.example.org", "secret_name": "pull-creds", "username": "octo-bot"},
        ["namespaces[0]", "namespaces[1]", "registry", "secret_name", "username"],
    ),
    "PrometheusAuth": (
        PrometheusAuth,
        {"namespace": "apps-ns", "monitor_namespace": "mon-ns", "app": "shop", "secret_name": "metrics-token"},
        ["namespace", "monitor_namespace", "app", "secret_name"],
    ),
    "PrometheusAuth-one-namespace": (
        PrometheusAuth,
        {"namespace": "apps-ns", "monitor_namespace": "apps-ns"},
        ["namespace", "monitor_namespace"],
    ),
    "GitHubActionsSecrets-environment": (
        GitHubActionsSecrets,
        {"repository": "acme/platform", "environment": "staging-env"},
        ["repository", "environment"],
    ),
    "GitHubActionsSecrets-organisation": (
        GitHubActionsSecrets,
        {"repository": "acme/platform", "organization_repositories": ["platform", "cluster"]},
        ["repository", "organization_repositories[1]"],
    ),
    "FluxGitCredentials": (
        FluxGitCredentials,
        {
            "repository_url": "https://github.com/acme/cluster",
            "branch": "release",
            "namespace": "flux-ns",
            "name": "cluster-repo",
            "secret_name": "git-creds",
            "token": _pat(),
            "image_automation": {
                "author_name": "Image Bot",
                "author_email": "images@example.org",
                "images": [{"image": "ghcr.io/acme/api", "semver_range": "^1.4.0"}],
            },
        },
        ["repository_url", "branch", "namespace", "name", "secret_name"],
    ),
    "FluxGitCredentials-automation": (
        FluxGitCredentials,
        {
            "repository_url": "https://github.com/acme/cluster",
            "branch": "main",
            "token": _pat(),
            "image_automation": {
                "images": [{"image": "ghcr.io/acme/api", "semver_range": "^1.4.0"}],
                "name": "cluster-images",
                "push_branch": "bot-updates",
                "pull_secret_name": "registry-creds",
                "author_name": "Image Bot",
                "author_email": "images@example.org",
            },
        },
        [
            "branch",
            "image_automation.name",
            "image_automation.push_branch",
            "image_automation.pull_secret_name",
            "image_automation.author_name",
            "image_automation.author_email",
        ],
    ),
    "FluxGitCredentials-app": (
        FluxGitCredentials,
        {
            "repository_url": "https://github.com/acme/cluster",
            "github_app_id": "234567",
            "github_app_installation_id": "3456789",
            "github_app_private_key": PEM,
        },
        ["repository_url"],
    ),
    "CertManagerDnsIssuer": (
        CertManagerDnsIssuer,
        {
            "email": "ops@example.org",
            "domain": "example.org",
            "issuer_name": "le-prod",
            "cluster_resource_namespace": "cm-ns",
            "secret_name": "do-dns",
            "certificate_namespace": "certs-ns",
            "wildcard_hosts": ["*.pr.example.org"],
            "token": "dop_v1_" + secrets.token_hex(32),
        },
        ["email", "domain", "issuer_name", "cluster_resource_namespace", "secret_name", "certificate_namespace"],
    ),
    "GrafanaOAuth": (
        GrafanaOAuth,
        {
            "namespace": "graf-ns",
            "domain": "example.org",
            "secret_name": "graf-env",
            "client_id": "Iv1." + secrets.token_hex(8),
            "client_secret": secrets.token_hex(20),
            "github_org": "acme-org",
            "admin_user": "octo-admin",
            "smtp_host": "smtp.example.net",
            "smtp_port": 587,
            "smtp_user": "alerts@example.net",
            "smtp_password": "abcd efgh ijkl mnop",
            "smtp_from_address": "grafana@example.org",
            "alert_email": "oncall@example.org",
        },
        ["namespace", "domain", "secret_name", "github_org", "admin_user", "smtp_from_address", "alert_email"],
    ),
}


def _source_name(field: str) -> str:
    """The feeding resource's name: ``src-namespaces-0`` for ``namespaces[0]``."""
    return "src-" + field.replace("[", "-").rstrip("]")


def _path(field: str) -> list[str | int]:
    """``image_automation.push_branch`` → ["image_automation", "push_branch"]; ``namespaces[1]`` → ["namespaces", 1]."""
    key, _, index = field.rstrip("]").partition("[")
    return [*key.split("."), *([int(index)] if index else [])]


def _field_value(args: dict[str, Any], field: str) -> Any:
    value: Any = args
    for step in _path(field):
        value = value[step]
    return value


def _with(args: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    """A copy of ``args`` with ``field`` set to ``value`` (the containers on the way copied)."""
    *parents, last = _path(field)
    out = dict(args)
    container: Any = out
    for step in parents:
        container[step] = list(container[step]) if isinstance(container[step], list) else dict(container[step])
        container = container[step]
    container[last] = value
    return out


def fed(args: dict[str, Any], fields: list[str], source: Callable[[str, str], pulumi.Output[str]] = from_resource) -> dict[str, Any]:
    """``args`` with each of ``fields`` taken from another resource (``source(resource name, value)``)."""
    for field in fields:
        args = _with(args, field, source(_source_name(field), _field_value(args, field)))
    return args


def _depends_on(ev: Evaluation, reg: Registration) -> set[str]:
    """The URNs ``reg`` waits for, directly or through the resources it waits for (a wildcard Certificate,
    whose host names are plain, waits for the ClusterIssuer that carries the domain)."""
    by_urn = {r.urn: r for r in ev.registrations}
    seen: set[str] = set()
    todo = list(reg.dependencies)
    while todo:
        urn = todo.pop()
        if urn not in seen:
            seen.add(urn)
            todo.extend(by_urn[urn].dependencies if urn in by_urn else ())
    return seen


def _children(ev: Evaluation) -> list[Registration]:
    return [r for r in ev.registrations if r.type not in (VALUE_TYPE, "pulumi:pulumi:Stack", "kubernetes:core/v1:Namespace")]


def _text(reg: Registration) -> str:
    return json.dumps(unwrap(reg.inputs), sort_keys=True)


@pytest.mark.parametrize("case", sorted(CASES))
def test_fields_fed_from_other_resources_register_what_plain_values_do(case: str) -> None:
    cls, args, fields = CASES[case]
    config = _config(**{"github:owner": "acme"})
    plain = evaluate(lambda: cls("c", args), config=config[0], secret_keys=config[1])
    outputs = evaluate(lambda: cls("c", fed(args, fields)), config=config[0], secret_keys=config[1])
    sources = {r.name: r.urn for r in outputs.of_type(VALUE_TYPE)}
    assert len(sources) == len(fields)

    by_plain = {r.name: r for r in _children(plain)}
    by_output = {r.name: r for r in _children(outputs)}
    if case == "GhcrPullSecret":
        # Logical names come from plain namespaces only; Output items are named by position.
        renamed = {"c-namespaces[0]": "c-apps-ns", "c-namespaces[1]": "c-web-ns"}
        by_output = {renamed.get(n, n): r for n, r in by_output.items()}
    assert sorted(by_output) == sorted(by_plain)
    for name, reg in by_plain.items():
        other = by_output[name]
        assert other.type == reg.type
        assert other.inputs == reg.inputs, f"{name}: inputs (or their secret markers) differ from the plain run"
        if case != "GhcrPullSecret":
            assert other.urn == reg.urn
        # Every child that carries a value from another resource depends on that resource (a value
        # that two fed fields share cannot be told apart: the child needs only one of them).
        values = {field: _field_value(args, field) for field in fields}
        for field, value in values.items():
            source = sources[_source_name(field)]
            if reg.custom and value in _text(reg) and list(values.values()).count(value) == 1:
                assert source in _depends_on(outputs, other), f"{name} carries {field} but does not depend on {source}"
    # By URN: the order RegisterResourceOutputs calls arrive in is the SDK's scheduling, not part of the result.
    assert plain.component_outputs == outputs.component_outputs


def test_the_headline_prometheus_in_a_namespace_the_program_creates() -> None:
    config, secret_keys = canary_config()

    def program() -> None:
        PrometheusAuth("m", {"namespace": _namespace_name("shop")})

    ev = evaluate(program, config=config, secret_keys=secret_keys)
    (namespace,) = ev.of_type("kubernetes:core/v1:Namespace")
    secrets_ = {r.name: r for r in ev.of_type("kubernetes:core/v1:Secret")}
    assert secrets_["m-app"].inputs["metadata"]["namespace"] == "shop"
    assert secrets_["m-monitor"].inputs["metadata"]["name"] == "shop-prometheus-auth"
    (monitor,) = ev.of_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")
    assert monitor.inputs["metadata"]["name"] == "shop-api"
    assert monitor.inputs["spec"]["namespaceSelector"] == {"matchNames": ["shop"]}
    for reg in (secrets_["m-app"], secrets_["m-monitor"], monitor):
        assert namespace.urn in reg.dependencies


# --------------------------------------------------------------------------------------------------
# A bad value from another resource fails with the message the same plain value gets
# --------------------------------------------------------------------------------------------------

# (case, field, bad value, extra config)
BAD: list[tuple[str, str, Any, dict[str, str]]] = [
    ("PrometheusAuth", "namespace", "Shop_NS", {}),
    ("PrometheusAuth", "app", "-shop", {}),
    ("PrometheusAuth", "secret_name", "Bad Name", {}),
    ("GhcrPullSecret", "namespaces[1]", "Web_NS", {}),
    ("GhcrPullSecret", "namespaces[1]", "apps-ns", {}),  # the same namespace twice
    ("GhcrPullSecret", "username", "-octo", {}),
    ("GhcrPullSecret", "username", 42, {}),
    ("PrometheusAuth", "token", 42, {}),  # a secret argument
    ("GhcrPullSecret", "registry", "not a host", {}),
    ("GitHubActionsSecrets-environment", "repository", "acme/platform/extra", {}),
    ("GitHubActionsSecrets-environment", "repository", "other/platform", {"github:owner": "acme"}),
    ("GitHubActionsSecrets-environment", "environment", "  ", {}),
    ("GitHubActionsSecrets-organisation", "organization_repositories[1]", "not a repo!", {"github:owner": "acme"}),
    ("FluxGitCredentials", "repository_url", "http://github.com/acme/cluster", {}),
    ("FluxGitCredentials", "branch", "a..b", {}),
    ("FluxGitCredentials", "branch", "flux-image-updates", {}),  # the automation's push branch
    ("FluxGitCredentials", "namespace", "Flux", {}),
    ("FluxGitCredentials-automation", "image_automation.push_branch", "main", {}),  # the reconciled branch
    ("FluxGitCredentials-automation", "image_automation.author_email", "images", {}),
    ("FluxGitCredentials-automation", "image_automation.name", "Images", {}),
    ("FluxGitCredentials-app", "repository_url", "https://git.example.org/acme/cluster", {}),  # App mode needs a base URL there
    ("CertManagerDnsIssuer", "email", "not-an-email", {}),
    ("CertManagerDnsIssuer", "domain", "example.net", {}),  # the wildcard host lies outside it
    ("CertManagerDnsIssuer", "certificate_namespace", "Certs", {}),
    ("GrafanaOAuth", "domain", "nodot", {}),
    ("GrafanaOAuth", "github_org", "-acme", {}),
    ("GrafanaOAuth", "admin_user", "octo--admin", {}),
    ("GrafanaOAuth", "alert_email", "oncall", {}),
    ("GrafanaOAuth", "namespace", 42, {}),
]


@pytest.mark.parametrize(("case", "field", "bad", "extra"), BAD, ids=[f"{c}.{f}={b!r}" for c, f, b, _ in BAD])
def test_a_bad_value_from_another_resource_fails_with_the_plain_message(case: str, field: str, bad: Any, extra: dict[str, str]) -> None:
    cls, args, _ = CASES[case]
    config, secret_keys = _config(**extra)
    plain_args = _with(args, field, bad)
    with pytest.raises(ConfigError) as plain:
        evaluate(lambda: cls("c", plain_args), config=config, secret_keys=secret_keys)
    (expected,) = plain.value.problems

    def program() -> None:
        source = Value("src", "placeholder").value.apply(lambda _: bad)
        cls("c", _with(args, field, source))

    with pytest.raises(SecretChainError) as raised:
        evaluate(program, config=config, secret_keys=secret_keys)
    assert not isinstance(raised.value, ConfigError)
    assert str(raised.value) == expected


def test_a_bad_value_is_not_echoed_even_when_it_comes_from_a_secret_output() -> None:
    canary = "Canary_" + secrets.token_hex(8)
    config, secret_keys = canary_config()

    def program() -> None:
        PrometheusAuth("m", {"namespace": pulumi.Output.secret(from_resource("src", canary))})

    with pytest.raises(SecretChainError) as raised:
        evaluate(program, config=config, secret_keys=secret_keys)
    assert 'PrometheusAuth argument "namespace" is not a valid Kubernetes name' in str(raised.value)
    assert canary not in str(raised.value) and canary.lower() not in str(raised.value)


def test_plain_problems_are_still_reported_together_before_anything_is_registered() -> None:
    config, secret_keys = canary_config()
    caught: list[ConfigError] = []

    def program() -> None:
        try:
            PrometheusAuth("m", {"namespace": from_resource("src", "shop"), "monitor_namespace": "Bad_NS", "app": "-x"})
        except ConfigError as err:
            caught.append(err)

    ev = evaluate(program, config=config, secret_keys=secret_keys)
    assert [r.type for r in ev.registrations] == ["pulumi:pulumi:Stack", VALUE_TYPE]
    (err,) = caught
    assert [p.split(" is ")[0] for p in err.problems] == ['PrometheusAuth argument "monitor_namespace"', 'PrometheusAuth argument "app"']


# --------------------------------------------------------------------------------------------------
# GhcrPullSecret: child names from plain namespaces as before, positional for Output items
# --------------------------------------------------------------------------------------------------


def test_ghcr_children_keep_their_names_for_plain_namespaces_and_are_positional_for_outputs() -> None:
    config, secret_keys = canary_config()

    def program() -> None:
        GhcrPullSecret(
            "pull",
            {"namespaces": ["default", _namespace_name("shop"), "apps"], "attach_to_default_service_account": True},
        )

    ev = evaluate(program, config=config, secret_keys=secret_keys)
    names = sorted(r.name for r in ev.registrations if r.parent.endswith("GhcrPullSecret::pull"))
    assert names == sorted([
        "pull-default",
        "pull-default-default-sa",
        "pull-namespaces[1]",
        "pull-namespaces[1]-default-sa",
        "pull-apps",
        "pull-apps-default-sa",
    ])
    (namespace,) = ev.of_type("kubernetes:core/v1:Namespace")
    by_name = {r.name: r for r in ev.registrations}
    assert by_name["pull-namespaces[1]"].inputs["metadata"]["namespace"] == "shop"
    assert by_name["pull-namespaces[1]-default-sa"].inputs["metadata"]["namespace"] == "shop"
    assert namespace.urn in by_name["pull-namespaces[1]"].dependencies
    assert namespace.urn not in by_name["pull-default"].dependencies
    (pull,) = [c for urn, c in ev.component_outputs.items() if urn.endswith("::pull")]
    assert pull["secret_names"] == {"default": "ghcr-pull-secret", "shop": "ghcr-pull-secret", "apps": "ghcr-pull-secret"}


def test_ghcr_namespaces_given_as_one_output_is_refused_before_anything_is_registered() -> None:
    config, secret_keys = canary_config()
    caught: list[ConfigError] = []

    def program() -> None:
        try:
            GhcrPullSecret("pull", {"namespaces": pulumi.Output.from_input(["default"])})  # type: ignore[typeddict-item]
        except ConfigError as err:
            caught.append(err)

    evaluate(program, config=config, secret_keys=secret_keys)
    (err,) = caught
    assert str(err).startswith('GhcrPullSecret argument "namespaces" must be a list')
    assert "each item may be an Output" in str(err)


def test_awaitables_are_inputs_too() -> None:
    """``pulumi.Input[T]`` is T, Awaitable[T] or Output[T]: an awaitable name or secret works like an Output."""
    config, secret_keys = canary_config()
    token = secrets.token_hex(32)

    async def later(value: str) -> str:
        return value

    ev = evaluate(
        lambda: PrometheusAuth("m", {"namespace": later("shop"), "token": later(token)}),
        config=config,
        secret_keys=secret_keys,
    )
    app = next(r for r in ev.of_type("kubernetes:core/v1:Secret") if r.name == "m-app")
    assert app.inputs["metadata"]["namespace"] == "shop"
    assert is_secret(app.inputs["data"])
    assert secret_data(app.inputs) == {"PROMETHEUS_AUTH_TOKEN": token}


# (case, field, bad value that a cross-check quotes, extra config, words the message must have)
CROSS_CHECKS: list[tuple[str, str, str, dict[str, str], str]] = [
    ("GitHubActionsSecrets-environment", "repository", "othercorp/platform", {"github:owner": "acme"}, 'config "github:owner" is acme'),
    ("FluxGitCredentials-app", "repository_url", "https://git.othercorp.net/acme/cluster", {}, "not on github.com"),
    ("FluxGitCredentials-automation", "branch", "bot-updates", {}, "is the reconciled branch"),
    ("CertManagerDnsIssuer", "domain", "othercorp.net", {}, "lie outside every DNS zone"),
]


@pytest.mark.parametrize(("case", "field", "bad", "extra", "words"), CROSS_CHECKS, ids=[f"{c}.{f}" for c, f, *_ in CROSS_CHECKS])
def test_a_check_across_arguments_never_quotes_a_secret_output(case: str, field: str, bad: str, extra: dict[str, str], words: str) -> None:
    """The checks that compare two values quote a plain value (as the ConfigError does), never a secret one."""
    cls, args, _ = CASES[case]
    config, secret_keys = _config(**extra)

    def program(secret: bool) -> Callable[[], None]:
        def build() -> None:
            value = from_resource("src", bad)
            cls("c", _with(args, field, pulumi.Output.secret(value) if secret else value))

        return build

    with pytest.raises(SecretChainError) as plain:
        evaluate(program(False), config=config, secret_keys=secret_keys)
    with pytest.raises(SecretChainError) as secret:
        evaluate(program(True), config=config, secret_keys=secret_keys)
    assert words in str(plain.value) and words in str(secret.value)
    quoted = bad.split("/")[2 if "://" in bad else 0].removeprefix("git.")
    assert quoted in str(plain.value), "a plain value is named, as in the ConfigError"
    assert quoted not in str(secret.value), f"a secret value is quoted: {secret.value}"
