"""PrometheusAuth: the bearer token that guards an app's /metrics, on both sides of the scrape.

Rotation keeps every scrape working (the runbook: keep the old token valid during the switch). While
``prometheus:previousAuthToken`` is set (phase 1), the app's Secret carries the new token and the old
one, and the Secret the ServiceMonitor reads keeps the old one; removing it (phase 2) switches the
monitor's Secret to the new token. Each phase is an in-place update of the same two Secrets; the
ServiceMonitor always reads key ``token`` of its own Secret and never changes.
"""

import re
from dataclasses import dataclass
from typing import Required, Self, TypedDict

import pulumi

from components import catalog, kube
from components import validators as v
from components._component import ChainComponent
from components.catalog import Key
from components.config import ConfigReader, Known, gated, lift, string, validated
from components.validators import Invalid

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


@dataclass(frozen=True)
class PrometheusSpec:
    """Validated inputs of a PrometheusAuth."""

    namespace: Known[str]
    monitor_namespace: Known[str]
    app: Known[str]
    service_labels: dict[str, Known[str]]
    port: str
    path: str
    scheme: str
    interval: str
    monitor_labels: dict[str, str]
    secret_name: Known[str]
    token: pulumi.Output[str]
    rollout_key: pulumi.Output[str] | None
    """The configured (or passed) rollout key; None: the component generates one (kube.generated_rollout_key)."""
    previous_token: pulumi.Output[str] | None = None

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


def label_map(value: dict[str, str]) -> dict[str, str]:
    """Check a Kubernetes label map: qualified-name keys, valid label values."""
    if not isinstance(value, dict) or not value:
        raise Invalid("must be a non-empty map of label names to values")
    for key, item in value.items():
        if not isinstance(key, str):
            raise Invalid(f"has a label name that is not a string ({type(key).__name__})")
        prefix, _, name = key.rpartition("/")
        if (prefix and not _is_subdomain(prefix)) or not _QUALIFIED.fullmatch(name) or len(name) > 63:
            raise Invalid(f"has an invalid label name at position {list(value).index(key)}")
        if not isinstance(item, str) or len(item) > 63 or (item and not _QUALIFIED.fullmatch(item)):
            raise Invalid(f"has an invalid value for label {key!s}")
    return dict(sorted(value.items()))


def _is_subdomain(text: str) -> bool:
    try:
        v.dns1123_subdomain(text)
    except Invalid:
        return False
    return True


_QUALIFIED = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
DURATION_PATTERN = r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
"""The ServiceMonitor CRD's pattern of ``spec.endpoints[].interval`` (prometheus-operator
``pkg/apis/monitoring/v1/types.go`` ``Duration``, ``+kubebuilder:validation:Pattern``; the same in the generated
``example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml``): units in the fixed order
y, w, d, h, m, s, ms, each at most once, so ``30s1m`` is refused as the API server refuses it."""
_DURATION = re.compile(DURATION_PATTERN)


def duration(value: str) -> str:
    """Check a Prometheus duration such as 30s or 1m30s against the ServiceMonitor CRD's pattern."""
    text = value.strip()
    if not text or not _DURATION.fullmatch(text):
        raise Invalid("is not a duration such as 30s, 1m or 1m30s (units in the order y, w, d, h, m, s, ms, each at most once)")
    return text


def metrics_path(value: str) -> str:
    """Check an HTTP path that starts with '/'."""
    if not value.startswith("/") or any(c.isspace() for c in value):
        raise Invalid("must be an absolute HTTP path such as /metrics")
    return value


def scheme(value: str) -> str:
    """Check a scrape scheme: http or https."""
    if value not in ("http", "https"):
        raise Invalid("must be http or https")
    return value


