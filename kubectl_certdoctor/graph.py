"""The object graph: Issuer → Certificate → CertificateRequest → Order → Challenge.

Links are made the way cert-manager makes them:

* Certificate → Issuer/ClusterIssuer by ``spec.issuerRef`` (kind defaults to
  Issuer, group to cert-manager.io). An issuerRef to a cert-manager kind that does
  not exist hangs under a placeholder node ``missing:<ref>`` (status MISSING,
  reason "missing Issuer ns/name"). An issuerRef with another group (an external
  issuer such as ``awspca.cert-manager.io``) gets its own node whose kind is
  ``<Kind>.<group>``: we do not watch those kinds, so its status is UNKNOWN.
* CertificateRequest → Certificate by ownerReference (uid, then kind+name), else
  the ``cert-manager.io/certificate-name`` annotation; the revision comes from
  ``cert-manager.io/certificate-revision``.
* Order → CertificateRequest and Challenge → Order by ownerReference (uid, then
  kind+name, because hand-written bundles often lack uids).

Orphans are never dropped: every CertificateRequest without a Certificate, Order
without a CertificateRequest and Challenge without an Order hangs (with its own
children) under one synthetic root node with id ``orphans`` (ref
``Ref("Orphans", "", "orphans")``, obj None), listed after every issuer root.

Building is linear in the number of objects (dict indexes by uid and by name).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubectl_certdoctor.backoff import BackoffConfig, config_from_args
from kubectl_certdoctor.kinds import CM_GROUP
from kubectl_certdoctor.objects import (
    Obj,
    ObjectSet,
    Ref,
    as_dict,
    as_int,
    as_list,
    dig,
    labels,
    owner_refs,
    parse_time,
    text,
)
from kubectl_certdoctor.objects import (
    annotations as annotations_of,
)
from kubectl_certdoctor.status import Status, status_of
from kubectl_certdoctor.versions import controller_args

__all__ = [
    "ORPHANS_ID",
    "Graph",
    "IssuerRef",
    "Node",
    "Status",
    "build_graph",
    "issuer_ref_of",
]

def _meta(obj: Obj) -> dict[str, Any]:
    m = obj.get("metadata")
    return m if isinstance(m, dict) else {}


# fast local accessors: build_graph calls these ~10 times per object
def name(obj: Obj) -> str:
    return text(_meta(obj).get("name"))


def namespace(obj: Obj) -> str:
    return text(_meta(obj).get("namespace"))


def uid(obj: Obj) -> str:
    return text(_meta(obj).get("uid"))


ORPHANS_ID = "orphans"
ORPHANS_REF = Ref("Orphans", "", "orphans")
CERT_NAME_ANN = "cert-manager.io/certificate-name"
REVISION_ANN = "cert-manager.io/certificate-revision"
SOLVER_LABEL = "acme.cert-manager.io/http01-solver"
DEFAULT_CLUSTER_RESOURCE_NS = "cert-manager"


@dataclass(eq=False)
class Node:
    """One row of the tree. ``obj`` is None for placeholders and the orphans group."""

    id: str
    ref: Ref
    obj: Obj | None
    status: Status
    reason: str
    age: datetime | None
    children: list[Node] = field(default_factory=list)
    parent_id: str | None = None

    def __repr__(self) -> str:
        kids = len(self.children)
        return f"Node({self.id!r}, {self.status.name}, {self.reason!r}, {kids} children)"


@dataclass(frozen=True)
class IssuerRef:
    """A resolved ``issuerRef``: the Ref we look up, and whether it is cert-manager's own."""

    ref: Ref
    kind: str
    group: str
    #: a group other than cert-manager.io: an external issuer we do not watch
    external: bool
    #: group is cert-manager.io but the kind is neither Issuer nor ClusterIssuer
    bad_kind: bool


def issuer_ref_of(obj: Obj) -> IssuerRef:
    """Resolve ``spec.issuerRef`` of a Certificate/CertificateRequest/Order/Challenge."""
    ir = as_dict(dig(obj, "spec", "issuerRef"))
    kind = text(ir.get("kind")) or "Issuer"
    group = text(ir.get("group")) or CM_GROUP
    nm = text(ir.get("name"))
    ns = namespace(obj)
    if group != CM_GROUP:
        scoped = "" if "Cluster" in kind else ns  # heuristic: unknown CRD scope
        return IssuerRef(Ref(f"{kind}.{group}", scoped, nm), kind, group, True, False)
    if kind == "ClusterIssuer":
        return IssuerRef(Ref("ClusterIssuer", "", nm), kind, group, False, False)
    bad = kind != "Issuer"
    return IssuerRef(Ref(kind if bad else "Issuer", ns, nm), kind, group, False, bad)


