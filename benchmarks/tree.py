"""One headless TUI session against a live cluster, measured from the inside.

Run as a child process by ``benchmarks.run`` so its peak RSS is its own:

    python -m benchmarks.tree --kubeconfig K --expect N [--updates-from FILE]

Prints one JSON line: when the tree held every Certificate (wall clock, so the
parent can include process start-up exactly as it does for kubectl), the number
of API requests the store made, and — in update mode — the latency from each API
write to the re-render of its node and the key-press response times measured
meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

from kubectl_certdoctor.app import CertDoctorApp
from kubectl_certdoctor.options import Options
from kubectl_certdoctor.source import LiveSource


def _tree_complete(app: CertDoctorApp, expect: int) -> bool:
    a = app.analysis
    if a is None:
        return False
    certs = sum(1 for n in a.graph.nodes.values() if n.ref.kind == "Certificate")
    ts = app.tree_screen
    return certs >= expect and ts is not None and ts.cert_tree.node_for(
        next(iter(a.graph.roots)).id) is not None


def _label_of(app: CertDoctorApp, node_id: str) -> str:
    tn = app.tree_screen.cert_tree.node_for(node_id)
    return str(tn.label) if tn is not None else ""


async def session(kubeconfig: str, expect: int, update_seconds: float,
                  marker_ns: str) -> dict[str, Any]:
    opts = Options(kubeconfig=kubeconfig, all_namespaces=True, request_timeout=60)
    source = LiveSource.connect(opts)
    app = CertDoctorApp(source, opts=opts)
    out: dict[str, Any] = {}
    async with app.run_test(size=(160, 48)) as pilot:
        while not _tree_complete(app, expect):
            await asyncio.sleep(0.005)
        await pilot.pause()
        out["tree_done_wall"] = time.time()
        out["requests_at_tree"] = source.store.request_count
        if update_seconds <= 0:
            return out
        # expand the benchmark namespace's issuer so updated nodes are real tree lines
        tree = app.tree_screen.cert_tree
        root_id = f"Issuer/{marker_ns}/bench-ca"
        root = tree.node_for(root_id)
        if root is not None:
            root.expand()
        await pilot.pause()
        out["ready_for_updates_wall"] = time.time()
        print(json.dumps({"ready": True}), flush=True)
        latencies: list[float] = []
        # where the time goes: API write → the watch event in our store, and from there
        # → the node's re-render (the benchmark's code wraps the store; ours is unchanged)
        arrived: dict[str, float] = {}
        watch_lat: list[float] = []
        pipeline_lat: list[float] = []
        store = source.store
        plain_put = store.put

        def put(kind: Any, obj: Any) -> None:
            plain_put(kind, obj)
            if kind.name == "Certificate":
                for c in (obj.get("status") or {}).get("conditions") or []:
                    m = str(c.get("message", "")).rsplit(" ", 1)[-1]
                    if m.startswith("mk"):
                        arrived.setdefault(m, time.time())

        store.put = put  # type: ignore[method-assign]
        keys: list[float] = []
        seen: dict[str, str] = {}
        deadline = time.time() + update_seconds + 5
        # the parent writes "<wall time> <certificate name> <marker>" lines to stdin
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), _stdin())
        pending: dict[str, tuple[float, str]] = {}

        async def read_writes() -> None:
            while True:
                line = await reader.readline()
                if not line:
                    return
                wall, name, marker = line.decode().split()
                pending[f"Certificate/{marker_ns}/{name}"] = (float(wall), marker)

        reader_task = asyncio.create_task(read_writes())
        storm_start = time.time()
        late: dict[str, int] = {}
        last_key = time.time()
        while time.time() < deadline and (not reader_task.done() or pending):
            for node_id, (wall, marker) in list(pending.items()):
                label = _label_of(app, node_id)
                if marker in label and seen.get(node_id) != marker:
                    now = time.time()
                    latencies.append(now - wall)
                    if now - wall > 0.25:  # when, in the storm, the slow ones happen
                        sec = str(int(wall - storm_start))
                        late[sec] = late.get(sec, 0) + 1
                    if marker in arrived:
                        watch_lat.append(arrived[marker] - wall)
                        pipeline_lat.append(now - arrived[marker])
                    seen[node_id] = marker
                    del pending[node_id]
            if time.time() - last_key > 0.2:
                before = tree.cursor_line
                t0 = time.perf_counter()
                # the same message a real key press posts; measured until the cursor moved
                app.simulate_key("j" if before % 2 == 0 else "k")
                while tree.cursor_line == before and time.perf_counter() - t0 < 5:
                    await asyncio.sleep(0.001)
                keys.append(time.perf_counter() - t0)
                last_key = time.time()
            await asyncio.sleep(0.002)
        reader_task.cancel()
        out["update_latencies"] = latencies
        out["update_late_by_second"] = late
        out["watch_latencies"] = watch_lat
        out["pipeline_latencies"] = pipeline_lat
        out["update_missed"] = len(pending)
        out["key_latencies"] = keys
        out["requests_after_updates"] = source.store.request_count
    return out


def _stdin() -> Any:
    import sys

    return sys.stdin


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--expect", type=int, required=True)
    p.add_argument("--update-seconds", type=float, default=0)
    p.add_argument("--namespace", default="bench")
    a = p.parse_args()
    res = asyncio.run(session(a.kubeconfig, a.expect, a.update_seconds, a.namespace))
    for k in ("update_latencies", "watch_latencies", "pipeline_latencies", "key_latencies"):
        if res.get(k):
            v = sorted(res[k])
            res[k + "_p50"] = statistics.median(v)
            res[k + "_p95"] = v[int(0.95 * (len(v) - 1))]
            res[k + "_n"] = len(v)
            del res[k]
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
