"""The component provider: which classes are hosted, and how the engine sees them.

``provider/__main__.py`` (the plugin ``pulumi package add`` runs) calls :func:`main`; the schema
tests call :func:`component_classes` and analyse exactly the list the plugin hosts.

The schema analyzer reads annotations unevaluated: no ``from __future__ import annotations`` (docs/contributing.md#annotations).

:class:`SecretChainProvider` is the SDK's ``ComponentProvider`` with two additions for other languages:
the schema it serves carries the package's description, repository, license and keywords, marks secret inputs
secret and deprecated inputs deprecated, and describes each property once, in plain Markdown under its
schema (camelCase) name (:func:`finish_schema`), and a :class:`~secret_chain.errors.SecretChainError` from a
component reaches the engine as the SDK's input-properties error, with camelCase property paths and no
traceback (:func:`input_properties_error`). A problem with a secret input is put in the error's message,
never under the input's path: the engine prints the value at each path, secrets in clear.
"""

import asyncio
import inspect
import json
import re
import sys
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

import pulumi
from pulumi.errors import InputPropertiesError, InputPropertyErrorDetails, RunError
from pulumi.output import Unknown
from pulumi.provider import server
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.util import camel_case

import secret_chain
from secret_chain._component import deprecated_args
from secret_chain.errors import ConfigError, SecretChainError

PACKAGE_NAME = "secret-chain"
"""Pulumi package name: type tokens are ``secret-chain:index:<Name>``."""

PACKAGE_METADATA: dict[str, Any] = {
    "description": "Pulumi components that provision the GitHub → Pulumi ESC → Kubernetes secret chain",
    "repository": "https://github.com/example-org/secret-chain",
    "license": "Apache-2.0",
    "keywords": ["pulumi", "kubernetes", "github", "pulumi-esc", "secrets", "flux", "cert-manager", "category/infrastructure", "kind/component"],
}
"""The package's own fields of the schema (``PackageSpec`` in pulumi/pulumi pkg/codegen/schema/schema.go): the
``[project]`` description, license, ``urls.Repository`` and keywords of pyproject.toml (the plugin runs from the
source tree, where the distribution's metadata is not installed; tests/test_provider_schema.py keeps the two equal),
plus the registry's reserved keywords: ``category/<name>`` (one of cloud, database, infrastructure, monitoring,
network, utility, vcs) and ``kind/component`` (``kind/<type>`` is native or component)."""


def component_classes() -> list[type[pulumi.ComponentResource]]:
    """Every ComponentResource the package exports, in ``__all__`` order."""
    found: list[type[pulumi.ComponentResource]] = []
    for name in secret_chain.__all__:
        value = getattr(secret_chain, name)
        if inspect.isclass(value) and issubclass(value, pulumi.ComponentResource):
            found.append(value)
    return found


SECRET_INPUTS: dict[str, frozenset[str]] = {
    "GhcrPullSecret": frozenset({"token"}),
    "PrometheusAuth": frozenset({"token", "previousToken", "rolloutKey"}),
    "GitHubActionsSecrets": frozenset({"pulumiAccessToken", "workflowDispatchToken", "appPrivateKey", "pulumiFallbackAccessToken"}),
    "FluxGitCredentials": frozenset({"token", "githubAppPrivateKey"}),
    "FluxImageAutomation": frozenset(),
    "CertManagerDnsIssuer": frozenset({"token"}),
    "GrafanaOAuth": frozenset({"clientId", "clientSecret", "smtpHost", "smtpUser", "smtpPassword", "rolloutKey"}),
    "SecretChain": frozenset(),
}
"""Schema names of the inputs that override a secret catalog key, per component: marked ``secret`` in the schema.

The SDK's analyzer has no secret marker (pulumi/provider/experimental/analyzer.py, 3.237 to 3.272), so the
list is kept here; tests/test_engine_schema.py checks it against the catalog through each input's description."""


def python_names(provider: ComponentProvider) -> dict[str, str]:
    """Python name -> schema name of every hosted input, output and nested type field that has an underscore."""
    names: dict[str, str] = {}
    for definition in provider._component_defs.values():
        for schema_name, python_name in (*definition.inputs_mapping.items(), *definition.outputs_mapping.items()):
            names[python_name] = schema_name
    for type_definition in provider._type_defs.values():
        for schema_name, python_name in type_definition.properties_mapping.items():
            names[python_name] = schema_name
    return {k: v for k, v in names.items() if "_" in k}


_ROLE = re.compile(r":[a-z]+:`~?(?:[\w.]+\.)?([^`]+)`")
_SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def markdown(text: str, names: Mapping[str, str]) -> str:
    """A docstring as plain Markdown: dedented, reST roles and double backticks as code spans, Python names as schema names."""
    text = inspect.cleandoc(text)
    text = _ROLE.sub(lambda m: f"`{m.group(1)}`", text)
    text = text.replace("``", "`")
    return _SNAKE.sub(lambda m: names.get(m.group(0), m.group(0)), text)


