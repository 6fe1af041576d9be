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

import copy
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from kubectl_certdoctor.graph import CHAIN_KINDS, Graph, Node, build_graph, subtree
from kubectl_certdoctor.graph_patch import Patch, patch_graph
from kubectl_certdoctor.objects import ObjectSet, Ref
from kubectl_certdoctor.rules import (
    CHAIN_RULES,
    findings_by_object,
    run_rules,
    sort_key,
    step_back,
    wide_and_fallback,
)
from kubectl_certdoctor.rules.finding import Finding, Severity
from kubectl_certdoctor.source import SourceState
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

    def worst(self, node: Node) -> Finding | None:
        fs = self.by_object.get(node.ref)
        return fs[0] if fs else None

    def _below(self, node: Node) -> Below:
        """The roll-up of everything under ``node`` (memoised per analysis; an ``Analyser``
        carries the entries of untouched subtrees over to the next analysis)."""
        got = self.rollup.get(node.id)
        if got is not None:
            return got
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
    graph = build_graph(objs, now)
    chain = run_rules(graph, now, CHAIN_RULES)
    findings = sorted(step_back([*chain, *wide_and_fallback(graph, now, chain)]),
                      key=sort_key)
    by_object = findings_by_object(findings)
    counts: Counter[str] = Counter(bucket(n, graph, by_object)
                                   for n in graph.of_kind("Certificate"))
    return Analysis(graph, findings, by_object, states, now, _version(objs), counts,
                    chain_findings=chain)


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

    Findings are kept per chain (the Certificate node id), plus the rest (issuers, the
    controller, orphans); counts per Certificate. ``update(full=True)`` — or any change
    ``graph_patch`` declines — recomputes everything.

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
        self._other: list[Finding] = []
        self._buckets: dict[str, str] = {}
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
        a = self._patched(patch, states, now) if patch is not None else None
        if a is None:
            a = self._full(objs, states, now)
            self._time_queue = []  # everything was judged at ``now``
        else:
            del self._time_queue[-self.TIME_BATCH:]
        self.last = a
        return a

    def _full(self, objs: ObjectSet, states: dict[str, SourceState], now: datetime) -> Analysis:
        self.full += 1
        a = analyse(objs, states, now)
        chain_of = a.graph.chain_of
        self._chain_findings = {}
        self._other = []
        for f in a.chain_findings:
            chain = chain_of.get(str(f.object))
            if chain is None:
                self._other.append(f)
            else:
                self._chain_findings.setdefault(chain, []).append(f)
        self._buckets = {n.id: bucket(n, a.graph, a.by_object)
                         for n in a.graph.of_kind("Certificate")}
        return a

    def _patched(self, p: Patch, states: dict[str, SourceState], now: datetime
                 ) -> Analysis | None:
        assert self.last is not None
        g = p.graph
        fresh = _chain_findings(g, p.chains, now)
        if fresh is None:
            return None
        chains = dict(self._chain_findings)
        touched = p.chains | p.gone
        for c in touched:
            chains.pop(c, None)
        chains.update(fresh)
        chain = [*self._other, *(f for fs in chains.values() for f in fs)]
        # wide rules and the fallback read across chains: they run over the whole graph
        # every time (cheap), so a finding they drop or add anywhere is never stale
        findings = sorted(step_back([*chain, *wide_and_fallback(g, now, chain)]),
                          key=sort_key)
        by_object = findings_by_object(findings)
        old_by_object = self.last.by_object
        changed_ids = {str(r) for r in by_object.keys() ^ old_by_object.keys()}
        changed_ids |= {str(r) for r, fs in by_object.items()
                        if r in old_by_object and old_by_object[r] != fs}
        changed = frozenset(p.remade | p.removed | (changed_ids & g.nodes.keys()))
        a = Analysis(g, findings, by_object, states, now, self.last.version,
                     changed=changed, chain_findings=chain)
        a.rollup = _carry_rollup(self.last, g, changed)
        self.patched += 1
        self._chain_findings = chains
        a.counts = self._counts(a, changed_ids, p)
        return a

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
        buckets = self._buckets
        for c in p.gone:
            buckets.pop(c, None)
        for c in redo:
            if c in g.nodes:
                buckets[c] = bucket(g.nodes[c], g, a.by_object)
        return Counter(buckets.values())


def _carry_rollup(last: Analysis, g: Graph, changed: frozenset[str]) -> dict[str, Below]:
    """The previous roll-ups still true: every node whose subtree holds no changed node
    (changed nodes and their ancestors, in the old graph and the new, are dropped)."""
    stale: set[str] = set()
    for graph in (last.graph, g):
        for nid in changed:
            n = graph.nodes.get(nid)
            while n is not None and n.id not in stale:
                stale.add(n.id)
                n = graph.nodes.get(n.parent_id) if n.parent_id else None
    # the UI thread fills ``last.rollup`` lazily while this runs in the analysis worker:
    # copy it first (one C-level call under the GIL) instead of iterating the live dict
    prev = last.rollup.copy()
    return {k: v for k, v in prev.items() if k not in stale and k in g.nodes}


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
