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
from kubectl_certdoctor.widgets.palette import sty

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
FLASH_STYLE = "on yellow"


def age_text(node: Node, now: datetime) -> str:
    if node.age is None:
        return ""
    return human(now - node.age)


def where(node: Node) -> str:
    r = node.ref
    return f"{r.namespace}/{r.name}" if r.namespace else r.name


#: k9s-style short kinds for narrow terminals
SHORT_KIND = {"ClusterIssuer": "CI", "Issuer": "Iss", "Certificate": "Cert",
              "CertificateRequest": "CR", "Order": "Order", "Challenge": "Ch"}
#: names longer than this are shortened in the middle on narrow terminals
COMPACT_NAME = 26


def short_name(name: str, limit: int = COMPACT_NAME) -> str:
    """``example-com-tls-1-2169281830-1218708866`` → ``example-com-tl…1218708866``: the
    head says what it is, the tail tells siblings apart (the detail has the whole name)."""
    if len(name) <= limit:
        return name
    tail = limit * 2 // 5
    return name[:limit - tail - 1] + "…" + name[-tail:]


def node_label(node: Node, now: datetime, worst: Finding | None, *,
               flash: bool = False, blocked: tuple[Node, Finding] | None = None,
               shown: Status | None = None, compact: bool = False,
               parent_ns: str = "") -> Text:
    """``✖ Certificate default/web 3d [ISSUANCE_BACKOFF] next retry in 43m``; a row whose
    cause sits below it (``blocked``) says so: ``⇣ Challenge web-1-o-ch: CODE``, and its
    glyph is the rolled-up status (``shown``, ``Analysis.shown_status``) so a collapsed
    row never hides that a child fails."""
    glyph_status = shown or node.status
    style = sty(COLOUR.get(node.status, ""))
    # narrow terminal: short kinds, no namespace repeated under its parent, long names
    # shortened in the middle, no age — so the finding code and the cause stay visible
    kind = SHORT_KIND.get(node.ref.kind, node.ref.kind) if compact else node.ref.kind
    if compact:
        nm = short_name(node.ref.name)
        place = nm if not node.ref.namespace or node.ref.namespace == parent_ns \
            else f"{node.ref.namespace}/{nm}"
    else:
        place = where(node)
    t = Text()
    if node.obj is None and node.ref.kind == "Orphans":
        t.append("◇ orphans", style=sty("bold bright_black"))
        t.append(f"  {node.reason}", style=sty("bright_black"))
        return t
    t.append(GLYPH.get(glyph_status, "?"), style=sty(COLOUR.get(glyph_status, "")))
    t.append(" ")
    if node.obj is None and node.id.startswith("missing:"):
        t.append(f"missing {node.ref.kind}", style=sty("bold red"))
        t.append(" ")
        t.append(where(node), style=sty("bold red"))
    elif node.obj is None:  # an external issuer we do not watch
        t.append(node.ref.kind, style=sty("bright_black"))
        t.append(" ")
        t.append(where(node), style=sty("bright_black"))
    else:
        t.append(kind, style="dim")
        t.append(" ")
        t.append(place, style="bold")
    age = age_text(node, now)
    if age and not compact:
        t.append(f"  {age}", style="dim")
    if worst is not None:
        t.append("  ")
        t.append(f" {worst.code} ", style=sty(SEVERITY_STYLE[worst.severity]))
    if blocked is not None and (worst is None or blocked[1].severity.rank > worst.severity.rank):
        # before the reason: the cause below must survive a narrow terminal's cut
        bn, bf = blocked
        t.append("  ⇣ ", style=sty(SEVERITY_TEXT[bf.severity]))
        bkind = SHORT_KIND.get(bn.ref.kind, bn.ref.kind) if compact else bn.ref.kind
        t.append(f"{bkind}: " if compact else f"{bn.ref.kind} {bn.ref.name}: ", style="dim")
        t.append(bf.code, style=sty(SEVERITY_TEXT[bf.severity]))
    if node.reason and not (node.id.startswith("missing:") and node.reason.startswith("missing ")
                            and node.reason.endswith(where(node))):
        t.append("  ")
        reason_style = style if node.status in PROBLEM else "dim"
        t.append(node.reason, style=reason_style)
    if flash:
        t.stylize(sty(FLASH_STYLE))
    return t


def forbidden_label(kinds: list[str]) -> Text:
    t = Text()
    t.append("⊘ ", style=sty("bright_black"))
    t.append("forbidden: " + ", ".join(kinds), style=sty("bold bright_black"))
    t.append("  your user may not list these kinds; those links of the chain are not shown",
             style=sty("bright_black"))
    return t


def status_badge(status: Status) -> Text:
    return Text(f"{GLYPH.get(status, '?')} {status.value}", style=sty(COLOUR.get(status, "")))
