"""`preflight` says READY exactly when the stack program builds: every rule × every stack kind.

Stacks: production, preview-base and a PR stack, each as its stack file plus its ESC environment's example
values (the PR stack as ``preview-deploy.yml`` builds it: the template plus the PullRequest environment), with
and without the declared parts (``secret-chain:parts``), and the bootstrap stack (its stack file and the values its
operator sets). Variants of each: as committed, every present key dropped, every catalog key made bad (one malformed
value per key, from ``test_cli_preflight.malformed``: every single-key rule), every cross-key rule broken (each
``breaking`` change of every rule of :mod:`secret_chain.rules`, on every stack kind, whether or not the kind builds the
part that holds it), the ESC environment detached, and each part a stack kind never builds declared. Each variant is
evaluated once on the mock runtime (identical configs share one evaluation) and checked with ``preflight.check``;
when both refuse, every key preflight names must be named by the program's ConfigError too.

Not in the matrix, on purpose: a secret stored in plain text, which preflight refuses and the program (which
wraps every secret it reads) does not see; and the mutable-Secrets environment variable, which preflight cannot see.
"""

from __future__ import annotations

import time
from typing import Any

from secret_chain import catalog, rules
from secret_chain.errors import ConfigError
from secret_chain.ops import preflight
from secret_chain.ops.offline import Evaluation, parse_config
from secret_chain.parts import PARTS, Kind
from tests.test_cli_preflight import malformed
from tests.test_rules import BOOTSTRAP_OPERATOR, bootstrap_document
from tests.test_stacks import PARTS_KEY, STACKS, build, cli_entry, stack_document

BOOTSTRAP = "bootstrap"

Document = dict[str, dict[str, Any]]


def _set(document: Document, entry: catalog.Key, value: Any | None) -> Document:
    """``document`` with ``entry`` set to ``value`` (None: removed); a field is changed inside its object key."""
    out = dict(document)
    if entry.field:
        current = out.get(entry.config_key)
        fields = dict(current["objectValue"]) if current and isinstance(current.get("objectValue"), dict) else {}
        if value is None:
            fields.pop(entry.field, None)
        else:
            fields[entry.field] = value
        if fields:
            out[entry.config_key] = cli_entry(fields, entry.secret or bool(current and current["secret"]))
        else:
            out.pop(entry.config_key, None)
    elif value is None:
        out.pop(entry.key, None)
    else:
        out[entry.key] = cli_entry(value, entry.secret)
    return out


def _present(document: Document) -> list[catalog.Key]:
    return [
        e
        for e in catalog.KEYS
        if e.config_key in document and (not e.field or e.field in (document[e.config_key].get("objectValue") or {}))
    ]


def _bad(entry: catalog.Key) -> Any:
    return ["NoSuchPart"] if entry.key == PARTS_KEY else malformed(entry.key)


def broken(document: Document, change: dict[catalog.Key, str | catalog.Key | None]) -> Document:
    """``document`` with a rule's ``breaking`` change applied: a value, the value another key holds, or removed."""
    out = document
    for entry, value in change.items():
        if isinstance(value, catalog.Key):
            config, _ = parse_config(document)
            value = config.get(value.key)  # the same secret twice (absent where the stack holds no such key)
        out = _set(out, entry, value)
    return out


def rule_variants(base: Document, mode: str) -> list[tuple[str, Document]]:
    """Every cross-key rule broken, each way its ``breaking`` lists."""
    return [(f"{mode}: breaks {rule}", broken(base, change)) for rule in rules.RULES for change in rule.breaking]


def variants(stack: str) -> list[tuple[str, Document]]:
    """(label, config document) of every variant of one stack."""
    if stack == BOOTSTRAP:
        base = bootstrap_document()
        out = [("bootstrap: as committed", base)]
        # Without ci:pulumiOrganization the bootstrap uses the stack's own organisation, which Pulumi Cloud always has and
        # the mock runtime does not (pulumi.get_organization()): that variant would test the runtime, not the rules.
        absent = [e for e in _present(base) if e.key not in BOOTSTRAP_OPERATOR or e.key == "secret-chain:githubRepository"]
        out += [(f"bootstrap: without {e.key}", _set(base, e, None)) for e in absent]
        out += [(f"bootstrap: bad {e.key}", _set(base, e, _bad(e))) for e in catalog.KEYS if e.key != PARTS_KEY]
        return out + rule_variants(base, "bootstrap")
    kind = Kind.PREVIEW_PR if stack.startswith("preview-pr-") else Kind(stack)
    out = []
    for declared in (True, False):
        mode = "declared" if declared else "derived"
        base = stack_document(stack, declared=declared)
        out.append((f"{mode}: as committed", base))
        out.append((f"{mode}: ESC detached", stack_document(stack, esc=False, declared=declared)))
        out += [(f"{mode}: without {e.key}", _set(base, e, None)) for e in _present(base)]
        out += [(f"{mode}: bad {e.key}", _set(base, e, _bad(e))) for e in catalog.KEYS if declared or e.key != PARTS_KEY]
        out += rule_variants(base, mode)
    committed = stack_document(stack)[PARTS_KEY]["objectValue"]
    for part in PARTS:
        if part.declarable and kind not in part.kinds:
            out.append((f"declares {part.name}", {**stack_document(stack), PARTS_KEY: cli_entry([*committed, part.name])}))
    return out


