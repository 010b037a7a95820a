"""The doctor's Kubernetes links, end to end against a stand-in Kubernetes API server and a stand-in Prometheus.

Each test evaluates the stack program offline (as the checks do), loads what ``pulumi up`` and the controllers would
leave in a cluster into :class:`tests.kube_standin.KubeApiServer` (every answer validated against the Kubernetes
OpenAPI and the CRD schemas), breaks one link as it breaks in real life, and runs every check of
:data:`secret_chain.doctor.kubernetes.KUBERNETES_CHECKS` concurrently, as the runner does, through a kubeconfig that
names the stand-in. Every secret value of the config is a canary: no finding may hold any of them.

(``run_doctor`` is the one place that calls the checks directly; tests/test_doctor_integration.py runs them through
``secret-chain doctor`` with the GitHub, DigitalOcean and ESC stand-ins.)
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from secret_chain import catalog
from secret_chain.doctor import kubernetes as kube_doctor
from secret_chain.doctor.model import Context, Finding, Status
from secret_chain.kube import rollout_annotation_key
from secret_chain.ops import plan
from secret_chain.ops.offline import Evaluation, load_config_file
from tests import kube_standin as standin
from tests.canaries import make_canaries
from tests.leaks import find_in_text
from tests.schemas import SchemaError

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime.datetime(2026, 12, 6, 6, 0, tzinfo=datetime.UTC)
SOURCE_V1 = "source.toolkit.fluxcd.io/v1"
CERT_V1 = "cert-manager.io/v1"


# --- the stack, its config (canaries for every secret) and its cluster --------------------------------------------------


@dataclasses.dataclass
class Stack:
    name: str
    config: dict[str, str]
    secret_keys: list[str]
    evaluation: Evaluation

    def secrets(self) -> dict[str, str]:
        return {k: self.config[k] for k in self.secret_keys}


def canary_config(example: str, *, flux_token: bool = False, rollout_key: bool = True) -> tuple[dict[str, str], list[str]]:
    """An example config with every secret replaced by a canary, image automation on, and the Flux mode asked for."""
    canaries = make_canaries()
    config, secret_keys = load_config_file(ROOT / "examples" / "config" / example)
    for key in secret_keys:
        if key in canaries.values:
            config[key] = canaries.values[key].raw
    config["namespace:imagePullSecret"] = json.dumps({"username": "octo-bot", "token": canaries.values["namespace:imagePullSecret.token"].raw})
    config[catalog.IMAGE_AUTOMATION.key] = catalog.IMAGE_AUTOMATION.example
    if flux_token:
        for entry in catalog.FLUX_APP_KEYS:
            config.pop(entry.key)
        config[catalog.FLUX_GITHUB_TOKEN.key] = canaries.values[catalog.FLUX_GITHUB_TOKEN.key].raw
    if not rollout_key:
        config.pop(catalog.ROLLOUT_KEY.key)
    return config, [k for k in config if ((e := catalog.BY_KEY.get(k)) is not None and e.secret) or k in secret_keys]


def make_stack(name: str, example: str, **options: bool) -> Stack:
    config, secret_keys = canary_config(example, **options)
    return Stack(name, config, secret_keys, plan.evaluate_stack(config, secret_keys, name))


@pytest.fixture(scope="module")
def production() -> Stack:
    return make_stack("production", "production.json")


@pytest.fixture(scope="module")
def preview_base() -> Stack:
    return make_stack("preview-base", "preview.json")


def cluster(stack: Stack) -> list[dict[str, Any]]:
    """What the cluster holds once ``pulumi up`` of ``stack`` ran and every controller reconciled it."""
    return standin.live_objects(stack.evaluation, NOW) + standin.consumers(stack.evaluation, NOW)


def targets_up() -> list[dict[str, Any]]:
    return [standin.target("serviceMonitor/monitoring/default-api/0", f"10.244.0.{i}:8080", now=NOW) for i in (7, 8)]


@dataclasses.dataclass
class Env:
    api: standin.KubeApiServer
    prometheus: standin.PrometheusServer
    kubeconfig: Path


@pytest.fixture
def env(production: Stack, tmp_path: Path) -> Iterator[Env]:
    with standin.KubeApiServer(cluster(production)) as api, standin.PrometheusServer(targets_up()) as prometheus:
        yield Env(api, prometheus, standin.write_kubeconfig(tmp_path / "kubeconfig", api.url))


def context(stack: Stack, env: Env | None, **fields: Any) -> Context:
    base: dict[str, Any] = {"timeout": 10.0}  # generous: the machine is shared; the hanging-server test sets its own
    if env is not None:
        base.update(kubeconfig=str(env.kubeconfig), prometheus_url=env.prometheus.url)
    return Context(stack=stack.name, kind=stack.name, config=dict(stack.config), now=NOW, **{**base, **fields})


def run_doctor(ctx: Context, stack: Stack) -> list[Finding]:
    """Every Kubernetes check, concurrently with a bound (as the runner does); asserts no finding holds a secret value."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        findings = [f for result in pool.map(lambda check: check(ctx), kube_doctor.KUBERNETES_CHECKS) for f in result]
    text = "\n".join(repr(dataclasses.asdict(f)) for f in findings)
    assert find_in_text(text, stack.secrets(), "findings") == []
    return findings


