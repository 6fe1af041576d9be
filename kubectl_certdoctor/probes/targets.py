"""Derive probe parameters from the objects the user selected.

A Challenge gives the domain, token and key; an Order or Certificate leads
to its Challenges; an Issuer gives the ACME server / Vault address and the
account details; the cert-manager controller Deployment gives the proxy env
and DNS settings; LoadBalancer Services and Gateways give entry points.
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

from kubectl_certdoctor.objects import (
    Obj,
    ObjectSet,
    Ref,
    as_dict,
    as_list,
    dig,
    labels,
    name,
    namespace,
    owner_refs,
    text,
)
from kubectl_certdoctor.objects import (
    annotations as obj_annotations,
)
from kubectl_certdoctor.probes.base import Params

CHALLENGE_PATH = "/.well-known/acme-challenge/"


def challenge_url(domain: str, token: str, port: int = 80) -> str:
    hostport = domain if port == 80 else f"{domain}:{port}"
    return f"http://{hostport}{CHALLENGE_PATH}{token}"


def find_controller(objs: ObjectSet) -> Obj | None:
    """The cert-manager controller Deployment (not the webhook or cainjector)."""
    best: Obj | None = None
    for d in objs.of_kind("Deployment"):
        lb = labels(d)
        comp = lb.get("app.kubernetes.io/component", "")
        if comp == "controller" or (not comp and name(d) == "cert-manager"):
            return d
        if lb.get("app.kubernetes.io/name") == "cert-manager" and best is None:
            best = d
    return best


def controller_env(dep: Obj | None) -> dict[str, str]:
    """Literal env values of the controller container (valueFrom entries are skipped)."""
    if dep is None:
        return {}
    out: dict[str, str] = {}
    for c in as_list(dig(dep, "spec", "template", "spec", "containers")):
        for e in as_list(dig(c, "env")):
            if isinstance(e, dict) and "value" in e:
                out[text(e.get("name"))] = text(e.get("value"))
        break
    return out


def proxy_settings(dep: Obj | None) -> tuple[str, str, str]:
    """(HTTP_PROXY, HTTPS_PROXY, NO_PROXY) as Go reads them (upper case wins)."""
    env = controller_env(dep)

    def get(k: str) -> str:
        return env.get(k) or env.get(k.lower(), "")

    return get("HTTP_PROXY"), get("HTTPS_PROXY"), get("NO_PROXY")


def _issuer_for(objs: ObjectSet, ref: Ref) -> Obj | None:
    obj = objs.get(ref.kind, ref.namespace, ref.name)
    if obj is not None and ref.kind in ("Issuer", "ClusterIssuer"):
        return obj
    if obj is None:
        return None
    # Certificate / CertificateRequest / Order / Challenge: follow issuerRef
    iref = as_dict(dig(obj, "spec", "issuerRef"))
    kind = text(iref.get("kind")) or "Issuer"
    if kind == "ClusterIssuer":
        return objs.get("ClusterIssuer", "", text(iref.get("name")))
    return objs.get("Issuer", namespace(obj), text(iref.get("name")))


def _challenges_for(objs: ObjectSet, ref: Ref) -> list[Obj]:
    if ref.kind == "Challenge":
        ch = objs.get("Challenge", ref.namespace, ref.name)
        return [ch] if ch else []
    chs = [c for c in objs.of_kind("Challenge") if namespace(c) == ref.namespace]
    if ref.kind == "Order":
        return [c for c in chs if any(o.get("name") == ref.name for o in owner_refs(c))]
    obj = objs.get(ref.kind, ref.namespace, ref.name)
    if obj is None:
        return []
    if ref.kind == "Certificate":
        names = {text(x) for x in as_list(dig(obj, "spec", "dnsNames"))}
        orders = {name(o) for o in objs.of_kind("Order") if namespace(o) == ref.namespace
                  and obj_annotations(o).get("cert-manager.io/certificate-name") == ref.name}
        return [c for c in chs if text(dig(c, "spec", "dnsName")) in names
                or any(o.get("name") in orders for o in owner_refs(c))]
    return []


def entry_points(objs: ObjectSet) -> dict[str, str]:
    """Every LoadBalancer Service ingress and Gateway address → where it came from."""
    out: dict[str, str] = {}
    for s in objs.of_kind("Service"):
        if text(dig(s, "spec", "type")) != "LoadBalancer":
            continue
        for ing in as_list(dig(s, "status", "loadBalancer", "ingress")):
            addr = text(dig(ing, "ip")) or text(dig(ing, "hostname"))
            if addr:
                out.setdefault(addr, f"Service {namespace(s)}/{name(s)}")
    for g in objs.of_kind("Gateway"):
        for a in as_list(dig(g, "status", "addresses")):
            v = text(dig(a, "value"))
            if v:
                out.setdefault(v, f"Gateway {namespace(g)}/{name(g)}")
    return out


def issuer_targets(issuer: Obj) -> list[str]:
    """The URLs an issuer needs to reach: the ACME directory or Vault's health endpoint."""
    server = text(dig(issuer, "spec", "acme", "server"))
    if server:
        return [server]
    vault = text(dig(issuer, "spec", "vault", "server"))
    if vault:
        return [vault.rstrip("/") + "/v1/sys/health"]
    return []


