"""cert-manager's own components: a controller that is not running, a webhook without its CA.

Every condition cert-manager wrote is only as fresh as its controller. When no controller
replica is ready (scaled to zero, crash loop, OOMKilled), every Ready condition in the
tree is stale: the one cause to fix first, and the reason the fallback stays quiet.

The webhook's serving certificate is signed by a CA the webhook keeps in its own Secret
(``<webhook>-ca``; the chart's ``webhook-*-webhook.yaml`` templates annotate the
configurations with ``cert-manager.io/inject-ca-from-secret: <ns>/<webhook>-ca`` from
v1.0.0 to v1.21.1), and cainjector copies that CA into each configuration's
``clientConfig.caBundle`` (annotation constant ``WantInjectFromSecretAnnotation`` in
pkg/apis/certmanager/v1/types.go, same tags). Without it the API server cannot call the
webhook and every create or update of a cert-manager object fails with "x509: certificate
signed by unknown authority".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kubectl_certdoctor.graph import Graph
from kubectl_certdoctor.objects import (
    Obj,
    Ref,
    as_dict,
    as_int,
    as_list,
    b64_bytes,
    dig,
    labels,
    name,
    namespace,
    text,
)
from kubectl_certdoctor.objects import annotations as annotations_of
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.versions import controller_deployment

INJECT_FROM_SECRET = "cert-manager.io/inject-ca-from-secret"
WEBHOOK_KINDS = ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")


def _has_status(dep: Obj) -> bool:
    """A Deployment as the API serves it (hand-written bundles often carry no status)."""
    st = as_dict(dep.get("status"))
    return any(k in st for k in ("replicas", "observedGeneration", "conditions",
                                 "readyReplicas", "availableReplicas"))


def pods_of(graph: Graph, dep: Obj) -> list[Obj]:
    """The Pods a Deployment's selector matches, in its namespace."""
    want = {k: text(v) for k, v in as_dict(dig(dep, "spec", "selector", "matchLabels")).items()}
    if not want:
        return []
    ns = namespace(dep)
    return [p for p in graph.objs.of_kind("Pod")
            if isinstance(p, dict) and namespace(p) == ns
            and all(labels(p).get(k) == v for k, v in want.items())]


def _pod_troubles(pod: Obj) -> list[str]:
    """Why a Pod's containers are not running: CrashLoopBackOff, OOMKilled, image errors."""
    out: list[str] = []
    for cs in as_list(dig(pod, "status", "containerStatuses")):
        cs = as_dict(cs)
        waiting = text(dig(cs, "state", "waiting", "reason"))
        last = text(dig(cs, "lastState", "terminated", "reason"))
        restarts = as_int(cs.get("restartCount"), 0)
        bits = [b for b in (waiting, f"last exit {last}" if last else "",
                            f"{restarts} restarts" if restarts else "") if b]
        if waiting or last == "OOMKilled":
            out.append(f"Pod {name(pod)} container {text(cs.get('name'))}: "
                       + ", ".join(bits))
    return out


@dataclass(frozen=True)
class Down:
    """A component Deployment with no ready replica: what it wants, why, the evidence."""

    want: int
    ready: int
    why: str
    evidence: list[str]


def deployment_down(graph: Graph, dep: Obj | None, max_troubles: int = 20) -> Down | None:
    """Why a component Deployment has no ready replica (None: it has one, or its status is
    unknown — a hand-written Deployment without status says nothing about readiness)."""
    if dep is None or not _has_status(dep):
        return None
    want = as_int(dig(dep, "spec", "replicas"), 1)
    ready = as_int(dig(dep, "status", "readyReplicas"), 0)
    if ready > 0:
        return None
    ev = [f"Deployment {namespace(dep)}/{name(dep)}: spec.replicas {want}, "
          f"status.readyReplicas {ready}"]
    for c in as_list(dig(dep, "status", "conditions")):
        c = as_dict(c)
        if text(c.get("type")) == "Available" and text(c.get("status")) != "True":
            ev.append(f"Deployment.status.conditions[Available]: {text(c.get('status'))}, "
                      f"reason {text(c.get('reason'))}, message "
                      f"{text(c.get('message'))!r}")
    troubles = [t for p in pods_of(graph, dep) for t in _pod_troubles(p)]
    ev.extend(troubles[:max_troubles])
    if want == 0:
        why = "it is scaled to zero"
    elif any("OOMKilled" in t for t in troubles):
        why = "its pod is killed for running out of memory (OOMKilled)"
    elif any("CrashLoopBackOff" in t for t in troubles):
        why = "its pod is crash-looping"
    elif troubles:
        why = "its pod cannot start"
    else:
        why = "no replica is ready"
    return Down(want, ready, why, ev)


