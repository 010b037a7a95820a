"""The ESC environment definitions in esc/ agree with the catalog.

Preview and Production each import Base; composed (Base first, the importing environment's own values
over it) each carries exactly the catalog's ESC-tier keys, every secret wrapped in ``fn::secret``
and nothing else, and every value a placeholder that the key's own check rejects, so an environment
created from these files fails ``secret-chain preflight`` until a person sets real values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components import catalog
from components.validators import Invalid

ESC_DIR = Path(__file__).resolve().parent.parent / "esc"
FILES = {"Base": "base.yaml", "Preview": "preview.yaml", "Production": "production.yaml"}
ESC_KEYS = {k.key: k for k in catalog.KEYS if k.tier is catalog.Tier.ESC and not k.temporary}
# The templates hold every key a person sets, but not the deprecated ones nor those set only by choice (issue 14).
TEMPLATE_KEYS = {key for key, k in ESC_KEYS.items() if not k.deprecated and not k.opt_in}
TEMPORARY_KEYS = [k.key for k in catalog.KEYS if k.temporary]


def load(env: str) -> dict[str, Any]:
    document = yaml.safe_load((ESC_DIR / FILES[env]).read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    assert set(document) <= {"imports", "values"}, f"{FILES[env]}: unexpected top-level keys {sorted(document)}"
    return document


def own_config(env: str) -> dict[str, Any]:
    """values.pulumiConfig by catalog key: an object key's fields (a YAML mapping that is not fn::secret) as
    ``<key>.<field>``, the path ``pulumi config set --path`` and the catalog use."""
    config = load(env)["values"]["pulumiConfig"]
    assert isinstance(config, dict)
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict) and "fn::secret" not in value:
            assert catalog.held_in(key) and all(e.field for e in catalog.held_in(key)), f"{key} is not an object key"
            flat.update({f"{key}.{field}": item for field, item in value.items()})
        else:
            flat[key] = value
    return flat


def composed(env: str) -> dict[str, Any]:
    """values.pulumiConfig as ESC evaluates it: imports first, in order, then the environment's own values."""
    result: dict[str, Any] = {}
    for imported in load(env).get("imports", []):
        result.update(composed(imported.removeprefix("secret-chain/")))
    result.update(own_config(env))
    return result


def unwrap(value: Any) -> tuple[str, bool]:
    """(plain text, whether it was wrapped in fn::secret)."""
    if isinstance(value, dict):
        assert set(value) == {"fn::secret"}, value
        assert isinstance(value["fn::secret"], str)
        return value["fn::secret"], True
    assert isinstance(value, str), f"placeholders are strings, got {value!r}"
    return value, False


def test_files_exist_and_nothing_else() -> None:
    assert sorted(p.name for p in ESC_DIR.iterdir()) == sorted(FILES.values())


def test_imports_compose_base_into_preview_and_production() -> None:
    assert "imports" not in load("Base")
    for env in ("Preview", "Production"):
        # An import names <project>/<env> in the importing environment's own org (ESC docs, "Importing environments");
        # a bare "Base" would be default/Base, another environment than the one `pulumi env init` creates.
        assert load(env)["imports"] == ["secret-chain/Base"]


@pytest.mark.parametrize("env", ["Preview", "Production"])
def test_composed_keys_are_exactly_the_catalog_esc_keys(env: str) -> None:
    assert set(composed(env)) == TEMPLATE_KEYS
    assert {"ci:pulumiAccessToken", "ci:workflowDispatchToken", "ci:pulumiFallbackAccessToken"}.isdisjoint(composed(env))


def test_each_key_is_set_in_one_place() -> None:
    base = set(own_config("Base"))
    for env in ("Preview", "Production"):
        assert not base & set(own_config(env)), f"{env} shadows Base keys: {sorted(base & set(own_config(env)))}"
    # Both environments carry the same environment-specific keys.
    assert set(own_config("Preview")) == set(own_config("Production"))


def test_every_key_is_an_esc_tier_catalog_key() -> None:
    stack_tier = {k.key for k in catalog.KEYS if k.tier is catalog.Tier.STACK}
    for env in FILES:
        for key in own_config(env):
            assert key in ESC_KEYS, f"{FILES[env]}: {key} is not an ESC-tier key of the catalog"
            assert key not in stack_tier


@pytest.mark.parametrize("env", list(FILES))
def test_secrets_are_fn_secret_exactly_when_the_catalog_says_secret(env: str) -> None:
    for key, value in own_config(env).items():
        _, wrapped = unwrap(value)
        assert wrapped is ESC_KEYS[key].secret, f"{FILES[env]}: {key} secret={ESC_KEYS[key].secret} but fn::secret={wrapped}"


@pytest.mark.parametrize("env", list(FILES))
def test_every_placeholder_is_rejected_by_its_check(env: str) -> None:
    for key, value in own_config(env).items():
        text, _ = unwrap(value)
        assert text == "" or (text.startswith("<set me: ") and text.endswith(">")), f"{key}: {text!r} is not a placeholder"
        with pytest.raises(Invalid):
            ESC_KEYS[key].check(text)


def test_placeholders_hold_no_value_shaped_like_a_real_secret() -> None:
    for env in FILES:
        text = (ESC_DIR / FILES[env]).read_text(encoding="utf-8")
        assert "-----BEGIN" not in text
        # ESC would interpolate ${...}; placeholders must not contain references.
        assert "${" not in text


def test_keys_set_only_during_a_rotation_are_absent_but_explained() -> None:
    assert TEMPORARY_KEYS, "the catalog has rotation-only keys (prometheus:previousAuthToken)"
    for env in FILES:
        assert not set(TEMPORARY_KEYS) & set(own_config(env))
    for env in ("Preview", "Production"):
        text = (ESC_DIR / FILES[env]).read_text(encoding="utf-8")
        for key in TEMPORARY_KEYS:
            assert f"# {key} is absent here on purpose" in text


def test_rollout_key_is_per_environment() -> None:
    """Each environment has its own rollout key, so a preview never shares a digest key with production."""
    assert "secret-chain:rolloutKey" not in own_config("Base")
    for env in ("Preview", "Production"):
        assert "secret-chain:rolloutKey" in own_config(env)
