"""Every error the package raises on purpose reaches a real ``pulumi up`` as its message alone, not a traceback.

The Python language host runs the program and reports its failure (pulumi/pulumi
``sdk/python/cmd/pulumi-language-python-exec``, the ``__main__`` block, at commit 1b5949891b3c)::

    coro = pulumi.runtime.run_in_stack(run)
    loop.run_until_complete(coro)
    exit_code = 0
    except pulumi.RunError as e:
        pulumi.log.error(str(e))
    except Exception:  # noqa -- we really want to catch any exception here
        error_msg = (
            "Program failed with an unhandled exception:\\n"
            + _get_user_stacktrace(user_program_abspath)
        )
        pulumi.log.error(error_msg)
        exit_code = PYTHON_PROCESS_EXITED_AFTER_SHOWING_USER_ACTIONABLE_MESSAGE_CODE

``run_in_stack`` ends in ``run_pulumi_func`` (``sdk/python/lib/pulumi/runtime/stack.py``), which waits for the
outstanding RPCs and re-raises the program's exception unchanged ("Re-raise ex so the language runtime can report
the error"); an exception raised inside an ``apply`` comes back the same way (``wait_for_rpcs`` raises the RPC
manager's ``unhandled_exception``). ``pulumi.RunError`` (``sdk/python/lib/pulumi/errors.py``) is the SDK's error for
"a clean exit rather than the usual verbose unhandled error logic which emits the source program text and complete
stack trace". The offline evaluator runs the program through the same ``run_pulumi_func``
(:func:`secret_chain.ops.offline.evaluate`), so :func:`language_host_report` below, a port of the two ``except``
clauses, sees what the language host sees.
"""

from __future__ import annotations

import runpy
import traceback
from collections.abc import Callable
from pathlib import Path

import pulumi
import pytest

from secret_chain import GitHubActionsSecrets, SecretChain
from secret_chain.errors import ConfigError, SecretChainError
from tests.conftest import canary_config
from tests.runtime import evaluate

ROOT = Path(__file__).resolve().parent.parent
UNHANDLED = "Program failed with an unhandled exception:\n"
"""What pulumi-language-python-exec logs before the stack trace of any exception that is not a RunError."""


def language_host_report(program: Callable[[], object], config: dict[str, str], secret_keys: list[str], stack: str = "production") -> str:
    """The error line(s) pulumi-language-python-exec logs when ``program`` fails (a port of its two ``except`` clauses)."""
    try:
        evaluate(program, config=config, secret_keys=secret_keys, stack=stack)
    except pulumi.RunError as e:
        return str(e)
    except Exception:  # the language host catches any exception here, and prints where it came from
        return UNHANDLED + traceback.format_exc()
    raise AssertionError("the program did not fail")


def test_the_error_classes_are_run_errors() -> None:
    """SecretChainError stays the base callers catch; it and every subclass is a RunError."""
    assert issubclass(SecretChainError, pulumi.RunError)
    assert issubclass(ConfigError, SecretChainError)


def test_a_config_error_of_the_stack_program_is_logged_as_its_message_alone() -> None:
    config, secret_keys = canary_config()
    del config["prometheus:authToken"]
    config["secret-chain:parts"] = '["PrometheusAuth"]'
    report = language_host_report(lambda: runpy.run_path(str(ROOT / "__main__.py")), config, secret_keys)
    assert not report.startswith(UNHANDLED) and "Traceback" not in report, report
    assert report.startswith('config "prometheus:authToken" is missing'), report
    assert "pulumi env set acme/secret-chain/Production pulumiConfig.prometheus:authToken" in report


def test_an_argument_checked_once_known_is_logged_as_its_message_alone() -> None:
    """A bad value from another resource's output fails inside an apply; the host still prints only the line."""
    config, secret_keys = canary_config()

    def program() -> None:
        chain = SecretChain("chain", {"acme_email": pulumi.Output.from_input("not-an-email")})
        chain.parts.apply(lambda _: None)

    config.update({"secret-chain:domain": "example.com", "gateway:digitaloceanDnsToken": "dop_v1_" + "ab" * 32})
    report = language_host_report(program, config, [*secret_keys, "gateway:digitaloceanDnsToken"])
    assert not report.startswith(UNHANDLED) and "Traceback" not in report, report
    assert 'argument "acme_email"' in report and "not a valid email" in report


@pytest.mark.parametrize("stack", ["production", "preview-base"])
def test_a_component_used_on_its_own_reports_its_config_error_alone(stack: str) -> None:
    config, secret_keys = canary_config()
    config["github:owner"] = "other-org"
    report = language_host_report(lambda: GitHubActionsSecrets("ci", {"repository": "acme/platform"}), config, secret_keys, stack)
    assert not report.startswith(UNHANDLED) and "Traceback" not in report, report
    assert 'config "github:owner" is other-org' in report
