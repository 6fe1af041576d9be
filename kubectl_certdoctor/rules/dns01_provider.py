"""DNS-01 provider and solver failures: why cert-manager could not create the TXT record.

When a DNS-01 solver fails, cert-manager's Challenge controller
(pkg/controller/acmechallenges/sync.go, v1.0.4 … v1.21.1) leaves ``status.presented``
false, writes the solver's error to ``status.reason`` and records a Warning Event
``PresentError`` "Error presenting challenge: <error>" on the Challenge, then retries with
the workqueue's backoff. Nothing is propagated, so these are not propagation problems.

From v1.20.0 ``stabilizeSolverErrorMessage`` (same file) replaces AWS
(``http.ResponseError``), Azure (``azidentity.AuthenticationFailedError``,
``azcore.ResponseError``) and DigitalOcean (``godo.ErrorResponse``) SDK errors in
``status.reason`` by "<redacted … SDK error: <type>: see events and logs for details>"; the
full text is then only in the PresentError Event, so the rules read both.

The message families are those the solvers wrap (pkg/issuer/acme/dns/dns.go,
route53/route53.go, cloudflare/cloudflare.go, clouddns/clouddns.go, azuredns/azuredns.go,
digitalocean/digitalocean.go, akamai/akamai.go, rfc2136/rfc2136.go, rfc2136/provider.go,
webhook/webhook.go and util/wait.go at v1.0.4 … v1.21.1) and the provider SDK texts they pass
through, matched case-insensitively on stable fragments.

All rules here are WIDE rules: they read the Challenge's Events, the Secrets of the
issuer's resource namespace, APIServices and the controller's flags, none of which makes a
chain dirty in ``graph_patch``; the findings land on the Challenge.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubectl_certdoctor.graph import Graph, Node
from kubectl_certdoctor.objects import Obj, as_dict, condition, dig, name, namespace, text
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.util import field_ev, q
from kubectl_certdoctor.versions import Version, controller_args, controller_version

#: cert-manager's name for each dns01 provider key → how people call it
PROVIDERS: dict[str, str] = {
    "route53": "Route53", "cloudflare": "Cloudflare", "cloudDNS": "Google Cloud DNS",
    "azureDNS": "Azure DNS", "digitalocean": "DigitalOcean", "akamai": "Akamai Edge DNS",
    "rfc2136": "RFC2136", "acmeDNS": "acme-dns", "webhook": "webhook",
}
#: providers that fall back to the controller's ambient credentials when none are given
#: (route53.go / clouddns.go "empty credentials; perhaps you meant to enable ambient
#: credentials?", azuredns.go "ClientID is not set but neither …" / "ClientID was omitted …")
AMBIENT_PROVIDERS = ("route53", "cloudDNS", "azureDNS")
#: the v1.20.0+ redaction marker in Challenge.status.reason
REDACTED = "<redacted "
REDACTION_SINCE = Version(1, 20, 0)
#: Route53 ``auth.kubernetes.serviceAccountRef`` (explicit web-identity credentials)
ROUTE53_KUBERNETES_AUTH_SINCE = Version(1, 15, 0)


@dataclass(frozen=True)
class SecretRef:
    """One Secret the solver reads: the field naming it, the Secret's name and key."""

    field: str
    name: str
    key: str


@dataclass(frozen=True)
class Solver:
    """The DNS-01 solver a Challenge copied from its issuer (``spec.solver.dns01``)."""

    provider: str
    config: dict[str, Any]
    secrets: tuple[SecretRef, ...]
    #: no explicit credentials: cert-manager would use the controller's ambient ones
    ambient: bool
    cname_follow: bool

    @property
    def label(self) -> str:
        return PROVIDERS.get(self.provider, self.provider or "DNS-01")


def solver_of(ch: Obj) -> Solver | None:
    """The Challenge's DNS-01 solver (None when it has none)."""
    dns01 = as_dict(dig(ch, "spec", "solver", "dns01"))
    if not dns01:
        return None
    provider = next((k for k in PROVIDERS if isinstance(dns01.get(k), dict)), "")
    cfg = as_dict(dns01.get(provider)) if provider else {}
    refs: list[SecretRef] = []
    for k, v in cfg.items():
        if not str(k).endswith("SecretRef") or not isinstance(v, dict):
            continue
        if provider == "azureDNS" and not text(cfg.get("clientID")):
            continue  # the client secret is only read with a clientID (dns.go)
        nm = text(v.get("name"))
        if nm:
            refs.append(SecretRef(f"{provider}.{k}", nm, text(v.get("key"))))
    ambient = False
    if provider == "route53":
        ambient = not (text(cfg.get("accessKeyID")) or dig(cfg, "accessKeyIDSecretRef", "name")
                       or dig(cfg, "secretAccessKeySecretRef", "name")
                       or dig(cfg, "auth", "kubernetes", "serviceAccountRef", "name"))
    elif provider == "cloudDNS":
        ambient = not dig(cfg, "serviceAccountSecretRef", "name")
    elif provider == "azureDNS":
        ambient = not text(cfg.get("clientID"))
    return Solver(provider, cfg, tuple(refs), bool(ambient),
                  text(dns01.get("cnameStrategy")) == "Follow")


