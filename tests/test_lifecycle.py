"""The whole life of a platform, in order, on ONE simulated world (tests/world.py), as people and CI run it.

bootstrap (the real bootstrap stack: the ESC environments and CI's OIDC issuer) → a person sets the ESC values (``pulumi
env set`` into the environment that really holds each node) and the stack settings (``pulumi config set``, as the README's
real path says) → production ``pulumi up`` → preview-base ``pulumi up`` → PR 7 deploy (preview-deploy.yml, as the runner
runs it) → PR 8 deploy → PR 7 cleanup (preview-cleanup.yml, eight days later: a kubeconfig fetched at deploy time has
expired) → a rotation of ``prometheus:authToken`` → production ``pulumi destroy``. And the weekly drift job of
scheduled-checks.yml for both long-lived stacks.

Every step runs the real stack program (through the ``pulumi`` stand-in and :class:`tests.world.Engine`) or the real
workflow steps (:class:`tests.runner.Runner`); nothing here special-cases a step. The settings are not example values.
"""

from __future__ import annotations

import copy
import pickle
import secrets
import shlex
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from secret_chain import catalog
from tests.canaries import canary_for, plain_value
from tests.runner import ROOT, JobResult, Runner, copy_repository, pull_request_target, schedule
from tests.world import GitHubApp, World

ORG = "acme-platform"
REPO = f"{ORG}/platform"
DOMAIN = "acme-platform.dev"
ACME_EMAIL = "ops@acme-platform.dev"
CLUSTER = "acme-prod"
FLUX_REPO = f"https://github.com/{ORG}/cluster"
PREREQUISITE_NAMESPACES = ("default", "kube-system", "flux-system", "cert-manager", "monitoring", "gateway")
"""The README's "Namespaces that must exist" (other installations own them), plus the cluster's own."""
STACK_SETTINGS = {
    "production": {
        "secret-chain:escEnvironment": f"{ORG}/secret-chain/Production",
        "secret-chain:githubRepository": REPO,
        "github:owner": ORG,
        "secret-chain:domain": DOMAIN,
        "secret-chain:acmeEmail": ACME_EMAIL,
        "secret-chain:fluxRepositoryUrl": FLUX_REPO,
        "secret-chain:digitaloceanCluster": CLUSTER,
    },
    "preview-base": {
        "secret-chain:escEnvironment": f"{ORG}/secret-chain/Preview",
        "secret-chain:githubRepository": REPO,
        "github:owner": ORG,
        "secret-chain:domain": DOMAIN,
        "secret-chain:acmeEmail": ACME_EMAIL,
        "secret-chain:fluxRepositoryUrl": FLUX_REPO,
        "secret-chain:digitaloceanCluster": CLUSTER,
    },
}
"""What a person sets with ``pulumi config set`` on each long-lived stack (README, "Stack settings")."""
PR_TEMPLATE_SETTINGS = {"secret-chain:domain": DOMAIN, "secret-chain:digitaloceanCluster": CLUSTER}
"""What a person changes in the committed PR stack template (stacks/Pulumi.preview-pr.yaml) before the first PR."""


@dataclass
class Platform:
    """The world file, the runner, the person's workspace, and the secrets the person holds."""

    path: Path
    runner: Runner
    person: Path
    token: str
    values: dict[str, str]
    timings: dict[str, float]

    @property
    def world(self) -> World:
        return World.load(self.path)

    def pulumi(self, script: str, *, check: bool = True) -> str:
        done = self.runner.shell(script, cwd=self.person, env={"PULUMI_ACCESS_TOKEN": self.token}, check=check)
        return done.stdout + done.stderr


def _timed(timings: dict[str, float], name: str) -> Any:
    class _Timer:
        def __enter__(self) -> None:
            self.start = time.perf_counter()

        def __exit__(self, *exc: object) -> None:
            timings[name] = time.perf_counter() - self.start

    return _Timer()


