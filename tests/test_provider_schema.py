"""The component provider: every exported component passes the SDK's schema analyzer, as hosted.

The plugin (``provider/``) hosts ``secret_chain.provider.component_classes()``; these tests analyse that
same list with ``pulumi.provider.experimental.analyzer.Analyzer`` and generate the schema with the
SDK's ``generate_schema``, which is what ``pulumi package add`` obtains from the running plugin.
Every component must analyse, and its inputs/outputs must carry the types and descriptions below.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import json
import pkgutil
import pydoc
import re
import tomllib
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.provider.experimental.analyzer import Analyzer, PropertyType
from pulumi.provider.experimental.schema import generate_schema

import secret_chain
from secret_chain.errors import SecretChainError
from secret_chain.provider import PACKAGE_METADATA, PACKAGE_NAME, SecretChainProvider, component_classes
from tests.conftest import canary_config, rsa_pem
from tests.runtime import evaluate

ROOT = Path(__file__).resolve().parent.parent
CLASSES = component_classes()
BY_NAME = {c.__name__: c for c in CLASSES}

S, B, A, OBJ = PropertyType.STRING, PropertyType.BOOLEAN, PropertyType.ARRAY, PropertyType.OBJECT

# name -> (inputs, outputs). Each property: (schema type, words its description must contain, plain?)
# plain=False marks pulumi.Input[...] (secrets must accept Outputs); None: not checked.
EXPECTED: dict[str, tuple[dict[str, tuple[PropertyType, str, bool | None]], dict[str, tuple[PropertyType, str]]]] = {
    "GhcrPullSecret": (
        {
            "namespaces": (A, "Namespaces that get the pull secret", True),  # the list is plain, its items are Inputs
            "registry": (S, "ghcr.io", False),
            "secretName": (S, "ghcr-pull-secret", False),
            "username": (S, "namespace:imagePullSecret", False),
            "token": (S, "namespace:imagePullSecret", False),
            "attachToDefaultServiceAccount": (B, "default ServiceAccount", True),
        },
        {"secretNames": (OBJ, "per namespace")},
    ),
    "PrometheusAuth": (
        {
            "namespace": (S, "namespace", False),
            "monitorNamespace": (S, "ServiceMonitor", False),
            "app": (S, "ServiceMonitor", False),
            "secretName": (S, "prometheus-auth", False),
            "port": (S, "Service port", True),
            "token": (S, "prometheus:authToken", False),
        },
        {"secretName": (S, ""), "monitorSecretName": (S, ""), "envVarName": (S, ""), "monitorName": (S, "")},
    ),
    "GitHubActionsSecrets": (
        {
            "repository": (S, "owner/name", False),
            "environment": (S, "environment", False),
            "organizationRepositories": (A, "organisation", True),
            "required": (A, "must be configured", True),
            "pulumiAccessToken": (S, "ci:pulumiAccessToken", False),
            "workflowDispatchToken": (S, "ci:workflowDispatchToken", False),
            "appPrivateKey": (S, "ci:githubAppPrivateKey", False),
        },
        {"secretNames": (A, ""), "variableNames": (A, "")},
    ),
    "FluxGitCredentials": (
        {
            "repositoryUrl": (S, "", False),
            "branch": (S, "", False),
            "namespace": (S, "flux-system", False),
            "name": (S, "GitRepository", False),
            "secretName": (S, "github-token", False),
            "interval": (S, "fetches", True),
            "token": (S, "flux:githubToken", False),
            "githubAppPrivateKey": (S, "flux:githubAppPrivateKey", False),
        },
        {"secretName": (S, "")},
    ),
    "FluxImageAutomation": (
        {
            "namespace": (S, "flux-system", False),
            "gitRepositoryName": (S, "GitRepository", False),
            "branch": (S, "checks out", False),
            "name": (S, "ImageUpdateAutomation", False),
            "pushBranch": (S, "flux-image-updates", False),
            "interval": (S, "30m", True),
            "createPullSecret": (B, "GHCR", True),
        },
        {"pushBranch": (S, ""), "imagePolicyNames": (A, "")},
    ),
    "CertManagerDnsIssuer": (
        {
            "email": (S, "ACME", False),
            "domain": (S, "", False),
            "issuerName": (S, "ClusterIssuer", False),
            "clusterResourceNamespace": (S, "cert-manager", False),
            "secretName": (S, "digitalocean-dns", False),
            "certificateNamespace": (S, "Certificate", False),
            "staging": (B, "staging", True),
            "wildcardHosts": (A, "", True),
            "token": (S, "gateway:digitaloceanDnsToken", False),
        },
        {},
    ),
    "GrafanaOAuth": (
        {
            "namespace": (S, "", False),
            "domain": (S, "", False),
            "host": (S, "grafana.<domain>", False),
            "secretName": (S, "grafana-oauth", False),
            "githubOrg": (S, "grafana:githubOrg", False),
            "adminUser": (S, "grafana:adminUser", False),
            "smtpFromAddress": (S, "grafana:smtpFromAddress", False),
            "alertEmail": (S, "grafana:alertEmail", False),
            "prNumber": (PropertyType.INTEGER, "Pull request", True),
            "smtpPort": (PropertyType.INTEGER, "SMTP port", True),
            "clientSecret": (S, "grafana:githubClientSecret", False),
            "smtpPassword": (S, "grafana:smtpPassword", False),
        },
        {},
    ),
    "SecretChain": (
        {"appNamespace": (S, "namespace", False), "githubRepository": (S, "owner/name", False), "domain": (S, "domain", True)},
        {"appNamespace": (S, "namespace"), "parts": (A, "components")},
    ),
}




def analyze(classes: list[type[pulumi.ComponentResource]]) -> Any:
    return Analyzer(PACKAGE_NAME).analyze(classes)


def test_every_exported_component_present_is_hosted() -> None:
    exported = []
    for name in secret_chain.__all__:
        value = getattr(secret_chain, name)
        if inspect.isclass(value) and issubclass(value, pulumi.ComponentResource):
            exported.append(value)
    assert exported == CLASSES
    assert set(BY_NAME) == {
        "GhcrPullSecret",
        "PrometheusAuth",
        "GitHubActionsSecrets",
        "FluxGitCredentials",
        "FluxImageAutomation",
        "CertManagerDnsIssuer",
        "GrafanaOAuth",
        "SecretChain",
    }


@pytest.mark.parametrize("component", CLASSES, ids=[c.__name__ for c in CLASSES])
def test_component_analyzes_with_documented_properties(component: type[pulumi.ComponentResource]) -> None:
    definition = analyze([component])["component_definitions"][component.__name__]
    assert definition.description, f"{component.__name__} needs a class docstring (the schema description)"
    for kind, properties in (("input", definition.inputs), ("output", definition.outputs)):
        for prop_name, prop in properties.items():
            assert prop.description, f"{component.__name__} {kind} {prop_name}: add a docstring under the field"
    inputs, outputs = EXPECTED.get(component.__name__, ({}, {}))
    for prop_name, (typ, words, plain) in inputs.items():
        assert prop_name in definition.inputs, f"{component.__name__} lacks input {prop_name}: {sorted(definition.inputs)}"
        prop = definition.inputs[prop_name]
        assert prop.type is typ, (prop_name, prop.type)
        assert words in (prop.description or ""), (prop_name, prop.description)
        if plain is not None:
            assert bool(prop.plain) is plain, f"{component.__name__}.{prop_name}: plain={prop.plain}, expected {plain}"
    for prop_name, (typ, words) in outputs.items():
        assert prop_name in definition.outputs, f"{component.__name__} lacks output {prop_name}: {sorted(definition.outputs)}"
        assert definition.outputs[prop_name].type is typ
        assert words in (definition.outputs[prop_name].description or "")


def test_certmanager_solver_is_a_schema_enum() -> None:
    result = analyze([BY_NAME["CertManagerDnsIssuer"]])
    solver = result["component_definitions"]["CertManagerDnsIssuer"].inputs["solver"]
    assert solver.ref == f"#/types/{PACKAGE_NAME}:index:Solver"
    enum = result["type_definitions"]["Solver"]
    assert enum.type is PropertyType.STRING
    assert [(e.name, e.value) for e in enum.enum] == [("DNS01", "dns01"), ("HTTP01", "http01")]
    assert all(e.description for e in enum.enum)


def test_ghcr_namespaces_is_a_list_of_strings() -> None:
    definition = analyze([BY_NAME["GhcrPullSecret"]])["component_definitions"]["GhcrPullSecret"]
    namespaces = definition.inputs["namespaces"]
    assert namespaces.type is PropertyType.ARRAY
    assert namespaces.items is not None and namespaces.items.type is PropertyType.STRING
    # The list is plain (it says how many Secrets to create); each item may come from another resource.
    assert namespaces.plain is True and not namespaces.items.plain
    assert definition.outputs["secretNames"].additional_properties.type is PropertyType.STRING


@pytest.mark.parametrize(("component", "prop_name"), [("GhcrPullSecret", "namespaces"), ("GitHubActionsSecrets", "organizationRepositories")])
def test_lists_of_names_are_plain_lists_of_inputs(component: str, prop_name: str) -> None:
    prop = analyze([BY_NAME[component]])["component_definitions"][component].inputs[prop_name]
    assert prop.type is PropertyType.ARRAY and prop.plain is True
    assert prop.items is not None and prop.items.type is PropertyType.STRING and not prop.items.plain


@pytest.mark.parametrize("component", CLASSES, ids=[c.__name__ for c in CLASSES])
def test_type_token_matches_the_schema(component: type[pulumi.ComponentResource]) -> None:
    assert f'"{PACKAGE_NAME}:index:{component.__name__}"' in inspect.getsource(component)


def test_whole_provider_schema_generates() -> None:
    result = analyze(CLASSES)
    schema = generate_schema(
        PACKAGE_NAME,
        secret_chain.__version__,
        None,
        result["component_definitions"],
        result["type_definitions"],
        sorted(result["dependencies"], key=lambda d: f"{d.name}{d.version}"),
    ).to_json()
    assert schema["name"] == PACKAGE_NAME and schema["version"] == secret_chain.__version__
    assert set(schema["resources"]) == {f"{PACKAGE_NAME}:index:{c.__name__}" for c in CLASSES}
    for token, resource in schema["resources"].items():
        assert resource["isComponent"] is True, token


def test_plugin_manifest_and_entry_point() -> None:
    manifest = yaml.safe_load((ROOT / "provider" / "PulumiPlugin.yaml").read_text())
    assert manifest["runtime"] == "python"
    entry = (ROOT / "provider" / "__main__.py").read_text()
    assert "from secret_chain.provider import main" in entry
    # main serves exactly the analysed classes (tests/test_engine_schema.py runs it as the engine does).
    host_call = inspect.getsource(secret_chain.provider.main)
    assert "SecretChainProvider(component_classes(), PACKAGE_NAME, secret_chain.__version__)" in host_call
    # The root __main__.py stays the stack program.
    assert "secret_chain.program" in (ROOT / "__main__.py").read_text()


def test_plugin_requirements_match_the_package_dependencies() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = [
        line.strip()
        for line in (ROOT / "provider" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert requirements == pyproject["project"]["dependencies"]


def test_examples_use_the_type_tokens() -> None:
    program = yaml.safe_load((ROOT / "examples" / "yaml" / "Pulumi.yaml").read_text())
    assert program["runtime"] == "yaml"
    assert PACKAGE_NAME in program["packages"]
    types = {resource["type"] for resource in program["resources"].values()}
    assert {f"{PACKAGE_NAME}:index:GhcrPullSecret", f"{PACKAGE_NAME}:index:PrometheusAuth"} <= types
    index_ts = (ROOT / "examples" / "typescript" / "index.ts").read_text()
    assert 'from "@pulumi/secret-chain"' in index_ts
    assert "new secretChain.GhcrPullSecret(" in index_ts


SDK_FLOOR = "3.237"
"""The first pulumi release whose component host runs these components: 3.200-3.210 have no ``version``
argument, 3.211-3.236 make every TypedDict input required (they ignore ``total=False``), so both examples fail.
Measured with the engine tests and the plugin on each version (``make sdk-floor``, docs/provider.md)."""


def test_sdk_floor_is_the_first_version_that_works() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (pulumi_requirement,) = [d for d in pyproject["project"]["dependencies"] if d.startswith("pulumi>")]
    assert pulumi_requirement == f"pulumi>={SDK_FLOOR},<4"
    guide = (ROOT / "docs" / "provider.md").read_text()
    assert f"pulumi>={SDK_FLOOR}" in guide and "make sdk-floor" in guide
    makefile = (ROOT / "Makefile").read_text()
    assert "sdk-floor:" in makefile and "SECRET_CHAIN_PLUGIN_PYTHON" in makefile


# --- issue 21 item 7: package metadata, deprecated inputs, one description per field, help() -------------------------

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
REGISTRY_CATEGORIES = {"cloud", "database", "infrastructure", "monitoring", "network", "utility", "vcs"}
"""The ``category/<name>`` keywords the Pulumi registry reserves; ``kind/<type>`` is ``native`` or ``component``
(``PackageSpec.Keywords`` in pulumi/pulumi pkg/codegen/schema/schema.go)."""


def served_schema() -> dict[str, Any]:
    """The schema the plugin serves (``GetSchema``), built in-process as :func:`secret_chain.provider.main` builds it."""
    schema: dict[str, Any] = json.loads(SecretChainProvider(CLASSES, PACKAGE_NAME, secret_chain.__version__).schema)
    return schema


def test_package_metadata_is_the_distributions() -> None:
    """description, repository, license and keywords: pyproject.toml's, plus the registry's reserved keywords."""
    project = PYPROJECT["project"]
    schema = served_schema()
    for key, value in PACKAGE_METADATA.items():
        assert schema[key] == value, key
    assert schema["description"] == project["description"]
    assert schema["license"] == project["license"]
    assert schema["repository"] == project["urls"]["Repository"]
    reserved = [k for k in schema["keywords"] if k.startswith(("category/", "kind/"))]
    assert [k for k in schema["keywords"] if k not in reserved] == project["keywords"]
    categories = [k.removeprefix("category/") for k in reserved if k.startswith("category/")]
    assert len(categories) == 1 and categories[0] in REGISTRY_CATEGORIES, reserved
    assert sorted(reserved) == sorted([f"category/{categories[0]}", "kind/component"])
    # The changelog's release links name the same repository.
    links = re.findall(r"^\[[^\]]+\]: (https://\S+)$", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.MULTILINE)
    assert links and all(link.startswith(project["urls"]["Repository"] + "/") for link in links), links


def _type_references(spec: Any) -> list[dict[str, Any]]:
    """Every type reference inside a property: its ``items``, ``additionalProperties`` and ``oneOf`` members, nested."""
    found: list[dict[str, Any]] = []
    for key in ("items", "additionalProperties"):
        if isinstance(spec.get(key), dict):
            found += [spec[key], *_type_references(spec[key])]
    for member in spec.get("oneOf", []):
        found += [member, *_type_references(member)]
    return found


def test_each_field_is_described_once() -> None:
    """A list's or map's element type repeats no description: ``TypeSpec`` has none (pkg/codegen/schema/schema.go)."""
    schema = served_schema()
    properties = [
        (f"{token}.{name}", spec)
        for token, resource in schema["resources"].items()
        for group in ("inputProperties", "properties")
        for name, spec in resource.get(group, {}).items()
    ] + [(f"{token}.{name}", spec) for token, typ in schema["types"].items() for name, spec in typ.get("properties", {}).items()]
    assert any(_type_references(spec) for _, spec in properties)  # lists and maps are there to check
    repeated = [where for where, spec in properties for ref in _type_references(spec) if "description" in ref]
    assert repeated == []
    assert all(spec.get("description") for _, spec in properties)


_SAMPLES: dict[PropertyType, Any] = {
    PropertyType.STRING: "probe",
    PropertyType.BOOLEAN: False,
    PropertyType.INTEGER: 1,
    PropertyType.NUMBER: 1,
    PropertyType.ARRAY: [],
    PropertyType.OBJECT: {},
}
MINIMAL_ARGS: dict[str, dict[str, Any]] = {
    "GhcrPullSecret": {"namespaces": ["default"]},
    "PrometheusAuth": {"namespace": "default"},
    "GitHubActionsSecrets": {"repository": "acme/platform"},
    "FluxGitCredentials": {"repository_url": "https://github.com/acme/cluster"},
    "FluxImageAutomation": {"images": [{"image": "ghcr.io/acme/app", "semver_range": ">=1.0.0"}]},
    "CertManagerDnsIssuer": {"email": "ops@acme.io", "domain": "acme.io"},
    "GrafanaOAuth": {"namespace": "monitoring", "domain": "acme.io"},
    "SecretChain": {},
}
"""Each hosted component's required args, with valid values."""


