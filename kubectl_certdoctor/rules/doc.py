"""Generate docs/findings.md from the catalog, so the doc can never miss a code.

``python -m kubectl_certdoctor.rules.doc > docs/findings.md``; a test checks the
file in the tree equals this output.
"""

from __future__ import annotations

import re

from kubectl_certdoctor.rules.catalog import CATALOG, CatalogEntry

_PLACEHOLDER = re.compile(r"\{(\w+)(![rs])?\}")

INTRO = """# Finding codes

`kubectl certdoctor check` and the TUI report *findings*: a cause, the evidence it rests on,
the probe that confirms it and the fix that resolves it. Codes are stable public API (they
appear in `check -o json`); they are never renamed.

Severities: **error** — something is broken or will break; **warning** — degraded or at risk;
**info** — worth knowing. `check --fail-on` chooses which severity makes the exit code 1.

Probes (`kubectl certdoctor probe <id> <kind>/<name> -n <ns>`): http01, http01-backends,
hairpin, dns, egress, no-proxy, account. Fixes (`kubectl certdoctor fix <id> <kind>/<name>`):
renew, clear-failed-requests, retry-challenge, set-solver-ingress-class, add-no-proxy,
set-recursive-nameservers, upgrade-guidance.

Words in `‹angle quotes›` below are filled in from the objects when a finding is reported.

This file is generated from `kubectl_certdoctor/rules/catalog.py`
(`python -m kubectl_certdoctor.rules.doc > docs/findings.md`); edit the catalog, not this file.
"""


