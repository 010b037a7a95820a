"""SecretChain per stack kind: what each of production, preview-base and preview-pr-<N> owns."""

from __future__ import annotations

import json
import secrets

import pytest

from components import SecretChain
from components.errors import ConfigError
from components.ops.offline import Evaluation, unwrap
from tests.conftest import canary_config, rsa_pem, secret_data
from tests.leaks import find_leaks
from tests.runtime import evaluate
from tests.schemas import validate

_FLUX_PEM = rsa_pem()
"""The Flux App key of every full_config: an RSA key takes ~80 ms to generate (conftest's ci:githubAppPrivateKey is shared likewise)."""


def full_config() -> tuple[dict[str, str], list[str]]:
    """Every key of the chain, secrets as fresh canaries (but the two RSA keys, generated once per process)."""
    config, secret_keys = canary_config()
    extra = {
        "secret-chain:domain": ("example.com", False),
        "secret-chain:acmeEmail": ("ops@example.com", False),
        "secret-chain:gatewayNamespace": ("gateway", False),
        "secret-chain:fluxRepositoryUrl": ("https://github.com/acme/cluster", False),
        "flux:githubAppId": ("234567", False),
        "flux:githubAppInstallationId": ("3456789", False),
        "flux:githubAppPrivateKey": (_FLUX_PEM, True),
        "gateway:digitaloceanDnsToken": ("dop_v1_" + secrets.token_hex(32), True),
        "grafana:githubClientId": ("Ov23li" + secrets.token_hex(7), True),
        "grafana:githubClientSecret": (secrets.token_hex(20), True),
        "grafana:githubOrg": ("acme", False),
        "grafana:adminUser": ("octo-admin", False),
        "grafana:smtpHost": ("smtp.gmail.com", True),
        "grafana:smtpPort": ("587", False),
        "grafana:smtpUser": (f"alerts-{secrets.token_hex(6)}@example.com", True),
        "grafana:smtpPassword": (" ".join(secrets.token_hex(2) + "wxyz"[i] for i in range(4)), True),
        "grafana:smtpFromAddress": ("alerts@example.com", False),
        "grafana:alertEmail": ("oncall@example.com", False),
    }
    config.update({k: v for k, (v, _) in extra.items()})
    return config, secret_keys + [k for k, (_, s) in extra.items() if s]


def _run(stack: str, preview: bool, config: dict[str, str] | None = None, secret_keys: list[str] | None = None) -> Evaluation:
    if config is None:
        config, secret_keys = full_config()
    return evaluate(lambda: SecretChain("chain"), config=config, secret_keys=secret_keys, stack=stack, preview=preview)


def _kinds(ev: Evaluation) -> set[str]:
    return {r.type.rsplit(":", 1)[-1] for r in ev.resources}


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_production_builds_every_part(preview: bool) -> None:
    config, secret_keys = full_config()
    ev = _run("production", preview, config, secret_keys)
    (chain,) = [c for c in ev.components if c.type == "secret-chain:index:SecretChain"]
    parts = ev.component_outputs[chain.urn]["parts"]
    assert parts == ["GhcrPullSecret", "PrometheusAuth", "FluxGitCredentials", "CertManagerDnsIssuer", "GrafanaOAuth", "GitHubActionsSecrets"]
    assert {"ClusterIssuer", "GitRepository", "Secret", "ServiceMonitor", "ActionsSecret", "ActionsVariable"} <= _kinds(ev)
    assert "Certificate" not in _kinds(ev)  # wildcard certificates are preview-base's
    assert ev.component_outputs[chain.urn]["grafana_callback_url"] == "https://grafana.example.com/login/github"
    for obj in ev.kubernetes_objects():
        validate(obj)
    assert find_leaks(ev, [config[k] for k in secret_keys]) == []


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_preview_base_owns_the_shared_cluster_objects(preview: bool) -> None:
    ev = _run("preview-base", preview)
    certificates = [unwrap(r.inputs) for r in ev.resources if r.type.endswith(":Certificate")]
    assert sorted(c["spec"]["dnsNames"][0] for c in certificates) == ["*.pr-api.example.com", "*.pr-grafana.example.com", "*.pr.example.com"]
    assert {"ClusterIssuer", "GitRepository"} <= _kinds(ev)
    assert "GrafanaOAuth" not in str(ev.component_outputs)  # each PR runs its own Grafana


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_pr_stack_owns_only_its_namespace(preview: bool) -> None:
    config, secret_keys = full_config()
    ev = _run("preview-pr-123", preview, config, secret_keys)
    assert _kinds(ev) == {"Namespace", "Secret", "ServiceMonitor"}
    for reg in ev.resources:
        meta = reg.inputs["metadata"]
        if reg.type.endswith(":Namespace"):
            assert meta["name"] == "preview-pr-123"
        else:
            assert meta["namespace"] == "preview-pr-123", reg.urn
            (namespace,) = [r for r in ev.resources if r.type.endswith(":Namespace")]
            assert namespace.urn in reg.dependencies, reg.urn
    grafana = next(secret_data(r.inputs) for r in ev.resources if r.inputs["metadata"].get("name") == "grafana-oauth")
    assert grafana["GF_SERVER_ROOT_URL"] == "https://123.pr-grafana.example.com"
    assert grafana["GF_SMTP_ENABLED"] == "false"  # configured, but no alert mail from previews
    assert find_leaks(ev, [config[k] for k in secret_keys]) == []


