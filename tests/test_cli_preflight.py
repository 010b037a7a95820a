"""`secret-chain preflight`: every catalog key missing and malformed, redaction, config sources, exit codes."""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from secret_chain import catalog
from secret_chain.ops.cli import main
from secret_chain.parts import DECLARED_PARTS, PARTS
from tests.conftest import rsa_pem

PARTS_KEY = DECLARED_PARTS.key

ROOT = Path(__file__).resolve().parents[1]
PEM = rsa_pem()


def hex_(n: int) -> str:
    return secrets.token_hex(n // 2 + 1)[:n]


def full_config(flux: str = "app") -> dict[str, tuple[str, bool]]:
    """A valid value for every catalog key (secrets are fresh random canaries); flux by token or App."""
    values: dict[str, tuple[str, bool]] = {
        "namespace:imagePullSecret.username": ("octo-bot", False),
        "namespace:imagePullSecret.token": ("ghp_" + hex_(36), True),
        "prometheus:authToken": (hex_(64), True),
        "prometheus:previousAuthToken": (hex_(64), True),  # as in phase 1 of a rotation
        "secret-chain:rolloutKey": (hex_(64), True),
        "kubernetes:enableSecretMutable": ("true", False),
        "ci:pulumiOrganization": ("acme", False),
        "ci:pulumiTokenType": ("team", False),
        "ci:pulumiTeam": ("ci-deployers", False),
        "ci:pulumiAuth": ("stored-token-fallback", False),
        "ci:pulumiFallbackAccessToken": ("pul-" + hex_(40), True),
        "ci:pulumiAccessToken": ("pul-" + hex_(40), True),  # deprecated: still readable for one release
        "ci:workflowDispatchToken": ("github_pat_" + hex_(60), True),  # deprecated
        "ci:githubAppId": ("424242", False),
        "ci:githubAppPrivateKey": (PEM, True),
        "gateway:digitaloceanDnsToken": ("dop_v1_" + hex_(64), True),
        "digitalocean:token": ("dop_v1_" + hex_(64), True),
        "grafana:githubClientId": ("Iv1." + hex_(16), True),
        "grafana:githubClientSecret": (hex_(40), True),
        "grafana:githubOrg": ("acme", False),
        "grafana:adminUser": ("acme-admin", False),
        "grafana:smtpHost": ("smtp.gmail.com", True),
        "grafana:smtpPort": ("587", False),
        "grafana:smtpUser": ("alerts-" + hex_(8) + "@example.com", True),
        "grafana:smtpPassword": ("abcd efgh " + hex_(8), True),
        "grafana:smtpFromAddress": ("alerts@acme-platform.dev", False),  # not an example domain: preflight refuses those
        "grafana:alertEmail": ("oncall@acme-platform.dev", False),
        "github:token": ("github_pat_" + hex_(60), True),
        "secret-chain:escEnvironment": ("acme/secret-chain/Production", False),
        "secret-chain:appNamespace": ("default", False),
        "secret-chain:domain": ("acme-platform.dev", False),
        "secret-chain:acmeEmail": ("ops@acme-platform.dev", False),
        "secret-chain:githubRepository": ("acme/platform", False),
        "github:owner": ("acme", False),
        "secret-chain:fluxRepositoryUrl": ("https://github.com/acme/cluster", False),
    }
    if flux == "app":
        values["flux:githubAppId"] = ("234567", False)
        values["flux:githubAppInstallationId"] = ("34567890", False)
        values["flux:githubAppPrivateKey"] = (PEM, True)
    else:
        values["flux:githubToken"] = ("github_pat_" + hex_(60), True)
    return values


def malformed(key: str) -> str:
    """A wrong value for ``key``; secret ones carry a canary that must never be printed."""
    canary = "CANARY" + hex_(12)
    return {
        "namespace:imagePullSecret.username": "not a login!",
        "namespace:imagePullSecret.token": "github_pat_" + canary,  # fine-grained: GHCR needs a classic PAT
        "prometheus:authToken": hex_(16),  # a 16-character token
        "prometheus:previousAuthToken": hex_(16),
        "secret-chain:rolloutKey": hex_(16),
        "kubernetes:enableSecretMutable": "yes",
        "ci:pulumiOrganization": "acme org",
        "ci:pulumiTokenType": "personal",
        "ci:pulumiTeam": "ci deployers",
        "ci:pulumiPreviewTeam": "ci.previews",  # '.' is a wildcard in an OIDC policy's team scope
        "ci:pulumiAuth": "token",
        "ci:pulumiFallbackAccessToken": "pul-" + canary,
        "ci:pulumiAccessToken": "pul-" + canary,
        "ci:workflowDispatchToken": "gho_" + canary,
        "ci:githubAppId": "12ab",
        "ci:githubAppPrivateKey": "-----BEGIN RSA PRIVATE KEY-----\n" + canary + "\n-----END RSA PRIVATE KEY-----",
        "flux:githubToken": "ghs_" + canary + "x",
        "flux:githubAppId": "app-one",
        "flux:githubAppInstallationId": "0123",
        "flux:githubAppPrivateKey": canary,  # not PEM at all
        "gateway:digitaloceanDnsToken": "dop_v1_" + canary,
        "digitalocean:token": canary,
        "grafana:githubClientId": "   ",
        "grafana:githubClientSecret": "",
        "grafana:githubOrg": "acme corp!",
        "grafana:adminUser": "-octocat-",
        "grafana:smtpHost": "smtp " + canary,
        "grafana:smtpPort": "99999",
        "grafana:smtpUser": " ",
        "grafana:smtpPassword": "sh0rt",
        "grafana:smtpFromAddress": "alerts-at-example.com",
        "grafana:alertEmail": "oncall",
        "github:token": "gho_" + canary,
        "secret-chain:stackKind": "prod",
        "secret-chain:escEnvironment": "Production",
        "secret-chain:appNamespace": "Default_NS",
        "secret-chain:gatewayNamespace": "Gateway NS",
        "secret-chain:domain": "example..com",
        "secret-chain:acmeEmail": "ops",
        "secret-chain:githubRepository": "platform",
        "secret-chain:fluxRepositoryUrl": "git@github.com:acme/cluster.git",
        "secret-chain:imageAutomation": '{"images": []}',
        "secret-chain:digitaloceanCluster": "Prod_Cluster",
        PARTS_KEY: '["GhcrPullSecret", "NoSuchPart"]',
    }[key]


# Keys that a present sibling (or an enabled component) makes required; every other key is optional.
REQUIRED_WITH_GROUP = {
    "namespace:imagePullSecret.username",
    "namespace:imagePullSecret.token",
    "flux:githubAppId",
    "flux:githubAppInstallationId",
    "flux:githubAppPrivateKey",
    "grafana:githubClientId",
    "grafana:githubClientSecret",
    "grafana:githubOrg",
    "grafana:adminUser",
    "grafana:smtpHost",
    "grafana:smtpPort",
    "grafana:smtpUser",
    "grafana:smtpPassword",
    "grafana:smtpFromAddress",
    "grafana:alertEmail",  # part of the all-or-nothing mail settings
    "secret-chain:githubRepository",  # needed once any ci:* key is set (outside PR stacks)
    "secret-chain:domain",  # needed by CertManagerDnsIssuer and GrafanaOAuth
    "secret-chain:acmeEmail",  # needed by CertManagerDnsIssuer
    "secret-chain:fluxRepositoryUrl",  # needed by FluxGitCredentials
    "secret-chain:gatewayNamespace",  # needed by preview-base's wildcard certificates (checked there: STACK_OF)
    "kubernetes:enableSecretMutable",  # needed by every component that writes a Kubernetes Secret
    "prometheus:authToken",  # needed while prometheus:previousAuthToken is set (a rotation in progress)
    "ci:pulumiTeam",  # needed by ci:pulumiTokenType team (full_config's), a cross-key rule of the table
    "ci:pulumiPreviewTeam",  # the bootstrap's: needed by ci:pulumiTokenType team, a cross-key rule (issue 20)
    "ci:pulumiOrganization",  # every CI workflow logs in to Pulumi Cloud by OIDC for this org (GitHubActionsSecrets)
    "ci:githubAppId",  # the CI GitHub App: ID and key together
    "ci:githubAppPrivateKey",
    "ci:pulumiAuth",  # the opt-in stored-token fallback: both keys or neither
    "ci:pulumiFallbackAccessToken",
}
OPTIONAL_ALONE = {
    "ci:pulumiTokenType",
    "ci:pulumiAccessToken",  # deprecated: warned about, never required
    "ci:workflowDispatchToken",
    "prometheus:previousAuthToken",
    "flux:githubToken",
    "gateway:digitaloceanDnsToken",
    "digitalocean:token",
    "github:token",
    "secret-chain:stackKind",  # the stack's name says its kind when it declares none
    "secret-chain:escEnvironment",
    "secret-chain:appNamespace",
    "secret-chain:rolloutKey",  # read by PrometheusAuth and GrafanaOAuth when set; generated when absent
    "secret-chain:imageAutomation",  # enables FluxImageAutomation (within FluxGitCredentials) when set
    "secret-chain:digitaloceanCluster",  # without it, pulumi-kubernetes uses the ambient kubeconfig
}
# Every key but the declared parts (a list, tested in tests/test_parts.py): full_config() declares nothing,
# so here the config enables the parts.
KEY_IDS = [k.key for k in catalog.KEYS if k.key != PARTS_KEY]


def to_json(values: dict[str, tuple[str, bool]]) -> str:
    """``pulumi config --show-secrets --json`` of catalog-keyed values: a field goes into its object key (secret if any field is)."""
    out: dict[str, dict[str, object]] = {}
    objects: dict[str, dict[str, str]] = {}
    for key, (value, secret) in values.items():
        entry = catalog.BY_KEY.get(key)
        if entry is not None and entry.field:
            objects.setdefault(entry.config_key, {})[entry.field] = value
            out.setdefault(entry.config_key, {"secret": False})
            out[entry.config_key]["secret"] = bool(out[entry.config_key]["secret"]) or secret
        else:
            out[key] = {"value": value, "secret": secret}
            if entry is not None and entry.json_types in (("object",), ("array",)):
                out[key]["objectValue"] = json.loads(value)  # a YAML mapping or list: the CLI prints it so
    for key, fields in objects.items():
        out[key].update({"value": json.dumps(fields), "objectValue": fields})
    return json.dumps(out)


def write(tmp_path: Path, values: dict[str, tuple[str, bool]]) -> str:
    path = tmp_path / "config.json"
    path.write_text(to_json(values))
    return str(path)


def secret_fragments(values: dict[str, tuple[str, bool]]) -> list[str]:
    """Every secret value, and each long line of multi-line ones (PEM bodies)."""
    out = []
    for value, secret in values.values():
        if secret and value.strip():
            out.append(value.strip())
            out += [line for line in value.splitlines() if len(line) >= 16 and not line.startswith("-----")]
    return out


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_no_leak(text: str, values: dict[str, tuple[str, bool]]) -> None:
    for fragment in secret_fragments(values):
        assert fragment not in text
    assert "CANARY" not in text


def test_catalog_is_fully_classified() -> None:
    """Every catalog key is read by some part of the table and is in exactly one of this test's expectations."""
    assert {k.key for p in PARTS for k in p.keys} == {k.key for k in catalog.KEYS}
    assert set(KEY_IDS) == REQUIRED_WITH_GROUP | OPTIONAL_ALONE
    assert not REQUIRED_WITH_GROUP & OPTIONAL_ALONE


@pytest.mark.parametrize("flux", ["app", "token"])
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_full_config_is_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str], flux: str, fmt: str) -> None:
    values = full_config(flux)
    code, out, err = run(capsys, "preflight", "--stack", "production", "--config", write(tmp_path, values), *(["--json"] if fmt == "json" else []))
    assert code == 0, out
    assert_no_leak(out + err, values)
    if fmt == "json":
        report = json.loads(out)
        assert report["ok"] is True and report["problems"] == []
        # github:owner is a provider setting, not ours; deprecated keys are warned about, not checked
        assert sorted(report["checked"]) == sorted(k for k in values if k != "github:owner" and not catalog.get(k).deprecated)
        assert {w["key"] for w in report["warnings"] if w["kind"] == "deprecated"} == {"ci:pulumiAccessToken", "ci:workflowDispatchToken"}
        assert "FluxGitCredentials" in report["enabled"] and "GrafanaOAuth" in report["enabled"]
    else:
        assert "OK: the config is ready" in out