def resolve(args: PrometheusAuthArgs, reader: ConfigReader) -> PrometheusSpec | None:
    """Validate ``args`` and config into a spec; problems go to ``reader`` (None if any)."""
    namespace = reader.input("namespace", args.get("namespace"), string(v.namespace), required=True)
    monitor_namespace = reader.input("monitor_namespace", args.get("monitor_namespace", "monitoring"), string(v.namespace))
    app = reader.input("app", args.get("app", "api"), string(v.dns1123_label))
    service_labels: dict[str, Known[str]] | None
    if args.get("service_labels") is None and isinstance(app, pulumi.Output):
        # The default selector names the app; a checked app name (a DNS-1123 label) is a valid label value.
        service_labels = {"app.kubernetes.io/name": app}
    else:
        labels = reader.arg("service_labels", args.get("service_labels", {"app.kubernetes.io/name": app or "api"}), label_map)
        service_labels = None if labels is None else dict[str, Known[str]](labels)
    port = reader.arg("port", args.get("port", "http"), string(v.dns1123_label))
    path = reader.arg("path", args.get("path", "/metrics"), string(metrics_path))
    scrape_scheme = reader.arg("scheme", args.get("scheme", "http"), string(scheme))
    interval = reader.arg("interval", args.get("interval", "30s"), string(duration))
    monitor_labels = reader.arg("monitor_labels", args.get("monitor_labels", {"release": "kube-prometheus-stack"}), label_map)
    secret_name = reader.input("secret_name", args.get("secret_name", "prometheus-auth"), string(v.dns1123_subdomain))
    token = reader.secret(TOKEN_KEY, args.get("token"), arg_name="token")
    previous = reader.secret(PREVIOUS_TOKEN_KEY, args.get("previous_token"), required=False, arg_name="previous_token")
    reader.differ(
        TOKEN_KEY,
        PREVIOUS_TOKEN_KEY,
        f"phase 1 of a rotation needs the new token in {TOKEN_KEY} and the old one in {PREVIOUS_TOKEN_KEY}",
    )
    # Optional: absent, the component generates the key (a bad configured one is still refused).
    rollout_key = reader.secret(kube.ROLLOUT_KEY, args.get("rollout_key"), required=False, arg_name="rollout_key")
    # Each value above is None only when its problem was recorded (every arg has a default or is required).
    if reader.problems:
        return None
    assert namespace and monitor_namespace and app and service_labels and port and path and scrape_scheme
    assert interval and monitor_labels and secret_name and token is not None
    return PrometheusSpec(
        namespace,
        monitor_namespace,
        app,
        service_labels,
        port,
        path,
        scrape_scheme,
        interval,
        monitor_labels,
        secret_name,
        token,
        rollout_key,
        previous,
    )


class PrometheusAuth(ChainComponent):
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

    @classmethod
    def from_spec(
        cls, name: str, spec: PrometheusSpec, opts: pulumi.ResourceOptions | None = None, *, rollout_key: pulumi.Output[str] | None = None
    ) -> Self:
        """Build from an already validated spec (used by SecretChain, which validates everything first).

        ``rollout_key``: the key to use when the spec has none (SecretChain's one generated key per stack).
        """
        self = cls.__new__(cls)
        self._build(name, spec, opts, rollout_key)
        return self

    def _build(self, name: str, spec: PrometheusSpec, opts: pulumi.ResourceOptions | None, shared_key: pulumi.Output[str] | None = None) -> None:
        super().__init__("secret-chain:index:PrometheusAuth", name, None, gated(spec, opts))
        self.inherit_depends_on(opts)
        from pulumi_kubernetes.apiextensions import CustomResource

        previous: pulumi.Output[str | None] = spec.previous_token if spec.previous_token is not None else pulumi.Output.from_input(None)
        tokens = pulumi.Output.all(spec.token, previous)
        app_string_data = tokens.apply(lambda t: app_data(t[0], t[1]))
        kube.secret(
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
        CustomResource(
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
        self.secret_name = pulumi.Output.from_input(spec.secret_name)
        self.monitor_secret_name = pulumi.Output.from_input(spec.monitor_secret_name)
        self.env_var_name = pulumi.Output.from_input(ENV_VAR)
        self.monitor_name = pulumi.Output.from_input(spec.monitor_name)
        rollout_key = kube.rollout_key_of(self, name, spec.rollout_key, shared_key)
        self.rollout_annotations = kube.rollout_annotations(rollout_key, spec.namespace, spec.secret_name, app_string_data)
        self.register_outputs(
            {
                "secret_name": self.secret_name,
                "monitor_secret_name": self.monitor_secret_name,
                "env_var_name": self.env_var_name,
                "monitor_name": self.monitor_name,
                "rollout_annotations": self.rollout_annotations,
            }
        )
