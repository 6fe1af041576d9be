"""Diagnosis v2, ACME area: account, solver selection, orders/authorizations, HTTP-01 solver
set-up. Messages are cert-manager's (file@tag in the rules) or the CA's verbatim texts from
public reports (issue URL next to each)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from kubectl_certdoctor.objects import Obj
from kubectl_certdoctor.rules.acme_solvers import compare_domain_name, pick
from kubectl_certdoctor.rules.finding import Finding, Severity
from tests.support.diagnosis import (
    certificate,
    challenge,
    codes,
    cond,
    event,
    findings,
    issuer,
    meta,
    order,
    request,
    ts,
)
from tests.test_rules import HEALTHY, acme_issuer, deployment

V = "quay.io/jetstack/cert-manager-controller:"


def one(code: str, *objs: Obj) -> Finding:
    found = [f for f in findings(*objs) if f.code == code]
    assert len(found) == 1, [(f.code, str(f.object)) for f in findings(*objs)]
    f = found[0]
    assert f.remedy and "{" not in f.remedy and "?" not in f.remedy.split()[0]
    return f


def no_fallback(*objs: Obj) -> None:
    assert "ISSUANCE_STUCK_UNRECOGNISED" not in codes(*objs)


# -- healthy ---------------------------------------------------------------------------------
def _valid(name: str, iss: str, kind: str = "ClusterIssuer",
           dns: tuple[str, ...] = ("a.test",)) -> list[Obj]:
    return [certificate(name, issuer=iss, kind=kind, dns=dns,
                        status={"notAfter": ts(timedelta(days=60)), "revision": 1,
                                "renewalTime": ts(timedelta(days=30))}),
            request(f"{name}-1", name, issuer=iss, kind=kind)]


def test_healthy_vault_ca_and_acme_dns01_give_nothing() -> None:
    acme = issuer("le", None, message="The ACME account was registered with the ACME server",
                  reason="ACMEAccountRegistered",
                  spec={"acme": {"server": "https://acme-v02.api.letsencrypt.test/directory",
                                 "privateKeySecretRef": {"name": "le-key"},
                                 "solvers": [{"dns01": {"route53": {"region": "eu-west-1"}},
                                              "selector": {"dnsZones": ["test"]}}]}},
                  status={"acme": {"uri": "https://acme-v02.api.letsencrypt.test/acme/acct/1"}})
    vault = issuer("vault", None, spec={"vault": {"server": "https://vault.test:8200",
                                                  "path": "pki/sign/x"}})
    ca = issuer("ca", None, spec={"ca": {"secretName": "ca"}})
    objs = [*HEALTHY, acme, vault, ca, *_valid("w", "le", dns=("*.a.test", "a.test")),
            *_valid("v", "vault"), *_valid("c", "ca")]
    fs = findings(*objs)
    assert [f for f in fs if f.severity is not Severity.INFO] == [], [f.code for f in fs]


# -- 1. account: verify vs register, by version -------------------------------------------
VERIFY = "Failed to verify ACME account: context deadline exceeded"
PROXY = {"HTTPS_PROXY": "http://proxy.corp.test:3128", "NO_PROXY": "localhost,127.0.0.1"}


def _verify(reason: str = "ErrVerifyACMEAccount", image: str | None = "v1.21.1") -> list[Obj]:
    objs = [acme_issuer(ready="False", reason=reason, message=VERIFY)]
    if image:
        objs.append(deployment(V + image, env=PROXY))
    return objs


def test_verify_on_current_controller_is_the_key_secret() -> None:
    for version in ("v1.4.0", "v1.12.3", "v1.21.1"):
        f = one("ACME_ACCOUNT_KEY_SECRET_UNREADABLE", *_verify(image=version))
        assert f.severity is Severity.ERROR
        assert "ACME_SERVER_UNREACHABLE" not in codes(*_verify(image=version))
        assert f.evidence[0].startswith("ClusterIssuer.status.conditions[Ready]: False, reason "
                                        "ErrVerifyACMEAccount")
        assert any("→ proxy http://proxy.corp.test:3128" in e for e in f.evidence)
        assert "NO_PROXY" in f.remedy and "cert-manager/le-key" in f.remedy
        assert "ISSUER_NOT_READY" not in codes(*_verify(image=version))


def test_verify_on_old_controller_is_the_acme_server() -> None:
    for version in ("v1.1.0", "v1.3.3"):
        assert "ACME_SERVER_UNREACHABLE" in codes(*_verify(image=version))
        assert "ACME_ACCOUNT_KEY_SECRET_UNREADABLE" not in codes(*_verify(image=version))
    # the v1.0–v1.3 shape (reason ErrRegisterACMEAccount + "verify") is the ACME server
    f = one("ACME_SERVER_UNREACHABLE", *_verify("ErrRegisterACMEAccount", "v1.1.0"))
    assert any("v1.0–v1.3" in e for e in f.evidence)


def test_verify_unknown_version_says_both_readings() -> None:
    f = one("ACME_ACCOUNT_KEY_SECRET_UNREADABLE", *_verify(image=None))
    assert any("version unknown" in e and "v1.3 or older" in e for e in f.evidence)


def test_register_network_error_is_the_acme_server_on_any_version() -> None:
    for version in ("v1.1.0", "v1.21.1"):
        objs = [acme_issuer(ready="False", reason="ErrRegisterACMEAccount",
                            message="Failed to register ACME account: Get \"https://acme.test/"
                                    "directory\": dial tcp 1.2.3.4:443: i/o timeout"),
                deployment(V + version)]
        assert "ACME_SERVER_UNREACHABLE" in codes(*objs)
        assert "ACME_ACCOUNT_KEY_SECRET_UNREADABLE" not in codes(*objs)


def test_account_mismatch_is_info_only_while_not_ready() -> None:
    kw: dict[str, Any] = {"server": "https://acme-v02.api.letsencrypt.test/directory",
                          "uri": "https://acme-staging-v02.api.letsencrypt.test/acme/acct/1"}
    assert "ACME_ACCOUNT_SERVER_MISMATCH" not in codes(acme_issuer(**kw))
    f = one("ACME_ACCOUNT_SERVER_MISMATCH", acme_issuer(
        ready="False", reason="ErrRegisterACMEAccount",
        message="Failed to register ACME account: 503 urn:ietf:params:acme:error:"
                "serverInternal: down", **kw))
    assert f.severity is Severity.INFO and f.fixes == ()
    assert "Nothing needs deleting" in f.remedy and "delete" not in f.remedy.replace(
        "Nothing needs deleting", "")


# -- registration rejected ---------------------------------------------------------------
@pytest.mark.parametrize("message,problem", [
    # detail: https://github.com/openwrt/luci/issues/8064 (Let's Encrypt invalidContact)
    ("Failed to register ACME account: 400 urn:ietf:params:acme:error:invalidContact: Error "
     "validating contact(s) :: contact email has forbidden domain \"example.org\"",
     "invalidContact"),
    # detail: https://github.com/ansible-collections/community.crypto/pull/100 (ZeroSSL)
    ("Failed to register ACME account: 400 urn:ietf:params:acme:error:externalAccountRequired: "
     "The request must include a value for the \"externalAccountBinding\" field",
     "externalAccountRequired"),
    # https://github.com/cert-manager/cert-manager/issues/4446
    ("Failed to register ACME account: 400 urn:ietf:params:acme:error:malformed: [External "
     "Account Binding] Invalid MAC on JWS request", "External Account Binding"),
    # https://github.com/cert-manager/website/pull/1183
    ("Failed to register ACME account: 400 urn:ietf:params:acme:error:malformed: [External "
     "Account Binding] The Key Identifier was not recognized", "External Account Binding"),
    # setup.go getEABKey InvalidData / NotFound (v1.4.0 … v1.21.1)
    ("Failed to register ACME account: failed to decode external account binding key data: "
     "illegal base64 data at input byte 43", "External Account Binding"),
    ("Failed to register ACME account: failed to get External Account Binding key from "
     "secret: secrets \"zerossl-eab\" not found", "External Account Binding"),
])
def test_registration_rejected(message: str, problem: str) -> None:
    objs = [acme_issuer(ready="False", reason="ErrRegisterACMEAccount", message=message)]
    assert codes(*objs) == {"ACME_ACCOUNT_REGISTRATION_REJECTED"}
    f = one("ACME_ACCOUNT_REGISTRATION_REJECTED", *objs)
    assert problem in f.title and f.severity is Severity.ERROR
    assert "ClusterIssuer le" in f.remedy and "edit" in f.remedy
    assert json.dumps(message) in f.evidence[0]


def test_registration_5xx_or_network_is_not_rejected() -> None:
    for msg in ("Failed to register ACME account: 503 urn:ietf:params:acme:error:"
                "serverInternal: maintenance",
                "Failed to register ACME account: context deadline exceeded"):
        assert "ACME_ACCOUNT_REGISTRATION_REJECTED" not in codes(acme_issuer(
            ready="False", reason="ErrRegisterACMEAccount", message=msg))


# -- solver selection ----------------------------------------------------------------------
def _solver_chain(solvers: list[dict[str, Any]], dns: tuple[str, ...] = ("a.example.com",),
                  cert_labels: dict[str, str] | None = None,
                  order_event: bool = False) -> list[Obj]:
    iss = issuer("le", None, spec={"acme": {"server": "https://acme.test/directory",
                                            "privateKeySecretRef": {"name": "le-key"},
                                            "solvers": solvers}})
    cert = certificate("c", issuer="le", kind="ClusterIssuer", ready="False", dns=dns)
    cert["status"]["conditions"].append(cond("Issuing", "True", "DoesNotExist", "x"))
    if cert_labels:
        cert["metadata"]["labels"] = cert_labels
    cr = request("c-1", "c", issuer="le", kind="ClusterIssuer", conds=[
        cond("Approved", "True"), cond("Ready", "False", "Pending", "Waiting on certificate "
                                       "issuance from order default/c-1-1: \"pending\"")])
    od = order("c-1-1", "c-1", issuer="le", kind="ClusterIssuer")
    od["spec"]["dnsNames"] = list(dns)
    if cert_labels:
        od["metadata"]["labels"] = cert_labels
    objs = [iss, cert, cr, od]
    if order_event:
        objs.append(event("e1", "default", "Order", "c-1-1", "default",
                          "Failed to determine a valid solver configuration for the set of "
                          "domains on the Order: no configured challenge solvers can be used "
                          "for this challenge", -timedelta(minutes=2), reason="Solver"))
    return objs


DNS01 = {"dns01": {"cloudflare": {"apiTokenSecretRef": {"name": "cf", "key": "t"}}}}
HTTP01 = {"http01": {"ingress": {"ingressClassName": "nginx"}}}


def test_compare_domain_name_like_miekg() -> None:
    assert compare_domain_name("example.com", "a.Example.COM.") == 2
    assert compare_domain_name("ample.com", "a.example.com") == 1


def test_pick_most_specific_wins() -> None:
    solvers = [HTTP01, {**DNS01, "selector": {"dnsZones": ["example.com"]}},
               {**DNS01, "selector": {"dnsZones": ["a.example.com"]}},
               {**HTTP01, "selector": {"dnsNames": ["a.example.com"]}}]
    assert pick(solvers, "a.example.com", {"http-01", "dns-01"}, {})[0] == 3
    assert pick(solvers[:3], "a.example.com", {"http-01", "dns-01"}, {})[0] == 2
    assert pick(solvers[:3], "b.other.org", {"http-01", "dns-01"}, {})[0] == 0


def test_no_matching_solver_says_which_selector() -> None:
    objs = _solver_chain([{**DNS01, "selector": {"dnsZones": ["example.org"]}},
                          {**HTTP01, "selector": {"matchLabels": {"use-http01": "true"}}}],
                         order_event=True)
    f = one("ACME_NO_MATCHING_SOLVER", *objs)
    assert f.object.kind == "Order" and f.severity is Severity.ERROR
    text = " ".join(f.evidence)
    assert 'dnsZones ["example.org"] do not contain a.example.com' in text
    assert 'matchLabels {"use-http01": "true"}' in text
    assert "no configured challenge solvers can be used" in text
    assert "a.example.com" in f.remedy
    no_fallback(*objs)
    # the label on the Certificate (copied to the Order) makes solver 1 match
    ok = _solver_chain([{**DNS01, "selector": {"dnsZones": ["example.org"]}},
                        {**HTTP01, "selector": {"matchLabels": {"use-http01": "true"}}}],
                       cert_labels={"use-http01": "true"})
    assert "ACME_NO_MATCHING_SOLVER" not in codes(*ok)


def test_no_solvers_at_all_and_event_only() -> None:
    f = one("ACME_NO_MATCHING_SOLVER", *_solver_chain([]))
    assert "has no solvers" in " ".join(f.evidence)


def test_wildcard_needs_dns01() -> None:
    objs = _solver_chain([HTTP01], dns=("*.example.com", "example.com"), order_event=True)
    f = one("ACME_WILDCARD_NEEDS_DNS01", *objs)
    assert "*.example.com" in f.title and "HTTP-01 cannot validate a wildcard" in f.evidence[1]
    assert "dnsZones: [example.com]" in f.remedy
    assert "ACME_NO_MATCHING_SOLVER" not in codes(*objs)
    no_fallback(*objs)
    fine = _solver_chain([HTTP01, {**DNS01, "selector": {"dnsZones": ["example.com"]}}],
                         dns=("*.example.com", "example.com"))
    assert not codes(*fine) & {"ACME_WILDCARD_NEEDS_DNS01", "ACME_NO_MATCHING_SOLVER"}


# -- orders and authorizations -------------------------------------------------------------
def _failed_chain(order_state: str = "invalid", order_reason: str = "",
                  ch_state: str = "invalid", ch_reason: str = "", ctype: str = "HTTP-01",
                  host: str = "a.test", cn: str = "",
                  spec: dict[str, Any] | None = None) -> list[Obj]:
    cert = certificate("c", issuer="le", kind="ClusterIssuer", ready="False", dns=(host,),
                       spec=spec)
    if cn:
        cert["spec"]["commonName"] = cn
    cr = request("c-1", "c", issuer="le", kind="ClusterIssuer", conds=[
        cond("Approved", "True"), cond("Ready", "False", "Failed",
                                       f"Failed to wait for order resource \"c-1-1\" to become "
                                       f"ready: order is in \"{order_state}\" state: "
                                       f"{order_reason}")])
    objs = [acme_issuer(), cert, cr,
            order("c-1-1", "c-1", state=order_state, reason=order_reason, issuer="le",
                  kind="ClusterIssuer")]
    if ch_state:
        objs.append(challenge("c-1-1-0", "c-1-1", state=ch_state, reason=ch_reason,
                              ctype=ctype, host=host, issuer="le", kind="ClusterIssuer"))
    return objs


@pytest.mark.parametrize("reason", [
    # https://github.com/hakwerk/labca/issues/34 (CA detail copied into status.reason)
    "CAA record for a.test prevents issuance",
    # https://github.com/cert-manager/cert-manager/issues/3025
    "Accepting challenge authorization failed: acme: authorization error for a.test: 400 "
    "urn:ietf:params:acme:error:dns: DNS problem: SERVFAIL looking up CAA for a.test - the "
    "domain's nameservers may be malfunctioning",
    # https://github.com/letsencrypt/boulder/issues/6915
    "Error accepting authorization: acme: authorization error for a.test: 400 urn:ietf:params:"
    "acme:error:dns: DNS problem: NXDOMAIN looking up CAA for a.test - check that a DNS record "
    "exists for this domain",
])
def test_caa_forbids(reason: str) -> None:
    objs = _failed_chain(ch_reason=reason)
    f = one("ACME_CAA_FORBIDS", *objs)
    assert f.object.kind == "Challenge" and reason in f.evidence[0]
    assert not codes(*objs) & {"ACME_ORDER_FAILED", "ACME_DNS_LOOKUP_FAILED",
                               "ACME_AUTHORIZATION_INVALID"}
    assert "a.test" in f.remedy and "CAA" in f.remedy
    no_fallback(*objs)


@pytest.mark.parametrize("reason,record", [
    # https://github.com/acmesh-official/acme.sh/issues/201 (Boulder detail)
    ("DNS problem: NXDOMAIN looking up A for a.test - check that a DNS record exists for this "
     "domain", "A"),
    # https://github.com/cert-manager/cert-manager/issues/6388
    ("Error accepting authorization: acme: authorization error for a.test: 400 urn:ietf:params:"
     "acme:error:dns: DNS problem: NXDOMAIN looking up TXT for _acme-challenge.a.test - check "
     "that a DNS record exists for this domain", "TXT"),
    ("No valid IP addresses found for a.test", "A/AAAA"),
])
def test_dns_lookup_failed(reason: str, record: str) -> None:
    objs = _failed_chain(ch_reason=reason)
    f = one("ACME_DNS_LOOKUP_FAILED", *objs)
    assert f.data["record"] == record and reason in f.evidence[0]
    assert "ACME_ORDER_FAILED" not in codes(*objs)
    no_fallback(*objs)


def test_dns_propagation_wait_is_not_the_cas_lookup() -> None:
    objs = _failed_chain(order_state="pending", ch_state="pending", ctype="DNS-01",
                         ch_reason="Waiting for DNS-01 challenge propagation: NXDOMAIN "
                                   "looking up TXT for _acme-challenge.a.test")
    assert "ACME_DNS_LOOKUP_FAILED" not in codes(*objs)


@pytest.mark.parametrize("kw", [
    {"ch_state": "expired", "ch_reason": ""},
    # https://github.com/cert-manager/cert-manager/issues/5434
    {"order_state": "errored", "ch_state": "",
     "order_reason": "Failed to retrieve Order resource: 404 urn:ietf:params:acme:error:"
                     "malformed: No order for ID 121644554807"},
    {"order_state": "errored", "ch_state": "",
     "order_reason": "Failed to fetch authorization: 404 urn:ietf:params:acme:error:malformed: "
                     "Expired authorization"},
    # an invalid Challenge whose detail names no CAA/DNS cause (Boulder's HTTP-01 detail shape)
    {"ch_reason": "Invalid response from http://a.test/.well-known/acme-challenge/tok: 404"},
])
def test_authorization_invalid(kw: dict[str, Any]) -> None:
    objs = _failed_chain(**kw)
    f = one("ACME_AUTHORIZATION_INVALID", *objs)
    assert "new Order" in f.explanation and "renew" in f.remedy and "c" in f.remedy
    assert "ACME_ORDER_FAILED" not in codes(*objs)
    no_fallback(*objs)


def test_order_failed_and_rate_limit_still_work() -> None:
    objs = _failed_chain(order_state="errored", ch_state="",
                         order_reason="Failed to create Order: 429 urn:ietf:params:acme:error:"
                                      "rateLimited: too many certificates already issued")
    assert {"ACME_ORDER_FAILED", "ACME_RATE_LIMITED"} <= codes(*objs)
    assert "ACME_AUTHORIZATION_INVALID" not in codes(*objs)


@pytest.mark.parametrize("reason", [
    # https://github.com/cert-manager/cert-manager/issues/1462
    "Failed to finalize Order: 400 urn:ietf:params:acme:error:malformed: Error finalizing "
    "order :: CN was longer than 64 bytes",
    # https://github.com/cert-manager/cert-manager/issues/2794
    "Failed to finalize Order: 400 urn:ietf:params:acme:error:badCSR: Error finalizing order "
    ":: issuing precertificate: CSR doesn't contain a SAN short enough to fit in CN",
])
def test_common_name_too_long(reason: str) -> None:
    objs = _failed_chain(order_state="errored", ch_state="", order_reason=reason)
    f = one("COMMON_NAME_TOO_LONG", *objs)
    assert f.object.kind == "Certificate" and any(reason in e for e in f.evidence)
    assert "ACME_ORDER_FAILED" not in codes(*objs)
    no_fallback(*objs)


def test_common_name_too_long_from_spec_only_when_over_64() -> None:
    long = "x" * 60 + ".a.test"
    f = one("COMMON_NAME_TOO_LONG", *_failed_chain(order_state="pending", ch_state="",
                                                   cn=long))
    assert f.data["length"] == 67 and "67 bytes" in f.evidence[0]
    assert "COMMON_NAME_TOO_LONG" not in codes(*_failed_chain(
        order_state="pending", ch_state="", cn="a.test"))


def test_unsupported_identifier() -> None:
    # buildOrder (v1.1.0 … v1.21.1) puts only dnsNames/ipAddresses into the Order: URIs are
    # reported from the spec of a stuck Certificate, whatever the CA later says
    objs = _failed_chain(order_state="pending", ch_state="",
                         spec={"uris": ["spiffe://cluster.local/ns/a/sa/b"]})
    f = one("ACME_UNSUPPORTED_IDENTIFIER", *objs)
    assert "URI SANs" in f.title and "spec.uris" in f.remedy
    assert 'Certificate.spec.uris: ["spiffe://cluster.local/ns/a/sa/b"]' in f.evidence
    assert "ACME_ORDER_FAILED" not in codes(*objs)
    no_fallback(*objs)
    # IP addresses: supported in Orders from v1.1.0, reported only when the CA rejects them
    ips = _failed_chain(order_state="pending", ch_state="", spec={"ipAddresses": ["10.0.0.1"]})
    assert "ACME_UNSUPPORTED_IDENTIFIER" not in codes(*ips, deployment(V + "v1.21.1"))
    assert "ACME_UNSUPPORTED_IDENTIFIER" in codes(*ips, deployment(V + "v1.0.4"))
    rej = _failed_chain(order_state="errored", ch_state="", spec={"ipAddresses": ["10.0.0.1"]},
                        order_reason="Failed to create Order: 400 urn:ietf:params:acme:error:"
                                     "rejectedIdentifier: Invalid identifiers requested :: "
                                     "Cannot issue for \"10.0.0.1\": The ACME server can only "
                                     "issue certificates for domain names")
    assert "ACME_UNSUPPORTED_IDENTIFIER" in codes(*rej)


# -- HTTP-01 self-check status codes -------------------------------------------------------
def _http(reason: str) -> list[Obj]:
    return _failed_chain(order_state="pending", ch_state="pending", ch_reason=reason)


def test_wrong_status_other_than_404() -> None:
    for status, words in (("503", "endpoints"), ("403", "allow-list"), ("502", "endpoints"),
                          ("500", "endpoints"), ("401", "authentication")):
        reason = (f"Waiting for HTTP-01 challenge propagation: wrong status code '{status}', "
                  "expected '200'")
        objs = _http(reason)
        f = one("HTTP01_SELF_CHECK_WRONG_STATUS", *objs)
        assert f.title == f"HTTP-01 self-check for a.test got HTTP {status}"
        assert words in f.explanation + f.remedy and f.evidence[0].endswith(f'"{reason}"')
        assert "HTTP01_SELF_CHECK_404" not in codes(*objs)
    r404 = "Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'"
    assert "HTTP01_SELF_CHECK_404" in codes(*_http(r404))
    assert "HTTP01_SELF_CHECK_WRONG_STATUS" not in codes(*_http(r404))


# -- solver Ingress refused ----------------------------------------------------------------
# https://github.com/cert-manager/cert-manager/issues/7791
EXACT = ("Error presenting challenge: admission webhook \"validate.nginx.ingress.kubernetes.io\" "
         "denied the request: ingress contains invalid paths: path /.well-known/acme-challenge/"
         "oTw4h9_WsobTRn5COTSyaiAx3aWn0M7_aYisoz1gXQw cannot be used with pathType Exact")


def _rejected(version: str | None, msg: str = EXACT) -> list[Obj]:
    objs = _failed_chain(order_state="pending", ch_state="pending", ch_reason="")
    objs[-1]["status"]["presented"] = False
    objs.append(event("e1", "default", "Challenge", "c-1-1-0", "default", msg,
                      -timedelta(minutes=1), reason="PresentError"))
    if version:
        objs.append(deployment(V + version))
    return objs


def test_solver_ingress_rejected_path_type_exact_by_version() -> None:
    f = one("HTTP01_SOLVER_INGRESS_REJECTED", *_rejected("v1.18.2"))
    assert "ACMEHTTP01IngressPathTypeExact=false" in f.remedy
    assert "validate.nginx.ingress.kubernetes.io" in f.explanation
    assert f.evidence[0].startswith("Challenge Event PresentError: ")
    f0 = one("HTTP01_SOLVER_INGRESS_REJECTED", *_rejected("v1.18.0"))
    assert "upgrade to v1.18.1" in f0.remedy
    fu = one("HTTP01_SOLVER_INGRESS_REJECTED", *_rejected(None))
    assert any("version unknown" in e for e in fu.evidence)
    no_fallback(*_rejected("v1.18.2"))


def test_solver_ingress_rejected_other_webhook() -> None:
    msg = ("Error presenting challenge: admission webhook \"validate.nginx.ingress.kubernetes.io\""
           " denied the request: host \"a.test\" and path \"/.well-known/acme-challenge/tok\" "
           "is already defined in ingress web/site")
    f = one("HTTP01_SOLVER_INGRESS_REJECTED", *_rejected("v1.15.0", msg))
    assert "conflicting Ingress" in f.remedy
    assert "HTTP01_SOLVER_INGRESS_REJECTED" not in codes(*_rejected("v1.15.0", "boom"))


# -- Gateway API solver route --------------------------------------------------------------
def _route(status: str) -> Obj:
    md = meta("cm-acme-http-solver-abcde", "default",
              labels={"acme.cert-manager.io/http01-solver": "true"})
    md["ownerReferences"] = [{"apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge",
                              "name": "c-1-1-0", "uid": "uid-default-c-1-1-0",
                              "controller": True}]
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": md,
            "spec": {"parentRefs": [{"name": "gw", "namespace": "web"}]},
            "status": {"parents": [{"parentRef": {"name": "gw", "namespace": "web"},
                                    "controllerName": "gateway.envoyproxy.io/gatewayclass",
                                    "conditions": [
                                        {"type": "Accepted", "status": status,
                                         "reason": "NotAllowedByListeners",
                                         "message": "No listeners included by this parent "
                                                    "ref allowed this attachment."}]}]}}


def test_gateway_route_not_accepted() -> None:
    objs = [*_http(""), _route("False")]
    f = one("HTTP01_GATEWAY_ROUTE_NOT_ACCEPTED", *objs)
    assert "NotAllowedByListeners" in f.evidence[0] and "web/gw" in f.evidence[0]
    assert "allowedRoutes" in f.remedy
    no_fallback(*objs)
    assert "HTTP01_GATEWAY_ROUTE_NOT_ACCEPTED" not in codes(*_http(""), _route("True"))
