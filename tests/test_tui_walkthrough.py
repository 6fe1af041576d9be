"""The sessions a person drove in tmux (160×48), replayed key for key with Pilot.

Recorded on ``kubectl-certdoctor --demo``: ``/store`` + enter filters to one chain; ``j`` ×4
reaches the Challenge; enter opens it and the 404 reason and both findings are read; ``e``
events, ``y`` YAML; esc back (cursor still on the Challenge); esc clears the filter; ``p``
problems only; ``f`` findings; ``?`` help; ``q`` quits.

Recorded on a lab bundle with an HTTP-01 404: ``/web`` + enter to filter; ``j`` ×4 to the
Challenge; enter opens it; the reason and the finding are read; ``e`` shows its
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
from tests.support.tui_actions import shown

BUNDLE = Path(__file__).parent / "data" / "tui" / "lab-acme-http01-404.yaml"
CHALLENGE = "Challenge/lab-http01/web-1-3948949968-4075263968"


DEMO_NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


async def test_demo_walkthrough_as_driven_in_tmux() -> None:
    from kubectl_certdoctor import scenarios

    if not hasattr(scenarios, "load_demo"):
        import pytest

        pytest.skip("scenario library not available")
    app = CertDoctorApp(StaticSource(demo="all", clock=demo_clock(DEMO_NOW)),
                        clock=demo_clock(DEMO_NOW))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        tree = app.tree_screen.cert_tree
        header = str(app.screen.query_one("#header").render())
        assert "OFFLINE" in header and "READ-ONLY" in header and "ctx demo" in header

        await pilot.press("slash", *"store", "enter")
        await pilot.press("j", "j", "j", "j")
        assert tree.cursor_id is not None and tree.cursor_id.startswith("Challenge/store/")
        challenge = tree.cursor_id
        await pilot.press("enter")
        assert is_screen(app, "DetailScreen")
        why = shown(app.screen, "#describe")
        assert "wrong status code '404', expected '200'" in why
        assert "HTTP01_SELF_CHECK_404" in why and "HTTP01_MULTIPLE_INGRESS_BACKENDS" in why
        assert "192.168.0.61" in why  # the second ingress backend, the cause in seed 000
        await pilot.press("e", "y")
        assert "kind: Challenge" in shown(app.screen, "#yaml")
        await pilot.press("escape")
        assert is_screen(app, "TreeScreen") and tree.cursor_id == challenge

        await pilot.press("escape", "p")
        visible = [t for _, t in tree_depths(app)]
        assert not any("shop/shop-tls" in t for t in visible)  # healthy: hidden
        assert any("payments/api-tls" in t for t in visible)
        await pilot.press("f")
        assert is_screen(app, "FindingsScreen")
        await pilot.press("escape", "question_mark")
        assert is_screen(app, "HelpScreen")
        await pilot.press("escape", "q")
    assert app.return_value == 0


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
        why = shown(app.screen, "#describe")
        assert "wrong status code '404', expected '200'" in why
        assert "HTTP01_SELF_CHECK_404" in why and "probe http01" in why
        await pilot.press("e")
        assert "Started" in shown(app.screen, "#events")
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


async def test_demo_findings_on_objects_outside_the_tree_open_their_detail() -> None:
    """In the demo the NO_PROXY finding is about the controller Deployment: enter on it
    in the findings screen opens that Deployment's detail instead of a dead end."""
    from kubectl_certdoctor import scenarios

    if not hasattr(scenarios, "load_demo"):
        import pytest

        pytest.skip("scenario library not available")
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    app = CertDoctorApp(StaticSource(demo="all", clock=demo_clock(now)), clock=demo_clock(now))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        findings = app.analysis.findings if app.analysis is not None else []
        idx = next(i for i, f in enumerate(findings) if f.code == "PROXY_NO_PROXY_GAP")
        await pilot.press("f", *(["j"] * idx), "enter")
        assert is_screen(app, "DetailScreen")
        text = shown(app.screen, "#describe")
        assert "Deployment cert-manager/cert-manager" in text and "PROXY_NO_PROXY_GAP" in text
