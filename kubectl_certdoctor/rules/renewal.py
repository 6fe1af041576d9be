"""CERTIFICATE_RENEWAL_LOOP: the issued certificate is due for renewal (almost) as soon as
it is issued.

cert-manager computes the renewal time from the ISSUED dates, not the spec
(``RenewalTime(notBefore, notAfter, …)``):

* v1.0.x–v1.1.x (``pkg/controller/certificates/util.go@v1.0.4``
  ``RenewBeforeExpiryDuration``): renewBefore = spec.renewBefore or 30 days
  (``DefaultRenewBefore``); if it is *greater* than the issued duration, a third of it.
* v1.2.x–v1.3.x (``util.go@v1.2.0``): the same with ``>=`` and the default from the
  deprecated --renew-before-expiry-duration flag (30 days).
* v1.4.0–v1.15.x (``util.go@v1.4.0``, ``pkg/util/pki/renewaltime.go@v1.12.0 … v1.15.5``):
  a third of the issued duration, or spec.renewBefore when it is shorter than it.
* v1.16.0+ (``pkg/util/pki/renewaltime.go@v1.16.0 … v1.21.1``): renewBefore when
  0 < renewBefore < duration, else renewBeforePercentage (0 < p < 100) — v1.16.0–v1.16.2
  used (100 − p) % by mistake, fixed in v1.16.3 — else a third.

So an explicit renewBefore at least as long as the issued certificate is ignored (after
v1.0/v1.1's "equal" edge), and a certificate truncated by its CA (Vault/CA issuers cap
notAfter at the CA's own notAfter) renews after 2/3 of an ever shorter life: the loop
tightens as the CA's end approaches. The Certificate's status.renewalTime (written by the
readiness controller, ``pkg/controller/certificates/readiness``) is what cert-manager
actually computed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from kubectl_certdoctor.backoff import human, parse_go_duration
from kubectl_certdoctor.graph import Graph
from kubectl_certdoctor.objects import (
    Obj,
    as_dict,
    as_int,
    b64_bytes,
    dig,
    first_certificate,
    parse_time,
    text,
)
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.util import field_ev
from kubectl_certdoctor.versions import Version, controller_version

#: renewal this close to notBefore means cert-manager renews right after issuing
LOOP = timedelta(minutes=1)
DEFAULT_DURATION = timedelta(days=90)
OLD_DEFAULT_RENEW_BEFORE = timedelta(days=30)


def pem_dates(secret: Obj | None, key: str) -> tuple[datetime, datetime] | None:
    """(notBefore, notAfter) of the first certificate in ``data[key]`` of a Secret."""
    if secret is None:
        return None
    c = first_certificate(b64_bytes(as_dict(secret.get("data")).get(key)))
    return (c.not_valid_before_utc, c.not_valid_after_utc) if c is not None else None


def renew_before(actual: timedelta, spec: Obj, v: Version | None) -> timedelta:
    """How long before notAfter cert-manager ``v`` renews a certificate issued for
    ``actual`` (None: the newest release's rule)."""
    rb = parse_go_duration(text(spec.get("renewBefore"))) if text(spec.get("renewBefore")) \
        else None
    pct = as_int(spec.get("renewBeforePercentage"), 0) \
        if spec.get("renewBeforePercentage") is not None else 0
    if v is not None and v < Version(1, 4, 0):
        val = rb if rb is not None else OLD_DEFAULT_RENEW_BEFORE
        too_long = val > actual if v < Version(1, 2, 0) else val >= actual
        return actual / 3 if too_long else val
    if rb is not None and timedelta(0) < rb < actual:
        return rb
    if (v is None or v >= Version(1, 16, 0)) and 0 < pct < 100:
        if v is not None and Version(1, 16, 0) <= v < Version(1, 16, 3):
            return actual * (100 - pct) / 100
        return actual * pct / 100
    return actual / 3


def _spec_window(spec: Obj) -> tuple[timedelta, timedelta]:
    """(requested duration, renewal window the spec asks for)."""
    duration = parse_go_duration(text(spec.get("duration"))) or DEFAULT_DURATION
    rb = parse_go_duration(text(spec.get("renewBefore"))) if text(spec.get("renewBefore")) \
        else None
    if rb is not None and rb > timedelta(0):
        return duration, rb
    pct = as_int(spec.get("renewBeforePercentage"), 0)
    if 0 < pct < 100:
        return duration, duration * pct / 100
    return duration, duration / 3


def _issuer_ca_dates(graph: Graph, cert: Obj) -> tuple[str, datetime] | None:
    """The notAfter of the CA that signed the leaf: ca.crt in the leaf's Secret, else the
    CA issuer's key pair tls.crt."""
    ns = text(dig(cert, "metadata", "namespace"))
    sec = graph.objs.get("Secret", ns, text(dig(cert, "spec", "secretName")))
    d = pem_dates(sec, "ca.crt")
    if d is not None:
        return "Secret ca.crt", d[1]
    _, iss = graph.issuer_for(cert)
    ca_secret = text(dig(iss, "spec", "ca", "secretName")) if iss is not None else ""
    if iss is not None and ca_secret:
        sns = ns if text(iss.get("kind")) == "Issuer" else graph.cluster_resource_namespace
        d = pem_dates(graph.objs.get("Secret", sns, ca_secret), "tls.crt")
        if d is not None:
            return f"CA issuer Secret {ca_secret} tls.crt", d[1]
    return None


def certificate_renewal_loop(graph: Graph, now: datetime) -> list[Finding]:
    """The issued validity leaves no time before renewal (CHAIN: the Certificate, its Secret,
    its issuer's CA Secret)."""
    out: list[Finding] = []
    found = controller_version(graph.objs)
    version = found[0] if found else None
    vnote = (f"cert-manager {found[0]} ({found[1]})" if found else
             "controller version unknown: renewal computed as the newest release does")
    for node in graph.of_kind("Certificate"):
        obj = node.obj or {}
        spec = as_dict(obj.get("spec"))
        nb = parse_time(dig(obj, "status", "notBefore"))
        na = parse_time(dig(obj, "status", "notAfter"))
        src = "Certificate.status"
        if nb is None or na is None:
            sec = graph.objs.get("Secret", node.ref.namespace, text(spec.get("secretName")))
            d = pem_dates(sec, "tls.crt")
            if d is None:
                continue
            nb, na, src = d[0], d[1], "Secret tls.crt"
        actual = na - nb
        if actual <= timedelta(0):
            continue
        status_rt = parse_time(dig(obj, "status", "renewalTime"))
        rt = status_rt if status_rt is not None else na - renew_before(actual, spec, version)
        duration, window = _spec_window(spec)
        ev = [f"{src} notBefore {nb:%Y-%m-%dT%H:%M:%SZ}, notAfter {na:%Y-%m-%dT%H:%M:%SZ} "
              f"(issued for {human(actual)})"]
        if status_rt is not None:
            ev.append(field_ev("Certificate", "status.renewalTime",
                               text(dig(obj, "status", "renewalTime"))))
        else:
            ev.append(f"renewal computed for {vnote}: {rt:%Y-%m-%dT%H:%M:%SZ}")
        why = ""
        if rt - nb <= LOOP:
            why = (f"renewal is due {human(max(rt - nb, timedelta(0)))} after notBefore, so "
                   "cert-manager re-issues as soon as it has issued")
        elif actual < duration - LOOP and actual <= window:
            explicit = text(spec.get("renewBefore"))
            ca = _issuer_ca_dates(graph, obj)
            capped = ca is not None and abs(ca[1] - na) <= LOOP
            if capped and ca is not None:
                ev.append(f"{ca[0]} notAfter {ca[1]:%Y-%m-%dT%H:%M:%SZ}: the leaf was cut "
                          "at the CA's own expiry")
            if explicit or capped:
                ev.append(f"requested spec.duration {human(duration)}, renewal window "
                          f"{human(window)}")
                why = (f"the certificate was issued for {human(actual)}, not the "
                       f"{human(duration)} requested, which is no longer than the "
                       f"{human(window)} renewal window"
                       + (" (it ends with its CA)" if capped else "")
                       + "; cert-manager ignores the window and renews after 2/3 of an "
                       "ever shorter life")
        if not why:
            continue
        ev.append(vnote)
        out.append(make("CERTIFICATE_RENEWAL_LOOP", node.ref, ev,
                        data={"not_before": nb.isoformat(), "not_after": na.isoformat(),
                              "renewal": rt.isoformat()},
                        name=node.ref.name, why=why, issued=human(actual),
                        window=human(window), issuer=text(dig(spec, "issuerRef", "name"))))
    return out
