"""Secret rules: a Certificate's Secret shared, owned by another tool, or someone else's key.

Facts these rules rest on (github.com/cert-manager/cert-manager at the given tags):

* ``internal/controller/certificates/certificates.go@v1.14.0 … v1.21.1``
  (``CertificateOwnsSecret``): when several Certificates in a namespace name one
  ``spec.secretName``, the owner is the one named by the Secret's
  ``cert-manager.io/certificate-name`` annotation, else the oldest (then by name); the
  trigger controller (``pkg/controller/certificates/trigger/trigger_controller.go``) skips
  the others, logging only at debug level "… refers to the same Secret as other
  Certificates in the same namespace, skipping trigger." and re-queues them every 3 minutes.
  Up to v1.13.x there is no such check: each Certificate sees the other's certificate in
  the Secret (IncorrectIssuer / SecretMismatch, "Issuing certificate as Secret was
  previously issued by …") and re-issues, in a loop.
* ``internal/controller/certificates/policies/checks.go@v1.14.0 … v1.21.1``: reason
  ``IncorrectCertificate``, "Secret was issued for \"X\". If this message is not transient,
  you might have two conflicting Certificates pointing to the same secret."; the trigger and
  readiness chains (policies.go) write the violated policy as the Certificate's
  Issuing/Ready condition reason and message (same reasons from
  pkg/controller/certificates/trigger/policies at v1.0.4 … v1.7).
* ``pkg/controller/certificates/keymanager/keymanager_controller.go``: with rotationPolicy
  Never (the default before v1.18.0; from v1.18.0 the default is Always behind the beta
  feature gate DefaultPrivateKeyRotationPolicyAlways, GA and unconditional from v1.20.0 —
  internal/apis/certmanager/v1/defaults.go) a key that no longer matches spec.privateKey is
  never replaced: Warning Event ``CannotRegenerateKey`` "User intervention required: …"
  from v1.9.0, ``DecodeFailed`` "Existing private key in Secret … does not match
  requirements on Certificate resource, mismatching fields: …" at v1.0.0 … v1.8.x; the
  Certificate keeps Issuing=True with reason SecretMismatch "Existing private key is not up
  to date for spec: […]".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kubectl_certdoctor.graph import Graph
from kubectl_certdoctor.objects import (
    Obj,
    as_dict,
    dig,
    labels,
    owner_refs,
    parse_time,
    text,
)
from kubectl_certdoctor.objects import (
    annotations as annotations_of,
)
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.util import cond_ev, cond_text, field_ev
from kubectl_certdoctor.versions import Version, controller_args, controller_version

CERT_NAME_ANN = "cert-manager.io/certificate-name"
#: the first release whose trigger controller skips non-owning Certificates
#: (``CertificateOwnsSecret`` in trigger_controller.go), and its backport to the v1.13 line:
#: present at v1.13.2 and v1.14.0, absent at v1.13.1
OWNER_CHECK = Version(1, 14, 0)
OWNER_CHECK_BACKPORT = Version(1, 13, 2)


def owner_check(version: Version) -> bool:
    """Does this release skip the Certificates that do not own a shared Secret?"""
    if (version.major, version.minor) == (1, 13):
        return version >= OWNER_CHECK_BACKPORT
    return version >= OWNER_CHECK


def _created(obj: Obj) -> str:
    t = parse_time(dig(obj, "metadata", "creationTimestamp"))
    return t.isoformat() if t is not None else "~"  # unknown sorts last, as a zero time won't


def _version_note(graph: Graph) -> tuple[Version | None, str]:
    found = controller_version(graph.objs)
    if found is None:
        return None, "controller version unknown: judged as for the newest release"
    return found[0], f"cert-manager {found[0]} ({found[1]})"


#: (``graph.secret_certs``, its Secrets named by more than one Certificate): a live pass
#: shares that dict with the graph before it unless a Secret name changed (``graph_patch``)
_SHARED: list[Any] = [None, []]


def _shared(graph: Graph) -> list[tuple[tuple[str, str], list[str]]]:
    held, shared = _SHARED
    if held is graph.secret_certs:
        return shared
    shared = sorted((k, ids) for k, ids in graph.secret_certs.items() if len(ids) > 1)
    _SHARED[:] = [graph.secret_certs, shared]
    return shared


def secret_shared_by_certificates(graph: Graph, now: datetime) -> list[Finding]:
    """Two or more Certificates with one spec.secretName in a namespace (WIDE: reads across
    chains). From v1.14.0 (and v1.13.2) only the owner (certificate-name annotation, else the
    oldest) is ever triggered — the others never renew; before, they overwrite each other in
    a loop (internal/controller/certificates/certificates.go@v1.13.2, v1.14.0 … v1.21.1)."""
    out: list[Finding] = []
    version, vnote = _version_note(graph)
    looping = version is not None and not owner_check(version)
    for (ns, secret_name), ids in _shared(graph):
        nodes = [graph.nodes[i] for i in ids if i in graph.nodes]
        if len(nodes) < 2:
            continue
        ordered = sorted(nodes, key=lambda n: (_created(n.obj or {}), n.ref.name))
        names = [n.ref.name for n in ordered]
        sec = graph.objs.get("Secret", ns, secret_name)
        ann = annotations_of(sec) if sec is not None else {}
        annotated = ann.get(CERT_NAME_ANN, "")
        if annotated in names:
            owner = annotated
            owner_why = f"the Secret's {CERT_NAME_ANN} annotation names it"
        else:
            owner = names[0]
            owner_why = "it is the oldest of them (the Secret names none of them)"
        if looping:
            effect = (f"cert-manager {version} has no owner check (added in v1.14.0): each "
                      "Certificate finds the other's certificate in the Secret (IncorrectIssuer"
                      "/SecretMismatch) and re-issues, so they overwrite each other in a loop "
                      "that floods the CA and the API server.")
        else:
            effect = (f"From v1.14.0 cert-manager treats {owner} as the owner and skips the "
                      "trigger of every other one (logged only at debug level): those never "
                      "issue or renew, and their Secret content belongs to another spec.")
        for n in ordered:
            others = [x for x in names if x != n.ref.name]
            ev = [field_ev("Certificate", "spec.secretName", secret_name),
                  f"Certificates in {ns} with secretName {secret_name}: {', '.join(names)}"]
            if sec is not None:
                ev.append(f"Secret {secret_name} annotation {CERT_NAME_ANN}: "
                          f"{annotated or '(absent)'}")
            _, reason, msg = cond_text(n.obj or {}, "Issuing")
            if reason in ("IncorrectCertificate", "IncorrectIssuer", "SecretMismatch") or \
                    "conflicting certificates" in msg.lower():
                ev.append(cond_ev("Certificate", n.obj or {}, "Issuing"))
            else:
                _, reason, _ = cond_text(n.obj or {}, "Ready")
                if reason in ("IncorrectCertificate", "IncorrectIssuer", "SecretMismatch"):
                    ev.append(cond_ev("Certificate", n.obj or {}, "Ready"))
            ev.append(vnote)
            role = ("owns the Secret" if n.ref.name == owner
                    else f"does not own it ({owner} does)")
            out.append(make("SECRET_SHARED_BY_CERTIFICATES", n.ref, ev,
                            data={"secret": secret_name, "certificates": names,
                                  "owner": owner},
                            secret=secret_name, count=len(names), others=", ".join(others),
                            owner=owner, owner_why=owner_why, role=role, effect=effect,
                            name=n.ref.name))
    return out


# -- a Secret another tool writes ---------------------------------------------------------
#: annotation / label prefixes and keys of tools that write Secrets
FOREIGN_ANNOTATIONS = (
    ("meta.helm.sh/release-name", "Helm release"),
    ("sealedsecrets.bitnami.com/", "Sealed Secrets"),
    ("reconcile.external-secrets.io/", "External Secrets Operator"),
    ("externalsecrets.external-secrets.io/", "External Secrets Operator"),
    ("argocd.argoproj.io/tracking-id", "Argo CD"),
    ("kapp.k14s.io/", "kapp"),
    ("kustomize.toolkit.fluxcd.io/", "Flux"),
    ("replicator.v1.mittwald.de/replicated-from", "kubernetes-replicator"),
    ("reflector.v1.k8s.emberstack.com/reflected-from", "Reflector"),
    ("vault.security.banzaicloud.io/", "bank-vaults"),
)
FOREIGN_OWNER_KINDS = {"SealedSecret": "Sealed Secrets", "ExternalSecret":
                       "External Secrets Operator", "VaultStaticSecret": "Vault Secrets Operator",
                       "VaultPKISecret": "Vault Secrets Operator", "HelmRelease": "Flux"}
#: Certificate condition reasons cert-manager writes when the Secret does not match
#: (policies/constants.go@v1.21.1; same strings at v1.0.4 in trigger/policies)
MISMATCH_REASONS = frozenset({
    "SecretMismatch", "IncorrectIssuer", "IncorrectCertificate", "InvalidKeyPair",
    "InvalidCertificate", "MissingData", "SecretManagedMetadataMismatch",
    "SecretTemplateMismatch", "SecretOwnerRefMismatch", "ManagedFieldsParseError",
})


def foreign_signs(secret: Obj, cert_name: str, sharing: list[str]) -> list[str]:
    """Signs that something other than cert-manager writes this Secret."""
    signs: list[str] = []
    ann, lb = annotations_of(secret), labels(secret)
    for key, tool in FOREIGN_ANNOTATIONS:
        for bag, what in ((ann, "annotation"), (lb, "label")):
            hits = sorted(k for k in bag if k == key or (key.endswith("/") and
                                                         k.startswith(key)))
            if hits:
                signs.append(f"{tool} ({what} {hits[0]}: {bag[hits[0]]!r})")
                break
    if lb.get("app.kubernetes.io/managed-by", "").lower() in ("helm", "tiller") and \
            not any(s.startswith("Helm") for s in signs):
        signs.append(f"Helm (label app.kubernetes.io/managed-by: "
                     f"{lb['app.kubernetes.io/managed-by']!r})")
    for o in owner_refs(secret):
        kind = text(o.get("kind"))
        if kind in FOREIGN_OWNER_KINDS:
            signs.append(f"{FOREIGN_OWNER_KINDS[kind]} (ownerReference {kind} "
                         f"{text(o.get('name'))})")
    other = ann.get(CERT_NAME_ANN, "")
    if other and other != cert_name and other not in sharing:
        signs.append(f"annotation {CERT_NAME_ANN}: {other!r} names another Certificate")
    return signs


def _mismatch(obj: Obj) -> tuple[str, str] | None:
    """(condition type, reason) when cert-manager reports the Secret as not matching."""
    for ctype in ("Issuing", "Ready"):
        st, reason, msg = cond_text(obj, ctype)
        want = "True" if ctype == "Issuing" else "False"
        if st == want and (reason in MISMATCH_REASONS or
                           "secret was issued for" in msg.lower() or
                           "previously issued by" in msg.lower()):
            return ctype, reason
    return None


def secret_written_by_other_controller(graph: Graph, now: datetime) -> list[Finding]:
    """The Secret carries another tool's marks (Helm, Sealed Secrets, External Secrets, Argo
    CD, Flux, replicators…) and cert-manager reports it as not matching, so the two
    overwrite each other (CHAIN: reads the Certificate and its own Secret). Reasons from
    internal/controller/certificates/policies/checks.go@v1.14.0 … v1.21.1 and
    pkg/controller/certificates/trigger/policies/policies.go@v1.0.4."""
    out: list[Finding] = []
    for node in graph.of_kind("Certificate"):
        obj = node.obj or {}
        sn = text(dig(obj, "spec", "secretName"))
        sec = graph.objs.get("Secret", node.ref.namespace, sn) if sn else None
        if sec is None:
            continue
        mm = _mismatch(obj)
        if mm is None:
            continue
        sharing = [graph.nodes[i].ref.name for i in
                   graph.secret_certs.get((node.ref.namespace, sn), []) if i in graph.nodes]
        signs = foreign_signs(sec, node.ref.name, sharing)
        if not signs:
            continue
        ev = [cond_ev("Certificate", obj, mm[0]),
              f"Secret {sn}: " + "; ".join(signs)]
        out.append(make("SECRET_WRITTEN_BY_OTHER_CONTROLLER", node.ref, ev,
                        data={"secret": sn, "signs": signs},
                        secret=sn, tool=signs[0].split(" (")[0], signs="; ".join(signs),
                        reason=mm[1] or "mismatch", name=node.ref.name))
    return out


# -- the Secret is an issuer's own key ----------------------------------------------------
def _issuer_secret_ns(graph: Graph, issuer: Obj) -> str:
    if text(issuer.get("kind")) == "ClusterIssuer":
        return graph.cluster_resource_namespace
    return text(dig(issuer, "metadata", "namespace"))


def _issuers(graph: Graph) -> list[Obj]:
    return [o for k in ("Issuer", "ClusterIssuer") for o in graph.objs.of_kind(k)
            if isinstance(o, dict)]


def _ref_str(issuer: Obj) -> str:
    kind = text(issuer.get("kind"))
    ns = text(dig(issuer, "metadata", "namespace"))
    nm = text(dig(issuer, "metadata", "name"))
    return f"{kind} {ns}/{nm}" if ns else f"{kind} {nm}"


def secret_is_acme_account_key(graph: Graph, now: datetime) -> list[Finding]:
    """A Certificate writes into an ACME issuer's account-key Secret (privateKeySecretRef,
    in the Issuer's namespace or the cluster resource namespace for a ClusterIssuer):
    issuance replaces tls.key, so the issuer loses its ACME account key
    (pkg/issuer/acme/setup.go@v1.0.4 … v1.21.1 reads tls.key of that Secret). WIDE: reads
    every issuer."""
    out: list[Finding] = []
    keys: dict[tuple[str, str], list[Obj]] = {}
    for iss in _issuers(graph):
        nm = text(dig(iss, "spec", "acme", "privateKeySecretRef", "name"))
        if nm:
            keys.setdefault((_issuer_secret_ns(graph, iss), nm), []).append(iss)
    for node in graph.of_kind("Certificate"):
        obj = node.obj or {}
        sn = text(dig(obj, "spec", "secretName"))
        hits = keys.get((node.ref.namespace, sn), []) if sn else []
        if not hits:
            continue
        iss = hits[0]
        ev = [field_ev("Certificate", "spec.secretName", sn),
              f"{_ref_str(iss)} spec.acme.privateKeySecretRef.name: {sn!r} "
              f"(namespace {node.ref.namespace})"]
        out.append(make("SECRET_IS_ACME_ACCOUNT_KEY", node.ref, ev,
                        data={"secret": sn, "issuer": _ref_str(iss)},
                        secret=sn, issuer=_ref_str(iss), name=node.ref.name,
                        namespace=node.ref.namespace))
    return out


def secret_is_ca_issuer_keypair(graph: Graph, now: datetime) -> list[Finding]:
    """A Certificate writes into a CA issuer's key pair (spec.ca.secretName): either it is
    issued BY that CA issuer (each issuance replaces the CA with a leaf it signed itself),
    or it is a non-CA certificate overwriting some CA issuer's key pair. The bootstrap
    pattern — an isCA Certificate issued by a selfSigned (or parent CA) issuer whose Secret
    is the CA issuer's key pair — is normal and not reported
    (pkg/issuer/ca/setup.go, pkg/controller/certificaterequests/ca at v1.0.4 … v1.21.1 read
    tls.crt/tls.key of spec.ca.secretName). WIDE: reads every issuer."""
    out: list[Finding] = []
    pairs: dict[tuple[str, str], list[Obj]] = {}
    for iss in _issuers(graph):
        nm = text(dig(iss, "spec", "ca", "secretName"))
        if nm:
            pairs.setdefault((_issuer_secret_ns(graph, iss), nm), []).append(iss)
    for node in graph.of_kind("Certificate"):
        obj = node.obj or {}
        sn = text(dig(obj, "spec", "secretName"))
        hits = pairs.get((node.ref.namespace, sn), []) if sn else []
        if not hits:
            continue
        _, own = graph.issuer_for(obj)
        own_hit = next((h for h in hits if own is not None and _ref_str(h) == _ref_str(own)),
                       None)
        is_ca = dig(obj, "spec", "isCA") is True
        fix_hint = (f"Give Certificate {node.ref.name} its own spec.secretName; restore {sn} "
                    "from the CA Certificate that bootstraps it (or re-import the CA key "
                    f"pair), then renew the certificates {_ref_str(hits[0])} signed.")
        if own_hit is not None:
            iss, how = own_hit, "is issued by that same CA issuer"
        elif not is_ca and own is not None and dig(own, "spec", "selfSigned") is not None:
            # the selfSigned bootstrap of the CA, only without isCA: the key pair is the
            # right one, the certificate just is not a CA
            iss, how = hits[0], ("bootstraps that CA issuer from a selfSigned issuer but lacks "
                                 "spec.isCA: true")
            fix_hint = (f"Set spec.isCA: true on Certificate {node.ref.name} and renew it "
                        f"(cmctl renew {node.ref.name}); then renew the certificates "
                        f"{_ref_str(iss)} signed.")
        elif not is_ca:
            iss, how = hits[0], "is not a CA certificate (isCA unset)"
        else:
            continue  # a CA Certificate issued by another issuer: the bootstrap pattern
        ev = [field_ev("Certificate", "spec.secretName", sn),
              field_ev("Certificate", "spec.issuerRef",
                       as_dict(dig(obj, "spec", "issuerRef"))),
              f"{_ref_str(iss)} spec.ca.secretName: {sn!r}"]
        if dig(obj, "spec", "isCA") is not None:
            ev.append(field_ev("Certificate", "spec.isCA", dig(obj, "spec", "isCA")))
        out.append(make("SECRET_IS_CA_ISSUER_KEYPAIR", node.ref, ev,
                        data={"secret": sn, "issuer": _ref_str(iss)},
                        secret=sn, issuer=_ref_str(iss), how=how, name=node.ref.name,
                        fix_hint=fix_hint))
    return out


# -- private key cannot be regenerated -----------------------------------------------------
KEY_STALE = "existing private key is not up to date for spec"
EVENT_FRAGMENTS = ("cannot create new private key", "does not match requirements on "
                   "certificate resource")
#: the default rotationPolicy became Always in v1.18.0 (feature gate, beta, on by default)
ALWAYS_DEFAULT = Version(1, 18, 0)
#: ... and unconditional (GA, gate locked) in v1.20.0
ALWAYS_GA = Version(1, 20, 0)


def effective_rotation_policy(graph: Graph, cert: Obj) -> tuple[str, str]:
    """(policy, why) as the keymanager applies it (explicit value, else the default of the
    controller's version; unknown version → the newest release's default, Always)."""
    explicit = text(dig(cert, "spec", "privateKey", "rotationPolicy"))
    if explicit:
        return explicit, f"spec.privateKey.rotationPolicy: {explicit}"
    found = controller_version(graph.objs)
    if found is None:
        return "Always", ("rotationPolicy unset; controller version unknown: judged as for the "
                          "newest release (default Always)")
    v = found[0]
    if v < ALWAYS_DEFAULT:
        return "Never", f"rotationPolicy unset; the default is Never before v1.18.0 (runs {v})"
    if v < ALWAYS_GA:
        args = " ".join(controller_args(graph.objs)).replace(" ", "")
        if "DefaultPrivateKeyRotationPolicyAlways=false" in args:
            return "Never", (f"rotationPolicy unset; {v} with feature gate "
                             "DefaultPrivateKeyRotationPolicyAlways=false (default Never)")
    return "Always", f"rotationPolicy unset; the default is Always from v1.18.0 (runs {v})"


def private_key_cannot_regenerate(graph: Graph, now: datetime) -> list[Finding]:
    """spec.privateKey changed while the rotation policy is Never: the keymanager refuses to
    make a new key and issuance never starts (CHAIN: the Certificate, its conditions and
    Events). pkg/controller/certificates/keymanager/keymanager_controller.go@v1.0.4 …
    v1.21.1; "Existing private key is not up to date for spec" from
    internal/controller/certificates/policies/checks.go (trigger/policies at v1.0.4)."""
    out: list[Finding] = []
    for node in graph.of_kind("Certificate"):
        obj = node.obj or {}
        ev: list[str] = []
        event_hit = False
        for e in graph.events_for(node.ref):
            msg = text(e.get("message"))
            if text(e.get("reason")) == "CannotRegenerateKey" or \
                    any(f in msg.lower() for f in EVENT_FRAGMENTS):
                ev.append(f"Event {text(e.get('reason'))} on Certificate {node.ref.name}: "
                          f"{msg}")
                event_hit = True
                break
        cond_hit = ""
        for ctype in ("Issuing", "Ready"):
            if KEY_STALE in cond_text(obj, ctype)[2].lower():
                cond_hit = ctype
                break
        if cond_hit:
            ev.insert(0, cond_ev("Certificate", obj, cond_hit))
        if not event_hit and not cond_hit:
            continue
        policy, why = effective_rotation_policy(graph, obj)
        if not event_hit and policy != "Never":
            continue  # with Always a new key is generated: the mismatch is transient
        ev.append(why)
        pk = as_dict(dig(obj, "spec", "privateKey"))
        shown = {k: pk[k] for k in ("algorithm", "size", "encoding") if k in pk}
        if shown:
            ev.append(field_ev("Certificate", "spec.privateKey", shown))
        sn = text(dig(obj, "spec", "secretName"))
        out.append(make("PRIVATE_KEY_CANNOT_REGENERATE", node.ref, ev,
                        data={"secret": sn, "rotation_policy": policy},
                        secret=sn, name=node.ref.name, policy_why=why,
                        namespace=node.ref.namespace))
    return out
