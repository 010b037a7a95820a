"""Scan everything observable about an evaluation, or any text, for secret canaries.

A secret is searched for as *needles*: the whole value, its whitespace-free form, each long line of a
multi-line value (PEM bodies, also in the one-line ``\\n`` form), and its base64 encodings (standard
and URL-safe, at each of the three byte alignments, so a canary inside a longer encoded string such
as the ``user:token`` of a dockerconfigjson ``auth`` is found too). Any run of 16 characters of a
needle counts (a partial leak, such as the last 20 characters of a token, is a leak), except a run
found in the project's own text (PEM armour, the fixed header of every RSA key), and matching
ignores case.

Where an evaluation may hold a secret at all is checked twice: no needle may appear in anything
outside a secret-wrapped value (:func:`find_leaks`), and, because a Kubernetes object other than a
Secret and a GitHub variable are readable in the clear by whoever can read them, no needle may appear
anywhere in those even when wrapped (:func:`misplaced_secrets`). :func:`unwrapped_secret_fields`
checks that every field meant to hold a secret is itself a secret value.
"""

from __future__ import annotations

import base64
import functools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from secret_chain.ops.offline import Evaluation, Registration, is_secret, iter_strings

MIN_FRAGMENT = 16
"""Shortest line of a multi-line secret searched for on its own, and the length of a run that counts as a partial leak."""

STATS: Counter[str] = Counter()
"""Running totals of this process's scans: evaluations, texts, strings and characters scanned, needles, leaks found."""

_LARGEST = ("needles", "secret keys")
"""Figures that are a largest value, not a total."""


def merge(figures: Iterable[Mapping[str, int]]) -> Counter[str]:
    """Scan figures of several processes (pytest-xdist workers) as one: totals added, largest values kept."""
    merged: Counter[str] = Counter()
    for one in figures:
        for key, value in one.items():
            merged[key] = max(merged[key], value) if key in _LARGEST else merged[key] + value
    return merged


def summary(figures: Mapping[str, int]) -> str:
    """One line of scan figures (``STATS`` differences, plus the ``needles`` and ``secret keys`` searched for)."""
    f = Counter(figures)
    return (
        f"leak scan: {f['evaluations']} evaluations ({f['registrations']} registrations), {f['texts']} command outputs "
        f"and messages, {f['strings']} strings ({f['characters']} characters) scanned for up to {f['needles']} needles "
        f"of {f['secret keys']} secret keys; {f['planted']} planted canaries found ({f['planted hits']} hits); {f['leaks']} leaks"
    )

Secrets = Mapping[str, str] | Iterable[str]
"""Secrets to search for: label → value (labels name them in reports), or values alone."""


def fragments(secret: str, min_length: int = MIN_FRAGMENT) -> list[str]:
    """The plain-text parts of a secret worth searching for.

    The value, its form without whitespace, and each line of at least ``min_length`` characters
    that is not PEM armour (lines split at real newlines and at literal ``\\n`` sequences).
    """
    value = secret.strip()
    found = [value, "".join(value.split())]
    for line in re.split(r"\r?\n|\\n", value):
        line = line.strip()
        if len(line) >= min_length and "-----" not in line:
            found.append(line)
    return _unique(f for f in found if f)


def base64_forms(value: str, min_length: int = MIN_FRAGMENT) -> list[str]:
    """Base64 text that appears wherever ``value`` is base64-encoded inside anything longer.

    For each byte alignment, the characters encoding only bytes of ``value`` (standard and URL-safe
    alphabets, padding excluded); forms shorter than ``min_length`` are dropped.
    """
    data = value.encode()
    forms = []
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\0" * offset + data).decode()
            start = 4 if offset else 0
            end = len(text) if (offset + len(data)) % 3 == 0 else len(text) - 4
            form = text[start:end]
            if len(form) >= min_length:
                forms.append(form)
    return _unique(forms)


def needles(secrets: Secrets, min_length: int = MIN_FRAGMENT) -> list[tuple[str, str]]:
    """(label, needle) for every fragment and base64 form of every secret."""
    labelled = secrets.items() if isinstance(secrets, Mapping) else ((f"secret #{i}", s) for i, s in enumerate(secrets))
    out: list[tuple[str, str]] = []
    for label, secret in labelled:
        plain = fragments(secret, min_length)
        out += [(label, f) for f in plain]
        for whole in plain[:2]:  # the value and its whitespace-free form
            out += [(f"{label} (base64)", f) for f in base64_forms(whole, min_length)]
    seen: set[str] = set()
    unique = []
    for label, needle in out:
        if needle.lower() not in seen:
            seen.add(needle.lower())
            unique.append((label, needle))
    return unique


