"""SecretChain per stack kind: what each of production, preview-base and preview-pr-<N> owns."""

from __future__ import annotations

import json
import secrets

import pytest

from secret_chain import SecretChain, catalog
from secret_chain.errors import ConfigError
from secret_chain.ops.offline import Evaluation, unwrap
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
    assert {"ClusterIssuer", "GitRepository", "Secret", "ServiceMonitor", "ActionsEnvironmentSecret", "ActionsEnvironmentVariable"} <= _kinds(ev)
    assert "RepositoryEnvironment" in _kinds(ev) and not {"ActionsSecret", "ActionsVariable"} & _kinds(ev)
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
    # Issue 21 item 2: any name, once the stack declares its kind; one line naming the setting and its fix otherwise.
    (line,) = caught[0].problems
    assert line.startswith(f'SecretChain: stack staging declares no kind (config "{catalog.STACK_KIND.key}")'), line
    assert f"Fix: pulumi config set {catalog.STACK_KIND.key} production" in line
    assert [r.type for r in ev.registrations] == ["pulumi:pulumi:Stack"]


def test_digitalocean_cluster_kubeconfig_is_fetched_and_secret() -> None:
    config, secret_keys = full_config()
    config["digitalocean:token"] = "dop_v1_" + secrets.token_hex(32)
    secret_keys.append("digitalocean:token")
    ev = evaluate(lambda: SecretChain("chain", {"digitalocean_cluster": "prod-cluster"}), config=config, secret_keys=secret_keys, stack="production")
    (provider,) = ev.of_type("pulumi:providers:kubernetes")
    from secret_chain.ops.offline import is_secret

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
    from secret_chain.ops.offline import DEFAULT_INVOKES

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
    from secret_chain.chain import KUBECONFIG_EXPIRY_SECONDS
    from secret_chain.ops.offline import is_secret

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


# --- issue 19: image automation on production and preview-base, built by the stack program ------------------------

SETTING = {
    "images": [
        {"image": "ghcr.io/acme/api", "semver_range": "^1.4.0"},
        {"image": "ghcr.io/acme/web_ui", "semver_range": "^2.0.0", "public": True},
    ],
    "github_app_slug": "acme-flux",
    "github_app_bot_user_id": 41898282,  # `pulumi config set --path` stores an integer as a number
}
"""``secret-chain:imageAutomation`` as a stack file holds it (a YAML mapping): two images, the App's bot as author."""

SHARING_STACKS = ("production", "preview-base", "preview-pr-7")
IA = "secret-chain:imageAutomation"


def _program_with_setting(stack: str) -> Evaluation:
    """The stack program on the committed stack file and its ESC values, plus the image automation setting."""
    from secret_chain.ops.offline import parse_config
    from tests.test_stacks import build, cli_entry, stack_document

    document = stack_document(stack)
    document["secret-chain:imageAutomation"] = cli_entry(SETTING)
    outcome = build(stack, *parse_config(document))
    assert isinstance(outcome, Evaluation), f"{stack}: {outcome}"
    return outcome


def _identity(obj: dict[str, object]) -> tuple[str, str, str, str]:
    """What the API server keys an object by: API group, kind, namespace (empty: cluster-scoped) and name."""
    meta = obj["metadata"]
    assert isinstance(meta, dict)
    group = str(obj["apiVersion"]).rpartition("/")[0]
    return group, str(obj["kind"]), str(meta.get("namespace", "")), str(meta["name"])


