"""``secret-chain doctor`` end to end against stand-in GitHub, DigitalOcean and Pulumi ESC (issue 22).

Each test runs the real command (``secret_chain.ops.cli.main``) on a whole production config of canaries
(tests/canaries.py) against the stand-ins of tests/doctor_apis.py (GitHub answers validated with githubkit's models of
GitHub's OpenAPI description) and the world's stand-in ``pulumi`` (tests/world.py, ``pulumi env open``); then reads the
report, text or ``--json``, and scans everything printed for every canary.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
import yaml

from secret_chain import catalog
from secret_chain.doctor import github as doctor_github
from secret_chain.ops import cli, runbook
from tests import leaks
from tests.canaries import Canaries, chain_config, make_canaries
from tests.doctor_apis import NOW, DigitalOceanApi, Environment, GitHubApi
from tests.runner import _STANDIN
from tests.runtime import cli_json
from tests.world import WORLD_ENV, World

ROOT = Path(__file__).resolve().parent.parent
STACK = "production"
ORG = "acme"
PULUMI_TOKEN = "pul-doctor-0123456789abcdef"
READER_TOKEN = "ghp_personREADERtoken00000000000000000000"


@pytest.fixture(scope="module")
def canaries() -> Canaries:
    return make_canaries()


@dataclass
class Setup:
    """The stand-ins, the stack's config and how to run doctor on them."""

    github: GitHubApi
    digitalocean: DigitalOceanApi
    config: dict[str, str]
    secret_keys: list[str]
    needles: dict[str, str]
    tmp: Path
    monkeypatch: pytest.MonkeyPatch
    world_path: Path
    stack: str = STACK

    def value(self, key: str) -> str:
        entry = catalog.get(key)
        if entry.field:
            return str(json.loads(self.config[entry.config_key])[entry.field]) if entry.config_key in self.config else self.config[key]
        return self.config[key]

    def run(
        self, *extra: str, json_out: bool = True, config: dict[str, str] | None = None, only: tuple[str, ...] = ("github", "esc", "digitalocean")
    ) -> Result:
        path = self.tmp / "config.json"
        path.write_text(json.dumps(cli_json(config or self.config, self.secret_keys)))
        # The links of this helper's systems: the Kubernetes links are tests/test_doctor_kubernetes*.py's.
        systems = [word for system in only for word in ("--only", system)]
        argv = ["doctor", "--stack", self.stack, "--config", str(path), "--timeout", "2", *systems, *extra, *(["--json"] if json_out else [])]
        out, err = self.tmp / "out.txt", self.tmp / "err.txt"
        started = time.monotonic()
        with out.open("w") as stdout, err.open("w") as stderr:
            saved = sys.stdout, sys.stderr
            sys.stdout, sys.stderr = stdout, stderr
            try:
                code = cli.main(argv)
            finally:
                sys.stdout, sys.stderr = saved
        result = Result(code, out.read_text(), err.read_text(), time.monotonic() - started)
        if json_out and result.out.startswith("{"):
            from secret_chain.doctor import links

            # every link doctor reports is a row of its table (docs/doctor.md): written once
            assert [f["link"] for f in result.document["findings"] if links.row_of(f["link"]) is None] == []
        leaked = leaks.scan([("stdout", result.out), ("stderr", result.err)], self.needles)
        assert leaked == [], leaked
        return result


@dataclass
class Result:
    code: int
    out: str
    err: str
    seconds: float

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.out)  # type: ignore[no-any-return]

    def findings(self, link: str) -> list[dict[str, Any]]:
        return [f for f in self.document["findings"] if f["link"] == link or f["link"].startswith(link + "/")]

    def one(self, link: str) -> dict[str, Any]:
        (found,) = [f for f in self.document["findings"] if f["link"] == link]
        return found


def _config(canaries: Canaries) -> tuple[dict[str, str], list[str]]:
    """The production config with the GHCR object key folded as ``pulumi config --json`` holds it (tests/runtime.fold)."""
    from tests.runtime import fold

    config, secret_keys = chain_config(canaries, stack=STACK)
    return fold(config, secret_keys)


def _esc_world(path: Path, config: dict[str, str], secret_keys: list[str]) -> None:
    """A world whose ESC environment (the stack's secret-chain:escEnvironment) holds the stack's ESC-tier keys (secrets as fn::secret)."""
    reference = config["secret-chain:escEnvironment"]
    world = World()
    world.cloud.tokens[PULUMI_TOKEN] = (reference.split("/")[0], world.now + 365 * 86400)
    pulumi_config: dict[str, Any] = {}
    for key, value in config.items():
        entry = catalog.BY_KEY.get(key)
        if entry is not None and entry.tier is catalog.Tier.STACK:
            continue
        parsed: Any = json.loads(value) if any(e.field and e.config_key == key for e in catalog.KEYS) else value
        pulumi_config[key] = {"fn::secret": parsed} if key in secret_keys else parsed
    world.esc.create(reference, yaml.safe_dump({"values": {"pulumiConfig": pulumi_config}}))
    world.save(path)


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, canaries: Canaries) -> Iterator[Setup]:
    config, secret_keys = _config(canaries)
    yield from stand_ins(tmp_path, monkeypatch, config, secret_keys, canaries.needles())


