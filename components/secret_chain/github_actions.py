"""GitHubActionsSecrets: tier 1 of the chain, the secrets and variables CI workflows read.

Since issue 14 CI holds no stored Pulumi or GitHub token: the workflows log in to Pulumi Cloud by OIDC
(variables PULUMI_ORG, PULUMI_TOKEN_TYPE, PULUMI_TEAM) and write to GitHub with one-hour tokens of the CI
GitHub App (variable APP_ID, secret APP_PRIVATE_KEY). A stored Pulumi token is written only on explicit
opt-in, for a Pulumi Cloud without OIDC (ci:pulumiAuth with ci:pulumiFallbackAccessToken). The old
PULUMI_ACCESS_TOKEN and WORKFLOW_DISPATCH_TOKEN keys stay readable for one release: they warn and are not written.
"""

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Required, TypedDict, cast

import pulumi

from secret_chain import catalog
from secret_chain import validators as v
from secret_chain._component import ChainComponent, deprecation, derived
from secret_chain._resolve import arg, resolve_spec
from secret_chain.catalog import Key
from secret_chain.config import (
    DOC_ENVIRONMENT,
    ConfigReader,
    Known,
    apply_knowing_secrecy,
    config_set,
    each,
    gated,
    lift,
    problem_line,
    raw,
    remove_command,
    string,
    validated,
)
from secret_chain.errors import SecretChainError
from secret_chain.parts import rules_of
from secret_chain.validators import Invalid


class Entry(NamedTuple):
    """One Actions secret or variable and the config key it comes from."""

    github_name: str
    key: Key
    secret: bool
    arg: str

    @property
    def config_key(self) -> str:
        """The config key it comes from."""
        return self.key.key

    @property
    def deprecated(self) -> bool:
        """No longer written: its key is deprecated in the catalog (read only to warn)."""
        return bool(self.key.deprecated)


ENTRIES: tuple[Entry, ...] = (
    Entry("PULUMI_ORG", catalog.CI_PULUMI_ORGANIZATION, False, "pulumi_organization"),
    Entry("PULUMI_TOKEN_TYPE", catalog.CI_PULUMI_TOKEN_TYPE, False, "pulumi_token_type"),
    Entry("PULUMI_TEAM", catalog.CI_PULUMI_TEAM, False, "pulumi_team"),
    Entry("APP_ID", catalog.CI_GITHUB_APP_ID, False, "app_id"),
    Entry("APP_PRIVATE_KEY", catalog.CI_GITHUB_APP_PRIVATE_KEY, True, "app_private_key"),
    Entry("PULUMI_AUTH", catalog.CI_PULUMI_AUTH, False, "pulumi_auth"),
    Entry("PULUMI_FALLBACK_ACCESS_TOKEN", catalog.CI_PULUMI_FALLBACK_ACCESS_TOKEN, True, "pulumi_fallback_access_token"),
    # Deprecated in catalog.DEPRECATED_SINCE, removed in catalog.REMOVED_IN: a warning, nothing written (so a
    # pulumi up deletes the Actions secrets an older version wrote). Kept here so old states still map.
    Entry("PULUMI_ACCESS_TOKEN", catalog.CI_PULUMI_ACCESS_TOKEN, True, "pulumi_access_token"),
    Entry("WORKFLOW_DISPATCH_TOKEN", catalog.CI_WORKFLOW_DISPATCH_TOKEN, True, "workflow_dispatch_token"),
)
BY_GITHUB_NAME = {e.github_name: e for e in ENTRIES}
DEPRECATED_ARGS: dict[str, str] = {
    e.arg: deprecation(f"accepted with a warning and ignored; {e.github_name} is no longer written. Replaced by: {e.key.deprecated}")
    for e in ENTRIES
    if e.deprecated
}
"""The arguments of the entries whose config key the catalog deprecates: their ``deprecationMessage`` in the provider's schema."""
CORE: tuple[str, ...] = tuple(e.github_name for k in catalog.CI_CORE_KEYS for e in ENTRIES if e.key is k)
"""The entries every CI workflow reads (the Pulumi login's organisation, the CI App's ID and key): what the table of parts
requires once GitHubActionsSecrets is built (:mod:`secret_chain.parts`, from the same catalog.CI_CORE_KEYS), and what a
component with nothing to write asks for."""
GITHUB_OWNER = "github:owner"
"""pulumi-github's own setting of the account it writes to: a provider key the chain reads but does not hold (not in the catalog)."""
PROTECTION_RULES = ("canAdminsBypass", "deploymentBranchPolicy", "preventSelfReview", "reviewers", "waitTimer")
"""A RepositoryEnvironment's protection settings (pulumi-github's input names): left to the repository's admins."""
HAND_SET_VARIABLES = ("FLUX_REPOSITORY", "FLUX_BASE_BRANCH", "DOCTOR_WARN_DAYS")
"""Repository variables the workflows read that the chain does not write (docs/workflows.md)."""


