"""Preview works with unknowns (issue 5, promise 4).

Preview mode of the offline runtime plays ``pulumi preview`` of a fresh stack: resource IDs and
provider-computed outputs are unknown, invokes are known. Every stack kind and config variant must
then evaluate without error and register the very resources update registers (type, name, URN,
parent, dependencies), with every Kubernetes object's name and namespace known. The first tests prove
the simulation is real, and that the check catches a component that registers resources inside an
``apply`` or names an object after another resource's output.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from secret_chain.certmanager import CertManagerDnsIssuer
from secret_chain.chain import SecretChain
from secret_chain.flux import FluxGitCredentials
from secret_chain.ghcr import GhcrPullSecret
from secret_chain.github_actions import GitHubActionsSecrets
from secret_chain.grafana import GrafanaOAuth
from secret_chain.ops import plan
from secret_chain.ops.offline import UNKNOWN, Evaluation, Registration, is_secret, is_unknown, load_config_file, unknown_paths, unwrap
from secret_chain.program import main
from secret_chain.prometheus import PrometheusAuth
from tests.conftest import canary_config, rsa_pem, secret_data
from tests.runtime import evaluate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "config"
STACKS = ["production", "preview-base", "preview-pr-7"]
Config = tuple[dict[str, str], list[str]]
Program = Callable[[], Any]

# --------------------------------------------------------------------------------------------------
# The check: update and preview-with-unknowns register the same resources, names known in preview
# --------------------------------------------------------------------------------------------------


def _key(reg: Registration) -> tuple[str, str, str, str]:
    return (reg.type, reg.name, reg.urn, reg.parent)


def _agrees(preview: Any, update: Any) -> bool:
    """True when ``preview`` is ``update`` with some values unknown (secret markers equal where known)."""
    if is_unknown(preview):
        return True
    if is_secret(preview) != is_secret(update):
        return False
    preview, update = (rpc.unwrap_rpc_secret(preview), rpc.unwrap_rpc_secret(update)) if is_secret(preview) else (preview, update)
    if isinstance(preview, dict) and isinstance(update, dict):
        # An unknown that resolves to None is not sent in update: only such keys may be missing there.
        if set(update) - set(preview) or any(not is_unknown(preview[k]) for k in set(preview) - set(update)):
            return False
        return all(_agrees(preview[k], update[k]) for k in update)
    if isinstance(preview, list) and isinstance(update, list):
        return len(preview) == len(update) and all(_agrees(p, u) for p, u in zip(preview, update, strict=True))
    return bool(preview == update)


def _kubernetes_identity_unknowns(reg: Registration) -> list[str]:
    """Paths of unknowns that leave a Kubernetes object's kind, name or namespace open."""
    identity = ("apiVersion", "kind", "metadata", "metadata.name", "metadata.namespace")
    return [p for p in reg.unknown_inputs if p in identity or p == ""]


def assert_preview_matches_update(update: Evaluation, preview: Evaluation) -> None:
    """The promise, for one program, stack and config: see the module docstring."""
    assert not update.preview and preview.preview and preview.preview_unknowns
    assert [r.urn for r in update.registrations if r.unknown_inputs] == [], "update mode never has unknown inputs"
    by_update = {_key(r): r for r in update.registrations}
    by_preview = {_key(r): r for r in preview.registrations}
    missing = sorted(set(by_update) - set(by_preview))
    extra = sorted(set(by_preview) - set(by_update))
    assert not missing and not extra, f"preview registers different resources: missing in preview {missing}, only in preview {extra}"
    assert len(preview.registrations) == len(update.registrations), "a resource registered twice"
    for key, up in by_update.items():
        pre = by_preview[key]
        assert pre.custom == up.custom, key
        assert sorted(pre.dependencies) == sorted(up.dependencies), f"{pre.urn}: dependencies differ"
        # The provider is the same resource; only its ID may be unknown in preview.
        assert pre.provider.rsplit("::", 1)[0] == up.provider.rsplit("::", 1)[0], pre.urn
        assert _agrees(pre.inputs, up.inputs), f"{pre.urn}: known preview inputs differ from update"
        if pre.custom and pre.type.startswith("kubernetes:"):
            assert _kubernetes_identity_unknowns(pre) == [], f"{pre.urn}: name/namespace unknown in preview {pre.unknown_inputs}"


