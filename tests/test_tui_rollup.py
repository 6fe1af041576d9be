"""Causes roll up (issue 16, item 1): every ancestor of a failing node — issuer,
Certificate, CertificateRequest, Order — shows the trouble below it in its glyph, a
"⇣ <Kind> <name>: CODE" badge and a "Blocked by" / "Failing below" line on its detail;
the header's failing count and ``p`` follow the same rule; collapsing a row never hides
that a child fails; live changes re-label the ancestors."""

from __future__ import annotations

from typing import Any

from kubectl_certdoctor.analysis import analyse
from kubectl_certdoctor.app import CertDoctorApp, demo_clock
from kubectl_certdoctor.source import StaticSource
from kubectl_certdoctor.status import Status
from tests.support.diagnosis import NOW, challenge
from tests.support.tui import (
    MemorySource,
    is_screen,
    settle,
    small_cluster,
    tree_depths,
    wait_until,
)
from tests.support.tui_actions import shown

SIZE = (140, 36)
CH = "Challenge/web/shop-1-1234-99"
ANCESTORS = ("ClusterIssuer letsencrypt", "Certificate web/shop", "CertificateRequest web/shop-1",
             "Order web/shop-1-1234")


def row(app: CertDoctorApp, needle: str) -> str:
    return next(t for _, t in tree_depths(app) if needle in t.split("  ⇣ ")[0])


def test_every_ancestor_names_the_failing_challenge() -> None:
    a = analyse(small_cluster(), {}, NOW)
    ch = a.graph.nodes[CH]
    node = ch
    seen = []
    while node.parent_id:
        node = a.graph.nodes[node.parent_id]
        blocked = a.blocker(node)
        assert blocked is not None and blocked[0] is ch, node.id
        assert blocked[1].code == "HTTP01_SELF_CHECK_404"
        assert a.shown_status(node) in (Status.FAILED, Status.WARNING), node.id
        assert a.is_problem(node)
        seen.append(node.ref.kind)
    assert seen == ["Order", "CertificateRequest", "Certificate", "ClusterIssuer"]
    # the header's failing count is exactly the Certificates whose glyph says failed
    certs = a.graph.of_kind("Certificate")
    failing = [c for c in certs if a.shown_status(c) in (Status.FAILED, Status.MISSING)]
    assert a.counts["failing"] == len(failing) == 2


async def test_rows_detail_and_collapse_show_the_trouble_below() -> None:
    app = CertDoctorApp(StaticSource.of(small_cluster()), clock=demo_clock(NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        for anc in ANCESTORS:
            r = row(app, anc)
            assert r.startswith("✖"), r
            assert "⇣ Challenge shop-1-1234-99: HTTP01_SELF_CHECK_404" in r, r
        # collapse the Certificate: its row still says a child fails
        tree = app.tree_screen.cert_tree
        tn = tree.node_for("Certificate/web/shop")
        assert tn is not None
        tree.move_cursor(tn)
        await pilot.press("left")
        await pilot.pause()
        assert not any("Order web/shop-1-1234" in t for _, t in tree_depths(app))
        r = row(app, "Certificate web/shop")
        assert r.startswith("✖") and "⇣ Challenge shop-1-1234-99" in r
        # collapse the issuer too
        tn = tree.node_for("ClusterIssuer/letsencrypt")
        assert tn is not None
        tree.move_cursor(tn)
        await pilot.press("left")
        await pilot.pause()
        r = row(app, "ClusterIssuer letsencrypt")
        assert r.startswith("✖") and "HTTP01_SELF_CHECK_404" in r

        # the Order's detail: Blocked by, and b goes there
        app.open_detail("Order/web/shop-1-1234")
        await pilot.pause()
        text = shown(app.screen, "#describe")
        assert "Blocked by: Challenge web/shop-1-1234-99 — HTTP01_SELF_CHECK_404" in text
        await pilot.press("b")
        await pilot.pause()
        assert is_screen(app, "DetailScreen") and app.screen.node_id == CH
        await pilot.press("escape", "escape")
        # the issuer's detail says what fails below it
        app.open_detail("ClusterIssuer/letsencrypt")
        await pilot.pause()
        text = shown(app.screen, "#describe")
        assert "Failing below: Challenge web/shop-1-1234-99 — HTTP01_SELF_CHECK_404" in text
        await pilot.press("escape")

        # p keeps every ancestor of the failing Challenge, and the header counts agree
        await pilot.press("p")
        await pilot.pause()
        header = str(app.screen.query_one("#header").render())
        assert "✖ 2 failing" in header
        shown_rows = [t for _, t in tree_depths(app)]
        assert any("ClusterIssuer letsencrypt" in t for t in shown_rows)
        assert not any("Certificate default/healthy" in t for t in shown_rows)


async def test_live_fix_of_the_challenge_clears_every_ancestor() -> None:
    """The roll-up is kept across incremental analyses: when the Challenge turns valid,
    its ancestors lose the badge (no stale memo)."""
    src = MemorySource(small_cluster())
    app = CertDoctorApp(src, clock=demo_clock(NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert "⇣ Challenge" in row(app, "Order web/shop-1-1234")
        fixed: dict[str, Any] = challenge("shop-1-1234-99", "shop-1-1234", "web",
                                          reason="", host="shop.example.test",
                                          issuer="letsencrypt", kind="ClusterIssuer")
        fixed["status"] = {"state": "valid", "presented": False, "processing": False,
                           "reason": "Successfully authorized domain"}
        src.put(fixed)

        def cleared() -> bool:
            return all("⇣" not in row(app, anc) for anc in ANCESTORS[2:])

        await wait_until(pilot, cleared, what="ancestors relabelled",
                         show=lambda: [t for _, t in tree_depths(app)])
        assert not row(app, "Order web/shop-1-1234").startswith("✖")