def revision_of(cr: Obj) -> int:
    return as_int(annotations_of(cr).get(REVISION_ANN), 0)


def event_time(ev: Obj) -> datetime | None:
    for path in (("lastTimestamp",), ("series", "lastObservedTime"), ("eventTime",),
                 ("firstTimestamp",), ("metadata", "creationTimestamp")):
        t = parse_time(dig(ev, *path))
        if t is not None:
            return t
    return None


def _event_key(ev: Obj) -> tuple[str, str, str] | None:
    io = as_dict(ev.get("involvedObject")) or as_dict(ev.get("regarding"))
    if not io:
        return None
    return text(io.get("kind")), text(io.get("namespace")), text(io.get("name"))


class Graph:
    """The forest of nodes plus lookups the screens and rules need."""

    def __init__(self, objs: ObjectSet, now: datetime) -> None:
        self.objs = objs
        self.now = now
        self.roots: list[Node] = []
        self.nodes: dict[str, Node] = {}
        self.backoff: BackoffConfig = BackoffConfig()
        self.cluster_resource_namespace = DEFAULT_CLUSTER_RESOURCE_NS
        self._events: dict[tuple[str, str, str], list[Obj]] = defaultdict(list)
        self._owned: dict[str, list[Obj]] = defaultdict(list)
        self._owned_by_name: dict[tuple[str, str, str], list[Obj]] = defaultdict(list)
        self._ingress_by_host: dict[str, list[Obj]] = defaultdict(list)
        self._by_kind: dict[str, list[Node]] = defaultdict(list)
        #: CertificateRequest node id → its certificate-revision annotation (0 when absent)
        self.revisions: dict[str, int] = {}
        #: Certificate node id → its newest CertificateRequest node (highest revision)
        self.latest_requests: dict[str, Node] = {}

    # -- lookups -----------------------------------------------------------------
    def node(self, ref: Ref) -> Node | None:
        return self.nodes.get(str(ref))

    def parent(self, node: Node) -> Node | None:
        return self.nodes.get(node.parent_id) if node.parent_id else None

    def of_kind(self, kind: str) -> list[Node]:
        """Nodes of one kind that hold a real object (placeholders excluded)."""
        return list(self._by_kind.get(kind, []))

    def ancestor(self, node: Node, kind: str) -> Node | None:
        """The nearest ancestor of ``kind`` (e.g. the Certificate of a Challenge)."""
        cur = self.parent(node)
        while cur is not None:
            if cur.ref.kind == kind:
                return cur
            cur = self.parent(cur)
        return None

    def issuer_for(self, obj: Obj) -> tuple[IssuerRef, Obj | None]:
        """The issuer object an issuerRef points at (None when missing or external)."""
        ir = issuer_ref_of(obj)
        if ir.external or ir.bad_kind:
            return ir, None
        return ir, self.objs.get(ir.ref.kind, ir.ref.namespace, ir.ref.name)

    def ingresses_for_host(self, host: str) -> list[Obj]:
        """Site Ingresses (not cert-manager's solver ones) with a rule for ``host``."""
        return list(self._ingress_by_host.get(host.lower().rstrip("."), []))

    def owned_by(self, owner: Obj, kind: str | None = None) -> list[Obj]:
        """Objects whose ownerReferences point at ``owner`` (by uid, else kind+name)."""
        u = uid(owner)
        found = list(self._owned.get(u, [])) if u else []
        if not found:
            key = (text(owner.get("kind")), namespace(owner), name(owner))
            found = list(self._owned_by_name.get(key, []))
        return [o for o in found if kind is None or o.get("kind") == kind]

    def events_for(self, ref: Ref) -> list[Obj]:
        """Events whose involvedObject (or regarding) is ``ref``, newest first."""
        evs = self._events.get((ref.kind, ref.namespace, ref.name), [])
        return sorted(evs, key=lambda e: (event_time(e) is not None, event_time(e) or self.now),
                      reverse=True)

    def related(self, ref: Ref) -> list[Ref]:
        """Objects that matter for ``ref`` besides its tree neighbours (existing ones only):
        a Certificate's Secret and owning Ingress; a Challenge's solver Pod/Service/Ingress
        and the site Ingresses for its host; an issuer's account/CA Secret; and the issuer
        of a Certificate, CertificateRequest, Order or Challenge."""
        obj = self.objs.get(ref.kind, ref.namespace, ref.name)
        if obj is None:
            return []
        out: list[Ref] = []

        def add(kind: str, ns: str, nm: str) -> None:
            if nm and self.objs.get(kind, ns, nm) is not None:
                r = Ref(kind, ns, nm)
                if r not in out and r != ref:
                    out.append(r)

        if ref.kind in ("Issuer", "ClusterIssuer"):
            sec_ns = ref.namespace or self.cluster_resource_namespace
            spec = as_dict(obj.get("spec"))
            add("Secret", sec_ns, text(dig(spec, "acme", "privateKeySecretRef", "name")))
            add("Secret", sec_ns, text(dig(spec, "ca", "secretName")))
            add("Secret", sec_ns, text(dig(spec, "vault", "auth", "tokenSecretRef", "name")))
            add("Secret", sec_ns,
                text(dig(spec, "vault", "auth", "appRole", "secretRef", "name")))
            return out
        if ref.kind == "Certificate":
            add("Secret", ref.namespace, text(dig(obj, "spec", "secretName")))
            for o in owner_refs(obj):
                if text(o.get("kind")) in ("Ingress", "Gateway"):
                    add(text(o.get("kind")), ref.namespace, text(o.get("name")))
        if ref.kind == "Challenge":
            for kind in ("Pod", "Service", "Ingress"):
                for o in self.owned_by(obj, kind):
                    add(kind, namespace(o), name(o))
            host = text(dig(obj, "spec", "dnsName"))
            for ing in self.ingresses_for_host(host):
                add("Ingress", namespace(ing), name(ing))
        if ref.kind in ("Certificate", "CertificateRequest", "Order", "Challenge"):
            ir, iss = self.issuer_for(obj)
            if iss is not None:
                add(ir.ref.kind, ir.ref.namespace, ir.ref.name)
        return out


