"""External issuer rules: CertificateRequests whose issuerRef.group is not cert-manager.io.

cert-manager never signs those itself: each certificaterequests-issuer-* controller skips an
issuerRef whose group it does not own (``pkg/controller/certificaterequests/sync.go`` at
v1.0.4 … v1.21.1, "issuerRef.group" check), and from v1.3.0 only an approved request is
signed (``CertificateRequestConditionApproved`` in
``pkg/apis/certmanager/v1/types_certificaterequest.go`` at v1.3.0 … v1.21.1). The external
controller (aws-privateca-issuer, google-cas-issuer, step-issuer, …) writes the request's
``Ready`` condition with its own reasons and messages; the graph hangs such Certificates
under a ``<Kind>.<group>`` placeholder it does not watch.

Message shapes the external issuers write (public reports):

* aws-privateca-issuer: "issuer is not ready" (aws-privateca-issuer#292); "failed to request
  certificate from PCA: operation error ACM PCA: IssueCertificate, https response error
  StatusCode: 400, …, api error AccessDeniedException: User: arn:aws:sts::…:assumed-role/…
  is not authorized to perform: acm-pca:IssueCertificate on resource: … because no
  resource-based policy allows the acm-pca:IssueCertificate action" (aws-privateca-issuer
  #105, #211, cert-manager#4605).
* google-cas-issuer: "casClient.CreateCertificate failed: rpc error: code = PermissionDenied
  desc = Permission 'privateca.certificates.create' denied on 'projects/…/caPools/…'"
  (google-cas-issuer#46, #61).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from kubectl_certdoctor.graph import Graph, Node, issuer_ref_of
from kubectl_certdoctor.objects import dig
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.util import age, cond_ev, cond_text, field_ev, is_current_request
from kubectl_certdoctor.versions import Version, controller_version

#: an external controller normally answers within seconds; the fallback's grace
GRACE = timedelta(minutes=10)

#: (lower-case fragment, provider) of a permission refusal from the signer's cloud API
DENIED: tuple[tuple[str, str], ...] = (
    ("privateca.certificates.create", "google-cas"),
    ("code = permissiondenied", "google-cas"),
    ("accessdeniedexception", "aws-pca"),
    ("is not authorized to perform: acm-pca:", "aws-pca"),
    ("permissiondenied", "generic"),
    ("permission denied", "generic"),
    ("access denied", "generic"),
    ("accessdenied", "generic"),
    ("is not authorized to perform", "generic"),
    ("forbidden", "generic"),
)
_NOT_READY = re.compile(r"\bissuer\b[^.;]*\bnot\s+ready\b|\bnot\s+ready\b[^.;]*\bissuer\b", re.I)
_HTTP_403 = re.compile(r"\b(?:status ?code:?\s*|code:?\s*|error\s+)403\b", re.I)

REMEDIES = {
    "google-cas": "Grant roles/privateca.certificateRequester on the CA pool{pool} to the "
                  "Google service account google-cas-issuer authenticates as (with workload "
                  "identity: the GSA bound to the issuer's Kubernetes ServiceAccount by "
                  "roles/iam.workloadIdentityUser and the iam.gke.io/gcp-service-account "
                  "annotation), or set the issuer's credentials Secret; then delete request "
                  "{name} so a new one is made.",
    "aws-pca": "Give the IAM role the aws-privateca-issuer Pod runs as (IRSA annotation "
               "eks.amazonaws.com/role-arn on its ServiceAccount, or the node role) "
               "acm-pca:IssueCertificate, acm-pca:GetCertificate and "
               "acm-pca:DescribeCertificateAuthority on the CA ARN{pool}; for a CA shared from "
               "another account also a resource-based policy (AWS RAM share) that allows "
               "acm-pca:IssueCertificate. Then delete request {name} so a new one is made.",
    "generic": "Grant the identity the {kind}.{group} controller uses the signing permission "
               "its CA backend names in the message, then delete request {name} so a new one "
               "is made.",
}


def _external(graph: Graph) -> list[tuple[Node, str, str, str]]:
    """(request, kind, group, issuer name) of every current request for an external issuer."""
    out = []
    for node in graph.of_kind("CertificateRequest"):
        obj = node.obj or {}
        if not is_current_request(graph, node):
            continue
        ir = issuer_ref_of(obj)
        if ir.external:
            out.append((node, ir.kind or "?", ir.group, ir.ref.name))
    return out


def permission_provider(message: str) -> str:
    """Which signer refused for lack of permission ('' when the message is not a refusal)."""
    low = message.lower()
    for frag, provider in DENIED:
        if frag in low:
            return provider
    return "generic" if _HTTP_403.search(message) else ""


def external_issuer_not_responding(graph: Graph, now: datetime) -> list[Finding]:
    """An approved request for an external issuer with no Ready condition after GRACE: the
    external controller is not running, not watching that kind/group, or cannot write
    certificaterequests/status. CHAIN: reads and reports the chain's request only."""
    from kubectl_certdoctor.backoff import human

    found = controller_version(graph.objs)
    approval = found is None or found[0] >= Version(1, 3, 0)
    out: list[Finding] = []
    for node, kind, group, nm in _external(graph):
        obj = node.obj or {}
        if cond_text(obj, "Ready")[0] or cond_text(obj, "Denied")[0] == "True" or \
                cond_text(obj, "InvalidRequest")[0] == "True":
            continue
        if approval and cond_text(obj, "Approved")[0] != "True":
            continue  # CERTIFICATE_REQUEST_NOT_APPROVED names that
        a = age(obj, now)
        if a is None or a < GRACE:
            continue
        ev = [field_ev("CertificateRequest", "spec.issuerRef", dig(obj, "spec", "issuerRef")),
              (cond_ev("CertificateRequest", obj, "Approved") if approval else
               "no approval step before cert-manager v1.3.0")
              + f"; no Ready condition after {human(a)}"]
        out.append(make("EXTERNAL_ISSUER_NOT_RESPONDING", node.ref, ev,
                        data={"kind": kind, "group": group, "issuer": nm},
                        name=node.ref.name, kind=kind, group=group, issuer=nm,
                        age=human(a), namespace=node.ref.namespace))
    return out


