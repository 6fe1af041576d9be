"""Issuer set-up: the server's TLS identity is not trusted, the CA key pair is missing or bad.

What cert-manager writes (github.com/cert-manager/cert-manager):

* ACME: ``pkg/issuer/acme/setup.go`` at v1.0.0 … v1.21.1 puts the error of the directory /
  account call into Ready=False reason ``ErrRegisterACMEAccount``, "Failed to register ACME
  account: <err>" (v1.0–v1.3: "Failed to verify ACME account: <err>"). A TLS failure there
  is Go's crypto/x509 text ("x509: certificate signed by unknown authority", "x509:
  certificate is valid for A, not B", "x509: certificate has expired or is not yet valid",
  Go ≥ 1.20 prefixes "tls: failed to verify certificate: "). ``spec.acme.caBundle`` exists
  from v1.11.0 (pkg/apis/acme/v1/types_issuer.go; absent at v1.10.0), ``skipTLSVerify``
  from v1.0.0.
* Vault: ``pkg/issuer/vault/setup.go`` at v1.0.0 … v1.21.1, reason ``VaultError``, "Failed to
  initialize Vault client: <err>" (login wrappers "error calling Vault server: Post
  \"https://…/v1/auth/…/login\": x509: …", internal/vault/vault.go); v1.0–v1.7 "Failed to
  call Vault health check: …", v1.16+ "Failed to verify Vault is initialized and unsealed:
  …"; requests: pkg/controller/certificaterequests/vault/vault.go "Failed to initialise vault
  client for signing: …" / "Vault failed to sign certificate: …". ``spec.vault.caBundle``
  from v1.0.0, ``caBundleSecretRef`` from v1.10.0 (pkg/apis/certmanager/v1/types_issuer.go).
* CA: ``pkg/issuer/ca/setup.go`` at v1.0.0 … v1.21.1: the key pair is read from
  ``spec.ca.secretName`` in the issuer's namespace (ClusterIssuer: the controller's
  --cluster-resource-namespace). Read errors → reason ``ErrGetKeyPair``, "Error getting
  keypair for CA issuer: <err>" (NotFound: ``secret "x" not found`` from the lister,
  ``secrets "x" not found`` from the API / filtered-secrets lister,
  internal/informers/core_filteredsecrets.go at v1.12+; invalid data from
  pkg/util/kube/pki.go and pkg/util/pki/parse.go: "error decoding private key PEM block",
  "error parsing pkcs#8/ecdsa/rsa private key: …", "error decoding certificate PEM block",
  ``no data for "tls.key" in secret 'ns/name'``). A leaf instead of a CA → reason
  ``ErrInvalidKeyPair``, "Error getting keypair for CA issuer: certificate is not a CA".
  The signer (pkg/controller/certificaterequests/ca/ca.go) writes requests Pending
  "Referenced secret ns/x not found: …" / "Failed to parse signing CA keypair from secret
  ns/x: …", and Failed "Error signing certificate: error creating x509 certificate: x509:
  provided PrivateKey doesn't match parent's PublicKey" when tls.key is not tls.crt's key
  (setup.go never compares them).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from kubectl_certdoctor.graph import Graph, Node
from kubectl_certdoctor.objects import Obj, Ref, as_dict, dig, name, namespace, text
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.util import (
    cond_ev,
    cond_text,
    failing_requests,
    field_ev,
    is_current_request,
    q,
)
from kubectl_certdoctor.versions import Version, controller_version

# -- server TLS identity ---------------------------------------------------------------

_VALID_FOR = re.compile(r"x509: certificate is valid for (.+?), not ([^\s\"',;)]+)", re.I)
_URL = re.compile(r"\b(?:Get|Post|Put|Head|Delete|Patch)\s+\"?(https://[^\s\"]+)", re.I)
#: ACME directories of public CAs: an unknown authority there means interception
PUBLIC_ACME_HOSTS = ("letsencrypt.org", "zerossl.com", "buypass.com", "api.pki.goog",
                     "sectigo.com", "digicert.com", "ssl.com", "globalsign.com")
#: Go's other certificate verification failures (crypto/x509 verify.go)
_OTHER_VERIFY = ("incompatible key usage", "too many intermediates",
                 "not authorized to sign other certificates", "unhandled critical extension",
                 "certificate is not trusted")
#: the first release with spec.acme.caBundle
ACME_CA_BUNDLE_SINCE = Version(1, 11, 0)
#: the first release with spec.vault.caBundleSecretRef
VAULT_CA_SECRET_SINCE = Version(1, 10, 0)


def tls_failure(message: str) -> tuple[str, str] | None:
    """(family, quoted x509 text) when ``message`` says a TLS certificate was not accepted.

    Families: ``unknown-authority``, ``wrong-name``, ``expired``, ``legacy-cn``, ``ip-san``,
    ``other`` (any other "tls: failed to verify certificate" / x509 verification text)."""
    low = message.lower()
    i = low.find("x509:")
    if i < 0:
        j = low.find("tls: failed to verify certificate")
        return ("other", message[j:].strip()) if j >= 0 else None
    quote = message[i:].strip()
    if "signed by unknown authority" in low or "failed to load system roots" in low:
        return "unknown-authority", quote
    if _VALID_FOR.search(message) or "is not valid for any names" in low:
        return "wrong-name", quote
    if "has expired or is not yet valid" in low:
        return "expired", quote
    if "legacy common name" in low:
        return "legacy-cn", quote
    if "doesn't contain any ip sans" in low:
        return "ip-san", quote
    if "tls: failed to verify certificate" in low or any(p in low for p in _OTHER_VERIFY):
        return "other", quote
    return None


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _pem_certs(raw: str, b64: bool = True) -> list[Any]:
    """The certificates in a PEM bundle (caBundle fields are base64 in the API)."""
    data: bytes
    try:
        data = base64.b64decode(raw, validate=False) if b64 else raw.encode()
    except (binascii.Error, ValueError):
        return []
    if b"-----BEGIN" not in data and not b64:
        return []
    try:
        from cryptography import x509

        return list(x509.load_pem_x509_certificates(data))
    except Exception:  # malformed bundle: nothing to say about it
        return []


def _bundle_note(raw: str) -> str:
    """What a caBundle holds: its subjects, and whether any is a self-signed root."""
    certs = _pem_certs(raw)
    if not certs:
        return "set (not a readable PEM bundle)"
    subjects = [c.subject.rfc4514_string() for c in certs]
    roots = [c for c in certs if c.subject == c.issuer]
    what = f"{len(certs)} certificate(s): {'; '.join(subjects[:3])}"
    if not roots:
        return (f"set, {what} — none is a self-signed root, so Go cannot complete the "
                "chain to a trust anchor")
    return f"set, {what}"


def _server(kind: str, obj: Obj) -> tuple[str, str]:
    """(server kind, URL) of an issuer that talks TLS to a server ('' when none)."""
    spec = as_dict(obj.get("spec"))
    if text(dig(spec, "acme", "server")):
        return "ACME", text(dig(spec, "acme", "server"))
    if text(dig(spec, "vault", "server")):
        return "Vault", text(dig(spec, "vault", "server"))
    if text(dig(spec, "venafi", "tpp", "url")):
        return "Venafi TPP", text(dig(spec, "venafi", "tpp", "url"))
    if isinstance(dig(spec, "venafi", "cloud"), dict):
        return "Venafi Cloud", text(dig(spec, "venafi", "cloud", "url")) or \
            "https://api.venafi.cloud"
    return "", ""


def _trust_config(graph: Graph, kind: str, obj: Obj, server_kind: str) -> tuple[str, str]:
    """(evidence line, how to give cert-manager the CA) for the issuer's server kind."""
    found = controller_version(graph.objs)
    v = found[0] if found else None
    if server_kind == "ACME":
        bundle = text(dig(obj, "spec", "acme", "caBundle"))
        skip = dig(obj, "spec", "acme", "skipTLSVerify") is True
        ev = (f"{kind}.spec.acme.caBundle: {_bundle_note(bundle)}" if bundle
              else f"{kind}.spec.acme.caBundle: not set")
        if skip:
            ev += "; spec.acme.skipTLSVerify: true"
        if v is not None and v < ACME_CA_BUNDLE_SINCE:
            how = (f"cert-manager {v} has no spec.acme.caBundle (added in v1.11.0): mount the "
                   "root CA into the controller's trust store (a volume over "
                   "/etc/ssl/certs/ca-certificates.crt) or upgrade and set spec.acme.caBundle "
                   "to the base64 PEM of the ROOT CA of the server's chain")
        elif bundle:
            how = ("replace spec.acme.caBundle with the base64 PEM of the ROOT CA that signed "
                   "the server's chain (an intermediate alone is not a trust anchor; "
                   "`openssl s_client -showcerts -connect HOST:443` shows the chain)")
        else:
            how = ("set spec.acme.caBundle to the base64 PEM of the root CA that signed the "
                   "server's chain (skipTLSVerify: true only for tests)")
        return ev, how
    if server_kind == "Vault":
        bundle = text(dig(obj, "spec", "vault", "caBundle"))
        ref = as_dict(dig(obj, "spec", "vault", "caBundleSecretRef"))
        if bundle:
            ev = f"{kind}.spec.vault.caBundle: {_bundle_note(bundle)}"
        elif ref:
            ev = (f"{kind}.spec.vault.caBundleSecretRef: Secret {text(ref.get('name'))} key "
                  f"{text(ref.get('key')) or 'ca.crt'}")
        else:
            ev = f"{kind}.spec.vault.caBundle and caBundleSecretRef: not set"
        secret_ok = v is None or v >= VAULT_CA_SECRET_SINCE
        how = ("set spec.vault.caBundle to the base64 PEM of the CA that signed the Vault "
               "server's certificate"
               + (" (or caBundleSecretRef to a Secret key holding it)" if secret_ok else "")
               + ("; the one configured now does not verify it" if bundle or ref else ""))
        return ev, how
    bundle = text(dig(obj, "spec", "venafi", "tpp", "caBundle"))
    ev = f"{kind}.spec.venafi.tpp.caBundle: " + (_bundle_note(bundle) if bundle else "not set")
    return ev, ("set spec.venafi.tpp.caBundle to the base64 PEM of the CA that signed the "
                "server's certificate")


