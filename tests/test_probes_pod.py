"""The debug-pod vantage points against the real test API server.

A test-side kubelet (tests/support/kubelet.py) binds the probe pod, runs its
command on this machine with the pod's env, and writes the termination
message through the status subresource; the probe code only talks to the
API server. The namespace enforces Pod Security "restricted", so the API
server itself rejects a non-compliant debug pod.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes.client import CoreV1Api

from kubectl_certdoctor.options import Options
from kubectl_certdoctor.probes.base import Params, ProbeResult, Progress, Vantage, Verdict
from kubectl_certdoctor.probes.plan import plan_vantages
from kubectl_certdoctor.probes.podrunner import (
    DEADLINE_ANNOTATION,
    PodPlacement,
    pod_manifest,
    sweep_leftovers,
)
from kubectl_certdoctor.probes.registry import PROBES
from kubectl_certdoctor.probes.runner import run_to_result
from tests.support.kubelet import FakeKubelet, controller_deployment
from tests.support.netservers import ConnectProxy, DnsServer, HttpBackend, RoundRobinProxy

pytestmark = pytest.mark.integration

TOKEN = "tok-pod-1"
KEY = "tok-pod-1.thumb"
PATH = f"/.well-known/acme-challenge/{TOKEN}"
SELECTOR = "app.kubernetes.io/managed-by=kubectl-certdoctor"


@pytest.fixture
def restricted_ns(admin_api: Any, namespace: str) -> str:
    """The test namespace with Pod Security Admission enforcing 'restricted'."""
    CoreV1Api(admin_api).patch_namespace(namespace, {"metadata": {"labels": {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest"}}})
    return namespace


@pytest.fixture
def kubelet(admin_api: Any) -> Iterator[FakeKubelet]:
    with FakeKubelet(admin_api) as k:
        yield k


def probe_pods(api: Any, ns: str) -> list[str]:
    core: Any = CoreV1Api(api)
    pods = json.loads(core.list_namespaced_pod(
        ns, label_selector=SELECTOR, _preload_content=False).data)["items"]
    return [p["metadata"]["name"] for p in pods]


def run_probe(probe: str, params: Params, api: Any, ns: str, want: list[Vantage],
              controller: dict[str, Any] | None = None, opts: Options | None = None,
              **kw: Any) -> tuple[ProbeResult, list[Progress]]:
    plan, placements = plan_vantages(PROBES[probe], want, opts=opts or Options(),
                                     api_client=api, pod_namespace=ns, controller=controller)
    events: list[Progress] = []
    res = run_to_result(PROBES[probe], params, on_progress=events.append, vantages=plan,
                        api_client=api, placements=placements, timeout=kw.pop("timeout", 60),
                        **kw)
    return res, events


def test_http01_from_a_pod_is_psa_restricted_and_cleaned_up(
        admin_api: Any, restricted_ns: str, kubelet: FakeKubelet) -> None:
    with HttpBackend("127.0.0.2", {PATH: (200, KEY)}, "nginx") as good:
        url = f"http://127.0.0.2:{good.port}{PATH}"
        res, events = run_probe("http01", Params(url=url, key=KEY), admin_api, restricted_ns,
                                [Vantage.LOCAL, Vantage.POD])
    assert res.verdict is Verdict.PASS, res.summary
    pod = res.vantages["pod"]
    assert pod.verdict is Verdict.PASS and pod.data["fetch"]["status"] == 200
    assert json.loads(pod.raw)["fetch"]["body"] == KEY
    msgs = [e.message for e in events if e.vantage == "pod"]
    assert any(m.startswith("created pod") for m in msgs)
    assert any(m.startswith("deleted pod") for m in msgs)
    # what the API server accepted (under PSA "restricted") is what the kubelet saw
    (seen,) = kubelet.pods
    spec = seen["spec"]
    ctr = spec["containers"][0]
    assert spec["automountServiceAccountToken"] is False
    assert spec["restartPolicy"] == "Never" and spec["activeDeadlineSeconds"] > 0
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert ctr["securityContext"]["allowPrivilegeEscalation"] is False
    assert ctr["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert ctr["image"] == "nicolaka/netshoot:v0.13"
    assert seen["metadata"]["labels"]["certdoctor.io/probe"] == "http01"
    assert DEADLINE_ANNOTATION in seen["metadata"]["annotations"]
    # the URL reached the pod as an env var, not inside the script
    assert url not in ctr["command"][2]
    assert {"name": "URL", "value": url} in ctr["env"]
    assert probe_pods(admin_api, restricted_ns) == []


def test_non_restricted_pod_would_be_rejected(admin_api: Any, restricted_ns: str) -> None:
    """Control for the test above: the namespace really enforces PSA."""
    from kubernetes.client.exceptions import ApiException

    bad = pod_manifest("http01", "pod", PodPlacement(restricted_ns), "busybox", "true", {}, 30)
    del bad["spec"]["containers"][0]["securityContext"]["capabilities"]
    with pytest.raises(ApiException) as e:
        core: Any = CoreV1Api(admin_api)
        core.create_namespaced_pod(restricted_ns, bad)
    assert e.value.status == 403 and "restricted" in str(e.value.body)


def test_backends_split_seen_from_a_pod(admin_api: Any, namespace: str,
                                        kubelet: FakeKubelet) -> None:
    with HttpBackend("127.0.0.2", {PATH: (200, KEY)}, "nginx") as good, \
            HttpBackend("127.0.0.3", {}, "envoy") as bad, \
            RoundRobinProxy("127.0.0.4", [(good.host, good.port), (bad.host, bad.port)]) as lb:
        p = Params(url=f"http://127.0.0.4:{lb.port}{PATH}", key=KEY,
                   candidates=[good.addr, bad.addr], samples=6, timeout=3)
        res, _ = run_probe("http01-backends", p, admin_api, namespace, [Vantage.POD])
    pod = res.vantages["pod"]
    assert res.verdict is Verdict.FAIL, res.summary
    assert res.confirms == ["HTTP01_MULTIPLE_INGRESS_BACKENDS"]
    assert pod.data["histogram"] == {"200": 3, "404": 3}
    outcomes = {c["address"]: c["outcome"] for c in pod.data["candidates"]}
    assert outcomes[good.addr] == "200" and outcomes[bad.addr] == "404"
    assert probe_pods(admin_api, namespace) == []


@pytest.mark.skipif(shutil.which("dig") is None, reason="dig (bind9-dnsutils) not installed")
def test_dns_search_trap_seen_from_a_pod(admin_api: Any, namespace: str,
                                         kubelet: FakeKubelet) -> None:
    zone = {"acme.example.test.": {"A": ["127.0.0.10"]}, "*.corp.test.": {"A": ["127.0.0.66"]}}
    with DnsServer("127.0.0.1", zone) as dns:
        p = Params(domain="acme.example.test", pod_nameserver=dns.addr,
                   pod_search=["svc.cluster.local", "corp.test"], pod_ndots=5,
                   nameservers=[dns.addr])
        res, _ = run_probe("dns", p, admin_api, namespace, [Vantage.POD])
    pod = res.vantages["pod"]
    assert pod.verdict is Verdict.FAIL, pod.summary
    assert pod.data["answered"] == "acme.example.test.corp.test."
    assert "127.0.0.66" in pod.summary and "127.0.0.10" in pod.summary
    assert [t["query"] for t in pod.data["tries"] if t["type"] == "A"] == [
        "acme.example.test.svc.cluster.local.", "acme.example.test.corp.test."]


def test_egress_as_cert_manager(admin_api: Any, namespace: str, kubelet: FakeKubelet) -> None:
    """Direct is blocked, the proxy gets through. Go never proxies a loopback address,
    so the controller itself would go direct: the probe reports "proxy required" and the
    NO_PROXY gap — the same verdict as a real host listed in NO_PROXY by mistake."""
    with HttpBackend("127.0.0.5", {"/directory": (200, "{}")}, "pebble") as acme, \
            ConnectProxy("127.0.0.6", {f"127.0.0.7:{acme.port}": (acme.host, acme.port)}) as px:
        proxy = px.url
        dep = controller_deployment(namespace, {"HTTP_PROXY": proxy, "http_proxy": proxy,
                                                "NO_PROXY": ".svc"})
        # nothing listens on 127.0.0.7: only the proxy "reaches the outside"
        url = f"http://127.0.0.7:{acme.port}/directory"
        p = Params(targets=[url], http_proxy=proxy, no_proxy=".svc", timeout=3)
        res, _ = run_probe("egress", p, admin_api, namespace,
                           [Vantage.LOCAL, Vantage.CERT_MANAGER], controller=dep)
    cm = res.vantages["cert-manager"]
    row = cm.data["targets"][0]
    assert row["direct"]["stage"] == "connect"
    assert row["proxy"]["status"] == 200
    assert "proxy required" in row["diagnosis"] and "goes direct" in row["diagnosis"]
    assert cm.verdict is Verdict.FAIL and "PROXY_NO_PROXY_GAP" in res.confirms
    # the pod's own env (the controller's HTTP_PROXY) took the proxy: curl's rules differ
    assert any("with the pod's own proxy env" in e and "HTTP 200" in e for e in cm.evidence)
    assert f"GET http://127.0.0.7:{acme.port}/directory" in px.requests
    assert res.vantages["local"].data["targets"][0]["proxy"]["status"] == 200
    assert any("pod placed like Deployment" in e for e in cm.evidence)
    (seen,) = kubelet.pods
    spec = seen["spec"]
    assert seen["metadata"]["namespace"] == namespace
    assert spec["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert spec["tolerations"][0]["key"] == "infra"
    env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
    assert env["HTTP_PROXY"] == proxy and env["NO_PROXY"] == ".svc"
    assert probe_pods(admin_api, namespace) == []


def test_hairpin_outside_ok_inside_unreachable(admin_api: Any, namespace: str) -> None:
    """The pod runs in its own network namespace: the 'public' address is not reachable."""
    with FakeKubelet(admin_api, netns=True), \
            HttpBackend("127.0.0.2", {PATH: (200, KEY)}, "nginx") as good:
        p = Params(url=f"http://127.0.0.2:{good.port}{PATH}", key=KEY, timeout=3)
        res, _ = run_probe("hairpin", p, admin_api, namespace, [Vantage.LOCAL, Vantage.POD])
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


def test_cancelled_probe_leaves_no_pod(admin_api: Any, namespace: str,
                                       kubelet: FakeKubelet) -> None:
    import socket

    # a backend that accepts and never answers: the pod's curl hangs
    hang = socket.socket()
    hang.bind(("127.0.0.8", 0))
    hang.listen(16)
    cancel = threading.Event()

    def cancel_when_running() -> None:
        kubelet.pod_started.wait(30)
        cancel.set()

    threading.Thread(target=cancel_when_running, daemon=True).start()
    try:
        p = Params(url=f"http://127.0.0.8:{hang.getsockname()[1]}{PATH}", key=KEY, timeout=60)
        res, events = run_probe("http01", p, admin_api, namespace, [Vantage.POD],
                                cancel=cancel)
    finally:
        hang.close()
    assert res.verdict is Verdict.INCONCLUSIVE and "cancelled" in res.summary
    assert kubelet.started and probe_pods(admin_api, namespace) == []
    assert any(e.message.startswith("deleted pod") for e in events)
    assert kubelet.killed == kubelet.started  # the running command was stopped with the pod


def test_failed_pod_is_deleted_and_explained(admin_api: Any, namespace: str) -> None:
    with FakeKubelet(admin_api, image_error=True):
        res, _ = run_probe("http01", Params(url="http://127.0.0.2:1/x", key=KEY), admin_api,
                           namespace, [Vantage.POD], image="registry.invalid/netshoot:v0")
    pod = res.vantages["pod"]
    assert pod.verdict is Verdict.INCONCLUSIVE
    assert "ErrImagePull" in pod.summary
    assert probe_pods(admin_api, namespace) == []


def test_sweep_deletes_only_expired_pods(admin_api: Any, namespace: str) -> None:
    core: Any = CoreV1Api(admin_api)
    old = pod_manifest("dns", "pod", PodPlacement(namespace), "busybox", "true", {}, 30)
    old["metadata"]["annotations"][DEADLINE_ANNOTATION] = "2020-01-01T00:00:00Z"
    new = pod_manifest("dns", "pod", PodPlacement(namespace), "busybox", "true", {}, 30)
    o = core.create_namespaced_pod(namespace, old).metadata.name
    n = core.create_namespaced_pod(namespace, new).metadata.name
    deleted = sweep_leftovers(admin_api, namespace)
    assert deleted == [f"{namespace}/{o}"]
    assert probe_pods(admin_api, namespace) == [n]
    core.delete_namespaced_pod(n, namespace, grace_period_seconds=0)


def test_pod_that_never_runs_times_out_and_is_deleted(admin_api: Any, namespace: str) -> None:
    """No kubelet at all: the probe gives up at its timeout and still removes the pod."""
    res, events = run_probe("http01", Params(url="http://127.0.0.2:1/x", key=KEY), admin_api,
                            namespace, [Vantage.LOCAL, Vantage.POD], timeout=3)
    assert res.verdict is Verdict.INCONCLUSIVE
    assert "timed out" in res.summary or "did not finish" in res.vantages["pod"].summary
    assert any(e.message.startswith("created pod") for e in events)
    assert probe_pods(admin_api, namespace) == []
    # what the workstation saw before the timeout is kept
    assert res.vantages["local"].data["fetch"]["error_kind"] == "refused"