def test_unknown_stack_name_is_refused_before_anything() -> None:
    config, secret_keys = full_config()
    caught: list[ConfigError] = []

    def program() -> None:
        try:
            SecretChain("chain")
        except ConfigError as err:
            caught.append(err)

    ev = evaluate(program, config=config, secret_keys=secret_keys, stack="staging")
    assert "production, preview-base or preview-pr-<N>" in str(caught[0])
    assert [r.type for r in ev.registrations] == ["pulumi:pulumi:Stack"]


def test_digitalocean_cluster_kubeconfig_is_fetched_and_secret() -> None:
    config, secret_keys = full_config()
    config["digitalocean:token"] = "dop_v1_" + secrets.token_hex(32)
    secret_keys.append("digitalocean:token")
    ev = evaluate(lambda: SecretChain("chain", {"digitalocean_cluster": "prod-cluster"}), config=config, secret_keys=secret_keys, stack="production")
    (provider,) = ev.of_type("pulumi:providers:kubernetes")
    from components.ops.offline import is_secret

    assert is_secret(provider.inputs["kubeconfig"])
    kube = [r for r in ev.resources if r.type.startswith("kubernetes:")]
    assert kube and all(r.provider.startswith(provider.urn + "::") for r in kube)
    github = [r for r in ev.resources if r.type.startswith("github:")]
    assert github and all(not r.provider.startswith(provider.urn) for r in github)


# --- issue 19: cluster access is explicit (the stack setting secret-chain:digitaloceanCluster) --------------------------

GET_CLUSTER = "digitalocean:index/getKubernetesCluster:getKubernetesCluster"


def _cluster_config(cluster: str | None = "prod-cluster") -> tuple[dict[str, str], list[str], str]:
    """full_config with the cluster setting (None: without it) and the stack's DigitalOcean token; and that token."""
    config, secret_keys = full_config()
    token = "dop_v1_" + secrets.token_hex(32)
    config["digitalocean:token"] = token
    if cluster is not None:
        config["secret-chain:digitaloceanCluster"] = cluster
    del config["kubernetes:enableSecretMutable"]  # the chain's own provider updates Secrets in place
    return config, [*secret_keys, "digitalocean:token"], token


def _fetching(kubeconfig: str, calls: list[dict[str, object]]) -> dict[str, object]:
    """The mock runtime's invokes, with getKubernetesCluster answering ``kubeconfig`` and recording its arguments."""
    from components.ops.offline import DEFAULT_INVOKES

    def cluster(args: dict[str, object]) -> dict[str, object]:
        calls.append(dict(args))
        return {"id": f"{args['name']}-uuid", "name": args["name"], "kubeConfigs": [{"rawConfig": kubeconfig, "expiresAt": "soon"}]}

    return {**DEFAULT_INVOKES, GET_CLUSTER: cluster}


