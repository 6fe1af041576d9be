"""A kubelet STAND-IN that runs a pod's script on this host: only for tests that cannot
use the real node (tests/support/node.py).

It plays the kubelet for probe pods through the real API: the tests that use it need
what a real node cannot give cheaply — hundreds of pods started and cancelled in
seconds (tests/test_reliability.py), the CLI's own process watching a pod
(tests/test_probes_cli.py), or a pod status a real kubelet would never write. Every
probe's real-pod behaviour is tested on the real node in tests/test_probes_pod.py.

What it does:

* watches pods labelled ``app.kubernetes.io/managed-by=kubectl-certdoctor``;
* binds a new pod to a (fake) node with ``POST pods/{name}/binding``;
* runs the container's command on this machine with the pod's env, as its
  ``runAsUser`` (when the tests run as root), the file
  at ``terminationMessagePath`` mapped to a temporary file (a real kubelet
  mounts a host file there), optionally in a fresh network namespace;
* writes ``status`` (phase, conditions, containerStatuses with
  ``state.terminated.{exitCode,message}``, message capped at 4096 bytes)
  through the status subresource;
* when a pod is deleted, kills its process and confirms the deletion.

The project's code is never patched: it sees a pod that runs and terminates.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kubernetes.client import CoreV1Api
from kubernetes.client.exceptions import ApiException
from kubernetes.watch.watch import iter_resp_lines

SELECTOR = "app.kubernetes.io/managed-by=kubectl-certdoctor"
MAX_MESSAGE = 4096


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class HostScriptKubelet:
    """Plays the kubelet for probe pods on this host (a stand-in). A context manager."""

    api_client: Any
    node: str = "certdoctor-test-node"
    #: run each pod in its own network namespace (only loopback, down): "inside the cluster"
    netns: bool = False
    #: pretend the image cannot be pulled (air-gapped registry)
    image_error: bool = False
    #: every pod seen, as the API server returned it when first seen
    pods: list[dict[str, Any]] = field(default_factory=list)
    #: ns/name of pods whose process we started, and of those killed on deletion
    started: list[str] = field(default_factory=list)
    killed: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.core: Any = CoreV1Api(self.api_client)
        self._stop = threading.Event()
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._handled: set[str] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="host-script-kubelet", daemon=True)
        self.pod_seen = threading.Event()
        self.pod_started = threading.Event()

    def __enter__(self) -> HostScriptKubelet:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with self._lock:
            for p in self._procs.values():
                with contextlib.suppress(OSError):
                    p.kill()
        self._thread.join(timeout=10)

    # --- the watch loop ---------------------------------------------------

    def _loop(self) -> None:
        rv = ""
        while not self._stop.is_set():
            try:
                if not rv:
                    data = json.loads(self.core.list_pod_for_all_namespaces(
                        label_selector=SELECTOR, _preload_content=False).data)
                    rv = data["metadata"]["resourceVersion"]
                    for pod in data.get("items", []):
                        self._on_event("ADDED", pod)
                resp = self.core.list_pod_for_all_namespaces(
                    label_selector=SELECTOR, watch=True, resource_version=rv, timeout_seconds=1,
                    _preload_content=False, _request_timeout=10)
                try:
                    for line in iter_resp_lines(resp):
                        ev = json.loads(line)
                        if ev.get("type") == "ERROR":
                            rv = ""
                            break
                        rv = ev["object"]["metadata"]["resourceVersion"]
                        self._on_event(ev["type"], ev["object"])
                finally:
                    resp.close()
            except Exception:
                if self._stop.is_set():
                    return
                rv = ""
                time.sleep(0.1)

    def _on_event(self, kind: str, pod: dict[str, Any]) -> None:
        md = pod["metadata"]
        key = f"{md['namespace']}/{md['name']}"
        if kind == "DELETED":
            self._kill(key)
            return
        if md.get("deletionTimestamp"):
            self._kill(key)
            with contextlib.suppress(ApiException):
                self.core.delete_namespaced_pod(md["name"], md["namespace"],
                                                grace_period_seconds=0)
            return
        if key in self._handled or pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            return
        self._handled.add(key)
        self.pods.append(pod)
        self.pod_seen.set()
        threading.Thread(target=self._run_pod, args=(pod,), daemon=True).start()

    def _kill(self, key: str) -> None:
        with self._lock:
            p = self._procs.pop(key, None)
        if p is not None and p.poll() is None:
            p.kill()
            self.killed.append(key)

    # --- one pod ---------------------------------------------------------

    def _status(self, pod: dict[str, Any], status: dict[str, Any]) -> None:
        md = pod["metadata"]
        with contextlib.suppress(ApiException):
            self.core.patch_namespaced_pod_status(md["name"], md["namespace"],
                                                  {"status": status}, _preload_content=False)

    def _container_status(self, ctr: dict[str, Any], state: dict[str, Any],
                          ready: bool = False) -> dict[str, Any]:
        return {"name": ctr["name"], "image": ctr["image"],
                "imageID": f"docker.io/{ctr['image']}@sha256:{'0' * 64}",
                "ready": ready, "restartCount": 0, "started": ready, "state": state}

    def _run_pod(self, pod: dict[str, Any]) -> None:
        md, spec = pod["metadata"], pod["spec"]
        ns, name = md["namespace"], md["name"]
        key = f"{ns}/{name}"
        try:
            self.core.create_namespaced_pod_binding(
                name, ns, {"apiVersion": "v1", "kind": "Binding",
                           "metadata": {"name": name},
                           "target": {"apiVersion": "v1", "kind": "Node", "name": self.node}},
                _preload_content=False)
        except ApiException:
            return
        ctr = spec["containers"][0]
        if self.image_error:
            self._status(pod, {"phase": "Pending", "containerStatuses": [self._container_status(
                ctr, {"waiting": {"reason": "ErrImagePull",
                                  "message": f"failed to pull image {ctr['image']!r}: "
                                             "dial tcp: i/o timeout"}})]})
            return
        tm_path = ctr.get("terminationMessagePath", "/dev/termination-log")
        fd, tm_file = tempfile.mkstemp(prefix="termination-log-")
        os.close(fd)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp"}
        for e in ctr.get("env", []):
            if "value" in e:
                env[e["name"]] = tm_file if e["value"] == tm_path else e["value"]
        cmd = list(ctr.get("command", [])) + list(ctr.get("args", []))
        # run as the pod's runAsUser, as the container runtime would (needs root here)
        sc = {**spec.get("securityContext", {}), **ctr.get("securityContext", {})}
        uid, gid = sc.get("runAsUser"), sc.get("runAsGroup", sc.get("runAsUser"))
        if uid is not None and os.geteuid() == 0:
            os.chmod(tm_file, 0o666)
            cmd = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *cmd]
        if self.netns:
            cmd = ["unshare", "-n", *cmd]
        start = _now()
        self._status(pod, {
            "phase": "Running", "startTime": start,
            "conditions": [{"type": "PodScheduled", "status": "True"},
                           {"type": "Ready", "status": "True"}],
            "containerStatuses": [self._container_status(
                ctr, {"running": {"startedAt": start}}, ready=True)]})
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        with self._lock:
            self._procs[key] = proc
        self.started.append(key)
        self.pod_started.set()
        deadline = int(spec.get("activeDeadlineSeconds") or 600)
        try:
            code = proc.wait(timeout=deadline)
            reason = "Completed" if code == 0 else "Error"
        except subprocess.TimeoutExpired:
            proc.kill()
            code, reason = 137, "DeadlineExceeded"
        with self._lock:
            gone = self._procs.pop(key, None) is None
        if gone or code < 0:
            os.unlink(tm_file)
            return  # killed because the pod was deleted: nothing to report
        with open(tm_file, "rb") as f:
            message = f.read()[:MAX_MESSAGE].decode("utf-8", "replace")
        os.unlink(tm_file)
        self._status(pod, {
            "phase": "Succeeded" if code == 0 else "Failed",
            "conditions": [{"type": "PodScheduled", "status": "True"},
                           {"type": "Ready", "status": "False"}],
            "containerStatuses": [self._container_status(ctr, {"terminated": {
                "exitCode": code, "reason": reason, "message": message,
                "startedAt": start, "finishedAt": _now()}})]})
        self.finished.append(key)

