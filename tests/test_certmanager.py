from __future__ import annotations

import secrets
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secret_chain.certmanager import (
    PRODUCTION_SERVER,
    STAGING_SERVER,
    CertManagerDnsIssuer,
    CertManagerDnsIssuerArgs,
    certificate_name,
    tls_secret_name,
)
from secret_chain.ops.offline import Evaluation, is_secret, unwrap
from tests.conftest import Run, config_error
from tests.leaks import find_leaks
from tests.schemas import validate

SECRET = "kubernetes:core/v1:Secret"
ISSUER = "kubernetes:cert-manager.io/v1:ClusterIssuer"
CERTIFICATE = "kubernetes:cert-manager.io/v1:Certificate"
TOKEN_KEY = "gateway:digitaloceanDnsToken"
ARGS: CertManagerDnsIssuerArgs = {"email": "ops@example.com", "domain": "example.com"}

Config = tuple[dict[str, str], list[str]]


@pytest.fixture
def dns_config(chain_config: Config) -> Config:
    config, secret_keys = chain_config
    config[TOKEN_KEY] = "dop_v1_" + secrets.token_hex(32)
    secret_keys.append(TOKEN_KEY)
    return config, secret_keys


def _validate_all(ev: Evaluation) -> None:
    for reg in ev.resources:
        if reg.type.startswith("kubernetes:"):
            validate(unwrap(reg.inputs))


def _outputs(ev: Evaluation) -> dict[str, Any]:
    (component,) = ev.components
    assert component.type == "secret-chain:index:CertManagerDnsIssuer"
    return ev.component_outputs[component.urn]


def test_production_issuer_and_token_secret(run: Run, dns_config: Config) -> None:
    config, secret_keys = dns_config
    ev = run(lambda: CertManagerDnsIssuer("acme", ARGS), config, secret_keys)
    _validate_all(ev)
    (secret,) = ev.of_type(SECRET)
    assert secret.inputs["metadata"]["name"] == "digitalocean-dns"
    assert secret.inputs["metadata"]["namespace"] == "cert-manager"
    assert is_secret(secret.inputs["stringData"])
    assert unwrap(secret.inputs["stringData"]) == {"access-token": config[TOKEN_KEY]}
    (issuer,) = ev.of_type(ISSUER)
    assert issuer.inputs["metadata"]["name"] == "letsencrypt-production"
    assert "namespace" not in issuer.inputs["metadata"]
    assert issuer.inputs["spec"] == {
        "acme": {
            "email": "ops@example.com",
            "server": PRODUCTION_SERVER,
            "privateKeySecretRef": {"name": "letsencrypt-production-account"},
            "solvers": [
                {
                    "selector": {"dnsZones": ["example.com"]},
                    "dns01": {"digitalocean": {"tokenSecretRef": {"name": "digitalocean-dns", "key": "access-token"}}},
                }
            ],
        }
    }
    assert secret.urn in issuer.dependencies
    assert issuer.parent.endswith("secret-chain:index:CertManagerDnsIssuer::acme")
    assert ev.of_type(CERTIFICATE) == []
    outputs = _outputs(ev)
    assert outputs["issuer_name"] == "letsencrypt-production"
    assert outputs["secret_name"] == "digitalocean-dns"
    assert outputs["certificate_secret_names"] == []
    assert outputs["domain_urn"] == "do:domain:example.com"
    assert find_leaks(ev, [config[k] for k in secret_keys]) == []