class GitHubActionsSecretsArgs(TypedDict, total=False):
    """Arguments of :class:`GitHubActionsSecrets`. Values left out are read from ESC-injected config."""

    repository: Required[pulumi.Input[str]]
    """The repository, owner/name or name (the owner then comes from github:owner), e.g. a Repository's full_name. Required."""
    required: list[str]
    """Entries that must be configured (PULUMI_ORG, PULUMI_TOKEN_TYPE, PULUMI_TEAM, APP_ID, APP_PRIVATE_KEY,
    PULUMI_AUTH, PULUMI_FALLBACK_ACCESS_TOKEN).

    The others are created only when their config is present; with none present at all (nothing to write), PULUMI_ORG,
    APP_ID and APP_PRIVATE_KEY are reported missing. The deprecated PULUMI_ACCESS_TOKEN and WORKFLOW_DISPATCH_TOKEN are
    accepted with a warning and ignored."""
    environment: pulumi.Input[str]
    """Write the entries as secrets/variables of this deployment environment of the repository instead of repository-wide
    (a job reads them only with ``environment: <name>``). GitHub compares environment names case-insensitively; at most
    255 characters, no control characters. SecretChain passes production or preview (:data:`secret_chain.parts.GITHUB_ENVIRONMENTS`)."""
    create_environment: bool
    """Also create that environment (pulumi-github RepositoryEnvironment), owned by this component: ``pulumi destroy``
    deletes it. Its protection rules stay the repository admins' (changes to them are ignored). Default: false (the
    environment must exist already: an environment secret is encrypted with the environment's own public key)."""
    organization_repositories: Sequence[pulumi.Input[str]]
    """Write the entries as organisation secrets/variables of the repository's owner, visible only to these repositories (names).
    The list is plain; each name may be another resource's output."""
    pulumi_organization: pulumi.Input[str]
    """Pulumi Cloud organisation CI logs in to by OIDC (variable PULUMI_ORG). Default: config ci:pulumiOrganization."""
    pulumi_token_type: pulumi.Input[str]
    """organization or team: the Pulumi token CI requests by OIDC (variable PULUMI_TOKEN_TYPE). Default: config ci:pulumiTokenType."""
    pulumi_team: pulumi.Input[str]
    """The Pulumi team of a team token (variable PULUMI_TEAM). Default: config ci:pulumiTeam."""
    pulumi_auth: pulumi.Input[str]
    """Opt-in fallback switch: stored-token-fallback (variable PULUMI_AUTH). Default: config ci:pulumiAuth."""
    pulumi_fallback_access_token: pulumi.Input[str]
    """Opt-in fallback only, with pulumi_auth: a stored Pulumi token (secret PULUMI_FALLBACK_ACCESS_TOKEN).
    Default: config ci:pulumiFallbackAccessToken."""
    pulumi_access_token: pulumi.Input[str]
    """Deprecated with config ci:pulumiAccessToken (removed in 0.3.0): accepted with a warning, never written; CI logs in by OIDC."""
    workflow_dispatch_token: pulumi.Input[str]
    """Deprecated with config ci:workflowDispatchToken (removed in 0.3.0): accepted with a warning, never written; CI writes
    to GitHub with the App's tokens."""
    app_id: pulumi.Input[str]
    """GitHub App ID (a variable). Default: config ci:githubAppId."""
    app_private_key: pulumi.Input[str]
    """GitHub App private key (PEM). Default: config ci:githubAppPrivateKey."""


