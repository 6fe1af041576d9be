"""``scripts/lab up|down|status|capture``: the lab as a background cluster for developers.

``up`` starts the test control plane with the real kube-scheduler and the Job, TTL and
node lifecycle controllers, a real node (containerd + kubelet + CNI bridge,
tests/support/node.py; root only, ``--no-node`` skips it) so in-cluster probes run, then
bind9, Pebble, the 404 backend and cert-manager's controllers (tests/support/lab.py),
applies every lab scenario and waits until the controller has settled them; the
processes keep running after the command returns. State lives in ``.lab/`` at the
repository root (gitignored; ``CERTDOCTOR_LAB_STATE`` moves it, e.g. for a test):
``lab.json`` for the lab's processes, ``controlplane.json`` for the control plane's,
``node.json`` for the node's. ``down`` stops everything, checks no PID survived and
removes ``.lab/``. ``capture`` writes each scenario through the project's own
``kubectl-certdoctor dump`` into ``kubectl_certdoctor/scenarios/captured/``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support import lab_scenarios as ls
from tests.support.controlplane import ControlPlane
from tests.support.lab import REPO, Lab, LabError, LabState, ProcInfo, alive, labbin, terminate
from tests.support.node import Node, NodeError

STATE = Path(os.environ.get("CERTDOCTOR_LAB_STATE") or REPO / ".lab")
CAPTURED = REPO / "kubectl_certdoctor" / "scenarios" / "captured"
CM_VERSION = "v1.21.1"
HEADER = f"# captured from cert-manager {CM_VERSION} by scripts/lab"


def _say(msg: str) -> None:
    print(f"lab: {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- control plane


def _start_control_plane(workdir: Path, scheduler: bool) -> tuple[ControlPlane, list[ProcInfo]]:
    """Start the project's test control plane detached (with ``scheduler``: also
    kube-scheduler and the Job/TTL/node lifecycle controllers a real node needs);
    returns it and its processes."""
    cp = ControlPlane(workdir).start()
    try:
        if scheduler:
            cp.start_job_controllers()
            cp.start_scheduler()
    except BaseException:
        cp.stop()
        raise
    procs = [_proc_info(name, popen) for name, popen in cp.processes().items()]
    return cp, procs


def _start_node(cp: ControlPlane) -> Node:
    """A real node for the lab's control plane, saved to ``node.json`` for ``down``."""
    from kubernetes import config

    api = config.new_client_from_config(config_file=str(cp.admin_kubeconfig))
    node = Node(STATE / "node", cp, api, die_with_parent=False)
    try:
        node.start()
        node.save(STATE / "node.json")
        node.wait_schedulable()
    except BaseException:
        node.stop()
        (STATE / "node.json").unlink(missing_ok=True)
        raise
    return node


def node_namespaces(state: LabState) -> list[str]:
    """Where the lab's pods may land on the node: ``default`` and every scenario namespace
    without an HTTP-01 solver. cert-manager's solver pods would need an image nothing may
    pull here, so those namespaces keep their solver pod Pending (the scheduler says
    "untolerated taint") and the scenarios stay what they were without a node."""
    return ["default"] + [s.namespace for s in ls.SCENARIOS
                          if '"http01"' not in json.dumps(s.build(state))]


def _proc_info(name: str, popen: subprocess.Popen[bytes]) -> ProcInfo:
    from tests.support.lab import _start_ticks

    ticks = _start_ticks(popen.pid)
    if ticks is None:
        raise LabError(f"control plane process {name} is not running")
    return ProcInfo(name, popen.pid, ticks, "")


def _save_cp(procs: list[ProcInfo], kubeconfig: str) -> None:
    (STATE / "controlplane.json").write_text(
        json.dumps({"kubeconfig": kubeconfig, "procs": [p.__dict__ for p in procs]}, indent=2)
    )


def _load_cp() -> tuple[str, list[ProcInfo]]:
    path = STATE / "controlplane.json"
    if not path.exists():
        return "", []
    raw = json.loads(path.read_text())
    return raw["kubeconfig"], [ProcInfo(**p) for p in raw["procs"]]


# --------------------------------------------------------------------------- commands


