"""DNS-01 solver configuration mistakes: causes in the issuer's solver, not in IAM.

The Challenge controller writes a failed Present as ``status.reason`` plus a Warning Event
``PresentError`` "Error presenting challenge: %v" and leaves ``status.presented`` false
(pkg/controller/acmechallenges/sync.go at v1.0.4 … v1.21.1; v1.20.0+ redacts AWS/Azure/
DigitalOcean SDK errors in the reason, so the Event is read too — the helpers of
rules/dns01_provider.py do that). Two families are configuration, and the provider codes
(DNS01_PROVIDER_PERMISSION_DENIED, …_CREDENTIALS_INVALID) step back for them:

* DNS01_CNAME_NOT_FOLLOWED: without ``cnameStrategy: Follow`` cert-manager writes the TXT
  record at ``_acme-challenge.<name>`` itself (pkg/issuer/acme/dns/dns.go ``followCNAME`` /
  util.FindZoneByFqdn at v1.0.4 … v1.21.1). When that name is a CNAME, Route 53 answers
  "InvalidChangeBatch: [RRSet with DNS name _acme-challenge.x. is not permitted in zone y.]"
  (the zone found is the CNAME's target zone, or hostedZoneID names it) or "RRSet of type TXT
  … is not permitted because a conflicting RRSet of type CNAME …"; Cloud DNS "… may have
  either one CNAME resource record set or resource record sets of other types, but not both".
* DNS01_PROVIDER_CONFIG_INVALID: a field left as a template placeholder (``$PROJECT_ID``,
  ``<your-zone-id>``, ``{{ … }}``), Google's ``CONSUMER_INVALID`` (the project does not
  exist), Azure IMDS "Multiple user assigned identities exist" / "Identity not found"
  (managedIdentity.clientID missing or wrong; the field exists from v1.6.0,
  pkg/apis/acme/v1/types_issuer.go), and cert-manager's own solver set-up errors
  (pkg/issuer/acme/dns/dns.go, clouddns/clouddns.go, cloudflare/cloudflare.go,
  azuredns/azuredns.go, akamai/akamai.go, acmedns/acmedns.go at v1.0.4 … v1.21.1).

Both rules are WIDE: they read the Challenge's Events (which do not dirty a chain) and the
controller's version; the findings land on the Challenge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubectl_certdoctor.graph import Graph
from kubectl_certdoctor.objects import as_dict, text
from kubectl_certdoctor.rules.dns01_provider import (
    Context,
    _messages,
    context_findings,
    excerpt,
)
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.versions import Version, controller_version

CNAME = "DNS01_CNAME_NOT_FOLLOWED"
CONFIG = "DNS01_PROVIDER_CONFIG_INVALID"
#: azureDNS.managedIdentity (clientID/resourceID) exists from this release
AZURE_MANAGED_IDENTITY_SINCE = Version(1, 6, 0)

#: Route 53: the record name is outside the zone cert-manager picked (or hostedZoneID names)
_NOT_PERMITTED = re.compile(
    r"RRSet with DNS name (?P<name>[^\s,\]]+?)\.?,? (?:type \S+ )?is not permitted in zone "
    r"(?P<zone>[^\s\]]+?)\.?\s*\]", re.IGNORECASE)
#: a CNAME already sits on the _acme-challenge name in the zone written to
_CNAME_CONFLICT = re.compile(
    r"conflicting RRSet of type CNAME|may have either one CNAME resource record set or "
    r"resource record sets of other types|cname record (?:set )?with (?:that|the same) "
    r"(?:host|name) already exists", re.IGNORECASE)
#: unexpanded template/shell placeholders in a solver field
_PLACEHOLDER = re.compile(
    r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\$\([A-Za-z_][A-Za-z0-9_]*\)|<[A-Za-z][^<>]*>|\{\{[^}]*\}\}")


@dataclass(frozen=True)
class _Family:
    pattern: re.Pattern[str]
    what: str
    providers: tuple[str, ...] = ()


def _fam(pattern: str, what: str, *providers: str) -> _Family:
    return _Family(re.compile(pattern, re.IGNORECASE), what, providers)


#: configuration errors recognised by their message (first match wins)
_CONFIG_FAMILIES: tuple[_Family, ...] = (
    _fam(r"multiple user assigned identities exist", "azure-ambiguous", "azureDNS"),
    _fam(r"\bidentity not found\b", "azure-identity-not-found", "azureDNS"),
    _fam(r"consumer_invalid", "gcp-project"),
    _fam(r"google cloud project name missing", "gcp-project"),
    _fam(r"cannot be both present simultaneously|api key and api token secret references are "
         r"both present|accesskeyid and accesskeyidsecretref cannot both be specified",
         "both-set"),
    _fam(r"requires a (?:key|name) field to be specified|service account name is required for "
         r"kubernetes auth|provider creation failed\. missing required arguments|"
         r"no cloudflare credential has been given|no dns01 challenge solver configuration "
         r"found", "missing-field"),
    _fam(r"unknown cloud configuration name", "azure-environment", "azureDNS"),
    _fam(r"account credentials not found for domain|error unmarshalling accountjson",
         "acmedns-account", "acmeDNS"),
)


@dataclass
class Diagnosis:
    code: str
    evidence: list[str]
    values: dict[str, Any] = field(default_factory=dict)


def placeholders(config: dict[str, Any], path: str) -> list[tuple[str, str]]:
    """(field path, value) of every string leaf that still holds a template placeholder
    (a webhook solver's free-form ``config`` is skipped)."""
    out: list[tuple[str, str]] = []

    def walk(v: Any, p: str) -> None:
        if isinstance(v, dict):
            for k, sub in v.items():
                if p.endswith(".webhook") and k == "config":
                    continue
                walk(sub, f"{p}.{k}")
        elif isinstance(v, list):
            for i, sub in enumerate(v):
                walk(sub, f"{p}[{i}]")
        elif isinstance(v, str) and _PLACEHOLDER.search(v):
            out.append((p, v))

    walk(config, path)
    return out


def _version_note(graph: Graph) -> tuple[Version | None, str]:
    cv = controller_version(graph.objs)
    if cv is None:
        return None, "controller version unknown: judged as the newest release"
    return cv[0], f"controller {cv[0]} ({cv[1]})"


def _retry(ctx: Context) -> str:
    return ("Existing Challenges keep the solver they were created with: cert-manager replaces "
            f"Challenge {ctx.node.ref.name} when it next syncs the Order; if it does not, run "
            "`cmctl renew` on the Certificate.")


def _cname(ctx: Context, msgs: list[tuple[str, str]], notes: list[str]) -> Diagnosis | None:
    follow = ctx.solver.cname_follow
    for ev, msg in msgs:
        m = _NOT_PERMITTED.search(msg)
        if m is not None:
            rec = m.group("name").rstrip(".").lower()
            zone = m.group("zone").rstrip(".").lower()
            if rec == zone or rec.endswith("." + zone):
                continue  # the name is in the zone: another InvalidChangeBatch cause
            said = excerpt(msg, m.start(), m.end())
            if follow or not rec.startswith("_acme-challenge."):
                return None  # Follow is on: a followed CNAME went elsewhere (not this code)
            hz = text(ctx.solver.config.get("hostedZoneID"))
            zone_hint = (f" and make hostedZoneID ({hz}) the hosted zone of {zone}" if hz else
                         "")
            return Diagnosis(CNAME, [ev, *notes], dict(
                ctx.values, record=rec, said=said,
                what=f"not in zone {zone}",
                meaning=(f"{rec} is not a name of zone {zone}. cert-manager chose {zone} "
                         "because _acme-challenge is a CNAME into it (its SOA lookup follows "
                         "the CNAME)" + (f", or because hostedZoneID {hz} names that zone"
                                         if hz else "")),
                action=(f"If {rec} is a CNAME into {zone} (check: `dig +short CNAME {rec}`), "
                        "set cnameStrategy: Follow on the dns01 solver of "
                        f"{ctx.values['issuer']}{zone_hint}: cert-manager then writes the TXT "
                        f"record at the CNAME's target inside {zone}. If it is not a CNAME, "
                        "point hostedZoneID at the zone that really holds "
                        f"{rec.removeprefix('_acme-challenge.')}. " + _retry(ctx))))
        c = _CNAME_CONFLICT.search(msg)
        if c is not None and not follow:
            rec = ctx.values["fqdn"]
            return Diagnosis(CNAME, [ev, *notes], dict(
                ctx.values, record=rec, said=excerpt(msg, c.start(), c.end()),
                what="a CNAME, so no TXT record can be added beside it",
                meaning=(f"{rec} already is a CNAME record, and DNS allows no other record "
                         "type on a CNAME name"),
                action=(f"If the CNAME {rec} points into a zone these credentials can write "
                        "(a delegated validation zone), set cnameStrategy: Follow on the "
                        f"dns01 solver of {ctx.values['issuer']} so the TXT record is written "
                        "at its target. If it points at another service's ACME validation "
                        "(a CDN), remove the CNAME or validate this name with HTTP-01 instead. "
                        + _retry(ctx))))
    return None


def _config_action(what: str, ctx: Context, graph: Graph, ev: list[str]) -> tuple[str, str]:
    c = ctx.solver.config
    iss = ctx.values["issuer"]
    if what == "azure-ambiguous":
        v, note = _version_note(graph)
        ev.append(note)
        mi = as_dict(c.get("managedIdentity"))
        if v is not None and v < AZURE_MANAGED_IDENTITY_SINCE:
            fix = (f"cert-manager {v} has no azureDNS.managedIdentity field: upgrade to "
                   f"{AZURE_MANAGED_IDENTITY_SINCE} or later and set "
                   "managedIdentity.clientID to the identity that holds 'DNS Zone "
                   "Contributor', or give the solver clientID, tenantID and "
                   "clientSecretSecretRef of a service principal, or leave only one "
                   "user-assigned identity on the nodes.")
        else:
            fix = (f"Set azureDNS.managedIdentity.clientID (or resourceID) in the solver of {iss} "
                   "to the user-assigned identity that holds 'DNS Zone Contributor' on the zone"
                   + (" (the one set now is not accepted)" if mi else "") + ".")
        return ("the node has several user-assigned managed identities and the solver does not "
                "say which one to use, so Azure's instance metadata service refuses to pick "
                "one", fix)
    if what == "azure-identity-not-found":
        mi = as_dict(c.get("managedIdentity"))
        named = text(mi.get("clientID")) or text(mi.get("resourceID"))
        return ("Azure's instance metadata service knows no managed identity "
                + (f"{named} " if named else "") + "on this node",
                "Assign the user-assigned identity to the node pool (VM scale set) the "
                "cert-manager controller runs on, or set azureDNS.managedIdentity.clientID of "
                f"{iss} to an identity that is assigned there.")
    if what == "gcp-project":
        project = text(c.get("project")) or "(empty)"
        return (f"cloudDNS.project {project!r} does not name a Google Cloud project the "
                "credentials can use (CONSUMER_INVALID: no such project)",
                f"Set cloudDNS.project of {iss} to the ID (not the display name) of the "
                "project that hosts the managed zone.")
    if what == "both-set":
        return ("the solver sets two mutually exclusive credential fields",
                f"Keep only one of them in the {ctx.solver.label} solver of {iss} (for "
                "Cloudflare: apiTokenSecretRef or apiKeySecretRef+email; for Route 53: "
                "accessKeyID or accessKeyIDSecretRef).")
    if what == "azure-environment":
        return ("azureDNS.environment is not one of the names cert-manager knows",
                f"Set azureDNS.environment of {iss} to AzurePublicCloud, AzureChinaCloud, "
                "AzureGermanCloud or AzureUSGovernmentCloud (or remove it).")
    if what == "acmedns-account":
        return ("the acme-dns accountJSON Secret has no (valid) entry for this domain",
                f"Register {ctx.host.removeprefix('*.')} with the acme-dns server and put the "
                "JSON with a key for exactly that domain in the accountSecretRef Secret.")
    return ("a required field of the solver is missing",
            f"Fill in the field the message names in the {ctx.solver.label} solver of {iss}.")


def _config(graph: Graph, ctx: Context, msgs: list[tuple[str, str]],
            notes: list[str]) -> Diagnosis | None:
    path = f"spec.solver.dns01.{ctx.solver.provider or '?'}"
    held = placeholders(ctx.solver.config, path)
    if held:
        fields = ", ".join(f"{p} = {v!r}" for p, v in held)
        pev = [f"Challenge.{p}: {v!r} (an unexpanded placeholder)" for p, v in held]
        pev += [e for e, _ in msgs[:1]] + notes
        return Diagnosis(CONFIG, pev, dict(
            ctx.values, what="a field still holds a template placeholder",
            detail=(f"{fields}: the value was copied from an example without being replaced "
                    f"(Kubernetes does not expand $VARIABLES in objects), so {ctx.solver.label} "
                    "is asked about a project/zone/account that does not exist, and answers "
                    "with an error that looks like a permission problem."),
            action=(f"Replace {', '.join(p for p, _ in held)} in the solver of "
                    f"{ctx.values['issuer']} with the real value. " + _retry(ctx))))
    for ev, msg in msgs:
        for fam in _CONFIG_FAMILIES:
            if fam.providers and ctx.solver.provider not in fam.providers:
                continue
            m = fam.pattern.search(msg)
            if m is None:
                continue
            evidence = [ev, *notes]
            why, fix = _config_action(fam.what, ctx, graph, evidence)
            return Diagnosis(CONFIG, evidence, dict(
                ctx.values, what=why.split(",")[0], said=excerpt(msg, m.start(), m.end()),
                detail=f"{ctx.solver.label} answered {excerpt(msg, m.start(), m.end())!r}: "
                       f"{why}.",
                action=f"{fix} {_retry(ctx)}"))
    return None


def diagnose(graph: Graph, ctx: Context) -> Diagnosis | None:
    """The configuration cause of this DNS-01 Challenge's failure (None: none)."""
    msgs, notes = _messages(graph, ctx)
    if not msgs:
        return None  # nothing failed yet: a placeholder alone is not judged before it bites
    return _config(graph, ctx, msgs, notes) or _cname(ctx, msgs, notes)


def _findings(graph: Graph, code: str) -> list[Finding]:
    return context_findings(graph, code, diagnose)


def dns01_cname_not_followed(graph: Graph, now: datetime) -> list[Finding]:
    """The TXT record was refused because _acme-challenge is a CNAME (into another zone, or
    beside the TXT) and the solver lacks cnameStrategy: Follow. Route 53 InvalidChangeBatch
    texts (route53/route53.go passes them through, v1.0.4 … v1.21.1); Cloud DNS
    cnameResourceRecordSetConflict (clouddns/clouddns.go "GoogleCloud API call failed")."""
    return _findings(graph, CNAME)


def dns01_provider_config_invalid(graph: Graph, now: datetime) -> list[Finding]:
    """The solver configuration itself is wrong: a placeholder left in a field, a project
    that does not exist, an ambiguous/unknown Azure managed identity, or a set-up error
    cert-manager raises while building the solver (dns.go / provider files at v1.0.4 …
    v1.21.1)."""
    return _findings(graph, CONFIG)


__all__ = ["CNAME", "CONFIG", "dns01_cname_not_followed", "dns01_provider_config_invalid",
           "placeholders"]
