"""ingress-shim / gateway-shim rules: an annotated Ingress or Gateway that never gets a
Certificate.

cert-manager's shim (``pkg/controller/ingress-shim/sync.go`` at v1.0.4 … v1.4.x,
``pkg/controller/certificate-shim/sync.go`` from v1.5.0 … v1.21.1) acts on an Ingress or
Gateway only when it carries ``cert-manager.io/issuer`` or ``cert-manager.io/cluster-issuer``
(or an auto-certificate annotation, default ``kubernetes.io/tls-acme: "true"``:
``shouldSync``/``hasShimAnnotation``). It then creates one Certificate per
``spec.tls`` entry (Ingress) or per TLS listener ``certificateRefs`` Secret (Gateway):

* no ``spec.tls`` at all: the loop has nothing to build, no Event, no Certificate (silent);
* a tls entry without ``hosts`` or ``secretName``: ``validateIngressTLSBlock`` rejects it with
  a Warning Event reason ``BadConfig`` ("TLS entry 0 is invalid: …" at v1.2.0, "Skipped a TLS
  block: spec.tls[0].hosts: Required value" from v1.5).

The gateway-shim exists from v1.5.0: behind the feature gate ``ExperimentalGatewayAPISupport``
(default false, ``pkg/feature/features.go@v1.5.0``, ``internal/controller/feature/features.go
@v1.14.0``) until v1.14; from v1.15.0 the gate defaults to true and the controller also needs
``--enable-gateway-api`` (or ``enableGatewayAPI: true`` in its config file), default false
(``cmd/controller/app/options/options.go``, ``internal/apis/config/controller/v1alpha1/
defaults.go``, ``cmd/controller/app/controller.go`` at v1.15.0 … v1.21.1).
"""

from __future__ import annotations

from datetime import datetime

from kubectl_certdoctor.graph import Graph
from kubectl_certdoctor.objects import (
    Obj,
    Ref,
    as_dict,
    as_list,
    dig,
    name,
    namespace,
    owner_refs,
    text,
)
from kubectl_certdoctor.objects import annotations as annotations_of
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.util import q
from kubectl_certdoctor.versions import Version, controller_args, controller_version

ISSUER_ANN = "cert-manager.io/issuer"
CLUSTER_ISSUER_ANN = "cert-manager.io/cluster-issuer"
#: the controller's default --auto-certificate-annotations
DEFAULT_AUTO = ("kubernetes.io/tls-acme",)
GATE = "ExperimentalGatewayAPISupport"
SHIM_KINDS = ("Ingress", "Gateway")


def _flag(args: list[str], flag: str) -> str | None:
    """The value of ``--flag=value`` / ``--flag value`` / bare ``--flag`` ('true')."""
    for i, a in enumerate(args):
        if a == flag:
            nxt = args[i + 1] if i + 1 < len(args) else ""
            return "true" if not nxt or nxt.startswith("-") else nxt
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


def auto_annotations(args: list[str]) -> tuple[str, ...]:
    v = _flag(args, "--auto-certificate-annotations")
    if v is None:
        return DEFAULT_AUTO
    return tuple(s.strip() for s in v.split(",") if s.strip())


def shim_annotation(obj: Obj, auto: tuple[str, ...] = DEFAULT_AUTO) -> str:
    """The annotation that makes the shim act on ``obj`` ('' when none)."""
    ann = annotations_of(obj)
    for key in (ISSUER_ANN, CLUSTER_ISSUER_ANN):
        if key in ann:
            return f"{key}: {ann[key]}"
    for key in auto:
        if text(ann.get(key)).strip().lower() in ("true", "1", "t"):
            return f"{key}: {ann[key]}"
    return ""


def shim_owner(cert: Obj) -> tuple[str, str] | None:
    """(kind, name) of the Ingress/Gateway a Certificate was created from, if any."""
    for o in owner_refs(cert):
        kind = text(o.get("kind"))
        if kind in SHIM_KINDS and text(o.get("name")):
            return kind, text(o.get("name"))
    return None


