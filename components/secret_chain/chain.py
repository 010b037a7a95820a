"""SecretChain: the parts one stack builds, for ``production``, ``preview-base`` or ``preview-pr-<N>``.

Which parts a stack kind builds, what each needs and how it is enabled is the table in
:mod:`secret_chain.parts`: the parts the stack declares in ``secret-chain:parts``, or where nothing is
declared every part whose config is present. The chain reads all of its config and validates every
part before it registers anything, so a bad or missing value anywhere leaves the stack untouched.
"""

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, cast

import pulumi

from secret_chain import certmanager, flux, flux_images, ghcr, github_actions, grafana, parts, prometheus
from secret_chain import validators as v
from secret_chain._component import ChainComponent
from secret_chain.catalog import Key
from secret_chain.config import ConfigReader, Known, raw, require_mutable_secrets, string
from secret_chain.validators import Invalid

_PR_STACK = re.compile(r"preview-pr-([1-9][0-9]{0,8})")


@dataclass(frozen=True)
class StackKind:
    """What a stack name says: production, the shared preview base, or one pull request's preview."""

    name: str
    pr_number: int | None

    @property
    def is_pr(self) -> bool:
        """True for ``preview-pr-<N>`` stacks."""
        return self.pr_number is not None

    @property
    def kind(self) -> parts.Kind:
        """The kind of stack, as the table of parts names it."""
        return parts.kind_of(self.name)

    @property
    def environment(self) -> str:
        """The catalog's environment name for this stack: production or preview."""
        return "production" if self.name == "production" else "preview"


def parse_stack(name: str, *, bootstrap: bool = False) -> StackKind:
    """Parse a stack name; anything but production, preview-base or preview-pr-<N> is an error.

    ``bootstrap``: the operator commands also take the ``bootstrap`` stack, which builds the ESC tier, not a chain.
    """
    if name in (parts.Kind.PRODUCTION, parts.Kind.PREVIEW_BASE) or (bootstrap and name == parts.Kind.BOOTSTRAP):
        return StackKind(name, None)
    match = _PR_STACK.fullmatch(name)
    if match:
        return StackKind(name, int(match.group(1)))
    also = ", bootstrap" if bootstrap else ""
    raise Invalid(f"is not a secret-chain stack name: use production, preview-base{also} or preview-pr-<N> (N the pull request number)")


class SecretChainArgs(TypedDict, total=False):
    """Arguments of :class:`SecretChain`. Each value left out is read from stack config ``secret-chain:<camelCaseName>``."""

    app_namespace: pulumi.Input[str]
    """The application's namespace (production). PR stacks always use preview-pr-<N> and refuse any other value; preview-base,
    which runs no application, refuses it. Default: config secret-chain:appNamespace, else default."""
    image_pull_namespaces: Sequence[pulumi.Input[str]]
    """Namespaces that get the GHCR pull secret (a list; each item may come from another resource). Default: the app namespace."""
    github_repository: pulumi.Input[str]
    """owner/name of the repository whose Actions secrets the chain writes (not in PR stacks), into the repository's GitHub
    environment production or preview, which the stack creates. Default: config secret-chain:githubRepository."""
    monitor_namespace: pulumi.Input[str]
    """Namespace of the ServiceMonitor. PR stacks use their own namespace and refuse any other value. Default: monitoring."""
    stack: str
    """Stack name to build for. Default: the running stack."""
    domain: str
    """The platform's DNS domain (issuer zone, wildcard certificates, Grafana host). Default: config secret-chain:domain.
    A plain string: the wildcard certificates' resource names are made from it, and a name cannot wait for another resource."""
    acme_email: pulumi.Input[str]
    """ACME account email for Let's Encrypt. Default: config secret-chain:acmeEmail."""
    flux_repository_url: pulumi.Input[str]
    """HTTPS URL of the cluster repository Flux syncs (not in PR stacks). Default: config secret-chain:fluxRepositoryUrl."""
    gateway_namespace: pulumi.Input[str]
    """preview-base: namespace of the shared Gateway that serves the PR hosts; the wildcard certificates' Secrets go there.
    Default: config secret-chain:gatewayNamespace (required on preview-base)."""
    grafana_namespace: pulumi.Input[str]
    """Namespace of Grafana in production. PR stacks use their own namespace and refuse any other value. Default: monitoring."""
    digitalocean_cluster: str
    """Name of the DigitalOcean Kubernetes cluster to deploy to: its kubeconfig is fetched on every run with the stack's
    ``digitalocean:token`` and given to an explicit Kubernetes provider (a DigitalOcean kubeconfig expires). Default:
    config secret-chain:digitaloceanCluster, else the ambient kubeconfig."""
    image_automation: flux_images.ImageAutomationArgs
    """Flux image automation of the cluster repository: a FluxImageAutomation next to FluxGitCredentials, on its
    GitRepository, branch and namespace (production and preview-base). On preview-base every object name and the push
    branch end in -preview, so that the two stacks never share an object or a branch. Default: config
    secret-chain:imageAutomation (its images and commit author), else none."""


