"""From the object a finding is about to the object a fix changes.

Findings sit on the object that shows the symptom (a CertificateRequest, a
Challenge); fixes act where the cause can be changed (its Certificate, its
Issuer, the controller Deployment). These lookups are pure, over an ObjectSet.
"""

from __future__ import annotations

from kubectl_certdoctor.graph import CERT_NAME_ANN, revision_of
from kubectl_certdoctor.objects import (
    Obj,
    ObjectSet,
    Ref,
    as_int,
    dig,
    name,
    namespace,
    owner_refs,
    text,
    uid,
)
from kubectl_certdoctor.objects import (
    annotations as annotations_of,
)
from kubectl_certdoctor.versions import controller_deployment

revision = revision_of


def owner_of(objs: ObjectSet, obj: Obj, kind: str) -> Obj | None:
    """The owner of ``obj`` of kind ``kind`` (same namespace), if it is in ``objs``."""
    for o in owner_refs(obj):
        if o.get("kind") == kind:
            found = objs.get(kind, namespace(obj), text(o.get("name")))
            if found is not None:
                return found
    return None


def certificate_of(objs: ObjectSet, ref: Ref) -> Ref | None:
    """The Certificate behind a Certificate, CertificateRequest, Order or Challenge."""
    obj = objs.get(ref.kind, ref.namespace, ref.name)
    if ref.kind == "Certificate":
        return ref
    if obj is None:
        return None
    if ref.kind == "Challenge":
        order = owner_of(objs, obj, "Order")
        return certificate_of(objs, Ref.of(order)) if order else None
    if ref.kind == "Order":
        cr = owner_of(objs, obj, "CertificateRequest")
        return certificate_of(objs, Ref.of(cr)) if cr else None
    if ref.kind == "CertificateRequest":
        for o in owner_refs(obj):
            if o.get("kind") == "Certificate":
                return Ref("Certificate", ref.namespace, text(o.get("name")))
        nm = annotations_of(obj).get(CERT_NAME_ANN, "")
        return Ref("Certificate", ref.namespace, nm) if nm else None
    return None


def requests_of(objs: ObjectSet, cert: Obj) -> list[Obj]:
    """The CertificateRequests of a Certificate (owner uid, else the name annotation)."""
    cuid, cname, ns = uid(cert), name(cert), namespace(cert)
    out = []
    for cr in objs.of_kind("CertificateRequest"):
        if namespace(cr) != ns:
            continue
        owned = any(text(o.get("uid")) == cuid and cuid for o in owner_refs(cr)) or any(
            o.get("kind") == "Certificate" and o.get("name") == cname for o in owner_refs(cr))
        if owned or annotations_of(cr).get(CERT_NAME_ANN) == cname:
            out.append(cr)
    return sorted(out, key=lambda c: (revision(c), name(c)))


def next_revision(cert: Obj) -> int:
    """The revision cert-manager's next request for this Certificate carries."""
    return as_int(dig(cert, "status", "revision"), 0) + 1


def issuer_of(objs: ObjectSet, ref: Ref) -> Ref | None:
    """The Issuer/ClusterIssuer named by a Challenge, Order, CertificateRequest or
    Certificate (``spec.issuerRef``)."""
    if ref.kind in ("Issuer", "ClusterIssuer"):
        return ref
    obj = objs.get(ref.kind, ref.namespace, ref.name)
    if obj is None:
        return None
    ir = dig(obj, "spec", "issuerRef", default={})
    nm = text(dig(ir, "name"))
    if not nm:
        return None
    if text(dig(ir, "kind")) == "ClusterIssuer":
        return Ref("ClusterIssuer", "", nm)
    return Ref("Issuer", ref.namespace, nm)


def controller_ref(objs: ObjectSet) -> Ref | None:
    dep = controller_deployment(objs)
    return Ref("Deployment", namespace(dep), name(dep)) if dep else None


def resolve(fix_id: str, objs: ObjectSet, ref: Ref) -> Ref:
    """The object fix ``fix_id`` acts on when offered for a finding on ``ref``
    (``ref`` itself when nothing better is known)."""
    found: Ref | None = None
    if fix_id in ("renew", "clear-failed-requests"):
        found = certificate_of(objs, ref)
    elif fix_id == "set-solver-ingress-class":
        found = issuer_of(objs, ref)
    elif fix_id in ("add-no-proxy", "set-recursive-nameservers", "upgrade-guidance"):
        found = ref if ref.kind == "Deployment" else controller_ref(objs)
    elif fix_id == "retry-challenge" and ref.kind == "CertificateRequest":
        orders = [o for o in objs.of_kind("Order") if namespace(o) == ref.namespace
                  and any(r.get("name") == ref.name for r in owner_refs(o))]
        if orders:
            found = Ref.of(orders[-1])
    return found or ref
