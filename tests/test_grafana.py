from __future__ import annotations

import secrets
from typing import Any

import pytest

from secret_chain.grafana import MAIL_KEYS as MAIL_ENTRIES
from secret_chain.grafana import GrafanaOAuth, GrafanaOAuthArgs
from secret_chain.ops.offline import Evaluation, is_secret, unwrap
from tests.conftest import Run, config_error, secret_data
from tests.leaks import find_leaks
from tests.schemas import validate

MAIL_KEYS = [k.key for k in MAIL_ENTRIES]

SECRET = "kubernetes:core/v1:Secret"
ARGS: GrafanaOAuthArgs = {"namespace": "monitoring", "domain": "example.com"}
Config = tuple[dict[str, str], list[str]]

APP_PASSWORD = "abcd efgh ijkl mnop"


def _add(config: dict[str, str], secret_keys: list[str], key: str, value: str, secret: bool) -> None:
    config[key] = value
    if secret:
        secret_keys.append(key)


@pytest.fixture
def oauth_config(chain_config: Config) -> Config:
    """Chain config plus the GitHub OAuth keys (no mail settings)."""
    config, secret_keys = chain_config
    _add(config, secret_keys, "grafana:githubClientId", "Iv1." + secrets.token_hex(8), True)
    _add(config, secret_keys, "grafana:githubClientSecret", secrets.token_hex(20), True)
    _add(config, secret_keys, "grafana:githubOrg", "octo-org", False)
    _add(config, secret_keys, "grafana:adminUser", "octo-admin", False)
    return config, secret_keys


@pytest.fixture
def grafana_config(oauth_config: Config) -> Config:
    """OAuth keys plus every mail setting."""
    config, secret_keys = oauth_config
    _add(config, secret_keys, "grafana:smtpHost", f"smtp-{secrets.token_hex(6)}.example.net", True)
    _add(config, secret_keys, "grafana:smtpPort", "587", False)
    _add(config, secret_keys, "grafana:smtpUser", f"alerts-{secrets.token_hex(6)}@example.com", True)
    _add(config, secret_keys, "grafana:smtpPassword", APP_PASSWORD.replace("abcd", secrets.token_hex(2)), True)
    _add(config, secret_keys, "grafana:smtpFromAddress", "grafana@example.com", False)
    _add(config, secret_keys, "grafana:alertEmail", "oncall@example.com", False)
    return config, secret_keys


def _secret_values(config: dict[str, str], secret_keys: list[str]) -> list[str]:
    values = [config[k] for k in secret_keys if k in config]
    if "grafana:smtpPassword" in config:
        values.append("".join(config["grafana:smtpPassword"].split()))
    return values


def _env(ev: Evaluation) -> dict[str, str]:
    (secret,) = ev.of_type(SECRET)
    validate(unwrap(secret.inputs))
    assert is_secret(secret.inputs["data"])
    data = secret_data(secret.inputs)
    return data


def _outputs(ev: Evaluation) -> dict[str, Any]:
    (component,) = ev.components
    assert component.type == "secret-chain:index:GrafanaOAuth"
    return ev.component_outputs[component.urn]


def test_production_secret(run: Run, grafana_config: Config) -> None:
    config, secret_keys = grafana_config
    ev = run(lambda: GrafanaOAuth("grafana", ARGS), config, secret_keys)
    (secret,) = ev.of_type(SECRET)
    assert secret.inputs["metadata"]["name"] == "grafana-oauth"
    assert secret.inputs["metadata"]["namespace"] == "monitoring"
    assert secret.parent.endswith("secret-chain:index:GrafanaOAuth::grafana")
    env = _env(ev)
    assert env == {
        "GF_SERVER_ROOT_URL": "https://grafana.example.com",
        "GF_AUTH_GITHUB_ENABLED": "true",
        "GF_AUTH_GITHUB_CLIENT_ID": config["grafana:githubClientId"],
        "GF_AUTH_GITHUB_CLIENT_SECRET": config["grafana:githubClientSecret"],
        "GF_AUTH_GITHUB_SCOPES": "user:email,read:org",
        "GF_AUTH_GITHUB_ALLOWED_ORGANIZATIONS": "octo-org",
        "GF_AUTH_GITHUB_ALLOW_SIGN_UP": "true",
        "GF_AUTH_GITHUB_ROLE_ATTRIBUTE_PATH": "[login=='octo-admin'][0] && 'GrafanaAdmin' || 'Viewer'",
        "GF_AUTH_GITHUB_ROLE_ATTRIBUTE_STRICT": "true",
        "GF_AUTH_GITHUB_ALLOW_ASSIGN_GRAFANA_ADMIN": "true",
        "GF_SMTP_ENABLED": "true",
        "GF_SMTP_HOST": config["grafana:smtpHost"] + ":587",
        "GF_SMTP_USER": config["grafana:smtpUser"],
        "GF_SMTP_PASSWORD": "".join(config["grafana:smtpPassword"].split()),
        "GF_SMTP_FROM_ADDRESS": "grafana@example.com",
        "GF_SMTP_STARTTLS_POLICY": "MandatoryStartTLS",
        "GF_SECRET_CHAIN_ALERT_EMAIL": "oncall@example.com",
    }
    assert " " not in env["GF_SMTP_PASSWORD"] and len(env["GF_SMTP_PASSWORD"]) == 16
    outputs = _outputs(ev)
    assert outputs["callback_url"] == "https://grafana.example.com/login/github"
    assert outputs["root_url"] == "https://grafana.example.com"
    assert outputs["secret_name"] == "grafana-oauth"
    assert find_leaks(ev, _secret_values(config, secret_keys)) == []


