"""Any stack name (issue 21 item 2): a stack declares its kind in ``secret-chain:stackKind``, and every command names a
stack as the Pulumi CLI does (``<stack>``, ``<org>/<stack>``, ``<org>/<project>/<stack>``).

The done-when test: a stack named ``prod`` declaring ``production`` builds (update and preview), preflights and plans
exactly like ``production``, apart from the stack's name in URNs and reports. The rest: what a name and a declared kind
mean together (a reserved name declares only its own kind; a stack of any other name that declares nothing stops with
one line naming the setting and its fix), a PR kind on a stack of another name (its namespace comes from the kind, the
namespace rule follows it, and the policy pack, which knows PR stacks by name, still refuses it), the reference rules
(pulumi/pulumi ``pkg/backend/httpstate/backend.go`` ``parseStackName``/``ValidateStackName``), ``pulumi config`` passed
the whole reference, and rotation reading the kind from the state.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from pulumi.asset import StringAsset

from secret_chain import catalog
from secret_chain.errors import ConfigError
from secret_chain.ops import preflight
from secret_chain.ops.cli import main as cli
from secret_chain.ops.offline import Evaluation, Registration, evaluate, parse_config
from secret_chain.program import main as program
from tests.test_stacks import STACKS, build, cli_entry, stack_document

ROOT = Path(__file__).resolve().parent.parent
KEY = "secret-chain:stackKind"
"""The stack setting that declares a stack's kind (spelled out: a test of the code before it existed must fail, not error)."""


def test_the_catalog_holds_the_setting_with_its_check_and_fix() -> None:
    entry = catalog.BY_KEY[KEY]
    assert entry.tier is catalog.Tier.STACK and not entry.secret and entry.example == "production"
    for kind in ("production", "preview-base", "preview-pr-7", "bootstrap"):
        assert entry.check(kind) == kind
    for bad in ("prod", "preview-pr-0", "preview-pr-07", "preview-pr-", "Production", ""):
        with pytest.raises(ValueError, match=r"is not a stack kind|empty"):
            entry.check(bad)


def declared(stack: str, kind: str | None) -> dict[str, dict[str, Any]]:
    """The committed stack ``stack``'s config (:func:`tests.test_stacks.stack_document`), declaring ``kind`` (None: nothing)."""
    document = stack_document(stack)
    if kind is not None:
        document[KEY] = cli_entry(kind)
    return document


