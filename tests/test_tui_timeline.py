"""``l`` on the tree and on the detail screen opens the timeline: the controller's log lines
about the object merged with its Events, redacted, with the reason when the log cannot be
read (a bundle, a forbidden pods/log). The log itself comes from the source; the live
path through the real pods/log endpoint is tests/test_timeline_node.py."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Static

from kubectl_certdoctor.app import CertDoctorApp, demo_clock
from kubectl_certdoctor.cluster.podlogs import RBAC_HINT, LogFetch, PodLog
from kubectl_certdoctor.source import StaticSource
from tests.support.diagnosis import NOW
from tests.support.tui import MemorySource, is_screen, settle, small_cluster, wait_until
from tests.support.tui_actions import rendered, shown

CHALLENGE = "Challenge/web/shop-1-1234-99"
POD = "cert-manager/cert-manager-5c6d7f-abcde"


def at(minutes: float) -> str:
    return (NOW + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


LOG = [
    f'{at(-8)} I1123 06:52:00.000000       1 controller.go:120] "starting controller" '
    'logger="cert-manager.controller"',
    f'{at(-5)} E1123 06:55:00.000000       1 sync.go:190] "propagation check failed" '
    'err="wrong status code \'404\', expected \'200\'" logger="cert-manager.challenges" '
    'resource_name="shop-1-1234-99" resource_namespace="web" resource_kind="Challenge" '
    'resource_version="v1" dnsName="shop.example.test" type="HTTP-01" '
    'token="s3cr3t-token-value"',
    f'{at(-1)} E1123 06:59:00.000000       1 sync.go:190] "other challenge" '
    'resource_name="blog-1-1" resource_namespace="web" resource_kind="Challenge"',
]


class LoggedSource(MemorySource):
    """A live-looking source whose controller log is ``fetch`` (the screens' contract)."""

    def __init__(self, fetch: LogFetch) -> None:
        super().__init__(small_cluster())
        self.fetch = fetch
        self.reads = 0

    def controller_logs(self) -> LogFetch:
        self.reads += 1
        return self.fetch


async def _open_on_tree(app: CertDoctorApp, pilot: object) -> None:
    ts = app.tree_screen
    assert ts is not None and ts.cert_tree.reveal(CHALLENGE)


async def test_l_on_the_tree_merges_log_lines_and_events() -> None:
    src = LoggedSource(LogFetch([PodLog(POD, "cert-manager-controller", LOG)], [],
                                "last 2000 lines"))
    app = CertDoctorApp(src, clock=demo_clock(NOW))
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot, app)
        await _open_on_tree(app, pilot)
        await pilot.press("l")
        assert is_screen(app, "TimelineScreen")
        await wait_until(pilot, lambda: app.screen.fetch is not None, what="log read")
        await pilot.pause()
        body = shown(app.screen, "#timeline")
        status = shown(app.screen, "#timeline-status")
        title = shown(app.screen, "#timeline-title")
    assert "Challenge web/shop-1-1234-99" in title
    assert "propagation check failed" in body
    assert "PresentError" in body  # the Event, merged
    assert "other challenge" not in body and "starting controller" not in body
    assert "s3cr3t-token-value" not in body and "<redacted>" in body
    # the Event (3 minutes ago) comes after the log line (5 minutes ago)
    assert body.index("propagation check failed") < body.index("PresentError")
    assert f"1 of 3 log lines from {POD} mention it" in status
    assert src.reads == 1


async def test_l_on_the_detail_screen_and_r_reads_again() -> None:
    src = LoggedSource(LogFetch([], [f"forbidden: get pods/log {POD} — {RBAC_HINT}"]))
    app = CertDoctorApp(src, clock=demo_clock(NOW))
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot, app)
        app.open_detail(CHALLENGE)
        await pilot.pause()
        await pilot.press("l")
        assert is_screen(app, "TimelineScreen")
        await wait_until(pilot, lambda: app.screen.fetch is not None, what="log read")
        status = shown(app.screen, "#timeline-status")
        assert "RBAC verb 'get' on resource 'pods/log'" in status
        assert "PresentError" in shown(app.screen, "#timeline")  # Events still shown
        await pilot.press("r")
        await wait_until(pilot, lambda: src.reads == 2 and app.screen.fetch is not None,
                         what="second read")
        await pilot.press("escape")
        assert is_screen(app, "DetailScreen")


async def test_bundle_says_logs_need_a_live_cluster_and_never_reads() -> None:
    src = StaticSource.of(small_cluster())
    app = CertDoctorApp(src, clock=demo_clock(NOW))
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot, app)
        await _open_on_tree(app, pilot)
        await pilot.press("l")
        await wait_until(pilot, lambda: getattr(app.screen, "fetch", None) is not None,
                         what="offline answer")
        status = shown(app.screen, "#timeline-status")
        body = shown(app.screen, "#timeline")
    assert "controller logs need a live cluster" in status
    assert "PresentError" in body


async def test_help_lists_l() -> None:
    app = CertDoctorApp(StaticSource.of(small_cluster()), clock=demo_clock(NOW))
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause()
        text = "\n".join(rendered(w) for w in app.screen.query(Static))
    assert "Logs + Events timeline" in text and "Read the log again" in text
