#!/usr/bin/env python3
"""Generate the scenario library (kubectl_certdoctor/scenarios/*.yaml) with real certificates.

Why a generator: the scenarios carry real X.509 certificates (signed by throw-away CAs whose
private keys never leave this process) and dozens of cross-references (uids in
ownerReferences, cert-manager annotations, Event involvedObjects) that are easy to get wrong
by hand. The output is committed; run this only to change the library:

    .venv/bin/python scripts/gen_scenarios.py

Messages are the ones cert-manager v1.21.1 writes (pkg/issuer/acme/http/http.go,
pkg/issuer/acme/setup.go, pkg/controller/certificates/issuing, certificaterequests/vault,
internal/controller/certificates/policies). Domains use .test; addresses are documentation
ranges or the seeds' private LAN addresses. No private key is ever written.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

OUT = Path(__file__).resolve().parents[1] / "kubectl_certdoctor" / "scenarios"
CAPTURED = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
Obj = dict[str, Any]

LE_PROD = "https://acme-v02.api.letsencrypt.test/directory"
LE_STAGING = "https://acme-staging-v02.api.letsencrypt.test/directory"
V = "v1.21.1"


# ---------------------------------------------------------------- helpers

def ts(delta: timedelta = timedelta()) -> str:
    return (CAPTURED + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(**kw: float) -> str:
    return ts(-timedelta(**kw))


def later(**kw: float) -> str:
    return ts(timedelta(**kw))


class Scenario:
    """Objects of one scenario plus deterministic uids and resourceVersions."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.items: list[Obj] = []
        self._rv = 41000 + int(hashlib.sha1(name.encode()).hexdigest()[:4], 16)

    def uid(self, kind: str, ns: str, nm: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"certdoctor/{self.name}/{kind}/{ns}/{nm}"))

    def rv(self) -> str:
        self._rv += 7
        return str(self._rv)

    def meta(self, kind: str, nm: str, ns: str | None, created: str, **extra: Any) -> Obj:
        md: Obj = {"creationTimestamp": created}
        md.update({k: v for k, v in extra.items() if v is not None})
        md["name"] = nm
        if ns:
            md["namespace"] = ns
        md["resourceVersion"] = self.rv()
        md["uid"] = self.uid(kind, ns or "", nm)
        return dict(sorted(md.items()))

    def add(self, obj: Obj) -> Obj:
        self.items.append(obj)
        return obj

    def owner(self, obj: Obj) -> list[Obj]:
        return [{"apiVersion": obj["apiVersion"], "blockOwnerDeletion": True,
                 "controller": True, "kind": obj["kind"], "name": obj["metadata"]["name"],
                 "uid": obj["metadata"]["uid"]}]

    def event(self, obj: Obj, reason: str, message: str, component: str, *,
              first: str, last: str | None = None, count: int = 1,
              type_: str = "Normal") -> Obj:
        md = obj["metadata"]
        ns = md.get("namespace") or "default"
        h = hashlib.sha1(f"{md['name']}/{reason}/{message}".encode()).hexdigest()[:16]
        ev = {
            "apiVersion": "v1", "kind": "Event", "count": count, "eventTime": None,
            "firstTimestamp": first,
            "involvedObject": {"apiVersion": obj["apiVersion"], "kind": obj["kind"],
                               "name": md["name"], **({"namespace": md["namespace"]}
                                                      if md.get("namespace") else {}),
                               "resourceVersion": md["resourceVersion"], "uid": md["uid"]},
            "lastTimestamp": last or first, "message": message,
            "metadata": self.meta("Event", f"{md['name']}.{h}", ns, first),
            "reason": reason, "reportingComponent": component, "reportingInstance": "",
            "source": {"component": component}, "type": type_,
        }
        return self.add(ev)


def cond(type_: str, status: str, reason: str, message: str, when: str,
         gen: int | None = 1) -> Obj:
    c: Obj = {"lastTransitionTime": when, "message": message}
    if gen is not None:
        c["observedGeneration"] = gen
    c.update({"reason": reason, "status": status, "type": type_})
    return c


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ---------------------------------------------------------------- certificates

class CacheMiss(Exception):
    """A leaf certificate is not in the previous output: the scenario's CA must be new."""


#: PEMs from the previous output, so regenerating does not churn unchanged certificates
#: (ECDSA signatures are randomised): "ca:<CN>" → CA PEM, "leaf:<CN>:<SANs>:<nb>:<na>" →
#: chain, "csr:<SANs>:<n>" → base64 CSR. Filled by ``_load_previous``.
REUSE: dict[str, str] = {}
STRICT = True


class CA:
    """A throw-away CA: its key lives only in this process (or the CA is reused whole)."""

    def __init__(self, cn: str, org: str) -> None:
        self.cn = cn
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                               x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                               x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        now = CAPTURED - timedelta(days=400)
        self.cert = (x509.CertificateBuilder().subject_name(self.name).issuer_name(self.name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now).not_valid_after(now + timedelta(days=3650))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
                     .sign(self.key, hashes.SHA256()))

    def pem(self) -> bytes:
        if STRICT and f"ca:{self.cn}" in REUSE:
            return REUSE[f"ca:{self.cn}"].encode()
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def leaf(self, dns: list[str], not_before: datetime, not_after: datetime) -> bytes:
        key_ = f"leaf:{self.cn}:{','.join(dns)}:{not_before.isoformat()}:{not_after.isoformat()}"
        if STRICT:
            if key_ in REUSE and f"ca:{self.cn}" in REUSE:
                return REUSE[key_].encode()
            raise CacheMiss(key_)
        key = ec.generate_private_key(ec.SECP256R1())  # discarded right away
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns[0])]))
                .issuer_name(self.name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(not_before).not_valid_after(not_after)
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]),
                               False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                               False)
                .sign(self.key, hashes.SHA256()))
        return cert.public_bytes(serialization.Encoding.PEM) + self.pem()


