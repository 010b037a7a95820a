"""Everything the package names or prints, checked against ports of the Pulumi CLI's and pulumi-kubernetes' own rules.

The ports live in ``components/secret_chain/pulumi_rules.py``; the first tests run them on the cases of the upstream
tests they port, so the later ones check against the CLI, not against our idea of it:
- ``config.ParseKey``: pulumi/pulumi sdk/go/common/resource/config/key_test.go (``TestParseKey``);
- ``resource.ParsePropertyPath``: pulumi/pulumi sdk/go/common/resource/properties_path_test.go (``TestPropertyPath``);
- ``parseRef``: the cases of its ``switch`` in pulumi/esc cmd/esc/cli/env.go;
- the provider flag rule: pulumi/pulumi-kubernetes provider/pkg/provider/provider.go ``Configure``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from secret_chain import catalog
from secret_chain.config import ESC_PROJECT, fix_command, set_command
from secret_chain.errors import ConfigError
from secret_chain.ops.offline import parse_config
from secret_chain.pulumi_rules import (
    ConfigKey,
    RuleError,
    parse_env_ref,
    parse_key,
    parse_key_path,
    parse_property_path,
    provider_flag_enabled,
)
from tests.conftest import Run, canary_config, config_error

ROOT = Path(__file__).resolve().parent.parent


# --- the ports, on the upstream tests' own cases ---------------------------------------------------------------


def test_parse_key_matches_key_test_go() -> None:
    assert parse_key("test:config:key") == ConfigKey("test", "key")
    assert parse_key("test:key") == ConfigKey("test", "key")
    for bad in ("foo", "test:data:key"):
        with pytest.raises(RuleError, match="could not parse"):
            parse_key(bad)


def test_parse_key_refuses_the_runbooks_ghcr_keys() -> None:
    """The runbook's spelling is a path, not a key: the CLI refuses it (the breakage this module exists for)."""
    for key in ("namespace:imagePullSecret:username", "namespace:imagePullSecret:token", "a:b:c:d"):
        with pytest.raises(RuleError):
            parse_key(key)


PROPERTY_PATHS: list[tuple[str, list[Any]]] = [
    ("root", ["root"]),
    ("root.nested", ["root", "nested"]),
    ('root["nested"]', ["root", "nested"]),
    ("root.double.nest", ["root", "double", "nest"]),
    ('root["double"].nest', ["root", "double", "nest"]),
    ('root["double"]["nest"]', ["root", "double", "nest"]),
    ("root.array[0]", ["root", "array", 0]),
    ("root.array[1]", ["root", "array", 1]),
    ("root.array[0].nested", ["root", "array", 0, "nested"]),
    ("root.array2[0][1].nested", ["root", "array2", 0, 1, "nested"]),
    ("root.nested.array[0].double[1]", ["root", "nested", "array", 0, "double", 1]),
    ('root["key with \\"escaped\\" quotes"]', ["root", 'key with "escaped" quotes']),
    ('root["key with a ."]', ["root", "key with a ."]),
    ('["root key with \\"escaped\\" quotes"].nested', ['root key with "escaped" quotes', "nested"]),
    ('["root key with a ."][1]', ["root key with a .", 1]),
    ('root["*"].field[1]', ["root", "*", "field", 1]),
    ("root[*].field[2]", ["root", "*", "field", 2]),
    ("root[3].*[3]", ["root", 3, "*", 3]),
    ("*.bar", ["*", "bar"]),
    # not errors upstream either: they parse, and only fail to find a value
    ('root."double".nest', ["root", '"double"', "nest"]),
    ("root.[1]", ["root", 1]),
]


@pytest.mark.parametrize(("path", "parsed"), PROPERTY_PATHS, ids=[p for p, _ in PROPERTY_PATHS])
def test_parse_property_path_matches_properties_path_test_go(path: str, parsed: list[Any]) -> None:
    assert parse_property_path(path) == parsed


@pytest.mark.parametrize("path", ["root[", 'root["nested]', "root.array[abc]"])
def test_parse_property_path_syntax_errors(path: str) -> None:
    with pytest.raises(RuleError):
        parse_property_path(path)


