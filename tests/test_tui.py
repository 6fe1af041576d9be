"""The TUI driven with Textual's Pilot on in-memory data: tree, filters, detail, findings,
help, live-update behaviour (cursor kept, flash, add/remove), forbidden and empty states."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from textual.widgets import DataTable, Static

from kubectl_certdoctor.app import CertDoctorApp, demo_clock
from kubectl_certdoctor.objects import ObjectSet
from kubectl_certdoctor.source import SourceState, StaticSource
from kubectl_certdoctor.widgets.commands import parse
from tests.support.diagnosis import (
    NOW,
    certificate,
    challenge,
    cond,
    issuer,
    objset,
    order,
    request,
)
from tests.support.tui import (
    MemorySource,
    is_screen,
    settle,
    small_cluster,
    the,
    tree_bindings,
    tree_depths,
)
from tests.support.tui_actions import rendered, shown

SIZE = (140, 36)


def make_app(objs: ObjectSet | None = None) -> CertDoctorApp:
    return CertDoctorApp(StaticSource.of(objs or small_cluster()), clock=demo_clock(NOW))


def labels(app: CertDoctorApp) -> list[str]:
    return [t for _, t in tree_depths(app)]


async def cursor_to(pilot, app: CertDoctorApp, needle: str) -> None:  # type: ignore[no-untyped-def]
    """Press j until the cursor row is ``needle`` (its kind and name after the glyph) or
    says it, outside the "⇣ blocked by" part (like a person would)."""
    tree = app.tree_screen.cert_tree
    for _ in range(tree.last_line + 2):
        n = tree.cursor_node
        own = n.label.plain.split("  ⇣ ")[0] if n is not None else ""
        if n is not None and (own[2:].startswith(needle) or needle in own):
            return
        await pilot.press("j")
    raise AssertionError(f"{needle!r} not reachable: {labels(app)}")


async def test_tree_shows_chain_per_issuer() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        rows = tree_depths(app)
        kinds = [(d, t.split()[1]) for d, t in rows]
        i = kinds.index((0, "ClusterIssuer"))
        assert kinds[i:i + 5] == [(0, "ClusterIssuer"), (1, "Certificate"),
                                  (2, "CertificateRequest"), (3, "Order"), (4, "Challenge")]
        ch = next(t for _, t in rows if t.split()[1] == "Challenge")
        assert ch.startswith("▲") and "HTTP01_SELF_CHECK_404" in ch and "'404'" in ch
        missing = next(t for d, t in rows if d == 0 and "missing" in t)
        assert missing.startswith("✖ missing Issuer apps/gone")
        header = app.screen.query_one("#header", Static).render()
        assert "OFFLINE" in str(header) and "READ-ONLY" in str(header)
        assert "2 failing" in str(header)


async def test_filter_by_name_and_escape_clears() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("slash", *"orphan", "enter")
        rows = labels(app)
        assert any("orphan-cert" in r for r in rows)
        assert not any("shop" in r for r in rows)
        assert any("missing Issuer" in r for r in rows)  # the match keeps its chain
        await pilot.press("escape")
        assert any("shop" in r for r in labels(app))
        await pilot.press("slash", *"zzz")
        assert labels(app) == []
        assert "Nothing matches /zzz" in shown(app.screen, "#nomatch")
        await pilot.press("escape")
        assert not app.screen.query_one("#nomatch").display and labels(app)


async def test_filter_by_namespace_text() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("slash", *"web", "enter")
        rows = labels(app)
        assert any("web/shop-1-1234-99" in r for r in rows)
        assert not any("orphan-cert" in r or "healthy" in r for r in rows)


async def test_problems_only_toggles() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("p")
        rows = labels(app)
        assert not any("selfsigned" in r or "healthy" in r for r in rows)
        assert any("Challenge" in r for r in rows) and any("orphan-cert" in r for r in rows)
        await pilot.press("p")
        assert any("selfsigned" in r for r in labels(app))


async def test_open_failing_challenge_read_reason_and_back() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await cursor_to(pilot, app, "Challenge")
        await pilot.press("enter")
        assert is_screen(app, "DetailScreen")
        text = shown(app.screen, "#describe")
        assert "wrong status code '404'" in text
        assert "HTTP01_SELF_CHECK_404" in text and "probe http01" in text
        assert "offline: needs a live cluster" in text
        await pilot.press("e")
        assert "PresentError" in shown(app.screen, "#events")
        await pilot.press("y")
        assert "kind: Challenge" in shown(app.screen, "#yaml")
        await pilot.press("escape")
        assert is_screen(app, "TreeScreen")
        assert app.tree_screen.cert_tree.cursor_id == "Challenge/web/shop-1-1234-99"


async def test_enter_expands_collapsed_node_then_opens() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await cursor_to(pilot, app, "Certificate default/healthy")
        tn = app.tree_screen.cert_tree.cursor_node
        assert tn is not None and not tn.is_expanded and tn.allow_expand
        await pilot.press("enter")
        assert tn.is_expanded
        assert any("healthy-1" in r for r in labels(app))
        await pilot.press("left")
        assert not tn.is_expanded
        await pilot.press("right", "right")
        assert app.tree_screen.cert_tree.cursor_node.data.endswith("healthy-1")
        await pilot.press("d")
        assert is_screen(app, "DetailScreen")


async def test_findings_screen_sorted_and_jumps_to_node() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("p")  # a filter that will hide nothing the jump needs
        await pilot.press("f")
        assert is_screen(app, "FindingsScreen")
        table = app.screen.query_one(DataTable)
        assert table.row_count == len(the(app).findings) >= 2
        ranks = [f.severity.rank for f in the(app).findings]
        assert ranks == sorted(ranks, reverse=True)
        # the highlighted finding says what to do, under the table
        await pilot.pause()
        first = the(app).findings[0]
        assert first.remedy and "What to do: " + first.remedy[:30] in shown(
            app.screen, "#finding-remedy").replace("\n", " ")
        target = str(the(app).findings[0].object)
        await pilot.press("enter")
        assert is_screen(app, "TreeScreen")
        assert app.tree_screen.cert_tree.cursor_id == target


async def test_help_is_generated_from_bindings() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        assert is_screen(app, "HelpScreen")
        text = " ".join(shown(app.screen, f"#{w.id}") if w.id else
                        rendered(w) for w in app.screen.query(Static))
        for b in tree_bindings():
            if b.description and b.action != "context":
                assert b.description in text
        assert "Context" not in text.split("Command mode")[0]  # offline: hidden
        await pilot.press("escape")
        assert is_screen(app, "TreeScreen")


async def test_command_line_kind_filter_and_quit() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("colon", *"ch", "enter")
        rows = tree_depths(app)
        assert rows[-1][1].split()[1] == "Challenge" or any("Challenge" in t for _, t in rows)
        assert not any("healthy" in t for _, t in rows)
        await pilot.press("colon", *"all", "enter")
        assert any("healthy" in t for t in labels(app))
        await pilot.press("colon", "q", "enter")
    assert app.return_value == 0


def test_command_parse() -> None:
    assert parse(":cert").arg == "Certificate"
    assert parse("ch").arg == "Challenge"
    assert parse(":ns kube-system").verb == "ns" and parse(":ns kube-system").arg == "kube-system"
    assert parse(":ns").arg is None
    assert parse(":ctx prod").arg == "prod"
    assert parse(":q").verb == "quit"
    assert parse(":svc").verb == "error"
    assert parse(":bogus").verb == "error"


async def test_markup_in_cluster_strings_is_shown_verbatim() -> None:
    objs = objset(issuer("iss"), certificate("c[1]", ready="False",
                                             message="bad [bold]thing[/] here [/]"))
    app = make_app(objs)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        rows = labels(app)
        assert any("bad [bold]thing[/] here [/]" in r and "c[1]" in r for r in rows), rows


async def test_live_changes_keep_cursor_add_remove_and_flash() -> None:
    objs = small_cluster()
    src = MemorySource(objs, {"Certificate": SourceState("live")})
    app = CertDoctorApp(src, clock=demo_clock(NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await cursor_to(pilot, app, "Challenge")
        tree = app.tree_screen.cert_tree
        line_before = tree.cursor_line
        # a new Certificate sorts before "shop" in the same issuer: rows shift under the cursor
        gen = app.generation
        src.put(certificate("alpha", "web", issuer="letsencrypt", kind="ClusterIssuer",
                            ready="False", message="new one"))
        await settle(pilot, app, gen + 1)
        assert any("web/alpha" in r for r in labels(app))
        assert tree.cursor_id == "Challenge/web/shop-1-1234-99"
        assert tree.cursor_line == line_before + 1
        # update in place: the challenge becomes valid; its row flashes, the cursor stays
        gen = app.generation
        ch = challenge("shop-1-1234-99", "shop-1-1234", "web", state="valid", reason="",
                       host="shop.example.test", issuer="letsencrypt", kind="ClusterIssuer")
        src.put(ch)
        await settle(pilot, app, gen + 1)
        row = tree.cursor_node
        assert row is not None and row.label.plain.startswith("✔ Challenge")
        from kubectl_certdoctor.widgets.labels import FLASH_STYLE
        from kubectl_certdoctor.widgets.palette import sty

        flash = sty(FLASH_STYLE).split(" on ")[-1].lower()
        assert any(flash in str(s.style).lower() for s in row.label.spans)
        assert tree._flash_until
        time.sleep(0)  # flash ends by timer
        await pilot.pause(1.5)
        assert not any(flash in str(s.style).lower() for s in tree.cursor_node.label.spans)
        # delete the challenge: the cursor lands on its Order
        gen = app.generation
        src.delete("Challenge", "web", "shop-1-1234-99")
        await settle(pilot, app, gen + 1)
        assert tree.cursor_id == "Order/web/shop-1-1234"
        assert not any("shop-1-1234-99" in r for r in labels(app))


async def test_forbidden_kinds_show_in_header_and_as_placeholder() -> None:
    objs = small_cluster()
    for k in ("Order", "Challenge"):
        objs.objects.pop(k, None)
    states = {k: SourceState("live") for k in ("Issuer", "ClusterIssuer", "Certificate",
                                               "CertificateRequest")}
    states["Order"] = SourceState("forbidden", "orders is forbidden")
    states["Challenge"] = SourceState("forbidden", "challenges is forbidden")
    app = CertDoctorApp(MemorySource(objs, states), clock=demo_clock(NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        header = str(app.screen.query_one("#header", Static).render())
        assert "forbidden: orders, challenges" in header
        rows = labels(app)
        assert rows[0].startswith("⊘ forbidden: Order, Challenge")
        await pilot.press("enter", "d")  # nothing to open on the placeholder; no crash
        assert is_screen(app, "TreeScreen")


async def test_cert_manager_not_installed_screen() -> None:
    states = {"Certificate": SourceState("missing", "the server does not serve certificates"),
              "Issuer": SourceState("missing")}
    app = CertDoctorApp(MemorySource(ObjectSet(), states, context="kind-bare"),
                        clock=demo_clock(NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        text = shown(app.screen, "#notice")
        assert "cert-manager is not installed" in text and "kind-bare" in text
        assert not app.tree_screen.cert_tree.display


async def test_empty_cluster_has_helpful_empty_state() -> None:
    states = {"Certificate": SourceState("live")}
    app = CertDoctorApp(MemorySource(ObjectSet(), states), clock=demo_clock(NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        text = shown(app.screen, "#notice")
        assert "No cert-manager objects" in text and "--demo" in text


def big_cluster(n_certs: int) -> ObjectSet:
    objs = [issuer("le", None, spec={"acme": {"server": "https://acme.test/d"}})]
    for i in range(n_certs):
        ns = f"ns{i % 50}"
        objs += [
            certificate(f"c{i}", ns, issuer="le", kind="ClusterIssuer", ready="False",
                        message="Issuing"),
            request(f"c{i}-1", f"c{i}", ns, issuer="le", kind="ClusterIssuer", conds=[
                cond("Approved", "True"), cond("Ready", "False", "Pending", "Waiting")]),
            order(f"c{i}-1-1", f"c{i}-1", ns, issuer="le", kind="ClusterIssuer"),
            challenge(f"c{i}-1-1-1", f"c{i}-1-1", ns, issuer="le", kind="ClusterIssuer",
                      reason="Waiting for HTTP-01 challenge propagation: wrong status code "
                             "'404', expected '200'"),
        ]
    return objset(*objs)


@pytest.mark.slow
async def test_ten_thousand_nodes_stay_usable() -> None:
    objs = big_cluster(2500)  # 10,001 nodes
    app = CertDoctorApp(StaticSource.of(objs), clock=demo_clock(NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app, timeout=60)
        assert len(the(app).graph.nodes) >= 10_000
        tree = app.tree_screen.cert_tree
        t0 = time.monotonic()
        await pilot.press(*(["j"] * 20))
        assert tree.cursor_line == 20
        await pilot.press("slash", *"c2499", "enter")
        assert any("c2499-1-1-1" in r for r in labels(app))
        assert time.monotonic() - t0 < 10
        # a change to one object re-renders in well under the budget
        t1 = time.monotonic()
        app.refresh_source()
        await settle(pilot, app, app.generation + 1, timeout=30)
        assert time.monotonic() - t1 < 15


def test_fixed_clock_ages() -> None:
    assert NOW - timedelta(days=1) < NOW


async def test_orphans_group_and_backoff_next_retry_in_detail() -> None:
    from tests.support.diagnosis import ts

    objs = objset(
        issuer("iss"),
        certificate("retrying", ready="False", message="The certificate request has failed",
                    status={"failedIssuanceAttempts": 2,
                            "lastFailureTime": ts(-timedelta(minutes=10))}),
        request("lonely-1", None), challenge("stray", None))
    app = make_app(objs)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        rows = tree_depths(app)
        assert (0, "◇ orphans  2 objects without an owner") in rows
        assert any(d == 1 and "Challenge default/stray" in t for d, t in rows)
        cert = next(t for _, t in rows if "Certificate default/retrying" in t)
        assert "next retry in 1h50m after 2 failed attempts" in cert
        await cursor_to(pilot, app, "retrying")
        await pilot.press("d")
        text = shown(app.screen, "#describe")
        assert "failedIssuanceAttempts  2" in text
        assert "next retry" in text and "(in 1h50m)" in text


async def test_namespace_pick_list_and_ns_command_narrow_the_tree() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("n")
        assert is_screen(app, "PickScreen")
        await pilot.press(*"apps", "enter")
        assert is_screen(app, "TreeScreen")
        rows = labels(app)
        assert any("orphan-cert" in r for r in rows) and not any("shop" in r for r in rows)
        assert "ns apps" in str(app.screen.query_one("#header", Static).render())
        await pilot.press("colon", *"ns web", "enter")
        rows = labels(app)
        assert any("shop" in r for r in rows) and not any("orphan-cert" in r for r in rows)
        await pilot.press("colon", *"ns", "enter")
        assert any("orphan-cert" in r for r in labels(app))
        assert "ns all" in str(app.screen.query_one("#header", Static).render())


async def test_open_detail_follows_live_changes() -> None:
    src = MemorySource(small_cluster(), {"Certificate": SourceState("live")})
    app = CertDoctorApp(src, clock=demo_clock(NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await cursor_to(pilot, app, "Challenge")
        await pilot.press("enter")
        assert "wrong status code '404'" in shown(app.screen, "#describe")
        gen = app.generation
        src.put(challenge("shop-1-1234-99", "shop-1-1234", "web", state="invalid",
                          reason="Error accepting authorization: acme: urn:ietf:params:acme:"
                                 "error:unauthorized: 403", host="shop.example.test",
                          issuer="letsencrypt", kind="ClusterIssuer"))
        await settle(pilot, app, gen + 1)
        assert "invalid: Error accepting authorization" in shown(app.screen, "#describe")
        gen = app.generation
        src.delete("Challenge", "web", "shop-1-1234-99")
        await settle(pilot, app, gen + 1)
        assert "no longer exists" in shown(app.screen, "#describe")
        await pilot.press("escape")
        assert app.tree_screen.cert_tree.cursor_id == "Order/web/shop-1-1234"


async def test_numbered_action_keys_on_a_live_read_only_source() -> None:
    """Live + read-only: probes are offered (their screens: tests/test_tui_actions*.py),
    fixes are hidden, not merely greyed."""
    src = MemorySource(small_cluster(), {"Certificate": SourceState("live")})
    app = CertDoctorApp(src, clock=demo_clock(NOW))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot, app)
        await cursor_to(pilot, app, "Challenge")
        await pilot.press("enter")
        screen = app.screen
        acts = {a.key: a for a in screen.actions}  # type: ignore[attr-defined]
        assert acts and all(a.kind == "probe" and a.available for a in acts.values())
        text = shown(screen, "#describe")
        assert "probe http01" in text and "Fix with" not in text


async def test_certificate_says_what_blocks_it_and_b_goes_there() -> None:
    """Issue 12: a stuck Certificate's row and detail name the failing object below it."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        rows = [t for _, t in tree_depths(app) if t.split()[1] == "Certificate"]
        assert any("⇣ Challenge" in t and "HTTP01_SELF_CHECK_404" in t for t in rows), rows
        await cursor_to(pilot, app, "Certificate web/shop")
        await pilot.press("enter")
        await pilot.press("enter")
        assert is_screen(app, "DetailScreen")
        text = shown(app.screen, "#describe")
        assert "Blocked by: Challenge web/shop-1-1234-99 — HTTP01_SELF_CHECK_404" in text
        await pilot.press("b")
        await pilot.pause()
        assert is_screen(app, "DetailScreen")
        assert app.screen.node_id == "Challenge/web/shop-1-1234-99"  # type: ignore[attr-defined]
        await pilot.press("escape")
        assert app.screen.node_id == "Certificate/web/shop"  # type: ignore[attr-defined]


