"""Short-lived debug pods: a Job per probe run, watch its pod's termination message, delete.

The pod runs one shell command whose JSON result goes to the termination
message; the tool reads it from the pod status through a WATCH on the Job's
pod. No exec and no log access are needed (both are proxied to the kubelet
and often forbidden). The pod is PSA "restricted"-compliant.

Cleanup does not depend on the client: the pod belongs to a Job with
``backoffLimit: 0``, ``activeDeadlineSeconds`` and ``ttlSecondsAfterFinished``
(:data:`TTL_ENV`, default :data:`DEFAULT_TTL` seconds), so the cluster's TTL
controller deletes the Job and the garbage collector its pod even when the
tool is killed. The client still deletes both in a ``finally``; an ``atexit``
hook and a startup sweep catch the rest. Before the Job, a server-side
dry-run of its pod surfaces an admission denial (PSA, LimitRange, a policy
webhook) at once instead of as a Job that never gets a pod.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
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
#: seconds the cluster keeps a finished debug Job (and its pod) before its TTL controller
#: deletes them; the environment variable overrides it (documented in docs/probes.md)
TTL_ENV = "CERTDOCTOR_PROBE_TTL"
DEFAULT_TTL = 120
#: the label the Job controller puts on the pods of a Job (Kubernetes >= 1.27)
JOB_UID_LABEL = "batch.kubernetes.io/controller-uid"


def probe_ttl() -> int:
    """``ttlSecondsAfterFinished`` of debug Jobs (:data:`TTL_ENV`, else :data:`DEFAULT_TTL`)."""
    raw = os.environ.get(TTL_ENV, "").strip()
    try:
        return max(0, int(raw)) if raw else DEFAULT_TTL
    except ValueError:
        return DEFAULT_TTL


@dataclass
class PodPlacement:
    """Where and how the debug pod runs (the "as cert-manager" vantage copies the controller)."""

    namespace: str
    dns_policy: str = ""
    dns_config: dict[str, Any] | None = None
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict[str, Any]] = field(default_factory=list)
    affinity: dict[str, Any] | None = None
    #: container env entries copied verbatim (value or valueFrom)
    env: list[dict[str, Any]] = field(default_factory=list)
    #: container envFrom entries copied verbatim (ConfigMap / Secret references)
    env_from: list[dict[str, Any]] = field(default_factory=list)
    #: pod labels copied from the controller (NetworkPolicies select on them)
    labels: dict[str, str] = field(default_factory=dict)
    #: what this placement imitates, shown as evidence
    origin: str = ""
    #: how the copy differs from the original, and why (shown as evidence)
    notes: list[str] = field(default_factory=list)
    #: run as an ephemeral container in this running pod (``ns/name``) instead of a Job:
    #: the controller's own network namespace and resolv.conf; it cannot be removed and
    #: stays in the pod's spec until the pod is replaced
    ephemeral_pod: str = ""

    def env_names(self) -> dict[str, str]:
        """name → literal value, or '' for a reference (valueFrom) the kubelet resolves."""
        return {text(e.get("name")): text(e.get("value")) if "value" in e else ""
                for e in self.env}

    def references(self) -> set[str]:
        """Names of the env entries that are references (valueFrom)."""
        return {text(e.get("name")) for e in self.env if "valueFrom" in e}


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
    #: the Job that owns the pod
    job: str = ""


def placement_from_deployment(dep: Obj) -> PodPlacement:
    """Copy namespace, DNS settings, scheduling, pod labels and the controller container's
    whole env (literal values and ``valueFrom`` references, ``envFrom``) from the Deployment.

    Pass the Deployment as the API server returns it (:func:`live_deployment`): a
    snapshot's copy has credential-looking values redacted.
    """
    tmpl = dig(dep, "spec", "template", "spec", default={})
    containers = [c for c in dig(tmpl, "containers", default=[]) if isinstance(c, dict)]
    ctr = next((c for c in containers if text(c.get("name")) == "cert-manager-controller"),
               containers[0] if containers else {})
    env: list[dict[str, Any]] = []
    for e in dig(ctr, "env", default=[]):
        if not isinstance(e, dict) or not text(e.get("name")):
            continue
        e = json.loads(json.dumps(e))
        ref = dig(e, "valueFrom", "resourceFieldRef")
        if isinstance(ref, dict) and ref.get("containerName"):
            ref["containerName"] = "probe"  # the controller's limits are not ours to copy
        env.append(e)
    affinity = tmpl.get("affinity")
    labels = dig(dep, "spec", "template", "metadata", "labels", default={})
    return PodPlacement(
        namespace=text(dig(dep, "metadata", "namespace")) or "cert-manager",
        dns_policy=text(tmpl.get("dnsPolicy")),
        dns_config=tmpl.get("dnsConfig") if isinstance(tmpl.get("dnsConfig"), dict) else None,
        node_selector={str(k): text(v) for k, v in dig(tmpl, "nodeSelector", default={}).items()},
        tolerations=[t for t in dig(tmpl, "tolerations", default=[]) if isinstance(t, dict)],
        affinity=affinity if isinstance(affinity, dict) and affinity else None,
        env=env,
        env_from=[x for x in dig(ctr, "envFrom", default=[]) if isinstance(x, dict)],
        labels={str(k): text(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
        origin=f"Deployment {text(dig(dep, 'metadata', 'namespace'))}/"
               f"{text(dig(dep, 'metadata', 'name'))}",
    )


def live_deployment(api_client: Any, dep: Obj) -> tuple[Obj, str]:
    """The Deployment as the API server has it now (real env values, not the snapshot's
    redacted ones): (object, '') or (the given object, why it could not be read)."""
    from kubernetes.client import AppsV1Api
    from kubernetes.client.exceptions import ApiException

    ns, nm = text(dig(dep, "metadata", "namespace")), text(dig(dep, "metadata", "name"))
    if api_client is None or not nm:
        return dep, "no cluster connection"
    try:
        apps: Any = AppsV1Api(api_client)
        resp = apps.read_namespaced_deployment(nm, ns, _request_timeout=10,
                                               _preload_content=False)
        return json.loads(resp.data), ""
    except ApiException as e:
        return dep, f"{e.status} {e.reason}"
    except Exception as e:  # unreachable server and the like
        return dep, str(e)


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def fit_labels(api_client: Any, placement: PodPlacement) -> None:
    """Keep the controller's pod labels (NetworkPolicies select on them) but never let a
    Service of the namespace select the debug pod: for each Service whose selector the
    labels satisfy, drop one of its keys — one no NetworkPolicy of the namespace uses when
    there is one. Records what it did in ``placement.notes``. Without permission to list
    Services, drops every label (never risk joining a Service's endpoints)."""
    from kubernetes.client import CoreV1Api, NetworkingV1Api

    if not placement.labels:
        return
    ns = placement.namespace
    try:
        core: Any = CoreV1Api(api_client)
        svcs = json.loads(core.list_namespaced_service(
            ns, _request_timeout=10, _preload_content=False).data).get("items") or []
    except Exception as e:
        placement.notes.append(f"controller pod labels not copied: cannot list Services "
                               f"in {ns} ({getattr(e, 'status', '') or e})")
        placement.labels = {}
        return
    policy_keys: set[str] = set()
    try:
        net: Any = NetworkingV1Api(api_client)
        pols = json.loads(net.list_namespaced_network_policy(
            ns, _request_timeout=10, _preload_content=False).data).get("items") or []
    except Exception:
        pols = []
    for pol in pols:
        sel = dig(pol, "spec", "podSelector", default={})
        policy_keys |= set(dig(sel, "matchLabels", default={}))
        policy_keys |= {text(x.get("key")) for x in dig(sel, "matchExpressions", default=[])}
    for svc in svcs:
        selector = dig(svc, "spec", "selector", default={})
        if not isinstance(selector, dict) or not _selects(selector, placement.labels):
            continue
        keys = sorted(selector)
        drop = next((k for k in keys if k not in policy_keys), keys[0])
        placement.labels.pop(drop, None)
        placement.notes.append(f"label {drop} not copied: Service "
                               f"{ns}/{text(dig(svc, 'metadata', 'name'))} selects on it")


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
            **({"envFrom": [dict(x) for x in placement.env_from]} if placement.env_from
               else {}),
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
    if placement.affinity:
        spec["affinity"] = placement.affinity
    labels = {k: v for k, v in placement.labels.items() if not k.startswith("certdoctor.io/")}
    labels.update({MANAGED_BY_LABEL: MANAGED_BY, PROBE_LABEL: probe_id, VANTAGE_LABEL: vantage})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": f"certdoctor-{probe_id}-",
            "namespace": placement.namespace,
            "labels": labels,
            "annotations": {DEADLINE_ANNOTATION: expires.strftime("%Y-%m-%dT%H:%M:%SZ")},
        },
        "spec": spec,
    }


