"""HTTP-01 rules: the self-check's failure modes and the ingress set-up behind them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from kubectl_certdoctor.graph import Graph, Node
from kubectl_certdoctor.objects import (
    Obj,
    as_dict,
    as_list,
    dig,
    name,
    namespace,
    text,
)
from kubectl_certdoctor.objects import (
    annotations as annotations_of,
)
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.util import context_memo, field_ev, network_error

CLASS_ANN = "kubernetes.io/ingress.class"
DEFAULT_CLASS_ANN = "ingressclass.kubernetes.io/is-default-class"
_STATUS = re.compile(r"wrong status code '(\d+)'")
_OUTER_INNER = re.compile(r"GET request '(?P<outer>[^']+)': Get \"(?P<inner>[^\"]+)\"")
_DIAL = re.compile(r"dial tcp (\[[^\]]+\]|[0-9A-Za-z.\-:]+?):(\d+)")


@dataclass(frozen=True)
class SelfCheck:
    """What an HTTP-01 Challenge's status.reason says about the self-check."""

    kind: str  # status | body | redirect | connect | other
    detail: str
    address: str = ""


def classify(reason: str) -> SelfCheck | None:
    if not reason:
        return None
    m = _OUTER_INNER.search(reason)
    if m and m.group("outer").split("?")[0] != m.group("inner").split("?")[0]:
        return SelfCheck("redirect", f"to {m.group('inner')}")
    if re.search(r"stopped after \d+ redirects", reason):
        return SelfCheck("redirect", "redirect loop (stopped after 10 redirects)")
    m2 = _STATUS.search(reason)
    if m2:
        return SelfCheck("status", f"HTTP {m2.group(1)} instead of 200")
    if "did not get expected response" in reason:
        return SelfCheck("body", "HTTP 200 with a body other than the key")
    err = network_error(reason)
    if err:
        d = _DIAL.search(reason)
        addr = d.group(1).strip("[]") if d else ""
        return SelfCheck("connect", err, addr)
    return None


def http01_challenges(graph: Graph) -> list[tuple[Node, str, SelfCheck]]:
    """Failing HTTP-01 Challenges (not valid) with a classified self-check error."""
    out: list[tuple[Node, str, SelfCheck]] = []
    for node in graph.of_kind("Challenge"):
        obj = node.obj or {}
        if text(dig(obj, "spec", "type")).upper() != "HTTP-01":
            continue
        if text(dig(obj, "status", "state")) == "valid":
            continue
        reason = text(dig(obj, "status", "reason"))
        sc = classify(reason)
        if sc is not None:
            out.append((node, reason, sc))
    return out


def _host(obj: Obj) -> str:
    return text(dig(obj, "spec", "dnsName"))


def lb_addresses(graph: Graph) -> dict[str, str]:
    """Every LoadBalancer/Gateway/Ingress address in the cluster → what owns it."""
    return context_memo(graph, "lb_addresses", lambda: _lb_addresses(graph))


def _lb_addresses(graph: Graph) -> dict[str, str]:
    out: dict[str, str] = {}
    for svc in graph.objs.of_kind("Service"):
        if text(dig(svc, "spec", "type")) == "LoadBalancer":
            for ing in as_list(dig(svc, "status", "loadBalancer", "ingress")):
                for k in ("ip", "hostname"):
                    a = text(as_dict(ing).get(k))
                    if a:
                        out.setdefault(a, f"Service {namespace(svc)}/{name(svc)}")
        for a in as_list(dig(svc, "spec", "externalIPs")):
            if text(a):
                out.setdefault(text(a), f"Service {namespace(svc)}/{name(svc)} externalIP")
    for gw in graph.objs.of_kind("Gateway"):
        for a in as_list(dig(gw, "status", "addresses")):
            v = text(as_dict(a).get("value"))
            if v:
                out.setdefault(v, f"Gateway {namespace(gw)}/{name(gw)}")
    for ingr in graph.objs.of_kind("Ingress"):
        for ing in as_list(dig(ingr, "status", "loadBalancer", "ingress")):
            for k in ("ip", "hostname"):
                a = text(as_dict(ing).get(k))
                if a:
                    out.setdefault(a, f"Ingress {namespace(ingr)}/{name(ingr)}")
    return out


