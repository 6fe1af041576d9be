"""Secrets by metadata, data only where referenced; paginated LISTs.

Unit: which Secrets objects reference (webhook ``inject-ca-from-secret`` included), where
ClusterIssuers' Secrets live. Against the real API server: unrelated Secrets' data never
crosses the wire (counted in bytes), referenced ones are fetched one GET each and cut
down to tls.crt/ca.crt, Secrets outside the view (the webhook CA, a ClusterIssuer's
account key in the cluster resource namespace) are fetched directly, a user who may
``get`` but not ``list`` Secrets still gets the referenced ones, and LISTs are paginated
with the WATCH starting from the list's resourceVersion.
"""

from __future__ import annotations

import base64
import os
import secrets as pysecrets
from collections.abc import Iterator
from typing import Any

import pytest

from kubectl_certdoctor.cluster import secretrefs
from kubectl_certdoctor.cluster.connection import Connection, connect
from kubectl_certdoctor.cluster.store import Store, describe_states, wait_for
from kubectl_certdoctor.options import Options
from tests.support import cluster_access as ca


def test_webhook_configurations_reference_their_ca_secret() -> None:
    vwc = {"metadata": {"name": "cert-manager-webhook", "annotations": {
        "cert-manager.io/inject-ca-from-secret": "cert-manager/cert-manager-webhook-ca"}}}
    assert secretrefs.refs_of("ValidatingWebhookConfiguration", vwc) == {
        ("cert-manager", "cert-manager-webhook-ca")}
    assert secretrefs.refs_of("MutatingWebhookConfiguration", {"metadata": {}}) == frozenset()
    assert secretrefs.refs_of("APIService", {"metadata": {"annotations": {
        "cert-manager.io/inject-ca-from-secret": "no-slash"}}}) == frozenset()


def test_cluster_resource_namespace() -> None:
    def dep(ns: str, labels: dict[str, str], args: list[str] | None = None) -> dict[str, Any]:
        return {"metadata": {"name": "x", "namespace": ns, "labels": labels},
                "spec": {"template": {"spec": {"containers": [
                    {"image": "quay.io/jetstack/cert-manager-controller:v1.21.1",
                     "args": args or []}]}}}}

    webhook = {"metadata": {"name": "cert-manager-webhook", "namespace": "cm", "labels": {
        "app.kubernetes.io/component": "webhook"}}, "spec": {}}
    assert secretrefs.cluster_resource_namespace([webhook]) is None
    assert secretrefs.cluster_resource_namespace(
        [webhook, dep("cm", {"app.kubernetes.io/component": "controller"})]) == "cm"
    assert secretrefs.cluster_resource_namespace(
        [dep("cm", {"app": "cert-manager"}, ["--cluster-resource-namespace=issuers"])]) == "issuers"
    assert secretrefs.cluster_resource_namespace(
        [dep("cm", {}, ["--cluster-resource-namespace", "other"])]) == "other"
    assert secretrefs.cluster_resource_namespace([]) is None


# -- against the real API server -----------------------------------------------------------

@pytest.fixture
def admin_conn(control_plane: Any) -> Iterator[Connection]:
    c = connect(Options(kubeconfig=str(control_plane.admin_kubeconfig), request_timeout=5))
    ca.wait_storage_ready(c)
    yield c
    c.close()


@pytest.fixture
def stores() -> Iterator[list[Store]]:
    made: list[Store] = []
    yield made
    for s in made:
        s.stop()


def _started(made: list[Store], conn: Connection, ns: str | None, **kw: Any) -> Store:
    s = Store(conn, ns, **kw)
    made.append(s)
    s.start()
    assert s.synced.wait(20), describe_states(s.states())
    return s


BLOB = 20_000


