"""Every printed ``pulumi env set`` names the environment whose own definition holds the node (issue 19, item 1).

``pulumi env set <env> <path> <value>`` fetches the named environment's definition, edits it with ``yamlNode.set`` and
stores it (pulumi/pulumi ``pkg/cmd/esc/cli/env_set.go``; the same code as pulumi/esc ``syntax/encoding/yaml.go``
``YAMLSyntax.Set``), ported as :func:`secret_chain.pulumi_rules.esc_env_set`. Two things go wrong when a fix names the
environment a stack *attaches* instead of the one that *holds* the node:

* a path through an implicit import (PullRequest's ``namespace:imagePullSecret`` is the string
  ``${environments.secret-chain.Base.pulumiConfig[…]}``) fails: ``expected an array or an object``;
* a path to an implicit import's leaf (PullRequest's ``grafana:githubOrg``) replaces the reference with a PR-only
  copy, and a key Base holds set in Production becomes a second, shadowing copy.

Each command printed by ``preflight``, by the program's ConfigError (the stack program on the mock runtime), by
``rotation`` and by the fix helpers themselves is applied, with the port, to the definitions in ``esc/*.yaml``; the
stack's environment is then evaluated as ESC does (imports in order, then the own values, an implicit import as the
referenced value: ESC docs, "Importing other environments"). The command must succeed, the stack must read the new
value, no interpolation may be replaced, and the key's node must still be defined in exactly one environment.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from secret_chain import catalog, environments
from secret_chain.catalog import Key, Tier
from secret_chain.config import esc_environment, fix_command, remove_command, set_command
from secret_chain.errors import ConfigError
from secret_chain.ops import preflight
from secret_chain.ops.offline import parse_config
from secret_chain.pulumi_rules import RuleError, esc_env_set, esc_interpolation, parse_property_path
from tests.test_cli_preflight import malformed
from tests.test_parts_matrix import _set
from tests.test_stacks import STACKS, build, stack_document

ROOT = Path(__file__).resolve().parent.parent
ORG = "acme"
ESC_KEYS = [k for k in catalog.KEYS if k.tier is Tier.ESC]
KINDS = {"production": "Production", "preview-base": "Preview", "preview-pr-7": "PullRequest"}
"""The chain's stack kinds and the environment each attaches (the bootstrap stack attaches none: test below)."""


@cache
def definitions() -> dict[str, dict[str, Any]]:
    """Each environment's definition as committed (``esc/<file>``), by name."""
    return {env.name: yaml.safe_load((ROOT / "esc" / env.file).read_text(encoding="utf-8")) for env in environments.ENVIRONMENTS}


def _config(document: dict[str, Any]) -> dict[str, Any]:
    values = document.get("values") or {}
    config = values.get("pulumiConfig") if isinstance(values, dict) else None
    return config if isinstance(config, dict) else {}


def _interpolation(value: object) -> list[str | int] | None:
    if isinstance(value, str) and value.startswith("${"):
        return esc_interpolation(value)
    return None