@pytest.mark.parametrize("stack", ["production", "preview-base", "preview-pr-7"])
@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_the_cluster_setting_builds_an_explicit_provider_from_the_fetched_kubeconfig(stack: str, preview: bool) -> None:
    """Issue 19, CI cannot reach the cluster: with ``secret-chain:digitaloceanCluster`` the program fetches the kubeconfig on
    this run (pulumi-digitalocean getKubernetesCluster: a preview runs invokes too) and every Kubernetes object uses the
    explicit provider built from it, kept secret. Without it pulumi-kubernetes falls back to the ambient kubeconfig, and
    with none it marks the cluster unreachable and fails create, read and delete (pulumi-kubernetes
    provider/pkg/provider/provider.go: "configured Kubernetes cluster is unreachable")."""
    from components.chain import KUBECONFIG_EXPIRY_SECONDS
    from components.ops.offline import is_secret

    user_token = "doks_" + secrets.token_hex(24)
    kubeconfig = json.dumps({"apiVersion": "v1", "kind": "Config", "users": [{"name": "u", "user": {"token": user_token}}]})
    calls: list[dict[str, object]] = []
    config, secret_keys, token = _cluster_config()
    ev = evaluate(lambda: SecretChain("chain"), config=config, secret_keys=secret_keys, stack=stack, preview=preview,
                  invokes=_fetching(kubeconfig, calls))  # fmt: skip
    # Fetched on this run, for the cluster the setting names, valid for an hour (not DigitalOcean's default 7 days).
    assert calls == [{"name": "prod-cluster", "kubeconfigExpireSeconds": KUBECONFIG_EXPIRY_SECONDS}]
    (provider,) = ev.of_type("pulumi:providers:kubernetes")
    assert is_secret(provider.inputs["kubeconfig"]) and unwrap(provider.inputs["kubeconfig"]) == kubeconfig
    assert unwrap(provider.inputs)["enableSecretMutable"] in (True, "true")
    assert unwrap(provider.inputs)["clusterIdentifier"] == "prod-cluster-uuid"  # a new token each run is no replacement
    kube = [r for r in ev.resources if r.type.startswith("kubernetes:")]
    assert kube and all(r.provider.startswith(provider.urn + "::") for r in kube)
    # The cluster's token is only in the provider's kubeconfig, a secret there; the DigitalOcean token is nowhere.
    assert find_leaks(ev, [token, user_token, *(config[k] for k in secret_keys)]) == []


def test_the_argument_wins_over_the_cluster_setting() -> None:
    calls: list[dict[str, object]] = []
    config, secret_keys, _ = _cluster_config("from-setting")
    evaluate(lambda: SecretChain("chain", {"digitalocean_cluster": "from-argument"}), config=config, secret_keys=secret_keys,
             invokes=_fetching("{}", calls))  # fmt: skip
    assert [c["name"] for c in calls] == ["from-argument"]


def test_without_the_setting_the_chain_uses_the_ambient_kubeconfig() -> None:
    calls: list[dict[str, object]] = []
    config, secret_keys, _ = _cluster_config(None)
    config["kubernetes:enableSecretMutable"] = "true"  # the default provider's flag is needed again
    ev = evaluate(lambda: SecretChain("chain"), config=config, secret_keys=secret_keys, invokes=_fetching("{}", calls))
    assert calls == [] and ev.of_type("pulumi:providers:kubernetes") == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"digitalocean:token": None}, 'config "digitalocean:token" is missing'),
        ({"secret-chain:digitaloceanCluster": "Prod_Cluster"}, 'config "secret-chain:digitaloceanCluster"'),
    ],
    ids=["no-token", "bad-name"],
)
def test_the_cluster_setting_needs_the_token_and_a_valid_name(change: dict[str, str | None], message: str) -> None:
    """The fetch needs the environment's ``digitalocean:token``: its absence stops the program before anything exists."""
    config, secret_keys, _ = _cluster_config()
    for key, value in change.items():
        if value is None:
            del config[key]
        else:
            config[key] = value
    caught: list[ConfigError] = []

    def program() -> None:
        try:
            SecretChain("chain")
        except ConfigError as err:
            caught.append(err)

    ev = evaluate(program, config=config, secret_keys=secret_keys)
    assert caught and message in str(caught[0])
    assert not ev.resources


# --- arguments that come from other resources (issue: first real run, item 6) ------------------------------------


def _from_resources() -> dict[str, object]:
    """SecretChain args taken from other resources' outputs, as a program wires them."""
    import pulumi
    from pulumi_kubernetes.core.v1 import Namespace

    def name_of(name: str) -> pulumi.Output[str]:
        return Namespace(f"ns-{name}", metadata={"name": name}).metadata.name

    return {
        "app_namespace": name_of("apps"),
        "monitor_namespace": name_of("observability"),
        "grafana_namespace": name_of("grafana"),
        "github_repository": pulumi.Output.from_input("acme/platform"),
        "acme_email": pulumi.Output.from_input("ops@example.com"),
        "flux_repository_url": pulumi.Output.from_input("https://github.com/acme/cluster"),
    }


