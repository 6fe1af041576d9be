"""Only fixes that act (issue 16, item 3): in the five README stories (the demo scenarios)
no fix is offered that would change nothing; the ones that would are greyed with the
reason; every fix carries one line of why; the ingress-class pick list starts on the
class the diagnosis recommends and warns on the one it says is wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kubectl_certdoctor import scenarios
from kubectl_certdoctor.analysis import analyse
from kubectl_certdoctor.app import CertDoctorApp, demo_clock
from kubectl_certdoctor.fixes.registry import FIXES, judge
from kubectl_certdoctor.fixes.solver import solver_choices
from kubectl_certdoctor.fixes.targets import resolve
from kubectl_certdoctor.objects import Ref
from kubectl_certdoctor.source import StaticSource
from kubectl_certdoctor.widgets.describe import actions_for

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
STORIES = ("two-ingress-controllers", "solver-ingress-class", "failed-request-blocks-renewal",
           "vault-403-old-cert-manager", "acme-egress-proxy")


@pytest.mark.parametrize("name", STORIES)
def test_no_fix_offered_that_would_change_nothing(name: str) -> None:
    objs = scenarios.load(name, NOW)
    a = analyse(objs, {}, NOW)
    offered = 0
    for fs in a.by_object.values():
        for act in actions_for(fs, offline=False, read_only=False, objs=objs, now=NOW):
            if act.kind != "fix":
                continue
            assert act.because, f"{act.id} has no line of why"
            if not act.available:
                assert act.why.startswith(("would change nothing", "cannot act")), act
                continue
            offered += 1
            spec = FIXES[act.id]
            target = resolve(act.id, objs, act.finding.object)
            params: dict[str, Any] = {"now": NOW}
            for c in (spec.choices(objs, target) if spec.choices else []):
                params[c.param] = c.default
            plan = spec.plan(objs, target, params)
            assert not plan.noop_reason, (act.id, plan.noop_reason)
            if spec.mutating:
                assert plan.calls, act.id
    assert offered, f"{name}: no fix offered at all"


def test_the_noop_fixes_of_the_stories_are_greyed_with_the_reason() -> None:
    objs = scenarios.load("two-ingress-controllers", NOW)
    ch = Ref.of(objs.of_kind("Challenge")[0])
    ok, why = judge("set-solver-ingress-class", objs, ch, NOW)
    assert not ok and "already uses ingressClassName nginx" in why

    objs = scenarios.load("vault-403-old-cert-manager", NOW)
    cert = Ref.of(next(c for c in objs.of_kind("Certificate")
                       if c["metadata"]["name"] == "api-tls"))
    ok, why = judge("renew", objs, cert, NOW)
    assert not ok and "Issuing is already True" in why


def test_retry_challenge_without_a_challenge_is_not_offered() -> None:
    objs = scenarios.load("failed-request-blocks-renewal", NOW)
    cr = Ref.of(objs.of_kind("CertificateRequest")[-1])
    assert not objs.of_kind("Challenge")
    ok, why = judge("retry-challenge", objs, cr, NOW)
    assert not ok and why.startswith("cannot act")


def _with_nginx_class() -> Any:
    objs = scenarios.load("solver-ingress-class", NOW)
    objs.add({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
              "metadata": {"name": "nginx", "uid": "ic-nginx", "resourceVersion": "1"},
              "spec": {"controller": "k8s.io/ingress-nginx"}})
    return objs


def test_ingress_class_choice_recommends_the_serving_class_and_warns_on_the_wrong_one() -> None:
    objs = _with_nginx_class()
    issuer = resolve("set-solver-ingress-class", objs, Ref.of(objs.of_kind("Challenge")[0]))
    (choice,) = solver_choices(objs, issuer)
    assert choice.default == "public"
    warnings = dict(choice.warnings)
    assert "nginx" in warnings and "already uses nginx" in warnings["nginx"]
    assert "public" not in warnings


async def test_picker_starts_on_the_recommended_class_and_warns() -> None:
    from textual.widgets import OptionList, Static

    objs = _with_nginx_class()
    app = CertDoctorApp(StaticSource.of(objs), clock=demo_clock(NOW))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.3)
        issuer = resolve("set-solver-ingress-class", objs, Ref.of(objs.of_kind("Challenge")[0]))
        (choice,) = solver_choices(objs, issuer)
        from kubectl_certdoctor.screens.picker import PickScreen

        picked: list[str | None] = []
        app.push_screen(PickScreen(choice.title, list(choice.options), "",
                                   recommended=choice.default,
                                   warnings=dict(choice.warnings)), picked.append)
        await pilot.pause()
        ol = app.screen.query_one(OptionList)
        hi = ol.highlighted
        assert hi is not None and choice.options[hi][1] == "public"
        assert "(recommended)" in str(ol.get_option_at_index(hi).prompt)
        warn = app.screen.query_one("#pick-warning", Static)
        assert not warn.display
        await pilot.press("down" if choice.options[0][1] == "public" else "up")
        await pilot.pause()
        assert warn.display and "already uses nginx" in str(warn.render())
