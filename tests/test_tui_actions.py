"""Probe and fix screens on the demo / a bundle (no network): entries are shown but
greyed with the reason, a fix's preview renders, the confirmation modal guards writes,
and read-only hides fixes entirely."""

from __future__ import annotations

import importlib
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Button, Input, Static

from kubectl_certdoctor.app import CertDoctorApp, demo_clock
from kubectl_certdoctor.fixes.model import Call, FixPlan
from kubectl_certdoctor.objects import Ref
from kubectl_certdoctor.source import SourceState, StaticSource
from tests.support.diagnosis import NOW
from tests.support.tui import MemorySource, settle, small_cluster, wait_until
from tests.support.tui_actions import finding_with, open_action, rendered, shown

SIZE = (140, 40)


def demo_app(name: str) -> CertDoctorApp:
    return CertDoctorApp(StaticSource(demo=name, clock=lambda: NOW), clock=demo_clock(NOW))


async def test_probe_on_the_demo_is_greyed_with_the_reason() -> None:
    app = demo_app("two-ingress-controllers")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        # http01 has no recording in the demo (http01-backends has: see test_tui_stories)
        f = finding_with(app, "probe", "http01")
        screen = await open_action(pilot, app, f, "probe", "http01")
        await wait_until(pilot, lambda: not screen.running, 5, "probe screen settled")
        assert screen.result is None  # nothing ran: a bundle never touches the network
        for v in ("local", "pod", "cert-manager"):
            text = shown(screen, f"#vantage-{v}")
            assert "not available: probes need a live cluster" in text, text
            assert screen.query_one(f"#vantage-{v}", Static).has_class("greyed")
        assert "not run: probes need a live cluster" in shown(screen, "#probe-status")
        await pilot.press("c")  # nothing to copy: says so, writes nothing
        assert screen.copied_path == ""
        await pilot.press("escape")
        assert type(app.screen).__name__ == "DetailScreen"


async def test_fix_preview_on_a_bundle_is_preview_only() -> None:
    """A bundle (here the scenario's objects loaded as one) is someone's real cluster at one
    moment: preview only. The demo offers a SIMULATED apply (test_tui_simulated_fix.py)."""
    from kubectl_certdoctor import scenarios

    objs = scenarios.open_demo("failed-request-blocks-renewal", NOW)
    app = CertDoctorApp(StaticSource.of(objs), clock=demo_clock(NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        f = finding_with(app, "fix", "clear-failed-requests")
        screen = await open_action(pilot, app, f, "fix", "clear-failed-requests")
        await wait_until(pilot, lambda: screen.phase == "blocked", 5, "preview only")
        preview = shown(screen, "#fix-preview")
        assert "fix clear-failed-requests" in preview
        assert "DELETE /apis/cert-manager.io/v1/namespaces/" in preview
        assert "/certificaterequests/" in preview
        assert "(deleted)" in preview and "--- CertificateRequest/" in preview  # the diff
        status = shown(screen, "#fix-status")
        assert "preview only: fixes need a live cluster" in status
        # nothing was checked or sent: no RBAC, no dry run, no apply binding
        assert shown(screen, "#fix-rbac") == "" and shown(screen, "#fix-dry") == ""
        assert screen.check_action("apply", ()) is False
        await pilot.press("a")
        assert type(app.screen).__name__ == "FixScreen" and screen.phase == "blocked"
        await pilot.press("escape")
        assert type(app.screen).__name__ == "DetailScreen"
        # the detail screen lists the actions with their keys, greyed with the reason
        text = shown(app.screen, "#describe")
        assert "fix clear-failed-requests" in text and "offline: needs a live cluster" in text


async def test_read_only_live_source_hides_fixes() -> None:
    src = MemorySource(small_cluster(), {"Certificate": SourceState("live")})
    assert src.read_only and src.live
    app = CertDoctorApp(src, clock=demo_clock(NOW))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert app.analysis is not None
        f = next(x for x in app.analysis.findings if x.fixes and x.probes)
        app.open_detail(str(f.object))
        await wait_until(pilot, lambda: bool(getattr(app.screen, "actions", None)), 5)
        detail: Any = app.screen
        acts = detail.actions
        assert acts and all(a.kind == "probe" for a in acts), acts
        text = shown(app.screen, "#describe")
        assert "Fix with" not in text and "fix " not in text
        # no key is bound to a fix (keys are not pressed: a live probe would resolve the
        # scenario's .test names through the system resolver)
        assert {a.key for a in acts} == {str(i) for i in range(1, len(acts) + 1)}


def _plan(deletes: int) -> FixPlan:
    calls = [Call("DELETE", f"/apis/cert-manager.io/v1/namespaces/web/certificaterequests/"
                  f"web-{i}", "delete", Ref("CertificateRequest", "web", f"web-{i}"),
                  "cert-manager.io", "certificaterequests") for i in range(deletes)]
    calls.append(Call("PUT", "/apis/cert-manager.io/v1/namespaces/web/certificates/web/status",
                      "update", Ref("Certificate", "web", "web"), "cert-manager.io",
                      "certificates", "status"))
    return FixPlan("clear-failed-requests", "Delete failed requests, then renew",
                   Ref("Certificate", "web", "web"), calls=calls)


class ModalHost(App[None]):
    def __init__(self, plan: FixPlan) -> None:
        super().__init__()
        self.plan = plan
        self.answers: list[bool | None] = []

    def compose(self) -> ComposeResult:
        yield Static("host")

    def on_mount(self) -> None:
        confirm = importlib.import_module("kubectl_certdoctor.screens.confirm")
        self.push_screen(confirm.ConfirmScreen(self.plan), self.answers.append)


async def test_confirm_starts_on_cancel_and_names_targets() -> None:
    host = ModalHost(_plan(1))
    async with host.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen: Any = host.screen
        assert host.focused is not None and host.focused.id == "cancel"
        text = shown(screen, "#confirm-targets")
        assert "2 API call(s) on 2 object(s)" in text
        assert "DELETE CertificateRequest/web/web-0" in text
        assert "PUT    Certificate/web/web/status" in text
        assert not screen.query("#confirm-input")  # one deletion: no typing needed
        await pilot.press("enter")  # enter on the focused Cancel: nothing happens
        assert host.answers == [False]


async def test_confirm_many_deletions_needs_the_count_typed() -> None:
    host = ModalHost(_plan(3))
    async with host.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen: Any = host.screen
        assert host.focused is not None and host.focused.id == "cancel"
        assert "This deletes 3 objects (web-0, web-1, web-2)" in shown(screen, "#confirm-prompt")
        apply_btn = screen.query_one("#apply", Button)
        assert apply_btn.disabled
        screen.query_one("#confirm-input", Input).focus()
        await pilot.press("2")
        await pilot.press("enter")  # wrong count: stays open
        assert host.answers == [] and apply_btn.disabled
        await pilot.press("backspace", "3")
        assert not apply_btn.disabled
        await pilot.click("#apply")
        assert host.answers == [True]


async def test_confirm_escape_cancels() -> None:
    host = ModalHost(_plan(2))
    async with host.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        assert host.answers == [False]


async def test_help_lists_probe_and_fix_keys() -> None:
    app = demo_app("failed-request-blocks-renewal")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", 5)
        joined = "\n".join(rendered(w) for w in app.screen.query(Static))
        assert "Run the numbered probe/fix of a finding" in joined
        assert "Re-run" in joined and "Copy result" in joined and "Apply…" in joined