STACK_OF = {"secret-chain:gatewayNamespace": "preview-base", "ci:pulumiPreviewTeam": "bootstrap"}
"""Keys only another stack kind reads: checked on that stack, with the full config plus the key."""


def config_for(key: str) -> dict[str, tuple[str, bool]]:
    values = full_config("token" if key == "flux:githubToken" else "app")
    if key == "secret-chain:gatewayNamespace":
        values[key] = ("gateway", False)
    if key == "secret-chain:imageAutomation":
        values[key] = (catalog.IMAGE_AUTOMATION.example, False)
    if key == "secret-chain:digitaloceanCluster":
        values[key] = ("prod-cluster", False)
    if key == "ci:pulumiPreviewTeam":
        values[key] = ("ci-previews", False)
    if key == "secret-chain:stackKind":  # the kind the stack's name says: declared or not, the same stack
        values[key] = ("production", False)
    return values


@pytest.mark.parametrize("key", KEY_IDS)
def test_every_key_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str) -> None:
    values = config_for(key)
    del values[key]
    stack = STACK_OF.get(key, "production")
    code, out, _ = run(capsys, "preflight", "--stack", stack, "--config", write(tmp_path, values), "--json")
    report = json.loads(out)
    if key in REQUIRED_WITH_GROUP:
        assert code == 1
        # full_config asks for a team token: without its team, the table's cross-key rule refuses it (components/secret_chain/rules.py)
        rule = key in ("ci:pulumiTeam", "ci:pulumiPreviewTeam")
        assert [(p["key"], p["kind"]) for p in report["problems"]] == [(key, "rule" if rule else "missing")]
        entry = catalog.get(key)
        fix = report["problems"][0]["fix"]
        if entry.tier is catalog.Tier.STACK:
            assert fix.startswith(f"pulumi config set {entry.key}")
        else:  # aimed at the environment that holds the key: Production's own values, Base's shared ones
            env_set = f"pulumi env set acme/secret-chain/{'Production' if entry.per_environment else 'Base'} pulumiConfig.{key}"
            # a secret is read from a file or standard input, never an argument (issue 20): fed to the command by a pipe
            assert fix.startswith(env_set) or (entry.secret and f"| {env_set} --secret --string --file " in fix), fix
    else:
        assert code == 0, report["problems"]
        assert key not in report["checked"]


