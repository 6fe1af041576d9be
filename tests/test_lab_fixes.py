"""Fixes against cert-manager's real controllers: the effect comes from cert-manager itself.

The unit and API-server tests prove a fix sends the right calls; only the lab can
prove those calls make cert-manager do what the fix promises. A module-scoped lab
(private control plane, the real controller, Pebble, bind9, see tests/test_lab.py)
runs just the three scenarios these tests need:

* ``lab-ca-mismatch``: the request Failed, the Certificate backs off; clearing the
  failed request makes cert-manager create a new one (shown live in the TUI);
* ``lab-pki``: a Ready leaf; ``renew`` makes cert-manager issue the next revision;
* ``lab-http01``: a stuck HTTP-01 Challenge; after ``set-solver-ingress-class`` and
  ``retry-challenge`` cert-manager's next solver Ingress uses the new class
  (cert-manager v1.21.1 pkg/issuer/acme/http/ingress.go sets ``spec.ingressClassName``
  from the solver's ``ingressClassName``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from kubectl_certdoctor import fixes
from kubectl_certdoctor.app import CertDoctorApp
from kubectl_certdoctor.cluster.connection import Connection, connect
from kubectl_certdoctor.fixes.execute import FIELD_MANAGER
from kubectl_certdoctor.graph import REVISION_ANN
from kubectl_certdoctor.objects import Obj, Ref
from kubectl_certdoctor.options import Options
from kubectl_certdoctor.source import LiveSource
from tests.support import lab_scenarios as ls
from tests.support.lab import Lab
from tests.support.private_lab import PrivateLab
from tests.support.tui import tree_depths
from tests.support.tui import wait_until as tui_wait_until

pytestmark = [pytest.mark.integration, pytest.mark.lab]

USED = tuple(ls.BY_NAME[n] for n in ("lab-pki-healthy", "lab-ca-key-mismatch",
                                     "lab-acme-http01-404"))
NEW_CLASS = "lab-public"
SOLVER_LABEL = "acme.cert-manager.io/http01-solver=true"
T = TypeVar("T")


@dataclass
class LabEnv:
    """The running lab plus an admin connection of the project's own kind."""

    run: PrivateLab
    conn: Connection

    @property
    def api(self) -> client.ApiClient:
        return self.run.api

    @property
    def lab(self) -> Lab:
        return self.run.lab


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabEnv]:
    """Only the three scenarios these tests need, on a private control plane."""
    run = PrivateLab.start(tmp_path_factory, "labfix", USED, settle_timeout=90)
    conn = connect(Options(kubeconfig=str(run.cp.admin_kubeconfig), request_timeout=10))
    try:
        assert all(run.settled.values()), run.settled
        yield LabEnv(run, conn)
    finally:
        def drop_class() -> None:
            with _suppress_404():
                client.NetworkingV1Api(run.api).delete_ingress_class(NEW_CLASS)
        try:
            run.teardown(first=drop_class)
        finally:
            conn.close()
    assert run.lab.leftover() == []


class _suppress_404:
    def __enter__(self) -> None:
        return None

    def __exit__(self, et: Any, ev: Any, tb: Any) -> bool:
        return isinstance(ev, ApiException) and ev.status == 404


