"""The object graph: linking, placeholders, orphans, status/reason, events, related, speed."""

from __future__ import annotations

from datetime import timedelta

from kubectl_certdoctor.graph import ORPHANS_ID, Status, build_graph
from kubectl_certdoctor.objects import ObjectSet, Ref
from tests.support.diagnosis import (
    NOW,
    certificate,
    challenge,
    cond,
    event,
    issuer,
    meta,
    objset,
    order,
    request,
    ts,
)


def chain() -> ObjectSet:
    return objset(
        issuer("iss", "default"),
        issuer("le", None, spec={"acme": {"server": "https://acme.test/dir",
                                          "privateKeySecretRef": {"name": "le-key"}}}),
        certificate("web", issuer="le", kind="ClusterIssuer", ready="False",
                    message="Issuing certificate as Secret does not exist"),
        request("web-1", "web", issuer="le", kind="ClusterIssuer", conds=[
            cond("Approved", "True"), cond("Ready", "False", "Pending", "Waiting on order")]),
        order("web-1-123", "web-1", issuer="le", kind="ClusterIssuer"),
        challenge("web-1-123-9", "web-1-123", issuer="le", kind="ClusterIssuer",
                  reason="Waiting for HTTP-01 challenge propagation: wrong status code "
                         "'404', expected '200'"),
    )


def test_chain_links_issuer_to_challenge() -> None:
    g = build_graph(chain(), NOW)
    assert [r.id for r in g.roots] == ["ClusterIssuer/le", "Issuer/default/iss"]
    le = g.nodes["ClusterIssuer/le"]
    assert [c.id for c in le.children] == ["Certificate/default/web"]
    cert = le.children[0]
    cr = cert.children[0]
    assert cr.id == "CertificateRequest/default/web-1" and cr.parent_id == cert.id
    ch = cr.children[0].children[0]
    assert ch.ref == Ref("Challenge", "default", "web-1-123-9")
    assert ch.status is Status.WARNING
    assert "wrong status code '404'" in ch.reason
    assert g.ancestor(ch, "Certificate") is cert
    assert ch.age == NOW - timedelta(days=1)


def test_cr_linked_by_annotation_when_no_owner_ref() -> None:
    g = build_graph(objset(issuer("iss"), certificate("c"),
                           request("c-1", "c", by_annotation=True)), NOW)
    assert g.nodes["CertificateRequest/default/c-1"].parent_id == "Certificate/default/c"


def test_owner_linked_by_name_when_uid_differs() -> None:
    o = order("o", "cr")
    o["metadata"]["ownerReferences"][0]["uid"] = "stale"
    g = build_graph(objset(issuer("iss"), certificate("c"), request("cr", "c"), o), NOW)
    assert g.nodes["Order/default/o"].parent_id == "CertificateRequest/default/cr"


def test_requests_sorted_by_revision() -> None:
    g = build_graph(objset(issuer("iss"), certificate("c"), request("c-b", "c", revision=10),
                           request("c-a", "c", revision=2)), NOW)
    assert [n.ref.name for n in g.nodes["Certificate/default/c"].children] == ["c-a", "c-b"]


def test_missing_issuer_placeholder_holds_certificates() -> None:
    g = build_graph(objset(certificate("a", issuer="nope"), certificate("b", issuer="nope"),
                           certificate("c", issuer="gone", kind="ClusterIssuer")), NOW)
    ph = g.nodes["missing:Issuer/default/nope"]
    assert ph.status is Status.MISSING and ph.obj is None
    assert ph.reason == "missing Issuer default/nope"
    assert [c.ref.name for c in ph.children] == ["a", "b"]
    assert g.nodes["missing:ClusterIssuer/gone"].reason == "missing ClusterIssuer gone"
    assert {r.id for r in g.roots} == {"missing:Issuer/default/nope", "missing:ClusterIssuer/gone"}


def test_issuer_kind_default_and_namespace_scope() -> None:
    c = certificate("a", ns="other", issuer="iss")
    del c["spec"]["issuerRef"]["kind"]
    g = build_graph(objset(issuer("iss", "default"), c), NOW)
    # an Issuer is namespaced: default/iss does not serve other/a
    assert "missing:Issuer/other/iss" in g.nodes


