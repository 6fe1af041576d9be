"""Report corpus: bundles rebuilt from public cert-manager reports (tests/data/reports/).

Each bundle reproduces one failure mode at the cert-manager version of its report and
names, in its header, the codes a correct diagnosis must contain (``# expect:``) and must
not contain (``# expect-not:``). Written independently of the rule code: only the public
finding codes are used. The real CLI is run as a subprocess, as a user (or a judge) would:

    kubectl-certdoctor check --from-file BUNDLE -o json --fail-on never

Header keys:
  # expect: CODE[, CODE]     each code must be reported (``none`` = nothing required)
  # expect-not: CODE[, CODE] none of these may be reported
  # healthy: true            no finding of severity error or warning
  # no-error: true           no finding of severity error
  # expect-severity: warning at least one finding of severity warning or error
Every error/warning finding must carry a non-empty ``remedy``; the CLI must not crash
(exit code 2 or a traceback) on any bundle.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "tests" / "data" / "reports"
BUNDLES = sorted(REPORTS.glob("*.yaml"))
SEVERE = {"error", "warning"}


def _cli() -> list[str]:
    exe = ROOT / ".venv" / "bin" / "kubectl-certdoctor"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "kubectl_certdoctor"]


def header(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        m = re.match(r"#\s*([a-z-]+):\s*(.*)$", line)
        if m and m.group(1) not in out:
            out[m.group(1)] = m.group(2).strip()
    return out


def codes(value: str | None) -> set[str]:
    if not value or value.strip().lower() == "none":
        return set()
    return {c.strip() for c in value.split(",") if c.strip()}


def run_check(path: Path) -> tuple[int, str, str]:
    env = {**os.environ, "NO_COLOR": "1", "KUBECONFIG": os.devnull}
    p = subprocess.run([*_cli(), "check", "--from-file", str(path), "-o", "json",
                        "--fail-on", "never"],
                       capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    return p.returncode, p.stdout, p.stderr


def summary(findings: list[dict]) -> str:
    return "\n".join(f"  {f.get('severity')} {f.get('code')} {f.get('object', {}).get('kind')}/"
                     f"{f.get('object', {}).get('name')}: {str(f.get('title'))[:160]}"
                     for f in findings)


def test_corpus_is_populated() -> None:
    assert 30 <= len(BUNDLES) <= 45, len(BUNDLES)
    for p in BUNDLES:
        h = header(p)
        assert h.get("source", "").startswith("http"), f"{p.name}: no # source: URL"
        assert re.fullmatch(r"v1\.\d+\.\d+", h.get("version", "")), f"{p.name}: no # version:"
        assert "expect" in h, f"{p.name}: no # expect:"
        text = p.read_text(encoding="utf-8")
        assert "PRIVATE KEY" not in text and "tls.key:" not in text, f"{p.name}: key material"
        assert f"cert-manager-controller:{h['version']}" in text, f"{p.name}: controller image tag"
        assert '"capturedAt"' in text, f"{p.name}: no capture time"


@pytest.mark.parametrize("path", BUNDLES, ids=lambda p: p.stem)
def test_report_bundle(path: Path) -> None:
    h = header(path)
    rc, out, err = run_check(path)
    assert rc != 2 and "Traceback" not in err, f"CLI failed (exit {rc}):\n{err[-3000:]}"
    assert rc in (0, 1), f"unexpected exit {rc}:\n{err[-2000:]}"
    data = json.loads(out)
    findings = data["findings"] if isinstance(data, dict) else data
    got = {f["code"] for f in findings}
    problems = []
    missing = codes(h.get("expect")) - got
    if missing:
        problems.append(f"missing expected: {sorted(missing)}")
    unwanted = codes(h.get("expect-not")) & got
    if unwanted:
        problems.append(f"reported but must not be: {sorted(unwanted)}")
    severe = [f for f in findings if f.get("severity") in SEVERE]
    if h.get("healthy") == "true" and severe:
        problems.append("healthy bundle has errors/warnings")
    if h.get("no-error") == "true" and any(f.get("severity") == "error" for f in findings):
        problems.append("bundle must have no error")
    if h.get("expect-severity") == "warning" and not severe:
        problems.append("expected at least a warning")
    no_remedy = sorted({f["code"] for f in severe if not str(f.get("remedy") or "").strip()})
    if no_remedy:
        problems.append(f"errors/warnings without remedy: {no_remedy}")
    assert not problems, (f"{path.name} ({h.get('source')}, {h.get('version')}): "
                          + "; ".join(problems) + "\nreported:\n" + summary(findings))
