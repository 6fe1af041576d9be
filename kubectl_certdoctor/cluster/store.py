"""The live store: every watched object of the cluster, kept current by one watcher per kind.

Cost does not grow with the number of objects: one LIST then one long WATCH per kind
(see ``watch.py``), never a request per object; ``request_count`` proves it.

Objects are sanitised before they are stored (``redact.sanitize``; Secrets are first
cut down to ``tls.crt``/``ca.crt`` here), and are replaced, never mutated, so
``snapshot()`` only has to copy the two dict levels under the lock to hand the UI a
consistent ``ObjectSet``.

Secrets: all are listed once, and only those that Certificates/Issuers point at or
that cert-manager annotated are kept. The Secret watcher starts after those kinds
have listed; when a newly seen reference names a Secret that was dropped earlier
(only names of dropped Secrets are remembered), the Secrets are relisted
(coalesced, at most once a second).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubectl_certdoctor.cluster import secretrefs
from kubectl_certdoctor.cluster.changelog import ChangeLog, Changes
from kubectl_certdoctor.cluster.watch import KindWatcher
from kubectl_certdoctor.kinds import ALL_KINDS, Kind
from kubectl_certdoctor.objects import Obj, ObjectSet, dig, name, namespace, text

if TYPE_CHECKING:
    from kubectl_certdoctor.cluster.connection import Connection

log = logging.getLogger(__name__)

#: states in which a kind has given its first answer (``synced`` waits for these)
SETTLED = frozenset({"live", "forbidden", "missing", "error"})
_REF_KINDS = frozenset({"Certificate", "Issuer", "ClusterIssuer"})
_RELIST_MIN_INTERVAL = 1.0

Key = tuple[str, str]


@dataclass(frozen=True)
class KindState:
    """Where one kind's watch stands: syncing, live, reconnecting, forbidden, missing, error."""

    state: str
    message: str = ""
    #: time.monotonic() of the change
    since: float = 0.0

    def __str__(self) -> str:
        return f"{self.state}: {self.message}" if self.message else self.state