def test_preview_pr_host_and_mail_disabled(run: Run, grafana_config: Config) -> None:
    config, secret_keys = grafana_config
    ev = run(lambda: GrafanaOAuth("grafana", {**ARGS, "namespace": "preview-pr-42", "pr_number": 42}), config, secret_keys, "preview-pr-42")
    env = _env(ev)
    assert env["GF_SERVER_ROOT_URL"] == "https://42.pr-grafana.example.com"
    assert env["GF_SMTP_ENABLED"] == "false"
    # Mail off: no SMTP credential, host or alert address lands in the PR namespace (issue 12 item 6).
    assert [k for k in env if k.startswith("GF_SMTP_")] == ["GF_SMTP_ENABLED"]
    assert "GF_SECRET_CHAIN_ALERT_EMAIL" not in env
    (secret,) = ev.of_type(SECRET)
    assert "grafana:smtp" not in secret.inputs["metadata"]["annotations"]["secret-chain/config-keys"]
    # The URL to register is the preview App's one callback; GitHub accepts each PR's sub-domain under it.
    assert _outputs(ev)["callback_url"] == "https://pr-grafana.example.com/login/github"
    assert _outputs(ev)["root_url"] == "https://42.pr-grafana.example.com"
    smtp_values = [config[k] for k in ("grafana:smtpHost", "grafana:smtpUser", "grafana:alertEmail")]
    smtp_values.append("".join(config["grafana:smtpPassword"].split()))
    assert find_leaks(ev, [*_secret_values(config, secret_keys), *smtp_values]) == []


def test_overrides(run: Run, grafana_config: Config) -> None:
    config, secret_keys = grafana_config
    client_secret = secrets.token_hex(20)
    args: GrafanaOAuthArgs = {
        **ARGS,
        "host": "metrics.example.org",
        "secret_name": "grafana-env",
        "alerting_mail": False,
        "client_secret": client_secret,
        "admin_user": "someone-else",
        "github_org": "other-org",
        "smtp_port": 465,
        "smtp_password": "p4ss word with spaces",
    }
    ev = run(lambda: GrafanaOAuth("grafana", args), config, secret_keys)
    (secret,) = ev.of_type(SECRET)
    assert secret.inputs["metadata"]["name"] == "grafana-env"
    env = _env(ev)
    assert env["GF_SERVER_ROOT_URL"] == "https://metrics.example.org"
    assert env["GF_AUTH_GITHUB_CLIENT_SECRET"] == client_secret
    assert env["GF_AUTH_GITHUB_ALLOWED_ORGANIZATIONS"] == "other-org"
    assert env["GF_AUTH_GITHUB_ROLE_ATTRIBUTE_PATH"] == "[login=='someone-else'][0] && 'GrafanaAdmin' || 'Viewer'"
    assert env["GF_SMTP_ENABLED"] == "false"
    assert [k for k in env if k.startswith("GF_SMTP_")] == ["GF_SMTP_ENABLED"]  # alerting_mail False: no credentials
    outputs = _outputs(ev)
    assert outputs["callback_url"] == "https://metrics.example.org/login/github"
    assert outputs["secret_name"] == "grafana-env"
    assert find_leaks(ev, [client_secret, "p4sswordwithspaces", *_secret_values(config, secret_keys)]) == []