_CSR_SEEN: dict[str, int] = {}


def csr_pem(dns: list[str]) -> str:
    n = _CSR_SEEN[",".join(dns)] = _CSR_SEEN.get(",".join(dns), 0) + 1
    cached = REUSE.get(f"csr:{','.join(dns)}:{n}")
    if cached:
        return cached
    key = ec.generate_private_key(ec.SECP256R1())  # discarded right away
    csr = (x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), True)
           .sign(key, hashes.SHA256()))
    return b64(csr.public_bytes(serialization.Encoding.PEM))


def _load_previous(name: str) -> None:
    """Remember the PEMs of the scenario file as it is now (if any)."""
    REUSE.clear()
    _CSR_SEEN.clear()
    path = OUT / f"{name}.yaml"
    if not path.exists():
        return
    doc = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    seen: dict[str, int] = {}
    for o in doc.get("items", []):
        if o.get("kind") == "CertificateRequest":
            dns = ",".join(
                x509.load_pem_x509_csr(base64.b64decode(o["spec"]["request"])).extensions
                .get_extension_for_class(x509.SubjectAlternativeName).value
                .get_values_for_type(x509.DNSName))
            seen[dns] = seen.get(dns, 0) + 1
            REUSE[f"csr:{dns}:{seen[dns]}"] = o["spec"]["request"]
        if o.get("kind") == "Secret" and "tls.crt" in (o.get("data") or {}):
            chain = base64.b64decode(o["data"]["tls.crt"])
            certs = x509.load_pem_x509_certificates(chain)
            leaf, ca = certs[0], certs[-1]
            ca_cn = str(ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
            sans = leaf.extensions.get_extension_for_class(
                x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
            REUSE[f"ca:{ca_cn}"] = ca.public_bytes(serialization.Encoding.PEM).decode()
            REUSE[f"leaf:{ca_cn}:{','.join(sans)}:{leaf.not_valid_before_utc.isoformat()}:"
                  f"{leaf.not_valid_after_utc.isoformat()}"] = chain.decode()


# ---------------------------------------------------------------- building blocks

def controller(s: Scenario, version: str, env: list[Obj] | None = None,
               extra_args: list[str] | None = None) -> Obj:
    """The cert-manager controller Deployment as the Helm chart renders it."""
    labels = {"app": "cert-manager", "app.kubernetes.io/component": "controller",
              "app.kubernetes.io/instance": "cert-manager",
              "app.kubernetes.io/name": "cert-manager",
              "app.kubernetes.io/version": version}
    args = ["--v=2", "--cluster-resource-namespace=$(POD_NAMESPACE)",
            "--leader-election-namespace=kube-system",
            f"--acme-http01-solver-image=quay.io/jetstack/cert-manager-acmesolver:{version}",
            "--max-concurrent-challenges=60", *(extra_args or [])]
    container = {
        "args": args,
        "env": [{"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {
            "apiVersion": "v1", "fieldPath": "metadata.namespace"}}}, *(env or [])],
        "image": f"quay.io/jetstack/cert-manager-controller:{version}",
        "imagePullPolicy": "IfNotPresent", "name": "cert-manager-controller",
        "ports": [{"containerPort": 9402, "name": "http-metrics", "protocol": "TCP"},
                  {"containerPort": 9403, "name": "http-healthz", "protocol": "TCP"}],
        "securityContext": {"allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True},
    }
    return s.add({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": s.meta("Deployment", "cert-manager", "cert-manager", ago(days=180),
                           annotations={"deployment.kubernetes.io/revision": "3",
                                        "meta.helm.sh/release-name": "cert-manager",
                                        "meta.helm.sh/release-namespace": "cert-manager"},
                           generation=3, labels={
                               **labels, "app.kubernetes.io/managed-by": "Helm",
                               "helm.sh/chart": f"cert-manager-{version}"}),
        "spec": {"progressDeadlineSeconds": 600, "replicas": 1, "revisionHistoryLimit": 10,
                 "selector": {"matchLabels": {k: labels[k] for k in (
                     "app.kubernetes.io/component", "app.kubernetes.io/instance",
                     "app.kubernetes.io/name")}},
                 "template": {"metadata": {"labels": labels}, "spec": {
                     "containers": [container], "enableServiceLinks": False,
                     "nodeSelector": {"kubernetes.io/os": "linux"},
                     "serviceAccountName": "cert-manager"}}},
        "status": {"availableReplicas": 1, "observedGeneration": 3, "readyReplicas": 1,
                   "replicas": 1, "updatedReplicas": 1, "conditions": [
                       {"lastTransitionTime": ago(days=30), "lastUpdateTime": ago(days=30),
                        "message": "Deployment has minimum availability.",
                        "reason": "MinimumReplicasAvailable", "status": "True",
                        "type": "Available"}]},
    })


def acme_issuer(s: Scenario, nm: str, server: str, solver: Obj, *, ready: bool = True,
                uri: str = "", email: str = "ops@example.test", reason: str = "",
                message: str = "", since: str | None = None) -> Obj:
    status: Obj = {"acme": {}, "conditions": [cond(
        "Ready", "True" if ready else "False",
        "ACMEAccountRegistered" if ready else reason,
        "The ACME account was registered with the ACME server" if ready else message,
        since or ago(days=120))]}
    if uri:
        status["acme"] = {"lastPrivateKeyHash": "kQ2b0m6l3n0yq1w8Zf7m9cR3xW0pVn2s4Yd6eH1jT5o=",
                          "lastRegisteredEmail": email, "uri": uri}
    iss = s.add({
        "apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
        "metadata": s.meta("ClusterIssuer", nm, None, ago(days=200), generation=1),
        "spec": {"acme": {"email": email, "privateKeySecretRef": {"name": nm + "-account-key"},
                          "server": server, "solvers": [solver]}},
        "status": status,
    })
    s.add({"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "data": {},
           "metadata": s.meta("Secret", nm + "-account-key", "cert-manager", ago(days=200),
                              annotations={"certdoctor.io/redacted-keys": "tls.key"},
                              labels={"app.kubernetes.io/managed-by": "cert-manager"})})
    return iss


