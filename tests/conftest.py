"""Shared fixtures: the real test control plane, API clients, a fresh namespace per test.

Integration tests must really run: when the control-plane binaries cannot be built or
the control plane does not start, ``control_plane`` FAILS (it never skips), unless
``CERTDOCTOR_SKIP_INTEGRATION=1`` asks for a unit-only run. A plugin hook records
per-marker outcomes in ``markers.json`` next to the ``--junitxml`` file
(``test-results/`` for scripts/test) so ``.ci/run`` can fail a run whose integration
tests were skipped.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
MARKERS_FILE = REPO / "test-results" / "markers.json"
COUNTED_MARKERS = ("integration", "lab", "node")


# ------------------------------------------------------------------ control plane


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """etcd + kube-apiserver + kube-controller-manager for the whole session."""
    if os.environ.get("CERTDOCTOR_SKIP_INTEGRATION") == "1":
        pytest.skip("CERTDOCTOR_SKIP_INTEGRATION=1")
    from tests.support.controlplane import ControlPlane, ControlPlaneError, locate_testbin

    try:
        bindir = locate_testbin()
        cp = ControlPlane(tmp_path_factory.mktemp("controlplane"), bindir=bindir,
                          die_with_parent=True)
        cp.start()
    except (ControlPlaneError, OSError, subprocess.SubprocessError) as e:
        pytest.fail(f"the test control plane did not start: {e}", pytrace=False)
    try:
        yield cp
        _await_deleted_namespaces(cp)
    finally:
        pids = cp.pids
        cp.stop()
        left = [p for p in pids if Path(f"/proc/{p}").exists() and not _is_zombie(p)]
        assert not left, f"control-plane processes survived stop(): {left}"


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True


@pytest.fixture(scope="session")
def job_controllers(control_plane: Any) -> Any:
    """The Job and TTL-after-finished controllers, for the tests whose debug pods run
    (debug pods are Jobs). A second controller manager, started on first use and stopped
    with the control plane; the shared one runs no workload controller."""
    from tests.support.controlplane import ControlPlaneError

    try:
        control_plane.start_job_controllers()
    except (ControlPlaneError, OSError, subprocess.SubprocessError) as e:
        pytest.fail(f"the Job controllers did not start: {e}", pytrace=False)
    return control_plane


@pytest.fixture(scope="module")
def node(control_plane: Any, admin_api: Any, job_controllers: Any,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real node (containerd + CNI bridge + kubelet, tests/support/node.py) registered to
    the test control plane, and the real kube-scheduler, for one test module. Like
    ``control_plane`` it FAILS, never skips, when it cannot start. Module-scoped: other
    modules never see its Node object or a scheduler, and the node is tainted so only
    namespaces a test hands to ``node.adopt()`` get their pods scheduled on it."""
    if os.environ.get("CERTDOCTOR_SKIP_INTEGRATION") == "1":
        pytest.skip("CERTDOCTOR_SKIP_INTEGRATION=1")
    from tests.support.node import Node, NodeError

    if os.geteuid() != 0:
        pytest.fail("the real test node needs root (containerd, the CNI bridge, cgroups)",
                    pytrace=False)
    from tests.support.controlplane import ControlPlaneError

    try:
        n = Node(tmp_path_factory.mktemp("node"), control_plane, admin_api)
        n.start()
    except (NodeError, OSError, subprocess.SubprocessError) as e:
        pytest.fail(f"the test node did not start: {e}", pytrace=False)
    try:
        control_plane.start_scheduler()
        n.wait_schedulable()
    except (ControlPlaneError, NodeError, OSError, subprocess.SubprocessError) as e:
        n.stop()
        pytest.fail(f"kube-scheduler did not start: {e}", pytrace=False)
    try:
        yield n
    finally:
        control_plane.stop_scheduler()
        pids = n.pids
        n.stop()
        _NODE_TIMINGS.append(f"{n.name}: started in {n.startup_seconds:.1f}s {n.timings}")
        left = [p for p in pids if Path(f"/proc/{p}").exists() and not _is_zombie(p)]
        assert not left, f"node processes survived stop(): {left}"


