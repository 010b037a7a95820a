"""The catalog (schema) and the runbook (prose) describe the same keys, and the prose stays out of the components."""

from __future__ import annotations

import dataclasses

from secret_chain import catalog
from secret_chain.catalog import Key
from secret_chain.ops import runbook
from secret_chain.ops.runbook import RUNBOOK, Runbook


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


def test_where_a_value_flows_is_derived_and_prose_only_where_nothing_is_registered() -> None:
    """flows_to is derived from the example stacks' registrations (plan.flows); the runbook states it only for keys
    that land in no registered object (provider config, the rollout key), and never restates a derived one."""
    from secret_chain.github_actions import ENTRIES
    from secret_chain.ops import plan

    derived = plan.flows()
    actions = {e.config_key for e in ENTRIES}
    for entry in catalog.KEYS:
        prose = runbook.of(entry).flows_to
        if prose:
            assert entry.key not in derived and entry.key not in actions, f"{entry.key}: flows_to restates a derived flow"
        if entry.tier is catalog.Tier.ESC:
            assert plan.flows_to(entry), f"{entry.key}: nowhere said where it lands"
    # Every Secret target names the data keys the value reaches, not every key of the Secret.
    grafana = dict(derived[catalog.GRAFANA_CLIENT_ID.key])
    assert any(target.endswith("/grafana-oauth [GF_AUTH_GITHUB_CLIENT_ID]") for target in grafana)
