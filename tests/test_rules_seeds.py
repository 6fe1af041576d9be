"""The five field reports (/work/shared/seeds/) rebuilt as objects: each yields exactly its codes.

These are the rule-level expectations the scenario library mirrors; addresses and names
follow the reports, domains use .test.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import tests.test_rules as t
from kubectl_certdoctor.graph import build_graph
from kubectl_certdoctor.objects import Obj
from kubectl_certdoctor.rules import run_rules
from tests.support.diagnosis import (
    NOW,
    certificate,
    challenge,
    cond,
    event,
    issuer,
    meta,
    objset,
    order,
    request,
    ts,
)

LE_STAGING = "https://acme-staging-v02.api.letsencrypt.test/directory"


def _acme_http_chain(host: str, reason: str, solver: dict[str, Any]) -> list[Obj]:
    iss = issuer("letsencrypt-issuer", None, spec={"acme": {
        "server": LE_STAGING, "email": "ops@example.test",
        "privateKeySecretRef": {"name": "issuer-account-key"}, "solvers": [solver]}},
        message="The ACME account was registered with the ACME server")
    cert = certificate("site-tls", ns="web", issuer="letsencrypt-issuer", kind="ClusterIssuer",
                       ready="False", dns=(host,), message="Issuing certificate as Secret "
                       "does not exist")
    cert["status"]["conditions"].append(cond("Issuing", "True", "DoesNotExist",
                                             "Issuing certificate as Secret does not exist"))
    cr = request("site-tls-1", "site-tls", ns="web", issuer="letsencrypt-issuer",
                 kind="ClusterIssuer", conds=[cond("Approved", "True"), cond(
                     "Ready", "False", "Pending", "Waiting on certificate issuance from order "
                     "web/site-tls-1-2745722290: \"pending\"")])
    od = order("site-tls-1-2745722290", "site-tls-1", ns="web", issuer="letsencrypt-issuer",
               kind="ClusterIssuer")
    ch = challenge("site-tls-1-2745722290-1", "site-tls-1-2745722290", ns="web", host=host,
                   reason=reason, issuer="letsencrypt-issuer", kind="ClusterIssuer",
                   solver=solver)
    return [iss, cert, cr, od, ch]


def seed_000() -> list[Obj]:
    """HAProxy spreads traffic over ingress-nginx (.59) and a Cilium Gateway (.61)."""
    gw = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
          "metadata": meta("cilium-gateway", "infra"),
          "spec": {"gatewayClassName": "cilium",
                   "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}]},
          "status": {"addresses": [{"type": "IPAddress", "value": "192.168.0.61"}]}}
    return [*_acme_http_chain("shop.example.test", t.R404,
                              {"http01": {"ingress": {"ingressClassName": "nginx"}}}),
            t.ingress_class("nginx", "k8s.io/ingress-nginx"),
            t.site_ingress("shop", "shop.example.test", "nginx", ns="web"),
            t.lb_service("ingress-nginx-controller", "ingress-nginx", "192.168.0.59"),
            t.lb_service("cilium-gateway-cilium-gateway", "infra", "192.168.0.61"),
            gw, t.deployment()]


def seed_001_class() -> list[Obj]:
    """MicroK8s: the solver's ingress class (nginx) is not the site's (public)."""
    return [*_acme_http_chain("home.example.test", t.R404,
                              {"http01": {"ingress": {"class": "nginx"}}}),
            t.ingress_class("public", "k8s.io/ingress-nginx", default=True),
            t.ingress_class("nginx", "k8s.io/ingress-nginx"),
            t.site_ingress("main-ingress", "home.example.test", "public", ns="web"),
            t.deployment()]


def seed_001_hairpin() -> list[Obj]:
    """MicroK8s behind pfSense without NAT loopback: the self-check times out."""
    reason = ("Waiting for HTTP-01 challenge propagation: failed to perform self check GET "
              "request 'http://home.example.test/.well-known/acme-challenge/tok': Get "
              "\"http://home.example.test/.well-known/acme-challenge/tok\": dial tcp "
              "198.51.100.7:80: i/o timeout (Client.Timeout exceeded while awaiting headers)")
    return [*_acme_http_chain("home.example.test", reason,
                              {"http01": {"ingress": {"ingressClassName": "public"}}}),
            t.ingress_class("public", "k8s.io/ingress-nginx", default=True),
            t.site_ingress("main-ingress", "home.example.test", "public", ns="web"),
            t.deployment()]


def seed_002() -> list[Obj]:
    """External CDN CA timed out; the Failed request blocks renewal (cert-manager 1.9.1)."""
    msg = ("Failed to sign certificate: Post \"https://api.cdn.example.test/v1/certs\": context "
           "deadline exceeded (Client.Timeout exceeded while awaiting headers)")
    cert = certificate("cdn-tls", ns="web", issuer="cdn", kind="CDNClusterIssuer",
                       group="cdn.example.test", ready="True", dns=("cdn.example.test",),
                       spec={"duration": "168h", "renewBefore": "48h"},
                       status={"revision": 7, "notAfter": ts(timedelta(hours=30)),
                               "renewalTime": ts(-timedelta(hours=18)),
                               "lastFailureTime": ts(-timedelta(minutes=20))})
    return [cert,
            request("cdn-tls-7", "cdn-tls", ns="web", revision=7, issuer="cdn"),
            request("cdn-tls-8", "cdn-tls", ns="web", revision=8, issuer="cdn", conds=[
                cond("Approved", "True"), cond("Ready", "False", "Failed", msg)]),
            t.deployment("quay.io/jetstack/cert-manager-controller:v1.9.1")]


def seed_003() -> list[Obj]:
    """Vault 403 on login, cert-manager 1.15.0 never retried: the certificate expired."""
    vault = issuer("vault-issuer", "apps", spec={"vault": {
        "server": "https://vault.example.test:8200", "path": "pki_int/sign/apps",
        "auth": {"kubernetes": {"role": "cert-manager", "mountPath": "/v1/auth/kubernetes",
                                "serviceAccountRef": {"name": "vault-issuer"}}}}},
        message="Vault verified")
    cert = certificate("api-tls", ns="apps", issuer="vault-issuer", ready="False",
                       dns=("api.example.test",), message="The certificate has expired",
                       status={"revision": 3, "notAfter": ts(-timedelta(hours=5))})
    return [vault, cert,
            request("api-tls-3", "api-tls", ns="apps", revision=3, issuer="vault-issuer"),
            request("api-tls-4", "api-tls", ns="apps", revision=4, issuer="vault-issuer",
                    conds=[cond("Approved", "True"),
                           cond("Ready", "False", "Pending", t.VAULT_MSG)]),
            t.deployment("quay.io/jetstack/cert-manager-controller:v1.15.0")]


def seed_004(mismatch: bool = False, current: bool = False) -> list[Obj]:
    """Cluster-wide proxy, blocked egress: the ACME account cannot be verified.

    The report ran cert-manager v1.1.0 (acme-v1.1.0.yaml), which wrote a failed ACME-server
    call as "Failed to verify ACME account" with reason ErrRegisterACMEAccount
    (pkg/issuer/acme/setup.go@v1.3.3). ``current``: the same proxy on v1.21.1, where that
    prefix (reason ErrVerifyACMEAccount) means the account key Secret could not be read from
    the API server (setup.go@v1.4.0+)."""
    iss = t.acme_issuer("letsencrypt-staging", ready="False",
                        reason="ErrVerifyACMEAccount" if current else "ErrRegisterACMEAccount",
                        message="Failed to verify ACME account: context deadline exceeded",
                        server=LE_STAGING,
                        uri="https://acme-v02.api.letsencrypt.test/acme/acct/42" if mismatch
                        else "")
    ev = event("ev1", "default", "ClusterIssuer", "letsencrypt-staging", "",
               "Failed to verify ACME account: context deadline exceeded",
               -timedelta(minutes=1), reason="ErrVerifyACMEAccount")
    proxy = "http://proxy.corp.test:3128"
    env = {"HTTP_PROXY": proxy, "HTTPS_PROXY": proxy, "NO_PROXY": "localhost,127.0.0.1"}
    image = "quay.io/jetstack/cert-manager-controller:" + ("v1.21.1" if current else "v1.1.0")
    return [iss, ev, t.deployment(image, env=env)]


SEEDS: dict[str, tuple[Any, set[str]]] = {
    "000-two-ingress-backends": (seed_000, {"HTTP01_SELF_CHECK_404",
                                            "HTTP01_MULTIPLE_INGRESS_BACKENDS"}),
    "001-solver-class": (seed_001_class, {"HTTP01_SELF_CHECK_404",
                                          "HTTP01_WRONG_INGRESS_CLASS"}),
    "001-hairpin": (seed_001_hairpin, {"HTTP01_SELF_CHECK_TIMEOUT"}),
    "002-failed-request-blocks": (seed_002, {"CERTIFICATE_REQUEST_FAILED", "ISSUANCE_BACKOFF",
                                             "CERTIFICATE_EXPIRING", "CERT_MANAGER_OUTDATED"}),
    "003-vault-not-retried": (seed_003, {"VAULT_PERMISSION_DENIED_NOT_RETRIED",
                                         "CERTIFICATE_EXPIRED", "CERT_MANAGER_OUTDATED"}),
    "004-proxy-egress": (seed_004, {"ACME_SERVER_UNREACHABLE", "PROXY_NO_PROXY_GAP",
                                    "CERT_MANAGER_OUTDATED"}),
    "004-account-mismatch": (lambda: seed_004(True), {
        "ACME_SERVER_UNREACHABLE", "PROXY_NO_PROXY_GAP", "ACME_ACCOUNT_SERVER_MISMATCH",
        "CERT_MANAGER_OUTDATED"}),
    "004-current-controller": (lambda: seed_004(current=True), {
        "ACME_ACCOUNT_KEY_SECRET_UNREADABLE", "PROXY_NO_PROXY_GAP"}),
}


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_seed_yields_exactly_its_codes(seed: str) -> None:
    build, want = SEEDS[seed]
    fs = run_rules(build_graph(objset(*build()), NOW), NOW)
    assert {f.code for f in fs} == want
    # one finding per code in these single-chain stories
    assert len(fs) == len(want), [(f.code, str(f.object)) for f in fs]


def test_seed_002_backoff_time_and_renewal_story() -> None:
    fs = {f.code: f for f in run_rules(build_graph(objset(*seed_002()), NOW), NOW)}
    # v1.9.1 has no failedIssuanceAttempts: the delay is the minimum, 1h after the failure
    assert fs["ISSUANCE_BACKOFF"].data["next_attempt"] == "2026-11-23T07:40:00+00:00"
    assert "Certificate cdn-tls" in fs["CERTIFICATE_REQUEST_FAILED"].explanation
    assert "context deadline exceeded" in fs["CERTIFICATE_REQUEST_FAILED"].title
    assert fs["CERTIFICATE_EXPIRING"].title.startswith("Certificate expires in 1d6h")