#: start-up/stop timings of every test node, printed in the terminal summary
_NODE_TIMINGS: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in _NODE_TIMINGS:
        terminalreporter.write_line(f"test node {line}")


@pytest.fixture(scope="session")
def admin_api(control_plane: Any) -> Iterator[Any]:
    """kubernetes.client.ApiClient for certdoctor-admin (system:masters)."""
    from kubernetes import config

    api = config.new_client_from_config(config_file=str(control_plane.admin_kubeconfig))
    yield api
    api.close()


@pytest.fixture(scope="session")
def restricted_api(control_plane: Any) -> Iterator[Any]:
    """kubernetes.client.ApiClient for certdoctor-viewer (read-only, no orders/challenges)."""
    from kubernetes import config

    api = config.new_client_from_config(config_file=str(control_plane.restricted_kubeconfig))
    yield api
    api.close()


#: namespaces deleted by the ``namespace`` fixture, awaited at session end
_DELETED_NAMESPACES: list[str] = []


@pytest.fixture
def namespace(control_plane: Any, admin_api: Any, request: pytest.FixtureRequest
              ) -> Iterator[str]:
    """A fresh namespace (with its default ServiceAccount), deleted after the test.

    Teardown releases what nobody here would release (finalizers of absent controllers,
    pods waiting for a kubelet), deletes the labelled cluster-scoped objects of the
    scenario (tests/support/apply.py) and the namespace. The namespace controller waits
    a fixed 5 s before it empties a namespace, so instead of 5 s per test every deleted
    namespace is awaited once, at session end, and a namespace that does not go away
    fails the teardown of ``control_plane``.
    """
    from kubernetes.client import CoreV1Api
    from kubernetes.client.exceptions import ApiException

    from tests.support.apply import cleanup_cluster_scoped

    core: Any = CoreV1Api(admin_api)
    stem = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    name = f"t-{stem}-{secrets.token_hex(3)}"
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace",
                           "metadata": {"name": name}})
    _wait_for(lambda: _exists(lambda: core.read_namespaced_service_account("default", name)),
              30, f"ServiceAccount {name}/default (is the controller manager running?)")
    yield name
    cleanup_cluster_scoped(admin_api, name)
    _release(admin_api, name)
    try:
        core.delete_namespace(name)
    except ApiException as e:
        if e.status != 404:
            raise
    _DELETED_NAMESPACES.append(name)


def _exists(get: Any) -> bool:
    from kubernetes.client.exceptions import ApiException

    try:
        get()
    except ApiException as e:
        if e.status == 404:
            return False
        raise
    return True


def _wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.05
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


#: namespaced resources that may hold finalizers nobody runs here (no cert-manager, no kubelet)
_FINALIZABLE = [
    "/apis/cert-manager.io/v1/namespaces/{ns}/issuers",
    "/apis/cert-manager.io/v1/namespaces/{ns}/certificates",
    "/apis/cert-manager.io/v1/namespaces/{ns}/certificaterequests",
    "/apis/acme.cert-manager.io/v1/namespaces/{ns}/orders",
    "/apis/acme.cert-manager.io/v1/namespaces/{ns}/challenges",
    "/api/v1/namespaces/{ns}/services",
    "/api/v1/namespaces/{ns}/secrets",
    "/api/v1/namespaces/{ns}/configmaps",
    "/apis/apps/v1/namespaces/{ns}/deployments",
    "/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses",
]


