"""The one-line header: context, scope, connection state, version, counts, badges.

k9s users look at the header for "where am I" and "can I break something": the
READ-ONLY / OFFLINE badges come right after the logo so a narrow terminal never hides them.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from kubectl_certdoctor.analysis import Analysis
from kubectl_certdoctor.widgets.palette import sty
from kubectl_certdoctor.widgets.view import ViewFilter


def header_text(*, context: str, namespace: str | None, connection: str, analysis: Analysis | None,
                live: bool, read_only: bool, origin: str, flt: ViewFilter,
                compact: bool = False) -> Text:
    """The header line. Counts come before the version so a narrow terminal cuts the
    least useful part; ``compact`` (under 120 columns) uses the short forms."""
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(" certdoctor ", style=sty("bold black on cyan"))
    # badges first: they must never be the part an ellipsis cuts off
    if not live:
        t.append(" OFFLINE ", style=sty("bold white on yellow"))
    if read_only:
        t.append(" READ-ONLY ", style=sty("bold white on magenta"))
    if compact and analysis is not None:
        # narrow: the counts right after the badges, before names of any length
        t.append(" ")
        _counts(t, analysis, compact)
        t.append(" ")
    t.append(" ctx ", style="dim")
    t.append(context or "-", style="bold")
    t.append("  ns ", style="dim")
    t.append(namespace or "all", style="bold")
    t.append("  ")
    if live:
        word = connection or "connecting"
        if word.startswith("live"):
            style = sty("bold green")
        elif word.startswith(("reconnecting", "syncing", "connecting")):
            style = sty("bold yellow")
        else:
            style = sty("bold red")
        head, _, rest = word.partition("; ")
        t.append(f"● {head}", style=style)
        if rest:
            bad = "forbidden" in rest or "not visible" in rest
            t.append(f"  {rest}", style=sty("bold red") if bad
                     else sty("yellow"))
    else:
        t.append(origin or "offline", style=sty("bold magenta"))
    if analysis is not None:
        if not compact:
            t.append("  ")
            _counts(t, analysis, compact)
        if analysis.version:
            t.append("  cm " if compact else "  cert-manager ", style="dim")
            outdated = any(f.code == "CERT_MANAGER_OUTDATED" for f in analysis.findings)
            t.append(analysis.version if analysis.version.startswith("v")
                     else f"v{analysis.version}", style=sty("bold yellow") if outdated else "bold")
            if outdated:
                t.append(" (outdated)", style=sty("yellow"))
    if flt.active and flt.describe():
        t.append("  filter: ", style="dim")
        t.append(flt.describe(), style=sty("bold yellow"))
    return t


def _counts(t: Text, analysis: Analysis, compact: bool) -> None:
    c = analysis.counts
    if compact:
        t.append(f"✔{c['ready']}", style=sty("green"))
        t.append(" ")
        t.append(f"✖{c['failing']}", style=sty("bold red") if c["failing"] else "dim")
        t.append(" ")
        t.append(f"◌{c['pending']}", style=sty("cyan") if c["pending"] else "dim")
    else:
        t.append(f"✔ {c['ready']} ready", style=sty("green"))
        t.append("  ")
        t.append(f"✖ {c['failing']} failing", style=sty("bold red") if c["failing"] else "dim")
        t.append("  ")
        t.append(f"◌ {c['pending']} pending", style=sty("cyan") if c["pending"] else "dim")


class StatusHeader(Static):
    """Docked at the top; the app calls ``show`` whenever anything in it changes."""

    DEFAULT_CSS = """
    StatusHeader { dock: top; height: 1; background: $panel; }
    """

    def show(self, text: Text) -> None:
        self.update(text)
