"""The catalog (schema) and the runbook (prose) describe the same keys, and the prose stays out of the components."""

from __future__ import annotations

import dataclasses

from components import catalog
from components.catalog import Key
from components.ops import runbook
from components.ops.runbook import RUNBOOK, Runbook


def test_the_runbook_covers_exactly_the_catalog_keys_in_its_order() -> None:
    assert list(RUNBOOK) == list(catalog.KEYS)
    assert all(entry is catalog.BY_KEY[entry.key] for entry in RUNBOOK)


def test_schema_and_prose_have_no_field_in_common() -> None:
    schema = {f.name for f in dataclasses.fields(Key)}
    prose = {f.name for f in dataclasses.fields(Runbook)}
    assert not schema & prose
    # Error messages and fix commands need only these two; they stay next to the schema.
    assert {"purpose", "example"} <= schema


def test_every_key_with_a_rotation_schedule_says_how_to_make_and_rotate_it() -> None:
    for entry in catalog.KEYS:
        prose = runbook.of(entry)
        if entry.rotation.days is not None and not entry.deprecated:
            assert prose.generate and prose.rotate and prose.reload, entry.key