def by_link(findings: list[Finding]) -> dict[str, Finding]:
    out = {f.link: f for f in findings}
    assert len(out) == len(findings), "two findings for one link"
    return out


def not_ok(findings: list[Finding]) -> dict[str, Finding]:
    return {f.link: f for f in findings if f.status is not Status.OK}


PRODUCTION_LINKS = {
    "kubernetes.secret/cert-manager/digitalocean-dns",
    "kubernetes.secret/flux-system/github-token",
    "kubernetes.secret/flux-system/ghcr-pull-secret",
    "kubernetes.secret/default/ghcr-pull-secret",
    "kubernetes.secret/default/prometheus-auth",
    "kubernetes.secret/monitoring/default-prometheus-auth",
    "kubernetes.secret/monitoring/grafana-oauth",
    "kubernetes.rollout/default/Deployment/api",
    "kubernetes.rollout/monitoring/Deployment/grafana",
    "kubernetes.gitrepository/flux-system/secret-chain",
    "kubernetes.imagerepository/flux-system/api",
    "kubernetes.clusterissuer/letsencrypt-production",
    "kubernetes.servicemonitor/monitoring/default-api",
}


# --- all well ------------------------------------------------------------------------------------------------------------


def test_every_link_of_a_healthy_production_cluster_is_ok(production: Stack, env: Env) -> None:
    findings = by_link(run_doctor(context(production, env), production))
    assert set(findings) == PRODUCTION_LINKS
    assert not_ok(list(findings.values())) == {}
    assert findings["kubernetes.secret/flux-system/github-token"].checked == (
        "Secret flux-system/github-token: exists with exactly the keys githubAppID, githubAppInstallationID, githubAppPrivateKey"
    )
    assert findings["kubernetes.rollout/default/Deployment/api"].facts["pods"] == "2"
    assert findings["kubernetes.servicemonitor/monitoring/default-api"].facts["targets"] == "2"
    assert all(f.source.startswith("https://") for f in findings.values())


def test_preview_base_certificates_report_their_not_after(preview_base: Stack, tmp_path: Path) -> None:
    with standin.KubeApiServer(cluster(preview_base)) as api:
        ctx = context(preview_base, None, kubeconfig=str(standin.write_kubeconfig(tmp_path / "kc", api.url)))
        findings = by_link(run_doctor(ctx, preview_base))
    certificates = {link: f for link, f in findings.items() if link.startswith("kubernetes.certificate/")}
    assert set(certificates) == {
        "kubernetes.certificate/gateway/wildcard-pr-example-com",
        "kubernetes.certificate/gateway/wildcard-pr--api-example-com",
        "kubernetes.certificate/gateway/wildcard-pr--grafana-example-com",
    }
    assert not_ok(list(findings.values())) == {}
    assert {f.expires for f in certificates.values()} == {NOW - datetime.timedelta(days=20) + datetime.timedelta(days=90)}


def test_a_stack_that_owns_no_kubernetes_object_needs_no_cluster() -> None:
    config, secret_keys = load_config_file(ROOT / "examples" / "config" / "production.json")
    bootstrap = Stack("bootstrap", config, secret_keys, plan.evaluate_stack(config, secret_keys, "bootstrap"))
    assert run_doctor(context(bootstrap, None, environ={}), bootstrap) == []


# --- Secrets -----------------------------------------------------------------------------------------------------------------


def test_a_secret_missing_a_key_fails_naming_the_key(production: Stack, env: Env) -> None:
    secret = env.api.get("v1", "Secret", "flux-system", "github-token")
    del secret["data"]["githubAppPrivateKey"]
    env.api.put(secret)
    bad = not_ok(run_doctor(context(production, env), production))
    assert set(bad) == {"kubernetes.secret/flux-system/github-token"}
    finding = bad["kubernetes.secret/flux-system/github-token"]
    assert finding.status is Status.FAIL
    assert finding.checked == "Secret flux-system/github-token: keys differ (missing githubAppPrivateKey)"
    assert finding.facts["missing"] == "githubAppPrivateKey"
    assert "GitRepository not ready" in finding.symptom  # the runbook's symptom of the Flux App keys
    assert finding.fix == "pulumi up --stack production"


def test_a_secret_with_a_key_too_many_fails(production: Stack, env: Env) -> None:
    secret = env.api.get("v1", "Secret", "default", "prometheus-auth")
    secret["data"]["STALE"] = "eA=="
    env.api.put(secret)
    finding = not_ok(run_doctor(context(production, env), production))["kubernetes.secret/default/prometheus-auth"]
    assert finding.status is Status.FAIL and finding.facts["unexpected"] == "STALE"
    assert finding.key == "prometheus:authToken"


