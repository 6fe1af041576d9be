"""Issuer set-up codes on small inline objects: ISSUER_SERVER_TLS_UNTRUSTED,
CA_ISSUER_SECRET_NOT_FOUND, CA_ISSUER_KEYPAIR_INVALID, WEBHOOK_NOT_RUNNING.

Messages are cert-manager's wording at the tags cited in kubectl_certdoctor/rules/
issuer_setup.py, with the error texts users reported (issue URL next to each).
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubectl_certdoctor.graph import build_graph
from kubectl_certdoctor.objects import Obj
from kubectl_certdoctor.rules import run_rules
from kubectl_certdoctor.rules.finding import Finding, Severity
from kubectl_certdoctor.rules.issuer_setup import tls_failure
from tests.support.diagnosis import (
    NOW,
    certificate,
    codes,
    cond,
    controller,
    findings,
    issuer,
    meta,
    objset,
    request,
    secret,
    ts,
)

CODES = ("ISSUER_SERVER_TLS_UNTRUSTED", "CA_ISSUER_SECRET_NOT_FOUND",
         "CA_ISSUER_KEYPAIR_INVALID", "WEBHOOK_NOT_RUNNING")
STUCK = "ISSUANCE_STUCK_UNRECOGNISED"


def one(code: str, *objs: Obj) -> Finding:
    found = [f for f in findings(*objs) if f.code == code]
    assert len(found) == 1, [(f.code, f.title) for f in findings(*objs)]
    return found[0]


def stuck_cert(iss: str, kind: str = "Issuer", ns: str = "default") -> Obj:
    """A Certificate not Ready for two hours under the issuer (the fallback's target)."""
    c = certificate("app", ns, issuer=iss, kind=kind, ready="False",
                    message="Issuing certificate as Secret does not exist")
    c["status"]["conditions"][0]["lastTransitionTime"] = ts(-timedelta(hours=2))
    return c


def pem_cert(cn: str, ca: bool, self_signed: bool = True) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    issuer_name = name if self_signed else x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "Some Root")])
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name)
         .public_key(key.public_key()).serial_number(1)
         .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=300))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def failed_request(name: str, cert: str, ns: str, iss: str, kind: str, reason: str,
                   message: str) -> Obj:
    return request(name, cert, ns, conds=[cond("Approved", "True", "cert-manager.io", "ok"),
                                          cond("Ready", "False", reason, message)],
                   issuer=iss, kind=kind)


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


# -- ISSUER_SERVER_TLS_UNTRUSTED -------------------------------------------------------

ACME_URL = "https://acme.internal.example/acme/directory"
# cert-manager#7332 (v1.15.3, Go ≥ 1.20 prefix): https://github.com/cert-manager/cert-manager/issues/7332
ACME_UNKNOWN = ('Failed to register ACME account: Get "https://acme.internal.example/acme/'
                'directory": tls: failed to verify certificate: x509: certificate signed by '
                'unknown authority')
# v1.0–v1.3 wording (setup.go@v1.3.3 "Failed to verify ACME account"), Go < 1.20 (no prefix)
ACME_UNKNOWN_OLD = ('Failed to verify ACME account: Get "https://acme.internal.example/acme/'
                    'directory": x509: certificate signed by unknown authority (possibly '
                    'because of "crypto/rsa: verification error" while trying to verify '
                    'candidate authority certificate "Corp Root")')
# truecharts#12167 (v1.12.3): https://github.com/trueforge-org/truecharts/issues/12167
LE_WRONG_NAME = ('Failed to register ACME account: Get "https://acme-v02.api.letsencrypt.org/'
                 'directory": tls: failed to verify certificate: x509: certificate is valid '
                 'for 1f13b7337240568fb138b57f85cd786a.41afac4b5eff697757ccfff11ab9b1ec.'
                 'traefik.default, not acme-v02.api.letsencrypt.org')
# cert-manager#6181 comment (v1.12): https://github.com/cert-manager/cert-manager/issues/6181
LE_EXPIRED = ('Failed to register ACME account: Get "https://acme-v02.api.letsencrypt.org/'
              'directory": tls: failed to verify certificate: x509: certificate has expired or '
              'is not yet valid: current time 2023-08-01T17:57:51Z is after '
              '2022-06-22T20:05:55Z')
LE_UNKNOWN = ('Failed to register ACME account: Get "https://acme-v02.api.letsencrypt.org/'
              'directory": tls: failed to verify certificate: x509: certificate signed by '
              'unknown authority')
