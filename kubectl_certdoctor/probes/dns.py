"""``dns``: resolve a name the way the workstation, the zone and the pod do.

Three views: the local resolver; the zone's authoritative servers (found by
walking NS records up the tree); and the pod's resolver, emulated from its
resolv.conf (search list + ndots, tried in the order glibc/musl/Go use) and
run for real in a debug pod. Seed 004 (cert-manager issues 641 and 3394):
with ``ndots:5`` the ACME host is first tried under every search domain, and
a wildcard record there answers with the wrong address.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from kubectl_certdoctor.errors import UsageError
from kubectl_certdoctor.probes.base import (
    ProbeContext,
    ProbeResult,
    ProbeSpec,
    Vantage,
    VantageResult,
    Verdict,
)
from kubectl_certdoctor.probes.common import combine
from kubectl_certdoctor.probes.dnsutil import Answer, parents, query, query_any
from kubectl_certdoctor.probes.runner import alongside_pods
from kubectl_certdoctor.probes.targets import params_from

DEFAULT_SEARCH = ("svc.cluster.local", "cluster.local")


def search_order(name: str, search: list[str], ndots: int) -> list[str]:
    """Every query a stub resolver tries, in order (Go's ``nameList`` rules)."""
    if name.endswith("."):
        return [name]
    fq = name + "."
    suffixed = [f"{name}.{s.strip('.')}." for s in search if s.strip(".")]
    if name.count(".") >= ndots:
        return [fq, *suffixed]
    return [*suffixed, fq]


def emulate(name: str, search: list[str], ndots: int, servers: list[str],
            timeout: float) -> tuple[list[Answer], str]:
    """Run the search order against ``servers``; stop at the first name with an address."""
    tries: list[Answer] = []
    for cand in search_order(name, search, ndots):
        got = False
        for t in ("A", "AAAA"):
            a = query_any(cand, t, servers, timeout)
            tries.append(a)
            got = got or a.ok
        if got:
            return tries, cand
    return tries, ""


def find_zone(name: str, servers: list[str], timeout: float) -> tuple[str, list[str]]:
    """Walk up the tree until a name has NS records: (zone apex, NS host names)."""
    for zone in parents(name):
        a = query_any(zone, "NS", servers, timeout)
        if a.ok:
            return zone, [r.rstrip(".") + "." for r in a.records]
    return "", []


def caa_climb(name: str, servers: list[str], timeout: float) -> tuple[str, list[str]]:
    """RFC 8659: the CAA set of the closest ancestor that has one."""
    for zone in parents(name):
        a = query_any(zone, "CAA", servers, timeout)
        if a.ok:
            return zone, a.records
    return "", []


def _addresses(tries: list[Answer], cand: str) -> list[str]:
    return sorted(r for a in tries if a.name == cand for r in a.records)


def judge_search(vantage: str, name: str, tries: list[tuple[str, str, str, list[str]]],
                 answered: str, absolute: list[str], acme_host: str) -> VantageResult:
    """Search-domain trap: the first answer came from ``name.<search>``, not the name itself."""
    fq = name.rstrip(".") + "."
    ev = [f"{'→' if q == answered else ' '} {q} {t}: {st} {', '.join(rs) or '-'}"
          for q, t, st, rs in tries]
    data: dict[str, Any] = {"tries": [{"query": q, "type": t, "status": st, "records": rs}
                                      for q, t, st, rs in tries],
                            "answered": answered, "absolute": absolute}
    got = sorted(r for q, _, _, rs in tries if q == answered for r in rs)
    if answered and answered != fq:
        data["confirms"] = ["ACME_SERVER_UNREACHABLE"] if name.rstrip(".") == acme_host else []
        return VantageResult(
            vantage, Verdict.FAIL,
            f"search-domain trap: {name} resolves as {answered} → {', '.join(got)}"
            + (f" (the real name gives {', '.join(absolute)})" if absolute else ""),
            ev, data)
    if not answered:
        return VantageResult(vantage, Verdict.FAIL, f"{name} does not resolve", ev, data)
    return VantageResult(vantage, Verdict.PASS, f"{name} → {', '.join(got)}", ev, data)


def execute(ctx: ProbeContext) -> ProbeResult:
    p = ctx.params
    name = p.domain or (urlsplit(p.url).hostname or "" if p.url else "")
    if not name:
        raise UsageError("dns needs a name, a Challenge, or an Issuer as target")
    name = name.rstrip(".")
    acme_host = urlsplit(p.server).hostname or "" if p.server else ""
    want_txt = p.key if p.challenge_type == "DNS-01" else ""
    results: dict[str, VantageResult] = ctx.partial
    servers = p.nameservers

    def local() -> None:
        """The workstation's check: runs while the debug pods do (``alongside_pods``)."""
        if not ctx.runnable(Vantage.LOCAL):
            return
        ev: list[str] = []
        ctx.progress(f"records of {name} via {', '.join(servers) or 'the local resolver'}",
                     "local")
        recs: dict[str, Answer] = {}
        for t in ("A", "AAAA", "CNAME"):
            recs[t] = query_any(name, t, servers, p.timeout)
        recs["TXT"] = query_any(f"_acme-challenge.{name}", "TXT", servers, p.timeout)
        ev += [a.line() for a in recs.values()]
        ctx.check()
        caa_zone, caa = caa_climb(name, servers, p.timeout)
        ev.append(f"CAA: {', '.join(caa)} (at {caa_zone})" if caa
                  else "CAA: none up the tree (any CA may issue)")
        ctx.progress("walking NS records to the zone's authoritative servers", "local")
        zone, ns_hosts = find_zone(name, servers, p.timeout)
        auth: dict[str, dict[str, Answer]] = {}
        if zone:
            ev.append(f"zone {zone}: NS {', '.join(ns_hosts)}")
            for h in ns_hosts:
                ctx.check()
                ip = query_any(h, "A", servers, p.timeout)
                if not ip.records:
                    ev.append(f"NS {h} has no address ({ip.status})")
                    continue
                srv = f"{ip.records[0]}:{p.dns_port}" if p.dns_port != 53 else ip.records[0]
                auth[h] = {t: query(name, t, srv, p.timeout, recurse=False)
                           for t in ("A", "AAAA")}
                auth[h]["TXT"] = query(f"_acme-challenge.{name}", "TXT", srv, p.timeout,
                                       recurse=False)
                ev += [f"authoritative {h} {a.line()}" for a in auth[h].values()]
        else:
            ev.append("no NS records found up the tree")
        ctx.check()
        search = p.search or [*DEFAULT_SEARCH]
        ctx.progress(f"emulating the pod resolver: search {' '.join(search)}, ndots:{p.ndots}",
                     "local")
        tries, answered = emulate(name, search, p.ndots, servers, p.timeout)
        absolute = sorted(recs["A"].records + recs["AAAA"].records)
        vr = judge_search("local", name,
                          [(a.name, a.rdtype, a.status, a.records) for a in tries],
                          answered, absolute, acme_host)
        vr.evidence = [*ev, f"pod resolver emulated (search {' '.join(search)}, "
                       f"ndots:{p.ndots}); node search domains are only seen from a pod:",
                       *vr.evidence]
        vr.data["records"] = {t: a.records for t, a in recs.items()}
        vr.data["caa"] = {"zone": caa_zone, "records": caa}
        vr.data["zone"] = zone
        vr.data["authoritative"] = {h: {t: a.records for t, a in d.items()}
                                    for h, d in auth.items()}
        if want_txt and vr.verdict is not Verdict.FAIL:
            at_auth = [h for h, d in auth.items() if any(want_txt in r for r in d["TXT"].records)]
            recursive = any(want_txt in r for r in recs["TXT"].records)
            if auth and len(at_auth) < len(auth):
                vr.verdict = Verdict.FAIL
                vr.summary = (f"TXT record for _acme-challenge.{name} is missing on "
                              f"{len(auth) - len(at_auth)} of {len(auth)} authoritative servers")
                vr.data["confirms"] = ["DNS01_PROPAGATION_PENDING"]
            elif not recursive:
                vr.verdict = Verdict.FAIL
                vr.summary = ("the authoritative servers have the TXT record but the resolver "
                              "does not see it yet (cached negative answer?)")
                vr.data["confirms"] = ["DNS01_PROPAGATION_PENDING"]
        results["local"] = vr

    def interpret(v: Vantage, d: dict[str, Any]) -> VantageResult:
        tries: list[tuple[str, str, str, list[str]]] = []
        for t in d.get("tries") or []:
            st, _, ans = str(t.get("r", "")).partition("|")
            rs = [x.split(" ", 1)[1] for x in ans.split(";") if " " in x
                  and x.split(" ", 1)[0] == t.get("type")]
            tries.append((str(t.get("q", "")), str(t.get("type", "")), st, rs))
        _st, _, a_ans = str((d.get("records") or {}).get("A", "")).partition("|")
        absolute = sorted(x.split(" ", 1)[1] for x in a_ans.split(";")
                          if x.startswith("A "))
        vr = judge_search(v.value, name, tries, str(d.get("answered", "")), absolute, acme_host)
        vr.evidence.insert(0, f"pod resolv.conf: search {d.get('search', '').strip() or '-'}, "
                              f"ndots:{d.get('ndots', '?')}, nameserver "
                              f"{str(d.get('nameservers', '')).strip() or '-'}")
        vr.data["records"] = d.get("records")
        return vr

    env = {"NAME": name, "NS": p.pod_nameserver.partition(":")[0] if p.pod_nameserver else "",
           "DNS_PORT": p.pod_nameserver.partition(":")[2] if p.pod_nameserver else "",
           "SEARCH": " ".join(p.pod_search), "NDOTS": str(p.pod_ndots or "")}
    results.update(alongside_pods(ctx, local, env, interpret, "dns"))
    return combine("dns", results, what=f"resolving {name}")


SPEC = ProbeSpec(
    id="dns",
    title="Resolve a name locally, at its authoritative servers and as the pod does",
    confirms=("DNS01_PROPAGATION_PENDING", "ACME_SERVER_UNREACHABLE"),
    vantages=(Vantage.LOCAL, Vantage.POD, Vantage.CERT_MANAGER),
    execute=execute,
    params_from=params_from,
    target_help="a host name, Challenge/<name>, or Issuer/<name>",
    default_timeout=90.0,
)
