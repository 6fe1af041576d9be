"""Benchmarks at cluster scale against the real test API server.

    python -m benchmarks                       # N = 1000, 5000, 10000 (about 15 min)
    python -m benchmarks --sizes 50 --repeat 1 --update-seconds 2   # smoke

For each N: N Certificates with one CertificateRequest each, 10 % with an Order
and a Challenge (``benchmarks.load``). Measured, median of ``--repeat`` runs:
time to the complete tree (a headless TUI in a child process, from process start
to the moment every Certificate is in the tree) against ``kubectl get`` of the same
kinds with ``-o json`` (kubectl built from the same Kubernetes module as the API
server); ``check -A -o json`` against the same baseline; the API requests the store
made (must not grow with N); peak RSS of the TUI process. At the largest N, 100
status updates/s for ``--update-seconds`` through a second client: p50/p95 latency
from the API write to the node's re-render, and key-press response p95 meanwhile.
Plus ``--help``/``--version`` start-up. Results: JSON on stdout and a Markdown table.

A noisy cluster (``--noise-secrets/--noise-events/--noise-services``, ``benchmarks.noise``):
Helm release Secrets (random data, each starting with a canary), Events (mostly Pods and
Deployments) and Services (mostly ClusterIP) are loaded once, before the Certificates, into
one control plane (etcd's ``--quota-backend-bytes`` raised, Events kept for the whole run).
Then, besides the timings: every body the TUI receives is scanned for the canary (must be
0), the store's own byte and request counters are reported per watch, and one extra run of
kubectl and of the TUI each goes through a counting TCP relay (``benchmarks.wire``) for
the bytes on the wire.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load import _call, load  # noqa: E402
from tests.support.controlplane import ControlPlane  # noqa: E402

PY = sys.executable
CLI = str(Path(PY).parent / "kubectl-certdoctor")
KINDS = "issuers.cert-manager.io,clusterissuers.cert-manager.io," \
        "certificates.cert-manager.io,certificaterequests.cert-manager.io," \
        "orders.acme.cert-manager.io,challenges.acme.cert-manager.io"


class NoisyControlPlane(ControlPlane):
    """The test control plane with extra etcd flags (the quota for ~400 MB of Secrets)."""

    def __init__(self, *args: Any, etcd_args: tuple[str, ...] = (), **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.etcd_args = etcd_args

    def _spawn(self, name: str, argv: list[str]) -> None:
        super()._spawn(name, [*argv, *self.etcd_args] if name == "etcd" else argv)


def rss_kib(pid: int) -> int:
    """Resident set of a running process (the API server, etcd), KiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def timed(cmd: list[str], env: dict[str, str] | None = None,
          stdout: Any = subprocess.DEVNULL) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode() if p.stderr else ""
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{cmd[0]} exited {p.returncode}: {err[-500:]}")
    return dt, ru.ru_maxrss


def tree_run(kubeconfig: str, n: int, update_seconds: float = 0,
             updater: Any = None) -> dict[str, Any]:
    cmd = [PY, "-m", "benchmarks.tree", "--kubeconfig", kubeconfig, "--expect", str(n),
           "--update-seconds", str(update_seconds)]
    start = time.time()
    p = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout and p.stdin
    result: dict[str, Any] = {}
    for line in p.stdout:
        msg = json.loads(line)
        if msg.get("ready") and updater is not None:
            updater(p.stdin)
            p.stdin.close()
        elif "tree_done_wall" in msg:
            result = msg
    if not p.stdin.closed:
        p.stdin.close()
    _, status, ru = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or not result:
        raise RuntimeError(f"tree run failed: {p.stderr.read()[-2000:] if p.stderr else ''}")
    result["tree_seconds"] = result["tree_done_wall"] - start
    if "synced_wall" in result:
        result["synced_seconds"] = result["synced_wall"] - start
    result["peak_rss_mb"] = ru.ru_maxrss / 1024
    return result


