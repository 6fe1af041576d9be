"""Bring a graph up to date with what changed since it was built, instead of rebuilding it.

At 10,000 Certificates a full build plus every rule costs most of a second of CPU, and a
watch storm changes a handful of objects per tick. The unit of incremental work is a
Certificate's **chain**: the Certificate and its CertificateRequests, Orders and
Challenges. A changed object makes its chain *dirty*; only dirty chains are linked again
(by the same ``Linker`` the full build uses), and the rules that look at one chain at a
time run again for those chains only (``analysis.Analyser``).

Whatever could move a node to another chain or root, or feeds every chain, is answered
with ``None`` ("build it again"): issuers, Ingresses, IngressClasses, Services, Gateways,
the controller Deployment, kinds we do not know, a changed link field (ownerReferences,
issuerRef, revision…), a new object whose parent is not already in a chain, a deleted
object that still has children, and anything while orphans exist. Correctness never
depends on the fast path: it is tested against the full build on random change sequences.

Nodes of clean chains are shared with the previous graph, so nothing reachable from a
graph the UI may still be reading is ever mutated: parents whose children change are
copied.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubectl_certdoctor.cluster.secretrefs import refs_of
from kubectl_certdoctor.graph import (
    CHAIN_KINDS,
    ORPHANS_ID,
    Graph,
    Linker,
    Node,
    _event_key,
    find_parent,
    index_events,
    index_owned,
    issuer_ref_of,
    link_fields,
    name,
    namespace,
    root_id,
    sort_key,
    subtree,
    uid,
)
from kubectl_certdoctor.objects import Obj, ObjectSet, Ref, owner_refs, text

Key = tuple[str, str]
#: a change: (namespace, name), the object before (None: added), after (None: deleted)
Change = tuple[Key, Obj | None, Obj | None]

#: kinds whose changes only refresh an index (Events, solver Pods) or dirty the chains
#: that name them (Secrets); every other kind outside the chains means a full build
_CHEAP_KINDS = frozenset({"Event", "Pod", "Secret", *CHAIN_KINDS})
_ISSUER_KINDS = frozenset({"Issuer", "ClusterIssuer"})


class Rebuild(Exception):
    """The change cannot be patched in: build the whole graph again."""


@dataclass
class Patch:
    """A patched graph and the chains (Certificate node ids) it re-linked."""

    graph: Graph
    #: chains linked again (their nodes are new) — includes new Certificates
    chains: set[str]
    #: chains that no longer exist (their Certificate was deleted)
    gone: set[str]
    #: node ids that were removed from the graph, and ids whose nodes are new
    removed: set[str]
    remade: set[str]


def diff(old: ObjectSet, new: ObjectSet) -> dict[str, list[Change]]:
    """What differs per kind. The store replaces an object on every change and never
    mutates one, so identity is the test. Two snapshots of the same live store are
    compared only on the keys its change log names (O(changes)); anything else on every
    key (O(objects) lookups, no comparisons of content)."""
    hint = None
    if new.changelog is not None and new.changelog is old.changelog and old.generation >= 0:
        hint = new.changelog.changes(old.generation, new.generation)
    out: dict[str, list[Change]] = {}
    for kind in (set(old.objects) | set(new.objects)) if hint is None else set(hint):
        before = old.objects.get(kind, {})
        after = new.objects.get(kind, {})
        if before is after:
            continue
        keys = hint.get(kind) if hint is not None else None
        if keys is not None:
            picked = [(k, before.get(k), after.get(k)) for k in sorted(keys)]
            named = [c for c in picked if c[1] is not c[2]]
            if named:
                out[kind] = named
            continue
        found: list[Change] = []
        for key, o in after.items():
            b = before.get(key)
            if b is not o:
                found.append((key, b, o))
        added = sum(1 for c in found if c[1] is None)
        if len(after) - added != len(before):  # some keys of before are gone
            found.extend((key, b, None) for key, b in before.items() if key not in after)
        if found:
            out[kind] = found
    return out


def patch_graph(old: Graph, objs: ObjectSet, now: datetime,
                also: Iterable[str] = ()) -> Patch | None:
    """``old`` brought up to ``objs`` (None when only a full build can do it). ``also``
    names chains to link again even though nothing in them changed: their statuses and
    reasons depend on ``now`` ("next retry in 43m")."""
    try:
        p = _Patcher(old, objs, now)
        p.dirty.update(c for c in also if c in old.chain_of)
        return p.run(diff(old.objs, objs))
    except Rebuild:
        return None


class _Patcher:
    def __init__(self, old: Graph, objs: ObjectSet, now: datetime) -> None:
        self.old = old
        self.objs = objs
        self.now = now
        self.dirty: set[str] = set()
        #: chain id → kind → new objects that join it
        self.joins: dict[str, dict[str, list[Obj]]] = {}
        self.new_certs: list[Obj] = []
        self.gone: set[str] = set()
        self.removed: set[str] = set()

    def run(self, changes: dict[str, list[Change]]) -> Patch:
        if any(k not in _CHEAP_KINDS for k in changes):
            raise Rebuild
        for kind, items in changes.items():
            if kind == "Event":
                self._events(items)
            elif kind == "Secret":
                self._secrets(items)
            elif kind == "Pod":
                for _, before, after in items:
                    self._dirty_owner_chain(before)
                    self._dirty_owner_chain(after)
            elif kind == "Certificate":
                self._certificates(items)
            elif kind in CHAIN_KINDS:
                self._members(kind, items)
        g = self._copy(changes)
        remade = self._relink(g)
        return Patch(g, (self.dirty - self.gone) | {
            str(Ref("Certificate", *_key(o))) for o in self.new_certs}, set(self.gone),
            self.removed, remade)

    # -- classifying the changes ---------------------------------------------------------

    def _events(self, items: list[Change]) -> None:
        """Issuer Events feed every chain of the issuer: rebuild. An Event about a chain
        object (or about a Challenge's solver Pod) dirties that chain: chain rules quote
        them (PresentError, the kubelet's image pull errors)."""
        for _, before, after in items:
            for ev in (before, after):
                key = _event_key(ev) if isinstance(ev, dict) else None
                if key is None:
                    continue
                if key[0] in _ISSUER_KINDS:
                    raise Rebuild  # issuer rules quote their Events
                if key[0] in CHAIN_KINDS:
                    nid = str(Ref(*key))
                    if nid in self.old.nodes:
                        self.dirty.add(self._chain(nid))  # an orphan: rebuild
                elif key[0] == "Pod":
                    pod = self.objs.get("Pod", key[1], key[2]) or \
                        self.old.objs.get("Pod", key[1], key[2])
                    self._dirty_owner_chain(pod)

    def _dirty_owner_chain(self, pod: Obj | None) -> None:
        """A solver Pod belongs to the chain of the Challenge that owns it."""
        if not isinstance(pod, dict):
            return
        by_uid, by_name = self.old.link_index
        for o in owner_refs(pod):
            if text(o.get("kind")) != "Challenge":
                continue
            nid = by_uid.get("Challenge", {}).get(text(o.get("uid"))) or \
                by_name.get("Challenge", {}).get((namespace(pod), text(o.get("name"))))
            if nid:
                self.dirty.add(self._chain(nid))  # an orphan Challenge: rebuild

    def _secrets(self, items: list[Change]) -> None:
        """A Certificate's Secret dirties its chain; a Secret an issuer names (a solver's
        credentials, a CA key pair) may change what every chain of it is told: rebuild."""
        names: set[str] | None = None
        for key, _, _ in items:
            certs = self.old.secret_certs.get(key, ())
            self.dirty.update(certs)
            if certs:
                continue
            if names is None:
                names = {nm for kind in _ISSUER_KINDS for o in self.old.objs.of_kind(kind)
                         if isinstance(o, dict) for _, nm in refs_of(kind, o)}
            if key[1] in names:
                raise Rebuild

    def _certificates(self, items: list[Change]) -> None:
        old = self.old
        for key, before, after in items:
            if not key[1]:
                continue  # nameless objects are never linked
            nid = str(Ref("Certificate", *key))
            node = old.nodes.get(nid)
            if before is not None and after is not None:
                if node is None or not isinstance(after, dict) or \
                        link_fields("Certificate", before) != link_fields("Certificate", after):
                    raise Rebuild
                self.dirty.add(nid)
            elif after is not None:
                if ORPHANS_ID in old.nodes or not isinstance(after, dict):
                    raise Rebuild  # a new Certificate may adopt orphans
                if root_id(issuer_ref_of(after), old.nodes) not in old.nodes:
                    raise Rebuild  # it needs a new placeholder root
                self.new_certs.append(after)
            elif node is not None:
                parent = old.parent(node)
                if node.children or parent is None or (parent.obj is None
                                                       and len(parent.children) == 1):
                    raise Rebuild  # orphans appear, or a placeholder root disappears
                self.dirty.add(nid)
                self.gone.add(nid)

    def _members(self, kind: str, items: list[Change]) -> None:
        old = self.old
        by_uid, by_name = old.link_index
        for key, before, after in items:
            if not key[1]:
                continue
            nid = str(Ref(kind, *key))
            node = old.nodes.get(nid)
            if before is not None and after is not None:
                if node is None or not isinstance(after, dict) or \
                        link_fields(kind, before) != link_fields(kind, after):
                    raise Rebuild
                self.dirty.add(self._chain(nid))
            elif after is not None:
                if ORPHANS_ID in old.nodes or not isinstance(after, dict):
                    raise Rebuild  # a new object may adopt orphans
                parent = find_parent(kind, after, by_uid, by_name)
                if parent is None:
                    raise Rebuild
                chain = self._chain(parent)
                self.dirty.add(chain)
                self.joins.setdefault(chain, {}).setdefault(kind, []).append(after)
            elif node is not None:
                if node.children:
                    raise Rebuild
                self.dirty.add(self._chain(nid))
                self.removed.add(nid)

    def _chain(self, nid: str) -> str:
        chain = self.old.chain_of.get(nid)
        if chain is None:
            raise Rebuild  # an orphan, or a node placed by a full build only
        return chain

    # -- the new graph -------------------------------------------------------------------

    def _copy(self, changes: dict[str, list[Change]]) -> Graph:
        """A new graph sharing everything with the old one; ``_relink`` copies what it
        changes (``nodes`` always, the lookups only when nodes come or go)."""
        old = self.old
        g = Graph(self.objs, self.now)
        g.backoff = old.backoff
        g.cluster_resource_namespace = old.cluster_resource_namespace
        g._events, g._owned, g._owned_by_name = old._events, old._owned, old._owned_by_name
        g._ingress_by_host = old._ingress_by_host
        g.context_memo = old.context_memo
        if "Event" in changes:
            index_events(g)
        if "Pod" in changes:
            index_owned(g)
        g.roots = list(old.roots)
        g.nodes = dict(old.nodes)
        g._by_kind, g._kind_pos = old._by_kind, old._kind_pos  # replaced in _by_kind
        g.revisions, g.latest_requests = old.revisions, old.latest_requests
        g.chain_of, g.secret_certs, g.link_index = old.chain_of, old.secret_certs, old.link_index
        return g

    def _relink(self, g: Graph) -> set[str]:
        old = self.old
        roots: dict[str, Node] = {}  # copied roots whose children change
        before: set[str] = set(self.removed)  # every node id the dirty chains had
        made: list[Node] = []
        lk = Linker(g)

        def root_copy(rid: str) -> Node:
            if rid not in roots:
                r = g.nodes[rid]
                roots[rid] = dataclasses.replace(r, children=list(r.children))
            return roots[rid]

        for chain in sorted(self.dirty):
            cert = old.nodes[chain]
            members: dict[str, list[Obj]] = {k: list(v) for k, v in
                                              self.joins.get(chain, {}).items()}
            for n in subtree(cert):
                before.add(n.id)
                if n is cert or n.id in self.removed:
                    continue
                now_obj = self.objs.get(n.ref.kind, n.ref.namespace, n.ref.name)
                if now_obj is not None:
                    members.setdefault(n.ref.kind, []).append(now_obj)
            root = root_copy(cert.parent_id or "")
            pos = _position(root, cert)
            if chain in self.gone:
                del root.children[pos]
                continue
            obj = self.objs.get("Certificate", cert.ref.namespace, cert.ref.name)
            assert obj is not None
            made += self._link(lk, obj, root, members, pos)
        for obj in sorted(self.new_certs, key=lambda o: sort_key("Certificate", o)):
            root = root_copy(root_id(issuer_ref_of(obj), old.nodes))
            pos = bisect.bisect_left(root.children, sort_key("Certificate", obj), key=_cert_key)
            members = {k: list(v) for k, v in self.joins.get(
                str(Ref("Certificate", *_key(obj))), {}).items()}
            made += self._link(lk, obj, root, members, pos, insert=True)
        if lk.orphans:
            raise Rebuild  # a member did not find its parent inside its chain

        made_ids = {n.id for n in made}
        gone = before - made_ids
        added = made_ids - before
        for i in gone:
            g.nodes.pop(i, None)
        for n in made:
            g.nodes[n.id] = n
        g.nodes.update(roots)
        g.roots = [roots.get(r.id, r) for r in g.roots]
        self._lookups(g, lk, gone, added)
        self._by_kind(g, made, gone, roots)
        self.removed = gone
        return made_ids | set(roots)

    def _link(self, lk: Linker, obj: Obj, root: Node, members: dict[str, list[Obj]],
              pos: int, insert: bool = False) -> list[Node]:
        start = len(lk.made)
        n = lk.make("Certificate", obj)
        n.parent_id = root.id
        if insert:
            root.children.insert(pos, n)
        else:
            root.children[pos] = n
        lk.link([(n, obj)], members)
        return lk.made[start:]

    def _lookups(self, g: Graph, lk: Linker, gone: set[str], added: set[str]) -> None:
        """Bring the graph's lookups up to date, copying each only if it changes: when
        nodes were only remade, every id, chain, revision and link is what it was."""
        old = self.old
        if gone or added:
            g.chain_of = {**old.chain_of, **{i: lk.chain_of[i] for i in added
                                              if i in lk.chain_of}}
            g.revisions = {**old.revisions, **{i: lk.revisions[i] for i in added
                                                if i in lk.revisions}}
            for i in gone:
                g.chain_of.pop(i, None)
                g.revisions.pop(i, None)
            by_uid = {k: dict(v) for k, v in old.link_index[0].items()}
            by_name = {k: dict(v) for k, v in old.link_index[1].items()}
            for i in gone:
                n = old.nodes[i]
                if n.obj is not None:
                    by_uid.get(n.ref.kind, {}).pop(uid(n.obj), None)
                    by_name.get(n.ref.kind, {}).pop((n.ref.namespace, n.ref.name), None)
            new_uid, new_name = lk.index_ids()
            for k in CHAIN_KINDS:
                by_uid.setdefault(k, {}).update(new_uid.get(k, {}))
                by_name.setdefault(k, {}).update(new_name.get(k, {}))
            g.link_index = (by_uid, by_name)
        certs = self.dirty | {str(Ref("Certificate", *_key(o))) for o in self.new_certs}
        latest = {c: lk.latest.get(c) for c in certs}
        if any(old.latest_requests.get(c) != v for c, v in latest.items()):
            g.latest_requests = dict(old.latest_requests)
            for c, v in latest.items():
                if v is None:
                    g.latest_requests.pop(c, None)
                else:
                    g.latest_requests[c] = v
        gone_certs = {i for i in gone if i.startswith("Certificate/")}
        if gone_certs or any(k not in old.secret_certs for k in lk.secrets) or any(
                old.secret_certs.get(k) != v for k, v in lk.secrets.items()):
            sec = {key: [i for i in ids if i not in gone_certs]
                   for key, ids in old.secret_certs.items()}
            for key, ids in lk.secrets.items():
                sec[key] = sorted({*sec.get(key, []), *ids})
            g.secret_certs = {key: ids for key, ids in sec.items() if ids}

    def _by_kind(self, g: Graph, made: list[Node], gone: set[str],
                 roots: dict[str, Node]) -> None:
        """Per-kind node lists with remade nodes swapped in, removed ones out, new ones
        appended (placeholder roots are never listed: they hold no object). A kind where
        nodes were only swapped keeps its position index; the others get a new one."""
        fresh: dict[str, dict[str, Node]] = {}
        for n in [*made, *(r for r in roots.values() if r.obj is not None)]:
            fresh.setdefault(n.ref.kind, {})[n.id] = n
        old = self.old
        out = dict(old._by_kind)
        pos_out = dict(old._kind_pos)
        for kind in set(fresh) | {i.split("/", 1)[0] for i in gone}:
            new = fresh.get(kind, {})
            before = old._by_kind.get(kind, [])
            pos = _positions(old, kind)
            gone_here = [i for i in gone if i in pos]
            if not gone_here and all(i in pos for i in new):
                lst = list(before)
                for i, n in new.items():
                    lst[pos[i]] = n
                out[kind] = lst
                pos_out[kind] = pos
                continue
            lst = [new.pop(n.id, n) for n in before if n.id not in gone]
            lst.extend(new.values())
            out[kind] = lst
            pos_out[kind] = {n.id: i for i, n in enumerate(lst)}
        g._by_kind = out
        g._kind_pos = pos_out


def _positions(g: Graph, kind: str) -> dict[str, int]:
    """``g._kind_pos[kind]``, computed once for graphs built in full."""
    pos = g._kind_pos.get(kind)
    if pos is None:
        pos = g._kind_pos[kind] = {n.id: i for i, n in enumerate(g._by_kind.get(kind, []))}
    return pos


def _key(o: Obj) -> Key:
    return namespace(o), name(o)


def _cert_key(n: Node) -> tuple[Any, ...]:
    return (n.ref.namespace, n.ref.name)


def _position(root: Node, cert: Node) -> int:
    """Where ``cert`` sits among its root's children (sorted by namespace and name)."""
    i = bisect.bisect_left(root.children, _cert_key(cert), key=_cert_key)
    if i < len(root.children) and root.children[i].id == cert.id:
        return i
    return next(i for i, c in enumerate(root.children) if c.id == cert.id)
