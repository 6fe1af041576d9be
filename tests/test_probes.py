"""Probes from the local vantage point, against real servers on loopback.

No cluster here: the framework, the probe logic and the network code run for
real; only the servers they talk to are ours (HTTP backends, a round-robin
TCP balancer, an HTTP CONNECT proxy, a DNS server), all on 127.0.0.x.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator

import pytest

from kubectl_certdoctor.objects import ObjectSet, Ref
from kubectl_certdoctor.options import Options
from kubectl_certdoctor.probes.account import compare
from kubectl_certdoctor.probes.base import (
    Params,
    ProbeContext,
    ProbeResult,
    ProbeSpec,
    Progress,
    Vantage,
    Verdict,
)
from kubectl_certdoctor.probes.dns import search_order
from kubectl_certdoctor.probes.noproxy_probe import evaluate
from kubectl_certdoctor.probes.plan import OFFLINE_REASON, availability, plan_vantages
from kubectl_certdoctor.probes.registry import PROBES
from kubectl_certdoctor.probes.runner import run, run_to_result
from kubectl_certdoctor.probes.targets import params_from
from tests.support.netservers import (
    ConnectProxy,
    DnsServer,
    HttpBackend,
    HttpsBackend,
    RoundRobinProxy,
)

TOKEN = "tok-3Zq9"
KEY = "tok-3Zq9.thumbprint-AbC"
PATH = f"/.well-known/acme-challenge/{TOKEN}"
LOCAL = {Vantage.LOCAL: ""}


def result_of(probe: str, params: Params, **kw: object) -> tuple[ProbeResult, list[Progress]]:
    events: list[Progress] = []
    res = run_to_result(PROBES[probe], params, on_progress=events.append,
                        vantages=kw.pop("vantages", LOCAL), **kw)
    return res, events


# --- http01 / http01-backends ------------------------------------------------


@pytest.fixture
def backends() -> Iterator[tuple[HttpBackend, HttpBackend]]:
    """ingress-nginx (has the solver's route) and a new Gateway (does not): seed 000."""
    with HttpBackend("127.0.0.2", {PATH: (200, KEY)}, "nginx") as good, \
            HttpBackend("127.0.0.3", {}, "envoy") as bad:
        yield good, bad


def _backend_params(dns: DnsServer, lb: RoundRobinProxy, good: HttpBackend,
                    bad: HttpBackend, samples: int = 10) -> Params:
    return Params(
        domain="app.example.test", token=TOKEN, key=KEY,
        url=f"http://app.example.test:{lb.port}{PATH}",
        candidates=[good.addr, bad.addr],
        candidate_sources={good.addr: "Service ingress-nginx/ingress-nginx-controller",
                           bad.addr: "Gateway kube-system/cilium"},
        nameservers=[dns.addr], samples=samples, timeout=3,
    )


def test_http01_backends_reports_the_split(backends: tuple[HttpBackend, HttpBackend]) -> None:
    good, bad = backends
    with RoundRobinProxy("127.0.0.4", [(good.host, good.port), (bad.host, bad.port)]) as lb, \
            DnsServer("127.0.0.1", {"app.example.test.": {"A": ["127.0.0.4"]}}) as dns:
        res, events = result_of("http01-backends", _backend_params(dns, lb, good, bad))
    local = res.vantages["local"]
    assert res.verdict is Verdict.FAIL
    assert res.confirms == ["HTTP01_MULTIPLE_INGRESS_BACKENDS"]
    assert local.data["histogram"] == {"200": 5, "404": 5}
    outcomes = {c["address"]: c["outcome"] for c in local.data["candidates"]}
    assert outcomes == {good.addr: "200", bad.addr: "404", f"127.0.0.4:{lb.port}": outcomes[
        f"127.0.0.4:{lb.port}"]}
    assert f"served by {good.addr}" in local.summary and bad.addr in local.summary
    # the Host header was the domain's, not the address
    assert all(h == f"app.example.test:{lb.port}" for h in good.hosts + bad.hosts)
    assert any("sampled 10/10" in e.message for e in events)


def test_http01_backends_passes_when_every_backend_serves(
        backends: tuple[HttpBackend, HttpBackend]) -> None:
    good, bad = backends
    with RoundRobinProxy("127.0.0.4", [(good.host, good.port)]) as lb, \
            DnsServer("127.0.0.1", {"app.example.test.": {"A": ["127.0.0.4"]}}) as dns:
        p = _backend_params(dns, lb, good, bad, samples=4)
        p.candidates = [good.addr]
        res, _ = result_of("http01-backends", p)
    assert res.verdict is Verdict.PASS, res.summary
    assert res.vantages["local"].data["histogram"] == {"200": 4}


def test_http01_compares_body_with_key(backends: tuple[HttpBackend, HttpBackend]) -> None:
    good, bad = backends
    with DnsServer("127.0.0.1", {"a.example.test.": {"A": ["127.0.0.2"]},
                                 "b.example.test.": {"A": ["127.0.0.3"]}}) as dns:
        ok, _ = result_of("http01", Params(url=f"http://a.example.test:{good.port}{PATH}",
                                           key=KEY, nameservers=[dns.addr]))
        nf, _ = result_of("http01", Params(url=f"http://b.example.test:{bad.port}{PATH}",
                                           key=KEY, nameservers=[dns.addr]))
        wrong, _ = result_of("http01", Params(url=f"http://a.example.test:{good.port}{PATH}",
                                              key="other", nameservers=[dns.addr]))
        nx, _ = result_of("http01", Params(url=f"http://c.example.test:{good.port}{PATH}",
                                           key=KEY, nameservers=[dns.addr]))
    assert ok.verdict is Verdict.PASS
    f = ok.vantages["local"].data["fetch"]
    assert f["status"] == 200 and f["server"].startswith("nginx")
    assert f["address"] == "127.0.0.2"
    assert nf.verdict is Verdict.FAIL and nf.confirms == ["HTTP01_SELF_CHECK_404"]
    assert wrong.verdict is Verdict.FAIL and "not the key" in wrong.summary
    assert nx.verdict is Verdict.FAIL and nx.vantages["local"].data["fetch"]["error_kind"] == "dns"


def test_http01_follows_redirects() -> None:
    with HttpBackend("127.0.0.2", {PATH: (200, KEY)}, "nginx") as good:
        target = f"http://127.0.0.2:{good.port}{PATH}"

        with HttpBackend("127.0.0.3", {}, "haproxy") as front:
            # 301 to the real backend, as an http→https or www redirect would
            front.server.RequestHandlerClass.do_GET = _redirect_to(target)
            res, _ = result_of("http01", Params(url=f"http://127.0.0.3:{front.port}{PATH}",
                                                key=KEY))
    assert res.verdict is Verdict.PASS
    assert res.vantages["local"].data["fetch"]["redirects"] == [target]


def _redirect_to(target: str):  # type: ignore[no-untyped-def]
    def do_GET(self) -> None:  # type: ignore[no-untyped-def]
        self.send_response(301)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    return do_GET


# --- dns -----------------------------------------------------------------------

ZONE = {
    "example.test.": {"NS": ["ns1.example.test."], "CAA": ['0 issue "letsencrypt.org"']},
    "ns1.example.test.": {"A": ["127.0.0.1"]},
    "acme.example.test.": {"A": ["127.0.0.10"]},
    "_acme-challenge.acme.example.test.": {"TXT": ['"dns01-digest"']},
    # the trap: a wildcard under a search domain the node's resolv.conf adds (seed 004)
    "*.corp.test.": {"A": ["127.0.0.66"]},
}
SEARCH = ["cert-manager.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.test"]


def test_search_order_follows_ndots() -> None:
    assert search_order("a.b.c", ["x", "y"], 5) == ["a.b.c.x.", "a.b.c.y.", "a.b.c."]
    assert search_order("a.b.c", ["x", "y"], 2) == ["a.b.c.", "a.b.c.x.", "a.b.c.y."]
    assert search_order("a.b.c.", ["x"], 5) == ["a.b.c."]


def test_dns_shows_the_search_domain_trap() -> None:
    with DnsServer("127.0.0.1", ZONE) as dns:
        p = Params(domain="acme.example.test", nameservers=[dns.addr], search=SEARCH, ndots=5,
                   dns_port=dns.port, server="https://acme.example.test/directory")
        res, _ = result_of("dns", p)
        queries = list(dns.queries)
    local = res.vantages["local"]
    assert res.verdict is Verdict.FAIL
    assert "search-domain trap" in local.summary
    assert local.data["answered"] == "acme.example.test.corp.test."
    assert local.data["absolute"] == ["127.0.0.10"]
    assert "127.0.0.66" in local.summary
    tried = [t["query"] for t in local.data["tries"] if t["type"] == "A"]
    assert tried == [f"acme.example.test.{s}." for s in SEARCH]
    assert res.confirms == ["ACME_SERVER_UNREACHABLE"]
    # the NS walk found the zone and asked its authoritative server directly
    assert local.data["zone"] == "example.test."
    assert local.data["authoritative"]["ns1.example.test."]["A"] == ["127.0.0.10"]
    assert local.data["caa"] == {"zone": "example.test.",
                                 "records": ['0 issue "letsencrypt.org"']}
    assert local.data["records"]["TXT"] == ['"dns01-digest"']
    # the server really saw the search-list queries in that order
    order = [q for q in queries if q.endswith(" A") and q.startswith("acme.example.test.")
             and q != "acme.example.test. A"]
    assert order == [f"acme.example.test.{s}. A" for s in SEARCH]


def test_dns_passes_when_the_name_is_tried_first() -> None:
    with DnsServer("127.0.0.1", ZONE) as dns:
        p = Params(domain="acme.example.test", nameservers=[dns.addr], search=SEARCH, ndots=2,
                   dns_port=dns.port)
        res, _ = result_of("dns", p)
    assert res.verdict is Verdict.PASS, res.summary
    assert res.vantages["local"].data["answered"] == "acme.example.test."


def test_dns01_txt_missing_at_authoritative_server() -> None:
    with DnsServer("127.0.0.1", ZONE) as dns:
        p = Params(domain="acme.example.test", key="another-digest", challenge_type="DNS-01",
                   nameservers=[dns.addr], dns_port=dns.port, ndots=1)
        res, _ = result_of("dns", p)
    assert res.verdict is Verdict.FAIL
    assert res.confirms == ["DNS01_PROPAGATION_PENDING"]


# --- egress --------------------------------------------------------------------


@pytest.fixture
def acme(tmp_path: object) -> Iterator[HttpsBackend]:
    with HttpsBackend("127.0.0.5", {"/directory": (200, "{}")}, "pebble",
                      ["acme.example.test", "blocked.example.test"], str(tmp_path)) as srv:
        yield srv


def test_egress_tells_direct_from_proxied(acme: HttpsBackend) -> None:
    url = f"https://acme.example.test:{acme.port}/directory"
    blocked = f"https://blocked.example.test:{acme.port}/directory"
    routes = {f"acme.example.test:{acme.port}": (acme.host, acme.port),
              f"blocked.example.test:{acme.port}": (acme.host, acme.port)}
    # acme.example.test does not resolve here (only the proxy knows it): DNS failure;
    # blocked.example.test resolves to an address nothing answers on: blocked egress
    zone = {"blocked.example.test.": {"A": ["127.0.0.9"]}}
    with ConnectProxy("127.0.0.6", routes) as proxy, DnsServer("127.0.0.1", zone) as dns:
        base = dict(targets=[url, blocked], nameservers=[dns.addr], ca_pem=acme.ca_pem,
                    timeout=2)
        via_proxy, _ = result_of("egress", Params(**base, https_proxy=proxy.url))  # type: ignore
        gap, _ = result_of("egress", Params(**base, https_proxy=proxy.url,  # type: ignore
                                            no_proxy=".example.test"))
        no_proxy, _ = result_of("egress", Params(**base))  # type: ignore
        connects = list(proxy.requests)
    rows = {t["url"]: t for t in via_proxy.vantages["local"].data["targets"]}
    assert via_proxy.verdict is Verdict.PASS, via_proxy.summary
    assert rows[url]["direct"]["stage"] == "dns"
    assert rows[url]["proxy"]["status"] == 200 and rows[url]["proxy"]["t_tls"] > 0
    assert "DNS failure" in rows[url]["diagnosis"] and "proxy required" in rows[url]["diagnosis"]
    assert rows[blocked]["direct"]["stage"] == "connect"
    assert "blocked egress" in rows[blocked]["diagnosis"]
    assert f"CONNECT acme.example.test:{acme.port}" in connects
    assert gap.verdict is Verdict.FAIL
    assert set(gap.confirms) == {"PROXY_NO_PROXY_GAP", "ACME_SERVER_UNREACHABLE"}
    assert no_proxy.verdict is Verdict.FAIL and no_proxy.confirms == ["ACME_SERVER_UNREACHABLE"]
    assert "no proxy configured" in no_proxy.summary


def test_egress_direct_ok(acme: HttpsBackend) -> None:
    with DnsServer("127.0.0.1", {"acme.example.test.": {"A": ["127.0.0.5"]}}) as dns:
        res, _ = result_of("egress", Params(targets=[f"https://acme.example.test:{acme.port}/"
                                                     "directory"],
                                            nameservers=[dns.addr], ca_pem=acme.ca_pem))
    assert res.verdict is Verdict.PASS, res.summary
    d = res.vantages["local"].data["targets"][0]["direct"]
    assert d["status"] == 200 and d["t_connect"] > 0 and d["t_tls"] > 0
    # without the issuer's CA bundle the TLS stage fails, and says so
    with DnsServer("127.0.0.1", {"acme.example.test.": {"A": ["127.0.0.5"]}}) as dns:
        bad, _ = result_of("egress", Params(targets=[f"https://acme.example.test:{acme.port}/"],
                                            nameservers=[dns.addr]))
    assert bad.verdict is Verdict.FAIL and "TLS failure" in bad.summary


# --- no-proxy, account (no traffic) ---------------------------------------------

PROXY = "http://proxy.corp.test:3128"
NO_PROXY_TABLE = [
    # (NO_PROXY, in-cluster targets that must still go through the proxy → missing entries)
    ("", [".svc", "10.96.0.1"]),  # .svc already covers kubernetes.default.svc
    (".svc,10.96.0.0/12", []),
    ("kubernetes.default.svc,.cluster.local", [".svc", "10.96.0.1"]),
    ("*", []),
    ("svc", ["10.96.0.1"]),  # a bare domain matches its subdomains; never an IP
    ("10.96.0.1:443,.svc", []),
    ("10.96.0.1:6443,.svc", ["10.96.0.1"]),  # wrong port
]
INTERNAL = ["https://kubernetes.default.svc:443", "https://cert-manager-webhook.cm.svc:443",
            "https://10.96.0.1:443"]


@pytest.mark.parametrize(("no_proxy", "missing"), NO_PROXY_TABLE)
def test_no_proxy_table(no_proxy: str, missing: list[str]) -> None:
    vr = evaluate(PROXY, PROXY, no_proxy, INTERNAL,
                  ["https://acme-v02.api.letsencrypt.org/directory"])
    assert sorted(vr.data["missing"]) == sorted(missing)
    assert vr.verdict is (Verdict.FAIL if missing else Verdict.PASS)
    routes = {r["url"]: r["proxy"] for r in vr.data["targets"]}
    assert routes["https://acme-v02.api.letsencrypt.org/directory"] == (
        None if no_proxy == "*" else PROXY)


def test_no_proxy_without_proxy_passes() -> None:
    assert evaluate("", "", "", INTERNAL, []).verdict is Verdict.PASS


@pytest.mark.parametrize(("server", "uri", "verdict"), [
    ("https://acme-v02.api.letsencrypt.org/directory",
     "https://acme-v02.api.letsencrypt.org/acme/acct/1", Verdict.PASS),
    ("https://acme-staging-v02.api.letsencrypt.org/directory",
     "https://acme-v02.api.letsencrypt.org/acme/acct/1", Verdict.FAIL),
    ("https://pebble.test:14000/dir", "https://pebble.test:15000/my-account/1", Verdict.FAIL),
    ("https://acme.test/directory", "", Verdict.INCONCLUSIVE),
])
def test_account_compares_hosts_like_setup_go(server: str, uri: str, verdict: Verdict) -> None:
    vr = compare(server, uri)
    assert vr.verdict is verdict
    if verdict is Verdict.FAIL:
        assert vr.data["confirms"] == ["ACME_ACCOUNT_SERVER_MISMATCH"]


# --- params, availability, framework --------------------------------------------


def _snapshot(source: str = "live") -> ObjectSet:
    dep = {"kind": "Deployment", "metadata": {"name": "cert-manager", "namespace": "cm",
                                              "labels": {"app.kubernetes.io/name": "cert-manager",
                                                         "app.kubernetes.io/component":
                                                             "controller"}},
           "spec": {"template": {"spec": {"containers": [{
               "name": "cert-manager-controller",
               "env": [{"name": "HTTPS_PROXY", "value": PROXY},
                       {"name": "NO_PROXY", "value": ".svc"}]}]}}}}
    iss = {"kind": "ClusterIssuer", "metadata": {"name": "le"},
           "spec": {"acme": {"server": "https://acme-staging-v02.api.letsencrypt.org/directory",
                             "privateKeySecretRef": {"name": "le-key"}}},
           "status": {"acme": {"uri": "https://acme-v02.api.letsencrypt.org/acme/acct/9"}}}
    ch = {"kind": "Challenge", "metadata": {"name": "web-1", "namespace": "app"},
          "spec": {"dnsName": "web.example.test", "token": TOKEN, "key": KEY, "type": "HTTP-01",
                   "issuerRef": {"kind": "ClusterIssuer", "name": "le"}}}
    svc = {"kind": "Service", "metadata": {"name": "lb", "namespace": "ingress"},
           "spec": {"type": "LoadBalancer"},
           "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.59"}]}}}
    return ObjectSet.from_objects([dep, iss, ch, svc], source=source)


