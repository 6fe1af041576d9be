"""The redaction canary (issue 19, item 3): no planted credential reaches any output.

A distinct canary string is planted in every place a credential can hide in a cluster
cert-manager runs in — Secret data of every type, the controller's env values and the
Secrets its ``valueFrom`` points at, container args and command, annotations (the
last-applied copy included), Event messages, status messages and reasons, proxy URLs with
``user:password@``, DNS-01 webhook config, the kubeconfig's token, exec env and proxy URL —
then every output channel is driven (``check`` in each format, in-process and as the real
CLI, ``dump``, the TUI's screens, the offline probes, fix previews, the audit log, error
messages, the log records) and searched for every canary: verbatim, with whitespace and
frame characters removed (a wrapped line), and as the base64 the Secret carried.

Each test is one channel; its failure lists the planted places that leaked there.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_certdoctor.bundle import load_bundle, write_bundle
from kubectl_certdoctor.cli import main
from kubectl_certdoctor.objects import Obj, ObjectSet, Ref
from tests.support.diagnosis import NOW, ts

REPO = Path(__file__).resolve().parents[1]
APP_NS = "shop"
CM_NS = "cert-manager-canary"


def canary(place: str) -> str:
    """A token that cannot occur by chance, derived from the place it is planted in."""
    return "cnry" + hashlib.sha256(place.encode()).hexdigest()[:16]


#: place → canary; the planted objects below use every one
PLACES = [
    "secret-opaque", "secret-opaque-stringdata", "secret-tls-key", "secret-helm-release",
    "secret-dockerconfigjson", "secret-sa-token", "secret-acme-account-key",
    "secret-vault-token", "secret-vault-approle", "secret-dns01-route53",
    "secret-dns01-cloudflare", "secret-env-valuefrom-target",
    "env-credential-name", "env-url-userinfo", "env-http-proxy", "env-https-proxy",
    "pod-env-credential-name", "arg-flag-equals", "arg-flag-separate", "command-flag",
    "annotation-last-applied", "annotation-credential-name", "annotation-url-userinfo",
    "event-message-url", "event-message-bearer", "issuer-condition-message",
    "certificaterequest-condition-reason", "order-status-reason", "challenge-status-reason",
    "issuer-webhook-config", "issuer-server-userinfo",
    "kubeconfig-token", "kubeconfig-exec-env", "kubeconfig-proxy-url",
    "kubeconfig-server-userinfo",
    "log-klog-pair", "log-json-field", "log-url-userinfo", "log-bearer",
]
CANARIES = {p: canary(p) for p in PLACES}
#: extra forms per place (the base64 a Secret's data carried)
FORMS: dict[str, list[str]] = {p: [c] for p, c in CANARIES.items()}


def _b64(place: str, template: str = "{}") -> str:
    """base64 of a value holding the canary; the encoded form is searched for too."""
    enc = base64.b64encode(template.format(CANARIES[place]).encode()).decode()
    FORMS[place].append(enc)
    return enc


def c(place: str) -> str:
    return CANARIES[place]


def _tls_pair() -> tuple[str, str]:
    """A real self-signed certificate (public, may be shown) for shop/web-tls."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "web.shop.test")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(7)
            .not_valid_before(NOW - timedelta(days=30)).not_valid_after(NOW + timedelta(days=60))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("web.shop.test")]), False)
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    return base64.b64encode(pem).decode(), ""


TLS_CRT, _ = _tls_pair()


def _meta(name: str, ns: str | None, **extra: Any) -> Obj:
    md: Obj = {"name": name, "creationTimestamp": ts(-timedelta(days=2)),
               "uid": f"uid-{ns}-{name}", "resourceVersion": "100"}
    if ns:
        md["namespace"] = ns
    md.update(extra)
    return md


def _secret(name: str, ns: str, stype: str, data: dict[str, str], **md: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "Secret", "type": stype,
            "metadata": _meta(name, ns, **md), "data": data}


def _cond(ctype: str, status: str, reason: str, message: str) -> Obj:
    return {"type": ctype, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": ts(-timedelta(hours=1))}


def _controller_container() -> Obj:
    return {
        "name": "cert-manager-controller",
        "image": "quay.io/jetstack/cert-manager-controller:v1.21.1",
        "command": ["/app/cmd/controller", f"--db-password={c('command-flag')}"],
        "args": ["--v=2", "--cluster-resource-namespace=$(POD_NAMESPACE)",
                 f"--vault-token={c('arg-flag-equals')}",
                 "--cloudflare-api-token", c("arg-flag-separate")],
        "env": [
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath":
                                                                 "metadata.namespace"}}},
            {"name": "VAULT_TOKEN", "value": c("env-credential-name")},
            {"name": "ACME_MIRROR", "value": f"https://mirror:{c('env-url-userinfo')}"
                                             "@mirror.corp.test/dir"},
            {"name": "HTTP_PROXY", "value": f"http://proxyuser:{c('env-http-proxy')}"
                                            "@proxy.corp.test:3128"},
            {"name": "HTTPS_PROXY", "value": f"http://proxyuser:{c('env-https-proxy')}"
                                             "@proxy.corp.test:3128"},
            {"name": "NO_PROXY", "value": "127.0.0.1,localhost"},
            {"name": "CLOUDFLARE_API_TOKEN", "valueFrom": {"secretKeyRef": {
                "name": "controller-env", "key": "cf-token"}}},
        ],
    }


