"""Secret, private key, renewal and Vault codes (rules/secrets.py, renewal.py, vault.py).

Messages are cert-manager's own (file@tag cited in the rule modules) or Vault's answers as
quoted in public reports (URL next to each).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubectl_certdoctor.objects import Obj, Ref
from kubectl_certdoctor.rules.finding import Finding, Severity
from kubectl_certdoctor.rules.renewal import renew_before
from kubectl_certdoctor.versions import Version
from tests.support.diagnosis import (
    NOW,
    certificate,
    codes,
    cond,
    event,
    findings,
    issuer,
    meta,
    request,
    ts,
)


def of(code: str, *objs: Obj) -> list[Finding]:
    return [f for f in findings(*objs) if f.code == code]


def deployment(version: str = "v1.21.1", args: list[str] | None = None) -> Obj:
    c: dict[str, Any] = {"name": "cert-manager-controller",
                         "image": f"quay.io/jetstack/cert-manager-controller:{version}",
                         "args": args or ["--v=2"]}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta("cert-manager", "cert-manager", labels={
                "app.kubernetes.io/name": "cert-manager",
                "app.kubernetes.io/component": "controller"}),
            "spec": {"template": {"spec": {"containers": [c]}}}}


def pem(not_before: datetime, not_after: datetime, cn: str = "a.test") -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    crt = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
           .public_key(key.public_key()).serial_number(1)
           .not_valid_before(not_before).not_valid_after(not_after)
           .sign(key, hashes.SHA256()))
    return base64.b64encode(crt.public_bytes(serialization.Encoding.PEM)).decode()


def secret(name: str, ns: str = "default", annotations: dict[str, str] | None = None,
           labels: dict[str, str] | None = None, data: dict[str, str] | None = None,
           owners: list[dict[str, Any]] | None = None) -> Obj:
    md = meta(name, ns, annotations=annotations or {}, labels=labels or {})
    if owners:
        md["ownerReferences"] = owners
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "metadata": md,
            "data": data if data is not None else {"tls.crt": pem(NOW - timedelta(days=10),
                                                                  NOW + timedelta(days=80))}}


def cm_ann(cert: str, issuer_name: str = "iss") -> dict[str, str]:
    return {"cert-manager.io/certificate-name": cert, "cert-manager.io/issuer-name": issuer_name,
            "cert-manager.io/issuer-kind": "Issuer"}


def healthy_status(days: int = 80) -> dict[str, Any]:
    return {"notBefore": ts(-timedelta(days=90 - days)), "notAfter": ts(timedelta(days=days)),
            "renewalTime": ts(timedelta(days=days - 30)), "revision": 1}


def vault_issuer(name: str = "vault", ns: str | None = None, ready: str = "True",
                 reason: str = "VaultVerified", message: str = "Vault verified",
                 path: str = "pki_int/sign/example-dot-com",
                 auth: dict[str, Any] | None = None) -> Obj:
    return issuer(name, ns, ready=ready, reason=reason, message=message,
                  spec={"vault": {"server": "https://vault.vault:8200", "path": path,
                                  "auth": auth or {"appRole": {
                                      "path": "approle", "roleId": "role-1",
                                      "secretRef": {"name": "approle", "key": "secretId"}}}}})


def assert_common(f: Finding, severity: Severity = Severity.ERROR) -> None:
    assert f.severity is severity
    assert f.remedy and "?" not in f.remedy.replace("?)", "")
    assert f.evidence


# -- a healthy cluster: Vault, CA and ACME DNS-01 issuers, valid certificates -------------
def healthy_cluster() -> tuple[Obj, ...]:
    ca_nb, ca_na = NOW - timedelta(days=400), NOW + timedelta(days=3000)
    return (
        deployment(),
        issuer("selfsigned", None),
        certificate("root-ca", "cert-manager", issuer="selfsigned", kind="ClusterIssuer",
                    spec={"secretName": "root-ca", "isCA": True, "commonName": "root"},
                    status=healthy_status()),
        secret("root-ca", "cert-manager", annotations=cm_ann("root-ca", "selfsigned"),
               data={"tls.crt": pem(ca_nb, ca_na, "root")}),
        issuer("ca", None, spec={"ca": {"secretName": "root-ca"}}),
        issuer("le", None, spec={"acme": {
            "server": "https://acme-v02.api.letsencrypt.org/directory",
            "privateKeySecretRef": {"name": "le-account"},
            "solvers": [{"dns01": {"route53": {"region": "eu-west-1"}}}]}}),
        secret("le-account", "cert-manager", data={}),
        vault_issuer(),
        certificate("web", issuer="le", kind="ClusterIssuer", status=healthy_status()),
        secret("web-tls", annotations=cm_ann("web", "le")),
        request("web-1", "web", issuer="le", kind="ClusterIssuer"),
        certificate("internal", issuer="ca", kind="ClusterIssuer", status=healthy_status()),
        secret("internal-tls", annotations=cm_ann("internal", "ca")),
        certificate("svc", issuer="vault", kind="ClusterIssuer",
                    spec={"duration": "24h"},
                    status={"notBefore": ts(-timedelta(hours=2)),
                            "notAfter": ts(timedelta(hours=22)),
                            "renewalTime": ts(timedelta(hours=14)), "revision": 1}),
        secret("svc-tls", annotations=cm_ann("svc", "vault"),
               data={"tls.crt": pem(NOW - timedelta(hours=2), NOW + timedelta(hours=22)),
                     "ca.crt": pem(ca_nb, ca_na, "root")}),
    )


def test_healthy_cluster_has_no_errors_from_these_codes() -> None:
    found = findings(*healthy_cluster())
    assert [f for f in found if f.severity is Severity.ERROR] == [], \
        [(f.code, f.object) for f in found]


# -- SECRET_SHARED_BY_CERTIFICATES ---------------------------------------------------------
def shared(version: str, annotated: str | None = "a") -> tuple[Obj, ...]:
    a = certificate("a", spec={"secretName": "shared-tls"}, status=healthy_status())
    b = certificate("b", spec={"secretName": "shared-tls"}, dns=("b.test",), ready="False",
                    status={"conditions": [
                        cond("Ready", "False", "IncorrectCertificate",
                             'Secret was issued for "a". If this message is not transient, '
                             "you might have two conflicting Certificates pointing to the "
                             "same secret.")]})
    b["metadata"]["creationTimestamp"] = ts(-timedelta(hours=5))
    ann = cm_ann(annotated) if annotated else {}
    return (issuer("iss"), a, b, secret("shared-tls", annotations=ann), deployment(version))


def test_shared_secret_v1_21_names_owner_and_never_renews() -> None:
    fs = of("SECRET_SHARED_BY_CERTIFICATES", *shared("v1.21.1"))
    assert {f.object.name for f in fs} == {"a", "b"}
    b = next(f for f in fs if f.object.name == "b")
    assert_common(b)
    assert "does not own it (a does)" in b.title
    assert "skips the trigger" in b.explanation and "loop" not in b.explanation
    assert any("IncorrectCertificate" in e for e in b.evidence)
    assert any("cert-manager.io/certificate-name: a" in e for e in b.evidence)


def test_shared_secret_v1_13_loops() -> None:
    # v1.13.1: before the owner check (backported to v1.13.2), the Certificates fight
    fs = of("SECRET_SHARED_BY_CERTIFICATES", *shared("v1.13.1"))
    assert fs and all("loop" in f.explanation for f in fs)
    fs = of("SECRET_SHARED_BY_CERTIFICATES", *shared("v1.13.6"))
    assert fs and not any("loop" in f.explanation for f in fs)


def test_shared_secret_without_annotation_oldest_owns() -> None:
    # b was created 5h ago, a one day ago: a is the oldest
    fs = of("SECRET_SHARED_BY_CERTIFICATES", *shared("v1.21.1", annotated=None))
    a = next(f for f in fs if f.object.name == "a")
    assert "owns the Secret" in a.title and "oldest" in a.explanation


def test_shared_secret_other_namespace_is_not_shared() -> None:
    a = certificate("a", "ns1", spec={"secretName": "x"}, status=healthy_status())
    b = certificate("b", "ns2", spec={"secretName": "x"}, status=healthy_status())
    assert not of("SECRET_SHARED_BY_CERTIFICATES", issuer("iss", "ns1"), issuer("iss", "ns2"),
                  a, b)


def test_shared_secret_explains_stuck_certificate() -> None:
    assert "ISSUANCE_STUCK_UNRECOGNISED" not in codes(*shared("v1.21.1"))


# -- CERTIFICATE_RENEWAL_LOOP --------------------------------------------------------------
def test_renewal_loop_when_leaf_is_cut_at_ca_expiry() -> None:
    ca_end = NOW + timedelta(days=2)
    cert = certificate("leaf", issuer="ca", spec={"duration": "2160h", "renewBefore": "720h"},
                       status={"notBefore": ts(-timedelta(hours=1)),
                               "notAfter": ca_end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                               "revision": 7})
    sec = secret("leaf-tls", annotations=cm_ann("leaf", "ca"),
                 data={"tls.crt": pem(NOW - timedelta(hours=1), ca_end),
                       "ca.crt": pem(NOW - timedelta(days=700), ca_end, "ca")})
    objs = (issuer("ca", spec={"ca": {"secretName": "ca-kp"}}), cert, sec, deployment())
    (f,) = of("CERTIFICATE_RENEWAL_LOOP", *objs)
    assert_common(f)
    assert any("Certificate.status notBefore" in e for e in f.evidence)
    assert any("cut at the CA's own expiry" in e for e in f.evidence)


def test_renewal_loop_from_status_renewal_time_at_not_before() -> None:
    cert = certificate("leaf", spec={"duration": "1h", "renewBefore": "59m30s"},
                       status={"notBefore": ts(-timedelta(minutes=5)),
                               "notAfter": ts(timedelta(minutes=55)),
                               "renewalTime": ts(-timedelta(minutes=4, seconds=30)),
                               "revision": 40})
    (f,) = of("CERTIFICATE_RENEWAL_LOOP", issuer("iss"), cert, deployment())
    assert 'Certificate.status.renewalTime: "' in " ".join(f.evidence)
    assert "re-issues as soon as it has issued" in f.explanation


def test_renewal_loop_old_default_30d_on_a_30d_certificate() -> None:
    # v1.0/v1.1: renewBefore defaults to 30 days and is only dropped when LONGER than the
    # issued duration: a 720h certificate renews at its notBefore
    cert = certificate("leaf", spec={"duration": "720h"},
                       status={"notBefore": ts(-timedelta(hours=1)),
                               "notAfter": ts(timedelta(hours=719)), "revision": 9})
    assert of("CERTIFICATE_RENEWAL_LOOP", issuer("iss"), cert, deployment("v1.1.0"))
    assert not of("CERTIFICATE_RENEWAL_LOOP", issuer("iss"), cert, deployment("v1.5.0"))


def test_renew_before_versions() -> None:
    d = timedelta(days=90)
    assert renew_before(d, {}, Version(1, 21, 1)) == d / 3
    assert renew_before(d, {"renewBefore": "2160h"}, None) == d / 3  # >= duration: ignored
    assert renew_before(d, {"renewBeforePercentage": 10}, Version(1, 16, 0)) == d * 0.9
    assert renew_before(d, {"renewBeforePercentage": 10}, Version(1, 16, 3)) == d * 0.1
    assert renew_before(d, {"renewBefore": "2160h"}, Version(1, 0, 4)) == d  # v1.0: '>' only


def test_no_renewal_loop_for_vault_role_max_ttl() -> None:
    # a Vault role caps the leaf at 72h, far from the CA's end: renewal after 48h is healthy
    cert = certificate("svc", issuer="vault", kind="ClusterIssuer",
                       status={"notBefore": ts(-timedelta(hours=1)),
                               "notAfter": ts(timedelta(hours=71)),
                               "renewalTime": ts(timedelta(hours=47)), "revision": 3})
    sec = secret("svc-tls", data={"tls.crt": pem(NOW - timedelta(hours=1),
                                                 NOW + timedelta(hours=71)),
                                  "ca.crt": pem(NOW - timedelta(days=9),
                                                NOW + timedelta(days=3000), "ca")})
    assert not of("CERTIFICATE_RENEWAL_LOOP", vault_issuer(), cert, sec, deployment())


# -- VAULT_AUTH_FAILED ---------------------------------------------------------------------
# https://github.com/cert-manager/cert-manager/issues/5563 (v1.9+, AppRole, 403)
APPROLE_403 = ("Failed to initialize Vault client: error logging in to Vault server: Error "
               "making API request. URL: POST https://platform-public-vault.hashicorp.cloud:8200"
               "/v1/auth/approle/login Code: 403. Errors: * permission denied")
# Vault's AppRole answer for a wrong secret id (hashicorp/vault builtin/credential/approle)
APPROLE_400 = ("Failed to initialize Vault client: error logging in to Vault server: Error "
               "making API request.\n\nURL: PUT https://vault.vault:8200/v1/auth/approle/login"
               "\nCode: 400. Errors:\n\n* invalid role or secret ID")
# https://github.com/cert-manager/cert-manager/pull/4044 (v1.3 e2e, Kubernetes auth)
K8S_OLD = ("Failed to initialize Vault client: error reading Kubernetes service account token "
           "from vault-serviceaccount: error calling Vault server: Error making API request."
           "\n\nURL: POST https://vault.e2e:8200/v1/auth/kubernetes/login\nCode: 403. Errors:"
           "\n\n* permission denied")
# https://github.com/hashicorp/vault-plugin-auth-kubernetes/issues/79 (Vault's text)
K8S_NEW = ("Failed to initialize Vault client: while requesting a Vault token using the "
           "Kubernetes auth: error calling Vault server: Error making API request.\n\nURL: POST "
           "https://vault.vault:8200/v1/auth/kubernetes/login\nCode: 500. Errors:\n\n* service "
           "account name not authorized")


@pytest.mark.parametrize("message", [APPROLE_403, APPROLE_400, K8S_OLD, K8S_NEW])
def test_vault_auth_failed_on_issuer(message: str) -> None:
    iss = vault_issuer(ready="False", reason="VaultError", message=message)
    (f,) = of("VAULT_AUTH_FAILED", iss, deployment())
    assert_common(f)
    assert f.object == Ref("ClusterIssuer", "", "vault")
    assert "reason VaultError" in f.evidence[0] and "/v1/auth/" in f.evidence[0]


def test_vault_auth_failed_from_issuer_event() -> None:
    # https://github.com/cert-manager/cert-manager/issues/3434 (ErrInitIssuer Event)
    msg = ("Error initializing issuer: error logging in to Vault server: Error making API "
           "request.\n\nURL: POST https://prod.vault.example.com/v1/auth/approle/login\n"
           "Code: 403. Errors:\n\n")
    iss = vault_issuer("v", "default", ready="False", reason="", message="")
    ev = event("e1", "default", "Issuer", "v", "default", msg, -timedelta(minutes=3),
               reason="ErrInitIssuer")
    (f,) = of("VAULT_AUTH_FAILED", iss, ev)
    assert "ErrInitIssuer" in f.evidence[0]


def test_vault_network_error_is_not_auth() -> None:
    msg = ("Failed to initialize Vault client: error logging in to Vault server: Put "
           "\"https://vault:8200/v1/auth/approle/login\": dial tcp 10.0.0.1:8200: i/o timeout")
    assert not of("VAULT_AUTH_FAILED", vault_issuer(ready="False", reason="VaultError",
                                                    message=msg))


def test_vault_auth_on_old_request_also_not_retried() -> None:
    iss = vault_issuer(ready="False", reason="VaultError", message=K8S_NEW)
    cert = certificate("svc", issuer="vault", kind="ClusterIssuer", ready="False")
    cr = request("svc-1", "svc", issuer="vault", kind="ClusterIssuer", conds=[
        cond("Approved", "True", "cert-manager.io", "approved"),
        cond("Ready", "False", "Pending", "Failed to initialise vault client for signing: "
             + K8S_NEW.split(": ", 1)[1])])
    found = codes(iss, cert, cr, deployment("v1.13.3"))
    assert {"VAULT_AUTH_FAILED", "VAULT_PERMISSION_DENIED_NOT_RETRIED"} <= found
    assert "ISSUANCE_STUCK_UNRECOGNISED" not in found


def test_transient_login_failure_with_ready_issuer_is_only_not_retried() -> None:
    cert = certificate("svc", issuer="vault", kind="ClusterIssuer", ready="False")
    cr = request("svc-1", "svc", issuer="vault", kind="ClusterIssuer", conds=[
        cond("Approved", "True", "cert-manager.io", "approved"),
        cond("Ready", "False", "Pending", "Failed to initialise vault client for signing: "
             + K8S_OLD.split("token from vault-serviceaccount: ", 1)[1])])
    found = codes(vault_issuer(), cert, cr, deployment("v1.15.0"))
    assert "VAULT_PERMISSION_DENIED_NOT_RETRIED" in found
    assert "VAULT_AUTH_FAILED" not in found


def test_vault_token_403_on_sign() -> None:
    iss = vault_issuer(auth={"tokenSecretRef": {"name": "vault-token", "key": "token"}})
    cert = certificate("svc", issuer="vault", kind="ClusterIssuer", ready="False")
    cr = request("svc-1", "svc", issuer="vault", kind="ClusterIssuer", conds=[
        cond("Approved", "True", "cert-manager.io", "approved"),
        cond("Ready", "False", "Failed", "Vault failed to sign certificate: failed to sign "
             "certificate by vault: Error making API request.\n\nURL: PUT https://vault:8200/"
             "v1/pki_int/sign/example-dot-com\nCode: 403. Errors:\n\n* permission denied")])
    (f,) = of("VAULT_AUTH_FAILED", iss, cert, cr, deployment())
    assert f.object.kind == "CertificateRequest" and "token" in f.explanation


# -- SECRET_IS_ACME_ACCOUNT_KEY ------------------------------------------------------------
def test_certificate_on_acme_account_key() -> None:
    le = issuer("le", None, spec={"acme": {"server": "https://acme.test/dir",
                                           "privateKeySecretRef": {"name": "le-key"},
                                           "solvers": []}})
    cert = certificate("oops", "cert-manager", issuer="le", kind="ClusterIssuer",
                       spec={"secretName": "le-key"}, status=healthy_status())
    (f,) = of("SECRET_IS_ACME_ACCOUNT_KEY", le, cert)
    assert_common(f)
    assert 'Certificate.spec.secretName: "le-key"' in f.evidence
    # the same name in another namespace is not the account key
    cert2 = certificate("fine", "web", issuer="le", kind="ClusterIssuer",
                        spec={"secretName": "le-key"}, status=healthy_status())
    assert not of("SECRET_IS_ACME_ACCOUNT_KEY", le, cert2)


# -- SECRET_IS_CA_ISSUER_KEYPAIR -----------------------------------------------------------
def test_ca_keypair_bootstrap_is_fine_self_issue_fires() -> None:
    ss = issuer("selfsigned")
    ca = issuer("ca", spec={"ca": {"secretName": "ca-kp"}})
    boot = certificate("ca", issuer="selfsigned",
                       spec={"secretName": "ca-kp", "isCA": True}, status=healthy_status())
    assert not of("SECRET_IS_CA_ISSUER_KEYPAIR", ss, ca, boot)
    wrong = certificate("ca", issuer="ca", spec={"secretName": "ca-kp", "isCA": True},
                        status=healthy_status())
    (f,) = of("SECRET_IS_CA_ISSUER_KEYPAIR", ss, ca, wrong)
    assert_common(f)
    assert "issued by that same CA issuer" in f.explanation
    leaf = certificate("web", issuer="selfsigned", spec={"secretName": "ca-kp"},
                       status=healthy_status())
    assert of("SECRET_IS_CA_ISSUER_KEYPAIR", ss, ca, leaf)


# -- PRIVATE_KEY_CANNOT_REGENERATE ---------------------------------------------------------
STALE = "Existing private key is not up to date for spec: [spec.privateKey.algorithm]"


def stale_cert(policy: str | None) -> Obj:
    pk: dict[str, Any] = {"algorithm": "ECDSA", "size": 256}
    if policy:
        pk["rotationPolicy"] = policy
    c = certificate("web", ready="False", spec={"privateKey": pk})
    c["status"]["conditions"] = [cond("Ready", "False", "SecretMismatch", STALE),
                                 cond("Issuing", "True", "SecretMismatch", STALE)]
    return c


def test_key_cannot_regenerate_explicit_never() -> None:
    (f,) = of("PRIVATE_KEY_CANNOT_REGENERATE", issuer("iss"), stale_cert("Never"),
              deployment())
    assert_common(f)
    assert "Existing private key is not up to date for spec" in f.evidence[0]
    assert "rotationPolicy: Always" in f.remedy


def test_key_cannot_regenerate_default_by_version() -> None:
    assert of("PRIVATE_KEY_CANNOT_REGENERATE", issuer("iss"), stale_cert(None),
              deployment("v1.17.2"))
    assert not of("PRIVATE_KEY_CANNOT_REGENERATE", issuer("iss"), stale_cert(None),
                  deployment("v1.18.0"))
    assert of("PRIVATE_KEY_CANNOT_REGENERATE", issuer("iss"), stale_cert(None),
              deployment("v1.19.1", ["--feature-gates=DefaultPrivateKeyRotationPolicyAlways"
                                     "=false"]))


def test_key_cannot_regenerate_from_event() -> None:
    msg = ('User intervention required: existing private key in Secret "web-tls" does not '
           "match requirements on Certificate resource, mismatching fields: "
           "[spec.privateKey.algorithm], but cert-manager cannot create new private key as "
           "the Certificate's .spec.privateKey.rotationPolicy is unset or set to Never.")
    ev = event("e", "default", "Certificate", "web", "default", msg, -timedelta(minutes=1),
               reason="CannotRegenerateKey")
    found = findings(issuer("iss"), stale_cert(None), ev, deployment("v1.12.3"))
    assert "PRIVATE_KEY_CANNOT_REGENERATE" in {f.code for f in found}
    assert "ISSUANCE_STUCK_UNRECOGNISED" not in {f.code for f in found}


# -- VAULT_PATH_ISSUE_NOT_SIGN -------------------------------------------------------------
def test_vault_issue_path() -> None:
    # https://github.com/cert-manager/cert-manager/issues/5087
    iss = vault_issuer(path="pki_int/issue/example-dot-com")
    cert = certificate("svc", issuer="vault", kind="ClusterIssuer", ready="False")
    cert["status"]["conditions"] = [cond(
        "Issuing", "True", "InvalidKeyPair", "Issuing certificate as Secret contains an invalid "
        "key-pair: tls: private key does not match public key")]
    (f,) = of("VAULT_PATH_ISSUE_NOT_SIGN", iss, cert)
    assert_common(f)
    assert f.evidence[0] == 'ClusterIssuer.spec.vault.path: "pki_int/issue/example-dot-com"'
    assert "pki_int/sign/example-dot-com" in f.remedy
    assert any("InvalidKeyPair" in e for e in f.evidence)
    assert not of("VAULT_PATH_ISSUE_NOT_SIGN", vault_issuer(path="issue/sign/role"))


# -- SECRET_WRITTEN_BY_OTHER_CONTROLLER ----------------------------------------------------
@pytest.mark.parametrize("ann,lab", [
    ({"meta.helm.sh/release-name": "web", "meta.helm.sh/release-namespace": "default"},
     {"app.kubernetes.io/managed-by": "Helm"}),
    ({"reconcile.external-secrets.io/data-hash": "abc"}, {}),
    ({"sealedsecrets.bitnami.com/managed": "true"}, {}),
])
def test_secret_written_by_other_tool(ann: dict[str, str], lab: dict[str, str]) -> None:
    cert = certificate("web", ready="False")
    cert["status"]["conditions"] = [
        cond("Ready", "False", "IncorrectIssuer",
             'Issuing certificate as Secret was previously issued by "Issuer.cert-manager.io/"'),
        cond("Issuing", "True", "IncorrectIssuer",
             'Issuing certificate as Secret was previously issued by "Issuer.cert-manager.io/"')]
    sec = secret("web-tls", annotations=ann, labels=lab)
    found = findings(issuer("iss"), cert, sec)
    (f,) = [x for x in found if x.code == "SECRET_WRITTEN_BY_OTHER_CONTROLLER"]
    assert_common(f)
    assert "Secret web-tls:" in f.evidence[1]
    assert "ISSUANCE_STUCK_UNRECOGNISED" not in {x.code for x in found}


def test_foreign_marks_without_mismatch_are_fine() -> None:
    sec = secret("ok-tls", annotations={"meta.helm.sh/release-name": "x", **cm_ann("ok")})
    assert not of("SECRET_WRITTEN_BY_OTHER_CONTROLLER", issuer("iss"),
                  certificate("ok", status=healthy_status()), sec)


def test_times_are_utc() -> None:
    assert NOW.tzinfo is UTC


def test_owner_check_backported_to_v1_13_2() -> None:
    """trigger_controller.go calls CertificateOwnsSecret at v1.13.2 and v1.14.0, not at
    v1.13.1 (checked with git grep on the tags)."""
    from kubectl_certdoctor.rules.secrets import owner_check
    from kubectl_certdoctor.versions import Version

    assert not owner_check(Version(1, 13, 1))
    assert owner_check(Version(1, 13, 2)) and owner_check(Version(1, 14, 0))
    assert not owner_check(Version(1, 12, 16))
