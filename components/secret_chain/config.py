"""The ESC config layer: read, validate and wrap the values an ESC environment injects.

An ESC environment's ``values.pulumiConfig`` reaches a stack as ordinary stack config once the stack
has done ``pulumi config env add <project>/<env>``; a key such as ``prometheus:authToken`` is read with
``pulumi.Config("prometheus").get("authToken")``, and an object key such as ``namespace:imagePullSecret``
arrives as its JSON text. This module reads each raw string once, runs the catalog's format check on
it before any resource exists, and hands secrets on only as secret Outputs. Problems are collected per
component and raised together as one :class:`~secret_chain.errors.ConfigError` whose lines name the key,
say what is wrong (never echoing the value) and give the exact command that fixes it, in a form the
Pulumi CLI parses (:mod:`secret_chain.pulumi_rules`).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import shlex
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeAlias, TypeVar, cast, is_typeddict

import pulumi

from secret_chain import catalog, parts, stacks
from secret_chain.catalog import Key, Tier
from secret_chain.environments import ESC_PROJECT as ESC_PROJECT
from secret_chain.environments import environment_name as environment_name
from secret_chain.environments import home_of
from secret_chain.errors import ConfigError, SecretChainError
from secret_chain.pulumi_rules import provider_flag_enabled
from secret_chain.reading import json_type as json_type
from secret_chain.reading import lookup as lookup
from secret_chain.reading import object_fields
from secret_chain.reading import raw as raw
from secret_chain.rules import Facts, Remove, Rule, Step, Violation, facts_of
from secret_chain.validators import Check, Invalid, NameInvalid, placeholder_for, shown

T = TypeVar("T")
A = TypeVar("A")
S = TypeVar("S")

ESC_ENVIRONMENT_KEY = catalog.ESC_ENVIRONMENT
STACK_KIND_KEY = catalog.STACK_KIND
MUTABLE_SECRETS_KEY = catalog.MUTABLE_SECRETS
MUTABLE_SECRETS_ENV = "PULUMI_K8S_ENABLE_SECRET_MUTABLE"
MUTABLE_MARK = "_secret_chain_enable_secret_mutable"
"""Attribute set on a provider made by :func:`secret_chain.kube.mutable_secrets_provider`: the only explicit provider whose flag is known."""

Known: TypeAlias = T | pulumi.Output[T]
"""A validated argument: the plain value, or (given as another resource's output) a checked Output of it."""

VALID_FIX = "pass a valid value"
"""The fix of a bad argument that has no config key."""


def as_output(value: object) -> pulumi.Output[Any] | None:
    """``value`` as an Output when it is one (or an awaitable, the third form of ``pulumi.Input``), else None."""
    if isinstance(value, pulumi.Output):
        return value
    if inspect.isawaitable(value):
        return pulumi.Output.from_input(value)
    return None


def arg_problem(owner: str, name: str, reason: object, fix: str = VALID_FIX, value: object = None, *, label: str | None = None) -> str:
    """The one line for a bad argument, the same whether the value was plain or became known later.

    ``label``: how the line names the argument, when not ``argument "<name>"`` (:meth:`ConfigReader.naming`: the
    argument the caller passed, of which this one is a part's copy).

    ``value``: the refused value when it is not secret; a public name (a
    :class:`~secret_chain.validators.NameInvalid`: namespace, DNS name, repository, port) is quoted, shortened and
    made printable (:func:`with_value`), so nobody has to guess which value is meant. Secret values are never
    passed here.
    """
    subject = label or f'argument "{name}"'
    return f"{owner} {subject} {with_value(reason, value)}. Fix: {fix}"


def with_value(reason: object, value: object) -> str:
    """``reason``, followed by ``; got "<value>"`` when the refused value is a public name.

    Only a :class:`~secret_chain.validators.NameInvalid` (namespace, object name, DNS name, repository, port) is
    quoted, by :func:`~secret_chain.validators.shown` (shortened, printable, never a credential-shaped value). A
    list check refuses one item: its :class:`Invalid` carries that item (``refused``), quoted instead of the list.
    """
    if isinstance(reason, Invalid) and reason.refused is not None:
        quoted = shown(reason.refused)
    else:
        quoted = shown(value) if isinstance(reason, NameInvalid) else None
    return f"{reason}; got {quoted}" if quoted else str(reason)


def keyed_fix(entry: Key) -> str:
    """The fix of a bad argument that overrides config key ``entry``."""
    return f'{VALID_FIX}, or leave it out to read config "{entry.key}"'


def lift(fn: Callable[..., T], *values: Any) -> Known[T]:
    """``fn(*values)`` now when every value is plain, else an Output of it once all are known.

    Plain values stay plain (so programs that pass only plain values register exactly what they did);
    an Output among them makes the result an Output that carries its resources, so a child given the
    result depends on them (``Output.all`` and ``apply`` join the inputs' resources:
    pulumi/output.py ``Output.all`` and ``Output.apply``).
    """
    if not any(isinstance(value, pulumi.Output) for value in values):
        return fn(*values)
    return pulumi.Output.all(*values).apply(lambda known: fn(*known))


def apply_knowing_secrecy(output: pulumi.Output[Any], fn: Callable[[Any, bool], T]) -> pulumi.Output[T]:
    """``fn(value, is_secret)`` once ``output`` is known.

    For a check whose message would quote the value, which it must not do when the value is secret
    (``Output.is_secret``: pulumi/output.py).
    """
    secret: pulumi.Output[bool] = pulumi.Output.from_input(output.is_secret())
    return pulumi.Output.all(output, secret).apply(lambda known: fn(known[0], bool(known[1])))


def default_esc_environment(kind: parts.Kind | str) -> str:
    """The environment a stack of ``kind`` imports by convention, as ``<org>/<project>/<env>`` (:func:`environment_name`).

    Empty for the bootstrap stack, whose fixes are ``pulumi config set``.
    """
    name = environment_name(kind)
    return f"<org>/{ESC_PROJECT}/{name}" if name else ""


def esc_environment(kind: parts.Kind | str | None = None, configured: str | None = None) -> str:
    """Name of the ESC environment a fix command should write to, as ``<org>/<project>/<env>``.

    The stack setting ``secret-chain:escEnvironment`` wins when it is a valid reference; otherwise the runbook's
    convention for the stack's kind (:func:`default_esc_environment`; default: the running stack's,
    :func:`secret_chain.stacks.running`). An invalid setting is never pasted into a command: it is reported on its own
    by the catalog check; nor is a guess for a stack whose kind is unknown: the unnamed ``<Environment>``.
    """
    if configured is None:
        found = lookup(ESC_ENVIRONMENT_KEY, raw)
        configured = None if found is None else found[1]
    if configured:
        try:
            return ESC_ENVIRONMENT_KEY.shape(configured)  # the environment it names, example org or not (preflight refuses that)
        except Invalid:
            pass
    if kind is None:
        try:
            kind = stacks.running().kind
        except Invalid:
            return DOC_ENVIRONMENT
    return default_esc_environment(kind)


def stack_kind_problem(err: Invalid, environment: str = "") -> str:
    """One problem line for a stack whose kind is not known (:func:`secret_chain.stacks.resolve`), with its fix.

    A value that is not a kind is the catalog key's own problem; a stack that declares nothing is told to declare
    ``secret-chain:stackKind``; a reserved name declaring another kind is told to remove the declaration.
    """
    if not isinstance(err, stacks.StackKindError):
        return describe_problem(STACK_KIND_KEY, err, environment)
    return problem_line(str(err), stack_kind_fix(err))


def stack_kind_fix(err: stacks.StackKindError) -> str:
    """The fix of a stack whose kind is not known: declare it (``pulumi config set``), or remove a refused declaration."""
    if err.declare:
        return f"{_config_set(STACK_KIND_KEY)}, or preview-base, preview-pr-<N> or bootstrap: the kind of this stack"
    return remove_command(STACK_KIND_KEY, "")


def running_stack_kind(*, bootstrap: bool = True) -> stacks.StackKind:
    """The running stack's kind (:func:`secret_chain.stacks.running`); one :class:`ConfigError` line when it is not known.

    Called before anything is registered: a stack of an unknown kind registers nothing.
    """
    try:
        return stacks.running(bootstrap=bootstrap)
    except Invalid as err:
        raise ConfigError([stack_kind_problem(err)]) from None


def _config_path(entry: Key) -> str:
    """The key as ``pulumi config set`` takes it: the key itself, or ``<key>.<field>`` with ``--path``."""
    return entry.key


DOC_ENVIRONMENT = f"<org>/{ESC_PROJECT}/<Environment>"
"""The ESC environment named where any of them is meant (docs, warnings that do not know the stack)."""


def set_command(entry: Key, environment: str, value: str | None = None) -> str:
    """The one command that sets ``entry`` where it belongs: ``pulumi env set …`` (ESC) or ``pulumi config set …`` (stack).

    ``pulumi env set <org>/<project>/<env> pulumiConfig.<key>[.<field>] <value>``: the path is parsed by
    ``resource.ParsePropertyPath`` (a bare segment runs to the next ``.``), so ``pulumiConfig``, the key and the
    field are its elements, exactly as Pulumi's own docs write ``pulumiConfig.kubernetes:enableSecretMutable``.

    ``environment`` is the one the stack attaches; the command names the one whose own definition holds the key's node
    (:func:`secret_chain.environments.home_of`): ``pulumi env set`` edits the named environment's YAML only
    (pulumi/pulumi pkg/cmd/esc/cli/env_set.go), so aimed at one that imports the key it writes a shadowing copy,
    and aimed through an implicit import (PullRequest's ``namespace:imagePullSecret``) it fails or replaces it.

    A secret is never on the command line (:func:`secret_source`): ``ps`` and ``/proc/<pid>/cmdline`` show every
    process's arguments to every user of the machine, and the shell's history keeps them. ``pulumi env set`` reads
    the value from a file or standard input with ``--file`` ("If set, the value is read from the specified file. Pass
    `-` to read from standard input": pulumi/esc cmd/esc/cli/env_set.go, the same in pulumi/pulumi
    pkg/cmd/esc/cli/env_set.go), and ``--string`` takes it as it is rather than as YAML: a PEM key keeps its lines, and
    a value YAML would read as a number cannot reach the ``--secret`` branch that re-reads ``args[1]``, which with
    ``--file`` does not exist. ``value`` (a placeholder) is used for a non-secret key only.
    """
    if entry.tier is Tier.STACK:
        return _config_set(entry)
    command = f"pulumi env set {home_of(entry, environment)} {esc_path(entry)}"
    if entry.secret:
        kind, source = secret_source(entry)
        if kind == "file":
            return f"{command} --secret --string --file {source}"
        # A generated or typed value arrives on standard input; tr drops the newline that ends it (--string keeps it).
        made = source if kind == "generate" else "head -n 1"
        return f"{made} | tr -d '\\n' | {command} --secret --string --file -"
    return f"{command} {typed_value(entry) if value is None else value}"


_GENERATED = re.compile(r"\$\((?P<command>[^()]+)\)")
"""A catalog example that is a command substitution, ``$(openssl rand -hex 32)``: the command makes the value."""


def secret_source(entry: Key) -> tuple[str, str]:
    """Where a fix command takes a secret's value from, so that it is never an argument of any process.

    ``("generate", command)``: a command makes it (the catalog example ``$(openssl rand -hex 32)``), piped in.
    ``("file", path)``: a file holds it (a PEM key, :attr:`~secret_chain.catalog.Key.example_file`), read by the CLI.
    ``("stdin", example)``: a person pastes it (a token shaped like ``example``), read from standard input.
    """
    generated = _GENERATED.fullmatch(entry.example.strip())
    if generated:
        return "generate", generated.group("command")
    if entry.example_file:
        return "file", entry.example_file
    return "stdin", typed_value(entry)


def typed_value(entry: Key) -> str:
    """What a fix command says to type for ``entry``'s value: its catalog example, or a placeholder to replace.

    The placeholder for a value that names the operator's own domain, mailbox or account
    (:attr:`~secret_chain.catalog.Key.not_example`): any example there is one the go/no-go check refuses, or someone else's.
    """
    return placeholder_for(entry.not_example) if entry.not_example is not None else entry.example


def esc_path(entry: Key | str) -> str:
    """The ``pulumi env set``/``rm`` path of a key: ``pulumiConfig.<key>[.<field>]``, bracket-quoted when the key holds a ``.``.

    ``resource.ParsePropertyPath`` (pulumi/pulumi sdk/go/common/resource/properties_path.go) ends a bare segment at
    ``.`` or ``[``, so a key such as ``secret-chain:github.token`` must be written ``pulumiConfig["secret-chain:github.token"]``
    (single-quoted for the shell).
    """
    key, field = (entry.config_key, entry.field) if isinstance(entry, Key) else (entry, "")
    if "." in key or "[" in key:
        return f"'pulumiConfig[\"{key}\"]{'.' + field if field else ''}'"
    return f"pulumiConfig.{key}{'.' + field if field else ''}"


def _config_set(entry: Key, value: str | None = None) -> str:
    """``pulumi config set [--path] [--secret] KEY VALUE`` for this stack only (``value``: :func:`typed_value` by default).

    A secret's value is never an argument: ``pulumi config set`` reads it from standard input when the value is left
    out, and on a terminal prompts for it without echo with ``--secret`` (pulumi/pulumi pkg/cmd/pulumi/config/config.go,
    ``configSetCmd.Run``: ``case !term.IsTerminal(int(stdin.Fd())): io.ReadAll(stdin)``, trailing newlines removed unless
    ``--raw``; ``case c.Secret: cmdutil.ReadConsoleNoEcho("value")``). So a generated value is piped in, a file is
    redirected in, and a typed one is asked for.
    """
    if entry.secret:
        command = f"pulumi config set{' --path' if entry.field else ''} --secret {_config_path(entry)}"
        kind, source = secret_source(entry)
        return f"{source} | {command}" if kind == "generate" else f"{command} < {source}" if kind == "file" else command
    if value is None and entry.not_example is not None:
        value = typed_value(entry)
    if value is not None:
        return f"pulumi config set{' --path' if entry.field else ''} {_config_path(entry)} {value}"
    if entry.json_types == ("array",):
        # A list item: "pulumi config set --path 'names[0]' a will set the value to a list with the first item a"
        # (https://www.pulumi.com/docs/iac/cli/commands/pulumi_config_set/).
        return f"pulumi config set --path '{entry.key}[0]' {entry.example}"
    if entry.json_types == ("object",):
        # A mapping, one leaf per command: "pulumi config set --path parent.nested value will set the value of parent
        # to a map nested: value" (same page); the example is the JSON of a complete value.
        leaves = _leaves(entry.key, json.loads(entry.example))
        return " && ".join(f"pulumi config set --path {shlex.quote(path)} {shlex.quote(leaf)}" for path, leaf in leaves)
    return f"pulumi config set{' --path' if entry.field else ''} {_config_path(entry)} {entry.example}"


def _leaves(path: str, value: object) -> list[tuple[str, str]]:
    """(``--path`` of each leaf, its text) of a JSON value under ``path``: ``key.field``, ``key.list[0].field``."""
    if isinstance(value, dict):
        return [leaf for name, item in value.items() for leaf in _leaves(f"{path}.{name}", item)]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in _leaves(f"{path}[{index}]", item)]
    return [(path, json.dumps(value) if isinstance(value, bool) else str(value))]


