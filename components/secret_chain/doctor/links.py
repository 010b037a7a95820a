"""The links the doctor checks, each written once: what is checked, the symptom a person sees, the key at fault, the fix.

The checks take their symptom and source from here (:data:`BY_ID`); ``docs/doctor.md``'s table is :func:`render_markdown`
(tests/test_doctor_runner.py keeps the page equal to it), and the site's troubleshooting page is generated from this
table with the runbook (:func:`secret_chain.ops.site.troubleshooting`), so the troubleshooting words and the doctor's
findings cannot drift apart. A link whose failure is one of catalog keys (:attr:`Link.entries`) has no symptom of its
own: it is the runbook's symptom of those keys (:mod:`secret_chain.ops.runbook`), written there once. A link id with
``<…>`` stands for a family (one per App, per Actions name, per key, per Kubernetes object).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from secret_chain import catalog
from secret_chain.catalog import Key
from secret_chain.ops import runbook


@dataclass(frozen=True)
class Link:
    """One link of the running chain as the doctor checks it."""

    id: str
    system: str
    checked: str
    symptom: str
    """What a person sees when the link is broken: the runbook's symptom of :attr:`entries` (:func:`said_by`), or the
    link's own when no catalog key's runbook says it."""
    key: str
    fix: str
    source: str
    entries: tuple[Key, ...] = ()
    """The catalog keys at fault when the link is broken, whose runbook symptoms are this link's symptom."""
    points_at: tuple[Key, ...] = ()
    """Keys a finding of this link names when the failure is about them (a GitRepository refused by GitHub: the Flux
    credentials), with the runbook's symptom of that key; the link's own symptom covers its other failures."""

    def checked_keys(self) -> tuple[Key, ...]:
        """Every catalog key this link checks live: :attr:`entries`, then :attr:`points_at`."""
        return (*self.entries, *(k for k in self.points_at if k not in self.entries))


def said_by(*entries: Key) -> str:
    """The runbook's symptoms of ``entries``, joined: the symptom of a link whose failure is one of those keys."""
    return "; or ".join(dict.fromkeys(runbook.of(e).symptom for e in entries if runbook.of(e).symptom))


GITHUB_USER = "https://docs.github.com/en/rest/users/users#get-the-authenticated-user"
GITHUB_APP = "https://docs.github.com/en/rest/apps/apps#get-the-authenticated-app"
GITHUB_INSTALLATION = "https://docs.github.com/en/rest/apps/apps#get-an-installation-for-the-authenticated-app"
GITHUB_ENV_SECRETS = "https://docs.github.com/en/rest/actions/secrets#list-environment-secrets"
ESC_OPEN = "https://www.pulumi.com/docs/iac/cli/commands/pulumi_env_open/"
DO_DOMAIN = "https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domains/operation/domains_get"

SOURCE_SECRET = "https://kubernetes.io/docs/reference/kubernetes-api/config-and-storage-resources/secret-v1/#get-read-the-specified-secret"
SOURCE_WORKLOADS = (
    "https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/deployment-v1/#list-list-or-watch-objects-of-kind-deployment; "
    "https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#list-list-or-watch-objects-of-kind-pod"
)
SOURCE_GITREPOSITORY = (
    "https://fluxcd.io/flux/components/source/gitrepositories/#conditions (fluxcd/source-controller "
    "internal/controller/gitrepository_controller.go, api/v1/condition_types.go)"
)
SOURCE_IMAGEREPOSITORY = (
    "https://fluxcd.io/flux/components/image/imagerepositories/#conditions (fluxcd/image-reflector-controller "
    "internal/controller/imagerepository_controller.go)"
)
SOURCE_ISSUER = "https://cert-manager.io/docs/reference/api-docs/#cert-manager.io/v1.IssuerStatus (cert-manager pkg/issuer/acme/setup.go)"
SOURCE_CERTIFICATE = (
    "https://cert-manager.io/docs/reference/api-docs/#cert-manager.io/v1.CertificateStatus (cert-manager "
    "pkg/controller/certificates/readiness/readiness_controller.go)"
)
SOURCE_TARGETS = "https://prometheus.io/docs/prometheus/latest/querying/api/#targets"

