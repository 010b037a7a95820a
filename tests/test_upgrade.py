"""Upgrading preview-base on a cluster it shares with production: production's objects survive.

Before the ``-preview`` names, preview-base built its cluster-wide objects under production's names, so both
stacks' states hold the same live objects. The README's upgrade step ("Upgrading preview-base on a shared
cluster") is run here, command by command, as a person runs it, on the simulated world (tests/world.py), whose rules
cite their sources: the engine replaces an object whose name changed create-before-delete and reads the OLD state's
``retainOnDelete`` when it deletes (``Engine.up``); a plain create of an existing object is AlreadyExists
(``Cluster.create``); ``pulumi stack export`` writes each resource's ID and ``pulumi stack import`` takes only a
snapshot that passes ``VerifyIntegrity`` (``PulumiCli.stack_export`` / ``stack_import``, ``verify_integrity``).

The old release is the stack program with preview-base's suffix off (what it built before the ``-preview`` names),
both stacks with image automation. It came to hold production's objects the one way pulumi-kubernetes lets a second
stack take an existing object: ``pulumi up`` with ``upsertExistingObjects`` and patch force (``Cluster._upsert``); the
world then holds both stacks' states on the same live objects (``KubeObject.holders``).
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from secret_chain import validators
from secret_chain.certmanager import certificate_name
from tests.runner import ROOT, Runner, copy_repository
from tests.test_chain import IA, SETTING
from tests.test_lifecycle import DOMAIN, ORG, REPO, STACK_SETTINGS, _value, _world, _yaml_argument, placeholders
from tests.world import Engine, ObjectKey, PulumiCli, Workspace, World

STACKS = ("production", "preview-base")


@dataclass
class Platform:
    """A world file with production (this release) and preview-base (the old release) deployed on one cluster."""

    path: Path
    runner: Runner
    person: Path
    token: str

    @property
    def env(self) -> dict[str, str]:
        return {"PULUMI_ACCESS_TOKEN": self.token}

    @property
    def world(self) -> World:
        return World.load(self.path)

    def pulumi(self, *argv: str, env: dict[str, str] | None = None) -> str:
        """A person's ``pulumi`` command, in this process (the program as this process has it: the old release when a
        test has patched it)."""
        code, out = self.runner.pulumi_here(list(argv), cwd=self.person, env={**self.env, **(env or {})})
        assert code == 0, f"pulumi {' '.join(argv)} failed:\n{out}"
        return out

    def fork(self, tmp: Path) -> Platform:
        """A copy of the world for one test (the module's platform stays as it was)."""
        tmp.mkdir(parents=True, exist_ok=True)
        path = tmp / "world.pickle"
        path.write_bytes(self.path.read_bytes())
        return Platform(path, Runner(path, REPO, tmp, root=self.runner.root), self.person, self.token)


def deploy_platform(tmp: Path, stacks: tuple[str, ...] = STACKS, *, image_automation: bool = True) -> Platform:
    """The README's real path, in this process: the bootstrap stack, the ESC values set into the environments that hold
    each node, each stack's settings (and the image automation setting, a YAML mapping in its stack file), then
    ``pulumi up`` of each stack in ``stacks``."""
    world, values, token = _world()
    path = tmp / "world.pickle"
    world.save(path)
    origin = tmp / "origin"  # the repository the workflows check out; the person pushes the stack files there
    copy_repository(origin, ROOT)
    runner = Runner(path, REPO, tmp, root=origin)
    platform = Platform(path, runner, runner.workspace("ops"), token)
    platform.pulumi("stack", "select", "--create", f"{ORG}/bootstrap")
    platform.pulumi("config", "set", "secret-chain:githubRepository", REPO)
    platform.pulumi("up", "--yes", "--skip-preview")
    for ref, env_path, key, secret in placeholders(platform.world):
        if key == "flux:githubToken":
            platform.pulumi("env", "rm", ref, env_path)  # Flux authenticates as its GitHub App: the token node goes
            continue
        platform.pulumi("env", "set", ref, env_path, "--secret" if secret else "--plaintext", "--", _yaml_argument(_value(key, values)))
    workspace = Workspace(platform.person)
    for stack in STACKS:
        platform.pulumi("stack", "select", "--create", f"{ORG}/{stack}")
        for key, value in STACK_SETTINGS[stack].items():
            platform.pulumi("config", "set", key, value)
        if image_automation:
            document = workspace.read_stack(stack)
            document["config"][IA] = SETTING
            workspace.write_stack(stack, document)
    runner.push(platform.person, *(f"stacks/Pulumi.{stack}.yaml" for stack in STACKS))
    for stack in stacks:
        platform.pulumi("up", "--yes", "--skip-preview", "--stack", f"{ORG}/{stack}")
    return platform


@pytest.fixture(scope="module")
def old_release(tmp_path_factory: pytest.TempPathFactory) -> Platform:
    """Production on this release; preview-base on the old one, over production's objects (upsert, patch force)."""
    platform = deploy_platform(tmp_path_factory.mktemp("upgrade"), ("production",))
    patch = pytest.MonkeyPatch()
    patch.setattr(validators, "PREVIEW_SUFFIX", "")  # preview-base as the old release built it: production's names
    try:
        takeover = {"PULUMI_K8S_UPSERT_EXISTING_OBJECTS": "true", "PULUMI_K8S_ENABLE_PATCH_FORCE": "true"}
        platform.pulumi("up", "--yes", "--skip-preview", "--stack", f"{ORG}/preview-base", env=takeover)
    finally:
        patch.undo()
    return platform


def _fqn(stack: str) -> str:
    return f"{ORG}/secret-chain/{stack}"


def objects_of(world: World, stack: str) -> set[ObjectKey]:
    """The Kubernetes objects (kind, namespace, name) the stack's state holds."""
    resources = world.cloud.stacks[_fqn(stack)].resources.values()
    return {tuple(r.world_ref[1:]) for r in resources if r.custom and r.type.startswith("kubernetes:")}  # type: ignore[misc]


def live(world: World) -> set[ObjectKey]:
    return {key for cluster in world.clusters.values() for key in cluster.objects}


def documented_steps() -> list[str]:
    """The commands of the upgrade step (docs/prerequisites.md, as the README had it), in order."""
    text = (ROOT / "docs" / "prerequisites.md").read_text(encoding="utf-8")
    start = text.index("**Upgrading preview-base on a shared cluster.**")
    (block,) = re.findall(r"```sh\n(.*?)```", text[start : text.index("\n**", start + 10)], re.S)
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_the_old_release_shared_objects_and_a_plain_upgrade_deletes_productions(old_release: Platform, tmp_path: Path) -> None:
    """The hazard, as the engine has it: replacing preview-base's old objects deletes production's, and
    ``retain_on_delete`` in the new program does not stop it (the delete reads the old state's flag)."""
    for retain in (False, True):
        p = old_release.fork(tmp_path / str(retain))
        world = p.world
        production = objects_of(world, "production")
        preview = objects_of(world, "preview-base")
        shared = production & preview
        kinds = {kind.split("/", 1)[1] for kind, _, _ in shared}
        assert {"ClusterIssuer", "Secret", "GitRepository", "ImageRepository", "ImagePolicy", "ImageUpdateAutomation"} <= kinds
        # `pulumi up` of preview-base's new program (``retain``: set on every resource of the program).
        stack = world.cloud.stacks[_fqn("preview-base")]
        evaluation, config = PulumiCli(world, p.person, p.env, print, print).evaluate(stack, Workspace(p.person))
        if retain:
            evaluation.registrations = [dataclasses.replace(r, retain_on_delete=True) for r in evaluation.registrations]
        result = Engine(world, p.env).up(stack, evaluation, config=config)
        assert result.ok, result.error
        assert production - live(world) == shared, retain  # every object production shared is gone


def test_the_documented_upgrade_keeps_every_object_of_production(old_release: Platform, tmp_path: Path) -> None:
    """Issue 19: the README's step, run command by command: preview-base forgets what production holds (no delete),
    keeps its own objects (the wildcard Certificates that depend on the forgotten ClusterIssuer too), and its
    ``pulumi up`` creates the ``-preview`` objects without an AlreadyExists; production keeps all of its objects."""
    steps = documented_steps()
    assert steps[-1] == "pulumi up --stack preview-base" and any(s.startswith("secret-chain forget-shared ") for s in steps)
    p = old_release.fork(tmp_path)
    world = p.world
    production = objects_of(world, "production")
    resources = world.cloud.stacks[_fqn("preview-base")].resources.values()
    own = {r.urn for r in resources if r.custom and r.type.startswith("kubernetes:") and tuple(r.world_ref[1:]) not in production}
    assert any(urn.endswith(certificate_name(f"*.pr.{DOMAIN}")) for urn in own)  # wildcard-pr-<domain>
    recorded = len(world.violations)
    done = p.runner.shell("\n".join(steps[:-1]), cwd=p.person, env=p.env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    world = p.world
    kept = {r.urn for r in world.cloud.stacks[_fqn("preview-base")].resources.values()}
    assert own <= kept  # nothing of preview-base's own was forgotten
    assert "object(s) the other stack also holds, forgotten (not deleted)" in done.stdout
    p.runner.shell(steps[-1], cwd=p.person, env=p.env)
    world = p.world
    assert world.violations[recorded:] == []  # no AlreadyExists, nothing of production's touched
    assert production <= live(world)  # production's objects survive
    preview = objects_of(world, "preview-base")
    assert preview <= live(world) and not preview & production
    # Production's own upgrade changes none of its names: nothing of it is replaced or deleted.
    p.runner.shell(f"pulumi up --stack {shlex.quote(ORG + '/production')}", cwd=p.person, env=p.env)
    world = p.world
    assert world.violations[recorded:] == [] and production <= live(world) and preview <= live(world)


def test_forget_shared_refuses_plaintext_secrets_and_children(tmp_path: Path) -> None:
    from secret_chain.errors import SecretChainError
    from secret_chain.ops.upgrade import forget, shared

    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": '"x"'}
    state = {"deployment": {"resources": [{"urn": "a", "custom": True, "type": "kubernetes:core/v1:Secret", "id": "ns/s", "outputs": {"v": secret}}]}}
    with pytest.raises(SecretChainError, match="without --show-secrets"):
        shared(state, state)
    parent = {"urn": "p", "custom": True, "type": "kubernetes:core/v1:Namespace", "id": "ns"}
    child = {"urn": "c", "custom": True, "type": "kubernetes:core/v1:Secret", "id": "ns/s", "parent": "p"}
    with pytest.raises(SecretChainError, match="children"):
        forget({"deployment": {"resources": [parent, child]}}, ["p"])


def test_forget_shared_takes_an_encrypted_export_and_prunes_replace_with_lists() -> None:
    """`pulumi stack export` without --show-secrets writes every secret as {sig, ciphertext}: the same signature value as
    a plaintext one (pulumi/pulumi pkg/resource/stack/deployment.go), so only a `plaintext` key means a decrypted export.
    `replaceWith` is a list of URNs and `deletedWith` one (sdk/go/common/apitype/core.go ResourceV3)."""
    from secret_chain.ops.upgrade import forget, shared

    encrypted = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:abc"}
    gone = {"urn": "a", "custom": True, "type": "kubernetes:core/v1:Secret", "id": "ns/s", "outputs": {"v": encrypted}}
    other = {"urn": "b", "custom": True, "type": "kubernetes:core/v1:Secret", "id": "ns/t", "replaceWith": ["a", "c"], "deletedWith": "a"}
    state = {"deployment": {"resources": [gone, other]}}
    assert shared(state, {"deployment": {"resources": [gone]}}) == ["a"]
    kept = forget(state, ["a"])["deployment"]["resources"]
    assert kept == [{"urn": "b", "custom": True, "type": "kubernetes:core/v1:Secret", "id": "ns/t", "replaceWith": ["c"]}]