def fix_command(entry: Key, environment: str, value: str | None = None) -> str:
    """The exact command(s) that set ``entry``: ``pulumi env set …`` and the per-stack alternative.

    ``environment`` empty: the stack attaches no ESC environment (the bootstrap stack), so only ``pulumi config set``.
    ``value``: what to type for the value (default: the catalog's example; a placeholder where the example is refused).
    """
    if entry.tier is Tier.STACK or not environment:
        return _config_set(entry, value) + _typed_hint(entry, alone=True)
    return f"{set_command(entry, environment, value)} (or, for this stack only: {_config_set(entry, value)}){_typed_hint(entry)}"


def _typed_hint(entry: Key, *, alone: bool = False) -> str:
    """What to do once a fix that reads a typed secret runs: it waits for the value on standard input."""
    if not entry.secret or secret_source(entry)[0] != "stdin":
        return ""
    if alone:
        return f"; it asks for the value ({typed_value(entry)}) without showing it"
    return f"; either reads the value ({typed_value(entry)}) from standard input, never the command line: paste it and press Enter"


FIX = ". Fix: "
"""What joins a problem to its fix in every line (:func:`problem_line`); ``preflight`` splits its lines there."""


def problem_line(message: str, fix: str | None) -> str:
    """One problem line: ``message`` (the subject and what is wrong), then ``. Fix: <fix>`` when there is one.

    Every line of a :class:`~secret_chain.errors.ConfigError` and every ``preflight`` problem is made here.
    """
    return f"{message}{FIX}{fix}" if fix else message


