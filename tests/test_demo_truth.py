"""The demo tells the truth (issue 16, item 6): ``--demo list``; the Secrets' certificates
agree with their Certificates' status at any demo time; probes that need no cluster
(``account``, ``no-proxy``) run on a bundle; a recorded result is marked as recorded and
only the demo shows one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubectl_certdoctor import scenarios
from kubectl_certdoctor.app import CertDoctorApp, demo_clock
from kubectl_certdoctor.cli import main
from kubectl_certdoctor.objects import Ref, dig, parse_time
from kubectl_certdoctor.source import StaticSource
from kubectl_certdoctor.widgets.certinfo import CertInfo, parse_secret
from tests.support.tui import settle, wait_until
from tests.support.tui_actions import shown

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_demo_list(capsys: Any) -> None:
    assert main(["--demo", "list"]) == 0
    out = capsys.readouterr().out
    for name in scenarios.names():
        assert name in out and scenarios.info(name).title in out
    assert main(["check", "--demo", "list"]) == 0


@pytest.mark.parametrize("now", [NOW, NOW + timedelta(days=17), NOW + timedelta(days=300)])
def test_secret_certificates_agree_with_the_certificates(now: datetime) -> None:
    checked = 0
    for name in scenarios.names():
        objs = scenarios.load(name, now)
        for cert in objs.of_kind("Certificate"):
            want = parse_time(dig(cert, "status", "notAfter"))
            sec = objs.get("Secret", cert["metadata"]["namespace"],
                           str(dig(cert, "spec", "secretName")))
            if want is None or sec is None:
                continue
            info = parse_secret(sec)
            assert isinstance(info, CertInfo), (name, info)
            assert info.not_after == want, (name, info.not_after, want)
            checked += 1
    assert checked >= 3


async def test_offline_probes_run_on_a_bundle_and_say_so() -> None:
    objs = scenarios.load("acme-egress-proxy", NOW)
    app = CertDoctorApp(StaticSource.of(objs, origin="bundle: report.yaml"),
                        clock=demo_clock(NOW))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot, app)
        from kubectl_certdoctor.screens.probe import ProbeScreen

        issuer = Ref.of(objs.of_kind("ClusterIssuer")[0])
        probe = ProbeScreen("no-proxy", issuer)
        app.push_screen(probe)
        await wait_until(pilot, lambda: probe.result is not None, 10, "the offline run",
                         show=lambda: probe.error)
        await pilot.pause()
        assert probe.mode == "offline"
        status = shown(probe, "#probe-status")
        assert "OFFLINE" in status and "no network" in status
        assert "NO_PROXY lacks .svc" in shown(probe, "#probe-verdict")
        await pilot.press("escape")

        # a network probe on a bundle: never a recording, never a run
        probe = ProbeScreen("egress", issuer)
        app.push_screen(probe)
        await wait_until(pilot, lambda: probe.is_mounted and bool(probe.plan)
                         and not probe.running, 5, "settled")
        assert probe.result is None and probe.mode == "live"
        assert "not run: probes need a live cluster" in shown(probe, "#probe-status")