class Store:
    """Live, sanitised copies of the watched kinds (``namespace=None``: all namespaces)."""

    def __init__(self, conn: Connection, namespace: str | None,
                 kinds: Iterable[Kind] = ALL_KINDS, *, watch_timeout: float = 45.0,
                 retry_interval: float = 60.0) -> None:
        from kubectl_certdoctor.redact import sanitize

        self.conn = conn
        self.namespace = namespace or None
        self.kinds: tuple[Kind, ...] = tuple(kinds)
        self.watch_timeout = watch_timeout
        self.retry_interval = retry_interval
        self.synced = threading.Event()
        self.generation = 0
        self.request_count = 0
        #: (kind name, "list" | "watch") → requests sent
        self.requests: Counter[tuple[str, str]] = Counter()
        self._sanitize: Callable[[Obj], Obj] = sanitize
        self._lock = threading.RLock()
        self._objects: dict[str, dict[Key, Obj]] = {k.name: {} for k in self.kinds}
        self._log = ChangeLog()
        self._states: dict[str, KindState] = {
            k.name: KindState("syncing", since=time.monotonic()) for k in self.kinds}
        self._callbacks: list[Callable[[str], None]] = []
        self._stopped = threading.Event()
        self._watchers: dict[str, KindWatcher] = {}
        # Secret references: per referencing object, and how many objects name each Secret
        self._refs_by_obj: dict[tuple[str, str, str], frozenset[Key]] = {}
        self._ref_counts: Counter[Key] = Counter()
        #: names (never contents) of Secrets seen and dropped: a new reference to one of
        #: them means the Secrets must be listed again
        self._dropped_secrets: set[Key] = set()
        self._refs_ready = threading.Event()
        self._last_secret_relist = 0.0
        self._relist_timer: threading.Timer | None = None
        self._started = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start one watcher thread per kind (returns at once; see ``synced``)."""
        if self._started:
            return
        self._started = True
        if not any(k.name in _REF_KINDS for k in self.kinds):
            self._refs_ready.set()
        for k in self.kinds:
            before = self._wait_for_refs if k.name == "Secret" else None
            w = KindWatcher(self.conn, k, self.namespace, self, watch_timeout=self.watch_timeout,
                            retry_interval=self.retry_interval, stopped=self._stopped,
                            before_first_list=before)
            self._watchers[k.name] = w
        for w in self._watchers.values():
            w.start()

    def stop(self, timeout: float = 2.0) -> None:
        """End every watcher: sockets are shut down, so this takes milliseconds."""
        self._stopped.set()
        self._refs_ready.set()
        if self._relist_timer is not None:
            self._relist_timer.cancel()
        for w in self._watchers.values():
            w.wake()
            w.interrupt()
        deadline = time.monotonic() + timeout
        for w in self._watchers.values():
            w.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Store:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True while any watcher thread is alive."""
        return any(w.is_alive() for w in self._watchers.values())

    def refresh(self) -> None:
        """Relist every kind now (also retries forbidden/missing kinds at once)."""
        for w in self._watchers.values():
            w.request_relist()

    def wait_synced(self, timeout: float | None = None) -> bool:
        return self.synced.wait(timeout)

    # -- reading -----------------------------------------------------------------------------

    def snapshot(self) -> ObjectSet:
        """A consistent copy: later changes to the store never show in it."""
        with self._lock:
            objs = {k: dict(v) for k, v in self._objects.items() if v}
            gen = self.generation
        return ObjectSet(objects=objs, source="live", context=self.conn.context,
                         generation=gen, changelog=self)

    def changes(self, since: int, until: int) -> Changes | None:
        """What changed between two snapshots' generations (None: compare everything)."""
        with self._lock:
            return self._log.between(since, until)

    def states(self) -> dict[str, KindState]:
        with self._lock:
            return dict(self._states)

    def state(self, kind: str) -> KindState:
        with self._lock:
            return self._states.get(kind, KindState("missing", "not watched"))

    def subscribe(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """``callback(kind_name)`` runs in a watcher thread after every change of objects or
        state; it must be quick (post a message, set a flag). Returns an unsubscribe."""
        with self._lock:
            self._callbacks.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)
        return unsubscribe

    # -- the Sink the watchers report to ------------------------------------------------

    def count_request(self, kind: Kind, verb: str) -> None:
        with self._lock:
            self.request_count += 1
            self.requests[(kind.name, verb)] += 1

    def replace(self, kind: Kind, objs: list[Obj]) -> None:
        fresh: dict[Key, Obj] = {}
        dropped: set[Key] = set()
        if kind.name in _REF_KINDS:
            # references first, so the Secret filter of this very list can see them
            self._replace_refs(kind.name, objs)
        for raw in objs:
            o = self._accept(kind, raw)
            if o is not None:
                fresh[(namespace(o), name(o))] = o
            elif kind.name == "Secret":
                dropped.add((namespace(raw), name(raw)))
        late: set[Key] = set()
        with self._lock:
            self._objects[kind.name] = fresh
            if kind.name == "Secret":
                self._dropped_secrets = dropped
                # a reference that arrived while this list was being filtered
                late = {k for k in dropped if self._referenced(k)}
            self.generation += 1
            self._log.record(self.generation, kind.name, None)
        self._maybe_relist_secrets(late)
        self._notify(kind.name)

    def put(self, kind: Kind, obj: Obj) -> None:
        if kind.name in _REF_KINDS:
            self._update_refs(kind.name, obj, secretrefs.refs_of(kind.name, obj))
        o = self._accept(kind, obj)
        key = (namespace(obj), name(obj))
        with self._lock:
            per = self._objects.setdefault(kind.name, {})
            late = o is None and kind.name == "Secret" and self._referenced(key)
            if o is None:
                if kind.name == "Secret":
                    self._dropped_secrets.add(key)
                if per.pop(key, None) is None and not late:
                    return
            else:
                per[key] = o
            self.generation += 1
            self._log.record(self.generation, kind.name, key)
        if late:
            self._maybe_relist_secrets({key})
        self._notify(kind.name)

    def delete(self, kind: Kind, obj: Obj) -> None:
        if kind.name in _REF_KINDS:
            self._update_refs(kind.name, obj, frozenset())
        with self._lock:
            if kind.name == "Secret":
                self._dropped_secrets.discard((namespace(obj), name(obj)))
            key = (namespace(obj), name(obj))
            if self._objects.get(kind.name, {}).pop(key, None) is None:
                return
            self.generation += 1
            self._log.record(self.generation, kind.name, key)
        self._notify(kind.name)

    def set_state(self, kind: Kind, state: str, message: str = "") -> None:
        with self._lock:
            old = self._states.get(kind.name)
            if old is not None and old.state == state and old.message == message:
                return
            self._states[kind.name] = KindState(state, message, time.monotonic())
            if state in ("forbidden", "missing") and self._objects.get(kind.name):
                self._objects[kind.name] = {}
            self.generation += 1
            self._log.record(self.generation, kind.name, None)
            settled = all(s.state in SETTLED for s in self._states.values())
            refs_settled = all(s.state in SETTLED for k, s in self._states.items()
                               if k in _REF_KINDS)
        if refs_settled:
            self._refs_ready.set()
        if settled:
            self.synced.set()
        self._notify(kind.name)

    # -- internals -----------------------------------------------------------------------

    def _accept(self, kind: Kind, obj: Obj) -> Obj | None:
        """What of an object may be kept: Secrets cut down first (the private key never
        survives this line), unrelated Secrets and Events dropped, then redaction."""
        if kind.name == "Secret":
            obj = secretrefs.strip_secret(obj)
            with self._lock:
                wanted = secretrefs.is_wanted(obj, self._ref_counts)
            if not wanted:
                return None
        elif kind.name == "Event":
            involved = text(dig(obj, "involvedObject", "kind")) or text(dig(obj, "regarding",
                                                                              "kind"))
            if involved and involved not in self._objects:
                return None
        return self._sanitize(obj)

    def _referenced(self, key: Key) -> bool:
        """(lock held) Does any Certificate/Issuer point at this Secret now?"""
        return key in self._ref_counts or (secretrefs.ANY_NS, key[1]) in self._ref_counts

    def _replace_refs(self, kind_name: str, objs: list[Obj]) -> None:
        new: dict[tuple[str, str, str], frozenset[Key]] = {
            (kind_name, namespace(o), name(o)): secretrefs.refs_of(kind_name, o) for o in objs}
        added: set[Key] = set()
        with self._lock:
            for key in [k for k in self._refs_by_obj if k[0] == kind_name]:
                if key not in new:
                    self._ref_counts.subtract(self._refs_by_obj.pop(key))
            for key, refs in new.items():
                added |= self._set_refs_locked(key, refs)
            self._ref_counts += Counter()  # drop zero counts
        self._maybe_relist_secrets(added)

    def _update_refs(self, kind_name: str, obj: Obj, refs: frozenset[Key]) -> None:
        key = (kind_name, namespace(obj), name(obj))
        with self._lock:
            added = self._set_refs_locked(key, refs)
        self._maybe_relist_secrets(added)

    def _set_refs_locked(self, key: tuple[str, str, str], refs: frozenset[Key]) -> set[Key]:
        old = self._refs_by_obj.get(key, frozenset())
        if old == refs:
            return set()
        added = set()
        for r in refs - old:
            if self._ref_counts[r] <= 0:
                added.add(r)
            self._ref_counts[r] += 1
        for r in old - refs:
            self._ref_counts[r] -= 1
            if self._ref_counts[r] <= 0:
                del self._ref_counts[r]
        if refs:
            self._refs_by_obj[key] = refs
        else:
            self._refs_by_obj.pop(key, None)
        return added

    def _maybe_relist_secrets(self, added: set[Key]) -> None:
        """A new reference names a Secret we dropped before anything pointed at it:
        relist Secrets (coalesced). A Secret that does not exist yet needs nothing:
        its ADDED event will pass the filter."""
        if not added or "Secret" not in self._watchers or self._stopped.is_set():
            return
        with self._lock:
            dropped = self._dropped_secrets
            hit = any(r in dropped or (r[0] == secretrefs.ANY_NS
                                       and any(k[1] == r[1] for k in dropped))
                      for r in added)
            if not hit or self._relist_timer is not None:
                return
            delay = max(0.0, self._last_secret_relist + _RELIST_MIN_INTERVAL - time.monotonic())
            self._relist_timer = threading.Timer(delay, self._relist_secrets)
            self._relist_timer.daemon = True
            self._relist_timer.start()

    def _relist_secrets(self) -> None:
        with self._lock:
            self._relist_timer = None
            self._last_secret_relist = time.monotonic()
        w = self._watchers.get("Secret")
        if w is not None and not self._stopped.is_set():
            w.request_relist()

    def _wait_for_refs(self) -> None:
        """The Secret watcher's first LIST waits (bounded) for Certificates and Issuers."""
        self._refs_ready.wait(max(self.conn.request_timeout, 1.0))

    def _notify(self, kind_name: str) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for cb in callbacks:
            try:
                cb(kind_name)
            except Exception:  # never on stderr: it would tear through the TUI
                log.debug("store subscriber failed", exc_info=True)


def describe_states(states: dict[str, KindState]) -> str:
    """'live' when all are, else e.g. 'reconnecting; forbidden: Order, Challenge'."""
    by: dict[str, list[str]] = {}
    for k, s in states.items():
        by.setdefault(s.state, []).append(k)
    if set(by) <= {"live"}:
        return "live"
    parts = []
    for st in ("reconnecting", "syncing", "error", "forbidden", "missing"):
        if st in by:
            parts.append(f"{st}: {', '.join(sorted(by[st]))}")
    return "; ".join(parts)


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until it is truthy or ``timeout`` passes (for tests and scripts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
