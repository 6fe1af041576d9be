"""Probe and fix screens against the real test API server and real loopback servers.

- The issue's Pilot script: select the failing node → findings → fix → preview (RBAC
  check and server-side dry run before any question) → confirm → apply → the verify
  message and the audit log. There is no cert-manager controller here, so verify reports
  what the API server itself shows (failed requests deleted, Issuing=True); "a new
  CertificateRequest" stays unseen and that is what the screen says.
- A restricted user sees the fix greyed with the SSAR's reason and no write is sent
  (counted by a recording proxy owned by the test).
- A probe run from the TUI against an HTTP server on a loopback address; with a
  writable session its debug pod is created, and ``esc`` cancels the run and the pod is
  deleted (no kubelet runs here: the pod stays Pending until then).
- A user forbidden to create pods: the pod vantages are greyed with the reason, the
  local check still runs.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import CoreV1Api

from kubectl_certdoctor.app import CertDoctorApp
from kubectl_certdoctor.cluster.connection import Connection, connect
from kubectl_certdoctor.fixes import audit
from kubectl_certdoctor.objects import condition
from kubectl_certdoctor.options import Options
from kubectl_certdoctor.probes.podrunner import SELECTOR
from kubectl_certdoctor.source import LiveSource
from tests.support import fixes as f
from tests.support.apply import apply_objects, apply_scenario
from tests.support.diagnosis import challenge, issuer
from tests.support.netservers import HttpBackend
from tests.support.tui import CHALLENGE_404, wait_until
from tests.support.tui_actions import diagnosed, finding_with, open_action, shown

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
SIZE = (160, 44)


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The audit log and saved probe results go to the test's own directory."""
    d = tmp_path / "state"
    monkeypatch.setenv("CERTDOCTOR_STATE_DIR", str(d))
    return d


@pytest.fixture
def admin_conn(control_plane: Any) -> Iterator[Connection]:
    conn = connect(Options(kubeconfig=str(control_plane.admin_kubeconfig), request_timeout=5))
    yield conn
    conn.close()


def screen_name(app: CertDoctorApp) -> str:
    return type(app.screen).__name__


# -- fixes -------------------------------------------------------------------------------


async def test_pilot_failing_node_findings_fix_preview_confirm_verify(
        admin_api: Any, admin_conn: Connection, namespace: str, state_dir: Path) -> None:
    apply_scenario(admin_api, "failed-request-blocks-renewal", namespace)
    app = CertDoctorApp(LiveSource(admin_conn, namespace))
    async with app.run_test(size=SIZE) as pilot:
        await diagnosed(pilot, app, "fix", "clear-failed-requests")
        # findings screen → the failing object in the tree → its detail
        await pilot.press("f")
        await wait_until(pilot, lambda: screen_name(app) == "FindingsScreen", 5)
        fscreen: Any = app.screen
        rows = fscreen.findings
        i = next(n for n, x in enumerate(rows) if "clear-failed-requests" in x.fixes)
        for _ in range(i):
            await pilot.press("j")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_name(app) == "TreeScreen", 5)
        assert app.tree_screen.cert_tree.cursor_id == str(rows[i].object)
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen_name(app) == "DetailScreen", 5)
        assert rows[i].code in shown(app.screen, "#describe")
        detail: Any = app.screen
        act = next(a for a in detail.actions if a.id == "clear-failed-requests")
        assert act.available
        await pilot.press(act.key)
        await wait_until(pilot, lambda: screen_name(app) == "FixScreen", 5)
        fix: Any = app.screen
        # preview, RBAC and the dry run come before any question
        await wait_until(pilot, lambda: fix.phase in ("ready", "blocked", "failed"), 20,
                         "dry run", show=lambda: shown(fix, "#fix-status"))
        assert fix.phase == "ready", shown(fix, "#fix-status")
        preview = shown(fix, "#fix-preview")
        assert "DELETE /apis/cert-manager.io/v1/namespaces/" + namespace in preview
        assert "(deleted)" in preview
        assert "RBAC: allowed" in shown(fix, "#fix-rbac")
        dry = shown(fix, "#fix-dry")
        assert "Server-side dry run (dryRun=All): ok" in dry and "ok (200) DELETE" in dry
        plan = fix.plan
        doomed = [c.ref.name for c in plan.deletions]
        assert doomed
        for n in doomed:  # the dry run deleted nothing
            assert f.get(admin_conn, "CertificateRequest", namespace, n) is not None
        # confirm: focus starts on Cancel, the targets are named
        await pilot.press("a")
        await wait_until(pilot, lambda: screen_name(app) == "ConfirmScreen", 5)
        modal: Any = app.screen
        assert app.focused is not None and app.focused.id == "cancel"
        targets = shown(modal, "#confirm-targets")
        for n in doomed:
            assert f"CertificateRequest/{namespace}/{n}" in targets
        if modal.conf.mode == "type":
            modal.query_one("#confirm-input").focus()
            await pilot.press(*str(len(doomed)))
        await pilot.click("#apply")
        await wait_until(pilot, lambda: screen_name(app) == "FixScreen", 5)
        await wait_until(pilot, lambda: all(
            f"seen: CertificateRequest {n} deleted" in shown(fix, "#fix-verify")
            for n in doomed) and "seen: Certificate Issuing=True" in shown(fix, "#fix-verify"),
            20, "the verify message", show=lambda: shown(fix, "#fix-verify"))
        assert "cert-manager creates a CertificateRequest" in shown(fix, "#fix-verify")
        assert "Applied: ok" in shown(fix, "#fix-apply")
        path = str(audit.audit_path())
        assert path.startswith(str(state_dir)) and path in shown(fix, "#fix-audit")
        await pilot.press("escape")  # stops watching
        await wait_until(pilot, lambda: screen_name(app) == "DetailScreen", 5)
    for n in doomed:
        assert f.get(admin_conn, "CertificateRequest", namespace, n) is None
    cert = f.get(admin_conn, "Certificate", namespace, plan.target.name) or {}
    assert (condition(cert, "Issuing") or {}).get("reason") == "ManuallyTriggered"
    entry = audit.read_entries()[-1]
    assert entry["result"] == "applied" and entry["fix"] == "clear-failed-requests"


