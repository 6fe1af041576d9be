"""Offline: the bundles ``scripts/lab capture`` took from cert-manager's real controllers.

No cluster here: each captured bundle is opened with the project's own
``load_bundle`` and diagnosed at the time it was captured, so the rules are
held to the objects and wording cert-manager v1.21.1 really produces.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from kubectl_certdoctor.bundle import META_ANNOTATION, load_bundle
from kubectl_certdoctor.graph import build_graph
from kubectl_certdoctor.rules import run_rules
from kubectl_certdoctor.rules.finding import Severity
from tests.support import lab_scenarios as ls

CAPTURED = Path(__file__).resolve().parents[1] / "kubectl_certdoctor" / "scenarios" / "captured"
HEADER = "# captured from cert-manager v1.21.1 by scripts/lab"
#: ACME scenarios whose issuer never registers an account, so no Order is ever created
NO_ORDER = {"lab-acme-unreachable", "lab-acme-eab-required"}


def captured_at(path: Path) -> datetime:
    """When the dump was taken (from the bundle's own metadata)."""
    doc = yaml.safe_load(path.read_text())
    meta = json.loads(doc["metadata"]["annotations"][META_ANNOTATION])
    return datetime.strptime(meta["capturedAt"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_every_lab_scenario_is_captured() -> None:
    assert sorted(p.stem for p in CAPTURED.glob("*.yaml")) == sorted(ls.BY_NAME)
    for path in CAPTURED.glob("*.yaml"):
        text = path.read_text()
        assert text.startswith(HEADER + "\n"), path.name
        assert "PRIVATE KEY" not in text, path.name


@pytest.mark.parametrize("name", sorted(ls.BY_NAME))
def test_captured_bundle_diagnoses_as_in_the_lab(name: str) -> None:
    scenario = ls.BY_NAME[name]
    path = CAPTURED / f"{name}.yaml"
    objs = load_bundle(path)
    when = captured_at(path)
    if name == "lab-acme-dns01-bad-tsig":
        when += timedelta(minutes=6)  # past the DNS-01 rule's grace; the wrong key never heals
    graph = build_graph(objs, when)
    findings = run_rules(graph, when)
    codes = {f.code for f in findings}
    assert set(scenario.expect_codes) <= codes, sorted(codes)
    if scenario.healthy:
        assert [f.code for f in findings if f.severity != Severity.INFO] == []
    # the controller's own objects are in the bundle, not just the inputs
    kinds = {o.get("kind") for o in objs}
    assert "CertificateRequest" in kinds and "Event" in kinds
    if name.startswith("lab-acme-") and name not in NO_ORDER:
        assert "Order" in kinds

