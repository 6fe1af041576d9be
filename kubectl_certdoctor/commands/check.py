"""``kubectl certdoctor check``: diagnose once and print findings (text, json, markdown).

Exit codes: 0 when nothing is at or above ``--fail-on``, 1 otherwise, 2 for usage
or connection errors (raised as CertdoctorError and mapped by cli.main) — and when the
cluster has no cert-manager CRDs: "No problems found" there would be a lie.

Scope: ``-n X`` judges X's objects and the issuers they use. The rules see everything
the store read (the cluster-wide facts included: controller, load balancers, webhooks),
but a finding is printed only when it is about an object in X, an Issuer/ClusterIssuer
that X's Certificates use (or any, when X is the cluster resource namespace, the
ClusterIssuers' home), or cert-manager's infrastructure (controller, webhooks, ...) when X
has Certificates that depend on it. ``check certificate/NAME`` narrows that to one chain
and prints the chain first, like ``cmctl status certificate`` with the diagnosis.

Coverage: what the store could not read (forbidden, missing, refused Secret GETs) is
printed as one block, and as ``coverage`` in JSON (``cluster/coverage.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kubectl_certdoctor.errors import ClusterError, UsageError
from kubectl_certdoctor.graph import Graph, build_graph, issuer_ref_of, subtree
from kubectl_certdoctor.kinds import BY_WATCH
from kubectl_certdoctor.objects import ObjectSet, Ref, dig, namespace, text
from kubectl_certdoctor.options import Options
from kubectl_certdoctor.report import Summary, render_json, render_markdown, render_text
from kubectl_certdoctor.rules import run_rules
from kubectl_certdoctor.rules.finding import Finding, Severity

FAIL_RANK = {"error": Severity.ERROR.rank, "warning": Severity.WARNING.rank, "never": 99}
_CHAIN_KINDS = frozenset({"Issuer", "ClusterIssuer", "Certificate", "CertificateRequest",
                          "Order", "Challenge"})


class ConnectionFailed(ClusterError):
    """Cannot reach or read the cluster: usage-level failure for ``check`` (exit 2)."""

    exit_code = 2


@dataclass
class Live:
    """What one live read gave: objects, scope, unreadable watches and coverage gaps."""

    objs: ObjectSet
    namespace: str | None
    unavailable: dict[str, str] = field(default_factory=dict)
    gaps: list[Any] = field(default_factory=list)
    cluster_resource_namespace: str | None = None


def load_offline(opts: Options, now: datetime) -> ObjectSet:
    """The bundle (--from-file) or the demo scenarios (--demo): never touches the network."""
    if opts.from_file:
        from kubectl_certdoctor.bundle import load_bundle

        return load_bundle(opts.from_file)
    from kubectl_certdoctor import scenarios

    if not hasattr(scenarios, "load_demo"):
        raise UsageError("the demo scenarios are not available in this build",
                         hint="use --from-file with a bundle instead")
    return scenarios.open_demo(opts.demo, now)


def load_live(opts: Options) -> Live:
    """One consistent snapshot of the cluster, with what could not be read."""
    from kubectl_certdoctor.cluster import secretrefs
    from kubectl_certdoctor.cluster.connection import connect
    from kubectl_certdoctor.cluster.coverage import coverage
    from kubectl_certdoctor.cluster.store import Store

    try:
        conn = connect(opts)
        ns = None if opts.all_namespaces else (opts.namespace or conn.namespace or "default")
        store = Store(conn, ns)
    except ClusterError as e:
        raise ConnectionFailed(e.message, hint=e.hint) from None
    store.start()
    try:
        timeout = max(float(opts.request_timeout or 10.0), 1.0) * 3
        synced = store.synced.wait(timeout)
        objs = store.snapshot()
        states = store.states()
        unavailable: dict[str, str] = {}
        for watch, state in states.items():
            k = BY_WATCH.get(watch)
            optional = k is not None and k.optional
            # secondary watches (cluster-wide facts) are reported by the coverage block
            if state.state != "live" and not (optional and state.state == "missing") \
                    and "/" not in watch:
                unavailable[watch] = f"{state.state}: {state.message}".rstrip(": ")
        cert = states.get("Certificate")
        if cert is not None and cert.state == "missing":
            raise ConnectionFailed(
                f"cert-manager is not installed in context {conn.context!r}: {cert.message}",
                hint="install cert-manager (its CRDs), or check the context")
        if not synced and not len(objs):
            raise ConnectionFailed(
                f"timed out after {timeout:.0f}s reading the cluster",
                hint="; ".join(f"{k}: {v}" for k, v in sorted(unavailable.items())) or None)
        deps = objs.of_kind("Deployment")
        gaps = coverage(states, ns, watches=store.watches(), deployments=deps,
                        secret_problems=dict(store.secret_problems))
        crns = secretrefs.cluster_resource_namespace(deps)
    finally:
        store.stop()
        conn.close()
    objs.context = objs.context or conn.context
    return Live(objs, ns, unavailable, gaps, crns)


def _key(r: Ref) -> tuple[str, str, str]:
    return (r.kind, r.namespace, r.name)


def scope_filter(findings: list[Finding], ns: str | None, objs: ObjectSet | None = None,
                 crns: str | None = None) -> list[Finding]:
    """With -n: X's findings, the issuers X uses, and the infrastructure X depends on."""
    if not ns:
        return findings
    used: set[tuple[str, str, str]] = set()
    has_chain = False
    for kind in ("Certificate", "CertificateRequest", "Order", "Challenge"):
        for o in (objs.of_kind(kind) if objs is not None else []):
            if namespace(o) == ns:
                has_chain = True
                used.add(_key(issuer_ref_of(o).ref))
    home = bool(crns) and ns == crns
    out = []
    for f in findings:
        r = f.object
        if r.kind in ("Issuer", "ClusterIssuer"):
            keep = r.namespace == ns or _key(r) in used or (home and r.kind == "ClusterIssuer")
            if objs is None:  # nothing to tell use from: the old rule
                keep = r.namespace in (ns, "")
        elif r.kind in _CHAIN_KINDS or r.kind == "Secret":
            keep = r.namespace == ns
        else:  # controller, webhooks, load balancers ...: when X depends on them
            keep = r.namespace == ns or has_chain or home
        if keep:
            out.append(f)
    return out


