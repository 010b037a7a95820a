"""The one table of parts: which stack kinds build each part, what it needs, and how it is enabled.

:data:`PARTS` is data: for each part of the chain (a component, or a sub-group of one such as Grafana's
mail settings) the stack kinds that build it, the catalog keys it needs (all of them, one complete
alternative, or each optional), the shared keys and stack settings it requires, and how it is enabled.
:func:`select` applies the table to one stack's config. The stack program (:mod:`secret_chain.chain`),
``preflight``, ``plan``, ``inventory`` and the docs' parts table (docs/reference/secret-chain.md) all read it, so ``preflight`` says
READY exactly when the program builds. Whether a key is set is answered by :func:`secret_chain.config.lookup`
alone (``get`` is :func:`secret_chain.config.raw` at run time, ``config.get`` of the flat dict in preflight).

A stack declares the parts it builds in the stack setting ``secret-chain:parts`` (a YAML list in
``stacks/Pulumi.<stack>.yaml``, which the program receives as JSON text). A declared part whose config is
missing is an error, never a silent removal; a declared part the stack kind never builds is an error too.
Where nothing is declared (a stack without the setting), a part is built when any of its own keys is set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from secret_chain import catalog, rules
from secret_chain.catalog import Key
from secret_chain.reading import lookup
from secret_chain.rules import Rule
from secret_chain.validators import Invalid

PARTS_KEY = catalog.DECLARED_PARTS
"""The stack setting that declares the parts a stack builds (its catalog entry checks it with :func:`check_declared`)."""


class Kind(StrEnum):
    """The kinds of stack.

    ``production``, ``preview-base`` and ``preview-pr-<N>`` (one per pull request) build the chain; ``bootstrap``
    builds the ESC tier they read (:mod:`secret_chain.bootstrap`).
    """

    PRODUCTION = "production"
    PREVIEW_BASE = "preview-base"
    PREVIEW_PR = "preview-pr"
    BOOTSTRAP = "bootstrap"

    @property
    def label(self) -> str:
        """The stack name as a person writes it (``preview-pr-<N>``)."""
        return "preview-pr-<N>" if self is Kind.PREVIEW_PR else self.value


class Enable(StrEnum):
    """How a part comes to be built."""

    DECLARED = f"declared in {catalog.DECLARED_PARTS}; where nothing is declared, by any of its own keys"
    KEYS = "by any of its own keys, within its parent; required when declared"
    TEMPORARY = "by its key, within its parent, only while a rotation is in progress; never declared"
    ALWAYS = "on every stack of its kinds (the chain's own settings)"
    WITH_PARENT = "with its part, on every stack of its kinds; never declared"
    SETTING = "by its stack setting (or the SecretChain argument standing in for it), on every stack of its kinds; never declared"


# Stack settings the chain reads (defined once, in the catalog).
DOMAIN = catalog.DOMAIN
ACME_EMAIL = catalog.ACME_EMAIL
GITHUB_REPOSITORY = catalog.GITHUB_REPOSITORY
FLUX_REPOSITORY_URL = catalog.FLUX_REPOSITORY_URL
APP_NAMESPACE = catalog.APP_NAMESPACE
GATEWAY_NAMESPACE = catalog.GATEWAY_NAMESPACE
ESC_ENVIRONMENT = catalog.ESC_ENVIRONMENT
DECLARED_PARTS = catalog.DECLARED_PARTS
IMAGE_AUTOMATION = catalog.IMAGE_AUTOMATION
ROLLOUT_KEY = catalog.ROLLOUT_KEY
MUTABLE_SECRETS = catalog.MUTABLE_SECRETS
GITHUB_PROVIDER_TOKEN = catalog.GITHUB_PROVIDER_TOKEN
DIGITALOCEAN_PROVIDER_TOKEN = catalog.DIGITALOCEAN_PROVIDER_TOKEN
DIGITALOCEAN_CLUSTER = catalog.DIGITALOCEAN_CLUSTER


CHAIN_KINDS = frozenset({Kind.PRODUCTION, Kind.PREVIEW_BASE, Kind.PREVIEW_PR})
"""The stacks that build the chain (and attach an ESC environment)."""
SHARED_KINDS = frozenset({Kind.PRODUCTION, Kind.PREVIEW_BASE})
"""Cluster-wide objects and the repository's Actions secrets: a PR stack shares preview-base's."""
APP_KINDS = frozenset({Kind.PRODUCTION, Kind.PREVIEW_PR})
"""Stacks that run the application: preview-base runs none, so it writes nothing into an application namespace."""
GITHUB_ENVIRONMENTS: dict[Kind, str] = {Kind.PRODUCTION: "production", Kind.PREVIEW_BASE: "preview"}
"""The GitHub deployment environment of ``secret-chain:githubRepository`` that each stack kind building GitHubActionsSecrets
writes its Actions secrets and variables to, and creates (the one place these names are written).

