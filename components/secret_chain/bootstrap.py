"""EscBootstrap: the ESC tier as code (the ``bootstrap`` stack) — environments, CI's OIDC trust, nothing secret.

One ``pulumi up`` of the ``bootstrap`` stack creates, in the stack's own Pulumi organisation, with the Pulumi Cloud
provider (pulumi-pulumiservice):

* the environments of :mod:`secret_chain.esc` (Base, Preview, Production, PullRequest) from their generated definitions,
  every secret a ``fn::secret`` placeholder and every non-secret value the bootstrap knows filled in (the
  organisation and the token type CI logs in with);
* the OIDC issuer ``https://token.actions.githubusercontent.com`` and its authorisation policy: one rule per GitHub
  environment CI logs in from (:data:`CI_ENVIRONMENTS`), each its own token (:meth:`BootstrapSpec.logins`). The jobs in
  ``preview`` run a pull request's code (preview-deploy.yml, preview-cleanup.yml), so with ``ci:pulumiPreviewTeam``
  (Enterprise, Business Critical) they get a team token of a team the bootstrap creates with ``open`` on PullRequest
  and Base and nothing else; without it (the Team edition has no teams), the organization token, which reaches
  production (docs/least-privilege.md says exactly what). ``production`` gets the token of ``ci:pulumiTokenType``.

People set the secret values afterwards with ``pulumi env set``; the bootstrap must never write over them. The
provider's Update pushes the whole definition (pulumi-pulumiservice provider/pkg/resources/environment.go ``Update``:
``UpdateEnvironmentWithRevision`` with the new YAML) whenever its Diff finds the ``yaml`` input changed (``Diff``:
``olds.Diff(news)``), and a ``pulumi refresh`` reads the live definition into the inputs (``Read``; undecrypted:
``GetEnvironment(…, decrypt=false)`` asks pulumi/esc's client for the definition without ``/decrypt``, so state then
holds ESC ciphertext, never a secret value). So each
environment is registered with ``ignore_changes=["yaml"]``: the engine then keeps the old input (pulumi/pulumi
pkg/resource/deploy/step_generator.go ``processIgnoreChanges``: the ignored path is reset to ``old.Inputs``), the
provider sees no change, and the definition is written once, at creation. A key the catalog gains later reaches an
environment through ``pulumi env set`` (``secret-chain preflight`` prints the command). ``retain_on_delete`` keeps the
environments, which hold people's secrets, when the bootstrap stack is destroyed. Where the engine does send the
program's definition again — a replacement (a changed organisation, project or name is delete-before-replace in
``Diff``, and the retained delete leaves the old one), ``--target-replace`` — ``Create`` meets the existing
environment and fails before pushing any YAML (``Create`` calls ``CreateEnvironmentWithProject`` first and returns its
error) instead of overwriting it. A ``pulumi refresh``
whose read fails forgets the environment (``Read`` returns no ID on any error): bring it back with ``pulumi import``.
The OIDC issuer is not retained: destroying the bootstrap stack ends CI's logins. The values the bootstrap fills in
(the organisation in Base; each CI environment's token type and team in Production and Preview, which GitHubActionsSecrets
writes to the GitHub environment of the same jobs) are written once too: change them later with ``pulumi env set`` as
well, and the issuer's policy with them (a job requests the token its variables name; the policy must allow it).

The stacks' ESC bindings stay in their stack files (``environment:``): the provider's only stack-config resource,
``pulumiservice:api/stacks:Config``, moves a stack's whole configuration into the service, which would replace the
committed stack files that declare each stack's parts.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import pulumi

from secret_chain import catalog, esc, parts
from secret_chain._component import document_init
from secret_chain._resolve import arg, resolve_spec
from secret_chain.config import ESC_PROJECT, ConfigReader, gated, validated
from secret_chain.parts import rules_of

if TYPE_CHECKING:
    import pulumi_pulumiservice as service

ORGANIZATION_KEY = catalog.CI_PULUMI_ORGANIZATION
TOKEN_TYPE_KEY = catalog.CI_PULUMI_TOKEN_TYPE
TEAM_KEY = catalog.CI_PULUMI_TEAM
PREVIEW_TEAM_KEY = catalog.CI_PULUMI_PREVIEW_TEAM
REPOSITORY_KEY = catalog.GITHUB_REPOSITORY

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
"""GitHub Actions' OIDC issuer (Pulumi docs, "Configuring OpenID Connect for GitHub": register the issuer URL)."""
CI_ENVIRONMENTS = tuple(sorted(set(parts.GITHUB_ENVIRONMENTS.values())))
"""The GitHub environments CI's Pulumi jobs run in, each holding the Actions values of the stack that owns it
(preview-base writes ``preview``, production ``production``): PR deploys and cleanups run in ``preview``, production's
checks in ``production`` (.github/workflows; tests/test_workflows.py holds the jobs to it)."""
PULL_REQUEST_ENVIRONMENT = parts.GITHUB_ENVIRONMENTS[parts.Kind.PREVIEW_BASE]
"""The GitHub environment of the jobs that run a pull request's code (preview-deploy.yml, preview-cleanup.yml: they
read preview-base's Actions values there). Its required reviewers are the approval before such code gets any
credential; its subject gets the narrowest token the edition allows."""
PRODUCTION_ENVIRONMENT = parts.GITHUB_ENVIRONMENTS[parts.Kind.PRODUCTION]
"""The GitHub environment of production's jobs (its deployment branches: the default branch only)."""
ESC_OF: dict[str, esc.Environment] = {PULL_REQUEST_ENVIRONMENT: esc.PREVIEW, PRODUCTION_ENVIRONMENT: esc.PRODUCTION}
"""The ESC environment whose ``ci:pulumiTokenType``/``ci:pulumiTeam`` GitHubActionsSecrets writes to each GitHub
environment (as PULUMI_TOKEN_TYPE, PULUMI_TEAM: what its jobs request), so the bootstrap fills them in from its rule."""
PREVIEW_TEAM_OPENS: tuple[esc.Environment, ...] = (
    esc.PULL_REQUEST,
    *(esc.BY_NAME[name] for name in sorted({source for _, source in esc.PULL_REQUEST.references})),
)
"""What the preview team may open: the environment PR stacks attach, and those it reads by implicit import (Base).
Whether opening PullRequest needs a permission on Base for its implicit imports is not documented; Base holds only
values a PR stack reads anyway (:mod:`secret_chain.environments`), so ``open`` on it gives a pull request nothing more."""
TOKEN_LIFETIME_SECONDS = 3600
"""The longest Pulumi token the exchange may mint: CI jobs ask for 30 minutes (auth-actions ``token-expiration``)."""
CLAIM_WILDCARDS = "*?."
"""Characters an authorisation policy's claim values and team scopes treat as wildcards (Pulumi docs, "OIDC Issuers",
configure the authorization policies: ``*`` zero or more characters, ``?`` zero or one, ``.`` exactly one)."""


