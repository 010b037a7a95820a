"""Each example names the ESC environment that gives its components every key they read, and every setting (issue 19 item 2).

``examples/typescript`` and ``examples/yaml`` told a person to attach ``secret-chain/Preview``, the README said
``PullRequest``; Preview holds no ``prometheus:authToken`` (preview-base runs no application) and neither holds the
CI App's keys the YAML example's ``GitHubActionsSecrets`` needs, and ``github:owner`` was never mentioned (without it
pulumi-github writes to its token's own account: terraform-provider-github ``github/provider.go``, ``owner``
``DefaultFunc: EnvDefaultFunc("GITHUB_OWNER")``, else the token's owner).

Here the environment is computed: the ESC keys each component's row of the table of parts needs
(:mod:`secret_chain.parts`), against what each environment exposes (:mod:`secret_chain.environments`: own values,
imports, implicit imports), the smallest one that holds them all. Each example must attach it, and name with
``pulumi config set`` every setting its components read from stack config (``kubernetes:enableSecretMutable`` where
a Secret is written, ``github:owner`` where GitHub is) and every config value of its own. Then each example's
components are constructed through the engine stand-in (``tests/engine.py``: the ``provider/`` plugin over gRPC, as
the Pulumi engine drives it) with exactly that environment's values and those settings: they build.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from secret_chain import catalog, environments, parts
from secret_chain.catalog import Key, Tier
from secret_chain.github_actions import GITHUB_OWNER
from tests.engine import Plugin, started_plugin
from tests.test_stacks import OPERATOR, own_values

ROOT = Path(__file__).resolve().parent.parent
YAML_EXAMPLE = ROOT / "examples" / "yaml" / "Pulumi.yaml"
TS_EXAMPLE = ROOT / "examples" / "typescript" / "index.ts"
COMPONENT = "secret-chain:index:"


def yaml_components() -> list[tuple[str, dict[str, Any]]]:
    """(component, inputs) of every secret-chain resource of the YAML example."""
    document = yaml.safe_load(YAML_EXAMPLE.read_text(encoding="utf-8"))
    return [(r["type"].removeprefix(COMPONENT), r.get("properties") or {}) for r in document["resources"].values() if r["type"].startswith(COMPONENT)]


def ts_components() -> list[tuple[str, dict[str, Any]]]:
    """(component, inputs) of every ``new secretChain.<Name>("…", {…})`` of the TypeScript example (plain literals)."""
    text = TS_EXAMPLE.read_text(encoding="utf-8")
    variables = dict(re.findall(r'const (\w+) = config\.get\("\w+"\) \?\? "([^"]*)";', text))
    found = []
    for name, body in re.findall(r'new secretChain\.(\w+)\("[^"]+", (\{.*?\n\})\);', text, flags=re.S):
        for variable, default in variables.items():
            body = re.sub(rf"\b{variable}\b", json.dumps(default), body)
        body = re.sub(r"(\w+):", r'"\1":', body)
        found.append((name, json.loads(re.sub(r",(\s*[}\]])", r"\1", body))))
    return found


EXAMPLES = {"typescript": (TS_EXAMPLE, ts_components), "yaml": (YAML_EXAMPLE, yaml_components)}


def _templated(entry: Key) -> bool:
    return entry.tier is Tier.ESC and not (entry.temporary or entry.opt_in or entry.deprecated or entry.generated_when_absent)


def esc_keys_read(component: str) -> set[str]:
    """The ESC keys a component needs from its environment: its row's required keys and first alternative."""
    part = parts.BY_NAME[component]
    keys = part.all_of + part.needs + (part.one_of[0] if part.one_of else ())
    return {k.key for k in keys if _templated(k)}


def settings_read(component: str) -> set[str]:
    """The stack settings a component on its own reads from config (its other settings are its arguments)."""
    part = parts.BY_NAME[component]
    return ({catalog.MUTABLE_SECRETS.key} if part.writes_secrets else set()) | ({GITHUB_OWNER} if component == "GitHubActionsSecrets" else set())


