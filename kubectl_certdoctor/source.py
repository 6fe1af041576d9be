"""Where the UI gets its objects from: a live cluster or a file, behind one interface.

The Textual app never talks to the Kubernetes API: it reads ``DataSource.snapshot()``
(an ``ObjectSet``) and ``states()`` from a worker thread, and is told about changes
through ``subscribe``. That keeps the UI loop free of IO and lets the same screens
run on a bundle, on the demo scenarios and on a live cluster.

- ``StaticSource``: a bundle (``--from-file``) or the demo (``--demo``). Read-only,
  never touches a network; ``refresh()`` re-reads the file (the demo is re-shifted
  to "now").
- ``LiveSource``: a ``cluster.store.Store`` over a ``Connection`` (LIST+WATCH per kind
  in background threads). Read-only when ``--read-only`` was given.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kubectl_certdoctor.errors import UsageError
from kubectl_certdoctor.kinds import BY_NAME, BY_WATCH, SourceState
from kubectl_certdoctor.objects import ObjectSet

if TYPE_CHECKING:
    from kubectl_certdoctor.cluster.connection import Connection
    from kubectl_certdoctor.cluster.podlogs import LogFetch
    from kubectl_certdoctor.cluster.store import Store
    from kubectl_certdoctor.fixes.model import FixPlan
    from kubectl_certdoctor.options import Options

Callback = Callable[[str], None]
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class DataSource(ABC):
    """What the app consumes. Every method may be called from any thread."""

    #: True for a cluster (changes arrive by themselves), False for a file or the demo
    live: bool = False
    #: mutations (fixes, debug pods) are unbound when True
    read_only: bool = True
    #: kubeconfig context, or the context recorded in a bundle
    context: str = ""
    #: namespace the data is scoped to (None: all namespaces)
    namespace: str | None = None
    #: a short description for the header: "live", "bundle: x.yaml", "demo"
    origin: str = ""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[Callback] = []

    @abstractmethod
    def snapshot(self) -> ObjectSet:
        """A consistent copy of every object (cheap: called on every rebuild)."""

    def states(self) -> dict[str, SourceState]:
        """Per-kind connection state (empty for offline sources)."""
        return {}

    def subscribe(self, cb: Callback) -> Callable[[], None]:
        """``cb(kind)`` is called from a background thread after each change."""
        with self._lock:
            self._callbacks.append(cb)

        def unsubscribe() -> None:
            with self._lock:
                if cb in self._callbacks:
                    self._callbacks.remove(cb)
        return unsubscribe

    def start(self) -> None:  # noqa: B027  (optional hook)
        """Begin producing data (threads for live; nothing for static sources)."""

    def stop(self) -> None:  # noqa: B027  (optional hook)
        """Stop background work; must return quickly."""

    def refresh(self) -> None:  # noqa: B027  (optional hook)
        """Re-read everything (relist / reload the file)."""

    def controller_logs(self) -> LogFetch:
        """The cert-manager controller's bounded log for the timeline (blocking: call from a
        worker). Offline sources never touch a network: a bundle or the demo carries no
        log, so the timeline shows its Events and says why."""
        from kubectl_certdoctor.cluster.podlogs import LogFetch

        what = "the demo" if getattr(self, "demo", None) is not None else "a bundle"
        return LogFetch([], [f"controller logs need a live cluster; {what} carries none: "
                             "only the recorded Events are shown"])

    def _notify(self, kind: str) -> None:
        with self._lock:
            cbs = list(self._callbacks)
        for cb in cbs:
            cb(kind)


class StaticSource(DataSource):
    """A bundle file or the demo scenarios: read-only, offline, never a network call."""

    live = False
    read_only = True

    def __init__(self, *, path: str | None = None, demo: str | None = None,
                 clock: Clock = utcnow) -> None:
        if path is None and demo is None:
            raise UsageError("a static source needs a bundle path or a demo name")
        super().__init__()
        self.path = path
        self.demo = demo
        self.clock = clock
        self._objs = self._load()
        self.context = self._objs.context or ("demo" if demo is not None else "")
        self.origin = f"bundle: {os.path.basename(path)}" if path is not None else "demo"
        #: the fixes simulated on the demo since it was (re)loaded, for the header
        self._simulated: list[str] = []

    def _load(self) -> ObjectSet:
        if self.path is not None:
            from kubectl_certdoctor.bundle import load_bundle

            return load_bundle(self.path)
        from kubectl_certdoctor import scenarios

        now = self.clock()
        return scenarios.open_demo(self.demo, now)

    @classmethod
    def of(cls, objs: ObjectSet, *, origin: str = "bundle") -> StaticSource:
        """A static source over objects already in memory (tests, a dump just taken)."""
        self = cls.__new__(cls)
        DataSource.__init__(self)
        self.path = None
        self.demo = None
        self.clock = utcnow
        self._objs = objs
        self.context = objs.context
        self.origin = origin
        self._simulated = []
        return self

    def snapshot(self) -> ObjectSet:
        return ObjectSet(objects={k: dict(v) for k, v in self._objs.objects.items()},
                         source=self._objs.source, context=self._objs.context,
                         observed_at=self._objs.observed_at, unseen=self._objs.unseen)

    def refresh(self) -> None:
        if self.path is None and self.demo is None:
            self._notify("*")
            return
        self._objs = self._load()
        self._simulated_origin(None)
        self._notify("*")

    @property
    def simulates_fixes(self) -> bool:
        """The demo applies fixes to its in-memory objects, marked SIMULATED; a bundle is
        someone's real cluster at one moment, so it keeps the preview only."""
        return self.demo is not None

    def simulate(self, plan: FixPlan) -> list[str]:
        """Apply ``plan`` to the demo's objects in memory (``fixes/simulate.py``), never
        to a cluster or a file; ``r`` reloads the scenario as it was. One line per change."""
        from kubectl_certdoctor.fixes.simulate import simulate_plan

        if not self.simulates_fixes:
            raise UsageError("only the demo simulates fixes; a bundle is preview-only")
        with self._lock:
            self._objs, lines = simulate_plan(self._objs, plan)
        self._simulated_origin(plan.fix_id)
        self._notify("*")
        return lines

    def _simulated_origin(self, fix_id: str | None) -> None:
        """The header says the demo has been changed by simulated fixes (until ``r``)."""
        base = self.origin.split(" + SIMULATED", 1)[0]
        self._simulated = [] if fix_id is None else [*self._simulated, fix_id]
        done = self._simulated
        self.origin = base + (f" + SIMULATED {', '.join(dict.fromkeys(done))}" if done else "")


