"""CertManagerDnsIssuer: a Let's Encrypt ClusterIssuer that answers DNS-01 challenges in DigitalOcean DNS.

Two different DigitalOcean tokens are involved, under two different config keys:

* ``gateway:digitaloceanDnsToken`` is the token *cert-manager* uses at run time to create and delete
  ``_acme-challenge`` TXT records. This component copies it into a Kubernetes Secret.
* ``digitalocean:token`` is the token the *pulumi-digitalocean provider* reads on its own, for the
  domain look-up this component makes at preview time. This component never reads it.
"""

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Required, TypedDict

import pulumi

from secret_chain import catalog, kube
from secret_chain import validators as v
from secret_chain._component import ChainComponent, derived
from secret_chain._resolve import arg, resolve_spec
from secret_chain.config import ConfigReader, Known, apply_knowing_secrecy, gated, lift, problem_line, string, validated
from secret_chain.errors import SecretChainError
from secret_chain.validators import Invalid

TOKEN_KEY = catalog.DIGITALOCEAN_DNS_TOKEN
PROVIDER_TOKEN_KEY = catalog.DIGITALOCEAN_PROVIDER_TOKEN
TOKEN_SECRET_KEY = "access-token"
STAGING_SERVER = "https://acme-staging-v02.api.letsencrypt.org/directory"
PRODUCTION_SERVER = "https://acme-v02.api.letsencrypt.org/directory"
CERT_MANAGER_GROUP = "cert-manager.io"
API_VERSION = "cert-manager.io/v1"


# An enum, not a Literal: the provider host's schema analyzer turns enums into schema enums and rejects Literal.
class Solver(StrEnum):
    """ACME challenge type of the ClusterIssuer's solver."""

    DNS01 = "dns01"
    """DNS-01 through DigitalOcean DNS; the only way to get wildcard certificates."""
    HTTP01 = "http01"
    """HTTP-01 through an Ingress."""


DEFAULT_ISSUER = "letsencrypt-production"
"""Default ClusterIssuer name (Let's Encrypt's production server)."""
DEFAULT_SECRET_NAME = "digitalocean-dns"
"""Default name of the DNS token Secret in cert-manager's cluster-resource namespace."""


class CertManagerDnsIssuerArgs(TypedDict, total=False):
    """Arguments of :class:`CertManagerDnsIssuer`. Values left out are read from ESC-injected config."""

    email: Required[pulumi.Input[str]]
    """ACME account email (required): the account's contact only. Let's Encrypt ended its expiration notice emails
    on 2025-06-04 (letsencrypt.org/2025/01/22/ending-expiration-emails), so nothing warns here before a certificate
    expires: watch cert-manager's ``certmanager_certificate_expiration_timestamp_seconds`` instead."""
    domain: Required[pulumi.Input[str]]
    """The DigitalOcean DNS domain (zone) the solver writes challenge records in, e.g. example.com (required)."""
    staging: bool
    """Use Let's Encrypt staging (untrusted certificates, generous rate limits). Default: false (production)."""
    issuer_name: pulumi.Input[str]
    """Name of the ClusterIssuer. Default: letsencrypt-staging or letsencrypt-production."""
    dns_zones: list[str]
    """DNS zones the solver answers for (``solvers[0].selector.dnsZones``); each must be the domain or
    under it. Default: [domain]."""
    solver: Solver
    """ACME challenge type: dns01 (DigitalOcean DNS, needed for wildcards) or http01 (Ingress). Default: dns01."""
    http01_ingress_class: str
    """IngressClass that serves HTTP-01 challenges (solver http01 only). Default: nginx."""
    cluster_resource_namespace: pulumi.Input[str]
    """cert-manager's cluster-resource namespace, where a ClusterIssuer's Secrets must live
    (the controller flag --cluster-resource-namespace). Default: cert-manager."""
    secret_name: pulumi.Input[str]
    """Name of the Secret holding the DNS token (key access-token). Default: digitalocean-dns."""
    token: pulumi.Input[str]
    """DigitalOcean token with domain:read/create/delete. Default: config gateway:digitaloceanDnsToken."""
    wildcard_hosts: list[str]
    """Wildcard names to get a Certificate each, e.g. ``*.pr.example.com``; each must lie in a DNS zone. Default: none."""
    certificate_namespace: pulumi.Input[str]
    """Namespace of the wildcard Certificates and their TLS Secrets. Default: default."""
    provider_enables_mutable_secrets: bool
    """Set true to state that the explicit Kubernetes provider in opts was created with enable_secret_mutable=True (a
    provider you or another component made). A provider object does not expose its settings, so an explicit provider is
    refused without this statement, unless secret_chain.kube.mutable_secrets_provider made it; with it, the provider is
    taken at your word. Without an explicit provider it changes nothing: the default provider's
    kubernetes:enableSecretMutable decides. Default: false."""


