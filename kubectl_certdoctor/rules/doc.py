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
    # -- ACME examples --
    # -- Secret/key/renewal/Vault examples --
    # -- controller/webhook examples --
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
