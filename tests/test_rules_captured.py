"""Bundles captured from the real cert-manager v1.21.1 controller in the lab (scripts/lab
capture → kubectl_certdoctor/scenarios/captured/): judged at their capture time, each gives
exactly the codes its header lists. This tests the rules on cert-manager's real wording."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from kubectl_certdoctor.bundle import load_bundle
from kubectl_certdoctor.graph import build_graph
from kubectl_certdoctor.rules import run_rules

CAPTURED = Path(__file__).resolve().parents[1] / "kubectl_certdoctor" / "scenarios" / "captured"
FILES = sorted(CAPTURED.glob("*.yaml"))


def header(path: Path) -> tuple[set[str], datetime]:
    head = "".join(path.open(encoding="utf-8").readlines()[:8])
    m = re.search(r"^# expected findings: *(.*)$", head, re.M)
    t = re.search(r"captured (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)", head)
    assert m and t, f"{path.name}: no expected findings / capture time in the header"
    listed = m.group(1).strip()
    codes = set() if listed.startswith("none") else {c.strip() for c in listed.split(",")}
    return codes, datetime.fromisoformat(t.group(1).replace("Z", "+00:00"))


@pytest.mark.skipif(not FILES, reason="no captured lab bundles in the tree")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_captured_bundle_exact_codes(path: Path) -> None:
    want, captured_at = header(path)
    objs = load_bundle(path)
    findings = run_rules(build_graph(objs, captured_at), captured_at)
    got = {f.code for f in findings}
    assert got == want, [(f.code, str(f.object), f.title) for f in findings]
