"""The fallback: no stuck Certificate goes without a finding.

Specific rules name causes they recognise; a Certificate can be stuck for a reason none of
them knows (a new provider error, an external issuer's message). Silence would read as
"healthy", so after every other rule this one looks at each Certificate that is stuck —
not Ready for longer than ``GRACE``, Issuing for longer than ``GRACE``, or past its
``status.renewalTime`` by more than ``GRACE`` — and, when no warning or error explains it
(on the Certificate, anything below it, its issuer, or a controller-wide cause such as
``CONTROLLER_NOT_RUNNING``), reports ``ISSUANCE_STUCK_UNRECOGNISED`` quoting the deepest
message cert-manager wrote in its chain, with the object that carries it.

The conditions read are the ones cert-manager's certificates controllers write
(``Ready``, ``Issuing``; ``status.renewalTime``): pkg/apis/certmanager/v1/types_certificate.go
and pkg/controller/certificates/{readiness,trigger,issuing} at v1.0.0 … v1.21.1.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kubectl_certdoctor.graph import Graph, Node, subtree
from kubectl_certdoctor.objects import Obj, Ref, condition, dig, parse_time, text
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding, Severity
from kubectl_certdoctor.rules.util import CLOCK_SKEW, cond_text, field_ev, latest_request

#: issuance normally completes in a minute or two (HTTP-01/DNS-01 included)
GRACE = timedelta(minutes=10)
#: controller-wide causes that explain every stuck Certificate at once
GLOBAL_CODES = frozenset({"CONTROLLER_NOT_RUNNING", "WEBHOOK_CA_NOT_INJECTED",
                          "WEBHOOK_NOT_RUNNING"})
CODE = "ISSUANCE_STUCK_UNRECOGNISED"


@dataclass(frozen=True, slots=True)
class _Times:
    """What a Certificate object says about being stuck, independent of ``now``."""

    ready: bool
    #: when Ready took its status, and whether that is its lastTransitionTime (else the
    #: creationTimestamp; None unknown)
    ready_since: tuple[datetime | None, bool]
    issuing: bool
    issuing_since: tuple[datetime | None, bool]
    renewal: datetime | None


#: id(object) → (object, its times): a live pass re-judges every Certificate at the new
#: ``now``; the objects themselves rarely change, and the store replaces rather than
#: mutates them, so identity is a safe key while the object is held here
_TIMES: dict[int, tuple[Obj, _Times]] = {}


def _times(obj: Obj) -> _Times:
    hit = _TIMES.get(id(obj))
    if hit is not None and hit[0] is obj:
        return hit[1]

    created = parse_time(dig(obj, "metadata", "creationTimestamp"))

    def since(ctype: str) -> tuple[datetime | None, bool]:
        c = condition(obj, ctype) or {}
        t = parse_time(c.get("lastTransitionTime"))
        return (t, True) if t is not None else (created, False)

    t = _Times(cond_text(obj, "Ready")[0] == "True", since("Ready"),
               cond_text(obj, "Issuing")[0] == "True", since("Issuing"),
               parse_time(dig(obj, "status", "renewalTime")))
    if len(_TIMES) > 50_000:
        _TIMES.clear()  # bounded: objects replaced long ago go
    _TIMES[id(obj)] = (obj, t)
    return t


def _held(since: tuple[datetime | None, bool], now: datetime) -> timedelta | None:
    """How long a status has held: from its lastTransitionTime, else from the object's
    creation (None when unknown, or when that creation time lies ahead: an object judged
    before it was made)."""
    t, from_condition = since
    if t is None or (not from_condition and t - now > CLOCK_SKEW):
        return None
    return max(now - t, timedelta(0))


def stuck_reason(node: Node, now: datetime) -> str:
    """Why this Certificate counts as stuck ('' when it does not)."""
    t = _times(node.obj or {})
    if not t.ready:
        held = _held(t.ready_since, now)
        if held is None or held > GRACE:
            return "not Ready" + (f" for {_human(held)}" if held is not None else "")
        return ""
    if t.issuing:
        held = _held(t.issuing_since, now)
        if held is not None and held > GRACE:
            return f"Issuing for {_human(held)} without completing"
    if t.renewal is not None and now - t.renewal > GRACE:
        return f"renewal overdue since {t.renewal:%Y-%m-%d %H:%M} UTC"
    return ""


def _human(d: timedelta) -> str:
    from kubectl_certdoctor.backoff import human

    return human(d)


def deepest_message(graph: Graph, cert: Node) -> tuple[Ref, str, str] | None:
    """(object, field, message): the deepest cert-manager message in the Certificate's
    current chain — a Challenge's reason before its Order's, before the request's Ready
    message, before the Certificate's own conditions; a Warning Event when the object has
    no message of its own."""
    levels: list[list[Node]] = []
    cr = latest_request(graph, cert)
    if cr is not None:
        orders = [o for o in cr.children if o.ref.kind == "Order"]
        chs = [c for o in orders for c in o.children if c.ref.kind == "Challenge"]
        levels += [[c for c in chs if text(dig(c.obj, "status", "state")) != "valid"],
                   orders, [cr]]
    levels.append([cert])
    for level in levels:
        for n in level:
            hit = _message_of(graph, n)
            if hit is not None:
                return (n.ref, *hit)
    return None


def _message_of(graph: Graph, n: Node) -> tuple[str, str] | None:
    obj = n.obj or {}
    if n.ref.kind in ("Challenge", "Order"):
        r = text(dig(obj, "status", "reason"))
        if r:
            return "status.reason", r
    else:
        for ctype in ("Issuing", "Ready"):
            st, _, msg = cond_text(obj, ctype)
            if msg and st != "True" and not (ctype == "Issuing" and st == ""):
                return f"status.conditions[{ctype}].message", msg
    for ev in graph.events_for(n.ref):
        if text(ev.get("type")) == "Warning" and text(ev.get("message")):
            return f"Event {text(ev.get('reason'))}", text(ev.get("message"))
    return None


def _explained(graph: Graph, cert: Node, bad: Container[Ref], global_cause: bool) -> bool:
    if global_cause:
        return True
    if any(n.ref in bad for n in subtree(cert)):
        return True
    root = graph.parent(cert)
    return root is not None and root.ref in bad


def unexplained(graph: Graph, now: datetime, findings: Iterable[Finding]) -> list[Finding]:
    """ISSUANCE_STUCK_UNRECOGNISED for each stuck Certificate no other finding explains."""
    bad, global_cause = bad_refs(findings)
    out: list[Finding] = []
    for cert in graph.of_kind("Certificate"):
        f = judge(graph, now, cert, bad, global_cause)
        if f is not None:
            out.append(f)
    return out


def bad_refs(findings: Iterable[Finding]) -> tuple[set[Ref], bool]:
    """The objects a warning or error explains, and whether a controller-wide cause does."""
    bad: set[Ref] = set()
    global_cause = False
    for f in findings:
        if f.severity in (Severity.ERROR, Severity.WARNING):
            bad.add(f.object)
            global_cause = global_cause or f.code in GLOBAL_CODES
    return bad, global_cause


def judge(graph: Graph, now: datetime, cert: Node, bad: Container[Ref],
          global_cause: bool) -> Finding | None:
    """ISSUANCE_STUCK_UNRECOGNISED for one Certificate (None: not stuck, or explained).
    It reads the Certificate's chain and its issuer only (``analysis.Analyser`` judges a
    chain again when its chain, the issuer's findings or ``global_cause`` change)."""
    why = stuck_reason(cert, now)
    if not why or _explained(graph, cert, bad, global_cause):
        return None
    ev = [f"Certificate {cert.ref.name}: {why}"]
    deepest = deepest_message(graph, cert)
    if deepest is not None:
        ref, path, msg = deepest
        ev.append(field_ev(ref.kind, path, msg) if not path.startswith("Event")
                  else f"{ref.kind} {ref.name} {path}: {msg}")
        where, message = f"{ref.kind} {ref.name}", msg
        data: dict[str, Any] = {"blocked_by": {"kind": ref.kind, "namespace": ref.namespace,
                               "name": ref.name}, "message": msg}
    else:
        where, message = f"Certificate {cert.ref.name}", "(no message recorded)"
        data = {"blocked_by": None, "message": ""}
    return make(CODE, cert.ref, ev, data=data, name=cert.ref.name, why=why,
                where=where, message=message)
