"""The confirmation modal a fix passes before anything is written.

Why it looks like this: a fix must never happen by surprise. Focus starts on
Cancel (an accidental ``enter`` cancels), the modal names every object the fix
writes or deletes and how many, and deleting more than one object asks for the
count (or the target's name) to be typed — the same rule as the CLI
(``fixes.model.confirmation``).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from kubectl_certdoctor.fixes.model import FixPlan, confirmation


def targets_text(plan: FixPlan) -> Text:
    """Every object the plan touches, one line each, with the verb and the count."""
    refs: list[tuple[str, str]] = []
    for c in plan.calls:
        item = (c.method, str(c.ref) + (f"/{c.subresource}" if c.subresource else ""))
        if item not in refs:
            refs.append(item)
    out = Text()
    out.append(f"{plan.title}\n", style="bold")
    out.append(f"{len(plan.calls)} API call(s) on {len({r for _, r in refs})} object(s):\n")
    for method, ref in refs:
        out.append(f"  {method:6} ", style="bold red" if method == "DELETE" else "bold yellow")
        out.append(f"{ref}\n")
    return out


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses True only on an explicit confirmation; esc / Cancel give False."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    #confirm-box { width: 90; height: auto; max-height: 90%; border: thick $error;
                   background: $surface; padding: 1 2; }
    #confirm-buttons { height: auto; margin-top: 1; }
    #confirm-buttons Button { margin-right: 2; }
    #confirm-input { margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, plan: FixPlan) -> None:
        super().__init__()
        self.plan = plan
        self.conf = confirmation(plan)

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(targets_text(self.plan), id="confirm-targets")
            if self.conf.mode == "type":
                yield Static(Text(self.conf.prompt.strip()), id="confirm-prompt")
                yield Input(placeholder=f"type {self.conf.expected[0]}", id="confirm-input")
            else:
                yield Static(Text(self.conf.prompt.replace(" [y/N]", "").strip()),
                             id="confirm-prompt")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button("Apply", id="apply", variant="error",
                             disabled=self.conf.mode == "type")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#apply", Button).disabled = not self.conf.accepts(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.conf.accepts(event.value):
            self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "apply" and not event.button.disabled)

    def action_cancel(self) -> None:
        self.dismiss(False)
