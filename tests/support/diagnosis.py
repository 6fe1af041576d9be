"""Small factories for cert-manager objects, shared by the graph/rules/check tests.

Objects are plain dicts exactly as the API serves them, so tests read like YAML.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kubectl_certdoctor.objects import Obj, ObjectSet
from kubectl_certdoctor.rules.finding import Finding

NOW = datetime(2026, 11, 23, 7, 0, 0, tzinfo=UTC)


def ts(delta: timedelta = timedelta(0)) -> str:
    """RFC 3339 time relative to NOW."""
    return (NOW + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def cond(ctype: str, status: str, reason: str = "", message: str = "") -> dict[str, Any]:
    return {"type": ctype, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": ts(-timedelta(hours=1))}


def meta(name: str, ns: str | None, uid: str | None = None, **extra: Any) -> dict[str, Any]:
    md: dict[str, Any] = {"name": name, "creationTimestamp": ts(-timedelta(days=1))}
    if ns:
        md["namespace"] = ns
    md["uid"] = uid or f"uid-{ns}-{name}"
    md.update(extra)
    return md


def owner(kind: str, name: str, ns: str | None, api: str = "cert-manager.io/v1") -> dict[str, Any]:
    return {"apiVersion": api, "kind": kind, "name": name, "uid": f"uid-{ns}-{name}",
            "controller": True}


def issuer(name: str, ns: str | None = "default", ready: str = "True", message: str = "",
           reason: str = "", spec: dict[str, Any] | None = None,
           status: dict[str, Any] | None = None) -> Obj:
    kind = "Issuer" if ns else "ClusterIssuer"
    st: dict[str, Any] = {"conditions": [cond("Ready", ready, reason, message)]}
    st.update(status or {})
    return {"apiVersion": "cert-manager.io/v1", "kind": kind, "metadata": meta(name, ns),
            "spec": spec or {"selfSigned": {}}, "status": st}


def certificate(name: str, ns: str = "default", issuer: str = "iss", kind: str = "Issuer",
                group: str | None = None, ready: str = "True", message: str = "",
                status: dict[str, Any] | None = None, dns: tuple[str, ...] = ("a.test",),
                spec: dict[str, Any] | None = None) -> Obj:
    ref: dict[str, Any] = {"name": issuer, "kind": kind}
    if group:
        ref["group"] = group
    sp: dict[str, Any] = {"secretName": f"{name}-tls", "dnsNames": list(dns), "issuerRef": ref}
    sp.update(spec or {})
    st: dict[str, Any] = {"conditions": [cond("Ready", ready, "", message)]}
    st.update(status or {})
    return {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": meta(name, ns), "spec": sp, "status": st}


def request(name: str, cert: str | None, ns: str = "default", revision: int = 1,
            conds: list[dict[str, Any]] | None = None, issuer: str = "iss",
            kind: str = "Issuer", by_annotation: bool = False) -> Obj:
    md = meta(name, ns, annotations={"cert-manager.io/certificate-revision": str(revision)})
    if cert:
        if by_annotation:
            md["annotations"]["cert-manager.io/certificate-name"] = cert
        else:
            md["ownerReferences"] = [owner("Certificate", cert, ns)]
    return {"apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest", "metadata": md,
            "spec": {"issuerRef": {"name": issuer, "kind": kind}, "request": "LS0t"},
            "status": {"conditions": conds if conds is not None else [
                cond("Approved", "True", "cert-manager.io", "approved"),
                cond("Ready", "True", "Issued", "Certificate fetched from issuer successfully")]}}


def order(name: str, cr: str | None, ns: str = "default", state: str = "pending",
          reason: str = "", issuer: str = "iss", kind: str = "Issuer") -> Obj:
    md = meta(name, ns)
    if cr:
        md["ownerReferences"] = [owner("CertificateRequest", cr, ns)]
    st: dict[str, Any] = {"state": state}
    if reason:
        st["reason"] = reason
    return {"apiVersion": "acme.cert-manager.io/v1", "kind": "Order", "metadata": md,
            "spec": {"issuerRef": {"name": issuer, "kind": kind}, "dnsNames": ["a.test"],
                     "request": "LS0t"},
            "status": st}


def challenge(name: str, order_name: str | None, ns: str = "default", state: str = "pending",
              reason: str = "", ctype: str = "HTTP-01", host: str = "a.test",
              issuer: str = "iss", kind: str = "Issuer",
              solver: dict[str, Any] | None = None) -> Obj:
    md = meta(name, ns)
    if order_name:
        md["ownerReferences"] = [owner("Order", order_name, ns, "acme.cert-manager.io/v1")]
    return {"apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge", "metadata": md,
            "spec": {"type": ctype, "dnsName": host, "token": "tok", "key": "tok.key",
                     "url": "https://acme.test/chall/1", "authorizationURL": "https://acme.test/authz/1",
                     "issuerRef": {"name": issuer, "kind": kind},
                     "solver": solver or {"http01": {"ingress": {"ingressClassName": "nginx"}}}},
            "status": {"state": state, "reason": reason, "presented": True,
                       "processing": True}}


def event(name: str, ns: str, kind: str, obj_name: str, obj_ns: str, message: str,
          when: timedelta, reason: str = "Reason", etype: str = "Warning") -> Obj:
    return {"apiVersion": "v1", "kind": "Event", "metadata": meta(name, ns),
            "involvedObject": {"kind": kind, "name": obj_name, "namespace": obj_ns},
            "reason": reason, "message": message, "type": etype, "lastTimestamp": ts(when)}


def objset(*objs: Obj) -> ObjectSet:
    return ObjectSet.from_objects(objs, source="test")


# -- DNS-01 provider factories (tests/test_rules_dns01_v2.py) -------------------------------
def dns01_chain(reason: str, solver: dict[str, Any], ns: str = "default",
                kind: str = "ClusterIssuer", issuer_name: str = "le", presented: bool = False,
                host: str = "www.example.com", cert_ready: str = "False") -> list[Obj]:
    """An ACME issuer with ``solver`` and one stuck Certificate whose DNS-01 Challenge has
    ``reason`` (as cert-manager writes it when Present fails: presented false)."""
    iss = issuer(issuer_name, None if kind == "ClusterIssuer" else ns, spec={"acme": {
        "server": "https://acme.test/directory", "privateKeySecretRef": {"name": "acct"},
        "solvers": [solver]}})
    cert = certificate("web", ns, issuer=issuer_name, kind=kind, ready=cert_ready,
                       dns=(host,))
    cr = request("web-1", "web", ns, issuer=issuer_name, kind=kind,
                 conds=[cond("Approved", "True"), cond("Ready", "False", "Pending", "w")])
    od = order("web-1-1", "web-1", ns, issuer=issuer_name, kind=kind)
    ch = challenge("web-1-1-0", "web-1-1", ns, reason=reason, ctype="DNS-01", host=host,
                   issuer=issuer_name, kind=kind, solver=solver)
    ch["status"]["presented"] = presented
    return [iss, cert, cr, od, ch]


def present_error(ch_name: str, ns: str, message: str, name: str = "ev-present") -> Obj:
    """The Warning Event cert-manager records when presenting fails (sync.go)."""
    return event(name, ns, "Challenge", ch_name, ns, f"Error presenting challenge: {message}",
                 -timedelta(minutes=1), reason="PresentError")


def secret(name: str, ns: str) -> Obj:
    """A Secret as the store keeps it (metadata only)."""
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta(name, ns), "data": {}}


def apiservice(group: str, available: str = "True", reason: str = "",
               message: str = "") -> Obj:
    """The APIService a webhook DNS-01 solver registers (v1alpha1.<groupName>)."""
    return {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": meta(f"v1alpha1.{group}", None),
            "spec": {"group": group, "version": "v1alpha1",
                     "service": {"name": "webhook", "namespace": "cert-manager"}},
            "status": {"conditions": [cond("Available", available, reason, message)]}}


def controller(version: str = "v1.21.1", args: list[str] | None = None) -> Obj:
    """The cert-manager controller Deployment (image tag = version)."""
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta("cert-manager", "cert-manager", labels={
                "app.kubernetes.io/name": "cert-manager",
                "app.kubernetes.io/component": "controller"}),
            "spec": {"template": {"spec": {"containers": [{
                "name": "cert-manager-controller",
                "image": f"quay.io/jetstack/cert-manager-controller:{version}",
                "args": args if args is not None else ["--v=2"]}]}}}}


# -- HTTP-01 solver Pod factories (tests/test_rules_solver_dns_config.py) -------------------
def solver_pod(ch_name: str, ns: str = "default", waiting: str = "", message: str = "",
               phase: str = "Pending", scheduled: str = "True", sched_reason: str = "",
               sched_message: str = "", age: timedelta = timedelta(minutes=20),
               image: str = "quay.io/jetstack/cert-manager-acmesolver:v1.14.4",
               last_terminated: dict[str, Any] | None = None,
               solver_label: bool = True) -> Obj:
    """The Pod cert-manager creates for an HTTP-01 Challenge (pkg/issuer/acme/http/pod.go:
    generateName cm-acme-http-solver-, solver label, controller ownerReference)."""
    md = meta(f"cm-acme-http-solver-{ch_name[-5:]}", ns)
    md["creationTimestamp"] = ts(-age)
    md["generateName"] = "cm-acme-http-solver-"
    if solver_label:
        md["labels"] = {"acme.cert-manager.io/http-domain": "3159757414",
                        "acme.cert-manager.io/http-token": "607653218",
                        "acme.cert-manager.io/http01-solver": "true"}
    md["ownerReferences"] = [owner("Challenge", ch_name, ns, "acme.cert-manager.io/v1")]
    state: dict[str, Any] = {"waiting": {"reason": waiting, "message": message}} if waiting \
        else ({"running": {"startedAt": ts(-age)}} if phase == "Running" else {})
    cs: dict[str, Any] = {"name": "acmesolver", "image": image, "ready": phase == "Running",
                          "restartCount": 0, "state": state,
                          "lastState": {"terminated": last_terminated} if last_terminated else {}}
    sched: dict[str, Any] = {"type": "PodScheduled", "status": scheduled}
    if sched_reason:
        sched.update(reason=sched_reason, message=sched_message)
    status: dict[str, Any] = {"phase": phase, "conditions": [sched]}
    if scheduled == "True":
        status["containerStatuses"] = [cs]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md,
            "spec": {"containers": [{"name": "acmesolver", "image": image}],
                     "restartPolicy": "OnFailure"},
            "status": status}


def findings(*objs: Obj) -> list[Finding]:
    """Every rule's findings over these objects, judged at ``NOW``."""
    from kubectl_certdoctor.graph import build_graph
    from kubectl_certdoctor.rules import run_rules

    return run_rules(build_graph(objset(*objs), NOW), NOW)


def codes(*objs: Obj) -> set[str]:
    """The finding codes over these objects, judged at ``NOW``."""
    return {f.code for f in findings(*objs)}
