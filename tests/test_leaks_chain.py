"""No secret leaks: the whole chain, every mode, with a unique canary for every secret of the catalog.

Each evaluation runs with Python logging captured at DEBUG on the root logger and every warning
recorded; everything observable (names, URNs, labels, annotations, non-secret inputs, invoke
arguments, component and stack outputs, the Pulumi log, Python log records, warnings) is scanned for
every canary's needles (see tests/leaks.py). Error paths (ConfigError messages, reprs and
tracebacks) and the output of every command (in-process and one real process) are scanned the same
way, and every field meant to hold a secret must be a secret value. The scanner itself is shown to
find a canary planted in each kind of place.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pytest

from secret_chain import (
    CertManagerDnsIssuer,
    FluxGitCredentials,
    GhcrPullSecret,
    GitHubActionsSecrets,
    GrafanaOAuth,
    PrometheusAuth,
    SecretChain,
    catalog,
    flux,
)
from secret_chain.catalog import Key
from secret_chain.errors import ConfigError
from secret_chain.ops import plan
from secret_chain.ops.cli import main as cli
from secret_chain.ops.offline import DEFAULT_INVOKES, Evaluation, is_secret, iter_strings, unwrap
from secret_chain.program import main as program_main
from secret_chain.validators import Invalid
from tests import leaks
from tests.canaries import (
    CI_MODES,
    FLUX_MODES,
    PROVIDER_NAMESPACES,
    Canaries,
    NoCanaryRule,
    canary_for,
    chain_config,
    make_canaries,
    malformed_variants,
    plain_value,
)
from tests.conftest import report_leak_scan
from tests.leaks import find_in_text, find_leaks, misplaced_secrets, scan, secret_fields, unwrapped_secret_fields, wrapped_strings
from tests.runtime import evaluate

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEYS = [k.key for k in catalog.KEYS if k.secret]
PLAIN_KEYS = [k.key for k in catalog.KEYS if not k.secret]
MODES = pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
PR_STACK = "preview-pr-7"
STACKS = ("production", "preview-base", PR_STACK)


@pytest.fixture(scope="module")
def canaries() -> Canaries:
    return make_canaries()


@pytest.fixture(scope="module", autouse=True)
def _report_figures(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print the scan's figures at the end of the module (also with -q; under pytest-xdist, the workers' sum at the end)."""
    before = leaks.STATS.copy()
    yield
    figures = {**(leaks.STATS - before), "needles": leaks.STATS["needles"], "secret keys": len(SECRET_KEYS)}
    report_leak_scan(request.config, figures)


# --- observing an evaluation ----------------------------------------------------------------------


@dataclass
class Observed:
    """An evaluation and everything seen around it."""

    evaluation: Evaluation
    extra: list[tuple[str, str]]
    invokes: list[tuple[str, dict[str, Any]]]
    error: BaseException | None = None


@contextmanager
def watching(caplog: pytest.LogCaptureFixture) -> Iterator[list[tuple[str, str]]]:
    """Capture Python logging at DEBUG on the root logger and every warning; yields the (where, text) seen."""
    seen: list[tuple[str, str]] = []
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield seen
    for record in caplog.records:
        seen.append((f"Python log {record.name}", record.getMessage()))
        if record.exc_info:
            seen.append((f"Python log {record.name} traceback", "".join(traceback.format_exception(*record.exc_info))))
    seen.append(("Python log (formatted)", caplog.text))
    for w in caught:
        seen.append((f"warning {w.category.__name__}", f"{w.message} {w.filename}:{w.lineno}"))
    caplog.clear()  # scanned: keep thousands of DEBUG lines out of failure reports