def test_params_from_a_challenge_and_an_issuer() -> None:
    objs = _snapshot()
    p = params_from(objs, Ref("Challenge", "app", "web-1"))
    assert p.url == f"http://web.example.test{PATH}" and p.key == KEY
    assert p.https_proxy == PROXY and p.no_proxy == ".svc"
    assert p.candidates == ["192.0.2.59"]
    assert p.server.startswith("https://acme-staging")
    ip = params_from(objs, Ref("ClusterIssuer", "", "le"))
    assert ip.targets == ["https://acme-staging-v02.api.letsencrypt.org/directory"]
    assert ip.account_secret == "cm/le-key"
    assert "https://cert-manager-webhook.cm.svc:443" in ip.internal_targets
    res = run_to_result(PROBES["account"], ip, vantages=LOCAL)
    assert res.verdict is Verdict.FAIL and res.confirms == ["ACME_ACCOUNT_SERVER_MISMATCH"]


def test_probes_are_disabled_on_a_bundle() -> None:
    assert availability(Options(from_file="b.yaml")) == (False, OFFLINE_REASON)
    assert availability(Options(demo="all"))[0] is False
    assert availability(_snapshot("bundle:/tmp/b.yaml")) == (False, OFFLINE_REASON)
    assert availability(_snapshot("live")) == (True, "")
    plan, _ = plan_vantages(PROBES["http01"], list(Vantage), opts=Options(from_file="x"),
                            api_client=None, pod_namespace="app", controller=None)
    assert set(plan.values()) == {OFFLINE_REASON}


