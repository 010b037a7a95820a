"""Preflight: check a stack's effective config against the catalog before ``pulumi up``.

Which keys are required depends on which parts the stack builds. That knowledge is the table of parts
(:mod:`secret_chain.parts`), the same one the stack program reads: :func:`check` asks it which parts the
stack declares or the config enables, which of their keys are missing, and which set keys they read,
then runs each read key's catalog format check and the cross-key rules the table holds for the parts built
(:mod:`secret_chain.rules`: the objects the components evaluate). So ``preflight`` says READY exactly when the program
builds (tests/test_parts_matrix.py: every rule, single-key and cross-key, on every stack kind). No message produced
here contains a configured value or any part of one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from secret_chain import catalog, parts
from secret_chain.catalog import Key
from secret_chain.chain import StackKind, parse_stack
from secret_chain.config import ESC_ENVIRONMENT_KEY, FIX, config_set, esc_environment, fix_command, lookup, problem_line, rule_fix
from secret_chain.errors import SecretChainError
from secret_chain.ops import _io
from secret_chain.rules import Facts, facts_of
from secret_chain.validators import Invalid, Reserved, printable, real_owner

CATALOG_NAMESPACES = frozenset(k.namespace for k in catalog.KEYS)
REPOSITORY_KEY = catalog.GITHUB_REPOSITORY


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one key. ``message`` never contains the value."""

    key: str
    kind: str
    """missing, malformed, example (a value reserved for documentation), conflict, rule (a cross-key rule of the table),
    declared, plaintext, alias, ignored, rotation or unknown."""
    message: str
    fix: str
    group: str
    """The part the key belongs to (empty for keys secret-chain does not know)."""

    def line(self) -> str:
        """One line: key, what is wrong, the fix (a problem of the running cluster says its own subject)."""
        if self.kind == "cluster":
            return self.message
        return problem_line(f'config "{self.key}" {self.message}', self.fix)


CLUSTER_PERMISSION = "get on customresourcedefinitions (apiextensions.k8s.io, cluster-scoped)"
"""The one permission ``--cluster`` uses: it reads CRDs with ``kubectl get crd <name> -o json``, nothing else."""


@dataclass
class ClusterCheck:
    """What ``--cluster`` read of the running cluster with kubectl, what passed, or why it could not run."""

    context: str
    """The kubeconfig context (empty: kubectl's current one)."""
    reads: list[str] = field(default_factory=list)
    """The CRDs read (``kubectl get crd <name> -o json``), in order."""
    passed: list[str] = field(default_factory=list)
    """One line per check that passed (:func:`secret_chain.upstream.served_api_problems`)."""
    error: str = ""
    """Why the check could not run (kubectl missing, the cluster unreachable); empty when it ran."""

    @property
    def ran(self) -> bool:
        """True when every read the check needed was answered."""
        return not self.error

    def as_json(self) -> dict[str, Any]:
        """Machine-readable (camelCase, as every command's JSON)."""
        return {
            "context": self.context or None,
            "ran": self.ran,
            "permission": CLUSTER_PERMISSION,
            "reads": [f"kubectl get crd {name} -o json" for name in self.reads],
            "passed": self.passed,
            "error": self.error or None,
        }


@dataclass
class Report:
    """The outcome of a preflight check."""

    stack: str
    environment: str
    """The ESC environment fix commands write to."""
    declared: list[str] | None = None
    """The parts ``secret-chain:parts`` declares (None: nothing declared, the config enables them)."""
    enabled: list[str] = field(default_factory=list)
    """The parts the stack builds (declared, or enabled by the config), sub-groups included."""
    checked: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    built: list[str] = field(default_factory=list)
    """Every part the stack builds, sub-parts included (for the checks of a running cluster)."""
    cluster: ClusterCheck | None = None
    """What ``--cluster`` checked of the running cluster (None: not asked)."""

    @property
    def ok(self) -> bool:
        """True when nothing is wrong (warnings do not count)."""
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        """Machine-readable report (key names and messages only, never values)."""
        return {
            "stack": self.stack,
            "escEnvironment": self.environment,
            "ok": self.ok,
            "declared": self.declared,
            "enabled": self.enabled,
            "checked": self.checked,
            "problems": [p.__dict__ for p in self.problems],
            "warnings": [p.__dict__ for p in self.warnings],
            "cluster": self.cluster.as_json() if self.cluster is not None else None,
        }

    def exit_code(self) -> int:
        """0 ready; 1 a problem (the config's or the cluster's); 2 the cluster check could not run (the config is fine)."""
        if self.problems:
            return 1
        return 2 if self.cluster is not None and not self.cluster.ran else 0


