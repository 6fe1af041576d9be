"""A real node for the tests: containerd + runc + a CNI bridge + the kubelet, on this machine.

``scripts/nodebin`` builds the kubelet (the control plane's Kubernetes version, same Go
module), installs Debian's containerd/runc/CNI plugins and builds two local images (a
pause image and the probe image: busybox + curl + dig). :class:`Node` runs them for one
test control plane:

* **containerd** with its own root, state, socket and config. ``restrict_oom_score_adj``
  is required on this machine kind: without it every sandbox fails with runc's "can't get
  final child's PID from pipe: EOF" (the VM refuses to lower ``oom_score_adj``).
  ``SystemdCgroup = false``, CNI plugins from Debian's ``/usr/lib/cni``, the sandbox image
  is the local pause image; nothing is ever pulled.
* **a CNI bridge** of its own (``cdn<hex>``, a random free ``10.x.y.0/24``), created before
  containerd starts so its gateway address exists from the start: test servers bind to
  :attr:`Node.gateway`, which pods reach through the bridge. No masquerading, no port
  maps: traffic stays on this machine.
* **the kubelet** (``cgroupDriver: cgroupfs``, ``failCgroupV1: false``, ``failSwapOn:
  false``, serving on 127.0.0.1 only), registered as ``system:node:<name>`` (the API
  server's Node authorizer), its node IP the bridge gateway, pods under a cgroup root of
  its own (``/certdoctor-<hex>``) so two test nodes never garbage-collect each other's pods.

Pods are placed by the real kube-scheduler (``ControlPlane.start_scheduler``, started by
the ``node`` fixture and ``scripts/lab up``); the tool never binds its own pods. The node
registers with the taint ``certdoctor.test/node=<name>:NoSchedule``, and only namespaces a
test hands it (:meth:`Node.adopt`) tolerate it: the namespace gets the
``scheduler.alpha.kubernetes.io/defaultTolerations`` annotation, which the API server's
``PodTolerationRestriction`` admission plugin adds to every pod created there. Why not
let every pod land: the session's other pods (the lab's HTTP-01 solver pod, whose image
cannot be pulled here; the tests that want a pod never scheduled) must stay Pending, and
they do so for the scheduler's own reason ("untolerated taint"), not a stand-in's. The
toleration is appended after the pod's own, and tolerating a taint attracts nothing.

``stop()`` ends everything by PID (kubelet, the containers' processes, the shims,
containerd), unmounts network namespaces, deletes the bridge, the cgroups and the Node
object, and leaves the logs in the work directory.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.support.controlplane import REPO, ControlPlane, _pdeathsig, free_port
from tests.support.procs import Supervisor

SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CNI_BIN_DIR = "/usr/lib/cni"
CGROUP_FS = Path("/sys/fs/cgroup")
#: the test node's taint; only adopted namespaces tolerate it (see the module docstring)
TAINT_KEY = "certdoctor.test/node"
DEFAULT_TOLERATIONS = "scheduler.alpha.kubernetes.io/defaultTolerations"
#: containerd pulls through this closed loopback port (Go skips it for loopback
#: registries): an image missing on the node fails here instead of leaving the machine
NO_PULL_PROXY = "http://127.0.0.1:9"


class NodeError(RuntimeError):
    """The node did not start; the message carries the tail of the relevant log."""


def locate_nodebin() -> Path:
    """Run ``scripts/nodebin`` (builds/installs on first use, cached after): its bin dir."""
    proc = subprocess.run([str(REPO / "scripts" / "nodebin")], capture_output=True, text=True,
                          timeout=3600, check=False)
    if proc.returncode != 0:
        raise NodeError(f"scripts/nodebin failed (exit {proc.returncode}):\n"
                        f"{proc.stderr[-3000:]}")
    lines = proc.stdout.strip().splitlines()
    if not lines:
        raise NodeError("scripts/nodebin printed no directory")
    return Path(lines[-1])


def _used_networks() -> list[ipaddress.IPv4Network]:
    out = subprocess.run(["ip", "-j", "-4", "route", "show", "table", "all"],
                         capture_output=True, text=True, check=False, env={"PATH": SBIN_PATH})
    nets = []
    for r in json.loads(out.stdout or "[]"):
        dst = r.get("dst", "")
        if dst and dst != "default":
            with contextlib.suppress(ValueError):
                nets.append(ipaddress.ip_network(dst, strict=False))
    return [n for n in nets if isinstance(n, ipaddress.IPv4Network)]


def pick_subnet() -> ipaddress.IPv4Network:
    """A /24 in 10.200.0.0–10.250.255.0 that no route on this machine overlaps."""
    used = _used_networks()
    rng = random.SystemRandom()
    for _ in range(200):
        net = ipaddress.IPv4Network(f"10.{rng.randint(200, 250)}.{rng.randint(0, 255)}.0/24")
        if not any(net.overlaps(u) for u in used if u.prefixlen > 0):
            return net
    raise NodeError("no free 10.x.y.0/24 for the test node's bridge")


class Node(Supervisor):
    """One kubelet + containerd + CNI bridge registered to ``cp``; ``start()`` / ``stop()``."""

    error = NodeError

    def __init__(self, workdir: Path, cp: ControlPlane, api_client: Any, *,
                 bindir: Path | None = None, die_with_parent: bool = True,
                 serve_on_gateway: bool = False) -> None:
        self.dir = Path(workdir)
        #: the kubelet serves on the bridge gateway (the node IP) instead of 127.0.0.1, so
        #: an API server started with ``--kubelet-preferred-address-types=InternalIP`` and a
        #: kubelet client certificate reaches it for pods/log (still only this machine)
        self.serve_on_gateway = serve_on_gateway
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cp = cp
        self.api_client = api_client
        self.bindir = bindir or locate_nodebin()
        self.die_with_parent = die_with_parent
        tag = (self.bindir / "image-tag").read_text().strip()
        self.images_tar = self.bindir / f"images-{tag}.tar"
        self.pause_image = f"certdoctor.test/pause:{tag}"
        self.probe_image = f"certdoctor.test/probe:{tag}"
        hexid = secrets.token_hex(3)
        self.name = f"certdoctor-node-{hexid}"
        self.bridge = f"cdn{hexid}"
        self.cgroup_root = f"certdoctor-{hexid}"
        self.subnet = pick_subnet()
        self.gateway = str(self.subnet.network_address + 1)
        self.sock = self.dir / "containerd" / "containerd.sock"
        self.kubelet_port, self.healthz_port = free_port(), free_port()
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._pids: set[int] = set()
        #: (pid, start ticks) by name for a node started by another process (:meth:`attach`)
        self._detached: dict[str, tuple[int, int]] = {}
        self._adopted: set[str] = set()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._seen: set[str] = set()
        self._watching = threading.Event()
        #: every pod of an adopted namespace, as the API server returned it before the
        #: scheduler bound it (what admission accepted, without ``nodeName``)
        self.pods: list[dict[str, Any]] = []
        self.startup_seconds: float | None = None
        self.timings: dict[str, float] = {}

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Node:
        began = time.monotonic()
        try:
            self._step("bridge", self._make_bridge)
            self._step("cgroups", self._make_cgroup_root)
            self._step("containerd", self._start_containerd)
            self._step("images", self._import_images)
            self._step("kubelet", self._start_kubelet)
            self._step("node ready", self._wait_ready)
            self._watcher = threading.Thread(target=self._watch_loop, name="node-pods",
                                             daemon=True)
            self._watcher.start()
            self._watching.wait(10)  # listed: no pod of an adopted namespace goes unseen
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _step(self, what: str, fn: Callable[[], None]) -> None:
        t0 = time.monotonic()
        fn()
        self.timings[what] = round(time.monotonic() - t0, 2)

    def stop(self) -> None:
        """Stop everything this node started, by PID, and undo its host changes."""
        began = time.monotonic()
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
        self._terminate("kubelet")
        if "containerd" in self._procs or "containerd" in self._detached:
            self._remove_containers()
        self._kill_pod_processes()
        self._terminate("containerd")
        self._kill_shims()
        self._unmount_under(self.dir)
        with contextlib.suppress(Exception):
            self.cp.request("DELETE", f"/api/v1/nodes/{self.name}")
        self._run(["ip", "link", "delete", self.bridge], check=False)
        self._remove_cgroup_root()
        self._remove_log_links()
        for sub in ("containerd", "kubelet"):
            shutil.rmtree(self.dir / sub, ignore_errors=True)
        self.timings["stop"] = round(time.monotonic() - began, 2)

    def __enter__(self) -> Node:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pids(self) -> set[int]:
        return set(self._pids)

    # ------------------------------------------------------------------ detached (scripts/lab)

    def save(self, path: Path) -> None:
        """What :meth:`attach` needs to stop this node from another process: ``scripts/lab
        up`` returns while the node runs on, ``scripts/lab down`` stops it."""
        procs = {n: [p.pid, _start_ticks(p.pid)] for n, p in self._procs.items()}
        path.write_text(json.dumps({
            "dir": str(self.dir), "name": self.name, "bridge": self.bridge,
            "cgroup_root": self.cgroup_root, "subnet": str(self.subnet),
            "bindir": str(self.bindir), "procs": procs}, indent=2))

    @classmethod
    def attach(cls, path: Path) -> Node:
        """A handle on a node another process started and :meth:`save`-d: enough for
        :meth:`status` and :meth:`stop` (the Node object is left to its control plane)."""
        raw = json.loads(path.read_text())
        node = cls.__new__(cls)  # no start-up state to make: nothing here starts anything
        node.dir, node.name, node.bridge = Path(raw["dir"]), raw["name"], raw["bridge"]
        node.cgroup_root, node.bindir = raw["cgroup_root"], Path(raw["bindir"])
        node.subnet = ipaddress.IPv4Network(raw["subnet"])
        node.gateway = str(node.subnet.network_address + 1)
        node.sock = node.dir / "containerd" / "containerd.sock"
        node._procs, node._pids, node._adopted, node.timings = {}, set(), set(), {}
        node._detached = {n: (int(pid), int(ticks)) for n, (pid, ticks) in raw["procs"].items()
                          if ticks is not None}
        node._stop, node._watcher = threading.Event(), None
        return node

    @property
    def detached_pids(self) -> dict[str, int]:
        """Process name → PID of an attached node's processes."""
        return {n: pid for n, (pid, _) in self._detached.items()}

    def status(self) -> dict[str, bool]:
        """Process name → running, for this process's node or an attached one."""
        out = {n: p.poll() is None for n, p in self._procs.items()}
        out.update({n: _start_ticks(pid) == ticks for n, (pid, ticks) in self._detached.items()})
        return out

    # ------------------------------------------------------------------ scheduling

    @property
    def toleration(self) -> dict[str, str]:
        """What a pod needs to be scheduled here."""
        return {"key": TAINT_KEY, "operator": "Equal", "value": self.name,
                "effect": "NoSchedule"}

    def wait_schedulable(self, timeout: float = 30) -> None:
        """Until the node carries no NoSchedule taint but its own: the node lifecycle
        controller (``ControlPlane.start_job_controllers``) lifts ``not-ready`` once the
        kubelet reports Ready."""
        def clear() -> bool:
            _, node = self.cp.request("GET", f"/api/v1/nodes/{self.name}")
            taints = ((node or {}).get("spec") or {}).get("taints") or []
            return all(t.get("key") == TAINT_KEY for t in taints
                       if t.get("effect") == "NoSchedule")

        self._wait("kubelet", clear, timeout, what=f"node {self.name} to lose not-ready")

    def adopt(self, namespace: str) -> None:
        """Let the pods created in ``namespace`` from now on onto this node: the namespace's
        default tolerations (PodTolerationRestriction) tolerate the node's taint."""
        status, out = self.cp.request(
            "PATCH", f"/api/v1/namespaces/{namespace}",
            {"metadata": {"annotations": {DEFAULT_TOLERATIONS: json.dumps([self.toleration])}}},
            content_type="application/merge-patch+json")
        if status != 200:
            raise NodeError(f"adopting namespace {namespace}: {status} {out}")
        self._adopted.add(namespace)

    def _watch_loop(self) -> None:
        """Record the unbound pods of adopted namespaces (:attr:`pods`)."""
        from kubernetes.client import CoreV1Api
        from kubernetes.watch.watch import iter_resp_lines

        core: Any = CoreV1Api(self.api_client)
        rv = ""
        while not self._stop.is_set():
            try:
                if not rv:
                    data = json.loads(core.list_pod_for_all_namespaces(
                        field_selector="spec.nodeName=", _preload_content=False).data)
                    rv = data["metadata"]["resourceVersion"]
                    for pod in data.get("items") or []:
                        self._maybe_record(pod)
                    self._watching.set()
                resp = core.list_pod_for_all_namespaces(
                    field_selector="spec.nodeName=", watch=True, resource_version=rv,
                    timeout_seconds=1, allow_watch_bookmarks=False, _preload_content=False,
                    _request_timeout=10)
                try:
                    for line in iter_resp_lines(resp):
                        ev = json.loads(line)
                        if ev.get("type") == "ERROR":
                            rv = ""
                            break
                        rv = ev["object"]["metadata"]["resourceVersion"]
                        if ev.get("type") in ("ADDED", "MODIFIED"):
                            self._maybe_record(ev["object"])
                finally:
                    resp.close()
            except Exception:
                if self._stop.is_set():
                    return
                rv = ""
                time.sleep(0.1)

    def _maybe_record(self, pod: dict[str, Any]) -> None:
        md = pod["metadata"]
        if md["namespace"] not in self._adopted or md.get("uid") in self._seen:
            return
        if (pod.get("spec") or {}).get("nodeName"):
            return
        self._seen.add(md.get("uid", ""))
        self.pods.append(pod)

    def running_containers(self, namespace: str) -> list[str]:
        """IDs of this node's running containers (sandboxes included) of pods in
        ``namespace``, as containerd sees them."""
        ids = set(self._ctr("containers", "ls", "-q",
                            f'labels."io.kubernetes.pod.namespace"=={namespace}').stdout.split())
        running = []
        for line in self._ctr("tasks", "ls").stdout.splitlines()[1:]:
            parts = line.split()
            if len(parts) >= 3 and parts[0] in ids and parts[2] == "RUNNING":
                running.append(parts[0])
        return running

    # ------------------------------------------------------------------ start-up steps

    def _make_bridge(self) -> None:
        self._run(["ip", "link", "add", "name", self.bridge, "type", "bridge"])
        self._run(["ip", "addr", "add", f"{self.gateway}/{self.subnet.prefixlen}",
                   "dev", self.bridge])
        self._run(["ip", "link", "set", self.bridge, "up"])

    def _cgroup_dirs(self) -> list[Path]:
        if not CGROUP_FS.is_dir():
            return []
        return [d / self.cgroup_root for d in sorted(CGROUP_FS.iterdir())
                if d.is_dir() and not d.is_symlink()]

    def _make_cgroup_root(self) -> None:
        for d in self._cgroup_dirs():
            d.mkdir(exist_ok=True)
            if d.parent.name == "cpuset":  # cgroup v1: a new cpuset starts with no CPUs
                for f in ("cpuset.cpus", "cpuset.mems"):
                    (d / f).write_text((d.parent / f).read_text())

    def _start_containerd(self) -> None:
        root, state = self.dir / "containerd" / "root", self.dir / "containerd" / "state"
        conf_dir = self.dir / "cni" / "net.d"
        for d in (root, state, conf_dir, self.dir / "cni" / "ipam"):
            d.mkdir(parents=True, exist_ok=True)
        conflist = {
            "cniVersion": "1.0.0", "name": self.name,
            "plugins": [{
                "type": "bridge", "bridge": self.bridge, "isGateway": True, "ipMasq": False,
                "hairpinMode": True,
                "ipam": {"type": "host-local",
                         "ranges": [[{"subnet": str(self.subnet), "gateway": self.gateway}]],
                         "routes": [{"dst": "0.0.0.0/0"}],
                         "dataDir": str(self.dir / "cni" / "ipam")},
            }],
        }
        (conf_dir / "10-certdoctor.conflist").write_text(json.dumps(conflist, indent=2))
        cri = 'plugins."io.containerd.grpc.v1.cri"'
        config = f"""version = 2
root = "{root}"
state = "{state}"
oom_score = 0

[grpc]
  address = "{self.sock}"

[debug]
  level = "info"

[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "{root / 'opt'}"
  [{cri}]
    sandbox_image = "{self.pause_image}"
    # required here: this VM refuses to lower oom_score_adj, and runc fails every sandbox
    restrict_oom_score_adj = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    enable_selinux = false
    [{cri}.containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [{cri}.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [{cri}.containerd.runtimes.runc.options]
          SystemdCgroup = false
    [{cri}.cni]
      bin_dir = "{CNI_BIN_DIR}"
      conf_dir = "{conf_dir}"
      max_conf_num = 1
"""
        cfg = self.dir / "containerd" / "config.toml"
        cfg.write_text(config)
        self._spawn("containerd", ["containerd", "--config", str(cfg)],
                    env={"HTTPS_PROXY": NO_PULL_PROXY, "HTTP_PROXY": NO_PULL_PROXY})
        self._wait("containerd", lambda: self._ctr("version", check=False).returncode == 0, 30)

    def _ctr(self, *args: str, check: bool = True,
             timeout: float = 60) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(["ctr", "--address", str(self.sock), "--namespace", "k8s.io",
                               *args], capture_output=True, text=True, timeout=timeout,
                              check=False, env={"PATH": SBIN_PATH})
        if check and proc.returncode != 0:
            raise NodeError(f"ctr {' '.join(args)}: {proc.stderr.strip()}")
        return proc

    def _import_images(self) -> None:
        self._ctr("images", "import", str(self.images_tar), timeout=120)
        have = self._ctr("images", "ls", "-q").stdout.split()
        for ref in (self.pause_image, self.probe_image):
            if ref not in have:
                raise NodeError(f"image {ref} missing after import (have {have})")

    def _start_kubelet(self) -> None:
        kdir = self.dir / "kubelet"
        kdir.mkdir(parents=True, exist_ok=True)
        pki = kdir / "pki"
        pki.mkdir(exist_ok=True)
        kubeconfig = self.cp.add_node_credentials(self.name, kdir / "kubelet.kubeconfig")
        resolv = kdir / "resolv.conf"
        # pods get no resolver of this machine: the gateway, where a test may serve DNS
        resolv.write_text(f"nameserver {self.gateway}\noptions ndots:1 timeout:1 attempts:1\n")
        config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
            "address": self.gateway if self.serve_on_gateway else "127.0.0.1",
            "port": self.kubelet_port, "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1", "healthzPort": self.healthz_port,
            "cgroupDriver": "cgroupfs", "cgroupRoot": f"/{self.cgroup_root}",
            "failCgroupV1": False, "failSwapOn": False,
            "containerRuntimeEndpoint": f"unix://{self.sock}",
            "imageServiceEndpoint": f"unix://{self.sock}",
            "authentication": {"anonymous": {"enabled": False},
                               "webhook": {"enabled": False},
                               "x509": {"clientCAFile": str(self.cp.ca_file)}},
            "authorization": {"mode": "AlwaysAllow"},
            "resolvConf": str(resolv),
            "podLogsDir": str(kdir / "pod-logs"),
            "serializeImagePulls": False,
            "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
            "evictionHard": {"memory.available": "1Mi", "nodefs.available": "1%",
                             "imagefs.available": "1%", "nodefs.inodesFree": "1%"},
            "registerNode": True,
            "registerWithTaints": [{"key": TAINT_KEY, "value": self.name,
                                    "effect": "NoSchedule"}],
            "nodeStatusReportFrequency": "10s",
        }
        cfg = kdir / "config.yaml"
        cfg.write_text(yaml.safe_dump(config))
        self._spawn("kubelet", [
            str(self.bindir / "kubelet"), f"--config={cfg}", f"--kubeconfig={kubeconfig}",
            f"--root-dir={kdir / 'root'}", f"--cert-dir={pki}",
            f"--hostname-override={self.name}", f"--node-ip={self.gateway}", "--v=1",
        ])

    def _wait_ready(self) -> None:
        def ready() -> bool:
            status, node = self.cp.request("GET", f"/api/v1/nodes/{self.name}")
            if status != 200:
                return False
            return any(c.get("type") == "Ready" and c.get("status") == "True"
                       for c in (node.get("status") or {}).get("conditions") or [])

        self._wait("kubelet", ready, 90, what=f"node {self.name} to be Ready")

    # ------------------------------------------------------------------ teardown steps

    def _remove_containers(self) -> None:
        """Kill and delete every container; unmount the sandboxes' network namespaces."""
        proc = self._ctr("containers", "ls", "-q", check=False, timeout=20)
        for cid in proc.stdout.split():
            info = self._ctr("containers", "info", cid, check=False, timeout=20)
            with contextlib.suppress(ValueError, KeyError, TypeError):
                spec = json.loads(info.stdout).get("Spec") or {}
                for ns in (spec.get("linux") or {}).get("namespaces") or []:
                    path = ns.get("path") or ""
                    if ns.get("type") == "network" and path.startswith(("/var/run/netns/",
                                                                        "/run/netns/")):
                        self._run(["umount", path], check=False)
                        with contextlib.suppress(OSError):
                            os.unlink(path)
            self._ctr("tasks", "kill", "--signal", "SIGKILL", cid, check=False, timeout=20)
            self._ctr("tasks", "delete", "--force", cid, check=False, timeout=20)
            self._ctr("containers", "delete", cid, check=False, timeout=20)

    def _cgroup_pids(self) -> set[int]:
        pids: set[int] = set()
        for d in self._cgroup_dirs():
            if not d.is_dir():
                continue
            for sub, _, files in os.walk(d):
                if "cgroup.procs" in files:
                    with contextlib.suppress(OSError, ValueError):
                        pids |= {int(x) for x in Path(sub, "cgroup.procs").read_text().split()}
        return pids

    def _kill_pod_processes(self) -> None:
        """Containers' processes still in this node's cgroups (none when ctr succeeded)."""
        for pid in self._cgroup_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _kill_shims(self) -> None:
        """containerd-shim-runc-v2 processes that serve this node's containerd."""
        needle = str(self.sock).encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"containerd-shim" in cmd and needle in cmd:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(entry.name), signal.SIGKILL)

    def _unmount_under(self, top: Path) -> None:
        prefix = str(top.resolve()) + "/"
        points = []
        with contextlib.suppress(OSError):
            for line in Path("/proc/self/mountinfo").read_text().splitlines():
                mp = line.split()[4].replace("\\040", " ")
                if mp.startswith(prefix):
                    points.append(mp)
        for mp in sorted(set(points), key=len, reverse=True):
            self._run(["umount", "-l", mp], check=False)

    def _remove_cgroup_root(self) -> None:
        for d in self._cgroup_dirs():
            if not d.is_dir():
                continue
            for sub, _, _ in os.walk(d, topdown=False):
                with contextlib.suppress(OSError):
                    os.rmdir(sub)

    def _remove_log_links(self) -> None:
        """The kubelet links container logs from the fixed /var/log/containers."""
        target = str(self.dir / "kubelet")
        logs = Path("/var/log/containers")
        if not logs.is_dir():
            return
        for link in logs.iterdir():
            with contextlib.suppress(OSError):
                if link.is_symlink() and os.readlink(link).startswith(target):
                    link.unlink()

    # ------------------------------------------------------------------ processes

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30,
                              env={"PATH": SBIN_PATH})
        if check and proc.returncode != 0:
            raise NodeError(f"{' '.join(argv)}: {proc.stderr.strip()}")
        return proc

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        log = open(self.dir / f"{name}.log", "ab")  # noqa: SIM115 - held by the child
        try:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir,
                                    stdin=subprocess.DEVNULL, start_new_session=True,
                                    env={"PATH": SBIN_PATH, "HOME": str(self.dir),
                                         **(env or {})},
                                    preexec_fn=_pdeathsig() if self.die_with_parent else None)
        finally:
            log.close()
        self._procs[name] = proc
        self._pids.add(proc.pid)

    def _terminate(self, name: str) -> None:
        proc = self._procs.pop(name, None)
        if proc is None:
            held = self._detached.get(name)  # kept: status() reports it stopped
            if held is not None:
                _stop_detached(*held)
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                proc.wait(10)