#: one realistic evidence line per code (cert-manager's own wording where it has one)
EXAMPLES: dict[str, str] = {
    "ISSUER_NOT_FOUND": 'Certificate.spec.issuerRef: {"kind": "Issuer", "name": "letsencrypt"}',
    "ISSUER_NOT_READY": 'Issuer.status.conditions[Ready]: False, reason ErrGetKeyPair, message '
                        '"Error getting keypair for CA issuer: secrets \\"team-ca\\" not found"',
    "ACME_SERVER_UNREACHABLE": "ClusterIssuer.status.conditions[Ready]: False, reason "
                               "ErrRegisterACMEAccount, message \"Failed to verify ACME account: "
                               "context deadline exceeded\"",
    "ACME_ACCOUNT_SERVER_MISMATCH": 'ClusterIssuer.status.acme.uri: "https://acme-staging-v02.'
                                    'api.letsencrypt.org/acme/acct/123"',
    "PROXY_NO_PROXY_GAP": "https://kubernetes.default.svc:443 (the API server by name) → proxy "
                          "http://proxy.corp:3128",
    "HTTP01_SELF_CHECK_404": "Challenge.status.reason: \"Waiting for HTTP-01 challenge "
                             "propagation: wrong status code '404', expected '200'\"",
    "HTTP01_WRONG_INGRESS_CLASS": "Ingress web/site serves example.com with class 'public'",
    "HTTP01_MULTIPLE_INGRESS_BACKENDS": "exposed: Gateway web/cilium-gw (192.168.0.61); Service "
                                        "ingress-nginx/ingress-nginx-controller (192.168.0.59)",
    "HTTP01_SELF_CHECK_TIMEOUT": "203.0.113.10 is not a LoadBalancer address (cluster has: "
                                 "192.168.1.20)",
    "HTTP01_SELF_CHECK_REDIRECT": "Challenge.status.reason: \"… failed to perform self check GET "
                                  "request 'http://a.example/.well-known/acme-challenge/x': Get "
                                  "\\\"https://a.example/.well-known/acme-challenge/x\\\": …\"",
    "DNS01_PROPAGATION_PENDING": "Challenge.status.reason: \"Waiting for DNS-01 challenge "
                                 "propagation: DNS record for \\\"example.com\\\" not yet "
                                 "propagated\"",
    "CERTIFICATE_REQUEST_FAILED": "CertificateRequest.status.conditions[Ready]: False, reason "
                                  "Failed, message \"… context deadline exceeded "
                                  "(Client.Timeout exceeded while awaiting headers)\"",
    "ISSUANCE_BACKOFF": "Certificate.status.failedIssuanceAttempts: 3; backoff 4h (cert-manager "
                        "defaults (1h/32h))",
    "CERTIFICATE_REQUEST_DENIED": "CertificateRequest.status.conditions[Denied]: True, reason "
                                  "policy.cert-manager.io",
    "CERTIFICATE_REQUEST_NOT_APPROVED": "CertificateRequest.status.conditions: no Approved or "
                                        "Denied condition",
    "VAULT_PERMISSION_DENIED_NOT_RETRIED": "CertificateRequest.status.conditions[Ready]: False, "
                                           "reason Pending, message \"Failed to initialise vault "
                                           "client for signing: … Code: 403 … permission "
                                           "denied\"",
    "ACME_ORDER_FAILED": 'Order.status.reason: "Failed to finalize Order: 403 '
                         'urn:ietf:params:acme:error:caa: …"; sub-cause: caa',
    "ACME_RATE_LIMITED": 'Order.status.reason: "Failed to create Order: 429 urn:ietf:params:acme:'
                         'error:rateLimited: too many certificates … retry after 2026-11-24 '
                         '10:00:00 UTC"',
    "CERTIFICATE_EXPIRING": 'Certificate.status.notAfter: "2026-11-28T07:00:00Z"; renewal '
                            "failing: 9 failed issuance attempts",
    "CERTIFICATE_EXPIRED": 'Certificate.status.notAfter: "2026-11-21T07:00:00Z"',
    "RENEW_BEFORE_TOO_SHORT": 'Certificate.spec.renewBefore: "6h"; renewal window 6h',
    "SECRET_MISMATCH": "Certificate.spec.dnsNames: ['a.example', 'b.example']; tls.crt DNS SANs: "
                       "['a.example']",
    "CERT_MANAGER_OUTDATED": "Deployment cert-manager image "
                             "quay.io/jetstack/cert-manager-controller:v1.9.1",
    "ISSUANCE_STUCK_UNRECOGNISED": "Certificate web: not Ready for 2d; Challenge.status.reason: "
                                   "\"Error presenting challenge: …\"",
    # -- DNS-01 examples --
    "DNS01_PROVIDER_PERMISSION_DENIED": "Challenge.status.reason: \"failed to change Route 53 "
                                        "record set: AccessDenied: User: arn:aws:sts::…:"
                                        "assumed-role/cert-manager/… is not authorized to "
                                        "perform: route53:ChangeResourceRecordSets …\"",
    "DNS01_PROVIDER_CREDENTIALS_INVALID": "Challenge web-1-2-3 Event PresentError: \"Error "
                                          "presenting challenge: failed to determine Route 53 "
                                          "hosted zone ID: … api error SignatureDoesNotMatch: "
                                          "The request signature we calculated does not "
                                          "match …\"",
    "DNS01_ZONE_NOT_FOUND": "Challenge.status.reason: \"Could not find the SOA record in the DNS "
                            "tree for the domain '_acme-challenge.www.example.com.' using "
                            "nameservers [10.96.0.10:53]\"",
    "DNS01_CREDENTIALS_SECRET_NOT_FOUND": "Challenge.status.reason: \"error getting cloudflare "
                                          "secret: secret \\\"cloudflare-api-token\\\" not "
                                          "found\"",
    "DNS01_WEBHOOK_SOLVER_UNAVAILABLE": "Challenge.status.reason: \"the server could not find "
                                        "the requested resource (post "
                                        "dnspod.acme.example.com)\"",
    "DNS01_AMBIENT_CREDENTIALS_DISABLED": "Challenge.status.reason: \"error instantiating "
                                          "route53 challenge solver: unable to construct "
                                          "route53 provider: empty credentials; perhaps you "
                                          "meant to enable ambient credentials?\"",
    # -- ACME examples --
    "ACME_ACCOUNT_KEY_SECRET_UNREADABLE": "ClusterIssuer.status.conditions[Ready]: False, reason "
                                          "ErrVerifyACMEAccount, message \"Failed to verify ACME "
                                          "account: context deadline exceeded\"",
    "ACME_ACCOUNT_REGISTRATION_REJECTED": "ClusterIssuer.status.conditions[Ready]: False, reason "
                                          "ErrRegisterACMEAccount, message \"Failed to register "
                                          "ACME account: 400 urn:ietf:params:acme:error:"
                                          "invalidContact: Error validating contact(s) :: …\"",
    "ACME_NO_MATCHING_SOLVER": "a.example.com: solvers[0] (dns01): dnsZones [\"example.org\"] do "
                               "not contain a.example.com",
    "ACME_WILDCARD_NEEDS_DNS01": "solvers[0] (http01) matches *.example.com, but HTTP-01 cannot "
                                 "validate a wildcard",
    "ACME_UNSUPPORTED_IDENTIFIER": 'Certificate.spec.uris: ["spiffe://cluster.local/ns/a/sa/b"]',
    "COMMON_NAME_TOO_LONG": 'Order.status.reason: "Failed to finalize Order: 400 urn:ietf:params:'
                            'acme:error:badCSR: Error finalizing order :: CN was longer than 64 '
                            'bytes"',
    "ACME_AUTHORIZATION_INVALID": 'Challenge.status.state: "expired"',
    "ACME_CAA_FORBIDS": 'Challenge.status.reason: "CAA record for example.com prevents issuance"',
    "ACME_DNS_LOOKUP_FAILED": 'Challenge.status.reason: "DNS problem: NXDOMAIN looking up A for '
                              'www.example.com - check that a DNS record exists for this domain"',
    "HTTP01_SELF_CHECK_WRONG_STATUS": "Challenge.status.reason: \"Waiting for HTTP-01 challenge "
                                      "propagation: wrong status code '503', expected '200'\"",
    "HTTP01_SOLVER_INGRESS_REJECTED": "Challenge Event PresentError: \"Error presenting challenge: "
                                      "admission webhook \\\"validate.nginx.ingress.kubernetes.io"
                                      "\\\" denied the request: ingress contains invalid paths: "
                                      "path /.well-known/acme-challenge/x cannot be used with "
                                      "pathType Exact\"",
    "HTTP01_GATEWAY_ROUTE_NOT_ACCEPTED": "HTTPRoute web/cm-acme-http-solver-x status.parents"
                                         "[web/gw].conditions[Accepted]: False, reason "
                                         "NotAllowedByListeners",
    # -- Secret/key/renewal/Vault examples --
    "SECRET_SHARED_BY_CERTIFICATES": "Certificates in web with secretName web-tls: web, "
                                     "web-www; Secret web-tls annotation "
                                     "cert-manager.io/certificate-name: web",
    "CERTIFICATE_RENEWAL_LOOP": "Certificate.status notBefore 2026-11-23T06:00:00Z, notAfter "
                                "2026-11-25T06:00:00Z (issued for 2d); Secret ca.crt notAfter "
                                "2026-11-25T06:00:00Z: the leaf was cut at the CA's own expiry",
    "VAULT_AUTH_FAILED": "ClusterIssuer.status.conditions[Ready]: False, reason VaultError, "
                         "message \"Failed to initialize Vault client: error logging in to "
                         "Vault server: Error making API request. URL: PUT https://vault:8200/"
                         "v1/auth/approle/login Code: 400. Errors: * invalid role or secret "
                         "ID\"",
    "SECRET_IS_ACME_ACCOUNT_KEY": "Certificate.spec.secretName: \"letsencrypt-prod\"; "
                                  "ClusterIssuer letsencrypt-prod "
                                  "spec.acme.privateKeySecretRef.name: 'letsencrypt-prod'",
    "SECRET_IS_CA_ISSUER_KEYPAIR": "Certificate.spec.secretName: \"root-ca\"; Issuer "
                                   "pki/ca-issuer spec.ca.secretName: 'root-ca'",
    "PRIVATE_KEY_CANNOT_REGENERATE": "Certificate.status.conditions[Issuing]: True, reason "
                                     "SecretMismatch, message \"Existing private key is not up "
                                     "to date for spec: [spec.privateKey.algorithm]\"",
    "VAULT_PATH_ISSUE_NOT_SIGN": "ClusterIssuer.spec.vault.path: \"pki_int/issue/example-dot-com\"",
    "SECRET_WRITTEN_BY_OTHER_CONTROLLER": "Secret web-tls: Helm release (annotation "
                                          "meta.helm.sh/release-name: 'web')",
    # -- issuer set-up examples --
    "ISSUER_SERVER_TLS_UNTRUSTED": "Issuer.status.conditions[Ready]: False, reason "
                                   "ErrRegisterACMEAccount, message \"Failed to register ACME "
                                   "account: Get \\\"https://acme.internal.example/acme/"
                                   "directory\\\": tls: failed to verify certificate: x509: "
                                   "certificate signed by unknown authority\"",
    "CA_ISSUER_SECRET_NOT_FOUND": "ClusterIssuer.status.conditions[Ready]: False, reason "
                                  "ErrGetKeyPair, message \"Error getting keypair for CA "
                                  "issuer: secrets \\\"ca-key-pair\\\" not found\"; a Secret "
                                  "named ca-key-pair exists in namespace(s) default",
    "CA_ISSUER_KEYPAIR_INVALID": "ClusterIssuer.status.conditions[Ready]: False, reason "
                                 "ErrInvalidKeyPair, message \"Error getting keypair for CA "
                                 "issuer: certificate is not a CA\"; Certificate "
                                 "cert-manager/root-ca writes Secret root-ca; spec.isCA: unset",
    "WEBHOOK_NOT_RUNNING": "Pod cert-manager-webhook-6d4b… container cert-manager-webhook: "
                           "CrashLoopBackOff, 37 restarts",
    # -- solver pod and DNS-01 configuration examples --
    "HTTP01_SOLVER_POD_REJECTED": "Challenge.status.reason: \"pods \\\"cm-acme-http-solver-rvt6g"
                                  "\\\" is forbidden: violates PodSecurity \\\"restricted:latest"
                                  "\\\": unrestricted capabilities (container \\\"acmesolver\\\" "
                                  "must set securityContext.capabilities.drop=[\\\"ALL\\\"])\"",
    "HTTP01_SOLVER_POD_NOT_RUNNING": "Pod shop/cm-acme-http-solver-x7k2p (solver of this "
                                     "Challenge): ImagePullBackOff, message \"Back-off pulling "
                                     "image \\\"quay.io/jetstack/cert-manager-acmesolver:"
                                     "v1.14.4\\\"\"",
    "DNS01_CNAME_NOT_FOLLOWED": "Challenge.status.reason: \"failed to change Route 53 record set: "
                                "… InvalidChangeBatch: [RRSet with DNS name "
                                "_acme-challenge.www.example.com. is not permitted in zone "
                                "acme.example.net.]\"",
    "DNS01_PROVIDER_CONFIG_INVALID": "Challenge.spec.solver.dns01.cloudDNS.project: "
                                     "'$PROJECT_ID' (an unexpanded placeholder)",
    # -- ingress-shim, external issuer and approval examples --
    "INGRESS_SHIM_NO_TLS": "Ingress test/web annotation cert-manager.io/cluster-issuer: "
                           "letsencrypt-prod; Ingress.spec.tls: []",
    "GATEWAY_SHIM_DISABLED": "Gateway networking/main annotation cert-manager.io/cluster-issuer: "
                             "letsencrypt-prod; listener certificateRefs without a Certificate: "
                             "glance-tls; cert-manager v1.17.1: controller args lack "
                             "--enable-gateway-api (default false)",
    "EXTERNAL_ISSUER_NOT_RESPONDING": "CertificateRequest.spec.issuerRef: {\"group\": "
                                      "\"awspca.cert-manager.io\", \"kind\": \"AWSPCAIssuer\", "
                                      "\"name\": \"pca\"}; Approved True; no Ready condition "
                                      "after 38m",
    "EXTERNAL_ISSUER_NOT_READY": "CertificateRequest.status.conditions[Ready]: False, reason "
                                 "Failed, message \"issuer is not ready\"",
    "EXTERNAL_ISSUER_PERMISSION_DENIED": "CertificateRequest.status.conditions[Ready]: False, "
                                         "reason Pending, message \"casClient.CreateCertificate "
                                         "failed: rpc error: code = PermissionDenied desc = "
                                         "Permission 'privateca.certificates.create' denied on "
                                         "'projects/1/locations/europe-west1/caPools/pool'\"",
    # -- controller/webhook examples --
    "CONTROLLER_NOT_RUNNING": "Pod cert-manager-7d9f… container cert-manager-controller: "
                              "CrashLoopBackOff, last exit OOMKilled, 14 restarts",
    "WEBHOOK_CA_NOT_INJECTED": "webhooks with an empty clientConfig.caBundle: "
                               "webhook.cert-manager.io",
}


