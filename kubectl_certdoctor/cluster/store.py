"""The live store: every watched object of the cluster, kept current by one watcher per watch.

Cost does not grow with the number of objects: one (paginated) LIST then one long WATCH
per watch (see ``watch.py`` and the table in ``kinds.py``), never a request per object
— except the Secrets below; ``requests`` proves it.

A kind may have several watches (``Pod``: solver pods in the view plus cert-manager's
pods cluster-wide); each keeps its own objects and state under its watch id, and
``snapshot()`` merges them under the kind name. Objects are sanitised before they are
stored (``redact.sanitize``; cut down by the kind's ``keep``/``strip`` first), and are
replaced, never mutated, so ``snapshot()`` only has to copy the two dict levels under the
lock to hand the UI a consistent ``ObjectSet``.

Secrets: the watch is metadata only (PartialObjectMetadata), so the store knows which
Secrets exist and their annotations without receiving any data. The Secrets that
Certificates, Issuers, ClusterIssuers and CA-injected webhook configurations reference,
or that cert-manager annotated, are then fetched one GET each and cut down to
``tls.crt``/``ca.crt`` at once (``secretrefs.strip_secret``). A referenced Secret outside
the watched namespace (a ClusterIssuer's, in the cluster resource namespace; the webhook
CA) is fetched directly, without a watch, once per reference and again on ``refresh``;
when the metadata watch is forbidden, every referenced Secret is fetched like that. The
Secret watcher starts after the referencing kinds have listed, and its first LIST fetches
all referenced Secrets before it reports "live", so ``synced`` means the data is there.
``secret_problems`` keeps the GETs that were refused (for the coverage report).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubectl_certdoctor.cluster import secretrefs
from kubectl_certdoctor.cluster.changelog import ChangeLog, Changes
from kubectl_certdoctor.cluster.watch import KindWatcher
from kubectl_certdoctor.kinds import ALL_KINDS, CERT_MANAGER_KINDS, SECRET, Kind, for_view
from kubectl_certdoctor.objects import Obj, ObjectSet, dig, name, namespace, text

if TYPE_CHECKING:
    from kubectl_certdoctor.cluster.connection import Connection

log = logging.getLogger(__name__)

#: watch states whose kind's objects are unknown, not absent (``ObjectSet.unseen``):
#: a kind still on its first LIST is as unknown as a forbidden one
UNSEEN_STATES = frozenset({"syncing", "forbidden", "error"})
#: states in which a kind has given its first answer (``synced`` waits for these)
SETTLED = frozenset({"live", "forbidden", "missing", "error"})
#: watches the Secret watcher waits for: they name the Secrets to fetch
_REF_WATCHES = frozenset(secretrefs.REF_KINDS | {"Deployment", "Deployment/legacy"})
#: watches whose first LIST goes first: the tree's own kinds, and the controller's
#: Deployments (small; they name the Secrets to fetch and the version the rules need)
_FIRST_WATCHES = frozenset({k.watch for k in CERT_MANAGER_KINDS} | {"Deployment",
                                                                      "Deployment/legacy"})
_FETCH_WORKERS = 4

Key = tuple[str, str]


@dataclass(frozen=True)
class KindState:
    """Where one watch stands: syncing, live, reconnecting, forbidden, missing, error."""

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
        self.kinds: tuple[Kind, ...] = for_view(self.namespace, tuple(kinds))
        self.watch_timeout = watch_timeout
        self.retry_interval = retry_interval
        self.synced = threading.Event()
        self.generation = 0
        self.request_count = 0
        #: (watch id, "list" | "watch" | "get" | "discovery") → requests sent
        self.requests: Counter[tuple[str, str]] = Counter()
        #: (watch id, verb) → response bytes received
        self.bytes_received: Counter[tuple[str, str]] = Counter()
        #: (watch id, HTTP status) → error answers (403: forbidden requests)
        self.statuses: Counter[tuple[str, int]] = Counter()
        #: referenced Secrets whose GET was refused or failed → message
        self.secret_problems: dict[Key, str] = {}
        self._sanitize: Callable[[Obj], Obj] = sanitize
        self._lock = threading.RLock()
        self._objects: dict[str, dict[Key, Obj]] = {k.watch: {} for k in self.kinds}
        self._kind_of: dict[str, str] = {k.watch: k.name for k in self.kinds}
        self._kind_names = frozenset(self._kind_of.values())
        self._log = ChangeLog()
        self._states: dict[str, KindState] = {
            k.watch: KindState("syncing", since=time.monotonic()) for k in self.kinds}
        self._callbacks: list[Callable[[str], None]] = []
        self._stopped = threading.Event()
        self._watchers: dict[str, KindWatcher] = {}
        # Secret references: per referencing object, and how many objects name each Secret
        self._refs_by_obj: dict[tuple[str, str, str], frozenset[Key]] = {}
        self._ref_counts: Counter[Key] = Counter()
        #: metadata of the Secrets in the watched namespace(s): key → resourceVersion
        self._secret_rv: dict[Key, str] = {}
        self._secret_annotated: set[Key] = set()
        #: out-of-scope Secrets already fetched (or being fetched)
        self._fetched_direct: set[Key] = set()
        self._crns: str | None = None
        self._refs_ready = threading.Event()
        self._first_ready = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._started = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start one watcher thread per watch (returns at once; see ``synced``)."""
        if self._started:
            return
        self._started = True
        if not any(k.watch in _REF_WATCHES for k in self.kinds):
            self._refs_ready.set()
        if not any(k.watch in _FIRST_WATCHES for k in self.kinds):
            self._first_ready.set()
        for k in self.kinds:
            before = self._wait_for_refs if k.watch == SECRET.watch else \
                None if k.watch in _FIRST_WATCHES else self._wait_for_first
            w = KindWatcher(self.conn, k, self.namespace, self, watch_timeout=self.watch_timeout,
                            retry_interval=self.retry_interval, stopped=self._stopped,
                            before_first_list=before)
            self._watchers[k.watch] = w
        for w in self._watchers.values():
            w.start()

    def stop(self, timeout: float = 2.0) -> None:
        """End every watcher: sockets are shut down, so this takes milliseconds."""
        self._stopped.set()
        self._refs_ready.set()
        self._first_ready.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
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
        """Relist every kind now (also retries forbidden/missing kinds at once) and fetch
        the out-of-scope Secrets again."""
        with self._lock:
            self._fetched_direct.clear()
            self.secret_problems.clear()
        for w in self._watchers.values():
            w.request_relist()

    def wait_synced(self, timeout: float | None = None) -> bool:
        return self.synced.wait(timeout)

    # -- reading -----------------------------------------------------------------------------

    def snapshot(self) -> ObjectSet:
        """A consistent copy: later changes to the store never show in it."""
        with self._lock:
            objs: dict[str, dict[Key, Obj]] = {}
            for watch, v in self._objects.items():
                if not v:
                    continue
                kind = self._kind_of.get(watch, watch)
                if kind in objs:
                    objs[kind].update(v)
                else:
                    objs[kind] = dict(v)
            gen = self.generation
            unseen = frozenset(self._kind_of.get(w, w) for w, st in self._states.items()
                               if st.state in UNSEEN_STATES)
        return ObjectSet(objects=objs, source="live", context=self.conn.context,
                         generation=gen, changelog=self, unseen=unseen)

    def changes(self, since: int, until: int) -> Changes | None:
        """What changed between two snapshots' generations (None: compare everything)."""
        with self._lock:
            return self._log.between(since, until)

    def states(self) -> dict[str, KindState]:
        """State per watch id (the primary watch of a kind has the kind's name)."""
        with self._lock:
            return dict(self._states)

    def state(self, kind: str) -> KindState:
        with self._lock:
            return self._states.get(kind, KindState("missing", "not watched"))

    def watches(self) -> dict[str, Kind]:
        """The watches this store runs, by id."""
        return {k.watch: k for k in self.kinds}

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
            self.requests[(kind.watch, verb)] += 1

    def count_bytes(self, kind: Kind, verb: str, n: int) -> None:
        with self._lock:
            self.bytes_received[(kind.watch, verb)] += n

    def count_status(self, kind: Kind, status: int) -> None:
        with self._lock:
            self.statuses[(kind.watch, status)] += 1

    @property
    def forbidden_requests(self) -> int:
        """How many requests the API server refused with 403 (watches and Secret GETs)."""
        with self._lock:
            return sum(n for (_, st), n in self.statuses.items() if st == 403)

    def replace(self, kind: Kind, objs: list[Obj]) -> None:
        if kind.metadata_only and kind.name == "Secret":
            self._replace_secret_meta(objs)
            return
        if kind.name in secretrefs.REF_KINDS:
            # references first, so the Secret filter of this very list can see them
            self._replace_refs(kind.name, objs)
        fresh: dict[Key, Obj] = {}
        for raw in objs:
            o = self._accept(kind, raw)
            if o is not None:
                fresh[(namespace(o), name(o))] = o
        with self._lock:
            self._objects[kind.watch] = fresh
            self.generation += 1
            self._log.record(self.generation, kind.name, None)
        if kind.name == "Deployment":
            self._update_crns()
        self._notify(kind.name)

    def put(self, kind: Kind, obj: Obj) -> None:
        if kind.metadata_only and kind.name == "Secret":
            self._put_secret_meta(obj)
            return
        if kind.name in secretrefs.REF_KINDS:
            self._update_refs(kind.name, obj, secretrefs.refs_of(kind.name, obj))
        o = self._accept(kind, obj)
        key = (namespace(obj), name(obj))
        with self._lock:
            per = self._objects.setdefault(kind.watch, {})
            if o is None:
                if per.pop(key, None) is None:
                    return
            else:
                per[key] = o
            self.generation += 1
            self._log.record(self.generation, kind.name, key)
        if kind.name == "Deployment":
            self._update_crns()
        self._notify(kind.name)

    def delete(self, kind: Kind, obj: Obj) -> None:
        if kind.name in secretrefs.REF_KINDS:
            self._update_refs(kind.name, obj, frozenset())
        key = (namespace(obj), name(obj))
        with self._lock:
            if kind.metadata_only and kind.name == "Secret":
                self._secret_rv.pop(key, None)
                self._secret_annotated.discard(key)
            if self._objects.get(kind.watch, {}).pop(key, None) is None:
                return
            self.generation += 1
            self._log.record(self.generation, kind.name, key)
        self._notify(kind.name)

    def set_state(self, kind: Kind, state: str, message: str = "") -> None:
        with self._lock:
            old = self._states.get(kind.watch)
            if old is not None and old.state == state and old.message == message:
                return
        if kind.metadata_only and kind.name == "Secret" and state in ("forbidden", "missing"):
            # cannot list Secrets: fetch the referenced ones directly (GET may be allowed)
            with self._lock:
                self._secret_rv.clear()
                self._secret_annotated.clear()
                self._objects[kind.watch] = {}
                self._fetched_direct.clear()
                self._states[kind.watch] = KindState(state, message, time.monotonic())
            self._fetch_now(self._direct_keys())
        with self._lock:
            self._states[kind.watch] = KindState(state, message, time.monotonic())
            if state in ("forbidden", "missing") and self._objects.get(kind.watch) \
                    and not kind.metadata_only:
                self._objects[kind.watch] = {}
            self.generation += 1
            self._log.record(self.generation, kind.name, None)
            settled = [self._settled(w) for w in (None, _REF_WATCHES, _FIRST_WATCHES)]
        for done, event in zip(settled, (self.synced, self._refs_ready, self._first_ready),
                               strict=True):
            if done:
                event.set()
        self._notify(kind.name)

    # -- internals -----------------------------------------------------------------------

    def _accept(self, kind: Kind, obj: Obj) -> Obj | None:
        """What of an object may be kept: the kind's own filter and cut, unrelated Events
        dropped, then redaction."""
        if kind.keep is not None and not kind.keep(obj):
            return None
        if kind.strip is not None:
            obj = kind.strip(obj)
        if kind.name == "Event":
            involved = text(dig(obj, "involvedObject", "kind")) or text(dig(obj, "regarding",
                                                                              "kind"))
            if involved and involved not in self._kind_names:
                return None
        return self._sanitize(obj)

    # Secrets ---------------------------------------------------------------------------

    def _secret_listable(self) -> bool:
        """(lock held) Is the Secret metadata watch running and allowed?"""
        if SECRET.watch not in self._watchers:
            return False
        st = self._states.get(SECRET.watch)
        return st is None or st.state not in ("forbidden", "missing")

    def _in_scope(self, key: Key) -> bool:
        """(lock held) Does the Secret metadata watch cover this namespace?"""
        return self._secret_listable() and (self.namespace is None or key[0] == self.namespace)

    def _resolve(self, ref: Key) -> list[Key]:
        """(lock held) Concrete Secret keys for one reference (ClusterIssuers' refs name no
        namespace: the cluster resource namespace, and any watched Secret of that name)."""
        if ref[0] != secretrefs.ANY_NS:
            return [ref]
        out = [(self._crns or "cert-manager", ref[1])]
        out += [k for k in self._secret_rv if k[1] == ref[1] and k not in out]
        return out

    def _wanted_meta(self, key: Key) -> bool:
        """(lock held) Keep this watched Secret (referenced or cert-manager-annotated)?"""
        return (key in self._ref_counts or (secretrefs.ANY_NS, key[1]) in self._ref_counts
                or key in self._secret_annotated)

    def _needs_fetch(self, key: Key) -> bool:
        """(lock held) Is the stored copy missing or older than what exists?"""
        if self._in_scope(key):
            rv = self._secret_rv.get(key)
            if rv is None:
                return False  # does not exist (its ADDED event will come if it appears)
            stored = self._objects.get(SECRET.watch, {}).get(key)
            return stored is None or text(dig(stored, "metadata", "resourceVersion")) != rv
        return key not in self._fetched_direct

    def _direct_keys(self) -> set[Key]:
        """(lock held or not) Referenced Secrets the metadata watch does not cover."""
        with self._lock:
            keys: set[Key] = set()
            for ref in list(self._ref_counts):
                keys.update(k for k in self._resolve(ref) if not self._in_scope(k))
            return keys

    def _replace_secret_meta(self, metas: list[Obj]) -> None:
        with self._lock:
            self._secret_rv = {(namespace(m), name(m)): text(dig(m, "metadata",
                                                                  "resourceVersion"))
                               for m in metas}
            self._secret_annotated = {(namespace(m), name(m)) for m in metas
                                      if secretrefs.has_cert_manager_annotation(m)}
            stored = self._objects.setdefault(SECRET.watch, {})
            gone = [k for k in stored if self._in_scope(k) and k not in self._secret_rv]
            for k in gone:
                del stored[k]
            wanted = [k for k in self._secret_rv if self._wanted_meta(k)]
            keys = {k for k in wanted if self._needs_fetch(k)}
            keys |= {k for k in self._direct_keys() if self._needs_fetch(k)}
            if gone:
                self.generation += 1
                self._log.record(self.generation, "Secret", None)
        self._fetch_now(keys)

    def _put_secret_meta(self, meta: Obj) -> None:
        key = (namespace(meta), name(meta))
        with self._lock:
            self._secret_rv[key] = text(dig(meta, "metadata", "resourceVersion"))
            if secretrefs.has_cert_manager_annotation(meta):
                self._secret_annotated.add(key)
            else:
                self._secret_annotated.discard(key)
            fetch = self._wanted_meta(key) and self._needs_fetch(key)
        if fetch:
            self._fetch_now({key})

    def _fetch_now(self, keys: Iterable[Key]) -> None:
        """GET these Secrets (a few at a time) and store their public parts; returns when
        all have answered."""
        keys = sorted(set(keys))
        if not keys or self._stopped.is_set():
            return
        with self._lock:
            self._fetched_direct.update(k for k in keys if not self._in_scope(k))
        if len(keys) == 1:
            self._fetch_one(keys[0])
            return
        pool = self._executor()
        try:
            list(pool.map(self._fetch_one, keys))
        except RuntimeError:  # the pool was shut down: the store is stopping
            return

    def _fetch_async(self, keys: Iterable[Key]) -> None:
        keys = set(keys)
        if not keys or self._stopped.is_set():
            return
        with contextlib.suppress(RuntimeError):  # shut down: the store is stopping
            self._executor().submit(self._fetch_now, keys)

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(_FETCH_WORKERS * 2,
                                                thread_name_prefix="certdoctor-secret")
            return self._pool

    def _fetch_one(self, key: Key) -> None:
        from kubectl_certdoctor.cluster.connection import ApiError, ClusterError

        if self._stopped.is_set():
            return
        ns, nm = key
        self.count_request(SECRET, "get")
        obj: Obj | None = None
        try:
            resp = self.conn.request("GET", f"/api/v1/namespaces/{ns}/secrets/{nm}")
            try:
                raw = resp.data
            finally:
                resp.release_conn()
            self.count_bytes(SECRET, "get", len(raw))
            import orjson

            full = orjson.loads(raw)
            del raw
            # the private key never survives this line
            obj = secretrefs.strip_secret(full) if isinstance(full, dict) else None
            del full
        except ApiError as e:
            self.count_status(SECRET, e.status)
            if e.status != 404:
                with self._lock:
                    self.secret_problems[key] = (
                        f"forbidden: {e.detail}" if e.status == 403 else e.message)
        except ClusterError as e:
            with self._lock:
                self.secret_problems[key] = e.message
        except Exception as e:  # never on stderr (TUI)
            log.debug("fetching Secret %s/%s failed", ns, nm, exc_info=True)
            with self._lock:
                self.secret_problems[key] = f"{type(e).__name__}: {e}"
        with self._lock:
            per = self._objects.setdefault(SECRET.watch, {})
            if obj is None:
                if per.pop(key, None) is None:
                    return
            else:
                obj["kind"] = "Secret"
                obj["apiVersion"] = "v1"
                self.secret_problems.pop(key, None)
                per[key] = self._sanitize(obj)
            self.generation += 1
            self._log.record(self.generation, "Secret", key)
        self._notify("Secret")

    def _after_new_refs(self, added: set[Key]) -> None:
        """New references: fetch the Secrets they name that exist and are not stored yet."""
        if not added or self._stopped.is_set() or SECRET.watch not in self._watchers:
            return
        with self._lock:
            if self._states[SECRET.watch].state == "syncing":
                return  # the Secret watcher's first list fetches everything referenced
            keys = {k for r in added for k in self._resolve(r)
                    if (not self._in_scope(k) or k in self._secret_rv) and self._needs_fetch(k)}
        self._fetch_async(keys)

    def _update_crns(self) -> None:
        with self._lock:
            deps = [o for w, per in self._objects.items() if self._kind_of.get(w) == "Deployment"
                    for o in per.values()]
            crns = secretrefs.cluster_resource_namespace(deps)
            if crns == self._crns:
                return
            self._crns = crns
            any_ns = {r for r in self._ref_counts if r[0] == secretrefs.ANY_NS}
        self._after_new_refs(any_ns)

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
        self._after_new_refs(added)

    def _update_refs(self, kind_name: str, obj: Obj, refs: frozenset[Key]) -> None:
        key = (kind_name, namespace(obj), name(obj))
        with self._lock:
            added = self._set_refs_locked(key, refs)
        self._after_new_refs(added)

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

    def _settled(self, watches: frozenset[str] | None) -> bool:
        """Every watch of ``watches`` (None: all) has given its first answer (lock held)."""
        return all(st.state in SETTLED for w, st in self._states.items()
                   if watches is None or w in watches)

    def _wait_for_refs(self) -> None:
        """The Secret watcher's first LIST waits (bounded) for the referencing kinds."""
        self._refs_ready.wait(max(self.conn.request_timeout, 1.0))

    def _wait_for_first(self) -> None:
        """The context watches' first LISTs (Events, Services, Pods, …) wait, bounded, for
        the tree's own kinds: on a big cluster the noise LISTs (every Pod Event, thousands
        of Services) would otherwise share the API server and the CPU with them, and the
        tree — which needs only cert-manager's kinds — would wait for the slowest list. The
        rules treat a kind still syncing as not yet seen, so nothing is judged on a gap."""
        self._first_ready.wait(max(self.conn.request_timeout, 1.0))

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
