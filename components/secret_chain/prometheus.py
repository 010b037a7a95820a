"""PrometheusAuth: the bearer token that guards an app's /metrics, on both sides of the scrape.

Rotation keeps every scrape working (the runbook: keep the old token valid during the switch). While
``prometheus:previousAuthToken`` is set (phase 1), the app's Secret carries the new token and the old
one, and the Secret the ServiceMonitor reads keeps the old one; removing it (phase 2) switches the
monitor's Secret to the new token. Each phase is an in-place update of the same two Secrets; the
ServiceMonitor always reads key ``token`` of its own Secret and never changes.
"""

from dataclasses import dataclass, field
from typing import Any, Required, TypedDict

import pulumi

from secret_chain import catalog, kube
from secret_chain import validators as v
from secret_chain._component import ChainComponent, derived
from secret_chain._resolve import Valid, arg, resolve_spec
from secret_chain.catalog import Key
from secret_chain.config import ConfigReader, Known, gated, lift, string, validated
from secret_chain.parts import rules_of

TOKEN_KEY = catalog.PROMETHEUS_TOKEN
PREVIOUS_TOKEN_KEY = catalog.PROMETHEUS_PREVIOUS_TOKEN
ENV_VAR = "PROMETHEUS_AUTH_TOKEN"
PREVIOUS_ENV_VAR = "PROMETHEUS_AUTH_TOKEN_PREVIOUS"
"""Set only during phase 1 of a rotation: the app must accept this token as well as ``PROMETHEUS_AUTH_TOKEN``."""
MONITOR_TOKEN_KEY = "token"


class PrometheusAuthArgs(TypedDict, total=False):
    """Arguments of :class:`PrometheusAuth`. Values left out are read from ESC-injected config."""

    namespace: Required[pulumi.Input[str]]
    """The application's namespace (required), e.g. a Namespace's metadata.name."""
    monitor_namespace: pulumi.Input[str]
    """Namespace of the ServiceMonitor and of the token copy Prometheus reads. Default: monitoring."""
    app: pulumi.Input[str]
    """Name of the app: names the ServiceMonitor and, by default, selects its Service. Default: api."""
    service_labels: dict[str, str]
    """Labels of the Service to scrape. Default: app.kubernetes.io/name=<app>."""
    port: str
    """Name of the Service port that serves /metrics. Default: http."""
    path: str
    """Metrics path. Default: /metrics."""
    scheme: str
    """http or https. Default: http."""
    interval: str
    """Scrape interval. Default: 30s."""
    monitor_labels: dict[str, str]
    """Labels the Prometheus serviceMonitorSelector needs (kube-prometheus-stack: release=<release>). Default: release=kube-prometheus-stack."""
    secret_name: pulumi.Input[str]
    """Name of the Secret in the app namespace. Default: prometheus-auth."""
    token: pulumi.Input[str]
    """The bearer token. Default: config prometheus:authToken."""
    previous_token: pulumi.Input[str]
    """The token being replaced, during a two-phase rotation only: the app accepts it too and the
    ServiceMonitor keeps sending it. Default: config prometheus:previousAuthToken (usually absent)."""
    rollout_key: pulumi.Input[str]
    """Key of the HMAC behind rollout_annotations (32+ random bytes). Default: config secret-chain:rolloutKey, and
    when that is absent a key generated once and kept in state (a RandomBytes child named ``<name>-rollout-key``)."""
    provider_enables_mutable_secrets: bool
    """Set true to state that the explicit Kubernetes provider in opts was created with enable_secret_mutable=True (a
    provider you or another component made). A provider object does not expose its settings, so an explicit provider is
    refused without this statement, unless secret_chain.kube.mutable_secrets_provider made it; with it, the provider is
    taken at your word. Without an explicit provider it changes nothing: the default provider's
    kubernetes:enableSecretMutable decides. Default: false."""


def _default_selector(got: dict[str, Any]) -> Valid | dict[str, str]:
    """``app.kubernetes.io/name=<app>``; an app given as an output is a checked DNS-1123 label, a valid label value."""
    app = got["app"]
    return Valid({"app.kubernetes.io/name": app}) if isinstance(app, pulumi.Output) else {"app.kubernetes.io/name": app or "api"}


