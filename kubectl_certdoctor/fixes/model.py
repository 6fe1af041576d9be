"""What a fix is and what its plan holds: the exact API calls, diffs, warnings.

A plan is computed by a PURE function from objects already read (a store
snapshot or direct GETs): the preview the user confirms is exactly what
``apply`` sends, byte for byte, so nothing happens by surprise.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubectl_certdoctor.errors import CertdoctorError
from kubectl_certdoctor.kinds import BY_NAME, Kind
from kubectl_certdoctor.objects import Obj, ObjectSet, Ref, dig, text


class FixError(CertdoctorError):
    """A fix cannot be planned or run (wrong target, missing object, bad parameter)."""


class ConflictError(CertdoctorError):
    """The object changed since it was read: nothing was overwritten."""


@dataclass
class Call:
    """One API request of a plan.

    ``verb``/``group``/``resource``/``subresource``/``namespace``/``name`` are the
    RBAC attributes (checked with a SelfSubjectAccessReview before anything runs).
    """

    method: str
    path: str
    verb: str
    ref: Ref
    group: str
    resource: str
    subresource: str = ""
    body: Any = None
    content_type: str = "application/json"
    description: str = ""
    #: the resourceVersion the call is conditioned on ('' for none)
    precondition: str = ""
    #: on a Conflict, recompute the body from the fresh object (only for idempotent,
    #: self-contained writes such as renew's condition after deleting requests)
    rebase: Callable[[Obj], Any] | None = None

    @property
    def mutating(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE")

    def summary(self) -> str:
        what = self.description or f"{self.verb} {self.ref}"
        return f"{self.method} {self.path}  # {what}"

    def to_json(self) -> dict[str, Any]:
        """For the audit log: the body without managedFields, credentials redacted. A JSON
        patch is redacted op by op: its ``test`` ops carry values the fix read raw from the
        API server (args with a ``--vault-token=``, env entries)."""
        body = self.body
        if isinstance(body, dict):
            body = _for_display(body)
        elif isinstance(body, list):
            from kubectl_certdoctor.redact import sanitize_patch

            body = sanitize_patch(body)
        return {"method": self.method, "path": self.path, "verb": self.verb,
                "object": str(self.ref), "subresource": self.subresource,
                "content_type": self.content_type, "precondition": self.precondition,
                "body": body}


@dataclass
class ObjectDiff:
    """Before/after of one object as YAML and their unified diff (after=None: deleted)."""

    ref: Ref
    before: Obj | None
    after: Obj | None

    @property
    def text(self) -> str:
        return unified_diff(self.ref, self.before, self.after)


@dataclass
class Expectation:
    """An effect ``verify`` looks for after ``apply``.

    kinds: ``new-request`` (a CertificateRequest of ``ref`` with revision ≥ ``revision``
    and a uid not in ``known``), ``condition`` (``ref`` has condition ``ctype`` =
    ``status``), ``gone`` (the object with uid ``uid`` no longer exists),
    ``recreated`` (an object of the same kind and name or owner appears with a new uid),
    ``generation`` (``ref`` has generation > ``generation``: a spec change accepted;
    for Deployments the rollout is reported).
    """

    kind: str
    ref: Ref
    description: str
    revision: int = 0
    known: frozenset[str] = frozenset()
    uid: str = ""
    ctype: str = ""
    status: str = ""
    generation: int = 0


@dataclass
class FixPlan:
    """Everything ``apply`` will do, computed before anything is sent."""

    fix_id: str
    title: str
    target: Ref
    calls: list[Call] = field(default_factory=list)
    diffs: list[ObjectDiff] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: plain information (guidance, what happens next)
    notes: list[str] = field(default_factory=list)
    expect: list[Expectation] = field(default_factory=list)
    #: set when the fix would change nothing useful (and why); ``calls`` is then empty
    noop_reason: str = ""
    #: fix ids that do work when this one cannot
    suggest: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    mutating: bool = True

    @property
    def deletions(self) -> list[Call]:
        return [c for c in self.calls if c.method == "DELETE"]

    def diff_text(self) -> str:
        return "".join(d.text for d in self.diffs)

    def preview(self) -> str:
        """The preview shown before confirmation: calls, diffs, warnings."""
        lines = [f"fix {self.fix_id}: {self.title}", f"target: {self.target}"]
        if self.noop_reason:
            lines.append(f"nothing to do: {self.noop_reason}")
        if self.suggest:
            label = "try instead" if self.noop_reason else "see also"
            lines.append(f"{label}: " + ", ".join(self.suggest))
        if self.calls:
            lines.append("API calls:")
            lines += [f"  {i}. {c.summary()}" for i, c in enumerate(self.calls, 1)]
        for w in self.warnings:
            lines.append(f"warning: {w}")
        for n in self.notes:
            lines.append(n)
        out = "\n".join(lines) + "\n"
        d = self.diff_text()
        return out + (d if not d or d.endswith("\n") else d + "\n")

    def to_json(self) -> dict[str, Any]:
        return {"fix": self.fix_id, "target": str(self.target),
                "calls": [c.to_json() for c in self.calls], "warnings": self.warnings,
                "noop_reason": self.noop_reason, "params": self.params}


@dataclass
class Confirmation:
    """How the user must confirm: ``yn`` (y/N) or ``type`` (type ``expected``)."""

    mode: str
    prompt: str
    expected: tuple[str, ...] = ()

    def accepts(self, answer: str) -> bool:
        a = answer.strip()
        if self.mode == "type":
            return a in self.expected
        return a.lower() in ("y", "yes")


def confirmation(plan: FixPlan) -> Confirmation:
    """Deleting more than one object needs the count or the target's name typed;
    anything else a y/N."""
    dels = plan.deletions
    if len(dels) > 1:
        names = ", ".join(c.ref.name for c in dels)
        return Confirmation(
            "type", f"This deletes {len(dels)} objects ({names}). "
                    f"Type {len(dels)} or {plan.target.name!r} to confirm: ",
            (str(len(dels)), plan.target.name))
    return Confirmation("yn", f"Apply {plan.fix_id} to {plan.target}? [y/N] ")


FixParams = Mapping[str, Any]
Planner = Callable[[ObjectSet, Ref, FixParams], FixPlan]


@dataclass(frozen=True)
class Choice:
    """The values one fix parameter may take, offered as a pick list by the TUI (the CLI
    takes ``--set name=value``)."""

    param: str
    title: str
    #: (label, value) pairs
    options: tuple[tuple[str, str], ...]
    #: what the planner picks by itself ('' when it cannot: the user must choose); the
    #: pick list starts on it and marks it "recommended"
    default: str = ""
    #: (value, why) for values that contradict the diagnosis: the pick list warns
    warnings: tuple[tuple[str, str], ...] = ()


ChoiceFn = Callable[[ObjectSet, Ref], list[Choice]]


@dataclass(frozen=True)
class FixSpec:
    """A fix: its id, what it resolves, whether it writes, and its pure planner."""

    id: str
    title: str
    resolves: tuple[str, ...]
    mutating: bool
    target_kinds: tuple[str, ...]
    planner: Planner
    #: kinds the planner reads besides the target (the CLI lists them)
    reads: tuple[str, ...] = ()
    #: one line per parameter: name and meaning
    param_help: tuple[str, ...] = ()
    doc: str = ""
    #: the parameters a screen can offer as pick lists (computed from the objects read)
    choices: ChoiceFn | None = None

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(h.split("=", 1)[0].strip() for h in self.param_help)

    def plan(self, objs: ObjectSet, target: Ref, params: FixParams | None = None) -> FixPlan:
        if target.kind not in self.target_kinds:
            raise FixError(f"fix {self.id} does not apply to a {target.kind}",
                           hint="it applies to " + ", ".join(self.target_kinds))
        given = dict(params or {})
        unknown = sorted(set(given) - set(self.param_names) - {"now"})
        if unknown:
            raise FixError(f"fix {self.id} has no parameter {', '.join(unknown)}",
                           hint=("parameters: " + ", ".join(self.param_names))
                           if self.param_names else "it takes no parameters")
        p = self.planner(objs, target, given)
        p.mutating = self.mutating and bool(p.calls)
        _scrub_words(p)
        return p


def _scrub_words(p: FixPlan) -> None:
    """A live fix plans from objects read raw (its patches need the real values), and its
    words quote them (a request's reason, a message): make those safe to show and log."""
    from kubectl_certdoctor.redact import scrub_text

    p.title = scrub_text(p.title)
    p.noop_reason = scrub_text(p.noop_reason)
    p.warnings = [scrub_text(w) for w in p.warnings]
    p.notes = [scrub_text(n) for n in p.notes]
    p.suggest = [scrub_text(x) for x in p.suggest]
    for c in p.calls:
        c.description = scrub_text(c.description)


# -- helpers for planners ----------------------------------------------------------


def kind_of(kind_name: str) -> Kind:
    k = BY_NAME.get(kind_name)
    if k is None:
        raise FixError(f"unknown kind {kind_name}")
    return k


def object_path(ref: Ref, subresource: str = "") -> str:
    k = kind_of(ref.kind)
    base = k.path
    if k.namespaced:
        base += f"/namespaces/{ref.namespace}"
    p = f"{base}/{k.plural}/{ref.name}"
    return p + (f"/{subresource}" if subresource else "")


def need(objs: ObjectSet, ref: Ref) -> Obj:
    obj = objs.get(ref.kind, ref.namespace, ref.name)
    if obj is None:
        where = f" in namespace {ref.namespace}" if ref.namespace else ""
        raise FixError(f"{ref.kind} {ref.name} not found{where}")
    return obj


def rv(obj: Obj) -> str:
    return text(dig(obj, "metadata", "resourceVersion"))


def delete_call(obj: Obj, ref: Ref, description: str) -> Call:
    """DELETE conditioned on uid and resourceVersion: a changed object is a Conflict."""
    k = kind_of(ref.kind)
    pre: dict[str, str] = {}
    uid = text(dig(obj, "metadata", "uid"))
    if uid:
        pre["uid"] = uid
    if rv(obj):
        pre["resourceVersion"] = rv(obj)
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions",
                            "propagationPolicy": "Background"}
    if pre:
        body["preconditions"] = pre
    return Call("DELETE", object_path(ref), "delete", ref, k.group, k.plural, body=body,
                description=description, precondition=rv(obj))