def planted() -> list[Obj]:
    """The planted cluster: an ACME ClusterIssuer (DNS-01 webhook + Route53 + Cloudflare), a
    Vault Issuer, a Certificate chain in ``shop``, the controller in its own namespace."""
    labels = {"app.kubernetes.io/name": "cert-manager",
              "app.kubernetes.io/component": "controller", "app": "cert-manager"}
    container = _controller_container()
    dep: Obj = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": _meta("cert-manager", CM_NS, labels=labels, generation=1, annotations={
            "kubectl.kubernetes.io/last-applied-configuration": json.dumps(
                {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [
                    {"env": [{"name": "VAULT_TOKEN",
                              "value": c("annotation-last-applied")}]}]}}}}),
            "example.test/api-token": c("annotation-credential-name"),
            "example.test/upstream": f"https://deploy:{c('annotation-url-userinfo')}"
                                     "@git.corp.test/ops.git",
        }),
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "cert-manager"}},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"serviceAccountName": "cert-manager",
                                       "containers": [container]}}},
        "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1,
                   "updatedReplicas": 1, "observedGeneration": 1},
    }
    pod_container = copy.deepcopy(container)
    pod_container["env"] = [{"name": "API_KEY", "value": c("pod-env-credential-name")}]
    pod: Obj = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": _meta("cert-manager-6d5f7b9c4-x2x9z", CM_NS, labels=labels),
        "spec": {"serviceAccountName": "cert-manager", "containers": [pod_container]},
        "status": {"phase": "Running", "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": ts(-timedelta(days=1))}]},
    }
    acme_server = "https://acme.canary.test/directory"
    cluster_issuer: Obj = {
        "apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
        "metadata": _meta("acme", None),
        "spec": {"acme": {
            "server": acme_server, "email": "ops@shop.test",
            "privateKeySecretRef": {"name": "acme-account-key"},
            "solvers": [
                {"selector": {"dnsZones": ["shop.test"]}, "dns01": {"webhook": {
                    "groupName": "acme.dns.test", "solverName": "dnsprov",
                    "config": {"apiKey": c("issuer-webhook-config"), "zone": "shop.test"}}}},
                {"selector": {"dnsZones": ["r53.test"]}, "dns01": {"route53": {
                    "region": "eu-west-1", "accessKeyID": "AKIAEXAMPLE",
                    "secretAccessKeySecretRef": {"name": "route53", "key": "secret-access-key"}}}},
                {"selector": {"dnsZones": ["cf.test"]}, "dns01": {"cloudflare": {
                    "apiTokenSecretRef": {"name": "cloudflare", "key": "api-token"}}}},
            ]}},
        "status": {"acme": {"uri": "https://acme.canary.test/acct/1"}, "conditions": [
            _cond("Ready", "False", "ErrRegisterACMEAccount",
                  'Failed to register ACME account: Get "https://acct:'
                  f'{c("issuer-condition-message")}@acme.canary.test/directory": '
                  "dial tcp 192.0.2.10:443: i/o timeout")]},
    }
    vault_issuer: Obj = {
        "apiVersion": "cert-manager.io/v1", "kind": "Issuer",
        "metadata": _meta("vault", APP_NS),
        "spec": {"vault": {
            "server": f"https://vault:{c('issuer-server-userinfo')}@vault.shop.test:8200",
            "path": "pki/sign/shop",
            "auth": {"appRole": {"path": "approle", "roleId": "role-1",
                                 "secretRef": {"name": "vault-approle", "key": "secretId"}},
                     "tokenSecretRef": {"name": "vault-token", "key": "token"}}}},
        "status": {"conditions": [_cond("Ready", "True", "VaultVerified", "Vault verified")]},
    }
    cert: Obj = {
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": _meta("web", APP_NS, generation=1),
        "spec": {"secretName": "web-tls", "dnsNames": ["web.shop.test"],
                 "issuerRef": {"name": "acme", "kind": "ClusterIssuer"}},
        "status": {"revision": 1, "conditions": [
            _cond("Ready", "False", "DoesNotExist", "Issuing certificate as Secret does not "
                                                    "exist"),
            _cond("Issuing", "True", "DoesNotExist", "Issuing certificate as Secret does not "
                                                     "exist")]},
    }
    owner_cert = [{"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "name": "web",
                   "uid": f"uid-{APP_NS}-web", "controller": True}]
    cr: Obj = {
        "apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
        "metadata": _meta("web-1", APP_NS, ownerReferences=owner_cert, annotations={
            "cert-manager.io/certificate-revision": "2", "cert-manager.io/certificate-name":
            "web"}),
        "spec": {"issuerRef": {"name": "acme", "kind": "ClusterIssuer"},
                 "request": base64.b64encode(b"-----BEGIN CERTIFICATE REQUEST-----\n"
                                             b"-----END CERTIFICATE REQUEST-----\n").decode()},
        "status": {"conditions": [
            _cond("Approved", "True", "cert-manager.io", "Certificate request has been "
                                                          "approved by cert-manager.io"),
            _cond("Ready", "False", f"api_key={c('certificaterequest-condition-reason')}",
                  "Waiting on certificate issuance from order shop/web-1-1: \"pending\"")]},
    }
    owner_cr = [{"apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
                 "name": "web-1", "uid": f"uid-{APP_NS}-web-1", "controller": True}]
    order: Obj = {
        "apiVersion": "acme.cert-manager.io/v1", "kind": "Order",
        "metadata": _meta("web-1-1", APP_NS, ownerReferences=owner_cr),
        "spec": {"issuerRef": {"name": "acme", "kind": "ClusterIssuer"},
                 "dnsNames": ["web.shop.test"], "request": cr["spec"]["request"]},
        "status": {"state": "pending", "url": "https://acme.canary.test/order/1",
                   "reason": f"Failed to finalize: POST https://acme.canary.test/finalize"
                             f"?password={c('order-status-reason')}: 500"},
    }
    owner_order = [{"apiVersion": "acme.cert-manager.io/v1", "kind": "Order",
                    "name": "web-1-1", "uid": f"uid-{APP_NS}-web-1-1", "controller": True}]
    challenge: Obj = {
        "apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge",
        "metadata": _meta("web-1-1-2837", APP_NS, ownerReferences=owner_order),
        "spec": {"type": "DNS-01", "dnsName": "web.shop.test", "token": "tok", "key": "tok.key",
                 "url": "https://acme.canary.test/chall/1",
                 "authorizationURL": "https://acme.canary.test/authz/1",
                 "issuerRef": {"name": "acme", "kind": "ClusterIssuer"},
                 "solver": cluster_issuer["spec"]["acme"]["solvers"][0]},
        "status": {"state": "pending", "presented": False, "processing": True,
                   "reason": 'error getting clusterissuer webhook: Post "https://hook:'
                             f'{c("challenge-status-reason")}@dnsprov.dns.test/present": '
                             "connection refused"},
    }
    events = [
        {"apiVersion": "v1", "kind": "Event", "metadata": _meta("web-1-1-2837.1", APP_NS),
         "involvedObject": {"kind": "Challenge", "name": "web-1-1-2837", "namespace": APP_NS,
                            "apiVersion": "acme.cert-manager.io/v1"},
         "reason": "PresentError", "type": "Warning", "count": 3,
         "lastTimestamp": ts(-timedelta(minutes=5)), "firstTimestamp": ts(-timedelta(hours=1)),
         "message": "Error presenting challenge: Post \"https://hook:"
                    f"{c('event-message-url')}@dnsprov.dns.test/present\": EOF"},
        {"apiVersion": "v1", "kind": "Event", "metadata": _meta("web.2", APP_NS),
         "involvedObject": {"kind": "Certificate", "name": "web", "namespace": APP_NS,
                            "apiVersion": "cert-manager.io/v1"},
         "reason": "Issuing", "type": "Warning", "count": 1,
         "lastTimestamp": ts(-timedelta(minutes=9)), "firstTimestamp": ts(-timedelta(minutes=9)),
         "message": "The upstream rejected the request (sent Authorization: Bearer "
                    f"{c('event-message-bearer')})"},
    ]
    secrets = [
        _secret("app-db", APP_NS, "Opaque", {"password": _b64("secret-opaque")}),
        {**_secret("app-legacy", APP_NS, "Opaque", {}),
         "stringData": {"password": c("secret-opaque-stringdata")}},
        _secret("web-tls", APP_NS, "kubernetes.io/tls", {
            "tls.crt": TLS_CRT,
            "tls.key": _b64("secret-tls-key", "-----BEGIN EC PRIVATE KEY-----\n{}\n"
                                              "-----END EC PRIVATE KEY-----\n")},
                annotations={"cert-manager.io/certificate-name": "web",
                             "cert-manager.io/issuer-name": "acme",
                             "cert-manager.io/issuer-kind": "ClusterIssuer"}),
        _secret("sh.helm.release.v1.cert-manager.v1", CM_NS, "helm.sh/release.v1",
                {"release": _b64("secret-helm-release", '{{"values":{{"token":"{}"}}}}')},
                labels={"owner": "helm", "name": "cert-manager"}),
        _secret("registry", CM_NS, "kubernetes.io/dockerconfigjson", {
            ".dockerconfigjson": _b64("secret-dockerconfigjson",
                                      '{{"auths":{{"registry.corp.test":{{"auth":"{}"}}}}}}')}),
        _secret("cert-manager-token", CM_NS, "kubernetes.io/service-account-token",
                {"token": _b64("secret-sa-token"), "namespace": base64.b64encode(
                    CM_NS.encode()).decode()},
                annotations={"kubernetes.io/service-account.name": "default"}),
        _secret("acme-account-key", CM_NS, "Opaque", {
            "tls.key": _b64("secret-acme-account-key", "-----BEGIN RSA PRIVATE KEY-----\n{}\n"
                                                       "-----END RSA PRIVATE KEY-----\n")}),
        _secret("vault-token", APP_NS, "Opaque", {"token": _b64("secret-vault-token")}),
        _secret("vault-approle", APP_NS, "Opaque", {"secretId": _b64("secret-vault-approle")}),
        _secret("route53", CM_NS, "Opaque",
                {"secret-access-key": _b64("secret-dns01-route53")}),
        _secret("cloudflare", CM_NS, "Opaque", {"api-token": _b64("secret-dns01-cloudflare")}),
        _secret("controller-env", CM_NS, "Opaque",
                {"cf-token": _b64("secret-env-valuefrom-target")}),
    ]
    return [cluster_issuer, vault_issuer, cert, cr, order, challenge, *events, *secrets, dep,
            pod]


