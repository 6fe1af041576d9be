"""HTTP-01 solver Pod and DNS-01 solver configuration codes, on the messages cert-manager
and the API server really write.

Each verbatim message below is quoted from the public report cited next to it; the wrapping
("Error presenting challenge: %v", status.reason, the v1.20+ redaction) is the one of
pkg/controller/acmechallenges/sync.go at the tag the test names.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kubectl_certdoctor.objects import Obj
from kubectl_certdoctor.rules.dns01_config import placeholders
from kubectl_certdoctor.rules.finding import Finding, Severity
from kubectl_certdoctor.rules.solver_pods import rejection, webhook_denials_only_pod
from tests.support.diagnosis import (
    certificate,
    challenge,
    codes,
    cond,
    controller,
    dns01_chain,
    event,
    issuer,
    order,
    present_error,
    request,
    solver_pod,
)
from tests.support.diagnosis import findings as run

FALLBACK = "ISSUANCE_STUCK_UNRECOGNISED"
CH = "web-1-1-0"
POD_REJECTED = "HTTP01_SOLVER_POD_REJECTED"
NOT_RUNNING = "HTTP01_SOLVER_POD_NOT_RUNNING"
CNAME = "DNS01_CNAME_NOT_FOLLOWED"
CONFIG = "DNS01_PROVIDER_CONFIG_INVALID"


def one(code: str, *objs: Obj) -> Finding:
    fs = run(*objs)
    found = [f for f in fs if f.code == code]
    assert len(found) == 1, [(f.code, f.evidence) for f in fs]
    f = found[0]
    assert f.object.kind == "Challenge" and f.object.name == CH
    assert f.severity is Severity.ERROR
    assert f.remedy and "{" not in f.remedy and "{" not in f.title and "?" not in f.title
    # the stuck Certificate is explained: no fallback on top of the named cause
    assert FALLBACK not in {x.code for x in fs}
    return f


def http01_chain(reason: str = "", presented: bool = False, ns: str = "default",
                 state: str = "pending") -> list[Obj]:
    """A ClusterIssuer with an HTTP-01 ingress solver and one stuck Certificate."""
    sol = {"http01": {"ingress": {"ingressClassName": "nginx"}}}
    iss = issuer("le", None, spec={"acme": {"server": "https://acme.test/directory",
                                            "privateKeySecretRef": {"name": "acct"},
                                            "solvers": [sol]}})
    cert = certificate("web", ns, issuer="le", kind="ClusterIssuer", ready="False",
                       dns=("shop.example.com",))
    cr = request("web-1", "web", ns, issuer="le", kind="ClusterIssuer",
                 conds=[cond("Approved", "True"), cond("Ready", "False", "Pending", "w")])
    od = order("web-1-1", "web-1", ns, issuer="le", kind="ClusterIssuer")
    ch = challenge(CH, "web-1-1", ns, state=state, reason=reason, host="shop.example.com",
                   issuer="le", kind="ClusterIssuer", solver=sol)
    ch["status"]["presented"] = presented
    return [iss, cert, cr, od, ch]


# -- HTTP01_SOLVER_POD_REJECTED ----------------------------------------------------------------

# https://github.com/cert-manager/cert-manager/issues/5338 (v1.9.0, Kubernetes 1.24)
PSA_5338 = ('pods "cm-acme-http-solver-rvt6g" is forbidden: violates PodSecurity '
            '"restricted:latest": unrestricted capabilities (container "acmesolver" must set '
            'securityContext.capabilities.drop=["ALL"]), seccompProfile (pod or container '
            '"acmesolver" must set securityContext.seccompProfile.type to "RuntimeDefault" or '
            '"Localhost")')
# https://github.com/cert-manager/website/issues/635 (PodSecurityPolicy, generateName only)
PSP_635 = 'pods "cm-acme-http-solver-" is forbidden: PodSecurityPolicy: unable to admit pod: []'
# https://github.com/cert-manager/cert-manager/issues/3721 (OPA Gatekeeper)
GATEKEEPER_3721 = ('admission webhook "validation.gatekeeper.sh" denied the request: [denied by '
                   'psp-pods-allowed-user-ranges] Container acmesolver is attempting to run '
                   'without a required securityContext/runAsNonRoot or securityContext/runAsUser '
                   '!= 0')
# https://github.com/cert-manager/cert-manager/pull/5754 (Kyverno, controller log)
KYVERNO_5754 = ('admission webhook "validate.kyverno.svc-fail" denied the request: \n\nresource '
                'Pod/cert-manager/cm-acme-http-solver-jtnj2 was blocked due to the following '
                "policies\n\nrestrict-automount-sa-token:\n  validate-automountServiceAccountToken:"
                " 'validation error: Auto-mounting of Service Account tokens is not allowed'")
# the PodSecurity shape of a sidecar injected into the solver Pod (the container name is the
# only thing that differs from #5338; shape per cert-manager#5295 / k8tz)
PSA_INJECTED = ('pods "cm-acme-http-solver-x2x9d" is forbidden: violates PodSecurity '
                '"restricted:latest": runAsNonRoot != true (container "k8tz" must not set '
                'securityContext.runAsNonRoot=false)')
QUOTA = ('pods "cm-acme-http-solver-8bq2m" is forbidden: exceeded quota: compute-resources, '
         'requested: pods=1, used: pods=10, limited: pods=10')


def test_pod_rejected_psa_v190_says_upgrade_to_v1_10() -> None:
    objs = [*http01_chain(PSA_5338), controller("v1.9.0"),
            present_error(CH, "default", PSA_5338)]
    f = one(POD_REJECTED, *objs)
    quoted = PSA_5338.replace('"', '\\"')
    assert f.evidence[0] == f'Challenge.status.reason: "{quoted}"'
    assert "v1.10.0" in f.remedy and "pod-security.kubernetes.io/enforce" in f.remedy
    assert "restricted:latest" in f.explanation
    assert any("controller v1.9.0" in e for e in f.evidence)
    assert "HTTP01_SOLVER_INGRESS_REJECTED" not in codes(*objs)


def test_pod_rejected_psa_on_new_version_names_the_injected_container() -> None:
    f = one(POD_REJECTED, *http01_chain(PSA_INJECTED), controller("v1.17.2"))
    assert "k8tz" in f.remedy and "already" in f.remedy
    assert "podTemplate.spec.securityContext" in f.remedy  # merged from v1.16.0
    f2 = one(POD_REJECTED, *http01_chain(PSA_INJECTED), controller("v1.12.3"))
    assert "podTemplate.spec.securityContext" not in f2.remedy
    fu = one(POD_REJECTED, *http01_chain(PSA_INJECTED))
    assert any("version unknown" in e for e in fu.evidence)


def test_pod_rejected_behind_the_self_check_prefix() -> None:
    # Check calls Present again (http.go): a Pod refused later shows up behind the prefix
    msg = "Waiting for HTTP-01 challenge propagation: " + PSA_5338
    f = one(POD_REJECTED, *http01_chain(msg, presented=True), controller("v1.9.1"))
    assert "v1.10.0" in f.remedy


@pytest.mark.parametrize(("msg", "word"), [
    (PSP_635, "PodSecurityPolicy"),
    (GATEKEEPER_3721, "validation.gatekeeper.sh"),
    (KYVERNO_5754, "validate.kyverno.svc-fail"),
    (QUOTA, "ResourceQuota"),
])
def test_pod_rejected_variants(msg: str, word: str) -> None:
    objs = [*http01_chain(msg), controller("v1.12.0")]
    f = one(POD_REJECTED, *objs)
    assert word in f.remedy + f.explanation
    assert "HTTP01_SOLVER_INGRESS_REJECTED" not in codes(*objs)


def test_pod_rejected_read_from_event_when_reason_empty() -> None:
    f = one(POD_REJECTED, *http01_chain(""), present_error(CH, "default", PSA_5338),
            controller("v1.9.0"))
    assert f.evidence[0].startswith(f"Challenge {CH} Event PresentError")


def test_pod_rejected_near_misses() -> None:
    # the solver Ingress refused by ingress-nginx: not the Pod
    nginx = ('admission webhook "validate.nginx.ingress.kubernetes.io" denied the request: '
             'ingress contains invalid paths: path /.well-known/acme-challenge/x cannot be used '
             'with pathType Exact')
    assert rejection(nginx) is None and not webhook_denials_only_pod(nginx)
    got = codes(*http01_chain(nginx), controller("v1.18.0"))
    assert POD_REJECTED not in got and "HTTP01_SOLVER_INGRESS_REJECTED" in got
    # a valid Challenge, and a DNS-01 one, are not judged
    assert POD_REJECTED not in codes(*http01_chain(PSA_5338, state="valid"))
    assert POD_REJECTED not in codes(*dns01_chain(PSA_5338, {"dns01": {"route53": {}}}))
    # an old PresentError Event is not read when the reason says something else now
    assert POD_REJECTED not in codes(
        *http01_chain("Waiting for HTTP-01 challenge propagation: wrong status code '404', "
                      "expected '200'", presented=True), present_error(CH, "default", PSA_5338))


# -- HTTP01_SOLVER_POD_NOT_RUNNING -------------------------------------------------------------

SELF_CHECK_503 = ("Waiting for HTTP-01 challenge propagation: wrong status code '503', "
                  "expected '200'")


def test_pod_not_running_image_pull_replaces_the_503() -> None:
    # https://github.com/cert-manager/cert-manager/issues/6762 (v1.14.4, air-gapped)
    pod = solver_pod(CH, waiting="ImagePullBackOff",
                     message='Back-off pulling image "quay.io/jetstack/cert-manager-acmesolver:'
                             'v1.14.4"')
    kubelet = event("ev-pull", "default", "Pod", pod["metadata"]["name"], "default",
                    'Failed to pull image "quay.io/jetstack/cert-manager-acmesolver:v1.14.4": '
                    "rpc error: code = Unknown desc = failed to pull and unpack image",
                    -timedelta(minutes=2), reason="Failed")
    objs = [*http01_chain(SELF_CHECK_503, presented=True), controller("v1.14.4"), pod, kubelet]
    f = one(NOT_RUNNING, *objs)
    assert "ImagePullBackOff" in f.title and "cert-manager-acmesolver:v1.14.4" in f.remedy
    assert "--acme-http01-solver-image" in f.remedy and "imagePullSecrets" in f.remedy
    assert any("Back-off pulling image" in e for e in f.evidence)
    assert any("Event Failed" in e for e in f.evidence)
    # the self-check's 503 is the consequence: it steps back
    assert "HTTP01_SELF_CHECK_WRONG_STATUS" not in codes(*objs)
    # before v1.12 the podTemplate cannot carry imagePullSecrets
    f_old = one(NOT_RUNNING, *http01_chain(SELF_CHECK_503, presented=True),
                controller("v1.11.0"), pod)
    assert "service account" in f_old.remedy


def test_pod_running_keeps_the_self_check_finding() -> None:
    objs = [*http01_chain(SELF_CHECK_503, presented=True),
            solver_pod(CH, phase="Running")]
    got = codes(*objs)
    assert NOT_RUNNING not in got and "HTTP01_SELF_CHECK_WRONG_STATUS" in got


def test_pod_not_running_keeps_a_403() -> None:
    msg = "Waiting for HTTP-01 challenge propagation: wrong status code '403', expected '200'"
    got = codes(*http01_chain(msg, presented=True), solver_pod(CH, waiting="ErrImagePull"))
    assert NOT_RUNNING in got and "HTTP01_SELF_CHECK_WRONG_STATUS" in got


@pytest.mark.parametrize(("pod", "state", "word"), [
    (solver_pod(CH, scheduled="False", sched_reason="Unschedulable",
                sched_message="0/3 nodes are available: 3 node(s) didn't match Pod's node "
                              "affinity/selector."),
     "Pending (Unschedulable)", "nodeSelector"),
    # https://github.com/cert-manager/cert-manager/issues/2726 (verbatim container status)
    (solver_pod(CH, waiting="CreateContainerConfigError",
                message="container has runAsNonRoot and image will run as root"),
     "CreateContainerConfigError", "non-root"),
    (solver_pod(CH, waiting="CrashLoopBackOff", phase="Running",
                message="back-off 5m0s restarting failed container=acmesolver",
                last_terminated={"reason": "OOMKilled", "exitCode": 137}),
     "CrashLoopBackOff", "OOMKilled"),
    (solver_pod(CH, waiting="ContainerCreating", age=timedelta(minutes=30)),
     "Pending (ContainerCreating)", "kubectl describe pod"),
])
def test_pod_not_running_states(pod: Obj, state: str, word: str) -> None:
    f = one(NOT_RUNNING, *http01_chain(SELF_CHECK_503, presented=True), pod)
    assert state in f.title and word in f.remedy + " ".join(f.evidence)


def test_pod_not_running_near_misses() -> None:
    chain = http01_chain(SELF_CHECK_503, presented=True)
    # still starting (2 minutes old)
    assert NOT_RUNNING not in codes(*chain, solver_pod(CH, waiting="ContainerCreating",
                                                        age=timedelta(minutes=2)))
    # not labelled as a solver Pod, or owned by another Challenge
    assert NOT_RUNNING not in codes(*chain, solver_pod(CH, waiting="ErrImagePull",
                                                        solver_label=False))
    assert NOT_RUNNING not in codes(*chain, solver_pod("other-1-1-0", waiting="ErrImagePull"))
    # the Challenge is valid already
    assert NOT_RUNNING not in codes(*http01_chain(state="valid"),
                                    solver_pod(CH, waiting="ErrImagePull"))


# -- DNS01_CNAME_NOT_FOLLOWED ------------------------------------------------------------------

ROUTE53_DELEGATED = {"dns01": {"route53": {"region": "eu-central-1",
                                           "hostedZoneID": "Z0DELEGATED123"}}}
# shape of https://github.com/cert-manager/cert-manager/issues/8095 (v1.18, aws-sdk-go-v2)
NOT_PERMITTED_V2 = ("failed to change Route 53 record set: operation error Route 53: "
                    "ChangeResourceRecordSets, https response error StatusCode: 400, RequestID: "
                    "1b2c, InvalidChangeBatch: [RRSet with DNS name "
                    "_acme-challenge.www.example.com. is not permitted in zone "
                    "acme.example.net.]")
# aws-sdk-go v1 wording, https://github.com/cert-manager/cert-manager/issues/5716
NOT_PERMITTED_V1 = ("failed to change Route 53 record set: InvalidChangeBatch: [RRSet with DNS "
                    "name _acme-challenge.www.example.com. is not permitted in zone "
                    "acme.example.net.]\n\tstatus code: 400, request id: 7d3e")
# https://github.com/cert-manager/cert-manager/issues/3927 (verbatim)
CNAME_CONFLICT = ("failed to change Route 53 record set: InvalidChangeBatch: [RRSet of type TXT "
                  "with DNS name _acme-challenge.www.example.com. is not permitted because a "
                  "conflicting RRSet of type CNAME with the same DNS name already exists in "
                  "zone example.com.]")
# https://github.com/cert-manager/cert-manager/issues/4943 (Cloud DNS, verbatim core)
CLOUDDNS_CNAME = ('GoogleCloud API call failed: googleapi: Error 400: The resource record set '
                  '"_acme-challenge.www.example.com." is invalid because the DNS name '
                  '"_acme-challenge.www.example.com." may have either one CNAME resource record '
                  'set or resource record sets of other types, but not both., '
                  'cnameResourceRecordSetConflict')


@pytest.mark.parametrize("msg", [NOT_PERMITTED_V2, NOT_PERMITTED_V1])
def test_cname_not_followed_route53(msg: str) -> None:
    f = one(CNAME, *dns01_chain(msg, ROUTE53_DELEGATED), controller("v1.18.2"))
    assert "cnameStrategy: Follow" in f.remedy and "Z0DELEGATED123" in f.remedy
    assert "acme.example.net" in f.title
    assert f.evidence[0].startswith("Challenge.status.reason:") and "not permitted" in f.evidence[0]


def test_cname_conflict_variants() -> None:
    f = one(CNAME, *dns01_chain(CNAME_CONFLICT, {"dns01": {"route53": {"region": "us-east-1"}}}))
    assert "CDN" in f.remedy and "cnameStrategy: Follow" in f.remedy
    solver = {"dns01": {"cloudDNS": {"project": "my-project"}}}
    f2 = one(CNAME, *dns01_chain(CLOUDDNS_CNAME, solver))
    assert "_acme-challenge.www.example.com" in f2.title


def test_cname_v120_redacted_reason_read_from_event() -> None:
    redacted = ("failed to change Route 53 record set: <redacted AWS SDK error: "
                "http.ResponseError: see events and logs for details>")
    f = one(CNAME, *dns01_chain(redacted, ROUTE53_DELEGATED), controller("v1.20.2"),
            present_error(CH, "default", NOT_PERMITTED_V2))
    assert any("Event PresentError" in e for e in f.evidence)


def test_cname_near_misses() -> None:
    follow = {"dns01": {"cnameStrategy": "Follow", **ROUTE53_DELEGATED["dns01"]}}
    assert CNAME not in codes(*dns01_chain(NOT_PERMITTED_V2, follow))
    assert CNAME not in codes(*dns01_chain(CNAME_CONFLICT, follow))
    # https://github.com/cert-manager/cert-manager/issues/5388: InvalidChangeBatch on a name
    # inside the zone (a leftover record) is not about CNAMEs
    other = ('failed to change Route 53 record set: InvalidChangeBatch: [RRSet with DNS name '
             '_acme-challenge.my-domain.com., type TXT, SetIdentifier "x" cannot be created '
             'because a non multivalue answer rrset exists with the same name and type.]')
    assert CNAME not in codes(*dns01_chain(other, ROUTE53_DELEGATED))
    # presented (propagation pending) Challenges are not judged
    assert CNAME not in codes(*dns01_chain(NOT_PERMITTED_V2, ROUTE53_DELEGATED, presented=True))


# -- DNS01_PROVIDER_CONFIG_INVALID -------------------------------------------------------------

# https://github.com/cert-manager/cert-manager/issues/5512 (v1.9.1, first line verbatim)
CONSUMER_INVALID = ('GoogleCloud API call failed: googleapi: Error 403: Permission denied on '
                    'resource project $PROJECT_ID.\nDetails:\n[\n  {\n    "@type": '
                    '"type.googleapis.com/google.rpc.ErrorInfo",\n    "domain": "googleapis.com",'
                    '\n    "metadata": {\n      "consumer": "projects/$PROJECT_ID",\n      '
                    '"service": "dns.googleapis.com"\n    },\n    "reason": "CONSUMER_INVALID"\n'
                    '  }\n]\n, forbidden')
# https://github.com/cert-manager/website/issues/662 (adal, v1.4)
AZURE_MULTI_ADAL = ("azure.BearerAuthorizer#WithAuthorization: Failed to refresh the Token for "
                    "request to https://management.azure.com/subscriptions/sub/resourceGroups/"
                    "dns-rg/providers/Microsoft.Network/dnsZones/example.com/TXT/_acme-challenge"
                    "?api-version=2017-10-01: StatusCode=400 -- Original Error: adal: Refresh "
                    "request failed. Status Code = '400'. Response body: {\"error\":\"invalid_"
                    "request\",\"error_description\":\"Multiple user assigned identities exist, "
                    "please specify the clientId / resourceId of the identity in the token "
                    "request\"}")
# azidentity wording (cert-manager ≥ v1.14), same IMDS answer
AZURE_MULTI_AZIDENTITY = ("ManagedIdentityCredential authentication failed\nGET "
                          "http://169.254.169.254/metadata/identity/oauth2/token\n"
                          "RESPONSE 400 Bad Request\n{\"error\":\"invalid_request\","
                          "\"error_description\":\"Multiple user assigned identities exist, "
                          "please specify the clientId / resourceId of the identity in the "
                          "token request\"}")
AZURE_AMBIENT = {"dns01": {"azureDNS": {"subscriptionID": "sub", "resourceGroupName": "dns-rg",
                                        "hostedZoneName": "example.com"}}}


def test_config_placeholder_project_not_permission() -> None:
    solver = {"dns01": {"cloudDNS": {"project": "$PROJECT_ID"}}}
    objs = [*dns01_chain(CONSUMER_INVALID, solver), controller("v1.9.1")]
    f = one(CONFIG, *objs)
    assert "spec.solver.dns01.cloudDNS.project" in f.remedy and "placeholder" in f.title
    assert any("'$PROJECT_ID'" in e for e in f.evidence)
    assert "DNS01_PROVIDER_PERMISSION_DENIED" not in codes(*objs)


def test_config_consumer_invalid_with_a_real_looking_project() -> None:
    msg = CONSUMER_INVALID.replace("$PROJECT_ID", "my-projcet")
    solver = {"dns01": {"cloudDNS": {"project": "my-projcet"}}}
    f = one(CONFIG, *dns01_chain(msg, solver))
    assert "my-projcet" in f.title + f.explanation and "project" in f.remedy
    # a plain IAM 403 on an existing project stays a permission problem
    iam = ("GoogleCloud API call failed: googleapi: Error 403: Forbidden, forbidden "
           "(reason IAM_PERMISSION_DENIED)")
    got = codes(*dns01_chain(iam, {"dns01": {"cloudDNS": {"project": "prod-123"}}}))
    assert CONFIG not in got and "DNS01_PROVIDER_PERMISSION_DENIED" in got


def test_config_azure_identity_ambiguous_is_version_aware() -> None:
    f = one(CONFIG, *dns01_chain(AZURE_MULTI_ADAL, AZURE_AMBIENT), controller("v1.4.1"))
    assert "v1.6.0" in f.remedy and "managedIdentity.clientID" in f.remedy
    f2 = one(CONFIG, *dns01_chain(AZURE_MULTI_AZIDENTITY, AZURE_AMBIENT), controller("v1.15.0"))
    assert "Set azureDNS.managedIdentity.clientID" in f2.remedy and "upgrade" not in f2.remedy


def test_config_azure_v120_redacted_reason_is_not_credentials() -> None:
    redacted = ("failed to create the managed service identity token: <redacted Azure SDK "
                "error: azidentity.AuthenticationFailedError: see events and logs for details>")
    objs = [*dns01_chain(redacted, AZURE_AMBIENT), controller("v1.20.0"),
            present_error(CH, "default", AZURE_MULTI_AZIDENTITY)]
    one(CONFIG, *objs)
    assert "DNS01_PROVIDER_CREDENTIALS_INVALID" not in codes(*objs)


@pytest.mark.parametrize(("msg", "solver"), [
    # clouddns/clouddns.go at v1.0.4 … v1.21.1
    ("error instantiating google clouddns challenge solver: Google Cloud project name missing",
     {"dns01": {"cloudDNS": {"project": ""}}}),
    # cloudflare/cloudflare.go at v1.5.0 … v1.21.1
    ("error instantiating cloudflare challenge solver: the Cloudflare API key and API token "
     "cannot be both present simultaneously", {"dns01": {"cloudflare": {"email": "a@b.c"}}}),
    # azuredns/azuredns.go at v1.14.0 … v1.21.1
    ("unknown cloud configuration name: AzurePublic", {"dns01": {"azureDNS": {
        "environment": "AzurePublic", "clientID": "c"}}}),
])
def test_config_errors_cert_manager_raises(msg: str, solver: dict[str, Any]) -> None:
    f = one(CONFIG, *dns01_chain(msg, solver))
    assert f.remedy


def test_config_near_misses() -> None:
    # a placeholder is not judged before anything failed
    solver = {"dns01": {"cloudDNS": {"project": "$PROJECT_ID"}}}
    assert CONFIG not in codes(*dns01_chain("", solver))
    # ordinary values are not placeholders; a webhook's free-form config is not read
    assert placeholders({"project": "prod-123", "hostedZoneName": "example.com"}, "x") == []
    assert placeholders({"config": {"apiKey": "${KEY}"}}, "spec.solver.dns01.webhook") == []
    assert placeholders({"hostedZoneID": "<your-zone-id>"}, "r") == [
        ("r.hostedZoneID", "<your-zone-id>")]


# -- ACME_ORDER_FAILED badPublicKey -------------------------------------------------------------

def test_order_bad_public_key_says_use_a_fresh_key() -> None:
    # https://github.com/cert-manager/cert-manager/issues/2962 (verbatim)
    reason = ("Failed to finalize Order: 400 urn:ietf:params:acme:error:badPublicKey: Error "
              "finalizing order :: invalid public key in CSR: public key is forbidden")
    objs = http01_chain(state="valid")
    objs[3] = order("web-1-1", "web-1", "default", state="errored", reason=reason, issuer="le",
                    kind="ClusterIssuer")
    objs[2]["status"]["conditions"] = [cond("Approved", "True"),
                                       cond("Ready", "False", "Failed", reason)]
    fs = run(*objs)
    f = next(x for x in fs if x.code == "ACME_ORDER_FAILED")
    assert "rotationPolicy: Always" in f.remedy and "web-tls" in f.remedy
    assert "Address the sub-cause" not in f.remedy
    # another sub-cause keeps the generic advice
    objs[3] = order("web-1-1", "web-1", "default", state="invalid",
                    reason="urn:ietf:params:acme:error:caa: CAA record forbids issuance",
                    issuer="le", kind="ClusterIssuer")
    other = [x for x in run(*objs) if x.code == "ACME_ORDER_FAILED"]
    assert all("rotationPolicy" not in x.remedy for x in other)


def test_pod_without_any_scheduling_record_is_not_judged() -> None:
    # the lab control plane has no scheduler: phase Pending, no conditions (captured bundle
    # lab-acme-http01-404); nothing says the Pod will not start
    pod = solver_pod(CH, phase="Pending", age=timedelta(minutes=30))
    pod["status"] = {"phase": "Pending", "qosClass": "Burstable"}
    assert NOT_RUNNING not in codes(*http01_chain(SELF_CHECK_503, presented=True), pod)
