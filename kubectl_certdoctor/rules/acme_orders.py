"""ACME order and authorization failures the CA names: CAA, DNS, invalid/expired
authorizations, a common name over 64 bytes, identifiers ACME cannot validate.

Where the words come from (cert-manager's tagged sources):

* Challenge.status.reason of an invalid Challenge is the CA's problem *detail*, copied
  verbatim (pkg/controller/acmechallenges/sync.go, ``ch.Status.Reason = acmeErr.Detail``,
  v1.0.0 … v1.21.1); errors while accepting carry the full "<status> urn:…:<type>: <detail>"
  ("Error accepting authorization: acme: authorization error for <host>: 400 urn:ietf:params:
  acme:error:dns: DNS problem: …"). A ``malformed`` answer marks the Challenge ``expired``.
* Order.status.reason: "Failed to create Order: …", "Failed to finalize Order: …", "Failed
  to fetch authorization: …", "Failed to retrieve Order resource: …"
  (pkg/controller/acmeorders/sync.go, v1.0.0 … v1.21.1).
* The CA texts (Let's Encrypt/Boulder) are matched by their stable fragments, case-
  insensitively: "CAA record for … prevents issuance", "DNS problem: NXDOMAIN looking up A
  for …", "No valid IP addresses found for …", "CN was longer than 64 bytes", "CSR doesn't
  contain a SAN short enough to fit in CN", "Expired authorization", "No order for ID".

All of these are final for the order: only a new Order can succeed, so the generic
ACME_ORDER_FAILED steps back when one of them names the cause (``specific_order_cause``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from kubectl_certdoctor.graph import Graph, Node
from kubectl_certdoctor.objects import as_list, dig, text
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.util import cond_text, field_ev, is_current_request, q
from kubectl_certdoctor.versions import Version, controller_version

CAA = "ACME_CAA_FORBIDS"
DNS = "ACME_DNS_LOOKUP_FAILED"
AUTHZ = "ACME_AUTHORIZATION_INVALID"
CN = "COMMON_NAME_TOO_LONG"
IDENT = "ACME_UNSUPPORTED_IDENTIFIER"

_LOOKUP = re.compile(r"\b(NXDOMAIN|SERVFAIL|REFUSED|timeout|time out|networking error)"
                     r"[^:]*?\blooking up\s+([A-Za-z]+)\s+for\s+([^\s;,]+)", re.I)
_NO_IP = re.compile(r"no valid (?:ip addresses|a records)[^:]*? found for\s+([^\s;,]+)", re.I)
_CAA_FOR = re.compile(r"caa record for\s+([^\s;,]+)", re.I)
_STATUS_4XX = re.compile(r"\b4\d\d\b")
_AUTHZ_WORDS = re.compile(r"authori[sz]ation\b[^.;]{0,80}?\b(expired|invalid|deactivated|"
                          r"revoked)", re.I)
_CN_WORDS = re.compile(r"cn was longer than 64|short enough to fit in cn|"
                       r"common ?name[^.;]{0,40}too long|commonname: too long", re.I)
_IDENT_WORDS = re.compile(r"error:(rejectedIdentifier|unsupportedIdentifier)", re.I)
FINAL_CHALLENGE = ("invalid", "errored", "expired")


@dataclass(frozen=True)
class Cause:
    code: str
    node: Node
    path: str
    message: str
    detail: str
    host: str = ""
    record: str = ""


def _rate_limited(low: str) -> bool:
    return "ratelimited" in low or "rate limit" in low or "too many" in low


def classify(message: str) -> tuple[str, str, str, str] | None:
    """(code, detail, host, record) for a CA failure message; None when it names none of
    ours. CAA lookup failures count as CAA (the CA refuses on them), not as DNS."""
    if not message:
        return None
    low = message.lower()
    if _rate_limited(low) or low.startswith("waiting for"):
        return None
    if "error:caa" in low or "prevents issuance" in low or "looking up caa" in low \
            or "could not validate caa" in low:
        m = _LOOKUP.search(message)
        host = ""
        if m and m.group(2).upper() == "CAA":
            host = m.group(3)
            detail = f"the CAA lookup failed ({m.group(1)} looking up CAA for {host})"
        else:
            hm = _CAA_FOR.search(message)
            host = hm.group(1) if hm else ""
            detail = "its CAA records do not allow this CA to issue"
        return CAA, detail, host.rstrip("."), "CAA"
    if _CN_WORDS.search(message):
        return CN, "the CA refused the common name as longer than 64 bytes", "", ""
    if _IDENT_WORDS.search(message):
        m2 = _IDENT_WORDS.search(message)
        return IDENT, f"the CA answered {m2.group(1) if m2 else 'rejectedIdentifier'}", "", ""
    if "error:dns" in low or "dns problem" in low or _NO_IP.search(message):
        m = _LOOKUP.search(message)
        if m:
            return (DNS, f"{m.group(1)} looking up {m.group(2).upper()} for {m.group(3)}",
                    m.group(3).rstrip("."), m.group(2).upper())
        n = _NO_IP.search(message)
        if n:
            return DNS, f"no valid IP addresses found for {n.group(1)}", n.group(1), "A/AAAA"
        return DNS, "the CA reported a DNS problem", "", ""
    if "expired authorization" in low or "failed to fetch authorization" in low \
            or _AUTHZ_WORDS.search(message) or "no order for id" in low \
            or ("failed to retrieve order resource" in low and _STATUS_4XX.search(message)):
        return AUTHZ, "reported the authorization or order as gone or no longer valid", "", ""
    return None


def current_order(graph: Graph, order: Node) -> bool:
    """The Order matters now: its request is not Ready and is its Certificate's newest."""
    cr = graph.parent(order)
    if cr is None or cr.obj is None or cr.ref.kind != "CertificateRequest":
        return True
    if cond_text(cr.obj, "Ready")[0] == "True":
        return False
    return is_current_request(graph, cr)