def _solver(value: str) -> Solver:
    try:
        return Solver(value)
    except ValueError:
        raise Invalid("must be dns01 or http01") from None


@dataclass(frozen=True)
class CertManagerSpec:
    """Validated inputs of a CertManagerDnsIssuer."""

    email: Known[str] = field(metadata=arg(string(v.acme_email), required=True))
    provider_enables_mutable_secrets: bool = field(metadata=arg(v.boolean, default=False, plain=True))
    """The caller states that the explicit Kubernetes provider updates Secrets in place (config.require_mutable_secrets)."""
    domain: Known[str] = field(metadata=arg(string(v.hostname), required=True))
    staging: bool = field(metadata=arg(v.boolean, default=False, plain=True))
    issuer_name: Known[str] = field(
        metadata=arg(string(v.dns1123_subdomain), default=lambda got: "letsencrypt-staging" if got["staging"] else DEFAULT_ISSUER)
    )
    dns_zones: Known[tuple[str, ...]] = field(metadata=arg(v.hostname, plain=True, each=True))
    """The zones; an Output when they include a domain given as another resource's output (checked once known)."""
    solver: Solver = field(metadata=arg(string(_solver), default="dns01", plain=True))
    http01_ingress_class: str = field(metadata=arg(string(v.dns1123_subdomain), default="nginx", plain=True))
    cluster_resource_namespace: Known[str] = field(metadata=arg(string(v.namespace), default="cert-manager"))
    secret_name: Known[str] = field(metadata=arg(string(v.dns1123_subdomain), default=DEFAULT_SECRET_NAME))
    wildcard_hosts: tuple[str, ...] = field(metadata=arg(v.wildcard_host, plain=True, each=True))
    certificate_namespace: Known[str] = field(metadata=arg(string(v.namespace), default="default"))
    token: pulumi.Output[str] | None = field(metadata=arg(key=TOKEN_KEY, when=lambda got: got["solver"] == Solver.DNS01))
    """The DNS token; None exactly when the solver is http01 (no token is read then)."""

    @property
    def server(self) -> str:
        """The ACME directory URL."""
        return STAGING_SERVER if self.staging else PRODUCTION_SERVER

    @property
    def account_key_secret_name(self) -> Known[str]:
        """Secret cert-manager creates for the ACME account's private key."""
        return lift("{}-account".format, self.issuer_name)

    @property
    def certificates(self) -> dict[str, tuple[str, str]]:
        """Wildcard host → (Certificate name, TLS Secret name)."""
        return {host: (certificate_name(host), tls_secret_name(host)) for host in self.wildcard_hosts}


def in_zone(name: str, zone: str) -> bool:
    """Tell whether ``name`` is ``zone`` or a subdomain of it."""
    return name == zone or name.endswith("." + zone)


def certificate_name(host: str) -> str:
    """Deterministic, injective Certificate name for a wildcard host: ``*.pr.example.com`` → ``wildcard-pr-example-com``.

    A dot becomes ``-`` and a hyphen becomes ``--``, so ``*.pr-api.example.com`` (``wildcard-pr--api-example-com``)
    and ``*.pr.api.example.com`` (``wildcard-pr-api-example-com``) no longer share a name. The encoding is
    reversible: a label never starts or ends with ``-`` (RFC 1123), so in the result a run of one hyphen is a
    dot and a run of 2k hyphens is k hyphens of the host. A host without a hyphen keeps the name it always had.

    Kept to 59 characters (63 with the ``-tls`` of the Secret name, as cert-manager copies names into label
    values): a longer name is shortened and made unique with a hash of the (public) host name, joined by
    ``---``: a run of three hyphens, which no unshortened name contains.
    """
    return _certificate_name(host, hyphen="--", joiner="---")


def legacy_certificate_name(host: str) -> str:
    """The name :func:`certificate_name` gave before it was injective (dots and hyphens both ``-``), for aliases."""
    return _certificate_name(host, hyphen="-", joiner="-")


def _certificate_name(host: str, *, hyphen: str, joiner: str) -> str:
    base = "wildcard-" + host.removeprefix("*.").replace("-", hyphen).replace(".", "-")
    if len(base) <= 59:  # room for the "-tls" suffix of the Secret name within 63
        return base
    digest = hashlib.sha256(host.encode()).hexdigest()[:8]
    head = 59 - len(joiner) - len(digest)
    return f"{base[:head].rstrip('-')}{joiner}{digest}"


def tls_secret_name(host: str) -> str:
    """Deterministic TLS Secret name for a wildcard host: ``*.pr.example.com`` → ``wildcard-pr-example-com-tls``."""
    return certificate_name(host) + "-tls"