def make_updater(api: Any, ns: str, n: int, rate: float, seconds: float) -> Any:
    """Patch a Certificate's Ready message at ``rate``/s and tell the child when."""

    def run(pipe: Any) -> None:
        total = int(rate * seconds)
        t0 = time.perf_counter()
        for k in range(total):
            target = t0 + k / rate
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            name = f"cert-{(k * 7919) % n:05d}"
            marker = f"mk{k:06d}"
            wall = time.time()
            _call(api, "PATCH",
                  f"/apis/cert-manager.io/v1/namespaces/{ns}/certificates/{name}/status",
                  {"status": {"conditions": [{
                      "type": "Ready", "status": "True", "reason": "Ready",
                      "message": f"Certificate is up to date {marker}",
                      "lastTransitionTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  }]}})
            pipe.write(f"{wall} {name} {marker}\n")
            pipe.flush()

    return run


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks")
    ap.add_argument("--sizes", default="1000,5000,10000")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--update-seconds", type=float, default=30)
    ap.add_argument("--update-rate", type=float, default=100)
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--updates-only", action="store_true",
                    help="load the largest N and measure only the update storm (profiling)")
    ap.add_argument("--no-check", action="store_true", help="skip the check -A runs")
    noise = ap.add_argument_group("noise (a realistic cluster besides cert-manager)")
    noise.add_argument("--noise-secrets", type=int, default=0,
                       help="Helm release Secrets (type helm.sh/release.v1, random data)")
    noise.add_argument("--secret-kb", type=float, default=20, help="data per noise Secret")
    noise.add_argument("--noise-events", type=int, default=0,
                       help="Events: 60/40 Pods/Deployments, 5%% about cert-manager kinds")
    noise.add_argument("--noise-services", type=int, default=0,
                       help="Services: 1%% LoadBalancer, the rest ClusterIP")
    noise.add_argument("--noise-namespaces", type=int, default=50)
    noise.add_argument("--writers", type=int, default=16, help="concurrent noise writes")
    noise.add_argument("--etcd-quota-gb", type=float, default=8)
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                   f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') // 2**30} GiB",
        "python": platform.python_version(), "sizes": {},
        "command": " ".join(["python -m benchmarks", *sys.argv[1:]]),
        "loadavg_at_start": os.getloadavg(),
    }
    from kubernetes import client, config

    noisy = bool(a.noise_secrets or a.noise_events or a.noise_services)
    etcd_args = (f"--quota-backend-bytes={int(a.etcd_quota_gb * 2**30)}",) if noisy else ()
    # Events live one hour by default: longer than a full run
    api_args = ("--event-ttl=24h",) if noisy else ()
    results["etcd_args"], results["apiserver_args"] = list(etcd_args), list(api_args)
    cp = NoisyControlPlane(controller_manager=False, die_with_parent=True,
                           etcd_args=etcd_args, apiserver_args=api_args).start()
    relay = None
    try:
        kc = str(cp.admin_kubeconfig)
        kubectl = str(cp.bindir / "kubectl")
        results["kubernetes"] = subprocess.run(
            [kubectl, "version", "--kubeconfig", kc, "-o", "json"], capture_output=True,
            text=True, check=True).stdout
        results["kubernetes"] = json.loads(results["kubernetes"])["serverVersion"]["gitVersion"]
        api = config.new_client_from_config(config_file=kc)
        client.CoreV1Api(api).create_namespace({"metadata": {"name": "bench"}})
        if noisy:
            from benchmarks.noise import Writer, load_noise

            t0 = time.time()
            log(f"loading noise: {a.noise_secrets} Secrets of {a.secret_kb:g} KB, "
                f"{a.noise_events} Events, {a.noise_services} Services")
            w = Writer(cp.server, str(cp.ca_file), str(cp.admin_cert.cert),
                       str(cp.admin_cert.key), workers=a.writers)
            results["noise"] = load_noise(
                w, secrets=a.noise_secrets, secret_kb=a.secret_kb, events=a.noise_events,
                services=a.noise_services, namespaces=a.noise_namespaces, n_certs=sizes[-1],
                progress=log)
            results["noise"]["load_seconds"] = time.time() - t0
            results["noise"]["sent_bytes"] = w.sent_bytes
            log(f"  noise loaded in {time.time() - t0:.0f}s ({w.sent_bytes / 2**20:.0f} MiB)")
            from benchmarks.wire import CountingRelay

            relay = CountingRelay(cp.server)
            relay.start()
        loaded = 0
        results["cert_load_seconds"] = {}
        for n in sizes:
            log(f"loading up to {n} certificates")
            t0 = time.time()
            if loaded == 0:
                load(api, "bench", n, progress=lambda k: log(f"  {k}"))
            else:
                load_more(api, "bench", loaded, n)
            loaded = n
            results["cert_load_seconds"][n] = time.time() - t0
            log(f"  loaded in {time.time() - t0:.0f}s")
            if a.updates_only:
                continue
            r: dict[str, Any] = {}
            kg = [timed([kubectl, "get", KINDS, "-A", "-o", "json", "--kubeconfig", kc])[0]
                  for _ in range(a.repeat)]
            r["kubectl_get_s"] = median(kg)
            r["kubectl_get_all_s"] = kg
            trees = [tree_run(kc, n) for _ in range(a.repeat)]
            r["tree_s"] = median([t["tree_seconds"] for t in trees])
            r["tree_all_s"] = [t["tree_seconds"] for t in trees]
            r["tree_ratio"] = r["tree_s"] / r["kubectl_get_s"]
            r["requests"] = max(t["requests_at_tree"] for t in trees)
            r["peak_rss_mb"] = max(t["peak_rss_mb"] for t in trees)
            # counters when the tree was complete, and when every watch had listed (the
            # whole sync: Secret metadata, Services and Events of a noisy cluster come later)
            r["requests_at_tree"] = r["requests"]
            r["synced_s"] = median([t["synced_seconds"] for t in trees])
            r["requests"] = max(sum(t["requests_by_verb_at_synced"].values()) for t in trees)
            r["requests_by_verb"] = trees[0]["requests_by_verb_at_synced"]
            r["list_continue_pages"] = trees[0]["continue_pages_at_synced"]
            r["canary_hits"] = sum(t["canary_hits_b64_at_synced"] + t["canary_hits_raw_at_synced"]
                                   for t in trees)
            r["http_body_bytes"] = median([t["http_body_bytes_at_synced"] for t in trees])
            r["store_bytes_at_tree"] = median([t["store_bytes_at_tree"] for t in trees])
            r["store_bytes"] = median([t["store_bytes_at_synced"] for t in trees])
            r["store_bytes_by_watch"] = trees[0]["store_bytes_by_watch_at_synced"]
            r["list_seconds"] = trees[0]["list_seconds"]
            r["forbidden"] = max(t["forbidden_at_synced"] for t in trees)
            sb = r["store_bytes_by_watch"]
            r["secret_meta_bytes"] = sb.get("Secret list", 0) + sb.get("Secret watch", 0)
            r["secret_get_bytes"] = sb.get("Secret get", 0)
            if not a.no_check:
                ck = [timed([CLI, "check", "-A", "-o", "json", "--kubeconfig", kc,
                             "--fail-on", "never"]) for _ in range(a.repeat)]
                r["check_s"] = median([c[0] for c in ck])
                r["check_ratio"] = r["check_s"] / r["kubectl_get_s"]
                r["check_peak_rss_mb"] = max(c[1] for c in ck) / 1024
            if relay is not None:
                # bytes on the wire, one extra run each through the counting relay
                rkc = str(relay.kubeconfig(cp.admin_kubeconfig, cp.dir / "relay.kubeconfig"))
                relay.reset()
                out = cp.dir / "kubectl-get.json"
                with out.open("wb") as f:
                    timed([kubectl, "get", KINDS, "-A", "-o", "json", "--kubeconfig", rkc],
                          stdout=f)
                r["kubectl_wire_bytes"] = relay.server_to_client
                r["kubectl_output_bytes"] = out.stat().st_size
                out.unlink()
                relay.reset()
                t = tree_run(rkc, n)
                time.sleep(0.5)  # the relay sees the sockets close
                r["tree_wire_bytes"] = relay.server_to_client
                r["tree_wire_connections"] = relay.connections
                r["canary_hits"] += t["canary_hits_b64_at_synced"] + t["canary_hits_raw_at_synced"]
            r["apiserver_rss_mb"] = rss_kib(cp.processes()["kube-apiserver"].pid) / 1024
            r["etcd_rss_mb"] = rss_kib(cp.processes()["etcd"].pid) / 1024
            log(f"  {n}: {json.dumps(r)}")
            results["sizes"][n] = r
        if a.update_seconds > 0:
            n = sizes[-1]
            log(f"updates: {a.update_rate}/s for {a.update_seconds}s at N={n}")
            u = tree_run(kc, n, a.update_seconds,
                         make_updater(api, "bench", n, a.update_rate, a.update_seconds))
            results["updates"] = {k: v for k, v in u.items() if k.startswith(
                ("update_", "watch_", "pipeline_", "key_", "requests", "canary_",
                 "peak_rss", "store_bytes_after", "forbidden"))}
            results["updates"]["n"] = n
        help_t = sorted(timed([CLI, "--help"])[0] for _ in range(10))
        ver_t = sorted(timed([CLI, "--version"])[0] for _ in range(10))
        results["startup"] = {"help_median_s": median(help_t), "version_median_s": median(ver_t)}
    finally:
        if relay is not None:
            relay.stop()
        runs = cp.dir / "tree-results.jsonl"
        if a.json and runs.exists():  # every TUI run's full result, beside the summary
            a.json.with_suffix(".runs.jsonl").write_bytes(runs.read_bytes())
        cp.stop()
    results["loadavg_at_end"] = os.getloadavg()
    print(json.dumps(results, indent=2))
    if a.json:
        a.json.write_text(json.dumps(results, indent=2))
    print(markdown(results), file=sys.stderr)
    return 0


def load_more(api: Any, ns: str, have: int, want: int) -> None:
    """Add Certificates ``have``..``want`` (the issuer already exists)."""
    from concurrent.futures import ThreadPoolExecutor

    from benchmarks import load as L

    def one(i: int) -> None:
        uids: dict[tuple[str, str], str] = {}
        for plural, name, body, status, owner in L.chain(ns, i, with_acme=i % 10 == 0):
            _, base = L._KIND[plural]
            if owner:
                oplural = L._OWNER[plural]
                okind, obase = L._KIND[oplural]
                body["metadata"]["ownerReferences"] = [{
                    "apiVersion": obase.removeprefix("/apis/"), "kind": okind, "name": owner,
                    "uid": uids[(oplural, owner)], "controller": True}]
            obj = _call(api, "POST", f"{base}/namespaces/{ns}/{plural}", body)
            uids[(plural, name)] = obj["metadata"]["uid"]
            _call(api, "PATCH", f"{base}/namespaces/{ns}/{plural}/{name}/status",
                  {"status": status})

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(have, want)))


def _mb(x: float) -> str:
    return f"{x / 2**20:.1f}"


def markdown(res: dict[str, Any]) -> str:
    rows = ["| N | kubectl get (s) | tree (s) | tree/kubectl | all watches listed (s) "
            "| check -A (s) | check/kubectl | API requests | peak RSS (MB) |",
            "|---|---|---|---|---|---|---|---|---|"]
    for n, r in res["sizes"].items():
        rows.append(f"| {n} | {r['kubectl_get_s']:.2f} | {r['tree_s']:.2f} | "
                    f"{r['tree_ratio']:.2f}× | {r.get('synced_s', float('nan')):.2f} | "
                    f"{r.get('check_s', float('nan')):.2f} | "
                    f"{r.get('check_ratio', float('nan')):.2f}× | "
                    f"{r['requests']} | {r['peak_rss_mb']:.0f} |")
    if "noise" in res:
        no = res["noise"]
        rows.append("")
        rows.append(f"Noise: {no['secrets']} Secrets ({_mb(no['secret_data_bytes'])} MiB of "
                    f"data), {no['events']} Events ({no['cm_events']} about cert-manager "
                    f"kinds), {no['services']} Services ({no['loadbalancers']} LoadBalancer); "
                    f"loaded in {no['load_seconds']:.0f} s")
        rows.append("")
        rows.append("| N | kubectl wire (MiB) | kubectl -o json (MiB) | tree wire (MiB) | tree "
                    "bodies (MiB) | Secret metadata (MiB) | Secret GETs (MiB) | canary hits "
                    "| requests by verb |")
        rows.append("|---|---|---|---|---|---|---|---|---|")
        for n, r in res["sizes"].items():
            rows.append(f"| {n} | {_mb(r.get('kubectl_wire_bytes', 0))} | "
                        f"{_mb(r.get('kubectl_output_bytes', 0))} | "
                        f"{_mb(r.get('tree_wire_bytes', 0))} | {_mb(r['store_bytes'])} | "
                        f"{_mb(r['secret_meta_bytes'])} | {_mb(r['secret_get_bytes'])} | "
                        f"{r['canary_hits']} | {r['requests_by_verb']} |")
    u = res.get("updates")
    if u:
        rows.append("")
        rows.append(f"Updates at N={u['n']}: write→render p50 "
                    f"{u.get('update_latencies_p50', float('nan')) * 1000:.0f} ms, p95 "
                    f"{u.get('update_latencies_p95', float('nan')) * 1000:.0f} ms "
                    f"({u.get('update_latencies_n', 0)} seen, {u.get('update_missed')} missed); "
                    f"(API write → our store p50/p95 "
                    f"{u.get('watch_latencies_p50', float('nan')) * 1000:.0f}/"
                    f"{u.get('watch_latencies_p95', float('nan')) * 1000:.0f} ms, store → "
                    f"render {u.get('pipeline_latencies_p50', float('nan')) * 1000:.0f}/"
                    f"{u.get('pipeline_latencies_p95', float('nan')) * 1000:.0f} ms); "
                    f"key response p95 {u.get('key_latencies_p95', float('nan')) * 1000:.0f} ms; "
                    f"API requests {u.get('requests_at_tree')} → {u.get('requests_after_updates')}")
    s = res.get("startup", {})
    rows.append(f"\nStart-up: --help {s.get('help_median_s', 0) * 1000:.0f} ms, "
                f"--version {s.get('version_median_s', 0) * 1000:.0f} ms (median of 10)")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
