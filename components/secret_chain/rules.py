"""The cross-key rules: a combination of config values that no single key's check can refuse, written once.

A rule reads several catalog keys and refuses a combination: a team token without its team, a team with an
organization token, Flux's GitHub App aimed at a repository that is not on github.com, the two Prometheus tokens of
a rotation that are the same. Each rule belongs to the rows of the table of parts that evaluate it
(:attr:`secret_chain.parts.Part.rules`), and both sides evaluate the same objects:

* the program: each component hands the values it resolved (its arguments, else config) to
  :meth:`secret_chain.config.ConfigReader.rule` for every rule of its row;
* ``secret-chain preflight``: for every part the stack builds, the rules of its row on the config it was given.

So a combination the program refuses is one preflight refuses, by construction (tests/test_rules.py enumerates
every rule and every single-key check on every stack kind and runs both). A rule only *finds* the violation; how it
is worded for a config key or an argument and which commands fix it is :mod:`secret_chain.config`'s (the one module
that writes fix commands). Values a rule cannot know yet (another resource's output) make it wait: the component
re-evaluates it once they are known.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from secret_chain import catalog
from secret_chain.catalog import Key


class _Unknown:
    """The value of a key given as another resource's output: known only later."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()

Value = str | None | _Unknown
"""A key's normalised value; None when it is absent or refused by its own check (reported on its own)."""


@dataclass(frozen=True)
class Facts:
    """What a rule may ask about the values of one stack or one component."""

    value: Callable[[Key], Value]
    """The normalised value of a non-secret key (secrets are never handed to a rule)."""
    present: Callable[[Key], bool]
    """Whether a key is set at all, valid or not."""
    same: Callable[[Key, Key], bool | None]
    """Whether two secrets hold the same normalised value (None: not both known), compared without being shown."""
    shown: Callable[[Key], bool] = lambda _: True
    """Whether a message may quote (part of) a key's value: not when it came as a secret output."""


@dataclass(frozen=True)
class Set:
    """A fix: set ``key`` (to ``value``, a placeholder a person replaces; its catalog example when empty)."""

    key: Key
    value: str = ""


@dataclass(frozen=True)
class Remove:
    """A fix: remove ``key``."""

    key: Key


Step = Set | Remove


@dataclass(frozen=True)
class Violation:
    """A rule found broken: the key it is about, what is wrong (after ``config "<key>"``) and the ways to fix it."""

    subject: Key
    message: str
    fixes: tuple[tuple[Step, ...], ...]
    """Alternatives, each a sequence of steps (the first is the recommended one)."""


@dataclass(frozen=True, eq=False)
class Rule:
    """One cross-key rule."""

    name: str
    keys: tuple[Key, ...]
    """Every key it reads."""
    source: str
    """The upstream behaviour it rests on."""
    find: Callable[[Facts], Violation | None]
    breaking: tuple[Mapping[Key, str | Key | None], ...] = field(default=())
    """Changes that break it, from a config that satisfies it: a value, another key (the same secret value), None
    (removed). tests/test_rules.py applies each on every stack kind and checks that the program and preflight agree."""

    def __str__(self) -> str:
        return self.name


def facts_of(
    values: Mapping[str, object],
    present: Callable[[Key], bool],
    same: Callable[[Key, Key], bool | None],
    shown: Callable[[Key], bool] = lambda _: True,
) -> Facts:
    """Facts over resolved values by catalog key (a plain string, None, or anything else: an output, unknown yet)."""

    def value(entry: Key) -> Value:
        assert not entry.secret, f"a rule never reads the secret {entry.key}"
        found = values.get(entry.key)
        return found if found is None or isinstance(found, str) else UNKNOWN

    return Facts(value, present, same, shown)


# --- the rules ----------------------------------------------------------------------------------------------

TOKEN_TYPE, TEAM = catalog.CI_PULUMI_TOKEN_TYPE, catalog.CI_PULUMI_TEAM
TEAM_TOKEN = "team"


def _team_token_needs_its_team(facts: Facts) -> Violation | None:
    if facts.value(TOKEN_TYPE) != TEAM_TOKEN or facts.present(TEAM):
        return None  # a team that is set but malformed is refused by its own check
    return Violation(TEAM, f"is missing: {TOKEN_TYPE} {TEAM_TOKEN} needs the team whose token CI requests", ((Set(TEAM, "<team>"),),))


