"""The incremental analysis (``Analyser`` + ``graph_patch``) gives exactly what a full
``analyse`` gives, on random sequences of creates, updates and deletes — and it really
takes the fast path for the changes a watch storm is made of."""

from __future__ import annotations

import copy
import random
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_certdoctor.analysis import Analyser, Analysis, analyse
from kubectl_certdoctor.objects import Obj, ObjectSet, name, namespace
from tests.support.diagnosis import (
    NOW,
    certificate,
    challenge,
    cond,
    event,
    issuer,
    order,
    request,
    ts,
)

NS = "shop"
REASONS_404 = ("Waiting for HTTP-01 challenge propagation: wrong status code '404', "
               "expected '200'")
REASON_TIMEOUT = ("Waiting for HTTP-01 challenge propagation: failed to perform self check "
                  "GET request 'http://a.test/.well-known/acme-challenge/tok': Get "
                  "\"http://a.test/.well-known/acme-challenge/tok\": dial tcp 203.0.113.9:80: "
                  "i/o timeout")


def cluster() -> ObjectSet:
    objs: list[Obj] = [
        issuer("ca", NS),
        issuer("le", None, spec={"acme": {"server": "https://acme.test/dir",
                                          "privateKeySecretRef": {"name": "le-key"}}}),
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "cert-manager", "namespace": "cert-manager",
                      "labels": {"app.kubernetes.io/name": "cert-manager"}},
         "spec": {"template": {"spec": {"containers": [{
             "name": "cert-manager-controller",
             "image": "quay.io/jetstack/cert-manager-controller:v1.15.0",
             "args": ["--cluster-resource-namespace=cert-manager"]}]}}}},
    ]
    for i in range(6):
        c = f"c{i}"
        acme = i % 2 == 0
        iss, kind = ("le", "ClusterIssuer") if acme else ("ca", "Issuer")
        objs.append(certificate(c, NS, issuer=iss, kind=kind, dns=(f"{c}.test",)))
        objs.append(request(f"{c}-1", c, NS, issuer=iss, kind=kind))
        if acme:
            objs.append(order(f"{c}-1-o", f"{c}-1", NS, issuer=iss, kind=kind))
            objs.append(challenge(f"{c}-1-o-ch", f"{c}-1-o", NS, issuer=iss, kind=kind,
                                  host=f"{c}.test", reason=REASONS_404))
    return ObjectSet.from_objects(objs, source="test")


def snapshot(objs: ObjectSet) -> ObjectSet:
    """What the live store hands out: a new two-level copy, unchanged objects shared."""
    return ObjectSet(objects={k: dict(v) for k, v in objs.objects.items()}, source="test")


def _pick(objs: ObjectSet, kind: str, rnd: random.Random) -> Obj | None:
    items = sorted(objs.objects.get(kind, {}).items())
    return rnd.choice(items)[1] if items else None


def _replace(objs: ObjectSet, o: Obj) -> None:
    objs.objects.setdefault(o["kind"], {})[(namespace(o), name(o))] = o


def _children(objs: ObjectSet, kind: str, owner_name: str) -> list[Obj]:
    return [o for o in objs.of_kind(kind)
            if any(r.get("name") == owner_name for r in o["metadata"].get("ownerReferences", []))
            or o["metadata"].get("annotations", {}).get(
                "cert-manager.io/certificate-name") == owner_name]


def op_cert_status(objs: ObjectSet, rnd: random.Random) -> None:
    c = _pick(objs, "Certificate", rnd)
    if c is None:
        return
    c = copy.deepcopy(c)
    choice = rnd.randrange(4)
    if choice == 0:
        c["status"] = {"conditions": [cond("Ready", "True", "Ready", "up to date")],
                       "notAfter": ts(timedelta(days=rnd.randrange(1, 90))), "revision": 1}
    elif choice == 1:
        c["status"] = {"conditions": [cond("Ready", "False", "Failed", "issuance failed"),
                                      cond("Issuing", "False", "Failed", "failed")],
                       "failedIssuanceAttempts": rnd.randrange(1, 5),
                       "lastFailureTime": ts(-timedelta(minutes=rnd.randrange(1, 90)))}
    elif choice == 2:
        c["status"] = {"conditions": [cond("Issuing", "True", "ManuallyTriggered", "renew")]}
    else:
        c["status"] = {"conditions": [cond("Ready", "True", "Ready", "up to date")],
                       "notAfter": ts(-timedelta(days=1)), "revision": 1}
    _replace(objs, c)


