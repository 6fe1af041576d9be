"""DNS-01 provider and solver codes on the messages cert-manager really writes.

Each verbatim provider message below is quoted from the public report cited next to it;
where cert-manager wraps it, the wrapping is the one of the tag named (pkg/issuer/acme/dns/…).
A failing Present leaves status.presented false and the error in status.reason; from v1.20.0
AWS/Azure/DigitalOcean SDK errors are redacted there and only the PresentError Event has
them (pkg/controller/acmechallenges/sync.go).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kubectl_certdoctor.objects import Obj
from kubectl_certdoctor.rules.dns01_provider import classify, solver_of
from kubectl_certdoctor.rules.finding import Finding, Severity
from tests.support.diagnosis import (
    apiservice,
    certificate,
    challenge,
    codes,
    controller,
    dns01_chain,
    issuer,
    order,
    present_error,
    request,
    secret,
    ts,
)
from tests.support.diagnosis import findings as run

FALLBACK = "ISSUANCE_STUCK_UNRECOGNISED"
CH = "web-1-1-0"

ROUTE53 = {"dns01": {"route53": {"region": "us-east-1", "accessKeyID": "AKIAEXAMPLE",
                                 "secretAccessKeySecretRef": {"name": "route53-creds",
                                                              "key": "secret-access-key"}}}}
ROUTE53_AMBIENT = {"dns01": {"route53": {"region": "us-east-1"}}}
CLOUDFLARE = {"dns01": {"cloudflare": {"apiTokenSecretRef": {
    "name": "cloudflare-api-token-secret", "key": "api-token"}}}}
CLOUDDNS = {"dns01": {"cloudDNS": {"project": "my-project", "serviceAccountSecretRef": {
    "name": "clouddns-sa", "key": "key.json"}}}}
CLOUDDNS_AMBIENT = {"dns01": {"cloudDNS": {"project": "my-project"}}}
AZURE = {"dns01": {"azureDNS": {"clientID": "cid", "tenantID": "tid", "subscriptionID": "sub",
                                "resourceGroupName": "dns-rg", "hostedZoneName": "example.com",
                                "clientSecretSecretRef": {"name": "azuredns-sp",
                                                          "key": "client-secret"}}}}
AZURE_AMBIENT = {"dns01": {"azureDNS": {"subscriptionID": "sub", "resourceGroupName": "dns-rg",
                                        "hostedZoneName": "example.com"}}}
RFC2136 = {"dns01": {"rfc2136": {"nameserver": "10.0.0.53:53", "tsigKeyName": "cert-manager",
                                 "tsigAlgorithm": "HMACSHA256", "tsigSecretSecretRef": {
                                     "name": "tsig-secret", "key": "tsig-secret-key"}}}}
WEBHOOK = {"dns01": {"webhook": {"groupName": "acme.example.com", "solverName": "dnspod",
                                 "config": {}}}}


def one(code: str, *objs: Obj) -> Finding:
    fs = run(*objs)
    found = [f for f in fs if f.code == code]
    assert len(found) == 1, [(f.code, f.evidence) for f in fs]
    f = found[0]
    # every DNS-01 provider finding: on the Challenge, an error, with a concrete remedy, and
    # it explains the stuck Certificate (no fallback), and is not called "propagation"
    assert f.object.kind == "Challenge" and f.object.name == CH
    assert f.severity is Severity.ERROR
    assert f.remedy and "{" not in f.remedy and "?" not in f.title
    got = {x.code for x in fs}
    assert FALLBACK not in got and "DNS01_PROPAGATION_PENDING" not in got, got
    return f


# -- 1. DNS01_PROPAGATION_PENDING only for presented records ---------------------------------
def test_propagation_pending_needs_a_presented_record() -> None:
    waiting = ("Waiting for DNS-01 challenge propagation: DNS record for \"www.example.com\" "
               "not yet propagated")
    objs = dns01_chain(waiting, CLOUDFLARE, presented=True)
    f = next(f for f in run(*objs) if f.code == "DNS01_PROPAGATION_PENDING")
    assert f.evidence[:2] == (f'Challenge.status.reason: {__import__("json").dumps(waiting)}',
                              "Challenge.status.presented: true")
    assert f.remedy and "--dns01-recursive-nameservers" in f.remedy
    # the same Challenge refused by the provider is never "pending propagation"
    refused = dns01_chain("DNS update failed. Server replied: REFUSED", RFC2136)
    assert "DNS01_PROPAGATION_PENDING" not in codes(*refused)


def test_propagation_pending_on_soa_walk_of_the_check() -> None:
    # the check (presented true) failing its SOA walk: cert-manager's resolvers, not the zone
    reason = ("Waiting for DNS-01 challenge propagation: Could not determine the zone for "
              "\"_acme-challenge.www.example.com.\": Could not find the SOA record in the DNS "
              "tree for the domain '_acme-challenge.www.example.com.' using nameservers "
              "[10.96.0.10:53]")
    got = codes(*dns01_chain(reason, ROUTE53, presented=True))
    assert "DNS01_PROPAGATION_PENDING" in got and "DNS01_ZONE_NOT_FOUND" not in got


def test_wait_instead_of_self_check_is_not_propagation() -> None:
    reason = "Waiting 1m30s before accepting DNS-01 challenge without self-check"
    assert "DNS01_PROPAGATION_PENDING" not in codes(*dns01_chain(reason, ROUTE53,
                                                                 presented=True))


# -- DNS01_PROVIDER_PERMISSION_DENIED --------------------------------------------------------
PERMISSION = [
    # aws-sdk-go v1 (cert-manager v1.7.1): https://github.com/cert-manager/cert-manager/issues/4061
    (ROUTE53, "failed to change Route 53 record set: AccessDenied: User: "
              "arn:aws:sts::123456789012:assumed-role/cert-manager/1647294759484156602 is not "
              "authorized to perform: route53:ChangeResourceRecordSets on resource: "
              "arn:aws:route53:::hostedzone/Z0984294TRL0R8AT3SQA because no identity-based "
              "policy allows the route53:ChangeResourceRecordSets action"),
    # aws-sdk-go v2 (cert-manager v1.16+): https://github.com/cert-manager/cert-manager/issues/6308
    (ROUTE53, "failed to change Route 53 record set: operation error Route 53: "
              "ChangeResourceRecordSets, https response error StatusCode: 403, RequestID: "
              "<REDACTED>, api error AccessDenied: User: arn:aws:sts::123456789:assumed-role/"
              "my-role/1736330057360477495 is not authorized to perform: "
              "route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/"
              "xxxxxxxxxxxxxxx because no identity-based policy allows the "
              "route53:ChangeResourceRecordSets action"),
    # https://github.com/cert-manager/cert-manager/issues/2010 (ListHostedZonesByName)
    (ROUTE53, "failed to determine Route 53 hosted zone ID: AccessDenied: User: "
              "arn:aws:iam::123456789012:user/cm is not authorized to perform: "
              "route53:ListHostedZonesByName"),
    # cert-manager v0.16 wording: https://github.com/cert-manager/cert-manager/pull/3101
    (CLOUDFLARE, "Cloudflare API Error for GET \"/zones?name=example.com\" \n"
                 "            Error: 0: Actor 'com.cloudflare.api.token.somecode' requires "
                 "permission 'com.cloudflare.api.account.zone.list' to list zones"),
    # v1.5+ wrapping (cloudflare.go) of https://github.com/cert-manager/cert-manager/issues/2878
    (CLOUDFLARE, "while attempting to find Zones for domain _acme-challenge.www.example.com.\n"
                 "while querying the Cloudflare API for GET \"/zones?name=example.com\" \n"
                 "\t Error: 0: Actor 'com.cloudflare.api.token.xxxxxxxxxxxxxxx' requires "
                 "permission 'com.cloudflare.api.account.zone.list' to list zones"),
    # 10000 Authentication error: https://github.com/cloudflare/origin-ca-issuer/issues/108
    (CLOUDFLARE, "while querying the Cloudflare API for POST \"/zones/0123abcd/dns_records\" \n"
                 "\t Error: 10000: Authentication error"),
    # https://github.com/cert-manager/cert-manager/issues/1532
    (CLOUDDNS, "GoogleCloud API call failed: googleapi: Error 403: Forbidden, forbidden"),
    # autorest era (≤ v1.11): https://github.com/cert-manager/cert-manager/issues/5745
    (AZURE, "dns.RecordSetsClient#CreateOrUpdate: Failure responding to request: "
            "StatusCode=403 -- Original Error: autorest/azure: Service returned an error. "
            "Status=403 Code=\"AuthorizationFailed\" Message=\"The client '<principal_id>' "
            "with object id '<principal_id>' does not have authorization to perform action "
            "'Microsoft.Network/dnsZones/TXT/write' over scope '/subscriptions/<sub_id>/"
            "resourceGroups/<resource_group>/providers/Microsoft.Network/dnsZones/<dns_zone>/"
            "TXT/_acme-challenge' or the scope is invalid.\""),
    # rfc2136.go "DNS update failed. Server replied: %s"; REFUSED by the server's update policy:
    # https://github.com/TechnitiumSoftware/DnsServer/issues/1658
    (RFC2136, "DNS update failed. Server replied: REFUSED"),
    # NOTAUTH: https://github.com/cert-manager/cert-manager/issues/5650
    (RFC2136, "DNS update failed. Server replied: NOTAUTH"),
]


@pytest.mark.parametrize(("solver", "reason"), PERMISSION)
def test_permission_denied(solver: dict[str, Any], reason: str) -> None:
    f = one("DNS01_PROVIDER_PERMISSION_DENIED", *dns01_chain(reason, solver))
    assert f.evidence[0].startswith('Challenge.status.reason: "')
    assert "www.example.com" in f.title
    assert "permission" in f.explanation


def test_permission_remedy_is_provider_specific() -> None:
    f = one("DNS01_PROVIDER_PERMISSION_DENIED", *dns01_chain(PERMISSION[0][1], ROUTE53))
    assert "route53:ChangeResourceRecordSets" in f.remedy and CH in f.remedy
    f = one("DNS01_PROVIDER_PERMISSION_DENIED", *dns01_chain(PERMISSION[5][1], CLOUDFLARE))
    assert "Zone → DNS → Edit" in f.remedy
    f = one("DNS01_PROVIDER_PERMISSION_DENIED", *dns01_chain(PERMISSION[7][1], AZURE))
    assert "DNS Zone Contributor" in f.remedy and "dns-rg" in f.remedy
    f = one("DNS01_PROVIDER_PERMISSION_DENIED", *dns01_chain(PERMISSION[8][1], RFC2136))
    assert "cert-manager" in f.remedy and "10.0.0.53:53" in f.remedy


def test_permission_denied_redacted_reason_reads_the_event() -> None:
    # v1.20+: status.reason redacted (shape: https://github.com/cert-manager/cert-manager/pull/8221),
    # the PresentError Event keeps the SDK error
    redacted = ("failed to change Route 53 record set: operation error Route 53: "
                "ChangeResourceRecordSets, <redacted AWS SDK error: http.ResponseError: see "
                "events and logs for details>")
    objs = [*dns01_chain(redacted, ROUTE53), controller("v1.20.2"),
            present_error(CH, "default", PERMISSION[1][1])]
    f = one("DNS01_PROVIDER_PERMISSION_DENIED", *objs)
    assert f.evidence[0] == f'Challenge.status.reason: "{redacted}"'
    assert f.evidence[1].startswith("Challenge web-1-1-0 Event PresentError: \"Error presenting "
                                    "challenge: failed to change Route 53 record set")
    assert any("cert-manager v1.20.2 redacts" in e for e in f.evidence)
    # without a version: judged as the newest release, and it says so
    f = one("DNS01_PROVIDER_PERMISSION_DENIED", *objs[:-2], objs[-1])
    assert any("version unknown" in e for e in f.evidence)


def test_azure_redacted_event_permission() -> None:
    # azcore.ResponseError text: https://github.com/cert-manager/cert-manager/issues/7927
    event_text = (
        "PUT https://management.azure.com/subscriptions/changed-for-privacy/resourceGroups/"
        "changed-for-privacy/providers/Microsoft.Network/dnsZones/changed-for-privacy.zone/TXT/"
        "_acme-challenge\n---------------------------------------------------------------\n"
        "RESPONSE 403: 403 Forbidden\nERROR CODE: AuthorizationFailed\n"
        "---------------------------------------------------------------\n{\n  \"error\": {\n"
        "    \"code\": \"AuthorizationFailed\",\n    \"message\": \"The client 'ACTUAL_OBJECT_ID "
        "with object id 'ACTUAL_OBJECT_ID' does not have authorization to perform action "
        "'Microsoft.Network/dnsZones/TXT/write' over scope '…' or the scope is invalid.\"")
    objs = [*dns01_chain("<redacted Azure SDK error: azcore.ResponseError: see events and logs "
                         "for details>", AZURE), controller("v1.21.1"),
            present_error(CH, "default", event_text)]
    one("DNS01_PROVIDER_PERMISSION_DENIED", *objs)


def test_stale_event_is_not_read_when_the_reason_is_current() -> None:
    # the reason is current and unredacted: an old PresentError Event must not override it
    objs = [*dns01_chain("some new provider error nobody knows", ROUTE53),
            present_error(CH, "default", PERMISSION[0][1])]
    got = codes(*objs)
    assert "DNS01_PROVIDER_PERMISSION_DENIED" not in got and FALLBACK in got


# -- DNS01_PROVIDER_CREDENTIALS_INVALID ------------------------------------------------------
CREDENTIALS = [
    # https://github.com/cert-manager/cert-manager/issues/1929 (aws-sdk-go v1, v0.x wording)
    (ROUTE53, "Failed to determine Route 53 hosted zone ID: InvalidClientTokenId: The security "
              "token included in the request is invalid.\n\tstatus code: 403, request id: "
              "14f60dd1-824f-4385-a236-41a85d6a1021"),
    # https://github.com/cert-manager/cert-manager/issues/2120
    (ROUTE53, "Failed to determine Route 53 hosted zone ID: SignatureDoesNotMatch: The request "
              "signature we calculated does not match the signature you provided. Check your "
              "AWS Secret Access Key and signing method. Consult the service documentation for "
              "details.\n\tstatus code: 403, request id: ---"),
    # https://github.com/cert-manager/cert-manager/issues/3021
    (CLOUDFLARE, "while querying the Cloudflare API for GET \"/zones?name=example.com\" \n\t "
                 "Error: 6003: Invalid request headers<- 6111: Invalid format for "
                 "Authorization header"),
    # https://github.com/cert-manager/cert-manager/issues/2384
    (CLOUDFLARE, "Cloudflare API Error \n\t Error: 6003: Invalid request headers<- 6103: "
                 "Invalid format for X-Auth-Key header"),
    # cloudflare.go v1.5.0 … v1.21.1 (a newline in the Secret)
    (CLOUDFLARE, "error instantiating cloudflare challenge solver: the Cloudflare API token is "
                 "invalid (does the API token contain a newline?)"),
    # https://github.com/cert-manager/cert-manager/issues/2461
    (RFC2136, "DNS update failed: dns: bad signature"),
    # https://github.com/cert-manager/cert-manager/issues/7031
    (RFC2136, "DNS update failed: dns: bad authentication"),
    # BIND's TSIG error code as rcode text: https://github.com/acmesh-official/acme.sh/issues/4071
    (RFC2136, "DNS update failed. Server replied: BADSIG"),
    # v1.20+ redacted azidentity error: the type name alone says it (no Event in the bundle)
    (AZURE, "<redacted Azure SDK error: azidentity.AuthenticationFailedError: see events and "
            "logs for details>"),
]


@pytest.mark.parametrize(("solver", "reason"), CREDENTIALS)
def test_credentials_invalid(solver: dict[str, Any], reason: str) -> None:
    f = one("DNS01_PROVIDER_CREDENTIALS_INVALID", *dns01_chain(reason, solver))
    assert f.evidence[0].startswith('Challenge.status.reason: "')
    assert "rejected" in f.title


def test_credentials_invalid_from_event_names_the_secret() -> None:
    # https://github.com/cert-manager/cert-manager/pull/8221 (v1.20 redacted reason + Event)
    reason = ("failed to determine Route 53 hosted zone ID: operation error Route 53: "
              "ListHostedZonesByName, <redacted AWS SDK error: http.ResponseError: see events "
              "and logs for details>")
    ev = ("failed to determine Route 53 hosted zone ID: operation error Route 53: "
          "ListHostedZonesByName, https response error StatusCode: 403, RequestID: "
          "7c31c507-4343-4b75-bb99-d60450e3d212, api error SignatureDoesNotMatch: The request "
          "signature we calculated does not match the signature you provided. Check your AWS "
          "Secret Access Key and signing method. Consult the service documentation for "
          "details.")
    f = one("DNS01_PROVIDER_CREDENTIALS_INVALID", *dns01_chain(reason, ROUTE53),
            present_error(CH, "default", ev), controller("v1.20.0"))
    assert "cert-manager/route53-creds key secret-access-key" in f.remedy
    assert "SignatureDoesNotMatch" in f.explanation
    # AADSTS in the Event: https://github.com/MicrosoftDocs/azure-docs/issues/33356
    azure_ev = ("ClientSecretCredential authentication failed\nPOST https://login."
                "microsoftonline.com/tid/oauth2/v2.0/token\nRESPONSE 401 Unauthorized\n"
                "{\"error\": \"invalid_client\", \"error_description\": \"AADSTS7000215: "
                "Invalid client secret is provided.\"}")
    f = one("DNS01_PROVIDER_CREDENTIALS_INVALID",
            *dns01_chain("<redacted Azure SDK error: azidentity.AuthenticationFailedError: see "
                         "events and logs for details>", AZURE),
            present_error(CH, "default", azure_ev))
    assert "client secret's value" in f.remedy


# -- DNS01_ZONE_NOT_FOUND --------------------------------------------------------------------
ZONES = [
    # util/wait.go v1.4.0 … v1.21.1 (webhook/rfc2136 return it as is)
    (RFC2136, "Could not find the SOA record in the DNS tree for the domain "
              "'_acme-challenge.www.example.com.' using nameservers [10.96.0.10:53]"),
    # util/wait.go v1.0.4 … v1.3.3
    (RFC2136, "Could not find the start of authority"),
    # route53.go v1.5.0 … v1.21.1
    (ROUTE53, "failed to determine Route 53 hosted zone ID: error finding zone from fqdn: "
              "Could not find the SOA record in the DNS tree for the domain "
              "'_acme-challenge.www.example.com.' using nameservers [10.96.0.10:53]"),
    (ROUTE53, "failed to determine Route 53 hosted zone ID: zone example.com. not found in "
              "Route 53 for domain _acme-challenge.www.example.com."),
    # cloudflare.go ≤ v1.4: https://github.com/cert-manager/cert-manager/issues/3083
    (CLOUDFLARE, "Zone app. not found in CloudFlare for domain "
                 "_acme-challenge.forwardauth.example.app."),
    # cloudflare.go v1.5.0 … v1.21.1
    (CLOUDFLARE, "Found no Zones for domain _acme-challenge.www.example.com. (neither in the "
                 "sub-domain nor in the SLD) please make sure your domain-entries in the config "
                 "are correct and the API key is correctly setup with Zone.read rights."),
    # clouddns.go
    (CLOUDDNS, "No matching GoogleCloud domain found for domain example.com."),
]


@pytest.mark.parametrize(("solver", "reason"), ZONES)
def test_zone_not_found(solver: dict[str, Any], reason: str) -> None:
    f = one("DNS01_ZONE_NOT_FOUND", *dns01_chain(reason, solver))
    assert f.evidence[0].startswith('Challenge.status.reason: "')
    assert "_acme-challenge.www.example.com" in f.title
    assert "cnameStrategy: Follow" in f.remedy


def test_zone_explanation_mentions_the_cname_strategy() -> None:
    solver = {"dns01": {"cnameStrategy": "Follow", **ROUTE53["dns01"]}}
    f = one("DNS01_ZONE_NOT_FOUND", *dns01_chain(ZONES[3][1], solver))
    assert "CNAME's target" in f.explanation
    assert solver_of(dns01_chain("", solver)[-1]).cname_follow  # type: ignore[union-attr]


def test_permission_error_while_looking_up_the_zone_is_permission() -> None:
    # "… requires permission … to list zones" and "… ListHostedZonesByName" contain "zone"
    assert classify(PERMISSION[4][1], "cloudflare")[0].code == \
        "DNS01_PROVIDER_PERMISSION_DENIED"  # type: ignore[index]
    assert classify(CREDENTIALS[1][1], "route53")[0].code == \
        "DNS01_PROVIDER_CREDENTIALS_INVALID"  # type: ignore[index]


# -- DNS01_CREDENTIALS_SECRET_NOT_FOUND ------------------------------------------------------
def test_secret_not_found_message_and_where_it_is() -> None:
    # https://github.com/cert-manager/website/issues/200: an Issuer in default, the Secret in
    # cert-manager
    reason = 'error getting cloudflare secret: secret "cloudflare-api-token-secret" not found'
    objs = [*dns01_chain(reason, CLOUDFLARE, kind="Issuer"),
            secret("cloudflare-api-token-secret", "cert-manager")]
    f = one("DNS01_CREDENTIALS_SECRET_NOT_FOUND", *objs)
    assert f.evidence[0] == f'Challenge.status.reason: {__import__("json").dumps(reason)}'
    assert "namespace default" in f.title
    assert "exists in namespace cert-manager" in f.explanation
    assert "the Issuer's own namespace (default)" in f.explanation
    assert "kubectl create secret generic cloudflare-api-token-secret -n default " \
           "--from-literal=api-token=" in f.remedy


@pytest.mark.parametrize(("solver", "reason"), [
    (ROUTE53, 'error getting route53 secret access key: secret "route53-creds" not found'),
    (CLOUDDNS, 'error getting clouddns service account: secret "clouddns-sa" not found'),
    (AZURE, 'error instantiating azuredns challenge solver: error getting azuredns client '
            'secret: secret "azuredns-sp" not found'),
    (RFC2136, 'secret "tsig-secret" not found'),  # rfc2136/provider.go: the lister error as is
])
def test_secret_not_found_per_provider(solver: dict[str, Any], reason: str) -> None:
    f = one("DNS01_CREDENTIALS_SECRET_NOT_FOUND", *dns01_chain(reason, solver))
    # ClusterIssuer: the controller's cluster resource namespace
    assert "namespace cert-manager" in f.title and "--cluster-resource-namespace" in \
        f.explanation


def test_secret_key_missing() -> None:
    reason = ('error getting route53 secret access key: key \'secret-access-key\' not found '
              'in secret')
    f = one("DNS01_CREDENTIALS_SECRET_NOT_FOUND", *dns01_chain(reason, ROUTE53))
    assert "has no key secret-access-key" in f.explanation


def test_secret_absent_from_known_namespace_with_custom_resource_namespace() -> None:
    # a redacted reason whose Event is gone: the absence of the Secret decides, but only when
    # Secrets of that namespace are known
    reason = ("failed to change Route 53 record set: operation error Route 53: "
              "ChangeResourceRecordSets, <redacted AWS SDK error: http.ResponseError: see "
              "events and logs for details>")
    objs = [*dns01_chain(reason, ROUTE53),
            controller(args=["--cluster-resource-namespace=platform"]),
            secret("acct", "platform"), secret("route53-creds", "default")]
    f = one("DNS01_CREDENTIALS_SECRET_NOT_FOUND", *objs)
    assert "Secret platform/route53-creds: absent (1 other Secret(s) of platform known)" in \
        f.evidence
    assert "exists in namespace default" in f.explanation
    # a bundle without any Secret of that namespace proves nothing: no finding, fallback
    got = codes(*objs[:-2])
    assert "DNS01_CREDENTIALS_SECRET_NOT_FOUND" not in got and FALLBACK in got
    # the Secret is there: nothing to say about it
    got = codes(*objs, secret("route53-creds", "platform"))
    assert "DNS01_CREDENTIALS_SECRET_NOT_FOUND" not in got


# -- DNS01_WEBHOOK_SOLVER_UNAVAILABLE --------------------------------------------------------
@pytest.mark.parametrize("reason", [
    # https://github.com/kaelzhang/cert-manager-webhook-dnspod/issues/1
    "the server could not find the requested resource (post dnspod.acme.example.com)",
    # https://github.com/Dopingus/cert-manager-webhook-dynu/issues/25
    "the server is currently unable to handle the request (post dnspod.acme.example.com)",
    # https://github.com/yandex-cloud/cert-manager-webhook-yandex/issues/7
    'dnspod.acme.example.com is forbidden: User "system:serviceaccount:cert-manager:'
    'cert-manager" cannot create resource "dnspod" in API group "acme.example.com" at the '
    'cluster scope',
])
def test_webhook_solver_unavailable(reason: str) -> None:
    f = one("DNS01_WEBHOOK_SOLVER_UNAVAILABLE", *dns01_chain(reason, WEBHOOK))
    assert f.title.endswith("dnspod.acme.example.com is not served")
    assert "kubectl get apiservice v1alpha1.acme.example.com" in f.remedy


def test_webhook_apiservice_not_available() -> None:
    api = apiservice("acme.example.com", "False", "MissingEndpoints",
                     "endpoints for service/webhook in \"cert-manager\" have no addresses")
    f = one("DNS01_WEBHOOK_SOLVER_UNAVAILABLE", *dns01_chain("", WEBHOOK), api)
    assert "APIService v1alpha1.acme.example.com Available=False, reason MissingEndpoints" in \
        f.evidence[-1]
    # served: a webhook's own provider error is classified like any provider's
    ok = apiservice("acme.example.com")
    assert "DNS01_WEBHOOK_SOLVER_UNAVAILABLE" not in codes(*dns01_chain("", WEBHOOK), ok)
    one("DNS01_PROVIDER_PERMISSION_DENIED",
        *dns01_chain("dnspod API: status code: 403, permission denied", WEBHOOK), ok)


# -- DNS01_AMBIENT_CREDENTIALS_DISABLED ------------------------------------------------------
@pytest.mark.parametrize(("solver", "reason"), [
    # route53.go / clouddns.go v1.0.4 … v1.21.1 through dns.go's wrapping
    (ROUTE53_AMBIENT, "error instantiating route53 challenge solver: unable to construct "
                      "route53 provider: empty credentials; perhaps you meant to enable ambient "
                      "credentials?"),
    (CLOUDDNS_AMBIENT, "error instantiating google clouddns challenge solver: unable to "
                       "construct clouddns provider: empty credentials; perhaps you meant to "
                       "enable ambient credentials?"),
    # azuredns.go v1.0.4 … v1.17.x and v1.18.0 … v1.21.1
    (AZURE_AMBIENT, "error instantiating azuredns challenge solver: ClientID is not set but "
                    "neither `--cluster-issuer-ambient-credentials` nor "
                    "`--issuer-ambient-credentials` are set. These are necessary to enable "
                    "Azure Managed Identities"),
    (AZURE_AMBIENT, "error instantiating azuredns challenge solver: ClientID was omitted "
                    "without providing one of `--cluster-issuer-ambient-credentials` or "
                    "`--issuer-ambient-credentials`. These are necessary to enable Azure "
                    "Managed Identities"),
])
def test_ambient_credentials_disabled(solver: dict[str, Any], reason: str) -> None:
    f = one("DNS01_AMBIENT_CREDENTIALS_DISABLED",
            *dns01_chain(reason, solver, kind="Issuer"), controller())
    assert "--issuer-ambient-credentials" in f.remedy and "ClusterIssuer" in f.remedy
    assert "controller args have no --issuer-ambient-credentials (default false)" in f.evidence


def test_ambient_inferred_from_flags_only_when_known() -> None:
    reason = "<redacted … unknown>"
    objs = [*dns01_chain(reason, CLOUDDNS_AMBIENT, kind="Issuer"), controller()]
    f = one("DNS01_AMBIENT_CREDENTIALS_DISABLED", *objs)
    assert "serviceAccountSecretRef" in f.remedy
    # the flag is set, a --config file may set it, or the issuer is a ClusterIssuer: no
    assert "DNS01_AMBIENT_CREDENTIALS_DISABLED" not in codes(
        *objs[:-1], controller(args=["--issuer-ambient-credentials"]))
    assert "DNS01_AMBIENT_CREDENTIALS_DISABLED" not in codes(
        *objs[:-1], controller(args=["--config=/etc/cm/config.yaml"]))
    assert "DNS01_AMBIENT_CREDENTIALS_DISABLED" not in codes(
        *dns01_chain(reason, CLOUDDNS_AMBIENT), controller())
    # explicit credentials (Route53 web identity, v1.15+) are not ambient
    web_identity = {"dns01": {"route53": {"region": "us-east-1", "role": "arn:aws:iam::1:role/r",
                                          "auth": {"kubernetes": {"serviceAccountRef": {
                                              "name": "cert-manager-acme"}}}}}}
    assert "DNS01_AMBIENT_CREDENTIALS_DISABLED" not in codes(
        *dns01_chain(reason, web_identity, kind="Issuer"), controller())


# -- healthy clusters and near misses --------------------------------------------------------
def _issued(name: str, iss: str, kind: str) -> list[Obj]:
    return [certificate(name, "default", issuer=iss, kind=kind, status={
        "notAfter": ts(timedelta(days=60)), "renewalTime": ts(timedelta(days=30)),
        "revision": 1}), request(f"{name}-1", name, issuer=iss, kind=kind)]


def test_healthy_vault_ca_and_acme_dns01_issuers_give_no_error() -> None:
    acme = issuer("le-dns", None, spec={"acme": {
        "server": "https://acme.test/directory", "privateKeySecretRef": {"name": "acct"},
        "solvers": [ROUTE53, CLOUDFLARE]}})
    vault = issuer("vault", "default", spec={"vault": {
        "server": "https://vault.test:8200", "path": "pki/sign/web",
        "auth": {"tokenSecretRef": {"name": "vault-token", "key": "token"}}}})
    ca = issuer("ca", "default", spec={"ca": {"secretName": "ca-key-pair"}})
    done = challenge("dns-1-1-0", "dns-1-1", "default", state="valid",
                     reason="Successfully authorized domain", ctype="DNS-01",
                     issuer="le-dns", kind="ClusterIssuer", solver=ROUTE53)
    objs = [acme, vault, ca, controller(), secret("acct", "cert-manager"),
            *_issued("dns", "le-dns", "ClusterIssuer"), *_issued("v", "vault", "Issuer"),
            *_issued("c", "ca", "Issuer"),
            order("dns-1-1", "dns-1", "default", state="valid", issuer="le-dns",
                  kind="ClusterIssuer"), done]
    bad = [f for f in run(*objs) if f.severity is not Severity.INFO]
    assert bad == []


def test_fresh_presented_challenge_is_quiet() -> None:
    objs = dns01_chain("Waiting for DNS-01 challenge propagation: DNS record for "
                       "\"www.example.com\" not yet propagated", ROUTE53, presented=True,
                       cert_ready="True")
    objs[-1]["metadata"]["creationTimestamp"] = ts(-timedelta(minutes=1))
    assert not {c for c in codes(*objs) if c.startswith("DNS01_")}


def test_http01_challenges_and_final_states_are_ignored() -> None:
    reason = PERMISSION[0][1]
    objs = dns01_chain(reason, ROUTE53)
    objs[-1]["status"]["state"] = "invalid"
    assert "DNS01_PROVIDER_PERMISSION_DENIED" not in codes(*objs)
    objs = dns01_chain(reason, {"http01": {"ingress": {"ingressClassName": "nginx"}}})
    objs[-1]["spec"]["type"] = "HTTP-01"
    assert not {c for c in codes(*objs) if c.startswith("DNS01_")}


def test_malformed_solver_does_not_raise() -> None:
    for bad in ({"dns01": None}, {"dns01": {"route53": "x"}}, {"dns01": {"webhook": []}},
                {"dns01": {"cloudflare": {"apiTokenSecretRef": "x"}}}):
        objs = dns01_chain("secret \"x\" not found", {"dns01": {}})
        objs[-1]["spec"]["solver"] = bad
        run(*objs)


def test_webhook_zone_error_wins_over_a_down_apiservice() -> None:
    # dns.go prepareChallengeRequest looks the zone up before calling the webhook: a zone
    # error is the current failure even while the APIService is down
    api = apiservice("acme.example.com", "False", "MissingEndpoints")
    one("DNS01_ZONE_NOT_FOUND", *dns01_chain(ZONES[0][1], WEBHOOK), api)


def test_no_ambient_aws_credentials_found() -> None:
    # aws-sdk-go v1 with no IRSA/instance profile on the controller (ClusterIssuer: allowed)
    reason = ("failed to determine Route 53 hosted zone ID: NoCredentialProviders: no valid "
              "providers in chain. Deprecated.\n\tFor verbose messaging see "
              "aws.Config.CredentialsChainVerboseErrors")
    f = one("DNS01_PROVIDER_CREDENTIALS_INVALID", *dns01_chain(reason, ROUTE53_AMBIENT))
    assert "eks.amazonaws.com/role-arn" in f.remedy and "ambient" in f.remedy


def test_network_errors_are_not_provider_verdicts() -> None:
    # rfc2136.go "DNS update failed: %v" around a network error: nothing to say about
    # credentials or permissions (the fallback quotes it)
    objs = dns01_chain("DNS update failed: read udp 10.0.0.1:5353->10.0.0.53:53: i/o timeout",
                       RFC2136)
    got = codes(*objs)
    assert not {c for c in got if c.startswith("DNS01_")} and FALLBACK in got
    # miekg/dns ErrTime ("bad time") through the same wrapping: the TSIG clock check
    assert classify("DNS update failed: dns: bad time", "rfc2136")[0].code == \
        "DNS01_PROVIDER_CREDENTIALS_INVALID"  # type: ignore[index]
