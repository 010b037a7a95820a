"""Promise 6, least privilege: each Secret lives only where it is read, and a PR stack stays in its namespace.

The stack programs run on the mock runtime (update and preview) for production, preview-base and
preview-pr-<N>, with the example configs of ``examples/config/`` and Flux in GitHub App and in token mode.
From each evaluation:

* every registered ``v1`` Secret is in the one namespace its reader uses, derived here from the
  component args and the documented defaults (never read back from the components): a registered
  object that references it by name (ServiceMonitor credentials, the ClusterIssuer's DNS-01 token in
  cert-manager's cluster-resource namespace, the GitRepository's secretRef, a ServiceAccount's
  imagePullSecrets, a pod template's envFrom…) or, for the Secrets an app reads (the pull secret, the
  app's Prometheus token, Grafana's ``GF_*`` Secret), the namespace the args named. Any other Secret, a
  missing one, or a reference to a Secret that is not there fails;
* a PR stack registers no cluster-scoped object but its Namespace ``preview-pr-<N>``, writes every
  namespaced object into that namespace, and writes no GitHub secret or variable and no Flux object;
* no stack points a cluster-scoped object at a ``preview-pr-*`` namespace or writes into one it does not own;
* the policy pack's ``pr-stack-confined-to-its-namespace`` agrees.

The checks are shown to fail on hand-built registrations and on throwaway programs that break each rule.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import pytest

from secret_chain import catalog, parts
from secret_chain.chain import SecretChainArgs
from secret_chain.errors import ConfigError
from secret_chain.ops import runbook
from secret_chain.ops.offline import Evaluation, Registration, load_config_file, unwrap
from tests import policies
from tests.runtime import evaluate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "config"
PR_STACK = "preview-pr-42"
PR_NAMESPACE = re.compile(r"preview-pr-[1-9][0-9]{0,8}")
SECRET = "kubernetes:core/v1:Secret"
FLUX_APP_KEYS = ("flux:githubAppId", "flux:githubAppInstallationId", "flux:githubAppPrivateKey")
FLUX_TOKEN = "github_pat_FAKE_flux_example_token_not_real_000000000000000000000000000000000000000000000"
DEFAULT_CLUSTER_RESOURCE_NAMESPACE = "cert-manager"


P = policies.load()


# --- configs and evaluations ------------------------------------------------------------------------


def example_config(stack: str, flux: str) -> tuple[dict[str, str], list[str]]:
    """The example config of the stack's environment, Flux in ``app`` (as shipped) or ``token`` mode."""
    config, secret_keys = load_config_file(EXAMPLES / ("production.json" if stack == "production" else "preview.json"))
    if flux == "token":
        for key in FLUX_APP_KEYS:
            config.pop(key)
        secret_keys = [k for k in secret_keys if k not in FLUX_APP_KEYS]
        config["flux:githubToken"] = FLUX_TOKEN
        secret_keys.append("flux:githubToken")
    return config, secret_keys


def chain_program(args: SecretChainArgs | None = None) -> Callable[[], None]:
    def program() -> None:
        from secret_chain import SecretChain

        SecretChain("secret-chain", args or SecretChainArgs())

    return program


@cache
def chain_evaluation(stack: str, flux: str, preview: bool) -> Evaluation:
    config, secret_keys = example_config(stack, flux)
    return evaluate(chain_program(), config=config, secret_keys=secret_keys, stack=stack, preview=preview)


STACKS = ("production", "preview-base", PR_STACK)
FLUX_MODES = ("app", "token")
MODES = (False, True)
EVALUATIONS = [(s, f, p) for s in STACKS for f in FLUX_MODES for p in MODES]
EVALUATION_IDS = [f"{s}-flux-{f}-{'preview' if p else 'update'}" for s, f, p in EVALUATIONS]


# --- what each registered object is and what it reads ------------------------------------------------


def kind_of(reg: Registration, obj: Mapping[str, Any]) -> str:
    """The Kubernetes kind: the ``kind`` input, else the type token's (``*Patch`` types give their kind)."""
    kind = obj.get("kind") if isinstance(obj.get("kind"), str) else reg.type.rsplit(":", 1)[-1]
    return str(kind).removesuffix("Patch") or str(kind)


def kubernetes_objects(ev: Evaluation) -> Iterator[tuple[Registration, dict[str, Any], str]]:
    for reg in ev.resources:
        if reg.type.startswith("kubernetes:"):
            obj = unwrap(reg.inputs)
            yield reg, obj, kind_of(reg, obj)


