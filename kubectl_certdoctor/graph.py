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
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

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
from kubectl_certdoctor.versions import controller_args, controller_version, expand_controller_arg

__all__ = [
    "ORPHANS_ID",
    "Graph",
    "IssuerRef",
    "Node",
    "Status",
    "build_graph",
    "issuer_ref_of",
    "subtree",
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


@dataclass(eq=False, slots=True)
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
        #: per kind: node id → its index in ``_by_kind`` (lets a patch swap nodes in place)
        self._kind_pos: dict[str, dict[str, int]] = {}
        #: CertificateRequest node id → its certificate-revision annotation (0 when absent)
        self.revisions: dict[str, int] = {}
        #: Certificate node id → the id of its newest CertificateRequest (highest revision)
        self.latest_requests: dict[str, str] = {}
        #: node id → the id of the Certificate whose chain it belongs to (the unit of
        #: incremental work: see ``graph_patch``); orphans and issuers have none
        self.chain_of: dict[str, str] = {}
        #: (namespace, Secret name) → ids of the Certificates that name it in secretName
        self.secret_certs: dict[tuple[str, str], list[str]] = {}
        #: per chain kind: uid → node id and (namespace, name) → node id, to link new
        #: objects into an existing graph (ids, not nodes: a patch remakes nodes, not ids)
        self.link_index: tuple[dict[str, dict[str, str]],
                               dict[str, dict[tuple[str, str], str]]] = ({}, {})
        #: derived look-ups rules share within one analysis (``rules.util.memo``)
        self.memo: dict[str, tuple[object, Any]] = {}
        #: derived look-ups of kinds a patch never brings in (Services, Gateways,
        #: IngressClasses…: a change to one rebuilds the graph), shared with every graph
        #: ``graph_patch`` makes from this one (``rules.util.context_memo``)
        self.context_memo: dict[str, Any] = {}

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


#: the kinds linked below an issuer, in the order they are linked
CHAIN_KINDS = ("Certificate", "CertificateRequest", "Order", "Challenge")
#: what each chain kind hangs under (by ownerReference)
_OWNER_KIND = {"CertificateRequest": "Certificate", "Order": "CertificateRequest",
               "Challenge": "Order"}


def good(objs: Iterable[Any]) -> list[Obj]:
    """Objects that can be shown and linked: dicts with a name."""
    return [o for o in objs if isinstance(o, dict) and name(o)]


def sort_key(kind: str, o: Obj) -> tuple[Any, ...]:
    """The order cert-manager's objects are linked in: the last CertificateRequest linked
    to a Certificate is its newest (highest revision), so ``latest_requests`` needs it."""
    if kind == "CertificateRequest":
        return (namespace(o), revision_of(o), text(dig(o, "metadata", "creationTimestamp")),
                name(o))
    if kind == "Order":
        return (namespace(o), text(dig(o, "metadata", "creationTimestamp")), name(o))
    return (namespace(o), name(o))


def link_fields(kind: str, o: Obj) -> tuple[Any, ...]:
    """Everything of an object that decides where it hangs and in which order: when these
    are unchanged, an update cannot move the node (``graph_patch`` relies on it)."""
    md = _meta(o)
    if kind == "Certificate":
        return (text(md.get("uid")), issuer_ref_of(o),
                text(dig(o, "spec", "secretName")))
    owners = tuple((text(r.get("kind")), text(r.get("name")), text(r.get("uid")))
                   for r in owner_refs(o))
    if kind == "CertificateRequest":
        ann = annotations_of(o)
        return (text(md.get("uid")), owners, ann.get(CERT_NAME_ANN, ""), revision_of(o),
                text(md.get("creationTimestamp")))
    return (text(md.get("uid")), owners, text(md.get("creationTimestamp")))


V = TypeVar("V")


def find_parent(kind: str, obj: Obj, by_uid: dict[str, dict[str, V]],
                by_name: dict[str, dict[tuple[str, str], V]]) -> V | None:
    """What ``obj`` hangs under, looked up the way cert-manager links: ownerReference by
    uid, then by name; a CertificateRequest also by its certificate-name annotation."""
    okind = _OWNER_KIND[kind]
    refs = [o for o in owner_refs(obj) if text(o.get("kind")) == okind]
    uids, names = by_uid.get(okind, {}), by_name.get(okind, {})
    for o in refs:
        n = uids.get(text(o.get("uid")))
        if n is not None:
            return n
    for o in refs:
        n = names.get((namespace(obj), text(o.get("name"))))
        if n is not None:
            return n
    if kind == "CertificateRequest":
        cn = annotations_of(obj).get(CERT_NAME_ANN, "")
        if cn:
            return names.get((namespace(obj), cn))
    return None


class Linker:
    """Makes nodes and links chain objects into their parents, recording the lookups the
    graph keeps (``chain_of``, ``revisions``, ``latest``, ``secrets``).

    The full build runs it over every object; ``graph_patch`` runs it over the objects of a
    few Certificates' chains, so both produce exactly the same nodes.
    """

    def __init__(self, g: Graph) -> None:
        self.g = g
        #: per kind: uid → node and (namespace, name) → node of the objects linked so far
        self.by_uid: dict[str, dict[str, Node]] = {k: {} for k in CHAIN_KINDS}
        self.by_name: dict[str, dict[tuple[str, str], Node]] = {k: {} for k in CHAIN_KINDS}
        self.made: list[Node] = []
        self.orphans: list[Node] = []
        self.chain_of: dict[str, str] = {}
        self.revisions: dict[str, int] = {}
        self.latest: dict[str, str] = {}
        self.secrets: dict[tuple[str, str], list[str]] = {}

    def make(self, kind: str, obj: Obj) -> Node:
        g = self.g
        ref = Ref(kind, namespace(obj), name(obj))
        st, reason = status_of(kind, obj, g.now, g.backoff)
        n = Node(str(ref), ref, obj, st, reason, parse_time(_meta(obj).get("creationTimestamp")))
        self.made.append(n)
        return n

    def link(self, certs: list[tuple[Node, Obj]], members: dict[str, list[Obj]]) -> None:
        """Link Certificates (already attached to their issuer) and the CertificateRequests,
        Orders and Challenges of ``members``; what finds no parent goes to ``orphans``."""
        for n, o in certs:
            self._index("Certificate", n, o)
            sec = text(dig(o, "spec", "secretName"))
            if sec:
                self.secrets.setdefault((n.ref.namespace, sec), []).append(n.id)
            self.chain_of[n.id] = n.id
        for kind in CHAIN_KINDS[1:]:
            for o in sorted(members.get(kind, ()), key=lambda x, k=kind: sort_key(k, x)):
                n = self.make(kind, o)
                self._index(kind, n, o)
                parent = find_parent(kind, o, self.by_uid, self.by_name)
                if kind == "CertificateRequest":
                    self.revisions[n.id] = revision_of(o)
                if parent is None:
                    self.orphans.append(n)
                    continue
                attach(parent, n)
                chain = self.chain_of.get(parent.id)
                if chain is not None:
                    self.chain_of[n.id] = chain
                if kind == "CertificateRequest":
                    self.latest[parent.id] = n.id  # sorted by revision: the last one wins

    def index_ids(self) -> tuple[dict[str, dict[str, str]],
                                 dict[str, dict[tuple[str, str], str]]]:
        """The lookups as ``Graph.link_index`` keeps them (node ids)."""
        return ({k: {u: n.id for u, n in d.items()} for k, d in self.by_uid.items()},
                {k: {key: n.id for key, n in d.items()} for k, d in self.by_name.items()})

    def _index(self, kind: str, n: Node, o: Obj) -> None:
        u = uid(o)
        if u:
            self.by_uid[kind][u] = n
        self.by_name[kind][(n.ref.namespace, n.ref.name)] = n


def subtree(node: Node) -> Iterator[Node]:
    """``node`` and everything below it (depth first)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.children)


def attach(parent: Node, child: Node) -> None:
    parent.children.append(child)
    child.parent_id = parent.id


def placeholder(ir: IssuerRef) -> Node:
    """The root a Certificate hangs under when its issuer is missing or external."""
    rid = str(ir.ref)
    if ir.external:
        return Node(rid, ir.ref, None, Status.UNKNOWN,
                    f"external issuer ({ir.group}), not watched", None)
    label = ir.kind if ir.bad_kind else ir.ref.kind
    where = f"{ir.ref.namespace}/{ir.ref.name}" if ir.ref.namespace else ir.ref.name
    why = f"missing {label} {where or '(no name)'}"
    if ir.bad_kind:
        why += f" (kind {ir.kind!r} is not Issuer or ClusterIssuer)"
    return Node(f"missing:{rid}", ir.ref, None, Status.MISSING, why, None)


def root_id(ir: IssuerRef, issuer_ids: Container[str]) -> str:
    """The id of the root a Certificate with this issuerRef hangs under."""
    rid = str(ir.ref)
    if ir.external:
        return rid
    return rid if rid in issuer_ids else f"missing:{rid}"


def root_key(n: Node) -> tuple[int, str, str, str]:
    rank = {"ClusterIssuer": 0, "Issuer": 1}.get(n.ref.kind, 2)
    return (rank, n.ref.namespace, n.ref.name, n.id)


def orphans_group(orphans: list[Node]) -> Node:
    group = Node(ORPHANS_ID, ORPHANS_REF, None, Status.UNKNOWN,
                 f"{len(orphans)} object{'s' if len(orphans) != 1 else ''} without an owner",
                 None)
    for n in orphans:
        attach(group, n)
    return group


def index_context(g: Graph) -> None:
    """The lookups of the kinds around the tree: events, owners, site Ingresses by host."""
    index_events(g)
    index_owned(g)


def index_events(g: Graph) -> None:
    g._events = defaultdict(list)
    for ev in good(g.objs.of_kind("Event")):
        key = _event_key(ev)
        if key:
            g._events[key].append(ev)


def index_owned(g: Graph) -> None:
    """Solver Pods/Services/Ingresses by owner, and site Ingresses by host."""
    objs = g.objs
    g._owned = defaultdict(list)
    g._owned_by_name = defaultdict(list)
    _index_owners(g, (o for k in ("Pod", "Service", "Ingress") for o in good(objs.of_kind(k))))
    g._ingress_by_host = defaultdict(list)
    for ing in good(objs.of_kind("Ingress")):
        if labels(ing).get(SOLVER_LABEL) == "true":
            continue
        hosts = {text(r.get("host")).lower().rstrip(".")
                 for r in as_list(dig(ing, "spec", "rules")) if isinstance(r, dict)}
        for h in hosts - {""}:
            g._ingress_by_host[h].append(ing)


def controller_settings(g: Graph) -> None:
    """Backoff durations and the cluster resource namespace from the controller's args."""
    args = controller_args(g.objs)
    found = controller_version(g.objs)
    g.backoff = config_from_args(args, (found[0].major, found[0].minor) if found else None)
    for i, a in enumerate(args):
        if a.startswith("--cluster-resource-namespace="):
            g.cluster_resource_namespace = expand_controller_arg(
                g.objs, a.split("=", 1)[1]) or DEFAULT_CLUSTER_RESOURCE_NS
        elif a == "--cluster-resource-namespace" and i + 1 < len(args):
            g.cluster_resource_namespace = expand_controller_arg(
                g.objs, args[i + 1]) or DEFAULT_CLUSTER_RESOURCE_NS


def build_graph(objs: ObjectSet, now: datetime) -> Graph:
    """Link every cert-manager object into the forest described in the module doc."""
    g = Graph(objs, now)
    controller_settings(g)
    index_context(g)
    lk = Linker(g)

    issuer_roots: dict[str, Node] = {}
    for kind in ("ClusterIssuer", "Issuer"):
        for o in good(objs.of_kind(kind)):
            n = lk.make(kind, o)
            issuer_roots[n.id] = n
    placeholders: dict[str, Node] = {}
    certs: list[tuple[Node, Obj]] = []
    for o in sorted(good(objs.of_kind("Certificate")), key=lambda c: sort_key("Certificate", c)):
        ir = issuer_ref_of(o)
        rid = root_id(ir, issuer_roots)
        root = issuer_roots.get(rid) or placeholders.get(rid)
        if root is None:
            root = placeholders[rid] = placeholder(ir)
        n = lk.make("Certificate", o)
        attach(root, n)
        certs.append((n, o))
    lk.link(certs, {k: good(objs.of_kind(k)) for k in CHAIN_KINDS[1:]})
    g.link_index = lk.index_ids()
    g.chain_of, g.revisions, g.latest_requests = lk.chain_of, lk.revisions, lk.latest
    g.secret_certs = lk.secrets

    for n in lk.made:
        g.nodes[n.id] = n
        g._by_kind[n.ref.kind].append(n)
    g.nodes.update(placeholders)
    g.roots = sorted([*issuer_roots.values(), *placeholders.values()], key=root_key)
    if lk.orphans:
        group = orphans_group(lk.orphans)
        g.nodes[ORPHANS_ID] = group
        g.roots.append(group)
    return g
