"""Upgrading preview-base on a cluster it shares with production: production's objects survive.

Before the ``-preview`` names, preview-base built its cluster-wide objects under production's names, so both
stacks' states hold the same live objects. The README's upgrade step ("Upgrading preview-base on a shared
cluster") is run here, command by command, against a small simulation of what the engine and the Kubernetes API
server do, each rule cited where it is written:

- ``pulumi up``: a registered resource whose URN is in the state and whose object name changed is replaced,
  create-before-delete (pulumi-kubernetes ``Diff`` replaces on a ``.metadata.name``/``.metadata.namespace`` change
  and asks for delete-before-replace only when the name stays: provider/pkg/provider/provider.go; the engine's
  default is create-before-delete: pulumi/pulumi pkg/resource/deploy/step_generator.go); a resource no longer
  registered is deleted (step_generator.go, ``Planner decided to delete``); a delete calls the provider unless the
  OLD state's ``retainOnDelete`` is set (pkg/resource/deploy/step.go ``DeleteStep.Apply``: ``s.old.RetainOnDelete``).
- The API server refuses to create an object that exists (pulumi-kubernetes creates with a plain POST unless
  ``upsertExistingObjects``: provider/pkg/await/await.go ``Creation``; AlreadyExists).
- A resource's ID is ``namespace/name``, or ``name`` for a cluster-scoped one (pulumi-kubernetes
  provider/pkg/provider/util.go ``fqObjName``); an Actions secret's or variable's is ``repository:name``
  (terraform-provider-github github/util.go ``buildID``).
- ``pulumi stack import`` takes only a valid snapshot: every dependency, property dependency, parent and
  deleted-with reference names a resource earlier in it (pkg/resource/deploy/snapshot.go ``VerifyIntegrity``).

The old release is the stack program with preview-base's suffix off (what it built before the ``-preview`` names),
both stacks with image automation.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from components import validators
from components.ops.offline import Evaluation, unwrap
from tests.test_chain import _program_with_setting

ROOT = Path(__file__).resolve().parent.parent
Identity = tuple[str, str, str]


def resource_id(reg: Any) -> str:
    """The ID the provider gives the resource (see the module docstring)."""
    inputs = unwrap(reg.inputs)
    if reg.type.startswith("kubernetes:"):
        meta = inputs["metadata"]
        return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else str(meta["name"])
    if reg.type.startswith("github:"):
        name = inputs.get("secretName") or inputs.get("variableName")
        return f"{inputs['repository']}:{name}"
    return f"{reg.name}-id"


def export(ev: Evaluation) -> dict[str, Any]:
    """A ``pulumi stack export`` of an evaluation after its ``pulumi up``: the fields the steps read."""
    resources = []
    for reg in ev.registrations:
        custom = reg.custom and not reg.type.startswith("pulumi:providers:")
        resource: dict[str, Any] = {"urn": reg.urn, "custom": reg.custom, "type": reg.type, "dependencies": list(reg.dependencies)}
        if custom:
            resource["id"] = resource_id(reg)
        if reg.parent:
            resource["parent"] = reg.parent
        if reg.retain_on_delete:
            resource["retainOnDelete"] = True
        resources.append(resource)
    return {"version": 3, "deployment": {"manifest": {"version": "v3.x"}, "resources": resources}}


def identity(resource: dict[str, Any]) -> Identity | None:
    from components.ops.upgrade import identity as kubernetes_identity

    return kubernetes_identity(resource)


def verify_integrity(state: dict[str, Any]) -> None:
    """A port of the reference checks of ``Snapshot.VerifyIntegrity``: each reference names an earlier resource."""
    seen: set[str] = set()
    for resource in state["deployment"]["resources"]:
        references = [*resource.get("dependencies", []), *(d for deps in resource.get("propertyDependencies", {}).values() for d in deps)]
        references += [resource[k] for k in ("parent", "deletedWith", "replaceWith") if resource.get(k)]
        missing = [r for r in references if r not in seen]
        assert not missing, f"resource {resource['urn']} refers to missing resource {missing[0]}"
        seen.add(resource["urn"])


class Engine:
    """Two stacks' states, the live Kubernetes objects, and the new program of each stack."""

    def __init__(self, states: dict[str, dict[str, Any]], programs: dict[str, Evaluation]) -> None:
        self.states = states
        self.programs = programs
        self.live: set[Identity] = {i for state in states.values() for r in state["deployment"]["resources"] if (i := identity(r))}
        self.refused: list[str] = []

    def up(self, stack: str, *, retain_on_delete: bool = False) -> None:
        """``pulumi up`` of ``stack``'s new program (``retain_on_delete``: set on every resource of the program)."""
        old = {r["urn"]: r for r in self.states[stack]["deployment"]["resources"]}
        new = export(self.programs[stack])
        deletes: list[dict[str, Any]] = []
        for resource in new["deployment"]["resources"]:
            if retain_on_delete:
                resource["retainOnDelete"] = True
            found, before = identity(resource), old.get(resource["urn"])
            if found is None:
                continue
            if before is not None and identity(before) == found:
                continue  # the same object: an update in place at most
            if found in self.live:
                self.refused.append(f"{resource['urn']}: AlreadyExists {found}")
            self.live.add(found)
            if before is not None:
                deletes.append(before)  # replaced: the old object goes after the creates
        registered = {r["urn"] for r in new["deployment"]["resources"]}
        deletes += [r for urn, r in old.items() if urn not in registered]
        for resource in deletes:
            if (gone := identity(resource)) is not None and not resource.get("retainOnDelete"):
                self.live.discard(gone)
        self.states[stack] = new

    def run(self, command: str, files: Path) -> None:
        """One documented command: ``pulumi stack export``, ``secret-chain forget-shared``, ``pulumi stack import``, ``pulumi up``."""
        from components.ops.cli import main

        words = shlex.split(command)
        if words[:3] == ["pulumi", "stack", "export"]:
            assert words[3] == "--stack" and words[5] == ">"
            (files / words[6]).write_text(json.dumps(self.states[words[4]]))
        elif words[:2] == ["secret-chain", "forget-shared"]:
            args = [files / w if w.endswith(".json") else w for w in words[1:]]
            assert main([str(a) for a in args]) == 0
        elif words[:3] == ["pulumi", "stack", "import"]:
            assert words[3] == "--stack" and words[5] == "--file"
            state = json.loads((files / words[6]).read_text())
            verify_integrity(state)
            self.states[words[4]] = state
        elif words[:2] == ["pulumi", "up"]:
            assert words[2] == "--stack"
            self.up(words[3])
        else:
            raise AssertionError(f"not a step the simulation knows: {command}")


