"""``l``: one object's timeline — the controller log lines that mention it and its Events.

The log is read by the source (``DataSource.controller_logs``: one bounded pods/log GET
per controller Pod on a live cluster, nothing offline) in a thread worker; the screen
shows the Events at once and merges the lines in when they arrive. ``r`` reads again.
What could not be read (forbidden pods/log, no controller Pod, a bundle) is said above
the table, never hidden.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from kubectl_certdoctor.timeline import Entry, build_timeline
from kubectl_certdoctor.widgets.header import StatusHeader
from kubectl_certdoctor.widgets.palette import sty

from .base import DoctorScreen
from .detail import off_tree_node

if TYPE_CHECKING:
    from kubectl_certdoctor.cluster.podlogs import LogFetch
    from kubectl_certdoctor.objects import Ref


class TimelineScreen(DoctorScreen[None]):
    """Controller log + Events of one node, oldest first. ``esc`` goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="timeline.back"),
        Binding("q", "back", "Back", show=False, id="timeline.back-q"),
        Binding("r", "reload", "Read the log again", id="timeline.reload"),
        Binding("j", "scroll(1)", "Down", show=False, id="timeline.down"),
        Binding("k", "scroll(-1)", "Up", show=False, id="timeline.up"),
        Binding("question_mark", "app.help", "Help", id="timeline.help"),
    ]

    def __init__(self, node_id: str) -> None:
        super().__init__()
        self.node_id = node_id
        #: the last fetch (None: still reading)
        self.fetch: LogFetch | None = None
        #: the rows shown (tests read them)
        self.entries: list[Entry] = []

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="header")
        yield Static(id="timeline-title")
        yield Static(id="timeline-status")
        with VerticalScroll(id="timeline-scroll"):
            yield Static(id="timeline")
        yield Footer()

    def on_mount(self) -> None:
        self.cd_app.refresh_header()
        ref = self._ref()
        title = self.query_one("#timeline-title", Static)
        if ref is None:
            title.update(Text(f"{self.node_id} no longer exists.", style=sty("bold yellow")))
            return
        where = f"{ref.namespace}/" if ref.namespace else ""
        title.update(Text.assemble(("Timeline ", "bold"), (f"{ref.kind} {where}{ref.name}",
                                                           "bold"),
                                   (" — controller log lines that mention it, and its "
                                    "Events", "dim")))
        self._show_timeline()
        self.action_reload()

    def _ref(self) -> Ref | None:
        a = self.cd_app.analysis
        if a is None:
            return None
        node = a.graph.nodes.get(self.node_id) or off_tree_node(a, self.node_id)
        return node.ref if node is not None else None

    def action_reload(self) -> None:
        self.fetch = None
        live = self.cd_app.source.live
        self.query_one("#timeline-status", Static).update(Text(
            "Reading the cert-manager controller's log…" if live else "", style="dim"))
        self._read()

    @work(thread=True, group="timeline", exclusive=True, exit_on_error=False,
          description="read controller log")
    def _read(self) -> None:
        try:
            fetch = self.cd_app.source.controller_logs()
        except Exception as e:  # one line on screen, never a crash
            from kubectl_certdoctor.cluster.podlogs import LogFetch

            fetch = LogFetch([], [f"could not read the controller log: {e}"])
        self._ui(self._arrived, fetch)

    def _arrived(self, fetch: LogFetch) -> None:
        self.fetch = fetch
        self._show_timeline()

    def _show_timeline(self) -> None:
        a = self.cd_app.analysis
        ref = self._ref()
        if a is None or ref is None:
            return
        fetch = self.fetch
        lines = [(log.pod, ln) for log in fetch.logs for ln in log.lines] if fetch else []
        self.entries = build_timeline(ref, lines, a.graph.events_for(ref), a.now)
        if fetch is not None:
            self.query_one("#timeline-status", Static).update(self._status(fetch))
        table = self.query_one("#timeline", Static)
        if not self.entries:
            table.update(Text("Nothing mentions this object yet: no Events (they expire "
                              "after an hour by default) and no controller log line.",
                              style="dim"))
            return
        t = Table(show_edge=False, pad_edge=False, expand=True)
        t.add_column("Time (UTC)", no_wrap=True, style="dim")
        t.add_column("", no_wrap=True)
        t.add_column("From", no_wrap=True, style="dim", max_width=28)
        t.add_column("Line", overflow="fold", ratio=1)
        for e in self.entries:
            when = e.when.strftime("%m-%d %H:%M:%S") if e.when else "-"
            kind = Text("event" if e.source == "event" else "log",
                        style=sty("yellow") if e.warning else sty("green"))
            t.add_row(when, kind, e.origin, Text(e.text, style=sty("yellow")
                                                 if e.warning else ""))
        table.update(t)

    def _status(self, fetch: LogFetch) -> Text:
        out = Text()
        nlines = sum(len(log.lines) for log in fetch.logs)
        if fetch.logs:
            pods = ", ".join(log.pod for log in fetch.logs)
            logs = sum(1 for e in self.entries if e.source == "log")
            out.append(f"{logs} of {nlines} log lines from {pods} mention it"
                       + (f" ({fetch.bounds})" if fetch.bounds else ""), style="dim")
            if any(log.truncated for log in fetch.logs):
                out.append("; the byte limit cut older lines", style="dim")
        for p in fetch.problems:
            if out:
                out.append("\n")
            out.append(p, style=sty("yellow"))
        return out

    def restyle(self) -> None:
        self._show_timeline()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_scroll(self, delta: int) -> None:
        self.query_one("#timeline-scroll", VerticalScroll).scroll_relative(y=delta,
                                                                          animate=False)
