"""The structures a live pass keeps so that one change costs its chain, not the cluster —
the sorted findings and ``by_object`` patched per object, the failing requests indexed per
issuer, the fallback judged per chain, an issuer's roll-up kept per child — give exactly
what a full analysis gives, on random changes to an issuer with many Certificates."""

from __future__ import annotations

import copy
import random
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_certdoctor import analysis
from kubectl_certdoctor.analysis import AGG_MIN, Analyser, Analysis, analyse
from kubectl_certdoctor.objects import Obj, ObjectSet
from tests.support.diagnosis import NOW, certificate, cond, issuer, request, ts
from tests.test_analysis_incremental import (
    NS,
    OPS,
    WEIGHTS,
    _pick,
    _replace,
    cluster,
    picture,
    snapshot,
)

#: more Certificates under the CA issuer than ``AGG_MIN``: its roll-up is kept per child
MANY = AGG_MIN + 16

CA_MESSAGES = (
    "Referenced secret shop/ca-key not found",
    "Error getting keypair for CA issuer: error decoding private key PEM block",
    "Error getting keypair for CA issuer: certificate is not a CA",
    "Waiting on certificate issuance from order",
    "CA down",
)


def wide_cluster() -> ObjectSet:
    objs = cluster()
    ca = issuer("ca", NS, spec={"ca": {"secretName": "ca-key"}})
    _replace(objs, ca)
    for i in range(MANY):
        c = f"m{i:03d}"
        failing = i % 7 == 0
        cert = certificate(c, NS, issuer="ca", ready="False" if failing else "True",
                           message="Issuing" if failing else "up to date")
        if failing and i % 2:  # in backoff: a finding on the child itself (ties to break)
            cert["status"] = {"conditions": [cond("Ready", "False", "Failed", "failed"),
                                             cond("Issuing", "False", "Failed", "failed")],
                              "failedIssuanceAttempts": 2,
                              "lastFailureTime": ts(-timedelta(minutes=30))}
        _replace(objs, cert)
        _replace(objs, request(f"{c}-1", c, NS, issuer="ca", conds=[
            cond("Approved", "True"),
            cond("Ready", "False", "Pending", CA_MESSAGES[i % len(CA_MESSAGES)]) if failing
            else cond("Ready", "True", "Issued", "ok")]))
    return objs


def op_ca_request(objs: ObjectSet, rnd: random.Random) -> None:
    """A request of the CA issuer fails with a message the issuer rules read (or heals)."""
    cr = _pick(objs, "CertificateRequest", rnd)
    if cr is None:
        return
    cr = copy.deepcopy(cr)
    cr["status"] = {"conditions": [
        cond("Approved", "True"),
        cond("Ready", "True", "Issued", "ok") if rnd.random() < 0.3 else
        cond("Ready", "False", "Pending", rnd.choice(CA_MESSAGES))]}
    _replace(objs, cr)


def op_stuck(objs: ObjectSet, rnd: random.Random) -> None:
    """A Certificate not Ready for hours with nothing below it to say why (the fallback),
    or Ready again."""
    c = _pick(objs, "Certificate", rnd)
    if c is None:
        return
    c = copy.deepcopy(c)
    if rnd.random() < 0.6:
        c["status"] = {"conditions": [{
            "type": "Ready", "status": "False", "reason": "Pending",
            "message": rnd.choice(["", "waiting"]),
            "lastTransitionTime": ts(-timedelta(hours=rnd.randrange(1, 5)))}]}
    else:
        c["status"] = {"conditions": [cond("Ready", "True", "Ready", "up to date")],
                       "notAfter": ts(timedelta(days=30)), "revision": 1}
    _replace(objs, c)


def op_new_ca_cert(objs: ObjectSet, rnd: random.Random) -> None:
    _replace(objs, certificate(f"n{rnd.randrange(500):03d}", NS, issuer="ca",
                               ready=rnd.choice(["True", "False"])))