def job_manifest(
    probe_id: str, vantage: str, placement: PodPlacement, image: str,
    script: str, env: dict[str, str], deadline_s: int, ttl: int | None = None,
) -> Obj:
    """The debug Job: one pod (:func:`pod_manifest`), never retried, a hard deadline, and a
    TTL after which the cluster deletes the Job and, through its owner reference, the pod."""
    pod = pod_manifest(probe_id, vantage, placement, image, script, env, deadline_s)
    md = pod["metadata"]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "generateName": md["generateName"],
            "namespace": md["namespace"],
            "labels": dict(md["labels"]),
            "annotations": dict(md["annotations"]),
        },
        "spec": {
            "backoffLimit": 0,
            "completions": 1,
            "parallelism": 1,
            "activeDeadlineSeconds": deadline_s,
            "ttlSecondsAfterFinished": probe_ttl() if ttl is None else ttl,
            "template": {
                "metadata": {"labels": dict(md["labels"]),
                             "annotations": dict(md["annotations"])},
                "spec": pod["spec"],
            },
        },
    }


# --- cleanup on every path -------------------------------------------------

#: (namespace, Job name) → (api client, Job uid)
_LIVE: dict[tuple[str, str], tuple[Any, str]] = {}
_LIVE_LOCK = threading.Lock()
_HOOKS_INSTALLED = False