def describe_problem(entry: Key, what: str | Invalid, environment: str, value: object = None) -> str:
    """One line: which key, what is wrong, how to fix it; ``value`` (the refused one) is quoted only for a non-secret key."""
    said = str(what) if entry.secret else with_value(what, value)
    return problem_line(f'config "{entry.key}" {said}', fix_command(entry, environment))


def remove_command(key: Key | str, environment: str, *, stack: bool = True) -> str:
    """The command that removes ``key`` (a catalog key, or the alias actually set) from the ESC environment that holds it.

    ``pulumi env rm <env> <path>`` always with the path: without it, ``pulumi env rm`` deletes the whole environment.
    ``stack``: add the per-stack alternative, for a key that may have been set with ``pulumi config set``.
    """
    name = key.key if isinstance(key, Key) else key
    entry = key if isinstance(key, Key) else catalog.BY_KEY.get(key) or next((e for e in catalog.KEYS if key in e.aliases), None)
    holder = home_of(entry, environment) if entry is not None and environment else environment
    command = f"pulumi env rm {holder} {esc_path(key)}" if environment else f"pulumi config rm {name}"
    return f"{command}, or pulumi config rm {name}" if stack and environment else command


def _step(step: Step, environment: str) -> str:
    """One step of a rule's fix as a command: set the key (where it belongs) or remove it."""
    if isinstance(step, Remove):
        return remove_command(step.key, environment)
    if step.key.tier is Tier.STACK or not environment:
        return _config_set(step.key, step.value or None)
    return set_command(step.key, environment, step.value or None)


