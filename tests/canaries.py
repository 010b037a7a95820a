"""Canary values for every key of the catalog, derived from the catalog itself.

Every secret key gets a unique random value that passes the key's own format check; every plain key
gets a valid value. The values are made by generic rules on the shape of the key's ``example`` (a
token prefix such as ``ghp_…``, ``openssl rand -hex N``, a PEM file, an email address, a hostname, a
password), never by a table of key names, so a key added to the catalog later is covered as soon as
one rule fits it, and :class:`NoCanaryRule` names it when none does.

:func:`malformed_variants` derives, from a canary, values the same check rejects (wrong prefix,
truncated, embedded whitespace or a stray character, a truncated or unarmoured PEM): they carry
canary material into the error paths.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
from collections.abc import Iterator
from dataclasses import dataclass, field

from secret_chain import catalog, flux, github_actions
from secret_chain.catalog import Key
from secret_chain.ops import runbook
from secret_chain.parts import DECLARED_PARTS
from secret_chain.validators import Invalid
from tests.conftest import rsa_pem

PROVIDER_NAMESPACES = frozenset({"github", "digitalocean", "kubernetes"})
"""Config namespaces read by provider plugins themselves, not by the stack program (as preflight treats them)."""

_ALNUM = string.ascii_letters + string.digits


class NoCanaryRule(LookupError):
    """No generic rule makes a value that passes the key's check: add a rule to tests/canaries.py."""

    def __init__(self, key: str, tried: int) -> None:
        super().__init__(
            f'catalog key "{key}" has no canary rule: none of the {tried} generic candidates passes its format check. '
            "Add a rule for its example shape to tests/canaries.py so the leak suite covers it"
        )
        self.key = key


def _alnum(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def _lower(length: int) -> str:
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(length))


def candidates(entry: Key) -> Iterator[str]:
    """Candidate values for ``entry``, most specific first; each has at least 16 random characters."""
    example = entry.example.strip()
    hints = f"{example} {runbook.of(entry).generate} {entry.purpose}".lower()
    # A token prefix followed by an ellipsis: ghp_…, github_pat_…, pul-…, dop_v1_…
    if example.endswith("…") and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*[_-]", example[:-1]):
        prefix = example[:-1]
        yield prefix + secrets.token_hex(20)
        yield prefix + secrets.token_hex(32)
        yield prefix + _alnum(36)
        yield prefix + _alnum(22) + "_" + _alnum(59)
    # A random value as made by openssl: `openssl rand -hex 32`, `openssl rand -base64 32`.
    for kind, size in re.findall(r"openssl rand -(hex|base64) (\d+)", f"{example} {runbook.of(entry).generate}"):
        yield secrets.token_hex(int(size)) if kind == "hex" else base64.b64encode(secrets.token_bytes(int(size))).decode()
    # A PEM private key file (GitHub App keys).
    if ".pem" in hints or "private key" in hints:
        yield rsa_pem()
    # A password: Google's app-password shape, four groups of four letters.
    if "password" in hints:
        yield " ".join(_lower(4) for _ in range(4))
    # An email address: a random local part at the example's domain.
    if re.fullmatch(r"[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", example):
        local, domain = example.split("@")
        yield f"{local}-{secrets.token_hex(8)}@{domain}".lower()
        # at a domain of its own: a go/no-go check refuses the documentation's example.com (RFC 2606)
        yield f"{local}-{secrets.token_hex(8)}@mail-{secrets.token_hex(4)}.dev".lower()
    # A hostname: a random first label in the example's domain.
    if re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", example):
        first, rest = example.split(".", 1)
        yield f"{first}-{secrets.token_hex(8)}.{rest}"
    # A list setting (JSON text of a YAML list, e.g. secret-chain:parts): the example as its one item.
    if "array" in entry.json_types:
        yield json.dumps([example])
    # A numeric ID (GitHub App and installation IDs) or a GitHub user ID (``id:<number>``): 17 digits, no leading zero.
    digits = str(1 + secrets.randbelow(9)) + "".join(str(secrets.randbelow(10)) for _ in range(16))
    if example.isdigit():
        yield digits
    if re.fullmatch(r"id:[0-9]+", example):
        yield "id:" + digits
    # Opaque values (placeholders such as YOUR_CLIENT_ID): letters and digits, hex, base64.
    yield "cnry" + _alnum(28)
    yield secrets.token_hex(32)
    yield base64.b64encode(secrets.token_bytes(32)).decode()


