"""The one fix workflow: plan → RBAC check → server-side dry run → confirm → apply →
audit → verify, for the CLI (commands/fix.py) and the TUI (screens/fix.py) alike.

Each step is a method that does its I/O and writes the audit entry its outcome calls for,
so the two front ends only present results and ask the question in their own way:

- a refusal (``--read-only``, RBAC, a failed or conflicting dry run, a cancelled or
  refused confirmation) is audited where it happens;
- the write is audited the moment ``apply`` returns — before any verification, so Ctrl-C
  or a crash while waiting for the expected effect cannot leave a change unaudited (the
  verification only reads; its outcome is shown, not audited).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubectl_certdoctor.errors import ClusterError
from kubectl_certdoctor.fixes import audit
from kubectl_certdoctor.fixes.execute import RbacVerdict, RunResult, apply, dry_run, rbac_check
from kubectl_certdoctor.fixes.model import ConflictError, FixPlan
from kubectl_certdoctor.fixes.verify import VerifyResult, verify

if TYPE_CHECKING:
    from kubectl_certdoctor.cluster.connection import Connection


@dataclass
class FixRun:
    """One attempt at one plan against one cluster."""

    conn: Connection
    plan: FixPlan
    read_only: bool = False
    rbac: RbacVerdict | None = None
    dry: RunResult | None = None
    applied: RunResult | None = None
    verified: VerifyResult | None = None
    #: where the entries went (shown to the user)
    audit_file: str = field(default_factory=lambda: str(audit.audit_path()))

    def _record(self, result: str, **kw: Any) -> None:
        audit.record_for(self.conn, self.plan, result, **kw)

    def refuse(self, why: str) -> None:
        """The fix stops before the cluster is asked anything (``--read-only``, no TTY)."""
        self._record("refused", dry_run=self.dry, error=why)

    def check(self) -> bool:
        """RBAC, then the server-side dry run (``dryRun=All``): True when both pass.
        ``rbac``/``dry`` hold what to show either way."""
        self.rbac = rbac_check(self.conn, self.plan, read_only=self.read_only)
        if not self.rbac.allowed:
            self._record("forbidden", error=self.rbac.reason)
            return False
        self.dry = dry_run(self.conn, self.plan, read_only=self.read_only)
        if not self.dry.ok:
            self._record("conflict" if self.dry.conflict else "dry-run-failed",
                         dry_run=self.dry)
            return False
        return True

    def dry_run_only(self) -> None:
        """The user asked for the dry run alone (``--dry-run``)."""
        self._record("dry-run", dry_run=self.dry)

    def cancel(self) -> None:
        """The user said no at the confirmation."""
        self._record("cancelled", dry_run=self.dry)

    def apply(self) -> RunResult:
        """Write the change, audited at once. Raises ``ConflictError`` (the object changed
        since it was read) and ``ClusterError`` after auditing them."""
        try:
            self.applied = apply(self.conn, self.plan, read_only=self.read_only)
        except ConflictError as e:
            self._record("conflict", dry_run=self.dry, applied=getattr(e, "result", None),
                         error=str(e))
            raise
        except ClusterError as e:
            self._record("failed", dry_run=self.dry, error=str(e))
            raise
        self._record("applied" if self.applied.ok else "failed", dry_run=self.dry,
                     applied=self.applied)
        return self.applied

    def verify(self, timeout: float, stop: threading.Event | None = None,
               progress: Callable[[VerifyResult, bool], None] | None = None) -> VerifyResult:
        """Watch for the plan's expected effect for up to ``timeout`` seconds (every half
        second, ``progress(seen, done)`` each time)."""
        deadline = time.monotonic() + timeout
        while True:
            seen = verify(self.conn, self.plan, timeout=0)
            done = seen.ok or time.monotonic() >= deadline or \
                (stop is not None and stop.is_set())
            if progress is not None:
                progress(seen, done)
            if done:
                break
            if stop is not None:
                stop.wait(0.5)
            else:
                time.sleep(0.5)
        self.verified = seen
        return seen
