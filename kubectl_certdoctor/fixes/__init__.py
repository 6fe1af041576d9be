"""Fixes: resolve a diagnosed cause from the keyboard, safely.

``plan`` (pure) → preview (calls + diff) → ``rbac_check`` → ``dry_run`` → confirm →
``apply`` (optimistic concurrency) → ``verify`` → audit log. ``--read-only``
refuses every mutating path before a request is sent.

For a screen (the CLI in ``commands/fix.py`` does exactly this)::

    from kubectl_certdoctor import fixes
    from kubectl_certdoctor.fixes import audit
    from kubectl_certdoctor.fixes.registry import offers

    for spec, target in offers(finding.code, objs, finding.object, read_only=opts.read_only):
        plan = spec.plan(objs, target, params)        # pure; plan.preview() / plan.diffs
        verdict = fixes.rbac_check(conn, plan, read_only=opts.read_only)  # grey out: .reason
        dry = fixes.dry_run(conn, plan, read_only=opts.read_only)         # dry.lines()
        conf = fixes.confirmation(plan)               # "yn" or "type" (conf.accepts(text))
        done = fixes.apply(conn, plan, read_only=opts.read_only)  # ConflictError on change
        seen = fixes.verify(conn, plan, timeout=30)   # blocking poll: run in a worker
        audit.record_for(conn, plan, "applied", dry_run=dry, applied=done, verified=seen)

``read_only`` defaults to ``conn.read_only`` when the Connection has that attribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubectl_certdoctor.fixes.execute import (
    CallResult,
    RbacVerdict,
    RunResult,
    apply,
    dry_run,
    ensure_writable,
    rbac_check,
)
from kubectl_certdoctor.fixes.model import (
    Call,
    ConflictError,
    FixError,
    FixPlan,
    FixSpec,
    confirmation,
)
from kubectl_certdoctor.fixes.verify import VerifyResult, verify
from kubectl_certdoctor.objects import ObjectSet, Ref

__all__ = [
    "Call", "CallResult", "ConflictError", "FixError", "FixPlan", "FixSpec", "RbacVerdict",
    "RunResult", "VerifyResult", "apply", "confirmation", "dry_run", "ensure_writable",
    "plan", "rbac_check", "verify",
]


def plan(fix_id: str, objs: ObjectSet, target: Ref,
         params: Mapping[str, Any] | None = None) -> FixPlan:
    """Plan fix ``fix_id`` for ``target``, first resolved to the object the fix acts on
    (a CertificateRequest → its Certificate, a Challenge → its Issuer, ...)."""
    from kubectl_certdoctor.fixes.registry import FIXES
    from kubectl_certdoctor.fixes.targets import resolve

    spec = FIXES.get(fix_id)
    if spec is None:
        raise FixError(f"unknown fix {fix_id!r}", hint="see 'fix list'")
    return spec.plan(objs, resolve(fix_id, objs, target), params or {})