def op_request_status(objs: ObjectSet, rnd: random.Random) -> None:
    cr = _pick(objs, "CertificateRequest", rnd)
    if cr is None:
        return
    cr = copy.deepcopy(cr)
    cr["status"] = rnd.choice([
        {"conditions": [cond("Approved", "True"), cond("Ready", "False", "Failed", "CA down")],
         "failureTime": ts()},
        {"conditions": [cond("Approved", "True"), cond("Ready", "False", "Pending",
                                                      "Failed to initialise vault client for "
                                                      "signing: permission denied")]},
        {"conditions": [cond("Denied", "True", "Policy", "not allowed")]},
        {"conditions": []},
        {"conditions": [cond("Approved", "True"), cond("Ready", "True", "Issued", "ok")]},
    ])
    _replace(objs, cr)


def op_acme_status(objs: ObjectSet, rnd: random.Random) -> None:
    kind = rnd.choice(["Order", "Challenge"])
    o = _pick(objs, kind, rnd)
    if o is None:
        return
    o = copy.deepcopy(o)
    if kind == "Order":
        o["status"] = rnd.choice([{"state": "pending"}, {"state": "valid"},
                                  {"state": "errored", "reason": "urn:ietf:params:acme:error:"
                                   "rateLimited: too many certificates, retry after "
                                   "2026-11-24 07:00:00 UTC"},
                                  {"state": "invalid", "reason": "authorization failed"}])
    else:
        o["status"] = {"state": rnd.choice(["pending", "valid", "invalid"]),
                       "reason": rnd.choice([REASONS_404, REASON_TIMEOUT, ""]),
                       "presented": True, "processing": True}
    _replace(objs, o)


def op_add_request(objs: ObjectSet, rnd: random.Random) -> None:
    c = _pick(objs, "Certificate", rnd)
    if c is None:
        return
    revs = [int(r["metadata"]["annotations"]["cert-manager.io/certificate-revision"])
            for r in _children(objs, "CertificateRequest", name(c))]
    rev = max(revs, default=0) + 1
    iss = c["spec"]["issuerRef"]
    cr = request(f"{name(c)}-{rev}", name(c), NS, revision=rev, issuer=iss["name"],
                 kind=iss["kind"], by_annotation=rnd.random() < 0.3,
                 conds=[cond("Approved", "True"), cond("Ready", "False", "Pending", "wait")])
    _replace(objs, cr)


def op_add_acme(objs: ObjectSet, rnd: random.Random) -> None:
    if rnd.random() < 0.5:
        cr = _pick(objs, "CertificateRequest", rnd)
        if cr is not None:
            _replace(objs, order(f"{name(cr)}-o{rnd.randrange(100)}", name(cr), NS))
    else:
        o = _pick(objs, "Order", rnd)
        if o is not None:
            _replace(objs, challenge(f"{name(o)}-ch{rnd.randrange(100)}", name(o), NS,
                                     reason=rnd.choice([REASONS_404, REASON_TIMEOUT])))


def op_delete_leaf(objs: ObjectSet, rnd: random.Random) -> None:
    kind = rnd.choice(["Challenge", "Order", "CertificateRequest", "Certificate"])
    o = _pick(objs, kind, rnd)
    if o is None:
        return
    child = {"Order": "Challenge", "CertificateRequest": "Order",
             "Certificate": "CertificateRequest"}.get(kind)
    if child and _children(objs, child, name(o)) and rnd.random() < 0.8:
        return  # mostly leaves; sometimes a parent, which leaves orphans behind
    objs.remove(kind, namespace(o), name(o))