Both stacks write the same names (PULUMI_ORG, APP_ID, APP_PRIVATE_KEY, …): written repository-wide, the second stack's
first ``pulumi up`` would fail, as terraform-provider-github creates a variable with a plain POST
(``github/resource_github_actions_variable.go``: ``CreateRepoVariable``) and GitHub answers 409 for a name that exists.
Environment secrets and variables are scoped to their environment (REST API ``/repos/{owner}/{repo}/environments/
{environment_name}/secrets`` and ``…/variables``), so each name has one owner. A workflow job sees them only with
``environment: <name>`` (GitHub docs, "Using environments for deployment")."""


@dataclass(frozen=True)
class Part:
    """One row of the table."""

    name: str
    """The component class it builds (a sub-group: ``<Component>.<group>``)."""
    kinds: frozenset[Kind]
    """The stack kinds that build it; declaring it anywhere else is an error."""
    enable: Enable
    all_of: tuple[Key, ...] = ()
    """Own keys, each required once the part is built."""
    one_of: tuple[tuple[Key, ...], ...] = ()
    """Own alternatives: exactly one, complete (the first is the recommended one)."""
    optional: tuple[Key, ...] = ()
    """Own keys read when present (they enable the part where nothing is declared)."""
    needs: tuple[Key, ...] = ()
    """Shared keys and stack settings required once the part is built (they do not enable it)."""
    uses: tuple[Key, ...] = ()
    """Keys read when present that do not enable it (provider tokens, settings with a default)."""
    parent: str = ""
    """For a sub-group: the part it belongs to (built only with it)."""
    writes_secrets: bool = False
    """Writes Kubernetes Secrets: the default provider must update them in place (``kubernetes:enableSecretMutable``)."""
    rules: tuple[Rule, ...] = ()
    """Cross-key rules (:mod:`secret_chain.rules`) the part's component evaluates, and ``preflight`` wherever the part is built."""
    provides: tuple[Key, ...] = ()
    """Keys it stands in for once built: no other built part then needs them (cluster access's explicit provider
    updates Secrets in place itself, so ``kubernetes:enableSecretMutable`` is not required)."""

    @property
    def declarable(self) -> bool:
        """Whether ``secret-chain:parts`` may list it."""
        return self.enable in (Enable.DECLARED, Enable.KEYS)

    @property
    def own(self) -> tuple[Key, ...]:
        """Its own keys: any of them set enables it where nothing is declared."""
        return self.all_of + tuple(k for alternative in self.one_of for k in alternative) + self.optional

    @property
    def required(self) -> tuple[Key, ...]:
        """Keys required once it is built, besides one complete alternative of :attr:`one_of`."""
        return self.all_of + self.needs + ((MUTABLE_SECRETS,) if self.writes_secrets else ())

    @property
    def keys(self) -> tuple[Key, ...]:
        """Every key it reads."""
        return tuple(dict.fromkeys(self.own + self.required + self.uses))