def _world() -> tuple[World, dict[str, str], str]:
    """An organisation's accounts before the platform: a GitHub repository and the apps, a DigitalOcean account with the
    cluster and the domain, a Pulumi Cloud organisation with one person's access token."""
    world = World()
    values: dict[str, str] = {}
    world.github.repositories.update({REPO, f"{ORG}/cluster"})
    values["github:token"] = canary_for(catalog.get("github:token"))
    world.github.tokens[values["github:token"]] = ORG
    values["ci:githubAppId"] = "424242"
    values["ci:githubAppPrivateKey"] = canary_for(catalog.get("ci:githubAppPrivateKey"))
    world.github.apps["424242"] = GitHubApp("424242", values["ci:githubAppPrivateKey"], "acme-platform-ci", {ORG})
    values["digitalocean:token"] = canary_for(catalog.get("digitalocean:token"))
    world.digitalocean.tokens.add(values["digitalocean:token"])
    values["gateway:digitaloceanDnsToken"] = canary_for(catalog.get("gateway:digitaloceanDnsToken"))
    world.digitalocean.domains.add(DOMAIN)
    world.add_cluster(CLUSTER, namespaces=PREREQUISITE_NAMESPACES)
    values["grafana:githubOrg"] = ORG
    values["namespace:imagePullSecret.username"] = "acme-platform-bot"
    values.update(
        {
            "grafana:smtpFromAddress": f"alerts@{DOMAIN}",
            "grafana:alertEmail": f"oncall@{DOMAIN}",
            "grafana:smtpPort": "587",
            "flux:githubAppId": "515151",
            "flux:githubAppInstallationId": "61616161",
        }
    )
    token = "pul-" + secrets.token_hex(20)
    world.cloud.tokens[token] = (ORG, world.now + 3650 * 86400)
    return world, values, token


def _value(key: str, values: dict[str, str]) -> str:
    if key in values:
        return values[key]
    entry = catalog.get(key)
    values[key] = canary_for(entry) if entry.secret else plain_value(entry)
    return values[key]


def _yaml_argument(value: str) -> str:
    """The command-line value ``pulumi env set`` reads as YAML (env_set.go: "The value is interpreted as YAML"): a
    multi-line value (a PEM key) as a literal block, else YAML would fold its lines into one (what preflight's fix
    command for a folded key, ``"$(printf '|\n'; sed 's/^/  /' key.pem)"``, does)."""
    if "\n" not in value:
        return value
    return "|\n" + "".join(f"  {line}\n" for line in value.splitlines())


def placeholders(world: World) -> Iterator[tuple[str, str, str, bool]]:
    """(environment, ``env set`` path, catalog key, secret) of every ``<set me: …>`` the environments hold: the node a
    person sets is the one that holds the placeholder, never an interpolation of another environment."""
    for ref, document in sorted(world.esc.definitions.items()):
        config = ((document.get("values") or {}).get("pulumiConfig")) or {}
        for key, node in config.items():
            nodes = (
                [(key, node, key)]
                if not (isinstance(node, dict) and "fn::secret" not in node)
                else [(f"{key}.{f}", n, f"{key}.{f}") for f, n in node.items()]
            )
            for path, leaf, catalog_key in nodes:
                secret = isinstance(leaf, dict) and "fn::secret" in leaf
                text = leaf["fn::secret"] if secret else leaf
                if isinstance(text, str) and text.startswith("<set me"):
                    yield ref, f"pulumiConfig.{path}", catalog_key, secret


def _kube_objects(world: World) -> dict[str, tuple[str, Any]]:
    return {"/".join(filter(None, key)): (obj.owner, copy.deepcopy(obj.manifest)) for c in world.clusters.values() for key, obj in c.objects.items()}