def computed_environment(components: list[str]) -> environments.Environment:
    """The environment with the fewest keys that exposes every ESC key the components read."""
    needed = set().union(*(esc_keys_read(c) for c in components))
    fitting = [env for env in environments.ENVIRONMENTS if needed <= {k.key for k in env.exposed()}]
    assert fitting, f"no environment holds {sorted(needed)}"
    return min(fitting, key=lambda env: len(env.exposed()))


def attached(text: str) -> list[str]:
    return re.findall(r"pulumi config env add secret-chain/(\w+)", text)


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_each_example_attaches_the_environment_that_holds_every_key_its_components_read(example: str) -> None:
    path, components = EXAMPLES[example]
    used = [name for name, _ in components()]
    assert used, f"{path.name} builds no secret-chain component"
    expected = computed_environment(used)
    assert attached(path.read_text(encoding="utf-8")) == [expected.name], f"{path.name} should attach secret-chain/{expected.name}"
    # The docs' page on the examples (it was the README's section) names the same environment for each.
    readme = (ROOT / "docs" / "languages.md").read_text(encoding="utf-8")
    assert f"`{path.relative_to(ROOT)}`" in readme and f"(`{expected.name}`" in readme.split(f"`{path.relative_to(ROOT)}`", 1)[1]


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_each_example_names_every_setting_its_components_read(example: str) -> None:
    path, components = EXAMPLES[example]
    text = path.read_text(encoding="utf-8")
    said = set(re.findall(r"pulumi config set (\S+)", text))
    needed = set().union(*(settings_read(name) for name, _ in components()))
    assert needed <= said, f"{path.name} never says to set {sorted(needed - said)}"
    if example == "yaml":  # its own config values: each declared and each named with the project's namespace
        document = yaml.safe_load(text)
        used = set(re.findall(r"\$\{(\w+)\}", json.dumps(document["resources"])))
        assert used <= set(document.get("config") or {})
        assert {f"{document['name']}:{name}" for name in used} <= said


# --- through the engine stand-in -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plugin() -> Iterator[Plugin]:
    with started_plugin() as started:
        yield started


def environment_values(env: environments.Environment) -> tuple[dict[str, str], list[str]]:
    """The values a stack attaching ``env`` reads (only the keys it exposes), as an operator sets them: the example
    configs' values with fresh secrets and own names (tests/test_stacks.py), fields as paths."""
    document = json.loads((ROOT / "examples" / "config" / "production.json").read_text(encoding="utf-8"))
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for entry in env.exposed():
        found = document.get(entry.config_key)
        if found is None:
            continue
        value = own_values(entry.config_key, found)
        text = value["objectValue"][entry.field] if entry.field else value["value"]
        config[entry.key] = text
        if entry.secret:
            secret_keys.append(entry.key)
    return config, secret_keys


SETTING_VALUES = {catalog.MUTABLE_SECRETS.key: "true", GITHUB_OWNER: OPERATOR}
"""What a person types for each setting the examples name (``<owner>`` is the operator's account)."""
OWN_CONFIG = {"githubRepository": f"{OPERATOR}/platform"}
"""The YAML example's own config values, as the person sets them."""


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_each_example_builds_through_the_engine_with_its_environment_and_settings(plugin: Plugin, example: str) -> None:
    path, components = EXAMPLES[example]
    text = path.read_text(encoding="utf-8")
    (name,) = attached(text)
    config, secret_keys = environment_values(environments.BY_NAME[name])
    config.update({key: SETTING_VALUES[key] for key in re.findall(r"pulumi config set (\S+)", text) if key in SETTING_VALUES})
    for component, inputs in components():
        resolved = json.loads(re.sub(r"\$\{(\w+)\}", lambda m: OWN_CONFIG[m.group(1)], json.dumps(inputs)))
        outcome = plugin.construct(component, component.lower(), resolved, config=config, secret_keys=secret_keys)
        assert outcome.failure is None, f"{path.name}: {component} with secret-chain/{name}: {outcome.failure}"