def test_a_missing_secret_fails(production: Stack, env: Env) -> None:
    env.api.delete("v1", "Secret", "cert-manager", "digitalocean-dns")
    finding = not_ok(run_doctor(context(production, env), production))["kubernetes.secret/cert-manager/digitalocean-dns"]
    assert (finding.status, finding.checked, finding.key) == (
        Status.FAIL,
        "Secret cert-manager/digitalocean-dns: not found",
        "gateway:digitaloceanDnsToken",
    )


def rotated(stack: Stack, key: str = "prometheus:authToken") -> Stack:
    """``stack`` after its ``key`` was rotated in ESC (a new canary), evaluated again."""
    config = dict(stack.config)
    config[key] = make_canaries().values[key].raw
    return Stack(stack.name, config, stack.secret_keys, plan.evaluate_stack(config, stack.secret_keys, stack.name))


def test_a_secret_missing_fails_its_rollout_link_too(production: Stack, env: Env) -> None:
    env.api.delete("v1", "Secret", "default", "prometheus-auth")
    bad = not_ok(run_doctor(context(production, env), production))
    assert set(bad) == {"kubernetes.secret/default/prometheus-auth", "kubernetes.rollout/default/prometheus-auth"}
    assert bad["kubernetes.rollout/default/prometheus-auth"].checked.startswith("Secret default/prometheus-auth: not found")


def test_a_secret_behind_its_config_warns_without_showing_either_value(production: Stack, env: Env) -> None:
    after = rotated(production)  # the value changed in ESC, pulumi up has not run
    findings = run_doctor(context(after, env), after)
    bad = not_ok(findings)
    assert set(bad) == {"kubernetes.secret/default/prometheus-auth", "kubernetes.secret/monitoring/default-prometheus-auth"}
    assert all(f.status is Status.WARN and "content differs" in f.checked and f.fix == "pulumi up --stack production" for f in bad.values())
    assert find_in_text(repr(findings), production.secrets(), "findings") == []  # the old value is not there either


# --- rollouts ----------------------------------------------------------------------------------------------------------------


def up(env: Env, stack: Stack, *, kinds: tuple[str, ...] = ("Secret",)) -> None:
    """Write what ``pulumi up`` of ``stack`` changes (the Secrets) into the stand-in; workloads stay as they were."""
    for obj in standin.live_objects(stack.evaluation, NOW):
        if obj["kind"] in kinds:
            env.api.put(obj)


def test_pods_not_restarted_after_a_rotation_fail(production: Stack, env: Env) -> None:
    after = rotated(production)
    up(env, after)  # pulumi up wrote the new token; the app was not redeployed with the new rolloutAnnotations
    bad = not_ok(run_doctor(context(after, env), after))
    assert set(bad) == {"kubernetes.rollout/default/Deployment/api"}  # Grafana's Secret did not change
    finding = bad["kubernetes.rollout/default/Deployment/api"]
    assert finding.status is Status.FAIL
    assert "not restarted after the last rotation" in finding.symptom
    assert finding.key == "prometheus:authToken"
    assert "pulumi stack output rolloutAnnotations --stack production" in finding.fix
    assert finding.facts["annotation"] == rollout_annotation_key("prometheus-auth")


def test_a_rollout_whose_pods_still_run_the_old_template_fails(production: Stack, env: Env) -> None:
    after = rotated(production)
    up(env, after)
    new = (after.evaluation.stack_outputs["rolloutAnnotations"])["PrometheusAuth"]
    old = production.evaluation.stack_outputs["rolloutAnnotations"]["PrometheusAuth"]
    for obj in standin.workload("api", "default", "prometheus-auth", new, NOW, pod_annotations=old):
        env.api.put(obj)  # the template is new, the pods are not (the new ReplicaSet's pods never became ready)
    finding = not_ok(run_doctor(context(after, env), after))["kubernetes.rollout/default/Deployment/api"]
    assert finding.status is Status.FAIL
    assert finding.checked.startswith("Deployment default/api: 2 of 2 running pods predate the pod template's")
    assert finding.facts["podsBehind"] == "2"


def test_a_rollout_in_progress_warns(production: Stack, env: Env) -> None:
    after = rotated(production)
    up(env, after)
    new = after.evaluation.stack_outputs["rolloutAnnotations"]["PrometheusAuth"]
    old = production.evaluation.stack_outputs["rolloutAnnotations"]["PrometheusAuth"]
    deployment, *pods = standin.workload("api", "default", "prometheus-auth", new, NOW, pod_annotations=old)
    deployment["metadata"]["generation"] = 2  # the controller has not yet observed the new template
    for obj in (deployment, *pods):
        env.api.put(obj)
    finding = not_ok(run_doctor(context(after, env), after))["kubernetes.rollout/default/Deployment/api"]
    assert finding.status is Status.WARN and finding.checked.endswith("(rollout in progress)")


