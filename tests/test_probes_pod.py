"""The debug-pod vantage points in REAL pods on a real node.

The ``node`` fixture (tests/support/node.py) runs containerd, runc, a CNI bridge and the
kubelet against the test API server; the probes create their pods exactly as on a real
cluster, the kubelet runs them from the locally built probe image (busybox + curl + dig)
as uid 65534 with every capability dropped, and the probe reads its result from the
real termination message. The test servers listen on the bridge's gateway address,
which pods reach through the bridge; nothing leaves this machine. The namespaces enforce
Pod Security "restricted", so the API server itself rejects a non-compliant debug pod.

The real kube-scheduler places the pods (the ``node`` fixture starts it), never the tool.
The node is tainted; only the namespaces a test hands it (``node.adopt``) tolerate the
taint, so a namespace it was not handed keeps its pods Pending (Unschedulable), which is
what the never-scheduled test needs.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes.client import BatchV1Api, CoreV1Api

from kubectl_certdoctor.noproxy import proxy_for
from kubectl_certdoctor.options import Options
from kubectl_certdoctor.probes.base import Params, ProbeResult, Progress, Vantage, Verdict
from kubectl_certdoctor.probes.plan import plan_vantages
from kubectl_certdoctor.probes.podrunner import (
    DEADLINE_ANNOTATION,
    PodPlacement,
    job_manifest,
    pod_manifest,
    sweep_leftovers,
)
from kubectl_certdoctor.probes.registry import PROBES
from kubectl_certdoctor.probes.runner import run_to_result
from tests.support.netservers import ConnectProxy, DnsServer, HttpBackend, RoundRobinProxy
from tests.support.node import Node, controller_deployment

pytestmark = pytest.mark.integration
on_node = pytest.mark.node

TOKEN = "tok-pod-1"
KEY = "tok-pod-1.thumb"
PATH = f"/.well-known/acme-challenge/{TOKEN}"
SELECTOR = "app.kubernetes.io/managed-by=kubectl-certdoctor"
#: a pod that cannot start must say why within this many seconds (issue 14)
EXPLAIN_WITHIN = 10.0


def restrict(api: Any, namespace: str) -> str:
    """Pod Security Admission enforcing 'restricted' on ``namespace``."""
    CoreV1Api(api).patch_namespace(namespace, {"metadata": {"labels": {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest"}}})
    return namespace


@pytest.fixture
def restricted_ns(admin_api: Any, namespace: str) -> str:
    """The test namespace with Pod Security Admission enforcing 'restricted'."""
    return restrict(admin_api, namespace)


@pytest.fixture
def node_ns(admin_api: Any, namespace: str, node: Node) -> Iterator[str]:
    """A PSA-restricted namespace whose pods the real node runs."""
    restrict(admin_api, namespace)
    node.adopt(namespace)
    yield namespace
    wait_no_containers(node, namespace)


def wait_no_containers(node: Node, namespace: str, timeout: float = 20) -> None:
    """The kubelet really stopped the namespace's containers after the probe deleted them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not node.running_containers(namespace):
            return
        time.sleep(0.2)
    raise AssertionError(f"containers of {namespace} still running: "
                         f"{node.running_containers(namespace)}")


def probe_pods(api: Any, ns: str) -> list[str]:
    core: Any = CoreV1Api(api)
    pods = json.loads(core.list_namespaced_pod(
        ns, label_selector=SELECTOR, _preload_content=False).data)["items"]
    return [p["metadata"]["name"] for p in pods]


def run_probe(probe: str, params: Params, api: Any, ns: str, want: list[Vantage],
              controller: dict[str, Any] | None = None, opts: Options | None = None,
              ephemeral: bool = False, **kw: Any) -> tuple[ProbeResult, list[Progress]]:
    plan, placements = plan_vantages(PROBES[probe], want, opts=opts or Options(),
                                     api_client=api, pod_namespace=ns, controller=controller,
                                     ephemeral=ephemeral)
    events: list[Progress] = []
    res = run_to_result(PROBES[probe], params, on_progress=events.append, vantages=plan,
                        api_client=api, placements=placements, timeout=kw.pop("timeout", 60),
                        **kw)
    return res, events


# ---------------------------------------------------------------- real pods, real servers