# -- message families -----------------------------------------------------------------------

@dataclass(frozen=True)
class Family:
    """A family of messages that means one cause."""

    code: str
    pattern: re.Pattern[str]
    #: what the message says, in plain words
    meaning: str
    #: only for these providers (empty: any)
    providers: tuple[str, ...] = ()


def _f(code: str, pattern: str, meaning: str, *providers: str) -> Family:
    return Family(code, re.compile(pattern, re.IGNORECASE), meaning, providers)


SECRET = "DNS01_CREDENTIALS_SECRET_NOT_FOUND"
AMBIENT = "DNS01_AMBIENT_CREDENTIALS_DISABLED"
CREDS = "DNS01_PROVIDER_CREDENTIALS_INVALID"
PERM = "DNS01_PROVIDER_PERMISSION_DENIED"
ZONE = "DNS01_ZONE_NOT_FOUND"
WEBHOOK = "DNS01_WEBHOOK_SOLVER_UNAVAILABLE"

#: ordered: the first family that matches wins. Specific credential errors come before
#: permission errors ("failed to determine Route 53 hosted zone ID: SignatureDoesNotMatch"),
#: permission before the generic "could not get credentials" ones (an STS AccessDenied is
#: wrapped in "failed to retrieve credentials"), and all of them before the zone errors
#: ("… requires permission … to list zones").
FAMILIES: tuple[Family, ...] = (
    # the Secret lister's NotFound (dns.go: "error getting cloudflare secret: secret \"x\" not
    # found"; akamai: "failed to load secret \"ns/x\": …"; rfc2136: the bare lister error)
    _f(SECRET, r'\bsecrets? "[^"]*" not found', "the referenced Secret does not exist"),
    _f(SECRET, r"specified key \S+ not found in secret|no data found in secret|key '[^']*' not "
               r"found in secret|data entry with key \S+ not found in secret|no key \S+ in "
               r"secret", "the Secret exists but lacks the referenced key"),
    _f(AMBIENT, r"perhaps you meant to enable ambient credentials|clientid was omitted without "
                r"providing one of|clientid is not set but neither",
       "no explicit credentials and ambient credentials are not allowed for this issuer"),
    # AWS (aws-sdk-go v1 "Code: message", v2 "api error Code: message")
    _f(CREDS, r"invalidclienttokenid|security token included in the request is invalid",
       "AWS does not know the access key ID (InvalidClientTokenId)"),
    _f(CREDS, r"signaturedoesnotmatch|request signature we calculated does not match",
       "AWS rejected the secret access key (SignatureDoesNotMatch)"),
    _f(CREDS, r"unrecognizedclientexception", "AWS does not know the access key "
       "(UnrecognizedClientException)"),
    _f(CREDS, r"expiredtoken|security token included in the request is expired",
       "the AWS session token has expired (ExpiredToken)"),
    _f(CREDS, r"invalididentitytoken", "AWS STS did not accept the web identity token "
       "(InvalidIdentityToken: OIDC provider or audience)"),
    # Cloudflare (cloudflare.go "Error: <code>: <message>"; 6003/6103/6111, 9103, 9109)
    _f(CREDS, r"invalid request headers|invalid format for (?:authorization|x-auth-key|"
              r"x-auth-email) header|unknown x-auth-key|invalid api token|invalid access token"
              r"|unable to authenticate request|cloudflare api (?:key|token) is invalid"
              r"|cloudflare (?:key|token) invalid",
       "Cloudflare rejected the API key/token (wrong kind, malformed or revoked)"),
    # Azure AD (AADSTS7000215 invalid secret, 7000222 expired, 700016 unknown app, 90002
    # unknown tenant, 70021 no federated credential) and the v1.20+ redaction type name
    _f(CREDS, r"\baadsts\d+|invalid_client|authenticationfailederror|"
              r"clientsecretcredential authentication failed|workloadidentitycredential "
              r"authentication failed", "Azure AD did not accept the client credentials"),
    # Google OAuth
    _f(CREDS, r"invalid_grant|invalid jwt", "Google did not accept the service account key"),
    # DigitalOcean 401
    _f(CREDS, r"unable to authenticate you", "DigitalOcean rejected the API token"),
    # Akamai EdgeGrid 401
    _f(CREDS, r"invalid authorization token|the signature does not match",
       "Akamai rejected the API client credentials"),
    # RFC2136 / TSIG (miekg/dns ErrAuth, ErrSig, ErrKey; server TSIG errors)
    _f(CREDS, r"dns: bad authentication|dns: bad signature|dns: bad key\b|tsig verify failure"
              r"|\bbadsig\b|\bbadkey\b",
       "the DNS server did not accept the TSIG key (name, algorithm or secret differ)"),
    _f(CREDS, r"dns: bad time|\bbadtime\b", "the DNS server rejected the TSIG signature's "
       "time (the clocks of cert-manager and the DNS server differ)"),
    # permission: the credentials are valid but not allowed
    _f(PERM, r"\baccessdenied|is not authorized to perform|not authorized to perform",
       "AWS IAM denied the action (AccessDenied)"),
    _f(PERM, r"requires permission", "the Cloudflare API token lacks a permission"),
    _f(PERM, r"\b10000: authentication error|authentication error", "Cloudflare answered "
       "10000 Authentication error: the token is not allowed on this zone", "cloudflare"),
    _f(PERM, r"authorizationfailed|does not have authorization to perform",
       "Azure RBAC denied the action (AuthorizationFailed)"),
    _f(PERM, r"insufficient authentication scopes|does not have dns\.|error 403|the caller "
             r"does not have permission|permission denied on resource|required '[^']+' "
             r"permission",
       "Google Cloud IAM denied the action (403)"),
    _f(PERM, r"you do not have access for the attempted action",
       "the DigitalOcean token lacks write scope"),
    _f(PERM, r"server replied: (?:refused|notauth)\b",
       "the DNS server refused the update (the TSIG key may not update this zone, or the "
       "server is not authoritative/primary for it)"),
    _f(PERM, r'cannot create resource "serviceaccounts/token"',
       "cert-manager may not request a token for the ServiceAccount (its RBAC)"),
    _f(PERM, r"status ?code:? 403\b|response 403\b|403 forbidden", "the provider answered "
       "403 Forbidden"),
    # generic credential failures (after the permission ones)
    _f(CREDS, r"nocredentialproviders|no valid providers in chain|failed to refresh cached "
              r"credentials|failed to retrieve credentials|no ec2 imds role found",
       "no usable AWS credentials were found"),
    _f(CREDS, r"status ?code:? 401\b|response 401\b|401 unauthorized", "the provider answered "
       "401 Unauthorized"),
    # zone
    _f(ZONE, r"could not find the soa record in the dns tree|could not find the start of "
             r"authority|could not determine the zone for|rcode was expected to be 'noerror' "
             r"or 'nxdomain'", "cert-manager's SOA walk found no zone for the record name"),
    _f(ZONE, r"not found in route 53 for domain|nosuchhostedzone|no hosted zone found",
       "the zone is not a public hosted zone of this AWS account"),
    _f(ZONE, r"not found in cloudflare for domain|found no zones for domain|zone could not be "
             r"found|no zone found", "the zone is not in the Cloudflare account"),
    _f(ZONE, r"not found in azuredns for domain|zone \S+ not found for domain|"
             r"parentresourcenotfound|resourcenotfound", "the zone is not in the Azure DNS "
       "resource group/subscription"),
    _f(ZONE, r"no matching googlecloud domain found", "the zone is not a managed zone of the "
       "Google Cloud project"),
    _f(ZONE, r"edgedns: failed to determine hosted domain|fqdn \S+ is not part of",
       "the zone is not in Akamai Edge DNS"),
    _f(ZONE, r"server replied: notzone\b", "the DNS server does not serve the zone it was sent"),
)
#: the aggregation layer's answers when a webhook solver's API group is not served
#: (webhook.go POSTs to /apis/<groupName>/v1alpha1/<solverName>)
WEBHOOK_UNSERVED = re.compile(
    r"the server could not find the requested resource|the server is currently unable to "
    r"handle the request|no endpoints available for service|error trying to reach service|"
    r"service unavailable|is forbidden: user \S+ cannot create resource", re.IGNORECASE)