PARTS: tuple[Part, ...] = (
    Part("Stack settings", CHAIN_KINDS, Enable.ALWAYS, uses=(ESC_ENVIRONMENT, DECLARED_PARTS)),
    Part("Application namespace", frozenset({Kind.PRODUCTION}), Enable.ALWAYS, uses=(APP_NAMESPACE,)),
    # The cluster a stack deploys to: with the setting, the program fetches its kubeconfig on every run with the
    # environment's digitalocean:token (pulumi-digitalocean getKubernetesCluster) and gives it to an explicit Kubernetes
    # provider that updates Secrets in place (secret_chain.chain); without it, pulumi-kubernetes uses the ambient
    # kubeconfig and the default provider's kubernetes:enableSecretMutable.
    Part(
        "Cluster access",
        CHAIN_KINDS,
        Enable.SETTING,
        optional=(DIGITALOCEAN_CLUSTER,),
        needs=(DIGITALOCEAN_PROVIDER_TOKEN,),
        provides=(MUTABLE_SECRETS,),
    ),
    Part("GhcrPullSecret", APP_KINDS, Enable.DECLARED, all_of=(catalog.GHCR_USERNAME, catalog.GHCR_TOKEN), writes_secrets=True),
    # The rollout key is read when set; absent, the chain (or the component on its own) generates it.
    Part("PrometheusAuth", APP_KINDS, Enable.DECLARED, all_of=(catalog.PROMETHEUS_TOKEN,), uses=(ROLLOUT_KEY,), writes_secrets=True),
    Part(
        "PrometheusAuth.rotation",
        APP_KINDS,
        Enable.TEMPORARY,
        optional=(catalog.PROMETHEUS_PREVIOUS_TOKEN,),
        parent="PrometheusAuth",
        rules=(rules.ROTATION_NEEDS_TWO_TOKENS,),
    ),
    Part(
        "FluxGitCredentials",
        SHARED_KINDS,
        Enable.DECLARED,
        one_of=(catalog.FLUX_APP_KEYS, (catalog.FLUX_GITHUB_TOKEN,)),
        needs=(FLUX_REPOSITORY_URL,),
        writes_secrets=True,
        rules=(rules.FLUX_APP_NEEDS_GITHUB_COM,),
    ),
    # The stack's image automation (secret-chain:imageAutomation), on FluxGitCredentials' GitRepository: it scans the
    # private images with the GHCR pull secret, written into the Flux namespace (an ImageRepository's secretRef is
    # local to its namespace). preview-base builds it under its own names and push branch (components/secret_chain/chain.py).
    Part(
        "FluxImageAutomation",
        SHARED_KINDS,
        Enable.KEYS,
        all_of=(IMAGE_AUTOMATION,),
        needs=(catalog.GHCR_USERNAME, catalog.GHCR_TOKEN),
        parent="FluxGitCredentials",
        writes_secrets=True,
    ),
    Part(
        "CertManagerDnsIssuer",
        SHARED_KINDS,
        Enable.DECLARED,
        all_of=(catalog.DIGITALOCEAN_DNS_TOKEN,),
        needs=(DOMAIN, ACME_EMAIL),
        uses=(DIGITALOCEAN_PROVIDER_TOKEN,),
        writes_secrets=True,
    ),
    # preview-base issues the PR hosts' wildcard certificates into the shared Gateway's namespace.
    Part(
        "CertManagerDnsIssuer.wildcards",
        frozenset({Kind.PREVIEW_BASE}),
        Enable.WITH_PARENT,
        needs=(GATEWAY_NAMESPACE,),
        parent="CertManagerDnsIssuer",
    ),
    # preview-base runs no Grafana: each PR gets its own at <N>.pr-grafana.<domain>.
    Part(
        "GrafanaOAuth",
        frozenset({Kind.PRODUCTION, Kind.PREVIEW_PR}),
        Enable.DECLARED,
        all_of=catalog.GRAFANA_OAUTH_KEYS,
        needs=(DOMAIN,),
        uses=(ROLLOUT_KEY,),
        writes_secrets=True,
    ),
    # Read wherever Grafana is built; PR stacks send no alert mail (GF_SMTP_ENABLED false).
    Part(
        "GrafanaOAuth.mail",
        frozenset({Kind.PRODUCTION, Kind.PREVIEW_PR}),
        Enable.KEYS,
        all_of=catalog.GRAFANA_MAIL_KEYS,
        parent="GrafanaOAuth",
    ),
    # Every CI workflow logs in to Pulumi Cloud by OIDC for PULUMI_ORG and mints GitHub App tokens (APP_ID,
    # APP_PRIVATE_KEY); a team token names its team; the stored-token fallback is opt-in, both keys or neither.
    # The deprecated keys are only read to warn (github_actions.deprecation_warning): they never enable anything.
    Part(
        "GitHubActionsSecrets",
        SHARED_KINDS,
        Enable.DECLARED,
        all_of=catalog.CI_CORE_KEYS,
        optional=(catalog.CI_PULUMI_TOKEN_TYPE, catalog.CI_PULUMI_TEAM),
        needs=(GITHUB_REPOSITORY,),
        uses=(GITHUB_PROVIDER_TOKEN, *(e for e in catalog.KEYS if e.namespace == "ci" and e.deprecated)),
        rules=rules.LOGIN_RULES,
    ),
    Part(
        "GitHubActionsSecrets.fallback",
        SHARED_KINDS,
        Enable.KEYS,
        all_of=(catalog.CI_PULUMI_AUTH, catalog.CI_PULUMI_FALLBACK_ACCESS_TOKEN),
        parent="GitHubActionsSecrets",
    ),
    # The bootstrap stack creates the environments and the OIDC trust CI logs in with (its own stack settings:
    # no environment exists yet). The organisation defaults to the stack's; a team token names its team, and the jobs
    # that run a pull request's code get a team of their own (ci:pulumiPreviewTeam) where the edition has teams.
    Part(
        "EscBootstrap",
        frozenset({Kind.BOOTSTRAP}),
        Enable.ALWAYS,
        needs=(GITHUB_REPOSITORY,),
        uses=(catalog.CI_PULUMI_ORGANIZATION, catalog.CI_PULUMI_TOKEN_TYPE, catalog.CI_PULUMI_TEAM, catalog.CI_PULUMI_PREVIEW_TEAM),
        rules=rules.OIDC_POLICY_RULES,
    ),
)
BY_NAME: dict[str, Part] = {p.name: p for p in PARTS}
COMPONENTS: tuple[Part, ...] = tuple(p for p in PARTS if p.enable is Enable.DECLARED)
"""The parts that are components of their own, in the order the chain builds them."""