KUBECONFIG_PLACES = ("kubeconfig-token", "kubeconfig-exec-env", "kubeconfig-proxy-url",
                     "kubeconfig-server-userinfo")
LOG_PLACES = ("log-klog-pair", "log-json-field", "log-url-userinfo", "log-bearer")
OBJECT_PLACES = [p for p in PLACES if p not in KUBECONFIG_PLACES + LOG_PLACES]
CHALLENGE = Ref("Challenge", APP_NS, "web-1-1-2837")


def planted_log_lines() -> list[tuple[str, str]]:
    """Controller log lines about the planted Challenge, in klog text and JSON, each with a
    canary where cert-manager's own lines carry credentials (a provider's request, a
    webhook URL, a header)."""
    pod = "cert-manager-6d5f7b9c4-x2x9z"
    ref = (f'resource_name="{CHALLENGE.name}" resource_namespace="{APP_NS}" '
           'resource_kind="Challenge"')
    return [
        (pod, 'I1207 22:01:02.123456       1 dns.go:101] "presenting DNS01 challenge" '
              f'{ref} api_token="{c("log-klog-pair")}"'),
        (pod, json.dumps({"ts": "2026-12-07T22:01:03Z", "level": "error",
                          "msg": "failed to present", "resource_name": CHALLENGE.name,
                          "resource_namespace": APP_NS, "resource_kind": "Challenge",
                          "config": {"apiKey": c("log-json-field")}})),
        (pod, 'E1207 22:01:04.000001       1 sync.go:190] "error presenting challenge" '
              f'{ref} err="Post \\"https://hook:{c("log-url-userinfo")}@dnsprov.dns.test/'
              'present\\": EOF"'),
        (pod, f'W1207 22:01:05.000002       1 webhook.go:77] challenge {CHALLENGE.name}: '
              f'upstream refused Authorization: Bearer {c("log-bearer")}'),
    ]


