"""ACME rules: server reachability, account/server mismatch, failed orders, rate limits.

Which words mean "the ACME server is unreachable" depends on the version
(pkg/issuer/acme/setup.go): v1.0.0 … v1.3.3 wrote registration errors as "Failed to verify
ACME account: …" with reason ErrRegisterACMEAccount; from v1.4.0 registration errors read
"Failed to register ACME account: …" and "Failed to verify …" (reason ErrVerifyACMEAccount)
is the account-key Secret read from the API server (ACME_ACCOUNT_KEY_SECRET_UNREADABLE,
rules/acme_account.py). ``account_reading`` decides between the two.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from kubectl_certdoctor.graph import Graph, Node
from kubectl_certdoctor.noproxy import proxy_env, proxy_for
from kubectl_certdoctor.objects import Obj, dig, text
from kubectl_certdoctor.rules.acme_orders import current_order, specific_order_cause
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.util import (
    cond_ev,
    cond_text,
    field_ev,
    is_current_request,
    network_error,
    q,
)
from kubectl_certdoctor.versions import Version, controller_env, controller_version

ACCOUNT_REASONS = ("ErrRegisterACMEAccount", "ErrVerifyACMEAccount", "ErrInitIssuer")
ACCOUNT_PREFIXES = ("Failed to register ACME account", "Failed to verify ACME account",
                    "Error initializing issuer")
_ACME_ERR = re.compile(r"urn:ietf:params:acme:error:([A-Za-z]+)")
_RETRY_AFTER = re.compile(
    r"retry after:?\s*(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})(?:\s*UTC|Z)?", re.I)


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def acme_network_error(graph: Graph, issuer: Obj) -> tuple[str, str] | None:
    """(error phrase, evidence) when an ACME issuer's account setup fails on the network."""
    server = text(dig(issuer, "spec", "acme", "server"))
    if not server:
        return None
    st, reason, msg = cond_text(issuer, "Ready")
    if st != "False":
        return None
    if reason in ACCOUNT_REASONS or msg.startswith(ACCOUNT_PREFIXES):
        err = network_error(msg)
        if err:
            return err, cond_ev(text(issuer.get("kind")) or "Issuer", issuer, "Ready")
    return None


#: the first release that writes ACME-server errors as "Failed to register ACME account"
REGISTER_PREFIX_SINCE = Version(1, 4, 0)
UNREACHABLE = "ACME_SERVER_UNREACHABLE"
KEY_UNREADABLE = "ACME_ACCOUNT_KEY_SECRET_UNREADABLE"


def account_reading(graph: Graph, issuer: Obj) -> tuple[str, list[str]]:
    """Which code an account network error means, and the evidence for that reading.

    "register" (any version) → the ACME server. "verify" with reason ErrRegisterACMEAccount
    is the v1.0–v1.3 shape of a failed registration → the ACME server. Otherwise "verify"
    on v1.4+ (or an unknown version, judged as the newest) → the Secret read from the API
    server; on ≤v1.3 → the ACME server (setup.go@v1.3.3 also used it for registration)."""
    _, reason, msg = cond_text(issuer, "Ready")
    if not msg.lower().startswith("failed to verify acme account"):
        return UNREACHABLE, []
    found = controller_version(graph.objs)
    if reason == "ErrRegisterACMEAccount":
        note = ("reason ErrRegisterACMEAccount with \"Failed to verify ACME account\" is what "
                "v1.0–v1.3 write when the ACME server call fails (pkg/issuer/acme/setup.go@"
                "v1.3.3)")
        if found is not None and found[0] >= REGISTER_PREFIX_SINCE:
            note += (f"; the controller now runs {found[0]} ({found[1]}), so this condition "
                     "was left by an older release")
        return UNREACHABLE, [note]
    if found is None:
        return KEY_UNREADABLE, [
            "controller version unknown: judged as the newest release, where \"Failed to "
            "verify ACME account\" means reading the account key Secret from the API server "
            "failed; on v1.3 or older the same words meant the ACME server was unreachable"]
    v, src = found
    if v < REGISTER_PREFIX_SINCE:
        return UNREACHABLE, [f"cert-manager {v} ({src}) writes \"Failed to verify ACME "
                             "account\" for a failed ACME server call (setup.go@v1.3.3)"]
    return KEY_UNREADABLE, [f"cert-manager {v} ({src}) writes \"Failed to verify ACME "
                            "account\" only when reading the account key Secret fails "
                            "(setup.go@v1.4.0+); ACME server errors say \"Failed to register\""]