def test_a_consumer_without_the_rollout_annotation_warns(production: Stack, env: Env) -> None:
    for obj in standin.workload("grafana", "monitoring", "grafana-oauth", {}, NOW):
        env.api.put(obj)
    finding = not_ok(run_doctor(context(production, env), production))["kubernetes.rollout/monitoring/Deployment/grafana"]
    assert finding.status is Status.WARN
    assert finding.checked == (
        f"Deployment monitoring/grafana reads Secret grafana-oauth but its pod template has no {rollout_annotation_key('grafana-oauth')}"
    )


def test_a_start_up_secret_nobody_reads_warns(production: Stack, env: Env) -> None:
    for obj in list(env.api.objects()):
        if obj["kind"] in ("Deployment", "Pod") and obj["metadata"]["namespace"] == "default":
            env.api.delete(obj["apiVersion"], obj["kind"], "default", obj["metadata"]["name"])
    bad = not_ok(run_doctor(context(production, env), production))
    assert set(bad) == {"kubernetes.rollout/default/prometheus-auth"}
    assert bad["kubernetes.rollout/default/prometheus-auth"].status is Status.WARN


def test_without_a_configured_rollout_key_the_digest_is_not_checked(tmp_path: Path) -> None:
    stack = make_stack("production", "production.json", rollout_key=False)
    with standin.KubeApiServer(cluster(stack)) as api:
        ctx = context(stack, None, kubeconfig=str(standin.write_kubeconfig(tmp_path / "kc", api.url)))
        bad = not_ok(run_doctor(ctx, stack))
    assert set(bad) == {"kubernetes.rollout/default/Deployment/api", "kubernetes.rollout/monitoring/Deployment/grafana"}
    assert {(f.status, f.key) for f in bad.values()} == {(Status.WARN, "secret-chain:rolloutKey")}


# --- Flux ----------------------------------------------------------------------------------------------------------------------


def fail_git(env: Env, name: str, reason: str, message: str) -> None:
    """The GitRepository as source-controller leaves it after a failed fetch: FetchFailed True and Ready False, same reason."""
    repo = env.api.get(SOURCE_V1, "GitRepository", "flux-system", name)
    when = standin.rfc3339(NOW)
    repo["status"]["conditions"] = [
        {"type": "Ready", "status": "False", "reason": reason, "message": message, "lastTransitionTime": when, "observedGeneration": 1},
        {"type": "FetchFailed", "status": "True", "reason": reason, "message": message, "lastTransitionTime": when, "observedGeneration": 1},
    ]
    env.api.put(repo)


# fluxcd/source-controller gitrepository_controller.go: reconcileSource wraps the clone error as "failed to checkout and
# determine revision: %w" (GitOperationFailed); fluxcd/pkg git/gogit/clone.go as "unable to clone '%s': %w"; go-git's
# HTTP transport turns GitHub's 401 into ErrAuthenticationRequired ("authentication required") with GitHub's reason.
TOKEN_REFUSED = (
    "GitOperationFailed",
    "failed to checkout and determine revision: unable to clone 'https://github.com/example-org/cluster': authentication required: "
    "Invalid username or token. Password authentication is not supported for Git operations.",
)
# getAuthOpts: "failed to configure authentication options: %w" (AuthenticationFailed); fluxcd/pkg auth/githubapp
# client.go: "could not parse private key: %w" (golang-jwt's ErrKeyMustBePEMEncoded).
APP_KEY_REFUSED = (
    "AuthenticationFailed",
    "failed to configure authentication options: could not parse private key: invalid key: Key must be a PEM encoded PKCS1 or PKCS8 key",
)


def test_a_gitrepository_refused_by_github_points_at_the_flux_token(tmp_path: Path) -> None:
    stack = make_stack("production", "production.json", flux_token=True)
    with standin.KubeApiServer(cluster(stack)) as api, standin.PrometheusServer(targets_up()) as prometheus:
        env = Env(api, prometheus, standin.write_kubeconfig(tmp_path / "kc", api.url))
        fail_git(env, "secret-chain", *TOKEN_REFUSED)
        bad = not_ok(run_doctor(context(stack, env), stack))
    assert set(bad) == {"kubernetes.gitrepository/flux-system/secret-chain"}
    finding = bad["kubernetes.gitrepository/flux-system/secret-chain"]
    assert finding.status is Status.FAIL
    assert finding.key == "flux:githubToken" and finding.facts["credentials"] == "flux:githubToken"
    assert finding.checked.startswith("GitRepository flux-system/secret-chain: not Ready: GitOperationFailed: failed to checkout")
    assert "pulumi env set example-org/secret-chain/Production pulumiConfig.flux:githubToken" in finding.fix
    assert "authentication required" in finding.symptom  # the runbook's symptom of the key


