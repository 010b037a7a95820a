"""One test per rule of the simulated world (tests/world.py) and of the workflow runner (tests/runner.py).

Each test names the upstream file or page the rule follows; the world's code cites the same source next to the rule.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from secret_chain.ops.offline import Evaluation, Registration
from tests.runner import condition, evaluate, interpolate, parse_env_file
from tests.world import (
    DAY,
    SECRET_SIG,
    SIG_KEY,
    Engine,
    EscError,
    GitHubApp,
    InstallationToken,
    PulumiCli,
    StackState,
    StateResource,
    World,
    WorldError,
    _parse_args,
    object_key,
)

REPO = "acme/platform"
PROD, PREVIEW = "acme/secret-chain/production", "acme/secret-chain/preview-base"


@pytest.fixture
def world() -> World:
    w = World(now=1_800_000_000.0)
    w.github.repositories.add(REPO)
    w.github.tokens["ghp_world"] = "acme"
    w.digitalocean.tokens.add("dop_v1_world")
    w.add_cluster("acme-prod", namespaces=("default", "monitoring"))
    return w


def kubeconfig(world: World, expiry: float = 0) -> str:
    return world.digitalocean.kubeconfig("dop_v1_world", world.digitalocean.cluster_id("acme-prod"), world.now, expiry)


def secret(name: str, namespace: str = "default", value: str = "v") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace}, "stringData": {"k": value}}


# --- GitHub ----------------------------------------------------------------------------------------------------------


def test_creating_a_variable_whose_name_exists_is_a_409(world: World) -> None:
    """terraform-provider-github github/resource_github_actions_variable.go: Create is ``CreateRepoVariable`` (a POST);
    GitHub REST "Create a repository variable": an existing name is 409 Conflict. A second stack is recorded."""
    world.github.create_variable(("repo", REPO), "PULUMI_ORG", "acme", PROD, world)
    with pytest.raises(WorldError, match="409 Conflict"):
        world.github.create_variable(("repo", REPO), "pulumi_org", "acme", PREVIEW, world)  # names are case-insensitive
    assert [(v.what, v.owner, v.second) for v in world.violations] == [("variable pulumi_org (repo/acme/platform)", PROD, PREVIEW)]


def test_a_secret_is_a_put_so_a_second_writer_is_refused_as_a_second_owner(world: World) -> None:
    """terraform-provider-github github/resource_github_actions_secret.go: Create is ``CreateOrUpdateRepoSecret`` (a PUT):
    GitHub would silently overwrite; the world records the second owner and refuses. The owner itself updates."""
    world.github.put_secret(("repo", REPO), "APP_PRIVATE_KEY", "one", PROD, world)
    world.github.put_secret(("repo", REPO), "APP_PRIVATE_KEY", "two", PROD, world)
    assert world.github.secrets[(("repo", REPO), "APP_PRIVATE_KEY")].value == "two"
    with pytest.raises(WorldError, match="second owner"):
        world.github.put_secret(("repo", REPO), "APP_PRIVATE_KEY", "three", PREVIEW, world)
    assert len(world.violations) == 1 and world.github.secrets[(("repo", REPO), "APP_PRIVATE_KEY")].value == "two"


def test_environment_scoped_entries_need_the_environment(world: World) -> None:
    """GitHub REST "Create an environment variable" / "Create or update an environment secret": the path names an
    environment; a missing one is 404 Not Found."""
    with pytest.raises(WorldError, match="404"):
        world.github.create_variable(("env", REPO, "production"), "APP_ID", "1", PROD, world)
    world.github.put_environment(REPO, "production", PROD, world)
    world.github.create_variable(("env", REPO, "production"), "APP_ID", "1", PROD, world)


def test_environments_are_put_and_deleting_one_deletes_its_entries(world: World) -> None:
    """resource_github_repository_environment.go: Create is ``CreateUpdateEnvironment`` (a PUT): a second stack would take
    the environment over (refused, recorded). GitHub docs, "Deleting an environment will delete all secrets ... associated"."""
    world.github.put_environment(REPO, "preview", PREVIEW, world)
    world.github.put_secret(("env", REPO, "preview"), "APP_PRIVATE_KEY", "k", PREVIEW, world)
    with pytest.raises(WorldError, match="second owner"):
        world.github.put_environment(REPO, "preview", PROD, world)
    world.github.delete_environment(REPO, "preview", PREVIEW, world)
    assert not world.github.secrets


def test_a_job_sees_environment_values_over_repository_over_organisation(world: World) -> None:
    """GitHub docs, "Store information in variables" → precedence: the lowest level wins (environment, repository,
    organisation); environment values only in a job that declares the environment."""
    world.github.create_variable(("org", "acme"), "X", "org", "o", world)
    world.github.create_variable(("repo", REPO), "X", "repo", "r", world)
    world.github.put_environment(REPO, "preview", "e", world)
    world.github.create_variable(("env", REPO, "preview"), "X", "env", "e", world)
    assert world.github.visible("variable", REPO, None) == {"X": "repo"}
    assert world.github.visible("variable", REPO, "preview") == {"X": "env"}


# --- ESC -------------------------------------------------------------------------------------------------------------

BASE_YAML = """
values:
  pulumiConfig:
    namespace:imagePullSecret:
      username: bot
      token:
        fn::secret: ghp_x
    grafana:githubOrg: acme
"""
PR_YAML = """
values:
  pulumiConfig:
    namespace:imagePullSecret: ${environments.secret-chain.Base.pulumiConfig["namespace:imagePullSecret"]}
    grafana:githubOrg: ${environments.secret-chain.Base.pulumiConfig["grafana:githubOrg"]}
    url: https://${environments.secret-chain.Base.pulumiConfig["grafana:githubOrg"]}.example