def account_mismatch(issuer: Obj) -> tuple[str, str] | None:
    """(account host, server host) when the registered account belongs to another server."""
    server = text(dig(issuer, "spec", "acme", "server"))
    uri = text(dig(issuer, "status", "acme", "uri"))
    if not server or not uri:
        return None
    a, s = _host(uri), _host(server)
    if a and s and a != s:
        return a, s
    return None


def acme_server_unreachable(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    for kind in ("ClusterIssuer", "Issuer"):
        for node in graph.of_kind(kind):
            obj = node.obj or {}
            hit = acme_network_error(graph, obj)
            if not hit:
                continue
            code, notes = account_reading(graph, obj)
            if code != UNREACHABLE:
                continue
            err, evidence = hit
            server = text(dig(obj, "spec", "acme", "server"))
            ev = [evidence, field_ev(kind, "spec.acme.server", server), *notes]
            for e in graph.events_for(node.ref)[:2]:
                if text(e.get("type")) == "Warning":
                    ev.append(f"Event {text(e.get('reason'))}: {q(text(e.get('message')))}")
            env = controller_env(graph.objs)
            route: str | None = None
            if any(proxy_env(env).values()):
                route = proxy_for(server, env)
                ev.append(f"controller sends {server} "
                          + (f"through proxy {route}" if route else
                             "direct (no proxy applies under Go's NO_PROXY rules)"))
            out.append(make("ACME_SERVER_UNREACHABLE", node.ref, ev,
                            data={"server": server, "host": _host(server), "proxy": route},
                            server=server, error=err))
    return out


def acme_account_server_mismatch(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    for kind in ("ClusterIssuer", "Issuer"):
        for node in graph.of_kind(kind):
            obj = node.obj or {}
            hit = account_mismatch(obj)
            # cert-manager re-registers the same key itself (setup.go: URI cleared); worth a
            # note only while that has not succeeded yet
            if not hit or cond_text(obj, "Ready")[0] == "True":
                continue
            acc, srv = hit
            ev = [field_ev(kind, "status.acme.uri", text(dig(obj, "status", "acme", "uri"))),
                  field_ev(kind, "spec.acme.server", text(dig(obj, "spec", "acme", "server"))),
                  cond_ev(kind, obj, "Ready")]
            secret = text(dig(obj, "spec", "acme", "privateKeySecretRef", "name"))
            out.append(make("ACME_ACCOUNT_SERVER_MISMATCH", node.ref, ev,
                            data={"account_host": acc, "server_host": srv},
                            account_host=acc, server_host=srv, kind=kind,
                            name=node.ref.name, secret=secret or "(unnamed)"))
    return out


def subcause(message: str) -> str:
    """The ACME problem type behind an error message (rateLimited, caa, unauthorized…)."""
    m = _ACME_ERR.search(message)
    if m:
        return m.group(1)
    low = message.lower()
    for words, cause in (
        (("rate limit", "too many certificates", "too many new orders", "too many failed"),
         "rateLimited"),
        (("caa",), "caa"),
        (("unauthorized", "403"), "unauthorized"),
        (("nxdomain", "dns problem", "no valid a records", "servfail"), "dns"),
        (("connection", "timeout", "refused"), "connection"),
    ):
        if any(w in low for w in words):
            return cause
    return "unknown"


def retry_after(message: str) -> datetime | None:
    m = _RETRY_AFTER.search(message)
    if not m:
        return None
    try:
        return datetime.fromisoformat(m.group(1).replace(" ", "T")).replace(tzinfo=UTC)
    except ValueError:
        return None


def _failed_challenge_reason(order: Node) -> str:
    for ch in order.children:
        state = text(dig(ch.obj, "status", "state"))
        if state in ("invalid", "errored"):
            return text(dig(ch.obj, "status", "reason"))
    return ""


def acme_order_failed(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    for node in graph.of_kind("Order"):
        obj = node.obj or {}
        state = text(dig(obj, "status", "state"))
        if state not in ("invalid", "errored") or not current_order(graph, node):
            continue
        if specific_order_cause(graph, node):
            continue  # a more specific code (rules/acme_orders.py) names this failure
        reason = text(dig(obj, "status", "reason"))
        ch_reason = _failed_challenge_reason(node)
        cause = subcause(reason)
        if cause == "unknown" and ch_reason:
            cause = subcause(ch_reason)
        ev = [field_ev("Order", "status.state", state)]
        if reason:
            ev.append(field_ev("Order", "status.reason", reason))
        if ch_reason:
            ev.append(field_ev("Challenge", "status.reason", ch_reason))
        ev.append(f"sub-cause: {cause}")
        out.append(make("ACME_ORDER_FAILED", node.ref, ev, data={"subcause": cause},
                        name=node.ref.name, state=state, subcause=cause,
                        reason=reason or ch_reason or "(no reason recorded)",
                        action=order_action(graph, node, cause, reason or ch_reason)))
    return out


#: the CSR's key refused at finalize (Boulder: badPublicKey "public key is forbidden" /
#: "key too small" / unsupported curve; older servers badCSR "invalid public key in CSR";
#: malformed "certificate public key must be different than account key")
_BAD_KEY = re.compile(r"badpublickey|invalid public key in csr|public key is forbidden|"
                      r"key too small|must be different than account key", re.IGNORECASE)


def order_action(graph: Graph, order: Node, cause: str, message: str) -> str:
    """The remedy for one failed Order: a fresh private key for a refused key, else the
    generic advice."""
    if cause == "badPublicKey" or _BAD_KEY.search(message):
        cert = graph.ancestor(order, "Certificate")
        cobj = cert.obj if cert is not None and isinstance(cert.obj, dict) else {}
        secret = text(dig(cobj, "spec", "secretName")) or "its Secret"
        cname = cert.ref.name if cert is not None else "the Certificate"
        return (f"The ACME server refuses the key in the CSR (reused, blocklisted, the account "
                f"key, or an unsupported size/curve). Let cert-manager generate a fresh key: set "
                f"spec.privateKey.rotationPolicy: Always on Certificate {cname} (the default "
                f"only from v1.18.0), and if Secret {secret} is shared with another tool or is "
                f"the issuer's account key, give the Certificate a secretName of its own "
                f"instead of deleting anything; use RSA 2048/3072/4096 or ECDSA P-256/P-384; "
                f"then renew.")
    return "Address the sub-cause (CAA record, DNS, reachability, rate limit), then renew."


def _rate_limit_message(node: Node) -> tuple[str, str] | None:
    """(field path, message) when the object records a rate-limit error."""
    obj = node.obj or {}
    candidates: list[tuple[str, str]] = []
    if node.ref.kind in ("Order", "Challenge"):
        candidates.append(("status.reason", text(dig(obj, "status", "reason"))))
    if node.ref.kind == "CertificateRequest":
        candidates.append(("status.conditions[Ready].message", cond_text(obj, "Ready")[2]))
    for path, msg in candidates:
        if msg and subcause(msg) == "rateLimited":
            return path, msg
    return None


def acme_rate_limited(graph: Graph, now: datetime) -> list[Finding]:
    """One finding per chain, on the deepest object that carries the rate-limit error."""
    out: list[Finding] = []
    hits: dict[str, tuple[Node, str, str]] = {}
    for kind in ("Challenge", "Order", "CertificateRequest"):
        for node in graph.of_kind(kind):
            if kind == "CertificateRequest" and not is_current_request(graph, node):
                continue
            if kind == "Order" and not current_order(graph, node):
                continue
            if kind == "Challenge" and text(dig(node.obj, "status", "state")) == "valid":
                continue
            # a descendant already carries it: report it there only
            child = next((c for c in node.children if c.id in hits), None)
            if child is not None:
                hits[node.id] = hits[child.id]
                continue
            hit = _rate_limit_message(node)
            if hit is not None:
                hits[node.id] = (node, *hit)
    seen: set[str] = set()
    for node, path, msg in hits.values():
        if node.id in seen:
            continue
        seen.add(node.id)
        when = retry_after(msg)
        retry = f", retry after {when:%Y-%m-%d %H:%M} UTC" if when else ""
        sentence = f"; the limit lifts at {when:%Y-%m-%d %H:%M} UTC" if when else ""
        ev = [field_ev(node.ref.kind, path, msg)]
        data = {"retry_after": when.isoformat() if when else None}
        out.append(make("ACME_RATE_LIMITED", node.ref, ev, data=data,
                        message=msg, retry=retry, retry_sentence=sentence))
    return out