def stand_ins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: dict[str, str], secret_keys: list[str], needles: dict[str, str]
) -> Iterator[Setup]:
    """The stand-ins for ``config``, every link healthy; the environment pointed at them; checked and closed after the test."""
    github, digitalocean = GitHubApi(), DigitalOceanApi()
    world_path = tmp_path / "world.pickle"
    _esc_world(world_path, config, secret_keys)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text(_STANDIN.format(tool="pulumi", root=ROOT, python=sys.executable))
    (bin_dir / "pulumi").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv(WORLD_ENV, str(world_path))
    monkeypatch.setenv("PULUMI_ACCESS_TOKEN", PULUMI_TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", github.url)
    monkeypatch.setenv("DIGITALOCEAN_API_URL", digitalocean.url)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    s = Setup(github, digitalocean, config, secret_keys, needles, tmp_path, monkeypatch, world_path)
    healthy(s)
    try:
        yield s
    finally:
        github.close()
        digitalocean.close()
    assert github.violations == [], github.violations  # every answer the stand-in gave is one the description allows
    assert digitalocean.violations == []


def healthy(s: Setup) -> None:
    """Every link of the production config working: the world as it should be."""
    gh = s.github
    gh.add_pat(s.value("namespace:imagePullSecret.token"), "acme-bot", scopes=("read:packages",), days=200)
    if "github:token" in s.config:
        gh.add_pat(s.value("github:token"), "acme-admin", scopes=("repo", "workflow"), days=300)
    else:  # the person running doctor lists the Actions secrets with their own token (gh auth token)
        gh.add_pat(READER_TOKEN, "a-person", scopes=("repo",), days=None)
        s.monkeypatch.setenv("GH_TOKEN", READER_TOKEN)
    ci_app, flux_app = s.value("ci:githubAppId"), s.value("flux:githubAppId")
    gh.add_app(ci_app, s.value("ci:githubAppPrivateKey"), slug="acme-ci")
    gh.add_app(flux_app, s.value("flux:githubAppPrivateKey"), slug="acme-flux")
    repository = s.value("secret-chain:githubRepository")
    owner = repository.split("/")[0]
    ci_permissions = {"contents": "write", "pull_requests": "write", "issues": "write", "metadata": "read"}
    gh.add_installation(1001, ci_app, owner, ci_permissions, repositories=(repository,))
    gh.add_installation(s.value("flux:githubAppInstallationId"), flux_app, owner, {"contents": "write", "metadata": "read"})
    updated = NOW - datetime.timedelta(days=3)
    variables = {"PULUMI_ORG": (owner, updated), "APP_ID": (ci_app, updated)}
    if "ci:pulumiTokenType" in s.config:
        variables["PULUMI_TOKEN_TYPE"] = ("organization", updated)
    gh.environments[(repository, "production")] = Environment(secrets={"APP_PRIVATE_KEY": updated}, variables=variables)
    s.digitalocean.tokens[s.value("gateway:digitaloceanDnsToken")] = {s.value("secret-chain:domain")}


def statuses(result: Result) -> dict[str, str]:
    return {f["link"]: f["status"] for f in result.document["findings"]}


# --- the whole stack -----------------------------------------------------------------------------------------------------


def test_a_healthy_stack_is_all_ok_and_the_json_follows_the_contract(setup: Setup) -> None:
    result = setup.run()
    assert result.code == 0, result.out
    document = result.document
    assert set(document) == {"stack", "kind", "status", "findings"}
    assert (document["stack"], document["kind"], document["status"]) == (STACK, "production", "OK")
    for finding in document["findings"]:
        assert set(finding) == {"link", "status", "checked", "symptom", "key", "fix", "source", "expires", "facts"}
    assert statuses(result) == {
        "github.ghcr-token": "OK",
        "github.app/ci": "OK",
        "github.installation/ci": "OK",
        "github.app/flux": "OK",
        "github.installation/flux": "OK",
        "github.actions/production/PULUMI_ORG": "OK",
        "github.actions/production/PULUMI_TOKEN_TYPE": "OK",
        "github.actions/production/APP_ID": "OK",
        "github.actions/production/APP_PRIVATE_KEY": "OK",
        "esc.environment": "OK",
        "digitalocean.dns-token": "OK",
    }
    ghcr = result.one("github.ghcr-token")
    assert ghcr["expires"] == setup.github.pats[setup.value("namespace:imagePullSecret.token")].expires.strftime("%Y-%m-%dT%H:%M:%SZ")  # type: ignore[union-attr]
    assert ghcr["facts"]["scopes"] == "read:packages"
    assert result.one("github.actions/production/APP_ID")["facts"]["updatedAt"].endswith("Z")
    assert result.one("esc.environment")["facts"]["method"] == "pulumi env open"
    # Actions variables are listed with their values by the API; the report keeps names and dates only.
    assert "organization" not in json.dumps(result.findings("github.actions"))


def test_the_example_stack_against_the_stand_ins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from secret_chain.ops.offline import parse_config

    example = ROOT / "examples" / "config" / "production.json"
    config, secret_keys = parse_config(json.loads(example.read_text()))
    needles = {f"example {k}": config[k] for k in secret_keys}
    for s in stand_ins(tmp_path, monkeypatch, config, secret_keys, needles):
        # the example's two Apps share one key (it is an example): each App is its own App ID at the stand-in
        result = s.run(json_out=False)
        assert result.code == 0, result.out
        assert result.out.splitlines()[0] == "Doctor of stack production (kind production): OK"
        assert re.fullmatch(r"10 OK, 0 WARN, 0 FAIL in \d+\.\d s", result.out.splitlines()[-1])
        print(result.out)
        print(f"(wall time of the whole run, config read included: {result.seconds:.2f} s)")


def test_the_text_report_names_each_link_with_its_status_and_the_fix(setup: Setup) -> None:
    setup.github.pats[setup.value("namespace:imagePullSecret.token")].revoked = True
    result = setup.run(json_out=False)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == f"Doctor of stack {STACK} (kind production): FAIL"
    assert any(line.startswith("  FAIL github.ghcr-token: ") for line in lines)
    assert "       key: namespace:imagePullSecret.token" in lines
    assert any(line.startswith("       fix: create a new token: make one at https://github.com/settings/tokens/new") for line in lines)
    assert any(line.startswith("  OK   digitalocean.dns-token: ") for line in lines)
    assert re.fullmatch(r"\d+ OK, 0 WARN, 1 FAIL in \d+\.\d s", lines[-1])
    assert result.err == ""  # no progress line when standard error is not a terminal


# --- personal access tokens ------------------------------------------------------------------------------------------------


def test_an_expired_pat_fails(setup: Setup) -> None:
    token = setup.value("namespace:imagePullSecret.token")
    setup.github.pats[token].expires = NOW - datetime.timedelta(hours=1)
    result = setup.run()
    assert result.code == 1
    found = result.one("github.ghcr-token")
    assert found["status"] == "FAIL"
    assert "401 Bad credentials" in found["checked"] and "expired" in found["checked"]
    assert found["symptom"] == runbook.of(catalog.GHCR_TOKEN).symptom  # the runbook's words, written once
    assert found["key"] == "namespace:imagePullSecret.token"
    # the GHCR token lives in the Base environment (secret_chain.environments); the fix reads it from standard input
    assert "| pulumi env set acme/secret-chain/Base pulumiConfig.namespace:imagePullSecret.token --secret" in found["fix"]
    assert found["fix"].endswith("; then pulumi up --stack production")
    assert statuses(result)["digitalocean.dns-token"] == "OK"  # one failing link never stops the others


def test_a_revoked_pat_fails(setup: Setup) -> None:
    setup.github.pats[setup.value("namespace:imagePullSecret.token")].revoked = True
    found = setup.run().one("github.ghcr-token")
    assert found["status"] == "FAIL" and "revoked" in found["checked"]


def test_a_nearly_expired_pat_warns_with_its_expiry(setup: Setup) -> None:
    token = setup.value("namespace:imagePullSecret.token")
    setup.github.pats[token].expires = (NOW + datetime.timedelta(days=3)).replace(microsecond=0)
    result = setup.run("--warn-days", "7")
    assert result.code == 1
    found = result.one("github.ghcr-token")
    assert found["status"] == "WARN"
    assert found["expires"] == setup.github.pats[token].expires.strftime("%Y-%m-%dT%H:%M:%SZ")  # type: ignore[union-attr]
    assert "--warn-days 7" in found["checked"] and found["fix"].startswith("create a new token before it expires")
    # outside the window it is OK
    assert setup.run("--warn-days", "2").one("github.ghcr-token")["status"] == "OK"


def test_a_pat_without_read_packages_fails(setup: Setup) -> None:
    setup.github.pats[setup.value("namespace:imagePullSecret.token")].scopes = ("repo", "workflow")
    found = setup.run().one("github.ghcr-token")
    assert found["status"] == "FAIL"
    assert "without the scope read:packages or write:packages" in found["checked"]
    assert found["facts"]["scopes"] == "repo, workflow"
    assert found["fix"].startswith("create a classic token with read:packages or write:packages")


def test_a_fine_grained_token_for_ghcr_fails(setup: Setup) -> None:
    setup.github.pats[setup.value("namespace:imagePullSecret.token")].scopes = None
    found = setup.run().one("github.ghcr-token")
    assert found["status"] == "FAIL" and "not a classic personal access token" in found["checked"]


def test_flux_github_token_gets_the_same_checks(setup: Setup, canaries: Canaries) -> None:
    from tests.runtime import fold

    config, secret_keys = chain_config(canaries, stack=STACK, flux_mode="token")
    config, secret_keys = fold(config, secret_keys)
    setup.config, setup.secret_keys = config, secret_keys
    setup.github.add_pat(config["flux:githubToken"], "acme-flux", scopes=("read:packages",), days=5)
    found = setup.run("--warn-days", "14").one("github.flux-token")
    assert found["status"] == "FAIL" and "without the scope repo" in found["checked"]
    setup.github.pats[config["flux:githubToken"]].scopes = ("repo",)
    found = setup.run("--warn-days", "14").one("github.flux-token")
    assert found["status"] == "WARN" and found["expires"] is not None
    assert found["symptom"] == f"once it expires: {runbook.of(catalog.FLUX_GITHUB_TOKEN).symptom}"
    # a fine-grained token (no X-OAuth-Scopes) serves Flux: accepted, its permissions not visible to the API
    setup.github.pats[config["flux:githubToken"]].scopes = None
    setup.github.pats[config["flux:githubToken"]].expires = NOW + datetime.timedelta(days=90)
    found = setup.run().one("github.flux-token")
    assert found["status"] == "OK" and found["facts"]["kind"].startswith("fine-grained")


# --- GitHub Apps -------------------------------------------------------------------------------------------------------------


def test_an_app_key_github_does_not_accept_fails(setup: Setup) -> None:
    from tests.conftest import rsa_pem

    setup.github.add_app(setup.value("ci:githubAppId"), rsa_pem(), slug="acme-ci")  # the App's key was replaced
    result = setup.run()
    found = result.one("github.app/ci")
    assert found["status"] == "FAIL" and "GitHub refuses the JWT (HTTP 401)" in found["checked"]
    assert found["key"] == "ci:githubAppPrivateKey"
    assert "github.installation/ci" not in statuses(result)
    assert statuses(result)["github.app/flux"] == "OK"


def test_get_app_answering_another_apps_id_fails_naming_the_app_id_key(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 200 from GET /app is accepted only with the configured App's ``id`` in it (GitHub's "Get the authenticated
    app" answers the JWT's App: https://docs.github.com/en/rest/apps/apps#get-the-authenticated-app); here a server
    answers another App's integration object (issue 22 review: any 200 body counted as accepted)."""
    original = setup.github._integration
    monkeypatch.setattr(setup.github, "_integration", lambda app: {**original(app), "id": 4242424})
    result = setup.run()
    for name, key in (("ci", "ci:githubAppId"), ("flux", "flux:githubAppId")):
        found = result.one(f"github.app/{name}")
        assert found["status"] == "FAIL" and found["key"] == key, found
        assert "App id 4242424" in found["checked"] and "pulumi env set" in found["fix"]
        assert f"github.installation/{name}" not in statuses(result)


def test_a_suspended_installation_fails(setup: Setup) -> None:
    installation = setup.github.installations[int(setup.value("flux:githubAppInstallationId"))]
    installation.suspended_at = NOW - datetime.timedelta(days=1)
    found = setup.run().one("github.installation/flux")
    assert found["status"] == "FAIL" and "suspended" in found["checked"]
    assert found["fix"].startswith("unsuspend it")
    assert found["facts"]["suspendedAt"].endswith("Z")


def test_an_installation_without_the_permissions_the_chain_needs_fails(setup: Setup) -> None:
    installation = setup.github.installations[int(setup.value("flux:githubAppInstallationId"))]
    installation.permissions = {"contents": "read", "metadata": "read"}  # image automation pushes: contents write
    found = setup.run().one("github.installation/flux")
    assert found["status"] == "FAIL" and "contents: write (has read)" in found["checked"]


def test_a_missing_installation_fails(setup: Setup) -> None:
    setup.github.installations.pop(1001)
    found = setup.run().one("github.installation/ci")
    assert found["status"] == "FAIL" and "404" in found["checked"] and found["fix"].startswith("install the App on acme/platform")


def test_the_jwt_is_what_github_asks_for() -> None:
    from tests.conftest import rsa_pem

    pem = rsa_pem()
    token = doctor_github.app_jwt("123", pem, now=1_000_000)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims == {"iat": 1_000_000 - 60, "exp": 1_000_000 + 540, "iss": "123"}
    assert claims["exp"] - claims["iat"] <= 600


def test_the_ci_app_permissions_are_those_the_workflows_ask_for() -> None:
    asked: dict[str, str] = {}
    for workflow in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        for name, level in re.findall(r"^\s*permission-([a-z-]+):\s*(read|write)\s*$", workflow.read_text(), re.M):
            key = name.replace("-", "_")
            if doctor_github.PERMISSION_LEVELS[level] > doctor_github.PERMISSION_LEVELS.get(asked.get(key, ""), 0):
                asked[key] = level
    assert asked == dict(doctor_github.CI_APP_PERMISSIONS)


# --- Actions secrets and variables -------------------------------------------------------------------------------------------


def test_a_missing_actions_variable_fails_and_names_its_key(setup: Setup) -> None:
    del setup.github.environments[("acme/platform", "production")].variables["APP_ID"]
    found = setup.run().one("github.actions/production/APP_ID")
    assert found["status"] == "FAIL" and found["key"] == "ci:githubAppId" and found["fix"].startswith("pulumi up --stack production")


def test_a_missing_environment_fails(setup: Setup) -> None:
    del setup.github.environments[("acme/platform", "production")]
    found = setup.run().one("github.actions/production")
    assert found["status"] == "FAIL" and "HTTP 404" in found["checked"] and found["key"] == "github:token"


def test_without_a_token_to_list_them_the_actions_link_is_not_checked(setup: Setup) -> None:
    config = dict(setup.config)
    del config["github:token"]
    setup.secret_keys = [k for k in setup.secret_keys if k != "github:token"]
    found = setup.run(config=config).one("github.actions/production")
    assert found["status"] == "WARN" and "no token to list them with" in found["checked"]
    setup.monkeypatch.setenv("GH_TOKEN", setup.value("github:token"))
    assert statuses(setup.run(config=config))["github.actions/production/APP_ID"] == "OK"


# --- the HTTP client: rate limits, 5xx, a server that hangs -----------------------------------------------------------------


def test_a_rate_limit_with_retry_after_is_waited_out(setup: Setup) -> None:
    setup.github.limit("/user", 429, {"retry-after": "1", "x-ratelimit-remaining": "10"})
    started = time.monotonic()
    result = setup.run()
    assert result.one("github.ghcr-token")["status"] == "OK"
    assert [p for p, _ in setup.github.requests].count("/user") == 2
    assert time.monotonic() - started >= 1


def test_an_exhausted_rate_limit_is_honoured_and_reported(setup: Setup) -> None:
    reset = int(time.time()) + 3600
    setup.github.limit("/user", 403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)})
    result = setup.run()
    found = result.one("github.ghcr-token")
    assert found["status"] == "WARN" and "rate limited" in found["checked"]
    assert datetime.datetime.fromtimestamp(reset, datetime.UTC).strftime("%H:%M:%S") in found["checked"]
    assert found["source"] == doctor_github.DOC_RATE_LIMITS
    assert [p for p, _ in setup.github.requests].count("/user") == 1  # not asked again before the reset
    # the links of other systems are still checked
    assert statuses(result)["digitalocean.dns-token"] == "OK"
    assert statuses(result)["esc.environment"] == "OK"