def chain_filter(findings: list[Finding], graph: Graph, target: Ref) -> tuple[list[Finding],
                                                                               list[Any]]:
    """One Certificate's chain: its findings (issuer and infrastructure included) and
    the chain's nodes, issuer first."""
    node = graph.node(target)
    if node is None or node.obj is None:
        raise UsageError(f"certificate {target.namespace}/{target.name} not found",
                         hint="check the name and -n NAMESPACE")
    ir = issuer_ref_of(node.obj)
    nodes = list(subtree(node))
    refs = {_key(n.ref) for n in nodes} | {_key(ir.ref)}
    sn = text(dig(node.obj, "spec", "secretName"))
    if sn:
        refs.add(("Secret", target.namespace, sn))
    issuer = graph.node(ir.ref)
    chain = ([issuer] if issuer is not None else []) + nodes
    out = [f for f in findings if _key(f.object) in refs
           or f.object.kind not in _CHAIN_KINDS | {"Secret"}]
    return out, chain


def parse_target(word: str | None, ns: str | None) -> Ref | None:
    if not word:
        return None
    kind, _, nm = word.partition("/")
    if kind.lower() not in ("certificate", "certificates", "cert", "certs") or not nm:
        raise UsageError(f"check takes certificate/NAME, not {word!r}")
    return Ref("Certificate", ns or "default", nm)


def exit_code(findings: list[Finding], fail_on: str) -> int:
    threshold = FAIL_RANK.get(fail_on, Severity.ERROR.rank)
    return 1 if any(f.severity.rank >= threshold for f in findings) else 0


def _chain_lines(chain: list[Any]) -> list[str]:
    lines = []
    for depth, n in enumerate(chain):
        where = f"{n.ref.namespace}/{n.ref.name}" if n.ref.namespace else n.ref.name
        pad = "  " * min(depth, 4)
        lines.append(f"{pad}{n.ref.kind} {where}: {n.status.value}"
                     + (f" — {n.reason}" if n.reason else ""))
    return lines


def render(fmt: str, findings: list[Finding], summary: Summary, colour: bool,
           gaps: list[Any] | None = None, chain: list[Any] | None = None) -> str:
    from kubectl_certdoctor.cluster.coverage import render_text as coverage_text

    gaps = gaps or []
    if fmt == "json":
        doc = json.loads(render_json(findings, summary))
        doc["coverage"] = [g.to_json() for g in gaps]
        if chain is not None:
            doc["chain"] = [{"kind": n.ref.kind, "namespace": n.ref.namespace,
                             "name": n.ref.name, "status": n.status.value, "reason": n.reason}
                            for n in chain]
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    block = coverage_text(gaps)
    head = ""
    if chain is not None:
        head = "\n".join(["Chain:", *("  " + ln for ln in _chain_lines(chain))]) + "\n\n"
    if fmt == "markdown":
        body = render_markdown(findings, summary)
        if chain is not None:
            head = "```\n" + head.rstrip("\n") + "\n```\n\n"
        if block:
            block = "\n" + "\n".join(f"> {ln}" for ln in block.rstrip("\n").splitlines()) + "\n"
        return head + body + block
    return head + (block + "\n" if block else "") + render_text(findings, summary,
                                                                  colour=colour)


def run(opts: Options, args: argparse.Namespace) -> int:
    if opts.demo == "list":

        from kubectl_certdoctor import scenarios

        sys.stdout.write(scenarios.listing())
        return 0
    now = datetime.now(UTC)
    unavailable: dict[str, str] = {}
    gaps: list[Any] = []
    crns: str | None = None
    if opts.offline:
        objs = load_offline(opts, now)
        now = objs.observed_at or now  # a bundle is judged as it was when captured
        ns = None if opts.all_namespaces else opts.namespace
        from kubectl_certdoctor.cluster.secretrefs import cluster_resource_namespace

        crns = cluster_resource_namespace(objs.of_kind("Deployment"))
    else:
        live = load_live(opts)
        objs, ns, unavailable, gaps = live.objs, live.namespace, live.unavailable, live.gaps
        crns = live.cluster_resource_namespace
    target = parse_target(getattr(args, "target", None), ns)
    graph = build_graph(objs, now)
    findings = run_rules(graph, now)
    chain = None
    if target is not None:
        findings, chain = chain_filter(findings, graph, target)
    else:
        findings = scope_filter(findings, ns, objs, crns)
    summary = Summary(objects_scanned=len(objs), source=objs.source, context=objs.context,
                      generated=now, namespace=ns, unavailable=unavailable)
    fmt = getattr(args, "output", "text") or "text"
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR") and fmt == "text"
    sys.stdout.write(render(fmt, findings, summary, colour, gaps, chain))
    sys.stdout.flush()
    return exit_code(findings, getattr(args, "fail_on", "error") or "error")