LINKS: tuple[Link, ...] = (
    Link(
        "github.ghcr-token",
        "github",
        "GitHub accepts the token (GET /user), it is a classic PAT with read:packages (X-OAuth-Scopes), and it has days left "
        "(GitHub-Authentication-Token-Expiration; WARN within --warn-days)",
        said_by(catalog.GHCR_TOKEN),
        catalog.GHCR_TOKEN.key,
        "create a classic token with read:packages, set it with the command doctor prints, then pulumi up",
        GITHUB_USER,
        (catalog.GHCR_TOKEN,),
    ),
    Link(
        "github.flux-token",
        "github",
        f"the same checks for {catalog.FLUX_GITHUB_TOKEN}, with the repo scope for a classic token",
        said_by(catalog.FLUX_GITHUB_TOKEN),
        catalog.FLUX_GITHUB_TOKEN.key,
        "create a token with read and write access to the cluster repository, set it, then pulumi up",
        GITHUB_USER,
        (catalog.FLUX_GITHUB_TOKEN,),
    ),
    Link(
        "github.app/<ci|flux>",
        "github",
        "the App's private key signs an RS256 JWT (iat 60 s back, exp under 10 minutes) that GitHub accepts (GET /app)",
        said_by(catalog.CI_GITHUB_APP_PRIVATE_KEY, catalog.FLUX_GITHUB_APP_PRIVATE_KEY),
        f"{catalog.CI_GITHUB_APP_PRIVATE_KEY}, {catalog.FLUX_GITHUB_APP_PRIVATE_KEY}",
        "generate a private key on the App's settings page, set it, then pulumi up",
        GITHUB_APP,
        (catalog.CI_GITHUB_APP_PRIVATE_KEY, catalog.FLUX_GITHUB_APP_PRIVATE_KEY),
    ),
    Link(
        "github.installation/<ci|flux>",
        "github",
        "the App's installation exists, is not suspended (suspended_at) and has the permissions the chain needs "
        "(CI: contents and pull_requests write; Flux: contents read, write with image automation)",
        said_by(catalog.CI_GITHUB_APP_ID, catalog.FLUX_GITHUB_APP_INSTALLATION_ID),
        f"{catalog.FLUX_GITHUB_APP_INSTALLATION_ID} (Flux); the App's installation on {catalog.GITHUB_REPOSITORY} (CI)",
        "install or unsuspend the App, grant the permissions and accept them on the installation",
        GITHUB_INSTALLATION,
        (catalog.CI_GITHUB_APP_ID, catalog.FLUX_GITHUB_APP_INSTALLATION_ID),
    ),
    Link(
        "github.actions/<environment>",
        "github",
        f"the stack's GitHub environment exists and its Actions secrets and variables can be listed ({catalog.GITHUB_PROVIDER_TOKEN}, else GH_TOKEN)",
        "CI jobs with that environment get empty secrets and variables: the Pulumi login or the App token fails",
        catalog.GITHUB_PROVIDER_TOKEN.key,
        "pulumi up --stack <stack> (it creates the environment); or a token that can read the repository's environments",
        GITHUB_ENV_SECRETS,
        points_at=(catalog.GITHUB_PROVIDER_TOKEN,),
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
        "the stack's ESC environment opens (pulumi env open, else the ESC SDK)",
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
        said_by(catalog.DIGITALOCEAN_DNS_TOKEN),
        catalog.DIGITALOCEAN_DNS_TOKEN.key,
        "create a token with the domain scopes, set it, then pulumi up",
        DO_DOMAIN,
        (catalog.DIGITALOCEAN_DNS_TOKEN,),
    ),
    Link(
        "kubernetes.secret/<namespace>/<name>",
        "kubernetes",
        "the Secret exists with exactly the data keys the stack writes, and its content is the config's (HMAC-SHA256 digests "
        "under a key drawn for the run, never values); a content that differs is a WARN: pulumi up has not run since the last change",
        "the Secret's readers fail as the runbook says for the key it holds (a pull Secret: ImagePullBackOff)",
        "the key the Secret holds",
        "pulumi up --stack <stack> (it writes the Secret again)",
        SOURCE_SECRET,
    ),
    Link(
        "kubernetes.rollout/<namespace>/<Kind>/<name>",
        "kubernetes",
        "each Deployment or StatefulSet reading a start-up Secret carries the rollout annotation of the Secret's current content "
        f"(a keyed hash, {catalog.ROLLOUT_KEY}), and so do its running pods (WARN while a rollout is in progress)",
        "the pods were not restarted after the last rotation: they run with the previous value",
        f"the key the Secret holds; {catalog.ROLLOUT_KEY} when the digest cannot be verified",
        "redeploy the workload with the current `pulumi stack output rolloutAnnotations --stack <stack>` in its pod template",
        SOURCE_WORKLOADS,
        points_at=(catalog.ROLLOUT_KEY,),
    ),
    Link(
        "kubernetes.rollout/<namespace>/<secret>",
        "kubernetes",
        "some Deployment or StatefulSet in the Secret's namespace reads the start-up Secret or carries its rollout annotation",
        "its readers will not restart when the Secret changes, and keep the old value",
        "the key the Secret holds",
        "put `pulumi stack output rolloutAnnotations --stack <stack>` into the pod template of the workload that reads it",
        SOURCE_WORKLOADS,
    ),
    Link(
        "kubernetes.gitrepository/<namespace>/<name>",
        "kubernetes",
        "Flux's Ready condition; a reason or message about authentication (AuthenticationFailed, 'authentication required', "
        "'could not parse private key') points at the Flux credentials, with the runbook's symptom of that key",
        "Flux applies nothing new from the repository",
        f"{catalog.FLUX_GITHUB_TOKEN} or {catalog.FLUX_GITHUB_APP_PRIVATE_KEY}, when the failure is about authentication",
        "flux get sources git <name> -n <namespace>; on an authentication failure renew the Flux credentials with the command "
        "doctor prints, then pulumi up",
        SOURCE_GITREPOSITORY,
        points_at=(catalog.FLUX_GITHUB_TOKEN, catalog.FLUX_GITHUB_APP_PRIVATE_KEY),
    ),
    Link(
        "kubernetes.imagerepository/<namespace>/<name>",
        "kubernetes",
        f"Ready; AuthenticationFailed points at {catalog.GHCR_TOKEN}",
        "image automation sees no new tags (no update pull requests)",
        f"{catalog.GHCR_TOKEN}, when the registry refuses it",
        "flux get image repository <name> -n <namespace>; renew the pull token when the registry refuses it",
        SOURCE_IMAGEREPOSITORY,
        points_at=(catalog.GHCR_TOKEN,),
    ),
    Link(
        "kubernetes.clusterissuer/<name>",
        "kubernetes",
        f"Ready (the ACME account is registered); ErrRegisterACMEAccount points at {catalog.ACME_EMAIL}",
        "no certificate is issued or renewed: Certificates stay not Ready",
        f"{catalog.ACME_EMAIL}, when the CA refuses the account",
        "kubectl describe clusterissuer <name>; check the contact address is one the CA accepts",
        SOURCE_ISSUER,
        points_at=(catalog.ACME_EMAIL,),
    ),
    Link(
        "kubernetes.certificate/<namespace>/<name>",
        "kubernetes",
        "Ready and status.notAfter (the finding's expires); Ready but within --warn-days of notAfter is a WARN (cert-manager "
        "renews with a third of the lifetime left, so renewal is failing); expired is a FAIL",
        said_by(catalog.DIGITALOCEAN_DNS_TOKEN),
        catalog.DIGITALOCEAN_DNS_TOKEN.key,
        "kubectl describe certificate <name> -n <namespace> (its CertificateRequest and Challenge say why); check the DNS token",
        SOURCE_CERTIFICATE,
        (catalog.DIGITALOCEAN_DNS_TOKEN,),
    ),
    Link(
        "kubernetes.servicemonitor/<namespace>/<name>",
        "kubernetes",
        "with --prometheus-url: every target of the scrape pools serviceMonitor/<namespace>/<name>/<i> is up "
        f"(GET /api/v1/targets?state=active); a 401 or 403 points at {catalog.PROMETHEUS_TOKEN}",
        "the app's metrics are not scraped",
        f"{catalog.PROMETHEUS_TOKEN}, when the target answers 401 or 403",
        "check the app's pods are running and serve /metrics on the ServiceMonitor's port; on a 401 pulumi up, then restart the app",
        SOURCE_TARGETS,
        points_at=(catalog.PROMETHEUS_TOKEN,),
    ),
    Link(
        "kubernetes.<kind>",
        "kubernetes",
        "which objects of a kind the stack owns (its program evaluated offline with its config, as secret-chain plan does), "
        "and that the check of them ran to its end (else it names only the exception's type)",
        "doctor cannot tell whether the stack's objects of this kind work",
        "",
        "secret-chain preflight --stack <stack> (the config must evaluate); if it passes, run doctor again and report it "
        "with the --json output",
        "",
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


_FAMILY = {
    "<ci|flux>": "(?:ci|flux)",
    "<environment>": "[^/]+",
    "<NAME>": "[A-Za-z0-9_]+",
    "<key>": ".+",
    "<check>": "[a-z0-9-]+",
    "<namespace>": "[a-z0-9][a-z0-9.-]*",
    "<name>": "[a-z0-9][a-z0-9.-]*",
    "<secret>": "[a-z0-9][a-z0-9.-]*",
    "<Kind>": "(?:Deployment|StatefulSet)",
    "<kind>": "[a-z]+",
}


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


def as_markdown(text: str, *, cell: bool = False) -> str:
    """``text`` as Markdown shows it: ``<``, ``>`` and ``&`` as HTML entities.

    So a placeholder such as ``<namespace>`` is seen, not taken for an HTML tag and hidden; in a table ``cell``, ``|``
    is escaped as well. A code span in it is kept as written (Markdown shows a code span's text literally, entities
    included).

    Python-Markdown passes raw HTML through (https://python-markdown.github.io/#differences, "Raw HTML"): an entity
    is what shows the character.
    """
    parts = re.split(r"(`[^`]*`)", text)  # a code span shows its text as written: left alone
    shown = [p if i % 2 else html.escape(p, quote=False) for i, p in enumerate(parts)]
    return "".join(p if i % 2 or not cell else p.replace("|", "\\|") for i, p in enumerate(shown))


def render_markdown() -> str:
    """The table of links for docs/doctor.md (a link's id as a code span, which shows ``<`` and ``|`` as written)."""
    lines = ["| Link | What doctor checks | What a person sees when it is broken | Key at fault | Fix | API |", "|---|---|---|---|---|---|"]
    for link in LINKS:
        cells = [as_markdown(c, cell=True) for c in (link.checked, link.symptom, link.key or "—", link.fix)]
        api = f"[docs]({link.source})" if link.source else "—"
        lines.append("| " + " | ".join([f"`{link.id}`", *cells, api]) + " |")
    return "\n".join(lines) + "\n"