def both_modes(program: Program, config: Config, stack: str = "production", **kwargs: Any) -> tuple[Evaluation, Evaluation]:
    """Evaluate in update and in preview with unknowns (an error in either propagates)."""
    values, secret_keys = config
    update = evaluate(program, config=values, secret_keys=secret_keys, stack=stack, preview=False, **kwargs)
    preview = evaluate(program, config=values, secret_keys=secret_keys, stack=stack, preview=True, **kwargs)
    return update, preview


# --------------------------------------------------------------------------------------------------
# The simulation is real
# --------------------------------------------------------------------------------------------------


def _two_resources() -> list[str]:
    """A Secret, and a ConfigMap built from the Secret's ID and metadata; returns what applies ran."""
    from pulumi_kubernetes.core.v1 import ConfigMap, Secret

    ran: list[str] = []
    first = Secret("first", metadata={"name": "first", "namespace": "default"}, string_data={"k": "v"})
    data: dict[str, pulumi.Input[str]] = {
        "id": first.id,
        "uid": first.metadata.apply(lambda m: m.uid or ""),  # the API server's: unknown before the create
        "name": first.metadata.name,  # an input, lifted: known
        "plain": "known",
    }
    ConfigMap("second", metadata={"name": "second", "namespace": "default"}, data=data)
    first.metadata.apply(lambda _: ran.append("metadata"))
    first.id.apply(lambda _: ran.append("id"))
    pulumi.export("firstId", first.id)
    pulumi.export("firstName", first.metadata.name)
    pulumi.export("firstNameViaApply", first.metadata.apply(lambda m: m.name))
    return ran


def test_ids_and_computed_outputs_are_unknown_in_preview_and_known_in_update() -> None:
    ran: dict[bool, list[str]] = {}

    def program(preview: bool) -> Program:
        return lambda: ran.__setitem__(preview, _two_resources())

    update = evaluate(program(False), config={}, preview=False)
    preview = evaluate(program(True), config={}, preview=True)
    (second_update,) = update.of_type("kubernetes:core/v1:ConfigMap")
    (second_preview,) = preview.of_type("kubernetes:core/v1:ConfigMap")

    assert second_update.inputs["data"] == {"id": "first-id", "uid": "", "name": "first", "plain": "known"}  # the mock fills no uid
    assert second_update.unknown_inputs == []
    assert update.stack_outputs == {"firstId": "first-id", "firstName": "first", "firstNameViaApply": "first"}
    assert sorted(ran[False]) == ["id", "metadata"]

    assert second_preview.unknown_inputs == ["data.id", "data.uid"]
    assert second_preview.inputs["data"] == {"id": UNKNOWN, "uid": UNKNOWN, "name": "first", "plain": "known"}
    assert preview.stack_outputs == {"firstId": UNKNOWN, "firstName": "first", "firstNameViaApply": UNKNOWN}
    assert ran[True] == []  # no apply on an unknown value runs
    # the very same resources, though
    assert [_key(r) for r in preview.registrations] == [_key(r) for r in update.registrations]


def test_preview_without_unknowns_keeps_the_old_known_echo() -> None:
    def program() -> None:
        _two_resources()

    ev = evaluate(program, config={}, preview=True, preview_unknowns=False)
    assert not ev.preview_unknowns
    assert [r.unknown_inputs for r in ev.registrations] == [[], [], []]
    assert ev.stack_outputs["firstId"] == "first-id"


def test_provider_functions_stay_known_in_preview() -> None:
    import pulumi_digitalocean as digitalocean
    import pulumi_github as github

    def program() -> None:
        pulumi.export("repoId", github.get_repository_output(full_name="acme/platform").repo_id)
        pulumi.export("zone", digitalocean.get_domain_output(name="example.com").name)
        pulumi.export("endpoint", digitalocean.get_kubernetes_cluster_output(name="prod").endpoint)

    update, preview = both_modes(program, ({}, []))
    assert preview.stack_outputs == update.stack_outputs
    assert not any(is_unknown(v) for v in preview.stack_outputs.values())