@on_node
def test_http01_from_a_real_pod_is_psa_restricted_and_cleaned_up(
        admin_api: Any, node_ns: str, node: Node) -> None:
    with HttpBackend(node.gateway, {PATH: (200, KEY)}, "nginx") as good:
        url = f"http://{node.gateway}:{good.port}{PATH}"
        res, events = run_probe("http01", Params(url=url, key=KEY), admin_api, node_ns,
                                [Vantage.LOCAL, Vantage.POD], image=node.probe_image)
        hosts = list(good.hosts)
    assert res.verdict is Verdict.PASS, res.summary
    pod = res.vantages["pod"]
    assert pod.verdict is Verdict.PASS and pod.data["fetch"]["status"] == 200
    # the result came through the real kubelet's termination message
    raw = json.loads(pod.raw)
    assert raw["fetch"]["body"] == KEY and raw["fetch"]["rc"] == 0
    # curl's source address: the pod's own IP on the node's bridge
    assert hosts == [f"{node.gateway}:{good.port}"] * 2  # the workstation's GET and the pod's
    msgs = [e.message for e in events if e.vantage == "pod"]
    assert any(m.startswith("created job") for m in msgs)
    assert f"pod scheduled on node {node.name}" in msgs
    assert any(m.startswith("pod finished:") and m.endswith("exit code 0") for m in msgs), msgs
    assert any(m.startswith("deleted job") for m in msgs)
    # what the API server accepted (under PSA "restricted") is what the kubelet ran
    (seen,) = [p for p in node.pods if p["metadata"]["namespace"] == node_ns]
    spec = seen["spec"]
    ctr = spec["containers"][0]
    assert spec["automountServiceAccountToken"] is False
    assert spec["restartPolicy"] == "Never" and spec["activeDeadlineSeconds"] > 0
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == 65534
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert ctr["securityContext"]["allowPrivilegeEscalation"] is False
    assert ctr["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert ctr["image"] == node.probe_image
    assert "nodeName" not in spec  # the tool never binds; the real scheduler did
    assert node.toleration in spec["tolerations"]  # the adopted namespace's default
    assert seen["metadata"]["labels"]["certdoctor.io/probe"] == "http01"
    assert DEADLINE_ANNOTATION in seen["metadata"]["annotations"]
    # the URL reached the pod as an env var, not inside the script
    assert url not in ctr["command"][2]
    assert {"name": "URL", "value": url} in ctr["env"]
    assert probe_pods(admin_api, node_ns) == []


@on_node
def test_http01_wrong_body_and_404_from_a_real_pod(admin_api: Any, node_ns: str,
                                                   node: Node) -> None:
    with HttpBackend(node.gateway, {PATH: (200, "something else")}, "nginx") as wrong, \
            HttpBackend(node.gateway, {}, "envoy") as missing:
        res_wrong, _ = run_probe(
            "http01", Params(url=f"http://{node.gateway}:{wrong.port}{PATH}", key=KEY),
            admin_api, node_ns, [Vantage.POD], image=node.probe_image)
        res_404, _ = run_probe(
            "http01", Params(url=f"http://{node.gateway}:{missing.port}{PATH}", key=KEY),
            admin_api, node_ns, [Vantage.POD], image=node.probe_image)
    assert res_wrong.verdict is Verdict.FAIL
    assert res_wrong.vantages["pod"].summary == "HTTP 200 but the body is not the key"
    assert res_404.verdict is Verdict.FAIL and res_404.confirms == ["HTTP01_SELF_CHECK_404"]
    assert res_404.vantages["pod"].data["fetch"]["server"] == "envoy"


class SelfCheckTargets:
    """One HTTP server with the self-check cases of the table below, plus a TLS server
    with a self-signed certificate that a redirect points at."""

    def __init__(self, host: str, tmpdir: str) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from tests.support.netservers import HttpsBackend

        self.tls = HttpsBackend(host, {PATH: (200, KEY)}, "tls", ["self-signed.test"], tmpdir)
        tls_url = f"https://{host}:{self.tls.port}{PATH}"
        routes: dict[str, tuple[int, str, str]] = {
            "/exact": (200, KEY, ""),
            "/newline": (200, KEY + "\n", ""),
            "/https-self-signed": (302, "", tls_url),
            "/loop": (302, "", "/loop"),
            "/missing": (404, "404 page not found\n", ""),
        }

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/slow":
                    time.sleep(5)
                    return
                status, body, location = routes.get(self.path, (404, "", ""))
                data = body.encode()
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a: Any) -> None:
                pass

        self.http = ThreadingHTTPServer((host, 0), Handler)
        self.http.daemon_threads = True
        self.base = f"http://{host}:{self.http.server_address[1]}"

    def __enter__(self) -> SelfCheckTargets:
        self.tls.start()
        threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.tls.stop()


#: path → cert-manager's self-check outcome at v1.21.1 (pkg/issuer/acme/http/http.go
#: testReachability: 200 and the body equal to the key byte for byte; redirects followed
#: by Go's client (at most 10) with InsecureSkipVerify; a 10 s client timeout)
SELF_CHECK_TABLE = {
    "/exact": Verdict.PASS,
    "/newline": Verdict.FAIL,            # "did not get expected response": exact comparison
    "/https-self-signed": Verdict.PASS,  # TLS not verified on the redirect
    "/loop": Verdict.FAIL,               # "stopped after 10 redirects"
    "/missing": Verdict.FAIL,            # "wrong status code '404', expected '200'"
    "/slow": Verdict.FAIL,               # client timeout
}


@on_node
def test_http01_verdict_equals_cert_managers_self_check(admin_api: Any, node_ns: str,
                                                        node: Node, tmp_path: Any) -> None:
    """The workstation and a real pod reach cert-manager's self-check verdict on every
    row (``http01.self_check.*`` facts in rules/semantics say the same for v1.21.1)."""
    from kubectl_certdoctor.rules import semantics
    from kubectl_certdoctor.versions import Version

    tag = Version(1, 21, 1)
    assert semantics.enabled("http01.self_check.redirect_insecure_skip_verify", tag)
    with SelfCheckTargets(node.gateway, str(tmp_path)) as t:
        got: dict[str, tuple[Verdict, Verdict, str]] = {}
        for path in SELF_CHECK_TABLE:
            res, _ = run_probe("http01", Params(url=t.base + path, key=KEY, timeout=2),
                               admin_api, node_ns, [Vantage.LOCAL, Vantage.POD],
                               image=node.probe_image)
            got[path] = (res.vantages["local"].verdict, res.vantages["pod"].verdict,
                         res.vantages["pod"].summary)
    want = {path: (v, v) for path, v in SELF_CHECK_TABLE.items()}
    assert {path: g[:2] for path, g in got.items()} == want, got
    assert "key plus whitespace" in got["/newline"][2]


def test_non_restricted_pod_would_be_rejected(admin_api: Any, restricted_ns: str) -> None:
    """Control for the tests here: the namespace really enforces PSA."""
    from kubernetes.client.exceptions import ApiException

    bad = pod_manifest("http01", "pod", PodPlacement(restricted_ns), "busybox", "true", {}, 30)
    del bad["spec"]["containers"][0]["securityContext"]["capabilities"]
    with pytest.raises(ApiException) as e:
        core: Any = CoreV1Api(admin_api)
        core.create_namespaced_pod(restricted_ns, bad)
    assert e.value.status == 403 and "restricted" in str(e.value.body)


