"""The lab's scenarios: the objects a user would apply, and when the real controller is done.

Only *inputs* live here (Issuers, Certificates, a few Secrets). Every status,
CertificateRequest, Order, Challenge, solver pod and event is written by
cert-manager's real controllers talking to Pebble and bind9.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from kubernetes import client
from kubernetes.client.rest import ApiException

from kubectl_certdoctor.kinds import ALL_KINDS
from kubectl_certdoctor.objects import ObjectSet
from tests.support.lab import (
    BLOCKED_DOMAIN,
    CLUSTER_RESOURCE_NAMESPACE,
    LAB_ZONE,
    TSIG_KEY_NAME,
    LabState,
)

Obj = dict[str, Any]
CM = "cert-manager.io"
ACME = "acme.cert-manager.io"
INGRESS_CLASS = "lab-nginx"
UNREACHABLE_ISSUER = "lab-acme-unreachable"
#: the webhook DNS-01 solver's API group; its APIService points at a Service with no endpoints
WEBHOOK_GROUP = f"acme.{LAB_ZONE}"
WEBHOOK_APISERVICE = f"v1alpha1.{WEBHOOK_GROUP}"
WEBHOOK_NAMESPACE = "lab-webhook-dns"


@dataclass(frozen=True)
class LabScenario:
    """One namespace of the lab: what goes in, what cert-manager should make of it."""

    name: str
    namespace: str
    title: str
    story: str
    #: finding codes kubectl-certdoctor must report (empty: a healthy scenario)
    expect_codes: tuple[str, ...]
    build: Callable[[LabState], list[Obj]]
    #: true once the controller has written the state the scenario is about
    settled: Callable[[Reader], bool]
    healthy: bool = False
    #: a user's second step (e.g. editing a Ready Certificate): called on every poll until
    #: it returns true, i.e. until it has made its change
    advance: Callable[[Reader], bool] | None = None


class Reader:
    """Thin typed reads through the official client (dicts, exactly as served)."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.custom = client.CustomObjectsApi(api)
        self.namespace = namespace

    def events(self, kind: str = "", reason: str = "") -> list[Obj]:
        """The namespace's Events (as served), optionally about one kind / with one reason."""
        api = self.custom.api_client
        listed = client.CoreV1Api(api).list_namespaced_event(self.namespace)
        out = [cast(Obj, api.sanitize_for_serialization(e)) for e in listed.items]
        return [
            e
            for e in out
            if (not kind or e.get("involvedObject", {}).get("kind") == kind)
            and (not reason or e.get("reason") == reason)
        ]

    def list(self, group: str, plural: str) -> list[Obj]:
        items = cast(
            Obj, self.custom.list_namespaced_custom_object(group, "v1", self.namespace, plural)
        )
        return list(items.get("items", []))

    def get(self, group: str, plural: str, name: str) -> Obj | None:
        try:
            obj = cast(
                Obj,
                self.custom.get_namespaced_custom_object(group, "v1", self.namespace, plural, name),
            )
        except ApiException as err:
            if err.status == 404:
                return None
            raise
        return obj

    def cluster_get(self, group: str, plural: str, name: str) -> Obj | None:
        try:
            obj = cast(Obj, self.custom.get_cluster_custom_object(group, "v1", plural, name))
        except ApiException as err:
            if err.status == 404:
                return None
            raise
        return obj

    def create(self, obj: Obj) -> None:
        _create(self.custom.api_client, obj, self.namespace)

    def patch(self, group: str, plural: str, name: str, body: Obj) -> None:
        """A merge patch, as ``kubectl edit``/``apply`` of one field would send it."""
        self.custom.patch_namespaced_custom_object(
            group, "v1", self.namespace, plural, name, body
        )


def condition(obj: Obj | None, ctype: str = "Ready") -> Obj:
    for cond in (obj or {}).get("status", {}).get("conditions", []) or []:
        if cond.get("type") == ctype:
            return dict(cond)
    return {}


def _meta(name: str, **extra: Any) -> Obj:
    return {"name": name, "labels": {"certdoctor.test/lab": "true"}, **extra}


def issuer(name: str, spec: Obj, kind: str = "Issuer") -> Obj:
    return {"apiVersion": f"{CM}/v1", "kind": kind, "metadata": _meta(name), "spec": spec}