ROOT = Path(__file__).resolve().parents[1]
PUBLIC_TEXT = ("components/secret_chain/**/*.py", "README.md", "docs/**/*.md", "examples/**/*", "stacks/*.yaml")
"""The project's own text: a run of characters found there is not a secret's (PEM armour, an RSA key's fixed header)."""


@functools.cache
def _public_windows() -> frozenset[str]:
    windows: set[str] = set()
    for pattern in PUBLIC_TEXT:
        for path in ROOT.glob(pattern):
            try:
                text = path.read_text(encoding="utf-8").lower() if path.is_file() else ""
            except (OSError, UnicodeDecodeError):
                continue
            windows.update(text[i : i + MIN_FRAGMENT] for i in range(len(text) - MIN_FRAGMENT + 1))
    return frozenset(windows)


@functools.lru_cache(maxsize=1024)
def _pins(secret: str, min_length: int) -> tuple[tuple[str, ...], frozenset[str], int]:
    """Of one secret: (needles shorter than a window, matched whole; the windows of the longer ones; number of needles).

    A window is :data:`MIN_FRAGMENT` characters, lower-cased; windows of the project's own text are left out.
    """
    found = needles([secret], min_length)
    short = tuple(n.lower() for _, n in found if len(n) < MIN_FRAGMENT)
    windows = {n.lower()[i : i + MIN_FRAGMENT] for _, n in found for i in range(len(n) - MIN_FRAGMENT + 1)}
    return short, frozenset(windows - _public_windows()), len(found)


def _items(secrets: Secrets) -> tuple[tuple[str, str], ...]:
    if isinstance(secrets, Mapping):
        return tuple(secrets.items())
    return tuple((f"secret #{i}", s) for i, s in enumerate(secrets))


def scan(texts: Iterable[tuple[str, str]], secrets: Secrets, min_length: int = MIN_FRAGMENT, *, count: bool = True) -> list[str]:
    """One report line per (place, secret) where part of the secret appears in the text of that place.

    A needle shorter than :data:`MIN_FRAGMENT` must appear whole; of a longer one (a value, a PEM
    line, a base64 form), any run of :data:`MIN_FRAGMENT` characters is found, so a partial leak
    (the last 20 characters of a token) counts too. Reports name the place and the secret's label,
    never the value. ``count=False`` keeps the scan out of :data:`STATS` (positive controls, which
    look for secrets where they belong).
    """
    pins = [(_base_label(label), *_pins(secret, min_length)) for label, secret in _items(secrets)]
    found: list[str] = []
    strings = characters = 0
    for where, text in texts:
        strings += 1
        characters += len(text)
        haystack = text.lower()
        seen = {haystack[i : i + MIN_FRAGMENT] for i in range(len(haystack) - MIN_FRAGMENT + 1)}
        hits = {label for label, short, windows, _ in pins if not windows.isdisjoint(seen) or any(n in haystack for n in short)}
        found += [f"{where}: contains {label}" for label in sorted(hits)]
    if count:
        STATS["needles"] = max(STATS["needles"], sum(n for *_, n in pins))
        STATS["strings"] += strings
        STATS["characters"] += characters
        STATS["leaks"] += len(found)
    return found


def _base_label(label: str) -> str:
    """The secret a needle's label names: ``key (base64)`` and ``key (normalised)`` are ``key``."""
    for suffix in (" (base64)", " (normalised)"):
        label = label.removesuffix(suffix)
    return label


def find_in_text(text: str, secrets: Secrets, where: str = "text", min_length: int = MIN_FRAGMENT) -> list[str]:
    """:func:`scan` of one text (a command's output, an exception message)."""
    STATS["texts"] += 1
    return scan([(where, text)], secrets, min_length)


def _metadata(reg: Registration) -> dict[str, Any]:
    meta = reg.inputs.get("metadata") if reg.type.startswith("kubernetes:") else None
    return meta if isinstance(meta, dict) else {}


def observable(evaluation: Evaluation, extra: Iterable[str | tuple[str, str]] = ()) -> Iterator[tuple[str, str]]:
    """(where, text) for every string an operator or the engine can see outside secret values.

    Resource names, URNs, parents, providers and dependencies; the labels and annotations of every
    Kubernetes object; every non-secret input; every component's and the stack's non-secret outputs;
    the Pulumi log; and ``extra`` (plain strings, or (where, text) pairs such as Python log records,
    warnings and invoke arguments).
    """
    for reg in evaluation.registrations:
        yield f"name of {reg.urn}", reg.name
        yield "urn", reg.urn
        yield f"parent of {reg.urn}", reg.parent
        yield f"provider of {reg.urn}", reg.provider
        for dep in reg.dependencies:
            yield f"dependency of {reg.urn}", dep
        meta = _metadata(reg)
        for field in ("labels", "annotations"):
            for text in iter_strings(meta.get(field), skip_secrets=True):
                yield f"{field[:-1]} of {reg.urn}", text
        for text in iter_strings(reg.inputs, skip_secrets=True):
            yield f"non-secret input of {reg.urn}", text
    for urn, outputs in evaluation.component_outputs.items():
        for text in iter_strings(outputs, skip_secrets=True):
            yield f"output of {urn}", text
    for text in iter_strings(evaluation.stack_outputs, skip_secrets=True):
        yield "stack output", text
    for line in evaluation.logs:
        yield "Pulumi log", line
    for item in extra:
        yield item if isinstance(item, tuple) else ("extra", item)


