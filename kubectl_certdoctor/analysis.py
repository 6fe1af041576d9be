"""One consistent picture of the cluster — graph, findings, counts — and how it is kept current.

``analyse`` is the whole computation: graph, every rule, counts. It is what ``check``
and offline sources need. A live TUI gets a change every few milliseconds during a watch
storm, and at 10,000 Certificates ``analyse`` costs most of a second of CPU (it shares the
GIL with the UI thread), so the app keeps an ``Analyser`` instead: it patches the previous
graph (``graph_patch``) and runs the chain rules again only for the chains that changed,
keeping every other finding. Issuer and controller rules, and everything after a change
the patch cannot express, go through ``analyse``. Both paths give the same result; a
test checks it on random change sequences.
"""

from __future__ import annotations

import bisect
import copy
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

from kubectl_certdoctor.graph import CHAIN_KINDS, Graph, Node, build_graph, subtree
from kubectl_certdoctor.graph import sort_key as link_key
from kubectl_certdoctor.graph_patch import Patch, patch_graph
from kubectl_certdoctor.kinds import SourceState
from kubectl_certdoctor.objects import ObjectSet, Ref
from kubectl_certdoctor.rules import (
    CHAIN_RULES,
    fallback,
    findings_by_object,
    run_rules,
    sort_key,
    step_back,
    stuck,
    wide_findings,
)
from kubectl_certdoctor.rules.finding import Finding, Severity
from kubectl_certdoctor.rules.targets import attach_targets
from kubectl_certdoctor.rules.util import failing_requests, request_failing
from kubectl_certdoctor.status import PROBLEM, Status
from kubectl_certdoctor.versions import controller_version


@dataclass(frozen=True)
class Below:
    """What lies under a node: the worst non-info finding there as (severity rank, depth,
    node, finding), whether anything there fails (a problem status or an error finding)
    and whether anything there warns."""

    best: tuple[int, int, Node, Finding] | None
    failing: bool
    warning: bool


#: a node with at least this many children keeps its roll-up per child (``_Agg``): an
#: issuer with 10,000 Certificates is rolled up again from the changed ones only
AGG_MIN = 64

#: what one child adds to its parent's roll-up: (best key, node, finding) or None, failing,
#: warning (see ``Analysis._part``)
Part = tuple[tuple[tuple[int, int], Node, Finding] | None, bool, bool]


@dataclass
class _Agg:
    """A wide node's roll-up kept per child. Never changed once an analysis holds it: the
    next one copies it and redoes the children that changed."""

    #: child id → its index among the node's children (the tie-break: the first wins)
    pos: dict[str, int]
    parts: dict[str, Part]
    #: best key → ids of the children whose best has that key
    keys: dict[tuple[int, int], set[str]]
    failing: int = 0
    warning: int = 0

    def below(self) -> Below:
        if not self.keys:
            return Below(None, self.failing > 0, self.warning > 0)
        top = max(self.keys)
        first = min(self.keys[top], key=self.pos.__getitem__)
        best = self.parts[first][0]
        assert best is not None
        return Below((*best[0], best[1], best[2]), self.failing > 0, self.warning > 0)

    def add(self, cid: str, part: Part) -> None:
        self.parts[cid] = part
        if part[0] is not None:
            self.keys.setdefault(part[0][0], set()).add(cid)
        self.failing += part[1]
        self.warning += part[2]

    def drop(self, cid: str) -> None:
        part = self.parts.pop(cid, None)
        if part is None:
            return
        if part[0] is not None:
            ids = self.keys[part[0][0]]
            ids.discard(cid)
            if not ids:
                del self.keys[part[0][0]]
        self.failing -= part[1]
        self.warning -= part[2]