def renamed(value: Any, old: str, new: str) -> Any:
    """``value`` with every URN of stack ``old`` written as one of stack ``new`` (``urn:pulumi:<stack>::``).

    And the root stack resource's name, ``<project>-<stack>`` (pulumi/pulumi sdk/python/lib/pulumi/runtime/stack.py,
    ``Stack``: ``name = f"{get_project()}-{get_stack()}"``).
    """
    if isinstance(value, str):
        value = value.replace(f"urn:pulumi:{old}::", f"urn:pulumi:{new}::")
        return re.sub(rf"(^|::)secret-chain-{re.escape(old)}$", rf"\g<1>secret-chain-{new}", value)
    if isinstance(value, dict):
        return {renamed(k, old, new): renamed(v, old, new) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(renamed(v, old, new) for v in value)
    if isinstance(value, Registration):
        return Registration(**{f: renamed(getattr(value, f), old, new) for f in value.__dataclass_fields__})
    if isinstance(value, StringAsset):  # compared by identity otherwise: its text is what the engine gets
        return ("StringAsset", renamed(value.text, old, new))
    return value


def same_apart_from_the_name(ev: Evaluation, other: Evaluation) -> None:
    """``ev`` (stack ``ev.stack``) registered exactly what ``other`` did, URNs' stack names aside."""
    # By URN: the SDK registers children from concurrent tasks, so the order of two siblings is not part of the result.
    mine = sorted((renamed(r, ev.stack, other.stack) for r in ev.registrations), key=lambda r: r.urn)
    assert mine == sorted((renamed(r, other.stack, other.stack) for r in other.registrations), key=lambda r: r.urn)
    assert renamed(ev.component_outputs, ev.stack, other.stack) == other.component_outputs
    assert ev.stack_outputs == other.stack_outputs


# --- the done-when test: prod declaring production is production ------------------------------------------------------


def test_a_stack_named_prod_declaring_production_builds_exactly_as_production(preview: bool) -> None:
    reference_config, reference_keys = parse_config(stack_document("production"))
    reference = evaluate(program, config=reference_config, secret_keys=reference_keys, stack="production", preview=preview)
    config, secret_keys = parse_config(declared("production", "production"))
    prod = evaluate(program, config=config, secret_keys=secret_keys, stack="prod", preview=preview)
    assert prod.stack_outputs["parts"] == STACKS["production"][3]
    assert prod.stack_outputs["stackKind"] == "production"
    same_apart_from_the_name(prod, reference)
    # Production's own names: the application namespace, no -preview suffix, the GitHub environment production.
    github = [r for r in prod.resources if r.type == "github:index/repositoryEnvironment:RepositoryEnvironment"]
    assert [r.inputs["environment"] for r in github] == ["production"]


def test_prod_preflights_exactly_as_production() -> None:
    config, secret_keys = parse_config(declared("production", "production"))
    prod = preflight.check(config, secret_keys, "prod").as_json()
    reference = preflight.check(*parse_config(stack_document("production")), "production").as_json()
    assert prod["ok"] is True and prod["kind"] == "production" and prod["stack"] == "prod"
    # The declared key is a stack setting preflight checks too; everything else is production's.
    assert KEY in prod["checked"]
    prod["checked"].remove(KEY)
    assert {**prod, "stack": "production"} == reference


@pytest.mark.parametrize("ref", ["prod", "example-org/prod", "example-org/secret-chain/prod"])
def test_every_command_takes_the_stack_as_the_pulumi_cli_does(ref: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prod, production = tmp_path / "prod.json", tmp_path / "production.json"
    prod.write_text(json.dumps(declared("production", "production")))
    production.write_text(json.dumps(stack_document("production")))
    for command in (["preflight", "--json"], ["plan", "--json"], ["plan", "--json", "--preview"]):
        assert cli([command[0], "--stack", ref, "--config", str(prod), *command[1:]]) == 0
        mine = json.loads(capsys.readouterr().out)
        assert cli([command[0], "--stack", "production", "--config", str(production), *command[1:]]) == 0
        theirs = json.loads(capsys.readouterr().out)
        assert mine["stack"] == (ref if command[0] == "preflight" else "prod")
        if command[0] == "preflight":
            mine["checked"].remove(KEY)
        assert {**mine, "stack": "production"} == theirs, command
    assert cli(["preflight", "--stack", ref, "--config", str(prod)]) == 0
    assert capsys.readouterr().out.startswith(f"Preflight of stack {ref}, of kind production (attaches ESC environment acme/")


# --- kinds and names ----------------------------------------------------------------------------------------------------


def test_a_stack_of_another_name_that_declares_nothing_stops_with_one_line_naming_the_setting() -> None:
    config, secret_keys = parse_config(stack_document("production"))
    outcome = build("prod", config, secret_keys)  # asserts that nothing but the stack was registered
    assert isinstance(outcome, ConfigError)
    (line,) = outcome.problems
    assert line.startswith(f'stack prod declares no kind (config "{KEY}") and its name is none of production, preview-base'), line
    assert line.endswith(f"Fix: pulumi config set {KEY} production, or preview-base, preview-pr-<N> or bootstrap: the kind of this stack")


def test_a_declared_value_that_is_no_kind_is_the_keys_own_problem() -> None:
    config, secret_keys = parse_config(declared("production", "prodution"))
    outcome = build("prod", config, secret_keys)
    assert isinstance(outcome, ConfigError)
    (line,) = outcome.problems
    assert line.startswith(f'config "{KEY}" is not a stack kind: use production, preview-base, preview-pr-<N>'), line
    assert line.endswith(f"Fix: pulumi config set {KEY} production")


@pytest.mark.parametrize(
    ("stack", "kind"),
    [("preview-pr-8", "preview-pr-7"), ("preview-pr-7", "production"), ("production", "preview-base"), ("preview-pr-07", "preview-pr-7")],
)
def test_a_reserved_name_declares_only_its_own_kind(stack: str, kind: str) -> None:
    # The workflows and the policy pack know these stacks by name: a PR's stack declaring production, or another PR, would
    # have the program and the pack disagree on what the stack may write. Refused before anything is registered.
    source = "preview-pr-7" if stack.startswith("preview-pr") else stack
    config, secret_keys = parse_config(declared(source, kind))
    outcome = build(stack, config, secret_keys)
    assert isinstance(outcome, ConfigError)
    (line,) = outcome.problems
    assert f"stack {stack} declares kind {kind} (config " in line
    assert line.endswith(f"Fix: pulumi config rm {KEY}")


def test_a_reserved_name_may_declare_its_own_kind() -> None:
    config, secret_keys = parse_config(declared("preview-pr-7", "preview-pr-7"))
    reference = evaluate(program, config=parse_config(stack_document("preview-pr-7"))[0], secret_keys=secret_keys, stack="preview-pr-7")
    same_apart_from_the_name(evaluate(program, config=config, secret_keys=secret_keys, stack="preview-pr-7"), reference)


def test_preflight_reports_a_reserved_name_declaring_another_kind_as_a_problem(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(declared("preview-pr-7", "production")))
    assert cli(["preflight", "--stack", "acme/preview-pr-7", "--config", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "preview-pr-7"  # checked as its name says
    assert [(p["key"], p["kind"], p["fix"]) for p in report["problems"]] == [(KEY, "conflict", f"pulumi config rm {KEY}")]


def test_commands_name_the_setting_for_a_stack_of_unknown_kind(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(stack_document("production")))
    for command in ("preflight", "plan"):
        assert cli([command, "--stack", "acme/secret-chain/prod", "--config", str(path)]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        (line,) = err.splitlines()
        assert line.startswith(f'error: stack prod declares no kind (config "{KEY}")'), line
        assert f"Fix: pulumi config set {KEY} production" in line


def test_any_name_declaring_preview_base_is_preview_base(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config, secret_keys = parse_config(declared("preview-base", "preview-base"))
    staging = evaluate(program, config=config, secret_keys=secret_keys, stack="staging")
    reference = evaluate(program, config=parse_config(stack_document("preview-base"))[0], secret_keys=secret_keys, stack="preview-base")
    same_apart_from_the_name(staging, reference)
    names = {r.inputs["metadata"]["name"] for r in staging.resources if r.type.startswith("kubernetes:") and "metadata" in r.inputs}
    assert any(name.endswith("-preview") for name in names)  # preview-base's own object names, never production's
    document = declared("preview-base", "preview-base")
    del document[catalog.ESC_ENVIRONMENT.key]  # the fix commands name the kind's environment, not a guess from the name
    assert preflight.check(*parse_config(document), "staging").environment == "<org>/secret-chain/Preview"


def test_any_name_declaring_bootstrap_builds_the_esc_tier(preview: bool) -> None:
    from tests.test_bootstrap import stack_settings

    settings = stack_settings()
    reference = evaluate(program, config=settings, stack="bootstrap", preview=preview)
    tier = evaluate(program, config={**settings, KEY: "bootstrap"}, stack="esc-tier", preview=preview)
    same_apart_from_the_name(tier, reference)
    assert "stackKind" not in tier.stack_outputs  # the ESC tier, not a chain


# --- a pull request's kind on a stack of another name --------------------------------------------------------------------


def test_a_pr_kind_on_a_stack_of_another_name_builds_its_pr_layout_in_its_namespace() -> None:
    config, secret_keys = parse_config(declared("preview-pr-7", "preview-pr-7"))
    pr7 = evaluate(program, config=config, secret_keys=secret_keys, stack="pr-seven")
    reference = evaluate(program, config=config, secret_keys=secret_keys, stack="preview-pr-7")
    same_apart_from_the_name(pr7, reference)
    namespaces = {r.inputs["metadata"].get("namespace") for r in pr7.resources if r.type.startswith("kubernetes:core/v1:Secret")}
    assert namespaces == {"preview-pr-7"}
    (namespace,) = [r for r in pr7.resources if r.type == "kubernetes:core/v1:Namespace"]
    assert namespace.inputs["metadata"]["name"] == "preview-pr-7"


def test_the_pr_namespace_rule_follows_the_declared_kind() -> None:
    """validators.namespace: a PR namespace is written only by the stack of that kind, whatever it is named."""
    from secret_chain import PrometheusAuth

    def attempt(stack: str, kind: str, namespace: str) -> ConfigError | None:
        caught: list[ConfigError] = []

        def run() -> None:
            try:
                PrometheusAuth("metrics", {"namespace": namespace})
            except ConfigError as err:
                caught.append(err)

        config = {KEY: kind, catalog.PROMETHEUS_TOKEN.key: secrets.token_hex(32), catalog.MUTABLE_SECRETS.key: "true"}
        evaluate(run, config=config, secret_keys=[catalog.PROMETHEUS_TOKEN.key], stack=stack)
        return caught[0] if caught else None

    assert attempt("pr-seven", "preview-pr-7", "preview-pr-7") is None  # its own namespace
    refused = attempt("pr-seven", "preview-pr-7", "preview-pr-8")
    assert refused is not None and "only the stack of that kind may write into (this is stack preview-pr-7)" in str(refused)
    refused = attempt("prod", "production", "preview-pr-7")
    assert refused is not None and "(this is stack prod)" in str(refused)


def test_the_policy_pack_still_refuses_a_pr_layout_on_a_stack_not_named_for_it(tmp_path: Path) -> None:
    """The pack knows a PR stack by its name (the URN's stack, which the engine sets and the PR cannot), never by config
    the PR's checkout carries: a stack named otherwise that declares a PR kind is refused, so a PR cannot declare its
    way out of (or into another PR's) namespace. The same stack named preview-pr-7 passes; prod declaring production
    passes as production does."""
    from tests.policy_analysis import analyze, installed_copy

    pack = installed_copy(ROOT / "policy", tmp_path / "policy")
    config, secret_keys = parse_config(declared("preview-pr-7", "preview-pr-7"))
    assert analyze(pack, evaluate(program, config=config, secret_keys=secret_keys, stack="preview-pr-7").registrations).mandatory == []
    refused = analyze(pack, evaluate(program, config=config, secret_keys=secret_keys, stack="pr-seven").registrations).mandatory
    assert refused and {v.policy for v in refused} == {"pr-stack-confined-to-its-namespace"}
    assert any("which belongs to stack preview-pr-7" in v.message for v in refused)
    config, secret_keys = parse_config(declared("production", "production"))
    prod = analyze(pack, evaluate(program, config=config, secret_keys=secret_keys, stack="prod").registrations)
    reference_config = parse_config(stack_document("production"))[0]
    production = analyze(pack, evaluate(program, config=reference_config, secret_keys=secret_keys, stack="production").registrations)
    assert prod.mandatory == production.mandatory == []


# --- stack references -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "why"),
    [
        ("a/b/c/d", "could not parse stack name 'a/b/c/d'"),  # parseStackName: at most three parts
        ("/prod", "it has an empty part"),  # upstream infers an empty owner from the default org; a typo here
        ("acme//prod", "it has an empty part"),
        ("acme/secret-chain/", "a stack name may not be empty"),
        ("acme/pr od", "invalid character ' ' at position 2"),  # tokens.ParseStackName
        ("acme/prod!", "invalid character '!' at position 4"),
        ("a/prod", "invalid stack owner"),  # stackOwnerRegexp: 3 to 40 characters
        ("acme/my project/prod", "project names may only contain alphanumerics, hyphens, underscores, and periods"),
        ("p" * 101, "a stack name cannot exceed 100 characters"),
    ],
)
def test_a_bad_stack_reference_is_one_clear_error(ref: str, why: str, capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("preflight", "plan"):
        assert cli([command, "--stack", ref, "--config", "-"]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        (line,) = err.splitlines()
        assert line.startswith(f"error: secret-chain {command}: argument --stack: "), line
        assert "is not a stack reference" in line and why in line, line
        assert line.endswith("use <stack>, <org>/<stack> or <org>/<project>/<stack>"), line


def test_pulumi_config_is_passed_the_whole_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """``pulumi config --stack`` resolves the organisation and project itself (``ParseStackReference``): nothing is dropped."""
    (tmp_path / "config.json").write_text(json.dumps(declared("production", "production")))
    argv_log = tmp_path / "argv.json"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "pulumi"
    exe.write_text(
        f"#!{sys.executable}\nimport json, sys\njson.dump(sys.argv[1:], open({str(argv_log)!r}, 'w'))\n"
        f"sys.stdout.write(open({str(tmp_path / 'config.json')!r}).read())\n"
    )
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bindir) + os.pathsep + os.environ["PATH"])
    for command in ("preflight", "plan"):
        assert cli([command, "--stack", "example-org/secret-chain/prod"]) == 0
        assert json.loads(argv_log.read_text()) == ["config", "--show-secrets", "--json", "--stack", "example-org/secret-chain/prod"]
        assert "reading config of stack example-org/secret-chain/prod" in capsys.readouterr().err


def test_the_reference_port_keeps_upstreams_cases() -> None:
    """pulumi/pulumi sdk/go/common/tokens/stack_name_test.go (TestParseStackName_AcceptsValidInput/RejectsInvalidInput),
    and the three forms of ``parseStackName`` (pkg/backend/httpstate/backend.go, its doc comment's alpha/beta/gamma)."""
    from secret_chain.pulumi_rules import RuleError, StackReference, parse_stack_name, parse_stack_reference

    for name in ("my-stack", "stack", "s-92", "stack_foo", "foo_bar_123"):
        assert parse_stack_name(name) == name
    long = (
        "this-stack-name-is-just-too-long-for-the-service-to-handle-and-should-be-rejected-by-the-service-"
        "because-it-is-just-too-long-for-the-service-to-handle-and-should-be-rejected-by-the-service"
    )
    refused = {
        "": "a stack name may not be empty",
        long: "a stack name cannot exceed 100 characters",
        "!my stack!": "a stack name may only contain alphanumeric, hyphens, underscores, or periods: invalid character '!' at position 0",
        "my bad": "a stack name may only contain alphanumeric, hyphens, underscores, or periods: invalid character ' ' at position 2",
        "mybad%": "a stack name may only contain alphanumeric, hyphens, underscores, or periods: invalid character '%' at position 5",
        "foo/bar": "a stack name may only contain alphanumeric, hyphens, underscores, or periods: invalid character '/' at position 3",
    }
    for name, message in refused.items():
        with pytest.raises(RuleError, match=f"^{re.escape(message)}$"):
            parse_stack_name(name)
    assert parse_stack_reference("alpha") == StackReference("", "", "alpha")
    assert parse_stack_reference("alpha/beta") == StackReference("alpha", "", "beta")
    assert parse_stack_reference("alpha/beta/gamma") == StackReference("alpha", "beta", "gamma")


# --- rotation: the kind travels with the state ------------------------------------------------------------------------------


def test_rotation_names_the_declared_kinds_environment_from_the_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``pulumi stack export`` keeps the stack's outputs, not its config: the program exports ``stackKind`` for it."""
    config, secret_keys = parse_config(declared("production", "production"))
    ev = evaluate(program, config=config, secret_keys=secret_keys, stack="prod")
    assert ev.stack_outputs["stackKind"] == "production"
    secret = next(r for r in ev.resources if r.type == "kubernetes:core/v1:Secret")
    state = {
        "deployment": {
            "resources": [
                {"urn": "urn:pulumi:prod::secret-chain::pulumi:pulumi:Stack::secret-chain-prod", "type": "pulumi:pulumi:Stack",
                 "outputs": {"stackKind": "production", "parts": ev.stack_outputs["parts"]}},
                {"urn": secret.urn, "type": secret.type, "inputs": {"metadata": secret.inputs["metadata"]},
                 "outputs": {"metadata": secret.inputs["metadata"]}, "modified": "2020-01-01T00:00:00Z"},
            ]
        }
    }  # fmt: skip
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    cli(["rotation", "--state", str(path), "--json", "--now", "2026-06-01"])
    report = json.loads(capsys.readouterr().out)
    assert report["escEnvironment"] == "<org>/secret-chain/Production"