# palimarium/istio-vault-ca#1 (v1.3.1): https://github.com/palimarium/istio-vault-ca/issues/1
VAULT_UNKNOWN = ('Failed to initialize Vault client: error reading Kubernetes service account '
                 'token from vault-issuer-token-bhmhx: error calling Vault server: Post '
                 '"https://vault.domain.com:8200/v1/auth/aks1-test/login": x509: certificate '
                 'signed by unknown authority')
# v1.12+ wrapper (internal/vault/vault.go "while requesting a Vault token using the
# Kubernetes auth: %w"), Go ≥ 1.20
VAULT_UNKNOWN_NEW = ('Failed to initialize Vault client: while requesting a Vault token using '
                     'the Kubernetes auth: error calling Vault server: Post "https://vault.'
                     'domain.com:8200/v1/auth/kubernetes/login": tls: failed to verify '
                     'certificate: x509: certificate signed by unknown authority')
VAULT_IP_SAN = ('Failed to initialize Vault client: error logging in to Vault server: Put '
                '"https://10.0.0.12:8200/v1/auth/approle/login": x509: cannot validate '
                "certificate for 10.0.0.12 because it doesn't contain any IP SANs")


def acme(name: str, msg: str, server: str = ACME_URL, ns: str | None = "default",
         reason: str = "ErrRegisterACMEAccount", extra: dict[str, Any] | None = None) -> Obj:
    spec: dict[str, Any] = {"acme": {"server": server, "privateKeySecretRef": {"name": "k"},
                                     "solvers": [{"http01": {"ingress": {}}}]}}
    spec["acme"].update(extra or {})
    return issuer(name, ns, ready="False", reason=reason, message=msg, spec=spec)


def vault(name: str, msg: str, ns: str | None = "default", server: str =
          "https://vault.domain.com:8200", extra: dict[str, Any] | None = None,
          ready: str = "False") -> Obj:
    v: dict[str, Any] = {"server": server, "path": "pki/sign/r",
                         "auth": {"kubernetes": {"role": "cm", "secretRef": {"name": "t"}}}}
    v.update(extra or {})
    return issuer(name, ns, ready=ready, reason="VaultError" if ready == "False" else
                  "VaultVerified", message=msg, spec={"vault": v})


@pytest.mark.parametrize("msg", [ACME_UNKNOWN, ACME_UNKNOWN_OLD])
def test_tls_untrusted_private_acme(msg: str) -> None:
    root = pem_cert("Corp Root", ca=True)
    f = one("ISSUER_SERVER_TLS_UNTRUSTED", controller("v1.15.3"),
            acme("internal", msg, extra={"caBundle": b64(root)}))
    assert f.severity is Severity.ERROR
    assert f.object.name == "internal"
    assert "acme.internal.example" in f.title
    assert any("certificate signed by unknown authority" in e for e in f.evidence)
    assert any("spec.acme.caBundle: set" in e and "Corp Root" in e for e in f.evidence)
    assert "ROOT CA" in f.remedy and f.remedy[0].isupper()


def test_tls_untrusted_cabundle_with_intermediate_only() -> None:
    inter = pem_cert("Corp Intermediate CA", ca=True, self_signed=False)
    f = one("ISSUER_SERVER_TLS_UNTRUSTED", controller("v1.15.3"),
            acme("internal", ACME_UNKNOWN, extra={"caBundle": b64(inter)}))
    assert any("none is a self-signed root" in e for e in f.evidence)


def test_tls_untrusted_acme_before_cabundle_field() -> None:
    f = one("ISSUER_SERVER_TLS_UNTRUSTED", controller("v1.8.2"), acme("internal", ACME_UNKNOWN))
    assert "no spec.acme.caBundle (added in v1.11.0)" in f.remedy
    assert any("caBundle: not set" in e for e in f.evidence)


def test_tls_untrusted_acme_unknown_version_says_so() -> None:
    f = one("ISSUER_SERVER_TLS_UNTRUSTED", acme("internal", ACME_UNKNOWN))
    assert any("version unknown" in e for e in f.evidence)
    assert "set spec.acme.cabundle" in f.remedy.lower()


def test_tls_wrong_name_is_dns_not_cabundle() -> None:
    f = one("ISSUER_SERVER_TLS_UNTRUSTED", controller("v1.12.3"),
            acme("cloudflare", LE_WRONG_NAME, server="https://acme-v02.api.letsencrypt.org/"
                 "directory", ns=None))
    assert f.data["family"] == "wrong-name"
    assert "traefik.default" in f.remedy and "ndots" in f.remedy
    assert "ACME_SERVER_UNREACHABLE" not in codes(
        controller("v1.12.3"), acme("c", LE_WRONG_NAME, ns=None,
                                    server="https://acme-v02.api.letsencrypt.org/directory"))


