"""Scan everything observable about an evaluation for secret canaries."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from components.offline import Evaluation, iter_strings


def fragments(secret: str) -> list[str]:
    """The parts of a secret worth searching for: the value, and each long line of a multi-line one."""
    lines = [line.strip() for line in secret.strip().splitlines() if len(line.strip()) >= 16 and "-----" not in line]
    return [secret.strip(), *lines]


def observable(evaluation: Evaluation, extra: Iterable[str] = ()) -> Iterator[tuple[str, str]]:
    """(where, text) for every string an operator or the engine can see outside secret values."""
    for reg in evaluation.registrations:
        yield f"name of {reg.urn}", reg.name
        yield "urn", reg.urn
        for text in iter_strings(reg.inputs, skip_secrets=True):
            yield f"non-secret input of {reg.urn}", text
    for urn, outputs in evaluation.component_outputs.items():
        for text in iter_strings(outputs, skip_secrets=True):
            yield f"output of {urn}", text
    for text in iter_strings(evaluation.stack_outputs, skip_secrets=True):
        yield "stack output", text
    for line in evaluation.logs:
        yield "log", line
    for text in extra:
        yield "extra", text


def find_leaks(evaluation: Evaluation, secrets: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """Every place a secret fragment appears outside a secret value (empty when nothing leaks)."""
    needles = [f for s in secrets for f in fragments(s)]
    found = []
    for where, text in observable(evaluation, extra):
        for needle in needles:
            if needle in text:
                found.append(f"{where}: contains a secret canary")
    return found
