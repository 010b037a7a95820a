"""``secret-chain forget-shared``: take out of one stack's state the Kubernetes objects another stack also holds.

Before this release, preview-base built its cluster-wide objects (the ClusterIssuer and its DNS token Secret,
Flux's Secret and GitRepository, image automation's objects and pull secret) under production's names; on a
cluster both stacks share, both states then hold the same live objects. The first ``pulumi up`` of preview-base
with this release gives them ``-preview`` names, and the engine replaces each: it creates the new object and
then deletes the old one (create-before-delete unless the provider asks otherwise: pulumi/pulumi
pkg/resource/deploy/step_generator.go; pulumi-kubernetes asks for delete-before-replace only when the name stays:
provider/pkg/provider/provider.go ``Diff``), and that delete is production's object. ``retain_on_delete`` in the
new program does not help: the delete step reads the flag of the OLD state (pkg/resource/deploy/step.go
``DeleteStep.Apply``: ``s.old.RetainOnDelete``), which the old release never set.

So, before that ``pulumi up``, preview-base must forget those objects without deleting them. ``pulumi state
delete`` refuses a resource that others depend on ("can't be safely deleted because the following resources depend
on it", pkg/cmd/pulumi/state/state_delete.go), and with ``--target-dependents`` it also forgets the dependents
(preview-base's wildcard Certificates depend on the ClusterIssuer), which the next ``pulumi up`` would create again
and the API server refuse as AlreadyExists. This command edits an exported state instead: it removes each custom
resource whose Kubernetes object (API group, kind, namespace, name: its ID, ``namespace/name`` or ``name``,
pulumi-kubernetes provider/pkg/provider/util.go ``fqObjName``) the other state holds too, and every reference to it
(``dependencies``, ``propertyDependencies``, ``deletedWith``, ``replaceWith``), so that the snapshot stays valid
(pkg/resource/deploy/snapshot.go ``VerifyIntegrity``) for ``pulumi stack import``. Values are copied as they are:
a state exported with ``--show-secrets`` is refused, so that no secret is ever written by this command.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from secret_chain.errors import SecretChainError
from secret_chain.ops import _io
from secret_chain.validators import printable

EXAMPLES = """examples:
  pulumi stack export --stack production > production.json
  pulumi stack export --stack preview-base > preview-base.json
  secret-chain forget-shared --state preview-base.json --other production.json --out preview-base.forgotten.json
  pulumi stack import --stack preview-base --file preview-base.forgotten.json
"""

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
"""The ``SIG_KEY`` value that marks a secret in a state (pulumi/pulumi sdk/go/common/resource/sig). Every secret
carries it: ``pulumi stack export`` writes ``{sig, ciphertext}``, ``--show-secrets`` writes ``{sig, plaintext}``
(pkg/resource/stack/deployment.go, ``SerializePropertyValue``)."""
_REFERENCES = ("dependencies", "propertyDependencies", "deletedWith", "replaceWith")


def identity(resource: dict[str, Any]) -> tuple[str, str, str] | None:
    """(API group, kind, ID) of a custom Kubernetes resource in a state, or None (a component, a provider, anything else).

    The version is left out: ``v1`` and ``v1beta1`` of one kind name the same stored object.
    """
    kind_type, resource_id = resource.get("type"), resource.get("id")
    if not isinstance(kind_type, str) or not kind_type.startswith("kubernetes:") or kind_type.startswith("pulumi:providers:"):
        return None
    if not resource.get("custom") or not isinstance(resource_id, str) or not resource_id or resource.get("delete"):
        return None
    _, group_version, kind = kind_type.split(":", 2)
    return group_version.rpartition("/")[0] or group_version, kind, resource_id


def _resources(state: object, what: str) -> list[dict[str, Any]]:
    deployment = state.get("deployment") if isinstance(state, dict) else None
    resources = deployment.get("resources") if isinstance(deployment, dict) else None
    if not isinstance(resources, list) or not all(isinstance(r, dict) for r in resources):
        raise SecretChainError(f"{what} is not a `pulumi stack export` document (deployment.resources)")
    if _has_plaintext_secret(resources):
        raise SecretChainError(f"{what} holds plaintext secrets: export it without --show-secrets")
    return resources


def _has_plaintext_secret(value: object) -> bool:
    """Whether a secret in ``value`` was exported decrypted (``{sig: SECRET_SIG, plaintext: …}``, not ``ciphertext``)."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG and "plaintext" in value:
            return True
        return any(_has_plaintext_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_plaintext_secret(v) for v in value)
    return False


def shared(state: object, other: object) -> list[str]:
    """URNs of the Kubernetes objects of ``state`` that ``other`` holds too, in ``state``'s order."""
    theirs = {i for r in _resources(other, "--other") if (i := identity(r)) is not None}
    return [str(r["urn"]) for r in _resources(state, "--state") if identity(r) in theirs]


def forget(state: dict[str, Any], urns: list[str]) -> dict[str, Any]:
    """``state`` without the resources ``urns`` and without any reference to them (a copy; nothing else changes)."""
    gone = set(urns)
    resources = _resources(state, "--state")
    parents = sorted({str(r["urn"]) for r in resources if r.get("parent") in gone})
    if parents:
        raise SecretChainError(f"cannot forget a resource with children: {', '.join(parents)}")
    kept: list[dict[str, Any]] = []
    for resource in resources:
        if resource.get("urn") in gone:
            continue
        resource = dict(resource)
        if isinstance(resource.get("dependencies"), list):
            resource["dependencies"] = [d for d in resource["dependencies"] if d not in gone]
        if isinstance(resource.get("propertyDependencies"), dict):
            resource["propertyDependencies"] = {
                key: [d for d in deps if d not in gone] for key, deps in resource["propertyDependencies"].items() if isinstance(deps, list)
            }
        # deletedWith is one URN, replaceWith a list of them (pulumi/pulumi sdk/go/common/apitype/core.go ResourceV3).
        if resource.get("deletedWith") in gone:
            del resource["deletedWith"]
        if isinstance(resource.get("replaceWith"), list):
            resource["replaceWith"] = [u for u in resource["replaceWith"] if u not in gone]
            if not resource["replaceWith"]:
                del resource["replaceWith"]
        kept.append(resource)
    return {**state, "deployment": {**state["deployment"], "resources": kept}}


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``forget-shared`` to the command line."""
    p = subparsers.add_parser(
        "forget-shared",
        help="remove from one stack's exported state the Kubernetes objects another stack also holds (upgrade step)",
        description=(
            "Write --state without the Kubernetes objects --other holds too, and without references to them, for "
            "`pulumi stack import`: the stack then forgets them without deleting them (docs/prerequisites.md, One cluster for both environments)."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--state", required=True, metavar="FILE", help="`pulumi stack export` of the stack that forgets (- for stdin)")
    p.add_argument("--other", required=True, metavar="FILE", help="`pulumi stack export` of the stack that keeps the objects")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the edited state (for `pulumi stack import --file`)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Write the edited state and list what it forgets; 0 also when nothing is shared (the state is then unchanged)."""
    state = _io.parse_json(_io.read_text(args.state, "state file"), "--state")
    other = _io.parse_json(_io.read_text(args.other, "state file"), "--other")
    urns = shared(state, other)
    Path(args.out).write_text(json.dumps(forget(state, urns), indent=4) + "\n", encoding="utf-8")
    print(f"{len(urns)} Kubernetes object(s) the other stack also holds, forgotten (not deleted) in {args.out}:")
    for urn in urns:
        print(f"  {printable(urn)}")  # from the state file: a newline or escape sequence in it must not reach the terminal
    return 0
