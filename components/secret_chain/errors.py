"""Exceptions raised by secret-chain.

Every message is written so that it can be printed as-is: it names the config key or argument, says
what is wrong, and says how to fix it. No message ever contains a configured value.

Each is a :class:`pulumi.RunError`, the SDK's error for "a clean exit rather than the usual verbose unhandled error
logic which emits the source program text and complete stack trace" (pulumi/pulumi ``sdk/python/lib/pulumi/errors.py``):
the Python language host logs a RunError's message alone and any other exception as "Program failed with an unhandled
exception" with its stack trace (``sdk/python/cmd/pulumi-language-python-exec``: ``except pulumi.RunError as e:
pulumi.log.error(str(e))``). So a ``pulumi up`` with bad config prints the problem lines and their fixes, nothing else
(tests/test_run_errors.py). Callers still catch :class:`SecretChainError` for any of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from pulumi.errors import RunError


class SecretChainError(RunError):
    """Base class of every error secret-chain raises on purpose (a :class:`pulumi.RunError`: reported without a traceback)."""


class ConfigError(SecretChainError):
    """Stack config or component arguments are missing or malformed.

    Raised before any resource is registered. ``problems`` holds one line per bad key or argument;
    ``str()`` of the error is those lines joined by newlines (one line when one thing is wrong).
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(self.problems))