def test_pr_stack_can_opt_in_to_mail(run: Run, grafana_config: Config) -> None:
    config, secret_keys = grafana_config
    ev = run(lambda: GrafanaOAuth("grafana", {**ARGS, "pr_number": 7, "alerting_mail": True}), config, secret_keys)
    assert _env(ev)["GF_SMTP_ENABLED"] == "true"
    assert _env(ev)["GF_SMTP_HOST"] == config["grafana:smtpHost"] + ":587"


def test_mail_on_port_465_has_no_starttls(run: Run, grafana_config: Config) -> None:
    config, secret_keys = grafana_config
    args: GrafanaOAuthArgs = {**ARGS, "smtp_port": 465, "smtp_password": "p4ss word with spaces"}
    env = _env(run(lambda: GrafanaOAuth("grafana", args), config, secret_keys))
    assert env["GF_SMTP_HOST"].endswith(":465")
    assert "GF_SMTP_STARTTLS_POLICY" not in env  # 465 is implicit TLS
    assert env["GF_SMTP_PASSWORD"] == "p4sswordwithspaces"


def test_preview_callback_url_is_a_parent_of_every_pr_redirect(run: Run, oauth_config: Config) -> None:
    """GitHub docs, "Authorizing OAuth apps" → Redirect URLs: the redirect_uri's host excluding sub-domains and its port
    must match the callback URL's, and its path must be under the callback's path. Grafana's redirect_uri is its
    root_url + /login/github (grafana/grafana pkg/login/social/connectors/common.go createOAuthConfig)."""
    from urllib.parse import urlsplit

    config, secret_keys = oauth_config
    callbacks = set()
    for pr in (1, 42, 9999):
        build = lambda pr=pr: GrafanaOAuth("grafana", {**ARGS, "namespace": f"preview-pr-{pr}", "pr_number": pr})  # noqa: E731
        ev = run(build, config, secret_keys, stack=f"preview-pr-{pr}")  # only a PR's own stack writes into its namespace
        outputs = _outputs(ev)
        callback, redirect = urlsplit(outputs["callback_url"]), urlsplit(outputs["root_url"] + "/login/github")
        assert redirect.hostname != callback.hostname and str(redirect.hostname).endswith("." + str(callback.hostname))
        assert redirect.port == callback.port and redirect.scheme == callback.scheme
        assert redirect.path == callback.path or redirect.path.startswith(callback.path.rstrip("/") + "/")
        callbacks.add(outputs["callback_url"])
    assert callbacks == {"https://pr-grafana.example.com/login/github"}  # one OAuth App for every PR


def test_admin_by_numeric_id(run: Run, oauth_config: Config) -> None:
    """id:<number> compares the GitHub user's numeric id, which survives renames and case changes."""
    config, secret_keys = oauth_config
    config["grafana:adminUser"] = "id:583231"
    ev = run(lambda: GrafanaOAuth("grafana", ARGS), config, secret_keys)
    path = _env(ev)["GF_AUTH_GITHUB_ROLE_ATTRIBUTE_PATH"]
    assert path == "[id==`583231`][0] && 'GrafanaAdmin' || 'Viewer'"
    assert not [line for line in ev.logs if "case-sensitively" in line]


@pytest.mark.parametrize("login_user", ["octo-admin", "Example-Admin"])
def test_admin_by_login_warns(run: Run, oauth_config: Config, login_user: str) -> None:
    config, secret_keys = oauth_config
    config["grafana:adminUser"] = login_user
    ev = run(lambda: GrafanaOAuth("grafana", ARGS), config, secret_keys)
    assert [line for line in ev.logs if "case-sensitively" in line and "id:<number>" in line]


@pytest.mark.parametrize("value", ["id:", "id:0123", "id:12a", "id:-5", "id: 5"])
def test_admin_id_malformed(run: Run, oauth_config: Config, value: str) -> None:
    config, secret_keys = oauth_config
    config["grafana:adminUser"] = value
    assert "grafana:adminUser" in str(config_error(run, lambda: GrafanaOAuth("grafana", ARGS), config, secret_keys))