def _action(family: str, quote: str, server_kind: str, host: str, how: str,
            public: bool) -> tuple[str, str]:
    """(what is wrong, what to do) for one failure family."""
    if family == "wrong-name":
        m = _VALID_FOR.search(quote)
        names = m.group(1) if m else "no matching name"
        return (f"the server that answered for {host} presented a certificate for {names}",
                f"the controller reached the wrong server for {host} (one whose certificate "
                f"is for {names}): its DNS answer or route "
                "leads elsewhere (a wildcard record in a DNS search domain with the pod's "
                "ndots:5, a hairpin/NAT rule, an ingress default certificate, or a TLS "
                f"proxy). Resolve {host} the way the controller does (`kubectl run -n "
                f"<cert-manager namespace> dnscheck --rm -it --image=busybox -- nslookup "
                f"{host}`) and fix the DNS record / search domain (or set the controller's "
                "dnsConfig options ndots: 1)"
                + (f"; if a TLS-inspecting proxy is expected, {how}" if public else ""))
    if family == "unknown-authority" and public:
        return (f"{host}'s certificate chain does not lead to a root the controller trusts",
                f"{host} is a public CA, so something between the controller and it "
                "re-signs TLS (a corporate TLS-inspecting proxy or firewall) or DNS sends the "
                "name elsewhere: exempt the host from inspection, or give cert-manager the "
                f"proxy's root CA ({how})")
    if family == "unknown-authority":
        return (f"{host}'s certificate is signed by a CA the controller does not trust",
                how)
    if family == "expired":
        return (f"{host}'s certificate is expired or not yet valid",
                f"renew the {server_kind} server's certificate (or the intermediate it "
                "sends); if it is valid, the controller node's clock is wrong — check NTP")
    if family == "legacy-cn":
        return (f"{host}'s certificate names the host only in its Common Name",
                f"re-issue the {server_kind} server's certificate with {host} as a DNS "
                "subjectAltName (Go ignores the Common Name since 1.15)")
    if family == "ip-san":
        return (f"the server URL uses an IP address that {host}'s certificate does not list",
                f"use the {server_kind} server's DNS name in the issuer URL, or re-issue its "
                "certificate with that IP as an IP subjectAltName")
    return (f"TLS verification of {host} failed", how)


