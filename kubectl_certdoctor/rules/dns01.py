"""DNS-01 rule: the TXT record is presented but cert-manager's own check cannot see it."""

from __future__ import annotations

from datetime import datetime, timedelta

from kubectl_certdoctor.graph import Graph
from kubectl_certdoctor.objects import dig, text
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.util import age, field_ev

#: normal propagation takes a minute or two; only report what is stuck longer
GRACE = timedelta(minutes=5)
_SIGNS = ("not yet propagated", "soa record", "challenge propagation", "nxdomain", "servfail")


def dns01_propagation_pending(graph: Graph, now: datetime) -> list[Finding]:
    """Pending DNS-01 Challenges past the grace period: either the record is presented but
    not visible to cert-manager's check, or the solver could not create it at all."""
    out: list[Finding] = []
    for node in graph.of_kind("Challenge"):
        obj = node.obj or {}
        if text(dig(obj, "spec", "type")).upper() != "DNS-01":
            continue
        if text(dig(obj, "status", "state")) not in ("pending", ""):
            continue
        reason = text(dig(obj, "status", "reason"))
        presented = dig(obj, "status", "presented") is True
        propagation = any(s in reason.lower() for s in _SIGNS)
        if not reason or (presented and not propagation):
            continue
        a = age(obj, now)
        if a is not None and a < GRACE:
            continue
        host = text(dig(obj, "spec", "dnsName"))
        fqdn = f"_acme-challenge.{host.removeprefix('*.')}"
        if presented or propagation:
            detail = (f"cert-manager presented the TXT record {fqdn} but its own check does not "
                      "see it yet. The record may not have propagated, or cert-manager asks "
                      "resolvers with a different view (split-horizon DNS, stale caches, wrong "
                      "authoritative servers).")
        else:
            detail = (f"The DNS-01 solver could not create the TXT record {fqdn}: the DNS "
                      "provider refused the change (credentials, TSIG key, zone or permissions), "
                      "so there is nothing to propagate and the Challenge stays pending.")
        ev = [field_ev("Challenge", "status.reason", reason),
              field_ev("Challenge", "status.presented", dig(obj, "status", "presented"))]
        if a is not None:
            ev.append(f"Challenge pending for {int(a.total_seconds() // 60)} minutes")
        out.append(make("DNS01_PROPAGATION_PENDING", node.ref, ev,
                        data={"host": host, "fqdn": fqdn, "presented": presented},
                        host=host, reason=reason, detail=detail))
    return out