def test_unknown_paths_and_markers() -> None:
    sdk_unknown = pulumi.output.Unknown()  # type: ignore[no-untyped-call]  # what the SDK deserialises an unknown to
    value = {"a": UNKNOWN, "b": [1, sdk_unknown], "c": rpc.wrap_rpc_secret({"d": UNKNOWN}), "e": "[x]"}
    assert unknown_paths(value) == ["a", "b[1]", "c.d"]
    assert unknown_paths(UNKNOWN) == [""]
    assert unknown_paths(rpc.wrap_rpc_secret(UNKNOWN)) == [""]
    assert is_unknown(rpc.wrap_rpc_secret(UNKNOWN)) and not is_unknown("[unknown]")
    assert json.dumps(unwrap(value["c"])) == '{"d": "[unknown]"}'  # plans and manifests still serialise


# --------------------------------------------------------------------------------------------------
# The check catches components that only work when outputs are known
# --------------------------------------------------------------------------------------------------


class _ChildrenInApply(pulumi.ComponentResource):
    """Deliberately wrong: registers a child from inside an ``apply`` on another resource's ID."""

    def __init__(self, name: str) -> None:
        from pulumi_kubernetes.core.v1 import ConfigMap, Secret

        super().__init__("test:index:ChildrenInApply", name)
        child = pulumi.ResourceOptions(parent=self)
        token = Secret(f"{name}-token", metadata={"name": "token", "namespace": "default"}, string_data={"k": "v"}, opts=child)
        token.id.apply(lambda _: ConfigMap(f"{name}-late", metadata={"name": "late", "namespace": "default"}, opts=child))
        self.register_outputs({})


class _NameFromOutput(pulumi.ComponentResource):
    """Deliberately wrong: names an object after another resource's (computed) output."""

    def __init__(self, name: str) -> None:
        from pulumi_kubernetes.core.v1 import ConfigMap, Secret

        super().__init__("test:index:NameFromOutput", name)
        child = pulumi.ResourceOptions(parent=self)
        token = Secret(f"{name}-token", metadata={"name": "token", "namespace": "default"}, string_data={"k": "v"}, opts=child)
        ConfigMap(f"{name}-copy", metadata={"name": token.metadata.apply(lambda m: f"{m.name}-copy"), "namespace": "default"}, opts=child)
        self.register_outputs({})


def test_a_component_that_registers_inside_apply_fails_the_check() -> None:
    update, preview = both_modes(lambda: _ChildrenInApply("bad"), ({}, []))
    assert len(update.resources) == 2 and len(preview.resources) == 1
    with pytest.raises(AssertionError, match=r"missing in preview \[\('kubernetes:core/v1:ConfigMap', 'bad-late'"):
        assert_preview_matches_update(update, preview)
    # the old all-known preview would not have noticed
    _, old = both_modes(lambda: _ChildrenInApply("bad"), ({}, []), preview_unknowns=False)
    assert old.preview and not old.preview_unknowns
    assert [_key(r) for r in old.registrations] == [_key(r) for r in update.registrations]


def test_a_component_that_names_objects_after_outputs_fails_the_check() -> None:
    update, preview = both_modes(lambda: _NameFromOutput("bad"), ({}, []))
    with pytest.raises(AssertionError, match=r"bad-copy: name/namespace unknown in preview \['metadata.name'\]"):
        assert_preview_matches_update(update, preview)
    # plans and manifests of such a preview still work, and show the unknown
    (copy,) = [o for o in preview.kubernetes_objects() if o["kind"] == "ConfigMap"]
    assert is_unknown(copy["metadata"]["name"])
    assert "default/[unknown]" in plan.render_text(preview)
    assert "[unknown]" in json.dumps(plan.render_json(preview))


# --------------------------------------------------------------------------------------------------
# Every stack kind and config variant
# --------------------------------------------------------------------------------------------------


def _example(name: str) -> Config:
    config, secret_keys = load_config_file(EXAMPLES / name)
    # Run on preview-base too: its wildcard certificates need the Gateway's namespace (production ignores it).
    return {"secret-chain:gatewayNamespace": "gateway", **config}, list(secret_keys)


def _flux_token(config: Config, key: str = "flux:githubToken") -> Config:
    """The example with Flux in token mode instead of GitHub App mode."""
    values, secret_keys = config
    values = {k: v for k, v in values.items() if not k.startswith("flux:githubApp")}
    values[key] = "github_pat_" + secrets.token_hex(20) + "_" + secrets.token_hex(8)
    return values, [k for k in secret_keys if k in values] + [key]