def test_alert_email_reaches_grafana_only_through_a_provisioned_contact_point(run: Run, grafana_config: Config) -> None:
    """Grafana ignores GF_SECRET_CHAIN_ALERT_EMAIL as a setting (applyEnvVariableOverrides only overrides keys of its
    ini file); the contact point provisioning file interpolates it (${NAME}, Grafana provisioning docs)."""
    from secret_chain.grafana import ALERT_EMAIL_ENV, contact_point_provisioning

    config, secret_keys = grafana_config
    env = _env(run(lambda: GrafanaOAuth("grafana", ARGS), config, secret_keys))
    assert env[ALERT_EMAIL_ENV] == config["grafana:alertEmail"]
    document = contact_point_provisioning()
    (point,) = document["contactPoints"]  # type: ignore[index]
    (receiver,) = point["receivers"]
    assert receiver["type"] == "email" and receiver["settings"]["addresses"] == "${" + ALERT_EMAIL_ENV + "}"
    assert document["apiVersion"] == 1


def test_without_mail_settings(run: Run, oauth_config: Config) -> None:
    config, secret_keys = oauth_config
    ev = run(lambda: GrafanaOAuth("grafana", ARGS), config, secret_keys)
    env = _env(ev)
    assert env["GF_SMTP_ENABLED"] == "false"
    assert not [k for k in env if k.startswith("GF_SMTP_") and k != "GF_SMTP_ENABLED"]
    assert "GF_SECRET_CHAIN_ALERT_EMAIL" not in env
    (secret,) = ev.of_type(SECRET)
    assert "grafana:smtpHost" not in secret.inputs["metadata"]["annotations"]["secret-chain/config-keys"]
    assert find_leaks(ev, _secret_values(config, secret_keys)) == []


def test_nothing_secret_in_metadata(run: Run, grafana_config: Config) -> None:
    config, secret_keys = grafana_config
    ev = run(lambda: GrafanaOAuth("grafana", ARGS), config, secret_keys)
    (secret,) = ev.of_type(SECRET)
    metadata = secret.inputs["metadata"]
    assert not is_secret(metadata)
    text = repr(metadata)
    for value in _secret_values(config, secret_keys):
        assert value not in text
    assert metadata["annotations"]["secret-chain/config-keys"].split(",")[:4] == [
        "grafana:githubClientId",
        "grafana:githubClientSecret",
        "grafana:githubOrg",
        "grafana:adminUser",
    ]


def _error(run: Run, config: dict[str, str], secret_keys: list[str], args: GrafanaOAuthArgs) -> str:
    """Run, expect one ConfigError and no resource at all; return its message after a no-echo check."""
    message = str(config_error(run, lambda: GrafanaOAuth("grafana", args), config, secret_keys))
    for value in _secret_values(config, secret_keys):
        assert value not in message
    return message


def _holder(key: str) -> str:
    """The environment that holds a key for the production stack: its own values, Base's shared ones (issue 19)."""
    from secret_chain import catalog

    return "Production" if catalog.get(key).per_environment else "Base"


@pytest.mark.parametrize("key", ["grafana:githubClientId", "grafana:githubClientSecret", "grafana:githubOrg", "grafana:adminUser"])
def test_missing_oauth_key(run: Run, grafana_config: Config, key: str) -> None:
    config, secret_keys = grafana_config
    value = config.pop(key)
    message = _error(run, config, secret_keys, ARGS)
    assert f'config "{key}" is missing' in message
    assert f'pulumi env set acme/secret-chain/{_holder(key)} pulumiConfig.{key}' in message
    assert value not in message


@pytest.mark.parametrize("dropped", [["grafana:smtpPassword"], ["grafana:smtpHost", "grafana:alertEmail"], list(MAIL_KEYS[1:])])
def test_partial_mail_settings(run: Run, grafana_config: Config, dropped: list[str]) -> None:
    config, secret_keys = grafana_config
    for key in dropped:
        config.pop(key)
    message = _error(run, config, secret_keys, ARGS)
    for key in dropped:
        assert f'config "{key}" is missing: the mail settings are all or nothing' in message
        assert f'pulumi env set acme/secret-chain/{_holder(key)} pulumiConfig.{key}' in message
    for key in set(MAIL_KEYS) - set(dropped):
        assert f'config "{key}"' not in message


@pytest.mark.parametrize("port", ["0", "70000", "smtp", "-1"])
def test_bad_port_in_config(run: Run, grafana_config: Config, port: str) -> None:
    config, secret_keys = grafana_config
    config["grafana:smtpPort"] = port
    message = _error(run, config, secret_keys, ARGS)
    assert 'config "grafana:smtpPort"' in message
    assert "pulumi env set" in message