def order_causes(graph: Graph, order: Node) -> dict[str, Cause]:
    """Each specific cause found in an Order's chain, on the deepest object that shows it
    (a Challenge before its Order before the CertificateRequest)."""
    out: dict[str, Cause] = {}

    def add(c: Cause) -> None:
        out.setdefault(c.code, c)

    for ch in order.children:
        obj = ch.obj or {}
        state = text(dig(obj, "status", "state"))
        if state == "valid":
            continue
        reason = text(dig(obj, "status", "reason"))
        host = text(dig(obj, "spec", "dnsName"))
        hit = classify(reason) if (state in FINAL_CHALLENGE or _ca_words(reason)) else None
        if hit is not None:
            code, detail, h, rec = hit
            add(Cause(code, ch, "status.reason", reason, detail, h or host, rec))
        elif state in ("invalid", "expired") and not _rate_limited(reason.lower()):
            verdict = ("let the authorization expire" if state == "expired"
                       else "marked the authorization invalid")
            add(Cause(AUTHZ, ch, "status.state", state,
                      f"{verdict}" + (f": {reason}" if reason else ""), host, state))
    obj = order.obj or {}
    state = text(dig(obj, "status", "state"))
    reason = text(dig(obj, "status", "reason"))
    hit = classify(reason)
    names = [text(n) for n in as_list(dig(obj, "spec", "dnsNames"))]
    if hit is not None:
        code, detail, h, rec = hit
        add(Cause(code, order, "status.reason", reason, detail, h or ", ".join(names), rec))
    elif state == "expired":
        add(Cause(AUTHZ, order, "status.state", state, "let the order expire",
                  ", ".join(names), state))
    elif state == "invalid" and not reason and not any(
            c.code != AUTHZ for c in out.values()):
        # RFC 8555 §7.1.6: an order turns invalid when one of its authorizations does
        # (cert-manager writes finalize errors into status.reason, so an empty reason is
        # not one); the Challenges may already be cleaned up
        add(Cause(AUTHZ, order, "status.state", state,
                  "marked an authorization of the order invalid", ", ".join(names), state))
    cr = graph.parent(order)
    if cr is not None and cr.ref.kind == "CertificateRequest" and cr.obj is not None:
        msg = cond_text(cr.obj, "Ready")[2]
        hit = classify(msg)
        if hit is not None and hit[0] in (CAA, DNS, CN, IDENT):
            code, detail, h, rec = hit
            add(Cause(code, cr, "status.conditions[Ready].message", msg, detail,
                      h or ", ".join(names), rec))
    return out