@dataclass
class Analysis:
    """One consistent picture: objects, graph, findings and connection states."""

    graph: Graph
    findings: list[Finding]
    by_object: dict[Ref, list[Finding]]
    states: dict[str, SourceState]
    now: datetime
    version: str = ""
    #: Certificate counts by bucket: ready / failing / pending
    counts: Counter[str] = field(default_factory=Counter)
    #: node ids that may differ from the previous analysis (None: any of them)
    changed: frozenset[str] | None = None
    #: the chain rules' findings alone (``Analyser`` keeps them per chain)
    chain_findings: list[Finding] = field(default_factory=list)
    #: node id → roll-up of its descendants (filled lazily by ``_below``)
    rollup: dict[str, Below] = field(default_factory=dict, repr=False, compare=False)
    #: node id → per-child roll-up of a node with many children (filled with ``rollup``)
    aggs: dict[str, _Agg] = field(default_factory=dict, repr=False, compare=False)
    #: node id → (an earlier analysis's ``_Agg``, ids of its children changed since): what
    #: ``_below`` starts from instead of visiting every child (``_carry_rollup``)
    agg_from: dict[str, tuple[_Agg, frozenset[str]]] = field(
        default_factory=dict, repr=False, compare=False)

    def worst(self, node: Node) -> Finding | None:
        fs = self.by_object.get(node.ref)
        return fs[0] if fs else None

    def _below(self, node: Node) -> Below:
        """The roll-up of everything under ``node`` (memoised per analysis; an ``Analyser``
        carries the entries of untouched subtrees over to the next analysis)."""
        got = self.rollup.get(node.id)
        if got is not None:
            return got
        if len(node.children) >= AGG_MIN:
            out = self._agg(node).below()
            self.rollup[node.id] = out
            return out
        best: tuple[int, int, Node, Finding] | None = None
        failing = False
        warning = False
        for c in node.children:
            f = self.worst(c)
            if f is not None and f.severity is not Severity.INFO:
                key = (f.severity.rank, 1)
                if best is None or key > best[:2]:
                    best = (*key, c, f)
            sub = self._below(c)
            if sub.best is not None:
                key = (sub.best[0], sub.best[1] + 1)
                if best is None or key > best[:2]:
                    best = (*key, sub.best[2], sub.best[3])
            failing = failing or sub.failing or c.status in PROBLEM or (
                f is not None and f.severity is Severity.ERROR)
            warning = warning or sub.warning or (f is not None and f.severity is Severity.WARNING)
        out = Below(best, failing, warning)
        self.rollup[node.id] = out
        return out

    def _part(self, c: Node) -> Part:
        """What child ``c`` adds to its parent's roll-up (the loop body of ``_below``)."""
        f = self.worst(c)
        best: tuple[tuple[int, int], Node, Finding] | None = None
        if f is not None and f.severity is not Severity.INFO:
            best = ((f.severity.rank, 1), c, f)
        sub = self._below(c)
        if sub.best is not None:
            key = (sub.best[0], sub.best[1] + 1)
            if best is None or key > best[0]:
                best = (key, sub.best[2], sub.best[3])
        failing = sub.failing or c.status in PROBLEM or (
            f is not None and f.severity is Severity.ERROR)
        warning = sub.warning or (f is not None and f.severity is Severity.WARNING)
        return best, failing, warning

    def _agg(self, node: Node) -> _Agg:
        """The per-child roll-up of a wide node: an earlier analysis's, with the children
        that changed since redone (all of them when there is none)."""
        kids = node.children
        start = self.agg_from.get(node.id)
        agg: _Agg | None = None
        if start is not None:
            prev, changed = start
            here = [c for c in changed if (n := self.graph.nodes.get(c)) is not None
                    and n.parent_id == node.id]
            pos = prev.pos
            if len(kids) != len(pos) or any(c not in pos for c in here):
                pos = {c.id: i for i, c in enumerate(kids)}  # children came or went
            agg = _Agg(pos, dict(prev.parts), {k: set(v) for k, v in prev.keys.items()},
                       prev.failing, prev.warning)
            for c in changed:
                agg.drop(c)
            for c in here:
                i = pos.get(c)
                if i is None or kids[i].id != c:
                    agg = None  # not where it should be: count them all
                    break
                agg.add(c, self._part(kids[i]))
            if agg is not None and len(agg.parts) != len(kids):
                agg = None
        if agg is None:
            agg = _Agg({k.id: i for i, k in enumerate(kids)}, {}, {})
            for k in kids:
                agg.add(k.id, self._part(k))
        self.aggs[node.id] = agg
        return agg

    def blocker(self, node: Node) -> tuple[Node, Finding] | None:
        """What blocks a node, when the cause sits below it (or, for a Certificate that is
        not Ready, on its issuer): the worst error/warning on its descendants, the deepest
        one on a tie — "blocked by Challenge x: DNS01_PROVIDER_PERMISSION_DENIED". Every
        ancestor kind rolls up the same way (an issuer names its worst descendant)."""
        best = self._below(node).best
        if best is None and node.ref.kind == "Certificate" and node.status is not Status.READY:
            f = self._issuer_trouble(node)
            if f is not None:
                return f
        return (best[2], best[3]) if best is not None else None

    def _issuer_trouble(self, cert: Node) -> tuple[Node, Finding] | None:
        root = self.graph.parent(cert)
        f = self.worst(root) if root is not None else None
        if root is not None and f is not None and f.severity is not Severity.INFO:
            return root, f
        return None

    def shown_status(self, node: Node) -> Status:
        """The status a row's glyph shows: its own, raised to failed when anything below it
        fails (the rule the header's "failing" count and ``p`` follow) or to warning when
        something below it warns (its own finding shows as its badge). Collapsing a row
        never hides that a child fails."""
        own = node.status
        if own in (Status.FAILED, Status.MISSING) or node.obj is None:
            return own
        below = self._below(node)
        if below.failing:
            return Status.FAILED
        if node.ref.kind == "Certificate" and behind_failing_issuer(node, self.graph,
                                                                   self.by_object):
            return Status.FAILED
        if own is Status.WARNING or below.warning:
            return Status.WARNING
        return own

    def namespaces(self) -> list[str]:
        seen = {n.ref.namespace for n in self.graph.nodes.values() if n.ref.namespace}
        return sorted(seen)

    def is_problem(self, node: Node) -> bool:
        """``p`` (problems only): the node itself is in trouble, or its row shows trouble
        rolled up from below (see ``shown_status``)."""
        if node.status in PROBLEM or (node.obj is not None
                                      and self.shown_status(node) in PROBLEM):
            return True
        return any(f.severity in (Severity.ERROR, Severity.WARNING)
                   for f in self.by_object.get(node.ref, ()))

    def empty(self) -> bool:
        return not any(n.obj is not None for n in self.graph.nodes.values())


