"""Which object each probe/fix of a finding should act on.

A finding sits on the object that shows the symptom, but a fix often acts elsewhere:
``renew`` on the Certificate of a failed CertificateRequest, ``set-solver-ingress-class``
on the issuer that holds the solver, ``add-no-proxy`` on the controller Deployment.
The targets go into ``Finding.data["act_on"]`` as ``{id: Ref}`` so the CLI, the TUI and
the fix/probe runners agree.
"""

from __future__ import annotations

from kubectl_certdoctor.graph import Graph, Node
from kubectl_certdoctor.objects import Ref, name, namespace
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.versions import controller_deployment

_CERT_FIXES = ("renew", "clear-failed-requests")
_CONTROLLER = ("add-no-proxy", "upgrade-guidance", "set-recursive-nameservers")


def _certificate(graph: Graph, node: Node | None) -> Node | None:
    if node is None:
        return None
    if node.ref.kind == "Certificate":
        return node
    return graph.ancestor(node, "Certificate")


def _issuer(graph: Graph, node: Node | None) -> Ref | None:
    if node is None or node.obj is None:
        return None
    if node.ref.kind in ("Issuer", "ClusterIssuer"):
        return node.ref
    ir, obj = graph.issuer_for(node.obj)
    if obj is not None:
        return ir.ref
    # fall back to the issuer the tree hangs the object under
    for kind in ("ClusterIssuer", "Issuer"):
        up = graph.ancestor(node, kind)
        if up is not None and up.obj is not None:
            return up.ref
    return None


def targets_for(graph: Graph, f: Finding) -> dict[str, Ref]:
    node = graph.node(f.object)
    out: dict[str, Ref] = {}
    dep = controller_deployment(graph.objs)
    dep_ref = Ref("Deployment", namespace(dep), name(dep)) if dep else None
    for fix in f.fixes:
        target: Ref | None = f.object
        if fix in _CERT_FIXES:
            cert = _certificate(graph, node)
            target = cert.ref if cert else (f.object if f.object.kind == "Certificate" else None)
        elif fix == "set-solver-ingress-class":
            target = _issuer(graph, node)
        elif fix in _CONTROLLER:
            target = dep_ref
        elif fix == "retry-challenge" and f.object.kind != "Challenge":
            target = None
        if target is not None:
            out[fix] = target
    for probe in f.probes:
        out.setdefault(probe, f.object)
    return out


def attach_targets(graph: Graph, findings: list[Finding]) -> None:
    for f in findings:
        f.data["act_on"] = targets_for(graph, f)
