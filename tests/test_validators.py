from __future__ import annotations

import base64
import functools
import textwrap
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from hypothesis import given
from hypothesis import strategies as st

from secret_chain import validators as v
from secret_chain.ghcr import dockerconfigjson
from secret_chain.validators import Invalid
from tests.conftest import rsa_pem

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

GOOD_CLASSIC = "ghp_" + "a1B2" * 9
GOOD_FINE = "github_pat_" + "11ABCDEFG0" * 8 + "xy"


@pytest.mark.parametrize(
    ("check", "good"),
    [
        (v.github_token("ghp_"), GOOD_CLASSIC),
        (v.github_token("ghp_", "github_pat_"), GOOD_FINE),
        (v.digitalocean_token, "dop_v1_" + "ab" * 32),
        (v.pulumi_access_token, "pul-" + "0a" * 20),
        (v.numeric_id, "123456"),
        (v.random_token, "0123456789abcdef" * 4),
        (v.random_token, "Xy9ZaBc0dEfGhIjKlMnOpQrStUvWxYz0123456789+/="),
        (v.port, "587"),
        (v.email, "alerts@example.com"),
        (v.dns1123_label, "preview-pr-42"),
        (v.dns1123_subdomain, "ghcr-pull-secret"),
        (v.hostname, "smtp.gmail.com"),
        (v.github_login, "octo-cat"),
        (v.github_repository, "acme/platform"),
        (v.esc_environment, "acme/secret-chain/Production"),
        (v.https_git_url, "https://github.com/acme/cluster"),
    ],
)
def test_accepts_good_values(check: v.Check, good: str) -> None:
    assert check(good) == good


@pytest.mark.parametrize(
    ("check", "bad", "reason"),
    [
        (v.github_token("ghp_"), "", "is empty"),
        (v.github_token("ghp_"), "   ", "only whitespace"),
        (v.github_token("ghp_"), GOOD_FINE, "fine-grained personal access token"),
        (v.github_token("ghp_"), "ghs_" + "a" * 36, "installation token"),
        (v.github_token("ghp_"), "ghp_short", "malformed"),
        (v.github_token("ghp_"), "ghp_" + "a-b" * 12, "malformed"),
        (v.github_token("ghp_"), "token-without-prefix-xxxxxxxxxxxxxxx", "no GitHub token prefix"),
        (v.digitalocean_token, "do_v1_" + "ab" * 32, "must start with dop_v1_"),
        (v.digitalocean_token, "dop_v1_" + "zz" * 32, "64 hex"),
        (v.pulumi_access_token, "pul-123", "40 hex"),
        (v.numeric_id, "12ab", "not numeric"),
        (v.numeric_id, "0123", "leading zero"),
        (v.random_token, "abcd" * 4, "too short"),
        (v.random_token, "a" * 64, "not random"),
        (v.random_token, "not a token!" * 6, "outside hex and base64"),
        (v.port, "0", "out of range"),
        (v.port, "65536", "out of range"),
        (v.port, "smtp", "not an integer"),
        (v.email, "not-an-email", "not a valid email"),
        (v.dns1123_label, "Preview_PR", "DNS-1123"),
        (v.dns1123_label, "a" * 64, "at most 63"),
        (v.hostname, "localhost", "not a valid DNS hostname"),
        (v.github_login, "-bad-", "not a valid GitHub login"),
        (v.github_repository, "justarepo", "owner/name"),
        (v.esc_environment, "Production", "ESC environment"),
        (v.https_git_url, "git@github.com:acme/cluster.git", "https://"),
        (v.https_git_url, "https://user:pw@github.com/acme/cluster", "without credentials"),
        (v.pem_private_key, "not a key", "no -----BEGIN"),
        (v.pem_private_key, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----", "does not parse"),
    ],
)
def test_rejects_bad_values_without_echoing_them(check: v.Check, bad: str, reason: str) -> None:
    with pytest.raises(Invalid) as caught:
        check(bad)
    message = str(caught.value)
    assert reason in message
    if len(bad.strip()) >= 4:
        assert bad.strip() not in message


def test_pem_accepts_rsa_and_escaped_newlines() -> None:
    pem = rsa_pem()
    assert v.pem_private_key(pem) == pem
    assert v.pem_private_key(pem.replace("\n", "\\n")) == pem


def test_pem_rejects_non_rsa_key() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(Invalid, match="GitHub App private keys are RSA"):
        v.pem_private_key(key.decode())


@functools.cache
def _rsa_key(bits: int = 2048) -> RSAPrivateKey:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def test_pem_accepts_pkcs8_rsa() -> None:
    pem = _rsa_key().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    assert v.pem_private_key(pem) == pem


def test_pem_rejects_encrypted_key() -> None:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption

    pem = _rsa_key().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"passphrase")).decode()
    with pytest.raises(Invalid, match="is an encrypted PEM key"):
        v.pem_private_key(pem)