def test_a_digitalocean_429_is_retried_after_its_retry_after(setup: Setup) -> None:
    setup.digitalocean.limit(f"/v2/domains/{setup.value('secret-chain:domain')}", 429, {"retry-after": "1", "ratelimit-remaining": "0"})
    assert setup.run().one("digitalocean.dns-token")["status"] == "OK"


def test_a_5xx_then_success_is_retried(setup: Setup) -> None:
    setup.github.fail("/user", 2, status=502)
    result = setup.run()
    assert result.one("github.ghcr-token")["status"] == "OK"
    assert [p for p, _ in setup.github.requests].count("/user") == 3


def test_a_5xx_that_lasts_is_reported_not_raised(setup: Setup) -> None:
    setup.github.fail("/user", 10, status=503)
    found = setup.run().one("github.ghcr-token")
    assert found["status"] == "WARN" and "HTTP 503 from the server, after 4 attempt(s)" in found["checked"]


def test_a_server_that_hangs_times_out_and_the_others_are_still_reported(setup: Setup) -> None:
    setup.github.hang("/app")
    result = setup.run("--timeout", "1")
    found = statuses(result)
    assert found["github.app/ci"] == "WARN" and found["github.app/flux"] == "WARN"
    assert "no answer within 1 s (timeout)" in result.one("github.app/ci")["checked"]
    assert found["github.ghcr-token"] == "OK" and found["digitalocean.dns-token"] == "OK" and found["esc.environment"] == "OK"
    assert result.seconds < 8  # the two hanging checks ran concurrently, each bounded by its timeout


