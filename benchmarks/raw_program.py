"""The production stack written directly with the provider SDKs: the baseline of the benchmark.

``main`` registers exactly what ``components.program.main`` registers for the production config
(examples/config/production.json): the same seven component resources (plain
``pulumi.ComponentResource`` instances with the chain's type tokens, names, parents and registered
outputs) and under them the same provider resources with the same inputs, secret markers and
dependencies — but without config validation, the catalog, specs or helper layers: what a
hand-written Pulumi program with components would do. ``main_without_components`` registers the same
provider resources flat under the stack, as a program without any component would; the difference
between the two is what a component resource costs in the SDK.

Their equivalence with the chain is asserted by benchmarks/run.py and by tests/test_benchmarks.py
(every registration for ``main``; every provider resource for ``main_without_components``), so a
change to a component (or a new component wired into SecretChain) shows up as a difference here
instead of as a silently unfair comparison.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable

import pulumi

_LABELS = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "secret-chain"}
_ANNOTATION = "secret-chain/config-keys"


def _component(type_name: str, name: str, parent: pulumi.Resource | None) -> pulumi.ComponentResource:
    """A component resource like the chain's: type ``secret-chain:index:<type_name>``, no inputs."""
    return pulumi.ComponentResource(f"secret-chain:index:{type_name}", name, None, pulumi.ResourceOptions(parent=parent))


def _opts(parent: pulumi.Resource | None, *depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on))


def _rollout(namespace: str, name: str, data: pulumi.Output[dict[str, str]]) -> pulumi.Output[dict[str, str]]:
    """The pod-template annotation that rolls a Secret's consumer: HMAC-SHA256 (key secret-chain:rolloutKey) of its data."""
    key = pulumi.Config("secret-chain").require_secret("rolloutKey")

    def digest(args: list[object]) -> dict[str, str]:
        secret, values = args
        message = json.dumps({"data": values, "name": name, "namespace": namespace}, sort_keys=True, separators=(",", ":"))
        return {f"secret-chain/rollout-hmac-sha256-{name}": hmac.new(str(secret).encode(), message.encode(), hashlib.sha256).hexdigest()}

    return pulumi.Output.unsecret(pulumi.Output.all(key, data).apply(digest))


def _labels(component: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**_LABELS, "app.kubernetes.io/component": component, **(extra or {})}


def _dockerconfigjson(registry: str, username: str, token: str) -> str:
    auth = base64.b64encode(f"{username}:{token}".encode()).decode()
    return json.dumps({"auths": {registry: {"username": username, "password": token, "auth": auth}}}, sort_keys=True, separators=(",", ":"))


Outputs = dict[str, object]
"""What a part returns: the outputs its component registers (ignored by the flat program)."""


def pull_secrets(prefix: str, namespaces: list[str], parent: pulumi.Resource | None = None) -> Outputs:
    """One ghcr.io pull secret per namespace (what GhcrPullSecret registers)."""
    from pulumi.runtime.config import get_config
    from pulumi_kubernetes.core.v1 import Secret

    # One object key (the CLI holds a config key as <namespace>:<name> only); the SDK hands over its JSON text.
    pull = json.loads(str(get_config("namespace:imagePullSecret")))
    username = str(pull["username"])
    token = pulumi.Output.secret(str(pull["token"]))
    document = token.apply(lambda t: {".dockerconfigjson": _dockerconfigjson("ghcr.io", username, t)})
    for namespace in namespaces:
        Secret(
            f"{prefix}-{namespace}",
            metadata={
                "name": "ghcr-pull-secret",
                "namespace": namespace,
                "labels": _labels("image-pull-secret"),
                "annotations": {_ANNOTATION: "namespace:imagePullSecret.username,namespace:imagePullSecret.token"},
            },
            type="kubernetes.io/dockerconfigjson",
            string_data=pulumi.Output.secret(document),  # type: ignore[arg-type]  # the SDK stub is too narrow
            opts=_opts(parent),
        )
    return {"secret_names": dict.fromkeys(namespaces, "ghcr-pull-secret")}


