"""``retry-challenge``: delete a stuck Challenge (or its Order) so cert-manager recreates it.

A Challenge copies its solver from the issuer when it is created, so after fixing
the issuer (e.g. its ingress class) the old Challenge keeps failing the old way.
Deleting it lets the Order controller create a fresh one while the Order is still
pending; deleting the Order lets the CertificateRequest controller create a new
Order while the request is still pending. Neither helps once they have failed:
then the request is Failed and ``clear-failed-requests`` is the fix.
"""

from __future__ import annotations

from kubectl_certdoctor.fixes.model import (
    Expectation,
    FixError,
    FixParams,
    FixPlan,
    FixSpec,
    ObjectDiff,
    delete_call,
    need,
)
from kubectl_certdoctor.fixes.targets import owner_of
from kubectl_certdoctor.objects import (
    Obj,
    ObjectSet,
    Ref,
    as_list,
    condition,
    dig,
    owner_refs,
    text,
    uid,
)

_FINAL = ("invalid", "errored", "expired")


def _children(objs: ObjectSet, kind: str, owner: Obj) -> frozenset[str]:
    ouid = uid(owner)
    return frozenset(uid(o) for o in objs.of_kind(kind)
                     if any(text(r.get("uid")) == ouid for r in owner_refs(o)))


def _plan_order(objs: ObjectSet, order: Obj, plan: FixPlan) -> None:
    ref = Ref.of(order)
    cr = owner_of(objs, order, "CertificateRequest")
    plan.calls.append(delete_call(order, ref, f"delete Order {ref.name}"))
    plan.diffs.append(ObjectDiff(ref, order, None))
    plan.expect.append(Expectation("gone", ref, f"Order {ref.name} deleted", uid=uid(order)))
    if cr is None:
        plan.warnings.append("the Order has no CertificateRequest owner in view: nothing may "
                             "recreate it")
        return
    ready = condition(cr, "Ready") or {}
    if text(ready.get("status")) == "False" and text(ready.get("reason")) == "Failed":
        plan.warnings.append(f"CertificateRequest {text(dig(cr, 'metadata', 'name'))} has "
                             "already Failed: cert-manager will not create a new Order for it")
        plan.suggest = ["clear-failed-requests"]
    plan.expect.append(Expectation(
        "recreated", Ref.of(cr), "cert-manager creates a new Order", uid=uid(cr),
        ctype="Order", known=_children(objs, "Order", cr)))


def plan_retry(objs: ObjectSet, target: Ref, params: FixParams) -> FixPlan:
    obj = need(objs, target)
    what = str(params.get("delete") or ("order" if target.kind == "Order" else "challenge"))
    if what not in ("challenge", "order"):
        raise FixError(f"retry-challenge: delete={what!r}", hint="use delete=challenge or order")
    plan = FixPlan("retry-challenge", f"Retry {target.kind} {target.name}", target,
                   params={"delete": what})
    if target.kind == "Order" or what == "order":
        order = obj if target.kind == "Order" else owner_of(objs, obj, "Order")
        if order is None:
            raise FixError(f"the Order of Challenge {target.name} is not in view")
        _plan_order(objs, order, plan)
        plan.title = f"Delete Order {Ref.of(order).name} so cert-manager creates a new one"
        return plan
    state = text(dig(obj, "status", "state"))
    order = owner_of(objs, obj, "Order")
    plan.title = f"Delete Challenge {target.name} so cert-manager creates a new one"
    plan.calls.append(delete_call(obj, target, f"delete Challenge {target.name}"))
    plan.diffs.append(ObjectDiff(target, obj, None))
    plan.expect.append(Expectation("gone", target, f"Challenge {target.name} deleted",
                                   uid=uid(obj)))
    if as_list(dig(obj, "metadata", "finalizers")):
        plan.notes.append("The Challenge has a finalizer: cert-manager removes its solver "
                          "(pod, Service, Ingress) before it disappears.")
    order_state = text(dig(order, "status", "state")) if order else ""
    if state in _FINAL or order_state in _FINAL:
        plan.warnings.append(
            f"the challenge/order is already {state or order_state}: the ACME authorization "
            "failed, so the Order will not create a new Challenge; delete the Order instead "
            "(delete=order) or, if the request has Failed, use clear-failed-requests")
        plan.suggest = ["clear-failed-requests"]
    if order is None:
        plan.warnings.append("the Challenge's Order is not in view: nothing may recreate it")
    else:
        plan.expect.append(Expectation(
            "recreated", Ref.of(order), "cert-manager creates a new Challenge", uid=uid(order),
            ctype="Challenge", known=_children(objs, "Challenge", order)))
    return plan


SPEC = FixSpec(
    id="retry-challenge",
    title="Delete a stuck Challenge (or its Order) so cert-manager recreates it",
    resolves=("HTTP01_SELF_CHECK_404", "HTTP01_WRONG_INGRESS_CLASS",
              "HTTP01_MULTIPLE_INGRESS_BACKENDS", "HTTP01_SELF_CHECK_TIMEOUT",
              "HTTP01_SELF_CHECK_REDIRECT", "DNS01_PROPAGATION_PENDING",
              "HTTP01_SELF_CHECK_WRONG_STATUS", "HTTP01_SOLVER_INGRESS_REJECTED",
              "HTTP01_GATEWAY_ROUTE_NOT_ACCEPTED",
              "HTTP01_SOLVER_POD_REJECTED", "HTTP01_SOLVER_POD_NOT_RUNNING"),
    mutating=True,
    target_kinds=("Challenge", "Order"),
    planner=plan_retry,
    reads=("Challenge", "Order", "CertificateRequest"),
    param_help=("delete=challenge|order  what to delete (default: the target)",),
    doc="Deletes the Challenge (or its Order) with uid/resourceVersion preconditions.",
)
