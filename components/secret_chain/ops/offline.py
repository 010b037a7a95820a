"""Run a stack program in-process on Pulumi's mock runtime and record what it registers.

This is how the package works without the Pulumi CLI, a cluster or credentials: the offline
``plan`` command, the tests and the benchmarks all evaluate programs here. Registered inputs keep
Pulumi's secret markers, so callers can tell exactly which values are secret.

Update mode plays a ``pulumi up`` in which every resource is created at once: each resource gets an
ID and echoes its inputs as outputs. Preview mode (with ``preview_unknowns``, the default) plays a
``pulumi preview`` of a fresh stack: nothing exists yet, so every ID and every output a provider
computes (anything that is not an input, Kubernetes ``metadata.uid``/``resourceVersion``/``status``
…) is unknown, and so is anything derived from them. Provider functions (invokes) run during a real
preview too, so they stay known. An input that was unknown when registered is recorded as
:data:`UNKNOWN` (see :func:`unknown_paths`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pulumi
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from secret_chain import testing
from secret_chain.errors import SecretChainError

PROJECT = "secret-chain"


class Unknown(str):
    """An input value that is not known before the update (only in preview mode).

    A ``str`` (``"[unknown]"``) so that plans and manifests with unknowns still print and serialise;
    test with :func:`is_unknown`, never by comparing strings.
    """

    __slots__ = ()

    def __new__(cls) -> Unknown:
        """The one value, ``"[unknown]"``; use :data:`UNKNOWN`."""
        return super().__new__(cls, "[unknown]")

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __reduce__(self) -> str:
        return "UNKNOWN"  # copies and pickles are the singleton


UNKNOWN: Final = Unknown()
"""The value recorded for an unknown input."""


def is_unknown(value: Any) -> bool:
    """True when ``value`` is an unknown input (secret-marked or not)."""
    if is_secret(value):
        value = rpc.unwrap_rpc_secret(value)
    return isinstance(value, (Unknown, pulumi.output.Unknown))


def unknown_paths(value: Any) -> list[str]:
    """Sorted paths (``metadata.name``, ``spec.dnsNames[0]``) of every unknown inside ``value``.

    An unknown whole value has the path ``""``.
    """
    return sorted(_unknown_paths(value, ""))


def _unknown_paths(value: Any, prefix: str) -> Iterator[str]:
    if is_secret(value):
        value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, (Unknown, pulumi.output.Unknown)):
        yield prefix
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _unknown_paths(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unknown_paths(item, f"{prefix}[{index}]")


def _mark_unknowns(value: Any) -> Any:
    """Replace the SDK's unknown sentinels by :data:`UNKNOWN`, recursively (secret markers kept)."""
    if isinstance(value, pulumi.output.Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _mark_unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark_unknowns(v) for v in value]
    return value


def _deserialize(struct: Any) -> dict[str, Any]:
    """Deserialise registered properties, keeping unknowns as :data:`UNKNOWN` (the SDK turns them into None in update mode)."""
    return dict(_mark_unknowns(rpc.deserialize_properties(struct, keep_unknowns=True)))