def pull_secret_component(prefix: str, namespaces: list[str]) -> None:
    """What ``GhcrPullSecret(prefix, {"namespaces": namespaces})`` registers: the component and one Secret per namespace."""
    component = _component("GhcrPullSecret", prefix, None)
    component.register_outputs(pull_secrets(prefix, namespaces, component))


def prometheus_auth(prefix: str, namespace: str, monitor_namespace: str, parent: pulumi.Resource | None = None) -> Outputs:
    """The app's token Secret, its copy for Prometheus and the ServiceMonitor (what PrometheusAuth registers)."""
    from pulumi_kubernetes.apiextensions import CustomResource
    from pulumi_kubernetes.core.v1 import Secret

    token = pulumi.Config("prometheus").require_secret("authToken")
    annotations = {_ANNOTATION: "prometheus:authToken"}
    app_data: pulumi.Output[dict[str, str]] = token.apply(lambda t: {"PROMETHEUS_AUTH_TOKEN": t})
    monitor_data: pulumi.Output[dict[str, str]] = token.apply(lambda t: {"token": t})
    # as base64 ``data``, like the chain (its key set changes during a token rotation)
    app_base64: pulumi.Output[dict[str, str]] = token.apply(lambda t: {"PROMETHEUS_AUTH_TOKEN": base64.b64encode(t.encode()).decode()})
    Secret(
        f"{prefix}-app",
        metadata={"name": "prometheus-auth", "namespace": namespace, "labels": _labels("metrics-auth"), "annotations": annotations},
        type="Opaque",
        data=pulumi.Output.secret(app_base64),  # type: ignore[arg-type]
        opts=_opts(parent),
    )
    monitor_secret_name = f"{namespace}-prometheus-auth"
    monitor_secret = Secret(
        f"{prefix}-monitor",
        metadata={"name": monitor_secret_name, "namespace": monitor_namespace, "labels": _labels("metrics-auth"), "annotations": annotations},
        type="Opaque",
        string_data=pulumi.Output.secret(monitor_data),  # type: ignore[arg-type]
        opts=_opts(parent),
    )
    monitor_name = f"{namespace}-api"
    CustomResource(
        f"{prefix}-servicemonitor",
        api_version="monitoring.coreos.com/v1",
        kind="ServiceMonitor",
        metadata={"name": monitor_name, "namespace": monitor_namespace, "labels": _labels("metrics-auth", {"release": "kube-prometheus-stack"})},
        spec={
            "selector": {"matchLabels": {"app.kubernetes.io/name": "api"}},
            "namespaceSelector": {"matchNames": [namespace]},
            "endpoints": [
                {
                    "port": "http",
                    "path": "/metrics",
                    "scheme": "http",
                    "interval": "30s",
                    "authorization": {"type": "Bearer", "credentials": {"name": monitor_secret_name, "key": "token"}},
                }
            ],
        },
        opts=_opts(parent, monitor_secret),
    )
    return {
        "secret_name": "prometheus-auth",
        "monitor_secret_name": monitor_secret_name,
        "env_var_name": "PROMETHEUS_AUTH_TOKEN",
        "monitor_name": monitor_name,
        "rollout_annotations": _rollout(namespace, "prometheus-auth", app_data),
    }