def classify(message: str, provider: str = "") -> tuple[Family, str] | None:
    """The first family ``message`` belongs to, with the matched excerpt."""
    for fam in FAMILIES:
        if fam.providers and provider not in fam.providers and \
                not any(p in message.lower() for p in fam.providers):
            continue
        m = fam.pattern.search(message)
        if m:
            return fam, excerpt(message, m.start(), m.end())
    return None


def excerpt(message: str, start: int, end: int, width: int = 90) -> str:
    """The matched words with some context, on one line."""
    a, b = max(0, start - width), min(len(message), end + width)
    out = " ".join(message[a:b].split())
    return ("…" if a else "") + out + ("…" if b < len(message) else "")


# -- reading a Challenge ----------------------------------------------------------------------

@dataclass
class Context:
    """What every diagnosis of one Challenge needs."""

    node: Node
    obj: Obj
    solver: Solver
    reason: str
    issuer_kind: str
    issuer: str
    secret_ns: str
    host: str
    values: dict[str, Any] = field(default_factory=dict)


def _contexts(graph: Graph) -> list[Context]:
    """DNS-01 Challenges still pending whose record was never presented."""
    out: list[Context] = []
    for node in graph.of_kind("Challenge"):
        obj = node.obj if isinstance(node.obj, dict) else {}
        if text(dig(obj, "spec", "type")).upper() not in ("DNS-01", ""):
            continue
        if text(dig(obj, "status", "state")) not in ("pending", ""):
            continue
        if dig(obj, "status", "presented") is True:
            continue
        slv = solver_of(obj)
        if slv is None:
            continue
        kind = text(dig(obj, "spec", "issuerRef", "kind")) or "Issuer"
        ns = graph.cluster_resource_namespace if kind == "ClusterIssuer" else node.ref.namespace
        host = text(dig(obj, "spec", "dnsName"))
        ctx = Context(node, obj, slv, text(dig(obj, "status", "reason")), kind,
                      text(dig(obj, "spec", "issuerRef", "name")), ns, host)
        ctx.values = {
            "name": node.ref.name, "namespace": node.ref.namespace, "host": host,
            "fqdn": f"_acme-challenge.{host.removeprefix('*.')}", "provider": slv.label,
            "issuer": f"{kind} {ctx.issuer}", "issuer_kind": kind, "issuer_name": ctx.issuer,
            "secret_ns": ns,
        }
        out.append(ctx)
    return out


