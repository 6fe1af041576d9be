"""HeapKeeper: what is alive after a picture is shown leaves the collector's view; a sweep
runs at most once per interval; release hands everything back."""

from __future__ import annotations

import gc

from kubectl_certdoctor.heap import HeapKeeper


def test_freeze_sweep_release() -> None:
    now = [100.0]
    hk = HeapKeeper(interval=60, clock=lambda: now[0])
    try:
        keep = [{"x": i} for i in range(1000)]
        hk.settled()
        frozen = gc.get_freeze_count()
        assert frozen >= len(keep) and hk.sweeps == 0
        # cyclic garbage made while frozen waits for the next sweep
        a: dict[str, object] = {}
        a["self"] = a
        del a
        now[0] += 30
        hk.settled()
        assert hk.sweeps == 0
        now[0] += 31
        hk.settled()
        assert hk.sweeps == 1 and gc.get_freeze_count() > 0
    finally:
        hk.release()
    assert gc.get_freeze_count() == 0 and not hk.active
    del keep
