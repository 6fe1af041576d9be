"""Reliability (issue 9): a slow API server, a restricted user on every screen, and a
hundred probe runs cancelled at random moments.

Related reliability tests live next to what they exercise: API server killed and
restarted (test_store.py, test_tui_live.py), 410 Gone forced through etcd compaction
(test_store.py), hypothesis-generated bundles and objects (test_bundle.py,
test_redact.py, test_rules_fuzz.py, test_fixes_robust.py), Ctrl-C at any moment
(test_terminal_restore.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from kubernetes.client import CoreV1Api

from kubectl_certdoctor.app import CertDoctorApp
from kubectl_certdoctor.cluster.connection import connect
from kubectl_certdoctor.options import Options
from kubectl_certdoctor.probes.base import Params, Vantage, Verdict
from kubectl_certdoctor.source import LiveSource
from tests.support.host_kubelet import HostScriptKubelet
from tests.support.netservers import HttpBackend
from tests.test_probes_pod import KEY, PATH, probe_pods, run_probe
from tests.test_tui_live import chain_objects, header, rows

pytestmark = pytest.mark.integration
SIZE = (140, 36)


class SlowProxy:
    """A TCP proxy that makes the API server slow: every chunk waits ``delay`` seconds and
    throughput is capped at ``rate`` bytes/s per direction. TLS passes through untouched."""

    def __init__(self, upstream: tuple[str, int], delay: float, rate: int) -> None:
        self.upstream, self.delay, self.rate = upstream, delay, rate
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while not self._stop.is_set():
                data = src.recv(4096)
                if not data:
                    break
                time.sleep(self.delay + len(data) / self.rate)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


@pytest.fixture
def slow_kubeconfig(control_plane: Any, tmp_path: Any) -> Iterator[str]:
    proxy = SlowProxy(("127.0.0.1", control_plane.port), delay=0.15, rate=64 * 1024)
    kc = yaml.safe_load(control_plane.admin_kubeconfig.read_text())
    for c in kc["clusters"]:
        c["cluster"]["server"] = f"https://127.0.0.1:{proxy.port}"
    path = tmp_path / "slow.kubeconfig"
    path.write_text(yaml.safe_dump(kc))
    yield str(path)
    proxy.close()


async def test_slow_api_keeps_the_ui_responsive(admin_api: Any, namespace: str,
                                                slow_kubeconfig: str) -> None:
    from benchmarks.load import load
    from tests.support.apply import apply_objects

    apply_objects(admin_api, chain_objects(namespace), namespace)
    load(admin_api, namespace, 150)  # ~330 more objects: the LIST bodies take seconds here
    conn = connect(Options(kubeconfig=slow_kubeconfig, request_timeout=60))
    app = CertDoctorApp(LiveSource(conn, namespace))
    try:
        async with app.run_test(size=SIZE):
            lag = LoopLag()
            seen_syncing = False
            worst_key = 0.0
            deadline = time.monotonic() + 90
            with lag.running():
                while time.monotonic() < deadline:
                    seen_syncing = seen_syncing or "syncing" in header(app)
                    # a key press is answered while the data is still on its way: each one
                    # here opens or closes a whole screen (help), the heaviest thing a key does
                    worst_key = max(worst_key,
                                    await answer_time(app, "question_mark", "HelpScreen"),
                                    await answer_time(app, "escape", "TreeScreen"))
                    await asyncio.sleep(0.1)  # a person's pace, not a key-repeat storm
                    if len([r for r in rows(app) if "cert-0" in r or "Certificate" in r]) and \
                            "live" in header(app) and "syncing" not in header(app):
                        break
            assert seen_syncing, "the header never showed the sync in progress"
            assert "live" in header(app), header(app)
            assert worst_key < 1.0, f"a key press took {worst_key:.2f}s while syncing"
            assert lag.worst < 1.0, f"the UI loop stalled {lag.worst:.2f}s while syncing"
            the_tree = rows(app)
            assert any(namespace in r for r in the_tree)
    finally:
        conn.close()


async def answer_time(app: CertDoctorApp, key: str, screen: str) -> float:
    """Seconds from a key reaching the app (as the terminal driver sends it) until the
    screen it opens or uncovers is on top and laid out. Pilot.press is not used: it also
    waits until the whole process is idle (at most 1 s), which the watch threads, busy
    decoding the LISTs, never are while syncing — that measures them, not the UI."""
    from textual import events

    driver = app._driver
    assert driver is not None
    t0 = time.perf_counter()
    driver.send_message(events.Key(key, "?" if key == "question_mark" else None))
    while time.perf_counter() - t0 < 10:
        top = app.screen
        if type(top).__name__ == screen and top.is_mounted and top.size.height > 0 \
                and not top._layout_required:
            return time.perf_counter() - t0
        await asyncio.sleep(0.01)
    return time.perf_counter() - t0


class LoopLag:
    """The longest the UI's event loop went without running a 10 ms timer past its time:
    any synchronous work on the UI thread (a tree rebuild, an analysis applied) shows here."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, time.perf_counter() - t0 - 0.01)

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        self._task = asyncio.get_running_loop().create_task(self._run())
        try:
            yield
        finally:
            self._task.cancel()