def _present_events(graph: Graph, ctx: Context) -> list[tuple[str, str]]:
    """(evidence, error) of the newest PresentError Event on the Challenge."""
    for ev in graph.events_for(ctx.node.ref):
        if text(ev.get("reason")) != "PresentError":
            continue
        msg = text(ev.get("message"))
        err = msg.split("Error presenting challenge: ", 1)[-1]
        if err:
            return [(f"Challenge {ctx.node.ref.name} Event PresentError: {q(msg)}", err)]
    return []


def _messages(graph: Graph, ctx: Context) -> tuple[list[tuple[str, str]], list[str]]:
    """The texts to classify, in order, as (evidence, text), and notes for the evidence.

    ``status.reason`` is the current error; an Event is only read when the reason is empty
    or was redacted (v1.20.0+), since an older Event may describe a past error."""
    out: list[tuple[str, str]] = []
    notes: list[str] = []
    reason_ev = field_ev("Challenge", "status.reason", ctx.reason)
    redacted = REDACTED in ctx.reason
    if ctx.reason and not redacted:
        return [(reason_ev, ctx.reason)], notes
    evs = _present_events(graph, ctx)
    if redacted:
        cv = controller_version(graph.objs)
        ver = (f"cert-manager {cv[0]}" if cv else
               "cert-manager (version unknown, judged as the newest release)")
        notes.append(f"{ver} redacts provider SDK errors in status.reason (since "
                     f"{REDACTION_SINCE}); the full error is in the PresentError Event")
        out.append((reason_ev, ctx.reason))
        out[:0] = evs  # the full text first, the redacted reason as a last resort
    else:
        out += evs
    return out, notes


@dataclass
class Diagnosis:
    code: str
    ctx: Context
    evidence: list[str]
    values: dict[str, Any]


def diagnose(graph: Graph, ctx: Context) -> Diagnosis | None:
    """The one cause this Challenge's failure is recognised as (None: none)."""
    msgs, notes = _messages(graph, ctx)
    webhook = ctx.solver.provider == "webhook"
    if webhook:
        d = _webhook(graph, ctx, msgs, notes, by_message=True)
        if d is not None:
            return d
    for ev, msg in msgs:
        hit = classify(msg, ctx.solver.provider)
        if hit is None:
            continue
        fam, said = hit
        values = dict(ctx.values, said=said, meaning=fam.meaning)
        evidence = [ev, *notes] if ev.startswith("Challenge.") else \
            [field_ev("Challenge", "status.reason", ctx.reason), ev, *notes]
        return _BUILD[fam.code](graph, ctx, evidence, values, msg)
    if webhook:
        d = _webhook(graph, ctx, msgs, notes, by_message=False)
        if d is not None:
            return d
    if not ctx.reason and not msgs:
        return None  # cert-manager has not tried yet (or left no trace): nothing to judge
    return _inferred(graph, ctx, msgs, notes)


def _inferred(graph: Graph, ctx: Context, msgs: list[tuple[str, str]],
              notes: list[str]) -> Diagnosis | None:
    """No message names the cause (an unknown or a redacted text): what the objects show."""
    base = [ev for ev, _ in msgs[:1]] + notes
    missing = _missing_secret(graph, ctx)
    if missing is not None:
        return _secret(graph, ctx, base, dict(ctx.values, said="", meaning=""), "",
                       inferred=missing)
    if ctx.solver.ambient and ctx.solver.provider in AMBIENT_PROVIDERS:
        allowed, ev = ambient_allowed(graph, ctx.issuer_kind)
        if allowed is False:
            return _ambient(graph, ctx, [*base, ev], dict(ctx.values, said="", meaning=""), "")
    return None


# -- per-code builders ----------------------------------------------------------------------