# --- Pulumi ESC ---------------------------------------------------------------------------------------------------------------


def test_an_esc_key_still_a_placeholder_fails(setup: Setup) -> None:
    world = World.load(setup.world_path)
    # as the bootstrap leaves it (secret_chain.esc.placeholder), a YAML string
    world.esc.set(f"{ORG}/secret-chain/Production", "pulumiConfig.prometheus:authToken", '"<set me: $(openssl rand -hex 32)>"', secret=True)
    world.save(setup.world_path)
    config = dict(setup.config)
    config["prometheus:authToken"] = "<set me: $(openssl rand -hex 32)>"
    found = setup.run(config=config).one("esc.key/prometheus:authToken")
    assert found["status"] == "FAIL" and "placeholder" in found["checked"]
    assert "pulumi env set acme/secret-chain/Production pulumiConfig.prometheus:authToken --secret" in found["fix"]


def test_an_esc_key_missing_fails_unless_the_stack_sets_it(setup: Setup) -> None:
    world = World.load(setup.world_path)
    world.esc.remove(f"{ORG}/secret-chain/Production", "pulumiConfig.prometheus:authToken")
    world.save(setup.world_path)
    config = dict(setup.config)
    del config["prometheus:authToken"]
    found = setup.run(config=config).one("esc.key/prometheus:authToken")
    assert found["status"] == "FAIL" and "is missing" in found["checked"]
    # set in the stack's own config (pulumi config set), it is what the program reads: no finding
    assert "esc.key/prometheus:authToken" not in statuses(setup.run())