async def test_opens_on_one_certificate_from_the_command_line() -> None:
    """``kubectl certdoctor certificate/web -n shop`` (issue 13): the TUI opens on that
    Certificate's detail, its tree row revealed behind it; an unknown name is said."""
    from kubectl_certdoctor.cli import _take_focus
    from kubectl_certdoctor.options import Options

    args = ["-n", "web", "certificate/shop", "--read-only"]
    assert _take_focus(args) == "shop" and args == ["-n", "web", "--read-only"]
    assert _take_focus(["check", "certificate/x"]) is None
    assert _take_focus(["cert/x"]) == "x"

    app = CertDoctorApp(StaticSource.of(small_cluster()), clock=demo_clock(NOW),
                        opts=Options(namespace="web", focus="shop"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.pause()
        assert is_screen(app, "DetailScreen")
        assert app.screen.node_id == "Certificate/web/shop"  # type: ignore[attr-defined]
        await pilot.press("escape")
        assert app.tree_screen.cert_tree.cursor_id == "Certificate/web/shop"

    app = CertDoctorApp(StaticSource.of(small_cluster()), clock=demo_clock(NOW),
                        opts=Options(focus="nope"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.pause()
        assert is_screen(app, "TreeScreen")
        assert any("Certificate nope not found" in str(n.message)
                   for n in app._notifications)
