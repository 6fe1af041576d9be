"""``renew``: trigger re-issuance exactly as ``cmctl renew`` does.

cmctl (cert-manager/cmctl pkg/renew) calls cert-manager's ``SetCertificateCondition``
with type Issuing, status True, reason ManuallyTriggered, message "Certificate
re-issuance manually triggered" and the Certificate's generation, then
``UpdateStatus`` (a PUT of the status subresource, carrying the resourceVersion it
read: a changed object is a Conflict). An existing Issuing condition is replaced in
place and keeps its lastTransitionTime when its status does not change.

Limits, which the plan states: it skips the backoff after failures but does not
reset ``status.failedIssuanceAttempts``; and when Issuing is already True (a
request stuck Pending) it changes nothing useful — cert-manager is already
"issuing" — so the plan is a no-op pointing at ``clear-failed-requests``.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from kubectl_certdoctor.backoff import certificate_backoff, config_from_args, human
from kubectl_certdoctor.fixes.model import (
    Call,
    Expectation,
    FixParams,
    FixPlan,
    FixSpec,
    ObjectDiff,
    kind_of,
    need,
    object_path,
    rv,
)
from kubectl_certdoctor.fixes.targets import next_revision, requests_of, revision
from kubectl_certdoctor.objects import (
    Obj,
    ObjectSet,
    Ref,
    as_int,
    condition,
    dig,
    name,
    text,
    uid,
)
from kubectl_certdoctor.versions import controller_args, controller_version

ISSUING = "Issuing"
REASON = "ManuallyTriggered"
MESSAGE = "Certificate re-issuance manually triggered"


def rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def now_of(params: FixParams) -> datetime:
    t = params.get("now")
    return t if isinstance(t, datetime) else datetime.now(UTC)


def set_issuing(cert: Obj, now: datetime) -> Obj:
    """A copy of ``cert`` with cmctl's Issuing condition (SetCertificateCondition)."""
    out = copy.deepcopy(cert)
    status = out.setdefault("status", {})
    if not isinstance(status, dict):
        status = out["status"] = {}
    conds = status.get("conditions")
    if not isinstance(conds, list):
        conds = status["conditions"] = []
    new: dict[str, Any] = {"type": ISSUING, "status": "True", "lastTransitionTime": rfc3339(now),
                           "reason": REASON, "message": MESSAGE,
                           "observedGeneration": as_int(dig(out, "metadata", "generation"))}
    for i, c in enumerate(conds):
        if isinstance(c, dict) and c.get("type") == ISSUING:
            if c.get("status") == "True" and c.get("lastTransitionTime"):
                new["lastTransitionTime"] = c["lastTransitionTime"]
            conds[i] = new
            return out
    conds.append(new)
    return out


def renew_call(cert: Obj, ref: Ref, now: datetime, *, rebase: bool = False) -> Call:
    k = kind_of("Certificate")
    body = set_issuing(cert, now)

    def _rebase(fresh: Obj) -> Obj:
        return set_issuing(fresh, datetime.now(UTC))

    return Call("PUT", object_path(ref, "status"), "update", ref, k.group, k.plural,
                subresource="status", body=body,
                description=f"set Issuing=True ({REASON}) on Certificate {ref.name}",
                precondition=rv(cert), rebase=_rebase if rebase else None)


def stuck_request_note(objs: ObjectSet, cert: Obj) -> str:
    """Which current request keeps Issuing True, in one phrase."""
    want = next_revision(cert)
    for cr in reversed(requests_of(objs, cert)):
        if revision(cr) >= want:
            c = condition(cr, "Ready") or {}
            msg = text(c.get("message"))
            return (f"CertificateRequest {name(cr)} (revision {revision(cr)}) is "
                    f"{text(c.get('reason')) or 'without a Ready condition'}"
                    + (f": {msg[:160]}" if msg else ""))
    return "no CertificateRequest for the next revision exists"


def backoff_warnings(objs: ObjectSet, cert: Obj, now: datetime) -> list[str]:
    out: list[str] = []
    attempts = as_int(dig(cert, "status", "failedIssuanceAttempts"))
    if attempts:
        out.append(f"renew skips the backoff but does not reset failedIssuanceAttempts "
                   f"({attempts}): if this attempt fails too, the next wait is longer")
    found = controller_version(objs)
    bo = certificate_backoff(cert, now, config_from_args(
        controller_args(objs), (found[0].major, found[0].minor) if found else None))
    if bo is not None and bo.active:
        out.append(f"cert-manager would wait {human(bo.remaining)} more (backoff after "
                   f"{bo.attempts} failure(s)); renew starts the attempt now")
    return out


def plan_renew(objs: ObjectSet, target: Ref, params: FixParams) -> FixPlan:
    cert = need(objs, target)
    now = now_of(params)
    plan = FixPlan("renew", f"Renew Certificate {target.name} (as cmctl renew)", target)
    issuing = condition(cert, ISSUING)
    if issuing is not None and text(issuing.get("status")) == "True":
        since = text(issuing.get("lastTransitionTime")) or "?"
        plan.noop_reason = (
            f"Issuing is already True (reason {text(issuing.get('reason')) or '?'}, since "
            f"{since}): renew would change nothing; {stuck_request_note(objs, cert)}")
        plan.suggest = ["clear-failed-requests"]
        plan.notes.append("Delete the stuck or failed request (clear-failed-requests): "
                          "cert-manager then creates a new one for the same revision.")
        return plan
    plan.calls.append(renew_call(cert, target, now))
    plan.diffs.append(ObjectDiff(target, cert, plan.calls[0].body))
    plan.warnings += backoff_warnings(objs, cert, now)
    known = frozenset(uid(cr) for cr in requests_of(objs, cert))
    plan.expect += [
        Expectation("condition", target, "Certificate Issuing=True", ctype=ISSUING,
                    status="True"),
        Expectation("new-request", target,
                    f"cert-manager creates a CertificateRequest for revision "
                    f"{next_revision(cert)}", revision=next_revision(cert), known=known),
    ]
    return plan


SPEC = FixSpec(
    id="renew",
    title="Trigger re-issuance now (cmctl renew)",
    resolves=("ISSUANCE_BACKOFF", "CERTIFICATE_REQUEST_FAILED", "CERTIFICATE_REQUEST_DENIED",
              "CERTIFICATE_EXPIRING", "CERTIFICATE_EXPIRED", "SECRET_MISMATCH",
              "ACME_ORDER_FAILED", "VAULT_PERMISSION_DENIED_NOT_RETRIED",
              "ACME_AUTHORIZATION_INVALID", "ACME_CAA_FORBIDS", "ACME_DNS_LOOKUP_FAILED",
              "VAULT_AUTH_FAILED",
              "EXTERNAL_ISSUER_NOT_READY"),
    mutating=True,
    target_kinds=("Certificate",),
    planner=plan_renew,
    reads=("Certificate", "CertificateRequest"),
    doc="Sets the Certificate's Issuing condition True (reason ManuallyTriggered) through "
        "the status subresource, exactly as cmctl renew.",
)
