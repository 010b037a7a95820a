"""GrafanaOAuth: a Secret of ``GF_*`` variables for Grafana's GitHub sign-in and alert mail, and its alerting file."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Required, TypedDict, cast

import pulumi

from secret_chain import catalog, kube
from secret_chain import validators as v
from secret_chain._component import ChainComponent, derived
from secret_chain._resolve import arg, resolve_spec, spec_args
from secret_chain.catalog import Key
from secret_chain.config import (
    ConfigReader,
    Known,
    gated,
    lift,
    set_command_shape,
    string,
    validated,
)
from secret_chain.validators import Invalid

CLIENT_ID_KEY = catalog.GRAFANA_CLIENT_ID
CLIENT_SECRET_KEY = catalog.GRAFANA_CLIENT_SECRET
ORG_KEY = catalog.GRAFANA_GITHUB_ORG
ADMIN_KEY = catalog.GRAFANA_ADMIN_USER
SMTP_HOST_KEY = catalog.GRAFANA_SMTP_HOST
SMTP_PORT_KEY = catalog.GRAFANA_SMTP_PORT
SMTP_USER_KEY = catalog.GRAFANA_SMTP_USER
SMTP_PASSWORD_KEY = catalog.GRAFANA_SMTP_PASSWORD
SMTP_FROM_KEY = catalog.GRAFANA_SMTP_FROM_ADDRESS
ALERT_EMAIL_KEY = catalog.GRAFANA_ALERT_EMAIL

OAUTH_KEYS = catalog.GRAFANA_OAUTH_KEYS
MAIL_KEYS = catalog.GRAFANA_MAIL_KEYS
"""The mail settings: all of them or none."""

ALERT_EMAIL_ENV = "GF_SECRET_CHAIN_ALERT_EMAIL"
"""The alert recipient, for a provisioned contact point. Grafana itself ignores it as a setting: its environment
overrides apply only to keys that exist in its configuration (grafana/grafana ``pkg/setting/setting.go``
``applyEnvVariableOverrides`` walks the ini file's sections and keys and looks up ``GF_<SECTION>_<KEY>`` for each),
and there is no such key. Provisioning files read it by interpolation, ``${GF_SECRET_CHAIN_ALERT_EMAIL}``
(grafana/grafana ``docs/sources/administration/provisioning/index.md``, "Using environment variables": ``$NAME``
or ``${NAME}``, for values only): see :func:`contact_point_provisioning`."""
CONTACT_POINT = "alert-email"
"""Name of the provisioned email contact point, and uid of its one receiver."""
ALERTING_CONFIGMAP = "grafana-alert-email"
"""The ConfigMap, in Grafana's namespace, that holds the alerting provisioning file (only while alert mail is on)."""
ALERTING_FILE = "secret-chain-alert-email.json"
"""The ConfigMap's one key, which the Helm chart's alerts sidecar writes as a file of that name into
``/etc/grafana/provisioning/alerting`` (kiwigrid/k8s-sidecar ``src/resources.py``: each ``data`` key is a file name).
Grafana reads the ``.yaml``, ``.yml`` and ``.json`` files of that folder and skips others
(grafana/grafana ``pkg/services/provisioning/alerting/config_reader.go`` ``readConfig``); JSON is parsed by the same
YAML decoder (``parseConfig``: ``yaml.Unmarshal``), so the file is ``json.dumps`` of the document, never hand-built."""
SIDECAR_LABEL = "grafana_alert"
"""The label the Grafana Helm chart's alerts sidecar selects ConfigMaps by: ``sidecar.alerts.label``, default
``grafana_alert`` (grafana-community/helm-charts, formerly grafana/helm-charts, ``charts/grafana/values.yaml``).
The chart leaves ``LABEL_VALUE`` unset by default (``sidecar.alerts.labelValue: ""``), and the sidecar then selects
on the label's presence (kiwigrid/k8s-sidecar ``src/resources.py``: ``f"{label}={label_value}" if label_value else
label``), so any value matches; set ``labelValue`` to :data:`SIDECAR_LABEL_VALUE` to match exactly."""
SIDECAR_LABEL_VALUE = "1"
ROOT_POLICY_GROUP_BY = ("grafana_folder", "alertname")
"""``group_by`` of Grafana's own default root policy (grafana/grafana ``pkg/setting/setting_unified_alerting.go``,
``alertmanagerDefaultConfiguration``), kept when the root policy is provisioned to the contact point."""
PREVIEW_HOST_PREFIX = "pr-grafana"
"""Preview PR ``N``'s Grafana is ``N.pr-grafana.<domain>``; the preview OAuth App registers ``pr-grafana.<domain>``."""
SCOPES = "user:email,read:org"
STARTTLS_POLICIES = ("OpportunisticStartTLS", "MandatoryStartTLS", "NoStartTLS")
_DEFAULT_STARTTLS = {"587": "MandatoryStartTLS"}
"""GF_SMTP_STARTTLS_POLICY by port: STARTTLS is mandatory on the submission port; otherwise Grafana's default."""


class GrafanaOAuthArgs(TypedDict, total=False):
    """Arguments of :class:`GrafanaOAuth`. Values left out are read from ESC-injected config."""

    namespace: Required[pulumi.Input[str]]
    """Grafana's namespace, where the Secret is created (required)."""
    domain: Required[pulumi.Input[str]]
    """The base domain, e.g. example.com (required)."""
    host: pulumi.Input[str]
    """Grafana's public host name. Default: grafana.<domain>, or <pr_number>.pr-grafana.<domain>."""
    pr_number: int
    """Pull request number of a preview stack: sets the default host and, by default, disables alert mail."""
    alerting_mail: bool
    """Send alert mail (GF_SMTP_ENABLED). Default: true, but false when pr_number is set; SMTP is still
    configured either way when the mail settings are present. True without mail settings is an error."""
    route_alerts: bool
    """While alert mail is on, also provision Grafana's root notification policy so that every alert goes to the
    alert email contact point. Default: true (Grafana's own root policy mails a placeholder,
    ``<example@email.com>``). A provisioned policy replaces the organisation's whole policy tree and cannot be edited
    in the UI: set false to keep your own tree and route to the contact point ``alert-email`` yourself."""
    secret_name: pulumi.Input[str]
    """Name of the Secret. Default: grafana-oauth."""
    smtp_starttls_policy: str
    """GF_SMTP_STARTTLS_POLICY. Default: MandatoryStartTLS on port 587, otherwise unset (Grafana's default;
    port 465 uses implicit TLS)."""
    client_id: pulumi.Input[str]
    """GitHub OAuth App client ID. Default: config grafana:githubClientId."""
    client_secret: pulumi.Input[str]
    """GitHub OAuth App client secret. Default: config grafana:githubClientSecret."""
    github_org: pulumi.Input[str]
    """GitHub organization allowed to sign in. Default: config grafana:githubOrg."""
    admin_user: pulumi.Input[str]
    """Who becomes Grafana server admin: ``id:<numeric GitHub user id>`` (preferred: survives renames and case
    changes; ``gh api users/<login> --jq .id``) or a GitHub login (compared exactly, case included, so it must be
    spelled as GitHub shows it; a warning says so). Default: config grafana:adminUser."""
    smtp_host: pulumi.Input[str]
    """SMTP host name. Default: config grafana:smtpHost."""
    smtp_port: int
    """SMTP port, 1–65535. Default: config grafana:smtpPort."""
    smtp_user: pulumi.Input[str]
    """SMTP user. Default: config grafana:smtpUser."""
    smtp_password: pulumi.Input[str]
    """SMTP (app) password; spaces are removed. Default: config grafana:smtpPassword."""
    smtp_from_address: pulumi.Input[str]
    """From address of alert mail. Default: config grafana:smtpFromAddress."""
    alert_email: pulumi.Input[str]
    """Recipient of alert mail. Default: config grafana:alertEmail."""
    rollout_key: pulumi.Input[str]
    """Key of the HMAC behind rollout_annotations (32+ random bytes). Default: config secret-chain:rolloutKey, and
    when that is absent a key generated once and kept in state (a RandomBytes child named ``<name>-rollout-key``)."""
    provider_enables_mutable_secrets: bool
    """Set true to state that the explicit Kubernetes provider in opts was created with enable_secret_mutable=True (a
    provider you or another component made). A provider object does not expose its settings, so an explicit provider is
    refused without this statement, unless secret_chain.kube.mutable_secrets_provider made it; with it, the provider is
    taken at your word. Without an explicit provider it changes nothing: the default provider's
    kubernetes:enableSecretMutable decides. Default: false."""


def _starttls(value: str) -> str:
    if value not in STARTTLS_POLICIES:
        raise Invalid(f"must be one of {', '.join(STARTTLS_POLICIES)}")
    return value


@dataclass(frozen=True)
class MailSpec:
    """Validated SMTP settings (all of them or none: :func:`_resolve_mail`)."""

    host: pulumi.Output[str] = field(metadata=arg(key=SMTP_HOST_KEY, name="smtp_host"))
    port: str = field(metadata=arg(key=SMTP_PORT_KEY, name="smtp_port", plain=True))
    user: pulumi.Output[str] = field(metadata=arg(key=SMTP_USER_KEY, name="smtp_user"))
    password: pulumi.Output[str] = field(metadata=arg(key=SMTP_PASSWORD_KEY, name="smtp_password"))
    from_address: Known[str] = field(metadata=arg(key=SMTP_FROM_KEY, name="smtp_from_address"))
    alert_email: Known[str] = field(metadata=arg(key=ALERT_EMAIL_KEY))
    starttls_policy: str | None = field(
        metadata=arg(string(_starttls), name="smtp_starttls_policy", plain=True, default=lambda got: _DEFAULT_STARTTLS.get(got["port"]))
    )


def _default_host(got: dict[str, Any]) -> Known[str] | None:
    """grafana.<domain>, or for a preview PR <pr_number>.pr-grafana.<domain> (None when the domain or PR number is bad)."""
    domain, pr_number = got["domain"], got["pr_number"]
    if domain is None:
        return None
    return lift(f"{pr_number}.{PREVIEW_HOST_PREFIX}.{{}}".format if pr_number is not None else "grafana.{}".format, domain)


@dataclass(frozen=True)
class GrafanaSpec:
    """Validated inputs of a GrafanaOAuth."""

    namespace: Known[str] = field(metadata=arg(string(v.namespace), required=True))
    domain: Known[str] = field(metadata=arg(string(v.hostname), required=True))
    pr_number: int | None = field(metadata=arg(v.positive_int, plain=True))
    host: Known[str] = field(metadata=arg(string(v.hostname), default=_default_host))
    mail_enabled: bool = field(metadata=arg(v.boolean, name="alerting_mail", plain=True, default=lambda got: got["pr_number"] is None))
    """Alert mail is on (``alerting_mail``); the Spec keeps it on only when the mail settings are there."""
    route_alerts: bool = field(metadata=arg(v.boolean, plain=True, default=True))
    """The alerting provisioning file also routes every alert to the contact point (``route_alerts``)."""
    secret_name: Known[str] = field(metadata=arg(string(v.dns1123_subdomain), default="grafana-oauth"))
    provider_enables_mutable_secrets: bool = field(metadata=arg(v.boolean, default=False, plain=True))
    """The caller states that the explicit Kubernetes provider updates Secrets in place (config.require_mutable_secrets)."""
    client_id: pulumi.Output[str] = field(metadata=arg(key=CLIENT_ID_KEY))
    client_secret: pulumi.Output[str] = field(metadata=arg(key=CLIENT_SECRET_KEY))
    github_org: Known[str] = field(metadata=arg(key=ORG_KEY))
    admin_user: Known[str] = field(metadata=arg(key=ADMIN_KEY))
    mail: MailSpec | None
    rollout_key: pulumi.Output[str] | None = field(metadata=arg(key=kube.ROLLOUT_KEY, required=False))
    """The configured (or passed) rollout key; None: the component generates one (kube.generated_rollout_key)."""
    callback_host: Known[str]
    """The host of the callback URL to register: the Grafana host, or for a preview PR ``pr-grafana.<domain>``."""

    @property
    def root_url(self) -> Known[str]:
        """GF_SERVER_ROOT_URL.

        Grafana sends ``redirect_uri`` = root_url + ``/login/github`` (grafana/grafana
        ``pkg/login/social/connectors/common.go`` ``createOAuthConfig``: ``RedirectURL: strings.TrimSuffix(cfg.AppURL,
        "/") + SocialBaseUrl + name``), so each PR's Grafana still redirects to its own host.
        """
        return lift("https://{}".format, self.host)

    @property
    def callback_url(self) -> Known[str]:
        """The authorization callback URL to register on the OAuth App.

        GitHub accepts a ``redirect_uri`` whose host, excluding sub-domains, and port match the registered callback
        URL and whose path is under its path (GitHub docs, "Authorizing OAuth apps" → "Redirect URLs":
        ``CALLBACK: http://example.com/path`` → ``GOOD: http://oauth.example.com/path``). So one preview OAuth App
        registered with ``https://pr-grafana.<domain>/login/github`` serves ``https://<N>.pr-grafana.<domain>/login/github``
        of every PR.
        """
        return lift("https://{}/login/github".format, self.callback_host)

    def known_values(self) -> dict[str, Known[str]]:
        """The values :func:`environment` reads besides the secrets: plain, or other resources' outputs."""
        values = {"root_url": self.root_url, "github_org": self.github_org, "admin_user": self.admin_user}
        if self.mail is not None and self.mail_enabled:
            values.update({"from_address": self.mail.from_address, "alert_email": self.mail.alert_email})
        return values

    @property
    def config_keys(self) -> tuple[Key, ...]:
        """Config keys the Secret's data comes from (names only)."""
        return OAUTH_KEYS + (MAIL_KEYS if self.mail is not None and self.mail_enabled else ())


def admin_user_id(admin_user: str) -> str | None:
    """The numeric GitHub user id of an ``id:<number>`` admin value, or None for a login."""
    return admin_user[len(v.GITHUB_USER_ID_PREFIX) :] if admin_user.startswith(v.GITHUB_USER_ID_PREFIX) else None


def role_attribute_path(admin_user: str) -> str:
    """The JMESPath that makes ``admin_user`` Grafana server admin and everyone else Viewer.

    Grafana evaluates it against the body of the GitHub user API (api.github.com/user) plus ``groups``
    (grafana/grafana ``pkg/login/social/connectors/github_oauth.go`` ``UserInfo`` passes ``response.Body`` to
    ``extractRoleAndAdmin``), whose ``id`` is the numeric user id and ``login`` the user name. ``id:<number>``
    compares the id, a JSON number (a JMESPath literal in backquotes): it survives renames. A login is compared
    with JMESPath ``==``, which is case-sensitive, while GitHub logins are not (``Example-Admin`` signs in as
    ``example-admin`` too and would get Viewer), and a renamed account no longer matches.
    """
    user_id = admin_user_id(admin_user)
    if user_id is not None:
        return f"[id==`{user_id}`][0] && 'GrafanaAdmin' || 'Viewer'"
    return f"[login=='{admin_user}'][0] && 'GrafanaAdmin' || 'Viewer'"


def login_warning(owner: str) -> str:
    """The warning of an admin given by login (names no value)."""
    return (
        f"{owner}: the Grafana admin is given by GitHub login, compared case-sensitively: it must be spelled exactly "
        f"as GitHub shows it, and a renamed account loses admin. Prefer its numeric id: set {ADMIN_KEY} to "
        "id:<number> (gh api users/<login> --jq .id)"
    )


def _warn_if_login(owner: str, known: str) -> str:
    if admin_user_id(known) is None:
        pulumi.log.warn(login_warning(owner))
    return known


def contact_point_provisioning(name: str = CONTACT_POINT) -> dict[str, object]:
    """A Grafana alerting provisioning document (``provisioning/alerting/*``) with one email contact point.

    The format is the documented one (grafana/grafana docs, "Use configuration files to provision alerting
    resources" → contact points: ``apiVersion: 1``; ``contactPoints`` of ``orgId``, ``name``, ``receivers`` of
    ``uid``, ``type``, ``settings``; email settings ``addresses``), as Grafana reads it:
    ``pkg/services/provisioning/alerting/file_v1.go`` ``AlertingFileV1`` and ``contact_point_types.go``
    ``ContactPointV1``/``ReceiverV1``. It mails the alert recipient of the Secret, ``${GF_SECRET_CHAIN_ALERT_EMAIL}``:
    every string of ``settings`` is a ``values.JSONValue``, which Grafana expands from its own environment when it
    loads the file (``pkg/services/provisioning/values/values.go`` ``interpolateValue``; docs, "Provision Grafana" →
    "Using environment variables"). The variable must be set wherever the file is loaded: with an empty address the
    email integration is refused ("could not find addresses in settings", grafana/alerting
    ``receivers/email/v1/config.go``) and so is the whole alerting provisioning, which stops Grafana at start-up
    (``pkg/services/provisioning/provisioning.go`` ``RunInitProvisioners`` returns the error).
    """
    return {
        "apiVersion": 1,
        "contactPoints": [
            {
                "orgId": 1,
                "name": name,
                "receivers": [{"uid": name, "type": "email", "settings": {"addresses": "${" + ALERT_EMAIL_ENV + "}"}}],
            }
        ],
    }


def alerting_provisioning(*, route_alerts: bool = True) -> dict[str, object]:
    """The ConfigMap's alerting provisioning document: the contact point, and with ``route_alerts`` the root policy.

    The root notification policy sends every alert to the contact point. A ``policies`` entry is the organisation's
    whole routing tree: ``orgId`` and the root route's fields (grafana/grafana
    ``pkg/services/provisioning/alerting/notification_policy_types.go`` ``NotificiationPolicyV1``; docs, "Use
    configuration files to provision alerting resources" → notification policies). Grafana provisions contact
    points before policies (``provisioner.go`` ``Provision``), so the policy's receiver exists when it is checked.
    """
    document = contact_point_provisioning()
    if route_alerts:
        document["policies"] = [{"orgId": 1, "receiver": CONTACT_POINT, "group_by": list(ROOT_POLICY_GROUP_BY)}]
    return document


def alerting_file(*, route_alerts: bool = True) -> str:
    """The text of :data:`ALERTING_FILE`: :func:`alerting_provisioning` as JSON (same input, same bytes)."""
    return json.dumps(alerting_provisioning(route_alerts=route_alerts), indent=2, sort_keys=True) + "\n"


def environment(spec: GrafanaSpec, values: dict[str, str]) -> dict[str, str]:
    """The Secret's ``GF_*`` variables, given the resolved secret ``values`` and :meth:`GrafanaSpec.known_values`."""
    env = {
        "GF_SERVER_ROOT_URL": values["root_url"],
        "GF_AUTH_GITHUB_ENABLED": "true",
        "GF_AUTH_GITHUB_CLIENT_ID": values["client_id"],
        "GF_AUTH_GITHUB_CLIENT_SECRET": values["client_secret"],
        "GF_AUTH_GITHUB_SCOPES": SCOPES,
        "GF_AUTH_GITHUB_ALLOWED_ORGANIZATIONS": values["github_org"],
        "GF_AUTH_GITHUB_ALLOW_SIGN_UP": "true",
        "GF_AUTH_GITHUB_ROLE_ATTRIBUTE_PATH": role_attribute_path(values["admin_user"]),
        "GF_AUTH_GITHUB_ROLE_ATTRIBUTE_STRICT": "true",
        "GF_AUTH_GITHUB_ALLOW_ASSIGN_GRAFANA_ADMIN": "true",
        "GF_SMTP_ENABLED": "true" if spec.mail_enabled else "false",
    }
    if spec.mail is not None and spec.mail_enabled:  # mail off: no SMTP credentials anywhere
        env.update(
            {
                "GF_SMTP_HOST": f"{values['smtp_host']}:{spec.mail.port}",
                "GF_SMTP_USER": values["smtp_user"],
                "GF_SMTP_PASSWORD": values["smtp_password"],
                "GF_SMTP_FROM_ADDRESS": values["from_address"],
                ALERT_EMAIL_ENV: values["alert_email"],
            }
        )
        if spec.mail.starttls_policy:
            env["GF_SMTP_STARTTLS_POLICY"] = spec.mail.starttls_policy
    return env


def _present(reader: ConfigReader, entry: Key, override: object) -> bool:
    return override is not None or reader.found(entry) is not None


def _port_text(value: object) -> object:
    """Pass a port given as int on as text (bools are left for the check to refuse)."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _resolve_mail(args: GrafanaOAuthArgs, reader: ConfigReader) -> tuple[bool, MailSpec | None]:
    """(ok, mail): the mail settings, all or none."""
    overrides = {how.key: cast(Mapping[str, Any], args).get(how.name or name) for name, how in spec_args(MailSpec).items()}
    present = [key for key in MAIL_KEYS if _present(reader, key, overrides[key])]
    if not present:
        return True, None
    missing = [key for key in MAIL_KEYS if key not in present]
    for key in missing:
        reader.missing(key, f"the mail settings are all or nothing ({len(present)} of {len(MAIL_KEYS)} are set)")
    if missing:
        return False, None
    port = _port_text(args.get("smtp_port"))
    if port is not None and not isinstance(port, str):
        reader.arg("smtp_port", port, string(v.port))  # records a clear type error
        return False, None
    mail = resolve_spec(MailSpec, {**args, "smtp_port": port}, reader)
    return mail is not None, mail


def resolve(args: GrafanaOAuthArgs, reader: ConfigReader) -> GrafanaSpec | None:
    """Validate ``args`` and config into a spec; problems go to ``reader`` (None if any)."""
    owner = reader.owner

    def derived(got: dict[str, Any]) -> dict[str, Any]:
        admin_user = got["admin_user"]
        if isinstance(admin_user, str) and admin_user_id(admin_user) is None:
            pulumi.log.warn(login_warning(owner))
        elif isinstance(admin_user, pulumi.Output):
            admin_user = admin_user.apply(lambda known: _warn_if_login(owner, known))
        mail_ok, mail = _resolve_mail(args, reader)
        if mail_ok and mail is None and args.get("alerting_mail") is True:
            reader.fail(
                "alerting_mail is true but no mail settings are configured",
                f"set {', '.join(map(str, MAIL_KEYS))} ({set_command_shape(reader.environment)}; a secret: "
                f"{set_command_shape(reader.environment, secret=True)}), or leave alerting_mail out",
            )
        pr_number, domain = got["pr_number"], got["domain"]
        callback = lift(f"{PREVIEW_HOST_PREFIX}.{{}}".format, domain) if pr_number is not None and args.get("host") is None else got["host"]
        return {"admin_user": admin_user, "mail": mail, "mail_enabled": bool(got["mail_enabled"] and mail is not None), "callback_host": callback}

    return resolve_spec(GrafanaSpec, args, reader, then=derived)


def _alerting_config_map(resource_name: str, spec: GrafanaSpec, *, parent: ChainComponent[Any], after: pulumi.Resource) -> pulumi.Resource:
    """The ConfigMap of the alerting provisioning file, in Grafana's namespace, labelled for the alerts sidecar.

    It holds no secret (the address is a ``${…}`` reference, not a value). It waits for the Secret, so the variable
    it refers to exists before a Grafana can load it. The sidecar searches its own pod's namespace unless
    ``sidecar.alerts.searchNamespace`` says otherwise (``values.yaml``; k8s-sidecar ``src/sidecar.py``), hence
    Grafana's namespace. No ``k8s-sidecar-target-directory`` annotation: it would put the file into a sub-folder,
    and Grafana does not read sub-folders of ``provisioning/alerting`` (``config_reader.go`` reads one directory).
    """
    from pulumi_kubernetes.core.v1 import ConfigMap

    return ConfigMap(
        resource_name,
        metadata={
            "name": ALERTING_CONFIGMAP,
            "namespace": spec.namespace,
            "labels": kube.labels("grafana-oauth", {SIDECAR_LABEL: SIDECAR_LABEL_VALUE}),
        },
        data={ALERTING_FILE: alerting_file(route_alerts=spec.route_alerts)},
        opts=parent.child_opts([after]),
    )


class GrafanaOAuth(ChainComponent[GrafanaSpec]):
    """A Secret of ``GF_*`` environment variables: GitHub OAuth sign-in for one organization, one admin, SMTP.

    Members of ``grafana:githubOrg`` may sign in (Grafana compares organisation logins case-insensitively:
    ``strings.EqualFold`` in ``IsOrganizationMember``, grafana/grafana ``pkg/login/social/connectors/github_oauth.go``).
    ``grafana:adminUser`` becomes Grafana server admin and everyone else Viewer: give it as ``id:<number>``, the
    numeric GitHub user id, which survives renames; a login is compared case-sensitively (a warning says so).
    ``role_attribute_strict`` refuses a user only when the expression maps them to no role; this expression maps
    every user (Viewer at least), so it refuses nobody: the organisation is what gates sign-in.

    When the mail settings (``grafana:smtpHost``, ``smtpPort``, ``smtpUser``, ``smtpPassword``,
    ``smtpFromAddress``, ``alertEmail``) are present and mail is on, ``GF_SMTP_*`` are set. With mail off
    (preview-PR stacks, ``pr_number``, or ``alerting_mail: false``) the Secret holds only ``GF_SMTP_ENABLED=false``:
    no SMTP credential and no alert address. The alert recipient is ``GF_SECRET_CHAIN_ALERT_EMAIL``, which Grafana
    does not read as a setting: while mail is on, the component also writes the ConfigMap ``grafana-alert-email``
    (label ``grafana_alert: "1"``) holding an alerting provisioning file, :func:`alerting_provisioning`: an email
    contact point ``alert-email`` whose address Grafana interpolates from that variable, and (``route_alerts``) the
    root notification policy that sends every alert to it. The Grafana Helm chart's alerts sidecar
    (``sidecar.alerts.enabled: true``) puts it into Grafana's ``provisioning/alerting`` folder and has Grafana reload
    it. With mail off there is no ConfigMap: without the variable the contact point would have no address, which
    Grafana refuses (and with it the whole alerting provisioning).

    The whole ``stringData`` is one secret Output. Grafana consumes it in either of two ways:

    * a Deployment's container: ``envFrom: [{secretRef: {name: grafana-oauth}}]``;
    * the Grafana Helm chart: ``envFromSecret: grafana-oauth`` (kube-prometheus-stack:
      ``grafana.envFromSecret: grafana-oauth``).

    Register ``callback_url`` as the OAuth App's authorization callback URL. For a preview PR it is
    ``https://pr-grafana.<domain>/login/github``: GitHub accepts a redirect to a sub-domain of the registered host,
    so one preview OAuth App (the preview environment's ``grafana:githubClientId``) serves every PR, while each
    PR's Grafana redirects to its own ``https://<N>.pr-grafana.<domain>/login/github`` (``root_url``).

    Grafana reads these variables only at start-up: put ``rollout_annotations`` into its pod template
    (Helm chart: ``podAnnotations``) so that a rotated value rolls the pods.
    """

    callback_url: pulumi.Output[str]
    """The callback URL to register on the GitHub OAuth App: https://<host>/login/github, or for a preview PR
    https://pr-grafana.<domain>/login/github (serves every PR's sub-domain)."""
    root_url: pulumi.Output[str]
    """Grafana's public URL (GF_SERVER_ROOT_URL)."""
    secret_name: pulumi.Output[str]
    """Name of the Secret (for envFrom or envFromSecret)."""
    rollout_annotations: pulumi.Output[dict[str, str]]
    """Pod-template annotations that change whenever the Secret's data changes (an HMAC, not secret):
    ``{"secret-chain/rollout-hmac-sha256-<secret name>": "<hex>"}``."""

    def __init__(self, name: str, args: GrafanaOAuthArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        self._build(name, validated("GrafanaOAuth", resolve, args, opts), opts)


    def _build(self, name: str, spec: GrafanaSpec, opts: pulumi.ResourceOptions | None, rollout_key: pulumi.Output[str] | None = None) -> None:
        """``rollout_key``: the key to use when the spec has none (SecretChain's one generated key per stack)."""
        super().__init__("secret-chain:index:GrafanaOAuth", name, None, gated(spec, opts))
        self.inherit_depends_on(opts)
        secrets: dict[str, Known[str]] = {"client_id": spec.client_id, "client_secret": spec.client_secret, **spec.known_values()}
        if spec.mail is not None and spec.mail_enabled:
            secrets.update({"smtp_host": spec.mail.host, "smtp_user": spec.mail.user, "smtp_password": spec.mail.password})
        string_data = pulumi.Output.all(**secrets).apply(lambda values: environment(spec, values))
        env_secret = kube.secret(
            f"{name}-env",
            name=spec.secret_name,
            namespace=spec.namespace,
            string_data=string_data,
            config_keys=spec.config_keys,
            component="grafana-oauth",
            parent=self,
            keys_vary=True,  # the GF_SMTP_* keys go when mail is turned off
        )
        if spec.mail is not None and spec.mail_enabled:  # the file needs GF_SECRET_CHAIN_ALERT_EMAIL: only beside it
            _alerting_config_map(f"{name}-alerting", spec, parent=self, after=env_secret)
        # Each output waits for the Secret that carries it (GF_SERVER_ROOT_URL, the OAuth settings): secret_chain._component.derived.
        self.callback_url = derived(spec.callback_url, env_secret)
        self.root_url = derived(spec.root_url, env_secret)
        self.secret_name = derived(spec.secret_name, env_secret)
        key = kube.rollout_key_of(self, name, spec.rollout_key, rollout_key)
        self.rollout_annotations = kube.rollout_annotations(key, spec.namespace, spec.secret_name, string_data, env_secret)
        self.register_outputs(
            {
                "callback_url": self.callback_url,
                "root_url": self.root_url,
                "secret_name": self.secret_name,
                "rollout_annotations": self.rollout_annotations,
            }
        )