"""


@pytest.fixture
def esc(world: World) -> World:
    world.esc.create("acme/secret-chain/Base", BASE_YAML)
    world.esc.create("acme/secret-chain/Production", "imports: [secret-chain/Base]\nvalues:\n  pulumiConfig:\n    grafana:githubOrg: acme-prod\n")
    world.esc.create("acme/secret-chain/PullRequest", PR_YAML)
    return world


def test_open_merges_imports_then_own_values_and_resolves_implicit_imports(esc: World) -> None:
    """Pulumi docs, ESC "Importing other environments" (imports merged in order, own values last; implicit imports
    ``${environments.<project>.<env>.…}``); pulumi/esc ast/expr.go: one ``${…}`` keeps the value's type, text around
    makes a string; ``fn::secret`` stays secret."""
    production = esc.esc.pulumi_config(["acme/secret-chain/Production"])
    assert production["grafana:githubOrg"] == ("acme-prod", False)
    assert production["namespace:imagePullSecret"] == ({"username": "bot", "token": "ghp_x"}, True)
    pr = esc.esc.pulumi_config(["acme/secret-chain/PullRequest"])
    assert pr["namespace:imagePullSecret"] == ({"username": "bot", "token": "ghp_x"}, True)
    assert pr["url"] == ("https://acme.example", False)


def test_env_set_through_an_interpolated_node_fails(esc: World) -> None:
    """pulumi/esc cmd/esc/cli/env_set.go ``yamlNode.set`` (and syntax/encoding/yaml.go ``YAMLSyntax.Set``): a path that
    goes through a scalar, here the interpolation string, is ``<path>: expected an array or an object``; the path is
    printed as resource.PropertyPath.String does."""
    with pytest.raises(EscError, match=r'pulumiConfig\["namespace:imagePullSecret"\]\.token: expected an array or an object'):
        esc.esc.set("acme/secret-chain/PullRequest", "pulumiConfig.namespace:imagePullSecret.token", "ghp_new", secret=True)


def test_env_set_naming_an_interpolation_exactly_replaces_it_and_is_recorded(esc: World) -> None:
    """env_set.go ``set`` with an empty remaining path replaces the node, whatever it was: the PR environment gets its own
    copy instead of Base's value, silently; the world records it."""
    esc.esc.set("acme/secret-chain/PullRequest", "pulumiConfig.grafana:githubOrg", "someone-else")
    assert esc.esc.pulumi_config(["acme/secret-chain/PullRequest"])["grafana:githubOrg"] == ("someone-else", False)
    assert esc.esc.replaced_interpolations == [
        ("acme/secret-chain/PullRequest", "pulumiConfig.grafana:githubOrg", '${environments.secret-chain.Base.pulumiConfig["grafana:githubOrg"]}')
    ]


def test_env_set_reads_the_value_as_yaml(esc: World) -> None:
    """env_set.go: "The value is interpreted as YAML": a multi-line plain value folds into one line; a literal block keeps
    its lines; --secret wraps it in fn::secret."""
    pem = "-----BEGIN KEY-----\nAAAA\n-----END KEY-----"
    esc.esc.set("acme/secret-chain/Base", "pulumiConfig.key", pem, secret=True)
    assert esc.esc.pulumi_config(["acme/secret-chain/Base"])["key"] == ("-----BEGIN KEY----- AAAA -----END KEY-----", True)
    esc.esc.set("acme/secret-chain/Base", "pulumiConfig.key", "|\n" + "".join(f"  {line}\n" for line in pem.splitlines()), secret=True)
    assert esc.esc.pulumi_config(["acme/secret-chain/Base"])["key"] == (pem + "\n", True)


def test_a_value_starting_with_dashes_must_follow_the_flag_terminator() -> None:
    """spf13/pflag flag.go ``parseLongArg``: an argument "--" followed by "-" is "bad flag syntax"; after "--" every
    argument is positional."""
    from tests.world import CliError

    with pytest.raises(CliError, match="bad flag syntax"):
        _parse_args(["env", "set", "e", "p", "-----BEGIN KEY-----", "--secret"])
    assert _parse_args(["env", "set", "e", "p", "--secret", "--", "-----BEGIN KEY-----"]) == (
        ["env", "set", "e", "p", "-----BEGIN KEY-----"],
        {"secret": True},
    )


def test_env_rm_removes_a_node(esc: World) -> None:
    """pulumi/esc cmd/esc/cli/env_rm.go (``yamlNode.delete``)."""
    esc.esc.remove("acme/secret-chain/Base", "pulumiConfig.grafana:githubOrg")
    assert "grafana:githubOrg" not in esc.esc.pulumi_config(["acme/secret-chain/Base"])


def test_creating_an_environment_that_exists_fails(esc: World) -> None:
    """pulumi-pulumiservice provider/pkg/resources/environment.go ``Create``: ``CreateEnvironmentWithProject`` first, its
    error (409) returned before any YAML is pushed."""
    with pytest.raises(EscError, match="409"):
        esc.esc.create("acme/secret-chain/Base", "values: {}")


# --- Kubernetes ------------------------------------------------------------------------------------------------------


def test_a_create_in_a_missing_or_terminating_namespace_fails(world: World) -> None:
    """kubernetes plugin/pkg/admission/namespace/lifecycle/admission.go: NotFound for a missing namespace, Forbidden
    "unable to create new content in namespace x because it is being terminated" for a terminating one."""
    cluster = world.cluster("acme-prod")
    with pytest.raises(WorldError) as missing:
        cluster.create(secret("s", "preview-pr-7"), PROD, world)
    assert (missing.value.status, missing.value.message) == ("NotFound", 'namespaces "preview-pr-7" not found')
    cluster.objects[("core/Namespace", "", "monitoring")].terminating = True
    with pytest.raises(WorldError) as terminating:
        cluster.create(secret("s", "monitoring"), PROD, world)
    assert (terminating.value.status, terminating.value.message) == (
        "Forbidden",
        'secrets "s" is forbidden: unable to create new content in namespace monitoring because it is being terminated',
    )