def find_leaks(evaluation: Evaluation, secrets: Secrets, extra: Iterable[str | tuple[str, str]] = (), min_length: int = MIN_FRAGMENT) -> list[str]:
    """Every place a secret's needle appears outside a secret value (empty when nothing leaks)."""
    STATS["evaluations"] += 1
    STATS["registrations"] += len(evaluation.registrations)
    return scan(observable(evaluation, extra), secrets, min_length)


# --- where secrets may live ------------------------------------------------------------------------

_GITHUB_SECRET = re.compile(r"github:index/actions\w*Secret:Actions\w*Secret")
"""Actions secrets (repository, environment, organisation); not their repository-access resources."""
GITHUB_SECRET_FIELDS = ("value", "plaintextValue", "encryptedValue")


def secret_fields(evaluation: Evaluation) -> Iterator[tuple[Registration, str, Any]]:
    """(registration, field, value) of every field that must be a secret value.

    The ``data`` and ``stringData`` of every Kubernetes v1 Secret, the value of every GitHub Actions
    secret (repository, environment, organisation) and the kubeconfig of every Kubernetes provider.
    A field of that list that is absent is yielded with the value ``None``, so that a renamed field
    cannot make the check vacuous.
    """
    for reg in evaluation.resources:
        fields: list[str]
        if reg.type == "kubernetes:core/v1:Secret":
            fields = [f for f in ("data", "stringData") if f in reg.inputs] or ["stringData"]
        elif _GITHUB_SECRET.fullmatch(reg.type):
            fields = [f for f in GITHUB_SECRET_FIELDS if f in reg.inputs] or ["value"]
        elif reg.type == "pulumi:providers:kubernetes":
            fields = ["kubeconfig"]
        else:
            continue
        for name in fields:
            yield reg, name, reg.inputs.get(name)


def unwrapped_secret_fields(evaluation: Evaluation) -> list[str]:
    """Each secret field (see :func:`secret_fields`) that is absent or not itself a secret value."""
    return [
        f"{name} of {reg.urn} is {'absent' if value is None else 'not a secret value'}"
        for reg, name, value in secret_fields(evaluation)
        if not is_secret(value)
    ]


def _store_visible(reg: Registration) -> Iterator[tuple[str, Any]]:
    """(field, value) of what the target system shows in the clear, secret-wrapped or not."""
    if reg.type.startswith("kubernetes:"):
        for name, value in reg.inputs.items():
            if reg.type == "kubernetes:core/v1:Secret" and name in ("data", "stringData"):
                continue
            yield name, value
    elif reg.type.startswith("github:") and not _GITHUB_SECRET.fullmatch(reg.type):
        yield from reg.inputs.items()  # variables and repository access are readable by the repository's readers


def misplaced_secrets(evaluation: Evaluation, secrets: Secrets, min_length: int = MIN_FRAGMENT) -> list[str]:
    """Needles anywhere in a Kubernetes object outside a Secret's data, or in a GitHub resource other than a secret's value.

    Pulumi encrypts a secret-wrapped input in its state, but the cluster or GitHub shows it to anyone
    who can read the object: wrapping does not make such a place safe.
    """
    texts = (
        (f"{name} of {reg.urn} (visible in the cluster or on GitHub)", text)
        for reg in evaluation.resources
        for name, value in _store_visible(reg)
        for text in iter_strings(value, skip_secrets=False)
    )
    return scan(texts, secrets, min_length)


def wrapped_strings(evaluation: Evaluation) -> Iterator[str]:
    """Every string inside a secret value of the evaluation (for positive controls: the canaries are there)."""
    sources: list[Any] = [r.inputs for r in evaluation.registrations]
    sources += [*evaluation.component_outputs.values(), evaluation.stack_outputs]
    for source in sources:
        yield from _inside_secrets(source, False)


def _inside_secrets(value: Any, inside: bool) -> Iterator[str]:
    from pulumi.runtime import rpc

    if is_secret(value):
        yield from _inside_secrets(rpc.unwrap_rpc_secret(value), True)
    elif isinstance(value, str):
        if inside:
            yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            if inside:
                yield str(k)
            yield from _inside_secrets(v, inside)
    elif isinstance(value, list):
        for v in value:
            yield from _inside_secrets(v, inside)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
