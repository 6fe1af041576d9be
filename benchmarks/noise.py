"""Fill the test API server with what a real cluster holds besides cert-manager.

- Helm release Secrets (``type: helm.sh/release.v1``, one ``release`` key of ~``secret_kb``
  KB of random bytes, as gzip output looks). Every one's data starts with ``CANARY``: the
  tool must never receive a byte of it, and ``benchmarks.tree`` scans every body it
  receives for the canary (base64, as the API server sends Secret data, and raw).
- Events, mostly about Pods and Deployments, some (``cm_event_share``) about
  cert-manager's kinds in the benchmark namespace.
- Services, mostly ClusterIP, ``lb_share`` of them LoadBalancer with an ingress IP.

All in ``namespaces`` namespaces ``noise-NN``. Written with a bounded pool of threads on one
keep-alive urllib3 pool (bodies pre-encoded), as the admin: the API server exempts
``system:masters`` from priority and fairness, so only the pool bounds the load.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

#: the first bytes of every noise Secret's data (a multiple of 3 long, so its base64 form
#: is a fixed prefix of the base64 the API server sends)
CANARY = b"CERTDOCTOR-NOISE-CANARY-DO-NOT-READ"[:33]
CANARY_B64 = base64.b64encode(CANARY)
assert len(CANARY) % 3 == 0
NOW = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Writer:
    """POST/PATCH pre-encoded bodies as the admin on a bounded keep-alive pool."""

    def __init__(self, server: str, ca: str, cert: str, key: str, workers: int = 16) -> None:
        import urllib3

        self.server = server.rstrip("/")
        self.workers = workers
        self.http = urllib3.PoolManager(num_pools=2, maxsize=workers, block=True,
                                        ca_certs=ca, cert_file=cert, key_file=key,
                                        retries=urllib3.Retry(total=3, backoff_factor=0.2))
        self.lock = threading.Lock()
        self.sent_bytes = 0

    def call(self, method: str, path: str, body: bytes, ok: tuple[int, ...] = (200, 201)) -> Any:
        ctype = "application/merge-patch+json" if method == "PATCH" else "application/json"
        r = self.http.request(method, self.server + path, body=body, timeout=60,
                              headers={"Content-Type": ctype, "Accept": "application/json"})
        if r.status == 409 and method == "POST":  # already there (a re-run): fine
            return None
        if r.status not in ok:
            raise RuntimeError(f"{method} {path}: HTTP {r.status}: {r.data[:300]!r}")
        with self.lock:
            self.sent_bytes += len(body)
        return r

    def run(self, jobs: Iterator[tuple[str, str, bytes]], total: int,
            progress: Callable[[str], None] | None, what: str) -> None:
        done = 0

        def one(job: tuple[str, str, bytes]) -> None:
            self.call(*job)

        with ThreadPoolExecutor(self.workers) as pool:
            # bounded: never more than a few thousand bodies in memory at once
            batch: list[tuple[str, str, bytes]] = []
            for job in jobs:
                batch.append(job)
                if len(batch) >= 2000:
                    list(pool.map(one, batch))
                    done += len(batch)
                    batch = []
                    if progress:
                        progress(f"  {what}: {done}/{total}")
            list(pool.map(one, batch))


def _ns(i: int, namespaces: int) -> str:
    return f"noise-{i % namespaces:02d}"


def helm_secret(ns: str, i: int, size: int) -> bytes:
    """One Helm release Secret of about ``size`` bytes of (base64) data."""
    raw = CANARY + f"{i:08d}".encode()[:6] + os.urandom(max(0, size * 3 // 4 - len(CANARY) - 6))
    app = f"app-{i:05d}"
    return json.dumps({
        "apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
        "metadata": {"name": f"sh.helm.release.v1.{app}.v1", "namespace": ns,
                     "labels": {"name": app, "owner": "helm", "status": "deployed",
                                "version": "1"}},
        "data": {"release": base64.b64encode(raw).decode()}}).encode()


_POD_REASONS = [("Normal", "Scheduled", "Successfully assigned {ns}/{obj} to node-{n}"),
                ("Normal", "Pulled", "Container image \"registry.example/app:{n}.2.1\" already "
                 "present on machine"),
                ("Normal", "Created", "Created container app"),
                ("Normal", "Started", "Started container app"),
                ("Warning", "BackOff", "Back-off restarting failed container app in pod "
                 "{obj}_{ns}(3f1c2a9e-0000-4000-8000-{n:012d})"),
                ("Warning", "Unhealthy", "Readiness probe failed: HTTP probe failed with "
                 "statuscode: 503")]
_DEP_REASONS = [("Normal", "ScalingReplicaSet", "Scaled up replica set {obj}-7d9f8b6c5 to 3"),
                ("Normal", "ScalingReplicaSet", "Scaled down replica set {obj}-5c4b3a291 to 0")]
_CM_EVENTS = [("Certificate", "cert-manager.io/v1", "Issuing",
               "The certificate has been successfully issued"),
              ("Certificate", "cert-manager.io/v1", "Requested",
               "Created new CertificateRequest resource \"{obj}-1\""),
              ("CertificateRequest", "cert-manager.io/v1", "IssuerNotReady",
               "Referenced issuer does not have a Ready status condition"),
              ("Order", "acme.cert-manager.io/v1", "Created", "Created Challenge resource"),
              ("Challenge", "acme.cert-manager.io/v1", "Presented",
               "Presented challenge using HTTP-01 challenge mechanism")]


def event(i: int, namespaces: int, cm_every: int, bench_ns: str, n_certs: int) -> bytes:
    """Events: every ``cm_every``-th about a cert-manager object in the benchmark namespace,
    the rest 60/40 about Pods and Deployments in the noise namespaces."""
    if cm_every and i % cm_every == 0:
        kind, api, reason, msg = _CM_EVENTS[(i // cm_every) % len(_CM_EVENTS)]
        ns, src = bench_ns, "cert-manager-certificates-issuing"
        base = f"cert-{(i // cm_every) % max(1, n_certs):05d}"
        obj = {"Certificate": base, "CertificateRequest": f"{base}-1",
               "Order": f"{base}-1-1234567890", "Challenge": f"{base}-1-1234567890-1"}[kind]
        typ = "Normal"
        msg = msg.format(obj=obj)
    else:
        ns = _ns(i, namespaces)
        if i % 5 < 3:
            kind, api, src = "Pod", "v1", "kubelet"
            obj = f"app-{(i // 5) % 4000:05d}-7d9f8b6c5-{i % 99991:05x}"
            typ, reason, msg = _POD_REASONS[i % len(_POD_REASONS)]
        else:
            kind, api, src = "Deployment", "apps/v1", "deployment-controller"
            obj = f"app-{(i // 5) % 4000:05d}"
            typ, reason, msg = _DEP_REASONS[i % len(_DEP_REASONS)]
        msg = msg.format(ns=ns, obj=obj, n=i % 97)
    return json.dumps({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{obj}.{i:016x}", "namespace": ns},
        "involvedObject": {"kind": kind, "apiVersion": api, "namespace": ns, "name": obj,
                           "uid": f"3f1c2a9e-0000-4000-8000-{i:012d}",
                           "resourceVersion": str(1000 + i)},
        "reason": reason, "message": msg, "type": typ, "count": 1 + i % 7,
        "source": {"component": src, "host": f"node-{i % 97}"},
        "firstTimestamp": NOW, "lastTimestamp": NOW,
        "reportingComponent": src, "reportingInstance": f"node-{i % 97}"}).encode()


def service(ns: str, i: int, lb: bool) -> bytes:
    app = f"app-{i:05d}"
    return json.dumps({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": app, "namespace": ns,
                     "labels": {"app.kubernetes.io/name": app,
                                "app.kubernetes.io/managed-by": "Helm"},
                     "annotations": {"meta.helm.sh/release-name": app,
                                     "meta.helm.sh/release-namespace": ns}},
        "spec": {"type": "LoadBalancer" if lb else "ClusterIP",
                 "selector": {"app.kubernetes.io/name": app},
                 "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                           {"name": "metrics", "port": 9090, "targetPort": 9090,
                            "protocol": "TCP"}]}}).encode()


def load_noise(w: Writer, *, secrets: int, secret_kb: float, events: int, services: int,
               namespaces: int = 50, cm_event_share: float = 0.05, lb_share: float = 0.01,
               bench_ns: str = "bench", n_certs: int = 10000,
               progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Create the noise; returns what was made (counts, the Secrets' data bytes)."""
    for k in range(namespaces):
        w.call("POST", "/api/v1/namespaces", json.dumps(
            {"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": f"noise-{k:02d}"}}).encode())
    size = int(secret_kb * 1024)

    def secret_jobs() -> Iterator[tuple[str, str, bytes]]:
        for i in range(secrets):
            ns = _ns(i, namespaces)
            yield "POST", f"/api/v1/namespaces/{ns}/secrets", helm_secret(ns, i, size)

    w.run(secret_jobs(), secrets, progress, "secrets")
    cm_every = round(1 / cm_event_share) if cm_event_share > 0 else 0

    def event_jobs() -> Iterator[tuple[str, str, bytes]]:
        for i in range(events):
            body = event(i, namespaces, cm_every, bench_ns, n_certs)
            ns = json.loads(body)["metadata"]["namespace"]
            yield "POST", f"/api/v1/namespaces/{ns}/events", body

    w.run(event_jobs(), events, progress, "events")
    lb_every = round(1 / lb_share) if lb_share > 0 else 0
    lbs = [i for i in range(services) if lb_every and i % lb_every == 0]

    def service_jobs() -> Iterator[tuple[str, str, bytes]]:
        for i in range(services):
            ns = _ns(i, namespaces)
            yield "POST", f"/api/v1/namespaces/{ns}/services", service(
                ns, i, bool(lb_every) and i % lb_every == 0)

    w.run(service_jobs(), services, progress, "services")

    def lb_status_jobs() -> Iterator[tuple[str, str, bytes]]:
        for i in lbs:
            yield "PATCH", f"/api/v1/namespaces/{_ns(i, namespaces)}/services/app-{i:05d}/status", \
                json.dumps({"status": {"loadBalancer": {"ingress": [
                    {"ip": f"203.0.113.{1 + i % 250}"}]}}}).encode()

    w.run(lb_status_jobs(), len(lbs), None, "lb status")
    return {"secrets": secrets, "secret_data_bytes": secrets * len(base64.b64encode(
        b"x" * (size * 3 // 4))), "events": events, "services": services,
        "loadbalancers": len(lbs), "namespaces": namespaces,
        "cm_events": len([i for i in range(events) if cm_every and i % cm_every == 0])}