def _template(s: str) -> str:
    return _PLACEHOLDER.sub(lambda m: f"‹{m.group(1)}›", s)


def entry_markdown(e: CatalogEntry) -> str:
    probes = ", ".join(f"`{p}`" for p in e.probes) or "—"
    fixes = ", ".join(f"`{f}`" for f in e.fixes) or "—"
    return "\n".join([
        f"## `{e.code}`",
        "",
        f"**Severity:** {e.severity.value} · **Title:** {_template(e.title)}",
        "",
        f"**Meaning.** {_template(e.explanation)}",
        "",
        f"**Signals and evidence.** {e.signals} The finding's evidence quotes these fields "
        "and messages verbatim, e.g.:",
        "",
        "```",
        EXAMPLES.get(e.code, ""),
        "```",
        "",
        f"**Confirm with probe:** {probes}",
        "",
        f"**Fix:** {e.fix} Automated fixes: {fixes}",
        "",
        f"**Checked against cert-manager:** {e.checked or 'not yet checked against the source'}",
        "",
    ])


def render() -> str:
    toc = [f"- [`{c}`](#{c.lower()}) — {e.severity.value}" for c, e in CATALOG.items()]
    body = [entry_markdown(e) for e in CATALOG.values()]
    return INTRO + "\n" + "\n".join(toc) + "\n\n" + "\n".join(body)


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.stdout.write(render())
