"""ACME account rules: the account key Secret cannot be read, the CA refuses registration.

pkg/issuer/acme/setup.go (v1.4.0 … v1.21.1):

* reading the account private key (``keyFromSecret``) fails → reason ErrVerifyACMEAccount,
  "Failed to verify ACME account: <err>". The Secret lister GETs un-labelled Secrets from the
  API server (internal/informers/core_filteredsecrets.go, v1.12.0+, on by default from
  v1.16.0), so a network error here is the controller → API server path: typically an
  HTTP(S)_PROXY whose NO_PROXY lacks the API server's address. ``acme.account_reading``
  separates it from the v1.0–v1.3 wording of an ACME-server failure.
* ``registerAccount`` answers 4xx → "Failed to register ACME account: <status> <type>:
  <detail>", returned with a nil error: not requeued until the Issuer changes. The External
  Account Binding key errors (Secret missing, key missing, "failed to decode external account
  binding key data") take the same path (v1.0–v1.3: "External Account Binding MAC key is
  invalid: …").
"""

from __future__ import annotations

import re
from datetime import datetime

from kubectl_certdoctor.graph import Graph
from kubectl_certdoctor.noproxy import bypass_entry, proxy_env, proxy_for
from kubectl_certdoctor.objects import Obj, dig, text
from kubectl_certdoctor.rules.acme import (
    KEY_UNREADABLE,
    account_reading,
    acme_network_error,
)
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.proxy import targets
from kubectl_certdoctor.rules.util import cond_ev, cond_text, network_error
from kubectl_certdoctor.versions import controller_env

_PROBLEM = re.compile(r"\b(4\d\d)\s+urn:ietf:params:acme:error:([A-Za-z]+)", re.I)
_ANY_PROBLEM = re.compile(r"urn:ietf:params:acme:error:([A-Za-z]+)", re.I)
#: problem types the CA only sends for a request it will never accept as it is
_CLIENT_PROBLEMS = {
    "invalidcontact": "invalidContact", "unsupportedcontact": "unsupportedContact",
    "externalaccountrequired": "externalAccountRequired", "unauthorized": "unauthorized",
    "malformed": "malformed", "badpublickey": "badPublicKey", "accountdoesnotexist":
    "accountDoesNotExist", "useractionrequired": "userActionRequired",
    "badsignaturealgorithm": "badSignatureAlgorithm",
}
_EAB = ("external account binding", "eab ")
_ACTIONS = {
    "invalidContact": "Fix spec.acme.email: the CA refused the contact address (a real "
                      "mailbox on a public domain, no typo, no example.com).",
    "unsupportedContact": "Use a mailto: contact the CA supports (spec.acme.email only).",
    "externalAccountRequired": "This CA needs External Account Binding: set "
                               "spec.acme.externalAccountBinding (keyID, keySecretRef) with "
                               "the EAB credentials from the CA's console.",
    "eab": "Check spec.acme.externalAccountBinding: the keyID and the HMAC key in the "
           "referenced Secret must be a current, unused pair from the CA (base64url, no "
           "padding or newline); create a fresh EAB pair if it was already bound.",
    "userActionRequired": "Accept the CA's new terms of service / follow the instance URL in "
                          "the message.",
}


def _problem(msg: str) -> str | None:
    """The 4xx problem (or EAB key error) that makes registration final; None otherwise."""
    low = msg.lower()
    if any(w in low for w in _EAB):
        return "eab"
    m = _PROBLEM.search(msg)
    if m:
        return _CLIENT_PROBLEMS.get(m.group(2).lower(), m.group(2))
    m2 = _ANY_PROBLEM.search(msg)
    if m2 and m2.group(1).lower() in _CLIENT_PROBLEMS:
        return _CLIENT_PROBLEMS[m2.group(1).lower()]
    return None


def registration_rejected(issuer: Obj) -> tuple[str, str] | None:
    """(problem, message) when the ACME account registration was refused for good."""
    if not isinstance(dig(issuer, "spec", "acme"), dict):
        return None
    st, reason, msg = cond_text(issuer, "Ready")
    if st != "False":
        return None
    low = msg.lower()
    if reason != "ErrRegisterACMEAccount" and "failed to register acme account" not in low \
            and "external account binding" not in low:
        return None
    if network_error(msg):
        return None
    p = _problem(msg)
    if p is None:
        return None
    eab = p == "eab" or "eab" in low.replace("external account binding", "eab")
    if p in ("unauthorized", "malformed") and eab:
        p = "eab"
    return p, msg