TEAM_TOKEN_NEEDS_ITS_TEAM = Rule(
    "a team token names its team",
    (TOKEN_TYPE, TEAM),
    "Pulumi docs, OIDC issuers, GitHub: a team token is requested with scope team:<name>; the workflows pass "
    "scope team:${PULUMI_TEAM} exactly when PULUMI_TOKEN_TYPE is team (.github/workflows/preview-deploy.yml)",
    _team_token_needs_its_team,
    breaking=({TOKEN_TYPE: TEAM_TOKEN, TEAM: None},),
)


def _team_only_with_a_team_token(facts: Facts) -> Violation | None:
    token_type, team = facts.value(TOKEN_TYPE), facts.value(TEAM)
    if not isinstance(token_type, str) or token_type == TEAM_TOKEN or not isinstance(team, str):
        return None
    return Violation(
        TEAM,
        f"is only for {TOKEN_TYPE} {TEAM_TOKEN} (an {token_type} token has no team)",
        ((Set(TOKEN_TYPE, TEAM_TOKEN),), (Remove(TEAM),)),
    )


TEAM_ONLY_WITH_A_TEAM_TOKEN = Rule(
    "a team is named only for a team token",
    (TOKEN_TYPE, TEAM),
    "Pulumi docs, OIDC issuers, GitHub: an organization token has no team scope; the workflows request "
    "urn:pulumi:token-type:access_token:<PULUMI_TOKEN_TYPE> and pass PULUMI_TEAM only for team",
    _team_only_with_a_team_token,
    breaking=({TOKEN_TYPE: "organization", TEAM: "ci-deployers"},),
)


PREVIEW_TEAM = catalog.CI_PULUMI_PREVIEW_TEAM


def _pull_requests_get_their_own_team(facts: Facts) -> Violation | None:
    if facts.value(TOKEN_TYPE) != TEAM_TOKEN or facts.present(PREVIEW_TEAM):
        return None
    return Violation(
        PREVIEW_TEAM,
        f"is missing: with {TOKEN_TYPE} {TEAM_TOKEN} the edition has team tokens, so the jobs that run a pull request's code "
        f"(GitHub environment preview) get a team of their own, not the team of {TEAM}, whose token reaches production",
        ((Set(PREVIEW_TEAM, "<team>"),),),
    )


PULL_REQUESTS_GET_THEIR_OWN_TEAM = Rule(
    "pull requests get a team of their own where the edition has teams",
    (TOKEN_TYPE, TEAM, PREVIEW_TEAM),
    "Pulumi docs, OIDC issuers, token types by edition: team tokens need Enterprise or Business Critical, where ESC "
    "environments and stacks are permissioned per team (ESC docs, access control); each policy rule names the token "
    "type and team its subject gets (components/secret_chain/bootstrap.py)",
    _pull_requests_get_their_own_team,
    breaking=({TOKEN_TYPE: TEAM_TOKEN, TEAM: "ci-deployers", PREVIEW_TEAM: None},),
)


def _preview_team_is_not_productions(facts: Facts) -> Violation | None:
    team, preview = facts.value(TEAM), facts.value(PREVIEW_TEAM)
    if facts.value(TOKEN_TYPE) != TEAM_TOKEN or not isinstance(team, str) or team != preview:
        return None
    return Violation(
        PREVIEW_TEAM,
        f"is the team of {TEAM}: a pull request's jobs would get production's team token; name a team of their own",
        ((Set(PREVIEW_TEAM, "<team>"),),),
    )


PREVIEW_TEAM_IS_NOT_PRODUCTIONS = Rule(
    "the pull requests' team is not production's",
    (TOKEN_TYPE, TEAM, PREVIEW_TEAM),
    "Pulumi docs, access tokens: a team token's permissions are the union of the team's roles; one team for both "
    "subjects gives a pull request production's",
    _preview_team_is_not_productions,
    breaking=({TOKEN_TYPE: TEAM_TOKEN, TEAM: "ci-deployers", PREVIEW_TEAM: "ci-deployers"},),
)


FLUX_URL, FLUX_TOKEN = catalog.FLUX_REPOSITORY_URL, catalog.FLUX_GITHUB_TOKEN
GITHUB_COM = "github.com"