def test_wrong_kind_with_cert_manager_group_is_missing() -> None:
    g = build_graph(objset(issuer("iss"), certificate("a", kind="Isuer")), NOW)
    ph = g.nodes["missing:Isuer/default/iss"]
    assert ph.status is Status.MISSING and "not Issuer or ClusterIssuer" in ph.reason


def test_external_issuer_is_its_own_node() -> None:
    g = build_graph(objset(certificate("a", issuer="pca", kind="AWSPCAClusterIssuer",
                                       group="awspca.cert-manager.io")), NOW)
    n = g.nodes["AWSPCAClusterIssuer.awspca.cert-manager.io/pca"]
    assert n.status is Status.UNKNOWN and n.children[0].ref.name == "a"


def test_orphans_group() -> None:
    g = build_graph(objset(issuer("iss"), request("lonely", None), order("o", "gone-cr"),
                           challenge("ch", None), challenge("ch2", "o")), NOW)
    grp = g.nodes[ORPHANS_ID]
    assert g.roots[-1] is grp and grp.obj is None
    assert {c.id for c in grp.children} == {
        "CertificateRequest/default/lonely", "Order/default/o", "Challenge/default/ch"}
    # an orphan keeps its own children
    assert [c.ref.name for c in g.nodes["Order/default/o"].children] == ["ch2"]
    assert grp.reason == "3 objects without an owner"


def test_no_orphans_group_when_everything_links() -> None:
    assert ORPHANS_ID not in build_graph(chain(), NOW).nodes


def test_certificate_reason_during_backoff() -> None:
    c = certificate("c", ready="False", status={
        "failedIssuanceAttempts": 3, "lastFailureTime": ts(-timedelta(hours=3, minutes=17))})
    n = build_graph(objset(issuer("iss"), c), NOW).nodes["Certificate/default/c"]
    # 1h * 2^(3-1) = 4h after the failure; 3h17m have passed
    assert n.status is Status.FAILED
    assert n.reason.startswith("next retry in 43m")


def test_backoff_reads_controller_flags() -> None:
    dep = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": meta("cert-manager", "cert-manager",
                            labels={"app.kubernetes.io/name": "cert-manager",
                                    "app.kubernetes.io/component": "controller"}),
           "spec": {"template": {"spec": {"containers": [{
               "name": "cert-manager-controller",
               "image": "quay.io/jetstack/cert-manager-controller:v1.21.1",
               "args": ["--v=2", "--certificate-request-minimum-backoff-duration=5m"]}]}}}}
    c = certificate("c", ready="False", status={
        "failedIssuanceAttempts": 2, "lastFailureTime": ts(-timedelta(minutes=2))})
    g = build_graph(objset(issuer("iss"), c, dep), NOW)
    assert g.nodes["Certificate/default/c"].reason.startswith("next retry in 8m")


def test_statuses_per_kind() -> None:
    g = build_graph(objset(
        issuer("bad", ready="False", message="Failed to verify ACME account: context "
                                             "deadline exceeded"),
        certificate("ok", issuer="bad", status={"notAfter": ts(timedelta(days=40))}),
        request("denied", "ok", conds=[cond("Denied", "True", "Foo", "policy says no")]),
        request("failed", "ok", revision=2, conds=[
            cond("Approved", "True"), cond("Ready", "False", "Failed", "boom")]),
        request("waiting", "ok", revision=3, conds=[]),
        order("inv", "failed", state="errored", reason="429 rateLimited"),
    ), NOW)
    n = g.nodes
    assert (n["Issuer/default/bad"].status, n["Issuer/default/bad"].reason) == (
        Status.FAILED, "Failed to verify ACME account: context deadline exceeded")
    assert n["Certificate/default/ok"].status is Status.READY
    assert n["Certificate/default/ok"].reason == "valid, expires in 40d"
    assert n["CertificateRequest/default/denied"].reason == "denied: policy says no"
    assert n["CertificateRequest/default/failed"].status is Status.FAILED
    assert n["CertificateRequest/default/waiting"].reason == "waiting for approval"
    assert n["Order/default/inv"].reason == "errored: 429 rateLimited"


