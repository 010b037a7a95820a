"""The links the doctor checks, each written once: what is checked, the symptom a person sees, the key at fault, the fix.

The checks take their symptom and source from here (:data:`BY_ID`), and ``docs/doctor.md``'s table is
:func:`render_markdown` (tests/test_doctor_runner.py keeps the page equal to it), so the troubleshooting words and the
doctor's findings cannot drift apart. A link id with ``<…>`` stands for a family (one per App, per Actions name, per key).
"""

from __future__ import annotations

from dataclasses import dataclass

from secret_chain import catalog


@dataclass(frozen=True)
class Link:
    """One link of the running chain as the doctor checks it."""

    id: str
    system: str
    checked: str
    symptom: str
    key: str
    fix: str
    source: str


GITHUB_USER = "https://docs.github.com/en/rest/users/users#get-the-authenticated-user"
GITHUB_APP = "https://docs.github.com/en/rest/apps/apps#get-the-authenticated-app"
GITHUB_INSTALLATION = "https://docs.github.com/en/rest/apps/apps#get-an-installation-for-the-authenticated-app"
GITHUB_ENV_SECRETS = "https://docs.github.com/en/rest/actions/secrets#list-environment-secrets"
ESC_OPEN = "https://www.pulumi.com/docs/iac/cli/commands/pulumi_env_open/"
DO_DOMAIN = "https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domains/operation/domains_get"

LINKS: tuple[Link, ...] = (
    Link(
        "github.ghcr-token",
        "github",
        "GitHub accepts the token (GET /user), it is a classic PAT with read:packages (X-OAuth-Scopes), and it has days left "
        "(GitHub-Authentication-Token-Expiration; WARN within --warn-days)",
        "pods fail with ImagePullBackOff: ghcr.io answers 401/403 (denied) to the image pull",
        catalog.GHCR_TOKEN.key,
        "create a classic token with read:packages, set it with the command doctor prints, then pulumi up",
        GITHUB_USER,
    ),
    Link(
        "github.flux-token",
        "github",
        f"the same checks for {catalog.FLUX_GITHUB_TOKEN}, with the repo scope for a classic token",
        "the Flux GitRepository is not Ready: git clone fails with 'authentication required' and nothing is reconciled",
        catalog.FLUX_GITHUB_TOKEN.key,
        "create a token with read and write access to the cluster repository, set it, then pulumi up",
        GITHUB_USER,
    ),
    Link(
        "github.app/<ci|flux>",
        "github",
        "the App's private key signs an RS256 JWT (iat 60 s back, exp under 10 minutes) that GitHub accepts (GET /app)",
        "CI jobs fail at actions/create-github-app-token, or Flux cannot get an installation token",
        f"{catalog.CI_GITHUB_APP_PRIVATE_KEY}, {catalog.FLUX_GITHUB_APP_PRIVATE_KEY}",
        "generate a private key on the App's settings page, set it, then pulumi up",
        GITHUB_APP,
    ),
    Link(
        "github.installation/<ci|flux>",
        "github",
        "the App's installation exists, is not suspended (suspended_at) and has the permissions the chain needs "
        "(CI: contents and pull_requests write; Flux: contents read, write with image automation)",
        "CI jobs fail with 'Not Found' minting a token, or the Flux GitRepository is not Ready",
        f"{catalog.FLUX_GITHUB_APP_INSTALLATION_ID} (Flux); the App's installation on {catalog.GITHUB_REPOSITORY} (CI)",
        "install or unsuspend the App, grant the permissions and accept them on the installation",
        GITHUB_INSTALLATION,
    ),
    Link(
        "github.actions/<environment>",
        "github",
        f"the stack's GitHub environment exists and its Actions secrets and variables can be listed ({catalog.GITHUB_PROVIDER_TOKEN}, else GH_TOKEN)",
        "CI jobs with that environment get empty secrets and variables: the Pulumi login or the App token fails",
        catalog.GITHUB_PROVIDER_TOKEN.key,
        "pulumi up --stack <stack> (it creates the environment); or a token that can read the repository's environments",
        GITHUB_ENV_SECRETS,
    ),
    Link(
        "github.actions/<environment>/<NAME>",
        "github",
        "each Actions secret and variable the stack writes exists in its GitHub environment (names and updated_at only)",
        "CI jobs with that environment see an empty value: the Pulumi login or the App token fails",
        "the ci:* key it is written from",
        "pulumi up --stack <stack> (the stack writes them)",
        GITHUB_ENV_SECRETS,
    ),
    Link(
        "esc.environment",
        "esc",
        "the stack's ESC environment opens (pulumi env open)",
        "pulumi up and preview fail before the program runs: the stack's config cannot be resolved",
        catalog.ESC_ENVIRONMENT.key,
        "pulumi login; check the environment's name, your access and its imports",
        ESC_OPEN,
    ),
    Link(
        "esc.key/<key>",
        "esc",
        "no key the stack's parts need is missing from the environment or still the bootstrap's placeholder",
        "pulumi up stops before creating anything, naming this key",
        "the key",
        "set it with the command doctor prints, then pulumi up",
        ESC_OPEN,
    ),
    Link(
        "digitalocean.dns-token",
        "digitalocean",
        "DigitalOcean accepts the DNS token and it can read the zone (GET /v2/domains/{zone})",
        "certificates stop renewing: cert-manager's DNS-01 challenge fails and the Certificate is not Ready once it nears notAfter",
        catalog.DIGITALOCEAN_DNS_TOKEN.key,
        "create a token with the domain scopes, set it, then pulumi up",
        DO_DOMAIN,
    ),
    Link(
        "doctor.<check>",
        "doctor",
        "a check that stopped unexpectedly (reported by its exception's type only: its message may quote a value)",
        "doctor cannot tell whether these links work",
        "",
        "report it with the line; run doctor again",
        "",
    ),
)
BY_ID: dict[str, Link] = {link.id: link for link in LINKS}


_FAMILY = {"<ci|flux>": "(?:ci|flux)", "<environment>": "[^/]+", "<NAME>": "[A-Za-z0-9_]+", "<key>": ".+", "<check>": "[a-z0-9-]+"}


def row_of(link_id: str) -> Link | None:
    """The row of :data:`LINKS` a finding's link id belongs to (a family's ``<…>`` matched), or None."""
    import re

    for link in LINKS:
        pattern = re.escape(link.id)
        for word, regex in _FAMILY.items():
            pattern = pattern.replace(re.escape(word), regex)
        if re.fullmatch(pattern, link_id):
            return link
    return None


def symptom(link_id: str) -> str:
    """The symptom of a link (by its id in :data:`LINKS`)."""
    return BY_ID[link_id].symptom


def render_markdown() -> str:
    """The table of links for docs/doctor.md."""
    lines = ["| Link | What doctor checks | What a person sees when it is broken | Key at fault | Fix | API |", "|---|---|---|---|---|---|"]
    for link in LINKS:
        cells = (f"`{link.id}`", link.checked, link.symptom, link.key or "—", link.fix, f"[docs]({link.source})" if link.source else "—")
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
