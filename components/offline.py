"""Run a stack program in-process on Pulumi's mock runtime and record what it registers.

This is how the package works without the Pulumi CLI, a cluster or credentials: the offline
``plan`` command, the tests and the benchmarks all evaluate programs here. Registered inputs keep
Pulumi's secret markers, so callers can tell exactly which values are secret.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.errors import SecretChainError

PROJECT = "secret-chain"


@dataclass(frozen=True)
class Registration:
    """One resource registration as the engine would receive it."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    """Inputs with Pulumi's secret markers kept (see :func:`is_secret`)."""
    dependencies: tuple[str, ...]
    delete_before_replace: bool
    provider: str
    """Provider reference (``urn::id``) the resource uses; empty for the default provider."""


@dataclass
class Evaluation:
    """Everything one evaluation of a program registered and logged."""

    stack: str
    preview: bool
    registrations: list[Registration] = field(default_factory=list)
    component_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    stack_outputs: dict[str, Any] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)

    @property
    def resources(self) -> list[Registration]:
        """Custom (provider) resources, in registration order."""
        return [r for r in self.registrations if r.custom]

    @property
    def components(self) -> list[Registration]:
        """Component resources, in registration order (the root stack excluded)."""
        return [r for r in self.registrations if not r.custom and r.type != "pulumi:pulumi:Stack"]

    def of_type(self, type_: str) -> list[Registration]:
        """Registrations of one type token."""
        return [r for r in self.registrations if r.type == type_]

    def kubernetes_objects(self) -> list[dict[str, Any]]:
        """The Kubernetes objects registered, as manifests with secret values unwrapped."""
        objects = []
        for reg in self.resources:
            if reg.type.startswith("kubernetes:"):
                objects.append(unwrap(reg.inputs))
        return objects


def is_secret(value: Any) -> bool:
    """True when ``value`` is a secret-marked property value."""
    return rpc.is_rpc_secret(value)


def unwrap(value: Any) -> Any:
    """Remove every secret marker, recursively (for schema validation, never for display)."""
    if is_secret(value):
        return unwrap(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def redact(value: Any, placeholder: str = "[secret]") -> Any:
    """Replace every secret-marked value by ``placeholder``, recursively."""
    if is_secret(value):
        return placeholder
    if isinstance(value, dict):
        return {k: redact(v, placeholder) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, placeholder) for v in value]
    return value


class _Mocks(pulumi.runtime.Mocks):
    """Returns inputs as outputs, and answers the provider look-ups the chain makes."""

    def __init__(self, invokes: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]]) -> None:
        self.invokes = dict(invokes)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        handler = self.invokes.get(args.token)
        if handler is None:
            raise SecretChainError(f"offline run: no stand-in for provider function {args.token}")
        return handler(dict(args.args)), []


class _Monitor(mocks.MockMonitor):
    def __init__(self, mocks_: _Mocks, evaluation: Evaluation) -> None:
        super().__init__(mocks_)
        self.evaluation = evaluation

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        self.evaluation.registrations.append(
            Registration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent=request.parent,
                custom=bool(request.custom),
                inputs=rpc.deserialize_properties(request.object),
                dependencies=tuple(request.dependencies),
                delete_before_replace=bool(request.deleteBeforeReplace),
                provider=request.provider,
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        self.evaluation.component_outputs[request.urn] = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def _github_repository(args: dict[str, Any]) -> dict[str, Any]:
    full_name = str(args.get("fullName") or args.get("name"))
    # A stable stand-in ID derived from the (public) repository name keeps runs deterministic.
    repo_id = int.from_bytes(full_name.encode()[:6].ljust(6, b"\0"), "big") % 10**9 + 1
    return {"fullName": full_name, "name": full_name.split("/")[-1], "repoId": repo_id, "nodeId": f"R_{repo_id}"}


def _do_domain(args: dict[str, Any]) -> dict[str, Any]:
    name = str(args["name"])
    return {"id": name, "name": name, "domainUrn": f"do:domain:{name}", "ttl": 1800, "zoneFile": ""}


def _do_cluster(args: dict[str, Any]) -> dict[str, Any]:
    name = str(args["name"])
    kubeconfig = {"apiVersion": "v1", "kind": "Config", "clusters": [], "contexts": [], "users": []}
    return {
        "id": f"{name}-id",
        "name": name,
        "endpoint": "https://offline.invalid",
        "kubeConfigs": [{"rawConfig": json.dumps(kubeconfig), "expiresAt": "offline"}],
    }


DEFAULT_INVOKES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "github:index/getRepository:getRepository": _github_repository,
    "digitalocean:index/getDomain:getDomain": _do_domain,
    "digitalocean:index/getKubernetesCluster:getKubernetesCluster": _do_cluster,
}


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