def controller_not_running(graph: Graph, now: datetime) -> list[Finding]:
    """CONTROLLER_NOT_RUNNING: the controller Deployment has no ready replica."""
    dep = controller_deployment(graph.objs)
    down = deployment_down(graph, dep)
    if dep is None or down is None:
        return []
    ref = Ref("Deployment", namespace(dep), name(dep))
    return [make("CONTROLLER_NOT_RUNNING", ref, down.evidence,
                 data={"replicas": down.want, "ready": down.ready}, name=name(dep),
                 why=down.why)]


def _pem_bytes(b64: str) -> bytes:
    return (b64_bytes(b64) or b"").strip()


def _cainjector(graph: Graph) -> Obj | None:
    for d in graph.objs.of_kind("Deployment"):
        if not isinstance(d, dict):
            continue
        lb = labels(d)
        if "cainjector" in (lb.get("app.kubernetes.io/component"), lb.get("app"),
                            lb.get("app.kubernetes.io/name")) or name(d).endswith("cainjector"):
            return d
    return None


def webhook_ca_not_injected(graph: Graph, now: datetime) -> list[Finding]:
    """WEBHOOK_CA_NOT_INJECTED: a configuration cainjector should fill has an empty caBundle,
    or one that is not the CA in the Secret it names."""
    out: list[Finding] = []
    inj = _cainjector(graph)
    for kind in WEBHOOK_KINDS:
        for cfg in graph.objs.of_kind(kind):
            if not isinstance(cfg, dict):
                continue
            src = annotations_of(cfg).get(INJECT_FROM_SECRET, "")
            if "/" not in src:
                continue
            sns, sname = src.split("/", 1)
            secret = graph.objs.get("Secret", sns, sname)
            want = _pem_bytes(text(as_dict((secret or {}).get("data")).get("ca.crt")))
            hooks = [as_dict(h) for h in as_list(cfg.get("webhooks"))]
            empty = [text(h.get("name")) for h in hooks
                     if not text(dig(h, "clientConfig", "caBundle"))]
            stale = [text(h.get("name")) for h in hooks
                     if want and text(dig(h, "clientConfig", "caBundle"))
                     and _pem_bytes(text(dig(h, "clientConfig", "caBundle"))) != want]
            if not empty and not stale:
                continue
            ev = [f"{kind} {name(cfg)} annotation {INJECT_FROM_SECRET}: {src}"]
            if empty:
                ev.append(f"webhooks with an empty clientConfig.caBundle: {', '.join(empty)}")
            if stale:
                ev.append(f"webhooks whose caBundle is not Secret {src}'s ca.crt: "
                          f"{', '.join(stale)}")
            if inj is not None and _has_status(inj) and \
                    as_int(dig(inj, "status", "readyReplicas"), 0) == 0:
                ev.append(f"Deployment {namespace(inj)}/{name(inj)} (cainjector) has no ready "
                          "replica")
                ev.extend(t for p in pods_of(graph, inj) for t in _pod_troubles(p))
            why = "an empty caBundle" if empty else "a caBundle that is not the webhook's CA"
            out.append(make("WEBHOOK_CA_NOT_INJECTED", Ref(kind, "", name(cfg)), ev,
                            data={"secret": src}, kind=kind, name=name(cfg), why=why,
                            secret=src))
    return out