@on_node
def test_backends_split_seen_from_a_real_pod(admin_api: Any, node_ns: str, node: Node) -> None:
    gw = node.gateway
    with HttpBackend(gw, {PATH: (200, KEY)}, "nginx") as good, \
            HttpBackend(gw, {}, "envoy") as bad, \
            RoundRobinProxy(gw, [(good.host, good.port), (bad.host, bad.port)]) as lb:
        p = Params(url=f"http://{gw}:{lb.port}{PATH}", key=KEY,
                   candidates=[good.addr, bad.addr], samples=6, timeout=3)
        res, _ = run_probe("http01-backends", p, admin_api, node_ns, [Vantage.POD],
                           image=node.probe_image)
    pod = res.vantages["pod"]
    assert res.verdict is Verdict.FAIL, res.summary
    assert res.confirms == ["HTTP01_MULTIPLE_INGRESS_BACKENDS"]
    assert pod.data["histogram"] == {"200": 3, "404": 3}
    outcomes = {c["address"]: c["outcome"] for c in pod.data["candidates"]}
    assert outcomes[good.addr] == "200" and outcomes[bad.addr] == "404"
    assert probe_pods(admin_api, node_ns) == []


@on_node
def test_dns_search_trap_seen_from_a_real_pod(admin_api: Any, node_ns: str,
                                              node: Node) -> None:
    zone = {"acme.example.test.": {"A": ["192.0.2.10"]}, "*.corp.test.": {"A": ["192.0.2.66"]}}
    with DnsServer(node.gateway, zone) as dns:
        p = Params(domain="acme.example.test", pod_nameserver=dns.addr,
                   pod_search=["svc.cluster.local", "corp.test"], pod_ndots=5,
                   nameservers=[dns.addr])
        res, _ = run_probe("dns", p, admin_api, node_ns, [Vantage.POD],
                           image=node.probe_image)
        queries = list(dns.queries)
    pod = res.vantages["pod"]
    assert pod.verdict is Verdict.FAIL, pod.summary
    assert pod.data["answered"] == "acme.example.test.corp.test."
    assert "192.0.2.66" in pod.summary and "192.0.2.10" in pod.summary
    assert [t["query"] for t in pod.data["tries"] if t["type"] == "A"] == [
        "acme.example.test.svc.cluster.local.", "acme.example.test.corp.test."]
    # dig in the pod asked our server through the bridge; the pod's resolv.conf is the
    # kubelet's (the node's gateway), not this machine's
    assert "acme.example.test.corp.test. A" in queries
    assert f"nameserver {node.gateway}" in pod.evidence[0]


@on_node
def test_egress_as_cert_manager_in_a_real_pod(admin_api: Any, node_ns: str,
                                              node: Node) -> None:
    """Direct is blocked, the proxy gets through. From the pod, 127.0.0.7 is the pod's
    own loopback: only the proxy on the bridge reaches "the outside". Go never proxies
    a loopback address, so the controller itself would go direct: "proxy required" and
    the NO_PROXY gap."""
    gw = node.gateway
    with HttpBackend(gw, {"/directory": (200, "{}")}, "pebble") as acme, \
            ConnectProxy(gw, {f"127.0.0.7:{acme.port}": (acme.host, acme.port)}) as px:
        proxy = px.url
        dep = controller_deployment(node_ns, {"HTTP_PROXY": proxy, "http_proxy": proxy,
                                              "NO_PROXY": ".svc"})
        url = f"http://127.0.0.7:{acme.port}/directory"
        p = Params(targets=[url], http_proxy=proxy, no_proxy=".svc", timeout=3)
        res, _ = run_probe("egress", p, admin_api, node_ns,
                           [Vantage.LOCAL, Vantage.CERT_MANAGER], controller=dep,
                           image=node.probe_image)
        requests = list(px.requests)
    cm = res.vantages["cert-manager"]
    row = cm.data["targets"][0]
    assert row["direct"]["stage"] == "connect"
    assert row["proxy"]["status"] == 200
    assert "proxy required" in row["diagnosis"] and "goes direct" in row["diagnosis"]
    assert cm.verdict is Verdict.FAIL and "PROXY_NO_PROXY_GAP" in res.confirms
    # the pod's own env (the controller's http_proxy) took the proxy: curl's rules differ
    assert any("with the pod's own proxy env" in e and "HTTP 200" in e for e in cm.evidence)
    assert requests.count(f"GET http://127.0.0.7:{acme.port}/directory") >= 2
    assert res.vantages["local"].data["targets"][0]["proxy"]["status"] == 200
    assert any("pod placed like Deployment" in e for e in cm.evidence)
    (seen,) = [p for p in node.pods if p["metadata"]["namespace"] == node_ns]
    spec = seen["spec"]
    assert spec["nodeSelector"] == {"kubernetes.io/os": "linux"}  # the kubelet admitted it
    assert spec["tolerations"][0]["key"] == "infra"
    env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
    assert env["HTTP_PROXY"] == proxy and env["NO_PROXY"] == ".svc"
    assert probe_pods(admin_api, node_ns) == []