def _flux_app_needs_github_com(facts: Facts) -> Violation | None:
    if facts.present(FLUX_TOKEN) or not any(facts.present(k) for k in catalog.FLUX_APP_KEYS):
        return None  # token mode, or no App: the App's host does not matter (both at once is a conflict of its own)
    url = facts.value(FLUX_URL)
    if not isinstance(url, str):
        return None
    host = (urlsplit(url).hostname or "").lower()
    if host == GITHUB_COM:
        return None
    app = ", ".join(k.key for k in catalog.FLUX_APP_KEYS)
    where = f" ({host})" if facts.shown(FLUX_URL) else ""
    return Violation(
        FLUX_URL,
        f"names a repository that is not on {GITHUB_COM}{where}, but Flux's GitHub App ({app}) is configured: the controllers "
        f"mint the App's installation token at {GITHUB_COM}'s API unless the Secret names a GitHub Enterprise Server API "
        '(githubAppBaseURL: no config key holds one; for a GitHub App on GitHub Enterprise Server pass FluxGitCredentials\' '
        'argument "github_app_base_url", e.g. https://ghe.example.com/api/v3)',
        (
            (Set(FLUX_URL),),
            (*(Remove(k) for k in catalog.FLUX_APP_KEYS), Set(FLUX_TOKEN)),
        ),
    )


FLUX_APP_NEEDS_GITHUB_COM = Rule(
    "Flux's GitHub App reads a github.com repository",
    (FLUX_URL, *catalog.FLUX_APP_KEYS, FLUX_TOKEN),
    "Flux docs, source-controller GitRepository, GitHub App: githubAppBaseURL is required only for GitHub Enterprise "
    "Server; without it the token is minted at https://api.github.com (fluxcd/pkg git/github)",
    _flux_app_needs_github_com,
    breaking=({FLUX_URL: "https://git.acme-corp.dev/acme/cluster", FLUX_TOKEN: None},),
)


PROMETHEUS_TOKEN, PREVIOUS_TOKEN = catalog.PROMETHEUS_TOKEN, catalog.PROMETHEUS_PREVIOUS_TOKEN


def _rotation_needs_two_tokens(facts: Facts) -> Violation | None:
    if facts.same(PROMETHEUS_TOKEN, PREVIOUS_TOKEN) is not True:
        return None
    return Violation(
        PROMETHEUS_TOKEN,
        f'is the same as "{PREVIOUS_TOKEN.key}": phase 1 of a rotation needs the new token in {PROMETHEUS_TOKEN.key} '
        f"and the old one in {PREVIOUS_TOKEN.key}",
        ((Set(PROMETHEUS_TOKEN),),),
    )


ROTATION_NEEDS_TWO_TOKENS = Rule(
    "a Prometheus token rotation holds two different tokens",
    (PROMETHEUS_TOKEN, PREVIOUS_TOKEN),
    f"docs/rotation.md, {PROMETHEUS_TOKEN.key}: phase 1 serves both tokens to the app while Prometheus keeps sending "
    "the old one; the same token twice rotates nothing",
    _rotation_needs_two_tokens,
    breaking=({PREVIOUS_TOKEN: PROMETHEUS_TOKEN},),
)

RULES: tuple[Rule, ...] = (
    TEAM_TOKEN_NEEDS_ITS_TEAM,
    TEAM_ONLY_WITH_A_TEAM_TOKEN,
    PULL_REQUESTS_GET_THEIR_OWN_TEAM,
    PREVIEW_TEAM_IS_NOT_PRODUCTIONS,
    FLUX_APP_NEEDS_GITHUB_COM,
    ROTATION_NEEDS_TWO_TOKENS,
)
"""Every cross-key rule (each is held by the rows of the table of parts that evaluate it)."""
LOGIN_RULES: tuple[Rule, ...] = (TEAM_TOKEN_NEEDS_ITS_TEAM, TEAM_ONLY_WITH_A_TEAM_TOKEN)
"""How CI logs in to Pulumi Cloud: GitHubActionsSecrets writes it, the bootstrap's OIDC policy allows it."""
OIDC_POLICY_RULES: tuple[Rule, ...] = (*LOGIN_RULES, PULL_REQUESTS_GET_THEIR_OWN_TEAM, PREVIEW_TEAM_IS_NOT_PRODUCTIONS)
"""What the bootstrap's OIDC policy gives each subject: the login rules, and a pull request's own team where there are teams."""
