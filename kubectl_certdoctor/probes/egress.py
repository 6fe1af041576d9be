"""``egress``: can the controller reach its CA? Direct, through the proxy, and as configured.

Seed 004: "Failed to verify ACME account: context deadline exceeded" had
three candidate causes — egress blocked, a proxy that was required, DNS.
Trying the ACME directory (or Vault's ``/v1/sys/health``) directly and
through the proxy, stage by stage, tells them apart.
"""

from __future__ import annotations

from typing import Any

from kubectl_certdoctor.errors import UsageError
from kubectl_certdoctor.noproxy import proxy_for
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
from kubectl_certdoctor.probes.netpath import Attempt, request
from kubectl_certdoctor.probes.runner import alongside_pods
from kubectl_certdoctor.probes.targets import params_from

UNREACHABLE = "ACME_SERVER_UNREACHABLE"
GAP = "PROXY_NO_PROXY_GAP"


def diagnose(url: str, direct: Attempt, proxied: Attempt | None,
             uses_proxy: bool) -> tuple[Verdict, str, list[str]]:
    """(verdict, one-line diagnosis, finding codes) for one target."""
    route = "through the proxy" if uses_proxy else "directly"
    if direct.ok:
        if uses_proxy and proxied is not None and not proxied.ok:
            return (Verdict.FAIL, f"direct egress works but the controller goes {route}, which "
                    f"fails ({proxied.stage}): add the host to NO_PROXY", [GAP])
        return Verdict.PASS, f"reachable (the controller goes {route})", []
    if direct.stage == "tls":
        return Verdict.FAIL, f"TLS failure: {direct.error}", [UNREACHABLE]
    proxy_ok = proxied is not None and proxied.ok
    kind = "DNS failure" if direct.stage == "dns" else "blocked egress"
    if proxy_ok:
        label = f"{kind} directly; the proxy reaches it: proxy required"
        if uses_proxy:
            return Verdict.PASS, f"{label} (and the controller uses it)", []
        return (Verdict.FAIL, f"{label}, but the controller goes direct (NO_PROXY covers it or "
                "no proxy is set for this scheme)", [GAP, UNREACHABLE])
    if proxied is not None:
        return (Verdict.FAIL, f"{kind} directly, and the proxy fails too "
                f"({proxied.stage}: {proxied.error})", [UNREACHABLE])
    return Verdict.FAIL, f"{kind}: {direct.error} (no proxy configured)", [UNREACHABLE]


def judge(vantage: str, rows: list[tuple[str, Attempt, Attempt | None, bool]]) -> VantageResult:
    ev: list[str] = []
    codes: list[str] = []
    verdicts: list[Verdict] = []
    diags: list[str] = []
    data: dict[str, Any] = {"targets": []}
    for url, d, pr, uses in rows:
        v, diag, c = diagnose(url, d, pr, uses)
        verdicts.append(v)
        diags.append(f"{url}: {diag}")
        codes += [x for x in c if x not in codes]
        ev.append(f"{url}: {d.line()}")
        if pr is not None:
            ev.append(f"{url}: {pr.line()}")
        data["targets"].append({"url": url, "verdict": v.value, "diagnosis": diag,
                                "direct": d.to_json(),
                                "proxy": pr.to_json() if pr else None,
                                "controller_uses_proxy": uses})
    data["confirms"] = codes
    verdict = Verdict.FAIL if Verdict.FAIL in verdicts else (
        Verdict.PASS if verdicts else Verdict.INCONCLUSIVE)
    return VantageResult(vantage, verdict, "; ".join(diags) or "no targets", ev, data)