def test_read_only_greys_out_pod_vantages() -> None:
    plan, placements = plan_vantages(PROBES["http01"], list(Vantage),
                                     opts=Options(read_only=True), api_client=None,
                                     pod_namespace="app", controller=None)
    assert plan == {Vantage.LOCAL: "", Vantage.POD: "read-only",
                    Vantage.CERT_MANAGER: "read-only"}
    assert placements == {}
    # every probe runs from a pod now (issue 14); a probe limited to the workstation says so
    local_only = dataclasses.replace(PROBES["no-proxy"], vantages=(Vantage.LOCAL,))
    assert "runs only from local" in plan_vantages(
        local_only, [Vantage.POD], opts=Options(), api_client=None,
        pod_namespace="x", controller=None)[0][Vantage.POD]


def _looping(ctx: ProbeContext) -> ProbeResult:
    while True:
        ctx.check()
        ctx.progress("working")
        time.sleep(0.05)


LOOP = ProbeSpec("loop", "test", (), (Vantage.LOCAL,), _looping,
                 lambda objs, ref: Params(), default_timeout=0.5)


def test_timeout_and_cancel_are_honoured() -> None:
    t0 = time.monotonic()
    res = run_to_result(LOOP, Params(), vantages=LOCAL)
    assert res.verdict is Verdict.INCONCLUSIVE and "timed out" in res.summary
    assert time.monotonic() - t0 < 3
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    res = run_to_result(LOOP, Params(), vantages=LOCAL, timeout=30, cancel=cancel)
    assert "cancelled" in res.summary
    # closing the stream early cancels the worker too
    gen = run(LOOP, Params(), vantages=LOCAL, timeout=30)
    assert isinstance(next(gen), Progress)
    gen.close()