@pytest.mark.parametrize("how", ["stack setting", "SecretChain argument"])
def test_image_automation_on_every_stack_shares_no_object_and_no_push_branch(how: str) -> None:
    """Issue 19: with image automation on production and preview-base (and a PR stack beside them), no Kubernetes
    kind/namespace/name is built by two stacks and no two automations push one branch.

    The rules: the API server refuses a second create of one kind/namespace/name, and pulumi-kubernetes creates with a
    plain POST unless ``upsertExistingObjects`` (pulumi/pulumi-kubernetes provider/pkg/await/await.go ``Creation``), so
    the second stack's ``pulumi up`` fails, and destroying one stack deletes the other's objects.
    image-automation-controller force-pushes its push branch whenever it differs from the checkout branch
    (fluxcd/image-automation-controller internal/features/features.go ``GitForcePushBranch``, on by default;
    internal/controller/imageupdateautomation_controller.go), so two automations on one branch overwrite each other.
    And an automation without ``policySelector`` applies every ImagePolicy of its namespace (api/v1
    imageupdateautomation_types.go ``PolicySelector``; ``getPolicies``): each must select only its own.
    """
    if how == "stack setting":
        runs = {stack: _program_with_setting(stack) for stack in SHARING_STACKS}
    else:
        args = {k: (str(v) if k == "github_app_bot_user_id" else v) for k, v in SETTING.items()}
        runs = {stack: evaluate(lambda: SecretChain("secret-chain", {"image_automation": args}), stack=stack, config=full_config()[0],
                                secret_keys=full_config()[1]) for stack in SHARING_STACKS[:2]}  # fmt: skip
    owners: dict[tuple[str, str, str, str], list[str]] = {}
    branches: dict[str, list[str]] = {}
    for stack, ev in runs.items():
        objects = ev.kubernetes_objects()
        for obj in objects:
            validate(obj)
            owners.setdefault(_identity(obj), []).append(stack)
        automations = [o for o in objects if o["kind"] == "ImageUpdateAutomation"]
        if stack.startswith("preview-pr-"):
            assert not automations  # a PR stack builds no Flux object at all
            continue
        (automation,) = automations
        branches.setdefault(automation["spec"]["git"]["push"]["branch"], []).append(stack)
        # The automation applies exactly its own stack's ImagePolicies.
        selector = automation["spec"]["policySelector"]["matchLabels"]
        policies = [o for r in runs.values() for o in r.kubernetes_objects() if o["kind"] == "ImagePolicy"]
        selected = {o["metadata"]["name"] for o in policies if selector.items() <= o["metadata"]["labels"].items()}
        assert selected == {o["metadata"]["name"] for o in objects if o["kind"] == "ImagePolicy"}, stack
    shared = {identity: stacks for identity, stacks in owners.items() if len(stacks) > 1}
    assert shared == {}
    assert {b: s for b, s in branches.items() if len(s) > 1} == {}
    # Production keeps the names it always had; preview-base's end in -preview.
    assert branches == {"flux-image-updates": ["production"], "flux-image-updates-preview": ["preview-base"]}
    flux = {stack: {i for i, s in owners.items() if stack in s and i[0] == "image.toolkit.fluxcd.io"} for stack in runs}
    assert {i[3] for i in flux["production"]} == {"api", "web-ui", "secret-chain"}
    assert {i[3] for i in flux["preview-base"]} == {"api-preview", "web-ui-preview", "secret-chain-preview"}
    pull_secrets = {(i[2], i[3]) for i, s in owners.items() if i[1] == "Secret" and i[2] == "flux-system" and "ghcr" in i[3]}
    assert pull_secrets == {("flux-system", "ghcr-pull-secret"), ("flux-system", "ghcr-pull-secret-preview")}


def test_the_stack_program_builds_the_image_automation_its_stack_sets() -> None:
    """Issue 19: the stack program builds FluxImageAutomation from ``secret-chain:imageAutomation`` (read through the
    catalog and the parts table), on production and preview-base, next to FluxGitCredentials."""
    for stack in ("production", "preview-base"):
        ev = _program_with_setting(stack)
        assert "FluxImageAutomation" in ev.stack_outputs["parts"], stack
        (images,) = ev.of_type("secret-chain:index:FluxImageAutomation")
        (chain,) = ev.of_type("secret-chain:index:SecretChain")
        assert images.parent == chain.urn
        (automation,) = [o for o in ev.kubernetes_objects() if o["kind"] == "ImageUpdateAutomation"]
        assert automation["spec"]["git"]["commit"]["author"] == {
            "name": "acme-flux[bot]",
            "email": "41898282+acme-flux[bot]@users.noreply.github.com",
        }
        (source,) = [o for o in ev.kubernetes_objects() if o["kind"] == "GitRepository"]
        assert automation["spec"]["sourceRef"] == {"kind": "GitRepository", "name": source["metadata"]["name"]}


