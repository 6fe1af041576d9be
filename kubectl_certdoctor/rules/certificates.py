"""Certificate rules: backoff, expiry, renewal window and the Secret's contents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kubectl_certdoctor.backoff import (
    BackoffConfig,
    certificate_backoff,
    delay_for,
    human,
    parse_go_duration,
)
from kubectl_certdoctor.graph import Graph, Node
from kubectl_certdoctor.objects import (
    Obj,
    as_dict,
    as_int,
    as_list,
    b64_bytes,
    condition_status,
    dig,
    first_certificate,
    parse_time,
    text,
)
from kubectl_certdoctor.objects import (
    annotations as annotations_of,
)
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.util import cond_text, field_ev, latest_request

DEFAULT_DURATION = timedelta(days=90)
#: fewer failed attempts than this fitting in the renewal window is "too short"
MIN_RETRIES = 4


def issuance_backoff(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    for node in graph.of_kind("Certificate"):
        obj = node.obj or {}
        # Issuing=True: an issuance is in progress (renewed by hand): no backoff applies
        bo = certificate_backoff(obj, now, graph.backoff) \
            if condition_status(obj, "Issuing") != "True" else None
        if bo is None or not bo.active or spec_changed(graph, node):
            continue
        at = f"{bo.next_attempt:%Y-%m-%d %H:%M:%S} UTC"
        ev = [field_ev("Certificate", "status.failedIssuanceAttempts",
                       dig(obj, "status", "failedIssuanceAttempts")),
              field_ev("Certificate", "status.lastFailureTime",
                       text(dig(obj, "status", "lastFailureTime"))),
              f"backoff {human(bo.delay)} ({bo.config.source})"]
        out.append(make("ISSUANCE_BACKOFF", node.ref, ev,
                        data={"next_attempt": bo.next_attempt.isoformat(),
                              "delay_seconds": int(bo.delay.total_seconds()),
                              "attempts": bo.attempts},
                        remaining=human(bo.remaining), at=at,
                        attempts=f"{bo.attempts} failed attempt{'s' if bo.attempts != 1 else ''}"
                        if bo.attempts else "failedIssuanceAttempts not recorded: n = 1",
                        config=bo.config.source))
    return out


def spec_changed(graph: Graph, cert: Node) -> list[str]:
    """The spec fields the next CertificateRequest no longer matches: from v1.3.0
    cert-manager then skips the backoff and re-issues at once
    (``shouldBackoffReissuingOnFailure`` → ``RequestMatchesSpec``, trigger_controller.go at
    v1.3.0 … v1.21.1). Empty when it matches, is unknown, or there is no next request."""
    rel = graph.backoff.release
    if rel is not None and rel < (1, 3):
        return []
    cr = latest_request(graph, cert)
    if cr is None or cr.obj is None or cert.obj is None:
        return []
    if graph.revisions.get(cr.id, 0) <= as_int(dig(cert.obj, "status", "revision"), 0):
        return []
    from kubectl_certdoctor.requestmatch import mismatches

    return mismatches(cr.obj, cert.obj) or []


@dataclass(frozen=True)
class ParsedCert:
    not_after: datetime
    dns: frozenset[str]
    ips: frozenset[str]
    common_name: str


def parse_tls_crt(secret: Obj) -> ParsedCert | None:
    """The first certificate in the Secret's tls.crt (None when absent or unparsable)."""
    cert = first_certificate(b64_bytes(as_dict(secret.get("data")).get("tls.crt")))
    if cert is None:
        return None
    try:
        from cryptography import x509
        from cryptography.x509.oid import NameOID

        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            dns = frozenset(n.lower() for n in san.get_values_for_type(x509.DNSName))
            ips = frozenset(str(i) for i in san.get_values_for_type(x509.IPAddress))
        except x509.ExtensionNotFound:
            dns, ips = frozenset(), frozenset()
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        cn = str(cns[0].value) if cns else ""
        return ParsedCert(cert.not_valid_after_utc, dns, ips, cn)
    except Exception:  # any malformed certificate is "unparsable"
        return None


