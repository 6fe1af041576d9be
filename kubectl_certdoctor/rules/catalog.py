"""Every finding code: severity, title, explanation template, probes, fixes and docs.

Codes are public API (``check -o json``, docs/findings.md): never rename one.
``explanation`` and ``title`` are ``str.format`` templates filled by the rule;
``signals`` and ``fix`` document what the rule reads and how to resolve it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubectl_certdoctor.objects import Ref
from kubectl_certdoctor.rules.finding import Finding, Severity


@dataclass(frozen=True)
class CatalogEntry:
    code: str
    severity: Severity
    title: str
    #: two or three sentences: why this happens (a template)
    explanation: str
    #: which fields/messages the rule reads (documentation)
    signals: str
    #: how to resolve it (documentation)
    fix: str
    probes: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()
    #: the cert-manager versions and source files (path@tag) this entry was checked against
    checked: str = ""

    @property
    def doc(self) -> str:
        """The entry as one Markdown paragraph block (for docs and the TUI help)."""
        return f"{self.explanation}\n\nSignals: {self.signals}\n\nFix: {self.fix}"


class _Defaults(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _fill(template: str, values: dict[str, Any]) -> str:
    try:
        return template.format_map(_Defaults(values))
    except (ValueError, IndexError, AttributeError, KeyError):
        return template


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741

_ENTRIES = [
    CatalogEntry(
        "ISSUER_NOT_FOUND", E, "{kind} {name} referenced by this Certificate does not exist",
        "The Certificate's spec.issuerRef names {ref}, which is not in the cluster{why}. "
        "cert-manager cannot create or sign a CertificateRequest until the reference resolves, "
        "so the Certificate never progresses.",
        "Certificate.spec.issuerRef (kind defaults to Issuer, group to cert-manager.io; an Issuer "
        "must be in the Certificate's namespace) compared with the Issuers and ClusterIssuers "
        "that exist.",
        "Create the issuer, or correct issuerRef.name/kind (Issuer is namespaced, "
        "ClusterIssuer is not).",
        checked=(
            "Certificate.spec.issuerRef defaulting (kind Issuer, group cert-manager.io) in "
            "pkg/apis/certmanager/v1/types_certificate.go and the issuer lookup in "
            "pkg/controller/certificaterequests/sync.go at v1.0.4 … v1.21.1"
        )
    ),
    CatalogEntry(
        "ISSUER_NOT_READY", E, "{kind} {name} is not ready: {reason}",
        "The issuer reports Ready=False ({reason}): {message}. Every Certificate that uses it "
        "stays unissued until the issuer becomes ready again.",
        "Issuer/ClusterIssuer status.conditions[Ready] = False, when no more specific code "
        "(ACME_SERVER_UNREACHABLE, ACME_ACCOUNT_SERVER_MISMATCH) explains it.",
        "Read the condition message and the issuer's Events; fix the issuer spec or the "
        "referenced Secret.",
        checked=(
            "Issuer Ready condition written by pkg/controller/issuers and "
            "pkg/controller/clusterissuers (reasons from pkg/issuer/*/setup.go) at v1.0.4 "
            "… v1.21.1"
        )
    ),
    CatalogEntry(
        "ACME_SERVER_UNREACHABLE", E, "cert-manager cannot reach the ACME server {server}",
        "Registering or verifying the ACME account failed with a network error ({error}). "
        "The controller pod cannot open a connection to {server}: pod egress is blocked by a "
        "firewall or NetworkPolicy, DNS resolves the name wrongly (resolv.conf search domains), "
        "or an HTTP proxy is required but not configured (or is configured but refuses).",
        "Issuer status.conditions[Ready]=False whose message contains context deadline "
        "exceeded, i/o timeout, connection refused, no such host, TLS handshake timeout, "
        "network is unreachable or proxyconnect, and reads \"Failed to register ACME account: "
        "…\" (any version), or \"Failed to verify ACME account: …\" with reason "
        "ErrRegisterACMEAccount or on a v1.3-or-older controller (from v1.4.0 that prefix is "
        "the account-key Secret read: ACME_ACCOUNT_KEY_SECRET_UNREADABLE).",
        "Run the egress and dns probes from the cert-manager pod's point of view; open egress "
        "to {server} or set HTTPS_PROXY/NO_PROXY on the controller.",
        probes=("egress", "dns", "no-proxy", "account"),
        fixes=("add-no-proxy",),
        checked="pkg/issuer/acme/setup.go at v1.0.0 … v1.3.3 (registration errors written as "
        "\"Failed to verify ACME account\" with reason ErrRegisterACMEAccount) and v1.4.0 … "
        "v1.21.1 (\"Failed to register ACME account\", reason ErrRegisterACMEAccount)",
    ),
    CatalogEntry(
        "ACME_ACCOUNT_SERVER_MISMATCH", I,
        "ACME account was registered at {account_host}, issuer now points at {server_host}",
        "The issuer's account (status.acme.uri) belongs to {account_host}, but spec.acme.server "
        "is on {server_host} (e.g. a staging issuer switched to production). cert-manager heals "
        "this itself: it logs \"ACME server URL host and ACME private key registration host "
        "differ. Re-checking ACME account registration\", clears status.acme.uri and registers "
        "the same key with the new server. While the issuer is not Ready, its Ready message "
        "says why that registration has not succeeded yet.",
        "host of Issuer.status.acme.uri vs host of Issuer.spec.acme.server, only while "
        "status.conditions[Ready] is not True.",
        "Nothing needs deleting: keep the account key Secret {secret}. Fix what the Ready "
        "condition of {kind} {name} reports (see the other findings); cert-manager re-registers "
        "the key with {server_host} on its next sync.",
        probes=("account",),
        checked="pkg/issuer/acme/setup.go at v1.0.0 … v1.21.1 (host comparison, URI cleared "
        "and re-registration with the same private key)",
    ),
    CatalogEntry(
        "PROXY_NO_PROXY_GAP", W, "NO_PROXY does not cover {count} in-cluster target(s)",
        "The cert-manager controller has {proxy_vars} set, and Go sends every request whose "
        "host NO_PROXY does not match through the proxy. {targets} would go to the proxy, "
        "which usually cannot reach cluster-internal addresses. Go's rules differ from curl's: "
        "a CIDR only matches IP literals, '.svc' does not match a bare 'svc', and short names "
        "like kubernetes.default only match if listed.",
        "Controller Deployment env HTTP_PROXY/HTTPS_PROXY/NO_PROXY (upper case wins), evaluated "
        "with Go's golang.org/x/net/http/httpproxy rules against kubernetes.default.svc, the "
        "kubernetes Service IP (service CIDR), *.svc/*.cluster.local names and in-cluster issuer "
        "URLs (Vault, ACME, webhook).",
        "Add the missing entries to NO_PROXY (e.g. .svc,.cluster.local,10.96.0.0/12 and the "
        "API server IP).",
        probes=("no-proxy",),
        fixes=("add-no-proxy",),
        checked=(
            "HTTP(S)_PROXY/NO_PROXY read through Go's http.ProxyFromEnvironment by the "
            "clients in pkg/acme/accounts/client.go and pkg/issuer/acme/http/http.go, and "
            "by client-go for the API server, at v1.0.4 … v1.21.1"
        )
    ),
    CatalogEntry(
        "HTTP01_SELF_CHECK_404", E, "HTTP-01 self-check for {host} got {got}",
        "cert-manager's self-check GET of http://{host}/.well-known/acme-challenge/<token> "
        "reached a web server, but not one that routes the token to the solver pod ({got}). "
        "Typical causes: another Ingress/controller answers for the host, the solver Ingress "
        "has the wrong class, or a load balancer in front spreads traffic to a backend "
        "without the solver route.",
        "Challenge.spec.type HTTP-01, status.state pending, status.reason \"Waiting for HTTP-01 "
        "challenge propagation: wrong status code 'N', expected '200'\" or \"did not get "
        "expected response\".",
        "Run the http01 and http01-backends probes to see which backend answers; align the "
        "solver's ingress class with the site's, then retry the challenge.",
        probes=("http01", "http01-backends"),
        fixes=("set-solver-ingress-class", "retry-challenge"),
        checked=(
            'pkg/issuer/acme/http/http.go ("wrong status code \'%d\', expected \'%d\'") '
            'wrapped by "Waiting for %s challenge propagation: %s" in '
            "pkg/controller/acmechallenges/sync.go (v1.0.4 … v1.19) and readiness.go "
            "(v1.20 … v1.21.1)"
        )
    ),
    CatalogEntry(
        "HTTP01_WRONG_INGRESS_CLASS", E,
        "HTTP-01 solver uses ingress class {solver_class!r}: {why}",
        "The ACME issuer's HTTP-01 solver creates its Ingress with class {solver_class!r}, but "
        "{why}. No controller (or the wrong one) then serves the solver's route, so the "
        "self-check and the CA's validation get 404s.",
        "solver.http01.ingress.ingressClassName / class / ingressTemplate annotation "
        "kubernetes.io/ingress.class of the Challenge, compared with the IngressClasses that "
        "exist and with the class of the site Ingress(es) serving the same host.",
        "Set the solver's ingressClassName to the class of the site Ingress.",
        probes=("http01",),
        fixes=("set-solver-ingress-class", "retry-challenge"),
        checked=(
            "pkg/issuer/acme/http/ingress.go (solver Ingress class from "
            "solver.http01.ingress.class / ingressClassName) at v1.0.4 … v1.21.1"
        )
    ),
    CatalogEntry(
        "HTTP01_MULTIPLE_INGRESS_BACKENDS", W,
        "{count} ingress controllers/Gateways can receive traffic for {host}",
        "More than one ingress controller or Gateway is exposed ({backends}). Challenge traffic "
        "for {host} can land on one that has no route for the solver, which shows up as an "
        "intermittent 404 in the self-check even though the URL works from outside sometimes.",
        "IngressClass controllers, LoadBalancer Services exposing port 80/443, Gateway "
        "addresses and listeners, and Ingresses serving the Challenge's host — while an HTTP-01 "
        "self-check fails with a wrong status code.",
        "Run http01-backends to request the token from every backend; route the host (or "
        "/.well-known/acme-challenge/) to a single controller, or use DNS-01.",
        probes=("http01-backends", "http01"),
        fixes=("set-solver-ingress-class", "retry-challenge"),
        checked=(
            "pkg/issuer/acme/http/http.go self-check (resolves the host with "
            "--acme-http01-solver-nameservers, GETs the token URL) at v1.0.4 … v1.21.1"
        )
    ),
    CatalogEntry(
        "HTTP01_SELF_CHECK_TIMEOUT", E, "HTTP-01 self-check for {host} cannot connect ({error})",
        "The self-check from inside the cluster could not connect to {address}{lb_note}. "
        "{hairpin}",
        "Challenge.status.reason \"failed to perform self check GET request … dial tcp "
        "ADDR:80: i/o timeout / connect: connection refused / Client.Timeout exceeded\"; ADDR "
        "compared with the LoadBalancer addresses of Services, Ingresses and Gateways.",
        "Enable NAT loopback (hairpin) on the router, or make the name resolve to the ingress "
        "inside the cluster (split DNS / CoreDNS rewrite); run the hairpin probe to confirm.",
        probes=("hairpin", "http01", "dns"),
        fixes=("retry-challenge",),
        checked=(
            'pkg/issuer/acme/http/http.go self-check ("failed to perform self check GET '
            'request") at v1.0.4 … v1.21.1'
        )
    ),
    CatalogEntry(
        "HTTP01_SELF_CHECK_REDIRECT", E, "HTTP-01 self-check for {host} was redirected",
        "The self-check request to http://{host}/.well-known/acme-challenge/ was redirected "
        "({detail}) and the redirected request failed. A forced HTTPS redirect (ssl-redirect) "
        "on the site Ingress usually captures the challenge path before the solver route.",
        "Challenge.status.reason where the failing request's URL differs from the self-check "
        "URL (Get \"https://…\" inside \"GET request 'http://…'\") or \"stopped after 10 "
        "redirects\".",
        "Exclude /.well-known/acme-challenge/ from the redirect (e.g. ssl-redirect \"false\" on "
        "the solver Ingress template) or let the redirect target serve the token.",
        probes=("http01",),
        fixes=("retry-challenge",),
        checked=(
            "pkg/issuer/acme/http/http.go (redirects followed, TLS verification off) at "
            "v1.0.4 … v1.21.1"
        )
    ),
    CatalogEntry(
        "DNS01_PROPAGATION_PENDING", W, "DNS-01 TXT record for {host} not visible yet",
        "{detail} cert-manager keeps the Challenge pending ({reason}) and retries; the CA is "
        "not asked to validate until cert-manager itself sees the record.",
        "Challenge.spec.type DNS-01, state pending for more than 5 minutes, status.presented "
        "true, with status.reason \"Waiting for DNS-01 challenge propagation: …\" (DNS record "
        "for … not yet propagated / SOA or NS lookup errors). A record that was never "
        "presented (presented false) is a provider failure, not this code.",
        "Run the dns probe against the authoritative and recursive servers for the TXT record; "
        "if the authoritative servers have it but the controller's resolvers do not, set "
        "--dns01-recursive-nameservers-only with --dns01-recursive-nameservers (e.g. "
        "1.1.1.1:53,8.8.8.8:53) on the controller, then retry the challenge.",
        probes=("dns",),
        fixes=("set-recursive-nameservers", "retry-challenge"),
        checked=(
            '"Waiting for %s challenge propagation: %s" in '
            "pkg/controller/acmechallenges/sync.go (v1.0.4 … v1.20.3) and readiness.go "
            "(v1.21.0 … v1.21.1), written only after Present succeeded (status.presented "
            "true); pkg/issuer/acme/dns/dns.go Check (\"DNS record for %q not yet "
            "propagated\") and the SOA/NS walk in pkg/issuer/acme/dns/util/wait.go"
        )
    ),
    CatalogEntry(
        "CERTIFICATE_REQUEST_FAILED", E, "CertificateRequest {name} failed: {message}",
        "The CertificateRequest for revision {revision} of Certificate {certificate} is Failed. "
        "A Failed request is terminal: cert-manager will not sign it again, and the Certificate "
        "only gets a new request after the issuance backoff{backoff} or manual action.",
        "CertificateRequest with the highest certificate-revision annotation above the "
        "Certificate's status.revision, status.conditions[Ready]=False reason Failed.",
        "Fix the cause in the message, then delete the failed request and trigger a renewal "
        "(cmctl renew).",
        fixes=("clear-failed-requests", "renew"),
        checked=(
            "CertificateRequest Ready reason Failed (CertificateRequestReasonFailed in "
            "pkg/apis/certmanager/v1/types_certificaterequest.go) and "
            "pkg/controller/certificates/issuing at v1.0.4 … v1.21.1"
        )
    ),
    CatalogEntry(
        "ISSUANCE_BACKOFF", W, "Issuance backing off: next attempt in {remaining} ({at})",
        "Issuance has failed ({attempts}); cert-manager waits min × 2^(n−1) after "
        "lastFailureTime, capped at max ({config}). The next attempt is at {at}. cert-manager "
        "only writes this time to a log line.",
        "Certificate.status.failedIssuanceAttempts and lastFailureTime; backoff bounds from the "
        "controller args --certificate-request-minimum/maximum-backoff-duration (default "
        "1h/32h).",
        "Fix the failure first, then trigger a renewal to skip the wait.",
        fixes=("renew", "clear-failed-requests"),
        checked=(
            "pkg/controller/certificates/trigger/trigger_controller.go (1h after one "
            "failure at v1.0.4 … v1.7; status.failedIssuanceAttempts and exponential "
            "backoff from v1.8.0; min·2^(n-1) capped at 32h at v1.21.1)"
        )
    ),
    CatalogEntry(
        "CERTIFICATE_REQUEST_DENIED", E, "CertificateRequest {name} was denied",
        "An approver denied this request ({message}). A denied request is final; the "
        "Certificate is re-tried only after the backoff with a new request, which a policy "
        "will deny again unless it changes.",
        "CertificateRequest status.conditions[Denied]=True.",
        "Adjust the approver policy (e.g. approver-policy CertificateRequestPolicy) or the "
        "Certificate so it is allowed, then renew.",
        fixes=("clear-failed-requests", "renew"),
        checked=(
            "CertificateRequestConditionDenied in "
            "pkg/apis/certmanager/v1/types_certificaterequest.go at v1.3.0 … v1.21.1"
        )
    ),
    CatalogEntry(
        "CERTIFICATE_REQUEST_NOT_APPROVED", W, "CertificateRequest {name} waits for approval",
        "The request has had neither an Approved nor a Denied condition for {age}. cert-manager "
        "does not sign unapproved requests: the built-in approver is probably disabled "
        "(--controllers=-certificaterequests-approver) and no external approver is running.",
        "CertificateRequest without Approved/Denied conditions, older than 5 minutes.",
        "Install/enable an approver (approver-policy) or approve with cmctl approve.",
        checked=(
            "CertificateRequestConditionApproved/Denied in "
            "pkg/apis/certmanager/v1/types_certificaterequest.go at v1.3.0 … v1.21.1 "
            "(absent before v1.3.0: not judged there)"
        )
    ),
    CatalogEntry(
        "VAULT_PERMISSION_DENIED_NOT_RETRIED", E,
        "Vault request {name} stuck: cert-manager {version} never retries it",
        "The Vault client could not be initialised ({message}). cert-manager {version} records "
        "this as Pending and never requeues the request (fixed by cert-manager PR #7105 in "
        "v1.16.0, backported to v1.15.1, v1.14.7 and v1.12.12), so a transient Vault 403 leaves "
        "the certificate to expire.",
        "CertificateRequest for a Vault issuer with Ready=False reason Pending and message "
        "\"Failed to initialise vault client for signing: …\"; controller version from the "
        "image tag.",
        "Delete the stuck request and renew once Vault works; upgrade cert-manager to a fixed "
        "release.",
        fixes=("clear-failed-requests", "renew", "upgrade-guidance"),
        checked=(
            'pkg/controller/certificaterequests/vault/vault.go ("Failed to initialise '
            'vault client for signing"): no requeue before v1.16.0 and the backports '
            "v1.15.1, v1.14.7, v1.12.12"
        )
    ),
    CatalogEntry(
        "ACME_ORDER_FAILED", E, "ACME Order {name} {state}: {subcause}",
        "The ACME server rejected the order ({subcause}): {reason}. An invalid order cannot be "
        "resumed; the CertificateRequest fails and the Certificate retries after the backoff.",
        "Order.status.state invalid/errored, status.reason and failed authorizations/"
        "Challenges; subcause from the urn:ietf:params:acme:error:* type.",
        "{action}",
        probes=("account",),
        fixes=("renew", "clear-failed-requests"),
        checked=(
            "Order status.state/reason written by pkg/controller/acmeorders/sync.go at "
            "v1.0.4 … v1.21.1 (\"Failed to finalize Order: %v\" for finalize errors); "
            "privateKey.rotationPolicy in pkg/apis/certmanager/v1/types_certificate.go "
            "(default Never until v1.17, Always from v1.18.0)"
        )
    ),
    CatalogEntry(
        "ACME_RATE_LIMITED", E, "ACME rate limit hit{retry}",
        "The ACME server refused with a rate limit ({message}). Retrying before the limit "
        "resets only extends it{retry_sentence}.",
        "urn:ietf:params:acme:error:rateLimited / \"too many certificates\" / \"rate limit\" in "
        "Order.status.reason, CertificateRequest or Challenge messages; \"retry after\" time.",
        "Wait for the retry-after time; use the staging server while testing; combine names "
        "into fewer certificates.",
        checked=(
            "ACME problem urn:ietf:params:acme:error:rateLimited passed through "
            "Order.status.reason by pkg/controller/acmeorders/sync.go at v1.0.4 … v1.21.1"
        )
    ),
    CatalogEntry(
        "CERTIFICATE_EXPIRING", W, "Certificate expires in {remaining} and renewal is failing",
        "The certificate is inside its renewal window (expires {not_after}) but renewal is "
        "failing ({why}). If nothing changes it will expire.",
        "Certificate.status.notAfter and renewalTime with Ready=False, failed issuance attempts "
        "or a failed latest CertificateRequest.",
        "Fix the renewal failure (see the other findings), then renew.",
        fixes=("renew",),
        checked=(
            "Certificate status.notAfter/renewalTime "
            "(pkg/apis/certmanager/v1/types_certificate.go; pkg/util/pki/renewaltime.go) "
            "at v1.0.4 … v1.21.1"
        )
    ),
    CatalogEntry(
        "CERTIFICATE_EXPIRED", E, "Certificate expired {ago} ago",
        "The certificate in the Secret expired at {not_after}; clients see TLS errors now.",
        "Certificate.status.notAfter (or the Secret's tls.crt notAfter) in the past.",
        "Fix the issuance failure and renew immediately.",
        fixes=("renew", "clear-failed-requests"),
        checked=(
            "Certificate status.notAfter (pkg/apis/certmanager/v1/types_certificate.go) at "
            "v1.0.4 … v1.21.1"
        )
    ),
    CatalogEntry(
        "RENEW_BEFORE_TOO_SHORT", W, "Renewal window {window} leaves room for {retries} retries",
        "Renewal starts {window} before expiry. With cert-manager's backoff ({config}) only "
        "{retries} failed attempt(s) fit in that window, so a short outage of the CA is "
        "enough to let the certificate expire.",
        "Certificate.spec.duration/renewBefore/renewBeforePercentage (explicitly set) compared "
        "with the cumulative backoff min × (2^n − 1).",
        "Raise renewBefore (e.g. to a third of the duration) or lengthen the duration.",
        checked=(
            "spec.renewBefore (v1.0.4 … v1.21.1) and spec.renewBeforePercentage (v1.15.0 "
            "…) against the backoff of "
            "pkg/controller/certificates/trigger/trigger_controller.go"
        )
    ),
    CatalogEntry(
        "SECRET_MISMATCH", W, "Secret {secret} does not match the Certificate: {why}",
        "The Secret named in spec.secretName {why}. Workloads serve a certificate that is not "
        "the one the spec asks for; cert-manager re-issues on mismatch only while issuance "
        "works.",
        "Secret data tls.crt (parsed: DNS/IP SANs, common name) vs Certificate.spec; the "
        "cert-manager.io/issuer-name annotation vs spec.issuerRef.",
        "Renew the Certificate; if it keeps mismatching, check for two Certificates writing "
        "the same Secret.",
        fixes=("renew",),
        checked=(
            "cert-manager.io/issuer-name annotation (pkg/apis/certmanager/v1/types.go) and "
            "the SecretMismatch checks of pkg/controller/certificates/trigger/policies "
            "(v1.0.4 … v1.11) and internal/controller/certificates/policies (v1.12 … "
            "v1.21.1)"
        )
    ),
    CatalogEntry(
        "CERT_MANAGER_OUTDATED", I, "cert-manager {version} is no longer supported",
        "The controller runs {version}; the oldest supported release line is v{oldest}. "
        "Older releases miss fixes for issues this tool diagnoses (e.g. Vault retries, "
        "backoff flags).",
        "Image tag of the cert-manager controller Deployment (or its app.kubernetes.io/version "
        "label).",
        "Upgrade one minor version at a time following the upgrade notes.",
        fixes=("upgrade-guidance",),
        checked=(
            "controller image tag quay.io/jetstack/cert-manager-controller:vX.Y.Z "
            "(deploy/charts/cert-manager/templates/deployment.yaml) at v1.0.4 … v1.21.1; "
            "supported releases per cert-manager's release policy"
        )
    ),
    # -- DNS-01 provider and solver codes (rules/dns01.py) --
    CatalogEntry(
        "DNS01_PROVIDER_PERMISSION_DENIED", E,
        "{provider} refused to create the DNS-01 TXT record for {host}: permission denied",
        "cert-manager could not present the DNS-01 challenge for {host}: the {provider} "
        "credentials of {issuer} were accepted but are not allowed to make the change "
        "({meaning}: {said}). The TXT record is never created, so there is nothing to "
        "propagate; the Challenge stays pending and cert-manager retries with backoff until "
        "the permission is granted.",
        "DNS-01 Challenge with status.presented false whose status.reason — or, when "
        "cert-manager ≥ v1.20 redacted the SDK error there, the newest PresentError Event "
        "\"Error presenting challenge: …\" — carries a permission error: AWS AccessDenied / "
        "\"is not authorized to perform: route53:…\", Cloudflare \"requires permission\" / "
        "\"10000: Authentication error\", Google \"Error 403\" / \"insufficient authentication "
        "scopes\", Azure AuthorizationFailed, DigitalOcean \"You do not have access for the "
        "attempted action\", RFC2136 \"DNS update failed. Server replied: REFUSED/NOTAUTH\".",
        "{hint} cert-manager retries Challenge {name} by itself once the permission is in "
        "place (delete it with kubectl delete challenge {name} -n {namespace} to retry at "
        "once).",
        checked="pkg/controller/acmechallenges/sync.go at v1.0.4 … v1.21.1 (Present error → "
        "status.reason, presented false, Event PresentError \"Error presenting challenge: "
        "%v\"; stabilizeSolverErrorMessage redacts AWS/Azure/DigitalOcean SDK errors in "
        "status.reason from v1.20.0); pkg/issuer/acme/dns/route53/route53.go (\"failed to "
        "change Route 53 record set: %v\", \"failed to determine Route 53 hosted zone ID: "
        "%v\"), cloudflare/cloudflare.go (\"Error: %d: %s\"), rfc2136/rfc2136.go (\"DNS update "
        "failed. Server replied: %s\"), azuredns/azuredns.go, clouddns/clouddns.go at v1.0.4 … "
        "v1.21.1",
    ),
    CatalogEntry(
        "DNS01_PROVIDER_CREDENTIALS_INVALID", E,
        "{provider} rejected the DNS-01 credentials of {issuer}",
        "The {provider} API rejected the credentials cert-manager sent while presenting the "
        "challenge for {host} ({meaning}: {said}). The key, token or TSIG secret is wrong, "
        "expired, revoked or mangled (a trailing newline, base64-encoded twice, the wrong "
        "kind of token), so no TXT record can be created and the Challenge stays pending.",
        "DNS-01 Challenge with status.presented false whose status.reason (or the newest "
        "PresentError Event when cert-manager ≥ v1.20 redacted it) carries AWS "
        "InvalidClientTokenId / SignatureDoesNotMatch / UnrecognizedClientException / "
        "ExpiredToken / NoCredentialProviders, Cloudflare \"Invalid request headers\" / "
        "\"Invalid format for Authorization header\" / \"Invalid API Token\", Azure AADSTS… / "
        "invalid_client / azidentity.AuthenticationFailedError, Google invalid_grant, "
        "DigitalOcean \"Unable to authenticate you\", RFC2136 \"dns: bad authentication\" / "
        "\"dns: bad signature\" / BADSIG / BADKEY.",
        "{hint} The credentials come from {secrets}; write Secrets with --from-literal or "
        "stringData so no newline slips in. cert-manager reads the Secret again on each retry "
        "of Challenge {name}.",
        checked="pkg/controller/acmechallenges/sync.go at v1.0.4 … v1.21.1 (PresentError "
        "Event; redaction of SDK errors in status.reason from v1.20.0); "
        "pkg/issuer/acme/dns/route53/route53.go, cloudflare/cloudflare.go (\"the Cloudflare API "
        "token is invalid (does the API token contain a newline?)\" v1.5+), "
        "azuredns/azuredns.go, clouddns/clouddns.go, digitalocean/digitalocean.go, "
        "rfc2136/rfc2136.go (\"DNS update failed: %v\" wrapping miekg/dns errors) at v1.0.4 … "
        "v1.21.1",
    ),
    CatalogEntry(
        "DNS01_ZONE_NOT_FOUND", E, "No {provider} zone found for {fqdn}",
        "cert-manager could not find the DNS zone that should hold {fqdn} ({said}). {detail} "
        "Without a zone the TXT record cannot be created and the Challenge stays pending.",
        "DNS-01 Challenge with status.presented false whose status.reason (or PresentError "
        "Event) says \"Could not find the SOA record in the DNS tree\" (\"Could not find the "
        "start of authority\" before v1.4), \"zone … not found in Route 53 for domain\", "
        "NoSuchHostedZone, \"Found no Zones for domain\" / \"Zone … not found in CloudFlare\", "
        "\"Zone … not found in AzureDNS\", \"No matching GoogleCloud domain found\", "
        "\"Server replied: NOTZONE\".",
        "{zone_fix} If _acme-challenge.{host} is a CNAME into another zone, set "
        "cnameStrategy: Follow and give the credentials access to that zone. If the "
        "controller's resolvers cannot see the zone, run it with "
        "--dns01-recursive-nameservers-only --dns01-recursive-nameservers=1.1.1.1:53,8.8.8.8:53.",
        checked="pkg/issuer/acme/dns/util/wait.go FindZoneByFqdn (\"Could not find the start "
        "of authority\" v1.0.4 … v1.3.3; \"Could not find the SOA record in the DNS tree for "
        "the domain '%s' using nameservers %v\" v1.4.0 … v1.21.1); "
        "pkg/issuer/acme/dns/route53/route53.go getHostedZoneID (private zones skipped), "
        "cloudflare/cloudflare.go (\"Zone %s not found in CloudFlare\" ≤ v1.4, \"Found no "
        "Zones for domain\" v1.5.0 … v1.21.1), azuredns/azuredns.go, clouddns/clouddns.go; "
        "pkg/issuer/acme/dns/dns.go (cnameStrategy Follow) at v1.0.4 … v1.21.1",
    ),
    CatalogEntry(
        "DNS01_CREDENTIALS_SECRET_NOT_FOUND", E,
        "Secret {secret} for the {provider} DNS-01 solver is missing in namespace {secret_ns}",
        "The {provider} solver of {issuer} reads {field} from Secret {secret_ns}/{secret}, "
        "{why}. cert-manager only looks in {where_rule}, so the solver cannot be built and no "
        "TXT record is created.{elsewhere}",
        "DNS-01 Challenge with status.presented false whose status.reason says \"error "
        "getting <provider> …: secret \\\"x\\\" not found\" (or \"… key … not found in "
        "secret\"), or a Secret the solver references that is absent from a snapshot holding "
        "other Secrets of that namespace (Issuer: its own namespace; ClusterIssuer: the "
        "controller's --cluster-resource-namespace, default cert-manager).",
        "Create Secret {secret} with key {key} in namespace {secret_ns} (kubectl create secret "
        "generic {secret} -n {secret_ns} --from-literal={key}=…), or correct {field} in "
        "{issuer}; a changed solver only reaches a new Challenge, so then delete Challenge "
        "{name} (-n {namespace}).",
        checked="pkg/issuer/acme/dns/dns.go solverForChallenge at v1.0.4 … v1.21.1 (\"error "
        "getting cloudflare secret: %s\", \"error getting route53 secret access key: %s\", "
        "\"error getting azuredns client secret: %s\", \"error getting clouddns service "
        "account: %s\", \"error getting digitalocean token: %s\", akamai \"failed to load "
        "secret\"); rfc2136/provider.go (lister error as is); pkg/controller/helper.go "
        "ResourceNamespaceRef (Issuer namespace / ClusterResourceNamespace)",
    ),
    CatalogEntry(
        "DNS01_WEBHOOK_SOLVER_UNAVAILABLE", E,
        "Webhook DNS-01 solver {solver}.{group} is not served",
        "cert-manager presents the record by POSTing to /apis/{group}/v1alpha1/{solver} "
        "through the Kubernetes API aggregation layer, and {why}. The webhook (its "
        "Deployment, Service or APIService v1alpha1.{group}) is missing or not ready, or the "
        "issuer's groupName/solverName do not match what the webhook registers.",
        "DNS-01 Challenge with a webhook solver, status.presented false, and status.reason "
        "(or PresentError Event) \"the server could not find the requested resource (post "
        "<solver>.<group>)\" / \"the server is currently unable to handle the request\" / "
        "\"… is forbidden: User … cannot create resource\"; or the APIService "
        "v1alpha1.<groupName> (apiregistration.k8s.io/v1) with conditions[Available] not True.",
        "Check kubectl get apiservice v1alpha1.{group} (it must be Available=True) and the "
        "webhook pod and Service behind it; make the issuer's groupName ({group}) and "
        "solverName ({solver}) equal the webhook's (its Helm value groupName); then delete "
        "Challenge {name} (-n {namespace}) so a new one is presented.",
        checked="pkg/issuer/acme/dns/webhook/webhook.go at v1.0.4 … v1.21.1 "
        "(cl.Post().Resource(solverName) on GroupVersion <groupName>/v1alpha1; the API "
        "server's error is returned as is); pkg/issuer/acme/dns/dns.go prepareChallengeRequest",
    ),
    CatalogEntry(
        "DNS01_AMBIENT_CREDENTIALS_DISABLED", E,
        "{issuer} needs ambient {provider} credentials, which the controller does not allow",
        "The {provider} solver of {issuer} has no explicit credentials, so cert-manager would "
        "use the controller pod's ambient ones (IRSA / instance profile, GKE Workload "
        "Identity, Azure managed or workload identity). It does so for an {issuer_kind} only "
        "with {flag} (--issuer-ambient-credentials defaults to false, "
        "--cluster-issuer-ambient-credentials to true), and the controller runs without it, "
        "so building the solver fails before any DNS call.",
        "DNS-01 Challenge with status.presented false and status.reason \"unable to construct "
        "route53/clouddns provider: empty credentials; perhaps you meant to enable ambient "
        "credentials?\" or Azure \"ClientID is not set but neither "
        "`--cluster-issuer-ambient-credentials` nor `--issuer-ambient-credentials` are set\" "
        "(\"ClientID was omitted without providing one of …\" from v1.18); or such a solver "
        "without credentials while the controller args lack the flag.",
        "{choice} the cert-manager controller's args (Helm: extraArgs), or give the solver "
        "explicit credentials ({explicit}); then delete Challenge {name} (-n {namespace}).",
        checked="pkg/controller/helper.go CanUseAmbientCredentialsFromRef; "
        "cmd/controller/app/options/options.go (v1.0.4) and "
        "internal/apis/config/controller/v1alpha1/defaults.go (v1.21.1): issuer false, "
        "cluster-issuer true; pkg/issuer/acme/dns/route53/route53.go and clouddns/clouddns.go "
        "(\"empty credentials; perhaps you meant to enable ambient credentials?\") v1.0.4 … "
        "v1.21.1; azuredns/azuredns.go (\"ClientID is not set but neither …\" v1.0.4 … "
        "v1.17.x, \"ClientID was omitted without providing one of …\" v1.18.0 … v1.21.1)",
    ),
    # -- ACME account, order, authorization and solver-selection codes (rules/acme*.py) --
    CatalogEntry(
        "ACME_ACCOUNT_KEY_SECRET_UNREADABLE", E,
        "{kind} {name} cannot read its ACME account key Secret {secret}",
        "\"Failed to verify ACME account\" ({error}) is what cert-manager v1.4.0 and later "
        "write when reading the account private-key Secret {secret} from the Kubernetes API "
        "server fails — the ACME server was never contacted. {route}",
        "Issuer status.conditions[Ready]=False, reason ErrVerifyACMEAccount, message \"Failed "
        "to verify ACME account: <network error>\" on a v1.4+ controller (unknown version: "
        "judged as the newest); the controller's HTTP(S)_PROXY/NO_PROXY evaluated with Go's "
        "rules against the API server's Service IP and names.",
        "Make the API server reachable from the cert-manager controller: add the API server's "
        "Service IP and names (e.g. {api_entries}) to NO_PROXY on the cert-manager Deployment "
        "(or drop the proxy), check NetworkPolicies on the cert-manager namespace, then check "
        "that Secret {secret} exists.",
        probes=("no-proxy",),
        fixes=("add-no-proxy",),
        checked="pkg/issuer/acme/setup.go at v1.4.0 … v1.21.1 (keyFromSecret error → reason "
        "ErrVerifyACMEAccount, \"Failed to verify ACME account: \"); the Secret lister GETs "
        "from the API server: internal/informers/core_filteredsecrets.go at v1.12.0 … v1.21.1 "
        "(SecretsFilteredCaching on by default from v1.16.0); v1.3.3 wrote the same prefix for "
        "registration errors",
    ),
    CatalogEntry(
        "ACME_ACCOUNT_REGISTRATION_REJECTED", E,
        "ACME server refused to register the account of {kind} {name}: {problem}",
        "Registering the ACME account failed with a client error ({problem}): {detail} "
        "cert-manager does not retry this until the issuer's spec changes, so the issuer stays "
        "not Ready and no certificate from it is issued.",
        "Issuer status.conditions[Ready]=False, reason ErrRegisterACMEAccount, message "
        "\"Failed to register ACME account: 4xx urn:ietf:params:acme:error:<type>: …\" "
        "(invalidContact, unsupportedContact, externalAccountRequired, unauthorized, "
        "malformed, badPublicKey…), or the External Account Binding key errors \"failed to "
        "get External Account Binding key from secret\", \"failed to find external account "
        "binding key data\", \"failed to decode external account binding key data\" (v1.0–"
        "v1.3: \"External Account Binding MAC key is invalid\").",
        "{action} Then edit the {kind} {name} spec (any change, e.g. re-apply it) so "
        "cert-manager tries the registration again.",
        probes=("account",),
        checked="pkg/issuer/acme/setup.go at v1.0.0 … v1.21.1 (4xx from Register and "
        "getEABKey NotFound/InvalidData return a nil error: not requeued until the spec "
        "changes); golang.org/x/crypto/acme Error \"<status> <type>: <detail>\"",
    ),
    CatalogEntry(
        "ACME_NO_MATCHING_SOLVER", E,
        "No solver of {issuer} can be used for {names}",
        "cert-manager picks one solver per DNS name from {issuer}'s spec.acme.solvers: a "
        "solver's selector.dnsNames, dnsZones and matchLabels must all match (no selector "
        "matches everything; the most specific match wins). For {names} none does ({why}), "
        "so the Order never gets its Challenges and the Certificate is never issued.",
        "Issuer spec.acme.solvers[*].selector replayed for each Certificate dnsName against the "
        "Order's (else the Certificate's) labels; Order Warning Event \"Failed to determine a "
        "valid solver configuration for the set of domains on the Order: no configured "
        "challenge solvers can be used for this challenge\".",
        "Add a solver that matches {names} to {issuer} (a dnsZones entry for the parent zone, "
        "a dnsNames entry, or a solver without selector as the fallback), or fix the "
        "Certificate's labels to satisfy matchLabels.",
        checked="pkg/controller/acmeorders/util.go at v1.0.0 … v1.18.x and "
        "pkg/util/solverpicker/solverpicker.go at v1.19.0 … v1.21.1 (selection), "
        "pkg/controller/acmeorders/selectors/{dns_names,dns_zones,labels}.go, Event in "
        "pkg/controller/acmeorders/sync.go (reason Solver)",
    ),
    CatalogEntry(
        "ACME_WILDCARD_NEEDS_DNS01", E, "Wildcard {name} needs a DNS-01 solver",
        "ACME CAs validate a wildcard name ({name}) only with DNS-01, but the solvers of "
        "{issuer} that match it are HTTP-01 only ({why}). cert-manager finds no usable "
        "solver, so the Order never gets a Challenge for {name}.",
        "Certificate dnsNames starting with '*.' and the Issuer's solvers replayed with only "
        "dns-01 offered (RFC 8555 §7.1.3); Order Event \"no configured challenge solvers can be "
        "used for this challenge\".",
        "Add a dns01 solver to {issuer} whose selector matches {name} (e.g. dnsZones: "
        "[{zone}]), or drop the wildcard and list the host names.",
        checked="pkg/controller/acmeorders/util.go at v1.0.0 … v1.18.x, "
        "pkg/util/solverpicker/solverpicker.go at v1.19.0 … v1.21.1 (domainToFind \"*.\"+"
        "identifier; challengeForSolver only pairs solvers with offered challenge types)",
    ),
    CatalogEntry(
        "ACME_UNSUPPORTED_IDENTIFIER", E,
        "Certificate {name} asks an ACME CA for {what}",
        "ACME orders carry DNS names{ip_note}; {what} cannot be validated by an ACME CA. "
        "cert-manager still puts them into the CSR, and the CA rejects the CSR or the order "
        "({detail}), so issuance fails every time.",
        "Certificate spec.uris / spec.emailAddresses (and spec.ipAddresses when the CA rejects "
        "IP identifiers: rejectedIdentifier/unsupportedIdentifier) with an ACME issuer; "
        "Order.status.reason / CertificateRequest message.",
        "Remove {fields} from Certificate {name} (ACME can only validate DNS names{ip_note}), "
        "or issue it from a CA/Vault issuer.",
        checked="pkg/controller/certificaterequests/acme/acme.go buildOrder at v1.1.0 … "
        "v1.21.1 (only dnsNames and ipAddresses go into the Order; v1.0.x: dnsNames only)",
    ),
    CatalogEntry(
        "COMMON_NAME_TOO_LONG", E, "Common name of {name} is longer than 64 bytes",
        "The CSR's common name {cn} is {length} bytes; RFC 5280 allows 64, and ACME CAs refuse "
        "to finalize such orders ({detail}). Retrying the order cannot succeed.",
        "Certificate spec.commonName length (the webhook normally refuses > 64 bytes: "
        "\"spec.commonName: Too long: must have at most 64 bytes\"); CA messages \"CN was "
        "longer than 64 bytes\", \"CSR doesn't contain a SAN short enough to fit in CN\".",
        "Drop spec.commonName from {name} (the DNS names go into the SAN), or set it to a "
        "dnsName of at most 64 bytes, then renew.",
        checked="internal/apis/certmanager/validation/certificate.go at v1.0.0 … v1.21.1 "
        "(commonName TooLong 64); Order reason \"Failed to finalize Order: …\" from "
        "pkg/controller/acmeorders/sync.go",
    ),
    CatalogEntry(
        "ACME_AUTHORIZATION_INVALID", E, "ACME authorization for {host} is {state} at the CA",
        "The CA {verdict} ({detail}). An invalid or expired authorization is final: retrying "
        "or deleting the Challenge cannot revive it — only a new Order (a new "
        "CertificateRequest) gets new authorizations.",
        "Challenge.status.state invalid/expired with the CA's problem detail in "
        "status.reason; Order.status.state invalid/expired/errored with \"Failed to fetch "
        "authorization\", \"Failed to retrieve Order resource: 404 … No order for ID\", "
        "\"Expired authorization\".",
        "Fix what the CA reported for {host}, then start a new order: delete the failed "
        "CertificateRequest of {certificate} and renew it (cmctl renew).",
        fixes=("clear-failed-requests", "renew"),
        checked="pkg/controller/acmechallenges/sync.go at v1.0.0 … v1.21.1 (status.reason = "
        "the CA's problem detail; malformed → expired), pkg/controller/acmeorders/sync.go "
        "(\"Failed to fetch authorization\", \"Failed to retrieve Order resource\")",
    ),
    CatalogEntry(
        "ACME_CAA_FORBIDS", E, "CAA records for {host} forbid this CA",
        "The CA checked the CAA records of {host} and {detail}. CAs must refuse to issue when "
        "CAA does not list them or cannot be looked up, and a retry gets the same answer.",
        "urn:ietf:params:acme:error:caa, \"CAA record for … prevents issuance\", \"looking up "
        "CAA\" (SERVFAIL/NXDOMAIN/timeout) in Challenge.status.reason, Order.status.reason or "
        "the CertificateRequest's Ready message.",
        "Add a CAA record allowing the CA (e.g. {host} CAA 0 issue \"letsencrypt.org\") on "
        "{host} or its parent, or fix the nameservers that fail the CAA lookup; then renew.",
        fixes=("clear-failed-requests", "renew"),
        checked="CA detail copied verbatim into Challenge.status.reason by "
        "pkg/controller/acmechallenges/sync.go at v1.0.0 … v1.21.1; Order reasons from "
        "pkg/controller/acmeorders/sync.go",
    ),
    CatalogEntry(
        "ACME_DNS_LOOKUP_FAILED", E, "The CA cannot resolve {name}",
        "The ACME CA's own DNS lookup failed ({detail}). The CA validates from the public "
        "internet: the {record} record must exist in public DNS and its nameservers must "
        "answer, whatever resolves inside the cluster.",
        "CA problem type urn:ietf:params:acme:error:dns or \"DNS problem: NXDOMAIN/SERVFAIL "
        "looking up A/AAAA/TXT for …\", \"No valid IP addresses found for …\" on an invalid "
        "Challenge/Order (not cert-manager's own propagation check).",
        "Create the public {record} record for {name} (or delegate the zone correctly and "
        "make its nameservers answer), check it with an outside resolver, then renew.",
        probes=("dns",),
        fixes=("clear-failed-requests", "renew"),
        checked="CA detail copied into Challenge.status.reason by "
        "pkg/controller/acmechallenges/sync.go at v1.0.0 … v1.21.1",
    ),
    CatalogEntry(
        "HTTP01_SELF_CHECK_WRONG_STATUS", E, "HTTP-01 self-check for {host} got HTTP {status}",
        "cert-manager's self-check GET of http://{host}/.well-known/acme-challenge/<token> "
        "got HTTP {status} instead of 200. {meaning}",
        "Challenge.spec.type HTTP-01, status.reason \"Waiting for HTTP-01 challenge "
        "propagation: wrong status code 'N', expected '200'\" with N other than 404.",
        "{action} Run the http01 probe to see the response, then retry the challenge.",
        probes=("http01", "http01-backends"),
        fixes=("retry-challenge",),
        checked="pkg/issuer/acme/http/http.go at v1.0.0 … v1.21.1 (\"wrong status code '%d', "
        "expected '%d'\"), pkg/controller/acmechallenges/readiness.go wrapping",
    ),
    CatalogEntry(
        "HTTP01_SOLVER_INGRESS_REJECTED", E,
        "The solver Ingress for {host} was refused by admission",
        "cert-manager could not create the HTTP-01 solver Ingress: {who} denied it ({detail}). "
        "{why}",
        "Challenge.status.reason or Warning Event PresentError \"Error presenting challenge: "
        "admission webhook \\\"…\\\" denied the request: …\"; \"cannot be used with pathType "
        "Exact\" against the controller version.",
        "{action}",
        fixes=("retry-challenge",),
        checked="pkg/controller/acmechallenges/sync.go at v1.0.0 … v1.21.1 (PresentError Event, "
        "status.reason), pkg/issuer/acme/http/ingress.go at v1.18.0 (pathType Exact) and "
        "v1.18.1 … v1.21.1 (feature gate ACMEHTTP01IngressPathTypeExact, on by default)",
    ),
    CatalogEntry(
        "HTTP01_GATEWAY_ROUTE_NOT_ACCEPTED", E,
        "Solver HTTPRoute {route} is not {condition}",
        "The HTTP-01 solver created HTTPRoute {route} for {host}, but {parent} reports "
        "{condition}=False ({reason}: {message}). The Gateway does not route "
        "/.well-known/acme-challenge/ to the solver, so the self-check and the CA fail.",
        "HTTPRoute (gateway.networking.k8s.io/v1) labelled acme.cert-manager.io/http01-solver="
        "true and owned by the Challenge: status.parents[].conditions Accepted / ResolvedRefs.",
        "Fix the solver's gatewayHTTPRoute.parentRefs in the issuer (Gateway name, namespace, "
        "sectionName of an HTTP listener on port 80) and allow routes from namespace "
        "{namespace} on that listener (allowedRoutes), then retry the challenge.",
        fixes=("retry-challenge",),
        checked="pkg/issuer/acme/http/httproute.go at v1.15.0 … v1.21.1 (labels from "
        "podLabels, controller ownerReference to the Challenge)",
    ),
    # -- Secret, key, renewal and Vault codes (rules/secrets.py, rules/certificates.py) --
    CatalogEntry(
        "SECRET_SHARED_BY_CERTIFICATES", E,
        "{count} Certificates write Secret {secret}; this one {role}",
        "Certificates {others} and {name} all name spec.secretName {secret} in one namespace. "
        "{owner} counts as the owner because {owner_why}. {effect}",
        "Certificate.spec.secretName of every Certificate in the namespace; the Secret's "
        "cert-manager.io/certificate-name annotation; Issuing/Ready reasons IncorrectCertificate "
        "(\"Secret was issued for … you might have two conflicting Certificates pointing to the "
        "same secret\"), IncorrectIssuer or SecretMismatch; the controller version (owner check "
        "from v1.14.0).",
        "Give each Certificate its own spec.secretName (e.g. {name}-tls), or delete the "
        "duplicate Certificate; if one Secret must hold several names, put all dnsNames on one "
        "Certificate ({owner}). Then renew the Certificate that moved.",
        checked="internal/controller/certificates/certificates.go (CertificateOwnsSecret) and "
        "pkg/controller/certificates/trigger/trigger_controller.go at v1.14.0 … v1.21.1 (owner "
        "= annotated, else oldest; others skipped); trigger_controller.go at v1.13.6 (no check: "
        "re-issue loop); internal/controller/certificates/policies/checks.go at v1.14.0 … "
        "v1.21.1 (IncorrectCertificate)",
    ),
    CatalogEntry(
        "CERTIFICATE_RENEWAL_LOOP", E, "Certificate {name} renews almost as soon as it is issued",
        "{why}. The issued certificate is valid for {issued} while the renewal window is "
        "{window}: cert-manager computes renewal from the issued notBefore/notAfter, so every "
        "new certificate is due again at once (or ever sooner), hammering issuer {issuer} and "
        "risking rate limits and an outage when the CA itself expires.",
        "Certificate.status.notBefore/notAfter/renewalTime (or the Secret's tls.crt dates) "
        "against spec.duration, renewBefore/renewBeforePercentage (default a third), computed "
        "the way the running cert-manager version does; the CA's notAfter (ca.crt, or the CA "
        "issuer's tls.crt) to spot a leaf cut at the CA's expiry.",
        "Renew or replace the issuing CA of {issuer} (its certificate ends too soon, or the "
        "Vault role/mount max_ttl caps the leaf), or lower spec.renewBefore on {name} below the "
        "validity the CA actually grants; then renew.",
        checked="pkg/controller/certificates/util.go at v1.0.4 (RenewBeforeExpiryDuration, "
        "default 30d, >) and v1.2.0 (>=); util.go at v1.4.0 … v1.11.x and "
        "pkg/util/pki/renewaltime.go at v1.12.0 … v1.15.5 (duration/3 unless renewBefore < "
        "duration); renewaltime.go at v1.16.0 … v1.21.1 (renewBeforePercentage; inverted in "
        "v1.16.0 … v1.16.2)",
    ),
    CatalogEntry(
        "VAULT_AUTH_FAILED", E, "Vault authentication for {issuer} fails: {meaning}",
        "cert-manager cannot log in to Vault at {server} with {method} auth ({meaning}). Without "
        "a Vault token the issuer stays not ready and no CertificateRequest for it can be "
        "signed; older releases also never retry such requests "
        "(VAULT_PERMISSION_DENIED_NOT_RETRIED).",
        "Vault Issuer/ClusterIssuer Ready=False reason VaultError \"Failed to initialize Vault "
        "client: …\" or ErrInitIssuer Events, and CertificateRequests \"Failed to initialise "
        "vault client for signing: …\", containing cert-manager's login wrappers (\"error "
        "logging in to Vault server\", \"error calling Vault server\", \"while requesting a "
        "Vault token using the Kubernetes auth\", \"while requesting a token for the service "
        "account\") with Vault's answer (HTTP 400/403 on /v1/auth/…, \"invalid role or secret "
        "ID\", \"service account name not authorized\", \"permission denied\").",
        "Check {credentials} against Vault: log in by hand with the same credentials (vault "
        "write auth/<mount>/login …), fix the role binding, secretId or token, and the Secret "
        "cert-manager reads; then clear the failed requests and renew.",
        fixes=("clear-failed-requests", "renew"),
        checked="pkg/internal/vault/vault.go at v1.0.4; internal/vault/vault.go at v1.12.0 … "
        "v1.21.1 (login wrappers); pkg/issuer/vault/setup.go at v1.0.4 … v1.21.1 (VaultError); "
        "pkg/controller/certificaterequests/vault/vault.go at v1.0.4 … v1.21.1",
    ),
    CatalogEntry(
        "SECRET_IS_ACME_ACCOUNT_KEY", E,
        "Certificate {name} writes the ACME account key Secret {secret}",
        "spec.secretName {secret} is the privateKeySecretRef of {issuer}. Issuing this "
        "Certificate replaces tls.key in that Secret, so the ACME issuer loses its account key "
        "and must register a new account (or fails to verify the old one) — and the next "
        "account key overwrites the certificate's key in turn.",
        "Certificate.spec.secretName equal to an ACME issuer's "
        "spec.acme.privateKeySecretRef.name, in the Issuer's namespace or the cluster resource "
        "namespace for a ClusterIssuer.",
        "Change spec.secretName of Certificate {name} to a name of its own (e.g. {name}-tls) "
        "and leave {secret} to {issuer}; if the account key was overwritten, delete {secret} "
        "so the issuer registers a fresh account, then renew.",
        checked="pkg/issuer/acme/setup.go at v1.0.4 … v1.21.1 (account key read from "
        "privateKeySecretRef tls.key); pkg/controller/certificates/issuing at v1.0.4 … "
        "v1.21.1 (writes tls.key/tls.crt of spec.secretName)",
    ),
    CatalogEntry(
        "SECRET_IS_CA_ISSUER_KEYPAIR", E,
        "Certificate {name} overwrites the key pair of {issuer}",
        "spec.secretName {secret} is spec.ca.secretName of {issuer}, and this Certificate "
        "{how}. Each issuance replaces the CA's certificate and key with a leaf, so the CA "
        "issuer then signs with the wrong key (or fails: the leaf is not a CA) and everything "
        "it issued stops chaining to the trusted CA.",
        "Certificate.spec.secretName equal to a CA issuer's spec.ca.secretName (Issuer "
        "namespace, or the cluster resource namespace for a ClusterIssuer), with "
        "spec.issuerRef pointing at that CA issuer or spec.isCA unset. A CA Certificate issued "
        "by another issuer (the selfSigned bootstrap) is not reported.",
        "{fix_hint}",
        checked="pkg/issuer/ca/setup.go and pkg/controller/certificaterequests/ca/ca.go at "
        "v1.0.4 … v1.21.1 (key pair read from spec.ca.secretName tls.crt/tls.key)",
    ),
    CatalogEntry(
        "PRIVATE_KEY_CANNOT_REGENERATE", E,
        "Certificate {name}: private key must change but rotationPolicy is Never",
        "spec.privateKey no longer matches the key in Secret {secret}, and cert-manager may not "
        "make a new key ({policy_why}). The keymanager refuses to reuse the old key and will "
        "not generate one, so issuance never starts and the Certificate stays Issuing until it "
        "expires.",
        "Certificate Issuing/Ready message \"Existing private key is not up to date for "
        "spec: […]\" (reason SecretMismatch); Warning Event CannotRegenerateKey \"User "
        "intervention required: … cannot create new private key …\" (v1.9+) or DecodeFailed "
        "\"… does not match requirements on Certificate resource …\" (v1.0–v1.8); "
        "spec.privateKey.rotationPolicy and the controller version's default.",
        "Set spec.privateKey.rotationPolicy: Always on Certificate {name} (or revert "
        "spec.privateKey to the existing key's algorithm/size/encoding), or delete Secret "
        "{secret} so a fresh key is made; then renew.",
        checked="pkg/controller/certificates/keymanager/keymanager_controller.go at v1.0.4 … "
        "v1.21.1 (CannotRegenerateKey from v1.9.0); internal/apis/certmanager/v1/defaults.go "
        "at v1.18.0 … v1.21.1 (default Always: feature gate in v1.18/v1.19, GA in v1.20); "
        "internal/controller/certificates/policies/checks.go (SecretMismatch)",
    ),
    CatalogEntry(
        "VAULT_PATH_ISSUE_NOT_SIGN", E,
        "{kind} {name} uses Vault's /issue/ endpoint ({path})",
        "spec.vault.path {path} points at Vault's issue endpoint, which generates its own key "
        "and ignores cert-manager's CSR. The certificate written to the Secret never matches "
        "the private key cert-manager made (InvalidKeyPair), so cert-manager re-issues in a "
        "loop and can create thousands of CertificateRequests.",
        "Vault issuer spec.vault.path whose role segment follows 'issue' (pki/issue/<role>, "
        "pki/issuer/<ref>/issue/<role>); Certificates under it with InvalidKeyPair / \"private "
        "key does not match\" messages.",
        "Set spec.vault.path of {kind} {name} to {sign_path} (the sign endpoint); grant the "
        "Vault policy update on that path; then delete the surplus CertificateRequests and "
        "renew.",
        checked="internal/vault/vault.go at v1.12.0 … v1.21.1 and pkg/internal/vault/vault.go "
        "at v1.0.4 (CSR posted to /v1/<path>); "
        "internal/controller/certificates/policies/checks.go at v1.21.1 (InvalidKeyPair)",
    ),
    CatalogEntry(
        "SECRET_WRITTEN_BY_OTHER_CONTROLLER", E,
        "Secret {secret} is also managed by {tool}",
        "Secret {secret} of Certificate {name} carries another tool's marks ({signs}), and "
        "cert-manager reports it as not matching ({reason}). The other tool rewrites the "
        "Secret (or reverts cert-manager's writes), cert-manager re-issues, and the two fight "
        "over it.",
        "Secret annotations/labels/ownerReferences of Helm (meta.helm.sh/release-name, "
        "managed-by Helm), Sealed Secrets, External Secrets (reconcile.external-secrets.io), "
        "Argo CD, Flux, kapp, replicators, or a cert-manager.io/certificate-name naming another "
        "Certificate — together with Certificate Issuing=True/Ready=False reasons "
        "SecretMismatch, IncorrectIssuer, IncorrectCertificate, InvalidKeyPair, "
        "SecretManagedMetadataMismatch, SecretOwnerRefMismatch.",
        "Stop {tool} from managing Secret {secret} (remove it from the chart/ExternalSecret/"
        "SealedSecret or point that at another name), or give Certificate {name} a different "
        "spec.secretName; then renew.",
        checked="internal/controller/certificates/policies/checks.go and policies.go at "
        "v1.14.0 … v1.21.1; pkg/controller/certificates/trigger/policies/policies.go at v1.0.4",
    ),
    # -- issuer set-up codes (rules/issuer_setup.py) --
    CatalogEntry(
        "ISSUER_SERVER_TLS_UNTRUSTED", E,
        "{kind} {name} does not trust the TLS certificate of its {server_kind} server {host}",
        "cert-manager reached {host} but rejected its TLS certificate: {what} ({x509}). This "
        "is not a network or credentials problem: the TLS handshake fails before any request "
        "is sent, so the issuer stays not Ready (or every signing fails) until the "
        "controller can verify the server.",
        "ACME/Vault/Venafi Issuer or ClusterIssuer status.conditions[Ready]=False (reasons "
        "ErrRegisterACMEAccount, VaultError…), its Warning Events, or a current "
        "CertificateRequest of a Vault issuer, whose message carries Go's x509 verification "
        "text: \"x509: certificate signed by unknown authority\", \"x509: certificate is valid "
        "for A, not B\", \"x509: certificate has expired or is not yet valid\", \"legacy Common "
        "Name\", \"doesn't contain any IP SANs\" (Go ≥ 1.20 prefixes \"tls: failed to verify "
        "certificate:\"); spec.acme.caBundle / spec.vault.caBundle / caBundleSecretRef and the "
        "controller version (acme.caBundle from v1.11.0, vault.caBundleSecretRef from v1.10.0).",
        "{action}. cert-manager retries the issuer by itself once the server verifies.",
        checked="pkg/issuer/acme/setup.go at v1.0.0 … v1.21.1 (\"Failed to register ACME "
        "account: \" + error, reason ErrRegisterACMEAccount; v1.0–v1.3 \"Failed to verify ACME "
        "account\"); pkg/apis/acme/v1/types_issuer.go (caBundle from v1.11.0, skipTLSVerify "
        "v1.0.0 … v1.21.1); pkg/issuer/vault/setup.go at v1.0.0 … v1.21.1 (VaultError, "
        "\"Failed to initialize Vault client: \"); internal/vault/vault.go at v1.12.0 … v1.21.1 "
        "(\"error calling Vault server: %s\", caBundle / caBundleSecretRef); "
        "pkg/apis/certmanager/v1/types_issuer.go (vault caBundleSecretRef from v1.10.0)",
    ),
    CatalogEntry(
        "CA_ISSUER_SECRET_NOT_FOUND", E,
        "{kind} {name} cannot find its CA key pair Secret {secret} in namespace {secret_ns}",
        "The CA issuer signs with tls.crt/tls.key of Secret {secret}, and {where}. There is no "
        "Secret {secret} in {secret_ns}, so the issuer is not Ready and no certificate from it "
        "is signed.",
        "CA Issuer/ClusterIssuer status.conditions[Ready]=False, reason ErrGetKeyPair, message "
        "\"Error getting keypair for CA issuer: secret(s) \\\"x\\\" not found\"; a current "
        "CertificateRequest \"Referenced secret ns/x not found\"; or, when Secrets of that "
        "namespace could be read, the Secret's absence (ClusterIssuer: the controller's "
        "--cluster-resource-namespace, $(POD_NAMESPACE) expanded); Secrets of that name in "
        "other namespaces.",
        "{todo}",
        checked="pkg/issuer/ca/setup.go at v1.0.0 … v1.21.1 (ErrGetKeyPair, \"Error getting "
        "keypair for CA issuer: \" + lister error); "
        "pkg/controller/certificaterequests/ca/ca.go at v1.0.0 … v1.21.1 (\"Referenced secret "
        "%s/%s not found\", reason Pending); pkg/controller/helper.go ResourceNamespace "
        "(ClusterIssuer → cluster resource namespace); "
        "deploy/charts/cert-manager/templates/deployment.yaml "
        "(--cluster-resource-namespace=$(POD_NAMESPACE)) at v1.0.0 … v1.21.1",
    ),
    CatalogEntry(
        "CA_ISSUER_KEYPAIR_INVALID", E,
        "{kind} {name} cannot use Secret {secret_ns}/{secret}: {what}",
        "The CA issuer reads its signing certificate and key from Secret {secret_ns}/{secret}, "
        "and {what}. cert-manager does not retry until the Secret (or the issuer) changes, so "
        "{issuer} stays not Ready and signs nothing.",
        "CA Issuer/ClusterIssuer Ready=False with reason ErrInvalidKeyPair \"… certificate is "
        "not a CA\", or ErrGetKeyPair with \"error decoding private key PEM block\", \"error "
        "parsing pkcs#8/ecdsa/rsa private key\", \"error decoding certificate PEM block\", "
        "\"no data for \\\"tls.key\\\"\"; a current request \"Failed to parse signing CA "
        "keypair\" or \"x509: provided PrivateKey doesn't match parent's PublicKey\"; the "
        "Secret's type, data keys and tls.crt basicConstraints; the Certificate that writes "
        "the Secret and its spec.isCA.",
        "{todo}",
        checked="pkg/issuer/ca/setup.go at v1.0.0 … v1.21.1 (ErrGetKeyPair / ErrInvalidKeyPair "
        "\"certificate is not a CA\"); pkg/util/pki/parse.go (\"error decoding private key "
        "PEM block\" v1.0.0 … v1.15.x, with \": %s\" from v1.16), pkg/util/kube/pki.go (\"no "
        "data for %q in secret\"); pkg/controller/certificaterequests/ca/ca.go (\"Failed to "
        "parse signing CA keypair\", \"Error signing certificate\") and "
        "pkg/util/pki/csr.go SignCertificate at v1.0.0 … v1.21.1",
    ),
    CatalogEntry(
        "WEBHOOK_NOT_RUNNING", E, "cert-manager's webhook is not running: {why}",
        "The webhook Deployment {namespace}/{name} has no ready replica ({why}){blocked}. Its "
        "ValidatingWebhookConfiguration uses failurePolicy: Fail, so the API server rejects "
        "every create or update of a cert-manager object (\"failed calling webhook "
        "webhook.cert-manager.io … connection refused\"): renewals cannot create their "
        "CertificateRequest and nothing new is issued.",
        "The Deployment labelled app.kubernetes.io/component=webhook (or app=webhook, or image "
        "cert-manager-webhook; DNS-01 solver webhooks excluded): spec.replicas, "
        "status.readyReplicas, conditions[Available]; its Pods' containerStatuses "
        "(CrashLoopBackOff, ImagePullBackOff, OOMKilled); Certificates with Issuing=True and "
        "no CertificateRequest for the next revision.",
        "Bring the webhook back first: `kubectl logs -n {namespace} deploy/{name} --previous` "
        "for a crash loop (its serving certificate Secret {name}-ca / TLS set-up, a port "
        "clash with hostNetwork, RBAC), scale it up if it was scaled to zero, and make sure "
        "the API server can reach the webhook Service on its port (10250 from v1.x charts; "
        "NetworkPolicies, private-cluster firewall rules). Then renew the waiting "
        "Certificates (cmctl renew --all -A).",
        checked="deploy/charts/cert-manager/templates/webhook-deployment.yaml (labels app, "
        "app.kubernetes.io/component: webhook) and webhook-validating-webhook.yaml "
        "(failurePolicy: Fail) at v1.0.0 … v1.21.1; Kubernetes apps/v1 Deployment and Pod "
        "status",
    ),
    # -- solver pod and DNS-01 configuration codes (rules/solver_pods.py, dns01_config.py) --
    CatalogEntry(
        "HTTP01_SOLVER_POD_REJECTED", E,
        "HTTP-01 solver Pod for {host} refused by admission in namespace {namespace}",
        "The API server would not create cert-manager's solver Pod ({said}): {why}. Without "
        "the Pod nothing answers /.well-known/acme-challenge/ for {host}, so the Challenge is "
        "never presented and cert-manager retries with the same refusal.",
        "HTTP-01 Challenge.status.reason (or its PresentError Event when the reason is empty): "
        "'pods \"cm-acme-http-solver-…\" is forbidden: violates PodSecurity \"…\"', "
        "'PodSecurityPolicy: unable to admit pod', 'unable to validate against any security "
        "context constraint', 'exceeded quota', LimitRange 'maximum … usage per Container', or "
        "'admission webhook \"…\" denied the request' about the solver Pod/acmesolver "
        "container; the controller version (restricted-compliant solver Pod from v1.10.0).",
        "{action}",
        fixes=("retry-challenge",),
        checked="pkg/issuer/acme/http/pod.go at v1.0.4 (no securityContext), v1.5.5 "
        "(runAsNonRoot), v1.8.2 (allowPrivilegeEscalation false), v1.10.0 … v1.21.1 "
        "(seccompProfile RuntimeDefault, drop ALL), v1.16.0 (podTemplate securityContext "
        "merged); Present/createPod errors in pkg/issuer/acme/http/http.go and "
        "pkg/controller/acmechallenges/sync.go (PresentError, status.reason) at v1.0.4 … v1.21.1",
    ),
    CatalogEntry(
        "HTTP01_SOLVER_POD_NOT_RUNNING", E,
        "HTTP-01 solver Pod {pod} for {host} is not running: {state}",
        "cert-manager created the solver Pod {pod} ({image}), but it is {state}: {why}. The "
        "solver Service has no ready endpoint, so the ingress answers the self-check with "
        "503/404 or times out — that self-check error is a consequence, not the cause.",
        "Pods labelled acme.cert-manager.io/http01-solver=true whose controller "
        "ownerReference is the Challenge: containerStatuses[].state.waiting.reason "
        "(ImagePullBackOff, ErrImagePull, CreateContainerConfigError, CrashLoopBackOff), "
        "phase Pending with PodScheduled=False, or Pending past 5 minutes; the Pod's Warning "
        "Events (kubelet Failed, FailedScheduling).",
        "{action}",
        probes=("http01",),
        fixes=("retry-challenge",),
        checked="pkg/issuer/acme/http/pod.go (podLabels, NewControllerRef, container "
        "acmesolver from --acme-http01-solver-image; podTemplate imagePullSecrets merged from "
        "v1.12.0) at v1.0.4 … v1.21.1; Pod status is Kubernetes core/v1",
    ),
    CatalogEntry(
        "DNS01_CNAME_NOT_FOLLOWED", E,
        "DNS-01 for {host}: {record} is {what}; the solver does not follow CNAMEs",
        "{provider} refused the TXT record ({said}): {meaning}. Without cnameStrategy: Follow "
        "cert-manager writes the record at _acme-challenge itself, so a challenge delegated "
        "by a CNAME is never presented and the Certificate stays unissued.",
        "DNS-01 Challenge.status.reason or PresentError Event: Route 53 'InvalidChangeBatch: "
        "[RRSet with DNS name _acme-challenge.X. is not permitted in zone Y.]' with X outside "
        "Y, or '… conflicting RRSet of type CNAME …'; Cloud DNS '… may have either one CNAME "
        "resource record set or resource record sets of other types'; "
        "spec.solver.dns01.cnameStrategy not Follow.",
        "{action}",
        checked="pkg/issuer/acme/dns/dns.go (followCNAME(cnameStrategy) → "
        "util.DNS01LookupFQDN; util.FindZoneByFqdn), route53/route53.go and "
        "clouddns/clouddns.go (provider errors passed through), "
        "pkg/controller/acmechallenges/sync.go (PresentError) at v1.0.4 … v1.21.1",
    ),
    CatalogEntry(
        "DNS01_PROVIDER_CONFIG_INVALID", E,
        "DNS-01 solver of {issuer} is misconfigured: {what}",
        "{detail} This is a mistake in the issuer's solver configuration, not a missing "
        "permission or a bad credential, so the Challenge for {host} fails the same way on "
        "every retry until the solver is corrected.",
        "DNS-01 Challenge.spec.solver.dns01.<provider> string fields holding $VAR, ${VAR}, "
        "<placeholder> or {{ }}; Challenge.status.reason / PresentError Event: Google "
        "CONSUMER_INVALID, 'Google Cloud project name missing', Azure 'Multiple user assigned "
        "identities exist' / 'Identity not found', 'cannot be both present simultaneously', "
        "'requires a key field to be specified', 'unknown cloud configuration name', acme-dns "
        "'account credentials not found for domain'.",
        "{action}",
        checked="pkg/issuer/acme/dns/dns.go, clouddns/clouddns.go, cloudflare/cloudflare.go, "
        "azuredns/azuredns.go (MSI via adal ≤ v1.13, azidentity from v1.14.0), "
        "acmedns/acmedns.go at v1.0.4 … v1.21.1; azureDNS.managedIdentity in "
        "pkg/apis/acme/v1/types_issuer.go from v1.6.0",
    ),
    # -- ingress-shim, external issuer and approval codes (rules/shim.py, rules/external.py) --
    CatalogEntry(
        "INGRESS_SHIM_NO_TLS", W,
        "Ingress {namespace}/{name} asks for a certificate but has no usable TLS entry",
        "The Ingress carries {trigger}, so ingress-shim looks at it, but {problem}. "
        "ingress-shim builds one Certificate per spec.tls entry that has both hosts and "
        "secretName: with none it creates no Certificate and no Secret (silently when "
        "spec.tls is empty, with a BadConfig Warning Event when an entry is incomplete).",
        "Ingress metadata.annotations cert-manager.io/issuer, cert-manager.io/cluster-issuer "
        "or an auto-certificate annotation (default kubernetes.io/tls-acme: \"true\", "
        "controller flag --auto-certificate-annotations); Ingress spec.tls[].hosts and "
        ".secretName; BadConfig Events on the Ingress.",
        "Add a TLS block to Ingress {namespace}/{name}: spec.tls: [{{hosts: [{hosts}], "
        "secretName: {secret}}}] (every entry needs both hosts and a secretName). ingress-shim "
        "then creates Certificate {secret} in {namespace} within seconds; check it with "
        "`kubectl get certificate -n {namespace}`.",
        checked="shouldSync and validateIngressTLSBlock in "
        "pkg/controller/ingress-shim/sync.go at v1.0.4 … v1.4.4 (BadConfig \"TLS entry %d is "
        "invalid\"); hasShimAnnotation, validateIngressTLSBlock and buildCertificates in "
        "pkg/controller/certificate-shim/sync.go at v1.5.0 … v1.21.1 (BadConfig \"Skipped a "
        "TLS block\"); annotation keys in pkg/apis/certmanager/v1/types.go at v1.0.0 … v1.21.1",
    ),
    CatalogEntry(
        "GATEWAY_SHIM_DISABLED", E,
        "Gateway {namespace}/{name} is annotated for cert-manager but the gateway-shim is off",
        "The Gateway asks cert-manager for certificates (listener Secrets {secrets}), but no "
        "Certificate writes them: {why}. Without the gateway-shim cert-manager never reads "
        "Gateways, so the listener keeps an unresolved certificateRef and serves no TLS.",
        "Gateway (gateway.networking.k8s.io) with cert-manager.io/issuer or "
        "cert-manager.io/cluster-issuer and HTTPS/TLS listeners whose tls.certificateRefs "
        "Secrets no Certificate in the namespace writes; the controller Deployment's version "
        "and args (--enable-gateway-api from v1.15, --feature-gates "
        "ExperimentalGatewayAPISupport before).",
        "Enable the gateway-shim and restart the controller: from v1.15 Helm `--set "
        "config.apiVersion=controller.config.cert-manager.io/v1alpha1 --set "
        "config.kind=ControllerConfiguration --set config.enableGatewayAPI=true` (or the "
        "controller arg --enable-gateway-api); v1.5–v1.14 "
        "`--feature-gates=ExperimentalGatewayAPISupport=true`; before v1.5 upgrade. The "
        "Gateway API CRDs must exist before the controller starts. Then check `kubectl get "
        "certificate -n {namespace}` for {secrets}.",
        checked="ExperimentalGatewayAPISupport in pkg/feature/features.go at v1.5.0 (alpha, "
        "default false) and internal/controller/feature/features.go at v1.14.0 (false) / "
        "v1.15.0 … v1.21.1 (beta, true); --enable-gateway-api in "
        "cmd/controller/app/options/options.go and defaultEnableGatewayAPI=false in "
        "internal/apis/config/controller/v1alpha1/defaults.go at v1.15.0 … v1.21.1; "
        "cmd/controller/app/controller.go at v1.15.0 … v1.21.1",
    ),
    CatalogEntry(
        "EXTERNAL_ISSUER_NOT_RESPONDING", E,
        "No {kind}.{group} controller acts on CertificateRequest {name}",
        "The request is for the external issuer {kind} {issuer} (group {group}) and was "
        "approved, but after {age} it has no Ready condition at all. cert-manager never signs "
        "for another group; only that issuer's own controller can, and it has not touched "
        "the request: it is not running, does not watch {kind}.{group} or this namespace, or "
        "cannot update certificaterequests/status.",
        "CertificateRequest with spec.issuerRef.group other than cert-manager.io, "
        "Approved=True (from v1.3) and no Ready condition, older than 10 minutes.",
        "Check the {group} issuer controller: `kubectl get pods -A | grep -i issuer` and "
        "its logs; check that {kind} {issuer} exists (`kubectl get {kind}.{group} -A`) and "
        "is Ready, that issuerRef.kind/group are spelled as its CRD defines them, and that "
        "its ClusterRole allows get/list/watch on certificaterequests and update on "
        "certificaterequests/status. Once it runs, request {name} in {namespace} is signed.",
        checked="group check in pkg/controller/certificaterequests/sync.go and "
        "CertificateRequestConditionApproved in pkg/apis/certmanager/v1/"
        "types_certificaterequest.go at v1.3.0 … v1.21.1 (no approval before v1.3.0)",
    ),
    CatalogEntry(
        "EXTERNAL_ISSUER_NOT_READY", E,
        "External issuer {kind} {issuer} ({group}) is not ready: request {name} refused",
        "The {group} controller refused CertificateRequest {name} because its own issuer "
        "object {kind} {issuer} is not ready: {message}. The cause is on that object "
        "(credentials, CA ARN/pool, region), not in cert-manager; cert-manager only retries "
        "after the issuance backoff.",
        "CertificateRequest with an external spec.issuerRef.group and Ready=False whose message "
        "says the issuer is not ready (aws-privateca-issuer \"issuer is not ready\").",
        "Inspect the external issuer: `kubectl describe {plural} {issuer}` (add -n "
        "{namespace} for a namespaced kind) and its controller's logs; fix what its Ready "
        "condition names (for AWSPCA: AWS credentials/IRSA role, region, CA ARN). When it is "
        "Ready, delete request {name} (or `cmctl renew`) to skip the backoff.",
        fixes=("clear-failed-requests", "renew"),
        checked="external issuerRef group handling in pkg/controller/certificaterequests/sync.go "
        "and the issuing controller's retry in pkg/controller/certificates/issuing at v1.0.4 … "
        "v1.21.1; message from aws-privateca-issuer#292",
    ),
    CatalogEntry(
        "EXTERNAL_ISSUER_PERMISSION_DENIED", E,
        "{kind}.{group} may not sign request {name}: permission denied",
        "The external issuer {kind} {issuer} asked its CA backend to sign CertificateRequest "
        "{name} and was refused for lack of permission: {message}. The identity the issuer's "
        "controller runs as (a cloud service account or IAM role) lacks the signing "
        "permission, so no certificate can be issued until it is granted.",
        "CertificateRequest with an external spec.issuerRef.group and Ready=False whose message "
        "carries a permission refusal: Google CAS \"code = PermissionDenied\" / "
        "\"privateca.certificates.create\", AWS \"AccessDeniedException\" / \"is not authorized "
        "to perform: acm-pca:IssueCertificate\", or a generic permission denied/403.",
        "{remedy}",
        checked="external issuerRef group handling in pkg/controller/certificaterequests/sync.go "
        "at v1.0.4 … v1.21.1; messages from google-cas-issuer#46/#61 and "
        "aws-privateca-issuer#105/#211",
    ),
    # -- controller, webhook and fallback codes (rules/components.py, rules/stuck.py) --
    CatalogEntry(
        "CONTROLLER_NOT_RUNNING", E, "cert-manager's controller is not running: {why}",
        "The controller Deployment {name} has no ready replica ({why}). Nothing issues, "
        "renews or retries while it is down, and every Ready condition in this tree is stale: "
        "it says what was true when the controller last ran.",
        "The controller Deployment's spec.replicas and status.readyReplicas and "
        "conditions[Available]; its Pods' containerStatuses (waiting reason "
        "CrashLoopBackOff/ImagePullBackOff, lastState.terminated reason OOMKilled, "
        "restartCount).",
        "Bring the controller back first: scale {name} up if it was scaled to zero; for a "
        "crash loop read `kubectl logs -n <namespace> deploy/{name} --previous`; for "
        "OOMKilled raise resources.limits.memory (large clusters need more than the chart's "
        "default). Then re-check: the other findings will change.",
        checked="Kubernetes apps/v1 Deployment and core/v1 Pod status (not a cert-manager "
        "message); controller labels from deploy/charts/cert-manager/templates/deployment.yaml "
        "at v1.0.4 … v1.21.1",
    ),
    CatalogEntry(
        "WEBHOOK_CA_NOT_INJECTED", E, "{kind} {name} has {why}: cainjector is not working",
        "cainjector should copy the CA from Secret {secret} into every webhook's "
        "clientConfig.caBundle of {name}. Without it the API server cannot verify cert-manager's "
        "webhook, and creating or changing any cert-manager object fails with \"x509: "
        "certificate signed by unknown authority\".",
        "Validating/MutatingWebhookConfiguration annotated cert-manager.io/inject-ca-from-secret: "
        "webhooks[].clientConfig.caBundle empty, or not equal to the named Secret's ca.crt; the "
        "cainjector Deployment's ready replicas and Pod states.",
        "Check the cainjector Deployment and its logs (`kubectl logs -n <namespace> "
        "deploy/<release>-cainjector`); it needs RBAC to read Secret {secret} and to patch "
        "webhook configurations. Once it runs, the caBundle fills within seconds.",
        checked="annotation WantInjectFromSecretAnnotation in pkg/apis/certmanager/v1/types.go "
        "and deploy/charts/cert-manager/templates/webhook-{mutating,validating}-webhook.yaml at "
        "v1.0.4 … v1.21.1",
    ),
    CatalogEntry(
        "ISSUANCE_STUCK_UNRECOGNISED", W, "Certificate {name} is stuck ({why}); cause not "
        "recognised",
        "The Certificate is {why}, and no specific rule explains it. The deepest message "
        "cert-manager wrote in its chain is on {where}: {message}",
        "Certificate status.conditions[Ready]/[Issuing] (lastTransitionTime) and "
        "status.renewalTime, past a 10-minute grace; then the deepest message in the current "
        "chain: Challenge.status.reason, Order.status.reason, the CertificateRequest's Ready "
        "message, the Certificate's Issuing/Ready message, or a Warning Event on them.",
        "Read the message on {where} (press enter on it in the tree, or `kubectl describe`) "
        "and fix what it names; if it is an issuer or provider error, check the issuer's "
        "credentials and reachability.",
        checked="pkg/controller/certificates/readiness/readiness_controller.go, "
        "pkg/controller/certificates/trigger/trigger_controller.go, "
        "pkg/controller/certificates/issuing/issuing_controller.go at v1.0.4 … v1.21.1 "
        "(Ready/Issuing conditions, status.renewalTime)",
    ),
]

CATALOG: dict[str, CatalogEntry] = {e.code: e for e in _ENTRIES}


def make(
    code: str,
    obj: Ref,
    evidence: list[str] | tuple[str, ...],
    data: dict[str, Any] | None = None,
    **values: Any,
) -> Finding:
    """A Finding from the catalog entry, its templates filled with ``values``."""
    e = CATALOG[code]
    return Finding(
        code=code,
        severity=e.severity,
        object=obj,
        title=_fill(e.title, values),
        explanation=_fill(e.explanation, values),
        evidence=tuple(evidence),
        probes=e.probes,
        fixes=e.fixes,
        remedy=_fill(e.fix, values),
        data=dict(data or {}),
    )