@dataclass(frozen=True)
class Login:
    """What one GitHub environment's jobs get at the token exchange: one rule of the issuer's policy."""

    environment: str
    """The GitHub environment: the rule's subject is ``repo:<owner>/<repo>:environment:<it>``."""
    token_type: str
    """organization or team."""
    team: str | None
    """The team of a team token (the policy's ``teamName``; the job requests scope ``team:<it>``)."""


class EscBootstrapArgs(TypedDict, total=False):
    """Arguments of :class:`EscBootstrap`. Values left out are read from the bootstrap stack's config."""

    organization: str
    """Pulumi organisation that holds the environments and the issuer. Default: config `ci:pulumiOrganization`, else
    the organisation of the running stack."""
    github_repository: str
    """Repository (owner/name) whose workflows may log in to Pulumi Cloud. Default: config `secret-chain:githubRepository`."""
    token_type: str
    """The Pulumi token CI requests: organization or team. Default: config `ci:pulumiTokenType`, else organization."""
    team: str
    """The Pulumi team of a team token. Default: config `ci:pulumiTeam` (required for team)."""
    preview_team: str
    """The Pulumi team whose token the jobs that run a pull request's code get (GitHub environment preview); the bootstrap
    creates it with open on PullRequest and Base only. Default: config `ci:pulumiPreviewTeam`; required with a team token
    (the edition has teams), else absent means the organization token."""


