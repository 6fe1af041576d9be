"""Which probes and vantage points can run here, and why not when they cannot.

Probes act on a live cluster only; debug pods additionally need a writable
session (not ``--read-only``) and RBAC to create pods, checked up front with
a SelfSubjectAccessReview so the UI can grey them out with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubectl_certdoctor.objects import Obj, ObjectSet, Ref
from kubectl_certdoctor.options import Options
from kubectl_certdoctor.probes.base import POD_VANTAGES, Params, ProbeSpec, Vantage
from kubectl_certdoctor.probes.podrunner import (
    EPHEMERAL_NOTE,
    PodPlacement,
    can_add_ephemeral,
    can_create_pods,
    controller_pod,
    fit_labels,
    live_deployment,
    placement_from_deployment,
)
from kubectl_certdoctor.redact import REDACTED

OFFLINE_REASON = "probes need a live cluster; this is a bundle"
READ_ONLY_REASON = "read-only"


def availability(source: Options | ObjectSet | str | None) -> tuple[bool, str]:
    """(can probes run at all, reason when not) for Options, a snapshot, or its source string."""
    if isinstance(source, Options):
        return (False, OFFLINE_REASON) if source.offline else (True, "")
    src = source.source if isinstance(source, ObjectSet) else (source or "live")
    if src.startswith(("bundle", "demo")):
        return False, OFFLINE_REASON
    return True, ""


def parse_vantages(word: str) -> list[Vantage]:
    """``--from`` value → vantages ('all' = every one)."""
    if word == "all":
        return list(Vantage)
    return [Vantage(word)]


def plan_vantages(
    spec: ProbeSpec,
    requested: Iterable[Vantage],
    *,
    opts: Options,
    api_client: Any,
    pod_namespace: str,
    controller: Obj | None,
    ephemeral: bool = False,
) -> tuple[dict[Vantage, str], dict[Vantage, PodPlacement]]:
    """Each requested vantage → '' (runnable) or the reason it is greyed out; pod placements.

    ``ephemeral`` (asked for and confirmed by the user): the "as cert-manager" vantage runs
    as an ephemeral container in a running controller pod instead of a Job's pod."""
    plan: dict[Vantage, str] = {}
    placements: dict[Vantage, PodPlacement] = {}
    checked: dict[str, tuple[bool, str]] = {}
    ok, why = availability(opts)
    for v in requested:
        if v not in spec.vantages:
            plan[v] = f"{spec.id} runs only from {', '.join(x.value for x in spec.vantages)}"
            continue
        if not ok:
            plan[v] = why
            continue
        if v not in POD_VANTAGES:
            plan[v] = ""
            continue
        if opts.read_only:
            plan[v] = READ_ONLY_REASON
            continue
        if api_client is None:
            plan[v] = "no cluster connection"
            continue
        if v is Vantage.CERT_MANAGER:
            if controller is None:
                plan[v] = "cert-manager controller Deployment not found"
                continue
            placement = controller_placement(api_client, controller)
            if ephemeral:
                target, why_not = controller_pod(api_client, controller)
                if not target:
                    plan[v] = why_not
                    continue
                allowed, reason = can_add_ephemeral(api_client, placement.namespace)
                plan[v] = "" if allowed else reason
                if allowed:
                    placement.ephemeral_pod = target
                    placement.notes.append(f"ran in pod {target} as an ephemeral container: "
                                           f"{EPHEMERAL_NOTE}")
                    placements[v] = placement
                continue
        else:
            placement = PodPlacement(namespace=pod_namespace or "default",
                                     origin="")
        if placement.namespace not in checked:
            checked[placement.namespace] = can_create_pods(api_client, placement.namespace)
        allowed, reason = checked[placement.namespace]
        plan[v] = "" if allowed else reason
        if allowed:
            if v is Vantage.CERT_MANAGER:
                fit_labels(api_client, placement)
            placements[v] = placement
    return plan, placements


def controller_placement(api_client: Any, controller: Obj) -> PodPlacement:
    """The "as cert-manager" placement from the Deployment as the API server has it (the
    snapshot's copy has credentials redacted); when it cannot be read, from the snapshot
    without the redacted env values."""
    dep, why = live_deployment(api_client, controller)
    placement = placement_from_deployment(dep)
    if why:
        kept = [e for e in placement.env if REDACTED not in str(e.get("value", ""))]
        dropped = [str(e.get("name")) for e in placement.env if e not in kept]
        placement.env = kept
        note = f"controller read from the snapshot ({why})"
        if dropped:
            note += f"; redacted env not copied: {', '.join(dropped)}"
        placement.notes.append(note)
    return placement


def prepare(
    spec: ProbeSpec,
    objs: ObjectSet,
    ref: Ref | None,
    *,
    opts: Options,
    api_client: Any,
    requested: Iterable[Vantage],
) -> tuple[Params, dict[Vantage, str], dict[Vantage, PodPlacement]]:
    """Everything ``runner.run`` needs for ``spec`` on the selected object (TUI entry point).

    Makes one SelfSubjectAccessReview per namespace: call it from a worker thread.
    """
    from kubectl_certdoctor.probes.targets import find_controller

    params = spec.params_from(objs, ref)
    pod_ns = (ref.namespace if ref is not None else "") or opts.namespace or "default"
    plan, placements = plan_vantages(spec, requested, opts=opts, api_client=api_client,
                                     pod_namespace=pod_ns, controller=find_controller(objs))
    return params, plan, placements
