"""``clear-failed-requests``: delete the Failed (or stuck) requests, then renew.

Seed 002: a Failed CertificateRequest for the revision being issued stays and
blocks retries until it is deleted and ``cmctl renew`` is run. Seed 003 (Vault,
cert-manager before the PR #7105 fix): the request sits Pending with "Failed to
initialise vault client" and is never retried while Issuing stays True; deleting
it makes cert-manager create a fresh one (Issuing is already True, so no renew).
"""

from __future__ import annotations

from kubectl_certdoctor.fixes.model import (
    Expectation,
    FixParams,
    FixPlan,
    FixSpec,
    ObjectDiff,
    delete_call,
    need,
)
from kubectl_certdoctor.fixes.renew import (
    ISSUING,
    backoff_warnings,
    now_of,
    renew_call,
)
from kubectl_certdoctor.fixes.targets import next_revision, requests_of, revision
from kubectl_certdoctor.objects import Obj, ObjectSet, Ref, condition, text, uid
from kubectl_certdoctor.rules.requests import VAULT_INIT
from kubectl_certdoctor.versions import controller_version, vault_retry_fixed


def _ready(cr: Obj) -> tuple[str, str, str]:
    c = condition(cr, "Ready") or {}
    return text(c.get("status")), text(c.get("reason")), text(c.get("message"))


def is_failed(cr: Obj) -> bool:
    """Ready=False with reason Failed, or Denied: final states cert-manager never retries
    in place (it needs a new request for the revision)."""
    st, reason, _ = _ready(cr)
    denied = condition(cr, "Denied") or {}
    if text(denied.get("status")) == "True":
        return True
    return st == "False" and reason in ("Failed", "Denied")


def is_stuck_pending(cr: Obj, include_pending: bool) -> bool:
    """Pending forever: the Vault client error that old releases never requeue, or any
    Pending request when the user asked for it (``include_pending``)."""
    st, reason, msg = _ready(cr)
    if st != "False" or reason != "Pending":
        return False
    return include_pending or msg.startswith(VAULT_INIT)


def plan_clear(objs: ObjectSet, target: Ref, params: FixParams) -> FixPlan:
    cert = need(objs, target)
    now = now_of(params)
    include_pending = bool(params.get("include_pending"))
    want = next_revision(cert)
    plan = FixPlan("clear-failed-requests",
                   f"Delete failed requests of Certificate {target.name} and renew", target)
    crs = [cr for cr in requests_of(objs, cert) if revision(cr) >= want]
    issuing = condition(cert, ISSUING) or {}
    issuing_true = text(issuing.get("status")) == "True"
    failed = [cr for cr in crs if is_failed(cr)]
    stuck = [cr for cr in crs if issuing_true and is_stuck_pending(cr, include_pending)]
    doomed = failed + [cr for cr in stuck if cr not in failed]
    if not doomed:
        plan.noop_reason = (f"no Failed or stuck CertificateRequest for revision {want} "
                            f"of Certificate {target.name}")
        if not issuing_true:
            plan.suggest = ["renew"]
        return plan
    for cr in doomed:
        ref = Ref.of(cr)
        reason = _ready(cr)[1] or "Denied"
        plan.calls.append(delete_call(cr, ref, f"delete {reason} CertificateRequest "
                                               f"{ref.name} (revision {revision(cr)})"))
        plan.diffs.append(ObjectDiff(ref, cr, None))
        plan.expect.append(Expectation("gone", ref, f"CertificateRequest {ref.name} deleted",
                                       uid=uid(cr)))
    if stuck:
        found = controller_version(objs)
        if found is not None and vault_retry_fixed(found[0]):
            plan.notes.append(f"cert-manager {found[0]} retries Vault client errors by itself; "
                              "deleting the request only makes it retry now.")
        plan.notes.append("Issuing is already True: once the stuck request is gone, "
                          f"cert-manager creates a new one for revision {want} (no renew needed).")
    else:
        plan.calls.append(renew_call(cert, target, now, rebase=True))
        plan.diffs.append(ObjectDiff(target, cert, plan.calls[-1].body))
        plan.expect.append(Expectation("condition", target, "Certificate Issuing=True",
                                       ctype=ISSUING, status="True"))
        plan.warnings += backoff_warnings(objs, cert, now)
    known = frozenset(uid(cr) for cr in requests_of(objs, cert))
    plan.expect.append(Expectation("new-request", target,
                                   f"cert-manager creates a CertificateRequest for revision "
                                   f"{want}", revision=want, known=known))
    return plan


SPEC = FixSpec(
    id="clear-failed-requests",
    title="Delete the failed/stuck requests of the next revision, then renew",
    resolves=("CERTIFICATE_REQUEST_FAILED", "ISSUANCE_BACKOFF", "CERTIFICATE_REQUEST_DENIED",
              "VAULT_PERMISSION_DENIED_NOT_RETRIED", "ACME_ORDER_FAILED", "CERTIFICATE_EXPIRED",
              "ACME_AUTHORIZATION_INVALID", "ACME_CAA_FORBIDS", "ACME_DNS_LOOKUP_FAILED",
              "VAULT_AUTH_FAILED",
              "EXTERNAL_ISSUER_NOT_READY"),
    mutating=True,
    target_kinds=("Certificate",),
    planner=plan_clear,
    reads=("Certificate", "CertificateRequest", "Deployment"),
    param_help=("include_pending=true  also delete Pending requests of the next revision",),
    doc="Deletes the Failed CertificateRequests of the revision being issued (and one stuck "
        "Pending on a Vault client error), then sets Issuing=True as cmctl renew does.",
)
