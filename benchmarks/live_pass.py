"""One live pass at N Certificates, in process (no API server): where update latency goes.

    python -m benchmarks.live_pass --n 10000 --updates 50            # (a) + (b), ~1 min
    python -m benchmarks.live_pass --n 10000 --updates 50 --profile  # + cProfile top 25
    python -m benchmarks.live_pass --n 2000 --updates 10 --storm 0   # short run
    python -m benchmarks.live_pass --n 10000 --noise                 # + the noisy cluster

The objects are the ones ``benchmarks.load`` writes to the API server (N chains under one
CA Issuer, 10 % with an Order and a pending 404 Challenge), built here as the store would
hold them (uids, owner references, statuses), in a small store twin that keeps a change log
like ``cluster.store.Store`` (so ``graph_patch.diff`` looks only at the changed keys).
Each update is what ``benchmarks.__main__``'s updater writes: a Certificate's Ready message
with a marker. Measured:

- (a) ``Analyser.update`` for one changed Certificate (snapshot included);
- (b) the UI thread's share in a headless ``App.run_test()``: ``CertDoctorApp._apply``
  (tree screen + ``CertTree.apply`` + header), then the queued messages and one screen
  update (compositor + paint) run synchronously;
- storm: ``--storm`` writes/s for ``--storm-seconds`` from a thread, through the app's own
  tick/gap loop: write → row label showing the marker, p50/p95 (the in-process part of the
  benchmark's "update write→render"; API → store is not in it).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import cProfile
import io
import pstats
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import load as L  # noqa: E402
from kubectl_certdoctor.analysis import Analyser  # noqa: E402
from kubectl_certdoctor.objects import Obj, ObjectSet  # noqa: E402
from kubectl_certdoctor.source import DataSource, SourceState  # noqa: E402

NS = "bench"
T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
#: judged an hour after the load: the failing 10 % are stuck by then (more findings)
NOW = T0 + timedelta(hours=1)


def build(n: int, noise: bool = False) -> list[Obj]:
    """The objects ``benchmarks.load.load(api, NS, n)`` leaves in the API server; with
    ``noise``, what the store holds of ``benchmarks.noise`` (20,000 Helm Secrets as
    metadata, the 2,500 Events about cert-manager kinds, 5,000 Services)."""
    stamp = T0.strftime("%Y-%m-%dT%H:%M:%SZ")
    out: list[Obj] = []
    seq = 0

    def finish(plural: str, body: Obj, status: Any, owner: Obj | None) -> Obj:
        nonlocal seq
        seq += 1
        o = copy.deepcopy(body)
        o["metadata"].update(uid=f"uid-{seq:08d}", creationTimestamp=stamp,
                             resourceVersion=str(seq))
        if owner is not None:
            o["metadata"]["ownerReferences"] = [{
                "apiVersion": owner["apiVersion"], "kind": owner["kind"],
                "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
                "controller": True, "blockOwnerDeletion": True}]
        o["status"] = copy.deepcopy(status)
        return o

    for _plural, _name, body, status in L.issuer(NS):
        out.append(finish("issuers", body, status, None))
    for i in range(n):
        made: dict[str, Obj] = {}
        for plural, name, body, status, owner in L.chain(NS, i, with_acme=i % 10 == 0):
            o = finish(plural, body, status, made.get(owner) if owner else None)
            made[name] = o
            out.append(o)
    if noise:
        import json

        from benchmarks import noise as N

        for i in range(20000):
            sec = json.loads(N.helm_secret(f"noise-{i % 50:02d}", i, 0))
            sec.pop("data")  # the store keeps metadata only
            out.append(sec)
        for i in range(0, 50000, 20):
            out.append(json.loads(N.event(i, 50, 20, NS, n)))
        for i in range(5000):
            out.append(json.loads(N.service(f"noise-{i % 50:02d}", i, i % 100 == 0)))
    return out


class MiniStore:
    """The store's snapshot/change-log contract (``cluster.store.Store``), in memory."""

    def __init__(self, objs: list[Obj]) -> None:
        self._lock = threading.Lock()
        self._objects: dict[str, dict[tuple[str, str], Obj]] = {}
        for o in objs:
            md = o["metadata"]
            self._objects.setdefault(o["kind"], {})[(md.get("namespace", ""), md["name"])] = o
        self.generation = 0
        self._log: list[tuple[int, str, tuple[str, str]]] = []

    def put(self, o: Obj) -> None:
        md = o["metadata"]
        key = (md.get("namespace", ""), md["name"])
        with self._lock:
            self.generation += 1
            self._objects.setdefault(o["kind"], {})[key] = o
            self._log.append((self.generation, o["kind"], key))

    def get(self, kind: str, name: str) -> Obj:
        return self._objects[kind][(NS, name)]

    def snapshot(self) -> ObjectSet:
        with self._lock:
            objs = {k: dict(v) for k, v in self._objects.items()}
            gen = self.generation
        return ObjectSet(objects=objs, source="live", generation=gen, changelog=self)

    def changes(self, since: int, until: int) -> dict[str, set[tuple[str, str]] | None]:
        with self._lock:
            out: dict[str, set[tuple[str, str]] | None] = {}
            for g, kind, key in self._log:
                if since < g <= until:
                    keys = out.setdefault(kind, set())
                    assert keys is not None
                    keys.add(key)
            return out