def _ca_words(reason: str) -> bool:
    low = reason.lower()
    return "urn:ietf:params:acme:error:" in low or "dns problem" in low \
        or "authorization error for" in low


def specific_order_cause(graph: Graph, order: Node) -> str:
    """The specific code that explains this Order's failure ('' when none does)."""
    causes = order_causes(graph, order)
    cert = graph.ancestor(order, "Certificate")
    cobj = cert.obj if cert is not None and cert.obj is not None else None
    for code in (CAA, DNS, CN, IDENT, AUTHZ):
        if code not in causes:
            continue
        if code == IDENT and (cobj is None or not (
                _unsupported_fields(cobj) or as_list(dig(cobj, "spec", "ipAddresses")))):
            continue  # the identifier rule reports on a Certificate that asks for these
        if code == CN and cobj is None:
            continue
        return code
    if cobj is not None and _unsupported_fields(cobj):
        return IDENT
    return ""


def _orders(graph: Graph) -> list[Node]:
    return [o for o in graph.of_kind("Order") if current_order(graph, o)]


def _certificate_name(graph: Graph, node: Node) -> str:
    cert = graph.ancestor(node, "Certificate")
    return cert.ref.name if cert is not None else "(its Certificate)"


def _ev(c: Cause) -> list[str]:
    return [field_ev(c.node.ref.kind, c.path, c.message)]


def acme_caa_forbids(graph: Graph, now: datetime) -> list[Finding]:
    """CAA refused (or could not be checked) by the CA: the order is final."""
    out: list[Finding] = []
    for order in _orders(graph):
        c = order_causes(graph, order).get(CAA)
        if c is None:
            continue
        out.append(make(CAA, c.node.ref, _ev(c), data={"host": c.host},
                        host=c.host or "the name", detail=c.detail))
    return out


def acme_dns_lookup_failed(graph: Graph, now: datetime) -> list[Finding]:
    """The CA's DNS lookup failed (NXDOMAIN/SERVFAIL/no address): not a propagation wait."""
    out: list[Finding] = []
    for order in _orders(graph):
        c = order_causes(graph, order).get(DNS)
        if c is None:
            continue
        record = c.record or "A/AAAA"
        if record == "TXT":
            record = "TXT (_acme-challenge)"
        out.append(make(DNS, c.node.ref, [*_ev(c), f"CA lookup: {c.detail}"],
                        data={"name": c.host, "record": c.record},
                        name=c.host or "the name", detail=c.detail, record=record))
    return out


def acme_authorization_invalid(graph: Graph, now: datetime) -> list[Finding]:
    """Invalid/expired authorizations and orders the CA no longer knows: only a new Order
    can succeed, retrying the Challenge cannot."""
    out: list[Finding] = []
    for order in _orders(graph):
        causes = order_causes(graph, order)
        c = causes.get(AUTHZ)
        if c is None or CAA in causes or DNS in causes:
            continue
        state = c.record if c.record in ("invalid", "expired") else (
            text(dig(order.obj, "status", "state")) or "invalid")
        detail = (f"{c.node.ref.kind}.status.state {state}" if c.path == "status.state"
                  else c.message)
        ev = _ev(c)
        if c.node.ref.kind == "Challenge" and c.path == "status.state":
            reason = text(dig(c.node.obj, "status", "reason"))
            if reason:
                ev.append(field_ev("Challenge", "status.reason", reason))
        out.append(make(AUTHZ, c.node.ref, ev, data={"host": c.host},
                        host=c.host or "the order", state=state, verdict=c.detail,
                        detail=detail, certificate=_certificate_name(graph, order)))
    return out


