"""``hairpin``: the same URL from outside and from inside the cluster.

Behind a NAT router without NAT loopback (seed 001, pfSense), the public
address works from the internet and the workstation but times out from a
pod: the self-check fails while Let's Encrypt itself would succeed.
"""

from __future__ import annotations

import ipaddress

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
        addr = str(local.data.get("fetch", {}).get("address", ""))
        res.verdict = Verdict.FAIL
        kinds = sorted({str(v.data.get("fetch", {}).get("error_kind")) for v in timeouts})
        lbs = ctx.params.candidate_sources
        res.summary = (f"answers from outside (via {addr}) but not from inside the cluster "
                       f"({'/'.join(kinds)}): {why_unreachable(addr, lbs)}")
        res.evidence.append(f"{addr}: " + address_kind(addr, lbs))
        res.confirms = sorted(set(res.confirms) | {"HTTP01_SELF_CHECK_TIMEOUT"})
    elif local_ok and all(v.verdict is Verdict.PASS for v in inside):
        res.verdict = Verdict.PASS
        res.summary = "the URL answers the same from outside and inside: " + res.summary
    return res


def address_kind(addr: str, load_balancers: dict[str, str]) -> str:
    """What the address the name resolved to is, as far as the cluster and IANA tell."""
    if addr in load_balancers:
        return f"the cluster's own entry point ({load_balancers[addr]})"
    try:
        ip = ipaddress.ip_address(addr.strip("[]"))
    except ValueError:
        return "not an IP address (a proxy or a name answered)" if addr else "unknown"
    where = "a public address" if ip.is_global else "a private address"
    return f"{where}, not one of the cluster's LoadBalancer addresses"


def why_unreachable(addr: str, load_balancers: dict[str, str]) -> str:
    """The cause the failing in-cluster fetch points at, from where the name leads."""
    if addr in load_balancers:
        return (f"{addr} is the cluster's own entry point ({load_balancers[addr]}), yet pods "
                "cannot reach it: this is not a router's NAT loopback but the load balancer "
                "itself — check externalTrafficPolicy (Local with no ingress pod on the "
                "node), kube-proxy's handling of LoadBalancer IPs, and cloud LBs that drop "
                "traffic from their own backends")
    kind = address_kind(addr, load_balancers)
    return (f"{addr} is {kind}: whatever forwards it to the ingress (typically a router "
            "with port forwarding) does not send traffic from inside back in — NAT loopback "
            "(hairpin) is missing. Enable it on the router, or resolve the name to the "
            "ingress's internal address in the cluster (split-horizon DNS)")


SPEC = ProbeSpec(
    id="hairpin",
    title="Same URL from the workstation and from the cluster (NAT loopback)",
    confirms=("HTTP01_SELF_CHECK_TIMEOUT",),
    vantages=(Vantage.LOCAL, Vantage.POD, Vantage.CERT_MANAGER),
    execute=execute,
    params_from=params_from,
    target_help="Challenge/<name>, or a URL",
)