@dataclass(frozen=True)
class Registration:
    """One resource registration as the engine would receive it."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    """Inputs with Pulumi's secret markers kept (see :func:`is_secret`) and, in preview, unknown values
    as :data:`UNKNOWN` (see :attr:`unknown_inputs`)."""
    dependencies: tuple[str, ...]
    delete_before_replace: bool
    provider: str
    """Provider reference (``urn::id``) the resource uses; empty for the default provider. In preview
    mode the ID of a provider the stack creates is unknown (``rpc.UNKNOWN``), as in a real preview."""
    ignore_changes: tuple[str, ...] = ()
    """Input paths whose changes the engine ignores (the old input is kept)."""
    retain_on_delete: bool = False
    """Whether deleting the resource from the stack leaves the real object in place."""
    additional_secret_outputs: tuple[str, ...] = ()
    """Outputs the provider SDK asks the engine to keep secret (the Kubernetes Secret's ``data``, ``stringData``)."""
    version: str = ""
    """Provider plugin version the provider SDK asks for; empty for a component."""

    @property
    def unknown_inputs(self) -> list[str]:
        """Paths of the inputs that were unknown when the resource was registered (see :func:`unknown_paths`)."""
        return unknown_paths(self.inputs)


@dataclass
class Evaluation:
    """Everything one evaluation of a program registered and logged."""

    stack: str
    preview: bool
    preview_unknowns: bool = False
    """True when IDs and provider-computed outputs were unknown (preview mode with ``preview_unknowns``)."""
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


# The stand-ins of generated values and provider functions are the public testing helper's (secret_chain.testing).
RANDOM_BYTES = testing.RANDOM_BYTES
random_bytes_stand_in = testing.random_bytes_stand_in


# Fields of a Kubernetes object's metadata that the API server fills in.
_KUBERNETES_COMPUTED_METADATA = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields")


class _Mocks(pulumi.runtime.Mocks):
    """Returns inputs as outputs, and answers the provider look-ups the chain makes.

    With ``unknowns`` (preview of a fresh stack) a new custom resource gets an unknown ID and
    unknown computed outputs; its inputs echo back as they were sent (known unless unknown).
    """

    def __init__(self, invokes: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]], *, unknowns: bool = False) -> None:
        self.invokes = dict(invokes)
        self.unknowns = unknowns

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        if not self.unknowns or not args.custom or args.resource_id:
            # Update; components (which have no ID); reads and imports of existing resources.
            if args.typ == RANDOM_BYTES:
                state.update(random_bytes_stand_in(args.typ, args.name, state.get("length")))
            return args.resource_id or f"{args.name}-id", state
        # An empty ID is an unknown one; outputs left out of the state resolve as unknown in preview.
        if args.typ.startswith("kubernetes:"):
            state = _kubernetes_preview_state(state)
        return None, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        handler = self.invokes.get(args.token)
        if handler is None:
            raise SecretChainError(f"offline run: no stand-in for provider function {args.token}")
        return handler(dict(args.args)), []


def _kubernetes_preview_state(state: dict[str, Any]) -> dict[str, Any]:
    """The object a fresh Kubernetes resource shows in preview: its inputs, server-filled fields unknown."""
    metadata = state.get("metadata")
    secret = is_secret(metadata)
    if secret:
        metadata = rpc.unwrap_rpc_secret(metadata)
    if isinstance(metadata, dict):
        metadata = {**metadata, **dict.fromkeys(_KUBERNETES_COMPUTED_METADATA, rpc.UNKNOWN)}
        state["metadata"] = rpc.wrap_rpc_secret(metadata) if secret else metadata
    state["status"] = rpc.UNKNOWN
    return state


def _close_worker_loop() -> None:
    """Close the event loop the SDK made for this worker thread, if it is one.

    The SDK runs each monitor RPC in a worker thread (pulumi/runtime/resource.py ``do_rpc_call``), and the
    mock monitor calls ``_sync_await`` there (pulumi/runtime/mocks.py), which gives that thread an event
    loop of its own that nothing closes (``sync_await._ensure_event_loop``). Collected at interpreter exit,
    such a loop printed ``Exception ignored in: <function BaseEventLoop.__del__ …> … Invalid file
    descriptor: -1`` after a successful ``plan``. The next RPC on the thread gets a fresh loop.
    """
    import asyncio
    import threading

    if threading.current_thread() is threading.main_thread():
        return
    policy = asyncio.get_event_loop_policy()
    try:
        loop = policy.get_event_loop()
    except RuntimeError:
        return
    if not loop.is_running() and not loop.is_closed():
        loop.close()
    policy.set_event_loop(None)


