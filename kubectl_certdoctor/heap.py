"""Keep Python's cyclic garbage collector from pausing the UI.

With 10,000 Certificates the heap holds about a million tracked containers (the JSON
dicts of every object, graph nodes, tree rows). A full (generation 2) collection walks
all of them and stops the UI thread for 200–400 ms, several times a minute during a watch
storm; measured, it was the largest part of the update latency's tail.

``HeapKeeper.settled()`` runs after each analysis is shown: ``gc.freeze()`` moves
everything alive into the permanent generation, which collections skip. Frozen objects
are still freed by reference counting the moment they are dropped (objects, nodes and
findings hold no cycles); only cyclic garbage made since the last sweep waits for the
next one, a full collection at most every ``interval`` seconds — one bounded pause a
minute instead of several unbounded ones. ``release()`` hands everything back to the
collector when the app ends, so an embedding process (the tests) loses nothing.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

SWEEP_INTERVAL = 60.0


class HeapKeeper:
    def __init__(self, interval: float = SWEEP_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self._last_sweep = clock()
        self.sweeps = 0
        self.active = False

    def settled(self) -> None:
        """The UI shows a new picture: freeze what is alive (sweep first when due)."""
        now = self.clock()
        if now - self._last_sweep >= self.interval:
            gc.unfreeze()
            gc.collect()
            self._last_sweep = now
            self.sweeps += 1
        gc.freeze()
        self.active = True

    def release(self) -> None:
        """Return every frozen object to the collector (the app is closing)."""
        if self.active:
            gc.unfreeze()
            self.active = False