def test_parse_key_path_is_parse_key_then_the_name_as_a_path() -> None:
    assert parse_key_path("namespace:imagePullSecret.token") == (ConfigKey("namespace", "imagePullSecret"), ["imagePullSecret", "token"])
    assert parse_key_path("aws:region") == (ConfigKey("aws", "region"), ["region"])
    with pytest.raises(RuleError, match="first path segement"):
        parse_key_path("ns:[0]")


def test_parse_env_ref_reads_two_parts_as_project_and_env() -> None:
    one, two, three = parse_env_ref("Base"), parse_env_ref("acme/Base"), parse_env_ref("acme/secret-chain/Base@3")
    assert (one.org, one.project, one.env, one.legacy) == (None, "default", "Base", True)
    assert (two.org, two.project, two.env, two.ambiguous) == (None, "acme", "Base", True)
    assert (three.org, three.project, three.env, three.version, three.ambiguous) == ("acme", "secret-chain", "Base", "3", False)


# --- everything the package names or prints ----------------------------------------------------------------------

_SUBSTITUTION = re.compile(r"\$\([^)]*\)")


def check_command(command: str) -> None:
    """Assert that ``command`` is one the real CLI accepts, as the shell hands it over, with each argument parsed
    by the port of the CLI's own parser. ``<key>``-style placeholders of generic documentation stand for a real key."""
    text = _SUBSTITUTION.sub("VALUE", command).replace("[--secret]", "").replace("<key>", "prometheus:authToken")
    # A secret reaches the CLI on standard input or from a file, never as an argument (config.set_command, issue 20):
    # the command is the pulumi stage of a pipeline (`openssl rand -hex 32 | tr -d '\n' | pulumi env set …`), without
    # its redirection (`pulumi config set --secret KEY < key.pem`).
    (text,) = [stage.strip() for stage in text.split(" | ") if stage.strip().startswith("pulumi ")]
    text = text.split(" < ")[0]
    argv = shlex.split(text)
    assert argv[0] == "pulumi", command
    for flag in ("--stack", "--file", "--value", "--env"):  # flags that take a value
        while flag in argv:
            del argv[argv.index(flag) : argv.index(flag) + 2]
    words = [w for w in argv[1:] if not w.startswith("-")]
    flags = {w for w in argv[1:] if w.startswith("--")}
    if words[:2] == ["env", "set"] or words[:2] in (["env", "get"], ["env", "rm"]):
        ref = parse_env_ref(words[2])
        assert ref.org is not None and not ref.ambiguous, f"{command}: {words[2]} is not <org>/<project>/<env>"
        if len(words) > 3:
            path = parse_property_path(words[3])
            assert path[0] == "pulumiConfig" and len(path) in (2, 3), command
            parse_key(str(path[1]))
    elif words[:2] in (["env", "init"], ["env", "edit"], ["env", "open"]):
        ref = parse_env_ref(words[2])
        assert ref.org is not None and not ref.ambiguous, f"{command}: {words[2]} is not <org>/<project>/<env>"
    elif words[:3] == ["config", "env", "add"]:
        for name in words[3:]:
            # written into the stack file, which names environments as <project>/<env> within the stack's org
            ref = parse_env_ref(name)
            assert ref.ambiguous and ref.project == ESC_PROJECT, f"{command}: {name} is not {ESC_PROJECT}/<env>"
    elif words[:2] == ["config", "set"]:
        key = words[2]
        if "--path" in flags:
            parse_key_path(key)
        else:
            parse_key(key)
    elif words[:2] in (["config", "rm"], ["config", "get"]):
        (parse_key_path if "--path" in flags else parse_key)(words[2])


@pytest.mark.parametrize("entry", catalog.KEYS, ids=[k.key for k in catalog.KEYS])
def test_every_catalog_key_is_one_the_cli_can_hold(entry: catalog.Key) -> None:
    config_key, path = parse_key_path(entry.key)
    assert str(config_key) == entry.config_key
    assert path == [config_key.name, entry.field] if entry.field else path == [config_key.name]
    for alias in entry.aliases:
        parse_key(alias)


