"""Vault issuer rules: authentication failing, and a path on /issue/ instead of /sign/.

Messages (github.com/cert-manager/cert-manager):

* ``pkg/internal/vault/vault.go@v1.0.4`` … ``internal/vault/vault.go@v1.12.0 … v1.21.1``:
  AppRole login "error logging in to Vault server: <Vault API error>"; Kubernetes auth
  "error calling Vault server: …" (wrapped by "error reading Kubernetes service account
  token from <secret>: " at v1.0.4, by "while requesting a Vault token using the Kubernetes
  auth: " from v1.12); the serviceAccountRef TokenRequest "while requesting a token for the
  service account ns/name: …"; client-certificate and AWS auth (v1.14+/v1.19+) "error
  calling Vault server: …" / "while requesting a Vault token using the AWS auth: …";
  credentials Secret problems "could not access secret '…'" / "no data for \"key\" in
  secret '…'".
* ``pkg/issuer/vault/setup.go@v1.0.4 … v1.21.1``: Issuer Ready=False reason ``VaultError``,
  "Failed to initialize Vault client: …"; the issuer controller's Warning Event
  ``ErrInitIssuer`` "Error initializing issuer: …".
* ``pkg/controller/certificaterequests/vault/vault.go@v1.0.4 … v1.21.1``: request
  "Failed to initialise vault client for signing: …" (reason Pending) and "Vault failed to
  sign certificate: failed to sign certificate by vault: …" (reason Failed).
* Vault's own texts inside those (Vault API error "URL: PUT …/v1/auth/approle/login
  Code: 400/403. Errors: * invalid role or secret ID / invalid secret id / permission
  denied"; Kubernetes auth "service account name not authorized", "service account
  namespace not authorized", "invalid role name"…).
* The Vault issuer posts the CSR to ``spec.vault.path`` (internal/vault/vault.go Sign:
  ``/v1/<path>`` with ``csr``): ``pki/issue/<role>`` makes Vault generate its own key and
  ignore the CSR, so the Secret's key and certificate never match ("Issuing certificate as
  Secret contains a private key that does not match the certificate" / "… invalid
  key-pair: tls: private key does not match public key", InvalidKeyPair) and cert-manager
  re-issues in a loop (cert-manager issues #4091, #5087; website #1625).
"""

from __future__ import annotations

import re
from datetime import datetime

from kubectl_certdoctor.graph import Graph, subtree
from kubectl_certdoctor.objects import Obj, Ref, as_dict, dig, text
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.util import cond_ev, cond_text, field_ev, is_current_request

#: (lower-case fragment, what it means): cert-manager's login wrappers and Vault's answers
AUTH_FRAGMENTS: tuple[tuple[str, str], ...] = (
    ("invalid role or secret id", "AppRole login refused: wrong roleId or secretId"),
    ("invalid secret id", "AppRole login refused: the secretId is wrong or expired"),
    ("failed to validate secretid", "AppRole login refused: the secretId is not valid for "
                                    "the roleId"),
    ("service account name not authorized", "Kubernetes auth refused: the service account "
                                            "is not in the role's "
                                            "bound_service_account_names"),
    ("service account namespace not authorized", "Kubernetes auth refused: the namespace is "
                                                 "not in the role's "
                                                 "bound_service_account_namespaces"),
    ("invalid role name", "Kubernetes auth refused: the role does not exist in Vault"),
    ("invalid audience", "Kubernetes auth refused: the token's audience does not match the "
                         "role"),
    ("claim \"aud\"", "Kubernetes auth refused: the token's audience does not match the "
                      "role"),
    ("while requesting a token for the service account", "cert-manager could not create a "
                                                         "token for the service account "
                                                         "(RBAC: create serviceaccounts/token)"),
    ("error reading kubernetes service account token", "Kubernetes auth failed"),
    ("while requesting a vault token using the kubernetes auth", "Kubernetes auth failed"),
    ("while requesting a vault token using the aws auth", "AWS auth failed"),
    ("error logging in to vault server", "AppRole login failed"),
    ("error calling vault server", "Vault login failed"),
    ("missing client token", "no Vault token was sent"),
    ("invalid token", "the Vault token is invalid"),
    ("bad token", "the Vault token is invalid"),
)
#: a credentials Secret cert-manager could not read (initialising the client)
SECRET_FRAGMENTS = ("could not access secret", "no data for")
_STATUS = re.compile(r"code:\s*(\d{3})", re.I)
SIGN_FAILED = "failed to sign certificate by vault"


def _is_vault(issuer: Obj | None) -> bool:
    return issuer is not None and bool(dig(issuer, "spec", "vault"))