@pytest.mark.parametrize(
    ("stack", "change", "key"),
    [
        ("production", {"secret-chain:parts": ["FluxGitCredentials", "FluxImageAutomation"]}, "secret-chain:imageAutomation"),
        ("production", {"secret-chain:imageAutomation": {**SETTING, "images": [{"image": "ghcr.io/a/api", "semver_range": "latest"}]}}, IA),
        ("preview-base", {"secret-chain:imageAutomation": {**SETTING, "push_branch": "main"}}, "secret-chain:imageAutomation"),
        ("preview-base", {"secret-chain:imageAutomation": SETTING, "namespace:imagePullSecret": None}, "namespace:imagePullSecret.token"),
    ],
    ids=["declared-without-setting", "bad-range", "names-are-the-chains", "no-pull-secret"],
)
def test_preflight_and_the_program_agree_on_the_image_automation_setting(stack: str, change: dict[str, object], key: str) -> None:
    """Both refuse, naming the same key: preflight reads the setting through the same catalog check and parts table."""
    from secret_chain.ops import preflight
    from secret_chain.ops.offline import parse_config
    from tests.test_stacks import build, cli_entry, stack_document

    document = stack_document(stack)
    for name, value in change.items():
        if value is None:
            document.pop(name)
        else:
            document[name] = cli_entry(value)
    config, secret_keys = parse_config(document)
    outcome = build(stack, config, secret_keys)
    assert isinstance(outcome, ConfigError) and f'"{key}' in str(outcome), outcome
    report = preflight.check(config, secret_keys, stack)
    assert key in {p.key for p in report.problems}, [p.line() for p in report.problems]


# --- issue 19 item 2: one owner for each GitHub name ----------------------------------------------------------------


def github_writes(ev: Evaluation) -> set[tuple[str, str, str, str]]:
    """(scope, repository, environment, name) of everything a stack writes on GitHub, as GitHub identifies it.

    Scope: ``repository``/``environment``/``organization`` plus ``secret`` or ``variable`` (GitHub keeps secrets and variables
    apart, REST API ``…/actions/secrets`` and ``…/actions/variables``), or ``environment itself`` for a RepositoryEnvironment.
    Repository and environment names are compared case-insensitively: GitHub docs, "Managing environments for deployment":
    "Environment names are not case sensitive"; repository names likewise resolve in any case.
    """
    found: set[tuple[str, str, str, str]] = set()
    for reg in ev.resources:
        if not reg.type.startswith("github:index/"):
            continue
        kind = reg.type.rsplit(":", 1)[-1]
        inputs = unwrap(reg.inputs)
        repository = str(inputs.get("repository", "")).lower()
        environment = str(inputs.get("environment", "")).casefold()
        name = str(inputs.get("secretName") or inputs.get("variableName") or "")
        if kind == "RepositoryEnvironment":
            found.add(("environment itself", repository, environment, ""))
        elif kind.endswith("Repositories"):
            continue  # which repositories see an organisation secret: no name of its own
        else:
            where = "environment" if "Environment" in kind else "organization" if "Organization" in kind else "repository"
            found.add((f"{where} {'secret' if kind.endswith('Secret') else 'variable'}", repository, environment, name))
    return found


def _every_stack_kind() -> dict[str, Evaluation]:
    """Each kind of stack as its committed stack file and ESC environment build it (tests/test_stacks.py), the real program."""
    from secret_chain.program import main
    from tests.test_bootstrap import stack_settings
    from tests.test_stacks import STACKS, stack_config

    built = {"bootstrap": evaluate(main, config=stack_settings(), stack="bootstrap")}
    for stack in sorted(STACKS):
        config, secret_keys = stack_config(stack)
        built[stack] = evaluate(main, config=config, secret_keys=secret_keys, stack=stack)
    return built