def rules_of(component: str) -> tuple[Rule, ...]:
    """The cross-key rules a component evaluates: those of its row and of its sub-groups' rows, each once."""
    return tuple(dict.fromkeys(r for p in PARTS if component in (p.name, p.parent) for r in p.rules))


def kind_of(stack: str) -> Kind:
    """The kind of a (valid) stack name."""
    return Kind.PREVIEW_PR if stack.startswith("preview-pr-") else Kind(stack)


check_declared = catalog.check_declared_parts
"""Check ``secret-chain:parts`` (JSON text of a list of part names); return it normalised (the catalog entry's check)."""


def declared_parts(get: Callable[[str], str | None]) -> tuple[str, ...] | None:
    """The parts ``secret-chain:parts`` declares, or None when it is absent or invalid (its check reports that)."""
    found = lookup(PARTS_KEY, get)
    if found is None:
        return None
    try:
        return tuple(json.loads(check_declared(found[1])))
    except Invalid:
        return None


@dataclass(frozen=True)
class Missing:
    """A required key that is not set, and why it is required."""

    key: Key
    part: str
    why: str


@dataclass(frozen=True)
class Refusal:
    """A declaration the stack kind refuses: a part it never builds, or a sub-group without its part."""

    part: str
    message: str
    fix: str

    def line(self) -> tuple[str, str]:
        """(problem, fix): what is wrong with the declaration, and what to do (:meth:`secret_chain.config.ConfigReader.fail`)."""
        return f"{PARTS_KEY} {self.message}", self.fix