@on_node
def test_no_proxy_bypass_in_a_real_pod_follows_go_rules(admin_api: Any, node_ns: str,
                                                        node: Node) -> None:
    """NO_PROXY lists the ACME host, which only the proxy reaches: Go's rules (the
    ``no-proxy`` probe, ``noproxy.proxy_for``) and curl in the cert-manager pod agree
    that the controller goes direct, and direct fails."""
    gw = node.gateway
    closed = socket.socket()
    closed.bind((gw, 0))  # reserved, never listening: direct connections are refused
    port = closed.getsockname()[1]
    try:
        with HttpBackend(gw, {"/directory": (200, "{}")}, "pebble") as acme, \
                ConnectProxy(gw, {f"{gw}:{port}": (acme.host, acme.port)}) as px:
            url = f"http://{gw}:{port}/directory"
            env = {"HTTP_PROXY": px.url, "http_proxy": px.url, "NO_PROXY": gw,
                   "no_proxy": gw}
            dep = controller_deployment(node_ns, env)
            p = Params(targets=[url], http_proxy=px.url, no_proxy=gw, timeout=3)
            local, _ = run_probe("no-proxy", p, admin_api, node_ns, [Vantage.LOCAL])
            res, _ = run_probe("egress", p, admin_api, node_ns, [Vantage.CERT_MANAGER],
                               controller=dep, image=node.probe_image)
    finally:
        closed.close()
    assert proxy_for(url, env) is None  # Go: NO_PROXY covers the host, the controller goes direct
    (target,) = [t for t in local.vantages["local"].data["targets"] if t["url"] == url]
    assert target["proxy"] is None
    cm = res.vantages["cert-manager"]
    row = cm.data["targets"][0]
    assert row["controller_uses_proxy"] is False
    assert row["direct"]["stage"] == "connect" and row["proxy"]["status"] == 200
    assert "NO_PROXY covers it" in row["diagnosis"]
    assert set(res.confirms) >= {"PROXY_NO_PROXY_GAP", "ACME_SERVER_UNREACHABLE"}
    # curl with the pod's own env bypassed the proxy like Go would: a refused connection
    (env_line,) = [e for e in cm.evidence if "with the pod's own proxy env" in e]
    assert "HTTP 200" not in env_line


@on_node
def test_hairpin_outside_ok_inside_unreachable(admin_api: Any, node_ns: str,
                                               node: Node) -> None:
    """The backend listens on this machine's loopback: the workstation gets it, a real pod
    (its own network namespace) does not — the missing NAT loopback."""
    with HttpBackend("127.0.0.2", {PATH: (200, KEY)}, "nginx") as good:
        p = Params(url=f"http://127.0.0.2:{good.port}{PATH}", key=KEY, timeout=3)
        res, _ = run_probe("hairpin", p, admin_api, node_ns, [Vantage.LOCAL, Vantage.POD],
                           image=node.probe_image)
    assert res.verdict is Verdict.FAIL, res.summary
    assert "NAT loopback" in res.summary
    assert res.vantages["local"].verdict is Verdict.PASS
    assert res.vantages["pod"].verdict is Verdict.FAIL


def test_restricted_user_gets_local_only(restricted_api: Any, namespace: str) -> None:
    with HttpBackend("127.0.0.2", {PATH: (200, KEY)}, "nginx") as good:
        p = Params(url=f"http://127.0.0.2:{good.port}{PATH}", key=KEY)
        res, _ = run_probe("http01", p, restricted_api, namespace,
                           [Vantage.LOCAL, Vantage.POD])
    assert res.vantages["local"].verdict is Verdict.PASS
    pod = res.vantages["pod"]
    assert pod.skipped.startswith("not allowed to create pods")
    assert res.verdict is Verdict.PASS


@on_node
def test_cancelled_probe_leaves_no_pod_and_no_container(admin_api: Any, node_ns: str,
                                                        node: Node) -> None:
    # a backend that accepts and never answers: the pod's curl hangs
    hang = socket.socket()
    hang.bind((node.gateway, 0))
    hang.listen(16)
    cancel = threading.Event()
    connected = threading.Event()

    def cancel_when_curl_connected() -> None:
        hang.settimeout(60)
        try:
            conn, _ = hang.accept()  # curl in the real pod reached us
        except OSError:
            return
        connected.set()
        cancel.set()
        time.sleep(3)
        conn.close()

    threading.Thread(target=cancel_when_curl_connected, daemon=True).start()
    try:
        p = Params(url=f"http://{node.gateway}:{hang.getsockname()[1]}{PATH}", key=KEY,
                   timeout=60)
        res, events = run_probe("http01", p, admin_api, node_ns, [Vantage.POD],
                                cancel=cancel, image=node.probe_image)
    finally:
        hang.close()
    assert connected.is_set()
    assert res.verdict is Verdict.INCONCLUSIVE and "cancelled" in res.summary
    assert probe_pods(admin_api, node_ns) == []
    assert any(e.message.startswith("deleted job") for e in events)
    wait_no_containers(node, node_ns)  # the kubelet stopped the running curl with the pod


@on_node
def test_image_pull_failure_explained_within_seconds(admin_api: Any, node_ns: str,
                                                     node: Node) -> None:
    """An unreachable registry (an air-gapped cluster without --probe-image): the
    kubelet's ErrImagePull reaches the screen within seconds, and the pod is deleted."""
    t0 = time.monotonic()
    res, _ = run_probe("http01", Params(url=f"http://{node.gateway}:1/x", key=KEY), admin_api,
                       node_ns, [Vantage.POD], image="127.0.0.1:9/certdoctor/missing:v0")
    took = time.monotonic() - t0
    pod = res.vantages["pod"]
    assert pod.verdict is Verdict.INCONCLUSIVE
    assert "ErrImagePull" in pod.summary or "ImagePullBackOff" in pod.summary, pod.summary
    assert "127.0.0.1:9/certdoctor/missing:v0" in pod.summary
    assert took < EXPLAIN_WITHIN, f"took {took:.1f}s"
    assert probe_pods(admin_api, node_ns) == []


@on_node
def test_admission_denial_explained_at_once(admin_api: Any, node_ns: str, node: Node) -> None:
    """A LimitRange caps containers below the debug pod's limits: the API server's
    admission denies the pod, and the probe says so at once."""
    core: Any = CoreV1Api(admin_api)
    core.create_namespaced_limit_range(node_ns, {
        "apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "tiny"},
        "spec": {"limits": [{"type": "Container", "max": {"cpu": "50m"}}]}})
    t0 = time.monotonic()
    res, _ = run_probe("http01", Params(url=f"http://{node.gateway}:1/x", key=KEY), admin_api,
                       node_ns, [Vantage.POD], image=node.probe_image)
    took = time.monotonic() - t0
    pod = res.vantages["pod"]
    assert pod.verdict is Verdict.INCONCLUSIVE
    assert pod.summary.startswith("debug pod failed: 403 Forbidden"), pod.summary
    assert "maximum cpu usage per Container is 50m" in pod.summary
    assert took < EXPLAIN_WITHIN
    assert probe_pods(admin_api, node_ns) == []