def check(config: Mapping[str, str], secret_keys: Sequence[str], stack: str) -> Report:
    """Check ``config`` (flat ``pulumi config`` keys) for stack ``stack`` against the table of parts and the catalog."""
    try:
        kind: StackKind = parse_stack(stack, bootstrap=True)
    except Invalid as err:
        raise SecretChainError(f'--stack "{stack}" {err}') from None
    found_env = lookup(ESC_ENVIRONMENT_KEY, config.get)
    configured_env = "" if found_env is None else found_env[1]
    try:
        environment = esc_environment(kind.name, ESC_ENVIRONMENT_KEY.shape(configured_env) if configured_env else "")
    except Invalid:
        environment = esc_environment(kind.name, "")
    report = Report(stack=kind.name, environment=environment)
    secret_set = set(secret_keys)
    declared = parts.declared_parts(config.get)
    selection = parts.select(kind.kind, config.get, declared)
    report.declared = list(declared) if declared is not None else None
    report.enabled = [p.name for p in selection.built if p.declarable or p.enable is parts.Enable.TEMPORARY]
    report.built = [p.name for p in selection.built]

    def problem(entry: Key, what: str, message: str, part: str, *, warn: bool = False, fix: bool = True) -> None:
        item = Problem(entry.key, what, message, fix_command(entry, environment) if fix else "", part)
        (report.warnings if warn else report.problems).append(item)

    owner = {k.key: p.name for p in reversed(selection.built) for k in p.keys}
    for refusal in selection.problems:
        report.problems.append(Problem(parts.PARTS_KEY.key, "declared", refusal.message, refusal.fix, refusal.part))
    for missing in selection.unset():
        problem(missing.key, "missing", f"is missing: {missing.why}", missing.part)
    for conflict in selection.conflicts:
        problem(conflict.key, "conflict", f"conflicts with another alternative: {conflict.why}", conflict.part, fix=False)
    for key, why in selection.ignored.items():
        problem(catalog.get(key), "ignored", f"is ignored: {why}", "", warn=True, fix=False)

    for entry in selection.read:
        part = owner[entry.key]
        if entry.deprecated:  # no longer used: warned about, never checked (as its component does)
            problem(entry, "deprecated", f"is deprecated and no longer used; {entry.deprecated}. Remove it", part, warn=True, fix=False)
            continue
        report.checked.append(entry.key)
        try:
            found = lookup(entry, config.get)
            assert found is not None  # selection.read holds set keys only
            name, value = found
            entry.check(value)
        except Reserved as err:  # well-formed, but the documentation's example: the fix names a placeholder to replace
            report.problems.append(Problem(entry.key, "example", str(err), fix_command(entry, environment, err.fix), part))
            continue
        except Invalid as err:
            problem(entry, "malformed", f"{err}" if str(err).startswith("is ") else f"is invalid: {err}", part)
            continue
        if entry.secret and entry.config_key not in secret_set and name not in secret_set:
            problem(entry, "plaintext", "is a secret but is stored in plain text; set it again with --secret", part)
        if name != entry.key:
            problem(entry, "alias", f'is read from the older key "{name}"; move it to "{entry.key}"', part, warn=True)
        if entry.temporary:
            from secret_chain.ops.inventory import doc_link

            problem(
                entry,
                "rotation",
                f"is set: a rotation is in progress; remove it once the consumers have rolled ({doc_link(entry.key)})",
                part,
                warn=True,
                fix=False,
            )

        if not entry.secret and not entry.field and (entry.config_key in secret_set or name in secret_set):
            # Kept plain by the chain (issue: guard rails, item 5): warned, so nobody believes it stays secret.
            problem(
                entry,
                "secret-plain",
                f"is stored as a secret, but it is not one: the chain writes it in plain text ({_written(entry)}); "
                "set it again without --secret, and keep anything that must stay secret out of it",
                part,
                warn=True,
                fix=False,
            )

    facts = config_facts(config)
    for rule in dict.fromkeys(r for p in selection.built for r in p.rules):
        broken = rule.find(facts)
        if broken is not None:
            subject = broken.subject.key
            report.problems.append(Problem(subject, "rule", broken.message, rule_fix(broken, environment), owner.get(subject, "")))
    _check_github_owner(config, selection, report)
    for key in sorted(config):
        namespace = key.split(":", 1)[0]
        # A field's path (namespace:imagePullSecret.token) as a key of its own is unknown: the program reads the object key.
        known = any(key == e.config_key or key in e.aliases for e in catalog.KEYS)
        if namespace in CATALOG_NAMESPACES and not known:
            if namespace in ("github", "digitalocean", "kubernetes"):
                continue  # providers' own settings (github:owner, …) are not in the catalog
            label, suggestion = unknown_key_label(key)
            report.warnings.append(Problem(label, "unknown", f"is not a key secret-chain knows (a typo?{suggestion}); it is ignored", "", ""))
    return report


