"""Shared fixtures: a valid chain config with unique canary secrets, and an evaluator in both modes."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import hypothesis  # imported (and assertion-rewritten) at start-up, not lazily at the session end (see below)
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from secret_chain.errors import ConfigError
from secret_chain.ops.offline import Evaluation
from tests import leaks  # imported at start-up: the controller prints its summary at the end (see pytest_sessionfinish)
from tests.runtime import evaluate

# Hypothesis's time limits (200 ms per example, and its too-slow health check on data generation) measure the machine's
# load, not the code: with pytest-xdist workers, and other jobs, on two cores an example can stall past them and fail
# the run as Flaky. No property here is about speed; every other setting stays Hypothesis's default.
hypothesis.settings.register_profile("secret-chain", deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow])
hypothesis.settings.load_profile("secret-chain")


def rsa_pem() -> str:
    """A fresh, throwaway RSA key in the PKCS#1 PEM form GitHub App keys come in."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()).decode()


_PEM = rsa_pem()


def canary_config() -> tuple[dict[str, str], list[str]]:
    """A complete, valid config whose every secret is a unique random canary."""
    values = {
        "secret-chain:escEnvironment": ("acme/secret-chain/Production", False),
        "secret-chain:githubRepository": ("acme/platform", False),
        "github:owner": ("acme", False),
        "kubernetes:enableSecretMutable": ("true", False),
        "secret-chain:rolloutKey": (secrets.token_hex(32), True),
        "namespace:imagePullSecret.username": ("octo-bot", False),
        "namespace:imagePullSecret.token": ("ghp_" + secrets.token_hex(18), True),
        "prometheus:authToken": (secrets.token_hex(32), True),
        "ci:pulumiOrganization": ("acme", False),
        "ci:pulumiTokenType": ("organization", False),
        "ci:githubAppId": ("424242", False),
        "ci:githubAppPrivateKey": (_PEM, True),
    }
    return {k: v for k, (v, _) in values.items()}, [k for k, (_, s) in values.items() if s]


@pytest.fixture(autouse=True)
def _no_ambient_provider_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mutable-Secrets check also honours an environment variable: keep the runner's out of the tests."""
    monkeypatch.delenv("PULUMI_K8S_ENABLE_SECRET_MUTABLE", raising=False)
    monkeypatch.delenv("GITHUB_OWNER", raising=False)  # pulumi-github's owner fallback, read like github:owner
    # GitHub Actions sets CI=true (test.yml runs this suite there): preflight then also asks for a way to the cluster
    # (secret_chain.ops.preflight.check_cluster_access), which the tests that want it set themselves.
    monkeypatch.delenv("CI", raising=False)


@pytest.fixture
def chain_config() -> tuple[dict[str, str], list[str]]:
    return canary_config()


@pytest.fixture(params=[False, True], ids=["update", "preview"])
def preview(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


Run = Callable[..., Evaluation]


@pytest.fixture
def run(preview: bool) -> Run:
    """Evaluate a program on the mock runtime in the parametrised mode."""

    def _run(program: Callable[[], Any], config: dict[str, str], secret_keys: list[str] | None = None, stack: str = "production") -> Evaluation:
        return evaluate(program, config=config, secret_keys=secret_keys, stack=stack, preview=preview)

    return _run


def secret_values(config: dict[str, str], secret_keys: list[str]) -> list[str]:
    """The secret values of a config, each also in the normalised forms that may be stored."""
    return [config[k].strip() for k in secret_keys]


def config_error(
    run: Run, build: Callable[[], object], config: dict[str, str], secret_keys: list[str] | None = None, stack: str = "production"
) -> ConfigError:
    """Evaluate ``build`` on ``stack``; assert it raised one ConfigError and registered nothing but the root stack."""
    caught: list[ConfigError] = []

    def program() -> None:
        try:
            build()
        except ConfigError as err:
            caught.append(err)

    ev = run(program, config, secret_keys, stack=stack)
    assert [r.type for r in ev.registrations] == ["pulumi:pulumi:Stack"]
    (err,) = caught
    return err


def secret_data(inputs: dict[str, Any]) -> dict[str, str]:
    """A registered Kubernetes Secret's content as plain strings, from ``stringData`` or base64 ``data``."""
    import base64

    from secret_chain.ops.offline import unwrap

    if "data" in inputs:
        return {k: base64.b64decode(v).decode() for k, v in unwrap(inputs["data"]).items()}
    data: dict[str, str] = unwrap(inputs["stringData"])
    return data


# --- the leak scan's figures, also from pytest-xdist workers ---------------------------------------------------------

_LEAK_SCAN = "secret_chain_leak_scan"
_leak_scans_from_workers: list[dict[str, int]] = []


def report_leak_scan(config: pytest.Config, figures: dict[str, int]) -> None:
    """Print the leak scan's figures on the terminal now (also with -q). A pytest-xdist worker's output is not shown:
    there the figures go to the controller, which prints the sum of all workers' at the end."""
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput.setdefault(_LEAK_SCAN, []).append(figures)
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("\n" + leaks.summary(figures))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object | None) -> None:
    """A pytest-xdist worker finished: keep the figures it handed over."""
    _leak_scans_from_workers.extend(getattr(node, "workeroutput", {}).get(_LEAK_SCAN, []))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _leak_scans_from_workers:
        terminalreporter.write_line(leaks.summary(leaks.merge(_leak_scans_from_workers)))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Collect garbage before the terminal summary runs.

    Tests that feed a bad value through an Output leave futures whose exception nobody retrieved; their
    ``__del__`` logs a traceback whenever the garbage collector runs. On CPython 3.11.7, one running inside
    the ``compile`` of a lazily imported module (the hypothesis plugin imports ``hypothesis`` in its terminal
    summary) failed the run with ``SystemError: AST constructor recursion depth mismatch`` after every test
    had passed. Collecting here runs those finalizers outside any compile. Under pytest-xdist this hook runs in every
    worker too (each is a whole pytest session), before the worker reports back and exits.
    """
    import gc

    gc.collect()
