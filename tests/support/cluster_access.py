"""Helpers for the cluster-access tests (store, connection, dump).

Objects are created through the raw REST path of ``Connection`` (the same path the
store reads); etcd is reached directly for what only another writer could do while the
API server is down (delete a key, compact history: a real 410 Gone afterwards).
Private control planes come from ``tests.support.controlplane.ControlPlane``.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from typing import Any


def _etcd_call(etcd_url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    req = urllib.request.Request(etcd_url + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return dict(json.loads(r.read()))


def etcd_revision(etcd_url: str) -> int:
    doc = _etcd_call(etcd_url, "/v3/kv/range", {"key": "AA=="})
    return int(doc["header"]["revision"])


def etcd_compact(etcd_url: str) -> int:
    """Compact etcd's history up to now: older resourceVersions are gone for good."""
    rev = etcd_revision(etcd_url)
    _etcd_call(etcd_url, "/v3/kv/compaction", {"revision": str(rev), "physical": True})
    return rev


def etcd_delete(etcd_url: str, key: str) -> None:
    """Delete a key behind the API server's back (as another writer would)."""
    _etcd_call(etcd_url, "/v3/kv/deleterange",
               {"key": base64.b64encode(key.encode()).decode()})


def private_plane(*, crds: bool, apiserver_args: tuple[str, ...] = ()) -> Any:
    """A started ControlPlane of our own (no controller manager: quicker), for tests
    that must not disturb the shared one; the caller stops it."""
    from tests.support.controlplane import ControlPlane

    return ControlPlane(crds=crds, controller_manager=False,
                        apiserver_args=apiserver_args).start()


# -- objects, created through the real API (raw REST: the same path the store reads) -----


def _collection(obj: dict[str, Any], namespace: str | None) -> str:
    from kubectl_certdoctor.cluster.watch import kind_path
    from kubectl_certdoctor.kinds import BY_NAME

    kind = BY_NAME.get(obj["kind"])
    if kind is not None:
        return kind_path(kind, namespace)
    api = obj["apiVersion"]  # e.g. ServiceAccount, ConfigMap
    base = f"/apis/{api}" if "/" in api else f"/api/{api}"
    plural = obj["kind"].lower() + "s"
    return f"{base}/namespaces/{namespace}/{plural}" if namespace else f"{base}/{plural}"


def create(conn: Any, obj: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
    """POST one object (namespace rewritten when given); returns what the server stored."""
    body = json.loads(json.dumps(obj))
    if namespace and body["kind"] not in ("ClusterIssuer", "IngressClass"):
        body.setdefault("metadata", {})["namespace"] = namespace
    ns = body.get("metadata", {}).get("namespace")
    return dict(conn.json("POST", _collection(body, ns), body=body))


def patch(conn: Any, kind: str, ns: str | None, name: str, patch_: dict[str, Any]) -> None:
    from kubectl_certdoctor.cluster.watch import kind_path
    from kubectl_certdoctor.kinds import BY_NAME

    path = kind_path(BY_NAME[kind], ns) + "/" + name
    conn.request("PATCH", path, body=patch_,
                 content_type="application/merge-patch+json").release_conn()


def delete(conn: Any, kind: str, ns: str | None, name: str) -> None:
    from kubectl_certdoctor.cluster.watch import kind_path
    from kubectl_certdoctor.kinds import BY_NAME

    conn.request("DELETE", kind_path(BY_NAME[kind], ns) + "/" + name).release_conn()


def key_and_cert(cn: str) -> tuple[str, str]:
    """A real PEM private key and its self-signed certificate."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), False)
            .sign(key, hashes.SHA256()))
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode(),
            cert.public_bytes(serialization.Encoding.PEM).decode())


def tls_secret(name: str, cn: str, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    key, crt = key_and_cert(cn)

    def b64(s: str) -> str:
        return base64.b64encode(s.encode()).decode()

    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": name, "annotations": annotations or {}},
            "data": {"tls.crt": b64(crt), "tls.key": b64(key), "ca.crt": b64(crt)}}


def certificate(name: str, secret_name: str, dns: str = "web.example.test",
                issuer: str = "le") -> dict[str, Any]:
    return {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": name},
            "spec": {"secretName": secret_name, "dnsNames": [dns],
                     "issuerRef": {"name": issuer, "kind": "Issuer"}}}


def service(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"ports": [{"port": 80}]}}


def wait_storage_ready(conn: Any, timeout: float = 20.0) -> None:
    """Right after CRDs are installed the server answers 429 "storage is (re)initializing"
    for a moment; tests that count requests wait for that to pass first."""
    from kubectl_certdoctor.cluster.connection import ApiError
    from kubectl_certdoctor.cluster.watch import kind_path
    from kubectl_certdoctor.kinds import CERT_MANAGER_KINDS

    deadline = time.monotonic() + timeout
    for kind in CERT_MANAGER_KINDS:
        while True:
            try:
                conn.get(kind_path(kind, None), {"limit": 1})
                break
            except ApiError as e:
                if e.status != 429 or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
