"""Running a plan against the API server: RBAC pre-check, server-side dry run, apply.

Every mutating entry point checks ``--read-only`` before it sends anything, so
read-only mode cannot write even through a code path that forgot to hide a fix.
``apply`` never retries blindly: a changed object is a ``ConflictError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubectl_certdoctor.errors import ClusterError, ReadOnlyError
from kubectl_certdoctor.fixes.model import Call, ConflictError, FixPlan
from kubectl_certdoctor.objects import Obj

if TYPE_CHECKING:
    from kubectl_certdoctor.cluster.connection import Connection

FIELD_MANAGER = "kubectl-certdoctor"
SSAR_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
READ_ONLY_REASON = "--read-only is in force: fixes are disabled"


@dataclass
class CallResult:
    """What the server answered to one call."""

    call: Call
    status: int
    message: str = ""
    conflict: bool = False

    @property
    def ok(self) -> bool:
        # deleting what someone else already deleted reaches the state the plan wanted
        return 200 <= self.status <= 299 or self.already_gone

    @property
    def already_gone(self) -> bool:
        return self.call.method == "DELETE" and self.status == 404

    def line(self) -> str:
        if self.already_gone:
            return f"ok (404, already gone) {self.call.method} {self.call.path}"
        verdict = "ok" if self.ok else ("CONFLICT" if self.conflict else "FAILED")
        tail = f": {self.message}" if self.message else ""
        return f"{verdict} ({self.status}) {self.call.method} {self.call.path}{tail}"

    def to_json(self) -> dict[str, Any]:
        return {"method": self.call.method, "path": self.call.path, "status": self.status,
                "ok": self.ok, "conflict": self.conflict, "message": self.message}


@dataclass
class RunResult:
    """All calls of one dry run or apply, in order (stops at the first failure)."""

    dry_run: bool
    results: list[CallResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def conflict(self) -> bool:
        return any(r.conflict for r in self.results)

    def lines(self) -> list[str]:
        return [r.line() for r in self.results]

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "ok": self.ok, "conflict": self.conflict,
                "calls": [r.to_json() for r in self.results]}


@dataclass
class RbacCheck:
    verb: str
    group: str
    resource: str
    subresource: str
    namespace: str
    name: str
    allowed: bool
    reason: str

    def describe(self) -> str:
        res = self.resource + (f"/{self.subresource}" if self.subresource else "")
        if self.group:
            res += f".{self.group}"
        where = f" in namespace {self.namespace}" if self.namespace else ""
        return f"{self.verb} {res}{where}"


@dataclass
class RbacVerdict:
    """Whether the current user may run every call; ``reason`` says why not."""

    allowed: bool
    reason: str
    checks: list[RbacCheck] = field(default_factory=list)

    def __iter__(self) -> Any:  # (allowed, reason) = rbac_check(...)
        return iter((self.allowed, self.reason))


def _read_only(conn: Connection, read_only: bool | None) -> bool:
    if read_only is None:
        return bool(getattr(conn, "read_only", False))
    return read_only


def ensure_writable(conn: Connection, read_only: bool | None) -> None:
    """Raise ReadOnlyError when --read-only is in force (before any request)."""
    if _read_only(conn, read_only):
        raise ReadOnlyError("refusing to modify the cluster: --read-only is in force")


def rbac_check(conn: Connection, plan: FixPlan, *, read_only: bool | None = None) -> RbacVerdict:
    """One SelfSubjectAccessReview per distinct (verb, resource, subresource, namespace,
    name) of the plan. Read-only mode answers "not allowed" without a request."""
    if _read_only(conn, read_only):
        return RbacVerdict(False, READ_ONLY_REASON)
    if not plan.calls:
        return RbacVerdict(True, "no API calls")
    seen: set[tuple[str, ...]] = set()
    checks: list[RbacCheck] = []
    for c in plan.calls:
        key = (c.verb, c.group, c.resource, c.subresource, c.ref.namespace, c.ref.name)
        if key in seen:
            continue
        seen.add(key)
        attrs = {"verb": c.verb, "group": c.group, "resource": c.resource,
                 "subresource": c.subresource, "namespace": c.ref.namespace,
                 "name": c.ref.name}
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": {k: v for k, v in attrs.items() if v}}}
        doc = conn.json("POST", SSAR_PATH, body=body)
        st = (doc or {}).get("status") or {}
        allowed = bool(st.get("allowed")) and not bool(st.get("denied"))
        reason = str(st.get("reason") or st.get("evaluationError") or "")
        checks.append(RbacCheck(c.verb, c.group, c.resource, c.subresource,
                                c.ref.namespace, c.ref.name, allowed, reason))
    denied = [ck for ck in checks if not ck.allowed]
    if not denied:
        return RbacVerdict(True, "allowed", checks)
    who = getattr(conn, "user", "") or "the current user"
    why = "; ".join(ck.describe() for ck in denied)
    return RbacVerdict(False, f"{who} may not {why}", checks)


def dry_run(conn: Connection, plan: FixPlan, *, read_only: bool | None = None) -> RunResult:
    """Send every call with ``dryRun=All``: the server validates, admits and checks
    preconditions, and persists nothing."""
    ensure_writable(conn, read_only)
    out = RunResult(dry_run=True)
    for c in plan.calls:
        r = _send(conn, c, c.body, dry=True)
        out.results.append(r)
        if not r.ok:
            break
    return out


def apply(conn: Connection, plan: FixPlan, *, read_only: bool | None = None) -> RunResult:
    """Send the calls for real, in order, stopping at the first failure.

    Raises ``ConflictError`` (with ``.result``) when an object changed since it was read.
    """
    ensure_writable(conn, read_only)
    out = RunResult(dry_run=False)
    for c in plan.calls:
        r = _send(conn, c, c.body, dry=False)
        if r.conflict and c.rebase is not None:
            fresh = _fresh(conn, c)
            if fresh is not None:
                r = _send(conn, c, c.rebase(fresh), dry=False)
        out.results.append(r)
        if r.conflict:
            err = ConflictError(
                f"{c.ref} changed since it was read; nothing was overwritten "
                f"({c.method} {c.path}: {r.message})",
                hint="re-read the object and plan the fix again")
            err.result = out  # type: ignore[attr-defined]
            raise err
        if not r.ok:
            break
    return out


def _fresh(conn: Connection, c: Call) -> Obj | None:
    path = c.path.removesuffix("/" + c.subresource) if c.subresource else c.path
    try:
        doc = conn.get(path)
    except ClusterError:
        return None
    return doc if isinstance(doc, dict) else None


def _send(conn: Connection, c: Call, body: Any, *, dry: bool) -> CallResult:
    import orjson

    query: list[tuple[str, str]] = []
    if dry:
        query.append(("dryRun", "All"))
        if c.method == "DELETE" and isinstance(body, dict):
            # the API server reads DeleteOptions from the body when there is one and then
            # ignores the query: without this the "dry run" would really delete
            body = {**body, "dryRun": ["All"]}
    if c.method in ("POST", "PUT", "PATCH"):
        query.append(("fieldManager", FIELD_MANAGER))
    resp = conn.request(c.method, c.path, query or None, body,
                        content_type=c.content_type if body is not None else None, check=False)
    try:
        raw = resp.data
    finally:
        resp.release_conn()
    message = ""
    try:
        doc = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        doc = None
    status = int(resp.status)
    if not 200 <= status <= 299:
        if isinstance(doc, dict):
            message = " ".join(str(doc.get("message") or "").split())[:300]
        if not message:
            message = raw[:200].decode("utf-8", "replace").strip()
    conflict = status == 409 and c.method != "POST"
    if status == 422 and c.method == "PATCH" and c.precondition:
        # a failed JSON-patch ``test`` op reads as a generic 422; if the object moved on
        # since we read it, that is what happened: the value we planned to replace changed
        now = _current_rv(conn, c)
        if now and now != c.precondition:
            conflict = True
            message = (f"the object changed since it was read (resourceVersion "
                       f"{c.precondition} → {now}): {message}")
    return CallResult(c, status, message, conflict)


def _current_rv(conn: Connection, c: Call) -> str:
    fresh = _fresh(conn, c)
    md = (fresh or {}).get("metadata")
    return str(md.get("resourceVersion") or "") if isinstance(md, dict) else ""
