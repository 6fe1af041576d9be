"""The TUI on the real test API server: a chain applied shows up; creates, updates and
deletes reach the tree within a second with the cursor kept; the API server restarting
shows "reconnecting" then "live"; a restricted user sees forbidden kinds, no crash."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from textual.widgets import Static

from kubectl_certdoctor.app import CertDoctorApp
from kubectl_certdoctor.cluster.connection import Connection, connect
from kubectl_certdoctor.objects import Ref
from kubectl_certdoctor.options import Options
from kubectl_certdoctor.source import LiveSource
from tests.support.apply import apply_objects
from tests.support.diagnosis import certificate
from tests.support.tui import small_cluster, the, tree_depths, wait_until

pytestmark = pytest.mark.integration
SIZE = (140, 36)


def rows(app: CertDoctorApp) -> list[str]:
    return [t for _, t in tree_depths(app)] if app.tree_screen is not None else []


def header(app: CertDoctorApp) -> str:
    return str(app.screen.query_one("#header", Static).render())


def chain_objects(ns: str) -> list[dict[str, Any]]:
    """small_cluster() in one namespace, its ClusterIssuer renamed per test."""
    objs = []
    for o in small_cluster():
        o = dict(o)
        if o["kind"] == "ClusterIssuer":
            o["metadata"] = {**o["metadata"], "name": f"le-{ns}"}
        spec = o.get("spec")
        if isinstance(spec, dict) and isinstance(spec.get("issuerRef"), dict) and \
                spec["issuerRef"].get("kind") == "ClusterIssuer":
            o["spec"] = {**spec, "issuerRef": {**spec["issuerRef"], "name": f"le-{ns}"}}
        objs.append(o)
    return objs


@pytest.fixture
def admin_conn(control_plane: Any) -> Iterator[Connection]:
    conn = connect(Options(kubeconfig=str(control_plane.admin_kubeconfig), request_timeout=3))
    yield conn
    conn.close()


async def test_applied_chain_shows_in_tree(admin_api: Any, admin_conn: Connection,
                                           namespace: str) -> None:
    apply_objects(admin_api, chain_objects(namespace), namespace)
    app = CertDoctorApp(LiveSource(admin_conn, namespace))
    async with app.run_test(size=SIZE) as pilot:
        chain = [(0, "ClusterIssuer"), (1, "Certificate"), (2, "CertificateRequest"),
                 (3, "Order"), (4, "Challenge")]

        def linked() -> bool:
            # kinds finish their first LIST at different moments: until all have, a Challenge
            # can show as an orphan; what matters is that the full chain appears
            kinds = [(d, t.split()[1]) for d, t in tree_depths(app)]
            return any(kinds[i:i + 5] == chain for i in range(len(kinds)))

        await wait_until(pilot, linked, 15, "the Issuer → … → Challenge chain")
        depths = tree_depths(app)
        ch = next(t for _, t in depths if t.split()[1] == "Challenge")
        assert "wrong status code '404'" in ch and "HTTP01_SELF_CHECK_404" in ch
        await wait_until(pilot, lambda: "● live" in header(app), 10, "header live")
        assert f"ns {namespace}" in header(app)


async def test_create_update_delete_within_a_second_keeping_cursor(
        admin_api: Any, admin_conn: Connection, namespace: str) -> None:
    apply_objects(admin_api, chain_objects(namespace), namespace)
    app = CertDoctorApp(LiveSource(admin_conn, namespace))
    async with app.run_test(size=SIZE) as pilot:
        chain = f"Challenge/{namespace}/shop-1-1234-99"
        await wait_until(pilot, lambda: app.analysis is not None
                         and app.analysis.graph.nodes.get(chain) is not None
                         and app.analysis.graph.nodes[chain].parent_id
                         == f"Order/{namespace}/shop-1-1234"
                         and any("Challenge" in r for r in rows(app)), 15,
                         "the Challenge linked under its Order")
        tree = app.tree_screen.cert_tree
        for _ in range(len(rows(app)) + 2):  # walk down to it, as a person would
            if tree.cursor_node is not None and tree.cursor_id == chain:
                break
            await pilot.press("j")
        cursor = tree.cursor_id
        assert cursor == chain, (cursor, rows(app))

        # create: a Certificate that sorts before "shop" under the same issuer
        apply_objects(admin_api, [certificate("alpha", namespace, issuer=f"le-{namespace}",
                                              kind="ClusterIssuer", ready="False",
                                              message="freshly created")], namespace)
        took = await wait_until(pilot, lambda: any(f"{namespace}/alpha" in r
                                                   for r in rows(app)), 1.0, "created row")
        assert tree.cursor_id == cursor, took

        # update: the Challenge turns valid (status subresource, as cert-manager writes it)
        from kubernetes.client import CustomObjectsApi

        api = CustomObjectsApi(admin_api)
        api.patch_namespaced_custom_object_status(
            "acme.cert-manager.io", "v1", namespace, "challenges", "shop-1-1234-99",
            {"status": {"state": "valid", "presented": False, "processing": False,
                        "reason": "Successfully authorized domain"}})
        await wait_until(pilot, lambda: tree.cursor_node is not None
                         and tree.cursor_node.label.plain.startswith("✔ Challenge"), 1.0,
                         "updated row")
        assert tree.cursor_id == cursor

        # delete: the row goes, the cursor lands on the parent Order
        api.delete_namespaced_custom_object(
            "acme.cert-manager.io", "v1", namespace, "challenges", "shop-1-1234-99")
        await wait_until(pilot, lambda: not any("shop-1-1234-99" in r for r in rows(app)),
                         1.0, "deleted row")
        assert tree.cursor_id == f"Order/{namespace}/shop-1-1234"


async def test_api_restart_shows_reconnecting_then_live(
        control_plane: Any, admin_api: Any, admin_conn: Connection, namespace: str) -> None:
    apply_objects(admin_api, chain_objects(namespace), namespace)
    app = CertDoctorApp(LiveSource(admin_conn, namespace))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "● live" in header(app), 15, "live")
        before = rows(app)
        control_plane.stop_apiserver(kill=True)
        try:
            await wait_until(pilot, lambda: "● reconnecting" in header(app), 10, "reconnecting")
            assert rows(app) == before  # the last known tree stays on screen
        finally:
            control_plane.start_apiserver()
        await wait_until(pilot, lambda: "● live" in header(app)
                         and "● reconnecting" not in header(app), 20, "live again",
                         show=lambda: (header(app), app.source.states()))
        apply_objects(admin_api, [certificate("after", namespace, issuer=f"le-{namespace}",
                                              kind="ClusterIssuer")], namespace)
        await wait_until(pilot, lambda: any(f"{namespace}/after" in r for r in rows(app)), 3,
                         "change after reconnect")


async def test_restricted_user_sees_forbidden_not_a_crash(
        control_plane: Any, admin_api: Any, namespace: str) -> None:
    apply_objects(admin_api, chain_objects(namespace), namespace)
    conn = connect(Options(kubeconfig=str(control_plane.restricted_kubeconfig),
                           request_timeout=3))
    try:
        app = CertDoctorApp(LiveSource(conn, namespace))
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: "forbidden: orders, challenges" in header(app), 15,
                             "forbidden", show=lambda: header(app))
            await wait_until(pilot, lambda: any(f"Certificate {namespace}/shop" in r
                                                for r in rows(app)), 10,
                             show=lambda: rows(app))
            assert rows(app)[0].startswith("⊘ forbidden")
            assert not any(r.split()[1:2] == ["Challenge"] for r in rows(app))
            await pilot.press("j", "j", "enter", "escape", "f", "escape", "p")
            assert app.tree_screen is not None
    finally:
        conn.close()


async def test_dump_then_from_file_gives_the_same_tree(
        control_plane: Any, admin_api: Any, admin_conn: Connection, namespace: str,
        tmp_path: Any) -> None:
    """The live tree and the tree of a bundle dumped from it show the same rows."""
    from kubectl_certdoctor.cli import main
    from kubectl_certdoctor.source import StaticSource

    apply_objects(admin_api, chain_objects(namespace), namespace)
    live = CertDoctorApp(LiveSource(admin_conn, namespace))
    async with live.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: any("Challenge" in r for r in rows(live)), 15)
        await wait_until(pilot, lambda: "● live" in header(live), 10)
        live_rows = [r.split("  ")[0] for r in rows(live)]  # glyph, kind, name (no ages)
        live_findings = [(f.code, str(f.object)) for f in the(live).findings]
    out = tmp_path / "bundle.yaml"
    assert main(["dump", "--kubeconfig", str(control_plane.admin_kubeconfig),
                 "-n", namespace, "-o", str(out)]) == 0
    assert "PRIVATE KEY" not in out.read_text()
    offline = CertDoctorApp(StaticSource(path=str(out)))
    async with offline.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(rows(offline)), 10)
        assert [r.split("  ")[0] for r in rows(offline)] == live_rows
        assert [(f.code, str(f.object)) for f in the(offline).findings] == live_findings
        assert "OFFLINE" in header(offline)


async def test_context_switch_and_namespace_pick(
        control_plane: Any, admin_api: Any, admin_conn: Connection, namespace: str,
        tmp_path: Any) -> None:
    """``:ctx other`` connects in the background and swaps the tree; ``n`` picks a scope."""
    import yaml

    kc = yaml.safe_load(control_plane.admin_kubeconfig.read_text())
    first = kc["contexts"][0]
    kc["contexts"].append({"name": "other", "context": {**first["context"],
                                                        "namespace": namespace}})
    path = tmp_path / "two.kubeconfig"
    path.write_text(yaml.safe_dump(kc))
    apply_objects(admin_api, chain_objects(namespace), namespace)
    opts = Options(kubeconfig=str(path), request_timeout=3)
    app = CertDoctorApp(LiveSource.connect(opts), opts=opts)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "● live" in header(app), 15)
        assert "ns default" in header(app)
        await pilot.press("colon", *"ctx other", "enter")
        await wait_until(pilot, lambda: "ctx other" in header(app) and "● live" in header(app),
                         15, "switched", show=lambda: header(app))
        assert f"ns {namespace}" in header(app)
        await wait_until(pilot, lambda: any("Challenge" in r for r in rows(app)), 10)
        # n: the pick list re-scopes the store to all namespaces
        await pilot.press("n")
        await pilot.press(*"all", "enter")
        await wait_until(pilot, lambda: "ns all" in header(app) and app.source.namespace is None,
                         5, "all namespaces", show=lambda: header(app))
        await wait_until(pilot, lambda: "● live" in header(app), 10)
        await pilot.press("c")  # the context list opens from the kubeconfig
        await wait_until(pilot, lambda: type(app.screen).__name__ == "PickScreen", 5)
        await pilot.press("escape")
        await pilot.press("colon", *"ctx nope", "enter")
        await wait_until(pilot, lambda: "ctx other" in header(app)
                         and "switching" not in header(app), 10)


def _scenario_names() -> list[str]:
    """Library scenarios the test API server can hold (it serves no Gateway API CRDs)."""
    from kubectl_certdoctor import scenarios

    names = getattr(scenarios, "names", None)
    if not callable(names):
        return []
    return [n for n in names() if not scenarios.load(n).of_kind("Gateway")]


@pytest.mark.parametrize("name", _scenario_names() or [pytest.param(
    "none", marks=pytest.mark.skip(reason="scenario library not available yet"))])
async def test_library_scenario_applied_shows_every_link(
        admin_api: Any, admin_conn: Connection, namespace: str, name: str) -> None:
    """apply_scenario → every cert-manager object of it is a row once its chain is opened."""
    from tests.support.apply import apply_scenario

    created = apply_scenario(admin_api, name, namespace)
    wanted = [str(Ref.of(o)) for o in created
              if o["kind"] in ("Certificate", "CertificateRequest", "Order", "Challenge")]
    app = CertDoctorApp(LiveSource(admin_conn, namespace))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.analysis is not None
                         and all(w in app.analysis.graph.nodes for w in wanted), 15,
                         "every object in the graph")
        for w in wanted:
            assert app.tree_screen.cert_tree.reveal(w), w
            await pilot.pause()
            assert app.tree_screen.cert_tree.cursor_id == w
