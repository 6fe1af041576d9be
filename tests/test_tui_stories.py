"""The five README stories, walked through as a person would (issue 16, "must show"):
``kubectl certdoctor --demo <story> certificate/<name>`` opens on the stuck Certificate;
its detail says what blocks it; ``b`` jumps there; the cause's detail says what to do;
its probe runs (the demo shows the result recorded with the scenario, marked RECORDED, or
runs an offline-capable probe on the objects); its fix is previewed and offered as a
SIMULATED apply (applied in tests/test_tui_simulated_fix.py; the demo never reaches a
cluster). Every step asserts the text on screen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from kubectl_certdoctor.app import CertDoctorApp, demo_clock
from kubectl_certdoctor.options import Options
from kubectl_certdoctor.source import StaticSource
from tests.support.tui import is_screen, settle, wait_until
from tests.support.tui_actions import shown

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SIZE = (120, 40)


@dataclass(frozen=True)
class Story:
    scenario: str
    namespace: str
    certificate: str
    #: what the Certificate's "Blocked by" line names (kind and code)
    blocked_by: tuple[str, str]
    #: (probe id, text its result shows, "RECORDED" | "OFFLINE") or None: the story has none
    probe: tuple[str, str, str] | None
    #: (fix id, text its preview shows)
    fix: tuple[str, str]
    #: fixes that would change nothing here, shown greyed with the reason
    noop: tuple[str, ...] = ()


STORIES = [
    Story("two-ingress-controllers", "store", "store-tls",
          ("Challenge", "HTTP01_SELF_CHECK_404"),
          ("http01-backends", "404 from 192.168.0.61", "RECORDED"),
          ("retry-challenge", "DELETE"), noop=("set-solver-ingress-class",)),
    Story("solver-ingress-class", "home", "example-com-tls",
          ("Challenge", "HTTP01_"),
          ("hairpin", "i/o timeout", "RECORDED"),
          ("set-solver-ingress-class", "ingressClassName: public")),
    Story("failed-request-blocks-renewal", "cdn", "static-tls",
          ("CertificateRequest", "CERTIFICATE_REQUEST_FAILED"), None,
          ("clear-failed-requests", "DELETE")),
    Story("vault-403-old-cert-manager", "payments", "api-tls",
          ("CertificateRequest", "VAULT_PERMISSION_DENIED_NOT_RETRIED"), None,
          ("clear-failed-requests", "DELETE"), noop=("renew",)),
    Story("acme-egress-proxy", "datalab", "notebooks-tls",
          ("ClusterIssuer", "ACME_SERVER_UNREACHABLE"),
          ("no-proxy", "NO_PROXY lacks .svc", "OFFLINE"),
          ("add-no-proxy", "NO_PROXY")),
]


def action(app: CertDoctorApp, kind: str, ident: str) -> Any:
    acts = app.screen.actions  # type: ignore[attr-defined]
    act = next((a for a in acts if a.kind == kind and a.id == ident), None)
    assert act is not None and act.key, [(a.key, a.kind, a.id, a.why) for a in acts]
    return act


@pytest.mark.parametrize("story", STORIES, ids=[s.scenario for s in STORIES])
async def test_story_walkthrough(story: Story) -> None:
    app = CertDoctorApp(StaticSource(demo=story.scenario, clock=demo_clock(NOW)),
                        clock=demo_clock(NOW),
                        opts=Options(demo=story.scenario, namespace=story.namespace,
                                     focus=story.certificate))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await wait_until(pilot, lambda: is_screen(app, "DetailScreen"), 5, "the Certificate")
        cert = shown(app.screen, "#describe")
        assert f"Certificate {story.namespace}/{story.certificate}" in cert
        kind, code = story.blocked_by
        assert "Blocked by: " + kind in cert and code in cert, cert[:600]

        # b: to the cause
        await pilot.press("b")
        await wait_until(pilot, lambda: app.screen.node_id.startswith(kind + "/"),  # type: ignore[attr-defined]
                         3, "the cause's detail")
        cause = shown(app.screen, "#describe")
        assert code in cause and "What to do: " in cause, cause[:800]
        for noop in story.noop:
            assert f"fix {noop}" in cause and "would change nothing" in cause, cause
            assert not action(app, "fix", noop).available

        # the probe (recorded with the demo, or run offline on the objects)
        if story.probe is None:
            assert not any(a.kind == "probe" for a in app.screen.actions)  # type: ignore[attr-defined]
        else:
            pid, says, mark = story.probe
            line = "(demo: shows the recorded result)" if mark == "RECORDED" else \
                "(runs offline, on these objects)"
            assert line in cause
            await pilot.press(action(app, "probe", pid).key)
            await wait_until(pilot, lambda: is_screen(app, "ProbeScreen"), 3, "probe screen")
            probe: Any = app.screen
            await wait_until(pilot, lambda: probe.result is not None, 10, "the probe result",
                             show=lambda: shown(probe, "#probe-status"))
            status = shown(probe, "#probe-status")
            assert mark in status and "fail" in status, status
            if mark == "RECORDED":
                assert "nothing was run now" in status
            assert says in shown(probe, "#probe-verdict") + shown(probe, "#probe-raw") \
                + "".join(shown(probe, f"#vantage-{v}") for v in ("local", "pod",
                                                                 "cert-manager"))
            await pilot.press("escape")
            assert is_screen(app, "DetailScreen")

        # the fix: previewed; on the demo its apply is SIMULATED (in memory only)
        fid, preview_says = story.fix
        act = action(app, "fix", fid)
        assert "would change nothing" not in act.why
        await pilot.press(act.key)
        await wait_until(pilot, lambda: is_screen(app, "FixScreen"), 3, "fix screen")
        fix: Any = app.screen
        await wait_until(pilot, lambda: fix.plan is not None, 10, "the fix plan",
                         show=lambda: shown(fix, "#fix-status"))
        preview = shown(fix, "#fix-preview")
        assert preview_says in preview, preview
        assert "nothing to do" not in preview
        assert "SIMULATED" in shown(fix, "#fix-status")
        await pilot.press("escape", "escape", "escape")
        assert is_screen(app, "TreeScreen")
        from kubectl_certdoctor import scenarios

        story_box = shown(app.screen, "#story")
        assert scenarios.info(story.scenario).title in story_box
        await pilot.press("question_mark")
        from textual.widgets import Static

        from tests.support.tui_actions import rendered

        help_text = " ".join(rendered(w) for w in app.screen.query(Static))
        assert scenarios.info(story.scenario).story[:60] in help_text
