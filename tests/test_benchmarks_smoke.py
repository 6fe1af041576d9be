"""The benchmark harness at small N, so it cannot rot between benchmark runs.

The real numbers (N = 1,000 / 5,000 / 10,000) are recorded in BENCHMARKS.md by
``python -m benchmarks``; this only proves the harness works end to end and
that the number of API requests does not grow with N.
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
@pytest.mark.timeout(600)
def test_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    subprocess.run([sys.executable, "-m", "benchmarks", "--sizes", "20,80", "--repeat", "1",
                    "--update-seconds", "2", "--update-rate", "10", "--json", str(out)],
                   cwd=ROOT, check=True, capture_output=True, timeout=560)
    res = json.loads(out.read_text())
    small, large = res["sizes"]["20"], res["sizes"]["80"]
    # one LIST+WATCH per kind: the request count is a property of the kinds, not of N
    assert large["requests"] <= small["requests"] + 2
    for r in (small, large):
        assert r["tree_s"] > 0 and r["kubectl_get_s"] > 0 and r["peak_rss_mb"] > 10
    u = res["updates"]
    assert u["update_latencies_n"] >= 15 and u["update_missed"] <= 2
    assert u["requests_after_updates"] == u["requests_at_tree"]
    assert res["startup"]["help_median_s"] < 0.3