def analyse(objs: ObjectSet, states: dict[str, SourceState], now: datetime) -> Analysis:
    """Graph + findings + counts (pure; run off the UI thread)."""
    return _analyse(objs, states, now)[0]


def _analyse(objs: ObjectSet, states: dict[str, SourceState], now: datetime
             ) -> tuple[Analysis, list[Finding], list[Finding]]:
    """``analyse``, and apart the wide rules' findings and the fallback's (``Analyser``
    keeps them)."""
    graph = build_graph(objs, now)
    chain = run_rules(graph, now, CHAIN_RULES)
    wide = wide_findings(graph, now)
    fall = fallback(graph, now, [*chain, *wide])
    findings = sorted(step_back([*chain, *wide, *fall]), key=sort_key)
    by_object = findings_by_object(findings)
    counts: Counter[str] = Counter(bucket(n, graph, by_object)
                                   for n in graph.of_kind("Certificate"))
    return (Analysis(graph, findings, by_object, states, now, _version(objs), counts,
                     chain_findings=chain), wide, fall)


def bucket(cert: Node, graph: Graph, by_object: dict[Ref, list[Finding]]) -> str:
    """The header's count a Certificate goes to: failing, ready or pending."""
    if _chain_failing(cert, graph, by_object):
        return "failing"
    return "ready" if cert.status is Status.READY else "pending"


def _version(objs: ObjectSet) -> str:
    cv = controller_version(objs)
    return str(cv[0]) if cv else ""