def certificate(
    name: str, issuer_name: str, dns: list[str] | None = None, kind: str = "Issuer", **spec: Any
) -> Obj:
    body: Obj = {
        "secretName": f"{name}-tls",
        "issuerRef": {"name": issuer_name, "kind": kind, "group": CM},
    }
    if dns:
        body["dnsNames"] = dns
    body.update(spec)
    return {"apiVersion": f"{CM}/v1", "kind": "Certificate", "metadata": _meta(name), "spec": body}


def secret(name: str, data: dict[str, bytes], stype: str = "Opaque") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": stype,
        "metadata": _meta(name),
        "data": {k: base64.b64encode(v).decode() for k, v in data.items()},
    }


def acme_spec(lab: LabState, account: str, solvers: list[Obj], server: str | None = None) -> Obj:
    return {
        "acme": {
            "server": server or lab.acme_url,
            "caBundle": base64.b64encode(lab.pebble_ca_pem.encode()).decode(),
            "email": "ops@lab.test",
            "privateKeySecretRef": {"name": account},
            "solvers": solvers,
        }
    }


def rfc2136(lab: LabState, secret_name: str) -> Obj:
    return {
        "dns01": {
            "rfc2136": {
                "nameserver": lab.dns_server,
                "tsigKeyName": TSIG_KEY_NAME,
                "tsigAlgorithm": "HMACSHA256",
                "tsigSecretSecretRef": {"name": secret_name, "key": "tsig-secret"},
            }
        }
    }