def op_add_certificate(objs: ObjectSet, rnd: random.Random) -> None:
    k = rnd.randrange(1000)
    iss, kind = rnd.choice([("ca", "Issuer"), ("le", "ClusterIssuer"), ("nope", "Issuer")])
    _replace(objs, certificate(f"n{k}", NS, issuer=iss, kind=kind, ready="False"))


def op_relink(objs: ObjectSet, rnd: random.Random) -> None:
    c = _pick(objs, "Certificate", rnd)
    if c is None:
        return
    c = copy.deepcopy(c)
    c["spec"]["issuerRef"] = rnd.choice([{"name": "ca", "kind": "Issuer"},
                                         {"name": "le", "kind": "ClusterIssuer"}])
    _replace(objs, c)


def op_secret(objs: ObjectSet, rnd: random.Random) -> None:
    c = _pick(objs, "Certificate", rnd)
    if c is None:
        return
    sec = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
           "metadata": {"name": c["spec"]["secretName"], "namespace": NS,
                        "annotations": {"cert-manager.io/issuer-name":
                                        rnd.choice(["ca", "le", "other"])}},
           "data": {"tls.crt": rnd.choice(["", "bm90IGEgY2VydA=="])}}
    if rnd.random() < 0.3:
        objs.remove("Secret", NS, sec["metadata"]["name"])
    else:
        _replace(objs, sec)


def op_event(objs: ObjectSet, rnd: random.Random) -> None:
    kind, nm, ns = rnd.choice([("Certificate", "c1", NS), ("ClusterIssuer", "le", ""),
                               ("Challenge", "c0-1-o-ch", NS)])
    _replace(objs, event(f"ev{rnd.randrange(5)}", NS, kind, nm, ns, "something happened",
                         -timedelta(minutes=rnd.randrange(60))))


def op_dns01_present_error(objs: ObjectSet, rnd: random.Random) -> None:
    """A Challenge turned DNS-01 whose reason is redacted (v1.20+), and the PresentError
    Event that carries the provider's text: chain rules read both, so the Event alone must
    re-judge the chain."""
    ch = copy.deepcopy(_pick(objs, "Challenge", rnd) or {})
    if ch:
        ch["spec"]["type"] = "DNS-01"
        ch["spec"]["solver"] = {"dns01": {"route53": {"region": "eu-west-1"}}}
        ch["status"].update(presented=False, reason="error presenting challenge: "
                            "<redacted AWS SDK error: see events and logs for details>")
        _replace(objs, ch)
        msg = rnd.choice(["Error presenting challenge: AccessDenied: User: arn:aws:iam::1:user/x "
                          "is not authorized to perform: route53:ChangeResourceRecordSets",
                          "Error presenting challenge: InvalidClientTokenId: The security "
                          "token included in the request is invalid."])
        _replace(objs, event("ev-present", NS, "Challenge", ch["metadata"]["name"], NS, msg,
                             -timedelta(minutes=rnd.randrange(30)), reason="PresentError"))


def op_solver_pod(objs: ObjectSet, rnd: random.Random) -> None:
    """The solver Pod of a Challenge comes, fails to pull its image, or goes."""
    ch = _pick(objs, "Challenge", rnd)
    if ch is None:
        return
    name_ = f"cm-acme-http-solver-{ch['metadata']['name'][-6:]}"
    if rnd.random() < 0.3:
        objs.remove("Pod", NS, name_)
        return
    waiting = rnd.choice(["ImagePullBackOff", "ErrImagePull", ""])
    state = {"waiting": {"reason": waiting, "message": "Back-off pulling image"}} \
        if waiting else {"running": {"startedAt": "2026-11-23T06:00:00Z"}}
    _replace(objs, {"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": name_, "namespace": NS, "uid": f"uid-{name_}",
        "creationTimestamp": "2026-11-23T05:00:00Z",
        "labels": {"acme.cert-manager.io/http01-solver": "true"},
        "ownerReferences": [{"kind": "Challenge", "name": ch["metadata"]["name"],
                             "uid": ch["metadata"]["uid"], "controller": True}]},
        "spec": {"containers": [{"name": "acmesolver",
                                 "image": "quay.io/jetstack/cert-manager-acmesolver:v1.15.0"}]},
        "status": {"phase": "Pending" if waiting else "Running", "containerStatuses": [{
            "name": "acmesolver", "ready": not waiting, "restartCount": 0, "image": "x",
            "imageID": "", "state": state}]}})