def auth_method(issuer: Obj) -> str:
    auth = as_dict(dig(issuer, "spec", "vault", "auth"))
    for key, label in (("tokenSecretRef", "token"), ("appRole", "AppRole"),
                       ("kubernetes", "Kubernetes"), ("clientCertificate",
                                                      "client certificate"),
                       ("aws", "AWS")):
        if auth.get(key):
            return label
    return "unknown"


def auth_failure(message: str, issuer: Obj) -> str:
    """What the message says about Vault authentication ('' when it is not about it)."""
    low = message.lower()
    if "vault" not in low and "/v1/auth/" not in low and "approle" not in low:
        return ""
    # a network error reaching Vault is not an authentication failure
    code = _STATUS.search(message)
    for frag, meaning in AUTH_FRAGMENTS:
        if frag in low:
            if frag in ("error logging in to vault server", "error calling vault server",
                        "error reading kubernetes service account token",
                        "while requesting a vault token using the kubernetes auth",
                        "while requesting a vault token using the aws auth") and \
                    code is None and "permission denied" not in low:
                continue  # e.g. "dial tcp …: i/o timeout": a reachability problem
            return meaning
    if "/v1/auth/" in low and code is not None and code.group(1) in ("400", "401", "403"):
        return f"Vault refused the login (HTTP {code.group(1)})"
    if any(f in low for f in SECRET_FRAGMENTS) and "initiali" in low:
        return "the credentials Secret could not be read"
    if SIGN_FAILED in low and code is not None and code.group(1) == "403" and \
            "permission denied" in low and auth_method(issuer) == "token":
        return ("Vault answered 403 permission denied to the token: it is expired/revoked, "
                "or its policy lacks update on the sign path")
    return ""


def _issuer_label(kind: str, ns: str, name: str) -> str:
    return f"{kind} {ns}/{name}" if ns else f"{kind} {name}"


def vault_auth_failed(graph: Graph, now: datetime) -> list[Finding]:
    """A Vault issuer (its Ready condition or ErrInitIssuer Events) says authentication to
    Vault failed. WIDE: reports on issuers (the requests' side is
    ``vault_auth_failed_requests``, a chain rule)."""
    out: list[Finding] = []
    for kind in ("ClusterIssuer", "Issuer"):
        for node in graph.of_kind(kind):
            obj = node.obj or {}
            if not _is_vault(obj):
                continue
            st, _, msg = cond_text(obj, "Ready")
            meaning = auth_failure(msg, obj) if st == "False" else ""
            ev = [cond_ev(kind, obj, "Ready")] if meaning else []
            if not meaning and st != "True":
                for e in graph.events_for(node.ref):
                    m = text(e.get("message"))
                    if text(e.get("type")) == "Warning" and auth_failure(m, obj):
                        meaning = auth_failure(m, obj)
                        ev = [f"Event {text(e.get('reason'))} on {kind} {node.ref.name}: {m}"]
                        break
            if not meaning:
                continue
            ev.append(f"auth method: {auth_method(obj)}")
            out.append(_finding(node.ref, ev, meaning, obj, kind, node.ref.namespace,
                                node.ref.name))
    return out


def vault_auth_failed_requests(graph: Graph, now: datetime) -> list[Finding]:
    """A current CertificateRequest for a Vault issuer says authentication failed (token
    auth fails only at signing time). CHAIN: reports on the request, reads its issuer."""
    out: list[Finding] = []
    for node in graph.of_kind("CertificateRequest"):
        obj = node.obj or {}
        if not is_current_request(graph, node):
            continue
        ir, iss = graph.issuer_for(obj)
        if iss is None or not _is_vault(iss):
            continue
        st, _, msg = cond_text(obj, "Ready")
        if st != "False":
            continue
        meaning = auth_failure(msg, iss)
        if not meaning:
            continue
        # a Ready issuer logged in at its last sync (setup.go initialises the client, which
        # logs in) — the request saw a transient failure, unless token auth, which setup
        # never checks against Vault
        if cond_text(iss, "Ready")[0] == "True" and auth_method(iss) != "token":
            continue
        ev = [cond_ev("CertificateRequest", obj, "Ready"), f"auth method: {auth_method(iss)}"]
        out.append(_finding(node.ref, ev, meaning, iss, ir.ref.kind, ir.ref.namespace,
                            ir.ref.name))
    return out