def _passes(entry: Key, value: str) -> str | None:
    """``value`` as the key's check normalises it, or None when the check, or preflight's refusal of the
    documentation's examples (:attr:`Key.not_example`), refuses it: a test's operator types their own values."""
    try:
        if entry.not_example is not None:
            entry.not_example(value)
        return entry.check(value)
    except Invalid:
        return None


def canary_for(entry: Key) -> str:
    """A unique random value of ``entry`` that its check accepts; :class:`NoCanaryRule` if no rule fits."""
    tried = 0
    for value in candidates(entry):
        tried += 1
        if _passes(entry, value) is not None:
            return value
    raise NoCanaryRule(entry.key, tried)


def plain_value(entry: Key) -> str:
    """A valid value of a plain key: its catalog example when that passes, else a generic candidate."""
    if _passes(entry, entry.example) is not None:
        return entry.example
    return canary_for(entry)


@dataclass(frozen=True)
class Canary:
    """The value of one catalog key as set in config, and as the key's check normalises it."""

    key: str
    raw: str
    normalized: str
    secret: bool


@dataclass
class Canaries:
    """One value per catalog key: random canaries for the secret keys, valid values for the others."""

    values: dict[str, Canary] = field(default_factory=dict)

    @property
    def secret(self) -> dict[str, Canary]:
        """The secret keys' canaries."""
        return {k: c for k, c in self.values.items() if c.secret}

    def needles(self, keys: set[str] | None = None) -> dict[str, str]:
        """Label → value of every secret canary (raw and normalised forms), for the leak scanner."""
        out: dict[str, str] = {}
        for key, canary in self.secret.items():
            if keys is None or key in keys:
                out[key] = canary.raw
                if canary.normalized.strip() != canary.raw.strip():
                    out[f"{key} (normalised)"] = canary.normalized
        return out


def make_canaries() -> Canaries:
    """Canaries for the whole catalog. Multi-line secrets alternate between real newlines and the one-line ``\\n`` form."""
    out = Canaries()
    multi_line = 0
    for entry in catalog.KEYS:
        raw = canary_for(entry) if entry.secret else plain_value(entry)
        if entry.secret and "\n" in raw.strip():
            multi_line += 1
            one_line = raw.strip().replace("\n", "\\n")
            if multi_line % 2 == 0 and _passes(entry, one_line) is not None:
                raw = one_line
        normalized = entry.check(raw)
        out.values[entry.key] = Canary(entry.key, raw, normalized, entry.secret)
    raws = [c.raw for c in out.secret.values()]
    assert len(set(raws)) == len(raws), "two secret canaries are equal"
    return out


# --- whole-chain configurations -------------------------------------------------------------------

FLUX_MODES = ("app", "token", "token-alias")
"""Flux's Git credentials: GitHub App keys, a token, or a token under the older alias key."""
CI_MODES = ("oidc", "fallback")
"""CI (issue 14): Pulumi Cloud by OIDC with an organization token and the CI GitHub App, as recommended; or a
team token plus the opt-in stored-token fallback, with the deprecated token keys an older config still holds."""

_CI_DROP = {
    "oidc": tuple(
        github_actions.BY_GITHUB_NAME[n].config_key
        for n in ("PULUMI_TEAM", "PULUMI_AUTH", "PULUMI_FALLBACK_ACCESS_TOKEN", "PULUMI_ACCESS_TOKEN", "WORKFLOW_DISPATCH_TOKEN")
    ),
    "fallback": (),
}
_CI_SET = {"oidc": {"ci:pulumiTokenType": "organization"}, "fallback": {"ci:pulumiTokenType": "team", "ci:pulumiAuth": "stored-token-fallback"}}


def esc_environment_for(stack: str) -> str:
    """The conventional ESC environment of a stack."""
    return "acme/secret-chain/Production" if stack == "production" else "acme/secret-chain/Preview"