async def test_fix_parameter_is_chosen_from_a_pick_list_when_the_fix_cannot_tell(
        admin_api: Any, admin_conn: Connection, namespace: str, state_dir: Path) -> None:
    """set-solver-ingress-class with no site Ingress to copy the class from and two
    IngressClasses: the pick list opens before anything is planned; the choice is what
    the dry run, the confirmation and the patch use."""
    from kubectl_certdoctor import scenarios

    objs = [o for o in scenarios.load("solver-ingress-class")
            if not (o["kind"] == "Ingress" and o["metadata"]["name"] == "main-ingress")]
    objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                 "metadata": {"name": "traefik"}, "spec": {"controller": "traefik.io/ic"}})
    apply_objects(admin_api, objs, namespace)
    app = CertDoctorApp(LiveSource(admin_conn, namespace))
    async with app.run_test(size=SIZE) as pilot:
        fd = await diagnosed(pilot, app, "fix", "set-solver-ingress-class")
        app.open_detail(str(fd.object))
        await wait_until(pilot, lambda: screen_name(app) == "DetailScreen"
                         and bool(getattr(app.screen, "actions", None)), 5, "detail actions")
        act = next(x for x in app.screen.actions  # type: ignore[attr-defined]
                   if x.id == "set-solver-ingress-class")
        await pilot.press(act.key)
        # the fix cannot tell the class: the list opens before anything is planned
        await wait_until(pilot, lambda: screen_name(app) == "PickScreen", 20, "the pick list")
        picker: Any = app.screen
        assert "IngressClass for the solver of ClusterIssuer letsencrypt-issuer" in \
            picker.title_text
        assert [v for _, v in picker.choices] == ["public", "traefik"]
        await pilot.press(*"public", "enter")
        await wait_until(pilot, lambda: screen_name(app) == "FixScreen", 5)
        fix: Any = app.screen
        await wait_until(pilot, lambda: fix.phase in ("ready", "blocked", "failed"), 20,
                         "dry run", show=lambda: shown(fix, "#fix-status"))
        assert fix.phase == "ready", shown(fix, "#fix-status")
        assert fix.params == {"ingress_class": "public"}
        assert "ingressClassName=public" in shown(fix, "#fix-preview")
        # p offers the same list again, the current choice marked
        await pilot.press("p")
        await wait_until(pilot, lambda: screen_name(app) == "PickScreen", 5)
        assert app.screen.current == "public"  # type: ignore[attr-defined]
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen_name(app) == "FixScreen", 5)
        await pilot.press("a")
        await wait_until(pilot, lambda: screen_name(app) == "ConfirmScreen", 5)
        await pilot.click("#apply")
        await wait_until(pilot, lambda: "Applied: ok" in shown(fix, "#fix-apply"), 20,
                         "applied", show=lambda: shown(fix, "#fix-status"))
    iss = f.get(admin_conn, "ClusterIssuer", "", "letsencrypt-issuer") or {}
    solver = iss["spec"]["acme"]["solvers"][0]["http01"]["ingress"]
    assert solver.get("ingressClassName") == "public" and "class" not in solver
    entry = audit.read_entries()[-1]
    assert entry["fix"] == "set-solver-ingress-class" and entry["result"] == "applied"