@pytest.mark.parametrize("port", [0, 70000, "smtp", True])
def test_bad_port_argument(run: Run, grafana_config: Config, port: Any) -> None:
    config, secret_keys = grafana_config
    message = _error(run, config, secret_keys, {**ARGS, "smtp_port": port})
    assert 'argument "smtp_port"' in message


def test_bad_values_are_not_echoed(run: Run, grafana_config: Config) -> None:
    config, secret_keys = grafana_config
    config["grafana:smtpHost"] = "not a host " + secrets.token_hex(8)
    config["grafana:smtpPassword"] = "sh rt"
    config["grafana:githubOrg"] = "bad org!"
    message = _error(run, config, secret_keys, ARGS)
    assert 'config "grafana:smtpHost" is not a valid DNS hostname' in message
    assert 'config "grafana:smtpPassword" is too short' in message
    assert 'config "grafana:githubOrg" is not a valid GitHub login' in message
    assert "bad org!" not in message


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"domain": "example.com"}, 'argument "namespace" is required'),
        ({"namespace": "monitoring"}, 'argument "domain" is required'),
        ({**ARGS, "pr_number": 0}, 'argument "pr_number" must be a positive whole number'),
        ({**ARGS, "pr_number": "42"}, 'argument "pr_number" must be a positive whole number'),
        ({**ARGS, "host": "not a host"}, 'argument "host" is not a valid DNS hostname'),
        ({**ARGS, "alerting_mail": "yes"}, 'argument "alerting_mail" must be true or false'),
        ({**ARGS, "smtp_starttls_policy": "Always"}, 'argument "smtp_starttls_policy" must be one of'),
    ],
)
def test_argument_errors(run: Run, grafana_config: Config, args: dict[str, Any], expected: str) -> None:
    config, secret_keys = grafana_config
    assert expected in _error(run, config, secret_keys, args)  # type: ignore[arg-type]


def test_alerting_mail_without_mail_settings_is_an_error(run: Run, oauth_config: Config) -> None:
    config, secret_keys = oauth_config
    message = _error(run, config, secret_keys, {**ARGS, "alerting_mail": True})
    assert "alerting_mail is true but no mail settings are configured" in message


def test_org_is_documented_as_case_insensitive() -> None:
    """Grafana compares organisations with strings.EqualFold (IsOrganizationMember, github_oauth.go)."""
    from pathlib import Path

    from secret_chain import catalog

    purpose = catalog.get("grafana:githubOrg").purpose
    assert "case-insensitively" in purpose and "(case-sensitive)" not in purpose
    root = Path(__file__).resolve().parents[1]
    for page in [root / "README.md", *sorted((root / "docs").rglob("*.md"))]:
        assert "(case-sensitive)" not in page.read_text(), page


def test_docstring_does_not_claim_strict_refuses_unmapped_users() -> None:
    """With `… && 'GrafanaAdmin' || 'Viewer'` every user maps to a role, so role_attribute_strict refuses nobody."""
    doc = GrafanaOAuth.__doc__ or ""
    assert "does not\n    map is refused" not in doc and "refuses nobody" in doc


# --- the role expression, evaluated as JMESPath (Grafana's role_attribute_path) ---------------------------------


@pytest.mark.parametrize(
    ("admin", "user", "role"),
    [
        ("id:583231", {"id": 583231, "login": "octocat"}, "GrafanaAdmin"),
        ("id:583231", {"id": 583231, "login": "renamed-octocat"}, "GrafanaAdmin"),  # survives a rename
        ("id:583231", {"id": 1, "login": "octocat"}, "Viewer"),
        ("octocat", {"id": 583231, "login": "octocat"}, "GrafanaAdmin"),
        ("Octocat", {"id": 583231, "login": "octocat"}, "Viewer"),  # `==` is case-sensitive: why a login warns
        ("octocat", {"id": 583231, "login": "someone-else"}, "Viewer"),  # everyone else maps to Viewer, never refused
    ],
)
def test_role_attribute_path_evaluates_as_grafana_reads_it(admin: str, user: dict[str, object], role: str) -> None:
    """Grafana evaluates role_attribute_path with JMESPath against the GitHub user API body (github_oauth.go
    ``UserInfo`` → ``extractRoleAndAdmin``); here the same expression runs on the jmespath reference implementation."""
    import jmespath

    from secret_chain.grafana import role_attribute_path

    assert jmespath.search(role_attribute_path(admin), {**user, "groups": []}) == role


