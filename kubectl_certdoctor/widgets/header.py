"""The one-line header: context, scope, connection state, version, counts, badges.

k9s users look at the header for "where am I" and "can I break something": the
READ-ONLY / OFFLINE badges come right after the logo so a narrow terminal never hides them.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from kubectl_certdoctor.analysis import Analysis
from kubectl_certdoctor.widgets.view import ViewFilter


def header_text(*, context: str, namespace: str | None, connection: str, analysis: Analysis | None,
                live: bool, read_only: bool, origin: str, flt: ViewFilter) -> Text:
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(" certdoctor ", style="bold black on #5fafff")
    # badges first: they must never be the part an ellipsis cuts off
    if not live:
        t.append(" OFFLINE ", style="bold white on #875f00")
    if read_only:
        t.append(" READ-ONLY ", style="bold white on #5f005f")
    t.append(" ctx ", style="dim")
    t.append(context or "-", style="bold")
    t.append("  ns ", style="dim")
    t.append(namespace or "all", style="bold")
    t.append("  ")
    if live:
        word = connection or "connecting"
        if word.startswith("live"):
            style = "bold green"
        elif word.startswith(("reconnecting", "syncing", "connecting")):
            style = "bold yellow"
        else:
            style = "bold red"
        head, _, rest = word.partition("; ")
        t.append(f"● {head}", style=style)
        if rest:
            t.append(f"  {rest}", style="bold red" if ("forbidden" in rest or "not visible" in rest)
                     else "yellow")
    else:
        t.append(origin or "offline", style="bold magenta")
    if analysis is not None:
        if analysis.version:
            t.append("  cert-manager ", style="dim")
            outdated = any(f.code == "CERT_MANAGER_OUTDATED" for f in analysis.findings)
            t.append(analysis.version if analysis.version.startswith("v")
                     else f"v{analysis.version}", style="bold yellow" if outdated else "bold")
            if outdated:
                t.append(" (outdated)", style="yellow")
        c = analysis.counts
        t.append("  ")
        t.append(f"✔ {c['ready']} ready", style="green")
        t.append("  ")
        t.append(f"✖ {c['failing']} failing", style="bold red" if c["failing"] else "dim")
        t.append("  ")
        t.append(f"◌ {c['pending']} pending", style="cyan" if c["pending"] else "dim")
    if flt.active and flt.describe():
        t.append("  filter: ", style="dim")
        t.append(flt.describe(), style="bold yellow")
    return t


class StatusHeader(Static):
    """Docked at the top; the app calls ``show`` whenever anything in it changes."""

    DEFAULT_CSS = """
    StatusHeader { dock: top; height: 1; background: $panel; }
    """

    def show(self, text: Text) -> None:
        self.update(text)
