"""The live store: pure parts (secret references, backoff, paths) and, against the real
test API server, LIST+WATCH behaviour: changes within a second, one LIST per kind,
410 Gone → relist, reconnect after the API server restarts, forbidden and missing
kinds, and private keys that never reach the store."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import pytest

from kubectl_certdoctor.cluster import secretrefs
from kubectl_certdoctor.cluster.store import KindState, describe_states, wait_for
from kubectl_certdoctor.cluster.watch import Backoff, kind_path
from kubectl_certdoctor.kinds import CERTIFICATE, CLUSTER_ISSUER, POD, SECRET


def secret(ns: str, nm: str, ann: dict[str, str] | None = None) -> dict[str, Any]:
    data = {k: base64.b64encode(v.encode()).decode() for k, v in {
        "tls.crt": "CERT", "tls.key": "-----BEGIN PRIVATE KEY-----\nx\n", "ca.crt": "CA",
        "password": "hunter2"}.items()}
    md: dict[str, Any] = {"name": nm, "namespace": ns, "annotations": {
        **(ann or {}), "kubectl.kubernetes.io/last-applied-configuration": '{"data": "all"}'},
        "managedFields": [{"manager": "kubectl"}]}
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": md, "data": data}


def test_strip_secret_keeps_only_public_certificates() -> None:
    s = secret("app", "web-tls")
    out = secretrefs.strip_secret(s)
    assert sorted(out["data"]) == ["ca.crt", "tls.crt"]
    assert "last-applied" not in str(out) and "managedFields" not in out["metadata"]
    assert "PRIVATE" not in str(out) and "hunter2" not in str(out)
    assert "tls.key" in s["data"]  # the input is not modified


def test_refs_of_issuers_and_certificates() -> None:
    cert = {"metadata": {"namespace": "app", "name": "web"}, "spec": {"secretName": "web-tls"}}
    assert secretrefs.refs_of("Certificate", cert) == {("app", "web-tls")}
    issuer = {"metadata": {"namespace": "app", "name": "le"}, "spec": {
        "acme": {"privateKeySecretRef": {"name": "le-account"}, "solvers": [
            {"dns01": {"rfc2136": {"tsigSecretSecretRef": {"name": "tsig", "key": "k"}}}}]}}}
    assert secretrefs.refs_of("Issuer", issuer) == {("app", "le-account"), ("app", "tsig")}
    ca = {"metadata": {"namespace": "app", "name": "ca"}, "spec": {"ca": {"secretName": "root"}}}
    assert secretrefs.refs_of("Issuer", ca) == {("app", "root")}
    vault = {"metadata": {"name": "v"}, "spec": {"vault": {
        "caBundleSecretRef": {"name": "vault-ca"},
        "auth": {"appRole": {"secretRef": {"name": "approle"}},
                 "tokenSecretRef": {"name": "vault-token"}}}}}
    assert secretrefs.refs_of("ClusterIssuer", vault) == {
        ("*", "vault-ca"), ("*", "approle"), ("*", "vault-token")}
    assert secretrefs.refs_of("Order", cert) == frozenset()
    assert secretrefs.refs_of("Certificate", {"spec": {"secretName": ["bad"]}}) == frozenset()


def test_is_wanted() -> None:
    refs = {("app", "web-tls"), ("*", "le-account")}
    assert secretrefs.is_wanted(secret("app", "web-tls"), refs)
    assert not secretrefs.is_wanted(secret("other", "web-tls"), refs)
    assert secretrefs.is_wanted(secret("cert-manager", "le-account"), refs)
    assert secretrefs.is_wanted(
        secret("x", "y", {"cert-manager.io/certificate-name": "web"}), refs)
    assert not secretrefs.is_wanted(secret("x", "helm-release"), refs)


def test_backoff_grows_to_five_seconds_with_jitter() -> None:
    b = Backoff()
    delays = [b.next() for _ in range(10)]
    assert 0.15 <= delays[0] <= 0.25
    assert all(d <= 5.0 for d in delays) and delays[-1] >= 4.0
    assert delays[3] > delays[0]
    b.reset()
    assert b.next() <= 0.25


def test_kind_paths() -> None:
    assert kind_path(CERTIFICATE, None) == "/apis/cert-manager.io/v1/certificates"
    assert kind_path(CERTIFICATE, "app") == "/apis/cert-manager.io/v1/namespaces/app/certificates"
    assert kind_path(CLUSTER_ISSUER, "app") == "/apis/cert-manager.io/v1/clusterissuers"
    assert kind_path(SECRET, "app") == "/api/v1/namespaces/app/secrets"
    assert POD.label_selector == "acme.cert-manager.io/http01-solver=true"


def test_describe_states() -> None:
    assert describe_states({"A": KindState("live"), "B": KindState("live")}) == "live"
    s = describe_states({"Order": KindState("forbidden", "no"), "A": KindState("live"),
                         "Challenge": KindState("forbidden"), "B": KindState("reconnecting")})
    assert s == "reconnecting: B; forbidden: Challenge, Order"


def test_wait_for() -> None:
    t = time.monotonic()
    assert wait_for(lambda: time.monotonic() - t > 0.05, 1.0)
    assert not wait_for(lambda: False, 0.05)


# -- against real API servers -----------------------------------------------------------------

from collections.abc import Iterator  # noqa: E402

from kubectl_certdoctor.cluster.connection import Connection, connect  # noqa: E402
from kubectl_certdoctor.cluster.store import Store  # noqa: E402
from kubectl_certdoctor.kinds import ALL_KINDS, CERT_MANAGER_KINDS, SERVICE  # noqa: E402
from kubectl_certdoctor.options import Options  # noqa: E402
from tests.support import cluster_access as ca  # noqa: E402


@pytest.fixture
def admin_conn(control_plane: Any) -> Iterator[Connection]:
    c = connect(Options(kubeconfig=str(control_plane.admin_kubeconfig), request_timeout=5))
    ca.wait_storage_ready(c)
    yield c
    c.close()


@pytest.fixture
def store_factory() -> Iterator[Any]:
    stores: list[Store] = []

    def make(conn: Connection, ns: str | None, **kw: Any) -> Store:
        s = Store(conn, ns, **kw)
        stores.append(s)
        s.start()
        assert s.synced.wait(15), describe_states(s.states())
        return s

    yield make
    for s in stores:
        s.stop()


def _changed_within(store: Store, predicate: Any, limit: float = 1.0) -> float:
    t = time.monotonic()
    assert wait_for(lambda: predicate(store.snapshot()), limit), "no change within the limit"
    return time.monotonic() - t


@pytest.mark.integration
def test_list_and_watch_with_one_list_per_kind(admin_conn: Connection, namespace: str,
                                               store_factory: Any) -> None:
    store = store_factory(admin_conn, namespace)
    states = store.states()
    assert {k: s.state for k, s in states.items() if s.state != "live"} == {
        "Gateway": "missing", "HTTPRoute": "missing", "CertificateRequestPolicy": "missing"}
    seen: list[str] = []
    store.subscribe(seen.append)
    requests_before = store.request_count
    gen = store.generation

    ca.create(admin_conn, ca.certificate("web", "web-tls"), namespace)
    _changed_within(store, lambda s: s.get("Certificate", namespace, "web") is not None)
    ca.patch(admin_conn, "Certificate", namespace, "web", {"spec": {"dnsNames": ["b.test"]}})
    _changed_within(store, lambda s: (s.get("Certificate", namespace, "web") or {})
                    .get("spec", {}).get("dnsNames") == ["b.test"])
    ca.delete(admin_conn, "Certificate", namespace, "web")
    _changed_within(store, lambda s: s.get("Certificate", namespace, "web") is None)
    assert "Certificate" in seen and store.generation >= gen + 3

    # many more objects: still no request per object
    for i in range(25):
        ca.create(admin_conn, ca.service(f"svc-{i}"), namespace)
    assert wait_for(lambda: len([s for s in store.snapshot().of_kind("Service")
                                 if s["metadata"]["namespace"] == namespace]) == 25, 3)
    assert store.request_count == requests_before
    assert all(store.requests[(k.watch, "list")] == 1 for k in store.kinds), store.requests
    assert {k.watch for k in store.kinds} == {k.watch for k in ALL_KINDS}
    assert all(o["kind"] == "Service" and o["apiVersion"] == "v1"
               for o in store.snapshot().of_kind("Service"))


@pytest.mark.integration
def test_snapshot_is_a_consistent_copy(admin_conn: Connection, namespace: str,
                                       store_factory: Any) -> None:
    store = store_factory(admin_conn, namespace, kinds=(SERVICE,))
    before = store.snapshot()
    ca.create(admin_conn, ca.service("late"), namespace)
    assert wait_for(lambda: store.snapshot().get("Service", namespace, "late"), 1)
    assert before.get("Service", namespace, "late") is None
    assert before.context == admin_conn.context and before.source == "live"


@pytest.mark.integration
def test_secrets_filtered_private_keys_never_stored(admin_conn: Connection, namespace: str,
                                                    store_factory: Any) -> None:
    # created BEFORE anything references it: listed, dropped, then wanted
    ca.create(admin_conn, ca.tls_secret("web-tls", "web.example.test"), namespace)
    ca.create(admin_conn, ca.tls_secret("unrelated", "x.example.test"), namespace)
    ca.create(admin_conn, ca.tls_secret("issued", "i.example.test",
                                        {"cert-manager.io/certificate-name": "other"}), namespace)
    store = store_factory(admin_conn, namespace)
    snap = store.snapshot()
    assert snap.get("Secret", namespace, "issued") is not None
    assert snap.get("Secret", namespace, "web-tls") is None
    assert snap.get("Secret", namespace, "unrelated") is None

    ca.create(admin_conn, ca.certificate("web", "web-tls"), namespace)
    _changed_within(store, lambda s: s.get("Secret", namespace, "web-tls") is not None, 3)
    snap = store.snapshot()
    sec = snap.get("Secret", namespace, "web-tls")
    assert sec is not None and sorted(sec["data"]) == ["ca.crt", "tls.crt"]
    assert snap.get("Secret", namespace, "unrelated") is None
    # a Secret created later for an existing reference arrives by the watch alone
    lists = store.requests[("Secret", "list")]
    ca.create(admin_conn, ca.certificate("api", "api-tls"), namespace)
    ca.create(admin_conn, ca.tls_secret("api-tls", "api.example.test"), namespace)
    _changed_within(store, lambda s: s.get("Secret", namespace, "api-tls") is not None)
    assert store.requests[("Secret", "list")] == lists
    import orjson

    dumped = orjson.dumps(list(store.snapshot())).decode()
    assert "tls.key" not in dumped and "PRIVATE KEY" not in dumped
    assert "LS0tLS1CRUdJTiBQUklWQVRF" not in dumped  # base64 of "-----BEGIN PRIVATE"


@pytest.mark.integration
def test_restricted_user_sees_forbidden_kinds(control_plane: Any, store_factory: Any) -> None:
    conn = connect(Options(kubeconfig=str(control_plane.restricted_kubeconfig)))
    store = store_factory(conn, None)
    states = store.states()
    for kind in ("Order", "Challenge", "Secret"):
        assert states[kind].state == "forbidden", states[kind]
        assert "forbidden" in states[kind].message or "cannot list" in states[kind].message
    for kind in ("Issuer", "ClusterIssuer", "Certificate", "CertificateRequest", "Event",
                 "Ingress", "Service", "Pod", "Deployment"):
        assert states[kind].state == "live", (kind, states[kind])
    # Gateway API is absent: discovery turns RBAC's 403 into "missing"
    assert describe_states(states) == ("forbidden: Challenge, Order, Secret; "
                                       "missing: CertificateRequestPolicy, Gateway, HTTPRoute")
    assert not store.snapshot().of_kind("Order")
    conn.close()


# -- private control planes: no CRDs; watch cache off + compaction + restart ------------------


@pytest.fixture(scope="module")
def bare_plane() -> Iterator[Any]:
    cp = ca.private_plane(crds=False)
    yield cp
    cp.stop()


@pytest.fixture(scope="module")
def nocache_plane() -> Iterator[Any]:
    # no watch cache: watches read etcd, so compacting etcd makes old versions really gone
    cp = ca.private_plane(crds=False, apiserver_args=("--watch-cache=false",))
    yield cp
    cp.stop()


@pytest.mark.integration
def test_missing_crds_then_installed(bare_plane: Any, store_factory: Any) -> None:
    conn = connect(Options(kubeconfig=str(bare_plane.admin_kubeconfig)))
    d = conn.discover()
    assert not d.cert_manager_installed
    assert {k.name for k in d.missing} >= {k.name for k in CERT_MANAGER_KINDS}
    store = store_factory(conn, None, retry_interval=60.0)
    states = store.states()
    for k in CERT_MANAGER_KINDS:
        assert states[k.name].state == "missing"
        assert "is cert-manager installed?" in states[k.name].message
    assert states["Service"].state == "live" and states["Secret"].state == "live"
    # a restricted user gets 403 for absent kinds too: discovery still says "missing"
    viewer = connect(Options(kubeconfig=str(bare_plane.restricted_kubeconfig)))
    vstore = store_factory(viewer, None)
    assert vstore.state("Order").state == "missing"
    assert vstore.state("Certificate").state == "missing"
    bare_plane.install_crds()
    store.refresh()  # the TUI's `r`: retries missing kinds at once
    assert wait_for(lambda: all(store.state(k.name).state == "live"
                                for k in CERT_MANAGER_KINDS), 5), store.states()
    assert conn.discover().cert_manager_installed
    conn.close()
    viewer.close()


@pytest.mark.integration
def test_reconnect_resume_and_410_relist(nocache_plane: Any, store_factory: Any) -> None:
    cp = nocache_plane
    conn = connect(Options(kubeconfig=str(cp.admin_kubeconfig), request_timeout=2))
    store = store_factory(conn, "default", kinds=(SERVICE,))
    ca.create(conn, ca.service("kept"), "default")
    ca.create(conn, ca.service("doomed"), "default")
    assert wait_for(lambda: store.snapshot().get("Service", "default", "doomed"), 1)
    assert store.requests[("Service", "list")] == 1

    # the API server dies; meanwhile "doomed" goes away and etcd compacts its history
    cp.stop_apiserver(kill=True)
    assert wait_for(lambda: store.state("Service").state == "reconnecting", 3)
    assert "cannot reach the API server" in store.state("Service").message
    assert store.snapshot().get("Service", "default", "kept") is not None  # kept meanwhile
    ca.etcd_delete(cp.etcd_url, "/registry/services/specs/default/doomed")
    ca.etcd_compact(cp.etcd_url)
    cp.start_apiserver()
    # resume from the old resourceVersion → 410 Gone → relist → correct again
    assert wait_for(lambda: store.state("Service").state == "live"
                    and store.snapshot().get("Service", "default", "doomed") is None, 10), \
        store.states()
    assert store.snapshot().get("Service", "default", "kept") is not None
    assert store.requests[("Service", "list")] == 2
    ca.create(conn, ca.service("after"), "default")
    assert wait_for(lambda: store.snapshot().get("Service", "default", "after"), 1)
    conn.close()


@pytest.mark.integration
def test_reconnect_after_shared_server_restart(control_plane: Any, store_factory: Any,
                                          admin_conn: Connection, namespace: str) -> None:
    """The shared server killed and started again: reconnecting → live, changes flow."""
    store = store_factory(admin_conn, namespace)
    control_plane.stop_apiserver(kill=True)
    try:
        assert wait_for(lambda: store.state("Certificate").state == "reconnecting", 5)
    finally:
        control_plane.start_apiserver()
    optional = {k.watch for k in store.kinds if k.optional}
    assert wait_for(lambda: all(s.state == "live" for k, s in store.states().items()
                                if k not in optional), 10), store.states()
    ca.create(admin_conn, ca.certificate("back", "back-tls"), namespace)
    _changed_within(store, lambda s: s.get("Certificate", namespace, "back") is not None)


@pytest.mark.integration
def test_stop_ends_every_thread_quickly(control_plane: Any, store_factory: Any) -> None:
    conn = connect(Options(kubeconfig=str(control_plane.admin_kubeconfig)))
    store = store_factory(conn, None)
    t = time.monotonic()
    store.stop()
    assert time.monotonic() - t < 1.0
    assert not store.running
    conn.close()


@pytest.mark.integration
def test_in_cluster_service_account(bare_plane: Any, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """No kubeconfig anywhere, but a pod's service account token: the fallback connects."""
    admin = connect(Options(kubeconfig=str(bare_plane.admin_kubeconfig)))
    ca.create(admin, {"apiVersion": "v1", "kind": "ServiceAccount",
                      "metadata": {"name": "doctor"}}, "default")
    tr = admin.json("POST", "/api/v1/namespaces/default/serviceaccounts/doctor/token",
                    body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                          "spec": {"expirationSeconds": 600}})
    admin.close()
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text(tr["status"]["token"])
    (sa / "ca.crt").write_bytes(Path(bare_plane.ca_file).read_bytes())
    (sa / "namespace").write_text("cert-manager\n")
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(bare_plane.port))
    conn = connect(Options(), sa_dir=str(sa))
    assert (conn.context, conn.namespace) == ("in-cluster", "cert-manager")
    assert conn.user == "system:serviceaccount:default:doctor"
    conn.close()
