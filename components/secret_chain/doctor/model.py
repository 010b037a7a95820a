"""The doctor's vocabulary: what one check of one link of the running chain found, and what a check is given.

A *link* is one credential or object of the chain as it lives in a running system (GitHub, Pulumi ESC, Kubernetes,
DigitalOcean). A *check* is a plain function ``check(context) -> list[Finding]`` that reads that system through its
public API, read-only, and never returns a secret value: a :class:`Finding` holds names, statuses, dates and keyed
hashes only. Checks run concurrently (threads, with a bound), so a check keeps no state between calls and raises
nothing: a failure to reach a system is itself a :class:`Finding` (``FAIL``, or ``WARN`` where the link is optional).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


class Status(enum.Enum):
    """How one link stands.

    ``OK``; ``WARN`` (works now, needs a person soon: expires within the window, an optional check could not run);
    ``FAIL`` (broken now: a person sees the symptom).
    """

    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Finding:
    """What one check found about one link.

    ``link`` is a stable dotted id (``github.ghcr-token``, ``kubernetes.secret/<namespace>/<name>``) that the report,
    the scheduled issue and ``rotation --live`` key on. ``checked`` says what was looked at, in a sentence, also when
    all is well. ``symptom`` is what a person sees when the link is broken (the runbook's words: "pods fail with
    ImagePullBackOff"), ``key`` the config key at fault, ``fix`` the exact command or step that repairs it, and
    ``source`` the public API page the check relies on. ``expires`` is a real deadline learned from the system (a
    token's expiration header, a certificate's ``notAfter``). ``facts`` are extra non-secret details for ``--json``.
    """

    link: str
    status: Status
    checked: str
    symptom: str = ""
    key: str | None = None
    fix: str = ""
    source: str = ""
    expires: datetime.datetime | None = None
    facts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """What every check is given: the stack, its resolved config and where the running systems are.

    ``config`` maps full config keys (``secret-chain:domain``, ``ghcr:token``) to their values as
    ``pulumi config --show-secrets --json`` gives them (secrets in clear: never print them). ``now`` is the one clock
    of a run, so that expiry windows are computed once and tests can fix it.
    """

    stack: str
    kind: str
    config: Mapping[str, object]
    now: datetime.datetime
    warn_days: int = 14
    github_api_url: str = "https://api.github.com"
    kubeconfig: str | None = None
    kube_context: str | None = None
    prometheus_url: str | None = None
    timeout: float = 10.0
    environ: Mapping[str, str] = field(default_factory=dict)


Check = Callable[[Context], list[Finding]]
"""A check of one or more links: reads, never writes, never raises, never returns a secret value."""