class LiveSource(DataSource):
    """A live cluster: a ``Store`` (LIST+WATCH per kind) over one connection."""

    live = True

    def __init__(self, conn: Connection, namespace: str | None, *, read_only: bool = False,
                 store_factory: Callable[[Connection, str | None], Store] | None = None
                 ) -> None:
        super().__init__()
        self.conn = conn
        self.namespace = namespace or None
        self.read_only = read_only
        self.context = conn.context
        self.origin = "live"
        self._factory = store_factory or _default_store
        self._store = self._factory(conn, self.namespace)
        self._unsub = self._store.subscribe(self._notify)
        self._started = False

    @classmethod
    def connect(cls, opts: Options) -> LiveSource:
        """Connect as kubectl would (raises ClusterError with one line) and scope the store."""
        from kubectl_certdoctor.cluster.connection import connect

        conn = connect(opts)
        ns = None if opts.all_namespaces else (opts.namespace or conn.namespace or "default")
        return cls(conn, ns, read_only=opts.read_only)

    @property
    def store(self) -> Store:
        return self._store

    def start(self) -> None:
        self._started = True
        self._store.start()

    def stop(self) -> None:
        self._unsub()
        self._store.stop()

    def close(self) -> None:
        """Stop and drop the connection (used when switching contexts)."""
        self.stop()
        self.conn.close()

    def refresh(self) -> None:
        self._store.refresh()

    def snapshot(self) -> ObjectSet:
        return self._store.snapshot()

    def states(self) -> dict[str, SourceState]:
        return {k: SourceState(s.state, s.message) for k, s in self._store.states().items()}

    def controller_logs(self) -> LogFetch:
        """One bounded pods/log GET per controller Pod the store already watches."""
        from kubectl_certdoctor.cluster.podlogs import fetch_controller_logs

        states = self._store.states()
        unseen = "; ".join(f"{w}: {s.state}" for w, s in states.items()
                           if w.startswith("Pod/components") and s.state in ("forbidden",
                                                                                "error"))
        return fetch_controller_logs(self.conn, self._store.snapshot(), unseen=unseen)

    def set_namespace(self, namespace: str | None) -> None:
        """Re-scope: a new store for the namespace (None: all namespaces)."""
        namespace = namespace or None
        if namespace == self.namespace:
            return
        old, unsub = self._store, self._unsub
        unsub()
        old.stop()
        self.namespace = namespace
        self._store = self._factory(self.conn, namespace)
        self._unsub = self._store.subscribe(self._notify)
        if self._started:
            self._store.start()
        self._notify("*")


