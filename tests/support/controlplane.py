"""The real test control plane: etcd + kube-apiserver + kube-controller-manager on loopback.

Mocks of the Kubernetes API hide what breaks in the field (watch semantics, 410 Gone,
status subresources, RBAC 403s, CRD schema pruning), so the tests run against the real
binaries that ``scripts/testbin`` builds. Everything listens on 127.0.0.1 on free ports
and lives in one work directory (certificates, etcd data, kubeconfigs, process logs).

Users are client certificates from a CA made here: ``certdoctor-admin`` (group
``system:masters``) and ``certdoctor-viewer``, bound to the ClusterRole
``certdoctor-test-viewer`` (read-only, deliberately without orders, challenges and
secrets so tests can show "forbidden"). cert-manager's CRDs are installed and
Established before ``start()`` returns.

The controller manager runs only the controllers the tests need (garbage collector,
namespace deletion, ClusterRole aggregation, service accounts, root CA publisher,
endpoint slices). Workload controllers (deployment, replicaset, ...) and pod GC stay
off on purpose: there is no kubelet, and they would overwrite the status that tests
write through the status subresource, or delete pods bound to the tests' fake node.
The Job and TTL-after-finished controllers run only while a real node needs them
(:meth:`ControlPlane.start_job_controllers`, started by the ``node`` fixture): debug pods
are Jobs, and their cleanup without the client is the TTL controller's. So does the real
kube-scheduler (:meth:`ControlPlane.start_scheduler`, with the ``node`` fixture and
``scripts/lab up``), as ``system:kube-scheduler`` with the API server's bootstrap RBAC:
without a node it would only mark every pod Unschedulable. The API server always runs
the ``PodTolerationRestriction`` admission plugin so a namespace's
``scheduler.alpha.kubernetes.io/defaultTolerations`` annotation can let its pods onto
a tainted test node (``Node.adopt``). Its one effect elsewhere is upstream's: pods that
are not BestEffort also get a ``node.kubernetes.io/memory-pressure`` toleration.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from tests.support.pki import CA, KeyPair, service_account_key
from tests.support.procs import Supervisor

REPO = Path(__file__).resolve().parents[2]
ADMIN_USER = "certdoctor-admin"
VIEWER_USER = "certdoctor-viewer"
VIEWER_ROLE = "certdoctor-test-viewer"
SERVICE_CIDR = "10.96.0.0/16"

CONTROLLERS = (
    "garbage-collector-controller",
    "namespace-controller",
    "clusterrole-aggregation-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
    "endpointslice-controller",
)

#: started only with a real node (debug pods are Jobs cleaned up by ttlSecondsAfterFinished)
JOB_CONTROLLERS = ("job-controller", "ttl-after-finished-controller")
#: with them: a real node registers tainted ``node.kubernetes.io/not-ready:NoSchedule``
#: (TaintNodesByCondition) and only this controller lifts the taint once it is Ready, so
#: the real scheduler can place pods (no taint-eviction-controller: nothing is evicted)
NODE_CONTROLLERS = ("node-lifecycle-controller",)
JOBS_KCM = "kube-controller-manager-jobs"
SCHEDULER = "kube-scheduler"
SCHEDULER_USER = "system:kube-scheduler"

#: what the restricted user may read: no orders, no challenges, no secrets
VIEWER_RULES: list[dict[str, Any]] = [
    {"apiGroups": ["cert-manager.io"],
     "resources": ["issuers", "clusterissuers", "certificates", "certificaterequests"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["events", "services", "pods"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses", "ingressclasses"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["admissionregistration.k8s.io"],
     "resources": ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apiregistration.k8s.io"], "resources": ["apiservices"],
     "verbs": ["get", "list", "watch"]},
]


class ControlPlaneError(RuntimeError):
    """A component did not start; the message carries the tail of its log."""


def locate_testbin() -> Path:
    """Run ``scripts/testbin`` (builds on first use, cached after) and return its bin dir."""
    proc = subprocess.run([str(REPO / "scripts" / "testbin")], capture_output=True, text=True,
                          timeout=7200, check=False)
    if proc.returncode != 0:
        raise ControlPlaneError(
            f"scripts/testbin failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    lines = proc.stdout.strip().splitlines()
    if not lines:
        raise ControlPlaneError("scripts/testbin printed no directory")
    return Path(lines[-1])


def _pdeathsig() -> Callable[[], None] | None:
    """A preexec hook: SIGKILL the child when its parent dies (Linux prctl)."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork
    pr_set_pdeathsig = 1

    def hook() -> None:
        prctl(pr_set_pdeathsig, signal.SIGKILL)

    return hook


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ControlPlane(Supervisor):
    """One etcd, kube-apiserver and kube-controller-manager; ``start()`` / ``stop()``.

    ``workdir`` defaults to a fresh temporary directory (removed by ``stop()``); a
    given directory is kept so its logs survive. ``apiserver_args`` are appended to the
    API server's flags (e.g. ``--watch-cache-sizes=...`` or ``--watch-cache=false``
    so a reliability test can force 410 Gone); ``controller_manager_args`` likewise.
    ``die_with_parent`` has the kernel kill the components when the Python process
    dies without running ``stop()`` (a killed pytest must not leave an etcd behind);
    ``scripts/lab`` leaves it off because its control plane outlives the command.
    ``extra_crd_dirs`` (names relative to the bin dir, e.g. ``"crds-gateway"``) are opt-in
    CRDs installed after cert-manager's: the shared control plane serves no Gateway API
    on purpose, so only a private control plane asks for it.
    """

    error = ControlPlaneError

    def __init__(self, workdir: Path | str | None = None, *, bindir: Path | None = None,
                 apiserver_args: Sequence[str] = (),
                 controller_manager_args: Sequence[str] = (), crds: bool = True,
                 controller_manager: bool = True, die_with_parent: bool = False,
                 extra_crd_dirs: Sequence[str] = ()) -> None:
        self._own_dir = workdir is None
        self.dir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="certdoctor-cp-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self._bindir = bindir
        self.apiserver_args = tuple(apiserver_args)
        self.controller_manager_args = tuple(controller_manager_args)
        self.crds = crds
        self.extra_crd_dirs = tuple(extra_crd_dirs)
        self.controller_manager = controller_manager
        self.die_with_parent = die_with_parent
        self.etcd_port, self.peer_port = free_port(), free_port()
        self.port, self.kcm_port = free_port(), free_port()
        self.server = f"https://127.0.0.1:{self.port}"
        self.etcd_url = f"http://127.0.0.1:{self.etcd_port}"
        self.admin_kubeconfig = self.dir / "admin.kubeconfig"
        self.restricted_kubeconfig = self.dir / "restricted.kubeconfig"
        self.ca_file = self.dir / "pki" / "ca.crt"
        self.admin_cert = KeyPair(self.dir / "pki" / "admin.crt", self.dir / "pki" / "admin.key")
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._pids: set[int] = set()
        self.startup_seconds: float | None = None
        self._ssl: ssl.SSLContext | None = None
        self._ca: CA | None = None

    @property
    def bindir(self) -> Path:
        if self._bindir is None:
            self._bindir = locate_testbin()
        return self._bindir

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> ControlPlane:
        began = time.monotonic()
        try:
            self._make_pki()
            self._start_etcd()
            self.start_apiserver()
            self._bootstrap_rbac()
            if self.crds:  # before the controller manager: its GC discovers them at start
                self.install_crds()
            for sub in self.extra_crd_dirs:
                self.install_crds(sub)
            if self.controller_manager:
                self._start_controller_manager()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Stop every process (controller manager, API server, etcd) and wait for each."""
        for name in (SCHEDULER, JOBS_KCM, "kube-controller-manager", "kube-apiserver",
                     "etcd"):
            self._terminate(name)
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def processes(self) -> dict[str, subprocess.Popen[bytes]]:
        """The running processes by component name."""
        return dict(self._procs)

    @property
    def pids(self) -> set[int]:
        """Every PID this control plane ever started (restarts included)."""
        return set(self._pids)

    def stop_apiserver(self, *, kill: bool = False) -> None:
        """Stop the API server (SIGKILL with ``kill``: connections just drop)."""
        self._terminate("kube-apiserver", sig=signal.SIGKILL if kill else signal.SIGTERM)

    def start_apiserver(self) -> None:
        """(Re)start the API server on the same port and etcd; waits for /readyz."""
        if "kube-apiserver" in self._procs:
            raise ControlPlaneError("kube-apiserver is already running")
        certs = self.dir / "pki"
        self._spawn("kube-apiserver", [
            str(self.bindir / "kube-apiserver"),
            f"--etcd-servers={self.etcd_url}",
            f"--secure-port={self.port}", "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--cert-dir={certs}",
            f"--tls-cert-file={certs / 'apiserver.crt'}",
            f"--tls-private-key-file={certs / 'apiserver.key'}",
            f"--client-ca-file={certs / 'ca.crt'}",
            "--authorization-mode=Node,RBAC",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={certs / 'sa.key'}",
            f"--service-account-signing-key-file={certs / 'sa.key'}",
            "--allow-privileged=true",
            "--profiling=false",
            # namespace default tolerations: how Node.adopt lets pods onto the test node
            "--enable-admission-plugins=PodTolerationRestriction",
            *self.apiserver_args,
        ])
        self._wait("kube-apiserver", lambda: self._get_status("/readyz") == 200, 90)

    # ------------------------------------------------------------------ API helpers

    def request(self, method: str, path: str, body: Any = None,
                content_type: str = "application/json") -> tuple[int, Any]:
        """One request as the admin; returns (status, decoded JSON or None)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method,
                                     headers={"Content-Type": content_type,
                                              "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30, context=self._admin_ssl()) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode(errors="replace")

    def kubectl(self, *args: str, restricted: bool = False, timeout: float = 60) -> str:
        """Run the built kubectl as the admin (or the restricted user); returns stdout."""
        kc = self.restricted_kubeconfig if restricted else self.admin_kubeconfig
        proc = subprocess.run([str(self.bindir / "kubectl"), f"--kubeconfig={kc}", *args],
                              capture_output=True, text=True, timeout=timeout, check=False)
        if proc.returncode != 0:
            raise ControlPlaneError(f"kubectl {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def add_user(self, user: str, *, cluster_roles: Sequence[str] = (),
                 roles: Sequence[tuple[str, str]] = ()) -> Path:
        """A client-certificate user bound to ``cluster_roles`` (cluster-wide) and to
        ``roles`` ((namespace, ClusterRole) pairs: a RoleBinding in that namespace);
        returns its kubeconfig. The ClusterRoles must exist (or be created later)."""
        if self._ca is None:
            raise ControlPlaneError("the control plane has not been started")
        pair = self._ca.issue(f"user-{user}", user)
        path = self.dir / f"{user}.kubeconfig"
        self._write_kubeconfig(path, user, pair)
        subject = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]
        for role in cluster_roles:
            body = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                    "metadata": {"name": f"{user}-{role}"}, "subjects": subject,
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                "kind": "ClusterRole", "name": role}}
            status, out = self.request(
                "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", body)
            if status not in (201, 409):
                raise ControlPlaneError(f"binding {user} to {role}: {status} {out}")
        for ns, role in roles:
            body = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                    "metadata": {"name": f"{user}-{role}", "namespace": ns},
                    "subjects": subject,
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                "kind": "ClusterRole", "name": role}}
            status, out = self.request(
                "POST", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
                body)
            if status not in (201, 409):
                raise ControlPlaneError(f"binding {user} to {role} in {ns}: {status} {out}")
        return path

    def add_node_credentials(self, node: str, path: Path) -> Path:
        """A kubeconfig at ``path`` for the kubelet of ``node``: ``system:node:<node>`` in
        group ``system:nodes``, which the API server's Node authorizer serves."""
        if self._ca is None:
            raise ControlPlaneError("the control plane has not been started")
        pair = self._ca.issue(f"node-{node}", f"system:node:{node}",
                              organizations=("system:nodes",))
        self._write_kubeconfig(path, f"system:node:{node}", pair)
        return path

    def apply_cluster_role(self, doc: dict[str, Any]) -> None:
        """Create or replace a ClusterRole (e.g. the shipped docs/rbac-*.yaml)."""
        name = doc["metadata"]["name"]
        base = "/apis/rbac.authorization.k8s.io/v1/clusterroles"
        status, out = self.request("POST", base, doc)
        if status == 409:
            status, out = self.request("PUT", f"{base}/{name}", doc)
        if status not in (200, 201):
            raise ControlPlaneError(f"ClusterRole {name}: {status} {out}")

    def install_crds(self, subdir: str = "crds") -> None:
        """Create the CRDs in ``<bindir>/<subdir>`` (cert-manager's by default) and wait
        until every one is Established and its API group shows in discovery."""
        loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        folder = self.bindir / subdir
        names = []
        group_versions: set[str] = set()
        for path in sorted(folder.glob("*.yaml")):
            for doc in yaml.load_all(path.read_text(), Loader=loader):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                status, out = self.request(
                    "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", doc)
                if status not in (201, 409):
                    raise ControlPlaneError(f"creating CRD from {path.name}: {status} {out}")
                names.append(doc["metadata"]["name"])
                group_versions.update(
                    f"{doc['spec']['group']}/{v['name']}"
                    for v in doc["spec"].get("versions") or [] if v.get("served"))
        if not names:
            raise ControlPlaneError(f"no CRDs found in {folder}")

        def established() -> bool:
            for n in names:
                _, crd = self.request(
                    "GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{n}")
                conds = (crd or {}).get("status", {}).get("conditions") or []
                if not any(c.get("type") == "Established" and c.get("status") == "True"
                           for c in conds):
                    return False
            return True

        self._wait("kube-apiserver", established, 60, what=f"CRDs of {subdir} to be Established")
        # discovery lags Established a little; the dynamic/REST clients need it
        self._wait("kube-apiserver",
                   lambda: all(self._get_status(f"/apis/{gv}") == 200
                               for gv in sorted(group_versions)),
                   30, what=f"API discovery of {subdir}")

    # ------------------------------------------------------------------ startup steps

    def _make_pki(self) -> None:
        certs = self.dir / "pki"
        ca = CA(certs)
        self._ca = ca
        ca.issue("apiserver", "kube-apiserver", server=True,
                 dns=("localhost", "kubernetes", "kubernetes.default",
                      "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"),
                 ips=("127.0.0.1", "::1", "10.96.0.1"))
        admin = ca.issue("admin", ADMIN_USER, organizations=("system:masters",))
        viewer = ca.issue("viewer", VIEWER_USER)
        # with --use-service-account-credentials=false every controller acts as this user;
        # the bootstrap role system:kube-controller-manager alone assumes per-controller
        # service accounts (no namespace deletion, no aggregation), hence system:masters
        kcm = ca.issue("controller-manager", "system:kube-controller-manager",
                       organizations=("system:masters",))
        # the bootstrap ClusterRoles system:kube-scheduler / system:volume-scheduler (and
        # the authentication reader Role in kube-system) are bound to this user name
        sched = ca.issue("scheduler", SCHEDULER_USER)
        service_account_key(certs / "sa.key")
        assert ca.cert_path == self.ca_file and admin == self.admin_cert
        self._write_kubeconfig(self.admin_kubeconfig, ADMIN_USER, admin)
        self._write_kubeconfig(self.restricted_kubeconfig, VIEWER_USER, viewer)
        self._write_kubeconfig(self.dir / "controller-manager.kubeconfig",
                               "system:kube-controller-manager", kcm)
        self._write_kubeconfig(self.dir / "scheduler.kubeconfig", SCHEDULER_USER, sched)

    def _write_kubeconfig(self, path: Path, user: str, pair: KeyPair) -> None:
        doc = {
            "apiVersion": "v1", "kind": "Config", "current-context": "certdoctor-test",
            "clusters": [{"name": "certdoctor-test", "cluster": {
                "server": self.server, "certificate-authority": str(self.ca_file)}}],
            "users": [{"name": user, "user": {
                "client-certificate": str(pair.cert), "client-key": str(pair.key)}}],
            "contexts": [{"name": "certdoctor-test", "context": {
                "cluster": "certdoctor-test", "user": user, "namespace": "default"}}],
        }
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        path.chmod(0o600)

    def _start_etcd(self) -> None:
        self._spawn("etcd", [
            str(self.bindir / "etcd"), f"--data-dir={self.dir / 'etcd'}",
            f"--listen-client-urls={self.etcd_url}", f"--advertise-client-urls={self.etcd_url}",
            f"--listen-peer-urls=http://127.0.0.1:{self.peer_port}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{self.peer_port}",
            f"--initial-cluster=default=http://127.0.0.1:{self.peer_port}",
            "--unsafe-no-fsync", "--log-level=warn",
        ])

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(self.etcd_url + "/health", timeout=2) as r:
                    return bool(json.loads(r.read()).get("health") == "true")
            except (OSError, ValueError):
                return False

        self._wait("etcd", healthy, 30)

    def _bootstrap_rbac(self) -> None:
        role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": VIEWER_ROLE}, "rules": VIEWER_RULES}
        binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                   "metadata": {"name": VIEWER_ROLE},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                               "name": VIEWER_ROLE},
                   "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                                 "name": VIEWER_USER}]}
        for plural, obj in (("clusterroles", role), ("clusterrolebindings", binding)):
            status, out = self.request(
                "POST", f"/apis/rbac.authorization.k8s.io/v1/{plural}", obj)
            if status not in (201, 409):
                raise ControlPlaneError(f"creating {plural}/{VIEWER_ROLE}: {status} {out}")

    def start_job_controllers(self) -> None:
        """A second controller manager running only the Job, TTL-after-finished and node
        lifecycle controllers (idempotent); :meth:`stop_job_controllers` stops it."""
        if JOBS_KCM in self._procs:
            return
        self._start_controller_manager(JOBS_KCM, JOB_CONTROLLERS + NODE_CONTROLLERS,
                                       free_port(), ("--node-monitor-period=1s",))

    def stop_job_controllers(self) -> None:
        self._terminate(JOBS_KCM)

    def start_scheduler(self) -> None:
        """The real kube-scheduler (idempotent), only where pods must land on a real node:
        the ``node`` fixture, ``scripts/lab up``. No leader election (one replica)."""
        if SCHEDULER in self._procs:
            return
        if not (self.bindir / SCHEDULER).exists():
            raise ControlPlaneError(f"{self.bindir / SCHEDULER} missing: run scripts/testbin")
        kubeconfig = self.dir / "scheduler.kubeconfig"
        config = self.dir / "scheduler-config.yaml"
        config.write_text(yaml.safe_dump({
            "apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration",
            "clientConnection": {"kubeconfig": str(kubeconfig)},
            "leaderElection": {"leaderElect": False},
            # a pod created before the node was Ready is retried within a second
            "podInitialBackoffSeconds": 1, "podMaxBackoffSeconds": 2,
        }))
        port = free_port()
        self._spawn(SCHEDULER, [
            str(self.bindir / SCHEDULER), f"--config={config}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1", f"--secure-port={port}",
            f"--cert-dir={self.dir / 'kube-scheduler-certs'}",
            "--profiling=false",
        ])
        self._wait(SCHEDULER, lambda: self._healthz(port), 60)

    def stop_scheduler(self) -> None:
        self._terminate(SCHEDULER)

    @staticmethod
    def _healthz(port: int) -> bool:
        """A loopback component's /healthz (self-signed serving certificate)."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            with urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz",
                                        timeout=2, context=ctx) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def _start_controller_manager(self, name: str = "kube-controller-manager",
                                  controllers: Sequence[str] = CONTROLLERS,
                                  port: int = 0, extra_args: Sequence[str] = ()) -> None:
        certs = self.dir / "pki"
        kubeconfig = self.dir / "controller-manager.kubeconfig"
        port = port or self.kcm_port
        extra = (self.controller_manager_args if name == "kube-controller-manager"
                 else tuple(extra_args))
        self._spawn(name, [
            str(self.bindir / "kube-controller-manager"),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--leader-elect=false", "--use-service-account-credentials=false",
            f"--controllers={','.join(controllers)}",
            "--bind-address=127.0.0.1", f"--secure-port={port}",
            f"--cert-dir={self.dir / (name + '-certs')}",
            f"--root-ca-file={certs / 'ca.crt'}",
            f"--service-account-private-key-file={certs / 'sa.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--concurrent-gc-syncs=5", "--concurrent-namespace-syncs=5",
            "--profiling=false",
            *extra,
        ])
        self._wait(name, lambda: self._healthz(port), 60)

    # ------------------------------------------------------------------ processes

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.dir / f"{name}.log", "ab")  # noqa: SIM115 - held by the child
        try:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir,
                                    stdin=subprocess.DEVNULL, start_new_session=True,
                                    preexec_fn=_pdeathsig() if self.die_with_parent else None)
        finally:
            log.close()
        self._procs[name] = proc
        self._pids.add(proc.pid)

    def _terminate(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self._procs.pop(name, None)
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        # the process group may hold stragglers if the component forked
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


    def _admin_ssl(self) -> ssl.SSLContext:
        if self._ssl is None:
            ctx = ssl.create_default_context(cafile=str(self.ca_file))
            ctx.load_cert_chain(str(self.admin_cert.cert), str(self.admin_cert.key))
            self._ssl = ctx
        return self._ssl

    def _get_status(self, path: str) -> int:
        try:
            req = urllib.request.Request(self.server + path)
            with urllib.request.urlopen(req, timeout=3, context=self._admin_ssl()) as r:
                return int(r.status)
        except urllib.error.HTTPError as e:
            return int(e.code)
        except OSError:
            return 0
