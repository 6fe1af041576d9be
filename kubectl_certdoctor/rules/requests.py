"""CertificateRequest rules: failed, denied, unapproved, and Vault requests never retried."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from kubectl_certdoctor.graph import Graph, Node, revision_of
from kubectl_certdoctor.objects import dig, text
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.util import age, cond_ev, cond_text, is_current_request
from kubectl_certdoctor.versions import controller_version, vault_retry_fixed

APPROVAL_GRACE = timedelta(minutes=5)
VAULT_INIT = "Failed to initialise vault client for signing"


def _current(graph: Graph) -> list[Node]:
    return [n for n in graph.of_kind("CertificateRequest") if is_current_request(graph, n)]


def request_failed(graph: Graph, now: datetime) -> list[Finding]:
    from kubectl_certdoctor.backoff import certificate_backoff, human

    out: list[Finding] = []
    for node in _current(graph):
        obj = node.obj or {}
        st, reason, msg = cond_text(obj, "Ready")
        if st != "False" or reason != "Failed" or cond_text(obj, "Denied")[0] == "True":
            continue
        cert = graph.parent(node)
        cert_name = cert.ref.name if cert and cert.ref.kind == "Certificate" else "(none)"
        backoff = ""
        if cert is not None and cert.obj is not None:
            bo = certificate_backoff(cert.obj, now, graph.backoff)
            if bo is not None and bo.active:
                backoff = f" (next attempt in {human(bo.remaining)})"
        ev = [cond_ev("CertificateRequest", obj, "Ready")]
        ft = text(dig(obj, "status", "failureTime"))
        if ft:
            ev.append(f"CertificateRequest.status.failureTime: {ft}")
        f = make("CERTIFICATE_REQUEST_FAILED", node.ref, ev,
                 data={"certificate": cert_name},
                 name=node.ref.name, message=msg or "(no message)",
                 revision=revision_of(obj) or "?", certificate=cert_name,
                 backoff=backoff)
        hint = failure_hint(graph, node, cert, msg)
        if hint:
            from dataclasses import replace

            f = replace(f, remedy=f"{hint} {f.remedy}")
        out.append(f)
    return out


_VAULT_PATH = re.compile(r"/v1/(\S+?)/(?:sign|issue|sign-intermediate|sign-verbatim)/(\S+)")
_MIN_BITS = re.compile(r"minimum of (?:a |an )?(\d+)[- ]bit", re.I)
_NOT_ALLOWED = re.compile(r"(?:subject alternate name|common name|ip sans?|uri sans?|name)\s+"
                          r"(\S+)\s+not allowed by this role", re.I)


def failure_hint(graph: Graph, node: Node, cert: Node | None, msg: str) -> str:
    """A concrete first step for failure messages whose cause is known: Vault PKI role
    refusals (Vault's texts inside cert-manager's "Vault failed to sign certificate: failed
    to sign certificate by vault: …", pkg/controller/certificaterequests/vault/vault.go and
    internal/vault/vault.go at v1.0.4 … v1.21.1), and the v1.4.0 "Failed to decode returned
    certificate" bug (pkg/controller/certificaterequests/sync.go@v1.4.0 DecodeError after
    pkg/util/pki EncodeX509Chain dropped leaves whose subject equals their issuer's; fixed by
    commit c686a2f69 in v1.4.1, cert-manager#4142)."""
    from kubectl_certdoctor.versions import Version

    low = msg.lower()
    cert_obj = cert.obj if cert is not None and cert.obj is not None else {}
    cname = cert.ref.name if cert is not None else node.ref.name
    ns = node.ref.namespace
    m = _VAULT_PATH.search(msg)
    role = f"{m.group(1)}/roles/{m.group(2).rstrip('.,')}" if m else "<mount>/roles/<role>"
    if "not allowed by this role" in low:
        n = _NOT_ALLOWED.search(msg)
        what = n.group(1) if n else "the requested name"
        return (f"Vault's PKI role refuses {what}: change the role (`vault read {role}`; "
                f"add the domain to allowed_domains with allow_subdomains=true / "
                f"allow_bare_domains=true, or allow_glob_domains, allow_ip_sans, "
                f"allowed_uri_sans) or request only names the role allows in Certificate "
                f"{ns}/{cname}.")
    if "common_name field is required" in low:
        return (f"Vault's PKI role requires a common name: set spec.commonName on Certificate "
                f"{ns}/{cname}, or set require_cn=false on the role (`vault write {role} "
                f"require_cn=false`).")
    if "role requires a minimum of" in low or ("key_bits" in low and "vault" in low):
        b = _MIN_BITS.search(msg)
        bits = b.group(1) if b else "N"
        pk = dig(cert_obj, "spec", "privateKey")
        cur = (f"{text(dig(pk, 'algorithm')) or 'RSA'} {text(dig(pk, 'size')) or 'default'}"
               if isinstance(pk, dict) else "the default RSA 2048")
        example = (f"RSA {bits}" if bits.isdigit() and int(bits) >= 1024 else
                   f"ECDSA {bits}" if bits in ("256", "384", "521") else "a larger key")
        return (f"Vault's PKI role requires a key of at least {bits} bits, Certificate "
                f"{ns}/{cname} asks for {cur}: set spec.privateKey.algorithm/size to match "
                f"the role's key_type/key_bits (e.g. {example}), or lower "
                f"key_bits on the role (`vault write {role} key_bits=…`).")
    if "failed to decode returned certificate" in low:
        found = controller_version(graph.objs)
        if found is not None and found[0] == Version(1, 4, 0):
            return (f"This is a known cert-manager {found[0]} bug (cert-manager#4142: a "
                    f"returned chain whose certificate has the same subject as its issuer is "
                    f"dropped), fixed in v1.4.1: upgrade the controller to v1.4.1 or later.")
    return ""