def op_issuer(objs: ObjectSet, rnd: random.Random) -> None:
    i = copy.deepcopy(_pick(objs, rnd.choice(["Issuer", "ClusterIssuer"]), rnd) or {})
    if i:
        i["status"] = {"conditions": [cond("Ready", rnd.choice(["True", "False"]),
                                           "ErrVerifyACMEAccount",
                                           "Failed to verify ACME account: context deadline "
                                           "exceeded")]}
        _replace(objs, i)


OPS = (op_cert_status, op_request_status, op_acme_status, op_add_request, op_add_acme,
       op_delete_leaf, op_add_certificate, op_relink, op_secret, op_event, op_issuer,
       op_dns01_present_error, op_solver_pod)
#: weights: mostly what a watch storm is made of (status updates)
WEIGHTS = (6, 4, 4, 2, 2, 2, 1, 1, 2, 2, 1, 2, 2)


def picture(a: Analysis) -> dict[str, Any]:
    """Everything a screen or ``check`` could show, in a comparable form."""
    g = a.graph
    nodes = {i: (n.ref, n.status, n.reason, n.age, n.parent_id, [c.id for c in n.children],
                 n.obj is g.objs.get(n.ref.kind, n.ref.namespace, n.ref.name)
                 if n.obj is not None else None)
             for i, n in g.nodes.items()}
    findings = sorted((f.code, str(f.object), f.severity.name, f.title, f.explanation,
                       tuple(f.evidence), repr(sorted(f.data.items(), key=str)))
                      for f in a.findings)
    by_kind = {k: sorted(n.id for n in g.of_kind(k)) for k in
               ("Issuer", "ClusterIssuer", "Certificate", "CertificateRequest", "Order",
                "Challenge")}
    related = {i: g.related(n.ref) for i, n in g.nodes.items() if n.obj is not None}
    events = {i: [e["metadata"]["name"] for e in g.events_for(n.ref)]
              for i, n in g.nodes.items()}
    return {"roots": [r.id for r in g.roots], "nodes": nodes, "findings": findings,
            "counts": dict(a.counts), "by_kind": by_kind, "related": related,
            "events": events, "latest": dict(g.latest_requests),
            "worst": {str(r): fs[0].code for r, fs in a.by_object.items()},
            "version": a.version}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=3), max_size=20))
def test_incremental_equals_full_on_random_changes(batches: list[list[int]]) -> None:
    objs = cluster()
    an = Analyser()
    an.update(objs, {}, NOW)
    for batch in batches:
        objs = snapshot(objs)
        for seed in batch:
            rnd = random.Random(seed)
            rnd.choices(OPS, WEIGHTS)[0](objs, rnd)
        got = an.update(objs, {}, NOW)
        want = analyse(objs, {}, NOW)
        assert picture(got) == picture(want)


def _subtree_ids(a: Analysis, node_id: str) -> set[str]:
    out, stack = set(), [a.graph.nodes[node_id]]
    while stack:
        n = stack.pop()
        out.add(n.id)
        stack.extend(n.children)
    return out


