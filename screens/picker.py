"""A small pick list (namespaces, contexts): type to narrow, enter to choose, esc to cancel."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option


class PickScreen(ModalScreen[str | None]):
    """Dismisses with the chosen value, or None on escape."""

    DEFAULT_CSS = """
    PickScreen { align: center middle; }
    PickScreen > Vertical { width: 60; max-width: 100%; height: auto; max-height: 80%;
                            border: round $accent;
                            background: $surface; padding: 0 1; }
    PickScreen OptionList { height: auto; max-height: 20; }
    PickScreen #pick-warning { color: $warning; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
    ]

    def __init__(self, title: str, choices: list[tuple[str, str]], current: str = "", *,
                 recommended: str = "", warnings: dict[str, str] | None = None) -> None:
        """``choices``: (label, value) pairs; the list starts on ``current`` (else
        ``recommended``), marks ``recommended``, and shows ``warnings[value]`` under the list
        while a value that contradicts the diagnosis is highlighted."""
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.current = current
        self.recommended = recommended
        self.warnings = dict(warnings or {})

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text, style="bold"))
            yield Input(placeholder="type to narrow", id="pick-filter")
            yield OptionList(*self._options(""), id="pick-list")
            yield Static(id="pick-warning")

    def on_mount(self) -> None:
        want = self.current or self.recommended
        ol = self.query_one(OptionList)
        idx = next((i for i, (_, v) in enumerate(self.choices) if v == want), None)
        if idx is not None and ol.option_count:
            ol.highlighted = idx
        self._warn(ol.highlighted)

    def _options(self, needle: str) -> list[Option]:
        n = needle.lower()
        out = []
        for i, (label, value) in enumerate(self.choices):
            if n not in label.lower():
                continue
            t = Text(label)
            if value == self.current:
                t.append("  (current)", style="bold")
            if value == self.recommended and self.recommended:
                t.append("  (recommended)", style="bold")
            if value in self.warnings:
                t.append("  ⚠", style="bold")
            out.append(Option(t, id=f"v{i}"))
        return out

    def _warn(self, highlighted: int | None) -> None:
        box = self.query_one("#pick-warning", Static)
        ol = self.query_one(OptionList)
        value = ""
        if highlighted is not None and 0 <= highlighted < ol.option_count:
            oid = ol.get_option_at_index(highlighted).id
            value = self.choices[int(oid[1:])][1] if oid else ""
        why = self.warnings.get(value, "")
        box.display = bool(why)
        box.update(Text(f"⚠ {why}") if why else "")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._warn(event.option_index)

    def on_input_changed(self, event: Input.Changed) -> None:
        ol = self.query_one(OptionList)
        ol.clear_options()
        ol.add_options(self._options(event.value))
        if ol.option_count:
            ol.highlighted = 0

    def on_input_submitted(self, event: Input.Submitted) -> None:
        ol = self.query_one(OptionList)
        if ol.option_count:
            idx = ol.highlighted if ol.highlighted is not None else 0
            self._choose(ol.get_option_at_index(idx).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id)

    def _choose(self, oid: str | None) -> None:
        if oid is None:
            return
        self.dismiss(self.choices[int(oid[1:])][1])

    def on_key(self, event: object) -> None:
        from textual import events

        if isinstance(event, events.Key) and event.key in ("down", "up"):
            ol = self.query_one(OptionList)
            if self.focused is not ol:
                ol.focus()
                ol.action_cursor_down() if event.key == "down" else ol.action_cursor_up()
                event.stop()

    def action_cancel(self) -> None:
        self.dismiss(None)
