"""The ESC environments in esc/ are generated from the catalog and the parts table, and hold what each stack reads.

``esc/*.yaml`` is :func:`secret_chain.esc.render` (``make esc``). Evaluated as ESC evaluates them — explicit imports
merged first, then the environment's own values, and implicit imports (``${environments.<project>.<env>.…}``)
resolved to the one referenced value — each environment carries exactly the keys the stacks attaching it need,
checked against :func:`secret_chain.parts.select` on the committed stack files; every secret is wrapped in
``fn::secret`` and every value a placeholder the key's own check rejects, so an environment created from these
files fails ``secret-chain preflight`` until a person sets real values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from secret_chain import catalog, esc, parts
from secret_chain.pulumi_rules import esc_interpolation
from secret_chain.validators import Invalid

ROOT = Path(__file__).resolve().parent.parent
ESC_DIR = ROOT / "esc"
FILES = {env.name: env.file for env in esc.ENVIRONMENTS}
ESC_KEYS = {k.key: k for k in catalog.KEYS if k.tier is catalog.Tier.ESC and not k.temporary}
# The templates hold every key a person sets, but not the deprecated ones nor those set only by choice (issue 14).
# Nor those a stack generates when they are absent (the rollout key: issue 14 §4).
TEMPLATE_KEYS = {key for key, k in ESC_KEYS.items() if not k.deprecated and not k.opt_in and not k.generated_when_absent}
TEMPORARY_KEYS = [k.key for k in catalog.KEYS if k.temporary]
STACK_FILES = {
    parts.Kind.PRODUCTION: "Pulumi.production.yaml",
    parts.Kind.PREVIEW_BASE: "Pulumi.preview-base.yaml",
    parts.Kind.PREVIEW_PR: "Pulumi.preview-pr.yaml",
}


def load(env: str) -> dict[str, Any]:
    document = yaml.safe_load((ESC_DIR / FILES[env]).read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    assert set(document) <= {"imports", "values"}, f"{FILES[env]}: unexpected top-level keys {sorted(document)}"
    return document


def flatten(config: dict[str, Any]) -> dict[str, Any]:
    """pulumiConfig by catalog key: an object key's fields (a YAML mapping that is not fn::secret) as ``<key>.<field>``."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict) and "fn::secret" not in value:
            assert catalog.held_in(key) and all(e.field for e in catalog.held_in(key)), f"{key} is not an object key"
            flat.update({f"{key}.{field}": item for field, item in value.items()})
        else:
            flat[key] = value
    return flat


def own_config(env: str) -> dict[str, Any]:
    """The environment's own values (implicit imports excluded), by catalog key."""
    config = load(env)["values"]["pulumiConfig"] or {}
    return flatten({k: v for k, v in config.items() if not (isinstance(v, str) and v.startswith("${"))})


def references(env: str) -> dict[str, list[str | int]]:
    """Config key → accessors of each implicit import, parsed as pulumi/esc parses them."""
    config = load(env)["values"]["pulumiConfig"] or {}
    return {k: esc_interpolation(v) for k, v in config.items() if isinstance(v, str) and "${" in v}


def composed(env: str) -> dict[str, Any]:
    """values.pulumiConfig as ESC evaluates it: imports first, in order, then the own values, then references."""
    result: dict[str, Any] = {}
    for imported in load(env).get("imports", []):
        project, name = imported.split("/")
        assert project == esc.ESC_PROJECT
        result.update(composed(name))
    result.update(own_config(env))
    for key, accessors in references(env).items():
        assert accessors[:2] == ["environments", esc.ESC_PROJECT] and accessors[3] == "pulumiConfig" and accessors[4] == key, accessors
        assert len(accessors) == 5
        source = composed(str(accessors[2]))
        held = {k: v for k, v in source.items() if k == key or k.startswith(key + ".")}
        assert held, f"{env}: {key} refers to {accessors[2]}, which does not hold it"
        result.update(held)
    return result


def unwrap(value: Any) -> tuple[str, bool]:
    """(plain text, whether it was wrapped in fn::secret)."""
    if isinstance(value, dict):
        assert set(value) == {"fn::secret"}, value
        assert isinstance(value["fn::secret"], str)
        return value["fn::secret"], True
    assert isinstance(value, str), f"placeholders are strings, got {value!r}"
    return value, False


