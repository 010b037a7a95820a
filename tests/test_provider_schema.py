"""The component provider: every exported component passes the SDK's schema analyzer, as hosted.

The plugin (``provider/``) hosts ``secret_chain.provider.component_classes()``; these tests analyse that
same list with ``pulumi.provider.experimental.analyzer.Analyzer`` and generate the schema with the
SDK's ``generate_schema``, which is what ``pulumi package add`` obtains from the running plugin.
Every component must analyse, and its inputs/outputs must carry the types and descriptions below.
"""

from __future__ import annotations

import inspect
import tomllib
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.provider.experimental.analyzer import Analyzer, PropertyType
from pulumi.provider.experimental.schema import generate_schema

import secret_chain
from secret_chain.provider import PACKAGE_NAME, component_classes

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
