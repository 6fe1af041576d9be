"""Fixes never crash on what a cluster or bundle may hold: every plan is a FixPlan or a
clear FixError, for the scenario library's findings and for malformed objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_certdoctor import fixes
from kubectl_certdoctor.errors import CertdoctorError
from kubectl_certdoctor.fixes.registry import FIXES, offers
from kubectl_certdoctor.objects import ObjectSet, Ref
from tests.support import fixes as f

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=8)


def _mangle(obj: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    cur: Any = obj
    for p in path[:-1]:
        nxt = cur.get(p) if isinstance(cur, dict) else None
        if not isinstance(nxt, dict):
            nxt = {}
            cur[p] = nxt
        cur = nxt
    cur[path[-1]] = value
    return obj


PATHS = [("status",), ("status", "conditions"), ("status", "revision"),
         ("metadata", "annotations"), ("metadata", "ownerReferences"), ("spec",),
         ("spec", "acme", "solvers"), ("spec", "template", "spec", "containers"),
         ("spec", "solver"), ("status", "state")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.integers(0, 6), path=st.sampled_from(PATHS), value=junk,
       fix_id=st.sampled_from(sorted(FIXES)))
def test_malformed_objects_give_fixerror_not_a_crash(which: int, path: tuple[str, ...],
                                                     value: Any, fix_id: str) -> None:
    objs = [f.certificate("web", "shop", issuing="False"),
            f.request("web-2", "shop", "web", 2),
            f.acme_issuer("acme", "shop"),
            f.challenge("web-2-1-9", "shop", "web-2-1"),
            f.order("web-2-1", "shop", "web-2"),
            f.controller("shop", env=f.proxy_env()),
            f.ingress_class("public")]
    objs[which] = _mangle(objs[which], path, value)
    s = ObjectSet.from_objects([f.served(o, i) for i, o in enumerate(objs)])
    targets = [Ref("Certificate", "shop", "web"), Ref("Issuer", "shop", "acme"),
               Ref("Challenge", "shop", "web-2-1-9"),
               Ref("Deployment", "shop", "cert-manager")]
    params = {"nameservers": "1.1.1.1:53"} if fix_id == "set-recursive-nameservers" else {}
    for t in targets:
        try:
            plan = fixes.plan(fix_id, s, t, params)
        except CertdoctorError:
            continue
        plan.preview()


def _scenario_names() -> list[str]:
    from kubectl_certdoctor import scenarios

    names = getattr(scenarios, "names", None)
    return list(names()) if callable(names) else []


@pytest.mark.parametrize("name", _scenario_names())
def test_every_offered_fix_plans_on_the_scenarios(name: str) -> None:
    from kubectl_certdoctor import scenarios
    from kubectl_certdoctor.graph import build_graph
    from kubectl_certdoctor.rules import run_rules

    objs = cast(Any, scenarios).load(name, NOW)  # the library may still be landing
    findings = run_rules(build_graph(objs, NOW), NOW)
    for finding in findings:
        for spec, target in offers(finding.code, objs, finding.object, read_only=False):
            params = ({"nameservers": "127.0.0.1:53"}
                      if spec.id == "set-recursive-nameservers" else {})
            try:
                plan = spec.plan(objs, target, params)
            except CertdoctorError as e:
                assert str(e), (finding.code, spec.id)
                continue
            assert plan.calls or plan.noop_reason or not spec.mutating, (finding.code, spec.id)
        assert offers(finding.code, objs, finding.object, read_only=True) == []


def _captured() -> list[str]:
    from pathlib import Path

    import kubectl_certdoctor.scenarios as sc

    d = Path(sc.__file__).parent / "captured"
    return sorted(str(p) for p in d.glob("*.yaml")) if d.is_dir() else []


@pytest.mark.parametrize("path", _captured(), ids=lambda p: p.rsplit("/", 1)[-1])
def test_offered_fixes_plan_on_objects_captured_from_cert_manager(path: str) -> None:
    """Objects a real cert-manager v1.21 wrote (the lab's captures): every fix offered for
    every finding plans cleanly, and mutating plans carry preconditions."""
    bundle = pytest.importorskip("kubectl_certdoctor.bundle")
    from kubectl_certdoctor.graph import build_graph
    from kubectl_certdoctor.rules import run_rules

    objs = bundle.load_bundle(path)
    findings = run_rules(build_graph(objs, NOW), NOW)
    for finding in findings:
        for spec, target in offers(finding.code, objs, finding.object, read_only=False):
            params = ({"nameservers": "127.0.0.1:53"}
                      if spec.id == "set-recursive-nameservers" else {})
            try:
                plan = spec.plan(objs, target, params)
            except CertdoctorError as e:
                assert str(e)
                continue
            for call in plan.calls:
                assert call.precondition, (spec.id, call.summary())
                assert call.path.startswith(("/api/", "/apis/"))
            plan.preview()


SEED_PLANS = {
    # seed 001: the solver's class differed from the site's (MicroK8s "public")
    ("solver-ingress-class", "HTTP01_WRONG_INGRESS_CLASS", "set-solver-ingress-class"):
        ("PATCH", "ClusterIssuer"),
    # seed 002: a Failed request blocks renewal until deleted and renewed
    ("failed-request-blocks-renewal", "CERTIFICATE_REQUEST_FAILED", "clear-failed-requests"):
        ("DELETE", "CertificateRequest", "PUT", "Certificate"),
    # seed 003: Vault 403 stuck Pending; Issuing already True, so no renew
    ("vault-403-old-cert-manager", "VAULT_PERMISSION_DENIED_NOT_RETRIED",
     "clear-failed-requests"): ("DELETE", "CertificateRequest"),
    ("vault-403-old-cert-manager", "VAULT_PERMISSION_DENIED_NOT_RETRIED", "renew"): (),
    # seed 004: a cluster-wide proxy without the in-cluster destinations in NO_PROXY
    ("acme-egress-proxy", "PROXY_NO_PROXY_GAP", "add-no-proxy"): ("PATCH", "Deployment"),
}


@pytest.mark.parametrize("key", sorted(SEED_PLANS), ids=lambda k: f"{k[0]}:{k[2]}")
def test_seed_scenarios_get_the_fix_their_reports_needed(key: tuple[str, str, str]) -> None:
    from kubectl_certdoctor import scenarios
    from kubectl_certdoctor.graph import build_graph
    from kubectl_certdoctor.rules import run_rules

    name, code, fix_id = key
    objs = cast(Any, scenarios).load(name, NOW)
    found = [fd for fd in run_rules(build_graph(objs, NOW), NOW) if fd.code == code]
    assert found, f"{name} has no {code}"
    offered = {s.id: t for s, t in offers(code, objs, found[0].object, read_only=False)}
    assert fix_id in offered
    plan = FIXES[fix_id].plan(objs, offered[fix_id], {})
    got: tuple[str, ...] = ()
    for c in plan.calls:
        got += (c.method, c.ref.kind)
    assert got == SEED_PLANS[key]
    if fix_id == "renew":
        assert "Issuing is already True" in plan.noop_reason
        assert plan.suggest == ["clear-failed-requests"]
