"""The DigitalOcean link: the DNS token cert-manager solves DNS-01 challenges with is accepted and can read the zone.

``GET /v2/domains/{domain_name}`` with ``Authorization: Bearer <token>`` (DigitalOcean API reference, "Domains" →
"Retrieve an Existing Domain", https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domains/operation/domains_get:
200 with ``{"domain": {"name", "ttl", "zone_file"}}``, 401 ``unauthorized`` for a token it does not accept, 403 for a
token without the ``domain:read`` scope, 404 ``not_found`` for a zone the account does not hold). The API base is
``DIGITALOCEAN_API_URL`` when set, as the DigitalOcean Terraform provider (under pulumi-digitalocean) reads it
(terraform-provider-digitalocean ``digitalocean/provider.go``: ``api_endpoint``, ``DefaultFunc:
schema.EnvDefaultFunc("DIGITALOCEAN_API_URL", "https://api.digitalocean.com")``).
"""

from __future__ import annotations

import urllib.parse

from secret_chain import catalog
from secret_chain.doctor import common, http, links
from secret_chain.doctor.http import HttpProblem, RateLimited
from secret_chain.doctor.model import Check, Context, Finding, Status

API_URL = "https://api.digitalocean.com"
DOC_DOMAIN = links.DO_DOMAIN
DOC_RATE_LIMIT = "https://docs.digitalocean.com/reference/api/digitalocean/#section/Introduction/Rate-Limit"
SYMPTOM = links.symptom("digitalocean.dns-token")


def api_url(context: Context) -> str:
    """The DigitalOcean API base: ``DIGITALOCEAN_API_URL``, else the public API."""
    return (context.environ.get("DIGITALOCEAN_API_URL") or API_URL).rstrip("/")


def check_dns_token(context: Context) -> list[Finding]:
    """``gateway:digitaloceanDnsToken`` is accepted and can read the zone ``secret-chain:domain``."""
    if "CertManagerDnsIssuer" not in common.built(context):
        return []
    token = common.value(context, catalog.DIGITALOCEAN_DNS_TOKEN)
    zone = common.value(context, catalog.DOMAIN)
    if token is None or zone is None:
        return []
    zone = zone.strip().rstrip(".").lower()
    link = "digitalocean.dns-token"
    path = f"/v2/domains/{urllib.parse.quote(zone, safe='')}"
    what = f"{catalog.DIGITALOCEAN_DNS_TOKEN} reads DNS zone {zone} (GET {path})"
    fix = common.fix_for(context, catalog.DIGITALOCEAN_DNS_TOKEN, common.up(context))
    try:
        answer = http.client(api_url(context), context.timeout).get(path, auth=f"Bearer {token}")
    except HttpProblem as err:
        if isinstance(err, RateLimited):
            reason = f"{err.reason}; the limit lifts at {http.lifts_at(err.until)}"
        else:
            reason = f"DigitalOcean's API did not answer: {err.reason}"
        return [
            common.not_checked(
                link, what, reason, key=catalog.DIGITALOCEAN_DNS_TOKEN, source=DOC_RATE_LIMIT if isinstance(err, RateLimited) else DOC_DOMAIN
            )
        ]
    key = catalog.DIGITALOCEAN_DNS_TOKEN.key

    def fail(checked: str, how: str) -> list[Finding]:
        return [Finding(link=link, status=Status.FAIL, checked=f"{what}: {checked}", symptom=SYMPTOM, key=key, fix=how, source=DOC_DOMAIN)]

    if answer.status == 200:
        body = answer.body.get("domain") if isinstance(answer.body, dict) else None
        ttl = str(body.get("ttl", "")) if isinstance(body, dict) else ""
        facts = {"zone": zone, "ttl": ttl}
        return [Finding(link=link, status=Status.OK, checked=f"{what}: accepted; the zone is there", key=key, source=DOC_DOMAIN, facts=facts)]
    if answer.status == 401:
        return fail("DigitalOcean refuses the token (401): it expired or was revoked", f"create a token with the domain scopes; set it with: {fix}")
    if answer.status == 403:
        return fail("the token lacks the domain scopes (403)", f"create a token with domain:read and domain:update; set it with: {fix}")
    if answer.status == 404:
        return fail(
            f"the token's account has no zone {zone} (404)",
            f"add the domain in DigitalOcean (Networking → Domains), or set a token of the account that holds it: {fix}",
        )
    return fail(f"DigitalOcean answers HTTP {answer.status}", fix)


DIGITALOCEAN_CHECKS: tuple[Check, ...] = (check_dns_token,)
"""The DigitalOcean checks."""