@dataclass(frozen=True)
class BootstrapSpec:
    """Validated inputs of an EscBootstrap (each read from its argument, else the bootstrap stack's config)."""

    organization: str = field(metadata=arg(key=ORGANIZATION_KEY, required=False, plain=True))
    repository: str = field(metadata=arg(key=REPOSITORY_KEY, name="github_repository", plain=True))
    token_type: str = field(metadata=arg(key=TOKEN_TYPE_KEY, required=False, plain=True))
    team: str | None = field(metadata=arg(key=TEAM_KEY, required=False, plain=True))
    preview_team: str | None = field(default=None, metadata=arg(key=PREVIEW_TEAM_KEY, required=False, plain=True))

    def logins(self) -> tuple[Login, ...]:
        """The token each GitHub environment's jobs get, in :data:`CI_ENVIRONMENTS` order.

        ``production``: ``ci:pulumiTokenType`` (and ``ci:pulumiTeam``). ``preview``, whose jobs run a pull request's code:
        the team token of ``ci:pulumiPreviewTeam`` where it is set (the edition has teams; a team token is only what the
        team is granted: Pulumi docs, "Access tokens", team tokens), else the organization token, the only machine token
        the Team edition offers by OIDC (Pulumi docs, "OIDC Issuers", token types by edition: Team: personal,
        organization). A team token for production without a preview team is refused (:mod:`secret_chain.rules`).
        """
        production = Login(PRODUCTION_ENVIRONMENT, self.token_type, self.team)
        if self.preview_team is not None:
            preview = Login(PULL_REQUEST_ENVIRONMENT, "team", self.preview_team)
        else:
            preview = Login(PULL_REQUEST_ENVIRONMENT, "organization", None)
        by_environment = {login.environment: login for login in (production, preview)}
        return tuple(by_environment[name] for name in CI_ENVIRONMENTS)

    def known(self, env: esc.Environment) -> dict[str, str]:
        """The non-secret values the bootstrap fills in ``env``.

        The organisation in Base; in Production and Preview, the token type and team their CI jobs request
        (GitHubActionsSecrets writes them to the GitHub environment of those jobs), exactly what the policy allows each.
        """
        if env is esc.BASE:
            return {ORGANIZATION_KEY.key: self.organization}
        login = next((x for x in self.logins() if ESC_OF[x.environment] is env), None)
        if login is None:
            return {}
        values = {TOKEN_TYPE_KEY.key: login.token_type}
        if login.team is not None:
            values[TEAM_KEY.key] = login.team
        return values

    def subject(self, environment: str) -> str:
        """The GitHub ``sub`` claim of this repository's jobs in ``environment``.

        A job that references an environment gets ``repo:<owner>/<repo>:environment:<name>``, whatever its event; the
        ``pull_request`` and ``ref:refs/heads/<branch>`` subjects are given "only if the job doesn't reference an
        environment" (GitHub docs, "OpenID Connect reference", example subject claims: "Filtering for a specific
        environment", "Filtering for pull_request events"). Every job that logs in to Pulumi references one (the
        environment that holds its stack's Actions values), so these are the only subjects CI presents; a job in no
        environment, or in another one, is refused at the exchange. Which branches may run a job in an environment is
        the environment's deployment branch policy; whether it waits for approval, its required reviewers.
        """
        return f"repo:{self.repository}:environment:{environment}"

    def subjects(self) -> tuple[str, ...]:
        """The GitHub ``sub`` claims allowed: this repository's jobs in the environments of :data:`CI_ENVIRONMENTS`."""
        return tuple(self.subject(name) for name in CI_ENVIRONMENTS)

    def policies(self) -> list["service.AuthPolicyDefinitionArgs"]:
        """The issuer's authorisation policies: one allow rule per subject, audience this organisation, its own token.

        Each rule names the token type it issues and the team it is scoped to (Pulumi docs, "OIDC Issuers", configure
        the authorization policies; "Configuring OpenID Connect for GitHub", team tokens). An organisation token's rule
        names its permissions (pulumi-pulumiservice ``AuthPolicyTokenType``: organization "Requires
        authorizedPermissions or roleID"; the REST API's auth policies: "only admin is supported for organization
        tokens"); a team token's, the team (team tokens need Enterprise or Business Critical).
        """
        import pulumi_pulumiservice as service

        return [
            service.AuthPolicyDefinitionArgs(
                decision=service.AuthPolicyDecision.ALLOW,
                rules={"aud": f"urn:pulumi:org:{self.organization}", "sub": self.subject(login.environment)},
                token_type=service.AuthPolicyTokenType.TEAM if login.team else service.AuthPolicyTokenType.ORGANIZATION,
                team_name=login.team,
                authorized_permissions=None if login.team else [service.AuthPolicyPermissionLevel.ADMIN],
            )
            for login in self.logins()
        ]


