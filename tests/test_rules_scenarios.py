"""Every scenario of the library yields exactly its expected codes (offline, from the files).

Exactness: every expected code is reported; no error/warning code is reported that the
scenario does not list; info codes are allowed only when listed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kubectl_certdoctor import scenarios
from kubectl_certdoctor.bundle import write_bundle
from kubectl_certdoctor.cli import main
from kubectl_certdoctor.graph import build_graph
from kubectl_certdoctor.rules import run_rules
from kubectl_certdoctor.rules.catalog import CATALOG
from kubectl_certdoctor.rules.finding import Finding

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def expected_codes(name: str) -> set[str]:
    return set(scenarios.info(name).expected)


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


@pytest.mark.parametrize("name", scenarios.names())
def test_scenario_from_a_bundle_file_via_cli(name: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """dump → --from-file: the same exact codes through the bundle writer/reader and the CLI
    (judged at the real current time, the scenario shifted to it)."""
    path = tmp_path / f"{name}.yaml"
    with path.open("w", encoding="utf-8") as fp:
        write_bundle(scenarios.load(name, datetime.now(UTC)), fp, {"context": f"demo:{name}"})
    rc = main(["check", "--from-file", str(path), "-o", "json", "--fail-on", "never"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0
    got = {f["code"] for f in doc["findings"]}
    assert got == expected_codes(name), [(f["code"], f["object"]) for f in doc["findings"]]


def test_healthy_scenario_has_no_error_or_warning() -> None:
    healthy = [n for n in scenarios.names() if not expected_codes(n)]
    assert healthy, "the library needs a healthy baseline"
    for n in healthy:
        fs = run_rules(build_graph(scenarios.load(n, NOW), NOW), NOW)
        assert [f.code for f in fs if f.severity.value != "info"] == []
