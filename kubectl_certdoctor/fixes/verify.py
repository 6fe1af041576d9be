"""After ``apply``: look for the effect the fix promised, and say what was seen.

A fix that the API server accepted may still do nothing (cert-manager not
running, a webhook rejecting later, a Deployment without a controller), so
each plan lists ``Expectation``s and ``verify`` polls the API until each is met
or the timeout passes. Polling a handful of GETs twice a second is cheap and
survives the watch-less API paths the restricted user may have.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubectl_certdoctor.errors import ClusterError
from kubectl_certdoctor.fixes.model import Expectation, FixPlan, object_path
from kubectl_certdoctor.graph import CERT_NAME_ANN, REVISION_ANN
from kubectl_certdoctor.objects import (
    Obj,
    as_int,
    as_list,
    condition,
    dig,
    name,
    owner_refs,
    text,
)
from kubectl_certdoctor.objects import (
    annotations as annotations_of,
)

if TYPE_CHECKING:
    from kubectl_certdoctor.cluster.connection import Connection


@dataclass
class Observation:
    expectation: Expectation
    met: bool
    detail: str


@dataclass
class VerifyResult:
    """Each expectation with what was seen; ``ok`` when all were met in time."""

    observations: list[Observation] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return all(o.met for o in self.observations)

    def lines(self) -> list[str]:
        out = []
        for o in self.observations:
            mark = "seen" if o.met else "NOT seen"
            out.append(f"{mark}: {o.expectation.description} — {o.detail}")
        return out

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "elapsed": round(self.elapsed, 2),
                "observations": [{"expect": o.expectation.description, "met": o.met,
                                  "detail": o.detail} for o in self.observations]}


def verify(conn: Connection, plan: FixPlan, timeout: float = 30.0,
           interval: float = 0.5) -> VerifyResult:
    """Poll until every expectation of the plan is met, or ``timeout`` seconds pass."""
    start = time.monotonic()
    pending = list(plan.expect)
    done: dict[int, Observation] = {}
    last: dict[int, str] = {}
    while True:
        for i, e in enumerate(pending):
            if i in done:
                continue
            try:
                met, detail = _check(conn, e)
            except ClusterError as err:
                met, detail = False, f"cannot read: {err}"
            last[i] = detail
            if met:
                done[i] = Observation(e, True, detail)
        if len(done) == len(pending) or time.monotonic() - start >= timeout:
            break
        time.sleep(interval)
    elapsed = time.monotonic() - start
    obs = [done.get(i) or Observation(e, False, f"{last.get(i, 'not checked')} "
                                                f"(after {elapsed:.0f}s)")
           for i, e in enumerate(pending)]
    return VerifyResult(obs, elapsed)


def _get(conn: Connection, path: str) -> Obj | None:
    from kubectl_certdoctor.cluster.connection import ApiError

    try:
        doc = conn.get(path)
    except ApiError as e:
        if e.status == 404:
            return None
        raise
    return doc if isinstance(doc, dict) else None


def _list(conn: Connection, path: str) -> list[Obj]:
    doc = conn.get(path)
    return [o for o in as_list((doc or {}).get("items")) if isinstance(o, dict)]


def _check(conn: Connection, e: Expectation) -> tuple[bool, str]:
    if e.kind == "new-request":
        path = f"/apis/cert-manager.io/v1/namespaces/{e.ref.namespace}/certificaterequests"
        for cr in _list(conn, path):
            ann = annotations_of(cr)
            owned = ann.get(CERT_NAME_ANN) == e.ref.name or any(
                o.get("kind") == "Certificate" and o.get("name") == e.ref.name
                for o in owner_refs(cr))
            uid = text(dig(cr, "metadata", "uid"))
            if owned and uid not in e.known and as_int(ann.get(REVISION_ANN)) >= e.revision:
                return True, (f"CertificateRequest {name(cr)} (revision "
                              f"{ann.get(REVISION_ANN, '?')}) created")
        return False, "no new CertificateRequest yet (is cert-manager running?)"
    if e.kind == "condition":
        obj = _get(conn, object_path(e.ref))
        if obj is None:
            return False, f"{e.ref} not found"
        c = condition(obj, e.ctype) or {}
        st = text(c.get("status"))
        desc = f"{e.ctype}={st or 'absent'}" + (f" ({c.get('reason')})" if c.get("reason") else "")
        return st == e.status, desc
    if e.kind == "gone":
        obj = _get(conn, object_path(e.ref))
        if obj is None or text(dig(obj, "metadata", "uid")) != e.uid:
            return True, f"{e.ref} deleted"
        if dig(obj, "metadata", "deletionTimestamp"):
            fin = ", ".join(text(f) for f in as_list(dig(obj, "metadata", "finalizers")))
            return False, f"{e.ref} is terminating (finalizers: {fin or 'none'})"
        return False, f"{e.ref} still exists"
    if e.kind == "recreated":
        return _recreated(conn, e)
    if e.kind == "generation":
        obj = _get(conn, object_path(e.ref))
        if obj is None:
            return False, f"{e.ref} not found"
        gen = as_int(dig(obj, "metadata", "generation"))
        if gen <= e.generation:
            return False, f"generation still {gen}"
        detail = f"generation {e.generation} → {gen}"
        if e.ref.kind == "Deployment":
            observed = as_int(dig(obj, "status", "observedGeneration"))
            updated = as_int(dig(obj, "status", "updatedReplicas"))
            want = as_int(dig(obj, "spec", "replicas"), 1)
            if observed >= gen:
                detail += f"; rollout started ({updated}/{want} replicas updated)"
            else:
                detail += "; rollout not yet picked up by the deployment controller"
        return True, detail
    return False, f"unknown expectation {e.kind}"


def _recreated(conn: Connection, e: Expectation) -> tuple[bool, str]:
    """A new object of ``e.ctype`` (a kind) whose owner is ``e.ref`` (or, without an
    owner, the same name) with a uid not seen before."""
    from kubectl_certdoctor.fixes.model import kind_of

    kind = kind_of(e.ctype)
    path = f"{kind.path}/namespaces/{e.ref.namespace}/{kind.plural}"
    for o in _list(conn, path):
        uid = text(dig(o, "metadata", "uid"))
        if uid in e.known or dig(o, "metadata", "deletionTimestamp"):
            continue
        if e.uid and any(text(r.get("uid")) == e.uid for r in owner_refs(o)):
            return True, f"{e.ctype} {name(o)} created"
        if not e.uid and name(o) == e.ref.name:
            return True, f"{e.ctype} {name(o)} created"
    return False, f"no new {e.ctype} yet (is cert-manager running?)"