def test_status_storm_takes_the_fast_path_and_names_what_changed() -> None:
    objs = cluster()
    an = Analyser()
    first = an.update(objs, {}, NOW)
    assert first.changed is None and an.full == 1
    for k in range(20):
        cid = f"Certificate/{NS}/c{k % 6}"
        objs = snapshot(objs)
        c = copy.deepcopy(objs.objects["Certificate"][(NS, f"c{k % 6}")])
        c["status"]["conditions"][0]["message"] = f"update {k}"
        _replace(objs, c)
        a = an.update(objs, {}, NOW)
        root = a.graph.nodes[cid].parent_id
        assert a.changed == _subtree_ids(a, cid) | {root}
        assert a.graph.nodes[cid].obj is c
    assert an.full == 1 and an.patched == 20


def test_clean_chains_are_shared_and_old_graphs_never_change() -> None:
    objs = cluster()
    an = Analyser()
    before = an.update(objs, {}, NOW)
    root_kids = [c.id for c in before.graph.nodes["ClusterIssuer/le"].children]
    objs = snapshot(objs)
    c = copy.deepcopy(objs.objects["Certificate"][(NS, "c2")])
    c["status"] = {"conditions": [cond("Ready", "False", "Failed", "broken")]}
    _replace(objs, c)
    op_add_certificate(objs, random.Random(7))
    after = an.update(objs, {}, NOW)
    assert an.patched == 1
    # the untouched chain is the very same node; the changed one is new
    assert after.graph.nodes["Certificate/shop/c0"] is before.graph.nodes["Certificate/shop/c0"]
    assert after.graph.nodes["Certificate/shop/c2"] is not before.graph.nodes[
        "Certificate/shop/c2"]
    # the graph the UI may still be showing is untouched
    assert [c.id for c in before.graph.nodes["ClusterIssuer/le"].children] == root_kids
    assert before.graph.nodes["Certificate/shop/c2"].reason != "broken"


def test_what_the_patch_declines_is_built_in_full() -> None:
    objs = cluster()
    an = Analyser()
    an.update(objs, {}, NOW)
    objs = snapshot(objs)
    op_issuer(objs, random.Random(1))
    a = an.update(objs, {}, NOW)
    assert a.changed is None and an.full == 2
    # a deleted Certificate that still has requests leaves orphans: full build
    objs = snapshot(objs)
    objs.remove("Certificate", NS, "c1")
    a = an.update(objs, {}, NOW)
    assert an.full == 3 and "orphans" in a.graph.nodes
    # a new Certificate could adopt those orphans: full build again
    objs = snapshot(objs)
    _replace(objs, certificate("c1", NS, issuer="ca"))
    a = an.update(objs, {}, NOW)
    assert an.full == 4 and "orphans" not in a.graph.nodes
    # update(full=True) always recomputes (the clock tick, r)
    an.update(objs, {}, NOW, full=True)
    assert an.full == 5


def test_time_refresh_rejudges_every_chain_in_batches_without_a_full_pass() -> None:
    """The clock moves: a backoff's "next retry in" shrinks. A rolling refresh gets there
    in batches of TIME_BATCH chains, each batch a patch, never a full analysis."""
    objs = cluster()
    for i in range(6):
        c = copy.deepcopy(objs.objects["Certificate"][(NS, f"c{i}")])
        c["status"] = {"conditions": [cond("Ready", "False", "Failed", "failed")],
                       "failedIssuanceAttempts": 1, "lastFailureTime": ts(-timedelta(minutes=5))}
        _replace(objs, c)
    an = Analyser()
    an.TIME_BATCH = 4
    an.update(objs, {}, NOW)
    later = NOW + timedelta(minutes=20)
    assert not an.refreshing
    an.refresh_time()
    assert an.refreshing
    passes = 0
    while an.refreshing:
        a = an.update(snapshot(objs), {}, later)
        passes += 1
    assert passes == 2 and an.full == 1 and an.patched == 2
    assert picture(a) == picture(analyse(objs, {}, later))
    assert "next retry in 35m" in a.graph.nodes[f"Certificate/{NS}/c0"].reason