def actions_secrets(prefix: str, repository: str, parent: pulumi.Resource | None = None) -> Outputs:
    """The Actions variables and secrets GitHubActionsSecrets registers, each when its ci:* key is set (issue 14:
    Pulumi by OIDC and the CI GitHub App; the deprecated ci:pulumiAccessToken and ci:workflowDispatchToken are not written)."""
    import pulumi_github as github

    ci = pulumi.Config("ci")
    name = repository.split("/", 1)[-1]
    secrets, variables = [], []
    for github_name, key, secret in (
        ("PULUMI_ORG", "pulumiOrganization", False),
        ("PULUMI_TOKEN_TYPE", "pulumiTokenType", False),
        ("PULUMI_TEAM", "pulumiTeam", False),
        ("APP_ID", "githubAppId", False),
        ("APP_PRIVATE_KEY", "githubAppPrivateKey", True),
        ("PULUMI_AUTH", "pulumiAuth", False),
        ("PULUMI_FALLBACK_ACCESS_TOKEN", "pulumiFallbackAccessToken", True),
    ):
        if ci.get(key) is None:
            continue
        resource = f"{prefix}-{github_name.lower().replace('_', '-')}"
        if not secret:
            github.ActionsVariable(resource, repository=name, variable_name=github_name, value=ci.require(key), opts=_opts(parent))
            variables.append(github_name)
        else:
            github.ActionsSecret(resource, repository=name, secret_name=github_name, value=ci.require_secret(key), opts=_opts(parent))
            secrets.append(github_name)
    return {"secret_names": secrets, "variable_names": variables}


def _secret(
    name: str,
    namespace: str,
    component: str,
    keys: str,
    data: pulumi.Output[dict[str, str]],
    parent: pulumi.Resource | None,
    as_base64: bool = False,
) -> pulumi.CustomResource:
    from pulumi_kubernetes.core.v1 import Secret

    # as base64 ``data`` where the chain writes it so (Secrets whose key set changes with config)
    encoded = data.apply(lambda d: {k: base64.b64encode(v.encode()).decode() for k, v in d.items()}) if as_base64 else None
    return Secret(
        name,
        metadata={"name": _NAMES[name], "namespace": namespace, "labels": _labels(component), "annotations": {_ANNOTATION: keys}},
        type="Opaque",
        data=pulumi.Output.secret(encoded) if encoded is not None else None,  # type: ignore[arg-type]
        string_data=pulumi.Output.secret(data) if encoded is None else None,  # type: ignore[arg-type]
        opts=_opts(parent),
    )


_NAMES = {
    "secret-chain-flux-secret": "github-token",
    "secret-chain-certmanager-dns-token": "digitalocean-dns",
    "secret-chain-grafana-env": "grafana-oauth",
}


def flux_git_credentials(prefix: str, repository_url: str, parent: pulumi.Resource | None = None) -> Outputs:
    """GitHub App credentials for Flux and the GitRepository that uses them (what FluxGitCredentials registers)."""
    from pulumi_kubernetes.apiextensions import CustomResource

    flux = pulumi.Config("flux")
    app_id, installation_id = flux.require("githubAppId"), flux.require("githubAppInstallationId")
    data = flux.require_secret("githubAppPrivateKey").apply(
        lambda key: {"githubAppID": app_id, "githubAppInstallationID": installation_id, "githubAppPrivateKey": key}
    )
    secret = _secret(
        f"{prefix}-secret",
        "flux-system",
        "flux-git-credentials",
        ",".join(f"flux:{k}" for k in ("githubAppId", "githubAppInstallationId", "githubAppPrivateKey")),
        data,
        parent,
        as_base64=True,
    )
    CustomResource(
        f"{prefix}-gitrepository",
        api_version="source.toolkit.fluxcd.io/v1",
        kind="GitRepository",
        metadata={"name": "secret-chain", "namespace": "flux-system", "labels": _labels("flux-git-credentials")},
        spec={"interval": "1m", "url": repository_url, "ref": {"branch": "main"}, "secretRef": {"name": "github-token"}, "provider": "github"},
        opts=_opts(parent, secret),
    )
    return {
        "secret_name": "github-token",
        "git_repository_name": "secret-chain",
        "namespace": "flux-system",
        "auth_mode": "github-app",
        "push_branch": None,
        "image_policy_names": [],
    }


