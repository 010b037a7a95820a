"""Guard rails on values, each beside the accident or attack it stops (issue 13, items 4, 6 and 8).

* **Values that can never work** (item 4) are refused where they are read: GitHub repository names ``.`` and
  ``..`` (and ``.git``/``.wiki`` suffixes), a DNS name whose top-level domain is all digits or that is an IP
  address, a github.com Flux repository with a GitHub Enterprise API base URL, runbook placeholders
  (``YOUR_CLIENT_SECRET``…). An ACME email with a Unicode domain is sent as Let's Encrypt accepts it (punycode).
  Well-formed values that are published or made up (the example configs' PEM key and patterned tokens) still
  render (``plan``, ``make demo``) but ``preflight`` says NOT READY and why (:mod:`secret_chain.published`).
  In the other direction, object names follow Kubernetes' own rule exactly (a port of ``IsDNS1123Subdomain``).
* **Refused public values are quoted** (item 6): a namespace, object name, DNS name, repository or port that is
  refused is quoted (shortened, printable); a secret, or anything shaped like a credential, never is.
* **A lone UTF-16 surrogate** (item 8) in any key is bad input, named by key, never echoed; it used to pass
  ``preflight`` and crash ``plan`` with a ``UnicodeEncodeError`` holding the whole secret.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secret_chain import CertManagerDnsIssuer, FluxGitCredentials, GhcrPullSecret, GitHubActionsSecrets, GrafanaOAuth, PrometheusAuth, catalog
from secret_chain import validators as v
from secret_chain.chain import SecretChain
from secret_chain.errors import ConfigError
from secret_chain.ops.cli import main
from secret_chain.ops.offline import unwrap
from secret_chain.validators import Invalid
from tests.conftest import Run, canary_config, config_error, rsa_pem, secret_data
from tests.runtime import evaluate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "config"
PEM = rsa_pem()
FLUX_APP = {"flux:githubAppId": "234567", "flux:githubAppInstallationId": "34567890", "flux:githubAppPrivateKey": PEM}
GRAFANA = {
    "grafana:githubClientId": "Ov23liq8Rk2xT0pLm9Zc",
    "grafana:githubClientSecret": "c0ffee4b1d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a",
    "grafana:githubOrg": "acme",
    "grafana:adminUser": "octo",
}
MAIL = {
    "grafana:smtpHost": "smtp.gmail.com",
    "grafana:smtpPort": "587",
    "grafana:smtpUser": "alerts@acme.io",
    "grafana:smtpPassword": "abcd efgh ijkl mnop",
    "grafana:smtpFromAddress": "alerts@acme.io",
    "grafana:alertEmail": "oncall@acme.io",
}
CERT = {"gateway:digitaloceanDnsToken": "dop_v1_" + secrets.token_hex(32)}
SECRET_EXTRA = [
    "flux:githubAppPrivateKey",
    "gateway:digitaloceanDnsToken",
    "grafana:githubClientId",
    "grafana:githubClientSecret",
    "grafana:smtpHost",
    "grafana:smtpUser",
    "grafana:smtpPassword",
]


def _config(**extra: str) -> tuple[dict[str, str], list[str]]:
    config, secret_keys = canary_config()
    return {**config, **FLUX_APP, **GRAFANA, **CERT, **extra}, [*secret_keys, *SECRET_EXTRA]


def _refused(run: Run, build: Callable[[], object], config: dict[str, str] | None = None) -> ConfigError:
    """Evaluate ``build``; it raises one ConfigError, and nothing but the root stack is registered."""
    conf, secret_keys = _config()
    return config_error(run, build, {**conf, **(config or {})}, secret_keys)


# --- item 4: values that can never work ------------------------------------------------------------------------


@dataclass(frozen=True)
class Never:
    """A value that can never work, where it is given, and what the one problem line must say."""

    build: Callable[[], object]
    says: str
    config: dict[str, str] | None = None


NEVER: dict[str, Never] = {
    # GitHub repository names (docs.github.com; github/docs#44518): "." and ".." are path segments
    "repository-dotdot": Never(lambda: GitHubActionsSecrets("c", {"repository": "acme/.."}), "'.' and '..' are path segments"),
    "repository-dot": Never(lambda: GitHubActionsSecrets("c", {"repository": "acme/."}), "'.' and '..' are path segments"),
    "repository-dot-git": Never(lambda: GitHubActionsSecrets("c", {"repository": "acme/platform.git"}), "strips a .git suffix"),
    "repository-dot-wiki": Never(lambda: GitHubActionsSecrets("c", {"repository": "acme/platform.wiki"}), "refuses a .wiki one"),
    "org-repository-dotdot": Never(
        lambda: GitHubActionsSecrets("c", {"repository": "acme/platform", "organization_repositories": [".."]}), "path segments"
    ),
    "chain-repository-setting": Never(lambda: SecretChain("c"), "path segments", {"secret-chain:githubRepository": "acme/.."}),
    # DNS names: no top-level domain is all digits (RFC 3696 section 2), an IP address is not a zone
    "domain-numeric-tld": Never(lambda: CertManagerDnsIssuer("c", {"email": "ops@acme.io", "domain": "example.123"}), "all digits"),
    "domain-ipv4": Never(lambda: CertManagerDnsIssuer("c", {"email": "ops@acme.io", "domain": "10.0.0.1"}), "is an IP address"),
    "domain-ipv6": Never(lambda: GrafanaOAuth("c", {"namespace": "monitoring", "domain": "[2001:db8::1]"}), "is an IP address"),
    "grafana-domain-numeric-tld": Never(lambda: GrafanaOAuth("c", {"namespace": "monitoring", "domain": "acme.42"}), "all digits"),
    "acme-email-numeric-tld": Never(lambda: CertManagerDnsIssuer("c", {"email": "ops@acme.123", "domain": "acme.io"}), "not a valid email"),
    "smtp-host-ip": Never(
        lambda: GrafanaOAuth("c", {"namespace": "monitoring", "domain": "acme.io"}), "IP address", {**MAIL, "grafana:smtpHost": "192.0.2.1"}
    ),
    # Flux: a GitHub Enterprise API mints tokens that never read a github.com repository
    "flux-github-com-with-ghe-api": Never(
        lambda: FluxGitCredentials("c", {"repository_url": "https://github.com/acme/cluster", "github_app_base_url": "https://ghe.acme.io/api/v3"}),
        "names GitHub Enterprise Server (ghe.acme.io) but the repository is on github.com",
    ),
    # the runbook's placeholders (seeds/three-tier-secrets-runbook.txt)
    "placeholder-client-secret": Never(
        lambda: GrafanaOAuth("c", {"namespace": "monitoring", "domain": "acme.io"}),
        "is a placeholder",
        {"grafana:githubClientSecret": "YOUR_CLIENT_SECRET"},
    ),
    "placeholder-client-id": Never(
        lambda: GrafanaOAuth("c", {"namespace": "monitoring", "domain": "acme.io"}), "is a placeholder", {"grafana:githubClientId": "YOUR_CLIENT_ID"}
    ),
    "placeholder-app-password": Never(
        lambda: GrafanaOAuth("c", {"namespace": "monitoring", "domain": "acme.io"}),
        "is a placeholder",
        {**MAIL, "grafana:smtpPassword": "YOUR_APP_PASSWORD"},
    ),
    "placeholder-admin-user": Never(
        lambda: GrafanaOAuth("c", {"namespace": "monitoring", "domain": "acme.io"}), "is a placeholder", {"grafana:adminUser": "your-github-username"}
    ),
    "placeholder-ghcr-username": Never(
        lambda: GhcrPullSecret("c", {"namespaces": ["default"]}), "is a placeholder", {"namespace:imagePullSecret.username": "your-github-username"}
    ),
    "placeholder-in-args": Never(
        lambda: GrafanaOAuth("c", {"namespace": "monitoring", "domain": "acme.io", "client_secret": "YOUR_CLIENT_SECRET"}), "placeholder"
    ),
}


@pytest.mark.parametrize("case", list(NEVER), ids=list(NEVER))
def test_a_value_that_can_never_work_is_refused_before_anything_is_registered(run: Run, case: str) -> None:
    never = NEVER[case]
    err = _refused(run, never.build, never.config)
    assert any(never.says in line for line in err.problems), err.problems


def test_runbook_placeholders_are_refused_for_every_key_their_shape_fits() -> None:
    for placeholder in ("YOUR_CLIENT_ID", "YOUR_CLIENT_SECRET", "YOUR_APP_PASSWORD", "YOUR_GENERATED_TOKEN", "ghp_YOUR_TOKEN",
                        "ghp_YOUR_NEW_TOKEN_HERE", "dop_v1_YOUR_TOKEN_HERE", "your-github-username", "<set me: a token>"):  # fmt: skip
        for entry in catalog.KEYS:
            with pytest.raises(Invalid):
                entry.shape(placeholder)


def test_an_acme_email_with_a_unicode_domain_is_registered_in_punycode(run: Run) -> None:
    """Boulder refuses a contact whose domain is not an ASCII hostname (policy/pa.go ValidEmail → validNonWildcardDomain);
    cert-manager passes spec.acme.email on as the account's mailto: contact (RFC 8555 section 7.3)."""
    config, secret_keys = _config()
    ev = run(lambda: CertManagerDnsIssuer("c", {"email": "ops@bücher.example", "domain": "acme.io"}), config, secret_keys)
    (issuer,) = [r for r in ev.resources if unwrap(r.inputs).get("kind") == "ClusterIssuer"]
    assert unwrap(issuer.inputs)["spec"]["acme"]["email"] == "ops@xn--bcher-kva.example"
    assert v.acme_email("Ops@Bücher.Example") == "Ops@xn--bcher-kva.example"


