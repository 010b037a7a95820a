from __future__ import annotations

import pytest

from components import PrometheusAuth
from components.errors import ConfigError
from components.offline import is_secret, unwrap
from tests.conftest import Run
from tests.leaks import find_leaks
from tests.schemas import SchemaError, validate

MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
SECRET = "kubernetes:core/v1:Secret"


def test_app_secret_monitor_copy_and_servicemonitor(run: Run, chain_config: tuple[dict[str, str], list[str]]) -> None:
    config, secret_keys = chain_config
    token = config["prometheus:authToken"]
    ev = run(lambda: PrometheusAuth("metrics", {"namespace": "default"}), config, secret_keys)
    secrets = {(s.inputs["metadata"]["namespace"], s.inputs["metadata"]["name"]): s for s in ev.of_type(SECRET)}
    assert set(secrets) == {("default", "prometheus-auth"), ("monitoring", "default-prometheus-auth")}
    assert unwrap(secrets["default", "prometheus-auth"].inputs["stringData"]) == {"PROMETHEUS_AUTH_TOKEN": token}
    assert unwrap(secrets["monitoring", "default-prometheus-auth"].inputs["stringData"]) == {"token": token}
    for reg in secrets.values():
        assert is_secret(reg.inputs["stringData"])
        validate(unwrap(reg.inputs))
    (monitor,) = ev.of_type(MONITOR)
    obj = unwrap(monitor.inputs)
    validate(obj)
    assert obj["metadata"]["namespace"] == "monitoring"
    assert obj["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    (endpoint,) = obj["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["authorization"] == {"type": "Bearer", "credentials": {"name": "default-prometheus-auth", "key": "token"}}
    assert "bearerTokenSecret" not in endpoint and "bearerTokenFile" not in endpoint
    assert obj["spec"]["namespaceSelector"] == {"matchNames": ["default"]}
    # The credentials the operator reads are in the ServiceMonitor's own namespace.
    assert ("monitoring", endpoint["authorization"]["credentials"]["name"]) in secrets
    assert find_leaks(ev, [token]) == []
    (component,) = ev.components
    assert ev.component_outputs[component.urn] == {
        "secret_name": "prometheus-auth",
        "monitor_secret_name": "default-prometheus-auth",
        "env_var_name": "PROMETHEUS_AUTH_TOKEN",
        "monitor_name": "default-api",
    }


def test_same_namespace_uses_one_secret_and_custom_labels(run: Run, chain_config: tuple[dict[str, str], list[str]]) -> None:
    config, secret_keys = chain_config
    ev = run(
        lambda: PrometheusAuth(
            "metrics",
            {
                "namespace": "preview-pr-7",
                "monitor_namespace": "preview-pr-7",
                "monitor_labels": {"release": "prom"},
                "app": "web",
            },
        ),
        config,
        secret_keys,
    )
    (secret,) = ev.of_type(SECRET)
    (monitor,) = ev.of_type(MONITOR)
    obj = unwrap(monitor.inputs)
    assert obj["metadata"]["labels"]["release"] == "prom"
    assert obj["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": "web"}}
    assert obj["spec"]["endpoints"][0]["authorization"]["credentials"] == {
        "name": "prometheus-auth",
        "key": "PROMETHEUS_AUTH_TOKEN",
    }
    validate(obj)
    assert secret.inputs["metadata"]["namespace"] == "preview-pr-7"


def test_short_token_is_refused(run: Run, chain_config: tuple[dict[str, str], list[str]]) -> None:
    config, secret_keys = chain_config
    config["prometheus:authToken"] = "0123456789abcdef"
    with pytest.raises(ConfigError) as caught:
        run(lambda: PrometheusAuth("metrics", {"namespace": "default"}), config, secret_keys)
    assert "too short" in str(caught.value) and "0123456789abcdef" not in str(caught.value)


def test_schema_check_catches_a_misspelt_field() -> None:
    bad = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "x", "namespace": "monitoring"},
        "spec": {"selector": {}, "endpoints": [{"port": "http", "authorisation": {"type": "Bearer"}}]},
    }
    with pytest.raises(SchemaError, match="authorisation"):
        validate(bad)