def composed(docs: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    """``values.pulumiConfig`` of environment ``name`` as ESC evaluates it: imports in order, then its own values; a
    value that is one interpolation ``${environments.<project>.<env>.pulumiConfig[…]…}`` is the referenced value."""
    result: dict[str, Any] = {}
    for imported in docs[name].get("imports") or []:
        project, env = imported.split("/")
        assert project == environments.ESC_PROJECT
        result.update(composed(docs, env))
    for key, value in _config(docs[name]).items():
        accessors = _interpolation(value)
        if accessors is None:
            result[key] = value
            continue
        assert accessors[:2] == ["environments", environments.ESC_PROJECT] and accessors[3] == "pulumiConfig", accessors
        node: Any = composed(docs, str(accessors[2]))
        for accessor in accessors[4:]:
            node = node[accessor]
        result[key] = node
    return result


def read(config: dict[str, Any], entry: Key) -> Any:
    """The value of ``entry`` in a composed ``pulumiConfig`` (a field inside its object key; ``fn::secret`` unwrapped)."""
    node = config.get(entry.config_key)
    if entry.field:
        node = node.get(entry.field) if isinstance(node, dict) else None
    return node["fn::secret"] if isinstance(node, dict) and set(node) == {"fn::secret"} else node


def definers(docs: dict[str, dict[str, Any]], name: str, entry: Key) -> list[str]:
    """The environments whose own definition of ``entry``'s node a stack attaching ``name`` sees (shadowed ones too).

    Explicit imports expose all their values; an implicit import only the value it refers to.
    """
    found: list[str] = []
    for imported in docs[name].get("imports") or []:
        found += definers(docs, imported.split("/")[1], entry)
    value = _config(docs[name]).get(entry.config_key)
    accessors = _interpolation(value)
    if accessors is not None:
        found += definers(docs, str(accessors[2]), entry)
    elif entry.config_key in _config(docs[name]):
        found.append(name)
    return sorted(set(found))


def interpolations(docs: dict[str, dict[str, Any]]) -> dict[tuple[str, str], str]:
    return {(env, key): value for env, doc in docs.items() for key, value in _config(doc).items() if _interpolation(value) is not None}


_SUBSTITUTION = re.compile(r"\$\([^)]*\)")


def env_set_commands(text: str) -> list[str]:
    """Every ``pulumi env set …`` in printed text, each up to where its line, clause or alternative ends."""
    text = _SUBSTITUTION.sub("VALUE", text)
    found = []
    for start in (m.start() for m in re.finditer(r"pulumi env set ", text)):
        command = re.split(r"\n| \(or, |; |, or |`", text[start:], maxsplit=1)[0]
        found.append(command.rstrip(" ).,"))
    return found


def problem(command: str, attached: str) -> str | None:
    """Why ``command``, run for a stack attaching environment ``attached``, does not set what it means to; None if it does."""
    argv = shlex.split(command)
    assert argv[:3] == ["pulumi", "env", "set"], command
    _, project, name = argv[3].split("/")  # the org: the configured one, or <org>
    assert project == environments.ESC_PROJECT, command
    path = parse_property_path(argv[4])
    assert path[0] == "pulumiConfig" and len(path) in (2, 3), command
    entry = catalog.get(f"{path[1]}.{path[2]}" if len(path) == 3 else str(path[1]))
    docs = copy.deepcopy(definitions())
    marker = f"MARK-{entry.key}"
    try:
        docs[name] = esc_env_set(docs[name], argv[4], marker, secret="--secret" in argv)
    except RuleError as err:
        return f"pulumi env set fails on {name}: {err}"
    replaced = sorted(f"{env}/{key}" for env, key in set(interpolations(definitions())) - set(interpolations(docs)))
    if replaced:
        return f"replaces the implicit import {', '.join(replaced)} with a copy"
    if read(composed(docs, attached), entry) != marker:
        return f"the stack attaching {attached} does not read the value set in {name}"
    held = definers(docs, attached, entry)
    if len(held) != 1:
        return f"{entry.config_key} is now defined in {', '.join(held)}: a second copy shadows or is shadowed"
    return None


def _variants(stack: str) -> list[dict[str, dict[str, Any]]]:
    """The stack as it deploys, then without each ESC key and with each ESC key malformed."""
    base = stack_document(stack)
    out = [base]
    for entry in ESC_KEYS:
        out.append(_set(base, entry, None))
        out.append(_set(base, entry, malformed(entry.key)))
    return out


@cache
def printed(stack: str) -> tuple[tuple[str, str], ...]:
    """(where it was printed, command) of every ``pulumi env set`` that preflight and the program print for ``stack``."""
    found: list[tuple[str, str]] = []
    for document in _variants(stack):
        try:
            config, secret_keys = parse_config(document)
        except ConfigError as err:  # a JSON type the loader refuses: its lines carry fixes too
            found += [("loader", c) for c in env_set_commands(str(err))]
            continue
        report = preflight.check(config, secret_keys, stack)
        found += [("preflight", c) for p in report.problems + report.warnings for c in env_set_commands(p.fix)]
        outcome = build(stack, config, secret_keys)
        if isinstance(outcome, ConfigError):
            found += [("program", c) for c in env_set_commands(str(outcome))]
    return tuple(dict.fromkeys(found))


@pytest.mark.parametrize("stack", sorted(KINDS))
def test_every_fix_preflight_and_the_program_print_sets_the_node_the_stack_reads(stack: str) -> None:
    attached = KINDS[stack]
    commands = printed(stack)
    assert commands, "the variants print fixes"
    wrong = [f"{where}: {command}\n    → {why}" for where, command in commands if (why := problem(command, attached))]
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("attached", [env.name for env in environments.ENVIRONMENTS if env is not environments.BASE])
@pytest.mark.parametrize("entry", ESC_KEYS, ids=[k.key for k in ESC_KEYS])
def test_every_key_fix_command_aims_at_the_environment_that_holds_it(entry: Key, attached: str) -> None:
    """Every key, for a stack attaching each environment: the helpers every component and command prints through."""
    environment = f"{ORG}/{environments.ESC_PROJECT}/{attached}"
    for command in env_set_commands(f"{fix_command(entry, environment)}\n{set_command(entry, environment)}"):
        assert problem(command, attached) is None, (command, problem(command, attached))


def test_remove_commands_name_the_environment_that_holds_the_key() -> None:
    for entry in ESC_KEYS:
        for attached in ("Production", "Preview", "PullRequest"):
            command = remove_command(entry, f"{ORG}/{environments.ESC_PROJECT}/{attached}", stack=False)
            named = shlex.split(command)[3].split("/")[2]
            holder = environments.BY_NAME[attached].holder(entry)
            assert holder is None or named == holder.name, command


def test_rotation_fixes_name_the_environment_that_holds_the_key(capsys: pytest.CaptureFixture[str]) -> None:
    from secret_chain.ops.cli import main

    main(["rotation", "--state", str(ROOT / "tests" / "data" / "stack-export.json"), "--now", "2027-01-01", "--json"])
    items = json.loads(capsys.readouterr().out)["items"]
    commands = [c for item in items for c in env_set_commands(item.get("fix", ""))]
    assert commands
    for command in commands:
        # the state is production's: its attached environment is Production
        assert problem(command, "Production") is None, command


def test_the_bootstrap_stack_prints_no_env_set() -> None:
    """The bootstrap stack attaches no environment (it creates them): its fixes are `pulumi config set` only."""
    assert esc_environment("bootstrap", "") == ""
    for entry in ESC_KEYS:
        assert "pulumi env" not in fix_command(entry, "")


def test_the_port_refuses_what_the_pr_environment_used_to_be_told() -> None:
    """The two commands of the issue, on esc/pull-request.yaml, fail the port's rule (so the checks above can fail)."""
    token = f"pulumi env set {ORG}/secret-chain/PullRequest pulumiConfig.namespace:imagePullSecret.token VALUE --secret"
    assert "expected an array or an object" in str(problem(token, "PullRequest"))
    org = f"pulumi env set {ORG}/secret-chain/PullRequest pulumiConfig.grafana:githubOrg acme"
    assert "replaces the implicit import PullRequest/grafana:githubOrg" in str(problem(org, "PullRequest"))
    copy_in_production = f"pulumi env set {ORG}/secret-chain/Production pulumiConfig.grafana:githubOrg acme"
    assert "defined in Base, Production" in str(problem(copy_in_production, "Production"))


def test_every_stack_kind_is_covered() -> None:
    assert set(KINDS) == set(STACKS)


@pytest.mark.parametrize("attached", sorted(set(KINDS.values())))
def test_every_rotation_step_sets_the_node_the_stack_reads(attached: str) -> None:
    """The rotation guide's steps for a stack attaching each environment (``rotation`` prints them: issue 21, item 8):
    each ``pulumi env set`` in them (phase 1 of prometheus:authToken sets prometheus:previousAuthToken) is aimed as a fix is."""
    from secret_chain.ops.inventory import rotation_steps

    environment = f"{ORG}/{environments.ESC_PROJECT}/{attached}"
    commands = [c for entry in ESC_KEYS for step in rotation_steps(entry, environment) for c in env_set_commands(step)]
    assert any("previousAuthToken" in c for c in commands)
    for command in commands:
        assert problem(command, attached) is None, (command, problem(command, attached))


# --- the value reaches env set whole: the ESC CLI's own reading of --file, standard input and --string ---------------
# pulumi/esc cmd/esc/cli/env_set.go (the same code in pulumi/pulumi pkg/cmd/esc/cli/env_set.go): "--file/-f: If set, the
# value is read from the specified file. Pass `-` to read from standard input", and "--string: true to treat the value
# as a string rather than attempting to parse it as YAML". Ported as pulumi_rules.parse_env_set and env_set_value.

BINARY = base64.b64decode("sFOZJGpvmbYHwHRLnCYSnQ==")
"""pulumi/pulumi pkg/cmd/esc/cli/testdata/env-set-file.yaml: the test's ``binary`` file (not UTF-8)."""
TESTDATA_FILES = {"test.file": b"hello world\n", "multiline": b"this is a\nmultiline\nfile\n", "binary": BINARY}


@pytest.mark.parametrize(
    ("argv", "stdin", "stored"),
    [
        # env-set-file.yaml: `echo "hello" | esc env set default/test foo -f=-` stores hello (YAML drops the newline) …
        (["default/test", "foo", "-f=-"], b"hello\n", "hello"),
        (["default/test", "foo", "-f=test.file"], b"", "hello world"),
        # … and with --string the file as it is, its newline and every line kept
        (["default/test", "foo", "-f=test.file", "--string"], b"", "hello world\n"),
        (["--string", "-f=multiline", "default/test", "foo"], b"", "this is a\nmultiline\nfile\n"),
        # env-set-string.yaml
        (["default/test", "path", "[a", "--string"], b"", "[a"),
        (["default/test", "path", "hi\x05world", "--string"], b"", "hi\x05world"),
        # env-set-secret.yaml: a non-string scalar with --secret is stored as the string typed
        (["default/test", "password", "1234", "--secret"], b"", {"fn::secret": "1234"}),
        (["default/test", "password", "123.4", "--secret"], b"", {"fn::secret": "123.4"}),
        (["default/test", "password", "false", "--secret"], b"", {"fn::secret": "false"}),
    ],
)
def test_the_env_set_port_reads_values_as_the_esc_clis_own_tests(argv: list[str], stdin: bytes, stored: object) -> None:
    from secret_chain.pulumi_rules import esc_env_set_command, parse_env_set

    definition = esc_env_set_command({"values": {"foo": "bar"}}, argv, stdin=stdin, read_file=TESTDATA_FILES.__getitem__)
    assert definition["values"] == {"foo": "bar", parse_env_set(argv).path: stored}


@pytest.mark.parametrize(
    ("argv", "stdin", "error"),
    [
        (["default/test", "-f=test.file"], b"", "expected a path"),
        (["-f=test.file"], b"", "accepts between 1 and 3 arg(s), received 0"),
        (["default/test", "-f=binary", "foo"], b"", "file content must be valid UTF-8"),
        (["-f=-", "default/test", "foo"], BINARY, "file content must be valid UTF-8"),
        (["default/test", "foo"], b"", "expected a path and a value"),
        (["default/test", "foo", "--file"], b"", "flag needs an argument: --file"),
        # --secret, --file and no --string: a number read as YAML sends RunE to args[1], which does not exist
        (["default/test", "foo", "--secret", "-f", "-"], b"1234\n", "runtime error: index out of range [1] with length 1"),
    ],
)
def test_the_env_set_port_fails_as_the_esc_cli_does(argv: list[str], stdin: bytes, error: str) -> None:
    from secret_chain.pulumi_rules import esc_env_set_command

    with pytest.raises(RuleError) as raised:
        esc_env_set_command({"values": {"foo": "bar"}}, argv, stdin=stdin, read_file=TESTDATA_FILES.__getitem__)
    assert str(raised.value) == error


SECRET_ESC_KEYS = [k for k in ESC_KEYS if k.secret]


@pytest.mark.parametrize("attached", sorted(set(KINDS.values())))
@pytest.mark.parametrize("entry", SECRET_ESC_KEYS, ids=[k.key for k in SECRET_ESC_KEYS])
def test_every_secret_fix_stores_the_value_whole_through_env_set(entry: Key, attached: str) -> None:
    """The printed ``pulumi env set`` of every secret, fed as its pipeline feeds it, stores exactly the value: a
    multi-line PEM key read with ``--file <key.pem>`` keeps every line (no ``printf | sed`` folding into a YAML block,
    no value on the command line), a pasted or generated one arrives on standard input without its newline."""
    from secret_chain.config import secret_source
    from secret_chain.pulumi_rules import env_set_value, parse_env_set
    from tests.conftest import rsa_pem

    environment = f"{ORG}/{environments.ESC_PROJECT}/{attached}"
    command = set_command(entry, environment)
    assert "printf" not in command and "sed " not in command
    pipeline, _, env_set = command.rpartition("pulumi env set ")
    kind, _ = secret_source(entry)
    value = {"file": rsa_pem(), "stdin": "CANARY" + "7f" * 20, "generate": "ab" * 32}[kind]
    if kind == "file":
        assert pipeline == "" and f"--file {entry.example_file}" in env_set
        stdin = b""
    else:
        assert pipeline.endswith("| tr -d '\\n' | ") and "--file -" in env_set  # the newline head/openssl end with, dropped
        stdin = value.encode()
    parsed = parse_env_set(shlex.split(env_set))
    assert parsed.string and parsed.secret and parsed.value is None
    stored = env_set_value(parsed, stdin=stdin, read_file={entry.example_file: value.encode()}.__getitem__)
    assert stored == {"fn::secret": value}
    if kind == "file":
        assert value.count("\n") > 20 and value.startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    docs = copy.deepcopy(definitions())
    name = parsed.environment.split("/")[2]
    docs[name] = esc_env_set(docs[name], parsed.path, stored)
    assert read(composed(docs, attached), entry) == value