class StoreSource(DataSource):
    live = True
    read_only = True

    def __init__(self, store: MiniStore) -> None:
        super().__init__()
        self.store = store
        self.context = "bench"
        self.origin = "live"

    def snapshot(self) -> ObjectSet:
        return self.store.snapshot()

    def states(self) -> dict[str, SourceState]:
        return {}

    def write(self, o: Obj) -> None:
        self.store.put(o)
        self._notify(o["kind"])


def marked(store: MiniStore, i: int, marker: str) -> Obj:
    """What the benchmark's updater PATCHes: the Ready message of cert-NNNNN, with a marker."""
    c = dict(store.get("Certificate", f"cert-{i:05d}"))
    c["metadata"] = {**c["metadata"], "resourceVersion": marker}
    c["status"] = {"conditions": [{
        "type": "Ready", "status": "True", "reason": "Ready",
        "message": f"Certificate is up to date {marker}",
        "lastTransitionTime": T0.strftime("%Y-%m-%dT%H:%M:%SZ")}]}
    return c


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def ms(xs: list[float]) -> str:
    return (f"p50 {statistics.median(xs) * 1000:6.1f} ms  p95 {pct(xs, 0.95) * 1000:6.1f} ms  "
            f"max {max(xs) * 1000:6.1f} ms  (n={len(xs)})")


def analysis_only(n: int, updates: int, profile: bool, noise: bool) -> dict[str, Any]:
    store = MiniStore(build(n, noise))
    an = Analyser()
    t = time.perf_counter()
    first = an.update(store.snapshot(), {}, NOW)
    full_s = time.perf_counter() - t
    times: list[float] = []
    cpu: list[float] = []
    prof = cProfile.Profile() if profile else None
    for k in range(updates):
        store.put(marked(store, (k * 7919) % n, f"mk{k:06d}"))
        t = time.perf_counter()
        c = time.thread_time()
        if prof is not None:
            prof.enable()
        a = an.update(store.snapshot(), {}, NOW)
        if prof is not None:
            prof.disable()
        cpu.append(time.thread_time() - c)
        times.append(time.perf_counter() - t)
        assert a.changed is not None, "the update took the full path"
    print(f"N={n}: {len(first.graph.nodes)} nodes, {len(first.findings)} findings; "
          f"full analysis {full_s * 1000:.0f} ms", flush=True)
    print(f"(a) Analyser.update, one Certificate status:  {ms(times)}", flush=True)
    print(f"(a)   the same, CPU time of the thread:       {ms(cpu)}", flush=True)
    if prof is not None:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())
    return {"full_ms": full_s * 1000, "update": times}