def test_a_create_of_an_existing_object_is_already_exists_and_a_second_owner_is_recorded(world: World) -> None:
    """pulumi-kubernetes provider/pkg/await/await.go ``Creation``: a plain create (POST) unless upsertExistingObjects; the
    API server answers 409 AlreadyExists."""
    cluster = world.cluster("acme-prod")
    cluster.create(secret("ghcr"), PROD, world)
    with pytest.raises(WorldError) as exists:
        cluster.create(secret("ghcr"), PREVIEW, world)
    assert (exists.value.status, exists.value.message) == ("AlreadyExists", 'secrets "ghcr" already exists')
    assert [v.second for v in world.violations] == [PREVIEW]
    certificate = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "dup", "namespace": "default"}}
    cluster.create(certificate, PROD, world)
    with pytest.raises(WorldError) as crd:
        cluster.create(certificate, PROD, world)
    assert crd.value.message == 'certificates.cert-manager.io "dup" already exists'


def test_an_update_or_delete_by_a_stack_that_does_not_own_the_object_fails(world: World) -> None:
    """The world's ownership rule (DESIGN.md "every object has exactly one owner"): recorded and refused."""
    cluster = world.cluster("acme-prod")
    key = cluster.create(secret("ghcr"), PROD, world)
    with pytest.raises(WorldError, match="second owner"):
        cluster.update(key, secret("ghcr", value="x"), PREVIEW, world)
    with pytest.raises(WorldError, match="second owner"):
        cluster.delete(key, PREVIEW, world)
    assert key in cluster.objects


def test_deleting_a_namespace_deletes_everything_in_it_and_cluster_scoped_kinds_ignore_namespace(world: World) -> None:
    """Kubernetes docs, "Namespaces": deleting a namespace deletes everything in it (the namespace controller's deleter);
    a cluster-scoped kind (ClusterIssuer: ``scope: Cluster`` in cert-manager's CRD) has no namespace."""
    cluster = world.cluster("acme-prod")
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "preview-pr-7"}}, "pr7", world)
    cluster.create(secret("a", "preview-pr-7"), "pr7", world)
    cluster.create(secret("b", "default"), PROD, world)
    cluster.delete(("core/Namespace", "", "preview-pr-7"), "pr7", world)
    assert [k for k in cluster.objects if k[1] == "preview-pr-7"] == []
    assert ("core/Secret", "default", "b") in cluster.objects
    issuer = {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": "le", "namespace": "x"}}
    assert object_key(issuer) == ("cert-manager.io/ClusterIssuer", "", "le")


def test_the_cluster_is_unreachable_without_credentials_and_with_an_expired_kubeconfig(world: World) -> None:
    """pulumi-kubernetes provider/pkg/provider/provider.go: no kubeconfig, or one the API server refuses, makes every
    operation fail with "configured Kubernetes cluster is unreachable". DigitalOcean API "Retrieve the kubeconfig for a
    Kubernetes cluster": the token expires after expiry_seconds, 7 days when unset."""
    with pytest.raises(WorldError, match="configured Kubernetes cluster is unreachable"):
        world.kube_access(None)
    text = kubeconfig(world)
    assert world.kube_access(text).name == "acme-prod"
    world.advance(7 * DAY - 1)
    assert world.kube_access(text).name == "acme-prod"
    world.advance(2)
    with pytest.raises(WorldError, match="configured Kubernetes cluster is unreachable"):
        world.kube_access(text)
    short = kubeconfig(world, expiry=60)
    world.advance(61)
    with pytest.raises(WorldError, match="unreachable"):
        world.kube_access(short)


def test_get_kubernetes_cluster_needs_a_valid_token_and_returns_a_fresh_kubeconfig(world: World) -> None:
    """The ``digitalocean:index/getKubernetesCluster`` invoke (pulumi-digitalocean): 401 without a valid token; its
    ``kubeConfigs[0].rawConfig`` reaches the cluster."""
    with pytest.raises(WorldError, match="401"):
        world.invokes({}, {})["digitalocean:index/getKubernetesCluster:getKubernetesCluster"]({"name": "acme-prod"})
    found = world.invokes({"digitalocean:token": "dop_v1_world"}, {})["digitalocean:index/getKubernetesCluster:getKubernetesCluster"](
        {"name": "acme-prod"}
    )
    assert world.kube_access(found["kubeConfigs"][0]["rawConfig"]).name == "acme-prod"


# --- The engine ------------------------------------------------------------------------------------------------------


def reg(urn_name: str, type_: str, inputs: dict[str, Any], *, provider: str = "", deps: tuple[str, ...] = (), retain: bool = False) -> Registration:
    urn = f"urn:pulumi:s::p::{type_}::{urn_name}"
    return Registration(type_, urn_name, urn, "", True, inputs, deps, False, provider, retain_on_delete=retain)


def provider_reg(world: World, kubeconfig_text: str) -> Registration:
    return reg("cluster", "pulumi:providers:kubernetes", {"kubeconfig": kubeconfig_text, "enableSecretMutable": "true"})


def evaluation(*regs: Registration) -> Evaluation:
    return Evaluation(stack="s", preview=False, registrations=list(regs))


def test_up_creates_updates_and_deletes_in_reverse_order_and_honours_retain_on_delete(world: World) -> None:
    """pulumi/pulumi pkg/resource/deploy/step_generator.go: by URN a create, update or same; what the program no longer
    registers is deleted, dependents first; ``retainOnDelete`` drops it from the state and leaves the object."""
    stack = StackState("acme", "p", "s")
    engine = Engine(world, {})
    prov = provider_reg(world, kubeconfig(world))
    ref = f"{prov.urn}::id"
    ns = reg("ns", "kubernetes:core/v1:Namespace", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}}, provider=ref)
    a = reg("a", "kubernetes:core/v1:Secret", secret("a", "app"), provider=ref, deps=(ns.urn,))
    kept = reg("kept", "kubernetes:core/v1:Secret", secret("kept", "default"), provider=ref, retain=True)
    assert engine.up(stack, evaluation(prov, ns, a, kept), config={}).ok
    changed = reg("a", "kubernetes:core/v1:Secret", secret("a", "app", value="new"), provider=ref, deps=(ns.urn,))
    result = engine.up(stack, evaluation(prov, ns, changed, kept), config={})
    assert result.changes["update"] == [a.urn]  # enableSecretMutable: in place
    result = engine.up(stack, evaluation(prov), config={})
    assert result.ok and result.changes["delete"] == [kept.urn, a.urn, ns.urn]
    assert ("core/Secret", "default", "kept") in world.cluster("acme-prod").objects
    assert ("core/Namespace", "", "app") not in world.cluster("acme-prod").objects