WIDE_OPS = (*OPS, op_ca_request, op_stuck, op_new_ca_cert)
WIDE_WEIGHTS = (*WEIGHTS, 5, 4, 1)


def reference(a: Analysis) -> dict[str, Any]:
    """``rollups`` the plain way: every child of every node visited (no ``_Agg``)."""
    saved = analysis.AGG_MIN
    analysis.AGG_MIN = 10**9
    try:
        return rollups(a)
    finally:
        analysis.AGG_MIN = saved


def rollups(a: Analysis) -> dict[str, Any]:
    """What every row would show of what lies below it."""
    out: dict[str, Any] = {}
    for nid, n in a.graph.nodes.items():
        b = a.blocker(n)
        out[nid] = ((b[0].id, b[1].code, b[1].severity) if b is not None else None,
                    a.shown_status(n), a.is_problem(n))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=3),
                          st.booleans()), max_size=15))
def test_incremental_equals_full_with_many_certificates(
        batches: list[tuple[list[int], bool]]) -> None:
    objs = wide_cluster()
    an = Analyser()
    first = an.update(objs, {}, NOW)
    rollups(first)
    for batch, look in batches:
        objs = snapshot(objs)
        for seed in batch:
            rnd = random.Random(seed)
            rnd.choices(WIDE_OPS, WIDE_WEIGHTS)[0](objs, rnd)
        got = an.update(objs, {}, NOW)
        want = analyse(objs, {}, NOW)
        assert picture(got) == picture(want)
        assert [str(f.object) for f in got.findings] == [str(f.object) for f in want.findings]
        if look:  # the UI reads roll-ups of some analyses only: the rest carry them on
            assert rollups(got) == reference(want)
    if an.last is not None:
        assert rollups(an.last) == reference(analyse(objs, {}, NOW))


def _status(objs: ObjectSet, name: str, ready: str, message: str) -> Obj:
    c = copy.deepcopy(objs.objects["Certificate"][(NS, name)])
    c["status"] = {"conditions": [cond("Ready", ready, "Pending" if ready == "False"
                                       else "Ready", message)]}
    _replace(objs, c)
    return c


def test_one_change_rolls_up_from_the_changed_child_only() -> None:
    objs = wide_cluster()
    an = Analyser()
    a = an.update(objs, {}, NOW)
    root = a.graph.nodes[f"Issuer/{NS}/ca"]
    a.blocker(root)
    assert root.id in a.aggs
    objs = snapshot(objs)
    _status(objs, "m001", "False", "broken")
    b = an.update(objs, {}, NOW)
    assert an.patched == 1
    cid = f"Certificate/{NS}/m001"
    assert b.agg_from[root.id][1] == {cid}
    assert rollups(b) == reference(analyse(objs, {}, NOW))
    # not looked at for two analyses: the changed children add up
    objs = snapshot(objs)
    _status(objs, "m002", "True", "fine")
    c = an.update(objs, {}, NOW)
    objs = snapshot(objs)
    _status(objs, "m003", "True", "fine")
    d = an.update(objs, {}, NOW)
    assert root.id not in c.aggs
    assert d.agg_from[root.id][1] >= {f"Certificate/{NS}/m002", f"Certificate/{NS}/m003"}
    assert rollups(d) == reference(analyse(objs, {}, NOW))


def test_failing_requests_are_indexed_in_full_build_order() -> None:
    """The wide CA rules name the first failing request that matches: the index a live
    pass keeps lists an issuer's requests in the order a full build links them."""
    objs = wide_cluster()
    an = Analyser()
    an.update(objs, {}, NOW)
    rnd = random.Random(5)
    for _ in range(25):
        objs = snapshot(objs)
        op_ca_request(objs, rnd)
        got = an.update(objs, {}, NOW)
        want = analyse(objs, {}, NOW)
        ca = [f for f in got.findings if f.code.startswith("CA_ISSUER")]
        assert ca == [f for f in want.findings if f.code.startswith("CA_ISSUER")]
    assert an.patched == 25
