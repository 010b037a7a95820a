"""Run a GitHub Actions job as the runner runs it, against the simulated world (:mod:`tests.world`).

:meth:`Runner.run_job` loads ``.github/workflows/<file>``, takes an event (:func:`pull_request`, :func:`schedule`,
:func:`dispatch`), evaluates the job's ``if``, ``env``, ``with`` and ``run`` expressions (``${{ … }}``: the contexts
``github``, ``vars``, ``secrets``, ``env``, ``steps``, ``matrix``, ``runner``, ``job``; the functions ``format``,
``contains``, ``startsWith``, ``endsWith``, ``toJSON``, ``fromJSON``, ``success``, ``always``, ``cancelled``,
``failure``; the operators ``==``, ``!=``, ``<``, ``>``, ``&&``, ``||``, ``!``), and runs each ``run:`` step with
``bash --noprofile --norc -eo pipefail`` in a workspace that is a copy of the repository, honouring ``GITHUB_ENV``,
``GITHUB_PATH`` and ``GITHUB_OUTPUT`` (GitHub docs, "Workflow commands for GitHub Actions" → "Environment files").

:func:`pull_request_target` runs a workflow as GitHub runs one on that event: the default branch's definition and
checkout, the pull request only in the payload. A job is refused an event its workflow's ``on`` does not name.

``uses:`` steps get stand-ins that act on the same world: ``actions/checkout`` (copies the repository into the
workspace), ``actions/setup-python`` (the test interpreter is the Python), ``pulumi/actions`` (puts the ``pulumi``
stand-in on PATH), ``pulumi/auth-actions`` (exchanges the job's OIDC token against the policy the bootstrap stack
registered), ``actions/create-github-app-token`` (an installation token narrowed to its ``owner``, ``repositories``
and ``permission-*`` inputs). A matrix job runs once per :func:`matrix_entries` entry; its GitHub environment is
:func:`job_environment`. The programs the steps call are stand-ins on PATH too: ``pulumi``,
``gh``, ``curl`` (DigitalOcean API), ``kubectl`` (:func:`tests.world.main`), and ``make setup`` (links the test
interpreter into ``.venv`` instead of installing). ``secret-chain`` is the real CLI (``python -m secret_chain``) of
the workspace's copy. A job can stop after a named step (``until``); each step keeps its raw output, exit code and
``GITHUB_ENV`` writes next to the masked log.

:meth:`Runner.shell` runs a person's commands (the README's real path) with the same stand-ins, so the lifecycle's
direct stack runs and the workflow runs go through one engine; :meth:`Runner.pulumi_here` runs one of a person's
``pulumi`` commands in this process, on the same world file.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.world import WORLD_ENV, Call, InstallationToken, Locked, PulumiCli, WorldError

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"

# --------------------------------------------------------------------------------------------------------------------
# Expressions (GitHub docs, "Evaluate expressions in workflows and actions")
# --------------------------------------------------------------------------------------------------------------------


class ExpressionError(ValueError):
    pass


_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|<=|>=|&&|\|\||[()\[\].,!<>*])|(?P<id>[A-Za-z_][A-Za-z0-9_-]*))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ExpressionError(f"unexpected character at {pos} in {text!r}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def to_string(value: Any) -> str:
    """GitHub's string coercion: null is '', booleans 'true'/'false', objects and arrays JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def truthy(value: Any) -> bool:
    """Falsy: false, 0, -0, "", null, NaN (GitHub docs, "Operators")."""
    if value is None or value is False or value == "":
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)
    return True


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip()) if value.strip() else 0.0
        except ValueError:
            return math.nan
    return math.nan


def loose_equal(a: Any, b: Any) -> bool:
    """GitHub's loose equality: strings compare ignoring case; other mismatched types are coerced to numbers
    (GitHub docs, "Operators": "GitHub performs loose equality comparisons")."""
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    if type(a) is type(b) and not isinstance(a, (int, float)):
        return bool(a == b)
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return a is b
    return _number(a) == _number(b)


def _format(fmt: str, *args: Any) -> str:
    out, i = "", 0
    while i < len(fmt):
        if fmt.startswith("{{", i):
            out, i = out + "{", i + 2
        elif fmt.startswith("}}", i):
            out, i = out + "}", i + 2
        elif fmt[i] == "{":
            end = fmt.index("}", i)
            out, i = out + to_string(args[int(fmt[i + 1 : end])]), end + 1
        else:
            out, i = out + fmt[i], i + 1
    return out


