"""The store's change log: a snapshot diff that asks the log about the keys it names is
exactly the diff that compares every object — on random puts, deletes and relists."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_certdoctor.cluster.changelog import ChangeLog
from kubectl_certdoctor.cluster.store import Store
from kubectl_certdoctor.graph_patch import diff
from kubectl_certdoctor.kinds import BY_NAME
from kubectl_certdoctor.objects import ObjectSet
from tests.support.diagnosis import certificate, request

CERT, CR = BY_NAME["Certificate"], BY_NAME["CertificateRequest"]


def store() -> Store:
    conn: Any = SimpleNamespace(context="test", request_timeout=5.0)
    return Store(conn, None, kinds=(CERT, CR))


def norm(d: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Changes in key order (the order of a kind's changes carries no meaning)."""
    return {k: sorted(v, key=lambda c: c[0]) for k, v in d.items()}


def plain(objs: ObjectSet) -> ObjectSet:
    """The same snapshot without its change log: diff compares everything."""
    return ObjectSet(objects=objs.objects, source=objs.source)


def test_log_names_keys_and_whole_kinds_and_forgets_old_history() -> None:
    log = ChangeLog()
    log.LIMIT = 4
    log.record(1, "Certificate", ("ns", "a"))
    log.record(2, "Certificate", ("ns", "b"))
    log.record(3, "CertificateRequest", None)
    assert log.between(0, 3) == {"Certificate": {("ns", "a"), ("ns", "b")},
                                 "CertificateRequest": None}
    assert log.between(1, 2) == {"Certificate": {("ns", "b")}}
    assert log.between(3, 3) == {}
    for g in range(4, 9):
        log.record(g, "Certificate", ("ns", f"x{g}"))
    assert log.between(0, 8) is None  # forgotten: the caller compares everything
    assert log.between(7, 8) == {"Certificate": {("ns", "x8")}}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=40))
def test_diff_with_the_log_equals_the_full_diff(seeds: list[int]) -> None:
    s = store()
    s.replace(CERT, [certificate(f"c{i}") for i in range(5)])
    s.replace(CR, [request(f"c{i}-1", f"c{i}") for i in range(5)])
    before = s.snapshot()
    for seed in seeds:
        rnd = random.Random(seed)
        op = rnd.randrange(5)
        i = rnd.randrange(8)
        if op == 0:
            s.put(CERT, certificate(f"c{i}", message=f"m{seed}"))
        elif op == 1:
            s.delete(CERT, certificate(f"c{i}"))
        elif op == 2:
            s.put(CR, request(f"c{i}-1", f"c{i}"))
        elif op == 3:
            s.replace(CR, [request(f"c{j}-1", f"c{j}") for j in range(rnd.randrange(6))])
        else:
            after = s.snapshot()
            assert s.changes(before.generation, after.generation) is not None  # the log path
            assert norm(diff(before, after)) == norm(diff(plain(before), plain(after)))
            before = after
    after = s.snapshot()
    assert norm(diff(before, after)) == norm(diff(plain(before), plain(after)))