def _secret(graph: Graph, cert: Obj) -> Obj | None:
    sn = text(dig(cert, "spec", "secretName"))
    ns = text(dig(cert, "metadata", "namespace"))
    return graph.objs.get("Secret", ns, sn) if sn else None


def not_after(graph: Graph, cert: Obj) -> tuple[datetime | None, str]:
    t = parse_time(dig(cert, "status", "notAfter"))
    if t is not None:
        return t, field_ev("Certificate", "status.notAfter", text(dig(cert, "status", "notAfter")))
    sec = _secret(graph, cert)
    parsed = parse_tls_crt(sec) if sec else None
    if parsed is not None:
        return parsed.not_after, f"Secret tls.crt notAfter: {parsed.not_after:%Y-%m-%dT%H:%M:%SZ}"
    return None, ""


def certificate_expired(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    for node in graph.of_kind("Certificate"):
        t, ev = not_after(graph, node.obj or {})
        if t is None or t > now:
            continue
        out.append(make("CERTIFICATE_EXPIRED", node.ref, [ev],
                        data={"not_after": t.isoformat()},
                        ago=human(now - t), not_after=f"{t:%Y-%m-%d %H:%M} UTC"))
    return out


def renewal_failing(graph: Graph, node: Node) -> str:
    """Why renewal of this Certificate is failing ('' when it is not)."""
    obj = node.obj or {}
    if as_int(dig(obj, "status", "failedIssuanceAttempts"), 0) > 0 or \
            dig(obj, "status", "lastFailureTime"):
        n = as_int(dig(obj, "status", "failedIssuanceAttempts"), 0)
        if n <= 0:
            return "the last issuance attempt failed"
        return f"{n} failed issuance attempt{'s' if n != 1 else ''}"
    cr = latest_request(graph, node)
    if cr is not None and cr.obj is not None:
        issued = as_int(dig(obj, "status", "revision"), 0)
        if graph.revisions.get(cr.id, 0) > issued:
            st, reason, _ = cond_text(cr.obj, "Ready")
            if st == "False" and reason in ("Failed", "Denied"):
                return f"CertificateRequest {cr.ref.name} {reason.lower()}"
            if cond_text(cr.obj, "Denied")[0] == "True":
                return f"CertificateRequest {cr.ref.name} denied"
    st, reason, _ = cond_text(obj, "Ready")
    if st == "False" and cond_text(obj, "Issuing")[0] != "True":
        return f"Ready=False ({reason or 'no reason'})"
    return ""


def _durations(obj: Obj) -> tuple[timedelta, timedelta, bool]:
    """(duration, renewal window, explicitly configured?) as cert-manager defaults them."""
    spec = as_dict(obj.get("spec"))
    explicit = any(k in spec for k in ("duration", "renewBefore", "renewBeforePercentage"))
    duration = parse_go_duration(text(spec.get("duration"))) or DEFAULT_DURATION
    window: timedelta | None = None
    if text(spec.get("renewBefore")):
        window = parse_go_duration(text(spec.get("renewBefore")))
    elif spec.get("renewBeforePercentage") is not None:
        pct = as_int(spec.get("renewBeforePercentage"), 0)
        if 0 < pct < 100:
            window = duration * pct / 100
    if window is None or window <= timedelta(0) or window >= duration:
        window = duration / 3
    return duration, window, explicit


def certificate_expiring(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    for node in graph.of_kind("Certificate"):
        obj = node.obj or {}
        t, ev = not_after(graph, obj)
        if t is None or t <= now:
            continue
        renewal = parse_time(dig(obj, "status", "renewalTime"))
        _, window, _ = _durations(obj)
        in_window = (renewal is not None and renewal <= now) or (t - now) <= window
        if not in_window:
            continue
        why = renewal_failing(graph, node)
        if not why:
            continue
        evidence = [ev]
        if renewal is not None:
            evidence.append(field_ev("Certificate", "status.renewalTime",
                                     text(dig(obj, "status", "renewalTime"))))
        evidence.append(f"renewal failing: {why}")
        out.append(make("CERTIFICATE_EXPIRING", node.ref, evidence,
                        data={"not_after": t.isoformat()},
                        remaining=human(t - now), not_after=f"{t:%Y-%m-%d %H:%M} UTC", why=why))
    return out


def retries_within(window: timedelta, cfg: BackoffConfig) -> int:
    """How many failed attempts (with their backoff waits) fit in the renewal window."""
    spent, n = timedelta(0), 0
    while n < 64:
        try:
            spent += delay_for(n + 1, cfg)
        except OverflowError:
            break
        if spent > window:
            break
        n += 1
    return n


def renew_before_too_short(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    for node in graph.of_kind("Certificate"):
        obj = node.obj or {}
        _, window, explicit = _durations(obj)
        if not explicit:
            continue
        n = retries_within(window, graph.backoff)
        if n >= MIN_RETRIES:
            continue
        spec = as_dict(obj.get("spec"))
        ev = [field_ev("Certificate", f"spec.{k}", spec[k])
              for k in ("duration", "renewBefore", "renewBeforePercentage") if k in spec]
        ev.append(f"renewal window {human(window)}; backoff {graph.backoff.source}")
        out.append(make("RENEW_BEFORE_TOO_SHORT", node.ref, ev,
                        data={"window_seconds": int(window.total_seconds()), "retries": n},
                        window=human(window), retries=n, config=graph.backoff.source))
    return out


def secret_mismatch(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    for node in graph.of_kind("Certificate"):
        obj = node.obj or {}
        sec = _secret(graph, obj)
        if sec is None:
            continue
        sn = text(dig(obj, "spec", "secretName"))
        reasons: list[str] = []
        ev: list[str] = []
        data = as_dict(sec.get("data"))
        if not text(data.get("tls.crt")):
            reasons.append("has no tls.crt")
            ev.append(f"Secret {sn} data keys: {sorted(data) or 'none'}")
        else:
            parsed = parse_tls_crt(sec)
            if parsed is None:
                reasons.append("holds a tls.crt that is not a PEM certificate")
            else:
                want_dns = {text(d).lower() for d in as_list(dig(obj, "spec", "dnsNames"))} - {""}
                want_ips = {text(i) for i in as_list(dig(obj, "spec", "ipAddresses"))} - {""}
                cn = text(dig(obj, "spec", "commonName"))
                if want_dns and want_dns != set(parsed.dns):
                    reasons.append("has different DNS names")
                    ev.append(f"Certificate.spec.dnsNames: {sorted(want_dns)}; "
                              f"tls.crt DNS SANs: {sorted(parsed.dns)}")
                if want_ips and want_ips != set(parsed.ips):
                    reasons.append("has different IP addresses")
                    ev.append(f"Certificate.spec.ipAddresses: {sorted(want_ips)}; "
                              f"tls.crt IP SANs: {sorted(parsed.ips)}")
                if cn and cn != parsed.common_name:
                    reasons.append("has a different common name")
                    ev.append(f"Certificate.spec.commonName: {cn!r}; tls.crt CN: "
                              f"{parsed.common_name!r}")
        ann = annotations_of(sec)
        want_issuer = text(dig(obj, "spec", "issuerRef", "name"))
        have_issuer = ann.get("cert-manager.io/issuer-name", "")
        if have_issuer and want_issuer and have_issuer != want_issuer:
            reasons.append("was issued by another issuer")
            ev.append(f"Secret annotation cert-manager.io/issuer-name: {have_issuer!r}; "
                      f"Certificate.spec.issuerRef.name: {want_issuer!r}")
        if not reasons:
            continue
        out.append(make("SECRET_MISMATCH", node.ref, ev or [f"Secret {sn}"],
                        data={"secret": sn}, secret=sn, why=" and ".join(reasons)))
    return out