def resolve(args: EscBootstrapArgs, reader: ConfigReader) -> BootstrapSpec | None:
    """Validate ``args`` and config into a spec; problems go to ``reader`` (None if any).

    The defaults apply after the config (the stack's organisation, organization), so they live in the hook.
    """

    def defaults(got: dict[str, Any]) -> dict[str, Any]:
        running = pulumi.get_organization() or None  # the stack's own organisation (none outside Pulumi Cloud)
        if got["organization"] is None and running is None:
            reader.missing(ORGANIZATION_KEY)
        # The cross-key rules of CI's login are the table's (a team token names its team, a team only with one): the
        # objects GitHubActionsSecrets and preflight evaluate too, on the values as configured (before the default).
        configured = {TOKEN_TYPE_KEY.key: got["token_type"], TEAM_KEY.key: got["team"], PREVIEW_TEAM_KEY.key: got["preview_team"]}
        names = {TOKEN_TYPE_KEY: "token_type", TEAM_KEY: "team", PREVIEW_TEAM_KEY: "preview_team"}
        for rule in rules_of("EscBootstrap"):
            reader.rule(rule, reader.facts(configured), names)
        token_type = got["token_type"] or "organization"
        return {
            "organization": got["organization"] or running,
            "token_type": token_type,
            "team": got["team"] if token_type == "team" else None,
        }

    return resolve_spec(BootstrapSpec, args, reader, then=defaults)