def test_tls_public_ca_unknown_authority_means_interception() -> None:
    f = one("ISSUER_SERVER_TLS_UNTRUSTED", controller("v1.14.0"),
            acme("le", LE_UNKNOWN, server="https://acme-v02.api.letsencrypt.org/directory"))
    assert "proxy" in f.remedy and "public CA" in f.remedy


def test_tls_expired_server_certificate() -> None:
    f = one("ISSUER_SERVER_TLS_UNTRUSTED", controller("v1.12.0"),
            acme("le", LE_EXPIRED, server="https://acme-v02.api.letsencrypt.org/directory"))
    assert f.data["family"] == "expired" and "clock" in f.remedy


@pytest.mark.parametrize("msg,version", [(VAULT_UNKNOWN, "v1.3.1"),
                                         (VAULT_UNKNOWN_NEW, "v1.14.5")])
def test_tls_untrusted_vault(msg: str, version: str) -> None:
    objs = [controller(version), vault("vault-ca", msg, ns="istio-system")]
    f = one("ISSUER_SERVER_TLS_UNTRUSTED", *objs)
    assert "Vault server vault.domain.com" in f.title
    assert any("caBundle and caBundleSecretRef: not set" in e for e in f.evidence)
    assert "spec.vault.caBundle" in f.remedy
    assert ("caBundleSecretRef" in f.remedy) == (version != "v1.3.1")
    got = codes(*objs)
    assert "VAULT_AUTH_FAILED" not in got and "ISSUER_NOT_READY" not in got


def test_tls_vault_ip_san() -> None:
    f = one("ISSUER_SERVER_TLS_UNTRUSTED", controller("v1.12.0"),
            vault("v", VAULT_IP_SAN, server="https://10.0.0.12:8200"))
    assert f.data["family"] == "ip-san" and "DNS name" in f.remedy


def test_tls_vault_token_auth_seen_on_request() -> None:
    """Token auth is not checked at set-up (v1.8–v1.15): the x509 error shows on signing."""
    iss = vault("v", "Vault verified", ready="True",
                extra={"auth": {"tokenSecretRef": {"name": "tok", "key": "token"}}})
    cert = certificate("app", issuer="v", ready="False")
    cr = failed_request("app-1", "app", "default", "v", "Issuer", "Failed",
                        'Vault failed to sign certificate: failed to sign certificate by '
                         'vault: Put "https://vault.domain.com:8200/v1/pki/sign/r": tls: '
                         'failed to verify certificate: x509: certificate signed by unknown '
                         'authority')
    f = one("ISSUER_SERVER_TLS_UNTRUSTED", controller("v1.14.0"), iss, cert, cr)
    assert f.object.kind == "Issuer"
    assert any(e.startswith("CertificateRequest default/app-1") for e in f.evidence)


@pytest.mark.parametrize("msg", [
    # network errors are ACME_SERVER_UNREACHABLE's (cert-manager#3394)
    'Failed to verify ACME account: Get "https://acme-staging-v02.api.letsencrypt.org/'
    'directory": dial tcp 188.142.193.142:443: connect: connection refused',
    # a TLS alert from the server is not a certificate verification failure (#6423)
    'Failed to register ACME account: Get "https://acme-staging-v02.api.letsencrypt.org/'
    'directory": remote error: tls: internal error',
    # a CA's 4xx
    "Failed to register ACME account: 400 urn:ietf:params:acme:error:invalidContact: "
    "Error creating new account :: contact email has forbidden domain",
])
def test_tls_untrusted_near_misses(msg: str) -> None:
    assert "ISSUER_SERVER_TLS_UNTRUSTED" not in codes(controller(), acme("a", msg))


def test_tls_failure_ignores_key_parse_errors() -> None:
    assert tls_failure("error parsing ecdsa private key: x509: failed to parse EC private "
                       "key: asn1: structure error: length too large") is None


# -- CA_ISSUER_SECRET_NOT_FOUND --------------------------------------------------------

