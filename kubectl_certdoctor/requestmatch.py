"""Does a CertificateRequest still match its Certificate's spec? cert-manager's own test.

cert-manager skips the issuance backoff when the Certificate's spec no longer matches the
*next* CertificateRequest (the user changed the spec, so it re-issues at once):
``shouldBackoffReissuingOnFailure`` calls ``RequestMatchesSpec`` (pkg/util/pki/match.go at
v1.21.1; pkg/util/pki or pkg/controller/certificates at v1.3.0 … v1.20). This replays the
comparisons of the fields users change: SANs, common name, isCA, duration and issuerRef
(with the default kind Issuer and group cert-manager.io treated as equal).
"""

from __future__ import annotations

import ipaddress

from kubectl_certdoctor.backoff import parse_go_duration
from kubectl_certdoctor.objects import Obj, as_dict, as_list, b64_bytes, dig, text

CM_GROUP = "cert-manager.io"


def _csr(cr: Obj) -> object | None:
    pem = b64_bytes(dig(cr, "spec", "request"))
    if pem is None:
        return None
    try:
        from cryptography import x509

        return x509.load_pem_x509_csr(pem)
    except Exception:  # not a CSR (hand-written bundles carry placeholders)
        return None


def _ips(values: list[str]) -> set[str]:
    out = set()
    for v in values:
        try:
            out.add(str(ipaddress.ip_address(v)))
        except ValueError:
            out.add(v)
    return out


def mismatches(cr: Obj, cert: Obj) -> list[str] | None:
    """The spec fields the request no longer matches; None when its CSR cannot be read
    (then nothing is concluded)."""
    csr = _csr(cr)
    if csr is None:
        return None
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    spec = as_dict(cert.get("spec"))
    try:
        san = csr.extensions.get_extension_for_class(  # type: ignore[attr-defined]
            x509.SubjectAlternativeName).value
        dns = list(san.get_values_for_type(x509.DNSName))
        ips = [str(i) for i in san.get_values_for_type(x509.IPAddress)]
        uris = list(san.get_values_for_type(x509.UniformResourceIdentifier))
        emails = list(san.get_values_for_type(x509.RFC822Name))
    except x509.ExtensionNotFound:
        dns, ips, uris, emails = [], [], [], []
    except Exception:
        return None
    out: list[str] = []

    def listed(key: str) -> list[str]:
        return [text(v) for v in as_list(spec.get(key)) if text(v)]

    if _ips(ips) != _ips(listed("ipAddresses")):
        out.append("spec.ipAddresses")
    if sorted(uris) != sorted(listed("uris")):
        out.append("spec.uris")
    if sorted(emails) != sorted(listed("emailAddresses")):
        out.append("spec.emailAddresses")
    if sorted(dns) != sorted(listed("dnsNames")):
        out.append("spec.dnsNames")
    if not text(spec.get("literalSubject")):
        cns = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)  # type: ignore[attr-defined]
        cn = str(cns[0].value) if cns else ""
        if cn != text(spec.get("commonName")):
            out.append("spec.commonName")
    if bool(dig(cr, "spec", "isCA")) != bool(spec.get("isCA")):
        out.append("spec.isCA")
    rd = parse_go_duration(text(dig(cr, "spec", "duration")))
    cd = parse_go_duration(text(spec.get("duration")))
    if rd is not None and cd is not None and rd != cd:
        out.append("spec.duration")
    ri, ci = as_dict(dig(cr, "spec", "issuerRef")), as_dict(spec.get("issuerRef"))
    if text(ri.get("name")) != text(ci.get("name")) or \
            (text(ri.get("kind")) or "Issuer") != (text(ci.get("kind")) or "Issuer") or \
            (text(ri.get("group")) or CM_GROUP) != (text(ci.get("group")) or CM_GROUP):
        out.append("spec.issuerRef")
    return out