def test_staging_and_overrides(run: Run, dns_config: Config) -> None:
    config, secret_keys = dns_config
    token = "dop_v1_" + secrets.token_hex(32)
    args: CertManagerDnsIssuerArgs = {
        **ARGS,
        "staging": True,
        "cluster_resource_namespace": "cm-system",
        "secret_name": "do-dns",
        "token": token,
        "dns_zones": ["example.com", "pr.example.com"],
    }
    ev = run(lambda: CertManagerDnsIssuer("acme", args), config, secret_keys)
    _validate_all(ev)
    (secret,) = ev.of_type(SECRET)
    assert secret.inputs["metadata"]["namespace"] == "cm-system"
    assert secret.inputs["metadata"]["name"] == "do-dns"
    assert unwrap(secret.inputs["stringData"]) == {"access-token": token}
    (issuer,) = ev.of_type(ISSUER)
    acme = issuer.inputs["spec"]["acme"]
    assert issuer.inputs["metadata"]["name"] == "letsencrypt-staging"
    assert acme["server"] == STAGING_SERVER
    assert acme["privateKeySecretRef"] == {"name": "letsencrypt-staging-account"}
    assert acme["solvers"][0]["selector"]["dnsZones"] == ["example.com", "pr.example.com"]
    assert acme["solvers"][0]["dns01"]["digitalocean"]["tokenSecretRef"]["name"] == "do-dns"
    assert _outputs(ev)["issuer_name"] == "letsencrypt-staging"
    assert find_leaks(ev, [token, config[TOKEN_KEY]]) == []


def test_custom_issuer_name(run: Run, dns_config: Config) -> None:
    config, secret_keys = dns_config
    ev = run(lambda: CertManagerDnsIssuer("acme", {**ARGS, "issuer_name": "le-dns"}), config, secret_keys)
    (issuer,) = ev.of_type(ISSUER)
    assert issuer.inputs["metadata"]["name"] == "le-dns"
    assert issuer.inputs["spec"]["acme"]["privateKeySecretRef"] == {"name": "le-dns-account"}


def test_wildcard_certificates(run: Run, dns_config: Config) -> None:
    config, secret_keys = dns_config
    hosts = ["*.pr.example.com", "*.pr-api.example.com"]
    ev = run(
        lambda: CertManagerDnsIssuer("acme", {**ARGS, "wildcard_hosts": hosts, "certificate_namespace": "gateway"}),
        config,
        secret_keys,
    )
    _validate_all(ev)
    (issuer,) = ev.of_type(ISSUER)
    by_name = {c.inputs["metadata"]["name"]: c for c in ev.of_type(CERTIFICATE)}  # registration order is async
    assert sorted(by_name) == ["wildcard-pr--api-example-com", "wildcard-pr-example-com"]
    for host in hosts:
        cert = by_name[tls_secret_name(host).removesuffix("-tls")]
        assert cert.inputs["metadata"]["namespace"] == "gateway"
        assert cert.inputs["spec"] == {
            "secretName": tls_secret_name(host),
            "dnsNames": [host],
            "issuerRef": {"name": "letsencrypt-production", "kind": "ClusterIssuer", "group": "cert-manager.io"},
        }
        assert issuer.urn in cert.dependencies
    assert _outputs(ev)["certificate_secret_names"] == ["wildcard-pr-example-com-tls", "wildcard-pr--api-example-com-tls"]
    assert find_leaks(ev, [config[k] for k in secret_keys]) == []


def test_certificate_namespace_defaults_to_default(run: Run, dns_config: Config) -> None:
    config, secret_keys = dns_config
    ev = run(lambda: CertManagerDnsIssuer("acme", {**ARGS, "wildcard_hosts": ["*.example.com"]}), config, secret_keys)
    (cert,) = ev.of_type(CERTIFICATE)
    assert cert.inputs["metadata"]["namespace"] == "default"
    assert cert.inputs["spec"]["secretName"] == "wildcard-example-com-tls"


def test_long_wildcard_names_stay_label_sized() -> None:
    host = "*." + "a" * 60 + ".example.com"
    name = tls_secret_name(host)
    assert len(name) <= 63
    assert name == tls_secret_name(host)
    validate_name = name.removesuffix("-tls")
    assert validate_name != tls_secret_name("*." + "a" * 61 + ".example.com").removesuffix("-tls")


def test_http01_solver_without_wildcards(run: Run, chain_config: Config) -> None:
    config, secret_keys = chain_config  # no DNS token configured: http01 does not read it
    ev = run(lambda: CertManagerDnsIssuer("acme", {**ARGS, "solver": "http01"}), config, secret_keys)
    _validate_all(ev)
    assert ev.of_type(SECRET) == []
    (issuer,) = ev.of_type(ISSUER)
    assert issuer.inputs["spec"]["acme"]["solvers"] == [
        {"selector": {"dnsZones": ["example.com"]}, "http01": {"ingress": {"ingressClassName": "nginx"}}}
    ]
    outputs = _outputs(ev)
    assert outputs.get("secret_name") is None
    assert outputs.get("domain_urn") is None