def test_destroy_configures_providers_from_the_state_unless_the_program_runs(world: World) -> None:
    """pulumi/pulumi pkg/cmd/pulumi/operations/destroy.go (pulumi/pulumi#19044): without --run-program the providers are
    configured from the inputs stored in the state, so a kubeconfig stored 8 days ago (expired) fails the destroy; with the
    program's providers (a kubeconfig fetched now) it succeeds."""
    stack = StackState("acme", "p", "s")
    engine = Engine(world, {})
    prov = provider_reg(world, kubeconfig(world))
    a = reg("a", "kubernetes:core/v1:Secret", secret("a"), provider=f"{prov.urn}::id")
    assert engine.up(stack, evaluation(prov, a), config={}).ok
    world.advance(8 * DAY)
    failed = engine.destroy(stack)
    assert not failed.ok and "configured Kubernetes cluster is unreachable" in failed.error
    assert engine.destroy(stack, {prov.urn: {"kubeconfig": kubeconfig(world)}}).ok
    assert ("core/Secret", "default", "a") not in world.cluster("acme-prod").objects


def test_the_default_provider_uses_the_ambient_kubeconfig(world: World, tmp_path: Path) -> None:
    """pulumi-kubernetes provider.go: with no ``kubeconfig`` the provider loads the ambient configuration ($KUBECONFIG,
    client-go's clientcmd loading rules); with neither, the cluster is unreachable."""
    stack = StackState("acme", "p", "s")
    a = reg("a", "kubernetes:core/v1:Secret", secret("a"))
    result = Engine(world, {}).up(stack, evaluation(a), config={})
    assert not result.ok and "unreachable" in result.error
    path = tmp_path / "kubeconfig"
    path.write_text(kubeconfig(world))
    assert Engine(world, {"KUBECONFIG": str(path)}).up(StackState("acme", "p", "s"), evaluation(a), config={}).ok


def test_refresh_finds_a_github_secret_rewritten_by_someone_else(world: World) -> None:
    """terraform-provider-github resource_github_actions_secret.go ``Read``: "a drift detection mechanism based on
    timestamps": a secret whose updated_at changed is drift."""
    stack = StackState("acme", "p", "s")
    engine = Engine(world, {})
    s = reg("k", "github:index/actionsSecret:ActionsSecret", {"repository": "platform", "secretName": "APP_PRIVATE_KEY", "value": "k"})
    assert engine.up(stack, evaluation(s), config={"github:token": "ghp_world", "github:owner": "acme"}).ok
    assert engine.refresh(stack).changes["update"] == []
    world.advance(60)
    world.github.secrets[(("repo", REPO), "APP_PRIVATE_KEY")].updated_at = world.now
    assert engine.refresh(stack).changes["update"] == [s.urn]


def test_the_oidc_exchange_allows_only_the_policy_subjects(world: World) -> None:
    """Pulumi docs, "OIDC issuers" (authorization policies on aud and sub) and GitHub docs, "OpenID Connect reference":
    a job with ``environment:`` has the subject ``repo:<repo>:environment:<name>``, not ``…:pull_request``."""
    from tests.world import OidcIssuer

    policy = {"decision": "allow", "tokenType": "organization", "rules": {"aud": "urn:pulumi:org:acme", "sub": f"repo:{REPO}:pull_request"}}
    world.cloud.issuers[("acme", "github-actions")] = OidcIssuer("acme", "https://token.actions.githubusercontent.com", [policy], 3600, "b")
    token = world.cloud.exchange("acme", f"repo:{REPO}:pull_request", "organization", "", 1800, world.now)
    world.cloud.check_token(token, "acme", world.now)
    with pytest.raises(WorldError, match="no authorization policy"):
        world.cloud.exchange("acme", f"repo:{REPO}:environment:preview", "organization", "", 1800, world.now)
    world.advance(1801)
    with pytest.raises(WorldError, match="expired"):
        world.cloud.check_token(token, "acme", world.now)


def test_the_pulumi_cli_stand_in_merges_esc_under_the_stack_file(esc: World, tmp_path: Path) -> None:
    """Pulumi docs, ESC "Use with Pulumi IaC": the stack file's environments merged in order, the stack file's own config
    over them; ``pulumi config --json`` prints each key as config.go's ``configValueJSON``."""
    (tmp_path / "Pulumi.yaml").write_text("name: secret-chain\nruntime: python\n")
    (tmp_path / "Pulumi.production.yaml").write_text(
        yaml.safe_dump({"environment": ["secret-chain/Production"], "config": {"grafana:githubOrg": "stack"}})
    )
    esc.cloud.tokens["pul-x"] = ("acme", esc.now + 100)
    esc.cloud.stacks["acme/secret-chain/production"] = StackState("acme", "secret-chain", "production")
    out: list[str] = []
    cli = PulumiCli(esc, tmp_path, {"PULUMI_ACCESS_TOKEN": "pul-x"}, out.append, out.append)
    assert cli.run(["config", "--show-secrets", "--json", "--stack", "acme/production"]) == 0
    document = json.loads(out[0])
    assert document["grafana:githubOrg"] == {"value": "stack", "secret": False}
    assert document["namespace:imagePullSecret"]["secret"] is True
    assert document["namespace:imagePullSecret"]["objectValue"] == {"username": "bot", "token": "ghp_x"}