@dataclass(frozen=True)
class PrometheusSpec:
    """Validated inputs of a PrometheusAuth."""

    namespace: Known[str] = field(metadata=arg(string(v.namespace), required=True))
    provider_enables_mutable_secrets: bool = field(metadata=arg(v.boolean, default=False, plain=True))
    """The caller states that the explicit Kubernetes provider updates Secrets in place (config.require_mutable_secrets)."""
    monitor_namespace: Known[str] = field(metadata=arg(string(v.namespace), default="monitoring"))
    app: Known[str] = field(metadata=arg(string(v.dns1123_label), default="api"))
    service_labels: dict[str, Known[str]] = field(metadata=arg(v.label_map, default=_default_selector, plain=True))
    port: str = field(metadata=arg(string(v.dns1123_label), default="http", plain=True))
    path: str = field(metadata=arg(string(v.metrics_path), default="/metrics", plain=True))
    scheme: str = field(metadata=arg(string(v.scrape_scheme), default="http", plain=True))
    interval: str = field(metadata=arg(string(v.prometheus_duration), default="30s", plain=True))
    monitor_labels: dict[str, str] = field(metadata=arg(v.label_map, default={"release": "kube-prometheus-stack"}, plain=True))
    secret_name: Known[str] = field(metadata=arg(string(v.dns1123_subdomain), default="prometheus-auth"))
    token: pulumi.Output[str] = field(metadata=arg(key=TOKEN_KEY))
    previous_token: pulumi.Output[str] | None = field(metadata=arg(key=PREVIOUS_TOKEN_KEY, required=False))
    rollout_key: pulumi.Output[str] | None = field(metadata=arg(key=kube.ROLLOUT_KEY, required=False))
    """The configured (or passed) rollout key; None: the component generates one (kube.generated_rollout_key).
    Optional: absent, the component generates the key (a bad configured one is still refused)."""

    @property
    def monitor_secret_name(self) -> Known[str]:
        """Name of the Secret the ServiceMonitor reads, unique per app namespace in the monitor namespace.

        It is a Secret of its own even when both live in one namespace: during a rotation it holds the
        old token while the app's Secret already holds the new one.
        """
        return lift("{}-{}".format, self.namespace, self.secret_name)

    @property
    def monitor_secret_key(self) -> str:
        """The data key the ServiceMonitor reads: always ``token``, in every phase of a rotation."""
        return MONITOR_TOKEN_KEY

    @property
    def config_keys(self) -> tuple[Key, ...]:
        """Config keys both Secrets' data comes from (names only)."""
        return (TOKEN_KEY, PREVIOUS_TOKEN_KEY) if self.previous_token is not None else (TOKEN_KEY,)

    @property
    def monitor_name(self) -> Known[str]:
        """ServiceMonitor name, unique per app within the monitor namespace."""
        return lift(_monitor_name, self.namespace, self.monitor_namespace, self.app)


def _monitor_name(namespace: str, monitor_namespace: str, app: str) -> str:
    return app if monitor_namespace == namespace else f"{namespace}-{app}"


def app_data(token: str, previous: str | None) -> dict[str, str]:
    """The app Secret's data: the token, and during a rotation also the previous one (both accepted)."""
    return {ENV_VAR: token, PREVIOUS_ENV_VAR: previous} if previous is not None else {ENV_VAR: token}


def monitor_data(token: str, previous: str | None) -> dict[str, str]:
    """The monitor Secret's data: the token Prometheus sends, the previous one until the app's pods have rolled."""
    return {MONITOR_TOKEN_KEY: previous if previous is not None else token}


def resolve(args: PrometheusAuthArgs, reader: ConfigReader) -> PrometheusSpec | None:
    """Validate ``args`` and config into a spec; problems go to ``reader`` (None if any)."""

    def rotation(_: dict[str, Any]) -> dict[str, Any]:
        # The table's cross-key rule (secret_chain.rules, evaluated by preflight too): two different tokens.
        for rule in rules_of("PrometheusAuth"):
            reader.rule(rule, reader.facts({}), {TOKEN_KEY: "token", PREVIOUS_TOKEN_KEY: "previous_token"})
        return {}

    return resolve_spec(PrometheusSpec, args, reader, then=rotation)