@dataclass
class Selection:
    """What the table makes of one stack's config: the parts built and every key they read."""

    kind: Kind
    declared: tuple[str, ...] | None
    built: list[Part] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    conflicts: list[Missing] = field(default_factory=list)
    """Keys of a second alternative (``one_of``) set next to the first."""
    problems: list[Refusal] = field(default_factory=list)
    """Declarations the stack kind refuses (a part it never builds, a sub-group without its part)."""
    read: list[Key] = field(default_factory=list)
    """The set keys the built parts read, in catalog order: the program checks each of them, and so does preflight."""
    ignored: dict[str, str] = field(default_factory=dict)
    """Set keys no built part reads, with the reason."""

    def names(self) -> set[str]:
        """Names of every part built."""
        return {p.name for p in self.built}

    def unset(self) -> list[Missing]:
        """The missing keys, each once (a key several parts need, such as the domain, under the first)."""
        seen: dict[str, Missing] = {}
        for item in self.missing:
            seen.setdefault(item.key.key, item)
        return list(seen.values())

    def incomplete(self, *, but: Collection[Key] = ()) -> set[str]:
        """The components that cannot be built as configured (a key missing or conflicting, in them or a sub-group).

        ``but``: keys whose absence the caller handles itself (the chain: the mutable-Secrets flag, which an
        explicit provider may stand in for).
        """
        return {BY_NAME[m.part].parent or m.part for m in self.missing + self.conflicts if m.key not in but}


def _is_set(entry: Key, get: Callable[[str], str | None]) -> bool:
    try:
        return lookup(entry, get) is not None
    except Invalid:
        return True  # set, but not the object the catalog declares: its check reports it


def _list(keys: Sequence[Key]) -> str:
    return " + ".join(k.key for k in keys)


def select(kind: Kind, get: Callable[[str], str | None], declared: Sequence[str] | None, given: Collection[str] = ()) -> Selection:
    """Apply the table to one stack: the parts built, the keys they need that are missing, and every key they read.

    ``get`` reads a flat config key (see :func:`secret_chain.config.lookup`); ``declared`` is the value of
    ``secret-chain:parts`` (None: nothing declared, so the config enables parts); ``given`` names settings
    passed as arguments instead of config (they count as set).
    """
    selection = Selection(kind, tuple(declared) if declared is not None else None)
    present = {e.key for e in catalog.KEYS if _is_set(e, get)} | set(given)
    wanted = set(declared or ())
    for name in declared or ():
        part = BY_NAME[name]
        if kind not in part.kinds:
            where = ", ".join(k.label for k in Kind if k in part.kinds)
            selection.problems.append(
                Refusal(
                    name,
                    f"declares {name}, which {kind.label} stacks never build (built by: {where})",
                    f"remove {name} from {PARTS_KEY} in the stack file",
                )
            )
        elif part.parent and part.parent not in wanted:
            selection.problems.append(Refusal(name, f"declares {name} without {part.parent}", f"declare {part.parent} too, or remove {name}"))

    def sub_groups(part: Part) -> list[Part]:
        return [p for p in PARTS if p.parent == part.name]

    for part in PARTS:
        if kind not in part.kinds:
            continue
        if part.enable is Enable.ALWAYS:
            built = True
        elif part.enable is Enable.SETTING:
            built = any(k.key in present for k in part.own)
        elif part.parent:
            with_parent = part.enable is Enable.WITH_PARENT or part.name in wanted or any(k.key in present for k in part.own)
            built = BY_NAME[part.parent] in selection.built and with_parent
        elif declared is not None:
            built = part.name in wanted
        else:
            built = any(k.key in present for p in (part, *sub_groups(part)) for k in p.own)
        if not built:
            continue
        selection.built.append(part)
        if part.name in wanted:
            reason = f"{part.name} is declared in {PARTS_KEY}"
        elif part.enable is Enable.SETTING:
            reason = f"{part.name} is enabled by {' or '.join(k.key for k in part.own)} (or the argument that stands in for it)"
        else:
            reason = f"{part.name} is enabled by the config"
        for key in part.required:
            if key.key not in present:
                selection.missing.append(Missing(key, part.name, f"{reason} and needs it"))
        if part.one_of:
            chosen = [alt for alt in part.one_of if any(k.key in present for k in alt)]
            choices = " or ".join(_list(alt) for alt in part.one_of)
            for alt in chosen[1:]:
                for key in alt:
                    if key.key in present:
                        selection.conflicts.append(Missing(key, part.name, f"{part.name} takes {choices}, not both; remove one"))
            for key in (chosen[0] if chosen else part.one_of[0]):
                if key.key not in present:
                    selection.missing.append(Missing(key, part.name, f"{reason} and needs {choices}"))
    provided = {k.key for p in selection.built for k in p.provides}
    selection.missing = [m for m in selection.missing if m.key.key not in provided]
    read = {k.key for p in selection.built for k in p.keys}
    selection.read = [e for e in catalog.KEYS if e.key in read and e.key in present and e.key not in given]
    for entry in catalog.KEYS:
        if entry.key in present and entry.key not in read and entry.key not in given:
            owners = [p for p in PARTS if entry in p.keys]
            if owners and not any(kind in p.kinds for p in owners):
                why = f"{kind.label} stacks never build {', '.join(p.name for p in owners)}"
            elif declared is not None:
                why = f"{', '.join(p.name for p in owners)} is not declared in {PARTS_KEY}"
            else:
                why = f"no part that reads it is enabled ({', '.join(p.name for p in owners)})"
            selection.ignored[entry.key] = why
    # One message per key: a key several parts need (the domain) is missing once.
    return selection


