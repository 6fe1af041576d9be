"""All findings cluster-wide, worst first; ``enter`` jumps to the object in the tree."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.widgets.header import StatusHeader
from kubectl_certdoctor.widgets.labels import SEVERITY_STYLE
from kubectl_certdoctor.widgets.palette import sty


class FindingsScreen(Screen[str | None]):
    """Dismisses with the node id to reveal, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="findings.back"),
        Binding("q", "back", "Back", show=False, id="findings.back-q"),
        Binding("f", "back", "Back", show=False, id="findings.back-f"),
        Binding("enter", "jump", "Go to object", id="findings.jump"),
        Binding("j", "cursor(1)", "Down", show=False, id="findings.down"),
        Binding("k", "cursor(-1)", "Up", show=False, id="findings.up"),
        Binding("question_mark", "app.help", "Help", id="findings.help"),
    ]

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__()
        self.findings = findings

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="header")
        yield Static(Text(f" Findings ({len(self.findings)}), worst first", style="bold"),
                     id="findings-title")
        table: DataTable[Text | str] = DataTable(id="findings", cursor_type="row",
                                                 zebra_stripes=True)
        yield table
        yield Static(id="finding-remedy")
        if not self.findings:
            yield Static(Text("No findings: cert-manager looks healthy here.", style=sty("green")),
                         id="findings-empty")
        yield Footer()

    def on_mount(self) -> None:
        from kubectl_certdoctor.app import CertDoctorApp

        table = self.query_one(DataTable)
        table.add_columns("Severity", "Code", "Object", "Title")
        for i, f in enumerate(self.findings):
            r = f.object
            obj = f"{r.kind} {r.namespace}/{r.name}" if r.namespace else f"{r.kind} {r.name}"
            table.add_row(Text(f" {f.severity.value} ", style=sty(SEVERITY_STYLE[f.severity])),
                          Text(f.code, style="bold"), Text(obj), Text(f.title), key=str(i))
        table.focus()
        if isinstance(self.app, CertDoctorApp):
            self.app.refresh_header()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Under the table: the highlighted finding's explanation and what to do."""
        if not self.findings or event.cursor_row < 0:
            return
        f = self.findings[min(event.cursor_row, len(self.findings) - 1)]
        body = Text(f.explanation)
        if f.remedy:
            body.append("\nWhat to do: ", style="bold")
            body.append(f.remedy)
        self.query_one("#finding-remedy", Static).update(body)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_cursor(self, delta: int) -> None:
        t = self.query_one(DataTable)
        t.move_cursor(row=t.cursor_row + delta)

    def action_jump(self) -> None:
        t = self.query_one(DataTable)
        if not self.findings:
            return
        f = self.findings[min(t.cursor_row, len(self.findings) - 1)]
        self.dismiss(str(f.object))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_jump()
