"""``kubectl certdoctor probe``: listing, bundles, exit codes, and a live cluster."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client import AppsV1Api, CoreV1Api

from kubectl_certdoctor.cli import main
from tests.support.host_kubelet import HostScriptKubelet
from tests.support.netservers import HttpBackend
from tests.support.node import controller_deployment

TOKEN = "cli-tok"
KEY = "cli-tok.thumb"
PATH = f"/.well-known/acme-challenge/{TOKEN}"
NO_CLUSTER = ["--kubeconfig", "/nonexistent/kubeconfig"]


def test_probe_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "list"]) == 0
    out = capsys.readouterr().out
    for pid in ("http01", "http01-backends", "hairpin", "dns", "egress", "no-proxy", "account"):
        assert f"\n{pid} " in "\n" + out
    assert "disabled" not in out


def test_probes_disabled_on_a_bundle(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "list", "--demo"]) == 0
    assert "disabled: probes need a live cluster; this is a bundle" in capsys.readouterr().out
    assert main(["probe", "http01", "Challenge/x", "--demo"]) == 2
    assert "probes need a live cluster; this is a bundle" in capsys.readouterr().err


def test_unknown_probe_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "nope", *NO_CLUSTER]) == 2
    assert "unknown probe 'nope'" in capsys.readouterr().err


def test_url_target_without_a_cluster_runs_locally(capsys: pytest.CaptureFixture[str]) -> None:
    with HttpBackend("127.0.0.2", {PATH: (200, KEY)}, "nginx") as srv:
        ok_url = f"http://127.0.0.2:{srv.port}{PATH}"
        missing = f"http://127.0.0.2:{srv.port}/.well-known/acme-challenge/other"
        # no key to compare with (no Challenge): inconclusive → 3
        assert main(["probe", "http01", ok_url, *NO_CLUSTER]) == 3
        cap = capsys.readouterr()
        assert "no key to compare" in cap.out and "… [local] GET" in cap.err
        assert main(["probe", "http01", missing, "-o", "json", *NO_CLUSTER]) == 1
        doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "fail" and doc["exit_code"] == 1
    assert doc["confirms"] == ["HTTP01_SELF_CHECK_404"]
    assert doc["vantages"]["local"]["data"]["fetch"]["status"] == 404


def test_no_proxy_needs_a_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "no-proxy", *NO_CLUSTER]) == 1
    assert "error:" in capsys.readouterr().err


@pytest.mark.integration
def test_no_proxy_reads_the_controller_env(control_plane: Any, admin_api: Any, namespace: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    apps: Any = AppsV1Api(admin_api)
    apps.create_namespaced_deployment(namespace, controller_deployment(namespace, {
        "HTTPS_PROXY": "http://proxy.corp.test:3128", "NO_PROXY": "10.0.0.0/8"}))
    try:
        code = main(["probe", "no-proxy", "-o", "json", "--kubeconfig",
                     str(control_plane.admin_kubeconfig), "-n", namespace])
    finally:  # other tests share the API server: leave no "cert-manager" behind
        apps.delete_namespaced_deployment("cert-manager", namespace)
    doc = json.loads(capsys.readouterr().out)
    assert code == 1, doc["summary"]
    assert doc["confirms"] == ["PROXY_NO_PROXY_GAP"]
    missing = doc["vantages"]["local"]["data"]["missing"]
    assert missing == [".svc"]  # .svc covers kubernetes.default.svc under Go rules


@pytest.mark.integration
def test_pod_vantage_from_the_cli(control_plane: Any, admin_api: Any, namespace: str,
                                  job_controllers: Any,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    with HostScriptKubelet(admin_api) as kubelet, \
            HttpBackend("127.0.0.2", {PATH: (200, KEY)}, "nginx") as srv:
        url = f"http://127.0.0.2:{srv.port}{PATH}"
        code = main(["probe", "http01", url, "--from", "pod", "-o", "json", "--kubeconfig",
                     str(control_plane.admin_kubeconfig), "-n", namespace,
                     "--probe-image", "registry.local/netshoot:v0.13"])
    cap = capsys.readouterr()
    doc = json.loads(cap.out)
    assert code == 3  # no key from a URL target
    assert doc["vantages"]["pod"]["data"]["fetch"]["status"] == 200
    assert set(doc["vantages"]) == {"pod"}
    assert kubelet.pods[0]["spec"]["containers"][0]["image"] == "registry.local/netshoot:v0.13"
    assert "created job" in cap.err and "created pod" in cap.err and "deleted job" in cap.err
    pods = CoreV1Api(admin_api).list_namespaced_pod(namespace).items
    assert pods == []


@pytest.mark.integration
def test_restricted_and_read_only_grey_out_the_pod(
        control_plane: Any, namespace: str, capsys: pytest.CaptureFixture[str]) -> None:
    with HttpBackend("127.0.0.2", {PATH: (200, KEY)}, "nginx") as srv:
        url = f"http://127.0.0.2:{srv.port}{PATH}"
        main(["probe", "http01", url, "--from", "all", "-o", "json", "--kubeconfig",
              str(control_plane.restricted_kubeconfig), "-n", namespace])
        doc = json.loads(capsys.readouterr().out)
        assert doc["vantages"]["pod"]["skipped"].startswith("not allowed to create pods")
        assert doc["vantages"]["local"]["data"]["fetch"]["status"] == 200
        main(["probe", "http01", url, "--from", "pod", "-o", "json", "--read-only",
              "--kubeconfig", str(control_plane.admin_kubeconfig), "-n", namespace])
        doc = json.loads(capsys.readouterr().out)
    assert doc["vantages"]["pod"]["skipped"] == "read-only"


@pytest.mark.integration
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_interrupt_deletes_the_debug_pod(control_plane: Any, admin_api: Any, namespace: str,
                                         sig: str, job_controllers: Any) -> None:
    """Ctrl-C (or a SIGTERM) while the pod runs: the CLI deletes it before exiting."""
    import os
    import signal
    import socket
    import subprocess
    import sys

    hang = socket.socket()  # accepts, never answers: the pod's curl hangs
    hang.bind(("127.0.0.8", 0))
    hang.listen(16)
    url = f"http://127.0.0.8:{hang.getsockname()[1]}{PATH}"
    try:
        with HostScriptKubelet(admin_api) as kubelet:
            proc = subprocess.Popen(
                [sys.executable, "-m", "kubectl_certdoctor", "probe", "http01", url, "--from",
                 "pod", "--kubeconfig", str(control_plane.admin_kubeconfig), "-n", namespace],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ})
            try:
                assert kubelet.pod_started.wait(60), "the probe pod never started"
                proc.send_signal(getattr(signal, sig))
                _out, err = proc.communicate(timeout=60)
            finally:
                if proc.poll() is None:
                    proc.kill()
            assert proc.returncode in (130, 128 + signal.SIGTERM), err
            assert kubelet.started and CoreV1Api(admin_api).list_namespaced_pod(
                namespace).items == []
    finally:
        hang.close()


def test_missing_parameters_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "egress", *NO_CLUSTER]) == 2
    assert "egress needs an Issuer" in capsys.readouterr().err
