"""The tree's fast path (only the rows an incremental analysis remade are visited) draws
exactly what a full reconcile of every open row draws, on random change sequences."""

from __future__ import annotations

import dataclasses
import random

from kubectl_certdoctor.app import CertDoctorApp
from tests.support.diagnosis import NOW
from tests.support.tui import MemorySource, settle, tree_depths
from tests.test_analysis_incremental import OPS, WEIGHTS, cluster, snapshot

SIZE = (150, 60)


async def test_fast_path_rows_equal_a_full_reconcile() -> None:
    src = MemorySource(cluster())
    app = CertDoctorApp(src, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        tree = app.tree_screen.cert_tree
        for tn in list(tree._index.values()):  # open everything: every row is live
            tn.expand()
        await pilot.pause()
        rnd = random.Random(20261201)
        fast = 0
        for step in range(60):
            objs = snapshot(src.objs)
            for _ in range(rnd.randint(1, 2)):
                r = random.Random(rnd.getrandbits(32))
                r.choices(OPS, WEIGHTS)[0](objs, r)
            src.objs = objs
            gen = app.generation
            src._notify("*")
            await settle(pilot, app, gen + 1)
            a = app.analysis
            assert a is not None
            fast += a.changed is not None
            for tn in list(tree._index.values()):
                if not tn.is_expanded and tn.allow_expand:
                    tn.expand()
            await pilot.pause()
            shown = tree_depths(app)
            tree.apply(dataclasses.replace(a, changed=None), None)  # every open row
            await pilot.pause()
            assert tree_depths(app) == shown, f"step {step}"
        assert fast > 20, "the fast path was hardly taken"


async def test_a_row_swapped_for_another_in_one_pass() -> None:
    """Under an issuer with many Certificates, one deleted and another created at once:
    the row count stays the same, yet the tree must show the new row, not the old one."""
    from tests.support.diagnosis import certificate
    from tests.test_analysis_incremental import NS, _replace

    objs = cluster()
    for i in range(40):
        _replace(objs, certificate(f"x{i:02d}", NS, issuer="ca"))
    src = MemorySource(objs)
    app = CertDoctorApp(src, clock=lambda: NOW)
    async with app.run_test(size=(150, 120)) as pilot:
        await settle(pilot, app)
        tree = app.tree_screen.cert_tree
        for tn in list(tree._index.values()):
            tn.expand()
        await pilot.pause()
        objs = snapshot(src.objs)
        objs.remove("Certificate", NS, "x07")
        _replace(objs, certificate("x07b", NS, issuer="ca"))
        src.objs = objs
        gen = app.generation
        src._notify("Certificate")
        await settle(pilot, app, gen + 1)
        assert app.analysis is not None and app.analysis.changed is not None
        rows = [t for _, t in tree_depths(app)]
        assert any(f"{NS}/x07b" in r for r in rows), rows
        assert not any(r.rstrip().endswith(f"{NS}/x07") or f"{NS}/x07 " in r for r in rows)
