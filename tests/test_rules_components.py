"""CONTROLLER_NOT_RUNNING and WEBHOOK_CA_NOT_INJECTED on objects shaped as the API serves them."""

from __future__ import annotations

import base64
import copy
from datetime import timedelta
from typing import Any

from kubectl_certdoctor.objects import Obj
from kubectl_certdoctor.rules.finding import Finding, Severity
from tests.support.diagnosis import (
    certificate,
    codes,
    cond,
    findings,
    issuer,
    meta,
    ts,
)

CA_PEM = b"-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
OTHER_PEM = b"-----BEGIN CERTIFICATE-----\nMIIBother\n-----END CERTIFICATE-----\n"


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def deployment(name: str, component: str, replicas: int = 1, ready: int = 1,
               status: bool = True) -> Obj:
    lb = {"app": component if component != "controller" else "cert-manager",
          "app.kubernetes.io/name": component if component != "controller" else "cert-manager",
          "app.kubernetes.io/instance": "cert-manager",
          "app.kubernetes.io/component": component}
    d: dict[str, Any] = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": meta(name, "cert-manager", labels=lb),
        "spec": {"replicas": replicas,
                 "selector": {"matchLabels": {k: lb[k] for k in (
                     "app.kubernetes.io/name", "app.kubernetes.io/instance",
                     "app.kubernetes.io/component")}},
                 "template": {"metadata": {"labels": lb}, "spec": {"containers": [{
                     "name": f"cert-manager-{component}",
                     "image": f"quay.io/jetstack/cert-manager-{component}:v1.21.1"}]}}}}
    if status:
        d["status"] = {"observedGeneration": 1, "replicas": replicas,
                       "readyReplicas": ready, "availableReplicas": ready,
                       "conditions": [{"type": "Available",
                                       "status": "True" if ready else "False",
                                       "reason": "MinimumReplicasAvailable" if ready
                                       else "MinimumReplicasUnavailable",
                                       "message": "Deployment does not have minimum "
                                                  "availability." if not ready else ""}]}
    if not ready:
        d["status"].pop("readyReplicas", None) if status else None
    return d


def pod(dep: Obj, waiting: str = "", last: str = "", restarts: int = 0) -> Obj:
    cs: dict[str, Any] = {"name": dep["spec"]["template"]["spec"]["containers"][0]["name"],
                          "ready": False, "restartCount": restarts, "image": "x",
                          "imageID": "", "state": {}}
    if waiting:
        cs["state"] = {"waiting": {"reason": waiting, "message": "back-off 5m0s restarting"}}
    if last:
        cs["lastState"] = {"terminated": {"reason": last, "exitCode": 137}}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": meta(f"{dep['metadata']['name']}-7d9f8b-x2x", "cert-manager",
                             labels=dict(dep["spec"]["template"]["metadata"]["labels"],
                                         **{"pod-template-hash": "7d9f8b"})),
            "status": {"phase": "Running", "containerStatuses": [cs]}}


def webhook_cfg(kind: str, ca_bundle: str) -> Obj:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind,
            "metadata": meta("cert-manager-webhook", None, annotations={
                "cert-manager.io/inject-ca-from-secret": "cert-manager/cert-manager-webhook-ca"}),
            "webhooks": [{"name": "webhook.cert-manager.io", "admissionReviewVersions": ["v1"],
                          "clientConfig": {"service": {"name": "cert-manager-webhook",
                                                       "namespace": "cert-manager",
                                                       "path": "/validate"},
                                           **({"caBundle": ca_bundle} if ca_bundle else {})}}]}


def ca_secret(pem: bytes = CA_PEM) -> Obj:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": meta("cert-manager-webhook-ca", "cert-manager"),
            "data": {"ca.crt": b64(pem), "tls.crt": b64(pem)}}


STUCK_CERT = certificate("web", ready="False", message="Issuing certificate as Secret does "
                         "not exist")


def one(code: str, *objs: Obj) -> Finding:
    fs = [f for f in findings(*objs) if f.code == code]
    assert len(fs) == 1, [f.code for f in findings(*objs)]
    return fs[0]


def test_controller_scaled_to_zero() -> None:
    dep = deployment("cert-manager", "controller", replicas=0, ready=0)
    f = one("CONTROLLER_NOT_RUNNING", issuer("iss"), dep)
    assert f.severity is Severity.ERROR
    assert "scaled to zero" in f.title
    assert "spec.replicas 0" in f.evidence[0]
    assert "scale cert-manager up" in f.remedy


