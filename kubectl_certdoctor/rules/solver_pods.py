"""HTTP-01 solver Pods: refused by admission, or created but not running.

For an HTTP-01 Challenge cert-manager creates a Pod (generateName "cm-acme-http-solver-",
label acme.cert-manager.io/http01-solver=true, controller ownerReference = the Challenge,
container "acmesolver" from --acme-http01-solver-image) plus a Service and an Ingress or
HTTPRoute (pkg/issuer/acme/http/pod.go, http.go at v1.0.4 … v1.21.1). ``Present`` aggregates
the Pod, Service and Ingress errors; a failure is written to Challenge.status.reason and to a
Warning Event "Error presenting challenge: %v" (pkg/controller/acmechallenges/sync.go), and
``Check`` calls Present again, so a Pod refused later shows up behind "Waiting for HTTP-01
challenge propagation: ". The API server's admission refusals have stable shapes: Pod Security
admission 'pods "…" is forbidden: violates PodSecurity "restricted:latest": …', PodSecurityPolicy
'… is forbidden: PodSecurityPolicy: unable to admit pod', OpenShift 'unable to validate against
any security context constraint', ResourceQuota 'exceeded quota' / 'must specify limits.cpu',
and webhook policies (Gatekeeper, Kyverno) 'admission webhook "…" denied the request'.

What the solver Pod sets (pod.go): v1.0.x none; v1.5: runAsNonRoot; v1.8: also
allowPrivilegeEscalation false; v1.10.0 and later: also seccompProfile RuntimeDefault and
capabilities drop ALL — the first release that passes Pod Security "restricted"; v1.11.0 adds
--acme-http01-solver-run-as-non-root; podTemplate.spec.imagePullSecrets is merged from
v1.12.0 and podTemplate.spec.securityContext from v1.16.0.

Both rules are WIDE: they read Pods and Events, whose changes do not dirty a chain
(graph_patch); their findings land on the Challenge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kubectl_certdoctor.graph import SOLVER_LABEL, Graph, Node
from kubectl_certdoctor.objects import Obj, Ref, as_dict, as_list, dig, labels, name, text
from kubectl_certdoctor.rules.catalog import make
from kubectl_certdoctor.rules.finding import Finding
from kubectl_certdoctor.rules.util import age, field_ev, q
from kubectl_certdoctor.versions import Version, controller_args, controller_version

REJECTED = "HTTP01_SOLVER_POD_REJECTED"
NOT_RUNNING = "HTTP01_SOLVER_POD_NOT_RUNNING"
#: the first release whose solver Pod meets Pod Security "restricted" (pod.go)
RESTRICTED_SINCE = Version(1, 10, 0)
#: podTemplate.spec.securityContext is copied onto the solver Pod from this release
POD_TEMPLATE_SECURITY_CONTEXT_SINCE = Version(1, 16, 0)
#: podTemplate.spec.imagePullSecrets is copied onto the solver Pod from this release
POD_TEMPLATE_PULL_SECRETS_SINCE = Version(1, 12, 0)
#: a Pod still Pending/ContainerCreating after this long is not starting
START_GRACE = timedelta(minutes=5)

_WEBHOOK = re.compile(r'admission webhook \\?"(?P<hook>[^"\\]+)\\?" denied the request', re.I)
_POD_CONTEXT = re.compile(
    r'pods? \\?"[^"\\]*\\?" is forbidden|pod/\S*cm-acme-http-solver|\bacmesolver\b', re.I)
_CONTAINER = re.compile(r'container \\?"([^"\\]+)\\?"', re.I)
_PSA_LEVEL = re.compile(r'violates PodSecurity \\?"([^"\\]+)\\?"', re.I)


@dataclass(frozen=True)
class Rejection:
    kind: str  # psa | psp | scc | quota | limitrange | webhook
    said: str
    who: str = ""


def _segment(msg: str, start: int) -> str:
    """The part of an aggregated message from ``start`` up to the next admission answer."""
    nxt = _WEBHOOK.search(msg, start + 1)
    return msg[max(0, start - 120):nxt.start() if nxt else len(msg)]


def rejection(msg: str) -> Rejection | None:
    """The admission refusal of the solver Pod in ``msg`` (None: the Pod was not refused)."""
    low = msg.lower()
    families = (
        ("psa", r"violates podsecurity"),
        ("psp", r"podsecuritypolicy: unable to admit pod"),
        ("scc", r"unable to validate against any security context constraint"),
        ("quota", r'pods? \\?"[^"\\]*\\?" is forbidden: (?:exceeded quota|failed quota)'),
        ("limitrange", r'pods? \\?"[^"\\]*\\?" is forbidden: \[?(?:maximum|minimum) \S+ usage '
                       r"per (?:container|pod)"),
    )
    for kind, pat in families:
        m = re.search(pat, low)
        if m:
            return Rejection(kind, _excerpt(msg, m.start(), m.end()))
    for m in _WEBHOOK.finditer(msg):
        if _POD_CONTEXT.search(_segment(msg, m.start())):
            return Rejection("webhook", _excerpt(msg, m.start(), m.end()), m.group("hook"))
    return None


def webhook_denials_only_pod(msg: str) -> bool:
    """True when every admission-webhook denial in ``msg`` is about the solver Pod (so it is
    not the solver Ingress that was refused: HTTP01_SOLVER_INGRESS_REJECTED stays quiet)."""
    hits = list(_WEBHOOK.finditer(msg))
    return bool(hits) and all(_POD_CONTEXT.search(_segment(msg, m.start())) for m in hits)


def _excerpt(msg: str, a: int, b: int, width: int = 160) -> str:
    s, e = max(0, a - 40), min(len(msg), b + width)
    return ("…" if s else "") + " ".join(msg[s:e].split()) + ("…" if e < len(msg) else "")


def _http01_challenges(graph: Graph) -> list[Node]:
    out: list[Node] = []
    for node in graph.of_kind("Challenge"):
        obj = node.obj if isinstance(node.obj, dict) else {}
        if text(dig(obj, "spec", "type")).upper() != "HTTP-01":
            continue
        if text(dig(obj, "status", "state")) == "valid":
            continue
        out.append(node)
    return out


def _messages(graph: Graph, node: Node) -> list[tuple[str, str]]:
    """(evidence, text): the current reason; the newest PresentError Event only when the
    reason is empty (an older Event may describe a past error)."""
    reason = text(dig(node.obj, "status", "reason"))
    if reason:
        return [(field_ev("Challenge", "status.reason", reason), reason)]
    for ev in graph.events_for(node.ref):
        if text(ev.get("reason")) == "PresentError" and text(ev.get("message")):
            msg = text(ev.get("message"))
            return [(f"Challenge {node.ref.name} Event PresentError: {q(msg)}", msg)]
    return []


def _version(graph: Graph) -> tuple[Version | None, str]:
    cv = controller_version(graph.objs)
    if cv is None:
        return None, "controller version unknown: judged as the newest release"
    return cv[0], f"controller {cv[0]} ({cv[1]})"


def _rejected_advice(graph: Graph, rej: Rejection, msg: str, ns: str, issuer: str,
                     ev: list[str]) -> tuple[str, str]:
    """(why, action) for one refusal."""
    containers = sorted(set(_CONTAINER.findall(msg)) - {"acmesolver"})
    v, note = _version(graph)
    ev.append(note)
    exempt = (f"label namespace {ns} with a less strict level (`kubectl label ns {ns} "
              "pod-security.kubernetes.io/enforce=baseline --overwrite`)")
    if rej.kind == "psa":
        m = _PSA_LEVEL.search(msg)
        level = m.group(1) if m else "restricted"
        why = (f"Pod Security admission of namespace {ns} enforces {level!r}, and the solver "
               "Pod does not meet it")
        if v is not None and v < RESTRICTED_SINCE:
            action = (f"cert-manager {v} creates the solver Pod without seccompProfile "
                      "RuntimeDefault and capabilities drop ALL, and its podTemplate cannot set "
                      "a securityContext: upgrade cert-manager to v1.10.0 or later (its solver "
                      f"Pod meets 'restricted'), or {exempt}.")
        else:
            extra = (f" The violating container(s) {', '.join(containers)} are not "
                     "cert-manager's: a mutating webhook (service mesh, k8tz…) injects them — "
                     "exclude solver Pods from it via the solver's podTemplate labels/"
                     "annotations." if containers else "")
            flag = next((a for a in controller_args(graph.objs)
                         if a.startswith("--acme-http01-solver-run-as-non-root")), "")
            if flag and flag.split("=", 1)[-1].lower() in ("false", "0", "f"):
                extra += (f" The controller runs with {flag}: remove it ('restricted' needs "
                          "runAsNonRoot).")
            if v is None or v >= POD_TEMPLATE_SECURITY_CONTEXT_SINCE:
                extra += (f" Check the podTemplate.spec.securityContext of the http01 solver of "
                          f"{issuer}: since v1.16.0 it replaces the restricted default.")
            action = (f"cert-manager {v or '(newest)'} already gives the solver Pod a "
                      f"'restricted' securityContext.{extra} Otherwise {exempt}.")
        return why, action
    if rej.kind == "psp":
        return ("no PodSecurityPolicy the controller may use admits the solver Pod",
                f"Grant a PodSecurityPolicy that allows the solver Pod (non-root, port 8089) to "
                f"the service accounts of namespace {ns} (`use` on podsecuritypolicies), or "
                "remove PodSecurityPolicy (gone from Kubernetes 1.25).")
    if rej.kind == "scc":
        return ("no OpenShift SecurityContextConstraints admits the solver Pod",
                f"Allow the default service account of namespace {ns} to use an SCC that admits "
                "the solver Pod (e.g. `oc adm policy add-scc-to-user nonroot-v2 -z default -n "
                f"{ns}`), or upgrade cert-manager so its solver Pod fits 'restricted-v2'.")
    if rej.kind == "quota":
        return (f"a ResourceQuota of namespace {ns} refuses the solver Pod",
                f"Raise the ResourceQuota of namespace {ns} by one small Pod, or set the "
                "solver's requests/limits to fit it (controller flags "
                "--acme-http01-solver-resource-request-cpu/-memory and "
                "--acme-http01-solver-resource-limits-cpu/-memory).")
    if rej.kind == "limitrange":
        return (f"a LimitRange of namespace {ns} refuses the solver Pod's resources",
                "Set the controller flags --acme-http01-solver-resource-request-cpu/-memory "
                "and --acme-http01-solver-resource-limits-cpu/-memory within the LimitRange "
                f"of namespace {ns}, or relax it.")
    return (f"the admission webhook {rej.who!r} (a policy engine such as Gatekeeper or "
            "Kyverno) refuses the solver Pod",
            f"Exempt cert-manager's solver Pods (label {SOLVER_LABEL}=true) in namespace {ns} "
            f"from the policy named in the message, or change the solver's podTemplate of "
            f"{issuer} so the Pod complies; then the Challenge is retried.")


def http01_solver_pod_rejected(graph: Graph, now: datetime) -> list[Finding]:
    """The API server refused to create the solver Pod (PodSecurity, PSP, SCC, quota,
    LimitRange, policy webhooks): pkg/issuer/acme/http/pod.go createPod error passed through
    Present into Challenge.status.reason / PresentError (acmechallenges/sync.go) at v1.0.4 …
    v1.21.1; restricted-compliant defaults from v1.10.0 (pod.go)."""
    out: list[Finding] = []
    for node in _http01_challenges(graph):
        obj = node.obj or {}
        for ev, msg in _messages(graph, node):
            rej = rejection(msg)
            if rej is None:
                continue
            ns = node.ref.namespace
            issuer = (f"{text(dig(obj, 'spec', 'issuerRef', 'kind')) or 'Issuer'} "
                      f"{text(dig(obj, 'spec', 'issuerRef', 'name'))}")
            evidence = [ev]
            why, action = _rejected_advice(graph, rej, msg, ns, issuer, evidence)
            host = text(dig(obj, "spec", "dnsName"))
            out.append(make(REJECTED, node.ref, evidence,
                            data={"host": host, "admission": rej.kind},
                            host=host, namespace=ns, why=why, said=rej.said, action=action))
            break
    return out


#: container waiting reasons that mean the solver will not start by itself
_BAD_WAITING = {
    "ImagePullBackOff": "pull", "ErrImagePull": "pull", "InvalidImageName": "pull",
    "ErrImageNeverPull": "pull", "CreateContainerConfigError": "config",
    "CreateContainerError": "config", "CrashLoopBackOff": "crash", "RunContainerError": "crash",
}


@dataclass(frozen=True)
class PodState:
    pod: str
    state: str  # e.g. "ImagePullBackOff", "Pending (Unschedulable)"
    kind: str  # pull | config | crash | schedule | start
    detail: str
    image: str


def pod_state(pod: Obj, now: datetime) -> PodState | None:
    """Why a solver Pod is not running (None: it runs, or it may still be starting)."""
    nm = name(pod)
    spec_image = next((text(as_dict(c).get("image")) for c in
                       as_list(dig(pod, "spec", "containers")) if isinstance(c, dict)), "")
    for cs in as_list(dig(pod, "status", "containerStatuses")) + \
            as_list(dig(pod, "status", "initContainerStatuses")):
        cs = as_dict(cs)
        waiting = as_dict(dig(cs, "state", "waiting"))
        reason = text(waiting.get("reason"))
        image = text(cs.get("image")) or spec_image
        if reason in _BAD_WAITING:
            detail = text(waiting.get("message"))
            last = as_dict(dig(cs, "lastState", "terminated"))
            if reason == "CrashLoopBackOff" and last:
                detail = (f"last exit {text(last.get('reason')) or '?'} code "
                          f"{text(last.get('exitCode')) or '?'}; " + detail).strip("; ")
            return PodState(nm, reason, _BAD_WAITING[reason], detail, image)
    phase = text(dig(pod, "status", "phase"))
    if phase == "Failed":
        return PodState(nm, "Failed", "crash", text(dig(pod, "status", "message")) or
                        text(dig(pod, "status", "reason")), spec_image)
    if phase != "Pending":
        return None
    sched = next((as_dict(c) for c in as_list(dig(pod, "status", "conditions"))
                  if as_dict(c).get("type") == "PodScheduled"), {})
    if text(sched.get("status")) == "False":
        return PodState(nm, f"Pending ({text(sched.get('reason')) or 'not scheduled'})",
                        "schedule", text(sched.get("message")), spec_image)
    if text(sched.get("status")) != "True":
        return None  # no scheduling recorded at all (no scheduler, a partial capture): unknown
    a = age(pod, now)
    if a is not None and a > START_GRACE:
        waiting = next((as_dict(dig(as_dict(cs), "state", "waiting")) for cs in
                        as_list(dig(pod, "status", "containerStatuses"))), {})
        return PodState(nm, f"Pending ({text(waiting.get('reason')) or 'not started'})", "start",
                        text(waiting.get("message")), spec_image)
    return None


def _pod_events(graph: Graph, pod: Obj) -> list[str]:
    """The newest Warning Events on the Pod (kubelet Failed, scheduler FailedScheduling…)."""
    out: list[str] = []
    for ev in graph.events_for(Ref("Pod", text(dig(pod, "metadata", "namespace")), name(pod))):
        if text(ev.get("type")) == "Warning" and text(ev.get("message")):
            out.append(f"Pod {name(pod)} Event {text(ev.get('reason'))}: "
                       f"{q(text(ev.get('message')))}")
        if len(out) == 2:
            break
    return out


def _not_running_action(st: PodState, graph: Graph, ns: str, issuer: str,
                        ev: list[str]) -> tuple[str, str]:
    v, note = _version(graph)
    if st.kind == "pull":
        ev.append(note)
        pull = ("add podTemplate.spec.imagePullSecrets to the http01 solver of "
                f"{issuer} for a private registry" if v is None or
                v >= POD_TEMPLATE_PULL_SECRETS_SINCE else
                f"cert-manager {v} cannot add imagePullSecrets to the solver Pod (podTemplate "
                "imagePullSecrets from v1.12.0): attach the pull secret to the default service "
                f"account of namespace {ns}")
        return ("the node cannot pull the acmesolver image",
                f"Make {st.image or 'the acmesolver image'} pullable from the nodes: mirror it "
                "into a registry they reach and point the controller's "
                "--acme-http01-solver-image at it (Helm: acmesolver.image.repository), and "
                f"{pull}.")
    if st.kind == "schedule":
        return ("no node can take the solver Pod",
                f"Read the scheduler's reason above; give the solver Pod a place to run via the "
                f"http01 solver's podTemplate of {issuer} (spec.nodeSelector, tolerations, "
                "affinity), or free capacity on the nodes.")
    if st.kind == "config":
        return ("the kubelet cannot create the acmesolver container",
                "Fix what the container status says (e.g. 'container has runAsNonRoot and image "
                "will run as root': use the acmesolver image matching the controller version, "
                "which runs as a non-root user).")
    if st.kind == "crash":
        return ("the acmesolver container keeps exiting",
                f"Read `kubectl logs -n {ns} {st.pod} --previous`; an OOMKilled solver needs "
                "higher --acme-http01-solver-resource-limits-memory; make sure the acmesolver "
                "image matches the controller version.")
    return ("the solver Pod has not started after several minutes",
            f"Run `kubectl describe pod -n {ns} {st.pod}` and fix what its Events report "
            "(volume, sandbox or network-plugin errors on the node).")


def http01_solver_pod_not_running(graph: Graph, now: datetime) -> list[Finding]:
    """The Challenge's solver Pod exists but does not run (image pull, scheduling, crash):
    the Pods owned by the Challenge and labelled acme.cert-manager.io/http01-solver=true
    (pod.go podLabels/NewControllerRef at v1.0.4 … v1.21.1), their container states and the
    kubelet/scheduler Warning Events. The self-check's 503/timeout is then a consequence
    (HTTP01_SELF_CHECK_WRONG_STATUS steps back for it, rules/__init__.py CONSEQUENCES)."""
    out: list[Finding] = []
    for node in _http01_challenges(graph):
        obj = node.obj or {}
        pods = [p for p in graph.owned_by(obj, "Pod")
                if labels(p).get(SOLVER_LABEL) == "true"]
        for pod in sorted(pods, key=name):
            st = pod_state(pod, now)
            if st is None:
                continue
            ns = node.ref.namespace
            issuer = (f"{text(dig(obj, 'spec', 'issuerRef', 'kind')) or 'Issuer'} "
                      f"{text(dig(obj, 'spec', 'issuerRef', 'name'))}")
            ev = [f"Pod {ns}/{st.pod} (solver of this Challenge): {st.state}"
                  + (f", message {q(st.detail)}" if st.detail else "")
                  + (f", image {st.image}" if st.image else "")]
            ev += _pod_events(graph, pod)
            reason = text(dig(obj, "status", "reason"))
            if reason:
                ev.append(field_ev("Challenge", "status.reason", reason))
            why, action = _not_running_action(st, graph, ns, issuer, ev)
            host = text(dig(obj, "spec", "dnsName"))
            data: dict[str, Any] = {"host": host, "pod": st.pod, "state": st.state,
                                    "image": st.image}
            out.append(make(NOT_RUNNING, node.ref, ev, data=data, host=host, pod=st.pod,
                            state=st.state, image=st.image or "(unknown image)", why=why,
                            action=action))
            break
    return out


__all__ = ["http01_solver_pod_not_running", "http01_solver_pod_rejected", "pod_state",
           "rejection", "webhook_denials_only_pod"]