def _hint_perm(ctx: Context) -> str:
    c = ctx.solver.config
    return {
        "route53": "Allow the IAM identity route53:GetChange, route53:ChangeResourceRecordSets "
                   "and route53:ListResourceRecordSets on the hosted zone, and "
                   "route53:ListHostedZonesByName on * (not needed when the solver sets "
                   "hostedZoneID)" + (f"; it must also be allowed sts:AssumeRole on "
                                      f"{text(c.get('role'))}, whose trust policy must allow it"
                                      if text(c.get("role")) else "") + ".",
        "cloudflare": "Use a Cloudflare API token with the permissions Zone → Zone → Read and "
                      "Zone → DNS → Edit whose Zone Resources include the zone of "
                      f"{ctx.host} (cert-manager lists zones to find it).",
        "cloudDNS": "Grant the service account the role roles/dns.admin (dns.changes.create/"
                    "get, dns.managedZones.list, dns.resourceRecordSets.*) in project "
                    f"{text(c.get('project')) or '?'}.",
        "azureDNS": "Assign the role 'DNS Zone Contributor' on the DNS zone "
                    f"{text(c.get('hostedZoneName')) or 'of ' + ctx.host} (resource group "
                    f"{text(c.get('resourceGroupName')) or '?'}, subscription "
                    f"{text(c.get('subscriptionID')) or '?'}) to the identity the solver uses.",
        "digitalocean": "Use a DigitalOcean API token with read and write scope for domains.",
        "akamai": "Give the Akamai API client READ-WRITE access to the Edge DNS API for the "
                  "zone.",
        "rfc2136": f"Allow the TSIG key {text(c.get('tsigKeyName')) or '?'} to update "
                   f"_acme-challenge names in the zone (BIND update-policy / allow-update) on "
                   f"{text(c.get('nameserver')) or 'the nameserver'}, and point nameserver at "
                   "the zone's primary server.",
    }.get(ctx.solver.provider, "Give the DNS provider credentials permission to create and "
                               "delete TXT records in the zone.")


def _hint_creds(ctx: Context) -> str:
    c = ctx.solver.config
    if ctx.solver.ambient and ctx.solver.provider in AMBIENT_PROVIDERS:
        return {
            "route53": "The controller found no usable ambient AWS credentials: annotate its "
                       "ServiceAccount with eks.amazonaws.com/role-arn (IRSA) or set up EKS Pod "
                       "Identity / an instance profile, or give the solver explicit "
                       "credentials.",
            "cloudDNS": "The controller found no usable ambient Google credentials: bind its "
                        "Kubernetes ServiceAccount to a Google service account (GKE Workload "
                        "Identity), or give the solver serviceAccountSecretRef.",
        }.get(ctx.solver.provider, "The controller's ambient Azure identity was not accepted: "
                                   "check the managed identity's clientID/resourceID or the "
                                   "workload identity's federated credential, or give the "
                                   "solver clientID, tenantID and clientSecretSecretRef.")
    return {
        "route53": "Put a valid, active AWS access key in the solver: accessKeyID (or "
                   "accessKeyIDSecretRef) and the secret in secretAccessKeySecretRef must be "
                   "the same key pair; rotate it if it was deactivated or deleted.",
        "cloudflare": "Put a valid Cloudflare credential in the Secret: an API token goes in "
                      "apiTokenSecretRef, the Global API key goes in apiKeySecretRef together "
                      "with the account email (mixing them up gives 'Invalid request "
                      "headers').",
        "cloudDNS": "Put a current JSON key of an existing Google service account in the "
                    "Secret.",
        "azureDNS": "Put the client secret's value (not its ID) in the Secret and check "
                    f"clientID {text(c.get('clientID')) or '?'} and tenantID "
                    f"{text(c.get('tenantID')) or '?'}; renew an expired secret; for workload "
                    "identity check the federated credential's subject.",
        "digitalocean": "Put a valid, unexpired DigitalOcean API token in the Secret.",
        "akamai": "Put the API client's current client token, client secret and access token "
                  "in the Secrets.",
        "rfc2136": f"Make tsigKeyName ({text(c.get('tsigKeyName')) or '?'}), tsigAlgorithm "
                   f"({text(c.get('tsigAlgorithm')) or 'HMACMD5 by default'}) and the base64 "
                   "secret in the Secret match the key configured on the DNS server exactly.",
    }.get(ctx.solver.provider, "Replace the DNS provider credentials with valid ones.")


def _secrets_label(ctx: Context) -> str:
    refs = ctx.solver.secrets
    if not refs:
        return "(inline in the issuer)"
    return ", ".join(f"{ctx.secret_ns}/{r.name}" + (f" key {r.key}" if r.key else "")
                     for r in refs)


def _perm(graph: Graph, ctx: Context, ev: list[str], values: dict[str, Any],
          msg: str) -> Diagnosis:
    return Diagnosis(PERM, ctx, ev, dict(values, hint=_hint_perm(ctx)))


