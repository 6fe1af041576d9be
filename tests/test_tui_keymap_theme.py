"""Bindings have ids and a keymap file remaps them; colours come from the Textual theme
(dark and light), and a theme change re-renders the rows (issue 16, item 7)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.binding import Binding
from textual.widgets import Static

from kubectl_certdoctor.app import CertDoctorApp, all_binding_ids, demo_clock
from kubectl_certdoctor.keymap import load_keymap
from kubectl_certdoctor.options import Options
from kubectl_certdoctor.source import StaticSource
from kubectl_certdoctor.widgets import palette
from tests.support.tui import is_screen, settle, small_cluster
from tests.support.tui_actions import rendered

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_every_binding_has_an_id() -> None:
    from kubectl_certdoctor.screens.detail import DetailScreen
    from kubectl_certdoctor.screens.tree import TreeScreen

    from kubectl_certdoctor.widgets.certtree import CertTree

    for cls in (TreeScreen, DetailScreen, CertTree, CertDoctorApp):
        for b in cls.BINDINGS:
            assert isinstance(b, Binding) and b.id, (cls.__name__, b)
    ids = all_binding_ids()
    assert {"tree.filter", "tree.problems", "detail.blocker", "fix.apply", "probe.rerun",
            "pods.cancel"} <= ids


def test_keymap_file_parsing(tmp_path: Path) -> None:
    f = tmp_path / "keymap.toml"
    f.write_text('tree.filter = "ctrl+f"\n"tree.nope" = "x"\ntree.problems = 3\n'
                 '[detail]\nblocker = "B, b"\n')
    keymap, problems = load_keymap(f, all_binding_ids())
    assert keymap == {"tree.filter": "ctrl+f", "detail.blocker": "B,b"}
    assert any("unknown binding id 'tree.nope'" in p for p in problems)
    assert any("tree.problems must be a key name" in p for p in problems)
    f.write_text("tree.filter = \n")
    keymap, problems = load_keymap(f, all_binding_ids())
    assert keymap == {} and "not valid TOML" in problems[0]
    assert load_keymap(tmp_path / "missing.toml", set()) == ({}, [])


async def test_keymap_remaps_tree_keys_and_help_shows_them(tmp_path: Path) -> None:
    f = tmp_path / "keymap.toml"
    f.write_text('[tree]\nproblems = "x"\n')
    app = CertDoctorApp(StaticSource.of(small_cluster()), clock=demo_clock(NOW),
                        keymap_file=str(f))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app)
        ts: Any = app.tree_screen
        await pilot.press("p")
        assert not ts.flt.problems  # p is no longer bound
        await pilot.press("x")
        assert ts.flt.problems
        await pilot.press("question_mark")
        assert is_screen(app, "HelpScreen")
        text = " ".join(rendered(w) for w in app.screen.query(Static))
        assert "x             Problems" in text or ("x  " in text and "Problems" in text)


def _label_styles(app: CertDoctorApp, needle: str) -> str:
    tree = app.tree_screen.cert_tree
    for i in range(tree.last_line + 1):
        n = tree.get_node_at_line(i)
        if n is not None and needle in n.label.plain:
            return " ".join(str(s.style) for s in n.label.spans).lower()
    raise AssertionError(needle)


async def test_light_theme_colours_and_live_theme_switch() -> None:
    app = CertDoctorApp(StaticSource.of(small_cluster()), clock=demo_clock(NOW),
                        opts=Options(theme="textual-light"))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app)
        assert app.theme == "textual-light"
        light_error = app.get_css_variables()["text-error"].lower()
        assert palette.sty("bold red").lower() == f"bold {light_error}"
        styles = _label_styles(app, "Certificate web/shop")  # ✖: the failing glyph
        assert light_error in styles, styles

        app.theme = "textual-dark"
        await pilot.pause()
        await pilot.pause()
        dark_error = app.get_css_variables()["text-error"].lower()
        assert dark_error != light_error
        styles = _label_styles(app, "Certificate web/shop")
        assert dark_error in styles and light_error not in styles, styles
