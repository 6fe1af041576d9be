"""One thread per kind: LIST once, then WATCH from the list's resourceVersion, forever.

The loop follows client-go's reflector, reduced to what this tool needs:

- resume a watch from the last resourceVersion it saw (bookmarks keep it fresh), so a
  dropped connection costs one request, not a relist;
- relist only when the server says the version is gone (HTTP 410, or an ERROR event
  with code 410) or when the store asks for it;
- back off 0.2 s → 5 s with jitter while the API server is unreachable;
- 403/404 on the LIST are states ("forbidden", "missing"), retried rarely, never fatal;
- LISTs are paginated (``limit``/``continue``, ``PAGE_SIZE`` items a page; an expired
  continue token restarts the list) and the WATCH starts from the list's resourceVersion;
- ``Kind.metadata_only`` kinds (Secrets) are listed and watched as PartialObjectMetadata:
  the objects' data never crosses the wire (the Accept header has no full-object fallback).

Bodies are read raw: the LIST with one ``orjson.loads``, the WATCH stream split into
lines by hand. Every call has a timeout (``timeoutSeconds`` on the watch, a read
timeout a little longer), and ``stop()`` shuts the socket down, so no thread hangs.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from kubectl_certdoctor.kinds import Kind
from kubectl_certdoctor.objects import Obj, dig, text

if TYPE_CHECKING:
    from kubectl_certdoctor.cluster.connection import Connection

log = logging.getLogger(__name__)
#: serialises the decoding of LIST bodies across watchers (see ``KindWatcher._list``)
_DECODE = threading.Lock()


class Sink(Protocol):
    """What a watcher reports to (the Store)."""

    def count_request(self, kind: Kind, verb: str) -> None: ...
    def count_bytes(self, kind: Kind, verb: str, n: int) -> None: ...
    def count_status(self, kind: Kind, status: int) -> None: ...
    def replace(self, kind: Kind, objs: list[Obj]) -> None: ...
    def put(self, kind: Kind, obj: Obj) -> None: ...
    def delete(self, kind: Kind, obj: Obj) -> None: ...
    def set_state(self, kind: Kind, state: str, message: str = "") -> None: ...


class Gone(Exception):
    """The resourceVersion we resume from is too old: relist."""


class Backoff:
    """Exponential backoff with jitter: 0.2 s, 0.4 s, … capped at 5 s."""

    def __init__(self, initial: float = 0.2, maximum: float = 5.0, factor: float = 2.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self._next = initial

    def reset(self) -> None:
        self._next = self.initial

    def next(self) -> float:
        d = self._next
        self._next = min(self.maximum, self._next * self.factor)
        return min(self.maximum, d * random.uniform(0.8, 1.2))


#: items per LIST page
PAGE_SIZE = 500
#: Accept headers for metadata-only kinds (no fallback: full objects must never come back)
META_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"
META_WATCH_ACCEPT = "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"


def kind_path(kind: Kind, namespace: str | None) -> str:
    """Collection URL: across all namespaces unless a namespace is given."""
    if kind.namespaced and namespace:
        return f"{kind.path}/namespaces/{namespace}/{kind.plural}"
    return f"{kind.path}/{kind.plural}"


class KindWatcher(threading.Thread):
    """LIST+WATCH loop for one kind; reports objects and state to a ``Sink``."""

    def __init__(self, conn: Connection, kind: Kind, namespace: str | None, sink: Sink, *,
                 watch_timeout: float = 45.0, retry_interval: float = 60.0,
                 stopped: threading.Event, before_first_list: Callable[[], None] | None = None
                 ) -> None:
        super().__init__(name=f"certdoctor-watch-{kind.watch}", daemon=True)
        self.conn = conn
        self.kind = kind
        #: where this watch lists: the view's namespace, or all for cluster-wide facts
        self.namespace = kind.namespace_for(namespace)
        self.sink = sink
        self.watch_timeout = watch_timeout
        self.retry_interval = retry_interval
        self._stopped = stopped
        self._wake = threading.Event()
        self._relist = threading.Event()
        self._before_first_list = before_first_list
        self._resp: Any = None
        self._resp_lock = threading.Lock()
        self.resource_version = ""

    # -- control (any thread) ------------------------------------------------------------

    def wake(self) -> None:
        """End a pause early (stop, refresh)."""
        self._wake.set()

    def request_relist(self) -> None:
        """Relist at once: interrupts the current watch."""
        self._relist.set()
        self._wake.set()
        self.interrupt()

    def interrupt(self) -> None:
        """Unblock a read in progress by shutting the socket down."""
        with self._resp_lock:
            resp = self._resp
        if resp is None:
            return
        # already released or closed: then nothing is blocked on it
        with contextlib.suppress(Exception):
            resp.shutdown()

    # -- the loop --------------------------------------------------------------------------

    def run(self) -> None:
        from kubectl_certdoctor.cluster.connection import ApiError, ClusterError

        backoff = Backoff()
        need_list = True
        last_list = 0.0
        if self._before_first_list is not None:
            self._before_first_list()
        while not self._stopped.is_set():
            try:
                if need_list or self._relist.is_set() or not self.resource_version:
                    self._relist.clear()
                    last_list = time.monotonic()
                    self._list()
                    need_list = False
                    backoff.reset()
                if self._watch():
                    backoff.reset()
                elif not self._pause(backoff.next()):  # a watch that ends at once: no spin
                    return
            except Gone:
                need_list = True
                # Gone straight after a fresh list means something between us and the
                # server misbehaves: do not turn that into a LIST storm
                if time.monotonic() - last_list < 1.0 and not self._pause(backoff.next()):
                    return
            except ApiError as e:
                if self._stopped.is_set():
                    return
                need_list = True
                self.sink.count_status(self.kind, e.status)
                if e.status == 403 and not self._served():
                    # RBAC answers before the router: a kind that does not exist is
                    # "forbidden" to a restricted user, but discovery tells the truth
                    self.sink.set_state(self.kind, "missing", _missing_message(self.kind))
                    delay = self.retry_interval
                elif e.status == 403:
                    self.sink.set_state(self.kind, "forbidden", e.detail or e.message)
                    delay = self.retry_interval
                elif e.status == 404:
                    self.sink.set_state(self.kind, "missing", _missing_message(self.kind))
                    delay = self.retry_interval
                elif e.status in (429, 500, 502, 503, 504):
                    self.sink.set_state(self.kind, "reconnecting", e.message)
                    delay = backoff.next()
                else:
                    self.sink.set_state(self.kind, "error", str(e))
                    delay = max(backoff.next(), min(self.retry_interval, 30.0))
                if not self._pause(delay):
                    return
            except ClusterError as e:  # unreachable: keep the resourceVersion, resume later
                if self._stopped.is_set():
                    return
                self.sink.set_state(self.kind, "reconnecting", e.message)
                if not self._pause(backoff.next()):
                    return
            except Exception as e:
                if self._stopped.is_set():
                    return
                from kubectl_certdoctor.cluster.connection import (
                    _is_network_error,
                    describe_network_error,
                )

                if _is_network_error(e):
                    msg = describe_network_error(e, self.conn.server, self.conn.request_timeout)
                    self.sink.set_state(self.kind, "reconnecting", msg)
                else:  # debug only: a log line on stderr would tear through the TUI
                    log.debug("watcher for %s failed", self.kind.name, exc_info=True)
                    self.sink.set_state(self.kind, "error", f"{type(e).__name__}: {e}")
                    need_list = True
                if not self._pause(backoff.next()):
                    return
            finally:
                self._set_resp(None)

    def _served(self) -> bool:
        """Does the server serve this kind? (discovery of its group-version; any
        authenticated user may read it). Unknown → True, so 403 stays "forbidden"."""
        from kubectl_certdoctor.cluster.connection import ApiError, ClusterError

        try:
            self.sink.count_request(self.kind, "discovery")
            doc = self.conn.get(self.kind.path)
        except ApiError as e:
            return e.status != 404
        except ClusterError:
            return True
        resources = doc.get("resources") if isinstance(doc, dict) else None
        return any(isinstance(r, dict) and r.get("name") == self.kind.plural
                   for r in resources or [])

    def _pause(self, seconds: float) -> bool:
        """Sleep unless stopped or woken; False when the store is stopping."""
        if seconds > 0:
            self._wake.wait(seconds)
        self._wake.clear()
        return not self._stopped.is_set()

    def _set_resp(self, resp: Any) -> None:
        with self._resp_lock:
            old, self._resp = self._resp, resp
        if old is not None and resp is None:
            try:
                if not old.isclosed():  # unread body (a watch): never reuse that socket
                    old.close()
                old.release_conn()
            except Exception:
                pass

    def _query(self) -> dict[str, Any]:
        q: dict[str, Any] = {}
        if self.kind.label_selector:
            q["labelSelector"] = self.kind.label_selector
        if self.kind.field_selector:
            q["fieldSelector"] = self.kind.field_selector
        return q

    def _list(self) -> None:
        """LIST page by page; the store gets the whole set at once (``replace``)."""
        from kubectl_certdoctor.cluster.connection import ApiError
        from kubectl_certdoctor.cluster.listdecode import decode_page

        rt = self.conn.request_timeout
        accept = META_LIST_ACCEPT if self.kind.metadata_only else "application/json"
        path = kind_path(self.kind, self.namespace)
        objs: list[Obj] = []
        cont = ""
        rv = ""
        restarts = 0
        while True:
            q = self._query()
            q["limit"] = PAGE_SIZE
            if cont:
                q["continue"] = cont
            self.sink.count_request(self.kind, "list")
            try:
                resp = self.conn.request("GET", path, q, timeout=(rt, max(rt, 30.0)),
                                         accept=accept)
            except ApiError as e:
                if e.status == 410 and cont and restarts < 3:
                    # the continue token expired between pages: start over
                    restarts += 1
                    objs, cont = [], ""
                    continue
                raise
            self._set_resp(resp)
            if self._stopped.is_set():
                return
            raw = resp.data
            self._set_resp(None)  # the response caches the body: let it go with ``raw``
            self.sink.count_bytes(self.kind, "list", len(raw))
            with _DECODE:
                # one kind at a time: all kinds list at once on start-up, and decoding holds
                # the GIL anyway, so taking turns costs nothing and bounds the memory peak
                page, rv, cont = decode_page(raw, self.kind.name, self.kind.api_version)
                del raw
            if self.kind.keep is not None:
                # drop what the store would drop now, page by page: a noisy kind (every
                # Pod Event of the cluster) must not sit whole in memory until the last page
                page = [o for o in page if self.kind.keep(o)]
            objs.extend(page)
            del page
            if not cont:
                break
        self.resource_version = rv
        self.sink.replace(self.kind, objs)
        self.sink.set_state(self.kind, "live")

    def _watch(self) -> bool:
        """Stream events until the server ends the watch. False when it ended within a
        second without a single event (the caller backs off instead of spinning)."""
        import orjson

        from kubectl_certdoctor.cluster.connection import ApiError

        rt = self.conn.request_timeout
        seconds = max(1, int(self.watch_timeout * random.uniform(0.9, 1.1)))
        q = self._query()
        q.update(watch="true", resourceVersion=self.resource_version,
                 allowWatchBookmarks="true", timeoutSeconds=seconds)
        self.sink.count_request(self.kind, "watch")
        try:
            resp = self.conn.request(
                "GET", kind_path(self.kind, self.namespace), q, timeout=(rt, seconds + rt),
                accept=META_WATCH_ACCEPT if self.kind.metadata_only else "application/json")
        except ApiError as e:
            if e.status == 410:
                raise Gone(e.message) from None
            raise
        self._set_resp(resp)
        if self._stopped.is_set() or self._relist.is_set():
            return True
        self.sink.set_state(self.kind, "live")
        began = time.monotonic()
        events = 0
        buf = b""
        for chunk in resp.stream(65536, decode_content=True):
            if self._stopped.is_set() or self._relist.is_set():
                return True
            buf += chunk
            self.sink.count_bytes(self.kind, "watch", len(chunk))
            while True:
                i = buf.find(b"\n")
                if i < 0:
                    break
                line, buf = buf[:i], buf[i + 1:]
                if line.strip():
                    events += 1
                    self._event(orjson.loads(line))
        return events > 0 or time.monotonic() - began >= 1.0 or self._relist.is_set()

    def _event(self, ev: Any) -> None:
        from kubectl_certdoctor.cluster.connection import status_error

        if not isinstance(ev, dict):
            return
        typ = ev.get("type")
        obj = ev.get("object")
        if not isinstance(obj, dict):
            return
        if typ == "ERROR":
            code = obj.get("code")
            if code == 410 or obj.get("reason") in ("Expired", "Gone"):
                raise Gone(str(obj.get("message") or "resource version too old"))
            raise status_error(int(code or 500), str(obj.get("message") or ""),
                               reason=str(obj.get("reason") or ""), where=self.conn.server,
                               what=f"watch {self.kind.plural}")
        rv = text(dig(obj, "metadata", "resourceVersion"))
        if typ == "BOOKMARK":
            if rv:
                self.resource_version = rv
            return
        obj["kind"] = self.kind.name
        obj["apiVersion"] = self.kind.api_version
        if typ in ("ADDED", "MODIFIED"):
            from kubectl_certdoctor.cluster.listdecode import share_strings

            share_strings(obj)  # as the LIST did: a watched object keeps its shared values
            self.sink.put(self.kind, obj)
        elif typ == "DELETED":
            self.sink.delete(self.kind, obj)
        if rv:
            self.resource_version = rv


def _missing_message(kind: Kind) -> str:
    if kind.crd:
        return f"{kind.plural}.{kind.group} is not installed (is cert-manager installed?)"
    return f"{kind.plural}.{kind.group or 'core'}/{kind.version} is not served by this cluster"
