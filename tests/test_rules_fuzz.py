"""Malformed objects (missing status, wrong types, unknown versions, None everywhere) fed to
build_graph and every rule: nothing may raise."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.test_rules as samples
from kubectl_certdoctor.graph import build_graph
from kubectl_certdoctor.objects import ObjectSet
from kubectl_certdoctor.rules import RULES, run_rules
from kubectl_certdoctor.status import Status
from tests.support.diagnosis import NOW, certificate, challenge, issuer, order, request, ts

KINDS = ["Issuer", "ClusterIssuer", "Certificate", "CertificateRequest", "Order", "Challenge",
         "Event", "Ingress", "IngressClass", "Service", "Pod", "Secret", "Deployment", "Gateway"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**12), st.floats(),
                    st.text(max_size=12), st.sampled_from(
                        ["True", "False", "Failed", "Pending", "valid", "invalid", "HTTP-01",
                         "DNS-01", "Issuer", "ClusterIssuer", "2026-11-23T07:00:00Z", "v1.15.0",
                         "not-a-time", "LoadBalancer", ""]))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=12)


def templates() -> list[dict[str, Any]]:
    """Valid objects of every shape the rules read, as mutation seeds."""
    return [
        issuer("iss"), samples.acme_issuer(), certificate("c", status={
            "failedIssuanceAttempts": 2, "lastFailureTime": ts(-timedelta(hours=1)),
            "notAfter": ts(timedelta(days=1)), "renewalTime": ts()},
            spec={"renewBefore": "1h"}),
        request("c-1", "c"), order("o", "c-1"), challenge("ch", "o", reason=samples.TIMEOUT),
        samples.deployment(env={"HTTPS_PROXY": "p:1", "NO_PROXY": "x"}),
        samples.ingress_class("nginx", "k8s.io/ingress-nginx", default=True),
        samples.site_ingress("s", "a.test", "nginx"), samples.lb_service("l", "l", "1.2.3.4"),
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "c-tls",
                                                            "namespace": "default"},
         "data": {"tls.crt": "bm90IGEgY2VydA=="}},
        {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e", "namespace": "default"},
         "involvedObject": {"kind": "Challenge", "name": "ch", "namespace": "default"}},
    ]


def paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += paths(v, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> list[dict[str, Any]]:
    objs = copy.deepcopy(templates())
    for _ in range(draw(st.integers(1, 12))):
        obj = draw(st.sampled_from(objs))
        ps = [p for p in paths(obj) if p and p[0] not in ("kind",)]
        if not ps:
            continue
        path = draw(st.sampled_from(ps))
        parent = obj
        for p in path[:-1]:
            parent = parent[p]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return objs


def check_all(objs: list[Any]) -> None:
    s = ObjectSet()
    for o in objs:
        if isinstance(o, dict):
            s.add(o)
    g = build_graph(s, NOW)
    for n in g.nodes.values():
        assert isinstance(n.status, Status) and isinstance(n.reason, str)
        g.events_for(n.ref)
        g.related(n.ref)
    for rule in RULES:
        for f in rule(g, NOW):
            f.to_json()
    run_rules(g, NOW)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_objects_never_raise(objs: list[dict[str, Any]]) -> None:
    check_all(objs)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries(
    {"kind": st.sampled_from(KINDS), "metadata": st.one_of(
        json_values, st.fixed_dictionaries({"name": st.text(min_size=1, max_size=5),
                                            "namespace": st.one_of(st.none(), st.just("d"))}))},
    optional={"apiVersion": st.sampled_from(["cert-manager.io/v9", "x/v1", "", None]),
              "spec": json_values, "status": json_values, "data": json_values,
              "involvedObject": json_values}), max_size=12))
def test_random_objects_never_raise(objs: list[dict[str, Any]]) -> None:
    check_all(objs)


def test_none_everywhere() -> None:
    objs = []
    for t in templates():
        objs.append({k: None for k in t} | {"kind": t["kind"],
                                            "metadata": {"name": "x", "namespace": None}})
    check_all(objs)


@settings(max_examples=300, deadline=None)
@given(attempts=json_values, last=json_values, not_after=json_values, renewal=json_values,
       spec=st.dictionaries(st.sampled_from(["duration", "renewBefore", "renewBeforePercentage",
                                             "secretName", "dnsNames", "issuerRef"]),
                            st.one_of(json_values, st.sampled_from(
                                ["99999999999999h", "1h", "-5m", "1.5h30m", "0"])), max_size=4),
       args=st.lists(st.one_of(st.text(max_size=30), st.sampled_from([
           "--certificate-request-minimum-backoff-duration=0",
           "--certificate-request-maximum-backoff-duration=999999999999h",
           "--certificate-request-maximum-backoff-duration=2000000000h",
           "--certificate-request-minimum-backoff-duration=1000000000h",
           "--certificate-request-minimum-backoff-duration", "1ns"])), max_size=4))
def test_certificate_fields_and_controller_args(attempts: Any, last: Any, not_after: Any,
                                                renewal: Any, spec: dict[str, Any],
                                                args: list[Any]) -> None:
    c = certificate("c", status={"failedIssuanceAttempts": attempts, "lastFailureTime": last,
                                 "notAfter": not_after, "renewalTime": renewal})
    c["spec"].update(spec)
    dep = samples.deployment(args=args or ["--v=2"])
    check_all([issuer("iss"), c, request("c-1", "c"), dep])
    c["status"]["failedIssuanceAttempts"] = 10**9
    c["status"]["lastFailureTime"] = ts()
    check_all([issuer("iss"), c, dep])