def _assert_nothing_registered(run: Run, config: dict[str, str], secret_keys: list[str], args: CertManagerDnsIssuerArgs) -> str:
    message = str(config_error(run, lambda: CertManagerDnsIssuer("acme", args), config, secret_keys))
    for value in (config.get(TOKEN_KEY), args.get("token")):
        if isinstance(value, str):
            assert value not in message
    return message


def test_wildcard_with_http01_is_refused_before_anything(run: Run, dns_config: Config) -> None:
    config, secret_keys = dns_config
    message = _assert_nothing_registered(run, config, secret_keys, {**ARGS, "solver": "http01", "wildcard_hosts": ["*.pr.example.com"]})
    assert "wildcard_hosts needs the dns01 solver" in message


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"wildcard_hosts": ["*.pr.other.org"]}, "wildcard_hosts item(s) 0 (*.pr.other.org) lie outside every DNS zone"),
        ({"wildcard_hosts": ["*.example.com.evil.org"]}, "lie outside every DNS zone"),
        ({"dns_zones": ["pr.example.com"], "wildcard_hosts": ["*.api.example.com"]}, "lie outside every DNS zone"),
        ({"dns_zones": ["other.org"]}, "are not in the DigitalOcean domain"),
        ({"wildcard_hosts": ["pr.example.com"]}, "is not a wildcard name"),
    ],
)
def test_bad_wildcards_and_zones(run: Run, dns_config: Config, extra: dict[str, Any], expected: str) -> None:
    config, secret_keys = dns_config
    args: CertManagerDnsIssuerArgs = {**ARGS, **extra}  # type: ignore[typeddict-item]
    message = _assert_nothing_registered(run, config, secret_keys, args)
    assert expected in message


def test_missing_token_names_the_key_and_fix(run: Run, chain_config: Config) -> None:
    config, secret_keys = chain_config
    message = _assert_nothing_registered(run, config, secret_keys, ARGS)
    assert f'config "{TOKEN_KEY}" is missing' in message
    assert f"pulumi env set acme/secret-chain/Production pulumiConfig.{TOKEN_KEY} --secret --string --file -" in message  # its own (issue 20)


def test_malformed_token_is_not_echoed(run: Run, chain_config: Config) -> None:
    config, secret_keys = chain_config
    config[TOKEN_KEY] = "dop_v1_" + "zz" * 10 + secrets.token_hex(4)
    secret_keys.append(TOKEN_KEY)
    message = _assert_nothing_registered(run, config, secret_keys, ARGS)
    assert TOKEN_KEY in message and "pulumi env set" in message
    assert config[TOKEN_KEY] not in message


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"domain": "example.com"}, 'argument "email" is required'),
        ({"email": "ops@example.com"}, 'argument "domain" is required'),
        ({"email": "not-an-email", "domain": "example.com"}, 'argument "email" is not a valid email address'),
        ({"email": "ops@example.com", "domain": "localhost"}, 'argument "domain" is not a valid DNS hostname'),
        ({**ARGS, "staging": "yes"}, 'argument "staging" must be true or false'),
        ({**ARGS, "solver": "tls-alpn01"}, 'argument "solver" must be dns01 or http01'),
    ],
)
def test_argument_errors(run: Run, dns_config: Config, args: dict[str, Any], expected: str) -> None:
    config, secret_keys = dns_config
    message = _assert_nothing_registered(run, config, secret_keys, args)  # type: ignore[arg-type]
    assert expected in message


