"""How the probe screen shows vantage points and results, as Rich renderables.

Pure functions over the probe framework's ``ProbeResult`` / ``VantageResult`` /
``Progress`` so the screen and the tests share one rendering. Cluster- and
network-provided strings always go through ``Text`` (never markup).
"""

from __future__ import annotations

from rich.text import Text

from kubectl_certdoctor.probes.base import ProbeResult, Progress, VantageResult, Verdict
from kubectl_certdoctor.widgets.palette import sty

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
VERDICT_STYLE = {Verdict.PASS: "bold green", Verdict.FAIL: "bold red",
                 Verdict.INCONCLUSIVE: "bold yellow"}


def vantage_panel(vantage: str, reason: str, progress: list[Progress],
                  result: VantageResult | None, *, running: bool, frame: int = 0) -> Text:
    """One column: greyed with the reason, streaming progress, or the vantage's verdict."""
    out = Text()
    if reason:
        out.append(f"{vantage}\n", style=sty("bold bright_black"))
        out.append(f"not available: {reason}", style=sty("bright_black"))
        return out
    out.append(f"{vantage}\n", style="bold")
    if result is not None:
        if result.skipped:
            out.append(f"not run: {result.skipped}", style=sty("bright_black"))
            return out
        out.append(f"{result.verdict.value.upper()}", style=sty(VERDICT_STYLE[result.verdict]))
        out.append(f"  {result.elapsed:.1f}s\n", style="dim")
        out.append(result.summary + "\n")
        for e in result.evidence:
            out.append("  • ", style="dim")
            out.append(e + "\n")
        return out
    if running:
        out.append(f"{SPINNER[frame % len(SPINNER)]} running\n", style="italic")
    else:
        out.append("not run\n", style="dim")
    for p in progress[-8:]:
        out.append(f"  {p.message}\n", style="dim")
    return out


def verdict_view(result: ProbeResult) -> Text:
    """The overall verdict, what it confirms, and the evidence."""
    out = Text()
    style = f"reverse {sty(VERDICT_STYLE[result.verdict])}"
    out.append(f" {result.verdict.value.upper()} ", style=style)
    out.append(f"  {result.probe}: ", style="bold")
    out.append(result.summary)
    out.append(f"  ({result.elapsed:.1f}s)", style="dim")
    if result.confirms:
        out.append("\nconfirms: ", style=sty("bold red"))
        out.append(", ".join(result.confirms))
    for e in result.evidence:
        out.append("\n  • ", style="dim")
        out.append(e)
    return out


def raw_view(result: ProbeResult) -> Text:
    """Raw output of the run and of every vantage (what a bug report needs)."""
    out = Text()
    if result.raw:
        out.append("raw:\n", style="bold")
        out.append(result.raw.rstrip() + "\n")
    for name, vr in result.vantages.items():
        if vr.raw:
            out.append(f"raw ({name}):\n", style="bold")
            out.append(vr.raw.rstrip() + "\n")
    if not out.plain:
        out.append("no raw output", style="dim")
    return out


def log_view(progress: list[Progress]) -> Text:
    out = Text()
    for p in progress[-200:]:
        if p.vantage:
            out.append(f"[{p.vantage}] ", style=sty("cyan"))
        out.append(p.message + "\n")
    return out