def test_events_for_newest_first() -> None:
    objs = chain()
    for i, mins in enumerate((30, 5, 60)):
        objs.add(event(f"e{i}", "default", "Challenge", "web-1-123-9", "default",
                       f"m{mins}", -timedelta(minutes=mins)))
    objs.add(event("cl", "default", "ClusterIssuer", "le", "", "cluster", -timedelta(1)))
    g = build_graph(objs, NOW)
    assert [e["message"] for e in g.events_for(Ref("Challenge", "default", "web-1-123-9"))] \
        == ["m5", "m30", "m60"]
    assert [e["message"] for e in g.events_for(Ref("ClusterIssuer", "", "le"))] == ["cluster"]


def test_related_for_challenge_and_certificate() -> None:
    objs = chain()
    ch_owner = {"apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge",
                "name": "web-1-123-9", "uid": "uid-default-web-1-123-9"}
    solver_labels = {"acme.cert-manager.io/http01-solver": "true"}
    objs.add({"apiVersion": "v1", "kind": "Pod", "metadata": meta(
        "cm-acme-http-solver-x", "default", labels=solver_labels, ownerReferences=[ch_owner])})
    objs.add({"apiVersion": "v1", "kind": "Service", "metadata": meta(
        "cm-acme-http-solver-y", "default", labels=solver_labels, ownerReferences=[ch_owner])})
    objs.add({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta(
        "cm-acme-http-solver-z", "default", labels=solver_labels, ownerReferences=[ch_owner]),
        "spec": {"rules": [{"host": "a.test"}]}})
    objs.add({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
              "metadata": meta("site", "web"), "spec": {"rules": [{"host": "A.test"}]}})
    objs.add({"apiVersion": "v1", "kind": "Secret", "metadata": meta("web-tls", "default")})
    objs.add({"apiVersion": "v1", "kind": "Secret", "metadata": meta("le-key", "cert-manager")})
    g = build_graph(objs, NOW)
    rel = g.related(Ref("Challenge", "default", "web-1-123-9"))
    assert rel == [Ref("Pod", "default", "cm-acme-http-solver-x"),
                   Ref("Service", "default", "cm-acme-http-solver-y"),
                   Ref("Ingress", "default", "cm-acme-http-solver-z"),
                   Ref("Ingress", "web", "site"),
                   Ref("ClusterIssuer", "", "le")]
    assert g.related(Ref("Certificate", "default", "web")) == [
        Ref("Secret", "default", "web-tls"), Ref("ClusterIssuer", "", "le")]
    assert g.related(Ref("ClusterIssuer", "", "le")) == [Ref("Secret", "cert-manager", "le-key")]
    assert g.related(Ref("Certificate", "default", "nope")) == []


def test_malformed_objects_do_not_break_linking() -> None:
    objs = ObjectSet()
    objs.add({"kind": "Certificate", "metadata": {"name": "x", "namespace": "d"},
              "spec": "garbage", "status": [1, 2]})
    objs.add({"kind": "Challenge", "metadata": {"name": "y", "ownerReferences": "no"},
              "status": None})
    objs.add({"kind": "CertificateRequest", "metadata": None})
    g = build_graph(objs, NOW)
    assert "missing:Issuer/d/" in g.nodes
    assert g.nodes["Challenge/y"].parent_id == ORPHANS_ID


def test_ten_thousand_certificates_under_one_issuer() -> None:
    """Scale is measured by ``python -m benchmarks``; here only the linking at that size."""
    objs = ObjectSet()
    objs.add(issuer("iss"))
    for i in range(10_000):
        objs.add(certificate(f"c{i}", status={"notAfter": ts(timedelta(days=30))}))
        objs.add(request(f"c{i}-1", f"c{i}"))
    g = build_graph(objs, NOW)
    certs = g.nodes["Issuer/default/iss"].children
    assert len(certs) == 10_000
    assert all(len(c.children) == 1 for c in certs)
    assert ORPHANS_ID not in g.nodes