@pytest.mark.parametrize("entry", catalog.KEYS, ids=[k.key for k in catalog.KEYS])
def test_every_printed_fix_command_is_accepted_by_the_cli(entry: catalog.Key) -> None:
    for environment in ("acme/secret-chain/Production", "<org>/secret-chain/Preview"):
        commands = fix_command(entry, environment).split(" (or, for this stack only: ")
        for command in [*commands, set_command(entry, environment)]:
            check_command(command.removesuffix(")"))


def _pulumi_commands(text: str) -> list[str]:
    """Every `pulumi config …` / `pulumi env …` command in a document (code spans, code blocks, comments, YAML runs)."""
    text = _SUBSTITUTION.sub("VALUE", text)  # a command substitution may hold `|` or `;` of its own
    found = re.findall(r"pulumi (?:config|env) [^\n`|;&]*", text)
    return [c.split("  #")[0].split(" # ")[0].rstrip(" ).,") for c in found]


DOCUMENTS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").rglob("*.md")),
    *sorted((ROOT / "esc").glob("*.yaml")),
    *sorted((ROOT / "stacks").glob("*.yaml")),
    *sorted((ROOT / ".github" / "workflows").glob("*.yml")),
    ROOT / "examples" / "yaml" / "Pulumi.yaml",
    ROOT / "examples" / "typescript" / "index.ts",
]


@pytest.mark.parametrize("path", DOCUMENTS, ids=[str(p.relative_to(ROOT)) for p in DOCUMENTS])
def test_every_documented_command_is_accepted_by_the_cli(path: Path) -> None:
    text = path.read_text(encoding="utf-8").replace('"$PULUMI_ORG', '"example-org').replace("$PULUMI_ORG", "example-org")
    for command in _pulumi_commands(text):
        if len([w for w in command.split() if not w.startswith("-")]) <= 3:
            continue  # prose that names a command ("`pulumi config set --path`"), not a command to run
        check_command(command)


