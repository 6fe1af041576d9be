"""Say what cannot be seen: which facts the watches could not read, and which checks are off.

A rule that finds nothing because its input was forbidden looks exactly like a rule that
found nothing wrong. ``coverage`` turns the store's per-watch states (and the Secret GETs
that were refused) into one entry per missing *fact* — "controller not visible:
deployments in all namespaces forbidden — version-dependent checks off" — for the
``check`` output (``coverage`` in JSON, one block in text/markdown) and a short form for
the TUI header. Absent optional APIs (Gateway API, approver-policy) are not gaps: nothing
there to see. A controller watch that is live but finds no controller is reported too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubectl_certdoctor.kinds import BY_WATCH, COMPONENT_SELECTOR, Kind

_ACME = ("ACME_ORDER_FAILED", "ACME_RATE_LIMITED", "DNS01_PROPAGATION_PENDING",
         "HTTP01_SELF_CHECK_404", "HTTP01_SELF_CHECK_REDIRECT", "HTTP01_SELF_CHECK_TIMEOUT",
         "HTTP01_WRONG_INGRESS_CLASS", "HTTP01_MULTIPLE_INGRESS_BACKENDS")

#: fact (Kind.fact) → (short name for the header, what is off in words, codes off)
FACTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "the cert-manager controller": (
        "controller", "version-dependent and controller checks off",
        ("CERT_MANAGER_OUTDATED", "VAULT_PERMISSION_DENIED_NOT_RETRIED", "PROXY_NO_PROXY_GAP",
         "CONTROLLER_NOT_RUNNING")),
    "cert-manager's pods": ("controller pods", "controller liveness checks off",
                            ("CONTROLLER_NOT_RUNNING",)),
    "LoadBalancer services and default/kubernetes": (
        "load balancers", "ingress entry-point and NO_PROXY checks off",
        ("HTTP01_MULTIPLE_INGRESS_BACKENDS", "PROXY_NO_PROXY_GAP")),
    "the API server's endpoints (default/kubernetes)": (
        "API endpoints", "NO_PROXY check of the API server's endpoints off",
        ("PROXY_NO_PROXY_GAP",)),
    "gateways": ("gateways", "Gateway entry-point checks off",
                 ("HTTP01_MULTIPLE_INGRESS_BACKENDS",)),
    "solver HTTPRoutes": ("solver routes", "Gateway solver checks off", ()),
    "ingress classes": ("ingress classes", "ingress-class checks off",
                        ("HTTP01_WRONG_INGRESS_CLASS",)),
    "ingresses": ("ingresses", "ingress checks off",
                  ("HTTP01_WRONG_INGRESS_CLASS", "HTTP01_MULTIPLE_INGRESS_BACKENDS")),
    "services": ("services", "solver service checks off", ()),
    "HTTP-01 solver pods": ("solver pods", "solver pod checks off", ()),
    "cert-manager's webhook configurations": (
        "webhooks", "webhook CA checks off", ("WEBHOOK_CA_NOT_INJECTED",)),
    "webhook DNS solvers' APIServices": ("DNS solver APIs", "DNS-01 webhook solver checks off",
                                         ()),
    "approver-policy's CertificateRequestPolicies": (
        "policies", "approval policy checks off", ("CERTIFICATE_REQUEST_NOT_APPROVED",)),
    "secrets": ("secrets", "Secret content checks off",
                ("SECRET_MISMATCH", "SECRET_SHARED_BY_CERTIFICATES",
                 "SECRET_WRITTEN_BY_OTHER_CONTROLLER", "SECRET_IS_ACME_ACCOUNT_KEY",
                 "SECRET_IS_CA_ISSUER_KEYPAIR", "PRIVATE_KEY_CANNOT_REGENERATE",
                 "WEBHOOK_CA_NOT_INJECTED")),
    "clusterissuers": ("ClusterIssuers", "checks of ClusterIssuers and their chains off",
                       ("ISSUER_NOT_READY", "ACME_SERVER_UNREACHABLE",
                        "ACME_ACCOUNT_SERVER_MISMATCH", "PROXY_NO_PROXY_GAP")),
    "events of clusterissuers": ("ClusterIssuer events", "event-based ClusterIssuer checks off",
                                 ("ACME_SERVER_UNREACHABLE",)),
    "orders": ("orders", "ACME order and challenge checks off", _ACME),
    "challenges": ("challenges", "ACME challenge checks off", _ACME),
}
_DEFAULT = ("", "checks that read them off", ())
_GAP_STATES = ("forbidden", "error", "missing", "reconnecting", "syncing")


@dataclass(frozen=True)
class Gap:
    """One fact the rules cannot see."""

    fact: str
    state: str
    message: str
    checks_off: tuple[str, ...] = ()
    short: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"fact": self.fact, "state": self.state, "message": self.message,
                "checks_off": list(self.checks_off)}


def _fact(k: Kind) -> str:
    if k.fact:
        return k.fact
    if k.name == "Event":
        return "events"
    return k.plural


def _where(k: Kind, view: str | None) -> str:
    if not k.namespaced:
        return "(cluster-scoped)"
    ns = k.namespace_for(view)
    return f"in {ns}" if ns else "in all namespaces"


def coverage(states: Mapping[str, Any], view: str | None, *,
             watches: Mapping[str, Kind] | None = None,
             deployments: Iterable[Any] | None = None,
             secret_problems: Mapping[tuple[str, str], str] | None = None) -> list[Gap]:
    """The gaps, worst first. ``states``: watch id → object with ``state``/``message``;
    ``deployments``: the component Deployments seen (to tell "no controller found")."""
    watches = watches or BY_WATCH
    by_fact: dict[str, list[tuple[Kind, Any]]] = {}
    for wid, st in states.items():
        k = watches.get(wid) or BY_WATCH.get(wid)
        if k is None or (k.crd and st.state == "missing"):
            continue  # cert-manager not installed: an error of its own (exit 2)
        if st.state == "missing" and k.optional:
            continue
        if st.state not in _GAP_STATES:
            continue
        by_fact.setdefault(_fact(k), []).append((k, st))
    out: list[Gap] = []
    for fact, items in by_fact.items():
        short, off_words, codes = FACTS.get(fact, (fact, *_DEFAULT[1:]))
        k, st = items[0]
        # a fact is missing only when none of its watches can see it
        if any(s.state == "live" for w, s in states.items()
               if (watches.get(w) or BY_WATCH.get(w)) is not None
               and _fact(watches.get(w) or BY_WATCH[w]) == fact):
            continue
        what = f"{k.plural} {_where(k, view)} {st.state}"
        detail = f" ({st.message})" if st.state == "error" and st.message else ""
        out.append(Gap(fact, st.state, f"{short or fact} not visible: {what}{detail} — "
                                        f"{off_words}", codes, short or fact))
    ctrl = [s for w, s in states.items() if (watches.get(w) or BY_WATCH.get(w)) is not None
            and (watches.get(w) or BY_WATCH[w]).name == "Deployment"]
    if deployments is not None and ctrl and all(s.state == "live" for s in ctrl) and \
            not _has_controller(deployments):
        short, off_words, codes = FACTS["the cert-manager controller"]
        out.append(Gap("the cert-manager controller", "absent",
                       f"controller not found: no Deployment labelled {COMPONENT_SELECTOR} "
                       f"(or app=cert-manager) in any namespace — {off_words}", codes, short))
    for (ns, nm), msg in sorted((secret_problems or {}).items()):
        state = "forbidden" if msg.startswith("forbidden") else "error"
        out.append(Gap("secrets", state, f"secret {ns}/{nm} not readable: {msg} — checks of "
                                         "what it holds off", FACTS["secrets"][2], "secrets"))
    order = {"forbidden": 0, "absent": 1, "error": 2, "missing": 3}
    facts = list(FACTS)
    return sorted(out, key=lambda g: (order.get(g.state, 4),
                                      facts.index(g.fact) if g.fact in facts else len(facts),
                                      g.fact))


def _has_controller(deployments: Iterable[Any]) -> bool:
    from kubectl_certdoctor.cluster.secretrefs import cluster_resource_namespace

    return cluster_resource_namespace(list(deployments)) is not None


def short_form(gaps: list[Gap]) -> str:
    """'not visible: controller, load balancers' for the header ('' when nothing is off)."""
    names = []
    for g in gaps:
        if g.state in ("syncing", "reconnecting"):
            continue  # the connection word says that already
        if g.short and g.short not in names:
            names.append(g.short)
    return "not visible: " + ", ".join(names) if names else ""


def render_text(gaps: list[Gap]) -> str:
    """The block ``check`` prints (text and markdown)."""
    if not gaps:
        return ""
    lines = ["Coverage: some facts could not be read, so some checks are off:"]
    lines += [f"  - {g.message}" + (f" [{', '.join(g.checks_off)}]" if g.checks_off else "")
              for g in gaps]
    return "\n".join(lines) + "\n"