def _tls_messages(graph: Graph, node: Node, kind: str) -> list[tuple[str, str]]:
    """(evidence, message) with an x509 failure: the issuer's Ready condition, its Warning
    Events, then current CertificateRequests under it (Vault token auth is only used at
    signing time)."""
    obj = node.obj or {}
    st, _, msg = cond_text(obj, "Ready")
    if st == "False" and tls_failure(msg):
        return [(cond_ev(kind, obj, "Ready"), msg)]
    out: list[tuple[str, str]] = []
    if st != "True":
        for e in graph.events_for(node.ref):
            m = text(e.get("message"))
            if text(e.get("type")) == "Warning" and tls_failure(m):
                return [(f"Event {text(e.get('reason'))} on {kind} {node.ref.name}: {m}", m)]
    for cr in graph.of_kind("CertificateRequest"):
        crobj = cr.obj or {}
        ir, iss = graph.issuer_for(crobj)
        if iss is None or ir.ref != node.ref or not is_current_request(graph, cr):
            continue
        st, _, m = cond_text(crobj, "Ready")
        if st == "False" and tls_failure(m):
            out.append((f"CertificateRequest {cr.ref.namespace}/{cr.ref.name}: "
                        + cond_ev("CertificateRequest", crobj, "Ready"), m))
            break
    return out