class _Parser:
    def __init__(self, text: str, contexts: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.contexts = contexts
        self.functions = functions

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise ExpressionError(f"expected {value!r}, got {token!r}")
        self.pos += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()!r}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            value = value if truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.eq()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.eq()
            value = right if truthy(value) else value
        return value

    def eq(self) -> Any:
        value = self.cmp()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            right = self.cmp()
            value = loose_equal(value, right) if op == "==" else not loose_equal(value, right)
        return value

    def cmp(self) -> Any:
        value = self.unary()
        while self.peek() in (("op", "<"), ("op", ">"), ("op", "<="), ("op", ">=")):
            op = self.take()[1]
            a, b = _number(value), _number(self.unary())
            value = {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.postfix()

    def postfix(self) -> Any:
        value = self.primary()
        while self.peek() in (("op", "."), ("op", "[")):
            if self.take()[1] == ".":
                name = self.take()[1]
                value = _index(value, name)
            else:
                key = self.or_()
                self.take("]")
                value = _index(value, key)
        return value

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "num":
            return float(text)
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if (kind, text) == ("op", "("):
            value = self.or_()
            self.take(")")
            return value
        if kind == "id":
            lowered = text.lower()
            if lowered in ("true", "false"):
                return lowered == "true"
            if lowered == "null":
                return None
            if self.peek() == ("op", "("):
                self.take()
                args: list[Any] = []
                while self.peek() != ("op", ")"):
                    args.append(self.or_())
                    if self.peek() == ("op", ","):
                        self.take()
                self.take(")")
                function = self.functions.get(lowered)
                if function is None:
                    raise ExpressionError(f"unknown function {text}")
                return function(*args)
            if lowered not in self.contexts:
                raise ExpressionError(f"unrecognized named-value: '{text}'")
            return self.contexts[lowered]
        raise ExpressionError(f"unexpected {text!r}")


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, dict):
        if isinstance(key, str):
            for k, v in value.items():
                if k.lower() == key.lower():  # context property names are case-insensitive
                    return v
        return value.get(key)
    if isinstance(value, list) and isinstance(key, (int, float)) and 0 <= int(key) < len(value):
        return value[int(key)]
    return None


def evaluate(text: str, contexts: Mapping[str, Any], status: Mapping[str, bool] | None = None) -> Any:
    """The value of one expression (without ``${{ }}``)."""
    status = status or {"success": True, "failure": False, "cancelled": False}
    functions: dict[str, Callable[..., Any]] = {
        "format": lambda fmt, *args: _format(to_string(fmt), *args),
        "contains": lambda a, b: (to_string(b).lower() in to_string(a).lower()) if not isinstance(a, list) else any(loose_equal(x, b) for x in a),
        "startswith": lambda a, b: to_string(a).lower().startswith(to_string(b).lower()),
        "endswith": lambda a, b: to_string(a).lower().endswith(to_string(b).lower()),
        "tojson": lambda v: json.dumps(v, indent=2),
        "fromjson": lambda v: json.loads(to_string(v)),
        "join": lambda a, sep=",": to_string(sep).join(to_string(x) for x in a) if isinstance(a, list) else to_string(a),
        "success": lambda: status["success"],
        "failure": lambda: status["failure"],
        "cancelled": lambda: status["cancelled"],
        "always": lambda: True,
    }
    return _Parser(text, {k.lower(): v for k, v in contexts.items()}, functions).parse()


def interpolate(text: str, contexts: Mapping[str, Any]) -> str:
    """Replace every ``${{ expr }}`` in ``text`` with its value as a string."""
    out, rest = "", text
    while "${{" in rest:
        before, _, after = rest.partition("${{")
        end = after.find("}}")
        if end < 0:
            raise ExpressionError(f"unclosed expression in {text!r}")
        out += before + to_string(evaluate(after[:end], contexts))
        rest = after[end + 2 :]
    return out + rest


_STATUS_FUNCTIONS = re.compile(r"\b(success|failure|cancelled|always)\s*\(", re.IGNORECASE)


def condition(expr: Any, contexts: Mapping[str, Any], status: Mapping[str, bool]) -> bool:
    """A job's or step's ``if``: ``${{ }}`` optional; without a status function it means ``success() && (expr)``
    (GitHub docs, "Workflow syntax" → ``jobs.<job_id>.steps[*].if``)."""
    if expr is None:
        return status["success"]
    if isinstance(expr, bool):
        return expr and status["success"]
    text = str(expr).strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    if not _STATUS_FUNCTIONS.search(text):
        return status["success"] and truthy(evaluate(text, contexts, status))
    return truthy(evaluate(text, contexts, status))


# --------------------------------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class Event:
    name: str
    payload: dict[str, Any]
    ref: str
    sha: str

    @property
    def ref_name(self) -> str:
        return self.ref.removeprefix("refs/heads/").removeprefix("refs/tags/")


def pull_request(repo: str, number: int, action: str, *, branch: str | None = None, merged: bool = False, fork: str | None = None) -> Event:
    """A ``pull_request`` event (GitHub docs, "Events that trigger workflows" → pull_request: ``GITHUB_REF``
    ``refs/pull/<n>/merge``; webhook payload with ``number`` and ``pull_request.head.repo.full_name``)."""
    head = branch or f"feature-{number}"
    sha = f"{number:040x}"
    payload = {
        "action": action,
        "number": number,
        "pull_request": {
            "number": number,
            "merged": merged,
            "head": {"ref": head, "sha": sha, "repo": {"full_name": fork or repo}},
            "base": {"ref": "main", "repo": {"full_name": repo}},
        },
        "repository": {"full_name": repo, "default_branch": "main"},
    }
    return Event("pull_request", payload, f"refs/pull/{number}/merge", sha)


