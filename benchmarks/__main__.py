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
KINDS = "certificates.cert-manager.io,certificaterequests.cert-manager.io," \
        "orders.acme.cert-manager.io,challenges.acme.cert-manager.io"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
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
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                   f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') // 2**30} GiB",
        "python": platform.python_version(), "sizes": {},
    }
    from kubernetes import client, config

    cp = ControlPlane(controller_manager=False).start()
    try:
        kc = str(cp.admin_kubeconfig)
        kubectl = str(cp.bindir / "kubectl")
        results["kubernetes"] = subprocess.run(
            [kubectl, "version", "--kubeconfig", kc, "-o", "json"], capture_output=True,
            text=True, check=True).stdout
        results["kubernetes"] = json.loads(results["kubernetes"])["serverVersion"]["gitVersion"]
        api = config.new_client_from_config(config_file=kc)
        client.CoreV1Api(api).create_namespace({"metadata": {"name": "bench"}})
        loaded = 0
        for n in sizes:
            log(f"loading up to {n} certificates")
            t0 = time.time()
            if loaded == 0:
                load(api, "bench", n, progress=lambda k: log(f"  {k}"))
            else:
                load_more(api, "bench", loaded, n)
            loaded = n
            log(f"  loaded in {time.time() - t0:.0f}s")
            if a.updates_only:
                continue
            r: dict[str, Any] = {}
            kg = [timed([kubectl, "get", KINDS, "-A", "-o", "json", "--kubeconfig", kc])[0]
                  for _ in range(a.repeat)]
            r["kubectl_get_s"] = median(kg)
            trees = [tree_run(kc, n) for _ in range(a.repeat)]
            r["tree_s"] = median([t["tree_seconds"] for t in trees])
            r["tree_ratio"] = r["tree_s"] / r["kubectl_get_s"]
            r["requests"] = max(t["requests_at_tree"] for t in trees)
            r["peak_rss_mb"] = max(t["peak_rss_mb"] for t in trees)
            ck = [timed([CLI, "check", "-A", "-o", "json", "--kubeconfig", kc,
                         "--fail-on", "never"]) for _ in range(a.repeat)]
            r["check_s"] = median([c[0] for c in ck])
            r["check_ratio"] = r["check_s"] / r["kubectl_get_s"]
            r["check_peak_rss_mb"] = max(c[1] for c in ck) / 1024
            log(f"  {n}: {json.dumps(r)}")
            results["sizes"][n] = r
        if a.update_seconds > 0:
            n = sizes[-1]
            log(f"updates: {a.update_rate}/s for {a.update_seconds}s at N={n}")
            u = tree_run(kc, n, a.update_seconds,
                         make_updater(api, "bench", n, a.update_rate, a.update_seconds))
            results["updates"] = {k: v for k, v in u.items() if k.startswith(
                ("update_", "watch_", "pipeline_", "key_", "requests"))}
            results["updates"]["n"] = n
        help_t = sorted(timed([CLI, "--help"])[0] for _ in range(10))
        ver_t = sorted(timed([CLI, "--version"])[0] for _ in range(10))
        results["startup"] = {"help_median_s": median(help_t), "version_median_s": median(ver_t)}
    finally:
        cp.stop()
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


def markdown(res: dict[str, Any]) -> str:
    rows = ["| N | kubectl get (s) | tree (s) | tree/kubectl | check -A (s) | check/kubectl "
            "| API requests | peak RSS (MB) |", "|---|---|---|---|---|---|---|---|"]
    for n, r in res["sizes"].items():
        rows.append(f"| {n} | {r['kubectl_get_s']:.2f} | {r['tree_s']:.2f} | "
                    f"{r['tree_ratio']:.2f}× | {r['check_s']:.2f} | {r['check_ratio']:.2f}× | "
                    f"{r['requests']} | {r['peak_rss_mb']:.0f} |")
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
