"""DNS-01 rule: the TXT record is presented but cert-manager's own check cannot see it.

Only a presented record can be "pending propagation". cert-manager's Challenge controller
(pkg/controller/acmechallenges/sync.go, v1.0.4 … v1.21.1; the wording moved to readiness.go
in v1.21) sets ``status.presented`` true once the solver's Present succeeded, then runs
the solver's Check and, while it fails, writes "Waiting for DNS-01 challenge propagation:
<err>" to ``status.reason``. The DNS solver's Check (pkg/issuer/acme/dns/dns.go) fails with
"DNS record for %q not yet propagated", or with the util/wait.go errors of the SOA/NS walk
("Could not find the SOA record in the DNS tree …" from v1.4.0, "Could not find the start
of authority" before; "NS %s returned %s for %s"; "When querying the SOA record … rcode was
expected to be 'NOERROR' or 'NXDOMAIN'"). A solver that could not create the record leaves
``presented`` false and its error in ``status.reason``: that is a provider failure, judged
by rules/dns01_provider.py, never propagation.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from kubectl_certdoctor.graph import Graph
from kubectl_certdoctor.objects import dig, text
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.util import age, field_ev

#: normal propagation takes a minute or two; only report what is stuck longer
GRACE = timedelta(minutes=5)
#: the prefix readiness/sync.go writes while the self-check fails
WAITING = "waiting for dns-01 challenge propagation"
#: what the DNS solver's Check says (dns.go, util/wait.go), for reasons without the prefix
_SIGNS = ("not yet propagated", "could not find the soa record", "start of authority",
          "could not determine the zone", "could not determine authoritative nameservers",
          "rcode was expected to be")


def dns01_propagation_pending(graph: Graph, now: datetime) -> list[Finding]:
    """Pending DNS-01 Challenges past the grace period whose record cert-manager presented
    (status.presented true) but whose self-check still fails."""
    out: list[Finding] = []
    for node in graph.of_kind("Challenge"):
        obj = node.obj or {}
        if text(dig(obj, "spec", "type")).upper() != "DNS-01":
            continue
        if text(dig(obj, "status", "state")) not in ("pending", ""):
            continue
        if dig(obj, "status", "presented") is not True:
            continue  # never presented: the provider refused it (dns01_provider.py)
        reason = text(dig(obj, "status", "reason"))
        low = reason.lower()
        if not (low.startswith(WAITING) or any(s in low for s in _SIGNS)):
            continue
        a = age(obj, now)
        if a is not None and a < GRACE:
            continue
        host = text(dig(obj, "spec", "dnsName"))
        fqdn = f"_acme-challenge.{host.removeprefix('*.')}"
        detail = (f"cert-manager presented the TXT record {fqdn} but its own check does not "
                  "see it yet. The record may not have propagated, or cert-manager asks "
                  "resolvers with a different view (split-horizon DNS, stale caches, wrong "
                  "authoritative servers).")
        ev = [field_ev("Challenge", "status.reason", reason),
              field_ev("Challenge", "status.presented", True)]
        if a is not None:
            ev.append(f"Challenge pending for {int(a.total_seconds() // 60)} minutes")
        out.append(make("DNS01_PROPAGATION_PENDING", node.ref, ev,
                        data={"host": host, "fqdn": fqdn, "presented": True},
                        host=host, reason=reason, detail=detail))
    return out