async def ui(n: int, updates: int, storm: float, storm_seconds: float,
             profile: bool, noise: bool) -> dict[str, Any]:
    from kubectl_certdoctor.app import CertDoctorApp

    store = MiniStore(build(n, noise))
    src = StoreSource(store)
    app = CertDoctorApp(src, clock=lambda: NOW)
    res: dict[str, Any] = {}
    async with app.run_test(size=(160, 48)) as pilot:
        t = time.perf_counter()
        while app.generation < 1:
            await asyncio.sleep(0.01)
        await pilot.pause()
        print(f"first tree {time.perf_counter() - t:.1f} s", flush=True)
        tree = app.tree_screen.cert_tree
        root = tree.node_for(f"Issuer/{NS}/bench-ca")
        if root is not None and not root.is_expanded:
            root.expand()
        await pilot.pause()

        def label(i: int) -> str:
            tn = tree.node_for(f"Certificate/{NS}/cert-{i:05d}")
            return str(tn.label) if tn is not None else ""

        # (b) the app's own pieces, one write at a time (the tick stays idle: no notify)
        passes: list[float] = []
        applies: list[float] = []
        renders: list[float] = []
        cpu: list[float] = []
        prof = cProfile.Profile() if profile else None
        for k in range(updates):
            i = (k * 7919) % n
            marker = f"ui{k:06d}"
            store.put(marked(store, i, marker))
            c0 = time.thread_time()
            t0 = time.perf_counter()
            a = app._analyser.update(store.snapshot(), {}, NOW)
            t1 = time.perf_counter()
            if prof is not None:
                prof.enable()
            app._apply(a)
            t2 = time.perf_counter()
            # the messages the apply queued (call_later refreshes), then one screen update
            # as the update timer would run it (compositor + paint), synchronously
            await pilot._wait_for_screen()
            app.screen._on_timer_update()
            if prof is not None:
                prof.disable()
            t3 = time.perf_counter()
            cpu.append(time.thread_time() - c0)
            await pilot.pause()
            assert marker in label(i), label(i)
            passes.append(t1 - t0)
            applies.append(t2 - t1)
            renders.append(t3 - t2)
        print(f"(a) pass in the app:                  {ms(passes)}")
        print(f"(b) _apply (tree + header):           {ms(applies)}")
        print(f"(b) messages + screen update:         {ms(renders)}")
        both = [p + q + r for p, q, r in zip(passes, applies, renders, strict=True)]
        print(f"(a)+(b):                              {ms(both)}")
        print(f"(a)+(b), CPU time of the thread:      {ms(cpu)}", flush=True)
        res.update(passes=passes, applies=applies, renders=renders, total=both, cpu=cpu)
        if prof is not None:
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(30)
            print(out.getvalue())
        if storm <= 0:
            return res
        # the storm: writes from a thread at ``storm``/s through the app's tick and gap
        sent: dict[int, tuple[float, str]] = {}
        done = threading.Event()

        def writer() -> None:
            total = int(storm * storm_seconds)
            start = time.perf_counter()
            for k in range(total):
                delay = start + k / storm - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                i = (k * 7919 + 13) % n
                marker = f"st{k:06d}"
                sent[i] = (time.perf_counter(), marker)
                src.write(marked(store, i, marker))
            done.set()

        th = threading.Thread(target=writer, daemon=True)
        lat: list[float] = []
        th.start()
        deadline = time.perf_counter() + storm_seconds + 10
        while (not done.is_set() or sent) and time.perf_counter() < deadline:
            for i, (w, marker) in list(sent.items()):
                if marker in label(i):
                    lat.append(time.perf_counter() - w)
                    if sent.get(i, (0.0, ""))[1] == marker:
                        del sent[i]
            await asyncio.sleep(0.002)
        print(f"storm {storm:.0f}/s for {storm_seconds:.0f} s, write → row: {ms(lat)} "
              f"({len(sent)} missed)", flush=True)
        res["storm"] = lat
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--updates", type=int, default=50)
    ap.add_argument("--storm", type=float, default=100, help="writes/s (0: no storm)")
    ap.add_argument("--storm-seconds", type=float, default=10)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--noise", action="store_true",
                    help="add the noisy cluster's Secrets (metadata), Events and Services")
    ap.add_argument("--no-ui", action="store_true", help="measure (a) only")
    a = ap.parse_args()
    analysis_only(a.n, a.updates, a.profile, a.noise)
    if a.no_ui:
        return
    asyncio.run(ui(a.n, a.updates, a.storm, a.storm_seconds, a.profile, a.noise))


if __name__ == "__main__":
    main()
