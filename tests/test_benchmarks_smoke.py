"""The benchmark harness at small N, so it cannot rot between benchmark runs.

The real numbers (10,000 Certificates on a noisy cluster) are recorded in BENCHMARKS.md by
``python -m benchmarks``; this runs the same code path at small N: a noisy cluster (Helm
release Secrets whose data carries a canary, Events, Services), two sizes of cert-manager
objects, the counting relay and a short update storm. It proves the harness works end to
end, that the number of API requests does not grow with N, and that not one byte of the
unrelated Secrets' data reaches the tool (every received body is scanned for the canary).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    subprocess.run([sys.executable, "-m", "benchmarks", "--sizes", "50,200", "--repeat", "1",
                    "--update-seconds", "2", "--update-rate", "10",
                    "--noise-secrets", "500", "--noise-events", "1000",
                    "--noise-services", "100", "--json", str(out)],
                   cwd=ROOT, check=True, capture_output=True, timeout=280)
    res = json.loads(out.read_text())
    small, large = res["sizes"]["50"], res["sizes"]["200"]
    # one LIST+WATCH per kind: the request count is a property of the kinds, not of N
    assert large["requests"] == small["requests"]
    assert large["requests_by_verb"] == small["requests_by_verb"]
    for r in (small, large):
        assert r["tree_s"] > 0 and r["kubectl_get_s"] > 0 and r["peak_rss_mb"] > 10
        # no byte of an unrelated Secret's data: the canary is in none of the bodies ...
        assert r["canary_hits"] == 0
        # ... and the whole Secret watch received a fraction of their data (metadata only)
        noise_data = res["noise"]["secret_data_bytes"]
        assert 0 < r["secret_meta_bytes"] < noise_data / 10
        assert r["secret_get_bytes"] == 0  # none of the noise Secrets is referenced
        assert r["forbidden"] == 0
        # the relay saw the tool's traffic, and the store counted (almost) all of it
        assert r["tree_wire_bytes"] > r["store_bytes"] > 0
        assert r["kubectl_wire_bytes"] > 0
    u = res["updates"]
    assert u["update_latencies_n"] >= 15 and u["update_missed"] <= 2
    assert u["requests_after_updates"] == u["requests_at_tree"]
    assert u["canary_hits_b64"] == u["canary_hits_raw"] == 0
    assert res["startup"]["help_median_s"] < 0.3


def test_canary_scanner_finds_planted_data() -> None:
    """The scanner would see the canary if it came: whole bodies, and split across reads."""
    from benchmarks import tree
    from benchmarks.noise import CANARY, CANARY_B64, helm_secret

    tree._PATTERNS = (CANARY_B64, CANARY)
    before = dict(tree._SCAN)
    body = helm_secret("noise-00", 7, 2048)
    assert CANARY_B64 in body

    class Resp:
        pass

    tree._scan(Resp(), body)
    r = Resp()
    cut = body.index(CANARY_B64) + 5
    tree._scan(r, body[:cut])
    tree._scan(r, body[cut:])
    tree._scan(Resp(), b"xx" + CANARY + b"yy")
    assert tree._SCAN["canary_b64"] - before["canary_b64"] == 2
    assert tree._SCAN["canary_raw"] - before["canary_raw"] == 1
