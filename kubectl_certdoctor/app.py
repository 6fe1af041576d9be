"""The Textual application: one data source, one analysis, screens that show it.

Design notes
- The UI never does IO. The source's own threads (or nothing, for a file) produce
  objects; a change sets ``_dirty`` and posts one ``Wake`` message (coalesced: none
  while one is pending), so an idle app has no timer running but the 30 s clock. On the
  UI loop, a wake starts one thread worker (group ``analyse``) that snapshots the source
  and brings the analysis up to date (``analysis.Analyser``: only the Certificate chains
  that changed are linked and judged again) — or a one-shot timer for when the next pass
  may start; the result is applied on the UI thread, which then looks again. Bursts of
  watch events therefore cost one pass, a pass never overlaps another, and the next one
  waits at least as long as the last one took (at least ``MIN_PASS_GAP``). ``r`` and any
  change of scope ask for a full analysis; the 30 s clock tick re-judges every chain at
  the new time in batches ("next retry in 43m").
- ``clock`` is injectable so snapshot tests render the same ages every run.
- Context switches connect in a worker (group ``connect``) and swap sources only when
  the new connection works; the old store is stopped afterwards.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import threading
import time
from datetime import datetime
from typing import Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.timer import Timer

from kubectl_certdoctor.analysis import Analyser, Analysis
from kubectl_certdoctor.errors import CertdoctorError
from kubectl_certdoctor.heap import HeapKeeper
from kubectl_certdoctor.options import Options
from kubectl_certdoctor.source import Clock, DataSource, LiveSource, connection_summary, utcnow
from kubectl_certdoctor.widgets.header import StatusHeader, header_text
from kubectl_certdoctor.widgets.view import ViewFilter


def _screen(module: str, name: str) -> Any:
    """A screen class from ``kubectl_certdoctor.screens`` (the top-level ``screens/`` dir,
    mapped by setuptools; imported lazily so ``--help`` stays fast and mypy, which checks
    ``screens`` as its own package, is not asked to resolve the mapping)."""
    return getattr(importlib.import_module(f"kubectl_certdoctor.screens.{module}"), name)


#: the shortest pause between two passes: a pass never starts sooner after the last one
#: than that pass took in CPU time (the analysis uses at most half a core; a live pass at
#: 10,000 Certificates costs a few ms, so this floor decides) nor sooner than this
MIN_PASS_GAP = 0.025
#: the longest pause between two passes, however long the last one took
MAX_PASS_GAP = 0.5
CLOCK_TICK = 30.0


class CertDoctorApp(App[int]):
    """``kubectl certdoctor``'s TUI."""

    CSS_PATH = "app.tcss"
    TITLE = "kubectl certdoctor"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.quit"),
    ]

    def __init__(self, source: DataSource, *, clock: Clock | None = None,
                 opts: Options | None = None, keymap_file: str | None = None) -> None:
        super().__init__()
        #: the keymap file read at start (None: ``keymap.keymap_path()``)
        self.keymap_file = keymap_file
        #: binding id → keys from the keymap file (what ``set_keymap`` was given)
        self.user_keymap: dict[str, str] = {}
        self.source = source
        self.opts = opts or Options()
        self._fixed_clock = clock is not None
        self.clock: Clock = clock or utcnow
        self.analysis: Analysis | None = None
        #: bumped every time a new analysis is shown (tests wait on it)
        self.generation = 0
        self._dirty = True
        #: the next pass recomputes everything (clock tick, refresh, new scope)
        self._full = True
        self._analyser = Analyser()
        self._heap = HeapKeeper()
        self._building = False
        self._next_pass = 0.0
        #: a Wake message is on its way to the UI loop (set from any thread)
        self._wake_posted = False
        self._wake_lock = threading.Lock()
        self._pass_timer: Timer | None = None
        self._pass_seconds = 0.0
        self._unsubscribe = source.subscribe(self._on_source_change)
        self._switching = False
        #: the user accepted debug pods once this session (the first probe that needs one
        #: asks, naming context and namespace)
        self.pods_confirmed = False

    # -- lifecycle -----------------------------------------------------------------------

    def on_mount(self) -> None:
        TreeScreen = _screen("tree", "TreeScreen")

        from kubectl_certdoctor.widgets import palette

        if self.opts.theme:
            if self.opts.theme in self.available_themes:
                self.theme = self.opts.theme
            else:
                self.notify(f"unknown theme {self.opts.theme!r}; themes: "
                            + ", ".join(sorted(self.available_themes)), severity="warning",
                            timeout=8)
        palette.use_theme(self.get_css_variables())
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self._load_keymap()

        self.push_screen(TreeScreen())
        self.source.start()
        if not self._fixed_clock:
            self.set_interval(CLOCK_TICK, self._time_moved)
        self._consider()

    def _load_keymap(self) -> None:
        """Remap bindings by id from the keymap file (see ``keymap.py``); problems are
        shown, never fatal."""
        from pathlib import Path

        from kubectl_certdoctor.keymap import keymap_path, load_keymap

        path = Path(self.keymap_file) if self.keymap_file else keymap_path()
        keymap, problems = load_keymap(path, all_binding_ids())
        self.user_keymap = keymap
        if keymap:
            self.set_keymap(keymap)
        for p in problems:
            self.notify(p, title="keymap", severity="warning", timeout=10)

    def _theme_changed(self, theme: object) -> None:
        """Another Textual theme (ctrl+p is off; ``theme`` in the config file, or a test):
        rebuild the Rich styles from it and re-render what shows them."""
        from kubectl_certdoctor.widgets import palette

        if not palette.use_theme(self.get_css_variables()):
            return
        ts = self.tree_screen
        if ts is not None:
            ts.cert_tree.restyle()
        for s in self.screen_stack:
            restyle = getattr(s, "restyle", None)
            if callable(restyle):
                restyle()
        self.refresh_header()

    def on_resize(self, event: object) -> None:
        self.refresh_header()

    def on_unmount(self) -> None:
        self._unsubscribe()
        self.source.stop()
        self._heap.release()

    @property
    def tree_screen(self) -> Any:  # TreeScreen | None
        TreeScreen = _screen("tree", "TreeScreen")

        for s in self.screen_stack:
            if isinstance(s, TreeScreen):
                return s
        return None

    async def action_quit(self) -> None:
        """q / ctrl+c / :q — exit status 0 (the terminal is restored by Textual)."""
        self.exit(0)

    # -- data flow -----------------------------------------------------------------------

    class Wake(Message):
        """The source changed: look for a pass to start (posted from its threads)."""

    def _on_source_change(self, kind: str) -> None:
        """Called from the source's threads: flag, and wake the UI loop once."""
        self._dirty = True
        with self._wake_lock:
            if self._wake_posted:
                return
            self._wake_posted = True
        with contextlib.suppress(RuntimeError):  # the loop is gone: shutting down
            self.post_message(self.Wake())

    def on_cert_doctor_app_wake(self, _: CertDoctorApp.Wake) -> None:
        with self._wake_lock:
            self._wake_posted = False
        self._consider()

    def _mark_full(self) -> None:
        """Ask for a full analysis (from the UI loop or a worker thread)."""
        self._full = True
        self._on_source_change("*")

    def _time_moved(self) -> None:
        """Re-judge every chain at the new time, a batch per pass (``Analyser``)."""
        self._analyser.refresh_time()
        self._dirty = True
        self._consider()

    def _consider(self) -> None:
        """On the UI loop: start a pass if one is due, else a timer for when it may start."""
        if self._building or not (self._dirty or self._analyser.refreshing):
            return
        wait = self._next_pass - time.monotonic()
        if wait > 0:
            if self._pass_timer is None:
                self._pass_timer = self.set_timer(wait, self._pass_due)
            return
        self._dirty = False
        self._building = True
        self._rebuild()

    def _pass_due(self) -> None:
        self._pass_timer = None
        self._consider()

    @work(thread=True, group="analyse", exit_on_error=False, description="rebuild graph")
    def _rebuild(self) -> None:
        try:
            # the pass's own CPU time, not its wall time: with the GIL shared with the UI
            # thread and other processes on the cores, wall time counts their work too
            t0 = time.thread_time()
            full, self._full = self._full, False
            objs = self.source.snapshot()
            states = self.source.states()
            now = objs.observed_at if objs.observed_at and not self._fixed_clock \
                else self.clock()
            a = self._analyser.update(objs, states, now, full=full)
            self._pass_seconds = time.thread_time() - t0
        except Exception as e:  # shown, never fatal: the next change retries
            self._from_thread(self._failed, e)
            return
        self._from_thread(self._apply, a)

    def _from_thread(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            self.call_from_thread(fn, *args, **kwargs)

    def _failed(self, e: Exception) -> None:
        self._building = False
        self._next_pass = time.monotonic() + MAX_PASS_GAP
        self.notify(f"could not analyse the cluster: {type(e).__name__}: {e}",
                    severity="error", timeout=8)
        self._consider()

    def _apply(self, a: Analysis) -> None:
        self._building = False
        gap = max(MIN_PASS_GAP, min(self._pass_seconds, MAX_PASS_GAP))
        self._next_pass = time.monotonic() + gap
        # whatever arrived during this pass: a timer for the next one (after the redraw)
        self.call_later(self._consider)
        self.analysis = a
        self.generation += 1
        DetailScreen = _screen("detail", "DetailScreen")

        ts = self.tree_screen
        if ts is not None:
            ts.show_analysis(a)
        for s in self.screen_stack:
            if isinstance(s, DetailScreen):
                s.show_analysis(a)
        self.refresh_header()
        if self.opts.focus and ts is not None:
            self._open_focus(a)
        if self.source.live:
            self._heap.settled()  # see heap.py: no collector pauses during a watch storm

    def _open_focus(self, a: Analysis) -> None:
        """``kubectl certdoctor certificate/NAME``: once the Certificate is known, reveal it
        and open its detail (its chain, findings and what blocks it) — once; once every kind
        has listed and it still is not there, say so."""
        name = self.opts.focus
        ns = self.opts.namespace or getattr(self.source, "namespace", None)
        found = [n for n in a.graph.of_kind("Certificate") if n.ref.name == name
                 and (not ns or n.ref.namespace == ns)]
        if found:
            self.opts.focus = None
            self._reveal(found[0].id)
            self.open_detail(found[0].id)
        elif all(st.state != "syncing" for st in a.states.values()):
            self.opts.focus = None
            where = f" in namespace {ns}" if ns else ""
            self.notify(f"Certificate {name} not found{where}", severity="warning", timeout=8)

    def refresh_header(self) -> None:
        ts = self.tree_screen
        flt = ts.flt if ts is not None else ViewFilter()
        src = self.source
        states = self.analysis.states if self.analysis is not None else src.states()
        conn = connection_summary(states) if src.live else ""
        if self._switching:
            conn = "switching context…"
        text = header_text(
            context=src.context, namespace=flt.namespace or src.namespace,
            connection=conn, analysis=self.analysis, live=src.live,
            read_only=src.read_only, origin=src.origin, flt=flt,
            compact=self.size.width < 120)
        for s in self.screen_stack:
            for h in s.query(StatusHeader):
                h.show(text)

    def refresh_source(self) -> None:
        """r: relist (live) or re-read the file, in a worker: never IO on the UI loop."""
        self.notify("refreshing…", timeout=1.5)
        self._refresh_worker()

    @work(thread=True, group="refresh", exclusive=True, exit_on_error=False,
          description="refresh source")
    def _refresh_worker(self) -> None:
        try:
            self.source.refresh()
        except CertdoctorError as e:
            self._from_thread(self.notify, str(e), severity="error", timeout=8)
        self._mark_full()

    # -- navigation ----------------------------------------------------------------------

    def open_detail(self, node_id: str, tab: str = "describe") -> None:
        DetailScreen = _screen("detail", "DetailScreen")

        self.push_screen(DetailScreen(node_id, tab))

    def open_timeline(self, node_id: str) -> None:
        """l: controller log lines + Events of one node (read in the screen's worker)."""
        self.push_screen(_screen("timeline", "TimelineScreen")(node_id))

    def open_findings(self) -> None:
        FindingsScreen = _screen("findings", "FindingsScreen")

        findings = self.analysis.findings if self.analysis is not None else []
        self.push_screen(FindingsScreen(findings), self._reveal)

    def _reveal(self, node_id: str | None) -> None:
        ts = self.tree_screen
        if node_id is None or ts is None:
            return
        a = self.analysis
        if a is not None and node_id not in a.graph.nodes:
            # not a tree object (e.g. the controller Deployment): open its detail instead
            self.open_detail(node_id)
            return
        if not ts.cert_tree.reveal(node_id):
            # hidden by a filter: clear it, then try again
            ts.set_filter(ViewFilter(namespace=ts.flt.namespace))
            if not ts.cert_tree.reveal(node_id):
                self.notify(f"{node_id} is not in the tree", severity="warning")

    def action_help(self) -> None:
        DetailScreen = _screen("detail", "DetailScreen")
        FindingsScreen = _screen("findings", "FindingsScreen")
        HelpScreen = _screen("help", "HelpScreen")
        TreeScreen = _screen("tree", "TreeScreen")
        from kubectl_certdoctor.widgets.certtree import CertTree

        tree_keys = [*CertTree.BINDINGS, Binding("down", "", "Move down"),
                     Binding("up", "", "Move up"), *TreeScreen.BINDINGS,
                     Binding("space", "", "Toggle expand"), Binding("ctrl+c", "", "Quit")]
        if not self.source.live:
            tree_keys = [b for b in tree_keys
                         if not (isinstance(b, Binding) and b.action == "context")]
        story = None
        demo = getattr(self.source, "demo", None)
        if demo is not None:
            from rich.text import Text

            from kubectl_certdoctor import scenarios

            if demo in scenarios.names():
                i = scenarios.info(demo)
                story = Text.assemble(("Demo scenario " + demo + ": ", "bold"),
                                      (i.title + "\n", "bold"), i.story)
        keymap = self.user_keymap

        def mapped(bs: list[Any]) -> list[Any]:
            return [dataclasses.replace(b, key=keymap[b.id])
                    if isinstance(b, Binding) and b.id in keymap else b for b in bs]

        self.push_screen(HelpScreen([
            ("Tree", mapped(tree_keys)),
            ("Detail (enter / d)", [
                *mapped(DetailScreen.BINDINGS[:7]),
                Binding("1-9", "", "Run the numbered probe/fix of a finding")]),
            ("Findings (f)", mapped(list(FindingsScreen.BINDINGS))),
            ("Timeline (l)", mapped(list(_screen("timeline", "TimelineScreen").BINDINGS))),
            ("Probe (a probe's number on the detail screen)",
             mapped(list(_screen("probe", "ProbeScreen").BINDINGS))),
            *([] if self.opts.read_only or (self.source.live and self.source.read_only) else
              [("Fix (a fix's number on the detail screen)",
                mapped(list(_screen("fix", "FixScreen").BINDINGS)))]),
        ], story))

    def on_detail_screen_action_requested(self, message: Any) -> None:
        """A probe/fix key on the detail screen: open the probe or fix screen for the
        finding's object (they grey out / preview-only what cannot run, with the reason)."""
        act = message.action
        ref = act.finding.object
        if act.kind == "probe":
            self.push_screen(_screen("probe", "ProbeScreen")(act.id, ref))
        elif act.kind == "fix":
            if self.opts.read_only or (self.source.live and self.source.read_only):
                return  # fixes are hidden in read-only mode; never reachable by a key
            self.push_screen(_screen("fix", "FixScreen")(act.id, ref))

    # -- scope: namespace and context ----------------------------------------------------

    def pick_namespace(self) -> None:
        PickScreen = _screen("picker", "PickScreen")

        ts = self.tree_screen
        names = self.analysis.namespaces() if self.analysis is not None else []
        if self.source.namespace and self.source.namespace not in names:
            names = sorted([*names, self.source.namespace])
        choices = [("all namespaces", ""), *[(n, n) for n in names]]
        current = (ts.flt.namespace if ts is not None else None) or self.source.namespace or ""
        self.push_screen(PickScreen("Namespace", choices, current),
                         lambda v: None if v is None else self.set_namespace(v or None))

    def unknown_namespace(self, ns: str | None) -> str:
        """Why ``:ns NAME`` is refused ('' when it is fine): a namespace that holds no
        cert-manager object, while the whole cluster is in view (a store scoped to one
        namespace cannot know the others, so it is re-scoped and the header tells)."""
        a = self.analysis
        if ns is None or a is None:
            return ""
        if self.source.live and self.source.namespace is not None:
            return ""
        known = a.namespaces()
        if ns in known:
            return ""
        some = ", ".join(known[:6]) + (" …" if len(known) > 6 else "")
        return f"no namespace {ns!r} holds cert-manager objects (known: {some or 'none'})"

    def set_namespace(self, ns: str | None) -> None:
        """Narrow the view; a live store scoped to another namespace is re-scoped."""
        ts = self.tree_screen
        src = self.source
        if isinstance(src, LiveSource) and src.namespace is not None and ns != src.namespace:
            self._rescope(src, ns)
        if ts is not None:
            ts.set_filter(dataclasses.replace(ts.flt, namespace=ns))

    @work(thread=True, group="rescope", exit_on_error=False, description="re-scope store")
    def _rescope(self, src: LiveSource, ns: str | None) -> None:
        src.set_namespace(ns)
        self._mark_full()

    def pick_context(self) -> None:
        if not self.source.live:
            self.notify("context switching needs a live cluster", severity="warning")
            return
        self._list_contexts()

    @work(thread=True, group="contexts", exit_on_error=False, description="read kubeconfig")
    def _list_contexts(self) -> None:
        names = kubeconfig_contexts(self.opts)
        self._from_thread(self._show_contexts, names)

    def _show_contexts(self, names: list[str]) -> None:
        PickScreen = _screen("picker", "PickScreen")

        if not names:
            self.notify("no contexts in the kubeconfig", severity="warning")
            return
        self.push_screen(PickScreen("Context", [(n, n) for n in names], self.source.context),
                         lambda v: None if not v else self.switch_context(v))

    def switch_context(self, context: str) -> None:
        if not self.source.live:
            self.notify("context switching needs a live cluster", severity="warning")
            return
        if context == self.source.context:
            return
        self._switching = True
        self.refresh_header()
        self._connect(context)

    @work(thread=True, group="connect", exclusive=True, exit_on_error=False,
          description="connect to context")
    def _connect(self, context: str) -> None:
        opts = dataclasses.replace(self.opts, context=context, namespace=None)
        known = kubeconfig_contexts(self.opts)
        if known and context not in known:
            self._from_thread(self._switch_failed,
                              f"no context {context!r} in the kubeconfig (contexts: "
                              f"{', '.join(known[:6])}{' …' if len(known) > 6 else ''})")
            return
        try:
            new = LiveSource.connect(opts)
        except CertdoctorError as e:
            self._from_thread(self._switch_failed, str(e))
            return
        self._from_thread(self._swap, new, opts)

    def _switch_failed(self, msg: str) -> None:
        self._switching = False
        self.refresh_header()
        self.notify(msg, title="context switch failed", severity="error", timeout=8)

    def _swap(self, new: LiveSource, opts: Options) -> None:
        old = self.source
        self._unsubscribe()
        self.source = new
        self.opts = opts
        self._unsubscribe = new.subscribe(self._on_source_change)
        new.start()
        self._switching = False
        self._mark_full()
        ts = self.tree_screen
        if ts is not None:
            ts.new_source()
        self._stop_old(old)
        self.notify(f"switched to context {new.context}", timeout=3)

    @work(thread=True, group="stop-old", exit_on_error=False, description="stop old source")
    def _stop_old(self, old: DataSource) -> None:
        if isinstance(old, LiveSource):
            old.close()
        else:
            old.stop()


def all_binding_ids() -> set[str]:
    """Every binding id the keymap file may name."""
    from kubectl_certdoctor.widgets.certtree import CertTree

    ids: set[str] = {b.id for b in CertDoctorApp.BINDINGS if isinstance(b, Binding) and b.id}
    for module, name in (("tree", "TreeScreen"), ("detail", "DetailScreen"),
                         ("findings", "FindingsScreen"), ("probe", "ProbeScreen"),
                         ("fix", "FixScreen"), ("help", "HelpScreen"),
                         ("timeline", "TimelineScreen"),
                         ("picker", "PickScreen"), ("confirm", "ConfirmScreen"),
                         ("confirm", "PodConfirmScreen")):
        ids |= {b.id for b in _screen(module, name).BINDINGS if isinstance(b, Binding) and b.id}
    ids |= {b.id for b in CertTree.BINDINGS if isinstance(b, Binding) and b.id}
    return ids


def kubeconfig_contexts(opts: Options) -> list[str]:
    """Context names from the kubeconfig files kubectl would read (first file wins)."""
    import os

    import yaml

    from kubectl_certdoctor.cluster.connection import kubeconfig_paths

    out: list[str] = []
    for p in kubeconfig_paths(opts):
        try:
            with open(p, encoding="utf-8") as f:
                doc = yaml.safe_load(f)
        except (OSError, yaml.YAMLError):
            continue
        if not isinstance(doc, dict) or not os.path.isfile(p):
            continue
        for c in doc.get("contexts") or []:
            if isinstance(c, dict) and isinstance(c.get("name"), str) and c["name"] not in out:
                out.append(c["name"])
    return out


def demo_clock(now: datetime) -> Clock:
    """A fixed clock (snapshot tests, screenshots)."""
    return lambda: now