@dataclass(frozen=True)
class ChainSpec:
    """Validated inputs of a SecretChain: the stack and the spec of each part to build."""

    stack: StackKind
    app_namespace: Known[str] | None
    """None on preview-base, which runs no application."""
    ghcr: ghcr.GhcrSpec | None
    prometheus: prometheus.PrometheusSpec | None
    github: github_actions.GitHubSpec | None
    flux: flux.FluxSpec | None
    flux_images: flux_images.AutomationSpec | None
    """Image automation of the cluster repository, wired to :attr:`flux` (only with it)."""
    certmanager: certmanager.CertManagerSpec | None
    grafana: grafana.GrafanaSpec | None
    cluster: str | None

    @property
    def builds_secrets(self) -> bool:
        """Whether any part creates a Kubernetes Secret (and so needs Secrets updated in place)."""
        return any(part is not None for part in (self.ghcr, self.prometheus, self.flux, self.flux_images, self.certmanager, self.grafana))


# The table's components, looked up once: a name the table does not have fails at import, never builds less.
_GHCR, _PROMETHEUS, _FLUX, _IMAGES, _CERTMANAGER, _GRAFANA, _GITHUB, _CLUSTER = (
    parts.BY_NAME[name].name
    for name in (
        "GhcrPullSecret",
        "PrometheusAuth",
        "FluxGitCredentials",
        "FluxImageAutomation",
        "CertManagerDnsIssuer",
        "GrafanaOAuth",
        "GitHubActionsSecrets",
        "Cluster access",
    )
)
SETTINGS = (
    parts.APP_NAMESPACE,
    parts.DOMAIN,
    parts.ACME_EMAIL,
    parts.GITHUB_REPOSITORY,
    parts.FLUX_REPOSITORY_URL,
    parts.GATEWAY_NAMESPACE,
    parts.DIGITALOCEAN_CLUSTER,
)
"""Stack settings a SecretChain argument may stand in for (``secret-chain:acmeEmail`` ↔ ``acme_email``)."""


def _setting(reader: ConfigReader, args: SecretChainArgs, setting: Key) -> Known[str] | None:
    """A stack setting, from its argument when given (which may be another resource's output), else from config.

    The table has said whether it is required. The domain and the cluster must be plain (see SecretChainArgs.domain; the
    cluster names the provider's kubeconfig look-up, which runs before anything is registered).
    """
    name = parts.arg_name(setting)
    override = cast(Mapping[str, Any], args).get(name)  # each of SETTINGS is a SecretChainArgs field (tests/test_parts.py)
    if setting is parts.DOMAIN or setting is parts.DIGITALOCEAN_CLUSTER:
        return reader.plain(setting, override, required=False, arg_name=name)
    return reader.plain_input(setting, override, required=False, arg_name=name)