def _written(entry: Key) -> str:
    """Where the chain writes a key's value, without evaluating it: its GitHub Actions value, or the Secret of its parts."""
    from secret_chain.github_actions import ENTRIES
    from secret_chain.ops.plan import actions_target

    actions = next((e for e in ENTRIES if e.key.key == entry.key), None)
    if actions is not None:
        return actions_target(actions, "repository")
    writers = [p.name for p in parts.PARTS if entry in p.keys and p.writes_secrets]
    return f"into the Secret of {', '.join(writers)}" if writers else "as config"


def unknown_key_label(key: str) -> tuple[str, str]:
    """(a name for an unknown config key that cannot carry a value, a suggestion) for printing.

    A mistyped line such as ``prometheus:authToken=<token>`` arrives as a key, so the key itself is never
    printed: only its namespace and length, and the closest key the catalog knows (which is ours, not the user's).
    """
    import difflib

    namespace = key.split(":", 1)[0]
    known = [e.key for e in catalog.KEYS if e.namespace == namespace]
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    shown_ns = namespace if namespace in CATALOG_NAMESPACES else "another namespace"
    return f"<a key in namespace {shown_ns}, {len(key)} characters, not shown>", (f" did you mean {close[0]}" if close else "")


def _check_github_owner(config: Mapping[str, str], selection: parts.Selection, report: Report) -> None:
    """The repository's owner against the GitHub provider's, with the component's own rule (github_actions.owner_problem)."""
    from secret_chain.github_actions import GITHUB_OWNER, owner_problem, provider_owner

    if not any(p.name == "GitHubActionsSecrets" for p in selection.built):
        return
    configured = config.get(GITHUB_OWNER)
    if configured:
        try:
            real_owner(configured)
        except Reserved as err:  # the committed example owner: pulumi-github would write to someone else's account
            report.problems.append(Problem(GITHUB_OWNER, "example", str(err), config_set(GITHUB_OWNER, err.fix), "GitHubActionsSecrets"))
            return
    set_to = lookup(REPOSITORY_KEY, config.get)
    repository = "" if set_to is None else set_to[1]
    if "/" not in repository:
        return
    try:
        REPOSITORY_KEY.check(repository)
    except Invalid:
        return  # reported as malformed already
    found = owner_problem(repository.split("/", 1)[0], provider_owner(config.get(GITHUB_OWNER)), what=f'config "{REPOSITORY_KEY.key}"')
    if found is not None:
        message, _, fix = found.partition(FIX)
        message = message.removeprefix(f'config "{REPOSITORY_KEY.key}" ')
        report.problems.append(Problem(REPOSITORY_KEY.key, "owner", message, fix, "GitHubActionsSecrets"))