def deprecated_inputs(classes: Iterable[type[pulumi.ComponentResource]]) -> dict[str, dict[str, str]]:
    """Component name → schema name → deprecation message of every input a component accepts only to warn.

    From each component module's ``DEPRECATED_ARGS`` (:func:`secret_chain._component.deprecated_args`);
    tests/test_engine_schema.py finds the deprecated inputs again by building each component with each input.
    """
    return {c.__name__: {camel_case(arg): message for arg, message in deprecated_args(c).items()} for c in classes}


def _drop_type_descriptions(spec: Any) -> None:
    """Remove ``description`` from the type references inside a property (``items``, ``additionalProperties``, ``oneOf``).

    The SDK's schema generator (pulumi/provider/experimental/schema.py, ``Property.to_json``) copies the field's
    description onto its element type, but a type reference has no description (``TypeSpec`` in pulumi/pulumi
    pkg/codegen/schema/schema.go; ``typeSpec`` in its metaschema pulumi.json): the field is described once.
    """
    if not isinstance(spec, dict):
        return
    for key in ("items", "additionalProperties"):
        if isinstance(spec.get(key), dict):
            spec[key].pop("description", None)
            _drop_type_descriptions(spec[key])
    for member in spec.get("oneOf", []):
        if isinstance(member, dict):
            member.pop("description", None)
            _drop_type_descriptions(member)


def finish_schema(
    schema: dict[str, Any], names: Mapping[str, str], deprecated: Mapping[str, Mapping[str, str]] | None = None
) -> dict[str, Any]:
    """Complete the SDK's schema; ``schema`` is changed in place.

    The package's metadata (:data:`PACKAGE_METADATA`), secret inputs marked, ``deprecationMessage`` on each input of
    ``deprecated`` (component → schema name → message), every description and message rewritten (:func:`markdown`),
    and each field described once (:func:`_drop_type_descriptions`).
    """

    def rewrite(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("description", "deprecationMessage") and isinstance(item, str):
                    value[key] = markdown(item, names)
                else:
                    rewrite(item)
        elif isinstance(value, list):
            for item in value:
                rewrite(item)

    schema.update(PACKAGE_METADATA)
    for token, resource in schema.get("resources", {}).items():
        component = token.rsplit(":", 1)[-1]
        for name in SECRET_INPUTS.get(component, ()):
            resource["inputProperties"][name]["secret"] = True
        for name, message in (deprecated or {}).get(component, {}).items():
            resource["inputProperties"][name]["deprecationMessage"] = message
        for group in ("inputProperties", "properties"):
            for spec in resource.get(group, {}).values():
                _drop_type_descriptions(spec)
    for type_spec in schema.get("types", {}).values():
        for spec in type_spec.get("properties", {}).values():
            _drop_type_descriptions(spec)
    rewrite(schema.get("resources", {}))
    rewrite(schema.get("types", {}))
    return schema


_ARGUMENT = re.compile(r'\barguments? "([^"]+)"')
_PYTHON_TYPES = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "dict": "object",
    "list": "array",
    "tuple": "array",
    "NoneType": "null",
    "Output": "output",
}
_TYPE_WORD = re.compile(r"\b(got|resolved to) (\w+)")


def _schema_path(python_path: str, names: Mapping[str, str]) -> str:
    """``image_automation.images[0].semver_range`` -> ``imageAutomation.images[0].semverRange``."""
    return re.sub(r"[A-Za-z_][A-Za-z0-9_]*", lambda m: names.get(m.group(0), camel_case(m.group(0))), python_path)


def _engine_words(line: str, names: Mapping[str, str]) -> str:
    """A problem line in the schema's words: inputs, camelCase names, schema type names."""
    line = re.sub(r'"([a-z][\w.\[\]]*)"', lambda m: '"' + _schema_path(m.group(1), names) + '"' if "_" in m.group(1) else m.group(0), line)
    line = _SNAKE.sub(lambda m: names.get(m.group(0), m.group(0)), line)
    line = re.sub(r"\barguments\b", "inputs", line)
    line = re.sub(r"\bargument\b", "input", line)
    line = line.replace("in the args", "as an input").replace("the args", "the inputs")
    return _TYPE_WORD.sub(lambda m: f"{m.group(1)} {_PYTHON_TYPES.get(m.group(2), m.group(2))}", line)


def input_properties_error(
    component: str, error: SecretChainError, names: Mapping[str, str], inputs: AbstractSet[str]
) -> InputPropertiesError:
    """The engine-facing form of ``error``: one input-property error per problem that names a non-secret input.

    ``inputs`` are the component's schema input names. A problem that names no input of the component (a config
    key, a part's argument inside SecretChain) or names a secret input goes into the message.
    """
    problems: Iterable[str] = error.problems if isinstance(error, ConfigError) else str(error).splitlines()
    secret_inputs = SECRET_INPUTS.get(component, frozenset())
    details: list[InputPropertyErrorDetails] = []
    message: list[str] = []
    for line in problems:
        found = _ARGUMENT.search(line)
        path = _schema_path(found.group(1), names) if found else ""
        top = re.split(r"[.\[]", path, maxsplit=1)[0]
        if found is None or top not in inputs or top in secret_inputs:
            message.append(_engine_words(line, names))
            continue
        lead = re.match(rf'^(?:\w+:? )?argument "{re.escape(found.group(1))}" ', line)
        reason = line[lead.end() :] if lead else line
        details.append({"property_path": path, "reason": _engine_words(reason, names)})
    return InputPropertiesError("\n".join(message), details)


