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
from kubectl_certdoctor.widgets.palette import sty


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
        out.append(f"  {method:6} ",
                   style=sty("bold red") if method == "DELETE" else sty("bold yellow"))
        out.append(f"{ref}\n")
    return out


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses True only on an explicit confirmation; esc / Cancel give False."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    #confirm-box { width: 90; max-width: 100%; height: auto; max-height: 90%; border: thick $error;
                   background: $surface; padding: 1 2; }
    #confirm-buttons { height: auto; margin-top: 1; }
    #confirm-buttons Button { margin-right: 2; }
    #confirm-input { margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="confirm.cancel"),
    ]

    def __init__(self, plan: FixPlan, *, simulated: bool = False) -> None:
        super().__init__()
        self.plan = plan
        self.conf = confirmation(plan)
        #: the demo: the same confirmation, but it says nothing will be sent
        self.simulated = simulated

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            if self.simulated:
                yield Static(Text.assemble(
                    ("SIMULATED", sty("bold magenta")), " — the demo: the change is made to "
                    "its in-memory objects only; nothing is sent to any cluster."),
                    id="confirm-simulated")
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


class PodConfirmScreen(ModalScreen[bool]):
    """Before the first debug pod of this run of the tool: which context, which
    namespace(s), what the pod does. Focus starts on Cancel; esc cancels. Once accepted,
    later probes in the same session do not ask again (``App.pods_confirmed``)."""

    DEFAULT_CSS = """
    PodConfirmScreen { align: center middle; }
    #pods-box { width: 90; max-width: 100%; height: auto; max-height: 90%;
                border: thick $warning; background: $surface; padding: 1 2; }
    #pods-buttons { height: auto; margin-top: 1; }
    #pods-buttons Button { margin-right: 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="pods.cancel"),
    ]

    def __init__(self, probe_id: str, context: str, pods: list[tuple[str, str]]) -> None:
        """``pods``: (vantage, namespace) of every debug pod the probe would create."""
        super().__init__()
        self.probe_id = probe_id
        self.context = context
        self.pods = pods

    def compose(self) -> ComposeResult:
        t = Text()
        n = len(self.pods)
        t.append(f"Create {n} debug pod{'s' if n != 1 else ''} for probe {self.probe_id}?\n",
                 style="bold")
        t.append("context ", style="dim")
        t.append(f"{self.context or '(current)'}\n", style="bold")
        for vantage, ns in self.pods:
            t.append("  namespace ", style="dim")
            t.append(ns, style="bold")
            t.append(f"  ({vantage})\n", style="dim")
        t.append("Each pod runs the probe's network checks once and is deleted when it ends "
                 "(or when you press esc). Asked once per session; --read-only never "
                 "creates pods.")
        with Vertical(id="pods-box"):
            yield Static(t, id="pods-text")
            with Horizontal(id="pods-buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button("Create pods", id="create", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "create")

    def action_cancel(self) -> None:
        self.dismiss(False)