def pull_request_target(repo: str, number: int, action: str, *, branch: str | None = None, merged: bool = False, fork: str | None = None) -> Event:
    """A ``pull_request_target`` event: the payload of :func:`pull_request`, but the run is the default branch's
    (GitHub docs, "Events that trigger workflows" → pull_request_target: ``GITHUB_SHA`` "Last commit on the PR base
    branch", ``GITHUB_REF`` "PR base branch"; since 2025-12-08 always the default branch, GitHub changelog 2025-11-07
    "Actions pull_request_target and environment branch protections changes"). So the workflow definition and what
    ``actions/checkout`` checks out without a ``ref`` are the default branch's (here: the repository's one tree), never
    the pull request's head."""
    event = pull_request(repo, number, action, branch=branch, merged=merged, fork=fork)
    return Event("pull_request_target", event.payload, "refs/heads/main", "d" * 40)


def schedule(repo: str, cron: str = "17 6 * * 1") -> Event:
    """A ``schedule`` event: runs on the default branch's last commit (``GITHUB_REF`` the default branch)."""
    return Event("schedule", {"schedule": cron, "repository": {"full_name": repo, "default_branch": "main"}}, "refs/heads/main", "f" * 40)


def dispatch(repo: str, ref: str = "refs/heads/main", inputs: Mapping[str, str] | None = None) -> Event:
    """A ``workflow_dispatch`` event with the ``inputs`` the dispatcher typed (the payload's ``inputs``)."""
    payload = {"inputs": dict(inputs or {}), "ref": ref, "repository": {"full_name": repo, "default_branch": "main"}}
    return Event("workflow_dispatch", payload, ref, "e" * 40)


def _inputs(document: Mapping[str, Any], event: Event) -> dict[str, Any]:
    """The ``inputs`` context: for ``workflow_dispatch`` each declared input, the dispatcher's value else its ``default``;
    for any other event empty (GitHub docs, "Contexts" → ``inputs``: "available in a workflow triggered by the
    workflow_dispatch event"; an undeclared input is refused: "Unexpected inputs provided")."""
    if event.name != "workflow_dispatch":
        return {}
    on = document.get("on") or {}
    declared = ((on.get("workflow_dispatch") if isinstance(on, dict) else None) or {}).get("inputs") or {}
    given = dict(event.payload.get("inputs") or {})
    unexpected = sorted(set(given) - set(declared))
    if unexpected:
        raise AssertionError(f"Unexpected inputs provided: {unexpected}")
    return {name: given.get(name, (spec or {}).get("default", "")) for name, spec in declared.items()}


# --------------------------------------------------------------------------------------------------------------------
# Environment files (GitHub docs, "Workflow commands for GitHub Actions" → "Environment files")
# --------------------------------------------------------------------------------------------------------------------


def parse_env_file(text: str) -> dict[str, str]:
    """``NAME=value`` lines, and ``NAME<<DELIMITER`` … ``DELIMITER`` for multiline values ("Multiline strings")."""
    out: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value: list[str] = []
            while i < len(lines) and lines[i] != delimiter:
                value.append(lines[i])
                i += 1
            if i >= len(lines):
                raise ExpressionError(f"Matching delimiter not found '{delimiter}'")
            i += 1
            out[name] = "\n".join(value)
        elif "=" in line:
            name, value_text = line.split("=", 1)
            out[name] = value_text
        else:
            raise ExpressionError(f"Invalid format '{line}'")
    return out


# --------------------------------------------------------------------------------------------------------------------
# The runner
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class StepResult:
    name: str
    outcome: str
    """success, failure or skipped (GitHub's ``steps.<id>.outcome``)."""
    log: str = ""
    """What the job's log shows: the step's output with every mask applied."""
    outputs: dict[str, str] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""
    """What a ``run:`` step printed, before the runner masked anything (workflow commands such as ``::add-mask::``
    included)."""
    code: int | None = None
    """A ``run:`` step's exit status."""
    github_env: str = ""
    """What the step wrote to its ``$GITHUB_ENV`` file."""


@dataclass
class JobResult:
    workflow: str
    job: str
    steps: list[StepResult] = field(default_factory=list)
    skipped: bool = False
    masks: list[str] = field(default_factory=list)
    temp: Path | None = None
    """The job's ``$RUNNER_TEMP`` (``runner.temp``)."""
    workspace: Path | None = None
    """The job's ``$GITHUB_WORKSPACE``."""
    outputs: dict[str, str] = field(default_factory=dict)
    """``jobs.<job_id>.outputs`` evaluated at the end of the job (GitHub docs, "Passing information between jobs": "Job
    outputs containing expressions are evaluated on the runner at the end of each job"); an output that evaluates to the
    empty string is not set, so a matrix run's unique output names combine (:func:`needs_of`)."""

    @property
    def ok(self) -> bool:
        return all(s.outcome != "failure" for s in self.steps)

    @property
    def result(self) -> str:
        """The job's result as the ``needs`` context gives it: success, failure or skipped."""
        return "skipped" if self.skipped else "success" if self.ok else "failure"

    @property
    def log(self) -> str:
        return "\n".join(f"## {s.name} [{s.outcome}]\n{s.log}" for s in self.steps)

    def failed(self) -> list[StepResult]:
        return [s for s in self.steps if s.outcome == "failure"]