def observe(
    program: Callable[[], Any],
    config: dict[str, str],
    secret_keys: list[str],
    stack: str,
    preview: bool,
    caplog: pytest.LogCaptureFixture,
    invokes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] | None = None,
) -> Observed:
    calls: list[tuple[str, dict[str, Any]]] = []

    def recording(token: str, handler: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def invoke(args: dict[str, Any]) -> dict[str, Any]:
            calls.append((token, args))
            return handler(args)

        return invoke

    handlers = {token: recording(token, fn) for token, fn in (invokes or DEFAULT_INVOKES).items()}
    with watching(caplog) as seen:
        ev = evaluate(program, config=config, secret_keys=secret_keys, stack=stack, preview=preview, invokes=handlers)
    for token, args in calls:
        seen += [(f"invoke argument of {token}", text) for text in iter_strings(args, skip_secrets=True)]
    return Observed(ev, seen, calls)


def assert_clean(observed: Observed, needles: dict[str, str]) -> None:
    """No needle outside a secret value or in a cluster/GitHub-visible field; every secret field wrapped."""
    ev = observed.evaluation
    assert find_leaks(ev, needles, observed.extra) == []
    assert misplaced_secrets(ev, needles) == []
    assert unwrapped_secret_fields(ev) == []


def assert_canaries_flowed(ev: Evaluation, canaries: Canaries) -> int:
    """Positive control: each secret the plan says flows somewhere is present, wrapped, in the evaluation."""
    wrapped = [("wrapped", text) for text in wrapped_strings(ev)]
    flowed = {link.config_key for link in plan.links(ev) if catalog.get(link.config_key).secret}
    for key in flowed:
        assert scan(wrapped, {key: canaries.values[key].normalized}, count=False), f"{key}: its canary is not in any secret value"
    return len(flowed)


# --- the canaries themselves ----------------------------------------------------------------------


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_every_secret_key_has_a_canary_rule(key: str) -> None:
    entry = catalog.get(key)
    try:
        first, second = canary_for(entry), canary_for(entry)
    except NoCanaryRule as err:
        pytest.fail(str(err))
    assert entry.check(first) and first != second  # valid, and random
    assert first != entry.example


@pytest.mark.parametrize("key", PLAIN_KEYS)
def test_every_plain_key_has_a_valid_value(key: str) -> None:
    entry = catalog.get(key)
    try:
        value = plain_value(entry)
    except NoCanaryRule as err:
        pytest.fail(str(err))
    assert entry.check(value)


def test_a_key_no_rule_fits_is_named() -> None:
    def jwt(value: str) -> str:
        if value.count(".") != 2:
            raise Invalid("is not a JWT")
        return value

    entry = Key("acme:sessionJwt", secret=True, check=jwt, purpose="A signed session token", example="eyJ…")
    with pytest.raises(NoCanaryRule, match='catalog key "acme:sessionJwt" has no canary rule'):
        canary_for(entry)


def test_canaries_cover_the_catalog(canaries: Canaries) -> None:
    assert set(canaries.values) == {k.key for k in catalog.KEYS}
    raws = [c.raw for c in canaries.secret.values()]
    assert len(set(raws)) == len(raws) == len(SECRET_KEYS)
    needles = leaks.needles(canaries.needles())
    # every needle of one canary is absent from every other value: a hit always names the right key
    for key, canary in canaries.values.items():
        for label, needle in needles:
            if not label.startswith(key):
                assert needle.lower() not in canary.raw.lower(), (label, key)
    # at least one PEM is set in the one-line \n form, one with real newlines
    pems = [c.raw for c in canaries.secret.values() if "PRIVATE KEY" in c.raw]
    assert any("\\n" in p for p in pems) and any("\n" in p for p in pems)


# --- the whole chain, every mode ------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    stack: str
    flux_mode: str = "app"
    ci_mode: str = "oidc"
    flagged: bool = True
    rotating: bool = True

    @property
    def id(self) -> str:
        flagged = "" if self.flagged else "-unflagged"
        rotating = "" if self.rotating else "-steady"
        return f"{self.stack}-flux_{self.flux_mode}-ci_{self.ci_mode}{flagged}{rotating}"


SCENARIOS = [
    *(Scenario(stack, f, c) for stack in ("production", "preview-base") for f in FLUX_MODES for c in CI_MODES),
    Scenario(PR_STACK),
    # secrets stored without --secret: the chain must still hold them only as secrets
    Scenario("production", flagged=False),
    Scenario(PR_STACK, flagged=False),
    # between rotations: the catalog's temporary keys (a previous token) absent
    Scenario("production", rotating=False),
    Scenario(PR_STACK, rotating=False),
]
ENTRY_POINTS: dict[str, Callable[[], Any]] = {"program": program_main, "SecretChain": lambda: SecretChain("chain")}
# Every scenario runs in update and in preview mode, once through the stack program (`__main__.py`)
# and once through SecretChain directly, alternating, so each entry point meets every stack, Flux
# mode, CI mode and engine mode.
RUNS = [(s, preview, list(ENTRY_POINTS)[(i + preview) % 2]) for i, s in enumerate(SCENARIOS) for preview in (False, True)]


@pytest.mark.parametrize(("scenario", "preview", "entry"), RUNS, ids=[f"{s.id}-{'preview' if p else 'update'}-{e}" for s, p, e in RUNS])
def test_whole_chain_leaks_nothing(scenario: Scenario, entry: str, preview: bool, canaries: Canaries, caplog: pytest.LogCaptureFixture) -> None:
    config, secret_keys = chain_config(
        canaries, stack=scenario.stack, flux_mode=scenario.flux_mode, ci_mode=scenario.ci_mode, flagged=scenario.flagged, rotating=scenario.rotating
    )
    observed = observe(ENTRY_POINTS[entry], config, secret_keys, scenario.stack, preview, caplog)
    ev = observed.evaluation
    assert_clean(observed, canaries.needles())

    # the scenario is what it says: the parts and modes were built, so the scan had secrets to miss
    (chain,) = ev.of_type("secret-chain:index:SecretChain")
    parts = ev.component_outputs[chain.urn]["parts"]
    if entry == "program":
        assert ev.stack_outputs["parts"] == parts
    if scenario.stack == PR_STACK:
        assert parts == ["GhcrPullSecret", "PrometheusAuth", "GrafanaOAuth"]
    else:
        assert {"FluxGitCredentials", "GitHubActionsSecrets", "CertManagerDnsIssuer"} <= set(parts)
        (fluxc,) = ev.of_type("secret-chain:index:FluxGitCredentials")
        assert ev.component_outputs[fluxc.urn]["auth_mode"] == ("github-app" if scenario.flux_mode == "app" else "token")
        (ci,) = ev.of_type("secret-chain:index:GitHubActionsSecrets")
        # issue 14: no stored Pulumi or GitHub token, but the opt-in fallback; the deprecated keys only warn
        wanted = {"oidc": ["APP_PRIVATE_KEY"], "fallback": ["APP_PRIVATE_KEY", "PULUMI_FALLBACK_ACCESS_TOKEN"]}
        assert ev.component_outputs[ci.urn]["secret_names"] == wanted[scenario.ci_mode]
    # preview-base runs no application: its Kubernetes Secrets are Flux's and cert-manager's only
    least = 2 if scenario.stack == "preview-base" else 3
    assert assert_canaries_flowed(ev, canaries) >= least
    kube_secrets = ev.of_type("kubernetes:core/v1:Secret")
    assert len(kube_secrets) >= least and len(list(secret_fields(ev))) >= len(kube_secrets)


# --- every component directly, in the modes SecretChain does not build -----------------------------

GHES_URL = "https://ghe.example.com/acme/cluster"
IMAGES: flux.ImageAutomationArgs = {
    "author_name": "Image Bot",
    "author_email": "images@example.org",
    "images": [{"image": "ghcr.io/acme/api", "semver_range": "^1.4.0"}],
}
COMPONENTS: dict[str, tuple[str, Callable[[], Any]]] = {
    "ghcr-attach-sa": ("app", lambda: GhcrPullSecret("pull", {"namespaces": ["default", "apps"], "attach_to_default_service_account": True})),
    "ghcr-registry": (
        "app",
        lambda: GhcrPullSecret("pull", {"namespaces": ["apps"], "registry": "registry.example.com:5000", "secret_name": "regcred"}),
    ),
    "prometheus": ("app", lambda: PrometheusAuth("metrics", {"namespace": "apps", "monitor_namespace": "monitoring"})),
    "prometheus-same-ns": ("app", lambda: PrometheusAuth("metrics", {"namespace": "apps", "monitor_namespace": "apps"})),
    "github-repository": ("app", lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform"})),
    "github-environment": ("app", lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform", "environment": "production"})),
    "github-organization": (
        "app",
        lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform", "organization_repositories": ["platform", "api"]}),
    ),
    "flux-app-automation": (
        "app",
        lambda: FluxGitCredentials("flux", {"repository_url": "https://github.com/acme/cluster", "image_automation": IMAGES}),
    ),
    "flux-token-automation": (
        "token",
        lambda: FluxGitCredentials("flux", {"repository_url": "https://github.com/acme/cluster", "image_automation": IMAGES}),
    ),
    "flux-ghes": ("app", lambda: FluxGitCredentials("flux", {"repository_url": GHES_URL, "github_app_base_url": "https://ghe.example.com/api/v3"})),
    "certmanager": (
        "app",
        lambda: CertManagerDnsIssuer("tls", {"email": "ops@example.com", "domain": "example.com", "wildcard_hosts": ["*.pr.example.com"]}),
    ),
    "grafana": ("app", lambda: GrafanaOAuth("grafana", {"namespace": "monitoring", "domain": "example.com"})),
    "grafana-pr": ("app", lambda: GrafanaOAuth("grafana", {"namespace": PR_STACK, "domain": "example.com", "pr_number": 7})),
}


@MODES
@pytest.mark.parametrize("case", list(COMPONENTS))
def test_each_component_leaks_nothing(case: str, preview: bool, canaries: Canaries, caplog: pytest.LogCaptureFixture) -> None:
    flux_mode, build = COMPONENTS[case]
    config, secret_keys = chain_config(canaries, flux_mode=flux_mode)
    # A PR's namespace is written only by the PR's own stack (tests/test_guard_rails_args.py).
    observed = observe(build, config, secret_keys, PR_STACK if case.endswith("-pr") else "production", preview, caplog)
    assert_clean(observed, canaries.needles())
    ev = observed.evaluation
    assert ev.resources and assert_canaries_flowed(ev, canaries) >= 1
    if case == "github-organization":
        assert {r.type.rsplit(":", 1)[-1] for r in ev.resources} >= {"ActionsOrganizationSecret", "ActionsOrganizationVariable"}
    if case == "github-environment":
        assert {r.type.rsplit(":", 1)[-1] for r in ev.resources} >= {"ActionsEnvironmentSecret", "ActionsEnvironmentVariable"}


ARG_ROUTES: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    # config key → (args field, build with that field) for the secrets a component also takes as an argument
    "namespace:imagePullSecret.token": ("token", lambda a: GhcrPullSecret("pull", {"namespaces": ["default"], **a})),
    "prometheus:authToken": ("token", lambda a: PrometheusAuth("metrics", {"namespace": "default", **a})),
    "ci:pulumiFallbackAccessToken": (
        "pulumi_fallback_access_token",
        lambda a: GitHubActionsSecrets("ci", {"repository": "acme/platform", "pulumi_auth": "stored-token-fallback", **a}),
    ),
    "ci:githubAppPrivateKey": ("app_private_key", lambda a: GitHubActionsSecrets("ci", {"repository": "acme/platform", **a})),
    "flux:githubToken": ("token", lambda a: FluxGitCredentials("flux", {"repository_url": "https://github.com/acme/cluster", **a})),
    "flux:githubAppPrivateKey": (
        "github_app_private_key",
        lambda a: FluxGitCredentials(
            "flux", {"repository_url": "https://github.com/acme/cluster", "github_app_id": "123456", "github_app_installation_id": "7654321", **a}
        ),
    ),
    "gateway:digitaloceanDnsToken": ("token", lambda a: CertManagerDnsIssuer("tls", {"email": "ops@example.com", "domain": "example.com", **a})),
    "grafana:githubClientSecret": ("client_secret", lambda a: GrafanaOAuth("grafana", {"namespace": "monitoring", "domain": "example.com", **a})),
    "grafana:smtpPassword": ("smtp_password", lambda a: GrafanaOAuth("grafana", {"namespace": "monitoring", "domain": "example.com", **a})),
}


@pytest.mark.parametrize("form", ["string", "plain Output"])
@pytest.mark.parametrize("key", list(ARG_ROUTES))
def test_secrets_given_as_arguments_stay_secret(key: str, form: str, canaries: Canaries, caplog: pytest.LogCaptureFixture) -> None:
    """A secret passed in args (a string, or another resource's non-secret Output) is held only as a secret."""
    config, secret_keys = chain_config(canaries, flux_mode="app" if "App" in key else "token")
    config.pop(key, None)  # only the argument carries it
    fresh = canary_for(catalog.get(key))
    field, build = ARG_ROUTES[key]

    def program() -> None:
        build({field: fresh if form == "string" else pulumi.Output.from_input(fresh)})

    observed = observe(program, config, secret_keys, "production", False, caplog)
    needles = {**canaries.needles(), f"{key} (argument)": fresh}
    assert_clean(observed, needles)
    # an Output argument is known only later, so it is stored as given (not normalised): either form counts
    assert scan([("wrapped", t) for t in wrapped_strings(observed.evaluation)], {key: fresh}, count=False)


@MODES
def test_digitalocean_kubeconfig_stays_secret(preview: bool, canaries: Canaries, caplog: pytest.LogCaptureFixture) -> None:
    """The kubeconfig fetched for a DigitalOcean cluster (a bearer token inside) is held only as the provider's secret kubeconfig."""
    cluster_token = "doks_" + secrets.token_hex(24)

    def cluster(args: dict[str, Any]) -> dict[str, Any]:
        kubeconfig = {"apiVersion": "v1", "kind": "Config", "users": [{"name": "admin", "user": {"token": cluster_token}}]}
        return {"id": "c-id", "name": args["name"], "endpoint": "https://c.invalid", "kubeConfigs": [{"rawConfig": json.dumps(kubeconfig)}]}

    invokes = {**DEFAULT_INVOKES, "digitalocean:index/getKubernetesCluster:getKubernetesCluster": cluster}
    config, secret_keys = chain_config(canaries)
    observed = observe(lambda: SecretChain("chain", {"digitalocean_cluster": "prod"}), config, secret_keys, "production", preview, caplog, invokes)
    assert_clean(observed, {**canaries.needles(), "cluster token": cluster_token})
    (provider,) = observed.evaluation.of_type("pulumi:providers:kubernetes")
    assert is_secret(provider.inputs["kubeconfig"]) and cluster_token in unwrap(provider.inputs["kubeconfig"])


# --- error paths: a malformed secret -----------------------------------------------------------------


def _base_config_with(canaries: Canaries, key: str) -> tuple[dict[str, str], list[str]]:
    for flux_mode in FLUX_MODES:
        for ci_mode in CI_MODES:
            config, secret_keys = chain_config(canaries, flux_mode=flux_mode, ci_mode=ci_mode)
            if key in config:
                return config, secret_keys
    raise AssertionError(f"{key} is in no chain config")


def _error_texts(err: BaseException) -> list[tuple[str, str]]:
    return [
        ("str", str(err)),
        ("repr", repr(err)),
        ("traceback", "".join(traceback.format_exception(err))),
        ("args", " ".join(map(str, err.args))),
    ]


@pytest.mark.parametrize("key", [k for k in SECRET_KEYS if not catalog.get(k).deprecated])
def test_malformed_secret_is_one_error_without_any_canary(key: str, canaries: Canaries, caplog: pytest.LogCaptureFixture) -> None:
    """Each malformed variant of a secret: one ConfigError naming the key, no canary in str/repr/traceback, nothing registered.

    Every other secret of the chain is configured too, and must not appear either. Provider-owned keys
    (github:*, digitalocean:*) are not read by the stack program: a malformed one must leak nowhere and
    be flagged by preflight instead.
    """
    entry = catalog.get(key)
    config, secret_keys = _base_config_with(canaries, key)
    variants = malformed_variants(entry, canaries.values[key].raw)
    if not variants:  # the check accepts any non-blank text: only a blank value is malformed
        assert entry.check("!! any text #" + secrets.token_hex(4)), f"{key}: no malformed variant, yet the check is picky"
        variants = [("blank", "   ")]
    for what, bad in variants:
        config[key] = bad
        needles = {**canaries.needles(set(canaries.values) - {key}), f"{key} ({what})": bad}
        observed = _observe_failing(program_main, config, secret_keys, caplog)
        assert find_leaks(observed.evaluation, needles, observed.extra, min_length=MALFORMED_MIN) == [], what
        if observed.error is None:
            assert entry.namespace in PROVIDER_NAMESPACES, f"{key} ({what}): malformed, yet the stack program accepted it"
            assert_clean(observed, needles)
            report = _preflight_json(config, secret_keys)
            assert any(p["key"] == key and p["kind"] == "malformed" for p in report["problems"]), (key, what)
            assert find_in_text(json.dumps(report), needles, f"preflight of {key} ({what})", min_length=MALFORMED_MIN) == []
            continue
        err = observed.error
        assert type(err) is ConfigError and f'config "{key}"' in str(err), (key, what)
        assert [r.type for r in observed.evaluation.registrations] == ["pulumi:pulumi:Stack"], (key, what)
        messages = [(f"{form} of the ConfigError ({key}: {what})", text) for form, text in _error_texts(err)]
        leaks.STATS["texts"] += len(messages)
        assert scan(messages, needles, min_length=MALFORMED_MIN) == []


MALFORMED_MIN = 7
"""Malformed variants are searched for down to their lines of 7 characters (each keeps 7 random ones)."""


def _observe_failing(program: Callable[[], Any], config: dict[str, str], secret_keys: list[str], caplog: pytest.LogCaptureFixture) -> Observed:
    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            program()
        except ConfigError as err:
            errors.append(err)

    observed = observe(guarded, config, secret_keys, "production", False, caplog)
    observed.error = errors[0] if errors else None
    return observed


def _preflight_json(config: dict[str, str], secret_keys: list[str]) -> dict[str, Any]:
    from secret_chain.ops import preflight

    return preflight.check(config, secret_keys, "production").as_json()


# --- every command's output --------------------------------------------------------------------------

SIG_KEY, SECRET_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


def write_config(path: Path, config: dict[str, str], secret_keys: list[str]) -> Path:
    """The config in the form `pulumi config --show-secrets --json` prints."""
    from tests.runtime import cli_json

    path.write_text(json.dumps(cli_json(config, secret_keys), indent=2))
    return path


def stack_export(ev: Evaluation, modified: str) -> dict[str, Any]:
    """A `pulumi stack export --show-secrets` document of an evaluation: secret values in plaintext envelopes."""

    def encode(value: Any) -> Any:
        if is_secret(value):
            return {SIG_KEY: SECRET_SIG, "plaintext": json.dumps(unwrap(value))}
        if isinstance(value, dict):
            return {k: encode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [encode(v) for v in value]
        return value

    resources = [
        {
            "urn": r.urn,
            "custom": r.custom,
            "type": r.type,
            **({"id": f"{r.name}-id"} if r.custom else {}),
            "parent": r.parent,
            "inputs": encode(r.inputs),
            "outputs": encode(r.inputs),
            "created": "2020-01-01T00:00:00Z",
            "modified": modified,
        }
        for r in ev.registrations
    ]
    return {"version": 3, "deployment": {"manifest": {"time": modified, "magic": "x", "version": "v3.200.0"}, "resources": resources}}


class Commands:
    """Runs `secret-chain` commands in-process and keeps everything they printed."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.outputs: list[tuple[str, str]] = []
        self.codes: dict[str, int] = {}

    def __call__(self, *argv: str, stdin: str | None = None) -> int:
        label = " ".join(a if not a.startswith("/") else Path(a).name for a in argv)
        saved = sys.stdin
        if stdin is not None:
            sys.stdin = io.StringIO(stdin)
        try:
            code = cli(list(argv))
        except SystemExit as exit_:  # argparse
            code = int(exit_.code or 0)
        finally:
            sys.stdin = saved
        out, err = self.capsys.readouterr()
        self.outputs += [(f"stdout of `{label}`", out), (f"stderr of `{label}`", err)]
        self.codes[label] = code
        return code


def fake_pulumi(bin_dir: Path, config_file: Path, *, fail: bool) -> None:
    """A `pulumi` on PATH that prints the config file as `pulumi config --show-secrets --json` would (and fails if asked)."""
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "pulumi"
    tail = "echo \"error: no stack named 'x' found\" >&2; exit 255" if fail else "exit 0"
    script.write_text(f'#!/bin/sh\ncat "{config_file}"\n{tail}\n')
    script.chmod(0o755)


@pytest.mark.parametrize("stack", STACKS)
def test_every_command_prints_no_secret(
    stack: str,
    canaries: Canaries,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config, secret_keys = chain_config(canaries, stack=stack, flux_mode="token" if stack == "preview-base" else "app")
    path = write_config(tmp_path / "config.json", config, secret_keys)
    run = Commands(capsys)
    manifests = tmp_path / "manifests"
    with watching(caplog) as seen:
        assert run("preflight", "--stack", stack, "--config", str(path)) == 0
        assert run("preflight", "--stack", stack, "--config", str(path), "--json") == 0
        assert run("preflight", "--stack", stack, "--config", "-", stdin=path.read_text()) == 0
        assert run("plan", "--stack", stack, "--config", str(path)) == 0
        assert run("plan", "--stack", stack, "--config", str(path), "--preview", "--json") == 0
        assert run("plan", "--stack", stack, "--config", "-", "--manifests", str(manifests), stdin=path.read_text()) == 0
        assert run("plan", "--stack", stack, "--config", str(path), "--json", "--manifests", str(tmp_path / "m2")) == 0
        fake_pulumi(tmp_path / "bin", path, fail=False)
        monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
        assert run("preflight", "--stack", stack) == 0  # config read with the (fake) pulumi CLI
        assert run("plan", "--stack", stack, "--json") == 0
        for argv in (
            ["inventory"],
            ["inventory", "--json"],
            ["inventory", "--environment", "preview"],
            ["inventory", "--environment", "production", "--json"],
        ):
            assert run(*argv) == 0
        shutil.copytree(ROOT / "docs", tmp_path / "docs")
        assert run("inventory", "--docs", str(tmp_path / "docs")) == 0
        # rotation over the state `pulumi up` would leave, exported with --show-secrets
        ev = evaluate(program_main, config=config, secret_keys=secret_keys, stack=stack)
        state = tmp_path / "state.json"
        state.write_text(json.dumps(stack_export(ev, "2020-06-01T00:00:00Z")))
        assert run("rotation", "--state", str(state), "--now", "2030-01-01") == 1  # overdue: the fix commands are printed
        assert run("rotation", "--state", str(state), "--now", "2030-01-01", "--json", "--esc-environment", "acme/secret-chain/Production") == 1
        assert run("rotation", "--state", "-", "--now", "2020-06-02", "--warn-days", "400", stdin=state.read_text()) == 0
    files = [(f"manifest {p.name}", p.read_text()) for d in (manifests, tmp_path / "m2") for p in sorted(d.iterdir())]
    assert len(files) >= 6
    texts = run.outputs + files + seen
    leaks.STATS["texts"] += len(texts)
    assert scan(texts, canaries.needles()) == []
    assert sum(len(t) for _, t in run.outputs) > 10_000  # the commands did print their reports


@pytest.mark.parametrize("stack", STACKS)
def test_command_error_paths_print_no_secret(
    stack: str,
    canaries: Canaries,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config, secret_keys = chain_config(canaries, stack=stack)
    needles = canaries.needles()
    bad = dict(config)
    for key in SECRET_KEYS:
        if key in bad:
            variants = malformed_variants(catalog.get(key), bad[key])
            bad[key] = variants[0][1] if variants else "   "
            if variants:
                needles[f"{key} ({variants[0][0]})"] = variants[0][1]
    run = Commands(capsys)
    bad_path = write_config(tmp_path / "bad.json", bad, secret_keys)
    plain_path = write_config(tmp_path / "plaintext.json", config, [])  # secrets stored without --secret
    broken = tmp_path / "broken.json"
    broken.write_text(write_config(tmp_path / "good.json", config, secret_keys).read_text()[:-40] + "} trailing")
    with watching(caplog) as seen:
        assert run("preflight", "--stack", stack, "--config", str(bad_path)) == 1
        assert run("preflight", "--stack", stack, "--config", str(bad_path), "--json") == 1
        assert run("plan", "--stack", stack, "--config", str(bad_path)) == 2
        assert run("plan", "--stack", stack, "--config", str(bad_path), "--json", "--manifests", str(tmp_path / "m")) == 2
        assert run("preflight", "--stack", stack, "--config", str(plain_path)) == 1  # plaintext secrets are problems
        assert run("plan", "--stack", stack, "--config", str(plain_path)) == 0  # but the chain still wraps them
        assert run("preflight", "--stack", stack, "--config", str(broken)) == 2
        assert run("plan", "--stack", stack, "--config", "-", stdin=broken.read_text()) == 2
        assert run("rotation", "--state", str(broken)) == 2
        fake_pulumi(tmp_path / "bin", tmp_path / "good.json", fail=True)
        monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
        assert run("preflight", "--stack", stack) == 2
        assert run("plan", "--stack", stack) == 2
    errors = " ".join(t for w, t in run.outputs if w.startswith("stderr"))
    assert "is not valid JSON (line" in errors and "failed: error: no stack named" in errors
    texts = run.outputs + seen
    leaks.STATS["texts"] += len(texts)
    assert scan(texts, needles, min_length=7) == []


def test_real_process_prints_no_secret(canaries: Canaries, tmp_path: Path) -> None:
    """`python -m secret_chain` in its own process: stdout and stderr (warnings, logging to the console) scanned."""
    config, secret_keys = chain_config(canaries)
    path = write_config(tmp_path / "config.json", config, secret_keys)
    argv = ["plan", "--stack", "production", "--config", str(path), "--json"]
    result = subprocess.run([sys.executable, "-W", "always", "-m", "secret_chain", *argv], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["chain"]
    texts = [("stdout of plan", result.stdout), ("stderr of plan", result.stderr)]
    leaks.STATS["texts"] += len(texts)
    assert scan(texts, canaries.needles()) == []


# --- the scanner can fail ------------------------------------------------------------------------------


def test_scanner_finds_a_canary_planted_anywhere(caplog: pytest.LogCaptureFixture) -> None:
    from pulumi_digitalocean import get_domain_output
    from pulumi_kubernetes.apiextensions import CustomResource
    from pulumi_kubernetes.core.v1 import ConfigMap, Secret

    from tests.conftest import rsa_pem

    places = [
        "resource name",
        "label",
        "annotation",
        "non-secret input",
        "component output",
        "stack output",
        "Pulumi log",
        "Python log",
        "warning",
        "invoke argument",
        "unwrapped Secret data",
    ]
    planted = {place: f"planted-{secrets.token_hex(12)}" for place in places}
    base64_token = "ghp_" + secrets.token_hex(20)
    pem = rsa_pem()
    allowed = {"wrapped Secret data": secrets.token_hex(16), "secret stack output": secrets.token_hex(16)}
    in_cluster = secrets.token_hex(16)

    def program() -> None:
        component = pulumi.ComponentResource("test:index:Planted", f"c-{planted['resource name']}")
        component.register_outputs({"note": planted["component output"]})
        child = pulumi.ResourceOptions(parent=component)
        Secret(
            "labelled",
            metadata={"name": "s", "labels": {"x": planted["label"]}, "annotations": {"y": planted["annotation"]}},
            string_data=pulumi.Output.secret({"k": allowed["wrapped Secret data"]}),
            opts=child,
        )
        # pulumi_kubernetes' Secret class wraps data and stringData itself: register the type raw to plant one unwrapped
        pulumi.CustomResource(
            "kubernetes:core/v1:Secret", "unwrapped", {"metadata": {"name": "u"}, "stringData": {"k": planted["unwrapped Secret data"]}}
        )
        auth = base64.b64encode(f"octo-bot:{base64_token}".encode()).decode()
        ConfigMap("cm", metadata={"name": "cm"}, data={"auth": auth, "line": pem.splitlines()[5], "note": planted["non-secret input"]})
        CustomResource("monitor", api_version="monitoring.coreos.com/v1", kind="ServiceMonitor", spec={"token": pulumi.Output.secret(in_cluster)})
        pulumi.log.info(f"registered {planted['Pulumi log']}")
        logging.getLogger("planted").debug("debug %s", planted["Python log"])
        warnings.warn(f"careful {planted['warning']}", stacklevel=1)
        get_domain_output(name=planted["invoke argument"])
        pulumi.export("note", planted["stack output"])
        pulumi.export("hidden", pulumi.Output.secret(allowed["secret stack output"]))

    leaks_before = leaks.STATS["leaks"]
    observed = observe(program, {}, [], "production", False, caplog)
    ev = observed.evaluation
    needles = {**planted, "base64 of user:token": base64_token, "PEM line": pem, **allowed, "wrapped in a ServiceMonitor": in_cluster}
    found = find_leaks(ev, needles, observed.extra)
    where = {
        "resource name": "name of",
        "label": "label of",
        "annotation": "annotation of",
        "non-secret input": "non-secret input of",
        "component output": "output of",
        "stack output": "stack output",
        "Pulumi log": "Pulumi log",
        "Python log": "Python log",
        "warning": "warning",
        "invoke argument": "invoke argument of",
        "unwrapped Secret data": "non-secret input of",
        "base64 of user:token": "non-secret input of",
        "PEM line": "non-secret input of",
    }
    for label, prefix in where.items():
        assert any(line.startswith(prefix) and line.endswith(f"contains {label}") for line in found), (label, found)
    assert not [line for line in found if any(line.endswith(f"contains {label}") for label in (*allowed, "wrapped in a ServiceMonitor"))]
    misplaced = misplaced_secrets(ev, needles)
    assert any("spec of" in line and line.endswith("contains wrapped in a ServiceMonitor") for line in misplaced), misplaced
    assert not any(line.endswith(f"contains {label}") for line in misplaced for label in allowed)
    (unwrapped,) = [r for r in ev.of_type("kubernetes:core/v1:Secret") if r.name == "unwrapped"]
    assert unwrapped_secret_fields(ev) == [f"stringData of {unwrapped.urn} is not a secret value"]
    # an exception message and a command's output
    err = ConfigError([f'config "x:y" is bad: {planted["label"]}'])
    assert find_in_text(repr(err), planted, "repr") == ["repr: contains label"]
    assert find_in_text(f"token={base64.urlsafe_b64encode(('u:' + base64_token).encode()).decode()}", {"t": base64_token}) == ["text: contains t"]
    # what was found here was planted: count it apart from real leaks
    leaks.STATS["planted"] += len(where) + 4  # and the ServiceMonitor, the unwrapped field, the repr, the URL-safe base64
    leaks.STATS["planted hits"] += leaks.STATS["leaks"] - leaks_before
    leaks.STATS["leaks"] = leaks_before