def test_github_com_own_api_is_still_a_valid_base_url(run: Run) -> None:
    config, secret_keys = _config()
    args = {"repository_url": "https://github.com/acme/cluster", "github_app_base_url": "https://api.github.com"}
    ev = run(lambda: FluxGitCredentials("c", args), config, secret_keys)
    assert ev.resources


# --- item 4: published and made-up values: they render, but preflight is NOT READY ------------------------------


@pytest.mark.parametrize(("file", "stack"), [("production.json", "production"), ("preview.json", "preview-base"), ("preview.json", "preview-pr-3")])
def test_preflight_says_not_ready_for_the_example_configs_and_names_why(file: str, stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["preflight", "--stack", stack, "--config", str(EXAMPLES / file), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    problems = {p["key"]: p["message"] for p in report["problems"]}
    assert any("is not a real credential" in message for message in problems.values())
    if stack != "preview-base":  # preview-base runs no application (no Prometheus token there)
        assert "is not a real credential" in problems["prometheus:authToken"]
        assert "is not a real credential" in problems["secret-chain:rolloutKey"]
    if stack != "preview-pr-3":
        assert "is a published private key" in problems["ci:githubAppPrivateKey"]
        assert "is a published private key" in problems["flux:githubAppPrivateKey"]
    secret_values = [v["value"] for v in json.loads((EXAMPLES / file).read_text()).values() if v["secret"]]
    for message in problems.values():
        assert not any(value.strip() in message for value in secret_values)


@pytest.mark.parametrize(("file", "stack"), [("production.json", "production"), ("preview.json", "preview-pr-3")])
def test_plan_still_renders_the_example_configs(file: str, stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", stack, "--config", str(EXAMPLES / file)]) == 0
    capsys.readouterr()


def test_the_example_key_is_caught_in_any_pem_form() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from secret_chain import published

    pem = json.loads((EXAMPLES / "production.json").read_text())["ci:githubAppPrivateKey"]["value"]
    pkcs8 = (
        load_pem_private_key(pem.encode(), None)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    for form in (pem, pkcs8, pem.replace("\n", "\\n")):
        with pytest.raises(Invalid, match="published private key"):
            catalog.get("ci:githubAppPrivateKey").check(form)
        assert catalog.get("ci:githubAppPrivateKey").shape(form)  # but the program renders it
    assert published.problem(PEM) is None  # a key of one's own is fine


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([k for k in catalog.KEYS if k.secret and k.key != "ci:githubAppPrivateKey" and k.key != "flux:githubAppPrivateKey"]), st.data()
)
def test_generated_secrets_are_never_taken_for_made_up_ones(entry: catalog.Key, data: st.DataObject) -> None:
    """The detector's false positives: random values of every secret key's shape pass the go/no-go check."""
    from tests.canaries import canary_for

    value = canary_for(entry)
    assert entry.check(value)
    _ = data


# --- item 4 (the other direction): Kubernetes object names, exactly upstream's rule -------------------------------

# k8s.io/apimachinery pkg/util/validation/validation_test.go TestIsDNS1123Subdomain (goodValues / badValues)
UPSTREAM_GOOD = [
    "a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a", "1-a", "1--a--b--2",
    "a.a", "ab.a", "abc.a", "a1.a", "a-1.a", "a--1--2--b.a", "a.1", "ab.1", "abc.1", "a1.1", "a-1.1", "a--1--2--b.1",
    "0.a", "01.a", "012.a", "1a.a", "1-a.a", "1--a--b--2", "0.1", "01.1", "012.1", "1a.1", "1-a.1", "1--a--b--2.1",
    "a.b.c.d.e", "aa.bb.cc.dd.ee", "1.2.3.4.5", "11.22.33.44.55", "a" * 253,
    "a" * 64, "a" * 63 + "." + "b" * 100,  # no per-label limit in object names (upstream: "allowed for backwards compat")
]  # fmt: skip
UPSTREAM_BAD = [
    "", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_", "a_", "_a", "a_b", "1_", "_1", "1_2",
    ".", "a.", ".a", "a..b", "1.", ".1", "1..2", " ", "a ", " a", "a b", "1 ", " 1", "1 2",
    "A.a", "aB.a", "ab.A", "A1.a", "a1.A", "A.1", "aB.1", "A1.1", "1A.1", "0.A", "01.A", "012.A", "1A.a", "1a.A",
    "A.B.C.D.E", "AA.BB.CC.DD.EE", "a.B.c.d.e", "aa.bB.cc.dd.ee", "a@b", "a,b", "a_b", "a;b", "a:b", "a%b", "a?b", "a$b",
    "a" * 254,
]  # fmt: skip


@pytest.mark.parametrize("name", UPSTREAM_GOOD, ids=lambda n: n[:20] or "empty")
def test_every_object_name_kubernetes_accepts_is_accepted(name: str) -> None:
    assert v.dns1123_subdomain(name) == name


@pytest.mark.parametrize("name", UPSTREAM_BAD, ids=lambda n: repr(n[:20]))
def test_every_object_name_kubernetes_refuses_is_refused(name: str) -> None:
    with pytest.raises(Invalid):
        v.dns1123_subdomain(name)


def test_a_secret_named_with_a_64_character_label_is_built(run: Run) -> None:
    name = "pull-" + "x" * 60 + ".acme"
    config, secret_keys = _config()
    ev = run(lambda: GhcrPullSecret("c", {"namespaces": ["default"], "secret_name": name}), config, secret_keys)
    assert [unwrap(r.inputs)["metadata"]["name"] for r in ev.of_type("kubernetes:core/v1:Secret")] == [name]


# --- item 6: refused public values are quoted; secrets never ---------------------------------------------------


@dataclass(frozen=True)
class Quoted:
    """A refused value and how the message must show it (None: not at all)."""

    build: Callable[[], object]
    shows: str | None
    hidden: str = ""
    config: dict[str, str] | None = None


LONG = "a" * 70
NAMESPACE_ITEM = (
    "item 1 is not a valid Kubernetes name (DNS-1123 label): lower-case letters, digits and '-', "
    'starting and ending with a letter or digit; got "Apps_NS"'
)
REPOSITORY_ITEM = "item 1 is not a GitHub repository name: at most 100 ASCII letters, digits, '.', '-' and '_'; got \"a b\""
SMTP_PORT = 'config "grafana:smtpPort" is out of range: ports are 1–65535; got "99999"'
QUOTED: dict[str, Quoted] = {
    "namespace-item": Quoted(lambda: GhcrPullSecret("c", {"namespaces": ["default", "Apps_NS"]}), NAMESPACE_ITEM),
    "namespace": Quoted(lambda: PrometheusAuth("c", {"namespace": "My App"}), '; got "My App". Fix:'),
    "monitor-namespace": Quoted(lambda: PrometheusAuth("c", {"namespace": "default", "monitor_namespace": "mon_itoring"}), 'got "mon_itoring"'),
    "domain": Quoted(lambda: CertManagerDnsIssuer("c", {"email": "ops@acme.io", "domain": "example.123"}), 'got "example.123"'),
    "repository": Quoted(lambda: GitHubActionsSecrets("c", {"repository": "acme/.."}), 'got "acme/.."'),
    "org-repository-item": Quoted(
        lambda: GitHubActionsSecrets("c", {"repository": "acme/platform", "organization_repositories": ["web", "a b"]}), REPOSITORY_ITEM
    ),
    "registry-port": Quoted(lambda: GhcrPullSecret("c", {"namespaces": ["default"], "registry": "ghcr.io:99999"}), 'got "ghcr.io:99999"'),
    "secret-name": Quoted(lambda: GhcrPullSecret("c", {"namespaces": ["default"], "secret_name": "Pull_Secret"}), 'got "Pull_Secret"'),
    "smtp-port-config": Quoted(
        lambda: GrafanaOAuth("c", {"namespace": "monitoring", "domain": "acme.io"}), SMTP_PORT, config={**MAIL, "grafana:smtpPort": "99999"}
    ),
    "app-namespace-config": Quoted(
        lambda: SecretChain("c"), 'config "secret-chain:appNamespace" is not a valid Kubernetes name', config={"secret-chain:appNamespace": "UPPER"}
    ),
    "long-value-shortened": Quoted(lambda: PrometheusAuth("c", {"namespace": LONG}), f'got "{"a" * 39}…"', hidden=LONG),
    "control-characters-escaped": Quoted(lambda: PrometheusAuth("c", {"namespace": "ns\x1b[31m\nx"}), r'got "ns\x1b[31m\x0ax"', hidden="\x1b"),
    "credential-in-a-namespace-field": Quoted(lambda: PrometheusAuth("c", {"namespace": "ghp_" + "k" * 36}), None, hidden="kkkkkkkk"),
    "login-not-quoted": Quoted(
        lambda: GrafanaOAuth("c", {"namespace": "monitoring", "domain": "acme.io", "github_org": "-acme"}), None, hidden="-acme"
    ),
    "secret-host-not-quoted": Quoted(
        lambda: GrafanaOAuth("c", {"namespace": "monitoring", "domain": "acme.io"}),
        None,
        hidden="bad_host",
        config={**MAIL, "grafana:smtpHost": "bad_host.example"},
    ),
}


@pytest.mark.parametrize("case", list(QUOTED), ids=list(QUOTED))
def test_a_refused_public_value_is_quoted_and_a_secret_never(run: Run, case: str) -> None:
    quoted = QUOTED[case]
    err = _refused(run, quoted.build, quoted.config)
    text = str(err)
    if quoted.shows is None:
        assert "; got " not in text
    else:
        assert quoted.shows in text, text
    if quoted.hidden:
        assert quoted.hidden not in text


def test_an_output_value_is_quoted_as_the_plain_one_and_a_secret_output_is_not() -> None:
    import pulumi

    from secret_chain.errors import SecretChainError
    from tests.test_guard_rails_args import Value

    config, secret_keys = _config()
    for secret in (False, True):

        def program(secret: bool = secret) -> None:
            source = Value("src", "x").id.apply(lambda _: "Bad_NS")
            PrometheusAuth("c", {"namespace": pulumi.Output.secret(source) if secret else source})

        with pytest.raises(SecretChainError) as raised:
            evaluate(program, config=config, secret_keys=secret_keys)
        assert ('got "Bad_NS"' in str(raised.value)) is not secret
        assert secret is False or "Bad_NS" not in str(raised.value)


# --- item 8: a lone UTF-16 surrogate ----------------------------------------------------------------------------


@pytest.mark.parametrize("entry", catalog.KEYS, ids=[k.key for k in catalog.KEYS])
def test_a_lone_surrogate_is_refused_by_every_key_naming_nothing_of_the_value(entry: catalog.Key) -> None:
    canary = "CANARY" + secrets.token_hex(6)
    for value in ("\ud800" + canary, canary + "\udcff", "ghp_" + canary + "\udfff" + "x" * 30):
        for check in (entry.shape, entry.check):
            with pytest.raises(Invalid, match="lone UTF-16 surrogate") as raised:
                check(value)
            assert canary not in str(raised.value)


def test_a_lone_surrogate_in_a_secret_fails_preflight_and_plan_by_key_never_echoed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    canary = "CANARY" + secrets.token_hex(8)
    config = json.loads((EXAMPLES / "production.json").read_text())
    config["prometheus:authToken"]["value"] = "\ud800" + canary + secrets.token_hex(16)
    path = tmp_path / "c.json"
    path.write_text(json.dumps(config))  # JSON keeps the surrogate as the escape \ud800
    assert main(["preflight", "--stack", "production", "--config", str(path)]) == 1
    out, err = capsys.readouterr()
    assert 'config "prometheus:authToken" is not valid Unicode text: character 1 is a lone UTF-16 surrogate' in out
    code = main(["plan", "--stack", "production", "--config", str(path)])
    out2, err2 = capsys.readouterr()
    assert code == 2
    assert "UnicodeEncodeError" not in err2 and "Traceback" not in err2
    assert 'config "prometheus:authToken" is not valid Unicode text' in err2
    assert canary not in out + err + out2 + err2


def test_a_lone_surrogate_given_as_an_argument_is_refused_by_name(run: Run) -> None:
    err = _refused(run, lambda: PrometheusAuth("c", {"namespace": "default", "token": "\udc80" + secrets.token_hex(32)}))
    (line,) = err.problems
    assert line.startswith('PrometheusAuth argument "token" is not valid Unicode text')


# --- issue 20, item 6: values that would leak or be rewritten where they land ------------------------------------------
# A Flux repository URL is a plain setting written to the GitRepository's spec.url, which the cluster stores and shows in
# plain text: a token in its query or user part was accepted and published there. And Grafana expands $__file{…},
# $__env{…}, ${…} and $__vault{…} in every setting after applying the GF_* variables (grafana/grafana
# pkg/setting/setting.go loadConfiguration → expandConfig; pkg/setting/expanders.go): a client ID of
# $__file{<the service account token>} would send that file to GitHub, and a From address of ${GF_SMTP_PASSWORD}@…
# would put the SMTP password in every alert mail. Each is refused by key, and the value is never echoed.

TOKEN = "ghp_" + "Zq7" * 12


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"https://github.com/acme/cluster?access_token={TOKEN}", "a query (?…)"),
        (f"https://x-access-token:{TOKEN}@github.com/acme/cluster", "a user or password (…@)"),
        (f"https://{TOKEN}@github.com/acme/cluster", "a user or password (…@)"),
        ("https://github.com/acme/cluster#main", "a fragment (#…)"),
        (f"https://github.com/acme/{TOKEN}", "something shaped like a token or key"),
        ("https://github.com/acme/clu\nster", "whitespace or a control character"),
    ],
    ids=["query-token", "userinfo-token", "user-token", "fragment", "token-in-path", "newline"],
)
def test_a_flux_repository_url_that_carries_anything_but_a_location_is_refused(run: Run, url: str, says: str) -> None:
    err = _refused(run, lambda: SecretChain("c"), {"secret-chain:fluxRepositoryUrl": url})
    (line,) = [p for p in err.problems if "fluxRepositoryUrl" in p]
    assert line.startswith('config "secret-chain:fluxRepositoryUrl" is not an https:// Git URL without credentials: it has') and says in line
    assert "Zq7" not in str(err) and "clu\nster" not in str(err)
    err = _refused(run, lambda: FluxGitCredentials("c", {"repository_url": url}))
    said = 'FluxGitCredentials argument "repository_url" is not an https:// Git URL without credentials: it has'
    assert any(p.startswith(said) for p in err.problems)
    assert "Zq7" not in str(err)