def needs_of(**jobs: Sequence[JobResult]) -> dict[str, dict[str, Any]]:
    """The ``needs`` context of a job that needs these jobs (each the runs of its matrix, or its one run).

    GitHub docs, "Contexts" → ``needs``: ``needs.<job_id>.result`` is success, failure, cancelled or skipped, and
    ``needs.<job_id>.outputs`` the job's outputs; "Passing information between jobs" → "Using job outputs in a matrix
    job": "When using a matrix, job outputs will be combined from all jobs inside the matrix" (its example gives each
    matrix run an output name of its own). A matrix job fails when any of its runs fails, and is skipped when every run is.
    """
    out: dict[str, dict[str, Any]] = {}
    for name, runs in jobs.items():
        results = {r.result for r in runs}
        result = "failure" if "failure" in results else "skipped" if results == {"skipped"} else "success"
        outputs: dict[str, str] = {}
        for run in runs:
            outputs.update(run.outputs)
        out[name.replace("_", "-")] = {"result": result, "outputs": outputs}
    return out


_NOT_IN_A_CHECKOUT = {".venv", ".pulumi", "__pycache__", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}


def repository_files(root: Path = ROOT) -> list[str]:
    """The files of the repository: in a git work tree the tracked and untracked-but-not-ignored ones; in a plain
    directory (the simulated origin a person pushes to) every file but local tool state."""
    if (root / ".git").exists():
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root, capture_output=True, check=True
        ).stdout.decode()
        return [p for p in listed.split("\0") if p and (root / p).is_file()]
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and not (_NOT_IN_A_CHECKOUT & set(p.relative_to(root).parts))]


def copy_repository(dest: Path, root: Path = ROOT) -> None:
    """``actions/checkout``: the repository's files at the event's ref (here: the working tree's) into ``dest``."""
    for rel in repository_files(root):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)


_STANDIN = """#!/bin/bash
# {tool} stand-in of the simulated world (tests/world.py); the code is the workspace's copy when it has one.
code_root="${{GITHUB_WORKSPACE:-{root}}}"
[ -f "$code_root/tests/world.py" ] || code_root="{root}"
# The tests from the project directory, the package from its source folder components/.
code_path="$code_root:$code_root/components"
PYTHONPATH="$code_path${{PYTHONPATH:+:$PYTHONPATH}}" exec "{python}" -c 'import sys; from tests.world import main; sys.exit(main("{tool}"))' "$@"
"""

_MAKE = """#!/bin/bash
# make stand-in: `make setup` wraps the test interpreter (which has every dependency) as .venv/bin/python and the
# package's console script as .venv/bin/secret-chain (the workspace's own copy), instead of installing; `make
# policy-venv` links it as policy/venv/bin/python (the pack's virtualenv); other targets go to the real make.
if [ "$1" = setup ] && [ "$2" = policy-venv ] && [ $# -eq 2 ]; then
  mkdir -p policy/venv/bin
  ln -sf "{python}" policy/venv/bin/python
  touch policy/venv/.installed
  echo "make policy-venv: policy/venv links the test interpreter"
  set -- setup
fi
if [ "$1" = setup ] && [ $# -eq 1 ]; then
  ws="$PWD"
  mkdir -p .venv/bin
  # .venv/bin/python runs the workspace's own package as an installed one would (`python -m secret_chain...`).
  for name in python python3; do
    cat > ".venv/bin/$name" <<EOF
#!/bin/bash
PYTHONPATH="$ws/components\\${{PYTHONPATH:+:\\$PYTHONPATH}}" exec "{python}" "\\$@"
EOF
    chmod +x ".venv/bin/$name"
  done
  cat > .venv/bin/secret-chain <<EOF
#!/bin/bash
PYTHONPATH="$ws/components\\${{PYTHONPATH:+:\\$PYTHONPATH}}" exec "{python}" -m secret_chain "\\$@"
EOF
  chmod +x .venv/bin/secret-chain
  touch .venv/.installed
  echo "make setup: .venv links the test interpreter"
  exit 0
fi
exec /usr/bin/make "$@"
"""


# The events whose activity types a workflow may filter with `types` (GitHub docs, "Events that trigger workflows").
_DEFAULT_TYPES = {"pull_request": ("opened", "synchronize", "reopened"), "pull_request_target": ("opened", "synchronize", "reopened")}


def _check_trigger(workflow: str, on: Any, event: Event) -> None:
    """GitHub starts a workflow only for the events its ``on`` names, and for ``pull_request``/``pull_request_target``
    only for the activity types in ``types`` (by default opened, synchronize, reopened: "Events that trigger workflows"
    → pull_request, pull_request_target). A test that sends a workflow an event it does not run on is wrong."""
    triggers = {on: None} if isinstance(on, str) else ({t: None for t in on} if isinstance(on, list) else dict(on or {}))
    if event.name not in triggers:
        raise AssertionError(f"{workflow} does not run on {event.name} (on: {sorted(triggers)})")
    action = event.payload.get("action")
    if event.name in _DEFAULT_TYPES and action is not None:
        types = (triggers[event.name] or {}).get("types") or _DEFAULT_TYPES[event.name]
        if action not in types:
            raise AssertionError(f"{workflow} does not run on {event.name} {action} (types: {list(types)})")


