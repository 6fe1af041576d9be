"""The test control plane itself: real versions, real RBAC, real controllers, and the
scenario applier (status through the status subresource, owner uids rewritten)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import (
    CoreV1Api,
    CustomObjectsApi,
    RbacAuthorizationV1Api,
    VersionApi,
)
from kubernetes.client.exceptions import ApiException

from tests.support.apply import SCENARIO_LABEL, ApplyError, apply_objects, cleanup_cluster_scoped
from tests.support.controlplane import ControlPlane, ControlPlaneError

pytestmark = pytest.mark.integration

CM, ACME = "cert-manager.io", "acme.cert-manager.io"
T0 = "2026-11-20T10:00:00Z"


def cond(type_: str, status: str, reason: str, message: str) -> dict[str, Any]:
    return {"type": type_, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": T0, "observedGeneration": 1}


def owner(api_version: str, kind: str, name: str, uid: str) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": uid,
            "controller": True, "blockOwnerDeletion": True}


def chain(ns: str = "shop") -> list[dict[str, Any]]:
    """Issuer → Certificate → CertificateRequest → Order → Challenge, as captured (given out
    of order on purpose: the applier must create owners first)."""
    return [
        {"apiVersion": f"{ACME}/v1", "kind": "Challenge",
         "metadata": {"name": "web-1-123-0", "namespace": ns, "uid": "u-ch",
                      "finalizers": ["finalizer.acme.cert-manager.io"],
                      "ownerReferences": [owner(f"{ACME}/v1", "Order", "web-1-123", "u-order")]},
         "spec": {"url": "https://acme.test/chall/1", "authorizationURL": "https://acme.test/a/1",
                  "dnsName": "web.shop.test", "type": "HTTP-01", "token": "tok",
                  "key": "tok.thumb",
                  "solver": {"http01": {"ingress": {"ingressClassName": "nginx"}}},
                  "issuerRef": {"name": "le", "kind": "Issuer", "group": CM}},
         "status": {"processing": True, "presented": True, "state": "pending",
                    "reason": "Waiting for HTTP-01 challenge propagation: wrong status code "
                              "'404', expected '200'"}},
        {"apiVersion": f"{CM}/v1", "kind": "Certificate",
         "metadata": {"name": "web", "namespace": ns, "uid": "u-cert", "generation": 3},
         "spec": {"secretName": "web-tls", "dnsNames": ["web.shop.test"],
                  "issuerRef": {"name": "le", "kind": "Issuer"}},
         "status": {"conditions": [cond("Ready", "False", "DoesNotExist",
                                        "Issuing certificate as Secret does not exist"),
                                   cond("Issuing", "True", "DoesNotExist",
                                        "Issuing certificate as Secret does not exist")],
                    "nextPrivateKeySecretName": "web-abcde"}},
        {"apiVersion": f"{ACME}/v1", "kind": "Order",
         "metadata": {"name": "web-1-123", "namespace": ns, "uid": "u-order",
                      "ownerReferences": [owner(f"{CM}/v1", "CertificateRequest", "web-1",
                                                "u-cr")]},
         "spec": {"request": "LS0tLS1CRUdJTg==", "issuerRef": {"name": "le", "kind": "Issuer"},
                  "dnsNames": ["web.shop.test"]},
         "status": {"state": "pending", "url": "https://acme.test/order/1",
                    "finalizeURL": "https://acme.test/order/1/finalize",
                    "authorizations": [{"url": "https://acme.test/a/1",
                                        "identifier": "web.shop.test",
                                        "initialState": "pending", "wildcard": False}]}},
        {"apiVersion": f"{CM}/v1", "kind": "CertificateRequest",
         "metadata": {"name": "web-1", "namespace": ns, "uid": "u-cr",
                      "annotations": {"cert-manager.io/certificate-name": "web",
                                      "cert-manager.io/certificate-revision": "1"},
                      "ownerReferences": [owner(f"{CM}/v1", "Certificate", "web", "u-cert")]},
         "spec": {"request": "LS0tLS1CRUdJTg==", "issuerRef": {"name": "le", "kind": "Issuer"},
                  "usages": ["digital signature", "key encipherment"]},
         "status": {"conditions": [cond("Approved", "True", "cert-manager.io",
                                        "Certificate request has been approved"),
                                   cond("Ready", "False", "Pending",
                                        "Waiting on certificate issuance from order")]}},
        {"apiVersion": f"{CM}/v1", "kind": "Issuer",
         "metadata": {"name": "le", "namespace": ns, "uid": "u-iss"},
         "spec": {"acme": {"server": "https://acme.test/dir", "email": "ops@shop.test",
                           "privateKeySecretRef": {"name": "le-account"},
                           "solvers": [{"http01": {"ingress": {"ingressClassName": "nginx"}}}]}},
         "status": {"conditions": [cond("Ready", "True", "ACMEAccountRegistered",
                                        "The ACME account was registered with the ACME server")],
                    "acme": {"uri": "https://acme.test/acct/1"}}},
        {"apiVersion": "v1", "kind": "Event",
         "metadata": {"name": "web-1-123-0.187a", "namespace": ns},
         "involvedObject": {"apiVersion": f"{ACME}/v1", "kind": "Challenge", "name": "web-1-123-0",
                            "namespace": ns, "uid": "u-ch"},
         "reason": "Presented", "type": "Normal", "count": 1,
         "message": "Presented challenge using HTTP-01 challenge mechanism",
         "firstTimestamp": T0, "lastTimestamp": T0,
         "source": {"component": "cert-manager-challenges"}},
    ]


# ------------------------------------------------------------------ the control plane


def test_version_is_the_pinned_release(admin_api: Any) -> None:
    info = VersionApi(admin_api).get_code()
    assert info.git_version == "v1.36.2"
    assert (info.major, info.minor) == ("1", "36")


def test_kubectl_talks_to_it(control_plane: Any) -> None:
    assert "certificates" in control_plane.kubectl("api-resources", "--api-group=cert-manager.io",
                                                   "-o", "name")
    who = control_plane.kubectl("auth", "whoami", "-o", "jsonpath={.status.userInfo}",
                                restricted=True)
    assert "certdoctor-viewer" in who and "system:masters" not in who
    assert "system:masters" in control_plane.kubectl("auth", "whoami", "-o",
                                                     "jsonpath={.status.userInfo}")


def test_crds_are_served(admin_api: Any) -> None:
    from kubernetes.client import ApiextensionsV1Api

    crds: Any = ApiextensionsV1Api(admin_api).list_custom_resource_definition()
    names = {c.metadata.name for c in crds.items}
    assert {"certificates.cert-manager.io", "certificaterequests.cert-manager.io",
            "issuers.cert-manager.io", "clusterissuers.cert-manager.io",
            "orders.acme.cert-manager.io", "challenges.acme.cert-manager.io"} <= names


def test_chain_round_trips_with_status(admin_api: Any, namespace: str) -> None:
    stored = apply_objects(admin_api, chain(), namespace)
    assert [o["kind"] for o in stored] == ["Issuer", "Certificate", "CertificateRequest",
                                           "Order", "Challenge", "Event"]
    co: Any = CustomObjectsApi(admin_api)
    certs = co.list_namespaced_custom_object(CM, "v1", namespace, "certificates")["items"]
    reqs = co.list_namespaced_custom_object(CM, "v1", namespace, "certificaterequests")["items"]
    orders = co.list_namespaced_custom_object(ACME, "v1", namespace, "orders")["items"]
    chals = co.list_namespaced_custom_object(ACME, "v1", namespace, "challenges")["items"]
    assert [len(x) for x in (certs, reqs, orders, chals)] == [1, 1, 1, 1]
    cert, req, order, chal = certs[0], reqs[0], orders[0], chals[0]
    # status went through the status subresource and survived schema pruning
    assert cert["status"]["conditions"][0]["reason"] == "DoesNotExist"
    assert cert["status"]["nextPrivateKeySecretName"] == "web-abcde"
    assert [c["type"] for c in req["status"]["conditions"]] == ["Approved", "Ready"]
    assert order["status"]["authorizations"][0]["identifier"] == "web.shop.test"
    assert "404" in chal["status"]["reason"] and chal["status"]["presented"] is True
    # owner uids rewritten to the new owners; the annotations that link them kept
    assert req["metadata"]["ownerReferences"][0]["uid"] == cert["metadata"]["uid"]
    assert order["metadata"]["ownerReferences"][0]["uid"] == req["metadata"]["uid"]
    assert chal["metadata"]["ownerReferences"][0]["uid"] == order["metadata"]["uid"]
    assert req["metadata"]["annotations"]["cert-manager.io/certificate-name"] == "web"
    assert chal["metadata"]["finalizers"] == ["finalizer.acme.cert-manager.io"]
    assert all(o["metadata"]["namespace"] == namespace for o in (cert, req, order, chal))
    ev = CoreV1Api(admin_api).list_namespaced_event(namespace).items
    ours = [e for e in ev if e.reason == "Presented"]
    assert len(ours) == 1
    assert ours[0].involved_object.namespace == namespace
    assert ours[0].involved_object.uid == chal["metadata"]["uid"]


def test_garbage_collector_follows_rewritten_owners(admin_api: Any, namespace: str) -> None:
    apply_objects(admin_api, chain(), namespace)
    co: Any = CustomObjectsApi(admin_api)
    co.delete_namespaced_custom_object(CM, "v1", namespace, "certificaterequests", "web-1")
    deadline = time.monotonic() + 30
    while co.list_namespaced_custom_object(ACME, "v1", namespace, "orders")["items"]:
        assert time.monotonic() < deadline, "the garbage collector did not delete the Order"
        time.sleep(0.2)
    # the Certificate (owner, not dependent) stays
    assert co.get_namespaced_custom_object(CM, "v1", namespace, "certificates", "web")


def test_restricted_user_is_forbidden_to_write_and_to_read_challenges(
        admin_api: Any, restricted_api: Any, namespace: str) -> None:
    apply_objects(admin_api, chain(), namespace)
    co: Any = CustomObjectsApi(restricted_api)
    # reading what the role allows works
    assert len(co.list_namespaced_custom_object(CM, "v1", namespace, "certificates")["items"]) == 1
    with pytest.raises(ApiException) as write:
        co.create_namespaced_custom_object(CM, "v1", namespace, "certificates", {
            "apiVersion": f"{CM}/v1", "kind": "Certificate", "metadata": {"name": "x"},
            "spec": {"secretName": "x", "dnsNames": ["x.test"], "issuerRef": {"name": "le"}}})
    assert write.value.status == 403
    for group, plural in ((ACME, "challenges"), (ACME, "orders")):
        with pytest.raises(ApiException) as read:
            co.list_namespaced_custom_object(group, "v1", namespace, plural)
        assert read.value.status == 403, plural
    with pytest.raises(ApiException) as secrets:
        CoreV1Api(restricted_api).list_namespaced_secret(namespace)
    assert secrets.value.status == 403


def test_clusterrole_aggregation_runs(admin_api: Any) -> None:
    rbac: Any = RbacAuthorizationV1Api(admin_api)
    label = {"certdoctor.test/aggregate-to-probe": "true"}
    agg = "certdoctor-test-aggregate"
    part = "certdoctor-test-aggregate-part"
    rbac.create_cluster_role({"metadata": {"name": agg}, "aggregationRule": {
        "clusterRoleSelectors": [{"matchLabels": label}]}})
    rbac.create_cluster_role({"metadata": {"name": part, "labels": label}, "rules": [
        {"apiGroups": [CM], "resources": ["certificates"], "verbs": ["get"]}]})
    try:
        deadline = time.monotonic() + 30
        while not rbac.read_cluster_role(agg).rules:
            assert time.monotonic() < deadline, "ClusterRole aggregation did not happen"
            time.sleep(0.2)
        assert rbac.read_cluster_role(agg).rules[0].resources == ["certificates"]
    finally:
        rbac.delete_cluster_role(agg)
        rbac.delete_cluster_role(part)


def test_namespace_deletion_completes(admin_api: Any) -> None:
    """The namespace controller empties and finalizes a namespace (no help from the fixture)."""
    core: Any = CoreV1Api(admin_api)
    name = f"t-nsdel-{int(time.time() * 1000) % 100000}"
    core.create_namespace({"metadata": {"name": name}})
    objs = [o for o in chain() if not o["metadata"].get("finalizers")]
    apply_objects(admin_api, objs, name)
    core.create_namespaced_config_map(name, {"metadata": {"name": "cm"}, "data": {"a": "b"}})
    core.delete_namespace(name)
    deadline = time.monotonic() + 45
    while True:
        try:
            core.read_namespace(name)
        except ApiException as e:
            assert e.status == 404
            break
        assert time.monotonic() < deadline, "namespace deletion did not complete"
        time.sleep(0.2)


# ------------------------------------------------------------------ the applier


def test_cluster_scoped_objects_last_writer_wins_and_cleanup(admin_api: Any,
                                                             namespace: str) -> None:
    def cluster_issuer(ready: str) -> dict[str, Any]:
        return {"apiVersion": f"{CM}/v1", "kind": "ClusterIssuer",
                "metadata": {"name": "certdoctor-test-ci", "uid": "old"},
                "spec": {"selfSigned": {}},
                "status": {"conditions": [cond("Ready", ready, "Test", f"ready={ready}")]}}

    ic = {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
          "metadata": {"name": "certdoctor-test-class"},
          "spec": {"controller": "k8s.io/ingress-nginx"}}
    ev = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "ci.1"},
          "involvedObject": {"apiVersion": f"{CM}/v1", "kind": "ClusterIssuer",
                             "name": "certdoctor-test-ci", "uid": "old"},
          "reason": "ErrVerifyACMEAccount", "type": "Warning", "count": 3,
          "message": "Failed to verify ACME account: context deadline exceeded",
          "firstTimestamp": T0, "lastTimestamp": T0}
    apply_objects(admin_api, [cluster_issuer("False"), ic, ev], namespace)
    stored = apply_objects(admin_api, [cluster_issuer("True")], namespace)
    co: Any = CustomObjectsApi(admin_api)
    ci = co.get_cluster_custom_object(CM, "v1", "clusterissuers", "certdoctor-test-ci")
    assert ci["status"]["conditions"][0]["status"] == "True"
    assert ci["metadata"]["labels"][SCENARIO_LABEL] == namespace
    assert stored[0]["metadata"]["uid"] == ci["metadata"]["uid"]
    core: Any = CoreV1Api(admin_api)
    events = core.list_namespaced_event("default",
                                        label_selector=f"{SCENARIO_LABEL}={namespace}").items
    assert [e.involved_object.uid for e in events] == [ci["metadata"]["uid"]]
    cleanup_cluster_scoped(admin_api, namespace)
    with pytest.raises(ApiException) as gone:
        co.get_cluster_custom_object(CM, "v1", "clusterissuers", "certdoctor-test-ci")
    assert gone.value.status == 404
    assert not core.list_namespaced_event(
        "default", label_selector=f"{SCENARIO_LABEL}={namespace}").items


def test_services_pods_and_deployments(admin_api: Any, namespace: str) -> None:
    objs = [
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "ingress-nginx", "namespace": "ingress"},
         "spec": {"type": "LoadBalancer", "clusterIP": "10.43.7.7", "clusterIPs": ["10.43.7.7"],
                  "selector": {"app": "nginx"},
                  "ports": [{"name": "http", "port": 80, "nodePort": 31080}]},
         "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "cert-manager", "namespace": "cert-manager", "generation": 4},
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "cert-manager"}},
                  "template": {"metadata": {"labels": {"app": "cert-manager"}},
                               "spec": {"containers": [{
                                   "name": "cert-manager-controller",
                                   "image": "quay.io/jetstack/cert-manager-controller:v1.15.0",
                                   "env": [{"name": "HTTPS_PROXY",
                                            "value": "http://proxy.corp.test:3128"}]}]}}},
         "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1,
                    "observedGeneration": 1}},
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "cert-manager-5d-abc", "namespace": "cert-manager"},
         "spec": {"serviceAccountName": "cert-manager", "nodeName": "node-1",
                  "containers": [{"name": "c", "image": "quay.io/jetstack/x:v1"}]},
         "status": {"phase": "Running", "podIP": "10.244.1.5"}},
    ]
    stored = apply_objects(admin_api, objs, namespace)
    svc, dep, pod = stored
    assert svc["spec"]["clusterIP"].startswith("10.96.")
    assert svc["status"]["loadBalancer"]["ingress"][0]["ip"] == "203.0.113.10"
    assert dep["metadata"]["namespace"] == namespace
    assert dep["status"]["availableReplicas"] == 1
    assert pod["status"]["phase"] == "Running" and pod["spec"]["nodeName"] == "node-1"
    # the status stays: no workload controller overwrites it
    time.sleep(1)
    from kubernetes.client import AppsV1Api

    again: Any = AppsV1Api(admin_api).read_namespaced_deployment("cert-manager", namespace)
    assert again.status.available_replicas == 1


def test_refused_object_names_itself(admin_api: Any, namespace: str) -> None:
    bad = {"apiVersion": f"{CM}/v1", "kind": "Certificate", "metadata": {"name": "Bad_Name"},
           "spec": {"secretName": "x", "issuerRef": {"name": "le"}}}
    with pytest.raises(ApplyError, match=r"Certificate .*Bad_Name"):
        apply_objects(admin_api, [bad], namespace)
    with pytest.raises(ApplyError, match="no kind Gizmo"):
        apply_objects(admin_api, [{"apiVersion": "v1", "kind": "Gizmo",
                                   "metadata": {"name": "g"}}], namespace)


def _scenario_names() -> list[str]:
    try:
        from kubectl_certdoctor import scenarios
    except ImportError:
        return []
    names = getattr(scenarios, "names", None)
    # the test API server serves no Gateway API: scenarios with a Gateway cannot be applied
    return [n for n in names() if not scenarios.load(n).of_kind("Gateway")] \
        if callable(names) else []


@pytest.mark.parametrize("name", _scenario_names() or ["<no scenario library>"])
def test_apply_scenario_lists_back(name: str, admin_api: Any, namespace: str) -> None:
    import importlib

    scenarios: Any = importlib.import_module("kubectl_certdoctor.scenarios")
    assert name in _scenario_names(), "kubectl_certdoctor.scenarios has no scenarios"
    from tests.support.apply import apply_scenario

    want = list(scenarios.load(name))
    apply_scenario(admin_api, name, namespace)
    co: Any = CustomObjectsApi(admin_api)
    for group, kind, plural in ((CM, "Certificate", "certificates"),
                                (ACME, "Order", "orders"), (ACME, "Challenge", "challenges")):
        expected = sorted(o["metadata"]["name"] for o in want if o.get("kind") == kind)
        got = co.list_namespaced_custom_object(group, "v1", namespace, plural)["items"]
        assert sorted(o["metadata"]["name"] for o in got) == expected, kind
        for o in got:
            src = next(w for w in want if w.get("kind") == kind
                       and w["metadata"]["name"] == o["metadata"]["name"])
            assert o.get("status", {}) == src.get("status", {}), (kind, o["metadata"]["name"])


CAPTURED = sorted((Path(__file__).resolve().parents[1] / "kubectl_certdoctor" / "scenarios"
                   / "captured").glob("*.yaml"))


# the captured bundles are optional inputs (scripts/lab capture writes them): with none,
# no test is generated rather than a skipped one
@pytest.mark.parametrize("path", CAPTURED, ids=lambda p: p.stem)
def test_captured_bundle_round_trips(path: Path, admin_api: Any, namespace: str) -> None:
    """Bundles captured from the real cert-manager (scripts/lab capture) apply as they are
    and read back through the official client with every status intact."""
    import yaml

    doc = yaml.safe_load(path.read_text())
    items = doc["items"] if doc.get("kind") == "List" else [doc]
    apply_objects(admin_api, items, namespace)
    co: Any = CustomObjectsApi(admin_api)
    kinds = ((CM, "Issuer", "issuers"), (CM, "Certificate", "certificates"),
             (CM, "CertificateRequest", "certificaterequests"), (ACME, "Order", "orders"),
             (ACME, "Challenge", "challenges"))
    for group, kind, plural in kinds:
        want = {o["metadata"]["name"]: o for o in items if o.get("kind") == kind}
        got = {o["metadata"]["name"]: o for o in
               co.list_namespaced_custom_object(group, "v1", namespace, plural)["items"]}
        assert sorted(got) == sorted(want), kind
        for name, o in got.items():
            assert o.get("status") == want[name].get("status"), (kind, name)
            assert o["spec"] == want[name]["spec"], (kind, name)


if not CAPTURED:
    del test_captured_bundle_round_trips


# ------------------------------------------------------------------ lifecycle


def test_restart_keeps_data_and_stop_leaves_no_process() -> None:
    """A private control plane: restart the API server on the same port, then stop all."""
    cp = ControlPlane(crds=False, controller_manager=False)
    try:
        cp.start()
        status, _ = cp.request("POST", "/api/v1/namespaces/default/configmaps",
                               {"metadata": {"name": "kept"}, "data": {"k": "v"}})
        assert status == 201
        pid = cp.processes()["kube-apiserver"].pid
        cp.stop_apiserver(kill=True)
        assert cp.request("GET", "/readyz")[0] != 200 if _port_open(cp.port) else True
        cp.start_apiserver()
        assert cp.processes()["kube-apiserver"].pid != pid
        status, cm = cp.request("GET", "/api/v1/namespaces/default/configmaps/kept")
        assert status == 200 and cm["data"] == {"k": "v"}
    finally:
        pids = cp.pids
        workdir = cp.dir
        cp.stop()
    assert len(pids) == 3
    assert not [p for p in pids if _alive(p)]
    assert not workdir.exists()


def test_startup_failure_reports_the_log_and_cleans_up(tmp_path: Path) -> None:
    cp = ControlPlane(tmp_path / "cp", crds=False, controller_manager=False,
                      apiserver_args=["--no-such-flag=1"])
    with pytest.raises(ControlPlaneError, match="no-such-flag") as err:
        cp.start()
    assert "kube-apiserver exited" in str(err.value)
    assert not [p for p in cp.pids if _alive(p)]
    assert (tmp_path / "cp" / "kube-apiserver.log").exists()


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return not stat.split(") ", 1)[1].startswith("Z")


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_killed_test_process_leaves_no_control_plane(tmp_path: Path) -> None:
    """``die_with_parent``: a pytest killed with SIGKILL takes its components along."""
    import json
    import os
    import signal
    import subprocess
    import sys

    script = (
        "import json, sys, time\n"
        "from tests.support.controlplane import ControlPlane\n"
        f"cp = ControlPlane({str(tmp_path / 'cp')!r}, crds=False, controller_manager=False,\n"
        "                  die_with_parent=True).start()\n"
        "print(json.dumps(sorted(cp.pids)), flush=True)\n"
        "time.sleep(120)\n")
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=repo, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(repo)})
    try:
        assert proc.stdout is not None
        pids = json.loads(proc.stdout.readline())
        assert len(pids) == 2 and all(_alive(p) for p in pids)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    deadline = time.monotonic() + 10
    while [p for p in pids if _alive(p)]:
        assert time.monotonic() < deadline, f"survived their parent: {pids}"
        time.sleep(0.1)