def test_a_gitrepository_failing_on_the_app_key_points_at_the_app_key(production: Stack, env: Env) -> None:
    fail_git(env, "secret-chain", *APP_KEY_REFUSED)
    finding = not_ok(run_doctor(context(production, env), production))["kubernetes.gitrepository/flux-system/secret-chain"]
    assert (finding.status, finding.key, finding.facts["reason"]) == (Status.FAIL, "flux:githubAppPrivateKey", "AuthenticationFailed")


def test_a_controller_message_quoting_a_secret_is_redacted(tmp_path: Path) -> None:
    stack = make_stack("production", "production.json", flux_token=True)
    token = stack.config["flux:githubToken"]
    with standin.KubeApiServer(cluster(stack)) as api, standin.PrometheusServer(targets_up()) as prometheus:
        env = Env(api, prometheus, standin.write_kubeconfig(tmp_path / "kc", api.url))
        # a message quoting the URL with its credentials (as a proxy or an older Git client may print it)
        fail_git(
            env,
            "secret-chain",
            "GitOperationFailed",
            f"unable to clone 'https://x-access-token:{token}@github.com/example-org/cluster': authorization failed",
        )
        finding = not_ok(run_doctor(context(stack, env), stack))["kubernetes.gitrepository/flux-system/secret-chain"]
    # a URL's userinfo is dropped whole (common.clean), the token with it
    assert "'https://github.com/example-org/cluster': authorization failed" in finding.checked and token not in finding.checked
    assert finding.key == "flux:githubToken"


def test_a_gitrepository_failing_for_another_reason_names_no_key(production: Stack, env: Env) -> None:
    # fluxcd/pkg git/gogit/clone.go: git.ErrRepositoryNotFound "unable to clone: repository not found"
    fail_git(env, "secret-chain", "GitOperationFailed", "failed to checkout and determine revision: unable to clone: repository not found")
    finding = not_ok(run_doctor(context(production, env), production))["kubernetes.gitrepository/flux-system/secret-chain"]
    assert (finding.status, finding.key) == (Status.FAIL, None)


def test_an_image_repository_refused_by_the_registry_fails(production: Stack, env: Env) -> None:
    repo = env.api.get("image.toolkit.fluxcd.io/v1", "ImageRepository", "flux-system", "api")
    # image-reflector-controller imagerepository_controller.go: MarkFalse(Ready, AuthenticationFailedReason, …)
    repo["status"]["conditions"] = [
        {
            "type": "Ready",
            "status": "False",
            "reason": "AuthenticationFailed",
            "message": "failed to configure authentication options: GET https://ghcr.io/token: UNAUTHORIZED: authentication required",
            "lastTransitionTime": standin.rfc3339(NOW),
            "observedGeneration": 1,
        }
    ]
    env.api.put(repo)
    finding = not_ok(run_doctor(context(production, env), production))["kubernetes.imagerepository/flux-system/api"]
    assert (finding.status, finding.key) == (Status.FAIL, "namespace:imagePullSecret.token")


# --- cert-manager --------------------------------------------------------------------------------------------------------------


def test_an_issuer_not_ready_fails(production: Stack, env: Env) -> None:
    issuer = env.api.get(CERT_V1, "ClusterIssuer", "", "letsencrypt-production")
    # cert-manager pkg/issuer/acme/setup.go: errorAccountRegistrationFailed, messageAccountRegistrationFailed + the ACME error
    issuer["status"]["conditions"] = [
        {
            "type": "Ready",
            "status": "False",
            "reason": "ErrRegisterACMEAccount",
            "message": (
                'Failed to register ACME account: 400 urn:ietf:params:acme:error:invalidContact: contact email has forbidden domain "example.com"'
            ),
            "lastTransitionTime": standin.rfc3339(NOW),
            "observedGeneration": 1,
        }
    ]
    env.api.put(issuer)
    bad = not_ok(run_doctor(context(production, env), production))
    assert set(bad) == {"kubernetes.clusterissuer/letsencrypt-production"}
    finding = bad["kubernetes.clusterissuer/letsencrypt-production"]
    assert (finding.status, finding.key) == (Status.FAIL, "secret-chain:acmeEmail")
    assert finding.checked.startswith("ClusterIssuer letsencrypt-production: not Ready: ErrRegisterACMEAccount: Failed to register ACME account")


def test_a_certificate_expiring_soon_warns_with_its_not_after(preview_base: Stack, tmp_path: Path) -> None:
    with standin.KubeApiServer(cluster(preview_base)) as api:
        certificate = api.get(CERT_V1, "Certificate", "gateway", "wildcard-pr-example-com")
        not_after = NOW + datetime.timedelta(days=5)
        certificate["status"]["notAfter"] = standin.rfc3339(not_after)
        api.put(certificate)
        ctx = context(preview_base, None, kubeconfig=str(standin.write_kubeconfig(tmp_path / "kc", api.url)), warn_days=14)
        bad = not_ok(run_doctor(ctx, preview_base))
    assert set(bad) == {"kubernetes.certificate/gateway/wildcard-pr-example-com"}
    finding = bad["kubernetes.certificate/gateway/wildcard-pr-example-com"]
    assert (finding.status, finding.expires, finding.key) == (Status.WARN, not_after, "gateway:digitaloceanDnsToken")
    assert "expires in 5 days" in finding.checked