def registered_secrets(ev: Evaluation) -> dict[tuple[str, str], Registration]:
    """(namespace, name) → registration of every v1 Secret."""
    out = {}
    for reg, obj, _ in kubernetes_objects(ev):
        if reg.type == SECRET:
            metadata = obj["metadata"]
            out[(metadata.get("namespace") or "", metadata["name"])] = reg
    return out


def _dig(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def _names(items: Any, *path: str) -> list[str]:
    """``item[path]`` of each item of a list, where present."""
    found = [_dig(item, *path) for item in items] if isinstance(items, list) else []
    return [n for n in found if isinstance(n, str)]


def issuer_secret_refs(spec: Any) -> Iterator[str]:
    """Names of the Secrets a cert-manager (Cluster)Issuer reads: every ``*SecretRef`` but the ACME account key it writes."""
    if isinstance(spec, Mapping):
        for key, value in spec.items():
            if key.endswith("SecretRef") and key != "privateKeySecretRef" and isinstance(_dig(value, "name"), str):
                yield value["name"]
            else:
                yield from issuer_secret_refs(value)
    elif isinstance(spec, list):
        for item in spec:
            yield from issuer_secret_refs(item)


FLUX_SOURCE_KINDS = {"GitRepository", "HelmRepository", "OCIRepository", "Bucket", "ImageRepository"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


def _pod_spec_refs(pod: Any) -> list[str]:
    names = _names(_dig(pod, "imagePullSecrets"), "name") + _names(_dig(pod, "volumes"), "secret", "secretName")
    for container in (_dig(pod, "containers") or []) + (_dig(pod, "initContainers") or []):
        names += _names(_dig(container, "envFrom"), "secretRef", "name")
        names += _names(_dig(container, "env"), "valueFrom", "secretKeyRef", "name")
    return names


@dataclass(frozen=True)
class Ref:
    """A registered object that reads a Secret by name, and where the reader looks it up."""

    namespace: str
    name: str
    kind: str
    by: str


def secret_references(ev: Evaluation, cluster_resource_namespace: str = DEFAULT_CLUSTER_RESOURCE_NAMESPACE) -> list[Ref]:
    """Every Secret reference of the registered objects, resolved in the namespace its controller uses."""
    refs: list[Ref] = []
    for _, obj, kind in kubernetes_objects(ev):
        metadata = obj.get("metadata") or {}
        namespace = metadata.get("namespace") or ""
        spec = obj.get("spec") or {}
        names: list[str] = []
        if kind in P.MONITOR_KINDS:
            for endpoint in spec.get(P.MONITOR_KINDS[kind]) or []:
                names += [n for path in P.SECRET_REFS if isinstance(n := _dig(endpoint, *path, "name"), str)]
        elif kind in ("ClusterIssuer", "Issuer"):
            names = list(issuer_secret_refs(spec))
            if kind == "ClusterIssuer":  # cert-manager resolves a ClusterIssuer's Secrets in its cluster-resource namespace
                namespace = cluster_resource_namespace
        elif kind in FLUX_SOURCE_KINDS:
            names = [n for n in (_dig(spec, "secretRef", "name"), _dig(spec, "verify", "secretRef", "name")) if isinstance(n, str)]
        elif kind == "ServiceAccount":
            names = _names(obj.get("imagePullSecrets"), "name") + _names(obj.get("secrets"), "name")
        elif kind in WORKLOAD_KINDS:
            names = _pod_spec_refs(_dig(spec, "template", "spec"))
        elif kind == "Pod":
            names = _pod_spec_refs(spec)
        by = f"{kind} {metadata.get('namespace') + '/' if metadata.get('namespace') else ''}{metadata.get('name')}"
        refs += [Ref(namespace, name, kind, by) for name in names]
    return refs


# --- where each Secret must be, derived from the args -----------------------------------------------


@dataclass(frozen=True)
class Expected:
    """A Secret the stack must register, and who reads it."""

    key: str
    """The catalog key of its value; the catalog's consumers must name ``reader``."""
    reader: str
    referenced_by: frozenset[str] = frozenset()
    """Kinds of registered objects that must reference it by name; empty when an app or the kubelet reads it
    (envFrom, imagePullSecrets of pods the stack does not create), which the namespace the args named covers."""


def chain_expectations(stack: str, config: Mapping[str, str], args: SecretChainArgs | None = None) -> dict[tuple[str, str], Expected]:
    """(namespace, name) → Expected, for SecretChain on ``stack`` with ``config`` and ``args`` (README defaults)."""
    args = args or SecretChainArgs()
    pr = PR_NAMESPACE.fullmatch(stack) is not None

    def present(*keys: str) -> bool:
        # a field (namespace:imagePullSecret.token) arrives inside its object key when read from a CLI config file
        return any(k in config or (k in catalog.BY_KEY and catalog.get(k).config_key in config) for k in keys)

    # Which parts this stack builds is the table's answer (components/secret_chain/parts.py), as the chain's.
    built = parts.select(parts.kind_of(stack), config.get, parts.declared_parts(config.get)).names()

    app = stack if pr else args.get("app_namespace") or config.get("secret-chain:appNamespace") or "default"
    out: dict[tuple[str, str], Expected] = {}
    if "GhcrPullSecret" in built:
        pull = [stack] if pr else args.get("image_pull_namespaces") or [app]
        for namespace in pull:
            out[(namespace, "ghcr-pull-secret")] = Expected("namespace:imagePullSecret.token", "kubelet")
    if "PrometheusAuth" in built:
        # the app's Secret, and the ServiceMonitor's own copy (its own Secret even in the app namespace: it keeps
        # the old token during a rotation while the app's already holds the new one)
        monitor = app if pr else args.get("monitor_namespace", "monitoring")
        out[(app, "prometheus-auth")] = Expected("prometheus:authToken", "the app")
        out[(monitor, f"{app}-prometheus-auth")] = Expected("prometheus:authToken", "Prometheus", frozenset({"ServiceMonitor"}))
    # preview-base names its shared objects apart from production's (both may run on one cluster)
    suffix = "-preview" if stack == "preview-base" else ""
    if "FluxGitCredentials" in built:
        key = "flux:githubToken" if present("flux:githubToken") else "flux:githubAppPrivateKey"
        out[("flux-system", "github-token" + suffix)] = Expected(key, "source-controller", frozenset({"GitRepository"}))
    if "CertManagerDnsIssuer" in built:
        out[(DEFAULT_CLUSTER_RESOURCE_NAMESPACE, "digitalocean-dns" + suffix)] = Expected(
            "gateway:digitaloceanDnsToken", "cert-manager", frozenset({"ClusterIssuer"})
        )
    if "GrafanaOAuth" in built:
        grafana = stack if pr else args.get("grafana_namespace", "monitoring")
        out[(grafana, "grafana-oauth")] = Expected("grafana:githubClientSecret", "Grafana")
    return out


# --- the checks --------------------------------------------------------------------------------------


def placement_problems(
    ev: Evaluation, expected: Mapping[tuple[str, str], Expected], cluster_resource_namespace: str = DEFAULT_CLUSTER_RESOURCE_NAMESPACE
) -> list[str]:
    """Every Secret registered where no reader expects it, missing, or unreferenced; every reference to a missing Secret."""
    secrets = registered_secrets(ev)
    refs = secret_references(ev, cluster_resource_namespace)
    referenced: dict[tuple[str, str], set[str]] = {}
    for ref in refs:
        referenced.setdefault((ref.namespace, ref.name), set()).add(ref.kind)
    problems = []
    for namespace, name in sorted(secrets.keys() - expected.keys()):
        elsewhere = sorted(ns for ns, n in expected if n == name)
        hint = f" (its reader looks in {', '.join(elsewhere)})" if elsewhere else ""
        problems.append(f"Secret {namespace}/{name}: nothing reads it in namespace {namespace or '<none>'}{hint}")
    for namespace, name in sorted(expected.keys() - secrets.keys()):
        problems.append(f"Secret {namespace}/{name} (read by {expected[(namespace, name)].reader}) is not registered")
    for (namespace, name), want in sorted(expected.items()):
        if (namespace, name) in secrets:
            for kind in sorted(want.referenced_by - referenced.get((namespace, name), set())):
                problems.append(f"Secret {namespace}/{name} is not referenced by the stack's {kind}")
    for ref in refs:
        if (ref.namespace, ref.name) not in secrets:
            problems.append(f"{ref.by} reads Secret {ref.namespace}/{ref.name}, which the stack does not register there")
    return problems


def confinement_problems(ev: Evaluation) -> list[str]:
    """What a PR stack registers outside its namespace: cluster-scoped objects, other namespaces, GitHub, Flux."""
    own = ev.stack
    assert PR_NAMESPACE.fullmatch(own), own
    problems = []
    namespaces = []
    for reg in ev.resources:
        if reg.type.startswith(("github:", "digitalocean:")):
            problems.append(f"{reg.type} {reg.name}: written by PR stack {own} (outside Kubernetes, shared by every PR)")
    for _, obj, kind in kubernetes_objects(ev):
        metadata = obj.get("metadata") or {}
        where = f"{kind} {metadata.get('name')}"
        if str(obj.get("apiVersion", "")).split("/")[0].endswith(".toolkit.fluxcd.io"):
            problems.append(f"{where}: a Flux object written by PR stack {own}")
        if kind == "Namespace":
            namespaces.append(metadata.get("name"))
        elif not metadata.get("namespace"):
            problems.append(f"{where}: cluster-scoped (or default-namespace) object written by PR stack {own}")
        elif metadata["namespace"] != own:
            problems.append(f"{where}: written to namespace {metadata['namespace']} by PR stack {own}")
    if namespaces != [own]:
        problems.append(f"Namespaces {sorted(namespaces)}: PR stack {own} must register exactly its own Namespace")
    return problems


def _namespace_fields(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if key == "namespace" and isinstance(item, str):
                yield where, item
            else:
                yield from _namespace_fields(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _namespace_fields(item, f"{path}[{index}]")


def pr_namespace_problems(ev: Evaluation, cluster_resource_namespace: str = DEFAULT_CLUSTER_RESOURCE_NAMESPACE) -> list[str]:
    """Cluster-scoped objects that depend on a preview-pr-* namespace; objects written into a PR namespace by another stack."""
    own = ev.stack if PR_NAMESPACE.fullmatch(ev.stack) else None
    problems = []
    for _, obj, kind in kubernetes_objects(ev):
        metadata = obj.get("metadata") or {}
        name, namespace = metadata.get("name"), metadata.get("namespace")
        if kind == "Namespace":
            if own is None and isinstance(name, str) and PR_NAMESPACE.fullmatch(name):
                problems.append(f"Namespace {name}: created by stack {ev.stack}, not by its PR stack")
            continue
        if namespace:
            if PR_NAMESPACE.fullmatch(namespace) and namespace != own:
                problems.append(f"{kind} {namespace}/{name}: stack {ev.stack} writes into PR namespace {namespace}")
            continue
        if kind == "ClusterIssuer" and PR_NAMESPACE.fullmatch(cluster_resource_namespace) and any(issuer_secret_refs(obj.get("spec"))):
            problems.append(f"ClusterIssuer {name}: reads its Secrets from PR namespace {cluster_resource_namespace}")
        for where, value in _namespace_fields({k: v for k, v in obj.items() if k != "metadata"}):
            if PR_NAMESPACE.fullmatch(value):
                problems.append(f"cluster-scoped {kind} {name}: {where} names PR namespace {value}")
    return problems


@dataclass
class PolicyArgs:
    """What ResourceValidationArgs gives the policy: type, props, name, urn."""

    resource_type: str
    props: Any
    name: str
    urn: str
    provider: Any = None


def policy_violations(ev: Evaluation, validate: Any = None) -> list[str]:
    """The pack's pr-stack-confined-to-its-namespace policy (or ``validate``) over every resource, as the engine would run it."""
    found: list[str] = []
    for reg in ev.resources:
        args = PolicyArgs(reg.type, unwrap(reg.inputs), reg.name, reg.urn)
        (validate or P.validate_pr_stack_confinement)(args, lambda message, urn=None: found.append(message))
    return found


# --- the real stacks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("stack", "flux", "preview"), EVALUATIONS, ids=EVALUATION_IDS)
def test_every_secret_lives_only_where_it_is_read(stack: str, flux: str, preview: bool) -> None:
    ev = chain_evaluation(stack, flux, preview)
    config, _ = example_config(stack, flux)
    expected = chain_expectations(stack, config)
    assert placement_problems(ev, expected) == []
    assert len(registered_secrets(ev)) == len(expected) >= (2 if stack == "preview-base" else 3)
    for want in expected.values():
        assert want.reader in runbook.of(catalog.get(want.key)).consumers, (want.key, want.reader)


@pytest.mark.parametrize(("stack", "flux", "preview"), EVALUATIONS, ids=EVALUATION_IDS)
def test_nothing_cluster_wide_depends_on_a_pr_namespace(stack: str, flux: str, preview: bool) -> None:
    ev = chain_evaluation(stack, flux, preview)
    assert pr_namespace_problems(ev) == []
    assert policy_violations(ev) == []
    assert policy_violations(ev, P.validate_pr_stack_allow_list) == []


@pytest.mark.parametrize("flux", FLUX_MODES)
@pytest.mark.parametrize("preview", MODES, ids=["update", "preview"])
def test_pr_stack_writes_only_in_its_namespace(flux: str, preview: bool) -> None:
    ev = chain_evaluation(PR_STACK, flux, preview)
    assert confinement_problems(ev) == []
    kinds = [kind for _, _, kind in kubernetes_objects(ev)]
    assert set(kinds) == {"Namespace", "Secret", "ServiceMonitor"} and kinds.count("Namespace") == 1
    assert not [r for r in ev.resources if not r.type.startswith("kubernetes:")]


NON_DEFAULT: SecretChainArgs = {
    "app_namespace": "apps",
    "image_pull_namespaces": ["apps", "jobs"],
    "monitor_namespace": "observability",
    "grafana_namespace": "grafana",
}


@pytest.mark.parametrize("stack", ["production", "preview-base", "preview-pr-7"])
@pytest.mark.parametrize("preview", MODES, ids=["update", "preview"])
def test_secrets_follow_the_namespaces_the_args_name(stack: str, preview: bool) -> None:
    """Non-default namespaces move each Secret with its reader. A PR stack keeps to its own namespace, and preview-base
    runs no application: each refuses the namespace arguments it would ignore (issue 20: they used to be dropped without
    a word), and builds in its own places without them."""
    args = dict(NON_DEFAULT)
    config, secret_keys = example_config(stack, "app")
    if stack != "production":
        with pytest.raises(ConfigError) as refused:
            evaluate(chain_program(SecretChainArgs(**args)), config=config, secret_keys=secret_keys, stack=stack, preview=preview)  # type: ignore[typeddict-item]
        ignored = ["app_namespace", "monitor_namespace", "grafana_namespace"] + ([] if PR_NAMESPACE.fullmatch(stack) else ["image_pull_namespaces"])
        assert sorted(p.split('"')[1] for p in refused.value.problems if " is ignored on " in p) == sorted(ignored)
        args = {"image_pull_namespaces": [stack]} if PR_NAMESPACE.fullmatch(stack) else {}
    ev = evaluate(chain_program(SecretChainArgs(**args)), config=config, secret_keys=secret_keys, stack=stack, preview=preview)  # type: ignore[typeddict-item]
    expected = chain_expectations(stack, config, SecretChainArgs(**args))  # type: ignore[typeddict-item]
    assert placement_problems(ev, expected) == []
    namespaces = {ns for ns, _ in registered_secrets(ev)}
    if PR_NAMESPACE.fullmatch(stack):
        assert namespaces == {stack} and confinement_problems(ev) == []
    elif stack == "preview-base":  # no application there: only the shared objects
        assert namespaces == {"flux-system", "cert-manager"}
    else:
        assert {"apps", "observability"} <= namespaces and "default" not in namespaces and "monitoring" not in namespaces


def platform_program() -> None:
    """Every component on its own, with every reader registered too (pods, the Flux image scan, the SA patch)."""
    from pulumi_kubernetes.apps.v1 import Deployment

    from secret_chain import CertManagerDnsIssuer, FluxGitCredentials, GhcrPullSecret, GrafanaOAuth, PrometheusAuth

    GhcrPullSecret("pull", {"namespaces": ["apps", "flux-system"], "attach_to_default_service_account": True})
    PrometheusAuth("metrics", {"namespace": "apps", "monitor_namespace": "observability"})
    FluxGitCredentials(
        "flux",
        {
            "repository_url": "https://github.com/example-org/cluster",
            "image_automation": {
                "author_name": "Image Bot",
                "author_email": "images@example.org",
                "images": [{"image": "ghcr.io/example-org/api", "semver_range": "^1.0.0"}],
            },
        },
    )
    CertManagerDnsIssuer("tls", {"email": "ops@example.com", "domain": "example.com", "cluster_resource_namespace": "cert-manager-resources"})
    GrafanaOAuth("grafana", {"namespace": "grafana", "domain": "example.com"})
    for name, namespace, env_secret in (("api", "apps", "prometheus-auth"), ("grafana", "grafana", "grafana-oauth")):
        Deployment(
            name,
            metadata={"name": name, "namespace": namespace},
            spec={
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "containers": [{"name": name, "image": f"ghcr.io/example-org/{name}:1.0.0", "envFrom": [{"secretRef": {"name": env_secret}}]}]
                    },
                },
            },
        )


PLATFORM_EXPECTED = {
    ("apps", "ghcr-pull-secret"): Expected("namespace:imagePullSecret.token", "kubelet", frozenset({"ServiceAccount"})),
    ("flux-system", "ghcr-pull-secret"): Expected(
        "namespace:imagePullSecret.token", "image-reflector-controller", frozenset({"ServiceAccount", "ImageRepository"})
    ),
    ("apps", "prometheus-auth"): Expected("prometheus:authToken", "the app", frozenset({"Deployment"})),
    ("observability", "apps-prometheus-auth"): Expected("prometheus:authToken", "Prometheus", frozenset({"ServiceMonitor"})),
    ("flux-system", "github-token"): Expected("flux:githubAppPrivateKey", "source-controller", frozenset({"GitRepository"})),
    ("cert-manager-resources", "digitalocean-dns"): Expected("gateway:digitaloceanDnsToken", "cert-manager", frozenset({"ClusterIssuer"})),
    ("grafana", "grafana-oauth"): Expected("grafana:githubClientSecret", "Grafana", frozenset({"Deployment"})),
}


@pytest.mark.parametrize("preview", MODES, ids=["update", "preview"])
def test_every_secret_of_the_platform_has_a_registered_reader_in_its_namespace(preview: bool) -> None:
    config, secret_keys = example_config("production", "app")
    ev = evaluate(platform_program, config=config, secret_keys=secret_keys, preview=preview)
    assert placement_problems(ev, PLATFORM_EXPECTED, "cert-manager-resources") == []
    refs = {(r.namespace, r.name) for r in secret_references(ev, "cert-manager-resources")}
    assert refs == set(registered_secrets(ev)) == set(PLATFORM_EXPECTED)
    for want in PLATFORM_EXPECTED.values():
        assert want.reader in runbook.of(catalog.get(want.key)).consumers, (want.key, want.reader)


# --- the checks can fail: hand-built registrations --------------------------------------------------


def _edited(ev: Evaluation, match: Callable[[Registration], bool], edit: Callable[[dict[str, Any]], None]) -> Evaluation:
    """A copy of ``ev`` whose registrations matching ``match`` have their (unwrapped) inputs edited."""
    registrations = []
    hits = 0
    for reg in ev.registrations:
        if match(reg):
            inputs = unwrap(reg.inputs)
            edit(inputs)
            reg = dataclasses.replace(reg, inputs=inputs)
            hits += 1
        registrations.append(reg)
    assert hits == 1
    return dataclasses.replace(ev, registrations=registrations)


def _named(name: str, type_: str = SECRET) -> Callable[[Registration], bool]:
    return lambda reg: reg.type == type_ and unwrap(reg.inputs)["metadata"]["name"] == name


def test_a_secret_moved_away_from_its_reader_is_caught() -> None:
    ev = chain_evaluation("production", "app", False)
    moved = _edited(ev, _named("digitalocean-dns"), lambda obj: obj["metadata"].update(namespace="default"))
    assert placement_problems(moved, chain_expectations("production", example_config("production", "app")[0])) == [
        "Secret default/digitalocean-dns: nothing reads it in namespace default (its reader looks in cert-manager)",
        "Secret cert-manager/digitalocean-dns (read by cert-manager) is not registered",
        "ClusterIssuer letsencrypt-production reads Secret cert-manager/digitalocean-dns, which the stack does not register there",
    ]


def test_an_app_secret_outside_the_app_namespace_is_caught() -> None:
    ev = chain_evaluation("production", "token", True)
    moved = _edited(ev, _named("grafana-oauth"), lambda obj: obj["metadata"].update(namespace="default"))
    problems = placement_problems(moved, chain_expectations("production", example_config("production", "token")[0]))
    assert problems == [
        "Secret default/grafana-oauth: nothing reads it in namespace default (its reader looks in monitoring)",
        "Secret monitoring/grafana-oauth (read by Grafana) is not registered",
    ]


def test_a_reference_to_a_missing_secret_is_caught() -> None:
    ev = chain_evaluation("production", "app", False)

    def rename(obj: dict[str, Any]) -> None:
        obj["spec"]["endpoints"][0]["authorization"]["credentials"]["name"] = "prometheus-token"

    broken = _edited(ev, lambda reg: reg.type.endswith(":ServiceMonitor"), rename)
    assert placement_problems(broken, chain_expectations("production", example_config("production", "app")[0])) == [
        "Secret monitoring/default-prometheus-auth is not referenced by the stack's ServiceMonitor",
        "ServiceMonitor monitoring/default-api reads Secret monitoring/prometheus-token, which the stack does not register there",
    ]


def test_a_pr_stack_object_outside_its_namespace_is_caught_by_the_checks_and_the_policy() -> None:
    ev = chain_evaluation(PR_STACK, "app", False)
    escaped = _edited(ev, _named("prometheus-auth"), lambda obj: obj["metadata"].update(namespace="monitoring"))
    assert confinement_problems(escaped) == [f"Secret prometheus-auth: written to namespace monitoring by PR stack {PR_STACK}"]
    assert "Secret monitoring/prometheus-auth: nothing reads it in namespace monitoring (its reader looks in preview-pr-42)" in placement_problems(
        escaped, chain_expectations(PR_STACK, example_config(PR_STACK, "app")[0])
    )
    (violation,) = policy_violations(escaped)
    assert "Secret is written to namespace 'monitoring'; stack preview-pr-42 may write only" in violation


# --- the checks can fail: throwaway programs ---------------------------------------------------------


def test_a_stray_secret_is_caught() -> None:
    def program() -> None:
        from pulumi_kubernetes.core.v1 import Secret

        chain_program()()
        Secret("leftover", metadata={"name": "old-token", "namespace": "default"}, string_data={"token": "x"})

    config, secret_keys = example_config("production", "app")
    ev = evaluate(program, config=config, secret_keys=secret_keys)
    assert placement_problems(ev, chain_expectations("production", config)) == ["Secret default/old-token: nothing reads it in namespace default"]


def escaping_pr_program() -> None:
    """A PR stack that writes outside its namespace in every way the rules forbid."""
    from pulumi_kubernetes.core.v1 import Namespace, Secret

    from secret_chain import CertManagerDnsIssuer, FluxGitCredentials, GitHubActionsSecrets

    chain_program()()
    CertManagerDnsIssuer("tls", {"email": "ops@example.com", "domain": "example.com"})
    FluxGitCredentials("flux", {"repository_url": "https://github.com/example-org/cluster"})
    GitHubActionsSecrets("ci", {"repository": "example-org/platform"})
    Namespace("other", metadata={"name": "preview-pr-8"})
    Secret("shared", metadata={"name": "shared-token", "namespace": "default"}, string_data={"token": "x"})


@pytest.mark.parametrize("preview", MODES, ids=["update", "preview"])
def test_a_pr_stack_writing_outside_its_namespace_is_caught(preview: bool) -> None:
    config, secret_keys = example_config(PR_STACK, "app")
    ev = evaluate(escaping_pr_program, config=config, secret_keys=secret_keys, stack="preview-pr-7", preview=preview)
    problems = confinement_problems(ev)
    for fragment in (
        "Secret digitalocean-dns: written to namespace cert-manager",
        "ClusterIssuer letsencrypt-production: cluster-scoped (or default-namespace) object",
        "Secret github-token: written to namespace flux-system",
        "GitRepository secret-chain: a Flux object written by PR stack preview-pr-7",
        "GitRepository secret-chain: written to namespace flux-system",
        "github:index/actionsSecret:ActionsSecret ci-app-private-key: written by PR stack preview-pr-7",
        "github:index/actionsVariable:ActionsVariable ci-app-id: written by PR stack",
        "Secret shared-token: written to namespace default",
        "Namespaces ['preview-pr-7', 'preview-pr-8']: PR stack preview-pr-7 must register exactly its own Namespace",
    ):
        assert any(fragment in p for p in problems), (fragment, problems)
    assert "Namespace preview-pr-8: created by stack preview-pr-7" not in str(pr_namespace_problems(ev))  # the PR rule reports it
    violations = policy_violations(ev)
    allow_list = policy_violations(ev, P.validate_pr_stack_allow_list)
    escaped = [reg for reg in ev.resources if not _in_namespace(reg, "preview-pr-7")]
    # 3 Secrets, the ClusterIssuer, the GitRepository, the other Namespace, 1 Actions secret and 2 variables
    # (issue 14: CI logs in by OIDC for PULUMI_ORG and mints App tokens; no stored Pulumi or dispatch token)
    assert len(escaped) == 9
    for reg in escaped:
        assert any(f"{reg.type} {reg.name!r}" in v for v in violations + allow_list), reg.urn
    # the namespace rail stops the 6 Kubernetes objects; the allow-list (issue 20) everything not on it, GitHub included
    assert len(violations) == 6, violations
    assert sum("Namespace 'preview-pr-7', not 'preview-pr-8'" in v for v in violations) == 1
    assert sum(v.startswith("github:") and "may create only the types the chain creates there" in v for v in allow_list) == 3


def test_a_cluster_object_pointing_into_a_pr_namespace_is_caught() -> None:
    def program() -> None:
        # preview-base keeping the DNS token in a PR namespace, and granting a PR's ServiceAccount cluster rights. The
        # component refuses the PR namespace itself (tests/test_guard_rails_args.py); the same Secret written directly
        # is left to the policy.
        from pulumi_kubernetes.core.v1 import Secret
        from pulumi_kubernetes.rbac.v1 import ClusterRoleBinding

        from secret_chain import CertManagerDnsIssuer

        with pytest.raises(ConfigError, match="pull request's namespace"):
            CertManagerDnsIssuer("tls", {"email": "ops@example.com", "domain": "example.com", "cluster_resource_namespace": "preview-pr-7"})
        Secret(
            "dns-token",
            metadata={"name": "digitalocean-dns", "namespace": "preview-pr-7"},
            string_data=pulumi.Output.secret({"access-token": "x"}),
        )
        ClusterRoleBinding(
            "pr-admin",
            metadata={"name": "pr-7-admin"},
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            subjects=[{"kind": "ServiceAccount", "name": "default", "namespace": "preview-pr-7"}],
        )

    config, secret_keys = example_config("preview-base", "app")
    ev = evaluate(program, config=config, secret_keys=secret_keys, stack="preview-base")
    assert sorted(pr_namespace_problems(ev, "preview-pr-7")) == [
        "Secret preview-pr-7/digitalocean-dns: stack preview-base writes into PR namespace preview-pr-7",
        "cluster-scoped ClusterRoleBinding pr-7-admin: subjects[0].namespace names PR namespace preview-pr-7",
    ]
    violations = sorted(policy_violations(ev))
    # the policy cannot know cert-manager's cluster-resource namespace, so it catches the Secret, not the issuer
    assert len(violations) == 2
    assert "Secret is written to namespace 'preview-pr-7', which belongs to stack preview-pr-7" in violations[0]
    assert "cluster-scoped ClusterRoleBinding names namespace 'preview-pr-7' (subjects[0].namespace)" in violations[1]


# --- two ways SecretChain's args take a PR stack outside its namespace today -------------------------

HOLES: dict[str, SecretChainArgs] = {
    "image_pull_namespaces": {"image_pull_namespaces": ["default", "preview-pr-7"]},
    "stack": {"stack": "production"},
}


def _run_hole(args: SecretChainArgs, preview: bool = False) -> tuple[Evaluation, list[ConfigError]]:
    caught: list[ConfigError] = []

    def program() -> None:
        try:
            chain_program(args)()
        except ConfigError as err:
            caught.append(err)

    config, secret_keys = example_config(PR_STACK, "app")
    return evaluate(program, config=config, secret_keys=secret_keys, stack="preview-pr-7", preview=preview), caught


@pytest.mark.parametrize("hole", sorted(HOLES))
def test_secret_chain_args_cannot_take_a_pr_stack_outside_its_namespace(hole: str, preview: bool) -> None:
    ev, caught = _run_hole(HOLES[hole], preview=preview)
    assert [r.type for r in ev.registrations] == ["pulumi:pulumi:Stack"]
    (error,) = caught
    assert f'argument "{hole}"' in str(error) and "Fix:" in str(error)


def _in_namespace(reg: Registration, namespace: str) -> bool:
    """The object is the Namespace itself or is written into it."""
    metadata = unwrap(reg.inputs).get("metadata") or {}
    where = metadata.get("name") if reg.type.endswith(":Namespace") else metadata.get("namespace")
    return reg.type.startswith("kubernetes:") and where == namespace