def test_controller_crash_loop_and_oom() -> None:
    dep = deployment("cert-manager", "controller", ready=0)
    crash = pod(dep, waiting="CrashLoopBackOff", restarts=14)
    f = one("CONTROLLER_NOT_RUNNING", issuer("iss"), dep, crash)
    assert "crash-looping" in f.title
    assert any("CrashLoopBackOff" in e and "14 restarts" in e for e in f.evidence)
    oom = pod(dep, waiting="CrashLoopBackOff", last="OOMKilled", restarts=3)
    f = one("CONTROLLER_NOT_RUNNING", issuer("iss"), dep, oom)
    assert "OOMKilled" in f.title and "memory" in f.remedy


def test_controller_not_running_explains_every_stuck_certificate() -> None:
    dep = deployment("cert-manager", "controller", replicas=0, ready=0)
    got = codes(issuer("iss"), STUCK_CERT, dep)
    assert "CONTROLLER_NOT_RUNNING" in got
    assert "ISSUANCE_STUCK_UNRECOGNISED" not in got
    # the same certificate with a running controller is not silent
    assert "ISSUANCE_STUCK_UNRECOGNISED" in codes(
        issuer("iss"), STUCK_CERT, deployment("cert-manager", "controller"))


def test_running_controller_and_statusless_deployment_are_quiet() -> None:
    assert "CONTROLLER_NOT_RUNNING" not in codes(deployment("cert-manager", "controller"))
    # a hand-written bundle without status says nothing about readiness
    bare = deployment("cert-manager", "controller", ready=0, status=False)
    assert "CONTROLLER_NOT_RUNNING" not in codes(bare)
    # the webhook or cainjector being down is not the controller being down
    assert "CONTROLLER_NOT_RUNNING" not in codes(
        deployment("cert-manager", "controller"),
        deployment("cert-manager-webhook", "webhook", ready=0))


def test_webhook_ca_empty_with_cainjector_down() -> None:
    inj = deployment("cert-manager-cainjector", "cainjector", ready=0)
    f = one("WEBHOOK_CA_NOT_INJECTED", webhook_cfg("ValidatingWebhookConfiguration", ""),
            ca_secret(), inj, pod(inj, waiting="CrashLoopBackOff", restarts=5))
    assert f.object.kind == "ValidatingWebhookConfiguration"
    assert "empty caBundle" in f.title
    assert any("cainjector" in e for e in f.evidence)
    assert any("CrashLoopBackOff" in e for e in f.evidence)
    assert f.remedy


def test_webhook_ca_stale_and_matching() -> None:
    stale = webhook_cfg("MutatingWebhookConfiguration", b64(OTHER_PEM))
    f = one("WEBHOOK_CA_NOT_INJECTED", stale, ca_secret())
    assert "not the webhook's CA" in f.title
    good = webhook_cfg("MutatingWebhookConfiguration", b64(CA_PEM + b"\n"))
    assert "WEBHOOK_CA_NOT_INJECTED" not in codes(good, ca_secret())
    # without the Secret only an empty bundle is judged
    assert "WEBHOOK_CA_NOT_INJECTED" not in codes(stale)
    # configurations cainjector does not manage are not ours to judge
    other = copy.deepcopy(webhook_cfg("ValidatingWebhookConfiguration", ""))
    other["metadata"]["annotations"] = {}
    assert "WEBHOOK_CA_NOT_INJECTED" not in codes(other)


def test_fallback_quotes_deepest_message() -> None:
    from tests.support.diagnosis import challenge, order, request

    cert = certificate("web", ready="False", message="Issuing certificate as Secret does not "
                       "exist")
    cr = request("web-1", "web", conds=[
        cond("Approved", "True", "cert-manager.io", "approved"),
        cond("Ready", "False", "Pending", "Waiting on certificate issuance from order "
             "default/web-1-o: \"pending\"")])
    o = order("web-1-o", "web-1")
    ch = challenge("web-1-o-ch", "web-1-o", reason="Some provider said: teapot 418")
    f = one("ISSUANCE_STUCK_UNRECOGNISED", issuer("iss"), cert, cr, o, ch)
    assert f.severity is Severity.WARNING
    assert f.data["blocked_by"]["kind"] == "Challenge"
    assert "teapot 418" in f.explanation and "Challenge web-1-o-ch" in f.explanation
    assert f.remedy


def test_fallback_grace_and_explained() -> None:
    fresh = certificate("web", ready="False")
    fresh["status"]["conditions"] = [dict(cond("Ready", "False"),
                                          lastTransitionTime=ts(-timedelta(minutes=2)))]
    assert "ISSUANCE_STUCK_UNRECOGNISED" not in codes(issuer("iss"), fresh)
    # an issuer that is not ready explains its certificates
    assert "ISSUANCE_STUCK_UNRECOGNISED" not in codes(
        issuer("iss", ready="False", reason="ErrInitIssuer", message="boom"), STUCK_CERT)
