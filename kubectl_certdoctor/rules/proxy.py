"""PROXY_NO_PROXY_GAP: in-cluster targets the controller would send through its proxy."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from kubectl_certdoctor.graph import Graph
from kubectl_certdoctor.noproxy import proxy_env, proxy_for
from kubectl_certdoctor.objects import Ref, dig, name, namespace, text
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.util import q
from kubectl_certdoctor.versions import controller_deployment, controller_env

#: the first address of kubeadm's default service CIDR 10.96.0.0/12
DEFAULT_API_IP = "10.96.0.1"
_INTERNAL_SUFFIXES = (".svc", ".cluster.local", ".svc.cluster.local")


def _is_internal(host: str, cluster_ips: set[str]) -> bool:
    h = host.lower().rstrip(".")
    return h.endswith(_INTERNAL_SUFFIXES) or h in cluster_ips


def targets(graph: Graph) -> list[tuple[str, str]]:
    """(URL, why it must bypass the proxy) for every in-cluster endpoint cert-manager calls."""
    api = graph.objs.get("Service", "default", "kubernetes")
    api_ip = text(dig(api, "spec", "clusterIP")) if api else ""
    out = [
        (f"https://{api_ip or DEFAULT_API_IP}:443",
         "the API server's Service IP (in-cluster client-go config uses it)"
         + ("" if api_ip else "; service CIDR assumed 10.96.0.0/12")),
        ("https://kubernetes.default.svc:443", "the API server by name"),
        ("https://kubernetes.default.svc.cluster.local:443", "the API server by full name"),
    ]
    cluster_ips = {text(dig(s, "spec", "clusterIP")) for s in graph.objs.of_kind("Service")}
    cluster_ips.discard("")
    cluster_ips.discard("None")
    for kind in ("ClusterIssuer", "Issuer"):
        for iss in graph.objs.of_kind(kind):
            for path, label in ((("spec", "vault", "server"), "Vault"),
                                (("spec", "acme", "server"), "ACME server"),
                                (("spec", "venafi", "tpp", "url"), "Venafi TPP")):
                url = text(dig(iss, *path))
                try:
                    host = urlsplit(url).hostname or ""
                except ValueError:
                    host = ""
                if url and host and _is_internal(host, cluster_ips):
                    where = f"{namespace(iss)}/{name(iss)}" if namespace(iss) else name(iss)
                    out.append((url, f"{label} of {kind} {where}"))
    return out


def no_proxy_gap(graph: Graph, now: datetime) -> list[Finding]:
    env = controller_env(graph.objs)
    eff = proxy_env(env)
    if not (eff["HTTP_PROXY"] or eff["HTTPS_PROXY"]):
        return []
    gaps = [(u, why) for u, why in targets(graph) if proxy_for(u, env) is not None]
    if not gaps:
        return []
    dep = controller_deployment(graph.objs) or {}
    ref = Ref("Deployment", namespace(dep), name(dep))
    set_vars = [k for k in ("HTTP_PROXY", "HTTPS_PROXY") if eff[k]]
    ev = [f"controller env {k}={q(eff[k])}" for k in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")
          if eff[k] or k == "NO_PROXY"]
    ev += [f"{u} ({why}) → proxy {proxy_for(u, env)}" for u, why in gaps]
    hosts = []
    for u, _ in gaps:
        h = urlsplit(u).hostname or ""
        if h and h not in hosts:
            hosts.append(h)
    return [make("PROXY_NO_PROXY_GAP", ref, ev,
                 data={"targets": [u for u, _ in gaps], "hosts": hosts,
                       "no_proxy": eff["NO_PROXY"]},
                 count=len(gaps), proxy_vars=" and ".join(set_vars),
                 targets=", ".join(u for u, _ in gaps))]