def _entry_names(value: list[str]) -> list[str]:
    names = each(v.nonempty)(value)
    for index, name in enumerate(names):
        if name not in BY_GITHUB_NAME:
            raise Invalid(f"item {index} is not one of {', '.join(e.github_name for e in ENTRIES if not e.deprecated)}")
    return names


def _repo_name(value: str) -> str:
    return v.github_repository_name(value)


def _repository(value: str) -> str:
    return v.github_repository(value) if "/" in value else _repo_name(value)


@dataclass(frozen=True)
class GitHubSpec:
    """Validated inputs of a GitHubActionsSecrets."""

    repository: Known[str] = field(metadata=arg(string(_repository), required=True))
    """The repository's name, without the owner."""
    required: tuple[str, ...] = field(metadata=arg(_entry_names, plain=True))
    environment: Known[str] | None = field(metadata=arg(string(v.github_environment_name)))
    create_environment: bool = field(metadata=arg(v.boolean, default=False, plain=True))
    organization_repositories: tuple[Known[str], ...] = field(metadata=arg(_repo_name, each=True))
    owner: Known[str | None]
    values: tuple[tuple[Entry, pulumi.Output[str] | str], ...]


def deprecation_warning(entry: Entry, named: str) -> str:
    """The warning for a deprecated entry found under ``named`` (its config key, argument or required name)."""
    return problem_line(
        f'GitHubActionsSecrets: "{named}" is deprecated since {catalog.DEPRECATED_SINCE} and removed in {catalog.REMOVED_IN}; '
        f"{entry.github_name} is no longer written (pulumi up deletes it). Replaced by: {entry.key.deprecated}",
        remove_command(entry.key, DOC_ENVIRONMENT, stack=False),
    )


def _login_settings(reader: ConfigReader, values: dict[str, pulumi.Output[str] | str]) -> None:
    """The Pulumi login settings that only make sense together (checked when known now).

    The cross-key rules are the table's (:func:`secret_chain.parts.rules_of`: a team token and its team), the objects ``preflight``
    evaluates too; an argument given as another resource's output is not known yet, and its rule waits.
    """
    resolved = {BY_GITHUB_NAME[name].key.key: value for name, value in values.items()}
    for rule in rules_of("GitHubActionsSecrets"):
        reader.rule(rule, reader.facts(resolved), {e.key: e.arg for e in ENTRIES})
    # The fallback is opt-in twice over: the switch and the token, or neither.
    switch, token = catalog.CI_PULUMI_AUTH, catalog.CI_PULUMI_FALLBACK_ACCESS_TOKEN
    for have, lacks in (("PULUMI_AUTH", token), ("PULUMI_FALLBACK_ACCESS_TOKEN", switch)):
        other = BY_GITHUB_NAME[have].config_key
        if have in values and not any(e.key is lacks and e.github_name in values for e in ENTRIES):
            reader.fail(
                f'config "{lacks}" is missing: the stored-token fallback needs {switch} {catalog.STORED_TOKEN_FALLBACK} '
                f"and {token} together (found only {other})",
                f"set both, or remove {other} to log in by OIDC",
            )


def provider_owner(config_owner: str | None) -> str | None:
    """The owner pulumi-github writes to: config ``github:owner``, else the ``GITHUB_OWNER`` environment variable.

    terraform-provider-github ``github/provider.go``: ``owner`` has ``DefaultFunc: schema.EnvDefaultFunc("GITHUB_OWNER",
    nil)``; with neither set, the provider auto-detects the owner of its token, i.e. the token's own account.
    """
    return config_owner or os.environ.get("GITHUB_OWNER") or None