def _finding(ref: Ref, ev: list[str], meaning: str, iss: Obj, kind: str, ns: str,
             name: str) -> Finding:
    auth = as_dict(dig(iss, "spec", "vault", "auth"))
    method = auth_method(iss)
    detail = {
        "token": f"the token in Secret {text(dig(auth, 'tokenSecretRef', 'name'))!s}",
        "AppRole": f"AppRole roleId {text(dig(auth, 'appRole', 'roleId'))} (mount "
                   f"{text(dig(auth, 'appRole', 'path')) or 'approle'}) with the secretId in "
                   f"Secret {text(dig(auth, 'appRole', 'secretRef', 'name'))}",
        "Kubernetes": f"Kubernetes auth role {text(dig(auth, 'kubernetes', 'role'))} (mount "
                      f"{text(dig(auth, 'kubernetes', 'mountPath')) or '/v1/auth/kubernetes'})",
    }.get(method, f"{method} auth")
    f = make("VAULT_AUTH_FAILED", ref, ev,
             data={"issuer": _issuer_label(kind, ns, name), "auth": method},
             issuer=_issuer_label(kind, ns, name), meaning=meaning, method=method,
             credentials=detail, server=text(dig(iss, "spec", "vault", "server")))
    if "serviceaccounts/token" in meaning:
        from dataclasses import replace

        f = replace(f, remedy=token_rbac_remedy(" ".join(ev), iss, ns))
    return f


_FORBIDDEN_USER = re.compile(r'User\s+\\?"([^"\\]+)\\?"\s+cannot create resource', re.I)
_FORBIDDEN_NS = re.compile(r'in the namespace\s+\\?"([^"\\]+)', re.I)


def token_rbac_remedy(message: str, iss: Obj, issuer_ns: str) -> str:
    """serviceAccountRef (v1.12+: internal/vault/vault.go requestTokenWithKubernetesAuth
    "while requesting a token for the service account %s/%s") needs cert-manager to create
    a token for that ServiceAccount (TokenRequest: create serviceaccounts/token); the Helm
    chart grants it to no ServiceAccount, so the user adds a Role and RoleBinding."""
    sa = text(dig(iss, "spec", "vault", "auth", "kubernetes", "serviceAccountRef", "name")) \
        or "<serviceaccount>"
    u = _FORBIDDEN_USER.search(message)
    user = u.group(1) if u else "system:serviceaccount:cert-manager:cert-manager"
    n = _FORBIDDEN_NS.search(message)
    where = n.group(1) if n else (issuer_ns or "the cluster resource namespace (cert-manager)")
    parts = user.split(":")
    subject = (f"ServiceAccount {parts[3]} in namespace {parts[2]}"
               if len(parts) == 4 and parts[1] == "serviceaccount" else f"user {user}")
    return (f"Kubernetes RBAC, not Vault: cert-manager ({user}) may not create tokens for "
            f"ServiceAccount {sa}. Create a Role in namespace {where} with rules apiGroups "
            f"[\"\"], resources [serviceaccounts/token], verbs [create], resourceNames [{sa}], "
            f"and a RoleBinding in {where} binding it to {subject}; the issuer recovers on its "
            f"next sync (then clear failed requests and renew).")


def issue_path(path: str) -> bool:
    """``pki/issue/role`` or ``pki/issuer/ref/issue/role``: the role segment follows 'issue'."""
    parts = [p for p in path.strip().strip("/").split("/") if p]
    return len(parts) >= 2 and parts[-2] == "issue"


KEYPAIR_FRAGMENTS = ("private key does not match", "invalid key-pair", "invalidkeypair")


def vault_path_issue_not_sign(graph: Graph, now: datetime) -> list[Finding]:
    """spec.vault.path names Vault's /issue/ endpoint: Vault ignores the CSR and generates
    its own key, so the certificate never matches cert-manager's key (WIDE: reports on the
    issuer, reads its Certificates)."""
    out: list[Finding] = []
    for kind in ("ClusterIssuer", "Issuer"):
        for node in graph.of_kind(kind):
            obj = node.obj or {}
            path = text(dig(obj, "spec", "vault", "path"))
            if not path or not issue_path(path):
                continue
            ev = [field_ev(kind, "spec.vault.path", path)]
            for n in subtree(node):
                if n.ref.kind != "Certificate":
                    continue
                for ctype in ("Issuing", "Ready"):
                    msg = cond_text(n.obj or {}, ctype)[2]
                    if any(f in msg.lower() for f in KEYPAIR_FRAGMENTS) or \
                            cond_text(n.obj or {}, ctype)[1] == "InvalidKeyPair":
                        ev.append(f"Certificate {n.ref.name}: "
                                  + cond_ev("Certificate", n.obj or {}, ctype))
                        break
                if len(ev) >= 3:
                    break
            sign = "/".join(p if i != len(path.strip("/").split("/")) - 2 else "sign"
                            for i, p in enumerate(path.strip("/").split("/")))
            out.append(make("VAULT_PATH_ISSUE_NOT_SIGN", node.ref, ev,
                            data={"path": path, "suggested": sign},
                            kind=kind, name=node.ref.name, path=path, sign_path=sign))
    return out