def tls_secret(s: Scenario, cert: Obj, issuer: tuple[str, str, str], chain: bytes | None,
               created: str, ca_pem: bytes | None = None) -> Obj:
    ns = cert["metadata"]["namespace"]
    nm, kind, group = issuer
    data: Obj = {}
    if chain is not None:
        data["tls.crt"] = b64(chain)
    if ca_pem is not None:
        data["ca.crt"] = b64(ca_pem)
    ann = {"cert-manager.io/alt-names": ",".join(cert["spec"]["dnsNames"]),
           "cert-manager.io/certificate-name": cert["metadata"]["name"],
           "cert-manager.io/common-name": cert["spec"]["dnsNames"][0],
           "cert-manager.io/ip-sans": "", "cert-manager.io/issuer-group": group,
           "cert-manager.io/issuer-kind": kind, "cert-manager.io/issuer-name": nm,
           "cert-manager.io/uri-sans": "",
           "certdoctor.io/redacted-keys": "tls.key"}
    return s.add({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                  "data": data,
                  "metadata": s.meta("Secret", cert["spec"]["secretName"], ns, created,
                                     annotations=ann, labels={
                                         "controller.cert-manager.io/fao": "true"})})


def certificate(s: Scenario, nm: str, ns: str, dns: list[str], issuer: tuple[str, str, str],
                created: str, status: Obj, spec: Obj | None = None,
                owner: Obj | None = None) -> Obj:
    iname, ikind, igroup = issuer
    md = s.meta("Certificate", nm, ns, created, generation=1,
                ownerReferences=s.owner(owner) if owner else None)
    return s.add({"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": md,
                  "spec": {"dnsNames": dns, "issuerRef": {"group": igroup, "kind": ikind,
                                                          "name": iname},
                           "secretName": nm if nm.endswith("-tls") else nm + "-tls",
                           "privateKey": {"rotationPolicy": "Always"},
                           **(spec or {})},
                  "status": status})


def request(s: Scenario, cert: Obj, rev: int, created: str, conds: list[Obj],
            status_extra: Obj | None = None, pk_secret: str | None = None) -> Obj:
    ns = cert["metadata"]["namespace"]
    cname = cert["metadata"]["name"]
    ann = {"cert-manager.io/certificate-name": cname,
           "cert-manager.io/certificate-revision": str(rev),
           "cert-manager.io/private-key-secret-name": pk_secret or f"{cname}-{_suffix(cname, rev)}"}
    return s.add({
        "apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
        "metadata": s.meta("CertificateRequest", f"{cname}-{rev}", ns, created, annotations=ann,
                           generation=1, ownerReferences=s.owner(cert)),
        "spec": {"duration": cert["spec"].get("duration", "2160h0m0s"),
                 "extra": {"authentication.kubernetes.io/credential-id": [
                     "JTI=" + str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{cname}{rev}"))],
                     "authentication.kubernetes.io/node-name": ["node-1"]},
                 "groups": ["system:serviceaccounts", "system:serviceaccounts:cert-manager",
                            "system:authenticated"],
                 "issuerRef": cert["spec"]["issuerRef"],
                 "request": csr_pem(cert["spec"]["dnsNames"]),
                 "uid": str(uuid.uuid5(uuid.NAMESPACE_DNS, "cert-manager-sa")),
                 "usages": ["digital signature", "key encipherment"],
                 "username": "system:serviceaccount:cert-manager:cert-manager"},
        "status": {"conditions": conds, **(status_extra or {})},
    })


def _suffix(name: str, rev: int) -> str:
    h = hashlib.sha1(f"{name}{rev}".encode()).hexdigest()
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return "".join(alphabet[int(h[i:i + 2], 16) % len(alphabet)] for i in range(0, 10, 2))


def _hash32(text: str) -> str:
    return str(int(hashlib.sha1(text.encode()).hexdigest()[:8], 16))


def approved(when: str) -> Obj:
    return cond("Approved", "True", "cert-manager.io",
                "Certificate request has been approved by cert-manager.io", when, gen=None)


def order(s: Scenario, cr: Obj, created: str, state: str, dns: list[str], account: str,
          authz_status: str, challenges: list[Obj], extra: Obj | None = None) -> Obj:
    ns = cr["metadata"]["namespace"]
    nm = f"{cr['metadata']['name']}-{_hash32(cr['metadata']['name'] + 'order')}"
    order_id = _hash32(nm)
    base = account.split("/acme/")[0]
    ann = {k: v for k, v in cr["metadata"]["annotations"].items()}
    status: Obj = {
        "authorizations": [{
            "challenges": challenges, "identifier": dns[0], "initialState": authz_status,
            "url": f"{base}/acme/authz/{account.rsplit('/', 1)[-1]}/{order_id}1",
            "wildcard": False}],
        "finalizeURL": f"{base}/acme/finalize/{account.rsplit('/', 1)[-1]}/{order_id}",
        "state": state,
        "url": f"{base}/acme/order/{account.rsplit('/', 1)[-1]}/{order_id}",
        **(extra or {})}
    return s.add({
        "apiVersion": "acme.cert-manager.io/v1", "kind": "Order",
        "metadata": s.meta("Order", nm, ns, created, annotations=ann, generation=1,
                           ownerReferences=s.owner(cr)),
        "spec": {"commonName": dns[0], "dnsNames": dns, "issuerRef": cr["spec"]["issuerRef"],
                 "request": cr["spec"]["request"]},
        "status": status,
    })


def token_for(name: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(name.encode()).digest()).decode().rstrip("=")


def challenge(s: Scenario, od: Obj, created: str, solver: Obj, reason: str,
              state: str = "pending") -> Obj:
    ns = od["metadata"]["namespace"]
    dns = od["spec"]["dnsNames"][0]
    nm = f"{od['metadata']['name']}-{_hash32(od['metadata']['name'] + 'ch')}"
    tok = token_for(nm)
    authz = od["status"]["authorizations"][0]
    ch_url = authz["challenges"][0]["url"]
    return s.add({
        "apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge",
        "metadata": s.meta("Challenge", nm, ns, created,
                           finalizers=["acme.cert-manager.io/finalizer"], generation=1,
                           ownerReferences=s.owner(od)),
        "spec": {"authorizationURL": authz["url"], "dnsName": dns,
                 "issuerRef": od["spec"]["issuerRef"],
                 "key": tok + "." + token_for("account-thumbprint"), "solver": solver,
                 "token": tok, "type": "HTTP-01", "url": ch_url, "wildcard": False},
        "status": {"presented": True, "presentedAt": ts(_delta(created) + timedelta(seconds=1)),
                   "processing": True, "reason": reason, "state": state},
    })


def _delta(t: str) -> timedelta:
    return datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) - CAPTURED