def _ca_keypair(
    name: str = "lab team CA", valid: dt.timedelta = dt.timedelta(days=30), matching: bool = True
) -> dict[str, bytes]:
    """A CA certificate and its key, as a user would store them for a CA Issuer.

    ``matching=False`` stores the certificate with somebody else's private key (a botched
    rotation).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    stored = key if matching else ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + valid)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return {
        "tls.crt": cert.public_bytes(serialization.Encoding.PEM),
        "tls.key": stored.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    }


def _mismatched_ca() -> dict[str, bytes]:
    return _ca_keypair("rotated lab CA", matching=False)


def _ca_issuer(name: str, **ca: Any) -> list[Obj]:
    """A CA Issuer and its key pair Secret (same name)."""
    return [
        secret(name, _ca_keypair(**ca), "kubernetes.io/tls"),
        issuer(name, {"ca": {"secretName": name}}),
    ]


# --------------------------------------------------------------------------- builders


def _pki(lab: LabState) -> list[Obj]:
    return [
        issuer("selfsigned", {"selfSigned": {}}),
        certificate(
            "root-ca",
            "selfsigned",
            isCA=True,
            commonName="lab root CA",
            secretName="root-ca",
            privateKey={"algorithm": "ECDSA", "size": 256},
        ),
        issuer("lab-ca", {"ca": {"secretName": "root-ca"}}),
        certificate("web", "lab-ca", [f"pki.{LAB_ZONE}"]),
    ]


def _ca_missing(lab: LabState) -> list[Obj]:
    return [
        issuer("team-ca", {"ca": {"secretName": "team-ca-keypair"}}),
        certificate("billing", "team-ca", [f"billing.{LAB_ZONE}"]),
    ]


def _ca_key_mismatch(lab: LabState) -> list[Obj]:
    return [
        secret("rotated-ca", _mismatched_ca(), "kubernetes.io/tls"),
        issuer("rotated-ca", {"ca": {"secretName": "rotated-ca"}}),
        certificate("payments", "rotated-ca", [f"payments.{LAB_ZONE}"]),
    ]


def _http01(lab: LabState) -> list[Obj]:
    solver = {"http01": {"ingress": {"ingressClassName": INGRESS_CLASS}}}
    return [
        issuer("pebble-http01", acme_spec(lab, "pebble-http01-account", [solver])),
        certificate("web", "pebble-http01", [f"web.{LAB_ZONE}"]),
    ]


def _dns01(lab: LabState) -> list[Obj]:
    return [
        secret("tsig", {"tsig-secret": lab.tsig_secret.encode()}),
        issuer("pebble-dns01", acme_spec(lab, "pebble-dns01-account", [rfc2136(lab, "tsig")])),
        certificate("api", "pebble-dns01", [f"api.{LAB_ZONE}"]),
    ]


def _dns01_bad_tsig(lab: LabState) -> list[Obj]:
    import secrets as pysecrets

    wrong = base64.b64encode(pysecrets.token_bytes(32))
    return [
        secret("tsig", {"tsig-secret": wrong}),
        issuer("pebble-dns01", acme_spec(lab, "pebble-dns01-account", [rfc2136(lab, "tsig")])),
        certificate("shop", "pebble-dns01", [f"shop.{LAB_ZONE}"]),
    ]


def _unreachable(lab: LabState) -> list[Obj]:
    solver = {"http01": {"ingress": {"ingressClassName": INGRESS_CLASS}}}
    return [
        issuer(
            UNREACHABLE_ISSUER,
            acme_spec(lab, "lab-acme-unreachable-account", [solver], server=lab.unreachable_url),
            kind="ClusterIssuer",
        ),
        certificate(
            "status-page", UNREACHABLE_ISSUER, [f"status.{LAB_ZONE}"], kind="ClusterIssuer"
        ),
    ]


def _order_rejected(lab: LabState) -> list[Obj]:
    return [
        secret("tsig", {"tsig-secret": lab.tsig_secret.encode()}),
        issuer("pebble-dns01", acme_spec(lab, "pebble-dns01-account", [rfc2136(lab, "tsig")])),
        certificate("blocked", "pebble-dns01", [BLOCKED_DOMAIN]),
    ]


def _no_matching_solver(lab: LabState) -> list[Obj]:
    solver = rfc2136(lab, "tsig")
    solver["selector"] = {"dnsZones": [f"internal.{LAB_ZONE}"]}
    return [
        secret("tsig", {"tsig-secret": lab.tsig_secret.encode()}),
        issuer("pebble-internal", acme_spec(lab, "pebble-internal-account", [solver])),
        certificate("portal", "pebble-internal", [f"portal.{LAB_ZONE}"]),
    ]


def _wildcard_http01(lab: LabState) -> list[Obj]:
    solver = {"http01": {"ingress": {"ingressClassName": INGRESS_CLASS}}}
    return [
        issuer("pebble-http01", acme_spec(lab, "pebble-http01-account", [solver])),
        certificate("wildcard", "pebble-http01", [f"*.apps.{LAB_ZONE}"]),
    ]


def _webhook_unavailable(lab: LabState) -> list[Obj]:
    solver = {"dns01": {"webhook": {"groupName": WEBHOOK_GROUP, "solverName": "lab-dns"}}}
    service: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta("lab-dns-webhook"),
        # the solver's pods are gone: the selector matches nothing, the EndpointSlice
        # kube-controller-manager keeps for the Service is empty
        "spec": {
            "selector": {"app.kubernetes.io/name": "lab-dns-webhook"},
            "ports": [{"name": "https", "port": 443, "targetPort": 8443}],
        },
    }
    apiservice: Obj = {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": _meta(WEBHOOK_APISERVICE),
        "spec": {
            "group": WEBHOOK_GROUP,
            "version": "v1alpha1",
            "groupPriorityMinimum": 1000,
            "versionPriority": 15,
            "insecureSkipTLSVerify": True,
            "service": {"name": "lab-dns-webhook", "namespace": WEBHOOK_NAMESPACE, "port": 443},
        },
    }
    return [
        service,
        apiservice,
        issuer("pebble-webhook", acme_spec(lab, "pebble-webhook-account", [solver])),
        certificate("edge", "pebble-webhook", [f"edge.{LAB_ZONE}"]),
    ]


def _shared_secret(lab: LabState) -> list[Obj]:
    return [
        *_ca_issuer("team-ca"),
        certificate("alpha", "team-ca", [f"alpha.{LAB_ZONE}"], secretName="shared-tls"),
        certificate("beta", "team-ca", [f"beta.{LAB_ZONE}"], secretName="shared-tls"),
    ]


def _into_ca_keypair(lab: LabState) -> list[Obj]:
    return [
        *_ca_issuer("team-ca"),
        certificate("intranet", "team-ca", [f"intranet.{LAB_ZONE}"], secretName="team-ca"),
    ]


def _into_acme_account(lab: LabState) -> list[Obj]:
    solver = {"http01": {"ingress": {"ingressClassName": INGRESS_CLASS}}}
    return [
        issuer("pebble", acme_spec(lab, "pebble-account", [solver])),
        issuer("selfsigned", {"selfSigned": {}}),
    ]


def _then_write_account_secret(r: Reader) -> bool:
    """Once the ACME issuer has registered (and stored its key), add a Certificate whose
    secretName is that key's Secret."""
    if r.get(CM, "certificates", "portal") is not None:
        return True
    if condition(r.get(CM, "issuers", "pebble")).get("status") != "True":
        return False
    r.create(
        certificate("portal", "selfsigned", [f"portal.{LAB_ZONE}"], secretName="pebble-account")
    )
    return True