def dns_issuer(prefix: str, domain: str, email: str, parent: pulumi.Resource | None = None) -> Outputs:
    """The DigitalOcean DNS token Secret and the Let's Encrypt ClusterIssuer (what CertManagerDnsIssuer registers)."""
    import pulumi_digitalocean as digitalocean
    from pulumi_kubernetes.apiextensions import CustomResource

    token = pulumi.Config("gateway").require_secret("digitaloceanDnsToken")
    data = token.apply(lambda t: {"access-token": t})
    secret = _secret(f"{prefix}-dns-token", "cert-manager", "acme-dns01", "gateway:digitaloceanDnsToken", data, parent)
    found = digitalocean.get_domain_output(name=domain, opts=pulumi.InvokeOutputOptions(parent=parent))
    CustomResource(
        f"{prefix}-issuer",
        api_version="cert-manager.io/v1",
        kind="ClusterIssuer",
        metadata={"name": "letsencrypt-production", "labels": _labels("acme-issuer")},
        spec={
            "acme": {
                "email": email,
                "server": "https://acme-v02.api.letsencrypt.org/directory",
                "privateKeySecretRef": {"name": "letsencrypt-production-account"},
                "solvers": [
                    {
                        "selector": {"dnsZones": found.name.apply(lambda zone: [zone])},
                        "dns01": {"digitalocean": {"tokenSecretRef": {"name": "digitalocean-dns", "key": "access-token"}}},
                    }
                ],
            }
        },
        opts=_opts(parent, secret),
    )
    return {
        "issuer_name": "letsencrypt-production",
        "secret_name": "digitalocean-dns",
        "certificate_secret_names": [],
        "domain_urn": found.domain_urn,
    }


def grafana_oauth(prefix: str, domain: str, parent: pulumi.Resource | None = None) -> Outputs:
    """One Secret of GF_* variables: GitHub sign-in and alert mail (what GrafanaOAuth registers)."""
    grafana = pulumi.Config("grafana")
    root_url = f"https://grafana.{domain}"
    org, admin, port = grafana.require("githubOrg"), grafana.require("adminUser"), grafana.require("smtpPort")
    from_address, alert_email = grafana.require("smtpFromAddress"), grafana.require("alertEmail")
    secrets = {k: grafana.require_secret(k) for k in ("githubClientId", "githubClientSecret", "smtpHost", "smtpUser", "smtpPassword")}

    def env(v: dict[str, str]) -> dict[str, str]:
        return {
            "GF_SERVER_ROOT_URL": root_url,
            "GF_AUTH_GITHUB_ENABLED": "true",
            "GF_AUTH_GITHUB_CLIENT_ID": v["githubClientId"],
            "GF_AUTH_GITHUB_CLIENT_SECRET": v["githubClientSecret"],
            "GF_AUTH_GITHUB_SCOPES": "user:email,read:org",
            "GF_AUTH_GITHUB_ALLOWED_ORGANIZATIONS": org,
            "GF_AUTH_GITHUB_ALLOW_SIGN_UP": "true",
            "GF_AUTH_GITHUB_ROLE_ATTRIBUTE_PATH": (
                f"[id==`{admin[3:]}`][0] && 'GrafanaAdmin' || 'Viewer'"
                if admin.startswith("id:")
                else f"[login=='{admin}'][0] && 'GrafanaAdmin' || 'Viewer'"
            ),
            "GF_AUTH_GITHUB_ROLE_ATTRIBUTE_STRICT": "true",
            "GF_AUTH_GITHUB_ALLOW_ASSIGN_GRAFANA_ADMIN": "true",
            "GF_SMTP_ENABLED": "true",
            "GF_SMTP_HOST": f"{v['smtpHost']}:{port}",
            "GF_SMTP_USER": v["smtpUser"],
            "GF_SMTP_PASSWORD": v["smtpPassword"].replace(" ", ""),  # Gmail app passwords are shown in groups of four
            "GF_SMTP_FROM_ADDRESS": from_address,
            "GF_SECRET_CHAIN_ALERT_EMAIL": alert_email,
            "GF_SMTP_STARTTLS_POLICY": "MandatoryStartTLS",
        }

    keys = ",".join(
        f"grafana:{k}"
        for k in (
            "githubClientId",
            "githubClientSecret",
            "githubOrg",
            "adminUser",
            "smtpHost",
            "smtpPort",
            "smtpUser",
            "smtpPassword",
            "smtpFromAddress",
            "alertEmail",
        )
    )
    data = pulumi.Output.all(**secrets).apply(env)
    _secret(f"{prefix}-env", "monitoring", "grafana-oauth", keys, data, parent, as_base64=True)
    return {
        "callback_url": f"{root_url}/login/github",
        "root_url": root_url,
        "secret_name": "grafana-oauth",
        "rollout_annotations": _rollout("monitoring", "grafana-oauth", data),
    }