def test_stack_rm_refuses_a_stack_with_resources(world: World, tmp_path: Path) -> None:
    """pulumi/pulumi pkg/cmd/pulumi/stack/stack_rm.go: "still has resources; removal rejected" unless --force."""
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    world.cloud.tokens["pul-x"] = ("acme", world.now + 100)
    stack = StackState("acme", "p", "s")
    stack.resources["u"] = StateResource("u", "kubernetes:core/v1:Secret", True, {}, "", (), "", False, "", "")
    world.cloud.stacks[stack.fqn] = stack
    err: list[str] = []
    assert PulumiCli(world, tmp_path, {"PULUMI_ACCESS_TOKEN": "pul-x"}, print, err.append).run(["stack", "rm", "--yes", "acme/s"]) != 0
    assert "removal rejected" in err[0]


# --- The runner's expressions and environment files ------------------------------------------------------------------


def test_expressions_follow_githubs_operators_and_functions() -> None:
    """GitHub docs, "Evaluate expressions in workflows and actions": loose equality (strings ignore case), && and || return
    an operand, format() with {n} and {{ }}, missing properties are null (the empty string in text)."""
    contexts = {"vars": {"PULUMI_TOKEN_TYPE": "Team", "PULUMI_TEAM": "ops"}, "github": {"event": {"pull_request": {"number": 7}}}}
    assert evaluate("vars.PULUMI_TOKEN_TYPE == 'team' && format('team:{0}', vars.PULUMI_TEAM) || ''", contexts) == "team:ops"
    assert evaluate("vars.MISSING || 'organization'", contexts) == "organization"
    assert interpolate("preview-pr-${{ github.event.pull_request.number }}${{ vars.NONE }}", contexts) == "preview-pr-7"
    assert evaluate("format('{{{0}}}', 1)", contexts) == "{1}"
    assert evaluate("!(1 == '1')", contexts) is False


def test_a_condition_without_a_status_function_means_success_and() -> None:
    """Workflow syntax, ``steps[*].if``: without success(), failure(), always() or cancelled() the condition is
    ``success() && (…)``."""
    failed = {"success": False, "failure": True, "cancelled": False}
    assert condition("vars.X != 'y'", {"vars": {}}, failed) is False
    assert condition("${{ !cancelled() }}", {}, failed) is True
    assert condition(None, {}, failed) is False


def test_environment_files_take_single_and_multiline_values() -> None:
    """GitHub docs, "Workflow commands for GitHub Actions" → environment files: ``NAME=value`` and ``NAME<<DELIMITER``."""
    assert parse_env_file("A=1\nB<<EOF\nx\ny\nEOF\nC=a=b\n") == {"A": "1", "B": "x\ny", "C": "a=b"}


def test_app_tokens_need_the_apps_key(world: World, tmp_path: Path) -> None:
    """actions/create-github-app-token: the App's JWT is signed with its private key; a wrong key is refused (GitHub docs,
    "Authenticating as a GitHub App installation")."""
    from tests.runner import Runner

    world.github.apps["1"] = GitHubApp("1", "KEY", "ci", {"acme"})
    path = tmp_path / "w.pickle"
    world.save(path)
    runner = Runner(path, REPO, tmp_path)
    assert runner._app_token({"app-id": "1", "private-key": "OTHER"}, [])[0] == "failure"
    outcome, _, outputs, _, _ = runner._app_token({"app-id": "1", "private-key": "KEY"}, [])
    assert outcome == "success" and World.load(path).github.tokens[outputs["token"]] == "acme"


# --- Replacements, upserts and two stacks holding one object ---------------------------------------------------------


def _secret_reg(name: str, ref: str, *, retain: bool = False, urn_name: str = "s") -> Registration:
    return reg(urn_name, "kubernetes:core/v1:Secret", secret(name), provider=ref, retain=retain)


def test_a_renamed_object_is_replaced_create_before_delete_and_the_old_states_retain_flag_decides(world: World) -> None:
    """pulumi-kubernetes provider.go ``Diff``: delete-before-replace only when the name and namespace stay; otherwise
    the engine creates the new object and deletes the old one after every create (step_generator.go, ``GenerateDeletes``);
    the delete reads the OLD state's retainOnDelete (step.go ``DeleteStep.Apply``), not the new program's."""
    stack = StackState("acme", "p", "s")
    engine = Engine(world, {})
    prov = provider_reg(world, kubeconfig(world))
    ref = f"{prov.urn}::id"
    cluster = world.cluster("acme-prod")
    assert engine.up(stack, evaluation(prov, _secret_reg("a", ref)), config={}).ok
    cluster.create(secret("b"), "someone else", world)  # the new name is taken: the create fails before any delete
    failed = engine.up(stack, evaluation(prov, _secret_reg("b", ref)), config={})
    assert not failed.ok and "already exists" in failed.error and ("core/Secret", "default", "a") in cluster.objects
    cluster.objects.pop(("core/Secret", "default", "b"))
    world.violations.clear()
    result = engine.up(stack, evaluation(prov, _secret_reg("b", ref, retain=True)), config={})
    assert result.ok and result.changes["replace"] == ["urn:pulumi:s::p::kubernetes:core/v1:Secret::s"]
    assert ("core/Secret", "default", "a") not in cluster.objects  # the old state did not retain it
    assert engine.up(stack, evaluation(prov, _secret_reg("c", ref)), config={}).ok
    assert ("core/Secret", "default", "b") in cluster.objects  # now the old state retained it: dropped, not deleted


def test_an_upsert_takes_over_an_existing_object_only_without_conflicts_or_with_force(world: World) -> None:
    """pulumi-kubernetes await.go ``Creation``: with server-side apply (default on) and upsertExistingObjects a create
    is an apply; Kubernetes docs, "Server-Side Apply" → conflicts: another manager's field set to another value fails
    unless forced. The world records the second holder, who may then update and delete the live object."""
    cluster = world.cluster("acme-prod")
    cluster.create(secret("shared", value="production's"), PROD, world)
    with pytest.raises(WorldError) as conflict:
        cluster.create(secret("shared", value="preview's"), PREVIEW, world, upsert=True)
    assert conflict.value.status == "Conflict" and ".stringData.k" in conflict.value.message
    cluster.create(secret("shared", value="preview's"), PREVIEW, world, upsert=True, force=True)
    obj = cluster.objects[("core/Secret", "default", "shared")]
    assert (obj.owner, obj.holders, obj.manifest["stringData"]) == (PROD, {PREVIEW}, {"k": "preview's"})
    assert [(v.owner, v.second) for v in world.violations] == [(PROD, PREVIEW)]
    cluster.delete(("core/Secret", "default", "shared"), PREVIEW, world)  # the API server deletes it: production's
    assert ("core/Secret", "default", "shared") not in cluster.objects and len(world.violations) == 2


