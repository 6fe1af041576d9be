"""Each vantage finishes on its own: its result is streamed the moment it is known
(``VantageDone``, stored through ``ctx.partial``), and the probe screen shows it while
another vantage is still blocked. Real servers on loopback; the blocked vantage is a real
debug pod on the real test API server that no node ever runs (it stays Pending)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubectl_certdoctor.app import CertDoctorApp
from kubectl_certdoctor.cluster.connection import Connection
from kubectl_certdoctor.probes.base import Params, ProbeResult, Progress, Vantage, VantageDone
from kubectl_certdoctor.probes.registry import PROBES
from kubectl_certdoctor.probes.runner import run
from kubectl_certdoctor.source import LiveSource
from tests.support.apply import apply_objects
from tests.support.netservers import HttpBackend
from tests.support.tui import wait_until
from tests.support.tui_actions import finding_with, open_action, shown
from tests.test_tui_actions_live import (  # noqa: F401  (fixtures)
    Port80Server,
    admin_conn,
    challenge_objects,
    ingress80,
    probe_pods,
    screen_name,
    state_dir,
)

PATH = "/.well-known/acme-challenge/tok-stream"


def test_a_vantage_result_is_streamed_before_the_probe_ends() -> None:
    """The local GET is judged and streamed as a ``VantageDone`` (a ``Progress``: the CLI
    prints it as a line) before the combined result; a vantage that cannot run is
    reported with its reason in the result."""
    with HttpBackend("127.0.0.1", {PATH: (404, "not here")}, "nginx", delay=0.3) as srv:
        url = f"http://127.0.0.1:{srv.port}{PATH}"
        events = list(run(PROBES["http01"], Params(url=url, key="tok-stream.k", timeout=5),
                          vantages={Vantage.LOCAL: "", Vantage.POD: "read-only: no debug pods"},
                          timeout=20))
    done = [e for e in events if isinstance(e, VantageDone)]
    assert [d.vantage for d in done] == ["local"]
    assert done[0].result is not None and done[0].result.verdict.value == "fail"
    assert isinstance(done[0], Progress) and str(done[0]).startswith("[local] done: fail")
    end = events[-1]
    assert isinstance(end, ProbeResult) and events.index(done[0]) < len(events) - 1
    assert end.vantages["local"] is done[0].result
    assert end.vantages["pod"].skipped == "read-only: no debug pods"


@pytest.mark.integration
@pytest.mark.timeout(120)
async def test_screen_shows_the_first_vantage_while_the_pod_is_still_blocked(
        admin_api: Any, admin_conn: Connection, namespace: str, state_dir: Path,  # noqa: F811
        ingress80: Port80Server, job_controllers: Any) -> None:  # noqa: F811
    apply_objects(admin_api, challenge_objects(ingress80.ip), namespace)
    app = CertDoctorApp(LiveSource(admin_conn, namespace))
    async with app.run_test(size=(160, 44)) as pilot:
        await wait_until(pilot, lambda: app.analysis is not None and any(
            "http01" in x.probes for x in app.analysis.findings), 20)
        fd = finding_with(app, "probe", "http01")
        probe = await open_action(pilot, app, fd, "probe", "http01")
        await wait_until(pilot, lambda: screen_name(app) == "PodConfirmScreen", 20,
                         "the debug-pod confirmation")
        await pilot.click("#create")
        # the workstation's GET is judged and shown while the pod vantage still waits
        # for a node that never comes
        await wait_until(pilot, lambda: "FAIL" in shown(probe, "#vantage-local"), 30,
                         "the local verdict", show=lambda: shown(probe, "#vantage-local"))
        local = shown(probe, "#vantage-local")
        assert "404" in local, local
        assert probe.running and probe.result is None
        assert "local" in probe.vantage_results and "pod" not in probe.vantage_results
        pod = shown(probe, "#vantage-pod")
        assert "running" in pod and "FAIL" not in pod and "PASS" not in pod, pod
        assert "(1 of 2 vantages done)" in shown(probe, "#probe-status")
        # a vantage that cannot run says why
        assert "not available: cert-manager controller Deployment not found" in \
            shown(probe, "#vantage-cert-manager")
        # the pod's phase and reasons stream into its own column
        await wait_until(pilot, lambda: "created pod" in shown(probe, "#vantage-pod"), 30,
                         "the pod's progress", show=lambda: shown(probe, "#vantage-pod"))
        assert probe.running and "pod" not in probe.vantage_results
        assert probe_pods(admin_api, namespace)
        await pilot.press("escape")
        await wait_until(pilot, probe.finished.is_set, 40, "the cancelled run to clean up")
    assert probe_pods(admin_api, namespace) == []


class _SlowForTheHost:
    """An HTTP-01 answer that is slow only for requests from the host itself (source
    address: the bridge gateway) and immediate for the debug pod (its own pod IP)."""

    def __init__(self, host: str, delay: float) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        outer = self
        self.delay = delay
        self.release = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.client_address[0] == host:
                    outer.release.wait(outer.delay)
                body = b"tok-stream.k"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.integration
@pytest.mark.node
def test_the_pod_vantage_finishes_while_the_local_request_is_still_blocked(
        admin_api: Any, namespace: str, node: Any) -> None:
    """The workstation's GET and the debug pod run side by side: the pod's verdict is
    streamed while the local request is still held by the server, then the local one."""
    import time

    node.adopt(namespace)
    srv = _SlowForTheHost(node.gateway, delay=20.0)
    seen: dict[str, float] = {}
    try:
        url = f"http://{node.gateway}:{srv.port}{PATH}"
        t0 = time.monotonic()

        def on_event(ev: Progress) -> None:
            if isinstance(ev, VantageDone):
                seen[ev.vantage] = time.monotonic() - t0
                if ev.vantage == "pod":
                    srv.release.set()  # the local request may finish now, not before

        from kubectl_certdoctor.options import Options
        from kubectl_certdoctor.probes.plan import plan_vantages
        from kubectl_certdoctor.probes.runner import run_to_result

        plan, placements = plan_vantages(PROBES["http01"], [Vantage.LOCAL, Vantage.POD],
                                         opts=Options(), api_client=admin_api,
                                         pod_namespace=namespace, controller=None)
        res = run_to_result(PROBES["http01"], Params(url=url, key="tok-stream.k", timeout=30),
                            on_progress=on_event, vantages=plan, api_client=admin_api,
                            placements=placements, timeout=90, image=node.probe_image)
    finally:
        srv.close()
    assert res.vantages["pod"].verdict.value == "pass", res.vantages["pod"].summary
    assert res.vantages["local"].verdict.value == "pass", res.vantages["local"].summary
    # the pod finished first although the local request started first; the local one
    # was released only by the pod's result (it would otherwise have waited 20 s)
    assert list(seen) == ["pod", "local"], seen
    assert seen["local"] < 20, seen