def chain_config(
    canaries: Canaries,
    *,
    stack: str = "production",
    flux_mode: str = "app",
    ci_mode: str = "oidc",
    flagged: bool = True,
    rotating: bool = True,
) -> tuple[dict[str, str], list[str]]:
    """A complete chain config of ``canaries`` for one Flux and CI mode.

    ``flagged=False`` stores every secret as plain config (as a careless ``pulumi config set`` would):
    the chain must still keep the values secret. ``rotating=False`` leaves out the keys set only while
    a rotation is in progress (the catalog's ``temporary`` keys), as between rotations.
    """
    config = {key: c.raw for key, c in canaries.values.items() if rotating or not getattr(catalog.get(key), "temporary", False)}
    config.pop(DECLARED_PARTS.key)  # a declaration, not a value: the whole chain is what the config enables
    config.pop(catalog.STACK_KIND.key)  # a declaration too: the stack's name says its kind
    secret_keys = [key for key in config if canaries.values[key].secret]
    config["secret-chain:escEnvironment"] = esc_environment_for(stack)
    repository = config.get("secret-chain:githubRepository", "")
    if "/" in repository:
        config["github:owner"] = repository.split("/", 1)[0]  # the provider writes to its owner (github_actions.owner_problem)
    drop: tuple[str, ...] = _CI_DROP[ci_mode]
    if flux_mode == "app":
        drop += (flux.TOKEN_KEY.key,)
    elif flux_mode in ("token", "token-alias"):
        drop += tuple(k.key for k in flux.APP_KEYS)
    else:
        raise ValueError(flux_mode)
    for key in drop:
        config.pop(key, None)
    config.update(_CI_SET[ci_mode])
    if flux_mode == "token-alias":
        alias = flux.TOKEN_KEY.aliases[0]
        config[alias] = config.pop(flux.TOKEN_KEY.key)
        secret_keys.append(alias)
    present = [k for k in secret_keys if k in config]
    return config, present if flagged else []


# --- malformed values -----------------------------------------------------------------------------


def _token_prefix(entry: Key) -> str:
    example = entry.example.strip()
    return example[:-1] if example.endswith("…") else ""


def _mutations(value: str, prefix: str) -> Iterator[tuple[str, str]]:
    text = value.strip()
    mid = len(text) // 2
    if "-----BEGIN" in text:
        lines = text.replace("\\n", "\n").splitlines()
        body = [line for line in lines if "-----" not in line]
        yield "truncated PEM", "\n".join([*lines[: len(lines) // 2], lines[-1]]) + "\n"
        yield "PEM body without armour", "\n".join(body) + "\n"
        yield "PEM with a corrupted line", "\n".join([*lines[:3], "!" + lines[3][1:], *lines[4:]]) + "\n"
        return
    yield "wrong prefix", "x" + text[1:] if not text.startswith("x") else "y" + text[1:]
    yield "no prefix", re.sub(r"^[A-Za-z0-9]+[_-]", "", text)
    yield "truncated", text[: max(len(text) * 3 // 5, 1)]
    yield "embedded whitespace", f"{text[:mid]} {text[mid:]}"
    yield "embedded newline", f"{text[:mid]}\n{text[mid:]}"
    yield "stray character", f"{text[:mid]}!{text[mid:]}"
    yield "too short", text[: len(prefix) + 7]


MIN_RANDOM = 7
"""Random characters a malformed variant keeps at least, so that finding it in a message is never chance."""


def malformed_variants(entry: Key, value: str) -> list[tuple[str, str]]:
    """(what, value) for each mutation of ``value`` that ``entry``'s check rejects.

    Every variant keeps at least :data:`MIN_RANDOM` characters of the canary besides a token prefix.
    """
    prefix = _token_prefix(entry)
    seen: set[str] = set()
    out = []
    for what, mutated in _mutations(value, prefix):
        random_part = mutated.strip().removeprefix(prefix) if prefix else mutated.strip()
        if mutated in seen or len(random_part) < MIN_RANDOM or mutated.strip() == value.strip():
            continue
        seen.add(mutated)
        if _passes(entry, mutated) is None:
            out.append((what, mutated))
    return out