def test_the_engine_upserts_with_the_providers_flags(world: World) -> None:
    """provider.go ``Configure``: upsertExistingObjects and enablePatchForce from the provider's config, else
    PULUMI_K8S_UPSERT_EXISTING_OBJECTS / PULUMI_K8S_ENABLE_PATCH_FORCE; without them a create of an existing object is
    AlreadyExists."""
    world.cluster("acme-prod").create(secret("a", value="other"), PROD, world)
    prov = provider_reg(world, kubeconfig(world))
    ev = evaluation(prov, _secret_reg("a", f"{prov.urn}::id"))
    assert "already exists" in Engine(world, {}).up(StackState("acme", "p", "s"), ev, config={}).error
    env = {"PULUMI_K8S_UPSERT_EXISTING_OBJECTS": "true", "PULUMI_K8S_ENABLE_PATCH_FORCE": "true"}
    assert Engine(world, env).up(StackState("acme", "p", "s"), ev, config={}).ok
    assert world.cluster("acme-prod").objects[("core/Secret", "default", "a")].holders == {"acme/p/s"}


# --- stack export / import ---------------------------------------------------------------------------------------------


def _cli(world: World, tmp_path: Path, out: list[str]) -> PulumiCli:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    world.cloud.tokens["pul-x"] = ("acme", world.now + 100)
    return PulumiCli(world, tmp_path, {"PULUMI_ACCESS_TOKEN": "pul-x"}, out.append, out.append)


def _deployed(world: World) -> tuple[StackState, Registration]:
    stack = StackState("acme", "p", "s")
    world.cloud.stacks[stack.fqn] = stack
    prov = provider_reg(world, kubeconfig(world))
    ns = reg("ns", "kubernetes:core/v1:Namespace", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}}, provider=f"{prov.urn}::id")
    inputs = {**secret("a", "app"), "stringData": {SIG_KEY: SECRET_SIG, "value": {"k": "v"}}}  # a secret input
    a = reg("a", "kubernetes:core/v1:Secret", inputs, provider=f"{prov.urn}::id", deps=(ns.urn,))
    assert Engine(world, {}).up(stack, evaluation(prov, ns, a), config={}).ok
    return stack, a


def test_stack_export_writes_ids_provider_references_and_encrypted_secrets(world: World, tmp_path: Path) -> None:
    """pulumi/pulumi apitype ``ResourceV3`` (``id``; ``provider`` as ``<urn>::<id>``; empty fields omitted);
    pulumi-kubernetes ``fqObjName``: ``namespace/name`` or ``name``; deployment.go: a secret is its signature and
    ``ciphertext``, with --show-secrets ``plaintext``."""
    _deployed(world)
    out: list[str] = []
    cli = _cli(world, tmp_path, out)
    assert cli.run(["stack", "export", "--stack", "acme/s"]) == 0
    resources = {r["urn"].rsplit("::", 1)[1]: r for r in json.loads(out[-1])["deployment"]["resources"]}
    assert resources["ns"]["id"] == "app" and resources["a"]["id"] == "app/a"
    provider = resources["cluster"]
    assert resources["a"]["provider"] == f"{provider['urn']}::{provider['id']}" and "parent" not in resources["a"]
    encrypted = resources["a"]["inputs"]["stringData"]
    assert set(encrypted) == {SIG_KEY, "ciphertext"} and encrypted[SIG_KEY] == SECRET_SIG and "plaintext" not in out[-1]
    assert cli.run(["stack", "export", "--show-secrets", "--stack", "acme/s"]) == 0
    shown = {r["urn"].rsplit("::", 1)[1]: r for r in json.loads(out[-1])["deployment"]["resources"]}["a"]["inputs"]["stringData"]
    assert shown == {SIG_KEY: SECRET_SIG, "plaintext": '{"k": "v"}'}


def test_stack_import_verifies_the_snapshot_and_the_stack_name(world: World, tmp_path: Path) -> None:
    """pulumi/pulumi stack_import.go → io.go ``SaveSnapshot``: resources of another stack and a snapshot that fails
    ``VerifyIntegrity`` (a dependency missing, or after its dependent) are refused unless --force."""
    stack, a = _deployed(world)
    out: list[str] = []
    cli = _cli(world, tmp_path, out)
    cli.run(["stack", "export", "--stack", "acme/s"])
    document = json.loads(out[-1])
    resources = document["deployment"]["resources"]
    path = tmp_path / "state.json"

    def attempt(changed: list[dict[str, Any]], *flags: str) -> int:
        path.write_text(json.dumps({**document, "deployment": {**document["deployment"], "resources": changed}}))
        return cli.run(["stack", "import", "--stack", "acme/s", "--file", str(path), *flags])

    without_namespace = [r for r in resources if not r["urn"].endswith("::ns")]
    assert attempt(without_namespace) != 0 and "dependency urn:pulumi:s::p::kubernetes:core/v1:Namespace::ns refers to missing resource" in out[-1]
    assert "importing this file could be dangerous" in out[-1]
    provider, namespace, secret_a = resources
    assert attempt([provider, secret_a, namespace]) != 0 and f"dependency {namespace['urn']} comes after it" in out[-1]
    other = [{**r, "urn": r["urn"].replace("urn:pulumi:s::", "urn:pulumi:t::")} if r["urn"] == a.urn else r for r in resources]
    assert attempt(other) != 0 and "is from a different stack (t != s)" in out[-1]
    assert attempt(resources) == 0 and list(stack.resources) == [r["urn"] for r in resources]
    assert stack.resources[a.urn].inputs["stringData"] == {SIG_KEY: SECRET_SIG, "value": {"k": "v"}}  # decrypted, still secret