def matrix_entries(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One matrix context per run of the job: the combinations of its `strategy.matrix` lists, then each `include`
    entry that extends none of them as a run of its own (GitHub docs, "Running variations of jobs in a workflow":
    include; the workflows here add no include to a combination, and use no exclude)."""
    import itertools

    matrix = dict((job.get("strategy") or {}).get("matrix") or {})
    if not matrix:
        return [{}]
    include = matrix.pop("include", [])
    assert "exclude" not in matrix
    runs = [dict(zip(matrix, values, strict=True)) for values in itertools.product(*matrix.values())] if matrix else []
    return runs + [dict(entry) for entry in include]


def job_environment(job: Mapping[str, Any], matrix: Mapping[str, Any], github: Mapping[str, Any] | None = None) -> str | None:
    """The GitHub environment one run of the job references: `environment:` a name or an object with `name`, which may
    be an expression over the github, inputs, vars, needs, strategy and matrix contexts (GitHub docs, "Using
    environments for jobs"; "Contexts" → context availability)."""
    declared = job.get("environment")
    if isinstance(declared, dict):
        declared = declared.get("name")
    if declared is None:
        return None
    return interpolate(to_string(declared), {"github": dict(github or {}), "matrix": dict(matrix)}) or None


def _matrix_run(job: Mapping[str, Any], wanted: Mapping[str, Any] | None) -> dict[str, Any]:
    """The one run of the job's matrix that has every value of ``wanted`` (all of that run's values, ``include``'s
    extra keys too), as the runner expands ``strategy.matrix`` (:func:`matrix_entries`; GitHub docs,
    "Running variations of jobs in a workflow"); a job without a matrix runs once, with an empty matrix context."""
    runs = matrix_entries(dict(job))
    if runs == [{}] and not wanted:
        return {}
    chosen = [run for run in runs if all(run.get(k) == v for k, v in (wanted or {}).items())]
    if len(chosen) != 1:
        raise AssertionError(f"matrix {dict(wanted or {})} selects {len(chosen)} of the job's runs {runs}, not one")
    return chosen[0]


class Runner:
    """Runs workflow jobs and a person's shell commands against the world file ``world_path``."""

    def __init__(self, world_path: Path, repo: str, tmp: Path, root: Path = ROOT) -> None:
        self.world_path = world_path
        self.repo = repo
        self.tmp = tmp
        self.root = root
        self.tools = tmp / "tools"
        self.pulumi_bin = tmp / "pulumi-cli"
        self.api_url = "https://api.github.com"
        """``GITHUB_API_URL`` of every job (GitHub docs, "Variables" → default environment variables: "Returns the API URL.
        For example: https://api.github.com"); a test points it at a stand-in GitHub API as GitHub Enterprise Server would."""
        self.host_env: dict[str, str] = {}
        """The runner machine's own environment (a self-hosted runner's settings): what a test adds to every step, such as a
        stand-in API's base URL."""
        self._write_standins()

    def _write_standins(self) -> None:
        self.tools.mkdir(parents=True, exist_ok=True)
        self.pulumi_bin.mkdir(parents=True, exist_ok=True)
        for tool, directory in (("gh", self.tools), ("curl", self.tools), ("kubectl", self.tools), ("pulumi", self.pulumi_bin)):
            path = directory / tool
            path.write_text(_STANDIN.format(tool=tool, root=self.root, python=sys.executable))
            path.chmod(0o755)
        make = self.tools / "make"
        make.write_text(_MAKE.format(python=sys.executable))
        make.chmod(0o755)

    def base_path(self) -> str:
        """The runner image's PATH: the tool stand-ins, then the system's (bash, jq, git, coreutils)."""
        return f"{self.tools}:/usr/local/bin:/usr/bin:/bin"

    # --- a person at a terminal --------------------------------------------------------------------------------------

    def workspace(self, name: str) -> Path:
        """A clone of the repository for a person (made once; ``make setup`` done)."""
        path = self.tmp / "people" / name
        if not path.exists():
            path.mkdir(parents=True)
            copy_repository(path, self.root)
            subprocess.run([str(self.tools / "make"), "setup"], cwd=path, check=True, capture_output=True)
        return path

    def push(self, workspace: Path, *paths: str) -> None:
        """``git commit && git push``: a person's changed files land in the repository the workflows check out."""
        for rel in paths:
            target = self.root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(workspace / rel, target)

    def pulumi_here(self, argv: list[str], *, cwd: Path, env: Mapping[str, str]) -> tuple[int, str]:
        """One ``pulumi`` command of a person, run in this process (the same :class:`tests.world.PulumiCli` the stand-in
        runs, on the same world file): set-up steps without a subprocess each, and a program a test has patched (an
        older release) runs as it is here. Returns (exit code, output)."""
        lines: list[str] = []
        with Locked(self.world_path) as world:
            code = PulumiCli(world, cwd, {"HOME": str(self.tmp), **env}, lines.append, lines.append).run(list(argv))
            world.log.append(f"pulumi {' '.join(argv)} -> {code}")
            world.calls.append(Call("pulumi", list(argv), code, env.get("PULUMI_ACCESS_TOKEN", "")))
        return code, "\n".join(lines)

    def shell(self, script: str, *, cwd: Path, env: Mapping[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a person's commands (bash -eo pipefail) with the stand-ins on PATH, ``pulumi`` included."""
        home = self.tmp / "home-person"
        home.mkdir(exist_ok=True)
        environment = {
            "PATH": f"{cwd / '.venv' / 'bin'}:{self.pulumi_bin}:{self.base_path()}",
            "HOME": str(home),
            WORLD_ENV: str(self.world_path),
            "LANG": "C.UTF-8",
            **(env or {}),
        }
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd, env=environment, capture_output=True, text=True
        )
        if check and done.returncode != 0:
            raise AssertionError(f"command failed ({done.returncode}):\n{script}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}")
        return done

    # --- a workflow job ----------------------------------------------------------------------------------------------

    def run_job(
        self,
        workflow: str,
        job_id: str,
        event: Event,
        *,
        matrix: Mapping[str, Any] | None = None,
        until: str | None = None,
        needs: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> JobResult:
        """Run one job of ``workflow`` for ``event`` (one run of its matrix). ``until`` names a step (its ``name`` or
        ``id``): the job stops after it, as if cancelled there, so a test can look at the state that step leaves.
        ``needs``: the ``needs`` context (:func:`needs_of`) of the jobs its ``needs:`` names, which must be exactly those;
        the job's ``if:`` status functions see their results (GitHub docs, "Workflow syntax" → ``jobs.<job_id>.needs``:
        "If a job fails or is skipped, all jobs that need it are skipped unless the jobs use a conditional expression
        that causes the job to continue")."""
        document = yaml.safe_load((self.root / ".github" / "workflows" / workflow).read_text())
        if True in document:  # YAML 1.1 reads `on` as true
            document["on"] = document.pop(True)
        _check_trigger(workflow, document["on"], event)
        job = document["jobs"][job_id]
        declared_needs = job.get("needs") or []
        declared_needs = [declared_needs] if isinstance(declared_needs, str) else list(declared_needs)
        if set(declared_needs) != set(needs or {}):
            raise AssertionError(f"{workflow}/{job_id} needs {sorted(declared_needs)}: give exactly their results (needs_of)")
        matrix = _matrix_run(job, matrix)
        result = JobResult(workflow, job_id)
        run_dir = self.tmp / f"run-{workflow}-{job_id}-{len(list(self.tmp.glob('run-*')))}"
        workspace = run_dir / "workspace"
        temp = run_dir / "temp"
        home = run_dir / "home"
        for d in (workspace, temp, home):
            d.mkdir(parents=True)
        result.temp, result.workspace = temp, workspace
        event_path = temp / "event.json"
        event_path.write_text(json.dumps(event.payload))
        early = {"event_name": event.name, "event": event.payload, "repository": self.repo, "ref": event.ref}
        environment_name = job_environment(job, matrix or {}, early)
        with Locked(self.world_path) as world:
            variables = world.github.visible("variable", self.repo, environment_name)
            secrets_ = world.github.visible("secret", self.repo, environment_name)
        github = {
            "event_name": event.name,
            "event": event.payload,
            "repository": self.repo,
            "repository_owner": self.repo.split("/")[0],
            "ref": event.ref,
            "ref_name": event.ref_name if event.name != "pull_request" else f"{event.payload['number']}/merge",
            "sha": event.sha,
            "workspace": str(workspace),
            "run_id": "1",
            "actor": "octocat",
            "server_url": "https://github.com",
            "job": job_id,
        }
        masks = [v for v in secrets_.values() if v]
        result.masks = masks
        contexts: dict[str, Any] = {
            "github": github,
            "vars": variables,
            "secrets": secrets_,
            "matrix": dict(matrix or {}),
            "runner": {"temp": str(temp), "os": "Linux"},
            "steps": {},
            "job": {"status": "success"},
            "env": {},
            "inputs": _inputs(document, event),
            "strategy": {},
            "needs": {k: dict(v) for k, v in (needs or {}).items()},
        }
        workflow_env = {k: interpolate(to_string(v), contexts) for k, v in (document.get("env") or {}).items()}
        contexts["env"] = dict(workflow_env)
        needed = {str(v.get("result")) for v in (needs or {}).values()}
        job_status = {"success": needed <= {"success"}, "failure": "failure" in needed, "cancelled": False}
        if not condition(job.get("if"), contexts, job_status):
            result.skipped = True
            return result
        job_env = dict(workflow_env)
        for k, v in (job.get("env") or {}).items():
            job_env[k] = interpolate(to_string(v), contexts)
        defaults = ((document.get("defaults") or {}).get("run") or {}) | ((job.get("defaults") or {}).get("run") or {})
        github_env: dict[str, str] = {}
        path_entries: list[str] = []
        permissions = job.get("permissions", document.get("permissions")) or {}
        failed = False
        for index, step in enumerate(job.get("steps") or []):
            name = step.get("name") or step.get("uses") or (step.get("run") or "").splitlines()[0]
            contexts["env"] = {**job_env, **github_env}
            status = {"success": not failed, "failure": failed, "cancelled": False}
            if not condition(step.get("if"), contexts, status):
                result.steps.append(StepResult(name, "skipped"))
                if step.get("id"):
                    contexts["steps"][step["id"]] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
                continue
            step_env = {**job_env, **github_env}
            for k, v in (step.get("env") or {}).items():
                step_env[k] = interpolate(to_string(v), contexts)
            files = {n: temp / f"{n.lower()}-{index}" for n in ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")}
            for f in files.values():
                f.write_text("")
            process_env = {
                "PATH": ":".join([*reversed(path_entries), self.base_path()]),
                "HOME": str(home),
                "LANG": "C.UTF-8",
                "CI": "true",
                "GITHUB_ACTIONS": "true",
                "GITHUB_WORKSPACE": str(workspace),
                "GITHUB_REPOSITORY": self.repo,
                "GITHUB_REPOSITORY_OWNER": self.repo.split("/")[0],
                "GITHUB_SHA": event.sha,
                "GITHUB_REF": event.ref,
                "GITHUB_REF_NAME": str(github["ref_name"]),
                "GITHUB_EVENT_NAME": event.name,
                "GITHUB_EVENT_PATH": str(event_path),
                "GITHUB_JOB": job_id,
                "GITHUB_SERVER_URL": "https://github.com",
                "GITHUB_API_URL": self.api_url,
                "GITHUB_RUN_ID": "1",
                "RUNNER_TEMP": str(temp),
                **self.host_env,
                "RUNNER_OS": "Linux",
                WORLD_ENV: str(self.world_path),
                **{k: str(v) for k, v in files.items()},
                **step_env,
            }
            done: subprocess.CompletedProcess[str] | None = None
            try:
                if "uses" in step:
                    with_ = {k: interpolate(to_string(v), contexts) for k, v in (step.get("with") or {}).items()}
                    outcome, log, outputs, exported, added = self._uses(
                        str(step["uses"]), with_, workspace, event, environment_name, permissions, masks
                    )
                    github_env.update(exported)
                    path_entries.extend(added)
                else:
                    script = interpolate(str(step["run"]), contexts)
                    shell = step.get("shell") or defaults.get("shell") or "bash"
                    outcome, log, done = self._run(
                        script,
                        shell,
                        workspace / str(step.get("working-directory") or defaults.get("working-directory") or "."),
                        process_env,
                        temp,
                        index,
                    )
                    outputs = parse_env_file(files["GITHUB_OUTPUT"].read_text())
                    github_env.update(parse_env_file(files["GITHUB_ENV"].read_text()))
                    path_entries.extend(line for line in files["GITHUB_PATH"].read_text().splitlines() if line.strip())
                    for line in log.splitlines():
                        if line.startswith("::add-mask::"):
                            masks.append(line.removeprefix("::add-mask::"))
            except (ExpressionError, WorldError) as err:
                outcome, log, outputs = "failure", f"##[error]{err}", {}
            for mask in sorted((m for m in masks if m), key=len, reverse=True):
                log = log.replace(mask, "***")
            step_result = StepResult(name, outcome, log, outputs)
            if done is not None:
                step_result.stdout, step_result.stderr, step_result.code = done.stdout, done.stderr, done.returncode
                step_result.github_env = files["GITHUB_ENV"].read_text()
            result.steps.append(step_result)
            if step.get("id"):
                contexts["steps"][step["id"]] = {"outputs": outputs, "outcome": outcome, "conclusion": outcome}
            if outcome == "failure" and not step.get("continue-on-error"):
                failed = True
                contexts["job"] = {"status": "failure"}
            if until is not None and until in (step.get("name"), step.get("id")):
                break
        for name, expression in (job.get("outputs") or {}).items():
            value = interpolate(to_string(expression), contexts)
            if value:
                result.outputs[str(name)] = value
        return result

    def _run(
        self, script: str, shell: str, cwd: Path, env: Mapping[str, str], temp: Path, index: int
    ) -> tuple[str, str, subprocess.CompletedProcess[str] | None]:
        """A ``run:`` step: ``bash --noprofile --norc -eo pipefail {0}`` for ``shell: bash`` (GitHub docs, "Workflow
        syntax" → ``jobs.<job_id>.steps[*].shell``), the script written to a file in the runner's temp directory."""
        if shell not in ("bash", "sh"):
            return "failure", f"the runner stand-in runs only bash steps, not {shell}", None
        path = temp / f"step-{index}.sh"
        path.write_text(script)
        command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)] if shell == "bash" else ["sh", "-e", str(path)]
        done = subprocess.run(command, cwd=cwd, env=dict(env), capture_output=True, text=True, stdin=subprocess.DEVNULL)
        log = done.stdout + done.stderr + (f"\nexit {done.returncode}" if done.returncode else "")
        return ("success" if done.returncode == 0 else "failure"), log, done

    def _uses(
        self,
        uses: str,
        with_: Mapping[str, str],
        workspace: Path,
        event: Event,
        environment: str | None,
        permissions: Any,
        masks: list[str],
    ) -> tuple[str, str, dict[str, str], dict[str, str], list[str]]:
        """(outcome, log, outputs, exported env, PATH additions) of a ``uses:`` step's stand-in."""
        action = uses.split("@", 1)[0]
        if action == "actions/checkout":
            copy_repository(workspace, self.root)
            return "success", f"checked out {self.repo} at {event.ref}", {}, {}, []
        if action == "actions/setup-python":
            return "success", f"Python {sys.version.split()[0]} (the test interpreter)", {"python-version": sys.version.split()[0]}, {}, []
        if action == "pulumi/actions":
            return "success", "pulumi stand-in on PATH", {"pulumi-version": "3"}, {}, [str(self.pulumi_bin)]
        if action == "pulumi/auth-actions":
            return self._pulumi_oidc(with_, event, environment, permissions, masks)
        if action == "actions/create-github-app-token":
            return self._app_token(with_, masks)
        return "failure", f"the runner has no stand-in for {uses}", {}, {}, []

    def subject(self, event: Event, environment: str | None) -> str:
        """The ``sub`` claim of the job's GitHub OIDC token (GitHub docs, "OpenID Connect reference" → example subject
        claims): ``repo:<repo>:environment:<name>`` for a job with an environment, ``repo:<repo>:pull_request`` for a
        pull_request event, else ``repo:<repo>:ref:<ref>``."""
        if environment:
            return f"repo:{self.repo}:environment:{environment}"
        if event.name == "pull_request":
            return f"repo:{self.repo}:pull_request"
        return f"repo:{self.repo}:ref:{event.ref}"

    def _pulumi_oidc(
        self, with_: Mapping[str, str], event: Event, environment: str | None, permissions: Any, masks: list[str]
    ) -> tuple[str, str, dict[str, str], dict[str, str], list[str]]:
        """pulumi/auth-actions: request GitHub's ID token (needs ``permissions: id-token: write``: GitHub docs, "OpenID
        Connect" → "Adding permissions settings"), exchange it at Pulumi Cloud, export ``PULUMI_ACCESS_TOKEN``
        (``export-environment-variables``)."""
        if not (isinstance(permissions, dict) and permissions.get("id-token") == "write"):
            return (
                "failure",
                "Error: Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable (the job lacks permissions: id-token: write)",
                {},
                {},
                [],
            )
        org = with_.get("organization", "")
        token_type = with_.get("requested-token-type", "").rsplit(":", 1)[-1]
        subject = self.subject(event, environment)
        try:
            with Locked(self.world_path) as world:
                token = world.cloud.exchange(org, subject, token_type, with_.get("scope", ""), int(with_.get("token-expiration") or 7200), world.now)
        except WorldError as err:
            return "failure", f"Error: token exchange failed for {subject}: {err}", {}, {}, []
        masks.append(token)
        exported = {"PULUMI_ACCESS_TOKEN": token} if with_.get("export-environment-variables", "true") == "true" else {}
        return "success", f"Pulumi access token for {org} ({subject})", {"pulumi-access-token": token}, exported, []

    def _app_token(self, with_: Mapping[str, str], masks: list[str]) -> tuple[str, str, dict[str, str], dict[str, str], list[str]]:
        """actions/create-github-app-token: a JWT signed with the App's key is exchanged for an installation token (GitHub
        docs, "Authenticating as a GitHub App installation"); a wrong key is 401. action.yml (v3.1.1): ``owner`` "defaults
        to current repository owner"; ``repositories`` (comma or newline separated) "defaults to current repository if
        owner is unset", and with ``owner`` set and no ``repositories`` the token reaches all of the owner's
        repositories the App is installed on; each ``permission-<name>`` asks for one permission, and without any the
        token has the installation's (:class:`tests.world.InstallationToken`)."""
        app_id, key = with_.get("app-id", ""), with_.get("private-key", "")
        if not app_id or not key:
            return "failure", "Error: Input required and not supplied: app-id / private-key", {}, {}, []
        owner = with_.get("owner") or self.repo.split("/")[0]
        names = [n.strip() for n in re.split(r"[,\n]", with_.get("repositories", "")) if n.strip()]
        if not names and not with_.get("owner"):
            names = [self.repo.split("/")[1]]
        permissions = {k.removeprefix("permission-").replace("-", "_"): v for k, v in with_.items() if k.startswith("permission-") and v}
        with Locked(self.world_path) as world:
            app = world.github.apps.get(app_id)
            if app is None or app.private_key.strip() != key.strip():
                return "failure", "HttpError: A JSON web token could not be decoded (401)", {}, {}, []
            if owner not in app.installations:
                return "failure", f"HttpError: the App is not installed on {owner} (404)", {}, {}, []
            missing = [n for n in names if f"{owner}/{n}" not in world.github.repositories]
            if missing:
                return (
                    "failure",
                    f"HttpError: There is at least one repository that does not exist or is not accessible ({missing}) (422)",
                    {},
                    {},
                    [],
                )
            token = f"ghs_{os.urandom(16).hex()}"
            world.github.tokens[token] = owner
            world.github.installation_tokens[token] = InstallationToken(
                owner, frozenset(f"{owner}/{n}" for n in names) if names else None, permissions or None
            )
        masks.append(token)
        return "success", f"installation token of {app.slug}", {"token": token, "app-slug": app.slug, "installation-id": "1"}, {}, []
