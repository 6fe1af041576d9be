"""``kubectl certdoctor check``: diagnose once and print findings (text, json, markdown).

Exit codes: 0 when nothing is at or above ``--fail-on``, 1 otherwise, 2 for usage
or connection errors (raised as CertdoctorError and mapped by cli.main).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

from kubectl_certdoctor.errors import ClusterError, UsageError
from kubectl_certdoctor.graph import build_graph
from kubectl_certdoctor.kinds import BY_NAME
from kubectl_certdoctor.objects import ObjectSet
from kubectl_certdoctor.options import Options
from kubectl_certdoctor.report import Summary, render_json, render_markdown, render_text
from kubectl_certdoctor.rules import run_rules
from kubectl_certdoctor.rules.finding import Finding, Severity

FAIL_RANK = {"error": Severity.ERROR.rank, "warning": Severity.WARNING.rank, "never": 99}


class ConnectionFailed(ClusterError):
    """Cannot reach or read the cluster: usage-level failure for ``check`` (exit 2)."""

    exit_code = 2


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


def load_live(opts: Options) -> tuple[ObjectSet, str | None, dict[str, str]]:
    """One consistent snapshot of the cluster: (objects, namespace scope, unreadable kinds)."""
    from kubectl_certdoctor.cluster.connection import connect
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
        unavailable: dict[str, str] = {}
        for kind, state in store.states().items():
            optional = kind in BY_NAME and BY_NAME[kind].optional
            if state.state != "live" and not (optional and state.state == "missing"):
                unavailable[kind] = f"{state.state}: {state.message}".rstrip(": ")
        if not synced and not len(objs):
            raise ConnectionFailed(
                f"timed out after {timeout:.0f}s reading the cluster",
                hint="; ".join(f"{k}: {v}" for k, v in sorted(unavailable.items())) or None)
    finally:
        store.stop()
        conn.close()
    objs.context = objs.context or conn.context
    return objs, ns, unavailable


def scope_filter(findings: list[Finding], ns: str | None) -> list[Finding]:
    """With -n on a bundle/demo: keep that namespace's findings and cluster-scoped ones."""
    if not ns:
        return findings
    return [f for f in findings if f.object.namespace in (ns, "")]


def exit_code(findings: list[Finding], fail_on: str) -> int:
    threshold = FAIL_RANK.get(fail_on, Severity.ERROR.rank)
    return 1 if any(f.severity.rank >= threshold for f in findings) else 0


def render(fmt: str, findings: list[Finding], summary: Summary, colour: bool) -> str:
    if fmt == "json":
        return render_json(findings, summary)
    if fmt == "markdown":
        return render_markdown(findings, summary)
    return render_text(findings, summary, colour=colour)


def run(opts: Options, args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    unavailable: dict[str, str] = {}
    if opts.offline:
        objs = load_offline(opts, now)
        ns = None if opts.all_namespaces else opts.namespace
    else:
        objs, ns, unavailable = load_live(opts)
    graph = build_graph(objs, now)
    findings = scope_filter(run_rules(graph, now), ns)
    summary = Summary(objects_scanned=len(objs), source=objs.source, context=objs.context,
                      generated=now, namespace=ns, unavailable=unavailable)
    fmt = getattr(args, "output", "text") or "text"
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR") and fmt == "text"
    sys.stdout.write(render(fmt, findings, summary, colour))
    sys.stdout.flush()
    return exit_code(findings, getattr(args, "fail_on", "error") or "error")