# ------------------------------------------------------------------ the search


_FRAME = re.compile(r"[^A-Za-z0-9+/=]+")


def leaks(text: str, places: list[str] | tuple[str, ...] = tuple(PLACES)) -> dict[str, str]:
    """place → where it showed (a little context) for every canary found in ``text``:
    verbatim, in its base64 form, or split over lines/frames (only letters, digits and
    base64 characters kept)."""
    found: dict[str, str] = {}
    flat = _FRAME.sub("", text)
    for place in places:
        for form in FORMS[place]:
            i = text.find(form)
            if i >= 0:
                found[place] = text[max(0, i - 60):i + len(form) + 20]
                break
            if form in flat:
                j = flat.find(form)
                found[place] = "(wrapped) " + flat[max(0, j - 40):j + len(form)]
                break
    return found


def assert_clean(channel: str, text: str,
                 places: list[str] | tuple[str, ...] = tuple(PLACES)) -> None:
    found = leaks(text, places)
    assert not found, f"channel {channel!r} leaked: " + "; ".join(
        f"{p} → …{ctx!r}…" for p, ctx in sorted(found.items()))


def test_the_search_finds_every_canary() -> None:
    """The planted objects really carry every object canary, and the search sees each
    form, also when a terminal wrapped it inside a frame."""
    raw = json.dumps(planted())
    assert set(leaks(raw, OBJECT_PLACES)) == set(OBJECT_PLACES)
    tok = c("secret-opaque")
    assert leaks(f"│ {tok[:7]} │\n│ {tok[7:]} │", ["secret-opaque"])


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def bundle_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The planted objects as a file a user might pass to ``--from-file`` (a raw ``kubectl
    get -o yaml`` style List: nothing redacted yet)."""
    path = tmp_path_factory.mktemp("canary") / "planted.yaml"
    doc = {"apiVersion": "v1", "kind": "List", "items": planted(),
           "metadata": {"annotations": {"certdoctor.io/bundle": json.dumps(
               {"context": "canary", "capturedAt": NOW.strftime("%Y-%m-%dT%H:%M:%SZ")})}}}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _no_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.setenv("CERTDOCTOR_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("NO_COLOR", "1")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.lines.append(self.format(record))
            if record.exc_info:
                import traceback

                self.lines.append("".join(traceback.format_exception(*record.exc_info)))


@contextlib.contextmanager
def collected_logs() -> Iterator[_Collect]:
    """Every log record of every logger (DEBUG and up) while the block runs."""
    h = _Collect()
    root = logging.getLogger()
    old = root.level
    root.addHandler(h)
    root.setLevel(logging.DEBUG)
    try:
        yield h
    finally:
        root.removeHandler(h)
        root.setLevel(old)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``main(args)`` in-process; (exit code, stdout + stderr + log records)."""
    with collected_logs() as logs:
        code = main(args)
    cap = capsys.readouterr()
    return code, cap.out + "\n" + cap.err + "\n" + "\n".join(logs.lines)


# ------------------------------------------------------------------ stored state


def test_store_holds_no_canary(bundle_path: Path) -> None:
    """What the bundle reader keeps (the same ``sanitize`` the live store runs on every
    watch event): every other channel renders from this."""
    objs = load_bundle(bundle_path)
    assert_clean("stored objects", json.dumps([o for k in objs.kinds()
                                               for o in objs.of_kind(k)]), OBJECT_PLACES)


