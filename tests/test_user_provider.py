"""A Kubernetes provider the user made is accepted when the user states that it enables mutable Secrets (issue 21 item 4).

A provider object does not expose its settings, so the components accept an explicit provider only when told:
``provider_enables_mutable_secrets=True`` in the args, or one made by ``secret_chain.kube.mutable_secrets_provider``.
Not even once registered: the SDK gives a ``pulumi_kubernetes.Provider`` an Output attribute per input
(pulumi/pulumi sdk/python/lib/pulumi/runtime/rpc.py ``transfer_properties``), but the engine's answer names them in
camelCase (pkg/resource/deploy/providers/registry.go ``Create``: ``Properties: filteredProperties``), which the
Provider class declares no getters for, so ``resolve_properties`` drops them and ``enable_secret_mutable`` resolves
to None (``test_a_provider_does_not_show_its_flag``). The guards that can see the flag keep refusing every value
pulumi-kubernetes reads as off: the default provider's config and environment variable (tests/test_pulumi_rules.py),
and ``mutable_secrets_provider``'s own argument (below).

How the provider reads its flag (pulumi/pulumi-kubernetes provider/pkg/provider/provider.go ``Configure``,
``enableSecretMutable``): the config value ``kubernetes:config:enableSecretMutable`` if present, on exactly for the
string ``true``; else ``PULUMI_K8S_ENABLE_SECRET_MUTABLE``, by the same rule; else off. The Python SDK sends the value
given as its JSON text (``pulumi.runtime.to_json``: ``True`` → ``true``, ``"true"`` → ``"true"`` with its quotes), and
when it is left out, its own reading of the variable (``_utilities.get_env_bool``: ``1``, ``t``, ``True`` … → ``true``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

import secret_chain
from secret_chain.errors import ConfigError
from tests.conftest import Run
from tests.test_chain import full_config
from tests.test_flux import URL

PROVIDER = "pulumi:providers:kubernetes"
SECRET = "kubernetes:core/v1:Secret"


def _provider(**kwargs: Any) -> pulumi.ProviderResource:
    from pulumi_kubernetes import Provider

    provider: pulumi.ProviderResource = Provider("mine", kubeconfig="apiVersion: v1\nkind: Config\n", **kwargs)
    return provider


# Every component that writes Secrets, with args that build it on the canary config (full_config for the chain).
COMPONENTS: dict[str, Callable[[dict[str, Any], pulumi.ResourceOptions], object]] = {
    "GhcrPullSecret": lambda extra, opts: secret_chain.GhcrPullSecret("pull", {"namespaces": ["apps"], **extra}, opts),
    "PrometheusAuth": lambda extra, opts: secret_chain.PrometheusAuth("metrics", {"namespace": "apps", **extra}, opts),
    "GrafanaOAuth": lambda extra, opts: secret_chain.GrafanaOAuth("grafana", {"namespace": "grafana", "domain": "example.com", **extra}, opts),
    "FluxGitCredentials": lambda extra, opts: secret_chain.FluxGitCredentials("flux", {"repository_url": URL, **extra}, opts),
    "FluxImageAutomation": lambda extra, opts: secret_chain.FluxImageAutomation(
        "images",
        {
            "author_name": "Image Bot",
            "author_email": "images@example.com",
            "images": [{"image": "ghcr.io/acme/api", "semver_range": "^1.0.0"}],
            **extra,
        },
        opts,
    ),
    "CertManagerDnsIssuer": lambda extra, opts: secret_chain.CertManagerDnsIssuer(
        "acme", {"email": "ops@example.com", "domain": "example.com", **extra}, opts
    ),
    "SecretChain": lambda extra, opts: secret_chain.SecretChain("chain", {**extra}, opts),  # type: ignore[typeddict-item]
}


def _config() -> tuple[dict[str, str], list[str]]:
    """Every key the components read, but not kubernetes:enableSecretMutable: the provider is the user's."""
    config, secret_keys = full_config()
    config["flux:githubToken"] = "github_pat_" + "a1" * 20 + "_" + "b2" * 8
    for key in ("flux:githubAppId", "flux:githubAppInstallationId", "flux:githubAppPrivateKey"):
        config.pop(key)
    secret_keys = [k for k in secret_keys if k in config] + ["flux:githubToken"]
    del config["kubernetes:enableSecretMutable"]
    return config, secret_keys


