"""The timeline through the real pods/log endpoint: kube-apiserver → kubelet → containerd.

A private control plane (its API server reaches the kubelet by the node's InternalIP with a
kubelet client certificate — the shared one is started without, and its kubelet serves on
127.0.0.1 only) and a real node whose kubelet serves on the bridge gateway. A Pod labelled
like cert-manager's controller (the Helm chart's labels, container
``cert-manager-controller``) in the ``cert-manager`` namespace runs the locally built probe
image and prints log lines in cert-manager v1.21.1's klog text format; the TUI on a live
source finds the Pod through its component-Pod watch, reads the log with one bounded GET
and shows the lines that mention the Certificate, redacted, merged with its Events.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import config
from kubernetes.client import CoreV1Api

from kubectl_certdoctor.app import CertDoctorApp
from kubectl_certdoctor.cluster.connection import connect
from kubectl_certdoctor.options import Options
from kubectl_certdoctor.source import LiveSource
from tests.support.cluster_access import create
from tests.support.controlplane import ControlPlane
from tests.support.diagnosis import certificate, issuer
from tests.support.node import Node
from tests.support.tui import is_screen, settle, wait_until
from tests.support.tui_actions import shown

pytestmark = [pytest.mark.integration, pytest.mark.node]

NS = "web"
#: what the fake controller prints: klog text lines as cert-manager v1.21.1 writes them
#: (keys from pkg/logs/logs.go; the trigger controller's ``key``), one about another
#: object, one with a credential to redact
LINES = [
    'I1123 06:52:00.000000       1 controller.go:120] "starting controller" '
    'logger="cert-manager.controller"',
    'I1123 06:55:00.000000       1 trigger_controller.go:191] "Certificate.Spec.SecretName '
    'refers to the same Secret as other Certificates in the same namespace, skipping '
    'trigger." logger="cert-manager.certificates-trigger" key="web/shop" '
    'duplicates=["web/shop-copy"]',
    'E1123 06:56:00.000000       1 requestmanager_controller.go:300] "failed to create '
    'CertificateRequest" err="admission webhook denied" logger="cert-manager.certificates-'
    'request-manager" resource_name="shop" resource_namespace="web" '
    'resource_kind="Certificate" resource_version="v1" password="hunter2-not-shown"',
    'I1123 06:57:00.000000       1 sync.go:80] "other object" '
    'logger="cert-manager.challenges" resource_name="blog-1-2-3" resource_namespace="web" '
    'resource_kind="Challenge" resource_version="v1"',
]


def _sh_quote(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


def controller_pod(image: str, node: str) -> dict[str, Any]:
    script = "".join(f"printf '%s\\n' {_sh_quote(ln)}; " for ln in LINES)
    script += "trap 'exit 0' TERM INT; sleep 2147483647 & wait"
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "cert-manager-5c6d7f-abcde", "namespace": "cert-manager",
                     "labels": {"app.kubernetes.io/name": "cert-manager",
                                "app.kubernetes.io/component": "controller",
                                "app.kubernetes.io/instance": "cert-manager"}},
        "spec": {"nodeName": node, "automountServiceAccountToken": False,
                 "terminationGracePeriodSeconds": 1,
                 "containers": [{"name": "cert-manager-controller", "image": image,
                                 "imagePullPolicy": "Never",
                                 "command": ["/bin/sh", "-c", script]}]}}


@pytest.fixture(scope="module")
def plane_and_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ControlPlane,
                                                                             Node, Any]]:
    import os

    if os.environ.get("CERTDOCTOR_SKIP_INTEGRATION") == "1":
        pytest.skip("CERTDOCTOR_SKIP_INTEGRATION=1")
    if os.geteuid() != 0:
        pytest.fail("the real test node needs root (containerd, the CNI bridge, cgroups)",
                    pytrace=False)
    workdir = Path(tmp_path_factory.mktemp("logs-plane"))
    pki = workdir / "pki"
    cp = ControlPlane(workdir, crds=True, controller_manager=False, die_with_parent=True,
                      apiserver_args=(
                          "--kubelet-preferred-address-types=InternalIP",
                          f"--kubelet-client-certificate={pki / 'admin.crt'}",
                          f"--kubelet-client-key={pki / 'admin.key'}"))
    cp.start()
    api = config.new_client_from_config(config_file=str(cp.admin_kubeconfig))
    node: Node | None = None
    try:
        node = Node(tmp_path_factory.mktemp("logs-node"), cp, api, serve_on_gateway=True)
        node.start()
        yield cp, node, api
    finally:
        if node is not None:
            node.stop()
        api.close()
        cp.stop()


def _namespace(api: Any, name: str) -> None:
    core: Any = CoreV1Api(api)
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    # no controller manager here: the ServiceAccount admission needs "default" to exist
    core.create_namespaced_service_account(name, {"metadata": {"name": "default"}})


def _wait_running(api: Any, ns: str, name: str, timeout: float = 60) -> None:
    core: Any = CoreV1Api(api)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pod = core.read_namespaced_pod(name, ns)
        if pod.status.phase == "Running":
            return
        time.sleep(0.2)
    raise AssertionError(f"{ns}/{name} not Running: {pod.status}")


async def test_timeline_reads_the_real_controller_log(
        plane_and_node: tuple[ControlPlane, Node, Any]) -> None:
    cp, node, api = plane_and_node
    _namespace(api, "cert-manager")
    _namespace(api, NS)
    conn = connect(Options(kubeconfig=str(cp.admin_kubeconfig), request_timeout=5))
    for obj in (issuer("selfsigned", NS), certificate("shop", NS, issuer="selfsigned",
                                                      ready="False",
                                                      message="Issuing certificate")):
        create(conn, {k: v for k, v in obj.items() if k != "status"}, NS)
    pod = controller_pod(node.probe_image, node.name)
    create(conn, pod, "cert-manager")
    _wait_running(api, "cert-manager", pod["metadata"]["name"])

    app = CertDoctorApp(LiveSource(conn, None))
    try:
        async with app.run_test(size=(180, 40)) as pilot:
            await settle(pilot, app)
            await wait_until(pilot, lambda: app.analysis is not None and any(
                p["metadata"]["name"] == pod["metadata"]["name"]
                for p in app.analysis.graph.objs.of_kind("Pod")), timeout=15,
                what="the controller pod in the store")
            await wait_until(pilot, lambda: app.tree_screen.cert_tree.reveal(
                f"Certificate/{NS}/shop"), timeout=10, what="the Certificate in the tree")
            await pilot.press("l")
            assert is_screen(app, "TimelineScreen")
            # the container's stdout reaches the kubelet's log file asynchronously
            deadline = time.monotonic() + 20
            while True:
                await wait_until(pilot, lambda: app.screen.fetch is not None, timeout=20,
                                 what="the log read")
                body = shown(app.screen, "#timeline")
                if "skipping trigger" in body or time.monotonic() > deadline:
                    break
                await pilot.pause(0.5)
                await pilot.press("r")
            status = shown(app.screen, "#timeline-status")
    finally:
        conn.close()
    assert "skipping trigger" in body, status
    assert "failed to create CertificateRequest" in body
    assert "hunter2-not-shown" not in body and "<redacted>" in body
    assert "other object" not in body and "starting controller" not in body
    assert f"2 of {len(LINES)} log lines from cert-manager/{pod['metadata']['name']}" in status
    assert "last 2000 lines" in status