def documented_steps() -> list[str]:
    """The commands of the README's upgrade step, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("**Upgrading preview-base on a shared cluster.**")
    (block,) = re.findall(r"```sh\n(.*?)```", text[start : text.index("\n**", start + 10)], re.S)
    return [line.strip() for line in block.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def releases() -> tuple[dict[str, dict[str, Any]], dict[str, Evaluation]]:
    """(old states, new programs) of production and preview-base, both with image automation."""
    programs = {stack: _program_with_setting(stack) for stack in ("production", "preview-base")}
    patch = pytest.MonkeyPatch()
    patch.setattr(validators, "PREVIEW_SUFFIX", "")  # preview-base as the old release built it: production's names
    try:
        old_preview = _program_with_setting("preview-base")
    finally:
        patch.undo()
    return {"production": export(programs["production"]), "preview-base": export(old_preview)}, programs


def _fresh(releases: tuple[dict[str, dict[str, Any]], dict[str, Evaluation]]) -> Engine:
    states, programs = releases
    return Engine(json.loads(json.dumps(states)), programs)


def _production_objects(engine: Engine) -> set[Identity]:
    return {i for r in engine.states["production"]["deployment"]["resources"] if (i := identity(r))}


def test_the_old_release_shared_objects_and_a_plain_upgrade_deletes_productions(releases: Any) -> None:
    """The hazard, as the engine has it: replacing preview-base's old objects deletes production's, and
    ``retain_on_delete`` in the new program does not stop it (the delete reads the old state's flag)."""
    for retain in (False, True):
        engine = _fresh(releases)
        production = _production_objects(engine)
        preview = {i for r in engine.states["preview-base"]["deployment"]["resources"] if (i := identity(r))}
        shared = production & preview
        kinds = {kind for _, kind, _ in shared}
        assert {"ClusterIssuer", "Secret", "GitRepository", "ImageRepository", "ImagePolicy", "ImageUpdateAutomation"} <= kinds
        engine.up("preview-base", retain_on_delete=retain)
        assert production - engine.live == shared, retain  # every object production shared is gone


def test_the_documented_upgrade_keeps_every_object_of_production(releases: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 19: the README's step, run command by command: preview-base forgets what production holds (no delete),
    keeps its own objects (the wildcard Certificates that depend on the forgotten ClusterIssuer too), and its
    ``pulumi up`` creates the ``-preview`` objects without an AlreadyExists; production keeps all of its objects."""
    steps = documented_steps()
    assert steps[-1] == "pulumi up --stack preview-base" and any(s.startswith("secret-chain forget-shared ") for s in steps)
    engine = _fresh(releases)
    production = _production_objects(engine)
    own = {r["urn"] for r in engine.states["preview-base"]["deployment"]["resources"] if identity(r) and identity(r) not in production}
    from components.certmanager import certificate_name
    from tests.test_stacks import OPERATOR_DOMAIN

    assert any(urn.endswith(certificate_name(f"*.pr.{OPERATOR_DOMAIN}")) for urn in own)  # the operator's domain (test_stacks)
    for step in steps[:-1]:
        engine.run(step, tmp_path)
    kept = {r["urn"] for r in engine.states["preview-base"]["deployment"]["resources"]}
    assert own <= kept  # nothing of preview-base's own was forgotten
    assert "object(s) the other stack also holds, forgotten (not deleted)" in capsys.readouterr().out
    engine.run(steps[-1], tmp_path)
    assert engine.refused == []
    assert production <= engine.live  # production's objects survive
    preview = {i for r in engine.states["preview-base"]["deployment"]["resources"] if (i := identity(r))}
    assert preview <= engine.live and not preview & production
    # Production's own upgrade changes none of its names: nothing of it is replaced or deleted.
    engine.up("production")
    assert engine.refused == [] and production <= engine.live and preview <= engine.live


def test_forget_shared_refuses_plaintext_secrets_and_children(tmp_path: Path) -> None:
    from components.errors import SecretChainError
    from components.ops.upgrade import forget, shared

    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": '"x"'}
    state = {"deployment": {"resources": [{"urn": "a", "custom": True, "type": "kubernetes:core/v1:Secret", "id": "ns/s", "outputs": {"v": secret}}]}}
    with pytest.raises(SecretChainError, match="without --show-secrets"):
        shared(state, state)
    parent = {"urn": "p", "custom": True, "type": "kubernetes:core/v1:Namespace", "id": "ns"}
    child = {"urn": "c", "custom": True, "type": "kubernetes:core/v1:Secret", "id": "ns/s", "parent": "p"}
    with pytest.raises(SecretChainError, match="children"):
        forget({"deployment": {"resources": [parent, child]}}, ["p"])