def _delete_job(api_client: Any, namespace: str, name: str, uid: str = "",
                wait: float = 5.0) -> None:
    """Delete the Job and its pods at once (grace 0); wait until its pods are gone."""
    from kubernetes.client import BatchV1Api, CoreV1Api
    from kubernetes.client.exceptions import ApiException

    batch: Any = BatchV1Api(api_client)
    core: Any = CoreV1Api(api_client)
    try:
        batch.delete_namespaced_job(name, namespace, grace_period_seconds=0,
                                    propagation_policy="Background", _request_timeout=10)
    except ApiException as e:
        if e.status != 404:
            raise
    if not uid:
        return
    selector = f"{JOB_UID_LABEL}={uid}"
    with contextlib.suppress(ApiException):
        core.delete_collection_namespaced_pod(namespace, label_selector=selector,
                                              grace_period_seconds=0, _request_timeout=10)
    end = time.monotonic() + wait
    while time.monotonic() < end:
        left = json.loads(core.list_namespaced_pod(
            namespace, label_selector=selector, _request_timeout=5,
            _preload_content=False).data).get("items") or []
        if not left:
            return
        time.sleep(0.1)


def _delete(api_client: Any, namespace: str, name: str, wait: float = 5.0) -> None:
    """Delete a bare pod at once (grace 0) and wait until the API server no longer has it."""
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
    """Delete every debug Job (and pod) this process still owns (atexit / signal path)."""
    with _LIVE_LOCK:
        items = list(_LIVE.items())
        _LIVE.clear()
    for (ns, nm), (api_client, uid) in items:
        with contextlib.suppress(Exception):
            _delete_job(api_client, ns, nm, uid, wait=0)


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
    """May we run debug pods in ``namespace``: ``create pods`` (the admission dry run) and
    ``create jobs.batch`` (the Job that owns them). (allowed, reason)."""
    ok, why = _can_create(api_client, namespace, "", "pods")
    if ok:
        ok, why = _can_create(api_client, namespace, "batch", "jobs")
    return ok, why


def can_add_ephemeral(api_client: Any, namespace: str) -> tuple[bool, str]:
    """May we add ephemeral containers to pods in ``namespace`` (``update`` on the
    ``pods/ephemeralcontainers`` subresource)?"""
    return _can_create(api_client, namespace, "", "pods", verb="update",
                       subresource="ephemeralcontainers")


