"""``set-solver-ingress-class``: point an HTTP-01 ingress solver at the class serving the host.

Seed 001: the solver Ingress got a class no controller in front of the site
served (MicroK8s uses ``public``), so the self-check hit a 404. The class must be
one of the cluster's IngressClasses; by default it is the class of the Ingresses
that already serve the challenged hosts. A legacy ``class`` field is removed:
cert-manager rejects a solver with both ``class`` and ``ingressClassName``.
"""

from __future__ import annotations

from typing import Any

from kubectl_certdoctor.fixes.model import (
    Choice,
    Expectation,
    FixError,
    FixParams,
    FixPlan,
    FixSpec,
    ObjectDiff,
    apply_json_patch,
    json_patch_call,
    need,
)
from kubectl_certdoctor.objects import (
    Obj,
    ObjectSet,
    Ref,
    as_dict,
    as_int,
    as_list,
    dig,
    name,
    namespace,
    text,
)
from kubectl_certdoctor.objects import (
    annotations as annotations_of,
)
from kubectl_certdoctor.rules.http01 import CLASS_ANN, DEFAULT_CLASS_ANN, ingress_class_of


def _solvers(issuer: Obj) -> list[dict[str, Any]]:
    return [as_dict(s) for s in as_list(dig(issuer, "spec", "acme", "solvers"))]


def ingress_solvers(issuer: Obj) -> list[int]:
    """Indices of HTTP-01 solvers that create their own Ingress (no ``name``)."""
    return [i for i, s in enumerate(_solvers(issuer))
            if isinstance(dig(s, "http01", "ingress"), dict)
            and not text(dig(s, "http01", "ingress", "name"))]


def _challenges(objs: ObjectSet, issuer: Ref) -> list[Obj]:
    out = []
    for ch in objs.of_kind("Challenge"):
        ir = as_dict(dig(ch, "spec", "issuerRef"))
        kind = text(ir.get("kind")) or "Issuer"
        if kind != issuer.kind or text(ir.get("name")) != issuer.name:
            continue
        if issuer.kind == "Issuer" and namespace(ch) != issuer.namespace:
            continue
        out.append(ch)
    return out


def serving_classes(objs: ObjectSet, issuer: Ref) -> dict[str, list[str]]:
    """class → hosts: the classes of the Ingresses (not solver Ingresses) that serve the
    hosts this issuer's Challenges are for."""
    classes = objs.of_kind("IngressClass")
    default = next((name(c) for c in classes
                    if annotations_of(c).get(DEFAULT_CLASS_ANN) == "true"), "")
    hosts = {text(dig(ch, "spec", "dnsName")) for ch in _challenges(objs, issuer)} - {""}
    out: dict[str, list[str]] = {}
    for ing in objs.of_kind("Ingress"):
        if "acme.cert-manager.io/http01-solver" in (dig(ing, "metadata", "labels") or {}):
            continue
        for rule in as_list(dig(ing, "spec", "rules")):
            h = text(as_dict(rule).get("host"))
            if h in hosts:
                cls = ingress_class_of(ing, default)
                if cls and h not in out.setdefault(cls, []):
                    out[cls].append(h)
    return out


def _pick_solver(issuer: Obj, target: Ref, params: FixParams) -> int:
    cands = ingress_solvers(issuer)
    if "solver" in params and params["solver"] not in (None, ""):
        i = as_int(params["solver"], -1)
        if i not in cands:
            raise FixError(f"solver {params['solver']} of {target} is not an HTTP-01 ingress "
                           "solver", hint=f"HTTP-01 ingress solvers: {cands or 'none'}")
        return i
    if not cands:
        raise FixError(f"{target} has no HTTP-01 solver that creates its own Ingress")
    if len(cands) > 1:
        raise FixError(f"{target} has {len(cands)} HTTP-01 ingress solvers",
                       hint=f"choose one with solver=<index> (one of {cands})")
    return cands[0]