def _assert_job(result: JobResult) -> None:
    assert not result.skipped, f"{result.workflow}/{result.job} was skipped"
    assert result.ok, f"{result.workflow}/{result.job} failed at {[s.name for s in result.failed()]}:\n{result.log}"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Platform:
    """bootstrap → the person's ESC values and stack settings → production up → preview-base up (each step asserted)."""
    tmp = tmp_path_factory.mktemp("lifecycle")
    timings: dict[str, float] = {}
    start = time.perf_counter()
    world, values, token = _world()
    path = tmp / "world.pickle"
    world.save(path)
    origin = tmp / "origin"
    origin.mkdir()
    copy_repository(origin, ROOT)
    runner = Runner(path, REPO, tmp, root=origin)
    person = runner.workspace("ops")
    p = Platform(path, runner, person, token, values, timings)

    with _timed(timings, "bootstrap"):
        p.pulumi(
            f"pulumi stack select --create {ORG}/bootstrap\npulumi config set secret-chain:githubRepository {REPO}\npulumi up --yes --skip-preview"
        )
    world = p.world
    assert set(world.esc.definitions) == {f"{ORG}/secret-chain/{e}" for e in ("Base", "Preview", "Production", "PullRequest")}
    assert (ORG, "github-actions") in world.cloud.issuers

    with _timed(timings, "ESC values and stack settings"):
        commands = []
        for ref, env_path, key, secret in placeholders(world):
            # The value after "--": a PEM key starts with dashes, which the CLI's flag parser refuses before it (pflag).
            flag = "--secret" if secret else "--plaintext"
            if key == "flux:githubToken":
                # Flux authenticates as its GitHub App (recommended): the token alternative's node is removed, not set.
                commands.append(f"pulumi env rm {ref} {shlex.quote(env_path)}")
                continue
            commands.append(f"pulumi env set {ref} {shlex.quote(env_path)} {flag} -- {shlex.quote(_yaml_argument(_value(key, values)))}")
        for stack, settings in STACK_SETTINGS.items():
            commands.append(f"pulumi stack select --create {ORG}/{stack}")
            commands += [f"pulumi config set {k} {shlex.quote(v)}" for k, v in settings.items()]
        p.pulumi("\n".join(commands))
        template = person / "stacks" / "Pulumi.preview-pr.yaml"
        document = yaml.safe_load(template.read_text())
        document["config"].update(PR_TEMPLATE_SETTINGS)
        template.write_text(yaml.safe_dump(document, sort_keys=False))
        runner.push(person, *(f"stacks/Pulumi.{s}.yaml" for s in ("production", "preview-base", "preview-pr")))
    world = p.world
    assert not list(placeholders(world)), "a placeholder is left"
    assert (
        world.esc.open(f"{ORG}/secret-chain/Production")["pulumiConfig"]["ci:githubAppPrivateKey"].value.strip()
        == values["ci:githubAppPrivateKey"].strip()
    )
    assert world.esc.replaced_interpolations == [], "env set replaced an interpolation of another environment"

    for stack in ("production", "preview-base"):
        with _timed(timings, f"{stack} up"):
            p.pulumi(f"pulumi config --show-secrets --json --stack {ORG}/{stack} | secret-chain preflight --stack {stack} --config -")
            p.pulumi(f"pulumi up --yes --skip-preview --stack {ORG}/{stack}")
        assert p.world.violations == []
    timings["platform (fixture)"] = time.perf_counter() - start
    snapshot = tmp / "platform.pickle"
    snapshot.write_bytes(path.read_bytes())
    return p


def _fork(p: Platform, name: str) -> Platform:
    """A copy of the platform's world for one test (the module fixture's world stays as it was)."""
    path = p.path.parent / f"{name}.pickle"
    path.write_bytes((p.path.parent / "platform.pickle").read_bytes())
    runner = Runner(path, REPO, p.path.parent / name, root=p.runner.root)
    return Platform(path, runner, p.person, p.token, p.values, p.timings)


def _owned(objects: dict[str, tuple[str, Any]], stack: str) -> set[str]:
    return {k for k, (owner, _) in objects.items() if owner == f"{ORG}/secret-chain/{stack}"}