def test_an_environment_that_does_not_open_fails(setup: Setup) -> None:
    setup.monkeypatch.setenv("PULUMI_ACCESS_TOKEN", "pul-unknown")
    found = setup.run().one("esc.environment")
    assert found["status"] == "FAIL" and "does not open" in found["checked"] and "401" in found["checked"]


def test_without_the_pulumi_cli_the_environment_is_not_checked(setup: Setup) -> None:
    setup.monkeypatch.setenv("PATH", "/usr/bin:/bin")
    setup.monkeypatch.delenv("PULUMI_ACCESS_TOKEN", raising=False)  # nor the ESC SDK's credential
    found = setup.run().one("esc.environment")
    assert found["status"] == "WARN" and "pulumi CLI is not on PATH" in found["checked"]


def test_an_esc_api_out_of_reach_is_a_warn_not_a_fail(setup: Setup) -> None:
    """The one rule (docs/doctor.md): a system that does not answer is a WARN; the SDK's connection error is that."""
    setup.monkeypatch.setenv("PATH", "/usr/bin:/bin")
    setup.monkeypatch.setenv("PULUMI_ACCESS_TOKEN", "pul-esc-reader")
    setup.monkeypatch.setenv("PULUMI_BACKEND_URL", "http://127.0.0.1:9")  # discard: nothing listens
    found = setup.run().one("esc.environment")
    assert found["status"] == "WARN" and "did not answer" in found["checked"], found