@pytest.mark.parametrize("key", KEY_IDS)
def test_every_key_malformed(tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str) -> None:
    values = config_for(key)
    bad = malformed(key)
    with pytest.raises(ValueError):
        catalog.get(key).check(bad)
    values[key] = (bad, values[key][1])
    stack = STACK_OF.get(key, "production")
    code, out, err = run(capsys, "preflight", "--stack", stack, "--config", write(tmp_path, values))
    if catalog.get(key).deprecated:  # no longer used: warned about, never checked (its component ignores it too)
        assert code == 0 and f'config "{key}" is deprecated' in out
        assert_no_leak(out + err, values)
        return
    assert code == 1
    problem_lines = [line for line in out.splitlines() if line.startswith("  ✗")]
    assert len(problem_lines) == 1, out
    assert f'config "{key}"' in problem_lines[0]
    assert "pulumi " in problem_lines[0].split(". Fix: ", 1)[1]
    assert_no_leak(out + err, values)
    if bad.strip() and catalog.get(key).secret:
        assert bad.strip() not in out
    code, out, _ = run(capsys, "preflight", "--stack", stack, "--config", write(tmp_path, values), "--json")
    report = json.loads(out)
    assert code == 1 and [(p["key"], p["kind"]) for p in report["problems"]] == [(key, "malformed")]
    assert_no_leak(out, values)


