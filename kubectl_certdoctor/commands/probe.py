"""``kubectl certdoctor probe <id> [target] [--from local|pod|cert-manager|all] [-o json]``.

``probe list`` lists the probes (and says why they are disabled on a bundle).
The target is ``kind/name`` (namespace from ``-n`` or the context), resolved
against one snapshot of the cluster, or a host / URL. Progress lines go to
stderr, the result to stdout.

Exit codes: 0 pass, 1 fail (the probe confirmed a problem), 3 inconclusive
(nothing ran, cancelled, timed out, or no key to compare), 2 bad usage,
130 interrupted (debug pods are deleted first).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kubectl_certdoctor.errors import ClusterError, UsageError
from kubectl_certdoctor.objects import ObjectSet, Ref
from kubectl_certdoctor.options import Options
from kubectl_certdoctor.probes.base import (
    Params,
    ProbeResult,
    ProbeSpec,
    Progress,
    Vantage,
    Verdict,
)
from kubectl_certdoctor.probes.plan import availability, parse_vantages, plan_vantages
from kubectl_certdoctor.probes.registry import PROBES

EXIT = {Verdict.PASS: 0, Verdict.FAIL: 1, Verdict.INCONCLUSIVE: 3}


def list_probes(opts: Options, out: Any) -> int:
    ok, why = availability(opts)
    for spec in PROBES.values():
        vantages = ",".join(v.value for v in spec.vantages)
        line = f"{spec.id:16} {spec.title}"
        out.write(line + "\n")
        out.write(f"{'':16} from: {vantages}; confirms: {', '.join(spec.confirms)}\n")
        out.write(f"{'':16} target: {spec.target_help}\n")
        if not ok:
            out.write(f"{'':16} disabled: {why}\n")
    return 0


def _is_object_target(target: str) -> bool:
    from kubectl_certdoctor.kinds import lookup

    if "://" in target or "/" not in target:
        return False
    return lookup(target.split("/", 1)[0]) is not None


def resolve_target(objs: ObjectSet, target: str, namespace: str) -> Ref:
    """``kind/name`` → the Ref of an object in the snapshot (clear error when absent)."""
    from kubectl_certdoctor.kinds import lookup

    word, _, nm = target.partition("/")
    kind = lookup(word)
    if kind is None or not nm:
        raise UsageError(f"unknown target {target!r}", hint="use kind/name, a host or a URL")
    ref = Ref(kind.name, namespace if kind.namespaced else "", nm)
    if objs.get(ref.kind, ref.namespace, ref.name) is None:
        where = f" in namespace {namespace!r}" if kind.namespaced else ""
        raise UsageError(f"{kind.name} {nm!r} not found{where}")
    return ref


def _read(conn: Any, namespace: str | None, timeout: float,
          kinds: Any = None) -> tuple[ObjectSet, list[str]]:
    from kubectl_certdoctor.cluster.store import Store
    from kubectl_certdoctor.kinds import ALL_KINDS

    store = Store(conn, namespace, kinds or ALL_KINDS)
    store.start()
    try:
        store.synced.wait(timeout)
        forbidden = [k for k, s in store.states().items() if s.state == "forbidden"]
        return store.snapshot(), forbidden
    finally:
        store.stop()


def snapshot(conn: Any, timeout: float, namespace: str) -> ObjectSet:
    """One read of every kind in all namespaces (the controller, LBs, issuers live
    elsewhere); kinds the user may only read in its own namespace are read there."""
    from kubectl_certdoctor.kinds import BY_NAME

    objs, forbidden = _read(conn, None, timeout)
    retry = [BY_NAME[k] for k in forbidden if k in BY_NAME and BY_NAME[k].namespaced]
    if retry:
        more, _ = _read(conn, namespace, timeout, retry)
        for kname in more.kinds():
            for o in more.of_kind(kname):
                objs.add(o, kname)
    return objs


def build_params(spec: ProbeSpec, objs: ObjectSet, target: str | None,
                 namespace: str) -> Params:
    from kubectl_certdoctor.probes.targets import params_from_target

    if target and _is_object_target(target):
        return spec.params_from(objs, resolve_target(objs, target, namespace))
    base = spec.params_from(objs, None)
    if not target:
        return base
    t = params_from_target(target)
    # what the user typed wins; the cluster still supplies proxy env and entry points
    for k in ("domain", "url", "port", "token", "targets", "server"):
        setattr(base, k, getattr(t, k))
    base.challenge_domains = [t.domain] if t.domain else []
    base.account_uri = ""
    return base


def render_text(spec: ProbeSpec, res: ProbeResult, out: Any) -> None:
    out.write(f"probe {spec.id}: {spec.title}\n")
    out.write(f"verdict: {res.verdict.value.upper()} — {res.summary}\n")
    for name, v in res.vantages.items():
        state = "n/a" if v.skipped else v.verdict.value.upper()
        out.write(f"  {name:13} {state:13} {v.summary}\n")
    if res.evidence:
        out.write("evidence:\n")
        for e in res.evidence:
            out.write(f"  {e}\n")
    if res.confirms:
        out.write(f"confirms: {', '.join(res.confirms)}\n")


def confirm_ephemeral(target: str, yes: bool, opts: Options) -> bool:
    """Ask before adding an ephemeral container (it cannot be removed again)."""
    from kubectl_certdoctor.probes.podrunner import EPHEMERAL_NOTE

    ctx = f" (context {opts.context})" if opts.context else ""
    print(f"about to add an ephemeral container to the running pod {target}{ctx}: "
          f"{EPHEMERAL_NOTE}", file=sys.stderr)
    if yes:
        return True
    if not sys.stdin.isatty():
        print("not confirmed: stdin is not a terminal (use --yes)", file=sys.stderr)
        return False
    sys.stderr.write("continue? [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def run(opts: Options, args: argparse.Namespace) -> int:
    from kubectl_certdoctor.probes.runner import run as run_probe

    probe_id = args.probe_id
    if probe_id == "list":
        return list_probes(opts, sys.stdout)
    spec = PROBES.get(probe_id)
    if spec is None:
        raise UsageError(f"unknown probe {probe_id!r}", hint="one of: " + ", ".join(PROBES))
    ok, why = availability(opts)
    if not ok:
        raise UsageError(why, hint="connect to the cluster (drop --from-file/--demo)")
    target: str | None = args.target
    vantages = parse_vantages(args.vantage)

    from kubectl_certdoctor.cluster.connection import connect
    from kubectl_certdoctor.probes.podrunner import sweep_leftovers
    from kubectl_certdoctor.probes.targets import find_controller

    needs_cluster = bool(target and _is_object_target(target)) or any(
        v.value != "local" for v in vantages) or spec.id in ("account", "no-proxy")
    conn = None
    objs = ObjectSet()
    try:
        conn = connect(opts)
    except ClusterError as e:
        if needs_cluster:
            raise
        print(f"note: no cluster ({e.message}); probing from the workstation only",
              file=sys.stderr)
    try:
        namespace = opts.namespace or (conn.namespace if conn else "") or "default"
        if conn is not None:
            if not opts.read_only:
                for gone in sweep_leftovers(conn.api_client, namespace):
                    what = gone if gone.startswith("job ") else f"pod {gone}"
                    print(f"deleted leftover debug {what}", file=sys.stderr)
            objs = snapshot(conn, max(opts.request_timeout, 1.0) * 3, namespace)
        params = build_params(spec, objs, target, namespace)
        pod_ns = namespace
        if target and _is_object_target(target):
            ref = resolve_target(objs, target, namespace)
            pod_ns = ref.namespace or namespace
        ephemeral = bool(getattr(args, "ephemeral", False))
        if ephemeral and Vantage.CERT_MANAGER not in vantages:
            raise UsageError("--ephemeral applies to the cert-manager vantage",
                             hint="add --from cert-manager (or --from all)")
        plan, placements = plan_vantages(
            spec, vantages, opts=opts, api_client=conn.api_client if conn else None,
            pod_namespace=pod_ns, controller=find_controller(objs), ephemeral=ephemeral)
        eph = placements.get(Vantage.CERT_MANAGER)
        if eph is not None and eph.ephemeral_pod and not confirm_ephemeral(
                eph.ephemeral_pod, bool(getattr(args, "yes", False)), opts):
            plan[Vantage.CERT_MANAGER] = "ephemeral container not confirmed"
            del placements[Vantage.CERT_MANAGER]
        for v, reason in plan.items():
            if reason:
                print(f"[{v.value}] not run: {reason}", file=sys.stderr)
        stream = run_probe(spec, params, vantages=plan,
                           api_client=conn.api_client if conn else None,
                           placements=placements, image=opts.probe_image)
        result: ProbeResult | None = None
        try:
            for ev in stream:
                if isinstance(ev, Progress):
                    print(f"… {ev}", file=sys.stderr, flush=True)
                else:
                    result = ev
        finally:
            stream.close()  # on Ctrl-C: cancel, delete pods, then let the interrupt through
    finally:
        if conn is not None:
            conn.close()
    assert result is not None
    code = EXIT[result.verdict]
    if args.output == "json":
        doc = result.to_json()
        doc["exit_code"] = code
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        render_text(spec, result, sys.stdout)
    return code