def up(args: argparse.Namespace) -> int:
    if (STATE / "lab.json").exists():
        lab = Lab.attach(STATE)
        if lab.status() and all(lab.status().values()):
            _say("already up")
            print(f"export KUBECONFIG={lab.state.kubeconfig}")
            return 0
        _say("a previous lab is half up; run scripts/lab down first")
        return 1
    STATE.mkdir(exist_ok=True)
    bindir = labbin()
    cp_procs: list[ProcInfo] = []
    node: Node | None = None
    with_node = not args.kubeconfig and not args.no_node and os.geteuid() == 0
    if not args.kubeconfig and not args.no_node and not with_node:
        _say("not root: no node (containerd, the CNI bridge and cgroups need root)")
    if args.kubeconfig:
        kubeconfig = str(Path(args.kubeconfig).resolve())
        _say(f"using the existing (disposable!) cluster of {kubeconfig}")
        _save_cp(cp_procs, kubeconfig)
    else:
        _say("starting the control plane" + (" and kube-scheduler" if with_node else ""))
        cp, cp_procs = _start_control_plane(STATE / "controlplane", scheduler=with_node)
        kubeconfig = str(cp.admin_kubeconfig)
        _save_cp(cp_procs, kubeconfig)
        if with_node:
            _say("starting a real node (containerd, runc, CNI bridge, kubelet)")
            try:
                node = _start_node(cp)
            except BaseException:
                down(args)
                raise
    lab = Lab(kubeconfig, STATE, bindir=bindir)
    try:
        _say("starting bind9, Pebble, the 404 backend and cert-manager's controllers")
        lab.start()
        from kubernetes import config

        api = config.new_client_from_config(config_file=kubeconfig)
        if cp_procs:
            ls.allow_namespace_deletion(api)
        ls.apply_scenarios(api, lab.state)
        if node is not None:
            for ns in node_namespaces(lab.state):
                node.adopt(ns)
            _say(f"node {node.name} Ready; pods in {', '.join(node_namespaces(lab.state))} "
                 "are scheduled on it")
        if not args.no_wait:
            _say("waiting for cert-manager to settle every scenario (DNS-01 takes ~65 s)")
            settled = ls.wait_settled(api, timeout=150)
            for name, ok in settled.items():
                _say(f"  {'settled' if ok else 'NOT settled'}  {name}")
        api.close()
    except BaseException:
        _say("start failed; tearing down")
        down(args)
        raise
    print(f"export KUBECONFIG={kubeconfig}")
    return 0


def down(args: argparse.Namespace) -> int:
    leftover: list[str] = []
    kubeconfig, cp_procs = _load_cp()
    if (STATE / "lab.json").exists():
        lab = Lab.attach(STATE)
        if kubeconfig and not cp_procs and lab.status().get("controller"):
            # an existing cluster outlives the lab: delete what the lab created, while the
            # controller still runs to release its finalizers
            from kubernetes import config

            api = config.new_client_from_config(config_file=kubeconfig)
            left = ls.delete_scenarios(api)
            api.close()
            if left:
                _say(f"namespaces not deleted: {', '.join(left)}")
        lab.stop()
        leftover += lab.leftover()
    if (STATE / "node.json").exists():
        node = Node.attach(STATE / "node.json")
        node.stop()
        leftover += [f"{name}:node" for name, up_ in node.status().items() if up_]
    for proc in reversed(cp_procs):
        terminate(proc)
    leftover += [f"{p.name}:{p.pid}" for p in cp_procs if alive(p)]
    if leftover:
        _say(f"still running: {', '.join(leftover)}")
        return 1
    shutil.rmtree(STATE, ignore_errors=True)
    _say("down; no lab process left")
    return 0


def status(args: argparse.Namespace) -> int:
    if not (STATE / "lab.json").exists():
        _say("not up")
        return 1
    lab = Lab.attach(STATE)
    _, cp_procs = _load_cp()
    for proc in cp_procs + lab.state.procs:
        print(f"{proc.name:24} pid {proc.pid:<7} {'running' if alive(proc) else 'STOPPED'}")
    node = Node.attach(STATE / "node.json") if (STATE / "node.json").exists() else None
    if node is not None:
        running = node.status()
        for name, pid in node.detached_pids.items():
            print(f"{'node ' + name:24} pid {pid:<7} "
                  f"{'running' if running[name] else 'STOPPED'}")
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=lab.state.kubeconfig)
    try:
        if node is not None:
            conds = client.CoreV1Api(api).read_node(node.name).status.conditions or []
            ready = any(c.type == "Ready" and c.status == "True" for c in conds)
            print(f"node {node.name:19} {'Ready' if ready else 'NOT Ready'}  "
                  f"pods of {', '.join(node_namespaces(lab.state))} are scheduled on it")
        for scenario in ls.SCENARIOS:
            ok = scenario.settled(ls.Reader(api, scenario.namespace))
            print(f"{scenario.namespace:20} {'settled' if ok else 'in progress'}  {scenario.title}")
    finally:
        api.close()
    print(f"export KUBECONFIG={lab.state.kubeconfig}")
    return 0


