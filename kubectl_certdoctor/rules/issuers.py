"""Issuer rules: ISSUER_NOT_FOUND, ISSUER_NOT_READY."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from kubectl_certdoctor.graph import Graph, issuer_ref_of
from kubectl_certdoctor.objects import as_dict, dig, name, namespace
from kubectl_certdoctor.rules.acme_account import explained_issuer
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.shim import shim_issuer_remedy
from kubectl_certdoctor.rules.util import cond_ev, cond_text, field_ev
from kubectl_certdoctor.status import Status


def issuer_not_found(graph: Graph, now: datetime) -> list[Finding]:
    """Certificates hanging under a ``missing:`` placeholder."""
    out: list[Finding] = []
    issuers = graph.objs.of_kind("Issuer")
    cluster_issuers = {name(o) for o in graph.objs.of_kind("ClusterIssuer")}
    for cert in graph.of_kind("Certificate"):
        root = graph.parent(cert)
        if root is None or root.status is not Status.MISSING or \
                not root.id.startswith("missing:") or cert.obj is None:
            continue
        ir = issuer_ref_of(cert.obj)
        if ir.ref.kind in graph.objs.unseen:
            continue  # the issuers could not be read: missing is not known (coverage says so)
        nm, ns = ir.ref.name, ir.ref.namespace
        if ir.bad_kind:
            why = f" (kind {ir.kind!r} is neither Issuer nor ClusterIssuer)"
        elif ir.ref.kind == "Issuer" and nm in cluster_issuers:
            why = f" (a ClusterIssuer named {nm} exists: set issuerRef.kind: ClusterIssuer)"
        else:
            elsewhere = sorted(namespace(o) for o in issuers if name(o) == nm)
            if ir.ref.kind == "Issuer" and elsewhere:
                why = (f" (an Issuer {nm} exists in namespace {', '.join(elsewhere)}, but "
                       f"Issuers only serve their own namespace)")
            elif ir.ref.kind == "ClusterIssuer" and elsewhere:
                why = f" (only a namespaced Issuer {nm} exists: set issuerRef.kind: Issuer)"
            else:
                why = ""
        ref_s = f"{ir.ref.kind} {ns}/{nm}" if ns else f"{ir.ref.kind} {nm}"
        f = make(
            "ISSUER_NOT_FOUND", cert.ref,
            [field_ev("Certificate", "spec.issuerRef",
                      as_dict(dig(cert.obj, "spec", "issuerRef"))),
             f"no {ref_s} in the cluster"],
            data={"issuer": str(ir.ref)},
            kind=ir.kind, name=nm, ref=ref_s, why=why,
        )
        # a Certificate made by ingress-/gateway-shim: the fix is the annotation (rules/shim.py)
        shim_fix = shim_issuer_remedy(cert.obj, ir.ref.kind, nm,
                                      any(name(o) == nm and namespace(o) == cert.ref.namespace
                                          for o in issuers),
                                      nm in cluster_issuers)
        out.append(replace(f, remedy=shim_fix) if shim_fix else f)
    return out


def issuer_not_ready(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    for kind in ("ClusterIssuer", "Issuer"):
        for node in graph.of_kind(kind):
            obj = node.obj or {}
            st, reason, msg = cond_text(obj, "Ready")
            if st != "False":
                continue
            # the ACME account codes name these; ACME_ACCOUNT_SERVER_MISMATCH is only context
            if explained_issuer(graph, obj):
                continue
            out.append(make(
                "ISSUER_NOT_READY", node.ref, [cond_ev(kind, obj, "Ready")],
                kind=kind, name=node.ref.name, reason=reason or "no reason",
                message=msg or "(no message)",
            ))
    return out
