"""Each rule on small inline objects: the code fires on its signal, and not without it."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubectl_certdoctor.graph import build_graph
from kubectl_certdoctor.objects import Obj, ObjectSet, Ref
from kubectl_certdoctor.rules import findings_by_object, run_rules
from kubectl_certdoctor.rules.catalog import CATALOG
from kubectl_certdoctor.rules.finding import Finding, Severity
from tests.support.diagnosis import (
    NOW,
    certificate,
    challenge,
    codes,
    cond,
    findings,
    issuer,
    meta,
    objset,
    order,
    request,
    ts,
)


def one(code: str, *objs: Obj) -> Finding:
    found = [f for f in findings(*objs) if f.code == code]
    assert len(found) == 1, [f.code for f in findings(*objs)]
    return found[0]


def deployment(image: str = "quay.io/jetstack/cert-manager-controller:v1.21.1",
               env: dict[str, str] | None = None, args: list[str] | None = None) -> Obj:
    c: dict[str, Any] = {"name": "cert-manager-controller", "image": image,
                         "args": args or ["--v=2"]}
    if env:
        c["env"] = [{"name": k, "value": v} for k, v in env.items()]
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta("cert-manager", "cert-manager", labels={
                "app.kubernetes.io/name": "cert-manager",
                "app.kubernetes.io/component": "controller"}),
            "spec": {"selector": {"matchLabels": {"app": "cert-manager"}},
                     "template": {"metadata": {"labels": {"app": "cert-manager"}},
                                  "spec": {"containers": [c]}}}}


def acme_issuer(name: str = "le", ready: str = "True", reason: str = "", message: str = "",
                server: str = "https://acme.test/directory", uri: str = "") -> Obj:
    st: dict[str, Any] = {"acme": {"uri": uri}} if uri else {}
    return issuer(name, None, ready=ready, reason=reason, message=message,
                  spec={"acme": {
                      "server": server, "privateKeySecretRef": {"name": f"{name}-key"},
                      "solvers": [{"http01": {"ingress": {"ingressClassName": "nginx"}}}]}},
                  status=st)


HEALTHY = (issuer("iss"), certificate("ok", status={"notAfter": ts(timedelta(days=60)),
                                                   "revision": 1}),
           request("ok-1", "ok"), deployment())


def test_healthy_has_no_findings() -> None:
    assert findings(*HEALTHY) == []


def test_every_code_has_a_complete_catalog_entry() -> None:
    for code, e in CATALOG.items():
        assert e.code == code and e.title and e.explanation and e.signals and e.fix
        probe_ids = {"http01", "http01-backends", "hairpin", "dns", "egress", "no-proxy",
                     "account"}
        fix_ids = {"renew", "clear-failed-requests", "retry-challenge",
                   "set-solver-ingress-class", "add-no-proxy", "set-recursive-nameservers",
                   "upgrade-guidance"}
        assert set(e.probes) <= probe_ids and set(e.fixes) <= fix_ids


# -- issuers -------------------------------------------------------------------------------
def test_issuer_not_found_with_hint() -> None:
    f = one("ISSUER_NOT_FOUND", acme_issuer("prod"), certificate("web", issuer="prod"))
    assert f.object == Ref("Certificate", "default", "web")
    assert "ClusterIssuer named prod exists" in f.explanation
    assert f.severity is Severity.ERROR
    assert 'Certificate.spec.issuerRef: {"kind": "Issuer", "name": "prod"}' in f.evidence


def test_issuer_not_ready_generic() -> None:
    f = one("ISSUER_NOT_READY", issuer("ca", ready="False", reason="ErrGetKeyPair",
                                       message="Error getting keypair for CA issuer: secret "
                                               "\"ca\" not found"))
    assert f.title == "Issuer ca is not ready: ErrGetKeyPair"
    assert "Error getting keypair" in f.evidence[0]


# -- ACME ----------------------------------------------------------------------------------
def test_acme_server_unreachable_not_also_not_ready() -> None:
    objs = (acme_issuer(ready="False", reason="ErrRegisterACMEAccount",
                        message="Failed to verify ACME account: context deadline exceeded"),)
    assert codes(*objs) == {"ACME_SERVER_UNREACHABLE"}
    f = one("ACME_SERVER_UNREACHABLE", *objs)
    assert f.evidence[0] == ("ClusterIssuer.status.conditions[Ready]: False, reason "
                             "ErrRegisterACMEAccount, message \"Failed to verify ACME account: "
                             "context deadline exceeded\"")
    assert "egress" in f.probes


def test_acme_not_ready_for_non_network_reason_is_issuer_not_ready() -> None:
    # a 5xx is retried by cert-manager (setup.go): no specific code, the generic one
    assert codes(acme_issuer(ready="False", reason="ErrRegisterACMEAccount",
                             message="Failed to register ACME account: 503 "
                                     "urn:ietf:params:acme:error:serverInternal: The service "
                                     "is down for maintenance")) == {"ISSUER_NOT_READY"}
    # a 4xx is final until the spec changes: its own code (tests/test_rules_acme_v2.py)
    assert codes(acme_issuer(ready="False", reason="ErrRegisterACMEAccount",
                             message="Failed to register ACME account: 400 "
                                     "urn:ietf:params:acme:error:invalidContact")) \
        == {"ACME_ACCOUNT_REGISTRATION_REJECTED"}


def test_account_server_mismatch() -> None:
    # cert-manager re-registers the key itself: only worth a note while not Ready
    f = one("ACME_ACCOUNT_SERVER_MISMATCH", acme_issuer(
        ready="False", reason="ErrRegisterACMEAccount",
        message="Failed to register ACME account: 503 urn:ietf:params:acme:error:"
                "serverInternal: down",
        server="https://acme-v02.api.letsencrypt.test/directory",
        uri="https://acme-staging-v02.api.letsencrypt.test/acme/acct/1"))
    assert f.severity is Severity.INFO
    assert f.data["account_host"] == "acme-staging-v02.api.letsencrypt.test"
    assert f.data["server_host"] == "acme-v02.api.letsencrypt.test"


def _acme_chain(order_state: str, order_reason: str, cr_ok: bool = False) -> tuple[Obj, ...]:
    crc = [cond("Approved", "True"), cond("Ready", "True" if cr_ok else "False",
                                          "Issued" if cr_ok else "Failed", "x")]
    return (acme_issuer(), certificate("c", issuer="le", kind="ClusterIssuer"),
            request("c-1", "c", conds=crc, issuer="le", kind="ClusterIssuer"),
            order("c-1-1", "c-1", state=order_state, reason=order_reason))


def test_order_failed_with_subcause() -> None:
    f = one("ACME_ORDER_FAILED", *_acme_chain(
        "errored", "Failed to finalize Order: 400 urn:ietf:params:acme:error:badPublicKey: "
                   "key size not supported"))
    assert f.data["subcause"] == "badPublicKey" and "sub-cause: badPublicKey" in f.evidence
    # a CAA refusal has its own code now; the generic one steps back
    caa = codes(*_acme_chain("invalid", "Failed to finalize Order: 403 urn:ietf:params:acme:"
                                        "error:caa: CAA record for a.test prevents issuance"))
    assert "ACME_CAA_FORBIDS" in caa and "ACME_ORDER_FAILED" not in caa


def test_order_failed_ignored_when_request_succeeded() -> None:
    assert "ACME_ORDER_FAILED" not in codes(*_acme_chain("invalid", "boom", cr_ok=True))


def test_rate_limited_once_with_retry_after() -> None:
    msg = ("Failed to create Order: 429 urn:ietf:params:acme:error:rateLimited: too many "
           "certificates (5) already issued for this exact set of domains in the last 168h0m0s, "
           "retry after 2026-11-24 10:00:00 UTC")
    objs = list(_acme_chain("errored", msg))
    objs[2]["status"]["conditions"][1]["message"] = f"Failed to wait for order: {msg}"
    fs = findings(*objs)
    rl = [f for f in fs if f.code == "ACME_RATE_LIMITED"]
    assert len(rl) == 1 and rl[0].object.kind == "Order"
    assert rl[0].data["retry_after"] == "2026-11-24T10:00:00+00:00"
    assert "2026-11-24 10:00 UTC" in rl[0].title
    assert {"ACME_ORDER_FAILED", "ACME_RATE_LIMITED"} <= {f.code for f in fs}


# -- HTTP-01 -------------------------------------------------------------------------------
def _http_chain(reason: str, solver: dict[str, Any] | None = None,
                host: str = "a.test") -> list[Obj]:
    return [acme_issuer(), certificate("c", issuer="le", kind="ClusterIssuer", dns=(host,)),
            request("c-1", "c", issuer="le", kind="ClusterIssuer",
                    conds=[cond("Approved", "True"), cond("Ready", "False", "Pending", "w")]),
            order("c-1-1", "c-1"),
            challenge("c-1-1-0", "c-1-1", reason=reason, host=host, solver=solver,
                      issuer="le", kind="ClusterIssuer")]


def ingress_class(name: str, controller: str, default: bool = False) -> Obj:
    md = meta(name, None)
    if default:
        md["annotations"] = {"ingressclass.kubernetes.io/is-default-class": "true"}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": md,
            "spec": {"controller": controller}}


def site_ingress(name: str, host: str, cls: str, ns: str = "web") -> Obj:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta(name, ns),
            "spec": {"ingressClassName": cls, "rules": [{"host": host}]}}


def lb_service(name: str, ns: str, ip: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(name, ns),
            "spec": {"type": "LoadBalancer", "ports": [{"name": "http", "port": 80},
                                                       {"name": "https", "port": 443}]},
            "status": {"loadBalancer": {"ingress": [{"ip": ip}]}}}


R404 = ("Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'")


def test_self_check_404() -> None:
    objs = [*_http_chain(R404), ingress_class("nginx", "k8s.io/ingress-nginx"),
            site_ingress("site", "a.test", "nginx")]
    assert codes(*objs) == {"HTTP01_SELF_CHECK_404"}
    f = one("HTTP01_SELF_CHECK_404", *objs)
    assert f.evidence == (f'Challenge.status.reason: "{R404}"',)
    assert f.title == "HTTP-01 self-check for a.test got HTTP 404 instead of 200"


def test_wrong_ingress_class_differs_from_site() -> None:
    objs = [*_http_chain(R404), ingress_class("public", "k8s.io/ingress-nginx"),
            ingress_class("nginx", "k8s.io/ingress-nginx"),
            site_ingress("site", "a.test", "public")]
    assert codes(*objs) == {"HTTP01_SELF_CHECK_404", "HTTP01_WRONG_INGRESS_CLASS"}
    f = one("HTTP01_WRONG_INGRESS_CLASS", *objs)
    assert "site Ingress for a.test uses class public" in f.explanation
    assert f.data["site_classes"] == ["public"]
    # the solver lives in the issuer: that is what the fix edits; the retry is the Challenge
    assert f.data["act_on"]["set-solver-ingress-class"] == Ref("ClusterIssuer", "", "le")
    assert f.data["act_on"]["retry-challenge"] == f.object


def test_wrong_ingress_class_nonexistent() -> None:
    objs = [*_http_chain("", solver={"http01": {"ingress": {"class": "traefik"}}}),
            ingress_class("nginx", "k8s.io/ingress-nginx")]
    f = one("HTTP01_WRONG_INGRESS_CLASS", *objs)
    assert "no IngressClass named 'traefik'" in f.explanation


def test_multiple_ingress_backends_seed_000() -> None:
    gw = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
          "metadata": meta("cilium-gw", "web"),
          "spec": {"gatewayClassName": "cilium", "listeners": [
              {"name": "http", "protocol": "HTTP", "port": 80}]},
          "status": {"addresses": [{"type": "IPAddress", "value": "192.168.0.61"}]}}
    objs = [*_http_chain(R404), ingress_class("nginx", "k8s.io/ingress-nginx"),
            site_ingress("site", "a.test", "nginx"),
            lb_service("ingress-nginx-controller", "ingress-nginx", "192.168.0.59"), gw]
    assert codes(*objs) == {"HTTP01_SELF_CHECK_404", "HTTP01_MULTIPLE_INGRESS_BACKENDS"}
    f = one("HTTP01_MULTIPLE_INGRESS_BACKENDS", *objs)
    assert "192.168.0.59" in f.explanation and "192.168.0.61" in f.explanation


def test_single_controller_with_two_classes_is_not_multiple() -> None:
    objs = [*_http_chain(R404), ingress_class("nginx", "k8s.io/ingress-nginx"),
            ingress_class("public", "k8s.io/ingress-nginx"),
            site_ingress("site", "a.test", "nginx"),
            lb_service("ingress", "ingress", "192.168.0.59")]
    assert "HTTP01_MULTIPLE_INGRESS_BACKENDS" not in codes(*objs)


TIMEOUT = ("Waiting for HTTP-01 challenge propagation: failed to perform self check GET request "
           "'http://a.test/.well-known/acme-challenge/tok': Get "
           "\"http://a.test/.well-known/acme-challenge/tok\": dial tcp 203.0.113.10:80: "
           "i/o timeout")


def test_self_check_timeout_outside_lb_means_hairpin() -> None:
    objs = [*_http_chain(TIMEOUT), lb_service("ing", "ing", "192.168.1.20")]
    assert codes(*objs) == {"HTTP01_SELF_CHECK_TIMEOUT"}
    f = one("HTTP01_SELF_CHECK_TIMEOUT", *objs)
    assert "not one of the cluster's LoadBalancer addresses" in f.explanation
    assert "NAT loopback (hairpin)" in f.explanation
    assert (f.data["host"], f.data["address"], f.data["load_balancer"]) == (
        "a.test", "203.0.113.10", False)
    assert f.data["act_on"]["hairpin"] == Ref("Challenge", "default", "c-1-1-0")
    assert f.probes[0] == "hairpin"


def test_self_check_timeout_on_lb_address() -> None:
    objs = [*_http_chain(TIMEOUT.replace("203.0.113.10", "192.168.1.20")),
            lb_service("ing", "ing", "192.168.1.20")]
    f = one("HTTP01_SELF_CHECK_TIMEOUT", *objs)
    assert f.data["load_balancer"] is True and "Service ing/ing" in f.explanation


def test_self_check_redirect() -> None:
    reason = ("Waiting for HTTP-01 challenge propagation: failed to perform self check GET "
              "request 'http://a.test/.well-known/acme-challenge/tok': Get "
              "\"https://a.test/.well-known/acme-challenge/tok\": remote error: tls: "
              "unrecognized name")
    assert codes(*_http_chain(reason)) == {"HTTP01_SELF_CHECK_REDIRECT"}


def test_valid_challenge_never_flagged() -> None:
    objs = _http_chain(R404)
    objs[-1]["status"]["state"] = "valid"
    assert codes(*objs) == set()


# -- DNS-01 --------------------------------------------------------------------------------
def test_dns01_pending_after_grace() -> None:
    objs = _http_chain("Waiting for DNS-01 challenge propagation: DNS record for \"a.test\" "
                       "not yet propagated")
    objs[-1]["spec"]["type"] = "DNS-01"
    f = one("DNS01_PROPAGATION_PENDING", *objs)
    assert f.data["fqdn"] == "_acme-challenge.a.test"
    objs[-1]["metadata"]["creationTimestamp"] = ts(-timedelta(minutes=1))
    assert "DNS01_PROPAGATION_PENDING" not in codes(*objs)


# -- requests ------------------------------------------------------------------------------
def test_request_failed_current_revision_only() -> None:
    failed = request("c-2", "c", revision=2, conds=[
        cond("Approved", "True"),
        cond("Ready", "False", "Failed", "Failed to sign: context deadline exceeded "
                                         "(Client.Timeout exceeded while awaiting headers)")])
    cert = certificate("c", ready="True", status={"revision": 1})
    assert codes(issuer("iss"), cert, request("c-1", "c"), failed) == {
        "CERTIFICATE_REQUEST_FAILED"}
    # once revision 2 is issued, the old failure is history
    cert2 = certificate("c", status={"revision": 2})
    older = request("c-1", "c", conds=failed["status"]["conditions"])
    assert codes(issuer("iss"), cert2, older, request("c-2", "c", revision=2)) == set()


def test_request_denied_and_not_approved() -> None:
    d = request("c-1", "c", conds=[cond("Denied", "True", "policy.cert-manager.io",
                                        "No policy approved this request"),
                                   cond("Ready", "False", "Denied", "denied")])
    assert codes(issuer("iss"), certificate("c"), d) == {"CERTIFICATE_REQUEST_DENIED"}
    w = request("c-1", "c", conds=[])
    assert codes(issuer("iss"), certificate("c"), w) == {"CERTIFICATE_REQUEST_NOT_APPROVED"}
    w["metadata"]["creationTimestamp"] = ts(-timedelta(minutes=1))
    assert codes(issuer("iss"), certificate("c"), w) == set()


VAULT_MSG = ("Failed to initialise vault client for signing: error reading Kubernetes service "
             "account token from vault-sa: error calling Vault server: Error making API "
             "request. Code: 403. Errors: * permission denied")


def _vault(version: str) -> list[Obj]:
    return [issuer("vault", spec={"vault": {"server": "https://vault.test:8200",
                                            "path": "pki/sign/x"}}),
            certificate("c", issuer="vault", status={"revision": 1}),
            request("c-2", "c", revision=2, issuer="vault", conds=[
                cond("Approved", "True"), cond("Ready", "False", "Pending", VAULT_MSG)]),
            deployment(f"quay.io/jetstack/cert-manager-controller:{version}")]


def test_vault_not_retried_depends_on_version() -> None:
    f = one("VAULT_PERMISSION_DENIED_NOT_RETRIED", *_vault("v1.15.0"))
    assert "v1.15.0" in f.title and f.data["version"] == "v1.15.0"
    # renew acts on the Certificate, upgrade guidance on the controller
    assert f.data["act_on"]["renew"] == Ref("Certificate", "default", "c")
    assert f.data["act_on"]["upgrade-guidance"] == Ref("Deployment", "cert-manager",
                                                        "cert-manager")
    for fixed in ("v1.15.1", "v1.14.7", "v1.12.12", "v1.16.0", "v1.21.1"):
        assert "VAULT_PERMISSION_DENIED_NOT_RETRIED" not in codes(*_vault(fixed)), fixed
    for broken in ("v1.14.6", "v1.13.3", "v1.12.11"):
        assert "VAULT_PERMISSION_DENIED_NOT_RETRIED" in codes(*_vault(broken)), broken


# -- certificates --------------------------------------------------------------------------
def test_issuance_backoff_next_attempt() -> None:
    c = certificate("c", ready="False", status={
        "failedIssuanceAttempts": 1, "lastFailureTime": ts(-timedelta(minutes=17))})
    f = one("ISSUANCE_BACKOFF", issuer("iss"), c)
    assert f.title == "Issuance backing off: next attempt in 43m (2026-11-23 07:43:00 UTC)"
    assert f.data["next_attempt"] == "2026-11-23T07:43:00+00:00"
    c["status"]["failedIssuanceAttempts"] = 7  # 64h → capped at 32h
    f = one("ISSUANCE_BACKOFF", issuer("iss"), c)
    assert f.data["delay_seconds"] == 32 * 3600


def test_expired_and_expiring() -> None:
    exp = certificate("c", ready="False", status={"notAfter": ts(-timedelta(days=2))})
    f = one("CERTIFICATE_EXPIRED", issuer("iss"), exp)
    assert f.title == "Certificate expired 2d ago"
    expiring = certificate("c", status={
        "notAfter": ts(timedelta(days=5)), "renewalTime": ts(-timedelta(days=25)),
        "failedIssuanceAttempts": 9, "lastFailureTime": ts(-timedelta(days=3))})
    assert codes(issuer("iss"), expiring) == {"CERTIFICATE_EXPIRING"}
    # renewal 25 days overdue with no failure recorded: no rule knows why, but a stuck
    # renewal is never silent (issue 12: the fallback quotes what cert-manager wrote)
    overdue = certificate("c", status={"notAfter": ts(timedelta(days=5)),
                                       "renewalTime": ts(-timedelta(days=25))})
    assert codes(issuer("iss"), overdue) == {"ISSUANCE_STUCK_UNRECOGNISED"}
    healthy = certificate("c", status={"notAfter": ts(timedelta(days=50)),
                                       "renewalTime": ts(timedelta(days=20))})
    assert codes(issuer("iss"), healthy) == set()


def test_renew_before_too_short() -> None:
    short = certificate("c", spec={"duration": "2160h", "renewBefore": "6h"},
                        status={"notAfter": ts(timedelta(days=60))})
    f = one("RENEW_BEFORE_TOO_SHORT", issuer("iss"), short)
    assert f.data["retries"] == 2  # 1h + 2h fit in 6h, + 4h does not
    ok = certificate("c", spec={"duration": "2160h", "renewBefore": "720h"},
                     status={"notAfter": ts(timedelta(days=60))})
    assert codes(issuer("iss"), ok) == set()


def _pem(names: list[str]) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(NOW - timedelta(days=1))
            .not_valid_after(NOW + timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    from cryptography.hazmat.primitives.serialization import Encoding
    return base64.b64encode(cert.public_bytes(Encoding.PEM)).decode()


def _secret(name: str, data: dict[str, str], issuer_name: str = "iss") -> Obj:
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": meta(name, "default", annotations={
                "cert-manager.io/issuer-name": issuer_name}), "data": data}


def test_secret_mismatch() -> None:
    c = certificate("c", dns=("a.test", "b.test"), status={"notAfter": ts(timedelta(30))})
    good = _secret("c-tls", {"tls.crt": _pem(["a.test", "b.test"])})
    assert codes(issuer("iss"), c, good) == set()
    bad = _secret("c-tls", {"tls.crt": _pem(["a.test"])})
    f = one("SECRET_MISMATCH", issuer("iss"), c, bad)
    assert "different DNS names" in f.title
    empty = _secret("c-tls", {"ca.crt": "eA=="}, issuer_name="other")
    f = one("SECRET_MISMATCH", issuer("iss"), c, empty)
    assert "has no tls.crt and was issued by another issuer" in f.title


def test_expiry_falls_back_to_secret() -> None:
    c = certificate("c", dns=("a.test",))
    sec = _secret("c-tls", {"tls.crt": _pem(["a.test"])})
    later = NOW + timedelta(days=31)
    fs = run_rules(build_graph(objset(issuer("iss"), c, sec), later), later)
    assert "CERTIFICATE_EXPIRED" in {f.code for f in fs}


# -- proxy / versions ----------------------------------------------------------------------
def test_no_proxy_gap_uses_go_rules() -> None:
    api = {"apiVersion": "v1", "kind": "Service", "metadata": meta("kubernetes", "default"),
           "spec": {"clusterIP": "10.43.0.1", "type": "ClusterIP"}}
    vault = issuer("vault", spec={"vault": {"server": "https://vault.vault.svc:8200"}})
    env = {"HTTPS_PROXY": "http://proxy.corp.test:3128",
           "NO_PROXY": "10.96.0.0/12,.cluster.local,kubernetes.default"}
    f = one("PROXY_NO_PROXY_GAP", deployment(env=env), api, vault)
    assert f.object == Ref("Deployment", "cert-manager", "cert-manager")
    assert f.data["targets"] == ["https://10.43.0.1:443", "https://kubernetes.default.svc:443",
                                 "https://vault.vault.svc:8200"]
    covered = {"HTTPS_PROXY": "http://proxy.corp.test:3128",
               "NO_PROXY": "10.43.0.0/16,.svc,.cluster.local"}
    assert codes(deployment(env=covered), api, vault) == set()
    assert codes(deployment(env={"NO_PROXY": "x"}), api, vault) == set()


def test_outdated_is_info() -> None:
    f = one("CERT_MANAGER_OUTDATED", deployment("quay.io/jetstack/cert-manager-controller:"
                                                "v1.9.1@sha256:abc"))
    assert f.severity is Severity.INFO and f.title == "cert-manager v1.9.1 is no longer supported"
    assert codes(deployment("x/cert-manager-controller:latest")) == set()


def test_sorted_worst_first_and_grouped() -> None:
    fs = findings(deployment("quay.io/jetstack/cert-manager-controller:v1.9.1"),
                  issuer("iss"), certificate("c", ready="False", status={
                      "failedIssuanceAttempts": 1, "lastFailureTime": ts(-timedelta(minutes=1)),
                      "notAfter": ts(-timedelta(days=1))}))
    assert [f.severity for f in fs] == sorted((f.severity for f in fs),
                                              key=lambda s: -s.rank)
    by = findings_by_object(fs)
    assert [f.code for f in by[Ref("Certificate", "default", "c")]] == [
        "CERTIFICATE_EXPIRED", "ISSUANCE_BACKOFF"]


def test_rules_do_not_touch_input() -> None:
    objs = _http_chain(R404)
    before = repr(objs)
    run_rules(build_graph(ObjectSet.from_objects(objs), NOW), NOW)
    assert repr(objs) == before


def test_dns01_record_never_presented() -> None:
    # a record the provider refused was never presented: a provider failure, not propagation
    objs = _http_chain("DNS update failed: dns: bad authentication",
                       solver={"dns01": {"rfc2136": {"nameserver": "10.0.0.53:53"}}})
    objs[-1]["spec"]["type"] = "DNS-01"
    objs[-1]["status"]["presented"] = False
    f = one("DNS01_PROVIDER_CREDENTIALS_INVALID", *objs)
    assert "DNS01_PROPAGATION_PENDING" not in codes(*objs)
    assert f.evidence[0] == ('Challenge.status.reason: "DNS update failed: dns: bad '
                             'authentication"')
    # presented, still waiting without an error-looking reason: nothing to say
    objs[-1]["status"].update(presented=True, reason="")
    assert "DNS01_PROPAGATION_PENDING" not in codes(*objs)


def test_acme_unreachable_says_how_the_controller_routes() -> None:
    env = {"HTTPS_PROXY": "http://proxy.corp.test:3128", "NO_PROXY": ".svc,acme.test"}
    # v1.21.1 writes ACME-server errors as "Failed to register" (setup.go@v1.4.0+)
    objs = (acme_issuer(ready="False", reason="ErrRegisterACMEAccount",
                        message="Failed to register ACME account: Get \"https://acme.test/"
                                "directory\": context deadline exceeded"),
            deployment(env=env))
    f = one("ACME_SERVER_UNREACHABLE", *objs)
    assert f.evidence[-1] == ("controller sends https://acme.test/directory direct (no proxy "
                              "applies under Go's NO_PROXY rules)")
    assert f.data["proxy"] is None


def test_grace_periods_need_a_known_age() -> None:
    """Objects re-created from a bundle carry a creation time after the capture time: their
    age is unknown, so the grace period cannot hold the finding back."""
    w = request("c-1", "c", conds=[])
    w["metadata"]["creationTimestamp"] = ts(timedelta(days=30))
    assert codes(issuer("iss"), certificate("c"), w) == {"CERTIFICATE_REQUEST_NOT_APPROVED"}
    del w["metadata"]["creationTimestamp"]
    assert codes(issuer("iss"), certificate("c"), w) == {"CERTIFICATE_REQUEST_NOT_APPROVED"}
    w["metadata"]["creationTimestamp"] = ts(timedelta(seconds=30))  # clock skew: age 0
    assert codes(issuer("iss"), certificate("c"), w) == set()


def test_issuer_not_found_stays_quiet_when_issuers_could_not_be_read() -> None:
    """Absence proves nothing when the kind was forbidden (issue 13: coverage, not silence
    and not a false accusation)."""
    objs = objset(certificate("c", issuer="gone"))
    assert "ISSUER_NOT_FOUND" in {f.code for f in run_rules(build_graph(objs, NOW), NOW)}
    objs.unseen = frozenset({"Issuer"})
    assert "ISSUER_NOT_FOUND" not in {f.code for f in run_rules(build_graph(objs, NOW), NOW)}


def test_backoff_formula_follows_the_controller_release() -> None:
    """trigger_controller.go shouldBackoffReissuingOnFailure at v1.7.3, v1.8.0, v1.20.0 and
    v1.21.0: flat 1h; 1h·2^(n-1) then 32h after 6; v1.20's uncapped min·2^(n-1) then 32h;
    v1.21's min·2^(n-1) capped at the maximum flag."""
    from kubectl_certdoctor.backoff import config_from_args, delay_for

    h = timedelta(hours=1)
    assert delay_for(5, config_from_args([], (1, 7))) == h
    v18 = config_from_args([], (1, 8))
    assert [delay_for(n, v18) for n in (1, 2, 6, 7, 30)] == [h, 2 * h, 32 * h, 32 * h, 32 * h]
    args = ["--certificate-request-minimum-backoff-duration=2h"]
    v20 = config_from_args(args, (1, 20))
    assert delay_for(6, v20) == 64 * h and delay_for(7, v20) == 32 * h
    v21 = config_from_args([*args, "--certificate-request-maximum-backoff-duration=48h"],
                           (1, 21))
    assert delay_for(6, v21) == 48 * h and delay_for(2, v21) == 4 * h
    assert delay_for(6, config_from_args(args, None)) == 32 * h  # unknown: newest (cap 32h)