def _variants() -> Iterator[tuple[str, str, Program]]:
    chain_on_cluster: Program = lambda: SecretChain("secret-chain", {"digitalocean_cluster": "prod-cluster"})  # noqa: E731
    for example in ("production.json", "preview.json"):
        yield f"{example}", example, main
        yield f"{example}+flux-token", example, main
    yield "production.json+flux-token-alias", "production.json", main
    yield "production.json+digitalocean-cluster", "production.json", chain_on_cluster


VARIANTS = list(_variants())


def _config(variant: str, example: str) -> Config:
    config = _example(example)
    if variant.endswith("+flux-token"):
        return _flux_token(config)
    if variant.endswith("+flux-token-alias"):
        return _flux_token(config, "secret-chain:github.token")
    return config


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize(("variant", "example", "program"), VARIANTS, ids=[v for v, _, _ in VARIANTS])
def test_every_stack_and_config_previews_like_it_updates(variant: str, example: str, program: Program, stack: str) -> None:
    update, preview = both_modes(program, _config(variant, example), stack)
    assert_preview_matches_update(update, preview)
    assert len(update.resources) >= 4
    # Every input of the chain comes from config or a provider function, both known in preview.
    assert {r.urn: r.unknown_inputs for r in preview.registrations if r.unknown_inputs} == {}
    assert preview.stack_outputs == update.stack_outputs
    assert preview.component_outputs == update.component_outputs
    flux_names = ("github-token", "github-token-preview")  # production's, preview-base's
    flux_secrets = [secret_data(r.inputs) for r in preview.of_type("kubernetes:core/v1:Secret") if r.inputs["metadata"]["name"] in flux_names]
    if stack.startswith("preview-pr-"):
        assert flux_secrets == []  # PR stacks never build Flux
    else:
        (flux_secret,) = flux_secrets
        assert ("password" in flux_secret) == ("flux-token" in variant)
    if "digitalocean-cluster" in variant:
        (provider,) = preview.of_type("pulumi:providers:kubernetes")
        kube = [r for r in preview.resources if r.type.startswith("kubernetes:")]
        # a provider the stack creates has no ID before the update, as in a real preview
        assert kube and {r.provider for r in kube} == {f"{provider.urn}::{rpc.UNKNOWN}"}
        assert not is_unknown(provider.inputs["kubeconfig"])  # from getKubernetesCluster: known


# --------------------------------------------------------------------------------------------------
# Every component with its secret inputs taken from another resource's output (unknown in preview)
# --------------------------------------------------------------------------------------------------

PEM = rsa_pem()
VALUE_PROPERTIES = ("stringData", "data", "value", "plaintextValue")
"""Where a secret input lands. Besides these, only annotations (digests of the values) may be unknown below."""


class _Source(pulumi.CustomResource):
    """A resource some other program part creates, e.g. a generated key or token."""

    def __init__(self, name: str) -> None:
        super().__init__("test:index:Source", name, {})


def _from(name: str, value: str) -> pulumi.Output[str]:
    """A secret known only once resource ``name`` exists."""
    return pulumi.Output.secret(_Source(name).id.apply(lambda _: value))


def _token(prefix: str = "ghp_") -> str:
    return prefix + secrets.token_hex(18)