def _index_owners(g: Graph, objs: Iterable[Obj]) -> None:
    for o in objs:
        for ow in owner_refs(o):
            u = text(ow.get("uid"))
            if u:
                g._owned[u].append(o)
            g._owned_by_name[(text(ow.get("kind")), namespace(o), text(ow.get("name")))].append(o)


def _owner_node(
    obj: Obj, kind: str, by_uid: dict[str, Node], by_name: dict[tuple[str, str], Node]
) -> Node | None:
    refs = [o for o in owner_refs(obj) if text(o.get("kind")) == kind]
    for o in refs:
        n = by_uid.get(text(o.get("uid")))
        if n is not None:
            return n
    for o in refs:
        n = by_name.get((namespace(obj), text(o.get("name"))))
        if n is not None:
            return n
    return None


def build_graph(objs: ObjectSet, now: datetime) -> Graph:
    """Link every cert-manager object into the forest described in the module doc."""
    g = Graph(objs, now)
    args = controller_args(objs)
    g.backoff = config_from_args(args)
    for i, a in enumerate(args):
        if a.startswith("--cluster-resource-namespace="):
            g.cluster_resource_namespace = a.split("=", 1)[1] or DEFAULT_CLUSTER_RESOURCE_NS
        elif a == "--cluster-resource-namespace" and i + 1 < len(args):
            g.cluster_resource_namespace = args[i + 1] or DEFAULT_CLUSTER_RESOURCE_NS

    def make(kind: str, obj: Obj) -> Node:
        ref = Ref(kind, namespace(obj), name(obj))
        st, reason = status_of(kind, obj, now, g.backoff)
        n = Node(str(ref), ref, obj, st, reason, parse_time(_meta(obj).get("creationTimestamp")))
        g.nodes[n.id] = n
        g._by_kind[kind].append(n)
        return n

    def attach(parent: Node, child: Node) -> None:
        parent.children.append(child)
        child.parent_id = parent.id

    def good(kind: str) -> list[Obj]:
        # objects without a name cannot be shown or linked; keep the rest
        return [o for o in objs.of_kind(kind) if isinstance(o, dict) and name(o)]

    # related kinds: events, owners, ingress hosts
    for ev in good("Event"):
        key = _event_key(ev)
        if key:
            g._events[key].append(ev)
    _index_owners(g, (o for k in ("Pod", "Service", "Ingress") for o in good(k)))
    for ing in good("Ingress"):
        if labels(ing).get(SOLVER_LABEL) == "true":
            continue
        hosts = {text(r.get("host")).lower().rstrip(".")
                 for r in as_list(dig(ing, "spec", "rules")) if isinstance(r, dict)}
        for h in hosts - {""}:
            g._ingress_by_host[h].append(ing)

    # issuers
    issuer_roots: dict[str, Node] = {}
    for kind in ("ClusterIssuer", "Issuer"):
        for o in good(kind):
            n = make(kind, o)
            issuer_roots[n.id] = n
    placeholders: dict[str, Node] = {}

    def issuer_node(cert: Obj) -> Node:
        ir = issuer_ref_of(cert)
        rid = str(ir.ref)
        if not ir.external and rid in issuer_roots:
            return issuer_roots[rid]
        pid = rid if ir.external else f"missing:{rid}"
        if pid not in placeholders:
            if ir.external:
                n = Node(pid, ir.ref, None, Status.UNKNOWN,
                         f"external issuer ({ir.group}), not watched", None)
            else:
                label = ir.kind if ir.bad_kind else ir.ref.kind
                where = f"{ir.ref.namespace}/{ir.ref.name}" if ir.ref.namespace else ir.ref.name
                why = f"missing {label} {where or '(no name)'}"
                if ir.bad_kind:
                    why += f" (kind {ir.kind!r} is not Issuer or ClusterIssuer)"
                n = Node(pid, ir.ref, None, Status.MISSING, why, None)
            placeholders[pid] = n
            g.nodes[pid] = n
        return placeholders[pid]

    # certificates
    cert_by_uid: dict[str, Node] = {}
    cert_by_name: dict[tuple[str, str], Node] = {}
    for o in sorted(good("Certificate"), key=lambda c: (namespace(c), name(c))):
        n = make("Certificate", o)
        attach(issuer_node(o), n)
        if uid(o):
            cert_by_uid[uid(o)] = n
        cert_by_name[(namespace(o), name(o))] = n

    orphans: list[Node] = []

    # certificate requests
    cr_by_uid: dict[str, Node] = {}
    cr_by_name: dict[tuple[str, str], Node] = {}
    revs = [(revision_of(o), o) for o in good("CertificateRequest")]
    revs.sort(key=lambda rc: (namespace(rc[1]), rc[0],
                              text(dig(rc[1], "metadata", "creationTimestamp")), name(rc[1])))
    for rev, o in revs:
        n = make("CertificateRequest", o)
        g.revisions[n.id] = rev
        if uid(o):
            cr_by_uid[uid(o)] = n
        cr_by_name[(namespace(o), name(o))] = n
        parent = _owner_node(o, "Certificate", cert_by_uid, cert_by_name)
        if parent is None:
            cn = annotations_of(o).get(CERT_NAME_ANN, "")
            parent = cert_by_name.get((namespace(o), cn)) if cn else None
        if parent is None:
            orphans.append(n)
        else:
            attach(parent, n)
            g.latest_requests[parent.id] = n  # sorted by revision: the last one wins

    # orders
    order_by_uid: dict[str, Node] = {}
    order_by_name: dict[tuple[str, str], Node] = {}
    orders = sorted(good("Order"), key=lambda c: (
        namespace(c), text(dig(c, "metadata", "creationTimestamp")), name(c)))
    for o in orders:
        n = make("Order", o)
        if uid(o):
            order_by_uid[uid(o)] = n
        order_by_name[(namespace(o), name(o))] = n
        parent = _owner_node(o, "CertificateRequest", cr_by_uid, cr_by_name)
        if parent is None:
            orphans.append(n)
        else:
            attach(parent, n)

    # challenges
    for o in sorted(good("Challenge"), key=lambda c: (namespace(c), name(c))):
        n = make("Challenge", o)
        parent = _owner_node(o, "Order", order_by_uid, order_by_name)
        if parent is None:
            orphans.append(n)
        else:
            attach(parent, n)

    def root_key(n: Node) -> tuple[int, str, str, str]:
        rank = {"ClusterIssuer": 0, "Issuer": 1}.get(n.ref.kind, 2)
        return (rank, n.ref.namespace, n.ref.name, n.id)

    g.roots = sorted([*issuer_roots.values(), *placeholders.values()], key=root_key)
    if orphans:
        group = Node(ORPHANS_ID, ORPHANS_REF, None, Status.UNKNOWN,
                     f"{len(orphans)} object{'s' if len(orphans) != 1 else ''} without an owner",
                     None)
        for n in orphans:
            attach(group, n)
        g.nodes[ORPHANS_ID] = group
        g.roots.append(group)
    return g
