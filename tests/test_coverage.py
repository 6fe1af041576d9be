"""What cannot be seen is said: coverage gaps from watch states, the header's short form,
the watch table (cluster-wide context kinds, narrow selectors), and ``check``'s output."""

from __future__ import annotations

import json

from kubectl_certdoctor.cluster.coverage import coverage, render_text, short_form
from kubectl_certdoctor.cluster.store import KindState
from kubectl_certdoctor.kinds import (
    ALL_KINDS,
    BY_NAME,
    BY_WATCH,
    CLUSTER_SERVICE,
    DEPLOYMENT,
    EVENT_WATCHES,
    for_view,
)
from kubectl_certdoctor.source import SourceState, connection_summary


def live_states(**over: KindState) -> dict[str, KindState]:
    st = {k.watch: KindState("live") for k in ALL_KINDS}
    st.update(over)
    return st


def test_watch_table() -> None:
    assert len(BY_WATCH) == len(ALL_KINDS)
    # kind names the rules read, unique per kind; several watches may share one
    for name in ("APIService", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
                 "Deployment", "Pod", "EndpointSlice", "CertificateRequestPolicy"):
        assert name in BY_NAME
    assert {k.name for k in ALL_KINDS if k.watch.startswith("Pod")} == {"Pod"}
    # cluster-wide facts whatever the view's namespace
    assert DEPLOYMENT.namespace_for("shop") is None
    assert BY_NAME["EndpointSlice"].namespace_for("shop") == "default"
    assert BY_NAME["Certificate"].namespace_for("shop") == "shop"
    assert BY_NAME["Gateway"].namespace_for("shop") is None
    # Events: one narrow watch per involved kind, never every Event
    assert all(k.field_selector and k.field_selector.startswith("involvedObject.kind=")
               for k in EVENT_WATCHES)
    assert BY_WATCH["Event/ClusterIssuer"].namespace_for("shop") is None
    # -A: the cluster-wide Service watch is covered by the view's
    assert CLUSTER_SERVICE in for_view("shop") and CLUSTER_SERVICE not in for_view(None)


def test_cluster_services_are_cut_down() -> None:
    keep, strip = CLUSTER_SERVICE.keep, CLUSTER_SERVICE.strip
    assert keep is not None and strip is not None
    lb = {"metadata": {"name": "ingress-nginx", "namespace": "ingress-nginx",
                       "annotations": {"big": "x" * 10_000}},
          "spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.9", "selector": {"a": "b"}},
          "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}}
    assert keep(lb) and len(json.dumps(strip(lb))) < 400
    assert strip(lb)["status"]["loadBalancer"]["ingress"] == [{"ip": "192.0.2.1"}]
    assert keep({"metadata": {"name": "kubernetes", "namespace": "default"}, "spec": {}})
    assert not keep({"metadata": {"name": "web", "namespace": "shop"},
                     "spec": {"type": "ClusterIP"}})


def test_no_gaps_when_everything_is_live() -> None:
    assert coverage(live_states(), "shop") == []
    # absent optional APIs are not gaps
    assert coverage(live_states(Gateway=KindState("missing")), "shop") == []


def test_forbidden_controller_is_a_gap_with_its_checks() -> None:
    st = live_states(**{"Deployment": KindState("forbidden", "cannot list"),
                        "Deployment/legacy": KindState("forbidden", "cannot list")})
    gaps = coverage(st, "shop")
    assert [g.fact for g in gaps] == ["the cert-manager controller"]
    g = gaps[0]
    assert g.state == "forbidden"
    assert g.message.startswith("controller not visible: deployments in all namespaces "
                                "forbidden — version-dependent")
    assert "CERT_MANAGER_OUTDATED" in g.checks_off
    assert g.to_json() == {"fact": g.fact, "state": "forbidden", "message": g.message,
                           "checks_off": list(g.checks_off)}
    assert short_form(gaps) == "not visible: controller"
    assert "controller not visible" in render_text(gaps)


def test_absent_controller_and_refused_secret() -> None:
    gaps = coverage(live_states(), "shop", deployments=[],
                    secret_problems={("cert-manager", "acct"): "forbidden: no"})
    assert [(g.fact, g.state) for g in gaps] == [("secrets", "forbidden"),
                                                 ("the cert-manager controller", "absent")]
    assert "secret cert-manager/acct not readable" in gaps[0].message


def test_header_says_what_is_not_visible() -> None:
    st = {k: SourceState("live") for k in BY_WATCH}
    st["Service/cluster"] = SourceState("forbidden", "no")
    st["Gateway"] = SourceState("missing")
    s = connection_summary(st)
    assert s.startswith("live") and "not visible: load balancers" in s
    assert connection_summary({k: SourceState("live") for k in BY_WATCH}) == "live"