def _from_curl(url: str, mode: str, d: dict[str, Any] | None) -> Attempt | None:
    if not d:
        return None
    parts = str(d.get("w", "")).split()
    att = Attempt(url=url, mode=mode)
    vals = [*parts, "", "", "", "", "", ""]
    code, ip = vals[0], vals[1]

    def fl(s: str) -> float:
        try:
            return float(s)
        except ValueError:
            return 0.0

    att.t_dns, att.t_connect, att.t_tls, att.t_total = (fl(vals[2]), fl(vals[3]),
                                                        fl(vals[4]), fl(vals[5]))
    att.address = ip
    rc = int(d.get("rc") or 0)
    err = str(d.get("err", ""))
    if rc == 0 and code.isdigit() and code != "000":
        att.status = int(code)
        return att
    stage = {6: "dns", 5: "proxy-dns", 7: "connect", 35: "tls", 60: "tls", 56: "proxy",
             97: "proxy"}.get(rc, "http")
    if rc == 7 and mode == "proxy":
        stage = "proxy-connect"
    if rc == 28:
        stage = "connect" if att.t_connect == 0 else "http"
    att.stage, att.error = stage, err or f"curl exit code {rc}"
    return att


def execute(ctx: ProbeContext) -> ProbeResult:
    p = ctx.params
    targets = p.targets or ([p.url] if p.url else [])
    if not targets:
        raise UsageError("egress needs an Issuer (ACME server / Vault) or a URL as target")
    env = {"HTTP_PROXY": p.http_proxy, "HTTPS_PROXY": p.https_proxy, "NO_PROXY": p.no_proxy}
    results: dict[str, VantageResult] = ctx.partial

    def local() -> None:
        """The workstation's check: runs while the debug pods do (``alongside_pods``)."""
        if not ctx.runnable(Vantage.LOCAL):
            return
        rows: list[tuple[str, Attempt, Attempt | None, bool]] = []
        for url in targets:
            ctx.check()
            ctx.progress(f"{url}: direct", "local")
            d = request(url, servers=p.nameservers, timeout=p.timeout, ca_pem=p.ca_pem)
            ctx.progress(d.line(), "local")
            proxy = p.https_proxy if url.startswith("https:") else p.http_proxy
            pr = None
            if proxy:
                ctx.check()
                ctx.progress(f"{url}: through {mask_userinfo(proxy)}", "local")
                pr = request(url, proxy=proxy, servers=p.nameservers, timeout=p.timeout,
                             ca_pem=p.ca_pem)
                ctx.progress(pr.line(), "local")
            rows.append((url, d, pr, proxy_for(url, env) is not None))
        vr = judge("local", rows)
        vr.evidence.insert(0, "from the workstation, with the controller's proxy settings "
                              f"(HTTP_PROXY={mask_userinfo(p.http_proxy) or '-'}, "
                              f"HTTPS_PROXY={mask_userinfo(p.https_proxy) or '-'}, "
                              f"NO_PROXY={p.no_proxy or '-'})")
        results["local"] = vr

    def interpret(v: Vantage, d: dict[str, Any]) -> VantageResult:
        rows = []
        for t in d.get("targets") or []:
            url = str(t.get("url", ""))
            direct = _from_curl(url, "direct", t.get("direct")) or Attempt(url, "direct",
                                                                           stage="http")
            proxied = _from_curl(url, "proxy", t.get("proxy"))
            effective = _from_curl(url, "as configured", t.get("env"))
            uses = proxy_for(url, env) is not None
            rows.append((url, direct, proxied, uses))
            if effective is not None:
                rows_ev = effective.line()
                d.setdefault("_env_lines", []).append(f"{url}: {rows_ev}")
        vr = judge(v.value, rows)
        vr.evidence += [f"with the pod's own proxy env — {x}" for x in d.get("_env_lines", [])]
        return vr

    pod_env = {"TARGETS": " ".join(targets), "PROBE_HTTP_PROXY": p.http_proxy,
               "PROBE_HTTPS_PROXY": p.https_proxy, "CA_PEM": p.ca_pem}
    results.update(alongside_pods(ctx, local, pod_env, interpret, "egress"))
    return combine("egress", results, what=f"egress to {', '.join(targets)}")


SPEC = ProbeSpec(
    id="egress",
    title="Reach the ACME directory / Vault directly, through the proxy, and as configured",
    confirms=(UNREACHABLE, GAP),
    vantages=(Vantage.LOCAL, Vantage.POD, Vantage.CERT_MANAGER),
    execute=execute,
    params_from=params_from,
    target_help="Issuer/<name>, ClusterIssuer/<name>, or a URL",
)
