"""The Issuer → Certificate → CertificateRequest → Order → Challenge tree, updated in place.

Live updates must not disturb the person reading the tree: nodes are reconciled by id
(an id → TreeNode index), labels are replaced with ``set_label`` only when they changed,
only changed children are added or removed, and the cursor follows its node, not its
line. Children are materialised lazily when a node is expanded, so 10,000 objects cost
only the rows a person has opened.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import Input, Tree
from textual.widgets.tree import TreeNode

from kubectl_certdoctor.analysis import Analysis
from kubectl_certdoctor.graph import Node
from kubectl_certdoctor.widgets.labels import forbidden_label, node_label

FLASH_SECONDS = 1.2
FORBIDDEN_ID = "forbidden:"

LabelKey = tuple[object, ...]


class CertTree(Tree[str]):
    """A ``Tree`` whose node data is the graph node id."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Move down", show=False, id="tree.cursor-down"),
        Binding("k", "cursor_up", "Move up", show=False, id="tree.cursor-up"),
        # the screen decides (expand, open detail, go to parent); the Tree would scroll
        Binding("right", "screen.right", "Expand, or open the detail", show=False,
                id="tree.right"),
        Binding("left", "screen.left", "Collapse, or go to the parent", show=False,
                id="tree.left"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("cluster", id=id)
        self.show_root = False
        self.auto_expand = False
        self.guide_depth = 3
        self.analysis: Analysis | None = None
        self.visible_ids: set[str] | None = None
        self.forbidden: list[str] = []
        self._index: dict[str, TreeNode[str]] = {}
        self._keys: dict[str, tuple[LabelKey, LabelKey]] = {}
        self._flash_until: dict[str, float] = {}
        self._first = True
        self._first_fill = False
        self._want_expanded: set[str] = set()
        #: ids whose rows are open: survives a row being filtered out and coming back
        self._expanded_ids: set[str] = set()
        #: narrow terminal: short labels (see ``labels.node_label``); set by ``set_compact``
        self.compact = False

    # -- public -----------------------------------------------------------------------

    async def _on_key(self, event: events.Key) -> None:
        """Keys typed right behind ``/`` or ``:`` were queued here before the box took the
        focus (a fast typist, a paste without bracketed paste): hand them to the box, in
        order, instead of running tree bindings with them."""
        focused = self.screen.focused
        if focused is not self and isinstance(focused, Input) and focused.display:
            event.stop()
            event.prevent_default()
            focused.post_message(events.Key(event.key, event.character))
            return
        # open the box now, not when the binding runs (after every key already queued
        # here): the keys behind it then take the branch above
        bindings = self.screen._bindings.copy()
        if self.app._keymap:  # remapped keys (keymap.toml), as Textual applies them
            bindings.apply_keymap(self.app._keymap)
        for b in bindings.key_to_bindings.get(event.key, []):
            if b.action in ("filter", "command"):
                event.stop()
                event.prevent_default()
                await self.screen.run_action(b.action)
                return
        await super()._on_key(event)

    def set_compact(self, compact: bool) -> None:
        """Switch label density (the screen calls it on resize) and relabel open rows."""
        if compact == self.compact:
            return
        self.compact = compact
        self.restyle()

    def restyle(self) -> None:
        """Relabel every materialised row (density or theme changed)."""
        self._keys.clear()
        a = self.analysis
        if a is not None:
            for nid, tn in self._index.items():
                n = a.graph.nodes.get(nid)
                if n is not None:
                    label = self._label(n, False)
                    if label is not None:
                        tn.set_label(label)

    def node_for(self, node_id: str) -> TreeNode[str] | None:
        return self._index.get(node_id)

    @property
    def cursor_id(self) -> str | None:
        n = self.cursor_node
        return n.data if n is not None else None

    def apply(self, analysis: Analysis, visible: set[str] | None, expand: Iterable[str] = (),
              forbidden: list[str] | None = None) -> None:
        """Show ``analysis``: reconcile materialised rows with the new graph."""
        keep = self.cursor_id
        old = self.analysis
        # only the nodes an incremental analysis remade need a look, when nothing else
        # that shapes the rows (filter, forbidden kinds) moved; else every open row
        only: set[str] | None = None
        if analysis.changed is not None and old is not None and visible is None \
                and self.visible_ids is None and list(forbidden or []) == self.forbidden:
            only = set(analysis.changed)
            # rows above a changed node roll its trouble up: relabel them too
            for g in (old.graph, analysis.graph):
                for nid in list(only):
                    n = g.nodes.get(nid)
                    while n is not None and n.parent_id and n.parent_id not in only:
                        only.add(n.parent_id)
                        n = g.nodes.get(n.parent_id)
        self.analysis = analysis
        self.visible_ids = visible
        self.forbidden = list(forbidden or [])
        flash = not self._first
        self._first_fill = self._first
        self._first = False
        for i in expand:
            tn = self._index.get(i)
            self._expanded_ids.add(i)
            if tn is not None and not tn.is_expanded:
                tn._expanded = True  # reconciled below; no NodeExpanded round-trip
        self._want_expanded = set(expand)
        if only is not None:
            only |= self._want_expanded
        roots = self._kids_of_roots()
        self._reconcile(self.root, roots, flash, only)
        self._restore_cursor(keep, old)
        if self._flash_until:
            self.set_timer(FLASH_SECONDS + 0.05, self._unflash)

    def reveal(self, node_id: str) -> bool:
        """Expand the ancestors of ``node_id`` and put the cursor on it."""
        a = self.analysis
        if a is None or node_id not in a.graph.nodes:
            return False
        chain: list[Node] = []
        n: Node | None = a.graph.nodes[node_id]
        while n is not None:
            chain.append(n)
            n = a.graph.nodes.get(n.parent_id) if n.parent_id else None
        for anc in reversed(chain[1:]):
            tn = self._index.get(anc.id)
            if tn is None:
                return False
            if not tn.is_expanded:
                tn._expanded = True
                self._expanded_ids.add(anc.id)
                self._reconcile(tn, self._kids(anc), False)
        target = self._index.get(node_id)
        if target is None:
            return False
        self._invalidate()
        _ = self._tree_lines  # rebuild now: move_cursor reads the node's line
        self.move_cursor(target)
        return True

    # -- reconciliation -----------------------------------------------------------------

    def _kids(self, node: Node) -> list[Node]:
        vis = self.visible_ids
        if vis is None:
            return node.children
        return [c for c in node.children if c.id in vis]

    def _kids_of_roots(self) -> list[Node]:
        assert self.analysis is not None
        vis = self.visible_ids
        roots = self.analysis.graph.roots
        return roots if vis is None else [r for r in roots if r.id in vis]

    def _label(self, node: Node, flash: bool) -> Text | None:
        """The new label, or None when the row is unchanged."""
        a = self.analysis
        assert a is not None
        worst = a.worst(node)
        code = (worst.code, worst.severity) if worst is not None else None
        blocked = a.blocker(node)
        bkey = (blocked[0].id, blocked[1].code) if blocked is not None else None
        shown = a.shown_status(node)
        content: LabelKey = (node.status, node.reason, code, node.ref, node.obj is None, bkey,
                             shown, self.compact)
        age: LabelKey = (node.age, int((a.now - node.age).total_seconds() // 60)
                         if node.age is not None else 0)
        old = self._keys.get(node.id)
        now = time.monotonic()
        if old is not None and flash and old[0] != content:
            self._flash_until[node.id] = now + FLASH_SECONDS
        flashing = self._flash_until.get(node.id, 0.0) > now
        if old is not None and old == (content, age) and not flashing:
            return None
        self._keys[node.id] = (content, age)
        return node_label(node, a.now, worst, flash=flashing, blocked=blocked, shown=shown,
                          compact=self.compact, parent_ns=self._parent_ns(node))

    def _parent_ns(self, node: Node) -> str:
        a = self.analysis
        p = a.graph.nodes.get(node.parent_id) if a is not None and node.parent_id else None
        return p.ref.namespace if p is not None else ""

    def _reconcile(self, parent: TreeNode[str], kids: list[Node], flash: bool,
                   only: set[str] | None = None) -> None:
        """Make ``parent``'s rows match ``kids``: drop, add, relabel, recurse into open
        rows. With ``only``, rows that exist and are not in it are left as they are (their
        node did not change), so a change costs its own rows, not every open one."""
        if only is not None and self._same_rows(parent, kids, only):
            # nothing came or went here: visit just the changed rows, O(changes)
            a = self.analysis
            assert a is not None
            for nid in only:
                tn = self._index.get(nid)
                node = a.graph.nodes.get(nid)
                if tn is not None and node is not None and tn.parent is parent:
                    self._update_row(tn, node, flash, only)
            return
        wanted = [k.id for k in kids]
        if parent is self.root and self.forbidden:
            wanted = [FORBIDDEN_ID, *wanted]
        wanted_set = set(wanted)
        for child in list(parent.children):
            if child.data not in wanted_set:
                self._drop(child)
                child.remove()
        present = {c.data: c for c in parent.children}
        if parent is self.root and self.forbidden:
            label = forbidden_label(self.forbidden)
            if FORBIDDEN_ID in present:
                present[FORBIDDEN_ID].set_label(label)
            else:
                self._index[FORBIDDEN_ID] = parent.add(label, FORBIDDEN_ID, before=0,
                                                       allow_expand=False)
            offset = 1
        else:
            offset = 0
        for pos, node in enumerate(kids, start=offset):
            tn = present.get(node.id)
            if only is not None and tn is not None and node.id not in only:
                continue
            if tn is None:
                assert self.analysis is not None
                grandkids = self._kids(node)
                # a new row always gets its full label: the id may still have a key from a
                # row under another parent that is dropped later in this pass (moved)
                self._keys.pop(node.id, None)
                label = self._label(node, flash) or node_label(node, self.analysis.now, None)
                expand = (node.id in self._want_expanded or node.id in self._expanded_ids
                          or (parent is self.root and self._first_fill))
                if expand:
                    self._expanded_ids.add(node.id)
                before = pos if pos < len(parent.children) else None
                tn = parent.add(label, node.id, before=before, expand=expand,
                                allow_expand=bool(grandkids))
                self._index[node.id] = tn
                if tn.is_expanded and grandkids:
                    self._reconcile(tn, grandkids, flash, only)
            else:
                self._update_row(tn, node, flash, only)

    def _same_rows(self, parent: TreeNode[str], kids: list[Node], only: set[str]) -> bool:
        """True when ``parent`` already has exactly the rows ``kids`` needs. Removed nodes
        are in ``only`` and still have their row, so a removal changes the count; an
        added node is in ``only`` without a row. (Filters never take this path.)"""
        offset = 1 if parent is self.root and self.forbidden else 0
        if len(parent.children) != len(kids) + offset or len(only) * 4 > len(kids):
            return False  # rows come or go, or so much changed that a full walk is as cheap
        a = self.analysis
        assert a is not None
        for nid in only:
            if nid not in self._index:
                node = a.graph.nodes.get(nid)
                if node is not None and node.parent_id == (parent.data or None):
                    return False  # a new kid of this row
        return True

    def _update_row(self, tn: TreeNode[str], node: Node, flash: bool,
                    only: set[str] | None) -> None:
        grandkids = self._kids(node)
        new_label = self._label(node, flash)
        if new_label is not None:
            tn.set_label(new_label)
        if tn.allow_expand != bool(grandkids):
            tn.allow_expand = bool(grandkids)
        if tn.is_expanded and grandkids:
            self._reconcile(tn, grandkids, flash, only)
        elif tn.children and not grandkids:
            for c in list(tn.children):
                self._drop(c)
            tn.remove_children()

    def _drop(self, tn: TreeNode[str]) -> None:
        stack = [tn]
        while stack:
            n = stack.pop()
            # a moved row may already have its new TreeNode (added earlier in this pass):
            # forget the id only when it still points at the row being dropped
            if n.data is not None and self._index.get(n.data) is n:
                self._index.pop(n.data, None)
                self._keys.pop(n.data, None)
                self._flash_until.pop(n.data, None)
            stack.extend(n.children)

    def _restore_cursor(self, keep: str | None, old: Analysis | None) -> None:
        if keep is None:
            return
        tn = self._index.get(keep)
        if tn is None and old is not None:
            # the node went away: land on its nearest surviving ancestor
            n = old.graph.nodes.get(keep)
            while n is not None and tn is None:
                n = old.graph.nodes.get(n.parent_id) if n.parent_id else None
                if n is not None:
                    tn = self._index.get(n.id)
        if tn is None:
            return
        _ = self._tree_lines  # rebuild lines so the node knows its line
        line = tn.line
        if line >= 0 and line != self.cursor_line:
            self.cursor_line = line

    def _unflash(self) -> None:
        a = self.analysis
        if a is None:
            return
        now = time.monotonic()
        due = [i for i, t in self._flash_until.items() if t <= now]
        for i in due:
            self._flash_until.pop(i, None)
            tn = self._index.get(i)
            n = a.graph.nodes.get(i)
            if tn is not None and n is not None:
                tn.set_label(node_label(n, a.now, a.worst(n), blocked=a.blocker(n),
                                        shown=a.shown_status(n), compact=self.compact,
                                        parent_ns=self._parent_ns(n)))
        if self._flash_until:
            self.set_timer(0.2, self._unflash)

    # -- lazy expansion -------------------------------------------------------------------

    def _on_tree_node_expanded(self, event: Tree.NodeExpanded[str]) -> None:
        a = self.analysis
        nid = event.node.data
        if a is None or nid is None or nid not in a.graph.nodes:
            return
        self._expanded_ids.add(nid)
        self._reconcile(event.node, self._kids(a.graph.nodes[nid]), False)

    def _on_tree_node_collapsed(self, event: Tree.NodeCollapsed[str]) -> None:
        if event.node.data is not None:
            self._expanded_ids.discard(event.node.data)