@pytest.fixture
def recording_proxy(control_plane: Any) -> Iterator[Any]:
    p = f.RecordingProxy(str(control_plane.restricted_kubeconfig))
    yield p
    p.close()


async def test_restricted_user_sees_fix_greyed_and_nothing_is_written(
        admin_api: Any, admin_conn: Connection, namespace: str, tmp_path: Path,
        state_dir: Path, recording_proxy: Any) -> None:
    apply_scenario(admin_api, "failed-request-blocks-renewal", namespace)
    kc = recording_proxy.kubeconfig(str(tmp_path / "viewer.kubeconfig"), namespace)
    conn = connect(Options(kubeconfig=kc, request_timeout=5))
    try:
        app = CertDoctorApp(LiveSource(conn, namespace))
        async with app.run_test(size=SIZE) as pilot:
            fd = await diagnosed(pilot, app, "fix", "clear-failed-requests")
            fix = await open_action(pilot, app, fd, "fix", "clear-failed-requests")
            await wait_until(pilot, lambda: fix.phase in ("blocked", "failed", "ready"), 20)
            assert fix.phase == "blocked", shown(fix, "#fix-status")
            rbac = shown(fix, "#fix-rbac")
            assert "certdoctor-viewer may not delete certificaterequests" in rbac, rbac
            assert "nothing was sent" in rbac and "not allowed" in fix.blocked
            assert "DELETE" in shown(fix, "#fix-preview")  # the preview is still shown
            assert shown(fix, "#fix-dry") == ""  # no dry run either
            assert fix.check_action("apply", ()) is False
            await pilot.press("a")
            assert screen_name(app) == "FixScreen"
            doomed = [c.ref.name for c in fix.plan.deletions]
    finally:
        conn.close()
    assert recording_proxy.writes() == []
    assert any(p.startswith("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
               for _, p in recording_proxy.requests)
    for n in doomed:
        assert f.get(admin_conn, "CertificateRequest", namespace, n) is not None
    assert audit.read_entries()[-1]["result"] == "forbidden"


# -- probes ------------------------------------------------------------------------------


class Port80Server:
    """An ingress stand-in on port 80 of a random loopback address (the HTTP-01 URL has no
    port); every path answers 404 like an ingress that does not route the challenge."""

    def __init__(self) -> None:
        outer = self
        self.hits = 0

        class Handler(BaseHTTPRequestHandler):
            server_version = "loopback-ingress"
            sys_version = ""

            def do_GET(self) -> None:
                outer.hits += 1
                body = b"404 page not found\n"
                self.send_response(404)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a: Any) -> None:
                pass

        self.ip = f"127.{random.randint(64, 250)}.{random.randint(1, 250)}.{random.randint(2, 250)}"
        self.server = ThreadingHTTPServer((self.ip, 80), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ingress80() -> Iterator[Port80Server]:
    s = Port80Server()
    yield s
    s.close()


def challenge_objects(host: str) -> list[dict[str, Any]]:
    return [issuer("le", "default"),
            challenge("shop-ch", None, "default", reason=CHALLENGE_404, host=host,
                      issuer="le", kind="Issuer")]


async def test_probe_from_the_tui_against_a_loopback_server(
        admin_api: Any, admin_conn: Connection, namespace: str, state_dir: Path,
        ingress80: Port80Server) -> None:
    apply_objects(admin_api, challenge_objects(ingress80.ip), namespace)
    app = CertDoctorApp(LiveSource(admin_conn, namespace, read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.analysis is not None and any(
            "http01" in x.probes for x in app.analysis.findings), 20, "HTTP01_SELF_CHECK_404")
        fd = finding_with(app, "probe", "http01")
        # read-only: the fix is hidden, the probe is offered
        probe = await open_action(pilot, app, fd, "probe", "http01")
        await wait_until(pilot, lambda: probe.result is not None, 30, "the probe result",
                         show=lambda: shown(probe, "#probe-status"))
        assert ingress80.hits >= 1
        local = shown(probe, "#vantage-local")
        assert "FAIL" in local and "404" in local, local
        for v in ("pod", "cert-manager"):
            assert "not available: read-only" in shown(probe, f"#vantage-{v}")
        verdict = shown(probe, "#probe-verdict")
        assert "FAIL" in verdict and "HTTP01_SELF_CHECK_404" in verdict, verdict
        assert f"http://{ingress80.ip}/.well-known/acme-challenge/tok" in \
            shown(probe, "#probe-log")
        # c: clipboard + a file in the state dir
        await pilot.press("c")
        await wait_until(pilot, lambda: probe.copied_path != "", 5, "the saved result")
        saved = Path(probe.copied_path)
        assert saved.parent == state_dir / "probes"
        assert json.loads(saved.read_text())["probe"] == "http01"
        assert app.clipboard and json.loads(app.clipboard)["verdict"] == "fail"
        # r: run again
        hits = ingress80.hits
        await pilot.press("r")
        await wait_until(pilot, lambda: probe.result is not None and ingress80.hits > hits, 30)
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen_name(app) == "DetailScreen", 5)


def probe_pods(admin_api: Any, namespace: str) -> list[str]:
    pods = CoreV1Api(admin_api).list_namespaced_pod(namespace, label_selector=SELECTOR,
                                                    _request_timeout=10)
    return [str(p.metadata.name) for p in pods.items if p.metadata is not None]


async def test_escape_cancels_a_running_probe_and_its_pod_is_deleted(
        admin_api: Any, admin_conn: Connection, namespace: str, state_dir: Path,
        ingress80: Port80Server, job_controllers: Any) -> None:
    apply_objects(admin_api, challenge_objects(ingress80.ip), namespace)
    app = CertDoctorApp(LiveSource(admin_conn, namespace))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.analysis is not None and any(
            "http01" in x.probes for x in app.analysis.findings), 20)
        fd = finding_with(app, "probe", "http01")
        probe = await open_action(pilot, app, fd, "probe", "http01")
        # the first debug pod of the session asks first: context and namespace, Cancel focused
        await wait_until(pilot, lambda: screen_name(app) == "PodConfirmScreen", 20,
                         "the debug-pod confirmation")
        asked = shown(app.screen, "#pods-text")
        assert f"namespace {namespace}" in asked and "context" in asked
        assert app.focused is not None and app.focused.id == "cancel"
        await pilot.click("#create")
        await wait_until(pilot, lambda: any("created pod" in p.message for p in probe.progress),
                         30, "the debug pod", show=lambda: shown(probe, "#probe-log"))
        assert "not available" not in shown(probe, "#vantage-pod")
        assert "cert-manager controller Deployment not found" in \
            shown(probe, "#vantage-cert-manager")
        assert probe.running and probe_pods(admin_api, namespace)
        await pilot.press("escape")
        assert screen_name(app) == "DetailScreen"
        finished = probe.finished
        await wait_until(pilot, finished.is_set, 40, "the cancelled run to clean up")
    assert probe_pods(admin_api, namespace) == []