def behind_failing_issuer(cert: Node, graph: Graph,
                          by_object: dict[Ref, list[Finding]]) -> bool:
    """A Certificate that is not Ready under an issuer that is failed, missing or has an
    error finding: stuck behind it (the header count and the row glyph share this)."""
    issuer = graph.parent(cert)
    return issuer is not None and cert.status is not Status.READY and (
        issuer.status in PROBLEM or any(f.severity is Severity.ERROR
                                        for f in by_object.get(issuer.ref, ())))


def _chain_failing(cert: Node, graph: Graph, by_object: dict[Ref, list[Finding]]) -> bool:
    """A Certificate counts as failing when it, anything issuing it, or (while it is not
    ready) its issuer is failed or has an error finding: a Challenge stuck on a 404 makes
    its Certificate "failing"."""
    if behind_failing_issuer(cert, graph, by_object):
        return True
    return any(n.status in PROBLEM or any(f.severity is Severity.ERROR
                                          for f in by_object.get(n.ref, ()))
               for n in subtree(cert))


class Analyser:
    """Keeps the last ``Analysis`` and brings it up to date with a new snapshot.

    A live pass costs what changed, not the cluster: findings are kept per chain (the
    Certificate node id), plus the rest (issuers, the controller, orphans); the wide rules
    run over the whole graph but read the failing requests per issuer from an index kept
    per chain; the fallback (``stuck.judge``) judges only the chains that changed, or whose
    issuer's trouble did; ``by_object`` and the sorted findings are patched for the objects
    whose findings may differ; counts are kept per Certificate. ``update(full=True)`` — or
    any change ``graph_patch`` declines — recomputes everything.

    Time moves even when nothing changes: statuses and findings such as "next retry in
    43m" or "expires in 3d" depend on ``now``. ``refresh_time()`` (the app's clock tick)
    queues every chain, and each later ``update`` re-judges ``TIME_BATCH`` of them along
    with whatever changed — a rolling refresh instead of a full pass that would stall a
    large cluster's updates for a second.
    """

    #: chains re-judged per update while a time refresh is under way
    TIME_BATCH = 25

    def __init__(self) -> None:
        self.last: Analysis | None = None
        self._time_queue: list[str] = []
        self._time_wanted = False
        self._chain_findings: dict[str, list[Finding]] = {}
        self._other: dict[Ref, list[Finding]] = {}
        self._wide: dict[Ref, list[Finding]] = {}
        #: Certificate id → its ISSUANCE_STUCK_UNRECOGNISED
        self._fallback: dict[str, Finding] = {}
        #: objects a warning or error of the wide rules or of ``_other`` explains, and
        #: whether a controller-wide cause explains everything (the fallback's inputs
        #: beyond a chain: when they change, the chains they touch are judged again)
        self._other_bad: tuple[set[Ref], bool] = (set(), False)
        self._static_bad: set[Ref] = set()
        self._global = False
        self._global_chains: set[str] = set()
        #: issuer → its failing requests as ((link order, id), node, message), sorted;
        #: chain → (issuer, key) of the entries it holds; the value the rules read
        self._failing: dict[Ref, list[tuple[tuple[Any, str], Node, str]]] = {}
        self._failing_of: dict[str | None, list[tuple[Ref, tuple[Any, str]]]] = {}
        self._failing_value: dict[Ref, list[tuple[Node, str]]] = {}
        self._buckets: dict[str, str] = {}
        self._count: Counter[str] = Counter()
        #: how many analyses were patched / computed in full (tests and benchmarks read it)
        self.patched = 0
        self.full = 0

    @property
    def refreshing(self) -> bool:
        """A time refresh still has chains to re-judge (the app keeps ticking for it)."""
        return self._time_wanted or bool(self._time_queue)

    def refresh_time(self) -> None:
        """Ask for every chain to be re-judged at the new time (see the class doc); safe
        from another thread than ``update``'s: the queue is filled by ``update`` itself."""
        self._time_wanted = True

    def update(self, objs: ObjectSet, states: dict[str, SourceState], now: datetime,
               *, full: bool = False) -> Analysis:
        last = self.last
        if self._time_wanted and last is not None:
            self._time_wanted = False
            self._time_queue = [n.id for n in last.graph.of_kind("Certificate")]
        batch = self._time_queue[-self.TIME_BATCH:]
        patch = None if full or last is None else patch_graph(last.graph, objs, now, batch)
        try:
            a = self._patched(patch, states, now) if patch is not None else None
        except BaseException:
            self.last = None  # the kept state may be half updated: the next pass is full
            raise
        if a is None:
            a = self._full(objs, states, now)
            self._time_queue = []  # everything was judged at ``now``
        else:
            del self._time_queue[-self.TIME_BATCH:]
        self.last = a
        return a

    def _full(self, objs: ObjectSet, states: dict[str, SourceState], now: datetime) -> Analysis:
        self.full += 1
        a, wide, fall = _analyse(objs, states, now)
        g = a.graph
        chain_of = g.chain_of
        self._chain_findings = {}
        other: list[Finding] = []
        for f in a.chain_findings:
            chain = chain_of.get(str(f.object))
            if chain is None:
                other.append(f)
            else:
                self._chain_findings.setdefault(chain, []).append(f)
        self._other = _by_ref(other)
        self._wide = _by_ref(wide)
        self._fallback = {str(f.object): f for f in fall}
        self._other_bad = stuck.bad_refs(other)
        wide_bad, wide_global = stuck.bad_refs(wide)
        self._static_bad = wide_bad | self._other_bad[0]
        self._global_chains = {c for c, fs in self._chain_findings.items() if _global(fs)}
        self._global = wide_global or self._other_bad[1] or bool(self._global_chains)
        self._failing, self._failing_of = {}, {}
        self._failing_value = failing_requests(g)
        for ref, entries in self._failing_value.items():
            for cr, m in entries:
                key = (link_key("CertificateRequest", cr.obj or {}), cr.id)
                self._failing.setdefault(ref, []).append((key, cr, m))
                self._failing_of.setdefault(chain_of.get(cr.id), []).append((ref, key))
        for lst in self._failing.values():
            lst.sort(key=itemgetter(0))
        self._buckets = {n.id: bucket(n, g, a.by_object) for n in g.of_kind("Certificate")}
        self._count = Counter(self._buckets.values())
        return a

    def _patched(self, p: Patch, states: dict[str, SourceState], now: datetime
                 ) -> Analysis | None:
        last = self.last
        assert last is not None
        g = p.graph
        fresh = _chain_findings(g, p.chains, now)
        if fresh is None:
            return None
        #: objects whose findings may differ from the last analysis
        dirty: set[Ref] = set()
        chains = self._chain_findings
        for c in p.chains | p.gone:
            dirty.update(f.object for f in chains.pop(c, ()))
            self._global_chains.discard(c)
        for c, fs in fresh.items():
            chains[c] = fs
            dirty.update(f.object for f in fs)
            if _global(fs):
                self._global_chains.add(c)
        self._patch_failing(g, p)
        # wide rules read across chains: they run over the whole graph every time (cheap:
        # issuers, components and indexes), so a finding they drop or add is never stale
        wide = _by_ref(wide_findings(g, now))
        for r in wide.keys() | self._wide.keys():
            before, after = self._wide.get(r), wide.get(r)
            if before is not None and after is not None and _same(before, after):
                wide[r] = before
            else:
                dirty.add(r)
        self._wide = wide
        dirty |= self._patch_fallback(g, p, now, [f for fs in wide.values() for f in fs])
        by_object = dict(last.by_object)
        findings = list(last.findings)
        changed_ids: set[str] = set()
        for r in dirty:
            nid = str(r)
            chain = g.chain_of.get(nid)
            raw = [f for f in chains.get(chain, ()) if f.object == r] if chain else []
            raw += self._other.get(r, ())
            raw += wide.get(r, ())
            fb = self._fallback.get(nid)
            if fb is not None:
                raw.append(fb)
            now_fs = sorted(step_back(raw), key=sort_key)
            was = by_object.get(r, [])
            for f in was:
                i = bisect.bisect_left(findings, sort_key(f), key=sort_key)
                while findings[i] is not f:
                    i += 1
                del findings[i]
            for f in now_fs:
                bisect.insort_right(findings, f, key=sort_key)
            if now_fs:
                by_object[r] = now_fs
            else:
                by_object.pop(r, None)
            if was != now_fs:
                changed_ids.add(nid)
        changed = frozenset(p.remade | p.removed | (changed_ids & g.nodes.keys()))
        a = Analysis(g, findings, by_object, states, now, last.version, changed=changed)
        _carry_rollup(last, a)
        self.patched += 1
        a.counts = self._counts(a, changed_ids, p)
        return a

    def _patch_failing(self, g: Graph, p: Patch) -> None:
        """Bring the failing-requests index up to date for the re-linked chains and seed
        the graph's memo with it (``rules.util.failing_requests``)."""
        refs: set[Ref] = set()
        failing = self._failing
        for c in p.chains | p.gone:
            for ref, key in self._failing_of.pop(c, ()):
                lst = failing[ref]
                i = bisect.bisect_left(lst, key, key=itemgetter(0))
                del lst[i]
                refs.add(ref)
        for c in p.chains:
            cert = g.nodes.get(c)
            if cert is None:
                continue
            held: list[tuple[Ref, tuple[Any, str]]] = []
            for n in subtree(cert):
                hit = request_failing(g, n) if n.ref.kind == "CertificateRequest" else None
                if hit is None:
                    continue
                key = (link_key("CertificateRequest", n.obj or {}), n.id)
                bisect.insort_right(failing.setdefault(hit[0], []), (key, n, hit[1]),
                                    key=itemgetter(0))
                held.append((hit[0], key))
                refs.add(hit[0])
            if held:
                self._failing_of[c] = held
        if refs:
            value = dict(self._failing_value)
            for ref in refs:
                entries = failing.get(ref)
                if entries:
                    value[ref] = [(n, m) for _, n, m in entries]
                else:
                    failing.pop(ref, None)
                    value.pop(ref, None)
            self._failing_value = value
        g.memo["failing_requests"] = (g._by_kind, self._failing_value)

    def _patch_fallback(self, g: Graph, p: Patch, now: datetime, wide: list[Finding]
                        ) -> set[Ref]:
        """Judge again the chains whose fallback may differ: the re-linked ones, those
        under an object whose wide (or other) trouble came or went, every chain when a
        controller-wide cause did. Returns the objects whose fallback changed."""
        wide_bad, wide_global = stuck.bad_refs(wide)
        static_bad = wide_bad | self._other_bad[0]
        glob = wide_global or self._other_bad[1] or bool(self._global_chains)
        redo = {c for c in p.chains if c in g.nodes}
        if glob != self._global:
            redo = {n.id for n in g.of_kind("Certificate")}
        else:
            for r in static_bad ^ self._static_bad:
                nid = str(r)
                chain = g.chain_of.get(nid)
                if chain is not None:
                    redo.add(chain)
                elif nid in g.nodes:  # an issuer: each of its chains
                    redo.update(k.id for k in g.nodes[nid].children
                                if g.chain_of.get(k.id) == k.id)
        self._static_bad, self._global = static_bad, glob
        dirty: set[Ref] = set()
        for c in p.gone:
            gone = self._fallback.pop(c, None)
            if gone is not None:
                dirty.add(gone.object)
        made: list[Finding] = []
        for c in redo:
            own = {f.object for f in self._chain_findings.get(c, ())
                   if f.severity in (Severity.ERROR, Severity.WARNING)}
            was = self._fallback.pop(c, None)
            f = stuck.judge(g, now, g.nodes[c], _Either(own, static_bad), glob)
            if was is not None:
                dirty.add(was.object)
            if f is not None:
                self._fallback[c] = f
                made.append(f)
                dirty.add(f.object)
        attach_targets(g, made)
        return dirty

    def _counts(self, a: Analysis, changed_ids: set[str], p: Patch) -> Counter[str]:
        """Header counts: the buckets of re-linked chains and of chains whose findings
        changed are judged again (all of them when an issuer's findings changed)."""
        g = a.graph
        redo = set(p.chains)
        for nid in changed_ids:
            chain = g.chain_of.get(nid)
            if chain is not None:
                redo.add(chain)
            elif nid in g.nodes:
                redo = {n.id for n in g.of_kind("Certificate")}
                break
        buckets, counts = self._buckets, self._count
        for c in p.gone:
            was = buckets.pop(c, None)
            if was is not None:
                counts[was] -= 1
        for c in redo:
            if c in g.nodes:
                was = buckets.get(c)
                now = buckets[c] = bucket(g.nodes[c], g, a.by_object)
                if was != now:
                    counts[now] += 1
                    if was is not None:
                        counts[was] -= 1
        return +counts  # a copy without the zeros


