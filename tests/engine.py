"""Play the Pulumi engine against the component provider plugin, over loopback gRPC.

What the real engine does, and where upstream says so (github.com/pulumi/pulumi at 1b59498):

- The Python language host starts a source plugin as ``python <plugin dir> <engine address>``
  (``RunPlugin`` in ``sdk/python/cmd/pulumi-language-python/main.go``: ``args = append(args,
  req.Info.ProgramDirectory); args = append(args, req.Args...)``, run in ``req.Pwd``); the plugin prints
  its port on the first stdout line. :class:`Plugin` does exactly that with ``provider/``.
- Before a ``Construct`` the engine ``Configure``\\ s the provider and marshals the inputs keeping unknowns,
  secrets, resource references and output values (``Construct`` in
  ``sdk/go/common/resource/plugin/provider_plugin.go``): a value wired from another resource's output
  arrives as an output value (its known value or none, its secrecy, its dependencies) and its URNs also
  arrive in ``inputDependencies``. :func:`secret`, :func:`output` and :data:`UNKNOWN` build those values.
- The plugin registers its children with the engine's resource monitor, which answers ``SupportsFeature``
  as ``supportsFeatureID`` in ``pkg/resource/deploy/source_eval.go`` does. :class:`Monitor` records every
  ``RegisterResource`` and answers with URNs and, outside preview, ids.
- A failed ``Construct`` is shown to the user by ``errorToMessage`` in ``pkg/resource/deploy/source_eval.go``:
  the status message, then per input-property error ``property <path> with value '<value>' has a
  problem: <reason>`` where the path resolves in the inputs. :func:`engine_message` ports that rule,
  printing a value as Go's ``%v`` does: a secret value in plain text.

The plugin runs under ``sys.executable`` unless ``SECRET_CHAIN_PLUGIN_PYTHON`` names another interpreter
(a venv with other SDK versions: ``make sdk-floor``).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    errors_pb2,
    provider_pb2,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
    status_pb2,
)

from secret_chain.ops.offline import RANDOM_BYTES, random_bytes_stand_in

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_DIR = ROOT / "provider"
PLUGIN_PYTHON_ENV = "SECRET_CHAIN_PLUGIN_PYTHON"
TIMEOUT = 60.0
"""Bound on every RPC and on the plugin's start (it imports the provider SDKs)."""

# The special values of the wire format (sdk/go/common/resource/sig/sig.go; pulumi/runtime/rpc.py).
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_MISSING = object()

PROJECT = "consumer"


def secret(value: Any) -> dict[str, Any]:
    """A secret value as the engine marshals it (``KeepSecrets``)."""
    return {SIG_KEY: SECRET_SIG, "value": value}


def output(value: Any = _MISSING, *, is_secret: bool = False, dependencies: Sequence[str] = ()) -> dict[str, Any]:
    """An output value (``KeepOutputValues``): another resource's output, known or not, with its dependencies."""
    result: dict[str, Any] = {SIG_KEY: OUTPUT_SIG}
    if value is not _MISSING:
        result["value"] = value
    if is_secret:
        result["secret"] = True
    if dependencies:
        result["dependencies"] = list(dependencies)
    return result


def stack_urn(stack: str, project: str = PROJECT) -> str:
    """The URN of the root stack resource, the parent of a program's top-level resources."""
    return f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}"


def resource_urn(stack: str, type_: str, name: str, project: str = PROJECT) -> str:
    """The URN of a top-level resource of the consumer program (e.g. the source of a wired output)."""
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