def _ev(node: Node, reason: str) -> list[str]:
    return [field_ev("Challenge", "status.reason", reason)]


def status_code(sc: SelfCheck) -> str:
    """The HTTP status of a ``status`` self-check ('' for other kinds)."""
    return sc.detail.split()[1] if sc.kind == "status" and len(sc.detail.split()) > 1 else ""


def self_check_404(graph: Graph, now: datetime) -> list[Finding]:
    """HTTP01_SELF_CHECK_404: a 404 (or a 200 with the wrong body); other status codes are
    HTTP01_SELF_CHECK_WRONG_STATUS."""
    out: list[Finding] = []
    for node, reason, sc in http01_challenges(graph):
        if sc.kind == "body" or (sc.kind == "status" and status_code(sc) == "404"):
            host = _host(node.obj or {})
            out.append(make("HTTP01_SELF_CHECK_404", node.ref, _ev(node, reason),
                            data={"host": host}, host=host, got=sc.detail))
    return out


#: what a non-404 answer to the self-check means, and what to do about it
_STATUS_MEANING: dict[str, tuple[str, str]] = {
    "403": ("Something in front of the solver refuses the path: an ingress allow-list / "
            "whitelist-source-range, a WAF, basic auth or an authentication annotation on the "
            "site Ingress that also covers /.well-known/acme-challenge/.",
            "Exempt /.well-known/acme-challenge/ from the access rule (allow-list, auth, WAF) "
            "for {host}."),
    "401": ("Authentication in front of the site (auth-url/basic auth on the Ingress or the "
            "proxy) also covers /.well-known/acme-challenge/.",
            "Exempt /.well-known/acme-challenge/ from authentication for {host}."),
    "5xx": ("The request reached the ingress controller but the backend failed: the solver "
            "Service has no ready endpoints (solver pod not running, NetworkPolicy blocking "
            "the controller → solver pod on port 8089), or a proxy in front has no healthy "
            "upstream.",
            "Check the cm-acme-http-solver pod and Service for {host} (Running, endpoints), "
            "allow ingress traffic to it on port 8089 in NetworkPolicies."),
    "other": ("The answer came from something that does not serve the token as "
              "cert-manager's solver would.",
              "Find which server answers for {host} (http01 probe) and route "
              "/.well-known/acme-challenge/ to the solver."),
}


def self_check_wrong_status(graph: Graph, now: datetime) -> list[Finding]:
    """HTTP01_SELF_CHECK_WRONG_STATUS: the self-check got a status other than 200 and 404
    ("wrong status code '%d', expected '200'", pkg/issuer/acme/http/http.go v1.0.0 …
    v1.21.1)."""
    out: list[Finding] = []
    for node, reason, sc in http01_challenges(graph):
        code = status_code(sc)
        if sc.kind != "status" or code in ("", "404"):
            continue
        key = code if code in _STATUS_MEANING else ("5xx" if code.startswith("5") else "other")
        meaning, action = _STATUS_MEANING[key]
        host = _host(node.obj or {})
        out.append(make("HTTP01_SELF_CHECK_WRONG_STATUS", node.ref, _ev(node, reason),
                        data={"host": host, "status": code}, host=host, status=code,
                        meaning=meaning, action=action.format(host=host)))
    return out