def test_registry_ids_and_confirms() -> None:
    assert set(PROBES) == {"http01", "http01-backends", "hairpin", "dns", "egress", "no-proxy",
                           "account"}
    assert "HTTP01_MULTIPLE_INGRESS_BACKENDS" in PROBES["http01-backends"].confirms


# --- the pod scripts themselves (run with sh here, exactly as the pod runs them) ---------


def _run_script(script: str, env: dict[str, str], tmp_path: object) -> dict[str, object]:
    import os
    import subprocess

    from kubectl_certdoctor.probes.podscript import parse_message

    out = os.path.join(str(tmp_path), "termination-log")
    subprocess.run(["/bin/sh", "-c", script], env={"PATH": os.environ["PATH"],
                                                   "CERTDOCTOR_RESULT": out, **env},
                   check=False, timeout=60, capture_output=True)
    with open(out, encoding="utf-8") as f:
        message = f.read()
    assert len(message.encode()) <= 4096
    return parse_message(message)


HOSTILE = 'he said "hi" \\ back\tslash\nnew line \x01 $(touch /tmp/pwned) `id` \u00e9'


def test_pod_script_output_is_valid_json_for_hostile_content(tmp_path: object) -> None:
    from kubectl_certdoctor.probes.podscript import BACKENDS, HTTP01

    routes = {PATH: (200, HOSTILE)}
    with HttpBackend("127.0.0.2", routes, 'srv "x" \\') as srv:
        url = f"http://127.0.0.2:{srv.port}{PATH}?q=$(id)&x=\"y\""
        d = _run_script(HTTP01, {"URL": url, "TIMEOUT": "3"}, tmp_path)
        assert "error" not in d, d
        f = d["fetch"]
        assert isinstance(f, dict) and f["rc"] == 0 and f["w"].startswith("200 127.0.0.2")
        assert f["body"].startswith('he said "hi" \\ back slash new line')
        assert f["server"].startswith('srv "x" \\')
        b = _run_script(BACKENDS, {"URL": url, "CANDIDATES": "", "SAMPLES": "3",
                                   "TIMEOUT": "3"}, tmp_path)
        assert b == {"candidates": [], "samples": "200 200 200"}
    import os

    assert not os.path.exists("/tmp/pwned")


