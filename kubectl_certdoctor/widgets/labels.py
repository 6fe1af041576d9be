"""How a node looks: glyph, colour, badge. Always ``rich.text.Text``, never markup.

Cluster strings (names, condition messages) can contain ``[...]``; as markup they would
vanish or raise, so every label is assembled from plain ``Text`` pieces.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from kubectl_certdoctor.backoff import human
from kubectl_certdoctor.graph import Node
from kubectl_certdoctor.rules.finding import Finding, Severity
from kubectl_certdoctor.status import PROBLEM, Status

GLYPH: dict[Status, str] = {
    Status.READY: "✔",
    Status.PROGRESS: "◌",
    Status.FAILED: "✖",
    Status.WARNING: "▲",
    Status.MISSING: "✖",
    Status.UNKNOWN: "?",
}
COLOUR: dict[Status, str] = {
    Status.READY: "green",
    Status.PROGRESS: "cyan",
    Status.FAILED: "bold red",
    Status.WARNING: "yellow",
    Status.MISSING: "bold red",
    Status.UNKNOWN: "bright_black",
}
SEVERITY_STYLE: dict[Severity, str] = {
    Severity.ERROR: "bold white on red",
    Severity.WARNING: "black on yellow",
    Severity.INFO: "black on bright_blue",
}
SEVERITY_TEXT: dict[Severity, str] = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "yellow",
    Severity.INFO: "bright_blue",
}
#: statuses that count as a problem for `p` (problems only)
FLASH_STYLE = "on #5f5f00"


def age_text(node: Node, now: datetime) -> str:
    if node.age is None:
        return ""
    return human(now - node.age)


def where(node: Node) -> str:
    r = node.ref
    return f"{r.namespace}/{r.name}" if r.namespace else r.name


def node_label(node: Node, now: datetime, worst: Finding | None, *,
               flash: bool = False, blocked: tuple[Node, Finding] | None = None) -> Text:
    """``✖ Certificate default/web 3d [ISSUANCE_BACKOFF] next retry in 43m``; a row whose
    cause sits below it (``blocked``) says so: ``⇣ Challenge web-1-o-ch: CODE``."""
    style = COLOUR.get(node.status, "")
    t = Text()
    if node.obj is None and node.ref.kind == "Orphans":
        t.append("◇ orphans", style="bold bright_black")
        t.append(f"  {node.reason}", style="bright_black")
        return t
    t.append(GLYPH.get(node.status, "?"), style=style)
    t.append(" ")
    if node.obj is None and node.id.startswith("missing:"):
        t.append(f"missing {node.ref.kind}", style="bold red")
        t.append(" ")
        t.append(where(node), style="bold red")
    elif node.obj is None:  # an external issuer we do not watch
        t.append(node.ref.kind, style="bright_black")
        t.append(" ")
        t.append(where(node), style="bright_black")
    else:
        t.append(node.ref.kind, style="dim")
        t.append(" ")
        t.append(where(node), style="bold")
    age = age_text(node, now)
    if age:
        t.append(f"  {age}", style="dim")
    if worst is not None:
        t.append("  ")
        t.append(f" {worst.code} ", style=SEVERITY_STYLE[worst.severity])
    if node.reason and not (node.id.startswith("missing:") and node.reason.startswith("missing ")
                            and node.reason.endswith(where(node))):
        t.append("  ")
        reason_style = style if node.status in PROBLEM else "dim"
        t.append(node.reason, style=reason_style)
    if blocked is not None and (worst is None or worst.severity is Severity.INFO):
        bn, bf = blocked
        t.append("  ⇣ ", style=SEVERITY_TEXT[bf.severity])
        t.append(f"{bn.ref.kind} {bn.ref.name}: ", style="dim")
        t.append(bf.code, style=SEVERITY_TEXT[bf.severity])
    if flash:
        t.stylize(FLASH_STYLE)
    return t


def forbidden_label(kinds: list[str]) -> Text:
    t = Text()
    t.append("⊘ ", style="bright_black")
    t.append("forbidden: " + ", ".join(kinds), style="bold bright_black")
    t.append("  your user may not list these kinds; those links of the chain are not shown",
             style="bright_black")
    return t


def status_badge(status: Status) -> Text:
    return Text(f"{GLYPH.get(status, '?')} {status.value}", style=COLOUR.get(status, ""))