def test_no_github_name_is_written_by_two_stacks() -> None:
    """production and preview-base both write PULUMI_ORG, APP_ID, APP_PRIVATE_KEY (…) for one repository. Written
    repository-wide, the second stack's first pulumi up fails: terraform-provider-github creates a variable with a plain
    POST (github/resource_github_actions_variable.go, resourceGithubActionsVariableCreate: CreateRepoVariable), which
    GitHub answers 409 for a name that exists; and each stack's refresh would see the other's APP_PRIVATE_KEY as drift.
    Each now writes to its own environment (secret_chain.parts.GITHUB_ENVIRONMENTS), and no (scope, repository,
    environment, name) is written by two stacks of any kind."""
    from secret_chain import parts

    writes = {stack: github_writes(ev) for stack, ev in _every_stack_kind().items()}
    assert {parts.kind_of(stack) for stack in writes} == set(parts.Kind)
    owners: dict[tuple[str, str, str, str], list[str]] = {}
    for stack, written in writes.items():
        for item in written:
            owners.setdefault(item, []).append(stack)
    assert {item: stacks for item, stacks in owners.items() if len(stacks) > 1} == {}
    for stack in ("production", "preview-base"):
        environment = parts.GITHUB_ENVIRONMENTS[parts.kind_of(stack)]
        assert {(scope, name) for scope, _, env, name in writes[stack] if env == environment} >= {
            ("environment itself", ""),
            ("environment variable", "PULUMI_ORG"),
            ("environment variable", "APP_ID"),
            ("environment secret", "APP_PRIVATE_KEY"),
        }, stack
        assert {env for _, _, env, _ in writes[stack]} == {environment}, stack


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
@pytest.mark.parametrize(("stack", "environment"), [("production", "production"), ("preview-base", "preview")])
def test_each_stack_creates_its_github_environment_before_writing_to_it(stack: str, environment: str, preview: bool) -> None:
    """An environment secret is encrypted with the environment's public key, which GitHub has only for an environment that
    exists (terraform-provider-github github/resource_github_actions_environment_secret.go: getEnvironmentPublicKeyDetails
    before CreateOrUpdateEnvSecret); so the stack creates the environment (RepositoryEnvironment, a PUT: create or update,
    github/resource_github_repository_environment.go) and every name in it waits for it. Its protection rules (pulumi-github's
    inputs of RepositoryEnvironment) stay the repository admins': the engine ignores changes to them."""
    from secret_chain import parts

    ev = _run(stack, preview)
    created = ev.of_type("github:index/repositoryEnvironment:RepositoryEnvironment")
    assert len(created) == 1, [r.type for r in ev.resources if r.type.startswith("github:")]
    assert created[0].inputs["environment"] == environment == parts.GITHUB_ENVIRONMENTS[parts.kind_of(stack)]
    assert created[0].inputs["repository"] == "platform"
    assert set(created[0].ignore_changes) == {"canAdminsBypass", "deploymentBranchPolicy", "preventSelfReview", "reviewers", "waitTimer"}
    scoped = [r for r in ev.resources if r.type.startswith("github:index/actions")]
    assert scoped and all(r.type.startswith("github:index/actionsEnvironment") and created[0].urn in r.dependencies for r in scoped)
    assert {r.inputs["environment"] for r in scoped} == {environment}


def test_every_kind_that_writes_github_names_has_an_environment_of_its_own() -> None:
    """The table of parts and the environment names agree: each kind that builds GitHubActionsSecrets has one, no two
    share one (GitHub compares environment names case-insensitively), and each is a name GitHub takes."""
    from secret_chain import parts
    from secret_chain.validators import github_environment_key, github_environment_name

    assert set(parts.GITHUB_ENVIRONMENTS) == set(parts.BY_NAME["GitHubActionsSecrets"].kinds)
    names = list(parts.GITHUB_ENVIRONMENTS.values())
    assert len({github_environment_key(n) for n in names}) == len(names)
    assert all(github_environment_name(n) == n for n in names)