@pytest.mark.parametrize("component", sorted(COMPONENTS))
def test_a_provider_the_user_made_is_accepted_when_the_user_says_so(run: Run, component: str) -> None:
    """The issue's program: ``k8s.Provider("k", kubeconfig=…, enable_secret_mutable=True)`` in opts, and the statement."""
    config, secret_keys = _config()
    made: list[pulumi.ProviderResource] = []

    def program() -> None:
        made.append(_provider(enable_secret_mutable=True))
        COMPONENTS[component]({"provider_enables_mutable_secrets": True}, pulumi.ResourceOptions(providers=[made[0]]))

    ev = run(program, config, secret_keys)
    (provider,) = ev.of_type(PROVIDER)
    assert provider.inputs["enableSecretMutable"] == "true"  # what the SDK sends for True (pulumi.runtime.to_json)
    secrets = ev.of_type(SECRET)
    assert secrets, component
    # every Secret is written through the user's provider (a provider reference is "<urn>::<id>")
    assert {s.provider.split("::")[:-1] == provider.urn.split("::") for s in secrets} == {True}, [s.provider for s in secrets]


@pytest.mark.parametrize("component", sorted(COMPONENTS))
def test_without_the_statement_the_provider_is_still_refused_and_the_fix_names_it(run: Run, component: str) -> None:
    config, secret_keys = _config()
    caught: list[ConfigError] = []

    def program() -> None:
        try:
            COMPONENTS[component]({}, pulumi.ResourceOptions(providers=[_provider(enable_secret_mutable=True)]))
        except ConfigError as err:
            caught.append(err)

    ev = run(program, config, secret_keys)
    assert [r.type for r in ev.registrations] == ["pulumi:pulumi:Stack", PROVIDER]
    (error,) = caught
    assert "provider_enables_mutable_secrets=True" in str(error) and "mutable_secrets_provider" in str(error)


# (enable_secret_mutable given to the Provider or left out, PULUMI_K8S_ENABLE_SECRET_MUTABLE or unset)
CASES: list[tuple[object, str | None]] = [
    (True, None),
    (False, None),
    ("true", None),  # sent as "\"true\"": quoted JSON text, not the string true
    ("True", None),
    (1, None),
    (None, None),  # not sent; the provider falls back to the variable, unset: off
    (None, "true"),
    (None, "1"),  # the SDK reads 1 as True and sends true
    (None, "yes"),  # the SDK cannot read it and sends nothing; the provider reads "yes": off
    (None, " true"),
    (False, "true"),  # the provider's value wins over the variable
]


def provider_reads(given: object, environment: str | None) -> bool:
    """What pulumi-kubernetes makes of a Provider built from the Python SDK (the module docstring's rules)."""
    if given is None and environment is not None:
        given = {"1": True, "t": True, "T": True, "true": True, "TRUE": True, "True": True}.get(
            environment, {"0": False, "f": False, "F": False, "false": False, "FALSE": False, "False": False}.get(environment)
        )
    sent = None if given is None else json.dumps(given)
    return sent == "true" if sent is not None else environment == "true"


@pytest.mark.parametrize(("given", "environment"), CASES, ids=[f"{g!r}-{e!r}" for g, e in CASES])
def test_mutable_secrets_provider_refuses_every_value_the_provider_reads_as_off(
    run: Run, monkeypatch: pytest.MonkeyPatch, given: object, environment: str | None
) -> None:
    """The guard that sees the value: ``mutable_secrets_provider(enable_secret_mutable=…)`` accepts exactly what
    pulumi-kubernetes reads as on when the SDK sends it; a value left out is set to True (never left to the variable)."""
    from secret_chain.kube import mutable_secrets_provider

    if environment is not None:
        monkeypatch.setenv("PULUMI_K8S_ENABLE_SECRET_MUTABLE", environment)
    config, secret_keys = _config()
    kwargs = {} if given is None else {"enable_secret_mutable": given}
    accepted = given is None or provider_reads(given, environment)
    caught: list[ConfigError] = []

    def program() -> None:
        try:
            provider = mutable_secrets_provider("cluster", **kwargs)
        except ConfigError as err:
            caught.append(err)
            return
        secret_chain.PrometheusAuth("metrics", {"namespace": "apps"}, pulumi.ResourceOptions(provider=provider))

    ev = run(program, config, secret_keys)
    if accepted:
        (provider,) = ev.of_type(PROVIDER)
        assert provider.inputs["enableSecretMutable"] == "true" and len(ev.of_type(SECRET)) == 2
    else:
        assert [r.type for r in ev.registrations] == ["pulumi:pulumi:Stack"] and "enable_secret_mutable must be True" in str(caught[0])


