"""Helpers for the TUI tests: a small cluster picture, and waiting for the app to settle."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from textual.binding import Binding
from textual.pilot import Pilot

from kubectl_certdoctor.analysis import Analysis
from kubectl_certdoctor.app import CertDoctorApp
from kubectl_certdoctor.objects import ObjectSet
from kubectl_certdoctor.source import DataSource, SourceState
from tests.support.diagnosis import (
    NOW,
    certificate,
    challenge,
    cond,
    event,
    issuer,
    objset,
    order,
    request,
)

CHALLENGE_404 = ("Waiting for HTTP-01 challenge propagation: wrong status code '404', "
                 "expected '200'")


def small_cluster() -> ObjectSet:
    """A healthy chain, a 404 HTTP-01 chain and a Certificate whose issuer is missing."""
    le_spec: dict[str, Any] = {"acme": {
        "server": "https://acme.test/directory", "email": "ops@example.test",
        "privateKeySecretRef": {"name": "le-account"},
        "solvers": [{"http01": {"ingress": {"ingressClassName": "nginx"}}}]}}
    return objset(
        issuer("selfsigned", "default"),
        issuer("letsencrypt", None, spec=le_spec),
        certificate("healthy", issuer="selfsigned",
                    status={"notAfter": (NOW + timedelta(days=60)).strftime(
                        "%Y-%m-%dT%H:%M:%SZ")}),
        request("healthy-1", "healthy", issuer="selfsigned"),
        certificate("shop", "web", issuer="letsencrypt", kind="ClusterIssuer", ready="False",
                    message="Issuing certificate as Secret does not exist",
                    dns=("shop.example.test",)),
        request("shop-1", "shop", "web", issuer="letsencrypt", kind="ClusterIssuer", conds=[
            cond("Approved", "True", "cert-manager.io", "approved"),
            cond("Ready", "False", "Pending",
                 "Waiting on certificate issuance from order web/shop-1-1234")]),
        order("shop-1-1234", "shop-1", "web", issuer="letsencrypt", kind="ClusterIssuer"),
        challenge("shop-1-1234-99", "shop-1-1234", "web", reason=CHALLENGE_404,
                  host="shop.example.test", issuer="letsencrypt", kind="ClusterIssuer"),
        event("ev1", "web", "Challenge", "shop-1-1234-99", "web", CHALLENGE_404,
              -timedelta(minutes=3), reason="PresentError"),
        certificate("orphan-cert", "apps", issuer="gone", ready="False",
                    message="Issuer gone not found"),
    )


async def settle(pilot: Pilot[Any], app: CertDoctorApp, generation: int = 1,
                 timeout: float = 5.0) -> None:
    """Wait until the app has shown at least ``generation`` analyses, then let it repaint."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while app.generation < generation:
        if loop.time() > deadline:
            raise AssertionError(f"no analysis #{generation} within {timeout}s")
        await pilot.pause(0.05)
    await pilot.pause()


class MemorySource(DataSource):
    """A DataSource over objects a test changes directly (the in-memory twin of the live
    store: same interface, same notifications), for fast tests of live behaviour."""

    live = True
    read_only = True

    def __init__(self, objs: ObjectSet, states: dict[str, SourceState] | None = None,
                 context: str = "test") -> None:
        super().__init__()
        self.objs = objs
        self._states = dict(states or {})
        self.context = context
        self.origin = "live"

    def snapshot(self) -> ObjectSet:
        return ObjectSet(objects={k: dict(v) for k, v in self.objs.objects.items()},
                         context=self.context)

    def states(self) -> dict[str, SourceState]:
        return dict(self._states)

    def put(self, obj: dict[str, Any]) -> None:
        self.objs.add(obj)
        self._notify(str(obj.get("kind")))

    def delete(self, kind: str, ns: str, name: str) -> None:
        self.objs.remove(kind, ns, name)
        self._notify(kind)

    def set_state(self, kind: str, state: str, message: str = "") -> None:
        self._states[kind] = SourceState(state, message)
        self._notify(kind)


def tree_depths(app: CertDoctorApp) -> list[tuple[int, str]]:
    """(depth, plain label) of every visible row; roots have depth 0."""
    ts = app.tree_screen
    assert ts is not None
    tree = ts.cert_tree
    out = []
    for i in range(tree.last_line + 1):
        n = tree.get_node_at_line(i)
        if n is None:
            continue
        d = 0
        p = n.parent
        while p is not None and p is not tree.root:
            d += 1
            p = p.parent
        out.append((d, n.label.plain if hasattr(n.label, "plain") else str(n.label)))
    return out


async def wait_until(pilot: Pilot[Any], predicate: Any, timeout: float = 5.0,
                     what: str = "condition", show: Any = None) -> float:
    """Poll ``predicate`` while the app runs; returns the seconds it took.
    ``show()`` is added to the failure message (e.g. the header text)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not predicate():
        if loop.time() - start > timeout:
            extra = f": {show()}" if show is not None else ""
            raise AssertionError(f"{what} not reached within {timeout}s{extra}")
        await pilot.pause(0.02)
    return loop.time() - start


def is_screen(app: CertDoctorApp, name: str) -> bool:
    """The top screen's class name (screens load as ``kubectl_certdoctor.screens``; comparing
    names avoids importing them a second time as ``screens``)."""
    return type(app.screen).__name__ == name


def the(app: CertDoctorApp) -> Analysis:
    """The analysis on screen (the test has waited for one)."""
    assert app.analysis is not None
    return app.analysis


def tree_bindings() -> list[Binding]:
    """The tree screen's bindings (as the help screen lists them)."""
    from importlib import import_module

    cls = import_module("kubectl_certdoctor.screens.tree").TreeScreen
    return [b for b in cls.BINDINGS if isinstance(b, Binding)]