def test_preflight_is_ready_exactly_when_the_program_builds() -> None:
    started = time.perf_counter()
    evaluations: dict[tuple[str, tuple[tuple[str, str], ...]], str | None] = {}
    """Per stack and config: None when the program built, else its ConfigError's text."""
    disagreements: list[str] = []
    cases = refused = 0
    caught: set[str] = set()
    """The cross-key rules both sides refused somewhere, naming the rule's key."""
    for stack in [*sorted(STACKS), BOOTSTRAP]:
        for label, document in variants(stack):
            cases += 1
            try:
                config, secret_keys = parse_config(document)
            except ConfigError:
                refused += 1
                continue  # refused by the loader, before either runs (a JSON type the catalog does not accept)
            signature = (stack, tuple(sorted((k, v + ("*" if k in secret_keys else "")) for k, v in config.items())))
            if signature not in evaluations:
                outcome = build(stack, config, secret_keys)
                evaluations[signature] = None if isinstance(outcome, Evaluation) else str(outcome)
                if isinstance(outcome, Evaluation) and label.startswith("declared") and label.endswith("as committed"):
                    assert outcome.stack_outputs["parts"] == STACKS[stack][3], (stack, label)
            error = evaluations[signature]
            report = preflight.check(config, secret_keys, stack)
            if report.ok != (error is None):
                problems = [f"{p.key} {p.kind}" for p in report.problems]
                disagreements.append(f"{stack} / {label}: program {'builds' if error is None else 'refuses'}, preflight {problems or 'READY'}")
            elif error is not None:
                # The same keys: every key preflight names is named by the program's error too.
                unnamed = [p.key for p in report.problems if f'"{p.key}"' not in error and not error.count(f"{p.key} ")]
                if unnamed:
                    disagreements.append(f"{stack} / {label}: preflight names {unnamed}, the program's error does not")
                caught |= {label.split("breaks ", 1)[1] for p in report.problems if p.kind == "rule" and "breaks " in label}
    elapsed = time.perf_counter() - started
    assert disagreements == [], "\n".join(disagreements)
    assert cases > 4 * 2 * len(catalog.KEYS) and refused < 10
    # Every cross-key rule was broken where its part is built, and both sides refused it (the enumeration is not vacuous).
    assert caught == {str(rule) for rule in rules.RULES}, {str(rule) for rule in rules.RULES} - caught
    print(f"{cases} cases, {len(evaluations)} evaluations, {elapsed:.1f} s")
    assert elapsed < 60


def test_the_rollout_key_is_optional_wherever_its_parts_are_built() -> None:
    """Issue 14 §4: without ``secret-chain:rolloutKey`` every stack builds and preflight says READY; a stack that
    builds PrometheusAuth or GrafanaOAuth generates exactly one key (a RandomBytes under the chain), the others none."""
    from secret_chain.ops.offline import RANDOM_BYTES

    rollout_key = catalog.get("secret-chain:rolloutKey")
    for stack in sorted(STACKS):
        for declared in (True, False):
            document = _set(stack_document(stack, declared=declared), rollout_key, None)
            config, secret_keys = parse_config(document)
            outcome = build(stack, config, secret_keys)
            report = preflight.check(config, secret_keys, stack)
            assert isinstance(outcome, Evaluation), (stack, declared, str(outcome))
            assert report.ok, (stack, declared, [p.line() for p in report.problems])
            uses_key = {"PrometheusAuth", "GrafanaOAuth"} & set(STACKS[stack][3])
            (chain,) = outcome.of_type("secret-chain:index:SecretChain")
            assert [r.parent for r in outcome.of_type(RANDOM_BYTES)] == ([chain.urn] if uses_key else []), (stack, declared)