def _tls_problems(ing: Obj) -> list[str]:
    tls = [as_dict(t) for t in as_list(dig(ing, "spec", "tls"))]
    if not tls:
        return ["no spec.tls"]
    out = []
    for i, t in enumerate(tls):
        missing = [f for f, ok in (("hosts", as_list(t.get("hosts"))),
                                   ("secretName", text(t.get("secretName")))) if not ok]
        if missing:
            out.append(f"spec.tls[{i}] has no {' and no '.join(missing)}")
    return out


def ingress_shim_no_tls(graph: Graph, now: datetime) -> list[Finding]:
    """An Ingress with a shim annotation but no usable ``spec.tls`` entry: ingress-shim
    creates no Certificate for it (sync.go, see the module docstring). WIDE: reports on
    Ingresses."""
    auto = auto_annotations(controller_args(graph.objs))
    out: list[Finding] = []
    for ing in graph.objs.of_kind("Ingress"):
        if not isinstance(ing, dict):
            continue
        trigger = shim_annotation(ing, auto)
        if not trigger:
            continue
        problems = _tls_problems(ing)
        if not problems:
            continue
        ns, nm = namespace(ing), name(ing)
        ev = [f"Ingress {ns}/{nm} annotation {trigger}",
              f"Ingress.spec.tls: {q(dig(ing, 'spec', 'tls') or [])}"]
        ref = Ref("Ingress", ns, nm)
        for e in graph.events_for(ref):
            if text(e.get("reason")) == "BadConfig":
                ev.append(f"Event BadConfig on Ingress {nm}: {text(e.get('message'))}")
                break
        hosts = sorted({text(h) for r in as_list(dig(ing, "spec", "rules"))
                        if text(h := as_dict(r).get("host"))})
        out.append(make("INGRESS_SHIM_NO_TLS", ref, ev,
                        data={"problems": problems},
                        name=nm, namespace=ns, problem="; ".join(problems), trigger=trigger,
                        hosts=", ".join(hosts) or "<host>", secret=f"{nm}-tls"))
    return out


def gateway_shim_state(graph: Graph) -> tuple[bool | None, str]:
    """(enabled?, why): whether the controller runs the gateway-shim, from its version and
    args. None when it cannot be told (no controller Deployment, or a --config file)."""
    args = controller_args(graph.objs)
    found = controller_version(graph.objs)
    if not args and found is None:
        return None, "no cert-manager controller Deployment in view"
    version, source = found if found is not None else (None, "")
    vtxt = f"cert-manager {version} ({source})" if version is not None else \
        "controller version unknown: judged as the newest release"
    gates = {}
    for part in (_flag(args, "--feature-gates") or "").split(","):
        if "=" in part:
            k, v = part.split("=", 1)
            gates[k.strip()] = v.strip().lower() == "true"
    if version is not None and version < Version(1, 5, 0):
        return False, f"{vtxt}: this release has no gateway-shim (added in v1.5.0)"
    if version is not None and version < Version(1, 15, 0):
        if gates.get(GATE):
            return True, f"{vtxt}: --feature-gates {GATE}=true"
        return False, f"{vtxt}: controller args lack --feature-gates={GATE}=true " \
                      "(default false before v1.15)"
    if gates.get(GATE) is False:
        return False, f"{vtxt}: --feature-gates {GATE}=false"
    flag = _flag(args, "--enable-gateway-api")
    if flag is not None:
        on = flag.lower() == "true"
        return on, f"{vtxt}: --enable-gateway-api={flag}"
    if _flag(args, "--config") is not None:
        return None, f"{vtxt}: settings come from a --config file this view does not show"
    return False, f"{vtxt}: controller args lack --enable-gateway-api (default false)"