def config_facts(config: Mapping[str, str]) -> Facts:
    """What the cross-key rules read (:mod:`secret_chain.rules`) of a flat config: each key as the program reads it.

    A value is the key's normalised value when its own check passes (None otherwise: refused on its own, as the
    program's reader leaves it); a key is present when it is set at all; two secrets are compared, never shown.
    """

    def normalised(entry: Key) -> str | None:
        try:
            found = lookup(entry, config.get)
            return None if found is None else entry.shape(found[1])
        except Invalid:
            return None

    def present(entry: Key) -> bool:
        try:
            return lookup(entry, config.get) is not None
        except Invalid:
            return True

    def same(entry: Key, other: Key) -> bool | None:
        first, second = normalised(entry), normalised(other)
        return None if first is None or second is None else first == second

    values = {e.key: normalised(e) for e in catalog.KEYS if not e.secret}
    return facts_of(values, present, same)


def render_text(report: Report) -> str:
    """Human-readable report; names keys, never secret values, and escapes what it quotes of the others."""
    where = (
        f"attaches ESC environment {report.environment}; each fix names the environment that holds its key"
        if report.environment
        else "no ESC environment: fixes are pulumi config set"
    )
    lines = [f"Preflight of stack {report.stack} ({where})"]
    if report.declared is not None:
        lines.append(f"  parts declared in {parts.PARTS_KEY}: {', '.join(report.declared) or 'none'}")
        lines.append(f"  parts built: {', '.join(report.enabled) or 'none'}")
    else:
        lines.append(f"  parts enabled by the config: {', '.join(report.enabled) or 'none'} (nothing declared in {parts.PARTS_KEY})")
    lines.append(f"  keys checked: {len(report.checked)}")
    if report.problems:
        lines += ["", f"{len(report.problems)} problem(s):"]
        lines += [f"  ✗ {p.line()}" for p in report.problems]
    if report.warnings:
        lines += ["", f"{len(report.warnings)} warning(s):"]
        lines += [f"  ! {p.line()}" for p in report.warnings]
    lines += _cluster_lines(report.cluster)
    if not report.ok:
        lines += ["", "NOT READY: fix the problems above, then run preflight again."]
    elif report.cluster is not None and not report.cluster.ran:
        lines += ["", "CLUSTER NOT CHECKED: the config is ready for `pulumi up`, but the running cluster could not be checked (above)."]
    elif report.cluster is not None:
        lines += ["", "OK: the config is ready for `pulumi up`, and the running cluster serves what the built parts write."]
    else:
        lines += ["", "OK: the config is ready for `pulumi up`."]
    # Each line escaped whole (validators.printable): a value in it (github:owner, a configured name) may hold a newline
    # or an escape sequence, which would forge a line of its own (an OK after the problems) or rewrite the screen.
    return "".join(f"{printable(line)}\n" for line in lines)


def _cluster_lines(cluster: ClusterCheck | None) -> list[str]:
    """The running cluster's part of the text report: what kubectl read and what passed, or why nothing could be read."""
    if cluster is None:
        return []
    where = f"context {cluster.context}" if cluster.context else "kubectl's current context"
    if not cluster.ran:
        return [
            "",
            f"Cluster ({where}): NOT CHECKED: the cluster check could not run: {cluster.error}",
            "  The config results above stand; run preflight --cluster again once kubectl reaches the cluster.",
        ]
    if not cluster.reads:
        return ["", f"Cluster ({where}): nothing to read: no part this stack builds writes a custom resource."]
    lines = [
        "",
        f"Cluster ({where}), read with kubectl get crd <name> -o json (permission: {CLUSTER_PERMISSION}):",
        f"  CRDs read: {', '.join(cluster.reads)}",
    ]
    lines += [f"  ✓ {line}" for line in cluster.passed]
    return lines


# --- the command: secret-chain preflight -----------------------------------------------------------