def test_pem_rejects_too_small_key() -> None:
    pem = _rsa_key(1024).private_bytes(Encoding.PEM, PrivateFormat.TraditionalOpenSSL, NoEncryption()).decode()
    with pytest.raises(Invalid, match="is a 1024-bit RSA key; GitHub App keys are 2048-bit"):
        v.pem_private_key(pem)


# byte offsets inside each number of a 2048-bit PKCS#1 key (each number is 128-256 bytes long)
@pytest.mark.parametrize("offset", [100, 400, 600, 730, 865, 1000, 1130], ids=["n", "d", "p", "q", "dmp1", "dmq1", "iqmp"])
def test_pem_rejects_a_corrupted_body_that_still_parses(offset: int) -> None:
    # One flipped bit inside a number keeps the DER well-formed: OpenSSL's key check is skipped (it costs
    # 70-180 ms per key), so the RSA identities must catch it.
    der = bytearray(_rsa_key().private_bytes(Encoding.DER, PrivateFormat.TraditionalOpenSSL, NoEncryption()))
    der[offset] ^= 0x01
    body = base64.b64encode(bytes(der)).decode()
    pem = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(textwrap.wrap(body, 64)) + "\n-----END RSA PRIVATE KEY-----\n"
    with pytest.raises(Invalid, match="does not parse as a private key") as caught:
        v.pem_private_key(pem)
    assert body[64:128] not in str(caught.value)


def test_app_password_spaces_are_removed() -> None:
    assert v.no_spaces(v.app_password)("abcd efgh ijkl mnop") == "abcdefghijklmnop"


@given(st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True))
def test_every_dns1123_label_is_accepted(label: str) -> None:
    assert v.dns1123_label(label) == label


@given(st.text(min_size=1, max_size=80))
def test_dns1123_label_never_echoes(text: str) -> None:
    try:
        v.dns1123_label(text)
    except Invalid as err:
        assert text.strip() == "" or text.strip() not in str(err) or len(text.strip()) < 3


@given(st.integers(min_value=1, max_value=65535))
def test_every_port_in_range_is_accepted(number: int) -> None:
    assert v.port(str(number)) == str(number)


@given(st.integers().filter(lambda n: n < 1 or n > 65535))
def test_every_port_out_of_range_is_rejected(number: int) -> None:
    with pytest.raises(Invalid):
        v.port(str(number))


@given(st.binary(min_size=32, max_size=64))
def test_random_tokens_from_openssl_forms_are_accepted(raw: bytes) -> None:
    import base64

    if len(set(raw.hex())) >= 8:
        assert v.random_token(raw.hex())
    encoded = base64.b64encode(raw).decode()
    if len(set(encoded)) >= 8:
        assert v.random_token(encoded)


@given(
    username=st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}", fullmatch=True),
    token=st.text(min_size=1, max_size=200),
    registry=st.sampled_from(["ghcr.io", "registry.example.com:5000"]),
)
def test_dockerconfigjson_round_trips(username: str, token: str, registry: str) -> None:
    import base64
    import json

    doc = json.loads(dockerconfigjson(registry, username, token))
    entry = doc["auths"][registry]
    assert entry["username"] == username
    assert entry["password"] == token
    assert base64.b64decode(entry["auth"]).decode() == f"{username}:{token}"
    assert list(doc) == ["auths"] and list(doc["auths"]) == [registry]


def test_a_pem_key_with_its_lines_folded_is_refused() -> None:
    """What a plain multi-line YAML value makes of a key (newlines folded into spaces): OpenSSL refuses it."""
    from tests.conftest import rsa_pem

    pem = rsa_pem()
    assert v.pem_private_key(pem)
    with pytest.raises(Invalid, match="folded"):
        v.pem_private_key(" ".join(pem.split("\n")))