def esc_keys_required(kind: Kind) -> tuple[Key, ...]:
    """The ESC-tier keys a stack of this kind needs for every part it can declare or enable by a stack setting.

    Each part's required keys and the recommended alternative of a choice, with the sub-groups built with their
    part and the parts a setting enables (cluster access: ``digitalocean:token``), not the optional ones. This is what
    the environment a stack attaches must carry (:mod:`secret_chain.esc`), in catalog order.
    """
    wanted: set[str] = set()
    for part in PARTS:
        if kind not in part.kinds or part.enable not in (Enable.DECLARED, Enable.WITH_PARENT, Enable.SETTING):
            continue
        wanted.update(k.key for k in part.required + (part.one_of[0] if part.one_of else ()))
    return tuple(e for e in catalog.KEYS if e.key in wanted and e.tier is catalog.Tier.ESC)


def arg_name(setting: Key) -> str:
    """The SecretChain argument that stands in for a stack setting: ``secret-chain:acmeEmail`` → ``acme_email``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", setting.name).lower()


# --- the table as documentation ---------------------------------------------------------------------


def _keys_cell(keys: Sequence[Key]) -> str:
    return ", ".join(f"`{k.key}`" for k in keys)


def rows() -> list[dict[str, object]]:
    """The table for machines and docs: one row per part."""
    out: list[dict[str, object]] = []
    for part in PARTS:
        out.append(
            {
                "part": part.name,
                "kinds": [k.label for k in Kind if k in part.kinds],
                "enabled": part.enable.value,
                "allOf": [k.key for k in part.all_of],
                "oneOf": [[k.key for k in alt] for alt in part.one_of],
                "optional": [k.key for k in part.optional + part.uses],
                "needs": [k.key for k in part.needs + ((MUTABLE_SECRETS,) if part.writes_secrets else ())],
            }
        )
    return out


def render_markdown() -> str:
    """The parts table of docs/reference/secret-chain.md (generated; ``secret-chain inventory --docs docs`` rewrites it)."""
    header = ["Part", *(k.label for k in Kind), "Needs (all of)", "One of", "Optional", "Enabled"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for part in PARTS:
        cells = [f"`{part.name}`", *("yes" if k in part.kinds else "—" for k in Kind)]
        cells.append(_keys_cell(part.required) or "—")
        cells.append(" or ".join(" + ".join(f"`{k.key}`" for k in alt) for alt in part.one_of) or "—")
        cells.append(_keys_cell(part.optional + part.uses) or "—")
        cells.append(part.enable.value)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