def test_wrong_kinds_are_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = full_config()
    values["namespace:imagePullSecret.token"] = ("github_pat_CANARY" + hex_(40), True)
    values["prometheus:authToken"] = (hex_(16), True)
    values["ci:githubAppPrivateKey"] = ("CANARY" + hex_(30), True)
    code, out, _ = run(capsys, "preflight", "--stack", "production", "--config", write(tmp_path, values), "--json")
    problems = {p["key"]: p["message"] for p in json.loads(out)["problems"]}
    assert code == 1
    assert "fine-grained" in problems["namespace:imagePullSecret.token"] and "classic" in problems["namespace:imagePullSecret.token"]
    assert "too short" in problems["prometheus:authToken"]
    assert "not a PEM private key" in problems["ci:githubAppPrivateKey"]
    assert_no_leak(out, values)


def test_flux_token_and_app_conflict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = full_config("app")
    values["flux:githubToken"] = ("github_pat_" + hex_(60), True)
    code, out, _ = run(capsys, "preflight", "--stack", "production", "--config", write(tmp_path, values), "--json")
    problems = json.loads(out)["problems"]
    assert code == 1
    assert {p["kind"] for p in problems} == {"conflict"}
    assert all("not both" in p["message"] for p in problems)


def test_partial_groups_name_every_missing_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = {"grafana:smtpHost": ("smtp.gmail.com", True), "flux:githubAppId": ("1234", False)}
    code, out, _ = run(capsys, "preflight", "--stack", "production", "--config", write(tmp_path, values), "--json")
    report = json.loads(out)
    missing = sorted(p["key"] for p in report["problems"] if p["kind"] == "missing")
    assert code == 1
    assert missing == sorted(
        [
            "grafana:smtpPort",
            "grafana:smtpUser",
            "grafana:smtpPassword",
            "grafana:smtpFromAddress",
            "grafana:alertEmail",
            # mail settings are part of GrafanaOAuth, which needs its keys and the domain (the rollout key is generated)
            "grafana:githubClientId",
            "grafana:githubClientSecret",
            "grafana:githubOrg",
            "grafana:adminUser",
            "secret-chain:domain",
            # the App keys need the rest of the App and the repository URL
            "flux:githubAppInstallationId",
            "flux:githubAppPrivateKey",
            "secret-chain:fluxRepositoryUrl",
            "kubernetes:enableSecretMutable",  # Flux and Grafana write Secrets: they must be updated in place
        ]
    )
    assert report["escEnvironment"] == "<org>/secret-chain/Production"
    # preview-base runs no Grafana: the same mail key is ignored there, not required
    code, out, _ = run(capsys, "preflight", "--stack", "preview-base", "--config", write(tmp_path, values), "--json")
    report = json.loads(out)
    assert "grafana:smtpHost" in {w["key"] for w in report["warnings"] if w["kind"] == "ignored"}
    assert not any(p["key"].startswith("grafana:") for p in report["problems"])
    assert report["escEnvironment"] == "<org>/secret-chain/Preview"


