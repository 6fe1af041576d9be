"""A fix applied to the demo's in-memory objects: the same plan, no cluster.

The demo shows what a fix does without a cluster to do it to. The plan is the one the
preview shows (``FixSpec.plan``), and its ``diffs`` hold each object as the calls leave it
(``after``; None: deleted) — the state the API server would store. Applying those diffs to
a copy of the object set is therefore the simulated apply: the tree and the findings are
recomputed from it exactly as after a real apply (after ``renew`` the Certificate is
Issuing; after ``clear-failed-requests`` the Failed request is gone). What cert-manager
would do next (a new CertificateRequest, an Order) is not invented.

Pure: nothing here reads or writes anything but the object set it is given.
"""

from __future__ import annotations

import copy

from kubectl_certdoctor.fixes.model import FixPlan
from kubectl_certdoctor.objects import ObjectSet, as_dict, text

#: what the screens say about every simulated change
SIMULATED_NOTE = "SIMULATED on the demo: only the in-memory objects changed, nothing was sent"


def simulate_plan(objs: ObjectSet, plan: FixPlan) -> tuple[ObjectSet, list[str]]:
    """(a new object set with ``plan`` applied, one line per change). The input is not
    modified; objects are replaced, never mutated (as the live store does)."""
    out = ObjectSet(objects={k: dict(v) for k, v in objs.objects.items()},
                    source=objs.source, context=objs.context,
                    observed_at=objs.observed_at, unseen=objs.unseen)
    lines: list[str] = []
    for d in plan.diffs:
        kind, ns, nm = d.ref.kind, d.ref.namespace, d.ref.name
        if d.after is None:
            if out.get(kind, ns, nm) is not None:
                out.remove(kind, ns, nm)
            lines.append(f"deleted {d.ref}")
            continue
        after = copy.deepcopy(d.after)
        md = as_dict(after.get("metadata"))
        rv = text(md.get("resourceVersion"))
        # a write bumps the resourceVersion, as the API server would
        md["resourceVersion"] = f"{rv}-simulated" if rv else "simulated"
        after["metadata"] = md
        out.add(after, kind)
        lines.append(f"{'updated' if d.before is not None else 'created'} {d.ref}")
    return out, lines
