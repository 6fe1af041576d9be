"""Every scenario of the library yields exactly its expected codes (offline, from the files).

Exactness: every expected code is reported; no error/warning code is reported that the
scenario does not list; info codes are allowed only when listed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kubectl_certdoctor import scenarios
from kubectl_certdoctor.graph import build_graph
from kubectl_certdoctor.rules import run_rules
from kubectl_certdoctor.rules.catalog import CATALOG
from kubectl_certdoctor.rules.finding import Finding

if not hasattr(scenarios, "names"):  # the library lands in parallel with the rules
    pytest.skip("scenario library not available yet", allow_module_level=True)

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def expected_codes(name: str) -> set[str]:
    info: Any = scenarios.info(name)
    for key in ("expected", "expected_codes", "codes"):
        value = info.get(key) if isinstance(info, dict) else getattr(info, key, None)
        if value is not None:
            return {str(c) for c in value}
    raise AssertionError(f"scenario {name}: no expected codes in {info!r}")


def check_exact(name: str, findings: list[Finding]) -> None:
    want = expected_codes(name)
    got = {f.code for f in findings}
    assert want <= set(CATALOG), f"{name}: unknown codes {sorted(want - set(CATALOG))}"
    missing = want - got
    extra = {c for c in got - want}
    detail = [(f.code, str(f.object), f.title) for f in findings if f.code in extra]
    assert not missing and not extra, (
        f"{name}: missing {sorted(missing)}, unexpected {detail}")


@pytest.mark.parametrize("name", scenarios.names())
def test_scenario_yields_exactly_its_codes(name: str) -> None:
    objs = scenarios.load(name, NOW)
    check_exact(name, run_rules(build_graph(objs, NOW), NOW))


@pytest.mark.parametrize("name", scenarios.names())
def test_scenario_graph_drops_nothing(name: str) -> None:
    objs = scenarios.load(name, NOW)
    g = build_graph(objs, NOW)
    for kind in ("Issuer", "ClusterIssuer", "Certificate", "CertificateRequest", "Order",
                 "Challenge"):
        shown = {n.ref.name for n in g.of_kind(kind)}
        assert {o["metadata"]["name"] for o in objs.of_kind(kind)} <= shown, kind


def test_demo_loads_everything_and_never_raises() -> None:
    objs = scenarios.load_demo(NOW)
    g = build_graph(objs, NOW)
    assert g.roots
    run_rules(g, NOW)