def test_secret_stored_in_plain_text_is_a_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = full_config()
    values["prometheus:authToken"] = (values["prometheus:authToken"][0], False)
    code, out, _ = run(capsys, "preflight", "--stack", "production", "--config", write(tmp_path, values), "--json")
    assert code == 1
    assert [(p["key"], p["kind"]) for p in json.loads(out)["problems"]] == [("prometheus:authToken", "plaintext")]


def test_pr_stack_ignores_what_only_shared_stacks_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Issue 11: the settings of parts a PR stack never builds (fluxRepositoryUrl, acmeEmail) are not required there.
    values = full_config()
    for key in ("secret-chain:githubRepository", "secret-chain:fluxRepositoryUrl", "secret-chain:acmeEmail", "secret-chain:appNamespace"):
        del values[key]
    code, out, _ = run(capsys, "preflight", "--stack", "preview-pr-7", "--config", write(tmp_path, values), "--json")
    report = json.loads(out)
    assert code == 0, report["problems"]
    assert report["enabled"] == ["GhcrPullSecret", "PrometheusAuth", "PrometheusAuth.rotation", "GrafanaOAuth", "GrafanaOAuth.mail"]
    ignored = {w["key"] for w in report["warnings"] if w["kind"] == "ignored"}
    assert ignored == {
        "ci:pulumiOrganization",
        "ci:pulumiTokenType",
        "ci:pulumiTeam",
        "ci:pulumiAuth",
        "ci:pulumiFallbackAccessToken",
        "ci:pulumiAccessToken",
        "ci:workflowDispatchToken",
        "ci:githubAppId",
        "ci:githubAppPrivateKey",
        "flux:githubAppId",
        "flux:githubAppInstallationId",
        "flux:githubAppPrivateKey",
        "gateway:digitaloceanDnsToken",
        "digitalocean:token",
        "github:token",
    }


