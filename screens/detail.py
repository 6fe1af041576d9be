"""The detail screen: describe (findings, fields, conditions, related), events, YAML.

One screen with three tabs so `d`, `e` and `y` are the same keys here as on the tree.
Everything comes from the app's latest ``Analysis``; a live update re-renders in place
and keeps the scroll position.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar

import yaml
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Static, TabbedContent, TabPane

from kubectl_certdoctor.analysis import Analysis
from kubectl_certdoctor.graph import Node
from kubectl_certdoctor.objects import Ref, dig, parse_time
from kubectl_certdoctor.redact import sanitize
from kubectl_certdoctor.status import Status
from kubectl_certdoctor.widgets.describe import Action, actions_for, describe, events_table
from kubectl_certdoctor.widgets.header import StatusHeader
from kubectl_certdoctor.widgets.palette import sty, syntax_theme

from .base import DoctorScreen

if TYPE_CHECKING:
    pass

TABS = {"describe": "tab-describe", "events": "tab-events", "yaml": "tab-yaml"}


def object_yaml(node: Node) -> str:
    """Sanitised YAML without managedFields (noise that hides the fields that matter)."""
    if node.obj is None:
        return f"# {node.ref.kind} {node.ref.name}: {node.reason}\n"
    obj = sanitize(node.obj)
    md = dict(obj.get("metadata") or {})
    md.pop("managedFields", None)
    obj = {**obj, "metadata": md}
    return yaml.safe_dump(obj, sort_keys=False, allow_unicode=True, width=120)


def off_tree_node(a: Analysis, node_id: str) -> Node | None:
    """A node for an object the tree does not show (e.g. the controller Deployment a
    PROXY_NO_PROXY_GAP finding is about), so findings on it can still be opened."""
    parts = node_id.split("/")
    if len(parts) not in (2, 3):
        return None
    kind, ns, name = (parts[0], "", parts[1]) if len(parts) == 2 else tuple(parts)
    obj = a.graph.objs.get(kind, ns, name)
    if obj is None:
        return None
    return Node(node_id, Ref(kind, ns, name), obj, Status.UNKNOWN, "",
                parse_time(dig(obj, "metadata", "creationTimestamp")))


class DetailScreen(DoctorScreen[None]):
    """Everything about one node. ``esc`` goes back to the tree."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("q", "back", "Back", show=False, id="detail.back-q"),
        Binding("d", "tab('describe')", "Describe", id="detail.tab-describe"),
        Binding("e", "tab('events')", "Events", id="detail.tab-events"),
        Binding("y", "tab('yaml')", "YAML", id="detail.tab-yaml"),
        Binding("b", "blocker", "Blocked by", id="detail.blocker"),
        Binding("l", "timeline", "Logs + Events timeline", show=False, id="detail.timeline"),
        Binding("j", "scroll(1)", "Down", show=False, id="detail.down"),
        Binding("k", "scroll(-1)", "Up", show=False, id="detail.up"),
        Binding("question_mark", "app.help", "Help", id="detail.help"),
        *[Binding(str(i), f"run_action({i})", f"Action {i}", show=False, id=f"detail.action-{i}")
          for i in range(1, 10)],
    ]

    class ActionRequested(Message):
        """A probe/fix key was pressed; the app (and later the probe/fix screens) run it."""

        def __init__(self, action: Action) -> None:
            super().__init__()
            self.action = action

    def __init__(self, node_id: str, tab: str = "describe") -> None:
        super().__init__()
        self.node_id = node_id
        self.initial_tab = tab
        self.actions: list[Action] = []
        self._shown: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="header")
        with TabbedContent(initial=TABS.get(self.initial_tab, "tab-describe")):
            with TabPane("Describe", id="tab-describe"), VerticalScroll(id="describe-scroll"):
                yield Static(id="describe")
            with TabPane("Events", id="tab-events"), VerticalScroll(id="events-scroll"):
                yield Static(id="events")
            with TabPane("YAML", id="tab-yaml"), VerticalScroll(id="yaml-scroll"):
                yield Static(id="yaml")
        yield Footer()

    def on_mount(self) -> None:
        a = self.cd_app.analysis
        if a is not None:
            self.show_analysis(a)
        self.cd_app.refresh_header()

    def show_analysis(self, a: Analysis) -> None:
        """Re-render when the object (or its findings/events) changed."""
        node = a.graph.nodes.get(self.node_id) or off_tree_node(a, self.node_id)
        if node is None:
            self.query_one("#describe", Static).update(
                Text(f"{self.node_id} no longer exists in the cluster.", style=sty("bold yellow")))
            return
        key = (id(node.obj), node.status, node.reason, tuple(a.by_object.get(node.ref, ())),
               len(a.graph.events_for(node.ref)), a.now.replace(second=0, microsecond=0))
        if key == self._shown:
            return
        self._shown = key
        src = self.cd_app.source
        if self.cd_app.opts.read_only or (src.live and src.read_only):
            # read-only: fixes are hidden, not merely refused (probes stay: local ones run)
            a = dataclasses.replace(a, by_object={**a.by_object, node.ref: [
                dataclasses.replace(f, fixes=()) for f in a.by_object.get(node.ref, [])]})
        self.actions = actions_for(a.by_object.get(node.ref, []), offline=not src.live,
                                   read_only=src.read_only, objs=a.graph.objs, now=a.now,
                                   demo=getattr(src, "demo", None) is not None)
        from rich.console import Group

        self.query_one("#describe", Static).update(Group(*describe(node, a, self.actions)))
        self.query_one("#events", Static).update(events_table(a, node.ref))
        self.query_one("#yaml", Static).update(
            Syntax(object_yaml(node), "yaml", theme=syntax_theme(), word_wrap=True))

    def restyle(self) -> None:
        """The theme changed: render again with its colours."""
        self._shown = None
        a = self.cd_app.analysis
        if a is not None:
            self.show_analysis(a)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_blocker(self) -> None:
        """Open what blocks this node (the cause the "Blocked by" line names)."""
        a = self.cd_app.analysis
        node = a.graph.nodes.get(self.node_id) if a is not None else None
        blocked = a.blocker(node) if a is not None and node is not None else None
        if blocked is None:
            self.notify("Nothing below this object is failing.")
            return
        self.app.push_screen(DetailScreen(blocked[0].id))

    def action_timeline(self) -> None:
        """l: the controller's log lines about this object, merged with its Events."""
        self.cd_app.open_timeline(self.node_id)

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = TABS[tab]

    def action_scroll(self, delta: int) -> None:
        pane = self.query_one(TabbedContent).active
        scroller = {"tab-describe": "#describe-scroll", "tab-events": "#events-scroll",
                    "tab-yaml": "#yaml-scroll"}.get(pane, "#describe-scroll")
        self.query_one(scroller, VerticalScroll).scroll_relative(y=delta, animate=False)

    def action_run_action(self, n: int) -> None:
        act = next((a for a in self.actions if a.key == str(n)), None)
        if act is None:
            return
        if not act.available:
            # offline: the probe/fix screens still open, greyed / preview-only with the reason
            self.notify(f"{act.kind} {act.id}: {act.why}", severity="warning")
            if act.why.startswith(("would change nothing", "cannot act")):
                return  # not offered: it would do nothing
        self.post_message(self.ActionRequested(act))