def _creds(graph: Graph, ctx: Context, ev: list[str], values: dict[str, Any],
           msg: str) -> Diagnosis:
    if ctx.solver.ambient and ctx.solver.provider in AMBIENT_PROVIDERS:
        where = "the controller's ambient credentials (no explicit credentials in the solver)"
    else:
        where = _secrets_label(ctx)
    return Diagnosis(CREDS, ctx, ev, dict(values, hint=_hint_creds(ctx), secrets=where))


def _zone(graph: Graph, ctx: Context, ev: list[str], values: dict[str, Any],
          msg: str) -> Diagnosis:
    low = msg.lower()
    if "soa record" in low or "start of authority" in low or "rcode was expected" in low or \
            "determine the zone" in low:
        detail = ("cert-manager finds the zone by asking its recursive nameservers for the SOA "
                  "record of the name and each parent; none answered with one. Usually "
                  f"_acme-challenge.{ctx.host.removeprefix('*.')} is a CNAME into a zone "
                  "those resolvers cannot see, or the controller uses internal resolvers that "
                  "answer for a private/split-horizon view.")
    else:
        detail = ("The zone found in public DNS is not one the provider account hosts (Route53 "
                  "ignores private hosted zones; Cloudflare and Azure need the zone in the "
                  "account/resource group the credentials reach).")
    if ctx.solver.cname_follow:
        detail += (" The solver has cnameStrategy: Follow, so the record is written in the "
                   "zone of the CNAME's target.")
    c = ctx.solver.config
    fqdn = values.get("fqdn", "")
    zone_fix = {
        "route53": f"Make the zone of {fqdn} a public hosted zone of the AWS account the "
                   "credentials belong to (or set hostedZoneID), delegated from its parent.",
        "cloudflare": f"Add the zone of {fqdn} to the Cloudflare account the credentials "
                      "belong to and include it in the API token's Zone Resources.",
        "azureDNS": f"Check that hostedZoneName ({text(c.get('hostedZoneName')) or '?'}), "
                    f"resourceGroupName ({text(c.get('resourceGroupName')) or '?'}) and "
                    f"subscriptionID name the Azure DNS zone that holds {fqdn}.",
        "cloudDNS": f"Create or pick a public managed zone for {fqdn} in project "
                    f"{text(c.get('project')) or '?'} (or set hostedZoneName).",
        "rfc2136": f"Make {text(c.get('nameserver')) or 'the nameserver'} the primary server of "
                   f"the zone that holds {fqdn}, and delegate that zone to it in public DNS.",
    }.get(ctx.solver.provider, f"Host the zone of {fqdn} with the DNS provider the solver "
                               "uses and delegate the domain to it.")
    return Diagnosis(ZONE, ctx, ev, dict(values, detail=detail, zone_fix=zone_fix))


def _secret_elsewhere(graph: Graph, ctx: Context, secret: str) -> str:
    others = sorted(namespace(s) for s in graph.objs.of_kind("Secret")
                    if isinstance(s, dict) and name(s) == secret and namespace(s) != ctx.secret_ns)
    if not others:
        return ""
    return f" A Secret named {secret} exists in namespace {', '.join(others)}."


def _secret(graph: Graph, ctx: Context, ev: list[str], values: dict[str, Any], msg: str,
            inferred: SecretRef | None = None) -> Diagnosis:
    ref = inferred
    if ref is None:
        m = re.search(r'secrets? "([^"]*)" not found', msg, re.IGNORECASE)
        named = m.group(1) if m else ""
        ref = next((r for r in ctx.solver.secrets if r.name == named), None) or \
            next(iter(ctx.solver.secrets), None) or SecretRef("?", named or "?", "")
    missing_key = "not found in secret" in msg.lower() or "no data found" in msg.lower() or \
        ("no key" in msg.lower() and "in secret" in msg.lower())
    if ctx.issuer_kind == "ClusterIssuer":
        rule = (f"the controller's cluster resource namespace ({ctx.secret_ns}, set by "
                "--cluster-resource-namespace) for a ClusterIssuer")
    else:
        rule = f"the Issuer's own namespace ({ctx.secret_ns})"
    if inferred is not None:
        n = sum(1 for s in graph.objs.of_kind("Secret")
                if isinstance(s, dict) and namespace(s) == ctx.secret_ns)
        why = (f"which is not among the {n} Secret(s) of namespace {ctx.secret_ns} in this "
               "snapshot")
        ev = [*ev, f"Secret {ctx.secret_ns}/{ref.name}: absent ({n} other Secret(s) of "
                   f"{ctx.secret_ns} known)"]
    elif missing_key:
        why = f"which exists but has no key {ref.key or '?'}"
    else:
        why = "which does not exist"
    elsewhere = _secret_elsewhere(graph, ctx, ref.name)
    if elsewhere:
        ev = [*ev, elsewhere.strip()]
    return Diagnosis(SECRET, ctx, ev, dict(
        values, secret=ref.name, key=ref.key or "?", field=ref.field, why=why, where_rule=rule,
        elsewhere=elsewhere))