def issuer_server_tls_untrusted(graph: Graph, now: datetime) -> list[Finding]:
    """ISSUER_SERVER_TLS_UNTRUSTED: an ACME/Vault/Venafi issuer cannot verify its server's TLS
    certificate (Go's x509 text in its Ready message, Events, or its current requests).
    WIDE: reports on issuers, reads requests of every chain."""
    out: list[Finding] = []
    for kind in ("ClusterIssuer", "Issuer"):
        for node in graph.of_kind(kind):
            obj = node.obj or {}
            server_kind, server = _server(kind, obj)
            if not server_kind:
                continue
            hits = _tls_messages(graph, node, kind)
            if not hits:
                continue
            ev_line, msg = hits[0]
            hit = tls_failure(msg)
            if hit is None:
                continue
            family, quote = hit
            m = _URL.search(msg)
            url = m.group(1).rstrip("\",:") if m else server
            host = _host(url) or _host(server) or server
            trust_ev, how = _trust_config(graph, kind, obj, server_kind)
            public = server_kind == "ACME" and any(
                host == h or host.endswith("." + h) for h in PUBLIC_ACME_HOSTS)
            what, action = _action(family, quote, server_kind, host, how, public)
            ev = [ev_line, field_ev(kind, f"spec.{server_kind.split()[0].lower()}"
                                    + (".server" if server_kind in ("ACME", "Vault")
                                       else ".url"), server), trust_ev]
            if controller_version(graph.objs) is None and server_kind == "ACME":
                ev.append("controller version unknown: judged as the newest release "
                          "(spec.acme.caBundle available)")
            out.append(make(
                "ISSUER_SERVER_TLS_UNTRUSTED", node.ref, ev,
                data={"server": url, "family": family},
                kind=kind, name=node.ref.name, server_kind=server_kind, host=host,
                what=what, x509=quote, action=action[:1].upper() + action[1:]))
    return out


# -- CA issuer key pair ----------------------------------------------------------------

_NOT_FOUND = re.compile(r"secrets?\s+\"([^\"]+)\"\s+not\s+found", re.I)
_REFERENCED = re.compile(r"referenced secret ([^\s/]+)/(\S+) not found", re.I)
#: pkg/util/pki/parse.go and pkg/util/kube/pki.go invalid-data texts, by sub-case
KEY_TEXTS = ("error decoding private key pem block", "error parsing pkcs#8 private key",
             "error parsing ecdsa private key", "error parsing rsa private key",
             "rsa private key failed validation", "unknown private key type",
             "error parsing private key", "private key failed validation")
CERT_TEXTS = ("error decoding certificate pem block", "error parsing x.509 certificate",
              "error parsing tls certificate")
MISSING_TEXTS = ("no data for", "no private key data for", "no certificate data for")
MISMATCH_TEXTS = ("doesn't match parent's publickey", "signature over certificate returned "
                  "by signer is invalid")