def authz_challenges(account: str, order_nm: str) -> list[Obj]:
    base = account.split("/acme/")[0]
    acct = account.rsplit("/", 1)[-1]
    tok = token_for(order_nm + "-" + _hash32(order_nm + "ch"))
    return [{"token": tok, "type": "http-01",
             "url": f"{base}/acme/chall/{acct}/{_hash32(order_nm)}1/http01"},
            {"token": tok, "type": "dns-01",
             "url": f"{base}/acme/chall/{acct}/{_hash32(order_nm)}1/dns01"},
            {"token": tok, "type": "tls-alpn-01",
             "url": f"{base}/acme/chall/{acct}/{_hash32(order_nm)}1/tlsalpn01"}]


def solver_resources(s: Scenario, ch: Obj, ingress_class: dict[str, str], created: str,
                     pod_phase: str = "Running") -> None:
    """What cert-manager's HTTP-01 solver creates: Pod, Service, Ingress, owned by the Challenge."""
    ns = ch["metadata"]["namespace"]
    tok = ch["spec"]["token"]
    dns = ch["spec"]["dnsName"]
    labels = {"acme.cert-manager.io/http-domain": _hash32(dns),
              "acme.cert-manager.io/http-token": _hash32(tok),
              "acme.cert-manager.io/http01-solver": "true"}
    suffix = _suffix(ch["metadata"]["name"], 1)
    s.add({"apiVersion": "v1", "kind": "Pod",
           "metadata": s.meta("Pod", f"cm-acme-http-solver-{suffix}", ns, created,
                              annotations={"sidecar.istio.io/inject": "false"},
                              generateName="cm-acme-http-solver-", labels=labels,
                              ownerReferences=s.owner(ch)),
           "spec": {"containers": [{
               "args": ["--listen-port=8089", f"--domain={dns}", f"--token={tok}",
                        f"--key={ch['spec']['key']}"],
               "image": "quay.io/jetstack/cert-manager-acmesolver:" + V,
               "name": "acmesolver",
               "ports": [{"containerPort": 8089, "name": "http", "protocol": "TCP"}]}],
               "nodeName": "node-1", "restartPolicy": "OnFailure"},
           "status": {"phase": pod_phase, "podIP": "10.42.0.37", "startTime": created,
                      "conditions": [{"lastTransitionTime": created, "status": "True",
                                      "type": "Ready"}]}})
    svc_name = f"cm-acme-http-solver-{_suffix(ch['metadata']['name'], 2)}"
    s.add({"apiVersion": "v1", "kind": "Service",
           "metadata": s.meta("Service", svc_name, ns, created,
                              annotations={"auth.istio.io/8089": "NONE"},
                              generateName="cm-acme-http-solver-", labels=labels,
                              ownerReferences=s.owner(ch)),
           "spec": {"clusterIP": "10.43.118.24", "clusterIPs": ["10.43.118.24"],
                    "ports": [{"name": "http", "nodePort": 31794, "port": 8089,
                               "protocol": "TCP", "targetPort": 8089}],
                    "selector": labels, "type": "NodePort"},
           "status": {"loadBalancer": {}}})
    ing_spec: Obj = {"rules": [{"host": dns, "http": {"paths": [{
        "backend": {"service": {"name": svc_name, "port": {"number": 8089}}},
        "path": f"/.well-known/acme-challenge/{tok}", "pathType": "ImplementationSpecific"}]}}]}
    ann = {"nginx.ingress.kubernetes.io/whitelist-source-range": "0.0.0.0/0,::/0"}
    if "ingressClassName" in ingress_class:
        ing_spec["ingressClassName"] = ingress_class["ingressClassName"]
    if "class" in ingress_class:
        ann["kubernetes.io/ingress.class"] = ingress_class["class"]
    s.add({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
           "metadata": s.meta("Ingress",
                              f"cm-acme-http-solver-{_suffix(ch['metadata']['name'], 3)}", ns,
                              created, annotations=ann, generateName="cm-acme-http-solver-",
                              generation=1, labels=labels, ownerReferences=s.owner(ch)),
           "spec": ing_spec, "status": {"loadBalancer": {}}})


def ingress_class(s: Scenario, nm: str, controller_name: str, default: bool = False) -> Obj:
    ann = {"ingressclass.kubernetes.io/is-default-class": "true"} if default else None
    return s.add({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                  "metadata": s.meta("IngressClass", nm, None, ago(days=300), annotations=ann,
                                     generation=1, labels={"app.kubernetes.io/name": nm}),
                  "spec": {"controller": controller_name}})


