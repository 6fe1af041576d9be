"""``hairpin``: the same URL from outside and from inside the cluster.

Behind a NAT router without NAT loopback (seed 001, pfSense), the public
address works from the internet and the workstation but times out from a
pod: the self-check fails while Let's Encrypt itself would succeed.
"""

from __future__ import annotations

from kubectl_certdoctor.probes.base import (
    ProbeContext,
    ProbeResult,
    ProbeSpec,
    Vantage,
    Verdict,
)
from kubectl_certdoctor.probes.common import combine
from kubectl_certdoctor.probes.http01 import challenge_target, fetch_everywhere
from kubectl_certdoctor.probes.targets import params_from


def execute(ctx: ProbeContext) -> ProbeResult:
    url = challenge_target(ctx)
    results = fetch_everywhere(ctx, url, "hairpin")
    res = combine("hairpin", results, what=f"GET {url}")
    local = results.get("local")
    inside = [v for k, v in results.items() if k != "local" and not v.skipped]
    if local is None or local.skipped or not inside:
        res.verdict = Verdict.INCONCLUSIVE
        res.summary = "hairpin needs both the local and an in-cluster result — " + res.summary
        return res
    local_ok = local.data.get("fetch", {}).get("status") is not None
    timeouts = [v for v in inside
                if v.data.get("fetch", {}).get("error_kind") in ("timeout", "connect")]
    if local_ok and timeouts:
        addr = local.data.get("fetch", {}).get("address", "")
        res.verdict = Verdict.FAIL
        kinds = sorted({str(v.data.get("fetch", {}).get("error_kind")) for v in timeouts})
        res.summary = (f"answers from outside (via {addr}) but not from inside the cluster "
                       f"({'/'.join(kinds)}): NAT loopback (hairpin) is missing — enable it on "
                       "the router, or resolve the name to the ingress's internal address "
                       "in the cluster (split-horizon DNS)")
        res.confirms = sorted(set(res.confirms) | {"HTTP01_SELF_CHECK_TIMEOUT"})
    elif local_ok and all(v.verdict is Verdict.PASS for v in inside):
        res.verdict = Verdict.PASS
        res.summary = "the URL answers the same from outside and inside: " + res.summary
    return res


SPEC = ProbeSpec(
    id="hairpin",
    title="Same URL from the workstation and from the cluster (NAT loopback)",
    confirms=("HTTP01_SELF_CHECK_TIMEOUT",),
    vantages=(Vantage.LOCAL, Vantage.POD, Vantage.CERT_MANAGER),
    execute=execute,
    params_from=params_from,
    target_help="Challenge/<name>, or a URL",
)