def _build(with_components: bool) -> None:
    """The production stack by hand. Like SecretChain, each part is built when its config is present."""
    from pulumi.runtime.config import get_config

    config = pulumi.Config("secret-chain")
    namespace = config.get("appNamespace") or "default"
    chain = _component("SecretChain", "secret-chain", None) if with_components else None
    parts: list[str] = []

    def part(type_name: str, name: str, build: Callable[[pulumi.Resource | None], Outputs]) -> Outputs:
        component = _component(type_name, name, chain) if with_components else None
        outputs = build(component)
        if component is not None:
            component.register_outputs(outputs)
        parts.append(type_name)
        return outputs

    rollouts: dict[str, object] = {}
    part("GhcrPullSecret", "secret-chain-ghcr", lambda parent: pull_secrets("secret-chain-ghcr", [namespace], parent))
    metrics = part(
        "PrometheusAuth", "secret-chain-prometheus", lambda parent: prometheus_auth("secret-chain-prometheus", namespace, "monitoring", parent)
    )
    rollouts["PrometheusAuth"] = metrics["rollout_annotations"]
    if get_config("flux:githubAppPrivateKey") is not None:
        url = config.require("fluxRepositoryUrl")
        part("FluxGitCredentials", "secret-chain-flux", lambda parent: flux_git_credentials("secret-chain-flux", url, parent))
    if get_config("gateway:digitaloceanDnsToken") is not None:
        domain, email = config.require("domain"), config.require("acmeEmail")
        part("CertManagerDnsIssuer", "secret-chain-certmanager", lambda parent: dns_issuer("secret-chain-certmanager", domain, email, parent))
    callback = None
    if get_config("grafana:githubClientId") is not None:
        domain = config.require("domain")
        dashboard = part("GrafanaOAuth", "secret-chain-grafana", lambda parent: grafana_oauth("secret-chain-grafana", domain, parent))
        callback, rollouts["GrafanaOAuth"] = dashboard["callback_url"], dashboard["rollout_annotations"]
    repository = config.require("githubRepository")
    part("GitHubActionsSecrets", "secret-chain-github", lambda parent: actions_secrets("secret-chain-github", repository, parent))
    rollout_annotations = pulumi.Output.unsecret(pulumi.Output.all(**rollouts).apply(dict))
    if chain is not None:
        chain.register_outputs(
            {"app_namespace": namespace, "parts": parts, "grafana_callback_url": callback, "rollout_annotations": rollout_annotations}
        )
    pulumi.export("appNamespace", namespace)
    pulumi.export("parts", parts)
    pulumi.export("rolloutAnnotations", rollout_annotations)
    if callback is not None:
        pulumi.export("grafanaCallbackUrl", callback)


def main() -> None:
    """What ``components.program.main`` registers, component resources included: the benchmark's baseline."""
    _build(with_components=True)


def main_without_components() -> None:
    """The same provider resources, flat under the stack: what a program without components would register."""
    _build(with_components=False)