def rule_fix(violation: Violation, environment: str) -> str:
    """The fix of a rule's violation: its alternatives, each its steps as commands (``environment``: the attached one)."""
    return "; or ".join(" and ".join(_step(step, environment) for step in steps) for steps in violation.fixes)


def rule_line(owner: str, violation: Violation, environment: str, label: str | None = None) -> str:
    """The problem line of a rule's violation: ``config "<key>" …`` (or ``<owner> argument "<arg>" …``), then its fix."""
    said = f"{owner} {label}" if label and not label.startswith("config ") else label or f'config "{violation.subject.key}"'
    return problem_line(f"{said} {violation.message}", rule_fix(violation, environment))


def config_set(key: str, value: str) -> str:
    """``pulumi config set KEY VALUE`` for a stack setting the catalog does not hold (a provider's, such as ``github:owner``)."""
    return f"pulumi config set {key} {value}"


def set_command_shape(environment: str, *, secret: bool = False) -> str:
    """How any key is set in ``environment``, for docs and templates: a plain value as an argument.

    A secret (``secret``) is read from a file (``--file -``: standard input), never given as an argument (:func:`set_command`).
    """
    if secret:
        return f"pulumi env set {environment} pulumiConfig.<key> --secret --string --file <file>"
    return f"pulumi env set {environment} pulumiConfig.<key> <value>"


SECRET_INPUT_NOTE = (
    "never as an argument, which ps and /proc/<pid>/cmdline show every user of the machine (and the shell's history "
    "keeps): --file - reads standard input, so pipe the value in, or run head -n 1 | tr -d '\\n' | … and paste it"
)
"""Why and how a secret reaches ``pulumi env set`` (:func:`set_command`), for docs and templates."""


def init_command(environment: str, file: str) -> str:
    """The command that creates ``environment`` from a template file (what the bootstrap stack does by itself)."""
    return f"pulumi env init {environment} --file {file}"


RUNBOOK_KEYS = {f"{e.config_key}:{e.field}": f"{e.field} of {e.config_key}" for e in (catalog.GHCR_USERNAME, catalog.GHCR_TOKEN)}
"""The runbook's GHCR keys, which the CLI cannot parse (two colons), and the field that replaced each."""


def config_type_problems(types: Mapping[str, str], config: Mapping[str, str]) -> list[str]:
    """One line per catalog key whose JSON type (as ``pulumi config --json`` shows it) the catalog does not accept.

    ``types`` maps each flat config key to the JSON type of its value; the lines name the key, the type found
    and the type expected, with the fix, and never the value. An object key is checked field by field.
    """
    problems: list[str] = []
    set_to = lookup(ESC_ENVIRONMENT_KEY, config.get)
    configured = "" if set_to is None else set_to[1]
    environment = esc_environment("production", configured) if configured else f"<org>/{ESC_PROJECT}/<Environment>"
    for entry in catalog.KEYS:
        found = types.get(entry.config_key)
        if found is None:
            continue
        expected = ("object",) if entry.field else entry.json_types
        if found not in expected:
            what = f"is a JSON {found}; expected {' or '.join(expected)}"
            if entry.field:
                fields = ", ".join(object_fields(entry.config_key))
                what = f"is read from {entry.config_key}, which is a JSON {found}; expected an object with fields {fields}"
            problems.append(describe_problem(entry, what, environment))
            continue
        if entry.field:
            try:
                lookup(entry, config.get)
            except Invalid as err:
                problems.append(describe_problem(entry, str(err), environment))
    return list(dict.fromkeys(problems))