async def test_restricted_user_on_every_screen(control_plane: Any, admin_api: Any,
                                               namespace: str) -> None:
    """Tree, filter, problems, namespace picker, every node's detail tabs, findings, help
    and the command line as a user who may not list orders, challenges or secrets."""
    from tests.support.apply import apply_objects

    apply_objects(admin_api, chain_objects(namespace), namespace)
    conn = connect(Options(kubeconfig=str(control_plane.restricted_kubeconfig),
                           request_timeout=5))
    app = CertDoctorApp(LiveSource(conn, namespace))
    try:
        async with app.run_test(size=SIZE) as pilot:
            end = time.monotonic() + 20
            while "forbidden" not in header(app) or not rows(app):
                assert time.monotonic() < end, header(app)
                await pilot.pause(0.05)
            assert "forbidden" in header(app)
            for keys in (["slash", "c", "e", "r", "t", "escape"], ["p"], ["p"], ["n", "escape"],
                         ["f", "escape"], ["question_mark", "escape"],
                         ["colon", "c", "e", "r", "t", "enter"], ["r"]):
                await pilot.press(*keys)
                await pilot.pause(0.05)
            tree = app.tree_screen.cert_tree
            for _ in range(len(rows(app))):
                await pilot.press("enter")
                await pilot.pause(0.05)
                if app.screen is not app.tree_screen:  # a detail screen: visit every tab
                    for tab in ("e", "y", "d"):
                        await pilot.press(tab)
                        await pilot.pause(0.02)
                    await pilot.press("escape")
                await pilot.press("j")
            assert tree is not None and app.is_running
            assert app.return_code in (None, 0)
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_hundred_probe_runs_with_random_cancellation_leak_no_pod(
        admin_api: Any, namespace: str, job_controllers: Any) -> None:
    rng = random.Random(9)
    ok = HttpBackend("127.0.0.9", {PATH: (200, KEY)}, "nginx")
    ok.start()
    hang = socket.socket()  # accepts and never answers: a run that only a cancel ends
    hang.bind(("127.0.0.9", 0))
    hang.listen(64)
    outcomes: dict[str, int] = {}
    try:
        with HostScriptKubelet(admin_api) as kubelet:
            for i in range(100):
                slow = rng.random() < 0.5
                url = (f"http://127.0.0.9:{hang.getsockname()[1]}{PATH}" if slow
                       else f"http://127.0.0.9:{ok.port}{PATH}")
                cancel = threading.Event()
                if rng.random() < 0.6:  # cancel at a random moment, maybe before the pod runs
                    threading.Timer(rng.uniform(0.0, 0.9), cancel.set).start()
                elif slow:
                    threading.Timer(1.2, cancel.set).start()
                res, _ = run_probe("http01", Params(url=url, key=KEY, timeout=30), admin_api,
                                   namespace, [Vantage.POD], cancel=cancel, timeout=30)
                outcomes[res.verdict.value] = outcomes.get(res.verdict.value, 0) + 1
                if i % 20 == 19:
                    assert probe_pods(admin_api, namespace) == [], f"leak after run {i}"
            assert kubelet.started  # pods really ran (and some were cancelled mid-run)
    finally:
        ok.stop()
        hang.close()
    assert probe_pods(admin_api, namespace) == []
    core: Any = CoreV1Api(admin_api)
    assert not core.list_namespaced_pod(namespace).items
    # both endings happened: finished runs and cancelled ones
    assert outcomes.get(Verdict.PASS.value, 0) > 5
    assert outcomes.get(Verdict.INCONCLUSIVE.value, 0) > 5
