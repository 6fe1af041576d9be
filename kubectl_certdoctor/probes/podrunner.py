"""Short-lived debug pods: create, watch for the termination message, always delete.

The pod runs one shell command whose JSON result goes to the termination
message; the tool reads it from the pod status through a WATCH on that one
pod. No exec and no log access are needed (both are proxied to the kubelet
and often forbidden). The pod is PSA "restricted"-compliant and is deleted in
a ``finally``; an ``atexit`` hook and a startup sweep catch the rest.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from kubectl_certdoctor.objects import Obj, dig, parse_time, text
from kubectl_certdoctor.objects import annotations as obj_annotations
from kubectl_certdoctor.probes.base import Cancelled

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "kubectl-certdoctor"
PROBE_LABEL = "certdoctor.io/probe"
VANTAGE_LABEL = "certdoctor.io/vantage"
DEADLINE_ANNOTATION = "certdoctor.io/deadline"
SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY},{PROBE_LABEL}"
#: where the container writes its JSON result (the Kubernetes default path)
TERMINATION_LOG = "/dev/termination-log"
#: the env var that carries the result path into our scripts
RESULT_ENV = "CERTDOCTOR_RESULT"
#: proxy env vars copied from the cert-manager controller
PROXY_ENV = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
NONROOT_UID = 65534


@dataclass
class PodPlacement:
    """Where and how the debug pod runs (the "as cert-manager" vantage copies the controller)."""

    namespace: str
    dns_policy: str = ""
    dns_config: dict[str, Any] | None = None
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict[str, Any]] = field(default_factory=list)
    #: container env entries copied verbatim (value or valueFrom)
    env: list[dict[str, Any]] = field(default_factory=list)
    #: what this placement imitates, shown as evidence
    origin: str = ""


@dataclass
class PodOutcome:
    """How the debug pod ended."""

    name: str
    namespace: str
    message: str = ""
    exit_code: int | None = None
    phase: str = ""
    reason: str = ""
    node: str = ""


def placement_from_deployment(dep: Obj) -> PodPlacement:
    """Copy namespace, DNS settings, scheduling and proxy env from the controller Deployment."""
    tmpl = dig(dep, "spec", "template", "spec", default={})
    containers = [c for c in dig(tmpl, "containers", default=[]) if isinstance(c, dict)]
    ctr = next((c for c in containers if text(c.get("name")) == "cert-manager-controller"),
               containers[0] if containers else {})
    env = [
        e for e in dig(ctr, "env", default=[])
        if isinstance(e, dict) and text(e.get("name")) in PROXY_ENV
    ]
    return PodPlacement(
        namespace=text(dig(dep, "metadata", "namespace")) or "cert-manager",
        dns_policy=text(tmpl.get("dnsPolicy")),
        dns_config=tmpl.get("dnsConfig") if isinstance(tmpl.get("dnsConfig"), dict) else None,
        node_selector={str(k): text(v) for k, v in dig(tmpl, "nodeSelector", default={}).items()},
        tolerations=[t for t in dig(tmpl, "tolerations", default=[]) if isinstance(t, dict)],
        env=env,
        origin=f"Deployment {text(dig(dep, 'metadata', 'namespace'))}/"
               f"{text(dig(dep, 'metadata', 'name'))}",
    )


def pod_manifest(
    probe_id: str, vantage: str, placement: PodPlacement, image: str,
    script: str, env: dict[str, str], deadline_s: int,
) -> Obj:
    """The debug pod: restricted securityContext, no token, a hard deadline, our labels."""
    expires = datetime.now(UTC) + timedelta(seconds=deadline_s + 30)
    env_list: list[dict[str, Any]] = [dict(e) for e in placement.env]
    env_list += [{"name": k, "value": v} for k, v in sorted(env.items())]
    env_list.append({"name": RESULT_ENV, "value": TERMINATION_LOG})
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "activeDeadlineSeconds": deadline_s,
        "terminationGracePeriodSeconds": 1,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": NONROOT_UID,
            "runAsGroup": NONROOT_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [{
            "name": "probe",
            "image": image,
            "command": ["/bin/sh", "-c", script],
            "env": env_list,
            "terminationMessagePath": TERMINATION_LOG,
            "terminationMessagePolicy": "File",
            "resources": {
                "requests": {"cpu": "10m", "memory": "16Mi"},
                "limits": {"cpu": "200m", "memory": "64Mi"},
            },
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
                "runAsNonRoot": True,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
        }],
    }
    if placement.dns_policy:
        spec["dnsPolicy"] = placement.dns_policy
    if placement.dns_config:
        spec["dnsConfig"] = placement.dns_config
    if placement.node_selector:
        spec["nodeSelector"] = placement.node_selector
    if placement.tolerations:
        spec["tolerations"] = placement.tolerations
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": f"certdoctor-{probe_id}-",
            "namespace": placement.namespace,
            "labels": {
                MANAGED_BY_LABEL: MANAGED_BY,
                PROBE_LABEL: probe_id,
                VANTAGE_LABEL: vantage,
            },
            "annotations": {DEADLINE_ANNOTATION: expires.strftime("%Y-%m-%dT%H:%M:%SZ")},
        },
        "spec": spec,
    }


# --- cleanup on every path -------------------------------------------------

_LIVE: dict[tuple[str, str], Any] = {}
_LIVE_LOCK = threading.Lock()
_HOOKS_INSTALLED = False


def _delete(api_client: Any, namespace: str, name: str, wait: float = 5.0) -> None:
    """Delete at once (grace 0) and wait until the API server no longer has it."""
    from kubernetes.client import CoreV1Api
    from kubernetes.client.exceptions import ApiException

    core: Any = CoreV1Api(api_client)
    try:
        core.delete_namespaced_pod(name, namespace, grace_period_seconds=0,
                                   propagation_policy="Background", _request_timeout=10)
    except ApiException as e:
        if e.status == 404:
            return
        raise
    end = time.monotonic() + wait
    while time.monotonic() < end:
        try:
            core.read_namespaced_pod(name, namespace, _request_timeout=5)
        except ApiException as e:
            if e.status == 404:
                return
            raise
        time.sleep(0.1)


def delete_live_pods() -> None:
    """Delete every debug pod this process still owns (atexit / signal path)."""
    with _LIVE_LOCK:
        items = list(_LIVE.items())
        _LIVE.clear()
    for (ns, nm), api_client in items:
        with contextlib.suppress(Exception):
            _delete(api_client, ns, nm, wait=0)


def _on_sigterm(signum: int, frame: Any) -> None:
    delete_live_pods()
    raise SystemExit(128 + signum)


def install_cleanup_hooks() -> None:
    """atexit always; SIGTERM/SIGHUP only from the main thread and when nobody else handles them."""
    global _HOOKS_INSTALLED
    if _HOOKS_INSTALLED:
        return
    _HOOKS_INSTALLED = True
    atexit.register(delete_live_pods)
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                signal.signal(sig, _on_sigterm)


def live_pods() -> list[tuple[str, str]]:
    with _LIVE_LOCK:
        return list(_LIVE)


# --- RBAC ---------------------------------------------------------------


def can_create_pods(api_client: Any, namespace: str) -> tuple[bool, str]:
    """SelfSubjectAccessReview for ``create pods`` in ``namespace``: (allowed, reason)."""
    from kubernetes.client import AuthorizationV1Api
    from kubernetes.client.exceptions import ApiException

    body = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {
            "namespace": namespace, "verb": "create", "resource": "pods",
        }},
    }
    try:
        authz: Any = AuthorizationV1Api(api_client)
        resp = authz.create_self_subject_access_review(
            cast(Any, body), _request_timeout=10, _preload_content=False)
        st = dig(json.loads(resp.data), "status", default={})
    except ApiException as e:
        return False, f"cannot check permissions ({e.status} {e.reason})"
    except Exception as e:  # unreachable server and the like
        return False, f"cannot check permissions ({e})"
    if st.get("allowed") is True:
        return True, ""
    why = text(st.get("reason")) or "RBAC denies it"
    return False, f"not allowed to create pods in namespace {namespace!r} ({why})"


# --- running ---------------------------------------------------------------


def _terminated(pod: Obj) -> PodOutcome | None:
    """The outcome once the container terminated or the pod failed as a whole."""
    md = pod.get("metadata", {})
    out = PodOutcome(name=text(md.get("name")), namespace=text(md.get("namespace")),
                     phase=text(dig(pod, "status", "phase")),
                     reason=text(dig(pod, "status", "reason")),
                     node=text(dig(pod, "spec", "nodeName")))
    for cs in dig(pod, "status", "containerStatuses", default=[]):
        term = dig(cs, "state", "terminated")
        if isinstance(term, dict):
            out.message = text(term.get("message"))
            out.exit_code = int(term.get("exitCode") or 0)
            out.reason = out.reason or text(term.get("reason"))
            return out
    if out.phase in ("Succeeded", "Failed"):
        # a pod the kubelet refused (NodeAffinity, OutOfcpu, ...) says why in status.message
        why = text(dig(pod, "status", "message"))
        if why and why not in out.reason:
            out.reason = f"{out.reason}: {why}" if out.reason else why
        return out
    return None


def _waiting_problem(pod: Obj) -> str:
    """An image pull error or similar that will never resolve on its own."""
    for cs in dig(pod, "status", "containerStatuses", default=[]):
        reason = text(dig(cs, "state", "waiting", "reason"))
        if reason in ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull",
                      "InvalidImageName", "CreateContainerConfigError", "CreateContainerError"):
            msg = text(dig(cs, "state", "waiting", "message"))
            return f"{reason}: {msg}" if msg else reason
    return ""


def run_pod(
    api_client: Any,
    placement: PodPlacement,
    probe_id: str,
    vantage: str,
    script: str,
    env: dict[str, str],
    image: str,
    deadline_s: int,
    cancel: threading.Event,
    emit: Callable[[str], None],
) -> PodOutcome:
    """Create the pod, wait for its termination message, and always delete it."""
    from kubernetes.client import CoreV1Api
    from kubernetes.client.exceptions import ApiException

    install_cleanup_hooks()
    core: Any = CoreV1Api(api_client)
    manifest = pod_manifest(probe_id, vantage, placement, image, script, env, deadline_s)
    resp = core.create_namespaced_pod(placement.namespace, cast(Any, manifest),
                                      _request_timeout=10, _preload_content=False)
    created = json.loads(resp.data)
    ns, nm = text(dig(created, "metadata", "namespace")), text(dig(created, "metadata", "name"))
    with _LIVE_LOCK:
        _LIVE[(ns, nm)] = api_client
    emit(f"created pod {ns}/{nm} (image {image})")
    try:
        rv = text(dig(created, "metadata", "resourceVersion"))
        end = time.monotonic() + deadline_s + 15
        state = {"node": ""}
        while True:
            if cancel.is_set():
                raise Cancelled("cancelled")
            if time.monotonic() > end:
                raise Cancelled(f"pod {ns}/{nm} did not finish within {deadline_s}s")
            try:
                done, rv = _watch_once(core, ns, nm, rv, cancel, emit, state)
            except ApiException as e:
                if e.status != 410:
                    raise
                # resource version too old: start from the current object
                cur = json.loads(core.read_namespaced_pod(nm, ns, _preload_content=False).data)
                rv = text(dig(cur, "metadata", "resourceVersion"))
                done = _terminated(cur)
            if done is not None:
                return done
    finally:
        with _LIVE_LOCK:
            _LIVE.pop((ns, nm), None)
        try:
            _delete(api_client, ns, nm)
            emit(f"deleted pod {ns}/{nm}")
        except Exception as e:
            emit(f"could not delete pod {ns}/{nm}: {e}")


def _watch_once(
    core: Any, ns: str, nm: str, rv: str, cancel: threading.Event,
    emit: Callable[[str], None], state: dict[str, str],
) -> tuple[PodOutcome | None, str]:
    """One short WATCH on the single pod (fieldSelector): (outcome if finished, last rv)."""
    from kubernetes.watch.watch import iter_resp_lines

    resp = core.list_namespaced_pod(
        ns, field_selector=f"metadata.name={nm}", watch=True, resource_version=rv,
        allow_watch_bookmarks=False, timeout_seconds=1, _request_timeout=10,
        _preload_content=False)
    try:
        for line in iter_resp_lines(resp):
            ev = json.loads(line)
            obj = ev.get("object") or {}
            if ev.get("type") == "ERROR":
                from kubernetes.client.exceptions import ApiException

                raise ApiException(status=int(obj.get("code") or 500),
                                   reason=text(obj.get("message")))
            rv = text(dig(obj, "metadata", "resourceVersion")) or rv
            if ev.get("type") == "DELETED":
                raise Cancelled(f"pod {ns}/{nm} was deleted by someone else")
            node = text(dig(obj, "spec", "nodeName"))
            for c in dig(obj, "status", "conditions", default=[]):
                if c.get("type") == "PodScheduled" and c.get("status") == "False":
                    msg = f"not scheduled yet: {text(c.get('reason'))} {text(c.get('message'))}"
                    if msg != state.get("sched"):
                        state["sched"] = msg
                        emit(msg.strip())
            if node and node != state["node"]:
                state["node"] = node
                emit(f"pod scheduled on node {node}")
            done = _terminated(obj)
            if done is not None:
                emit(f"pod finished: phase {done.phase or '?'}, exit code {done.exit_code}")
                return done, rv
            problem = _waiting_problem(obj)
            if problem:
                return PodOutcome(name=nm, namespace=ns, phase="Pending", reason=problem,
                                  node=node), rv
            if cancel.is_set():
                break
    finally:
        resp.close()
        resp.release_conn()
    return None, rv


def sweep_leftovers(api_client: Any, namespace: str | None = None,
                    now: datetime | None = None) -> list[str]:
    """Delete managed probe pods whose deadline annotation has passed.

    Lists across all namespaces when allowed, else only ``namespace``.
    Returns ``ns/name`` of what was deleted; never raises.
    """
    from kubernetes.client import CoreV1Api
    from kubernetes.client.exceptions import ApiException

    core: Any = CoreV1Api(api_client)
    now = now or datetime.now(UTC)
    try:
        resp = core.list_pod_for_all_namespaces(label_selector=SELECTOR, _request_timeout=10,
                                                _preload_content=False)
    except ApiException:
        if not namespace:
            return []
        try:
            resp = core.list_namespaced_pod(namespace, label_selector=SELECTOR,
                                            _request_timeout=10, _preload_content=False)
        except Exception:
            return []
    except Exception:
        return []
    deleted: list[str] = []
    for obj in dig(json.loads(resp.data), "items", default=[]):
        deadline = parse_time(obj_annotations(obj).get(DEADLINE_ANNOTATION))
        if deadline is None or deadline > now:
            continue
        ns, nm = text(dig(obj, "metadata", "namespace")), text(dig(obj, "metadata", "name"))
        with contextlib.suppress(Exception):
            _delete(api_client, ns, nm, wait=0)
            deleted.append(f"{ns}/{nm}")
    return deleted