def test_chain_args_may_come_from_other_resources(preview: bool) -> None:
    config, secret_keys = full_config()
    ev = evaluate(lambda: SecretChain("chain", _from_resources()), config=config, secret_keys=secret_keys, preview=preview)
    namespaces = {r.inputs["metadata"]["name"]: r.urn for r in ev.of_type("kubernetes:core/v1:Namespace")}
    secrets_ = {(r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): r for r in ev.of_type("kubernetes:core/v1:Secret")}
    assert ("apps", "ghcr-pull-secret") in secrets_ and ("apps", "prometheus-auth") in secrets_
    assert ("observability", "apps-prometheus-auth") in secrets_ and ("grafana", "grafana-oauth") in secrets_
    # a child placed by another resource's output depends on that resource (the engine orders and tracks it)
    assert namespaces["apps"] in secrets_[("apps", "prometheus-auth")].dependencies
    assert namespaces["grafana"] in secrets_[("grafana", "grafana-oauth")].dependencies
    (issuer,) = ev.of_type("kubernetes:cert-manager.io/v1:ClusterIssuer")
    assert unwrap(issuer.inputs)["spec"]["acme"]["email"] == "ops@example.com"
    assert {r.inputs.get("repository") for r in ev.resources if r.type.startswith("github:index/actions")} == {"platform"}


def test_a_chain_arg_from_another_resource_is_checked_once_known() -> None:
    import pulumi

    config, secret_keys = full_config()
    failures: list[str] = []

    def program() -> None:
        chain = SecretChain("chain", {"acme_email": pulumi.Output.from_input("not-an-email")})
        chain.app_namespace.apply(lambda _: None)

    try:
        evaluate(program, config=config, secret_keys=secret_keys)
    except Exception as err:  # the engine reports a failed registration; the mock runtime raises it
        failures.append(str(err))
    assert failures and 'argument "acme_email"' in failures[0] and "not a valid email" in failures[0]


# --- issue 15 item 4: SecretChain wires FluxImageAutomation to FluxGitCredentials ----------------------------------

IMAGES = {
    "images": [{"image": "ghcr.io/acme/api", "semver_range": "^1.0.0"}],
    "github_app_slug": "acme-flux",
    "github_app_bot_user_id": "41898282",
}


def _chain_with_images(stack: str, preview: bool) -> Evaluation:
    config, secret_keys = full_config()
    return evaluate(lambda: SecretChain("chain", {"image_automation": IMAGES}), config=config, secret_keys=secret_keys, stack=stack, preview=preview)


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
@pytest.mark.parametrize("stack", ["production", "preview-base"])
def test_the_chain_wires_image_automation_to_its_flux_source(stack: str, preview: bool) -> None:
    ev = _chain_with_images(stack, preview)
    (chain,) = [c for c in ev.components if c.type == "secret-chain:index:SecretChain"]
    (credentials,) = [c for c in ev.components if c.type == "secret-chain:index:FluxGitCredentials"]
    (images,) = [c for c in ev.components if c.type == "secret-chain:index:FluxImageAutomation"]
    # Two components side by side under the chain, the automation after the credentials it pushes with.
    assert credentials.parent == chain.urn and images.parent == chain.urn
    # depends_on a component is on its resources (the SDK expands it): the credentials' Secret and GitRepository.
    owned = {r.urn for r in ev.resources if r.parent == credentials.urn}
    assert owned and owned <= set(images.dependencies)
    assert "FluxImageAutomation" in ev.component_outputs[chain.urn]["parts"]
    (source,) = [unwrap(r.inputs) for r in ev.resources if r.type.endswith(":GitRepository")]
    (automation,) = [unwrap(r.inputs) for r in ev.resources if r.type.endswith(":ImageUpdateAutomation")]
    # The automation runs on the chain's own GitRepository, in its namespace (preview-base: the -preview one).
    assert automation["spec"]["sourceRef"]["name"] == source["metadata"]["name"]
    assert automation["metadata"]["namespace"] == source["metadata"]["namespace"]
    for obj in ev.kubernetes_objects():
        validate(obj)


def test_a_pr_stack_refuses_image_automation_it_cannot_build() -> None:
    config, secret_keys = full_config()
    caught: list[ConfigError] = []

    def program() -> None:
        try:
            SecretChain("chain", {"image_automation": IMAGES})
        except ConfigError as err:
            caught.append(err)

    ev = evaluate(program, config=config, secret_keys=secret_keys, stack="preview-pr-3")
    assert caught and 'argument "image_automation" needs FluxGitCredentials' in str(caught[0])
    assert not ev.resources


def test_the_chain_without_image_automation_registers_what_it_did() -> None:
    assert not [c for c in _run("production", False).components if c.type == "secret-chain:index:FluxImageAutomation"]