def _key_algorithm_change(lab: LabState) -> list[Obj]:
    return [
        *_ca_issuer("team-ca"),
        certificate(
            "legacy",
            "team-ca",
            [f"legacy.{LAB_ZONE}"],
            privateKey={"algorithm": "RSA", "size": 2048, "rotationPolicy": "Never"},
        ),
    ]


def _switch_to_ecdsa(r: Reader) -> bool:
    """Once ``legacy`` is Ready with its RSA key, change spec.privateKey to ECDSA."""
    cert = r.get(CM, "certificates", "legacy") or {}
    if cert.get("spec", {}).get("privateKey", {}).get("algorithm") == "ECDSA":
        return True
    if condition(cert).get("status") != "True":
        return False
    ecdsa = {"spec": {"privateKey": {"algorithm": "ECDSA", "size": 256}}}
    r.patch(CM, "certificates", "legacy", ecdsa)
    return True


def _renewal_loop(lab: LabState) -> list[Obj]:
    # the shortest duration cert-manager's webhook accepts, with a renewBefore it also
    # accepts (shorter than the duration): renewal is due 10 s after each issuance
    return [
        *_ca_issuer("team-ca"),
        certificate(
            "flappy", "team-ca", [f"flappy.{LAB_ZONE}"], duration="1h", renewBefore="59m50s"
        ),
    ]


def _eab_required(lab: LabState) -> list[Obj]:
    solver = {"http01": {"ingress": {"ingressClassName": INGRESS_CLASS}}}
    return [
        issuer(
            "partner-acme",
            acme_spec(lab, "partner-acme-account", [solver], server=lab.acme_eab_url),
        ),
        certificate("partner", "partner-acme", [f"partner.{LAB_ZONE}"]),
    ]


# --------------------------------------------------------------------------- settled checks


def _certs_ready(*names: str) -> Callable[[Reader], bool]:
    def check(r: Reader) -> bool:
        return all(condition(r.get(CM, "certificates", n)).get("status") == "True" for n in names)

    return check


def _issuer_not_ready(name: str) -> Callable[[Reader], bool]:
    def check(r: Reader) -> bool:
        return condition(r.get(CM, "issuers", name)).get("status") == "False" and bool(
            r.list(CM, "certificaterequests")
        )

    return check


def _issuance_failed(cert: str) -> Callable[[Reader], bool]:
    def check(r: Reader) -> bool:
        obj = r.get(CM, "certificates", cert) or {}
        return int(obj.get("status", {}).get("failedIssuanceAttempts", 0) or 0) >= 1

    return check


def _challenge_errored(needle: str = "") -> Callable[[Reader], bool]:
    def check(r: Reader) -> bool:
        return any(
            needle in str(ch.get("status", {}).get("reason", ""))
            and ch.get("status", {}).get("reason")
            for ch in r.list(ACME, "challenges")
        )

    return check


def _cluster_issuer_not_ready(name: str) -> Callable[[Reader], bool]:
    def check(r: Reader) -> bool:
        ready = condition(r.cluster_get(CM, "clusterissuers", name))
        return ready.get("status") == "False" and bool(r.list(CM, "certificaterequests"))

    return check


def webhook_groups(objs: ObjectSet) -> set[str]:
    """API groups of the webhook DNS-01 solvers of the issuers in ``objs``."""
    groups = set()
    for kind in ("Issuer", "ClusterIssuer"):
        for iss in objs.of_kind(kind):
            for solver in iss.get("spec", {}).get("acme", {}).get("solvers", []) or []:
                group = solver.get("dns01", {}).get("webhook", {}).get("groupName")
                if group:
                    groups.add(str(group))
    return groups


def _order_event(reason: str) -> Callable[[Reader], bool]:
    def check(r: Reader) -> bool:
        return bool(r.events("Order", reason))

    return check


