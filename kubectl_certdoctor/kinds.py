"""The Kubernetes kinds kubectl-certdoctor reads, and how to reach them.

One LIST+WATCH per entry: this table is the single source for group, version,
plural, scope and the selectors that keep the watched set small.

Two scopes (``Kind.scope``):

- ``"view"``: the view's namespace (``-n``), or all namespaces with ``-A``. cert-manager's
  own kinds and what hangs off one chain (solver Pods/Services/Ingresses, Secrets) are
  watched like this: the view's namespace decides what is *shown*.
- ``"cluster"``: all namespaces whatever the view (or one fixed ``namespace``): the facts
  the rules must *know* to explain a chain — the cert-manager components (Deployments and
  their Pods, found by the Helm chart's and the static manifests' labels in any namespace),
  ``default/kubernetes`` and its EndpointSlices, the LoadBalancer Services and Gateways that
  answer HTTP-01, IngressClasses, cert-manager's webhook configurations, the APIServices of
  webhook DNS solvers, approver-policy's policies, and ClusterIssuers' Events.

Several entries may share a kind name (``Pod``: the solver pods of the view plus the
component pods of the cluster); ``watch`` keeps their ids unique and the store merges
them under the kind name.

Narrowing, per kind, and why:

- Events: one watch per involved kind (``fieldSelector=involvedObject.kind=K``); a field
  selector cannot OR kinds and ``involvedObject.apiVersion`` would also let through the
  Events of every other kind of the group. Never every Event of the cluster.
- Services: there is no server-side ``spec.type`` selector. The view's Services are watched
  as before (solver Services, Ingress backends); cluster-wide, one Service watch whose
  objects are cut down on arrival (``keep``/``strip``) to LoadBalancer/externalIP Services
  and ``default/kubernetes`` — type, clusterIP, externalIPs, ports, load-balancer status —
  so the store holds a few hundred bytes per kept Service and nothing of the others.
  (A ``metadata.name`` field selector would find ``default/kubernetes`` but not the
  LoadBalancers, which have arbitrary names.)
- Webhook configurations and APIServices: few per cluster and without a usable label;
  listed whole and kept only when cert-manager injects their CA or (APIService) they are
  served by a Service (a webhook DNS solver, not a built-in group).
- Secrets: metadata only (``metadata_only``), see ``cluster/store.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from kubectl_certdoctor.objects import Obj, as_dict, dig, name, namespace, text

CM_GROUP = "cert-manager.io"
ACME_GROUP = "acme.cert-manager.io"

#: cert-manager's component labels: Helm chart (and recent static manifests: also
#: ``app.kubernetes.io/component`` in controller/webhook/cainjector, not required here so a
#: hand-made Deployment labelled only ``app.kubernetes.io/name=cert-manager`` is found) …
COMPONENT_SELECTOR = "app.kubernetes.io/name in (cert-manager,webhook,cainjector)"
#: … and the static manifests of older releases (``app: cert-manager|webhook|cainjector``),
#: without the objects the first selector already finds
LEGACY_COMPONENT_SELECTOR = "app in (cert-manager,webhook,cainjector),!app.kubernetes.io/name"


@dataclass(frozen=True)
class Kind:
    """A watched kind. ``aliases`` feed the ``:`` command (k9s style)."""

    name: str
    group: str
    version: str
    plural: str
    namespaced: bool
    aliases: tuple[str, ...] = ()
    label_selector: str | None = None
    #: a CRD kind: if its API is absent, cert-manager is not installed
    crd: bool = False
    #: optional kinds (Gateway API, approver-policy) are silently skipped when absent
    optional: bool = False
    #: "view" (the view's namespace) or "cluster" (all namespaces, whatever the view)
    scope: str = "view"
    #: a fixed namespace for a "cluster" watch (``default`` for default/kubernetes)
    namespace: str | None = None
    field_selector: str | None = None
    #: the store id of this watch (unique); defaults to ``name``
    watch_id: str = ""
    #: LIST/WATCH PartialObjectMetadata only (the objects' data never crosses the wire)
    metadata_only: bool = False
    #: client-side filter and cut applied on arrival (see the module docstring)
    keep: Callable[[Obj], bool] | None = field(default=None, compare=False)
    strip: Callable[[Obj], Obj] | None = field(default=None, compare=False)
    #: what this watch tells the rules (coverage messages), e.g. "the cert-manager controller"
    fact: str = ""

    @functools.cached_property
    def api_version(self) -> str:
        """One string per kind: every stored object of the kind shares it."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def path(self) -> str:
        """URL prefix of the API group (``/api/v1`` or ``/apis/<group>/<version>``)."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    @property
    def watch(self) -> str:
        """Unique id of this LIST+WATCH (the store's and the states' key)."""
        return self.watch_id or self.name

    def namespace_for(self, view: str | None) -> str | None:
        """The namespace this watch lists in (None: all namespaces / cluster-scoped)."""
        if not self.namespaced:
            return None
        if self.scope == "cluster":
            return self.namespace
        return view


# -- client-side filters -------------------------------------------------------------------

def _is_context_service(svc: Obj) -> bool:
    if namespace(svc) == "default" and name(svc) == "kubernetes":
        return True
    return text(dig(svc, "spec", "type")) == "LoadBalancer" or bool(
        dig(svc, "spec", "externalIPs"))


def _strip_service(svc: Obj) -> Obj:
    md = as_dict(svc.get("metadata"))
    spec = as_dict(svc.get("spec"))
    return {"apiVersion": svc.get("apiVersion"), "kind": svc.get("kind"),
            "metadata": {k: md[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                            "labels", "ownerReferences") if k in md},
            "spec": {k: spec[k] for k in ("type", "clusterIP", "clusterIPs", "externalIPs",
                                          "ports", "loadBalancerClass") if k in spec},
            "status": {"loadBalancer": as_dict(dig(svc, "status", "loadBalancer"))}}


INJECT_ANNOTATIONS = ("cert-manager.io/inject-ca-from-secret", "cert-manager.io/inject-ca-from",
                      "cert-manager.io/inject-apiserver-ca")


def _injected(obj: Obj) -> bool:
    ann = as_dict(dig(obj, "metadata", "annotations"))
    return any(a in ann for a in INJECT_ANNOTATIONS) or name(obj).startswith("cert-manager")


#: the name every HTTP-01 solver Pod starts with (``GenerateName`` in
#: pkg/issuer/acme/http/pod.go at v1.0.0 … v1.21.1)
SOLVER_POD_PREFIX = "cm-acme-http-solver-"


def _is_solver_pod_event(ev: Obj) -> bool:
    """Pod Events are listed by kind only (no server-side name prefix selector): keep the
    solver Pods' (image pulls, scheduling, admission) and drop the rest of the cluster's
    on arrival — at 50,000 Events they were most of the memory."""
    return text(dig(ev, "involvedObject", "name")).startswith(SOLVER_POD_PREFIX)


def _served_by_service(obj: Obj) -> bool:
    return bool(dig(obj, "spec", "service"))


ISSUER = Kind("Issuer", CM_GROUP, "v1", "issuers", True, ("issuer", "iss"), crd=True)
CLUSTER_ISSUER = Kind(
    "ClusterIssuer", CM_GROUP, "v1", "clusterissuers", False, ("clusterissuer", "ci"), crd=True
)
CERTIFICATE = Kind(
    "Certificate", CM_GROUP, "v1", "certificates", True, ("cert", "certificate", "certs"), crd=True
)
CERTIFICATE_REQUEST = Kind(
    "CertificateRequest", CM_GROUP, "v1", "certificaterequests", True,
    ("cr", "certificaterequest"), crd=True,
)
ORDER = Kind("Order", ACME_GROUP, "v1", "orders", True, ("order", "orders"), crd=True)
CHALLENGE = Kind(
    "Challenge", ACME_GROUP, "v1", "challenges", True, ("ch", "challenge", "challenges"), crd=True
)

#: cert-manager's own kinds, top of the tree first
CERT_MANAGER_KINDS: tuple[Kind, ...] = (
    ISSUER, CLUSTER_ISSUER, CERTIFICATE, CERTIFICATE_REQUEST, ORDER, CHALLENGE,
)


def _event_watch(involved: Kind) -> Kind:
    cluster = not involved.namespaced
    return Kind("Event", "", "v1", "events", True, ("ev", "events"),
                field_selector=f"involvedObject.kind={involved.name}",
                scope="cluster" if cluster else "view",
                watch_id="Event" if involved is CERTIFICATE else f"Event/{involved.name}",
                fact=f"events of {involved.plural}")


#: Events of cert-manager's kinds and of the solver/context kinds the rules read them for;
#: the first (Certificate's) keeps the plain id "Event"
_EVENT_INVOLVED = (CERTIFICATE, ISSUER, CLUSTER_ISSUER, CERTIFICATE_REQUEST, ORDER, CHALLENGE)
EVENT_WATCHES: tuple[Kind, ...] = (
    *(_event_watch(k) for k in _EVENT_INVOLVED),
    Kind("Event", "", "v1", "events", True, ("ev", "events"),
         field_selector="involvedObject.kind=Pod", watch_id="Event/Pod",
         keep=_is_solver_pod_event, fact="events of HTTP-01 solver pods"),
    Kind("Event", "", "v1", "events", True, ("ev", "events"),
         field_selector="involvedObject.kind=Ingress", watch_id="Event/Ingress",
         fact="events of ingresses"),
)
EVENT = EVENT_WATCHES[0]

INGRESS = Kind("Ingress", "networking.k8s.io", "v1", "ingresses", True, ("ing", "ingress"),
               fact="ingresses")
INGRESS_CLASS = Kind(
    "IngressClass", "networking.k8s.io", "v1", "ingressclasses", False, ("ingressclass",),
    fact="ingress classes",
)
SERVICE = Kind("Service", "", "v1", "services", True, ("svc", "service"), fact="services")
#: LoadBalancer/externalIP Services anywhere and default/kubernetes, cut down on arrival
CLUSTER_SERVICE = Kind(
    "Service", "", "v1", "services", True, ("svc", "service"), scope="cluster",
    watch_id="Service/cluster", keep=_is_context_service, strip=_strip_service,
    fact="LoadBalancer services and default/kubernetes",
)
ENDPOINT_SLICE = Kind(
    "EndpointSlice", "discovery.k8s.io", "v1", "endpointslices", True, ("endpointslice",),
    label_selector="kubernetes.io/service-name=kubernetes", scope="cluster", namespace="default",
    fact="the API server's endpoints (default/kubernetes)",
)
#: only the pods cert-manager starts to answer HTTP-01 challenges
POD = Kind(
    "Pod", "", "v1", "pods", True, ("pod", "pods"),
    label_selector="acme.cert-manager.io/http01-solver=true", fact="HTTP-01 solver pods",
)
COMPONENT_POD = Kind(
    "Pod", "", "v1", "pods", True, ("pod", "pods"), label_selector=COMPONENT_SELECTOR,
    scope="cluster", watch_id="Pod/components", fact="cert-manager's pods",
)
LEGACY_COMPONENT_POD = Kind(
    "Pod", "", "v1", "pods", True, ("pod", "pods"), label_selector=LEGACY_COMPONENT_SELECTOR,
    scope="cluster", watch_id="Pod/components-legacy", fact="cert-manager's pods",
)
SECRET = Kind("Secret", "", "v1", "secrets", True, ("secret", "secrets"), metadata_only=True,
              fact="secrets")
DEPLOYMENT = Kind(
    "Deployment", "apps", "v1", "deployments", True, ("deploy",),
    label_selector=COMPONENT_SELECTOR, scope="cluster", fact="the cert-manager controller",
)
LEGACY_DEPLOYMENT = Kind(
    "Deployment", "apps", "v1", "deployments", True, ("deploy",),
    label_selector=LEGACY_COMPONENT_SELECTOR, scope="cluster", watch_id="Deployment/legacy",
    fact="the cert-manager controller",
)
GATEWAY = Kind(
    "Gateway", "gateway.networking.k8s.io", "v1", "gateways", True, ("gw",), optional=True,
    scope="cluster", fact="gateways",
)
HTTP_ROUTE = Kind(
    "HTTPRoute", "gateway.networking.k8s.io", "v1", "httproutes", True, ("httproute",),
    label_selector="acme.cert-manager.io/http01-solver=true", optional=True, scope="cluster",
    fact="solver HTTPRoutes",
)
VALIDATING_WEBHOOK = Kind(
    "ValidatingWebhookConfiguration", "admissionregistration.k8s.io", "v1",
    "validatingwebhookconfigurations", False, ("validatingwebhookconfiguration",),
    keep=_injected, fact="cert-manager's webhook configurations",
)
MUTATING_WEBHOOK = Kind(
    "MutatingWebhookConfiguration", "admissionregistration.k8s.io", "v1",
    "mutatingwebhookconfigurations", False, ("mutatingwebhookconfiguration",),
    keep=_injected, fact="cert-manager's webhook configurations",
)
API_SERVICE = Kind(
    "APIService", "apiregistration.k8s.io", "v1", "apiservices", False, ("apiservice",),
    keep=_served_by_service, fact="webhook DNS solvers' APIServices",
)
CERTIFICATE_REQUEST_POLICY = Kind(
    "CertificateRequestPolicy", "policy.cert-manager.io", "v1alpha1",
    "certificaterequestpolicies", False, ("crp", "certificaterequestpolicy"), optional=True,
    fact="approver-policy's CertificateRequestPolicies",
)

#: the kinds the detail views and rules need besides cert-manager's
RELATED_KINDS: tuple[Kind, ...] = (
    *EVENT_WATCHES, INGRESS, INGRESS_CLASS, SERVICE, CLUSTER_SERVICE, ENDPOINT_SLICE, POD,
    COMPONENT_POD, LEGACY_COMPONENT_POD, SECRET, DEPLOYMENT, LEGACY_DEPLOYMENT, GATEWAY,
    HTTP_ROUTE, VALIDATING_WEBHOOK, MUTATING_WEBHOOK, API_SERVICE, CERTIFICATE_REQUEST_POLICY,
)
#: every watch (ids unique)
ALL_KINDS: tuple[Kind, ...] = CERT_MANAGER_KINDS + RELATED_KINDS
#: kind name → its primary watch (the one whose id is the kind name)
BY_NAME: dict[str, Kind] = {k.name: k for k in reversed(ALL_KINDS) if k.watch == k.name}
#: watch id → watch
BY_WATCH: dict[str, Kind] = {k.watch: k for k in ALL_KINDS}
assert len(BY_WATCH) == len(ALL_KINDS), "watch ids must be unique"


def for_view(view: str | None, kinds: tuple[Kind, ...] = ALL_KINDS) -> tuple[Kind, ...]:
    """The watches a store scoped to ``view`` runs: with all namespaces a cluster watch
    that a view watch of the same kind already covers (same selectors, nothing cut) is
    left out — the cluster-wide Service watch, for instance."""
    if view is not None:
        return kinds
    plain = {(k.name, k.label_selector, k.field_selector) for k in kinds
             if k.scope == "view" and k.keep is None}
    out = []
    for k in kinds:
        if k.scope == "cluster" and k.namespace is None and (
                (k.name, None, None) in plain
                or (k.name, k.label_selector, k.field_selector) in plain):
            continue
        out.append(k)
    return tuple(out)


def lookup(word: str) -> Kind | None:
    """Find a kind by name, plural or alias, case-insensitively (``cert``, ``ch``, ``Order``)."""
    w = word.lower()
    for k in ALL_KINDS:
        if w in (k.name.lower(), k.plural, *k.aliases):
            return BY_NAME.get(k.name, k)
    return None


@dataclass(frozen=True)
class SourceState:
    """One kind's state as the header and the rules see it (same words as the store's
    KindState: syncing, live, reconnecting, forbidden, missing, error). Here, below the
    diagnosis, so the analysis can name it without importing the I/O data source."""

    state: str
    message: str = ""