def _given_as(reader: ConfigReader, args: SecretChainArgs, setting: Key) -> str:
    """How a problem names a setting's value: as the SecretChain argument when one was passed, else as its config key.

    A part resolved with the value names it with its own argument (FluxGitCredentials' ``repository_url``); the chain
    hands each part this label (:meth:`~secret_chain.config.ConfigReader.naming`), so every line names what the caller wrote.
    """
    name = parts.arg_name(setting)
    return reader.label(name) if cast(Mapping[str, Any], args).get(name) is not None else f'config "{setting.key}"'


_PART_ARGUMENTS = {"image_pull_namespaces": _GHCR, "monitor_namespace": _PROMETHEUS, "grafana_namespace": _GRAFANA}
"""SecretChain arguments that are not stack settings, and the one part that reads each."""
_OWN_NAMESPACE = ("app_namespace", "monitor_namespace", "grafana_namespace")
"""The namespace arguments a PR stack replaces by its own namespace (preview-pr-<N>)."""


def _refuse_unread(args: SecretChainArgs, stack: StackKind, reader: ConfigReader) -> None:
    """Refuse each argument this stack never reads: a value silently ignored is one the caller believes is used.

    From the table (:mod:`secret_chain.parts`): a stack-setting argument (``flux_repository_url``, ``github_repository``,
    ``acme_email``, ``gateway_namespace``…) when no part this kind of stack builds reads its key, and the other part
    arguments when their part is never built here (``monitor_namespace`` on preview-base). On a PR stack, every part
    writes in the stack's own namespace: ``app_namespace``, ``monitor_namespace`` and ``grafana_namespace`` are replaced
    by it, so they are refused unless they name it. ``digitalocean_cluster`` is read on every stack kind, PR stacks
    included (the cluster access part), and so is ``domain`` (PR stacks derive their Grafana host from it).
    """
    given = cast(Mapping[str, Any], args)
    kind = stack.kind

    def refuse(name: str, why: str) -> None:
        reader.invalid(name, f"is ignored on {kind.label} stacks: {why}", fix=f"leave it out on {kind.label} stacks")

    if stack.is_pr:
        for name in _OWN_NAMESPACE:
            if given.get(name) is not None and given.get(name) != stack.name:
                refuse(name, f"a PR stack builds every part in its own namespace, {stack.name}")
    for setting in SETTINGS:
        name = parts.arg_name(setting)
        readers = [p for p in parts.PARTS if setting in p.keys and p.kinds & parts.CHAIN_KINDS]
        if given.get(name) is None or (stack.is_pr and name in _OWN_NAMESPACE) or any(kind in p.kinds for p in readers):
            continue
        refuse(name, f"they never build {' or '.join(p.name for p in readers)}, which would read it")
    for name, part in _PART_ARGUMENTS.items():
        if given.get(name) is not None and kind not in parts.BY_NAME[part].kinds and not (stack.is_pr and name in _OWN_NAMESPACE):
            refuse(name, f"they never build {part}, which would read it")


def _read(reader: ConfigReader, entry: Key) -> None:
    """Check one key the built parts read (a component reading it again records the same problem, once).

    A deprecated key is not checked: its component only warns that it is no longer used.
    """
    if entry.deprecated:
        return
    if entry.secret:
        reader.secret(entry, required=False)
    else:
        reader.plain(entry, required=False)