class ConfigReader:
    """Reads the keys one component needs and collects every problem before anything is registered.

    Call :meth:`secret`, :meth:`plain` and :meth:`arg` for each input, then :meth:`done`, which
    raises one :class:`ConfigError` listing every problem found.
    """

    def __init__(self, owner: str, environment: str | None = None) -> None:
        self.owner = owner
        self.problems: list[str] = []
        self._environment = environment
        # Digests (never the values) of the secrets read: for same().
        self._digests: dict[str, bytes] = {}
        # Keys whose value was read from config, and those given as arguments: a rule's problem names the one used.
        self._configured: set[str] = set()
        self._given: set[str] = set()
        # How a part's argument is named in a problem when a caller passed it under another name (naming()).
        self._labels: dict[str, str] = {}

    def label(self, name: str) -> str:
        """How a problem names argument ``name``: ``argument "<name>"``, or what :meth:`naming` says it was passed as."""
        return self._labels.get(name) or f'argument "{name}"'

    @contextmanager
    def naming(self, labels: Mapping[str, str]) -> Iterator[None]:
        """Within the block, a part's argument ``name`` is named ``labels[name]`` in every problem.

        A composite (SecretChain) resolves its parts with this reader, handing each a value it took under its own name:
        the Grafana part's ``namespace`` is the chain's ``grafana_namespace`` argument, the Flux part's ``repository_url``
        the chain's ``flux_repository_url`` argument or its ``secret-chain:fluxRepositoryUrl`` setting. A problem must
        name what the caller passed (``argument "grafana_namespace"``, ``config "secret-chain:fluxRepositoryUrl"``),
        never the part's own name for it, which the caller never wrote.
        """
        saved = self._labels
        self._labels = {**saved, **labels}
        try:
            yield
        finally:
            self._labels = saved

    @property
    def environment(self) -> str:
        """The ESC environment named in fix commands."""
        if self._environment is None:
            self._environment = esc_environment()
        return self._environment

    def found(self, entry: Key) -> str | None:
        """The key ``entry`` is set under in stack config (itself or an alias), or None: :func:`lookup`, without reading the value."""
        try:
            hit = lookup(entry, raw)
        except Invalid:
            return entry.key  # set, but not the object the catalog declares: reading it reports that
        return None if hit is None else hit[0]

    def _lookup(self, entry: Key) -> str | None:
        found = lookup(entry, raw)
        if found is not None and found[0] != entry.key:
            pulumi.log.warn(
                f'config "{found[0]}" is deprecated: {self.owner} reads it because "{entry.key}" is not set. '
                f"Move it: {fix_command(entry, self.environment)}, then pulumi config rm {found[0]}"
            )
        return None if found is None else found[1]

    def _value(self, entry: Key, override: Any, required: bool, arg_name: str | None) -> tuple[Key, str | None, bool]:
        """Validate ``override`` or the configured value; return (entry, normalised, from_args)."""
        if override is not None and not isinstance(override, str):
            if entry.secret and isinstance(override, pulumi.Output):
                return entry, None, True  # another resource's output: known only later, kept secret
            self.problems.append(_not_a_string(self.owner, arg_name or entry.name, override, entry, self.label(arg_name or entry.name)))
            return entry, None, True
        from_args = override is not None
        try:
            value = override if from_args else self._lookup(entry)
        except Invalid as err:  # an object key that is not the object the catalog declares
            self.invalid(entry, str(err))
            return entry, None, False
        if value is None:
            if required:
                self.missing(entry)
            return entry, None, False
        (self._given if from_args else self._configured).add(entry.key)
        try:
            normalised = entry.shape(value)
        except Invalid as err:
            if from_args:
                name = arg_name or entry.name
                self.problems.append(arg_problem(self.owner, name, err, keyed_fix(entry), None if entry.secret else value, label=self.label(name)))
            else:
                self.invalid(entry, err, value)
            return entry, None, from_args
        if entry.secret:
            self._digests[entry.key] = hashlib.sha256(normalised.encode()).digest()
        return entry, normalised, from_args

    def secret(
        self, entry: Key, override: pulumi.Input[str] | None = None, *, required: bool = True, arg_name: str | None = None
    ) -> pulumi.Output[str] | None:
        """Read a secret key (or its ``args`` override) and return it as a secret Output.

        Returns None when the key is absent and not required, or when it is invalid (the problem is
        recorded and raised by :meth:`done`).
        """
        output = as_output(override)
        if output is not None:  # an awaitable is an Input too
            override = output
        entry, value, _ = self._value(entry, override, required, arg_name)
        if isinstance(override, pulumi.Output):
            # Known only once the other resource exists: checked and normalised then, like a configured value.
            return pulumi.Output.secret(self._checked_keyed(override, arg_name or entry.name, entry))
        if value is None:
            return None
        assert entry.secret, f"{entry} is not declared secret in the catalog"
        return pulumi.Output.secret(value)

    def plain(self, entry: Key, override: str | None = None, *, required: bool = True, arg_name: str | None = None) -> str | None:
        """Read a non-secret key (or its ``args`` override) and return the normalised string."""
        entry, value, _ = self._value(entry, override, required, arg_name)
        assert not entry.secret, f"{entry} is declared secret: read it with secret()"
        return value

    def plain_input(self, entry: Key, override: Any = None, *, required: bool = True, arg_name: str | None = None) -> Known[str] | None:
        """Like :meth:`plain`, but the override may be another resource's output: then it is checked once known."""
        output = as_output(override)
        if output is None:
            return self.plain(entry, override, required=required, arg_name=arg_name)
        assert not entry.secret, f"{entry} is declared secret: read it with secret()"
        return self._checked_keyed(output, arg_name or entry.name, entry)

    def arg(self, name: str, value: Any, check: Callable[[Any], T], *, required: bool = False) -> T | None:
        """Validate a component argument that has no config key (e.g. a namespace list)."""
        if value is None:
            if required:
                self.missing(name)
            return None
        try:
            return check(value)
        except Invalid as err:
            self.invalid(name, err, value)
            return None

    def input(self, name: str, value: Any, check: Callable[[Any], T], *, required: bool = False) -> Known[T] | None:
        """Like :meth:`arg`, but ``value`` may be another resource's output (a ``pulumi.Input``).

        A plain value is checked now (a problem is recorded for :meth:`done`); an Output is returned
        as an Output of the checked value, which raises the same message as a
        :class:`~secret_chain.errors.SecretChainError` once the value is known. The Output keeps the
        resources it came from (``apply`` carries them on: pulumi/output.py), so a child given it depends
        on them: registering a resource collects every input Output's resources as its dependencies
        (pulumi/runtime/resource.py ``prepare_resource``, through ``rpc.serialize_properties``).
        """
        output = as_output(value)
        if output is None:
            return self.arg(name, value, check, required=required)
        return self._checked(output, name, check)

    def items(self, name: str, values: Any, check: Check, *, required: bool = False) -> list[Known[str]] | None:
        """Like ``arg(name, values, each(check))``, but each item may be another resource's output.

        The list itself must be a plain list. Plain items are checked now, with the messages of
        :func:`each`; an Output item is checked once known, with the same messages (``item <i> …``, and
        ``lists the same item twice`` when it equals another item), so its Output also waits for the
        other items' values.
        """
        if as_output(values) is not None:
            self.problems.append(
                arg_problem(self.owner, name, "must be a list, not one Output: each item may be an Output", "pass a list", label=self.label(name))
            )
            return None
        if not isinstance(values, (list, tuple)) or all(as_output(item) is None for item in values):
            checked = self.arg(name, values, each(check), required=required)
            return None if checked is None else [*checked]
        placeholders = {index for index, item in enumerate(values) if as_output(item) is not None}
        plain = self.arg(name, values, each(check, skip=placeholders), required=required)
        if plain is None:
            return None
        inputs: list[Any] = [as_output(item) if index in placeholders else item for index, item in enumerate(values)]

        def pick(index: int) -> Callable[[list[Any], bool], str]:
            def checked(known: list[Any], secret: bool) -> str:
                try:
                    return each(check, only=index, quote=not secret)(known)[index]
                except Invalid as err:
                    raise SecretChainError(arg_problem(self.owner, name, err, label=label)) from None

            return checked

        joined = pulumi.Output.all(*inputs)
        label = self.label(name)
        return [apply_knowing_secrecy(joined, pick(index)) if index in placeholders else plain[index] for index in range(len(values))]

    def _checked(self, output: pulumi.Output[Any], name: str, check: Callable[[Any], T], fix: str = VALID_FIX) -> pulumi.Output[T]:
        """``output`` checked and normalised once known; a bad value raises the plain value's message."""
        owner, label = self.owner, self.label(name)
        return apply_knowing_secrecy(output, lambda known, secret: _check_output(owner, name, check, known, fix, quote=not secret, label=label))

    def _checked_keyed(self, output: pulumi.Output[Any], name: str, entry: Key) -> pulumi.Output[str]:
        """Like :meth:`_checked`, for an argument that overrides config key ``entry`` (its catalog check and messages)."""
        owner, label = self.owner, self.label(name)

        def check(known: Any, secret: bool) -> str:
            if not isinstance(known, str):
                raise SecretChainError(_not_a_string(owner, name, known, entry, label))
            return _check_output(owner, name, entry.shape, known, keyed_fix(entry), quote=not (secret or entry.secret), label=label)

        return apply_knowing_secrecy(output, check)

    def same(self, entry: Key, other: Key) -> bool | None:
        """Whether two secrets this reader read hold the same normalised value (compared by digest); None unless both are known."""
        first, second = self._digests.get(entry.key), self._digests.get(other.key)
        return None if first is None or second is None else first == second

    def subject(self, entry: Key, arg_name: str, *, given: bool = False) -> str:
        """How a problem names ``entry``: as the argument that gave its value, else as the config key.

        ``argument "<arg_name>"`` when the value was read as that argument, or is ``given`` by the caller and not read
        from config; ``config "<key>"`` when it was read from config, or is absent.
        """
        if entry.key in self._given or (given and entry.key not in self._configured):
            return self.label(arg_name)
        return f'config "{entry.key}"'

    def facts(self, values: Mapping[str, object], shown: Callable[[Key], bool] = lambda _: True) -> Facts:
        """The facts a rule reads (:mod:`secret_chain.rules`): ``values`` by catalog key as this component resolved them.

        A key is present when it has a value here or is set in config (valid or not, as :meth:`found` says).
        """
        return facts_of(values, lambda entry: values.get(entry.key) is not None or self.found(entry) is not None, self.same, shown)

    def rule(self, rule: Rule, facts: Facts, arg_names: Mapping[Key, str] | None = None) -> None:
        """Record the violation of a cross-key ``rule`` (:mod:`secret_chain.rules`), if ``facts`` break it.

        ``arg_names``: the argument that stands in for a key (the subject is named by :meth:`subject`: the key when its
        value came from config, else the argument).
        """
        found = rule.find(facts)
        if found is None:
            return
        named, subject = (arg_names or {}).get(found.subject), found.subject
        given = facts.present(subject) and self.found(subject) is None  # a value that config does not hold: an argument's
        self.problems.append(rule_line(self.owner, found, self.environment, self.subject(subject, named, given=given) if named else None))

    # --- the one door of every problem: each names its subject, says what is wrong and gives the fix -------

    def missing(self, subject: Key | str, why: str = "") -> None:
        """Record that a config key (``subject`` a :class:`Key`) or a required argument (its name) is not set.

        A key's line says ``why`` it is needed (default: its purpose) and gives the command that sets it.
        """
        if isinstance(subject, Key):
            what = f"is missing: {why}" if why else f"is missing ({subject.purpose})"
            self.problems.append(describe_problem(subject, what, self.environment))
        else:
            self.problems.append(arg_problem(self.owner, subject, "is required", "pass it in the args", label=self.label(subject)))

    def invalid(self, subject: Key | str, what: str | Invalid, value: object = None, *, fix: str = VALID_FIX) -> None:
        """Record that a config key (``subject`` a :class:`Key`) or an argument (its name) holds a value that is wrong.

        ``what`` says why, never repeating a secret; ``value``: the refused value, quoted only when it is a public name
        (:func:`with_value`) and the key is not secret. A key's fix is its set command; an argument's is ``fix``.
        """
        if isinstance(subject, Key):
            self.problems.append(describe_problem(subject, what, self.environment, value))
        else:
            self.problems.append(arg_problem(self.owner, subject, what, fix, value, label=self.label(subject)))

    def conflict(self, entry: Key, why: str, *, found: str | None = None) -> None:
        """Record that ``entry`` (found under ``found``, an alias, when not the key itself) must not be set with another value.

        The fix removes it (:func:`remove_command`); ``why`` names what it conflicts with.
        """
        used = found or entry.key
        self.problems.append(problem_line(f'{self.owner}: config "{used}" {why}', remove_command(used, self.environment)))

    def fail(self, message: str, fix: str | None = None) -> None:
        """Record a problem that is not about one value (e.g. two options that exclude each other), with its ``fix``.

        ``fix`` is the action or the command (from this module's helpers: :func:`fix_command`, :func:`remove_command`,
        :func:`config_set`); without one, ``message`` must already say what to do.
        """
        self.problems.append(problem_line(f"{self.owner}: {message}", fix))

    def done(self) -> None:
        """Raise one :class:`ConfigError` with every problem recorded, if any."""
        if self.problems:
            # Several parts may read the same key (SecretChain: the rollout key): report each problem once.
            raise ConfigError(list(dict.fromkeys(self.problems)))