# --- the alert email reaches Grafana: the alerting provisioning file, delivered by the Helm chart's sidecar ------
#
# Upstream rules these tests rest on (ported in tests/grafana_provisioning.py, each step citing its source):
# - grafana/grafana docs "Use configuration files to provision alerting resources" (apiVersion 1; contactPoints of
#   orgId, name, receivers of uid, type, settings; email settings.addresses) and the code that reads it:
#   pkg/services/provisioning/alerting/{config_reader.go,file_v1.go,contact_point_types.go,notification_policy_types.go};
# - provisioning env interpolation: pkg/services/provisioning/values/values.go interpolateValue, docs "Provision
#   Grafana" → "Using environment variables" ($NAME or ${NAME}, $$ for a literal $);
# - the email integration: grafana/alerting receivers/email/v1/config.go ("could not find addresses in settings");
# - the Helm chart's alerts sidecar: grafana-community/helm-charts (formerly grafana/helm-charts) charts/grafana
#   values.yaml (sidecar.alerts.enabled false, label grafana_alert, labelValue "", searchNamespace null: the pod's own
#   namespace) and templates/_pod.tpl (FOLDER /etc/grafana/provisioning/alerting, mounted into Grafana too;
#   envFromSecret → envFrom secretRef of the grafana container); kiwigrid/k8s-sidecar src/resources.py (label
#   selector `label` alone when LABEL_VALUE is unset; each data key becomes a file of that name).

CONFIG_MAP = "kubernetes:core/v1:ConfigMap"


def _alerting(ev: Evaluation) -> dict[str, Any]:
    """The one alerting ConfigMap as a manifest, checked against the Kubernetes schema."""
    (config_map,) = ev.of_type(CONFIG_MAP)
    manifest: dict[str, Any] = unwrap(config_map.inputs)
    validate(manifest)
    return manifest


def test_mail_on_writes_the_alerting_file_where_the_charts_sidecar_finds_it(run: Run, grafana_config: Config) -> None:
    config, secret_keys = grafana_config
    ev = run(lambda: GrafanaOAuth("grafana", ARGS), config, secret_keys)
    manifest = _alerting(ev)
    metadata = manifest["metadata"]
    assert (metadata["namespace"], metadata["name"]) == ("monitoring", "grafana-alert-email")  # Grafana's namespace
    assert metadata["labels"]["grafana_alert"] == "1"  # the chart's default sidecar.alerts.label
    assert "k8s-sidecar-target-directory" not in metadata.get("annotations", {})  # Grafana does not read sub-folders
    assert list(manifest["data"]) == ["secret-chain-alert-email.json"]  # a suffix Grafana reads (.yaml, .yml, .json)
    (config_map,) = ev.of_type(CONFIG_MAP)
    (secret,) = ev.of_type(SECRET)
    assert config_map.parent == secret.parent  # a child of the component
    assert secret.urn in config_map.dependencies  # the variable exists before a Grafana can load the file
    assert find_leaks(ev, _secret_values(config, secret_keys)) == []


def test_grafana_reads_the_alert_email_from_the_file_and_the_secrets_environment(run: Run, grafana_config: Config) -> None:
    """The file as Grafana provisions it, with the environment the Secret gives Grafana: one email contact point that
    mails exactly grafana:alertEmail, and the root policy that routes every alert to it."""
    from secret_chain.grafana import ALERTING_FILE
    from tests.grafana_provisioning import read_alerting_file

    config, secret_keys = grafana_config
    ev = run(lambda: GrafanaOAuth("grafana", ARGS), config, secret_keys)
    env = _env(ev)  # Grafana's process environment: envFromSecret makes every key of the Secret a variable
    provisioned = read_alerting_file(ALERTING_FILE, _alerting(ev)["data"][ALERTING_FILE], lambda name: env.get(name, ""))
    assert provisioned is not None
    (point,) = provisioned.contact_points
    assert (point.org_id, point.name) == (1, "alert-email")
    (receiver,) = point.receivers
    assert (receiver.uid, receiver.type) == ("alert-email", "email")
    assert receiver.addresses == (config["grafana:alertEmail"],)
    (policy,) = provisioned.policies
    assert policy.org_id == 1 and policy.route == {"receiver": "alert-email", "group_by": ["grafana_folder", "alertname"]}


