"""Filters over an ``Analysis``: which node ids the tree shows and which it opens.

Filters compute the set of visible node ids, closed under ancestors so every match keeps
its chain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kubectl_certdoctor.analysis import Analysis
from kubectl_certdoctor.graph import Node, subtree

#: expand every match's ancestors only when a filter leaves fewer matches than this
AUTO_EXPAND_LIMIT = 500
TREE_KINDS = ("Issuer", "ClusterIssuer", "Certificate", "CertificateRequest", "Order",
              "Challenge")


@dataclass(frozen=True)
class ViewFilter:
    """What the user narrowed the tree to (all empty: everything)."""

    text: str = ""
    problems: bool = False
    namespace: str | None = None
    kind: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.text or self.problems or self.namespace or self.kind)

    @property
    def regex(self) -> re.Pattern[str] | None:
        """``~pattern``: a case-insensitive regular expression over name and namespace
        (None when the text is not one, or does not compile: see ``regex_error``)."""
        if not self.text.startswith("~"):
            return None
        try:
            return re.compile(self.text[1:], re.IGNORECASE)
        except re.error:
            return None

    @property
    def regex_error(self) -> str:
        if not self.text.startswith("~"):
            return ""
        try:
            re.compile(self.text[1:])
        except re.error as e:
            return f"invalid regular expression: {e}"
        return ""

    def matches(self, name: str, namespace: str) -> bool:
        if self.text.startswith("~"):
            rx = self.regex
            return rx is not None and bool(rx.search(name) or rx.search(namespace))
        needle = self.text.lower()
        return needle in name.lower() or needle in namespace.lower()

    def describe(self) -> str:
        parts = []
        if self.text:
            parts.append(f"/{self.text}")
        if self.problems:
            parts.append("problems only")
        if self.kind:
            parts.append(f"kind {self.kind}")
        return ", ".join(parts)


def _close_up(a: Analysis, ids: set[str]) -> set[str]:
    nodes = a.graph.nodes
    out = set(ids)
    for i in ids:
        n = nodes.get(i)
        while n is not None and n.parent_id and n.parent_id not in out:
            out.add(n.parent_id)
            n = nodes.get(n.parent_id)
    return out


def _subtree(node: Node, into: set[str]) -> None:
    into.update(n.id for n in subtree(node))


def visible_ids(a: Analysis, f: ViewFilter) -> tuple[set[str] | None, set[str]]:
    """(visible ids or None for all, ids to expand so the matches show)."""
    if not f.active:
        return None, set()
    nodes = a.graph.nodes.values()
    visible: set[str] | None = None
    matches: set[str] = set()

    def narrow(ids: set[str]) -> None:
        nonlocal visible
        visible = ids if visible is None else visible & ids

    if f.namespace:
        hit: set[str] = set()
        for n in nodes:
            if n.ref.namespace == f.namespace:
                _subtree(n, hit)
        narrow(_close_up(a, hit))
    if f.text:
        direct = {n.id for n in nodes if f.matches(n.ref.name, n.ref.namespace)}
        hit = set()
        for i in direct:
            _subtree(a.graph.nodes[i], hit)
        matches |= direct
        narrow(_close_up(a, hit))
    if f.problems:
        direct = {n.id for n in nodes if a.is_problem(n)}
        matches |= direct
        narrow(_close_up(a, direct))
    if f.kind:
        direct = {n.id for n in nodes if n.ref.kind == f.kind}
        matches |= direct
        narrow(_close_up(a, direct))
    assert visible is not None
    expand: set[str] = set()
    shown = matches & visible
    if len(shown) <= AUTO_EXPAND_LIMIT:
        for i in shown:
            cur: Node | None = a.graph.nodes.get(i)
            while cur is not None and cur.parent_id:
                expand.add(cur.parent_id)
                cur = a.graph.nodes.get(cur.parent_id)
    return visible, expand


def problem_path_ids(a: Analysis, limit: int = 300, only: set[str] | None = None) -> set[str]:
    """Ancestors of problem nodes (of those in ``only``, if given): opened so trouble is
    one glance away."""
    out: set[str] = set()
    count = 0
    nodes = a.graph.nodes.values() if only is None else \
        [a.graph.nodes[i] for i in only if i in a.graph.nodes]
    for n in nodes:
        if n.obj is None or not a.is_problem(n):
            continue
        count += 1
        if count > limit:
            break
        p: Node | None = a.graph.nodes.get(n.parent_id) if n.parent_id else None
        while p is not None:
            out.add(p.id)
            p = a.graph.nodes.get(p.parent_id) if p.parent_id else None
    return out
