"""SVG snapshots of the tree and the detail screen (pytest-textual-snapshot).

Stable by construction: bundles from tests/data/tui (captured from the lab, copied so a
re-capture cannot move them), the demo loaded at a fixed time, a fixed clock and a fixed
terminal size. After a deliberate visual change run ``pytest tests/test_snapshots.py
--snapshot-update``, then copy every snapshot named in ``DOC_SCREENSHOTS`` to
docs/screenshots/ (``test_docs_screenshots_match_snapshots`` fails until you do).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from kubectl_certdoctor.app import CertDoctorApp, demo_clock
from kubectl_certdoctor.bundle import load_bundle
from kubectl_certdoctor.options import Options
from kubectl_certdoctor.source import StaticSource
from tests.support.diagnosis import NOW as SMALL_NOW
from tests.support.tui import settle, small_cluster

DATA = Path(__file__).parent / "data" / "tui"
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SIZE = (140, 40)

SCENARIOS = {
    "http01-404": "Challenge/lab-http01/web-1-3948949968-4075263968",
    "ca-missing-secret": "Certificate/lab-ca-missing/billing",
    "pki-healthy": "Certificate/lab-pki/web",
    "acme-unreachable": "ClusterIssuer/lab-acme-unreachable",
}
FILES = {
    "http01-404": "lab-acme-http01-404.yaml",
    "ca-missing-secret": "lab-ca-missing-secret.yaml",
    "pki-healthy": "lab-pki-healthy.yaml",
    "acme-unreachable": "lab-acme-unreachable.yaml",
}


def bundle_app(name: str) -> CertDoctorApp:
    src = StaticSource.of(load_bundle(str(DATA / FILES[name])), origin=f"bundle: {FILES[name]}")
    return CertDoctorApp(src, clock=demo_clock(NOW))


def open_node(node_id: str | None, *keys: str) -> Any:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, CertDoctorApp)
        await settle(pilot, app)
        if node_id is not None:
            assert app.tree_screen.cert_tree.reveal(node_id), node_id
            await pilot.pause()
        if keys:
            await pilot.press(*keys)
        await pilot.pause()
    return run_before


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_tree_snapshot(name: str, snap_compare: Any) -> None:
    assert snap_compare(bundle_app(name), terminal_size=SIZE,
                        run_before=open_node(SCENARIOS[name]))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_detail_snapshot(name: str, snap_compare: Any) -> None:
    assert snap_compare(bundle_app(name), terminal_size=SIZE,
                        run_before=open_node(SCENARIOS[name], "d"))


def test_small_cluster_problems_only_snapshot(snap_compare: Any) -> None:
    app = CertDoctorApp(StaticSource.of(small_cluster(), origin="bundle: small.yaml"),
                        clock=demo_clock(SMALL_NOW))
    assert snap_compare(app, terminal_size=SIZE, run_before=open_node(None, "p"))


def test_findings_snapshot(snap_compare: Any) -> None:
    app = CertDoctorApp(StaticSource.of(small_cluster(), origin="bundle: small.yaml"),
                        clock=demo_clock(SMALL_NOW))
    assert snap_compare(app, terminal_size=SIZE, run_before=open_node(None, "f"))


def test_help_snapshot(snap_compare: Any) -> None:
    app = CertDoctorApp(StaticSource.of(small_cluster(), origin="bundle: small.yaml"),
                        clock=demo_clock(SMALL_NOW))
    assert snap_compare(app, terminal_size=SIZE, run_before=open_node(None, "question_mark"))


def demo_app() -> CertDoctorApp:
    return CertDoctorApp(StaticSource(demo="all", clock=demo_clock(NOW)), clock=demo_clock(NOW))


def test_demo_tree_snapshot(snap_compare: Any) -> None:
    assert snap_compare(demo_app(), terminal_size=(160, 40), run_before=open_node(None))


def test_demo_problems_detail_snapshot(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, CertDoctorApp)
        await settle(pilot, app)
        await pilot.press("slash", *"store", "enter", "j", "j", "j", "j", "enter")
        await pilot.pause()
    assert snap_compare(demo_app(), terminal_size=(160, 40), run_before=run_before)


SIZES = {"80x24": (80, 24), "200x60": (200, 60)}
THEMES = ("textual-dark", "textual-light")


def themed(app: CertDoctorApp, theme: str) -> CertDoctorApp:
    app.opts = dataclasses.replace(app.opts, theme=theme)
    return app


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", sorted(SIZES))
def test_demo_tree_size_theme_snapshot(size: str, theme: str, snap_compare: Any) -> None:
    """The demo tree at 80×24 (compact rows and header) and 200×60, dark and light."""
    assert snap_compare(themed(demo_app(), theme), terminal_size=SIZES[size],
                        run_before=open_node(None))


def story_app(name: str, namespace: str, cert: str) -> CertDoctorApp:
    return CertDoctorApp(StaticSource(demo=name, clock=demo_clock(NOW)), clock=demo_clock(NOW),
                         opts=Options(demo=name, namespace=namespace, focus=cert))


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", sorted(SIZES))
def test_story_certificate_size_theme_snapshot(size: str, theme: str,
                                               snap_compare: Any) -> None:
    """``--demo two-ingress-controllers certificate/store-tls``: the TUI opens on the
    Certificate's detail, whose "Blocked by" line names the failing Challenge."""
    app = themed(story_app("two-ingress-controllers", "store", "store-tls"), theme)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot, app)
        await pilot.pause(0.2)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("theme", THEMES)