def owner_problem(owner: str, configured_owner: str | None, *, secret: bool = False, what: str = "the repository") -> str | None:
    """Why the provider would not write to ``owner``'s repository, or None: the one rule the component and preflight apply.

    ``configured_owner`` is what :func:`provider_owner` found. Unset, the provider writes to its token's own
    account, not to ``owner``; set to another account, it writes there. GitHub logins compare case-insensitively.
    """
    named = "an owner (not shown: the value is secret)" if secret else f"owner {owner}"
    fix = config_set(GITHUB_OWNER, "<its owner>" if secret else owner)
    if not configured_owner:
        return problem_line(
            f"{what} names {named} but the GitHub provider has no owner (config {GITHUB_OWNER} and GITHUB_OWNER are unset), "
            "so it would write to its token's own account",
            fix,
        )
    if configured_owner.lower() != owner.lower():
        wrong = f'{what} names {named} but config "{GITHUB_OWNER}" is {v.printable(configured_owner)}: the provider would write to the wrong account'
        return problem_line(wrong, fix)
    return None


def _owner_and_name(
    repository: str, configured_owner: str | None, organisation: bool, secret: bool = False, label: str = 'argument "repository"'
) -> tuple[str | None, str, str | None]:
    """(owner, name, problem) of a checked repository: the owner it names or, for organisation secrets, github:owner.

    ``secret``: the repository came as a secret output, so a problem does not quote its owner. ``label``: how the
    problem names the repository (:meth:`~secret_chain.config.ConfigReader.label`: what the caller passed it as).
    """
    if "/" in repository:
        owner, name = repository.split("/", 1)
        problem = owner_problem(owner, configured_owner, secret=secret, what=label)
        return owner, name, problem
    if organisation and not configured_owner:
        return (
            None,
            repository,
            (
                'argument "organization_repositories" needs the organisation: pass repository as owner/name, '
                f"or set it with: {config_set(GITHUB_OWNER, '<org>')}"
            ),
        )
    return (configured_owner if organisation else None), repository, None


def resolve(args: GitHubActionsSecretsArgs, reader: ConfigReader) -> GitHubSpec | None:
    """Validate ``args`` and config into a spec; problems go to ``reader`` (None if any)."""
    given: Mapping[str, Any] = {**args, "required": args.get("required") or None}  # [] is the default: nothing required
    return resolve_spec(GitHubSpec, given, reader, then=lambda got: _derived(args, got, reader))