@on_node
def test_unschedulable_pod_explained_within_seconds(admin_api: Any, node_ns: str,
                                                    node: Node) -> None:
    """The "as cert-manager" pod copies a nodeSelector no node has. The real scheduler
    marks it Unschedulable; its words reach the progress stream, and the probe ends with
    them within seconds (not at its own 60 s timeout) and deletes the Job."""
    dep = controller_deployment(node_ns, {})
    dep["spec"]["template"]["spec"]["nodeSelector"] = {"pool": "infra"}
    t0 = time.monotonic()
    res, events = run_probe("http01", Params(url=f"http://{node.gateway}:1/x", key=KEY),
                            admin_api, node_ns, [Vantage.CERT_MANAGER], controller=dep,
                            image=node.probe_image, timeout=60)
    took = time.monotonic() - t0
    cm = res.vantages["cert-manager"]
    assert cm.verdict is Verdict.INCONCLUSIVE
    said = [e for e in events if e.message.startswith("not scheduled yet: Unschedulable")]
    assert said, [e.message for e in events]
    assert "didn't match Pod's node affinity/selector" in said[0].message, said[0].message
    assert said[0].at - t0 < EXPLAIN_WITHIN
    assert "Unschedulable" in cm.summary and "node affinity/selector" in cm.summary, cm.summary
    assert took < EXPLAIN_WITHIN + 5, f"the probe took {took:.1f}s to give up"
    assert not any(e.message.startswith("pod scheduled on node") for e in events)
    assert probe_pods(admin_api, node_ns) == []


def test_sweep_deletes_only_expired_pods(admin_api: Any, namespace: str) -> None:
    core: Any = CoreV1Api(admin_api)
    old = pod_manifest("dns", "pod", PodPlacement(namespace), "busybox", "true", {}, 30)
    old["metadata"]["annotations"][DEADLINE_ANNOTATION] = "2020-01-01T00:00:00Z"
    new = pod_manifest("dns", "pod", PodPlacement(namespace), "busybox", "true", {}, 30)
    o = core.create_namespaced_pod(namespace, old).metadata.name
    n = core.create_namespaced_pod(namespace, new).metadata.name
    batch: Any = BatchV1Api(admin_api)
    old_job = job_manifest("dns", "pod", PodPlacement(namespace), "busybox", "true", {}, 30)
    old_job["metadata"]["annotations"][DEADLINE_ANNOTATION] = "2020-01-01T00:00:00Z"
    new_job = job_manifest("dns", "pod", PodPlacement(namespace), "busybox", "true", {}, 30)
    oj = batch.create_namespaced_job(namespace, old_job).metadata.name
    nj = batch.create_namespaced_job(namespace, new_job).metadata.name
    deleted = sweep_leftovers(admin_api, namespace)
    assert sorted(deleted) == sorted([f"{namespace}/{o}", f"job {namespace}/{oj}"])
    assert n in probe_pods(admin_api, namespace)
    assert probe_jobs(admin_api, namespace) == [nj]
    core.delete_namespaced_pod(n, namespace, grace_period_seconds=0)
    batch.delete_namespaced_job(nj, namespace, propagation_policy="Background")


def test_pod_that_never_runs_times_out_and_is_deleted(admin_api: Any, namespace: str,
                                                       job_controllers: Any) -> None:
    """Never scheduled (no node takes this namespace's pods): the probe gives up — at its
    timeout, or sooner with the scheduler's words when the session's scheduler runs (the
    node fixture's: the node's taint keeps this namespace off it) — and still removes the
    pod."""
    res, events = run_probe("http01", Params(url="http://127.0.0.2:1/x", key=KEY), admin_api,
                            namespace, [Vantage.LOCAL, Vantage.POD], timeout=3)
    pod = res.vantages.get("pod")
    if pod is not None and "Unschedulable" in pod.summary:
        # the scheduler said why: the pod vantage ends early, inconclusive
        assert pod.verdict is Verdict.INCONCLUSIVE, pod.summary
        assert "untolerated taint" in pod.summary, pod.summary
    else:  # no scheduler: the whole probe times out
        assert res.verdict is Verdict.INCONCLUSIVE
        assert "timed out" in res.summary or (pod is not None and
                                              "did not finish" in pod.summary), res.summary
    assert any(e.message.startswith("created job") for e in events)
    assert probe_pods(admin_api, namespace) == []
    # what the workstation saw before the timeout is kept
    assert res.vantages["local"].data["fetch"]["error_kind"] == "refused"


def probe_jobs(api: Any, ns: str) -> list[str]:
    batch: Any = BatchV1Api(api)
    jobs = json.loads(batch.list_namespaced_job(
        ns, label_selector=SELECTOR, _preload_content=False).data)["items"]
    return [j["metadata"]["name"] for j in jobs]