def _missing_secret(graph: Graph, ctx: Context) -> SecretRef | None:
    """A referenced Secret absent from the snapshot, when Secrets of its namespace are known
    (a bundle without Secrets proves nothing)."""
    known = {name(s) for s in graph.objs.of_kind("Secret")
             if isinstance(s, dict) and namespace(s) == ctx.secret_ns}
    if not known:
        return None
    return next((r for r in ctx.solver.secrets if r.name not in known), None)


def ambient_allowed(graph: Graph, issuer_kind: str) -> tuple[bool | None, str]:
    """Does the controller allow ambient credentials for this issuer kind? (None: unknown —
    no controller Deployment, or its flags come from a --config file.) With the evidence.

    cmd/controller/app/options/options.go (v1.0.4) and
    internal/apis/config/controller/v1alpha1/defaults.go (v1.21.1): --issuer-ambient-credentials
    defaults to false, --cluster-issuer-ambient-credentials to true."""
    flag = "--cluster-issuer-ambient-credentials" if issuer_kind == "ClusterIssuer" \
        else "--issuer-ambient-credentials"
    default = issuer_kind == "ClusterIssuer"
    args = controller_args(graph.objs)
    if not args:
        return None, "controller args unknown"
    value: bool | None = None
    for a in args:
        if a == flag:
            value = True
        elif a.startswith(flag + "="):
            value = a.split("=", 1)[1].strip().lower() in ("true", "1", "t")
    if value is None:
        if any(a == "--config" or a.startswith("--config=") for a in args):
            return None, f"controller args have no {flag} (but a --config file may set it)"
        return default, f"controller args have no {flag} (default {str(default).lower()})"
    return value, f"controller arg {flag}={str(value).lower()}"


def _ambient(graph: Graph, ctx: Context, ev: list[str], values: dict[str, Any],
             msg: str) -> Diagnosis:
    flag = "--cluster-issuer-ambient-credentials" if ctx.issuer_kind == "ClusterIssuer" \
        else "--issuer-ambient-credentials"
    allowed, flag_ev = ambient_allowed(graph, ctx.issuer_kind)
    if flag_ev not in ev and allowed is not None:
        ev = [*ev, flag_ev]
    explicit = {
        "route53": "accessKeyID/accessKeyIDSecretRef with secretAccessKeySecretRef, or "
                   "auth.kubernetes.serviceAccountRef (cert-manager ≥ v1.15)",
        "cloudDNS": "serviceAccountSecretRef",
        "azureDNS": "clientID, tenantID and clientSecretSecretRef",
    }.get(ctx.solver.provider, "explicit credentials")
    if ctx.issuer_kind == "ClusterIssuer":
        choice = f"Set {flag}=true in"
    else:
        choice = (f"Use a ClusterIssuer instead of {ctx.issuer_kind} {ctx.issuer}, or add "
                  f"{flag} to")
    return Diagnosis(AMBIENT, ctx, ev, dict(values, flag=flag, explicit=explicit,
                                            choice=choice))


def _webhook(graph: Graph, ctx: Context, msgs: list[tuple[str, str]],
             notes: list[str], by_message: bool) -> Diagnosis | None:
    """The API server's answer names an unserved group (``by_message``), or — when no
    message explains the failure — the solver's APIService is not Available."""
    group = text(ctx.solver.config.get("groupName"))
    solver = text(ctx.solver.config.get("solverName"))
    api = graph.objs.get("APIService", "", f"v1alpha1.{group}") if group else None
    api_ev = ""
    api_down = False
    if isinstance(api, dict):
        c = condition(api, "Available") or {}
        api_down = text(c.get("status")) != "True"
        api_ev = (f"APIService v1alpha1.{group} Available={text(c.get('status')) or 'absent'}"
                  + (f", reason {text(c.get('reason'))}" if text(c.get("reason")) else "")
                  + (f", message {q(text(c.get('message')))}" if text(c.get("message")) else ""))
    for ev, msg in msgs if by_message else ():
        m = WEBHOOK_UNSERVED.search(msg)
        if m is None:
            continue
        low = msg.lower()
        if "is forbidden" in low:
            why = ("the API server refused the call: cert-manager's ServiceAccount is not "
                   "allowed to create that resource (the webhook chart's RBAC is missing or "
                   "names another group)")
        elif "could not find the requested resource" in low:
            why = ("the API server answered 404: no APIService serves that group/version, "
                   "or the webhook serves another solverName")
        else:
            why = ("the API server could not reach the webhook behind the APIService (pod "
                   "down, no endpoints, or its TLS/network failing)")
        evidence = [ev, *notes] + ([api_ev] if api_ev else [])
        return Diagnosis(WEBHOOK, ctx, evidence, dict(
            ctx.values, group=group or "?", solver=solver or "?", why=why,
            said=excerpt(msg, m.start(), m.end())))
    if api_down and not by_message:
        evidence = [ev for ev, _ in msgs[:1]] + notes + [api_ev]
        return Diagnosis(WEBHOOK, ctx, evidence, dict(
            ctx.values, group=group, solver=solver or "?", said="",
            why=f"its APIService v1alpha1.{group} is not Available"))
    return None


