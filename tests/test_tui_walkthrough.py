"""The session a person drove in tmux (160×48), replayed key for key with Pilot.

Recorded: start on a bundle with an HTTP-01 404; ``/web`` + enter to filter; ``j`` ×4 to
the Challenge; enter opens it; the reason and the finding are read; ``e`` shows its
events; esc goes back with the cursor still on the Challenge; esc clears the filter;
``p`` problems only; ``f`` findings, enter jumps back to the Challenge; ``?`` help, esc;
``q`` quits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from kubectl_certdoctor.app import CertDoctorApp, demo_clock
from kubectl_certdoctor.bundle import load_bundle
from kubectl_certdoctor.source import StaticSource
from tests.support.tui import is_screen, settle, tree_depths
from tests.test_tui import static_text

BUNDLE = Path(__file__).parent / "data" / "tui" / "lab-acme-http01-404.yaml"
CHALLENGE = "Challenge/lab-http01/web-1-3948949968-4075263968"


async def test_walkthrough_filter_open_challenge_read_why_and_back() -> None:
    src = StaticSource.of(load_bundle(str(BUNDLE)), origin="bundle: lab-acme-http01-404.yaml")
    app = CertDoctorApp(src, clock=demo_clock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC)))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        tree = app.tree_screen.cert_tree

        await pilot.press("slash", "w", "e", "b", "enter")
        assert app.tree_screen.flt.text == "web"
        assert app.focused is not None and app.focused.id == "tree"

        await pilot.press("j", "j", "j", "j")
        assert tree.cursor_id == CHALLENGE
        await pilot.press("enter")
        assert is_screen(app, "DetailScreen")
        why = static_text(app.screen, "#describe")
        assert "wrong status code '404', expected '200'" in why
        assert "HTTP01_SELF_CHECK_404" in why and "probe http01" in why
        await pilot.press("e")
        assert "Started" in static_text(app.screen, "#events")
        await pilot.press("escape")
        assert is_screen(app, "TreeScreen") and tree.cursor_id == CHALLENGE

        await pilot.press("escape")
        assert app.tree_screen.flt.text == ""
        assert not app.tree_screen.query_one("#filter").display
        await pilot.press("p")
        assert all(t.split()[0] != "✔" or d < 4 for d, t in tree_depths(app))

        await pilot.press("f")
        assert is_screen(app, "FindingsScreen")
        await pilot.press("enter")
        assert tree.cursor_id == CHALLENGE

        await pilot.press("question_mark")
        assert is_screen(app, "HelpScreen")
        await pilot.press("escape", "q")
    assert app.return_value == 0