def site_ingress(s: Scenario, nm: str, ns: str, host: str, klass: str, issuer: str,
                 secret: str, lb_ip: str | None, paths: list[Obj] | None = None) -> Obj:
    paths = paths or [{"backend": {"service": {"name": nm, "port": {"number": 80}}},
                       "path": "/", "pathType": "Prefix"}]
    return s.add({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": s.meta("Ingress", nm, ns, ago(days=90),
                           annotations={"cert-manager.io/cluster-issuer": issuer},
                           generation=1),
        "spec": {"ingressClassName": klass, "rules": [{"host": host, "http": {"paths": paths}}],
                 "tls": [{"hosts": [host], "secretName": secret}]},
        "status": {"loadBalancer": {"ingress": [{"ip": lb_ip}]} if lb_ip else {}},
    })


def lb_service(s: Scenario, nm: str, ns: str, ip: str, cluster_ip: str, selector: Obj,
               labels: Obj) -> Obj:
    return s.add({
        "apiVersion": "v1", "kind": "Service",
        "metadata": s.meta("Service", nm, ns, ago(days=300), labels=labels),
        "spec": {"allocateLoadBalancerNodePorts": True, "clusterIP": cluster_ip,
                 "clusterIPs": [cluster_ip], "externalTrafficPolicy": "Local",
                 "ports": [{"name": "http", "nodePort": 30080, "port": 80, "protocol": "TCP",
                            "targetPort": "http"},
                           {"name": "https", "nodePort": 30443, "port": 443, "protocol": "TCP",
                            "targetPort": "https"}],
                 "selector": selector, "type": "LoadBalancer"},
        "status": {"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]}},
    })


NGINX_LABELS = {"app.kubernetes.io/component": "controller",
                "app.kubernetes.io/instance": "ingress-nginx",
                "app.kubernetes.io/name": "ingress-nginx"}
ACME_EVENTS = "cert-manager-certificaterequests-issuer-acme"


def acme_pending_chain(s: Scenario, *, ns: str, cname: str, host: str, issuer: str,
                       account: str, solver: Obj, reason: str, started: timedelta) -> Obj:
    """Certificate → CR → Order → Challenge of a first issuance stuck at the self-check."""
    t0 = ts(-started)
    t = lambda sec: ts(-started + timedelta(seconds=sec))  # noqa: E731
    ref = (issuer, "ClusterIssuer", "cert-manager.io")
    pk = f"{cname}-{_suffix(cname, 1)}"
    why = "Issuing certificate as Secret does not exist"
    cert = certificate(s, cname, ns, [host], ref, t0, {
        "conditions": [cond("Ready", "False", "DoesNotExist", why, t(1)),
                       cond("Issuing", "True", "DoesNotExist", why, t(1))],
        "nextPrivateKeySecretName": pk})
    s.event(cert, "Issuing", why, "cert-manager-certificates-trigger", first=t(1))
    s.event(cert, "Generated", f'Stored new private key in temporary Secret resource "{pk}"',
            "cert-manager-certificates-key-manager", first=t(1))
    s.event(cert, "Requested", f'Created new CertificateRequest resource "{cname}-1"',
            "cert-manager-certificates-request-manager", first=t(2))
    cr = request(s, cert, 1, t(2), [approved(t(2))], pk_secret=pk)
    od_name = f"{cname}-1-{_hash32(cname + '-1order')}"
    cr["status"]["conditions"].append(cond(
        "Ready", "False", "Pending",
        f'Waiting on certificate issuance from order {ns}/{od_name}: "pending"', t(3), gen=None))
    s.event(cr, "cert-manager.io", "Certificate request has been approved by cert-manager.io",
            "cert-manager-certificaterequests-approver", first=t(2))
    s.event(cr, "OrderCreated", f"Created Order resource {ns}/{od_name}", ACME_EVENTS,
            first=t(3))
    od = order(s, cr, t(3), "pending", [host], account, "pending",
               authz_challenges(account, od_name))
    ch = challenge(s, od, t(4), solver, reason)
    s.event(od, "Created", f'Created Challenge resource "{ch["metadata"]["name"]}" for domain '
            f'"{host}"', "cert-manager-orders", first=t(4))
    s.event(ch, "Started", "Challenge scheduled for processing", "cert-manager-challenges",
            first=t(4))
    s.event(ch, "Presented", "Presented challenge using HTTP-01 challenge mechanism",
            "cert-manager-challenges", first=t(5))
    return ch


# ---------------------------------------------------------------- scenarios

def healthy_http01() -> Scenario:
    s = Scenario("healthy-http01")
    ns, host, iss = "shop", "shop.example.test", "letsencrypt-prod"
    account = "https://acme-v02.api.letsencrypt.test/acme/acct/1873529001"
    solver = {"http01": {"ingress": {"ingressClassName": "nginx"}}}
    controller(s, V)
    acme_issuer(s, iss, LE_PROD, solver, uri=account)
    ingress_class(s, "nginx", "k8s.io/ingress-nginx", default=True)
    lb_service(s, "ingress-nginx-controller", "ingress-system", "203.0.113.20", "10.43.12.80",
               NGINX_LABELS, NGINX_LABELS)
    ing = site_ingress(s, "shop", ns, host, "nginx", iss, "shop-tls", "203.0.113.20")
    ca = CA("(TEST) Tangerine Pear R11", "(TEST) Let's Encrypt")
    issued = CAPTURED - timedelta(days=30)
    t = lambda d, sec=0: ts(timedelta(days=-30) + timedelta(seconds=sec))  # noqa: E731
    ref = (iss, "ClusterIssuer", "cert-manager.io")
    cert = certificate(s, "shop-tls", ns, [host], ref, ago(days=90), {
        "conditions": [cond("Ready", "True", "Ready",
                            "Certificate is up to date and has not expired", t(0, 40))],
        "notAfter": later(days=60), "notBefore": ago(days=30),
        "renewalTime": later(days=30), "revision": 2},
        owner=ing)
    tls_secret(s, cert, ref, ca.leaf([host], issued, issued + timedelta(days=90)), ago(days=90))
    pk = f"shop-tls-{_suffix('shop-tls', 2)}"
    cr = request(s, cert, 2, t(0), [approved(t(0)), cond(
        "Ready", "True", "Issued", "Certificate fetched from issuer successfully", t(0, 38),
        gen=None)], {"certificate": s.items[-1]["data"]["tls.crt"]}, pk_secret=pk)
    od_name = f"shop-tls-2-{_hash32('shop-tls-2order')}"
    od = order(s, cr, t(0, 1), "valid", [host], account, "valid",
               [{**c, **({"token": c["token"]})} for c in authz_challenges(account, od_name)],
               {"certificate": cr["status"]["certificate"]})
    s.event(cert, "Issuing", "Renewing certificate as renewal was scheduled at "
            + issued.strftime("%Y-%m-%d %H:%M:%S +0000 UTC"),
            "cert-manager-certificates-trigger", first=t(0))
    s.event(cert, "Issuing", "The certificate has been successfully issued",
            "cert-manager-certificates-issuing", first=t(0, 40))
    s.event(cr, "CertificateIssued", "Certificate fetched from issuer successfully",
            ACME_EVENTS, first=t(0, 38))
    s.event(od, "Complete", "Order completed successfully", "cert-manager-orders",
            first=t(0, 37))
    return s


def two_ingress_controllers() -> Scenario:
    s = Scenario("two-ingress-controllers")
    ns, host, iss = "store", "store.example.test", "letsencrypt-store"
    account = "https://acme-v02.api.letsencrypt.test/acme/acct/2204417733"
    solver = {"http01": {"ingress": {"ingressClassName": "nginx"}}}
    controller(s, V)
    acme_issuer(s, iss, LE_PROD, solver, uri=account)
    ingress_class(s, "nginx", "k8s.io/ingress-nginx", default=True)
    lb_service(s, "ingress-nginx-controller", "ingress-nginx", "192.168.0.59", "10.43.55.10",
               NGINX_LABELS, NGINX_LABELS)
    gw = s.add({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": s.meta("Gateway", "public-gateway", "gateway-system", ago(days=6),
                           generation=1),
        "spec": {"gatewayClassName": "cilium", "listeners": [
            {"allowedRoutes": {"namespaces": {"from": "All"}}, "name": "http", "port": 80,
             "protocol": "HTTP"}]},
        "status": {"addresses": [{"type": "IPAddress", "value": "192.168.0.61"}],
                   "conditions": [
                       cond("Accepted", "True", "Accepted", "Gateway successfully scheduled",
                            ago(days=6)),
                       cond("Programmed", "True", "Programmed", "Gateway successfully reconciled",
                            ago(days=6))]},
    })
    svc = lb_service(s, "cilium-gateway-public-gateway", "gateway-system", "192.168.0.61",
                     "10.43.200.7", {}, {"gateway.networking.k8s.io/gateway-name":
                                         "public-gateway", "io.cilium.gateway/owning-gateway":
                                         "public-gateway"})
    svc["metadata"]["ownerReferences"] = [{
        "apiVersion": "gateway.networking.k8s.io/v1", "controller": True, "kind": "Gateway",
        "name": "public-gateway", "uid": gw["metadata"]["uid"]}]
    site_ingress(s, "store", ns, host, "nginx", iss, "store-tls", "192.168.0.59")
    ch = acme_pending_chain(
        s, ns=ns, cname="store-tls", host=host, issuer=iss, account=account, solver=solver,
        reason="Waiting for HTTP-01 challenge propagation: wrong status code '404', "
               "expected '200'", started=timedelta(hours=3, minutes=12))
    solver_resources(s, ch, {"ingressClassName": "nginx"}, ch["metadata"]["creationTimestamp"])
    return s