def _webhook_unavailable_settled(r: Reader) -> bool:
    svc = r.cluster_get("apiregistration.k8s.io", "apiservices", WEBHOOK_APISERVICE)
    # MissingEndpoints once kube-controller-manager has written the Service's (empty)
    # EndpointSlice; EndpointsNotFound for the second before
    available = condition(svc, "Available")
    return available.get("reason") == "MissingEndpoints" and _challenge_errored()(r)


def _shared_settled(r: Reader) -> bool:
    alpha = condition(r.get(CM, "certificates", "alpha"))
    beta = condition(r.get(CM, "certificates", "beta"))
    return alpha.get("status") == "True" and beta.get("status") == "False"


def _ca_keypair_overwritten(r: Reader) -> bool:
    return _certs_ready("intranet")(r) and (
        condition(r.get(CM, "issuers", "team-ca")).get("status") == "False"
    )


def _key_change_settled(r: Reader) -> bool:
    return bool(r.events("Certificate", "CannotRegenerateKey"))


def _revision_at_least(cert: str, revision: int) -> Callable[[Reader], bool]:
    def check(r: Reader) -> bool:
        obj = r.get(CM, "certificates", cert) or {}
        return int(obj.get("status", {}).get("revision", 0) or 0) >= revision

    return check


SCENARIOS: tuple[LabScenario, ...] = (
    LabScenario(
        "lab-pki-healthy",
        "lab-pki",
        "SelfSigned root, CA issuer, leaf certificate: all Ready",
        "A self-signed root CA certificate backs a CA Issuer that signs a leaf certificate.",
        (),
        _pki,
        _certs_ready("root-ca", "web"),
        healthy=True,
    ),
    LabScenario(
        "lab-ca-missing-secret",
        "lab-ca-missing",
        "CA issuer whose key pair Secret does not exist",
        "The CA Issuer names a Secret nobody created; cert-manager keeps the issuer not Ready "
        "and the CertificateRequest waits for it.",
        ("CA_ISSUER_SECRET_NOT_FOUND",),
        _ca_missing,
        _issuer_not_ready("team-ca"),
    ),
    LabScenario(
        "lab-ca-key-mismatch",
        "lab-ca-mismatch",
        "CA Secret holds a key that does not match its certificate",
        "A CA rotation stored the new certificate with the old private key: the issuer looks "
        "Ready, signing fails, and the Certificate backs off for an hour.",
        ("CA_ISSUER_KEYPAIR_INVALID", "CERTIFICATE_REQUEST_FAILED", "ISSUANCE_BACKOFF"),
        _ca_key_mismatch,
        _issuance_failed("payments"),
    ),
    LabScenario(
        "lab-acme-http01-404",
        "lab-http01",
        "ACME HTTP-01: the ingress controller answers 404",
        "web.lab.test resolves to an ingress controller that does not route the solver path; "
        "cert-manager's self check gets 404 and the Challenge never gets presented to Pebble.",
        ("HTTP01_SELF_CHECK_404",),
        _http01,
        _challenge_errored("404"),
    ),
    LabScenario(
        "lab-acme-dns01",
        "lab-dns01",
        "ACME DNS-01 via RFC2136 to bind9: issued end to end",
        "cert-manager writes the TXT record with a TSIG-signed update, Pebble validates it, "
        "the certificate is issued.",
        (),
        _dns01,
        _certs_ready("api"),
        healthy=True,
    ),
    LabScenario(
        "lab-acme-dns01-bad-tsig",
        "lab-dns01-bad",
        "ACME DNS-01: the TSIG secret is wrong",
        "The RFC2136 solver signs its update with the wrong TSIG secret; bind9 refuses it "
        "and the Challenge stays pending with the DNS server's error.",
        ("DNS01_PROVIDER_CREDENTIALS_INVALID",),
        _dns01_bad_tsig,
        _challenge_errored(),
    ),
    LabScenario(
        "lab-acme-unreachable",
        "lab-unreachable",
        "ACME ClusterIssuer whose server does not answer",
        "The ClusterIssuer points at a loopback port where nothing listens: the ACME account "
        "cannot be registered, the ClusterIssuer is not Ready.",
        ("ACME_SERVER_UNREACHABLE",),
        _unreachable,
        _cluster_issuer_not_ready(UNREACHABLE_ISSUER),
    ),
    LabScenario(
        "lab-acme-order-rejected",
        "lab-order-rejected",
        "ACME server rejects the order",
        f"Pebble's policy forbids {BLOCKED_DOMAIN}; the Order fails, the CertificateRequest fails "
        "and the Certificate backs off.",
        ("ACME_ORDER_FAILED", "CERTIFICATE_REQUEST_FAILED", "ISSUANCE_BACKOFF"),
        _order_rejected,
        _issuance_failed("blocked"),
    ),
    LabScenario(
        "lab-acme-no-matching-solver",
        "lab-no-solver",
        "ACME issuer whose only solver's selector excludes the name",
        f"The DNS-01 solver is limited to dnsZones internal.{LAB_ZONE}; portal.{LAB_ZONE} is "
        "outside it, so cert-manager cannot pick a solver and the Order stays pending.",
        ("ACME_NO_MATCHING_SOLVER",),
        _no_matching_solver,
        _order_event("Solver"),
    ),
    LabScenario(
        "lab-acme-wildcard-http01",
        "lab-wildcard",
        "Wildcard certificate on an issuer with only an HTTP-01 solver",
        "The ACME server offers only dns-01 for a wildcard identifier; the issuer has only an "
        "HTTP-01 solver, so no Challenge can be created and the Order stays pending.",
        ("ACME_WILDCARD_NEEDS_DNS01",),
        _wildcard_http01,
        _order_event("Solver"),
    ),
    LabScenario(
        "lab-acme-dns01-webhook-down",
        WEBHOOK_NAMESPACE,
        "DNS-01 webhook solver whose APIService has no endpoints",
        f"The webhook solver's API ({WEBHOOK_APISERVICE}) is served by a Service without "
        "endpoints: the aggregator marks it not Available and every Challenge fails to present.",
        ("DNS01_WEBHOOK_SOLVER_UNAVAILABLE",),
        _webhook_unavailable,
        _webhook_unavailable_settled,
    ),
    LabScenario(
        "lab-secret-shared",
        "lab-shared-secret",
        "Two Certificates write the same Secret",
        "alpha and beta name one secretName; cert-manager issues for the older one and keeps "
        "the other not Ready: the Secret was issued for somebody else (so it also does "
        "not match beta's spec).",
        ("SECRET_SHARED_BY_CERTIFICATES", "SECRET_MISMATCH"),
        _shared_secret,
        _shared_settled,
    ),
    LabScenario(
        "lab-secret-is-ca-keypair",
        "lab-ca-keypair",
        "A Certificate issued by a CA issuer into that issuer's own key pair Secret",
        "intranet's secretName is the CA Issuer's secretName: issuing the leaf replaces the "
        "CA's certificate and key with the leaf the CA just signed.",
        ("CA_ISSUER_KEYPAIR_INVALID", "SECRET_IS_CA_ISSUER_KEYPAIR"),
        _into_ca_keypair,
        _ca_keypair_overwritten,
    ),
    LabScenario(
        "lab-secret-is-acme-account",
        "lab-acme-account",
        "A Certificate whose Secret is the ACME issuer's account key",
        "portal's secretName is the ACME Issuer's privateKeySecretRef: issuance replaces the "
        "account key the issuer registered with.",
        ("SECRET_IS_ACME_ACCOUNT_KEY",),
        _into_acme_account,
        _certs_ready("portal"),
        advance=_then_write_account_secret,
    ),
    LabScenario(
        "lab-key-cannot-regenerate",
        "lab-key-never",
        "Key algorithm changed on a Certificate with rotationPolicy Never",
        "legacy was issued with an RSA key and rotationPolicy Never; then spec.privateKey was "
        "changed to ECDSA. cert-manager may not make a new key, so it never re-issues.",
        ("PRIVATE_KEY_CANNOT_REGENERATE",),
        _key_algorithm_change,
        _key_change_settled,
        advance=_switch_to_ecdsa,
    ),
    LabScenario(
        "lab-renewal-loop",
        "lab-renewal-loop",
        "renewBefore almost as long as the duration: renewal right after every issuance",
        "flappy asks for 1h certificates renewed 59m50s before they end: cert-manager renews "
        "10 s after each issuance, forever.",
        ("CERTIFICATE_RENEWAL_LOOP",),
        _renewal_loop,
        _revision_at_least("flappy", 3),
    ),
    LabScenario(
        "lab-acme-eab-required",
        "lab-eab",
        "ACME server requires External Account Binding",
        "The second Pebble only accepts accounts bound to an external account (EAB); the "
        "issuer presents none, so registration is refused and the issuer is not Ready.",
        ("ACME_ACCOUNT_REGISTRATION_REJECTED",),
        _eab_required,
        _issuer_not_ready("partner-acme"),
    ),
)