class PrometheusAuth(ChainComponent[PrometheusSpec]):
    """Bearer-token auth between Prometheus and an app's /metrics endpoint.

    Creates the app's Secret (env ``PROMETHEUS_AUTH_TOKEN``), the Secret the ServiceMonitor reads
    (key ``token``; in the ServiceMonitor's namespace, because the Prometheus Operator reads
    credentials only from the monitor's own namespace), and a ``monitoring.coreos.com/v1``
    ServiceMonitor that sends the token with ``authorization``.

    The app reads the token at start-up, so its pods must restart when the token changes: put
    ``rollout_annotations`` into the Deployment's ``spec.template.metadata.annotations``. During a
    rotation (``prometheus:previousAuthToken`` set) the app must accept ``PROMETHEUS_AUTH_TOKEN_PREVIOUS``
    as well.
    """

    secret_name: pulumi.Output[str]
    """Name of the Secret in the app namespace (use it with envFrom or secretKeyRef)."""
    monitor_secret_name: pulumi.Output[str]
    """Name of the Secret the ServiceMonitor reads, in the monitor namespace."""
    env_var_name: pulumi.Output[str]
    """The environment variable the app reads the token from."""
    monitor_name: pulumi.Output[str]
    """Name of the ServiceMonitor."""
    rollout_annotations: pulumi.Output[dict[str, str]]
    """Pod-template annotations that change whenever the app Secret's data changes (an HMAC, not secret):
    ``{"secret-chain/rollout-hmac-sha256-<secret name>": "<hex>"}``."""

    def __init__(self, name: str, args: PrometheusAuthArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        self._build(name, validated("PrometheusAuth", resolve, args, opts), opts)

    def _build(self, name: str, spec: PrometheusSpec, opts: pulumi.ResourceOptions | None, rollout_key: pulumi.Output[str] | None = None) -> None:
        """``rollout_key``: the key to use when the spec has none (SecretChain's one generated key per stack)."""
        super().__init__("secret-chain:index:PrometheusAuth", name, None, gated(spec, opts))
        self.inherit_depends_on(opts)
        from pulumi_kubernetes.apiextensions import CustomResource

        previous: pulumi.Output[str | None] = spec.previous_token if spec.previous_token is not None else pulumi.Output.from_input(None)
        tokens = pulumi.Output.all(spec.token, previous)
        app_string_data = tokens.apply(lambda t: app_data(t[0], t[1]))
        app_secret = kube.secret(
            f"{name}-app",
            name=spec.secret_name,
            namespace=spec.namespace,
            string_data=app_string_data,
            config_keys=spec.config_keys,
            component="metrics-auth",
            parent=self,
            keys_vary=True,  # PROMETHEUS_AUTH_TOKEN_PREVIOUS comes and goes with a rotation
        )
        monitor_secret = kube.secret(
            f"{name}-monitor",
            name=spec.monitor_secret_name,
            namespace=spec.monitor_namespace,
            string_data=tokens.apply(lambda t: monitor_data(t[0], t[1])),
            config_keys=spec.config_keys,
            component="metrics-auth",
            parent=self,
        )
        endpoint = {
            "port": spec.port,
            "path": spec.path,
            "scheme": spec.scheme,
            "interval": spec.interval,
            # `authorization` replaces the deprecated bearerTokenSecret/bearerTokenFile.
            "authorization": {
                "type": "Bearer",
                "credentials": {"name": spec.monitor_secret_name, "key": spec.monitor_secret_key},
            },
        }
        monitor = CustomResource(
            f"{name}-servicemonitor",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata={
                "name": spec.monitor_name,
                "namespace": spec.monitor_namespace,
                "labels": kube.labels("metrics-auth", spec.monitor_labels),
            },
            spec={
                "selector": {"matchLabels": spec.service_labels},
                "namespaceSelector": {"matchNames": [spec.namespace]},
                "endpoints": [endpoint],
            },
            opts=self.child_opts([monitor_secret]),
        )
        # Each output waits for what it names (secret_chain._component.derived).
        self.secret_name = derived(spec.secret_name, app_secret)
        self.monitor_secret_name = derived(spec.monitor_secret_name, monitor_secret)
        self.env_var_name = derived(ENV_VAR, app_secret)
        self.monitor_name = derived(spec.monitor_name, monitor)
        key = kube.rollout_key_of(self, name, spec.rollout_key, rollout_key)
        self.rollout_annotations = kube.rollout_annotations(key, spec.namespace, spec.secret_name, app_string_data, app_secret)
        self.register_outputs(
            {
                "secret_name": self.secret_name,
                "monitor_secret_name": self.monitor_secret_name,
                "env_var_name": self.env_var_name,
                "monitor_name": self.monitor_name,
                "rollout_annotations": self.rollout_annotations,
            }
        )
