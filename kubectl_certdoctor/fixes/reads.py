"""The fresh reads a fix is planned from: direct LISTs of just the kinds it reads, not
the store's snapshot (a watch may lag, and the CLI has no store). One module for the CLI
(commands/fix.py) and the TUI (screens/fix.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubectl_certdoctor.fixes.model import FixError, FixSpec
from kubectl_certdoctor.kinds import BY_NAME, Kind
from kubectl_certdoctor.objects import ObjectSet, Ref

if TYPE_CHECKING:
    from kubectl_certdoctor.cluster.connection import Connection

#: kinds that lead from a finding's object to the one a fix changes
_CHAIN = ("Certificate", "CertificateRequest", "Order", "Challenge")


def _list(conn: Connection, kind: Kind, namespace: str | None) -> list[dict[str, Any]]:
    from kubectl_certdoctor.cluster.watch import kind_path

    query = {"labelSelector": kind.label_selector} if kind.label_selector else None
    doc = conn.get(kind_path(kind, namespace), query)
    items = []
    for o in (doc or {}).get("items") or []:
        if isinstance(o, dict):
            o.setdefault("kind", kind.name)
            o.setdefault("apiVersion", kind.api_version)
            items.append(o)
    return items


def read_objects(conn: Connection, spec: FixSpec, target: Ref | None,
                 namespace: str) -> ObjectSet:
    """Direct LISTs of just the kinds the fix reads (target namespace; Deployments by
    cert-manager's label in every namespace; never Secrets), and a GET of the target."""
    from kubectl_certdoctor.cluster.connection import ApiError

    names = list(dict.fromkeys([*spec.reads, *(_CHAIN if target else ()),
                                *([target.kind] if target else [])]))
    if target and target.kind in ("Challenge", "Order", "Certificate", "CertificateRequest"):
        names += ["Issuer", "ClusterIssuer"]
    objs = ObjectSet(source="live", context=conn.context)
    for nm in dict.fromkeys(names):
        kind = BY_NAME.get(nm)
        if kind is None or kind.name == "Secret":
            continue
        ns = None if kind.name == "Deployment" else namespace
        try:
            for o in _list(conn, kind, ns if kind.namespaced else None):
                objs.add(o, kind.name)
        except ApiError as e:
            if e.status not in (403, 404):
                raise
    if "Service" in names and objs.get("Service", "default", "kubernetes") is None:
        try:  # the API server's own Service: its IP must bypass any proxy
            svc = conn.get("/api/v1/namespaces/default/services/kubernetes")
            if isinstance(svc, dict):
                objs.add(svc, "Service")
        except ApiError:
            pass
    if target and objs.get(target.kind, target.namespace, target.name) is None:
        from kubectl_certdoctor.fixes.model import object_path

        try:
            o = conn.get(object_path(target))
        except ApiError as e:
            if e.status == 404:
                raise FixError(f"{target.kind} {target.name} not found"
                               + (f" in namespace {target.namespace}" if target.namespace
                                  else "")) from None
            raise
        if isinstance(o, dict):
            objs.add(o, target.kind)
    return objs