@on_node
def test_killed_cli_leaves_nothing_once_the_ttl_passes(control_plane: Any, admin_api: Any,
                                                       node_ns: str, node: Node) -> None:
    """SIGKILL (no handler, no atexit) while the debug pod's curl hangs on our server: the
    Job is left behind, then the cluster's own controllers remove it (job finished →
    ttlSecondsAfterFinished → TTL controller deletes the Job → garbage collector the pod)."""
    import os
    import signal
    import subprocess
    import sys

    from kubectl_certdoctor.probes.podrunner import TTL_ENV

    hang = socket.socket()
    hang.bind((node.gateway, 0))
    hang.listen(16)
    hang.settimeout(30)
    url = f"http://{node.gateway}:{hang.getsockname()[1]}{PATH}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubectl_certdoctor", "probe", "http01", url, "--from", "pod",
         "--kubeconfig", str(control_plane.admin_kubeconfig), "-n", node_ns,
         "--probe-image", node.probe_image],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, TTL_ENV: "1"})
    try:
        conn, _ = hang.accept()  # curl in the real pod reached us: the probe is mid-run
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert probe_jobs(admin_api, node_ns) and probe_pods(admin_api, node_ns)
        batch: Any = BatchV1Api(admin_api)
        (job,) = json.loads(batch.list_namespaced_job(node_ns, _preload_content=False).data)[
            "items"]
        assert job["spec"]["ttlSecondsAfterFinished"] == 1
        assert job["spec"]["backoffLimit"] == 0 and job["spec"]["activeDeadlineSeconds"] > 0
        conn.close()  # curl gets an empty reply; the script ends, so does the Job
    finally:
        if proc.poll() is None:
            proc.kill()
        hang.close()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 30 and (probe_jobs(admin_api, node_ns)
                                          or probe_pods(admin_api, node_ns)):
        time.sleep(0.2)
    assert probe_jobs(admin_api, node_ns) == [] and probe_pods(admin_api, node_ns) == []
    wait_no_containers(node, node_ns)


# ------------------------------------------------- "as cert-manager", faithfully (issue 14)

ACME_HOST = "acme-http01.test"  # resolvable by nobody: only the proxy reaches it


