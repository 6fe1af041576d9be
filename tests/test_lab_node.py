"""``scripts/lab up`` brings up a real node and the real kube-scheduler; ``down`` leaves nothing.

Runs the real command as a developer would, with ``CERTDOCTOR_LAB_STATE`` pointing at a
temporary directory so it never collides with a developer's own ``.lab/`` (and with
``--no-wait``: the scenarios' settling is tests/test_lab.py's business). A pod created in
the lab's ``default`` namespace must be scheduled by kube-scheduler onto the node and run
there; afterwards no process of the lab, the control plane or the node may survive.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from kubernetes import config
from kubernetes.client import CoreV1Api

pytestmark = [pytest.mark.integration, pytest.mark.lab, pytest.mark.node]

REPO = Path(__file__).resolve().parents[1]
LAB = str(REPO / "scripts" / "lab")


def _lab(*args: str, state: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CERTDOCTOR_LAB_STATE": str(state)}
    return subprocess.run([LAB, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _running(pid: int, ticks: int | None) -> bool:
    """This exact process (PID and start time) is alive and not a zombie."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = raw[raw.rindex(")") + 2:].split()
    return fields[0] != "Z" and (ticks is None or int(fields[19]) == ticks)


def _pod(image: str) -> dict[str, Any]:
    """A restricted-profile pod that reports through its termination message."""
    return {
        "metadata": {"name": "lab-node-check"},
        "spec": {
            "restartPolicy": "Never", "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65534,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "check", "image": image, "imagePullPolicy": "Never",
                "command": ["sh", "-c", "echo ran-on-the-lab-node >/dev/termination-log"],
                "securityContext": {"allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]}}}]}}


def test_lab_up_schedules_pods_on_a_real_node_and_down_leaves_nothing(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    if os.geteuid() != 0:
        pytest.fail("the lab's node needs root (containerd, the CNI bridge, cgroups)",
                    pytrace=False)
    # a short path: the kubelet's unix sockets under it must fit in 108 bytes
    state = tmp_path_factory.mktemp("lab") / "s"
    up = _lab("up", "--no-wait", state=state)
    cp_procs: list[dict[str, Any]] = []
    node_state: dict[str, Any] = {}
    try:
        assert up.returncode == 0, up.stderr[-4000:]
        kubeconfig = up.stdout.strip().splitlines()[-1].removeprefix("export KUBECONFIG=")
        cp_procs = json.loads((state / "controlplane.json").read_text())["procs"]
        node_state = json.loads((state / "node.json").read_text())
        assert {"kube-scheduler", "kube-controller-manager-jobs"} <= {p["name"] for p in
                                                                      cp_procs}
        api = config.new_client_from_config(config_file=kubeconfig)
        core: Any = CoreV1Api(api)
        try:
            node = core.read_node(node_state["name"])
            assert any(c.type == "Ready" and c.status == "True"
                       for c in node.status.conditions or [])
            tag = (Path(node_state["bindir"]) / "image-tag").read_text().strip()
            core.create_namespaced_pod("default", _pod(f"certdoctor.test/probe:{tag}"))
            deadline = time.monotonic() + 60
            pod = core.read_namespaced_pod("lab-node-check", "default")
            while time.monotonic() < deadline and pod.status.phase not in ("Succeeded",
                                                                             "Failed"):
                time.sleep(0.5)
                pod = core.read_namespaced_pod("lab-node-check", "default")
            assert pod.status.phase == "Succeeded", pod.status
            assert pod.spec.node_name == node_state["name"]  # placed by kube-scheduler
            (cs,) = pod.status.container_statuses
            assert cs.state.terminated.message.strip() == "ran-on-the-lab-node"
            # the HTTP-01 scenario's namespace is not the node's: its solver pod stays put
            (said,) = [ln for ln in up.stderr.splitlines() if "are scheduled on it" in ln]
            assert "default" in said and "lab-http01" not in said, said
        finally:
            api.close()
        status = _lab("status", state=state, timeout=120)
        assert status.returncode == 0, status.stderr
        for line in ("kube-scheduler", "node kubelet", "node containerd"):
            (row,) = [r for r in status.stdout.splitlines() if r.startswith(line)]
            assert row.endswith("running"), row
        assert f"node {node_state['name']}" in status.stdout and " Ready " in status.stdout
    finally:
        down = _lab("down", state=state)
    assert down.returncode == 0, down.stderr[-4000:]
    assert "no lab process left" in down.stderr
    left = [f"{p['name']}:{p['pid']}" for p in cp_procs if _running(p["pid"], p["start_ticks"])]
    left += [f"{n}:{pid}" for n, (pid, ticks) in node_state.get("procs", {}).items()
             if _running(pid, ticks)]
    assert not left, f"still running after scripts/lab down: {left}"
    assert not state.exists()
    if node_state:
        gone = subprocess.run(["ip", "link", "show", node_state["bridge"]],
                              capture_output=True, check=False)
        assert gone.returncode != 0, f"bridge {node_state['bridge']} left behind"