def test_verify_integrity_is_snapshot_go(world: World) -> None:
    """snapshot.go ``VerifyIntegrity``: the messages of its reference checks, each reference before its user."""
    from tests.world import verify_integrity

    with pytest.raises(ValueError, match="refers to unknown provider"):
        verify_integrity([{"urn": "a", "type": "k", "custom": True, "id": "x", "provider": "urn:pulumi:s::p::pulumi:providers:k::d::1"}])
    with pytest.raises(ValueError, match="has 'custom false but non-empty ID"):
        verify_integrity([{"urn": "u", "type": "t", "custom": False, "id": "x"}])
    with pytest.raises(ValueError, match="child resource c refers to missing parent p"):
        verify_integrity([{"urn": "c", "type": "t", "parent": "p"}])
    with pytest.raises(ValueError, match="is specified as being deleted with d, which comes after it"):
        verify_integrity([{"urn": "c", "type": "t", "deletedWith": "d"}, {"urn": "d", "type": "t"}])
    with pytest.raises(ValueError, match="duplicate resource u"):
        verify_integrity([{"urn": "u", "type": "t"}, {"urn": "u", "type": "t"}])
    verify_integrity([{"urn": "u", "type": "t", "delete": True}, {"urn": "u", "type": "t"}])


def test_an_imported_state_naming_anothers_object_holds_it(world: World, tmp_path: Path) -> None:
    """``pulumi stack import`` changes nothing live: the stack then holds what its state names, another stack's object
    included (recorded), and stops holding what the state no longer names."""
    stack, a = _deployed(world)
    out: list[str] = []
    cli = _cli(world, tmp_path, out)
    cli.run(["stack", "export", "--stack", "acme/s"])
    key = ("core/Secret", "app", "a")
    cluster = world.cluster("acme-prod")
    cluster.objects[key].owner = PROD  # production's object, in this stack's state
    path = tmp_path / "state.json"
    path.write_text(out[-1])
    assert cli.run(["stack", "import", "--stack", "acme/s", "--file", str(path)]) == 0
    assert cluster.objects[key].holders == {"acme/p/s"} and world.violations[-1].second == "acme/p/s"
    document = json.loads(out[-2])
    document["deployment"]["resources"] = [r for r in document["deployment"]["resources"] if r["urn"] != a.urn]
    path.write_text(json.dumps(document))
    assert cli.run(["stack", "import", "--stack", "acme/s", "--file", str(path)]) == 0
    assert cluster.objects[key].holders == set() and a.urn not in stack.resources


# --- GitHub: contents, compare, pull requests, installation tokens, the gh stand-in -------------------------------------


CLUSTER_REPO = "acme/cluster"


@pytest.fixture
def repo(world: World) -> World:
    world.github.repositories.add(CLUSTER_REPO)
    world.github.push(CLUSTER_REPO, "main", "one", {"a.yaml": "".join(f"line {i}\n" for i in range(20))})
    world.github.push(CLUSTER_REPO, "topic", "two", {"a.yaml": "".join(f"line {i}\n" for i in range(19)) + "changed\n"}, start="main")
    world.github.tokens["ghs_scoped"] = "acme"
    world.github.installation_tokens["ghs_scoped"] = InstallationToken(
        "acme", frozenset({CLUSTER_REPO}), {"contents": "read", "pull_requests": "write"}
    )
    return world


def test_compare_is_git_log_base_head_with_the_merge_bases_diff(repo: World) -> None:
    """GitHub REST "Compare two commits": status, ahead_by/behind_by, the commits in chronological order, each file's
    unified-diff hunks (three lines of context); an unknown branch is 404."""
    gh = repo.github
    found = gh.compare(CLUSTER_REPO, "main", "topic")
    assert (found["status"], found["ahead_by"], found["behind_by"]) == ("ahead", 1, 0)
    assert [c["commit"]["message"] for c in found["commits"]] == ["two"]
    (changed,) = found["files"]
    assert changed["status"] == "modified" and changed["patch"].splitlines() == [
        "@@ -17,4 +17,4 @@",
        " line 16",
        " line 17",
        " line 18",
        "-line 19",
        "+changed",
    ]
    assert gh.compare(CLUSTER_REPO, "topic", "main")["status"] == "behind"
    gh.push(CLUSTER_REPO, "main", "three", {"b.yaml": "x\n"})
    assert gh.compare(CLUSTER_REPO, "main", "topic")["status"] == "diverged"
    gh.branch(CLUSTER_REPO, "same", "main")
    assert gh.compare(CLUSTER_REPO, "main", "same")["status"] == "identical"
    with pytest.raises(WorldError, match="404"):
        gh.compare(CLUSTER_REPO, "main", "missing")


def test_installation_tokens_reach_their_repositories_with_their_permissions(repo: World) -> None:
    """GitHub REST: "Create an installation access token" narrows repositories and permissions; a repository the token
    cannot see is 404 ("Troubleshooting the REST API"); a permission it lacks is 403 "Resource not accessible by
    integration"; each endpoint page names its permission."""
    gh = repo.github
    assert gh.authorize("ghs_scoped", CLUSTER_REPO, ("contents",), "read") == "app-bot"
    with pytest.raises(WorldError, match="403 Resource not accessible by integration"):
        gh.authorize("ghs_scoped", CLUSTER_REPO, ("contents",), "write")
    with pytest.raises(WorldError, match="404"):
        gh.authorize("ghs_scoped", REPO, ("pull_requests",), "read")
    with pytest.raises(WorldError, match="401"):
        gh.authorize("ghs_unknown", CLUSTER_REPO, ("contents",), "read")


def test_pull_requests_one_open_per_head_and_base(repo: World) -> None:
    """GitHub REST "Create a pull request": 422 when one is open for the same head and base; "Update a pull request"."""
    gh = repo.github
    pr = gh.create_pull(CLUSTER_REPO, "topic", "main", "t", "b", "app-bot")
    with pytest.raises(WorldError, match="422 Validation Failed: A pull request already exists for acme:topic"):
        gh.create_pull(CLUSTER_REPO, "topic", "main", "t", "b", "app-bot")
    assert gh.update_pull(CLUSTER_REPO, pr.number, {"title": "new"}).title == "new"
    assert [p.number for p in gh.list_pulls(CLUSTER_REPO, head="topic", base="main", state="open")] == [pr.number]