async def test_forbidden_to_create_pods_greys_pod_vantages_local_still_runs(
        admin_api: Any, namespace: str, tmp_path: Path, state_dir: Path,
        recording_proxy: Any) -> None:
    """The restricted user may not create pods: both pod vantages are greyed with the
    SelfSubjectAccessReview's answer, the local egress check runs against a loopback
    ACME directory, and no pod is ever created."""
    with HttpBackend("127.0.0.1", {"/directory": (200, '{"newNonce": "x"}\n')},
                     "loopback-acme") as acme:
        server = f"http://{acme.addr}/directory"
        iss = issuer("le", "default", ready="False", reason="ErrRegisterACMEAccount",
                     message=f'Failed to register ACME account: Get "{server}": dial tcp '
                             f"{acme.addr}: i/o timeout",
                     spec={"acme": {"server": server, "email": "ops@example.test",
                                    "privateKeySecretRef": {"name": "le-account"},
                                    "solvers": [{"http01": {"ingress": {}}}]}})
        apply_objects(admin_api, [iss], namespace)
        kc = recording_proxy.kubeconfig(str(tmp_path / "viewer.kubeconfig"), namespace)
        conn = connect(Options(kubeconfig=kc, request_timeout=5))
        try:
            app = CertDoctorApp(LiveSource(conn, namespace))
            async with app.run_test(size=SIZE) as pilot:
                await wait_until(pilot, lambda: app.analysis is not None and any(
                    "egress" in x.probes for x in app.analysis.findings), 20,
                    "ACME_SERVER_UNREACHABLE")
                fd = finding_with(app, "probe", "egress")
                probe = await open_action(pilot, app, fd, "probe", "egress")
                await wait_until(pilot, lambda: probe.result is not None, 30, "the result",
                                 show=lambda: shown(probe, "#probe-status"))
                pod = shown(probe, "#vantage-pod")
                assert "not available: not allowed to create pods in namespace" in pod, pod
                assert "not available:" in shown(probe, "#vantage-cert-manager")
                local = shown(probe, "#vantage-local")
                assert "PASS" in local and "200" in local, local
                assert acme.hits >= 1
        finally:
            conn.close()
    assert recording_proxy.writes() == []
    assert probe_pods(admin_api, namespace) == []