def explained_issuer(graph: Graph, issuer: Obj) -> bool:
    """A not-Ready issuer one of the ACME account codes already explains."""
    return acme_network_error(graph, issuer) is not None or \
        registration_rejected(issuer) is not None


def _secret(graph: Graph, kind: str, issuer: Obj) -> str:
    nm = text(dig(issuer, "spec", "acme", "privateKeySecretRef", "name")) or "(unnamed)"
    ns = text(dig(issuer, "metadata", "namespace")) if kind == "Issuer" else \
        graph.cluster_resource_namespace
    return f"{ns}/{nm}" if ns else nm


def acme_account_key_secret_unreadable(graph: Graph, now: datetime) -> list[Finding]:
    """"Failed to verify ACME account" + network error on a v1.4+ (or unknown) controller:
    the API server, not the ACME server, is out of reach."""
    out: list[Finding] = []
    env = controller_env(graph.objs)
    proxied = any(proxy_env(env).values())
    api: list[tuple[str, str]] | None = None  # read only when an issuer is hit (every Service)
    for kind in ("ClusterIssuer", "Issuer"):
        for node in graph.of_kind(kind):
            obj = node.obj or {}
            hit = acme_network_error(graph, obj)
            if hit is None:
                continue
            code, notes = account_reading(graph, obj)
            if code != KEY_UNREADABLE:
                continue
            if api is None:
                api = [(u, why) for u, why in targets(graph) if "API server" in why]
            err, evidence = hit
            secret = _secret(graph, kind, obj)
            ev = [evidence, *notes]
            gaps = [(u, proxy_for(u, env)) for u, _ in api] if proxied else []
            gaps = [(u, p) for u, p in gaps if p]
            if gaps:
                np = proxy_env(env)["NO_PROXY"]
                ev.append(f"controller NO_PROXY={np!r}")
                ev += [f"{u} → proxy {p}" for u, p in gaps]
                route = (f"The controller sends API server requests through its proxy "
                         f"({gaps[0][1]}): NO_PROXY does not cover "
                         f"{', '.join(u for u, _ in gaps)}, and a proxy usually cannot reach "
                         "the cluster-internal API server.")
            elif proxied:
                route = ("The controller's NO_PROXY covers the API server, so look at "
                         "NetworkPolicies and the API server's health.")
            else:
                route = ("No proxy is configured: look at NetworkPolicies on the cert-manager "
                         "namespace and the API server's health.")
            entries = sorted({bypass_entry(u) for u, _ in (gaps or api)})
            out.append(make(KEY_UNREADABLE, node.ref, ev,
                            data={"secret": secret, "proxied": [u for u, _ in gaps]},
                            kind=kind, name=node.ref.name, secret=secret, error=err,
                            route=route, api_entries=",".join(entries)))
    return out


def acme_account_registration_rejected(graph: Graph, now: datetime) -> list[Finding]:
    """A 4xx (or an EAB key error) at account registration: final until the spec changes."""
    out: list[Finding] = []
    for kind in ("ClusterIssuer", "Issuer"):
        for node in graph.of_kind(kind):
            obj = node.obj or {}
            hit = registration_rejected(obj)
            if hit is None:
                continue
            problem, msg = hit
            label = "External Account Binding" if problem == "eab" else problem
            action = _ACTIONS.get(problem, f"Fix what the CA reported ({label}) in the "
                                           "issuer's spec.acme.")
            detail = msg.split(": ", 1)[1] if ": " in msg else msg
            ev = [cond_ev(kind, obj, "Ready")]
            email = text(dig(obj, "spec", "acme", "email"))
            if problem in ("invalidContact", "unsupportedContact") and email:
                ev.append(f"{kind}.spec.acme.email: {email!r}")
            eab = dig(obj, "spec", "acme", "externalAccountBinding")
            if problem in ("eab", "externalAccountRequired"):
                ev.append(f"{kind}.spec.acme.externalAccountBinding: "
                          + ("set" if isinstance(eab, dict) else "not set"))
            out.append(make("ACME_ACCOUNT_REGISTRATION_REJECTED", node.ref, ev,
                            data={"problem": problem}, kind=kind, name=node.ref.name,
                            problem=label, detail=detail, action=action))
    return out
