"""Exceptions raised by secret-chain.

Every message is written so that it can be printed as-is: it names the config key or argument, says
what is wrong, and says how to fix it. No message ever contains a configured value.
"""

from __future__ import annotations

from collections.abc import Sequence


class SecretChainError(Exception):
    """Base class of every error secret-chain raises on purpose."""


class ConfigError(SecretChainError):
    """Stack config or component arguments are missing or malformed.

    Raised before any resource is registered. ``problems`` holds one line per bad key or argument;
    ``str()`` of the error is those lines joined by newlines (one line when one thing is wrong).
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(self.problems))