BY_NAME = {s.name: s for s in SCENARIOS}


# --------------------------------------------------------------------------- apply / teardown


def _create(api: client.ApiClient, obj: Obj, namespace: str) -> None:
    """Create one input object; the client accepts plain dicts as bodies."""
    kind = obj["kind"]
    body: Any = obj
    custom = client.CustomObjectsApi(api)
    if kind == "Secret":
        client.CoreV1Api(api).create_namespaced_secret(namespace, body)
    elif kind == "Service":
        client.CoreV1Api(api).create_namespaced_service(namespace, body)
    elif kind == "APIService":
        try:
            custom.create_cluster_custom_object(
                "apiregistration.k8s.io", "v1", "apiservices", body
            )
        except ApiException as err:
            if err.status != 409:
                raise
    elif kind == "ClusterIssuer":
        custom.create_cluster_custom_object(CM, "v1", "clusterissuers", body)
    else:
        plural = {"Issuer": "issuers", "Certificate": "certificates"}[kind]
        custom.create_namespaced_custom_object(CM, "v1", namespace, plural, body)


def _ensure_namespace(api: client.ApiClient, name: str) -> None:
    body: Any = {"metadata": {"name": name, "labels": {"certdoctor.test/lab": "true"}}}
    try:
        client.CoreV1Api(api).create_namespace(body)
    except ApiException as err:
        if err.status != 409:
            raise