def each(
    check: Check, *, skip: Sequence[int] | set[int] = (), only: int | None = None, quote: bool = True
) -> Callable[[list[str]], list[str]]:
    """Lift a string check to a non-empty list of strings, reporting the position of a bad item and quoting it.

    ``quote``: quote a refused item (:func:`~secret_chain.validators.shown`); lists of this package hold no secret,
    but items that came from a secret Output are not quoted.

    ``skip``: positions not checked (items not known yet: returned as they are, and left out of the
    duplicate check). ``only``: check that one position, and whether it repeats another item (the
    other items are checked on their own; one that is bad is not compared).
    """

    def check_all(values: list[str]) -> list[str]:
        if isinstance(values, str) or not isinstance(values, (list, tuple)):
            raise Invalid("must be a list of strings")
        if not values:
            raise Invalid("is an empty list")
        out: list[Any] = []
        for index, item in enumerate(values):
            if index in skip:
                out.append(item)
                continue
            if only is not None and index != only:
                try:
                    out.append(check(item) if isinstance(item, str) else None)
                except Invalid:
                    out.append(None)
                continue
            if not isinstance(item, str):
                raise Invalid(f"item {index} is not a string")
            try:
                out.append(check(item))
            except Invalid as err:
                refused = Invalid(f"item {index} {err}")
                refused.refused = item if quote and isinstance(err, NameInvalid) else None
                raise refused from None
        known = [item for index, item in enumerate(out) if index not in skip and item is not None]
        if (known.count(out[only]) > 1) if only is not None else len(set(known)) != len(known):
            raise Invalid("lists the same item twice")
        return out

    return check_all