def _await_deleted_namespaces(cp: Any, timeout: float = 60) -> None:
    """Every namespace the ``namespace`` fixture deleted must really be gone."""
    deadline = time.monotonic() + timeout
    for name in _DELETED_NAMESPACES:
        while True:
            status, doc = cp.request("GET", f"/api/v1/namespaces/{name}")
            if status == 404:
                break
            if time.monotonic() > deadline:
                conds = [f"{c.get('type')}: {c.get('message')}"
                         for c in (doc or {}).get("status", {}).get("conditions") or []]
                raise AssertionError(
                    f"namespace {name} still terminating after {timeout:.0f}s: "
                    + "; ".join(conds))
            time.sleep(0.2)


def _release(api: Any, ns: str) -> None:
    """Force-delete pods and clear finalizers: no kubelet or cert-manager runs here."""
    from kubernetes.client import CoreV1Api
    from kubernetes.client.exceptions import ApiException

    from tests.support.apply import _call as call

    core: Any = CoreV1Api(api)
    for pod in core.list_namespaced_pod(ns).items:
        try:
            core.delete_namespaced_pod(pod.metadata.name, ns, grace_period_seconds=0)
        except ApiException as e:
            if e.status != 404:
                raise
    for tmpl in _FINALIZABLE:
        path = tmpl.format(ns=ns)
        try:
            items = call(api, "GET", path).get("items") or []
        except ApiException:
            continue
        for item in items:
            if item["metadata"].get("finalizers"):
                try:
                    call(api, "PATCH", f"{path}/{item['metadata']['name']}",
                         {"metadata": {"finalizers": None}},
                         content_type="application/merge-patch+json")
                except ApiException as e:
                    if e.status != 404:
                        raise


# ------------------------------------------------------------------ marker counts


class _MarkerCounter:
    """One outcome per test (failed > skipped > passed over its phases), by marker."""

    def __init__(self) -> None:
        self.phases: dict[str, tuple[set[str], set[str]]] = {}
        #: modules skipped while collecting (importorskip, module-level skip): their
        #: tests never report, so a module that uses the marker counts as one skip
        self.skipped_modules: dict[str, set[str]] = {}

    def record_collect(self, report: pytest.CollectReport) -> None:
        if not report.skipped or not report.nodeid.endswith(".py"):
            return
        try:
            source = (REPO / report.nodeid).read_text()
        except OSError:
            return
        self.skipped_modules[report.nodeid] = {
            m for m in COUNTED_MARKERS if f"mark.{m}" in source}

    def record(self, report: pytest.TestReport) -> None:
        marks = {m for m in COUNTED_MARKERS if m in report.keywords}
        seen, _ = self.phases.setdefault(report.nodeid, (set(), marks))
        seen.add(f"{report.when}:{report.outcome}")

    @staticmethod
    def outcome(seen: set[str]) -> str:
        if any(s.endswith(":failed") for s in seen):
            return "failed"
        if any(s.endswith(":skipped") for s in seen):
            return "skipped"
        return "passed" if "call:passed" in seen else "failed"

    def summary(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {
            m: {"passed": 0, "failed": 0, "skipped": 0} for m in (*COUNTED_MARKERS, "all")}
        for seen, marks in self.phases.values():
            result = self.outcome(seen)
            for m in (*marks, "all"):
                out[m][result] += 1
        for marks in self.skipped_modules.values():
            for m in (*marks, "all"):
                out[m]["skipped"] += 1
        return out


_COUNTER = _MarkerCounter()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _COUNTER.record(report)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    _COUNTER.record_collect(report)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write ``markers.json`` next to the JUnit XML (only runs with ``--junitxml``, as
    scripts/test does, so ad-hoc runs in the same tree never overwrite it)."""
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller writes
        return
    junit = session.config.getoption("xmlpath", None)
    if not junit:
        return
    path = Path(str(junit)).resolve().parent / MARKERS_FILE.name
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"exitstatus": int(exitstatus), "markers": _COUNTER.summary(),
           "skipped_modules": sorted(_COUNTER.skipped_modules)}
    path.write_text(json.dumps(doc, indent=2) + "\n")