# cert-manager#7120 (v1.15.0): https://github.com/cert-manager/cert-manager/issues/7120
NF_API = 'Error getting keypair for CA issuer: secrets "ca-key-pair" not found'
# lister wording before the filtered Secrets lister (v1.0–v1.11)
NF_LISTER = 'Error getting keypair for CA issuer: secret "ca-key-pair" not found'
CHART_ARGS = ["--v=2", "--cluster-resource-namespace=$(POD_NAMESPACE)"]


def chart_controller(version: str = "v1.15.0") -> Obj:
    c = controller(version, args=CHART_ARGS)
    c["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}]
    return c


def ca(name: str, ns: str | None, msg: str = "", ready: str = "False",
       reason: str = "ErrGetKeyPair", sn: str = "ca-key-pair") -> Obj:
    return issuer(name, ns, ready=ready, reason=reason, message=msg,
                  spec={"ca": {"secretName": sn}})


@pytest.mark.parametrize("msg", [NF_API, NF_LISTER])
def test_ca_secret_in_wrong_namespace_for_clusterissuer(msg: str) -> None:
    objs = [chart_controller(), ca("ca-issuer", None, msg), secret("ca-key-pair", "default"),
            secret("other", "cert-manager"), stuck_cert("ca-issuer", "ClusterIssuer", "web")]
    f = one("CA_ISSUER_SECRET_NOT_FOUND", *objs)
    assert f.severity is Severity.ERROR
    assert "namespace cert-manager" in f.title  # $(POD_NAMESPACE) expanded
    assert any("exists in namespace(s) default" in e for e in f.evidence)
    assert any("not found" in e for e in f.evidence)
    assert "kubectl apply -n cert-manager" in f.remedy and "namespaced Issuer" in f.remedy
    got = codes(*objs)
    assert STUCK not in got and "ISSUER_NOT_READY" not in got
    assert "CA_ISSUER_KEYPAIR_INVALID" not in got


def test_ca_secret_missing_for_namespaced_issuer() -> None:
    f = one("CA_ISSUER_SECRET_NOT_FOUND", controller(), ca("team-ca", "team", NF_API))
    assert "kubectl create secret tls ca-key-pair" in f.remedy and "-n team" in f.remedy


def test_ca_secret_absent_without_message_when_secrets_visible() -> None:
    iss = ca("team-ca", "team", ready="Unknown", reason="")
    f = one("CA_ISSUER_SECRET_NOT_FOUND", controller(), iss, secret("x", "team"))
    assert any("no Secret team/ca-key-pair in the snapshot" in e for e in f.evidence)
    # Secrets could not be read: the absence proves nothing
    objs = objset(controller(), iss, secret("x", "team"))
    objs.unseen = frozenset({"Secret"})
    assert "CA_ISSUER_SECRET_NOT_FOUND" not in {
        f.code for f in run_rules(build_graph(objs, NOW), NOW)}
    # no Secret of that namespace in the snapshot at all: not judged
    assert "CA_ISSUER_SECRET_NOT_FOUND" not in codes(controller(), iss)


def test_ca_secret_request_referenced_not_found() -> None:
    """cert-manager#4136: a Ready issuer, the signer cannot find the Secret."""
    iss = ca("ncaa-ca-issuer", None, "Signing CA verified", ready="True",
             reason="KeyPairVerified", sn="ncaa-ca")
    cert = certificate("nf1", "ns1", issuer="ncaa-ca-issuer", kind="ClusterIssuer",
                       ready="False")
    cr = failed_request("nf1-1", "nf1", "ns1", "ncaa-ca-issuer", "ClusterIssuer", "Pending",
                        'Referenced secret nti-security/ncaa-ca not found: secret "ncaa-ca" '
                         'not found')
    f = one("CA_ISSUER_SECRET_NOT_FOUND", controller(), iss, cert, cr)
    assert any("Referenced secret" in e for e in f.evidence)


def test_ca_secret_healthy_issuer_is_quiet() -> None:
    objs = [chart_controller(), ca("ca", None, "Signing CA verified", ready="True",
                                   reason="KeyPairVerified"),
            secret("ca-key-pair", "cert-manager")]
    assert not {f.code for f in findings(*objs)
                if f.severity in (Severity.ERROR, Severity.WARNING)}


# -- CA_ISSUER_KEYPAIR_INVALID ---------------------------------------------------------

NOT_A_CA = "Error getting keypair for CA issuer: certificate is not a CA"
# cert-manager#5268 (v1.8.2): https://github.com/cert-manager/cert-manager/issues/5268
KEY_NOT_PEM = "Error getting keypair for CA issuer: error decoding private key PEM block"
# v1.16+ adds the PEM decoder's reason (pkg/util/pki/parse.go@v1.21.1)
KEY_NOT_PEM_NEW = ("Error getting keypair for CA issuer: error decoding private key PEM "
                   "block: no PEM data was found in given input")
# cert-manager#4216: https://github.com/cert-manager/cert-manager/issues/4216
KEY_BAD_EC = ("Error getting keypair for CA issuer: error parsing ecdsa private key: x509: "
              "failed to parse EC private key: asn1: structure error: length too large")
CERT_NOT_PEM = "Error getting keypair for CA issuer: error decoding certificate PEM block"
KEY_MISSING = ("Error getting keypair for CA issuer: no data for \"tls.key\" in secret "
               "'pki/root'")


def ca_secret_with(ns: str, name: str, crt: bytes) -> Obj:
    s = secret(name, ns)
    s["type"] = "kubernetes.io/tls"
    s["data"] = {"tls.crt": b64(crt)}
    return s


def test_ca_keypair_not_a_ca_names_bootstrap_certificate() -> None:
    """epinio/epinio#613, cert-manager#279: the bootstrap Certificate lacks isCA."""
    boot = certificate("root", "cert-manager", issuer="selfsigned", kind="ClusterIssuer")
    boot["spec"]["secretName"] = "root-ca"
    objs = [chart_controller("v1.4.0"), issuer("selfsigned", None),
            ca("root-ca", None, NOT_A_CA, reason="ErrInvalidKeyPair", sn="root-ca"), boot,
            ca_secret_with("cert-manager", "root-ca", pem_cert("root", ca=False)),
            stuck_cert("root-ca", "ClusterIssuer", "web")]
    f = one("CA_ISSUER_KEYPAIR_INVALID", *objs)
    assert f.severity is Severity.ERROR and f.data["case"] == "not-ca"
    assert any("basicConstraints CA:FALSE" in e for e in f.evidence)
    assert any("spec.isCA: unset" in e for e in f.evidence)
    assert "Set spec.isCA: true on Certificate cert-manager/root" in f.remedy
    got = codes(*objs)
    assert STUCK not in got and "ISSUER_NOT_READY" not in got


def test_ca_keypair_not_a_ca_imported_secret() -> None:
    f = one("CA_ISSUER_KEYPAIR_INVALID", controller(),
            ca("imp", "pki", NOT_A_CA, reason="ErrInvalidKeyPair", sn="imp"))
    assert "basicConstraints CA:TRUE" in f.remedy


@pytest.mark.parametrize("msg,case", [(KEY_NOT_PEM, "key"), (KEY_NOT_PEM_NEW, "key"),
                                      (KEY_BAD_EC, "key"), (CERT_NOT_PEM, "cert"),
                                      (KEY_MISSING, "missing")])
def test_ca_keypair_unparseable(msg: str, case: str) -> None:
    objs = [controller("v1.8.2"), ca("trust-anchor", "linkerd", msg, sn="root")]
    f = one("CA_ISSUER_KEYPAIR_INVALID", *objs)
    assert f.data["case"] == case
    assert "kubectl create secret tls root" in f.remedy
    assert any("Error getting keypair for CA issuer" in e for e in f.evidence)
    got = codes(*objs)
    assert "CA_ISSUER_SECRET_NOT_FOUND" not in got
    assert "ISSUER_SERVER_TLS_UNTRUSTED" not in got


def test_ca_keypair_mismatch_from_signing() -> None:
    iss = ca("ca", "pki", "Signing CA verified", ready="True", reason="KeyPairVerified")
    cert = certificate("app", "pki", issuer="ca", ready="False")
    cr = failed_request("app-1", "app", "pki", "ca", "Issuer", "Failed",
                        "Error signing certificate: error creating x509 certificate: x509: "
                         "provided PrivateKey doesn't match parent's PublicKey")
    f = one("CA_ISSUER_KEYPAIR_INVALID", controller(), iss, cert, cr)
    assert f.data["case"] == "mismatch" and "openssl" in f.remedy


# -- WEBHOOK_NOT_RUNNING ---------------------------------------------------------------

def webhook(ready: int = 0, replicas: int = 1, image: str =
            "quay.io/jetstack/cert-manager-webhook:v1.5.3", app: str = "webhook",
            name: str = "cert-manager-webhook") -> Obj:
    lb = {"app": app, "app.kubernetes.io/name": app, "app.kubernetes.io/instance":
          "cert-manager", "app.kubernetes.io/component": "webhook"}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta(name, "cert-manager", labels=lb),
            "spec": {"replicas": replicas, "selector": {"matchLabels": lb},
                     "template": {"metadata": {"labels": lb}, "spec": {"containers": [
                         {"name": "cert-manager-webhook", "image": image}]}}},
            "status": {"observedGeneration": 1, "replicas": replicas,
                       **({"readyReplicas": ready} if ready else {}),
                       "conditions": [{"type": "Available",
                                       "status": "True" if ready else "False",
                                       "reason": "MinimumReplicasAvailable" if ready
                                       else "MinimumReplicasUnavailable"}]}}