def solver_ingress_class() -> Scenario:
    s = Scenario("solver-ingress-class")
    ns, host, iss = "home", "home.example.test", "letsencrypt-issuer"
    account = "https://acme-v02.api.letsencrypt.test/acme/acct/1950072218"
    solver = {"http01": {"ingress": {"class": "nginx"}}}
    controller(s, V)
    acme_issuer(s, iss, LE_PROD, solver, uri=account, email="admin@example.test")
    ingress_class(s, "public", "k8s.io/ingress-nginx", default=True)
    site_ingress(s, "main-ingress", ns, host, "public", iss, "example-com-tls", "127.0.0.1",
                 paths=[{"backend": {"service": {"name": "web-service", "port": {"number": 80}}},
                         "path": "/", "pathType": "Exact"},
                        {"backend": {"service": {"name": "web-service", "port": {"number": 80}}},
                         "path": "/app", "pathType": "Prefix"}])
    # the certificate name follows the Ingress' tls secretName (ingress-shim)
    tok_name = f"example-com-tls-1-{_hash32('example-com-tls-1order')}"
    tok_name = f"{tok_name}-{_hash32(tok_name + 'ch')}"
    url = f"http://{host}/.well-known/acme-challenge/{token_for(tok_name)}"
    reason = (f"Waiting for HTTP-01 challenge propagation: failed to perform self check GET "
              f"request '{url}': Get \"{url}\": dial tcp 203.0.113.10:80: i/o timeout")
    ch = acme_pending_chain(s, ns=ns, cname="example-com-tls", host=host, issuer=iss,
                            account=account, solver=solver, reason=reason,
                            started=timedelta(hours=26))
    assert ch["metadata"]["name"] == tok_name, (ch["metadata"]["name"], tok_name)
    solver_resources(s, ch, {"class": "nginx"}, ch["metadata"]["creationTimestamp"])
    return s