def _zones_problem(zones: list[str], domain: str) -> str | None:
    """The problem of DNS-01 zones that are not the domain or under it, if any."""
    outside = [i for i, zone in enumerate(zones) if not in_zone(zone, domain)]
    if not outside:
        return None
    return problem_line(
        f"dns_zones item(s) {', '.join(map(str, outside))} are not in the DigitalOcean domain given as "
        '"domain": the DNS-01 solver can only write challenge records inside that domain',
        "list only the domain or names under it",
    )


def _hosts_problem(hosts: list[str], zones: list[str], secret: bool = False) -> str | None:
    """The problem of wildcard hosts that lie outside every zone, if any (the zones not quoted when the domain is ``secret``)."""
    outside_hosts = [f"{i} ({host})" for i, host in enumerate(hosts) if not any(in_zone(host[2:], z) for z in zones)]
    if not outside_hosts:
        return None
    return problem_line(
        f"wildcard_hosts item(s) {', '.join(outside_hosts)} lie outside every DNS zone of the issuer"
        f"{'' if secret else ' (' + ', '.join(zones) + ')'}, so their DNS-01 challenges could not be answered",
        "add their zone to dns_zones (under the domain) or use hosts under the domain",
    )


def resolve(args: CertManagerDnsIssuerArgs, reader: ConfigReader) -> CertManagerSpec | None:
    """Validate ``args`` and config into a spec; problems go to ``reader`` (None if any)."""
    return resolve_spec(CertManagerSpec, args, reader, then=lambda got: _zones_and_hosts(got, args.get("dns_zones") is None, reader))


def _zones_and_hosts(got: dict[str, Any], default_zones: bool, reader: ConfigReader) -> dict[str, Any]:
    """The DNS zones (the domain by default) and wildcard hosts, checked against the domain and each other."""
    domain, solver = got["domain"], got["solver"]
    zones: list[str] | None = None if got["dns_zones"] is None else list(got["dns_zones"])
    hosts: list[str] | None = None if got["wildcard_hosts"] is None else list(got["wildcard_hosts"])
    if hosts and solver == "http01":
        reader.fail(
            "wildcard_hosts needs the dns01 solver: ACME (Let's Encrypt) issues wildcard certificates only through DNS-01 challenges",
            'use solver "dns01" (the default) or drop wildcard_hosts',
        )
        hosts = None
    if isinstance(domain, pulumi.Output):
        # The zone checks need the domain: they run once it is known, raising the line the
        # ConfigError would have held; the checked zones go into the ClusterIssuer's inputs.
        owner = reader.owner

        def check(known: str, secret: bool) -> tuple[str, ...]:
            found = [known] if default_zones or zones is None else zones
            problem = _zones_problem(found, known) if solver == "dns01" else None
            problem = problem or (_hosts_problem(hosts, found, secret) if hosts else None)
            if problem is not None:
                raise SecretChainError(f"{owner}: {problem}")
            return tuple(found)

        return {"dns_zones": apply_knowing_secrecy(domain, check), "wildcard_hosts": tuple(hosts or ())}
    if domain is not None and default_zones:
        zones = [domain]
    if domain is not None and zones is not None and solver == "dns01":
        problem = _zones_problem(zones, domain)
        if problem is not None:
            reader.fail(problem)
    if hosts and zones is not None:
        problem = _hosts_problem(hosts, zones)
        if problem is not None:
            reader.fail(problem)
    return {"dns_zones": None if zones is None else tuple(zones), "wildcard_hosts": tuple(hosts or ())}