def _unknown_output() -> pulumi.Output[Any]:
    """An Output whose value is unknown (preview): what a component expects where the engine sent a bare unknown."""
    loop = asyncio.get_event_loop()
    value: asyncio.Future[Any] = loop.create_future()
    value.set_result(None)
    known: asyncio.Future[bool] = loop.create_future()
    known.set_result(False)
    secret: asyncio.Future[bool] = loop.create_future()
    secret.set_result(False)
    return pulumi.Output(set(), value, known, secret)


def _with_unknown_outputs(value: Any) -> Any:
    """``value`` with every bare unknown (the SDK's ``Unknown``) replaced by an unknown Output."""
    if isinstance(value, Unknown):
        return _unknown_output()
    if isinstance(value, dict):
        return {k: _with_unknown_outputs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_unknown_outputs(v) for v in value]
    return value


class SecretChainProvider(ComponentProvider):
    """The SDK's component provider with the finished schema (:func:`finish_schema`) and bare unknowns as Outputs."""

    def __init__(self, classes: list[type[pulumi.ComponentResource]], name: str, version: str) -> None:
        super().__init__(classes, name, None, version)
        self.names = python_names(self)
        self.schema = json.dumps(finish_schema(json.loads(self.schema or "{}"), self.names, deprecated_inputs(classes)))

    def construct(self, name: str, resource_type: str, inputs: pulumi.Inputs, options: pulumi.ResourceOptions | None = None) -> Any:
        """Construct a component; an unknown the engine marshals without an output value reaches it as an unknown Output."""
        return super().construct(name, resource_type, _with_unknown_outputs(inputs), options)


def _secret_chain_error(error: BaseException | None) -> SecretChainError | None:
    """The SecretChainError behind ``error``: itself, the SDK's ComponentInitError's ``inner``, or a cause."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, SecretChainError):
            return error
        inner = getattr(error, "inner", None)
        error = inner if isinstance(inner, BaseException) else (error.__cause__ or error.__context__)
    return None


def _drop_reported_errors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The event loop's exception handler: drop asyncio's report of an error already reported, pass on anything else.

    A component's input error also fails every Output derived from the bad input; asyncio reports the ones nobody
    awaited ("Future exception was never retrieved", with a traceback) on the plugin's stderr, which the engine
    shows the user. The error itself already reached the engine as an input-properties error. After a failed
    Construct the engine shuts its resource monitor down, and a child registration still in flight fails with the
    SDK's ``RunError`` (pulumi/errors.py: "a clean exit rather than the usual verbose unhandled error logic").
    """
    error = context.get("exception")
    if _secret_chain_error(error) is None and not isinstance(error, RunError):
        loop.default_exception_handler(context)


class _Servicer(server.ProviderServicer):
    """The SDK's gRPC servicer, with a component's SecretChainError turned into an input-properties error.

    ``Construct`` (pulumi/provider/server.py) sends an ``InputPropertiesError`` as INVALID_ARGUMENT with
    ``InputPropertiesError`` details and any other exception as its message plus a Python traceback. A
    component raises at construction (wrapped in ``ComponentInitError``) or, for an input wired from another
    resource's output, when that output resolves (raised from the SDK's wait for outstanding RPCs); both
    happen inside ``_construct``. The conversion must happen here: a SecretChainError is a ``RunError``
    (:mod:`secret_chain.errors`), which the SDK's ``Construct`` re-raises untouched (``if isinstance(e, RunError): raise``)
    instead of answering with input-property details.
    """

    async def _construct(self, request: Any, context: Any) -> Any:
        asyncio.get_running_loop().set_exception_handler(_drop_reported_errors)
        try:
            return await super()._construct(request, context)
        except Exception as err:
            found = _secret_chain_error(err)
            if found is None or not isinstance(self.provider, SecretChainProvider):
                raise
            component = str(request.type).rsplit(":", 1)[-1]
            definition = self.provider._component_defs.get(component)
            inputs = frozenset(definition.inputs) if definition else frozenset()
            raise input_properties_error(component, found, self.provider.names, inputs) from None


def main() -> None:
    """Serve the components as the ``secret-chain`` provider (the language host passes the engine address in argv).

    ``pulumi.provider.server.main`` parses the arguments, prints the port and serves the module's
    ``ProviderServicer``; it is pointed at :class:`_Servicer` first.
    """
    server.ProviderServicer = _Servicer  # type: ignore[misc]
    server.main(SecretChainProvider(component_classes(), PACKAGE_NAME, secret_chain.__version__), sys.argv[1:])


__all__ = [
    "PACKAGE_METADATA",
    "PACKAGE_NAME",
    "SECRET_INPUTS",
    "SecretChainProvider",
    "component_classes",
    "deprecated_inputs",
    "finish_schema",
    "input_properties_error",
    "main",
    "markdown",
]