class EscApi:
    """A stand-in of the Pulumi ESC API on 127.0.0.1: ``POST /api/esc/environments/{org}/{project}/{env}/open`` gives a
    session, ``GET …/open/{id}`` the environment's evaluated properties (ESC's OpenAPI description, as pulumi-esc-sdk's
    generated ``EscApi.open_environment`` and ``read_open_environment`` call it). Every answer is checked with the SDK's
    own models (``OpenEnvironment``, ``Environment``: generated from that description) before it is sent."""

    def __init__(self, world_path: Path, token: str) -> None:
        import http.server
        import threading

        from pulumi_esc_sdk import models

        self.violations: list[str] = []
        self.requests: list[str] = []
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, status: int, body: dict[str, Any], model: Any = None) -> None:
                if model is not None:
                    try:
                        model.from_dict(body)
                    except Exception as err:  # a pydantic ValidationError: the answer is not the description's
                        api.violations.append(f"{self.path}: {err}")
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _ref(self) -> str | None:
                match = re.fullmatch(r"/api/esc/environments/([^/]+)/([^/]+)/([^/]+)/open(?:/([^/]+))?", self.path)
                return None if match is None else "/".join(match.group(1, 2, 3))

            def _authorised(self) -> bool:
                api.requests.append(f"{self.command} {self.path}")
                if self.headers.get("Authorization") != f"token {token}":
                    self._answer(401, {"code": 401, "message": "Unauthorized: No credentials provided or are invalid."})
                    return False
                return True

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self._authorised():
                    ref = self._ref()
                    known = ref is not None and ref in World.load(world_path).esc.definitions
                    if known:
                        self._answer(200, {"id": "3f1c"}, models.OpenEnvironment)
                    else:
                        self._answer(404, {"code": 404, "message": "Environment not found"})

            def do_GET(self) -> None:
                if self._authorised():
                    ref = self._ref()
                    assert ref is not None and self.path.endswith("/open/3f1c")
                    values = World.load(world_path).esc.open(ref)
                    self._answer(200, {"properties": {k: _esc_value(v) for k, v in values.items()}}, models.Environment)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def _esc_value(value: Any) -> dict[str, Any]:
    """A value as the ESC API's ``Value`` (value, secret, trace), nested values too."""
    from tests.world import EscSecret

    secret = isinstance(value, EscSecret)
    plain = value.value if secret else value
    if isinstance(plain, dict):
        inner: Any = {k: _esc_value(v) for k, v in plain.items()}
    elif isinstance(plain, list):
        inner = [_esc_value(v) for v in plain]
    else:
        inner = plain
    return {"value": inner, "trace": {}, **({"secret": True} if secret else {})}


