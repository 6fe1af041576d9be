"""Generator for the report corpus (tests/data/reports/*.yaml).

Each bundle reproduces ONE failure mode from a public report, written the way the
cert-manager version of that report writes status. Bundles are written in the shape
``kubectl certdoctor dump`` writes (a v1 List whose ``certdoctor.io/bundle`` annotation
carries ``capturedAt``), preceded by ``# source:``/``# version:``/``# expect:`` comments.

Certificates in Secrets are real X.509 (tls.crt/ca.crt only) signed with throwaway keys
generated in memory; no private key material is ever written.

Run:  .venv/bin/python tests/data/reports/_generate.py
Written independently of kubectl_certdoctor/rules (only the public code names are used).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import uuid
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

OUT = Path(__file__).resolve().parent
UTC = dt.timezone.utc
LE_PROD = "https://acme-v02.api.letsencrypt.org/directory"
LE_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory"


# ----------------------------------------------------------------------------- helpers

def ts(t: dt.datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def uid(*parts: str) -> str:
    return str(uuid.UUID(hashlib.md5("/".join(parts).encode()).hexdigest()))


_RV = [1000]


def md(name, ns=None, created=None, labels=None, ann=None, owner=None, **extra):
    _RV[0] += 7
    m = {"creationTimestamp": ts(created) if created else None, "name": name}
    if ns:
        m["namespace"] = ns
    m["resourceVersion"] = str(_RV[0])
    m["uid"] = uid(name, ns or "")
    if labels:
        m["labels"] = labels
    if ann:
        m["annotations"] = ann
    if owner:
        m["ownerReferences"] = [owner]
    m.update(extra)
    if m["creationTimestamp"] is None:
        del m["creationTimestamp"]
    return m


def cond(type_, status, reason, message, at, gen=1, with_gen=True):
    c = {"lastTransitionTime": ts(at), "message": message}
    if with_gen:
        c["observedGeneration"] = gen
    c.update({"reason": reason, "status": status, "type": type_})
    return c


def owner(kind, name, api="cert-manager.io/v1", ns=""):
    return {"apiVersion": api, "blockOwnerDeletion": True, "controller": True, "kind": kind,
            "name": name, "uid": uid(name, ns)}


_KEYS: dict[str, object] = {}


def _key(alg="ec"):
    if alg not in _KEYS:
        _KEYS[alg] = (rsa.generate_private_key(65537, 2048) if alg == "rsa"
                      else ec.generate_private_key(ec.SECP256R1()))
    return _KEYS[alg]


def pem(cn, sans=(), nb=None, na=None, ca=False, issuer_cn="Example Intermediate CA", alg="ec",
        ips=()):
    """base64 of a PEM certificate (the key exists only in memory)."""
    key = _key(alg)
    signer = _key("ec-ca") if not ca else key
    if "ec-ca" not in _KEYS:
        _KEYS["ec-ca"] = ec.generate_private_key(ec.SECP256R1())
        signer = _KEYS["ec-ca"] if not ca else key
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]) if cn else x509.Name([])
    iss = subject if ca else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn)])
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(iss)
         .public_key(key.public_key()).serial_number(int(hashlib.md5(f"{cn}{nb}".encode()).hexdigest()[:15], 16))
         .not_valid_before(nb).not_valid_after(na))
    alt = [x509.DNSName(s) for s in sans]
    import ipaddress
    alt += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if alt:
        b = b.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    cert = b.sign(signer if not ca else key, hashes.SHA256())
    return base64.b64encode(cert.public_bytes(serialization.Encoding.PEM)).decode()


def tls_secret(name, ns, created, crt_name=None, issuer=("ClusterIssuer", "letsencrypt-prod"),
               dns=(), cn="", nb=None, na=None, alg="ec", ca_pem=None, extra_ann=None,
               redacted="tls.key", ips=()):
    ann = {}
    if crt_name:
        ann = {"cert-manager.io/alt-names": ",".join(dns),
               "cert-manager.io/certificate-name": crt_name,
               "cert-manager.io/common-name": cn or (dns[0] if dns else ""),
               "cert-manager.io/ip-sans": ",".join(ips),
               "cert-manager.io/issuer-group": "cert-manager.io",
               "cert-manager.io/issuer-kind": issuer[0],
               "cert-manager.io/issuer-name": issuer[1],
               "cert-manager.io/uri-sans": ""}
    if extra_ann:
        ann.update(extra_ann)
    if redacted:
        ann["certdoctor.io/redacted-keys"] = redacted
    data = {}
    if nb is not None:
        data["tls.crt"] = pem(cn or (dns[0] if dns else ""), dns, nb, na, alg=alg, ips=ips)
    if ca_pem:
        data["ca.crt"] = ca_pem
    s = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
         "metadata": md(name, ns, created, labels={"controller.cert-manager.io/fao": "true"} if crt_name else None,
                        ann=ann or None)}
    if data:
        s["data"] = data
    return s


def opaque_secret(name, ns, created, keys):
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": md(name, ns, created, ann={"certdoctor.io/redacted-keys": ",".join(sorted(keys))})}


def deployment(name, version, T, component="controller", ns="cert-manager", replicas=1, ready=None,
               args=None, env=None, resources=None, created=None, image=None):
    ready = replicas if ready is None else ready
    created = created or (T - dt.timedelta(days=40))
    img = image or {"controller": "cert-manager-controller", "webhook": "cert-manager-webhook",
                    "cainjector": "cert-manager-cainjector"}[component]
    labels = {"app": {"controller": "cert-manager"}.get(component, component),
              "app.kubernetes.io/component": component, "app.kubernetes.io/instance": "cert-manager",
              "app.kubernetes.io/name": {"controller": "cert-manager"}.get(component, component),
              "app.kubernetes.io/version": version}
    if args is None:
        args = {"controller": ["--v=2", f"--cluster-resource-namespace=$(POD_NAMESPACE)",
                               "--leader-election-namespace=kube-system"],
                "webhook": ["--v=2", "--secure-port=10250", "--dynamic-serving-ca-secret-namespace=$(POD_NAMESPACE)",
                            "--dynamic-serving-ca-secret-name=cert-manager-webhook-ca",
                            "--dynamic-serving-dns-names=cert-manager-webhook,cert-manager-webhook.cert-manager,cert-manager-webhook.cert-manager.svc"],
                "cainjector": ["--v=2", "--leader-election-namespace=kube-system"]}[component]
    container = {"name": {"controller": "cert-manager-controller", "webhook": "cert-manager-webhook",
                          "cainjector": "cert-manager-cainjector"}[component],
                 "image": f"quay.io/jetstack/{img}:{version}", "imagePullPolicy": "IfNotPresent",
                 "args": args,
                 "env": [{"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}}] + (env or []),
                 "resources": resources or {}}
    status = {"observedGeneration": 1, "replicas": replicas}
    if replicas:
        status["updatedReplicas"] = replicas
    if ready:
        status["readyReplicas"] = ready
        status["availableReplicas"] = ready
    if replicas - ready > 0:
        status["unavailableReplicas"] = replicas - ready
    avail_ok = ready >= replicas
    status["conditions"] = [
        {"lastTransitionTime": ts(T - dt.timedelta(hours=3) if not avail_ok else created),
         "lastUpdateTime": ts(T - dt.timedelta(hours=3) if not avail_ok else created),
         "message": "Deployment has minimum availability." if avail_ok else "Deployment does not have minimum availability.",
         "reason": "MinimumReplicasAvailable" if avail_ok else "MinimumReplicasUnavailable",
         "status": "True" if avail_ok else "False", "type": "Available"},
        {"lastTransitionTime": ts(created), "lastUpdateTime": ts(created + dt.timedelta(seconds=40)),
         "message": f'ReplicaSet "{name}-7d9f8c6b5d" has successfully progressed.',
         "reason": "NewReplicaSetAvailable", "status": "True", "type": "Progressing"}]
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": md(name, ns, created, labels=labels, generation=1,
                           ann={"deployment.kubernetes.io/revision": "1"}),
            "spec": {"replicas": replicas, "selector": {"matchLabels": {k: labels[k] for k in (
                "app.kubernetes.io/component", "app.kubernetes.io/instance", "app.kubernetes.io/name")}},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"serviceAccountName": name, "containers": [container]}}},
            "status": status}


def stack(version, T, controller_kw=None, with_webhook=True):
    out = [deployment("cert-manager", version, T, **(controller_kw or {}))]
    if with_webhook:
        out.append(deployment("cert-manager-webhook", version, T, component="webhook"))
        out.append(deployment("cert-manager-cainjector", version, T, component="cainjector"))
    return out


def pod(name, deploy, version, T, component="controller", state=None, last=None, restarts=0, ready=True,
        ns="cert-manager", image=None, resources=None):
    img = image or {"controller": "cert-manager-controller", "webhook": "cert-manager-webhook",
                    "cainjector": "cert-manager-cainjector"}[component]
    cname = {"controller": "cert-manager-controller", "webhook": "cert-manager-webhook",
             "cainjector": "cert-manager-cainjector"}[component]
    cs = {"containerID": "containerd://" + hashlib.sha256(name.encode()).hexdigest(),
          "image": f"quay.io/jetstack/{img}:{version}",
          "imageID": f"quay.io/jetstack/{img}@sha256:" + hashlib.sha256(version.encode()).hexdigest(),
          "name": cname, "ready": ready, "restartCount": restarts, "started": ready,
          "state": state or {"running": {"startedAt": ts(T - dt.timedelta(days=3))}}}
    if last:
        cs["lastState"] = last
    else:
        cs["lastState"] = {}
    conds = [
        {"lastProbeTime": None, "lastTransitionTime": ts(T - dt.timedelta(days=3)), "status": "True", "type": "Initialized"},
        {"lastProbeTime": None, "lastTransitionTime": ts(T - dt.timedelta(hours=2)), "status": "True" if ready else "False",
         "type": "Ready", **({} if ready else {"reason": "ContainersNotReady", "message": f"containers with unready status: [{cname}]"})},
        {"lastProbeTime": None, "lastTransitionTime": ts(T - dt.timedelta(hours=2)), "status": "True" if ready else "False",
         "type": "ContainersReady", **({} if ready else {"reason": "ContainersNotReady", "message": f"containers with unready status: [{cname}]"})},
        {"lastProbeTime": None, "lastTransitionTime": ts(T - dt.timedelta(days=3)), "status": "True", "type": "PodScheduled"}]
    labels = {"app": {"controller": "cert-manager"}.get(component, component),
              "app.kubernetes.io/component": component, "app.kubernetes.io/instance": "cert-manager",
              "app.kubernetes.io/name": {"controller": "cert-manager"}.get(component, component),
              "app.kubernetes.io/version": version, "pod-template-hash": "7d9f8c6b5d"}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": md(name, ns, T - dt.timedelta(days=3), labels=labels,
                           owner=owner("ReplicaSet", f"{deploy}-7d9f8c6b5d", "apps/v1", ns)),
            "spec": {"containers": [{"name": cname, "image": f"quay.io/jetstack/{img}:{version}",
                                     "resources": resources or {}}],
                     "nodeName": "node-2", "serviceAccountName": deploy},
            "status": {"conditions": conds, "containerStatuses": [cs], "hostIP": "192.0.2.12",
                       "phase": "Running", "podIP": "10.244.1.17", "qosClass": "Burstable",
                       "startTime": ts(T - dt.timedelta(days=3))}}


def acme_issuer(name, ns, T, server=LE_PROD, email="ops@example.test", solvers=None, pk=None,
                ready=True, reason="ACMEAccountRegistered",
                message="The ACME account was registered with the ACME server", at=None, uri=True,
                eab=None, created=None, registered_email=True):
    kind = "Issuer" if ns else "ClusterIssuer"
    created = created or (T - dt.timedelta(days=30))
    spec = {"acme": {"email": email, "privateKeySecretRef": {"name": pk or f"{name}-account-key"},
                     "server": server, "solvers": solvers or [{"http01": {"ingress": {"class": "nginx"}}}]}}
    if eab:
        spec["acme"]["externalAccountBinding"] = eab
    status = {"acme": {}, "conditions": [cond("Ready", "True" if ready else "False", reason, message,
                                               at or created + dt.timedelta(seconds=4))]}
    if uri and ready:
        host = server.split("/")[2]
        status["acme"] = {"lastRegisteredEmail": email,
                          "uri": f"https://{host}/acme/acct/{int(hashlib.md5(name.encode()).hexdigest()[:8], 16)}"}
    return {"apiVersion": "cert-manager.io/v1", "kind": kind,
            "metadata": md(name, ns, created, generation=1), "spec": spec, "status": status}


def issuer(kind_spec, name, ns, T, ready=True, reason="", message="", at=None, created=None):
    created = created or (T - dt.timedelta(days=60))
    return {"apiVersion": "cert-manager.io/v1", "kind": "Issuer" if ns else "ClusterIssuer",
            "metadata": md(name, ns, created, generation=1), "spec": kind_spec,
            "status": {"conditions": [cond("Ready", "True" if ready else "False", reason, message,
                                           at or created + dt.timedelta(seconds=2))]}}


def certificate(name, ns, T, dns, issuer_ref, secret, conds, created=None, status_extra=None,
                spec_extra=None, cn=None, gen=1):
    created = created or (T - dt.timedelta(days=100))
    spec = {}
    if cn:
        spec["commonName"] = cn
    if dns:
        spec["dnsNames"] = list(dns)
    spec["issuerRef"] = {"group": "cert-manager.io", "kind": issuer_ref[0], "name": issuer_ref[1]}
    spec["secretName"] = secret
    if spec_extra:
        spec.update(spec_extra)
    status = {"conditions": conds}
    if status_extra:
        status.update(status_extra)
    return {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": md(name, ns, created, generation=gen), "spec": spec, "status": status}


def csr_b64(names):
    return base64.b64encode(("-----BEGIN CERTIFICATE REQUEST-----\n" +
                             base64.b64encode(("CSR for " + ",".join(names)).encode()).decode() +
                             "\n-----END CERTIFICATE REQUEST-----\n").encode()).decode()


def cert_request(name, ns, T, crt, rev, issuer_ref, conds, created, dns=(), approved=True,
                 certificate_b64=None, failure_time=None, duration="2160h0m0s", pk_secret=None):
    ann = {"cert-manager.io/certificate-name": crt, "cert-manager.io/certificate-revision": str(rev),
           "cert-manager.io/private-key-secret-name": pk_secret or f"{crt}-{name[-5:]}k"}
    c = list(conds)
    if approved:
        c = [cond("Approved", "True", "cert-manager.io",
                  "Certificate request has been approved by cert-manager.io", created, with_gen=False)] + c
        for x in c:
            x.pop("observedGeneration", None)
    status = {"conditions": c}
    if certificate_b64:
        status["certificate"] = certificate_b64
    if failure_time:
        status["failureTime"] = ts(failure_time)
    return {"apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
            "metadata": md(name, ns, created, ann=ann, generation=1, owner=owner("Certificate", crt, ns=ns)),
            "spec": {"duration": duration, "extra": {}, "groups": ["system:serviceaccounts",
                     "system:serviceaccounts:cert-manager", "system:authenticated"],
                     "issuerRef": {"group": "cert-manager.io", "kind": issuer_ref[0], "name": issuer_ref[1]},
                     "request": csr_b64(dns), "uid": uid("sa", crt),
                     "usages": ["digital signature", "key encipherment"],
                     "username": "system:serviceaccount:cert-manager:cert-manager"},
            "status": status}


def order(name, ns, T, cr, issuer_ref, dns, state, created, reason=None, authz=None, url=True,
          failure_time=None, ips=(), cn=None):
    st = {}
    if authz is not None:
        st["authorizations"] = authz
    oid = int(hashlib.md5(name.encode()).hexdigest()[:10], 16)
    if url:
        st["finalizeURL"] = f"https://acme-v02.api.letsencrypt.org/acme/finalize/1211070137/{oid}"
        st["url"] = f"https://acme-v02.api.letsencrypt.org/acme/order/1211070137/{oid}"
    if reason is not None:
        st["reason"] = reason
    if state:
        st["state"] = state
    if failure_time:
        st["failureTime"] = ts(failure_time)
    spec = {"dnsNames": list(dns), "issuerRef": {"group": "cert-manager.io", "kind": issuer_ref[0],
                                                 "name": issuer_ref[1]}, "request": csr_b64(dns)}
    if ips:
        spec["ipAddresses"] = list(ips)
    if cn:
        spec["commonName"] = cn
    return {"apiVersion": "acme.cert-manager.io/v1", "kind": "Order",
            "metadata": md(name, ns, created, generation=1, owner=owner("CertificateRequest", cr, ns=ns),
                           ann={"cert-manager.io/certificate-name": cr.rsplit("-", 1)[0],
                                "cert-manager.io/certificate-revision": "1",
                                "cert-manager.io/private-key-secret-name": cr.rsplit("-", 1)[0] + "-x7k2p"}),
            "spec": spec, "status": st}


def authz(dns, types=("http-01", "dns-01", "tls-alpn-01"), wildcard=False, initial="pending"):
    a = int(hashlib.md5(dns.encode()).hexdigest()[:10], 16)
    return {"challenges": [{"token": hashlib.sha1(f"{dns}{t}".encode()).hexdigest()[:43], "type": t,
                            "url": f"https://acme-v02.api.letsencrypt.org/acme/chall-v3/{a}/{t[:3]}Q1"}
                           for t in types],
            "identifier": dns.lstrip("*."), "initialState": initial,
            "url": f"https://acme-v02.api.letsencrypt.org/acme/authz-v3/{a}", "wildcard": wildcard}


def challenge(name, ns, T, order_name, issuer_ref, dns, type_, solver, state, reason, created,
              presented=True, processing=True, wildcard=False):
    tok = hashlib.sha1(f"{dns}{type_}".encode()).hexdigest()[:43]
    a = int(hashlib.md5(dns.encode()).hexdigest()[:10], 16)
    return {"apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge",
            "metadata": md(name, ns, created, generation=1, owner=owner("Order", order_name, "acme.cert-manager.io/v1", ns),
                           finalizers=["finalizer.acme.cert-manager.io"]),
            "spec": {"authorizationURL": f"https://acme-v02.api.letsencrypt.org/acme/authz-v3/{a}",
                     "dnsName": dns, "issuerRef": {"group": "cert-manager.io", "kind": issuer_ref[0],
                                                   "name": issuer_ref[1]},
                     "key": tok + ".Xq3vYpWbT1kzN8mD0aLrC5eH2sJ7uF9gK4oP6iQ", "solver": solver,
                     "token": tok, "type": type_,
                     "url": f"https://acme-v02.api.letsencrypt.org/acme/chall-v3/{a}/{type_[:3]}Q1",
                     "wildcard": wildcard},
            "status": {"presented": presented, "processing": processing, "reason": reason, "state": state}}


def event(ns, kind, name, type_, reason, message, first, last, count=1, component="cert-manager",
          api="cert-manager.io/v1"):
    ename = f"{name}.{int(hashlib.md5((name + reason + message).encode()).hexdigest()[:12], 16):x}"
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": md(ename, ns or "default", first),
            "involvedObject": {"apiVersion": api, "kind": kind, "name": name,
                               **({"namespace": ns} if ns else {}), "uid": uid(name, ns or "")},
            "reason": reason, "message": message, "type": type_, "count": count,
            "firstTimestamp": ts(first), "lastTimestamp": ts(last),
            "source": {"component": component}, "reportingComponent": "", "reportingInstance": ""}


def ingress(name, ns, host, cls, T, secret=None, created=None, ann=None):
    created = created or (T - dt.timedelta(days=50))
    spec = {"ingressClassName": cls, "rules": [{"host": host, "http": {"paths": [
        {"backend": {"service": {"name": name, "port": {"number": 80}}}, "path": "/", "pathType": "Prefix"}]}}]}
    if secret:
        spec["tls"] = [{"hosts": [host], "secretName": secret}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": md(name, ns, created, generation=1, ann=ann),
            "spec": spec, "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}}


def ingress_class(name, controller="k8s.io/ingress-nginx", T=None):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": md(name, None, T - dt.timedelta(days=200), generation=1),
            "spec": {"controller": controller}}


def webhook_configs(T, ca_b64, created=None):
    created = created or (T - dt.timedelta(days=40))
    def one(kind, wname, path):
        return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind,
                "metadata": md("cert-manager-webhook", None, created, generation=2,
                               ann={"cert-manager.io/inject-ca-from-secret": "cert-manager/cert-manager-webhook-ca"},
                               labels={"app": "webhook", "app.kubernetes.io/component": "webhook",
                                       "app.kubernetes.io/instance": "cert-manager",
                                       "app.kubernetes.io/name": "webhook"}),
                "webhooks": [{"admissionReviewVersions": ["v1"],
                              "clientConfig": {"caBundle": ca_b64, "service": {
                                  "name": "cert-manager-webhook", "namespace": "cert-manager",
                                  "path": path, "port": 443}},
                              "failurePolicy": "Fail", "matchPolicy": "Equivalent", "name": wname,
                              "rules": [{"apiGroups": ["cert-manager.io", "acme.cert-manager.io"],
                                         "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                                         "resources": ["*/*"], "scope": "*"}],
                              "sideEffects": "None", "timeoutSeconds": 10}]}
    return [one("MutatingWebhookConfiguration", "webhook.cert-manager.io", "/mutate"),
            one("ValidatingWebhookConfiguration", "webhook.cert-manager.io", "/validate")]


def write(fname, T, source, version, expect, objs, note=None, expect_not=(), extra_headers=()):
    head = [f"# source: {source}", f"# version: {version}",
            f"# expect: {', '.join(expect) if expect else 'none'}"]
    if expect_not:
        head.append(f"# expect-not: {', '.join(expect_not)}")
    head += list(extra_headers)
    if note:
        for line in note.strip().splitlines():
            head.append(f"# note: {line}")
    head.append(f"# kubectl-certdoctor bundle: {len(objs)} objects from context report-corpus captured {ts(T)}")
    head.append("# Secret data other than tls.crt/ca.crt and credential-like values were removed.")
    doc = {"apiVersion": "v1", "kind": "List",
           "metadata": {"annotations": {"certdoctor.io/bundle": json.dumps(
               {"tool": "kubectl-certdoctor report-corpus", "context": "report-corpus", "capturedAt": ts(T),
                "allNamespaces": True}, separators=(",", ":"))}},
           "items": objs}
    text = "\n".join(head) + "\n" + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=200)
    assert "PRIVATE KEY" not in text
    (OUT / fname).write_text(text, encoding="utf-8")


def D(*a):
    return dt.datetime(*a, tzinfo=UTC)


H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)


# ----------------------------------------------------------------------------- ACME chain

def acme_chain(ns, T, crt, dns, issuer_ref, *, ch_type="DNS-01", solver, ch_state="pending",
               ch_reason="", presented=False, processing=True, order_state="pending", order_reason=None,
               started=None, rev=1, crt_extra_status=None, crt_spec_extra=None, cn=None, wildcard=False,
               cr_ready=None, ch_events=(), with_challenge=True, order_url=True, ips=(), ready_cond=None,
               issuing_cond=None, order_failure=None):
    """Certificate -> CertificateRequest -> Order -> Challenge, as cert-manager v1 writes them."""
    started = started or (T - 20 * M)
    cr_name = f"{crt}-{hashlib.md5(crt.encode()).hexdigest()[:5]}"
    order_name = f"{cr_name}-{int(hashlib.md5(cr_name.encode()).hexdigest()[:8], 16)}"
    ch_name = f"{order_name}-{int(hashlib.md5(order_name.encode()).hexdigest()[:8], 16)}"
    objs = []
    ready_cond = ready_cond or cond("Ready", "False", "DoesNotExist", "Issuing certificate as Secret does not exist", started)
    issuing_cond = issuing_cond or cond("Issuing", "True", "DoesNotExist", "Issuing certificate as Secret does not exist", started)
    status = {"nextPrivateKeySecretName": f"{crt}-x7k2p"}
    if crt_extra_status:
        status.update(crt_extra_status)
    objs.append(certificate(crt, ns, T, dns, issuer_ref, f"{crt}-tls", [ready_cond, issuing_cond],
                            created=started, status_extra=status, spec_extra=crt_spec_extra, cn=cn))
    cr_conds = cr_ready or [cond("Ready", "False", "Pending",
                                 f'Waiting on certificate issuance from order {ns}/{order_name}: "{order_state}"',
                                 started + 2 * dt.timedelta(seconds=1), with_gen=False)]
    objs.append(cert_request(cr_name, ns, T, crt, rev, issuer_ref, cr_conds, started + dt.timedelta(seconds=1), dns=dns))
    az = [authz(d, ("dns-01",) if d.startswith("*.") else ("http-01", "dns-01", "tls-alpn-01"),
                wildcard=d.startswith("*.")) for d in dns]
    objs.append(order(order_name, ns, T, cr_name, issuer_ref, dns, order_state, started + dt.timedelta(seconds=2),
                      reason=order_reason, authz=az if order_url else None, url=order_url, ips=ips, cn=cn,
                      failure_time=order_failure))
    if with_challenge:
        objs.append(challenge(ch_name, ns, T, order_name, issuer_ref, dns[0].lstrip("*.") if dns else "",
                              ch_type, solver, ch_state, ch_reason, started + dt.timedelta(seconds=3),
                              presented=presented, processing=processing, wildcard=wildcard or (dns and dns[0].startswith("*."))))
        for (etype, ereason, emsg, first, last, count) in ch_events:
            objs.append(event(ns, "Challenge", ch_name, etype, ereason, emsg, first, last, count,
                              component="cert-manager-challenges", api="acme.cert-manager.io/v1"))
    return objs, {"cr": cr_name, "order": order_name, "challenge": ch_name}


# ----------------------------------------------------------------------------- bundles

CF_SOLVER = {"dns01": {"cloudflare": {"apiTokenSecretRef": {"key": "api-token", "name": "cloudflare-api-token-secret"},
                                      "email": "ops@example.test"}}}
R53_SOLVER = {"dns01": {"route53": {"region": "us-east-1", "hostedZoneID": "Z0EXAMPLE1234"}}}
HTTP_SOLVER = {"http01": {"ingress": {"class": "nginx"}}}


def dns01_bundles():
    # 1 Cloudflare token lacks Zone:Read (zone list)
    T = D(2021, 1, 12, 9, 30)
    objs = stack("v1.1.0", T) + [acme_issuer("letsencrypt-cf", None, T, solvers=[CF_SOLVER], pk="letsencrypt")]
    msg = ('Cloudflare API Error for GET "/zones?name=app.example.test" \n\t Error: 0: Actor '
           "'com.cloudflare.api.token.0123456789abcdef' requires permission 'com.cloudflare.api.account.zone.list' to list zones")
    ch, names = acme_chain("web", T, "app-example", ["app.example.test"], ("ClusterIssuer", "letsencrypt-cf"),
                           solver=CF_SOLVER, ch_reason=msg, presented=False,
                           ch_events=[("Warning", "PresentError", "Error presenting challenge: " + msg, T - 19 * M, T - M, 14)])
    objs += ch + [opaque_secret("cloudflare-api-token-secret", "cert-manager", T - 30 * DAY, ["api-token"])]
    write("dns01-cloudflare-token-missing-zone-read.yaml", T, "https://github.com/cert-manager/cert-manager/issues/3083",
          "v1.1.0", ["DNS01_PROVIDER_PERMISSION_DENIED"], objs, expect_not=["DNS01_PROVIDER_CREDENTIALS_INVALID"],
          note="report text (same error as #2878) re-captured in v1.1.0's Cloudflare error wording")

    # 2 Route53 AccessDenied ChangeResourceRecordSets (aws-sdk-go v1 wording, v1.7.1)
    T = D(2022, 3, 14, 21, 55)
    objs = stack("v1.7.1", T) + [acme_issuer("letsencrypt", None, T, solvers=[{"dns01": {"route53": {"region": "us-east-1"}}}])]
    msg = ("failed to change Route 53 record set: AccessDenied: User: arn:aws:sts::111122223333:assumed-role/"
           "cert-manager.k8s.example.test/1647294759484156602 is not authorized to perform: route53:ChangeResourceRecordSets "
           "on resource: arn:aws:route53:::hostedzone/Z0EXAMPLE1234 because no identity-based policy allows the "
           "route53:ChangeResourceRecordSets action\n\tstatus code: 403")
    ch, _ = acme_chain("default", T, "foo-test", ["foo.example.test"], ("ClusterIssuer", "letsencrypt"),
                       solver={"dns01": {"route53": {"region": "us-east-1"}}}, ch_reason=msg,
                       ch_events=[("Warning", "PresentError", "Error presenting challenge: " + msg, T - 19 * M, T - M, 40)])
    write("dns01-route53-accessdenied-changerrs.yaml", T, "https://github.com/cert-manager/cert-manager/issues/4061",
          "v1.7.1", ["DNS01_PROVIDER_PERMISSION_DENIED"],
          stack("v1.7.1", T, {"args": ["--v=2", "--cluster-resource-namespace=$(POD_NAMESPACE)",
                                        "--leader-election-namespace=kube-system", "--issuer-ambient-credentials"]})
          + objs[3:] + ch, expect_not=["DNS01_PROVIDER_CREDENTIALS_INVALID", "DNS01_AMBIENT_CREDENTIALS_DISABLED"])

    # 3 Route53 AccessDenied, aws-sdk-go-v2 wording (v1.16)
    T = D(2025, 1, 8, 9, 56)
    sol = {"dns01": {"route53": {"region": "us-east-1"}}}
    msg = ("failed to change Route 53 record set: operation error Route 53: ChangeResourceRecordSets, https response error "
           "StatusCode: 403, RequestID: <REDACTED>, api error AccessDenied: User: arn:aws:sts::123456789:assumed-role/my-role/"
           "1736330057360477495 is not authorized to perform: route53:ChangeResourceRecordSets on resource: "
           "arn:aws:route53:::hostedzone/xxxxxxxxxxxxxxx because no identity-based policy allows the "
           "route53:ChangeResourceRecordSets action")
    objs = stack("v1.16.2", T) + [acme_issuer("letsencrypt", None, T, solvers=[sol])]
    ch, _ = acme_chain("apps", T, "certificate", ["notworking.dns.example.test"], ("ClusterIssuer", "letsencrypt"),
                       solver=sol, ch_reason=msg,
                       ch_events=[("Warning", "PresentError", "Error presenting challenge: " + msg, T - 19 * M, T - M, 212)])
    write("dns01-route53-accessdenied-sdkv2.yaml", T, "https://github.com/cert-manager/cert-manager/issues/6308",
          "v1.16.2", ["DNS01_PROVIDER_PERMISSION_DENIED"], objs + ch, expect_not=["DNS01_PROVIDER_CREDENTIALS_INVALID"])

    # 4 Cloudflare invalid token (6003/6111)
    T = D(2021, 2, 20, 14, 0)
    msg = ('Cloudflare API Error for GET "/zones?name=example.test" \n\t Error: 6003: Invalid request headers'
           "<- 6111: Invalid format for Authorization header")
    objs = stack("v1.1.0", T) + [acme_issuer("letsencrypt", None, T, solvers=[CF_SOLVER])]
    ch, _ = acme_chain("default", T, "example-test", ["example.test"], ("ClusterIssuer", "letsencrypt"),
                       solver=CF_SOLVER, ch_reason=msg,
                       ch_events=[("Warning", "PresentError", "Error presenting challenge: " + msg, T - 19 * M, T - M, 9)])
    objs += ch + [opaque_secret("cloudflare-api-token-secret", "cert-manager", T - 30 * DAY, ["api-token"])]
    write("dns01-cloudflare-invalid-token.yaml", T, "https://github.com/cert-manager/cert-manager/issues/3021",
          "v1.1.0", ["DNS01_PROVIDER_CREDENTIALS_INVALID"], objs, expect_not=["DNS01_PROVIDER_PERMISSION_DENIED"],
          note="report ran v0.15.1; error text verbatim, status as v1.1.0 writes it")

    # 5 Route53 SignatureDoesNotMatch
    T = D(2021, 3, 2, 11, 0)
    sol = {"dns01": {"route53": {"region": "us-west-2", "accessKeyID": "AKIAIOSFODNN7EXAMPLE",
                                 "secretAccessKeySecretRef": {"name": "route53-credentials-secret", "key": "secret-access-key"}}}}
    msg = ("Failed to determine Route 53 hosted zone ID: SignatureDoesNotMatch: The request signature we calculated does "
           "not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the "
           "service documentation for details.\n\tstatus code: 403, request id: 0f3c6f0e-1b2a-4c3d-9e8f-000000000000")
    objs = stack("v1.2.0", T) + [acme_issuer("letsencrypt-staging", None, T, server=LE_STAGING, solvers=[sol])]
    ch, _ = acme_chain("default", T, "wildcard-example-test", ["*.example.test"], ("ClusterIssuer", "letsencrypt-staging"),
                       solver=sol, ch_reason=msg,
                       ch_events=[("Warning", "PresentError", "Error presenting challenge: " + msg, T - 19 * M, T - M, 11)])
    objs += ch + [opaque_secret("route53-credentials-secret", "cert-manager", T - 30 * DAY, ["secret-access-key"])]
    write("dns01-route53-signature-mismatch.yaml", T, "https://github.com/cert-manager/cert-manager/issues/2120",
          "v1.2.0", ["DNS01_PROVIDER_CREDENTIALS_INVALID"], objs, expect_not=["DNS01_PROVIDER_PERMISSION_DENIED"],
          note="report ran v0.10 (same text in #668, #1416); status as v1.2.0 writes it")

    # 6 Route53 InvalidClientTokenId
    T = D(2022, 6, 3, 8, 15)
    sol = {"dns01": {"route53": {"region": "eu-west-1", "accessKeyIDSecretRef": {"name": "route53-credentials", "key": "access-key-id"},
                                 "secretAccessKeySecretRef": {"name": "route53-credentials", "key": "secret-access-key"}}}}
    msg = ("failed to determine Route 53 hosted zone ID: InvalidClientTokenId: The security token included in the request "
           "is invalid.\n\tstatus code: 403, request id: 86d1302f-64cb-427a-8824-296ab645b63c")
    objs = stack("v1.8.2", T) + [acme_issuer("letsencrypt", None, T, solvers=[sol])]
    ch, _ = acme_chain("shop", T, "shop-tls", ["shop.example.test"], ("ClusterIssuer", "letsencrypt"), solver=sol,
                       ch_reason=msg,
                       ch_events=[("Warning", "PresentError", "Error presenting challenge: " + msg, T - 19 * M, T - M, 12)])
    objs += ch + [opaque_secret("route53-credentials", "cert-manager", T - 30 * DAY, ["access-key-id", "secret-access-key"])]
    write("dns01-route53-invalid-client-token.yaml", T, "https://github.com/barnybug/cli53/issues/278",
          "v1.8.2", ["DNS01_PROVIDER_CREDENTIALS_INVALID"], objs, expect_not=["DNS01_PROVIDER_PERMISSION_DENIED"],
          note="AWS error text verbatim from the report (wrong access key id); wrapped as cert-manager v1.8 wraps it")

    # 7 RFC2136 TSIG bad key
    T = D(2024, 5, 15, 5, 52)
    sol = {"dns01": {"rfc2136": {"nameserver": "192.0.2.53:53", "tsigAlgorithm": "HMACSHA256",
                                 "tsigKeyName": "cert-manager.", "tsigSecretSecretRef": {"name": "tsig-secret", "key": "tsig-secret-key"}}}}
    msg = "DNS update failed: dns: bad authentication"
    objs = stack("v1.14.5", T) + [acme_issuer("letsencrypt", None, T, solvers=[sol])]
    ch, _ = acme_chain("example-namespace", T, "example-com-au", ["example.test", "www.example.test"],
                       ("ClusterIssuer", "letsencrypt"), solver=sol, ch_reason=msg, started=T - 2 * H,
                       ch_events=[("Warning", "PresentError", "Error presenting challenge: " + msg, T - 2 * H, T - M, 35)])
    objs += ch + [opaque_secret("tsig-secret", "cert-manager", T - 300 * DAY, ["tsig-secret-key"])]
    write("dns01-rfc2136-tsig-bad-key.yaml", T, "https://github.com/cert-manager/cert-manager/issues/7031",
          "v1.14.5", ["DNS01_PROVIDER_CREDENTIALS_INVALID"], objs, expect_not=["DNS01_PROPAGATION_PENDING"])

    # 8 ClusterIssuer credentials Secret in the wrong namespace
    T = D(2022, 1, 21, 10, 0)
    objs = stack("v1.7.1", T) + [acme_issuer("letsencrypt-prod", None, T, solvers=[CF_SOLVER])]
    msg = 'error getting cloudflare secret: secret "cloudflare-api-token-secret" not found'
    ch, _ = acme_chain("web", T, "web-tls", ["web.example.test"], ("ClusterIssuer", "letsencrypt-prod"), solver=CF_SOLVER,
                       ch_reason=msg,
                       ch_events=[("Warning", "PresentError", "Error presenting challenge: " + msg, T - 19 * M, T - M, 8)])
    objs += ch + [opaque_secret("cloudflare-api-token-secret", "web", T - 2 * DAY, ["api-token"])]
    write("dns01-clusterissuer-secret-wrong-namespace.yaml", T, "https://github.com/cert-manager/website/pull/801",
          "v1.7.1", ["DNS01_CREDENTIALS_SECRET_NOT_FOUND"], objs,
          note="the Secret exists in namespace web, not in the cluster resource namespace cert-manager")

    # 9 namespaced Issuer + Route53 ambient credentials
    T = D(2021, 9, 13, 12, 0)
    sol = {"dns01": {"route53": {"region": "eu-west-2", "role": "arn:aws:iam::111122223333:role/cert-manager"}}}
    msg = ("error instantiating route53 challenge solver: unable to construct route53 provider: empty credentials; "
           "perhaps you meant to enable ambient credentials?")
    objs = stack("v1.5.3", T) + [acme_issuer("letsencrypt", "team-a", T, solvers=[sol])]
    ch, _ = acme_chain("team-a", T, "api-tls", ["api.team-a.example.test"], ("Issuer", "letsencrypt"), solver=sol,
                       ch_reason=msg,
                       ch_events=[("Warning", "PresentError", "Error presenting challenge: " + msg, T - 19 * M, T - M, 10)])
    write("dns01-route53-ambient-namespaced-issuer.yaml", T, "https://github.com/cert-manager/website/pull/701",
          "v1.5.3", ["DNS01_AMBIENT_CREDENTIALS_DISABLED"], objs + ch,
          note="IRSA in the controller pod; --issuer-ambient-credentials not set (default false for Issuers)")

    # 10 zone not found in Route53 (delegated sub-zone)
    T = D(2021, 1, 27, 16, 0)
    sol = {"dns01": {"route53": {"region": "us-east-1", "accessKeyID": "AKIAIOSFODNN7EXAMPLE",
                                 "secretAccessKeySecretRef": {"name": "route53-secret", "key": "secret-access-key"}}}}
    msg = ("Failed to determine Route 53 hosted zone ID: Zone homelab.example.test. not found in Route 53 for domain "
           "_acme-challenge.dex.tkg-mgmt.tkg-vsphere-lab.homelab.example.test.")
    objs = stack("v1.1.0", T) + [acme_issuer("letsencrypt-contour-cluster-issuer", None, T, solvers=[sol])]
    ch, _ = acme_chain("tanzu-system-auth", T, "dex-cert", ["dex.tkg-mgmt.tkg-vsphere-lab.homelab.example.test"],
                       ("ClusterIssuer", "letsencrypt-contour-cluster-issuer"), solver=sol, ch_reason=msg,
                       ch_events=[("Warning", "PresentError", "Error presenting challenge: " + msg, T - 19 * M, T - M, 9)])
    objs += ch + [opaque_secret("route53-secret", "cert-manager", T - 30 * DAY, ["secret-access-key"])]
    write("dns01-route53-zone-not-found.yaml", T, "https://github.com/Tanzu-Solutions-Engineering/tkg-lab/issues/28",
          "v1.1.0", ["DNS01_ZONE_NOT_FOUND"], objs, expect_not=["DNS01_PROVIDER_PERMISSION_DENIED"],
          note="report ran v0.15 (May 2020); text verbatim, status as v1.1.0 writes it")

    # 11 SOA lookup SERVFAIL (zone not found via CNAME)
    T = D(2021, 4, 21, 10, 0)
    sol = {"dns01": {"cnameStrategy": "Follow", "route53": {"region": "us-east-1"}}}
    msg = ("Could not find the start of authority, unexpected response code 'SERVFAIL' for _acme-challenge.app.example.test.")
    objs = stack("v1.3.1", T, {"args": ["--v=2", "--cluster-resource-namespace=$(POD_NAMESPACE)",
                                         "--leader-election-namespace=kube-system"]}) + [
        acme_issuer("letsencrypt", None, T, solvers=[sol])]
    ch, _ = acme_chain("default", T, "app-tls", ["app.example.test"], ("ClusterIssuer", "letsencrypt"), solver=sol,
                       ch_reason=msg,
                       ch_events=[("Warning", "PresentError", "Error presenting challenge: " + msg, T - 19 * M, T - M, 15)])
    write("dns01-soa-not-found-servfail.yaml", T, "https://github.com/cert-manager/cert-manager/pull/3906",
          "v1.3.1", ["DNS01_ZONE_NOT_FOUND"], objs + ch,
          note="wording of FindZoneByFqdn after PR #3906 (shipped in v1.4.0-alpha); captured as the PR's author saw it")

    # 12 webhook solver group not served (no APIService)
    T = D(2022, 4, 27, 9, 0)
    sol = {"dns01": {"webhook": {"groupName": "dev.imanuel.netcup.example", "solverName": "netcup",
                                 "config": {"secretRef": "netcup-secret", "customerNumber": 123456}}}}
    msg = "the server could not find the requested resource (post netcup.dev.imanuel.netcup.example)"
    objs = stack("v1.7.2", T) + [acme_issuer("letsencrypt-netcup", None, T, solvers=[sol])]
    ch, _ = acme_chain("default", T, "home-tls", ["home.example.test"], ("ClusterIssuer", "letsencrypt-netcup"),
                       solver=sol, ch_reason=msg,
                       ch_events=[("Warning", "PresentError", "Error presenting challenge: " + msg, T - 19 * M, T - M, 16)])
    objs += ch + [deployment("cert-manager-netcup-webhook", "v1.7.1", T, component="webhook",
                             image="cert-manager-netcup-webhook-example")]
    objs[-1]["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.example.test/imanuel/cert-manager-netcup-webhook:9"
    objs.append({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                 "metadata": md("v1alpha1.netcup.dev-imanuel.example", None, T - 30 * DAY),
                 "spec": {"group": "netcup.dev-imanuel.example", "groupPriorityMinimum": 1000,
                          "service": {"name": "cert-manager-netcup-webhook", "namespace": "cert-manager", "port": 443},
                          "version": "v1alpha1", "versionPriority": 15},
                 "status": {"conditions": [{"lastTransitionTime": ts(T - 30 * DAY), "message": "all checks passed",
                                            "reason": "Passed", "status": "True", "type": "Available"}]}})
    write("dns01-webhook-group-not-served.yaml", T, "https://github.com/cert-manager/cert-manager/issues/5069",
          "v1.7.2", ["DNS01_WEBHOOK_SOLVER_UNAVAILABLE"], objs,
          note="the solver's groupName does not match the group the webhook's APIService serves")

    # 13 webhook APIService not Available
    T = D(2023, 11, 20, 10, 0)
    sol = {"dns01": {"cnameStrategy": "Follow", "webhook": {"groupName": "com.github.dopingus.cert-manager-webhook-dynu",
                                                             "solverName": "dynu", "config": {"secretName": "dynu-secret"}}}}
    msg = "the server is currently unable to handle the request (post dynu.com.github.dopingus.cert-manager-webhook-dynu)"
    objs = stack("v1.13.2", T) + [acme_issuer("letsencrypt-dynu", None, T, server=LE_STAGING, solvers=[sol])]
    ch, _ = acme_chain("default", T, "home-tls", ["home.example.test"], ("ClusterIssuer", "letsencrypt-dynu"),
                       solver=sol, ch_reason=msg,
                       ch_events=[("Warning", "PresentError", "Error presenting challenge: " + msg, T - 19 * M, T - M, 16)])
    dep = deployment("cert-manager-webhook-dynu", "v1.13.2", T, component="webhook", ready=0)
    dep["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/dopingus/cert-manager-webhook-dynu:1.0.1"
    objs += ch + [dep, {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                        "metadata": md("v1alpha1.com.github.dopingus.cert-manager-webhook-dynu", None, T - 90 * DAY),
                        "spec": {"group": "com.github.dopingus.cert-manager-webhook-dynu", "groupPriorityMinimum": 1000,
                                 "service": {"name": "cert-manager-webhook-dynu", "namespace": "cert-manager", "port": 443},
                                 "version": "v1alpha1", "versionPriority": 15},
                        "status": {"conditions": [{"lastTransitionTime": ts(T - 3 * H),
                                                   "message": "endpoints for service/cert-manager-webhook-dynu in \"cert-manager\" have no addresses with port name \"https\"",
                                                   "reason": "MissingEndpoints", "status": "False", "type": "Available"}]}}]
    write("dns01-webhook-apiservice-unavailable.yaml", T, "https://github.com/Dopingus/cert-manager-webhook-dynu/issues/25",
          "v1.13.2", ["DNS01_WEBHOOK_SOLVER_UNAVAILABLE"], objs)

    # 14 genuine slow propagation, record presented
    T = D(2023, 4, 3, 10, 4)
    sol = {"dns01": {"route53": {"region": "us-east-1", "hostedZoneID": "Z0EXAMPLE1234"}}}
    msg = 'Waiting for DNS-01 challenge propagation: DNS record for "xxx.example.test" not yet propagated'
    objs = stack("v1.11.1", T, {"args": ["--v=2", "--cluster-resource-namespace=$(POD_NAMESPACE)",
                                          "--leader-election-namespace=kube-system", "--issuer-ambient-credentials",
                                          "--dns01-recursive-nameservers=192.0.2.53:53",
                                          "--dns01-recursive-nameservers-only"]}) + [
        acme_issuer("letsencrypt", None, T, solvers=[sol])]
    ch, _ = acme_chain("default", T, "xxx-tls", ["xxx.example.test"], ("ClusterIssuer", "letsencrypt"), solver=sol,
                       ch_reason=msg, presented=True, started=T - 40 * M,
                       ch_events=[("Normal", "Started", "Challenge scheduled for processing", T - 40 * M, T - 40 * M, 1),
                                  ("Normal", "Presented", "Presented challenge using DNS-01 challenge mechanism", T - 40 * M + 2 * dt.timedelta(seconds=1), T - 40 * M + 2 * dt.timedelta(seconds=1), 1)])
    write("dns01-propagation-slow.yaml", T, "https://github.com/cert-manager/cert-manager/issues/5906",
          "v1.11.1", ["DNS01_PROPAGATION_PENDING"], objs + ch,
          expect_not=["DNS01_PROVIDER_PERMISSION_DENIED", "DNS01_PROVIDER_CREDENTIALS_INVALID", "DNS01_ZONE_NOT_FOUND"],
          note="record presented 40 minutes before capture and still not visible to cert-manager's recursive nameservers (a propagation wait of a few minutes is normal and not reported)")


def acme_bundles():
    S = dt.timedelta(seconds=1)
    # 15 selectors match nothing
    T = D(2021, 3, 24, 10, 0)
    solvers = [{"http01": {"ingress": {"class": "haproxy"}}, "selector": {"matchLabels": {"use-http01-solver": "true"}}},
               {"dns01": {"cloudflare": {"email": "ops@example.test", "apiTokenSecretRef": {"name": "cloudflare-api-token-secret", "key": "api-token"}}},
                "selector": {"dnsZones": ["example.org"]}}]
    objs = stack("v1.2.0", T) + [acme_issuer("letsencrypt-prod", None, T, solvers=solvers)]
    ch, n = acme_chain("mynamespace", T, "test-cert", ["test.example.test"], ("ClusterIssuer", "letsencrypt-prod"),
                       solver={}, with_challenge=False)
    objs += ch + [event("mynamespace", "Order", n["order"], "Warning", "Solver",
                        "Failed to determine a valid solver configuration for the set of domains on the Order: no configured challenge solvers can be used for this challenge",
                        T - 19 * M, T - 3 * M, 1, component="cert-manager-orders", api="acme.cert-manager.io/v1")]
    write("acme-no-matching-solver.yaml", T, "https://github.com/cert-manager/cert-manager/issues/3798", "v1.2.0",
          ["ACME_NO_MATCHING_SOLVER"], objs, expect_not=["ACME_WILDCARD_NEEDS_DNS01"])

    # 16 wildcard with only HTTP-01
    T = D(2021, 1, 14, 9, 0)
    objs = stack("v1.1.0", T) + [acme_issuer("letsencrypt-prod", None, T, solvers=[{"http01": {"ingress": {"class": "contour"}}}])]
    ch, n = acme_chain("default", T, "wildcard-cert", ["*.example.test"], ("ClusterIssuer", "letsencrypt-prod"),
                       solver={}, with_challenge=False)
    objs += ch + [event("default", "Order", n["order"], "Warning", "Solver",
                        "Failed to determine a valid solver configuration for the set of domains on the Order: no configured challenge solvers can be used for this challenge",
                        T - 19 * M, T - 19 * M, 1, component="cert-manager", api="acme.cert-manager.io/v1")]
    write("acme-wildcard-http01-only.yaml", T, "https://github.com/cert-manager/cert-manager/issues/3181", "v1.1.0",
          ["ACME_WILDCARD_NEEDS_DNS01"], objs, note="report ran v0.16; status as v1.1.0 writes it")

    # 17 IP SAN on Let's Encrypt
    T = D(2024, 3, 18, 12, 0)
    reason = ('Failed to create Order: 400 urn:ietf:params:acme:error:unsupportedIdentifier: NewOrder request included '
              'invalid non-DNS type identifier: type "ip", value "192.0.2.46"')
    objs = stack("v1.14.4", T) + [acme_issuer("letsencrypt", None, T, solvers=[HTTP_SOLVER])]
    fail = cond("Issuing", "False", "Failed",
                'The certificate request has failed to complete and will be retried: Failed to wait for order resource '
                '"wildcard-cert-8x2kq-1403982736" to become ready: order is in "errored" state: ' + reason, T - 18 * M)
    ch, n = acme_chain("istio-ingress", T, "wildcard-cert", ["gw.example.test"], ("ClusterIssuer", "letsencrypt"),
                       solver={}, with_challenge=False, order_state="errored", order_reason=reason, order_url=False,
                       ips=["192.0.2.46"], issuing_cond=fail, order_failure=T - 18 * M,
                       crt_spec_extra={"ipAddresses": ["192.0.2.46"]},
                       crt_extra_status={"lastFailureTime": ts(T - 18 * M), "failedIssuanceAttempts": 1},
                       cr_ready=[cond("Ready", "False", "Failed",
                                      'Failed to wait for order resource "wildcard-cert-8x2kq-1403982736" to become ready: order is in "errored" state: ' + reason,
                                      T - 18 * M, with_gen=False)])
    write("acme-ip-san-letsencrypt.yaml", T, "https://github.com/cert-manager/cert-manager/issues/6863", "v1.14.4",
          ["ACME_UNSUPPORTED_IDENTIFIER"], objs + ch)

    # 18 CN > 64 bytes (no SAN short enough)
    T = D(2021, 1, 9, 16, 50)
    long = "pgweb-arkadi-pgweb-very-long-name-to-overflow-cn-limit.apps.arkadi.dev.example.test"
    reason = ("Failed to finalize Order: 400 urn:ietf:params:acme:error:badCSR: Error finalizing order :: issuing "
              "precertificate: CSR doesn't contain a SAN short enough to fit in CN")
    objs = stack("v1.1.0", T) + [acme_issuer("letsencrypt-prod", None, T, solvers=[{"http01": {"ingress": {"class": "traefik"}}}])]
    fail = cond("Issuing", "False", "Failed",
                "The certificate request has failed to complete and will be retried: Failed to wait for order resource "
                '"automation-hub-pgweb-pgweb-tls-8x2kq-402482467" to become ready: order is in "errored" state: ' + reason, T - 10 * M)
    ch, n = acme_chain("automation-hub", T, "automation-hub-pgweb-pgweb-tls", [long], ("ClusterIssuer", "letsencrypt-prod"),
                       solver={}, with_challenge=False, order_state="errored", order_reason=reason, cn=long,
                       issuing_cond=fail, order_failure=T - 10 * M, crt_extra_status={"lastFailureTime": ts(T - 10 * M)},
                       cr_ready=[cond("Ready", "False", "Failed", 'Failed to wait for order resource "automation-hub-pgweb-pgweb-tls-8x2kq-402482467" to become ready: order is in "errored" state: ' + reason, T - 10 * M, with_gen=False)])
    write("acme-common-name-too-long.yaml", T, "https://github.com/cert-manager/cert-manager/issues/2794", "v1.1.0",
          ["COMMON_NAME_TOO_LONG"], objs + ch,
          note="report ran v0.14.1 (same CA error in #1462); the Certificate requests an 84-byte name as commonName (ingress-shim era)")

    # 19 EAB missing for ZeroSSL
    T = D(2023, 8, 17, 9, 0)
    msg = ('Failed to register ACME account: 400 urn:ietf:params:acme:error:externalAccountRequired: The request must '
           'include a value for the "externalAccountBinding" field')
    objs = stack("v1.12.3", T) + [acme_issuer("zerossl-prod", None, T, server="https://acme.zerossl.com/v2/DV90",
                                              solvers=[HTTP_SOLVER], ready=False, reason="ErrRegisterACMEAccount", message=msg,
                                              at=T - 2 * H)]
    objs.append(event(None, "ClusterIssuer", "zerossl-prod", "Warning", "ErrRegisterACMEAccount", msg, T - 2 * H, T - 5 * M, 14,
                      component="cert-manager-clusterissuers"))
    write("acme-eab-missing-zerossl.yaml", T, "https://github.com/tobychui/zoraxy/issues/45", "v1.12.3",
          ["ACME_ACCOUNT_REGISTRATION_REJECTED"], objs, expect_not=["ACME_SERVER_UNREACHABLE"],
          note="CA error text verbatim from the report; the ClusterIssuer has no externalAccountBinding")

    # 20 invalid contact email
    T = D(2025, 11, 5, 5, 40)
    msg = ('Failed to register ACME account: 400 urn:ietf:params:acme:error:invalidContact: Error validating contact(s) '
           ':: contact email has forbidden domain "example.org"')
    objs = stack("v1.19.1", T) + [acme_issuer("letsencrypt", None, T, email="admin@example.org", solvers=[HTTP_SOLVER],
                                              ready=False, reason="ErrRegisterACMEAccount", message=msg, at=T - 30 * M)]
    objs.append(event(None, "ClusterIssuer", "letsencrypt", "Warning", "ErrRegisterACMEAccount", msg, T - 30 * M, T - 2 * M, 6,
                      component="cert-manager-clusterissuers"))
    write("acme-invalid-contact-email.yaml", T, "https://github.com/openwrt/luci/issues/8064", "v1.19.1",
          ["ACME_ACCOUNT_REGISTRATION_REJECTED"], objs, expect_not=["ACME_SERVER_UNREACHABLE"])

    # 21 authorization invalid at the CA
    T = D(2023, 10, 4, 12, 0)
    sol = {"dns01": {"cloudDNS": {"project": "example-project", "serviceAccountSecretRef": {"name": "clouddns-sa", "key": "key.json"}}}}
    reason = ("Error accepting authorization: acme: authorization error for canaveral-dependency-graph.example.test: 400 "
              "urn:ietf:params:acme:error:dns: DNS problem: NXDOMAIN looking up TXT for "
              "_acme-challenge.canaveral-dependency-graph.example.test - check that a DNS record exists for this domain")
    fail = cond("Issuing", "False", "Failed",
                'The certificate request has failed to complete and will be retried: Failed to wait for order resource '
                '"ingress-one-tls-1-3091599191" to become ready: order is in "invalid" state: ', T - 15 * M)
    objs = stack("v1.13.1", T) + [acme_issuer("letsencrypt", None, T, solvers=[sol])]
    ch, n = acme_chain("tools", T, "ingress-one-tls", ["canaveral-dependency-graph.example.test"], ("ClusterIssuer", "letsencrypt"),
                       solver=sol, with_challenge=False,
                       order_state="invalid", order_reason="", issuing_cond=fail, order_failure=T - 15 * M,
                       crt_extra_status={"lastFailureTime": ts(T - 15 * M), "failedIssuanceAttempts": 1},
                       cr_ready=[cond("Ready", "False", "Failed", 'Failed to wait for order resource "ingress-one-tls-1-3091599191" to become ready: order is in "invalid" state: ', T - 15 * M, with_gen=False)])
    write("acme-authorization-invalid.yaml", T, "https://github.com/cert-manager/cert-manager/issues/6388", "v1.13.1",
          ["ACME_AUTHORIZATION_INVALID"], objs + ch,
          note="second report in the thread: the record was created, the Order went invalid and cert-manager already\ndeleted the Challenges; only the invalid Order and the failed request remain")

    # 22 CAA forbids
    T = D(2022, 12, 1, 10, 0)
    reason = ("Error accepting authorization: acme: authorization error for shop.example.test: 403 "
              "urn:ietf:params:acme:error:caa: CAA record for shop.example.test prevents issuance")
    objs = stack("v1.10.1", T) + [acme_issuer("letsencrypt", None, T, solvers=[HTTP_SOLVER])]
    ch, n = acme_chain("shop", T, "shop-tls", ["shop.example.test"], ("ClusterIssuer", "letsencrypt"), ch_type="HTTP-01",
                       solver=HTTP_SOLVER, ch_state="invalid", ch_reason=reason, presented=False, processing=False,
                       order_state="invalid", order_reason="", order_failure=T - 12 * M,
                       issuing_cond=cond("Issuing", "False", "Failed", 'The certificate request has failed to complete and will be retried: Failed to wait for order resource "shop-tls-x2b7q-2231884021" to become ready: order is in "invalid" state: ', T - 12 * M),
                       cr_ready=[cond("Ready", "False", "Failed", 'Failed to wait for order resource "shop-tls-x2b7q-2231884021" to become ready: order is in "invalid" state: ', T - 12 * M, with_gen=False)],
                       crt_extra_status={"lastFailureTime": ts(T - 12 * M), "failedIssuanceAttempts": 1})
    write("acme-caa-forbids.yaml", T, "https://github.com/sjkp/letsencrypt-siteextension/issues/344", "v1.10.1",
          ["ACME_CAA_FORBIDS"], objs + ch, note="CA problem document verbatim from the report; wrapped as cert-manager writes Challenge.status.reason")

    # 23 NXDOMAIN at the CA (HTTP-01)
    T = D(2025, 3, 21, 9, 0)
    reason = ("Error accepting authorization: acme: authorization error for sub.example.test: 400 urn:ietf:params:acme:error:dns: "
              "DNS problem: NXDOMAIN looking up A for sub.example.test - check that a DNS record exists for this domain; "
              "DNS problem: NXDOMAIN looking up AAAA for sub.example.test - check that a DNS record exists for this domain")
    objs = stack("v1.17.1", T) + [acme_issuer("letsencrypt", None, T, solvers=[HTTP_SOLVER])]
    ch, n = acme_chain("app", T, "sub-tls", ["sub.example.test"], ("ClusterIssuer", "letsencrypt"), ch_type="HTTP-01",
                       solver=HTTP_SOLVER, ch_state="invalid", ch_reason=reason, presented=False, processing=False,
                       order_state="invalid", order_reason="", order_failure=T - 6 * M,
                       issuing_cond=cond("Issuing", "False", "Failed", 'The certificate request has failed to complete and will be retried: Failed to wait for order resource "sub-tls-1-2231884021" to become ready: order is in "invalid" state: ', T - 6 * M),
                       cr_ready=[cond("Ready", "False", "Failed", 'Failed to wait for order resource "sub-tls-1-2231884021" to become ready: order is in "invalid" state: ', T - 6 * M, with_gen=False)],
                       crt_extra_status={"lastFailureTime": ts(T - 6 * M), "failedIssuanceAttempts": 1})
    write("acme-nxdomain-at-ca.yaml", T, "https://github.com/cert-manager/cert-manager/issues/7636", "v1.17.1",
          ["ACME_DNS_LOOKUP_FAILED"], objs + ch, expect_not=["HTTP01_SELF_CHECK_404"])

    # 24 rate limited
    T = D(2022, 9, 25, 14, 0)
    reason = ("Failed to create Order: 429 urn:ietf:params:acme:error:rateLimited: Error creating new order :: too many "
              "certificates (5) already issued for this exact set of domains in the last 168 hours: domain.example.test, "
              "retry after 2022-09-26T01:29:08Z: see https://letsencrypt.org/docs/duplicate-certificate-limit/")
    msg = ('The certificate request has failed to complete and will be retried: Failed to wait for order resource '
           '"argocd-secret-dbljk-2317276124" to become ready: order is in "errored" state: ' + reason)
    objs = stack("v1.9.1", T) + [acme_issuer("letsencrypt", None, T, solvers=[HTTP_SOLVER])]
    ch, n = acme_chain("argocd", T, "argocd-secret", ["domain.example.test"], ("ClusterIssuer", "letsencrypt"),
                       solver={}, with_challenge=False, order_state="errored", order_reason=reason, order_url=False,
                       issuing_cond=cond("Issuing", "False", "Failed", msg, T - 20 * M), order_failure=T - 20 * M,
                       crt_extra_status={"lastFailureTime": ts(T - 20 * M)},
                       cr_ready=[cond("Ready", "False", "Failed", msg.split("retried: ", 1)[1], T - 20 * M, with_gen=False)])
    write("acme-rate-limited.yaml", T, "https://github.com/argoproj/argo-cd/pull/10697", "v1.9.1",
          ["ACME_RATE_LIMITED"], objs + ch)

    # 25 ingress-nginx admission rejects pathType Exact (v1.18)
    T = D(2025, 6, 10, 12, 0)
    msg = ('admission webhook "validate.nginx.ingress.kubernetes.io" denied the request: ingress contains invalid paths: '
           'path /.well-known/acme-challenge/oTw4h9_WsobTRn5COTSyaiAx3aWn0M7_aYisoz1gXQw cannot be used with pathType Exact')
    objs = stack("v1.18.0", T) + [acme_issuer("letsencrypt-prod", None, T, solvers=[{"http01": {"ingress": {"ingressClassName": "nginx"}}}]),
                                  ingress_class("nginx", T=T), ingress("cms", "example", "cms.example.test", "nginx", T, secret="cms-tls",
                                                                       ann={"cert-manager.io/cluster-issuer": "letsencrypt-prod"})]
    ch, n = acme_chain("example", T, "cms-tls", ["cms.example.test"], ("ClusterIssuer", "letsencrypt-prod"), ch_type="HTTP-01",
                       solver={"http01": {"ingress": {"ingressClassName": "nginx"}}}, ch_reason=msg, presented=False,
                       ch_events=[("Warning", "PresentError", "Error presenting challenge: " + msg, T - 19 * M, T - 4 * M, 7)])
    write("http01-solver-ingress-pathtype-exact.yaml", T, "https://github.com/cert-manager/cert-manager/issues/7791",
          "v1.18.0", ["HTTP01_SOLVER_INGRESS_REJECTED"], objs + ch, expect_not=["HTTP01_SELF_CHECK_404"])

    # 26/27/28 self-check 404 vs 503 vs 403
    for fname, ver, T, code, src, exp, notexp, note in [
        ("http01-self-check-404.yaml", "v1.2.0", D(2021, 2, 10, 10, 0), "404",
         "https://github.com/cert-manager/cert-manager/issues/3021", ["HTTP01_SELF_CHECK_404"], [],
         "report ran v0.15.1 (second symptom in the report); status as v1.2.0 writes it"),
        ("http01-self-check-503.yaml", "v1.6.1", D(2022, 1, 11, 11, 33), "503",
         "https://github.com/cert-manager/cert-manager/issues/4709", ["HTTP01_SELF_CHECK_WRONG_STATUS"], ["HTTP01_SELF_CHECK_404"], None),
        ("http01-self-check-403-cdn.yaml", "v1.5.4", D(2021, 11, 3, 15, 0), "403",
         "https://github.com/cert-manager/cert-manager/issues/4577", ["HTTP01_SELF_CHECK_WRONG_STATUS"], ["HTTP01_SELF_CHECK_404"],
         "a CDN in front answers 403 for the challenge path")]:
        msg = f"Waiting for HTTP-01 challenge propagation: wrong status code '{code}', expected '200'"
        objs = stack(ver, T) + [acme_issuer("letsencrypt-prod", None, T, solvers=[HTTP_SOLVER]), ingress_class("nginx", T=T),
                                ingress("accounting-service", "default", "accounting.example.test", "nginx", T, secret="accounting-service-tls")]
        ch, n = acme_chain("default", T, "accounting-service-tls", ["accounting.example.test"], ("ClusterIssuer", "letsencrypt-prod"),
                           ch_type="HTTP-01", solver=HTTP_SOLVER, ch_reason=msg, presented=True,
                           ch_events=[("Normal", "Presented", "Presented challenge using HTTP-01 challenge mechanism", T - 19 * M, T - 19 * M, 1)])
        write(fname, T, src, ver, exp, objs + ch, expect_not=notexp, note=note)

    # 29 register: context deadline exceeded on a current version
    T = D(2026, 3, 2, 10, 0)
    msg = 'Failed to register ACME account: Get "https://acme-v02.api.letsencrypt.org/directory": context deadline exceeded'
    objs = stack("v1.20.0", T) + [acme_issuer("letsencrypt-prod", None, T, solvers=[HTTP_SOLVER], ready=False,
                                              reason="ErrRegisterACMEAccount", message=msg, at=T - H)]
    objs.append(event(None, "ClusterIssuer", "letsencrypt-prod", "Warning", "ErrRegisterACMEAccount", msg, T - H, T - 3 * M, 9,
                      component="cert-manager-clusterissuers"))
    write("acme-register-context-deadline-current.yaml", T, "https://github.com/cert-manager/cert-manager/issues/4452",
          "v1.20.0", ["ACME_SERVER_UNREACHABLE"], objs, expect_not=["ACME_ACCOUNT_KEY_SECRET_UNREADABLE"],
          note="egress to the ACME server blocked; same symptom as the report, written as v1.20 writes it")

    # 30 register: connection refused (v1.12)
    T = D(2023, 9, 3, 0, 16)
    msg = ('Failed to register ACME account: Get "https://acme-v02.api.letsencrypt.org/directory": dial tcp '
           '198.51.100.163:443: connect: connection refused')
    objs = stack("v1.12.4", T) + [acme_issuer("cloudflare", None, T, solvers=[CF_SOLVER], pk="cloudflare-acme-clusterissuer-account-key",
                                              ready=False, reason="ErrRegisterACMEAccount", message=msg, at=T - 30 * M)]
    write("acme-register-connection-refused.yaml", T, "https://github.com/trueforge-org/truecharts/issues/12167",
          "v1.12.4", ["ACME_SERVER_UNREACHABLE"], objs, expect_not=["ACME_ACCOUNT_KEY_SECRET_UNREADABLE"])

    # 31 verify: context deadline exceeded on v1.1 (= registration error then)
    T = D(2021, 1, 5, 9, 48)
    msg = "Failed to verify ACME account: context deadline exceeded"
    objs = stack("v1.1.0", T) + [acme_issuer("letsencrypt-dns01", None, T, solvers=[CF_SOLVER], ready=False,
                                             reason="ErrRegisterACMEAccount", message=msg, at=T - 37 * M)]
    objs += [event(None, "ClusterIssuer", "letsencrypt-dns01", "Warning", "ErrVerifyACMEAccount", msg, T - 37 * M, T - M, 13),
             event(None, "ClusterIssuer", "letsencrypt-dns01", "Warning", "ErrInitIssuer", "Error initializing issuer: context deadline exceeded", T - 37 * M, T - M, 13)]
    write("acme-verify-context-deadline-v1.1.yaml", T, "https://github.com/cert-manager/cert-manager/issues/2981",
          "v1.1.0", ["ACME_SERVER_UNREACHABLE"], objs, expect_not=["ACME_ACCOUNT_KEY_SECRET_UNREADABLE"],
          note="report ran v0.15 (also #2813, v0.14.2); v1.0-v1.3 write registration errors with this prefix")

    # 32 verify: ... context deadline exceeded on v1.14 (= reading the account key Secret)
    T = D(2024, 2, 6, 8, 20)
    msg = ('Failed to verify ACME account: Get "https://10.96.0.1:443/api/v1/namespaces/cert-manager/secrets/'
           'letsencrypt-prod-account-key": context deadline exceeded')
    objs = stack("v1.14.2", T) + [acme_issuer("letsencrypt-prod", None, T, solvers=[HTTP_SOLVER], ready=False,
                                              reason="ErrVerifyACMEAccount", message=msg, at=T - 20 * M)]
    write("acme-verify-context-deadline-v1.14.yaml", T, "https://github.com/cert-manager/cert-manager/issues/4452",
          "v1.14.2", ["ACME_ACCOUNT_KEY_SECRET_UNREADABLE"], objs, expect_not=["ACME_SERVER_UNREACHABLE"],
          note="since v1.4.0 'Failed to verify ACME account:' + reason ErrVerifyACMEAccount is the account-key Secret GET\n(pkg/issuer/acme/setup.go keyFromSecret); the API server call timed out")


def vault_issuer(name, ns, T, path="pki_int/sign/example-dot-test", auth=None, ready=True, reason="VaultVerified",
                 message="Vault verified", at=None):
    spec = {"vault": {"server": "https://vault.example.test:8200", "path": path,
                      "auth": auth or {"kubernetes": {"mountPath": "/v1/auth/kubernetes", "role": "cert-manager",
                                                      "secretRef": {"name": "vault-issuer-token", "key": "token"}}}}}
    return issuer(spec, name, ns, T, ready=ready, reason=reason, message=message, at=at)


def secrets_bundles():
    S = dt.timedelta(seconds=1)
    # 33 two Certificates, one secretName
    T = D(2023, 3, 20, 12, 0)
    objs = stack("v1.11.0", T)
    sol = {"dns01": {"route53": {"region": "us-east-1"}}}
    objs += [acme_issuer("foo-com", None, T, solvers=[sol]), acme_issuer("bar-com", None, T, solvers=[sol])]
    for name, cn, iss, rev in [("wildcard-foo-com", "*.foo.example.test", "foo-com", 212), ("wildcard-bar-com", "*.bar.example.test", "bar-com", 209)]:
        objs.append(certificate(name, "bounce", T, [cn], ("ClusterIssuer", iss), "wildcard-baz-com",
                                [cond("Ready", "False", "IncorrectIssuer",
                                      f"Issuing certificate as Secret was previously issued by ClusterIssuer.cert-manager.io/{'bar-com' if iss == 'foo-com' else 'foo-com'}", T - 40 * S),
                                 cond("Issuing", "True", "IncorrectIssuer",
                                      f"Issuing certificate as Secret was previously issued by ClusterIssuer.cert-manager.io/{'bar-com' if iss == 'foo-com' else 'foo-com'}", T - 40 * S)],
                                created=T - 2 * DAY, cn=cn,
                                status_extra={"revision": rev, "notBefore": ts(T - 3 * M), "notAfter": ts(T - 3 * M + 90 * DAY),
                                              "renewalTime": ts(T - 3 * M + 60 * DAY), "nextPrivateKeySecretName": name + "-q8x2z"}))
    objs.append(tls_secret("wildcard-baz-com", "bounce", T - 2 * DAY, "wildcard-bar-com", ("ClusterIssuer", "bar-com"),
                           ["*.bar.example.test"], nb=T - 3 * M, na=T - 3 * M + 90 * DAY))
    write("secret-shared-by-two-certificates.yaml", T, "https://github.com/cert-manager/cert-manager/issues/5875", "v1.11.0",
          ["SECRET_SHARED_BY_CERTIFICATES"], objs)

    # 34 Certificate writes into the ACME account key Secret
    T = D(2021, 4, 12, 10, 0)
    reason = ("Failed to finalize Order: 400 urn:ietf:params:acme:error:badPublicKey: Error finalizing order :: certificate "
              "public key must be different than account key")
    objs = stack("v1.3.1", T) + [acme_issuer("letsencrypt-issuer", "portal", T, server=LE_STAGING, pk="vs-portal-tls-secret",
                                             solvers=[HTTP_SOLVER])]
    fail = cond("Issuing", "False", "Failed", 'The certificate request has failed to complete and will be retried: Failed to wait for order resource "vs-portal-tls-2v8kq-1839562051" to become ready: order is in "errored" state: ' + reason, T - 30 * M)
    ch, n = acme_chain("portal", T, "vs-portal-tls", ["portal.example.test"], ("Issuer", "letsencrypt-issuer"), solver={},
                       with_challenge=False, order_state="errored", order_reason=reason, issuing_cond=fail,
                       order_failure=T - 30 * M, crt_extra_status={"lastFailureTime": ts(T - 30 * M)},
                       cr_ready=[cond("Ready", "False", "Failed", fail["message"].split("retried: ", 1)[1], T - 30 * M, with_gen=False)])
    ch[0]["spec"]["secretName"] = "vs-portal-tls-secret"
    ch.append(tls_secret("vs-portal-tls-secret", "portal", T - 5 * DAY, redacted="tls.key"))
    write("secret-is-acme-account-key.yaml", T, "https://github.com/cert-manager/cert-manager/issues/1387", "v1.3.1",
          ["SECRET_IS_ACME_ACCOUNT_KEY"], objs + ch, note="report ran v0.6; the Issuer's privateKeySecretRef and the Certificate's secretName are the same Secret")

    # 35 Certificate overwrites its CA issuer's key pair
    T = D(2024, 5, 20, 9, 0)
    ca_pem = pem("Example Root CA", (), T - 400 * DAY, T + 3000 * DAY, ca=True)
    objs = stack("v1.14.5", T)
    objs.append(issuer({"ca": {"secretName": "ca-key-pair"}}, "ca-issuer", "apps", T, ready=False, reason="ErrGetKeyPair",
                       message="Error getting keypair for CA issuer: certificate is not a CA", at=T - 50 * M))
    objs.append(certificate("web", "apps", T, ["web.apps.example.test"], ("Issuer", "ca-issuer"), "ca-key-pair",
                            [cond("Ready", "True", "Ready", "Certificate is up to date and has not expired", T - 50 * M),
                             cond("Issuing", "False", "Issued", "The certificate has been successfully issued", T - 50 * M)],
                            created=T - 51 * M, status_extra={"revision": 1, "notBefore": ts(T - 50 * M), "notAfter": ts(T - 50 * M + 90 * DAY),
                                                              "renewalTime": ts(T - 50 * M + 60 * DAY)}))
    objs.append(tls_secret("ca-key-pair", "apps", T - 400 * DAY, "web", ("Issuer", "ca-issuer"), ["web.apps.example.test"],
                           nb=T - 50 * M, na=T - 50 * M + 90 * DAY, ca_pem=ca_pem))
    objs.append(certificate("api", "apps", T, ["api.apps.example.test"], ("Issuer", "ca-issuer"), "api-tls",
                            [cond("Ready", "False", "DoesNotExist", "Issuing certificate as Secret does not exist", T - 20 * M),
                             cond("Issuing", "True", "DoesNotExist", "Issuing certificate as Secret does not exist", T - 20 * M)],
                            created=T - 20 * M))
    objs.append(cert_request("api-1", "apps", T, "api", 1, ("Issuer", "ca-issuer"),
                             [cond("Ready", "False", "Pending", 'Referenced issuer does not have a Ready status condition', T - 20 * M, with_gen=False)],
                             T - 20 * M, dns=["api.apps.example.test"]))
    write("secret-is-ca-issuer-keypair.yaml", T, "https://github.com/cert-manager/cert-manager/pull/8374", "v1.14.5",
          ["SECRET_IS_CA_ISSUER_KEYPAIR"], objs, note="fixes #7002: a Certificate issued by the CA issuer wrote its leaf into the CA's own Secret")

    # 36 rotationPolicy Never with changed key spec
    T = D(2023, 10, 25, 12, 0)
    nb = T - 30 * DAY
    objs = stack("v1.13.1", T) + [issuer({"ca": {"secretName": "hubble-ca-secret"}}, "hubble-issuer", "kube-system", T,
                                         reason="KeyPairVerified", message="Signing CA verified")]
    objs.append(certificate("hubble-relay-client-certs", "kube-system", T, ["*.hubble-relay.cilium.io"], ("Issuer", "hubble-issuer"),
                            "hubble-relay-client-certs",
                            [cond("Ready", "True", "Ready", "Certificate is up to date and has not expired", nb, gen=1),
                             cond("Issuing", "True", "SecretMismatch", "Existing private key is not up to date for spec: [spec.privateKey.algorithm]", T - 12 * M, gen=2)],
                            created=T - 200 * DAY, gen=2, cn="*.hubble-relay.cilium.io",
                            spec_extra={"duration": "26280h0m0s", "privateKey": {"algorithm": "ECDSA", "size": 256},
                                        "usages": ["signing", "key encipherment", "client auth"]},
                            status_extra={"revision": 1, "notBefore": ts(nb), "notAfter": ts(nb + 1095 * DAY),
                                          "renewalTime": ts(nb + 730 * DAY), "nextPrivateKeySecretName": "hubble-relay-client-certs-r2t8v"}))
    objs.append(tls_secret("hubble-relay-client-certs", "kube-system", T - 200 * DAY, "hubble-relay-client-certs",
                           ("Issuer", "hubble-issuer"), ["*.hubble-relay.cilium.io"], cn="*.hubble-relay.cilium.io",
                           nb=nb, na=nb + 1095 * DAY, alg="rsa"))
    objs.append(event("kube-system", "Certificate", "hubble-relay-client-certs", "Warning", "CannotRegenerateKey",
                      'User intervention required: existing private key in Secret "hubble-relay-client-certs" does not match requirements on Certificate resource, mismatching fields: [spec.privateKey.algorithm[], but cert-manager cannot create new private key as the Certificate\'s .spec.privateKey.rotationPolicy is unset or set to Never. To allow cert-manager to create a new private key you can set .spec.privateKey.rotationPolicy to \'Always\' (this will result in the private key being regenerated every time a cert is renewed)',
                      T - 12 * M, T - 12 * M, 1, component="cert-manager-certificates-key-manager"))
    write("private-key-cannot-regenerate.yaml", T, "https://github.com/cilium/cilium/pull/28787", "v1.13.1",
          ["PRIVATE_KEY_CANNOT_REGENERATE"], objs, note="Helm chart switched the key to ECDSA; rotationPolicy unset (Never before v1.18)")

    # 37 renewal loop: Vault max_ttl 30d, renewBefore default 30d (status excerpt from PR #4040)
    T = D(2021, 5, 7, 9, 6, 40)
    nb, na = D(2021, 5, 7, 9, 6, 20), D(2021, 6, 6, 9, 6, 50)
    objs = stack("v1.3.1", T) + [vault_issuer("vault-issuer", "default", T)]
    objs.append(certificate("example-com", "default", T, ["example.test"], ("Issuer", "vault-issuer"), "example-com",
                            [cond("Ready", "True", "Ready", "Certificate is up to date and has not expired", T - 20 * S),
                             cond("Issuing", "True", "Renewing", "Renewing certificate as renewal was scheduled at 2021-05-07 09:06:50 +0000 UTC", T - S)],
                            created=T - 2 * H, status_extra={"nextPrivateKeySecretName": "example-com-l2g4c", "notAfter": ts(na),
                                                             "notBefore": ts(nb), "renewalTime": ts(D(2021, 5, 7, 9, 6, 50)), "revision": 185}))
    objs.append(tls_secret("example-com", "default", T - 2 * H, "example-com", ("Issuer", "vault-issuer"), ["example.test"],
                           nb=nb, na=na))
    write("renewal-loop-vault-30d.yaml", T, "https://github.com/cert-manager/cert-manager/pull/4040", "v1.3.1",
          ["CERTIFICATE_RENEWAL_LOOP"], objs, note="issued validity 720h0m30s vs default renewBefore 720h: renewal due 30 s after issuance (fixed in v1.4)")

    # 38 renewal loop: duration 1440h, renewBefore 720h, Vault clamps to 30d (v1.5)
    T = D(2021, 9, 1, 14, 0, 20)
    nb, na = T - 50 * S, T - 50 * S + 720 * H + 30 * S
    objs = stack("v1.5.3", T) + [vault_issuer("vault", "default", T)]
    objs.append(certificate("example", "default", T, ["example.test"], ("Issuer", "vault"), "example",
                            [cond("Ready", "True", "Ready", "Certificate is up to date and has not expired", T - 20 * S),
                             cond("Issuing", "True", "Renewing", f"Renewing certificate as renewal was scheduled at {(nb + 30 * S).strftime('%Y-%m-%d %H:%M:%S')} +0000 UTC", T - 20 * S)],
                            created=T - 3 * H, spec_extra={"duration": "1440h0m0s", "renewBefore": "720h0m0s"},
                            status_extra={"notAfter": ts(na), "notBefore": ts(nb), "renewalTime": ts(nb + 30 * S), "revision": 342}))
    objs.append(tls_secret("example", "default", T - 3 * H, "example", ("Issuer", "vault"), ["example.test"], nb=nb, na=na))
    write("renewal-loop-renewbefore-vs-clamped-ttl.yaml", T, "https://github.com/cert-manager/cert-manager/issues/4423", "v1.5.3",
          ["CERTIFICATE_RENEWAL_LOOP"], objs)

    # 39 Vault path pki/issue instead of pki/sign
    T = D(2022, 5, 5, 10, 0)
    objs = stack("v1.8.0", T) + [vault_issuer("vault-issuer", None, T, path="pki_int/issue/example-dot-com")]
    objs.append(certificate("example-com", "default", T, ["www.example.test"], ("ClusterIssuer", "vault-issuer"), "example-com-tls",
                            [cond("Ready", "False", "InvalidKeyPair", "Issuing certificate as Secret contains an invalid key-pair: tls: private key does not match public key", T - 30 * S),
                             cond("Issuing", "True", "InvalidKeyPair", "Issuing certificate as Secret contains an invalid key-pair: tls: private key does not match public key", T - 30 * S)],
                            created=T - DAY, status_extra={"revision": 97, "notBefore": ts(T - M), "notAfter": ts(T - M + 720 * H),
                                                           "renewalTime": ts(T - M + 480 * H), "nextPrivateKeySecretName": "example-com-9q2zx"}))
    objs.append(tls_secret("example-com-tls", "default", T - DAY, "example-com", ("ClusterIssuer", "vault-issuer"), ["www.example.test"],
                           nb=T - M, na=T - M + 720 * H))
    objs.append(cert_request("example-com-97", "default", T, "example-com", 97, ("ClusterIssuer", "vault-issuer"),
                             [cond("Ready", "True", "Issued", "Certificate fetched from issuer successfully", T - M, with_gen=False)],
                             T - M - 2 * S, dns=["www.example.test"], certificate_b64=pem("www.example.test", ["www.example.test"], T - M, T - M + 720 * H)))
    write("vault-path-issue-not-sign.yaml", T, "https://github.com/cert-manager/cert-manager/issues/5087", "v1.8.0",
          ["VAULT_PATH_ISSUE_NOT_SIGN"], objs)

    # 40 Vault Kubernetes auth 403
    T = D(2021, 1, 18, 10, 0)
    msg = ("Failed to initialize Vault client: error reading Kubernetes service account token from issuer-token-m6cpj: "
           "error calling Vault server: Error making API request.\n\nURL: POST http://vault.vault.svc.cluster.local.:8200/v1/auth/kubernetes/login\n"
           "Code: 403. Errors:\n\n* permission denied")
    objs = stack("v1.1.0", T) + [vault_issuer("vault-issuer", "default", T, auth={"kubernetes": {"mountPath": "/v1/auth/kubernetes", "role": "issuer",
                                                                                               "secretRef": {"name": "issuer-token-m6cpj", "key": "token"}}},
                                              ready=False, reason="VaultError", message=msg, at=T - H)]
    objs[-1]["spec"]["vault"]["server"] = "http://vault.vault.svc.cluster.local.:8200"
    objs.append(event("default", "Issuer", "vault-issuer", "Warning", "ErrInitIssuer", "Error initializing issuer: " + msg.split(": ", 1)[1], T - H, T - M, 60))
    write("vault-kubernetes-auth-403.yaml", T, "https://github.com/cert-manager/cert-manager/issues/2969", "v1.1.0",
          ["VAULT_AUTH_FAILED"], objs, note="report comment ran v1.0.x (Oct 2020); status as v1.1.0 writes it")

    # 41 Vault AppRole 403 (HCP namespace)
    T = D(2022, 11, 7, 13, 21)
    msg = ("Failed to initialize Vault client: error logging in to Vault server: Error making API request.\n\nURL: POST "
           "https://vault.example.test:8200/v1/auth/approle/login\nCode: 403. Errors:\n\n* permission denied")
    objs = stack("v1.10.0", T) + [vault_issuer("vault-issuer", None, T, path="pki_xxxx/sign/xxxx-yyy-zzz",
                                               auth={"appRole": {"path": "approle", "roleId": "aaaabbbbccccddddeeeeeffffff9999",
                                                                 "secretRef": {"name": "vault-approle", "key": "secretId"}}},
                                               ready=False, reason="VaultError", message=msg, at=T - 2 * H)]
    objs[-1]["spec"]["vault"]["namespace"] = "admin/platform"
    objs.append(opaque_secret("vault-approle", "cert-manager", T - 100 * DAY, ["secretId"]))
    write("vault-approle-auth-403.yaml", T, "https://github.com/cert-manager/cert-manager/issues/5563", "v1.10.0",
          ["VAULT_AUTH_FAILED"], objs)

    # 42 Vault 403 on v1.11, CertificateRequest Pending forever
    T = D(2024, 6, 17, 8, 0)
    created = T - 7 * DAY
    msg = ("Failed to initialise vault client for signing: error reading Kubernetes service account token from vault-issuer-token: "
           "error calling Vault server: Error making API request.\n\nURL: POST https://vault.example.test:8200/v1/auth/kubernetes/login\n"
           "Code: 403. Errors:\n\n* permission denied")
    objs = stack("v1.11.5", T) + [vault_issuer("vault-issuer", "payments", T)]
    objs.append(certificate("api-tls", "payments", T, ["api.payments.example.test"], ("Issuer", "vault-issuer"), "api-tls",
                            [cond("Ready", "True", "Ready", "Certificate is up to date and has not expired", created - 20 * DAY),
                             cond("Issuing", "True", "Renewing", f"Renewing certificate as renewal was scheduled at {created.strftime('%Y-%m-%d %H:%M:%S')} +0000 UTC", created)],
                            created=T - 300 * DAY, spec_extra={"duration": "720h0m0s", "renewBefore": "240h0m0s"},
                            status_extra={"revision": 9, "notBefore": ts(created - 20 * DAY), "notAfter": ts(created + 10 * DAY),
                                          "renewalTime": ts(created), "nextPrivateKeySecretName": "api-tls-p8zpc"}))
    objs.append(cert_request("api-tls-10", "payments", T, "api-tls", 10, ("Issuer", "vault-issuer"),
                             [cond("Ready", "False", "Pending", msg, created + S, with_gen=False)], created, dns=["api.payments.example.test"],
                             duration="720h0m0s"))
    objs.append(tls_secret("api-tls", "payments", T - 300 * DAY, "api-tls", ("Issuer", "vault-issuer"), ["api.payments.example.test"],
                           nb=created - 20 * DAY, na=created + 10 * DAY))
    objs.append(event("payments", "CertificateRequest", "api-tls-10", "Warning", "ErrorVaultInit", msg, created + S, created + S, 1,
                      component="cert-manager-certificaterequests-issuer-vault"))
    write("vault-403-not-retried-v1.11.yaml", T, "https://github.com/cert-manager/cert-manager/issues/7097", "v1.11.5",
          ["VAULT_PERMISSION_DENIED_NOT_RETRIED"], objs,
          note="transient 403 while the Vault role was being rotated; the Issuer is Ready again but the request never retries")

    # 43 failed CertificateRequest with exponential backoff (v1.17)
    T = D(2025, 5, 9, 18, 10)
    fail_at = T - 22 * M
    err = ("Vault failed to sign certificate: failed to sign certificate by vault: Error making API request.\n\nURL: POST "
           "http://vault.default.svc.cluster.local:8200/v1/pki/sign/vault-issuer\nCode: 400. Errors:\n\n* cannot satisfy request, "
           "as TTL would result in notAfter of 2025-05-11T17:46:39.831148839Z that is beyond the expiration of the CA certificate at 2025-05-09T17:34:32Z")
    objs = stack("v1.17.2", T) + [vault_issuer("vault-issuer", "default", T, path="pki/sign/vault-issuer")]
    objs[-1]["spec"]["vault"]["server"] = "http://vault.default.svc.cluster.local:8200"
    objs.append(certificate("example-com", "default", T, ["example.test"], ("Issuer", "vault-issuer"), "example-com-tls",
                            [cond("Ready", "False", "DoesNotExist", "Issuing certificate as Secret does not exist", T - 2 * H),
                             cond("Issuing", "False", "Failed", "The certificate request has failed to complete and will be retried: " + err, fail_at)],
                            created=T - 2 * H, status_extra={"failedIssuanceAttempts": 3, "lastFailureTime": ts(fail_at)},
                            spec_extra={"duration": "48h0m0s"}))
    objs.append(cert_request("example-com-3", "default", T, "example-com", 1, ("Issuer", "vault-issuer"),
                             [cond("Ready", "False", "Failed", err, fail_at, with_gen=False)], fail_at - S, dns=["example.test"],
                             failure_time=fail_at, duration="48h0m0s"))
    write("failed-request-backoff.yaml", T, "https://github.com/cert-manager/cert-manager/issues/7741", "v1.17.2",
          ["CERTIFICATE_REQUEST_FAILED", "ISSUANCE_BACKOFF"], objs,
          note="third failure 22 min before capture: next attempt 4h after it (exponential backoff, 1h*2^(n-1))")


def component_bundles():
    S = dt.timedelta(seconds=1)
    # 44 controller OOMKilled / CrashLoopBackOff
    T = D(2022, 6, 14, 10, 0)
    res = {"limits": {"cpu": "20m", "memory": "64Mi"}, "requests": {"cpu": "10m", "memory": "32Mi"}}
    objs = [deployment("cert-manager", "v1.8.0", T, ready=0, resources=res),
            deployment("cert-manager-webhook", "v1.8.0", T, component="webhook"),
            deployment("cert-manager-cainjector", "v1.8.0", T, component="cainjector"),
            pod("cert-manager-7d9f8c6b5d-x2kq9", "cert-manager", "v1.8.0", T, ready=False, restarts=42, resources=res,
                state={"waiting": {"message": "back-off 5m0s restarting failed container=cert-manager-controller pod=cert-manager-7d9f8c6b5d-x2kq9_cert-manager(0c9c8e0a-1111-4b2c-9d1e-2f3a4b5c6d7e)",
                                   "reason": "CrashLoopBackOff"}},
                last={"terminated": {"containerID": "containerd://5cd68517d42c9220ee08dfe0852aadde3914b06daf6d30e3516d16faf8c71fe3",
                                     "exitCode": 137, "finishedAt": ts(T - 2 * M), "reason": "OOMKilled", "startedAt": ts(T - 3 * M)}}),
            acme_issuer("letsencrypt", None, T, solvers=[HTTP_SOLVER])]
    nb = T - 62 * DAY
    objs.append(certificate("shop-tls", "shop", T, ["shop.example.test"], ("ClusterIssuer", "letsencrypt"), "shop-tls",
                            [cond("Ready", "True", "Ready", "Certificate is up to date and has not expired", nb),
                             cond("Issuing", "True", "Renewing", f"Renewing certificate as renewal was scheduled at {(nb + 60 * DAY).strftime('%Y-%m-%d %H:%M:%S')} +0000 UTC", nb + 60 * DAY)],
                            created=T - 200 * DAY, status_extra={"revision": 3, "notBefore": ts(nb), "notAfter": ts(nb + 90 * DAY), "renewalTime": ts(nb + 60 * DAY)}))
    objs.append(tls_secret("shop-tls", "shop", T - 200 * DAY, "shop-tls", ("ClusterIssuer", "letsencrypt"), ["shop.example.test"], nb=nb, na=nb + 90 * DAY))
    write("controller-oomkilled-crashloop.yaml", T, "https://github.com/cert-manager/cert-manager/issues/5195", "v1.8.0",
          ["CONTROLLER_NOT_RUNNING"], objs, note="memory limit 64Mi from a copied values.yaml; controller OOMKilled on start (many Secrets)")

    # 45 controller scaled to 0
    T = D(2024, 8, 1, 9, 0)
    objs = [deployment("cert-manager", "v1.15.1", T, replicas=0, ready=0),
            deployment("cert-manager-webhook", "v1.15.1", T, component="webhook"),
            deployment("cert-manager-cainjector", "v1.15.1", T, component="cainjector"),
            acme_issuer("letsencrypt", None, T, solvers=[HTTP_SOLVER])]
    ch, n = acme_chain("web", T, "web-tls", ["web.example.test"], ("ClusterIssuer", "letsencrypt"), ch_type="HTTP-01",
                       solver=HTTP_SOLVER, started=T - 3 * DAY, with_challenge=False)
    ch[1]["status"] = {}  # nothing processed it
    ch = ch[:2]
    ch[0]["status"] = {"conditions": [cond("Ready", "False", "DoesNotExist", "Issuing certificate as Secret does not exist", T - 3 * DAY)]}
    write("controller-scaled-to-zero.yaml", T, "https://github.com/cert-manager/cert-manager/issues/5443", "v1.15.1",
          ["CONTROLLER_NOT_RUNNING"], objs + ch,
          note="controller Deployment scaled to 0 replicas during an incident and never scaled back; nothing processes new requests")

    # 46 webhook caBundle empty while cainjector is down (OOMKilled)
    T = D(2023, 2, 8, 16, 40)
    ca = pem("cert-manager-webhook-ca", (), T - 40 * DAY, T + 325 * DAY, ca=True)
    objs = [deployment("cert-manager", "v1.8.2", T), deployment("cert-manager-webhook", "v1.8.2", T, component="webhook"),
            deployment("cert-manager-cainjector", "v1.8.2", T, component="cainjector", ready=0,
                       resources={"limits": {"memory": "128Mi"}, "requests": {"memory": "64Mi"}}),
            pod("cert-manager-cainjector-6778b6bdc-mm5jf", "cert-manager-cainjector", "v1.8.2", T, component="cainjector",
                ready=False, restarts=95,
                state={"waiting": {"message": "back-off 5m0s restarting failed container=cert-manager-cainjector pod=cert-manager-cainjector-6778b6bdc-mm5jf_cert-manager(5a6b7c8d-0000-4e1f-9a2b-3c4d5e6f7a8b)", "reason": "CrashLoopBackOff"}},
                last={"terminated": {"exitCode": 137, "finishedAt": ts(T - 4 * M), "reason": "OOMKilled", "startedAt": ts(T - 5 * M)}})]
    objs += webhook_configs(T, "")
    sec = tls_secret("cert-manager-webhook-ca", "cert-manager", T - 40 * DAY, redacted="tls.key")
    sec["data"] = {"ca.crt": ca, "tls.crt": ca}
    sec["metadata"]["annotations"]["cert-manager.io/allow-direct-injection"] = "true"
    objs.append(sec)
    objs.append(acme_issuer("letsencrypt", None, T, solvers=[HTTP_SOLVER]))
    write("webhook-cabundle-empty-cainjector-down.yaml", T, "https://github.com/cert-manager/cert-manager/issues/5784", "v1.8.2",
          ["WEBHOOK_CA_NOT_INJECTED"], objs,
          note="upgrade 1.6.1 -> 1.8.2 recreated the webhook configurations; cainjector OOMKilled so caBundle stayed empty")


def stuck_bundle():
    T = D(2021, 2, 24, 17, 40)
    reason = "Failed to create Order: 403 urn:ietf:params:acme:error:userActionRequired: Terms of service have changed"
    msg = ('The certificate request has failed to complete and will be retried: Failed to wait for order resource '
           '"f-tls-fsh2r-2667792425" to become ready: order is in "errored" state: ' + reason)
    eab = {"keyAlgorithm": "HS256", "keyID": "XXX", "keySecretRef": {"key": "secret", "name": "zerossl-eabsecret"}}
    objs = stack("v1.2.0", T) + [acme_issuer("zerossl-prod", None, T, server="https://acme.zerossl.com/v2/DV90",
                                             solvers=[{"http01": {"ingress": {"class": "traefik"}}}], eab=eab, pk="zerossl-prod")]
    objs.append(opaque_secret("zerossl-eabsecret", "cert-manager", T - 100 * DAY, ["secret"]))
    ch, n = acme_chain("imf-route-stages-dictionary", T, "f-tls", ["f.example.test"], ("ClusterIssuer", "zerossl-prod"),
                       solver={}, with_challenge=False, order_state="errored", order_reason=reason, order_url=False,
                       issuing_cond=cond("Issuing", "False", "Failed", msg, T - 9 * M), order_failure=T - 9 * M,
                       crt_extra_status={"lastFailureTime": ts(T - 9 * M)},
                       cr_ready=[cond("Ready", "False", "Failed", msg.split("retried: ", 1)[1], T - 9 * M, with_gen=False)])
    write("stuck-unrecognised-tos-changed.yaml", T, "https://github.com/cert-manager/cert-manager/issues/3701", "v1.2.0",
          [], objs + ch, extra_headers=["# expect-severity: warning"],
          note="an unusual CA answer (ToS changed): at least a warning (ISSUANCE_STUCK_UNRECOGNISED or something more specific)")


def healthy_bundles():
    S = dt.timedelta(seconds=1)
    # 47 mixed healthy cluster
    T = D(2024, 11, 20, 10, 0)
    ca_pem = pem("Example Root CA", (), T - 400 * DAY, T + 3000 * DAY, ca=True)
    objs = stack("v1.16.2", T)
    objs += webhook_configs(T, ca_pem)
    sol = {"dns01": {"route53": {"region": "eu-west-1", "hostedZoneID": "Z0EXAMPLE1234"}}}
    objs += [acme_issuer("letsencrypt-dns", None, T, solvers=[sol]),
             vault_issuer("vault", None, T, auth={"kubernetes": {"mountPath": "/v1/auth/kubernetes", "role": "cert-manager",
                                                                  "serviceAccountRef": {"name": "vault-issuer"}}}),
             issuer({"ca": {"secretName": "root-ca"}}, "internal-ca", None, T, reason="KeyPairVerified", message="Signing CA verified")]
    rootsec = tls_secret("root-ca", "cert-manager", T - 400 * DAY, redacted="tls.key")
    rootsec["data"] = {"tls.crt": ca_pem, "ca.crt": ca_pem}
    objs.append(rootsec)
    for (name, ns, dns, iss, age, days, rb) in [
            ("www-tls", "web", ["www.example.test", "example.test"], ("ClusterIssuer", "letsencrypt-dns"), 20, 90, 30),
            ("api-tls", "payments", ["api.payments.example.test"], ("ClusterIssuer", "vault"), 5, 30, 10),
            ("grpc-tls", "internal", ["grpc.internal.example.test"], ("ClusterIssuer", "internal-ca"), 100, 365, 30)]:
        nb = T - age * DAY
        na = nb + days * DAY
        rt = na - rb * DAY
        objs.append(certificate(name, ns, T, dns, iss, name,
                                [cond("Ready", "True", "Ready", "Certificate is up to date and has not expired", nb + 5 * S)],
                                created=T - 300 * DAY,
                                spec_extra={"duration": f"{days * 24}h0m0s", "renewBefore": f"{rb * 24}h0m0s",
                                            "privateKey": {"rotationPolicy": "Always"}},
                                status_extra={"notBefore": ts(nb), "notAfter": ts(na), "renewalTime": ts(rt), "revision": 4}))
        objs.append(tls_secret(name, ns, T - 300 * DAY, name, iss, dns, nb=nb, na=na))
        objs.append(cert_request(f"{name}-4", ns, T, name, 4, iss,
                                 [cond("Ready", "True", "Issued", "Certificate fetched from issuer successfully", nb + 5 * S, with_gen=False)],
                                 nb, dns=dns, certificate_b64=pem(dns[0], dns, nb, na), duration=f"{days * 24}h0m0s"))
    write("healthy-mixed-cluster.yaml", T, "https://cert-manager.io/docs/configuration/", "v1.16.2", [], objs,
          extra_headers=["# healthy: true"], note="Vault, CA and ACME DNS-01 issuers; every certificate valid, renewal scheduled in the future")

    # 48 healthy HTTP-01
    T = D(2024, 6, 3, 9, 0)
    objs = stack("v1.14.5", T) + [acme_issuer("letsencrypt-prod", None, T, solvers=[{"http01": {"ingress": {"ingressClassName": "nginx"}}}]),
                                  ingress_class("nginx", T=T)]
    for name, host, age in [("shop-tls", "shop.example.test", 10), ("blog-tls", "blog.example.test", 45)]:
        nb = T - age * DAY
        na = nb + 90 * DAY
        objs.append(ingress(name.split("-")[0], "web", host, "nginx", T, secret=name,
                            ann={"cert-manager.io/cluster-issuer": "letsencrypt-prod"}))
        objs.append(certificate(name, "web", T, [host], ("ClusterIssuer", "letsencrypt-prod"), name,
                                [cond("Ready", "True", "Ready", "Certificate is up to date and has not expired", nb + 40 * S)],
                                created=T - 200 * DAY,
                                status_extra={"notBefore": ts(nb), "notAfter": ts(na), "renewalTime": ts(na - 30 * DAY), "revision": 3}))
        objs[-1]["metadata"]["ownerReferences"] = [owner("Ingress", name.split("-")[0], "networking.k8s.io/v1", "web")]
        objs.append(tls_secret(name, "web", T - 200 * DAY, name, ("ClusterIssuer", "letsencrypt-prod"), [host], nb=nb, na=na))
    write("healthy-http01.yaml", T, "https://cert-manager.io/docs/tutorials/acme/nginx-ingress/", "v1.14.5", [], objs,
          extra_headers=["# healthy: true"])

    # 49 healthy mid-issuance
    T = D(2026, 11, 30, 12, 0, 30)
    objs = stack("v1.21.0", T) + [acme_issuer("letsencrypt-prod", None, T, solvers=[{"http01": {"ingress": {"ingressClassName": "nginx"}}}]),
                                  ingress_class("nginx", T=T),
                                  ingress("docs", "web", "docs.example.test", "nginx", T, secret="docs-tls", created=T - 30 * S,
                                          ann={"cert-manager.io/cluster-issuer": "letsencrypt-prod"})]
    ch, n = acme_chain("web", T, "docs-tls", ["docs.example.test"], ("ClusterIssuer", "letsencrypt-prod"), ch_type="HTTP-01",
                       solver={"http01": {"ingress": {"ingressClassName": "nginx"}}}, started=T - 30 * S, presented=True,
                       ch_reason="", ch_events=[("Normal", "Started", "Challenge scheduled for processing", T - 27 * S, T - 27 * S, 1),
                                                ("Normal", "Presented", "Presented challenge using HTTP-01 challenge mechanism", T - 26 * S, T - 26 * S, 1)])
    write("healthy-mid-issuance.yaml", T, "https://cert-manager.io/docs/troubleshooting/acme/", "v1.21.0", [], objs + ch,
          extra_headers=["# no-error: true"], note="Certificate created 30 s before capture; HTTP-01 challenge presented and pending")


def main():
    for p in OUT.glob("*.yaml"):
        p.unlink()
    global write
    _write = write
    skip = {"dns01-soa-not-found-servfail.yaml", "controller-scaled-to-zero.yaml", "http01-self-check-403-cdn.yaml",
            "renewal-loop-renewbefore-vs-clamped-ttl.yaml", "acme-register-connection-refused.yaml"}

    def write(fname, *a, **k):  # noqa: F811 - keep the corpus within 45 bundles
        if fname not in skip:
            _write(fname, *a, **k)
    dns01_bundles()
    acme_bundles()
    secrets_bundles()
    component_bundles()
    stuck_bundle()
    healthy_bundles()
    print(len(list(OUT.glob("*.yaml"))), "bundles")


if __name__ == "__main__":
    main()