class EscBootstrap(pulumi.ComponentResource):
    """The ESC environments of the chain and CI's OIDC trust, created once from the catalog; secrets stay with people."""

    environments: pulumi.Output[dict[str, str]]
    """Each environment's name (Base, Preview, Production, PullRequest) → its full reference, ``<org>/secret-chain/<env>``."""
    issuer: pulumi.Output[str]
    """ID of the OIDC issuer CI's GitHub tokens are exchanged at."""

    def __init__(self, name: str, args: EscBootstrapArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        spec = validated("EscBootstrap", resolve, args, opts, kubernetes_secrets=False, environment="")
        super().__init__("secret-chain:index:EscBootstrap", name, None, gated(spec, opts))
        import pulumi_pulumiservice as service

        for login in spec.logins():
            if login.team is None and login.environment == PULL_REQUEST_ENVIRONMENT:
                pulumi.log.warn(
                    f"EscBootstrap: the jobs in the GitHub environment {login.environment}, which run a pull request's code once "
                    "its required reviewers approve, get an organization token: admin of the whole organisation, so an approved "
                    "pull request can open Production and update the production stack. The Team edition offers nothing "
                    f"narrower; with Enterprise or Business Critical set {PREVIEW_TEAM_KEY} (docs/least-privilege.md, "
                    '"Who can obtain what").',
                    self,
                )
        if "." in spec.repository.split("/", 1)[1]:
            pulumi.log.warn(
                f"EscBootstrap: {REPOSITORY_KEY} {spec.repository} holds '.', which an OIDC policy's claim value matches as "
                "any one character (Pulumi docs, OIDC Issuers: wildcards): a repository of the same owner whose name differs "
                "there could log in too. Keep such names out of the owner's repositories, or rename this one.",
                self,
            )
        child = pulumi.ResourceOptions(parent=self)
        created: dict[str, pulumi.Resource] = {}
        for env in esc.ENVIRONMENTS:
            # The provider's Create checks the definition, imports and implicit imports included, against the service
            # (environment.go Create: CheckYAMLEnvironment), so an environment that reads Base waits for it.
            reads = {*env.imports, *(f"{ESC_PROJECT}/{source}" for _, source in env.references)}
            created[env.name] = service.Environment(
                f"{name}-{env.file.removesuffix('.yaml')}",
                organization=spec.organization,
                project=ESC_PROJECT,
                name=env.name,
                yaml=pulumi.StringAsset(esc.render(env, spec.organization, spec.known(env))),
                # Written once: people own the values after creation (module docstring); kept on destroy.
                opts=pulumi.ResourceOptions.merge(
                    child,
                    pulumi.ResourceOptions(
                        ignore_changes=["yaml"],
                        retain_on_delete=True,
                        depends_on=[created[esc.BY_REF[ref].name] for ref in sorted(reads)],
                    ),
                ),
            )
        teams: list[pulumi.Resource] = []
        if spec.preview_team is not None:
            teams = _preview_team(name, spec.organization, spec.preview_team, created, child)
        issuer = service.OidcIssuer(
            f"{name}-github-actions",
            name="github-actions",
            organization=spec.organization,
            url=GITHUB_ISSUER,
            max_expiration_seconds=TOKEN_LIFETIME_SECONDS,
            policies=spec.policies(),
            # A team token's rule names a team that must exist, with its permissions, before a job can exchange for it.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=teams)),
        )
        self.environments = pulumi.Output.from_input({n: f"{spec.organization}/{ESC_PROJECT}/{n}" for n in created})
        self.issuer = issuer.id
        self.register_outputs({"environments": self.environments, "issuer": self.issuer})


document_init(EscBootstrap)  # help(EscBootstrap) shows its args (ChainComponent subclasses get this from __init_subclass__)


def _preview_team(
    name: str, organization: str, team: str, created: Mapping[str, pulumi.Resource], opts: pulumi.ResourceOptions
) -> list[pulumi.Resource]:
    """The team whose token the jobs that run a pull request's code get, and its only permissions.

    A Pulumi team (pulumi-pulumiservice ``Team``, team type ``pulumi``) with no members: the provider's ``Check`` makes
    absent members an empty list and ``Update`` removes anyone added by hand (provider/pkg/resources/team.go), so its
    only principal is the OIDC-issued token. ``open`` on :data:`PREVIEW_TEAM_OPENS` (``TeamEnvironmentPermission``;
    ESC docs, "Access control", team permissions: Environment opener) and on nothing else. Stacks: a team token that
    creates a stack becomes its owner, with every permission on it, deletion included (Pulumi docs, "Access tokens":
    "The stack creator will automatically become its owner"), so the team needs no grant on any existing stack; it
    needs the right to create stacks (docs/least-privilege.md, "The preview team").
    """
    import pulumi_pulumiservice as service

    created_team = service.Team(
        f"{name}-preview-team",
        organization_name=organization,
        team_type="pulumi",
        name=team,
        display_name=team,
        description=(
            f"secret-chain: the token of the jobs that run a pull request's code (GitHub environment {PULL_REQUEST_ENVIRONMENT}). "
            "Managed by the bootstrap stack; keep it without members and grants beyond its own."
        ),
        opts=opts,
    )
    out: list[pulumi.Resource] = [created_team]
    for env in PREVIEW_TEAM_OPENS:
        out.append(
            service.TeamEnvironmentPermission(
                f"{name}-preview-team-{env.file.removesuffix('.yaml')}",
                organization=organization,
                project=ESC_PROJECT,
                environment=env.name,
                team=team,
                permission=service.EnvironmentPermission.OPEN,
                opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[created_team, created[env.name]])),
            )
        )
    return out
