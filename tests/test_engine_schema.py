"""The schema the running plugin serves, as the engine (``pulumi package add``, codegen) obtains it.

One plugin process for the module (tests/engine.py starts it as the Python language host does). The schema
must validate against Pulumi's package metaschema (vendored in tests/data, see its README), carry the package's
description, repository, license and keywords, mark the inputs a component cannot do without as required, the
inputs that carry secrets as secret and the deprecated ones deprecated, and describe every property once, in
plain Markdown with the schema's (camelCase) names: other languages never see Python names.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

import secret_chain
from secret_chain import catalog
from secret_chain.provider import PACKAGE_NAME, component_classes
from tests.engine import Plugin, started_plugin

METASCHEMA = Path(__file__).resolve().parent / "data" / "pulumi-package.schema.json"

REQUIRED_INPUTS = {
    "GhcrPullSecret": ["namespaces"],
    "PrometheusAuth": ["namespace"],
    "GitHubActionsSecrets": ["repository"],
    "FluxGitCredentials": ["repositoryUrl"],
    "FluxImageAutomation": ["images"],
    "CertManagerDnsIssuer": ["domain", "email"],
    "GrafanaOAuth": ["domain", "namespace"],
    "SecretChain": [],
}
REQUIRED_TYPE_PROPERTIES = {"ImageAutomationArgs": ["images"], "ImageArgs": ["image", "semverRange"]}

SECRET_INPUTS = {
    "GhcrPullSecret": {"token"},
    "PrometheusAuth": {"token", "previousToken", "rolloutKey"},
    "GitHubActionsSecrets": {"pulumiAccessToken", "workflowDispatchToken", "appPrivateKey", "pulumiFallbackAccessToken"},
    "FluxGitCredentials": {"token", "githubAppPrivateKey"},
    "FluxImageAutomation": set(),
    "CertManagerDnsIssuer": {"token"},
    "GrafanaOAuth": {"clientId", "clientSecret", "smtpHost", "smtpUser", "smtpPassword", "rolloutKey"},
    "SecretChain": set(),
}


@pytest.fixture(scope="module")
def plugin() -> Iterator[Plugin]:
    with started_plugin(configure=False) as started:
        yield started


@pytest.fixture(scope="module")
def schema(plugin: Plugin) -> dict[str, Any]:
    return plugin.schema()


def resource(schema: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = schema["resources"][f"{PACKAGE_NAME}:index:{name}"]
    return found


def load_metaschema() -> dict[str, Any]:
    """The vendored metaschema, its ECMA-262 named groups ``(?<name>`` spelt as Python's ``(?P<name>``."""
    text = re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", METASCHEMA.read_text())
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def test_plugin_starts_as_the_language_host_runs_it(plugin: Plugin) -> None:
    # The first stdout line was the port (Plugin asserts it); the engine then asks for the plugin's version.
    assert plugin.port > 0
    assert plugin.plugin_info().version == secret_chain.__version__


def test_schema_validates_against_the_package_metaschema(schema: dict[str, Any]) -> None:
    metaschema = load_metaschema()
    jsonschema.validators.validator_for(metaschema)(metaschema).validate(schema)
    assert schema["name"] == PACKAGE_NAME and schema["version"] == secret_chain.__version__
    assert set(schema["resources"]) == {f"{PACKAGE_NAME}:index:{c.__name__}" for c in component_classes()}
    assert all(r["isComponent"] for r in schema["resources"].values())


def test_metaschema_rejects_what_it_should(schema: dict[str, Any]) -> None:
    """The vendored metaschema is the real one: it refuses a schema with a bad property type."""
    metaschema = load_metaschema()
    broken = json.loads(json.dumps(schema))
    resource(broken, "GhcrPullSecret")["inputProperties"]["namespaces"]["type"] = "list"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validators.validator_for(metaschema)(metaschema).validate(broken)


@pytest.mark.parametrize("name", sorted(REQUIRED_INPUTS))
def test_required_inputs(schema: dict[str, Any], name: str) -> None:
    assert sorted(resource(schema, name).get("requiredInputs", [])) == REQUIRED_INPUTS[name]


def test_required_properties_of_nested_types(schema: dict[str, Any]) -> None:
    for name, required in REQUIRED_TYPE_PROPERTIES.items():
        assert sorted(schema["types"][f"{PACKAGE_NAME}:index:{name}"].get("required", [])) == required, name


@pytest.mark.parametrize("name", sorted(SECRET_INPUTS))
def test_secret_inputs_are_marked_secret(schema: dict[str, Any], name: str) -> None:
    inputs = resource(schema, name)["inputProperties"]
    marked = {prop for prop, spec in inputs.items() if spec.get("secret")}
    assert marked == SECRET_INPUTS[name]


_DEFAULT_CONFIG = re.compile(r"config ([a-z][\w-]*:[\w:]+)")
_DEFAULT_FIELD = re.compile(r"field `(\w+)` of config `([a-z][\w-]*:\w+)`")


def test_every_input_that_overrides_a_secret_config_key_is_secret(schema: dict[str, Any]) -> None:
    """Drift guard: an input documented as the override of a secret ESC key must be marked secret, and only then."""
    checked = 0
    seen_keys: set[str] = set()
    for token, spec in schema["resources"].items():
        for prop, prop_spec in spec["inputProperties"].items():
            description = prop_spec.get("description", "")
            keys = _DEFAULT_CONFIG.findall(description) + [f"{key}.{name}" for name, key in _DEFAULT_FIELD.findall(description)]
            if not keys:
                continue
            checked += 1
            seen_keys.update(keys)
            wants_secret = any(catalog.get(key.rstrip(".")).secret for key in keys)
            assert bool(prop_spec.get("secret")) is wants_secret, (token, prop, keys)
    assert checked >= 20
    assert "namespace:imagePullSecret.token" in seen_keys


def _descriptions(schema: dict[str, Any]) -> Iterator[tuple[str, str]]:
    def walk(value: Any, where: str) -> Iterator[tuple[str, str]]:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "description" and isinstance(item, str):
                    yield where, item
                else:
                    yield from walk(item, f"{where}/{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from walk(item, f"{where}/{index}")

    yield from walk({"resources": schema["resources"], "types": schema["types"]}, "")


def _python_property_names() -> set[str]:
    """Every Python (snake_case) name of a hosted input, output or nested type field."""
    from pulumi.provider.experimental.analyzer import Analyzer

    result = Analyzer(PACKAGE_NAME).analyze(component_classes())
    names: set[str] = set()
    for definition in result["component_definitions"].values():
        names.update(definition.inputs_mapping.values(), definition.outputs_mapping.values())
    for type_definition in result["type_definitions"].values():
        names.update(type_definition.properties_mapping.values())
    return {n for n in names if "_" in n}


def test_descriptions_are_plain_markdown_with_schema_names(schema: dict[str, Any]) -> None:
    python_names = _python_property_names()
    assert {"secret_name", "rollout_annotations", "pr_number"} <= python_names
    problems = []
    for where, text in _descriptions(schema):
        if "``" in text or re.search(r":[a-z]+:`", text):
            problems.append((where, "reST markup", text))
        if re.search(r"^ {4,}\S", text, re.MULTILINE):
            problems.append((where, "indented line (a Markdown code block)", text))
        snake = set(re.findall(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", text)) & python_names
        if snake:
            problems.append((where, f"Python names {sorted(snake)}", text))
    assert problems == []


def test_descriptions_keep_their_words(schema: dict[str, Any]) -> None:
    """The rewrite keeps the text: names become camelCase, markup becomes Markdown code spans."""
    grafana = resource(schema, "GrafanaOAuth")
    assert "prNumber" in grafana["inputProperties"]["host"]["description"]
    prometheus = resource(schema, "PrometheusAuth")
    assert "`PROMETHEUS_AUTH_TOKEN`" in prometheus["description"]
    assert "rolloutAnnotations" in prometheus["inputProperties"]["rolloutKey"]["description"]
    chain = resource(schema, "SecretChain")
    assert "`ConfigError`" in chain["description"] or "ConfigError" not in chain["description"]
    # Words that are not property names stay as they are (a Grafana setting, an Actions secret name, token prefixes).
    text = json.dumps(schema)
    for word in ("role_attribute_strict", "PULUMI_FALLBACK_ACCESS_TOKEN", "github_pat_"):
        assert word in text


def test_schema_carries_the_package_metadata(schema: dict[str, Any]) -> None:
    """description, repository, license and keywords (``PackageSpec`` in pulumi/pulumi pkg/codegen/schema/schema.go):
    pyproject.toml's, and the registry's ``kind/component`` and one ``category/<name>``."""
    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert schema["description"] == project["description"]
    assert schema["repository"] == project["urls"]["Repository"]
    assert schema["license"] == project["license"]
    assert set(project["keywords"]) < set(schema["keywords"])
    assert "kind/component" in schema["keywords"]
    assert len([k for k in schema["keywords"] if k.startswith("category/")]) == 1


def test_inputs_of_deprecated_config_keys_are_deprecated(schema: dict[str, Any]) -> None:
    """An input that overrides a key the catalog deprecates carries ``deprecationMessage`` with the catalog's replacement."""
    checked = []
    for token, spec in schema["resources"].items():
        for prop, prop_spec in spec["inputProperties"].items():
            keys = [key for key in _DEFAULT_CONFIG.findall(prop_spec.get("description", "")) if key.rstrip(".") in catalog.BY_KEY]
            for key in keys:
                entry = catalog.get(key.rstrip("."))
                if entry.deprecated:
                    checked.append((token, prop))
                    message = " ".join(prop_spec.get("deprecationMessage", "").split())
                    assert " ".join(entry.deprecated.split()) in message, (token, prop, message)
    assert len(checked) >= 2


def test_element_types_repeat_no_description(schema: dict[str, Any]) -> None:
    """``items`` and ``additionalProperties`` are type references, which have no description (``TypeSpec`` in
    pkg/codegen/schema/schema.go): each field is described once, on the property."""
    found = []

    def walk(value: Any, where: str, in_type: bool) -> None:
        if isinstance(value, dict):
            if in_type and "description" in value:
                found.append(where)
            for key, item in value.items():
                walk(item, f"{where}/{key}", key in ("items", "additionalProperties", "oneOf"))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{where}/{index}", in_type)

    walk({"resources": schema["resources"], "types": schema["types"]}, "", False)
    assert found == []
    assert '"items"' in json.dumps(schema)


def test_yaml_example_properties_are_schema_inputs(schema: dict[str, Any]) -> None:
    """examples/yaml/Pulumi.yaml names only inputs the schema has, and every required one."""
    program = yaml.safe_load((Path(__file__).resolve().parent.parent / "examples" / "yaml" / "Pulumi.yaml").read_text())
    for name, spec in program["resources"].items():
        definition = schema["resources"][spec["type"]]
        properties = set(spec.get("properties", {}))
        assert properties <= set(definition["inputProperties"]), (name, properties - set(definition["inputProperties"]))
        assert set(definition.get("requiredInputs", [])) <= properties, name
