"""Shared judgement helpers: an HTTP-01 fetch against the key, and combining vantages."""

from __future__ import annotations

from kubectl_certdoctor.probes.base import ProbeResult, VantageResult, Verdict
from kubectl_certdoctor.probes.nethttp import Fetch


def judge_fetch(vantage: str, f: Fetch, key: str) -> VantageResult:
    """Pass when the challenge URL answers 200 with exactly the key (what cert-manager checks)."""
    data: dict[str, object] = {"fetch": f.to_json()}
    ev = [f.line()]
    ev += [f"redirected to {r}" for r in f.redirects if not r.startswith("(hop")]
    if f.error:
        codes = ["HTTP01_SELF_CHECK_TIMEOUT"] if f.error_kind in ("timeout", "connect") else []
        data["confirms"] = codes
        return VantageResult(vantage, Verdict.FAIL, f"{f.error_kind} error: {f.error}", ev, data)
    body = f.body
    # cert-manager compares the raw body with the key exactly, whitespace included
    exact = f.exact if f.exact is not None else body == key
    if f.status == 200 and key and exact:
        return VantageResult(vantage, Verdict.PASS, "HTTP 200, body matches the key", ev, data)
    if f.status == 200 and not key:
        return VantageResult(vantage, Verdict.INCONCLUSIVE,
                             "HTTP 200, but no key to compare with (no Challenge selected)",
                             ev, data)
    codes = []
    if f.status == 404:
        codes.append("HTTP01_SELF_CHECK_404")
    if f.redirects:
        codes.append("HTTP01_SELF_CHECK_REDIRECT")
    data["confirms"] = codes
    if f.status == 200 and body.strip() == key:
        ev.append(f"body {body[:80]!r} is the key plus whitespace")
        return VantageResult(vantage, Verdict.FAIL,
                             "HTTP 200 but the body is the key plus whitespace "
                             "(cert-manager compares exactly)", ev, data)
    if f.status == 200:
        ev.append(f"body {body[:80]!r} is not the key {key[:80]!r}")
        return VantageResult(vantage, Verdict.FAIL, "HTTP 200 but the body is not the key",
                             ev, data)
    return VantageResult(vantage, Verdict.FAIL, f"HTTP {f.status} (cert-manager expects 200)",
                         ev, data)


def combine(probe: str, results: dict[str, VantageResult], *, what: str = "") -> ProbeResult:
    """Fail if any vantage failed, pass if every run vantage passed, else inconclusive.

    Without ``what``, a single vantage's summary is the probe's summary as is.
    """
    ran = {k: v for k, v in results.items() if not v.skipped}
    verdicts = {v.verdict for v in ran.values()}
    if Verdict.FAIL in verdicts:
        verdict = Verdict.FAIL
    elif ran and verdicts == {Verdict.PASS}:
        verdict = Verdict.PASS
    else:
        verdict = Verdict.INCONCLUSIVE
    parts = [f"{k}: {v.summary}" for k, v in ran.items()]
    if not what and len(ran) == 1:
        summary = next(iter(ran.values())).summary
    else:
        summary = f"{what} — " + "; ".join(parts) if parts else f"{what} — nothing ran"
    confirms: list[str] = []
    for v in ran.values():
        if v.verdict is Verdict.FAIL:
            for c in v.data.get("confirms", []) or []:
                if c not in confirms:
                    confirms.append(str(c))
    evidence = [f"[{k}] {e}" for k, v in ran.items() for e in v.evidence]
    raw = "\n".join(f"--- {k}\n{v.raw}" for k, v in ran.items() if v.raw)
    return ProbeResult(probe, verdict, summary, evidence, raw, dict(results), confirms)
