"""The Kubernetes kinds kubectl-certdoctor reads, and how to reach them.

One LIST+WATCH per kind: this table is the single source for group, version,
plural, scope and the selectors that keep the watched set small.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

CM_GROUP = "cert-manager.io"
ACME_GROUP = "acme.cert-manager.io"


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
    #: optional kinds (Gateway API) are silently skipped when absent
    optional: bool = False

    @functools.cached_property
    def api_version(self) -> str:
        """One string per kind: every stored object of the kind shares it."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def path(self) -> str:
        """URL prefix of the API group (``/api/v1`` or ``/apis/<group>/<version>``)."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"


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
EVENT = Kind("Event", "", "v1", "events", True, ("ev", "events"))
INGRESS = Kind("Ingress", "networking.k8s.io", "v1", "ingresses", True, ("ing", "ingress"))
INGRESS_CLASS = Kind(
    "IngressClass", "networking.k8s.io", "v1", "ingressclasses", False, ("ingressclass",)
)
SERVICE = Kind("Service", "", "v1", "services", True, ("svc", "service"))
#: only the pods cert-manager starts to answer HTTP-01 challenges
POD = Kind(
    "Pod", "", "v1", "pods", True, ("pod", "pods"),
    label_selector="acme.cert-manager.io/http01-solver=true",
)
SECRET = Kind("Secret", "", "v1", "secrets", True, ("secret", "secrets"))
DEPLOYMENT = Kind(
    "Deployment", "apps", "v1", "deployments", True, ("deploy",),
    label_selector="app.kubernetes.io/name=cert-manager",
)
GATEWAY = Kind(
    "Gateway", "gateway.networking.k8s.io", "v1", "gateways", True, ("gw",), optional=True
)

#: cert-manager's own kinds, top of the tree first
CERT_MANAGER_KINDS: tuple[Kind, ...] = (
    ISSUER, CLUSTER_ISSUER, CERTIFICATE, CERTIFICATE_REQUEST, ORDER, CHALLENGE,
)
#: the kinds the detail views and rules need besides cert-manager's
RELATED_KINDS: tuple[Kind, ...] = (
    EVENT, INGRESS, INGRESS_CLASS, SERVICE, POD, SECRET, DEPLOYMENT, GATEWAY,
)
ALL_KINDS: tuple[Kind, ...] = CERT_MANAGER_KINDS + RELATED_KINDS
BY_NAME: dict[str, Kind] = {k.name: k for k in ALL_KINDS}


def lookup(word: str) -> Kind | None:
    """Find a kind by name, plural or alias, case-insensitively (``cert``, ``ch``, ``Order``)."""
    w = word.lower()
    for k in ALL_KINDS:
        if w in (k.name.lower(), k.plural, *k.aliases):
            return k
    return None
