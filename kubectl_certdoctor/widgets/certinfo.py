"""The certificate inside a Secret's ``tls.crt``, and whether it matches the Certificate spec.

Only the public certificate is parsed; the store never keeps ``tls.key``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from kubectl_certdoctor.objects import Obj, as_dict, as_list, dig, text


@dataclass(frozen=True)
class CertInfo:
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    serial: str


def parse_secret(secret: Obj) -> CertInfo | str | None:
    """The first certificate of ``tls.crt``; a string explaining why when there is none."""
    raw = text(as_dict(secret.get("data")).get("tls.crt"))
    if not raw:
        return "the Secret has no tls.crt"
    try:
        pem = base64.b64decode(raw, validate=False)
    except (binascii.Error, ValueError):
        return "tls.crt is not valid base64"
    try:
        from cryptography import x509

        cert = x509.load_pem_x509_certificate(pem)
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            dns = tuple(san.get_values_for_type(x509.DNSName))
            ips = tuple(str(i) for i in san.get_values_for_type(x509.IPAddress))
        except x509.ExtensionNotFound:
            dns, ips = (), ()
        return CertInfo(cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(),
                        cert.not_valid_before_utc, cert.not_valid_after_utc, dns, ips,
                        format(cert.serial_number, "x"))
    except Exception as e:  # a malformed certificate is shown as such, never raised
        return f"tls.crt cannot be parsed: {type(e).__name__}"


def spec_mismatches(info: CertInfo, cert: Obj) -> list[str]:
    """Differences between the issued certificate and ``Certificate.spec`` (empty: matches)."""
    out: list[str] = []
    want = {text(d).lower() for d in as_list(dig(cert, "spec", "dnsNames")) if text(d)}
    have = {d.lower() for d in info.dns_names}
    if want - have:
        out.append("missing SANs: " + ", ".join(sorted(want - have)))
    if have - want and want:
        out.append("extra SANs: " + ", ".join(sorted(have - want)))
    cn = text(dig(cert, "spec", "commonName"))
    if cn and f"CN={cn}" not in info.subject:
        out.append(f"subject lacks CN={cn}")
    want_ips = {text(i) for i in as_list(dig(cert, "spec", "ipAddresses")) if text(i)}
    if want_ips - set(info.ip_addresses):
        out.append("missing IPs: " + ", ".join(sorted(want_ips - set(info.ip_addresses))))
    return out