def request_denied(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    for node in _current(graph):
        obj = node.obj or {}
        st, _, msg = cond_text(obj, "Denied")
        if st != "True":
            continue
        out.append(make("CERTIFICATE_REQUEST_DENIED", node.ref,
                        [cond_ev("CertificateRequest", obj, "Denied")],
                        name=node.ref.name, message=msg or "no message"))
    return out


def request_not_approved(graph: Graph, now: datetime) -> list[Finding]:
    """Approval (the Approved/Denied conditions) exists from v1.3.0
    (CertificateRequestConditionApproved in pkg/apis/certmanager/v1/types_certificaterequest.go
    at v1.3.0; absent at v1.2.0): an older controller never writes it, and never waits for it."""
    from kubectl_certdoctor.backoff import human
    from kubectl_certdoctor.versions import Version

    found = controller_version(graph.objs)
    if found is not None and found[0] < Version(1, 3, 0):
        return []
    out: list[Finding] = []
    for node in _current(graph):
        obj = node.obj or {}
        if cond_text(obj, "Approved")[0] or cond_text(obj, "Denied")[0]:
            continue
        if cond_text(obj, "Ready")[0] == "True" or cond_text(obj, "InvalidRequest")[0] == "True":
            continue
        a = age(obj, now)
        if a is not None and a < APPROVAL_GRACE:
            continue
        ev = ["CertificateRequest.status.conditions: no Approved or Denied condition"]
        if a is not None:
            ev.append(f"created {human(a)} ago")
        f = make("CERTIFICATE_REQUEST_NOT_APPROVED", node.ref, ev,
                 name=node.ref.name, age=human(a) if a is not None else "a while")
        out.append(_approval_cause(graph, node, f))
    return out


#: approver-policy's kind (group policy.cert-manager.io)
POLICY_KIND = "CertificateRequestPolicy"


def _approval_cause(graph: Graph, node: Node, f: Finding) -> Finding:
    """Name who should have approved: approver-policy installed but no policy applies; the
    built-in approver without RBAC to approve an external issuer's signer (the webhook's
    approval check, pkg/internal/apis/certmanager/validation/plugins/approval.go@v1.4.0,
    internal/webhook/admission/certificaterequest/approval@v1.21.1: "does not have
    permissions to set approved/denied conditions for issuer"); or no approver at all."""
    from dataclasses import replace

    from kubectl_certdoctor.graph import issuer_ref_of
    from kubectl_certdoctor.objects import name as obj_name
    from kubectl_certdoctor.versions import controller_args

    obj = node.obj or {}
    user = text(dig(obj, "spec", "username")) or "the requester (spec.username)"
    ns = node.ref.namespace
    policies = sorted(obj_name(p) for p in graph.objs.of_kind(POLICY_KIND) if obj_name(p))
    args = controller_args(graph.objs)
    controllers = ",".join(a.split("=", 1)[1] for a in args if a.startswith("--controllers="))
    builtin_off = "-certificaterequests-approver" in controllers or (
        bool(controllers) and "*" not in controllers
        and "certificaterequests-approver" not in controllers)
    ir = issuer_ref_of(obj)
    if policies:
        names = ", ".join(policies[:5])
        ev = (*f.evidence, f"{POLICY_KIND} objects (policy.cert-manager.io): {names}",
              f"CertificateRequest.spec.username: {user}")
        return replace(
            f, evidence=ev,
            explanation=(f"approver-policy is installed ({POLICY_KIND} {names}) but no policy "
                         f"applies to this request, so it is neither approved nor denied. "
                         f"approver-policy only evaluates policies that the requester {user} "
                         f"may `use` (RBAC) and whose spec.selector matches issuerRef "
                         f"{ir.kind} {ir.ref.name} and namespace {ns}."),
            remedy=(f"Bind a policy to the requester: a ClusterRole (or Role in {ns}) with "
                    f"apiGroups [policy.cert-manager.io], resources "
                    f"[certificaterequestpolicies], verbs [use], resourceNames "
                    f"[{policies[0]}], bound to {user}; and check that {policies[0]}'s "
                    f"spec.selector.issuerRef (name/kind/group) and namespace selector match "
                    f"{ir.kind} {ir.ref.name} in {ns}. The request is then evaluated; "
                    f"`cmctl approve -n {ns} {node.ref.name}` unblocks it once by hand."))
    if ir.external and not builtin_off:
        signer = f"{ir.kind.lower()}s.{ir.group}/*"
        ev = (*f.evidence, "built-in approver enabled (--controllers does not disable "
                           "certificaterequests-approver)",
              f"CertificateRequest.spec.issuerRef.group: {ir.group}")
        return replace(
            f, evidence=ev,
            explanation=(f"The request is for the external issuer {ir.kind}.{ir.group}. "
                         f"cert-manager's built-in approver tries to approve it, but the "
                         f"webhook only lets a user set Approved when it may `approve` the "
                         f"signer {signer}; the Helm chart grants that for cert-manager.io "
                         f"issuers only, so the request stays unapproved and is never signed."),
            remedy=(f"Grant cert-manager's controller ServiceAccount approval of that signer: "
                    f"a ClusterRole with apiGroups [cert-manager.io], resources [signers], "
                    f"verbs [approve], resourceNames [\"{signer}\"] and a ClusterRoleBinding "
                    f"to ServiceAccount cert-manager in cert-manager's namespace (the external "
                    f"issuer's Helm chart usually has an approverRole option), or approve by "
                    f"hand: `cmctl approve -n {ns} {node.ref.name}`."))
    if builtin_off:
        ev = (*f.evidence, f"controller --controllers={controllers}: built-in approver "
                           f"disabled; no {POLICY_KIND} in view")
        return replace(f, evidence=ev, remedy=(
            f"The built-in approver is disabled (--controllers={controllers}) and no approver "
            f"acts: install approver-policy with a {POLICY_KIND} that allows this request and "
            f"RBAC `use` for {user}, or re-enable the built-in approver; `cmctl approve -n "
            f"{ns} {node.ref.name}` unblocks this one by hand."))
    return f


def vault_not_retried(graph: Graph, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    found = controller_version(graph.objs)
    if found is None:
        return out  # without the version we cannot tell a stuck request from a retried one
    version, source = found
    if vault_retry_fixed(version):
        return out
    for node in _current(graph):
        obj = node.obj or {}
        st, reason, msg = cond_text(obj, "Ready")
        if st != "False" or reason != "Pending" or not msg.startswith(VAULT_INIT):
            continue
        _, issuer = graph.issuer_for(obj)
        if issuer is not None and not dig(issuer, "spec", "vault"):
            continue
        ev = [cond_ev("CertificateRequest", obj, "Ready"), f"cert-manager {version} ({source})"]
        out.append(make("VAULT_PERMISSION_DENIED_NOT_RETRIED", node.ref, ev,
                        data={"version": str(version)},
                        name=node.ref.name, version=str(version), message=msg))
    return out