NOT_CA = "certificate is not a ca"


def _ca_issuers(graph: Graph) -> list[tuple[str, Node, str, str]]:
    """(kind, node, Secret namespace, Secret name) of every CA issuer."""
    out = []
    for kind in ("ClusterIssuer", "Issuer"):
        for node in graph.of_kind(kind):
            obj = node.obj or {}
            sn = text(dig(obj, "spec", "ca", "secretName"))
            if not sn:
                continue
            ns = node.ref.namespace if kind == "Issuer" else graph.cluster_resource_namespace
            out.append((kind, node, ns, sn))
    return out


def _requests_of(graph: Graph, node: Node) -> list[tuple[Node, str]]:
    """Current CertificateRequests signed by this issuer, with their Ready message."""
    return list(failing_requests(graph).get(node.ref, ()))


def _label(kind: str, ref: Ref) -> str:
    return f"{kind} {ref.namespace}/{ref.name}" if ref.namespace else f"{kind} {ref.name}"


def ca_issuer_secret_not_found(graph: Graph, now: datetime) -> list[Finding]:
    """CA_ISSUER_SECRET_NOT_FOUND: the key pair Secret is not where the CA issuer reads it
    (ErrGetKeyPair "secret(s) \"x\" not found", a request's "Referenced secret ns/x not
    found", or — when Secrets of that namespace are visible — its absence). WIDE."""
    out: list[Finding] = []
    secrets_seen = "Secret" not in graph.objs.unseen
    # every Secret's namespace: only when an issuer is not ready (20,000 Secrets are a
    # noticeable walk on every live pass)
    seen_ns: set[str] | None = None

    def visible(ns: str) -> bool:
        nonlocal seen_ns
        if seen_ns is None:
            seen_ns = {namespace(s) for s in graph.objs.of_kind("Secret") if isinstance(s, dict)}
        return ns in seen_ns

    for kind, node, ns, sn in _ca_issuers(graph):
        obj = node.obj or {}
        st, reason, msg = cond_text(obj, "Ready")
        ev: list[str] = []
        m = _NOT_FOUND.search(msg) if st == "False" else None
        if m and (reason == "ErrGetKeyPair" or "keypair for ca issuer" in msg.lower()):
            ev.append(cond_ev(kind, obj, "Ready"))
        if not ev:
            for cr, crm in _requests_of(graph, node):
                if _referenced(crm):
                    ev.append(f"CertificateRequest {cr.ref.namespace}/{cr.ref.name}: "
                              + cond_ev("CertificateRequest", cr.obj or {}, "Ready"))
                    break
        present = graph.objs.get("Secret", ns, sn) is not None
        if not ev and st != "True" and secrets_seen and not present and visible(ns):
            ev.append(f"{kind}.status.conditions[Ready]: {st or 'absent'}"
                      + (f", reason {reason}" if reason else ""))
            ev.append(f"no Secret {ns}/{sn} in the snapshot, which holds other Secrets of "
                      f"namespace {ns}")
        if not ev:
            continue
        if present:
            ev.append(f"Secret {ns}/{sn} exists now: the condition predates it "
                      "(cert-manager re-reads it on its next sync)")
        elsewhere = sorted(namespace(s) for s in graph.objs.of_kind("Secret")
                           if isinstance(s, dict) and name(s) == sn and namespace(s) != ns)
        if elsewhere:
            ev.append(f"a Secret named {sn} exists in namespace(s) {', '.join(elsewhere)}")
        writers = [graph.nodes[i] for i in graph.secret_certs.get((ns, sn), [])
                   if i in graph.nodes]
        for w in writers[:1]:
            wst = cond_text(w.obj or {}, "Ready")[0]
            ev.append(f"Certificate {w.ref.namespace}/{w.ref.name} writes Secret {sn} "
                      f"(Ready {wst or 'unknown'})")
        if kind == "ClusterIssuer":
            where = (f"a ClusterIssuer reads spec.ca.secretName only from the cluster resource "
                     f"namespace {ns} (the controller's --cluster-resource-namespace)")
            if elsewhere:
                todo = (f"Create Secret {sn} in namespace {ns} — it is in "
                        f"{', '.join(elsewhere)} now: `kubectl get secret {sn} -n "
                        f"{elsewhere[0]} -o yaml | grep -v -e namespace: -e uid: -e "
                        f"resourceVersion: -e creationTimestamp: | kubectl apply -n {ns} -f "
                        "-` (or issue the CA Certificate into that namespace) — or use a "
                        f"namespaced Issuer in {elsewhere[0]} instead of the ClusterIssuer.")
            else:
                todo = (f"Create Secret {sn} (type kubernetes.io/tls, tls.crt and tls.key of "
                        f"the CA) in namespace {ns}: `kubectl create secret tls {sn} "
                        f"--cert=ca.crt --key=ca.key -n {ns}`, or correct spec.ca.secretName.")
        else:
            where = f"an Issuer reads spec.ca.secretName from its own namespace {ns}"
            todo = (f"Create Secret {sn} in namespace {ns} (`kubectl create secret tls {sn} "
                    f"--cert=ca.crt --key=ca.key -n {ns}`)"
                    + (f" — a Secret of that name exists in {', '.join(elsewhere)}, which "
                       "this Issuer cannot read" if elsewhere else "")
                    + ", or correct spec.ca.secretName.")
        if writers:
            todo += (f" Certificate {writers[0].ref.name} is meant to write it: fix that "
                     "Certificate first (see its findings).")
        out.append(make("CA_ISSUER_SECRET_NOT_FOUND", node.ref, ev,
                        data={"secret": f"{ns}/{sn}", "elsewhere": elsewhere},
                        kind=kind, name=node.ref.name, secret=sn, secret_ns=ns,
                        where=where, todo=todo))
    return out


