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
    ),
    CatalogEntry(
        "ISSUER_NOT_READY", E, "{kind} {name} is not ready: {reason}",
        "The issuer reports Ready=False ({reason}): {message}. Every Certificate that uses it "
        "stays unissued until the issuer becomes ready again.",
        "Issuer/ClusterIssuer status.conditions[Ready] = False, when no more specific code "
        "(ACME_SERVER_UNREACHABLE, ACME_ACCOUNT_SERVER_MISMATCH) explains it.",
        "Read the condition message and the issuer's Events; fix the issuer spec or the "
        "referenced Secret.",
    ),
    CatalogEntry(
        "ACME_SERVER_UNREACHABLE", E, "cert-manager cannot reach the ACME server {server}",
        "Registering or verifying the ACME account failed with a network error ({error}). "
        "The controller pod cannot open a connection to {server}: pod egress is blocked by a "
        "firewall or NetworkPolicy, DNS resolves the name wrongly (resolv.conf search domains), "
        "or an HTTP proxy is required but not configured (or is configured but refuses).",
        "Issuer status.conditions[Ready]=False with reason ErrRegisterACMEAccount/"
        "ErrVerifyACMEAccount (or an ErrInitIssuer Event) whose message contains context "
        "deadline exceeded, i/o timeout, connection refused, no such host, TLS handshake "
        "timeout, network is unreachable or proxyconnect.",
        "Run the egress and dns probes from the cert-manager pod's point of view; open egress "
        "to the ACME server or set HTTPS_PROXY/NO_PROXY on the controller.",
        probes=("egress", "dns", "no-proxy", "account"),
        fixes=("add-no-proxy",),
    ),
    CatalogEntry(
        "ACME_ACCOUNT_SERVER_MISMATCH", E,
        "ACME account was registered at {account_host}, issuer now points at {server_host}",
        "The issuer's account (status.acme.uri) belongs to {account_host}, but spec.acme.server "
        "is on {server_host}. Accounts do not move between ACME servers (e.g. a staging account "
        "reused for production): cert-manager must register again with the account key in "
        "the Secret, and logs \"ACME server URL host and ACME private key registration host "
        "differ\".",
        "host of Issuer.status.acme.uri vs host of Issuer.spec.acme.server.",
        "Point privateKeySecretRef at a new Secret name (or delete the old account Secret) so "
        "a fresh account is registered on the new server.",
        probes=("account",),
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
    ),
    CatalogEntry(
        "DNS01_PROPAGATION_PENDING", W, "DNS-01 TXT record for {host} not visible yet",
        "{detail} cert-manager keeps the Challenge pending ({reason}) and retries; the CA is "
        "not asked to validate until cert-manager itself sees the record.",
        "Challenge.spec.type DNS-01, state pending for more than 5 minutes, with status.reason "
        "\"Waiting for DNS-01 challenge propagation: …\" (not yet propagated / SOA errors), or "
        "status.presented false with the solver's error (e.g. \"DNS update failed: dns: bad "
        "authentication\").",
        "If the record was never presented, fix the DNS provider credentials (API token, TSIG "
        "key, zone). Otherwise run the dns probe against the authoritative and recursive "
        "servers; set --dns01-recursive-nameservers(-only) on the controller if the default "
        "resolvers see an internal view.",
        probes=("dns",),
        fixes=("set-recursive-nameservers", "retry-challenge"),
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
    ),
    CatalogEntry(
        "CERTIFICATE_REQUEST_NOT_APPROVED", W, "CertificateRequest {name} waits for approval",
        "The request has had neither an Approved nor a Denied condition for {age}. cert-manager "
        "does not sign unapproved requests: the built-in approver is probably disabled "
        "(--controllers=-certificaterequests-approver) and no external approver is running.",
        "CertificateRequest without Approved/Denied conditions, older than 5 minutes.",
        "Install/enable an approver (approver-policy) or approve with cmctl approve.",
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
    ),
    CatalogEntry(
        "ACME_ORDER_FAILED", E, "ACME Order {name} {state}: {subcause}",
        "The ACME server rejected the order ({subcause}): {reason}. An invalid order cannot be "
        "resumed; the CertificateRequest fails and the Certificate retries after the backoff.",
        "Order.status.state invalid/errored, status.reason and failed authorizations/"
        "Challenges; subcause from the urn:ietf:params:acme:error:* type.",
        "Address the sub-cause (CAA record, DNS, reachability, rate limit), then renew.",
        probes=("account",),
        fixes=("renew", "clear-failed-requests"),
    ),
    CatalogEntry(
        "ACME_RATE_LIMITED", E, "ACME rate limit hit{retry}",
        "The ACME server refused with a rate limit ({message}). Retrying before the limit "
        "resets only extends it{retry_sentence}.",
        "urn:ietf:params:acme:error:rateLimited / \"too many certificates\" / \"rate limit\" in "
        "Order.status.reason, CertificateRequest or Challenge messages; \"retry after\" time.",
        "Wait for the retry-after time; use the staging server while testing; combine names "
        "into fewer certificates.",
    ),
    CatalogEntry(
        "CERTIFICATE_EXPIRING", W, "Certificate expires in {remaining} and renewal is failing",
        "The certificate is inside its renewal window (expires {not_after}) but renewal is "
        "failing ({why}). If nothing changes it will expire.",
        "Certificate.status.notAfter and renewalTime with Ready=False, failed issuance attempts "
        "or a failed latest CertificateRequest.",
        "Fix the renewal failure (see the other findings), then renew.",
        fixes=("renew",),
    ),
    CatalogEntry(
        "CERTIFICATE_EXPIRED", E, "Certificate expired {ago} ago",
        "The certificate in the Secret expired at {not_after}; clients see TLS errors now.",
        "Certificate.status.notAfter (or the Secret's tls.crt notAfter) in the past.",
        "Fix the issuance failure and renew immediately.",
        fixes=("renew", "clear-failed-requests"),
    ),
    CatalogEntry(
        "RENEW_BEFORE_TOO_SHORT", W, "Renewal window {window} leaves room for {retries} retries",
        "Renewal starts {window} before expiry. With cert-manager's backoff ({config}) only "
        "{retries} failed attempt(s) fit in that window, so a short outage of the CA is "
        "enough to let the certificate expire.",
        "Certificate.spec.duration/renewBefore/renewBeforePercentage (explicitly set) compared "
        "with the cumulative backoff min × (2^n − 1).",
        "Raise renewBefore (e.g. to a third of the duration) or lengthen the duration.",
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
    ),
    # -- DNS-01 provider and solver codes (rules/dns01.py) --
    # -- ACME account, order, authorization and solver-selection codes (rules/acme*.py) --
    # -- Secret, key, renewal and Vault codes (rules/secrets.py, rules/certificates.py) --
    # -- controller, webhook and fallback codes (rules/components.py, rules/stuck.py) --
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