def allow_namespace_deletion(api: client.ApiClient) -> None:
    """Let kube-controller-manager's namespace controller empty namespaces.

    The test control plane runs it with its own credentials
    (``--use-service-account-credentials=false``) as ``system:kube-controller-manager``,
    whose built-in role cannot ``deletecollection``, so namespaces holding objects stay
    Terminating forever. Bind that user to cluster-admin (idempotent; redundant once
    the control plane runs the controllers with their own service accounts).
    """
    binding: Any = {
        "metadata": {
            "name": "certdoctor-lab-namespace-deletion",
            "labels": {"certdoctor.test/lab": "true"},
        },
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "cluster-admin",
        },
        "subjects": [
            {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "User",
                "name": "system:kube-controller-manager",
            }
        ],
    }
    try:
        client.RbacAuthorizationV1Api(api).create_cluster_role_binding(binding)
    except ApiException as err:
        if err.status != 409:
            raise


def apply_scenarios(
    api: client.ApiClient, lab: LabState, scenarios: tuple[LabScenario, ...] = SCENARIOS
) -> None:
    """Create each scenario's namespace and inputs, plus the shared IngressClass."""
    _ensure_namespace(api, CLUSTER_RESOURCE_NAMESPACE)
    try:
        ingress_class: Any = {
            "metadata": {"name": INGRESS_CLASS, "labels": {"certdoctor.test/lab": "true"}},
            "spec": {"controller": "k8s.io/ingress-nginx"},
        }
        client.NetworkingV1Api(api).create_ingress_class(ingress_class)
    except ApiException as err:
        if err.status != 409:
            raise
    for scenario in scenarios:
        _ensure_namespace(api, scenario.namespace)
        for obj in scenario.build(lab):
            _create(api, obj, scenario.namespace)


def wait_settled(
    api: client.ApiClient, timeout: float = 90, scenarios: tuple[LabScenario, ...] = SCENARIOS
) -> dict[str, bool]:
    """Wait until every scenario shows the state it is about; returns name → settled."""
    done = {s.name: False for s in scenarios}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(done.values()):
        for scenario in scenarios:
            if not done[scenario.name]:
                with contextlib.suppress(ApiException):
                    reader = Reader(api, scenario.namespace)
                    if scenario.advance is None or scenario.advance(reader):
                        done[scenario.name] = scenario.settled(reader)
        time.sleep(0.5)
    return done


def _strip_finalizers(api: client.ApiClient, namespace: str) -> None:
    """Last resort: a Challenge whose cleanup cannot succeed (wrong TSIG) keeps its finalizer."""
    custom = client.CustomObjectsApi(api)
    listed = cast(Obj, custom.list_namespaced_custom_object(ACME, "v1", namespace, "challenges"))
    for ch in listed.get("items", []):
        if ch["metadata"].get("finalizers"):
            try:
                custom.patch_namespaced_custom_object(
                    ACME,
                    "v1",
                    namespace,
                    "challenges",
                    ch["metadata"]["name"],
                    {"metadata": {"finalizers": None}},
                )
            except ApiException as err:
                if err.status != 404:
                    raise