def string(check: Callable[[str], T]) -> Callable[[str], T]:
    """Guard a string check against non-string arguments (a wrong type gives a clear message)."""

    def checked(value: str) -> T:
        if not isinstance(value, str):
            raise Invalid(f"must be a string, got {type(value).__name__}")
        return check(value)

    return checked


def _check_output(
    owner: str, name: str, check: Callable[[Any], T], value: Any, fix: str = VALID_FIX, *, quote: bool = True, label: str | None = None
) -> T:
    """Check and normalise an argument given as another resource's Output, once its value is known.

    Runs inside ``apply``, after every plain value has been checked and resources are registered, so
    a bad value cannot join the one ConfigError: it raises the line that error would hold, as a
    :class:`SecretChainError` (an exception in an apply fails the resource whose inputs await it, and
    the program: pulumi/output.py tracks every Output's fault). The check's reason never repeats the value.
    """
    try:
        return check(value)
    except Invalid as err:
        raise SecretChainError(arg_problem(owner, name, err, fix, value if quote else None, label=label)) from None


def _not_a_string(owner: str, name: str, value: object, entry: Key, label: str | None = None) -> str:
    """The line for an argument overriding config key ``entry`` that is not a string (its type only, never the value)."""
    fix = f'pass a string, or leave it out to read config "{entry.key}"'
    return arg_problem(owner, name, f"must be a string, got {type(value).__name__}", fix, label=label)


def args_type(resolve: Callable[..., object]) -> type:
    """The Args TypedDict a component's ``resolve(args, reader)`` takes, from its annotation."""
    annotation = next(iter(inspect.signature(resolve).parameters.values())).annotation
    if isinstance(annotation, str):
        annotation = resolve.__globals__[annotation]
    assert is_typeddict(annotation), f"{resolve.__qualname__}: the args parameter is not annotated with a TypedDict"
    return annotation  # type: ignore[no-any-return]


def argument_names(typed_dict: type) -> tuple[str, ...]:
    """Every key a TypedDict declares, in declaration order."""
    keys: frozenset[str] = typed_dict.__required_keys__ | typed_dict.__optional_keys__  # type: ignore[attr-defined]
    return tuple(name for name in typed_dict.__annotations__ if name in keys)


def check_args(reader: ConfigReader, args: object, typed_dict: type) -> bool:
    """Record a problem for args that are not a mapping, and for every key ``typed_dict`` does not declare.

    The keys are those of the component's Args TypedDict (:func:`argument_names`), so no component lists them
    again. An unknown key is named (when it is a plain word: a key is never secret, but a pasted credential is
    not repeated) with the closest declared key (``difflib.get_close_matches``): a typo such as ``enviroment``
    would otherwise be ignored and the default used (the CI secrets written repository-wide). Returns whether
    the args can be read at all (a mapping).
    """
    import difflib

    names = argument_names(typed_dict)
    if not isinstance(args, Mapping):
        reader.problems.append(
            f"{reader.owner} args must be a dict of {typed_dict.__name__} (keys: {', '.join(names)}), got {type(args).__name__}. "
            "Fix: pass a dict, {} when every argument is left to config"
        )
        return False
    for key in args:
        if key in names:
            continue
        quoted = shown(key) if isinstance(key, str) and key.isascii() and len(key) <= 60 else None
        what = f"argument {quoted}" if quoted else f"an argument key of type {type(key).__name__} (not shown)"
        close = difflib.get_close_matches(key, names, n=1, cutoff=0.6) if isinstance(key, str) else []
        fix = f'did you mean "{close[0]}"? Fix: rename it to "{close[0]}"' if close else f"Fix: use one of {', '.join(names)}"
        reader.problems.append(f"{reader.owner} {what} is not an argument of {typed_dict.__name__} and would be ignored; {fix}")
    return True


def outputs_in(value: object) -> list[pulumi.Output[Any]]:
    """Every Output held in ``value``: a validated spec (a dataclass), and the tuples, lists and dicts in it."""
    import dataclasses

    if isinstance(value, pulumi.Output):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [o for f in dataclasses.fields(value) for o in outputs_in(getattr(value, f.name))]
    if isinstance(value, (list, tuple)):
        return [o for item in value for o in outputs_in(item)]
    if isinstance(value, Mapping):
        return [o for item in value.values() for o in outputs_in(item)]
    return []


