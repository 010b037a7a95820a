"""No extra secret to run one component (issue 14 §4): the rollout key is generated when it is not configured.

Offline, RandomBytes outputs are stand-ins derived from the resource's name (components/offline.py), so the
expected annotations can be recomputed here.
"""

from __future__ import annotations

import base64

import pytest

from components.offline import RANDOM_BYTES, is_secret, is_unknown, random_bytes_stand_in, unwrap
from tests.runtime import evaluate


def stand_in_key(name: str) -> str:
    """The hex the offline runtime gives the RandomBytes named ``name`` (components/offline.py)."""
    value = unwrap(random_bytes_stand_in(RANDOM_BYTES, name, 32)["hex"])
    assert isinstance(value, str)
    return value


# --- the offline runtime ---------------------------------------------------------------------------


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_offline_random_bytes_have_reproducible_secret_outputs(preview: bool) -> None:
    """plan and the tests run programs with RandomBytes: their bytes are secret, derived from the name, and unknown in preview."""
    import pulumi
    import pulumi_random

    def program() -> None:
        for name, length in (("a", 32), ("b", 32), ("c", 48)):
            made = pulumi_random.RandomBytes(name, length=length)
            pulumi.export(f"{name}-hex", made.hex)
            pulumi.export(f"{name}-base64", made.base64)

    first, second = (evaluate(program, config={}, preview=preview) for _ in range(2))
    assert first.stack_outputs == second.stack_outputs
    assert [r.type for r in first.resources] == [RANDOM_BYTES] * 3
    if preview:
        assert all(is_unknown(v) for v in first.stack_outputs.values())
        return
    assert all(is_secret(v) for v in first.stack_outputs.values())
    outputs = {k: unwrap(v) for k, v in first.stack_outputs.items()}
    assert outputs["a-hex"] != outputs["b-hex"] and len(outputs["a-hex"]) == 64 and len(outputs["c-hex"]) == 96
    assert base64.b64decode(outputs["c-base64"]).hex() == outputs["c-hex"]
    assert outputs["a-hex"] == stand_in_key("a")
