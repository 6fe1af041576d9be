"""Objects for the fix tests, shaped as cert-manager v1.21 and Kubernetes serve them.

The same builders feed the pure ``plan()`` tests (with server-like metadata) and
the live tests (created through the real API server, which assigns uid and
resourceVersion itself).
"""

from __future__ import annotations

import copy
from typing import Any

Obj = dict[str, Any]

VAULT_MSG = ("Failed to initialise vault client for signing: error reading Kubernetes "
             "service account token from vault-token: Code: 403. Errors: * permission denied")


def meta(name: str, ns: str = "", **extra: Any) -> Obj:
    md: Obj = {"name": name}
    if ns:
        md["namespace"] = ns
    md.update(extra)
    return md


def certificate(name: str, ns: str, *, issuing: str | None = None, revision: int | None = 1,
                attempts: int = 0, issuer: str = "ca", issuer_kind: str = "Issuer") -> Obj:
    status: Obj = {"conditions": [{"type": "Ready", "status": "False", "reason": "Failed",
                                   "message": "issuance failed",
                                   "lastTransitionTime": "2026-11-20T10:00:00Z",
                                   "observedGeneration": 1}]}
    if revision is not None:
        status["revision"] = revision
    if issuing:
        status["conditions"].append({"type": "Issuing", "status": issuing,
                                     "reason": "Failed" if issuing == "False" else "Expired",
                                     "message": "The certificate request has failed",
                                     "lastTransitionTime": "2026-11-20T10:00:00Z",
                                     "observedGeneration": 1})
    if attempts:
        status["failedIssuanceAttempts"] = attempts
        status["lastFailureTime"] = "2026-11-20T10:00:00Z"
    return {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": meta(name, ns),
            "spec": {"secretName": f"{name}-tls", "dnsNames": [f"{name}.example.test"],
                     "issuerRef": {"name": issuer, "kind": issuer_kind,
                                   "group": "cert-manager.io"}},
            "status": status}


def request(name: str, ns: str, cert: str, revision: int, *, reason: str = "Failed",
            message: str = "context deadline exceeded", cert_uid: str = "") -> Obj:
    owner: Obj = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "name": cert,
                  "uid": cert_uid or "00000000-0000-0000-0000-000000000001",
                  "controller": True, "blockOwnerDeletion": True}
    status: Obj = {"conditions": [
        {"type": "Approved", "status": "True", "reason": "cert-manager.io",
         "message": "Certificate request has been approved by cert-manager.io",
         "lastTransitionTime": "2026-11-20T09:59:00Z"},
        {"type": "Ready", "status": "False", "reason": reason, "message": message,
         "lastTransitionTime": "2026-11-20T10:00:00Z"}]}
    if reason == "Failed":
        status["failureTime"] = "2026-11-20T10:00:00Z"
    return {"apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
            "metadata": meta(name, ns, annotations={
                "cert-manager.io/certificate-name": cert,
                "cert-manager.io/certificate-revision": str(revision),
                "cert-manager.io/private-key-secret-name": f"{cert}-key"},
                ownerReferences=[owner]),
            "spec": {"request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K",
                     "issuerRef": {"name": "ca", "kind": "Issuer", "group": "cert-manager.io"},
                     "usages": ["digital signature", "key encipherment"]},
            "status": status}


def acme_issuer(name: str, ns: str, *, solvers: list[Obj] | None = None,
                kind: str = "Issuer") -> Obj:
    return {"apiVersion": "cert-manager.io/v1", "kind": kind,
            "metadata": meta(name, ns if kind == "Issuer" else ""),
            "spec": {"acme": {"server": "https://acme.example.test/dir",
                              "privateKeySecretRef": {"name": f"{name}-account"},
                              "solvers": solvers if solvers is not None else [
                                  {"http01": {"ingress": {"class": "nginx"}}}]}}}


def ingress_class(name: str, default: bool = False) -> Obj:
    md = meta(name)
    if default:
        md["annotations"] = {"ingressclass.kubernetes.io/is-default-class": "true"}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": md,
            "spec": {"controller": f"example.test/{name}"}}


def ingress(name: str, ns: str, host: str, cls: str) -> Obj:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta(name, ns),
            "spec": {"ingressClassName": cls, "rules": [{"host": host, "http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": {
                    "service": {"name": "web", "port": {"number": 80}}}}]}}]}}


def order(name: str, ns: str, cr: str, cr_uid: str = "", *, state: str = "pending") -> Obj:
    return {"apiVersion": "acme.cert-manager.io/v1", "kind": "Order",
            "metadata": meta(name, ns, ownerReferences=[{
                "apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest", "name": cr,
                "uid": cr_uid or "00000000-0000-0000-0000-000000000002", "controller": True,
                "blockOwnerDeletion": True}]),
            "spec": {"request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K",
                     "issuerRef": {"name": "acme", "kind": "Issuer",
                                   "group": "cert-manager.io"},
                     "dnsNames": ["web.example.test"]},
            "status": {"state": state}}


def challenge(name: str, ns: str, order_name: str, order_uid: str = "", *,
              state: str = "pending", cls: str = "nginx") -> Obj:
    return {"apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge",
            "metadata": meta(name, ns, ownerReferences=[{
                "apiVersion": "acme.cert-manager.io/v1", "kind": "Order", "name": order_name,
                "uid": order_uid or "00000000-0000-0000-0000-000000000003",
                "controller": True, "blockOwnerDeletion": True}]),
            "spec": {"url": "https://acme.example.test/chall/1",
                     "authorizationURL": "https://acme.example.test/authz/1",
                     "dnsName": "web.example.test", "type": "HTTP-01",
                     "token": "tok", "key": "tok.key",
                     "solver": {"http01": {"ingress": {"class": cls}}},
                     "issuerRef": {"name": "acme", "kind": "Issuer",
                                   "group": "cert-manager.io"}},
            "status": {"state": state, "processing": True, "presented": True,
                       "reason": "Waiting for HTTP-01 challenge propagation: wrong status "
                                 "code '404', expected '200'"}}