class _Either:
    """``ref in a or ref in b`` without building their union (``stuck.judge``'s ``bad``)."""

    __slots__ = ("a", "b")

    def __init__(self, a: set[Ref], b: set[Ref]) -> None:
        self.a, self.b = a, b

    def __contains__(self, ref: object) -> bool:
        return ref in self.a or ref in self.b


def _by_ref(findings: Iterable[Finding]) -> dict[Ref, list[Finding]]:
    out: dict[Ref, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.object, []).append(f)
    return out


def _same(a: list[Finding], b: list[Finding]) -> bool:
    """The same findings, data (targets, extras) included."""
    return a == b and all(x.data == y.data for x, y in zip(a, b, strict=True))


def _global(findings: Iterable[Finding]) -> bool:
    return stuck.bad_refs(findings)[1]


def _carry_rollup(last: Analysis, a: Analysis) -> None:
    """Fill ``a.rollup`` with the previous roll-ups still true: every node whose subtree
    holds no changed node (changed nodes and their ancestors, in the old graph and the new,
    are dropped); and ``a.agg_from`` with the per-child roll-ups of wide nodes to start
    from, with the children that changed since."""
    assert a.changed is not None
    # the UI thread fills ``last``'s roll-ups lazily while this runs in the analysis
    # worker: copy them first (one C-level call each under the GIL; ``agg_from`` before
    # ``aggs``, as ``_agg`` writes them in the other order)
    starts = last.agg_from.copy()
    aggs = last.aggs.copy()
    prev = last.rollup.copy()
    wide = starts.keys() | aggs.keys()
    stale: set[str] = set()
    kids: dict[str, set[str]] = {}
    for graph in (last.graph, a.graph):
        for nid in a.changed:
            n = graph.nodes.get(nid)
            while n is not None and n.id not in stale:
                stale.add(n.id)
                if n.parent_id in wide:
                    kids.setdefault(n.parent_id, set()).add(n.id)
                n = graph.nodes.get(n.parent_id) if n.parent_id else None
    for k in stale:
        prev.pop(k, None)
    a.rollup = prev
    for nid in wide:
        if nid not in a.graph.nodes:
            continue
        got = aggs.get(nid)
        if got is not None:
            start = (got, frozenset(kids.get(nid, ())))
        else:
            before, since = starts[nid]
            start = (before, since | kids.get(nid, frozenset()))
        if start[1]:
            a.agg_from[nid] = start
        else:
            a.aggs[nid] = start[0]  # nothing under it changed: still true


def _chain_findings(g: Graph, chains: set[str], now: datetime
                    ) -> dict[str, list[Finding]] | None:
    """The chain rules' findings for ``chains`` only, per chain (None: a rule reported on
    an object outside them, so the shortcut does not hold and a full analysis must run)."""
    if not chains:
        return {}
    view = copy.copy(g)
    members: dict[str, list[Node]] = {k: [] for k in CHAIN_KINDS}
    for c in chains:
        for n in subtree(g.nodes[c]):
            members[n.ref.kind].append(n)
    view._by_kind = members
    out: dict[str, list[Finding]] = {c: [] for c in chains}
    for f in run_rules(view, now, CHAIN_RULES):
        chain = g.chain_of.get(str(f.object))
        if chain not in out:
            return None
        out[chain].append(f)
    return out
