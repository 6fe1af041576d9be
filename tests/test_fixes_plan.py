"""``plan()`` of every fix, pure: exact calls, bodies, diffs, warnings, no-ops."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kubectl_certdoctor import fixes
from kubectl_certdoctor.errors import ReadOnlyError
from kubectl_certdoctor.fixes.model import FixError, apply_json_patch, confirmation
from kubectl_certdoctor.fixes.registry import FIXES, fixes_for_code
from kubectl_certdoctor.noproxy import proxy_for
from kubectl_certdoctor.objects import ObjectSet, Ref, condition
from tests.support import fixes as f

NOW = datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC)
NS = "shop"


def objset(*objs: dict[str, Any]) -> ObjectSet:
    return ObjectSet.from_objects([f.served(o, i, generation=3) for i, o in enumerate(objs, 1)])


def cert_uid(objs: ObjectSet, name: str = "web") -> str:
    c = objs.get("Certificate", NS, name)
    assert c is not None
    return str(c["metadata"]["uid"])


def with_cert_owner(objs: ObjectSet, name: str = "web") -> ObjectSet:
    """Point the requests' owner references at the Certificate's uid (as cert-manager does)."""
    uid = cert_uid(objs, name)
    for cr in objs.of_kind("CertificateRequest"):
        cr["metadata"]["ownerReferences"][0]["uid"] = uid
    return objs


# -- renew -----------------------------------------------------------------------------


def test_renew_is_cmctls_status_update() -> None:
    objs = objset(f.certificate("web", NS, issuing=None, revision=1))
    plan = fixes.plan("renew", objs, Ref("Certificate", NS, "web"), {"now": NOW})
    assert [c.method for c in plan.calls] == ["PUT"]
    call = plan.calls[0]
    assert call.path == f"/apis/cert-manager.io/v1/namespaces/{NS}/certificates/web/status"
    assert (call.verb, call.resource, call.subresource) == ("update", "certificates", "status")
    assert call.body["metadata"]["resourceVersion"] == call.precondition != ""
    cond = condition(call.body, "Issuing")
    assert cond == {"type": "Issuing", "status": "True", "lastTransitionTime":
                    "2026-11-23T08:00:00Z", "reason": "ManuallyTriggered",
                    "message": "Certificate re-issuance manually triggered",
                    "observedGeneration": 3}
    # the Ready condition is untouched, the input object too
    assert condition(call.body, "Ready") == condition(objs.get("Certificate", NS, "web") or {},
                                                      "Ready")
    assert condition(objs.get("Certificate", NS, "web") or {}, "Issuing") is None
    assert "+  - type: Issuing" in plan.diff_text() or "reason: ManuallyTriggered" in \
        plan.diff_text()
    assert [e.kind for e in plan.expect] == ["condition", "new-request"]
    assert plan.expect[1].revision == 2
    assert confirmation(plan).mode == "yn"


def test_renew_replaces_issuing_false_in_place_and_warns_about_attempts() -> None:
    objs = objset(f.certificate("web", NS, issuing="False", revision=4, attempts=3))
    plan = fixes.plan("renew", objs, Ref("Certificate", NS, "web"), {"now": NOW})
    conds = plan.calls[0].body["status"]["conditions"]
    assert [c["type"] for c in conds] == ["Ready", "Issuing"]
    assert conds[1]["status"] == "True"
    # status changed False → True: a new transition time, as SetCertificateCondition does
    assert conds[1]["lastTransitionTime"] == "2026-11-23T08:00:00Z"
    assert any("does not reset failedIssuanceAttempts (3)" in w for w in plan.warnings)
    assert plan.expect[1].revision == 5


def test_renew_when_issuing_already_true_is_a_noop_pointing_at_clear() -> None:
    objs = with_cert_owner(objset(
        f.certificate("web", NS, issuing="True", revision=1),
        f.request("web-2", NS, "web", 2, reason="Pending", message=f.VAULT_MSG)))
    plan = fixes.plan("renew", objs, Ref("Certificate", NS, "web"), {"now": NOW})
    assert plan.calls == [] and not plan.mutating
    assert "Issuing is already True" in plan.noop_reason
    assert "web-2" in plan.noop_reason and "Pending" in plan.noop_reason
    assert plan.suggest == ["clear-failed-requests"]


def test_renew_resolves_a_request_to_its_certificate() -> None:
    objs = with_cert_owner(objset(f.certificate("web", NS, issuing="False"),
                                  f.request("web-2", NS, "web", 2)))
    plan = fixes.plan("renew", objs, Ref("CertificateRequest", NS, "web-2"), {"now": NOW})
    assert plan.target == Ref("Certificate", NS, "web")


def test_renew_unknown_certificate() -> None:
    with pytest.raises(FixError, match="Certificate nope not found in namespace shop"):
        fixes.plan("renew", objset(), Ref("Certificate", NS, "nope"))


# -- clear-failed-requests ---------------------------------------------------------------


def test_clear_deletes_failed_of_next_revision_then_renews() -> None:
    objs = with_cert_owner(objset(
        f.certificate("web", NS, issuing="False", revision=1, attempts=1),
        f.request("web-1", NS, "web", 1, reason="Issued", message="ok"),
        f.request("web-2", NS, "web", 2)))
    plan = fixes.plan("clear-failed-requests", objs, Ref("Certificate", NS, "web"),
                      {"now": NOW})
    assert [(c.method, c.ref.name) for c in plan.calls] == [("DELETE", "web-2"), ("PUT", "web")]
    d = plan.calls[0]
    cr = objs.get("CertificateRequest", NS, "web-2") or {}
    assert d.path == f"/apis/cert-manager.io/v1/namespaces/{NS}/certificaterequests/web-2"
    assert d.body["preconditions"] == {"uid": cr["metadata"]["uid"],
                                       "resourceVersion": cr["metadata"]["resourceVersion"]}
    assert plan.calls[1].rebase is not None
    assert "(deleted)" in plan.diff_text()
    assert [e.kind for e in plan.expect] == ["gone", "condition", "new-request"]
    assert confirmation(plan).mode == "yn"


def test_clear_two_deletions_need_typed_confirmation() -> None:
    objs = with_cert_owner(objset(
        f.certificate("web", NS, issuing="False", revision=1),
        f.request("web-2a", NS, "web", 2), f.request("web-2b", NS, "web", 2)))
    plan = fixes.plan("clear-failed-requests", objs, Ref("Certificate", NS, "web"))
    conf = confirmation(plan)
    assert conf.mode == "type" and "2" in conf.prompt
    assert conf.accepts("2") and conf.accepts("web")
    assert not conf.accepts("y") and not conf.accepts("yes") and not conf.accepts("")


def test_clear_stuck_vault_request_without_renew() -> None:
    objs = with_cert_owner(objset(
        f.certificate("web", NS, issuing="True", revision=1),
        f.request("web-2", NS, "web", 2, reason="Pending", message=f.VAULT_MSG),
        f.controller(image="v1.15.0")))
    plan = fixes.plan("clear-failed-requests", objs, Ref("Certificate", NS, "web"))
    assert [(c.method, c.ref.name) for c in plan.calls] == [("DELETE", "web-2")]
    assert any("no renew needed" in n for n in plan.notes)


def test_clear_leaves_an_ordinary_pending_request_alone() -> None:
    objs = with_cert_owner(objset(
        f.certificate("web", NS, issuing="True", revision=1),
        f.request("web-2", NS, "web", 2, reason="Pending", message="Waiting on order")))
    plan = fixes.plan("clear-failed-requests", objs, Ref("Certificate", NS, "web"))
    assert plan.calls == [] and "no Failed or stuck" in plan.noop_reason
    forced = fixes.plan("clear-failed-requests", objs, Ref("Certificate", NS, "web"),
                        {"include_pending": True})
    assert [c.ref.name for c in forced.calls] == ["web-2"]


def test_clear_nothing_failed_suggests_renew() -> None:
    objs = objset(f.certificate("web", NS, issuing="False", revision=1))
    plan = fixes.plan("clear-failed-requests", objs, Ref("Certificate", NS, "web"))
    assert plan.calls == [] and plan.suggest == ["renew"]


# -- retry-challenge ---------------------------------------------------------------------


def test_retry_challenge_deletes_it_with_preconditions() -> None:
    objs = objset(f.order("web-2-1", NS, "web-2"),
                  f.challenge("web-2-1-99", NS, "web-2-1"))
    o = objs.get("Order", NS, "web-2-1") or {}
    ch = objs.get("Challenge", NS, "web-2-1-99") or {}
    ch["metadata"]["ownerReferences"][0]["uid"] = o["metadata"]["uid"]
    plan = fixes.plan("retry-challenge", objs, Ref("Challenge", NS, "web-2-1-99"))
    assert [(c.method, c.path) for c in plan.calls] == [
        ("DELETE", f"/apis/acme.cert-manager.io/v1/namespaces/{NS}/challenges/web-2-1-99")]
    assert plan.calls[0].group == "acme.cert-manager.io"
    assert [e.kind for e in plan.expect] == ["gone", "recreated"]
    assert plan.expect[1].uid == o["metadata"]["uid"] and plan.expect[1].ctype == "Challenge"
    assert not plan.warnings


def test_retry_invalid_challenge_warns_and_can_delete_the_order() -> None:
    objs = objset(f.order("web-2-1", NS, "web-2", state="invalid"),
                  f.challenge("web-2-1-99", NS, "web-2-1", state="invalid"))
    plan = fixes.plan("retry-challenge", objs, Ref("Challenge", NS, "web-2-1-99"))
    assert any("already invalid" in w for w in plan.warnings)
    by_order = fixes.plan("retry-challenge", objs, Ref("Challenge", NS, "web-2-1-99"),
                          {"delete": "order"})
    assert [c.ref for c in by_order.calls] == [Ref("Order", NS, "web-2-1")]
    with pytest.raises(FixError, match="delete="):
        fixes.plan("retry-challenge", objs, Ref("Challenge", NS, "web-2-1-99"),
                   {"delete": "everything"})


# -- set-solver-ingress-class ------------------------------------------------------------


def solver_world() -> ObjectSet:
    return objset(f.acme_issuer("acme", NS), f.ingress_class("nginx"),
                  f.ingress_class("public"), f.ingress("site", NS, "web.example.test", "public"),
                  f.challenge("web-2-1-99", NS, "web-2-1", cls="nginx"))


def test_solver_class_from_the_ingress_serving_the_host() -> None:
    objs = solver_world()
    plan = fixes.plan("set-solver-ingress-class", objs, Ref("Challenge", NS, "web-2-1-99"))
    assert plan.target == Ref("Issuer", NS, "acme")
    assert plan.params == {"solver": 0, "ingress_class": "public"}
    call = plan.calls[0]
    assert call.method == "PATCH" and call.content_type == "application/json-patch+json"
    base = "/spec/acme/solvers/0/http01/ingress"
    assert call.body == [
        {"op": "replace", "path": "/metadata/resourceVersion", "value": call.precondition},
        {"op": "test", "path": base, "value": {"class": "nginx"}},
        {"op": "add", "path": f"{base}/ingressClassName", "value": "public"},
        {"op": "remove", "path": f"{base}/class"}]
    after = plan.diffs[0].after or {}
    assert after["spec"]["acme"]["solvers"][0]["http01"]["ingress"] == {
        "ingressClassName": "public"}
    assert "+          ingressClassName: public" in plan.diff_text()
    assert any("legacy" in w for w in plan.warnings)
    assert "retry-challenge" in plan.suggest


def test_solver_class_must_exist_and_be_unambiguous() -> None:
    from kubectl_certdoctor.fixes.solver import ingress_class_choices

    objs = solver_world()
    assert ingress_class_choices(objs, Ref("Issuer", NS, "acme")) == (["nginx", "public"],
                                                                      "public")
    with pytest.raises(FixError, match="'traefik' does not exist"):
        fixes.plan("set-solver-ingress-class", objs, Ref("Issuer", NS, "acme"),
                   {"ingress_class": "traefik"})
    objs.add(f.served(f.ingress("site2", NS, "web.example.test", "nginx"), 50))
    with pytest.raises(FixError, match="several classes"):
        fixes.plan("set-solver-ingress-class", objs, Ref("Issuer", NS, "acme"))
    plan = fixes.plan("set-solver-ingress-class", objs, Ref("Issuer", NS, "acme"),
                      {"ingress_class": "nginx", "solver": "0"})
    assert plan.params["ingress_class"] == "nginx"


def test_solver_already_right_is_a_noop() -> None:
    objs = objset(f.acme_issuer("acme", NS, solvers=[
        {"http01": {"ingress": {"ingressClassName": "public"}}}]), f.ingress_class("public"))
    plan = fixes.plan("set-solver-ingress-class", objs, Ref("Issuer", NS, "acme"),
                      {"ingress_class": "public"})
    assert plan.calls == [] and "already uses" in plan.noop_reason


# -- controller Deployment fixes ---------------------------------------------------------


def api_service() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default"},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 443}]}}


def test_add_no_proxy_patches_both_variables_and_warns_about_rollout() -> None:
    objs = objset(f.controller(env=f.proxy_env()), api_service())
    plan = fixes.plan("add-no-proxy", objs, Ref("Certificate", NS, "anything"))
    assert plan.target == Ref("Deployment", "cert-manager", "cert-manager")
    assert plan.params["entries"] == ["10.96.0.1", ".svc", ".cluster.local"]
    ops = plan.calls[0].body
    replaced = {o["path"]: o["value"] for o in ops if o["op"] == "replace"
                and o["path"].endswith("/value")}
    want = "127.0.0.1,localhost,10.96.0.1,.svc,.cluster.local"
    assert replaced == {"/spec/template/spec/containers/0/env/2/value": want,
                        "/spec/template/spec/containers/0/env/3/value": want}
    assert any("rollout will restart cert-manager" in w for w in plan.warnings)
    after = plan.diffs[0].after or {}
    env = {e["name"]: e["value"] for e in after["spec"]["template"]["spec"]["containers"][0]["env"]}
    for url in ("https://10.96.0.1:443", "https://kubernetes.default.svc:443",
                "https://kubernetes.default.svc.cluster.local:443"):
        assert proxy_for(url, env) is None, url
    assert not any("still proxied" in w for w in plan.warnings)


def test_add_no_proxy_without_proxy_is_a_noop_and_explicit_entries_add_the_var() -> None:
    objs = objset(f.controller(env=[]))
    assert "no HTTP_PROXY" in fixes.plan("add-no-proxy", objs,
                                         Ref("Deployment", "cert-manager", "cert-manager")
                                         ).noop_reason
    plan = fixes.plan("add-no-proxy", objs, Ref("Deployment", "cert-manager", "cert-manager"),
                      {"entries": "acme.example.test, .svc"})
    assert plan.calls[0].body[-1] == {"op": "add", "path":
                                      "/spec/template/spec/containers/0/env/-",
                                      "value": {"name": "NO_PROXY",
                                                "value": "acme.example.test,.svc"}}


def test_set_recursive_nameservers_replaces_old_flags() -> None:
    objs = objset(f.controller(args=["--v=2", "--dns01-recursive-nameservers", "9.9.9.9:53",
                                     "--dns01-recursive-nameservers-only=false"]))
    ref = Ref("Deployment", "cert-manager", "cert-manager")
    plan = fixes.plan("set-recursive-nameservers", objs, ref,
                      {"nameservers": "1.1.1.1, [2606:4700::1111]:53"})
    new = plan.calls[0].body[-1]["value"]
    assert new == ["--v=2", "--dns01-recursive-nameservers=1.1.1.1:53,[2606:4700::1111]:53",
                   "--dns01-recursive-nameservers-only"]
    assert plan.calls[0].body[1]["op"] == "test"
    assert any("rollout" in w for w in plan.warnings)
    again = apply_json_patch(objs.get("Deployment", "cert-manager", "cert-manager") or {},
                             plan.calls[0].body)
    objs2 = ObjectSet.from_objects([again])
    assert fixes.plan("set-recursive-nameservers", objs2, ref,
                      {"nameservers": "1.1.1.1:53,[2606:4700::1111]:53"}).noop_reason
    with pytest.raises(FixError, match="invalid nameserver"):
        fixes.plan("set-recursive-nameservers", objs, ref, {"nameservers": "dns.example.test"})
    with pytest.raises(FixError, match="needs nameservers"):
        fixes.plan("set-recursive-nameservers", objs, ref, {})


def test_upgrade_guidance_names_versions_and_pr() -> None:
    objs = objset(f.controller(image="v1.15.0"))
    plan = fixes.plan("upgrade-guidance", objs, Ref("Deployment", "cert-manager",
                                                    "cert-manager"))
    text = "\n".join(plan.notes)
    assert plan.calls == [] and not plan.mutating and not FIXES["upgrade-guidance"].mutating
    for needle in ("v1.15.0", "#7105", "v1.16.0", "v1.15.1", "v1.14.7", "v1.12.12",
                   "clear-failed-requests", "out of support"):
        assert needle in text, needle
    fixed = fixes.plan("upgrade-guidance", objset(f.controller(image="v1.15.1")),
                       Ref("Deployment", "cert-manager", "cert-manager"))
    assert any("includes PR #7105" in n for n in fixed.notes)


# -- framework ---------------------------------------------------------------------------


def test_registry_matches_the_catalog() -> None:
    from kubectl_certdoctor.rules.catalog import CATALOG

    assert set(FIXES) == {"renew", "clear-failed-requests", "retry-challenge",
                          "set-solver-ingress-class", "add-no-proxy",
                          "set-recursive-nameservers", "upgrade-guidance"}
    for code, entry in CATALOG.items():
        for fid in entry.fixes:
            assert code in FIXES[fid].resolves, (code, fid)
        assert [s.id for s in fixes_for_code(code)][:len(entry.fixes)] == list(entry.fixes)


def test_wrong_target_kind_and_inconsistent_patch() -> None:
    with pytest.raises(FixError, match="does not apply to a Ingress"):
        FIXES["renew"].plan(ObjectSet(), Ref("Ingress", NS, "x"))
    with pytest.raises(FixError, match="has no parameter colour"):
        fixes.plan("renew", ObjectSet(), Ref("Certificate", NS, "x"), {"colour": "red"})
    with pytest.raises(FixError, match="plan inconsistent"):
        apply_json_patch({"a": 1}, [{"op": "test", "path": "/a", "value": 2}])


def test_read_only_refuses_before_any_request() -> None:
    """The connection points at a closed port: any request would fail differently."""
    from kubernetes import client

    from kubectl_certdoctor.cluster.connection import Connection

    cfg = client.Configuration()
    cfg.host = "https://127.0.0.1:9"
    conn = Connection(client.ApiClient(cfg), context="x", namespace="default", user="u",
                      server=cfg.host, request_timeout=1)
    objs = objset(f.certificate("web", NS, issuing="False"))
    plan = fixes.plan("renew", objs, Ref("Certificate", NS, "web"))
    with pytest.raises(ReadOnlyError):
        fixes.dry_run(conn, plan, read_only=True)
    with pytest.raises(ReadOnlyError):
        fixes.apply(conn, plan, read_only=True)
    allowed, reason = fixes.rbac_check(conn, plan, read_only=True)
    assert not allowed and "read-only" in reason


def test_offers_resolve_targets_and_vanish_in_read_only() -> None:
    from kubectl_certdoctor.fixes.registry import offers

    objs = with_cert_owner(objset(f.certificate("web", NS, issuing="False"),
                                  f.request("web-2", NS, "web", 2), f.controller()))
    ref = Ref("CertificateRequest", NS, "web-2")
    got = [(s.id, t) for s, t in offers("VAULT_PERMISSION_DENIED_NOT_RETRIED", objs, ref,
                                        read_only=False)]
    assert got == [("clear-failed-requests", Ref("Certificate", NS, "web")),
                   ("renew", Ref("Certificate", NS, "web")),
                   ("upgrade-guidance", Ref("Deployment", "cert-manager", "cert-manager"))]
    assert offers("VAULT_PERMISSION_DENIED_NOT_RETRIED", objs, ref, read_only=True) == []