def select(args: SecretChainArgs, stack: StackKind, reader: ConfigReader) -> parts.Selection | None:
    """The parts this stack builds (:func:`secret_chain.parts.select`); declared parts whose config is missing go to ``reader``."""
    declared_text = reader.plain(parts.PARTS_KEY, required=False)
    if reader.problems:
        return None
    declared = parts.declared_parts(lambda key: declared_text if key == parts.PARTS_KEY.key else None)
    given = {s.key for s in SETTINGS if cast(Mapping[str, Any], args).get(parts.arg_name(s)) is not None}
    selection = parts.select(stack.kind, raw, declared, given)
    for refusal in selection.problems:
        reader.fail(*refusal.line())
    for item in selection.unset():
        if item.key is parts.MUTABLE_SECRETS:
            continue  # config.require_mutable_secrets: an explicit provider may set it instead
        reader.missing(item.key, item.why)
    for item in selection.conflicts:
        reader.conflict(item.key, f"conflicts with another alternative: {item.why}")
    # The mutable-Secrets flag is config.require_mutable_secrets' unless a built part stands in for it (cluster access's
    # own provider): then it is only checked when set, as preflight does.
    provided = {k.key for p in selection.built for k in p.provides}
    for entry in selection.read:
        if entry is not parts.MUTABLE_SECRETS or entry.key in provided:
            _read(reader, entry)
    return selection