def test_an_expired_certificate_fails(preview_base: Stack, tmp_path: Path) -> None:
    with standin.KubeApiServer(cluster(preview_base)) as api:
        certificate = api.get(CERT_V1, "Certificate", "gateway", "wildcard-pr--api-example-com")
        certificate["status"]["notAfter"] = standin.rfc3339(NOW - datetime.timedelta(hours=1))
        # cert-manager policies/checks.go CurrentCertificateHasExpired: reason Expired, "Certificate expired on <RFC1123>"
        certificate["status"]["conditions"] = [
            {
                "type": "Ready",
                "status": "False",
                "reason": "Expired",
                "message": "Certificate expired on Sun, 06 Dec 2026 05:00:00 UTC",
                "lastTransitionTime": standin.rfc3339(NOW),
                "observedGeneration": 1,
            }
        ]
        api.put(certificate)
        ctx = context(preview_base, None, kubeconfig=str(standin.write_kubeconfig(tmp_path / "kc", api.url)))
        finding = not_ok(run_doctor(ctx, preview_base))["kubernetes.certificate/gateway/wildcard-pr--api-example-com"]
    assert finding.status is Status.FAIL and finding.facts["reason"] == "Expired"


# --- Prometheus ------------------------------------------------------------------------------------------------------------


def test_a_service_monitor_target_down_with_401_points_at_the_token(production: Stack, env: Env) -> None:
    env.prometheus.targets[1] = standin.target(
        "serviceMonitor/monitoring/default-api/0",
        "10.244.0.8:8080",
        health="down",
        last_error="server returned HTTP status 401 Unauthorized",
        now=NOW,
    )
    bad = not_ok(run_doctor(context(production, env), production))
    assert set(bad) == {"kubernetes.servicemonitor/monitoring/default-api"}
    finding = bad["kubernetes.servicemonitor/monitoring/default-api"]
    assert (finding.status, finding.key) == (Status.FAIL, "prometheus:authToken")
    assert finding.checked == "ServiceMonitor monitoring/default-api: 1 of 2 targets down: server returned HTTP status 401 Unauthorized"
    assert finding.symptom == "Prometheus target down with 401 on /metrics"


def test_a_service_monitor_prometheus_does_not_scrape_fails(production: Stack, env: Env) -> None:
    env.prometheus.targets[:] = [standin.target("serviceMonitor/monitoring/other/0", "10.244.0.9:8080", now=NOW)]
    finding = not_ok(run_doctor(context(production, env), production))["kubernetes.servicemonitor/monitoring/default-api"]
    assert finding.status is Status.FAIL and "has no target in serviceMonitor/monitoring/default-api/0" in finding.checked


def test_without_a_prometheus_url_the_targets_are_not_checked(production: Stack, env: Env) -> None:
    findings = by_link(run_doctor(context(production, env, prometheus_url=None), production))
    assert set(findings) == PRODUCTION_LINKS - {"kubernetes.servicemonitor/monitoring/default-api"}


# --- the API out of reach, retries, kubeconfig ---------------------------------------------------------------------------------


def test_a_hanging_api_server_warns_of_each_link_after_the_timeout_and_the_others_are_still_reported(production: Stack, env: Env) -> None:
    env.api.hang()
    started = time.monotonic()
    findings = by_link(run_doctor(context(production, env, timeout=0.5), production))
    elapsed = time.monotonic() - started
    # the rollout links are per Secret when no workload could be listed
    per_secret = {"kubernetes.rollout/default/prometheus-auth", "kubernetes.rollout/monitoring/grafana-oauth"}
    assert (
        set(findings)
        == (PRODUCTION_LINKS - {"kubernetes.rollout/default/Deployment/api", "kubernetes.rollout/monitoring/Deployment/grafana"}) | per_secret
    )
    kube_links = {link: f for link, f in findings.items() if not link.startswith("kubernetes.servicemonitor/")}
    assert {f.status for f in kube_links.values()} == {Status.WARN}  # a system that does not answer: WARN, on every system
    assert all("did not answer within the timeout" in f.checked for f in kube_links.values())
    assert findings["kubernetes.servicemonitor/monitoring/default-api"].status is Status.OK  # Prometheus still answered
    # one timed-out request per check, not one per link: the checks give up on a server that hangs
    assert len(env.api.requests) <= len(kube_doctor.KUBERNETES_CHECKS)
    assert elapsed < 10  # each check waits one timeout (0.5 s), at most 4 at once; a generous bound on a shared machine