def _unsupported_fields(cert: dict[str, object]) -> list[str]:
    return [f for f in ("uris", "emailAddresses") if as_list(dig(cert, "spec", f))]


def _acme_issuer(graph: Graph, cert: Node) -> bool:
    if cert.obj is None:
        return False
    _, iss = graph.issuer_for(cert.obj)
    return iss is not None and isinstance(dig(iss, "spec", "acme"), dict)


def _stuck(cert: Node) -> bool:
    return cond_text(cert.obj or {}, "Ready")[0] != "True" or \
        cond_text(cert.obj or {}, "Issuing")[0] == "True"


def _chain_hit(graph: Graph, cert: Node, code: str) -> Cause | None:
    for n in graph.of_kind("Order"):
        if graph.ancestor(n, "Certificate") is cert and current_order(graph, n):
            c = order_causes(graph, n).get(code)
            if c is not None:
                return c
    return None


def acme_unsupported_identifier(graph: Graph, now: datetime) -> list[Finding]:
    """URIs/e-mail addresses (any version), or IP addresses the CA rejects (or any on
    v1.0.x, whose Orders carry DNS names only), on a Certificate of an ACME issuer."""
    out: list[Finding] = []
    found = controller_version(graph.objs)
    old = found is not None and found[0] < Version(1, 1, 0)
    for cert in graph.of_kind("Certificate"):
        obj = cert.obj or {}
        if not _acme_issuer(graph, cert) or not _stuck(cert):
            continue
        fields = _unsupported_fields(obj)
        hit = _chain_hit(graph, cert, IDENT)
        ips = as_list(dig(obj, "spec", "ipAddresses"))
        ip_note = " and, from cert-manager v1.1.0, IP addresses"
        if ips and (hit is not None or old):
            fields.append("ipAddresses")
            if old:
                ip_note = " only (cert-manager v1.0.x puts no IP addresses into the Order)"
        if not fields:
            continue
        ev = [field_ev("Certificate", f"spec.{f}", as_list(dig(obj, "spec", f)))
              for f in fields]
        detail = "the CA refuses identifiers it cannot validate"
        if hit is not None:
            ev.append(field_ev(hit.node.ref.kind, hit.path, hit.message))
            detail = hit.detail
        if old and found is not None:
            ev.append(f"controller {found[0]} ({found[1]})")
        what = " and ".join({"uris": "URI SANs", "emailAddresses": "e-mail addresses",
                             "ipAddresses": "IP addresses"}[f] for f in fields)
        out.append(make(IDENT, cert.ref, ev, data={"fields": fields}, name=cert.ref.name,
                        what=what, fields="spec." + ", spec.".join(fields), detail=detail,
                        ip_note=ip_note))
    return out


def common_name_too_long(graph: Graph, now: datetime) -> list[Finding]:
    """A common name over 64 bytes: in the spec (the webhook normally refuses it, so it got
    past validation) or named by the CA when finalizing."""
    out: list[Finding] = []
    for cert in graph.of_kind("Certificate"):
        obj = cert.obj or {}
        if not _acme_issuer(graph, cert):
            continue
        cn = text(dig(obj, "spec", "commonName"))
        length = len(cn.encode())
        hit = _chain_hit(graph, cert, CN)
        if hit is None and (length <= 64 or not _stuck(cert)):
            continue
        ev: list[str] = []
        if cn:
            ev.append(f"{field_ev('Certificate', 'spec.commonName', cn)} ({length} bytes)")
        detail = "an ACME CA refuses a common name over 64 bytes"
        if hit is not None:
            ev.append(field_ev(hit.node.ref.kind, hit.path, hit.message))
            detail = q(hit.message)
        out.append(make(CN, cert.ref, ev, data={"length": length}, name=cert.ref.name,
                        cn=q(cn) if cn else "(from the CSR)", length=length or "over 64",
                        detail=detail))
    return out
