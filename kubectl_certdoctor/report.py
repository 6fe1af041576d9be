"""Rendering findings for ``check``: plain/colour text, JSON, and Markdown for tickets."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubectl_certdoctor.objects import Ref
from kubectl_certdoctor.rules.finding import Finding, Severity

_COLOURS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}


@dataclass
class Summary:
    """What was scanned, from where, and how many findings of each severity."""

    objects_scanned: int
    source: str
    context: str
    generated: datetime
    namespace: str | None = None
    #: kinds that could not be read (forbidden, missing CRD, still syncing) → message
    unavailable: dict[str, str] = field(default_factory=dict)

    def counts(self, findings: Sequence[Finding]) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for f in findings:
            out[f.severity.value] += 1
        return out

    def to_json(self, findings: Sequence[Finding]) -> dict[str, Any]:
        return {
            "counts": self.counts(findings),
            "total": len(findings),
            "objects_scanned": self.objects_scanned,
            "source": self.source,
            "context": self.context,
            "namespace": self.namespace,
            "generated": self.generated.isoformat().replace("+00:00", "Z"),
            "unavailable": dict(sorted(self.unavailable.items())),
        }


def object_label(ref: Ref) -> str:
    return f"{ref.kind} {ref.namespace}/{ref.name}" if ref.namespace else f"{ref.kind} {ref.name}"


def _target(ref: Ref) -> str:
    ns = f" -n {ref.namespace}" if ref.namespace else ""
    return f"{ref.kind.lower()}/{ref.name}{ns}"


def target_of(f: Finding, action: str) -> Ref | None:
    """The object a probe/fix acts on (rules.targets fills data["act_on"])."""
    targets = f.data.get("act_on")
    if isinstance(targets, dict):
        t = targets.get(action)
        return t if isinstance(t, Ref) else None
    return f.object


def _command(verb: str, action: str, f: Finding) -> str:
    t = target_of(f, action)
    return f"kubectl certdoctor {verb} {action}" + (f" {_target(t)}" if t else "")


def probe_commands(f: Finding) -> list[str]:
    return [_command("probe", p, f) for p in f.probes]


def fix_commands(f: Finding) -> list[str]:
    return [_command("fix", x, f) for x in f.fixes]


def _headline(findings: Sequence[Finding], summary: Summary) -> str:
    c = summary.counts(findings)
    if not findings:
        return f"No problems found in {summary.objects_scanned} objects."

    def n(k: str, word: str) -> str:
        return f"{c[k]} {word}{'' if c[k] == 1 else 's'}"

    return (f"{n('error', 'error')}, {n('warning', 'warning')}, {c['info']} info "
            f"in {summary.objects_scanned} objects.")


def _scope(summary: Summary) -> str:
    parts = [f"source {summary.source}"]
    if summary.context:
        parts.append(f"context {summary.context}")
    parts.append(f"namespace {summary.namespace}" if summary.namespace else "all namespaces")
    parts.append(f"at {summary.generated:%Y-%m-%d %H:%M:%S} UTC")
    return ", ".join(parts)


def render_text(findings: Sequence[Finding], summary: Summary, colour: bool = False) -> str:
    def paint(s: str, code: str) -> str:
        return f"\x1b[{code}m{s}\x1b[0m" if colour else s

    lines: list[str] = []
    wrap = textwrap.TextWrapper(width=100, initial_indent="    ", subsequent_indent="    ")
    remedy_wrap = textwrap.TextWrapper(width=100, initial_indent="    ",
                                       subsequent_indent="                ")
    for f in findings:
        sev = paint(f"{f.severity.value.upper():<7}", "1;" + _COLOURS[f.severity])
        lines.append(f"{sev} {paint(f.code, '1')}  {object_label(f.object)}")
        lines.append(f"    {paint(f.title, '1')}")
        lines.extend(wrap.wrap(f.explanation))
        for e in f.evidence:
            lines.append(f"    evidence: {e}")
        if f.remedy:
            lines.extend(remedy_wrap.wrap(f"what to do: {f.remedy}"))
        for cmd in probe_commands(f):
            lines.append(f"    confirm:  {cmd}")
        for cmd in fix_commands(f):
            lines.append(f"    fix:      {cmd}")
        lines.append("")
    for kind, msg in sorted(summary.unavailable.items()):
        lines.append(paint(f"note: {kind} not read: {msg}", "2"))
    lines.append(paint(_headline(findings, summary), "1"))
    lines.append(paint(f"({_scope(summary)})", "2"))
    return "\n".join(lines) + "\n"


def render_json(findings: Sequence[Finding], summary: Summary) -> str:
    doc = {"findings": [f.to_json() for f in findings], "summary": summary.to_json(findings)}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _code(s: str) -> str:
    """Inline Markdown code that survives backticks in the text."""
    ticks = "``" if "`" in s else "`"
    pad = " " if ticks == "``" else ""
    return f"{ticks}{pad}{s}{pad}{ticks}"


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def render_markdown(findings: Sequence[Finding], summary: Summary) -> str:
    out = [f"### kubectl-certdoctor check: {_headline(findings, summary)}", "",
           f"_{_scope(summary)}_", ""]
    for kind, msg in sorted(summary.unavailable.items()):
        out.append(f"> **note:** {kind} not read: {msg}")
    if summary.unavailable:
        out.append("")
    if not findings:
        return "\n".join(out)
    out += ["| # | Severity | Code | Object | Problem |", "|---|---|---|---|---|"]
    for i, f in enumerate(findings, 1):
        out.append(f"| {i} | {f.severity.value} | `{f.code}` | {_cell(object_label(f.object))} "
                   f"| {_cell(f.title)} |")
    out.append("")
    for i, f in enumerate(findings, 1):
        out += [f"#### {i}. {f.severity.value.upper()} `{f.code}` — {object_label(f.object)}",
                "", f"**{f.title}**", "", f.explanation, ""]
        if f.evidence:
            out.append("Evidence:")
            out += [f"- {_code(e)}" for e in f.evidence]
            out.append("")
        if f.remedy:
            out += [f"**What to do:** {f.remedy}", ""]
        if f.probes:
            out.append("Confirm: " + ", ".join(_code(c) for c in probe_commands(f)))
            out.append("")
        if f.fixes:
            out.append("Fix: " + ", ".join(_code(c) for c in fix_commands(f)))
            out.append("")
    return "\n".join(out)