def test_alias_and_unknown_keys_warn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = full_config("app")
    for k in ("flux:githubAppId", "flux:githubAppInstallationId", "flux:githubAppPrivateKey"):
        del values[k]
    del values["prometheus:previousAuthToken"]
    values["secret-chain:github.token"] = ("github_pat_" + hex_(60), True)
    values["grafana:smtpPasswrd"] = ("x" * 16, True)
    code, out, _ = run(capsys, "preflight", "--stack", "production", "--config", write(tmp_path, values), "--json")
    report = json.loads(out)
    assert code == 0
    assert "flux:githubToken" in report["checked"]
    # An unknown key is never printed (a mistyped `key=value` line would show its value): namespace, length, suggestion.
    assert {(w["key"], w["kind"]) for w in report["warnings"]} == {
        ("flux:githubToken", "alias"),
        ("<a key in namespace grafana, 19 characters, not shown>", "unknown"),
        ("ci:pulumiAccessToken", "deprecated"),
        ("ci:workflowDispatchToken", "deprecated"),
    }
    assert "smtpPasswrd" not in out
    assert "did you mean grafana:smtpPassword" in out


def test_empty_config_is_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "preflight", "--stack", "production", "--config", write(tmp_path, {}))
    assert code == 0 and "parts enabled by the config: none" in out


@pytest.mark.parametrize("stack", ["staging", "preview-pr-0", "preview-pr-x", "Production"])
def test_bad_stack_name(tmp_path: Path, capsys: pytest.CaptureFixture[str], stack: str) -> None:
    assert main(["preflight", "--stack", stack, "--config", write(tmp_path, {})]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "preview-pr-<N>" in err and len(err.splitlines()) == 1


def test_unreadable_and_invalid_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "preflight", "--stack", "production", "--config", str(tmp_path / "nope.json"))
    assert code == 2 and err.startswith("error: cannot read config file") and "Traceback" not in err
    bad = tmp_path / "bad.json"
    bad.write_text('{"prometheus:authToken": {"value": "CANARY' + hex_(20) + '", "secret": true')
    code, _, err = run(capsys, "preflight", "--stack", "production", "--config", str(bad))
    assert code == 2 and "is not valid JSON (line 1" in err and "CANARY" not in err
    bad.write_text('{"prometheus:authToken": "CANARY"}')
    code, _, err = run(capsys, "preflight", "--stack", "production", "--config", str(bad))
    assert code == 2 and 'entry "prometheus:authToken"' in err and "CANARY" not in err


