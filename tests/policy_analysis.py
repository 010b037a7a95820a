"""``pulumi preview|up --policy-pack <dir>`` in the simulated world: a local policy pack run against a program's
registrations as the Pulumi engine runs it.

The engine sends every resource registration (custom resources, providers, components, the root stack) to each policy
pack, first to ``Remediate`` and then to ``Analyze``, with its inputs (unknown values as the unknown sentinel in a
preview, secret values marked), and once the steps are done sends them all to ``AnalyzeStack``. A ``mandatory``
diagnostic fails the command (in a preview no step runs; in an update the violating resource is not changed);
``advisory`` ones are printed (pulumi/pulumi pkg/resource/deploy/step_generator.go ``continueStepsFromImport``: "Send
the resource off to any Analyzers before being operated on", and ``AnalyzeResources``; deployment_executor.go calls
``AnalyzeResources`` after the steps, in a preview too).

The pack itself is loaded as the CLI loads a Python pack: its ``__main__.py`` runs with the pack's directory first on
``sys.path``; its ``PolicyPack(...)`` is replaced by a recorder (the real one starts a gRPC server and blocks), and the
recorded policies are served by pulumi-policy's own analyzer servicer, the object ``PolicyPack`` hands to gRPC
(as tests/test_policy.py does). So a policy sees exactly the ``ResourceValidationArgs`` it sees under the real engine.

Simplifications, each stated: an update with a mandatory violation changes nothing (the engine would have applied the
resources registered before it); ``AnalyzeStack`` gets each resource's inputs as its outputs (the mock runtime echoes
inputs); resources using a default provider get no ``provider`` (the mock runtime registers no default provider); a
remediation is refused rather than applied (the chain's own registrations need none: tests/test_policy.py).
"""

from __future__ import annotations

import runpy
import shutil
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import struct_pb2
from pulumi.runtime import proto, rpc

from secret_chain.ops.offline import Registration, is_unknown

ENFORCEMENT = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory", proto.DISABLED: "disabled", proto.REMEDIATE: "remediate"}


class PolicyPackError(RuntimeError):
    """The directory is not a policy pack the CLI could run."""


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str
    """advisory or mandatory (a remediate-level diagnostic counts as mandatory, as the engine "downgrades" it)."""
    urn: str
    message: str


@dataclass
class PackRun:
    pack: str
    version: str
    violations: list[Violation] = field(default_factory=list)

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    def report(self) -> str:
        """Roughly the CLI's "Policies:" block: the pack, then each violation with its level and resource."""
        lines = [f"Policies:\n    {self.pack}@v{self.version} (local: --policy-pack)"]
        for v in self.violations:
            lines.append(f"        - [{v.level}]  {v.policy}  ({v.urn})\n          {v.message}")
        if not self.violations:
            lines.append("        no violations")
        return "\n".join(lines)


@contextmanager
def _recording_policy_pack() -> Iterator[dict[str, Any]]:
    import pulumi_policy

    recorded: dict[str, Any] = {}

    class Recorder:
        def __init__(self, name: str, policies: list[Any], enforcement_level: Any = None, **kwargs: Any) -> None:
            recorded.update(name=name, policies=policies, enforcement_level=enforcement_level, **kwargs)

    original = pulumi_policy.PolicyPack
    pulumi_policy.PolicyPack = Recorder  # type: ignore[misc,assignment]
    try:
        yield recorded
    finally:
        pulumi_policy.PolicyPack = original  # type: ignore[misc]