COMPONENTS: dict[str, Program] = {
    "GhcrPullSecret": lambda: GhcrPullSecret("ghcr", {"namespaces": ["default", "api"], "username": "octo-bot", "token": _from("src", _token())}),
    "PrometheusAuth": lambda: PrometheusAuth("prometheus", {"namespace": "default", "token": _from("src", secrets.token_hex(32))}),
    "FluxGitCredentials-token": lambda: FluxGitCredentials(
        "flux",
        {
            "repository_url": "https://github.com/acme/cluster",
            "token": _from("src", _token()),
            "image_automation": {
                "author_name": "Image Bot",
                "author_email": "images@example.org",
                "images": [{"image": "ghcr.io/acme/api", "semver_range": "^1.4.0"}],
            },
        },
    ),
    "FluxGitCredentials-app": lambda: FluxGitCredentials(
        "flux",
        {
            "repository_url": "https://github.com/acme/cluster",
            "github_app_id": "234567",
            "github_app_installation_id": "3456789",
            "github_app_private_key": _from("src", PEM),
        },
    ),
    "CertManagerDnsIssuer": lambda: CertManagerDnsIssuer(
        "certmanager",
        {
            "email": "ops@example.com",
            "domain": "example.com",
            "token": _from("src", "dop_v1_" + secrets.token_hex(32)),
            "wildcard_hosts": ["*.pr.example.com"],
        },
    ),
    "GrafanaOAuth": lambda: GrafanaOAuth(
        "grafana",
        {
            "namespace": "monitoring",
            "domain": "example.com",
            "client_id": _from("src-id", "Ov23li" + secrets.token_hex(7)),
            "client_secret": _from("src-secret", secrets.token_hex(20)),
            "github_org": "acme",
            "admin_user": "octo-admin",
        },
    ),
    "GitHubActionsSecrets": lambda: GitHubActionsSecrets(
        "ci",
        {
            "repository": "acme/platform",
            "pulumi_auth": "stored-token-fallback",
            "pulumi_fallback_access_token": _from("src-pulumi", "pul-" + secrets.token_hex(20)),
            "app_id": "123456",
            "app_private_key": _from("src-key", PEM),
        },
    ),
    "GitHubActionsSecrets-organisation": lambda: GitHubActionsSecrets(
        "ci",
        {
            "repository": "acme/platform",
            "organization_repositories": ["platform", "cluster"],
            "app_private_key": _from("src", PEM),
        },
    ),
}


@pytest.mark.parametrize("component", sorted(COMPONENTS))
def test_every_component_previews_with_unknown_secret_inputs(component: str) -> None:
    update, preview = both_modes(COMPONENTS[component], canary_config())
    assert_preview_matches_update(update, preview)
    unknown = {r.urn: r.unknown_inputs for r in preview.resources if r.unknown_inputs}
    assert unknown, "the upstream output is unknown in preview, so some input must be"
    for urn, paths in unknown.items():
        inputs = next(r for r in preview.resources if r.urn == urn).inputs
        for path in paths:
            top = path.split(".")[0].split("[")[0]
            assert top in VALUE_PROPERTIES or ".annotations." in f".{path}", f"{urn}: {path} is unknown in preview"
            if top in VALUE_PROPERTIES:
                assert is_secret(inputs[top]), f"{urn}: {top} lost its secret marker while unknown"


# --------------------------------------------------------------------------------------------------
# Every component with its names, namespaces, domain … taken from other resources' outputs
# --------------------------------------------------------------------------------------------------


def _known_source(name: str, value: str) -> pulumi.Output[str]:
    """``value`` from another resource, known in preview too: a Namespace's ``metadata.name`` for a
    namespace field, else the echoed input of a resource (both are inputs, lifted)."""
    from pulumi_kubernetes.core.v1 import Namespace

    from tests.test_inputs import Value

    if "namespace" in name:
        return Namespace(name, metadata={"name": value}).metadata.name
    return Value(name, value).value


def _unknown_source(name: str, value: str) -> pulumi.Output[str]:
    """``value`` known only once resource ``name`` exists: unknown in preview."""
    return _Source(name).id.apply(lambda _: value)


def _fed_program(case: str, source: Callable[[str, str], pulumi.Output[str]]) -> Program:
    from tests.test_inputs import CASES, fed

    cls, args, fields = CASES[case]
    return lambda: cls("c", fed(args, fields, source))


def _plain_program(case: str) -> Program:
    from tests.test_inputs import CASES

    cls, args, _ = CASES[case]
    return lambda: cls("c", args)


def _fed_cases() -> list[str]:
    from tests.test_inputs import CASES

    return sorted(CASES)


def _plain_name(case: str, name: str) -> str:
    """The logical name the same child has when every value is plain (GhcrPullSecret's per-namespace
    children are named by position when their namespace is an Output)."""
    from tests.test_inputs import CASES

    found = re.fullmatch(r"c-namespaces\[(\d+)\](.*)", name)
    return f"c-{CASES[case][1]['namespaces'][int(found.group(1))]}{found.group(2)}" if found else name


