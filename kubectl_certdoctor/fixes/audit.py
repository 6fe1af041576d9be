"""The audit log: one JSON line per fix attempt, under the user's state directory.

A fix changes a shared cluster; weeks later someone asks "who deleted that
CertificateRequest?". The log answers: who (the API server's idea of the user),
which context, which fix and targets, the exact calls, the dry-run result, when,
and how it ended. Location: ``$CERTDOCTOR_STATE_DIR``, else
``$XDG_STATE_HOME/kubectl-certdoctor``, else ``~/.local/state/kubectl-certdoctor``.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubectl_certdoctor.errors import CertdoctorError

if TYPE_CHECKING:
    from kubectl_certdoctor.fixes.execute import RunResult
    from kubectl_certdoctor.fixes.model import FixPlan
    from kubectl_certdoctor.fixes.verify import VerifyResult

FILE_NAME = "audit.jsonl"


def state_dir() -> Path:
    env = os.environ.get("CERTDOCTOR_STATE_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / "kubectl-certdoctor"


def audit_path() -> Path:
    return state_dir() / FILE_NAME


def record(*, user: str, context: str, server: str, plan: FixPlan, result: str,
           dry_run: RunResult | None = None, applied: RunResult | None = None,
           verified: VerifyResult | None = None, error: str = "") -> dict[str, Any]:
    """Append one entry; returns it. ``result``: applied, dry-run, refused, conflict,
    failed, cancelled."""
    entry: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "user": user,
        "context": context,
        "server": server,
        "fix": plan.fix_id,
        "target": str(plan.target),
        "targets": sorted({str(c.ref) for c in plan.calls} | {str(plan.target)}),
        "params": plan.params,
        "calls": [c.to_json() for c in plan.calls],
        "dry_run": dry_run.to_json() if dry_run else None,
        "apply": applied.to_json() if applied else None,
        "verify": verified.to_json() if verified else None,
        "result": result,
    }
    if error:
        entry["error"] = error
    path = audit_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, default=str, sort_keys=False) + "\n")
    except OSError as e:
        raise CertdoctorError(f"cannot write the audit log {path}: {e.strerror or e}",
                              hint="set CERTDOCTOR_STATE_DIR to a writable directory") from None
    return entry


def record_for(conn: Any, plan: FixPlan, result: str, **kw: Any) -> dict[str, Any]:
    """``record`` with who/context/server taken from a ``Connection``."""
    return record(user=str(getattr(conn, "user", "") or ""),
                  context=str(getattr(conn, "context", "") or ""),
                  server=str(getattr(conn, "server", "") or ""), plan=plan, result=result, **kw)


def read_entries(path: Path | None = None) -> list[dict[str, Any]]:
    """Every entry of the log (oldest first); [] when there is none yet."""
    p = path or audit_path()
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    out = []
    for ln in lines:
        try:
            doc = json.loads(ln)
        except json.JSONDecodeError:
            continue
        if isinstance(doc, dict):
            out.append(doc)
    return out
