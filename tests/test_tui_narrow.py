"""Holds at 80×24 (issue 16, item 7): header counts, finding codes and the cause below a
row, ``? Help`` / ``q Quit`` and modal borders are on screen; pasted ``/`` or ``:`` input
keeps its first characters; ``:ns nope`` / ``:ctx nope`` are refused with a message; the
``~`` regex filter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from textual import events

from kubectl_certdoctor.app import CertDoctorApp, demo_clock
from kubectl_certdoctor.source import StaticSource
from tests.support.tui import MemorySource, is_screen, settle, small_cluster, tree_depths

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def screen_lines(app: CertDoctorApp) -> list[str]:
    """The terminal as a person sees it: one string per row."""
    strips = app.screen._compositor.render_strips()
    return ["".join(seg.text for seg in strip) for strip in strips]


def demo_app() -> CertDoctorApp:
    return CertDoctorApp(StaticSource(demo="all", clock=demo_clock(NOW)), clock=demo_clock(NOW))


async def test_demo_at_80x24_keeps_counts_codes_and_footer_keys() -> None:
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.pause(0.2)
        lines = screen_lines(app)
        assert len(lines) == 24 and all(len(x) <= 80 for x in lines)
        header = lines[0]
        assert "✔1 ✖5 ◌0" in header, header
        footer = lines[-1]
        assert "? Help" in footer and "q Quit" in footer, footer
        body = "\n".join(lines)
        # every visible failing ancestor row names its cause's code, uncut
        for code in ("HTTP01_SELF_CHECK_404", "HTTP01_SELF_CHECK_TIMEOUT",
                     "ACME_SERVER_UNREACHABLE"):
            assert code in body, body
        assert "⇣ Ch: HTTP01_SELF_CHECK_404" in body

        # modals keep their borders
        await pilot.press("question_mark")
        await pilot.pause()
        lines = screen_lines(app)
        top = next(i for i, x in enumerate(lines) if "╭" in x)
        bottom = max(i for i, x in enumerate(lines) if "╰" in x)
        assert lines[top].rstrip().endswith("╮") and lines[bottom].rstrip().endswith("╯")
        await pilot.press("escape")


async def test_wide_terminal_keeps_the_long_forms() -> None:
    app = demo_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot, app)
        lines = screen_lines(app)
        assert "✖ 5 failing" in lines[0]
        assert any("Challenge store/store-tls-1-3012398986-3244446551" in x for x in lines)


async def test_pasted_filter_and_command_keep_their_first_characters() -> None:
    app = CertDoctorApp(StaticSource.of(small_cluster()), clock=demo_clock(NOW))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app)
        ts: Any = app.tree_screen
        # a paste on the tree: "/shop" opens the filter with all of it
        ts.post_message(events.Paste("/shop"))
        await pilot.pause()
        box = ts.query_one("#filter")
        assert box.display and box.value == "shop" and ts.flt.text == "shop"
        await pilot.press("escape")
        # fast typing right after "/" lands in the box (no tree key runs)
        await pilot.press("slash", "p", "d")
        assert ts.query_one("#filter").value == "pd" and not ts.flt.problems
        assert is_screen(app, "TreeScreen")
        await pilot.press("escape")
        ts.post_message(events.Paste(":ns web"))
        await pilot.pause()
        cmd = ts.query_one("#command")
        assert cmd.display and cmd.value == "ns web"
        await pilot.press("enter")
        await pilot.pause()
        assert ts.flt.namespace == "web"


KEY_NAMES = {":": "colon", "/": "slash", " ": "space", "~": "tilde", "^": "circumflex_accent"}


def burst(app: CertDoctorApp, text: str) -> None:
    """Keys as a terminal delivers a fast typist's or a paste's bytes: all queued at once,
    before the app has handled the first (Pilot's ``press`` waits after each key)."""
    for ch in text:
        app.post_message(events.Key(KEY_NAMES.get(ch, ch), ch))


async def test_keys_queued_behind_slash_or_colon_land_in_the_box(tmp_path: Any) -> None:
    app = CertDoctorApp(StaticSource.of(small_cluster()), clock=demo_clock(NOW))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app)
        ts: Any = app.tree_screen
        burst(app, ":ns web")
        await pilot.pause(0.3)
        assert ts.query_one("#command").value == "ns web"
        assert is_screen(app, "TreeScreen")  # n did not open the namespace picker
        await pilot.press("enter")
        assert ts.flt.namespace == "web"
        burst(app, "/~^sh")
        await pilot.pause(0.3)
        assert ts.query_one("#filter").value == "~^sh" and not ts.flt.problems

    # a remapped filter key works the same way
    keymap = tmp_path / "keymap.toml"
    keymap.write_text('tree.filter = "ctrl+f"\n')
    app = CertDoctorApp(StaticSource.of(small_cluster()), clock=demo_clock(NOW),
                        keymap_file=str(keymap))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app)
        app.post_message(events.Key("ctrl+f", None))
        burst(app, "shop")
        await pilot.pause(0.3)
        assert app.tree_screen.query_one("#filter").value == "shop"


async def test_unknown_namespace_and_context_are_refused_with_a_message(tmp_path: Any) -> None:
    app = CertDoctorApp(StaticSource.of(small_cluster()), clock=demo_clock(NOW))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app)
        ts: Any = app.tree_screen
        await pilot.press("colon", *"ns nope", "enter")
        await pilot.pause()
        assert ts.flt.namespace is None
        notes = [n.message for n in app._notifications]
        assert any("no namespace 'nope'" in m and "web" in m for m in notes), notes

    from kubectl_certdoctor.options import Options

    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
        "contexts:\n- name: test\n  context: {cluster: c, user: u}\n"
        "- name: prod\n  context: {cluster: c, user: u}\n"
        "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:9'}\n"
        "users:\n- name: u\n  user: {}\n")
    src = MemorySource(small_cluster())
    app = CertDoctorApp(src, clock=demo_clock(NOW), opts=Options(kubeconfig=str(kubeconfig)))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("colon", *"ctx nope", "enter")

        def refused() -> bool:
            return any("no context 'nope' in the kubeconfig (contexts: test, prod)"
                       in n.message for n in app._notifications)

        from tests.support.tui import wait_until

        await wait_until(pilot, refused, 5, "the refusal",
                         show=lambda: [n.message for n in app._notifications])
        assert src.context == "test"


async def test_regex_filter() -> None:
    app = CertDoctorApp(StaticSource.of(small_cluster()), clock=demo_clock(NOW))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app)
        ts: Any = app.tree_screen
        await pilot.press("slash", *"~^(shop|healthy)$", "enter")
        rows = [t for _, t in tree_depths(app)]
        assert any("Certificate web/shop " in t + " " for t in rows)
        assert any("Certificate default/healthy" in t for t in rows)
        assert not any("orphan-cert" in t for t in rows)
        # a bad expression says so instead of silently matching nothing
        await pilot.press("slash", "ctrl+u", *"~(", "enter")
        await pilot.pause()
        assert "invalid regular expression" in str(ts.query_one("#nomatch").render())