class _Monitor(mocks.MockMonitor):
    def __init__(self, mocks_: _Mocks, evaluation: Evaluation) -> None:
        super().__init__(mocks_)
        self.evaluation = evaluation

    def Invoke(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        try:
            return super().Invoke(request)  # type: ignore[no-untyped-call]
        finally:
            _close_worker_loop()

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        try:
            return super().ReadResource(request)  # type: ignore[no-untyped-call]
        finally:
            _close_worker_loop()

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        try:
            response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        finally:
            _close_worker_loop()
        self.evaluation.registrations.append(
            Registration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent=request.parent,
                custom=bool(request.custom),
                inputs=_deserialize(request.object),
                # The SDK sends a set (pulumi/runtime/resource.py: `dependencies: set[str]`): its order is not part of the request.
                dependencies=tuple(sorted(request.dependencies)),
                delete_before_replace=bool(request.deleteBeforeReplace),
                provider=request.provider,
                ignore_changes=tuple(request.ignoreChanges),
                retain_on_delete=bool(request.retainOnDelete),
                additional_secret_outputs=tuple(request.additionalSecretOutputs),
                version=request.version,
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        self.evaluation.component_outputs[request.urn] = _deserialize(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


DEFAULT_INVOKES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = testing.DEFAULT_INVOKES
"""The provider functions the chain calls, with their stand-ins (:data:`secret_chain.testing.DEFAULT_INVOKES`)."""


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


def _quiet_failed_registrations(loop: Any, context: dict[str, Any]) -> None:
    """The event loop's exception handler: drop "exception was never retrieved" for a SecretChainError.

    When a component's argument turns out bad once known, its registration fails and so does every child's
    (:func:`secret_chain.config.gated`); the SDK then fails each child's output futures with the same error
    (pulumi/runtime/rpc.py ``resolve_outputs_due_to_exception``), and nobody awaits them. The evaluation has
    already raised that error; without this handler asyncio would log each future again when it is collected,
    with a traceback, and Python 3.11 formats that traceback with ``ast.parse`` inside the garbage collector,
    which can break an ``ast.parse`` in progress ("AST constructor recursion depth mismatch"). Anything else
    goes to the default handler.
    """
    if isinstance(context.get("exception"), SecretChainError) and "never retrieved" in str(context.get("message", "")):
        return
    loop.default_exception_handler(context)


def _current_loop() -> Any:
    """The current thread's event loop (the one the SDK's ``_sync_await`` uses), or None when it has none.

    Asked quietly: ``asyncio.get_event_loop`` warns when it would make one.
    """
    import asyncio
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return asyncio.get_event_loop()
        except RuntimeError:
            return None


def _install_quiet_handler() -> None:
    """Install :func:`_quiet_failed_registrations` on the loop the SDK's ``_sync_await`` runs on, unless one is set."""
    loop = _current_loop()
    if loop is None:
        return
    if loop.get_exception_handler() is None:
        loop.set_exception_handler(_quiet_failed_registrations)


def evaluate(
    program: Callable[[], None],
    *,
    config: Mapping[str, str],
    secret_keys: list[str] | None = None,
    stack: str = "production",
    preview: bool = False,
    invokes: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]] | None = None,
    preview_unknowns: bool = True,
    project: str = PROJECT,
) -> Evaluation:
    """Run ``program`` as stack ``stack`` of ``project`` on the mock runtime with ``config`` and record the result.

    With ``preview`` the program runs as in ``pulumi preview`` of a fresh stack: resource IDs and
    provider-computed outputs are unknown, invokes known. ``preview_unknowns=False`` keeps every
    output known in preview too (only ``pulumi.runtime.is_dry_run()`` differs from update).
    An exception raised by the program propagates unchanged, after the runtime has drained.
    """
    evaluation = Evaluation(stack=stack, preview=preview, preview_unknowns=preview and preview_unknowns)
    logger = logging.getLogger(f"secret-chain.offline.{id(evaluation)}")
    logger.propagate = False
    handler = _ListHandler(evaluation.logs)
    logger.addHandler(handler)
    root_logger_handler = _ListHandler(evaluation.logs)
    logging.getLogger().addHandler(root_logger_handler)
    try:
        _install_quiet_handler()
        settings.set_root_resource(None)  # type: ignore[arg-type]  # a fresh stack per evaluation
        pulumi.runtime.set_all_config(dict(config), list(secret_keys or []))
        mocks_ = _Mocks(invokes if invokes is not None else DEFAULT_INVOKES, unknowns=evaluation.preview_unknowns)
        monitor = _Monitor(mocks_, evaluation)
        mocks.set_mocks(mocks_, project, stack, preview=preview, logger=logger, monitor=monitor)
        SETTINGS.rpc_manager.clear()
        SETTINGS.outputs.clear()
        _sync_await(run_pulumi_func(program))
        root = settings.get_root_resource()
        for key, output in sorted(getattr(root, "outputs", {}).items()):
            out = pulumi.Output.from_input(output)
            value = _mark_unknowns(_sync_await(out.future(with_unknowns=True)))
            if not _sync_await(out.is_known()) and not unknown_paths(value):
                value = UNKNOWN  # an apply that did not run: the whole value is unknown
            evaluation.stack_outputs[key] = rpc.wrap_rpc_secret(value) if _sync_await(out.is_secret()) else value
    finally:
        logger.removeHandler(handler)
        logging.getLogger().removeHandler(root_logger_handler)
    return evaluation


def close_event_loop() -> None:
    """Close the event loop the SDK's ``_sync_await`` made for this thread, and unset it.

    ``pulumi.runtime.sync_await._ensure_event_loop`` creates a loop on first use and never closes it; left to
    the garbage collector at interpreter exit, ``BaseEventLoop.__del__`` can run after its selector is gone
    and print ``ValueError: Invalid file descriptor: -1``. A command calls this once it is done; a later
    evaluation in the same process gets a fresh loop (``_ensure_event_loop`` creates one when none is set).
    """
    import asyncio

    loop = _current_loop()
    if loop is None:
        return
    if not loop.is_closed() and not loop.is_running():
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    asyncio.set_event_loop(None)


def load_config_file(path: Path | str) -> tuple[dict[str, str], list[str]]:
    """Read stack config in the form ``pulumi config --show-secrets --json`` prints.

    Each key maps to ``{"value": "...", "secret": bool}`` (``objectValue`` for structured values).
    Returns the flat config and the list of secret keys.
    """
    data = json.loads(Path(path).read_text())
    return parse_config(data)


def parse_config(data: Any) -> tuple[dict[str, str], list[str]]:
    """Flatten ``pulumi config --show-secrets --json`` output into (config, secret keys), as the program sees it.

    The CLI prints each key as ``{"value": <string>, "objectValue": <JSON>, "secret": <bool>}``
    (pulumi/pulumi pkg/cmd/pulumi/config/config.go ``configValueJSON``): ``value`` is always a string,
    and a structured value (object, array, number, boolean) also comes as ``objectValue``, which the
    program receives as its JSON text. Nothing is coerced: a key the CLI cannot parse, a ``value`` that is
    not a string, a secret printed without ``--show-secrets``, or a JSON type the catalog does not accept for
    that key (a boolean where a string is expected, a string where an object is) is a
    :class:`~secret_chain.errors.ConfigError` naming every such key, before anything is evaluated.
    """
    from secret_chain.config import config_type_problems
    from secret_chain.errors import ConfigError
    from secret_chain.pulumi_rules import RuleError, parse_key

    if not isinstance(data, dict):
        raise SecretChainError("config JSON must be an object mapping keys to {value, secret}")
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    types: dict[str, str] = {}
    problems: list[str] = []
    for key, entry in data.items():
        try:
            parse_key(key)
        except RuleError:
            problems.append(f"config JSON key {_printable_key(key)} is not a key the Pulumi CLI can hold (<namespace>:<name>)")
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("secret", False), bool):
            problems.append(f'config JSON entry "{key}" must be an object with "value" or "objectValue", and "secret" (true or false)')
            continue
        value, structured = entry.get("value"), entry.get("objectValue")
        if "objectValue" in entry and structured is not None:
            config[key] = value if isinstance(value, str) else json.dumps(structured)
            types[key] = _json_type(structured)
        elif isinstance(value, str):
            config[key] = value
            types[key] = "string"
        elif "value" in entry:
            problems.append(f'config JSON entry "{key}" has a "value" that is not a string (pulumi config --json prints strings)')
            continue
        elif entry.get("secret"):
            problems.append(f'config JSON entry "{key}" is a secret without its value: run pulumi config --show-secrets --json')
            continue
        else:
            problems.append(f'config JSON entry "{key}" has neither "value" nor "objectValue"')
            continue
        if entry.get("secret"):
            secret_keys.append(key)
    problems += config_type_problems(types, config)
    if problems:
        raise ConfigError(problems)
    return config, secret_keys


def _json_type(value: Any) -> str:
    from secret_chain.config import json_type

    return json_type(value)


def _printable_key(key: str) -> str:
    """A key name safe to print: it may be a typo'd ``key=value`` pair, so only its shape is shown.

    The runbook's GHCR keys are named, with where their values now live.
    """
    from secret_chain.config import RUNBOOK_KEYS

    if key in RUNBOOK_KEYS:
        return f'"{key}" (the runbook\'s spelling: it is now field {RUNBOOK_KEYS[key]})'
    return f"of {len(key)} characters with {key.count(':')} colons"


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