def _can_create(api_client: Any, namespace: str, group: str,
                resource: str, verb: str = "create",
                subresource: str = "") -> tuple[bool, str]:
    """SelfSubjectAccessReview for ``<verb> <resource>`` in ``namespace``."""
    from kubernetes.client import AuthorizationV1Api
    from kubernetes.client.exceptions import ApiException

    body = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {
            "namespace": namespace, "verb": verb, "group": group, "resource": resource,
            **({"subresource": subresource} if subresource else {}),
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
    what = f"{resource}/{subresource}" if subresource else resource
    return False, f"not allowed to {verb} {what} in namespace {namespace!r} ({why})"


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


#: how long a probe pod may stay Unschedulable before the probe ends with the scheduler's
#: reason (the scheduler retries at once when a node changes; seconds matter, not minutes)
UNSCHEDULABLE_GRACE = 4.0


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
    """Run the script in a Job's pod, wait for its termination message, always delete."""
    from kubernetes.client import BatchV1Api, CoreV1Api
    from kubernetes.client.exceptions import ApiException

    if placement.ephemeral_pod:
        return run_ephemeral(api_client, placement, probe_id, script, env, image, deadline_s,
                             cancel, emit)
    install_cleanup_hooks()
    core: Any = CoreV1Api(api_client)
    batch: Any = BatchV1Api(api_client)
    manifest = job_manifest(probe_id, vantage, placement, image, script, env, deadline_s)
    # admission (PSA, LimitRange, policy webhooks) judges the pod, not the Job: ask it first,
    # so a denial is an immediate 403 rather than a Job that never gets its pod
    pod = pod_manifest(probe_id, vantage, placement, image, script, env, deadline_s)
    core.create_namespaced_pod(placement.namespace, cast(Any, pod), dry_run="All",
                               _request_timeout=10, _preload_content=False)
    resp = batch.create_namespaced_job(placement.namespace, cast(Any, manifest),
                                       _request_timeout=10, _preload_content=False)
    created = json.loads(resp.data)
    ns, nm = text(dig(created, "metadata", "namespace")), text(dig(created, "metadata", "name"))
    uid = text(dig(created, "metadata", "uid"))
    with _LIVE_LOCK:
        _LIVE[(ns, nm)] = (api_client, uid)
    ttl = dig(manifest, "spec", "ttlSecondsAfterFinished")
    emit(f"created job {ns}/{nm} (image {image}, deleted by the cluster {ttl}s after it "
         "finishes)")
    try:
        rv = text(dig(created, "metadata", "resourceVersion"))
        end = time.monotonic() + deadline_s + 15
        state: dict[str, str] = {"node": "", "pod": "", "job": nm, "uid": uid}
        started = time.monotonic()
        while True:
            if cancel.is_set():
                raise Cancelled("cancelled")
            if time.monotonic() > end:
                raise Cancelled(f"job {ns}/{nm} did not finish within {deadline_s}s")
            try:
                done, rv = _watch_once(core, ns, nm, rv, cancel, emit, state)
            except ApiException as e:
                if e.status != 410:
                    raise
                # resource version too old: start from the current objects
                cur = json.loads(core.list_namespaced_pod(
                    ns, label_selector=f"{JOB_UID_LABEL}={uid}", _preload_content=False).data)
                rv = text(dig(cur, "metadata", "resourceVersion"))
                done = next((o for o in (_terminated(p) for p in cur.get("items") or [])
                             if o is not None), None)
            if done is None and not state["pod"] and time.monotonic() - started > 1.5:
                done = _job_problem(core, batch, ns, nm)
            since = state.get("unschedulable_since")
            if done is None and since is not None \
                    and time.monotonic() - float(since) >= UNSCHEDULABLE_GRACE:
                # the scheduler found no node (selector, taints, resources): end with its
                # words now rather than spin to the deadline; a node added later would not
                # help this probe in time anyway
                done = PodOutcome(name=state["pod"], namespace=ns, phase="Pending",
                                  reason=f"Unschedulable: {state.get('unschedulable', '')}")
            if done is not None:
                done.job = nm
                return done
    finally:
        with _LIVE_LOCK:
            _LIVE.pop((ns, nm), None)
        try:
            _delete_job(api_client, ns, nm, uid)
            emit(f"deleted job {ns}/{nm} and its pod")
        except Exception as e:
            emit(f"could not delete job {ns}/{nm}: {e} (the cluster deletes it {ttl}s after "
                 "it finishes)")


# --- the most faithful vantage: an ephemeral container in the controller pod ----------

EPHEMERAL_NOTE = ("an ephemeral container cannot be removed: it stays in the pod's spec "
                  "(stopped) until the pod is replaced")


def controller_pod(api_client: Any, dep: Obj) -> tuple[str, str]:
    """A Running pod of the controller Deployment: ('ns/name', '') or ('', why not)."""
    from kubernetes.client import CoreV1Api

    ns = text(dig(dep, "metadata", "namespace"))
    match = dig(dep, "spec", "selector", "matchLabels", default={})
    if not match:
        return "", "the Deployment has no matchLabels selector"
    selector = ",".join(f"{k}={v}" for k, v in sorted(match.items()))
    core: Any = CoreV1Api(api_client)
    try:
        pods = json.loads(core.list_namespaced_pod(ns, label_selector=selector,
                                                   _request_timeout=10,
                                                   _preload_content=False).data)
    except Exception as e:
        return "", f"cannot list the controller's pods ({getattr(e, 'status', '') or e})"
    for pod in pods.get("items") or []:
        if text(dig(pod, "status", "phase")) == "Running" and not dig(
                pod, "metadata", "deletionTimestamp"):
            return f"{ns}/{text(dig(pod, 'metadata', 'name'))}", ""
    return "", f"no Running pod matches {selector} in {ns}"


def ephemeral_container(probe_id: str, image: str, script: str, env: dict[str, str],
                        placement: PodPlacement) -> Obj:
    """The ephemeralContainers entry: the probe container (restricted securityContext, the
    controller's env, our inputs), named uniquely."""
    import secrets

    ctr = pod_manifest(probe_id, "ephemeral", placement, image, script, env, 0)["spec"][
        "containers"][0]
    ctr.pop("resources", None)  # not allowed on ephemeral containers
    ctr["name"] = f"certdoctor-{probe_id}-{secrets.token_hex(3)}"
    ctr["securityContext"]["runAsUser"] = NONROOT_UID
    return cast(Obj, ctr)


def run_ephemeral(
    api_client: Any, placement: PodPlacement, probe_id: str, script: str,
    env: dict[str, str], image: str, deadline_s: int, cancel: threading.Event,
    emit: Callable[[str], None],
) -> PodOutcome:
    """Add the probe as an ephemeral container to the running controller pod (the
    ``pods/ephemeralcontainers`` subresource, existing entries kept) and wait for its
    termination message. Nothing can delete it afterwards: see :data:`EPHEMERAL_NOTE`."""
    from kubernetes.client import CoreV1Api

    ns, _, nm = placement.ephemeral_pod.partition("/")
    core: Any = CoreV1Api(api_client)
    ctr = ephemeral_container(probe_id, image, script, env, placement)
    pod = json.loads(core.read_namespaced_pod(nm, ns, _request_timeout=10,
                                              _preload_content=False).data)
    pod["spec"]["ephemeralContainers"] = [*dig(pod, "spec", "ephemeralContainers",
                                               default=[]), ctr]
    core.replace_namespaced_pod_ephemeralcontainers(nm, ns, cast(Any, pod),
                                                    _request_timeout=10,
                                                    _preload_content=False)
    emit(f"added ephemeral container {ctr['name']} to pod {ns}/{nm} ({EPHEMERAL_NOTE})")
    end = time.monotonic() + deadline_s
    while True:
        if cancel.is_set():
            raise Cancelled("cancelled (the ephemeral container runs to its own end)")
        if time.monotonic() > end:
            raise Cancelled(f"ephemeral container {ctr['name']} did not finish within "
                            f"{deadline_s}s")
        cur = json.loads(core.read_namespaced_pod(nm, ns, _request_timeout=10,
                                                  _preload_content=False).data)
        for cs in dig(cur, "status", "ephemeralContainerStatuses", default=[]):
            if cs.get("name") != ctr["name"]:
                continue
            term = dig(cs, "state", "terminated")
            if isinstance(term, dict):
                emit(f"ephemeral container finished: exit code {term.get('exitCode')}")
                return PodOutcome(name=nm, namespace=ns, message=text(term.get("message")),
                                  exit_code=int(term.get("exitCode") or 0),
                                  phase="Terminated", reason=text(term.get("reason")),
                                  node=text(dig(cur, "spec", "nodeName")))
            reason = text(dig(cs, "state", "waiting", "reason"))
            if reason in ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull",
                          "InvalidImageName", "CreateContainerConfigError",
                          "CreateContainerError"):
                return PodOutcome(name=nm, namespace=ns, phase="Pending", reason=reason)
        time.sleep(0.3)