def _owned(ev: Evaluation) -> list[Registration]:
    """What the component registered: its children (and itself), not the resources feeding it."""
    feeding = ("pulumi:pulumi:Stack", "kubernetes:core/v1:Namespace", "test:index:Value", "test:index:Source")
    return [r for r in ev.registrations if r.type not in feeding]


def _assert_secrets_kept(update: Evaluation, preview: Evaluation) -> None:
    by_preview = {r.urn: r for r in preview.registrations}
    for up in _owned(update):
        if not up.custom or "Variable" in up.type:  # an Actions variable's value is not secret
            continue
        if up.type == "kubernetes:core/v1:ConfigMap":  # holds no secret (GrafanaOAuth's alerting file; leak scans check)
            continue
        for key in VALUE_PROPERTIES:
            if key in up.inputs:
                assert is_secret(up.inputs[key]), f"{up.urn}: {key} is not secret"
                assert is_secret(by_preview[up.urn].inputs[key]), f"{up.urn}: {key} lost its secret marker in preview"


@pytest.mark.parametrize("case", _fed_cases())
def test_every_component_fed_from_other_resources_previews_like_it_updates(case: str) -> None:
    config = canary_config()
    config[0]["github:owner"] = "acme"
    update, preview = both_modes(_fed_program(case, _known_source), config)
    assert_preview_matches_update(update, preview)
    _assert_secrets_kept(update, preview)
    # The same inputs, secret markers included, as the same component given plain values; only what an
    # invoke returns may be unknown (an invoke whose inputs wait for a resource that does not exist yet
    # answers unknown in preview: pulumi/runtime/invoke.py `_invoke`).
    _, plain = both_modes(_plain_program(case), config)
    by_plain = {r.name: r for r in _owned(plain)}
    fed_preview = {_plain_name(case, r.name): r for r in _owned(preview)}
    assert sorted(by_plain) == sorted(fed_preview)
    for name, reg in fed_preview.items():
        assert _agrees(reg.inputs, by_plain[name].inputs), f"{name}: inputs differ from the plain values' preview"
        assert all(p.endswith(("dnsZones", "selectedRepositoryIds")) for p in reg.unknown_inputs), (name, reg.unknown_inputs)
    # Each Kubernetes object in a namespace the program creates depends on that Namespace.
    namespaces: dict[str, set[str]] = {}
    for ns in preview.of_type("kubernetes:core/v1:Namespace"):
        namespaces.setdefault(ns.inputs["metadata"]["name"], set()).add(ns.urn)
    objects = [r for r in _owned(preview) if r.custom and r.type.startswith("kubernetes:")]
    checked = [r for r in objects if r.inputs["metadata"].get("namespace") in namespaces]
    assert checked or not namespaces or case.startswith("GitHubActionsSecrets"), "some object lives in a namespace the program creates"
    for reg in checked:
        assert namespaces[reg.inputs["metadata"]["namespace"]] & set(reg.dependencies), f"{reg.urn} does not depend on its Namespace"


@pytest.mark.parametrize("case", _fed_cases())
def test_every_component_fed_from_unknown_outputs_registers_the_same_resources_in_preview(case: str) -> None:
    config = canary_config()
    config[0]["github:owner"] = "acme"
    update, preview = both_modes(_fed_program(case, _unknown_source), config)
    # Names may be unknown here (the values are), so not assert_preview_matches_update's identity check:
    assert [r.urn for r in update.registrations if r.unknown_inputs] == []
    assert sorted(_key(r) for r in preview.registrations) == sorted(_key(r) for r in update.registrations)
    by_preview = {r.urn: r for r in preview.registrations}
    sources = {r.urn for r in update.of_type("test:index:Source")}
    for up in update.registrations:
        pre = by_preview[up.urn]
        assert pre.dependencies == up.dependencies, f"{up.urn}: dependencies differ"
        assert _agrees(pre.inputs, up.inputs), f"{up.urn}: known preview inputs differ from update"
    assert sources <= {d for r in _owned(preview) for d in r.dependencies}, "every source feeds some child"
    assert any(r.unknown_inputs for r in _owned(preview) if r.custom), "the values are unknown in preview"
    _assert_secrets_kept(update, preview)