def gated(spec: object, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """The options to register a component with: ``opts``, waiting also for every value of its validated ``spec``.

    Arguments given as other resources' outputs are checked once known (:meth:`ConfigReader.input`), after the
    component has been constructed. So that a bad one never leaves half a component, the component itself is
    registered only once all of them have been checked: the checked Outputs join its ``depends_on``. The SDK
    awaits each ``depends_on`` entry before it sends RegisterResource (pulumi/runtime/resource.py
    ``prepare_resource`` → runtime/_depends_on.py ``_resolve_depends_on``: ``await inner.future()``), so a check
    that raises fails the component's registration: its URN resolves to the exception (``do_register``'s
    ``except``: ``resolve_urn(None, True, False, exn)``), and every child, which awaits its parent's URN in
    ``prepare_resource`` before its own RegisterResource, fails before the engine sees it. Nothing under the
    component is registered. An Output still unknown (preview) resolves to None there and is skipped, exactly as
    the values' own children would be planned. Only the component gets these options: its children are given
    ``opts`` as before (:meth:`secret_chain._component.ChainComponent.inherit_depends_on`), and the gate resolves to None (no extra dependency but
    the resources the values came from, which the children depend on anyway).
    """
    outputs = outputs_in(spec)
    base = opts if opts is not None else pulumi.ResourceOptions()
    if not outputs:
        return base
    # Typed as a resource for depends_on; it resolves to None, which the SDK skips (only its dependencies count).
    gate: pulumi.Output[pulumi.Resource] = pulumi.Output.all(*outputs).apply(lambda _: cast(pulumi.Resource, None))
    existing = base.depends_on
    listed: list[Any] = [] if existing is None else [*existing] if isinstance(existing, Sequence) else [existing]
    return pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=[*listed, gate]))


def _kubernetes_provider(opts: pulumi.ResourceOptions | None) -> pulumi.ProviderResource | None:
    """The explicit Kubernetes provider the children of a component created with ``opts`` would use, or None.

    A port of the SDK's rule for a component (pulumi/resource.py ``Resource._get_providers``; its type's package is
    not ``kubernetes``): the children take the ``kubernetes`` entry of the providers map it builds, where
    ``opts.providers`` comes first (``opts.provider`` of the same package then only warns, pulumi/pulumi#8799), then
    ``opts.provider``, then the parent's providers.
    """
    if opts is None:
        return None

    def kubernetes(candidate: object) -> pulumi.ProviderResource | None:
        return candidate if isinstance(candidate, pulumi.ProviderResource) and candidate.package == "kubernetes" else None

    providers = opts.providers
    if isinstance(providers, Mapping):
        listed = dict(providers)
    elif isinstance(providers, Sequence):
        listed = {p.package: p for p in providers if isinstance(p, pulumi.ProviderResource)}
    else:
        listed = {}
    if kubernetes(listed.get("kubernetes")) is not None:
        return kubernetes(listed.get("kubernetes"))
    if kubernetes(opts.provider) is not None:
        return kubernetes(opts.provider)
    parent_providers = getattr(opts.parent, "_providers", None)
    return kubernetes(parent_providers.get("kubernetes")) if isinstance(parent_providers, Mapping) else None


def require_mutable_secrets(reader: ConfigReader, opts: pulumi.ResourceOptions | None, *, stated: bool = False) -> None:
    """Record a problem unless the Kubernetes provider in use updates Secrets in place.

    The default provider reads ``kubernetes:enableSecretMutable`` from stack config and, only when that
    key is absent, ``PULUMI_K8S_ENABLE_SECRET_MUTABLE``; either is on exactly for the string ``true``
    (:func:`secret_chain.pulumi_rules.provider_flag_enabled`, a port of provider.go ``Configure``). An
    explicit provider in ``opts`` is accepted when made by :func:`secret_chain.kube.mutable_secrets_provider`, where the
    flag is set, or when the caller ``stated`` that it enables mutable Secrets (the ``provider_enables_mutable_secrets``
    argument). Nothing else can tell: a provider object keeps no inputs, and the SDK does not give a
    ``pulumi_kubernetes.Provider`` its inputs back as attributes either (they come back under the engine's camelCase
    names, which the Provider class declares no getters for, so pulumi/runtime/rpc.py ``resolve_properties`` drops them).
    """
    provider = _kubernetes_provider(opts)
    if provider is not None:
        if not getattr(provider, MUTABLE_MARK, False) and not stated:
            reader.fail(
                "the explicit Kubernetes provider in opts cannot be confirmed to update Secrets in place (a provider does not "
                "expose its enable_secret_mutable)",
                "if you created it with enable_secret_mutable=True, say so: pass provider_enables_mutable_secrets=True in the "
                "args; or create it with secret_chain.kube.mutable_secrets_provider(name, ...)",
            )
        return
    found = lookup(MUTABLE_SECRETS_KEY, raw)
    configured, environment = None if found is None else found[1], os.environ.get(MUTABLE_SECRETS_ENV)
    if provider_flag_enabled(configured, environment):
        return
    if configured is None and environment is not None:
        reader.fail(
            f"environment variable {MUTABLE_SECRETS_ENV} is {shown(environment) or 'a value'}, not exactly true, so pulumi-kubernetes "
            f"replaces a Secret whenever its data changes. Fix: export {MUTABLE_SECRETS_ENV}=true, or pulumi config set {MUTABLE_SECRETS_KEY} true"
        )
        return
    reader.plain(MUTABLE_SECRETS_KEY, required=True)


def validated(
    owner: str,
    resolve: Callable[[A, ConfigReader], S | None],
    args: A,
    opts: pulumi.ResourceOptions | None,
    *,
    kubernetes_secrets: bool = True,
    environment: str | None = None,
) -> S:
    """A component's spec from its args and config, or one ConfigError before anything is registered.

    The args are first held against the component's Args TypedDict (:func:`check_args`: a mapping, with no
    unknown key). ``kubernetes_secrets``: the component writes Kubernetes Secrets, so its provider must update
    them in place (:func:`require_mutable_secrets`). ``environment``: the ESC environment fix commands name
    (default: the stack's, :func:`esc_environment`; empty: none, only ``pulumi config set``).
    """
    reader = ConfigReader(owner, environment)
    if not check_args(reader, args, args_type(resolve)):
        reader.done()
    spec = resolve(args, reader)
    if kubernetes_secrets:
        require_mutable_secrets(reader, opts, stated=getattr(spec, "provider_enables_mutable_secrets", False) is True)
    reader.done()
    assert spec is not None
    return spec