class CertManagerDnsIssuer(ChainComponent[CertManagerSpec]):
    """A Let's Encrypt ``ClusterIssuer`` whose DNS-01 solver uses DigitalOcean DNS, and optional wildcard Certificates.

    Reads ``gateway:digitaloceanDnsToken`` (unless given as ``token``) and stores it in a Secret
    (key ``access-token``) in cert-manager's cluster-resource namespace, where cert-manager looks up
    every Secret a ClusterIssuer references. The domain is looked up with pulumi-digitalocean's
    ``getDomain`` so a missing domain or a bad provider token (config ``digitalocean:token``, a
    different key from the DNS token) fails at preview time; the ClusterIssuer's ``dnsZones`` are
    taken from that look-up's result, so the issuer is never planned without it.

    Wildcard names are accepted only with the DNS-01 solver and only inside the issuer's DNS zones,
    checked before anything is created. With ``solver="http01"`` no DNS token is read, no Secret or
    look-up is made, and ``secret_name``/``domain_urn`` are null.
    """

    issuer_name: pulumi.Output[str]
    """Name of the ClusterIssuer (use it as ``cert-manager.io/cluster-issuer`` on Ingresses)."""
    secret_name: pulumi.Output[str | None]
    """Name of the DNS-token Secret in the cluster-resource namespace (null with the http01 solver)."""
    certificate_secret_names: pulumi.Output[list[str]]
    """TLS Secret names of the wildcard Certificates, in the order of ``wildcard_hosts``."""
    domain_urn: pulumi.Output[str | None]
    """DigitalOcean URN of the looked-up domain (null with the http01 solver)."""

    def __init__(self, name: str, args: CertManagerDnsIssuerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        self._build(name, validated("CertManagerDnsIssuer", resolve, args, opts), opts)


    def _build(self, name: str, spec: CertManagerSpec, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__("secret-chain:index:CertManagerDnsIssuer", name, None, gated(spec, opts))
        self.inherit_depends_on(opts)
        from pulumi_kubernetes.apiextensions import CustomResource

        solver: dict[str, pulumi.Input[object]]
        depends_on: list[pulumi.Resource] = []
        domain_urn: pulumi.Output[str | None]
        if spec.solver == "dns01":
            import pulumi_digitalocean as digitalocean

            assert spec.token is not None
            token_secret = kube.secret(
                f"{name}-dns-token",
                name=spec.secret_name,
                namespace=spec.cluster_resource_namespace,
                string_data=spec.token.apply(lambda t: {TOKEN_SECRET_KEY: t}),
                config_keys=(TOKEN_KEY,),
                component="acme-dns01",
                parent=self,
            )
            depends_on.append(token_secret)
            found = digitalocean.get_domain_output(name=spec.domain, opts=pulumi.InvokeOutputOptions(parent=self))
            # The zones come through the look-up's result: if it fails, the issuer is not planned.
            zones: pulumi.Input[list[str]] = pulumi.Output.all(found.name, spec.domain, spec.dns_zones).apply(
                lambda known: [known[0] if zone == known[1] else zone for zone in known[2]]
            )
            domain_urn = found.domain_urn.apply(lambda urn: urn)
            solver = {
                "selector": {"dnsZones": zones},
                "dns01": {"digitalocean": {"tokenSecretRef": {"name": spec.secret_name, "key": TOKEN_SECRET_KEY}}},
            }
        else:
            domain_urn = pulumi.Output.from_input(None)
            solver = {
                "selector": {"dnsZones": lift(list, spec.dns_zones)},
                "http01": {"ingress": {"ingressClassName": spec.http01_ingress_class}},
            }
        issuer = CustomResource(
            f"{name}-issuer",
            api_version=API_VERSION,
            kind="ClusterIssuer",
            metadata={"name": spec.issuer_name, "labels": kube.labels("acme-issuer")},
            spec={
                "acme": {
                    "email": spec.email,
                    "server": spec.server,
                    "privateKeySecretRef": {"name": spec.account_key_secret_name},
                    "solvers": [solver],
                }
            },
            opts=self.child_opts(depends_on),
        )
        certificates: list[pulumi.Resource] = []
        legacy = [legacy_certificate_name(host) for host in spec.wildcard_hosts]
        for host, (cert_name, tls_name) in spec.certificates.items():
            # A name that changed when the naming became injective keeps its URN through an alias, unless the old
            # name was shared (then the old state held only one of them, and two aliases to it would be refused).
            old = legacy_certificate_name(host)
            aliases = [pulumi.Alias(name=f"{name}-{old}")] if old != cert_name and legacy.count(old) == 1 else []
            cert_opts = self.child_opts([issuer])
            cert_opts.aliases = aliases
            certificate = CustomResource(
                f"{name}-{cert_name}",
                api_version=API_VERSION,
                kind="Certificate",
                metadata={
                    "name": cert_name,
                    "namespace": spec.certificate_namespace,
                    "labels": kube.labels("wildcard-certificate"),
                },
                spec={
                    "secretName": tls_name,
                    "dnsNames": [host],
                    "issuerRef": {"name": spec.issuer_name, "kind": "ClusterIssuer", "group": CERT_MANAGER_GROUP},
                },
                opts=cert_opts,
            )
            certificates.append(certificate)
        # Each output waits for what it names (secret_chain._component.derived); a null one (http01), and the
        # looked-up domain's URN, for the ClusterIssuer whose solver they describe.
        self.issuer_name = derived(spec.issuer_name, issuer)
        self.secret_name = derived(spec.secret_name, *depends_on) if depends_on else derived(None, issuer)
        self.certificate_secret_names = derived([tls for _, tls in spec.certificates.values()], *(certificates or [issuer]))
        self.domain_urn = derived(domain_urn, issuer)
        self.register_outputs(
            {
                "issuer_name": self.issuer_name,
                "secret_name": self.secret_name,
                "certificate_secret_names": self.certificate_secret_names,
                "domain_urn": self.domain_urn,
            }
        )
