"""The main screen: the forest per issuer, header, filter and ``:`` command line.

Keys follow k9s: arrows/j/k move, enter/→ open, ← close, ``/`` filter, ``p`` problems,
``n`` namespace, ``c`` context, ``d``/``y``/``e`` describe/YAML/events, ``f`` findings,
``r`` refresh, ``?`` help, ``:`` commands, ``q`` quit. Context switching is hidden when
the data comes from a file.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.widgets import Footer, Input, Static, Tree

from kubectl_certdoctor.analysis import Analysis
from kubectl_certdoctor.kinds import CERT_MANAGER_KINDS
from kubectl_certdoctor.source import cert_manager_missing
from kubectl_certdoctor.widgets.certtree import FORBIDDEN_ID, CertTree
from kubectl_certdoctor.widgets.commands import parse
from kubectl_certdoctor.widgets.header import StatusHeader
from kubectl_certdoctor.widgets.palette import sty
from kubectl_certdoctor.widgets.view import ViewFilter, problem_path_ids, visible_ids

from .base import DoctorScreen

if TYPE_CHECKING:
    pass

#: narrower than this, tree rows and the header use their compact forms
COMPACT_WIDTH = 120
#: longest the tree waits for every cert-manager kind's first LIST before showing
SYNC_HOLD = 3.0


class TreeScreen(DoctorScreen[None]):
    """Owns the view filter; the app hands it each new ``Analysis``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # first, so a narrow footer never cuts them off
        Binding("question_mark", "app.help", "Help", id="tree.help"),
        Binding("q", "app.quit", "Quit", id="tree.quit"),
        Binding("enter", "open", "Expand, or open the detail", show=False, id="tree.open"),
        Binding("right", "right", "Expand, or open the detail", show=False, id="tree.right"),
        Binding("left", "left", "Collapse, or go to the parent", show=False, id="tree.left"),
        Binding("slash", "filter", "Filter", id="tree.filter"),
        Binding("p", "problems", "Problems", id="tree.problems"),
        Binding("n", "namespace", "Namespace", id="tree.namespace"),
        Binding("c", "context", "Context", id="tree.context"),
        Binding("d", "detail('describe')", "Describe", id="tree.detail-describe"),
        Binding("y", "detail('yaml')", "YAML", id="tree.detail-yaml"),
        Binding("e", "detail('events')", "Events", id="tree.detail-events"),
        Binding("f", "findings", "Findings", id="tree.findings"),
        Binding("l", "timeline", "Logs + Events timeline", show=False, id="tree.timeline"),
        Binding("r", "refresh", "Refresh", id="tree.refresh"),
        Binding("colon", "command", "Command", id="tree.command"),
        Binding("escape", "escape", "Clear filter", show=False, id="tree.escape"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.flt = ViewFilter()
        self._synced = False
        self._seen: set[str] = set()
        #: the tree has been shown once (it is never held back again)
        self._shown = False
        self._mounted_at = 0.0

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="header")
        with Container(id="body"):
            yield Static(id="story")
            yield Static(id="nomatch")
            yield CertTree(id="tree")
            yield Static(id="notice")
        # select_on_focus off: the focus event arrives after keys typed right behind the
        # "/" or ":", and selecting them then would let the next key replace them
        yield Input(placeholder="/ filter: name or namespace, ~ for a regex; esc clears",
                    id="filter", select_on_focus=False)
        yield Input(placeholder=": command — cert ch ns NAME ctx NAME q (esc cancels)",
                    id="command", select_on_focus=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#nomatch").display = False
        self._show_story()
        self.query_one("#filter").display = False
        self.query_one("#command").display = False
        self.query_one(CertTree).focus()
        self.cert_tree.set_compact(self.app.size.width < COMPACT_WIDTH)
        self._mounted_at = time.monotonic()
        a = self.cd_app.analysis
        if a is not None:
            self.show_analysis(a)
        else:
            self.query_one("#notice", Static).update(Text("Reading the cluster…", style="dim"))
            self.query_one(CertTree).display = False
        if self.cd_app.source.live:
            # show what has arrived once the hold is over, even if nothing changes by then
            self.set_timer(SYNC_HOLD + 0.05, self._hold_over)

    def on_resize(self, event: object) -> None:
        """Below ``COMPACT_WIDTH`` columns the rows switch to short labels."""
        self.cert_tree.set_compact(self.size.width < COMPACT_WIDTH)

    def _show_story(self) -> None:
        """The demo says what it is: one scenario's title and field-report story above the
        tree (the whole text stays on the help screen); all of them, a one-line pointer."""
        box = self.query_one("#story", Static)
        demo = getattr(self.cd_app.source, "demo", None)
        if demo is None:
            box.display = False
            return
        from kubectl_certdoctor import scenarios

        if demo in scenarios.names():
            i = scenarios.info(demo)
            box.update(Text.assemble(("Demo: ", "bold"), (i.title, "bold"), " — ", i.story,
                                     ("  (? shows it whole)", "dim")))
        else:
            box.update(Text.assemble(
                ("Demo: ", "bold"), f"{len(scenarios.names())} scenarios from field "
                "reports, nothing is sent anywhere; ", ("--demo list", "bold"),
                " names them, ", ("--demo NAME", "bold"), " opens one with its story."))
        box.display = True

    @property
    def cert_tree(self) -> CertTree:
        return self.query_one(CertTree)

    # -- data ----------------------------------------------------------------------------

    def show_analysis(self, a: Analysis) -> None:
        tree = self.cert_tree
        notice = self.query_one("#notice", Static)
        src = self.cd_app.source
        if cert_manager_missing(a.states):
            tree.display = False
            notice.display = True
            notice.update(Text.assemble(
                ("cert-manager is not installed", sty("bold red")),
                f" in context {src.context or '(current)'}.\n\n",
                "The API server does not serve certificates.cert-manager.io, so there is "
                "nothing to diagnose yet.\nInstall cert-manager (https://cert-manager.io/docs/"
                "installation/), or switch context with ", ("c", "bold"), " or ",
                (":ctx NAME", "bold"), ".\n\nPress ", ("q", "bold"), " to quit.",
            ))
            return
        waiting = self._still_listing(a)
        if waiting:
            tree.display = False
            notice.display = True
            done = len(CERT_MANAGER_KINDS) - len(waiting)
            notice.update(Text.assemble(
                ("Reading the cluster… ", "bold"),
                f"{done} of {len(CERT_MANAGER_KINDS)} cert-manager kinds listed; waiting for ",
                (", ".join(waiting), "bold"), ".", style="dim"))
            return
        if a.empty():
            tree.display = False
            notice.display = True
            scope = src.namespace or self.flt.namespace
            where = f"namespace {scope}" if scope else "any namespace"
            notice.update(Text.assemble(
                ("No cert-manager objects", "bold"), f" in {where}",
                f" (context {src.context}).\n\n" if src.context else ".\n\n",
                "No Issuer, ClusterIssuer or Certificate exists yet. ",
                "Try all namespaces (", ("-A", "bold"), " or ", (":ns", "bold"), "), "
                "create an Issuer and a Certificate, or explore the demo with ",
                ("kubectl certdoctor --demo", "bold"), ".",
            ))
            return
        self._shown = True
        notice.display = False
        tree.display = True
        self._apply(a)

    def _still_listing(self, a: Analysis) -> list[str]:
        """cert-manager kinds whose first LIST has not answered yet, while the tree is held
        back: until every link of the chain is known, Challenges would show as orphans for
        a moment and rows would jump under the cursor. After ``SYNC_HOLD`` seconds (a slow
        API server) the tree shows what has arrived and the header says "syncing"."""
        if self._shown or not self.cd_app.source.live:
            return []
        waiting = [k.plural for k in CERT_MANAGER_KINDS
                   if (st := a.states.get(k.name)) is not None and st.state == "syncing"]
        if time.monotonic() - self._mounted_at >= SYNC_HOLD and not a.empty():
            return []
        return waiting  # nothing at all yet: "no objects" would be premature

    def new_source(self) -> None:
        """Another context: filters cleared, the tree held back until it has listed."""
        self.flt = ViewFilter()
        self._shown = False
        self._synced = False
        self._seen = set()
        self._mounted_at = time.monotonic()
        self.set_timer(SYNC_HOLD + 0.05, self._hold_over)

    def _hold_over(self) -> None:
        a = self.cd_app.analysis
        if a is not None and not self._shown:
            self.show_analysis(a)

    def _apply(self, a: Analysis, extra_expand: set[str] | None = None) -> None:
        visible, expand = visible_ids(a, self.flt)
        if not self._synced:
            # until every kind has listed once, open the path to every problem
            expand |= problem_path_ids(a)
            self._synced = all(s.state != "syncing" for s in a.states.values())
            self._seen = set(a.graph.nodes)
        else:
            # afterwards only new trouble is opened; what the user closed stays closed
            candidates = a.changed if a.changed is not None else a.graph.nodes
            fresh = {i for i in candidates if i not in self._seen and i in a.graph.nodes}
            if fresh:
                expand |= problem_path_ids(a, only=fresh)
                self._seen |= fresh
        if extra_expand:
            expand |= extra_expand
        forbidden = [k.name for k in CERT_MANAGER_KINDS
                     if a.states.get(k.name) is not None
                     and a.states[k.name].state == "forbidden"]
        self.cert_tree.apply(a, visible, expand, forbidden)
        nomatch = self.query_one("#nomatch", Static)
        nomatch.display = visible is not None and not any(r.id in visible
                                                          for r in a.graph.roots)
        if nomatch.display and self.flt.regex_error:
            nomatch.update(Text.assemble((self.flt.regex_error, sty("bold red")),
                                         (" — ~ starts a regular expression; esc clears",
                                          "dim")))
        elif nomatch.display:
            nomatch.update(Text.assemble(("Nothing matches ", sty("yellow")),
                                         (self.flt.describe() or "the filter", sty("bold yellow")),
                                         (" — esc clears the filter", "dim")))
        if self.cert_tree.cursor_line < 0 and self.cert_tree.last_line >= 0:
            self.cert_tree.cursor_line = 0

    def set_filter(self, flt: ViewFilter) -> None:
        self.flt = flt
        a = self.cd_app.analysis
        if a is not None and self.cert_tree.display:
            self._apply(a)
        self.cd_app.refresh_header()

    # -- tree events ---------------------------------------------------------------------

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected[str]) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        """enter: expand a closed node that has children, otherwise open its detail."""
        tn = self.cert_tree.cursor_node
        if tn is None or tn.data == FORBIDDEN_ID:
            return
        if tn.allow_expand and not tn.is_expanded:
            tn.expand()
        else:
            self.action_detail("describe")

    def action_right(self) -> None:
        tn = self.cert_tree.cursor_node
        if tn is None or tn.data == FORBIDDEN_ID:
            return
        if tn.allow_expand and not tn.is_expanded:
            tn.expand()
        elif tn.is_expanded and tn.children:
            self.cert_tree.move_cursor(tn.children[0])
        else:
            self.action_detail("describe")

    def action_left(self) -> None:
        tn = self.cert_tree.cursor_node
        if tn is None:
            return
        if tn.is_expanded and tn.allow_expand:
            tn.collapse()
        elif tn.parent is not None and tn.parent is not self.cert_tree.root:
            self.cert_tree.move_cursor(tn.parent)

    # -- actions -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # offline: context switching is hidden, not merely refused
        return not (action == "context" and not self.cd_app.source.live)

    def action_detail(self, tab: str) -> None:
        nid = self.cert_tree.cursor_id
        if nid is None or nid == FORBIDDEN_ID:
            return
        self.cd_app.open_detail(nid, tab)

    def action_filter(self, initial: str | None = None) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.flt.text if initial is None else initial
        box.cursor_position = len(box.value)
        # focus now, not on the next loop turn: keys typed (or pasted) right after the
        # "/" must land in the box, not run tree bindings
        self.set_focus(box)

    def action_command(self, initial: str = "") -> None:
        box = self.query_one("#command", Input)
        box.display = True
        box.value = initial
        box.cursor_position = len(initial)
        self.set_focus(box)

    def on_paste(self, event: object) -> None:
        """Pasted ``/text`` or ``:command`` on the tree opens the box with all of it."""
        from textual import events

        if not isinstance(event, events.Paste) or isinstance(self.focused, Input):
            return
        text = event.text.strip().splitlines()[0] if event.text.strip() else ""
        if text.startswith("/"):
            event.stop()
            self.action_filter(text[1:])
        elif text.startswith(":"):
            event.stop()
            self.action_command(text[1:])

    def action_problems(self) -> None:
        self.set_filter(ViewFilter(self.flt.text, not self.flt.problems, self.flt.namespace,
                                   self.flt.kind))
        self.notify("problems only" if self.flt.problems else "showing everything",
                    timeout=1.5)

    def action_escape(self) -> None:
        """esc on the tree: drop the text filter, problems-only and kind filters."""
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        if self.flt.text or self.flt.problems or self.flt.kind:
            self.set_filter(ViewFilter(namespace=self.flt.namespace))

    def action_findings(self) -> None:
        self.cd_app.open_findings()

    def action_timeline(self) -> None:
        """l: the controller's log lines about the node, merged with its Events."""
        nid = self.cert_tree.cursor_id
        if nid is not None and nid != FORBIDDEN_ID:
            self.cd_app.open_timeline(nid)

    def action_refresh(self) -> None:
        self.cd_app.refresh_source()

    def action_namespace(self) -> None:
        self.cd_app.pick_namespace()

    def action_context(self) -> None:
        self.cd_app.pick_context()

    # -- inputs --------------------------------------------------------------------------

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.set_filter(ViewFilter(event.value.strip(), self.flt.problems, self.flt.namespace,
                                   self.flt.kind))

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        box = self.query_one("#filter", Input)
        box.display = bool(self.flt.text)
        self.cert_tree.focus()
        if self.cert_tree.cursor_line < 0 and self.cert_tree.last_line >= 0:
            self.cert_tree.cursor_line = 0

    @on(Input.Submitted, "#command")
    def _command_done(self, event: Input.Submitted) -> None:
        box = self.query_one("#command", Input)
        box.display = False
        self.cert_tree.focus()
        self.run_command(event.value)

    def run_command(self, line: str) -> None:
        cmd = parse(line)
        app = self.cd_app
        if cmd.verb == "quit":
            app.exit(0)
        elif cmd.verb == "kind":
            self.set_filter(ViewFilter(self.flt.text, self.flt.problems, self.flt.namespace,
                                       cmd.arg))
        elif cmd.verb == "all":
            self.set_filter(ViewFilter(namespace=self.flt.namespace))
        elif cmd.verb == "ns":
            why = app.unknown_namespace(cmd.arg)
            if why:
                self.notify(why, title=f":ns {cmd.arg}", severity="error", timeout=6)
            else:
                app.set_namespace(cmd.arg)
        elif cmd.verb == "ctx":
            if not cmd.arg:
                self.action_context()
            else:
                app.switch_context(cmd.arg)
        elif cmd.verb == "problems":
            self.action_problems()
        elif cmd.verb == "findings":
            self.action_findings()
        elif cmd.verb == "help":
            app.action_help()
        elif cmd.verb == "refresh":
            self.action_refresh()
        else:
            self.notify(cmd.arg or "unknown command", severity="error")

    def on_key(self, event: object) -> None:
        from textual import events

        if not isinstance(event, events.Key) or event.key != "escape":
            return
        focused = self.focused
        if isinstance(focused, Input):
            event.stop()
            focused.display = False
            if focused.id == "filter":
                self.set_filter(ViewFilter(problems=self.flt.problems,
                                           namespace=self.flt.namespace, kind=self.flt.kind))
            self.cert_tree.focus()
