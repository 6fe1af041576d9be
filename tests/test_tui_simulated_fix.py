"""A fix applied on the demo, per README story: the one fix workflow (preview → confirm →
apply) with the cluster steps replaced by a change to the demo's in-memory objects. Every
step says SIMULATED (fix status, the skipped RBAC/dry run, the confirmation, the apply
lines, the header), and the tree and findings change as after a real apply: the deleted
objects leave the tree, a renewed Certificate is issuing, the finding the fix resolves is
gone. A bundle stays preview-only (tests/test_tui_actions.py); ``r`` restores the
scenario."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from textual.widgets import Static

from kubectl_certdoctor.analysis import Analysis
from kubectl_certdoctor.app import CertDoctorApp, demo_clock
from kubectl_certdoctor.objects import dig
from kubectl_certdoctor.source import StaticSource
from tests.support.tui import is_screen, settle, tree_depths, wait_until
from tests.support.tui_actions import finding_with, open_action, rendered, shown

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SIZE = (160, 48)


def _issuer_class(a: Analysis) -> str:
    iss = a.graph.objs.get("ClusterIssuer", "", "letsencrypt-issuer") or {}
    return str(dig(iss, "spec", "acme", "solvers", 0, "http01", "ingress",
                   "ingressClassName") or "")


@dataclass(frozen=True)
class SimStory:
    scenario: str
    fix: str
    #: what the apply says it changed
    changes: tuple[str, ...]
    #: finding codes that are gone afterwards
    resolved: tuple[str, ...]
    #: tree rows (substrings) gone afterwards / present afterwards
    rows_gone: tuple[str, ...] = ()
    rows_now: tuple[str, ...] = ()
    #: anything else the new analysis must show
    check: Callable[[Analysis], bool] | None = field(default=None, compare=False)


STORIES = [
    SimStory("two-ingress-controllers", "retry-challenge",
             ("deleted Challenge/store/store-tls-1-",),
             ("HTTP01_SELF_CHECK_404", "HTTP01_MULTIPLE_INGRESS_BACKENDS"),
             rows_gone=("Challenge store/store-tls-1-",)),
    SimStory("solver-ingress-class", "set-solver-ingress-class",
             ("updated ClusterIssuer/letsencrypt-issuer",), (),
             check=lambda a: _issuer_class(a) == "public"),
    SimStory("failed-request-blocks-renewal", "clear-failed-requests",
             ("deleted CertificateRequest/cdn/static-tls-8", "updated Certificate/cdn/static-tls"),
             ("CERTIFICATE_REQUEST_FAILED", "ISSUANCE_BACKOFF"),
             rows_gone=("CertificateRequest cdn/static-tls-8",),
             # renewed: the Certificate is issuing (◌), no longer waiting out a backoff
             rows_now=("◌ Certificate cdn/static-tls",
                       "Certificate re-issuance manually triggered")),
    SimStory("vault-403-old-cert-manager", "clear-failed-requests",
             ("deleted CertificateRequest/payments/api-tls-4",),
             ("VAULT_PERMISSION_DENIED_NOT_RETRIED",),
             rows_gone=("CertificateRequest payments/api-tls-4",)),
    SimStory("acme-egress-proxy", "add-no-proxy",
             ("updated Deployment/cert-manager/cert-manager",), ("PROXY_NO_PROXY_GAP",)),
]


def rows(app: CertDoctorApp) -> list[str]:
    return [t for _, t in tree_depths(app)]


@pytest.mark.parametrize("story", STORIES, ids=[s.scenario for s in STORIES])
async def test_simulated_apply_on_the_demo(story: SimStory) -> None:
    src = StaticSource(demo=story.scenario, clock=demo_clock(NOW))
    app = CertDoctorApp(src, clock=demo_clock(NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        before_rows = rows(app)
        before = app.analysis
        assert before is not None
        codes_before = {f.code for f in before.findings}
        assert set(story.resolved) <= codes_before

        f = finding_with(app, "fix", story.fix)
        # the detail screen offers it as a simulated apply
        fix: Any = await open_action(pilot, app, f, "fix", story.fix)
        detail = next(s for s in app.screen_stack if type(s).__name__ == "DetailScreen")
        assert "(demo: SIMULATED apply, in memory only)" in shown(detail, "#describe")
        await wait_until(pilot, lambda: fix.phase == "ready", 10, "simulated apply offered",
                         show=lambda: shown(fix, "#fix-status"))
        assert "SIMULATED" in shown(fix, "#fix-status")
        assert "SIMULATED" in shown(fix, "#fix-rbac") and "dry run" in shown(fix, "#fix-rbac")
        assert shown(fix, "#fix-dry") == ""  # no dry run pretended

        await pilot.press("a")
        await wait_until(pilot, lambda: is_screen(app, "ConfirmScreen"), 3, "confirmation")
        box = " ".join(rendered(w) for w in app.screen.query(Static))
        assert "SIMULATED" in box and "nothing is sent" in box
        gen = app.generation
        await pilot.click("#apply")
        await wait_until(pilot, lambda: fix.phase == "done", 5, "simulated apply",
                         show=lambda: shown(fix, "#fix-status"))
        applied = shown(fix, "#fix-apply")
        assert applied.startswith("SIMULATED apply"), applied
        for c in story.changes:
            assert c in applied, applied
        assert "SIMULATED on the demo" in shown(fix, "#fix-status")
        assert fix.audit_file == ""  # nothing reached a cluster, nothing to audit
        await wait_until(pilot, lambda: app.generation > gen, 5, "new analysis")

        after = app.analysis
        assert after is not None
        codes_after = {f.code for f in after.findings}
        for code in story.resolved:
            assert code not in codes_after, sorted(codes_after)
        if story.check is not None:
            assert story.check(after)
        header = str(app.screen.query_one("#header", Static).render())
        assert f"SIMULATED {story.fix}" in header, header

        await pilot.press("escape", "escape")
        assert is_screen(app, "TreeScreen")
        await pilot.pause()
        now_rows = rows(app)
        for gone in story.rows_gone:
            assert any(gone in r for r in before_rows)
            assert not any(gone in r for r in now_rows), now_rows
        for new in story.rows_now:
            assert any(new in r for r in now_rows), now_rows

        # r: the scenario as it was, the header no longer says SIMULATED
        gen = app.generation
        await pilot.press("r")
        await wait_until(pilot, lambda: app.generation > gen, 5, "reloaded")
        await pilot.pause()
        assert {f.code for f in app.analysis.findings} == codes_before  # type: ignore[union-attr]
        assert "SIMULATED" not in str(app.screen.query_one("#header", Static).render())


def test_simulate_is_refused_for_a_bundle() -> None:
    from kubectl_certdoctor.errors import UsageError
    from kubectl_certdoctor.fixes.model import FixPlan
    from kubectl_certdoctor.objects import ObjectSet, Ref

    src = StaticSource.of(ObjectSet())
    assert not src.simulates_fixes
    with pytest.raises(UsageError):
        src.simulate(FixPlan("renew", "t", Ref("Certificate", "a", "b")))


def test_renewed_certificate_is_issuing_not_backing_off() -> None:
    """What a renew leaves (Issuing=True while lastFailureTime is recent) is an issuance in
    progress: cert-manager's trigger controller waits out a backoff only before it sets
    Issuing, so neither the row nor ISSUANCE_BACKOFF may say "next retry in …"."""
    from datetime import timedelta

    from kubectl_certdoctor.status import Status, certificate_status
    from tests.support.diagnosis import NOW as T
    from tests.support.diagnosis import certificate, codes, cond, issuer

    failed = {"lastFailureTime": (T - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "failedIssuanceAttempts": 3}
    waiting = certificate("web", ready="False", status=failed)
    st, why = certificate_status(waiting, T)
    assert st is Status.FAILED and why.startswith("next retry in")
    assert "ISSUANCE_BACKOFF" in codes(issuer("iss", "default"), waiting)

    renewed = certificate("web", ready="False", status={**failed, "conditions": [
        cond("Ready", "False", "Failed", "failed"),
        cond("Issuing", "True", "ManuallyTriggered",
             "Certificate re-issuance manually triggered")]})
    st, why = certificate_status(renewed, T)
    assert (st, why) == (Status.PROGRESS, "Certificate re-issuance manually triggered")
    assert "ISSUANCE_BACKOFF" not in codes(issuer("iss", "default"), renewed)
