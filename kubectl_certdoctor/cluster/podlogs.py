"""The cert-manager controller's log, read on demand for the timeline (``l``).

The controller Pods are already in the store (the ``Pod/components`` watches of
``kinds.py``), so finding them costs nothing; the only request is one bounded
``GET pods/{name}/log`` per controller Pod (at most ``MAX_PODS``), made from a worker
thread when the user asks. Bounds: the last ``TAIL_LINES`` lines, no older than
``SINCE_SECONDS``, at most ``LIMIT_BYTES`` — a chatty controller at ``-v=6`` must not cost
megabytes per key press. ``timestamps=true`` so every line carries the kubelet's RFC 3339
time (klog's own header has no year; JSON lines carry milliseconds).

Errors are one line a person can act on: ``pods/log`` forbidden names the verb and
resource to bind; no controller Pod visible says so (and why, when the component Pods
could not be read).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubectl_certdoctor.cluster.connection import ApiError, Connection
from kubectl_certdoctor.errors import ClusterError
from kubectl_certdoctor.objects import (
    Obj,
    ObjectSet,
    as_dict,
    as_list,
    dig,
    labels,
    name,
    namespace,
    text,
)

TAIL_LINES = 2000
LIMIT_BYTES = 2 * 1024 * 1024
SINCE_SECONDS = 6 * 3600
#: HA installs run several replicas (only the leader works); read at most this many
MAX_PODS = 3
#: the per-request read timeout (the endpoint streams from the kubelet)
READ_TIMEOUT = 15.0
RBAC_HINT = ("the timeline needs RBAC verb 'get' on resource 'pods/log' in the controller's "
             "namespace (see docs/rbac-fixes.yaml)")


@dataclass(frozen=True)
class PodLog:
    """One controller Pod's bounded log."""

    pod: str
    container: str
    lines: list[str]
    #: the byte limit cut it (older lines exist)
    truncated: bool = False


@dataclass(frozen=True)
class LogFetch:
    """What the timeline gets: the logs read, and one line per thing that went wrong."""

    logs: list[PodLog] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: how the read was bounded, for the screen ("last 2000 lines, 6h, 2 MiB per pod")
    bounds: str = ""


def bounds_text(tail: int = TAIL_LINES, since: int = SINCE_SECONDS,
                limit: int = LIMIT_BYTES) -> str:
    return f"last {tail} lines, at most {since // 3600}h old, {limit // (1024 * 1024)} MiB per pod"


def is_controller_pod(pod: Obj) -> bool:
    """A cert-manager controller Pod (not the webhook, cainjector or an HTTP-01 solver):
    the Helm chart's labels, the static manifests' old ``app: cert-manager``, or a
    container running the controller image."""
    lb = labels(pod)
    if lb.get("acme.cert-manager.io/http01-solver"):
        return False
    comp = lb.get("app.kubernetes.io/component")
    if lb.get("app.kubernetes.io/name") == "cert-manager" and comp in (None, "controller"):
        return True
    if lb.get("app") == "cert-manager" and "app.kubernetes.io/name" not in lb:
        return True
    return any("cert-manager-controller" in text(as_dict(c).get("image"))
               for c in as_list(dig(pod, "spec", "containers")))


def controller_pods(objs: ObjectSet) -> list[Obj]:
    """The controller Pods the store holds, running ones first, then the newest."""
    pods = [p for p in objs.of_kind("Pod") if isinstance(p, dict) and is_controller_pod(p)]
    pods.sort(key=lambda p: text(dig(p, "metadata", "creationTimestamp")), reverse=True)
    pods.sort(key=lambda p: text(dig(p, "status", "phase")) != "Running")  # stable
    return pods


def controller_container(pod: Obj) -> str:
    """The controller's container name (sidecars are common in meshes)."""
    cs = [as_dict(c) for c in as_list(dig(pod, "spec", "containers"))]
    for c in cs:
        if text(c.get("name")) == "cert-manager-controller" or \
                "cert-manager-controller" in text(c.get("image")):
            return text(c.get("name"))
    return text(cs[0].get("name")) if cs else ""


def fetch_controller_logs(conn: Connection, objs: ObjectSet, *, unseen: str = "",
                          tail: int = TAIL_LINES, since: int = SINCE_SECONDS,
                          limit: int = LIMIT_BYTES) -> LogFetch:
    """Read the controller Pods' logs (blocking: call from a worker thread). ``unseen``
    says why the component Pods may be missing (their watch was forbidden)."""
    pods = controller_pods(objs)[:MAX_PODS]
    bounds = bounds_text(tail, since, limit)
    if not pods:
        why = f" ({unseen})" if unseen else ""
        return LogFetch([], ["no cert-manager controller Pod is visible" + why +
                             ": only Events are shown"], bounds)
    out: list[PodLog] = []
    problems: list[str] = []
    for pod in pods:
        ns, nm = namespace(pod), name(pod)
        container = controller_container(pod)
        query = {"container": container or None, "tailLines": tail, "sinceSeconds": since,
                 "limitBytes": limit, "timestamps": "true"}
        try:
            resp = conn.request("GET", f"/api/v1/namespaces/{ns}/pods/{nm}/log", query,
                                accept="text/plain, */*", timeout=(conn.request_timeout,
                                                                   READ_TIMEOUT))
            try:
                data: bytes = resp.data
            finally:
                resp.release_conn()
        except ApiError as e:
            if e.status == 403:
                problems.append(f"forbidden: get pods/log {ns}/{nm} — {RBAC_HINT}")
            else:
                problems.append(f"{ns}/{nm}: {e.detail or e}")
            continue
        except ClusterError as e:
            problems.append(f"{ns}/{nm}: {e}")
            continue
        textual = data.decode("utf-8", "replace")
        out.append(PodLog(f"{ns}/{nm}", container, textual.splitlines(),
                          truncated=len(data) >= limit))
    return LogFetch(out, problems, bounds)