def test_the_model_of_the_provider_agrees_with_what_the_sdk_sends(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """``provider_reads`` models the SDK's sending: check it against what the SDK really registers."""
    for given, environment in CASES:
        if environment is None:
            monkeypatch.delenv("PULUMI_K8S_ENABLE_SECRET_MUTABLE", raising=False)
        else:
            monkeypatch.setenv("PULUMI_K8S_ENABLE_SECRET_MUTABLE", environment)
        kwargs = {} if given is None else {"enable_secret_mutable": given}
        ev = run(lambda: _provider(**kwargs), {}, [])  # noqa: B023 - run before the next iteration
        (provider,) = ev.of_type(PROVIDER)
        sent = provider.inputs.get("enableSecretMutable")
        reads = sent == "true" if sent is not None else environment == "true"
        assert reads is provider_reads(given, environment), (given, environment, sent)


def test_a_provider_does_not_show_its_flag(run: Run) -> None:
    """Why the user must say it: the Provider's ``enable_secret_mutable`` attribute resolves to None although the
    engine (here the mock runtime) answers with the input, under its camelCase name."""
    seen: list[object] = []

    def program() -> None:
        provider = _provider(enable_secret_mutable=True)
        provider.__dict__["enable_secret_mutable"].apply(seen.append)

    ev = run(program, {}, [])
    assert ev.of_type(PROVIDER)[0].inputs["enableSecretMutable"] == "true"
    assert seen in ([None], [])  # None in update; unknown (the apply does not run) in preview


def test_the_statement_must_be_a_real_boolean(run: Run) -> None:
    config, secret_keys = _config()
    with pytest.raises(ConfigError, match=r'"provider_enables_mutable_secrets".*must be true or false'):
        run(
            lambda: secret_chain.PrometheusAuth(
                "metrics",
                {"namespace": "apps", "provider_enables_mutable_secrets": "true"},
                pulumi.ResourceOptions(provider=_provider(enable_secret_mutable=True)),
            ),
            config,
            secret_keys,
        )


def test_without_an_explicit_provider_the_statement_changes_nothing(run: Run) -> None:
    """The default provider's flag is stack config, which the components read: the statement does not replace it."""
    config, secret_keys = _config()
    with pytest.raises(ConfigError, match="kubernetes:enableSecretMutable"):
        run(lambda: secret_chain.PrometheusAuth("metrics", {"namespace": "apps", "provider_enables_mutable_secrets": True}), config, secret_keys)


def test_a_provider_reference_that_shows_no_flag_is_taken_at_the_users_word(run: Run) -> None:
    """Another language's provider reaches the component provider as a reference (``DependencyProviderResource``), which
    shows no inputs: the statement is all there is."""
    config, secret_keys = _config()

    def program() -> None:
        from pulumi.resource import DependencyProviderResource

        reference = DependencyProviderResource("urn:pulumi:production::secret-chain::pulumi:providers:kubernetes::theirs::0b1c")
        secret_chain.PrometheusAuth(
            "metrics", {"namespace": "apps", "provider_enables_mutable_secrets": True}, pulumi.ResourceOptions(provider=reference)
        )

    ev = run(program, config, secret_keys)
    assert {s.provider for s in ev.of_type(SECRET)} == {"urn:pulumi:production::secret-chain::pulumi:providers:kubernetes::theirs::0b1c"}


@pytest.mark.parametrize("component", sorted(COMPONENTS))
def test_a_providers_entry_beside_a_marked_provider_is_the_one_checked(run: Run, component: str) -> None:
    """For a component, ``opts.providers`` wins over ``opts.provider`` of the same package (pulumi/resource.py
    ``Resource._get_providers``: the ``provider`` then only warns, pulumi/pulumi#8799), so the children write through
    the ``providers`` entry. Before, the guard looked at ``opts.provider`` first: a marked provider there let an
    unmarked one, made with ``enable_secret_mutable=False``, write every Secret."""
    config, secret_keys = _config()
    caught: list[ConfigError] = []

    def program() -> None:
        marked = secret_chain.kube.mutable_secrets_provider("good", kubeconfig="apiVersion: v1\nkind: Config\n")
        opts = pulumi.ResourceOptions(provider=marked, providers=[_provider(enable_secret_mutable=False)])
        try:
            COMPONENTS[component]({}, opts)
        except ConfigError as err:
            caught.append(err)

    ev = run(program, config, secret_keys)
    assert not ev.of_type(SECRET)
    (error,) = caught
    assert "provider_enables_mutable_secrets=True" in str(error)
