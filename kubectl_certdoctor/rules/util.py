"""Helpers shared by the rules: evidence strings, error patterns, request lookup."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from kubectl_certdoctor.graph import Graph, Node
from kubectl_certdoctor.objects import Obj, Ref, as_int, condition, dig, parse_time, text
from kubectl_certdoctor.status import Status

#: Go network errors that mean "could not connect" (not "connected and got an answer")
NETWORK_ERRORS = (
    "context deadline exceeded", "i/o timeout", "client.timeout exceeded",
    "connection refused", "no such host", "tls handshake timeout", "network is unreachable",
    "no route to host", "connection reset by peer", "proxyconnect", "eof",
)


def q(value: Any) -> str:
    """A value quoted as JSON, so evidence shows the exact text."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


def field_ev(kind: str, path: str, value: Any) -> str:
    """``Challenge.status.reason: "…"``."""
    return f"{kind}.{path}: {q(value)}"


def cond_ev(kind: str, obj: Obj, ctype: str) -> str:
    c = condition(obj, ctype) or {}
    parts = [f"{kind}.status.conditions[{ctype}]: {text(c.get('status')) or 'absent'}"]
    if text(c.get("reason")):
        parts.append(f"reason {text(c.get('reason'))}")
    if text(c.get("message")):
        parts.append(f"message {q(text(c.get('message')))}")
    return ", ".join(parts)


def network_error(message: str) -> str | None:
    """The first network-error phrase in ``message`` (None when there is none)."""
    low = message.lower()
    for p in NETWORK_ERRORS:
        if p == "eof":
            if re.search(r"\beof\b", low):
                return "EOF"
            continue
        if p in low:
            i = low.index(p)
            return message[i:i + len(p)]
    return None


def cond_text(obj: Obj, ctype: str) -> tuple[str, str, str]:
    c = condition(obj, ctype) or {}
    return text(c.get("status")), text(c.get("reason")), text(c.get("message"))


def latest_request(graph: Graph, cert: Node) -> Node | None:
    """The CertificateRequest with the highest revision under a Certificate node."""
    rid = graph.latest_requests.get(cert.id)
    return graph.nodes.get(rid) if rid else None


def is_current_request(graph: Graph, cr: Node) -> bool:
    """True when the request is the one that matters now: the newest of its Certificate and
    newer than the Certificate's issued revision; or a request without a Certificate."""
    cert = graph.parent(cr)
    if cert is None or cert.ref.kind != "Certificate" or cert.obj is None:
        return True
    if graph.latest_requests.get(cert.id) != cr.id:
        return False
    issued = as_int(dig(cert.obj, "status", "revision"), 0)
    return graph.revisions.get(cr.id, 0) > issued or issued == 0


#: creation times this far after "now" are clock skew; beyond it the age is unknown
CLOCK_SKEW = timedelta(minutes=1)


def age(obj: Obj, now: datetime) -> timedelta | None:
    """How long the object has existed; None when unknown (no creationTimestamp, or one in
    the future: an object re-created from a bundle or judged at an earlier capture time).
    Grace periods apply only when the age is known."""
    t = parse_time(dig(obj, "metadata", "creationTimestamp"))
    if t is None:
        return None
    a = now - t
    if a < -CLOCK_SKEW:
        return None
    return max(a, timedelta(0))


T = TypeVar("T")


def memo(graph: Graph, name: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per graph and node set: wide rules share one walk over the
    requests instead of one each (a chain view shares the memo dict of its graph but not
    its node lists, so the node lists' identity is part of the key)."""
    hit = graph.memo.get(name)
    if hit is not None and hit[0] is graph._by_kind:
        return hit[1]
    value = compute()
    graph.memo[name] = (graph._by_kind, value)
    return value


def context_memo(graph: Graph, name: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per full build: for values read only from kinds outside
    ``graph_patch``'s cheap kinds (every Service, Gateway…), which a live pass would
    otherwise walk again on every update."""
    if name in graph.context_memo:
        return graph.context_memo[name]
    value = compute()
    graph.context_memo[name] = value
    return value


def failing_requests(graph: Graph) -> dict[Ref, list[tuple[Node, str]]]:
    """Current CertificateRequests whose Ready is False with a message, by issuer ref. A
    request shown ready in the tree is skipped before any look-up: at 10,000 Certificates
    this walk runs on every live pass."""

    def compute() -> dict[Ref, list[tuple[Node, str]]]:
        out: dict[Ref, list[tuple[Node, str]]] = {}
        for cr in graph.of_kind("CertificateRequest"):
            hit = request_failing(graph, cr)
            if hit is not None:
                out.setdefault(hit[0], []).append((cr, hit[1]))
        return out

    # a live pass finds it seeded by ``analysis.Analyser`` (kept per chain, in the order
    # of a full build: by ``graph.sort_key``), so the wide rules never walk every request
    return memo(graph, "failing_requests", compute)


def request_failing(graph: Graph, cr: Node) -> tuple[Ref, str] | None:
    """(issuer ref, Ready message) when ``cr`` counts in ``failing_requests``. It reads the
    request, its Certificate (revision, newest request) and whether the issuer exists."""
    if cr.status is Status.READY or cr.obj is None:
        return None
    st, _, m = cond_text(cr.obj, "Ready")
    if st != "False" or not m or not is_current_request(graph, cr):
        return None
    ir, iss = graph.issuer_for(cr.obj)
    return (ir.ref, m) if iss is not None else None
