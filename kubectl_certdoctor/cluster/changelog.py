"""Which objects changed between two generations of the store.

The incremental analysis compares each new snapshot with the previous one. Comparing
every object costs O(objects) per pass — at 10,000 Certificates more than the rest of
the pass; the store already knows what it changed, so it records it here and a pass
asks only about those keys (``graph_patch.diff``). A LIST (relist, 410 Gone, a kind
turning forbidden) records "the whole kind". The log keeps the last ``LIMIT`` changes;
a consumer further behind gets None and compares everything, which is always correct.
"""

from __future__ import annotations

import bisect

Key = tuple[str, str]
#: kind → the keys that changed, or None when the whole kind may have changed
Changes = dict[str, set[Key] | None]


class ChangeLog:
    LIMIT = 100_000

    def __init__(self) -> None:
        self._gens: list[int] = []
        self._entries: list[tuple[str, Key | None]] = []
        #: changes at or below this generation are forgotten
        self._floor = -1

    def record(self, generation: int, kind: str, key: Key | None) -> None:
        """One change (``key`` None: the whole kind), at a generation never lower than
        the last one recorded. The caller serialises calls (the store's lock)."""
        self._gens.append(generation)
        self._entries.append((kind, key))
        if len(self._gens) > self.LIMIT:
            cut = self.LIMIT // 2
            self._floor = self._gens[cut - 1]
            del self._gens[:cut], self._entries[:cut]

    def between(self, since: int, until: int) -> Changes | None:
        """What changed after generation ``since`` up to ``until`` (None: forgotten)."""
        if since < self._floor or until < since:
            return None
        i = bisect.bisect_right(self._gens, since)
        j = bisect.bisect_right(self._gens, until)
        out: Changes = {}
        for kind, key in self._entries[i:j]:
            if key is None:
                out[kind] = None
            elif kind not in out:
                out[kind] = {key}
            else:
                keys = out[kind]
                if keys is not None:
                    keys.add(key)
        return out
