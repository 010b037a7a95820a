"""The one resolver (components/secret_chain/_resolve.py): every Spec field read from an argument is declared once, and its
default is the one the Args docstring documents (the schema description other languages read)."""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Any, TypedDict

import pytest

from secret_chain import certmanager, flux, flux_images, ghcr, github_actions, grafana, prometheus
from secret_chain._resolve import Valid, arg, spec_args
from secret_chain.config import argument_names

# (Args TypedDict, the Specs that read its fields, fields handled by hand: resolve()'s then= hook)
SHAPES: dict[str, tuple[type, tuple[type, ...], frozenset[str]]] = {
    "GhcrPullSecret": (ghcr.GhcrPullSecretArgs, (ghcr.GhcrSpec,), frozenset()),
    "PrometheusAuth": (prometheus.PrometheusAuthArgs, (prometheus.PrometheusSpec,), frozenset()),
    "CertManagerDnsIssuer": (certmanager.CertManagerDnsIssuerArgs, (certmanager.CertManagerSpec,), frozenset()),
    "GrafanaOAuth": (grafana.GrafanaOAuthArgs, (grafana.GrafanaSpec, grafana.MailSpec), frozenset()),
    "GitHubActionsSecrets": (
        github_actions.GitHubActionsSecretsArgs,
        (github_actions.GitHubSpec,),
        frozenset(e.arg for e in github_actions.ENTRIES),  # one table, github_actions.ENTRIES
    ),
    "FluxGitCredentials": (
        flux.FluxGitCredentialsArgs,
        (flux.FluxSpec, flux.TokenAuth, flux.GitHubAppAuth),
        frozenset({"image_automation"}),  # flux_images.resolve_nested
    ),
    "FluxImageAutomation": (
        flux_images.FluxImageAutomationArgs,
        (flux_images.AutomationSpec,),
        frozenset({"images", "author_name", "author_email"}),  # flux_images._images and _author
    ),
    "ImageAutomationArgs": (
        flux_images.ImageAutomationArgs,
        (flux_images.AutomationSpec,),
        frozenset({"images", "author_name", "author_email"}),
    ),
    "ImageArgs": (flux_images.ImageArgs, (flux_images.ImageSpec,), frozenset()),
}
CONTEXT = {"ImageAutomationArgs": frozenset({"namespace", "branch", "git_repository_name", "provider_enables_mutable_secrets"})}
"""Spec fields a nested args dict does not have: FluxGitCredentials passes its own."""


def field_docs(typed_dict: type) -> dict[str, str]:
    """Each field's docstring, read from the source as the provider's schema analyser reads it."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(typed_dict)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, after in zip(body, [*body[1:], None], strict=True):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(after, ast.Expr):
            docs[node.target.id] = " ".join(str(after.value.value).split())  # type: ignore[attr-defined]
    return docs


def shown(default: object) -> str:
    """A default as the docstrings write it: true/false, a label map as name=value, a string as it is."""
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, dict):
        return ",".join(f"{k}={v}" for k, v in default.items())
    return str(default)


def reads(specs: tuple[type, ...]) -> dict[str, Any]:
    """Argument name → its Arg, over the Specs that read one Args type."""
    return {how.name or field: how for spec in specs for field, how in spec_args(spec).items()}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_argument_is_read_once_and_every_read_field_is_an_argument(shape: str) -> None:
    typed_dict, specs, by_hand = SHAPES[shape]
    declared = set(argument_names(typed_dict))
    read = set(reads(specs)) - CONTEXT.get(shape, frozenset())
    assert read - declared == set(), f"{shape}: read but not declared"
    assert declared - read - by_hand == set(), f"{shape}: declared but never read"
    assert not read & by_hand


def default_mismatches(typed_dict: type, specs: tuple[type, ...]) -> tuple[list[str], int]:
    """(problems, how many static defaults were compared) between the Args docstrings and the Specs' defaults."""
    docs, problems, checked = field_docs(typed_dict), [], 0
    for name, how in reads(specs).items():
        if name not in docs:
            continue
        if how.key is not None:
            entry = how.key
            if entry.config_key not in docs[name] or entry.field not in docs[name]:
                problems.append(f"{name}: the docstring should name config {how.key}")
            continue
        if how.default is None or callable(how.default) or isinstance(how.default, Valid):
            continue  # no default, or one computed from other values: the docstring says how in words
        checked += 1
        if f"Default: {shown(how.default)}" not in docs[name]:
            problems.append(f"{name}: documented {docs[name]!r}, resolver default {how.default!r}")
    return problems, checked


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_documented_defaults_are_the_resolvers(shape: str) -> None:
    """A ``Default: …`` in an Args docstring was written a second time in resolve(); now it must match the Spec's."""
    typed_dict, specs, _ = SHAPES[shape]
    problems, checked = default_mismatches(typed_dict, specs)
    assert problems == []
    assert checked or shape == "GitHubActionsSecrets", f"{shape}: no documented default compared"


class _DriftedArgs(TypedDict, total=False):
    interval: str
    """Scrape interval. Default: 1m."""
    token: str
    """The bearer token. Default: config prometheus:somethingElse."""


@dataclass(frozen=True)
class _DriftedSpec:
    interval: str = field(metadata=arg(str, default="30s", plain=True))
    token: str = field(metadata=arg(key=prometheus.TOKEN_KEY))


def test_a_drifted_docstring_is_caught() -> None:
    problems, checked = default_mismatches(_DriftedArgs, (_DriftedSpec,))
    assert checked == 1 and len(problems) == 2
    assert "resolver default '30s'" in problems[0] and "prometheus:authToken" in problems[1]


def test_the_two_image_automation_args_say_the_same() -> None:
    """FluxImageAutomationArgs repeats ImageAutomationArgs' fields (the schema analyser reads each class's own source)."""
    nested, standalone = field_docs(flux_images.ImageAutomationArgs), field_docs(flux_images.FluxImageAutomationArgs)
    assert nested.items() <= standalone.items()
    assert {
        name: flux_images.FluxImageAutomationArgs.__annotations__[name] for name in nested
    } == flux_images.ImageAutomationArgs.__annotations__
    assert set(standalone) - set(nested) == CONTEXT["ImageAutomationArgs"]