def test_an_api_server_that_refuses_connections_warns_of_each_link(production: Stack, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    ctx = context(production, None, kubeconfig=str(standin.write_kubeconfig(tmp_path / "kc", f"http://127.0.0.1:{port}")))
    findings = run_doctor(ctx, production)
    assert findings and {f.status for f in findings} == {Status.WARN}
    assert all(f"the Kubernetes API at http://127.0.0.1:{port} is out of reach (ConnectError)" in f.checked for f in findings)


def test_429_and_503_are_retried(production: Stack, env: Env) -> None:
    env.api.fail_next(429, 503)
    findings = kube_doctor.check_clusterissuers(context(production, env))  # one check: the failures are its own
    assert [(f.status, f.link) for f in findings] == [(Status.OK, "kubernetes.clusterissuer/letsencrypt-production")]
    assert env.api.requests == ["/apis/cert-manager.io/v1/clusterissuers/letsencrypt-production"] * 3


def test_retry_after_is_honoured_up_to_a_bound() -> None:
    assert kube_doctor._wait("2", 0) == 2.0
    assert kube_doctor._wait("3600", 0) == kube_doctor.MAX_WAIT
    assert kube_doctor._wait(None, 0) == kube_doctor.BACKOFF
    assert kube_doctor._wait("Wed, 21 Oct 2026 07:28:00 GMT", 1) == kube_doctor.BACKOFF * 2  # an HTTP date: the back-off


def test_an_api_server_failing_every_try_warns_of_the_link(production: Stack, env: Env) -> None:
    # One rule for every system (docs/doctor.md): a 429 or 5xx after the retries is a WARN, as GitHub's and DigitalOcean's.
    env.api.fail_next(*[503] * (kube_doctor.RETRIES + 1))
    findings = kube_doctor.check_clusterissuers(context(production, env))
    assert [(f.status, f.link) for f in findings] == [(Status.WARN, "kubernetes.clusterissuer/letsencrypt-production")]
    assert findings[0].checked == "ClusterIssuer letsencrypt-production: not read (the Kubernetes API answered 503 ServiceUnavailable)"
    assert len(env.api.requests) == kube_doctor.RETRIES + 1


def test_secrets_rbac_forbids_fail_those_links_only(production: Stack, env: Env) -> None:
    env.api.forbid("secrets")
    bad = not_ok(run_doctor(context(production, env), production))
    secret_links = {link for link in PRODUCTION_LINKS if link.startswith("kubernetes.secret/")}
    rollout_links = {"kubernetes.rollout/default/prometheus-auth", "kubernetes.rollout/monitoring/grafana-oauth"}
    assert set(bad) == secret_links | rollout_links  # Flux, cert-manager and Prometheus are still checked, and OK
    assert all("the Kubernetes API answered 403 Forbidden" in f.checked and "verbs get, list" in f.fix for f in bad.values())


def test_no_kubeconfig_fails_with_the_fix(production: Stack) -> None:
    findings = by_link(run_doctor(context(production, None, environ={}), production))
    per_secret = {"kubernetes.rollout/default/prometheus-auth", "kubernetes.rollout/monitoring/grafana-oauth"}
    expected = PRODUCTION_LINKS - {"kubernetes.rollout/default/Deployment/api", "kubernetes.rollout/monitoring/Deployment/grafana"}
    assert set(findings) == (expected - {"kubernetes.servicemonitor/monitoring/default-api"}) | per_secret
    assert {f.status for f in findings.values()} == {Status.FAIL}
    assert all("no kubeconfig: pass --kubeconfig, set KUBECONFIG, or write ~/.kube/config" in f.checked for f in findings.values())


def test_kubeconfig_from_the_environment_and_the_context_asked_for(production: Stack, env: Env, tmp_path: Path) -> None:
    config = json.loads(env.kubeconfig.read_text())
    config["clusters"].append({"name": "elsewhere", "cluster": {"server": "http://127.0.0.1:9"}})
    config["contexts"].append({"name": "elsewhere", "context": {"cluster": "elsewhere", "user": "doctor"}})
    config["current-context"] = "elsewhere"
    path = tmp_path / "two-contexts"
    path.write_text(json.dumps(config))
    ctx = context(production, env, kubeconfig=None, kube_context="stand-in", environ={"KUBECONFIG": f"{tmp_path / 'absent'}:{path}"})
    assert not_ok(run_doctor(ctx, production)) == {}


def test_a_context_the_kubeconfig_lacks_fails_naming_it(production: Stack, env: Env) -> None:
    findings = by_link(run_doctor(context(production, env, kube_context="staging"), production))
    assert findings.pop("kubernetes.servicemonitor/monitoring/default-api").status is Status.OK  # Prometheus needs no kubeconfig
    assert findings and {f.status for f in findings.values()} == {Status.FAIL}
    assert all("the kubeconfig has no context 'staging'" in f.checked for f in findings.values())


def test_an_unreadable_kubeconfig_is_reported_without_its_content(production: Stack, tmp_path: Path) -> None:
    token = production.config["prometheus:authToken"]
    path = tmp_path / "kubeconfig"
    path.write_text(f"apiVersion: v1\nclusters: [{{name: x, cluster: {{server: {token}\n")  # broken YAML quoting a secret
    findings = run_doctor(context(production, None, kubeconfig=str(path)), production)
    assert findings and all(f"the kubeconfig ({path}) cannot be used: " in f.checked for f in findings)


def test_an_invalid_config_is_one_finding_per_check(production: Stack, env: Env) -> None:
    config = dict(production.config)
    config["prometheus:authToken"] = "short"
    broken = Stack("production", config, production.secret_keys, production.evaluation)
    findings = run_doctor(context(broken, env), broken)
    assert {f.status for f in findings} == {Status.FAIL}
    assert len(findings) == len(kube_doctor.KUBERNETES_CHECKS)
    assert all("run `secret-chain preflight`" in f.checked and f.fix == "secret-chain preflight --stack production" for f in findings)
    assert env.api.requests == []


# --- the stand-ins answer as the APIs do -----------------------------------------------------------------------------------------


def test_the_stand_in_refuses_an_object_its_schema_refuses(production: Stack, env: Env) -> None:
    repo = env.api.get(SOURCE_V1, "GitRepository", "flux-system", "secret-chain")
    repo["status"]["conditions"][0]["severity"] = "Error"  # not a field of metav1.Condition
    with pytest.raises(SchemaError):
        env.api.put(repo)


def test_the_stand_in_answers_lists_and_not_found_as_the_api_server(production: Stack, env: Env) -> None:
    import urllib.error
    import urllib.request

    def get(path: str) -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(env.api.url + path) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as err:
            return err.code, json.load(err)

    code, secrets = get("/api/v1/namespaces/monitoring/secrets")
    assert code == 200 and secrets["kind"] == "SecretList" and all("kind" not in item for item in secrets["items"])
    code, repos = get("/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories")
    assert code == 200 and [item["kind"] for item in repos["items"]] == ["GitRepository"]
    code, status = get("/api/v1/namespaces/default/secrets/absent")
    assert (code, status["reason"], status["message"]) == (404, "NotFound", 'secrets "absent" not found')
    code, pods = get("/api/v1/namespaces/default/pods?labelSelector=app.kubernetes.io%2Fname%3Dapi")
    assert code == 200 and len(pods["items"]) == 2


def test_every_answer_was_validated(production: Stack, env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    validated: list[str] = []
    original = standin.validate_body
    monkeypatch.setattr(standin, "validate_body", lambda body: (validated.append(str(body["kind"])), original(body))[1])
    run_doctor(context(production, env), production)
    assert len(validated) == len(env.api.requests)
    assert {"Secret", "DeploymentList", "StatefulSetList", "PodList", "GitRepository", "ImageRepository", "ClusterIssuer"} <= set(validated)


# --- import cost ---------------------------------------------------------------------------------------------------------------


def test_importing_the_checks_loads_no_client() -> None:
    code = (
        "import sys, secret_chain.doctor.kubernetes as k; "
        "print(sorted(m for m in ('lightkube', 'httpx2', 'pulumi', 'yaml') if m in sys.modules)); print(len(k.KUBERNETES_CHECKS))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["[]", "7"]


def test_findings_are_plain_values(production: Stack, env: Env) -> None:
    for finding in run_doctor(context(production, env), production):
        assert isinstance(finding.facts, Mapping) and all(isinstance(v, str) for v in finding.facts.values())
        assert finding.expires is None or finding.expires.tzinfo is not None


def test_a_kubeconfigs_credentials_and_server_userinfo_never_reach_the_report(production: Stack, tmp_path: Path) -> None:
    """Issue 22 review: a kubeconfig ``server: http://admin:<password>@…`` was printed in every "not read (the
    Kubernetes API at …)" line, and the kubeconfig's own token (not a config value) was not redacted. The runner's
    findings (common.scrub) hold neither, nor the token's base64 form or its first 20 characters; the server is named
    without its userinfo (kubeconfig fields: https://kubernetes.io/docs/reference/config-api/kubeconfig.v1/)."""
    import base64
    import socket

    from secret_chain.doctor import runner

    with socket.socket() as probe:  # a port nothing listens on: every request is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    password, token = "kubePASSWORDcanary0123", "kubeTOKENcanary-0123456789abcdefghijklmnopqrstuv"
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: k, cluster: {{server: 'http://admin:{password}@127.0.0.1:{port}'}}}}]\n"
        f"users: [{{name: u, user: {{token: {token}}}}}]\ncontexts: [{{name: c, context: {{cluster: k, user: u}}}}]\n"
    )
    ctx = context(production, None, kubeconfig=str(path), timeout=2.0)
    findings = runner.run(ctx, kube_doctor.KUBERNETES_CHECKS)
    text = runner.render_text(ctx, findings) + json.dumps(runner.as_json(ctx, findings))
    assert any(f"http://127.0.0.1:{port}" in f.checked for f in findings), [f.checked for f in findings][:3]
    for secret in (password, "admin:", token, token[:20], base64.b64encode(token.encode()).decode()[:20]):
        assert secret not in text, secret