def test_without_the_cli_the_esc_sdk_opens_the_environment(setup: Setup) -> None:
    """The issue's "the ESC SDK from PyPI or the pulumi env open command, whichever is present; say which": no pulumi
    on PATH, pulumi-esc-sdk installed and PULUMI_ACCESS_TOKEN set, the SDK opens it, and the finding says so. Before,
    the link was a WARN "not checked" whenever the CLI was missing."""
    api = EscApi(setup.world_path, "pul-esc-reader")
    setup.monkeypatch.setenv("PATH", "/usr/bin:/bin")
    setup.monkeypatch.setenv("PULUMI_ACCESS_TOKEN", "pul-esc-reader")
    setup.monkeypatch.setenv("PULUMI_BACKEND_URL", api.url)
    found = setup.run().one("esc.environment")
    assert found["status"] == "OK", found
    assert found["facts"]["method"] == "ESC SDK (pulumi-esc-sdk)" and "(ESC SDK (pulumi-esc-sdk))" in found["checked"]
    base = f"/api/esc/environments/{ORG}/secret-chain/Production/open"
    assert api.requests == [f"POST {base}", f"GET {base}/3f1c"]
    assert api.violations == []
    # a key the stand-in's environment lacks is found through the SDK too
    world = World.load(setup.world_path)
    world.esc.remove(f"{ORG}/secret-chain/Production", "pulumiConfig.prometheus:authToken")
    world.save(setup.world_path)
    config = dict(setup.config)
    del config["prometheus:authToken"]
    assert setup.run(config=config).one("esc.key/prometheus:authToken")["status"] == "FAIL"
    # a token the API refuses: the environment does not open, and the SDK's status is named
    setup.monkeypatch.setenv("PULUMI_ACCESS_TOKEN", "pul-other")
    refused = setup.run().one("esc.environment")
    assert refused["status"] == "FAIL" and "the ESC API answered 401" in refused["checked"]
    assert refused["facts"]["method"] == "ESC SDK (pulumi-esc-sdk)"


def test_the_esc_stand_in_answers_as_the_sdks_models_describe_and_catches_a_bad_body(setup: Setup) -> None:
    from pulumi_esc_sdk import models

    with pytest.raises(ValueError, match="id"):  # pydantic's ValidationError is a ValueError
        models.OpenEnvironment.from_dict({"diagnostics": []})  # no id: what the stand-in's check would catch
    assert models.Environment.from_dict({"properties": {"a": _esc_value("b")}}) is not None


# --- DigitalOcean ---------------------------------------------------------------------------------------------------------------


def test_a_dns_token_digitalocean_refuses_fails(setup: Setup) -> None:
    setup.digitalocean.tokens.clear()
    found = setup.run().one("digitalocean.dns-token")
    assert found["status"] == "FAIL" and "401" in found["checked"] and found["key"] == "gateway:digitaloceanDnsToken"
    assert found["symptom"] == runbook.of(catalog.DIGITALOCEAN_DNS_TOKEN).symptom


def test_a_dns_token_that_cannot_read_the_zone_fails(setup: Setup) -> None:
    setup.digitalocean.tokens[setup.value("gateway:digitaloceanDnsToken")] = {"other.example.net"}
    found = setup.run().one("digitalocean.dns-token")
    assert found["status"] == "FAIL" and "no zone" in found["checked"]


# --- the command line -----------------------------------------------------------------------------------------------------------


def test_only_names_the_systems_checked(setup: Setup) -> None:
    result = setup.run(only=("digitalocean",))
    assert statuses(result) == {"digitalocean.dns-token": "OK"}


def test_a_pr_stack_checks_only_the_links_it_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, canaries: Canaries) -> None:
    from tests.runtime import fold

    config, secret_keys = fold(*chain_config(canaries, stack="preview-pr-7"))
    for s in stand_ins(tmp_path, monkeypatch, config, secret_keys, canaries.needles()):
        s.stack = "preview-pr-7"
        result = s.run()
        assert (result.code, result.document["kind"]) == (0, "preview-pr-7")  # the kind as secret-chain:stackKind declares it
        # a PR stack builds the pull secret, Prometheus and Grafana only: no App, no Actions secrets, no DNS issuer
        assert statuses(result) == {"github.ghcr-token": "OK", "esc.environment": "OK"}
        assert "acme/secret-chain/Preview" in result.one("esc.environment")["checked"]


