"""CertificateRequest rules: failed, denied, unapproved, and Vault requests never retried."""

from __future__ import annotations

from datetime import datetime, timedelta

from kubectl_certdoctor.graph import Graph, Node, revision_of
from kubectl_certdoctor.objects import dig, text
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.util import age, cond_ev, cond_text, is_current_request
from kubectl_certdoctor.versions import controller_version, vault_retry_fixed

APPROVAL_GRACE = timedelta(minutes=5)
VAULT_INIT = "Failed to initialise vault client for signing"


def _current(graph: Graph) -> list[Node]:
    return [n for n in graph.of_kind("CertificateRequest") if is_current_request(graph, n)]


def request_failed(graph: Graph, now: datetime) -> list[Finding]:
    from kubectl_certdoctor.backoff import certificate_backoff, human

    out: list[Finding] = []
    for node in _current(graph):
        obj = node.obj or {}
        st, reason, msg = cond_text(obj, "Ready")
        if st != "False" or reason != "Failed" or cond_text(obj, "Denied")[0] == "True":
            continue
        cert = graph.parent(node)
        cert_name = cert.ref.name if cert and cert.ref.kind == "Certificate" else "(none)"
        backoff = ""
        if cert is not None and cert.obj is not None:
            bo = certificate_backoff(cert.obj, now, graph.backoff)
            if bo is not None and bo.active:
                backoff = f" (next attempt in {human(bo.remaining)})"
        ev = [cond_ev("CertificateRequest", obj, "Ready")]
        ft = text(dig(obj, "status", "failureTime"))
        if ft:
            ev.append(f"CertificateRequest.status.failureTime: {ft}")
        out.append(make("CERTIFICATE_REQUEST_FAILED", node.ref, ev,
                        data={"certificate": cert_name},
                        name=node.ref.name, message=msg or "(no message)",
                        revision=revision_of(obj) or "?", certificate=cert_name,
                        backoff=backoff))
    return out


def request_denied(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    for node in _current(graph):
        obj = node.obj or {}
        st, _, msg = cond_text(obj, "Denied")
        if st != "True":
            continue
        out.append(make("CERTIFICATE_REQUEST_DENIED", node.ref,
                        [cond_ev("CertificateRequest", obj, "Denied")],
                        name=node.ref.name, message=msg or "no message"))
    return out


def request_not_approved(graph: Graph, now: datetime) -> list[Finding]:
    """Approval (the Approved/Denied conditions) exists from v1.3.0
    (CertificateRequestConditionApproved in pkg/apis/certmanager/v1/types_certificaterequest.go
    at v1.3.0; absent at v1.2.0): an older controller never writes it, and never waits for it."""
    from kubectl_certdoctor.backoff import human
    from kubectl_certdoctor.versions import Version

    found = controller_version(graph.objs)
    if found is not None and found[0] < Version(1, 3, 0):
        return []
    out: list[Finding] = []
    for node in _current(graph):
        obj = node.obj or {}
        if cond_text(obj, "Approved")[0] or cond_text(obj, "Denied")[0]:
            continue
        if cond_text(obj, "Ready")[0] == "True" or cond_text(obj, "InvalidRequest")[0] == "True":
            continue
        a = age(obj, now)
        if a is not None and a < APPROVAL_GRACE:
            continue
        ev = ["CertificateRequest.status.conditions: no Approved or Denied condition"]
        if a is not None:
            ev.append(f"created {human(a)} ago")
        out.append(make("CERTIFICATE_REQUEST_NOT_APPROVED", node.ref, ev,
                        name=node.ref.name, age=human(a) if a is not None else "a while"))
    return out


def vault_not_retried(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    found = controller_version(graph.objs)
    if found is None:
        return out  # without the version we cannot tell a stuck request from a retried one
    version, source = found
    if vault_retry_fixed(version):
        return out
    for node in _current(graph):
        obj = node.obj or {}
        st, reason, msg = cond_text(obj, "Ready")
        if st != "False" or reason != "Pending" or not msg.startswith(VAULT_INIT):
            continue
        _, issuer = graph.issuer_for(obj)
        if issuer is not None and not dig(issuer, "spec", "vault"):
            continue
        ev = [cond_ev("CertificateRequest", obj, "Ready"), f"cert-manager {version} ({source})"]
        out.append(make("VAULT_PERMISSION_DENIED_NOT_RETRIED", node.ref, ev,
                        data={"version": str(version)},
                        name=node.ref.name, version=str(version), message=msg))
    return out