def engine_config(config: Mapping[str, str], secret_keys: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """Stack config as the engine sends it: the fields of an object key (``<ns>:<key>.<field>``, as
    ``pulumi config set --path`` writes them) become that key's JSON text, secret when a field is
    (``Value.Value`` in sdk/go/common/resource/config/value.go marshals an object value as text)."""
    flat: dict[str, str] = {}
    objects: dict[str, dict[str, str]] = {}
    secret = set(secret_keys)
    result_secret: set[str] = set()
    for key, value in config.items():
        namespace, _, name = key.partition(":")
        if "." in name:
            object_name, _, field_name = name.partition(".")
            object_key = f"{namespace}:{object_name}"
            objects.setdefault(object_key, {})[field_name] = value
            if key in secret:
                result_secret.add(object_key)
        else:
            flat[key] = value
            if key in secret:
                result_secret.add(key)
    flat.update({key: json.dumps(fields) for key, fields in objects.items()})
    return flat, sorted(result_secret)


def to_struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    """A protobuf Struct of ``value`` (numbers become doubles, as on the wire)."""
    result = struct_pb2.Struct()
    result.update(dict(value))
    return result


def from_struct(value: struct_pb2.Struct) -> dict[str, Any]:
    """The plain dict of a protobuf Struct."""
    result: dict[str, Any] = json_format.MessageToDict(value)
    return result


def is_secret_value(value: Any) -> bool:
    """Whether a wire value is a secret, or a secret output value."""
    if not isinstance(value, dict):
        return False
    return value.get(SIG_KEY) == SECRET_SIG or (value.get(SIG_KEY) == OUTPUT_SIG and bool(value.get("secret")))


def contains_unknown(value: Any) -> bool:
    """Whether a wire value is or holds an unknown."""
    if value == UNKNOWN:
        return True
    if isinstance(value, dict):
        if value.get(SIG_KEY) == OUTPUT_SIG and "value" not in value:
            return True
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False


def plain_strings(value: Any) -> Iterator[str]:
    """Every string of a wire value outside secret-wrapped subtrees: what a log, diff or state shows in clear."""
    if is_secret_value(value):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from plain_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from plain_strings(item)


@dataclass
class Registration:
    """One ``RegisterResource`` the monitor received."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    object: dict[str, Any]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    additional_secret_outputs: list[str]
    provider: str
    outputs: dict[str, Any] | None = None


@dataclass
class LogEntry:
    """One ``Engine.Log`` message."""

    severity: int
    message: str
    urn: str


# supportsFeatureID in pkg/resource/deploy/source_eval.go (the default options: everything enabled).
MONITOR_FEATURES = frozenset(
    {
        "secrets",
        "resourceReferences",
        "outputValues",
        "aliasSpecs",
        "replacementTrigger",
        "deletedWith",
        "replaceWith",
        "transforms",
        "invokeTransforms",
        "parameterization",
        "resourceHooks",
        "errorHooks",
        "sendsOptionsToHooks",
    }
)




def _feature_enum(feature_id: str) -> int:
    """The ResourceMonitorFeature of a feature id (``aliasSpecs`` -> RESOURCE_MONITOR_FEATURE_ALIAS_SPECS)."""
    return int(resource_pb2.ResourceMonitorFeature.Value("RESOURCE_MONITOR_FEATURE_" + re.sub(r"(?<!^)([A-Z])", r"_\1", feature_id).upper()))


# supportedMonitorFeatures in source_eval.go: the ids above, plus three that have no id.
SUPPORTED_FEATURES = sorted(
    {_feature_enum(f) for f in MONITOR_FEATURES}
    | {_feature_enum(f) for f in ("byteString", "invokeDependsOn", "invokeParent")}
)


def _do_domain(args: dict[str, Any]) -> dict[str, Any]:
    name = args.get("name", "")
    return {"id": name, "name": name, "ttl": 1800, "urn": f"do:domain:{name}", "zoneFile": ""}


DEFAULT_INVOKES = {"digitalocean:index/getDomain:getDomain": _do_domain}


class Monitor(resource_pb2_grpc.ResourceMonitorServicer):
    """The engine's resource monitor: records registrations, answers with URNs, ids (update) or unknowns (preview)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.registrations: list[Registration] = []
        self.invokes: list[tuple[str, dict[str, Any]]] = []
        self.dry_run = False
        self.stack = "dev"
        self.config: dict[str, str] = {}
        self.secret_keys: list[str] = []
        self._qualified: dict[str, str] = {}

    def reset(self, *, dry_run: bool, stack: str, config: Mapping[str, str], secret_keys: Sequence[str]) -> None:
        """Forget earlier registrations; the next Construct runs in ``stack``, as preview when ``dry_run``."""
        with self._lock:
            self.registrations = []
            self.invokes = []
            self.dry_run = dry_run
            self.stack = stack
            self.config = dict(config)
            self.secret_keys = list(secret_keys)
            self._qualified = {}

    def GetDeploymentInfo(self, request: Any, context: Any) -> Any:  # noqa: N802
        # source_eval.go: the deployment's project, stack, organisation, config and mode.
        return resource_pb2.DeploymentInfo(
            project=PROJECT,
            stack=self.stack,
            organization="organization",
            config=self.config,
            configSecretKeys=self.secret_keys,
            dryRun=self.dry_run,
            parallel=16,
            supportedFeatures=SUPPORTED_FEATURES,
        )

    def SupportsFeature(self, request: Any, context: Any) -> Any:  # noqa: N802
        return resource_pb2.SupportsFeatureResponse(hasSupport=request.id in MONITOR_FEATURES)

    def RegisterResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        with self._lock:
            stale = request.parent not in ("", stack_urn(self.stack)) and request.parent not in self._qualified
        if stale:
            # A late registration of an earlier Construct: the engine has shut that monitor down (source_eval.go).
            context.abort(grpc.StatusCode.UNAVAILABLE, "resource monitor shut down")
        with self._lock:
            # The qualified type chains the parent's (urn.go: a top-level resource's parent is the stack).
            qualified = request.type
            parent_type = self._qualified.get(request.parent)
            if parent_type is not None:
                qualified = f"{parent_type}${request.type}"
            urn = f"urn:pulumi:{self.stack}::{PROJECT}::{qualified}::{request.name}"
            self._qualified[urn] = qualified
            obj = from_struct(request.object)
            self.registrations.append(
                Registration(
                    urn=urn,
                    type=request.type,
                    name=request.name,
                    custom=request.custom,
                    parent=request.parent,
                    object=obj,
                    dependencies=sorted(request.dependencies),
                    property_dependencies={k: sorted(v.urns) for k, v in request.propertyDependencies.items()},
                    additional_secret_outputs=list(request.additionalSecretOutputs),
                    provider=request.provider,
                )
            )
            dry_run = self.dry_run
        if not request.custom:
            return resource_pb2.RegisterResourceResponse(urn=urn, object=to_struct({}))
        state = dict(obj)
        if request.type == RANDOM_BYTES and not dry_run:
            # What pulumi-random computes on create, as the offline runtime fakes it (from the name, never a real key).
            state.update(random_bytes_stand_in(request.type, request.name, state.get("length")))
        # The engine marks additionalSecretOutputs secret in the state it returns.
        for key in request.additionalSecretOutputs:
            if key in state and not is_secret_value(state[key]):
                state[key] = secret(state[key])
        return resource_pb2.RegisterResourceResponse(urn=urn, id="" if dry_run else f"id-{request.name}", object=to_struct(state))

    def RegisterResourceOutputs(self, request: Any, context: Any) -> Any:  # noqa: N802
        with self._lock:
            for registration in self.registrations:
                if registration.urn == request.urn:
                    registration.outputs = from_struct(request.outputs)
        return empty_pb2.Empty()

    def Invoke(self, request: Any, context: Any) -> Any:  # noqa: N802
        args = from_struct(request.args)
        with self._lock:
            self.invokes.append((request.tok, args))
        handler = DEFAULT_INVOKES.get(request.tok)
        if handler is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no fake for invoke {request.tok}")
        return resource_pb2.ResourceInvokeResponse(**{"return": to_struct(handler(args))})

    def RegisterPackage(self, request: Any, context: Any) -> Any:  # noqa: N802
        return resource_pb2.RegisterPackageResponse(ref=f"{request.name}-{request.version}")

    def SignalAndWaitForShutdown(self, request: Any, context: Any) -> Any:  # noqa: N802
        return empty_pb2.Empty()


class Engine(engine_pb2_grpc.EngineServicer):
    """The engine service: records the log messages a plugin sends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.logs: list[LogEntry] = []
        self.root = ""

    def Log(self, request: Any, context: Any) -> Any:  # noqa: N802
        with self._lock:
            self.logs.append(LogEntry(request.severity, request.message, request.urn))
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        return engine_pb2.GetRootResourceResponse(urn=self.root)

    def SetRootResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.root = request.urn
        return engine_pb2.SetRootResourceResponse()


@dataclass
class ConstructFailure:
    """A failed Construct as the engine receives it: status, message, input-property errors."""

    code: grpc.StatusCode
    message: str
    errors: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ConstructOutcome:
    """What one Construct produced: the response (or failure), the registrations and the logs."""

    inputs: dict[str, Any]
    response: Any | None
    failure: ConstructFailure | None
    registrations: list[Registration]
    logs: list[LogEntry]

    @property
    def state(self) -> dict[str, Any]:
        """The component's outputs as returned to the engine."""
        assert self.response is not None, self.failure
        return from_struct(self.response.state)

    @property
    def component(self) -> Registration:
        """The component's own registration (the one parented by the stack; registrations arrive in any order)."""
        found = [r for r in self.registrations if r.parent.endswith("::pulumi:pulumi:Stack::" + r.parent.rsplit("::", 1)[-1])]
        assert len(found) == 1, [(r.type, r.name, r.parent) for r in self.registrations]
        return found[0]

    def children(self, type_: str | None = None) -> list[Registration]:
        """Registrations below the component (optionally of one type)."""
        top = [r for r in self.registrations if r.parent.endswith("::pulumi:pulumi:Stack::" + r.parent.rsplit("::", 1)[-1])]
        return [r for r in self.registrations if r not in top and (type_ is None or r.type == type_)]

    def one(self, type_: str, name: str | None = None) -> Registration:
        """The single registration of ``type_`` (and ``name``)."""
        found = [r for r in self.children(type_) if name is None or r.name == name]
        assert len(found) == 1, (type_, name, [(r.type, r.name) for r in self.registrations])
        return found[0]


class Plugin:
    """The ``provider/`` plugin, started as the language host starts it, and the engine services it talks to."""

    def __init__(self, *, cwd: Path | None = None) -> None:
        self.engine = Engine()
        self.monitor = Monitor()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        engine_pb2_grpc.add_EngineServicer_to_server(self.engine, self._server)
        resource_pb2_grpc.add_ResourceMonitorServicer_to_server(self.monitor, self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        self.engine_address = f"127.0.0.1:{port}"
        self.python = os.environ.get(PLUGIN_PYTHON_ENV) or sys.executable
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
        self.process = subprocess.Popen(
            [self.python, str(PLUGIN_DIR), self.engine_address],
            cwd=str(cwd or ROOT / "examples" / "yaml"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self._stderr: list[str] = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        first_line: queue.Queue[bytes] = queue.Queue()
        assert self.process.stdout is not None
        stdout = self.process.stdout
        threading.Thread(target=lambda: first_line.put(stdout.readline()), daemon=True).start()
        try:
            line = first_line.get(timeout=TIMEOUT).decode().strip()
        except queue.Empty:
            self.close()
            raise AssertionError(f"plugin printed no port within {TIMEOUT}s; stderr: {self.stderr}") from None
        if not line.isdigit():
            self.close()
            raise AssertionError(f"plugin's first stdout line is not a port: {line!r}; stderr: {self.stderr}")
        self.port = int(line)
        self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.provider = provider_pb2_grpc.ResourceProviderStub(self._channel)

    def _drain_stderr(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            self._stderr.append(raw.decode(errors="replace"))

    @property
    def stderr(self) -> str:
        """Everything the plugin wrote to stderr so far (the engine shows it to the user)."""
        return "".join(self._stderr)

    def close(self) -> None:
        """Stop the plugin process and the engine services."""
        if getattr(self, "_channel", None) is not None:
            self._channel.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=TIMEOUT)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._server.stop(grace=None)

    def plugin_info(self) -> Any:
        """``GetPluginInfo``."""
        return self.provider.GetPluginInfo(empty_pb2.Empty(), timeout=TIMEOUT)

    def schema(self) -> dict[str, Any]:
        """``GetSchema`` (version 0), parsed."""
        response = self.provider.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=TIMEOUT)
        result: dict[str, Any] = json.loads(response.schema)
        return result

    def configure(self) -> Any:
        """``Configure`` as the engine sends it before Construct."""
        request = provider_pb2.ConfigureRequest(acceptSecrets=True, acceptResources=True, sends_old_inputs=True)
        return self.provider.Configure(request, timeout=TIMEOUT)

    def construct(
        self,
        component: str,
        name: str,
        inputs: Mapping[str, Any],
        *,
        config: Mapping[str, str],
        secret_keys: Sequence[str] = (),
        dry_run: bool = False,
        stack: str = "dev",
        input_dependencies: Mapping[str, Sequence[str]] | None = None,
        dependencies: Sequence[str] = (),
    ) -> ConstructOutcome:
        """``Construct`` one component as the engine does for a program's resource; collect what it registered.

        ``config`` is flat, object fields as paths (``namespace:imagePullSecret.token``): see :func:`engine_config`.
        """
        config, secret_keys = engine_config(config, secret_keys)
        self.monitor.reset(dry_run=dry_run, stack=stack, config=config, secret_keys=secret_keys)
        with self.engine._lock:
            self.engine.logs = []
        request = provider_pb2.ConstructRequest(
            project=PROJECT,
            stack=stack,
            organization="organization",
            config=dict(config),
            configSecretKeys=list(secret_keys),
            dryRun=dry_run,
            parallel=16,
            monitorEndpoint=self.engine_address,
            type=f"secret-chain:index:{component}",
            name=name,
            parent=stack_urn(stack),
            inputs=to_struct(inputs),
            inputDependencies={
                k: provider_pb2.ConstructRequest.PropertyDependencies(urns=list(v)) for k, v in (input_dependencies or {}).items()
            },
            dependencies=list(dependencies),
            accepts_output_values=True,
        )
        response = failure = None
        try:
            response = self.provider.Construct(request, timeout=TIMEOUT)
        except grpc.RpcError as err:
            failure = _failure(err)
        with self.engine._lock:
            logs = list(self.engine.logs)
        return ConstructOutcome(dict(inputs), response, failure, list(self.monitor.registrations), logs)


def _failure(err: Any) -> ConstructFailure:
    """Decode a failed RPC as rpcerror.FromError does: message, and InputPropertiesError details if any."""
    errors: list[tuple[str, str]] = []
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                found = errors_pb2.InputPropertiesError()
                if detail.Unpack(found):
                    errors.extend((e.property_path, e.reason) for e in found.errors)
    return ConstructFailure(err.code(), err.details() or "", errors)


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _lookup(inputs: Any, path: str) -> tuple[bool, Any]:
    """Resolve a property path (``a.b[0]``) in wire inputs, looking through secrets and output values."""
    value = inputs
    for match in _PATH_PART.finditer(path):
        while isinstance(value, dict) and value.get(SIG_KEY) in (SECRET_SIG, OUTPUT_SIG):
            if "value" not in value:
                return False, None
            value = value["value"]
        key, index = match.group(1), match.group(2)
        if key is not None and isinstance(value, dict) and key in value:
            value = value[key]
        elif index is not None and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return False, None
    return True, value


def _go_value(value: Any) -> str:
    """``%v`` of a resource.PropertyValue: Go prints a secret's element, in clear."""
    if isinstance(value, dict) and value.get(SIG_KEY) in (SECRET_SIG, OUTPUT_SIG):
        return "{&{" + _go_value(value.get("value", "")) + "}}"
    return "{" + (json.dumps(value) if not isinstance(value, str) else value) + "}"


def engine_message(failure: ConstructFailure, inputs: Mapping[str, Any]) -> str:
    """The text the engine prints for a failed Construct (errorToMessage in pkg/resource/deploy/source_eval.go)."""
    message = failure.message
    for path, reason in failure.errors:
        found, value = _lookup(dict(inputs), path)
        if found:
            message += f"\n\t\t- property {path} with value '{_go_value(value)}' has a problem: {reason}"
        else:
            message += f"\n\t\t- property {path} has a problem: {reason}"
    return message


__all__ = [
    "OUTPUT_SIG",
    "PLUGIN_PYTHON_ENV",
    "ROOT",
    "SECRET_SIG",
    "UNKNOWN",
    "ConstructFailure",
    "ConstructOutcome",
    "Plugin",
    "Registration",
    "contains_unknown",
    "engine_config",
    "engine_message",
    "from_struct",
    "is_secret_value",
    "output",
    "plain_strings",
    "resource_urn",
    "secret",
    "stack_urn",
]


@contextlib.contextmanager
def started_plugin(*, configure: bool = True) -> Iterator[Plugin]:
    """The component provider plugin, started (and configured, as the engine does before Construct) for a test module's
    fixture; closed after."""
    plugin = Plugin()
    try:
        if configure:
            plugin.configure()
        yield plugin
    finally:
        plugin.close()
