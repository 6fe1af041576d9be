"""Gap corpus: failure modes from public reports that tests/data/reports does not cover
(tests/data/gaps/, built by tests/data/gaps/_generate.py).

For each bundle the real CLI runs as a subprocess:

    kubectl-certdoctor check --from-file BUNDLE -o json --fail-on never

and the test asserts (a) exit code 0/1 and no traceback, (b) when the bundle holds a stuck
Certificate (``# stuck: true``) at least one warning/error, (c) when ``# want:`` names an
existing finding code (one listed in docs/findings.md), that code is reported. Proposed codes
(``PROPOSED:NAME``) are documentation only and are not asserted.

Written independently of kubectl_certdoctor/rules: only the public codes are used.
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
GAPS = ROOT / "tests" / "data" / "gaps"
BUNDLES = sorted(GAPS.glob("*.yaml"))
SEVERE = {"error", "warning"}
KNOWN_CODES = set(re.findall(r"^## `([A-Z0-9_]+)`",
                             (ROOT / "docs" / "findings.md").read_text(encoding="utf-8"), re.M))


def _cli() -> list[str]:
    exe = ROOT / ".venv" / "bin" / "kubectl-certdoctor"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "kubectl_certdoctor"]


def header(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        m = re.match(r"#\s*([a-z-]+):\s*(.*)$", line)
        if m and m.group(1) not in out:
            out[m.group(1)] = m.group(2).strip()
    return out


def wanted_code(want: str) -> str | None:
    """The existing code a ``# want:`` line names (its first token), or None for PROPOSED:…"""
    first = want.split("|", 1)[0].strip()
    return first if first in KNOWN_CODES else None


def run_check(path: Path) -> tuple[int, str, str]:
    env = {**os.environ, "NO_COLOR": "1", "KUBECONFIG": os.devnull}
    p = subprocess.run([*_cli(), "check", "--from-file", str(path), "-o", "json",
                        "--fail-on", "never"],
                       capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    return p.returncode, p.stdout, p.stderr


def test_gap_corpus_headers() -> None:
    assert 25 <= len(BUNDLES) <= 35, len(BUNDLES)
    assert KNOWN_CODES, "no codes parsed from docs/findings.md"
    for p in BUNDLES:
        h = header(p)
        text = p.read_text(encoding="utf-8")
        assert h.get("source", "").startswith("http"), p.name
        assert re.fullmatch(r"v1\.\d+\.\d+", h.get("version", "")), p.name
        assert h.get("mode") and h.get("want") and h.get("stuck") in ("true", "false"), p.name
        first = h["want"].split("|", 1)[0].strip()
        assert first in KNOWN_CODES or first.startswith("PROPOSED:"), \
            f"{p.name}: want names {first!r}"
        assert "PRIVATE KEY" not in text and "tls.key:" not in text, p.name
        assert f"cert-manager-controller:{h['version']}" in text, p.name
        assert '"capturedAt"' in text, p.name


@pytest.mark.parametrize("path", BUNDLES, ids=lambda p: p.stem)
def test_gap_bundle(path: Path) -> None:
    h = header(path)
    rc, out, err = run_check(path)
    assert "Traceback" not in err and rc in (0, 1), f"CLI failed (exit {rc}):\n{err[-3000:]}"
    data = json.loads(out)
    findings = data["findings"] if isinstance(data, dict) else data
    got = {f["code"] for f in findings}
    listing = "\n".join(f"  {f.get('severity')} {f.get('code')}: {str(f.get('title'))[:150]}"
                        for f in findings)
    if h.get("stuck") == "true":
        assert any(f.get("severity") in SEVERE for f in findings), \
            f"{path.name}: stuck Certificate but no warning/error\n{listing}"
    code = wanted_code(h["want"])
    if code:
        assert code in got, f"{path.name} ({h['source']}): want {code}\nreported:\n{listing}"