def _csr_b64(*names: str, cn: str = "") -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else []))
    b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                        critical=False)
    from cryptography.hazmat.primitives import serialization

    pem = b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    return base64.b64encode(pem).decode()


def test_backoff_is_skipped_when_the_spec_changed_since_the_next_request() -> None:
    """RequestMatchesSpec (pkg/util/pki/match.go at v1.21.1): a user who fixed the spec gets
    an immediate re-issue, not "next retry in 3h"."""
    failing = {"revision": 1, "failedIssuanceAttempts": 2,
               "lastFailureTime": ts(-timedelta(minutes=10))}
    cr = request("c-2", "c", revision=2, conds=[
        cond("Approved", "True", "cert-manager.io", "approved"),
        cond("Ready", "False", "Failed", "boom")])
    cr["spec"]["request"] = _csr_b64("a.test")
    same = certificate("c", status=failing, dns=("a.test",))
    assert "ISSUANCE_BACKOFF" in codes(issuer("iss"), same, cr)
    changed = certificate("c", status=failing, dns=("a.test", "b.test"))
    assert "ISSUANCE_BACKOFF" not in codes(issuer("iss"), changed, cr)
    # an unreadable CSR (a placeholder in a hand-written bundle) concludes nothing
    cr["spec"]["request"] = "LS0t"
    assert "ISSUANCE_BACKOFF" in codes(issuer("iss"), changed, cr)