def plan_solver_class(objs: ObjectSet, target: Ref, params: FixParams) -> FixPlan:
    issuer = need(objs, target)
    idx = _pick_solver(issuer, target, params)
    existing = sorted(name(c) for c in objs.of_kind("IngressClass"))
    if not existing:
        raise FixError("the cluster has no IngressClass objects to choose from")
    chosen = text(params.get("ingress_class"))
    serving = serving_classes(objs, target)
    if chosen and chosen not in existing:
        raise FixError(f"IngressClass {chosen!r} does not exist",
                       hint="existing: " + ", ".join(existing))
    if not chosen:
        cands = [c for c in serving if c in existing]
        if len(cands) != 1:
            why = ("no Ingress serving the challenged hosts was found" if not cands else
                   "the challenged hosts are served by several classes: " + ", ".join(cands))
            raise FixError(f"cannot tell which ingress class to use: {why}",
                           hint="choose with ingress_class=<name> (existing: "
                                + ", ".join(existing) + ")")
        chosen = cands[0]
    base = f"/spec/acme/solvers/{idx}/http01/ingress"
    ing = as_dict(dig(issuer, "spec", "acme", "solvers", idx, "http01", "ingress"))
    plan = FixPlan("set-solver-ingress-class",
                   f"Set solver {idx} of {target.kind} {target.name} to ingress class {chosen}",
                   target, params={"solver": idx, "ingress_class": chosen})
    legacy = text(ing.get("class"))
    if text(ing.get("ingressClassName")) == chosen and not legacy:
        plan.noop_reason = f"solver {idx} already uses ingressClassName {chosen}"
        plan.suggest = ["retry-challenge"]
        return plan
    ops: list[dict[str, Any]] = [{"op": "test", "path": base, "value": ing}]
    if "ingressClassName" in ing:
        ops.append({"op": "replace", "path": f"{base}/ingressClassName", "value": chosen})
    else:
        ops.append({"op": "add", "path": f"{base}/ingressClassName", "value": chosen})
    if "class" in ing:
        ops.append({"op": "remove", "path": f"{base}/class"})
        plan.warnings.append(f"removes the legacy solver field class: {legacy!r} "
                             "(cert-manager allows only one of class / ingressClassName)")
    ann = as_dict(dig(ing, "ingressTemplate", "metadata", "annotations"))
    if CLASS_ANN in ann:
        plan.warnings.append(f"the solver's ingressTemplate still sets the {CLASS_ANN} "
                             f"annotation ({ann[CLASS_ANN]!r}); controllers may prefer it")
    call = json_patch_call(issuer, target, ops,
                           f"set solvers[{idx}].http01.ingress.ingressClassName={chosen}")
    plan.calls.append(call)
    plan.diffs.append(ObjectDiff(target, issuer, apply_json_patch(issuer, call.body)))
    hosts = serving.get(chosen, [])
    if hosts:
        plan.notes.append(f"IngressClass {chosen} serves {', '.join(sorted(hosts))}")
    plan.notes.append("cert-manager (seen on v1.21) replaces pending Challenges whose solver "
                      "changed on its own, since a Challenge's name hashes its spec; if one "
                      "keeps the old class, retry-challenge recreates it with the new one.")
    plan.suggest = ["retry-challenge"]
    plan.expect.append(Expectation(
        "generation", target, f"{target.kind} {target.name} spec updated",
        generation=as_int(dig(issuer, "metadata", "generation"))))
    return plan


def ingress_class_choices(objs: ObjectSet, issuer: Ref) -> tuple[list[str], str]:
    """(every existing IngressClass, the one serving the challenged hosts or '') — the
    choice list a screen offers for ``ingress_class``."""
    existing = sorted(name(c) for c in objs.of_kind("IngressClass"))
    serving = [c for c in serving_classes(objs, issuer) if c in existing]
    return existing, serving[0] if len(serving) == 1 else ""


def solver_choices(objs: ObjectSet, issuer: Ref) -> list[Choice]:
    """Pick lists for the TUI: which solver (when there are several) and which of the
    cluster's IngressClasses, each labelled with the challenged hosts it serves."""
    out: list[Choice] = []
    obj = objs.get(issuer.kind, issuer.namespace, issuer.name)
    if obj is None:
        return out
    idxs = ingress_solvers(obj)
    if len(idxs) > 1:
        opts = []
        for i in idxs:
            ing = as_dict(dig(obj, "spec", "acme", "solvers", i, "http01", "ingress"))
            cls = text(ing.get("ingressClassName")) or text(ing.get("class")) or "no class"
            zones = as_list(dig(obj, "spec", "acme", "solvers", i, "selector", "dnsZones"))
            where = f", for {', '.join(map(text, zones))}" if zones else ""
            opts.append((f"solver {i} ({cls}{where})", str(i)))
        out.append(Choice("solver", f"Which HTTP-01 solver of {issuer.kind} {issuer.name}?",
                          tuple(opts)))
    existing, default = ingress_class_choices(objs, issuer)
    serving = serving_classes(objs, issuer)
    labels = tuple(
        (c + (f"  — serves {', '.join(sorted(serving[c]))}" if c in serving else ""), c)
        for c in existing)
    current = {text(dig(obj, "spec", "acme", "solvers", i, "http01", "ingress",
                        "ingressClassName"))
               or text(dig(obj, "spec", "acme", "solvers", i, "http01", "ingress", "class"))
               for i in idxs} - {""}
    warnings: list[tuple[str, str]] = []
    for c in existing:
        if c in serving:
            continue
        site = ", ".join(sorted(serving)) or "no class found"
        if c in current:
            warnings.append((c, f"the solver already uses {c}, the class the diagnosis says "
                                f"does not serve the site (served by {site})"))
        elif serving:
            warnings.append((c, f"{c} serves none of the challenged hosts (served by {site})"))
    if labels:
        out.append(Choice("ingress_class",
                          f"IngressClass for the solver of {issuer.kind} {issuer.name}",
                          labels, default, tuple(warnings)))
    return out


SPEC = FixSpec(
    id="set-solver-ingress-class",
    title="Point the HTTP-01 solver at the ingress class serving the host",
    resolves=("HTTP01_WRONG_INGRESS_CLASS", "HTTP01_SELF_CHECK_404",
              "HTTP01_MULTIPLE_INGRESS_BACKENDS"),
    mutating=True,
    target_kinds=("Issuer", "ClusterIssuer"),
    planner=plan_solver_class,
    reads=("Issuer", "ClusterIssuer", "Challenge", "Ingress", "IngressClass"),
    param_help=("solver=<index>        which spec.acme.solvers entry (default: the only one)",
                "ingress_class=<name>  an existing IngressClass (default: the one serving "
                "the challenged hosts)"),
    doc="JSON-patches spec.acme.solvers[i].http01.ingress.ingressClassName and removes a "
        "legacy class field.",
    choices=solver_choices,
)
