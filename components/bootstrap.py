"""EscBootstrap: the ESC tier as code (the ``bootstrap`` stack) — environments, CI's OIDC trust, nothing secret.

One ``pulumi up`` of the ``bootstrap`` stack creates, in the stack's own Pulumi organisation, with the Pulumi Cloud
provider (pulumi-pulumiservice):

* the environments of :mod:`components.esc` (Base, Preview, Production, PullRequest) from their generated definitions,
  every secret a ``fn::secret`` placeholder and every non-secret value the bootstrap knows filled in (the
  organisation and the token type CI logs in with);
* the OIDC issuer ``https://token.actions.githubusercontent.com`` and its authorisation policy: GitHub's ID token
  of this repository's jobs in the GitHub environments ``preview`` and ``production`` (:data:`CI_ENVIRONMENTS`, where the
  chain writes CI's settings), exchanged for a Pulumi token of the type CI requests.

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
(the token type, the team) are written once too: change them later in Base with ``pulumi env set`` as well.

The stacks' ESC bindings stay in their stack files (``environment:``): the provider's only stack-config resource,
``pulumiservice:api/stacks:Config``, moves a stack's whole configuration into the service, which would replace the
committed stack files that declare each stack's parts.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import pulumi

from components import catalog, esc, parts
from components._resolve import arg, resolve_spec
from components.config import ESC_PROJECT, ConfigReader, gated, validated
from components.parts import rules_of

if TYPE_CHECKING:
    import pulumi_pulumiservice as service

ORGANIZATION_KEY = catalog.CI_PULUMI_ORGANIZATION
TOKEN_TYPE_KEY = catalog.CI_PULUMI_TOKEN_TYPE
TEAM_KEY = catalog.CI_PULUMI_TEAM
REPOSITORY_KEY = catalog.GITHUB_REPOSITORY

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
"""GitHub Actions' OIDC issuer (Pulumi docs, "Configuring OpenID Connect for GitHub": register the issuer URL)."""
CI_ENVIRONMENTS = tuple(sorted(set(parts.GITHUB_ENVIRONMENTS.values())))
"""The GitHub environments CI's Pulumi jobs run in, each holding the Actions values of the stack that owns it
(preview-base writes ``preview``, production ``production``): PR deploys and cleanups and preview-base's checks run in
``preview``, production's checks in ``production`` (.github/workflows; tests/test_workflows.py holds the jobs to it)."""
TOKEN_LIFETIME_SECONDS = 3600
"""The longest Pulumi token the exchange may mint: CI jobs ask for 30 minutes (auth-actions ``token-expiration``)."""


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


@dataclass(frozen=True)
class BootstrapSpec:
    """Validated inputs of an EscBootstrap (each read from its argument, else the bootstrap stack's config)."""

    organization: str = field(metadata=arg(key=ORGANIZATION_KEY, required=False, plain=True))
    repository: str = field(metadata=arg(key=REPOSITORY_KEY, name="github_repository", plain=True))
    token_type: str = field(metadata=arg(key=TOKEN_TYPE_KEY, required=False, plain=True))
    team: str | None = field(metadata=arg(key=TEAM_KEY, required=False, plain=True))

    def known(self) -> dict[str, str]:
        """The non-secret Base values the bootstrap fills in: CI logs in with exactly what the policy allows."""
        values = {ORGANIZATION_KEY.key: self.organization, TOKEN_TYPE_KEY.key: self.token_type}
        if self.team is not None:
            values[TEAM_KEY.key] = self.team
        return values

    def subjects(self) -> tuple[str, ...]:
        """The GitHub ``sub`` claims allowed: this repository's jobs in the environments of :data:`CI_ENVIRONMENTS`.

        A job that references an environment gets ``repo:<owner>/<repo>:environment:<name>``, whatever its event; the
        ``pull_request`` and ``ref:refs/heads/<branch>`` subjects are given "only if the job doesn't reference an
        environment" (GitHub docs, "OpenID Connect reference", example subject claims: "Filtering for a specific
        environment"). Every job that logs in to Pulumi references one (the environment that holds its stack's Actions
        values), so these are the only subjects CI presents; a job in no environment, or in another one, is refused at
        the exchange. Which branches may run a job in an environment is the environment's deployment branch policy.
        """
        return tuple(f"repo:{self.repository}:environment:{name}" for name in CI_ENVIRONMENTS)

    def policies(self) -> list["service.AuthPolicyDefinitionArgs"]:
        """The issuer's authorisation policies: one allow rule per subject, audience this organisation.

        An organisation token's rule names its permissions (pulumi-pulumiservice ``AuthPolicyTokenType``: organization
        "Requires authorizedPermissions or roleID"; the REST API's auth policies: "only admin is supported for
        organization tokens"); a team token's, the team (Pulumi docs, "Token types by edition": team tokens need
        Enterprise or Business Critical).
        """
        import pulumi_pulumiservice as service

        team = self.token_type == "team"
        return [
            service.AuthPolicyDefinitionArgs(
                decision=service.AuthPolicyDecision.ALLOW,
                rules={"aud": f"urn:pulumi:org:{self.organization}", "sub": subject},
                token_type=service.AuthPolicyTokenType.TEAM if team else service.AuthPolicyTokenType.ORGANIZATION,
                team_name=self.team if team else None,
                authorized_permissions=None if team else [service.AuthPolicyPermissionLevel.ADMIN],
            )
            for subject in self.subjects()
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
        configured = {TOKEN_TYPE_KEY.key: got["token_type"], TEAM_KEY.key: got["team"]}
        for rule in rules_of("EscBootstrap"):
            reader.rule(rule, reader.facts(configured), {TOKEN_TYPE_KEY: "token_type", TEAM_KEY: "team"})
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

        if spec.token_type == "organization":
            pulumi.log.warn(
                "EscBootstrap: CI logs in with an organization token, which can open every environment of the organisation; a "
                f"pull request's workflow runs with it too. With Enterprise, prefer {TOKEN_TYPE_KEY} team (docs/least-privilege.md).",
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
                yaml=pulumi.StringAsset(esc.render(env, spec.organization, _known_for(env, spec.known()))),
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
        issuer = service.OidcIssuer(
            f"{name}-github-actions",
            name="github-actions",
            organization=spec.organization,
            url=GITHUB_ISSUER,
            max_expiration_seconds=TOKEN_LIFETIME_SECONDS,
            policies=spec.policies(),
            opts=child,
        )
        self.environments = pulumi.Output.from_input({n: f"{spec.organization}/{ESC_PROJECT}/{n}" for n in created})
        self.issuer = issuer.id
        self.register_outputs({"environments": self.environments, "issuer": self.issuer})


def _known_for(env: esc.Environment, known: Mapping[str, str]) -> Mapping[str, str]:
    """The known values an environment holds: Base's own keys and the opt-in CI keys that go with them."""
    return known if env is esc.BASE else {}
