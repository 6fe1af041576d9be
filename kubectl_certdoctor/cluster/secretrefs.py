"""Which Secrets the tool reads, and what of them.

Secrets are listed and watched as metadata only (names, labels, annotations); the data
is fetched (one GET each) only for the Secrets cert-manager uses — those Certificates,
Issuers and ClusterIssuers point at, those cert-manager annotated, and the CA Secrets
named by cert-manager's ``inject-ca-from-secret`` annotations on webhook configurations
and APIServices (the webhook CA, whose ``ca.crt`` a rule compares with the caBundle).
Of those only the public ``tls.crt``/``ca.crt`` are kept: ``strip_secret`` runs on the
GET's answer before anything else sees it, so private keys and unrelated credentials
never reach the store, the screens or a bundle, and unrelated Secrets' data never
crosses the wire at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubectl_certdoctor.objects import Obj, as_dict, dig, name, namespace, text
from kubectl_certdoctor.versions import expand_arg

#: the only Secret data keys anything in the tool needs
PUBLIC_KEYS = ("tls.crt", "ca.crt")
#: a ref key for Secrets of ClusterIssuers: they live in cert-manager's
#: cluster resource namespace, which we may not know, so they match any namespace
ANY_NS = "*"

SecretKey = tuple[str, str]


def strip_secret(obj: Obj) -> Obj:
    """A copy of a Secret without any data except the public certificates, and without
    the last-applied annotation (it would hold the whole Secret)."""
    out = {k: v for k, v in obj.items() if k not in ("data", "stringData")}
    data = as_dict(obj.get("data"))
    out["data"] = {k: data[k] for k in PUBLIC_KEYS if isinstance(data.get(k), str)}
    md = dict(as_dict(obj.get("metadata")))
    md.pop("managedFields", None)
    ann = as_dict(md.get("annotations"))
    if "kubectl.kubernetes.io/last-applied-configuration" in ann:
        md["annotations"] = {k: v for k, v in ann.items()
                             if k != "kubectl.kubernetes.io/last-applied-configuration"}
    out["metadata"] = md
    return out


def has_cert_manager_annotation(obj: Obj) -> bool:
    ann = as_dict(dig(obj, "metadata", "annotations"))
    return any(str(k).startswith(("cert-manager.io/", "acme.cert-manager.io/")) for k in ann)


def _secret_names(spec: Any, depth: int = 0) -> Iterator[str]:
    """Every Secret name an issuer spec refers to: ``*SecretRef.name`` anywhere (ACME
    account key, DNS-01 provider credentials, Vault auth, caBundleSecretRef …) and
    ``secretName`` (CA issuer, Vault clientCertificate)."""
    if depth > 12:
        return
    if isinstance(spec, dict):
        for k, v in spec.items():
            if k == "secretName" and isinstance(v, str) and v:
                yield v
            elif (k.endswith("SecretRef") or k == "secretRef") and isinstance(v, dict) \
                    and text(v.get("name")):
                yield text(v.get("name"))
            else:
                yield from _secret_names(v, depth + 1)
    elif isinstance(spec, list):
        for v in spec:
            yield from _secret_names(v, depth + 1)


INJECT_FROM_SECRET = "cert-manager.io/inject-ca-from-secret"
#: kinds whose objects name Secrets (``refs_of``)
REF_KINDS = frozenset({"Certificate", "Issuer", "ClusterIssuer", "ValidatingWebhookConfiguration",
                       "MutatingWebhookConfiguration", "APIService"})


def refs_of(kind: str, obj: Obj) -> frozenset[SecretKey]:
    """The Secrets one Certificate, Issuer, ClusterIssuer or CA-injected object points at."""
    if kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService"):
        ref = text(as_dict(dig(obj, "metadata", "annotations")).get(INJECT_FROM_SECRET))
        ns, _, nm = ref.partition("/")
        return frozenset({(ns, nm)}) if ns and nm else frozenset()
    if kind == "Certificate":
        sn = text(dig(obj, "spec", "secretName"))
        return frozenset({(namespace(obj), sn)}) if sn else frozenset()
    if kind == "Issuer":
        return frozenset((namespace(obj), n) for n in _secret_names(dig(obj, "spec")))
    if kind == "ClusterIssuer":
        return frozenset((ANY_NS, n) for n in _secret_names(dig(obj, "spec")))
    return frozenset()


def is_wanted(secret: Obj, refs: Any) -> bool:
    """Keep a Secret when something points at it or cert-manager annotated it.
    ``refs`` supports ``in`` on (namespace, name) keys."""
    key = (namespace(secret), name(secret))
    return key in refs or (ANY_NS, key[1]) in refs or has_cert_manager_annotation(secret)


def _arg(args: list[Any], flag: str) -> str | None:
    for i, a in enumerate(args):
        a = text(a)
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
        if a == flag and i + 1 < len(args):
            return text(args[i + 1])
    return None


def cluster_resource_namespace(deployments: Any) -> str | None:
    """Where ClusterIssuers' Secrets live: the controller's ``--cluster-resource-namespace``,
    else the controller's own namespace (cert-manager's default); None when no controller
    Deployment is known."""
    for dep in deployments:
        lb = as_dict(dig(dep, "metadata", "labels"))
        containers = [c for c in dig(dep, "spec", "template", "spec", "containers") or []
                      if isinstance(c, dict)]
        is_ctrl = (lb.get("app.kubernetes.io/component") == "controller"
                   or lb.get("app") == "cert-manager" or name(dep) == "cert-manager"
                   or any("cert-manager-controller" in text(c.get("image")) for c in containers))
        if not is_ctrl:
            continue
        for c in containers:
            v = _arg(list(c.get("args") or []), "--cluster-resource-namespace")
            if v:
                # the chart passes $(POD_NAMESPACE): expand it as the kubelet does
                v = expand_arg(dep, v)
                return v if "$(" not in v else namespace(dep) or None
        return namespace(dep) or None
    return None