@functools.lru_cache(maxsize=4096)
def _referenced(msg: str) -> bool:
    """``_REFERENCED`` in a request's message (a live pass asks about the same few messages
    of every failing request again: cached)."""
    return _REFERENCED.search(msg) is not None


@functools.lru_cache(maxsize=4096)
def _keypair_case(msg: str) -> str:
    low = msg.lower()
    if NOT_CA in low:
        return "not-ca"
    if any(t in low for t in MISMATCH_TEXTS):
        return "mismatch"
    if any(t in low for t in KEY_TEXTS):
        return "key"
    if any(t in low for t in CERT_TEXTS):
        return "cert"
    if any(t in low for t in MISSING_TEXTS):
        return "missing"
    return ""


def _basic_constraints(secret: Obj | None) -> str:
    """What tls.crt of the Secret says about being a CA ('' when unreadable)."""
    certs = _pem_certs(text(as_dict((secret or {}).get("data")).get("tls.crt")))
    if not certs:
        return ""
    try:
        from cryptography import x509

        bc = certs[0].extensions.get_extension_for_class(x509.BasicConstraints).value
        return f"basicConstraints CA:{'TRUE' if bc.ca else 'FALSE'}"
    except Exception:  # no extension (or unreadable): not a CA for Go either
        return "no basicConstraints extension (not a CA)"


def _signed_by(graph: Graph, cert: Node, issuer_node: Node) -> bool:
    """Is this Certificate issued by that issuer (issuerRef resolves to it)?"""
    ir, iss = graph.issuer_for(cert.obj or {})
    return iss is not None and ir.ref == issuer_node.ref