def test_the_documents_hold_commands_to_check() -> None:
    """The scan above reads real commands (a regex that matched nothing would pass vacuously)."""
    tutorial = _pulumi_commands((ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8"))
    assert any(c.startswith("pulumi env set ") for c in tutorial) and any(c.startswith("pulumi config set ") for c in tutorial)
    esc = _pulumi_commands((ROOT / "docs" / "esc.md").read_text(encoding="utf-8"))
    assert any(c.startswith("pulumi env init ") for c in esc) and any(c.startswith("pulumi config env add ") for c in esc)


def _keys_of(path: Path) -> list[str]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if path.parent.name == "esc":
        return list(document["values"]["pulumiConfig"])
    return list(document.get("config", {}))


@pytest.mark.parametrize(
    "path",
    [*sorted((ROOT / "esc").glob("*.yaml")), *sorted((ROOT / "stacks").glob("*.yaml"))],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_every_key_in_esc_and_stack_files_parses(path: Path) -> None:
    keys = _keys_of(path)
    # Preview holds nothing of its own (preview-base reads only Base's values): it is an import and no key.
    assert keys or (path.name == "preview.yaml" and not yaml.safe_load(path.read_text())["values"]["pulumiConfig"])
    for key in keys:
        parse_key(key)


@pytest.mark.parametrize("path", sorted((ROOT / "examples" / "config").glob("*.json")), ids=lambda p: p.name)
def test_every_key_in_the_example_configs_parses_and_loads(path: Path) -> None:
    for key in json.loads(path.read_text()):
        parse_key(key)
    config, _ = parse_config(json.loads(path.read_text()))
    assert json.loads(config["namespace:imagePullSecret"]).keys() == {"username", "token"}


# --- one environment-reference scheme -----------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["production", "preview-base"])
def test_stack_files_import_the_environment_their_fix_commands_name(stack: str) -> None:
    """The organisation is the operator's, so the setting is not committed (issue 19: an example org would aim every fix
    at someone else's environments); the stack file tells how to set it, naming the environment it imports."""
    text = (ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text()
    document = yaml.safe_load(text)
    assert "secret-chain:escEnvironment" not in document["config"]
    (told,) = re.findall(r"pulumi config set secret-chain:escEnvironment (\S+)", text)
    configured = parse_env_ref(told)
    assert configured.org == "<org>" and configured.project == ESC_PROJECT and not configured.ambiguous
    for name in document.get("environment", []):
        ref = parse_env_ref(name)
        # A stack file's names are <project>/<env> in the stack's own org: the same environment as the setting.
        assert (ref.project, ref.env) == (configured.project, configured.env), name


def test_the_pr_template_leaves_the_environment_setting_to_ci() -> None:
    """CI attaches PullRequest and sets secret-chain:escEnvironment to the same environment (preview-deploy.yml)."""
    assert "secret-chain:escEnvironment" not in yaml.safe_load((ROOT / "stacks" / "Pulumi.preview-pr.yaml").read_text())["config"]
    workflow = (ROOT / ".github" / "workflows" / "preview-deploy.yml").read_text()
    attached = re.search(r"pulumi config env add (\S+)", workflow)
    configured = re.search(r'pulumi config set secret-chain:escEnvironment "\$PULUMI_ORG/(\S+)"', workflow)
    assert attached and configured and attached.group(1) == configured.group(1)


def test_esc_imports_name_the_environments_the_docs_create() -> None:
    readme = (ROOT / "docs" / "esc.md").read_text(encoding="utf-8")
    created = {parse_env_ref(c.split()[3]).env for c in _pulumi_commands(readme) if c.startswith("pulumi env init ")}
    assert created == {"Base", "Preview", "Production", "PullRequest"}
    for name in ("preview", "production"):
        for imported in yaml.safe_load((ROOT / "esc" / f"{name}.yaml").read_text())["imports"]:
            ref = parse_env_ref(imported)
            # "Base" alone would be default/Base (ESC docs, "imports"): not the environment `env init` created.
            assert ref.project == ESC_PROJECT and ref.env in created, imported


@pytest.mark.parametrize("value", ["acme/Production", "Production", "acme/secret-chain/Production@2", "acme/x y/Prod", "a/b/c/d"])
def test_esc_environment_setting_must_name_one_environment(value: str) -> None:
    with pytest.raises(Exception, match="<org>/<project>/<env>"):
        catalog.get("secret-chain:escEnvironment").check(value)


# --- exact flag semantics -------------------------------------------------------------------------------------------

FLAG_VALUES = [None, "true", "True", "TRUE", " true", "true\n", "1", "t", "false", ""]


@pytest.mark.parametrize("configured", FLAG_VALUES, ids=repr)
@pytest.mark.parametrize("environment", [None, "true", "1", "True"], ids=repr)
def test_components_accept_the_flag_exactly_when_the_provider_enables_it(
    run: Run, configured: str | None, environment: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from secret_chain import PrometheusAuth

    config, secret_keys = canary_config()
    config.pop("kubernetes:enableSecretMutable")
    if configured is not None:
        config["kubernetes:enableSecretMutable"] = configured
    if environment is not None:
        monkeypatch.setenv("PULUMI_K8S_ENABLE_SECRET_MUTABLE", environment)
    caught: list[ConfigError] = []

    def program() -> None:
        try:
            PrometheusAuth("metrics", {"namespace": "default"})
        except ConfigError as err:
            caught.append(err)

    run(program, config, secret_keys)
    enabled = provider_flag_enabled(configured, environment)
    assert (not caught) is enabled
    if caught:
        message = str(caught[0])
        assert "kubernetes:enableSecretMutable" in message and "true" in message


def _with_provider(make: Callable[[], pulumi.ProviderResource]) -> Callable[[], None]:
    def build() -> None:
        from secret_chain import PrometheusAuth

        PrometheusAuth("metrics", {"namespace": "default"}, pulumi.ResourceOptions(providers=[make()]))

    return build


def _plain_provider(flag: bool) -> Callable[[], pulumi.ProviderResource]:
    def make() -> pulumi.ProviderResource:
        from pulumi_kubernetes import Provider

        return Provider("cluster", enable_secret_mutable=flag)

    return make


@pytest.mark.parametrize("flag", [False, True])
def test_an_explicit_provider_whose_flag_cannot_be_read_is_refused(run: Run, flag: bool) -> None:
    config, secret_keys = canary_config()
    del config["kubernetes:enableSecretMutable"]
    caught: list[ConfigError] = []
    build = _with_provider(_plain_provider(flag))

    def program() -> None:
        try:
            build()
        except ConfigError as err:
            caught.append(err)

    ev = run(program, config, secret_keys)
    # the program's own provider is registered; the component registered nothing
    assert [r.type for r in ev.registrations] == ["pulumi:pulumi:Stack", "pulumi:providers:kubernetes"]
    (error,) = caught
    assert "mutable_secrets_provider" in str(error)


def test_a_provider_made_by_mutable_secrets_provider_is_accepted(run: Run) -> None:
    from secret_chain.kube import mutable_secrets_provider

    config, secret_keys = canary_config()
    del config["kubernetes:enableSecretMutable"]
    ev = run(_with_provider(lambda: mutable_secrets_provider("cluster")), config, secret_keys)
    (provider,) = ev.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["enableSecretMutable"] in (True, "true")
    with pytest.raises(ConfigError):
        mutable_secrets_provider("x", enable_secret_mutable=False)


# --- strict config types --------------------------------------------------------------------------------------------


def _cli(**entries: Any) -> dict[str, Any]:
    base = {"secret-chain:escEnvironment": {"value": "acme/secret-chain/Production", "secret": False}}
    return {**base, **entries}


CANARY = "ghp_CANARY" + "0" * 30


def _object(**fields: Any) -> dict[str, Any]:
    """An object key as the CLI prints it: its JSON text in ``value`` and the object in ``objectValue``."""
    return {"value": json.dumps(fields), "objectValue": fields, "secret": True}


STRICT_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "null-value": ({"secret-chain:domain": {"value": None, "secret": False}}, '"secret-chain:domain" has a "value" that is not a string'),
    "list-value": ({"secret-chain:domain": {"value": ["a"], "secret": False}}, '"secret-chain:domain" has a "value" that is not a string'),
    "bool-value": ({"secret-chain:domain": {"value": True, "secret": False}}, '"secret-chain:domain" has a "value" that is not a string'),
    "bool-object": ({"secret-chain:domain": {"value": "true", "objectValue": True, "secret": False}}, "is a JSON boolean; expected string"),
    "list-object": ({"secret-chain:appNamespace": {"value": '["a"]', "objectValue": ["a"], "secret": False}}, "is a JSON array"),
    "secret-hidden": ({"prometheus:authToken": {"secret": True}}, "run pulumi config --show-secrets --json"),
    "runbook-key": ({"namespace:imagePullSecret:token": {"value": CANARY, "secret": True}}, "the runbook's spelling"),
    "ghcr-string": ({"namespace:imagePullSecret": {"value": CANARY, "secret": True}}, "expected an object with fields username, token"),
    "ghcr-field-type": (
        {"namespace:imagePullSecret": _object(token=1, username="u")},
        "is a JSON integer in object namespace:imagePullSecret; expected a string",
    ),
    "ghcr-unknown-field": ({"namespace:imagePullSecret": _object(tokne=CANARY, username="u")}, "unknown field"),
}


@pytest.mark.parametrize("case", list(STRICT_CASES), ids=list(STRICT_CASES))
def test_config_of_the_wrong_json_type_is_an_error_naming_the_key(case: str) -> None:
    entries, expected = STRICT_CASES[case]
    with pytest.raises(ConfigError) as caught:
        parse_config(_cli(**entries))
    assert expected in str(caught.value)
    assert "CANARY" not in str(caught.value)


def test_scalars_the_catalog_accepts_as_json_arrive_as_the_program_sees_them() -> None:
    config, _ = parse_config(
        _cli(
            **{
                "grafana:smtpPort": {"value": "587", "objectValue": 587, "secret": False},
                "kubernetes:enableSecretMutable": {"value": "true", "objectValue": True, "secret": False},
                # what the printed `pulumi env set … pulumiConfig.ci:githubAppId 123456` stores: a YAML integer
                "ci:githubAppId": {"value": "123456", "objectValue": 123456, "secret": False},
                "flux:githubAppInstallationId": {"value": "87654321", "objectValue": 87654321, "secret": False},
                "github:owner": {"value": "acme", "secret": False},
            }
        )
    )
    assert config["grafana:smtpPort"] == "587" and config["kubernetes:enableSecretMutable"] == "true"
    assert config["ci:githubAppId"] == "123456" and config["flux:githubAppInstallationId"] == "87654321"


def test_a_ghcr_object_with_a_bad_field_fails_in_the_program_naming_the_field(run: Run) -> None:
    from secret_chain import GhcrPullSecret

    config, secret_keys = canary_config()
    raw_config = {k: v for k, v in config.items() if not k.startswith("namespace:imagePullSecret")}
    raw_config["namespace:imagePullSecret"] = json.dumps({"username": "octo-bot", "token": 5})
    error = config_error(run, lambda: GhcrPullSecret("pull", {"namespaces": ["default"]}), raw_config, secret_keys)
    assert 'config "namespace:imagePullSecret.token" is a JSON integer' in str(error)
    assert "pulumi config set --path --secret namespace:imagePullSecret.token" in str(error)


# --- every command the operator commands print -----------------------------------------------------------------


def _cli_output(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    from secret_chain.ops.cli import main

    main(list(argv))
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_every_command_the_operator_commands_print_is_accepted_by_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # preflight of a config where every catalog key is present and malformed (plain text where a secret belongs, too)
    bad = {"secret-chain:escEnvironment": {"value": "acme/secret-chain/Production", "secret": False}}
    for entry in catalog.KEYS:
        if entry.key == "secret-chain:escEnvironment" or entry.field:
            continue
        bad[entry.key] = {"value": "#", "secret": False}
        if entry.json_types == ("array",):  # a list setting (secret-chain:parts) as the CLI prints a YAML list
            bad[entry.key] = {"value": '["#"]', "objectValue": ["#"], "secret": False}
        elif entry.json_types == ("object",):  # a mapping setting (secret-chain:imageAutomation) as it prints a YAML mapping
            bad[entry.key] = {"value": '{"images": "#"}', "objectValue": {"images": "#"}, "secret": False}
    bad["namespace:imagePullSecret"] = {"value": '{"token": "#", "username": "#"}', "objectValue": {"token": "#", "username": "#"}, "secret": False}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    report = json.loads(_cli_output(capsys, "preflight", "--stack", "preview-pr-3", "--config", str(path), "--json"))
    outputs = [
        _cli_output(capsys, "preflight", "--stack", "production", "--config", str(path)),
        "\n".join(p["fix"] for p in report["problems"] + report["warnings"]),
        _cli_output(capsys, "rotation", "--state", str(ROOT / "tests" / "data" / "stack-export.json"), "--now", "2027-01-01"),
        _cli_output(capsys, "inventory"),
    ]
    commands = [c for text in outputs for c in _pulumi_commands(text)]
    assert len(commands) > 40  # the scan reads the real output
    for command in commands:
        if len([w for w in command.split() if not w.startswith("-")]) > 3:
            check_command(command)


# --- multi-line values: what the shell hands the CLI, and what the CLI keeps ------------------------------------

KNOWN_FLAGS = {"--secret", "--path", "--plaintext", "--stack", "--yes", "--value", "--show-secrets"}


def _argv_through_bash(command: str, workdir: Path) -> list[str]:
    """The argv the real shell gives ``pulumi`` for ``command`` (a stub ``pulumi`` prints it as JSON)."""
    import subprocess
    import sys

    stub = workdir / "pulumi"
    stub.write_text(f"#!{sys.executable}\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    stub.chmod(0o755)
    shell_path = {"PATH": f"{workdir}:/usr/bin:/bin"}
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=workdir, env=shell_path, check=True)
    argv: list[str] = json.loads(result.stdout)
    return argv


def _pflag_value(argv: list[str]) -> tuple[list[str], list[str]]:
    """(flags, positional args) as spf13/pflag parses them: an argument that starts with ``-`` is a flag until ``--``
    (flag.go ``parseArgs``), and a flag the command does not define is an error that quotes the whole argument."""
    flags: list[str] = []
    positional: list[str] = []
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            positional += rest
            break
        if arg.startswith("-") and len(arg) > 1:
            assert arg in KNOWN_FLAGS, f"pflag would refuse {arg[:12]}… (bad flag syntax / unknown flag), printing it"
            flags.append(arg)
        else:
            positional.append(arg)
    return flags, positional


SECRETS = [k for k in catalog.KEYS if k.secret]


def _run_through_bash(command: str, workdir: Path, stdin: str) -> list[dict[str, object]]:
    """Run ``command`` in the real shell with stub ``pulumi`` and ``openssl`` on PATH; what each stub call received.

    Each call records its argv, its standard input when it is not a terminal, and the files ``--file`` names, as the
    CLIs read them (pulumi/esc cmd/esc/cli/env_set.go: ``--file -`` reads stdin, ``--file PATH`` the file;
    pulumi/pulumi pkg/cmd/pulumi/config/config.go: ``config set`` without a value reads stdin).
    """
    import subprocess
    import sys

    log = workdir / "calls.jsonl"
    stub = (
        f"#!{sys.executable}\nimport json, os, sys\n"
        "data = sys.stdin.read() if not sys.stdin.isatty() else None\n"
        "files = {a: open(a).read() for a in sys.argv[1:] if os.path.isfile(a) and a.endswith('.pem')}\n"
        f"open({str(log)!r}, 'a').write(json.dumps({{'argv': sys.argv, 'stdin': data, 'files': files}}) + '\\n')\n"
        "if os.path.basename(sys.argv[0]) == 'openssl': sys.stdout.write(os.urandom(32).hex() + '\\n')\n"
    )
    for name in ("pulumi", "openssl"):
        (workdir / name).write_text(stub)
        (workdir / name).chmod(0o755)
    shell_path = {"PATH": f"{workdir}:/usr/bin:/bin"}
    subprocess.run(["bash", "-c", command], input=stdin, capture_output=True, text=True, cwd=workdir, env=shell_path, check=True)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    log.unlink()
    return calls


def _received(call: dict[str, object]) -> str:
    """The value a stub pulumi call received, as the real CLI would store it."""
    argv = [str(a) for a in call["argv"]]  # type: ignore[attr-defined]
    files = dict(call["files"])  # type: ignore[call-overload]
    if argv[1:3] == ["env", "set"]:  # as the ESC CLI reads it: the one port of env_set.go (pulumi_rules.env_set_value)
        from secret_chain.pulumi_rules import env_set_value, parse_env_set

        stdin = str(call["stdin"] or "").encode()
        value = env_set_value(parse_env_set(argv[3:]), stdin=stdin, read_file=lambda name: str(files[name]).encode())
        assert isinstance(value, dict) and set(value) == {"fn::secret"} and isinstance(value["fn::secret"], str), value
        return value["fn::secret"]
    return str(call["stdin"]).removesuffix("\n")  # config set: "trailing newlines are stripped, unless --raw"


@pytest.mark.parametrize("entry", SECRETS, ids=[k.key for k in SECRETS])
def test_a_secret_fix_command_never_puts_the_value_on_a_command_line(entry: catalog.Key, tmp_path: Path) -> None:
    """Issue 20: a printed fix put the value in an argument (`pulumi config set --secret prometheus:authToken $(openssl
    rand -hex 32)`, `pulumi env set … "$(printf '|\\n'; sed … key.pem)"`), which /proc/<pid>/cmdline shows every user and
    the shell's history keeps. Each command of each secret's fix now runs through the real shell: no process gets the
    value as an argument, and the CLI receives exactly the value: what the person pastes, the file's key, or the
    random value the command made."""
    from cryptography.hazmat.primitives import serialization

    from tests.conftest import rsa_pem

    # how the catalog says the value is made: a command ($(openssl rand -hex 32)), a file (a PEM key), or a person
    kind = "generate" if entry.example.startswith("$(") else "file" if entry.example_file else "stdin"
    source = entry.example_file
    pasted = "CANARY" + "7f" * 20
    pem = rsa_pem()
    if kind == "file":
        (tmp_path / source).write_text(pem)
    esc_command, stack_command = fix_command(entry, "acme/secret-chain/Production").split(" (or, for this stack only: ")
    stack_command = stack_command.split(")")[0]
    for command in (esc_command, stack_command, set_command(entry, "acme/secret-chain/Production")):
        calls = _run_through_bash(command, tmp_path, pasted + "\n")
        (call,) = [c for c in calls if os.path.basename(str(c["argv"][0])) == "pulumi"]  # type: ignore[index]
        argv = [str(a) for a in call["argv"][1:]]  # type: ignore[index]
        if "--file" in argv:
            del argv[argv.index("--file") : argv.index("--file") + 2]
        words = [a for a in argv if not a.startswith("-")]
        # env set ENV PATH, config set KEY: no value argument (it was the last word: "… ghp_… --secret", "$(openssl …)")
        assert len(words) == (4 if words[0] == "env" else 3), f"the value is an argument: {command}"
        value = _received(call)
        for each in calls:
            argv = " ".join(map(str, each["argv"]))  # type: ignore[call-overload]
            assert value not in argv and pasted not in argv and "PRIVATE KEY" not in argv, (command, each["argv"])
        assert "--secret" in call["argv"]  # type: ignore[operator]
        if kind == "stdin":
            assert value == pasted, command
        elif kind == "file":
            assert value.strip() == pem.strip(), command
            serialization.load_pem_private_key(value.encode(), password=None)  # a key that still parses
        else:
            entry.check(value)  # 32 random bytes as hex, without the newline openssl ends them with
        if "env" in call["argv"][1:3]:  # type: ignore[index]
            assert "--string" in call["argv"]  # type: ignore[operator]


def test_a_dotted_key_is_bracket_quoted_in_esc_paths() -> None:
    from secret_chain.config import esc_path

    path = shlex.split(esc_path("secret-chain:github.token"))[0]
    assert parse_property_path(path) == ["pulumiConfig", "secret-chain:github.token"]
    assert parse_property_path(esc_path(catalog.get("prometheus:authToken"))) == ["pulumiConfig", "prometheus:authToken"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("string.bar", "string.bar: expected an array or an object"),
        ("object[0]", "object[0]: key for a map must be a string"),
        ("array.foo", "array.foo: key for an array must be an int"),
        ('string["a b"]', 'string["a b"]: expected an array or an object'),
    ],
)
def test_env_set_errors_print_the_path_as_the_esc_cli_does(path: str, message: str) -> None:
    """The ESC CLI's own test (pulumi/pulumi pkg/cmd/esc/cli/testdata/env-set-invalid.yaml): after `string foo`,
    `object {}` and `array []`, these sets fail with the path printed by resource.PropertyPath.String, not as a Go slice."""
    from secret_chain.pulumi_rules import RuleError, esc_env_set

    definition = {"values": {"string": "foo", "object": {}, "array": []}}
    with pytest.raises(RuleError) as refused:
        esc_env_set(definition, path, "baz")
    assert str(refused.value) == message


def test_env_set_names_an_unparsable_path_invalid() -> None:
    """env_set.go: `invalid path: %w` around resource.ParsePropertyPath's error."""
    from secret_chain.pulumi_rules import RuleError, esc_env_set

    with pytest.raises(RuleError, match=r"^invalid path: "):
        esc_env_set({"values": {}}, 'a["b', "x")