def controller(ns: str = "cert-manager", *, env: list[Obj] | None = None,
               args: list[str] | None = None, image: str = "v1.21.1") -> Obj:
    c: Obj = {"name": "cert-manager-controller",
              "image": f"quay.io/jetstack/cert-manager-controller:{image}",
              "args": args if args is not None else [
                  "--v=2", "--cluster-resource-namespace=$(POD_NAMESPACE)",
                  "--leader-election-namespace=kube-system"]}
    if env is not None:
        c["env"] = env
    labels = {"app.kubernetes.io/name": "cert-manager",
              "app.kubernetes.io/component": "controller", "app": "cert-manager"}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta("cert-manager", ns, labels=labels),
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "cert-manager"}},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [c]}}}}


def proxy_env(no_proxy: str = "127.0.0.1,localhost") -> list[Obj]:
    return [{"name": "HTTPS_PROXY", "value": "http://proxy.example.test:3128"},
            {"name": "HTTP_PROXY", "value": "http://proxy.example.test:3128"},
            {"name": "NO_PROXY", "value": no_proxy},
            {"name": "no_proxy", "value": no_proxy}]


def served(obj: Obj, n: int = 1, generation: int = 1) -> Obj:
    """``obj`` with the metadata an API server adds (for pure plan tests)."""
    out = copy.deepcopy(obj)
    md = out.setdefault("metadata", {})
    md.setdefault("uid", f"00000000-0000-0000-0001-{n:012d}")
    md.setdefault("resourceVersion", str(1000 + n))
    md.setdefault("generation", generation)
    md.setdefault("creationTimestamp", "2026-11-20T09:00:00Z")
    return out


# -- live helpers -------------------------------------------------------------------------


def create(conn: Any, obj: Obj, ns: str | None) -> Obj:
    """POST ``obj`` (into ``ns`` when namespaced), then PUT its ``status`` through the
    status subresource as a controller would; returns the stored object."""
    from kubectl_certdoctor.cluster.watch import kind_path
    from kubectl_certdoctor.kinds import BY_NAME

    kind = BY_NAME[obj["kind"]]
    body = copy.deepcopy(obj)
    status = body.pop("status", None)
    if kind.namespaced and ns:
        body["metadata"]["namespace"] = ns
    coll = kind_path(kind, body["metadata"].get("namespace") if kind.namespaced else None)
    stored = dict(conn.json("POST", coll, body=body))
    if status:
        stored["status"] = status
        stored = dict(conn.json("PUT", f"{coll}/{body['metadata']['name']}/status",
                                body=stored))
    return stored


def get(conn: Any, kind_name: str, ns: str, name: str) -> Obj | None:
    from kubectl_certdoctor.cluster.connection import ApiError
    from kubectl_certdoctor.fixes.model import object_path
    from kubectl_certdoctor.objects import Ref

    try:
        doc = conn.get(object_path(Ref(kind_name, ns, name)))
    except ApiError as e:
        if e.status == 404:
            return None
        raise
    return dict(doc)


class RecordingProxy:
    """A plain-HTTP reverse proxy on 127.0.0.1 that forwards every request to the real API
    server over TLS (authenticating with the kubeconfig user's client certificate) and
    records (method, path) — proof of which requests the client really sent."""

    def __init__(self, kubeconfig: str) -> None:
        import http.server
        import ssl
        import threading

        import yaml

        with open(kubeconfig, encoding="utf-8") as fp:
            doc = yaml.safe_load(fp)
        cluster = doc["clusters"][0]["cluster"]
        user = doc["users"][0]["user"]
        self.upstream = cluster["server"].removeprefix("https://")
        ctx = ssl.create_default_context(cafile=cluster["certificate-authority"])
        ctx.load_cert_chain(user["client-certificate"], user["client-key"])
        self.requests: list[tuple[str, str]] = []
        lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                import http.client

                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                with lock:
                    proxy.requests.append((self.command, self.path))
                up = http.client.HTTPSConnection(proxy.upstream, context=ctx, timeout=30)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "connection", "authorization")}
                up.request(self.command, self.path, body=body, headers=headers)
                r = up.getresponse()
                data = r.read()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                up.close()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

            def log_message(self, fmt: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def kubeconfig(self, path: str, namespace: str = "default") -> str:
        """A kubeconfig that reaches the API server only through this proxy."""
        import yaml

        doc = {"apiVersion": "v1", "kind": "Config", "current-context": "via-proxy",
               "clusters": [{"name": "via-proxy", "cluster": {"server": self.url}}],
               "users": [{"name": "via-proxy", "user": {}}],
               "contexts": [{"name": "via-proxy", "context": {
                   "cluster": "via-proxy", "user": "via-proxy", "namespace": namespace}}]}
        with open(path, "w", encoding="utf-8") as fp:
            yaml.safe_dump(doc, fp)
        return path

    def writes(self) -> list[tuple[str, str]]:
        """Requests that could change the cluster (reviews only ask questions)."""
        reviews = ("/apis/authentication.k8s.io/", "/apis/authorization.k8s.io/")
        return [(m, p) for m, p in self.requests
                if m in ("POST", "PUT", "PATCH", "DELETE") and not p.startswith(reviews)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)
