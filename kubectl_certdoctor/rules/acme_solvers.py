"""ACME solver rules: cert-manager's solver selection replayed, wildcards without DNS-01,
solver Ingresses refused by admission, solver HTTPRoutes a Gateway does not accept.

Solver selection (pkg/controller/acmeorders/util.go ``partialChallengeSpecForAuthorization``
at v1.0.0 … v1.18.x, moved unchanged to pkg/util/solverpicker/solverpicker.go ``Pick`` at
v1.19.0 … v1.21.1): for each authorization the name to find is the identifier, "*."-prefixed
for a wildcard; a solver is usable only if the CA offers its challenge type (CAs offer only
dns-01 for wildcards, RFC 8555 §7.1.3); a solver without selector matches everything but loses
to any matching selector; in a selector, matchLabels (against the Order's labels, copied from
the Certificate), dnsNames (exact) and dnsZones (suffix by whole labels) are ANDed, an empty
one matches all; among matches dnsNames beat dnsZones, then more zone labels, then more
labels, then the first listed. No match: the Order gets the Warning Event "Failed to determine
a valid solver configuration for the set of domains on the Order: no configured challenge
solvers can be used for this challenge" (pkg/controller/acmeorders/sync.go, reason Solver).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from kubectl_certdoctor.graph import Graph, Node
from kubectl_certdoctor.objects import Obj, as_dict, as_list, dig, labels, owner_refs, text
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.solver_pods import webhook_denials_only_pod
from kubectl_certdoctor.rules.util import cond_text, field_ev, is_current_request, q
from kubectl_certdoctor.versions import Version, controller_version

NO_SOLVER_EVENT = "failed to determine a valid solver configuration"
NO_SOLVER_MSG = "no configured challenge solvers can be used"
SOLVER_LABEL = "acme.cert-manager.io/http01-solver"
#: the first release whose solver Ingress uses pathType Exact; the gate to turn it off
EXACT_SINCE = Version(1, 18, 0)
EXACT_GATE_SINCE = Version(1, 18, 1)
_WEBHOOK = re.compile(r'admission webhook \\?"([^"\\]+)\\?" denied the request', re.I)


def _labels_of(name: str) -> list[str]:
    return [p for p in name.lower().rstrip(".").split(".") if p]


def compare_domain_name(a: str, b: str) -> int:
    """miekg/dns CompareDomainName: labels in common counted from the right."""
    la, lb = _labels_of(a), _labels_of(b)
    n = 0
    while n < min(len(la), len(lb)) and la[-1 - n] == lb[-1 - n]:
        n += 1
    return n


@dataclass(frozen=True)
class Match:
    ok: bool
    labels: int
    names: int
    zones: int
    why: str


def selector_match(sel: Obj, order_labels: dict[str, str], name: str) -> Match:
    """The three selectors of one solver (selectors/{labels,dns_names,dns_zones}.go)."""
    why: list[str] = []
    want = {k: text(v) for k, v in as_dict(sel.get("matchLabels")).items()}
    nl = 0
    if want:
        missing = {k: v for k, v in want.items() if order_labels.get(k) != v}
        if missing:
            why.append(f"matchLabels {q(missing)} not on the Certificate/Order")
        else:
            nl = len(want)
    names = [text(n) for n in as_list(sel.get("dnsNames"))]
    nn = 0
    if names:
        if name in names:
            nn = 1
        else:
            why.append(f"dnsNames {q(names)} do not list {name}")
    zones = [text(z) for z in as_list(sel.get("dnsZones"))]
    nz = 0
    if zones:
        for z in zones:
            c = compare_domain_name(z, name)
            if c == len(_labels_of(z)) and c > nz:
                nz = c
        if nz == 0:
            why.append(f"dnsZones {q(zones)} do not contain {name}")
    return Match(not why, nl, nn, nz, "; ".join(why))


def _types(solver: Obj) -> list[str]:
    return [t for t, k in (("http-01", "http01"), ("dns-01", "dns01"))
            if isinstance(solver.get(k), dict)]


def pick(solvers: list[Obj], name: str, offered: set[str],
         order_labels: dict[str, str]) -> tuple[int | None, list[str]]:
    """The index of the solver cert-manager picks for ``name`` (None: none) and, per solver,
    why it was not usable."""
    sel_i: int | None = None
    sel_m = Match(False, 0, 0, 0, "")
    why: list[str] = []
    for i, s in enumerate(solvers):
        label = f"solvers[{i}] ({'/'.join(t.replace('-', '') for t in _types(s)) or 'none'})"
        if not set(_types(s)) & offered:
            why.append(f"{label}: {' and '.join(sorted(offered))} only is offered for {name}")
            continue
        sel = s.get("selector")
        if not isinstance(sel, dict):
            if sel_i is None:
                sel_i, sel_m = i, Match(True, 0, 0, 0, "")
            continue
        m = selector_match(sel, order_labels, name)
        if not m.ok:
            why.append(f"{label}: {m.why}")
            continue
        if sel_i is None or _better(m, sel_m):
            sel_i, sel_m = i, m
    return sel_i, why


def _better(m: Match, cur: Match) -> bool:
    if (m.names > 0) != (cur.names > 0):
        return m.names > 0
    if m.names > 0:
        if m.zones != cur.zones:
            return m.zones > cur.zones
        return m.labels > cur.labels
    if (m.zones > 0) != (cur.zones > 0):
        return m.zones > 0
    if m.zones > 0 and m.zones != cur.zones:
        return m.zones > cur.zones
    return m.labels > cur.labels


def _acme_spec(graph: Graph, obj: Obj) -> tuple[str, Obj] | None:
    ir, iss = graph.issuer_for(obj)
    acme = dig(iss, "spec", "acme") if iss is not None else None
    if not isinstance(acme, dict):
        return None
    return f"{ir.ref.kind} {ir.ref.name}", acme


def _current_order(graph: Graph, cert: Node) -> Node | None:
    best: Node | None = None
    for cr in cert.children:
        if cr.ref.kind != "CertificateRequest" or not is_current_request(graph, cr):
            continue
        for o in cr.children:
            if o.ref.kind == "Order":
                best = o
    return best


def _solver_event(graph: Graph, order: Node | None) -> str:
    if order is None:
        return ""
    for e in graph.events_for(order.ref):
        msg = text(e.get("message"))
        if NO_SOLVER_EVENT in msg.lower() or NO_SOLVER_MSG in msg.lower():
            return msg
    return ""


def _stuck(cert: Obj) -> bool:
    return cond_text(cert, "Ready")[0] != "True" or cond_text(cert, "Issuing")[0] == "True"


def solver_gaps(graph: Graph, cert: Node) -> tuple[list[tuple[str, str]], list[tuple[str, str]],
                                                    str, Node | None, str] | None:
    """(names without solver + why, wildcards with only HTTP-01 + why, issuer label, current
    Order, cert-manager's Event) for a stuck ACME Certificate; None when not applicable."""
    obj = cert.obj or {}
    found = _acme_spec(graph, obj)
    if found is None:
        return None
    issuer, acme = found
    order = _current_order(graph, cert)
    event = _solver_event(graph, order)
    if not _stuck(obj) and not event:
        return None
    solvers = [s for s in as_list(acme.get("solvers")) if isinstance(s, dict)]
    src = order.obj if order is not None and order.obj is not None else obj
    names = [text(n) for n in as_list(dig(src, "spec", "dnsNames")) if text(n)]
    lab = labels(src) if order is not None else labels(obj)
    none: list[tuple[str, str]] = []
    wild: list[tuple[str, str]] = []
    for n in names:
        wildcard = n.startswith("*.")
        i, why = pick(solvers, n, {"dns-01"} if wildcard else {"http-01", "dns-01"}, lab)
        if i is not None:
            continue
        if not solvers:
            none.append((n, f"{issuer} has no solvers"))
            continue
        if wildcard:
            j, _ = pick(solvers, n, {"http-01", "dns-01"}, lab)
            if j is not None:
                wild.append((n, f"solvers[{j}] (http01) matches {n}, but HTTP-01 cannot "
                                "validate a wildcard"))
                continue
        none.append((n, "; ".join(why)))
    return none, wild, issuer, order, event


def acme_no_matching_solver(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    for cert in graph.of_kind("Certificate"):
        gaps = solver_gaps(graph, cert)
        if gaps is None:
            continue
        none, wild, issuer, order, event = gaps
        if not none and not (event and not wild):
            continue
        target = order if order is not None else cert
        ev: list[str] = []
        if event:
            ev.append(f"Order {order.ref.name if order else ''} Event Solver: {q(event)}")
        for n, why in none:
            ev.append(f"{n}: {why}")
        names = ", ".join(n for n, _ in none) or "the Order's names"
        why = none[0][1] if none else "cert-manager reported it in an Event"
        out.append(make("ACME_NO_MATCHING_SOLVER", target.ref, ev,
                        data={"names": [n for n, _ in none]},
                        issuer=issuer, names=names, why=why))
    return out


def acme_wildcard_needs_dns01(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    for cert in graph.of_kind("Certificate"):
        gaps = solver_gaps(graph, cert)
        if gaps is None:
            continue
        _, wild, issuer, order, event = gaps
        target = order if order is not None else cert
        for n, why in wild:
            ev = [field_ev("Certificate", "spec.dnsNames", n), why]
            if event:
                ev.append(f"Order Event Solver: {q(event)}")
            out.append(make("ACME_WILDCARD_NEEDS_DNS01", target.ref, ev, data={"name": n},
                            name=n, issuer=issuer, why=why, zone=n[2:]))
    return out


def _present_errors(graph: Graph, ch: Node) -> list[tuple[str, str]]:
    obj = ch.obj or {}
    out = [("Challenge.status.reason", text(dig(obj, "status", "reason")))]
    for e in graph.events_for(ch.ref):
        if text(e.get("type")) == "Warning":
            out.append((f"Challenge Event {text(e.get('reason'))}", text(e.get("message"))))
    return [(p, m) for p, m in out if m]


def http01_solver_ingress_rejected(graph: Graph, now: datetime) -> list[Finding]:
    """Admission refused the solver Ingress (e.g. ingress-nginx and pathType Exact, which
    cert-manager uses from v1.18.0; the gate ACMEHTTP01IngressPathTypeExact exists from
    v1.18.1)."""
    out: list[Finding] = []
    found = controller_version(graph.objs)
    for ch in graph.of_kind("Challenge"):
        obj = ch.obj or {}
        if text(dig(obj, "spec", "type")).upper() != "HTTP-01" or \
                text(dig(obj, "status", "state")) == "valid":
            continue
        hit = next(((p, m) for p, m in _present_errors(graph, ch)
                    if ("denied the request" in m.lower() and "admission webhook" in m.lower()
                        and not webhook_denials_only_pod(m))  # the Pod: solver_pods.py
                    or "pathtype exact" in m.lower()), None)
        if hit is None:
            continue
        path, msg = hit
        w = _WEBHOOK.search(msg)
        who = f"admission webhook {w.group(1)!r}" if w else "an admission webhook"
        exact = "pathtype exact" in msg.lower()
        host = text(dig(obj, "spec", "dnsName"))
        ev = [f"{path}: {q(msg)}"]
        v = found[0] if found else None
        if found:
            ev.append(f"controller {found[0]} ({found[1]})")
        if exact:
            why = ("cert-manager v1.18.0 and later give the solver Ingress pathType Exact, and "
                   "ingress-nginx's strict path validation rejects the token path with it.")
            if v is not None and v < EXACT_SINCE:
                why = (f"cert-manager {v} still creates pathType ImplementationSpecific; the "
                       "Exact path in this message was written by a newer controller.")
                action = ("Make sure only one cert-manager (this version) runs, then retry the "
                          "challenge.")
            elif v is not None and v < EXACT_GATE_SINCE:
                action = (f"cert-manager {v} has no switch for this: upgrade to v1.18.1 or "
                          "later and set the feature gate ACMEHTTP01IngressPathTypeExact=false "
                          "(Helm config.featureGates), or disable ingress-nginx's "
                          "strict-validate-path-type; then retry the challenge.")
            else:
                action = ("Set --feature-gates=ACMEHTTP01IngressPathTypeExact=false on the "
                          "cert-manager controller (Helm: config.featureGates."
                          "ACMEHTTP01IngressPathTypeExact: false), or set ingress-nginx "
                          "strict-validate-path-type to false; then retry the challenge.")
                if v is None:
                    ev.append("controller version unknown: judged as the newest release "
                              "(v1.18.1+ has the ACMEHTTP01IngressPathTypeExact gate)")
        else:
            why = ("Without the Ingress nothing routes /.well-known/acme-challenge/ for "
                   f"{host} to the solver, so the Challenge cannot be presented.")
            action = (f"Change what {who} objects to in the solver Ingress (the issuer's "
                      "solver http01.ingress ingressTemplate annotations/class, or a "
                      f"conflicting Ingress for {host} and the same path), or exempt "
                      "cert-manager's solver Ingresses from that policy; then retry the "
                      "challenge.")
        out.append(make("HTTP01_SOLVER_INGRESS_REJECTED", ch.ref, ev,
                        data={"host": host, "path_type_exact": exact},
                        host=host, who=who, detail=q(msg.split("denied the request: ", 1)[-1]),
                        why=why, action=action))
    return out


def _owned_by(route: Obj, ch: Node) -> bool:
    uid = text(dig(ch.obj, "metadata", "uid"))
    for o in owner_refs(route):
        if text(o.get("kind")) != "Challenge":
            continue
        if (uid and text(o.get("uid")) == uid) or text(o.get("name")) == ch.ref.name:
            return True
    return False


def http01_gateway_route_not_accepted(graph: Graph, now: datetime) -> list[Finding]:
    """The solver HTTPRoute (v1.15+) has a parent that reports Accepted or ResolvedRefs
    False."""
    out: list[Finding] = []
    routes = [r for r in graph.objs.of_kind("HTTPRoute")
              if isinstance(r, dict) and labels(r).get(SOLVER_LABEL) == "true"]
    if not routes:
        return out
    for ch in graph.of_kind("Challenge"):
        obj = ch.obj or {}
        if text(dig(obj, "status", "state")) == "valid":
            continue
        for r in routes:
            if text(dig(r, "metadata", "namespace")) != ch.ref.namespace or \
                    not _owned_by(r, ch):
                continue
            bad = _bad_parent(r)
            if bad is None:
                continue
            parent, ctype, reason, message = bad
            rname = text(dig(r, "metadata", "name"))
            ev = [f"HTTPRoute {ch.ref.namespace}/{rname} status.parents[{parent}]."
                  f"conditions[{ctype}]: False, reason {reason}, message {q(message)}"]
            out.append(make("HTTP01_GATEWAY_ROUTE_NOT_ACCEPTED", ch.ref, ev,
                            data={"route": rname, "condition": ctype},
                            route=rname, condition=ctype, parent=f"parent {parent}",
                            reason=reason or "no reason", message=message or "(no message)",
                            host=text(dig(obj, "spec", "dnsName")),
                            namespace=ch.ref.namespace))
            break
    return out


def _bad_parent(route: Obj) -> tuple[str, str, str, str] | None:
    for p in as_list(dig(route, "status", "parents")):
        p = as_dict(p)
        pr = as_dict(p.get("parentRef"))
        pname = "/".join(x for x in (text(pr.get("namespace")), text(pr.get("name"))) if x)
        for c in as_list(p.get("conditions")):
            c = as_dict(c)
            if text(c.get("type")) in ("Accepted", "ResolvedRefs") and \
                    text(c.get("status")) == "False":
                return (pname or "?", text(c.get("type")), text(c.get("reason")),
                        text(c.get("message")))
    return None