EXAMPLES = """examples:
  secret-chain preflight --stack production
  secret-chain preflight --stack preview-base --config preview.json
  pulumi config --show-secrets --json --stack production | secret-chain preflight --stack production --config -

Exit status: 0 when the config is ready, 1 when something is missing or malformed (or the cluster serves too old an
API), 2 on bad arguments or when --cluster could not reach the cluster (the config's results are printed all the same).
"""


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``preflight`` to the command line."""
    p = subparsers.add_parser(
        "preflight",
        help="check a stack's config against the catalog before `pulumi up` (missing, malformed, wrong kind)",
        description="Check every key the config enables: missing, malformed or of the wrong kind, each with the exact fix.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--stack", required=True, type=_io.stack, help="production, preview-base, preview-pr-<N> or bootstrap")
    p.add_argument("--config", help=_io.CONFIG_HELP)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument(
        "--cluster",
        action="store_true",
        help="also check, with kubectl, that the running cluster serves the CRD versions the built parts write (components/secret_chain/upstream.py)",
    )
    p.add_argument("--context", help="kubeconfig context for --cluster (default: kubectl's current context)")
    p.set_defaults(func=main)


def check_cluster(report: Report, crd: Callable[[str], dict[str, Any] | None], context: str | None = None) -> None:
    """Check the running cluster (``crd(name)``: its CRD, or None) against the CRD versions the built parts write.

    A problem for each version it does not serve, and :attr:`Report.cluster` saying what was read and what passed.

    A read that fails (kubectl missing, the cluster unreachable: :func:`secret_chain.ops._io.kubectl_crd` raises) stops
    the cluster check only: the report keeps the config's results and says that the cluster could not be checked.
    """
    from secret_chain.upstream import served_api_problems

    cluster = report.cluster = ClusterCheck(context or "")

    def read(name: str) -> dict[str, Any] | None:
        cluster.reads.append(name)
        return crd(name)

    app_mode = catalog.FLUX_GITHUB_APP_ID.key in report.checked
    try:
        lines = served_api_problems(set(report.built), app_mode, read, cluster.passed)
    except SecretChainError as err:
        cluster.error = str(err)
        cluster.passed.clear()
        return
    for line in lines:
        report.problems.append(Problem("cluster", "cluster", line, "", ""))


def check_cluster_access(report: Report, config: Mapping[str, str], environ: Mapping[str, str], home: str) -> None:
    """In CI, a problem when a chain stack can reach no cluster: no cluster setting and no kubeconfig.

    CI is ``CI`` set, as GitHub Actions always sets it (GitHub docs, "Variables", default environment variables). The
    stack names no cluster (``secret-chain:digitaloceanCluster``) and the job has no kubeconfig for the default provider
    either (:func:`secret_chain.chain.ambient_kubeconfig`): every create, refresh and delete would fail.

    Outside CI a person's own kubeconfig is the ambient one, so nothing is said; the stack program itself never looks.
    """
    from secret_chain.chain import ambient_kubeconfig

    if report.stack == parts.Kind.BOOTSTRAP or environ.get("CI", "").lower() not in ("true", "1"):
        return
    if any(p == _CLUSTER_ACCESS for p in report.built) or ambient_kubeconfig(config, environ, home) is not None:
        return
    report.problems.append(
        Problem(
            catalog.DIGITALOCEAN_CLUSTER.key,
            "missing",
            "is not set, and this CI job has no kubeconfig either (KUBECONFIG, ~/.kube/config, in-cluster): pulumi-kubernetes "
            "would mark the cluster unreachable and fail every create, refresh and delete (provider.go: configured Kubernetes "
            "cluster is unreachable). Name the DigitalOcean cluster in the stack file, whose kubeconfig the program then "
            f"fetches on every run with {catalog.DIGITALOCEAN_PROVIDER_TOKEN.key}",
            fix_command(catalog.DIGITALOCEAN_CLUSTER, report.environment),
            _CLUSTER_ACCESS,
        )
    )


_CLUSTER_ACCESS = parts.BY_NAME["Cluster access"].name


def main(args: argparse.Namespace) -> int:
    """Check the stack's config against the catalog; exit 1 when anything is wrong."""
    import os

    config, secret_keys = _io.load_config(args)
    report = check(config, secret_keys, args.stack)
    check_cluster_access(report, config, os.environ, os.path.expanduser("~"))
    if args.cluster:
        check_cluster(report, lambda name: _io.kubectl_crd(name, args.context), args.context)
    if args.json:
        print(json.dumps(report.as_json(), indent=2, sort_keys=True))
    else:
        sys.stdout.write(render_text(report))
    return report.exit_code()