def test_redaction_keeps_what_the_diagnosis_reads() -> None:
    """The redaction the canary needed is narrow: boolean flags, references, the HTTP-01
    token and key, cert-manager's annotations and its plain messages stay as they were."""
    from kubectl_certdoctor.redact import REDACTED, sanitize, sanitize_patch

    args = ["--issuer-ambient-credentials=true", "--cluster-issuer-ambient-credentials",
            "--max-concurrent-challenges=60", "--vault-token=s3cr3t", "--api-key", "k3y",
            "--dns01-recursive-nameservers=1.1.1.1:53"]
    dep = sanitize({"kind": "Deployment", "metadata": {"name": "cm", "annotations": {
        "cert-manager.io/issue-temporary-certificate": "true",
        "example.test/api-token": "t0k", "example.test/token-secret-name": "vault"}},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "args": args}]}}}})
    assert dep["spec"]["template"]["spec"]["containers"][0]["args"] == [
        *args[:3], f"--vault-token={REDACTED}", "--api-key", REDACTED, args[-1]]
    assert dep["metadata"]["annotations"] == {
        "cert-manager.io/issue-temporary-certificate": "true",
        "example.test/api-token": REDACTED, "example.test/token-secret-name": "vault"}
    ch = sanitize({"kind": "Challenge", "metadata": {"name": "x"}, "spec": {
        "token": "tok", "key": "tok.key", "solver": {"dns01": {"webhook": {"config": {
            "apiKey": "k", "apiKeySecretRef": {"name": "s", "key": "k"}}}}}},
        "status": {"reason": 'secrets "dns" not found; GET https://acme.test/x?token=true'}})
    assert ch["spec"]["token"] == "tok" and ch["spec"]["key"] == "tok.key"
    assert ch["spec"]["solver"]["dns01"]["webhook"]["config"] == {
        "apiKey": REDACTED, "apiKeySecretRef": {"name": "s", "key": "k"}}
    assert ch["status"]["reason"] == 'secrets "dns" not found; GET https://acme.test/x?token=true'
    ops = [{"op": "test", "path": "/spec/template/spec/containers/0/args", "value": args},
           {"op": "test", "path": "/spec/template/spec/containers/0/env/1",
            "value": {"name": "VAULT_TOKEN", "value": "v"}},
           {"op": "replace", "path": "/spec/template/spec/containers/0/env/2/value",
            "value": "http://u:p@proxy.test:3128"},
           {"op": "remove", "path": "/metadata/annotations/x"}]
    shown = sanitize_patch(ops)
    assert shown[0]["value"] == dep["spec"]["template"]["spec"]["containers"][0]["args"]
    assert shown[1]["value"] == {"name": "VAULT_TOKEN", "value": REDACTED}
    assert shown[2]["value"] == f"http://{REDACTED}@proxy.test:3128"
    assert shown[3] == ops[3] and ops[0]["value"] is args  # the patch itself is untouched