def poll(what: str, get: Callable[[], T | None], timeout: float) -> T:
    """Poll until ``get`` returns something; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        got = get()
        if got is not None:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not seen within {timeout:.0f}s")
        time.sleep(0.3)


def requests_of(env: LabEnv, ns: str, cert: str) -> list[Obj]:
    items = ls.Reader(env.api, ns).list(ls.CM, "certificaterequests")
    return [cr for cr in items
            if cr["metadata"].get("annotations", {}).get("cert-manager.io/certificate-name")
            == cert]


def made_by_cert_manager(obj: Obj, owner_kind: str, owner: str) -> None:
    """The object is controlled by ``owner`` and written by cert-manager, not by us."""
    refs = obj["metadata"].get("ownerReferences", [])
    assert any(r.get("controller") and r["kind"] == owner_kind and r["name"] == owner
               for r in refs), refs
    managers = [m.get("manager", "") for m in obj["metadata"].get("managedFields", [])]
    assert FIELD_MANAGER not in managers, managers
    assert any("cert-manager" in m for m in managers), managers


def test_clear_failed_requests_gets_a_new_request_shown_live(env: LabEnv) -> None:
    ns, cert = "lab-ca-mismatch", "payments"
    before = requests_of(env, ns, cert)
    failed = [cr for cr in before if ls.condition(cr).get("reason") == "Failed"]
    assert failed, [cr.get("status") for cr in before]
    old_uids = {cr["metadata"]["uid"] for cr in before}
    objs = ls.snapshot(env.api, ns)
    plan = fixes.plan("clear-failed-requests", objs, Ref("Certificate", ns, cert))
    assert not plan.noop_reason, plan.noop_reason
    assert fixes.rbac_check(env.conn, plan, read_only=False).allowed
    dry = fixes.dry_run(env.conn, plan, read_only=False)
    assert dry.ok, dry.lines()
    assert {cr["metadata"]["uid"] for cr in requests_of(env, ns, cert)} == old_uids

    async def session() -> None:
        app = CertDoctorApp(LiveSource(env.conn, ns))
        async with app.run_test(size=(160, 40)) as pilot:
            old_name = failed[0]["metadata"]["name"]
            await tui_wait_until(pilot, lambda: _row_with(app, old_name), 20, "the failed row")
            done = await asyncio.to_thread(fixes.apply, env.conn, plan, read_only=False)
            assert done.ok, done.lines()
            seen = await asyncio.to_thread(fixes.verify, env.conn, plan, 30)
            assert seen.ok, seen.lines()
            fresh = [cr for cr in requests_of(env, ns, cert)
                     if cr["metadata"]["uid"] not in old_uids]
            assert fresh, "verify passed but no new request listed"
            new = fresh[0]
            made_by_cert_manager(new, "Certificate", cert)
            new_ref = Ref("CertificateRequest", ns, new["metadata"]["name"])

            def shown() -> bool:
                a = app.analysis
                if a is None or not _row_with(app, new_ref.name):
                    return False
                node = a.graph.nodes.get(str(new_ref))
                return bool(node and node.obj
                            and node.obj["metadata"]["uid"] == new["metadata"]["uid"])

            await tui_wait_until(pilot, shown, 15, "the new request's row")

    asyncio.run(session())
    # the old failed request is gone: deleted by us, never by cert-manager
    assert not old_uids & {cr["metadata"]["uid"] for cr in requests_of(env, ns, cert)}


def _row_with(app: CertDoctorApp, text: str) -> bool:
    if app.tree_screen is None:
        return False
    return any("CertificateRequest" in t and text in t for _, t in tree_depths(app))


def _revision(cr: Obj) -> int:
    return int(cr["metadata"].get("annotations", {}).get(REVISION_ANN, "0"))


def test_renew_gets_the_next_revision_from_cert_manager(env: LabEnv) -> None:
    ns, cert = "lab-pki", "web"
    reader = ls.Reader(env.api, ns)
    crt = reader.get(ls.CM, "certificates", cert)
    assert crt is not None and ls.condition(crt, "Issuing").get("status") != "True"
    top = max((_revision(cr) for cr in requests_of(env, ns, cert)), default=0)
    plan = fixes.plan("renew", ls.snapshot(env.api, ns), Ref("Certificate", ns, cert))
    assert not plan.noop_reason, plan.noop_reason
    assert fixes.dry_run(env.conn, plan, read_only=False).ok
    assert fixes.apply(env.conn, plan, read_only=False).ok
    seen = fixes.verify(env.conn, plan, timeout=30)
    assert seen.ok, seen.lines()
    new = poll("a request with a higher revision",
               lambda: next((cr for cr in requests_of(env, ns, cert) if _revision(cr) > top),
                            None), 20)
    made_by_cert_manager(new, "Certificate", cert)
    # the CA issuer really signs it: the Certificate comes back Ready at the new revision
    poll("Ready at the new revision", lambda: (
        c if (c := reader.get(ls.CM, "certificates", cert))
        and c.get("status", {}).get("revision", 0) > top
        and ls.condition(c).get("status") == "True" else None), 30)


def test_set_solver_ingress_class_reaches_the_next_solver_ingress(env: LabEnv) -> None:
    ns, issuer = "lab-http01", "pebble-http01"
    net = client.NetworkingV1Api(env.api)
    net.create_ingress_class(cast(Any, {
        "metadata": {"name": NEW_CLASS},
        "spec": {"controller": "example.test/public"}}))
    old_ingresses = poll("the first solver Ingress", lambda: net.list_namespaced_ingress(
        ns, label_selector=SOLVER_LABEL).items or None, 30)
    assert all(i.spec is not None and i.spec.ingress_class_name == ls.INGRESS_CLASS
               for i in old_ingresses)

    before = ls.snapshot(env.api, ns)
    plan = fixes.plan("set-solver-ingress-class", before, Ref("Issuer", ns, issuer),
                      {"ingress_class": NEW_CLASS})
    assert fixes.dry_run(env.conn, plan, read_only=False).ok
    assert fixes.apply(env.conn, plan, read_only=False).ok
    assert fixes.verify(env.conn, plan, timeout=15).ok
    iss = ls.Reader(env.api, ns).get(ls.CM, "issuers", issuer)
    assert iss is not None
    assert iss["spec"]["acme"]["solvers"][0]["http01"]["ingress"]["ingressClassName"] == NEW_CLASS

    # the Order that owns the Challenge recorded before the change
    old = next(c for c in before.of_kind("Challenge")
               if c["spec"]["solver"]["http01"]["ingress"].get("ingressClassName")
               == ls.INGRESS_CLASS)
    # Challenge names hash their spec: cert-manager's Order controller may itself replace
    # the now "leftover" Challenge on its next sync. retry-challenge makes it happen now;
    # if cert-manager was first, the delete finds nothing (reported, not an error).
    done = retry_challenge(env, ns, old["metadata"]["name"])
    if done is None:
        print("cert-manager replaced the Challenge before retry-challenge was planned")
    elif not done.ok:
        assert all(r.status == 404 for r in done.results if not r.ok), done.lines()
        print("cert-manager replaced the Challenge before retry-challenge did")

    order = old["metadata"]["ownerReferences"][0]["name"]
    ch = _next_challenge(env, ns, old, order)
    # retry-challenge on a Challenge that is certainly still there: cert-manager
    # recreates it, and the solver Ingress of that one uses the new class too
    done = retry_challenge(env, ns, ch["metadata"]["name"])
    assert done is not None and done.ok, done and done.lines()
    _next_challenge(env, ns, ch, order)


def retry_challenge(env: LabEnv, ns: str, name: str) -> Any:
    """Plan and apply retry-challenge as a user would: cert-manager keeps writing the
    Challenge's status, so the delete's resourceVersion precondition can lose the race —
    the fix then refuses (ConflictError, nothing overwritten) and the user plans again
    (``r`` in the TUI). None when the Challenge is already gone."""
    from kubectl_certdoctor.fixes.model import ConflictError

    for _ in range(5):
        now = ls.snapshot(env.api, ns)
        if now.get("Challenge", ns, name) is None:
            return None
        plan = fixes.plan("retry-challenge", now, Ref("Challenge", ns, name))
        try:
            return fixes.apply(env.conn, plan, read_only=False)
        except ConflictError:
            time.sleep(0.5)
    raise AssertionError(f"Challenge {name} kept changing under retry-challenge")


def _next_challenge(env: LabEnv, ns: str, old: Obj, order: str) -> Obj:
    """The Challenge cert-manager creates after ``old``, checked down to its solver Ingress."""
    net = client.NetworkingV1Api(env.api)

    def new_challenge() -> Obj | None:
        for ch in ls.Reader(env.api, ns).list(ls.ACME, "challenges"):
            if ch["metadata"]["uid"] != old["metadata"]["uid"] and not \
                    ch["metadata"].get("deletionTimestamp"):
                return ch
        return None

    ch = poll("a new Challenge from cert-manager", new_challenge, 45)
    made_by_cert_manager(ch, "Order", order)
    assert ch["spec"]["solver"]["http01"]["ingress"]["ingressClassName"] == NEW_CLASS

    def new_ingress() -> Any:
        for ing in net.list_namespaced_ingress(ns, label_selector=SOLVER_LABEL).items:
            owners = (ing.metadata.owner_references if ing.metadata else None) or []
            if any(o.uid == ch["metadata"]["uid"] for o in owners):
                return ing
        return None

    ing = poll("the new Challenge's solver Ingress", new_ingress, 30)
    assert ing.spec.ingress_class_name == NEW_CLASS
    assert "kubernetes.io/ingress.class" not in (ing.metadata.annotations or {})
    return ch