def _job_problem(core: Any, batch: Any, ns: str, nm: str) -> PodOutcome | None:
    """A Job that has no pod yet: failed as a whole, or its pod creation is refused."""
    job = json.loads(batch.read_namespaced_job(nm, ns, _request_timeout=10,
                                               _preload_content=False).data)
    for c in dig(job, "status", "conditions", default=[]):
        if c.get("type") == "Failed" and c.get("status") == "True":
            return PodOutcome(name="", namespace=ns, phase="Failed",
                              reason=f"job {text(c.get('reason'))}: {text(c.get('message'))}")
    evs = json.loads(core.list_namespaced_event(
        ns, field_selector=f"involvedObject.kind=Job,involvedObject.name={nm}",
        _request_timeout=10, _preload_content=False).data).get("items") or []
    for ev in evs:
        if text(ev.get("reason")) == "FailedCreate":
            return PodOutcome(name="", namespace=ns, phase="Pending",
                              reason=f"FailedCreate: {text(ev.get('message'))}")
    return None


def _watch_once(
    core: Any, ns: str, nm: str, rv: str, cancel: threading.Event,
    emit: Callable[[str], None], state: dict[str, str],
) -> tuple[PodOutcome | None, str]:
    """One short WATCH on the Job's pods: (outcome if finished, last rv)."""
    from kubernetes.watch.watch import iter_resp_lines

    resp = core.list_namespaced_pod(
        ns, label_selector=f"{JOB_UID_LABEL}={state['uid']}", watch=True, resource_version=rv,
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
            pod = text(dig(obj, "metadata", "name"))
            if ev.get("type") == "DELETED":
                raise Cancelled(f"pod {ns}/{pod} of job {nm} was deleted by someone else")
            if pod and pod != state["pod"]:
                state["pod"] = pod
                emit(f"job {nm} created pod {ns}/{pod}")
            node = text(dig(obj, "spec", "nodeName"))
            unscheduled = False
            for c in dig(obj, "status", "conditions", default=[]):
                if c.get("type") == "PodScheduled" and c.get("status") == "False":
                    msg = f"not scheduled yet: {text(c.get('reason'))} {text(c.get('message'))}"
                    if msg != state.get("sched"):
                        state["sched"] = msg
                        emit(msg.strip())
                    if text(c.get("reason")) == "Unschedulable":
                        unscheduled = True
                        state["unschedulable"] = text(c.get("message"))
                        state.setdefault("unschedulable_since", str(time.monotonic()))
            if not unscheduled:
                state.pop("unschedulable_since", None)
            if node and node != state["node"]:
                state["node"] = node
                emit(f"pod scheduled on node {node}")
            done = _terminated(obj)
            if done is not None:
                emit(f"pod finished: phase {done.phase or '?'}, exit code {done.exit_code}")
                return done, rv
            problem = _waiting_problem(obj)
            if problem:
                return PodOutcome(name=pod, namespace=ns, phase="Pending", reason=problem,
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
    deleted: list[str] = _sweep_jobs(api_client, namespace, now)
    for obj in dig(json.loads(resp.data), "items", default=[]):
        if any(o.get("kind") == "Job" for o in dig(obj, "metadata", "ownerReferences",
                                                   default=[])):
            continue  # a Job's pod goes with its Job
        deadline = parse_time(obj_annotations(obj).get(DEADLINE_ANNOTATION))
        if deadline is None or deadline > now:
            continue
        ns, nm = text(dig(obj, "metadata", "namespace")), text(dig(obj, "metadata", "name"))
        with contextlib.suppress(Exception):
            _delete(api_client, ns, nm, wait=0)
            deleted.append(f"{ns}/{nm}")
    return deleted


def _sweep_jobs(api_client: Any, namespace: str | None, now: datetime) -> list[str]:
    """Delete managed debug Jobs whose deadline annotation has passed (their pods with them)."""
    from kubernetes.client import BatchV1Api
    from kubernetes.client.exceptions import ApiException

    batch: Any = BatchV1Api(api_client)
    try:
        resp = batch.list_job_for_all_namespaces(label_selector=SELECTOR, _request_timeout=10,
                                                 _preload_content=False)
    except ApiException:
        if not namespace:
            return []
        try:
            resp = batch.list_namespaced_job(namespace, label_selector=SELECTOR,
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
            _delete_job(api_client, ns, nm, text(dig(obj, "metadata", "uid")), wait=0)
            deleted.append(f"job {ns}/{nm}")
    return deleted