@functools.cache
def _all_parts_config() -> tuple[dict[str, str], list[str]]:
    """A valid config for every part (the canaries, plus a Flux App, a DNS token, Grafana's OAuth App and the chain's settings)."""
    config, secret_keys = canary_config()
    extra = {
        "flux:githubAppId": ("234567", False),
        "flux:githubAppInstallationId": ("34567890", False),
        "flux:githubAppPrivateKey": (rsa_pem(), True),
        "gateway:digitaloceanDnsToken": ("dop_v1_" + "5a1b" * 16, True),
        "grafana:githubClientId": ("Ov23liq8Rk2xT0pLm9Zc", True),
        "grafana:githubClientSecret": ("c0ffee4b1d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a", True),
        "grafana:githubOrg": ("acme", False),
        "grafana:adminUser": ("octo", False),
        "secret-chain:domain": ("acme.io", False),
        "secret-chain:acmeEmail": ("ops@acme.io", False),
        "secret-chain:fluxRepositoryUrl": ("https://github.com/acme/cluster", False),
    }
    return {**config, **{k: v for k, (v, _) in extra.items()}}, [*secret_keys, *(k for k, (_, secret) in extra.items() if secret)]


def _deprecation_warnings(component: type[pulumi.ComponentResource], args: dict[str, Any]) -> list[str]:
    """The warnings that say "deprecated" when ``component`` is built from ``args`` (a refusal is fine: warnings come first)."""

    def program() -> None:
        with contextlib.suppress(SecretChainError):
            component("probe", args)  # type: ignore[call-arg]

    config, secret_keys = _all_parts_config()
    return [line for line in evaluate(program, config=dict(config), secret_keys=list(secret_keys)).logs if "deprecated" in line.lower()]