def delete_scenarios(
    api: client.ApiClient, timeout: float = 60, scenarios: tuple[LabScenario, ...] = SCENARIOS
) -> list[str]:
    """Delete everything the lab created (run while the controller still runs, so it can
    release its finalizers); returns the namespaces still present afterwards."""
    core = client.CoreV1Api(api)
    custom = client.CustomObjectsApi(api)
    namespaces = [s.namespace for s in scenarios] + [CLUSTER_RESOURCE_NAMESPACE]
    # first: while an aggregated API is unavailable, the namespace controller's discovery
    # fails and no namespace finishes deleting
    try:
        custom.delete_cluster_custom_object(
            "apiregistration.k8s.io", "v1", "apiservices", WEBHOOK_APISERVICE
        )
    except ApiException as err:
        if err.status != 404:
            raise
    for ns in namespaces:
        try:
            core.delete_namespace(ns)
        except ApiException as err:
            if err.status != 404:
                raise
    for delete in (
        lambda: custom.delete_cluster_custom_object(CM, "v1", "clusterissuers", UNREACHABLE_ISSUER),
        lambda: client.NetworkingV1Api(api).delete_ingress_class(INGRESS_CLASS),
    ):
        try:
            delete()
        except ApiException as err:
            if err.status != 404:
                raise
    # events about cluster-scoped objects land in "default", which is not deleted
    with contextlib.suppress(ApiException):
        core.delete_collection_namespaced_event(
            "default",
            field_selector=f"involvedObject.kind=ClusterIssuer,involvedObject.name={UNREACHABLE_ISSUER}",
        )
    start = time.monotonic()
    deadline = start + timeout
    next_strip = start + 8
    while True:
        left = [ns for ns in namespaces if _exists(core, ns)]
        if not left or time.monotonic() > deadline:
            return left
        if time.monotonic() > next_strip:
            # again and again: a Challenge the namespace controller has not marked for
            # deletion yet gets its finalizer back from cert-manager on its next sync
            for ns in left:
                _strip_finalizers(api, ns)
            next_strip = time.monotonic() + 5
        time.sleep(0.5)


def _exists(core: client.CoreV1Api, namespace: str) -> bool:
    try:
        core.read_namespace(namespace)
    except ApiException as err:
        if err.status == 404:
            return False
        raise
    return True


def snapshot(api: client.ApiClient, namespace: str) -> ObjectSet:
    """One LIST per watch of ``kinds.ALL_KINDS`` through the official client, as plain dicts.

    Each watch is listed where the tool lists it (``Kind.namespace_for``: the view's
    namespace, or all namespaces / one fixed namespace for the "cluster" facts such as
    cert-manager's Deployments and webhook solvers' APIServices), with its label and field
    selectors and its client-side ``keep``/``strip``. Secrets come whole (the tests read
    ``tls.crt``). The result carries each object's ``kind``/``apiVersion`` (LIST items do not).
    """
    objs = ObjectSet()
    for kind in ALL_KINDS:
        where = kind.namespace_for(namespace)
        if where:
            path = f"{kind.path}/namespaces/{where}/{kind.plural}"
        else:
            path = f"{kind.path}/{kind.plural}"
        query = [("labelSelector", kind.label_selector)] if kind.label_selector else []
        if kind.field_selector:
            query.append(("fieldSelector", kind.field_selector))
        method, url, headers, body, _ = api.param_serialize(
            "GET",
            path,
            query_params=query,
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        resp = api.call_api(method, url, header_params=headers, body=body)
        resp.read()
        if resp.status == 404 and (kind.optional or not kind.crd):
            continue
        if resp.status != 200:
            raise ApiException(status=resp.status, reason=resp.reason)
        data = json.loads(resp.data or b"{}")
        for item in data.get("items", []):
            item.setdefault("kind", kind.name)
            item.setdefault("apiVersion", kind.api_version)
            if kind.keep is not None and not kind.keep(item):
                continue
            objs.add(kind.strip(item) if kind.strip is not None else item, kind.name)
    return objs