def external_issuer_not_ready(graph: Graph, now: datetime) -> list[Finding]:
    """The external controller refused the request because its own issuer object is not
    ready ("issuer is not ready"). CHAIN: reports the chain's request."""
    out: list[Finding] = []
    for node, kind, group, nm in _external(graph):
        obj = node.obj or {}
        st, _, msg = cond_text(obj, "Ready")
        if st != "False" or not _NOT_READY.search(msg) or permission_provider(msg):
            continue
        out.append(make("EXTERNAL_ISSUER_NOT_READY", node.ref,
                        [cond_ev("CertificateRequest", obj, "Ready"),
                         field_ev("CertificateRequest", "spec.issuerRef",
                                  dig(obj, "spec", "issuerRef"))],
                        data={"kind": kind, "group": group, "issuer": nm},
                        name=node.ref.name, kind=kind, group=group, issuer=nm,
                        namespace=node.ref.namespace, message=msg,
                        plural=f"{kind.lower()}s.{group}"))
    return out


def external_issuer_permission_denied(graph: Graph, now: datetime) -> list[Finding]:
    """The external issuer's CA backend (Google CAS, AWS Private CA, …) refused to sign for
    lack of permission. CHAIN: reports the chain's request."""
    out: list[Finding] = []
    for node, kind, group, nm in _external(graph):
        obj = node.obj or {}
        st, _, msg = cond_text(obj, "Ready")
        provider = permission_provider(msg) if st == "False" else ""
        if not provider:
            continue
        m = re.search(r"(projects/[^'\"\s]+/caPools/[^'\"\s]+|arn:aws:acm-pca:[^'\"\s]+)", msg)
        pool = f" {m.group(1)}" if m else ""
        values = {"name": node.ref.name, "kind": kind, "group": group, "pool": pool}
        remedy = REMEDIES[provider].format(**values)
        f = make("EXTERNAL_ISSUER_PERMISSION_DENIED", node.ref,
                 [cond_ev("CertificateRequest", obj, "Ready"),
                  field_ev("CertificateRequest", "spec.issuerRef",
                           dig(obj, "spec", "issuerRef"))],
                 data={"kind": kind, "group": group, "issuer": nm, "provider": provider},
                 name=node.ref.name, kind=kind, group=group, issuer=nm, message=msg,
                 remedy=remedy)
        out.append(f)
    return out


__all__ = ["external_issuer_not_ready", "external_issuer_not_responding",
           "external_issuer_permission_denied", "permission_provider"]