_FAILED_LOOKUP = """
import json, sys
from secret_chain.certmanager import CertManagerDnsIssuer
from secret_chain.ops.offline import DEFAULT_INVOKES, evaluate

def no_domain(args):
    raise RuntimeError("domain " + str(args["name"]) + " not found (404)")

config, secret_keys, preview = json.loads(sys.argv[1])
invokes = {**DEFAULT_INVOKES, "digitalocean:index/getDomain:getDomain": no_domain}
try:
    evaluate(lambda: CertManagerDnsIssuer("acme", {"email": "ops@example.com", "domain": "example.com"}),
             config=config, secret_keys=secret_keys, preview=preview, invokes=invokes)
except Exception as err:
    print("FAILED:", type(err).__name__, err)
    sys.exit(3)
print("NO FAILURE")
"""


def test_failed_domain_lookup_fails_the_run(dns_config: Config, preview: bool) -> None:
    """A domain the provider cannot find fails the run (preview too). Run in a child process: a failed
    invoke leaves the mock runtime's event loop in a state that upsets later tests in this process."""
    import json
    import subprocess
    import sys

    config, secret_keys = dns_config
    done = subprocess.run(
        [sys.executable, "-c", _FAILED_LOOKUP, json.dumps([config, secret_keys, preview])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "domain example.com not found (404)" in done.stdout
    assert config[TOKEN_KEY] not in done.stdout + done.stderr


def test_hosts_that_shared_a_name_get_distinct_certificates(run: Run, dns_config: Config) -> None:
    """*.pr-api.example.com and *.pr.api.example.com both became wildcard-pr-api-example-com: one URN twice."""
    config, secret_keys = dns_config
    hosts = ["*.pr-api.example.com", "*.pr.api.example.com"]
    ev = run(lambda: CertManagerDnsIssuer("acme", {**ARGS, "wildcard_hosts": hosts}), config, secret_keys)
    _validate_all(ev)
    certs = ev.of_type(CERTIFICATE)
    assert len({c.urn for c in certs}) == 2
    by_host = {c.inputs["spec"]["dnsNames"][0]: c.inputs for c in certs}
    assert by_host["*.pr.api.example.com"]["metadata"]["name"] == "wildcard-pr-api-example-com"  # unchanged: no hyphen
    assert by_host["*.pr-api.example.com"]["metadata"]["name"] == "wildcard-pr--api-example-com"
    assert len({i["spec"]["secretName"] for i in by_host.values()}) == 2


def test_renamed_certificate_keeps_its_urn_through_an_alias() -> None:
    """A host whose name changed (it has a hyphen) is aliased to its old resource name when that was unique."""
    from secret_chain.certmanager import certificate_name, legacy_certificate_name

    assert legacy_certificate_name("*.pr-api.example.com") == "wildcard-pr-api-example-com"
    assert certificate_name("*.pr-api.example.com") != legacy_certificate_name("*.pr-api.example.com")
    assert certificate_name("*.pr.example.com") == legacy_certificate_name("*.pr.example.com")  # stable


_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
_HOST = st.lists(_LABEL, min_size=1, max_size=6).map(lambda labels: "*." + ".".join(labels))


@settings(max_examples=500, deadline=None)
@given(st.lists(_HOST, min_size=2, max_size=2, unique=True))
def test_certificate_names_are_injective_and_valid(hosts: list[str]) -> None:
    """Property: two different wildcard hosts never share a Certificate or TLS Secret name; each name is a DNS-1123
    subdomain and its TLS Secret name fits a label value (63)."""
    from secret_chain import validators as v

    a, b = hosts
    assert certificate_name(a) != certificate_name(b)
    assert tls_secret_name(a) != tls_secret_name(b)
    for host in hosts:
        assert len(tls_secret_name(host)) <= 63
        v.dns1123_subdomain(certificate_name(host))
        v.dns1123_subdomain(tls_secret_name(host))


def test_acme_email_is_documented_as_contact_only() -> None:
    """Let's Encrypt ended expiration emails on 2025-06-04: the docs must not promise them."""
    from pathlib import Path

    from secret_chain import catalog, certmanager

    root = Path(__file__).resolve().parents[1]
    pages = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    texts = (catalog.get("secret-chain:acmeEmail").purpose, *(p.read_text() for p in pages), Path(certmanager.__file__).read_text())
    for text in texts:
        assert "sends expiry" not in text and "expiry notices here" not in text
    assert "2025-06-04" in catalog.get("secret-chain:acmeEmail").purpose