def _unrelated(name: str) -> dict[str, Any]:
    blob = base64.b64encode(os.urandom(BLOB * 3 // 4)).decode()  # ~20 KB on the wire
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
            "type": "Opaque", "data": {"blob": blob}}


def _secret_bytes(store: Store, verbs: tuple[str, ...] = ("list", "watch")) -> int:
    return sum(n for (w, verb), n in store.bytes_received.items()
               if w == "Secret" and verb in verbs)


@pytest.mark.integration
def test_unrelated_secret_data_never_crosses_the_wire(admin_conn: Connection, namespace: str,
                                                      stores: list[Store]) -> None:
    for i in range(5):
        ca.create(admin_conn, _unrelated(f"helm-release-{i}"), namespace)
    ca.create(admin_conn, ca.tls_secret("web-tls", "web.example.test"), namespace)
    ca.create(admin_conn, ca.certificate("web", "web-tls"), namespace)
    store = _started(stores, admin_conn, namespace)

    snap = store.snapshot()
    web = snap.get("Secret", namespace, "web-tls")
    assert web is not None and sorted(web["data"]) == ["ca.crt", "tls.crt"]
    assert not [s for s in snap.of_kind("Secret") if "helm-release" in s["metadata"]["name"]]
    # 5 × 20 KB of unrelated data exist; the Secret LIST+WATCH carried metadata only
    listed = _secret_bytes(store)
    assert 0 < listed < BLOB, store.bytes_received
    # one GET, for the one referenced Secret (its private key dropped on arrival)
    assert store.requests[("Secret", "get")] == 1, store.requests
    assert store.bytes_received[("Secret", "get")] < BLOB

    # a new unrelated Secret arrives by the watch: again metadata only
    ca.create(admin_conn, _unrelated("late-unrelated"), namespace)
    assert wait_for(lambda: _secret_bytes(store) > listed, 5)
    assert _secret_bytes(store) - listed < BLOB / 4
    assert store.requests[("Secret", "get")] == 1

    # a new reference to an existing Secret: fetched then, by one GET
    ca.create(admin_conn, ca.tls_secret("api-tls", "api.example.test"), namespace)
    ca.create(admin_conn, ca.certificate("api", "api-tls"), namespace)
    assert wait_for(lambda: store.snapshot().get("Secret", namespace, "api-tls") is not None, 5)
    assert store.requests[("Secret", "get")] == 2
    import orjson

    dumped = orjson.dumps(list(store.snapshot())).decode()
    assert "PRIVATE KEY" not in dumped and "LS0tLS1CRUdJTiBQUklWQVRF" not in dumped
    # the data of a referenced Secret changes: its metadata event brings one more GET
    gets = store.requests[("Secret", "get")]
    ca.patch(admin_conn, "Secret", namespace, "api-tls",
             {"metadata": {"annotations": {"touched": "yes"}}})
    assert wait_for(lambda: store.requests[("Secret", "get")] == gets + 1, 5)


@pytest.mark.integration
def test_lists_are_paginated_and_the_watch_resumes_from_them(
        admin_conn: Connection, namespace: str, stores: list[Store],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from kubectl_certdoctor.cluster import watch
    from kubectl_certdoctor.kinds import SERVICE

    monkeypatch.setattr(watch, "PAGE_SIZE", 2)
    for i in range(5):
        ca.create(admin_conn, ca.service(f"svc-{i}"), namespace)
    store = _started(stores, admin_conn, namespace, kinds=(SERVICE,))
    assert store.requests[("Service", "list")] == 3  # 2 + 2 + 1
    assert len(store.snapshot().of_kind("Service")) == 5
    ca.create(admin_conn, ca.service("svc-late"), namespace)
    assert wait_for(lambda: len(store.snapshot().of_kind("Service")) == 6, 3)
    assert store.requests[("Service", "list")] == 3


def _webhook_config(name: str, ca_ns: str) -> dict[str, Any]:
    return {"apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": name, "annotations": {
                "cert-manager.io/inject-ca-from-secret": f"{ca_ns}/cert-manager-webhook-ca"}},
            "webhooks": []}


def _controller(args: list[str]) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": "cert-manager",
              "app.kubernetes.io/component": "controller"}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "cert-manager", "labels": labels},
            "spec": {"selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                         {"name": "c", "image": "quay.io/jetstack/cert-manager-controller:v1.21.1",
                          "args": args}]}}}}