def test_preflight_refuses_a_flux_url_with_a_token_without_printing_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = json.loads((EXAMPLES / "production.json").read_text())
    config["secret-chain:fluxRepositoryUrl"] = {"value": f"https://github.com/acme/cluster?access_token={TOKEN}", "secret": False}
    path = tmp_path / "c.json"
    path.write_text(json.dumps(config))
    assert main(["preflight", "--stack", "production", "--config", str(path), "--json"]) == 1
    out = capsys.readouterr().out
    (problem,) = [p for p in json.loads(out)["problems"] if p["key"] == "secret-chain:fluxRepositoryUrl"]
    assert problem["kind"] == "malformed" and "a query (?…)" in problem["message"]
    assert "Zq7" not in out


PEM_BLOCK = PEM
GRAFANA_SMUGGLED = {
    "newline": ("Ov23liq8Rk2x\nT0pLm9Zc", "control character"),
    "pem": (PEM_BLOCK, "PEM block"),
    "file": ("$__file{/var/run/secrets/kubernetes.io/serviceaccount/token}", "Grafana expansion"),
    "env": ("x${GF_SMTP_PASSWORD}", "Grafana expansion"),
    "env-named": ("$__env{GF_AUTH_GITHUB_CLIENT_SECRET}", "Grafana expansion"),
    "vault": ("$__vault{secret:grafana:token}", "Grafana expansion"),
}