def test_pod_confirmation_80x24_snapshot(theme: str, snap_compare: Any) -> None:
    """The first debug pod's confirmation: context and namespace named, Cancel focused,
    the border whole at 80×24."""
    app = themed(demo_app(), theme)

    async def run_before(pilot: Pilot[Any]) -> None:
        from kubectl_certdoctor.screens.confirm import PodConfirmScreen

        await settle(pilot, app)
        app.push_screen(PodConfirmScreen("http01", "prod-eu", [("pod", "store"),
                                                               ("cert-manager",
                                                                "cert-manager")]))
        await pilot.pause()
    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=run_before)


#: README screenshots: docs/screenshots/<name> is a copy of the snapshot it names
DOC_SCREENSHOTS = {
    "tree-http01-404.svg": "test_tree_snapshot[http01-404].svg",
    "detail-challenge-404.svg": "test_detail_snapshot[http01-404].svg",
    "tree-ca-missing-secret.svg": "test_tree_snapshot[ca-missing-secret].svg",
    "detail-ca-missing-secret.svg": "test_detail_snapshot[ca-missing-secret].svg",
    "detail-certificate-healthy.svg": "test_detail_snapshot[pki-healthy].svg",
    "findings.svg": "test_findings_snapshot.svg",
    "tree-problems-only.svg": "test_small_cluster_problems_only_snapshot.svg",
    "demo-tree.svg": "test_demo_tree_snapshot.svg",
    "demo-challenge-detail.svg": "test_demo_problems_detail_snapshot.svg",
    "demo-tree-80x24.svg": "test_demo_tree_size_theme_snapshot[80x24-textual-dark].svg",
    "demo-tree-light.svg": "test_demo_tree_size_theme_snapshot[200x60-textual-light].svg",
    "story-blocked-by-80x24.svg":
        "test_story_certificate_size_theme_snapshot[80x24-textual-dark].svg",
}


@pytest.mark.parametrize("doc", sorted(DOC_SCREENSHOTS))
def test_docs_screenshots_match_snapshots(doc: str) -> None:
    """After ``--snapshot-update``, copy the new SVGs to docs/screenshots/ as well."""
    root = Path(__file__).parents[1]
    snap = Path(__file__).parent / "__snapshots__" / "test_snapshots" / DOC_SCREENSHOTS[doc]
    assert (root / "docs" / "screenshots" / doc).read_bytes() == snap.read_bytes()
