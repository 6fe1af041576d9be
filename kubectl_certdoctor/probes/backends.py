"""``http01-backends``: ask every entry point, then sample the domain N times.

Seed 000: a HAProxy spread traffic over ingress-nginx and a new Cilium
Gateway; the token lived only behind nginx, so a fetch succeeded or got 404
depending on luck. Asking each entry point directly (with the right Host
header) shows which ones serve the token; the sample histogram shows the
mix a client — and cert-manager's self-check — really gets.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from kubectl_certdoctor.probes.base import (
    ProbeContext,
    ProbeResult,
    ProbeSpec,
    Vantage,
    VantageResult,
    Verdict,
)
from kubectl_certdoctor.probes.common import combine
from kubectl_certdoctor.probes.dnsutil import is_ip, join_hostport, resolve_host, split_hostport
from kubectl_certdoctor.probes.http01 import challenge_target
from kubectl_certdoctor.probes.nethttp import Fetch, fetch, fetch_from_curl
from kubectl_certdoctor.probes.runner import alongside_pods
from kubectl_certdoctor.probes.targets import params_from

CODE = "HTTP01_MULTIPLE_INGRESS_BACKENDS"


def outcome(f: Fetch, key: str) -> str:
    """A histogram bucket: '200', '200 (wrong body)', '404', 'timeout', ..."""
    if f.error:
        return f.error_kind or "error"
    if f.status == 200 and key and f.body.strip() != key:
        return "200 (wrong body)"
    return str(f.status)


def good(bucket: str) -> bool:
    return bucket == "200"


def candidate_list(ctx: ProbeContext, url_port: int) -> list[tuple[str, str]]:
    """(connect-to address, where it came from), entry points first, then the domain's A/AAAA."""
    p = ctx.params
    out: list[tuple[str, str]] = []
    for c in p.candidates:
        host, port = split_hostport(c)
        out.append((join_hostport(host, port or url_port), p.candidate_sources.get(c, "given")))
    if p.domain:
        addrs, _err = resolve_host(p.domain, p.nameservers, p.timeout)
        for a in addrs:
            hp = join_hostport(a, url_port)
            if hp not in [o[0] for o in out]:
                out.append((hp, "the URL's address" if is_ip(p.domain) else f"DNS {p.domain}"))
    return out


def judge(vantage: str, per_candidate: list[tuple[str, str, str]], buckets: list[str],
          n: int) -> VantageResult:
    """Mixed answers across entry points or samples ⇒ more than one backend behind the name."""
    hist = Counter(buckets)
    hist_text = ", ".join(f"{k}×{v}" for k, v in hist.most_common())
    ev = [f"entry point {addr} ({src}): {b}" for addr, src, b in per_candidate]
    ev.append(f"{n} samples of the domain: {hist_text or 'none'}")
    data: dict[str, Any] = {
        "candidates": [{"address": a, "source": s, "outcome": b} for a, s, b in per_candidate],
        "histogram": dict(hist),
    }
    cand_good = {good(b) for _, _, b in per_candidate}
    sample_good = {good(b) for b in buckets}
    if len(sample_good) > 1 or len(cand_good) > 1:
        serving = [a for a, _, b in per_candidate if good(b)]
        not_serving = [a for a, _, b in per_candidate if not good(b)]
        data["confirms"] = [CODE]
        summary = f"split answers: {hist_text}"
        if serving and not_serving:
            summary += (f"; the token is served by {', '.join(serving)} but not by "
                        f"{', '.join(not_serving)}")
        elif len(sample_good) > 1:
            summary += ("; the same name answers differently from one request to the next: "
                        "a load balancer spreads requests over backends that do not all serve "
                        "the token")
        return VantageResult(vantage, Verdict.FAIL, summary, ev, data)
    if sample_good == {True} or (not buckets and cand_good == {True}):
        return VantageResult(vantage, Verdict.PASS,
                             f"every answer served the token ({hist_text})", ev, data)
    if not buckets and not per_candidate:
        return VantageResult(vantage, Verdict.INCONCLUSIVE, "no entry point found", ev, data)
    return VantageResult(vantage, Verdict.FAIL,
                         f"no entry point serves the token ({hist_text})", ev, data)


def execute(ctx: ProbeContext) -> ProbeResult:
    p = ctx.params
    url = challenge_target(ctx)
    import httpx

    u = httpx.URL(url)
    url_port = u.port or (443 if u.scheme == "https" else 80)
    results: dict[str, VantageResult] = ctx.partial
    cands = candidate_list(ctx, url_port)
    ctx.progress(f"{len(cands)} candidate entry point(s): "
                 + ", ".join(f"{a} ({s})" for a, s in cands))

    def local() -> None:
        """The workstation's check: runs while the debug pods do (``alongside_pods``)."""
        if not ctx.runnable(Vantage.LOCAL):
            return
        per: list[tuple[str, str, str]] = []
        for addr, src in cands:
            ctx.check()
            f = fetch(url, servers=p.nameservers, connect_to=addr, timeout=p.timeout)
            ctx.progress(f"{addr}: {f.line()}", "local")
            per.append((addr, src, outcome(f, p.key)))
        buckets: list[str] = []
        for i in range(p.samples):
            ctx.check()
            f = fetch(url, servers=p.nameservers, timeout=p.timeout)
            buckets.append(outcome(f, p.key))
            if (i + 1) % 5 == 0 or i + 1 == p.samples:
                ctx.progress(f"sampled {i + 1}/{p.samples}: {dict(Counter(buckets))}", "local")
        results["local"] = judge("local", per, buckets, p.samples)

    def interpret(v: Vantage, d: dict[str, Any]) -> VantageResult:
        per: list[tuple[str, str, str]] = []
        srcs = dict(cands)
        for c in d.get("candidates") or []:
            addr = str(c.get("addr", ""))
            per.append((addr, srcs.get(addr, ""), outcome(fetch_from_curl(c.get("r") or {}, url),
                                                          p.key)))
        codes = str(d.get("samples", "")).split()
        # the pod only records status codes; a 200 is judged without the body there
        buckets = ["timeout" if c == "000" else c for c in codes]
        return judge(v.value, per, buckets, len(codes))

    # the termination message holds 4096 bytes: at most 8 entry points from a pod
    env = {"URL": url, "CANDIDATES": " ".join(a for a, _ in cands[:8]),
           "SAMPLES": str(p.samples)}
    results.update(alongside_pods(ctx, local, env, interpret, "http01-backends"))
    return combine("http01-backends", results, what=f"{url} across {len(cands)} entry point(s)")


SPEC = ProbeSpec(
    id="http01-backends",
    title="Fetch the challenge URL through every entry point and sample the domain",
    confirms=(CODE,),
    vantages=(Vantage.LOCAL, Vantage.POD, Vantage.CERT_MANAGER),
    execute=execute,
    params_from=params_from,
    target_help="Challenge/<name>, or a URL",
    default_timeout=120.0,
)