def _image_name(image: str) -> str:
    """``quay.io/jetstack/cert-manager-webhook:v1.5.3`` → ``cert-manager-webhook``."""
    return image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]


def webhook_deployment(graph: Graph) -> Obj | None:
    """cert-manager's own webhook Deployment: the chart labels it app=webhook,
    app.kubernetes.io/component=webhook (deploy/charts/cert-manager/templates/
    webhook-deployment.yaml at v1.0.0 … v1.21.1), its image is cert-manager-webhook. DNS-01
    solver webhooks (cert-manager-webhook-<provider> images) are not it."""
    found: list[Obj] = []
    for d in graph.objs.of_kind("Deployment"):
        if not isinstance(d, dict):
            continue
        images = [_image_name(text(as_dict(c).get("image")))
                  for c in as_list(dig(d, "spec", "template", "spec", "containers"))]
        lb = labels(d)
        labelled = lb.get("app.kubernetes.io/component") == "webhook" or \
            lb.get("app") == "webhook"
        solver = any(i.startswith("cert-manager-webhook-") for i in images)
        if "cert-manager-webhook" in images or (labelled and not solver):
            found.append(d)
    return sorted(found, key=name)[0] if found else None


def _blocked_certificates(graph: Graph) -> list[str]:
    """Certificates that want a new CertificateRequest (Issuing=True) and have none for
    the next revision: the create the webhook would have to admit."""
    out: list[str] = []
    for cert in graph.of_kind("Certificate"):
        obj = cert.obj or {}
        if text(dig(condition_of(obj, "Issuing"), "status")) != "True":
            continue
        issued = as_int(dig(obj, "status", "revision"), 0)
        latest = graph.latest_requests.get(cert.id)
        if latest is not None and graph.revisions.get(latest, 0) > issued:
            continue
        out.append(f"Certificate {cert.ref.namespace}/{cert.ref.name}: Issuing=True "
                   f"({text(dig(condition_of(obj, 'Issuing'), 'reason'))}) but no "
                   f"CertificateRequest for revision {issued + 1}")
    return out


def condition_of(obj: Obj, ctype: str) -> Obj:
    for c in as_list(dig(obj, "status", "conditions")):
        if isinstance(c, dict) and text(c.get("type")) == ctype:
            return c
    return {}


def webhook_not_running(graph: Graph, now: datetime) -> list[Finding]:
    """WEBHOOK_NOT_RUNNING: the webhook Deployment has no ready replica. Its
    ValidatingWebhookConfiguration has failurePolicy: Fail (chart template
    webhook-validating-webhook.yaml at v1.0.0 … v1.21.1), so the API server refuses every
    create/update of a cert-manager object: renewals cannot create their
    CertificateRequest. WIDE: reports on the Deployment."""
    dep = webhook_deployment(graph)
    down = deployment_down(graph, dep, max_troubles=3)
    if dep is None or down is None:
        return []
    ev = down.evidence
    for cfg in graph.objs.of_kind("ValidatingWebhookConfiguration"):
        if not isinstance(cfg, dict):
            continue
        for h in as_list(cfg.get("webhooks")):
            h = as_dict(h)
            svc = text(dig(h, "clientConfig", "service", "name"))
            if (svc and svc == name(dep)) or text(h.get("name")) == "webhook.cert-manager.io":
                ev.append(f"ValidatingWebhookConfiguration {name(cfg)} webhook "
                          f"{text(h.get('name'))}: failurePolicy "
                          f"{text(h.get('failurePolicy')) or 'Fail'}")
                break
    blocked = _blocked_certificates(graph)
    ev.extend(blocked[:3])
    ref = Ref("Deployment", namespace(dep), name(dep))
    return [make("WEBHOOK_NOT_RUNNING", ref, ev,
                 data={"replicas": down.want, "ready": down.ready, "blocked": len(blocked)},
                 name=name(dep), namespace=namespace(dep), why=down.why,
                 blocked=f" ({len(blocked)} Certificate(s) wait for a new request)"
                 if blocked else "")]