def test_the_file_mails_nobody_without_the_variable_so_grafana_would_refuse_it(run: Run, grafana_config: Config) -> None:
    """Why the ConfigMap exists only beside GF_SECRET_CHAIN_ALERT_EMAIL: without it the address interpolates to ""
    and Grafana refuses the contact point, and with it the whole alerting provisioning (at start-up, Grafana)."""
    from secret_chain.grafana import ALERTING_FILE
    from tests.grafana_provisioning import ProvisioningError, read_alerting_file

    config, secret_keys = grafana_config
    text = _alerting(run(lambda: GrafanaOAuth("grafana", ARGS), config, secret_keys))["data"][ALERTING_FILE]
    with pytest.raises(ProvisioningError, match="could not find addresses in settings"):
        read_alerting_file(ALERTING_FILE, text, lambda name: "")


@pytest.mark.parametrize(
    ("case", "args", "stack"),
    [
        ("PR stack", {**ARGS, "namespace": "preview-pr-42", "pr_number": 42}, "preview-pr-42"),
        ("alerting_mail false", {**ARGS, "alerting_mail": False}, "production"),
    ],
)
def test_mail_off_writes_no_alerting_file(run: Run, grafana_config: Config, case: str, args: GrafanaOAuthArgs, stack: str) -> None:
    """GF_SMTP_ENABLED=false: no alert address in the Secret, so no file that would interpolate it to nothing."""
    config, secret_keys = grafana_config
    ev = run(lambda: GrafanaOAuth("grafana", args), config, secret_keys, stack)
    assert _env(ev)["GF_SMTP_ENABLED"] == "false" and "GF_SECRET_CHAIN_ALERT_EMAIL" not in _env(ev)
    assert ev.of_type(CONFIG_MAP) == []


def test_no_mail_settings_write_no_alerting_file(run: Run, oauth_config: Config) -> None:
    config, secret_keys = oauth_config
    assert run(lambda: GrafanaOAuth("grafana", ARGS), config, secret_keys).of_type(CONFIG_MAP) == []


def test_a_pr_stack_that_opts_in_to_mail_gets_its_file_in_its_own_namespace(run: Run, grafana_config: Config) -> None:
    config, secret_keys = grafana_config
    args: GrafanaOAuthArgs = {**ARGS, "namespace": "preview-pr-7", "pr_number": 7, "alerting_mail": True}
    metadata = _alerting(run(lambda: GrafanaOAuth("grafana", args), config, secret_keys, "preview-pr-7"))["metadata"]
    assert (metadata["namespace"], metadata["name"]) == ("preview-pr-7", "grafana-alert-email")


def test_route_alerts_false_provisions_only_the_contact_point(run: Run, grafana_config: Config) -> None:
    from secret_chain.grafana import ALERTING_FILE
    from tests.grafana_provisioning import read_alerting_file

    config, secret_keys = grafana_config
    ev = run(lambda: GrafanaOAuth("grafana", {**ARGS, "route_alerts": False}), config, secret_keys)
    env = _env(ev)
    provisioned = read_alerting_file(ALERTING_FILE, _alerting(ev)["data"][ALERTING_FILE], lambda name: env.get(name, ""))
    assert provisioned is not None and provisioned.policies == ()
    assert [p.name for p in provisioned.contact_points] == ["alert-email"]


def test_route_alerts_must_be_a_bool(run: Run, grafana_config: Config) -> None:
    config, secret_keys = grafana_config
    assert 'argument "route_alerts" must be true or false' in _error(run, config, secret_keys, {**ARGS, "route_alerts": "no"})  # type: ignore[typeddict-item]


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_the_chain_gives_production_the_file_and_pr_stacks_none(preview: bool) -> None:
    """Per stack: production's Grafana namespace gets the ConfigMap; a PR stack (mail off) gets none, so no two stacks
    share its kind/namespace/name; preview-base builds no Grafana."""
    from secret_chain import SecretChain
    from tests.runtime import evaluate
    from tests.test_chain import full_config

    config, secret_keys = full_config()
    owned = {}
    for stack in ("production", "preview-base", "preview-pr-7", "preview-pr-8"):
        ev = evaluate(lambda: SecretChain("chain"), config=config, secret_keys=secret_keys, stack=stack, preview=preview)
        owned[stack] = [(unwrap(r.inputs)["metadata"]["namespace"], unwrap(r.inputs)["metadata"]["name"]) for r in ev.of_type(CONFIG_MAP)]
        for obj in ev.kubernetes_objects():
            validate(obj)
        assert find_leaks(ev, [config[k] for k in secret_keys]) == []
    assert owned == {"production": [("monitoring", "grafana-alert-email")], "preview-base": [], "preview-pr-7": [], "preview-pr-8": []}