def test_every_input_the_code_treats_as_deprecated_has_a_deprecation_message() -> None:
    """Found by building each component with each input in turn: an input whose mere presence draws a deprecation
    warning is deprecated, and exactly those inputs carry ``deprecationMessage`` in the schema (``PropertySpec`` in
    pulumi/pulumi pkg/codegen/schema/schema.go; codegen marks the generated SDKs' members deprecated from it)."""
    assert set(MINIMAL_ARGS) == set(BY_NAME)
    result = analyze(CLASSES)
    warned: set[tuple[str, str]] = set()
    for component in CLASSES:
        base = MINIMAL_ARGS[component.__name__]
        assert _deprecation_warnings(component, base) == [], component.__name__
        definition = result["component_definitions"][component.__name__]
        for schema_name, python_name in definition.inputs_mapping.items():
            if python_name in base:
                continue
            prop = definition.inputs[schema_name]
            value = {} if prop.ref else _SAMPLES[prop.type]
            if _deprecation_warnings(component, {**base, python_name: value}):
                warned.add((component.__name__, schema_name))
    marked = {
        (token.rsplit(":", 1)[-1], name): spec["deprecationMessage"]
        for token, resource in served_schema()["resources"].items()
        for name, spec in resource["inputProperties"].items()
        if "deprecationMessage" in spec
    }
    assert set(marked) == warned
    # The probe finds the ones issue 21 names (so it can fail), and each message says what to do and until when.
    named = {
        ("GitHubActionsSecrets", "pulumiAccessToken"),
        ("GitHubActionsSecrets", "workflowDispatchToken"),
        ("FluxGitCredentials", "imageAutomation"),
    }
    assert named <= warned
    from secret_chain import catalog

    for where, message in marked.items():
        assert f"removed in {catalog.REMOVED_IN}" in message, (where, message)
        assert not re.search(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", message), f"{where}: a Python name in {message!r}"


def _library_components() -> list[type[pulumi.ComponentResource]]:
    """Every ComponentResource class defined in the library (the package outside the operator tools, ``secret_chain.ops``)."""
    found: dict[str, type[pulumi.ComponentResource]] = {}
    for module_info in pkgutil.walk_packages(secret_chain.__path__, "secret_chain."):
        if module_info.name.startswith("secret_chain.ops") or module_info.name.endswith("__main__"):
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            defined_here = inspect.isclass(value) and value.__module__ == module.__name__ and "__init__" in vars(value)
            if defined_here and issubclass(value, pulumi.ComponentResource):
                found[value.__name__] = value
    return sorted(found.values(), key=lambda c: c.__name__)


LIBRARY_COMPONENTS = _library_components()


def test_the_library_components_are_the_hosted_ones_and_the_bootstrap() -> None:
    assert {c.__name__ for c in LIBRARY_COMPONENTS} == {c.__name__ for c in CLASSES} | {"EscBootstrap"}


@pytest.mark.parametrize("component", LIBRARY_COMPONENTS, ids=[c.__name__ for c in LIBRARY_COMPONENTS])
def test_help_shows_every_argument_with_its_description(component: type[pulumi.ComponentResource]) -> None:
    """``help(component)`` (pydoc) shows each key of its args with the docstring the schema describes it by."""
    rendered = pydoc.render_doc(component, renderer=pydoc.plaintext)
    text = " ".join(re.sub(r"^ \|  ?", "", line) for line in rendered.splitlines()).split()
    flat = " ".join(text)
    definition = analyze([component])["component_definitions"][component.__name__]
    assert definition.inputs_mapping
    for schema_name, python_name in definition.inputs_mapping.items():
        description = " ".join((definition.inputs[schema_name].description or "").split())
        assert description, python_name
        assert f"{python_name}: {description}" in flat or f"{python_name} (" in flat, python_name
        assert description in flat, (python_name, description)
    # Not the base class's docstring, which documents ComponentResource's own (t, name, props, opts).
    base = " ".join((pulumi.ComponentResource.__init__.__doc__ or "").split())
    assert base and base[:60] not in flat


def _floor_pins() -> list[str]:
    """``name==floor`` of every runtime dependency, by the rule ``make sdk-floor`` pins them with."""
    return [re.sub(r">=([^,]+)(,.*)?$", r"==\1", d) for d in PYPROJECT["project"]["dependencies"]]


def test_provider_doc_lists_every_floor_and_no_test_count() -> None:
    """docs/provider.md names the floor of each runtime dependency (pyproject.toml's list, not a copy that drifts) and
    states no number of engine tests (the count changes with every test added)."""
    guide = (ROOT / "docs" / "provider.md").read_text(encoding="utf-8")
    section = guide[guide.index("## SDK floor") :]
    paragraph = section.split("\n\n")[1]
    assert re.findall(r"`([\w.-]+==[^`]+)`", paragraph) == _floor_pins()
    assert "pulumi-pulumiservice==" in paragraph and "pulumi-random==" in paragraph
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert r'r">=([^,]+)(,.*)?$$", r"==\1"' in makefile  # the rule above, as the sdk-floor recipe writes it
    counts = re.findall(r"\b\d+ (?:engine tests?|passed|failed|errors?)\b", guide)
    assert counts == [], counts