def ca_issuer_keypair_invalid(graph: Graph, now: datetime) -> list[Finding]:
    """CA_ISSUER_KEYPAIR_INVALID: the CA issuer's Secret holds no usable CA key pair: a leaf
    certificate (ErrInvalidKeyPair "certificate is not a CA"), a key or certificate that is
    not PEM, a missing key, or a key that is not the certificate's. WIDE."""
    out: list[Finding] = []
    for kind, node, ns, sn in _ca_issuers(graph):
        obj = node.obj or {}
        st, reason, msg = cond_text(obj, "Ready")
        ev: list[str] = []
        case = ""
        if st == "False" and (reason in ("ErrGetKeyPair", "ErrInvalidKeyPair")
                              or "keypair for ca issuer" in msg.lower()):
            case = _keypair_case(msg)
            if case:
                ev.append(cond_ev(kind, obj, "Ready"))
        if not case:
            for cr, crm in _requests_of(graph, node):
                c = _keypair_case(crm)
                if c:
                    case = c
                    ev.append(f"CertificateRequest {cr.ref.namespace}/{cr.ref.name}: "
                              + cond_ev("CertificateRequest", cr.obj or {}, "Ready"))
                    break
        if not case:
            continue
        secret = graph.objs.get("Secret", ns, sn)
        if secret is not None:
            typ = text(secret.get("type"))
            keys = sorted(as_dict(secret.get("data")))
            ev.append(f"Secret {ns}/{sn}: type {typ or '?'}, data keys "
                      f"{', '.join(keys) if keys else '(none shown)'}")
            bc = _basic_constraints(secret) if case == "not-ca" else ""
            if bc:
                ev.append(f"Secret {ns}/{sn} tls.crt: {bc}")
        writers = [graph.nodes[i] for i in graph.secret_certs.get((ns, sn), [])
                   if i in graph.nodes]
        writer = writers[0] if writers else None
        if writer is not None:
            is_ca = dig(writer.obj or {}, "spec", "isCA")
            ev.append(f"Certificate {writer.ref.namespace}/{writer.ref.name} writes Secret "
                      f"{sn}; spec.isCA: {q(is_ca) if is_ca is not None else 'unset'}")
        create = (f"`kubectl create secret tls {sn} --cert=ca.crt --key=ca.key -n {ns}` "
                  "(PEM files; data values are base64 of the PEM text, encoded once)")
        own = writer is not None and _signed_by(graph, writer, node)
        if case == "not-ca":
            what = "its certificate is not a CA (no basicConstraints CA:TRUE)"
            if writer is not None and own:
                todo = (f"Certificate {writer.ref.namespace}/{writer.ref.name} is issued by "
                        f"{_label(kind, node.ref)} itself and wrote its leaf into the CA's "
                        f"Secret (SECRET_IS_CA_ISSUER_KEYPAIR): give it its own spec.secretName, "
                        f"then restore the CA certificate and key into Secret {ns}/{sn} "
                        f"({create}, or re-issue the bootstrap CA Certificate).")
            elif writer is not None and dig(writer.obj or {}, "spec", "isCA") is not True:
                todo = (f"Set spec.isCA: true on Certificate {writer.ref.namespace}/"
                        f"{writer.ref.name} (the bootstrap CA, usually from a selfSigned "
                        f"issuer), then delete Secret {ns}/{sn} so it is re-issued as a CA "
                        f"(or `cmctl renew {writer.ref.name} -n {writer.ref.namespace}`).")
            else:
                todo = (f"Put a CA certificate (basicConstraints CA:TRUE, keyUsage "
                        f"keyCertSign) and its key into Secret {ns}/{sn}: {create}.")
        elif case == "key":
            what = "tls.key is not a PEM-encoded private key cert-manager can parse"
            todo = (f"Re-create Secret {ns}/{sn} with a PEM private key in tls.key (-----BEGIN "
                    "PRIVATE KEY----- / RSA / EC; a value base64-encoded twice, a DER file or "
                    f"an encrypted key fails this way): {create}.")
        elif case == "cert":
            what = "tls.crt is not a PEM-encoded certificate"
            todo = (f"Re-create Secret {ns}/{sn} with the CA certificate as PEM in tls.crt "
                    f"(not DER, not base64-encoded twice): {create}.")
        elif case == "missing":
            what = "the Secret lacks tls.crt or tls.key"
            todo = (f"A CA issuer needs both tls.crt and tls.key (a Secret holding only "
                    f"ca.crt cannot sign): {create}.")
        else:
            what = "tls.key is not the private key of tls.crt"
            todo = (f"Put the matching pair into Secret {ns}/{sn} (compare `openssl x509 "
                    "-noout -pubkey -in ca.crt` with `openssl pkey -pubout -in ca.key`), "
                    f"{create}; then renew the Certificates this issuer failed to sign.")
        out.append(make("CA_ISSUER_KEYPAIR_INVALID", node.ref, ev,
                        data={"secret": f"{ns}/{sn}", "case": case},
                        kind=kind, name=node.ref.name, secret=sn, secret_ns=ns,
                        what=what, todo=todo, issuer=_label(kind, node.ref)))
    return out