def _start_ticks(pid: int) -> int | None:
    """Process start time (/proc stat field 22): tells a PID from a recycled one."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return None if fields[0] == "Z" else int(fields[19])


def _stop_detached(pid: int, ticks: int) -> None:
    """SIGTERM a process another run started (if it is still that process), SIGKILL
    after 20 s."""
    for sig, grace in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
        if _start_ticks(pid) != ticks:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _start_ticks(pid) == ticks:
            time.sleep(0.05)


def controller_deployment(namespace: str, env: dict[str, str]) -> dict[str, Any]:
    """A cert-manager controller Deployment for the "as cert-manager" vantage to copy:
    DNS policy, scheduling constraints and the given (proxy) env."""
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "cert-manager", "namespace": namespace,
                     "labels": {"app.kubernetes.io/name": "cert-manager",
                                "app.kubernetes.io/component": "controller"}},
        "spec": {"selector": {"matchLabels": {"app": "cm"}}, "template": {
            "metadata": {"labels": {"app": "cm"}},
            "spec": {
                "dnsPolicy": "ClusterFirst",
                "nodeSelector": {"kubernetes.io/os": "linux"},
                "tolerations": [{"key": "infra", "operator": "Exists", "effect": "NoSchedule"}],
                "containers": [{"name": "cert-manager-controller", "image": "cm:v1.21.1",
                                "env": [{"name": k, "value": v} for k, v in env.items()]}]}}}}
