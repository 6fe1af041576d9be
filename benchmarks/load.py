"""Fill the test API server with N Certificates the way a large platform looks.

Each Certificate gets one CertificateRequest of its current revision (owner
reference, cert-manager's annotations, status through the status subresource);
10 % also get an Order and a pending Challenge. Writes go through a small
thread pool on one keep-alive connection pool: the load itself must not
dominate a benchmark run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

CM = "/apis/cert-manager.io/v1"
ACME = "/apis/acme.cert-manager.io/v1"
NOW = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _call(api: Any, method: str, path: str, body: Any) -> dict[str, Any]:
    ctype = "application/merge-patch+json" if method == "PATCH" else "application/json"
    m, url, headers, data, post = api.param_serialize(
        method, path, header_params={"Content-Type": ctype, "Accept": "application/json"},
        body=body, auth_settings=["BearerToken"])
    resp = api.call_api(m, url, header_params=headers, body=data, post_params=post,
                        _request_timeout=60)
    raw = resp.read()
    if not 200 <= resp.status <= 299:
        raise RuntimeError(f"{method} {path}: HTTP {resp.status}: {raw[:300]!r}")
    return json.loads(raw)  # type: ignore[no-any-return]


def _cond(ctype: str, status: str, reason: str, message: str) -> dict[str, Any]:
    return {"type": ctype, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": NOW}


def issuer(ns: str) -> list[tuple[str, str, Any, Any]]:
    body = {"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
            "metadata": {"name": "bench-ca", "namespace": ns},
            "spec": {"ca": {"secretName": "bench-ca"}}}
    status = {"conditions": [_cond("Ready", "True", "KeyPairVerified", "Signing CA verified")]}
    return [("issuers", "bench-ca", body, status)]


def chain(ns: str, i: int, with_acme: bool) -> Iterator[tuple[str, str, Any, Any, str]]:
    """(plural, name, body, status, owner-name) in creation order for one Certificate."""
    name = f"cert-{i:05d}"
    cert = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"secretName": f"{name}-tls", "dnsNames": [f"{name}.bench.test"],
                     "issuerRef": {"name": "bench-ca", "kind": "Issuer"}}}
    failing = i % 10 == 0
    cstatus = {"revision": 1, "conditions": [
        _cond("Ready", "False", "Issuing", "Issuing certificate") if failing else
        _cond("Ready", "True", "Ready", "Certificate is up to date and has not expired")]}
    yield "certificates", name, cert, cstatus, ""
    cr_name = f"{name}-1"
    cr = {"apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
          "metadata": {"name": cr_name, "namespace": ns, "annotations": {
              "cert-manager.io/certificate-name": name,
              "cert-manager.io/certificate-revision": "1"}},
          "spec": {"request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K",
                   "issuerRef": {"name": "bench-ca", "kind": "Issuer"}}}
    crstatus = {"conditions": [_cond("Approved", "True", "cert-manager.io", "approved"),
                               _cond("Ready", "False" if failing else "True",
                                     "Pending" if failing else "Issued",
                                     "Waiting on certificate issuance" if failing else
                                     "Certificate fetched from issuer successfully")]}
    yield "certificaterequests", cr_name, cr, crstatus, name
    if with_acme:
        o_name = f"{cr_name}-1234567890"
        order = {"apiVersion": "acme.cert-manager.io/v1", "kind": "Order",
                 "metadata": {"name": o_name, "namespace": ns},
                 "spec": {"request": "LS0tLQ==", "dnsNames": [f"{name}.bench.test"],
                          "issuerRef": {"name": "bench-ca", "kind": "Issuer"}}}
        yield "orders", o_name, order, {"state": "pending"}, cr_name
        ch = {"apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge",
              "metadata": {"name": f"{o_name}-1", "namespace": ns},
              "spec": {"url": "https://acme.bench.test/chall/1", "authorizationURL":
                       "https://acme.bench.test/authz/1", "dnsName": f"{name}.bench.test",
                       "type": "HTTP-01", "token": f"tok{i}", "key": f"tok{i}.thumb",
                       "solver": {"http01": {"ingress": {"ingressClassName": "nginx"}}},
                       "issuerRef": {"name": "bench-ca", "kind": "Issuer"}}}
        yield "challenges", f"{o_name}-1", ch, {
            "processing": True, "presented": True, "state": "pending",
            "reason": "Waiting for HTTP-01 challenge propagation: wrong status code '404', "
                      "expected '200'"}, o_name


_KIND = {"certificates": ("Certificate", CM), "certificaterequests": ("CertificateRequest", CM),
         "orders": ("Order", ACME), "challenges": ("Challenge", ACME), "issuers": ("Issuer", CM)}
_OWNER = {"certificaterequests": "certificates", "orders": "certificaterequests",
          "challenges": "orders"}


def load(api: Any, ns: str, n: int, *, workers: int = 8,
         progress: Callable[[int], None] | None = None) -> int:
    """Create N chains in ``ns``; returns the number of objects created."""
    for plural, name, body, status in issuer(ns):
        _call(api, "POST", f"{CM}/namespaces/{ns}/{plural}", body)
        _call(api, "PATCH", f"{CM}/namespaces/{ns}/{plural}/{name}/status", {"status": status})

    def one(i: int) -> int:
        uids: dict[tuple[str, str], str] = {}
        count = 0
        for plural, name, body, status, owner in chain(ns, i, with_acme=i % 10 == 0):
            _kind, base = _KIND[plural]
            if owner:
                okind, _ = _KIND[_OWNER[plural]]
                body["metadata"]["ownerReferences"] = [{
                    "apiVersion": "cert-manager.io/v1" if okind in ("Certificate",
                                                                   "CertificateRequest")
                    else "acme.cert-manager.io/v1",
                    "kind": okind, "name": owner, "uid": uids[(_OWNER[plural], owner)],
                    "controller": True, "blockOwnerDeletion": True}]
            obj = _call(api, "POST", f"{base}/namespaces/{ns}/{plural}", body)
            uids[(plural, name)] = obj["metadata"]["uid"]
            _call(api, "PATCH", f"{base}/namespaces/{ns}/{plural}/{name}/status",
                  {"status": status})
            count += 1
        return count

    total = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for k, c in enumerate(pool.map(one, range(n)), 1):
            total += c
            if progress and k % 500 == 0:
                progress(k)
    return total + 1