def _ca_pem(issuer: Obj) -> str:
    raw = text(dig(issuer, "spec", "acme", "caBundle")) or text(dig(issuer, "spec", "vault",
                                                                    "caBundle"))
    if not raw:
        return ""
    try:
        return base64.b64decode(raw).decode("ascii", "replace")
    except ValueError:
        return ""


def params_from(objs: ObjectSet, ref: Ref | None) -> Params:
    """Everything we can say about ``ref`` (or the whole snapshot when None)."""
    p = Params()
    dep = find_controller(objs)
    p.http_proxy, p.https_proxy, p.no_proxy = proxy_settings(dep)
    if dep is not None:
        p.origin.append(f"proxy env from Deployment {namespace(dep)}/{name(dep)}")
        dns_cfg = as_dict(dig(dep, "spec", "template", "spec", "dnsConfig"))
        p.search = [text(x) for x in as_list(dns_cfg.get("searches"))]
        for o in as_list(dns_cfg.get("options")):
            if text(dig(o, "name")) == "ndots":
                p.ndots = int(text(dig(o, "value")) or 5)
        if not p.search:
            # ClusterFirst: the kubelet writes these (plus the node's own search domains)
            ns = namespace(dep) or "cert-manager"
            p.search = [f"{ns}.svc.cluster.local", "svc.cluster.local", "cluster.local"]
    cm_ns = namespace(dep) if dep is not None else "cert-manager"
    p.internal_targets = ["https://kubernetes.default.svc:443",
                          f"https://cert-manager-webhook.{cm_ns}.svc:443"]
    api_svc = objs.get("Service", "default", "kubernetes")
    ip = text(dig(api_svc, "spec", "clusterIP")) if api_svc else ""
    if ip and ip != "None":
        p.internal_targets.append(f"https://{ip}:443")
    eps = entry_points(objs)
    p.candidates = list(eps)
    p.candidate_sources = eps
    issuers = [_issuer_for(objs, ref)] if ref is not None else (
        objs.of_kind("ClusterIssuer") + objs.of_kind("Issuer"))
    for iss in issuers:
        if iss is None:
            continue
        p.targets += [t for t in issuer_targets(iss) if t not in p.targets]
        if not p.server:
            p.server = text(dig(iss, "spec", "acme", "server"))
            p.account_uri = text(dig(iss, "status", "acme", "uri"))
            p.email = text(dig(iss, "spec", "acme", "email"))
            p.registered_email = text(dig(iss, "status", "acme", "lastRegisteredEmail"))
            p.account_secret = text(dig(iss, "spec", "acme", "privateKeySecretRef", "name"))
            p.ca_pem = _ca_pem(iss)
            if p.account_secret:
                sec_ns = namespace(iss) or (namespace(dep) if dep else "cert-manager")
                p.account_secret = f"{sec_ns}/{p.account_secret}"
                if "Secret" in objs.kinds() or objs.of_kind("Secret"):
                    p.account_secret_found = objs.get("Secret", sec_ns,
                                                      p.account_secret.split("/", 1)[1]) is not None
            p.origin.append(f"issuer {iss.get('kind')}/{name(iss)}")
    all_chs = _challenges_for(objs, ref) if ref is not None else objs.of_kind("Challenge")
    for c in all_chs:
        d = text(dig(c, "spec", "dnsName"))
        if d and d not in p.challenge_domains:
            p.challenge_domains.append(d)
    if ref is not None:
        chs = all_chs
        if chs:
            ch = chs[0]
            p.domain = text(dig(ch, "spec", "dnsName"))
            p.token = text(dig(ch, "spec", "token"))
            p.key = text(dig(ch, "spec", "key"))
            p.challenge_type = text(dig(ch, "spec", "type"))
            if p.challenge_type != "DNS-01":
                p.url = challenge_url(p.domain, p.token)
            p.origin.append(f"Challenge {namespace(ch)}/{name(ch)}")
        else:
            obj = objs.get(ref.kind, ref.namespace, ref.name)
            names = [text(x) for x in as_list(dig(obj, "spec", "dnsNames"))] if obj else []
            if names:
                p.domain = names[0]
    if not p.domain and p.server:
        p.domain = urlsplit(p.server).hostname or ""
    return p


def params_from_target(target: str) -> Params:
    """A host or URL typed on the command line."""
    p = Params()
    if "://" in target:
        parts = urlsplit(target)
        p.url = target
        p.domain = parts.hostname or ""
        if parts.port:
            p.port = parts.port
        if parts.path.startswith(CHALLENGE_PATH):
            p.token = parts.path[len(CHALLENGE_PATH):]
        p.targets = [target]
        p.server = target
    else:
        p.domain = target.strip().rstrip("/")
        p.targets = [f"https://{p.domain}/"]
    return p