def test_prepare_for_a_selected_challenge() -> None:
    from kubectl_certdoctor.probes.plan import prepare

    params, plan, placements = prepare(PROBES["http01"], _snapshot(), Ref("Challenge", "app",
                                                                           "web-1"),
                                       opts=Options(), api_client=None,
                                       requested=list(Vantage))
    assert params.key == KEY and params.url.endswith(TOKEN)
    assert plan == {Vantage.LOCAL: "", Vantage.POD: "no cluster connection",
                    Vantage.CERT_MANAGER: "no cluster connection"}
    assert placements == {}


def test_proxy_credentials_never_shown() -> None:
    from kubectl_certdoctor.probes.base import mask_userinfo

    assert mask_userinfo("http://bob:s3cret@proxy.corp.test:3128") == (
        "http://bob:***@proxy.corp.test:3128")
    p = Params(https_proxy="http://bob:s3cret@proxy.corp.test:3128", ca_pem="PEM")
    assert "s3cret" not in str(p.to_json())
    res = run_to_result(PROBES["no-proxy"], Params(https_proxy=p.https_proxy,
                                                   internal_targets=INTERNAL), vantages=LOCAL)
    assert "s3cret" not in str(res.to_json())


def test_hairpin_tells_a_router_without_nat_loopback_from_the_clusters_own_lb() -> None:
    from kubectl_certdoctor.probes.hairpin import address_kind, why_unreachable

    lbs = {"192.0.2.10": "Service ingress-nginx/ingress-nginx-controller"}
    assert "NAT loopback (hairpin) is missing" in why_unreachable("203.0.113.7", lbs)
    # data only, nothing is sent: a routable address, and one of the private ranges
    assert address_kind("8.8.8.8", lbs).startswith("a public address")
    assert address_kind("10.1.2.3", lbs).startswith("a private address")
    own = why_unreachable("192.0.2.10", lbs)
    assert "not a router's NAT loopback" in own and "externalTrafficPolicy" in own
    assert "ingress-nginx-controller" in address_kind("192.0.2.10", lbs)
    assert address_kind("", lbs) == "unknown"