def installed_copy(pack: Path, destination: Path) -> Path:
    """A copy of the pack at ``destination`` with its virtualenv in place, as `make policy-venv` leaves it (here the
    test interpreter, which has the pack's dependencies, linked as ``venv/bin/python``)."""
    shutil.copytree(pack, destination, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    (destination / "venv" / "bin").mkdir(parents=True)
    (destination / "venv" / "bin" / "python").symlink_to(sys.executable)
    return destination


def load(directory: Path) -> tuple[Any, str, str]:
    """(analyzer servicer, pack name, version) of the Python policy pack in ``directory``."""
    from pulumi_policy import EnforcementLevel
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    project = directory / "PulumiPolicy.yaml"
    if not project.is_file():
        raise PolicyPackError(f"{directory} is not a policy pack: it has no PulumiPolicy.yaml")
    document = yaml.safe_load(project.read_text(encoding="utf-8")) or {}
    runtime = document.get("runtime")
    if (runtime.get("name") if isinstance(runtime, dict) else runtime) != "python":
        raise PolicyPackError(f"{project}: the world runs Python policy packs only, not runtime {runtime!r}")
    virtualenv = (runtime.get("options") or {}).get("virtualenv") if isinstance(runtime, dict) else None
    if virtualenv and not (directory / str(virtualenv) / "bin" / "python").is_file():
        # The CLI runs the pack with <virtualenv>/bin/python and refuses to start without it (pulumi/pulumi
        # sdk/python/toolchain/pip.go: IsVirtualEnv, NewVirtualEnvError).
        path = directory / str(virtualenv)
        missing = "doesn't exist" if not path.exists() else "doesn't appear to be a virtual environment"
        raise PolicyPackError(f"The 'virtualenv' option in PulumiPolicy.yaml is set to {str(virtualenv)!r}, but {str(path)!r} {missing}")
    version = str(document.get("version") or "0.0.1")
    sys.path.insert(0, str(directory))
    try:
        with _recording_policy_pack() as recorded:
            runpy.run_path(str(directory / "__main__.py"), run_name="__main__")
    finally:
        sys.path.remove(str(directory))
    if "name" not in recorded:
        raise PolicyPackError(f"{directory}/__main__.py creates no PolicyPack")
    level = recorded.get("enforcement_level") or EnforcementLevel.ADVISORY
    servicer = _PolicyAnalyzerServicer(recorded["name"], version, recorded["policies"], level, recorded.get("initial_config"))
    return servicer, str(recorded["name"]), version


def engine_value(value: Any) -> Any:
    """A registered input as the engine sends it: unknowns as the unknown sentinel, secrets still marked."""
    if is_unknown(value) and not isinstance(value, dict):
        return rpc.UNKNOWN
    if isinstance(value, dict):
        return {str(k): engine_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [engine_value(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (int, float, str)):
        return value
    return str(value)


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(engine_value(value))
    return message


def _options(reg: Registration) -> Any:
    return proto.AnalyzerResourceOptions(
        ignoreChanges=list(reg.ignore_changes),
        deleteBeforeReplace=reg.delete_before_replace,
        deleteBeforeReplaceDefined=True,
        additionalSecretOutputs=list(reg.additional_secret_outputs),
        parent=reg.parent,
    )


def analyze(directory: Path, registrations: Iterable[Registration]) -> PackRun:
    """Remediate, then Analyze, each registration; then AnalyzeStack over all of them."""
    servicer, name, version = load(directory)
    run = PackRun(name, version)
    regs = list(registrations)
    by_urn = {r.urn: r for r in regs}

    def collect(diagnostics: Iterable[Any], urn: str) -> None:
        for d in diagnostics:
            level = ENFORCEMENT.get(d.enforcementLevel, "advisory")
            if level == "disabled":
                continue
            run.violations.append(Violation(d.policyName, "mandatory" if level == "remediate" else level, d.urn or urn, d.message))

    for reg in regs:
        provider = None
        explicit = by_urn.get(reg.provider.rsplit("::", 1)[0]) if reg.provider else None
        if explicit is not None:
            provider = proto.AnalyzerProviderResource(type=explicit.type, properties=_struct(explicit.inputs), urn=explicit.urn, name=explicit.name)
        request = proto.AnalyzeRequest(
            type=reg.type, properties=_struct(reg.inputs), urn=reg.urn, name=reg.name, options=_options(reg), provider=provider
        )
        remediated = [r.policyName for r in servicer.Remediate(request, None).remediations if r.HasField("properties")]
        if remediated:
            raise PolicyPackError(f"{reg.urn}: the world does not apply remediations ({', '.join(remediated)})")
        collect(servicer.Analyze(request, None).diagnostics, reg.urn)
    resources = [
        proto.AnalyzerResource(
            type=r.type, properties=_struct(r.inputs), urn=r.urn, name=r.name, options=_options(r), parent=r.parent, dependencies=list(r.dependencies)
        )
        for r in regs
    ]
    collect(servicer.AnalyzeStack(proto.AnalyzeStackRequest(resources=resources), None).diagnostics, "")
    return run
