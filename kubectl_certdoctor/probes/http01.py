"""``http01``: fetch the Challenge URL and compare the body with the key.

cert-manager's self-check is a plain GET from inside the cluster that
follows redirects and wants HTTP 200 with exactly the key; running the same
GET from each vantage shows where it breaks.
"""

from __future__ import annotations

from typing import Any

from kubectl_certdoctor.errors import UsageError
from kubectl_certdoctor.noproxy import proxy_variable
from kubectl_certdoctor.probes.base import (
    ProbeContext,
    ProbeResult,
    ProbeSpec,
    Vantage,
    VantageResult,
)
from kubectl_certdoctor.probes.common import combine, judge_fetch
from kubectl_certdoctor.probes.nethttp import fetch, fetch_from_curl
from kubectl_certdoctor.probes.podrunner import PodPlacement
from kubectl_certdoctor.probes.runner import alongside_pods
from kubectl_certdoctor.probes.targets import challenge_url, params_from


def challenge_target(ctx: ProbeContext) -> str:
    p = ctx.params
    if p.url:
        return p.url
    if not p.domain:
        raise UsageError("http01 needs a Challenge (or a URL/host) as target")
    return challenge_url(p.domain, p.token, p.port)


PROXY_NAMES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy")
NO_PROXY_NAMES = ("NO_PROXY", "no_proxy")
#: stands for a proxy variable whose value the pod gets from a reference
_REF = "http://value-from-reference.invalid"


def pod_proxy(url: str, placement: PodPlacement,
              no_proxy_fallback: str = "") -> tuple[dict[str, str], list[str]]:
    """Go's proxy decision (net/http ProxyFromEnvironment, :mod:`noproxy`) for the first
    request of the self-check, from the pod's own env: ``PROXY_VAR`` names the variable
    whose value curl gets as ``--proxy`` (empty: ``--noproxy '*'``, direct)."""
    env = placement.env_names()
    refs = placement.references()
    ev: list[str] = []
    for n in refs & set(PROXY_NAMES):
        env[n] = _REF
    unknown = sorted(refs & set(NO_PROXY_NAMES))
    if unknown:
        for n in unknown:
            env[n] = no_proxy_fallback
        ev.append(f"{'/'.join(unknown)} comes from a reference: decided with "
                  f"NO_PROXY={no_proxy_fallback or '(empty)'}")
    var = proxy_variable(url, env)
    if var is None:
        ev.append("proxy decision (Go's rules): direct")
        return {"PROXY_VAR": ""}, ev
    src = "a reference the kubelet resolves" if var in refs else "a literal value"
    ev.append(f"proxy decision (Go's rules): through ${var} ({src})")
    return {"PROXY_VAR": var}, ev


def fetch_everywhere(ctx: ProbeContext, url: str, script_id: str) -> dict[str, VantageResult]:
    """The same GET from the workstation and from every runnable pod vantage, judged."""
    p = ctx.params
    results: dict[str, VantageResult] = ctx.partial

    def local() -> None:
        """The workstation's check: runs while the debug pods do (``alongside_pods``)."""
        if not ctx.runnable(Vantage.LOCAL):
            return
        ctx.progress(f"GET {url}", "local")
        # as cert-manager's self-check: TLS not verified on redirects, body compared exactly
        f = fetch(url, servers=p.nameservers, timeout=p.timeout, ca_pem=p.ca_pem,
                  verify=False, key=p.key)
        ctx.progress(f.line(), "local")
        results["local"] = judge_fetch("local", f, p.key)

    def interpret(v: Vantage, d: dict[str, Any]) -> VantageResult:
        return judge_fetch(v.value, fetch_from_curl(d.get("fetch") or {}, url), p.key)

    def env_for(v: Vantage, placement: PodPlacement) -> tuple[dict[str, str], list[str]]:
        return pod_proxy(url, placement, p.no_proxy)

    results.update(alongside_pods(ctx, local, {"URL": url, "KEY": p.key}, interpret,
                                  script_id, env_for))
    return results


def execute(ctx: ProbeContext) -> ProbeResult:
    url = challenge_target(ctx)
    return combine("http01", fetch_everywhere(ctx, url, "http01"), what=f"GET {url}")


SPEC = ProbeSpec(
    id="http01",
    title="Fetch the HTTP-01 challenge URL and compare the body with the key",
    confirms=("HTTP01_SELF_CHECK_404", "HTTP01_SELF_CHECK_TIMEOUT", "HTTP01_SELF_CHECK_REDIRECT"),
    vantages=(Vantage.LOCAL, Vantage.POD, Vantage.CERT_MANAGER),
    execute=execute,
    params_from=params_from,
    target_help="Challenge/<name>, or a URL",
)
