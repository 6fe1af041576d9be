"""``no-proxy``: which of the controller's destinations go through its proxy (Go's rules).

Seed 004 ended with adding the ACME host to NO_PROXY; the opposite mistake is
as common: a cluster-wide proxy without ``.svc``/``kubernetes.default.svc``
in NO_PROXY sends API-server and webhook calls to the proxy. Pure evaluation
of the controller's env with :mod:`kubectl_certdoctor.noproxy` — no traffic.
"""

from __future__ import annotations

from typing import Any

from kubectl_certdoctor.noproxy import bypass_entry, proxy_env, proxy_for
from kubectl_certdoctor.probes.base import (
    ProbeContext,
    ProbeResult,
    ProbeSpec,
    Vantage,
    VantageResult,
    Verdict,
    mask_userinfo,
)
from kubectl_certdoctor.probes.common import combine
from kubectl_certdoctor.probes.runner import in_pods
from kubectl_certdoctor.probes.targets import challenge_url, params_from

GAP = "PROXY_NO_PROXY_GAP"


def evaluate(p_http: str, p_https: str, no_proxy: str, internal: list[str],
             external: list[str]) -> VantageResult:
    """Route every target with Go's httpproxy rules; in-cluster targets must go direct."""
    env = {"HTTP_PROXY": p_http, "HTTPS_PROXY": p_https, "NO_PROXY": no_proxy}
    rows: list[dict[str, object]] = []
    ev: list[str] = []
    missing: list[str] = []
    for kind, urls in (("in-cluster", internal), ("external", external)):
        for url in urls:
            via = proxy_for(url, env)
            rows.append({"url": url, "kind": kind, "proxy": mask_userinfo(via) if via else None})
            route = f"through {mask_userinfo(via)}" if via else "direct"
            ev.append(f"{kind:10} {url} → {route}")
            if via and kind == "in-cluster":
                s = bypass_entry(url)
                if s not in missing:
                    missing.append(s)
    data: dict[str, object] = {"targets": rows, "missing": missing}
    if not (p_http or p_https):
        return VantageResult("local", Verdict.PASS,
                             "no HTTP_PROXY/HTTPS_PROXY: everything goes direct", ev, data)
    if missing:
        data["confirms"] = [GAP]
        ev.append(f"add to NO_PROXY: {','.join(missing)}")
        return VantageResult("local", Verdict.FAIL,
                             f"in-cluster calls go through the proxy; NO_PROXY lacks "
                             f"{', '.join(missing)}", ev, data)
    proxied = [str(r["url"]) for r in rows if r["proxy"]]
    return VantageResult("local", Verdict.PASS,
                         f"in-cluster calls go direct; {len(proxied)} external target(s) use "
                         "the proxy", ev, data)


def execute(ctx: ProbeContext) -> ProbeResult:
    p = ctx.params
    external = list(p.targets)
    for d in p.challenge_domains or ([p.domain] if p.domain and p.token else []):
        u = challenge_url(d, "<token>")
        if u not in external:
            external.append(u)
    ctx.progress(f"NO_PROXY={p.no_proxy or '(empty)'}; evaluating "
                 f"{len(p.internal_targets) + len(external)} target(s) with Go's rules")
    results: dict[str, VantageResult] = ctx.partial
    if ctx.runnable(Vantage.LOCAL):
        vr = evaluate(p.http_proxy, p.https_proxy, p.no_proxy, p.internal_targets, external)
        vr.evidence.insert(0, f"HTTP_PROXY={mask_userinfo(p.http_proxy) or '-'} "
                              f"HTTPS_PROXY={mask_userinfo(p.https_proxy) or '-'} "
                              f"NO_PROXY={p.no_proxy or '-'} (the controller's env as the "
                              "snapshot shows it; references not resolved)")
        results["local"] = vr

    def interpret(v: Vantage, d: dict[str, Any]) -> VantageResult:
        # the values the pod's process really has (valueFrom / envFrom resolved by the kubelet)
        raw = d.get("env") if isinstance(d.get("env"), dict) else {}
        eff = proxy_env({str(k): str(x) for k, x in (raw or {}).items()})
        vr = evaluate(eff["HTTP_PROXY"], eff["HTTPS_PROXY"], eff["NO_PROXY"],
                      p.internal_targets, external)
        vr.vantage = v.value
        vr.evidence.insert(0, f"in the pod: HTTP_PROXY={eff['HTTP_PROXY'] or '-'} "
                              f"HTTPS_PROXY={eff['HTTPS_PROXY'] or '-'} "
                              f"NO_PROXY={eff['NO_PROXY'] or '-'}")
        return vr

    results.update(in_pods(ctx, {}, interpret, "no-proxy"))
    return combine("no-proxy", results)


SPEC = ProbeSpec(
    id="no-proxy",
    title="Which controller destinations go through the proxy (Go's NO_PROXY rules)",
    confirms=(GAP,),
    vantages=(Vantage.LOCAL, Vantage.POD, Vantage.CERT_MANAGER),
    execute=execute,
    params_from=params_from,
    target_help="optional: Issuer/<name> or Challenge/<name>",
)