def stack_selection(kind: parts.Kind, env: str) -> parts.Selection:
    """What the parts table makes of a stack of ``kind``: its committed stack file's parts and settings, the settings its
    operator sets (tests/test_stacks.py: none is committed), plus the environment's values (each counts as set)."""
    from tests.test_stacks import OPERATOR_SETTINGS

    stack = yaml.safe_load((ROOT / "stacks" / STACK_FILES[kind]).read_text(encoding="utf-8"))
    operator = OPERATOR_SETTINGS["preview-pr-7" if kind is parts.Kind.PREVIEW_PR else kind.value]
    settings = {**stack["config"], **operator}
    values = {key: "set" for key in composed(env)}
    declared = settings.pop(parts.PARTS_KEY.key)

    def get_json(key: str) -> str | None:
        fields = {e.field: "x" for e in catalog.held_in(key) if e.field and e.key in values}
        if fields:
            return json.dumps(fields)
        return "set" if key in values or key in settings else None

    return parts.select(kind, get_json, declared)


def test_files_are_generated_from_the_catalog_and_nothing_else_is_there() -> None:
    assert sorted(p.name for p in ESC_DIR.iterdir()) == sorted(FILES.values())
    for env in esc.ENVIRONMENTS:
        assert (ESC_DIR / env.file).read_text(encoding="utf-8") == esc.render(env), f"esc/{env.file} is stale: run make esc"


def test_imports_compose_base_into_preview_and_production_and_none_into_the_pr_environment() -> None:
    assert "imports" not in load("Base")
    for env in ("Preview", "Production"):
        # An import names <project>/<env> in the importing environment's own org (ESC docs, "Importing environments");
        # a bare "Base" would be default/Base, another environment than the one the bootstrap creates.
        assert load(env)["imports"] == ["secret-chain/Base"]
    # An explicit import would expose all of Base (Flux's App key, github:token, the CI secrets) to PR jobs.
    assert "imports" not in load("PullRequest")


def test_production_carries_every_template_key() -> None:
    assert set(composed("Production")) == TEMPLATE_KEYS
    assert {"ci:pulumiAccessToken", "ci:workflowDispatchToken", "ci:pulumiFallbackAccessToken"}.isdisjoint(composed("Production"))


@pytest.mark.parametrize(
    "kind, env", [(parts.Kind.PRODUCTION, "Production"), (parts.Kind.PREVIEW_BASE, "Preview"), (parts.Kind.PREVIEW_PR, "PullRequest")]
)
def test_each_stack_finds_every_esc_key_its_parts_need_in_its_environment(kind: parts.Kind, env: str) -> None:
    selection = stack_selection(kind, env)
    assert not selection.problems
    missing_esc = [m.key.key for m in selection.missing if m.key.tier is catalog.Tier.ESC]
    assert missing_esc == [], f"{env} lacks {missing_esc} for {kind.label}"
    assert esc.for_stack(kind).name == env


def test_the_pr_environment_exposes_exactly_the_keys_a_pr_stack_reads() -> None:
    """Issue 14 §3: the keys PullRequest exposes equal the ESC keys the PR stack's parts read (parts table)."""
    selection = stack_selection(parts.Kind.PREVIEW_PR, "PullRequest")
    read = {k.key for k in selection.read if k.tier is catalog.Tier.ESC}
    assert set(composed("PullRequest")) == read
    # What a PR job must never open.
    for key in ("flux:githubAppPrivateKey", "github:token", "ci:githubAppPrivateKey", "gateway:digitaloceanDnsToken"):
        assert key not in composed("PullRequest")
    # Issue 19: a PR stack fetches its cluster's kubeconfig (secret-chain:digitaloceanCluster) with a DigitalOcean token.
    # Issue 20: its own (a token of a DigitalOcean team without production's cluster), never Base's or Production's.
    assert "digitalocean:token" in own_config("PullRequest") and "digitalocean:token" not in references("PullRequest")


def test_every_key_is_set_in_one_place() -> None:
    base = set(own_config("Base"))
    for env in ("Preview", "Production", "PullRequest"):
        assert not base & set(own_config(env)), f"{env} shadows Base keys: {sorted(base & set(own_config(env)))}"
    # A PR stack reads Base's shared values by reference, so a person sets each of them once.
    base_config_keys = {catalog.get(key).config_key for key in base}
    assert set(references("PullRequest")) <= base_config_keys
    assert all(accessors[2] == "Base" for accessors in references("PullRequest").values())


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
        assert text.startswith("<set me: ") and text.endswith(">"), f"{key}: {text!r} is not a placeholder"
        with pytest.raises(Invalid):
            ESC_KEYS[key].check(text)


