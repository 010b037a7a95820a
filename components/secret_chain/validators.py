"""Format checks for the values that flow through the chain.

Each check takes the raw string and returns the normalised value, or raises :class:`Invalid` with a
reason. A reason describes the value (its kind, length, first-line shape) but never repeats it, so
it can be shown in an error message even when the value is a secret.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Check = Callable[[str], str]
"""A format check: raw string in, normalised string out, :class:`Invalid` on bad input."""


class Invalid(ValueError):
    """A value failed its format check. The message is safe to show: it never contains the value.

    ``refused``: for a check over a list, the one item refused (a public name), which a message may quote.
    """

    refused: object = None


class NameInvalid(Invalid):
    """A refused public name: a namespace, object name, DNS name, repository or port.

    Such a value is never a secret, so the config layer quotes it (:func:`shown`) next to the reason: the
    reason alone ("item 0 is not a valid Kubernetes name") leaves a person counting. Every other check's
    value (IDs, logins, emails, URLs, tokens) is left out, as a value typed into the wrong field may be a secret.
    """


# GitHub token kinds by prefix (https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/).
GITHUB_TOKEN_KINDS: dict[str, str] = {
    "ghp_": "classic personal access token",
    "github_pat_": "fine-grained personal access token",
    "gho_": "OAuth access token",
    "ghu_": "GitHub App user-to-server token",
    "ghs_": "GitHub App installation token",
    "ghr_": "GitHub App refresh token",
}

_GITHUB_TOKEN_BODY = re.compile(r"[A-Za-z0-9_]+")
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_GITHUB_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
_HOST_LABEL = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?")
_HEX = re.compile(r"[0-9a-fA-F]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")


def github_token_kind(value: str) -> str | None:
    """Return the prefix (``ghp_``, ``github_pat_``, …) of a GitHub token, or None if it has none."""
    for prefix in GITHUB_TOKEN_KINDS:
        if value.startswith(prefix):
            return prefix
    return None


def _describe_kind(value: str) -> str:
    prefix = github_token_kind(value)
    if prefix is None:
        return f"a value of {len(value)} characters with no GitHub token prefix"
    return f"a {GITHUB_TOKEN_KINDS[prefix]} ({prefix}…)"


SHOWN_MAX = 40
"""At most this many characters of a refused value are quoted in a message."""

_CREDENTIAL_SHAPES = re.compile(r"(gh[pousr]_|github_pat_|dop_v1_|pul-|-----BEGIN)")


def shown(value: object) -> str | None:
    """A refused non-secret value as a message may quote it: shortened, printable, in double quotes; or None.

    Only for values that are not secret (a namespace, domain, repository, port…): the caller decides that. None
    when the value is not a string, or looks like a credential pasted into the wrong field (a GitHub, DigitalOcean
    or Pulumi token, a PEM key): those are never quoted. Control characters, lone surrogates and other
    unprintable characters are shown as escapes, and more than :data:`SHOWN_MAX` characters are cut with ``…``.
    """
    if not isinstance(value, str) or _CREDENTIAL_SHAPES.search(value):
        return None
    cut = value if len(value) <= SHOWN_MAX else value[: SHOWN_MAX - 1]
    return f'"{printable(cut, also=chr(34) + chr(92))}{"…" if cut != value else ""}"'


def printable(text: str, also: str = "") -> str:
    r"""``text`` with every character a terminal could act on written as an escape: the one door to the terminal.

    Every value that reaches a terminal from config, a state file or another program (a ``github:owner``, an object
    name in ``pulumi stack export``, a line of ``kubectl``'s stderr) goes through here, whole lines at a time: a
    newline would forge a line of its own (an ``OK`` after a problem), and an escape sequence (``[…``, the 8-bit
    CSI ````) would move the cursor, recolour or erase what was printed. What is not printable by
    :meth:`str.isprintable` is escaped: C0 and C1 controls, DEL, line and paragraph separators, format characters
    (bidirectional overrides) and lone surrogates. ``also``: characters escaped too (a quoted value's ``"`` and ``\``).
    """
    return "".join(c if c.isprintable() and c not in also else _escape(c) for c in text)


def _escape(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def utf8_text(check: Check) -> Check:
    r"""Wrap a check so that a string that is not valid Unicode text is refused first.

    A lone UTF-16 surrogate (``"\ud800"``, which JSON's ``\ud800`` escape and Python's ``surrogateescape``
    produce) cannot be encoded as UTF-8: every consumer (the Pulumi engine's gRPC strings, the Kubernetes API, a
    base64 of the bytes) would fail on it later with a ``UnicodeEncodeError`` whose text holds the whole value.
    The reason gives the position, never the value.
    """

    def checked(value: str) -> str:
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as err:
                raise Invalid(
                    f"is not valid Unicode text: character {err.start + 1} is a lone UTF-16 surrogate, which has no UTF-8 "
                    "form (a value copied through a broken encoder?)"
                ) from None
        return check(value)

    checked.__doc__ = check.__doc__
    checked.__wrapped__ = check  # type: ignore[attr-defined]
    return checked


_PLACEHOLDER = re.compile(r"(?i)(?:\[?your[-_]|<[^<>]*>$|set[-_ ]me\b|changeme$|replace[-_]?me$|xxxx)")
_TOKEN_PREFIX = re.compile(r"(gh[pousr]_|github_pat_|dop_v1_|pul-)")


def placeholder(value: str) -> str:
    """Refuse a placeholder a runbook or template tells a person to replace (``YOUR_CLIENT_SECRET``, ``<set me>``…).

    The runbook (seeds/three-tier-secrets-runbook.txt) writes ``YOUR_CLIENT_ID``, ``YOUR_CLIENT_SECRET``,
    ``YOUR_APP_PASSWORD``, ``YOUR_GENERATED_TOKEN``, ``ghp_YOUR_TOKEN``, ``dop_v1_YOUR_TOKEN_HERE`` and
    ``your-github-username``; none of them can ever authenticate, so they are refused for every key, by kind
    (after any token prefix: ``YOUR_…``/``your-…``/``[your-…``, ``<…>``, ``set me``, ``changeme``, ``replace-me``, ``xxxx``;
    not any ``[…]``, which is how a JSON list starts).
    """
    body = _TOKEN_PREFIX.sub("", value.strip(), count=1) if _TOKEN_PREFIX.match(value.strip()) else value.strip()
    if _PLACEHOLDER.match(body):
        raise Invalid("is a placeholder from a runbook or template (YOUR_…, <…>, set me…), not a real value: set the real one")
    return value


def _nonblank(value: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise Invalid("is empty" if not value else "is only whitespace")
    return stripped


def github_token(*prefixes: str, why: str = "") -> Check:
    """Check for a GitHub token of one of the given kinds (by prefix).

    ``why`` explains, in the error, why only these kinds are accepted (e.g. ghcr.io's classic-PAT rule).
    """
    wanted = " or ".join(f"{GITHUB_TOKEN_KINDS[p]} ({p}…)" for p in prefixes)

    def check(value: str) -> str:
        token = _nonblank(value)
        prefix = github_token_kind(token)
        if prefix not in prefixes:
            reason = f"is {_describe_kind(token)}; expected a {wanted}"
            raise Invalid(f"{reason}{'. ' + why if why else ''}")
        body = token[len(prefix) :]
        if not _GITHUB_TOKEN_BODY.fullmatch(body) or len(body) < 30:
            raise Invalid(
                f"starts like a {GITHUB_TOKEN_KINDS[prefix]} but is malformed "
                f"({len(token)} characters; a real one is 40 or more, letters, digits and _)"
            )
        return token

    return check


def digitalocean_token(value: str) -> str:
    """Check for a DigitalOcean personal access token (``dop_v1_`` + 64 hex characters)."""
    token = _nonblank(value)
    if not token.startswith("dop_v1_"):
        raise Invalid(f"is not a DigitalOcean API token: it must start with dop_v1_ ({len(token)} characters given)")
    body = token[len("dop_v1_") :]
    if len(body) != 64 or not _HEX.fullmatch(body):
        raise Invalid(f"starts with dop_v1_ but is malformed: expected 64 hex characters after the prefix, got {len(body)}")
    return token


def pulumi_access_token(value: str) -> str:
    """Check for a Pulumi Cloud access token (``pul-`` + 40 hex characters)."""
    token = _nonblank(value)
    if not token.startswith("pul-"):
        raise Invalid(f"is not a Pulumi access token: it must start with pul- ({len(token)} characters given)")
    body = token[len("pul-") :]
    if len(body) != 40 or not _HEX.fullmatch(body):
        raise Invalid(f"starts with pul- but is malformed: expected 40 hex characters after the prefix, got {len(body)}")
    return token


def numeric_id(value: str) -> str:
    """Check for a numeric ID (GitHub App ID, installation ID): digits only, no leading zero."""
    text = _nonblank(value)
    if not text.isascii() or not text.isdigit():
        raise Invalid("is not numeric: GitHub shows this ID as a whole number (digits only)")
    if text.startswith("0") or len(text) > 19:
        raise Invalid(f"is not a valid ID: {len(text)} digits{' with a leading zero' if text.startswith('0') else ''}")
    return text


def pem_private_key(value: str) -> str:
    r"""Check for an unencrypted RSA private key in PEM form, as GitHub App keys are.

    A key pasted on one line with literal ``\\n`` sequences is accepted and normalised to real
    newlines, because that is how it survives ``pulumi config set`` in many shells.
    """
    text = _nonblank(value).replace("\\n", "\n")
    if "-----BEGIN" not in text or "PRIVATE KEY-----" not in text:
        raise Invalid("is not a PEM private key: no -----BEGIN … PRIVATE KEY----- line")
    lines = text.strip().splitlines()
    begin = re.fullmatch(r"-----BEGIN [A-Z ]*PRIVATE KEY-----", lines[0].strip())
    if not (begin and re.fullmatch(r"-----END [A-Z ]*PRIVATE KEY-----", lines[-1].strip())):
        # cryptography's parser tolerates it, but OpenSSL and Node's crypto.createPrivateKey (which mints the App
        # tokens in CI) refuse armour that is not on lines of its own, as a YAML plain scalar leaves it.
        raise Invalid("has its PEM lines folded together (newlines turned into spaces?): set it again from its file, whole")
    from math import lcm

    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    corrupted = "has PEM armour but does not parse as a private key (truncated or corrupted body?)"
    try:
        # Without unsafe_skip_rsa_key_validation, OpenSSL re-proves the key (primality tests on p and q):
        # 70-180 ms per 2048-bit key, most of a whole chain evaluation (BENCHMARKS.md). The key is still
        # fully parsed (armour, DER, encryption, type), and the identities checked below catch a corrupted
        # body in microseconds; only the primality of primes GitHub generated is no longer re-tested.
        key = load_pem_private_key(text.encode(), password=None, unsafe_skip_rsa_key_validation=True)
    except TypeError:
        raise Invalid("is an encrypted PEM key; GitHub App keys are used unencrypted") from None
    except (ValueError, Exception):
        raise Invalid(corrupted) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise Invalid(f"is a {type(key).__name__.removeprefix('_')} key; GitHub App private keys are RSA")
    if key.key_size < 2048:
        raise Invalid(f"is a {key.key_size}-bit RSA key; GitHub App keys are 2048-bit (generate a new one in the App's settings)")
    numbers = key.private_numbers()
    p, q, d, n, e = numbers.p, numbers.q, numbers.d, numbers.public_numbers.n, numbers.public_numbers.e
    if not (
        p > 1
        and q > 1
        and p * q == n
        and e * d % lcm(p - 1, q - 1) == 1
        and numbers.dmp1 == d % (p - 1)
        and numbers.dmq1 == d % (q - 1)
        and numbers.iqmp * q % p == 1
    ):
        raise Invalid(corrupted)
    return text + "\n" if not text.endswith("\n") else text


def random_token(value: str, min_bytes: int = 32) -> str:
    """Check for a random bearer token with at least ``min_bytes`` bytes of entropy.

    Accepted encodings are those of ``openssl rand -hex 32`` (64 hex characters) and
    ``openssl rand -base64 32`` (44 characters, 43 without padding).
    """
    token = _nonblank(value)
    if _HEX.fullmatch(token):
        size = len(token) // 2
    elif _BASE64.fullmatch(token):
        padded = token.replace("-", "+").replace("_", "/")
        padded += "=" * (-len(padded) % 4)
        try:
            size = len(base64.b64decode(padded, validate=True))
        except (binascii.Error, ValueError):
            raise Invalid("is neither hex nor base64") from None
    else:
        raise Invalid(f"has characters outside hex and base64 ({len(token)} characters)")
    if size < min_bytes:
        raise Invalid(
            f"is too short: {len(token)} characters carry {size} bytes; needs at least {min_bytes} bytes "
            f"(generate with: openssl rand -hex {min_bytes})"
        )
    if len(set(token)) < 8:
        raise Invalid("is not random: it uses fewer than 8 distinct characters (a placeholder?)")
    return token


def port(value: str) -> str:
    """Check for a TCP port number, 1–65535."""
    text = _nonblank(value)
    if not text.isascii() or not text.isdigit():
        raise NameInvalid("is not an integer port number (e.g. 587)")
    # Compared as text first: int() of more than 4300 digits raises ValueError (Python's int_max_str_digits).
    if len(text.lstrip("0")) > 5 or not 1 <= int(text) <= 65535:
        raise NameInvalid("is out of range: ports are 1–65535")
    return str(int(text))


def acme_email(value: str) -> str:
    """Check an ACME account email and return it as an ACME server accepts it: the domain in ASCII (punycode).

    cert-manager sends the ClusterIssuer's ``spec.acme.email`` as the account's ``mailto:`` contact (RFC 8555
    section 7.3) unchanged, and Let's Encrypt's Boulder refuses a contact whose domain is not a plain ASCII
    hostname (policy/pa.go ``ValidEmail`` → ``validNonWildcardDomain``): ``ops@bücher.example`` must be sent as
    ``ops@xn--bcher-kva.example``. email-validator gives that form (``ascii_domain``, IDNA 2008). The domain must
    also be a DNS name (:func:`hostname`: not all-numeric, not an IP literal).
    """
    from email_validator import EmailNotValidError, validate_email

    text = _nonblank(value)
    try:
        found = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise Invalid("is not a valid email address (expected name@domain.tld)") from None
    if getattr(found, "domain_address", None) is not None:  # only set when domain literals are allowed
        raise Invalid("is an email address at an IP literal; an ACME contact needs a DNS domain")
    try:
        hostname(found.ascii_domain)
    except Invalid as err:
        raise Invalid(f"has a domain that {str(err).removeprefix('is ')}") from None
    return f"{found.local_part}@{found.ascii_domain}"


def email(value: str) -> str:
    """Check for a syntactically valid email address (no DNS look-up)."""
    from email_validator import EmailNotValidError, validate_email

    text = _nonblank(value)
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise Invalid("is not a valid email address (expected name@domain.tld)") from None


def provisioned_email(value: str) -> str:
    """Check for an email address (:func:`email`) that a Grafana provisioning file can interpolate unchanged: no ``$``.

    Grafana expands ``$NAME``/``${NAME}`` in the text a variable expands to, too (grafana/grafana
    ``pkg/services/provisioning/values/values.go`` ``interpolateValue`` runs ``setting.ExpandVar``, then
    ``os.ExpandEnv`` on its result), so a ``$`` would change the address or splice another variable into it.
    """
    text = email(value)
    if "$" in text:
        raise Invalid("contains '$', which Grafana's provisioning would expand as an environment variable (the alert mail would go elsewhere)")
    return text


def dns1123_label(value: str) -> str:
    """Check for a Kubernetes DNS-1123 label (namespace names): lower-case, digits, '-', ≤ 63."""
    text = _nonblank(value)
    if len(text) > 63:
        raise NameInvalid(f"is not a valid Kubernetes name: {len(text)} characters, at most 63")
    if not _DNS1123_LABEL.fullmatch(text):
        raise NameInvalid(
            "is not a valid Kubernetes name (DNS-1123 label): lower-case letters, digits and '-', starting and ending with a letter or digit"
        )
    return text


_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
"""``dns1123SubdomainFmt`` of k8s.io/apimachinery ``pkg/util/validation/validation.go``: labels joined by dots, with
no per-label length limit (the API server accepts a 64-character label in an object name)."""
DNS1123_SUBDOMAIN_MAX_LENGTH = 253
"""``DNS1123SubdomainMaxLength`` of the same file."""


PR_NAMESPACE = re.compile(r"preview-pr-[0-9]+")
"""A pull request's namespace (and stack) name. Any number counts here, so that ``preview-pr-07`` cannot slip by."""

STACK_KINDS = ("production", "preview-base", "bootstrap")
"""The stack kinds a stack declares (``secret-chain:stackKind``) besides ``preview-pr-<N>``."""
PR_KIND = re.compile(r"preview-pr-([1-9][0-9]{0,8})")
"""The kind of one pull request's stack, ``preview-pr-<N>`` (N the pull request number, no leading zero)."""


def stack_kind(value: str) -> str:
    """Check a declared stack kind: ``production``, ``preview-base``, ``preview-pr-<N>`` or ``bootstrap``."""
    text = _nonblank(value)
    if text not in STACK_KINDS and not PR_KIND.fullmatch(text):
        raise Invalid(
            "is not a stack kind: use production, preview-base, preview-pr-<N> (N the pull request number, e.g. preview-pr-7) "
            "or bootstrap"
        )
    return text


STACK: ContextVar[str | None] = ContextVar("secret_chain_stack", default=None)
"""Who namespaces are checked for when no Pulumi program is running (``preflight --stack S``), set with :func:`for_stack`:
the pull request's namespace the stack owns (``preview-pr-<N>``, from its kind), else the stack's name."""


def _running_stack_name() -> str | None:
    from pulumi.runtime.settings import SETTINGS

    running = SETTINGS.stack
    return running if isinstance(running, str) and running else None


running_owner: Callable[[], str | None] = _running_stack_name
"""Who a running program's namespaces are checked for. This module sits below the catalog and cannot read the stack's
declared kind (``secret-chain:stackKind``) itself: :mod:`secret_chain.stacks` replaces this, when it is imported, by
the kind's namespace (``preview-pr-<N>`` for a pull request's stack, whatever its name), else the stack's name. Without it,
the running stack's name (``pulumi.get_stack()``)."""


@contextmanager
def for_stack(owner: str) -> Iterator[None]:
    """Check namespaces for ``owner`` inside the ``with`` block (:data:`STACK`: a command that runs no program)."""
    token = STACK.set(owner)
    try:
        yield
    finally:
        STACK.reset(token)


def current_stack() -> str | None:
    """Who namespaces are checked for: :data:`STACK` when set, else the running program's (:data:`running_owner`), else None."""
    stack = STACK.get()
    if stack is not None:
        return stack
    return running_owner()


def namespace(value: str) -> str:
    """Check a namespace the chain writes into: a DNS-1123 label, and no other stack's pull-request namespace.

    A namespace ``preview-pr-<N>`` belongs to the stack of kind ``preview-pr-<N>`` (named so, or declaring it in
    ``secret-chain:stackKind``): that stack's code comes from the pull request, and ``pulumi destroy`` of it (when the PR
    closes) deletes the namespace with everything in it. A production (or any other) stack writing a Secret there would
    hand the PR's code its value and lose the Secret when the PR closes, so it is refused unless the current stack
    (:func:`current_stack`) owns that namespace.
    """
    text = dns1123_label(value)
    if PR_NAMESPACE.fullmatch(text) and current_stack() != text:
        stack = current_stack()
        raise NameInvalid(
            f"is a pull request's namespace, which only the stack of that kind may write into (this is "
            f"{'stack ' + stack if stack else 'another stack'}): the PR's code could read what is written there, and "
            "destroying the PR's stack deletes the namespace with it"
        )
    return text


def dns1123_subdomain(value: str) -> str:
    """Check for a Kubernetes DNS-1123 subdomain (object names such as Secrets), exactly as the API server does.

    A port of ``IsDNS1123Subdomain`` (k8s.io/apimachinery ``pkg/util/validation/validation.go``): at most 253
    characters matching ``dns1123SubdomainFmt``; nothing is stripped or lower-cased first (``" a"`` and ``"A"``
    are refused upstream). Tested against upstream's ``validation_test.go`` cases (tests/test_guard_rails_values.py).
    """
    if not value:
        raise NameInvalid("is empty")
    if len(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        raise NameInvalid(f"is not a valid Kubernetes object name: {len(value)} characters, at most {DNS1123_SUBDOMAIN_MAX_LENGTH}")
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        raise NameInvalid(
            "is not a valid Kubernetes object name (DNS-1123 subdomain): lower-case letters, digits, '-' and '.', "
            "starting and ending with a letter or digit"
        )
    return value


def hostname(value: str) -> str:
    """Check for a DNS hostname (RFC 1123), e.g. smtp.gmail.com or example.com.

    An IP address is not a hostname (no DNS zone, no ACME DNS-01 challenge, no certificate name for it here),
    and a top-level domain is never all-numeric (RFC 3696 section 2; email-validator's ``DOMAIN_NAME_REGEX``
    in rfc_constants.py: "all TLDs currently end with a letter"), so ``example.123`` is refused too.
    """
    import ipaddress

    text = _nonblank(value).rstrip(".").lower()
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        pass
    else:
        raise NameInvalid("is an IP address, not a DNS name: a DNS zone, a certificate's host and a mail server are named by DNS names")
    labels = text.split(".")
    if len(text) > 253 or len(labels) < 2 or not all(len(p) <= 63 and _HOST_LABEL.fullmatch(p) for p in labels):
        raise NameInvalid("is not a valid DNS hostname (e.g. example.com: letters, digits and '-', dot-separated)")
    if labels[-1].isdigit():
        raise NameInvalid("is not a valid DNS hostname: its top-level domain is all digits, which no top-level domain is (RFC 3696 section 2)")
    return text


def github_login(value: str) -> str:
    """Check for a GitHub user or organisation login: letters, digits, single hyphens, ≤ 39."""
    text = _nonblank(value)
    if not _GITHUB_LOGIN.fullmatch(text):
        raise Invalid("is not a valid GitHub login: letters, digits and single hyphens, at most 39 characters")
    return text


GITHUB_USER_ID_PREFIX = "id:"


def github_user_or_id(value: str) -> str:
    """Check for ``id:<numeric GitHub user id>`` (rename-proof) or a GitHub login."""
    text = _nonblank(value)
    if text.startswith(GITHUB_USER_ID_PREFIX):
        number = text[len(GITHUB_USER_ID_PREFIX) :]
        if not re.fullmatch(r"[1-9][0-9]{0,18}", number):
            raise Invalid("is not id:<number>, the numeric GitHub user id (gh api users/<login> --jq .id), nor a login")
        return text
    if not _GITHUB_LOGIN.fullmatch(text):
        raise Invalid("is not id:<number> (the numeric GitHub user id, preferred) nor a valid GitHub login")
    return text


def github_repository_name(value: str) -> str:
    """Check a GitHub repository name (without the owner): what GitHub lets one create.

    GitHub's rules (docs.github.com "Creating a new repository", and the limits collected in github/docs issue
    #44518): at most 100 characters, ASCII letters, digits, ``.``, ``-`` and ``_``; a name ending in ``.git`` loses the
    suffix and one ending in ``.wiki`` is refused. ``.`` and ``..`` are path segments, never a repository (a URL
    ``github.com/acme/..`` is the owner's page), so they are refused too.
    """
    text = value.strip()
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,100}", text):
        raise NameInvalid("is not a GitHub repository name: at most 100 ASCII letters, digits, '.', '-' and '_'")
    if text in (".", ".."):
        raise NameInvalid("is not a GitHub repository name: '.' and '..' are path segments, not repositories")
    lowered = text.lower()
    if lowered.endswith(".git") or lowered.endswith(".wiki"):
        raise NameInvalid("is not a GitHub repository name: GitHub strips a .git suffix and refuses a .wiki one; give the name without it")
    return text


def github_repository(value: str) -> str:
    """Check for a GitHub repository in ``owner/name`` form (the name by :func:`github_repository_name`)."""
    text = _nonblank(value)
    owner, _, name = text.partition("/")
    if not owner or not name or not _GITHUB_LOGIN.fullmatch(owner) or "/" in name:
        raise NameInvalid("is not a GitHub repository in owner/name form (e.g. acme/platform)")
    github_repository_name(name)
    return text


GITHUB_ENVIRONMENT_MAX = 255
"""The longest name of a repository's deployment environment (GitHub docs, "Managing environments for deployment")."""


def github_environment_name(value: str) -> str:
    """Check the name of a repository's deployment environment, which Actions secrets and variables may be scoped to.

    GitHub docs, "Managing environments for deployment" (Creating an environment): "Environment names are not case
    sensitive. An environment name may not exceed 255 characters and must be unique within the repository." So
    ``Production`` and ``production`` are one environment: compare names with :func:`github_environment_key`. A control
    character (a newline, a tab, DEL) is refused too, and so is any other character Python does not print (a line or
    paragraph separator, a bidirectional override, a zero-width space): the name is typed into a workflow's ``environment:`` and ends up in
    the job's OIDC subject ``repo:<owner>/<repo>:environment:<name>`` (GitHub docs, "OpenID Connect reference"), where it
    could never be matched. The name is returned as given (GitHub keeps its case).
    """
    if not value or not value.strip():
        raise NameInvalid("is not a GitHub environment name: it is empty")
    if len(value) > GITHUB_ENVIRONMENT_MAX:
        raise NameInvalid(f"is not a GitHub environment name: at most {GITHUB_ENVIRONMENT_MAX} characters (it has {len(value)})")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise NameInvalid("is not a GitHub environment name: it holds a control character (a newline, tab or the like)")
    if any(not ch.isprintable() and ch != " " for ch in value):  # U+2028 line separator, bidi overrides, zero-width…
        raise NameInvalid("is not a GitHub environment name: it holds an invisible or line-breaking character (U+2028, a bidi override…)")
    return value


def github_environment_key(name: str) -> str:
    """The identity of an environment name: GitHub compares them case-insensitively (see :func:`github_environment_name`)."""
    return name.casefold()


_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def git_branch(value: str) -> str:
    """Check for a branch name git accepts (``git check-ref-format --branch``; rules: https://git-scm.com/docs/git-check-ref-format).

    It lands in an OIDC subject (``repo:<owner>/<repo>:ref:refs/heads/<branch>``), where ``*`` would be a wildcard: git refuses it too.
    """
    text = _nonblank(value)
    parts = text.split("/")
    if (
        _REF_FORBIDDEN.search(text)
        or ".." in text
        or "@{" in text
        or text.endswith(".")
        or text.startswith("-")
        or any(not part or part.startswith(".") or part.endswith(".lock") for part in parts)
    ):
        raise NameInvalid(
            "is not a branch name git accepts (git check-ref-format: no spaces, control characters, ~ ^ : ? * [ \\, '..', '@{', "
            "empty or dot-led path components, a trailing '.' or '.lock')"
        )
    return text


def nonempty(value: str) -> str:
    """Check that a value is not empty or whitespace; return it stripped."""
    return _nonblank(value)


def no_spaces(check: Check) -> Check:
    """Wrap a check so that all whitespace is removed first (Google shows app passwords with spaces)."""

    def wrapped(value: str) -> str:
        compact = "".join(value.split())
        if not compact:
            raise Invalid("is empty" if not value else "is only whitespace")
        return check(compact)

    return wrapped


def app_password(value: str) -> str:
    """Check for an SMTP (app) password: at least 8 characters after removing spaces."""
    if len(value) < 8:
        raise Invalid(f"is too short for an SMTP app password ({len(value)} characters; Google's have 16)")
    return value


GRAFANA_EXPANSION = re.compile(r"\$(|__\w+)\{[^}]+\}")
r"""What Grafana expands in a setting: ``${NAME}``, ``$__env{NAME}``, ``$__file{path}`` and, in Grafana Enterprise,
``$__vault{…}`` (grafana/grafana pkg/setting/expanders.go: ``regexp.MustCompile(`\$(|__\w+){([^}]+)}`)``)."""


def grafana_setting(check: Check) -> Check:
    """Wrap the check of a value the chain hands Grafana as a ``GF_*`` variable: refuse what Grafana would not use as set.

    Grafana applies the ``GF_<SECTION>_<KEY>`` environment overrides to its ini settings and then expands every setting
    (grafana/grafana pkg/setting/setting.go ``loadConfiguration``: ``applyEnvVariableOverrides``, then ``expandConfig``;
    pkg/setting/expanders.go): ``$__file{path}`` becomes the contents of any file Grafana can read (its service account
    token), ``$__env{NAME}`` and ``${NAME}`` any of its environment variables (the other ``GF_*`` secrets), ``$__vault{…}``
    a Vault secret. A client ID of ``$__file{/var/run/secrets/kubernetes.io/serviceaccount/token}`` would send that token
    to GitHub. Refused as well, on the normalised value: a line break or another control character (an ini setting is one
    line) and a PEM block (a key pasted into the wrong field). The reason never repeats the value.
    """

    def checked(value: str) -> str:
        normalised = check(value)
        if "-----BEGIN" in normalised:
            raise Invalid("holds a PEM block (-----BEGIN …): a key pasted into the wrong field?")
        if any(not c.isprintable() for c in normalised):
            raise Invalid("holds a line break or another control character: Grafana reads each setting as one line")
        if GRAFANA_EXPANSION.search(normalised):
            raise Invalid(
                "holds a Grafana expansion ($__file{…}, $__env{…}, ${…} or $__vault{…}): Grafana would replace it with a "
                "file's contents or a variable's value (pkg/setting/expanders.go), so it would not use the value set"
            )
        return normalised

    checked.__doc__ = check.__doc__
    return checked


_OAUTH_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")


def oauth_client_id(value: str) -> str:
    """Check a GitHub OAuth or GitHub App client ID (``Ov23li…``, ``Iv1.…``, 20 hex digits of older apps)."""
    text = _nonblank(value)
    if not _OAUTH_CLIENT_ID.fullmatch(text):
        raise Invalid("is not a GitHub OAuth client ID: letters, digits, '.', '_' and '-' only, at most 100 (e.g. Ov23li… or Iv1.…)")
    return text


_ESC_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def esc_environment(value: str) -> str:
    """Check for an ESC environment reference as commands take it: ``<org>/<project>/<env>``.

    Read with the CLI's own ``parseRef`` (:func:`secret_chain.pulumi_rules.parse_env_ref`): a two-part name
    means ``<project>/<env>`` (the legacy ``<org>/<env>`` only as an ambiguous fallback) and a one-part name
    the deprecated ``default/<env>``, so only the three-part form names one environment for sure. Each part
    is a plain name (letters, digits, ``.``, ``_``, ``-``), so the value can be pasted into a printed command.
    """
    from secret_chain.pulumi_rules import parse_env_ref

    text = _nonblank(value)
    ref = parse_env_ref(text)
    parts = text.split("/")
    if len(parts) != 3 or ref.version or not all(_ESC_NAME.fullmatch(p) for p in parts):
        raise Invalid(
            "is not an ESC environment reference of the form <org>/<project>/<env>: "
            "the CLI reads a two-part name as <project>/<env>"
        )
    return text


_SECRET_SHAPED = re.compile(r"gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|dop_v1_[0-9a-fA-F]{20,}|pul-[0-9a-fA-F]{20,}|-----BEGIN")
"""A credential anywhere in a value: a GitHub, DigitalOcean or Pulumi token (its prefix and a body), a PEM block."""


def https_git_url(value: str) -> str:
    """Check for an HTTPS Git repository URL (``https://host/owner/repo``), as Flux's HTTPS auth needs.

    The URL is a plain setting: it lands in the GitRepository's ``spec.url``, which the cluster stores and shows in
    plain text (``kubectl get gitrepository -o yaml``, the plan's manifests, Pulumi state), so it must carry nothing
    secret. Refused, and never quoted: a user or password (``https://x-access-token:ghp_…@github.com/…``), a query
    (``?access_token=ghp_…``), a fragment, whitespace or control characters, and anything shaped like a credential.
    Flux's own credentials (its token or GitHub App key) have secret settings of their own, which the chain keeps in a Secret.
    """
    from urllib.parse import urlsplit

    text = _nonblank(value)
    if not text.lower().startswith("https://"):
        raise Invalid("is not an https:// Git URL without credentials (e.g. https://github.com/acme/cluster)")
    carries = [
        what
        for what, found in (
            ("a user or password (…@)", "@" in text.split("//", 1)[-1].split("/", 1)[0]),
            ("a query (?…)", "?" in text),
            ("a fragment (#…)", "#" in text),
            ("whitespace or a control character", any(c.isspace() or not c.isprintable() for c in text)),
            ("something shaped like a token or key", bool(_SECRET_SHAPED.search(text))),
        )
        if found
    ]
    if carries:
        raise Invalid(
            f"is not an https:// Git URL without credentials: it has {' and '.join(carries)}, and the URL is stored and shown in plain "
            "text (the GitRepository's spec.url); Flux's token or GitHub App key belongs in its own secret settings, which the "
            "chain keeps in a Secret (e.g. https://github.com/acme/cluster)"
        )
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise Invalid("is not an https:// Git URL without credentials (e.g. https://github.com/acme/cluster)")
    hostname(parts.hostname)
    if len([p for p in parts.path.split("/") if p]) < 2:
        raise Invalid("has no owner/repository path (e.g. https://github.com/acme/cluster)")
    return text


def boolean(value: bool) -> bool:
    """Check for a real ``true``/``false`` (a string such as ``"yes"`` is refused, not read as true)."""
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false, got {type(value).__name__}")
    return value


def positive_int(value: int) -> int:
    """Check for a whole number of at least 1 (a bool is refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid("must be a positive whole number")
    return value


def registry_host(value: str) -> str:
    """Check a registry host: a DNS hostname with an optional :port."""
    host, _, port_text = value.strip().partition(":")
    checked = hostname(host)
    return f"{checked}:{port(port_text)}" if port_text else checked


def wildcard_host(value: str) -> str:
    """Check a wildcard DNS name such as ``*.pr.example.com``."""
    text = value.strip().lower()
    if not text.startswith("*."):
        raise Invalid("is not a wildcard name: it must start with '*.' (e.g. *.pr.example.com)")
    return "*." + hostname(text[2:])


# --- Prometheus (ServiceMonitor) -------------------------------------------------------------------

_QUALIFIED = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
DURATION_PATTERN = r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
"""The ServiceMonitor CRD's pattern of ``spec.endpoints[].interval`` (prometheus-operator
``pkg/apis/monitoring/v1/types.go`` ``Duration``, ``+kubebuilder:validation:Pattern``; the same in the generated
``example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml``): units in the fixed order
y, w, d, h, m, s, ms, each at most once, so ``30s1m`` is refused as the API server refuses it."""
_DURATION = re.compile(DURATION_PATTERN)


def label_map(value: dict[str, str]) -> dict[str, str]:
    """Check a Kubernetes label map: qualified-name keys, valid label values."""
    if not isinstance(value, dict) or not value:
        raise Invalid("must be a non-empty map of label names to values")
    for key, item in value.items():
        if not isinstance(key, str):
            raise Invalid(f"has a label name that is not a string ({type(key).__name__})")
        prefix, _, name = key.rpartition("/")
        if (prefix and not _is_subdomain(prefix)) or not _QUALIFIED.fullmatch(name) or len(name) > 63:
            raise Invalid(f"has an invalid label name at position {list(value).index(key)}")
        if not isinstance(item, str) or len(item) > 63 or (item and not _QUALIFIED.fullmatch(item)):
            raise Invalid(f"has an invalid value for label {key!s}")
    return dict(sorted(value.items()))


def _is_subdomain(text: str) -> bool:
    try:
        dns1123_subdomain(text)
    except Invalid:
        return False
    return True


def prometheus_duration(value: str) -> str:
    """Check a Prometheus duration such as 30s or 1m30s against the ServiceMonitor CRD's pattern."""
    text = value.strip()
    if not text or not _DURATION.fullmatch(text):
        raise Invalid("is not a duration such as 30s, 1m or 1m30s (units in the order y, w, d, h, m, s, ms, each at most once)")
    return text


def metrics_path(value: str) -> str:
    """Check an HTTP path that starts with '/'."""
    if not value.startswith("/") or any(c.isspace() for c in value):
        raise Invalid("must be an absolute HTTP path such as /metrics")
    return value


def scrape_scheme(value: str) -> str:
    """Check a scrape scheme: http or https."""
    if value not in ("http", "https"):
        raise Invalid("must be http or https")
    return value


# --- Flux -------------------------------------------------------------------------------------------

_FLUX_DURATION = re.compile(r"([0-9]+(\.[0-9]+)?(ms|s|m|h))+")
_IMAGE_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_SEMVER_VERSION = r"v?(?:0|[1-9][0-9]*|[xX*])(?:\.(?:0|[1-9][0-9]*|[xX*])){0,2}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?"
_SEMVER_COMPARATOR = re.compile(rf"(?:=|!=|>=|<=|>|<|~>|~|\^)?\s*{_SEMVER_VERSION}")
_SEMVER_HYPHEN = re.compile(rf"{_SEMVER_VERSION}\s+-\s+{_SEMVER_VERSION}")
BOT_EMAIL_DOMAIN = "users.noreply.github.com"


def flux_duration(value: str) -> str:
    """Check a Flux interval such as 1m, 30s or 1h30m (the CRDs' duration pattern)."""
    text = value.strip()
    if not _FLUX_DURATION.fullmatch(text):
        raise Invalid("is not a duration such as 30s, 1m, 5m or 1h30m")
    return text


def flux_branch(value: str) -> str:
    """Check a Git branch Flux checks out or pushes: :func:`git_branch` (git's own rule), and no Unicode space or lone ``@``."""
    text = nonempty(value)
    try:
        git_branch(text)
        ok = text != "@" and not any(c.isspace() for c in text)
    except Invalid:
        ok = False
    if not ok:
        raise Invalid("is not a valid Git branch name (e.g. main or flux-image-updates)")
    return text


def repository_path(value: str) -> str:
    """Check a relative path inside the repository, such as ./clusters."""
    text = nonempty(value)
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if text.startswith("/") or ".." in parts or any(c.isspace() for c in text):
        raise Invalid("must be a relative path inside the repository, such as ./clusters")
    return text


def image_name(value: str) -> str:
    """Check an image repository reference without tag or digest, e.g. ghcr.io/acme/api."""
    text = nonempty(value)
    if "@" in text:
        raise Invalid("has a digest; give the image repository only (e.g. ghcr.io/acme/api)")
    head, _, rest = text.partition("/")
    if rest and ("." in head or ":" in head or head == "localhost"):
        host, _, port_text = head.partition(":")
        try:
            if host != "localhost":
                hostname(host)
            if port_text:
                port(port_text)
        except Invalid:
            raise Invalid("has an invalid registry host (e.g. ghcr.io/acme/api)") from None
        path = rest
    else:
        path = text
    segments = path.split("/")
    if ":" in segments[-1]:
        raise Invalid("has a tag; give the image repository only (e.g. ghcr.io/acme/api), the policy picks the tag")
    if not all(_IMAGE_PATH_COMPONENT.fullmatch(c) for c in segments) or len(text) > 255:
        raise Invalid("is not a valid image repository: lower-case path segments such as ghcr.io/acme/api")
    return text


def semver_range(value: str) -> str:
    """Check a semver constraint as Flux's ImagePolicy reads it (Masterminds), e.g. ^1.4.0 or >=1.0.0 <2.0.0."""
    text = nonempty(value)
    for alternative in text.split("||"):
        alternative = alternative.strip()
        if not alternative:
            raise Invalid("has an empty alternative around ||")
        if _SEMVER_HYPHEN.fullmatch(alternative):
            continue
        comparators = [c for c in re.split(r"\s*,\s*|\s+(?=[=!<>~^v0-9xX*])", alternative) if c]
        if not comparators or not all(_SEMVER_COMPARATOR.fullmatch(c) for c in comparators):
            raise Invalid("is not a semver range such as ^1.4.0, ~1.4.0 or >=1.0.0 <2.0.0")
    return text


def author_name(value: str) -> str:
    """Check a commit author name: one non-empty line."""
    text = nonempty(value)
    if "\n" in text or "\r" in text or "<" in text or ">" in text:
        raise Invalid("must be one line without < or >")
    return text


def author_email(value: str) -> str:
    """Check a commit author email; a GitHub App bot's no-reply address (``…[bot]@…``) is kept as it is."""
    text = nonempty(value)
    local, at, domain = text.rpartition("@")
    if at and domain == BOT_EMAIL_DOMAIN and re.fullmatch(r"[0-9]+\+[a-z0-9-]+\[bot\]", local):
        return text
    return email(text)


def github_app_slug(value: str) -> str:
    """Check a GitHub App slug (lower-case letters, digits and hyphens)."""
    text = nonempty(value)
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?", text):
        raise Invalid("is not a GitHub App slug (the lower-case name in github.com/apps/<slug>)")
    return text


def api_base_url(value: str) -> str:
    """Check a GitHub Enterprise Server API base URL (https, no credentials)."""
    from urllib.parse import urlsplit

    text = nonempty(value).rstrip("/")
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password or parts.query or parts.fragment:
        raise Invalid("is not an https:// API base URL without credentials (e.g. https://ghe.example.com/api/v3)")
    hostname(parts.hostname)
    return text


# --- values reserved for documentation -------------------------------------------------------------------------

RESERVED_TOP_LEVEL = ("test", "example", "invalid", "localhost")
"""RFC 2606 section 2 (and RFC 6761 sections 6.2–6.5): top-level names reserved for testing and documentation; no
registry delegates them, so no DNS zone, mailbox or certificate exists under them."""
RESERVED_SECOND_LEVEL = ("example.com", "example.net", "example.org")
"""RFC 2606 section 3 (RFC 6761 section 6.5): second-level names reserved for examples. Let's Encrypt refuses an
ACME account contact at them (letsencrypt/boulder policy/pa.go ``forbiddenMailDomains``, "frequently used when
copy-pasting example configurations")."""
EXAMPLE_WORD = "example"
"""An account (GitHub owner, Pulumi organisation) named by the word RFC 2606 reserves for documentation, as this
project's own examples do (``example-org``): no registry reserves account names, so it may exist, as someone else's."""


PLACEHOLDERS: dict[str, str] = {
    "real_domain": "<your-domain>",
    "real_email": "<your-address>",
    "real_owner": "<your-account>",
    "real_repository": "<owner>/<repo>",
    "real_git_url": "https://github.com/<owner>/<repo>",
    "real_esc_environment": "<org>/secret-chain/<Environment>",
    "real_cluster": "<your-cluster>",
    "real_org": "<org>",
    "real_app_id": "<app-id>",
    "real_installation_id": "<installation-id>",
    "real_admin_user": "id:<your-github-user-id>",
}
"""What a fix command names in place of a refused example, by the check that refuses it (a person types their own)."""


def placeholder_for(check: Check) -> str:
    """The placeholder a fix names for a value ``check`` (one of the ``real_*`` checks) guards."""
    return PLACEHOLDERS.get(getattr(check, "__name__", ""), "<value>")


class Reserved(NameInvalid):
    """A well-formed value reserved for documentation: a copied example, not the operator's own. ``fix``: what to set."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


def reserved_domain(host: str) -> str | None:
    """Why ``host`` (a DNS name) is reserved for documentation (RFC 2606, RFC 6761), or None when it is not."""
    labels = host.strip().rstrip(".").lower().split(".")
    if labels[-1] in RESERVED_TOP_LEVEL:
        return f"its top-level name .{labels[-1]} is reserved for testing and documentation (RFC 2606 section 2)"
    if ".".join(labels[-2:]) in RESERVED_SECOND_LEVEL:
        return f"{'.'.join(labels[-2:])} is reserved for documentation examples (RFC 2606 section 3)"
    return None


def _example_named(name: str) -> bool:
    """Whether a dash-separated name has the word RFC 2606 reserves for examples (``example-org``, ``example-cluster``)."""
    return EXAMPLE_WORD in name.lower().split("-")


def _reserved_owner(owner: str) -> str | None:
    if _example_named(owner):
        return f'its account is named for documentation (the word "{EXAMPLE_WORD}", which RFC 2606 reserves for examples), not yours'
    return None


def real_domain(value: str) -> str:
    """Refuse a DNS name reserved for documentation: the platform's domain must be one its DNS zone serves."""
    why = reserved_domain(value)
    if why is not None:
        raise Reserved(f"is an example domain: {why}; set your platform's own domain", PLACEHOLDERS["real_domain"])
    return value


def real_email(value: str) -> str:
    """Refuse an email address at a domain reserved for documentation.

    No mail reaches it, and Let's Encrypt refuses it as an ACME contact (boulder policy/pa.go ``ValidEmail``:
    ``forbiddenMailDomains``, and a domain must end in a public suffix, which the reserved top-level names are not).
    """
    why = reserved_domain(value.rpartition("@")[2])
    if why is not None:
        raise Reserved(f"is an example address: {why}; set an address you read", PLACEHOLDERS["real_email"])
    return value


def real_owner(value: str) -> str:
    """Refuse a GitHub owner or Pulumi organisation named like the examples (``example-org``)."""
    why = _reserved_owner(value)
    if why is not None:
        raise Reserved(f"is an example name: {why}", PLACEHOLDERS["real_owner"])
    return value


def real_org(value: str) -> str:
    """Refuse a Pulumi organisation named like the examples (``example-org``): the fix names ``<org>``."""
    why = _reserved_owner(value)
    if why is not None:
        raise Reserved(f"is an example name: {why}", PLACEHOLDERS["real_org"])
    return value


DOCUMENTED_APP_IDS = frozenset({"123456"})
"""The catalog's example App ID (the README once told people to type it): no App of the operator's."""
DOCUMENTED_INSTALLATION_IDS = frozenset({"12345678"})
DOCUMENTED_ADMIN_USERS = frozenset({"id:583231", "octocat"})
"""The catalog's example admin: GitHub's mascot account octocat (user ID 583231), a stranger to every organisation."""


def real_app_id(value: str) -> str:
    """Refuse the documentation's example GitHub App ID: the App's settings page shows its own."""
    if value.strip() in DOCUMENTED_APP_IDS:
        raise Reserved("is the documentation's example App ID, not your GitHub App's (its settings page: App ID)", PLACEHOLDERS["real_app_id"])
    return value


def real_installation_id(value: str) -> str:
    """Refuse the documentation's example installation ID: the installation's settings URL ends in its own."""
    if value.strip() in DOCUMENTED_INSTALLATION_IDS:
        raise Reserved(
            "is the documentation's example installation ID, not your App's installation (its settings URL ends in it)",
            PLACEHOLDERS["real_installation_id"],
        )
    return value


def real_admin_user(value: str) -> str:
    """Refuse the documentation's example Grafana admin (GitHub's octocat), who would become server admin."""
    if value.strip().lower() in DOCUMENTED_ADMIN_USERS:
        raise Reserved(
            "is the documentation's example user (GitHub's octocat), who would become Grafana server admin; set yours "
            "(gh api users/<login> --jq .id)",
            PLACEHOLDERS["real_admin_user"],
        )
    return value


def real_cluster(value: str) -> str:
    """Refuse a cluster named like the examples (``example-cluster``): the program would fetch someone else's kubeconfig, or none."""
    if _example_named(value):
        raise Reserved(f'is an example cluster: it is named for documentation (the word "{EXAMPLE_WORD}"), not yours', PLACEHOLDERS["real_cluster"])
    return value


def real_repository(value: str) -> str:
    """Refuse ``owner/name`` whose owner is named like the examples (``example-org/platform``)."""
    owner = value.partition("/")[0]
    why = _reserved_owner(owner)
    if why is not None:
        raise Reserved(f"is an example repository: {why}", PLACEHOLDERS["real_repository"])
    return value


def real_git_url(value: str) -> str:
    """Refuse a repository URL on a documentation domain, or on github.com under an owner named like the examples."""
    from urllib.parse import urlsplit

    parts = urlsplit(value.strip())
    host = (parts.hostname or "").lower()
    owner = next((p for p in parts.path.split("/") if p), "")
    why = reserved_domain(host) if host else None
    why = why or (_reserved_owner(owner) if host == "github.com" else None)
    if why is not None:
        raise Reserved(f"is an example repository URL: {why}", PLACEHOLDERS["real_git_url"])
    return value


def real_esc_environment(value: str) -> str:
    """Refuse an ESC environment whose organisation is named like the examples (``example-org/secret-chain/…``)."""
    org, _, rest = value.strip().partition("/")
    why = _reserved_owner(org)
    if why is not None:
        raise Reserved(f"is an example environment: {why}", f"<org>/{rest}")
    return value


def label_value_name(value: str) -> str:
    """Check an object name that is also a label value: a DNS-1123 subdomain of at most 63 characters.

    k8s.io/apimachinery ``pkg/util/validation/validation.go`` ``IsValidLabelValue``: at most 63 characters of
    ``(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?``, which every subdomain that short matches.
    """
    text = dns1123_subdomain(value)
    if len(text) > 63:
        raise NameInvalid(f"is {len(text)} characters, at most 63: it is also the value of a label (its ImagePolicies are selected by it)")
    return text


PREVIEW_SUFFIX = "-preview"
"""What preview-base appends to the names (and the push branch) of the shared objects it builds, production's
unchanged: two stacks on one cluster never share a Kubernetes object or a branch (``secret_chain.chain``)."""

IMAGE_FIELDS = ("image", "semver_range", "name", "public")
"""The fields of one image in ``secret-chain:imageAutomation`` (those of ``flux_images.ImageArgs``)."""
IMAGE_AUTOMATION_FIELDS = (
    "images",
    "update_path",
    "interval",
    "scan_interval",
    "author_name",
    "author_email",
    "github_app_slug",
    "github_app_bot_user_id",
)
"""The fields ``secret-chain:imageAutomation`` takes: those of ``flux_images.ImageAutomationArgs`` but the names, the
push branch and the pull secret, which the chain sets per stack (production and preview-base never share them)."""


def image_object_name(image: str) -> str:
    """The last path segment of an image, made a DNS-1123 label (``_`` and ``.`` become ``-``)."""
    last = image.rsplit("/", 1)[-1]
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", last)).strip("-")[:63] or "image"


def _text_field(where: str, value: object, check: Check) -> None:
    if not isinstance(value, str):
        raise Invalid(f"field {where} must be a string")
    try:
        check(value)
    except Invalid as err:
        raise Invalid(f"field {where} {err}") from None


def image_automation_setting(text: str) -> str:
    """Check ``secret-chain:imageAutomation``: JSON text of an object of :data:`IMAGE_AUTOMATION_FIELDS`; return it normalised.

    Everything the value alone decides is checked here, so ``preflight`` refuses what the program refuses: each
    image's reference, semver range and name (distinct, and short enough for preview-base's ``-preview``), the
    durations and the path, and a commit author (given, or a GitHub App bot's slug and user id). Whether the App
    fields fit Flux's auth mode is the program's to check.
    """
    import json

    try:
        document = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, an integer past int_max_str_digits, or nested past the recursion limit
        document = None
    if not isinstance(document, dict):
        raise Invalid(f"must be an object with fields {', '.join(IMAGE_AUTOMATION_FIELDS)} (in the stack file, a YAML mapping)")
    unknown = sorted(str(k) for k in document if k not in IMAGE_AUTOMATION_FIELDS)
    if unknown:
        raise Invalid(
            f"has unknown field(s) {', '.join(unknown)}: it takes {', '.join(IMAGE_AUTOMATION_FIELDS)} "
            "(the names, push branch and pull secret are set per stack)"
        )
    images = document.get("images")
    if not isinstance(images, list) or not images:
        raise Invalid('field images must be a non-empty list of {"image": ..., "semver_range": ...}')
    names: list[str] = []
    longest = 63 - len(PREVIEW_SUFFIX)
    for index, item in enumerate(images):
        where = f"images[{index}]"
        if not isinstance(item, dict):
            raise Invalid(f'field {where} must be a map with "image" and "semver_range"')
        unknown = sorted(str(k) for k in item if k not in IMAGE_FIELDS)
        if unknown:
            raise Invalid(f"field {where} has unknown field(s) {', '.join(unknown)}: it takes {', '.join(IMAGE_FIELDS)}")
        for required in ("image", "semver_range"):
            if required not in item:
                raise Invalid(f"field {where}.{required} is required")
        _text_field(f"{where}.image", item["image"], image_name)
        _text_field(f"{where}.semver_range", item["semver_range"], semver_range)
        if "public" in item and not isinstance(item["public"], bool):
            raise Invalid(f"field {where}.public must be true or false")
        name = item.get("name", image_object_name(item["image"]))
        _text_field(f"{where}.name", name, dns1123_label)
        if len(name) > longest:
            raise Invalid(f"field {where}.name is {len(name)} characters, at most {longest}: preview-base names it <name>{PREVIEW_SUFFIX}")
        names.append(name)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise Invalid(
            f"field images: two images would share the ImageRepository/ImagePolicy name(s) {', '.join(duplicates)}; give each a distinct name"
        )
    bot_id = document.get("github_app_bot_user_id")
    if isinstance(bot_id, int) and not isinstance(bot_id, bool):
        # `pulumi config set --path` stores an integer as a number ("integers are treated as numbers": pulumi config set).
        document["github_app_bot_user_id"] = str(bot_id)
    for key, check in (
        ("update_path", repository_path),
        ("interval", flux_duration),
        ("scan_interval", flux_duration),
        ("author_name", author_name),
        ("author_email", author_email),
        ("github_app_slug", github_app_slug),
        ("github_app_bot_user_id", numeric_id),
    ):
        if key in document:
            _text_field(key, document[key], check)
    has_slug = "github_app_slug" in document
    has_name = "author_name" in document or has_slug
    has_email = "author_email" in document or (has_slug and "github_app_bot_user_id" in document)
    if not (has_name and has_email):
        raise Invalid(
            "needs a commit author: author_name and author_email, or (GitHub App) github_app_slug and github_app_bot_user_id. There is no "
            "default: the old fluxcdbot@users.noreply.github.com belongs to a real account, which GitHub credited with the commits"
        )
    return json.dumps(document, sort_keys=True)