def resolve(args: SecretChainArgs, reader: ConfigReader) -> ChainSpec | None:
    """Validate every part of the chain into one spec; all problems go to ``reader``.

    Which parts are built, and what each needs, comes from the table in :mod:`secret_chain.parts`.
    """
    stack = reader.arg("stack", args.get("stack") or pulumi.get_stack(), string(parse_stack))
    if stack is None:
        return None
    running = pulumi.get_stack()
    # A PR stack builds only its own namespace's objects, and no other stack builds a PR stack's objects.
    if stack.name != running and (stack.is_pr or _PR_STACK.fullmatch(running)):
        reader.fail(
            f'argument "stack" is {stack.name} but the running stack is {running}: a preview-pr-<N> layout is built only by '
            "the stack of that name, and a PR stack builds nothing else",
            "drop the stack argument",
        )
        return None
    _refuse_unread(args, stack, reader)
    selection = select(args, stack, reader)
    if selection is None:
        return None
    built = selection.names() - selection.incomplete(but=(parts.MUTABLE_SECRETS,))
    app_namespace: Known[str] | None = None  # preview-base runs no application (docs/prerequisites.md)
    if stack.is_pr:
        app_namespace = stack.name
    elif stack.name == "production":
        app_namespace = _setting(reader, args, parts.APP_NAMESPACE)
        if app_namespace is None and not reader.problems:
            app_namespace = "default"
        if app_namespace is None:
            return None

    ghcr_spec = None
    if _GHCR in built and app_namespace is not None:
        pull_namespaces = reader.items("image_pull_namespaces", args.get("image_pull_namespaces") or [app_namespace], v.dns1123_label)
        if stack.is_pr and pull_namespaces is not None and pull_namespaces != [app_namespace]:
            reader.fail(
                f'argument "image_pull_namespaces" lists namespaces other than {app_namespace}: a PR stack writes only in its own '
                "namespace",
                "drop image_pull_namespaces on preview-pr-<N> stacks",
            )
        elif pull_namespaces is not None:
            given_pull = args.get("image_pull_namespaces") is not None
            with reader.naming({"namespaces": reader.label("image_pull_namespaces") if given_pull else _given_as(reader, args, parts.APP_NAMESPACE)}):
                ghcr_spec = ghcr.resolve({"namespaces": pull_namespaces}, reader)

    prom_spec = None
    if _PROMETHEUS in built and app_namespace is not None:
        monitor_ns = app_namespace if stack.is_pr else args.get("monitor_namespace", "monitoring")
        with reader.naming({"namespace": _given_as(reader, args, parts.APP_NAMESPACE)}):
            prom_spec = prometheus.resolve({"namespace": app_namespace, "monitor_namespace": monitor_ns}, reader)

    github_spec = None
    if _GITHUB in built:
        repository = _setting(reader, args, parts.GITHUB_REPOSITORY)
        if repository is not None:
            # The entries the built parts require (declared sub-groups included): never fewer than the table says.
            needed = {k.key for p in selection.built for k in p.required}
            required = [e.github_name for e in github_actions.ENTRIES if e.config_key in needed]
            # production and preview-base write the same names: each to its own GitHub environment, which it creates
            # (parts.GITHUB_ENVIRONMENTS), so no name has two owners.
            github_args: github_actions.GitHubActionsSecretsArgs = {
                "repository": repository,
                "required": required,
                "environment": parts.GITHUB_ENVIRONMENTS[stack.kind],
                "create_environment": True,
            }
            with reader.naming({"repository": _given_as(reader, args, parts.GITHUB_REPOSITORY)}):
                github_spec = github_actions.resolve(github_args, reader)

    # The argument wins over the setting; either builds the explicit provider (the table's "Cluster access").
    cluster = cast(str | None, _setting(reader, args, parts.DIGITALOCEAN_CLUSTER)) if _CLUSTER in built else None
    domain = cast(str | None, _setting(reader, args, parts.DOMAIN)) if built & {_CERTMANAGER, _GRAFANA} else None

    # production and preview-base may share one cluster (docs/prerequisites.md): preview-base names its cluster-wide
    # and shared-namespace objects apart, so neither stack takes, or on destroy deletes, the other's. Production keeps
    # the names it always had (renaming live objects would re-create them).
    suffix = v.PREVIEW_SUFFIX if stack.name == "preview-base" else ""

    flux_spec = None
    if _FLUX in built:
        url = _setting(reader, args, parts.FLUX_REPOSITORY_URL)
        if url is not None:
            flux_args: flux.FluxGitCredentialsArgs = {"repository_url": url}
            if suffix:
                flux_args["name"] = flux_images.DEFAULT_NAME + suffix
                flux_args["secret_name"] = flux.DEFAULT_SECRET_NAME + suffix
            with reader.naming({"repository_url": _given_as(reader, args, parts.FLUX_REPOSITORY_URL)}):
                flux_spec = flux.resolve(flux_args, reader)
    automation: object = args.get("image_automation")
    if automation is None and _IMAGES in built:
        # The stack's own setting (the table has enabled the part, or required the setting where it is declared).
        text = reader.plain(parts.IMAGE_AUTOMATION, required=False)
        automation = None if text is None else json.loads(text)
    images_spec = None
    if automation is not None and flux_spec is not None:
        # preview-base's automation gets its own names and push branch (flux_images.suffixed), production keeps its own.
        images_spec = flux_images.resolve_nested(
            reader,
            automation,
            namespace=flux_spec.namespace,
            branch=flux_spec.branch,
            source=flux_spec.name,
            app_mode=isinstance(flux_spec.auth, flux.GitHubAppAuth),
            suffix=suffix,
        )
    elif automation is not None and _FLUX not in built:
        reader.invalid("image_automation", f"needs FluxGitCredentials, which {stack.name} does not build", fix="leave it out on this stack")

    cert_spec = None
    if _CERTMANAGER in built:
        email = _setting(reader, args, parts.ACME_EMAIL)
        if domain is not None and email is not None:
            wildcards = [f"*.pr.{domain}", f"*.pr-api.{domain}", f"*.pr-grafana.{domain}"] if stack.name == "preview-base" else []
            cert_args: certmanager.CertManagerDnsIssuerArgs = {"email": email, "domain": domain}
            if suffix:
                cert_args["issuer_name"] = certmanager.DEFAULT_ISSUER + suffix
                cert_args["secret_name"] = certmanager.DEFAULT_SECRET_NAME + suffix
            gateway = _setting(reader, args, parts.GATEWAY_NAMESPACE) if "CertManagerDnsIssuer.wildcards" in selection.names() else None
            if wildcards and gateway is not None:
                # A Gateway listener's certificateRefs resolve in the Gateway's own namespace unless a ReferenceGrant
                # allows another (Gateway API, GatewayTLSConfig.certificateRefs): the certificates' Secrets go there.
                cert_args["wildcard_hosts"] = wildcards
                cert_args["certificate_namespace"] = gateway
            with reader.naming(
                {
                    "email": _given_as(reader, args, parts.ACME_EMAIL),
                    "domain": _given_as(reader, args, parts.DOMAIN),
                    "wildcard_hosts": _given_as(reader, args, parts.DOMAIN),  # made from the domain
                    "certificate_namespace": _given_as(reader, args, parts.GATEWAY_NAMESPACE),
                }
            ):
                cert_spec = certmanager.resolve(cert_args, reader)

    grafana_spec = None
    if _GRAFANA in built and domain is not None and app_namespace is not None:
        grafana_args: grafana.GrafanaOAuthArgs = {
            "namespace": app_namespace if stack.is_pr else args.get("grafana_namespace", "monitoring"),
            "domain": domain,
        }
        if stack.pr_number is not None:
            grafana_args["pr_number"] = stack.pr_number
        labels = {"domain": _given_as(reader, args, parts.DOMAIN)}
        if args.get("grafana_namespace") is not None and not stack.is_pr:
            labels["namespace"] = reader.label("grafana_namespace")
        with reader.naming(labels):
            grafana_spec = grafana.resolve(grafana_args, reader)

    if reader.problems:
        return None
    return ChainSpec(stack, app_namespace, ghcr_spec, prom_spec, github_spec, flux_spec, images_spec, cert_spec, grafana_spec, cluster)