def json_patch_call(obj: Obj, ref: Ref, ops: list[dict[str, Any]], description: str) -> Call:
    """A JSON patch guarded twice: the planner's ``test`` ops on the values it replaces
    (so an index that moved fails), and the read resourceVersion written back, which the
    API server treats as a precondition (any change since the read is a 409 Conflict)."""
    k = kind_of(ref.kind)
    guard = [{"op": "replace", "path": "/metadata/resourceVersion", "value": rv(obj)}]
    return Call("PATCH", object_path(ref), "patch", ref, k.group, k.plural,
                body=guard + ops, content_type="application/json-patch+json",
                description=description, precondition=rv(obj))


def apply_json_patch(obj: Obj, ops: list[dict[str, Any]]) -> Obj:
    """Apply the subset of RFC 6902 our planners emit (test/add/replace/remove) to a copy,
    for the preview diff. A failing test raises FixError: the plan is inconsistent."""
    doc = copy.deepcopy(obj)
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        parent: Any = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        last = parts[-1]
        kind = op["op"]
        if kind == "test":
            cur = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if cur != op["value"]:
                raise FixError(f"plan inconsistent at {op['path']}")
        elif isinstance(parent, list):
            if kind == "add":
                idx = len(parent) if last == "-" else int(last)
                parent.insert(idx, copy.deepcopy(op["value"]))
            elif kind == "replace":
                parent[int(last)] = copy.deepcopy(op["value"])
            elif kind == "remove":
                parent.pop(int(last))
        else:
            if kind in ("add", "replace"):
                parent[last] = copy.deepcopy(op["value"])
            elif kind == "remove":
                parent.pop(last, None)
    return doc


_NOISE = ("managedFields",)


def _for_display(obj: Obj | None) -> Obj | None:
    """The object as the diff shows it: no managedFields, credentials redacted."""
    if obj is None:
        return None
    from kubectl_certdoctor.redact import sanitize

    out = copy.deepcopy(obj)
    md = out.get("metadata")
    if isinstance(md, dict):
        for k in _NOISE:
            md.pop(k, None)
    return sanitize(out)


def to_yaml(obj: Obj | None) -> str:
    import yaml

    shown = _for_display(obj)
    if shown is None:
        return ""
    return str(yaml.safe_dump(shown, sort_keys=False, default_flow_style=False, width=100))


def unified_diff(ref: Ref, before: Obj | None, after: Obj | None) -> str:
    a = to_yaml(before).splitlines(keepends=True)
    b = to_yaml(after).splitlines(keepends=True)
    label = str(ref)
    return "".join(difflib.unified_diff(
        a, b, fromfile=f"{label} (before)",
        tofile=f"{label} (after)" if after is not None else f"{label} (deleted)", n=3))