def test_the_whole_life_on_one_world(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    p = _fork(platform, "life")
    timings = dict(platform.timings)
    start = time.perf_counter()
    before = _kube_objects(p.world)
    assert _owned(before, "production") and _owned(before, "preview-base")

    # PR 7 and PR 8 deploy: preview-deploy.yml, as the runner runs it (pull_request_target: the default branch's code).
    for number in (7, 8):
        with _timed(timings, f"PR {number} deploy"):
            deploy = p.runner.run_job("preview-deploy.yml", "deploy", pull_request_target(REPO, number, "opened"))
        _assert_job(deploy)
        # The default branch's policy pack ran over the PR stack's registrations before `pulumi up` (issue 20).
        (policy,) = [s for s in deploy.steps if s.name == "pulumi preview with the policy pack"]
        assert "secret-chain@v" in policy.log and "no violations" in policy.log, policy.log
        world = p.world
        assert world.violations == []
        assert ("core/Namespace", "", f"preview-pr-{number}") in world.cluster(CLUSTER).objects
        assert any(f"preview-pr-{number}" in body for (_, n), comments in world.github.comments.items() for _, body in comments if n == number)
    deployed = _kube_objects(p.world)
    pr7, pr8 = _owned(deployed, "preview-pr-7"), _owned(deployed, "preview-pr-8")
    assert pr7 and pr8

    # PR 7 closes eight days later: a kubeconfig fetched when it was deployed has expired (DigitalOcean: 7 days).
    world = p.world
    world.advance(8 * 86400)
    world.save(p.path)
    github_before_cleanup = {k: v for k, v in world.owners().items() if k.startswith("github:")}
    with _timed(timings, "PR 7 cleanup"):
        cleanup = p.runner.run_job("preview-cleanup.yml", "destroy", pull_request_target(REPO, 7, "closed", merged=True))
    _assert_job(cleanup)
    after_cleanup = _kube_objects(p.world)
    assert set(deployed) - set(after_cleanup) == pr7, "PR cleanup removed something other than PR 7's objects"
    assert {k: v for k, v in deployed.items() if k not in pr7} == after_cleanup, "PR cleanup changed objects it does not own"
    assert ("core/Namespace", "", "preview-pr-7") not in p.world.cluster(CLUSTER).objects
    assert f"{ORG}/secret-chain/preview-pr-7" not in p.world.cloud.stacks
    assert {k: v for k, v in p.world.owners().items() if k.startswith("github:")} == github_before_cleanup
    assert p.world.violations == []
    # No secret value and no kubeconfig credential lands in the job's log (the runner masks only registered secrets).
    secret_values = [v for k, v in p.values.items() if k in catalog.BY_KEY and catalog.get(k).secret]
    for value in [*secret_values, *p.world.digitalocean.kube_tokens]:
        assert value.strip() not in cleanup.log

    # Rotation of prometheus:authToken: the new value in the environment that holds it, then `pulumi up` of its reader.
    with _timed(timings, "rotation"):
        outputs_before = {s: copy.deepcopy(st.outputs) for s, st in p.world.cloud.stacks.items()}
        objects_before = _kube_objects(p.world)
        github_before = p.world.owners()
        new = canary_for(catalog.get("prometheus:authToken"))
        p.pulumi(
            f"pulumi env set {ORG}/secret-chain/Production pulumiConfig.prometheus:authToken {new} --secret\n"
            f"pulumi up --yes --skip-preview --stack {ORG}/production"
        )
    objects_after = _kube_objects(p.world)
    changed = {k for k in objects_before if objects_before[k] != objects_after.get(k)}
    holders = {
        k
        for k, (owner, manifest) in objects_before.items()
        if owner == f"{ORG}/secret-chain/production"
        and "prometheus:authToken" in str(((manifest.get("metadata") or {}).get("annotations") or {}).get("secret-chain/config-keys", "")).split(",")
    }
    assert holders, "no production Secret holds prometheus:authToken"
    assert changed == holders, f"the rotation changed {sorted(changed)}, not exactly the Secrets holding the key {sorted(holders)}"
    assert set(objects_after) == set(objects_before)
    assert p.world.owners() == github_before
    outputs_after = {s: st.outputs for s, st in p.world.cloud.stacks.items()}
    production = f"{ORG}/secret-chain/production"
    for stack, outputs in outputs_before.items():
        if stack != production:
            assert outputs_after[stack] == outputs, f"the rotation changed {stack}'s outputs"
    rollouts_before, rollouts_after = outputs_before[production]["rolloutAnnotations"], outputs_after[production]["rolloutAnnotations"]
    assert rollouts_before["PrometheusAuth"] != rollouts_after["PrometheusAuth"], "the Prometheus consumers are not rolled"
    assert {k: v for k, v in rollouts_before.items() if k != "PrometheusAuth"} == {k: v for k, v in rollouts_after.items() if k != "PrometheusAuth"}

    # Production destroy leaves preview-base and PR 8 intact.
    before_destroy = _kube_objects(p.world)
    github_before_destroy = p.world.owners()
    with _timed(timings, "production destroy"):
        p.pulumi(f"pulumi destroy --yes --skip-preview --stack {ORG}/production")
    after_destroy = _kube_objects(p.world)
    assert not _owned(after_destroy, "production")
    assert {k: v for k, v in before_destroy.items() if v[0] != production} == after_destroy
    assert {k: v for k, v in github_before_destroy.items() if v != production} == p.world.owners()
    assert p.world.violations == []

    timings["life after the platform"] = time.perf_counter() - start
    with capsys.disabled():
        print("\nlifecycle tier timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))


@pytest.mark.parametrize("stack", ["production", "preview-base"])
def test_the_weekly_drift_job_passes_for_each_long_lived_stack(platform: Platform, stack: str) -> None:
    """scheduled-checks.yml's stack-checks job (rotation deadlines, preflight, refresh --expect-no-changes), as the runner
    runs it, for both matrix entries, eight days after the stacks were deployed: a weekly check runs on a state whose
    stored kubeconfig (DigitalOcean: 7 days) may have expired, so it must read the credentials at run time."""
    p = _fork(platform, f"drift-{stack}")
    world = p.world
    world.advance(8 * 86400)
    world.save(p.path)
    _assert_job(p.runner.run_job("scheduled-checks.yml", "stack-checks", schedule(REPO), matrix={"stack": stack}))


def test_the_platform_fixture_is_one_world(platform: Platform) -> None:
    """Nothing of the platform has two owners, and each long-lived stack owns what it built."""
    world = World.load(platform.path.parent / "platform.pickle")
    assert world.violations == []
    objects = _kube_objects(world)
    assert _owned(objects, "production") and _owned(objects, "preview-base")
    assert pickle.loads(pickle.dumps(world)).owners() == world.owners()