# ------------------------------------------------------------------ check, dump


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_check_formats(bundle_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(["check", "-A", "--from-file", str(bundle_path), "-o", fmt], capsys)
    assert code in (0, 1), out
    assert "ACME" in out or "acme" in out  # the diagnosis really ran on the planted objects
    assert_clean(f"check -o {fmt}", out)


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_check_one_chain(bundle_path: Path, fmt: str,
                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(["check", "certificate/web", "-n", APP_NS, "--from-file",
                         str(bundle_path), "-o", fmt], capsys)
    assert code in (0, 1) and "web" in out, out
    assert_clean(f"check certificate/web -o {fmt}", out)


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_check_from_file_subprocess(bundle_path: Path, fmt: str, tmp_path: Path) -> None:
    """The real CLI, as a user runs it on a file someone attached to a ticket."""
    env = {**os.environ, "KUBECONFIG": str(tmp_path / "none"), "NO_COLOR": "1",
           "CERTDOCTOR_STATE_DIR": str(tmp_path / "state")}
    p = subprocess.run([sys.executable, "-m", "kubectl_certdoctor", "check", "-A",
                        "--from-file", str(bundle_path), "-o", fmt],
                       capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert p.returncode in (0, 1), p.stderr
    assert p.stdout.strip()
    assert_clean(f"subprocess check -o {fmt}", p.stdout + p.stderr)


def test_dump_rebundles_clean(bundle_path: Path, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "dump.yaml"
    code, out = run_cli(["dump", "--from-file", str(bundle_path), "-o", str(out_file)], capsys)
    assert code == 0, out
    written = out_file.read_text(encoding="utf-8")
    assert "cert-manager-controller" in written
    assert_clean("dump -o FILE", written + out)
    code, out = run_cli(["dump", "--from-file", str(bundle_path)], capsys)
    assert code == 0
    assert_clean("dump (stdout)", out)


def test_write_bundle_of_raw_objects() -> None:
    """``write_bundle`` re-sanitises: a caller that hands it raw objects leaks nothing."""
    buf = io.StringIO()
    write_bundle(ObjectSet.from_objects(planted(), source="test"), buf, {"context": "x"})
    assert_clean("write_bundle(raw objects)", buf.getvalue(), OBJECT_PLACES)


# ------------------------------------------------------------------ probes


def _probe_outputs(objs: ObjectSet) -> str:
    from kubectl_certdoctor.commands.probe import build_params, render_text
    from kubectl_certdoctor.probes.base import ProbeResult, Vantage
    from kubectl_certdoctor.probes.registry import PROBES
    from kubectl_certdoctor.probes.runner import run as run_probe

    parts = []
    for pid, target in (("no-proxy", None), ("account", "clusterissuer/acme")):
        spec = PROBES[pid]
        params = build_params(spec, objs, target, APP_NS)
        parts.append(json.dumps(params.to_json(), default=str))
        result: ProbeResult | None = None
        for ev in run_probe(spec, params, vantages={Vantage.LOCAL: ""}):
            if isinstance(ev, ProbeResult):
                result = ev
            else:
                parts.append(str(ev))
        assert result is not None
        buf = io.StringIO()
        render_text(spec, result, buf)
        parts += [buf.getvalue(), json.dumps(result.to_json(), default=str)]
    return "\n".join(parts)


def test_offline_probes(bundle_path: Path) -> None:
    """``no-proxy`` and ``account`` work from the snapshot alone (no traffic): their
    parameters, progress, text and JSON results, on the stored objects."""
    with collected_logs() as logs:
        out = _probe_outputs(load_bundle(bundle_path))
    assert "proxy.corp.test" in out  # the controller's proxy was read…
    assert_clean("probes no-proxy/account", out + "\n".join(logs.lines))


# ------------------------------------------------------------------ fixes and the audit log


def _all_plans(objs: ObjectSet) -> list[Any]:
    """Every fix planned against every object it applies to (parameters where needed)."""
    from kubectl_certdoctor.fixes.model import FixError
    from kubectl_certdoctor.fixes.registry import FIXES

    params = {"set-recursive-nameservers": {"nameservers": "127.0.0.1:53"},
              "add-no-proxy": {}, "set-solver-ingress-class": {"ingress_class": "public"}}
    plans = []
    for spec in FIXES.values():
        for kind in spec.target_kinds:
            for o in objs.of_kind(kind):
                ref = Ref.of(o)
                with contextlib.suppress(FixError):
                    plans.append(spec.plan(objs, ref, dict(params.get(spec.id, {}))))
    return plans


def _plan_text(plans: list[Any]) -> str:
    out = []
    for p in plans:
        out.append(p.preview())
        out.append(json.dumps(p.to_json(), default=str))
        out += [c.summary() for c in p.calls]
    return "\n".join(out)


def test_fix_previews_from_the_bundle(bundle_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    plans = _all_plans(load_bundle(bundle_path))
    assert {p.fix_id for p in plans} >= {"add-no-proxy", "set-recursive-nameservers"}
    assert_clean("fix previews (bundle)", _plan_text(plans))
    code, out = run_cli(["fix", "set-recursive-nameservers", "deployment/cert-manager",
                         "-n", CM_NS, "--set", "nameservers=127.0.0.1:53", "--from-file",
                         str(bundle_path)], capsys)
    assert code == 0 and "preview" in out, out
    assert_clean("fix CLI preview (bundle)", out)


def test_fix_previews_and_audit_from_raw_objects(tmp_path: Path) -> None:
    """A live fix plans from objects read raw from the API server (its patches must carry
    the real values): its preview, its JSON and the audit log entry must still be clean."""
    from kubectl_certdoctor.fixes import audit

    objs = ObjectSet.from_objects(planted(), source="live")
    plans = _all_plans(objs)
    assert {p.fix_id for p in plans} >= {"add-no-proxy", "set-recursive-nameservers"}
    assert_clean("fix previews (raw objects)", _plan_text(plans), OBJECT_PLACES)
    for p in plans:
        audit.record(user="canary", context="canary", server="https://127.0.0.1:6443", plan=p,
                     result="dry-run", error="")
    log = audit.audit_path().read_text(encoding="utf-8")
    assert log.count("\n") == len(plans)
    assert_clean("audit log", log, OBJECT_PLACES)


# ------------------------------------------------------------------ error messages


def _malformed(bundle_path: Path, tmp_path: Path) -> dict[str, Path]:
    raw = bundle_path.read_text(encoding="utf-8")
    files = {
        # a tab where YAML forbids one, on a line that carries a canary
        "yaml-tab": raw.replace(f"value: {c('env-credential-name')}",
                                f"value:\t{c('env-credential-name')}\n\t- bad", 1),
        "yaml-unclosed-quote": raw.replace(c("secret-opaque-stringdata"),
                                           '"' + c("secret-opaque-stringdata"), 1),
        "json-truncated": json.dumps({"apiVersion": "v1", "kind": "List",
                                      "items": planted()})[:-40],
        "not-objects": json.dumps({"password": c("secret-opaque"),
                                   "token": c("env-credential-name")}),
        "metadata-a-string": json.dumps({"kind": "Secret", "apiVersion": "v1",
                                         "metadata": c("secret-opaque"),
                                         "data": {"x": c("secret-opaque")}}),
    }
    out = {}
    for name, text in files.items():
        p = tmp_path / f"{name}.yaml"
        p.write_text(text, encoding="utf-8")
        out[name] = p
    return out


def test_error_messages(bundle_path: Path, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed bundle is refused with a message that names the problem, not the
    credential on the line it stumbled over."""
    for name, path in _malformed(bundle_path, tmp_path).items():
        for cmd in (["check", "-A"], ["dump"]):
            code, out = run_cli([*cmd, "--from-file", str(path)], capsys)
            assert code != 0 or "error" not in out, (name, out)
            assert_clean(f"error message ({name}, {cmd[0]})", out)


def test_controller_log_timeline() -> None:
    """The logs + Events timeline (``l``): controller log lines and Events about the
    Challenge, each line carrying a canary, come out redacted."""
    timeline = pytest.importorskip("kubectl_certdoctor.timeline")
    events = [o for o in planted() if o["kind"] == "Event"]
    entries = timeline.build_timeline(CHALLENGE, planted_log_lines(), events, NOW)
    assert sum(e.source == "log" for e in entries) == len(planted_log_lines())
    assert_clean("log + Events timeline", "\n".join(
        f"{e.when} {e.source} {e.level} {e.origin} {e.text}" for e in entries))


# ------------------------------------------------------------------ the TUI


def _svg_text(svg: str) -> str:
    """The characters a screenshot shows (tags dropped, entities decoded)."""
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


def screen_text(app: Any, shot: bool = True) -> str:
    """Everything the top screen holds, scrolled out of view included: the screenshot (when
    ``shot``), every Static's whole content, every DataTable cell, the tree's rows."""
    from textual.widgets import DataTable, Static

    from tests.support.tui import tree_depths
    from tests.support.tui_actions import rendered

    parts = [_svg_text(app.export_screenshot())] if shot else []
    for w in app.screen.query(Static):
        parts.append(rendered(w))
    for t in app.screen.query(DataTable):
        for r in range(t.row_count):
            parts.append(" ".join(str(getattr(x, "plain", x)) for x in t.get_row_at(r)))
    if type(app.screen).__name__ == "TreeScreen":
        parts += [label for _, label in tree_depths(app)]
    return "\n".join(parts)


def _describe_text(app: Any) -> str:
    from textual.widgets import Static

    from tests.support.tui_actions import rendered

    found = app.screen.query("#describe")
    return rendered(found.first(Static)).strip() if found else ""


async def walk_tui(pilot: Any, app: Any, *, actions: bool) -> dict[str, str]:
    """screen name → its text: the tree, every object's detail (describe, events and YAML
    tabs), with ``actions`` the probe and fix screens each finding offers, the
    findings, help, and every notification shown."""
    from tests.support.tui import wait_until

    seen: dict[str, str] = {}
    await pilot.press("E")  # expand everything, where the tree has the key
    await pilot.pause()
    seen["tree"] = screen_text(app)
    a = app.analysis
    assert a is not None
    objs = a.graph.objs
    ids = list(dict.fromkeys([*a.graph.nodes, *(
        str(Ref.of(o)) for k in objs.kinds() for o in objs.of_kind(k))]))
    for node_id in ids:
        # the three tabs' Statics are all filled when the screen mounts: one visit reads
        # describe, events and YAML (scrolled-out parts included); the screenshot adds the
        # frame around them
        app.open_detail(node_id)
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DetailScreen"
                         and bool(_describe_text(app)), 5, f"detail of {node_id}")
        seen[f"detail {node_id}"] = screen_text(app)
        if actions:
            for act in list(getattr(app.screen, "actions", []) or []):
                if not act.key:
                    continue
                app.screen.action_run_action(int(act.key))  # what pressing its key does
                want = "ProbeScreen" if act.kind == "probe" else "FixScreen"
                await wait_until(pilot, lambda w=want: type(app.screen).__name__ in (
                    w, "PodConfirmScreen"), 5, want)
                await pilot.pause(0.3)  # the plan / availability is filled in by a worker
                seen[f"{act.kind} {act.id} on {node_id}"] = screen_text(app)
                while type(app.screen).__name__ != "DetailScreen":
                    app.pop_screen()
                    await pilot.pause(0.02)
        app.pop_screen()
        await pilot.pause(0.02)
        if hasattr(app, "open_timeline") and node_id.count("/") == 2:
            app.open_timeline(node_id)  # logs + Events
            await wait_until(pilot, lambda: type(app.screen).__name__ == "TimelineScreen", 5,
                             "timeline")
            await pilot.pause(0.2)
            seen[f"timeline {node_id}"] = screen_text(app, shot=False)
            app.pop_screen()
            await pilot.pause(0.02)
    app.open_findings()
    await wait_until(pilot, lambda: type(app.screen).__name__ == "FindingsScreen", 5,
                     "findings")
    await pilot.pause()
    seen["findings"] = screen_text(app)
    app.pop_screen()
    await pilot.pause()
    app.action_help()
    await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", 5, "help")
    seen["help"] = screen_text(app)
    app.pop_screen()
    await pilot.pause()
    seen["notifications"] = "\n".join(str(n.message) for n in app._notifications)
    return seen


def assert_screens_clean(seen: dict[str, str]) -> None:
    bad = {ch: leaks(text) for ch, text in seen.items() if leaks(text)}
    assert not bad, "TUI leaked: " + "; ".join(
        f"{ch}: {sorted(found)} (…{next(iter(found.values()))!r}…)"
        for ch, found in bad.items())


async def test_tui_screens(bundle_path: Path) -> None:
    """Every screen of the TUI on the planted bundle (``--from-file``)."""
    from kubectl_certdoctor.app import CertDoctorApp, demo_clock
    from kubectl_certdoctor.source import StaticSource
    from tests.support.tui import settle

    app = CertDoctorApp(StaticSource.of(load_bundle(bundle_path)), clock=demo_clock(NOW))
    with collected_logs() as logs:
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(pilot, app)
            seen = await walk_tui(pilot, app, actions=True)
    assert any(k.startswith("fix ") for k in seen) and any(k.startswith("probe ") for k in seen)
    assert "cert-manager-controller" in seen[f"detail Deployment/{CM_NS}/cert-manager"]
    seen["log records"] = "\n".join(logs.lines)
    assert_screens_clean(seen)


# ------------------------------------------------------------------ a live cluster


def _kubeconfig(admin: Path, out: Path) -> Path:
    """The admin kubeconfig plus contexts whose credentials are canaries: a static token, an
    exec plugin with a canary in its env, a proxy URL with ``user:password@``. The current
    context stays the admin's, so every live run reads a file that carries them."""
    kc = yaml.safe_load(admin.read_text(encoding="utf-8"))
    ctx = next(x for x in kc["contexts"] if x["name"] == kc["current-context"])["context"]
    server = next(x for x in kc["clusters"] if x["name"] == ctx["cluster"])["cluster"]
    kc["users"] += [
        {"name": "canary-token", "user": {"token": c("kubeconfig-token")}},
        {"name": "canary-exec", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1", "command": "false",
            "interactiveMode": "Never",
            "env": [{"name": "VAULT_TOKEN", "value": c("kubeconfig-exec-env")}]}}},
    ]
    kc["clusters"].append({"name": "canary-proxy", "cluster": {
        **server, "proxy-url": f"http://proxyuser:{c('kubeconfig-proxy-url')}@127.0.0.1:9"}})
    kc["clusters"].append({"name": "canary-server", "cluster": {
        **server, "server": server["server"].replace(
            "https://", f"https://apiuser:{c('kubeconfig-server-userinfo')}@")}})
    kc["contexts"] += [
        {"name": "canary-token", "context": {**ctx, "user": "canary-token"}},
        {"name": "canary-exec", "context": {**ctx, "user": "canary-exec"}},
        {"name": "canary-proxy", "context": {**ctx, "cluster": "canary-proxy"}},
        {"name": "canary-server", "context": {**ctx, "cluster": "canary-server"}},
    ]
    out.write_text(yaml.safe_dump(kc), encoding="utf-8")
    return out


@pytest.mark.integration
def test_live_cluster(control_plane: Any, admin_api: Any, namespace: str, tmp_path: Path,
                      capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The planted objects in the real test API server (the controller in its own
    namespace, the chain in the test namespace), then every CLI channel against it: ``check``
    in each format as the real CLI, ``dump``, the ``no-proxy`` and ``account`` probes, fix
    previews with their server-side dry runs and audit entries, connection errors of the
    canary contexts, and every log record."""
    from kubernetes.client import AppsV1Api

    from tests.support.apply import apply_objects

    apply_objects(admin_api, planted(), namespace, keep_namespaces=True)
    raw = AppsV1Api(admin_api).read_namespaced_deployment("cert-manager", CM_NS).to_dict()
    assert c("arg-flag-equals") in json.dumps(raw, default=str)  # really planted
    kc = _kubeconfig(Path(control_plane.admin_kubeconfig), tmp_path / "kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(kc))
    state = tmp_path / "state"
    monkeypatch.setenv("CERTDOCTOR_STATE_DIR", str(state))
    env = {**os.environ, "KUBECONFIG": str(kc), "NO_COLOR": "1",
           "CERTDOCTOR_STATE_DIR": str(state)}
    seen: dict[str, str] = {}
    for fmt in ("text", "json", "markdown"):
        p = subprocess.run([sys.executable, "-m", "kubectl_certdoctor", "check", "-A", "-o",
                            fmt], capture_output=True, text=True, env=env, cwd=REPO,
                           timeout=180)
        assert p.returncode in (0, 1), p.stderr
        seen[f"live check -A -o {fmt}"] = p.stdout + p.stderr
    assert "cert-manager-canary" in seen["live check -A -o json"] or \
        "PROXY" in seen["live check -A -o json"]
    _, seen["live check -n NS -o json"] = run_cli(["check", "-n", namespace, "-o", "json"],
                                                  capsys)
    dump = tmp_path / "live-dump.yaml"
    code, out = run_cli(["dump", "-A", "-o", str(dump)], capsys)
    assert code == 0, out
    seen["live dump"] = out + dump.read_text(encoding="utf-8")
    assert "cert-manager-controller" in seen["live dump"]
    code, out = run_cli(["probe", "no-proxy", "-o", "json", "-n", CM_NS], capsys)
    assert "proxy.corp.test" in out, out
    seen["live probe no-proxy"] = out
    _, seen["live probe account"] = run_cli(["probe", "account", "clusterissuer/acme", "-o",
                                             "json", "-n", namespace], capsys)
    for fix, extra in (("set-recursive-nameservers", ["--set", "nameservers=127.0.0.1:53"]),
                       ("add-no-proxy", [])):
        code, out = run_cli(["fix", fix, "deployment/cert-manager", "-n", CM_NS, *extra,
                             "--dry-run", "--yes"], capsys)
        assert "dry run" in out, out
        seen[f"live fix {fix} --dry-run"] = out
    log = (state / "audit.jsonl").read_text(encoding="utf-8")
    assert log.count("\n") == 2
    seen["live audit log"] = log
    for ctx in ("canary-token", "canary-exec", "canary-proxy", "canary-server"):
        for cmd in (["check", "-A"], ["dump", "-A"],
                    ["fix", "set-recursive-nameservers", "deployment/cert-manager", "-n", CM_NS,
                     "--set", "nameservers=127.0.0.1:53", "--dry-run", "--yes"]):
            code, out = run_cli([*cmd, "--context", ctx, "--request-timeout", "3s"], capsys)
            seen[f"{cmd[0]} --context {ctx}"] = out
    # the context whose server URL carries user:password@ works, and its fix is audited
    seen["live audit log (canary contexts)"] = log = (state / "audit.jsonl").read_text(
        encoding="utf-8")
    assert '"context": "canary-server"' in log, log
    bad = {ch: leaks(text) for ch, text in seen.items() if leaks(text)}
    assert not bad, "live channels leaked: " + "; ".join(
        f"{ch}: {sorted(found)} (…{next(iter(found.values()))!r}…)"
        for ch, found in bad.items())


@pytest.mark.integration
async def test_live_tui(control_plane: Any, admin_api: Any, namespace: str,
                        tmp_path: Path) -> None:
    """The TUI on the live store (LIST+WATCH, sanitised on arrival) over the planted
    cluster, opened from the kubeconfig that carries the canary contexts: every screen, and
    the context list (``c``)."""
    from kubectl_certdoctor.app import CertDoctorApp
    from kubectl_certdoctor.options import Options
    from kubectl_certdoctor.source import LiveSource
    from tests.support.apply import apply_objects
    from tests.support.tui import wait_until

    apply_objects(admin_api, planted(), namespace, keep_namespaces=True)
    kc = _kubeconfig(Path(control_plane.admin_kubeconfig), tmp_path / "kubeconfig")
    opts = Options(kubeconfig=str(kc), request_timeout=3, all_namespaces=True)
    app = CertDoctorApp(LiveSource.connect(opts), opts=opts)
    with collected_logs() as logs:
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_until(pilot, lambda: app.analysis is not None and app.analysis.graph.objs
                             .get("Deployment", CM_NS, "cert-manager") is not None and any(
                                 o for o in app.analysis.graph.objs.of_kind("Event")), 30,
                             "the planted objects in the live tree")
            await pilot.pause(0.5)
            seen = await walk_tui(pilot, app, actions=False)
            await pilot.press("c")
            await wait_until(pilot, lambda: type(app.screen).__name__ == "PickScreen", 5)
            seen["context list"] = screen_text(app)
            assert "canary-token" in seen["context list"]
            await pilot.press("escape")
    assert "cert-manager-controller" in seen[f"detail Deployment/{CM_NS}/cert-manager"]
    seen["log records"] = "\n".join(logs.lines)
    assert_screens_clean(seen)