def webhook_pod(dep: Obj, waiting: str = "CrashLoopBackOff") -> Obj:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": meta("cert-manager-webhook-6d4b9c8f5-x2kfp", "cert-manager",
                             labels=dict(dep["spec"]["template"]["metadata"]["labels"])),
            "status": {"phase": "Running", "containerStatuses": [{
                "name": "cert-manager-webhook", "ready": False, "restartCount": 37,
                "state": {"waiting": {"reason": waiting}},
                "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}]}}


def renewing_cert() -> Obj:
    """cert-manager#4453: renewal due, Issuing=True Renewing, no request for revision 4."""
    c = certificate("api-tls", "api", issuer="le", kind="ClusterIssuer", ready="True",
                    status={"revision": 3})
    c["status"]["conditions"].append(
        {**cond("Issuing", "True", "Renewing", "Renewing certificate as renewal was "
                "scheduled at 2026-11-21 07:00:00 +0000 UTC"),
         "lastTransitionTime": ts(-timedelta(days=2))})
    old = request("api-tls-3", "api-tls", "api", revision=3, issuer="le",
                  kind="ClusterIssuer")
    return [c, old]  # type: ignore[return-value]


def test_webhook_crashloop_blocks_renewal() -> None:
    dep = webhook()
    cert, old = renewing_cert()  # type: ignore[misc]
    objs = [controller("v1.5.3"), dep, webhook_pod(dep),
            issuer("le", None, spec={"acme": {"server": "https://acme-v02.api.letsencrypt."
                                              "org/directory"}}), cert, old]
    f = one("WEBHOOK_NOT_RUNNING", *objs)
    assert f.severity is Severity.ERROR
    assert f.object.kind == "Deployment" and f.object.name == "cert-manager-webhook"
    assert "crash-looping" in f.title
    assert any("CrashLoopBackOff" in e for e in f.evidence)
    assert any("no CertificateRequest for revision 4" in e for e in f.evidence)
    assert "kubectl logs -n cert-manager deploy/cert-manager-webhook" in f.remedy
    assert STUCK not in codes(*objs)


def test_webhook_scaled_to_zero() -> None:
    f = one("WEBHOOK_NOT_RUNNING", webhook(replicas=0))
    assert "scaled to zero" in f.title


def test_webhook_healthy_and_dns_solver_webhooks_are_quiet() -> None:
    assert "WEBHOOK_NOT_RUNNING" not in codes(webhook(ready=1))
    solver = webhook(image="zmejg/cert-manager-webhook-hetzner:1.3.1",
                     app="cert-manager-webhook-hetzner", name="cert-manager-webhook-hetzner")
    assert "WEBHOOK_NOT_RUNNING" not in codes(solver, webhook(ready=1))


# -- common ----------------------------------------------------------------------------

def test_every_code_has_a_catalog_remedy() -> None:
    from kubectl_certdoctor.rules.catalog import CATALOG
    for code in CODES:
        e = CATALOG[code]
        assert e.fix and e.checked and e.severity is Severity.ERROR
        assert "@" not in e.checked or "at v1" in e.checked


def test_healthy_issuers_give_no_error() -> None:
    objs = [chart_controller("v1.21.1"),
            vault("vault", "Vault verified", ready="True"),
            ca("ca", None, "Signing CA verified", ready="True", reason="KeyPairVerified"),
            secret("ca-key-pair", "cert-manager"),
            issuer("le", None, reason="ACMEAccountRegistered",
                   message="The ACME account was registered with the ACME server",
                   spec={"acme": {"server": "https://acme-v02.api.letsencrypt.org/directory",
                                  "privateKeySecretRef": {"name": "le"},
                                  "solvers": [{"dns01": {"cloudflare": {}}}]}}),
            webhook(ready=1)]
    bad = [f for f in findings(*objs) if f.severity is Severity.ERROR]
    assert not bad, [(f.code, f.title) for f in bad]