@on_node
def test_as_cert_manager_copies_the_controller_faithfully(admin_api: Any, node_ns: str,
                                                          node: Node) -> None:
    """The controller Deployment as the API server has it (not the snapshot's redacted
    copy): same namespace, placement hints, DNS settings, its REAL env — a literal proxy
    URL with credentials, and a Secret reference the kubelet resolves — and the pod labels
    a NetworkPolicy selects on, minus the one that would put the pod behind its Service.
    The pod reaches a host only the proxy knows, with the Secret's credentials."""
    import base64

    from kubernetes.client import AppsV1Api, NetworkingV1Api

    from kubectl_certdoctor.redact import REDACTED, sanitize

    gw = node.gateway
    core: Any = CoreV1Api(admin_api)
    with HttpBackend(gw, {PATH: (200, KEY)}, "solver") as solver, \
            ConnectProxy(gw, {f"{ACME_HOST}:80": (solver.host, solver.port)}) as px:
        secret_url = f"http://cm:s3cret@{gw}:{px.port}"
        core.create_namespaced_secret(node_ns, {"metadata": {"name": "proxy"},
                                                "stringData": {"url": secret_url}})
        labels = {"app": "cm", "app.kubernetes.io/name": "cert-manager",
                  "app.kubernetes.io/component": "controller",
                  "app.kubernetes.io/instance": "cert-manager"}
        dep = controller_deployment(node_ns, {"HTTPS_PROXY": f"http://cm:lit3ral@{gw}:1",
                                              "NO_PROXY": ".svc,.cluster.local"})
        tmpl = dep["spec"]["template"]
        tmpl["metadata"]["labels"] = labels
        ctr = tmpl["spec"]["containers"][0]
        ctr["env"] += [
            {"name": "HTTP_PROXY", "valueFrom": {"secretKeyRef": {"name": "proxy", "key": "url"}}},
            {"name": "POD_NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}]
        affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}]}}}
        dns_config = {"nameservers": [gw], "searches": ["cert-manager.svc.cluster.local"],
                      "options": [{"name": "ndots", "value": "2"}]}
        tmpl["spec"].update(affinity=affinity, dnsPolicy="None", dnsConfig=dns_config)
        apps: Any = AppsV1Api(admin_api)
        apps.create_namespaced_deployment(node_ns, dep)
        svc_selector = {k: labels[k] for k in ("app.kubernetes.io/name",
                                               "app.kubernetes.io/component",
                                               "app.kubernetes.io/instance")}
        core.create_namespaced_service(node_ns, {
            "metadata": {"name": "cert-manager"},
            "spec": {"selector": svc_selector, "ports": [{"port": 9402}]}})
        net: Any = NetworkingV1Api(admin_api)
        net.create_namespaced_network_policy(node_ns, {
            "metadata": {"name": "cert-manager-egress"},
            "spec": {"podSelector": {"matchLabels": {
                "app.kubernetes.io/component": "controller",
                "app.kubernetes.io/instance": "cert-manager"}},
                "policyTypes": ["Egress"], "egress": [{}]}})
        store_copy = sanitize(json.loads(apps.read_namespaced_deployment(
            "cert-manager", node_ns, _preload_content=False).data))
        store_env = store_copy["spec"]["template"]["spec"]["containers"][0]["env"]
        assert REDACTED in json.dumps(store_env)  # what the tool's snapshot shows
        url = f"http://{ACME_HOST}{PATH}"
        res, _ = run_probe("http01", Params(url=url, key=KEY, timeout=3), admin_api, node_ns,
                           [Vantage.CERT_MANAGER], controller=store_copy,
                           image=node.probe_image)
        auth = list(px.auth)
    cm = res.vantages["cert-manager"]
    assert cm.verdict is Verdict.PASS, (cm.summary, cm.evidence)
    assert "proxy decision (Go's rules): through $HTTP_PROXY (a reference the kubelet " \
           "resolves)" in cm.evidence
    # the Secret's credentials reached the proxy: the reference round-tripped
    assert auth == ["Basic " + base64.b64encode(b"cm:s3cret").decode()]
    (seen,) = [p for p in node.pods if p["metadata"]["namespace"] == node_ns]
    spec, md = seen["spec"], seen["metadata"]
    env = {e["name"]: e for e in spec["containers"][0]["env"]}
    assert env["HTTPS_PROXY"]["value"] == f"http://cm:lit3ral@{gw}:1"  # real, not redacted
    assert env["HTTP_PROXY"]["valueFrom"] == {"secretKeyRef": {"name": "proxy", "key": "url"}}
    assert env["POD_NS"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    assert env["NO_PROXY"]["value"] == ".svc,.cluster.local"
    assert REDACTED not in json.dumps(spec)
    assert md["namespace"] == node_ns
    assert spec["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert spec["affinity"] == affinity
    assert spec["tolerations"][0]["key"] == "infra"
    assert spec["dnsPolicy"] == "None" and spec["dnsConfig"] == dns_config
    # NetworkPolicies select it; the Service does not
    assert md["labels"]["app.kubernetes.io/component"] == "controller"
    assert md["labels"]["app.kubernetes.io/instance"] == "cert-manager"
    assert md["labels"]["app"] == "cm"
    assert "app.kubernetes.io/name" not in md["labels"]
    assert not all(md["labels"].get(k) == v for k, v in svc_selector.items())
    assert any("label app.kubernetes.io/name not copied: Service" in e for e in cm.evidence)
    assert probe_pods(admin_api, node_ns) == []


@on_node
def test_http01_proxy_rows_equal_cert_managers_self_check(admin_api: Any, node_ns: str,
                                                          node: Node, tmp_path: Any) -> None:
    """The table's proxy rows, from the "as cert-manager" pod: the proxy decision is Go's
    (noproxy.py), handed to curl as --proxy / --noproxy '*', so curl's own NO_PROXY rules
    (which differ on both rows) never decide.

    * proxy required: NO_PROXY=.acme-http01.test — Go's leading-dot entry matches only
      subdomains, so the bare host goes through the proxy (curl would go direct and fail
      to resolve it);
    * bypassed: NO_PROXY=<ip>:<port> — Go honours the port and goes direct (curl ignores
      entries with a port and would use the dead proxy)."""
    gw = node.gateway
    dead = socket.socket()
    dead.bind((gw, 0))  # never listening: a proxy that refuses everything
    with SelfCheckTargets(gw, str(tmp_path)) as t:
        port = int(t.base.rsplit(":", 1)[1])
        rows = {
            "proxy required": (f"http://{ACME_HOST}/exact",
                               {"HTTP_PROXY": "", "NO_PROXY": f".{ACME_HOST}"}),
            "proxy bypassed": (t.base + "/exact",
                               {"HTTP_PROXY": f"http://{gw}:{dead.getsockname()[1]}",
                                "NO_PROXY": f"{gw}:{port}"}),
        }
        with ConnectProxy(gw, {f"{ACME_HOST}:80": (gw, port)}) as px:
            rows["proxy required"][1]["HTTP_PROXY"] = px.url
            got = {}
            for name, (url, env) in rows.items():
                dep = controller_deployment(node_ns, env)
                res, _ = run_probe("http01", Params(url=url, key=KEY, timeout=2), admin_api,
                                   node_ns, [Vantage.CERT_MANAGER], controller=dep,
                                   image=node.probe_image)
                cm = res.vantages["cert-manager"]
                got[name] = (cm.verdict, proxy_for(url, env) is not None,
                             [cm.summary, *cm.evidence])
            requests = list(px.requests)
    dead.close()
    # cert-manager's self-check (Go's client, Go's proxy rules): both rows pass
    assert {k: v[:2] for k, v in got.items()} == {
        "proxy required": (Verdict.PASS, True), "proxy bypassed": (Verdict.PASS, False)}, got
    assert requests == [f"GET http://{ACME_HOST}/exact"]
    assert "proxy decision (Go's rules): through $HTTP_PROXY (a literal value)" in \
        got["proxy required"][2]
    assert "proxy decision (Go's rules): direct" in got["proxy bypassed"][2]


# ------------------------------------------------------- account and no-proxy in real pods


@on_node
def test_account_from_every_vantage_against_an_acme_directory(admin_api: Any, node_ns: str,
                                                               node: Node) -> None:
    """A small ACME directory that only the controller's proxy reaches (its host resolves
    nowhere): the workstation compares the registration hosts, the plain debug pod cannot
    reach the directory, the "as cert-manager" pod reaches it through the proxy."""
    gw = node.gateway
    directory = json.dumps({"newNonce": "http://acme-dir.test/nonce",
                            "newAccount": "http://acme-dir.test/new-acct",
                            "newOrder": "http://acme-dir.test/new-order"})
    with HttpBackend(gw, {"/directory": (200, directory)}, "pebble") as acme, \
            ConnectProxy(gw, {"acme-dir.test:80": (acme.host, acme.port)}) as px:
        dep = controller_deployment(node_ns, {"HTTP_PROXY": px.url, "NO_PROXY": ".svc"})
        p = Params(server="http://acme-dir.test/directory",
                   account_uri="http://acme-dir.test/acct/1", http_proxy=px.url,
                   no_proxy=".svc", timeout=3)
        res, _ = run_probe("account", p, admin_api, node_ns,
                           [Vantage.LOCAL, Vantage.POD, Vantage.CERT_MANAGER], controller=dep,
                           image=node.probe_image)
        requests = list(px.requests)
    local, pod, cm = (res.vantages[v] for v in ("local", "pod", "cert-manager"))
    assert local.verdict is Verdict.PASS and "host matches" in local.summary
    assert pod.verdict is Verdict.FAIL and "does not answer from here" in pod.summary
    assert pod.data["confirms"] == ["ACME_SERVER_UNREACHABLE"]
    assert cm.verdict is Verdict.PASS, (cm.summary, cm.evidence)
    assert cm.data["new_account"] == "http://acme-dir.test/new-acct"
    assert requests == ["GET http://acme-dir.test/directory"]  # only the cert-manager pod
    assert probe_pods(admin_api, node_ns) == []


@on_node
def test_no_proxy_from_the_pod_resolves_references(admin_api: Any, node_ns: str,
                                                   node: Node) -> None:
    """NO_PROXY comes from a ConfigMap (valueFrom): the snapshot cannot see it, so the
    workstation evaluates an empty NO_PROXY and flags the in-cluster calls; the "as
    cert-manager" pod reads the value its process really has and applies Go's rules."""
    core: Any = CoreV1Api(admin_api)
    core.create_namespaced_config_map(node_ns, {"metadata": {"name": "proxy"},
                                                "data": {"no": ".svc,.cluster.local"}})
    dep = controller_deployment(node_ns, {"HTTPS_PROXY": "http://u:pw@proxy.corp:3128"})
    dep["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "NO_PROXY", "valueFrom": {"configMapKeyRef": {"name": "proxy", "key": "no"}}})
    p = Params(https_proxy="http://u:pw@proxy.corp:3128", no_proxy="",
               internal_targets=["https://kubernetes.default.svc:443"],
               targets=["https://acme-v02.api.letsencrypt.org/directory"])
    res, _ = run_probe("no-proxy", p, admin_api, node_ns,
                       [Vantage.LOCAL, Vantage.POD, Vantage.CERT_MANAGER], controller=dep,
                       image=node.probe_image)
    local, pod, cm = (res.vantages[v] for v in ("local", "pod", "cert-manager"))
    assert local.verdict is Verdict.FAIL and local.data["missing"] == [".svc"]
    assert pod.verdict is Verdict.PASS and "no HTTP_PROXY" in pod.summary
    assert cm.verdict is Verdict.PASS, (cm.summary, cm.evidence)
    assert cm.evidence[0] == ("in the pod: HTTP_PROXY=- HTTPS_PROXY=http://<redacted>@"
                              "proxy.corp:3128 NO_PROXY=.svc,.cluster.local")
    assert "pw" not in cm.raw  # credentials never reach the termination message
    routes = {t["url"]: t["proxy"] for t in cm.data["targets"]}
    assert routes["https://kubernetes.default.svc:443"] is None
    assert routes["https://acme-v02.api.letsencrypt.org/directory"]
    assert probe_pods(admin_api, node_ns) == []


# ------------------------------------ the most faithful vantage: an ephemeral container


@on_node
def test_ephemeral_container_in_a_stand_in_controller_pod(admin_api: Any, node_ns: str,
                                                          node: Node) -> None:
    """A stand-in controller pod runs on the node; the "as cert-manager" vantage, asked for
    as ephemeral, adds the probe to THAT pod through the pods/ephemeralcontainers
    subresource (the real kubelet starts it in the pod's network namespace) instead of a
    Job, and says the container stays in the pod's spec."""
    from kubernetes.client import AppsV1Api

    from kubectl_certdoctor.probes.podrunner import EPHEMERAL_NOTE

    core: Any = CoreV1Api(admin_api)
    dep = controller_deployment(node_ns, {"NO_PROXY": ".svc"})
    apps: Any = AppsV1Api(admin_api)
    apps.create_namespaced_deployment(node_ns, dep)
    stand_in = {
        "metadata": {"name": "cert-manager-7d9f-x1", "labels": {"app": "cm"}},
        "spec": {"terminationGracePeriodSeconds": 0, "automountServiceAccountToken": False,
                 "securityContext": {"runAsNonRoot": True, "runAsUser": 65534,
                                     "seccompProfile": {"type": "RuntimeDefault"}},
                 "containers": [{
                     "name": "cert-manager-controller", "image": node.probe_image,
                     "command": ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"],
                     "securityContext": {"allowPrivilegeEscalation": False,
                                         "capabilities": {"drop": ["ALL"]}}}]}}
    core.create_namespaced_pod(node_ns, stand_in)
    try:
        t0 = time.monotonic()
        while json.loads(core.read_namespaced_pod(
                "cert-manager-7d9f-x1", node_ns, _preload_content=False).data)[
                    "status"].get("phase") != "Running":
            assert time.monotonic() - t0 < 20, "the stand-in controller never ran"
            time.sleep(0.2)
        with HttpBackend(node.gateway, {PATH: (200, KEY)}, "nginx") as good:
            url = f"http://{node.gateway}:{good.port}{PATH}"
            res, events = run_probe("http01", Params(url=url, key=KEY, timeout=3), admin_api,
                                    node_ns, [Vantage.CERT_MANAGER], controller=dep,
                                    ephemeral=True, image=node.probe_image)
        cm = res.vantages["cert-manager"]
        assert cm.verdict is Verdict.PASS, (cm.summary, cm.evidence)
        assert any(EPHEMERAL_NOTE in e for e in cm.evidence)
        assert any(m.message.startswith("added ephemeral container certdoctor-http01-")
                   for m in events)
        pod = json.loads(core.read_namespaced_pod("cert-manager-7d9f-x1", node_ns,
                                                  _preload_content=False).data)
        (eph,) = pod["spec"]["ephemeralContainers"]
        assert eph["name"].startswith("certdoctor-http01-") and eph["image"] == node.probe_image
        assert eph["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert {"name": "NO_PROXY", "value": ".svc"} in eph["env"]
        (st,) = pod["status"]["ephemeralContainerStatuses"]
        assert st["state"]["terminated"]["exitCode"] == 0
        assert probe_jobs(admin_api, node_ns) == []  # no Job, no second pod
    finally:
        core.delete_namespaced_pod("cert-manager-7d9f-x1", node_ns, grace_period_seconds=0)


def test_ephemeral_needs_confirmation(capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from kubectl_certdoctor.commands.probe import confirm_ephemeral

    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # not a terminal
    assert confirm_ephemeral("cert-manager/cm-1", False, Options()) is False
    assert confirm_ephemeral("cert-manager/cm-1", True, Options(context="prod")) is True
    err = capsys.readouterr().err
    assert "pod cert-manager/cm-1 (context prod)" in err
    assert "stays in the pod's spec" in err and "use --yes" in err
