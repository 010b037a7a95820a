"""Testing a program that uses the components, as Pulumi's docs teach (issue 21 item 5; docs/testing.md).

The docs' mock (pulumi.com/docs/iac/guides/testing/unit, Python) echoes every resource's inputs back as its outputs.
A generated rollout key is a ``random.RandomBytes``' ``hex``, which that mock leaves out: before, PrometheusAuth's
``rollout_annotations`` then failed the whole program (``AssertionError: While processing input:
'rollout_annotations'``); now it stays unknown, as in a preview, and :class:`secret_chain.testing.Mocks` gives it a
value. Both run as a user runs them: pytest in the project's folder (tests/user_project.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings

from secret_chain import PrometheusAuth, kube, testing
from tests.conftest import canary_config
from tests.runtime import fold
from tests.user_project import write_project

ROOT = Path(__file__).resolve().parent.parent


def run_pytest(python: Path | str, folder: Path, test_file: str, extra_path: tuple[Path, ...] = ()) -> subprocess.CompletedProcess[str]:
    """``python -m pytest test_file`` in ``folder``, as the user runs it (no plugins of this repository's suite)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "PYTEST_"))}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (folder, *extra_path))
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the project's own pytest, without plugins other packages bring
    return subprocess.run(
        [str(python), "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", test_file],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def assert_passed(result: subprocess.CompletedProcess[str], checks: list[str], secrets: dict[str, str]) -> None:
    """pytest passed every test, each check ran, and no secret reached its output."""
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert f"{len(checks)} passed" in result.stdout, output[-4000:]
    for check in checks:
        assert f"checked: {check}" in result.stdout, (check, output[-4000:])
    for value in secrets.values():
        assert value not in output


CHECKS = ["the deployment", "the secret names"]


def test_the_docs_example_passes_with_the_echo_mock(tmp_path: Path) -> None:
    values = write_project(tmp_path)
    result = run_pytest(sys.executable, tmp_path, "test_docs_mock.py")
    assert "While processing input" not in result.stdout + result.stderr
    assert_passed(result, CHECKS, values)


def test_the_helper_mocks_give_the_rollout_annotations_a_value(tmp_path: Path) -> None:
    values = write_project(tmp_path)
    assert_passed(run_pytest(sys.executable, tmp_path, "test_helper_mock.py"), [*CHECKS, "the rollout annotations"], values)


# --- the helper itself, in process ----------------------------------------------------------------------------------


def test_the_helper_mock_echoes_inputs_and_generates_random_bytes() -> None:
    mocks = testing.Mocks()
    args = pulumi.runtime.MockResourceArgs(testing.RANDOM_BYTES, "k", {"length": 32.0}, "", "", False)  # type: ignore[arg-type]
    resource_id, state = mocks.new_resource(args)
    assert resource_id == "k_id" and state["length"] == 32.0
    assert state["hex"] == testing.random_bytes_stand_in(testing.RANDOM_BYTES, "k", 32)["hex"] and len(state["hex"]["value"]) == 64
    call = pulumi.runtime.MockCallArgs("digitalocean:index/getDomain:getDomain", {"name": "example.com"}, "")  # type: ignore[arg-type]
    assert mocks.call(call)[0]["domainUrn"] == "do:domain:example.com"
    unknown = pulumi.runtime.MockCallArgs("aws:index/getRegion:getRegion", {}, "")  # type: ignore[arg-type]
    assert mocks.call(unknown) == ({}, [])  # what the docs' mock answers, with no check failures


def test_set_config_folds_fields_into_their_object_key() -> None:
    assert testing.stack_config({"namespace:imagePullSecret.token": "t", "namespace:imagePullSecret.username": "u", "a:b": "c"}) == {
        "namespace:imagePullSecret": '{"token": "t", "username": "u"}',
        "a:b": "c",
    }
    assert testing.secret_config_keys(["namespace:imagePullSecret.token", "namespace:imagePullSecret.username", "x:y"]) == [
        "namespace:imagePullSecret",
        "x:y",
    ]


class EchoMocks(pulumi.runtime.Mocks):
    """The docs' mock: inputs back as outputs, ``{}`` for every function."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return args.name + "_id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


@pytest.mark.parametrize("configured", [False, True], ids=["generated-key", "configured-key"])
@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_under_the_echo_mock_the_annotations_are_the_digest_or_unknown_never_made_up(preview: bool, configured: bool) -> None:
    """A generated key has no value under the echo mock: the annotations stay unknown (their apply never runs), never
    a digest made without the key (before: ``AssertionError`` in the component). A configured key is config, known in
    update and preview alike, so the annotations are its digest under the echo mock too."""
    config, secret_keys = canary_config()
    key = config["secret-chain:rolloutKey"]
    if not configured:
        del config["secret-chain:rolloutKey"]
        secret_keys.remove("secret-chain:rolloutKey")
    seen: list[object] = []
    settings.set_root_resource(None)  # type: ignore[arg-type]  # a fresh stack, as offline.evaluate makes one
    pulumi.runtime.set_mocks(EchoMocks(), preview=preview)
    pulumi.runtime.set_all_config(*fold(config, secret_keys))

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[Any]:
        metrics = PrometheusAuth("metrics", {"namespace": "apps"})
        return metrics.rollout_annotations.apply(seen.append)

    program()
    if configured:
        digest = kube.rollout_digest(key, "apps", "prometheus-auth", {"PROMETHEUS_AUTH_TOKEN": config["prometheus:authToken"]})
        assert seen == [{"secret-chain/rollout-hmac-sha256-prometheus-auth": digest}]
    else:
        assert seen == []


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_the_helper_mock_answers_the_components_look_ups_through_the_runtime(preview: bool) -> None:
    """Through the mock monitor, not by calling ``call``: CertManagerDnsIssuer looks its zone up (getDomain) and the
    whole SecretChain looks up more. Before, the helper answered ``(result, None)`` and the monitor's loop over the
    failures raised ``TypeError: 'NoneType' object is not iterable`` (pulumi runtime/mocks.py ``MockMonitor.Invoke``)."""
    from secret_chain import CertManagerDnsIssuer

    config, secret_keys = canary_config()
    config["gateway:digitaloceanDnsToken"] = "dop_v1_" + "5e" * 32
    secret_keys.append("gateway:digitaloceanDnsToken")
    seen: list[object] = []
    settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi.runtime.set_mocks(testing.Mocks(), preview=preview)
    pulumi.runtime.set_all_config(*fold(config, secret_keys))

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[Any]:
        issuer = CertManagerDnsIssuer("dns", {"email": "ops@example.com", "domain": "example.com"})
        return issuer.issuer_name.apply(seen.append)

    program()
    assert seen and isinstance(seen[0], str) and seen[0]


def docs_files() -> dict[str, str]:
    """The Python blocks of docs/testing.md that open with their file name (``# infra.py``), by that name."""
    page = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    files: dict[str, str] = {}
    for block in re.findall(r"^```python\n(.*?)^```", page, re.MULTILINE | re.DOTALL):
        first = block.splitlines()[0]
        if re.fullmatch(r"# \w+\.py", first):
            files[first[2:]] = block
    return files


def test_the_pages_examples_pass_as_written(tmp_path: Path) -> None:
    """docs/testing.md's program and both tests, copied as they are (only the project's own components/ package, which
    the page does not show, comes from tests/user_project.py). Before, the page's placeholder values (``ghp_…``) made
    the program stop at import with a ConfigError."""
    files = docs_files()
    assert set(files) == {"infra.py", "test_infra.py", "test_helper.py"}
    write_project(tmp_path)  # components/ and the suite's own copies, replaced below by the page's
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for test_file in ("test_infra.py", "test_helper.py"):
        result = run_pytest(sys.executable, tmp_path, test_file)
        assert result.returncode == 0 and "1 passed" in result.stdout, (test_file, (result.stdout + result.stderr)[-3000:])