_BUILD: dict[str, Callable[[Graph, Context, list[str], dict[str, Any], str], Diagnosis]] = {
    SECRET: _secret, AMBIENT: _ambient, CREDS: _creds, PERM: _perm, ZONE: _zone,
}


# -- the rules ------------------------------------------------------------------------------

def context_findings(graph: Graph, code: str,
                     diagnose_fn: Callable[[Graph, Context], Any]) -> list[Finding]:
    """``code``'s findings: each DNS-01 Challenge context whose diagnosis (by
    ``diagnose_fn``) is that code."""
    out: list[Finding] = []
    for ctx in _contexts(graph):
        try:
            d = diagnose_fn(graph, ctx)
        except (TypeError, ValueError, AttributeError, KeyError):  # pragma: no cover
            continue
        if d is None or d.code != code:
            continue
        data = {"host": ctx.host, "provider": ctx.solver.provider,
                "issuer": {"kind": ctx.issuer_kind, "name": ctx.issuer}}
        out.append(make(code, ctx.node.ref, d.evidence, data=data, **d.values))
    return out


def _findings(graph: Graph, code: str) -> list[Finding]:
    # the solver-configuration codes (rules/dns01_config.py) name the cause first: a
    # placeholder project or an unfollowed CNAME is not a permission/credential problem,
    # so these codes step back for them (rules.STEPS_BACK_FOR, same Challenge)
    return context_findings(graph, code, diagnose)


def dns01_provider_permission_denied(graph: Graph, now: datetime) -> list[Finding]:
    """The provider accepted the credentials but refused the change (AWS AccessDenied,
    Cloudflare 'requires permission'/10000, Google 403, Azure AuthorizationFailed,
    DigitalOcean 403, RFC2136 REFUSED/NOTAUTH). Message families: route53.go,
    cloudflare.go ("Error: %d: %s"), rfc2136.go ("DNS update failed. Server replied: %s")
    at v1.0.4 … v1.21.1; read from the PresentError Event when v1.20+ redacted the reason."""
    return _findings(graph, PERM)


def dns01_provider_credentials_invalid(graph: Graph, now: datetime) -> list[Finding]:
    """The provider rejected the credentials themselves (AWS InvalidClientTokenId/
    SignatureDoesNotMatch, Cloudflare 'Invalid request headers', Azure AADSTS/invalid_client,
    Google invalid_grant, RFC2136 'dns: bad authentication'/BADSIG). Same sources as above;
    a redacted ``azidentity.AuthenticationFailedError`` (v1.20+) counts by its type name."""
    return _findings(graph, CREDS)


def dns01_zone_not_found(graph: Graph, now: datetime) -> list[Finding]:
    """No zone for the record: util/wait.go FindZoneByFqdn ('Could not find the start of
    authority' ≤ v1.3, 'Could not find the SOA record in the DNS tree …' v1.4.0 … v1.21.1)
    or the provider's own lookup (route53.go 'zone %s not found in Route 53 for domain %s',
    private zones skipped; cloudflare.go 'Zone %s not found in CloudFlare' ≤ v1.4 /
    'Found no Zones for domain' v1.5+; azuredns.go; clouddns.go)."""
    return _findings(graph, ZONE)


def dns01_credentials_secret_not_found(graph: Graph, now: datetime) -> list[Finding]:
    """The solver's Secret is missing (dns.go solverForChallenge: 'error getting <provider>
    …: secret "x" not found' from the lister of ResourceNamespaceRef — the Issuer's namespace,
    or --cluster-resource-namespace for a ClusterIssuer; pkg/controller/helper.go), or it is
    absent from a snapshot that holds other Secrets of that namespace."""
    return _findings(graph, SECRET)


def dns01_webhook_solver_unavailable(graph: Graph, now: datetime) -> list[Finding]:
    """A webhook solver whose API group is not served: webhook.go POSTs through the
    aggregation layer and returns the API server's error ('the server could not find the
    requested resource (post <solver>.<group>)', 'the server is currently unable to handle
    the request'), or its APIService v1alpha1.<group> is not Available."""
    return _findings(graph, WEBHOOK)


def dns01_ambient_credentials_disabled(graph: Graph, now: datetime) -> list[Finding]:
    """Route53/CloudDNS/AzureDNS without explicit credentials on an issuer kind the
    controller denies ambient credentials to (CanUseAmbientCredentialsFromRef in
    pkg/controller/helper.go; --issuer-ambient-credentials default false)."""
    return _findings(graph, AMBIENT)


__all__ = [
    "FAMILIES",
    "Solver",
    "ambient_allowed",
    "classify",
    "dns01_ambient_credentials_disabled",
    "dns01_credentials_secret_not_found",
    "dns01_provider_credentials_invalid",
    "dns01_provider_permission_denied",
    "dns01_webhook_solver_unavailable",
    "dns01_zone_not_found",
    "solver_of",
]
