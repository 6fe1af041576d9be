"""Per-kind status and the one-line reason the tree shows next to each node.

The reason is the single message that matters for that kind: the Challenge's
self-check message, the CertificateRequest's failure, "next retry in 43m"
during an issuance backoff. Everything tolerates malformed objects.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from kubectl_certdoctor.backoff import BackoffConfig, certificate_backoff, human
from kubectl_certdoctor.objects import Obj, dig, parse_time, text


class Status(Enum):
    READY = "ready"
    PROGRESS = "progress"
    FAILED = "failed"
    WARNING = "warning"
    MISSING = "missing"
    UNKNOWN = "unknown"


#: statuses that count as trouble (red or yellow in the tree, "problems only")
PROBLEM = frozenset({Status.FAILED, Status.WARNING, Status.MISSING})


#: words in a pending Challenge's reason that mean "retrying after an error"
_TROUBLE = (
    "wrong status code", "error", "failed", "timeout", "timed out", "refused",
    "no such host", "deadline", "unreachable", "redirect", "not found", "i/o",
)


def one_line(msg: str, limit: int = 200) -> str:
    """Collapse whitespace; cap very long messages for the tree."""
    s = " ".join(msg.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _cond(obj: Obj, ctype: str) -> tuple[str, str, str]:
    """(status, reason, message) of one condition; hand-inlined because the tree
    computes it for every node on every change."""
    st = obj.get("status")
    conds = st.get("conditions") if isinstance(st, dict) else None
    if isinstance(conds, list):
        for c in conds:
            if isinstance(c, dict) and c.get("type") == ctype:
                return text(c.get("status")), text(c.get("reason")), text(c.get("message"))
    return "", "", ""


def issuer_status(obj: Obj) -> tuple[Status, str]:
    st, reason, msg = _cond(obj, "Ready")
    if st == "True":
        return Status.READY, one_line(msg or "Ready")
    if st == "False":
        return Status.FAILED, one_line(msg or reason or "not ready")
    if st == "Unknown":
        return Status.PROGRESS, one_line(msg or reason or "not ready yet")
    return Status.UNKNOWN, "no Ready condition yet"


def certificate_status(
    obj: Obj, now: datetime, cfg: BackoffConfig | None = None
) -> tuple[Status, str]:
    ready, _, ready_msg = _cond(obj, "Ready")
    issuing, _, issuing_msg = _cond(obj, "Issuing")
    not_after = parse_time(dig(obj, "status", "notAfter"))
    expired = not_after is not None and not_after <= now
    # Issuing=True while a backoff runs: renewed by hand (cmctl renew); cert-manager's
    # trigger controller waits out the backoff only before it sets Issuing (v1.21.1
    # trigger_controller.go: "Do nothing if an issuance is already in progress")
    bo = certificate_backoff(obj, now, cfg) if issuing != "True" else None
    if bo is not None and bo.active:
        why = f" after {bo.attempts} failed attempt{'s' if bo.attempts != 1 else ''}" \
            if bo.attempts else ""
        msg = f"next retry in {human(bo.remaining)}{why}"
        if expired:
            msg = f"EXPIRED; {msg}"
        return Status.FAILED, msg
    if expired and not_after is not None:
        return Status.FAILED, f"expired {human(now - not_after)} ago"
    if issuing == "True":
        return Status.PROGRESS, one_line(issuing_msg or "issuing")
    if ready == "True":
        if not_after is not None:
            return Status.READY, f"valid, expires in {human(not_after - now)}"
        return Status.READY, one_line(ready_msg or "Ready")
    if ready == "False":
        return Status.FAILED, one_line(ready_msg or "not ready")
    if ready == "Unknown":
        return Status.PROGRESS, one_line(ready_msg or "not ready yet")
    return Status.UNKNOWN, "no Ready condition yet"


def request_status(obj: Obj) -> tuple[Status, str]:
    denied, _, denied_msg = _cond(obj, "Denied")
    if denied == "True":
        return Status.FAILED, one_line(f"denied: {denied_msg}" if denied_msg else "denied")
    invalid, _, invalid_msg = _cond(obj, "InvalidRequest")
    if invalid == "True":
        return Status.FAILED, one_line(f"invalid: {invalid_msg}" if invalid_msg else "invalid")
    ready, reason, msg = _cond(obj, "Ready")
    if ready == "True":
        return Status.READY, one_line(msg or "issued")
    if ready == "False" and reason in ("Failed", "Denied"):
        return Status.FAILED, one_line(msg or reason)
    approved, _, _ = _cond(obj, "Approved")
    if not approved:
        return Status.PROGRESS, "waiting for approval"
    if ready == "False":
        low = msg.lower()
        if any(w in low for w in _TROUBLE):
            return Status.WARNING, one_line(msg)
        return Status.PROGRESS, one_line(msg or reason or "pending")
    return Status.PROGRESS, one_line(msg or "pending")


def order_status(obj: Obj) -> tuple[Status, str]:
    state = text(dig(obj, "status", "state"))
    reason = text(dig(obj, "status", "reason"))
    if state == "valid":
        return Status.READY, "valid"
    if state in ("invalid", "errored", "expired"):
        return Status.FAILED, one_line(f"{state}: {reason}" if reason else state)
    if state in ("pending", "ready", "processing"):
        return Status.PROGRESS, one_line(f"{state}: {reason}" if reason else state)
    return Status.PROGRESS if not state else Status.UNKNOWN, one_line(
        reason or (state or "not processed yet"))


def challenge_status(obj: Obj) -> tuple[Status, str]:
    state = text(dig(obj, "status", "state"))
    reason = text(dig(obj, "status", "reason"))
    if state == "valid":
        return Status.READY, "valid"
    if state in ("invalid", "errored", "expired"):
        return Status.FAILED, one_line(f"{state}: {reason}" if reason else state)
    if reason and any(w in reason.lower() for w in _TROUBLE):
        return Status.WARNING, one_line(reason)
    if state in ("pending", "ready", "processing", ""):
        return Status.PROGRESS, one_line(reason or state or "not processed yet")
    return Status.UNKNOWN, one_line(reason or state)


def status_of(
    kind: str, obj: Obj, now: datetime, cfg: BackoffConfig | None = None
) -> tuple[Status, str]:
    """Status and reason for any object kind the tree shows."""
    if kind in ("Issuer", "ClusterIssuer"):
        return issuer_status(obj)
    if kind == "Certificate":
        return certificate_status(obj, now, cfg)
    if kind == "CertificateRequest":
        return request_status(obj)
    if kind == "Order":
        return order_status(obj)
    if kind == "Challenge":
        return challenge_status(obj)
    return Status.UNKNOWN, ""