def _default_store(conn: Connection, namespace: str | None) -> Store:
    from kubectl_certdoctor.cluster.store import Store

    return Store(conn, namespace)


def connection_summary(states: dict[str, SourceState]) -> str:
    """The header's connection word: 'live', 'syncing', 'reconnecting',
    'forbidden: orders, challenges', then what the rules cannot see ('not visible:
    controller'; ``cluster/coverage.py``). Optional kinds that are absent are ignored;
    ``states`` is keyed by watch id (several watches may share a kind)."""
    if not states:
        return ""
    parts: list[str] = []
    by: dict[str, list[str]] = {}
    for watch, s in states.items():
        k = BY_WATCH.get(watch)
        if s.state == "missing" and k is not None and k.optional:
            continue
        by.setdefault(s.state, []).append(watch)
    if "reconnecting" in by:
        parts.append("reconnecting")
    elif "syncing" in by:
        parts.append("syncing")
    elif "error" in by:
        parts.append("error: " + ", ".join(_dedup(_plural(k) for k in sorted(by["error"]))))
    else:
        parts.append("live")
    if "forbidden" in by:
        parts.append("forbidden: " + ", ".join(_dedup(_plural(k)
                                                      for k in _ordered(by["forbidden"]))))
    missing = [k for k in by.get("missing", []) if not (BY_WATCH.get(k) and BY_WATCH[k].crd)]
    if missing:
        parts.append("missing: " + ", ".join(_dedup(_plural(k) for k in _ordered(missing))))
    from kubectl_certdoctor.cluster.coverage import coverage, short_form

    listed = {_plural(k) for k in by.get("forbidden", []) + by.get("error", []) + missing}
    gaps = [g for g in coverage(states, None) if g.state in ("forbidden", "error")
            and g.short not in listed]
    blind = short_form(gaps)
    if blind:
        parts.append(blind)
    return "; ".join(parts)


def _dedup(words: Any) -> list[str]:
    out: list[str] = []
    for w in words:
        if w not in out:
            out.append(w)
    return out


def cert_manager_missing(states: dict[str, SourceState]) -> bool:
    """True when the server does not serve cert-manager's Certificate CRD."""
    s = states.get("Certificate")
    return s is not None and s.state == "missing"


def _plural(kind: str) -> str:
    k = BY_WATCH.get(kind) or BY_NAME.get(kind)
    return k.plural if k is not None else kind.lower()


def _ordered(kinds: list[str]) -> list[str]:
    order = list(BY_WATCH)
    return sorted(kinds, key=lambda k: order.index(k) if k in order else len(order))