def capture(args: argparse.Namespace) -> int:
    """Dump each scenario namespace with the project's own CLI into the scenario library.

    A namespaced dump lists cluster-scoped kinds whole, so the one change made to the
    dump's output is dropping ClusterIssuers the scenario's Certificates do not use and
    APIServices no webhook solver of the scenario uses (otherwise every bundle would carry
    the unreachable ClusterIssuer's and the unavailable webhook solver's findings).
    """
    if not (STATE / "lab.json").exists():
        _say("not up: run scripts/lab up first")
        return 1
    lab = Lab.attach(STATE)
    _wait_past_grace(lab.state.kubeconfig)
    CAPTURED.mkdir(parents=True, exist_ok=True)
    venv_bin = str(Path(sys.executable).parent)
    exe = shutil.which("kubectl-certdoctor", path=venv_bin) or "kubectl-certdoctor"
    for scenario in ls.SCENARIOS:
        out = subprocess.run(
            [exe, "dump", "--kubeconfig", lab.state.kubeconfig, "-n", scenario.namespace],
            check=False,
            capture_output=True,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
        if out.returncode != 0:
            _say(f"dump of {scenario.namespace} failed: {out.stderr.strip()}")
            return 1
        target = CAPTURED / f"{scenario.name}.yaml"
        target.write_text(_captured_text(scenario, out.stdout))
        _say(f"wrote {target.relative_to(REPO)}")
    return 0


#: certdoctor waits 5 minutes before calling a pending DNS-01 Challenge stuck; capture
#: later than that so a bundle judged at its capture time shows the finding
CAPTURE_AFTER = timedelta(minutes=6)


def _wait_past_grace(kubeconfig: str) -> None:
    """Sleep until the scenarios are older than the rules' longest grace period."""
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=kubeconfig)
    try:
        created = client.CoreV1Api(api).read_namespace("lab-dns01-bad").metadata
    finally:
        api.close()
    born = created.creation_timestamp if created else None
    if born is None:
        return
    wait = (born + CAPTURE_AFTER - datetime.now(UTC)).total_seconds()
    if wait > 0:
        _say(f"waiting {wait:.0f}s so the scenarios are past certdoctor's grace periods")
        time.sleep(wait)


def _captured_text(scenario: ls.LabScenario, dumped: str) -> str:
    """The dump with unrelated ClusterIssuers and APIServices (another scenario's webhook
    solver) removed, headed by where it came from."""
    import yaml

    comments = [line for line in dumped.splitlines() if line.startswith("#")]
    doc = yaml.safe_load(dumped)
    used = {
        item.get("spec", {}).get("issuerRef", {}).get("name")
        for item in doc["items"]
        if item.get("kind") == "Certificate"
    }
    groups = {
        solver.get("dns01", {}).get("webhook", {}).get("groupName")
        for item in doc["items"]
        if item.get("kind") in ("Issuer", "ClusterIssuer")
        for solver in item.get("spec", {}).get("acme", {}).get("solvers", []) or []
    }
    doc["items"] = [
        item
        for item in doc["items"]
        if (item.get("kind") != "ClusterIssuer" or item["metadata"]["name"] in used)
        and (item.get("kind") != "APIService" or item.get("spec", {}).get("group") in groups)
    ]
    header = [
        HEADER,
        f"# scenario {scenario.name} (namespace {scenario.namespace}): {scenario.title}",
        f"# expected findings: {', '.join(scenario.expect_codes) or 'none (healthy)'}",
        *comments,
    ]
    body = yaml.dump(
        doc,
        Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
        sort_keys=False,
        default_flow_style=False,
        width=120,
    )
    return "\n".join(header) + "\n" + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/lab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start everything in the background and apply the scenarios")
    p_up.add_argument("--no-wait", action="store_true", help="do not wait for scenarios to settle")
    p_up.add_argument("--no-node", action="store_true",
                      help="no real node and no kube-scheduler (pods stay Pending)")
    p_up.add_argument(
        "--kubeconfig",
        help="run against this existing, disposable test cluster (cert-manager CRDs installed, "
        "no cert-manager running) instead of starting the test control plane",
    )
    sub.add_parser("down", help="stop everything and delete .lab/")
    sub.add_parser("status", help="processes and scenario state")
    sub.add_parser("capture", help="dump each scenario into the scenario library")
    args = parser.parse_args(argv)
    handler = {"up": up, "down": down, "status": status, "capture": capture}[args.command]
    try:
        return handler(args)
    except (LabError, NodeError) as err:
        _say(str(err))
        return 1


if __name__ == "__main__":
    sys.exit(main())
