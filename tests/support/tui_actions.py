"""Helpers for the probe/fix screen tests: reading what a screen shows, opening actions."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Static

from kubectl_certdoctor.app import CertDoctorApp
from kubectl_certdoctor.rules.finding import Finding
from tests.support.tui import wait_until


def shown(screen: Any, selector: str) -> str:
    """A Static's content as plain text, rendered like a 200-column terminal."""
    return rendered(screen.query_one(selector, Static))


def rendered(w: Static) -> str:
    """What one Static shows, as plain text (Rich renderables rendered 200 columns wide)."""
    content = w.content
    if isinstance(content, Text):
        return content.plain
    if isinstance(content, str):
        return content
    console = Console(width=200, file=io.StringIO(), color_system=None)
    with console.capture() as cap:
        console.print(content)
    return cap.get()


def finding_with(app: CertDoctorApp, kind: str, action_id: str) -> Finding:
    """The first finding that names probe/fix ``action_id``."""
    a = app.analysis
    assert a is not None
    for f in a.findings:
        if action_id in (f.probes if kind == "probe" else f.fixes):
            return f
    raise AssertionError(f"no finding names {kind} {action_id}: "
                         f"{[(f.code, f.probes, f.fixes) for f in a.findings]}")


async def diagnosed(pilot: Pilot[Any], app: CertDoctorApp, kind: str, action_id: str,
                    timeout: float = 20) -> Finding:
    """Wait until a finding names probe/fix ``action_id``, and return it."""
    await wait_until(pilot, lambda: app.analysis is not None and any(
        action_id in (x.probes if kind == "probe" else x.fixes) for x in app.analysis.findings),
        timeout, f"a finding that names {kind} {action_id}")
    return finding_with(app, kind, action_id)


async def open_action(pilot: Pilot[Any], app: CertDoctorApp, f: Finding, kind: str,
                      action_id: str) -> Any:
    """Open the finding's object in the detail screen and press the action's number key."""
    app.open_detail(str(f.object))
    await wait_until(pilot, lambda: type(app.screen).__name__ == "DetailScreen"
                     and bool(getattr(app.screen, "actions", None)), 5, "detail actions")
    detail: Any = app.screen
    acts = detail.actions
    act = next((x for x in acts if x.kind == kind and x.id == action_id), None)
    assert act is not None and act.key, [(x.key, x.kind, x.id) for x in acts]
    await pilot.press(act.key)
    want = "ProbeScreen" if kind == "probe" else "FixScreen"
    # the first debug pod of a session asks first (PodConfirmScreen, over the probe screen)
    await wait_until(pilot, lambda: type(app.screen).__name__ in (want, "PodConfirmScreen"),
                     5, want)
    return next(s for s in reversed(app.screen_stack) if type(s).__name__ == want)
