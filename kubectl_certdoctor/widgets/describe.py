"""What the detail screen says about one object, as Rich renderables (pure functions).

Kept apart from the screen so snapshot tests and the screen share one rendering, and so
nothing here can touch the network: it reads the ``Analysis`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from kubectl_certdoctor.analysis import Analysis
from kubectl_certdoctor.backoff import certificate_backoff, human
from kubectl_certdoctor.graph import Node, event_time, issuer_ref_of
from kubectl_certdoctor.objects import (
    Obj,
    ObjectSet,
    Ref,
    as_dict,
    as_list,
    conditions,
    dig,
    parse_time,
    text,
)
from kubectl_certdoctor.objects import annotations as annotations_of
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.widgets.certinfo import CertInfo, parse_secret, spec_mismatches
from kubectl_certdoctor.widgets.labels import (
    COLOUR,
    SEVERITY_STYLE,
    SEVERITY_TEXT,
    status_badge,
    where,
)
from kubectl_certdoctor.widgets.palette import sty


@dataclass(frozen=True)
class Action:
    """A probe or fix a finding points at; the probe/fix screens will run them."""

    key: str
    kind: str  # "probe" | "fix"
    id: str
    finding: Finding
    available: bool
    why: str = ""
    #: one line: why this probe/fix, for this finding
    because: str = ""


def actions_for(findings: list[Finding], *, offline: bool, read_only: bool,
                objs: ObjectSet | None = None, now: datetime | None = None,
                demo: bool = False) -> list[Action]:
    """The numbered probes and fixes of ``findings``. With ``objs``, each fix is planned
    first (pure, from the objects already read): one that would change nothing is shown
    greyed with that reason instead of being offered."""
    from kubectl_certdoctor.fixes.registry import FIXES, judge
    from kubectl_certdoctor.probes.registry import PROBES
    from kubectl_certdoctor.scenarios import OFFLINE_PROBES, recorded

    out: list[Action] = []
    seen: set[tuple[str, str]] = set()
    for f in findings:
        for kind, ids in (("probe", f.probes), ("fix", f.fixes)):
            for i in ids:
                if (kind, i) in seen:
                    continue
                seen.add((kind, i))
                acts, noop = True, ""
                if kind == "fix" and objs is not None:
                    acts, noop = judge(i, objs, f.object, now)
                if not acts:
                    ok, why = False, noop
                elif offline and kind == "probe" and i in OFFLINE_PROBES:
                    ok, why = True, "runs offline"  # reads the objects only: bundles too
                elif offline and kind == "probe" and demo and recorded(
                        i, f.object.namespace, f.object.name) is not None:
                    ok, why = True, "recorded"  # the probe screen shows it marked RECORDED
                elif offline and kind == "fix" and demo:
                    ok, why = True, "SIMULATED on the demo"  # fix screen: in memory only
                elif offline:
                    ok, why = False, "offline: needs a live cluster"
                elif kind == "fix" and read_only:
                    ok, why = False, "read-only"
                else:
                    ok, why = True, ""
                if kind == "fix":
                    spec = FIXES.get(i)
                    because = spec.title if spec is not None else ""
                else:
                    probe = PROBES.get(i)
                    because = getattr(probe, "title", "") if probe is not None else ""
                key = str(len(out) + 1) if len(out) < 9 else ""
                out.append(Action(key, kind, i, f, ok, why, because))
    return out


def _fmt_time(value: object, now: datetime) -> Text:
    t = parse_time(value)
    if t is None:
        return Text(text(value) or "-", style="dim")
    rel = human(now - t) + " ago" if t <= now else "in " + human(t - now)
    return Text.assemble(text(value), (f"  ({rel})", "dim"))


def _kv(rows: list[tuple[str, RenderableType | str]]) -> Table:
    t = Table.grid(padding=(0, 2))
    t.add_column(style=sty("bold cyan"), no_wrap=True)
    t.add_column(overflow="fold")
    for k, v in rows:
        t.add_row(k, v if not isinstance(v, str) else Text(v))
    return t


def _section(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def title(node: Node, a: Analysis) -> Text:
    t = Text()
    t.append_text(status_badge(node.status))
    shown = a.shown_status(node) if node.obj is not None else node.status
    if shown is not node.status:
        # its own state, and the trouble rolled up from below (as its tree row shows it)
        t.append(" · ")
        t.append_text(status_badge(shown))
        t.append(" below", style=sty(COLOUR.get(shown, "")))
    t.append("  ")
    t.append(node.ref.kind, style="dim")
    t.append(" ")
    t.append(where(node), style="bold")
    if node.reason:
        t.append("\n")
        t.append(node.reason, style=sty(COLOUR.get(node.status, "")))
    return t


def actions_note(actions: list[Action]) -> Text | None:
    """One line saying why greyed actions cannot run (instead of repeating it per action)."""
    whys = sorted({a.why for a in actions if not a.available and a.why
                   and not a.why.startswith(("would change nothing", "cannot act"))})
    if not whys:
        return None
    return Text("Greyed actions: " + "; ".join(whys) + ".", style=sty("bright_black"))


def findings_block(findings: list[Finding], actions: list[Action]) -> RenderableType:
    if not findings:
        return Text("No findings: nothing wrong was diagnosed for this object.", style=sty("green"))
    parts: list[RenderableType] = []
    for f in findings:
        head = Text()
        head.append(f" {f.severity.value.upper()} ", style=sty(SEVERITY_STYLE[f.severity]))
        head.append(" ")
        head.append(f.code, style=sty(f"bold {SEVERITY_TEXT[f.severity]}"))
        head.append("  ")
        head.append(f.title, style="bold")
        parts.append(head)
        parts.append(Text(f.explanation))
        if f.evidence:
            parts.append(Text("Evidence:", style="dim"))
            for e in f.evidence:
                parts.append(Text.assemble(("  • ", "dim"), e))
        if f.remedy:
            parts.append(Text.assemble(("What to do: ", "bold"), f.remedy))
        for word, kind, ids in (("Confirm with", "probe", f.probes), ("Fix with", "fix", f.fixes)):
            if not ids:
                continue
            parts.append(Text(f"{word}:", style="dim"))
            for i in ids:
                act = next((a for a in actions if a.kind == kind and a.id == i), None)
                key = f"[{act.key}] " if act is not None and act.key else ""
                usable = act is None or act.available
                line = Text("  ")
                line.append(f"{key}{kind} {i}", style="bold" if usable else sty("bright_black"))
                if act is not None and act.because:
                    line.append(f" — {act.because}", style="" if usable else sty("bright_black"))
                if act is not None and not act.available and act.why.startswith(
                        ("would change nothing", "cannot act")):
                    line.append(f"  ({act.why})", style=sty("yellow"))
                elif act is not None and act.available and act.why == "recorded":
                    line.append("  (demo: shows the recorded result)", style="italic")
                elif act is not None and act.available and act.why == "runs offline":
                    line.append("  (runs offline, on these objects)", style="italic")
                elif act is not None and act.available and act.why.startswith("SIMULATED"):
                    line.append("  (demo: SIMULATED apply, in memory only)", style="italic")
                parts.append(line)
        parts.append(Text(""))
    return Group(*parts)


def conditions_table(obj: Obj, now: datetime) -> RenderableType:
    conds = conditions(obj)
    if not conds:
        return Text("no conditions", style="dim")
    t = Table(show_edge=False, pad_edge=False, expand=True)
    t.add_column("Type", style="bold", no_wrap=True)
    t.add_column("Status", no_wrap=True)
    t.add_column("Reason", no_wrap=True)
    t.add_column("Age", no_wrap=True, style="dim")
    t.add_column("Message", overflow="fold", ratio=1)
    for c in conds:
        st = text(c.get("status"))
        style = {"True": sty("green"), "False": sty("red")}.get(st, sty("yellow"))
        when = parse_time(c.get("lastTransitionTime"))
        t.add_row(text(c.get("type")), Text(st, style=style), text(c.get("reason")),
                  human(now - when) if when else "", Text(text(c.get("message"))))
    return t


def _issuer_ref(obj: Obj) -> str:
    ir = issuer_ref_of(obj)
    s = f"{ir.kind} {ir.ref.name}"
    if ir.group != "cert-manager.io":
        s += f" ({ir.group})"
    return s


def fields(node: Node, a: Analysis) -> RenderableType:
    obj = node.obj or {}
    spec = as_dict(obj.get("spec"))
    st = as_dict(obj.get("status"))
    now = a.now
    kind = node.ref.kind
    rows: list[tuple[str, RenderableType | str]] = []
    if kind == "Certificate":
        rows += [
            ("dnsNames", ", ".join(text(d) for d in as_list(spec.get("dnsNames"))) or "-"),
            ("commonName", text(spec.get("commonName")) or "-"),
            ("secretName", text(spec.get("secretName")) or "-"),
            ("issuerRef", _issuer_ref(obj)),
            ("renewBefore", text(spec.get("renewBefore")) or "-"),
            ("renewalTime", _fmt_time(st.get("renewalTime"), now)),
            ("notBefore", _fmt_time(st.get("notBefore"), now)),
            ("notAfter", _fmt_time(st.get("notAfter"), now)),
            ("revision", text(st.get("revision")) or "-"),
            ("failedIssuanceAttempts", text(st.get("failedIssuanceAttempts")) or "0"),
            ("lastFailureTime", _fmt_time(st.get("lastFailureTime"), now)),
        ]
        bo = certificate_backoff(obj, now, a.graph.backoff)
        if bo is not None:
            when = bo.next_attempt.strftime("%Y-%m-%dT%H:%M:%SZ")
            if bo.active:
                nxt = Text.assemble((f"{when}  (in {human(bo.remaining)})", sty("bold yellow")),
                                    (f"  backoff {human(bo.delay)} ({bo.config.source})", "dim"))
            else:
                nxt = Text(f"{when}  (due {human(-bo.remaining)} ago; retrying)", style="dim")
            rows.append(("next retry", nxt))
    elif kind == "CertificateRequest":
        ann = annotations_of(obj)
        rows += [
            ("issuerRef", _issuer_ref(obj)),
            ("revision", ann.get("cert-manager.io/certificate-revision", "-")),
            ("certificate", ann.get("cert-manager.io/certificate-name", "-")),
            ("username", text(spec.get("username")) or "-"),
            ("failureTime", _fmt_time(st.get("failureTime"), now)),
            ("certificate issued", "yes" if st.get("certificate") else "no"),
        ]
    elif kind == "Order":
        rows += [
            ("state", text(st.get("state")) or "-"),
            ("reason", text(st.get("reason")) or "-"),
            ("url", text(st.get("url")) or "-"),
            ("dnsNames", ", ".join(text(d) for d in as_list(spec.get("dnsNames"))) or "-"),
            ("finalizeURL", text(st.get("finalizeURL")) or "-"),
        ]
        for az in as_list(st.get("authorizations")):
            if not isinstance(az, dict):
                continue
            ident = text(dig(az, "identifier"))
            types = ", ".join(text(c.get("type")) for c in as_list(az.get("challenges"))
                              if isinstance(c, dict))
            rows.append(("authorization", f"{ident} {text(az.get('state'))} "
                                          f"{'(wildcard) ' if az.get('wildcard') else ''}"
                                          f"[{types}] {text(az.get('url'))}"))
    elif kind == "Challenge":
        solver = as_dict(spec.get("solver"))
        http01 = as_dict(dig(solver, "http01", "ingress"))
        rows += [
            ("type", text(spec.get("type")) or "-"),
            ("dnsName", text(spec.get("dnsName")) or "-"),
            ("token", text(spec.get("token")) or "-"),
            ("key", text(spec.get("key")) or "-"),
            ("presented", text(st.get("presented")) or "false"),
            ("processing", text(st.get("processing")) or "false"),
            ("state", text(st.get("state")) or "-"),
            ("reason", Text(text(st.get("reason")) or "-",
                            style=sty(COLOUR.get(node.status, "")))),
            ("url", text(spec.get("url")) or "-"),
        ]
        if http01:
            cls = text(http01.get("ingressClassName")) or text(http01.get("class")) or "-"
            rows.append(("solver ingress class", cls))
        if "dns01" in solver:
            provider = ", ".join(k for k in as_dict(solver.get("dns01")) if k != "cnameStrategy")
            rows.append(("solver dns01", provider or "-"))
    elif kind in ("Issuer", "ClusterIssuer"):
        kinds = [k for k in ("acme", "ca", "vault", "selfSigned", "venafi") if k in spec]
        rows.append(("type", ", ".join(kinds) or "-"))
        acme = as_dict(spec.get("acme"))
        if acme:
            rows += [
                ("ACME server", text(acme.get("server")) or "-"),
                ("email", text(acme.get("email")) or "-"),
                ("account secret", text(dig(acme, "privateKeySecretRef", "name")) or "-"),
                ("account URI", text(dig(st, "acme", "uri")) or "-"),
            ]
            for s in as_list(acme.get("solvers")):
                if isinstance(s, dict):
                    rows.append(("solver", _solver(s)))
        if "vault" in spec:
            v = as_dict(spec.get("vault"))
            rows += [("vault server", text(v.get("server")) or "-"),
                     ("vault path", text(v.get("path")) or "-")]
        if "ca" in spec:
            rows.append(("CA secret", text(dig(spec, "ca", "secretName")) or "-"))
    elif node.obj is None:
        rows.append(("note", node.reason or "placeholder"))
    if not rows:
        return Text("")
    return _kv(rows)


def _solver(s: Obj) -> str:
    sel = as_dict(s.get("selector"))
    names = ", ".join(text(d) for d in as_list(sel.get("dnsNames")))
    if "http01" in s:
        ing = as_dict(dig(s, "http01", "ingress"))
        cls = text(ing.get("ingressClassName")) or text(ing.get("class"))
        what = f"http01 ingress class={cls or '-'}"
        if "gatewayHTTPRoute" in as_dict(s.get("http01")):
            what = "http01 gatewayHTTPRoute"
    elif "dns01" in s:
        what = "dns01 " + ", ".join(k for k in as_dict(s.get("dns01")) if k != "cnameStrategy")
    else:
        what = "?"
    return f"{what}{'  for ' + names if names else ''}"


def events_table(a: Analysis, ref: Ref) -> RenderableType:
    evs = a.graph.events_for(ref)
    if not evs:
        return Text("no events (events expire after an hour by default)", style="dim")
    t = Table(show_edge=False, pad_edge=False, expand=True)
    t.add_column("Type", no_wrap=True)
    t.add_column("Reason", no_wrap=True, style="bold")
    t.add_column("Age", no_wrap=True, style="dim")
    t.add_column("Count", no_wrap=True, justify="right")
    t.add_column("From", no_wrap=True, style="dim")
    t.add_column("Message", overflow="fold", ratio=1)
    for ev in evs:
        when = event_time(ev)
        typ = text(ev.get("type"))
        src = text(dig(ev, "source", "component")) or text(ev.get("reportingController"))
        t.add_row(Text(typ, style=sty("yellow") if typ == "Warning" else sty("green")),
                  text(ev.get("reason")), human(a.now - when) if when else "",
                  text(ev.get("count")) or "1", src, Text(text(ev.get("message") or
                                                               ev.get("note"))))
    return t


def _cert_rows(info: CertInfo, now: datetime) -> list[tuple[str, RenderableType | str]]:
    return [
        ("subject", info.subject or "-"),
        ("SANs", ", ".join([*info.dns_names, *info.ip_addresses]) or "-"),
        ("issuer", info.issuer or "-"),
        ("notBefore", _fmt_time(info.not_before.isoformat(), now)),
        ("notAfter", Text.assemble(_fmt_time(info.not_after.isoformat(), now),
                                   (" EXPIRED", sty("bold red")) if info.not_after <= now else "")),
        ("serial", info.serial),
    ]


def related_block(node: Node, a: Analysis) -> RenderableType:
    if node.obj is None:
        return Text("")
    refs = a.graph.related(node.ref)
    parts: list[RenderableType] = []
    if node.ref.kind == "Certificate":
        sn = text(dig(node.obj, "spec", "secretName"))
        if sn and Ref("Secret", node.ref.namespace, sn) not in refs:
            st = a.states.get("Secret")
            why = "forbidden to read Secrets" if st and st.state == "forbidden" \
                else "does not exist (yet)"
            parts.append(Text.assemble(("Secret ", "dim"), (f"{node.ref.namespace}/{sn}", "bold"),
                                       (f"  {why}", sty("yellow"))))
    for r in refs:
        obj = a.graph.objs.get(r.kind, r.namespace, r.name) or {}
        head = Text.assemble((f"{r.kind} ", "dim"),
                             (f"{r.namespace}/{r.name}" if r.namespace else r.name, "bold"))
        parts.append(head)
        if r.kind == "Secret":
            info = parse_secret(obj)
            if isinstance(info, CertInfo):
                rows = _cert_rows(info, a.now)
                if node.ref.kind == "Certificate":
                    miss = spec_mismatches(info, node.obj)
                    rows.append(("matches spec", Text("yes", style=sty("green")) if not miss
                                 else Text("; ".join(miss), style=sty("bold red"))))
                parts.append(_kv(rows))
            elif isinstance(info, str):
                parts.append(Text(f"  {info}", style=sty("yellow")))
        elif r.kind == "Pod":
            parts.append(Text(f"  phase {text(dig(obj, 'status', 'phase')) or '?'}", style="dim"))
        elif r.kind == "Ingress":
            cls = text(dig(obj, "spec", "ingressClassName")) or \
                annotations_of(obj).get("kubernetes.io/ingress.class", "-")
            hosts = ", ".join(text(x.get("host")) for x in as_list(dig(obj, "spec", "rules"))
                              if isinstance(x, dict))
            lbs = ", ".join(text(x.get("ip") or x.get("hostname")) for x in
                            as_list(dig(obj, "status", "loadBalancer", "ingress"))
                            if isinstance(x, dict))
            parts.append(Text(f"  class {cls}  hosts {hosts or '-'}  address {lbs or '-'}",
                              style="dim"))
        elif r.kind == "Service":
            ports = ", ".join(text(p.get("port")) for p in as_list(dig(obj, "spec", "ports"))
                              if isinstance(p, dict))
            parts.append(Text(f"  type {text(dig(obj, 'spec', 'type')) or 'ClusterIP'}  "
                              f"ports {ports or '-'}", style="dim"))
    if not parts:
        return Text("no related objects", style="dim")
    return Group(*parts)


def describe(node: Node, a: Analysis, actions: list[Action]) -> list[RenderableType]:
    """The whole describe tab, top to bottom."""
    obj = node.obj or {}
    fs = a.by_object.get(node.ref, [])
    out: list[RenderableType] = [title(node, a)]
    blocked = a.blocker(node)
    if blocked is not None:
        bn, bf = blocked
        word = "Failing below: " if node.ref.kind in ("Issuer", "ClusterIssuer") \
            and bn is not node and bn.ref.kind not in ("Issuer", "ClusterIssuer") \
            else "Blocked by: "
        out.append(Text.assemble((word, "bold"), f"{bn.ref.kind} {where(bn)} — ",
                                 (bf.code, sty(SEVERITY_TEXT[bf.severity])), f"  {bf.title}",
                                 ("   [b] go there", "dim")))
    out.append(_section(f"Findings ({len(fs)})"))
    if not fs and blocked is not None:
        out.append(Text("No finding on this object itself: what blocks it is named above.",
                        style=sty("yellow")))
    else:
        out.append(findings_block(fs, actions))
    note = actions_note(actions)
    if note is not None:
        out.append(note)
    out += [_section("Fields"), fields(node, a)]
    if node.obj is not None:
        out += [_section("Conditions"), conditions_table(obj, a.now)]
    out += [_section("Related"), related_block(node, a)]
    if node.children:
        kids = Text()
        for c in node.children[:20]:
            kids.append_text(status_badge(c.status))
            kids.append(f" {c.ref.kind} {where(c)}  ")
            kids.append(c.reason, style="dim")
            kids.append("\n")
        out += [_section(f"Children ({len(node.children)})"), kids]
    return out
