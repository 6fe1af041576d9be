"""``?``: the keys, generated from the bindings themselves, plus the ``:`` commands."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from kubectl_certdoctor.widgets.commands import HELP as COMMAND_HELP
from kubectl_certdoctor.widgets.palette import sty

KEY_NAMES = {"question_mark": "?", "slash": "/", "colon": ":", "escape": "esc",
             "enter": "enter", "ctrl+c": "ctrl+c", "right": "→", "left": "←",
             "up": "↑", "down": "↓"}


def key_name(key: str) -> str:
    return " ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in key.split(","))


def bindings_table(title: str, bindings: list[BindingType]) -> Table:
    t = Table(title=title, title_justify="left", title_style="bold", show_header=False,
              show_edge=False, pad_edge=False, box=None)
    t.add_column(style=sty("bold cyan"), no_wrap=True, min_width=12)
    t.add_column()
    seen: dict[str, list[str]] = {}
    for raw in bindings:
        b = raw if isinstance(raw, Binding) else Binding(*raw)
        if not b.description:
            continue
        keys = seen.setdefault(b.description, [])
        for k in key_name(b.key).split():
            if k not in keys:
                keys.append(k)
    for desc, keys in seen.items():
        t.add_row(" ".join(keys), desc)
    return t


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90; max-width: 100%; height: 90%; border: round $accent;
                                  background: $surface; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="help.close"),
        Binding("q", "close", "Close", id="help.close-q"),
        Binding("question_mark", "close", "Close", id="help.close-question-mark"),
    ]

    def __init__(self, sections: list[tuple[str, list[BindingType]]],
                 story: Text | None = None) -> None:
        super().__init__()
        self.sections = sections
        #: the demo scenario's story, when one is open
        self.story = story

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Text("kubectl certdoctor — keys", style="bold"))
            if self.story is not None:
                yield Static(self.story)
                yield Static("")
            for title, bindings in self.sections:
                yield Static(bindings_table(title, bindings))
                yield Static("")
            cmds = Table(title="Command mode (:)", title_justify="left", title_style="bold",
                         show_header=False, box=None, show_edge=False, pad_edge=False)
            cmds.add_column(style=sty("bold cyan"), no_wrap=True)
            cmds.add_column()
            for k, v in COMMAND_HELP:
                cmds.add_row(k, v)
            yield Static(cmds)
            yield Static(Text(
                "\nFilter (/): text matches names and namespaces; start with ~ for a "
                "regular expression (/~^web-\\d+$, case-insensitive); pasted /text or "
                ":command works too.", style="dim"))
            yield Static(Text(
                "Glyphs: ✔ ready  ◌ in progress  ✖ failed  ▲ warning  ? unknown — a row "
                "shows the worst of itself and everything below it (✖ when anything below "
                "fails), so a collapsed row never hides a failing child; its badge is its "
                "own worst finding code and ⇣ names the worst cause below it.", style="dim"))
            yield Static(Text("esc closes this help", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)