def test_the_file_is_the_documented_format_and_only_fields_grafana_reads() -> None:
    """Every key the file has is one Grafana's structs read (its YAML decoder drops unknown keys silently)."""
    import json

    from secret_chain.grafana import ALERT_EMAIL_ENV, alerting_file
    from tests.grafana_provisioning import read_alerting_file

    for route in (True, False):
        text = alerting_file(route_alerts=route)
        document = json.loads(text)
        assert document["apiVersion"] == 1
        assert document["contactPoints"][0]["receivers"][0]["settings"] == {"addresses": "${" + ALERT_EMAIL_ENV + "}"}
        assert read_alerting_file("x.json", text, {ALERT_EMAIL_ENV: "a@example.com"}.__getitem__) is not None
        assert text == alerting_file(route_alerts=route)  # same input, same bytes: no spurious diff


# --- the port of Grafana's interpolation, against Grafana's own test cases ---------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # pkg/services/provisioning/values/values_test.go (INT=1, STRING=test, EMPTYSTRING="")
        ("$STRING", "test"),
        ("$INT", "1"),
        ("$EMPTYSTRING", ""),
        ("$$", "$"),
        ("mY,Passwo$$rd", "mY,Passwo$rd"),
        ("Some text with $STRING\n", "Some text with test\n"),
        # the documented ${NAME} form (docs, "Using environment variables"), and an unset variable (os.ExpandEnv: "")
        ("${STRING}", "test"),
        ("${UNSET}", ""),
        ("a$STRING.b", "atest.b"),
        ("trailing $", "trailing $"),
    ],
)
def test_the_interpolation_port_agrees_with_grafanas_tests(raw: str, expected: str) -> None:
    from tests.grafana_provisioning import interpolate

    env = {"INT": "1", "STRING": "test", "EMPTYSTRING": ""}
    assert interpolate(raw, lambda name: env.get(name, "")) == expected


def test_the_readme_shows_the_chart_values_that_deliver_the_file_and_the_variable() -> None:
    """The GrafanaOAuth page's Helm values turn the chart's alerts sidecar on (values.yaml: sidecar.alerts.enabled defaults to
    false) with the label the ConfigMap carries, and give Grafana the Secret's variables (envFromSecret)."""
    import re
    from pathlib import Path

    import yaml

    from secret_chain.grafana import ALERTING_CONFIGMAP, SIDECAR_LABEL, SIDECAR_LABEL_VALUE

    readme = Path(__file__).resolve().parents[1].joinpath("docs", "reference", "grafana-oauth.md").read_text()
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "sidecar:" in b]
    (values,) = [b for b in blocks if isinstance(b, dict) and "envFromSecret" in b]
    assert values["envFromSecret"] == "grafana-oauth"  # the Secret's default name
    alerts = values["sidecar"]["alerts"]
    assert alerts["enabled"] is True
    assert alerts.get("label", "grafana_alert") == SIDECAR_LABEL  # the chart's default label when left out
    assert alerts.get("labelValue", "") in ("", SIDECAR_LABEL_VALUE)  # "" selects on the label's presence alone
    assert "searchNamespace" not in alerts  # default: the sidecar's own namespace, which is Grafana's
    assert f"`{ALERTING_CONFIGMAP}`" in readme


@pytest.mark.parametrize("address", ["on$call@example.com", "${GF_SMTP_PASSWORD}@example.com", "a$$b@example.com"])
def test_an_alert_address_with_a_dollar_is_refused_grafana_would_expand_it(run: Run, grafana_config: Config, address: str) -> None:
    """interpolateValue runs setting.ExpandVar and then os.ExpandEnv on the expanded text (values.go), so a `$` in the
    variable's value is expanded again: the address changes, or another variable (the SMTP password) is spliced into
    the recipient. The address is refused before anything is created."""
    from secret_chain.grafana import ALERT_EMAIL_ENV, alerting_file
    from tests.grafana_provisioning import read_alerting_file

    env = {ALERT_EMAIL_ENV: address, "GF_SMTP_PASSWORD": "hunter2"}
    provisioned = read_alerting_file("a.json", alerting_file(), lambda name: env.get(name, ""))
    assert provisioned is not None and provisioned.contact_points[0].receivers[0].addresses != (address,)  # why
    config, secret_keys = grafana_config
    config["grafana:alertEmail"] = address
    message = _error(run, config, secret_keys, ARGS)
    assert 'config "grafana:alertEmail"' in message and "$" in message and address not in message