def test_the_gh_stand_in_speaks_as_gh(repo: World, tmp_path: Path) -> None:
    """cli/cli pkg/cmd/api/api.go: an HTTP error is the body on stdout, "gh: <message> (HTTP <code>)" on stderr, exit 1;
    fields.go: ``-F body=@file`` reads the file; --jq prints a string raw; pr create refuses a second open PR."""
    from tests.world import gh_main

    out: list[str] = []
    err: list[str] = []
    env = {"GH_TOKEN": "ghs_scoped", "PATH": "/usr/bin:/bin"}
    assert gh_main(repo, ["api", f"repos/{CLUSTER_REPO}/compare/main...missing"], env, out.append, err.append) == 1
    assert err[-1] == "gh: Not Found (HTTP 404)" and json.loads(out[-1])["message"] == "Not Found"
    body = tmp_path / "body.md"
    body.write_text("the body")
    create = ["pr", "create", "--repo", CLUSTER_REPO, "--head", "topic", "--base", "main", "--title", "t", "--body-file", str(body)]
    assert gh_main(repo, create, env, out.append, err.append) == 0 and out[-1] == f"https://github.com/{CLUSTER_REPO}/pull/1"
    assert gh_main(repo, create, env, out.append, err.append) == 1
    assert 'a pull request for branch "topic" into branch "main" already exists' in err[-1]
    listing = ["pr", "list", "--repo", CLUSTER_REPO, "--head", "topic", "--state", "open", "--json", "number", "--jq", ".[0].number // empty"]
    assert gh_main(repo, listing, env, out.append, err.append) == 0 and out[-1] == "1"
    patch = ["api", "--method", "PATCH", f"repos/{CLUSTER_REPO}/pulls/1", "-f", "title=new", "-F", f"body=@{body}", "--silent"]
    body.write_text("a new body")
    assert gh_main(repo, patch, env, out.append, err.append) == 0
    assert (repo.github.pulls[(CLUSTER_REPO, 1)].title, repo.github.pulls[(CLUSTER_REPO, 1)].body) == ("new", "a new body")


def test_app_tokens_are_scoped_as_create_github_app_token_asks(world: World, tmp_path: Path) -> None:
    """actions/create-github-app-token action.yml: ``owner`` defaults to the repository's owner, ``repositories`` to the
    current repository when ``owner`` is unset; ``permission-*`` inputs narrow the token."""
    from tests.runner import Runner

    world.github.repositories.add(CLUSTER_REPO)
    world.github.apps["1"] = GitHubApp("1", "KEY", "ci", {"acme"})
    path = tmp_path / "w.pickle"
    world.save(path)
    runner = Runner(path, REPO, tmp_path)
    _, _, plain, _, _ = runner._app_token({"app-id": "1", "private-key": "KEY"}, [])
    _, _, narrow, _, _ = runner._app_token(
        {"app-id": "1", "private-key": "KEY", "owner": "acme", "repositories": "cluster", "permission-pull-requests": "write"}, []
    )
    tokens = World.load(path).github.installation_tokens
    assert tokens[plain["token"]] == InstallationToken("acme", frozenset({REPO}), None)
    assert tokens[narrow["token"]] == InstallationToken("acme", frozenset({CLUSTER_REPO}), {"pull_requests": "write"})


def test_a_job_can_stop_after_a_step_and_keeps_each_steps_raw_output(world: World, tmp_path: Path) -> None:
    """The runner: ``until`` ends the job after the named step; a step's raw stdout (workflow commands and values
    masked in the log included), exit code and GITHUB_ENV writes are kept."""
    from tests.runner import Runner, dispatch

    root = tmp_path / "repo"
    (root / ".github" / "workflows").mkdir(parents=True)
    workflow = {
        "on": "workflow_dispatch",
        "jobs": {"j": {"runs-on": "ubuntu-latest", "steps": [
            {"name": "one", "run": 'echo "::add-mask::hidden"; echo hidden; echo "X=1" >> "$GITHUB_ENV"'},
            {"name": "two", "run": "exit 3"},
        ]}},
    }  # fmt: skip
    (root / ".github" / "workflows" / "w.yml").write_text(yaml.safe_dump(workflow))
    path = tmp_path / "w.pickle"
    world.save(path)
    job = Runner(path, REPO, tmp_path, root=root).run_job("w.yml", "j", dispatch(REPO), until="one")
    (one,) = job.steps
    assert one.stdout == "::add-mask::hidden\nhidden\n" and "hidden" not in one.log.replace("::add-mask::***", "")
    assert (one.code, one.github_env) == (0, "X=1\n")


def test_refresh_with_the_program_steps_components_as_an_update_would(world: World, tmp_path: Path) -> None:
    """pulumi/pulumi docs/architecture/deployment-execution: with --run-program "Component resources and providers are
    created and updated as if `up` had been run": a component whose inputs differ from the state's is an update in the
    event log (pkg/engine/update.go ``OnResourceStepPost``)."""
    stack = StackState("acme", "p", "s")
    component = Registration("my:index:Thing", "thing", "urn:pulumi:s::p::my:index:Thing::thing", "", False, {"a": 1}, (), False, "")
    stack.resources[component.urn] = StateResource(component.urn, component.type, False, {"a": 0}, "", (), "", False, "", "")
    out: list[str] = []
    cli = _cli(world, tmp_path, out)
    log = tmp_path / "events.jsonl"
    cli._write_event_log(log, stack, Engine(world, {}).refresh(stack), {}, {component.urn: component.inputs})
    (event,) = [json.loads(line)["resOutputsEvent"]["metadata"] for line in log.read_text().splitlines()]
    assert (event["urn"], event["op"], event["new"]["custom"]) == (component.urn, "update", False)