def self_check_redirect(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    for node, reason, sc in http01_challenges(graph):
        if sc.kind == "redirect":
            host = _host(node.obj or {})
            out.append(make("HTTP01_SELF_CHECK_REDIRECT", node.ref, _ev(node, reason),
                            data={"host": host}, host=host, detail=sc.detail))
    return out


def self_check_timeout(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    lbs: dict[str, str] | None = None  # every Service: read only for a connect failure
    for node, reason, sc in http01_challenges(graph):
        if sc.kind != "connect":
            continue
        if lbs is None:
            lbs = lb_addresses(graph)
        host = _host(node.obj or {})
        ev = _ev(node, reason)
        if sc.detail.lower() == "no such host":
            address, lb_note = host, ""
            hairpin = ("The name does not resolve from inside the cluster: the cluster DNS "
                       "(or the resolvers cert-manager uses) has no record for it.")
        elif sc.address and sc.address in lbs:
            address, lb_note = sc.address, f", which is {lbs[sc.address]}'s LoadBalancer address"
            hairpin = ("The load balancer does not answer from inside the cluster: check the "
                       "ingress controller pods, the Service's endpoints and "
                       "externalTrafficPolicy.")
            ev.append(f"{sc.address} is the address of {lbs[sc.address]}")
        elif sc.address:
            address = sc.address
            lb_note = ", which is not one of the cluster's LoadBalancer addresses"
            hairpin = ("The name resolves to an address outside the cluster (typically a "
                       "router's public IP with port forwarding). Connections from inside need "
                       "NAT loopback (hairpin) on that router; without it the self-check times "
                       "out although the URL works from outside.")
            known = ", ".join(sorted(lbs)) or "none"
            ev.append(f"{sc.address} is not a LoadBalancer address (cluster has: {known})")
        else:
            address, lb_note = host, ""
            hairpin = ("Nothing answered from inside the cluster; if the name points at a "
                       "router with port forwarding, NAT loopback (hairpin) is likely missing.")
        out.append(make("HTTP01_SELF_CHECK_TIMEOUT", node.ref, ev,
                        data={"host": host, "address": sc.address,
                              "load_balancer": sc.address in lbs},
                        host=host, error=sc.detail, address=address, lb_note=lb_note,
                        hairpin=hairpin))
    return out


def ingress_class_of(ing: Obj, default_class: str) -> str:
    return (text(dig(ing, "spec", "ingressClassName"))
            or annotations_of(ing).get(CLASS_ANN, "") or default_class)


def solver_class(ch: Obj) -> tuple[str, str] | None:
    """(class, field it came from) of the Challenge's HTTP-01 ingress solver;
    None when the solver edits an existing Ingress or is not an ingress solver."""
    ing = as_dict(dig(ch, "spec", "solver", "http01", "ingress"))
    if not ing or text(ing.get("name")):
        return None
    if text(ing.get("ingressClassName")):
        return text(ing["ingressClassName"]), "solver.http01.ingress.ingressClassName"
    if text(ing.get("class")):
        return text(ing["class"]), "solver.http01.ingress.class"
    ann = as_dict(dig(ing, "ingressTemplate", "metadata", "annotations")).get(CLASS_ANN)
    if text(ann):
        return text(ann), f"solver.http01.ingress.ingressTemplate annotation {CLASS_ANN}"
    return "", "solver.http01.ingress (no class)"


def wrong_ingress_class(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    classes = {name(c): c for c in graph.objs.of_kind("IngressClass")}
    default = next((n for n, c in classes.items()
                    if annotations_of(c).get(DEFAULT_CLASS_ANN) == "true"), "")
    for node in graph.of_kind("Challenge"):
        obj = node.obj or {}
        if text(dig(obj, "spec", "type")).upper() != "HTTP-01":
            continue
        if text(dig(obj, "status", "state")) == "valid":
            continue
        sc = solver_class(obj)
        if sc is None:
            continue
        cls, where = sc
        effective = cls or default
        host = _host(obj)
        site = graph.ingresses_for_host(host)
        site_classes = sorted({ingress_class_of(i, default) for i in site} - {""})
        why = ""
        if classes and effective and effective not in classes:
            why = f"no IngressClass named {effective!r} exists (have: {', '.join(sorted(classes))})"
        elif classes and not effective:
            why = "it sets no class and the cluster has no default IngressClass"
        elif site_classes and effective not in site_classes:
            why = (f"the site Ingress for {host} uses class {', '.join(site_classes)}")
        if not why:
            continue
        ev = [f"Challenge.spec.{where}: {cls!r}" if cls else f"Challenge.spec.{where}"]
        if classes:
            ev.append(f"IngressClasses: {', '.join(sorted(classes))}"
                      + (f" (default {default})" if default else ""))
        for i in site:
            ev.append(f"Ingress {namespace(i)}/{name(i)} serves {host} with class "
                      f"{ingress_class_of(i, default) or '(none)'!r}")
        out.append(make("HTTP01_WRONG_INGRESS_CLASS", node.ref, ev,
                        data={"host": host, "solver_class": cls,
                              "site_classes": site_classes},
                        solver_class=cls or "(default)", why=why))
    return out


def _gateway_serves(gw: Obj, host: str) -> bool:
    for lst in as_list(dig(gw, "spec", "listeners")):
        lst = as_dict(lst)
        if text(lst.get("protocol")).upper() not in ("HTTP", ""):
            continue
        hn = text(lst.get("hostname")).lower()
        if not hn or hn == host or (hn.startswith("*.") and host.endswith(hn[1:])):
            return True
    return False


def ingress_backends(graph: Graph, host: str) -> tuple[list[str], list[str]]:
    """(exposed entry points, backends serving ``host``) as human labels."""
    classes, default, entry = context_memo(graph, "ingress_entry", lambda: _entry(graph))
    serving: dict[str, str] = {}
    for ing in graph.ingresses_for_host(host):
        cls = ingress_class_of(ing, default)
        ctl = classes.get(cls, cls) or "(no class)"
        serving.setdefault(ctl, f"Ingress {namespace(ing)}/{name(ing)} (class {cls or '-'})")
    for gw in graph.objs.of_kind("Gateway"):
        if _gateway_serves(gw, host):
            serving.setdefault(f"gateway:{namespace(gw)}/{name(gw)}",
                               f"Gateway {namespace(gw)}/{name(gw)}")
    return list(entry), (sorted(serving.values()) if len(serving) >= 2 else [])


def _entry(graph: Graph) -> tuple[dict[str, str], str, list[str]]:
    """(IngressClass → controller, the default class, the exposed entry points when
    there are two controllers or more): the same for every host."""
    classes = {name(c): text(dig(c, "spec", "controller")) or name(c)
               for c in graph.objs.of_kind("IngressClass")}
    default = next((name(c) for c in graph.objs.of_kind("IngressClass")
                    if annotations_of(c).get(DEFAULT_CLASS_ANN) == "true"), "")
    exposed: dict[str, str] = {}
    for svc in graph.objs.of_kind("Service"):
        if text(dig(svc, "spec", "type")) != "LoadBalancer":
            continue
        ports = {p.get("port") for p in as_list(dig(svc, "spec", "ports")) if isinstance(p, dict)}
        if not ports & {80, 443, "80", "443"}:
            continue
        for ing in as_list(dig(svc, "status", "loadBalancer", "ingress")):
            a = text(as_dict(ing).get("ip")) or text(as_dict(ing).get("hostname"))
            if a:
                exposed.setdefault(a, f"Service {namespace(svc)}/{name(svc)} ({a})")
    gateways = graph.objs.of_kind("Gateway")
    for gw in gateways:
        for a in as_list(dig(gw, "status", "addresses")):
            v = text(as_dict(a).get("value"))
            if v:
                exposed.setdefault(v, f"Gateway {namespace(gw)}/{name(gw)} ({v})")
    controllers = set(classes.values()) | {
        f"gateway:{text(dig(g, 'spec', 'gatewayClassName'))}" for g in gateways}
    entry = sorted(exposed.values()) if len(exposed) >= 2 and len(controllers) >= 2 else []
    return classes, default, entry


def multiple_ingress_backends(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    for node, reason, sc in http01_challenges(graph):
        if sc.kind not in ("status", "body"):
            continue
        host = _host(node.obj or {})
        entry, serving = ingress_backends(graph, host)
        backends = entry or serving
        if not backends:
            continue
        ev = [field_ev("Challenge", "status.reason", reason)]
        if entry:
            ev.append("exposed: " + "; ".join(entry))
        if serving:
            ev.append(f"serving {host}: " + "; ".join(serving))
        out.append(make("HTTP01_MULTIPLE_INGRESS_BACKENDS", node.ref, ev,
                        data={"host": host, "backends": backends},
                        count=len(backends), host=host, backends="; ".join(backends)))
    return out