def _derived(args: GitHubActionsSecretsArgs, got: dict[str, Any], reader: ConfigReader) -> dict[str, Any]:
    """The owner and name of the repository, and the values of the entries, checked together."""
    repository, required, environment, org_repos = got["repository"], got["required"] or (), got["environment"], got["organization_repositories"]
    for required_name in required:
        if BY_GITHUB_NAME[required_name].deprecated:
            pulumi.log.warn(deprecation_warning(BY_GITHUB_NAME[required_name], required_name))
    if environment is not None and org_repos is not None:
        reader.fail(
            'arguments "environment" and "organization_repositories" exclude each other: environment secrets belong to '
            "one repository, organisation secrets to many",
            "drop one of them from the args",
        )
    if got["create_environment"] and environment is None:
        reader.fail('argument "create_environment" needs "environment": the environment to create', 'pass "environment" too, or drop it')
    configured_owner = provider_owner(raw(GITHUB_OWNER))
    organisation = org_repos is not None
    owner: Known[str | None] = None
    name: Known[str] | None = None
    if isinstance(repository, str):
        owner, name, problem = _owner_and_name(repository, configured_owner, organisation, label=reader.label("repository"))
        if problem is not None:
            reader.fail(problem)
    elif repository is not None:
        label = reader.label("repository")

        # Known only later: the same checks then, raising the line the ConfigError would have held.
        def split(known: str, secret: bool) -> tuple[str | None, str]:
            found_owner, found_name, problem = _owner_and_name(known, configured_owner, organisation, secret, label)
            if problem is not None:
                raise SecretChainError(f"{reader.owner}: {problem}")
            return found_owner, found_name

        parts = apply_knowing_secrecy(repository, split)
        owner, name = parts.apply(lambda p: p[0]), parts.apply(lambda p: p[1])
    values: list[tuple[Entry, pulumi.Output[str] | str]] = []
    before = len(reader.problems)
    for entry in ENTRIES:
        override: Any = cast(Mapping[str, Any], args).get(entry.arg)
        if entry.deprecated:
            # Readable for one release: found in args or config, it warns; its value is never read.
            if override is not None:
                pulumi.log.warn(deprecation_warning(entry, entry.arg))
            elif (found := reader.found(entry.key)) is not None:
                pulumi.log.warn(deprecation_warning(entry, found))
            continue
        must = entry.github_name in required
        value: pulumi.Output[str] | str | None
        if entry.secret:
            value = reader.secret(entry.key, override, required=must, arg_name=entry.arg)
        else:
            value = reader.plain_input(entry.key, override, required=must, arg_name=entry.arg)
        if value is not None:
            values.append((entry, value))
    if not values and len(reader.problems) == before:
        # Nothing set, nothing passed: registering no secret would make the next pulumi up delete every one this
        # component wrote (a detached ESC environment, a renamed key). Stop as every component does on missing config.
        for github_name in CORE:
            reader.missing(
                BY_GITHUB_NAME[github_name].key,
                f"GitHubActionsSecrets has nothing to write (no ci:* key is set and no value is passed), and writing nothing "
                f"would delete the Actions secrets it wrote; {github_name} is one every CI workflow reads",
            )
    _login_settings(reader, {entry.github_name: value for entry, value in values})
    org_repos = tuple(org_repos or ())
    return {"repository": name, "required": tuple(required), "organization_repositories": org_repos, "owner": owner, "values": tuple(values)}