@pytest.fixture
def infra_namespace(control_plane: Any, admin_conn: Connection) -> Iterator[str]:
    """A second namespace, playing cert-manager's (deleted afterwards)."""
    name = f"t-cm-{pysecrets.token_hex(4)}"
    ca.create(admin_conn, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    admin_conn.request("DELETE", f"/apis/apps/v1/namespaces/{name}/deployments").release_conn()
    admin_conn.request("DELETE", f"/api/v1/namespaces/{name}").release_conn()


@pytest.mark.integration
def test_secrets_outside_the_view_are_fetched_directly(
        control_plane: Any, admin_conn: Connection, namespace: str, infra_namespace: str,
        stores: list[Store]) -> None:
    cm = infra_namespace
    vwc_name = f"cert-manager-webhook-{cm}"
    issuer = f"le-{cm}"
    ca.create(admin_conn, ca.tls_secret("cert-manager-webhook-ca", "cert-manager-webhook-ca"), cm)
    ca.create(admin_conn, ca.tls_secret("acme-account", "account"), cm)
    ca.create(admin_conn, _unrelated("not-referenced"), cm)
    ca.create(admin_conn, _controller([f"--cluster-resource-namespace={cm}"]), cm)
    admin_conn.json("POST", "/apis/admissionregistration.k8s.io/v1/"
                    "validatingwebhookconfigurations", body=_webhook_config(vwc_name, cm))
    ci = {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
          "metadata": {"name": issuer},
          "spec": {"acme": {"server": "https://acme.test/directory",
                            "privateKeySecretRef": {"name": "acme-account"},
                            "solvers": [{"http01": {"ingress": {}}}]}}}
    ca.create(admin_conn, ci)
    try:
        store = _started(stores, admin_conn, namespace)
        snap = store.snapshot()
        wca = snap.get("Secret", cm, "cert-manager-webhook-ca")
        assert wca is not None and sorted(wca["data"]) == ["ca.crt", "tls.crt"], wca
        assert snap.get("Secret", cm, "acme-account") is not None
        assert snap.get("Secret", cm, "not-referenced") is None
        assert snap.get("ValidatingWebhookConfiguration", "", vwc_name) is not None
        assert snap.get("Deployment", cm, "cert-manager") is not None
        assert store.requests[("Secret", "get")] == 2, store.requests
        assert store.forbidden_requests == 0
    finally:
        admin_conn.request("DELETE", "/apis/admissionregistration.k8s.io/v1/"
                           f"validatingwebhookconfigurations/{vwc_name}").release_conn()
        ca.delete(admin_conn, "ClusterIssuer", None, issuer)


@pytest.mark.integration
def test_get_without_list_still_reads_referenced_secrets(
        control_plane: Any, admin_conn: Connection, namespace: str,
        stores: list[Store]) -> None:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "certdoctor-test-secret-get"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
                      {"apiGroups": ["cert-manager.io"], "resources": ["certificates"],
                       "verbs": ["get", "list", "watch"]}]}
    control_plane.apply_cluster_role(role)
    kc = control_plane.add_user("certdoctor-secret-getter",
                                cluster_roles=["certdoctor-test-secret-get"])
    ca.create(admin_conn, ca.tls_secret("web-tls", "web.example.test"), namespace)
    ca.create(admin_conn, ca.tls_secret("other", "other.example.test"), namespace)
    ca.create(admin_conn, ca.certificate("web", "web-tls"), namespace)
    conn = connect(Options(kubeconfig=str(kc), request_timeout=5))
    try:
        from kubectl_certdoctor.kinds import CERTIFICATE, SECRET

        store = _started(stores, conn, namespace, kinds=(CERTIFICATE, SECRET))
        assert store.state("Secret").state == "forbidden"
        snap = store.snapshot()
        sec = snap.get("Secret", namespace, "web-tls")
        assert sec is not None and sorted(sec["data"]) == ["ca.crt", "tls.crt"]
        assert snap.get("Secret", namespace, "other") is None
        assert store.requests[("Secret", "get")] == 1
    finally:
        conn.close()
