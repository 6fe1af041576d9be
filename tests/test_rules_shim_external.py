"""ingress-/gateway-shim, external issuer, approval and Vault-remedy rules on inline objects.

Verbatim provider messages come from public reports, cited next to each string.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kubectl_certdoctor.objects import Obj
from kubectl_certdoctor.rules.finding import Finding, Severity
from tests.support.diagnosis import (
    certificate,
    codes,
    cond,
    controller,
    event,
    findings,
    issuer,
    meta,
    owner,
    request,
    ts,
)

STUCK = "ISSUANCE_STUCK_UNRECOGNISED"


def one(code: str, *objs: Obj) -> Finding:
    found = [f for f in findings(*objs) if f.code == code]
    assert len(found) == 1, [f.code for f in findings(*objs)]
    assert found[0].remedy.strip()
    return found[0]


def old(obj: Obj, hours: int = 2) -> Obj:
    obj["metadata"]["creationTimestamp"] = ts(-timedelta(hours=hours))
    return obj


def ingress(name: str = "web", ns: str = "test", ann: dict[str, str] | None = None,
            tls: list[dict[str, Any]] | None = None) -> Obj:
    spec: dict[str, Any] = {"ingressClassName": "nginx", "rules": [{"host": "web.example.test"}]}
    if tls is not None:
        spec["tls"] = tls
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": meta(name, ns, annotations=ann or {}), "spec": spec}


def gateway(ann: dict[str, str] | None = None, secret: str = "glance-tls",
            mode: str = "Terminate") -> Obj:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": meta("main", "networking", annotations=ann if ann is not None else {
                "cert-manager.io/cluster-issuer": "le"}),
            "spec": {"gatewayClassName": "cilium", "listeners": [
                {"name": "http", "port": 80, "protocol": "HTTP"},
                {"name": "https", "hostname": "glance.example.test", "port": 443,
                 "protocol": "HTTPS", "tls": {"mode": mode, "certificateRefs": [
                     {"kind": "Secret", "name": secret}]}}]}}


# -- INGRESS_SHIM_NO_TLS ---------------------------------------------------------------------
@pytest.mark.parametrize("ann", [
    {"cert-manager.io/cluster-issuer": "letsencrypt-staging"},
    {"cert-manager.io/issuer": "ca"},
    {"kubernetes.io/tls-acme": "true"},
])
def test_ingress_without_tls_block(ann: dict[str, str]) -> None:
    # cert-manager#405: annotated Ingress, no spec.tls, no Certificate and no Event
    f = one("INGRESS_SHIM_NO_TLS", issuer("le", None), ingress(ann=ann))
    assert f.severity is Severity.WARNING
    assert f.object.kind == "Ingress" and f.object.name == "web"
    assert any("Ingress.spec.tls: []" in e for e in f.evidence)
    assert "secretName: web-tls" in f.remedy and "web.example.test" in f.remedy


def test_ingress_tls_entry_incomplete_quotes_badconfig_event() -> None:
    ing = ingress(ann={"cert-manager.io/cluster-issuer": "le"},
                  tls=[{"hosts": ["web.example.test"]}])
    # Event text as certificate-shim/sync.go writes it (v1.5+: "Skipped a TLS block: …")
    ev = event("ev1", "test", "Ingress", "web", "test",
               "Skipped a TLS block: spec.tls[0].secretName: Required value", -timedelta(minutes=1),
               reason="BadConfig")
    f = one("INGRESS_SHIM_NO_TLS", ing, ev)
    assert "spec.tls[0] has no secretName" in f.explanation
    assert any("BadConfig" in e and "Skipped a TLS block" in e for e in f.evidence)


@pytest.mark.parametrize("ing", [
    ingress(ann={"cert-manager.io/cluster-issuer": "le"},
            tls=[{"hosts": ["web.example.test"], "secretName": "web-tls"}]),
    ingress(ann={}),  # no shim annotation: plain HTTP Ingress
    ingress(ann={"kubernetes.io/tls-acme": "false"}),
])
def test_ingress_near_misses(ing: Obj) -> None:
    assert "INGRESS_SHIM_NO_TLS" not in codes(issuer("le", None), ing)


def test_ingress_tls_acme_ignored_when_auto_annotations_changed() -> None:
    ing = ingress(ann={"kubernetes.io/tls-acme": "true"})
    ctl = controller("v1.12.0", ["--auto-certificate-annotations=example.com/tls"])
    assert "INGRESS_SHIM_NO_TLS" not in codes(ing, ctl)


# -- GATEWAY_SHIM_DISABLED -------------------------------------------------------------------
@pytest.mark.parametrize(("version", "args", "fires"), [
    ("v1.17.1", ["--v=2"], True),                                  # flag missing (v1.15+)
    ("v1.17.1", ["--enable-gateway-api"], False),
    ("v1.17.1", ["--enable-gateway-api=true"], False),
    ("v1.16.0", ["--enable-gateway-api", "--feature-gates=ExperimentalGatewayAPISupport=false"],
     True),
    ("v1.14.4", ["--enable-gateway-api"], True),                   # flag did not exist yet
    ("v1.14.4", ["--feature-gates=ExperimentalGatewayAPISupport=true"], False),
    ("v1.4.0", ["--v=2"], True),                                    # no gateway-shim at all
    ("v1.17.1", ["--config=/var/cert-manager/config/config.yaml"], False),  # cannot tell
])
def test_gateway_shim_by_version(version: str, args: list[str], fires: bool) -> None:
    got = codes(issuer("le", None), gateway(), controller(version, args))
    assert ("GATEWAY_SHIM_DISABLED" in got) is fires


def test_gateway_shim_finding_content() -> None:
    f = one("GATEWAY_SHIM_DISABLED", issuer("le", None), gateway(), controller("v1.17.1"))
    assert f.severity is Severity.ERROR
    assert f.object.kind == "Gateway"
    assert any("--enable-gateway-api" in e for e in f.evidence)
    assert any("glance-tls" in e for e in f.evidence)
    assert "enableGatewayAPI=true" in f.remedy


def test_gateway_shim_near_misses() -> None:
    ctl = controller("v1.17.1")
    # a Certificate already writes the listener Secret (made by hand)
    crt = certificate("glance", "networking", issuer="le", kind="ClusterIssuer",
                      spec={"secretName": "glance-tls"})
    assert "GATEWAY_SHIM_DISABLED" not in codes(issuer("le", None), gateway(), ctl, crt)
    assert "GATEWAY_SHIM_DISABLED" not in codes(gateway(ann={}), ctl)
    assert "GATEWAY_SHIM_DISABLED" not in codes(gateway(mode="Passthrough"), ctl)
    assert "GATEWAY_SHIM_DISABLED" not in codes(gateway())  # no controller in view


# -- external issuers ------------------------------------------------------------------------
def external_chain(conds: list[dict[str, Any]], kind: str = "AWSPCAIssuer",
                   group: str = "awspca.cert-manager.io", age_h: int = 2) -> list[Obj]:
    crt = certificate("rsa", issuer="pca", kind=kind, group=group, ready="False",
                      message="Issuing certificate as Secret does not exist")
    cr = old(request("rsa-1", "rsa", issuer="pca", kind=kind, conds=conds), age_h)
    cr["spec"]["issuerRef"]["group"] = group
    return [crt, cr]


def test_external_issuer_not_responding() -> None:
    # aws-privateca-issuer#32: approved, never touched by the external controller
    objs = external_chain([cond("Approved", "True", "cert-manager.io",
                                "Certificate request has been approved by cert-manager.io")])
    got = findings(controller("v1.4.0"), *objs)
    f = [x for x in got if x.code == "EXTERNAL_ISSUER_NOT_RESPONDING"]
    assert len(f) == 1 and f[0].severity is Severity.ERROR
    assert "AWSPCAIssuer.awspca.cert-manager.io" in f[0].remedy
    assert any("awspca.cert-manager.io" in e for e in f[0].evidence)
    assert STUCK not in {x.code for x in got}


def test_external_not_responding_near_misses() -> None:
    young = external_chain([cond("Approved", "True")], age_h=0)
    young[1]["metadata"]["creationTimestamp"] = ts(-timedelta(minutes=3))
    assert "EXTERNAL_ISSUER_NOT_RESPONDING" not in codes(*young)
    pending = external_chain([cond("Approved", "True"), cond("Ready", "False", "Pending", "w")])
    assert "EXTERNAL_ISSUER_NOT_RESPONDING" not in codes(*pending)
    unapproved = external_chain([])
    assert "EXTERNAL_ISSUER_NOT_RESPONDING" not in codes(controller("v1.12.0"), *unapproved)
    # cert-manager's own issuers are never "external"
    own = [issuer("iss"), certificate("a", ready="False"),
           old(request("a-1", "a", conds=[cond("Approved", "True")]))]
    assert "EXTERNAL_ISSUER_NOT_RESPONDING" not in codes(*own)


def test_external_not_responding_before_approval_existed() -> None:
    objs = external_chain([])  # v1.2: no approval step
    assert "EXTERNAL_ISSUER_NOT_RESPONDING" in codes(controller("v1.2.0"), *objs)


@pytest.mark.parametrize("msg", [
    "issuer is not ready",                     # aws-privateca-issuer#292
    "Issuer is not ready: AWS credentials missing",
    "issuer step-issuer is not ready",
])
def test_external_issuer_not_ready(msg: str) -> None:
    objs = external_chain([cond("Approved", "True"), cond("Ready", "False", "Failed", msg)],
                          kind="AWSPCAClusterIssuer")
    got = findings(*objs)
    f = [x for x in got if x.code == "EXTERNAL_ISSUER_NOT_READY"]
    assert len(f) == 1 and f[0].severity is Severity.ERROR
    assert "kubectl describe awspcaclusterissuers.awspca.cert-manager.io pca" in f[0].remedy
    assert any(msg in e for e in f[0].evidence)
    assert STUCK not in {x.code for x in got}


def test_external_not_ready_near_miss() -> None:
    objs = external_chain([cond("Approved", "True"),
                           cond("Ready", "False", "Failed", "certificate expired")])
    assert "EXTERNAL_ISSUER_NOT_READY" not in codes(*objs)


@pytest.mark.parametrize(("msg", "provider", "says"), [
    # https://github.com/cert-manager/google-cas-issuer/issues/46
    ("casClient.CreateCertificate failed: rpc error: code = PermissionDenied desc = Permission "
     "'privateca.certificates.create' denied on "
     "'projects/656342222/locations/europe-west1/caPools/PKIpool'", "google-cas",
     "roles/privateca.certificateRequester"),
    # https://github.com/cert-manager/google-cas-issuer/issues/61 (via the reconciler error)
    ("failed to sign certificate request: casClient.CreateCertificate failed: rpc error: code = "
     "PermissionDenied desc = Permission 'privateca.certificates.create' denied on "
     "'projects/p/locations/l/caPools/c'", "google-cas", "caPools/c"),
    # https://github.com/cert-manager/aws-privateca-issuer/issues/105
    ("failed to request certificate from PCA: operation error ACM PCA: IssueCertificate, https "
     "response error StatusCode: 400, RequestID: e1e844fb-1af5-4d63-9872-bfe9e627537e, api error "
     "AccessDeniedException: User: arn:aws:sts::xxxxxx:assumed-role/xxxxxxxx/xxxxxx is not "
     "authorized to perform: acm-pca:IssueCertificate on resource: "
     "arn:aws:acm-pca:eu-west-2:xxxx:certificate-authority/xxxxx because no resource-based "
     "policy allows the acm-pca:IssueCertificate action", "aws-pca", "acm-pca:IssueCertificate"),
    ("signing failed: 403 Forbidden", "generic", "signing permission"),
])
def test_external_issuer_permission_denied(msg: str, provider: str, says: str) -> None:
    objs = external_chain([cond("Approved", "True"), cond("Ready", "False", "Pending", msg)],
                          kind="GoogleCASIssuer", group="cas-issuer.jetstack.io")
    got = findings(controller("v1.4.0"), *objs)
    f = [x for x in got if x.code == "EXTERNAL_ISSUER_PERMISSION_DENIED"]
    assert len(f) == 1 and f[0].severity is Severity.ERROR
    assert f[0].data["provider"] == provider
    assert says in f[0].remedy
    assert any(msg in e for e in f[0].evidence)
    assert STUCK not in {x.code for x in got}
    assert "EXTERNAL_ISSUER_NOT_READY" not in {x.code for x in got}


def test_external_permission_near_miss_unauthenticated_is_not_permission() -> None:
    # google-cas-issuer#102: a credentials refresh failure, not a missing IAM role
    msg = ("casClient.CreateCertificate failed: rpc error: code = Unauthenticated desc = "
           "transport: per-RPC creds failed due to error: compute: Received 500")
    objs = external_chain([cond("Approved", "True"), cond("Ready", "False", "Pending", msg)])
    assert "EXTERNAL_ISSUER_PERMISSION_DENIED" not in codes(*objs)


# -- approval --------------------------------------------------------------------------------
def policy(name: str = "my-policy") -> Obj:
    return {"apiVersion": "policy.cert-manager.io/v1alpha1", "kind": "CertificateRequestPolicy",
            "metadata": meta(name, None), "spec": {"selector": {"issuerRef": {}}},
            "status": {"conditions": [cond("Ready", "True", "Ready",
                                           "CertificateRequestPolicy is ready for approval "
                                           "evaluation")]}}


def unapproved(kind: str = "Issuer", group: str | None = None) -> list[Obj]:
    crt = certificate("svc", ready="False", kind=kind)
    cr = old(request("svc-1", "svc", conds=[], kind=kind))
    cr["spec"]["username"] = "system:serviceaccount:cert-manager:cert-manager"
    if group:
        cr["spec"]["issuerRef"]["group"] = group
        crt["spec"]["issuerRef"]["group"] = group
    return [crt, cr]


def test_not_approved_with_approver_policy_names_rbac_use() -> None:
    ctl = controller("v1.17.1", ["--controllers=*,-certificaterequests-approver"])
    got = findings(issuer("iss"), ctl, policy(), *unapproved())
    f = [x for x in got if x.code == "CERTIFICATE_REQUEST_NOT_APPROVED"]
    assert len(f) == 1
    assert "verbs [use]" in f[0].remedy and "my-policy" in f[0].remedy
    assert "system:serviceaccount:cert-manager:cert-manager" in f[0].remedy
    assert "approver-policy is installed" in f[0].explanation
    assert any("CertificateRequestPolicy" in e for e in f[0].evidence)
    assert STUCK not in {x.code for x in got}


def test_not_approved_without_policy_says_no_approver() -> None:
    ctl = controller("v1.17.1", ["--controllers=*,-certificaterequests-approver"])
    f = one("CERTIFICATE_REQUEST_NOT_APPROVED", issuer("iss"), ctl, *unapproved())
    assert "built-in approver is disabled" in f.remedy
    assert "verbs [use]" not in f.remedy


def test_not_approved_external_issuer_builtin_approver_lacks_signer_rbac() -> None:
    f = one("CERTIFICATE_REQUEST_NOT_APPROVED", controller("v1.12.0"),
            *unapproved("AWSPCAClusterIssuer", "awspca.cert-manager.io"))
    assert "awspcaclusterissuers.awspca.cert-manager.io/*" in f.remedy
    assert "verbs [approve]" in f.remedy


# -- ISSUER_NOT_FOUND on a shim-owned Certificate --------------------------------------------
def test_issuer_not_found_on_ingress_owned_certificate_points_at_annotation() -> None:
    # cert-manager#5873: cluster-issuer annotation naming a namespaced Issuer
    crt = certificate("app-tls", "app", issuer="le", kind="ClusterIssuer", ready="False")
    crt["metadata"]["ownerReferences"] = [owner("Ingress", "app", "app", "networking.k8s.io/v1")]
    f = one("ISSUER_NOT_FOUND", issuer("le", "app"), crt,
            ingress("app", "app", {"cert-manager.io/cluster-issuer": "le"},
                    [{"hosts": ["a.test"], "secretName": "app-tls"}]))
    assert "Ingress app/app" in f.remedy
    assert "cert-manager.io/issuer: le" in f.remedy


def test_issuer_not_found_plain_certificate_keeps_remedy() -> None:
    f = one("ISSUER_NOT_FOUND", certificate("a", issuer="nope", ready="False"))
    assert "Ingress" not in f.remedy


# -- Vault remedies --------------------------------------------------------------------------
def vault_failed(msg: str, version: str = "v1.10.0",
                 spec: dict[str, Any] | None = None) -> list[Obj]:
    iss = issuer("vault", spec={"vault": {"server": "https://vault:8200", "path": "pki/sign/r",
                                          "auth": {"tokenSecretRef": {"name": "t", "key": "k"}}}})
    crt = certificate("mysite", issuer="vault", ready="False", spec=spec)
    cr = request("mysite-1", "mysite", issuer="vault",
                 conds=[cond("Approved", "True"), cond("Ready", "False", "Failed", msg)])
    return [controller(version), iss, crt, cr]


@pytest.mark.parametrize(("msg", "says"), [
    # https://github.com/cert-manager/website/issues/955
    ("Vault failed to sign certificate: failed to sign certificate by vault: Error making API "
     "request.\n\nURL: POST http://vault.default:8200/v1/pki/sign/mysite-dot-com\nCode: 400. "
     "Errors:\n\n* subject alternate name mysite.example.test not allowed by this role",
     "allowed_domains"),
    ("Vault failed to sign certificate: failed to sign certificate by vault: Error making API "
     "request. URL: PUT https://vault:8200/v1/pki/sign/r Code: 400. Errors: * common name "
     "www.example.test not allowed by this role", "pki/roles/r"),
    # https://github.com/cert-manager/cert-manager/issues/4965 (require_cn)
    ("Vault failed to sign certificate: failed to sign certificate by vault: Error making API "
     "request. URL: PUT https://vault:8200/v1/pki/sign/r Code: 400. Errors: * the "
     "common_name field is required, or must be provided in a CSR with "
     "\"use_csr_common_name\" set to true, unless \"require_cn\" is set to false",
     "require_cn=false"),
    # https://github.com/cert-manager/istio-csr/issues/246
    ("Vault failed to sign certificate: failed to sign certificate by vault: Error making API "
     "request. URL: POST https://vault.example.test:8200/v1/pki_int/sign/istio-csr \nCode: 400. "
     "Errors:  * role requires a minimum of a 384-bit key, but CSR's key is 256 bits",
     "ECDSA 384"),
])
def test_vault_role_refusals_get_concrete_remedy(msg: str, says: str) -> None:
    got = findings(*vault_failed(msg, spec={"privateKey": {"algorithm": "ECDSA", "size": 256}}))
    f = [x for x in got if x.code == "CERTIFICATE_REQUEST_FAILED"]
    assert len(f) == 1
    assert says in f[0].remedy
    assert any("not allowed" in e or "require" in e or "minimum" in e for e in f[0].evidence)
    assert STUCK not in {x.code for x in got}


def test_vault_decode_error_known_bug_only_at_v140() -> None:
    # https://github.com/cert-manager/cert-manager/issues/4142
    msg = "Failed to decode returned certificate: error decoding certificate PEM block"
    f = one("CERTIFICATE_REQUEST_FAILED", *vault_failed(msg, "v1.4.0"))
    assert "v1.4.1" in f.remedy
    f = one("CERTIFICATE_REQUEST_FAILED", *vault_failed(msg, "v1.5.0"))
    assert "v1.4.1" not in f.remedy


def test_vault_serviceaccountref_rbac_remedy_names_role() -> None:
    # https://github.com/cert-manager/cert-manager/issues/7112
    msg = ('Failed to initialize Vault client: while requesting a Vault token using the '
           'Kubernetes auth: while requesting a token for the service account '
           '/vault-test-cert-manager-sa: serviceaccounts "vault-test-cert-manager-sa" is '
           'forbidden: User "system:serviceaccount:cert-manager:cert-manager" cannot create '
           'resource "serviceaccounts/token" in API group "" in the namespace "cert-manager"')
    iss = issuer("vault", None, ready="False", reason="VaultError", message=msg, spec={"vault": {
        "server": "https://vault:8200", "path": "pki/sign/r", "auth": {"kubernetes": {
            "role": "r", "mountPath": "/v1/auth/k",
            "serviceAccountRef": {"name": "vault-test-cert-manager-sa"}}}}})
    f = one("VAULT_AUTH_FAILED", iss)
    assert "serviceaccounts/token" in f.remedy and "RoleBinding" in f.remedy
    assert "vault-test-cert-manager-sa" in f.remedy and "namespace cert-manager" in f.remedy
    assert "ServiceAccount cert-manager in namespace cert-manager" in f.remedy
