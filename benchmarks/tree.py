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
import contextlib
import json
import statistics
import time
from pathlib import Path
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
        out.update(_store_counters(source.store, "at_tree"))
        out.update(_scan_counters())
        # the tree shows before every watch has listed (the Secret metadata, Services and
        # Events of a noisy cluster come later): what the whole sync costs, and when it ends
        await asyncio.to_thread(source.store.synced.wait, 180)
        out["synced_wall"] = time.time()
        out.update(_store_counters(source.store, "at_synced"))
        out.update({k + "_at_synced": v for k, v in _scan_counters().items()})
        out["list_seconds"] = {k: round(v, 3) for k, v in _LIST_SECONDS.items()}
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
        out.update(_store_counters(source.store, "after_updates"))
        out.update(_scan_counters())
    return out


def _store_counters(store: Any, when: str) -> dict[str, Any]:
    """What the store counted: requests by verb, body bytes by watch, refused requests."""
    by_verb: dict[str, int] = {}
    for (_, verb), n in store.requests.items():
        by_verb[verb] = by_verb.get(verb, 0) + n
    by_watch: dict[str, int] = {}
    for (watch, verb), n in store.bytes_received.items():
        by_watch[f"{watch} {verb}"] = n
    return {f"requests_by_verb_{when}": by_verb,
            f"store_bytes_{when}": sum(by_watch.values()),
            f"store_bytes_by_watch_{when}": dict(sorted(by_watch.items(),
                                                        key=lambda kv: -kv[1])),
            f"forbidden_{when}": store.forbidden_requests}


# -- every body this process receives, scanned for the noise Secrets' canary -------------------

_SCAN = {"bodies": 0, "bytes": 0, "canary_b64": 0, "canary_raw": 0, "continue_pages": 0}
#: watch id → seconds from process start to the end of its first LIST
_LIST_SECONDS: dict[str, float] = {}
_PATTERNS: tuple[bytes, ...] = ()


def _scan(resp: Any, data: bytes) -> None:
    if not data:
        return
    _SCAN["bytes"] += len(data)
    tails = getattr(resp, "_bench_tails", None)
    if tails is None:
        _SCAN["bodies"] += 1
        if "continue=" in str(getattr(resp, "url", "") or ""):
            _SCAN["continue_pages"] += 1
        tails = resp._bench_tails = [b""] * len(_PATTERNS)
    for k, (p, name) in enumerate(zip(_PATTERNS, ("canary_b64", "canary_raw"), strict=True)):
        # matches inside ``data``, plus those straddling the previous read's end
        hits = data.count(p) + (tails[k] + data[:len(p) - 1]).count(p)
        _SCAN[name] += hits
        tails[k] = (tails[k] + data[-(len(p) - 1):])[-(len(p) - 1):]


def install_scanner() -> None:
    """Wrap urllib3's body reads (``.data``, ``read``, chunked streams): every byte any part
    of the tool receives passes here, decoded, and is scanned for the canary."""
    global _PATTERNS
    import urllib3.response as ur

    from benchmarks.noise import CANARY, CANARY_B64

    _PATTERNS = (CANARY_B64, CANARY)
    cls = ur.HTTPResponse
    plain_read, plain_chunked = cls.read, cls.read_chunked

    def read(self: Any, *a: Any, **kw: Any) -> bytes:
        data = plain_read(self, *a, **kw)
        _scan(self, data)
        return data

    def read_chunked(self: Any, *a: Any, **kw: Any) -> Any:
        for data in plain_chunked(self, *a, **kw):
            _scan(self, data)
            yield data

    cls.read = read  # type: ignore[method-assign]
    cls.read_chunked = read_chunked  # type: ignore[method-assign]


def _install_list_timer() -> None:
    """Record when each watch's first LIST ends (seconds since this process started)."""
    from kubectl_certdoctor.cluster.watch import KindWatcher

    started = _process_start()
    plain = KindWatcher._list

    def timed_list(self: Any) -> None:
        plain(self)
        _LIST_SECONDS.setdefault(self.kind.watch, time.time() - started)

    KindWatcher._list = timed_list  # type: ignore[method-assign]


def _process_start() -> float:
    """Wall time this process started (from /proc; the parent's clock starts at spawn)."""
    import os

    try:
        stat = Path(f"/proc/{os.getpid()}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        boot = next(float(x.split()[1]) for x in Path("/proc/stat").read_text().splitlines()
                    if x.startswith("btime"))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, StopIteration, IndexError):
        return time.time()


def _scan_counters() -> dict[str, Any]:
    return {"http_bodies": _SCAN["bodies"], "http_body_bytes": _SCAN["bytes"],
            "continue_pages": _SCAN["continue_pages"],
            "canary_hits_b64": _SCAN["canary_b64"], "canary_hits_raw": _SCAN["canary_raw"]}


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
    install_scanner()
    _install_list_timer()
    res = asyncio.run(session(a.kubeconfig, a.expect, a.update_seconds, a.namespace))
    for k in ("update_latencies", "watch_latencies", "pipeline_latencies", "key_latencies"):
        if res.get(k):
            v = sorted(res[k])
            res[k + "_p50"] = statistics.median(v)
            res[k + "_p95"] = v[int(0.95 * (len(v) - 1))]
            res[k + "_n"] = len(v)
            del res[k]
    line = json.dumps(res)
    # every run's full result also goes next to the kubeconfig (the parent keeps a summary)
    with contextlib.suppress(OSError), open(Path(a.kubeconfig).parent / "tree-results.jsonl",
                                            "a") as f:
        f.write(line + "\n")
    print(line, flush=True)


if __name__ == "__main__":
    main()