def failed_request_blocks_renewal() -> Scenario:
    s = Scenario("failed-request-blocks-renewal")
    ns, host = "cdn", "static.example.test"
    ref = ("cdn-issuer", "CDNClusterIssuer", "cdn.example.test")
    controller(s, V)
    ca = CA("Example CDN Test CA G2", "Example CDN Ltd")
    not_after = CAPTURED + timedelta(hours=30)
    not_before = not_after - timedelta(days=10)
    fail = ago(minutes=20)
    msg = ("Failed to sign certificate: Post \"https://api.cdn.example.test/v1/certificates\": "
           "context deadline exceeded (Client.Timeout exceeded while awaiting headers)")
    cert = certificate(s, "static-tls", ns, [host], ref, ago(days=200), {
        "conditions": [
            cond("Ready", "True", "Ready", "Certificate is up to date and has not expired",
                 ts(not_before - CAPTURED + timedelta(minutes=1))),
            cond("Issuing", "False", "Failed",
                 "The certificate request has failed to complete and will be retried: " + msg,
                 fail)],
        "failedIssuanceAttempts": 3, "lastFailureTime": fail,
        "notAfter": ts(not_after - CAPTURED), "notBefore": ts(not_before - CAPTURED),
        "renewalTime": ts(not_after - CAPTURED - timedelta(hours=72)), "revision": 7},
        spec={"duration": "240h0m0s", "renewBefore": "72h0m0s"})
    chain = ca.leaf([host], not_before, not_after)
    tls_secret(s, cert, ref, chain, ago(days=200), ca_pem=ca.pem())
    old = request(s, cert, 7, ts(not_before - CAPTURED), [
        approved(ts(not_before - CAPTURED)),
        cond("Ready", "True", "Issued", "Certificate fetched from issuer successfully",
             ts(not_before - CAPTURED + timedelta(seconds=50)), gen=None)],
        {"ca": b64(ca.pem()), "certificate": b64(chain)})
    old["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "cert-manager"}
    first_try = ago(hours=42)
    cr = request(s, cert, 8, first_try, [
        approved(first_try),
        cond("Ready", "False", "Failed", msg, ago(hours=41, minutes=59), gen=None)],
        {"failureTime": ago(hours=41, minutes=59)})
    s.event(cert, "Issuing", "Renewing certificate as renewal was scheduled at "
            + (not_after - timedelta(hours=72)).strftime("%Y-%m-%d %H:%M:%S +0000 UTC"),
            "cert-manager-certificates-trigger", first=first_try)
    s.event(cert, "Requested", 'Created new CertificateRequest resource "static-tls-8"',
            "cert-manager-certificates-request-manager", first=first_try)
    s.event(cert, "Failed", "The certificate request has failed to complete and will be "
            "retried: " + msg, "cert-manager-certificates-issuing", first=ago(hours=41),
            last=fail, count=3, type_="Warning")
    s.event(cr, "cert-manager.io", "Certificate request has been approved by cert-manager.io",
            "cert-manager-certificaterequests-approver", first=first_try)
    s.event(cr, "Failed", msg, "cdn-issuer-controller", first=ago(hours=41, minutes=59),
            type_="Warning")
    return s


def vault_403_old_cert_manager() -> Scenario:
    s = Scenario("vault-403-old-cert-manager")
    ns, host = "payments", "api.payments.example.test"
    controller(s, "v1.15.0")
    vault = s.add({
        "apiVersion": "cert-manager.io/v1", "kind": "Issuer",
        "metadata": s.meta("Issuer", "vault-issuer", ns, ago(days=400), generation=1),
        "spec": {"vault": {"auth": {"kubernetes": {
            "mountPath": "/v1/auth/kubernetes", "role": "cert-manager-payments",
            "serviceAccountRef": {"name": "vault-issuer"}}},
            "path": "pki_int/sign/payments", "server": "https://vault.example.test:8200"}},
        "status": {"conditions": [cond("Ready", "True", "VaultVerified", "Vault verified",
                                       ago(days=400))]},
    })
    ref = ("vault-issuer", "Issuer", "cert-manager.io")
    ca = CA("Example Payments Intermediate CA", "Example Corp")
    not_after = CAPTURED - timedelta(hours=5)
    not_before = not_after - timedelta(days=30)
    expired_msg = "Certificate expired on " + not_after.strftime("%a, %d %b %Y %H:%M:%S UTC")
    cert = certificate(s, "api-tls", ns, [host], ref, ago(days=400), {
        "conditions": [cond("Ready", "False", "Expired", expired_msg, ts(not_after - CAPTURED)),
                       cond("Issuing", "True", "Renewing",
                            "Renewing certificate as renewal was scheduled at "
                            + (not_after - timedelta(days=10)).strftime(
                                "%Y-%m-%d %H:%M:%S +0000 UTC"),
                            ts(not_after - CAPTURED - timedelta(days=10)))],
        "notAfter": ts(not_after - CAPTURED), "notBefore": ts(not_before - CAPTURED),
        "renewalTime": ts(not_after - CAPTURED - timedelta(days=10)), "revision": 3},
        spec={"duration": "720h0m0s", "renewBefore": "240h0m0s"})
    chain = ca.leaf([host], not_before, not_after)
    tls_secret(s, cert, ref, chain, ago(days=400), ca_pem=ca.pem())
    request(s, cert, 3, ts(not_before - CAPTURED), [
        approved(ts(not_before - CAPTURED)),
        cond("Ready", "True", "Issued", "Certificate fetched from issuer successfully",
             ts(not_before - CAPTURED + timedelta(seconds=2)), gen=None)],
        {"ca": b64(ca.pem()), "certificate": b64(chain)})
    stuck = ts(not_after - CAPTURED - timedelta(days=10))
    vault_msg = ("Failed to initialise vault client for signing: error calling Vault server: "
                 "Error making API request.\n\nURL: PUT "
                 "https://vault.example.test:8200/v1/auth/kubernetes/login\n"
                 "Code: 403. Errors:\n\n* permission denied")
    cr = request(s, cert, 4, stuck, [approved(stuck), cond(
        "Ready", "False", "Pending", vault_msg, ts(_delta(stuck) + timedelta(seconds=1)),
        gen=None)])
    s.event(cert, "Issuing", cert["status"]["conditions"][1]["message"],
            "cert-manager-certificates-trigger", first=stuck)
    s.event(cert, "Requested", 'Created new CertificateRequest resource "api-tls-4"',
            "cert-manager-certificates-request-manager", first=stuck)
    s.event(cr, "cert-manager.io", "Certificate request has been approved by cert-manager.io",
            "cert-manager-certificaterequests-approver", first=stuck)
    s.event(cr, "VaultInitError", vault_msg, "cert-manager-certificaterequests-issuer-vault",
            first=ts(_delta(stuck) + timedelta(seconds=1)))
    s.event(vault, "KeyPairVerified", "Vault verified", "cert-manager-issuers",
            first=ago(days=400))
    return s


def acme_egress_proxy() -> Scenario:
    s = Scenario("acme-egress-proxy")
    ns, host, iss = "datalab", "notebooks.datalab.example.test", "letsencrypt-staging"
    proxy = "http://proxy.corp.test:3128"
    controller(s, V, env=[{"name": "HTTP_PROXY", "value": proxy},
                          {"name": "HTTPS_PROXY", "value": proxy},
                          {"name": "NO_PROXY", "value": "localhost,127.0.0.1,192.168.0.0/16,"
                                                        ".corp.test"}])
    solver = {"selector": {}, "http01": {"ingress": {"class": "nginx"}}}
    since = ago(hours=41)
    iss_obj = acme_issuer(
        s, iss, LE_STAGING, solver, ready=False, email="ops@example.test",
        uri="https://acme-v02.api.letsencrypt.test/acme/acct/98127731",
        reason="ErrRegisterACMEAccount",
        message="Failed to verify ACME account: context deadline exceeded", since=since)
    s.event(iss_obj, "ErrInitIssuer", "Error initializing issuer: context deadline exceeded",
            "cert-manager-clusterissuers", first=since, last=ago(minutes=37), count=486,
            type_="Warning")
    s.event(iss_obj, "ErrVerifyACMEAccount",
            "Failed to verify ACME account: context deadline exceeded",
            "cert-manager-clusterissuers", first=since, last=ago(seconds=71), count=493,
            type_="Warning")
    s.add({"apiVersion": "v1", "kind": "Service",
           "metadata": s.meta("Service", "kubernetes", "default", ago(days=700),
                              labels={"component": "apiserver", "provider": "kubernetes"}),
           "spec": {"clusterIP": "10.233.0.1", "clusterIPs": ["10.233.0.1"],
                    "ports": [{"name": "https", "port": 443, "protocol": "TCP",
                               "targetPort": 6443}], "type": "ClusterIP"},
           "status": {"loadBalancer": {}}})
    # the certificate that waits for the issuer: ingress-shim created it from the Ingress
    ing = site_ingress(s, "notebooks", ns, host, "nginx", iss, "notebooks-tls", "192.168.0.80")
    ref = (iss, "ClusterIssuer", "cert-manager.io")
    why = "Issuing certificate as Secret does not exist"
    t0 = ago(hours=20)
    pk = f"notebooks-tls-{_suffix('notebooks-tls', 1)}"
    cert = certificate(s, "notebooks-tls", ns, [host], ref, t0, {
        "conditions": [cond("Ready", "False", "DoesNotExist", why, t0),
                       cond("Issuing", "True", "DoesNotExist", why, t0)],
        "nextPrivateKeySecretName": pk}, owner=ing)
    cr = request(s, cert, 1, t0, [approved(t0), cond(
        "Ready", "False", "Pending", "Referenced issuer does not have a Ready status condition",
        t0, gen=None)], pk_secret=pk)
    s.event(cert, "Issuing", why, "cert-manager-certificates-trigger", first=t0)
    s.event(cert, "Requested", 'Created new CertificateRequest resource "notebooks-tls-1"',
            "cert-manager-certificates-request-manager", first=t0)
    s.event(cr, "IssuerNotReady", "Referenced issuer does not have a Ready status condition",
            ACME_EVENTS, first=t0)
    return s


BUILDERS = {
    "healthy-http01": (healthy_http01, "shop"),
    "two-ingress-controllers": (two_ingress_controllers, "store"),
    "solver-ingress-class": (solver_ingress_class, "home"),
    "failed-request-blocks-renewal": (failed_request_blocks_renewal, "cdn"),
    "vault-403-old-cert-manager": (vault_403_old_cert_manager, "payments"),
    "acme-egress-proxy": (acme_egress_proxy, "datalab"),
}

_ORDER = {"ClusterIssuer": 0, "Issuer": 1, "Certificate": 2, "CertificateRequest": 3,
          "Order": 4, "Challenge": 5}


def write(s: Scenario) -> None:
    items = sorted(s.items, key=lambda o: (_ORDER.get(o["kind"], 9), o["kind"],
                                           o["metadata"].get("namespace", ""),
                                           o["metadata"]["name"]))
    doc = {"apiVersion": "v1", "items": items, "kind": "List",
           "metadata": {"resourceVersion": ""}}
    text = yaml.dump(doc, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                     sort_keys=False, default_flow_style=False, width=100)
    assert "PRIVATE KEY" not in text
    head = (f"# scenario {s.name}: generated by scripts/gen_scenarios.py "
            f"(captured_at {ts()}); story and expected findings in index.yaml\n")
    (OUT / f"{s.name}.yaml").write_text(head + text)


def main() -> None:
    global STRICT
    for name, (build, _ns) in BUILDERS.items():
        _load_previous(name)
        STRICT = True
        try:
            scenario = build()
        except CacheMiss:  # new or changed certificates: a fresh CA for this scenario
            _CSR_SEEN.clear()
            STRICT = False
            scenario = build()
        write(scenario)


if __name__ == "__main__":
    main()