def _tls_listener_secrets(gw: Obj) -> list[str]:
    """Secret names of listeners the shim would build a Certificate for."""
    out = []
    for ln in as_list(dig(gw, "spec", "listeners")):
        ln = as_dict(ln)
        if text(ln.get("protocol")) not in ("HTTPS", "TLS"):
            continue
        tls = as_dict(ln.get("tls"))
        if text(tls.get("mode")) == "Passthrough":
            continue
        for ref in as_list(tls.get("certificateRefs")):
            ref = as_dict(ref)
            if text(ref.get("kind")) in ("", "Secret") and text(ref.get("name")):
                out.append(text(ref.get("name")))
    return out


def gateway_shim_disabled(graph: Graph, now: datetime) -> list[Finding]:
    """A Gateway annotated for cert-manager, with TLS listeners whose Secrets no Certificate
    writes, while the controller runs without the gateway-shim. WIDE: reports on
    Gateways and reads Certificates of every namespace."""
    gateways = [g for g in graph.objs.of_kind("Gateway") if isinstance(g, dict)]
    if not gateways or "Certificate" in graph.objs.unseen:
        return []
    enabled, why = gateway_shim_state(graph)
    if enabled is not False:
        return []
    certs = [c for c in graph.objs.of_kind("Certificate") if isinstance(c, dict)]
    out: list[Finding] = []
    for gw in gateways:
        trigger = shim_annotation(gw, ())
        secrets = _tls_listener_secrets(gw)
        if not trigger or not secrets:
            continue
        ns, nm = namespace(gw), name(gw)
        covered = {text(dig(c, "spec", "secretName")) for c in certs if namespace(c) == ns}
        owned = [c for c in certs if namespace(c) == ns and shim_owner(c) == ("Gateway", nm)]
        missing = [s for s in secrets if s not in covered]
        if owned or not missing:
            continue
        ev = [f"Gateway {ns}/{nm} annotation {trigger}",
              f"listener certificateRefs without a Certificate: {', '.join(missing)}",
              why]
        out.append(make("GATEWAY_SHIM_DISABLED", Ref("Gateway", ns, nm), ev,
                        data={"secrets": missing},
                        name=nm, namespace=ns, secrets=", ".join(missing), why=why))
    return out


def shim_issuer_remedy(cert: Obj, ref_kind: str, issuer: str, namespaced_exists: bool,
                       cluster_exists: bool) -> str:
    """ISSUER_NOT_FOUND's remedy for a Certificate the shim owns: the shim rewrites
    spec.issuerRef from the Ingress/Gateway annotations on every sync
    (certNeedsUpdate/buildCertificates in pkg/controller/certificate-shim/sync.go at v1.5.0 …
    v1.21.1, pkg/controller/ingress-shim/sync.go before), so the annotation is what to change.
    '' when the Certificate is not shim-owned."""
    owner = shim_owner(cert)
    if owner is None:
        return ""
    kind, nm = owner
    ns = namespace(cert)
    where = f"{kind} {ns}/{nm}"
    if ref_kind == "ClusterIssuer" and namespaced_exists:
        change = (f"replace its annotation {CLUSTER_ISSUER_ANN}: {issuer} with {ISSUER_ANN}: "
                  f"{issuer} (Issuer {ns}/{issuer} is namespaced)")
    elif ref_kind == "Issuer" and cluster_exists:
        change = (f"replace its annotation {ISSUER_ANN}: {issuer} with {CLUSTER_ISSUER_ANN}: "
                  f"{issuer} (a ClusterIssuer of that name exists)")
    else:
        change = (f"correct the issuer named in its {ISSUER_ANN} / {CLUSTER_ISSUER_ANN} "
                  f"annotation, or create {ref_kind} {issuer}")
    return (f"Certificate {ns}/{name(cert)} is created by cert-manager from {where}, which "
            f"rewrites its issuerRef on every sync: do not edit the Certificate. Edit {where}: "
            f"{change} (`kubectl annotate {kind.lower()} -n {ns} {nm} …`); the Certificate is "
            f"updated within seconds.")