@pytest.mark.parametrize("key", ["grafana:githubClientId", "grafana:githubClientSecret", "grafana:smtpUser", "grafana:smtpPassword"])
@pytest.mark.parametrize("smuggled", list(GRAFANA_SMUGGLED), ids=list(GRAFANA_SMUGGLED))
def test_a_grafana_value_grafana_would_expand_or_split_is_refused(run: Run, key: str, smuggled: str) -> None:
    value, says = GRAFANA_SMUGGLED[smuggled]
    build = lambda: GrafanaOAuth("c", {"namespace": "monitoring", "domain": "acme.io"})  # noqa: E731
    if key == "grafana:smtpPassword" and smuggled == "newline":
        # A correct result instead: whitespace, a line break included, is removed from an app password (Google shows it
        # in groups), so Grafana gets one line.
        config, secret_keys = _config(**{**MAIL, key: value})
        (secret,) = [r for r in run(build, config, secret_keys).of_type("kubernetes:core/v1:Secret") if "GF_SMTP_PASSWORD" in secret_data(r.inputs)]
        assert secret_data(secret.inputs)["GF_SMTP_PASSWORD"] == value.replace("\n", "")
        return
    err = _refused(run, build, {**MAIL, key: value})
    (line,) = [p for p in err.problems if p.startswith(f'config "{key}"')]
    # the client ID's own format (letters, digits, . _ -) refuses each before the Grafana rules are reached
    assert (says in line) if key != "grafana:githubClientId" else "is not a GitHub OAuth client ID" in line
    assert "serviceaccount" not in str(err) and "GF_SMTP_PASSWORD" not in str(err) and "T0pLm9Zc" not in str(err)
    assert "MII" not in str(err) and "secret:grafana" not in str(err)


def test_a_from_address_grafana_would_expand_is_refused(run: Run) -> None:
    build = lambda: GrafanaOAuth("c", {"namespace": "monitoring", "domain": "acme.io"})  # noqa: E731
    err = _refused(run, build, {**MAIL, "grafana:smtpFromAddress": "${GF_SMTP_PASSWORD}@acme.io"})
    (line,) = [p for p in err.problems if p.startswith('config "grafana:smtpFromAddress"')]
    assert "Grafana expansion" in line and "GF_SMTP_PASSWORD" not in line


def test_grafana_values_as_grafana_takes_them_still_pass() -> None:
    for key, value in {**GRAFANA, **MAIL, "grafana:githubClientId": "Iv1.0123456789abcdef", "grafana:smtpPassword": "abcd efgh ijkl mnop"}.items():
        catalog.get(key).shape(value)