def test_config_from_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io

    values = full_config()
    monkeypatch.setattr(sys, "stdin", io.StringIO(to_json(values)))
    code, out, _ = run(capsys, "preflight", "--stack", "production", "--config", "-")
    assert code == 0 and "OK" in out


def fake_pulumi(tmp_path: Path, body: str) -> str:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "pulumi"
    exe.write_text(f"#!{sys.executable}\n{body}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return str(bindir)


def test_reads_config_with_the_pulumi_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    values = full_config()
    (tmp_path / "cfg.json").write_text(to_json(values))
    argv_log = tmp_path / "argv.json"
    bindir = fake_pulumi(
        tmp_path,
        f"import json, sys\njson.dump(sys.argv[1:], open({str(argv_log)!r}, 'w'))\nsys.stdout.write(open({str(tmp_path / 'cfg.json')!r}).read())",
    )
    monkeypatch.setenv("PATH", bindir + os.pathsep + os.environ["PATH"])
    code, out, err = run(capsys, "preflight", "--stack", "preview-pr-12")
    assert code == 0, out
    assert json.loads(argv_log.read_text()) == ["config", "--show-secrets", "--json", "--stack", "preview-pr-12"]
    assert "reading config of stack preview-pr-12" in err  # stderr is not a TTY here: one line, no spinner
    assert_no_leak(out + err, values)


def test_pulumi_cli_failure_does_not_echo_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    bindir = fake_pulumi(tmp_path, "import sys\nprint('CANARY-out')\nprint('error: no stack named x found', file=sys.stderr)\nsys.exit(255)")
    monkeypatch.setenv("PATH", bindir + os.pathsep + os.environ["PATH"])
    code, out, err = run(capsys, "preflight", "--stack", "production")
    assert code == 2
    assert "error: `pulumi config --json --stack production` failed: error: no stack named x found" in err
    assert "CANARY" not in out + err


def test_no_pulumi_cli_and_no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _, err = run(capsys, "preflight", "--stack", "production")
    assert code == 2 and "pulumi CLI is not on PATH" in err and "--config" in err


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("preflight", "inventory", "plan", "rotation"):
        with pytest.raises(SystemExit) as exc:
            main([command, "--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert "examples:" in out and f"secret-chain {command}" in out


def test_subprocess_entry_point(tmp_path: Path) -> None:
    values = full_config()
    values["namespace:imagePullSecret.token"] = ("github_pat_CANARY" + hex_(40), True)
    result = subprocess.run(
        [sys.executable, "-m", "secret_chain", "preflight", "--stack", "production", "--config", write(tmp_path, values)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 1
    assert 'config "namespace:imagePullSecret.token"' in result.stdout and "classic" in result.stdout
    assert "Traceback" not in result.stderr
    assert_no_leak(result.stdout + result.stderr, values)
    argv = [sys.executable, "-m", "secret_chain", "preflight", "--stack", "prod"]
    bad = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_rotation_in_progress_warns_and_refuses_the_same_token_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = full_config()
    code, out, _ = run(capsys, "preflight", "--stack", "production", "--config", write(tmp_path, values), "--json")
    report = json.loads(out)
    assert code == 0
    (warning,) = [w for w in report["warnings"] if w["kind"] == "rotation"]
    assert warning["key"] == "prometheus:previousAuthToken" and "docs/rotation.md#prometheus-previousauthtoken" in warning["message"]
    values["prometheus:previousAuthToken"] = values["prometheus:authToken"]
    code, out, _ = run(capsys, "preflight", "--stack", "production", "--config", write(tmp_path, values), "--json")
    report = json.loads(out)
    assert code == 1
    assert [(p["key"], p["kind"]) for p in report["problems"]] == [("prometheus:authToken", "rule")]
    assert 'pulumi env set acme/secret-chain/Production pulumiConfig.prometheus:authToken' in report["problems"][0]["fix"]
    assert_no_leak(out, values)
