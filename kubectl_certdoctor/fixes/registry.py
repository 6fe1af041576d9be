"""Every fix by id (the ids are public: CLI, catalog, TUI)."""

from __future__ import annotations

from kubectl_certdoctor.fixes import challenge, controller, guidance, renew, requests, solver
from kubectl_certdoctor.fixes.model import FixSpec
from kubectl_certdoctor.objects import ObjectSet, Ref

FIXES: dict[str, FixSpec] = {s.id: s for s in (
    renew.SPEC,
    requests.SPEC,
    challenge.SPEC,
    solver.SPEC,
    controller.NO_PROXY_SPEC,
    controller.NAMESERVERS_SPEC,
    guidance.SPEC,
)}


def fixes_for_code(code: str) -> list[FixSpec]:
    """The fixes that resolve a finding code, in the catalog's order when it lists them."""
    from kubectl_certdoctor.rules.catalog import CATALOG

    entry = CATALOG.get(code)
    ids = list(entry.fixes) if entry else []
    ids += [f.id for f in FIXES.values() if code in f.resolves and f.id not in ids]
    return [FIXES[i] for i in ids if i in FIXES]


def offers(code: str, objs: ObjectSet, ref: Ref, *, read_only: bool) -> list[tuple[FixSpec, Ref]]:
    """The fixes to offer for a finding ``code`` on ``ref``, each with the object it would
    act on. Empty in read-only mode: fixes are hidden from the UI, not just disabled."""
    if read_only:
        return []
    from kubectl_certdoctor.fixes.targets import resolve

    out = []
    for spec in fixes_for_code(code):
        target = resolve(spec.id, objs, ref)
        if target.kind in spec.target_kinds:
            out.append((spec, target))
    return out


def judge(fix_id: str, objs: ObjectSet, ref: Ref, now: object = None) -> tuple[bool, str]:
    """Whether fix ``fix_id``, offered for a finding on ``ref``, would act: (True, '') when
    its plan changes something or needs the user to choose a parameter first; (False, why)
    when the plan changes nothing (renew while Issuing=True, the class the solver already
    has) or cannot be made at all (retry-challenge with no Challenge to delete). Guidance
    fixes, which never write, always count as acting (they explain)."""
    from kubectl_certdoctor.fixes.model import FixError
    from kubectl_certdoctor.fixes.targets import resolve

    spec = FIXES.get(fix_id)
    if spec is None:
        return False, f"unknown fix {fix_id}"
    target = resolve(fix_id, objs, ref)
    params: dict[str, object] = {"now": now} if now is not None else {}
    try:
        if spec.choices is not None:
            choices = spec.choices(objs, target) if target.kind in spec.target_kinds else []
            if any(not c.default for c in choices):
                return True, ""  # the user picks first; the pick list says what fits
        plan = spec.plan(objs, target, params)
    except FixError as e:
        return False, f"cannot act: {e}"
    if plan.noop_reason:
        return False, f"would change nothing: {plan.noop_reason}"
    if spec.mutating and not plan.calls:
        return False, "would change nothing"
    return True, ""
