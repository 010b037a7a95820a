from __future__ import annotations

import pytest

from secret_chain import PrometheusAuth
from secret_chain.errors import ConfigError
from secret_chain.kube import rollout_digest
from secret_chain.ops.offline import is_secret, unwrap
from tests.conftest import Run, secret_data
from tests.leaks import find_leaks
from tests.schemas import SchemaError, validate

MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
SECRET = "kubernetes:core/v1:Secret"


def test_app_secret_monitor_secret_and_servicemonitor(run: Run, chain_config: tuple[dict[str, str], list[str]]) -> None:
    config, secret_keys = chain_config
    token = config["prometheus:authToken"]
    ev = run(lambda: PrometheusAuth("metrics", {"namespace": "default"}), config, secret_keys)
    secrets = {(s.inputs["metadata"]["namespace"], s.inputs["metadata"]["name"]): s for s in ev.of_type(SECRET)}
    assert set(secrets) == {("default", "prometheus-auth"), ("monitoring", "default-prometheus-auth")}
    app, monitor_secret = secrets["default", "prometheus-auth"], secrets["monitoring", "default-prometheus-auth"]
    # The app Secret is base64 data (its keys change during a rotation); the monitor's is stringData.
    assert set(app.inputs) >= {"data"} and "stringData" not in app.inputs and is_secret(app.inputs["data"])
    assert secret_data(app.inputs) == {"PROMETHEUS_AUTH_TOKEN": token}
    assert secret_data(monitor_secret.inputs) == {"token": token} and is_secret(monitor_secret.inputs["stringData"])
    for reg in secrets.values():
        validate(unwrap(reg.inputs))
        assert reg.inputs["type"] == "Opaque" and "immutable" not in reg.inputs and not reg.delete_before_replace
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
    assert find_leaks(ev, [token, config["secret-chain:rolloutKey"]]) == []
    (component,) = ev.components
    outputs = ev.component_outputs[component.urn]
    (annotation,) = outputs.pop("rollout_annotations").items()
    assert outputs == {
        "secret_name": "prometheus-auth",
        "monitor_secret_name": "default-prometheus-auth",
        "env_var_name": "PROMETHEUS_AUTH_TOKEN",
        "monitor_name": "default-api",
    }
    assert annotation[0] == "secret-chain/rollout-hmac-sha256-prometheus-auth"
    key = config["secret-chain:rolloutKey"]
    assert annotation[1] == rollout_digest(key, "default", "prometheus-auth", {"PROMETHEUS_AUTH_TOKEN": token})


def test_same_namespace_keeps_a_separate_monitor_secret(run: Run, chain_config: tuple[dict[str, str], list[str]]) -> None:
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
        stack="preview-pr-7",  # a PR's namespace is written only by the PR's own stack
    )
    secrets = {s.inputs["metadata"]["name"]: s for s in ev.of_type(SECRET)}
    assert set(secrets) == {"prometheus-auth", "preview-pr-7-prometheus-auth"}
    assert {s.inputs["metadata"]["namespace"] for s in secrets.values()} == {"preview-pr-7"}
    (monitor,) = ev.of_type(MONITOR)
    obj = unwrap(monitor.inputs)
    assert obj["metadata"]["labels"]["release"] == "prom"
    assert obj["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": "web"}}
    # Even in one namespace the monitor reads its own Secret: during a rotation it keeps the old token.
    assert obj["spec"]["endpoints"][0]["authorization"]["credentials"] == {"name": "preview-pr-7-prometheus-auth", "key": "token"}
    validate(obj)


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


def _crd_interval_pattern() -> str:
    """The pattern of ServiceMonitor ``spec.endpoints[].interval`` as the PyPI model of the upstream CRD carries it."""
    from tests.schemas import crd_models

    endpoint = crd_models("cloudcoil.models.prometheus_operator.v1").ServiceMonitorSpecEndpointsItem
    (constraint,) = [m for m in endpoint.model_fields["interval"].metadata if getattr(m, "pattern", None)]
    pattern: str = constraint.pattern
    return pattern


def test_interval_pattern_is_the_crds_own() -> None:
    """The check is the CRD's ordered pattern (cloudcoil-models-prometheus-operator, generated from the upstream CRD)."""
    from secret_chain.validators import DURATION_PATTERN

    assert _crd_interval_pattern() == DURATION_PATTERN


@pytest.mark.parametrize("interval", ["30s1m", "1s1s", "1ms1s", "1m1h", "30 s", "1.5m", "", "30"])
def test_interval_out_of_order_or_malformed_is_refused(interval: str) -> None:
    import re

    from secret_chain.validators import Invalid
    from secret_chain.validators import prometheus_duration as duration

    assert not re.fullmatch(_crd_interval_pattern(), interval) or interval == ""
    with pytest.raises(Invalid):
        duration(interval)


@pytest.mark.parametrize("interval", ["30s", "1m30s", "1h20m15s", "15d", "2w", "1y", "500ms", "1m500ms", "0"])
def test_interval_the_crd_accepts_is_accepted_and_validates(run: Run, chain_config: tuple[dict[str, str], list[str]], interval: str) -> None:
    config, secret_keys = chain_config
    ev = run(lambda: PrometheusAuth("metrics", {"namespace": "default", "interval": interval}), config, secret_keys)
    (monitor,) = ev.of_type(MONITOR)
    obj = unwrap(monitor.inputs)
    validate(obj)
    assert obj["spec"]["endpoints"][0]["interval"] == interval


def test_interval_check_agrees_with_the_crd_pattern() -> None:
    """Property: a duration-looking string passes our check exactly when the CRD's pattern matches it."""
    import re

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from secret_chain.validators import Invalid
    from secret_chain.validators import prometheus_duration as duration

    crd = re.compile(_crd_interval_pattern())
    unit = st.sampled_from(["y", "w", "d", "h", "m", "s", "ms"])
    piece = st.tuples(st.integers(0, 999).map(str), unit).map("".join)

    @settings(max_examples=300, deadline=None)
    @given(st.lists(piece, min_size=1, max_size=4).map("".join))
    def check(text: str) -> None:
        try:
            duration(text)
            ok = True
        except Invalid:
            ok = False
        assert ok == bool(crd.fullmatch(text))

    check()
