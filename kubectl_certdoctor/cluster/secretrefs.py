"""Which Secrets the tool may keep, and what of them.

All Secrets arrive in one LIST; only those cert-manager uses are kept (the ones
Certificates and Issuers point at, or that carry cert-manager annotations), and of
those only the public ``tls.crt``/``ca.crt``. Everything else is dropped as soon as
it is decoded, so private keys and unrelated credentials never reach the store,
the screens or a bundle.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubectl_certdoctor.objects import Obj, as_dict, dig, name, namespace, text

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


def refs_of(kind: str, obj: Obj) -> frozenset[SecretKey]:
    """The Secrets one Certificate, Issuer or ClusterIssuer points at."""
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