class GitHubActionsSecrets(ChainComponent[GitHubSpec]):
    """Actions secrets and variables of a repository (or its environment, or its organisation).

    Creates the variables ``PULUMI_ORG``, ``PULUMI_TOKEN_TYPE``, ``PULUMI_TEAM`` (Pulumi Cloud by OIDC) and
    ``APP_ID`` and the secret ``APP_PRIVATE_KEY`` (the CI GitHub App), and, only on opt-in, the variable
    ``PULUMI_AUTH`` with the secret ``PULUMI_FALLBACK_ACCESS_TOKEN`` (a Pulumi Cloud without OIDC), each
    only when its ``ci:*`` config is present (or it is listed in ``required``, which makes a missing
    value an error). With nothing to write at all, it stops with a missing-config error naming the keys of
    ``PULUMI_ORG``, ``APP_ID`` and ``APP_PRIVATE_KEY`` (writing nothing would delete what it wrote before). The
    deprecated ``PULUMI_ACCESS_TOKEN`` and ``WORKFLOW_DISPATCH_TOKEN`` are no longer written: their keys warn.
    """

    secret_names: pulumi.Output[list[str]]
    """Names of the Actions secrets written."""
    variable_names: pulumi.Output[list[str]]
    """Names of the Actions variables written."""

    def __init__(self, name: str, args: GitHubActionsSecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        self._build(name, validated("GitHubActionsSecrets", resolve, args, opts, kubernetes_secrets=False), opts)


    def _build(self, name: str, spec: GitHubSpec, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__("secret-chain:index:GitHubActionsSecrets", name, None, gated(spec, opts))
        self.inherit_depends_on(opts)
        import pulumi_github as github

        child = self.child_opts()
        scoped = child
        if spec.create_environment and spec.environment is not None:
            # Created with a PUT (create or update: terraform-provider-github github/resource_github_repository_environment.go,
            # CreateUpdateEnvironment), so an environment a job already made by naming it is adopted, not refused. The
            # environment's secrets and variables wait for it: the secret is encrypted with the environment's public key
            # (resource_github_actions_environment_secret.go: getEnvironmentPublicKeyDetails), which a missing one lacks.
            environment_opts = self.child_opts()
            # Created fail-closed: only protected branches may run a job in it (GitHub REST "Create or update an
            # environment": deployment_branch_policy.protected_branches, "Whether only branches with branch protection
            # rules can deploy to this environment"), so a workflow on a pushed branch never gets its secrets, even
            # before anyone visits the settings. A pull_request_target run's ref is the default branch, which must be
            # protected (docs/workflows.md). People then own the protection rules (reviewers, wait timer, a narrower
            # branch policy): later changes are theirs.
            environment_opts.ignore_changes = list(PROTECTION_RULES)
            created = github.RepositoryEnvironment(
                f"{name}-environment",
                repository=spec.repository,
                environment=spec.environment,
                deployment_branch_policy={"protected_branches": True, "custom_branch_policies": False},
                opts=environment_opts,
            )
            scoped = self.child_opts(depends_on=[created])
        repo_ids: pulumi.Output[list[int]] | None = None
        if spec.organization_repositories:
            full_names = [lift("{}/{}".format, spec.owner, repo) for repo in spec.organization_repositories]
            found = [
                github.get_repository_output(full_name=full_name, opts=pulumi.InvokeOutputOptions(parent=self)).repo_id for full_name in full_names
            ]
            # The full names ride along so the result keeps their resources: an invoke whose inputs are
            # unknown (preview) returns an unknown result without the inputs' dependencies
            # (pulumi/runtime/invoke.py `_invoke`: struct_contains_unknowns -> InvokeResult(None, is_known=False)),
            # and the repositories resource would then depend on them in update only.
            count = len(full_names)
            repo_ids = pulumi.Output.all(*full_names, *found).apply(lambda known: sorted(int(i) for i in known[count:]))
        written: dict[bool, list[pulumi.Resource]] = {True: [], False: []}
        for entry, value in spec.values:
            # pulumi-github has one class per (secret or variable) x (repository, environment, organisation),
            # alike but for the word Secret/Variable in the class name and in the name argument.
            kind = "Secret" if entry.secret else "Variable"
            named = {f"{kind.lower()}_name": entry.github_name}
            resource = f"{name}-{entry.github_name.lower().replace('_', '-')}"
            made: list[pulumi.Resource]
            if repo_ids is not None:
                made = [
                    getattr(github, f"ActionsOrganization{kind}")(resource, visibility="selected", value=value, opts=child, **named),
                    getattr(github, f"ActionsOrganization{kind}Repositories")(
                        f"{resource}-repositories", selected_repository_ids=repo_ids, opts=child, **named
                    ),
                ]
            elif spec.environment is not None:
                made = [
                    getattr(github, f"ActionsEnvironment{kind}")(
                        resource, repository=spec.repository, environment=spec.environment, value=value, opts=scoped, **named
                    )
                ]
            else:
                made = [getattr(github, f"Actions{kind}")(resource, repository=spec.repository, value=value, opts=child, **named)]
            written[entry.secret].extend(made)
        secrets = [entry.github_name for entry, _ in spec.values if entry.secret]
        variables = [entry.github_name for entry, _ in spec.values if not entry.secret]
        # Each list waits for the secrets (variables) it names; an empty one for everything written (never nothing:
        # resolve refuses a component with nothing to write). secret_chain._component.derived.
        everything = [*written[True], *written[False]]
        self.secret_names = derived(secrets, *(written[True] or everything))
        self.variable_names = derived(variables, *(written[False] or everything))
        self.register_outputs({"secret_names": self.secret_names, "variable_names": self.variable_names})