def test_the_bootstrap_stack_has_no_link_to_check(setup: Setup) -> None:
    setup.stack = "bootstrap"
    result = setup.run(json_out=False)
    assert result.code == 0
    assert "no link of this stack has a check" in result.out


def test_the_github_api_defaults_to_github_com(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    from secret_chain.doctor import runner

    seen = []
    monkeypatch.setattr(runner, "run", lambda context, checks, **kw: seen.append(context.github_api_url) or [])
    monkeypatch.delenv("GITHUB_API_URL")
    setup.run()
    monkeypatch.setenv("GITHUB_API_URL", "https://ghe.example.net/api/v3/")
    setup.run()
    assert seen == ["https://api.github.com", "https://ghe.example.net/api/v3"]


def test_a_config_that_cannot_be_read_exits_2(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["doctor", "--stack", STACK, "--config", str(setup.tmp / "missing.json")]) == 2
    assert capsys.readouterr().err.startswith("error: cannot read config file")


def test_a_progress_line_is_shown_on_a_terminal_only(setup: Setup) -> None:
    import pty

    path = setup.tmp / "config.json"
    path.write_text(json.dumps(cli_json(setup.config, setup.secret_keys)))
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'components'}:{ROOT}"}
    done = subprocess.run(
        [sys.executable, "-m", "secret_chain", "doctor", "--stack", STACK, "--config", str(path), "--only", "github", "--json"],
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env,
        timeout=120,
        check=False,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    progress = b"".join(chunks).decode()
    assert done.returncode == 0, done.stdout
    assert "checks done" in progress and progress.endswith("\r\x1b[K")
    assert leaks.scan([("tty", progress), ("stdout", done.stdout.decode())], setup.needles) == []


def test_the_digitalocean_stand_in_answers_as_its_reference_describes_and_catches_a_bad_body() -> None:
    """Positive control of the DigitalOcean stand-in's validation (tests/doctor_apis.py DO_DOMAIN_SCHEMA and
    DO_ERROR_SCHEMA, from https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domains), as the Prometheus
    stand-in's: its own answers pass, the reference's example passes, and a body the reference does not allow, sent
    through the server, is recorded in ``violations``."""
    import urllib.error
    import urllib.request

    from tests.doctor_apis import do_violations

    example = {"domain": {"name": "example.com", "ttl": 1800, "zone_file": "$ORIGIN example.com.\n$TTL 1800\n"}}
    assert do_violations(200, example) == [] and do_violations(404, {"id": "not_found", "message": "gone", "request_id": "r"}) == []
    assert do_violations(200, {"domain": {"ttl": "1800"}}) and do_violations(401, {"message": "Bad credentials"})
    api = DigitalOceanApi()
    try:
        api.tokens["dop_v1_" + "a" * 64] = {"example.com"}

        def get(path: str, token: str) -> int:
            request = urllib.request.Request(api.url + path, headers={"Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    return int(answer.status)
            except urllib.error.HTTPError as err:
                return err.code

        token = "dop_v1_" + "a" * 64
        assert [get("/v2/domains/example.com", token), get("/v2/domains/other.com", token), get("/v2/domains/x", "no")] == [200, 404, 401]
        api.fail("/v2/domains/example.com", 1)
        assert get("/v2/domains/example.com", "dop_v1_" + "a" * 64) == 502
        assert api.violations == []
        api.route = lambda path, query, auth: (200, {}, {"domain": {"name": "example.com", "ttl": "1800", "records": []}})  # type: ignore[method-assign]
        assert get("/v2/domains/example.com", "x") == 200
        assert len(api.violations) == 2 and all(v.startswith("domain (200):") for v in api.violations), api.violations
    finally:
        api.close()


def test_a_server_echoing_the_token_or_answering_10_mb_gets_neither_into_the_report(setup: Setup) -> None:
    """Issue 22 review: GitHub's answer quoted in ``checked``/``facts`` (``login``) carried the token when a server
    echoed it, and a 10 MB login made a 10 MB report. ``setup.run`` scans stdout/stderr for every configured secret."""
    ghcr = setup.value("namespace:imagePullSecret.token")
    setup.github.pats[ghcr].login = f"{ghcr}-{ghcr[:20]}"
    result = setup.run()
    found = result.one("github.ghcr-token")
    assert ghcr not in json.dumps(found) and ghcr[:20] not in json.dumps(found)
    setup.github.pats[ghcr].login = "A" * 10_000_000
    result = setup.run()
    assert len(result.out) < 200_000, len(result.out)
    assert all(len(v) <= 400 for f in result.document["findings"] for v in f["facts"].values())