def ambient_kubeconfig(config: Mapping[str, str], environ: Mapping[str, str], home: str) -> str | None:
    """Where the default Kubernetes provider finds a cluster when the chain has no cluster setting, or None.

    pulumi-kubernetes reads ``kubernetes:kubeconfig`` when set, and otherwise client-go's default loading rules
    (provider/pkg/provider/provider.go ``Configure``: ``clientcmd.NewDefaultClientConfigLoadingRules``, deferred loading):
    the files listed in ``KUBECONFIG`` (``os.pathsep``-separated; missing ones are skipped), else ``~/.kube/config``, and
    with neither, the in-cluster config of a pod (``KUBERNETES_SERVICE_HOST``, ``_PORT`` and its service account token). Finding nothing, it marks
    the cluster unreachable and fails every create, read and delete ("configured Kubernetes cluster is unreachable").
    """
    import os.path

    if config.get("kubernetes:kubeconfig"):
        return "kubernetes:kubeconfig"
    listed = [p for p in environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    if listed:
        found = [p for p in listed if os.path.isfile(p)]
        return f"KUBECONFIG ({found[0]})" if found else None
    default = os.path.join(home, ".kube", "config")
    if os.path.isfile(default):
        return default
    in_cluster = environ.get("KUBERNETES_SERVICE_HOST") and environ.get("KUBERNETES_SERVICE_PORT")
    if in_cluster and os.path.isfile("/var/run/secrets/kubernetes.io/serviceaccount/token"):  # client-go rest.InClusterConfig
        return "the pod's in-cluster config"
    return None


KUBECONFIG_EXPIRY_SECONDS = 3600
"""How long the kubeconfig fetched for :meth:`SecretChain._cluster_provider` stays valid: one hour, longer than any run
(DigitalOcean API, "Retrieve the kubeconfig for a Kubernetes Cluster": ``expiry_seconds``, 7 days when unset or 0).
Every run fetches a new one; the copy in state is dead an hour later."""

# Read-only default: the schema analyzer of the component provider host accepts no `| None` on args.
_NO_ARGS = SecretChainArgs()


class SecretChain(ChainComponent[ChainSpec]):
    """The whole secret chain of one stack: the parts it declares, as :mod:`secret_chain.parts` lays down per stack kind.

    A stack declares its parts in ``secret-chain:parts``; where nothing is declared, every part whose config is present.

    All config is validated first; one :class:`~secret_chain.errors.ConfigError` lists every problem
    and nothing is registered. PR stacks (``preview-pr-<N>``) work only inside their own namespace.
    """

    app_namespace: pulumi.Output[str] | None
    """The namespace the application runs in (None on preview-base, which runs no application)."""
    parts: pulumi.Output[list[str]]
    """Names of the components built, in order."""
    grafana_callback_url: pulumi.Output[str] | None
    """The GitHub OAuth callback URL to register for Grafana (None when Grafana is not built)."""
    rollout_annotations: pulumi.Output[dict[str, dict[str, str]]]
    """Per part whose Secret is read at start-up (PrometheusAuth, GrafanaOAuth): the pod-template
    annotations that roll its consumer when a value changes (HMACs, not secret)."""

    def __init__(self, name: str, args: SecretChainArgs = _NO_ARGS, opts: pulumi.ResourceOptions | None = None) -> None:
        from secret_chain.config import check_args, esc_environment, gated

        stack_name = args.get("stack") if isinstance(args, Mapping) else None
        try:
            environment_stack = parse_stack(stack_name).name if isinstance(stack_name, str) else pulumi.get_stack()
        except Invalid:
            environment_stack = pulumi.get_stack()
        reader = ConfigReader("SecretChain", esc_environment(environment_stack))
        # Unknown (mistyped) argument keys and args that are no mapping: one ConfigError, as every component's.
        spec = resolve(args, reader) if check_args(reader, args, SecretChainArgs) else None
        if spec is not None and spec.cluster is None and spec.builds_secrets:
            require_mutable_secrets(reader, opts)  # the DigitalOcean cluster's provider sets it itself
        reader.done()
        assert spec is not None
        # Registered only once every argument given as another resource's output is checked (config.gated): a bad
        # one then fails the chain's registration, and no part of it is registered.
        super().__init__("secret-chain:index:SecretChain", name, None, gated(spec, opts))
        providers = [self._cluster_provider(name, spec.cluster)] if spec.cluster is not None else None
        kube_opts = pulumi.ResourceOptions(parent=self, providers=providers)
        if spec.stack.is_pr:
            # The PR stack owns its namespace, so `pulumi destroy` removes it and everything in it.
            from pulumi_kubernetes.core.v1 import Namespace

            from secret_chain import kube

            namespace = Namespace(
                f"{name}-namespace",
                metadata={"name": spec.app_namespace, "labels": kube.labels("preview", {"secret-chain/pr": str(spec.stack.pr_number)})},
                opts=kube_opts,
            )
            kube_opts = pulumi.ResourceOptions(parent=self, providers=providers, depends_on=[namespace])
        parts: list[str] = []
        rollouts: dict[str, pulumi.Output[dict[str, str]]] = {}
        # One rollout key per stack: with none configured, the chain generates one and both parts use it, so
        # adding or dropping a part later neither changes nor replaces the key of the other.
        shared_key: pulumi.Output[str] | None = None
        if any(s is not None and s.rollout_key is None for s in (spec.prometheus, spec.grafana)):
            from secret_chain import kube

            shared_key = kube.generated_rollout_key(f"{name}-rollout-key", self)
        if spec.ghcr is not None:
            ghcr.GhcrPullSecret.from_spec(f"{name}-ghcr", spec.ghcr, kube_opts)
            parts.append("GhcrPullSecret")
        if spec.prometheus is not None:
            metrics = prometheus.PrometheusAuth.from_spec(f"{name}-prometheus", spec.prometheus, kube_opts, rollout_key=shared_key)
            rollouts["PrometheusAuth"] = metrics.rollout_annotations
            parts.append("PrometheusAuth")
        if spec.flux is not None:
            credentials = flux.FluxGitCredentials.from_spec(f"{name}-flux", spec.flux, kube_opts)
            parts.append("FluxGitCredentials")
            if spec.flux_images is not None:
                # After the credentials: its ImageUpdateAutomation pushes with the GitRepository's Secret.
                images_opts = pulumi.ResourceOptions.merge(kube_opts, pulumi.ResourceOptions(depends_on=[credentials]))
                flux_images.FluxImageAutomation.from_spec(f"{name}-flux-images", spec.flux_images, images_opts)
                parts.append("FluxImageAutomation")
        if spec.certmanager is not None:
            certmanager.CertManagerDnsIssuer.from_spec(f"{name}-certmanager", spec.certmanager, kube_opts)
            parts.append("CertManagerDnsIssuer")
        self.grafana_callback_url: pulumi.Output[str] | None = None
        if spec.grafana is not None:
            dashboard = grafana.GrafanaOAuth.from_spec(f"{name}-grafana", spec.grafana, kube_opts, rollout_key=shared_key)
            self.grafana_callback_url = dashboard.callback_url
            rollouts["GrafanaOAuth"] = dashboard.rollout_annotations
            parts.append("GrafanaOAuth")
        if spec.github is not None:
            github_actions.GitHubActionsSecrets.from_spec(f"{name}-github", spec.github, pulumi.ResourceOptions(parent=self))
            parts.append("GitHubActionsSecrets")
        self.app_namespace = None if spec.app_namespace is None else pulumi.Output.from_input(spec.app_namespace)
        self.parts = pulumi.Output.from_input(parts)
        # Each part's annotations are already plain (HMACs); collected, they stay so.
        collected: pulumi.Output[dict[str, dict[str, str]]] = pulumi.Output.all(**rollouts).apply(dict) if rollouts else pulumi.Output.from_input({})
        self.rollout_annotations = pulumi.Output.unsecret(collected)
        self.register_outputs(
            {
                "app_namespace": self.app_namespace,
                "parts": self.parts,
                "grafana_callback_url": self.grafana_callback_url,
                "rollout_annotations": self.rollout_annotations,
            }
        )

    def _cluster_provider(self, name: str, cluster: str) -> pulumi.ProviderResource:
        """A Kubernetes provider for a DigitalOcean cluster, with a kubeconfig fetched on this run.

        pulumi-digitalocean's ``getKubernetesCluster`` (the provider's default instance, so ``digitalocean:token`` of the
        stack's ESC environment) lists the team's clusters, picks the one of this name and, having no stored credentials,
        asks for new ones (terraform-provider-digitalocean ``dataSourceDigitalOceanKubernetesClusterRead`` →
        ``digitaloceanKubernetesClusterRead``: ``GetCredentials`` with ``kubeconfig_expire_seconds``). The kubeconfig is a
        secret Output, so state holds it encrypted; it expires after :data:`KUBECONFIG_EXPIRY_SECONDS`, and
        ``pulumi destroy``/``refresh`` must run the program (``--run-program``) to configure the provider with a fresh one
        instead of the one stored in state (pulumi/pulumi ``pkg/cmd/pulumi/operations/destroy.go``, #19044).
        """
        import pulumi_digitalocean as digitalocean

        from secret_chain import kube

        found = digitalocean.get_kubernetes_cluster_output(
            name=cluster, kubeconfig_expire_seconds=KUBECONFIG_EXPIRY_SECONDS, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        kubeconfig = found.kube_configs.apply(lambda configs: configs[0].raw_config)
        # enable_secret_mutable: a rotated value updates each Secret in place (see kube.secret).
        # cluster_identifier: each run's kubeconfig carries a new token, an update of the provider; without the identifier
        # pulumi-kubernetes would plan a replacement of the provider (and of every object it manages) whenever the
        # kubeconfig's active cluster entry changes; with it, only when the identifier does (provider.go DiffConfig).
        # The cluster's ID, not its name: a cluster re-created under the same name is another cluster.
        return kube.mutable_secrets_provider(
            f"{name}-cluster",
            kubeconfig=pulumi.Output.secret(kubeconfig),
            cluster_identifier=found.id,
            opts=pulumi.ResourceOptions(parent=self),
        )
