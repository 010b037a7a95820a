"""The same stack evaluated twice registers byte-identical inputs; preview registers what update does."""

from __future__ import annotations

import json
from typing import Any

import pytest

from secret_chain.ops.offline import Evaluation, Registration, unwrap
from secret_chain.program import main
from tests.conftest import canary_config
from tests.runtime import evaluate

STACKS = ["production", "preview-base", "preview-pr-42"]


def _serialise(value: Any) -> Any:
    """Secret markers kept, as a plain structure json.dumps can write."""
    from secret_chain.ops.offline import is_secret

    if is_secret(value):
        return {"<secret>": _serialise(unwrap(value))}
    if isinstance(value, dict):
        return {k: _serialise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_serialise(v) for v in value]
    return value


def fingerprint(reg: Registration) -> str:
    return json.dumps(
        {
            "urn": reg.urn,
            "type": reg.type,
            "name": reg.name,
            "parent": reg.parent,
            "custom": reg.custom,
            "inputs": _serialise(reg.inputs),
            "dependencies": sorted(reg.dependencies),
            "delete_before_replace": reg.delete_before_replace,
        },
        sort_keys=True,
    )


def fingerprints(ev: Evaluation) -> list[str]:
    return [fingerprint(r) for r in sorted(ev.registrations, key=lambda r: r.urn)]


def _run(config: dict[str, str], secret_keys: list[str], stack: str, preview: bool) -> Evaluation:
    return evaluate(main, config=config, secret_keys=secret_keys, stack=stack, preview=preview)


def _config(rollout_key: str) -> tuple[dict[str, str], list[str]]:
    """The canary config, with its rollout key configured or left out (then the chain generates one)."""
    config, secret_keys = canary_config()
    if rollout_key == "generated":
        del config["secret-chain:rolloutKey"]
        secret_keys.remove("secret-chain:rolloutKey")
    return config, secret_keys


@pytest.mark.parametrize("rollout_key", ["configured", "generated"])
@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_two_evaluations_register_byte_identical_inputs(stack: str, preview: bool, rollout_key: str) -> None:
    config, secret_keys = _config(rollout_key)
    first = _run(config, secret_keys, stack, preview)
    second = _run(config, secret_keys, stack, preview)
    assert len(first.registrations) > 2
    assert fingerprints(first) == fingerprints(second)
    assert first.stack_outputs == second.stack_outputs
    assert json.dumps(_serialise(first.component_outputs), sort_keys=True) == json.dumps(_serialise(second.component_outputs), sort_keys=True)


@pytest.mark.parametrize("rollout_key", ["configured", "generated"])
@pytest.mark.parametrize("stack", STACKS)
def test_preview_registers_the_same_resources_as_update(stack: str, rollout_key: str) -> None:
    config, secret_keys = _config(rollout_key)
    update = _run(config, secret_keys, stack, preview=False)
    preview = _run(config, secret_keys, stack, preview=True)
    assert sorted(r.urn for r in preview.registrations) == sorted(r.urn for r in update.registrations)
    # Every value is known from config, so preview sends the very same inputs.
    assert fingerprints(preview) == fingerprints(update)
