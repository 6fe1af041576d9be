"""docs/findings.md documents every catalog code and is exactly what the generator writes."""

from __future__ import annotations

from pathlib import Path

from kubectl_certdoctor.rules import doc
from kubectl_certdoctor.rules.catalog import CATALOG

DOC = Path(__file__).resolve().parents[1] / "docs" / "findings.md"
ISSUE_4_CODES = [
    "ISSUER_NOT_FOUND",
    "ISSUER_NOT_READY",
    "ACME_SERVER_UNREACHABLE",
    "ACME_ACCOUNT_SERVER_MISMATCH",
    "PROXY_NO_PROXY_GAP",
    "HTTP01_SELF_CHECK_404",
    "HTTP01_WRONG_INGRESS_CLASS",
    "HTTP01_MULTIPLE_INGRESS_BACKENDS",
    "HTTP01_SELF_CHECK_TIMEOUT",
    "HTTP01_SELF_CHECK_REDIRECT",
    "DNS01_PROPAGATION_PENDING",
    "CERTIFICATE_REQUEST_FAILED",
    "ISSUANCE_BACKOFF",
    "CERTIFICATE_REQUEST_DENIED",
    "CERTIFICATE_REQUEST_NOT_APPROVED",
    "VAULT_PERMISSION_DENIED_NOT_RETRIED",
    "ACME_ORDER_FAILED",
    "ACME_RATE_LIMITED",
    "CERTIFICATE_EXPIRING",
    "CERTIFICATE_EXPIRED",
    "RENEW_BEFORE_TOO_SHORT",
    "SECRET_MISMATCH",
    "CERT_MANAGER_OUTDATED",
]


def test_catalog_has_every_public_code() -> None:
    assert set(ISSUE_4_CODES) <= set(CATALOG)


def test_every_code_has_example_evidence() -> None:
    assert set(doc.EXAMPLES) == set(CATALOG)
    assert all(doc.EXAMPLES.values())


def test_doc_is_generated_from_catalog() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text == doc.render(), (
        "docs/findings.md is stale: python -m kubectl_certdoctor.rules.doc > docs/findings.md")


def test_doc_has_a_section_per_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    for code in CATALOG:
        section = text.split(f"## `{code}`", 1)
        assert len(section) == 2, code
        body = section[1].split("\n## ", 1)[0]
        for part in ("**Meaning.**", "**Signals and evidence.**", "**Confirm with probe:**",
                     "**Fix:**"):
            assert part in body, (code, part)


def test_every_code_cites_the_cert_manager_source_and_says_what_to_do() -> None:
    """Issue 12: each code lists the versions and files it was checked against, and every
    finding carries a remedy (the catalog's ``fix`` text)."""
    from kubectl_certdoctor.rules.catalog import CATALOG

    for code, e in CATALOG.items():
        assert e.fix.strip(), code
        assert e.checked.strip(), code
        assert ("v1." in e.checked or "Kubernetes" in e.checked), code