def evaluate(
    program: Callable[[], None],
    *,
    config: Mapping[str, str],
    secret_keys: list[str] | None = None,
    stack: str = "production",
    preview: bool = False,
    invokes: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]] | None = None,
) -> Evaluation:
    """Run ``program`` as stack ``stack`` on the mock runtime with ``config`` and record the result.

    An exception raised by the program propagates unchanged, after the runtime has drained.
    """
    evaluation = Evaluation(stack=stack, preview=preview)
    logger = logging.getLogger(f"secret-chain.offline.{id(evaluation)}")
    logger.propagate = False
    handler = _ListHandler(evaluation.logs)
    logger.addHandler(handler)
    root_logger_handler = _ListHandler(evaluation.logs)
    logging.getLogger().addHandler(root_logger_handler)
    try:
        settings.set_root_resource(None)  # type: ignore[arg-type]  # a fresh stack per evaluation
        pulumi.runtime.set_all_config(dict(config), list(secret_keys or []))
        mocks_ = _Mocks(invokes if invokes is not None else DEFAULT_INVOKES)
        monitor = _Monitor(mocks_, evaluation)
        mocks.set_mocks(mocks_, PROJECT, stack, preview=preview, logger=logger, monitor=monitor)
        SETTINGS.rpc_manager.clear()
        SETTINGS.outputs.clear()
        _sync_await(run_pulumi_func(program))
        root = settings.get_root_resource()
        for key, output in sorted(getattr(root, "outputs", {}).items()):
            out = pulumi.Output.from_input(output)
            value = _sync_await(out.future(with_unknowns=True))
            evaluation.stack_outputs[key] = rpc.wrap_rpc_secret(value) if _sync_await(out.is_secret()) else value
    finally:
        logger.removeHandler(handler)
        logging.getLogger().removeHandler(root_logger_handler)
    return evaluation


def load_config_file(path: Path | str) -> tuple[dict[str, str], list[str]]:
    """Read stack config in the form ``pulumi config --show-secrets --json`` prints.

    Each key maps to ``{"value": "...", "secret": bool}`` (``objectValue`` for structured values).
    Returns the flat config and the list of secret keys.
    """
    data = json.loads(Path(path).read_text())
    return parse_config(data)


def parse_config(data: Any) -> tuple[dict[str, str], list[str]]:
    """Flatten ``pulumi config --json`` output into (config, secret keys); see :func:`load_config_file`."""
    if not isinstance(data, dict):
        raise SecretChainError("config JSON must be an object mapping keys to {value, secret}")
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, entry in data.items():
        if not isinstance(entry, dict) or not ("value" in entry or "objectValue" in entry):
            raise SecretChainError(f'config JSON entry "{key}" must be an object with "value" (and "secret")')
        if "objectValue" in entry and entry.get("objectValue") is not None:
            config[key] = json.dumps(entry["objectValue"])
        else:
            config[key] = str(entry["value"])
        if entry.get("secret"):
            secret_keys.append(key)
    return config, secret_keys


def iter_strings(value: Any, *, skip_secrets: bool) -> Iterator[str]:
    """Every string inside ``value`` (keys included); with ``skip_secrets`` none from a secret."""
    if is_secret(value):
        if skip_secrets:
            return
        value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from iter_strings(v, skip_secrets=skip_secrets)
    elif isinstance(value, list):
        for v in value:
            yield from iter_strings(v, skip_secrets=skip_secrets)
