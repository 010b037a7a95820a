r"""Secret values that are well-formed but published, or shaped like a fake: never ready for a real stack.

The example configs (``examples/config/*.json``) must pass the format checks, so that ``make demo`` and
``secret-chain plan`` can render the chain offline; but a stack deployed with them would hold a private key
anyone can download and tokens that authenticate nowhere. This module names those values for the go/no-go
check (``preflight``): :func:`problem` says why a secret value is not ready, never repeating it. The stack
program does not call it (``plan`` is an offline render of whatever is configured).

Two detectors:

* **published keys**, by the SHA-256 of the public key's DER (SubjectPublicKeyInfo): the same key is caught in
  any PEM form (PKCS#1 or PKCS#8, line breaks, one line with ``\n``), and the list holds no secret;
* **patterned tokens**: a body (after a known prefix) that repeats a shorter string (``0123456789abcdef`` four
  times), holds a run of 8 or more equal characters (``…0000000000``), or names itself fake with two marker
  words (``FAKE…example``, ``not_real``). A random value rarely does: a run of 8 equal characters is the likeliest,
  about 2 in 10 million for 64 hex characters (57 positions x 16^-7), and far less for the other shapes.
"""

from __future__ import annotations

import hashlib
import re

from secret_chain.validators import Invalid

PUBLISHED_KEY_FINGERPRINTS: dict[str, str] = {
    "afe6059f629ebd2f77b1bfd85f1ce3335f743d16b8012c3ce997cdbc2debbe6e": "the example configs' GitHub App key (examples/config/*.json)",
}
"""SHA-256 (hex) of the DER SubjectPublicKeyInfo of private keys that are public, and where each was published."""

_PREFIXES = re.compile(r"(gh[pousr]_|github_pat_|dop_v1_|pul-)")
_MARKERS = ("fake", "example", "notreal", "not_real", "dummy", "sample", "placeholder", "testtoken", "secret")
_RUN = re.compile(r"(.)\1{7,}")


def key_fingerprint(pem: str) -> str | None:
    """SHA-256 (hex) of the public key of a PEM private key, or None when ``pem`` is not one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    text = pem.strip().replace("\\n", "\n")
    if "PRIVATE KEY-----" not in text:
        return None
    try:
        key = load_pem_private_key(text.encode(), password=None, unsafe_skip_rsa_key_validation=True)
    except (TypeError, ValueError):
        return None
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _periodic(body: str) -> bool:
    """True when ``body`` is a shorter string repeated (the last copy may be cut short), at least twice."""
    size = len(body)
    return any(body == (body[:period] * (size // period + 1))[:size] for period in range(1, size // 2 + 1))


def patterned(value: str) -> str | None:
    """Why ``value`` looks made up rather than generated (a reason that quotes nothing), or None."""
    text = "".join(value.split())
    body = _PREFIXES.sub("", text, count=1) if _PREFIXES.match(text) else text
    if len(body) < 16:
        return None
    if _periodic(body):
        return "repeats one short pattern"
    if _RUN.search(body):
        return "has a run of 8 or more equal characters"
    lowered = body.lower()
    found = {marker for marker in _MARKERS if marker in lowered}
    if len(found) >= 2:
        return "contains words such as fake or example"
    return None


def problem(value: str) -> str | None:
    """Why a secret value is not fit for a real stack although well-formed (never quoting it), or None."""
    fingerprint = key_fingerprint(value) if "PRIVATE KEY" in value else None
    if fingerprint is not None:
        where = PUBLISHED_KEY_FINGERPRINTS.get(fingerprint)
        if where is not None:
            return f"is a published private key ({where}; SHA-256 of its public key {fingerprint[:16]}…): anyone has it. Generate your own"
        return None
    reason = patterned(value)
    if reason is not None:
        return f"is not a real credential: it {reason}, like the example configs' fake values. Set the real value"
    return None


def refuse(value: str) -> str:
    """Raise :class:`Invalid` when :func:`problem` finds one; return ``value`` otherwise."""
    reason = problem(value)
    if reason is not None:
        raise Invalid(reason)
    return value