def test_placeholders_hold_no_value_shaped_like_a_real_secret() -> None:
    for env in FILES:
        text = (ESC_DIR / FILES[env]).read_text(encoding="utf-8")
        assert "-----BEGIN" not in text
    # ESC interpolates ${...}: the only interpolations are the PR environment's implicit imports, each one whole symbol.
    for env in ("Base", "Preview", "Production"):
        assert "${" not in (ESC_DIR / FILES[env]).read_text(encoding="utf-8")


def test_implicit_imports_parse_as_one_symbol_each() -> None:
    refs = references("PullRequest")
    assert refs
    for key, accessors in refs.items():
        assert accessors == ["environments", "secret-chain", "Base", "pulumiConfig", key]
    with pytest.raises(ValueError, match="not a symbol"):
        esc_interpolation(esc.reference(catalog.get("grafana:githubOrg"), "Base") + " ")


def test_keys_set_only_during_a_rotation_are_absent_but_explained() -> None:
    assert TEMPORARY_KEYS, "the catalog has rotation-only keys (prometheus:previousAuthToken)"
    for env in FILES:
        assert not set(TEMPORARY_KEYS) & set(composed(env))
    for env in ("Production", "PullRequest"):
        text = (ESC_DIR / FILES[env]).read_text(encoding="utf-8")
        for key in TEMPORARY_KEYS:
            assert f"# {key} is absent here on purpose" in text


def test_per_environment_values_are_never_shared_through_base() -> None:
    """A preview never shares an OAuth app, a scrape token, a digest key or a credential with production: each
    environment that needs one holds its own, and Base none."""
    per_environment = {k.key for k in catalog.KEYS if k.per_environment}
    assert per_environment
    assert not per_environment & set(own_config("Base"))
    for env in ("Preview", "Production", "PullRequest"):
        imported = {key for ref in load(env).get("imports", []) for key in composed(ref.split("/")[1])}
        assert not per_environment & imported, env
        assert not per_environment & set(references(env)), env


# Issue 20: the credentials the issue names as reaching production (each beyond the stack that reads it): the Flux App
# key and token (write to the cluster repository production syncs), github:token (writes the Actions secrets of every
# GitHub environment of the repository), the CI App key (Contents write), the DNS token (every domain of the
# DigitalOcean team) and the DigitalOcean token (a kubeconfig of every cluster of the team: DigitalOcean API scopes,
# kubernetes:access_cluster "View and download Kubernetes cluster credentials", per resource type, not per cluster).
PRODUCTION_REACHING = (
    "flux:githubAppPrivateKey",
    "flux:githubToken",
    "github:token",
    "ci:githubAppPrivateKey",
    "gateway:digitaloceanDnsToken",
    "digitalocean:token",
)


def pr_may_open() -> list[str]:
    """The environments a pull request's jobs may open: PullRequest, and those its implicit imports read (the preview
    team's open grants, components/secret_chain/bootstrap.py PREVIEW_TEAM_OPENS)."""
    return ["PullRequest", *sorted({str(accessors[2]) for accessors in references("PullRequest").values()})]


def test_what_a_pull_request_may_open_holds_nothing_of_production() -> None:
    """Issue 20 §2: no environment a PR job may open holds (own, imported or referenced) a production-reaching value;
    the one credential of that kind a PR stack needs, a DigitalOcean token, is PullRequest's own."""
    from secret_chain import bootstrap

    assert pr_may_open() == ["PullRequest", "Base"] == [e.name for e in bootstrap.PREVIEW_TEAM_OPENS]
    for env in pr_may_open():
        held = set(composed(env))
        for key in PRODUCTION_REACHING:
            if env == "PullRequest" and key == "digitalocean:token":
                assert key in own_config(env)  # its own: a token of the preview clusters' DigitalOcean team
                continue
            assert key not in held, f"{env}, which a pull request's jobs may open, holds {key}"
    for key in PRODUCTION_REACHING:
        assert catalog.get(key).per_environment, key
        assert key in own_config("Production")


def test_base_holds_no_secret_a_pull_request_does_not_read_anyway() -> None:
    """Opening Base (for PullRequest's implicit imports) gives a PR job no secret beyond what PullRequest exposes."""
    secrets = {key for key, value in own_config("Base").items() if unwrap(value)[1]}
    assert secrets and secrets <= set(composed("PullRequest"))
