"""``kubectl certdoctor fix <id> <kind>/<name>``: preview, RBAC check, dry run, confirm, apply.

Order matters and is fixed: the preview (calls + diff) is printed first; the
RBAC check and the server-side dry run happen before any question is asked; a
real write needs ``--yes`` or a confirmation typed on a terminal (never assumed
when stdin is not a TTY). Every attempt that reaches the cluster is audited.
Bundles and the demo get the preview only: fixes need a live cluster.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from kubectl_certdoctor.errors import ReadOnlyError, UsageError
from kubectl_certdoctor.fixes.model import ConflictError, FixError, FixPlan, FixSpec, confirmation
from kubectl_certdoctor.fixes.reads import read_objects
from kubectl_certdoctor.fixes.registry import FIXES
from kubectl_certdoctor.fixes.targets import resolve
from kubectl_certdoctor.fixes.workflow import FixRun
from kubectl_certdoctor.kinds import lookup
from kubectl_certdoctor.objects import ObjectSet, Ref
from kubectl_certdoctor.options import Options, parse_duration

if TYPE_CHECKING:
    from kubectl_certdoctor.cluster.connection import Connection

_CONTROLLER_FIXES = ("add-no-proxy", "set-recursive-nameservers", "upgrade-guidance")


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def err(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def list_fixes() -> int:
    for spec in FIXES.values():
        kind = "writes" if spec.mutating else "read-only"
        out(f"{spec.id:27} {spec.title}")
        out(f"{'':27} targets: {', '.join(spec.target_kinds)}; {kind}; resolves: "
            f"{', '.join(spec.resolves)}")
        for p in spec.param_help:
            out(f"{'':27} --set {p}")
    return 0


def parse_params(items: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for it in items or []:
        key, sep, value = it.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"invalid --set {it!r}", hint="use --set KEY=VALUE")
        params[key.strip()] = value.strip()
    return params


def parse_target(word: str | None, namespace: str) -> Ref | None:
    if not word:
        return None
    kind_word, sep, nm = word.partition("/")
    if not sep or not nm:
        raise UsageError(f"invalid target {word!r}", hint="use kind/name, e.g. certificate/web")
    kind = lookup(kind_word)
    if kind is None:
        raise UsageError(f"unknown kind {kind_word!r}",
                         hint="e.g. certificate, certificaterequest, challenge, order, issuer, "
                              "clusterissuer, deployment")
    return Ref(kind.name, namespace if kind.namespaced else "", nm)


def make_plan(spec: FixSpec, objs: ObjectSet, target: Ref | None,
              params: dict[str, Any]) -> FixPlan:
    if target is None:
        if spec.id not in _CONTROLLER_FIXES:
            raise UsageError(f"fix {spec.id} needs a target kind/name",
                             hint="targets: " + ", ".join(spec.target_kinds))
        from kubectl_certdoctor.fixes.targets import controller_ref

        target = controller_ref(objs)
        if target is None:
            raise FixError("no cert-manager controller Deployment found",
                           hint="name it: deployment/<name> -n <namespace>")
    return spec.plan(objs, resolve(spec.id, objs, target), params)


def _offline(opts: Options, spec: FixSpec, args: argparse.Namespace,
             params: dict[str, Any]) -> int:
    from datetime import UTC, datetime

    from kubectl_certdoctor.commands.check import load_offline

    objs = load_offline(opts, datetime.now(UTC))
    target = parse_target(args.target, opts.namespace or "default")
    plan = make_plan(spec, objs, target, params)
    sys.stdout.write(plan.preview())
    out("fixes need a live cluster: this is a preview of a bundle/demo, nothing was sent")
    return 0


def run(opts: Options, args: argparse.Namespace) -> int:
    if args.fix_id == "list":
        return list_fixes()
    spec = FIXES.get(args.fix_id)
    if spec is None:
        raise UsageError(f"unknown fix {args.fix_id!r}", hint="one of: " + ", ".join(FIXES))
    params = parse_params(getattr(args, "params", []) or [])
    parse_target(args.target, "")  # a malformed target fails before any connection
    if opts.offline:
        return _offline(opts, spec, args, params)
    from kubectl_certdoctor.cluster.connection import connect

    conn = connect(opts)
    try:
        return _live(conn, opts, spec, args, params)
    finally:
        conn.close()


def _live(conn: Connection, opts: Options, spec: FixSpec, args: argparse.Namespace,
          params: dict[str, Any]) -> int:
    namespace = opts.namespace or conn.namespace or "default"
    target = parse_target(args.target, namespace)
    objs = read_objects(conn, spec, target, namespace)
    plan = make_plan(spec, objs, target, params)
    sys.stdout.write(plan.preview())
    if not plan.calls:
        if plan.noop_reason:
            err(f"nothing to do: {plan.noop_reason}")
            return 1
        return 0
    run = FixRun(conn, plan, read_only=opts.read_only)
    if opts.read_only:
        run.refuse("--read-only")
        raise ReadOnlyError("--read-only is in force: fixes are disabled (preview only)")
    passed = run.check()
    assert run.rbac is not None
    if not run.rbac.allowed:
        err(f"not allowed: {run.rbac.reason}")
        return 1
    out(f"RBAC: allowed ({', '.join(ck.describe() for ck in run.rbac.checks)})")
    out("server-side dry run (dryRun=All):")
    assert run.dry is not None
    for line in run.dry.lines():
        out(f"  {line}")
    if not passed:
        if run.dry.conflict:
            raise ConflictError("the object changed since it was read; nothing was changed",
                                hint="run the fix again")
        err("the dry run failed: nothing was changed")
        return 1
    if args.dry_run:
        run.dry_run_only()
        out("dry run only: nothing was changed")
        return 0
    if not args.yes:
        conf = confirmation(plan)
        if not sys.stdin.isatty():
            run.refuse("no confirmation (stdin not a TTY)")
            raise UsageError("refusing to change the cluster without confirmation: stdin is "
                             "not a terminal", hint="pass --yes to confirm non-interactively")
        try:
            answer = input(conf.prompt)
        except EOFError:
            answer = ""
        if not conf.accepts(answer):
            run.cancel()
            err("cancelled: nothing was changed")
            return 1
    applied = run.apply()  # audited here, before the verification below
    out("applied:")
    for line in applied.lines():
        out(f"  {line}")
    if not applied.ok:
        err("the fix failed part-way; see the calls above")
        return 1
    timeout = parse_duration(getattr(args, "verify_timeout", "30s") or "30s", 30.0,
                             "--verify-timeout")
    if timeout > 0 and plan.expect:
        out(f"verifying (up to {timeout:g}s):")
        for line in run.verify(timeout).lines():
            out(f"  {line}")
    return 0
